"""Bad input raises clear errors; failures set status/message; raise_on_failure raises."""
import numpy as np
import pytest

from integrallimits import SolverError, solve_volterra, solve_vide


def K(t, s, y):
    return -y


def g(t):
    return 1.0


@pytest.mark.parametrize("t_span", [(1.0, 0.0), (0.0, 0.0), (0.0, np.inf), (0.0,), "ab", None])
def test_bad_t_span(t_span):
    with pytest.raises((ValueError, TypeError), match="t_span"):
        solve_volterra(K, g, t_span, 8)


@pytest.mark.parametrize("n_steps,exc", [(0, ValueError), (-3, ValueError), (2.5, TypeError),
                                         (True, TypeError)])
def test_bad_n_steps(n_steps, exc):
    with pytest.raises(exc, match="n_steps"):
        solve_volterra(K, g, (0.0, 1.0), n_steps)


def test_too_few_steps_for_gregory():
    with pytest.raises(ValueError, match="n_steps >= 7"):
        solve_volterra(K, g, (0.0, 1.0), 4, method="gregory8")


def test_unknown_method_lists_known_ones():
    with pytest.raises(ValueError, match="gregory6") as info:
        solve_volterra(K, g, (0.0, 1.0), 8, method="simpson")
    assert "simpson" in str(info.value)


def test_not_callable():
    with pytest.raises(TypeError, match="K must be callable"):
        solve_volterra(3.0, g, (0.0, 1.0), 8)
    with pytest.raises(TypeError, match="g must be callable"):
        solve_volterra(K, 1.0, (0.0, 1.0), 8)


def test_kernel_wrong_shape():
    with pytest.raises(ValueError, match=r"K\(t, s, y\) returned shape \(3,\)"):
        solve_volterra(lambda t, s, y: np.ones(3), lambda t: np.ones(2), (0.0, 1.0), 8)
    with pytest.raises(ValueError, match="K"):
        solve_volterra(lambda t, s, y: np.ones(2), g, (0.0, 1.0), 8)


def test_forcing_not_finite():
    with pytest.raises(ValueError, match="g\\(t\\) is not finite at t = 0.5"):
        solve_volterra(K, lambda t: 1.0 / (t - 0.5) if t != 0.5 else np.nan, (0.0, 1.0), 8)


def test_kernel_not_compilable_says_so():
    class Opaque:
        pass

    def bad(t, s, y):
        return float(len(str(Opaque()))) * y

    with pytest.raises(TypeError, match="could not be compiled by Numba"):
        solve_volterra(bad, g, (0.0, 1.0), 8)


# Kernels of parametrized tests, defined once: a kernel made inside a test is a new function
# each time, compiled again for every parameter (about a second each).

def _square(t, s, y):
    return y * y


@pytest.mark.parametrize("method", ["rectangle", "trapezoid", "gregory4", "rk4", "radau2"])
def test_blow_up_is_reported(method):
    """y = 1 + int_0^t y^2 ds = 1/(1 - t) blows up at t = 1.  (The rectangle rule fails from
    t = 0.875 on, where its value 5.6 has no digit of 8 and the solutions on 16, 32 and 64
    steps, 3.7, 4.6, 5.6, do not converge.)"""
    sol = solve_volterra(_square, lambda t: 1.0, (0.0, 2.0), 64, method=method)
    assert not sol.success
    assert sol.t_failure is not None and sol.t_failure <= 2.0
    assert sol.t_failure >= 0.9 or ("no reliable digits" in sol.message and
                                    sol.t_failure >= 0.875)
    assert f"t = {sol.t_failure:.6g}" in sol.message
    assert ("blow" in sol.message) and np.all(np.isfinite(sol.y))
    with pytest.raises(SolverError, match="t = "):
        solve_volterra(_square, lambda t: 1.0, (0.0, 2.0), 64, method=method,
                       raise_on_failure=True)


def _root_of_lag(t, s, y):
    return np.sqrt(t - s) * y      # NaN at s > t, where the equation never needs K


@pytest.mark.parametrize("method", ["gauss2", "radau3", "gregory4"])
def test_a_kernel_not_finite_beyond_the_diagonal_is_told_so(method):
    """Collocation's stages and the Gregory rules' starting block evaluate K at s > t: a K
    defined for s <= t only (sqrt(t - s)) fails there, and the message says why and what
    evaluates K at s <= t only (before, it blamed K at a point the user's equation never
    reaches)."""
    sol = solve_volterra(_root_of_lag, lambda t: 1.0, (0.0, 1.0), 16, method=method)
    assert not sol.success and sol.stats["failure"] == "kernel-non-finite"
    assert "s > t" in sol.message and "rk4" in sol.message
    fine = solve_volterra(_root_of_lag, lambda t: 1.0, (0.0, 1.0), 16, method="rk4")
    assert fine.success


