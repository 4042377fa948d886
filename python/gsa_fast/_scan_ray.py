"""Scan executor on a Ray cluster (issue 14): the scan's own plan, ``execute`` and sink, mapped
over Ray tasks.

``gsa_fast.scan(..., executor="ray", ray_address=None)`` plans on the driver from headers only
(:func:`gsa_fast._scan_plan.plan_scan`, exactly as a local scan does), then runs each
:class:`~gsa_fast._scan_plan.WorkUnit` — same-shape matrices of one file, at most half of
``memory_budget`` bytes — as one Ray task. A task reads its own tensors from the path the unit
names (a filesystem every node sees, as on clusters), calls
:func:`gsa_fast._scan_exec.execute` (the same function, hence the same kernel calls as a local
scan, so the spectra are bitwise equal at the same ``threads``) and returns the rows and
float64 spectra, never the weights. Unit paths are absolute (``weights.resolve_source``), so a
worker's working directory does not matter. The driver waits on the tasks with ``ray.wait`` and appends each finished unit to the
scan's :class:`~gsa_fast._scan_sink.DirSink` as it arrives, so ``resume=True`` works exactly as
after a local scan.

Resources: on ``device="cpu"`` a task asks for ``num_cpus = threads or 1`` and runs the kernels
on that many threads (a node with C cores runs C // threads tasks at once); on ``device="cuda"``
a task asks for one GPU and one CPU, so each GPU solves one unit at a time.

Faults: a worker that dies mid-task (killed process, lost node) is retried by Ray up to
``max_retries`` times (:data:`MAX_RETRIES`, environment variable ``GSA_FAST_RAY_MAX_RETRIES``);
a retried unit is logged (logger ``gsa_fast.scan``) and listed in ``ScanResult.info["ray"]``.
Tasks are idempotent (a unit's part file is named by its uid and replaced atomically) and the
driver keeps the first result of each uid, so nothing is lost or duplicated. A matrix that fails
for its own reason (NaN/Inf, unsupported dtype) is not an exception: ``execute`` gives it a
status row, and the task is not retried. An exception from the task itself (an unreadable file)
is not retried either; it cancels the remaining tasks and is raised on the driver, and what was
appended so far stays for ``resume``.

``ray`` is imported only here, inside the functions; ``import gsa_fast`` never imports it.
"""
from __future__ import annotations

import dataclasses
import logging
import os
import tempfile
import time

__all__ = ["run_ray", "check_args", "connect", "MAX_RETRIES"]

log = logging.getLogger("gsa_fast.scan")

#: Times Ray re-runs a task whose worker died (``GSA_FAST_RAY_MAX_RETRIES`` overrides).
MAX_RETRIES = 3
#: Test hook: a unit uid (or ``*`` for the first unit submitted); that unit's worker process
#: exits abruptly (``os._exit``) on its first attempt, as a killed worker would.
TEST_CRASH_ENV = "GSA_FAST_RAY_TEST_CRASH"

_INSTALL = ("executor='ray' needs the optional dependency ray: pip install 'gsa_fast[ray]' "
            "(or pip install 'ray>=2.9')")


def import_ray():
    """The ray module, or an ImportError that says how to install it."""
    try:
        import ray
    except ImportError as exc:
        raise ImportError(f"scan(): {_INSTALL}") from exc
    return ray


def connect(ray_address=None):
    """Connect this process to a Ray cluster; returns (ray, started_here).

    Already connected (``ray.init`` called by the user): use that cluster. Else ``ray_address``
    (``host:port``, ``ray://host:port``, ``auto``) or, when it is None, ``$RAY_ADDRESS``; with
    neither, start a local cluster on this machine (``address="local"``: never attach to someone
    else's cluster by accident), shut down again by :func:`run_ray` when the scan ends.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray, False
    address = ray_address or os.environ.get("RAY_ADDRESS") or None
    if address is None:
        ray.init(address="local", include_dashboard=False, logging_level=logging.WARNING)
    else:
        ray.init(address=address, logging_level=logging.WARNING)
    return ray, True


def _attempt_number():
    """Which attempt of the current Ray task this is (0 = first), or None if Ray does not say."""
    try:
        import ray

        return int(ray._private.worker.global_worker.core_worker.get_current_task_attempt_number())
    except Exception:  # noqa: BLE001 - private API: absent in some Ray version -> unknown
        return None


def _maybe_crash(marker):
    """Test hook: exit the worker process abruptly on the unit's first attempt."""
    attempt = _attempt_number()
    if attempt is None:  # fall back to a marker file on the shared filesystem
        if os.path.exists(marker):
            return
        open(marker, "w").close()
    elif attempt > 0:
        return
    os._exit(17)


def scan_unit(unit, options, crash_marker=None):
    """Body of one Ray task (Ray's messages call it ``scan_unit``): ``execute`` on the worker;
    returns (rows, spectra, task info)."""
    from ._scan_exec import execute

    if crash_marker is not None:
        _maybe_crash(crash_marker)
    t0 = time.perf_counter()
    rows, spectra = execute(unit, options)
    return rows, spectra, {"attempt": _attempt_number(), "pid": os.getpid(),
                           "seconds": time.perf_counter() - t0}


