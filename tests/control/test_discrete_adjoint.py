"""The discrete adjoint is the exact gradient: against 4th-order central differences for every
network family and rule, and for plain kernels."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.control import discrete_adjoint
from integrallimits.kernels import as_kernel
from integrallimits.networks import ConcatDense, ReLUResNet, ResidualDense, ResNet, SmoothNet

RULES = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4"]


def _net(family, rule, rng, N=6, d=2):
    Wd, bd = rng.normal(size=(N + 1, N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, N + 1, d)) * 0.3
    Wr, br = rng.normal(size=(N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, d)) * 0.3
    if family == "resnet":
        return ResNet(Wr, br, n_layers=N, rule=rule, activation="softplus")
    if family == "residual-dense":
        return ResidualDense(Wd, bd, n_layers=N, rule=rule)
    if family == "concat-dense":
        return ConcatDense(Wd, n_layers=N, rule=rule, activation="sigmoid")
    if family == "smooth":
        return SmoothNet(2, Wr, br, n_layers=N, rule=rule)
    m = 3
    return ReLUResNet(rng.normal(size=(N, d, m)) / N, rng.normal(size=(N, m, d)),
                      np.abs(rng.normal(size=(N, m))), rule=rule)


def _loss(net, x0, c):
    sol = net.solve(x0, raise_on_failure=True)
    y = sol.y[-1]
    return float(c @ y + 0.5 * y @ y + 0.1 * np.sum(np.sin(sol.y))), sol


def _fd4(f, x, i, e=1e-4):
    """Fourth-order central difference of f along coordinate i (truncation ~ e^4)."""
    def at(delta):
        old = x[i]
        x[i] = old + delta
        try:
            return f()
        finally:
            x[i] = old
    return (-at(2 * e) + 8 * at(e) - 8 * at(-e) + at(-2 * e)) / (12 * e)


@settings(max_examples=30)
@given(family=st.sampled_from(["resnet", "residual-dense", "concat-dense", "smooth", "relu-resnet"]),
       rule=st.sampled_from(RULES), seed=st.integers(0, 10**6))
def test_adjoint_gradient_equals_finite_differences(family, rule, seed):
    if family == "relu-resnet" and rule != "rectangle":
        rule = "trapezoid"  # a kink-free implicit case is unlikely at random; keep one implicit rule
    rng = np.random.default_rng(seed)
    net = _net(family, rule, rng)
    x0, c = rng.normal(size=net.d), rng.normal(size=net.d)
    phi, sol = _loss(net, x0, c)
    dphi = 0.1 * np.cos(sol.y)
    dphi[-1] += c + sol.y[-1]
    adj = discrete_adjoint(net.kernel(1), sol.t, sol.y, rule, dphi)
    assert adj.status
    body = np.arange(6, len(net.theta))
    idx = rng.choice(body, size=min(10, len(body)), replace=False)
    fd = np.array([_fd4(lambda: _loss(net, x0, c)[0], net.theta, i) for i in idx])
    g = adj.grad_theta[idx]
    scale = max(np.max(np.abs(fd)), 1e-3)
    assert np.max(np.abs(fd - g)) <= 1e-7 * scale, (fd, g)
    fdx = np.array([_fd4(lambda: _loss(net, x0, c)[0], x0, k) for k in range(net.d)])
    assert np.max(np.abs(fdx - adj.mu.sum(axis=0))) <= 1e-7 * max(np.max(np.abs(fdx)), 1e-3)


def test_header_gets_no_gradient():
    rng = np.random.default_rng(0)
    net = _net("residual-dense", "trapezoid", rng)
    _, sol = _loss(net, np.ones(2), np.ones(2))
    dphi = np.zeros_like(sol.y)
    dphi[-1] = 1.0
    adj = discrete_adjoint(net.kernel(1), sol.t, sol.y, "trapezoid", dphi)
    assert np.all(adj.grad_theta[:6] == 0.0)


@pytest.mark.parametrize("rule", RULES + ["gregory6"])
def test_adjoint_of_a_plain_kernel_is_the_derivative_in_g(rule):
    """For a user kernel (finite-difference Jacobian inside the vjp), sum_n mu_n = dy_N/dc for
    the forcing g = c; compare with 4th-order differences in c."""
    K = as_kernel(lambda t, s, y: np.exp(-(t - s)) * np.sin(y) + 0.3 * t * y, 1.0)
    c = np.array([0.7])

    def yN():
        return solve_volterra(K, lambda t: float(c[0]), (0.0, 1.0), 12, method=rule).y[-1]

    sol = solve_volterra(K, lambda t: float(c[0]), (0.0, 1.0), 12, method=rule)
    dphi = np.zeros((13, 1))
    dphi[-1] = 1.0
    adj = discrete_adjoint(K, sol.t, sol.y[:, None], rule, dphi)
    assert adj.mu.sum() == pytest.approx(_fd4(yN, c, 0), rel=1e-6)
