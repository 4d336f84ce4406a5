"""User inputs of the symbolic checks are exact numbers or nothing: text is never evaluated
(only read as a rational by fractions.Fraction), and floats of any kind are refused, so a
check cannot pass on rounded values."""
import builtins
from fractions import Fraction as F

import numpy as np
import pytest
import sympy as sp

from integrallimits.symbolic import dense_rule, exactness, relu, skip_dense, state_space

RK4 = ([F(0), F(1, 2), F(1, 2), F(1)],
       [[0, 0, 0, 0], [F(1, 2), 0, 0, 0], [0, F(1, 2), 0, 0], [0, 0, 1, 0]],
       [F(1, 6), F(1, 3), F(1, 3), F(1, 6)])


@pytest.fixture
def no_eval(monkeypatch):
    """Fail if text reaches an evaluator: the payload calls builtins.touched."""
    calls = []
    monkeypatch.setattr(builtins, "touched", lambda: calls.append(1) or 0, raising=False)
    yield "touched() or 1/2"
    assert not calls, "user text was evaluated"


def test_text_entries_are_not_evaluated(no_eval):
    c, A, b = RK4
    with pytest.raises(ValueError, match="not the text of a rational number"):
        exactness.check_rk_order_conditions(([no_eval] + c[1:], A, b))
    with pytest.raises(ValueError, match="not the text of a rational number"):
        exactness.check_rule_exactness("trapezoid", left=[no_eval])
    with pytest.raises(TypeError, match="poly must be a SymPy expression"):
        exactness.check_collocation_quadrature_order("gauss", 1, poly=no_eval.replace("1/2", "x"))


def test_rational_text_is_read_exactly():
    c, A, b = RK4
    assert exactness.check_rk_order_conditions((c, A, ["1/6", "1/3", "1/3", "1/6"]))
    assert exactness.check_collocation_conditions("gauss", 1, tableau=(["1/2"], [["1/2"]], ["1"]))


def test_float32_tableau_does_not_pass():
    """float32(1/6) is not 1/6 (six of them sum to 1 + 3e-8); in SymPy's Float arithmetic
    the order conditions rounded to exact zeros and the check returned True."""
    c, A, b = RK4
    f32 = lambda x: np.float32(float(x))
    tab = ([f32(x) for x in c], [[f32(x) for x in row] for row in A], [f32(x) for x in b])
    with pytest.raises(TypeError, match="exact number"):
        exactness.check_rk_order_conditions(tab)


@pytest.mark.parametrize("value", [0.5, np.float64(0.5), sp.Float(0.5),
                                   sp.Float(0.25) * sp.sqrt(2)])
def test_float_entries_refused(value):
    with pytest.raises(TypeError, match="exact"):
        exactness.check_collocation_conditions("gauss", 1, tableau=([value], [[F(1, 2)]], [1]))


def test_float_polynomial_refused():
    with pytest.raises(TypeError, match="exact coefficients"):
        exactness.check_collocation_quadrature_order("gauss", 1, poly=sp.Symbol("x") - 0.5)


def test_skip_dense_coefficients_exact(no_eval):
    from integrallimits.symbolic import skip_dense
    with pytest.raises(ValueError, match="not the text of a rational number"):
        skip_dense.check_characteristic_polynomial(2, 1, a=[no_eval, "1"])
    with pytest.raises(TypeError, match="exact number"):
        skip_dense.check_companion_closed_form(2, 1, a=[np.float32(0.1), 1])
    assert skip_dense.check_characteristic_polynomial(2, 1, a=["1/2", F(1, 2)])


@pytest.mark.parametrize("call, name", [
    (lambda: exactness.check_rk_order_conditions(order=0), "order"),
    (lambda: exactness.check_rk_order_conditions(order=-1), "order"),
    (lambda: exactness.check_rule_exactness("trapezoid", degree=-1), "degree"),
    (lambda: exactness.check_rule_rows("trapezoid", 4, degree=-1), "degree"),
    (lambda: exactness.check_collocation_conditions("gauss", 0), "m"),
    (lambda: exactness.check_collocation_conditions("gauss", 2, order=0), "order"),
    (lambda: state_space.check_state_space(
        2, 1, 0), "n_steps"),
    (lambda: state_space.check_kernel_limit(0),
     "k"),
    (lambda: state_space.check_closed_form_symbolic_n(0), "k"),
    (lambda: dense_rule.check_dense_is_rectangle(2, 0), "d"),
    (lambda: dense_rule.check_resnet_is_t_independent_dense(0, 1), "n_steps"),
    (lambda: relu.check_relu_is_pattern(0),
     "m"),
    (lambda: skip_dense.check_companion_closed_form(2, 1, n_steps=0), "n_steps"),
    (lambda: dense_rule.check_dense_is_rectangle(2, True), "d"),
])
def test_a_check_over_an_empty_range_is_refused_not_reported_as_holding(call, name):
    """Each of these returned True: an identity over no steps, no width, no trees of order
    <= 0 or no degrees holds vacuously, and was reported as proved."""
    with pytest.raises(ValueError, match=rf"^{name} must be an integer >= "):
        call()


