"""Non-local feature maps: Nyström order of the spatial rule, FFT convolution = dense Nyström
product, quadrature-weighted attention converges, and the non-local dense network = solve_volterra
with the same kernel (batched = per sample)."""
import re

import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.fredholm import nystrom_matrix
from integrallimits.networks import (AttentionMap, ConvolutionMap, LocalMap, NonlocalDense,
                                     NystromMap, SpatialRule, spatial_rule)
from integrallimits.studies import STUDIES


def _a_exp(x, s):
    return np.exp(x * s)


def _nystrom_error(rule, n):
    """max_p |(A_M u)(ξ_p) - (A u)(ξ_p)| for a = e^{ξη}, u = e^η: (A u)(ξ) = (e^{ξ+1} - 1)/(ξ + 1)."""
    grid = spatial_rule(rule, n)
    approx = NystromMap(_a_exp, grid).apply(np.exp(grid.nodes)[None])[0]
    return np.abs(approx - np.expm1(grid.nodes + 1) / (grid.nodes + 1)).max()


def _slope(sizes, errors):
    return -np.polyfit(np.log(sizes), np.log(errors), 1)[0]


# -- the spatial rule and the Nyström order ----------------------------------------------------------

@pytest.mark.parametrize("rule, order", [("trapezoid", 2), ("rectangle", 2), ("simpson", 4)])
def test_nystrom_order_of_composite_rules(rule, order):
    sizes = [8, 16, 32, 64, 128]
    errors = [_nystrom_error(rule, n) for n in sizes]
    assert abs(_slope(sizes, errors) - order) <= 0.2


def test_nystrom_gauss_legendre_converges_geometrically():
    errors = [_nystrom_error("gauss-legendre", n) for n in range(2, 9)]
    for coarse, fine in zip(errors[:5], errors[1:6]):   # each node gains a factor >= 50
        assert fine <= coarse / 50
    assert errors[-1] < 1e-14


def test_nystrom_on_the_square_is_the_tensor_rule():
    grid = spatial_rule("gauss-legendre", 6, dim=2)
    A = NystromMap(lambda x1, x2, y1, y2: np.exp(x1 * y1 + x2 * y2), grid)
    x1, x2 = grid.coordinates
    exact = np.expm1(x1 + 1) / (x1 + 1) * np.expm1(x2 + 1) / (x2 + 1)
    u = grid.sample(lambda y1, y2: np.exp(y1 + y2))
    np.testing.assert_array_equal(u, np.exp(x1 + x2)[None])
    assert np.abs(A.apply(u)[0] - exact).max() < 1e-10
    one_d = spatial_rule("gauss-legendre", 6)
    S1 = nystrom_matrix(_a_exp, one_d.nodes, one_d.weights)
    np.testing.assert_allclose(A.spatial_matrix(), np.kron(S1, S1), rtol=1e-14, atol=0)
    assert grid.integrate(np.ones(grid.M)) == pytest.approx(1.0, abs=1e-15)


