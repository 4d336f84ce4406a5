"""A ReLU network's implicit step with several roots is not a silent success (relu-51).

The step equation x = c + h w_nn K(t_n, t_n, x) of a ReLU network on an implicit rule is piecewise
linear; where the step map is not a contraction it can have several roots, and the forward map
is then not defined by the rule (Newton's method returned the root it reached from the explicit
step, with status 0).  The networks here have a step with two roots, known by hand."""
import numpy as np
import pytest

from integrallimits import SolverError, solve_volterra
from integrallimits.networks import ConcatDense, ReLUResNet, ResNet
from integrallimits.networks import _roots


def two_root_resnet(rule="implicit-rectangle"):
    """A 2-wide ReLU ResNet of 3 layers (h = 1/3) whose first step has two roots.

    Implicit rectangle: x_1 = x_0 + h relu(W x_1 + b) with W = diag(6, 0), b = (-1, 1/2) and
    x_0 = (0, 1): the first component is x = relu(6 x - 1) / 3, with the roots 0 (off: -1 <= 0)
    and 1/3 (on: 6 x - 1 = 1 > 0); the second is 1 + 1/6 (unique)."""
    W = np.tile(np.diag([6.0, 0.0]), (3, 1, 1))
    b = np.tile([-1.0, 0.5], (3, 1))
    return ResNet(W, b, activation="relu", rule=rule), np.array([0.0, 1.0])


def test_the_hand_made_roots_are_roots():
    h = 1 / 3
    for x1 in ([0.0, 1 + h / 2], [1 / 3, 1 + h / 2]):
        x1 = np.array(x1)
        step = np.array([0.0, 1.0]) + h * np.maximum(np.diag([6.0, 0.0]) @ x1 + [-1.0, 0.5], 0)
        assert np.allclose(step, x1, rtol=0, atol=1e-15)


def test_a_step_with_two_roots_is_a_failure_not_a_silent_success():
    net, x0 = two_root_resnet()
    # the volterra layer's solve: Newton reached the root 0 from the explicit step (status 0)
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 3,
                         method=net.rule)
    assert raw.status == 0 and raw.y[1, 0] == 0.0
    # the network's forward map says its step at layer 1 has two roots (on the base: status 0)
    sol = net.solve(x0, raise_on_failure=False)
    assert sol.status == -1, sol.message
    assert sol.stats["failure"] == "several-roots" and sol.stats["roots"] == 2
    assert "t = 0.333333 (layer 1) has 2 roots" in sol.message
    assert sol.y.shape == (1, 2) and np.array_equal(sol.y[0], x0)   # x_0 kept, not the rest
    assert sol.t_failure == pytest.approx(1 / 3)
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        net.forward(x0[None])
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        net.solve(x0, raise_on_failure=True)
    with pytest.warns(RuntimeWarning, match="has 2 roots"):
        out = net.states(np.stack([x0, x0]), raise_on_failure=False)
    assert np.array_equal(out[:, 0], np.stack([x0, x0])) and np.all(np.isnan(out[:, 1:]))


def test_the_step_roots_found_are_the_hand_made_ones():
    net, x0 = two_root_resnet()
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 3, method=net.rule)
    roots = _roots.step_roots(net, [1], raw.y)[:, 0]
    roots = roots[np.argsort(roots[:, 0])]
    assert np.allclose(roots, [[0.0, 7 / 6], [1 / 3, 7 / 6]], rtol=0, atol=1e-14)


def test_two_roots_in_other_families_and_rules():
    # trapezoid (h w_nn = h / 2): W = diag(12, 0) makes the same equation
    W = np.tile(np.diag([12.0, 0.0]), (3, 1, 1))
    net = ResNet(W, np.tile([-1.0, 0.5], (3, 1)), activation="relu", rule="trapezoid")
    sol = net.solve(np.array([0.0, 1.0]))
    assert sol.stats["failure"] == "several-roots" and sol.stats["roots"] == 2, sol.message
    # concatenation-dense, implicit rectangle: z_1 = x_0 + h W_11 relu(z_1) = -1 + 2 relu(z_1)
    # in the first component (roots -1 and 1)
    Wc = np.tile(np.diag([6.0, 0.0]), (4, 4, 1, 1))
    net = ConcatDense(Wc, n_layers=3, activation="relu", rule="implicit-rectangle")
    sol = net.solve(np.array([-1.0, 1.0]))
    assert sol.stats["failure"] == "several-roots" and "(layer 1) has 2 roots" in sol.message
    # a ReLU ResNet of inner width 2: V = I / 3 (K = V relu(W x + b) / h), as the ResNet above
    V = np.tile(np.eye(2) / 3, (3, 1, 1))
    net = ReLUResNet(V, np.tile(np.diag([6.0, 0.0]), (3, 1, 1)), np.tile([-1.0, 0.5], (3, 1)),
                     rule="implicit-rectangle")
    sol = net.solve(np.array([0.0, 1.0]))
    assert sol.stats["failure"] == "several-roots" and "(layer 1) has 2 roots" in sol.message
    # a Gregory rule's starting rows (solved together) with two roots
    net, x0 = two_root_resnet("gregory4")
    sol = net.solve(x0)
    assert sol.stats["failure"] == "several-roots" and "starting layers 1..3" in sol.message


