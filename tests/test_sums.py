"""Generalized harmonic sums (spec §3): oracles (§11.1), mpmath, reference, identities, errors."""
from __future__ import annotations

import mpmath as mp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import gsa_fast as g
from gsa_fast import reference as ref
from _helpers import assert_rel

RTOL = 1e-13  # issue #2 contract for every d ≤ 1e15, s ≥ 0

# spec §11.1 (mpmath-verified): d, s, H, L, Q
ORACLE = [
    (1000, 2, 1.6439345666815598, 0.92964395184654209, 1.9257714924865748),
    (1000, 1, 7.4854708605503449, 23.789179036995708, 109.88680933702116),
    (1000, 0.5, 61.801008765243232, 314.42555847965016, 1761.0646106501372),
    (1000, 0, 1000, 5912.1281784881633, 35923.425772675069),
    (64, 2, 1.6294305014088875, 0.85744605613623297, 1.5599133311290654),
    (10, 3, 1.1975319856741933, 0.18521550428366677, 0.20178145285999475),
    (10**9, 2, 1.6449340658482264, 0.93754823259257793, 1.9892797613986226),
    (10**9, 1, 21.300481502347944, 214.65405763925307, 2966.5516974154223),
    (10**9, 1.0001, 21.279030921661087, 214.35763288032771, 2961.9447539939638),
    (10**9, 0.9999, 21.321961748558146, 214.95094347461095, 2971.1662848442796),
    (10**9, 1.5, 2.6123121031323008, 3.9308025919129843, 15.956646749357665),
    (10**9, 0.5, 63244.092864670165, 1184167.2286051918, 22424370.576940434),
    (10**9, 3, 1.2020569031595943, 0.19812624288563684, 0.23974691730538696),
]


@pytest.mark.parametrize("d,s,H,L,Q", ORACLE)
@pytest.mark.parametrize("impl", [g, ref], ids=["fast", "reference"])
def test_spec_oracles(impl, d, s, H, L, Q):
    h, l, q = impl.harmonic_sums(d, s)
    assert_rel(h, H, RTOL, what="H")
    assert_rel(l, L, RTOL, what="L")
    assert_rel(q, Q, RTOL, what="Q")


def mp_sums(d: int, s: float):
    """H, L, Q from Hurwitz zeta differences (s = 1 by continuity: s = 1 + 1e-25 at 110 digits,
    where the poles ~1/(s−1)^(j+1) cancel exactly enough and the O(1e-25) shift is invisible)."""
    with mp.workdps(110 if s == 1 else 60):
        sm = mp.mpf(s) if s != 1 else mp.mpf(1) + mp.mpf(10) ** -25
        if d <= 300:
            return [float(mp.fsum(mp.mpf(k) ** -sm * mp.log(k) ** j for k in range(1, d + 1))) for j in range(3)]
        out = []
        for j in range(3):
            v = mp.zeta(sm, 1, j) - mp.zeta(sm, d + 1, j)
            out.append(float(v * (-1) ** j))
        return out


D_GRID = [0, 1, 2, 3, 255, 256, 257, 1000, 12345, 10**6, 10**9, 10**12, 10**15]
S_GRID = [0.0, 0.25, 0.5, 0.9999, 1.0, 1.0001, 1.5, 2.0, 3.0, 7.5, 30.0]


@pytest.mark.parametrize("d", D_GRID)
def test_against_mpmath_grid(d):
    s = np.array(S_GRID)
    h, l, q = g.harmonic_sums(d, s)
    for i, si in enumerate(S_GRID):
        H, L, Q = mp_sums(d, si)
        assert_rel(h[i], H, RTOL, atol=0 if d else 0, what=f"H d={d} s={si}")
        assert_rel(l[i], L, RTOL, atol=1e-300, what=f"L d={d} s={si}")
        assert_rel(q[i], Q, RTOL, atol=1e-300, what=f"Q d={d} s={si}")


def test_harmonic_1e12_correctly_rounded():
    # README promise: g.harmonic(10**12, 1.0) is correctly rounded.
    with mp.workdps(50):
        exact = mp.harmonic(10**12)
    assert g.harmonic(10**12, 1.0) == float(exact)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(0, 10**15), s=st.floats(0.0, 12.0))
def test_fast_matches_reference(d, s):
    for j in range(3):
        assert_rel(g.harmonic(d, s, j), ref.harmonic(d, s, j), 1e-13, atol=1e-300, what=f"power={j}")


