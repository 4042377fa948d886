"""Grouped Gram stacks of the device Gram route (gsa_fast._gpu_batch, issue 12 §2: batching).

The plan (which entries, in which stacks, within which budget) is pure Python; the executor is
written against an array namespace, so the whole route runs here with numpy (LAPACK's eigvalsh on
each stack standing in for cuSOLVER) and is compared with the CPU kernel of svdvals. The device
side (cuSOLVER syevjBatched with our tolerance, syevd) runs in the `cuda` tests at the end.

Tolerances: float32/bfloat16/float16 inputs, svdvals' contract |σ̂_k − σ_k| ≤ 4·max(m, n)·u_in·σ_1
(u_in = 2⁻²⁴ for float32; each route meets it against the exact spectrum of the same input, both
work in float64 on the exactly widened input, so they agree well within it). Splitting a group
across stacks changes nothing per matrix (the same Gram, the same LAPACK call): bitwise equal.
"""
from __future__ import annotations

import numpy as np
import pytest

import gsa_fast as g
from gsa_fast import _gpu_batch as gb
from gsa_fast import reference as ref

U24 = 2.0 ** -24

# a Llama-shaped block scaled down by 128: q_proj 64², k/v_proj 8×64 (q = 8, Jacobi class),
# gate/up 224×64, down 64×224 (q = 64, the larger class)
SHAPES = [(64, 64), (8, 64), (8, 64), (224, 64), (224, 64), (64, 224)]


def _bf16(a):
    return (a.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)


def _model(rng, blocks):
    """A block list of float32 matrices with power-law spectra, in model order."""
    mats = []
    for _ in range(blocks):
        for m, n in SHAPES:
            q = min(m, n)
            u, _ = np.linalg.qr(rng.standard_normal((m, q)))
            v, _ = np.linalg.qr(rng.standard_normal((n, q)))
            mats.append(((u * np.arange(1, q + 1) ** -0.7) @ v.T).astype(np.float32))
    return mats


class Recording(gb.Solvers):
    """numpy solvers that log each call: ("jacobi", count, q, tol, sweeps), ("stack", count, q),
    ("syevd", q)."""

    def __init__(self):
        super().__init__(np)
        self.log = []

    def jacobi(self, G, tol, max_sweeps):
        self.log.append(("jacobi", G.shape[0], G.shape[-1], tol, max_sweeps))
        return super().jacobi(G, tol, max_sweeps)

    def syevd(self, A):
        self.log.append(("syevd", A.shape[-1]))
        return super().syevd(A)

    def stack(self, G):
        self.log.append(("stack", G.shape[0], G.shape[-1]))
        return super().stack(G)


# ---- the plan (pure Python) --------------------------------------------------------------------

def test_plan_groups_by_gram_size_in_order_of_first_appearance():
    shapes = [(64, 64), (8, 64), (64, 8), (224, 64), (0, 5), (64, 224), (8, 64), (3, 0)]
    p = gb.plan(shapes)
    # within a Gram size, one (shape, kind) run after another: (8, 64) ×2, then (64, 8)
    assert p == [gb.Stack(64, (0, 3, 5)), gb.Stack(8, (1, 6, 2)), gb.Stack(0, (4, 7))]
    kinds = ["f4", "f2", "f2", "f4", "f4", "f4", "f4", "f4"]
    assert gb.plan(shapes, kinds=kinds)[1] == gb.Stack(8, (1, 2, 6))  # (8,64,f2) (64,8,f2) (8,64,f4)
    assert gb.plan([]) == []


def test_plan_splits_a_group_to_the_budget_and_the_count_cap():
    shapes = [(100, 10)] * 7 + [(5, 30)] * 3
    one = 8 * 10 * 10
    p = gb.plan(shapes, budget=3 * one)  # three q = 10 Grams fit, the fourth would not
    assert [s.entries for s in p] == [(0, 1, 2), (3, 4, 5), (6,), (7, 8, 9)]
    assert all(s.nbytes() <= 3 * one for s in p)
    assert [s.entries for s in gb.plan(shapes, budget=3 * one - 1)][:3] == [(0, 1), (2, 3), (4, 5)]
    # a Gram larger than the budget still gets a stack (of one)
    assert [len(s.entries) for s in gb.plan(shapes, budget=1)] == [1] * 10
    assert [s.entries for s in gb.plan(shapes, max_count=4)] == [(0, 1, 2, 3), (4, 5, 6), (7, 8, 9)]


