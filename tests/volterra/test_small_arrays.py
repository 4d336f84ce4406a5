"""The per-call shortcuts on tiny arrays (issue 15) give the floats of the NumPy expressions
they replace: the first-step probe's trapezoid sums and tolerances, the spread of the
half-steps companion's estimates, the largest estimate, the running size of the unresolved
check, and g's finite check."""
import math
import warnings

import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.kernels import as_forcing
from integrallimits.volterra import _estimate, _loops, _tolerance
from integrallimits.volterra._solution import largest_estimate


@pytest.mark.parametrize("d", [1, 2, 3])
def test_probe_sums_are_numpys_matrix_product(d):
    """The probe's T_1, T_2, T_4 (Python floats) are the bits of h (W @ F) (NumPy)."""
    rng = np.random.default_rng(d)
    quarter = _tolerance.PANELS // 4
    for _ in range(2000):
        F = np.empty((_tolerance.PANELS + 1, d))
        F[:] = rng.normal(size=F.shape) * 10.0 ** rng.integers(-8, 8, size=F.shape)
        h = float(rng.uniform(1e-3, 10.0))
        expected = h * (_tolerance._PANEL_WEIGHTS[:3, ::quarter] @ F[::quarter])
        rows = F[::quarter].tolist()
        got = [[h * _tolerance._weighted_sum(w, rows, a) for a in range(d)]
               for w in _tolerance._PANEL_ROWS]
        assert np.array_equal(np.array(got), expected)


def test_float_maxima_propagate_nan_as_numpy():
    values = [0.5, 2.0, math.nan, 1.0]
    assert math.isnan(_tolerance._largest(values)) and math.isnan(np.max(values))
    assert _tolerance._largest([0.5, 2.0, 1.0]) == 2.0
    for a, b in [(1.0, 2.0), (2.0, 1.0), (math.nan, 1.0), (1.0, math.nan), (0.0, 0.0)]:
        got, want = _tolerance._maximum(a, b), float(np.maximum(a, b))
        assert got == want or (math.isnan(got) and math.isnan(want))
    assert _tolerance._components(1e-3, 2) == [1e-3, 1e-3]
    assert _tolerance._components(np.array([1e-3, 2e-3]), 2) == [1e-3, 2e-3]


@pytest.mark.parametrize("n_points, d", [(3, 1), (9, 1), (9, 2), (65, 3)])
def test_spread_every_other_is_the_general_spread(n_points, d):
    rng = np.random.default_rng(n_points)
    idx = np.arange(0, n_points, 2)
    common = np.abs(rng.normal(size=(len(idx), d)))
    fast = _estimate._spread(idx, common, n_points, d, every_other=True)
    general = _estimate._spread(idx, common, n_points, d)
    assert np.array_equal(fast, general)
    # uniform-only methods on an odd number of steps drop the last point: it takes the last
    idx = np.arange(0, n_points - 1, 2)
    common = np.abs(rng.normal(size=(len(idx), d)))
    assert np.array_equal(_estimate._spread(idx, common, n_points - 1 + 1, d, every_other=True),
                          _estimate._spread(idx, common, n_points, d))


def test_row_max_and_unresolved_check_of_one_column():
    Y = np.array([[1.0], [-3.0], [2.0], [np.nan], [1.0]])
    assert np.array_equal(_estimate._row_max(Y), Y[:, 0], equal_nan=True)
    idx = np.array([0, 2, 4])
    assert _estimate._first_unresolved(Y[:3], idx[:2], np.array([[0.1], [0.2]])) is None
    first, keep, worst, size = _estimate._first_unresolved(Y[:3], idx[:2],
                                                            np.array([[0.1], [2.0]]))
    assert (first, keep, worst, size) == (2, 1, 2.0, 3.0)
    # a NaN in the running size (from index 3 on) is not agreement
    assert _estimate._first_unresolved(Y, idx, np.array([[0.0], [0.0], [0.0]]))[0] == 4


@pytest.mark.parametrize("estimate, expected", [
    (np.array([[1e-3], [2e-3]]), 2e-3),
    (np.array([[1e-3], [np.nan], [5e-4]]), 1e-3),
    (np.array([[1e-3], [np.inf]]), 1e-3),
    (np.array([[-np.inf], [4e-4]]), 4e-4),
    (np.full((3, 1), np.nan), math.nan),
    (np.empty((0, 1)), math.nan),
])
def test_largest_estimate(estimate, expected):
    for repeat in (1, 30):      # (few entries as floats, more by NumPy)
        got = largest_estimate(np.tile(estimate, (repeat, 1)))
        assert got == expected or (math.isnan(got) and math.isnan(expected))


