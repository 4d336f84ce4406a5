"""Networks are Volterra rules: each family equals solve_volterra with the same rule and a
plainly written kernel, and an independent NumPy reference (numpy_reference: activations from
their formulas, the rule's equations solved at once) for every family, rule and activation;
the rectangle rule equals the usual recursion, batches equal samples."""
import numpy as np
import numpy_reference as ref
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.networks import ConcatDense, ResidualDense, ResNet, SmoothNet
from integrallimits.quadrature import volterra_rule
from integrallimits.volterra import METHODS

RULES = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4"]
ALL_RULES = [name for name, m in METHODS.items() if m.family == "direct"]


def _params(seed, N, d):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((N + 1, N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, N + 1, d)) * 0.2,
            rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2,
            rng.standard_normal((3, d)))


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("family", ["residual-dense", "resnet", "concat-dense"])
def test_network_equals_solver_with_plain_kernel(family, rule):
    N, d = 10, 3
    Wd, bd, Wr, br, X0 = _params(1, N, d)
    if family == "residual-dense":
        net = ResidualDense(Wd, bd, n_layers=N, rule=rule)
    elif family == "resnet":
        net = ResNet(Wr, br, n_layers=N, rule=rule)
    else:
        net = ConcatDense(Wd, n_layers=N, rule=rule)
    # one plain kernel for every family and rule, the family and the weights in args: compiled
    # once (a closure per family compiled three times, 2-3 s each)
    args = (ref.FAMILY_CODES[family], net.h, Wd.reshape(-1, d, d), bd.reshape(-1, d), Wr, br)
    states = net.states(X0)
    for i in range(len(X0)):
        # K reads grid weights: the solve is the network's map itself (no companion estimate)
        sol = solve_volterra(ref.plain_kernel, lambda t, *_, x=X0[i]: x, (0.0, 1.0), N,
                             method=rule, args=args, error_estimate=False)
        assert sol.success
        np.testing.assert_allclose(states[i], sol.y, rtol=0, atol=1e-13)


def _network(family, rule, activation, k, seed, N, d=2):
    Wd, bd, Wr, br, X0 = _params(seed, N, d)
    diffs = np.random.default_rng(seed).standard_normal((k - 1, d)) * 0.2
    if family == "residual-dense":
        return ResidualDense(Wd, bd, n_layers=N, rule=rule, activation=activation), Wd, bd, X0, diffs
    if family == "resnet":
        return ResNet(Wr, br, n_layers=N, rule=rule, activation=activation), Wr, br, X0, diffs
    if family == "concat-dense":
        return ConcatDense(Wd, n_layers=N, rule=rule, activation=activation), Wd, None, X0, diffs
    net = SmoothNet(k, Wr, br, n_layers=N, rule=rule, activation=activation, initial_differences=diffs)
    return net, Wr, br, X0, diffs


def _check_against_reference(family, rule, activation, k, seed):
    N = max(6, METHODS[rule].min_steps)
    net, W, b, X0, diffs = _network(family, rule, activation, k, seed, N)
    K = ref.layer_map(family, net.h, W, b, activation, k)
    weights = volterra_rule(rule).weights(N)
    states = net.states(X0[:2])
    for i, x0 in enumerate(X0[:2]):
        g = np.array([x0 + sum(ref.binomial(n, j) * diffs[j - 1] for j in range(1, k))
                      for n in range(N + 1)]) if family == "smooth" else np.tile(x0, (N + 1, 1))
        np.testing.assert_allclose(states[i], ref.rule_solution(K, g, weights, net.h), rtol=0,
                                   atol=1e-12)


@pytest.mark.parametrize("activation", ref.NETWORK_ACTIVATIONS)
@pytest.mark.parametrize("rule", ALL_RULES)
@pytest.mark.parametrize("family", ["residual-dense", "resnet", "concat-dense", "smooth"])
def test_network_equals_independent_reference(family, rule, activation):
    """Every family x rule x activation (smooth: k runs through 1..5 across the cases)."""
    k = 1 + (ALL_RULES.index(rule) + ref.NETWORK_ACTIVATIONS.index(activation)) % 5
    _check_against_reference(family, rule, activation, k, seed=5)


