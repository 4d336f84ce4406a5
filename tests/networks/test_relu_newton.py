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


# -- relu-54: a Newton failure at a step without a root, or in a Gregory starting block --------

def _relu_resnet_roots(net, x0, Y, rows):
    """Every root of a ReLU ResNet's step equations of ``rows`` (consecutive layers; the values
    before them from Y), by brute force over the activation patterns of their units and the
    rule's exact weights (not the networks' own search): x_r = x_0 + h sum_j w_rj V_j / h
    relu(W_j x_j + b_j), the layers j in ``rows`` unknown (V_j, W_j, b_j of layer min(j, N-1))."""
    from integrallimits.quadrature import volterra_rule
    N, d, m, h = net.n_layers, net.d, net.m, net.h
    w = volterra_rule(net.rule).weights(N)
    R, first = len(rows), rows[0]
    part = lambda j: (net.V[min(j, N - 1)] / h, net.W[min(j, N - 1)], net.b[min(j, N - 1)])
    c = np.zeros(R * d)
    for i, r in enumerate(rows):
        c[i * d:(i + 1) * d] = x0 + sum(h * w[r, j] * part(j)[0] @ np.maximum(
            part(j)[1] @ Y[j] + part(j)[2], 0.0) for j in range(first))
    found = []
    for pattern in product((0.0, 1.0), repeat=R * m):
        D = np.reshape(pattern, (R, m))
        M, rhs = np.eye(R * d), c.copy()
        for i, r in enumerate(rows):
            for a, j in enumerate(rows):
                A, B, b = part(j)
                M[i * d:(i + 1) * d, a * d:(a + 1) * d] -= h * w[r, j] * (A * D[a]) @ B
                rhs[i * d:(i + 1) * d] += h * w[r, j] * (A * D[a]) @ b
        x = np.linalg.solve(M, rhs).reshape(R, d)
        z = np.array([part(j)[1] @ x[a] + part(j)[2] for a, j in enumerate(rows)])
        if np.all(np.where(D > 0, z >= -1e-12, z <= 1e-12)) and \
                not any(np.allclose(x, f, rtol=1e-12, atol=0) for f in found):
            found.append(x)
    return found


def test_a_newton_failure_at_a_step_without_a_root_says_so():
    """--small --n 600 --seed 3, id 5: implicit rectangle, Newton fails at layer 6, whose step
    equation has no root.  On the base: "newton", "the solution may blow up there"."""
    net, x0 = _small_relu_resnet("implicit-rectangle", 4, 4, 14, 4.5941888283193, 610317351)
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 14, method=net.rule)
    assert raw.stats["failure"] == "newton" and "may blow up" in raw.message
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "no-root", sol.message
    assert sol.stats["roots"] == 0 and sol.y.shape == (6, 4) and np.array_equal(sol.y, raw.y)
    assert sol.t_failure == 6 / 14 and "may blow up" not in sol.message
    assert ("did not converge at t = 0.428571 (layer 6), and its step equation x = c + h w_nn "
            "K(t_n, t_n, x) has no root") in sol.message
    assert "forward map is not defined there (not a blow-up" in sol.message
    assert _relu_resnet_roots(net, x0, sol.y, [6]) == []
    with pytest.raises(SolverError, match=r"\(layer 6\), and its step equation .* has no root"):
        net.solve(x0, raise_on_failure=True)


def test_a_newton_failure_in_a_gregory_starting_block_without_a_root_says_so():
    """id 2: gregory4, Newton fails in the starting block (layers 1..3, one system of 3 x 3
    units: 512 patterns), which has no root.  On the base: "newton", "may blow up"."""
    net, x0 = _small_relu_resnet("gregory4", 3, 3, 7, 4.938308605636858, 343036707)
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "no-root", sol.message
    assert sol.stats["roots"] == 0 and sol.y.shape == (1, 3) and sol.t_failure == 1 / 7
    assert ("(the starting layers 1..3 (solved together)), and their system of step equations "
            "has no root") in sol.message
    assert _relu_resnet_roots(net, x0, sol.y, [1, 2, 3]) == []


def test_a_newton_failure_in_a_starting_block_too_wide_to_search_says_so():
    """id 599: gregory8, Newton fails in the starting block (layers 1..7 of 4 units: 28 units,
    2^28 patterns, not searched): still "newton", and the message says the roots are unknown
    (on the base it said nothing of them)."""
    net, x0 = _small_relu_resnet("gregory8", 2, 4, 11, 5.775517042907414, 1928937855)
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "newton" and sol.y.shape == (1, 2)
    assert ("The system of step equations of the starting layers 1..7 (solved together) is "
            "piecewise linear for a ReLU network, but its activation patterns were not "
            "searched (more than 12 pre-activations") in sol.message


