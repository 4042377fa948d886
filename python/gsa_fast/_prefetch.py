"""Import an optional module on a background thread while a kernel runs (the GIL is free then).

``analyze()`` of :mod:`gsa_fast.compat.weightwatcher` must return a pandas DataFrame, and in a
fresh process ``import pandas`` costs about as much as the whole table's Python side (~0.2 s of
one core). The spectra run in C++ with the GIL released, so the import can run meanwhile::

    pd = prefetch("pandas")          # starts the import (or returns at once if already imported)
    ... compute (GIL released) ...
    pandas = pd.result()             # joins; the module, or the import's own exception

Guarantees: at most one import thread per module name at a time (a lock); ``result()`` always
joins the thread, so none is left behind; any failure of the background import is re-raised in
the caller by importing again there (Python drops a module that failed to import, so the caller
sees the genuine ImportError or error of that module, with its traceback); a module already in
``sys.modules`` starts no thread. Python's per-module import locks make the two threads safe
against each other.
"""
from __future__ import annotations

import importlib
import sys
import threading

_lock = threading.Lock()
_running: dict = {}  # module name -> _Prefetch whose thread may still run


class _Prefetch:
    __slots__ = ("name", "thread")

    def __init__(self, name: str, thread):
        self.name, self.thread = name, thread

    def join(self) -> None:
        """Wait for the background import, if any (its outcome is left to :meth:`result`)."""
        if self.thread is not None:
            self.thread.join()

    def result(self):
        """Wait for the import and return the module (importing in the caller if it failed)."""
        self.join()
        # done: a dictionary look-up. Failed in the background: Python dropped the module, so this
        # imports again here and raises the genuine error. Imported by yet another thread and
        # still initializing: this waits on the module's import lock.
        return importlib.import_module(self.name)


def _run(name: str):
    try:
        importlib.import_module(name)
    except BaseException:  # noqa: BLE001 - re-raised by result() in the caller
        pass
    finally:
        with _lock:
            if _running.get(name) is not None and _running[name].thread is threading.current_thread():
                del _running[name]


def prefetch(name: str) -> _Prefetch:
    """Start importing module ``name`` on a thread unless it is imported (or importing) already."""
    with _lock:
        p = _running.get(name)
        if p is None:
            if name in sys.modules:
                return _Prefetch(name, None)
            # not a daemon: if the caller dies before result(), the interpreter still waits for
            # the import to finish instead of killing a thread that holds import locks
            t = threading.Thread(target=_run, args=(name,), name=f"gsa_fast-import-{name}")
            p = _running[name] = _Prefetch(name, t)
            try:
                t.start()
            except RuntimeError:  # no new threads (interpreter shutting down): import in result()
                del _running[name]
                p = _Prefetch(name, None)
    return p
