"""Networks are Volterra rules: each family equals solve_volterra with the same rule and a
plainly written kernel, the rectangle rule equals the usual recursion, batches equal samples."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.networks import ConcatDense, ResidualDense, ResNet, SmoothNet
from integrallimits.networks._activations import activation

RULES = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4"]


def _params(seed, N, d):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N + 1, N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, N + 1, d)) * 0.2,
            rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2,
            rng.standard_normal((3, d)))


def _plain_kernel(family, W, b, h):
    """The family's tanh kernel written as a user would, reading the grid by rounding t/h."""
    if family == "residual-dense":
        def K(t, s, x):
            n, j = int(round(t / h)), int(round(s / h))
            return np.tanh(W[n, j] @ x + b[n, j])
    elif family == "resnet":
        def K(t, s, x):
            j = int(round(s / h))
            return np.tanh(W[j] @ x + b[j])
    else:
        def K(t, s, x):
            n, j = int(round(t / h)), int(round(s / h))
            return W[n, j] @ np.tanh(x)
    return K


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("family", ["residual-dense", "resnet", "concat-dense"])
def test_network_equals_solver_with_plain_kernel(family, rule):
    N, d = 10, 3
    Wd, bd, Wr, br, X0 = _params(1, N, d)
    if family == "residual-dense":
        net, W, b = ResidualDense(Wd, bd, n_layers=N, rule=rule), Wd, bd
    elif family == "resnet":
        net, W, b = ResNet(Wr, br, n_layers=N, rule=rule), Wr, br
    else:
        net, W, b = ConcatDense(Wd, n_layers=N, rule=rule), Wd, None
    K = _plain_kernel(family, W, b, net.h)
    states = net.states(X0)
    for i in range(len(X0)):
        # K reads grid weights: the solve is the network's map itself (no companion estimate)
        ref = solve_volterra(K, lambda t, x=X0[i]: x, (0.0, 1.0), N, method=rule,
                             error_estimate=False)
        assert ref.success
        np.testing.assert_allclose(states[i], ref.y, rtol=0, atol=1e-13)
    assert activation("tanh")(0.3) == pytest.approx(np.tanh(0.3))


def test_rectangle_rule_is_the_usual_recursion():
    N, d = 12, 4
    Wd, bd, Wr, br, X0 = _params(2, N, d)
    h = 1.0 / N
    x = X0.copy()
    for n in range(N):
        x = x + h * np.tanh(x @ Wr[n].T + br[n])
    np.testing.assert_allclose(ResNet(Wr, br, n_layers=N).forward(X0), x, rtol=0, atol=1e-14)
    xs = [X0]
    for n in range(1, N + 1):
        xs.append(X0 + h * sum(np.tanh(xs[j] @ Wd[n, j].T + bd[n, j]) for j in range(n)))
    np.testing.assert_allclose(ResidualDense(Wd, bd, n_layers=N).forward(X0), xs[-1], rtol=0, atol=1e-14)
    zs = [X0]
    for n in range(1, N + 1):
        zs.append(X0 + h * sum(np.tanh(zs[j]) @ Wd[n, j].T for j in range(n)))
    np.testing.assert_allclose(ConcatDense(Wd, n_layers=N).forward(X0), zs[-1], rtol=0, atol=1e-14)


@settings(max_examples=10)
@given(k=st.integers(1, 4), seed=st.integers(0, 1000), act=st.sampled_from(["tanh", "softplus",
                                                                               "sigmoid", "relu"]))
