"""The training objective: its gradient is exact (all parts), its regulariser is the discrete H1
of NUMERICS.md, and J_N of sampled smooth fields tends to the continuum J at the rule's order."""
import numpy as np
import pytest
from gradient_check import check_gradient
from hypothesis import example, given, settings
from hypothesis import strategies as st
from numpy_reference import NETWORK_ACTIVATIONS

from integrallimits.control import Objective, make_dataset, parameter_layout, rebuild_network, train
from integrallimits.networks import (AttentionMap, ConcatDense, ConvolutionMap, LocalMap,
                                     NonlocalDense, NystromMap, PiecewiseLinear, ReLUResNet,
                                     ResidualDense, ResNet, SmoothNet, discrete_h1, spatial_rule)
from integrallimits.volterra import METHODS

RULES = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4"]
ALL_RULES = [name for name, m in METHODS.items() if m.family == "direct"]
FAMILIES = ["resnet", "residual-dense", "concat-dense", "smooth", "relu-resnet"]


def _net(family, rule, rng, N, d, activation=None, k=2):
    two = rng.normal(size=(N + 1, N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, N + 1, d)) * 0.3
    one = rng.normal(size=(N + 1, d, d)) * 0.5, rng.normal(size=(N + 1, d)) * 0.3
    if family == "resnet":
        return ResNet(*one, n_layers=N, rule=rule, activation=activation or "softplus")
    if family == "residual-dense":
        return ResidualDense(*two, n_layers=N, rule=rule, activation=activation or "tanh")
    if family == "concat-dense":
        return ConcatDense(two[0], n_layers=N, rule=rule, activation=activation or "sigmoid")
    if family == "smooth":
        return SmoothNet(k, *one, n_layers=N, rule=rule, activation=activation or "tanh")
    m = 3  # ReLU: kinks are measure-zero; FD steps of 1e-4 cross one with probability ~1e-4
    return ReLUResNet(rng.normal(size=(N, d, m)) / N, rng.normal(size=(N, m, d)),
                      np.abs(rng.normal(size=(N, m))) + 0.5, rule=rule)


def _fd4(f, x, i, e=1e-4):
    """Fourth-order central difference of f along coordinate i (truncation ~ e^4)."""
    def at(delta):
        y = x.copy()
        y[i] += delta
        return f(y)
    return (-at(2 * e) + 8 * at(e) - 8 * at(-e) + at(-2 * e)) / (12 * e)


def _weight_blocks(obj, net):
    """Index ranges of the fields (W, b, V...) in the objective's weight vector."""
    blocks, at = [], 0
    for f in parameter_layout(net):
        size = int(f.used.sum()) * int(np.prod(f.point_shape))
        blocks.append(range(at, at + size))
        at += size
    assert at == obj.n_weights
    return blocks


@settings(max_examples=25)
@given(family=st.sampled_from(FAMILIES), rule=st.sampled_from(ALL_RULES),
       activation=st.sampled_from(NETWORK_ACTIVATIONS), k=st.integers(1, 5),
       loss=st.sampled_from(["mse", "cross-entropy"]), regularizer=st.sampled_from(["h1", "l2"]),
       N=st.integers(2, 5), d=st.integers(1, 3), S=st.integers(1, 4),
       classes=st.integers(2, 3), seed=st.integers(0, 10**6))
@example(family="smooth", rule="gregory8", activation="softplus", k=5, loss="cross-entropy",
         regularizer="h1", N=2, d=1, S=1, classes=2, seed=0)
@example(family="relu-resnet", rule="gregory6", activation="relu", k=1, loss="mse",
         regularizer="l2", N=5, d=3, S=4, classes=3, seed=1)
@example(family="concat-dense", rule="implicit-rectangle", activation="relu", k=1, loss="mse",
         regularizer="h1", N=2, d=2, S=2, classes=2, seed=2)