@settings(max_examples=60, deadline=None)
@given(a=st.integers(1, 10**12), n=st.integers(0, 10**6), s=st.floats(0.0, 6.0))
def test_range_is_segment_of_prefix(a, n, s):
    b = a + n
    r = g.harmonic_range(a, b, s)
    assert_rel(r, ref.harmonic_range(a, b, s), 1e-13, what="range vs reference")
    if a < 10**6:  # prefix difference is accurate only when the segment is not tiny
        diff = g.harmonic(b, s) - g.harmonic(a - 1, s)
        assert abs(r - diff) <= 1e-12 * g.harmonic(b, s)


def test_identities():
    d = np.array([1, 2, 10, 1000, 10**9])
    h, l, q = g.harmonic_sums(d, 2.0)
    assert h[0] == 1.0 and l[0] == 0.0 and q[0] == 0.0
    assert np.all(np.diff(h) > 0)
    # ∂_s H = −L, ∂_s L = −Q (central differences)
    e = 1e-6
    for s in (0.5, 1.0, 2.0):
        dh = (g.harmonic(d, s + e) - g.harmonic(d, s - e)) / (2 * e)
        dl = (g.harmonic(d, s + e, 1) - g.harmonic(d, s - e, 1)) / (2 * e)
        assert_rel(dh, -g.harmonic(d, s, 1), 1e-7, atol=1e-12)
        assert_rel(dl, -g.harmonic(d, s, 2), 1e-7, atol=1e-12)
    # Prop A.1 bracket; ζ(s) − H cancels, so allow 4 ulp of ζ(s) absolute.
    for s in (1.5, 2.0, 3.0):
        z = float(mp.zeta(s))
        gap = z - g.harmonic(d, s)
        slack = 4 * np.spacing(z)
        assert np.all(gap <= d ** (1 - s) / (s - 1) + slack)
        assert np.all(gap >= (d + 1.0) ** (1 - s) / (s - 1) - slack)


def test_broadcast_shapes_and_scalars():
    assert isinstance(g.harmonic(10, 1.0), np.floating)
    out = g.harmonic(np.arange(6).reshape(2, 3), np.array([0.5, 1.0, 2.0]))
    assert out.shape == (2, 3)
    assert g.harmonic(np.zeros((0,), dtype=int), 1.0).shape == (0,)
    assert g.harmonic(1e9, 2) == g.harmonic(10**9, 2)  # integral floats are counts
    assert_rel(g.harmonic([0, 1, 2], 0.0), [0.0, 1.0, 2.0], 0)
    # non-contiguous input is fine (small parameter arrays are copied, inputs are not modified)
    d = np.arange(20)[::3]
    assert_rel(g.harmonic(d, 1.5), ref.harmonic(d, 1.5), 1e-13)


@pytest.mark.parametrize(
    "args,exc,match",
    [
        ((-1, 1.0), ValueError, r"harmonic\(\): d must be integers >= 0; got -1"),
        ((2.5, 1.0), ValueError, r"d must be integers >= 0; got non-integer 2.5"),
        ((10, -0.5), ValueError, r"s must be >= 0.0"),
        ((10, np.nan), ValueError, r"s must be free of NaN"),
        ((10, np.inf), ValueError, r"s must be finite"),
        ((np.nan, 1.0), ValueError, r"d must be finite"),
        (("10", 1.0), TypeError, r"d must be an integer"),
        ((10, "x"), TypeError, r"s must be a real number"),
        ((True, 1.0), TypeError, r"not bool"),
        ((None, 1.0), TypeError, r"d must be"),
        ((2**60, 1.0), ValueError, r"d must be <= 2\*\*53"),
        ((np.array([1 + 2j]), 1.0), TypeError, r"d must be"),
    ],
)
def test_bad_input(args, exc, match):
    with pytest.raises(exc, match=match):
        g.harmonic(*args)


def test_bad_power():
    with pytest.raises(ValueError, match=r"power must be one of \[0, 1, 2\]; got 3"):
        g.harmonic(10, 1.0, power=3)
    with pytest.raises(TypeError, match=r"power must be an int"):
        g.harmonic(10, 1.0, power=1.0)


def test_range_bad_input():
    with pytest.raises(ValueError, match=r"harmonic_range\(\): a must be integers >= 1; got 0"):
        g.harmonic_range(0, 10, 1.0)


