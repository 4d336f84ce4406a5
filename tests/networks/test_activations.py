"""Every activation and its derivative against an independent formula (numpy_reference:
np.tanh, np.maximum, np.logaddexp, scipy.special.expit), in all four compiled forms (scalar
act/dact, in-place act_array/dact_array) and the NumPy wrappers, over the whole range of
float64 (negative, zero, tiny, huge), so that a shifted, leaky or rescaled activation fails."""
import mpmath
import numpy as np
import pytest
from numpy_reference import ACTIVATIONS as REFERENCE
from numpy_reference import DERIVATIVES

from integrallimits.control import Objective
from integrallimits.networks import ResNet
from integrallimits.networks._activations import (ACTIVATIONS, act, act_array, activation,
                                                  activation_code, activation_derivative, dact,
                                                  dact_array)

X = np.concatenate([np.linspace(-40.0, 40.0, 801), [-745.0, -700.0, -1e-300, -0.0, 0.0, 1e-300,
                                                    5e-324, 700.0, 745.0, 1e300, -1e300]])


def _close(got, want):
    """Within 4 ulp of the reference, or 2 ulp of 1 (the relative accuracy of sigma' where
    sigma saturates is checked by test_derivative_is_accurate_where_the_activation_saturates)."""
    np.testing.assert_allclose(got, want, rtol=8.9e-16, atol=4.5e-16)


def test_the_registry_is_the_documented_one():
    assert ACTIVATIONS == {"tanh": 0, "relu": 1, "softplus": 2, "sigmoid": 3, "identity": 4}
    assert set(REFERENCE) == set(ACTIVATIONS)
    with pytest.raises(ValueError, match="unknown activation 'swish'; known: tanh, relu"):
        activation_code("swish")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_equals_its_formula(name):
    code = ACTIVATIONS[name]
    want, dwant = REFERENCE[name](X), DERIVATIVES[name](X)
    _close([act(code, float(x)) for x in X], want)
    _close([dact(code, float(x)) for x in X], dwant)
    _close(activation(name)(X), want)
    _close(activation_derivative(name)(X), dwant)
    for scale in (1.0, -0.37):
        v = X.copy()
        act_array(code, v, len(v), scale)
        _close(v, scale * want)
    v = X.copy()
    dact_array(code, v, len(v))
    _close(v, dwant)


def test_values_a_reader_can_check_by_hand():
    log2 = np.log(2.0)
    assert act(1, -3.0) == 0.0 and act(1, 2.5) == 2.5 and dact(1, -3.0) == 0.0 and dact(1, 0.0) == 0.0
    assert act(2, 0.0) == pytest.approx(log2, rel=1e-15) and dact(2, 0.0) == 0.5
    assert act(3, 0.0) == 0.5 and dact(3, 0.0) == 0.25
    assert act(0, 0.0) == 0.0 and dact(0, 0.0) == 1.0
    assert act(4, -1.5) == -1.5 and dact(4, -1.5) == 1.0


SATURATED = np.array([10.0, 19.0, 20.0, 30.0, 37.0, 40.0, 100.0, 300.0, 350.0])


def _exact_derivative(name, x):
    """sigma'(x) from mpmath (120 bits): sech^2 x for tanh, e^-|x| / (1 + e^-|x|)^2 for the
    sigmoid."""
    with mpmath.workprec(120):
        X = mpmath.mpf(float(x))
        exact = mpmath.sech(X) ** 2 if name == "tanh" else \
            mpmath.exp(-abs(X)) / (1 + mpmath.exp(-abs(X))) ** 2
        return float(exact)


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_derivative_is_accurate_where_the_activation_saturates(name):
    """sigma' to a few ulp *relative* where sigma is within rounding of +-1: 1 - tanh^2 and
    s (1 - s) cancel there (tanh'(20) = 1.7e-17 and sigmoid'(37) = 8.5e-17 came out 0,
    sigmoid'(20) with a relative error of 4e-8), so a gradient through a saturated unit was
    wrong or exactly zero although the gradient is documented exact."""
    code = ACTIVATIONS[name]
    x = np.concatenate([SATURATED, -SATURATED])
    want = np.array([_exact_derivative(name, v) for v in x])
    assert np.all(want > 0.0)
    np.testing.assert_allclose([dact(code, float(v)) for v in x], want, rtol=1.5e-15, atol=0)
    v = x.copy()
    dact_array(code, v, len(v))
    np.testing.assert_allclose(v, want, rtol=1.5e-15, atol=0)


def test_gradient_through_a_saturated_unit():
    """A one-layer ResNet x1 = x0 + tanh(W x0 + b) with the unit saturated (W x0 + b = 30):
    dJ/db = (x1 - y) tanh'(30) = 2 sech^2(30) ~ 7e-26 for J = (x1 - y)^2 / 2, x0 = 1, y = 0;
    it was 0."""
    net = ResNet(np.zeros((2, 1, 1)), np.full((2, 1), 30.0), n_layers=1, d=1)
    obj = Objective(net, (np.array([[1.0]]), np.array([[0.0]])), train_classifier=False)
    _, grad = obj.value_and_gradient(obj.initial_vector())
    grids = obj.gradient_grids(grad)
    want = 2.0 * _exact_derivative("tanh", 30.0)
    assert grids["b"][0, 0] == pytest.approx(want, rel=1e-14, abs=0.0)