@pytest.mark.parametrize("tol", [float("nan"), -1.0, float("inf"), "1e-15"])
def test_the_float_tableau_check_takes_a_finite_tolerance(tol):
    """With tol = NaN every comparison |float - exact| > tol was false: the check held for
    any tableau."""
    with pytest.raises(ValueError, match="tol must be a finite float >= 0"):
        exactness.check_collocation_floats("gauss", 2, tol=tol)
    with pytest.raises(ValueError, match="tol_mp must be a finite float >= 0"):
        exactness.check_collocation_floats("gauss", 2, tol_mp=tol)


def test_skip_dense_builders_do_not_evaluate_text(no_eval):
    """companion_matrices put each coefficient into a SymPy matrix, whose element assignment
    sympified text (running it); skip_network and characteristic_polynomial failed on text
    with Python's "can't multiply sequence" TypeError.  All three read text as a rational,
    as the checks do."""
    with pytest.raises(ValueError, match="not the text of a rational number"):
        skip_dense.companion_matrices([no_eval, 1], 1)
    for call in (lambda a: skip_dense.skip_network(a, [sp.Matrix([1]), sp.Matrix([2])],
                                                   [sp.Matrix([0])] * 2, 2),
                 lambda a: skip_dense.characteristic_polynomial(a, 1, sp.Symbol("lam"))):
        with pytest.raises(ValueError, match="not the text of a rational number"):
            call([no_eval, 1])
    A, _ = skip_dense.companion_matrices(["1/3", F(2, 3)], 1)
    assert A[0, :] == sp.Matrix([[sp.Rational(1, 3), sp.Rational(2, 3)]])
    xs, off = skip_dense.skip_network(["1/2", 1], [sp.Matrix([1]), sp.Matrix([2])],
                                      [sp.Matrix([0])] * 2, 2)
    assert xs[off + 1] == sp.Matrix([sp.Rational(5, 2)])


@pytest.mark.parametrize("check", [
    lambda w: state_space.check_closed_form_symbolic_n(2, weight=w),
    lambda w: state_space.check_kernel_limit(2, weight=w),
    lambda w: state_space.check_closed_form_induction(weight=w),
    lambda w: state_space.check_state_space(2, 1, weight=w),
])
def test_a_weight_returning_text_is_not_evaluated(no_eval, check):
    """check_closed_form_symbolic_n passed the weight's value to sp.expand_func, which
    sympified a text (running it) and returned False; the others failed with Python's
    TypeErrors.  The weight's values are read as the other exact inputs are."""
    with pytest.raises(ValueError, match="not the text of a rational number"):
        check(lambda n, j, k: no_eval)
    with pytest.raises(TypeError, match="exact number"):
        check(lambda n, j, k: 0.5 * state_space.smooth_weight(n, j, k))


@pytest.mark.parametrize("wrap", [lambda x: x, lambda x: [x], lambda x: (x, 0)])
def test_the_zero_test_never_parses_text(no_eval, wrap):
    """is_zero refused text but passed a list or tuple to sympify, which parsed (ran) the text
    inside it (red-57: no public route reaches it with text, a guard for the ones to come)."""
    from integrallimits.symbolic._common import all_zero, is_zero
    with pytest.raises(TypeError, match="is_zero needs a SymPy expression or a number"):
        is_zero(wrap(no_eval))
    with pytest.raises(TypeError, match="is_zero needs a SymPy expression or a number"):
        all_zero([wrap(no_eval)])
    assert is_zero(sp.Integer(0)) and is_zero(F(0)) and is_zero(np.int64(0))
    assert not is_zero(sp.Symbol("x")) and all_zero(sp.zeros(2, 2))