@pytest.mark.parametrize("n", [8, 64, 100])
def test_forcing_finite_check(n):
    """g's values are checked for finiteness (as floats on few points, by NumPy on more):
    large finite values pass without a warning, a non-finite one is refused at its time."""
    t = np.linspace(0.0, 1.0, n + 1)
    g_vec, _ = as_forcing(lambda s: 1.5e308 + 0.0 * s, 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(g_vec(t) == 1.5e308)
    t[n // 2] = 0.5
    with np.errstate(divide="ignore"):
        g_vec, _ = as_forcing(lambda s: 1.0 / (np.asarray(s) - 0.5), 0.0)
        with pytest.raises(ValueError, match="not finite at t = 0.5"):
            g_vec(t)


def test_scalar_forcing_values_as_floats_match_arrays():
    """A g returning a float, a NumPy float, a 0-d array or a one-element list gives the same
    solution (the point values are stored as floats at once where they are floats)."""
    def K(t, s, y):
        return -(t - s) * y

    forms = [lambda t: math.cos(t) if np.ndim(t) == 0 else np.cos(t),
             lambda t: np.cos(t),
             lambda t: np.asarray(np.cos(t)),
             lambda t: float(np.cos(t))]          # (not vectorising: point by point)
    ys = [solve_volterra(K, g, (0.0, 1.0), 16, "gregory4").y for g in forms]
    for y in ys[1:]:
        assert np.array_equal(y, ys[0])


@pytest.mark.parametrize("seed", range(4))
def test_half_steps_on_floats_is_spread_and_unresolved_check(seed):
    """The half-steps companion of a scalar solution on few points (Python floats) gives the
    bits of _over_crossings, _spread and _first_unresolved on arrays: the estimates, NaN and
    inf included, the last point of an even number of points, where the solution is not
    confirmed, and the estimates before the raise at sign changes (``unlifted``)."""
    rng = np.random.default_rng(seed)
    unresolved = lifts = 0
    for _ in range(1500):
        n = int(rng.integers(2, _estimate.FEW + 1))
        m = (n + 1) // 2
        Y = rng.normal(size=(n, 1)) * 10.0 ** rng.integers(-3, 3)
        Yc = Y[0:2 * m - 1:2] + rng.normal(size=(m, 1)) * 10.0 ** rng.integers(-8, 1)
        for A in (Y, Yc):
            if rng.random() < 0.2:
                A[rng.integers(0, A.shape[0]), 0] = rng.choice([np.nan, np.inf, -np.inf, 0.0])
        idx = np.arange(0, 2 * m - 1, 2)
        denominator = float(rng.choice([1.0, 3.0, 15.0, 0.7]))
        Yf = Y[:2 * m - 1:2]
        with np.errstate(invalid="ignore"):
            diff = np.abs(Yf - Yc)
            lifted = _estimate._over_crossings(diff / denominator, Yf - Yc)
            want = _estimate._finish(Y, idx, diff, _estimate._spread(idx, lifted, n, 1, True),
                                     "half-steps", 0)
            unlifted = _estimate._spread(idx, diff / denominator, n, 1, True)
        est, bad, got_unlifted = _estimate._half_steps_few(Y, Yf, Yc, denominator)
        got = _estimate._companion(est, bad, "half-steps", 0, n)
        assert got.estimate.shape == want.estimate.shape == (n, 1)
        assert got.estimate.tobytes() == want.estimate.tobytes()
        if got_unlifted is None:        # (no sign change of the difference)
            assert unlifted.tobytes() == want.estimate.tobytes()
        else:
            assert got_unlifted.tobytes() == unlifted.tobytes()
            lifts += 1
        assert (got.first_bad, got.keep, got.reason) == (want.first_bad, want.keep, want.reason)
        assert repr((got.disagreement, got.size)) == repr((want.disagreement, want.size))
        unresolved += want.first_bad is not None
    assert unresolved > 100        # (the check's failing branch is exercised)
    assert lifts > 100             # (and the estimates raised across a sign change)


def test_forcing_on_the_mesh_quietly_and_errstate_restored():
    """g called on the whole mesh runs with NumPy's floating-point warnings off (a g that is
    evaluated point by point after all must not leave warnings of its array call) and the
    caller's settings are back afterwards, also when g raises on arrays."""
    seen = []

    def g(t):
        if np.ndim(t):
            seen.append(np.geterr()["over"])
        return np.cos(t)

    def g_scalar_only(t):
        if np.ndim(t):
            raise TypeError("scalars only")
        return math.cos(t)

    t = np.linspace(0.0, 1.0, 17)
    with np.errstate(over="raise"):
        for forcing in (g, g_scalar_only):
            g_vec, _ = as_forcing(forcing, 0.0)
            assert np.array_equal(g_vec(t)[:, 0], np.cos(t))
            assert np.geterr()["over"] == "raise"
    assert seen == ["ignore"] * 3      # (the whole mesh, then its two halves: agrees_on_halves)


@pytest.mark.parametrize("value", [1, 0, 1.0, "no", np.int64(1)])
def test_flags_other_than_bools_still_refused(value):
    """The flags' usual values are taken at once; anything but None, True, False (or NumPy's
    bools) is still refused, ints included."""
    for flag in ("error_estimate", "fast_history", "raise_on_failure"):
        with pytest.raises(TypeError, match=f"{flag} must be True or False"):
            solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8, **{flag: value})
    sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8,
                         error_estimate=np.bool_(False), raise_on_failure=np.bool_(True))
    assert sol.success


def _noisy(rng, shape):
    """Random values of mixed scales, with a few NaN, inf and zeros."""
    A = rng.normal(size=shape) * 10.0 ** rng.integers(-3, 3)
    for _ in range(int(rng.integers(0, 3))):
        if rng.random() < 0.5:
            A[tuple(rng.integers(0, n) for n in shape)] = rng.choice([np.nan, np.inf, 0.0])
    return A


@pytest.mark.parametrize("seed", range(3))
def test_convergence_check_on_floats_is_numpys(seed):
    """_first_diverging of a scalar solution on few points (Python floats) gives NumPy's
    answer, which a solution of two equal components takes (the same row maxima): NaN, inf
    and growing differences included."""
    rng = np.random.default_rng(seed)
    found = 0
    for _ in range(1500):
        n = int(rng.integers(2, _estimate.FEW + 1))
        Y = _noisy(rng, (n, 1))
        common = np.sort(rng.choice(n, size=int(rng.integers(1, n + 1)), replace=False))
        k = len(common)
        # (each level's own noise: a NaN in one level alone, too)
        fine, middle, coarse = (Y[common] + _noisy(rng, (k, 1)) * 10.0 ** rng.integers(-8, 1)
                                for _ in range(3))
        with np.errstate(invalid="ignore"):
            want = _estimate._first_diverging(*(np.repeat(A, 2, axis=1) if A.ndim == 2 else A
                                                for A in (Y, common, fine, middle, coarse)))
            got = _estimate._first_diverging(Y, common, fine, middle, coarse)
        assert repr(got) == repr(want)
        found += want is not None
    assert found > 100          # (the failing branch is exercised)