def test_a_step_whose_roots_are_not_counted_says_so():
    """Inner width 13 > MAX_UNITS, weights too large for a contraction: not checked."""
    rng = np.random.default_rng(1)
    N, d, m = 4, 2, 13
    assert m > _roots.MAX_UNITS
    net = ReLUResNet(rng.normal(size=(N, d, m)) / np.sqrt(m), rng.normal(size=(N, m, d)),
                     rng.normal(size=(N, m)), rule="implicit-rectangle")
    raw = solve_volterra(net.kernel(1), net.forcing(np.ones((1, 2))), (0.0, 1.0), N,
                         method=net.rule)
    assert raw.status == 0
    sol = net.solve(np.ones(2))
    assert sol.status == 0 and sol.stats["roots_unchecked"] >= 1
    assert "(layer 1), could not be shown to have one root" in sol.message
    assert np.array_equal(sol.y, raw.y)


@pytest.mark.parametrize("rule", ["implicit-rectangle", "trapezoid", "gregory4", "gregory6"])
def test_a_depth_scaled_network_is_not_searched_and_unchanged(rule):
    """Contractive steps (|h w_nn| ||W|| < 1): no search, the volterra layer's values bitwise."""
    rng = np.random.default_rng(2)
    N, d = 16, 4
    net = ResNet(rng.normal(size=(N, d, d)) / np.sqrt(d), rng.normal(size=(N, d)),
                 activation="relu", rule=rule)
    assert _roots.plan(net) is None
    x0 = rng.normal(size=d)
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), N, method=rule)
    sol = net.solve(x0)
    assert sol.status == 0 and np.array_equal(sol.y, raw.y)
    assert np.array_equal(net.forward(x0[None])[0], raw.y[-1])


# -- relu-52: the non-local network and the smooth network ----------------------------------------

def two_root_nonlocal(rule="implicit-rectangle"):
    """A NonlocalDense of 2 channels on 2 nodes (a LocalMap: A_nj = W_nj kron I) with the ResNet
    above's W = diag(6, 0), b = (-1, 1/2) at every pair: at each node the first channel's step
    is x = relu(6 x - 1) / 3 (roots 0 and 1/3), so layer 1 has 2 x 2 = 4 roots."""
    from integrallimits.networks import LocalMap, NonlocalDense, spatial_rule
    N = 3
    W = np.tile(np.diag([6.0, 0.0]), (N + 1, N + 1, 1, 1))
    b = np.tile([-1.0, 0.5], (N + 1, N + 1, 1))
    net = NonlocalDense(LocalMap(spatial_rule("trapezoid", 1), channels=2), [W], b, n_layers=N,
                        activation="relu", rule=rule)
    return net, np.array([[0.0, 0.0], [1.0, 1.0]])


