"""cumulative_integrate: order, polynomial exactness, agreement with the dense Volterra
weights and with SciPy, shapes and validation."""
import doctest

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import cumulative_trapezoid

from integrallimits.quadrature import cumulative_integrate, volterra_rule
from integrallimits.quadrature import _cumulative

RULE = {1: "rectangle", 2: "trapezoid", 3: "gregory4", 4: "gregory4", 5: "gregory6",
        6: "gregory6", 7: "gregory8", 8: "gregory8"}
MIN_SAMPLES = {1: 2, 2: 2, 3: 4, 4: 4, 5: 6, 6: 6, 7: 8, 8: 8}

# Problems with their exact cumulative integral: (f, F with F(0) = 0, T).
PROBLEMS = {
    "exp": (np.exp, np.expm1, 1.0),
    "cos": (np.cos, np.sin, np.pi),
    "sin": (np.sin, lambda t: 1.0 - np.cos(t), np.pi),
}

# Refinement windows N (steps) where the error is in the asymptotic regime and well above
# rounding (max error >= ~1e-12).  A Gregory rule of order p has the leading error
# ~ h^p [f^(p-1)(T - (p-1)h/2) - f^(p-1)((p-1)h/2)]: the shift by (p-1)h/2 adds an
# O(h^(p+1)) term whose coefficient grows with p, so at orders 6 and 8 the observed slope
# of exp (or cos on [0, pi]) only reaches p - 0.2 once the error is below rounding.  For
# sin on [0, pi] all even derivatives vanish at both ends, the O(h^(p+1)) term cancels,
# and orders 6 and 8 are observable in double precision.
WINDOWS = [
    (1, "exp", [32, 64, 128, 256, 512]), (1, "cos", [32, 64, 128, 256, 512]),
    (2, "exp", [32, 64, 128, 256, 512]), (2, "cos", [32, 64, 128, 256, 512]),
    (4, "exp", [32, 64, 128, 256, 512]), (4, "cos", [64, 128, 256, 512]),
    (4, "sin", [32, 64, 128, 256, 512]),
    (6, "cos", [64, 91, 128, 181]), (6, "sin", [45, 64, 91, 128]),
    (8, "sin", [32, 45, 64]),
]


def max_error(order, problem, n_steps):
    f, F, T = PROBLEMS[problem]
    t = np.linspace(0.0, T, n_steps + 1)
    return np.max(np.abs(cumulative_integrate(f(t), T / n_steps, order=order) - F(t)))