def test_a_newton_failure_in_a_starting_block_with_several_roots_fails_several_roots():
    """--small --n 600 --seed 6, id 17: gregory4, Newton fails in the starting block (layers
    1..3, 12 units), whose system has 3 roots: "several-roots" (on the base: "newton", "may
    blow up")."""
    net, x0 = _small_relu_resnet("gregory4", 4, 4, 4, 5.8944997609341865, 1717492297)
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 4, method=net.rule)
    assert raw.stats["failure"] == "newton" and raw.y.shape == (1, 4)
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "several-roots", sol.message
    assert sol.stats["roots"] == 3 and sol.y.shape == (1, 4) and sol.t_failure == 0.25
    assert ("(the starting layers 1..3 (solved together)) has 3 roots" in sol.message and
            "(Newton's method did not converge there)" in sol.message)
    assert len(_relu_resnet_roots(net, x0, sol.y, [1, 2, 3])) == 3


def test_a_starting_block_of_one_root_is_continued_from_its_root():
    """The continuation of a Newton failure in a Gregory starting block (none in the scans:
    the searched blocks where Newton failed had no root or several): a solve that succeeded
    (--seed 3, id 22: gregory4, 12 units in the block, not a contraction), cut to its first
    layer and marked a Newton failure, is continued from the block's one root to the solver's
    values (the base returned it unchanged, a failure)."""
    net, x0 = _small_relu_resnet("gregory4", 2, 4, 11, 5.857430883577118, 362897487)
    steps = _roots.plan(net)
    assert steps is not None and steps["block"]
    sol = net.solve(x0)
    assert sol.status == 0 and len(_relu_resnet_roots(net, x0, sol.y, [1, 2, 3])) == 1
    failed = type(sol)(sol.mesh[:1], sol.y[:1], scalar=False, status=-1, message="failed",
                       stats=dict(sol.stats, failure="newton"), method=sol.method,
                       order=sol.order, t_failure=sol.mesh[1], error_estimate=sol.y[:1] * 0)
    out = _roots.checked(net, failed, steps)
    assert out.status == 0 and out.stats["roots_solved"] == 11, out.message
    assert np.max(np.abs(out.y - sol.y)) <= 1e-14 * np.max(np.abs(sol.y))
    assert ("t = 0.0909091 (the starting layers 1..3, solved together), whose system of step "
            "equations has one root") in out.message
    assert "that root is the layers, and the layers 4..11 are the one roots" in out.message


def test_a_continued_solve_stops_at_a_later_step_without_a_root():
    """x_n = 1 + h sum_j w_nj relu(W_j x_j) (trapezoid, h = 1/4; W_0 = W_1 = 1, W_2 = 16): layer
    1 is x1 = 9/8 + x1/8 (one root, 9/7), layer 2 x2 = c + 2 relu(x2) with c > 0 (no root).
    Newton fails at layer 2: "no-root" there.  A Newton failure marked at layer 1 (none occurs
    there: a contraction) is continued from its root to layer 2, "no-root" there too (on the
    base: the failure at layer 1 returned unchanged, and "newton" at layer 2)."""
    net = ResNet(np.array([1.0, 1.0, 16.0, 16.0])[:, None, None], np.zeros((4, 1)),
                 activation="relu", rule="trapezoid")
    sol = net.solve(np.ones(1))
    assert sol.stats["failure"] == "no-root" and sol.y.shape == (2, 1), sol.message
    assert sol.y[1, 0] == pytest.approx(9 / 7, rel=1e-15) and sol.t_failure == 0.5
    steps = _roots.plan(net)
    failed = type(sol)(sol.mesh[:1], sol.y[:1], scalar=False, status=-1, message="failed",
                       stats=dict(sol.stats, failure="newton"), method=sol.method,
                       order=sol.order, t_failure=0.25, error_estimate=sol.y[:1] * 0)
    out = _roots.checked(net, failed, steps)
    assert out.status == -1 and out.stats["failure"] == "no-root" and out.stats["roots"] == 0
    assert out.y.shape == (2, 1) and abs(out.y[1, 0] - 9 / 7) <= 1e-15 * 9 / 7, out.message
    assert out.message.startswith(
        "The implicit step at t = 0.5 (layer 2) has no root (Newton's method failed at t = 0.25 "
        "(layer 1), whose step has one root, found by the search of its activation patterns)")
