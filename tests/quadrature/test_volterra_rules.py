"""Properties of the Volterra (lower-triangular) rules of integrallimits.quadrature._volterra.

Row n of a rule approximates int_0^{t_n} f on the mesh t_j = j h; with h = 1 the
statement "exact for degree <= d" is the rational identity

    sum_j w_nj j^k = n^(k+1) / (k+1),   k = 0..d,

checked here in exact arithmetic (Fractions), for every row n the rules use.
"""
import doctest
from fractions import Fraction
from functools import lru_cache

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from integrallimits.quadrature import VOLTERRA_RULES, VolterraRule, volterra_rule
from integrallimits.quadrature import _volterra

#: Classical orders of the rules (an independent statement of what they should be).
EXPECTED_ORDER = {"rectangle": 1, "implicit-rectangle": 1, "trapezoid": 2, "gregory4": 4,
                  "gregory6": 6, "gregory8": 8}


def last_row(name):
    """Rows 1..last_row(name) are checked: at least 3 * order, and well past the
    starting block so that rows with overlapping end corrections are included."""
    rule = volterra_rule(name)
    return max(3 * rule.order, rule.n_start + 2 * len(rule.left_exact) + 2, 8)


@lru_cache(maxsize=None)
def exact_rows(name):
    return volterra_rule(name).exact_weights(last_row(name))


def moment(row, k):
    return sum(w * Fraction(j) ** k for j, w in enumerate(row))


@st.composite
def rule_row_power(draw):
    name = draw(st.sampled_from(VOLTERRA_RULES))
    rule = volterra_rule(name)
    n = draw(st.integers(1, last_row(name)))
    k = draw(st.integers(0, rule.degree))
    return name, n, k


@settings(max_examples=300, deadline=None)
@given(rule_row_power())
def test_rows_exact_up_to_degree(case):
    name, n, k = case
    assert moment(exact_rows(name)[n], k) == Fraction(n) ** (k + 1) / (k + 1)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_all_moments_up_to_degree_every_row(name):
    # The exhaustive version of the Hypothesis test above (cheap: at most ~30 rows).
    rule = volterra_rule(name)
    for n, row in enumerate(exact_rows(name)[1:], start=1):
        for k in range(rule.degree + 1):
            assert moment(row, k) == Fraction(n) ** (k + 1) / (k + 1), (n, k)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_degree_is_sharp(name):
    rule = volterra_rule(name)
    k = rule.degree + 1
    failing = [n for n, row in enumerate(exact_rows(name)[1:], start=1)
               if moment(row, k) != Fraction(n) ** (k + 1) / (k + 1)]
    assert failing, f"{name} is exact at degree {k}: its degree is understated"
    # Beyond the starting block the rule is a fixed stencil plus unit weights, so the
    # defect must show up there too, not only in the starting rows.
    assert any(n >= rule.n_start for n in failing)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_order_and_degree_declared(name):
    rule = volterra_rule(name)
    assert isinstance(rule, VolterraRule)
    assert rule.name == name
    assert rule.order == EXPECTED_ORDER[name]
    assert rule.degree == rule.order - 1


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_float_data_read_only_and_equal_to_exact(name):
    rule = volterra_rule(name)
    pairs = [(rule.left, rule.left_exact), (rule.right, rule.right_exact)]
    for array, exact in pairs:
        assert array.dtype == np.float64
        assert array.tolist() == [float(x) for x in exact]
    assert rule.start.tolist() == [[float(x) for x in row] for row in rule.start_exact]
    for array in (rule.start, rule.left, rule.right):
        assert not array.flags.writeable
        if array.size:
            with pytest.raises(ValueError):
                array[0] = 42.0
            with pytest.raises(ValueError):
                array += 1.0


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(VOLTERRA_RULES), extra=st.integers(0, 12))
def test_dense_weights_are_rounded_exact_weights(name, extra):
    rule = volterra_rule(name)
    n_steps = rule.min_steps + extra
    dense = rule.weights(n_steps)
    assert not dense.flags.writeable
    with pytest.raises(ValueError):
        dense[-1, 0] = 0.0
    exact = rule.exact_weights(n_steps)
    assert dense.shape == (n_steps + 1, max(n_steps + 1, rule.n_start))
    for n, row in enumerate(exact):
        expected = [float(w) for w in row] + [0.0] * (dense.shape[1] - len(row))
        assert dense[n].tolist() == expected


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["trapezoid", "gregory4", "gregory6", "gregory8"]),
       extra=st.integers(0, 20))
def test_symmetric_rules_have_palindromic_rows(name, extra):
    # Trapezoid and Gregory rules treat both ends alike: w_nj = w_n,n-j beyond the start.
    rule = volterra_rule(name)
    n = rule.n_start + extra
    row = rule.exact_weights(n)[n]
    assert row == row[::-1]