def test_smooth_net_state_space_equals_volterra_form(k, seed, act):
    N, d = 9, 2
    _, _, Wr, br, X0 = _params(seed, N, d)
    diffs = np.random.default_rng(seed).standard_normal((k - 1, d)) * 0.1
    net = SmoothNet(k, Wr, br, n_layers=N, activation=act, initial_differences=diffs)
    np.testing.assert_allclose(net.states(X0), net.state_space(X0), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("rule", ["rectangle", "trapezoid"])
def test_batched_equals_per_sample(rule):
    N, d = 8, 3
    Wd, bd, _, _, X0 = _params(3, N, d)
    net = ResidualDense(Wd, bd, n_layers=N, rule=rule, activation="softplus")
    batch = net.states(X0)
    for i in range(len(X0)):
        np.testing.assert_allclose(batch[i], net.states(X0[i])[0], rtol=0, atol=1e-14)


def test_continuum_fields_and_depths():
    """A callable field is sampled at any depth; deeper nets approach one limit."""
    W = lambda t, s: np.array([[-1.0, 0.5 * np.cos(t - s)], [0.3 * s, -0.5]])  # noqa: E731
    b = lambda t, s: np.array([0.1 * t, -0.2])  # noqa: E731
    x0 = np.array([[1.0, -0.5]])
    outs = [ResidualDense(W, b, n_layers=n, d=2).forward(x0) for n in (16, 32, 64, 128)]
    diffs = [np.max(np.abs(a - c)) for a, c in zip(outs, outs[1:])]
    assert diffs[0] > diffs[1] > diffs[2]
    assert 1.7 < np.log2(diffs[1] / diffs[2]) + 1.0 < 2.3  # first order: halving per doubling


def test_bad_inputs():
    N, d = 4, 2
    Wd, bd, Wr, br, X0 = _params(4, N, d)
    with pytest.raises(ValueError, match="rule"):
        ResNet(Wr, br, rule="rk4")
    with pytest.raises(ValueError, match="activation"):
        ResNet(Wr, br, activation="swish")
    with pytest.raises(ValueError, match="W must"):
        ResidualDense(Wr, br)
    with pytest.raises(ValueError, match="NaN"):
        ResNet(np.full_like(Wr, np.nan), br)
    with pytest.raises(ValueError, match="inputs"):
        ResNet(Wr, br).forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match="n_layers and d"):
        ResidualDense(lambda t, s: np.eye(2), lambda t, s: np.zeros(2))


def test_wide_layers_agree_with_the_recursion():
    """d >= 5 takes the matrix-product (BLAS) path of the layer map: the same recursion."""
    N, d = 9, 7
    Wd, bd, Wr, br, _ = _params(4, N, d)
    X0 = np.random.default_rng(4).standard_normal((5, d))
    h = 1.0 / N
    x = X0.copy()
    for n in range(N):
        x = x + h * np.tanh(x @ Wr[n].T + br[n])
    np.testing.assert_allclose(ResNet(Wr, br, n_layers=N).forward(X0), x, rtol=0, atol=1e-14)
    xs = [X0]
    for n in range(1, N + 1):
        xs.append(X0 + h * sum(np.tanh(xs[j] @ Wd[n, j].T + bd[n, j]) for j in range(n)))
    np.testing.assert_allclose(ResidualDense(Wd, bd, n_layers=N).forward(X0), xs[-1], rtol=0,
                               atol=1e-14)


def test_states_every_k_and_forward_in_blocks():
    """A ResNet restarts its solve from any layer: states(every=k) and forward keep O(k B d)
    values and equal the states of one solve to rounding; other networks slice."""
    N, d = 40, 8
    rng = np.random.default_rng(5)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((2048, d))                            # B d = 2^14: blocks of 16
    net = ResNet(Wr, br, n_layers=N)
    full = net.states(X0)
    keep = [0, 7, 14, 21, 28, 35, 40]
    np.testing.assert_allclose(net.states(X0, every=7), full[:, keep], rtol=0, atol=1e-14)
    np.testing.assert_allclose(net.forward(X0), full[:, -1], rtol=0, atol=1e-14)
    implicit = ResNet(Wr, br, n_layers=N, rule="trapezoid")      # not restartable: slices
    np.testing.assert_array_equal(implicit.states(X0[:2], every=7), implicit.states(X0[:2])[:, keep])
    with pytest.raises(ValueError, match="every"):
        net.states(X0, every=0)


def test_forward_memory_is_a_block_of_layers():
    import tracemalloc
    N, d = 1024, 8
    rng = np.random.default_rng(6)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.3, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((2048, d))
    net = ResNet(Wr, br, n_layers=N)
    net.forward(X0)
    tracemalloc.start()
    net.forward(X0)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < (N + 1) * X0.size * 8 / 8      # blocks of 16 layers: ~1/15 of the states' 135 MB
