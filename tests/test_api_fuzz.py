"""Every public function against a panel of bad and odd arguments, one argument at a time.

What must hold (the error contract of README/docs/hardening.md):
- gsa_fast: each call returns, or raises TypeError/ValueError whose message starts with
  ``"fn(): "`` — never numpy's or Python's own error (IndexError, AttributeError, OverflowError,
  "cannot reshape ...") and never a hang (each call runs under a SIGALRM guard).
- gsa_fast.reference: where the kernel refuses an argument, its twin refuses it with the same
  exception type and the same message (the twins share the validators), and does not hang.

The panel: Python and numpy scalars at and beyond every limit (0, −1, 2³¹, 2⁶³, ±inf, NaN,
subnormal), None, strings, bytes, dicts, generators, complex, empty arrays of every rank, NaN/Inf
matrices, wrong dtypes (bool, ints, float16, complex, object, datetime), big-endian, negative
strides, zero strides, masked arrays, np.matrix, ragged and nested lists. A large valid request
(2³¹ widths in closed forms whose answer has that many entries) is left out: its cost is the
answer's size, not a bug.
"""
from __future__ import annotations

import math
import re
import signal
import warnings

import numpy as np
import pytest

import gsa_fast as g
import gsa_fast.reference as R

_rng = np.random.default_rng(7)
S = np.sort(_rng.random((3, 20)), axis=1)[:, ::-1] + 0.1  # three descending spectra
S1 = S[0].copy()
M = _rng.standard_normal((6, 8))
F = [_rng.standard_normal((6, 6)) for _ in range(3)]
FS = np.stack(F)
P = M @ M.T
Q = M[:, ::-1] @ M[:, ::-1].T

# one valid call per public function (jacobian_chain takes a model: tests/test_margins.py)
BASES = {
    "balancedness_ratio": (F,),
    "bures_distance": (P, Q),
    "bures_distance_cartan": (S1, S1[::-1].copy()),
    "bures_distance_diag": (S1, S1 + 1),
    "bures_distance_factors": (M, M + 1),
    "bures_fidelity": (P, Q),
    "bures_geodesic": (P, Q, 0.5),
    "bures_length": (0.5, 1.5, 20),
    "bures_transport_map": (P, Q),
    "chain_log_spectrum": (FS, 3),
    "chain_margins": (F,),
    "chart_error": (S, 1.0),
    "depth_scaling_fit": (np.cumsum(np.log(S.T), axis=0),),
    "dln_eigenvalues": (S1, 3),
    "dln_log_volume": (S1, 3),
    "dln_metric_norm": (M, M + 1, 3),
    "dln_operator": (M, M + 1, 3),
    "effective_rank": (S,),
    "energy": (S,),
    "esd_powerlaw_fit": (S1 ** 2,),
    "fisher_information": (1.0, 20),
    "fit_exponent": (S,),
    "gated_rank_law": (100, 5, 0.5),
    "gram": (M,),
    "harmonic": (20, 1.5),
    "harmonic_range": (3, 20, 1.5),
    "harmonic_sums": (20, 1.5),
    "log_partition": (1.0, 20),
    "margin_report": (F,),
    "orbit_bures_distance": (1.0, 2.0, 20),
    "orbit_entropy": (1.0, 20),
    "orbit_kl": (1.0, 2.0, 20),
    "orbit_probs": (1.0, 20),
    "orbit_tail": (1.0, 5, 20),
    "orbit_truncation_rank": (1.0, 0.1, 20),
    "orbit_variance": (1.0, 20),
    "plateau_thresholds": (0.1, 20),
    "prefix_log_svdvals": (FS,),
    "product_norm": (F, F),
    "radial": (1.0, 20),
    "radial_functional": (S,),
    "radial_residual": (S, 1.0),
    "random_lyapunov": (10,),
    "rank_count": (S,),
    "relative_imbalance": (F,),
    "separation_ratios": (np.log(S),),
    "spectral_entropy": (S,),
    "spectrum_tails": (S,),
    "subspace_alignment": (M, M + 1, 2),
    "svdvals": (M,),
    "tail_lipschitz": (20,),
    "tail_margin": (1.0, 0.1, 20),
    "tail_residual": (S, 1.0),
    "truncation_rank": (S, 0.1),
}