def test_a_nonlocal_step_with_several_roots_is_a_failure():
    net, x0 = two_root_nonlocal()
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), 3, method=net.rule)
    assert raw.status == 0 and np.array_equal(raw.y[1], [0.0, 0.0, 7 / 6, 7 / 6])
    # on the base: status 0 and forward returned x_3 with the root Newton reached
    sol = net.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "several-roots", sol.message
    assert sol.stats["roots"] == 4 and "(layer 1) has 4 roots" in sol.message
    assert sol.y.shape == (1, 4) and np.array_equal(sol.y[0], x0.ravel())
    with pytest.raises(SolverError, match=r"\(layer 1\) has 4 roots"):
        net.forward(x0)
    with pytest.warns(RuntimeWarning, match="has 4 roots"):
        out = net.states(np.stack([x0, x0]), raise_on_failure=False)
    assert np.array_equal(out[:, 0], np.stack([x0, x0])) and np.all(np.isnan(out[:, 1:]))
    roots = _roots.step_roots(net, [1], raw.y)[:, 0]
    roots = roots[np.lexsort(roots[:, ::-1].T)]
    hand = [[a, c, 7 / 6, 7 / 6] for a in (0.0, 1 / 3) for c in (0.0, 1 / 3)]
    assert np.allclose(roots, hand, rtol=0, atol=1e-14)
    # a Gregory rule's starting rows, solved together: each pair (r, j) has pre-activations of
    # its own, 3 x 3 x 4 > MAX_UNITS, so their roots are not counted, and the success says so
    net, x0 = two_root_nonlocal("gregory4")
    sol = net.solve(x0)
    assert sol.status == 0 and sol.stats["roots_unchecked"] == 1
    assert "(the starting layers 1..3 (solved together)), could not be shown" in sol.message


def test_the_nonlocal_roots_are_roots_of_the_compiled_kernel():
    """A Nystrom map plus a local map (A_nj = W_nj kron S + W'_nj kron I): the three roots the
    search finds at layer 1 solve x = x_0 + h K(t_1, t_1, x) with the network's own kernel."""
    from integrallimits.networks import LocalMap, NonlocalDense, NystromMap, spatial_rule
    grid, N = spatial_rule("gauss-legendre", 3), 3
    rng = np.random.default_rng(7)
    W = rng.normal(size=(N + 1, N + 1, 2, 2)) * 4
    b = rng.normal(size=(N + 1, N + 1, 2))
    net = NonlocalDense([NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid, channels=2),
                         LocalMap(grid, channels=2)], [W, -W], b, n_layers=N,
                        activation="relu", rule="implicit-rectangle")
    x0 = rng.normal(size=(2, 3))
    raw = solve_volterra(net.kernel(1), net.forcing(x0[None]), (0.0, 1.0), N, method=net.rule)
    assert raw.status == 0
    roots = _roots.step_roots(net, [1], raw.y)[:, 0]
    assert roots.shape == (3, 6)
    K = net.kernel(1)
    for x in roots:
        assert np.max(np.abs(x0.ravel() + net.h * K(net.h, net.h, x) - x)) < 1e-13
    sol = net.solve(x0)
    assert sol.stats["failure"] == "several-roots" and "(layer 1) has 3 roots" in sol.message


@pytest.mark.parametrize("rule", ["implicit-rectangle", "trapezoid", "gregory4"])
def test_a_contractive_nonlocal_network_is_not_searched_and_unchanged(rule):
    from integrallimits.networks import AttentionMap, NonlocalDense, NystromMap, spatial_rule
    grid, N = spatial_rule("gauss-legendre", 6), 8
    rng = np.random.default_rng(3)
    net = NonlocalDense(NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid, channels=2),
                        rng.normal(size=(N + 1, N + 1, 2, 2)), rng.normal(size=(N + 1, N + 1, 2)),
                        n_layers=N, activation="relu", rule=rule)
    assert _roots.plan(net) is None
    X0 = rng.normal(size=(2, 2, 6))
    out = net.forward(X0)
    for i in range(2):
        raw = solve_volterra(net.kernel(1), net.forcing(X0[i][None]), (0.0, 1.0), N, method=rule)
        assert np.array_equal(out[i].ravel(), raw.y[-1])
    # an attention map is not piecewise linear in x: its steps are not searched, but counted
    # as not checked (relu-53; see test_an_attention_step_with_two_roots_is_said_not_checked)
    att = NonlocalDense(AttentionMap(grid, [[1.0, 0.0]], [[0.0, 1.0]], channels=2),
                        np.tile(np.diag([60.0, 0.0]), (N + 1, N + 1, 1, 1)), n_layers=N,
                        activation="relu", rule=rule)
    steps = _roots.plan(att)
    assert steps["steps"].size == 0 and not steps["block"]
    assert steps["unsearchable"]["steps"].size + steps["unsearchable"]["block"] >= 1


