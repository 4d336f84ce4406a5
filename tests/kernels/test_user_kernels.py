"""Plain Python vector kernels: arrays and tuples (which allocate nothing per call) give the same
solution; tuples mixing ints and floats work; a wrong length is reported."""
import types
import warnings

import numba
import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.kernels._user import RecompilationWarning
from integrallimits.volterra.problems import PROBLEMS

P = PROBLEMS["vector"]


def k_tuple(t, s, y):
    return ((1.0 + t - s) * y[0] * y[1], np.exp(s - t) * y[0] - 0.5 * t * s * y[1] ** 2)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gauss2"])
def test_tuple_kernel_equals_array_kernel(method):
    ref = solve_volterra(P.kernel, P.forcing, P.t_span, 32, method=method, jacobian=P.jacobian)
    sol = solve_volterra(k_tuple, P.forcing, P.t_span, 32, method=method, jacobian=P.jacobian)
    assert sol.success
    np.testing.assert_array_equal(sol.y, ref.y)


def test_block_sum_is_compiled_when_a_loop_first_needs_it():
    """as_kernel compiles the user's function and its guarded entry point, not the block sum
    (about half of a new kernel's compilation with an empty Numba cache): the first loop that
    sums the history with it compiles it, and its sums are the kernel's."""
    from integrallimits.kernels import as_kernel

    def K(t, s, y):      # a function of its own: no other test compiled its kernel
        return -np.sin(1.5 * (t - s)) * y

    kernel = as_kernel(K, 1.0)
    assert kernel.function.signatures and kernel.block_sum.signatures == []
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")
    assert sol.success and len(kernel.block_sum.signatures) == 1
    Y = np.array([[0.5], [2.0], [-1.0]])
    svals, w = np.array([0.0, 0.25, 0.75]), np.array([0.5, 1.0, 0.25])
    out, one = np.empty(1), np.empty(1)
    kernel.block_sum(1.0, svals, Y, 0, 3, w, kernel.params, out)
    terms = []
    for r in range(3):
        kernel.function(1.0, svals[r], Y, r, kernel.params, one)
        terms.append(w[r] * one[0])
    assert out[0] == pytest.approx(sum(terms), rel=1e-15)


def test_tuple_mixing_ints_and_floats():
    # y = (1, 0) + int_0^t (0, y_0) ds = (1, t)
    sol = solve_volterra(lambda t, s, y: (0, y[0]), lambda t: np.array([1.0, 0.0]), (0.0, 1.0), 8,
                         method="trapezoid")
    np.testing.assert_allclose(sol.y, np.stack([np.ones(9), sol.t], axis=1), rtol=0, atol=1e-14)


def test_tuple_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"returned shape \(3,\)"):
        solve_volterra(lambda t, s, y: (y[0], y[1], 0.0), lambda t: np.array([1.0, 0.0]),
                       (0.0, 1.0), 8)


def test_forcing_sampled_once_per_time():
    """g is evaluated at each time once per solve (a vectorised g once more on the first array,
    in two calls, by the check that it is elementwise): the error estimate's companion solve (every
    other point) takes the values of the first solve instead of calling g again, and the
    answer is that of a g called at every time (a g that counts its points, pointwise and
    vectorised)."""
    seen = []

    def g_point(t):                     # not written for arrays: called point by point
        seen.append(float(t))
        return float(np.exp(-2.0 * t))

    def g_array(t):                     # vectorised: called on the whole mesh
        seen.extend(np.atleast_1d(t).tolist())
        return np.exp(-2.0 * t)

    def K(t, s, y):
        return np.exp(-(t - s)) * y * y

    for g in (g_point, g_array):
        seen.clear()
        sol = solve_volterra(K, g, (0.0, 1.0), 32, method="gregory4")
        assert sol.success and sol.stats["error_estimate"] == "half-steps"
        # 33 mesh times, g(t0) once more where the forcing is set up, and the vectorised
        # form's check at the middle and last point: no time of the companion mesh again;
        # and the check of the data's smoothness, on (p + 1) N + 1 = 161 times of the steps;
        # the vectorised form is also called once on each half of the mesh (the check that it
        # is elementwise, not a function of the whole array); and the aliasing probe's sweep
        # of [t0, t_k1], [t_k1, t_k1 + A h], [t_k1 + A h, t_k1 + (A + s_1) h], [.., t_k2], ...
        # (12 steps: 36 pieces), (p + 1) 36 + 1 = 181 times; and its sweep of every step (the
        # sample stays under its bar): 3 points a step as 3 N - 1 steps, (p + 1) 95 + 1 = 476
        extra = 1 if g is g_point else 3 + 33
        probe = 181 + 476
        assert len(seen) == 33 + extra + 161 + probe
        assert set(sol.t.tolist()) <= set(seen) and 161 < len(set(seen)) <= 161 + probe
        assert np.max(np.abs(sol.y - np.exp(-sol.t))) < 1e-7