@settings(max_examples=20)
@given(family=st.sampled_from(["residual-dense", "resnet", "concat-dense", "smooth"]),
       rule=st.sampled_from(ALL_RULES), activation=st.sampled_from(ref.NETWORK_ACTIVATIONS),
       k=st.integers(1, 5), seed=st.integers(0, 1000))
@example(family="smooth", rule="gregory8", activation="relu", k=5, seed=0)
def test_network_equals_independent_reference_random(family, rule, activation, k, seed):
    _check_against_reference(family, rule, activation, k, seed)


@pytest.mark.parametrize("activation", ref.NETWORK_ACTIVATIONS)
def test_rectangle_rule_is_the_usual_recursion(activation):
    N, d = 12, 4
    Wd, bd, Wr, br, X0 = _params(2, N, d)
    h = 1.0 / N
    x = X0.copy()
    for n in range(N):
        x = x + h * ref.ACTIVATIONS[activation](x @ Wr[n].T + br[n])
    np.testing.assert_allclose(ResNet(Wr, br, n_layers=N, activation=activation).forward(X0), x,
                               rtol=0, atol=1e-14)
    for family, net in (("residual-dense", ResidualDense(Wd, bd, n_layers=N, activation=activation)),
                        ("concat-dense", ConcatDense(Wd, n_layers=N, activation=activation))):
        np.testing.assert_allclose(net.states(X0), ref.forward(family, X0, h, N, Wd, bd, activation),
                                   rtol=0, atol=1e-14)


