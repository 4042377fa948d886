"""The route table: for every public kernel, where it runs and what checks it.

One place decides CPU or GPU: the array library of the operands (numpy → CPU, cupy → CUDA).
Each public function validates its arguments, then asks this table (:func:`device_route`) whether
its operands live on a device; host operands go to the CPU route (the ``_core`` functions listed
in :data:`ROUTES`), cupy operands go to the CUDA route when the table has one and are refused with
the one error of :func:`no_cuda_route` when it has none. cupy is never imported here unless a
cupy array is handed in.

Adding a kernel: one entry in :data:`ROUTES` (see docs/architecture.md); tests/test_routes.py
then checks its reference twin, its test, its benchmark and (with a CUDA route) its GPU test.
"""
from __future__ import annotations

from typing import NamedTuple, Optional

from ._validate import no_cuda_route, on_device


def _load_core():
    """Import the extension with the server threads of its OpenBLAS told not to spin.

    OpenBLAS starts its own server threads when the library loads, and each one spin-waits
    (sched_yield) for ~2^28 cycles, about 0.1 s of a core, before it sleeps. gsa_fast never hands
    them work (its kernels run OpenBLAS single-threaded on their own workers, or route OpenBLAS's
    parallel regions to the blocking pool of cpp/src/linalg/blas_pool.cpp), so on a 2-core machine
    that spin only competed with the first kernel call: OPENBLAS_THREAD_TIMEOUT (read once, when
    the library initializes) makes them sleep at once. A value the user set is kept; the variable
    is removed again right after the load, so numpy's own OpenBLAS and child processes never see it.
    """
    import os

    key = "OPENBLAS_THREAD_TIMEOUT"
    if key in os.environ:
        from . import _core
    else:
        os.environ[key] = "4"  # OpenBLAS's minimum: 2^4 cycles
        try:
            from . import _core
        finally:
            os.environ.pop(key, None)
    return _core


_core = _load_core()

try:  # the CUDA extension is optional: absent in CPU-only builds
    from . import _cuda  # type: ignore[attr-defined]

    _CUDA_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - depends on the build
    import pathlib

    _cuda = None
    # A CPU-only build has no _cuda module file at all: cuda_status() says "built without CUDA"
    # instead of Python's "cannot import name '_cuda' ... (most likely due to a circular import)".
    _here = pathlib.Path(__file__).parent
    _built = any(_here.glob("_cuda*.so")) or any(_here.glob("_cuda*.pyd"))
    _CUDA_IMPORT_ERROR = str(exc) if _built else None

core = _core


class Route(NamedTuple):
    """Where one public kernel lives, layer by layer (one stem per family)."""

    family: str  # python/gsa_fast/<family>.py, tests/test_<family>.py, bench/bench_<family>.py
    core: tuple  # the _core functions its CPU route calls (cpp/bindings/<file>.cpp); () = numpy only
    cuda: Optional[str]  # "<module>.<function>" of its cupy-in/cupy-out route, or None
    reference: str  # its pure-numpy twin: gsa_fast.reference.<reference>