def test_forcing_values_not_kept_are_not_taken():
    """``g_vec(times, keep=False)`` (a Fredholm solve's g at its nodes) calls g and neither
    takes values kept by an earlier call nor keeps its own: the next call with the same times
    calls g again; a call that keeps them is answered from them."""
    from integrallimits.kernels import as_forcing
    seen = []

    def g(t):
        seen.append(np.size(t))
        return np.cos(t)

    t, u = np.linspace(0.0, 1.0, 17), np.linspace(0.0, 1.0, 33)
    g_vec, _ = as_forcing(g, 0.0)
    g_vec(t)                                    # kept
    seen.clear()
    for times, keep, calls in ((t, False, 1), (u, False, 2), (u, True, 3), (u, True, 3),
                               (t, False, 4)):
        assert np.array_equal(g_vec(times, keep).ravel(), np.cos(times))
        assert len(seen) == calls


def test_forcing_values_are_not_shared_with_callers():
    """The remembered forcing values are copies: a caller changing the array it got (or the
    times it passed) does not change what the next call returns."""
    from integrallimits.kernels import as_forcing
    g_vec, _ = as_forcing(lambda t: np.exp(-t), 0.0)
    times = np.linspace(0.0, 1.0, 17)
    first = g_vec(times)
    first[:] = 0.0
    times[::2] += 0.25
    again = g_vec(np.linspace(0.0, 1.0, 17)[::2])
    assert np.array_equal(again[:, 0], np.exp(-np.linspace(0.0, 1.0, 17)[::2]))
    again[:] = 0.0    # (every other time: taken from the remembered values, as a copy too)
    assert np.array_equal(g_vec(np.linspace(0.0, 1.0, 17)[::4])[:, 0],
                          np.exp(-np.linspace(0.0, 1.0, 17)[::4]))


def test_vector_forcing_written_with_np_array_is_called_on_the_whole_mesh():
    """g(t) = np.array([f1(t), f2(t)]) gives shape (2, n) on an array of times: it is used
    transposed (one call on the mesh, and the check's two single times and two halves), not
    point by point,
    and the solution is the pointwise one."""
    calls = []

    def g(t):
        calls.append(np.size(t))
        return np.array([np.cos(t), np.sin(t)])

    def K(t, s, y):     # z = y0 + i y1: z' = i e^{it} + i z, z(0) = 1, so z = (1 + i t) e^{it}
        return (-y[1], y[0])

    sol = solve_volterra(K, g, (0.0, 1.0), 32, method="gregory4")
    t = sol.t
    exact = np.stack([np.cos(t) - t * np.sin(t), np.sin(t) + t * np.cos(t)], 1)
    assert sol.success and np.max(np.abs(sol.y - exact)) < 1e-6
    # g(t0), the check at two times, the mesh and its two halves, and in one call (call-61)
    # the data check's (p + 1) N + 1 times, the aliasing probe's sweep of 36 pieces, (p + 1) 36
    # + 1 times, and of every step's 3 points, (p + 1) (3 N - 1) + 1 times: 161 + 181 + 476
    assert sorted(calls) == [1, 1, 1, 16, 17, 33, 161 + 181 + 476]
    ref = solve_volterra(K, lambda t: np.array([np.cos(float(t)), np.sin(float(t))]), (0.0, 1.0),
                         32, method="gregory4")
    np.testing.assert_array_equal(sol.y, ref.y)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4"])