@pytest.mark.parametrize("activation", ref.NETWORK_ACTIVATIONS)
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_smooth_net_equals_its_recursion_and_closed_form(k, activation):
    """Delta^k x_n = h^k sigma(W_n x_n + b_n) for every k <= 5: the network (the rectangle rule
    on the kernel h^(k-1) C(n-j-1, k-1) sigma), its state_space method, the state-space
    recursion and the unrolled closed form (both written independently) agree."""
    N, d = 9, 2
    _, _, Wr, br, X0 = _params(10 * k, N, d)
    diffs = np.random.default_rng(k).standard_normal((k - 1, d)) * 0.3
    net = SmoothNet(k, Wr, br, n_layers=N, activation=activation, initial_differences=diffs)
    recursion = ref.forward("smooth", X0, net.h, N, Wr, br, activation, k, diffs)
    closed = ref.smooth_closed_form(X0, net.h, N, Wr, br, activation, k, diffs)
    np.testing.assert_allclose(closed, recursion, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(net.states(X0), recursion, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(net.state_space(X0), recursion, rtol=1e-12, atol=1e-12)


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


def test_states_keep_the_requested_layers():
    """states(every=k), states(layers=...) and forward are the rows of one solve_volterra: a
    ResNet's march bitwise (the same loop, the states in a ring), other networks by slicing;
    layers may repeat, come in any order and count from the end."""
    N, d = 40, 8
    rng = np.random.default_rng(5)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((6, d))
    for net in (ResNet(Wr, br, n_layers=N), ResNet(Wr, br, n_layers=N, rule="trapezoid"),
                ResidualDense(*_params(5, N, d)[:2], n_layers=N)):
        batch = 1 if net.rule == "trapezoid" else len(X0)
        full = np.concatenate([
            solve_volterra(net.kernel(batch), net.forcing(X0[i:i + batch]), (0.0, 1.0), N,
                           method=net.rule, error_estimate=False).y.reshape(N + 1, batch, d)
            for i in range(0, len(X0), batch)], axis=1).transpose(1, 0, 2)
        np.testing.assert_array_equal(net.states(X0), full)
        np.testing.assert_array_equal(net.states(X0, every=7), full[:, [0, 7, 14, 21, 28, 35, 40]])
        np.testing.assert_array_equal(net.states(X0, layers=[40, 3, -1, 3, -41]),
                                      full[:, [40, 3, 40, 3, 0]])
        np.testing.assert_array_equal(net.states(X0, layers=np.array([5], dtype=np.uint8)),
                                      full[:, [5]])
        np.testing.assert_array_equal(net.forward(X0), full[:, -1])
    net = ResNet(Wr, br, n_layers=N)
    for bad in ([], [41], [-42], [1.5], [[1, 2]], [True]):
        with pytest.raises(ValueError, match="layers must be"):
            net.states(X0, layers=bad)
    with pytest.raises(ValueError, match="every or layers"):
        net.states(X0, every=2, layers=[1])
    for bad in (0, 1.5, True):
        with pytest.raises(ValueError, match="every"):
            net.states(X0, every=bad)


def _recursion_with_bound(W, b, X0, h, activation):
    """x_{n+1} = x_n + h sigma(W_n x_n + b_n) in NumPy, and a bound E_N on the rounding error
    of any float64 evaluation of it (the package's or this one), from the standard model
    fl(a op b) = (a op b)(1 + e), |e| <= u: per layer, z = W x + b costs (d + 2) u (|W| |x| + |b|)
    (a dot product of d terms plus the bias), sigma adds 3 u |sigma| (the package's tanh is
    within 2 ulp, the others within 1, plus the scaling by h) and is 1-Lipschitz, the update
    x_a + h sum_j K_j (the rectangle rule's running sum) 3 u (|x_{n+1}| + h sum_j |K_j|);
    an error e_n grows at most by (1 + h ||W_n||_inf) per layer."""
    u = np.finfo(float).eps / 2
    d = X0.shape[1]
    sigma = ref.ACTIVATIONS[activation]
    x, err, ksum = X0.copy(), np.zeros_like(X0), np.zeros_like(X0)
    for n in range(W.shape[0] - 1):
        K = sigma(x @ W[n].T + b[n])
        ksum += np.abs(K)
        local = h * ((d + 2) * u * (np.abs(x) @ np.abs(W[n]).T + np.abs(b[n])) + 3 * u * np.abs(K))
        x = x + h * K
        local += 3 * u * (np.abs(x) + h * ksum)
        err = err * (1 + h * np.max(np.sum(np.abs(W[n]), axis=1))) + local
    return x, err


@pytest.mark.parametrize("activation", ref.NETWORK_ACTIVATIONS + ["identity"])
def test_wide_layers_equal_the_recursion(activation):
    """Layers wider than 4 are one BLAS product per layer with the bias added in the activation's
    pass: forward and states equal the NumPy recursion within twice the rounding bound."""
    N, d = 12, 7
    rng = np.random.default_rng(8)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((5, d))
    net = ResNet(Wr, br, n_layers=N, activation=activation)
    x, bound = _recursion_with_bound(Wr, br, X0, net.h, activation)
    assert np.all(np.abs(net.forward(X0) - x) <= 2 * bound)
    assert np.all(np.abs(net.states(X0)[:, -1] - x) <= 2 * bound)


def test_march_is_the_rule_solved_with_a_ring_of_states():
    """DirectQuadrature.march runs the rule's loop with G a single row and Y a ring of two: the
    kept states are bitwise those of solve_volterra on the same mesh, one K per step."""
    N, d = 23, 6
    rng = np.random.default_rng(9)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.6, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((3, d))
    for rule in ("rectangle", "implicit-rectangle", "trapezoid"):
        net = ResNet(Wr, br, n_layers=N, T=1.3, rule=rule)
        kernel = net.kernel(1 if net.rule != "rectangle" else len(X0))
        x0 = X0[0] if net.rule != "rectangle" else X0.ravel()
        sol = solve_volterra(kernel, lambda t: x0, (0.0, 1.3), N, method=rule, error_estimate=False)
        keep = [0, 1, 2, 9, 22, 23]
        states, counts = METHODS[rule].march(kernel, x0, (0.0, 1.3), N, keep, 1e-12, 50)
        np.testing.assert_array_equal(states, sol.y[keep])
        assert counts[0] == sol.stats["nfev"]
        if rule == "rectangle":
            assert counts[0] == N                     # K_n for n < N, each once
        last, _ = METHODS[rule].march(kernel, x0, (0.0, 1.3), N, [N], 1e-12, 50)
        np.testing.assert_array_equal(last, sol.y[-1:])


def test_march_reports_failures_and_refuses_other_kernels():
    from integrallimits.volterra import SolverError
    N, d = 8, 5
    blow = ResNet(np.tile(1e200 * np.eye(d), (N + 1, 1, 1)), np.zeros((N + 1, d)), n_layers=N,
                  activation="identity")
    with pytest.raises(SolverError, match="non-finite"):
        blow.forward(np.ones((2, d)))
    with pytest.raises(SolverError, match="non-finite"):
        METHODS["rectangle"].march(blow.kernel(1), np.ones(d), (0.0, 1.0), N, [N], 1e-12, 50)
    dense = ResidualDense(np.zeros((N + 1, N + 1, d, d)), np.zeros((N + 1, N + 1, d)))
    with pytest.raises(ValueError, match="t-independent"):
        METHODS["rectangle"].march(dense.kernel(1), np.ones(d), (0.0, 1.0), N, [N], 1e-12, 50)
    with pytest.raises(ValueError, match="starting"):
        METHODS["gregory4"].march(blow.kernel(1), np.ones(d), (0.0, 1.0), N, [N], 1e-12, 50)
    for keep in ([3, 3], [4, 2], [N + 1], [-1], [0.5], [[1]]):
        with pytest.raises(ValueError, match="keep must be"):
            METHODS["rectangle"].march(blow.kernel(1), np.ones(d), (0.0, 1.0), N, keep, 1e-12, 50)


def test_forward_keeps_no_other_state():
    """A ResNet's forward pass allocates about ten rows of B d values (the ring of two states,
    the loop's K ring and work rows, the output), not the (N+1) B d of all the states
    (tracemalloc: NumPy's and the compiled loop's allocations)."""
    import tracemalloc
    N, d = 1024, 8
    rng = np.random.default_rng(6)
    Wr, br = rng.standard_normal((N + 1, d, d)) * 0.3, rng.standard_normal((N + 1, d)) * 0.2
    X0 = rng.standard_normal((2048, d))
    net = ResNet(Wr, br, n_layers=N)
    net.forward(X0)
    for kept in ([-1], [0, 512, -1]):
        tracemalloc.start()
        net.states(X0, layers=kept)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < (len(kept) + 12) * X0.nbytes     # all N+1 states: 134 MB, 1025 X0.nbytes


def test_read_only_and_strided_inputs_give_the_same_bits():
    """A read-only batch (np.load(..., mmap_mode="r"), a frozen data set) made a ResNet's
    marching forward pass raise Numba's "No matching definition for argument type(s)"."""
    from integrallimits.networks import ReLUResNet
    rng = np.random.default_rng(3)
    nets = [ResNet(rng.normal(size=(6, 3, 3)), rng.normal(size=(6, 3))),
            ReLUResNet(rng.normal(size=(6, 3, 2)) / 6, rng.normal(size=(6, 2, 3)),
                       rng.normal(size=(6, 2)))]
    X = rng.normal(size=(4, 6))
    frozen = X[:, ::2].copy()
    frozen.setflags(write=False)
    for net in nets:
        want = net.states(X[:, ::2].copy(), layers=[2, -1])
        for x in (frozen, X[:, ::2]):
            assert np.array_equal(net.states(x, layers=[2, -1]), want)
            assert np.array_equal(net.forward(x), want[:, 1])
    states, _ = METHODS["rectangle"].march(nets[0].kernel(1), frozen[0], (0.0, 1.0), 6, [6],
                                           1e-12, 50)
    assert np.array_equal(states[0], nets[0].forward(frozen[0].copy())[0])


def test_complex_inputs_and_fields_are_refused():
    """They were cast to their real parts with a ComplexWarning only."""
    import warnings
    from integrallimits.networks import ReLUResNet
    rng = np.random.default_rng(0)
    net = ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="inputs must be real"):
            net.forward(np.ones(2) + 1e-20j)
        with pytest.raises(TypeError, match="V must be real"):
            ReLUResNet(np.ones((4, 2, 3)) + 0j, np.ones((4, 3, 2)), np.ones((4, 3)))
        with pytest.raises(TypeError, match="initial_differences must be real"):
            SmoothNet(2, np.ones((4, 2, 2)), np.ones((4, 2)), initial_differences=[[1j, 0.0]])
    with pytest.raises(ValueError, match="initial_differences contains NaN or inf"):
        SmoothNet(2, np.ones((4, 2, 2)), np.ones((4, 2)), initial_differences=[[np.nan, 0.0]])


def test_text_inputs_are_refused():
    """net.forward(["0.3", "-0.2"]) read the texts as numbers (a float cast), as did
    ReLUResNet's weights, a training set's X and train's init; refused naming the argument,
    as text fields W are."""
    from integrallimits.control import make_dataset
    from integrallimits.networks import ReLUResNet
    rng = np.random.default_rng(0)
    net = ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)))
    for x in (["0.3", "-0.2"], np.array(["0.3", "-0.2"]), np.array([0.3, "-0.2"], dtype=object)):
        with pytest.raises(TypeError, match=r"^inputs must hold real numbers, got dtype "):
            net.forward(x)
    with pytest.raises(TypeError, match=r"^V must hold real numbers"):
        ReLUResNet(np.ones((4, 2, 3)).astype(str), np.ones((4, 3, 2)), np.ones((4, 3)))
    data = make_dataset("xor", 8, d=2, seed=0)
    with pytest.raises(TypeError, match=r"^X must hold real numbers"):
        type(data)(data.X.astype(str), data.y, data.n_classes)


