"""The discrete adjoint is the exact gradient: against 4th-order central differences for every
network family and rule, and for plain kernels."""
import re
import warnings

import numpy as np
import pytest
from gradient_check import blocks_of, check_gradient, fd4
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy_reference import NETWORK_ACTIVATIONS

from integrallimits import SolverError, solve_volterra
from integrallimits.control import discrete_adjoint
from integrallimits.kernels import RecompilationWarning, as_kernel
from integrallimits.networks import ConcatDense, ReLUResNet, ResidualDense, ResNet, SmoothNet
from integrallimits.volterra import METHODS

RULES = [name for name, m in METHODS.items() if m.family == "direct"]
FAMILIES = ["resnet", "residual-dense", "concat-dense", "smooth", "relu-resnet"]


def _net(family, rule, rng, activation="tanh", k=2, d=2):
    N = max(6, METHODS[rule].min_steps)
    Wd, bd = rng.normal(size=(N + 1, N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, N + 1, d)) * 0.3
    Wr, br = rng.normal(size=(N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, d)) * 0.3
    if family == "resnet":
        return ResNet(Wr, br, n_layers=N, rule=rule, activation=activation)
    if family == "residual-dense":
        return ResidualDense(Wd, bd, n_layers=N, rule=rule, activation=activation)
    if family == "concat-dense":
        return ConcatDense(Wd, n_layers=N, rule=rule, activation=activation)
    if family == "smooth":
        return SmoothNet(k, Wr, br, n_layers=N, rule=rule, activation=activation,
                         initial_differences=rng.normal(size=(k - 1, d)) * 0.3)
    m = 3
    return ReLUResNet(rng.normal(size=(N, d, m)) / N, rng.normal(size=(N, m, d)),
                      np.abs(rng.normal(size=(N, m))), rule=rule)


def _blocks(net):
    """The index ranges of the parameter blocks of ``net.theta`` (everything after the header)."""
    if net.family == "relu-resnet":
        N, d, m = net.n_layers, net.d, net.m
        blocks = blocks_of(np.empty((N + 1, d, m)), np.empty((N + 1, m, d)), np.empty((N + 1, m)))
    else:
        blocks = blocks_of(net.W, *([net.b] if hasattr(net, "b") else []))
    assert blocks[-1][-1] == len(net.theta) - 1       # the blocks cover all of theta
    return blocks


def _loss(net, x0, c, kernel_solve=False):
    """(loss, solve) of the network's forward map (``kernel_solve``: solve_volterra on its
    kernel, without the network's count of the roots of its implicit steps)."""
    sol = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, net.T), net.n_layers,
                         method=net.rule, raise_on_failure=True) if kernel_solve else \
        net.solve(x0, raise_on_failure=True)
    y = sol.y[-1]
    return float(c @ y + 0.5 * y @ y + 0.1 * np.sum(np.sin(sol.y))), sol


def _check_network_gradient(family, rule, activation, k, seed):
    rng = np.random.default_rng(seed)
    net = _net(family, rule, rng, activation, k)
    _check_gradient_of(net, rng.normal(size=net.d), rng)


def _check_gradient_of(net, x0, rng, kernel_solve=False):
    c = rng.normal(size=net.d)
    _loss_of = lambda x, kernel_solve=kernel_solve: _loss(net, x, c, kernel_solve)  # noqa: E731
    _, sol = _loss_of(x0)
    dphi = 0.1 * np.cos(sol.y)
    dphi[-1] += c + sol.y[-1]
    adj = discrete_adjoint(net.kernel(1), sol.t, sol.y, net.rule, dphi)
    assert adj.status
    assert np.all(adj.grad_theta[:6] == 0.0)           # the header
    check_gradient(lambda: _loss_of(x0)[0], net.theta, adj.grad_theta, _blocks(net), rng,
                   smooth=net.activation != "relu")
    fdx = np.array([fd4(lambda e, i=i: _loss_of(x0 + e * np.eye(net.d)[i])[0])
                    for i in range(net.d)])
    assert np.max(np.abs(fdx - adj.mu.sum(axis=0))) <= 1e-7 * max(np.max(np.abs(fdx)), 1e-3)


# every family with every rule (activations and k rotate through their ranges, k = 1 and 5
# included), run explicitly: a derandomized draw cannot miss a pair
_COVER = [(f, r, "relu" if f == "relu-resnet" else NETWORK_ACTIVATIONS[(i + j) % 4], 1 + (i + 2 * j) % 5)
          for i, f in enumerate(FAMILIES) for j, r in enumerate(RULES)]


