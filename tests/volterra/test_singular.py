"""Weakly singular kernels K = (t - s)^(-alpha) k(t, s, y): product integration on graded meshes.

Manufactured problems with the typical singular behaviour y = 1 + t^(1-alpha) (and a d = 2
version); their forcings are derived with SymPy (Beta integrals, term by term) and checked
against mpmath quadrature of the singular integral.

Orders (measured here; the theory is Brunner 2004, ch. 6), m collocation points:

* the collocation solution u (the polynomial of each interval, measured at the left end
  t_n^+, which is not a collocation point): order 1 - alpha on a uniform mesh, order m on
  ``graded_mesh(1, N, grading_exponent(m, alpha))``;
* the iterated values at the mesh points (``sol.y``): order m + 1 - alpha on
  ``graded_mesh(1, N, grading_exponent(m + 1 - alpha, alpha))`` for Gauss points and for
  Radau IIA with m >= 2 (radau1, c = 1, stays at order 1).  On a uniform mesh they keep
  only about 2 - 2 alpha: at t_1 = h the iterated error is the integral of
  (h - s)^(-alpha) (y - u)(s) over [0, h], with y - u of size h^(1-alpha) there.
  Radau IIA (m >= 2) approaches m + 1 - alpha slowly from below (see PRE_ASYMPTOTIC).
"""
import math
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from integrallimits import METHODS, solve_volterra
from integrallimits.kernels import as_forcing, as_kernel, convolution, weakly_singular
from integrallimits.volterra import _singular
from integrallimits.volterra._singular import (collocation_product_integration, graded_mesh,
                                               grading_exponent, history_weights, local_weights)
from integrallimits.volterra._tableaux import collocation_tableau
from integrallimits.volterra.convergence import fit_order

_t, _s = sp.symbols("t s", positive=True)
ALPHAS = (0.3, 0.5, 0.7)
COLLOCATION = [f"{p}{m}" for p in ("gauss", "radau") for m in (1, 2, 3)]


# -- manufactured problems ---------------------------------------------------------------------

def _k_linear(t, s, y):
    return -y


def _k_square(t, s, y):
    return -y * y


def _j_square(t, s, y):
    return -2.0 * y


def _k_pair(t, s, y):
    return np.array([-0.5 * y[0] * y[1], (1.0 + t * s) * y[0] - y[1]])


def _j_pair(t, s, y):
    return np.array([[-0.5 * y[1], -0.5 * y[0]], [1.0 + t * s, -1.0]])


def _singular_integral(expr, alpha):
    """int_0^t (t - s)^(-alpha) expr ds for expr = sum_i c_i(t) s^(q_i), by Beta integrals.

    int_0^t (t - s)^(-alpha) s^q ds = t^(q + 1 - alpha) B(q + 1, 1 - alpha).
    """
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr)):
        coeff, q = term.as_coeff_exponent(_s)
        assert not coeff.has(_s), term
        total += coeff * _t ** (q + 1 - alpha) * sp.gamma(q + 1) * sp.gamma(1 - alpha) / sp.gamma(
            q + 2 - alpha)
    return total


@dataclass(frozen=True)
class SingularProblem:
    name: str
    alpha: float
    k: object            # k(t, s, y), numerically
    jacobian: object     # dk/dy or None (finite differences)
    k_expr: object       # k(t, s, y(s)) as a SymPy expression (list for d = 2)
    exact_expr: object   # y(t) (list for d = 2)
    g_expr: object       # the derived forcing

    @property
    def spec(self):
        return _spec(self.name, self.alpha)

    def forcing(self, t):
        v = self._g(t)
        return float(v[0]) if len(v) == 1 else np.array(v, dtype=float)

    def exact(self, t):
        t = np.asarray(t, dtype=float)
        v = np.stack([np.broadcast_to(f(t), t.shape) for f in self._y], axis=-1)
        return v[..., 0] if v.shape[-1] == 1 else v

    @property
    def _g(self):
        return _lambdified(self.name, self.alpha)[0]

    @property
    def _y(self):
        return _lambdified(self.name, self.alpha)[1]


@lru_cache(maxsize=None)
def problem(name, alpha):
    """y = 1 + t^a (a = 1 - alpha) with k = -y ("linear") or -y^2 ("square"), and
    y = (1 + t^a, 2 - t^a) with k = (-y0 y1 / 2, (1 + t s) y0 - y1) ("pair")."""
    al = sp.Rational(str(alpha))
    tau = lambda x: x ** (1 - al)  # noqa: E731
    if name == "linear":
        ys = [1 + tau(_t)]
        ks = [-(1 + tau(_s))]
        k, jac = _k_linear, None
    elif name == "square":
        ys = [1 + tau(_t)]
        ks = [-(1 + tau(_s)) ** 2]
        k, jac = _k_square, _j_square
    elif name == "pair":
        ys = [1 + tau(_t), 2 - tau(_t)]
        y0, y1 = 1 + tau(_s), 2 - tau(_s)
        ks = [-y0 * y1 / 2, (1 + _t * _s) * y0 - y1]
        k, jac = _k_pair, _j_pair
    else:
        raise KeyError(name)
    gs = [y - _singular_integral(kk, al) for y, kk in zip(ys, ks)]
    return SingularProblem(name, alpha, k, jac, tuple(ks), tuple(ys), tuple(gs))


@lru_cache(maxsize=None)
def _lambdified(name, alpha):
    p = problem(name, alpha)
    g = sp.lambdify(_t, list(p.g_expr), modules="math")
    ys = [sp.lambdify(_t, y, modules="numpy") for y in p.exact_expr]
    return g, ys


@lru_cache(maxsize=None)
def _spec(name, alpha):
    p = problem(name, alpha)
    return weakly_singular(p.k, alpha, jacobian=p.jacobian)


# -- helpers -----------------------------------------------------------------------------------

def mesh_point_order(method, alpha):
    """The order of the iterated values at the mesh points on the matching graded mesh."""
    return 1.0 if method == "radau1" else int(method[-1]) + 1 - alpha


def mesh_errors(prob, method, r, ns):
    """Max error of sol.y over the mesh (public API), for each N."""
    errors = []
    for n in ns:
        sol = solve_volterra(prob.spec, prob.forcing, mesh=graded_mesh(1.0, n, r), method=method)
        assert sol.success, sol.message
        errors.append(float(np.max(np.abs(sol.y - prob.exact(sol.t)))))
    return errors