@pytest.mark.parametrize("budget", [0, -8, 1.5, True, "1"])
def test_plan_refuses_a_bad_budget(budget):
    with pytest.raises(ValueError, match=r"plan\(\): budget must be an int >= 1"):
        gb.plan([(3, 3)], budget=budget)


def test_jacobi_tolerance_maps_to_the_contract():
    # ‖off‖_F ≤ tol·‖G‖_F ≤ tol·sqrt(q)·λ_max must equal the contract's q·u·λ_max (c = 1)
    for q in (1, 2, 8, 32, 1000):
        assert gb.jacobi_tol(q) * np.sqrt(q) == pytest.approx(q * 2.0 ** -53, rel=1e-15)


# ---- the Gram of one entry ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(37, 11), (11, 37), (16, 16)])
@pytest.mark.parametrize("bf16", [False, True])
def test_gram_into_sums_slabs_and_matches_the_reference(rng, shape, bf16):
    a = rng.standard_normal(shape).astype(np.float32)
    x = _bf16(a) if bf16 else a
    want = ref.gram(x, dtype="bfloat16") if bf16 else ref.gram(x)
    q = min(shape)
    for chunk in (gb.CHUNK_BYTES, 8 * q * 5, 1):  # one slab, slabs of 5 rows/columns, of one
        out = np.full((q, q), np.nan)
        gb.gram_into(np, out, x, bf16, chunk)
        np.testing.assert_array_equal(out, out.T)
        # float64 sums of max(m, n) exact products: max(m, n)·2⁻⁵³ relative to ‖a_i‖‖a_j‖
        np.testing.assert_allclose(out, want, rtol=0, atol=max(shape) * 2.0 ** -52 * np.abs(want).max())


@pytest.mark.parametrize("shape", [(37, 11), (11, 37)])
@pytest.mark.parametrize("bf16", [False, True])
def test_gram_run_matches_one_matrix_at_a_time(rng, shape, bf16):
    # one batched product per buffer; buffers of 3 matrices, and of one (each matrix's own slabs)
    mats = [rng.standard_normal(shape).astype(np.float32) for _ in range(7)]
    mats = [_bf16(a) for a in mats] if bf16 else mats
    q = min(shape)
    want = np.stack([gb.gram_into(np, np.empty((q, q)), a, bf16) for a in mats])
    for chunk in (gb.CHUNK_BYTES, 8 * 37 * 11 * 3, 8 * 37 * 11):
        for given in (mats, np.stack(mats)):  # a list (one cast per matrix) or a stack (per buffer)
            out = np.full((7, q, q), np.nan)
            gb.gram_run_into(np, out, given, bf16, chunk)
            np.testing.assert_array_equal(out, out.transpose(0, 2, 1))
            np.testing.assert_allclose(out, want, rtol=0, atol=max(shape) * 2.0 ** -52 * np.abs(want).max())


def test_stacked_gram_converts_at_most_a_chunk_at_a_time(rng, monkeypatch):
    """_gpu_spectra's promise: the device Gram of a stack holds one converted chunk, never a
    float64 copy of a whole matrix, also when one matrix is larger than CHUNK_BYTES (it is
    converted in slabs of its long side, _gpu_batch.gram_into)."""
    from gsa_fast import _gpu_spectra

    chunk = 8 * 11 * 10  # 10 rows of an (m, 11) matrix
    sizes, real = [], gb.to_f64

    def to_f64(xp, a, bf16):
        sizes.append(8 * a.size)
        return real(xp, a, bf16)

    monkeypatch.setattr(_gpu_spectra, "CHUNK_BYTES", chunk)
    monkeypatch.setattr(_gpu_spectra, "_to_f64", to_f64)
    monkeypatch.setattr(gb, "to_f64", to_f64)
    a = rng.standard_normal((3, 37, 11)).astype(np.float32)
    got = _gpu_spectra._gram_stack(np, a, False)
    assert sizes and max(sizes) <= chunk, sizes
    want = np.stack([ref.gram(x) for x in a])
    np.testing.assert_allclose(got, want, rtol=0, atol=37 * 2.0 ** -52 * np.abs(want).max())


