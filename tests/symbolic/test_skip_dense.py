"""Additive dense networks with k skip connections: companion form and the smooth network."""
import pytest
import sympy as sp

from integrallimits.symbolic import skip_dense as sk


@pytest.mark.parametrize("k,d", [(1, 1), (2, 2), (3, 1), (3, 2), (4, 1)])
def test_companion_closed_form(k, d):
    assert sk.check_companion_closed_form(k, d)


@pytest.mark.parametrize("shift", [-1, 1])
def test_companion_closed_form_detects_wrong_power(shift):
    assert not sk.check_companion_closed_form(3, 2, power_shift=shift)


@pytest.mark.parametrize("k,d", [(1, 2), (2, 2), (3, 1), (3, 2)])
def test_characteristic_polynomial(k, d):
    assert sk.check_characteristic_polynomial(k, d)


def test_characteristic_polynomial_detects_wrong_sign():
    assert not sk.check_characteristic_polynomial(3, 1, sign=-1)


@pytest.mark.parametrize("k,d", [(1, 1), (2, 3), (4, 2), (6, 1)])
def test_difference_eigenvalues(k, d):
    assert sk.check_difference_eigenvalues(k, d)


def test_difference_eigenvalues_detect_other_coefficients():
    assert not sk.check_difference_eigenvalues(3, 1, a=[3, -3, 2])
    assert not sk.check_difference_eigenvalues(2, 2, a=[1, 0])
    assert sk.difference_coefficients(4) == [4, -6, 4, -1]


def test_difference_coordinates_conjugate_to_jordan_form():
    T = sk.difference_coordinates(3, 2)
    A, B = sk.companion_matrices(sk.difference_coefficients(3), 2)
    J, E = sk.transition_matrices(3, 2)
    assert T * A * T.inv() == J
    assert T * B == E


@pytest.mark.parametrize("k,d", [(1, 1), (2, 2), (3, 1), (3, 3), (5, 2)])
def test_coincides_with_smooth_network(k, d):
    assert sk.check_coincides_with_smooth(k, d)


@pytest.mark.parametrize("k", [2, 3])
def test_newest_state_layer_is_not_the_smooth_network(k):
    assert not sk.check_coincides_with_smooth(k, 2, delay=0)


def test_coincides_detects_wrong_coefficients():
    a = sk.difference_coefficients(3)
    a[2] = 2
    assert not sk.check_coincides_with_smooth(3, 1, a=a)
    assert not sk.check_coincides_with_smooth(3, 1, a=[sp.binomial(3, i) for i in range(3)])