def polynomial_errors(prob, method, r, ns):
    """Max error of the collocation polynomial at the left ends t_n^+ (not collocation points)."""
    points, m = method[:-1], int(method[-1])
    tab = collocation_tableau(points, m)
    kernel = as_kernel(prob.spec, prob.forcing(0.0))
    g_vec, _ = as_forcing(prob.forcing, 0.0)
    left = np.array([math.prod(-tab.c[i] / (tab.c[j] - tab.c[i]) for i in range(m) if i != j)
                     for j in range(m)])  # L_j(0)
    errors = []
    for n in ns:
        t = graded_mesh(1.0, n, r)
        res = collocation_product_integration(kernel.structure["smooth"], prob.alpha, g_vec, t, tab,
                                              1e-13, 50)
        assert res.status == 0
        u_left = np.einsum("j,njd->nd", left, res.stages.reshape(n, m, -1))
        exact = prob.exact(t[:-1]).reshape(n, -1)
        errors.append(float(np.max(np.abs(u_left - exact))))
    return errors


# -- the forcings and the weights against mpmath -----------------------------------------------

@pytest.mark.parametrize("name", ["linear", "square", "pair"])
@pytest.mark.parametrize("alpha", ALPHAS)
def test_forcing_solves_the_equation(name, alpha):
    """g(t) + int_0^t (t - s)^(-alpha) k(t, s, y(s)) ds = y(t): the SymPy forcing against mpmath
    quadrature at 30 digits, and the float forcing the solver sees against it."""
    p = problem(name, alpha)
    with mpmath.workdps(30):
        for tv in (mpmath.mpf("0.37"), mpmath.mpf(1)):
            for i, kexpr in enumerate(p.k_expr):
                f = sp.lambdify(_s, kexpr.subs(_t, tv), modules="mpmath")
                a = mpmath.mpf(str(alpha))
                integral = (mpmath.quad(lambda s: (tv - s) ** (-a) * f(s), [0, tv / 2])
                            + _singular_quad(lambda v: f(tv - v), a, 0, tv / 2))
                g = mpmath.mpf(str(p.g_expr[i].evalf(40, subs={_t: sp.Float(str(tv), 40)})))
                y = mpmath.mpf(str(p.exact_expr[i].evalf(40, subs={_t: sp.Float(str(tv), 40)})))
                assert abs(g + integral - y) < mpmath.mpf(10) ** -25, (name, alpha, tv, i)
                g_float = np.atleast_1d(p.forcing(float(tv)))[i]
                # g is a difference of terms of the size of y: compare on that scale
                assert abs(g_float - g) <= 1e-14 * max(1, abs(y)), (name, alpha, tv, i)


def _singular_quad(F, a, lo, hi):
    """int_lo^hi v^(-a) F(v) dv (0 <= lo < hi) with mpmath, in the variable w = v^(1 - a).

    Integrating v^(-a) directly lets mpmath's tanh-sinh rule miss the part of the integral
    below its smallest node (about (1e-30)^(1 - a): 1e-9 for a = 0.7); in w the integrand
    F(w^(1/(1-a))) / (1 - a) is bounded.
    """
    e = 1 - a
    return mpmath.quad(lambda w: F(w ** (1 / e)), [mpmath.mpf(lo) ** e, mpmath.mpf(hi) ** e]) / e


def _lagrange_mp(c, j):
    c = [mpmath.mpf(x) for x in c]
    return lambda u: mpmath.fprod((u - c[i]) / (c[j] - c[i]) for i in range(len(c)) if i != j)


def _reference_weight(c, j, alpha, t, t_left, t_right):
    """int_{t_left}^{t_right} (t - s)^(-alpha) L_j((s - t_left)/h) ds by mpmath quadrature, for
    the exact values of the float inputs."""
    t, t_left, t_right, a = (mpmath.mpf(x) for x in (t, t_left, t_right, alpha))
    h = t_right - t_left
    L = _lagrange_mp(c, j)
    lo, hi = t - t_right, t - t_left
    return _singular_quad(lambda v: L((t - v - t_left) / h), a, lo, hi)


@pytest.mark.parametrize("points,m", [(p, m) for p in ("gauss", "radau") for m in (1, 2, 3, 4)])
def test_history_weights_match_mpmath(points, m):
    """W_j(t) = int_{t_l}^{t_l+h} (t - s)^(-alpha) L_j((s - t_l)/h) ds to 1e-13 relative, for
    targets at distances delta = (t - t_l - h)/h covering each formula (closed form < 1/4,
    composite Gauss-Legendre < 1, one Gauss-Legendre rule with 12 ... 5 points beyond)."""
    tab = collocation_tableau(points, m)
    t_left, t_right = 0.3, 0.3125
    with mpmath.workdps(30):
        for alpha in (0.05, 0.5, 0.95):
            for delta in (0.0, 1e-9, 0.01, 0.2, 0.3, 0.7, 1.0, 2.5, 5.0, 9.0, 20.0, 100.0, 1e4):
                t = t_right + delta * (t_right - t_left)
                w = history_weights(tab, alpha, t, t_left, t_right)
                for j in range(m):
                    ref = _reference_weight(tab.exact[0], j, alpha, t, t_left, t_right)
                    assert abs(w[j] - ref) <= 1e-13 * abs(ref), (alpha, delta, j, w[j], ref)


@pytest.mark.parametrize("points,m", [(p, m) for p in ("gauss", "radau") for m in (1, 2, 3, 4)])
def test_local_weights_match_mpmath(points, m):
    """a_ij = int_0^{c_i} (c_i - u)^(-alpha) L_j(u) du, b_j = int_0^1 (1 - u)^(-alpha) L_j(u) du."""
    tab = collocation_tableau(points, m)
    for alpha in (0.3, 0.7):
        A, b = local_weights(tab, alpha)
        with mpmath.workdps(30):
            a = mpmath.mpf(str(alpha))
            for j in range(m):
                L = _lagrange_mp(tab.exact[0], j)
                for i, ci in enumerate(list(tab.exact[0]) + [mpmath.mpf(1)]):
                    ref = _singular_quad(lambda v: L(ci - v), a, 0, ci)
                    val = A[i, j] if i < m else b[j]
                    assert abs(val - ref) <= 1e-14 * max(1.0, abs(ref)), (i, j, val, ref)


def test_local_weights_tend_to_the_collocation_tableau():
    """alpha -> 0: product integration becomes ordinary collocation (A, b of the tableau)."""
    for name in ("gauss3", "radau3"):
        tab = collocation_tableau(name[:-1], 3)
        A, b = local_weights(tab, 1e-12)
        np.testing.assert_allclose(A, tab.A, rtol=0, atol=1e-11)
        np.testing.assert_allclose(b, tab.b, rtol=0, atol=1e-11)


@given(st.sampled_from(["gauss2", "gauss4", "radau3"]), st.floats(0.02, 0.98),
       st.floats(0.0, 50.0), st.floats(1e-6, 1.0), st.integers(0, 3))
