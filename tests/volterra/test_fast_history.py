"""The blocked FFT history equals the direct O(N^2) history to rounding."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.kernels import convolution
from integrallimits.volterra._fft import (LOCAL_BLOCK, add_block, add_local, block_workspace,
                                          kernel_transforms)


def _blocks(M, local):
    """The (source, target) pairs of the blocks c = 1 ... M (targets <= M), in the order they are
    added: every block (add_block), or, with ``local``, as the loops add them after source
    n = c - 1 (add_local, and add_block at the ends of the aligned local blocks)."""
    for c in range(1, M + 1):
        L = c & -c
        if local and c % LOCAL_BLOCK:
            n = c - 1   # the new source, to the later targets of its aligned local block
            yield c, [(n, j) for j in range(c, min((n | (LOCAL_BLOCK - 1)) + 1, M + 1))]
        else:
            yield c, [(l, j) for l in range(c - L, c) for j in range(c, min(c + L, M + 1))]


@pytest.mark.parametrize("M", [1, 2, 3, 7, 31, 32, 33, 64, 65, 100, 257])
@pytest.mark.parametrize("local", [False, True])
def test_block_scheme_covers_every_pair_once(M, local):
    """Every pair l < n <= M exactly once, and target n complete once the sources [0, n) are."""
    covered = {}
    for c, pairs in _blocks(M, local):
        for l, n in pairs:
            assert l < c <= n    # a source known when the block is added, a target not yet computed
            covered[(l, n)] = covered.get((l, n), 0) + 1
    assert set(covered) == {(l, n) for n in range(1, M + 1) for l in range(n)}
    assert set(covered.values()) == {1} if covered else True


@settings(max_examples=15)
@given(M=st.integers(2, 400), d=st.integers(1, 3), seed=st.integers(0, 2**31))
def test_toeplitz_accumulator_equals_direct_sum(M, d, seed):
    rng = np.random.default_rng(seed)
    Q, ns, nt = 3, 2, 2
    kseq = rng.standard_normal((Q, M, d, d))
    src = rng.standard_normal((ns, M, d))
    cs, ct = np.array([0, 1, 1]), np.array([1, 0, 1])
    khat, koff, tw = kernel_transforms(kseq, M)
    blocks, local = np.zeros((nt, M, d)), np.zeros((nt, M, d))
    work = block_workspace(koff, src, blocks)
    for c in range(1, M):      # every block by add_block; the loops' way, source by source
        add_block(c, kseq, khat, koff, src, blocks, cs, ct, tw, work)
        if c % LOCAL_BLOCK:
            add_local(c - 1, kseq, src, local, cs, ct)
        else:
            add_block(c, kseq, khat, koff, src, local, cs, ct, tw, work)
    ref = np.zeros_like(blocks)
    for q in range(Q):
        for n in range(M):
            for l in range(n):
                ref[ct[q], n] += kseq[q, n - l] @ src[cs[q], l]
    scale = max(1.0, np.max(np.abs(ref)))
    assert np.max(np.abs(blocks - ref)) <= 1e-12 * scale
    assert np.max(np.abs(local - ref)) <= 1e-12 * scale


def _scalar_lag(u, a, b, w):
    return a * np.exp(-b * u) * np.cos(w * u)


def _scalar_phi(s, y, a, b, w):
    return np.sin(y) + 0.5 * y


def _matrix_lag(u, M, b):
    return M * np.exp(-b * u)


def _matrix_phi(s, y, M, b):
    return np.tanh(y)


# One kernel and forcing per shape, built once: the random values travel in args= (compiled
# once, not once per example as closures over them would be; g(t) takes no args).
_RANDOM_PROBLEMS = {1: (convolution(_scalar_lag, _scalar_phi), lambda t: 1.0 + 0.3 * t),
                    2: (convolution(_matrix_lag, _matrix_phi), lambda t: np.array([1.0, np.cos(t)]))}


def _random_args(rng, d):
    a, b, w = rng.uniform(0.2, 1.5, size=3)
    return (a, b, w) if d == 1 else (rng.uniform(-1, 1, size=(d, d)), b)


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31), method=st.sampled_from(["trapezoid", "gregory6", "rk4", "radau2"]),
       n=st.sampled_from([45, 100, 300]), d=st.sampled_from([1, 2]))
def test_fast_history_equals_direct(seed, method, n, d):
    """Random nonlinear (matrix) convolution kernels, N not a power of two."""
    rng = np.random.default_rng(seed)
    (K, g), args = _RANDOM_PROBLEMS[d], _random_args(rng, d)
    fast = solve_volterra(K, g, (0.0, 1.0), n, method=method, fast_history=True, args=args)
    direct = solve_volterra(K, g, (0.0, 1.0), n, method=method, fast_history=False, args=args)
    assert fast.success and direct.success
    assert fast.stats["fast_history"] and not direct.stats["fast_history"]
    rel = np.max(np.abs(fast.y - direct.y)) / max(1.0, np.max(np.abs(direct.y)))
    assert rel <= 1e-12


def test_fast_history_reaches_the_fft_levels():
    """N = 600 > 4 * LOCAL_BLOCK, so FFT blocks are used; linear kernel, y = sin t."""
    assert 600 > 8 * LOCAL_BLOCK
    K = convolution(lambda u: np.exp(-u))
    g = lambda t: np.sin(t) - 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))  # noqa: E731
    sol = solve_volterra(K, g, (0.0, 1.0), 600, method="gregory4")
    assert sol.stats["fast_history"]
    assert np.max(np.abs(sol.y - np.sin(sol.t))) < 1e-12


def test_fast_history_true_refused_when_it_cannot_apply():
    with pytest.raises(ValueError, match="convolution"):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8, fast_history=True)


def test_fast_history_applies_for_large_n_not_a_power_of_two():
    """The mesh built from t_span is uniform for any N (rounding of t_n must not turn the
    fast history off); N = 2^k, whose last block has a single target, is exact too."""
    K = convolution(lambda u: np.exp(-u))
    g = lambda t: np.sin(t) - 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))  # noqa: E731
    for n in (100_003, 2 ** 14):
        sol = solve_volterra(K, g, (0.0, 1.0), n, method="trapezoid", fast_history=True)
        assert sol.stats["fast_history"] and sol.success
        assert np.max(np.abs(sol.y - np.sin(sol.t))) < 1e-9


def _decay(u):
    return np.exp(-u) * np.cos(2.0 * u)


def _decay_matrix(u):
    return np.array([[-np.exp(-u), 0.3], [0.2 * u, -0.5]])


# built once for all the methods (a kernel is compiled once per shape of y, whatever the method)
_DECAY, _DECAY_MATRIX = convolution(_decay), convolution(_decay_matrix)


@pytest.mark.parametrize("method", ["trapezoid", "gregory6", "gauss2", "radau3"])
def test_linear_convolution_steps_are_one_solve(method):
    """phi = y (linear): with the fast history an implicit step (or the stages of an interval)
    is one linear solve, without Newton iterations; the same values as Newton's to rounding."""
    for K, g in ((_DECAY, _RANDOM_PROBLEMS[1][1]), (_DECAY_MATRIX, _RANDOM_PROBLEMS[2][1])):
        fast = solve_volterra(K, g, (0.0, 1.0), 150, method=method, fast_history=True)
        direct = solve_volterra(K, g, (0.0, 1.0), 150, method=method, fast_history=False)
        assert fast.success and direct.success
        rel = np.max(np.abs(fast.y - direct.y)) / max(1.0, np.max(np.abs(direct.y)))
        assert rel <= 1e-13
        start = {"gregory6": 1}.get(method, 0)     # Gregory's block start keeps Newton
        assert fast.stats["newton_solves"] == 150 - (5 if start else 0) + start
        assert fast.stats["newton_iterations"] <= 20 * start


