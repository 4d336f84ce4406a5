"""solve_volterra: shapes, dense output, work counters, ODE agreement, Jacobians."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from integrallimits import METHODS, solve_volterra
from integrallimits.kernels import _kernel
from integrallimits.volterra.problems import PROBLEMS


def test_scalar_and_vector_shapes():
    p, v = PROBLEMS["exp-square"], PROBLEMS["vector"]
    sol = solve_volterra(p.kernel, p.forcing, (0.0, 1.0), 16, method="trapezoid")
    assert sol.t.shape == (17,) and sol.y.shape == (17,)
    assert np.isscalar(sol(0.3)) or np.ndim(sol(0.3)) == 0
    assert sol(np.array([0.1, 0.2])).shape == (2,)
    solv = solve_volterra(v.kernel, v.forcing, (0.0, 1.0), 16, method="trapezoid")
    assert solv.y.shape == (17, 2)
    assert solv(0.5).shape == (2,) and solv(np.zeros((3, 4))).shape == (3, 4, 2)


@pytest.mark.parametrize("method", ["trapezoid", "gregory6", "rk4", "gauss3"])
def test_dense_output_keeps_the_order(method):
    """Error of sol(t) at off-mesh points decreases at the method's order (>= order - 0.3)."""
    p = PROBLEMS["rotation"]  # vector, and asymptotic for all four methods at N = 16, 32
    tq = np.linspace(0.0, 2.0, 37)[1:-1] + 0.0123
    errs = []
    for n in (16, 32):
        sol = solve_volterra(p.kernel, p.forcing, p.t_span, n, method=method, jacobian=p.jacobian)
        errs.append(np.max(np.abs(sol(tq) - p.exact(tq))))
    rate = np.log2(errs[0] / errs[1])
    assert rate >= METHODS[method].order - 0.3, (errs, rate)


def test_dense_output_interpolates_mesh_values():
    p = PROBLEMS["cos"]
    sol = solve_volterra(p.kernel, p.forcing, p.t_span, 20, method="gregory4")
    np.testing.assert_allclose(sol(sol.t), sol.y, rtol=0, atol=1e-14)
    with pytest.raises(ValueError, match="solved interval"):
        sol(2.5)


@pytest.mark.parametrize("name", ["inverse", "rotation"])
@pytest.mark.parametrize("method", ["gregory8", "gauss4", "rk4"])
def test_t_independent_kernel_matches_solve_ivp(name, method):
    """K(s, y) independent of t: y' = K(t, y), y(0) = g(0), with g constant."""
    p = PROBLEMS[name]
    y0 = np.atleast_1d(p.forcing(0.0))
    ode = solve_ivp(lambda t, y: np.atleast_1d(p.kernel(t, t, y if y.size > 1 else y[0])),
                    p.t_span, y0, rtol=1e-12, atol=1e-13, dense_output=True)
    n = 256 if method == "rk4" else 64  # method error below 1e-9 at this N
    sol = solve_volterra(p.kernel, p.forcing, p.t_span, n, method=method)
    ref = ode.sol(sol.t).T
    np.testing.assert_allclose(sol.y.reshape(ref.shape), ref, rtol=0, atol=1e-9)