_GEN = object()  # stands for a fresh generator (one per call)


def _matrix():
    with warnings.catch_warnings():  # numpy's PendingDeprecationWarning for the matrix class
        warnings.simplefilter("ignore")
        return np.matrix(np.eye(3))


def _panel():
    return [
        ("None", None), ("str", "x"), ("bytes", b"x"), ("0", 0), ("-1", -1), ("1", 1), ("2**31", 2**31),
        ("2**63", 2**63), ("-2**63", -2**63), ("1e308", 1e308), ("1e-320", 1e-320), ("nan", math.nan),
        ("inf", math.inf), ("-inf", -math.inf), ("True", True), ("complex", 1 + 2j), ("[]", []), ("[[]]", [[]]),
        ("ragged", [1, [2]]), ("0d-nan", np.array(np.nan)), ("0d-1", np.array(1.0)), ("empty0", np.empty((0,))),
        ("empty0x5", np.empty((0, 5))), ("empty5x0", np.empty((5, 0))), ("empty000", np.empty((0, 0, 0))),
        ("zeros34", np.zeros((3, 4))), ("nan34", np.full((3, 4), np.nan)), ("inf34", np.full((3, 4), np.inf)),
        ("4d", np.ones((2, 3, 4, 5))), ("int34", np.arange(12).reshape(3, 4)), ("bool34", np.ones((3, 4), bool)),
        ("complex34", np.ones((3, 4), complex)), ("f16", np.ones((3, 4), np.float16)),
        ("object", np.ones((3, 4), object)), ("big-endian", np.ones((3, 4), ">f8")),
        ("negstride", np.ones((6, 8))[::-2, ::3]), ("zerostride", np.broadcast_to(1.0, (3, 4))),
        ("negative", -np.ones((3, 20))), ("unsorted", np.random.default_rng(1).random((3, 20))),
        ("f32-nan", np.array([[1, np.nan, 0.5]], np.float32)),
        ("list-mixed", [np.ones((3, 3)), np.ones((4, 4), np.float32)]), ("list-3d", [np.ones((2, 3, 3))]),
        ("dict", {}), ("u64", np.arange(5, dtype=np.uint64)), ("i8", np.arange(5, dtype=np.int8)),
        ("datetime", np.arange(3).astype("M8[s]")), ("masked", np.ma.masked_array(np.ones(5), mask=[0, 1, 0, 0, 0])),
        ("matrix", _matrix()), ("np.float32", np.float32(0.5)), ("np.int64", np.int64(3)),
        ("1x1", np.ones((1, 1))), ("1e300-matrix", np.full((4, 4), 1e300)), ("subnormal", np.full((4, 4), 5e-324)),
        ("-0.0", -0.0), ("0.5", 0.5), ("1.0", 1.0), ("2.0", 2.0), ("100", 100), ("tuple", (1.0, 2.0)),
        ("generator", _GEN),
    ]


PANEL = _panel()
# closed forms whose valid answer has n (or N·d²) entries or Python-level loops over n: a 2³¹
# request is a legitimately huge computation, not a bad argument
_HUGE_OK = {("gated_rank_law", 0), ("random_lyapunov", 0), ("dln_eigenvalues", 1), ("dln_log_volume", 1),
            ("dln_metric_norm", 2), ("dln_operator", 2)}
TIMEOUT_S = 20.0


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def _call_args(f, args, kw, timeout=TIMEOUT_S):
    """f(*args, **kw) under a SIGALRM guard: None when it returned, else the exception (Hang for a
    call past ``timeout``); the callers sort ours from the rest. The panel's generator stand-in
    becomes a fresh generator per call."""
    args = [(x for x in [1.0, 2.0]) if a is _GEN else a for a in args]
    kw = {k: (x for x in [1.0, 2.0]) if v is _GEN else v for k, v in kw.items()}
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():  # the contract here is about exceptions, not warnings
            warnings.simplefilter("ignore")
            f(*args, **kw)
        return None
    except Exception as e:  # noqa: BLE001 - sorted by the caller
        return e
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _call(mod, fn, args):
    return _call_args(getattr(mod, fn), args, {})


