"""Implicit steps of ReLU networks: the step equation x = c + h w_nn relu(W x + b) is piecewise
linear, and Newton's method (which solves the linear system of the current activation pattern at
each iteration) can cycle between patterns although the equation has one root.  A failed step of
a network's solve is tried again by continuation in the implicit weight
(``integrallimits.volterra._loops._continuation``); an equation with no root still fails."""
from itertools import product

import numpy as np
import pytest

from integrallimits import SolverError, solve_volterra
from integrallimits.networks import ReLUResNet, ResidualDense, ResNet, _roots

#: A 2-wide ReLU ResNet of 5 layers on the implicit rectangle rule (h = 0.2), found by a random
#: scan (tools/relu_newton_scan.py's kind of network, rounded to one decimal).  On the base,
#: Newton's method cycled at the last layer (50 iterations, "did not converge at t = 1"),
#: although its step equation has exactly one root.
W_CYCLING = np.array([[[1.7, 3.8], [-4.9, -1.9]], [[-3.8, -5.3], [-6.3, 0.9]],
                      [[0.7, -1.6], [0.2, 5.6]], [[1.8, 0.9], [-1.3, -5.5]],
                      [[6.4, -1.1], [8.9, 2.7]]])
B_CYCLING = np.array([[0.4, 0.4], [-1.6, -1.6], [0.5, 0.4], [-0.4, 0.5], [-0.3, 0.9]])
X0_CYCLING = np.array([-1.0, -1.2])


def step_roots(c, hw, W, b):
    """Every root of x = c + hw relu(W x + b): for each activation pattern D the linear system
    (I - hw D W) x = c + hw D b (nonsingular in the cases here), kept when W x + b agrees with
    D (a root on a pattern boundary, found from two patterns, is kept once)."""
    d = len(c)
    roots = []
    for pattern in product((0.0, 1.0), repeat=d):
        D = np.diag(pattern)
        x = np.linalg.solve(np.eye(d) - hw * D @ W, c + hw * D @ b)
        z = W @ x + b
        if all((zi >= 0) if p else (zi <= 0) for zi, p in zip(z, pattern)) and \
                not any(np.allclose(x, r, rtol=1e-12, atol=0) for r in roots):
            roots.append(x)
    return roots


def _kernel_solve(net, x0):
    """The rule applied to the network's kernel by solve_volterra itself (the volterra layer,
    without the network's count of the roots of its steps)."""
    return solve_volterra(net.kernel(1), net.forcing(x0[None, :]), (0.0, net.T), net.n_layers,
                          method=net.rule, raise_on_failure=True)


def test_a_cycling_newton_step_with_one_root_is_solved():
    net = ResNet(W_CYCLING, B_CYCLING, activation="relu", rule="implicit-rectangle")
    sol = _kernel_solve(net, X0_CYCLING)                    # SolverError on the base
    assert sol.status == 0
    # implicit Euler: x_n = x_{n-1} + h relu(W_n x_n + b_n) (net.W: the grid values, the last
    # layer's repeated for n = N); each layer is a root of its step equation (layer 2's has two,
    # and the base's Newton iteration converged to one of them), the last layer's only one
    for n in range(1, net.n_layers + 1):
        roots = step_roots(sol.y[n - 1], net.h, net.W[n], net.b[n])
        assert min(np.max(np.abs(r - sol.y[n])) for r in roots) <= 1e-13 * np.max(np.abs(sol.y[n]))
    assert len(roots) == 1
    # the network's forward map is not defined at layer 2 (two roots): it says so (relu-51)
    with pytest.raises(SolverError, match=r"t = 0.4 \(layer 2\) has 2 roots"):
        net.forward(np.stack([X0_CYCLING, X0_CYCLING]))
    # the same network as a residual-dense one (W(t, s) = W(s)): the general direct loop, not
    # the t-independent one, with the same step equations
    N = net.n_layers
    dense = ResidualDense(np.broadcast_to(net.W[None], (N + 1,) + net.W.shape),
                          np.broadcast_to(net.b[None], (N + 1,) + net.b.shape), n_layers=N,
                          activation="relu", rule="implicit-rectangle")
    y = _kernel_solve(dense, X0_CYCLING).y                  # SolverError on the base
    assert np.max(np.abs(y - sol.y)) <= 1e-13 * np.max(np.abs(sol.y))


