"""The DenseNet map is the explicit rectangle rule; the ResNet is its t-independent case."""
from fractions import Fraction

import pytest

from integrallimits.quadrature import volterra_rule
from integrallimits.symbolic import dense_rule as dr


@pytest.mark.parametrize("family", ["residual", "concatenation"])
@pytest.mark.parametrize("n_steps,d", [(1, 1), (2, 2), (3, 1), (3, 2), (4, 2)])
def test_dense_network_is_rectangle_rule(n_steps, d, family):
    assert dr.check_dense_is_rectangle(n_steps, d, family)


@pytest.mark.parametrize("family", ["residual", "concatenation"])
@pytest.mark.parametrize("n,j,value", [(3, 1, Fraction(2)), (2, 0, Fraction(1, 2)), (3, 0, Fraction(0))])
def test_wrong_weight_is_detected(family, n, j, value):
    weights = [list(row) for row in volterra_rule("rectangle").exact_weights(3)]
    weights[n][j] = value
    assert not dr.check_dense_is_rectangle(3, 2, family, weights=weights)


def test_implicit_rule_is_refused():
    with pytest.raises(ValueError, match="not explicit"):
        dr.check_dense_is_rectangle(2, 1, weights=volterra_rule("trapezoid").exact_weights(2))


@pytest.mark.parametrize("weights,match", [
    ([[0]], r"rows 0 \.\. 2 \(3 rows\), got 1"),
    ([[0], [1, 0], [1]], r"row 2 of weights must have 3 entries"),
    ([[0], 1, [1, 1, 0]], r"a list of rows of numbers"),
    (None, None)])
def test_short_weight_rows_are_refused_naming_the_row(weights, match):
    """Too few weight rows, or a row too short, was a bare IndexError inside the check
    (red2-61); the exactness check of rule rows likewise."""
    from integrallimits.symbolic.exactness import check_rule_rows
    if weights is None:     # the rule's own rows pass
        assert dr.check_dense_is_rectangle(2, 1) and check_rule_rows("trapezoid", 2)
        return
    with pytest.raises(ValueError, match=match):
        dr.check_dense_is_rectangle(2, 1, weights=weights)
    with pytest.raises(ValueError, match=match):
        check_rule_rows("trapezoid", 2, weights=weights)


def test_unknown_family_is_refused():
    with pytest.raises(ValueError, match="family"):
        dr.check_dense_is_rectangle(2, 1, family="attention")


@pytest.mark.parametrize("n_steps,d", [(1, 1), (2, 2), (3, 2), (4, 1)])
def test_resnet_is_t_independent_dense(n_steps, d):
    assert dr.check_resnet_is_t_independent_dense(n_steps, d)


@pytest.mark.parametrize("n_steps", [2, 3])
def test_t_dependent_kernel_is_not_a_resnet(n_steps):
    assert not dr.check_resnet_is_t_independent_dense(n_steps, 2, t_independent=False)