def test_short_far_out_ranges():
    # b − a ≪ a: the integral's log(b/a) must come from the exact integer difference.
    a, b = 10**15 - 10**9, 10**15
    assert_rel(g.harmonic_range(a, b, 0.0), b - a + 1, 1e-13)
    with mp.workdps(40):
        for s in (0.5, 1.0, 2.0):
            exact = mp.zeta(s, a) - mp.zeta(s, b + 1) if s != 1 else mp.digamma(b + 1) - mp.digamma(a)
            for impl in (g, ref):
                assert_rel(impl.harmonic_range(a, b, s), float(exact), 1e-13, what=f"s={s}")


def test_huge_exponents_underflow_cleanly():
    # No NaN from s^5-sized derivative coefficients: terms past k = 1 just underflow.
    for s in (800.0, 1e62, 1e300):
        with mp.workdps(30):
            want = [float(mp.fsum(mp.mpf(k) ** -s * mp.log(k) ** j for k in range(2, 6))) for j in (1, 2)]
        for impl in (g, ref):
            h, l, q = impl.harmonic_sums(10**9, s)
            assert h == 1.0
            assert_rel([l, q], want, 1e-13, what=f"s={s}")


# ---- every device (CPU numpy; CUDA cupy in, cupy out where a device exists) --------------------

def test_harmonic_on_device_matches_reference(device):
    d = np.array([0, 1, 2, 255, 256, 257, 1000, 10**6, 10**9, 10**12, 10**15])
    s = np.array([0.0, 0.5, 0.9999, 1.0, 1.0001, 2.0, 3.0, 30.0])
    D, S = np.meshgrid(d, s)
    for j in range(3):
        out = g.harmonic(device.asarray(D), device.asarray(S), power=j)
        assert device.is_native(out)
        want = np.array([[ref.harmonic(int(a), float(b), j) for a, b in zip(rd, rs)] for rd, rs in zip(D, S)])
        # the kernel's contract vs the reference: 1e-13 relative (module docstring)
        assert_rel(device.asnumpy(out), want, 1e-13, atol=1e-300, what=f"{device.name} power={j}")


def test_harmonic_on_device_rejects_bad_input(device):
    with pytest.raises(ValueError, match="s must be"):
        g.harmonic(device.asarray(np.array([10])), device.asarray(np.array([-1.0])))


# The device route's parameter checks (gsa_fast._gpu_sums.sum_checks) are written against the
# array namespace: run on numpy arrays they must raise what the CPU route raises (type and
# message) and return the same parameters. They used to be the route's own shorter checks: a = 0
# for harmonic_range, b > 2**53 and an infinite float width went to the kernel (Inf/NaN or
# wrapped int64 widths) where the CPU route raises ValueError.
SUM_CASES = [
    ("harmonic_range", np.array([0, 2]), np.array([5, 5]), np.array([1.0])),
    ("harmonic_range", np.array([1.0, 2.5]), np.array([5]), 1.0),
    ("harmonic_range", np.array([1]), np.array([2.0**60]), 1.0),
    ("harmonic_range", np.array([1]), np.array([np.inf]), 1.0),
    ("harmonic_range", np.array([1]), np.array([-3]), 1.0),
    ("harmonic_range", 1, np.array([7]), np.array([np.nan])),
    ("harmonic_range", np.array([True]), np.array([7]), 1.0),
    ("harmonic_range", np.array([1, 2]), np.array([7, 8, 9]), 1.0),
    ("harmonic_range", np.array([3, 1]), np.array([7, 8]), np.array([[0.5], [2.0]])),
    ("harmonic", 1, np.array([2**53 + 1]), 1.0),
    ("harmonic", 1, np.array([4.0, 9.0]), np.array([-0.5])),
    ("harmonic", 1, np.array([0, 10**15]), np.array([0.0, 1.0])),
    ("harmonic_sums", 1, np.array([3.0]), np.array([np.inf])),
    ("harmonic_sums", 1, [1, 2, 3], 2),
]


@pytest.mark.parametrize("case", SUM_CASES, ids=[str(i) for i in range(len(SUM_CASES))])
def test_device_sum_checks_match_the_cpu_validation(case):
    from gsa_fast._gpu_sums import sum_checks
    from gsa_fast._scalar_args import sum_params

    fn, a, b, s = case
    try:
        want = sum_params(fn, a, b, s)
    except (TypeError, ValueError) as exc:
        with pytest.raises(type(exc)) as got:
            sum_checks(np, fn, a, b, s)
        assert str(got.value) == str(exc)
    else:
        for x, y in zip(sum_checks(np, fn, a, b, s), want):
            assert x.dtype == y.dtype
            np.testing.assert_array_equal(x, y)