def test_stats_count_work():
    p = PROBLEMS["exp-square"]
    n = 32
    sol = solve_volterra(p.kernel, p.forcing, (0.0, 1.0), n, method="rectangle", error_estimate=False)
    assert sol.stats["nfev"] == n * (n + 1) // 2  # sum_{n} n evaluations of the history
    with_estimate = solve_volterra(p.kernel, p.forcing, (0.0, 1.0), n, method="rectangle")
    half, quarter = n // 2, n // 4   # the companion: the same rule on every other point, and
    companion = half * (half + 1) // 2 + quarter * (quarter + 1) // 2   # every fourth (rate)
    check = 2 * (2 * n + 1)    # the data check: K in t and on the diagonal, (p + 1) N + 1 each
    # and the aliasing probe: ceil(2 sqrt(32)) = 12 steps, two pieces each (the first k = 1),
    # swept in one call after [t0, t_1] with the pieces between them: 36 pieces, K in t and
    # on the diagonal at (p + 1) 36 + 1 times each
    check += 2 * (2 * 36 + 1)
    # and every step probed (the sample stays under its bar): the 3 N points t_n, t_n + A h,
    # t_n + (A + s_n) h swept as 3 N - 1 steps, K in t and on the diagonal at (p + 1) (3 N - 1)
    # + 1 times each, once (K's differences alone are taken in the same sweep)
    check += 2 * (2 * (3 * n - 1) + 1)
    assert with_estimate.stats["error_estimate_nfev"] == companion + check
    # the probes: the stiffness at t0 and at the first step's end, 2 (d + 1); 7 (the time
    # scale's d + 1, the panels' 5 but their first and last, which those made, and 2 off the
    # grid); and the rounding floor's growth rate at every mesh point after t0, N (d + 1);
    # and its growth through the memory (renew-61; this K's dK/dy depends on t): the row at
    # one point against the diagonal's, 2 (d + 1), then the row at ROW_PROBES + 1 = 9 points,
    # 9 (d + 1)
    assert with_estimate.nfev == sol.nfev + companion + check + 4 + 7 + 2 * n + 4 + 18
    assert sol.stats["newton_iterations"] == 0 and sol.stats["jacobian"] == "not needed"
    sol = solve_volterra(p.kernel, p.forcing, (0.0, 1.0), n, method="trapezoid")
    assert sol.stats["jacobian"] == "finite-difference"
    assert sol.stats["newton_solves"] == n and sol.stats["newton_iterations"] >= n
    sol = solve_volterra(p.kernel, p.forcing, (0.0, 1.0), n, method="trapezoid", jacobian=p.jacobian)
    assert sol.stats["jacobian"] == "user"


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "radau2"])
def test_user_and_finite_difference_jacobians_agree(method):
    p = PROBLEMS["vector"]
    a = solve_volterra(p.kernel, p.forcing, p.t_span, 24, method=method, jacobian=p.jacobian)
    b = solve_volterra(p.kernel, p.forcing, p.t_span, 24, method=method)
    np.testing.assert_allclose(a.y, b.y, rtol=0, atol=1e-11)


def test_same_function_compiles_once():
    def K(t, s, y):
        return np.sin(t - s) * y

    solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8)
    kernel = _kernel.as_kernel(K, 1.0)
    solve_volterra(K, lambda t: 2.0, (0.0, 1.0), 16, method="rk4")
    assert _kernel.as_kernel(K, 2.0) is kernel
    assert len(kernel.function.signatures) == 1 and len(kernel.block_sum.signatures) == 1


def test_non_uniform_mesh_for_vrk_methods():
    p = PROBLEMS["exp-square"]
    mesh = np.linspace(0.0, 1.0, 33) ** 1.5
    sol = solve_volterra(p.kernel, p.forcing, mesh=mesh, method="radau3")
    assert sol.success and np.max(np.abs(sol.y - p.exact(mesh))) < 1e-8
    with pytest.raises(ValueError, match="uniform mesh"):
        solve_volterra(p.kernel, p.forcing, mesh=mesh, method="trapezoid")


def test_solutions_pickle_with_their_values():
    """Solutions go through pickle (multiprocessing, Dask, joblib) with every value; the dense
    output of collocation methods, the Nystrom interpolant and the interpolation of y - g of
    direct rules need the compiled kernel or g, which do not pickle: between mesh points the
    unpickled solution raises (it used to fail to pickle at all), at mesh points it answers."""
    import pickle

    from integrallimits import solve_fredholm
    for method in ("gauss2", "gregory4"):
        sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 16, method=method)
        back = pickle.loads(pickle.dumps(sol))
        assert np.array_equal(back.y, sol.y) and back.stats == sol.stats
        assert np.array_equal(back.error_estimate, sol.error_estimate)
        assert np.array_equal(back(sol.t[2:5]), sol.y[2:5])
        with pytest.raises(RuntimeError, match="unpickled"):
            back(0.51)
    fred = solve_fredholm(lambda x, s, y: 0.5 * y, lambda x: x, (0.0, 1.0), 8)
    back = pickle.loads(pickle.dumps(fred))
    assert np.array_equal(back.y, fred.y)
    with pytest.raises(RuntimeError, match="unpickled"):
        back(0.5)


