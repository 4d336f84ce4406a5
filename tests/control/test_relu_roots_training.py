"""Training a ReLU network whose implicit step has several roots is not silent (relu-52).

The Objective (and so ``train``) solved the forward map with ``solve_volterra`` on the network's
kernel directly: a step with two roots gave J_N and the gradient of the branch Newton's method
reached, with no word, while the network's own forward raised.  It now counts the roots through
:mod:`integrallimits.networks._roots`, as the network does."""
import numpy as np
import pytest

from integrallimits import SolverError, solve_volterra
from integrallimits.control import Objective, train
from integrallimits.networks import ConcatDense, ResNet
from integrallimits.networks import _roots


def two_root_resnet(rule="implicit-rectangle"):
    """W = diag(6, 0), b = (-1, 1/2), h = 1/3: for x_0 = (c, .) with 0 <= c < 1/6 the first
    component of layer 1 solves x = c + relu(6 x - 1) / 3, with the roots c and 1/3 - c."""
    W = np.tile(np.diag([6.0, 0.0]), (3, 1, 1))
    return ResNet(W, np.tile([-1.0, 0.5], (3, 1)), activation="relu", rule=rule)


X = np.array([[0.0, 1.0], [0.1, -0.5]])
Y = np.array([[1.0, 0.0], [0.0, 1.0]])


def test_the_objective_of_a_two_root_network_raises_naming_the_layer():
    net = two_root_resnet()
    raw = solve_volterra(net.kernel(1), net.forcing(X[:1]), (0.0, 1.0), 3, method=net.rule)
    assert raw.status == 0          # Newton's root, with no word of the other
    obj = Objective(net, (X, Y), loss="mse")
    v = obj.initial_vector()
    # on the base: J_N = 1.065 and its gradient, of the branch Newton reached
    for call in (obj.value_and_gradient, obj.value, obj.states, obj.adjoint_states):
        with pytest.raises(SolverError, match=r"t = 0.333333 \(layer 1\) has 2 roots"):
            call(v)
    obj = Objective(net, (X, np.array([0, 1])), loss="cross-entropy")
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        obj.accuracy(obj.initial_vector())
    # as the network's own forward map
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        net.forward(X)


def test_training_a_two_root_network_raises_at_the_start():
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        train(two_root_resnet(), (X, Y), loss="mse", maxiter=3)


def test_other_families_and_rules_in_the_objective():
    # trapezoid (h w_nn = h / 2) with W = diag(12, 0): the same equation
    W = np.tile(np.diag([12.0, 0.0]), (3, 1, 1))
    net = ResNet(W, np.tile([-1.0, 0.5], (3, 1)), activation="relu", rule="trapezoid")
    obj = Objective(net, (X[:1], Y[:1]), loss="mse")
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        obj.value_and_gradient(obj.initial_vector())
    # gregory4: the starting rows solved together
    obj = Objective(two_root_resnet("gregory4"), (X[:1], Y[:1]), loss="mse")
    with pytest.raises(SolverError, match=r"starting layers 1..3 \(solved together\)\) has 2"):
        obj.value(obj.initial_vector())
    # concatenation-dense: z_1 = x_0 + h W_11 relu(z_1) = -1 + 2 relu(z_1), roots -1 and 1
    net = ConcatDense(np.tile(np.diag([6.0, 0.0]), (4, 4, 1, 1)), n_layers=3, activation="relu",
                      rule="implicit-rectangle")
    obj = Objective(net, (np.array([[-1.0, 1.0]]), Y[:1]), loss="mse")
    with pytest.raises(SolverError, match=r"\(layer 1\) has 2 roots"):
        obj.value_and_gradient(obj.initial_vector())


def test_a_nonlocal_two_root_network_in_the_objective():
    from integrallimits.networks import LocalMap, NonlocalDense, spatial_rule
    N = 3
    net = NonlocalDense(LocalMap(spatial_rule("trapezoid", 1), channels=2),
                        [np.tile(np.diag([6.0, 0.0]), (N + 1, N + 1, 1, 1))],
                        np.tile([-1.0, 0.5], (N + 1, N + 1, 1)), n_layers=N, activation="relu",
                        rule="implicit-rectangle")
    obj = Objective(net, (np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([[1.0, 0.0]])), loss="mse")
    with pytest.raises(SolverError, match=r"\(layer 1\) has 4 roots"):
        obj.value_and_gradient(obj.initial_vector())