def test_history_weights_integrate_polynomials_exactly(method, alpha, delta, h, degree):
    """sum_j W_j(t) p(t_lj) = int (t - s)^(-alpha) p(s) ds for every p of degree < m."""
    m = int(method[-1])
    degree = min(degree, m - 1)
    tab = collocation_tableau(method[:-1], m)
    t = (1.0 + delta) * h
    w = history_weights(tab, alpha, t, 0.0, h)
    approx = float(np.dot(w, (tab.c * h) ** degree))
    with mpmath.workdps(40):
        T, H, a = mpmath.mpf(t), mpmath.mpf(h), mpmath.mpf(alpha)
        # int_0^H (T - s)^(-a) s^k ds = int_{T-H}^{T} v^(-a) (T - v)^k dv, expanded binomially
        exact = sum(mpmath.binomial(degree, i) * T ** (degree - i) * (-1) ** i
                    * (T ** (i + 1 - a) - (T - H) ** (i + 1 - a)) / (i + 1 - a)
                    for i in range(degree + 1))
    assert abs(approx - float(exact)) <= 1e-13 * abs(float(exact)), (approx, exact)


# -- orders --------------------------------------------------------------------------------------

GRADED_NS = (32, 64, 128, 256)
RADAU_NS = (64, 128, 256, 512)  # Radau IIA, m >= 2: see PRE_ASYMPTOTIC
# Radau IIA with m >= 2 approaches m + 1 - alpha from below, slowly: the local slopes rise by
# only ~0.03 per doubling of N (the correction to the leading error term decays like a small
# power of 1/N, about N^-(1 - alpha)). Measured at N = 64 ... 512 (fitted on 128 ... 512):
# radau2 2.31 / 2.41 / 2.42 at alpha = 0.5 and 2.04 / 2.13 / 2.11 at alpha = 0.7, radau3
# 3.10 / 3.22 / 3.20 at alpha = 0.7 ("square" / "linear" / "pair"); up to N = 2048 radau2 at
# alpha = 0.7 ("linear") reached local slopes 2.17, 2.20. For these the test checks the approach
# instead of the +-0.2 window: slopes increasing, above the global order m, below the declared one.
PRE_ASYMPTOTIC = {("radau2", 0.5), ("radau2", 0.7), ("radau3", 0.7)}


@pytest.mark.parametrize("method", COLLOCATION)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", ["linear", "square", "pair"])
def test_graded_mesh_restores_the_mesh_point_order(name, alpha, method):
    """sol.y on graded_mesh(1, N, grading_exponent(p, alpha)) has order p = m + 1 - alpha
    (Gauss m = 1, 2, 3; Radau IIA m = 2, 3), p = 1 for radau1."""
    declared = mesh_point_order(method, alpha)
    r = grading_exponent(declared, alpha)
    ns = RADAU_NS if method in ("radau2", "radau3") else GRADED_NS
    errors = mesh_errors(problem(name, alpha), method, r, ns)
    order, _ = fit_order(ns, errors)
    if (method, alpha) in PRE_ASYMPTOTIC:
        slopes = np.log2(np.array(errors[:-1]) / np.array(errors[1:]))
        assert np.all(np.diff(slopes) > 0), (slopes, errors)
        assert int(method[-1]) < order < declared + 0.2, (declared, order, errors)
    else:
        assert abs(order - declared) <= 0.2, (declared, order, errors)


@pytest.mark.parametrize("method", COLLOCATION)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("name", ["square", "pair"])
def test_graded_mesh_restores_the_global_order(name, alpha, method):
    """The collocation polynomial (at t_n^+) on grading_exponent(m, alpha) has order m."""
    m = int(method[-1])
    ns = (16, 32, 64, 128)
    errors = polynomial_errors(problem(name, alpha), method, grading_exponent(m, alpha), ns)
    order, _ = fit_order(ns, errors)
    assert abs(order - m) <= 0.2, (order, errors)


@pytest.mark.parametrize("method", COLLOCATION)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_uniform_mesh_loses_the_order(alpha, method):
    """Uniform mesh: the collocation polynomial converges at 1 - alpha only; the mesh values of
    gauss2, gauss3 and radau3 stay at least one order below their graded-mesh order
    m + 1 - alpha (for m = 1 the uniform-mesh limit 2 - 2 alpha is too close to 2 - alpha to
    separate at these N: gauss1 keeps 1.7 up to N = 128 at alpha = 0.3)."""
    prob = problem("square", alpha)
    m = int(method[-1])
    ns = (16, 32, 64, 128)
    errors = polynomial_errors(prob, method, 1.0, ns)
    order, _ = fit_order(ns, errors)
    # u - y = c h^(1-alpha) on the first interval (u cannot follow t^(1-alpha) there); measured
    # within 0.03 of 1 - alpha for every method and alpha from N = 16 on.
    assert abs(order - (1 - alpha)) <= 0.1, (order, errors)
    if m >= 2 and method != "radau2":
        # sol.y tends to order 2 - 2 alpha (the error at t_1 = h, module docstring), far below
        # the graded-mesh order m + 1 - alpha, and approaches it from either side: within 0.25
        # at N = 32..256 (the largest distance, 0.22, is gauss3 at alpha = 0.5).
        # radau2 is left out: its error at t_1 changes sign between N = 64 and 512, so its
        # fitted slopes jump (0.4 ... 2.0) and no order can be read off.
        ns = (32, 64, 128, 256)
        errors = mesh_errors(prob, method, 1.0, ns)
        order, _ = fit_order(ns, errors)
        assert abs(order - (2 - 2 * alpha)) <= 0.25, (order, errors)


# -- sanity checks against other references ------------------------------------------------------

@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_tiny_alpha_is_ordinary_collocation(method):
    """alpha -> 0: the product-integration solver agrees with the smooth collocation solver
    (the weights differ by O(alpha log h))."""
    t = np.linspace(0.0, 1.0, 17)
    a = solve_volterra(weakly_singular(_k_square, 1e-10), lambda t: 1.0 + t, mesh=t, method=method)
    b = solve_volterra(_k_square, lambda t: 1.0 + t, mesh=t, method=method)
    assert a.success and b.success
    np.testing.assert_allclose(a.y, b.y, rtol=0, atol=1e-8)


def test_abel_equation_against_mpmath():
    """y = 1 - int_0^t (t - s)^(-1/2) y(s) ds: y = E_{1/2}(-sqrt(pi t)) = exp(pi t) erfc(sqrt(pi t))
    (not manufactured: the solution has the full expansion in powers of t^(1/2))."""
    errors = []
    for n in (32, 64):
        t = graded_mesh(2.0, n, grading_exponent(3.5, 0.5))
        sol = solve_volterra(weakly_singular(_k_linear, 0.5), lambda t: 1.0, mesh=t, method="gauss3")
        with mpmath.workdps(30):
            exact = np.array([float(mpmath.exp(mpmath.pi * x) * mpmath.erfc(mpmath.sqrt(mpmath.pi * x)))
                              for x in t])
        errors.append(np.max(np.abs(sol.y - exact)))
    assert errors[-1] < 1e-6  # measured 5.4e-7
    assert abs(np.log2(errors[0] / errors[1]) - 3.5) <= 0.2, errors


