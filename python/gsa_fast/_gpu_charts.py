"""GPU route of the exponent charts and their residuals (cupy in, cupy out): one block per
spectrum, the per-spectrum arithmetic of cpp/include/gsa_fast/math/charts.hpp that the CPU kernel
runs. Kernels: cuda/charts.cu.

The arguments get the CPU route's checks and messages before any launch: chart, interval and
window in gsa_fast.charts, the batch layout as the other spectrum routes (``_gpu_energy._layout``),
``d`` and ``alpha`` here (``_chart_args``; a cupy operand is checked on the device, a Python
scalar or list on the host). Bad values (NaN, Inf, negative) and ``d < q_+`` are found by the
kernel and raised with the CPU route's message, naming the same spectrum and position. The Bures
and LS charts, the chart error and the tail residual read each spectrum in place when it is
nonincreasing (as ``svdvals`` returns it); otherwise they sort a temporary copy, as the CPU kernel
sorts into a per-worker workspace."""
from __future__ import annotations

import types

import numpy as np

from . import _backend
from ._chart_args import (ALPHA_EXPECTED, ChartFit, _alpha_batch, _alpha_values,
                          _check_window_width, _d_batch, _per_spectrum, invalid_value_error,
                          width_error)
from ._gpu_energy import _layout, _sorted_for_retry
from ._gpu_orbit import _width
from ._ragged import RaggedSpectra
from ._validate import type_error

_NONE = np.iinfo(np.int64).max  # status word: no invalid spectrum


def _setup(spectra, fn, alpha=None, d=None):
    """(cupy, _cuda, layout, n, d on the device or None): the operands' library (mixing numpy
    and cupy arrays is the one TypeError), the batch, and the widths checked as the CPU does."""
    values = spectra.values if isinstance(spectra, RaggedSpectra) else spectra
    parts = list(values) if isinstance(values, (list, tuple)) else [values]
    arrays = [x for x in (*parts, alpha, d) if isinstance(x, np.ndarray) or _backend.is_cupy(x)]
    cp = _backend.namespace(*arrays)
    cuda = _backend.require_cuda(fn)
    lay = _layout(cp, spectra, fn)
    bshape, n = lay[3], int(lay[2].size)
    if d is None:
        dd = None
    elif _backend.is_cupy(d):  # as_width's rules on the device
        dd = _per_spectrum(cp, _width(cp, d, fn), fn, "d", "an int or an array", bshape, n,
                           cp.int64)
    else:
        dd = cp.asarray(_d_batch(d, fn, bshape, n))
    return cp, cuda, lay, n, dd


def _alphas(cp, alpha, fn, bshape, n):
    if not _backend.is_cupy(alpha):
        return cp.asarray(_alpha_batch(alpha, fn, bshape, n))
    if alpha.dtype.kind not in "iuf":
        raise type_error(fn, "alpha", ALPHA_EXPECTED, alpha)
    return _alpha_values(cp, alpha, fn, bshape, n)


def _ptr(a):
    return 0 if a is None else a.data.ptr


def _run(cp, cuda, fn, lay, dd, qplus, call):
    """Launch ``call(values, starts, u, nu, status, stream)`` (charts_fit or charts_residual),
    raise what it found, and launch again on a sorted copy when a spectrum needed the order."""
    values, starts, lengths, bshape, ragged = lay
    n = int(lengths.size)
    if n == 0:
        return
    nu = max(int(lengths.max()), int(cuda.charts_log_table_min))
    u = cp.empty(nu, dtype=cp.float64)  # the log table, filled by the launcher
    status = cp.asarray(np.array([_NONE, 0], dtype=np.int64))  # (cuda/charts.cuh)
    stream = cp.cuda.get_current_stream().ptr
    call(values, starts, u, nu, status, stream)
    first_bad, unsorted = (int(v) for v in cp.asnumpy(status))
    if first_bad != _NONE:  # qplus holds −1 − (position of its first bad value)
        pos = -1 - int(qplus[first_bad])
        if ragged:
            v = values[int(starts[first_bad]) + pos]
        else:
            idx = np.unravel_index(first_bad, bshape) if bshape else ()
            v = values[tuple(int(j) for j in idx) + (pos,)]
        raise invalid_value_error(fn, float(v), bshape, first_bad, pos)
    if unsorted:
        call(*_sorted_for_retry(cp, values, starts, lengths, ragged), u, nu, status, stream)
    if dd is not None:
        small = cp.flatnonzero(dd < qplus)
        if small.size:
            i = int(small[0])
            raise width_error(fn, bshape, i, int(dd[i]), int(qplus[i]))


def _residual(cp, cuda, fn, lay, dd, alpha, kind):
    """(residuals, qplus) of the batch (flat, float64 / int64 cupy arrays)."""
    lengths = lay[2]
    n = int(lengths.size)
    out = cp.empty(n, dtype=cp.float64)
    qplus = cp.empty(n, dtype=cp.int64)

    def call(vals, st, u, nu, status, stream):
        cuda.charts_residual(vals.data.ptr, vals.dtype == cp.float32, st.data.ptr,
                             lengths.data.ptr, n, _ptr(dd), alpha.data.ptr, kind, u.data.ptr, nu,
                             out.data.ptr, qplus.data.ptr, status.data.ptr, stream)

    _run(cp, cuda, fn, lay, dd, qplus, call)
    return out, qplus


def residual(spectra, alpha, d, kind, fn, normalized=True):
    """radial_residual, chart_error, tail_residual: float64 cupy array of the batch shape."""
    cp, cuda, lay, n, dd = _setup(spectra, fn, alpha, d)
    al = _alphas(cp, alpha, fn, lay[3], n)
    out, qplus = _residual(cp, cuda, fn, lay, dd, al, kind)
    if not normalized:  # E_BW = √d·Ē
        out = out * cp.sqrt(qplus if dd is None else dd)
    return out.reshape(lay[3])


def fit_exponent(spectra, chart, lo, hi, window, d, full_output, fn):
    """α (and with full_output the ChartFit of intercept, ε, Ē) as cupy arrays of the batch
    shape; chart is the ChartKind code, window None or the checked (k0, k1)."""
    from .charts import _KINDS

    cp, cuda, lay, n, dd = _setup(spectra, fn, None, d)
    lengths, bshape = lay[2], lay[3]
    _check_window_width(fn, window, types.SimpleNamespace(lengths=lengths))
    k0, k1 = (0, 0) if window is None else window
    alpha = cp.empty(n, dtype=cp.float64)
    icpt = cp.empty(n, dtype=cp.float64) if full_output else None
    qplus = cp.empty(n, dtype=cp.int64)

    def call(vals, st, u, nu, status, stream):
        cuda.charts_fit(vals.data.ptr, vals.dtype == cp.float32, st.data.ptr, lengths.data.ptr, n,
                        _ptr(dd), chart, lo, hi, k0, k1, u.data.ptr, nu, alpha.data.ptr,
                        _ptr(icpt), qplus.data.ptr, status.data.ptr, stream)

    _run(cp, cuda, fn, lay, dd, qplus, call)
    if not full_output:
        return alpha.reshape(bshape)
    eps = _residual(cp, cuda, "radial_residual", lay, dd, alpha, _KINDS["radial_residual"])[0]
    err = _residual(cp, cuda, "chart_error", lay, dd, alpha, _KINDS["chart_error"])[0]
    return ChartFit(*(a.reshape(bshape) for a in (alpha, icpt, eps, err)))