# ---- the executor on numpy ---------------------------------------------------------------------

def test_grouped_route_on_numpy_matches_the_cpu_kernel_with_one_call_per_size(rng, monkeypatch):
    mats = _model(rng, 5)
    checked = [(a, False) for a in mats]
    rec, runs, real_run = Recording(), [], gb.gram_run_into

    def run(xp, out, ms, bf16, chunk_bytes):
        runs.append((ms[0].shape, len(ms)))
        return real_run(xp, out, ms, bf16, chunk_bytes)

    monkeypatch.setattr(gb, "gram_run_into", run)
    got = gb.grouped_values(np, checked, solvers=rec)
    # the Grams of each repeated shape in one batched product
    assert runs == [((64, 64), 5), ((224, 64), 10), ((64, 224), 5), ((8, 64), 10)]
    cpu = g.svdvals(mats)
    assert len(got) == len(mats)
    for i, (a, v) in enumerate(zip(mats, got)):  # the caller's order
        w = cpu[i]
        assert v.shape == w.shape == (min(a.shape),)
        assert (np.abs(v - w) <= 4 * max(a.shape) * U24 * w[0]).all(), i
    # 30 matrices, two Gram sizes: q = 8 through the (checked) Jacobi call, q = 64 the stack call
    assert rec.log == [("stack", 20, 64), ("jacobi", 10, 8, gb.jacobi_tol(8), gb.JACOBI_MAX_SWEEPS)]


def test_budget_splits_a_group_without_changing_a_value(rng):
    mats = _model(rng, 4)
    checked = [(a, False) for a in mats]
    whole = gb.grouped_values(np, checked)
    rec = Recording()
    split = gb.grouped_values(np, checked, budget=8 * 64 * 64 * 3, solvers=rec)
    for v, w in zip(split, whole):
        np.testing.assert_array_equal(v, w)
    # 16 q = 64 Grams in stacks of 3; 8 q = 8 Grams fit one stack
    assert [e[1] for e in rec.log if e[0] == "stack"] == [3, 3, 3, 3, 3, 1]
    assert [e[1] for e in rec.log if e[0] == "jacobi"] == [8]


def test_mixed_dtypes_and_empty_entries_in_one_list(rng):
    a = rng.standard_normal((40, 12)).astype(np.float32)
    parts = [(a, False), (_bf16(a.T), True), (a.astype(np.float16), False), (a[:0], False),
             (a.astype(np.float64)[:, :7], False)]
    got = gb.grouped_values(np, parts)
    wants = [ref.svdvals(a), ref.svdvals(_bf16(a.T), dtype="bfloat16"), ref.svdvals(a.astype(np.float16)),
             np.zeros(0), ref.svdvals(a.astype(np.float64)[:, :7])]
    for v, w, (x, _) in zip(got, wants, parts):
        assert v.shape == w.shape
        if w.size:
            assert (np.abs(v - w) <= 4 * max(x.shape) * U24 * w[0]).all()


@pytest.mark.parametrize("driver", gb.DRIVERS)
def test_every_driver_on_a_grouped_stack(rng, driver):
    # the band route (two-stage, host stages) must keep working on grouped stacks
    mats = [m for m in _model(rng, 2)]
    got = gb.grouped_values(np, [(a, False) for a in mats], driver)
    for a, v in zip(mats, got):
        w = ref.svdvals(a)
        assert (np.abs(v - w) <= 4 * max(a.shape) * U24 * w[0]).all(), driver