def test_gradient_equals_finite_differences(family, rule, activation, k, loss, regularizer, N, d, S,
                                            classes, seed):
    """Every part of the gradient against 4th-order central differences of J_N, to 1e-7
    relative: each weight field along a random direction (so a field returned as zeros
    fails), all weights along one, sampled weight coordinates, and every classifier and
    input coordinate."""
    N = max(N, METHODS[rule].min_steps)
    rng = np.random.default_rng(seed)
    net = _net(family, rule, rng, N, d, activation, k)
    X = rng.normal(size=(S, d))
    y = rng.integers(0, classes, size=S)
    obj = Objective(net, (X, y), loss=loss, alpha=0.3, beta=0.7, regularizer=regularizer,
                    classifier=(rng.normal(size=(classes, d)), rng.normal(size=classes)),
                    wrt_inputs=True, n_classes=classes)
    v = obj.initial_vector() + 0.1 * rng.normal(size=obj.size)
    J, g = obj.value_and_gradient(v)
    assert J == pytest.approx(obj.value(v), rel=1e-13)
    rest = [range(i, i + 1) for i in range(obj.n_weights, obj.size)]  # classifier and inputs
    check_gradient(lambda: obj.value(v), v, g, _weight_blocks(obj, net) + rest, rng, n_coords=12,
                   smooth=net.activation != "relu")


def test_regularizer_gradient_alone_is_exact():
    """alpha R_N with a zero data term (P = 0 fixed): the gradient is the regulariser's."""
    rng = np.random.default_rng(3)
    for family in ("resnet", "residual-dense"):
        net = _net(family, "rectangle", rng, 6, 2)
        obj = Objective(net, (rng.normal(size=(3, 2)), np.array([0, 1, 1])), alpha=1.3, beta=0.4,
                        classifier=(np.zeros((2, 2)), np.zeros(2)), train_classifier=False)
        v = obj.initial_vector()
        _, g = obj.value_and_gradient(v)
        fd = np.array([_fd4(obj.value, v, i) for i in range(obj.size)])
        assert np.max(np.abs(fd - g)) <= 1e-7 * np.max(np.abs(fd))


def test_h1_of_the_resnet_equals_the_continuum_seminorm_of_its_extension():
    """NUMERICS.md: sum h |(theta_{n+1} - theta_n)/h|^2 over the used layers 0..N-1 is exactly
    int |theta_bar'|^2 of the piecewise linear extension (beta = 0 here: the L2 part is a
    quadrature of int |theta_bar|^2, not equal to it)."""
    rng = np.random.default_rng(0)
    N, d = 8, 2
    net = ResNet(rng.normal(size=(N, d, d)), rng.normal(size=(N, d)), n_layers=N)
    data = (rng.normal(size=(4, d)), np.array([0, 1, 0, 1]))
    semi = Objective(net, data, alpha=1.0, beta=0.0)
    theta = net.theta
    R, _ = semi.regularization(theta)
    expected = discrete_h1(net.W[:N], net.h) + discrete_h1(net.b[:N], net.h)
    assert R == pytest.approx(expected, rel=1e-14)
    ext = semi.extensions(semi.initial_vector())
    cont = semi.continuum_terms(ext, n_fine=8 * N)["regularizer"]
    assert R == pytest.approx(cont, rel=1e-12)
    assert isinstance(ext["W"], PiecewiseLinear)


def test_used_layers_follow_the_rule():
    N = 6
    W, b = np.zeros((N + 1, 2, 2)), np.zeros((N + 1, 2))
    used = {rule: np.flatnonzero(parameter_layout(ResNet(W, b, n_layers=N, rule=rule))[0].used)
            for rule in RULES}
    assert used["rectangle"].tolist() == list(range(N))            # x_n reads theta_{n-1}
    assert used["implicit-rectangle"].tolist() == list(range(1, N + 1))
    assert used["trapezoid"].tolist() == list(range(N + 1))
    dense = parameter_layout(ResidualDense(np.zeros((N + 1, N + 1, 2, 2)), np.zeros((N + 1, N + 1, 2)),
                                           n_layers=N))[0].used
    n, j = np.nonzero(dense)
    assert np.all(j < n) and dense.sum() == N * (N + 1) // 2      # the triangle j < n