def test_a_step_equation_without_a_root_still_fails():
    """x1 = 1 + h/2 (relu(16) + relu(16 x1)) = 3 + 2 relu(x1) (trapezoid, h = 1/4) has no root:
    x1 > 0 gives x1 = -3, x1 <= 0 gives x1 = 3."""
    net = ResNet(np.full((4, 1, 1), 16.0), np.zeros((4, 1)), activation="relu", rule="trapezoid")
    assert step_roots(np.array([3.0]), 2.0, np.array([[1.0]]), np.zeros(1)) == []
    with pytest.raises(SolverError, match="did not converge at t = 0.25"):
        net.solve(np.ones(1), raise_on_failure=True)
    with pytest.warns(RuntimeWarning, match="did not converge"):
        out = net.forward(np.ones((1, 1)), raise_on_failure=False)
    assert np.all(np.isnan(out))


# -- relu-53: a Newton failure at a step with exactly one root ------------------------------------

def _small_relu_resnet(rule, d, m, N, scale, seed):
    """tools/relu_newton_scan.py's --small configuration (entry weights)."""
    rng = np.random.default_rng(seed)
    V = scale * rng.normal(size=(N, d, m)) / N
    net = ReLUResNet(V, rng.normal(size=(N, m, d)), rng.normal(size=(N, m)), rule=rule)
    return net, rng.normal(size=d)


def test_a_newton_failure_at_a_step_with_one_root_takes_that_root():
    """--small --n 600 --seed 3, id 66: trapezoid, Newton fails at the last layer (6), whose step
    equation has exactly one root; the layer is that root (on the base: status -1, "newton")."""
    net, x0 = _small_relu_resnet("trapezoid", 3, 4, 6, 5.143643166264848, 1320720311)
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 6, method=net.rule)
    assert raw.status == -1 and raw.stats["failure"] == "newton" and raw.y.shape == (6, 3)
    sol = net.solve(x0)
    assert sol.status == 0 and sol.stats["roots_solved"] == 1, sol.message
    assert "(layer 6), whose step equation has one root" in sol.message
    assert np.array_equal(sol.y[:6], raw.y) and np.array_equal(sol.mesh[:6], raw.mesh)
    assert sol.mesh[-1] == 1.0 and np.all(np.isnan(sol.error_estimate[6]))
    # the rule's equation of layer 6, with the network's own kernel (trapezoid weights)
    K, h, t = net.kernel(1), net.h, sol.mesh
    inner = sum(K(t[6], t[j], sol.y[j]) for j in range(1, 6))
    rhs = x0 + h * (0.5 * K(t[6], t[0], sol.y[0]) + inner + 0.5 * K(t[6], t[6], sol.y[6]))
    assert np.max(np.abs(rhs - sol.y[6])) <= 1e-13 * np.max(np.abs(sol.y[6]))
    assert _roots.step_roots(net, [6], sol.y).shape[0] == 1
    assert np.array_equal(net.forward(x0[None])[0], sol.y[-1])


def test_a_continued_solve_stops_at_a_later_step_with_two_roots():
    """id 575: implicit rectangle, Newton fails at layer 5 (one root); layers 5, 6 have one root
    each, layer 7 two: a failure "several-roots" at layer 7 (on the base: "newton" at 5)."""
    net, x0 = _small_relu_resnet("implicit-rectangle", 3, 3, 10, 5.061065555197056, 501005141)
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "several-roots", sol.message
    assert sol.stats["roots"] == 2 and "(layer 7) has 2 roots" in sol.message
    assert "Newton's method failed at t = 0.5 (layer 5)" in sol.message
    assert sol.y.shape == (7, 3)
    K, h, t = net.kernel(1), net.h, sol.mesh
    for n in (5, 6):       # x_n = x_0 + h sum_{j=1..n} K(t_n, t_j, x_j)
        rhs = x0 + h * sum(K(t[n], t[j], sol.y[j]) for j in range(1, n + 1))
        assert np.max(np.abs(rhs - sol.y[n])) <= 1e-13 * np.max(np.abs(sol.y[n]))