@pytest.mark.parametrize("family,rule,activation,k", _COVER)
def test_adjoint_gradient_every_family_and_rule(family, rule, activation, k):
    _check_network_gradient(family, rule, activation, k, seed=7)


@settings(max_examples=30)
@given(family=st.sampled_from(FAMILIES), rule=st.sampled_from(RULES),
       activation=st.sampled_from(NETWORK_ACTIVATIONS), k=st.integers(1, 5),
       seed=st.integers(0, 10**6))
@example(family="smooth", rule="rectangle", activation="softplus", k=5, seed=0)
@example(family="smooth", rule="gregory8", activation="sigmoid", k=1, seed=1)
def test_adjoint_gradient_equals_finite_differences(family, rule, activation, k, seed):
    _check_network_gradient(family, rule, activation, k, seed)


def test_adjoint_gradient_where_newton_cycled():
    """The ReLU ResNet of tests/networks/test_relu_newton.py, whose last implicit step Newton's
    method could not solve on the base (it cycled between activation patterns; the step
    equation has one root, now found by continuation): its discrete adjoint is its gradient.
    (Its layer 2 has two roots: the network's forward map says so (relu-51), and the gradient
    checked is that of solve_volterra on its kernel, at the root Newton's method reached.)"""
    W = np.array([[[1.7, 3.8], [-4.9, -1.9]], [[-3.8, -5.3], [-6.3, 0.9]],
                  [[0.7, -1.6], [0.2, 5.6]], [[1.8, 0.9], [-1.3, -5.5]],
                  [[6.4, -1.1], [8.9, 2.7]]])
    b = np.array([[0.4, 0.4], [-1.6, -1.6], [0.5, 0.4], [-0.4, 0.5], [-0.3, 0.9]])
    net = ResNet(W, b, activation="relu", rule="implicit-rectangle")
    with pytest.raises(SolverError, match=r"\(layer 2\) has 2 roots"):
        net.solve(np.array([-1.0, -1.2]), raise_on_failure=True)
    _check_gradient_of(net, np.array([-1.0, -1.2]), np.random.default_rng(0), kernel_solve=True)


def test_header_gets_no_gradient():
    rng = np.random.default_rng(0)
    net = _net("residual-dense", "trapezoid", rng)
    _, sol = _loss(net, np.ones(2), np.ones(2))
    dphi = np.zeros_like(sol.y)
    dphi[-1] = 1.0
    adj = discrete_adjoint(net.kernel(1), sol.t, sol.y, "trapezoid", dphi)
    assert np.all(adj.grad_theta[:6] == 0.0)


def _plain(t, s, y):     # a module function: its kernel is compiled once for all the rules
    return np.exp(-(t - s)) * np.sin(y) + 0.3 * t * y


@pytest.mark.parametrize("rule", RULES)
def test_adjoint_of_a_plain_kernel_is_the_derivative_in_g(rule):
    """For a user kernel (finite-difference Jacobian inside the vjp), sum_n mu_n = dy_N/dc for
    the forcing g = c; compare with 4th-order differences in c."""
    K = as_kernel(_plain, 1.0)
    c = np.array([0.7])

    def yN(e):
        return solve_volterra(K, lambda t: float(c[0]) + e, (0.0, 1.0), 12, method=rule).y[-1]

    sol = solve_volterra(K, lambda t: float(c[0]), (0.0, 1.0), 12, method=rule)
    dphi = np.zeros((13, 1))
    dphi[-1] = 1.0
    adj = discrete_adjoint(K, sol.t, sol.y[:, None], rule, dphi)
    assert adj.mu.sum() == pytest.approx(fd4(yN), rel=1e-6)