def test_a_smooth_network_step_is_explicit():
    """SmoothNet: K(t_n, t_j) = 0 for j > n - k, so an implicit rule's step (and the starting
    rows of a Gregory rule) does not involve its unknown: one root whatever the weights; the
    forward map is the explicit sum (not searched: plan is None)."""
    from integrallimits.networks import SmoothNet
    N, h = 6, 1 / 6
    W = np.tile(np.diag([600.0, -400.0]), (N, 1, 1))
    b = np.tile([-1.0, 0.5], (N, 1))
    x0 = np.array([0.1, 1.0])
    net = SmoothNet(1, W, b, activation="relu", rule="implicit-rectangle")
    assert _roots.plan(net) is None
    x = [x0]
    for n in range(1, N + 1):     # implicit rectangle: x_n = x_0 + h sum_{j=1}^{n-1} relu(...)
        x.append(x0 + h * sum(np.maximum(W[j] @ x[j] + b[j], 0) for j in range(1, n)))
    assert np.allclose(net.states(x0)[0], x, rtol=1e-13, atol=0)


# -- relu-53: an attention map's steps ------------------------------------------------------------

def two_root_attention(rule="implicit-rectangle"):
    """two_root_nonlocal with an attention map: on 2 nodes a state equal at both nodes is its
    own attention average (A(u) u = u there), so the step's equation restricted to such states
    is the ResNet's, and layer 1 has (at least) the two roots (0, 0, 7/6, 7/6) and
    (1/3, 1/3, 7/6, 7/6); the attention map is not piecewise linear: they are not searched."""
    from integrallimits.networks import AttentionMap, NonlocalDense, spatial_rule
    N = 3
    W = np.tile(np.diag([6.0, 0.0]), (N + 1, N + 1, 1, 1))
    b = np.tile([-1.0, 0.5], (N + 1, N + 1, 1))
    net = NonlocalDense(AttentionMap(spatial_rule("trapezoid", 1), [[1.0, 0.0]], [[0.0, 1.0]],
                                     channels=2), [W], b, n_layers=N, activation="relu",
                        rule=rule)
    return net, np.array([[0.0, 0.0], [1.0, 1.0]])


def test_an_attention_step_with_two_roots_is_said_not_checked():
    net, x0 = two_root_attention()
    K, h = net.kernel(1), net.h
    for a in (0.0, 1 / 3):      # two roots of layer 1's step, with the network's own kernel
        x = np.array([a, a, 7 / 6, 7 / 6])
        assert np.max(np.abs(x0.ravel() + h * K(h, h, x) - x)) < 1e-15
    raw = solve_volterra(K, net.forcing(x0[None]), (0.0, 1.0), 3, method=net.rule)
    assert raw.status == 0 and np.array_equal(raw.y[1], [0.0, 0.0, 7 / 6, 7 / 6])
    # on the base: a success whose message and stats said nothing of the other root
    sol = net.solve(x0)
    assert sol.status == 0 and sol.stats["roots_unchecked"] == 3, sol.message
    assert "(layer 1), could not be shown to have one root" in sol.message
    assert "reads an attention map" in sol.message
    assert np.array_equal(sol.y, raw.y)     # the values are the solver's, bitwise
    assert np.array_equal(net.forward(x0)[0].ravel(), raw.y[-1])
    # a Gregory rule's starting rows read it too
    net, x0 = two_root_attention("gregory4")
    sol = net.solve(x0)
    assert sol.status == 0 and sol.stats["roots_unchecked"] == 1
    assert "(the starting layers 1..3 (solved together)), could not be shown" in sol.message


def test_an_attention_network_steps_without_its_map_are_searched():
    """An attention map whose diagonal weights W_nn vanish does not enter the step equation:
    the steps read the local map only, piecewise linear, and are searched (4 roots)."""
    from integrallimits.networks import AttentionMap, LocalMap, NonlocalDense, spatial_rule
    net, x0 = two_root_nonlocal()
    grid, N = spatial_rule("trapezoid", 1), 3
    Wa = np.tile(np.diag([6.0, 0.0]), (N + 1, N + 1, 1, 1))
    Wa[np.arange(N + 1), np.arange(N + 1)] = 0.0
    att = NonlocalDense([AttentionMap(grid, [[1.0, 0.0]], [[0.0, 1.0]], channels=2),
                         LocalMap(grid, channels=2)], [Wa, net.W[0]], net.b, n_layers=N,
                        activation="relu", rule="implicit-rectangle")
    sol = att.solve(x0)
    assert sol.status == -1 and sol.stats["failure"] == "several-roots", sol.message
    assert "(layer 1) has 4 roots" in sol.message