def test_companions_reuse_the_kernel_samples(monkeypatch):
    """The error estimate's companions (every other and every fourth point) take every r-th
    kernel sample of the solution's solve: k is sampled once, and the samples are the floats
    a fresh sampling gives (also for odd N, whose companion mesh drops the last point; the
    second companion that estimates an odd N's last value, on (N + 1)/2 steps of its own
    length, samples k on its own mesh, and so does the check of the start block on halved
    steps, _estimate._start_block_check: 2 M + 1 = 21 lags for gregory6)."""
    from integrallimits.kernels import as_kernel
    from integrallimits.volterra import _methods
    from integrallimits.volterra._estimate import coarse_mesh
    from integrallimits.volterra._mesh import make_mesh
    sampled = []
    real = _methods._lag_sequences
    monkeypatch.setattr(_methods, "_lag_sequences",
                        lambda kernel, lags, n: sampled.append(lags.size) or real(kernel, lags, n))
    K = convolution(lambda u: np.exp(-3.7 * u) * np.cos(u))
    for N in (200, 201):
        sampled.clear()
        sol = solve_volterra(K, lambda t: 1.0, (0.0, 2.0), N, method="gregory6")
        own = [21] + ([] if N % 2 == 0 else [(N + 1) // 2 + 1])
        assert sol.stats["error_estimate"] == "half-steps" and sampled == [N + 1] + own
    kernel = as_kernel(K, np.zeros(1), 0.0)
    for N, span in ((96, (0.0, 2.0)), (101, (0.3, 1.7)), (4097, (-1.0, 5.0))):
        t, samples = make_mesh(span, N, None, "t"), {}
        _methods._mesh_lags(kernel, N, (t[-1] - t[0]) / N, samples)
        for _ in range(2):
            t = coarse_mesh(t, True)[0]
            n, h = len(t) - 1, (t[-1] - t[0]) / (len(t) - 1)
            fresh = real(kernel, (np.arange(n + 1) * h)[None, :], 1)
            count = len(sampled)
            assert np.array_equal(_methods._mesh_lags(kernel, n, h, samples), fresh)
            assert len(sampled) == count   # (taken from the samples)