def test_copied_solutions_keep_their_dense_output():
    """copy.copy and copy.deepcopy went through __getstate__, which drops what pickling cannot
    keep: the copy of a solution raised between mesh points ("this solution was unpickled"),
    for Volterra, VIDE and Fredholm solutions alike.  A copy evaluates as the original."""
    import copy

    from integrallimits import solve_fredholm, solve_vide
    sols = [solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 16, method=method)
            for method in ("gauss2", "gregory4", "trapezoid")]
    sols.append(solve_vide(lambda t, y, z: -y + z, lambda t, s, y: -y, 1.0, (0.0, 1.0), 16))
    sols.append(solve_fredholm(lambda x, s, y: 0.5 * y, lambda x: x, (0.0, 1.0), 8))
    x = np.array([0.11, 0.51, 0.93])
    for sol in sols:
        expected = sol(x)
        for clone in (copy.copy(sol), copy.deepcopy(sol)):
            assert np.array_equal(clone(x), expected)
            assert np.array_equal(clone.y, sol.y) and clone.stats == sol.stats
        deep = copy.deepcopy(sol)
        assert deep.y is not sol.y and deep.stats is not sol.stats
        deep.stats["nfev"] = -1
        assert sol.stats["nfev"] != -1


def test_direct_rules_dense_output_between_mesh_points_has_the_estimated_accuracy():
    """The dense output of direct quadrature interpolates y - g (the memory term) and adds g:
    a forcing faster than the steps, which the mesh values take exactly, made the
    interpolation of y lose 3 000-40 000 times the estimate and the tolerance
    (y = sin 20t, K = 1e-3 y: trapezoid N = 256 7.6e-4 against an estimate of 5.1e-8; gregory8
    to rtol = atol = 1e-6 4.2e-2)."""
    w, c = 20.0, 1e-3

    def g(t):
        return np.sin(w * t) - c * (1.0 - np.cos(w * t)) / w
    x = np.linspace(0.0, 1.0, 2001)
    for method in ("rectangle", "trapezoid", "gregory4", "gregory6", "gregory8"):
        for kwargs in ({"n_steps": 64}, {"rtol": 1e-6, "atol": 1e-6}):
            sol = solve_volterra(lambda t, s, y: c * y, g, (0.0, 1.0), method=method, **kwargs)
            assert sol.success
            error = np.max(np.abs(sol(x) - np.sin(w * x)))
            assert error <= 4.0 * np.max(sol.error_estimate), (method, kwargs, error)
            if "rtol" in kwargs:
                assert error <= 10.0 * 1e-6, (method, error)
            assert np.array_equal(sol(sol.t), sol.y)         # the mesh values themselves
            at = solve_volterra(lambda t, s, y: c * y, g, (0.0, 1.0), method=method,
                                t_eval=x[1::50], **kwargs)
            assert np.array_equal(at.y, sol(x[1::50]))


def test_solutions_on_the_same_mesh_do_not_share_it():
    """Uniform meshes are made once and copied: a caller writing into ``sol.t`` changes neither
    the next solve's mesh nor its values; the last time is T itself (its zero's sign too)."""
    first = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8, error_estimate=False)
    first.t[:] = 7.0
    again = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8, error_estimate=False)
    np.testing.assert_array_equal(again.t, np.arange(9) / 8)
    np.testing.assert_array_equal(again.y, solve_volterra(lambda t, s, y: -y, lambda t: 1.0,
                                                          (0.0, 1.0), 8).y)
    for T in (0.0, -0.0):
        sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (-1.0, T), 4, error_estimate=False)
        assert np.copysign(1.0, sol.t[-1]) == np.copysign(1.0, T)