@pytest.mark.parametrize("family", ["resnet", "residual-dense"])
def test_discrete_cost_of_sampled_fields_tends_to_the_continuum_cost_at_first_order(family):
    """For fixed smooth fields, |J_N(theta sampled) - J(theta)| = O(h) with the rectangle rule
    (first-order state error, O(h) quadrature of the regulariser): the last observed rate is
    within 0.15 of 1."""
    Wr = lambda t: np.array([[-1 + 0.5 * np.sin(2 * t), 0.8], [-0.6 + 0.3 * t, -0.5 - 0.4 * t * t]])
    br = lambda t: np.array([0.2 * np.cos(2 * t), -0.1 + 0.3 * t])
    Wd = lambda t, s: np.array([[-1 + 0.5 * np.sin(t), 0.8 * np.cos(2 * (t - s))],
                                [-0.6 + 0.3 * s, -0.5 - 0.4 * t * s]])
    bd = lambda t, s: np.array([0.2 * np.cos(t + s), -0.1 + 0.3 * t])
    data = make_dataset("circles", 16, d=2, seed=0)
    fields = {"W": Wr, "b": br} if family == "resnet" else {"W": Wd, "b": bd}
    errors = []
    for N in (16, 32, 64):
        net = ResNet(Wr, br, n_layers=N, d=2) if family == "resnet" else \
            ResidualDense(Wd, bd, n_layers=N, d=2)
        obj = Objective(net, data, loss="cross-entropy", alpha=0.1, beta=0.5)
        if N == 16:
            J = obj.continuum_value(fields, n_fine=512 if family == "resnet" else 128)
        errors.append(abs(obj.value(obj.initial_vector()) - J))
    rate = np.log2(errors[-2] / errors[-1])
    assert abs(rate - 1.0) <= 0.15, errors


def test_objective_rejects_bad_input():
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    X, y = np.zeros((3, 2)), np.array([0, 1, 0])
    with pytest.raises(ValueError, match="loss"):
        Objective(net, (X, y), loss="hinge")
    with pytest.raises(ValueError, match="regularizer"):
        Objective(net, (X, y), regularizer="tv")
    with pytest.raises(ValueError, match="alpha"):
        Objective(net, (X, y), alpha=-1.0)
    with pytest.raises(ValueError, match="inputs"):
        Objective(net, (np.zeros((3, 3)), y))
    with pytest.raises(ValueError, match="classifier"):
        Objective(net, (X, y), classifier=(np.zeros((3, 2)), np.zeros(3)))
    with pytest.raises(ValueError, match="integer class labels"):
        Objective(net, (X, np.zeros((3, 2))), loss="cross-entropy")
    with pytest.raises(ValueError, match="vector"):
        Objective(net, (X, y)).value(np.zeros(3))



@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_objective_refuses_a_vector_that_is_not_finite(bad):
    """A NaN or inf weight, classifier entry or input is one clear ValueError naming the entry
    and its part (before: a SolverError saying the solution "blows up" for NaN, J = nan without
    an error for inf); training still stops at such a trial point with the last iterate."""
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    obj = Objective(net, (np.array([[0.5, 1.0]]), np.array([[0.0, 1.0]])), wrt_inputs=True)
    v = obj.initial_vector()
    for i, part in ((1, "a weight"), (obj.n_weights + 1, "classifier P"),
                    (obj.size - 1, "an input X")):
        w = v.copy()
        w[i] = bad
        for evaluate in (obj.value, obj.value_and_gradient, obj.terms):
            with pytest.raises(ValueError, match=rf"vector\[{i}\] = .*{part}"):
                evaluate(w)

def test_regression_targets_with_mse():
    rng = np.random.default_rng(1)
    net = _net("resnet", "rectangle", rng, 4, 2)
    obj = Objective(net, (rng.normal(size=(5, 2)), rng.normal(size=(5, 3))), loss="mse", alpha=0.1)
    v = obj.initial_vector()
    _, g = obj.value_and_gradient(v)
    i = obj.n_weights + 1
    assert g[i] == pytest.approx(_fd4(obj.value, v, i), rel=1e-7)
    assert np.isnan(obj.terms(v)["accuracy"])