# name → Route. Built once at import; a call costs one dict lookup (no per-call building).
ROUTES = {
    # sums (spec §3): cpp/src/sums.cpp, cuda/sums.cu
    "harmonic": Route("sums", ("harmonic_range",), "_gpu_sums.harmonic_range", "harmonic"),
    "harmonic_sums": Route("sums", ("harmonic_range",), "_gpu_sums.harmonic_range", "harmonic_sums"),
    "harmonic_range": Route("sums", ("harmonic_range",), "_gpu_sums.harmonic_range", "harmonic_range"),
    # orbit (spec §4, §5.3): cpp/src/orbit.cpp, cuda/orbit.cu
    "orbit_probs": Route("orbit", ("orbit_probs",), "_gpu_orbit.orbit_probs", "orbit_probs"),
    "log_partition": Route("orbit", ("orbit_unary",), "_gpu_orbit.orbit_unary", "log_partition"),
    "radial": Route("orbit", ("orbit_unary",), "_gpu_orbit.orbit_unary", "radial"),
    "orbit_variance": Route("orbit", ("orbit_unary",), "_gpu_orbit.orbit_unary", "orbit_variance"),
    "fisher_information": Route("orbit", ("orbit_unary",), "_gpu_orbit.orbit_unary", "fisher_information"),
    "orbit_entropy": Route("orbit", ("orbit_unary",), "_gpu_orbit.orbit_unary", "orbit_entropy"),
    "orbit_kl": Route("orbit", ("orbit_binary",), "_gpu_orbit.orbit_binary", "orbit_kl"),
    "orbit_bures_distance": Route("orbit", ("orbit_binary",), "_gpu_orbit.orbit_binary", "orbit_bures_distance"),
    "bures_length": Route("orbit", ("orbit_binary",), "_gpu_orbit.orbit_binary", "bures_length"),
    # tails of the orbit (spec §8.2-8.4): cpp/src/tails.cpp
    "orbit_tail": Route("tails", ("orbit_tail",), "_gpu_tails.orbit_tail", "orbit_tail"),
    "orbit_truncation_rank": Route("tails", ("orbit_truncation_rank",), "_gpu_tails.orbit_truncation_rank", "orbit_truncation_rank"),
    "tail_margin": Route("tails", ("tail_margin",), "_gpu_tails.tail_margin", "tail_margin"),
    "plateau_thresholds": Route("tails", ("plateau_thresholds",), "_gpu_tails.plateau_thresholds", "plateau_thresholds"),
    "tail_lipschitz": Route("tails", ("scaled_log_widths",), "_gpu_tails.tail_lipschitz", "tail_lipschitz"),  # c·log d, vectorized
    # per-spectrum reductions (spec §8.1, §4.2, §4.4): cpp/src/energy.cpp, cuda/energy.cu
    "truncation_rank": Route("energy", ("energy_stats",), "_gpu_energy.truncation_rank",
                             "truncation_rank"),
    "energy": Route("energy", ("energy_stats",), "_gpu_energy.energy", "energy"),
    "spectrum_tails": Route("energy", ("energy_stats",), "_gpu_energy.spectrum_tails", "spectrum_tails"),
    "spectral_entropy": Route("energy", ("energy_stats",), "_gpu_energy.spectral_entropy", "spectral_entropy"),
    "radial_functional": Route("energy", ("energy_stats",), "_gpu_energy.radial_functional", "radial_functional"),
    "rank_count": Route("energy", ("energy_stats",), "_gpu_energy.rank_count", "rank_count"),
    # exponent charts and residuals (spec §6): cpp/src/charts.cpp, cuda/charts.cu
    "fit_exponent": Route("charts", ("charts_fit", "charts_residual"), "_gpu_charts.fit_exponent",
                          "fit_exponent"),
    "radial_residual": Route("charts", ("charts_residual",), "_gpu_charts.residual", "radial_residual"),
    "chart_error": Route("charts", ("charts_residual",), "_gpu_charts.residual", "chart_error"),
    "tail_residual": Route("charts", ("charts_residual",), "_gpu_charts.residual", "tail_residual"),
    # Bures–Wasserstein (spec §5): cpp/src/bures.cpp, cuda/bures.cu (+ cupy's eigh/qr/matmul/svd)
    "bures_distance": Route("bures", ("bures_general",), "_gpu_bures.general", "bures_distance"),
    "bures_fidelity": Route("bures", ("bures_general",), "_gpu_bures.general", "bures_fidelity"),
    "bures_distance_factors": Route("bures", ("bures_factors",), "_gpu_bures.factors", "bures_distance_factors"),
    "bures_distance_diag": Route("bures", ("bures_diag",), "_gpu_bures.vectors", "bures_distance_diag"),
    "bures_distance_cartan": Route("bures", ("bures_diag",), "_gpu_bures.vectors", "bures_distance_cartan"),
    # singular spectra of layer matrices (issue 3): cpp/src/spectra.cpp, cuBLAS/cuSOLVER via cupy
    "gram": Route("spectra", ("spectra_gram",), "_gpu_spectra.gram", "gram"),
    "svdvals": Route("spectra", ("spectra_svdvals", "spectra_topk"), "_gpu_spectra.svdvals",
                     "svdvals"),
    # ESD power-law fit, WeightWatcher's alpha (issue 10): cpp/src/esd.cpp, cuda/esd.cu
    "esd_powerlaw_fit": Route("esd", ("esd_powerlaw_fit",), "_gpu_esd.esd_powerlaw_fit",
                              "esd_powerlaw_fit"),
    # depth: chain log-spectra, random baselines, alignment, DLN geometry (issue 13): cpp/src/depth.cpp
    "chain_log_spectrum": Route("depth", ("chain_scan",), "_gpu_depth.chain_log_spectrum",
                                "chain_log_spectrum"),
    "prefix_log_svdvals": Route("depth", ("prefix_log_svdvals", "prefix_log_graded", "graded_triangle_values"),
                                "_gpu_depth_matrix.prefix_log_svdvals", "prefix_log_svdvals"),
    "random_lyapunov": Route("depth", (), "_gpu_dln.random_lyapunov", "random_lyapunov"),  # closed form in numpy
    "gated_rank_law": Route("depth", (), "_gpu_dln.gated_rank_law", "gated_rank_law"),  # closed form in numpy
    "separation_ratios": Route("depth", (), "_gpu_dln.separation_ratios", "separation_ratios"),
    "depth_scaling_fit": Route("depth", (), "_gpu_dln.depth_scaling_fit", "depth_scaling_fit"),
    "subspace_alignment": Route("depth", ("subspace_alignment",),
                                "_gpu_depth_matrix.subspace_alignment", "subspace_alignment"),
    # numpy only on the CPU: the same namespace-generic code as the CUDA route, with numpy
    "relative_imbalance": Route("depth", (), "_gpu_depth_matrix.relative_imbalance",
                                "relative_imbalance"),
    "bures_transport_map": Route("depth", (), "_gpu_depth_matrix.bures_transport_map",
                                 "bures_transport_map"),
    "bures_geodesic": Route("depth", (), "_gpu_depth_matrix.bures_geodesic", "bures_geodesic"),
    "dln_log_volume": Route("depth", ("dln_log_volume",), "_gpu_dln.dln_log_volume", "dln_log_volume"),
    # §4.3(b), §8.2, §8.3, §8.6 (issue 13, second part): cpp/src/depth_graded.cpp
    "balancedness_ratio": Route("depth", ("prefix_log_svdvals", "prefix_log_graded"),
                                "_gpu_depth_matrix.balancedness_ratio", "balancedness_ratio"),
    "dln_eigenvalues": Route("depth", ("dln_lambda_matrix",), "_gpu_dln.dln_eigenvalues", "dln_eigenvalues"),
    "dln_operator": Route("depth", ("dln_lambda_matrix",), "_gpu_dln.dln_operator", "dln_operator"),
    "dln_metric_norm": Route("depth", ("dln_lambda_matrix",), "_gpu_dln.dln_metric_norm", "dln_metric_norm"),
    "effective_rank": Route("depth", ("effective_rank",), "_gpu_dln.effective_rank", "effective_rank"),
    # chain margins and the margin report (spec §7, §9; issue 11): cpp/src/margins.cpp
    "product_norm": Route("margins", ("product_norm_f32", "product_norm_f64"),
                          "_gpu_margins.product_norm", "product_norm"),
    "chain_margins": Route("margins", ("chain_norms_f32", "chain_norms_f64"),
                           "_gpu_margins.chain_margins", "chain_margins"),
    "margin_report": Route("margins", ("chain_norms_f32", "chain_norms_f64"),
                           "_gpu_margins.margin_report", "margin_report"),
    # torch autodiff (optional); a model on a CUDA device computes there and returns cupy
    "jacobian_chain": Route("margins", (), "_gpu_depth_matrix.jacobian_chain", "jacobian_chain"),
}