@pytest.mark.parametrize("rule", ["implicit-rectangle", "trapezoid", "gregory4"])
def test_a_depth_scaled_network_trains_as_before(rule):
    """Contractive steps: no search (plan None), the states those of solve_volterra, bitwise."""
    rng = np.random.default_rng(5)
    N, d = 12, 3
    net = ResNet(rng.normal(size=(N, d, d)), rng.normal(size=(N, d)), activation="relu",
                 rule=rule)
    assert _roots.plan(net) is None
    X0 = rng.normal(size=(4, d))
    obj = Objective(net, (X0, rng.normal(size=(4, d))), loss="mse")
    states = obj.states(obj.initial_vector())
    for i in range(4):
        raw = solve_volterra(net.kernel(1), net.forcing(X0[i:i + 1]), (0.0, 1.0), N, method=rule)
        assert np.array_equal(states[i], raw.y)
    J, g = obj.value_and_gradient(obj.initial_vector())
    assert np.isfinite(J) and np.all(np.isfinite(g))


# -- relu-53: the steps whose roots were not counted, in the Objective's and train's results ------

def wide_relu_resnet():
    """Inner width 13 > MAX_UNITS, weights too large for a contraction (tests/networks'
    test_a_step_whose_roots_are_not_counted_says_so): steps that are not searched."""
    from integrallimits.networks import ReLUResNet
    rng = np.random.default_rng(1)
    N, d, m = 4, 2, 13
    return ReLUResNet(rng.normal(size=(N, d, m)) / np.sqrt(m), rng.normal(size=(N, m, d)),
                      rng.normal(size=(N, m)), rule="implicit-rectangle")


def test_steps_whose_roots_were_not_counted_show_in_the_objective_and_train():
    """The network's solves count them (stats["roots_unchecked"], named in the message); the
    Objective's results (value, gradient, terms) and train's result did not say so (relu-53)."""
    net = wide_relu_resnet()
    X0, Y0 = np.array([[1.0, 1.0], [0.5, -1.0]]), np.array([[1.0, 0.0], [0.0, 1.0]])
    counts = [net.solve(x).stats.get("roots_unchecked", 0) for x in X0]
    assert counts[0] >= 1 and sum(counts) >= 1
    obj = Objective(net, (X0, Y0), loss="mse")
    v = obj.initial_vector()
    J, g = obj.value_and_gradient(v)
    # on the base: no such attribute (and no word of them in any result)
    assert obj.roots_unchecked == sum(counts)
    assert obj.roots_message.startswith("sample 0: ")
    assert "could not be shown to have one root" in obj.roots_message
    assert obj.value(v) == J and obj.roots_unchecked == sum(counts)
    assert obj.terms(v)["roots_unchecked"] == sum(counts)
    res = train(net, (X0, Y0), loss="mse", maxiter=0)
    assert res.roots_unchecked == sum(counts) and res.history[0]["roots_unchecked"] == sum(counts)
    assert f"At x, {sum(counts)} implicit step(s)" in res.message
    assert "(layer 1), could not be shown to have one root" in res.message
    res = train(net, (X0, Y0), loss="mse", maxiter=2)
    again = Objective(net, (X0, Y0), loss="mse").terms(res.x)["roots_unchecked"]
    assert res.roots_unchecked == again and all("roots_unchecked" in h for h in res.history)
    assert (f"At x, {again} implicit step(s)" in res.message) == (again > 0)


def test_networks_whose_roots_are_all_counted_report_none():
    rng = np.random.default_rng(5)
    net = ResNet(rng.normal(size=(6, 2, 2)), rng.normal(size=(6, 2)), activation="relu",
                 rule="trapezoid")
    assert _roots.plan(net) is None
    obj = Objective(net, (X, Y), loss="mse")
    obj.value_and_gradient(obj.initial_vector())
    assert obj.roots_unchecked == 0 and obj.roots_message == ""
    res = train(net, (X, Y), loss="mse", maxiter=2)
    assert res.roots_unchecked == 0 and "implicit step" not in res.message
    assert [h["roots_unchecked"] for h in res.history] == [0] * len(res.history)


def test_a_relu_attention_network_in_the_objective_is_not_checked():
    """Its implicit steps read the attention map: not searched, counted (relu-53)."""
    from integrallimits.networks import AttentionMap, NonlocalDense, spatial_rule
    N = 3
    net = NonlocalDense(AttentionMap(spatial_rule("trapezoid", 1), [[1.0, 0.0]], [[0.0, 1.0]],
                                     channels=2),
                        [np.tile(np.diag([6.0, 0.0]), (N + 1, N + 1, 1, 1))],
                        np.tile([-1.0, 0.5], (N + 1, N + 1, 1)), n_layers=N, activation="relu",
                        rule="implicit-rectangle")
    obj = Objective(net, (np.array([[0.0, 0.0, 1.0, 1.0]]), np.array([[1.0, 0.0]])), loss="mse")
    obj.value_and_gradient(obj.initial_vector())
    assert obj.roots_unchecked == N and "reads an attention map" in obj.roots_message