def test_work_counters_and_messages(monkeypatch):
    """vjp_calls: one per pair (n, j), n > j, of a direct rule without a starting block (N(N-1)/2);
    njev: one Jacobian per implicit step (trapezoid: N; rectangle: none; gauss2: m^2 per step)."""
    K = as_kernel(lambda t, s, y: np.exp(-(t - s)) * np.sin(y), 1.0,
                  jacobian=lambda t, s, y: np.exp(-(t - s)) * np.cos(y))
    N = 6
    dphi = np.zeros((N + 1, 1))
    dphi[-1] = 1.0
    expected = {"rectangle": (15, 0), "trapezoid": (15, 6), "gauss2": (None, 24)}
    for rule, (calls, njev) in expected.items():
        sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), N, method=rule)
        adj = discrete_adjoint(K, sol.t, sol.y[:, None], rule, dphi, stages=sol.stages)
        assert adj.status and adj.message == "ok" and adj.grad_g is adj.mu
        assert adj.stats["njev"] == njev and calls in (None, adj.stats["vjp_calls"])
    with pytest.raises(ValueError, match=r"^Y \(6, 1\) and dphi \(6, 1\) must both have the shape "
                       r"\(len\(t\), d\), .* t has the shape \(7,\)$"):
        discrete_adjoint(K, sol.t, np.zeros((6, 1)), "trapezoid", np.zeros((6, 1)))
    with pytest.raises(ValueError, match=r"a scalar solve's sol.y\[:, None\]"):
        discrete_adjoint(K, sol.t, sol.y, "trapezoid", dphi[:, 0])
    # (I - h w_nn K_y)^T singular: K_y = 8 = 1 / (h w_nn) for the trapezoid rule with h = 1/4
    linear = as_kernel(lambda t, s, y: 8.0 * y, 1.0, jacobian=lambda t, s, y: 8.0)
    t = np.linspace(0.0, 1.0, 5)
    adj = discrete_adjoint(linear, t, np.ones((5, 1)), "trapezoid", np.ones((5, 1)))
    assert not adj.status and adj.message == "singular adjoint system at t = 1"

    class Elsewhere:
        family = "fft-only"
    monkeypatch.setitem(METHODS, "elsewhere", Elsewhere())
    with pytest.raises(ValueError, match=r"^no discrete adjoint for the 'fft-only' method 'elsewhere'$"):
        discrete_adjoint(K, t, np.ones((5, 1)), "elsewhere", np.ones((5, 1)))


_RATE = 1.0


def _decay(t, s, y):     # reads the global _RATE
    return -_RATE * y


def test_a_kernel_object_kept_across_a_change_of_a_global_is_differentiated_with_the_new_value():
    """A kernel made once and used again after the global its function reads changed: the
    solver compiled it again, the adjoint ran the old value's code (for the linear y' = -a y,
    sum_n mu_n = y_N: the adjoint gave the a = 1 value, 0.367, for a = 3's 0.048)."""
    global _RATE
    K = as_kernel(_decay, 1.0)
    dphi = np.zeros((9, 1))
    dphi[-1] = 1.0
    try:
        for rate in (1.0, 3.0):
            _RATE = rate
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RecompilationWarning)
                sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")
                adj = discrete_adjoint(K, sol.t, sol.y[:, None], "trapezoid", dphi)
            assert adj.status
            assert adj.mu.sum() == pytest.approx(sol.y[-1], rel=1e-12)
    finally:
        _RATE = 1.0


def test_a_jacobian_that_raises_or_gives_nan_in_the_adjoint_is_not_a_success():
    """The forward rectangle rule never calls the Jacobian, the adjoint's vjp does: a Jacobian
    raising there, or returning NaN, gave status True, message "ok" and NaN adjoint states."""
    def jac_raising(t, s, y):
        if y < 0.5:
            raise ArithmeticError(f"no Jacobian at y = {y}")
        return -1.0

    def jac_nan(t, s, y):
        return np.nan if y < 0.5 else -1.0

    dphi = np.zeros((9, 1))
    dphi[-1] = 1.0
    for jac in (jac_raising, jac_nan):
        K = as_kernel(lambda t, s, y: -y, 1.0, jacobian=jac)
        sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="rectangle")
        assert sol.success
        if jac is jac_raising:
            with pytest.raises(ArithmeticError, match=r"^no Jacobian at y = 0\.39"):
                discrete_adjoint(K, sol.t, sol.y[:, None], "rectangle", dphi)
        else:
            adj = discrete_adjoint(K, sol.t, sol.y[:, None], "rectangle", dphi)
            assert not adj.status
            assert adj.message.startswith("the Jacobian of K(t, s, y) returned a non-finite value "
                                          "(inf/nan) at t = 1.0, s = 0.875, y = 0.39")


def test_the_parameter_gradient_of_a_kernel_that_does_not_differentiate_its_args_is_nan():
    """grad_theta of a user kernel with args= was all zeros (the generic vjp leaves theta
    alone), a wrong gradient: d y_N / d p is -0.136 for K = -p y at p = 2; now NaN, said in
    the message, while mu is still the exact gradient in g."""
    def K(t, s, y, p):
        return -p * y

    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid", args=(2.0,))
    dphi = np.zeros((9, 1))
    dphi[-1] = 1.0
    adj = discrete_adjoint(as_kernel(K, 1.0, args=(2.0,)), sol.t, sol.y[:, None], "trapezoid", dphi)
    assert adj.status and np.all(np.isnan(adj.grad_theta)) and adj.grad_theta.shape == (1,)
    assert "grad_theta is NaN" in adj.message
    assert adj.mu.sum() == pytest.approx(sol.y[-1], rel=1e-12)


