"""The discrete adjoint of the Volterra Runge-Kutta and collocation methods is the exact gradient
of the computed mesh values: against 4th-order central differences in the forcing and in the
kernel's parameters, on uniform and graded meshes, with and without the fast convolution history."""
import numpy as np
import pytest
import sympy as sp
from gradient_check import blocks_of, check_gradient, fd4
from hypothesis import example, given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.control import discrete_adjoint
from integrallimits.kernels import as_kernel, convolution, from_sympy, weakly_singular
from integrallimits.networks import ResidualDense
from integrallimits.volterra import METHODS

VRK = [name for name, m in METHODS.items() if m.family == "vrk"]
_t, _s, _y, _y1, _y2 = sp.symbols("t s y y1 y2")
# non-convolution, nonlinear, K(t, t, y) != 0; exact (SymPy) Jacobians
SCALAR = from_sympy(sp.exp(-(_t - _s)) * sp.sin(_y) + sp.Rational(3, 10) * _t * _y, _t, _s, _y)
VECTOR = from_sympy([sp.cos(_t * _s) * _y2 - sp.Rational(1, 2) * _y1 ** 2,
                     -_y1 + sp.Rational(1, 5) * (_t - _s) * sp.tanh(_y2)], _t, _s, [_y1, _y2])


def _stage_times(t, method):
    c = METHODS[method].tableau.c
    return (t[:-1, None] + c[None, :] * np.diff(t)[:, None]).ravel()


def _loss(sol, w):
    """Phi = w . y_N + 0.1 sum_n sum_k sin(y_nk), and dPhi/dY."""
    Y = sol.y.reshape(len(sol.t), -1)
    dphi = 0.1 * np.cos(Y)
    dphi[-1] += w
    return float(w @ Y[-1] + 0.1 * np.sin(Y).sum()), dphi


def _check_forcing_gradient(K, y0, method, mesh=None, **options):
    """g(t) = c (1 + t) y0: dPhi/dc = sum_n mu_n . g'(t_n) + sum_ni nu_ni . g'(t_ni)."""
    y0 = np.atleast_1d(np.asarray(y0, dtype=float))
    w = np.linspace(1.0, -0.5, y0.size)
    scalar = y0.size == 1 and K.scalar

    def solve(c):
        g = (lambda t: c * (1 + t) * y0[0]) if scalar else (lambda t: c * (1 + t) * y0)
        grid = {"mesh": mesh} if mesh is not None else {"t_span": (0.0, 1.0), "n_steps": 10}
        return solve_volterra(K, g, **grid, method=method, raise_on_failure=True, **options)

    sol = solve(0.8)
    _, dphi = _loss(sol, w)
    adj = discrete_adjoint(K, sol.t, sol.y.reshape(len(sol.t), -1), method, dphi,
                           stages=sol.stages)
    assert adj.status, adj.message
    ts = _stage_times(sol.t, method)
    grad = (adj.mu * (1 + sol.t)[:, None]).sum(0) @ y0 + \
        (adj.mu_stages * (1 + ts)[:, None]).sum(0) @ y0
    fd = fd4(lambda e: _loss(solve(0.8 + e), w)[0])
    assert grad == pytest.approx(fd, rel=1e-7, abs=1e-9)
    return adj


@pytest.mark.parametrize("method", VRK)
def test_vrk_adjoint_scalar_forcing_gradient(method):
    _check_forcing_gradient(SCALAR, 1.0, method)


@pytest.mark.parametrize("method", ["rk4", "gauss2", "radau3"])
def test_vrk_adjoint_vector_forcing_gradient(method):
    _check_forcing_gradient(VECTOR, [1.0, -0.5], method)


@pytest.mark.parametrize("method", ["gauss3", "radau2"])
def test_vrk_adjoint_on_a_graded_mesh(method):
    mesh = np.linspace(0.0, 1.0, 11) ** 2
    _check_forcing_gradient(SCALAR, 1.0, method, mesh=mesh)


def test_vrk_adjoint_of_a_fast_convolution_solve():
    """The forward sums the history by FFT; the adjoint transposes the direct sums: they
    are the same scheme up to rounding, so the gradient still matches differences."""
    K = as_kernel(convolution(lambda u: np.exp(-u) * np.cos(2 * u), lambda s, y: np.tanh(y),
                              phi_jacobian=lambda s, y: 1.0 - np.tanh(y) ** 2), 1.0)
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 10, method="gauss2")
    assert sol.stats["fast_history"]
    _check_forcing_gradient(K, 1.0, "gauss2")