def test_unknown_driver_is_refused():
    with pytest.raises(ValueError, match=r"svdvals\(\): _eig_driver must be one of 'auto', 'syevd', 'band'"):
        gb.eigvalsh_grams(np, np.zeros((1, 2, 2)), "sytrd")


class Failing(Recording):
    """syevjBatched gone wrong: matrix 1 keeps its diagonal (the batched-Jacobi fault reported in
    cupy#4847/pytorch#53040: info 0, values = sorted diagonal), matrix 2 reports no convergence
    (info > 0), matrix 3 returns NaN with info 0."""

    def jacobi(self, G, tol, max_sweeps):
        diag = np.sort(np.diagonal(G, axis1=1, axis2=2), axis=1)
        w, info = super().jacobi(G, tol, max_sweeps)
        G[:] = -1.0  # syevj destroys its input: the fallback must re-form the Gram
        w[1] = diag[1]
        info[2] = max_sweeps + 1
        w[2] = 0.0
        w[3, 0] = np.nan
        return w, info


def test_jacobi_failures_are_solved_again_by_syevd_from_a_fresh_gram(rng):
    mats = [rng.standard_normal((30, 6)).astype(np.float32) for _ in range(6)]
    rec = Failing()
    got = gb.grouped_values(np, [(a, False) for a in mats], solvers=rec)
    assert [e for e in rec.log if e[0] == "syevd"] == [("syevd", 6)] * 3  # matrices 1, 2, 3 only
    for a, v in zip(mats, got):
        w = ref.svdvals(a)
        assert (np.abs(v - w) <= 4 * 30 * U24 * w[0]).all()


def test_the_frobenius_check_passes_converged_values_of_hard_matrices(rng):
    # graded spectra over 12 decades and exactly rank-deficient Grams: no false alarm (no syevd)
    q = 32
    grams = []
    for k in range(8):
        u, _ = np.linalg.qr(rng.standard_normal((q, q)))
        lam = 10.0 ** -np.linspace(0, 12, q)
        lam[q - 4 * (k % 3):] = 0.0
        grams.append((u * lam) @ u.T)
    G = np.array([0.5 * (x + x.T) for x in grams])
    rec = Recording()
    w = gb.jacobi_checked(np, G.copy(), lambda k: G[k].copy(), rec)
    assert [e[0] for e in rec.log] == ["jacobi"]
    np.testing.assert_array_equal(w, np.linalg.eigvalsh(G))


def _cyclic_jacobi(A, tol, max_sweeps):
    """(ascending values, info) of symmetric A by the cyclic Jacobi method with syevj's stopping
    rule ‖off(A)‖_F ≤ tol·‖A‖_F (info = max_sweeps + 1 when it did not get there)."""
    A = A.copy()
    q, fro = A.shape[0], np.linalg.norm(A)

    def off():  # summed from the off-diagonal entries themselves (no cancellation)
        return np.sqrt(2.0 * np.sum(np.tril(A, -1) ** 2))

    for _ in range(max_sweeps):
        if off() <= tol * fro:
            return np.sort(np.diag(A)), 0
        for p in range(q - 1):
            for r in range(p + 1, q):
                if A[p, r] == 0.0:
                    continue
                with np.errstate(over="ignore"):  # τ = ±inf: t = 0, no rotation needed
                    tau = (A[r, r] - A[p, p]) / (2.0 * A[p, r])
                    t = (1.0 if tau >= 0 else -1.0) / (abs(tau) + np.hypot(1.0, tau))
                c = 1.0 / np.sqrt(1.0 + t * t)
                sn = t * c
                ap, ar = A[:, p].copy(), A[:, r].copy()
                A[:, p], A[:, r] = c * ap - sn * ar, sn * ap + c * ar
                ap, ar = A[p, :].copy(), A[r, :].copy()
                A[p, :], A[r, :] = c * ap - sn * ar, sn * ap + c * ar
    return np.sort(np.diag(A)), 0 if off() <= tol * fro else max_sweeps + 1