def _same(r, e) -> bool:
    """The reference's exception equals the kernel's: same type, same message (an object's
    address in a repr, as of the panel's generators, aside)."""
    def text(x):
        return re.sub(r" at 0x[0-9a-f]+", "", str(x))
    return type(r) is type(e) and text(r) == text(e)


def _cases(fn):
    base = BASES[fn]
    for i in range(len(base)):
        for name, val in PANEL:
            if (fn, i) in _HUGE_OK and name in ("2**31", "2**63", "1e308", "inf"):
                # the fast route refuses 2**63 and inf; 2**31 is a valid, huge request
                if name == "2**31":
                    continue
            args = list(base)
            args[i] = val
            yield f"{fn}(arg{i}={name})", args


@pytest.mark.parametrize("fn", sorted(BASES))
def test_bases_are_valid(fn):
    assert _call(g, fn, BASES[fn]) is None
    assert _call(R, fn, BASES[fn]) is None


@pytest.mark.parametrize("fn", sorted(BASES))
def test_bad_arguments_get_our_errors_and_the_reference_agrees(fn):
    bad = []
    for tag, args in _cases(fn):
        e = _call(g, fn, args)
        if e is None:
            continue
        if isinstance(e, Hang):
            bad.append(f"{tag}: gsa_fast hung (> {TIMEOUT_S} s)")
            continue
        if not isinstance(e, (TypeError, ValueError)) or not str(e).startswith(f"{fn}(): "):
            bad.append(f"{tag}: gsa_fast raised {type(e).__name__}: {str(e)[:160]}")
            continue
        r = _call(R, fn, args)
        if r is None:
            bad.append(f"{tag}: reference returned where gsa_fast raised {type(e).__name__}: {str(e)[:120]}")
        elif isinstance(r, Hang):
            bad.append(f"{tag}: reference hung where gsa_fast raised {type(e).__name__}: {str(e)[:120]}")
        elif not _same(r, e):
            bad.append(f"{tag}: reference raised {type(r).__name__}: {str(r)[:160]}\n"
                       f"    gsa_fast raised {type(e).__name__}: {str(e)[:160]}")
    assert not bad, f"{len(bad)} contract failures:\n" + "\n".join(bad[:40])


# Failures the kernels find while they compute (reported through the Status channel, not by the
# Python argument checks): NaN/Inf, asymmetric or indefinite matrices, negative entries, in some
# batch element other than the first. The twin must name the same element and position with the
# same words (the message builders are shared: _validate, _bures_args, _ragged, _depth_common).
def _status_cases():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 3, 5, 4))
    P = X[0] @ X[0].transpose(0, 2, 1)  # (3, 5, 5), rank 4, PSD
    P = P + np.eye(5)
    Pn, Pa, Pneg = P.copy(), P.copy(), P.copy()
    Pn[1, 0, 0] = np.nan
    Pa[2, 0, 1] += 1.0
    Pneg[1] = -P[1]
    P32 = P.astype(np.float32)
    P32[2, 1, 1] = np.inf
    Xn = X.copy()
    Xn[1, 2, 0, 0] = np.inf
    v = np.abs(rng.standard_normal((2, 3, 5)))
    vn, vi = v.copy(), v.copy()
    vn[1, 2, 3] = -1.0
    vi[0, 1, 0] = np.inf
    S = np.abs(rng.standard_normal((2, 3, 7)))
    Sn, Sneg = S.copy(), S.copy()
    Sn[1, 1, 4] = np.nan
    Sneg[0, 2, 1] = -2.0
    rag = g.RaggedSpectra(np.array([1.0, 2, 3, -1, 4]), np.array([0, 3, 5]))
    return [
        ("bures_distance", (Pn, P[0])), ("bures_distance", (P, Pn)), ("bures_fidelity", (Pa, P)),
        ("bures_distance", (P[0], Pa)), ("bures_distance", (Pneg, P)), ("bures_fidelity", (P, Pneg[None])),
        ("bures_distance", (P32, P)), ("bures_distance_factors", (Xn, X)), ("bures_distance_factors", (X[0], Xn)),
        ("bures_distance_diag", (vn, v)), ("bures_distance_cartan", (v, vi)), ("bures_distance_diag", (v[0], vn)),
        ("energy", (Sn,)), ("spectrum_tails", (Sneg,)), ("truncation_rank", (Sn, 0.1)), ("rank_count", (rag,)),
        ("spectral_entropy", (Sn.astype(np.float32),)), ("radial_functional", (S, 3)),
        ("radial_functional", (S, np.array([7, 7]))), ("rank_count", (Sn, np.nan)),
        ("svdvals", (Xn,)), ("gram", (Xn,)), ("svdvals", ([X[0, 0], Xn[1, 2]],)), ("svdvals", (Xn, "svd")),
        ("subspace_alignment", (Xn, X, 2)), ("bures_geodesic", (Pneg[1], P[0], 0.5)),
        ("bures_geodesic", (P[0], Pneg[1], 0.5)),
    ]


