"""ReLU ResNets: product form = forward pass; summability; fields and extensions."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrallimits import solve_volterra
from integrallimits.networks import (PiecewiseLinear, PiecewiseLinearTriangle, ReLUResNet,
                                     activation_patterns, discrete_h1, h1_distance, l2_distance,
                                     legendre_field, low_rank_field, product_form, sample_field,
                                     summability)


@settings(max_examples=25)
@given(N=st.integers(1, 12), d=st.integers(1, 4), m=st.integers(1, 7), seed=st.integers(0, 10**6))
def test_product_form_equals_forward_pass(N, d, m, seed):
    rng = np.random.default_rng(seed)
    net = ReLUResNet(rng.normal(size=(N, d, m)) / N, rng.normal(size=(N, m, d)), rng.normal(size=(N, m)))
    x0 = rng.normal(size=d)
    states = net.states(x0)[0]
    np.testing.assert_allclose(product_form(net, x0), states, rtol=1e-12, atol=1e-12)
    # the forward pass is the explicit recursion
    x = x0.copy()
    for n in range(N):
        x = x + net.V[n] @ np.maximum(net.W[n] @ x + net.b[n], 0.0)
    np.testing.assert_allclose(states[-1], x, rtol=1e-12, atol=1e-12)


def test_product_form_uses_the_patterns():
    """A wrong activation pattern gives a different map (the check can fail)."""
    rng = np.random.default_rng(5)
    net = ReLUResNet(rng.normal(size=(6, 2, 3)) / 6, rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3)))
    x0 = rng.normal(size=2)
    D = activation_patterns(net, x0)
    flipped = D.copy()
    flipped[2] = ~flipped[2]
    assert not np.allclose(product_form(net, x0, flipped)[-1], net.forward(x0)[0])


def test_relu_resnet_is_the_volterra_rectangle_rule():
    rng = np.random.default_rng(1)
    N, d, m = 10, 2, 4
    net = ReLUResNet(rng.normal(size=(N, d, m)) / N, rng.normal(size=(N, m, d)), rng.normal(size=(N, m)))
    x0 = np.array([0.3, -0.7])
    h = 1.0 / N
    V, W, b = net.V, net.W, net.b

    def K(t, s, x):
        q = min(int(round(s / h)), N - 1)
        return V[q] @ np.maximum(W[q] @ x + b[q], 0.0) / h

    # the kernel reads grid weights: the solve is the network's map itself (no companion)
    ref = solve_volterra(K, lambda t: x0, (0.0, 1.0), N, method="rectangle", error_estimate=False)
    np.testing.assert_allclose(net.states(x0)[0], ref.y, rtol=0, atol=1e-13)


def test_summability_tells_summable_from_not():
    n = np.arange(1, 2049)
    V = np.ones((len(n), 2, 3)) / np.sqrt(6)
    W2 = np.ones((len(n), 3, 2)) / np.sqrt(6) / n[:, None, None] ** 2
    W1 = np.ones((len(n), 3, 2)) / np.sqrt(6) / n[:, None, None]
    b = np.zeros((len(n), 3))
    assert summability(V, W2, b)["tail_VW"] < 1e-3
    assert summability(V, W1, b)["tail_VW"] > 0.05
    # one layer: no tail to tell (it was 0, "summable", for any weights)
    one = summability(V[:1], 1e6 * W1[:1], np.ones((1, 3)))
    assert np.isnan(one["tail_VW"]) and np.isnan(one["tail_Vb"])
    assert summability(V[:2], W1[:2], b[:2])["tail_VW"] == pytest.approx(0.5 / 1.5)


def test_extension_1d_reproduces_grid_and_norm():
    rng = np.random.default_rng(2)
    N, h = 16, 1.0 / 16
    vals = rng.normal(size=(N, 2, 2))
    ext = PiecewiseLinear(vals, h)
    np.testing.assert_allclose(ext(np.arange(N) * h), vals, rtol=0, atol=1e-14)
    zero = lambda t: np.zeros(np.shape(t) + (2, 2))  # noqa: E731
    # discrete H1 seminorm = continuum seminorm of the extension (exact for a refinement grid)
    assert h1_distance(ext, zero, fine=N * 32) ** 2 == pytest.approx(discrete_h1(vals, h), rel=1e-12)


def test_extension_triangle_reproduces_grid_and_is_linear_on_triangles():
    rng = np.random.default_rng(3)
    N, h = 8, 1.0 / 8
    vals = rng.normal(size=(N + 1, N + 1))
    ext = PiecewiseLinearTriangle(vals, h)
    for n in range(1, N + 1):
        for j in range(n):
            assert ext(n * h, j * h) == pytest.approx(vals[n, j], abs=1e-13)
    # midpoint of a lower-triangle edge is the mean of its ends
    assert ext(5.5 * h, 2 * h) == pytest.approx(0.5 * (vals[5, 2] + vals[6, 2]), abs=1e-13)
    # inside one triangle the extension is affine: check three collinear points
    p = [ext((4 + a) * h, (2 + a / 2) * h) for a in (0.2, 0.5, 0.8)]
    assert p[1] == pytest.approx(0.5 * (p[0] + p[2]), abs=1e-13)


def test_l2_distance_of_a_known_difference():
    f = lambda t: t  # noqa: E731
    g = lambda t: np.zeros_like(t)  # noqa: E731
    assert l2_distance(f, g, fine=2048) == pytest.approx(np.sqrt(1 / 3), rel=1e-6)


def test_basis_fields():
    c = np.zeros((3, 2))
    c[1] = [1.0, 2.0]  # P_1(2t - 1) = 2t - 1
    field = legendre_field(c)
    np.testing.assert_allclose(field(0.75), [0.5, 1.0])
    lr = low_rank_field([lambda t: np.array([1.0, t])], [lambda s: np.array([s, 1.0])])
    np.testing.assert_allclose(lr(2.0, 3.0), [[3.0, 1.0], [6.0, 2.0]])
    grid = sample_field(lr, 4, two_variable=True)
    assert grid.shape == (5, 5, 2, 2)
    np.testing.assert_allclose(grid[4, 2], lr(1.0, 0.5))


@pytest.mark.parametrize("rule", ["trapezoid", "implicit-rectangle"])
def test_product_form_refuses_a_network_on_another_rule(rule):
    """The patterns and the product formula are those of the explicit recursion: for a ReLU
    ResNet built on another rule they returned another network's states (0.07-0.3 off its
    forward pass) with no word."""
    from integrallimits.networks import activation_patterns, product_form
    rng = np.random.default_rng(0)
    V, W, b = rng.normal(size=(6, 2, 3)) / 6, rng.normal(size=(6, 3, 2)), rng.normal(size=(6, 3))
    net = ReLUResNet(V, W, b, rule=rule)
    for call in (product_form, activation_patterns):
        with pytest.raises(ValueError, match=f"this network uses the rule '{rule}'"):
            call(net, np.array([0.3, -0.2]))
    explicit = ReLUResNet(V, W, b)
    with pytest.raises(ValueError, match=r"patterns must have shape \(6, 3\)"):
        product_form(explicit, np.array([0.3, -0.2]), patterns=np.ones((5, 3), bool))


def test_bad_points_weights_and_steps_are_refused():
    """A NaN x0 gave NaN states from product_form and all-"off" patterns; NaN weights made
    summability fail with "SVD did not converge", mismatched ones with a broadcasting
    error; h = 0 made PiecewiseLinear return the last node everywhere and discrete_h1 inf;
    fine = 0 a ZeroDivisionError, fine = 10**9 a process killed for its memory."""
    net = ReLUResNet(np.ones((3, 2, 4)), np.ones((3, 4, 2)), np.zeros((3, 4)))
    for f in (product_form, activation_patterns):
        with pytest.raises(ValueError, match="x0 contains NaN or inf"):
            f(net, np.array([np.nan, 1.0]))
    with pytest.raises(ValueError, match="contain NaN or inf"):
        summability(np.full((3, 2, 4), np.nan), np.ones((3, 4, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="must have shapes"):
        summability(np.ones((3, 2, 4)), np.ones((2, 4, 2)), np.zeros((3, 4)))
    for make in (lambda h: PiecewiseLinear(np.array([0.0, 1.0, 1.0]), h),
                 lambda h: PiecewiseLinearTriangle(np.ones((3, 3)), h),
                 lambda h: discrete_h1(np.array([1.0, 2.0]), h)):
        for h in (0.0, -0.5, np.nan):
            with pytest.raises(ValueError, match="h must be a finite float > 0"):
                make(h)
    for distance in (l2_distance, h1_distance):
        for fine in (0, 1.5):
            with pytest.raises(ValueError, match="fine must be an integer >= 1"):
                distance(lambda t: t, lambda t: t, fine=fine)
        with pytest.raises(MemoryError, match="fine = 1000000000000"):
            distance(lambda t: t, lambda t: t, fine=10 ** 12)
        with pytest.raises(MemoryError, match="fine = 10000000"):
            distance(lambda t, s: t, lambda t, s: s, two_variable=True, fine=10 ** 7)
    assert h1_distance(lambda t: t, lambda t: 2 * t, fine=np.int64(8)) == pytest.approx(1.0)


@pytest.mark.parametrize("args, says", [
    ((0,), "n_layers must be an integer >= 1, got 0"),
    ((2.5,), "n_layers must be an integer >= 1, got 2.5"),
    ((-1,), "n_layers must be an integer >= 1, got -1"),
    ((True,), "n_layers must be an integer >= 1, got True"),
    ((2, float("nan")), "T must be a finite number, got nan"),
    ((2, 0.0), "T must be greater than t0, got T = 0.0 and t0 = 0.0"),
    ((2, -1.0), "T must be greater than t0, got T = -1.0 and t0 = 0.0"),
    ((2, 1.0, False, float("-inf")), "t0 must be a finite number, got -inf"),
])
def test_sample_field_refuses_a_grid_that_is_not_one(args, says):
    """sample_field(f, 0) was a ZeroDivisionError; n_layers 2.5 sampled at 0, 0.4, 0.8, 1.2
    (past T), -1 returned no sample, True one layer, T = nan NaN times, T <= t0 a grid going
    backwards or standing still: each a ValueError naming the argument now."""
    with pytest.raises(ValueError) as info:
        sample_field(lambda t: t, *args)
    assert str(info.value) == says


def test_sample_field_takes_whole_numbers_of_any_type():
    assert np.array_equal(sample_field(lambda t: t, np.int64(4)), [0.0, 0.25, 0.5, 0.75, 1.0])
    assert np.array_equal(sample_field(lambda t: t, 4.0, T=2.0, t0=1.0),
                          [1.0, 1.25, 1.5, 1.75, 2.0])
