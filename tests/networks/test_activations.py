"""Every activation and its derivative against an independent formula (numpy_reference:
np.tanh, np.maximum, np.logaddexp, scipy.special.expit), in all four compiled forms (scalar
act/dact, in-place act_array/dact_array) and the NumPy wrappers, over the whole range of
float64 (negative, zero, tiny, huge), so that a shifted, leaky or rescaled activation fails."""
import numpy as np
import pytest
from numpy_reference import ACTIVATIONS as REFERENCE
from numpy_reference import DERIVATIVES

from integrallimits.networks._activations import (ACTIVATIONS, act, act_array, activation,
                                                  activation_code, activation_derivative, dact,
                                                  dact_array)

X = np.concatenate([np.linspace(-40.0, 40.0, 801), [-745.0, -700.0, -1e-300, -0.0, 0.0, 1e-300,
                                                    5e-324, 700.0, 745.0, 1e300, -1e300]])


def _close(got, want):
    """Within 4 ulp of the reference, or 2 ulp of 1 (sigma' = 1 - tanh^2 or s (1 - s) rounds
    to 0 where the exact value is below 1e-16)."""
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
