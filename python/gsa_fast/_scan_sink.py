"""Scan, part 3 of 3: the output sink — each finished unit appended to DIR atomically; resume.

Layout of an output directory::

    DIR/parts/plan.json          options that fix the plan (budget, eps, method, sources)
    DIR/parts/<uid>.npz          one finished work unit: its rows (JSON) and spectra
    DIR/layers.<csv|parquet|json>, DIR/spectra.npz, DIR/scan.json, DIR/profile.png, DIR/esd.png

Every file is written to a temporary name in the same directory, flushed, fsync'ed and renamed
over its final name (``os.replace``), so a process killed at any instant leaves either the old
file or the new one, never a torn one. ``--resume`` reads the parts back, keyed by
(file, name, shape, dtype), and the scan solves only what is missing.

:class:`UnitsDone` is what every executor (local, Ray) does with a finished unit: append it
here, keep its result, advance the progress bar.
"""
from __future__ import annotations

import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

__all__ = ["DirSink", "UnitsDone", "atomic_write", "row_key"]

TEST_UNIT_DELAY = "GSA_FAST_SCAN_TEST_UNIT_DELAY"  # test hook: seconds to sleep after each unit


def row_key(row) -> tuple:
    return (row["file"], row["name"], row["shape"], row["dtype"])


def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old or the new file, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; final files get the usual mode
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _json_default(x):
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return str(x)


class DirSink:
    """Appends finished units to ``DIR/parts`` and reads them back for ``resume``."""

    def __init__(self, out, plan_options: dict, resume: bool):
        self.dir = Path(out)
        self.parts = self.dir / "parts"
        if self.dir.exists() and not self.dir.is_dir():
            raise ValueError(f"scan(): out must be a directory; got the file {self.dir}")
        self.parts.mkdir(parents=True, exist_ok=True)
        self.plan_file = self.parts / "plan.json"
        self.previous = None
        if resume and self.plan_file.exists():
            self.previous = json.loads(self.plan_file.read_text())
        elif not resume:
            for p in self.parts.glob("*.npz"):  # a fresh scan into a used directory starts over
                p.unlink()
        self.plan_options = plan_options

    def start(self) -> None:
        atomic_write(self.plan_file, json.dumps(self.plan_options, indent=1, default=_json_default).encode())

    def load(self):
        """(rows, spectra) of every finished unit, by row key."""
        rows, spectra = {}, {}
        for p in sorted(self.parts.glob("*.npz")):
            try:
                with np.load(p, allow_pickle=False) as z:
                    part_rows = json.loads(bytes(z["rows"]).decode())
                    for i, r in enumerate(part_rows):
                        k = row_key(r)
                        rows[k] = r
                        if f"s{i}" in z.files:
                            spectra[k] = z[f"s{i}"]
            except (OSError, ValueError, KeyError):  # a part this scan did not write: ignore, recompute
                continue
        return rows, spectra

    def append(self, uid: str, rows: list, spectra: list) -> None:
        buf = io.BytesIO()
        arrays = {"rows": np.frombuffer(json.dumps(rows, default=_json_default).encode(), dtype=np.uint8)}
        for i, s in enumerate(spectra):
            if s is not None:
                arrays[f"s{i}"] = np.asarray(s, dtype=np.float64)
        np.savez(buf, **arrays)
        atomic_write(self.parts / f"{uid}.npz", buf.getvalue())


def _progress_bar(progress, plan):
    """tqdm bar on stderr over the plan's bytes (default: on when stderr is a terminal), or None."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm import tqdm

    return tqdm(total=plan.nbytes, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                desc="scan", dynamic_ncols=True, leave=True,
                postfix={"matrices": f"0/{plan.matrices}"} if plan.matrices else None)


class UnitsDone:
    """What every executor does with a finished unit: append it to the sink (atomically, as
    soon as it is done), keep its result, advance the progress bar; ``results`` is what the
    executor returns. Units already done (``plan.units`` not in ``units``) start the bar."""

    def __init__(self, units, sink, plan, progress):
        self.sink, self.plan, self.results = sink, plan, {}
        self.bar = _progress_bar(progress, plan)
        self.delay = float(os.environ.get(TEST_UNIT_DELAY, "0") or 0)
        self.matrices = plan.matrices - sum(u.matrices for u in units)
        if self.bar is not None and self.matrices:
            self.bar.update(plan.nbytes - sum(u.nbytes for u in units))

    def __call__(self, u, rows, spectra):
        if self.sink is not None:
            self.sink.append(u.uid, rows, spectra)
        self.results[u.uid] = (rows, spectra)
        self.matrices += u.matrices
        if self.bar is not None:
            self.bar.update(u.nbytes)
            self.bar.set_postfix(matrices=f"{self.matrices}/{self.plan.matrices}", refresh=False)
        if self.delay:
            time.sleep(self.delay)

    def close(self):
        if self.bar is not None:
            self.bar.close()