def test_exact_and_finite_difference_jacobians_agree():
    p = problem("pair", 0.5)
    t = graded_mesh(1.0, 24, grading_exponent(2.5, 0.5))
    a = solve_volterra(p.spec, p.forcing, mesh=t, method="radau2")
    b = solve_volterra(weakly_singular(_k_pair, 0.5), p.forcing, mesh=t, method="radau2")
    assert a.stats["jacobian"] == "user" and b.stats["jacobian"] == "finite-difference"
    np.testing.assert_allclose(a.y, b.y, rtol=0, atol=1e-11)


def test_shifted_interval_gives_the_same_solution():
    """An autonomous equation on [t0, t0 + 1] is the one on [0, 1], shifted."""
    p = problem("linear", 0.3)
    a = solve_volterra(p.spec, p.forcing, mesh=graded_mesh(1.0, 16, 2.0), method="gauss2")
    b = solve_volterra(p.spec, lambda t: p.forcing(t - 2.0), mesh=graded_mesh(3.0, 16, 2.0, t0=2.0),
                       method="gauss2")
    np.testing.assert_allclose(b.t - 2.0, a.t, rtol=0, atol=1e-15)
    np.testing.assert_allclose(b.y, a.y, rtol=0, atol=1e-12)


# -- work counters, failures, bad input ----------------------------------------------------------

@pytest.mark.parametrize("method", ["gauss1", "radau3"])
def test_work_counters(method):
    """nfev = m^2 N(N-1)/2 (history at stages) + m^2 per Newton iteration + m N(N+1)/2 (iterated
    values); with the exact Jacobian, njev = m^2 per Newton iteration; one Newton solve per step."""
    m, n = int(method[-1]), 20
    p = problem("square", 0.5)
    sol = solve_volterra(p.spec, p.forcing, mesh=graded_mesh(1.0, n, 3.0), method=method,
                         error_estimate=False)
    it = sol.stats["newton_iterations"]
    assert sol.stats["newton_solves"] == n and it >= n
    assert sol.stats["nfev"] == m * m * n * (n - 1) // 2 + m * m * it + m * n * (n + 1) // 2
    assert sol.stats["njev"] == m * m * it


def test_newton_failure_is_reported():
    """One Newton iteration cannot converge on the first interval: status, time and message say
    so, and only the values before it are returned."""
    p = problem("square", 0.5)
    t = graded_mesh(1.0, 16, 3.0)
    sol = solve_volterra(p.spec, p.forcing, mesh=t, method="gauss2", newton_maxiter=1)
    assert not sol.success and "Newton" in sol.message
    assert sol.t_failure == t[1] and sol.t.shape == (1,)


def test_blow_up_is_reported():
    """y = 1 + int_0^t (t - s)^(-1/2) y^2 ds blows up at t* = 0.056 (the failure point moves
    to 0.0561 and the last values grow without bound as the mesh is refined)."""
    t = graded_mesh(1.0, 200, 2.0)
    sol = solve_volterra(weakly_singular(lambda t, s, y: y * y, 0.5), lambda t: 1.0, mesh=t,
                         method="radau2")
    assert not sol.success and ("Newton" in sol.message or "non-finite" in sol.message)
    assert 0.05 < sol.t_failure < 0.07 and np.all(np.isfinite(sol.y)) and sol.y[-1] > 3


def test_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        weakly_singular(_k_linear, 1.0)
    with pytest.raises(ValueError, match="alpha"):
        weakly_singular(_k_linear, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        grading_exponent(2, 1.5)
    with pytest.raises(ValueError, match="order"):
        grading_exponent(0, 0.5)
    with pytest.raises(ValueError, match="r must be"):
        graded_mesh(1.0, 8, 0.5)
    with pytest.raises(ValueError, match="n_steps"):
        graded_mesh(1.0, 0, 2.0)
    with pytest.raises(ValueError, match="t0 < T"):
        graded_mesh(0.0, 8, 2.0)
    with pytest.raises(ValueError, match="underflows"):
        graded_mesh(1.0, 1000, 150.0)
    with pytest.raises(ValueError, match="t_left < t_right <= t"):
        history_weights(collocation_tableau("gauss", 2), 0.5, 0.5, 0.0, 1.0)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "rk4"])
def test_non_collocation_methods_refuse_weakly_singular_kernels(method):
    with pytest.raises(ValueError, match="collocation"):
        solve_volterra(weakly_singular(_k_linear, 0.5), lambda t: 1.0, (0.0, 1.0), 8, method=method)


def test_graded_mesh_values():
    t = graded_mesh(2.0, 10, 3.0, t0=1.0)
    assert t[0] == 1.0 and t[-1] == 2.0
    np.testing.assert_allclose(t, 1.0 + (np.arange(11) / 10) ** 3, rtol=1e-15)
    np.testing.assert_array_equal(graded_mesh(1.0, 4, 1.0), np.linspace(0, 1, 5))
    assert grading_exponent(2, 0.5) == 4.0 and grading_exponent(0.1, 0.5) == 1.0


def test_doctests():
    import doctest
    assert doctest.testmod(_singular).failed == 0


# -- the fast (FFT) history of Abel-type kernels on uniform meshes --------------------------------

def _minus_one(u):
    return -1.0


def _decay(u):
    return np.exp(-u)


def _minus_square(s, y):
    return -y * y


# built once (their compiled wrappers are cached per kernel object): the Abel kernel
# (t - s)^(-1/2) (-y) and (t - s)^(-0.3) e^{-(t - s)} (-y^2)
ABEL = weakly_singular(convolution(_minus_one), 0.5)
DECAY = weakly_singular(convolution(_decay, _minus_square), 0.3)


def _fast_and_direct(spec, g, t, method):
    """Mesh and stage values of the direct O(N^2) history and of the blocked FFT one."""
    from integrallimits.volterra import METHODS
    kernel = as_kernel(spec, g(0.0), 0.0)
    g_vec, _ = as_forcing(g, 0.0)
    out = []
    for fast in (False, True):
        Y, status, index, counts, _ = METHODS[method].solve(kernel, g_vec, t, 1e-13, 50,
                                                            fast_history=fast)
        assert status == 0
        out.append((Y, counts))
    return out