@pytest.mark.parametrize("case", range(len(_status_cases())))
def test_kernel_status_errors_reference_agrees(case):
    fn, args = _status_cases()[case]
    e = _call(g, fn, list(args))
    assert isinstance(e, (TypeError, ValueError)) and str(e).startswith(f"{fn}(): "), repr(e)
    r = _call(R, fn, list(args))
    assert type(r) is type(e) and str(r) == str(e), f"{fn}: reference {r!r}\n    gsa_fast {e!r}"


def _pair_cases():
    """Two scalar arguments made arrays of shapes that do not broadcast ((3,) and (4,)), their values
    kept valid: the error must still be ours (numpy's "shape mismatch" is not)."""
    for fn in sorted(BASES):
        base = BASES[fn]
        scal = [i for i, a in enumerate(base) if isinstance(a, (int, float)) and not isinstance(a, bool)]
        for x in range(len(scal)):
            for y in range(x + 1, len(scal)):
                args = list(base)
                args[scal[x]] = np.full(3, base[scal[x]])
                args[scal[y]] = np.full(4, base[scal[y]])
                yield f"{fn}(arg{scal[x]}: (3,), arg{scal[y]}: (4,))", fn, args


def test_arguments_that_do_not_broadcast_get_our_errors():
    bad = []
    for tag, fn, args in _pair_cases():
        e = _call(g, fn, args)
        if e is None:
            continue
        if not isinstance(e, (TypeError, ValueError)) or not str(e).startswith(f"{fn}(): "):
            bad.append(f"{tag}: gsa_fast raised {type(e).__name__}: {str(e)[:160]}")
            continue
        r = _call(R, fn, args)
        if not _same(r, e):
            bad.append(f"{tag}: reference {r!r}\n    gsa_fast {e!r}")
    assert not bad, "\n".join(bad)


SCAN_OPTIONS = ["include", "exclude", "eps", "method", "device", "out", "resume", "progress", "threads",
                "memory_budget", "executor", "format", "name_parser", "read", "ww", "chains"]


@pytest.mark.parametrize("option", SCAN_OPTIONS)
def test_scan_options_get_our_errors(option, tmp_path):
    """scan() of the bundled model (one small tensor: include="pooler") with each option set to each
    panel value: a scan, or TypeError/ValueError starting "scan(): " (an array compared with a
    choice, an unhashable executor, an int as out, a float as name_parser used to escape as
    numpy's or Python's own errors). A string out is made a fresh directory."""
    from gsa_fast import weights

    src = str(weights.bundled_model_path())
    bad = []
    for name, val in PANEL:
        if option == "out" and isinstance(val, (str, bytes)):
            val = str(tmp_path / f"out-{name}")
        kw = {"include": "pooler", "progress": False, option: val}
        e = _call_args(g.scan, [src], kw, timeout=60.0)
        if e is None:
            continue
        if isinstance(e, Hang) or not isinstance(e, (TypeError, ValueError)) or not str(e).startswith("scan(): "):
            bad.append(f"scan({option}={name}): {type(e).__name__}: {str(e)[:160]}")
    assert not bad, "\n".join(bad)