# The Python module that holds each family's public functions: the family stem everywhere.
FAMILY_MODULE = {"sums": "sums", "orbit": "orbit", "tails": "tails", "energy": "energy",
                 "charts": "charts", "bures": "bures", "spectra": "spectra",
                 "esd": "esd", "depth": "depth",
                 "margins": "margins"}


# ---- device detection ----------------------------------------------------------------------------

def is_cupy(x) -> bool:
    """True for a cupy ndarray, without importing cupy."""
    return type(x).__module__.split(".")[0] == "cupy"


def _foreign_device(x) -> bool:
    """Device memory that is not a cupy array: a torch CUDA tensor, a ``__cuda_array_interface__``
    object or a CUDA DLPack producer (decided from the object alone: nothing is imported)."""
    return type(x).__module__ != "numpy" and not is_cupy(x) and on_device(x)


def device_route(fn: str, *operands) -> bool:
    """Ask the table: True when an operand of ``fn`` is a cupy array (or a RaggedSpectra or list
    holding cupy arrays) and ``fn`` has a CUDA route that can run; False for host operands. Other
    device memory (torch CUDA tensors, ``__cuda_array_interface__`` and CUDA DLPack objects) counts
    as well where a device is usable — :func:`cuda_route` views it as cupy, without a copy —
    and is otherwise left to the host validation's TypeError.

    Kernels without a CUDA route do not call this: their host validation (``_validate.host_array``)
    refuses device arrays with the one ``no_cuda_route`` error. Every cupy operand must live on
    the current device (ValueError otherwise, before anything runs)."""
    found = False
    for x in operands:
        t = type(x)
        if t.__module__ == "numpy" or t in (int, float, bool) or x is None:
            continue
        if t in (list, tuple):
            x = x[0] if x else None
        elif t.__name__ == "RaggedSpectra":
            x = x.values
        if x is None:
            continue
        if not is_cupy(x):
            if not found and _foreign_device(x) and ROUTES[fn].cuda is not None and cuda_available():
                found = True
            continue
        if not found:
            if ROUTES[fn].cuda is None:  # pragma: no cover - a table/caller mismatch
                raise no_cuda_route(fn, "arguments", x)
            require_cuda(fn)
            found = True
        _on_current_device(fn, x)
    return found