@pytest.mark.parametrize("order, problem, steps", WINDOWS)
def test_observed_order(order, problem, steps):
    steps = np.array(steps)
    errors = np.array([max_error(order, problem, int(n)) for n in steps])
    assert errors.min() > 1e-13                        # rounding does not dominate
    h = PROBLEMS[problem][2] / steps
    slope = np.polyfit(np.log(h), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.2, f"observed order {slope:.3f}, errors {errors}"


@pytest.mark.parametrize("order", [3, 5, 7])
def test_odd_order_uses_next_even_rule(order):
    t = np.linspace(0.0, 1.0, 33)
    ours = cumulative_integrate(np.exp(t), t[1], order=order)
    assert np.array_equal(ours, cumulative_integrate(np.exp(t), t[1], order=order + 1))
    assert max_error(order, "sin", 64) < max_error(order - 1, "sin", 64) / 10


@settings(max_examples=120, deadline=None)
@given(order=st.integers(1, 8), extra=st.integers(0, 40), length=st.floats(0.25, 4.0),
       coefficients=st.lists(st.floats(-1.0, 1.0), min_size=8, max_size=8),
       data=st.data())
def test_exact_for_polynomials(order, extra, length, coefficients, data):
    degree = data.draw(st.integers(0, order - 1), label="degree")
    poly = np.polynomial.Polynomial(coefficients[:degree + 1])
    n_steps = MIN_SAMPLES[order] - 1 + extra
    t = np.linspace(0.0, length, n_steps + 1)
    result = cumulative_integrate(poly(t), length / n_steps, order=order)
    exact = poly.integ()(t)
    scale = np.polynomial.Polynomial(np.abs(poly.coef)).integ()(length) + 1.0
    np.testing.assert_allclose(result, exact, rtol=0, atol=1e-12 * scale)


@settings(max_examples=60, deadline=None)
@given(order=st.integers(1, 8), extra=st.integers(0, 25), seed=st.integers(0, 2**32 - 1))
def test_matches_dense_volterra_weights(order, extra, seed):
    # The O(N p) evaluation equals h * W f with the dense weights of the rule.
    rule = volterra_rule(RULE[order])
    n_steps = rule.min_steps + extra
    f = np.random.default_rng(seed).standard_normal(n_steps + 1)
    h = 0.3
    dense = h * rule.weights(n_steps)[:, :n_steps + 1] @ f
    np.testing.assert_allclose(cumulative_integrate(f, h, order=order), dense,
                               rtol=0, atol=1e-13 * (1 + np.abs(f).sum() * h))


def test_agrees_with_scipy_cumulative_trapezoid():
    rng = np.random.default_rng(1)
    samples = rng.standard_normal((4, 301))
    ours = cumulative_integrate(samples, 0.01, order=2, axis=1)
    theirs = cumulative_trapezoid(samples, dx=0.01, axis=1, initial=0.0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-13, atol=1e-15)


def test_rectangle_is_left_endpoint_sum():
    f = np.array([1.0, 2.0, 4.0, 8.0])
    assert cumulative_integrate(f, 0.5, order=1).tolist() == [0.0, 0.5, 1.5, 3.5]


@pytest.mark.parametrize("order", [1, 2, 4, 6, 8])
def test_axis_and_shapes(order):
    t = np.linspace(0.0, 1.0, 41)
    columns = np.stack([np.exp(t), np.cos(t), t**2], axis=1)          # (41, 3)
    along0 = cumulative_integrate(columns, t[1], order=order)
    assert along0.shape == (41, 3)
    for j in range(3):
        np.testing.assert_array_equal(along0[:, j],
                                      cumulative_integrate(columns[:, j], t[1], order=order))
    along1 = cumulative_integrate(columns.T, t[1], order=order, axis=1)
    np.testing.assert_array_equal(along1, along0.T)
    np.testing.assert_array_equal(
        cumulative_integrate(columns.T, t[1], order=order, axis=-1), along1)
    cube = np.broadcast_to(columns.T[:, None, :], (3, 2, 41))
    out = cumulative_integrate(cube, t[1], order=order, axis=2)
    assert out.shape == (3, 2, 41)
    np.testing.assert_array_equal(out[:, 1, :], along1)


def test_initial_is_added():
    t = np.linspace(0.0, 1.0, 11)
    base = cumulative_integrate(np.cos(t), t[1], order=4)
    shifted = cumulative_integrate(np.cos(t), t[1], order=4, initial=2.5)
    assert shifted[0] == 2.5
    np.testing.assert_allclose(shifted, base + 2.5, rtol=1e-15)
    two = np.stack([np.cos(t), np.sin(t)], axis=1)
    out = cumulative_integrate(two, t[1], order=4, initial=[1.0, -1.0])
    assert out[0].tolist() == [1.0, -1.0]


def test_complex_and_integer_samples():
    t = np.linspace(0.0, 1.0, 21)
    z = np.exp(1j * t)
    out = cumulative_integrate(z, t[1], order=6)
    np.testing.assert_allclose(out.real, cumulative_integrate(z.real, t[1], order=6), rtol=1e-15)
    np.testing.assert_allclose(out.imag, cumulative_integrate(z.imag, t[1], order=6), rtol=1e-15)
    ints = cumulative_integrate([0, 1, 2, 3], 1, order=4)
    assert ints.dtype == np.float64
    np.testing.assert_allclose(ints, [0.0, 0.5, 2.0, 4.5], rtol=1e-15)


def test_large_input_is_linear_cost():
    # A dense (N+1) x (N+1) weight matrix for N = 10**6 would need 8 TB.
    n_steps = 10**6
    t = np.linspace(0.0, np.pi, n_steps + 1)
    out = cumulative_integrate(np.sin(t), np.pi / n_steps, order=8)
    assert abs(out[-1] - 2.0) < 1e-9


@pytest.mark.parametrize("order", range(1, 9))
def test_too_few_samples(order):
    needed = MIN_SAMPLES[order]
    cumulative_integrate(np.ones(needed), 0.1, order=order)          # enough: fine
    with pytest.raises(ValueError, match=f"at least {needed} samples"):
        cumulative_integrate(np.ones(needed - 1), 0.1, order=order)
    with pytest.raises(ValueError, match=f"at least {needed} samples"):
        cumulative_integrate(np.ones((needed - 1, 50)), 0.1, order=order)


@pytest.mark.parametrize("samples", [[0.0, np.nan, 1.0], [0.0, 1.0, np.inf], [[1.0, -np.inf]]])
def test_non_finite_samples(samples):
    with pytest.raises(ValueError, match="samples"):
        cumulative_integrate(samples, 0.1, axis=-1)


def test_bad_samples():
    with pytest.raises(ValueError, match="samples"):
        cumulative_integrate(3.0, 0.1)
    with pytest.raises(TypeError, match="samples"):
        cumulative_integrate(["a", "b", "c"], 0.1)


@pytest.mark.parametrize("h", [0.0, -0.1, np.nan, np.inf, "0.1", None, True])
def test_bad_h(h):
    with pytest.raises(ValueError, match=r"\bh\b"):
        cumulative_integrate(np.ones(10), h)


def test_sample_points_in_place_of_the_spacing_are_named():
    # scipy's cumulative_trapezoid(y, x) takes the points second; here the second is the spacing
    t = np.linspace(0.0, 1.0, 10)
    with pytest.raises(ValueError, match=r"h must be the mesh spacing.*shape \(10,\).*h = t\[1\] - t\[0\]"):
        cumulative_integrate(np.sin(t), t)


@pytest.mark.parametrize("order", [0, 9, -2, 2.0, 2.5, "2", None, True])
def test_bad_order(order):
    with pytest.raises(ValueError, match="order"):
        cumulative_integrate(np.ones(10), 0.1, order=order)


def test_bad_axis_and_initial():
    with pytest.raises(ValueError, match="axis"):
        cumulative_integrate(np.ones((10, 3)), 0.1, axis=2)
    with pytest.raises(ValueError, match="axis"):
        cumulative_integrate(np.ones(10), 0.1, axis=1.0)
    with pytest.raises(ValueError, match="initial"):
        cumulative_integrate(np.ones((10, 3)), 0.1, initial=[1.0, 2.0])
    with pytest.raises(ValueError, match="initial"):
        cumulative_integrate(np.ones((10, 3)), 0.1, initial=np.ones((2, 3)))
    with pytest.raises(ValueError, match="initial"):
        cumulative_integrate(np.ones(10), 0.1, initial=np.nan)


def test_whole_messages_and_limits():
    """The messages name the argument; the edges of the valid axes and shapes are accepted."""
    f = np.ones((10, 3))
    with pytest.raises(ValueError, match=r"^axis 2 is out of bounds for samples with 2 dimensions$"):
        cumulative_integrate(f, 0.1, axis=2)
    with pytest.raises(ValueError, match=r"^axis must be an integer, got True$"):
        cumulative_integrate(f, 0.1, axis=True)
    with pytest.raises(ValueError, match=r"^samples must have at least one dimension, got a scalar$"):
        cumulative_integrate(3.0, 0.1)
    with pytest.raises(ValueError, match=r"^samples must be finite \(no NaN or inf\)$"):
        cumulative_integrate([0.0, np.nan, 1.0], 0.1)
    np.testing.assert_array_equal(cumulative_integrate(f, 0.1, axis=-2), cumulative_integrate(f, 0.1))
    # the initial value broadcasts to the cross-section without the integration axis
    cube = np.ones((4, 10, 3))
    out = cumulative_integrate(cube, 0.5, axis=1, initial=np.arange(12.0).reshape(4, 3))
    assert out.shape == (4, 10, 3) and out[1, :, 2].tolist() == [5.0 + 0.5 * n for n in range(10)]
    # the default order is the trapezoid rule's
    np.testing.assert_array_equal(cumulative_integrate([0.0, 1.0, 4.0, 9.0], 1.0), [0.0, 0.5, 3.0, 9.5])


def test_doctests():
    assert doctest.testmod(_cumulative).failed == 0
