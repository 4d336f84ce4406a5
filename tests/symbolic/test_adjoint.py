"""Discrete adjoint = exact gradient of tiny networks; Volterra adjoint -> costate ODE."""
import pytest
import sympy as sp

from integrallimits.symbolic import adjoint as adj
from integrallimits.symbolic._common import to_sympy
from integrallimits.quadrature import volterra_rule

UNROLLED = [("rectangle", 1, 2), ("rectangle", 2, 2), ("rectangle", 3, 1), ("rectangle", 3, 2),
            ("implicit-rectangle", 1, 2), ("implicit-rectangle", 2, 1),
            ("trapezoid", 1, 2), ("trapezoid", 2, 1)]


@pytest.mark.parametrize("rule,n_steps,d", UNROLLED)
def test_adjoint_gradient_equals_sympy_gradient(rule, n_steps, d):
    assert adj.check_discrete_adjoint(rule, n_steps, d)


@pytest.mark.parametrize("rule,n_steps,d,variant", [
    ("rectangle", 2, 2, {"transpose": False}),       # backprop with K_y instead of K_y^T
    ("rectangle", 2, 1, {"sign": -1}),
    ("implicit-rectangle", 1, 2, {"transpose": False}),
    ("implicit-rectangle", 1, 1, {"diagonal_solve": False}),  # no (I - h w_nn K_y)^T solve
    ("trapezoid", 1, 2, {"diagonal_solve": False}),
    ("trapezoid", 2, 1, {"sign": -1}),
])
def test_unrolled_gradient_detects_broken_adjoint(rule, n_steps, d, variant):
    assert not adj.check_discrete_adjoint(rule, n_steps, d, **variant)


def test_unrolled_gradient_detects_wrong_weights():
    # trapezoid recursion run with the rectangle weights w_kn
    wrong = [[to_sympy(w) for w in row] for row in volterra_rule("rectangle").exact_weights(2)]
    assert not adj.check_discrete_adjoint("trapezoid", 2, 1, adjoint_weights=wrong)


@pytest.mark.parametrize("rule", adj.ADJOINT_RULES)
@pytest.mark.parametrize("n_steps,d", [(1, 1), (2, 2), (3, 2)])
def test_adjoint_is_transpose_of_scheme(rule, n_steps, d):
    assert adj.check_adjoint_is_transpose(rule, n_steps, d)


@pytest.mark.parametrize("rule", adj.ADJOINT_RULES)
def test_transpose_check_detects_missing_transpose(rule):
    assert not adj.check_adjoint_is_transpose(rule, 2, 2, transpose=False)


@pytest.mark.parametrize("rule", adj.ADJOINT_RULES)
def test_transpose_check_detects_wrong_sign(rule):
    assert not adj.check_adjoint_is_transpose(rule, 2, 1, sign=-1)


@pytest.mark.parametrize("rule", ["implicit-rectangle", "trapezoid"])
def test_transpose_check_detects_missing_diagonal_solve(rule):
    assert not adj.check_adjoint_is_transpose(rule, 2, 1, diagonal_solve=False)


@pytest.mark.parametrize("rule,other", [("trapezoid", "implicit-rectangle"),
                                         ("rectangle", "trapezoid")])
def test_transpose_check_detects_wrong_weights(rule, other):
    wrong = [[to_sympy(w) for w in row] for row in volterra_rule(other).exact_weights(3)]
    assert not adj.check_adjoint_is_transpose(rule, 3, 1, adjoint_weights=wrong)


@pytest.mark.parametrize("rule", adj.ADJOINT_RULES)
def test_transpose_check_detects_one_wrong_weight(rule):
    # (the three rules share their weights w_kn for 1 <= n < k, so perturb one directly)
    wrong = [[to_sympy(w) for w in row] for row in volterra_rule(rule).exact_weights(3)]
    wrong[3][1] += sp.Rational(1, 2)
    assert not adj.check_adjoint_is_transpose(rule, 3, 1, adjoint_weights=wrong)


def test_unknown_rule_is_refused():
    with pytest.raises(ValueError, match="rule must be one of"):
        adj.check_discrete_adjoint("gregory4", 2, 1)


def test_nonlinear_implicit_step_is_refused_for_the_unrolled_gradient():
    net = adj.tiny_network("trapezoid", 1, 1, diagonal="sigma")
    with pytest.raises(ValueError, match="affine"):
        adj.forward_states(net)


@pytest.mark.parametrize("d,controls", [(1, 1), (2, 1), (2, 2)])
def test_costate_reduction(d, controls):
    assert adj.check_costate_reduction(d, controls)


def test_costate_reduction_needs_t_independence():
    assert not adj.check_costate_reduction(2, t_independent=False)


def test_lambda_itself_is_not_the_costate():
    assert not adj.check_costate_reduction(1, costate="lambda")
