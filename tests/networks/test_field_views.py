"""A network's fields are views of its parameters theta: a field edited in place changes the
forward pass, and theta edited in place (as training does) shows in every method that reads
the fields (state_space, recursion, product_form), so the two never disagree silently."""
import re

import numpy as np
import pytest

from integrallimits.networks import (ConcatDense, LocalMap, NonlocalDense, ReLUResNet,
                                     ResidualDense, ResNet, SmoothNet, product_form, spatial_rule)

X = np.array([1.0, -0.5])


@pytest.mark.parametrize("make", [
    lambda a=1.0: ResNet(-a * np.tile(np.eye(2), (4, 1, 1)), np.zeros((4, 2)),
                         activation="identity"),
    lambda a=1.0: ResidualDense(-a * np.tile(np.eye(2), (4, 4, 1, 1)), np.zeros((4, 4, 2))),
    lambda a=1.0: ConcatDense(-a * np.tile(np.eye(2), (4, 4, 1, 1))),
    lambda a=1.0: SmoothNet(2, -a * np.tile(np.eye(2), (4, 1, 1)), np.zeros((4, 2))),
], ids=["resnet", "residual-dense", "concat-dense", "smooth"])
def test_field_edited_in_place_changes_forward(make):
    net = make()
    net.W *= 3.0
    assert np.array_equal(net.forward(X), make(3.0).forward(X))
    assert not np.allclose(net.forward(X), make().forward(X))


def test_theta_edit_reaches_state_space_and_product_form():
    net = SmoothNet(2, -np.tile(np.eye(2), (6, 1, 1)), np.zeros((6, 2)))
    net.theta[len(net._header(2)):] *= 2.0
    assert np.allclose(net.forward(X), net.state_space(X)[:, -1], rtol=1e-13, atol=0)
    rng = np.random.default_rng(0)
    V, W, b = rng.normal(size=(6, 2, 3)) / 6, rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3))
    relu = ReLUResNet(V, W, b)
    V[:] = 0.0                       # the caller's array, reused: not the network's
    relu.theta[len(relu._header(3)):] *= 1.5
    assert np.allclose(product_form(relu, X)[-1], relu.forward(X)[0], rtol=1e-13, atol=1e-15)


def test_nonlocal_theta_edit_reaches_recursion():
    grid = spatial_rule("gauss-legendre", 4)
    net = NonlocalDense([LocalMap(grid, channels=2)], [lambda t, s: -np.eye(2)], n_layers=3)
    x0 = np.stack([grid.nodes, 1 - grid.nodes])
    net.theta[net.field_offset:] *= 2.0
    assert np.allclose(net.forward(x0), net.recursion(x0)[:, -1], rtol=1e-13, atol=1e-15)


MAKERS = [
    lambda a=1.0: ResNet(-a * np.tile(np.eye(2), (4, 1, 1)), np.zeros((4, 2)),
                         activation="identity"),
    lambda a=1.0: ResidualDense(-a * np.tile(np.eye(2), (4, 4, 1, 1)), np.zeros((4, 4, 2))),
    lambda a=1.0: ConcatDense(-a * np.tile(np.eye(2), (4, 4, 1, 1))),
    lambda a=1.0: SmoothNet(2, -a * np.tile(np.eye(2), (4, 1, 1)), np.zeros((4, 2))),
]


@pytest.mark.parametrize("make", MAKERS, ids=["resnet", "residual-dense", "concat-dense", "smooth"])
def test_a_field_assigned_a_new_array_changes_forward(make):
    """``net.W = new`` (as one writes after ``net.W *= 3``) reaches the kernel: it was a new
    attribute that the forward pass never read."""
    net = make()
    theta = net.theta
    net.W = 3.0 * net.W
    assert np.array_equal(net.forward(X), make(3.0).forward(X))
    assert net.theta is theta and np.shares_memory(net.W, theta)
    net.theta = make(2.0).theta.copy()          # theta itself: written in, the views follow
    assert net.theta is theta
    assert np.array_equal(net.forward(X), make(2.0).forward(X))
    assert np.array_equal(net.W, make(2.0).W)