@pytest.mark.parametrize("method, N", [("gauss2", 300), ("radau3", 77)])
def test_fast_history_is_the_direct_sum_to_rounding(method, N):
    """(t - s)^(-0.3) e^{-(t - s)} (-y^2) and the Abel kernel (t - s)^(-1/2) (-y) on uniform
    meshes with N not a power of two: the same mesh values to rounding (the same weights,
    summed by blocks of FFTs)."""
    t = np.linspace(0.0, 1.0, N + 1)
    for spec in (DECAY, ABEL):
        (Y, counts), (Yf, counts_f) = _fast_and_direct(spec, lambda t: 1.0 + t, t, method)
        assert np.max(np.abs(Y - Yf)) <= 8e-15 * np.max(np.abs(Y))
        m = int(method[-1])
        # the same Newton iterations; the direct history costs m^2 N(N-1)/2 + m N(N+1)/2
        # kernel evaluations (see test_work_counters), the fast one m N evaluations of phi
        assert counts_f[2] == counts[2]
        assert counts_f[0] - m * N == counts[0] - m * m * N * (N - 1) // 2 - m * N * (N + 1) // 2


def test_fast_history_vector_matrix_kernel():
    k = lambda u: np.array([[-1.0, 0.5 * np.exp(-u)], [0.0, -0.5]])  # noqa: E731
    spec = weakly_singular(convolution(k, lambda s, y: np.array([y[0] * y[1], y[1]])), 0.5)
    t = np.linspace(0.0, 2.0, 130)
    (Y, _), (Yf, _) = _fast_and_direct(spec, lambda t: np.array([1.0, 1.0 + t]), t, "gauss2")
    assert np.max(np.abs(Y - Yf)) <= 8e-15 * np.max(np.abs(Y))


def test_fast_history_keeps_the_order():
    """The manufactured Abel problem y = 1 + t^(1/2) (k = -y, alpha = 0.5) on uniform meshes:
    the fast history gives the direct history's errors, hence its order."""
    p = problem("linear", 0.5)
    spec = ABEL
    ns = (16, 32, 64, 128)
    errors = {False: [], True: []}
    for n in ns:
        t = np.linspace(0.0, 1.0, n + 1)
        for (Y, _), fast in zip(_fast_and_direct(spec, p.forcing, t, "gauss2"), (False, True)):
            errors[fast].append(float(np.max(np.abs(Y[:, 0] - p.exact(t)))))
    np.testing.assert_allclose(errors[True], errors[False], rtol=1e-9)
    assert fit_order(ns, errors[True])[0] >= 1.0 - 0.1       # 2 - 2 alpha = 1 on a uniform mesh


def test_fast_history_needs_a_uniform_mesh_and_a_convolution():
    from integrallimits.volterra import METHODS
    g_vec, _ = as_forcing(lambda t: 1.0, 0.0)
    conv = as_kernel(ABEL, 1.0, 0.0)
    with pytest.raises(ValueError, match="uniform mesh"):
        METHODS["gauss2"].solve(conv, g_vec, graded_mesh(1.0, 16, 2.0), 1e-12, 50, fast_history=True)
    plain = as_kernel(problem("linear", 0.5).spec, 1.0, 0.0)
    with pytest.raises(ValueError, match="convolution"):
        METHODS["gauss2"].solve(plain, g_vec, np.linspace(0, 1, 17), 1e-12, 50, fast_history=True)


def test_alpha_next_to_one_gets_a_finite_estimate_that_shows_no_digits():
    """alpha = 1 - 1e-16: the uniform mesh's order 1 - alpha made the Richardson denominator
    2^q - 1 exactly 0 and the estimate NaN (with status 0 and no word); 2^q - 1 is now formed
    by expm1, and the estimate says the values have no correct digit: more than half the
    solution's size, so the solve fails there (it was a success whose last estimate was over
    10 times |y|) and keeps only the values before, with finite estimates."""
    alpha = np.nextafter(1.0, 0.0)
    sol = solve_volterra(weakly_singular(lambda t, s, y: -y, alpha=alpha), lambda t: 1.0,
                         (0.0, 1.0), 16, method="gauss2")
    assert np.all(np.isfinite(sol.error_estimate))
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert "its error estimate there" in sol.message and "exceeds half" in sol.message


def _abel_exact(t):
    from scipy.special import erfcx
    return erfcx(np.sqrt(np.pi * np.asarray(t)))


@pytest.mark.parametrize("method", [None, "gauss2"])
@pytest.mark.parametrize("rtol", [1e-3, 1e-6])
def test_values_between_the_mesh_points_meet_the_tolerance(method, rtol):
    """The dense output (``sol(t)``, ``t_eval``) of a weakly singular solve is a partial step
    of product integration.  It interpolated the mesh values with polynomials, which cannot
    follow the (t - t0)^(1 - alpha) start across the first steps of a graded mesh: Abel's
    equation to rtol = 1e-3 was a success whose values at t_eval were 288 times the tolerance
    off (36 times at 1e-6; gauss2: 8.3 and 6.9); now at most 0.9 times."""
    atol = 1e-9
    t_eval = np.concatenate([np.geomspace(1e-12, 1e-2, 200), np.linspace(0.01, 1.0, 100)])
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), lambda t: 1.0, (0.0, 1.0),
                         rtol=rtol, atol=atol, method=method, t_eval=t_eval)
    assert sol.success
    error = np.abs(sol.y - _abel_exact(sol.t))
    assert np.all(error <= atol + rtol * np.abs(sol.y))


@pytest.mark.parametrize("method", ["gauss2", "radau3", "gauss4"])
@pytest.mark.parametrize("mesh", ["uniform", "graded"])
def test_dense_output_has_the_accuracy_of_the_mesh_values(method, mesh):
    """Between the mesh points the error is that of the mesh values, and the estimate at
    ``t_eval`` bounds it as it bounds those (within 1.33 on the graded mesh; uniform mesh, N = 64: the error between t0 and t1 was 0.062, 155-186
    times the largest estimate, for radau3 and gauss4; graded, gauss3/radau3 N = 16: 3.2e-3
    against 4.9e-5 and 1.5e-5 at the mesh points)."""
    t = np.linspace(0.0, 1.0, 65) if mesh == "uniform" else graded_mesh(1.0, 16, 7.0)
    t_eval = np.concatenate([np.geomspace(1e-12, 1e-2, 200), np.linspace(0.01, 1.0, 301)])
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), lambda t: 1.0, mesh=t,
                         method=method, t_eval=t_eval)
    assert sol.success
    mesh_error = np.max(np.abs(sol.y_mesh - _abel_exact(sol.mesh)))
    error = np.abs(sol.y - _abel_exact(sol.t))
    assert np.max(error) <= 1.5 * mesh_error
    assert np.max(error) <= 2.0 * np.max(sol.error_estimate)
    # the values at the mesh points are the mesh values, bit for bit
    np.testing.assert_array_equal(sol(sol.mesh), sol.y_mesh)


_JUMP = 0.503


def _k_minus(t, s, y):
    return -y