@pytest.mark.parametrize("seed", range(2))
def test_observed_rate_on_floats_is_numpys(seed):
    """The observed rate of a scalar solution on few points (Python floats, NaN-propagating
    maxima) is NumPy's (a solution of two equal components); the rounding-level case too."""
    rng = np.random.default_rng(seed)
    kinds = set()
    for _ in range(1500):
        n = int(rng.integers(2, _estimate.FEW // 4))       # the coarse mesh's steps
        tc = np.linspace(0.0, 1.0, n + 1)
        Yc = _noisy(rng, (n + 1, 1))
        Yf = Yc + _noisy(rng, (n + 1, 1)) * 10.0 ** rng.integers(-17, 0)
        tq, iq = _estimate.coarse_mesh(tc, True)
        Yq = Yc[iq] + _noisy(rng, (len(iq), 1)) * 10.0 ** rng.integers(-8, 0)

        def rate(d):
            wide = (lambda A: np.repeat(A, d, axis=1))
            try:
                with np.errstate(invalid="ignore"):      # (inf - inf in NumPy's path)
                    return _estimate._observed_rate(lambda mesh: (wide(Yq), 0, 0, 0), tc,
                                                    wide(Yc), wide(Yf), True, 1)[:3]
            except ZeroDivisionError:  # (D1 = 0 where the size is NaN, both ways alike)
                return "D1 = 0"

        got = rate(1)
        assert repr(got) == repr(rate(2))
        kinds.add(got if type(got) is str else "inf" if got[0] == math.inf else
                  "nan" if math.isnan(got[0]) else "finite")
    assert kinds >= {"inf", "nan", "finite"}
    assert math.isnan(_estimate._largest_difference([1.0, math.nan, 3.0], [0.0, 0.0, 0.0]))
    assert _estimate._largest_difference([1.0, -4.0], None) == 4.0


@pytest.mark.parametrize("seed", range(2))
def test_confirmed_digits_on_floats_is_numpys(seed):
    """with_confirmed_digits of a scalar solution on few points (Python floats) fails at the
    point, with the message, of NumPy's check (a solution of two equal components)."""
    from integrallimits.volterra._solution import Solution
    rng = np.random.default_rng(seed)
    failed = 0
    for _ in range(600):
        n = int(rng.integers(2, _estimate.FEW + 1))
        t = np.linspace(0.0, 1.0, n)
        Y = _noisy(rng, (n, 1))
        est = np.abs(_noisy(rng, (n, 1))) * 10.0 ** rng.integers(-6, 1)
        out = []
        for d in (1, 2):
            sol = Solution(t, np.repeat(Y, d, axis=1), scalar=False, status=0, message="ok",
                           stats={}, method="trapezoid", order=2,
                           error_estimate=np.repeat(est, d, axis=1))
            with np.errstate(invalid="ignore"):
                checked = _tolerance.with_confirmed_digits(sol)
            out.append((checked is sol, checked.status, len(checked.mesh), checked.message))
        assert out[0] == out[1]
        failed += out[0][0] is False
    assert failed > 50


@pytest.mark.parametrize("name", ["rk4", "gauss1", "gauss2", "gauss4", "radau2", "radau3",
                                  "radau4"])
def test_stage_times_are_numpys(name):
    """The times a Runge-Kutta solve takes g at, made from Python floats on a few stage times
    (``_methods._FEW_STAGE_TIMES``) and with NumPy beyond, are the bits of the NumPy expression
    t_n + c_i h_n (t[:-1, None] + h[:, None] * c) after the mesh, on uneven meshes."""
    from integrallimits.kernels import as_kernel
    from integrallimits.volterra._methods import METHODS, _FEW_STAGE_TIMES
    meth = METHODS[name]
    c = meth.tableau.c
    kernel = as_kernel(_decay, np.float64(1.0), 0.0)
    rng = np.random.default_rng(len(name))
    few = 0
    for n_steps in [1, 2, 3, 5, 6, 8, 12, 24, 40]:
        for _ in range(5):
            t = np.concatenate(([0.0], np.cumsum(rng.uniform(0.01, 1.0, n_steps)))) * \
                float(rng.uniform(0.1, 30.0)) + float(rng.uniform(-5.0, 5.0))
            seen = []

            def g_vec(times):
                seen.append(np.array(times, dtype=float))
                return np.ones((len(times), 1))
            meth.solve(kernel, g_vec, t, 1e-12, 50)
            h = t[1:] - t[:-1]
            expected = np.concatenate((t, (t[:-1, None] + h[:, None] * c).ravel()))
            assert seen[0].tobytes() == expected.tobytes()
            few += n_steps * len(c) <= _FEW_STAGE_TIMES
    assert few >= 10     # (the floats' path taken, and NumPy's on the larger meshes)


def _decay(t, s, y):
    return -y


def test_shares_ends_is_numpys_finite_check():
    """_shares_ends on a few values (Python floats) and on many (NumPy) says whether Y and t
    are all finite, as np.isfinite does (inf, -inf and NaN anywhere in either)."""
    from integrallimits.volterra._adaptive import _shares_ends
    rng = np.random.default_rng(3)
    for n, d in [(3, 1), (9, 1), (9, 3), (40, 2), (100, 1)]:
        for _ in range(40):
            Y = rng.normal(size=(n, d)) * 10.0 ** rng.integers(-300, 300, size=(n, d))
            t = np.cumsum(rng.uniform(0.1, 1.0, n))
            for a in (Y, t):
                if rng.random() < 0.6:
                    a.reshape(-1)[rng.integers(a.size)] = rng.choice([np.inf, -np.inf, np.nan])
            expected = bool(np.isfinite(Y).all()) and bool(np.isfinite(t).all())
            assert _shares_ends(Y, t) is expected


def _is_uniform_numpy(t):
    """The NumPy expression of ``_mesh.is_uniform`` before its float path."""
    n = len(t) - 1
    h = (t[-1] - t[0]) / n
    scale = max(abs(t[0]), abs(t[-1]))
    return bool(np.max(np.abs(np.diff(t) - h)) <= 8 * np.finfo(float).eps * (scale + n * abs(h)))


def test_is_uniform_is_numpys():
    """is_uniform on a few points (Python floats) and on many (NumPy) answers as the NumPy
    expression: uniform meshes made either way, ones a few ulp or more off, random ones, and
    a NaN or an infinity (which the maximum of NumPy propagates: [0, 1, inf] is not uniform,
    though its largest finite miss is within the bound)."""
    from integrallimits.volterra._mesh import is_uniform
    assert is_uniform(np.array([0.0, 1.0, np.inf])) is False
    assert is_uniform(np.array([0.0, np.nan, 2.0])) is False
    rng = np.random.default_rng(4)
    answers = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)   # (NumPy's inf - inf)
        for _ in range(20000):
            n = int(rng.integers(1, 60))
            a = float(rng.uniform(-1e3, 1e3)) * 10.0 ** int(rng.integers(-5, 5))
            b = float(rng.uniform(1e-3, 1e3)) * 10.0 ** int(rng.integers(-5, 5))
            kind = int(rng.integers(4))
            t = (np.linspace(a, a + b, n + 1) if kind == 0 else a + np.arange(n + 1) * b / n
                 if kind == 1 else np.sort(rng.uniform(a, a + b, n + 1)))
            if kind == 3:   # (a uniform mesh, one point moved by 1e-17 to 1e-11 of its size)
                t = np.linspace(a, a + b, n + 1)
                t[rng.integers(n + 1)] += float(rng.normal()) * 10.0 ** int(
                    rng.integers(-17, -10)) * float(np.abs(t).max())
            if rng.random() < 0.05:
                t[rng.integers(n + 1)] = rng.choice([np.inf, -np.inf, np.nan])
            if rng.random() < 0.2:
                t = np.repeat(t, 2)[::2]      # (a strided view)
            got = is_uniform(t)
            assert got is _is_uniform_numpy(t)
            answers.add((got, n <= 24))
    assert answers == {(True, True), (False, True), (True, False), (False, False)}


def test_is_uniform_of_other_dtypes_is_numpys():
    """is_uniform on many points of integers or float32 (its subtraction in place is for
    float64 only) answers as the NumPy expression."""
    from integrallimits.volterra._mesh import is_uniform
    for t in (np.arange(0, 300, 3), np.array([0, 1, 2] * 20).cumsum(),
              np.linspace(0.0, 1.0, 100, dtype=np.float32),
              np.linspace(0.0, 1.0, 100, dtype=np.float32) ** 2):
        assert is_uniform(t) is _is_uniform_numpy(t)


@pytest.mark.parametrize("seed", range(2))
def test_rounding_floor_on_floats_is_numpys(seed):
    """with_rounding_floor of a scalar solution on few points (Python floats) raises the same
    estimates to the same floats as NumPy's check, which a solution of two equal components
    takes (NaN and inf in the solution and the estimates included), and leaves the same ones
    as they are."""
    from types import SimpleNamespace

    from integrallimits.volterra._outcome import with_rounding_floor
    rng = np.random.default_rng(seed)
    raised = kept = 0
    for _ in range(1500):
        n = int(rng.integers(2, _estimate.FEW + 1))
        Y = _noisy(rng, (n, 1))
        floor = _estimate.rounding_floor(np.abs(Y))
        with np.errstate(invalid="ignore", over="ignore"):
            est = floor * 10.0 ** rng.uniform(0.0, 2.0, size=(n, 1))
            i = rng.integers(0, n)
            if rng.random() < 0.3:      # (one below its floor)
                est[i, 0] *= 10.0 ** rng.choice([-2.0, -0.5, -1e-9])
            elif rng.random() < 0.3:    # (one at it: not raised)
                est[i, 0] = floor[i, 0]
        if rng.random() < 0.2:
            est[rng.integers(0, n), 0] = rng.choice([np.nan, np.inf, 0.0])
        out = []
        for d in (1, 2):
            sol = SimpleNamespace(_est2=np.repeat(est, d, axis=1), _y2=np.repeat(Y, d, axis=1),
                                  stats={})
            with np.errstate(invalid="ignore"):
                checked = with_rounding_floor(sol)
            assert checked is sol
            out.append((sol._est2[:, :1].tobytes(), repr(sol.stats)))
        assert out[0] == out[1]
        raised += out[0][1] != "{}"
        kept += out[0][1] == "{}"
    assert raised > 100 and kept > 100      # (both branches exercised)


def test_may_grow_over_on_floats_is_numpys():
    """The data check's bound on the growth of a step's defect, on few values as floats, is
    NumPy's (NaN, inf and zeros in the solution, a NaN or zero ratio included)."""
    from integrallimits.volterra._adaptive import ROUGH_GROWN, _may_grow_over

    def numpys(top, Y):
        if not top > 0.0:
            return False
        first = float(np.max(np.abs(Y[:2])))
        return not (first > 0.0 and top * float(np.max(np.abs(Y))) <= ROUGH_GROWN * first)

    rng = np.random.default_rng(7)
    answers = set()
    for _ in range(20000):
        d = int(rng.integers(1, 3))
        Y = _noisy(rng, (int(rng.integers(1, 64 // d + 1)), d))
        top = float(rng.choice([0.0, np.nan, 1.0])) * 10.0 ** float(rng.uniform(-3, 3))
        got = _may_grow_over(top, Y)
        assert got is numpys(top, Y)
        answers.add(got)
    assert answers == {True, False}


def test_scalar_forcing_point_by_point_is_each_call():
    """A scalar g that is not written for arrays (or on a few times) is taken point by point:
    the values of its calls, one per time, as floats; an error names its time."""
    calls = []

    def g(t):
        calls.append(t)
        return math.exp(-2.0 * t) if t < 0.9 else 1 / 0

    g_vec, y0 = as_forcing(g, 0.0)
    times = np.array([0.0, 0.125, 0.25, 0.375, 0.5])
    values = g_vec(times, keep=False)
    assert values.shape == (5, 1) and values.dtype == np.float64
    assert values[:, 0].tolist() == [math.exp(-2.0 * t) for t in times.tolist()]
    assert all(type(t) is float for t in calls)
    with pytest.raises(ZeroDivisionError, match="t = 0.95"):
        g_vec(np.array([0.0, 0.5, 0.95]), keep=False)


@pytest.mark.parametrize("seed", range(4))
def test_nearer_branch_check_on_floats_is_numpys(seed):
    """A shifted companion's check of a scalar solution of a few values (_resolved_few, floats)
    says what _first_unresolved (NumPy) says: with NaN, inf, a zero start and companions that
    differ by more than half the size so far somewhere."""
    rng = np.random.default_rng(seed)
    answers = set()
    for case in range(500):
        n = int(rng.integers(2, _estimate.FEW + 1))
        Y = rng.normal(size=(n, 1)) * 10.0 ** rng.integers(-3, 3)
        common = np.unique(np.concatenate(([0], rng.integers(0, n, size=n // 3 + 1))))
        Ys = Y[common] + rng.normal(size=(len(common), 1)) * 10.0 ** rng.integers(-8, 1)
        if case % 6 == 1:
            Y[rng.integers(n)] = math.nan
        elif case % 6 == 2:
            Ys[rng.integers(len(common))] = math.inf
        elif case % 6 == 3:
            Y[0] = 0.0
        elif case % 6 == 4:
            Ys[rng.integers(len(common))] = math.nan
        want = _estimate._first_unresolved(Y, common, np.abs(Y[common] - Ys)) is None
        got = _estimate._resolved_few(Y[:, 0].tolist(), common, Ys[:, 0].tolist())
        assert got == want, case
        answers.add(got)
    assert answers == {True, False}


def test_estimates_scale_on_floats_is_numpys():
    """The aliasing probe's scale of a scalar solution of a few values (floats) has the bits
    of :func:`_adaptive._estimates_scale`'s NumPy maxima, NaN and inf in Y included; a
    non-finite estimate, a vector solution or many values go through NumPy."""
    from integrallimits.volterra import _adaptive
    rng = np.random.default_rng(5)
    for trial in range(3000):
        n = int(rng.integers(2, 80))
        d = 1 if trial % 10 else 2
        Y = rng.normal(size=(n, d)) * 10.0 ** int(rng.integers(-300, 300))
        E = np.abs(rng.normal(size=(n, d))) * 10.0 ** int(rng.integers(-320, 10))
        if trial % 7 == 0:
            E[:] = 0.0
        if trial % 11 == 0:
            Y[rng.integers(n), 0] = np.nan
        if trial % 13 == 0:
            Y[:] = 0.0
        if trial % 17 == 0:
            Y[rng.integers(n), 0] = np.inf
        if trial % 19 == 0:
            E[rng.integers(n), 0] = np.nan
        want = _adaptive._estimates_scale(E, Y)
        got = _adaptive._estimates_scale_few(E, Y)
        assert got.shape == want.shape and got.tobytes() == want.tobytes()


@pytest.mark.parametrize("seed", range(3))
def test_none_over_size_only_where_the_running_size_has_none(seed):
    """none_over_size, the shortcut of the checks of long solutions against half their size so
    far (issue 15: no running maximum, 0.2 ms at N = 2^16, where no value exceeds the bound at
    its own point), says True only where no value exceeds factor times running_size (NaN and
    inf in the values and the solution included), and says it in most cases that have none."""
    rng = np.random.default_rng(seed)
    shown = none = 0
    for _ in range(400):
        n, d = int(rng.integers(2, 300)), int(rng.integers(1, 4))
        Y = _noisy(rng, (n, d))
        values = np.abs(_noisy(rng, (n,))) * 10.0 ** rng.integers(-9, 1)
        with np.errstate(invalid="ignore"):
            full = not np.any(values > 0.5 * _estimate.running_size(Y))
        said = _estimate.none_over_size(values, Y, 0.5)
        assert full or not said
        shown += said
        none += full
    assert none > 100 and shown > none / 2


@pytest.mark.parametrize("seed", range(2))
def test_confirmed_digits_of_long_solutions_is_the_running_size_check(seed):
    """with_confirmed_digits and with_measured_between of solutions on more than FEW points
    (where none_over_size decides first) fail, or leave the solution, as the comparison of
    each estimate with half the running size says: the first point over it, or none."""
    from integrallimits.volterra._outcome import with_measured_between
    from integrallimits.volterra._solution import Solution
    rng = np.random.default_rng(seed)
    failed = 0
    for _ in range(200):
        n, d = int(rng.integers(_estimate.FEW + 1, 400)), int(rng.integers(1, 3))
        t = np.linspace(0.0, 1.0, n)
        Y = _noisy(rng, (n, d))
        est = np.abs(rng.normal(size=(n, d))) * 10.0 ** rng.integers(-9, 1)

        def solution(t=t, Y=Y, est=est):
            return Solution(t, Y.copy(), scalar=False, status=0, message="ok",
                            stats={"estimate_order": 2.0}, method="trapezoid", order=2,
                            error_estimate=est.copy())
        with np.errstate(invalid="ignore"):
            over = np.max(est, axis=1) > 0.5 * _estimate.running_size(Y)
            checked = _tolerance.with_confirmed_digits(solution())
        if over.any():
            assert len(checked.mesh) == max(1, int(np.argmax(over))) and not checked.success
            failed += 1
        else:
            assert checked.success and len(checked.mesh) == n
        if not over.any() and np.isfinite(Y).all():   # (nothing to measure: left as it is)
            sol = solution()
            assert with_measured_between(sol, None, 2) is sol
            assert np.array_equal(sol.error_estimate, est.reshape(sol.error_estimate.shape))
    assert 20 < failed < 180


@pytest.mark.parametrize("seed", range(3))
def test_checks_against_the_sizes_first_are_the_running_size_checks(seed):
    """_first_unresolved and _first_diverging given the sizes of each point (_Sizes: their
    running maximum made only where the sizes do not show the answer, issue 15) answer as with
    the running size itself, on solutions without NaN (estimate_error gives _Sizes only
    there), with inf, zeros, growing and diverging differences; both answers occur."""
    rng = np.random.default_rng(seed)
    found = made = 0
    for _ in range(300):
        n, d = int(rng.integers(_estimate.FEW + 1, 300)), int(rng.integers(1, 3))
        Y = _noisy(rng, (n, d))
        Y[np.isnan(Y)] = 0.0
        rows = _estimate._row_max(np.abs(Y))
        common = np.arange(0, n, 2)
        scale = 10.0 ** rng.integers(-12, 1)
        diff = np.abs(_noisy(rng, (len(common), d))) * scale
        sizes = _estimate._Sizes(rows)
        expected = _estimate._first_unresolved(Y, common, diff, _estimate._running_size(Y))
        # (repr: the same floats, NaN included)
        assert repr(_estimate._first_unresolved(Y, common, diff, sizes)) == repr(expected)
        q = common[::2]
        fine, middle = _noisy(rng, (len(q), d)), _noisy(rng, (len(q), d))
        with np.errstate(invalid="ignore"):
            coarse = middle + _noisy(rng, (len(q), d)) * scale
            sizes = _estimate._Sizes(rows)
            expected_d = _estimate._first_diverging(Y, q, fine, middle, coarse,
                                                    size=_estimate._running_size(Y))
            assert repr(_estimate._first_diverging(Y, q, fine, middle, coarse, size=sizes)) == \
                repr(expected_d)
        found += (expected is not None) + (expected_d is not None)
        made += sizes._running is None
    assert 50 < found < 550 and made > 50


def _squared(t, s, y):
    return np.exp(-(t - s)) * y * y


def _dispatcher_calls(monkeypatch):
    """The names of the compiled loops taken from their dispatchers from now on (a list)."""
    from integrallimits.volterra import _loops
    calls = []
    compiled_loop = _loops.compiled_loop

    def counted(loop_name):
        calls.append(loop_name)
        return compiled_loop(loop_name)
    monkeypatch.setattr(_loops, "compiled_loop", counted)
    return calls


@pytest.mark.parametrize("name", ["trapezoid", "gregory4", "rectangle", "gauss2", "radau3",
                                  "rk4"])
def test_solve_calls_its_loops_through_their_entry_points(name, monkeypatch):
    """A solve on a mesh of its own (float64, C-contiguous) calls its compiled loops, and its
    companions', through their entry points: not through the dispatcher, whose matching of the
    17 argument types cost ~2.5 us a call, 6 to 12 calls a solve on 8 steps."""
    solve_volterra(_squared, lambda t: math.exp(-2.0 * t), (0.0, 1.0), 8, method=name)
    calls = _dispatcher_calls(monkeypatch)
    sol = solve_volterra(_squared, lambda t: math.exp(-2.0 * t), (0.0, 1.0), 8, method=name)
    assert sol.success and calls == []


@pytest.mark.parametrize("name", ["gregory6", "trapezoid", "gauss3", "radau3"])
def test_fast_history_solve_calls_its_loops_through_their_entry_points(name, monkeypatch):
    """So does a solve with the fast (FFT) history of a convolution kernel (voles' quick-start
    problem), whose loops take the kernel's transforms too."""
    from integrallimits.kernels import convolution
    kernel = convolution(lambda u: math.exp(-u))

    def g(t):
        return np.sin(t) - (np.sin(t) - np.cos(t) + np.exp(-t)) / 2.0
    before = solve_volterra(kernel, g, (0.0, 2.0), 16, method=name)
    calls = _dispatcher_calls(monkeypatch)
    sol = solve_volterra(kernel, g, (0.0, 2.0), 16, method=name)
    assert sol.success and sol.stats["fast_history"] and calls == []
    assert sol.y.tobytes() == before.y.tobytes()


def _loop_arguments(name, rng, n_steps):
    """The arguments of the compiled loop ``name`` ("direct", "start" or "vrk") for K = -y on a
    random uneven mesh, g random: (method, arguments, the arrays it writes)."""
    from integrallimits.kernels import as_kernel
    from integrallimits.volterra import _loops
    from integrallimits.volterra._methods import METHODS, _kernel_args
    meth = METHODS["gregory4" if name == "start" else "gauss2" if name == "vrk" else "trapezoid"]
    kernel = as_kernel(_decay, np.float64(1.0), 0.0)
    t = np.concatenate(([0.0], np.cumsum(rng.uniform(0.05, 0.2, n_steps))))
    G = rng.normal(size=(n_steps + 1, 1))
    Y = np.zeros_like(G)
    K, jac, have, B, theta = _kernel_args(kernel, True, block_sum=True)
    if name == "vrk":
        m = meth.stages
        Gs, Z, counts = rng.normal(size=(n_steps * m, 1)), np.zeros((n_steps * m, 1)), \
            _loops.new_counts(5)
        return (K, jac, have, B, theta, t, G, Gs, Y, Z, *meth._data, meth.tableau.explicit,
                1e-12, 50, counts), (Y, Z, counts)
    counts = _loops.new_counts(4)
    if name == "start":
        return (K, jac, have, theta, t, G, Y, meth._data[0], 1e-12, 50, counts), (Y, counts)
    return (K, jac, have, B, theta, t, G, Y, *meth._data, 1e-12, 50, counts), (Y, counts)


@pytest.mark.parametrize("name", ["direct", "start", "vrk"])
def test_loop_entry_point_is_the_dispatchers_code(name):
    """:func:`_loops.loop_entry` runs the dispatcher's one compiled signature: the same values,
    status and counts, bit for bit."""
    from integrallimits.volterra import _loops
    for seed in range(5):
        results = []
        for loop in (_loops.compiled_loop(name), _loops.loop_entry(name)):
            arguments, written = _loop_arguments(name, np.random.default_rng(seed), 6 + seed)
            status = loop(*arguments)
            results.append((tuple(status), [a.tobytes() for a in written]))
        assert results[0] == results[1]


def test_loop_entry_only_for_float64_contiguous_meshes():
    """The entry point, which checks no array's type, only for a mesh that is a writeable
    float64 C-contiguous vector; other meshes get the dispatcher, which refuses what its signature
    does not take (a TypeError, not a misread array)."""
    from integrallimits.volterra import _loops
    from integrallimits.volterra._methods import _loop
    t = np.linspace(0.0, 1.0, 17)
    assert _loop("vrk", t) is _loops.loop_entry("vrk")
    read_only = t.copy()
    read_only.setflags(write=False)
    for other in (t[::2], t.astype(np.float32), t.reshape(1, -1), list(t), read_only):
        assert _loop("vrk", other) is _loops.compiled_loop("vrk")
    arguments, _ = _loop_arguments("vrk", np.random.default_rng(0), 8)
    strided = np.linspace(0.0, 1.0, 17)[::2]
    with pytest.raises(TypeError):
        _loop("vrk", strided)(*arguments[:5], strided, *arguments[6:])


def test_alias_steps_remembered_read_only():
    """The aliasing probe's steps, remembered by N, are the middles of its m blocks, and
    read-only (shared by the solves of that N)."""
    from integrallimits.volterra import _adaptive
    for n in [1, 2, 3, 4, 5, 8, 9, 16, 33, 64, 100, 1000, 5000]:
        steps, m = _adaptive._alias_steps(n)
        want_m = min(n, max(_adaptive.ALIAS_STEPS,
                            int(math.ceil(_adaptive.ALIAS_DENSITY * math.sqrt(n)))))
        assert m == want_m and np.array_equal(steps, (2 * np.arange(m) + 1) * n // (2 * m))
        assert not steps.flags.writeable
        assert _adaptive._alias_steps(n)[0] is steps or n > 4096


def test_oscillating_between_on_floats_is_numpys():
    """_oscillating_between's steps on a few values (floats) are those of its NumPy
    expression, NaN included (a NaN ratio is neither over 1 nor over ALIAS_FACTOR times)."""
    from types import SimpleNamespace

    from integrallimits.volterra import _adaptive
    rng = np.random.default_rng(11)
    taken = 0
    for trial in range(3000):
        n = int(rng.integers(1, 40))
        r = np.abs(rng.normal(size=n)) * 10.0 ** rng.integers(-1, 3, size=n)
        on = np.abs(rng.normal(size=n)) * 10.0 ** rng.integers(0, 3, size=n)
        of_g = rng.uniform(size=n) < 0.7
        for a in (r, on):
            if trial % 5 == 0:
                a[rng.integers(n)] = np.nan
        seen = []

        def between(which):
            seen.append(np.asarray(which))
            return np.zeros(len(which), dtype=bool), 0
        sol = SimpleNamespace(stats={"nfev": 0, "error_estimate_nfev": 0})
        _adaptive._oscillating_between(sol, (r, None, None, of_g, None, between), on)
        want = np.flatnonzero(of_g & (r > 1.0) & (on > _adaptive.ROUGH_FIXED) &
                              ~(r > _adaptive.ALIAS_FACTOR * on))
        got = seen[0] if seen else np.zeros(0, dtype=np.intp)
        assert np.array_equal(got, want) and (not seen or got.dtype == want.dtype)
        taken += len(want) > 0
    assert taken > 100


def test_rate_jacobian_probe_keeps_only_its_last_floor():
    """The probe of the rounding floor keeps the steps' floor of the last y(t0) it was given:
    its Jacobians are those of steps from each call's own y0 (floors 1, 2^-3 and 2^-20; a
    y0 of ints, and one met before), as :func:`_tolerance._shifted_rows` makes them."""
    from integrallimits.kernels import as_kernel
    kernel = as_kernel(lambda t, s, y: np.array([y[0] * y[1] + t, np.sin(y[0]) * y[1] ** 3]),
                       np.array([1.0, 0.5]), 0.0)
    probe = _tolerance.rate_jacobian_probe(kernel)

    def direct(t, y, y0):
        steps, rows = _tolerance._shifted_rows(y, y0)
        K = _tolerance._evaluator(kernel, rows)
        return _tolerance._forward_jacobian(steps, [K(t, t, j) for j in range(len(y) + 1)])

    for y0 in ([1.0, 0.5], [0.1, 0.05], [0.1, 0.05], [1e-6, 3e-7], [3, 1], [0.1, 0.05],
               [1e-6, 3e-7]):
        for t, y in ((0.25, [0.3, 1e-6]), (1.0, [2.0, -0.7])):
            J, evaluations = probe(t, y, y0)
            assert evaluations == 3
            assert J == direct(t, y, y0)


def test_growth_probes_counted_where_the_float_check_answers():
    """A scalar solve on few points whose rate grows at t0 but not over its span (the probes
    at every mesh point after t0 find it falling) is checked on floats after the probes: the
    estimates NumPy's floor raises are raised alike, and the probes' evaluations are counted
    either way."""
    from types import SimpleNamespace

    from integrallimits.volterra._outcome import PROBES, with_rounding_floor
    rng = np.random.default_rng(5)
    calls = []

    def probe(t, y, y0):
        calls.append(t)
        return [[0.1]], 2

    for n in (3, 9, 40):
        for below in (False, True):
            Y = 1.0 + rng.uniform(0.0, 1.0, size=(n, 1))
            floor = _estimate.rounding_floor(Y)
            est = floor * 4.0
            if below:
                est[n // 2, 0] = floor[n // 2, 0] / 8.0
            sol = SimpleNamespace(_est2=est.copy(), _y2=Y, mesh=np.linspace(0.0, 1.0, n),
                                  _rate_jacobian=[[2.0]], stats={"nfev": 10})
            calls.clear()
            assert with_rounding_floor(sol, probe) is sol
            probes = min(n - 1, PROBES)     # (every point after t0, at most PROBES)
            assert len(calls) == probes and sol.stats["nfev"] == 10 + 2 * probes
            expected = est.copy()
            np.fmax(expected[1:], floor[1:], out=expected[1:])
            assert sol._est2.tobytes() == expected.tobytes()
            assert ("max_error_estimate" in sol.stats) is below


def _general_probe(kernel, t, y, y0):
    """The rounding floor's probe as it is for every d (the scalar one on floats is this)."""
    from integrallimits.kernels import _user
    steps, rows = _tolerance._shifted_rows(y, y0)
    K = _tolerance._evaluator(kernel, rows)
    _user.clear_failures()
    try:
        values = [K(t, t, j) for j in range(len(y) + 1)]
    except Exception as exc:  # noqa: BLE001
        if not _user.raised_by_user(exc):
            raise
        return None, len(y) + 1
    finally:
        failed = _user.take_failure() is not None
    J = _tolerance._forward_jacobian(steps, values)
    if failed or not all(math.isfinite(v) for row in J for v in row):
        return None, len(y) + 1
    return J, len(y) + 1


def _failing_above_5(t, s, y):
    if y > 5.0:
        raise ValueError("y > 5")
    return y * y


@pytest.mark.parametrize("which", ["smooth", "log", "raises"])
def test_scalar_probe_is_the_general_probe(which):
    """The probe of a scalar y on floats (:func:`_tolerance._scalar_probe`) returns the general
    probe's Jacobian to the bit, None where the kernel is not finite or raises there, and the
    same count of evaluations."""
    from integrallimits.kernels import as_kernel
    function = {"smooth": lambda t, s, y: np.exp(-(t - s)) * y * y + np.sin(t * y),
                "log": lambda t, s, y: np.log(y) * t,
                "raises": _failing_above_5}[which]
    kernel = as_kernel(function, 1.0, 0.0)
    probe = _tolerance.rate_jacobian_probe(kernel)
    found = set()
    for y0 in ([1.0], [0.3], [1e-7], [-2.0]):
        for t, y in ((0.5, 0.7), (1.0, -1.5), (0.25, 1e-9), (2.0, 6.0), (0.0, 0.0),
                     (3.0, -1e5)):
            got = probe(t, [y], y0)
            assert got == _general_probe(kernel, t, [y], y0)
            found.add(got[0] is None)
    assert found == ({False} if which == "smooth" else {False, True})


def _bits(values):
    return [None if v is None else float(v).hex() for v in values]


@pytest.mark.parametrize("which", ["smooth", "log", "raises"])
def test_scalar_rates_in_one_call_are_the_probes(which):
    """The rounding floor's rates of a scalar y at many points in one compiled call
    (``probe.scalar_rates``, :func:`_tolerance._scalar_rates_compiled`) and in one Python
    pass (:func:`_tolerance._scalar_rates_at`) are the general probe's dK/dy at each point to
    the bit, from lists or arrays; every one None where the probe fails at any point (not
    finite, or the kernel raises: the floor drops them all then); 2 evaluations a point."""
    from integrallimits.kernels import as_kernel
    function = {"smooth": lambda t, s, y: np.exp(-(t - s)) * y * y + np.sin(t * y),
                "log": lambda t, s, y: np.log(y) * t,
                "raises": _failing_above_5}[which]
    kernel = as_kernel(function, 1.0, 0.0)
    probe = _tolerance.rate_jacobian_probe(kernel)
    rng = np.random.default_rng(7)
    found = set()
    for y0 in ([1.0], [0.3], [1e-7], [-2.0]):
        for points in ([(0.5, 0.7), (1.0, 1.5), (0.25, 1e-9), (3.0, 2.0)],
                       [(0.5, 0.7), (1.0, -1.5), (2.0, 6.0), (0.0, 0.0), (3.0, -1e5)],
                       [(t, y) for t, y in zip(rng.uniform(0, 2, 9), rng.uniform(0.1, 4, 9))]):
            times, values = [t for t, _ in points], [y for _, y in points]
            probes = [_general_probe(kernel, t, [y], y0) for t, y in points]
            failed = any(J is None for J, _ in probes)
            expected = [None] * len(points) if failed else [J[0][0] for J, _ in probes]
            floor = _loops.start_floor(y0)
            for got in (probe.scalar_rates(times, values, y0),
                        probe.scalar_rates(np.array(times), np.array(values), y0),
                        _tolerance._scalar_rates_at(kernel, times, values, floor)):
                assert _bits(got[0]) == _bits(expected)
                assert got[1] == 2 * len(points)
            found.add(failed)
    assert found == ({False} if which == "smooth" else {False, True})


def test_diagonal_rates_steps_are_fd_steps():
    """The compiled rates take :func:`_tolerance.fd_steps`'s steps to the bit, Python's max
    with the floor first included: a NaN or infinite y (a kernel constant in y: rates 0 or
    NaN alike)."""
    from integrallimits.kernels import as_kernel
    kernel = as_kernel(lambda t, s, y: 2.0 + 0.0 * t, 1.0, 0.0)
    probe = _tolerance.rate_jacobian_probe(kernel)
    for values in ([math.inf, 1.0], [math.nan, 1.0], [1e300, -1e-300]):
        got = probe.scalar_rates([0.5] * len(values), values, [1.0])
        ref = _tolerance._scalar_rates_at(kernel, [0.5] * len(values), values, 1.0)
        assert _bits(got[0]) == _bits(ref[0]) and got[1] == ref[1]


@pytest.mark.parametrize("seed", range(40))
def test_floor_skipped_only_where_it_raises_nothing(seed, monkeypatch):
    """Where :func:`_outcome._below_grown_bound` skips the rounding floor of a scalar solution
    with a growth, the floor (NumPy's, :func:`_estimate.rounding_floor`) would raise no
    estimate: estimates at the floor times 1 +- 1e-12 ... 1e3, y with zeros, signs, a size up
    to 1e300 and a growth up to 700 e-folds; and with_rounding_floor leaves the same
    estimates and stats to the bit as without the skip."""
    from types import SimpleNamespace

    from integrallimits.volterra import _outcome
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 40))
    Y = rng.normal(size=(n, 1)) * 10.0 ** rng.uniform(-300, 300)
    Y[rng.uniform(size=n) < 0.2] = 0.0
    G = np.concatenate([[0.0], np.cumsum(rng.uniform(0, 1, n - 1))])
    G *= rng.choice([1e-3, 1.0, 700.0 / max(G[-1], 1.0)])
    mesh = np.linspace(0.0, 1.0, n)
    floor = _estimate.rounding_floor(Y, mesh, [[1.0]], None, G)
    rates = np.diff(G) / np.diff(mesh)
    rates = [float(rates[0])] + [float(v) for v in rates]

    def probe(t, y, y0):
        return [[rates[round(t * (n - 1))]]], 2

    # (twice the bound sqrt(N) eps s_n e^(G_n): skipped)
    bound = math.sqrt(n - 1) * np.finfo(float).eps * np.maximum.accumulate(np.abs(Y)) * \
        np.exp(G)[:, None]
    skipped = 0
    for factor in (1 - 1e-12, 1.0, 1 + 1e-12, 1 + 1e-6, 1.01, 3.0, 1e3, 0.5, None):
        est = floor * factor if factor is not None else bound * 2.0
        est[0] = 0.0
        if factor is not None:
            est[rng.integers(1, n)] *= rng.choice([1.0, 0.5, 1e-3])
        raises = bool(np.any(est[1:] < floor[1:]))
        if _outcome._below_grown_bound(Y, est, G):
            assert not raises
            skipped += 1
        found = []
        for skip in (True, False):
            if not skip:
                monkeypatch.setattr(_outcome, "_below_grown_bound", lambda *a: False)
            sol = SimpleNamespace(_est2=est.copy(), _y2=Y, mesh=mesh,
                                  _rate_jacobian=[[rates[0]]], stats={"nfev": 3})
            _outcome.with_rounding_floor(sol, probe)
            found.append((sol._est2.tobytes(), sol.stats))
            monkeypatch.undo()
        assert found[0] == found[1]
    assert skipped


def _failing_pair(t, s, y):
    if y[0] > 5.0:
        raise ValueError("y > 5")
    return np.array([y[0] * y[1] + t, np.sin(y[0]) * y[1] ** 3])


@pytest.mark.parametrize("which", ["pair", "log", "raises", "three"])
def test_jacobians_in_one_call_are_the_probes(which):
    """The rounding floor's Jacobians at many points in one compiled call
    (``probe.jacobians``, :func:`_tolerance._jacobians_compiled`) are the probe's at each
    point to the bit, with its count of evaluations; None where the kernel records a failure
    at a point (raises, or is not finite), and then :func:`_outcome._probe_points` probes
    point by point: its Jacobians and count are those of the probe alone in every case."""
    from types import SimpleNamespace

    from integrallimits.kernels import as_kernel
    from integrallimits.volterra._outcome import _probe_points
    function, y0 = {
        "pair": (lambda t, s, y: np.array([y[0] * y[1] + t, np.sin(y[0]) * y[1] ** 3]),
                 [1.0, 0.5]),
        "log": (lambda t, s, y: np.array([np.log(y[0]) * t, y[1] * y[0]]), [1.0, 0.5]),
        "raises": (_failing_pair, [1.0, 0.5]),
        "three": (lambda t, s, y: np.array([y[1] * y[2], -y[0] * np.exp(-(t - s)),
                                            y[0] - y[2]]), [1.0, 0.5, -2.0])}[which]
    kernel = as_kernel(function, np.array(y0), 0.0)
    probe = _tolerance.rate_jacobian_probe(kernel)
    d = len(y0)
    rng = np.random.default_rng(3)
    found = set()
    for start in (y0, [0.1] * d, [1e-7] * d):
        for points in ([(0.5, [0.7] * d), (1.0, [-1.5] + [2.0] * (d - 1)), (0.0, [0.0] * d)],
                       [(t, list(rng.uniform(0.1, 4.0, d))) for t in rng.uniform(0, 2, 7)],
                       [(2.0, [6.0] * d), (0.25, [1e-9] * d)]):
            times, values = [t for t, _ in points], [y for _, y in points]
            expected = [probe(t, y, start) for t, y in points]
            got = probe.jacobians(times, values, start)
            if got is not None:
                assert got == ([J for J, _ in expected], sum(c for _, c in expected))
            found.add(got is None)
            mesh = np.array(times[:1] + times)
            sol = SimpleNamespace(_y2=np.array([start] + values), mesh=mesh, stats={})
            plain = SimpleNamespace(_y2=sol._y2, mesh=mesh, stats={})
            x = [0.25, 1, 1.5, len(points)]
            assert _probe_points(sol, probe, x) == _probe_points(
                plain, lambda t, y, y0: probe(t, y, y0), x)
            assert sol.stats == plain.stats
    assert found == ({False} if which in ("pair", "three") else {False, True})


def _whole_lift(est, signed):
    """_over_crossings of the arrays in one block (the lift of all rows at once)."""
    return _estimate._lifted_block(est, signed)[0]


@pytest.mark.parametrize("seed", range(3))
def test_over_crossings_by_blocks_is_the_whole_arrays_lift(seed, monkeypatch):
    """_over_crossings of arrays longer than a block (issue 15: lifted a block at a time, each
    with the rows beside it, without full-length temporaries) gives the floats of the lift of
    all rows at once, bit for bit, and the same array where nothing is lifted: sign changes,
    zeros and touches at and beside the blocks' ends, NaN and inf, one to three components."""
    monkeypatch.setattr(_estimate, "BLOCK_ELEMENTS", 12)
    rng = np.random.default_rng(seed)
    lifted = same = 0
    for _ in range(300):
        m, d = int(rng.integers(2, 80)), int(rng.integers(1, 4))
        signed = _noisy(rng, (m, d))
        if rng.random() < 0.3:           # (one sign all along, or one change: often nothing)
            signed = np.abs(signed) + 1.0
            signed[int(rng.integers(0, m)):] *= rng.choice([1.0, -1.0])
        est = np.abs(_noisy(rng, (m, d))) if rng.random() < 0.5 else np.abs(signed) / 63.0
        with np.errstate(invalid="ignore"):
            want, got = _whole_lift(est, signed), _estimate._over_crossings(est, signed)
        assert (got is est) == (want is est)
        assert got.shape == want.shape and got.tobytes() == want.tobytes()
        same += got is est
        lifted += got is not est
    assert same > 10 and lifted > 100


def test_long_estimate_checks_make_no_full_length_temporaries():
    """At N = 2^18 (131073 compared points) _over_crossings and none_over_size held ~5.5 and
    2 arrays of that length at once, temporaries mapped afresh at each call (~2000 and ~1000
    page faults, 5-10 and 2-6 ms a call on a loaded machine, issue 15): by blocks, the lifted
    estimates alone (a copy: the differences' signs flip at every fourth point at the rounding
    level) and nothing of that length for the check."""
    import tracemalloc

    m = 2 ** 17
    rng = np.random.default_rng(0)
    signed = rng.standard_normal((m, 1)) * 1e-15
    signed[::7] = 0.0
    est = np.abs(signed) / 63.0
    values = est[:, 0] * 10.0
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        got = _estimate._over_crossings(est, signed)
        lift_peak = tracemalloc.get_traced_memory()[1] - start
        tracemalloc.reset_peak()
        start = tracemalloc.get_traced_memory()[0]
        none = _estimate.none_over_size(values, signed, 0.5)
        check_peak = tracemalloc.get_traced_memory()[1] - start
    finally:
        tracemalloc.stop()
    assert got is not est and none
    assert lift_peak <= 1.5 * est.nbytes
    assert check_peak <= 0.25 * est.nbytes