def test_a_first_kind_kernel_not_finite_beyond_the_diagonal_names_first_kind_methods():
    """The same for K(t, s) of the first kind (radau2's later stages), naming the first-kind
    methods that evaluate K at s <= t only, all of which solve it."""
    def K(t, s):
        return 1.0 + np.sqrt(t - s)

    def g(t):
        return t + 2.0 / 3.0 * t ** 1.5              # y = 1
    sol = solve_volterra(K, g, (0.0, 1.0), 8, method="radau2", kind=1)
    assert not sol.success and "s > t" in sol.message
    named = sol.message.split("finite there too; ")[1].split(" evaluate K")[0]
    assert named == "radau1, midpoint and implicit-rectangle"
    for method in ("radau1", "midpoint", "implicit-rectangle"):
        assert solve_volterra(K, g, (0.0, 1.0), 8, method=method, kind=1).success


def test_a_vide_kernel_not_finite_beyond_the_diagonal_is_told_so():
    """A VIDE y' = -z, z = int sqrt(t - s) y ds: gauss2's stages evaluate K at s > t; rk4
    does not."""
    def f(t, y, z):
        return -z
    sol = solve_vide(f, _root_of_lag, 1.0, (0.0, 1.0), 16, method="gauss2")
    assert not sol.success and "s > t" in sol.message and "rk4" in sol.message
    assert solve_vide(f, _root_of_lag, 1.0, (0.0, 1.0), 16, method="rk4").success


def test_a_kernel_not_finite_at_s_below_t_gets_no_diagonal_advice():
    sol = solve_volterra(lambda t, s, y: np.log(0.5 - s) * y, lambda t: 1.0, (0.0, 1.0), 16,
                         method="trapezoid")
    assert not sol.success and "non-finite" in sol.message and "s > t" not in sol.message


def test_newton_failure_reported():
    """A capped Newton iteration count is a failure, not a silent success."""
    sol = solve_volterra(lambda t, s, y: np.exp(y), lambda t: 0.0, (0.0, 0.5), 8, method="trapezoid",
                         newton_maxiter=1)
    assert not sol.success and "Newton" in sol.message


@pytest.mark.parametrize("method", ["radau2", "radau3", "gauss2", "gauss4"])
def test_only_exploratory_newton_stops_when_not_contracting(method):
    """y = t + int y^2 = tan t on 2 steps of 0.75: the first step is too long for its implicit
    equation to have a root.  An exploratory solve of the adaptive driver (``exploring``, see
    ``_loops.EXPLORING``) fails as soon as Newton's update grows; a solve on a given mesh
    iterates to ``newton_maxiter`` as before (55-56 iterations in all with the default 50;
    radau3 spent 1002 kernel evaluations), the same run without the flag too."""
    from integrallimits.kernels import as_forcing, as_kernel
    from integrallimits.volterra import _loops
    from integrallimits.volterra._methods import METHODS
    from integrallimits.volterra._solve import _runner
    kernel, forcing = _square, (lambda t: t)
    fixed = solve_volterra(kernel, forcing, (0.0, 1.5), 2, method=method, error_estimate=False)
    assert not fixed.success and "Newton" in fixed.message
    assert fixed.stats["newton_iterations"] > 50
    g_vec, y0 = as_forcing(forcing, 0.0, ())
    run = _runner(METHODS[method], as_kernel(kernel, y0, 0.0), g_vec, 1e-12, 50, False, ())
    mesh = np.linspace(0.0, 1.5, 3)
    plain, exploring = run(mesh), run(mesh, exploring=True)
    assert plain.status == exploring.status == _loops.NEWTON_FAILED
    assert plain.counts[_loops.NIT] == fixed.stats["newton_iterations"]
    assert exploring.counts[_loops.NIT] < 15
    assert exploring.counts[_loops.NFEV] < plain.counts[_loops.NFEV] / 3
    fine = np.linspace(0.0, 1.5, 65)        # (steps that resolve it converge alike)
    a, b = run(fine), run(fine, exploring=True)
    assert a.status == b.status == _loops.SUCCESS and np.array_equal(a.Y, b.Y)
    assert np.array_equal(a.counts[:4], b.counts[:4])


@pytest.mark.parametrize("kw", [dict(newton_tol=0.0), dict(newton_tol=-1), dict(newton_maxiter=0),
                                dict(newton_tol=1.0), dict(newton_tol=10)])
def test_bad_newton_options(kw):
    with pytest.raises(ValueError, match=next(iter(kw))):
        solve_volterra(K, g, (0.0, 1.0), 8, **kw)


def _raises_value_error(*a):
    raise ValueError("outside the model's range")


def _coefficient_raises(t, s):
    raise ValueError("outside the model's range")