def _jump_forcing(t):
    """g of y = 1 + t^(1/2) + H(t - 0.503) for K = -(t - s)^(-1/2) y: g = y + int_0^t
    (t - s)^(-1/2) y ds = 1 + 3 t^(1/2) + pi t / 2 + H(t - 0.503) (1 + 2 (t - 0.503)^(1/2))."""
    t = np.asarray(t, dtype=float)
    after = t >= _JUMP
    return (1.0 + 3.0 * np.sqrt(t) + 0.5 * np.pi * t +
            np.where(after, 1.0 + 2.0 * np.sqrt(np.where(after, t - _JUMP, 0.0)), 0.0))


def _jump_exact(t):
    t = np.asarray(t, dtype=float)
    return 1.0 + np.sqrt(t) + (t >= _JUMP)


@pytest.mark.parametrize("method,n", [("gauss1", 16), ("gauss2", 16), ("radau3", 64)])
def test_a_jump_of_g_inside_a_step_is_in_the_estimate(method, n):
    """A jump of g inside a step is missed alike by the nested meshes of the estimate, and on
    graded meshes their rate judged the order regardless: y = 1 + t^(1/2) + H(t - 0.503),
    K = -(t - s)^(-1/2) y was a success with errors 39 (gauss1, 16 graded steps), 646
    (gauss2, 16) and 394 (radau3, 64) times the largest estimate.  Now the differences of g
    show the step, and the estimates are raised to the change of the answer when the steps
    there are divided."""
    alpha = 0.5
    m = METHODS[method]
    mesh = graded_mesh(1.0, n, grading_exponent(min(m.order, m.stages + 1 - alpha), alpha))
    sol = solve_volterra(weakly_singular(_k_minus, alpha), _jump_forcing, mesh=mesh,
                         method=method)
    error = np.max(np.abs(sol.y - _jump_exact(sol.t)))
    assert sol.success, sol.message
    assert error <= 20.0 * np.max(sol.error_estimate)
    assert "not smooth at the scale of the steps" in sol.message


@pytest.mark.parametrize("method,alpha,n", [("radau4", 0.3, 16), ("gauss4", 0.5, 32),
                                            ("radau3", 0.5, 64)])
def test_the_singular_start_of_g_is_not_taken_for_rough_data(method, alpha, n):
    """g of the manufactured "pair" problem takes the solution's t^(1 - alpha) start, whose
    differences of high order across the first steps of a graded mesh are up to 161 times the
    error estimate (radau4, alpha = 0.3, 16 steps): the check of rough data skips the first
    steps and checks those longer than their distance from t0 on pieces no longer than
    theirs, and these solves keep their estimates (as the check never ran)."""
    p = problem("pair", alpha)
    m = METHODS[method]
    mesh = graded_mesh(1.0, n, grading_exponent(min(m.order, m.stages + 1 - alpha), alpha))
    sol = solve_volterra(weakly_singular(p.k, alpha), p.forcing, mesh=mesh, method=method)
    assert sol.success
    assert "not smooth" not in sol.message
    assert np.max(np.abs(sol.y - p.exact(sol.t))) <= 20.0 * np.max(sol.error_estimate)


def _jump_g(c):
    """g of y = 1 + t^(1/2) + H(t - c) for K = -(t - s)^(-1/2) y (as :func:`_jump_forcing`)."""
    def g(t):
        t = np.asarray(t, dtype=float)
        after = t >= c
        return (1.0 + 3.0 * np.sqrt(t) + 0.5 * np.pi * t +
                np.where(after, 1.0 + 2.0 * np.sqrt(np.where(after, t - c, 0.0)), 0.0))
    return g


@pytest.mark.parametrize("n", [16, 32])
def test_a_jump_of_g_in_the_first_step_of_a_weakly_singular_solve_is_checked(n):
    """g jumping at 0.2 h, inside the first of n uniform radau2 steps and before its first
    stage (h / 3): every stage of the step sees the jump, and the integral over [0, 0.2 h]
    misses it alike on every nested mesh; the check of rough data skipped the first steps
    (the solution's t^(1/2) start): successes with errors 31 and 28 times the estimate.  The
    first step is checked on pieces [2^-(j+1) h, 2^-j h], no longer than their distance from
    t0, where that start's differences stay small, and only the innermost is skipped."""
    c = 0.2 / n
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _jump_g(c), (0.0, 1.0), n,
                         method="radau2")
    exact = 1.0 + np.sqrt(sol.t) + (sol.t >= c)
    error = np.max(np.abs(sol.y - exact))
    assert not sol.success or error <= 20.0 * np.max(sol.error_estimate), sol.message


def _half_integral(a, t):
    """int_a^t (t - s)^(-1/2) (1 + s^(1/2)) ds (0 where t <= a)."""
    t = np.asarray(t, dtype=float)
    a = np.minimum(a, t)
    ratio = np.where(t > 0, a / np.where(t > 0, t, 1.0), 0.0)
    return 2.0 * np.sqrt(t - a) + t * (0.5 * np.pi - np.arcsin(np.sqrt(ratio))) + np.sqrt(
        a * (t - a))


def _k_jump_s(t, s, y, c):
    return -(1.0 if s < c else 2.0) * y


def _jump_s(c):
    """g of y = 1 + t^(1/2) for K = -(t - s)^(-1/2) kk(s) y, kk = 1 before c and 2 after."""
    def g(t):
        t = np.asarray(t, dtype=float)
        return 1.0 + np.sqrt(t) + _half_integral(0.0, t) + np.where(t > c, _half_integral(c, t),
                                                                      0.0)
    return g


def _graded(method, alpha, n):
    m = METHODS[method]
    return graded_mesh(1.0, n, grading_exponent(min(m.order, m.stages + 1 - alpha), alpha))


def _honest(sol, exact):
    """A success's largest error within 20 times its largest estimate (or below 1e-13)."""
    error = float(np.max(np.abs(sol.y - exact(sol.t))))
    return not sol.success or error <= max(20.0 * float(np.max(sol.error_estimate)), 1e-13)


def test_a_jump_of_g_just_after_a_mesh_point_is_located():
    """y = 1 + t^(1/2) + H(t - 0.503), K = -(t - s)^(-1/2) y, gauss3 on 64 graded steps: the
    jump is 7e-4 after the mesh point 0.50229, before the first Gauss point of its step, and
    every mesh that keeps the point (the divided solve of the data check too) misses the
    integral over the 7e-4 alike, an error of 1.9e-3 for an estimate of 6e-5 (32 times).  The
    check now locates the jump by bisection of g's differences and makes it a point of the
    divided solve, whose change is about the error."""
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _jump_forcing,
                         mesh=_graded("gauss3", 0.5, 64), method="gauss3")
    assert sol.success, sol.message
    assert "not smooth at the scale of the steps" in sol.message
    assert _honest(sol, _jump_exact)
    assert np.max(sol.error_estimate) <= 10.0 * np.max(np.abs(sol.y - _jump_exact(sol.t)))