def check_args(sources):
    """Checks made before planning: ray is installed, every source is a path (tasks read their
    tensors from it; an in-memory mapping would have to ship the weights)."""
    for s in sources:
        if not isinstance(s, (str, os.PathLike)):
            raise ValueError("scan(): source must be a file or directory path with executor='ray' (each task "
                             "reads its own tensors from the path); got an in-memory mapping")
    import_ray()


def run_ray(units, options, memory, sink, plan, progress, *, ray_address=None, info=None):
    """The scan's executor contract (``EXECUTORS`` in gsa_fast.scan): run ``units`` as Ray tasks,
    append each finished one to ``sink`` (may be None) as it arrives, return {uid: (rows,
    spectra)}. ``memory`` is unused (sources are paths: :func:`check_args`); ``progress`` as in
    :func:`gsa_fast.scan`. ``info`` (a dict) is filled with what the cluster did: address,
    resources, tasks, retried units."""
    from ._scan_sink import UnitsDone

    info = {} if info is None else info
    ray, started = connect(ray_address)
    done = UnitsDone(units, sink, plan, progress)
    try:
        _run(ray, units, options, done, info)
        return done.results
    finally:
        done.close()
        if started:
            ray.shutdown()


def _resources(ray, options):
    total = ray.cluster_resources()
    if options.device == "cuda":
        gpus = int(total.get("GPU", 0))
        if gpus < 1:
            raise ValueError("scan(): device must be 'cpu' on this Ray cluster (device='cuda' needs GPUs); "
                             f"got 'cuda' with cluster resources {dict(total)}")
        return {"num_cpus": 1, "num_gpus": 1}, gpus, total
    per = int(options.threads or 1)
    cpus = int(total.get("CPU", 1))
    if per > cpus:
        raise ValueError(f"scan(): threads must be at most the cluster's {cpus} CPUs with executor='ray' "
                         f"(each task asks for `threads` CPUs); got {per}")
    return {"num_cpus": per}, max(1, cpus // per), total


def _run(ray, units, options, done, info):
    request, slots, total = _resources(ray, options)
    if options.device == "cpu":
        options = dataclasses.replace(options, threads=request["num_cpus"])
    retries = int(os.environ.get("GSA_FAST_RAY_MAX_RETRIES", MAX_RETRIES))
    remote = ray.remote(max_retries=retries, retry_exceptions=False, **request)(scan_unit)
    options_ref = ray.put(options)
    crash = os.environ.get(TEST_CRASH_ENV, "")
    window = 2 * slots  # tasks in flight: every slot busy and one queued behind it
    info.update({"address": ray.get_runtime_context().gcs_address, "nodes": len(ray.nodes()),
                 "cluster_resources": {k: total[k] for k in ("CPU", "GPU") if k in total},
                 "task_resources": request, "tasks": len(units), "max_retries": retries,
                 "in_flight": window, "retried_units": [], "task_seconds": 0.0})
    log.info("ray: %d units on %d node(s) %s, %s per task, %d in flight",
             len(units), info["nodes"], info["cluster_resources"], request, window)
    marker_dir = tempfile.gettempdir()
    todo = list(reversed(units))
    by_ref = {}

    def submit():
        u = todo.pop()
        marker = None
        if crash and (crash == u.uid or (crash == "*" and not by_ref and not done.results)):
            marker = os.path.join(marker_dir, f"gsa-fast-ray-crash-{os.getpid()}-{u.uid}")
        ref = remote.options(name=f"gsa_fast.scan:{u.uid}").remote(u, options_ref, marker)
        by_ref[ref] = u

    try:
        while todo and len(by_ref) < window:
            submit()
        while by_ref:
            ready, _ = ray.wait(list(by_ref), num_returns=1)
            ref = ready[0]
            u = by_ref.pop(ref)
            rows, spectra, task = _get(ray, ref, u)
            if todo:
                submit()
            if u.uid in done.results:  # a duplicate (cannot happen with one ref per uid): keep the first
                continue
            if task.get("attempt"):
                info["retried_units"].append(u.uid)
                log.warning("ray: unit %s (%s, %d matrices) finished on attempt %d: its worker died and "
                            "Ray retried the task", u.uid, u.file, u.matrices, task["attempt"] + 1)
            info["task_seconds"] += task["seconds"]  # execute() time on the workers, summed
            done(u, rows, spectra)  # appended to the sink as it arrives
    finally:
        for ref in by_ref:  # an error or an interrupt: stop what is still queued or running
            ray.cancel(ref, force=True)
        if crash:
            for u in units:
                try:
                    os.unlink(os.path.join(marker_dir, f"gsa-fast-ray-crash-{os.getpid()}-{u.uid}"))
                except OSError:
                    pass


def _get(ray, ref, unit):
    """The task's result; its own exception re-raised as itself on the driver."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, Exception):
            raise cause from None
        raise
    except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
            ray.exceptions.ObjectLostError) as exc:
        raise RuntimeError(f"scan(): unit {unit.uid} of {unit.file} lost its Ray worker more than "
                           f"{int(os.environ.get('GSA_FAST_RAY_MAX_RETRIES', MAX_RETRIES))} times; the finished "
                           f"units are kept under out/ for resume=True ({exc.__class__.__name__})") from None