@pytest.mark.parametrize("case", ["kernel", "forcing", "vide", "linear", "convolution"])
def test_a_user_functions_exception_at_the_first_point_is_its_own(case):
    """A user function raising when first called (in Python, at t0) gives the user's own
    exception, as inside the compiled loops, with a note saying where (it was a TypeError:
    ``except ValueError`` around a solve missed it)."""
    from integrallimits import solve_vide
    from integrallimits.kernels import convolution
    calls = {
        "kernel": lambda: solve_volterra(_raises_value_error, g, (0.0, 1.0), 8),
        "forcing": lambda: solve_volterra(K, _raises_value_error, (0.0, 1.0), 8),
        "vide": lambda: solve_vide(_raises_value_error, lambda t, s, y: -y, 1.0, (0.0, 1.0), 8),
        "linear": lambda: solve_volterra(_coefficient_raises, g, (0.0, 1.0), 8, kind=1),
        "convolution": lambda: solve_volterra(convolution(_raises_value_error), g, (0.0, 1.0), 8),
    }
    with pytest.raises(ValueError, match="outside the model's range") as info:
        calls[case]()
    if hasattr(info.value, "add_note"):
        assert "when called at" in info.value.__notes__[-1]


@pytest.mark.parametrize("source, advice", [
    ("params = {'a': 1.0}\ndef kernel(t, s, y):\n    return -params['a'] * y", "args="),
    ("import scipy.special\ndef kernel(t, s, y):\n    return -scipy.special.erf(t - s) * y",
     "math.erf"),
    ("def rate(y):\n    return -y\ndef kernel(t, s, y):\n    return rate(y)", "@numba.njit"),
    # (on the base Numba's words alone: "<numba.core.base.OverloadSelector object ...>,
    # (List(float64, True),)" and "unsupported constant type used for exception")
    ("def make():\n    box = [2.0]\n    def kernel(t, s, y):\n        return -box[0] * y\n"
     "    return kernel\nkernel = make()", "make it a NumPy array"),
    ("def kernel(t, s, y):\n    if t > 0.5:\n        raise KeyboardInterrupt\n    return -y",
     "only those of the Exception family"),
])
def test_a_kernel_numba_cannot_type_gets_advice(source, advice):
    """The commonest typing errors (a global dict or object, a SciPy function, a plain Python
    helper) say what to do instead, beside Numba's own words."""
    namespace = {}
    exec(compile(source, "<kernel>", "exec"), namespace)   # a user's module, written here
    with pytest.raises(TypeError, match="could not be compiled by Numba") as info:
        solve_volterra(namespace["kernel"], g, (0.0, 1.0), 8)
    assert advice in str(info.value)


def test_a_failed_refinement_after_a_finite_estimate_is_reported():
    """A solve to a tolerance whose refined mesh fails (Newton's method cannot converge on a
    kernel computed in single precision) after a coarser mesh gave a finite estimate: a failed
    solution saying why (it was an AttributeError from the step-size prediction)."""
    sol = solve_volterra(lambda t, s, y: float(np.float32(-y)), g, (0.0, 1.0), rtol=1e-12,
                         atol=1e-12)
    assert not sol.success and "Newton" in sol.message and "double precision" in sol.message


def _k_single(t, s, y):
    return np.float32(-(t - s) * y)


@pytest.mark.parametrize("case", ["scalar", "tolerance", "tuple", "array", "first kind", "vide",
                                  "fredholm", "half"])
def test_a_kernel_in_single_precision_is_refused_naming_its_dtype(case):
    """K returning float32 values: the solves' Newton steps (sqrt(eps) |y|, below float32's
    rounding) and estimates take K to double precision.  On the base, y = 1 - int (t - s) y
    (cos t) at rtol 1e-10 failed after 58960 steps blaming "a kink or a jump of g or K", and
    at rtol 1e-8 succeeded with an estimate 20 times under its error."""
    from integrallimits import solve_fredholm, solve_vide
    two = lambda t: np.array([1.0, 2.0])  # noqa: E731
    calls = {
        "scalar": lambda: solve_volterra(_k_single, g, (0.0, 2.0), 16),
        "tolerance": lambda: solve_volterra(_k_single, lambda t: 1.0, (0.0, 2.0), rtol=1e-10,
                                            atol=1e-12),
        "tuple": lambda: solve_volterra(lambda t, s, y: (np.float32(-y[0]), -y[1]), two,
                                        (0.0, 1.0), 16),
        "array": lambda: solve_volterra(lambda t, s, y: (-y).astype(np.float32), two,
                                        (0.0, 1.0), 16),
        "first kind": lambda: solve_volterra(lambda t, s: np.float32(1.0 + t - s), np.sin,
                                             (0.0, 1.0), 16, kind=1),
        "vide": lambda: solve_vide(lambda t, y, z: np.float32(z - y), lambda t, s, y: -y, 1.0,
                                   (0.0, 1.0), 16),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: np.float32(0.5 * y), g, (0.0, 1.0),
                                           8),
        "half": lambda: solve_volterra(lambda t, s, y: np.float16(-y), g, (0.0, 1.0), 16),
    }
    with pytest.raises(TypeError, match="float(32|16) values.*double precision"):
        calls[case]()