@settings(max_examples=15, deadline=None)
@given(method=st.sampled_from(VRK), seed=st.integers(0, 10**6))
@example(method="rk4", seed=0)
@example(method="gauss4", seed=1)
@example(method="radau1", seed=2)
def test_vrk_adjoint_parameter_gradient(method, seed):
    """theta-gradients through the kernel's vjp: the residual-dense layer map
    K(t, s, x) = tanh(W(t, s) x + b(t, s)) (weights on the grid, read at the nearest node)
    used as a plain kernel under a Runge-Kutta method.  Every parameter is checked: one
    random direction per block (W, b), one over all of theta, and coordinates drawn from
    the whole index set (see gradient_check)."""
    rng = np.random.default_rng(seed)
    N, d = 5, 2
    net = ResidualDense(rng.normal(size=(N + 1, N + 1, d, d)) * 0.5,
                        rng.normal(size=(N + 1, N + 1, d)) * 0.3, n_layers=N)
    K = net.kernel(1)
    x0 = rng.normal(size=d)
    w = rng.normal(size=d)

    def solve(x=x0):
        return solve_volterra(K, lambda t: x, (0.0, net.T), N, method=method,
                              raise_on_failure=True)

    sol = solve()
    _, dphi = _loss(sol, w)
    adj = discrete_adjoint(K, sol.t, sol.y, method, dphi, stages=sol.stages)
    assert adj.status
    assert np.all(adj.grad_theta[:6] == 0.0)   # the header
    check_gradient(lambda: _loss(solve(), w)[0], net.theta, adj.grad_theta,
                   blocks_of(net.W, net.b), rng)
    # the constant forcing x0 enters every mesh value and every stage
    fdx = np.array([fd4(lambda e, k=k: _loss(solve(x0 + e * np.eye(d)[k]), w)[0])
                    for k in range(d)])
    np.testing.assert_allclose(adj.mu.sum(0) + adj.mu_stages.sum(0), fdx, rtol=0,
                               atol=1e-7 * max(1e-3, abs(fdx).max()))


def test_linear_problem_gradient_is_the_solution():
    """y = c - int_0^t y ds is linear in c, so dy_N/dc = y_N / c exactly, for every method."""
    K = as_kernel(lambda t, s, y: -y, 1.0, jacobian=lambda t, s, y: -1.0)
    for method in VRK:
        sol = solve_volterra(K, lambda t: 2.0, (0.0, 1.0), 7, method=method)
        dphi = np.zeros((8, 1))
        dphi[-1] = 1.0
        adj = discrete_adjoint(K, sol.t, sol.y[:, None], method, dphi, stages=sol.stages)
        total = adj.mu.sum() + adj.mu_stages.sum()
        assert total == pytest.approx(sol.y[-1] / 2.0, rel=1e-13), method
        assert adj.mu[-1, 0] == 1.0 and np.all(adj.mu[:-1] == 0.0)


@pytest.mark.parametrize("method", ["gauss2", "radau3", "rk4"])
def test_vrk_adjoint_of_a_tiny_solution_is_the_scaled_one(method):
    """y = c + int_0^t y^2 / (2 c) ds with c = 2^-100 is y = c Y(t) for the c = 1 solution Y,
    and dy_N/dg is the same.  The adjoint's implicit stage systems took finite-difference
    Jacobians with steps sqrt(eps) max(|y|, 1) (the forward solve's floor comes from y(t0)):
    gauss2/radau3 reported success with dy_N/dg = 1 for 4 (75% wrong), rk4 non-finite
    states.  With the forward solve's floor a problem scaled by 2^k is adjoined bit for bit as
    the unscaled one."""
    def K(t, s, y, c):
        return y * y / (2.0 * c)

    out = []
    for c in (1.0, 2.0 ** -100):
        sol = solve_volterra(K, lambda t: c, (0.0, 1.0), 16, method=method, args=(c,),
                             error_estimate=False)
        dphi = np.zeros((17, 1))
        dphi[-1] = 1.0
        adj = discrete_adjoint(as_kernel(K, c, args=(c,)), sol.t, sol.y[:, None], method, dphi,
                               stages=sol.stages)
        assert adj.status, adj.message
        out.append((sol.y / c, adj.mu, adj.mu_stages))
    (y1, mu1, nu1), (y2, mu2, nu2) = out
    assert np.array_equal(y1, y2) and np.array_equal(mu1, mu2) and np.array_equal(nu1, nu2)
    # and the gradient is the derivative: y = 1 / (1 - t/2) at c = 1, dy(1)/dg = 4
    assert mu1.sum() + nu1.sum() == pytest.approx(4.0, rel=1e-4)


def test_vrk_adjoint_input_errors():
    K = as_kernel(lambda t, s, y: -y, 1.0)
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 4, method="gauss2")
    dphi = np.ones((5, 1))
    with pytest.raises(ValueError, match=r"^the adjoint of 'gauss2' needs the stage values: pass "
                                         r"stages=sol.stages$"):
        discrete_adjoint(K, sol.t, sol.y[:, None], "gauss2", dphi)
    with pytest.raises(ValueError, match=r"^stages must have shape \(8, 1\) for 'gauss2' on this mesh, "
                                         r"got \(7, 1\)$"):
        discrete_adjoint(K, sol.t, sol.y[:, None], "gauss2", dphi, stages=sol.stages[:-1])
    with pytest.raises(ValueError, match=r"^Y and dphi must be finite$"):
        discrete_adjoint(K, sol.t, sol.y[:, None], "gauss2", dphi * np.nan, stages=sol.stages)
    assert solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 4, method="trapezoid").stages is None
    Ks = weakly_singular(lambda t, s, y: -y, 0.5)
    sing = solve_volterra(Ks, lambda t: 1.0, (0.0, 1.0), 4, method="gauss2")
    assert sing.stages is None
    with pytest.raises(ValueError, match=r"^the discrete adjoint of product integration \(weakly "
                                         r"singular kernels\) is not implemented$"):
        discrete_adjoint(as_kernel(Ks, 1.0), sing.t, sing.y[:, None], "gauss2", dphi,
                         stages=np.zeros((8, 1)))