def test_objective_copies_the_data_it_was_given():
    """Changing the caller's arrays after the objective is made does not change J: a float64 X,
    real targets and a Dataset's arrays were used in place (J 1.142 -> 1.058 after X[0, 0] = 100,
    and a NaN written into X passed the finiteness check), while a float32 X was copied."""
    net = ResNet(lambda t: 0.5 * np.eye(2), lambda t: np.zeros(2), n_layers=4, d=2)
    rng = np.random.default_rng(0)
    X, T = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    data = make_dataset("two-moons", 8, d=2, seed=0, n_test=4)
    objectives = [Objective(net, (X, np.array([0, 1, 0, 1, 1, 0])), loss="cross-entropy"),
                  Objective(net, (X, T), loss="mse"), Objective(net, data, loss="cross-entropy")]
    before = [obj.value(obj.initial_vector()) for obj in objectives]
    test_before = objectives[2].accuracy(objectives[2].initial_vector(), data.X_test, data.y_test)
    X[0, 0], T[:] = np.nan, 5.0
    data.X[:], data.X_test[:] = 3.0, np.nan
    assert [obj.value(obj.initial_vector()) for obj in objectives] == before
    kept = objectives[2].data
    assert np.isfinite(kept.X_test).all()
    assert objectives[2].accuracy(objectives[2].initial_vector(), kept.X_test,
                                  kept.y_test) == test_before


# -- the non-local family: fields W0, W1, ... and b on the triangle, classifier on channel means ----

def _nonlocal(rule, rng, N, spatial_bias=False, operator="nystrom", c=2):
    """A NonlocalDense on 5 Gauss-Legendre nodes (d = 5 c): a local map with a multiplier
    c(ξ) and a Nyström, FFT-convolution or attention map, random channel fields and bias."""
    grid = spatial_rule("trapezoid", 4) if operator == "convolution" else spatial_rule("gauss-legendre", 5)
    if operator == "convolution":
        second = ConvolutionMap(lambda x: np.exp(-4.0 * x * x), grid, channels=c)
    elif operator == "attention":
        second = AttentionMap(grid, [[1.0, -0.5], [0.3, 0.8], [0.2, 0.1]],
                              [[0.6, 0.4], [-0.7, 0.2], [0.5, 0.9]])
    else:
        second = NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid, channels=c)
    maps = [LocalMap(grid, lambda x: 1.0 + x, channels=c), second]
    W = [0.7 * rng.normal(size=(N + 1, N + 1, c, c)) for _ in maps]
    b = 0.3 * rng.normal(size=(N + 1, N + 1, c) + ((grid.M,) if spatial_bias else ()))
    return NonlocalDense(maps, W, b, n_layers=N, rule=rule)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("spatial_bias, operator, loss, regularizer",
                         [(False, "nystrom", "cross-entropy", "h1"), (True, "convolution", "mse", "l2"),
                          (False, "attention", "mse", "h1")])
def test_nonlocal_dense_gradient_equals_finite_differences(rule, spatial_bias, operator, loss,
                                                           regularizer):
    """Every coordinate (channel fields, bias, classifier on the channel means, inputs) against
    4th-order central differences of J_N, to 1e-7 relative: the kernel's parameter vjp, the
    layout and the pooled readout are the exact transpose of the forward map."""
    rng = np.random.default_rng(11)
    net = _nonlocal(rule, rng, 3, spatial_bias, operator)
    X, y = rng.normal(size=(3, net.d)), np.array([0, 2, 1])
    obj = Objective(net, (X, y), loss=loss, alpha=0.3, beta=0.7, regularizer=regularizer,
                    classifier=(rng.normal(size=(3, 2)), rng.normal(size=3)), wrt_inputs=True)
    assert obj.readout.shape == (2, net.d) and obj.n_classifier == 3 * 2 + 3
    v = obj.initial_vector() + 0.1 * rng.normal(size=obj.size)
    J, g = obj.value_and_gradient(v)
    assert J == pytest.approx(obj.value(v), rel=1e-13)
    fd = np.array([_fd4(obj.value, v, i) for i in range(obj.size)])
    assert np.max(np.abs(fd - g)) <= 1e-7 * np.max(np.abs(fd)), np.max(np.abs(fd - g))