def test_bool_inputs_and_weights_are_refused():
    """net.forward(np.array([True, False])) (a mask, a comparison's result) ran as the inputs
    1.0, 0.0, as did bool weights W, V, b and an assignment net.W = <bools>; refused naming
    the argument, with the conversion to use if 0 and 1 are meant (fails on main)."""
    from integrallimits.networks import (
        LocalMap,
        NonlocalDense,
        ReLUResNet,
        product_form,
        spatial_rule,
    )
    rng = np.random.default_rng(0)
    net = ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)))
    bools = r"must hold real numbers, got bools \(dtype (bool|object)\); convert them"
    for x in (np.array([True, False]), [[True, False]], np.array([True, 0.5], dtype=object)):
        for call in (net.forward, net.states):
            with pytest.raises(TypeError, match=r"^inputs " + bools):
                call(x)
    with pytest.raises(TypeError, match=r"^W " + bools):
        ResNet(np.ones((4, 2, 2), dtype=bool), np.zeros((4, 2)))
    with pytest.raises(TypeError, match=r"^W " + bools):
        ResidualDense(np.zeros((4, 4, 2, 2), dtype=bool), np.zeros((4, 4, 2)), n_layers=4)
    with pytest.raises(TypeError, match=r"^W " + bools):
        net.W = np.ones(net.W.shape, dtype=bool)
    with pytest.raises(TypeError, match=r"^initial_differences " + bools):
        SmoothNet(2, np.ones((4, 2, 2)), np.ones((4, 2)), initial_differences=[[True, False]])
    with pytest.raises(TypeError, match=r"^V " + bools):
        ReLUResNet(np.ones((4, 2, 3), dtype=bool), np.ones((4, 3, 2)), np.ones((4, 3)))
    relu = ReLUResNet(np.ones((4, 2, 3)), np.ones((4, 3, 2)), np.ones((4, 3)))
    with pytest.raises(TypeError, match=r"^x0 " + bools):
        product_form(relu, np.array([True, False]))
    nonlocal_net = NonlocalDense(LocalMap(spatial_rule("trapezoid", 3)), n_layers=3)
    with pytest.raises(TypeError, match=r"^inputs " + bools):
        nonlocal_net.forward(np.ones((1, 3), dtype=bool))
    with pytest.raises(TypeError, match=r"^U " + bools):
        LocalMap(spatial_rule("trapezoid", 3)).apply(np.ones((1, 3), dtype=bool))
    assert np.array_equal(net.forward(np.array([True, False], dtype=float)),
                          net.forward([1.0, 0.0]))


