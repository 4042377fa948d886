"""Scan, part 3 of 3: the output sink — each finished unit appended to DIR atomically; resume.

Layout of an output directory::

    DIR/parts/plan.json          options that fix the plan (budget, eps, method, sources)
    DIR/parts/<uid>.npz          one finished work unit: its rows (JSON) and spectra
    DIR/layers.<csv|parquet|json>, DIR/spectra.npz, DIR/scan.json, DIR/profile.png, DIR/esd.png

Every file is written to a temporary name in the same directory, flushed, fsync'ed and renamed
over its final name (``os.replace``), so a process killed at any instant leaves either the old
file or the new one, never a torn one. ``--resume`` reads the parts back, keyed by
(file, name, shape, dtype), and the scan solves only what is missing.
"""
from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["DirSink", "atomic_write", "row_key"]


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