class Jacobi(Recording):
    """A real (slow) Jacobi solver in place of cuSOLVER's; ``tol``/``sweeps`` override the route's."""

    def __init__(self, tol=None, sweeps=None):
        super().__init__()
        self.tol, self.sweeps = tol, sweeps

    def jacobi(self, G, tol, max_sweeps):
        self.log.append(("jacobi", G.shape[0], G.shape[-1], tol, max_sweeps))
        tol = tol if self.tol is None else self.tol
        max_sweeps = max_sweeps if self.sweeps is None else self.sweeps
        out = [_cyclic_jacobi(x, tol, max_sweeps) for x in G]
        return np.array([w for w, _ in out]), np.array([i for _, i in out], dtype=np.int32)


def _graded_grams(rng, count, q):
    out = []
    for k in range(count):
        u, _ = np.linalg.qr(rng.standard_normal((q, q)))
        x = (u * 10.0 ** -np.linspace(0, 6 + k, q)) @ u.T
        out.append(0.5 * (x + x.T))
    return np.array(out)


def test_jacobi_at_the_route_tolerance_meets_the_contract_without_fallbacks(rng):
    # tol = sqrt(q)·u: every eigenvalue within c·q·u·λ_max of LAPACK's, no false alarm
    q = 12
    G = _graded_grams(rng, 6, q)
    rec = Jacobi()
    w = gb.jacobi_checked(np, G.copy(), lambda k: G[k].copy(), rec)
    assert [e[0] for e in rec.log] == ["jacobi"]
    want = np.linalg.eigvalsh(G)
    assert (np.abs(w - want) <= 4 * q * 2.0 ** -53 * want[:, -1:]).all()


def test_jacobi_that_stopped_early_is_caught(rng):
    # out of sweeps (info > 0), and a tolerance so loose that Jacobi stops after a sweep or two
    # and calls it converged (info 0, ‖off‖_F up to 0.3·‖G‖_F: caught by the Frobenius identity,
    # which sees ‖off‖_F² — it cannot see an ‖off‖_F of 1e-9, which is what info is for)
    q = 12
    G = _graded_grams(rng, 4, q)
    want = np.linalg.eigvalsh(G)
    for solver in (Jacobi(sweeps=1), Jacobi(tol=0.3)):
        w = gb.jacobi_checked(np, G.copy(), lambda k: G[k].copy(), solver)
        assert [e[0] for e in solver.log] == ["jacobi"] + ["syevd"] * 4
        np.testing.assert_array_equal(w, want)


def test_the_stacked_input_route_uses_the_size_classes(rng, monkeypatch):
    # svdvals' device route on a (b, m, n) stack, run with numpy: q ≤ 32 → checked Jacobi,
    # larger → the stacked eigvalsh; a budget splits the stack
    from gsa_fast import _gpu_spectra as gs
    rec = Recording()
    monkeypatch.setattr(gb, "solvers_for", lambda xp: rec)
    x = rng.standard_normal((5, 40, 20)).astype(np.float32)
    got = gs._values_stack(np, x, False, "gram")
    assert (np.abs(got - ref.svdvals(x)) <= 4 * 40 * U24 * ref.svdvals(x)[:, :1]).all()
    assert [e[:3] for e in rec.log] == [("jacobi", 5, 20)]
    monkeypatch.setattr(gb, "STACK_BYTES", 8 * 40 * 40 * 2)
    y = rng.standard_normal((5, 40, 60))
    np.testing.assert_allclose(gs._values_stack(np, y, False, "gram"), ref.svdvals(y), rtol=0,
                               atol=np.sqrt(60 * 2.0 ** -53) * ref.svdvals(y).max())
    assert [e[:3] for e in rec.log[1:]] == [("stack", 2, 40), ("stack", 2, 40), ("stack", 1, 40)]


def test_large_grams_go_one_per_call_in_auto(rng, monkeypatch):
    # above BATCH_MAX_Q, "auto" keeps the call the route made before grouping: a stack of one
    monkeypatch.setattr(gb, "BATCH_MAX_Q", 50)
    mats = _model(rng, 2)
    rec = Recording()
    got = gb.grouped_values(np, [(a, False) for a in mats], solvers=rec)
    assert rec.log == [("stack", 1, 64)] * 8 + [("jacobi", 4, 8, gb.jacobi_tol(8), gb.JACOBI_MAX_SWEEPS)]
    for a, v in zip(mats, got):
        w = ref.svdvals(a)
        assert (np.abs(v - w) <= 4 * max(a.shape) * U24 * w[0]).all()