def test_local_map_is_pointwise_with_channel_mixing():
    grid = spatial_rule("gauss-legendre", 5)
    C = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])          # 2 -> 3 channels
    A = LocalMap(grid, lambda x: 1 + x, C)
    U = np.random.default_rng(0).standard_normal((4, 2, 5))
    expected = np.einsum("ab,Bbm->Bam", C, U) * (1 + grid.nodes)
    np.testing.assert_allclose(A.apply(U), expected, rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(A.matrix() @ U[0].ravel(), expected[0].ravel(), rtol=0, atol=1e-14)


# -- convolution by FFT = the dense Nyström product ------------------------------------------------

def _conv(d):
    return np.exp(-3 * d * d) * np.cos(5 * d)


def _conv_dense(x, s):
    return np.exp(-3 * (x - s) ** 2) * np.cos(5 * (x - s))


def _conv_periodic_dense(x, s):
    d = (x - s) % 1.0
    return np.exp(-3 * d * d) * np.cos(5 * d)


@pytest.mark.parametrize("rule, n, mode", [("trapezoid", 16, "zero"), ("simpson", 32, "zero"),
                                           ("rectangle", 17, "zero"), ("rectangle", 32, "periodic")])
def test_convolution_fft_equals_dense_nystrom_product(rule, n, mode):
    grid = spatial_rule(rule, n)
    A = ConvolutionMap(_conv, grid, mode=mode, channel_matrix=[[1.0, -2.0], [0.5, 1.0]])
    S = nystrom_matrix(_conv_periodic_dense if mode == "periodic" else _conv_dense,
                       grid.nodes, grid.weights)
    U = np.random.default_rng(1).standard_normal((3, 2, grid.M))
    np.testing.assert_allclose(A.apply(U), np.einsum("ab,Bbm->Bam", A.channel_matrix, U @ S.T),
                               rtol=0, atol=1e-14)
    np.testing.assert_allclose(A.spatial_matrix(), S, rtol=0, atol=1e-15)


@pytest.mark.parametrize("rule, mode", [("trapezoid", "zero"), ("rectangle", "periodic")])
def test_convolution_on_the_square(rule, mode):
    grid = spatial_rule(rule, 8, dim=2)
    A = ConvolutionMap(lambda d1, d2: np.exp(-d1 ** 2 - 2 * d2 ** 2) * (1 + d1), grid, mode=mode)
    U = np.random.default_rng(2).standard_normal((2, 1, grid.M))
    np.testing.assert_allclose(A.apply(U), U @ A.spatial_matrix().T, rtol=0, atol=1e-14)


def test_convolution_needs_a_uniform_grid():
    with pytest.raises(ValueError, match="equally spaced"):
        ConvolutionMap(_conv, spatial_rule("gauss-legendre", 8))
    with pytest.raises(ValueError, match="periodic"):
        ConvolutionMap(_conv, spatial_rule("trapezoid", 8), mode="periodic")
    with pytest.raises(ValueError, match="mode"):
        ConvolutionMap(_conv, spatial_rule("trapezoid", 8), mode="reflect")


def test_functions_that_reduce_arrays_are_evaluated_pointwise():
    """A function that broadcasts to a single number (np.linalg.norm of the array of lags)
    is not taken for a constant: it is checked against pointwise calls and evaluated point by
    point (it used to give the map of a(δ) = e^{-|δ_max|} for every lag, off by 0.6)."""
    grid = spatial_rule("trapezoid", 8)
    U = np.cos(grid.nodes)[None, None]
    norm = ConvolutionMap(lambda d: np.exp(-np.linalg.norm(d)), grid)
    plain = ConvolutionMap(lambda d: np.exp(-abs(d)), grid)
    np.testing.assert_array_equal(norm.apply(U), plain.apply(U))
    constant = LocalMap(grid, multiplier=lambda x: 2.0)       # a real constant stays one
    np.testing.assert_array_equal(constant.apply(U), 2.0 * U)


# -- attention ---------------------------------------------------------------------------------------

_Q = np.array([[1.0, 0.5], [-0.3, 1.0]])
_K = np.array([[0.8, -0.2], [0.4, 0.6]])


def _features(x):
    return np.stack([np.sin(np.pi * x) + x, np.cos(2 * x)])


def test_attention_weights_are_quadrature_weighted_probabilities():
    grid = spatial_rule("gauss-legendre", 9)
    att = AttentionMap(grid, _Q, _K)
    alpha = att.attention_weights(_features(grid.nodes))
    assert alpha.shape == (9, 9) and np.all(alpha > 0)
    np.testing.assert_allclose(alpha.sum(axis=-1), 1.0, rtol=0, atol=1e-15)
    # constant features: constant scores, so alpha_pm = ω_m / |Ω| (the uniform density)
    flat = att.attention_weights(np.ones((2, 9)))
    np.testing.assert_allclose(flat, np.broadcast_to(grid.weights, (9, 9)), rtol=1e-14, atol=0)


def test_attention_converges_with_the_rule_order():
    """At the shared nodes k/8 of nested trapezoid grids, (A(u) u)(ξ) converges at order 2."""
    def at_coarse_nodes(m):
        grid = spatial_rule("trapezoid", m)
        out = AttentionMap(grid, _Q, _K, channel_matrix=[[1.0, 0.3], [0.0, 1.0]]).apply(
            _features(grid.nodes))
        return out[:, ::m // 8]
    reference = at_coarse_nodes(2048)
    sizes = [16, 32, 64, 128]
    errors = [np.abs(at_coarse_nodes(m) - reference).max() for m in sizes]
    assert abs(_slope(sizes, errors) - 2) <= 0.2
    # Gauss-Legendre: the pooled output converges geometrically
    pooled = [spatial_rule("gauss-legendre", n).integrate(
        AttentionMap(spatial_rule("gauss-legendre", n), _Q, _K).apply(
            _features(spatial_rule("gauss-legendre", n).nodes))) for n in (8, 16, 48)]
    assert np.abs(pooled[0] - pooled[2]).max() < 1e-5
    assert np.abs(pooled[1] - pooled[2]).max() < 1e-10


# -- the non-local dense network ----------------------------------------------------------------------

def _network(rule="rectangle", N=5, seed=3, attention=False, spatial_bias=True):
    grid = spatial_rule("trapezoid", 5)                      # M = 6 equally spaced nodes
    rng = np.random.default_rng(seed)
    c, M = 2, grid.M
    maps = [LocalMap(grid, lambda x: 1 + 0.5 * x, channels=c),
            NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid, channels=c),
            ConvolutionMap(lambda d: np.cos(3 * d), grid, channels=c)]
    if attention:
        maps.append(AttentionMap(grid, _Q, _K))
    W = [rng.standard_normal((N + 1, N + 1, c, c)) * 0.7 for _ in maps]
    b = rng.standard_normal((N + 1, N + 1, c, M) if spatial_bias else (N + 1, N + 1, c)) * 0.3
    X0 = rng.standard_normal((3, c, M))
    return NonlocalDense(maps, W, b, n_layers=N, rule=rule), X0


def _plain_kernel(net):
    """K(t, s, x) = tanh(A_nj x + b_nj) written as a user would, with the dense matrices
    A_nj = Σ_r W^r_nj ⊗ S_r of the (linear) maps."""
    N, h = net.n_layers, net.h
    S = [m.spatial_matrix() for m in net.maps]
    A = np.array([[sum(np.kron(Wr[n, j], Sr) for Wr, Sr in zip(net.W, S)) for j in range(N + 1)]
                  for n in range(N + 1)])
    B = net.b.reshape(N + 1, N + 1, -1) if net.b.ndim == 4 else \
        np.repeat(net.b, net.M, axis=-1)

    def K(t, s, x):
        n, j = int(round(t / h)), int(round(s / h))
        return np.tanh(A[n, j] @ x + B[n, j])
    return K


_PLAIN_KERNELS = {}


@pytest.mark.parametrize("rule", ["rectangle", "trapezoid", "gregory4"])
def test_nonlocal_dense_equals_solve_volterra_with_the_same_kernel(rule):
    net, X0 = _network(rule)
    states = net.states(X0)
    assert states.shape == (3, net.n_layers + 1, 2, net.M)
    # the same fields (seed) and h for every rule: the user kernel is compiled once, not per rule
    K = _PLAIN_KERNELS.setdefault("seed 3", _plain_kernel(net))
    for i in range(len(X0)):
        # (K is piecewise constant between the layers, a lookup of random weights: as an
        # integral equation, 5 steps do not resolve it, and the solver's off-grid probe says
        # so; the comparison is of the discrete maps, without the estimate)
        ref = solve_volterra(K, lambda t, x=X0[i].ravel(): x, (0.0, 1.0), net.n_layers, method=rule,
                             error_estimate=False)
        assert ref.success
        np.testing.assert_allclose(states[i].reshape(net.n_layers + 1, -1), ref.y, rtol=0, atol=1e-13)
        own = solve_volterra(net.kernel(), lambda t, x=X0[i].ravel(): x, (0.0, 1.0), net.n_layers,
                             method=rule)
        np.testing.assert_array_equal(states[i].reshape(net.n_layers + 1, -1), own.y)


def test_states_of_chosen_layers_as_the_other_families():
    """NonlocalDense.states took no every= / layers= (passed on to solve_volterra: a TypeError
    about an unexpected keyword); they select rows of the whole states, as for the other
    families, with the same checks."""
    net, X0 = _network("trapezoid")
    every = net.states(X0)
    N = net.n_layers
    np.testing.assert_array_equal(net.states(X0, layers=[3, -1, 0, 3]), every[:, [3, N, 0, 3]])
    np.testing.assert_array_equal(net.states(X0, every=3), every[:, np.r_[0:N:3, N]])
    np.testing.assert_array_equal(net.forward(X0), every[:, -1])
    for bad in ({"layers": [N + 1]}, {"layers": [0.5]}, {"layers": []},
                {"every": 0}, {"every": 2, "layers": [1]}):
        with pytest.raises(ValueError, match="layers|every"):
            net.states(X0, **bad)


@pytest.mark.parametrize("rule", ["rectangle", "trapezoid"])
def test_no_samples_give_empty_states_as_the_other_families(rule):
    """A batch of no samples (B = 0) gave ``ValueError: range() arg 3 must not be zero`` from
    NonlocalDense.states and forward; the other families (and ``recursion``) return the empty
    states."""
    net, X0 = _network(rule)
    none = X0[:0]
    assert net.states(none).shape == (0, net.n_layers + 1, net.channels, net.M)
    assert net.states(none, layers=[0, -1]).shape == (0, 2, net.channels, net.M)
    assert net.forward(none).shape == (0, net.channels, net.M)
    assert net.recursion(none).shape == net.states(none).shape


@pytest.mark.parametrize("attention, spatial_bias", [(False, True), (True, False)])
def test_rectangle_network_is_the_recursion_with_the_maps(attention, spatial_bias):
    net, X0 = _network(attention=attention, spatial_bias=spatial_bias)
    np.testing.assert_allclose(net.states(X0), net.recursion(X0), rtol=0, atol=1e-14)


def test_kernel_jacobian_and_vjp_with_attention_equal_differences():
    """The compiled state Jacobian of K = σ(Σ_r (W^r ⊗ S_r) x + b), with an attention map among
    the maps, against central differences of the kernel to 1e-8 relative, at several layer pairs;
    and the kernel's vjp in the state is its transpose applied to mu."""
    net, X0 = _network(attention=True)
    K = net.kernel(batch=2)
    f, jac, vjp = K.function, K.jacobian_function, K.vjp
    assert K.jacobian_source == "analytic"
    rng = np.random.default_rng(5)
    d, h = K.dim, net.h
    for n, j in ((3, 1), (5, 4), (2, 0)):
        Y = np.ascontiguousarray(np.stack([X0[:2].ravel(), 0.5 * rng.standard_normal(d)]))
        J = np.empty((d, d))
        jac(n * h, j * h, Y, 1, K.params, J)
        fd, eps, fp, fm = np.empty((d, d)), 1e-6, np.empty(d), np.empty(d)
        for k in range(d):
            hi, lo = Y.copy(), Y.copy()
            hi[1, k] += eps
            lo[1, k] -= eps
            f(n * h, j * h, hi, 1, K.params, fp)
            f(n * h, j * h, lo, 1, K.params, fm)
            fd[:, k] = (fp - fm) / (2 * eps)
        assert np.abs(J - fd).max() <= 1e-8 * np.abs(fd).max()
        assert np.all(J[:d // 2, d // 2:] == 0) and np.all(J[d // 2:, :d // 2] == 0)  # per sample
        mu, gy, gt = rng.standard_normal(d), np.zeros(d), np.zeros_like(K.params)
        vjp(n * h, j * h, Y, 1, K.params, mu, 0.5, gy, gt)
        np.testing.assert_allclose(gy, 0.5 * J.T @ mu, rtol=0, atol=1e-13 * np.abs(J).max() * d)


def test_implicit_attention_network_solves_the_trapezoid_equations():
    """With an attention map (Newton on its analytic Jacobian) the states satisfy
    x_n = x_0 + h (K_n0 / 2 + Σ_{0<j<n} K_nj + K_nn / 2), K evaluated with the maps' apply."""
    net, X0 = _network("trapezoid", attention=True)
    x = net.states(X0[:1])[0]
    h, N = net.h, net.n_layers
    sigma = np.tanh

    def K(n, j):
        z = sum(m.with_channels(Wr[n, j]).apply(x[j]) for m, Wr in zip(net.maps, net.W))
        return sigma(z + net.b[n, j])
    for n in range(1, N + 1):
        rhs = X0[0] + h * (K(n, 0) / 2 + sum(K(n, j) for j in range(1, n)) + K(n, n) / 2)
        np.testing.assert_allclose(x[n], rhs, rtol=0, atol=1e-11)


def test_batched_equals_per_sample():
    net, X0 = _network(attention=True)
    batched = net.forward(X0)
    assert batched.shape == (3, 2, net.M)
    for i in range(3):
        np.testing.assert_allclose(batched[i], net.forward(X0[i])[0], rtol=0, atol=1e-15)


def test_network_on_the_square_with_fields():
    grid = spatial_rule("rectangle", 4, dim=2)
    maps = [LocalMap(grid), ConvolutionMap(lambda d1, d2: np.exp(-d1 * d1 - d2 * d2), grid,
                                           mode="periodic")]
    net = NonlocalDense(maps, [lambda t, s: np.array([[-1.0 - t]]), None],
                        lambda t, s: np.array([0.1 * (t - s)]), n_layers=4, activation="softplus")
    X0 = np.cos(np.pi * grid.nodes).prod(axis=1)[None]
    assert net.forward(X0).shape == (1, 1, 16)
    np.testing.assert_allclose(net.states(X0), net.recursion(X0), rtol=0, atol=1e-14)
    np.testing.assert_array_equal(net.W[1][3, 1], maps[1].channel_matrix)   # None: the map's own


def test_bad_input_errors():
    grid = spatial_rule("trapezoid", 4)
    other = spatial_rule("gauss-legendre", 5)
    local = LocalMap(grid, channels=2)
    with pytest.raises(ValueError, match=r"shape \(B, 2, 5\)"):
        local.apply(np.ones((3, 5)))
    with pytest.raises(ValueError, match="NaN"):
        local.apply(np.full((2, 5), np.nan))
    with pytest.raises(TypeError, match="SpatialRule"):
        LocalMap(grid.nodes)
    with pytest.raises(TypeError, match="callable"):
        NystromMap(1.0, grid)
    with pytest.raises(ValueError, match="dim"):
        spatial_rule("trapezoid", 4, dim=3)
    with pytest.raises(ValueError, match="channels"):
        LocalMap(grid, channels=0)
    with pytest.raises(ValueError, match="query and key"):
        AttentionMap(grid, np.ones((2, 2)), np.ones((3, 2)))
    with pytest.raises(TypeError, match="not a linear map"):
        AttentionMap(grid, np.ones((1, 2)), np.ones((1, 2))).spatial_matrix()
    with pytest.raises(ValueError, match="same spatial rule"):
        NonlocalDense([local, LocalMap(other, channels=2)], n_layers=3)
    with pytest.raises(ValueError, match="square"):
        NonlocalDense(LocalMap(grid, channel_matrix=np.ones((3, 2))), n_layers=3)
    with pytest.raises(ValueError, match="one channel field per map"):
        NonlocalDense([local, local], W=np.zeros((4, 4, 2, 2)), n_layers=3)
    with pytest.raises(ValueError, match="b must give"):
        NonlocalDense(local, b=np.zeros((4, 4, 3)), n_layers=3)
    with pytest.raises(ValueError, match="n_layers"):
        NonlocalDense(local)
    with pytest.raises(TypeError, match="FeatureMap"):
        NonlocalDense([], n_layers=3)
    net = NonlocalDense(local, W=np.zeros((3, 3, 2, 2)))
    assert net.n_layers == 3 and isinstance(net.grid, SpatialRule)
    with pytest.raises(ValueError, match=r"inputs must have shape \(B, 2, 5\)"):
        net.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="rule"):
        NonlocalDense(local, n_layers=3, rule="rk4")


# -- the study ---------------------------------------------------------------------------------------

def test_resolution_limit_study_quick():
    res = STUDIES["resolution-limit"](quick=True)
    assert {"M", "error", "rule", "observed_order"} <= set(res.columns)
    assert {r["rule"] for r in res.rows} == {"trapezoid", "simpson", "gauss-legendre"}
    last = {r["rule"]: r for r in res.rows}
    assert abs(last["trapezoid"]["observed_order"] - 2) <= 0.2
    assert abs(last["simpson"]["observed_order"] - 4) <= 0.2
    assert last["gauss-legendre"]["error"] < 1e-11
    assert "| gauss-legendre |" in res.to_markdown()


_SCALE = {"a": 1.0}


def _scaled_gaussian(u):
    return _SCALE["a"] * np.exp(-u ** 2)


@pytest.mark.parametrize("mode", ["zero", "periodic"])
def test_convolution_map_keeps_the_values_of_a_it_sampled(mode, monkeypatch):
    """A ConvolutionMap sampled a(δ) for its FFT when made, but its matrix (which the
    network's compiled kernel uses) called a again: after a value a reads changed, a network
    built from the map disagreed with the map's own apply (net.forward vs net.recursion)."""
    grid = spatial_rule("trapezoid" if mode == "zero" else "rectangle", 6)
    m = ConvolutionMap(_scaled_gaussian, grid, mode=mode, channels=2)
    monkeypatch.setitem(_SCALE, "a", 5.0)
    net = NonlocalDense(m, [lambda t, s: -np.eye(2)], n_layers=3)
    x0 = np.stack([np.sin(grid.nodes), np.cos(grid.nodes)])
    assert np.allclose(net.forward(x0), net.recursion(x0)[:, -1], rtol=0, atol=1e-14)
    U = x0[None]
    assert np.allclose(m.matrix() @ U.reshape(-1), m.apply(U).reshape(-1), rtol=0, atol=1e-14)


def test_nystrom_map_with_a_kernel_that_is_not_finite_is_refused():
    """The 1-d Nyström matrix of a(ξ, η) = NaN was accepted (the network's states then NaN),
    while the square's and the other maps' refused it."""
    with pytest.raises(ValueError, match="not finite at some node"):
        NystromMap(lambda x, y: np.nan * x, spatial_rule("trapezoid", 4))


def test_spatial_functions_complex_values_are_refused():
    """A multiplier or a(δ) with complex values was cut to its real part without a word
    (c(ξ) = exp(i ξ) made the map of cos ξ); it is refused, naming the node."""
    grid = spatial_rule("trapezoid", 8)
    with pytest.raises(TypeError, match=r"multiplier c\(ξ\) must return a real number, got "
                                        r"complex value .* at \(0\.0\)"):
        LocalMap(grid, lambda x: np.exp(1j * x))
    with pytest.raises(TypeError, match=r"a\(δ\) must return a real number, got complex"):
        ConvolutionMap(lambda d: np.exp(-d * d) + 0.5j, grid)


def test_spatial_functions_own_errors_are_raised_with_their_point():
    """An error of the user's c(ξ), a(δ), a(ξ1, ξ2, η1, η2) or 1-d a(ξ, η) is raised as it is
    (a ValueError or TypeError was replaced by "must return a real number, got an error"), with
    the point in a note; a 1-d a(ξ, η) returning a vector says so (it was asked for a (2, 2)
    matrix under the name K(t, s))."""
    grid = spatial_rule("trapezoid", 8)

    def late(x):
        if x > 0.5:
            raise ValueError("late")
        return 1.0 + x

    with pytest.raises(ValueError, match="late") as info:
        LocalMap(grid, late)
    assert info.value.__notes__[-1] == "raised by multiplier c(ξ) when called at (0.625)"
    with pytest.raises(TypeError, match="unsupported operand") as info:
        ConvolutionMap(lambda d: float(d) + "1", grid)
    assert info.value.__notes__[-1] == "raised by a(δ) when called at (0.0)"
    with pytest.raises(NameError) as info:
        NystromMap(lambda x, y: x * y * undefined_name, grid)   # noqa: F821
    assert info.value.__notes__[-1] == "raised by a(x, s) when called at x = s = 0.0"
    with pytest.raises(ValueError, match=r"a\(x, s\) must return a float or a \(d, d\) matrix, "
                                         r"got shape \(2,\)"):
        NystromMap(lambda x, y: np.array([x, y]), grid)
    with pytest.raises(ValueError, match=r"not finite at some node: inf at \(0\.0\)"):
        LocalMap(grid, lambda x: np.inf if x == 0.0 else 1.0)


def test_a_nonlocal_bias_fields_own_error_names_its_point():
    """b(t, s)'s own exception at the first call, which reads its shape, comes with the point
    in a note (it came with none)."""
    m = LocalMap(spatial_rule("trapezoid", 4), 1.0, channels=2)
    with pytest.raises(NameError) as info:
        NonlocalDense(m, [lambda t, s: -np.eye(2)],
                      lambda t, s: np.zeros(2) + undefined_name, n_layers=4)   # noqa: F821
    assert info.value.__notes__[-1] == "raised by b(0.0, 0.0) (the field called at that point)"


def test_a_multiplier_that_branches_on_the_whole_array_is_evaluated_pointwise():
    """c(ξ) = exp(-ξ) if np.all(ξ < 0.5) else 1 agrees on the nodes with its pointwise calls
    at the first, middle and last nodes only: its array values (1 everywhere) were taken; the
    check on the two halves of the nodes sends it point by point."""
    grid = spatial_rule("trapezoid", 8)

    def c(x):
        if np.all(x < 0.5):
            return np.exp(-x)
        return np.ones_like(x) if np.ndim(x) else 1.0

    expected = [float(np.exp(-x)) if x < 0.5 else 1.0 for x in grid.nodes.tolist()]
    assert LocalMap(grid, c).multiplier.tolist() == expected


def test_a_whole_float_depth_is_taken_as_by_the_other_families():
    """n_layers=4.0 was refused ("must be an integer >= 1, got 4.0") while ResNet, ResidualDense,
    ConcatDense and SmoothNet take it as 4; 4.5, 0 and True stay refused."""
    m = LocalMap(spatial_rule("trapezoid", 3), 1.0, channels=1)
    W = [np.random.default_rng(0).normal(size=(4, 4, 1, 1))]
    a, b = NonlocalDense(m, W, n_layers=4.0), NonlocalDense(m, W, n_layers=4)
    assert type(a.n_layers) is int and a.n_layers == 4
    x = np.ones((2, 1, 4))
    assert np.array_equal(a.forward(x), b.forward(x))
    for bad in (4.5, 0, True):
        with pytest.raises(ValueError, match=r"^n_layers must be an integer >= 1, got "):
            NonlocalDense(m, W, n_layers=bad)


@pytest.mark.parametrize("maps, source", [(1, "W"), (2, "W[0]")])
def test_fields_of_n_plus_1_grid_values_without_n_layers_say_so(maps, source):
    """Without n_layers, N is the length of the first array's first axis: W with the N+1
    grid values and b with N rows was refused as "b must have shape (N[+1], N[+1], 2) with
    N = 5", not saying where N came from; the message now does, as for the other families
    (ResNet, ResidualDense...), and asks for n_layers, which builds the N-layer network."""
    rng = np.random.default_rng(0)
    m = [LocalMap(spatial_rule("trapezoid", 3), 1.0, channels=2)] * maps
    W = [rng.normal(size=(5, 5, 2, 2)) * 0.3 for _ in m]
    b = rng.normal(size=(4, 4, 2))
    with pytest.raises(ValueError, match=rf"n_layers is not given, so N = 5 \(the length of "
                                         rf"{re.escape(source)}'s first axis\), but b has shape "
                                         rf"\(4, 4, 2\).*give n_layers"):
        NonlocalDense(m, W, b)
    with pytest.raises(ValueError, match=r"so N = 5 .*but W\[1\] has shape \(4, 4, 2, 2\)"):
        NonlocalDense(m[:1] * 2, [W[0], W[0][:4, :4]])
    net = NonlocalDense(m, W, b, n_layers=4)
    assert net.n_layers == 4
    # a built network's own fields hold N+1 grid values: with n_layers, the same network
    x = rng.normal(size=(3, 2, net.M))
    assert np.array_equal(NonlocalDense(m, list(net.W), net.b, n_layers=4).forward(x),
                          net.forward(x))


@pytest.mark.parametrize("call, error, match", [
    (lambda g: NystromMap("exp(-(x - s)**2)", g), TypeError,
     r"^a must be callable a\(ξ, η\), got str \(text is not parsed here"),
    (lambda g: NystromMap(lambda x: x, g), TypeError,
     r"^a must take 2 arguments \(ξ, η\), but <lambda> takes 1$"),
    (lambda g: NystromMap(lambda x, s: x * s, g).apply("abc"), ValueError,
     r"^U must hold real numbers, got dtype <U3$"),
    (lambda g: nystrom_matrix("exp(x*s)", g.nodes, g.weights), TypeError,
     r"^kernel must be a callable a\(x, s\) or K\(x, s, y\), or a Kernel, got str \(text "
     r".*kernel_from_text"),
    (lambda g: nystrom_matrix(lambda x, s: x * s, "abc", g.weights), ValueError,
     r"^nodes must hold real numbers, got dtype <U3$"),
    (lambda g: nystrom_matrix(lambda x, s: x * s, g.nodes, ["w"] * g.M), ValueError,
     r"^weights must hold real numbers"),
    (lambda g: nystrom_matrix(lambda x, s: x * s, g.nodes, g.weights, targets="t"), ValueError,
     r"^targets must hold real numbers"),
    (lambda g: nystrom_matrix(lambda x, s, y: x * s * y, g.nodes, g.weights, at="t"),
     ValueError, r"^at must hold real numbers"),
])
def test_text_and_wrong_signatures_are_refused_naming_the_argument(call, error, match):
    """Text gave NumPy's "could not convert string to float: 'abc'" (which argument?), a
    one-argument a(ξ) the message of a three-argument kernel K(t, s, y), and a formula as
    text "K must be callable K(t, s, y)" (nystrom_matrix's argument is a(x, s) or K)."""
    grid = spatial_rule("gauss-legendre", 5)
    with pytest.raises(error, match=match):
        call(grid)


def test_numbers_in_lists_and_kernels_still_make_a_nystrom_map():
    from integrallimits.kernels import kernel_from_text
    grid = spatial_rule("gauss-legendre", 5)
    S = nystrom_matrix(lambda x, s: np.exp(x * s), list(grid.nodes), list(grid.weights))
    assert np.array_equal(S, NystromMap(lambda x, s: np.exp(x * s), grid).spatial_matrix())
    K = NystromMap(kernel_from_text("exp(t*s)*y"), grid).spatial_matrix()
    assert np.allclose(K, S, rtol=1e-14, atol=0)
    u = NystromMap(lambda x, s: np.exp(x * s), grid).apply([list(grid.nodes)])
    assert u.shape == (1, 5)


def test_a_nystrom_matrix_that_cannot_fit_is_a_memory_error_before_it_is_built(monkeypatch):
    """nystrom_matrix and a NystromMap on the square allocated their M x M matrix without the
    memory check of the other layers (NumPy's error at best; an allocation the system grants
    and then kills the process for at worst); now a MemoryError with the figures (here with
    10 MB said to be available), before the matrix is allocated."""
    import integrallimits._memory as memory
    monkeypatch.setattr(memory, "available_memory", lambda: 1e7)

    def a(x, s):
        return x * s
    M = 3000                                             # 72 MB
    with pytest.raises(MemoryError, match=r"nystrom_matrix with 3000 targets and 3000 nodes "
                                          r".* needs about 72 MB of memory; 10 MB are"):
        nystrom_matrix(a, np.linspace(0.0, 1.0, M), np.full(M, 1.0 / M))
    grid = spatial_rule("trapezoid", 55, dim=2)          # M = 3136: 78.7 MB
    with pytest.raises(MemoryError, match=r"NystromMap on 3136 nodes .* needs about 78.7 MB"):
        NystromMap(lambda x1, x2, y1, y2: x1 * y1, grid)
    assert nystrom_matrix(a, np.linspace(0.0, 1.0, 8), np.full(8, 0.125)).shape == (8, 8)


def test_dense_convolution_and_attention_matrices_that_cannot_fit_are_memory_errors(monkeypatch):
    """A NonlocalDense packs a ConvolutionMap's dense M x M matrix into its parameters, and its
    kernel allocates an M x M block of attention weights per map at every call (AttentionMap's
    weights too: (B, M, M)), without the memory check of the other layers (nystrom_matrix,
    NystromMap); now a MemoryError with the figures (here with 10 MB said to be available)."""
    import integrallimits._memory as memory
    monkeypatch.setattr(memory, "available_memory", lambda: 1e7)
    grid = spatial_rule("trapezoid", 55, dim=2)          # M = 3136: 78.7 MB for M x M
    conv = ConvolutionMap(lambda d1, d2: np.exp(-d1 * d1 - d2 * d2), grid)
    with pytest.raises(MemoryError, match=r"ConvolutionMap's dense matrix on 3136 nodes .* "
                                          r"needs about 78.7 MB of memory; 10 MB are"):
        NonlocalDense(conv, n_layers=2)
    att = AttentionMap(grid, query=[[1.0]], key=[[1.0]])
    with pytest.raises(MemoryError, match=r"NonlocalDense with an AttentionMap on 3136 nodes "
                                          r".* needs about 78.8 MB"):
        NonlocalDense(att, n_layers=2)
    with pytest.raises(MemoryError, match=r"AttentionMap's weights of 1 samples on 3136 nodes"):
        att.apply(np.ones((1, grid.M)))
    small = spatial_rule("trapezoid", 4, dim=2)
    net = NonlocalDense([ConvolutionMap(lambda d1, d2: d1 * d2, small),
                         AttentionMap(small, query=[[1.0]], key=[[1.0]])], [None, None],
                        n_layers=2)
    x0 = np.ones((1, small.M))
    assert np.allclose(net.forward(x0), net.recursion(x0)[:, -1], rtol=0, atol=1e-14)