@pytest.mark.parametrize("kind", [True, False, 1.0, 2.0, np.True_])
def test_kind_is_an_integer_flag_not_a_bool_or_a_float(kind):
    """kind=True (bool is an int subclass) and kind=1.0 were taken for kind=1, kind=2.0 for
    kind=2, and kind=False was refused as a value ("got False"); as n_steps, kind must be an
    integer: a TypeError naming the type."""
    with pytest.raises(TypeError, match=rf"kind must be the integer 2 \(second kind\) or 1 "
                                        rf"\(first kind\), got {kind!r} \({type(kind).__name__}\)"):
        solve_volterra(lambda t, s: -1.0, lambda t: t, (0.0, 1.0), 8, kind=kind)
    assert solve_volterra(lambda t, s: -1.0, lambda t: t, (0.0, 1.0), 8,
                          kind=np.int64(1)).status == 0


@pytest.mark.parametrize("t", [None, "0.5", [0.5, None], object(), True, np.bool_(False),
                               [True, False]])
def test_a_solution_called_at_what_is_not_a_number_is_a_type_error(t):
    """sol(None) said "t must lie in the solved interval" (None became nan), sol("0.5") read the
    text as 0.5, sol(True) as t = 1: a TypeError naming t's type."""
    sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8)
    with pytest.raises(TypeError, match=rf"t must be a real number or an array of real "
                                        rf"numbers, got {type(t).__name__}$"):
        sol(t)
    assert sol(np.array([0.5], dtype=np.float32)).shape == (1,)


@pytest.mark.parametrize("name, value, said", [
    ("t_span", ("0", "1"), r"t_span must be a pair \(t0, T\) of floats"),
    ("t_span", (False, True), r"t_span must be a pair \(t0, T\) of floats"),
    ("t_span", np.array(["0", "1"]), r"t_span must be a pair \(t0, T\) of floats"),
    ("mesh", ["0", "0.5", "1"], r"mesh must be a 1-d array of at least 2 points \(real numbers\)"),
    ("mesh", np.array([False, True]), r"mesh must be a 1-d array of at least 2 points"),
    ("t_eval", ["0.5"], r"t_eval must be a 1-d array of times \(real numbers\)"),
    ("t_eval", [True], r"t_eval must be a 1-d array of times \(real numbers\)"),
    ("t_eval", [0.25, "0.5"], r"t_eval must be a 1-d array of times \(real numbers\)"),
])
def test_times_given_as_texts_or_bools_are_refused(name, value, said):
    """float() and np.array(..., dtype=float) read t_span=("0", "1"), mesh=["0", "0.5", "1"] and
    t_eval=["0.5"] as numbers, and bools as 0 and 1, and solved: refused naming the argument,
    as sol("0.5") and sol(True) are."""
    given = {"t_span": (0.0, 1.0), "n_steps": 8}
    if name == "mesh":
        given = {"mesh": value}
    else:
        given[name] = value
    with pytest.raises(ValueError, match="^" + said):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, **given)
    assert solve_volterra(lambda t, s, y: -y, lambda t: 1.0, np.array([0, 1]), np.int64(8),
                          t_eval=np.array([0, 1], dtype=np.int32)).success


def test_a_t_eval_too_large_for_memory_is_refused_before_its_copy(monkeypatch):
    """t_eval = np.broadcast_to(0.5, (10**9,)) (8 bytes of the caller's) was copied and solved
    for, some 53 bytes a time (1.07 GB for 2e7 times), and the process was killed for want of
    memory: a MemoryError naming t_eval, before anything is made."""
    from integrallimits import _memory
    monkeypatch.setattr(_memory, "available_memory", lambda: 1e8)    # (said to be free)
    t_eval = np.broadcast_to(0.5, (10**7,))
    with pytest.raises(MemoryError, match=r"^t_eval with 10000000 times needs about "):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8, t_eval=t_eval)
    sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8,
                         t_eval=np.broadcast_to(0.5, (10**5,)))
    assert sol.success and sol.y.shape == (10**5,)