def test_nonlocal_dense_layout_network_and_readout():
    """The layout covers theta after the maps' data; a vector's network (fields as views of its
    theta, W a list) is the one the maps' own recursion evaluates; rebuild gives the same map."""
    rng = np.random.default_rng(2)
    net = _nonlocal("rectangle", rng, 4, spatial_bias=True)
    X, y = rng.normal(size=(5, net.d)), np.array([0, 1, 1, 0, 1])
    obj = Objective(net, (X, y), loss="cross-entropy", alpha=0.1)
    layout = parameter_layout(net)
    assert [(f.name, f.point_shape) for f in layout] == [("W0", (2, 2)), ("W1", (2, 2)), ("b", (2, 5))]
    assert layout[0].offset == net.field_offset and layout[-1].offset + layout[-1].size == net.theta.size
    assert all(f.two_variable and f.used.sum() == 4 * 5 // 2 for f in layout)   # j < n
    v = obj.initial_vector() + 0.2 * rng.normal(size=obj.size)
    trained, (P, c) = obj.network_for(v), obj.classifier_for(v)
    grids = obj.grids(v)
    assert np.array_equal(trained.W[1], grids["W1"]) and np.array_equal(trained.b, grids["b"])
    xT = trained.recursion(X.reshape(5, 2, 5))[:, -1]            # NumPy, the maps' apply
    Z = trained.grid.integrate(xT) @ P.T + c
    assert np.allclose(obj.states(v)[:, -1].reshape(5, 2, 5), xT, rtol=0, atol=1e-13)
    assert obj.accuracy(v) == np.mean(np.argmax(Z, axis=1) == y)
    again = rebuild_network(trained)
    assert np.allclose(again.forward(X.reshape(5, 2, 5)), xT, rtol=0, atol=1e-13)


def test_nonlocal_dense_with_attention_trains_its_value_fields():
    """With an attention map the trainable fields are its value matrices W^r(t, s) and the bias
    (query and key stay fixed, like a Nyström map's a); a few iterations lower J_N."""
    rng = np.random.default_rng(4)
    net = _nonlocal("rectangle", rng, 3, operator="attention")
    assert [f.name for f in parameter_layout(net)] == ["W0", "W1", "b"]
    data = (rng.normal(size=(6, net.d)), np.array([0, 1] * 3))
    res = train(net, data, loss="mse", alpha=1e-2, maxiter=10)
    assert res.fun < res.history[0]["J"] and np.array_equal(res.network.maps[1].query,
                                                            net.maps[1].query)


def test_nonlocal_dense_discrete_cost_tends_to_the_continuum_cost_at_first_order():
    """As for the dense families: |J_N(sampled fields) - J| = O(h) with the rectangle rule."""
    grid = spatial_rule("gauss-legendre", 6)
    maps = [LocalMap(grid, channels=2), NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid, channels=2)]
    W0 = lambda t, s: np.array([[-1 + 0.5 * np.sin(t), 0.8 * np.cos(2 * (t - s))],
                                [-0.6 + 0.3 * s, -0.5 - 0.4 * t * s]])
    W1 = lambda t, s: np.array([[0.7 * np.cos(t + s), -0.3], [0.2 + 0.5 * t, 0.4 * np.sin(s)]])
    b = lambda t, s: np.array([0.2 * np.cos(t + s), -0.1 + 0.3 * t])
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(8, 12)), rng.integers(0, 2, size=8))
    errors = []
    for N in (16, 32, 64):
        obj = Objective(NonlocalDense(maps, [W0, W1], b, n_layers=N), data, loss="cross-entropy",
                        alpha=0.1, beta=0.5)
        if N == 16:
            J = obj.continuum_value({"W0": W0, "W1": W1, "b": b}, n_fine=128)
        errors.append(abs(obj.value(obj.initial_vector()) - J))
    rate = np.log2(errors[-2] / errors[-1])
    assert abs(rate - 1.0) <= 0.15, errors