def as_cupy(fn: str, x):
    """``x`` with its foreign device arrays (torch CUDA tensors, ``__cuda_array_interface__`` and
    CUDA DLPack objects; also the elements of a list or tuple and the fields of a RaggedSpectra)
    viewed as cupy arrays through gsa_fast._interop: no copy, and for torch the DLPack exchange
    makes cupy's current stream wait for the tensor's. Everything else is returned as it is."""
    t = type(x)
    if t.__module__ == "numpy" or t in (int, float, bool, str) or x is None or is_cupy(x):
        return x
    if t in (list, tuple):
        return t(as_cupy(fn, e) for e in x) if any(_foreign_device(e) for e in x) else x
    if t.__name__ == "RaggedSpectra":
        if _foreign_device(x.values) or _foreign_device(x.offsets):
            return t(as_cupy(fn, x.values), as_cupy(fn, x.offsets))
        return x
    if not _foreign_device(x):
        return x
    from ._interop import as_array

    a = as_array(x)
    if is_cupy(a):
        _on_current_device(fn, a)
    return a


def device_operands(fn: str, *operands) -> tuple:
    """The operands of a route whose arguments must all live on the device, as cupy arrays
    (:func:`as_cupy`); the mixed-operand TypeError of :func:`all_device` otherwise."""
    operands = tuple(as_cupy(fn, x) for x in operands)
    all_device(*operands)
    return operands


def _on_current_device(fn: str, x) -> None:
    """The routes allocate, and launch our kernels, on the current device and its current stream,
    handing the kernels raw pointers: an operand on another device would be read across devices
    (an illegal address without peer access), so it is refused before anything runs."""
    dev = getattr(getattr(x, "device", None), "id", None)
    if dev is None:
        return
    import cupy

    current = cupy.cuda.runtime.getDevice()
    if dev != current:
        raise ValueError(f"{fn}(): arguments must be on the current CUDA device ({current}); got "
                         f"an array on device {dev} (call inside `with cupy.cuda.Device({dev}):`)")