def _entry_points():
    """The public functions outside gsa_fast's top level: WeightWatcher compatibility, the
    safetensors reader, RaggedSpectra, set_num_threads. (name, callable, args, kwargs, parameter
    names in order: positional ones first)."""
    from gsa_fast import weights
    from gsa_fast.compat import weightwatcher as w

    src = {"a.weight": _rng.standard_normal((40, 30)), "b.weight": _rng.standard_normal((30, 50))}
    sig = np.sort(np.abs(_rng.standard_normal(30)))[::-1]
    lim = ["min_evals", "max_evals", "max_N"]
    return [
        ("analyze", w.analyze, (src,), {}, ["source"] + lim + ["xmax", "method", "threads"]),
        ("records", w.records, (src,), {}, ["source"] + lim + ["xmax", "method", "threads"]),
        ("describe", w.describe, (src,), {}, ["source"] + lim),
        ("ww_columns", w.ww_columns, (sig, 40, 30), {}, ["sigma", "N", "M", "prefix", "xmax"]),
        ("summary", w.summary, (w.analyze(src),), {}, ["details"]),
        ("read_safetensors", weights.read_safetensors, (str(weights.bundled_model_path()),),
         {"names": ["pooler.dense.weight"]}, ["path", "names"]),
        ("RaggedSpectra", g.RaggedSpectra, (np.ones(5), np.array([0, 2, 5])), {}, ["values", "offsets"]),
        ("set_num_threads", g.set_num_threads, (g.get_num_threads(),), {}, ["n"]),
    ]


@pytest.mark.parametrize("entry", range(8))
def test_other_entry_points_get_our_errors(entry):
    """The panel over each parameter of the entry points above: a result, or TypeError/ValueError
    naming the function (an array or a string as min_evals, a float N in ww_columns, an int path
    escaped as Python's own errors; analyze() of a zero matrix divided by zero). A missing file is
    FileNotFoundError, as documented, and the panel's one path-like string names no file."""
    name, f, args, kw, params = _entry_points()[entry]
    threads = g.get_num_threads()
    bad = []
    try:
        for pi, pname in enumerate(params):
            for vname, val in PANEL:
                a, k = list(args), dict(kw)
                if pi < len(a):
                    a[pi] = val
                else:
                    k[pname] = val
                e = _call_args(f, a, k)
                if e is None or (isinstance(e, FileNotFoundError) and pname == "path"):
                    continue
                if isinstance(e, Hang) or not isinstance(e, (TypeError, ValueError)) or f"{name}(): " not in str(e)[:60]:
                    bad.append(f"{name}({pname}={vname}): {type(e).__name__}: {str(e)[:160]}")
    finally:
        g.set_num_threads(threads)
    assert not bad, "\n".join(bad)


def test_weightwatcher_analyze_of_a_zero_matrix():
    """A zero layer: WeightWatcher's columns with NaN where they divide by the spectral norm
    (numpy's 0/0), not a ZeroDivisionError for the whole table."""
    from gsa_fast.compat import weightwatcher as w

    d = w.analyze({"a.weight": np.zeros((20, 10)), "b.weight": _rng.standard_normal((20, 10))})
    assert len(d) == 2 and np.isnan(d["stable_rank"][0]) and np.isfinite(d["stable_rank"][1])
    assert d["status"][0] == "failed" and np.isnan(d["alpha"][0])


def _kw_cases(fn):
    """Each parameter with a default (keyword options: threads, method, flags, limits, ...), set to
    each panel value on top of the valid call."""
    import inspect

    base = BASES[fn]
    params = list(inspect.signature(getattr(g, fn)).parameters.values())[len(base):]
    for p in params:
        if p.default is inspect.Parameter.empty or p.name.startswith("_"):
            continue
        for name, val in PANEL:
            yield f"{fn}({p.name}={name})", p.name, val


@pytest.mark.parametrize("fn", sorted(BASES))
def test_bad_keyword_options_get_our_errors_and_the_reference_agrees(fn):
    bad = []
    for tag, key, val in _kw_cases(fn):
        e = _call_args(getattr(g, fn), list(BASES[fn]), {key: val})
        if e is None:
            continue
        if isinstance(e, Hang) or not isinstance(e, (TypeError, ValueError)) or not str(e).startswith(f"{fn}(): "):
            bad.append(f"{tag}: gsa_fast raised {type(e).__name__}: {str(e)[:160]}")
            continue
        r = _call_args(getattr(R, fn), list(BASES[fn]), {key: val})
        if not _same(r, e):
            bad.append(f"{tag}: reference {type(r).__name__}: {str(r)[:140]}\n    gsa_fast {type(e).__name__}: {str(e)[:140]}")
    assert not bad, f"{len(bad)} contract failures:\n" + "\n".join(bad[:40])