class FailingStack(Recording):
    """cupy's stacked eigvalsh (syevjBatched, its info unreported) gone wrong: the first matrix of
    each call keeps its diagonal as its values, the second gets a NaN."""

    def stack(self, G):
        diag = np.sort(np.diagonal(G, axis1=1, axis2=2), axis=1)
        w = super().stack(G)
        G[:] = -1.0  # destroyed: the fallback must re-form the Gram
        w[0] = diag[0]
        if w.shape[0] > 1:
            w[1, 0] = np.nan
        return w


@pytest.mark.parametrize("batch_max_q", [512, 50])  # the stacked call, and one matrix per call
def test_auto_checks_the_stacked_eigvalsh_it_cannot_see_the_info_of(rng, monkeypatch, batch_max_q):
    # q = 64 > JACOBI_MAX_Q: "auto" hands the stack to the namespace's eigvalsh; a wrong result
    # there is caught by the Frobenius identity and solved again by syevd from a fresh Gram
    monkeypatch.setattr(gb, "BATCH_MAX_Q", batch_max_q)
    mats = [rng.standard_normal((64, 100)).astype(np.float32) for _ in range(4)]
    rec = FailingStack()
    got = gb.grouped_values(np, [(a, False) for a in mats], solvers=rec)
    redone = [e for e in rec.log if e[0] == "syevd"]
    assert redone == [("syevd", 64)] * (2 if batch_max_q == 512 else 4)
    for a, v in zip(mats, got):
        w = ref.svdvals(a)
        assert (np.abs(v - w) <= 4 * 100 * U24 * w[0]).all()


# ---- on the device ------------------------------------------------------------------------------

def test_grouped_route_on_the_device_meets_the_contract(cupy, rng):  # pragma: no cover - GPU only
    mats = _model(rng, 4)
    r = g.svdvals([cupy.asarray(a) for a in mats])
    for i, a in enumerate(mats):
        w = ref.svdvals(a)
        v = cupy.asnumpy(r.values[r.offsets[i]:r.offsets[i + 1]])
        assert (np.abs(v - w) <= 4 * max(a.shape) * U24 * w[0]).all(), i


@pytest.mark.parametrize("q", [4, 32, 64])
def test_checked_syevj_batched_on_the_device(cupy, rng, q):  # pragma: no cover - GPU only
    # cuSOLVER syevjBatched with tol = sqrt(q)·u: converged (info 0, no fallback) and within
    # c·q·u·λ_max of LAPACK's eigenvalues of the same float64 Grams (c = 16 covers both solvers'
    # rounding; q ≥ 8 in the bound so that tiny matrices are not held to a few ulps)
    a = rng.standard_normal((300, 2 * q, q)) * (np.arange(1, q + 1) ** -1.0)
    G = np.einsum("bij,bik->bjk", a, a)
    G = 0.5 * (G + G.transpose(0, 2, 1))
    solvers = gb.solvers_for(cupy)
    w, info = solvers.jacobi(cupy.asarray(G), gb.jacobi_tol(q), gb.JACOBI_MAX_SWEEPS)
    assert not cupy.asnumpy(info).any()
    want = np.linalg.eigvalsh(G)
    tol = 16 * max(q, 8) * 2.0 ** -53 * want[:, -1:]
    assert (np.abs(cupy.asnumpy(w) - want) <= tol).all()
    redone = []

    class Counting(gb.CupySolvers):
        def syevd(self, A):
            redone.append(A.shape)
            return super().syevd(A)

    got = gb.jacobi_checked(cupy, cupy.asarray(G), lambda k: cupy.asarray(G[k]), Counting(cupy))
    assert (np.abs(cupy.asnumpy(got) - want) <= tol).all()
    assert redone == []  # the Frobenius check raised no false alarm