def test_train_takes_a_nonlocal_dense_network_random_start_and_continuation():
    rng = np.random.default_rng(0)
    net = _nonlocal("rectangle", rng, 2)
    data = (rng.normal(size=(8, net.d)), np.array([0, 1] * 4))
    coarse = train(net, data, loss="cross-entropy", init="random", seed=3, maxiter=30)
    assert coarse.fun < 0.1 * coarse.history[0]["J"] and coarse.train_accuracy == 1.0
    fine = train(_nonlocal("rectangle", rng, 4), data, loss="cross-entropy", init=coarse, maxiter=5)
    assert fine.start == "continuation from N=2" and fine.history[0]["J"] < 2 * coarse.fun
    assert isinstance(fine.network, NonlocalDense) and len(fine.network.W) == 2


@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_smooth_net_gradient_for_every_order(k):
    """Smooth nets of order k = 1..4 on a horizon T != 1 (mixing weights h^(k-1) C(n-j-1, k-1)):
    the exact gradient of J_N (weights, regulariser, classifier) against 4th-order central
    differences, to 1e-7 relative, for both losses."""
    rng = np.random.default_rng(10 + k)
    N, d = 7, 2
    net = SmoothNet(k, rng.normal(size=(N, d, d)), rng.normal(size=(N, d)) * 0.3, n_layers=N,
                    T=1.7, initial_differences=0.2 * rng.normal(size=(k - 1, d)))
    X, y = rng.normal(size=(3, d)), np.array([0, 1, 1])
    for loss in ("mse", "cross-entropy"):
        obj = Objective(net, (X, y), loss=loss, alpha=0.3, beta=0.7)
        v = obj.initial_vector() + 0.1 * rng.normal(size=obj.size)
        _, g = obj.value_and_gradient(v)
        fd = np.array([_fd4(obj.value, v, i) for i in range(obj.size)])
        assert obj.n_weights == (N - k + 1) * (d * d + d)  # layers j <= N - k are read
        assert np.max(np.abs(fd - g)) <= 1e-7 * np.max(np.abs(fd)), (loss, fd, g)


def test_smooth_net_of_order_one_is_the_resnet():
    """k = 1: Delta x_n = h f(x_n) is the ResNet; same states, J_N and gradient to rounding."""
    rng = np.random.default_rng(4)
    W, b = rng.normal(size=(6, 3, 3)), rng.normal(size=(6, 3))
    X, y = rng.normal(size=(5, 3)), np.array([0, 1, 2, 1, 0])
    smooth, resnet = SmoothNet(1, W, b, T=1.3), ResNet(W, b, T=1.3)
    assert np.allclose(smooth.states(X), resnet.states(X), rtol=1e-14, atol=1e-14)
    a = Objective(smooth, (X, y), alpha=0.1, beta=1.0)
    r = Objective(resnet, (X, y), alpha=0.1, beta=1.0)
    (Ja, ga), (Jr, gr) = a.value_and_gradient(a.initial_vector()), r.value_and_gradient(r.initial_vector())
    assert Ja == pytest.approx(Jr, rel=1e-13) and np.allclose(ga, gr, rtol=1e-12, atol=1e-14)


