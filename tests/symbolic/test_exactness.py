"""Exactness of the Volterra rules, RK4 order conditions, collocation conditions."""
from fractions import Fraction

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from integrallimits.quadrature import VOLTERRA_RULES, volterra_rule
from integrallimits.symbolic import exactness as ex
from integrallimits.volterra._tableaux import classical_rk4


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_rule_exact_to_its_degree_on_every_row(name):
    assert ex.check_rule_exactness(name)
    assert ex.check_rule_rows(name, 3 * volterra_rule(name).n_start + 10)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_rule_degree_is_sharp(name):
    assert ex.check_rule_sharpness(name)
    assert not ex.check_rule_exactness(name, degree=volterra_rule(name).degree + 1)


@pytest.mark.parametrize("name", [r for r in VOLTERRA_RULES if volterra_rule(r).degree > 0])
def test_sharpness_detects_understated_degree(name):
    assert not ex.check_rule_sharpness(name, degree=volterra_rule(name).degree - 1)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_sharpness_refuses_an_overstated_degree(name):
    """check_rule_sharpness(name, degree=p) checked only that degree p + 1 fails, so any p
    above the true degree was "sharp" (trapezoid, degree=100: True); True now means p is the
    exact degree."""
    degree = volterra_rule(name).degree
    for p in (degree + 1, degree + 3, 100):
        assert not ex.check_rule_sharpness(name, degree=p)


@pytest.mark.parametrize("name", ["trapezoid", "gregory4", "gregory8"])
def test_wrong_end_correction_is_detected(name):
    rule = volterra_rule(name)
    left = list(rule.left_exact)
    left[0] += Fraction(1, 1000)
    assert not ex.check_rule_exactness(name, left=left)
    right = list(rule.right_exact) + [Fraction(1, 7)]
    assert not ex.check_rule_exactness(name, right=right)


@given(name=st.sampled_from(VOLTERRA_RULES), n=st.integers(1, 20), j=st.integers(0, 20),
       delta=st.fractions(min_value=-1, max_value=1).filter(lambda x: x != 0))
def test_perturbed_weight_breaks_exactness(name, n, j, delta):
    """Property: changing any one weight w_nj by δ changes the degree-0 moment of row n by δ."""
    j = min(j, n)
    rows = [list(r) for r in volterra_rule(name).exact_weights(20)]
    rows[n][j] += delta
    assert ex.row_moment_error(rows[n], n, 0) == delta
    assert not ex.check_rule_rows(name, 20, weights=rows)


def test_moment_polynomials_are_the_known_errors():
    n = sp.Symbol("n", integer=True, nonnegative=True)
    assert ex.rule_moment_polynomial("trapezoid", 2) == n / 6
    assert ex.rule_moment_polynomial("rectangle", 1) == -n / 2


def test_rooted_tree_counts_and_densities():
    assert [len(ex.rooted_trees(p)) for p in range(1, 6)] == [1, 1, 2, 4, 9]
    densities = sorted(ex.tree_density(t) for p in range(1, 5) for t in ex.rooted_trees(p))
    assert densities == [1, 2, 3, 4, 6, 8, 12, 24]


def test_rk4_order_conditions():
    assert ex.check_rk_order_conditions()
    assert ex.check_rk_order_sharp()


def test_rk4_wrong_tableau_is_detected():
    c, A, b = classical_rk4().exact
    A_wrong = [list(row) for row in A]
    A_wrong[3][1], A_wrong[3][2] = Fraction(1, 2), Fraction(1, 2)  # row sum still c_4 = 1
    assert not ex.check_rk_order_conditions((c, A_wrong, b))
    b_wrong = (Fraction(1, 6), Fraction(1, 6), Fraction(1, 2), Fraction(1, 6))
    assert not ex.check_rk_order_conditions((c, A, b_wrong))
    c_wrong = (Fraction(0), Fraction(1, 3), Fraction(1, 2), Fraction(1))
    assert not ex.check_rk_order_conditions((c_wrong, A, b))
    assert not ex.check_rk_order_conditions(order=5)
    assert not ex.check_rk_order_sharp(order=3)


@pytest.mark.parametrize("kind,m", [("gauss", 1), ("gauss", 2), ("gauss", 3), ("radau", 1),
                                    ("radau", 2), ("radau", 3)])
def test_collocation_conditions_exact(kind, m):
    assert ex.check_collocation_conditions(kind, m)
    assert ex.check_collocation_floats(kind, m)
    order = 2 * m if kind == "gauss" else 2 * m - 1
    assert not ex.check_collocation_conditions(kind, m, order=order + 1)


def test_gauss4_tableau_in_nested_radicals():
    assert ex.check_collocation_conditions("gauss", 4)
    assert ex.check_collocation_floats("gauss", 4)


def test_radau4_has_no_real_radical_form():
    with pytest.raises(NotImplementedError):
        ex.exact_collocation_tableau("radau", 4)


def test_collocation_conditions_detect_wrong_points():
    c, A, b = ex.exact_collocation_tableau("gauss", 2)
    moved = (c[0] + sp.Rational(1, 100), c[1])
    assert not ex.check_collocation_conditions("gauss", 2, tableau=(moved, A, b))
    b_wrong = (b[0] + sp.Rational(1, 100), b[1] - sp.Rational(1, 100))
    assert not ex.check_collocation_conditions("gauss", 2, tableau=(c, A, b_wrong))


@pytest.mark.parametrize("kind", ["gauss", "radau"])
@pytest.mark.parametrize("m", range(1, 6))
def test_collocation_quadrature_order_rational(kind, m):
    order = 2 * m if kind == "gauss" else 2 * m - 1
    assert ex.check_collocation_quadrature_order(kind, m)
    assert not ex.check_collocation_quadrature_order(kind, m, order=order + 1)


def test_collocation_quadrature_order_detects_other_nodes():
    x = sp.Symbol("x")
    # Chebyshev points on [0, 1]: interpolatory, exact only to degree m - 1 (m = 3: B(3), not B(6))
    assert not ex.check_collocation_quadrature_order("gauss", 3, poly=sp.chebyshevt(3, 2 * x - 1))
    # nodes outside [0, 1]
    assert not ex.check_collocation_quadrature_order("gauss", 2, poly=(x - 2) * (x - 3))


def test_float_tableau_comparison_can_fail(monkeypatch):
    exact = ex.exact_collocation_tableau("gauss", 2)
    c, A, b = exact
    monkeypatch.setattr(ex, "exact_collocation_tableau",
                        lambda kind, m: ((c[0] + sp.Rational(1, 10 ** 14), c[1]), A, b))
    assert not ex.check_collocation_floats("gauss", 2)


@pytest.mark.parametrize("ulps", [1, 4])
def test_float_tableau_entry_a_few_ulp_off_fails(monkeypatch, ulps):
    """The float entries must be the exact values correctly rounded: with the old absolute
    bound 1e-15 an entry 4 ulp off (about 4.4e-16 near 1/2) passed."""
    import math

    import numpy as np

    from integrallimits.volterra import _tableaux

    real = _tableaux.collocation_tableau

    def shifted(kind, m):
        tab = real(kind, m)
        A = np.array(tab.A, copy=True)
        value = float(A[1, 0])
        for _ in range(ulps):
            value = math.nextafter(value, math.inf)
        A[1, 0] = value

        class Shifted:
            c, b, exact = tab.c, tab.b, tab.exact
        Shifted.A = A
        return Shifted

    assert ex.check_collocation_floats("gauss", 3)
    monkeypatch.setattr(ex, "collocation_tableau", shifted)
    assert not ex.check_collocation_floats("gauss", 3)