def test_initial_differences_are_the_networks_own():
    """A SmoothNet kept the caller's array: editing it afterwards changed the network."""
    rng = np.random.default_rng(1)
    diffs = rng.normal(size=(1, 2))
    net = SmoothNet(2, rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)),
                    initial_differences=diffs)
    before = net.forward(np.ones(2))
    diffs[:] = 100.0
    assert np.array_equal(net.forward(np.ones(2)), before)


def test_t_eval_is_refused_by_states_and_forward():
    """It went on to the solver, which returned values at t_eval instead of the mesh values
    the layers are read from: an IndexError (index 4 is out of bounds for axis 0 with size 1)."""
    from integrallimits.networks import LocalMap, NonlocalDense, spatial_rule
    rng = np.random.default_rng(0)
    nets = [ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))),
            ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2))),
            NonlocalDense(LocalMap(spatial_rule("trapezoid", 3), lambda x: 1 + x, channels=1),
                          [rng.normal(size=(4, 4, 1, 1))], n_layers=4)]
    for net in nets:
        x = np.ones((1, 4)) if isinstance(net, NonlocalDense) else np.ones(2)
        for call in (net.states, net.forward):
            with pytest.raises(ValueError, match="t_eval is not an option of a network"):
                call(x, t_eval=[0.5])
    assert nets[0].solve(np.ones(2), t_eval=[0.5]).y.shape == (1, 2)