def test_an_assignment_of_another_shape_or_of_nan_is_refused_and_changes_nothing():
    net = MAKERS[0]()
    before = net.theta.copy()
    with pytest.raises(ValueError, match=r"W has shape \(5, 2, 2\).*got \(4, 2, 2\)"):
        net.W = np.zeros((4, 2, 2))
    with pytest.raises(ValueError, match="NaN or inf"):
        net.b = np.full((5, 2), np.nan)
    with pytest.raises(TypeError, match="real"):
        net.b = np.zeros((5, 2), dtype=complex)
    with pytest.raises(ValueError, match="theta has shape"):
        net.theta = np.zeros(3)
    assert np.array_equal(net.theta, before)


def test_relu_and_nonlocal_fields_assigned_reach_the_kernel():
    rng = np.random.default_rng(1)
    V, W, b = rng.normal(size=(6, 2, 3)) / 6, rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3))
    relu = ReLUResNet(V, W, b)
    relu.V = 2.0 * V
    assert np.array_equal(relu.forward(X), ReLUResNet(2.0 * V, W, b).forward(X))
    assert np.allclose(product_form(relu, X)[-1], relu.forward(X)[0], rtol=1e-13, atol=1e-15)

    grid = spatial_rule("gauss-legendre", 4)
    make = lambda a: NonlocalDense([LocalMap(grid, channels=2)],
                                   [lambda t, s: -a * np.eye(2)], n_layers=3)
    x0 = np.stack([grid.nodes, 1 - grid.nodes])
    net = make(1.0)
    net.W = [2.0 * net.W[0]]
    assert np.array_equal(net.forward(x0), make(2.0).forward(x0))
    with pytest.raises(TypeError):
        net.W[0] = np.zeros_like(net.W[0])     # a tuple: an item cannot be rebound (detached)
    with pytest.raises(ValueError, match="sequence of 1 fields"):
        net.W = net.W[0]


def test_theta_of_a_network_with_another_structure_is_refused():
    """theta[:6] holds h, N, d and the activation code, which the kernel reads: the theta of a
    network with T = 2 (or another activation) was written in, and forward ran with h = 0.5
    on the interval of T = 1 (0.601, neither network's 0.463 or -0.026), while net.T, net.h
    and net.activation still gave the old values."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))
    net = ResNet(W, b)
    before, out = net.theta.copy(), net.forward(X)
    for other in (ResNet(W, b, T=2.0), ResNet(W, b, activation="relu")):
        with pytest.raises(ValueError, match=r"theta\[:6\] holds the network's structure"):
            net.theta = other.theta
        assert np.array_equal(net.theta, before) and np.array_equal(net.forward(X), out)
    grid = spatial_rule("gauss-legendre", 4)
    make = lambda T: NonlocalDense([LocalMap(grid, channels=2)], [lambda t, s: -np.eye(2)],
                                   n_layers=3, T=T)
    nonlocal_net = make(1.0)
    with pytest.raises(ValueError, match=rf"theta\[:{nonlocal_net.field_offset}\] holds"):
        nonlocal_net.theta = make(2.0).theta
    theta = net.theta.copy()
    theta[net.field_offset:] *= 2.0        # parameters only: written in
    net.theta = theta
    assert np.array_equal(net.W[:4], 2.0 * W) and net.field_offset == 6


@pytest.mark.parametrize("name, value", [("activation", "relu"), ("T", 2.0), ("n_layers", 2),
                                         ("h", 0.5), ("d", 3)])
def test_structure_of_a_built_network_cannot_be_reassigned(name, value):
    """The kernel reads h, N, d and the activation code from theta[:6], written when the net
    was built: ``net.activation = "relu"`` was accepted and forward stayed tanh (bitwise),
    ``net.T = 2.0`` gave 1.38 away from ResNet(W, b, T=2.0), ``net.n_layers = 3`` 0.55 away
    from the net itself, while the attributes said otherwise."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))
    net = ResNet(W, b)
    out = net.forward(X)
    with pytest.raises(AttributeError, match=f"{name} of a built ResNet cannot be changed"):
        setattr(net, name, value)
    assert getattr(net, name) != value and np.array_equal(net.forward(X), out)
    net.T, net.activation, net.n_layers = 1, "tanh", 4.0     # the same values: accepted
    assert np.array_equal(net.forward(X), out)