@pytest.mark.parametrize("rule", ["rectangle", "trapezoid"])
def test_read_only_states_are_taken(rule):
    """Read-only t, Y or dphi raised Numba's "No matching definition for argument type(s)"."""
    rng = np.random.default_rng(0)
    kernel = ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2))).kernel(1)
    sol = solve_volterra(kernel, lambda t: np.ones(2), (0.0, 1.0), 4, method=rule)
    args = [sol.t.copy(), sol.y.copy(), np.ones_like(sol.y)]
    want = discrete_adjoint(kernel, args[0], args[1], rule, args[2])
    for a in args:
        a.setflags(write=False)
    got = discrete_adjoint(kernel, args[0], args[1], rule, args[2])
    assert np.array_equal(got.mu, want.mu) and np.array_equal(got.grad_theta, want.grad_theta)


def test_a_mesh_or_states_that_do_not_fit_are_refused():
    """Each of these returned status=True, "ok" and adjoint states: a reversed, NaN or
    non-uniform t for a direct rule (which is defined on uniform meshes only), and states of
    another width than the kernel's (read past their rows)."""
    rng = np.random.default_rng(0)
    kernel = ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2))).kernel(1)
    sol = solve_volterra(kernel, lambda t: np.ones(2), (0.0, 1.0), 4)
    dphi = np.ones_like(sol.y)
    for t in (sol.t[::-1], np.array([0.0, np.nan, 0.5, 0.75, 1.0])):
        with pytest.raises(ValueError, match="t must be the solve's mesh"):
            discrete_adjoint(kernel, t, sol.y, "rectangle", dphi)
    with pytest.raises(ValueError, match="'rectangle' needs a uniform mesh"):
        discrete_adjoint(kernel, np.array([0.0, 0.1, 0.5, 0.6, 1.0]), sol.y, "rectangle", dphi)
    with pytest.raises(ValueError, match="Y has 3 components per time, but the kernel is for y "
                                         "of dimension 2"):
        discrete_adjoint(kernel, sol.t, np.ones((5, 3)), "rectangle", np.ones((5, 3)))


def test_an_unknown_method_or_a_plain_function_is_refused_naming_it():
    """method="foo" was a KeyError of METHODS; a plain K (not the Kernel of the solve) failed
    with AttributeError: 'function' object has no attribute 'current'."""
    K = as_kernel(lambda t, s, y: -y, 1.0)
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")
    Y, dphi = sol.y[:, None], np.ones((9, 1))
    with pytest.raises(ValueError, match=r"^unknown method 'foo'; known: rectangle, "):
        discrete_adjoint(K, sol.t, Y, "foo", dphi)
    with pytest.raises(TypeError, match=r"^kernel must be the Kernel of the forward solve, got "
                                        r"function: wrap a function K\(t, s, y\) once with "):
        discrete_adjoint(lambda t, s, y: -y, sol.t, Y, "trapezoid", dphi)
    assert discrete_adjoint(K, sol.t, Y, "trapezoid", dphi).status


def _cubic(t, s, y):
    return -y * (1.0 + 0.5 * y * y)


def _cubic_jacobian(t, s, y):
    return -(1.0 + 1.5 * y * y)


def _cubic_jacobian_without_chain_rule(t, s, y):
    return -(1.0 + 0.5 * y * y)


def _adjoint_of_y1(K, method, g=1.0, N=16, args=()):
    sol = solve_volterra(K, lambda t: g, (0.0, 1.0), N, method=method, args=args)
    Y = sol.y.reshape(N + 1, -1)
    dphi = np.zeros_like(Y)
    dphi[-1] = 1.0
    return discrete_adjoint(K, sol.t, Y, method, dphi, stages=sol.stages), sol