def test_readout_of_an_augmented_network():
    """A width-4 ResNet on inputs padded with zeros, read out on its first 2 coordinates
    (readout F = [I 0]): the classifier has 2 columns, the gradient is exact (finite
    differences), and F = I gives the default objective; a readout of the wrong width is refused."""
    rng = np.random.default_rng(5)
    net = ResNet(rng.normal(size=(5, 4, 4)) * 0.5, rng.normal(size=(5, 4)) * 0.3)
    X = np.hstack([rng.normal(size=(4, 2)), np.zeros((4, 2))])
    y = np.array([0, 1, 1, 0])
    obj = Objective(net, (X, y), loss="cross-entropy", alpha=0.2, beta=1.0, readout=np.eye(2, 4))
    assert obj.n_features == 2 and obj.size == obj.n_weights + 2 * 2 + 2
    v = obj.initial_vector() + 0.1 * rng.normal(size=obj.size)
    _, g = obj.value_and_gradient(v)
    idx = np.concatenate([rng.choice(obj.n_weights, 12, replace=False), np.arange(obj.n_weights, obj.size)])
    fd = np.array([_fd4(obj.value, v, i) for i in idx])
    assert np.max(np.abs(fd - g[idx])) <= 1e-7 * np.max(np.abs(fd))
    # the readout changes the output: only the first two coordinates of x(T) reach the classifier
    XT = net.forward(X)
    P, c = obj.classifier_for(v)
    Z = XT[:, :2] @ P.T + c
    assert obj.accuracy(v) == np.mean(np.argmax(Z, axis=1) == y)
    plain = Objective(net, (X, y), alpha=0.2, beta=1.0)
    same = Objective(net, (X, y), alpha=0.2, beta=1.0, readout=np.eye(4))
    assert plain.value(plain.initial_vector()) == same.value(same.initial_vector())
    with pytest.raises(ValueError, match="readout must"):
        Objective(net, (X, y), readout=np.eye(2, 3))


def test_continuum_fields_that_reduce_arrays_are_sampled_pointwise():
    """A field that broadcasts to the grid's shape with the wrong values (a reduction over
    the times, here np.max) is checked against pointwise calls and sampled point by point;
    a field written for arrays is taken from one call."""
    from integrallimits.control._objective import FieldSpec, _sample
    spec = FieldSpec("b", 0, False, (2,), np.ones(9, bool))
    h = 1.0 / 8
    t = h * np.arange(9)
    want = np.stack([np.cos(t), np.exp(-t)], axis=-1)
    calls = []

    def reducing(s):
        calls.append(np.ndim(s))
        return np.stack([np.cos(s), np.exp(-np.max(s)) + 0 * s], axis=-1)

    def vectorised(s):
        calls.append(np.ndim(s))
        return np.stack([np.cos(s), np.exp(-s)], axis=-1)

    np.testing.assert_allclose(_sample(reducing, spec, 8, h), want, rtol=1e-15)
    assert calls.count(0) >= 9                      # pointwise at every time
    calls.clear()
    np.testing.assert_array_equal(_sample(vectorised, spec, 8, h), want)
    # one call, checked at three times and on the two halves of the grid
    assert calls.count(1) == 3 and calls.count(0) == 3


def test_a_continuum_fields_own_error_and_complex_values_name_the_field_and_point():
    """A continuum field's own exception is raised with the field's name and the time in a note
    (it came with no point); complex values name the field 'b', not 'field', and the time as a
    float (were "field(np.float64(0.0),)")."""
    W = lambda t: -np.eye(2) * (1 + t)                                  # noqa: E731
    b = lambda t: np.array([0.1 * t, -0.2])                             # noqa: E731
    net = ResNet(W, b, n_layers=4, d=2)
    obj = Objective(net, make_dataset("circles", 8, d=2, seed=0), alpha=0.1, beta=0.5)

    def late(t):
        if t > 0.5:
            raise KeyError("late")
        return b(t)

    with pytest.raises(KeyError, match="late") as info:
        obj.continuum_value({"W": W, "b": late}, n_fine=16)
    assert info.value.__notes__[-1] == "raised by b(0.5625) (the field called at that point)"
    with pytest.raises(TypeError, match=r"^b\(0\.0\) returned complex values"):
        obj.continuum_value({"W": W, "b": lambda t: b(t) + 0.5j}, n_fine=16)
    with pytest.raises(KeyError, match="late") as info:
        ResNet(W, late, n_layers=8, d=2)
    assert info.value.__notes__[-1] == "raised by b(0.625) (the field called at that point)"