def test_forcing_that_branches_on_the_whole_array_is_called_pointwise(method):
    """g(t) = exp(-t) if np.all(t < 0.5) else 1 is exp(-t) before t = 0.5 pointwise, but 1
    at every time of an array that crosses 0.5: its array values agreed with pointwise calls
    at the first, middle and last times, and the solve succeeded 0.29 off the answer for the
    g written.  The check on the two halves of the array sends it point by point; t / max(t)
    (a function of the whole array) too, in solve_fredholm also."""
    from integrallimits import solve_fredholm

    def g(t):
        if np.all(t < 0.5):
            return np.exp(-t)
        return np.ones_like(t) if np.ndim(t) else 1.0

    def g_point(t):
        return float(np.exp(-t)) if t < 0.5 else 1.0

    def K(t, s, y):
        return -y

    sol = solve_volterra(K, g, (0.0, 1.0), 32, method=method)
    ref = solve_volterra(K, g_point, (0.0, 1.0), 32, method=method)
    assert sol.success
    np.testing.assert_array_equal(sol.y, ref.y)
    normalised = solve_volterra(K, lambda t: (t + 1.0) / np.max(t + 1.0), (0.0, 1.0), 32,
                                method=method)
    np.testing.assert_array_equal(normalised.y,
                                  solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 32,
                                                 method=method).y)
    fred = solve_fredholm(lambda x, s, y: 0.3 * x * s * y, g, (0.0, 1.0), 33, rule="trapezoid")
    fref = solve_fredholm(lambda x, s, y: 0.3 * x * s * y, g_point, (0.0, 1.0), 33,
                          rule="trapezoid")
    np.testing.assert_array_equal(fred.y, fref.y)


BRANCH_AT = [2.0]


def test_the_elementwise_check_of_a_forcing_follows_the_values_it_reads():
    """The halves check of g is remembered for its code and the values it reads: after a solve
    where g = exp(-t) if np.all(t < BRANCH_AT[0]) else 1 is elementwise (BRANCH_AT = 2), a
    changed BRANCH_AT = 0.5 makes it branch on the whole array, and it is checked again."""
    def g(t):
        if np.all(t < BRANCH_AT[0]):
            return np.exp(-t)
        return np.ones_like(t) if np.ndim(t) else 1.0

    def g_point(t):
        return float(np.exp(-t)) if t < BRANCH_AT[0] else 1.0

    def K(t, s, y):
        return -y

    try:
        for at in (2.0, 0.5, 2.0):
            BRANCH_AT[0] = at
            sol = solve_volterra(K, g, (0.0, 1.0), 32, method="trapezoid")
            ref = solve_volterra(K, g_point, (0.0, 1.0), 32, method="trapezoid")
            np.testing.assert_array_equal(sol.y, ref.y)
    finally:
        BRANCH_AT[0] = 2.0


RATE = 2.0
LIST = [1.0]


CFG = types.ModuleType("cfg_for_value_keys")
CFG.RHO = 2.0


def _helper_reading_rate(y):
    return RATE * y


def test_a_remembered_value_key_follows_every_read_of_the_walk():
    """Once a key is remembered, a call checks the objects the walk read (the function's code and
    defaults, each global and each module attribute on the way, closure cells, the functions it
    calls) instead of walking: each changed read below gives the key of the new values, and the
    old key again when the old object is back."""
    global RATE
    from integrallimits.kernels._user import value_key

    cfg = CFG

    def reads_all(t, s, y, d=1.0):
        return CFG.RHO * cfg.RHO * _helper_reading_rate(y) * d

    def twice(func):
        key = value_key(func)
        assert value_key(func) == key       # (the second call: from the remembered reads)
        return key

    first = twice(reads_all)
    old_rho, old_code, old_rate = CFG.RHO, _helper_reading_rate.__code__, RATE
    changes = [lambda: setattr(CFG, "RHO", 3.0),                       # global module attribute
               lambda: setattr(_helper_reading_rate, "__code__",       # a helper's code
                               (lambda y: 2.0 * RATE * y).__code__),
               lambda: setattr(reads_all, "__defaults__", (4.0,))]     # a default
    undo = [lambda: setattr(CFG, "RHO", old_rho),
            lambda: setattr(_helper_reading_rate, "__code__", old_code),
            lambda: setattr(reads_all, "__defaults__", (1.0,))]
    try:
        keys = {first}
        for change, back in zip(changes, undo):
            change()
            key = twice(reads_all)
            assert key not in keys
            keys.add(key)
            back()
            assert twice(reads_all) == first
        cfg = types.ModuleType("another_cfg")       # a closure cell: another module ...
        cfg.RHO = 2.0
        assert twice(reads_all) == first            # ... with the same value: the same key
        cfg.RHO = 7.0                               # its attribute changed: another key
        assert twice(reads_all) not in keys
    finally:
        CFG.RHO, RATE = old_rho, old_rate
        _helper_reading_rate.__code__ = old_code