def cuda_route(fn: str):
    """The callable of ``fn``'s CUDA route (python/gsa_fast/_gpu_<family>.py)."""
    import importlib

    module, func = ROUTES[fn].cuda.rsplit(".", 1)
    route = getattr(importlib.import_module(f"{__package__}.{module}"), func)
    return device_errors(fn, route if fn in _TORCH_ROUTES else _cupy_args(fn, route))


# Routes that take torch objects themselves (a model and its inputs), not arrays to view as cupy.
_TORCH_ROUTES = frozenset({"jacobian_chain"})


def _cupy_args(fn: str, route):
    """``route`` with its foreign device arguments viewed as cupy arrays first (:func:`as_cupy`)."""
    import functools

    @functools.wraps(route)
    def run(*args, **kwargs):
        return route(*(as_cupy(fn, a) for a in args), **{k: as_cupy(fn, v) for k, v in kwargs.items()})

    return run


def device_errors(fn: str, route):
    """``route`` with the device's running out of memory reported as a MemoryError that names the
    function, the allocation that failed (cupy's message) and the memory free on the device."""
    import functools

    @functools.wraps(route)
    def run(*args, **kwargs):
        try:
            return route(*args, **kwargs)
        except Exception as exc:
            # cupy's OutOfMemoryError is a MemoryError: told apart by its name (a route's own
            # MemoryError, such as plateau_thresholds', already says all this and passes through)
            if type(exc).__name__ != "OutOfMemoryError":
                raise
            try:
                import cupy

                free, total = cupy.cuda.runtime.memGetInfo()
                where = f"; {free} of {total} bytes free on the device"
            except Exception:  # pragma: no cover - no runtime to ask
                where = ""
            raise MemoryError(f"{fn}(): out of device memory: {exc}{where}") from exc

    return run


def cuda_device_count() -> int:
    if _cuda is None:
        return 0
    try:
        return int(_cuda.device_count())
    except Exception:  # pragma: no cover - driver problems read as "no device"
        return 0


def cuda_available() -> bool:
    return cuda_device_count() > 0


def cuda_status() -> str:
    """Why the CUDA route is or is not there, for build_info() and the scan header."""
    if _cuda is not None:
        return _core.cuda_status
    if _CUDA_IMPORT_ERROR is None:
        return f"built without CUDA ({_core.cuda_status})"
    return f"{_core.cuda_status}; the CUDA module failed to load: {_CUDA_IMPORT_ERROR}"


def require_cuda(fn: str):
    """The CUDA extension, or a clear error naming why it is not usable."""
    if _cuda is None:
        raise RuntimeError(
            f"{fn}(): got a cupy array but gsa_fast was built without CUDA "
            f"({_core.cuda_status}); rebuild with GSA_FAST_CUDA=ON"
        )
    if cuda_device_count() == 0:
        raise RuntimeError(f"{fn}(): got a cupy array but no CUDA device is visible")
    return _cuda


def all_device(*operands) -> bool:
    """True when every operand is a cupy array; the mixed-operand TypeError of :func:`namespace`
    otherwise (for routes whose operands must all live on the device, lists and scalars included)."""
    if not all(is_cupy(x) for x in operands):
        raise TypeError("arguments must all be numpy arrays or all be cupy arrays; got a mix")
    return True


def namespace(*arrays):
    """numpy or cupy: the library that owns the operands (all must agree; a list or tuple counts
    as its elements)."""
    flat = []
    for a in arrays:
        flat.extend(a if isinstance(a, (list, tuple)) else (a,))
    kinds = {is_cupy(a) for a in flat if a is not None and hasattr(a, "shape")}
    if len(kinds) > 1:
        raise TypeError("arguments must all be numpy arrays or all be cupy arrays; got a mix")
    if kinds == {True}:
        import cupy

        return cupy
    import numpy

    return numpy