def test_a_continuum_field_that_branches_on_the_whole_array_is_sampled_pointwise():
    """b(t) = [0.3 t, -0.2 t] if np.all(t < 0.5) else [0, 0] agrees on a grid crossing 0.5 with
    its pointwise calls at the first, middle and last times only: its whole-grid values were
    taken (a wrong cost); the check on the grid's halves sends it point by point."""
    W = lambda t: -np.eye(2) * (1 + t)                                  # noqa: E731

    def b(t):
        t = np.asarray(t, dtype=float)
        if np.all(t < 0.5):
            return np.stack([0.3 * t, -0.2 * t], axis=-1)
        return np.zeros(t.shape + (2,))

    def b_point(t):
        return np.array([0.3 * t, -0.2 * t]) if t < 0.5 else np.zeros(2)

    net = ResNet(W, b_point, n_layers=4, d=2)
    obj = Objective(net, make_dataset("circles", 8, d=2, seed=0), alpha=0.1, beta=0.5)
    assert obj.continuum_value({"W": W, "b": b}, n_fine=16) == \
        obj.continuum_value({"W": W, "b": b_point}, n_fine=16)


def test_accuracy_on_other_samples_checks_them_and_never_ignores_the_labels():
    """A y without X was ignored (the training accuracy came back), one label was compared
    with every row of X, labels of 0.5 were all counted as misclassified, an X without y
    failed with "len() of unsized object"."""
    from integrallimits.networks import ResNet
    data = make_dataset("two-moons", 8, d=2, seed=0, n_test=6)
    rng = np.random.default_rng(0)
    obj = Objective(ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))), data,
                    loss="cross-entropy")
    v = obj.initial_vector()
    assert data.y_test[0] == 1
    Z = obj.network_for(v).forward(data.X_test) @ obj.P0.T + obj.c0
    assert obj.accuracy(v, data.X_test, data.y_test) == np.mean(np.argmax(Z, 1) == data.y_test)
    assert obj.accuracy(v, data.X_test, data.y_test.astype(float)) == \
        obj.accuracy(v, data.X_test, data.y_test)
    assert np.isnan(obj.accuracy(v, data.X_test[:0], data.y_test[:0]))
    with pytest.raises(ValueError, match=r"^give both X and y"):
        obj.accuracy(v, y=data.y_test)
    with pytest.raises(ValueError, match=r"^give both X and y"):
        obj.accuracy(v, X=data.X_test)
    with pytest.raises(ValueError, match=r"^y must hold one label per row of X, shape \(6,\), "
                                         r"got \(1,\)$"):
        obj.accuracy(v, data.X_test, data.y_test[:1])
    with pytest.raises(ValueError, match=r"^y must hold class labels, integers in \[0, 2\); "
                                         r"y\[0\] = 1.5$"):
        obj.accuracy(v, data.X_test, data.y_test + 0.5)
    with pytest.raises(ValueError, match=r"^y must hold class labels, integers in \[0, 2\); "):
        obj.accuracy(v, data.X_test, data.y_test + 2)


def test_inputs_that_are_bools_are_refused_as_a_network_s_are():
    """A mask or a comparison's result given as the inputs X (a data set's, an objective's,
    the samples of ``accuracy``, a continuous adjoint's X0) ran as the features 1.0, 0.0; a
    network's own inputs have refused bools since stop 62."""
    from integrallimits.control import Dataset, continuous_adjoint
    rng = np.random.default_rng(5)
    net = _net("resnet", "rectangle", rng, 4, 2)
    X, y = rng.normal(size=(3, 2)) > 0, np.array([0, 1, 1])
    match = r"^X must hold real numbers, got bools \(dtype bool\)"
    with pytest.raises(TypeError, match=match):
        Dataset(X, y, 2)
    with pytest.raises(TypeError, match=r"^X_test must hold real numbers, got bools"):
        Dataset(X.astype(float), y, 2, X_test=X, y_test=y)
    with pytest.raises(TypeError, match=match):
        Objective(net, (X, y))
    obj = Objective(net, (X.astype(float), y))
    with pytest.raises(TypeError, match=match):
        obj.accuracy(obj.initial_vector(), X, y)
    assert 0.0 <= obj.accuracy(obj.initial_vector(), X.astype(float), y) <= 1.0
    with pytest.raises(TypeError, match=r"^X0 must hold real numbers, got bools"):
        continuous_adjoint(lambda t: -np.eye(2), lambda t: np.zeros(2), X, np.ones((3, 2)),
                           n_steps=8)