def test_value_key_is_remembered_only_while_the_same_objects_are_read():
    """The key of a function reading unchanging objects is the one computed for those objects
    (no digest again); a new object with another value, a rebound closure cell or default, an
    array or list changed in place (never remembered), or a changed value read by a closure
    made by the same factory as its caller (the same code object) give a new key."""
    global RATE
    from integrallimits.kernels._user import _snapshot, value_key

    def reads_rate(t, s, y):
        return -RATE * y

    first = value_key(reads_rate)
    assert _snapshot(reads_rate) is not None and value_key(reads_rate) == first
    try:
        RATE = 3.0
        assert value_key(reads_rate) != first
        RATE = float("2.0")                 # another object, the first value: the first key
        assert value_key(reads_rate) == first
    finally:
        RATE = 2.0

    c = 1.0

    def reads_cell(t, s, y, d=1.0, *, e=1.0):
        return -c * d * e * y

    keys = {value_key(reads_cell)}
    c = 5.0
    keys.add(value_key(reads_cell))
    reads_cell.__defaults__ = (4.0,)
    keys.add(value_key(reads_cell))
    reads_cell.__kwdefaults__ = {"e": 6.0}
    keys.add(value_key(reads_cell))
    assert len(keys) == 4

    arr = np.array([1.0])
    reads_list = lambda t, s, y: -LIST[0] * arr[0] * y   # noqa: E731
    assert _snapshot(reads_list) is None
    before = value_key(reads_list)
    arr[0] = 2.0
    assert value_key(reads_list) != before
    LIST[0] = 3.0
    try:
        assert len({before, value_key(reads_list)}) == 2
    finally:
        LIST[0] = 1.0

    def make(inner, a):
        return numba.njit(lambda x: inner(x) + a)
    leaf = make(numba.njit(lambda x: x), 1.0)
    chain = make(leaf, 1.0)                 # chain and leaf share one code object

    def K(t, s, y):
        return chain(y)

    key = value_key(K)
    assert _snapshot(K) is not None and value_key(K) == key
    leaf.py_func.__closure__[1].cell_contents = 7.0   # the leaf's own value
    assert value_key(K) != key


#: y = 1 - int_0^t e^(s - t) y(s) ds: y(1) = (1 + e^-2) / 2; trapezoid on 32 steps is 2.3e-5 off.
EXP_DECAY_Y1 = 0.5 * (1.0 + np.exp(-2.0))
SCALE = 1.0


@numba.njit
def _taylor_exp_scaled(x, k, n):
    """SCALE e^x (its Taylor sum to x^n / n!), read at each level of the recursion."""
    if k > n:
        return SCALE
    return SCALE + x * _taylor_exp_scaled(x, k + 1, n) / k


def test_a_recursive_helper_first_compiled_by_the_users_code_is_linked_in_a_kernel():
    """Numba compiles an @njit helper with its caller's error model and keeps one machine code per
    argument types, whoever compiled it: a recursive h(x, k, n) that the user's own code (Python's
    error model) had compiled for (float64, int64, Literal[16]) was called, through Numba's
    run-time linker, by the h(x, Literal[1], Literal[16]) compiled for K (NumPy's model: K does not
    divide) under a name with NumPy's model that no code had: "unresolved symbol" at the first
    call, reported as a UserCodeError (compiled and Python arithmetic differ) on the base.  K is
    compiled against a copy of h that sets its options itself: y(1) = (1 + e^-2) / 2."""
    @numba.njit
    def h(x, k, n):
        if k > n:
            return 1.0
        return 1.0 + x * h(x, k + 1, n) / k

    @numba.njit
    def users_own(x, k):
        return h(x, k, 16)

    assert abs(users_own(0.5, 1) - np.exp(0.5)) < 1e-12
    sol = solve_volterra(lambda t, s, y: -y * h(s - t, 1, 16), lambda t: 1.0, (0.0, 1.0), 32,
                         method="trapezoid", error_estimate=False)
    assert sol.success and abs(sol.y[-1] - EXP_DECAY_Y1) < 3e-5, (sol.status, sol.y[-1])