@pytest.mark.parametrize("method,c", [("radau3", 1.0 / 3.0), ("radau4", 0.2718)])
def test_a_jump_of_g_in_a_long_step_of_a_graded_mesh_is_checked(method, c):
    """On 8 graded steps every step from the third on is longer than its distance from t0,
    and the data check skipped them: y = 1 + t^(1/2) + H(t - c) was a success with errors
    323 (radau3, c = 1/3) and 1.9e4 (radau4, c = 0.2718) times the estimate.  Now those steps
    are checked on pieces no longer than their distance from t0."""
    def exact(t):
        return 1.0 + np.sqrt(t) + (t >= c)
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _jump_g(c),
                         mesh=_graded(method, 0.5, 8), method=method)
    assert "not smooth at the scale of the steps" in sol.message
    assert _honest(sol, exact)


def test_a_jump_of_k_in_s_is_weighed_by_the_singular_factor_and_located():
    """k = -y before s = 0.503 and -2 y after, alpha = 1/2, 64 graded gauss1 steps: a success
    with an error of 0.19, 24 times the estimate.  The differences of k across the step
    [0.4768, 0.5060] times h (the weight of a jump of a smooth kernel over the step) were
    24 times the estimate, and the divided solve kept the jump after the midpoint of its last
    piece, missing it alike.  Now k's differences are weighed by the singular factor's
    2 h^(1/2) (83 times the estimate) and the jump is a point of the divided solve."""
    c = 0.503
    sol = solve_volterra(weakly_singular(_k_jump_s, 0.5), _jump_s(c),
                         mesh=_graded("gauss1", 0.5, 64), method="gauss1", args=(c,))
    assert "not smooth" in sol.message or "no reliable digits" in sol.message
    assert _honest(sol, lambda t: 1.0 + np.sqrt(t))


def test_a_jump_on_four_steps_is_checked():
    """The data check ran on meshes of 8 steps or more, and skipped the steps longer than
    their distance from t0: k jumping at s = 0.7071 (in the last of 4 graded gauss3 steps,
    [0.13, 1]) was a success with an error of 0.42, 36 times the estimate."""
    c = 0.7071
    sol = solve_volterra(weakly_singular(_k_jump_s, 0.5), _jump_s(c),
                         mesh=_graded("gauss3", 0.5, 4), method="gauss3", args=(c,))
    assert "not smooth" in sol.message
    assert _honest(sol, lambda t: 1.0 + np.sqrt(t))


def test_a_rate_from_one_step_is_no_evidence_of_the_order():
    """radau4 on 4 graded steps, y = 1 + t^0.7, k = -y, alpha = 0.3: the solves on 1, 2 and 4
    steps have errors 1.4e-6, 2.9e-5, 2.7e-5 at t = 1 (the last step, 0.86 of the interval,
    is nearly the companion's); the rate 12.5 of the one-step solve gave the order 3.64 and
    an estimate 139 times below the error.  The estimate takes the least order 1 - alpha."""
    p = problem("linear", 0.3)
    sol = solve_volterra(weakly_singular(p.k, 0.3), p.forcing, mesh=_graded("radau4", 0.3, 4),
                         method="radau4")
    assert sol.success, sol.message
    assert _honest(sol, p.exact)
    assert sol.stats["estimate_order"] == pytest.approx(0.7)


@pytest.mark.parametrize("method,rtol", [("gauss3", 1e-5), ("gauss1", 1e-3)])
def test_a_jump_of_g_after_a_point_of_the_nested_graded_meshes_is_seen_at_a_tolerance(method,
                                                                                      rtol):
    """Solves to a tolerance refine graded meshes that are nested and keep their points: the
    jump of y = 1 + t^(1/2) + H(t - 0.503) 7e-4 after the point 0.50229 of each of gauss3's
    meshes was missed alike by all of them, a success on 128 steps at rtol 1e-5 with an error
    121 times the tolerance (gauss1 at 1e-3: 41 times).  The data check of the solves on a
    given mesh now runs on the last mesh, and its estimates so raised (over 10 times the
    tolerance) fail the solve."""
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _jump_forcing, (0.0, 1.0), rtol=rtol,
                         atol=rtol * 1e-2, method=method)
    exact = _jump_exact(sol.t)
    error = np.max(np.abs(sol.y - exact) / (rtol * np.abs(exact) + rtol * 1e-2))
    assert not sol.success or error <= 10.0
    assert sol.success or "not smooth at the scale of the steps" in sol.message
    bound = 10.0 * (rtol * np.abs(sol.y) + rtol * 1e-2)
    assert sol.success or np.all(sol.error_estimate <= bound)


def test_a_divided_solve_that_fails_leaves_no_unchecked_success_at_a_tolerance(monkeypatch):
    """Where the data check finds a step whose data are not smooth and the solve with those
    steps divided fails (its Newton iterations, or g or K raising at a new point), a solve on
    a given mesh takes its companion's estimates with the order 1 of a jump; a solve to a
    tolerance keeps no companion estimate, and its answer was returned as it was: gauss3 on
    y = 1 + t^(1/2) + H(t - 0.503) at rtol 1e-5, a success with an error 121 times the
    tolerance.  Its own estimates are taken so now.  (The failed divided solve is simulated.)"""
    from integrallimits.volterra import _solve

    monkeypatch.setattr(_solve, "companion", lambda run: lambda mesh: (None, -1, None, 0))
    rtol = 1e-5
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _jump_forcing, (0.0, 1.0), rtol=rtol,
                         atol=rtol * 1e-2, method="gauss3")
    exact = _jump_exact(sol.t)
    error = np.max(np.abs(sol.y - exact) / (rtol * np.abs(exact) + rtol * 1e-2))
    assert not sol.success or error <= 10.0
    assert sol.success or "not smooth at the scale of the steps" in sol.message


def _kink_forcing(t):
    """g of y = 1 + t^(1/2) + (t - 1/3)_+ for K = -(t - s)^(-1/2) y: g = 1 + 3 t^(1/2) +
    pi t / 2 + d + 4 d^(3/2) / 3, d = (t - 1/3)_+."""
    t = np.asarray(t, dtype=float)
    d = np.maximum(t - 1.0 / 3.0, 0.0)
    return 1.0 + 3.0 * np.sqrt(t) + 0.5 * np.pi * t + d + (4.0 / 3.0) * d ** 1.5