@pytest.mark.parametrize("option", [{"method": "rk4"}, {"n_steps": 8}, {"t_span": (0.0, 2.0)},
                                    {"mesh": np.linspace(0.0, 1.0, 5)}, {"rtol": 1e-6},
                                    {"atol": 1e-3}, {"kind": 1}])
def test_options_that_redefine_the_network_are_refused_naming_them(option):
    """method=, n_steps= and t_span= were TypeErrors of solve_volterra ("got multiple values
    for keyword argument 'method'"), rtol/atol a ValueError asking to give "either a tolerance
    or n_steps/mesh, not both" (the caller gave no n_steps), kind=1 of a linear implicit
    network solved a first-kind equation instead of the network."""
    from integrallimits.networks import LocalMap, NonlocalDense, spatial_rule
    rng = np.random.default_rng(0)
    nets = [ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))),
            ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2)),
                          activation="identity", rule="implicit-rectangle"),
            NonlocalDense(LocalMap(spatial_rule("trapezoid", 3), lambda x: 1 + x, channels=1),
                          [rng.normal(size=(4, 4, 1, 1))], n_layers=4)]
    name = next(iter(option))
    for net in nets:
        x = np.ones((1, 4)) if isinstance(net, NonlocalDense) else np.ones(2)
        calls = (net.states, net.forward) + (() if isinstance(net, NonlocalDense) else (net.solve,))
        for call in calls:
            with pytest.raises(ValueError, match=rf"^{name} cannot be given to a network's "
                                                 rf"forward map: its rule, depth n_layers and T"):
                call(x, **option)