def test_a_recursive_helper_reading_a_global_sees_its_changes():
    """A recursive helper reading a global is among its own helpers that read values: keying the
    kernel raised RecursionError on the base.  Each value of the global compiles a copy of the
    helper whose recursion calls that copy: y(1) = (1 + e^-2) / 2 with SCALE = 1, (1 + 2 e^-3) / 3
    (K = -2 e^(s - t) y) with SCALE = 2, and the first again with SCALE = 1."""
    global SCALE
    old = SCALE
    try:
        for scale, exact in ((1.0, EXP_DECAY_Y1), (2.0, (1.0 + 2.0 * np.exp(-3.0)) / 3.0),
                             (1.0, EXP_DECAY_Y1)):
            SCALE = scale
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RecompilationWarning)
                sol = solve_volterra(lambda t, s, y: -y * _taylor_exp_scaled(s - t, 1, 16),
                                     lambda t: 1.0, (0.0, 1.0), 32, method="trapezoid",
                                     error_estimate=False)
            assert sol.success and abs(sol.y[-1] - exact) < 1e-4, (scale, sol.y[-1])
    finally:
        SCALE = old


@numba.njit("float32(float32, int64, int64)")
def _taylor_exp_single(x, k, n):
    if k > n:
        return np.float32(1.0)
    return np.float32(1.0) + x * _taylor_exp_single(x, k + 1, n) / np.float32(k)


def test_a_recursive_helper_compiled_for_given_signatures_only_is_kept():
    """A recursive helper compiled for the signatures given only keeps its code of those types
    (float32 on purpose): a kernel calls it, not a copy compiled for float64."""
    from integrallimits.kernels._user import _value_helpers
    assert _value_helpers(lambda t, s, y: -y * _taylor_exp_single(s - t, 1, 16)) == []


_RATES = None


def _decay_at_rate(t, s, y):
    return -_RATES.a * y


def _decay_at_record_rate(t, s, y):
    return -_RATES[0]["a"] * y


def _two_layouts(kind):
    """Two values of the global _RATES with the same numbers in the same order whose field
    ``a`` is 1.0 in the first and 2.0 in the second: named tuples of one name whose fields are
    declared the other way round, or records of the same bytes whose fields are."""
    import collections
    if kind == "named tuple":
        first, second = (collections.namedtuple("Rates", names) for names in ("a b", "b a"))
        return first(1.0, 2.0), second(1.0, 2.0)
    first, second = (np.array([(1.0, 2.0)], dtype=[(n, "f8") for n in names])
                     for names in (("a", "b"), ("b", "a")))
    return first, second


@pytest.mark.parametrize("kind, K", [("named tuple", _decay_at_rate),
                                     ("record array", _decay_at_record_rate)])
def test_a_global_of_the_same_numbers_in_another_layout_is_read_again(kind, K):
    """A kernel reading ``rates.a`` (or ``rates[0]["a"]``) of a global kept the value it was
    first compiled with when the global became a named tuple (a record) of the same numbers in
    the same order but with its fields the other way round: the value's digest named the
    numbers, not the fields (a record's dtype.str is |V16), so the compiled copy of the first
    value was reused.  y' = -a y: y(1) = e^-1 with a = 1, e^-2 with a = 2."""
    global _RATES
    try:
        for value, a in zip(_two_layouts(kind), (1.0, 2.0)):
            _RATES = value
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RecompilationWarning)
                sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 64, method="trapezoid",
                                     error_estimate=False)
            assert sol.success and abs(sol.y[-1] - np.exp(-a)) < 1e-4, (kind, a, sol.y[-1])
    finally:
        _RATES = None


_TUPLE_RATE = 1.0


@numba.njit
def _rate_times(y):
    return _TUPLE_RATE * y


_HELPERS = (1.0, (_rate_times,))


def _decay_through_a_tuple(t, s, y):
    return -_HELPERS[1][0](y)


def test_a_helper_held_in_a_tuple_sees_its_globals_change():
    """A kernel calling an @njit helper held in a global tuple (``_HELPERS[1][0](y)``) kept the
    value of the global the helper read when it was first compiled: only helpers read by a
    name were compiled again for new values.  y' = -a y: y(1) = e^-1, e^-2, e^-1."""
    global _TUPLE_RATE
    try:
        for a in (1.0, 2.0, 1.0):
            _TUPLE_RATE = a
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RecompilationWarning)
                sol = solve_volterra(_decay_through_a_tuple, lambda t: 1.0, (0.0, 1.0), 64,
                                     method="trapezoid", error_estimate=False)
            assert sol.success and abs(sol.y[-1] - np.exp(-a)) < 1e-4, (a, sol.y[-1])
    finally:
        _TUPLE_RATE = 1.0