def test_structure_of_smooth_relu_and_nonlocal_networks_is_fixed_too():
    smooth = SmoothNet(2, -np.tile(np.eye(2), (4, 1, 1)), np.zeros((4, 2)))
    with pytest.raises(AttributeError, match="k of a built SmoothNet"):
        smooth.k = 3
    relu = ReLUResNet(np.ones((3, 2, 4)), np.ones((3, 4, 2)), np.zeros((3, 4)))
    with pytest.raises(AttributeError, match="m of a built ReLUResNet"):
        relu.m = 2
    grid = spatial_rule("gauss-legendre", 4)
    nonlocal_net = NonlocalDense([LocalMap(grid, channels=2)], [lambda t, s: -np.eye(2)],
                                 n_layers=3)
    with pytest.raises(AttributeError, match="maps of a built NonlocalDense"):
        nonlocal_net.maps = [LocalMap(grid, 2.0, channels=2)]


def test_rule_of_a_built_network_cannot_be_reassigned():
    """An Objective keeps the grid values the network's rule uses: after ``net.rule =
    "trapezoid"`` it trained 24 of the 30 values the trapezoid network reads (W_N, b_N kept
    fixed, the regulariser on the rectangle rule's values); ``net.rule = "rk4"`` ran rk4."""
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))
    net = ResNet(W, b)
    for rule in ("trapezoid", "rk4"):
        with pytest.raises(AttributeError, match="rule of a built ResNet cannot be changed"):
            net.rule = rule
    net.rule = "rectangle"
    assert net.rule == "rectangle"
    with pytest.raises(ValueError, match="T must be a positive float, got '1'"):
        ResNet(W, b, T="1")


@pytest.mark.parametrize("make, edit, named", [
    (lambda: ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2))),
     lambda net: net.W.__setitem__((1, 0, 1), np.nan), "W[1, 0, 1]"),
    (lambda: ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2))),       # saturated tanh: was finite
     lambda net: net.W.__setitem__((1, 0, 0), np.inf), "W[1, 0, 0]"),
    (lambda: ResidualDense(np.zeros((4, 4, 2, 2)), np.zeros((4, 4, 2)), rule="trapezoid"),
     lambda net: net.theta.__setitem__(net.field_offset + 4 * 25 + 11, np.nan), "b[1, 0, 1]"),
    (lambda: ConcatDense(np.zeros((4, 4, 2, 2))),
     lambda net: net.W.__setitem__((2, 1, 0, 0), -np.inf), "W[2, 1, 0, 0]"),
    (lambda: NonlocalDense([LocalMap(spatial_rule("gauss-legendre", 3))], n_layers=3),
     lambda net: net.b.__setitem__((0, 0, 0), np.nan), "b[0, 0, 0]"),
], ids=["resnet-nan", "resnet-inf", "dense-theta", "concat", "nonlocal"])
def test_a_parameter_made_non_finite_in_place_is_named_by_the_forward_map(make, edit, named):
    """NaN written into a built network's weights failed the forward map as "it blows up" (or,
    for an inf weight that saturates tanh, gave a finite output): the forward map refuses it,
    naming the parameter, and so do states, solve and the recursions."""
    net = make()
    edit(net)
    x0 = np.ones((1,) + ((2,) if not isinstance(net, NonlocalDense) else (1, 3)))
    calls = [net.forward, net.states, lambda x: net.solve(x[0])]
    calls += [net.recursion] if isinstance(net, NonlocalDense) else []
    for call in calls:
        with pytest.raises(ValueError, match=rf"parameter {re.escape(named)} of this "
                                             rf"{type(net).__name__} is -?(nan|inf)"):
            call(x0)
