"""ReLU ResNets: activation-matrix product formula on a fixed pattern."""
import pytest
import sympy as sp

from integrallimits.symbolic import relu


@pytest.mark.parametrize("n_steps,d,m", [(1, 2, 3), (2, 1, 2), (2, 2, 3), (2, 3, 2), (3, 2, 1)])
def test_product_formula(n_steps, d, m):
    assert relu.check_relu_product_formula(n_steps, d, m)


@pytest.mark.parametrize("d,m", [(2, 3), (3, 2)])
def test_reversed_product_is_detected(d, m):
    assert not relu.check_relu_product_formula(2, d, m, order="ascending")


@pytest.mark.parametrize("d,m", [(1, 2), (2, 3)])
def test_bias_index_shift_is_detected(d, m):
    assert not relu.check_relu_product_formula(2, d, m, bias_shift=0)


@pytest.mark.parametrize("m", [1, 2, 3])
def test_relu_is_the_activation_matrix_on_each_pattern(m):
    assert relu.check_relu_is_pattern(m)


def test_pattern_check_detects_other_activation():
    assert not relu.check_relu_is_pattern(2, activation=sp.Abs)
    assert not relu.check_relu_is_pattern(1, activation=lambda e: e)


@pytest.mark.parametrize("order, bias_shift", [("nope", 1), ("Descending", 1),
                                               ("descending", "1"), ("descending", 1.0)])
def test_product_formula_refuses_unknown_variants(order, bias_shift):
    """order="nope" was read as the reversed product (and with d = 1, where the factors
    commute, the check held); bias_shift="1" failed inside SymPy: both refused by name."""
    error = ValueError if order != "descending" else TypeError
    with pytest.raises(error, match=r"^(order|bias_shift) must be "):
        relu.check_relu_product_formula(1, 1, 1, order=order, bias_shift=bias_shift)