def test_an_empty_batch_gives_empty_outputs():
    """A batch of no samples, (0, d), failed with "g(t) must return a float or an array of
    shape (d,), d >= 1, got shape (0,)" (the solve of a state of size 0) for the explicit
    rules' one solve of the batch; the marching ResNet, the implicit rules (a solve per
    sample) and the non-local network returned empty outputs already."""
    rng = np.random.default_rng(0)
    for net in (ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2))),
                ConcatDense(rng.normal(size=(4, 4, 2, 2)), rule="gregory4"),
                SmoothNet(2, rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))),
                ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)), rule="trapezoid")):
        assert net.forward(np.ones((0, 2))).shape == (0, 2)
        assert net.states(np.ones((0, 2)), layers=[1, 3, 1]).shape == (0, 3, 2)


@pytest.mark.parametrize("k", [float("inf"), float("nan")])
def test_a_smooth_net_order_that_is_not_finite_is_a_value_error_naming_k(k):
    """k = inf was an OverflowError ("cannot convert float infinity to integer"), k = nan a
    ValueError from int() naming no parameter."""
    with pytest.raises(ValueError, match=rf"^k must be an integer >= 1, got {k}$"):
        SmoothNet(k, np.zeros((4, 2, 2)), np.zeros((4, 2)))


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_keeps_its_fields_views_of_its_own_parameters(how):
    """copy.deepcopy and a pickle round trip (a process pool) copied W and b as arrays of their
    own: an edit or assignment of the copy's W changed nothing its forward map reads."""
    import copy
    import pickle
    from integrallimits.networks import LocalMap, NonlocalDense, spatial_rule
    rng = np.random.default_rng(0)
    local = LocalMap(spatial_rule("trapezoid", 3), 1.0, channels=1)
    nets = [ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2))),
            ResidualDense(rng.normal(size=(4, 4, 2, 2)), rng.normal(size=(4, 4, 2))),
            NonlocalDense([local, local], [rng.normal(size=(4, 4, 1, 1))] * 2,
                          rng.normal(size=(4, 4, 1)), n_layers=4)]
    duplicate = copy.deepcopy if how == "deepcopy" else lambda n: pickle.loads(pickle.dumps(n))
    for net in nets:
        x = rng.normal(size=(3, 1, 4) if isinstance(net, NonlocalDense) else (3, 2))
        before = net.forward(x)
        twin = duplicate(net)
        assert not np.shares_memory(twin.theta, net.theta)
        assert np.array_equal(twin.forward(x), before)
        W = twin.W[0] if isinstance(twin.W, tuple) else twin.W
        W[2] += 1.0
        edited = twin.forward(x)
        fresh = copy.copy(net)
        fresh._rebind(twin.theta.copy(), {})
        assert not np.array_equal(edited, before)
        assert np.array_equal(edited, fresh.forward(x))
        twin.b = np.zeros_like(twin.b)
        assert np.all(twin.theta[twin.theta.size - twin.b.size:] == 0.0)
        assert np.array_equal(net.forward(x), before)


def test_solve_takes_one_input_not_a_batch():
    """net.solve(X) with a batch of 3 solved the first sample and dropped the others."""
    rng = np.random.default_rng(0)
    net = ResNet(rng.normal(size=(4, 2, 2)), rng.normal(size=(4, 2)))
    X = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match="solve takes one input .* got a batch of 3"):
        net.solve(X)
    for x in (X[1], X[1:2]):
        assert np.array_equal(net.solve(x).y[-1], net.forward(X)[1])