@pytest.mark.parametrize("method", ["rectangle", "trapezoid", "gauss2", "radau3"])
def test_a_jacobian_that_disagrees_with_the_kernel_is_refused(method):
    """The adjoint uses a Jacobian the user gave as dK/dy itself: one missing the chain rule's
    term (-(1 + y^2 / 2) for K = -y (1 + y^2 / 2)) gave gradients of y(1) 43-51% off with
    status True and message "ok" (the forward solves were right: Newton only slowed).  Now it
    is checked against difference quotients of K at three points of the solve; the right one
    passes, at 3 (6 d + 1) calls of K."""
    adj, _ = _adjoint_of_y1(as_kernel(_cubic, 1.0, jacobian=_cubic_jacobian_without_chain_rule),
                            method)
    assert not adj.status
    assert adj.message.startswith("the Jacobian given with the kernel disagrees with difference "
                                  "quotients of K(t, s, y) at t = ")
    said = re.search(r" y = ([-\d.e]+): dK/dy is ([-\d.e]+) by the Jacobian, ([-\d.e]+) by "
                     r"differences of K \(to within ([\d.e-]+)\)", adj.message)
    y, given, differences, within = map(float, said.groups())
    assert given == pytest.approx(_cubic_jacobian_without_chain_rule(0, 0, y), rel=1e-5)
    assert differences == pytest.approx(_cubic_jacobian(0, 0, y), rel=1e-5)
    assert within < 0.01 * abs(given - differences)
    assert "make the kernel without jacobian=" in adj.message
    right = as_kernel(_cubic, 1.0, jacobian=_cubic_jacobian)
    adj, sol = _adjoint_of_y1(right, method)
    assert adj.status and adj.message == "ok" and adj.stats["check_nfev"] == 21
    mu = adj.mu.sum() + (0.0 if adj.mu_stages is None else adj.mu_stages.sum())
    y1 = lambda e: _adjoint_of_y1(right, method, 1.0 + e)[1].y[-1]  # noqa: E731
    assert mu == pytest.approx(fd4(y1), rel=1e-7)


def _relu(t, s, y, at_zero):
    return max(y, 0.0)


def _relu_jacobian(t, s, y, at_zero):
    return 1.0 if y > 0.0 else (at_zero if y == 0.0 else 0.0)


def _rotation(t, s, y):
    return np.array([-y[1] * y[0], y[0] - np.sin(y[1])])


def _rotation_jacobian_wrong_sign(t, s, y):
    return np.array([[-y[1], -y[0]], [1.0, np.cos(y[1])]])


def test_the_jacobian_check_takes_subgradients_at_kinks_and_names_the_entry():
    """y = int_0^t relu(y) ds stays at the kink y = 0: every point checked is one, where the
    one-sided quotients 0 and 1 differ.  Any value between them (a subgradient) is taken;
    2 is not.  For y in R^2 the message names the wrong entry (its sign)."""
    for at_zero, ok in ((0.0, True), (1.0, True), (0.5, True), (2.0, False)):
        K = as_kernel(_relu, 0.0, jacobian=_relu_jacobian, args=(at_zero,))
        adj, _ = _adjoint_of_y1(K, "trapezoid", g=0.0, args=(at_zero,))
        assert adj.status == ok, at_zero
    assert "dK/dy is 2 by the Jacobian, between 0 and 1 by differences of K" in adj.message
    K = as_kernel(_rotation, np.array([1.0, 0.0]), jacobian=_rotation_jacobian_wrong_sign)
    adj, _ = _adjoint_of_y1(K, "trapezoid", g=np.array([1.0, 0.0]))
    assert not adj.status
    assert "dK/dy[1, 1] is 1 by the Jacobian, -1 by differences of K" in adj.message
    assert adj.stats["check_nfev"] == 39


class _Counted:
    """A compiled function counting the calls made of it from Python."""

    def __init__(self, function):
        self.function, self.calls = function, 0

    def __call__(self, *args):
        self.calls += 1
        return self.function(*args)


@pytest.mark.parametrize("method", ["trapezoid", "radau3"])
def test_the_jacobian_check_calls_k_and_the_jacobian_in_compiled_code(method):
    """The check's 3 (6 d + 1) calls of K and 3 of the Jacobian were made from Python: ~0.65 ms,
    4-5x a trapezoid adjoint at N = 16 (135 -> 786 us).  Now one compiled call makes them
    through the kernel's addresses (~5 us): K's and the Jacobian's Python entry points are
    not called, and the verdicts are the same."""
    for jacobian, ok in ((_cubic_jacobian, True), (_cubic_jacobian_without_chain_rule, False)):
        K = as_kernel(_cubic, 1.0, jacobian=jacobian)
        adj, sol = _adjoint_of_y1(K, method)   # (builds the addresses and the vjp)
        assert adj.status == ok
        function, jac = _Counted(K.function), _Counted(K.jacobian_function)
        K.__dict__.update(function=function, jacobian_function=jac)
        Y = sol.y.reshape(-1, 1)
        dphi = np.zeros_like(Y)
        dphi[-1] = 1.0
        again = discrete_adjoint(K, sol.t, Y, method, dphi, stages=sol.stages)
        assert (again.status, again.message, again.stats) == (adj.status, adj.message, adj.stats)
        assert again.stats["check_nfev"] == 21
        assert function.calls == jac.calls == 0