def test_a_kink_of_g_where_the_differences_of_one_stencil_vanish_is_seen():
    """The differences of order p + 1 of a kink of g vanish for one place of the kink between
    two of the stencil's points: gauss2 at rtol 1e-5 on y = 1 + t^(1/2) + (t - 1/3)_+,
    K = -(t - s)^(-1/2) y, put 1/3 there in the step [0.32133, 0.33739] of its 128 graded
    steps and was a success with an error 13.8 times the tolerance (differences 0.34 times
    the estimate).  g's differences on a second stencil see it."""
    rtol = 1e-5
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), _kink_forcing, (0.0, 1.0), rtol=rtol,
                         atol=rtol * 1e-2, method="gauss2")
    exact = 1.0 + np.sqrt(sol.t) + np.maximum(sol.t - 1.0 / 3.0, 0.0)
    error = np.max(np.abs(sol.y - exact) / (rtol * np.abs(exact) + rtol * 1e-2))
    assert error <= 10.0 or not sol.success
    assert sol.success or "not smooth at the scale of the steps" in sol.message


@pytest.mark.parametrize("t0", [1e5, -1e5])
def test_graded_meshes_far_from_zero_fail_with_a_status(t0):
    """Far from 0 the graded meshes of a solve to a tolerance reach coincident points in
    floating point: on [1e5, 1e5 + 1] radau2's (grading 5) first points coincide beyond 168
    steps, and Abel's equation to rtol = 1e-6 raised a ValueError from the solver's mesh
    check.  The refinement stops at the last mesh that has distinct points: a failed solve
    saying why, whose kept values are within 20 times their estimates."""
    sol = solve_volterra(weakly_singular(_k_minus, 0.5), lambda t: 1.0, (t0, t0 + 1.0),
                         method="radau2", rtol=1e-6, atol=1e-8)
    assert not sol.success and sol.stats["failure"] == "tolerance"
    assert "coincident points in floating point" in sol.message
    assert np.all(np.diff(sol.t) > 0)
    error = np.abs(sol.y - _abel_exact(sol.t - t0))
    assert np.max(error) <= 20.0 * np.max(sol.error_estimate)


def test_graded_meshes_without_distinct_points_are_a_clear_error():
    """Where even the first graded mesh has coincident points, a ValueError says so (and
    what to do), instead of the solver's check of its own mesh."""
    with pytest.raises(ValueError, match="shift the time origin"):
        solve_volterra(weakly_singular(_k_minus, 0.5), lambda t: 1.0, (1e8, 1e8 + 1.0),
                       method="radau4", rtol=1e-3, atol=1e-5)


def test_a_grading_past_the_largest_float_is_no_overflow_error():
    """alpha = 0.97 to rtol 1e-4: the grading exponent ~60 made n^r overflow in
    ``_first_certain_step`` (``float(n) ** r`` raises OverflowError, it does not give inf):
    the user got a bare OverflowError.  The solve now meets its tolerance; alpha = 0.999 from
    t0 = 0, whose first graded points underflow to 0, is a ValueError that does not advise
    shifting an origin already at 0."""
    sol = solve_volterra(weakly_singular(_k_minus, 0.97), lambda t: 1.0, (0.0, 1.0),
                         rtol=1e-4)
    assert sol.success
    assert np.all(np.diff(sol.t) > 0) and np.all(np.isfinite(sol.error_estimate))
    with pytest.raises(ValueError, match="underflow to 0") as info:
        solve_volterra(weakly_singular(_k_minus, 0.999), lambda t: 1.0, (0.0, 1.0), rtol=1e-6)
    assert "shift the time origin" not in str(info.value)


def _graded_steps_limit_from_whole_meshes(t0, T, grading, n_max, n_start):
    """The limit as it was computed, from the whole mesh at each size (the reference)."""
    from integrallimits.volterra._tolerance import _refinement_mesh

    def distinct(n):
        return bool(np.all(np.diff(_refinement_mesh(t0, T, n, grading)) > 0))

    if grading == 1.0 or distinct(n_max):
        return n_max
    if not distinct(n_start):
        return "ValueError"
    lo, hi = n_start // 2, n_max // 2
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if distinct(2 * mid) else (lo, mid)
    return 2 * lo


def test_the_graded_steps_limit_equals_the_one_from_whole_meshes():
    """_graded_steps_limit makes only the first points of each mesh (those before its steps
    are certain to be positive; a whole mesh of 2^15 points cost 0.7-6 ms a solve, the
    bisection from t0 = 1 some 15 ms, of a ~0.1 s solve): the same limits as from the whole
    meshes, near 0 and far from it, short and long intervals, gradings 1 to 10."""
    from integrallimits.volterra._tolerance import _graded_steps_limit
    seen = set()
    for t0 in (0.0, 1.0, -3.0, 1e3, 1e5, -1e5, 1e8, 2.0 ** 30):
        for length in (1e-3, 1.0, 7.0, 1e3):
            for grading in (1.0, 1.5, 2.0, 3.0, 10.0 / 3.0, 5.0, 7.5, 10.0):
                for n_max in (2 ** 10, 2 ** 15):
                    args = (np.float64(t0), np.float64(t0 + length), grading, n_max, 8)
                    try:
                        got = _graded_steps_limit(*args)
                    except ValueError:
                        got = "ValueError"
                    assert got == _graded_steps_limit_from_whole_meshes(*args), args
                    seen.add(got if got in ("ValueError", n_max) else "limited")
    assert seen >= {"ValueError", "limited", 2 ** 10, 2 ** 15}


@pytest.mark.parametrize("name, alpha, method, rtol", [
    ("abel", 0.5, None, 1e-5), ("abel", 0.5, None, 1e-6), ("linear", 0.8, None, 1e-3),
    ("linear", 0.95, None, 1e-3), ("linear", 0.8, "gauss2", 1e-3),
    ("square", 0.5, None, 1e-6), ("square", 0.5, "gauss3", 1e-6)])
def test_the_estimates_of_the_first_graded_points_bound_their_errors(name, alpha, method, rtol):
    """At the first common points of a graded mesh the companion's step all but repeats the
    solution's last one (ratio 1 + 2^-r), and both carry the same error of the
    (t - t0)^(1 - alpha) start: the half-steps estimates there were 37 (Abel's equation,
    radau3, rtol 1e-5) to 3e4 (alpha = 0.95) times below the errors.  Issue 13's bar: every
    estimate within a factor 20 of an error above 1e-13."""
    if name == "abel":
        spec, g, exact, atol = weakly_singular(_k_minus, alpha), (lambda t: 1.0), \
            _abel_exact, 1e-8
    else:
        prob = problem(name, alpha)
        spec, g, exact, atol = prob.spec, prob.forcing, prob.exact, rtol * 1e-3
    sol = solve_volterra(spec, g, (0.0, 1.0), rtol=rtol, atol=atol, method=method)
    assert sol.success
    error = np.abs(sol.y - exact(sol.t))
    seen = error > 1e-13
    assert np.all(error[seen] <= 20.0 * sol.error_estimate[seen])