@pytest.mark.parametrize("rule", [name for name in ALL_RULES if METHODS[name].min_steps > 1])
def test_fewer_layers_than_the_rule_needs_are_refused_when_built(rule):
    """A gregory4 network with N < 3 layers was built and refused only when solved: it is
    refused when built, with the rule's minimum number of steps; N = min_steps is built and
    solves (the same computation as solve_volterra)."""
    from integrallimits.networks import NonlocalDense, LocalMap, spatial_rule
    need = METHODS[rule].min_steps
    rng = np.random.default_rng(0)
    message = rf"rule '{rule}' needs n_layers >= {need} \(the method's minimum number of steps\)"
    for N in range(1, need):
        for make in (lambda: ResNet(rng.normal(size=(N, 2, 2)), np.zeros((N, 2)), rule=rule),
                     lambda: ResidualDense(lambda t, s: -np.eye(2), lambda t, s: np.zeros(2),
                                           n_layers=N, d=2, rule=rule),
                     lambda: ConcatDense(np.zeros((N, N, 2, 2)), rule=rule),
                     lambda: SmoothNet(2, np.zeros((N, 2, 2)), np.zeros((N, 2)), rule=rule),
                     lambda: NonlocalDense([LocalMap(spatial_rule("gauss-legendre", 3))],
                                           n_layers=N, rule=rule)):
            with pytest.raises(ValueError, match=message + f", got {N}"):
                make()
    net = ResNet(rng.normal(size=(need, 2, 2)), np.zeros((need, 2)), rule=rule)
    assert np.isfinite(net.forward(np.ones(2))).all()


@pytest.mark.parametrize("family", [ResNet, ResidualDense, SmoothNet, ConcatDense])
def test_a_d_other_than_the_weights_is_refused(family):
    """``d`` with an array W was ignored: ResNet(W of d = 2, b, d=5) built a network of
    width 2, silently another network than the one declared."""
    N, lead = 4, (4, 4) if family in (ResidualDense, ConcatDense) else (4,)
    fields = [np.zeros(lead + (2, 2))] + ([] if family is ConcatDense else [np.zeros(lead + (2,))])
    head = [2] if family is SmoothNet else []
    with pytest.raises(ValueError, match="d = 5 disagrees with W"):
        family(*head, *fields, d=5)
    assert family(*head, *fields, d=2).d == family(*head, *fields).d == 2
    assert family(*head, *fields, n_layers=N, d=2.0).n_layers == N


@pytest.mark.parametrize("family, lead", [(ResNet, (9,)), (ResidualDense, (9, 9))])
def test_fields_of_n_plus_1_grid_values_without_n_layers_say_so(family, lead):
    """Without n_layers, N is the length of W's first axis: W with the N+1 grid values and
    b with N rows was refused saying "N = 9" (from W), not why; the message now names
    where N came from and asks for n_layers, which builds the N-layer network."""
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=lead + (2, 2)) * 0.3, rng.normal(size=(8,) * len(lead) + (2,))
    with pytest.raises(ValueError, match=r"n_layers is not given, so N = 9 \(the length of "
                                         r"W's first axis\).*give n_layers"):
        family(W, b)
    net = family(W, b, n_layers=8)
    assert net.n_layers == 8 and net.W.shape[0] == 9
    # a built network's own fields hold N+1 grid values: with n_layers, the same network
    X = rng.normal(size=(3, 2))
    assert np.array_equal(family(net.W, net.b, n_layers=8).forward(X), net.forward(X))


def test_a_misspelt_option_of_forward_names_the_network_options():
    """net.forward(x, methd=...) said "solve_volterra() got an unexpected keyword argument
    'methd'", a function the caller had not called (and T= the same): a TypeError naming the
    option and the ones a network takes."""
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    for call in (net.forward, net.states, net.solve):
        for name in ("methd", "T"):
            with pytest.raises(TypeError, match=rf"^unexpected keyword argument '{name}': a "
                                                r"network's solve, states and forward take the "
                                                r"options of solve_volterra \(.*newton_tol"):
                call(np.ones(2), **{name: 1})
    assert np.array_equal(net.forward(np.ones(2), newton_tol=1e-10), [[1.0, 1.0]])