def test_a_jacobian_in_single_precision_is_accepted():
    """Only Newton's iterations use the Jacobian: float32 steers them as well."""
    sol = solve_volterra(lambda t, s, y: -y * y, lambda t: 1.0, (0.0, 1.0), 16,
                         method="radau2", jacobian=lambda t, s, y: np.float32(-2.0 * y))
    exact = solve_volterra(lambda t, s, y: -y * y, lambda t: 1.0, (0.0, 1.0), 16,
                           method="radau2", jacobian=lambda t, s, y: -2.0 * y)
    assert sol.success and abs(sol.y[-1] - exact.y[-1]) < 1e-12


def test_a_jacobian_rounded_in_single_precision_is_compared_at_its_rounding():
    """NumPy 2 computes np.float32(-2.1) * (1 + 0.2 y) in float32, Numba in float64 rounded
    once (4e-8 apart at y = 0.37, over the 1e-9 of a double comparison): such a Jacobian,
    now compared with Python at float32's rounding, still solves (K and a VIDE's f)."""
    def K(t, s, y):
        return -2.1 * (y + 0.1 * y * y)

    def f(t, y, z):
        return -2.1 * (y + 0.1 * y * y) + z

    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 16, method="radau2",
                         jacobian=lambda t, s, y: np.float32(-2.1) * (1.0 + 0.2 * y))
    exact = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 16, method="radau2",
                           jacobian=lambda t, s, y: -2.1 * (1.0 + 0.2 * y))
    assert sol.success and abs(sol.y[-1] - exact.y[-1]) < 1e-12
    sol = solve_vide(f, lambda t, s, y: -y, 1.0, (0.0, 1.0), 16, "gauss2",
                     jacobian=lambda t, y, z: (np.float32(-2.1) * (1.0 + 0.2 * y),
                                               np.float32(1.0)))
    exact = solve_vide(f, lambda t, s, y: -y, 1.0, (0.0, 1.0), 16, "gauss2",
                       jacobian=lambda t, y, z: (-2.1 * (1.0 + 0.2 * y), 1.0))
    assert sol.success and abs(sol.y[-1] - exact.y[-1]) < 1e-12


@pytest.mark.parametrize("case", ["scalar", "vector", "tuple", "later points", "array only",
                                  "first kind", "fredholm"])
def test_a_forcing_in_single_precision_is_refused_as_a_kernel_is(case):
    """g returning float32 values: refused with K's TypeError naming the dtype, as a float32 K
    is (the solves take g's values to double precision too: a tolerance below their rounding
    read their steps as rough data, 60142 steps at rtol 1e-8 on y = 1 + sin(t) / 10 -
    int (t - s) y in float32, 8 in float64).  On main such a g at t0 warned and was solved,
    and one returning float32 only at later points or on arrays of times was solved silently
    (fails on main)."""
    from integrallimits import solve_fredholm
    def K(t, s, y):
        return -(t - s) * y

    def smooth(t):
        return 1.0 + 0.1 * np.sin(t)
    calls = {
        "scalar": lambda: solve_volterra(K, lambda t: np.float32(smooth(t)), (0.0, 2.0), 16,
                                         method="gregory6"),
        "vector": lambda: solve_volterra(lambda t, s, y: -y,
                                         lambda t: np.array([1.0, 2.0], dtype=np.float32),
                                         (0.0, 1.0), 16),
        "tuple": lambda: solve_volterra(lambda t, s, y: -y, lambda t: (np.float32(1.0), 2.0),
                                        (0.0, 1.0), 16),
        "later points": lambda: solve_volterra(
            K, lambda t: 1.0 if t == 0 else np.float32(smooth(t)), (0.0, 2.0), 16),
        "array only": lambda: solve_volterra(
            K, lambda t: smooth(t) if np.ndim(t) == 0 else smooth(t).astype(np.float32),
            (0.0, 2.0), 64),
        "first kind": lambda: solve_volterra(lambda t, s: 1.0 + t - s,
                                             lambda t: np.float32(np.sin(t)), (0.0, 1.0), 16,
                                             kind=1),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: 0.5 * y, lambda x: np.float32(1.0),
                                           (0.0, 1.0), 8),
    }
    with pytest.raises(TypeError, match=r"^g\((t|x)\)( at t = \S+| on an array of times)? "
                                        r"returned float32 values: the solver computes in "
                                        r"double precision"):
        calls[case]()