def test_known_weights():
    assert [str(w) for w in volterra_rule("trapezoid").exact_weights(3)[3]] == \
        ["1/2", "1", "1", "1/2"]
    assert [str(w) for w in volterra_rule("rectangle").exact_weights(3)[3]] == \
        ["1", "1", "1", "0"]
    assert [str(w) for w in volterra_rule("implicit-rectangle").exact_weights(3)[3]] == \
        ["0", "1", "1", "1"]
    # Classical Gregory end weights of orders 4 and 6.
    assert [str(w) for w in volterra_rule("gregory4").exact_weights(12)[12][:4]] == \
        ["3/8", "7/6", "23/24", "1"]
    assert [str(w) for w in volterra_rule("gregory6").exact_weights(20)[20][:6]] == \
        ["95/288", "317/240", "23/30", "793/720", "157/160", "1"]


@pytest.mark.parametrize("name", ["trapezoid", "gregory4", "gregory6", "gregory8"])
def test_end_corrections_touch_p_minus_one_nodes(name):
    """Trapezoid and Gregory-p rules: unit weights except at p - 1 nodes at each end (NUMERICS:
    q = p - 2 corrections), so the fast history has exactly that many fixed corrections."""
    rule = volterra_rule(name)
    for corrections in (rule.left_exact, rule.right_exact):
        assert len(corrections) == rule.order - 1 and corrections[-1] != 0


def test_weight_index_out_of_the_triangle():
    rule = volterra_rule("gregory4")
    assert rule.weight_exact(5, 0) == Fraction(3, 8) and rule.weight_exact(5, 5) == Fraction(3, 8)
    for n, j in ((5, 6), (5, -1)):
        with pytest.raises(ValueError, match=rf"^need 0 <= j <= n, got n={n}, j={j}$"):
            rule.weight_exact(n, j)
    with pytest.raises(ValueError, match=r"^rule 'gregory8' needs n_steps >= 7, got 6$"):
        volterra_rule("gregory8").weights(6)


def test_explicit_and_implicit():
    assert not volterra_rule("rectangle").implicit
    for name in ("implicit-rectangle", "trapezoid", "gregory4", "gregory6", "gregory8"):
        assert volterra_rule(name).implicit


def test_rules_are_cached():
    assert volterra_rule("gregory6") is volterra_rule("gregory6")


def test_unknown_rule_lists_known_names():
    with pytest.raises(ValueError) as info:
        volterra_rule("simpson38")
    for name in VOLTERRA_RULES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", VOLTERRA_RULES)
def test_too_few_steps(name):
    rule = volterra_rule(name)
    with pytest.raises(ValueError, match="n_steps"):
        rule.exact_weights(rule.min_steps - 1)
    with pytest.raises(ValueError, match="n_steps"):
        rule.weights(2.5)


def test_exact_polynomial_helpers():
    """The rational helpers the rules are built from, on cases worked by hand."""
    from integrallimits.quadrature._exact import gregory_coefficients, lagrange_basis, poly_integral
    F = Fraction
    assert lagrange_basis([0, 1]) == [[1, -1], [0, 1]]                 # 1 - x, x
    assert lagrange_basis([0, 1, 2])[1] == [0, 2, -1]                  # x (2 - x)
    assert poly_integral([1, 2, 3], 1, 2) == 11                        # int_1^2 1 + 2x + 3x^2
    assert poly_integral([F(1, 2)], -1, 3) == 2
    assert gregory_coefficients(4) == [F(1, 12), F(1, 24), F(19, 720), F(3, 160)]


def test_doctests():
    assert doctest.testmod(_volterra).failed == 0


@pytest.mark.parametrize("n_nodes", range(2, 11))
def test_partial_step_weights_are_exact_for_degree_below_the_nodes(n_nodes):
    """The dense output's partial step: int_0^theta u^k du = sum_i a_i(theta) (f + i)^k for
    k < n_nodes, as polynomials in theta (coefficient by coefficient, exact), for every window
    the dense output uses (first node from n_nodes - 1 steps before to the point itself)."""
    for first in range(-(n_nodes - 1), 1):
        coef = _volterra.partial_step_weights(n_nodes, first)
        assert len(coef) == n_nodes and all(len(row) == n_nodes for row in coef)
        assert all(isinstance(c, Fraction) for row in coef for c in row)
        for k in range(n_nodes):
            poly = [sum(coef[i][m] * Fraction(first + i) ** k for i in range(n_nodes))
                    for m in range(n_nodes)]           # of theta^(m + 1)
            assert poly == [Fraction(1, k + 1) if m == k else 0 for m in range(n_nodes)]
