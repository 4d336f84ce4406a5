"""Interval quadrature rules: exactness (exact rationals / high precision), sharpness of
the degree, agreement with independent implementations, read-only data, validation."""
import doctest
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given, settings, strategies as st
from mpmath import mp
from mpmath.calculus.quadrature import GaussLegendre

from integrallimits.quadrature import (INTERVAL_RULES, IntervalRule, clenshaw_curtis,
                                       composite_rectangle, composite_simpson,
                                       composite_trapezoid, gauss_legendre, gauss_lobatto,
                                       gauss_radau, interval_rule)
from integrallimits.quadrature import _interval

COMPOSITE = {"rectangle": (1, 2), "trapezoid": (1, 2), "simpson": (3, 4)}   # degree, order
GAUSS = ["gauss-legendre", "gauss-radau", "gauss-lobatto", "clenshaw-curtis"]
MIN_N = {"rectangle": 1, "trapezoid": 1, "simpson": 2, "gauss-legendre": 1, "gauss-radau": 1,
         "gauss-lobatto": 2, "clenshaw-curtis": 1}


def expected_degree(name, n):
    return {"gauss-legendre": 2 * n - 1, "gauss-radau": 2 * n - 2, "gauss-lobatto": 2 * n - 3,
            "clenshaw-curtis": n if n % 2 else n - 1}[name]


def build(name, n, a=-1.0, b=1.0, right=False):
    if name == "gauss-radau":
        return gauss_radau(n, a, b, right=right)
    return interval_rule(name, n, a, b)


def exact_monomial(k, a, b):
    a, b = Fraction(a), Fraction(b)
    return (b ** (k + 1) - a ** (k + 1)) / (k + 1)


# Intervals with float end points (floats are rationals, so exact results are defined).
bounds = st.tuples(st.floats(-10, 10, allow_subnormal=False),
                   st.floats(1e-3, 20, allow_subnormal=False)).map(lambda p: (p[0], p[0] + p[1]))


@st.composite
def composite_case(draw):
    name = draw(st.sampled_from(sorted(COMPOSITE)))
    m = draw(st.integers(1, 40))
    if name == "simpson":
        m = 2 * ((m + 1) // 2)
    return name, m


# ------------------------------------------------------------------- composite rules


@settings(max_examples=150, deadline=None)
@given(case=composite_case(), ab=bounds, data=st.data())
def test_composite_exact_in_rationals(case, ab, data):
    name, m = case
    a, b = ab
    assume(a < b)
    rule = build(name, m, a, b)
    nodes, weights = rule.exact()
    k = data.draw(st.integers(0, rule.degree), label="k")
    assert sum(w * x**k for x, w in zip(nodes, weights)) == exact_monomial(k, a, b)


@pytest.mark.parametrize("name", sorted(COMPOSITE))
@pytest.mark.parametrize("m", [2, 4, 6, 10, 16])
def test_composite_degree_is_sharp(name, m):
    rule = build(name, m, 0.0, 1.0)
    nodes, weights = rule.exact()
    k = rule.degree + 1
    assert sum(w * x**k for x, w in zip(nodes, weights)) != exact_monomial(k, 0, 1)


@settings(max_examples=100, deadline=None)
@given(case=composite_case(), ab=bounds)
def test_composite_floats_are_rounded_fractions(case, ab):
    name, m = case
    a, b = ab
    assume(a < b)
    rule = build(name, m, a, b)
    nodes, weights = rule.exact()
    assert rule.nodes.tolist() == [float(x) for x in nodes]
    assert rule.weights.tolist() == [float(w) for w in weights]


def test_composite_known_values():
    assert [str(w) for w in composite_simpson(4, 0.0, 1.0).exact()[1]] == \
        ["1/12", "1/3", "1/6", "1/3", "1/12"]
    mid = composite_rectangle(4, 0.0, 1.0)            # the midpoint rule
    assert mid.nodes.tolist() == [0.125, 0.375, 0.625, 0.875]
    assert mid.weights.tolist() == [0.25] * 4
    assert composite_trapezoid(1, 2.0, 5.0).weights.tolist() == [1.5, 1.5]


@pytest.mark.parametrize("name", sorted(COMPOSITE))
def test_composite_declared_degree_and_order(name):
    rule = build(name, 2, 0.0, 1.0)
    assert (rule.degree, rule.order) == COMPOSITE[name]


@pytest.mark.parametrize("name", sorted(COMPOSITE))
def test_composite_observed_order(name):
    # Error of int_0^1 exp on m = 8 .. 256 panels; slope of log error against log h.
    ms = np.array([8, 16, 32, 64, 128, 256])
    errors = [abs(build(name, int(m), 0.0, 1.0)(np.exp) - math.expm1(1.0)) for m in ms]
    slope = np.polyfit(np.log(1.0 / ms), np.log(errors), 1)[0]
    assert abs(slope - COMPOSITE[name][1]) < 0.2, slope


def test_composite_large_m_is_fast_and_accurate():
    rule = composite_simpson(200_000, 0.0, 0.1)
    assert rule.nodes.size == 200_001
    assert rule.nodes[0] == 0.0 and rule.nodes[-1] == 0.1
    assert abs(rule(np.cos) - math.sin(0.1)) < 1e-15


# --------------------------------------------------------------- Gauss-type rules


@st.composite
def gauss_case(draw):
    name = draw(st.sampled_from(GAUSS))
    n = draw(st.integers(MIN_N[name], 30))
    right = draw(st.booleans()) if name == "gauss-radau" else False
    return name, n, right


@settings(max_examples=200, deadline=None)
@given(case=gauss_case(), a=st.floats(0.0, 2.0), length=st.floats(0.1, 3.0), data=st.data())
def test_gauss_exact_up_to_degree(case, a, length, data):
    # Monomials on an interval of positive numbers: every term of the sum is positive,
    # so the relative rounding error is a few ulps; 1e-14 checks exactness.
    name, n, right = case
    b = a + length
    rule = build(name, n, a, b, right)
    assert rule.degree == expected_degree(name, n)
    k = data.draw(st.integers(0, rule.degree), label="k")
    exact = (b ** (k + 1) - a ** (k + 1)) / (k + 1)
    assert abs(rule(lambda x: x**k) - exact) <= 1e-14 * exact


def _sharpness_cofactor(rule):
    """A polynomial r with deg(omega r) = rule.degree + 1, omega(x) = prod (x - x_i) the
    node polynomial: omega / (factors of the fixed end points) for the Gauss-type rules
    (so omega r = omega^2, (x -+ 1) q^2 or (x^2 - 1) q^2 keeps one sign), 1 or x for
    Clenshaw–Curtis.  The rule gives exactly 0 for omega r."""
    nodes = rule.nodes
    if rule.name == "clenshaw-curtis":
        return np.polynomial.Polynomial([1.0] if rule.degree + 1 == nodes.size else [0.0, 1.0])
    interior = nodes[(nodes != rule.a) & (nodes != rule.b)]
    if rule.name == "gauss-legendre":
        assert interior.size == nodes.size
    return np.polynomial.Polynomial.fromroots(interior) if interior.size else \
        np.polynomial.Polynomial([1.0])


@pytest.mark.parametrize("name, n, right", [
    (name, n, right) for name in GAUSS for n in (1, 2, 3, 4, 5, 8, 13, 20)
    for right in ((False, True) if name == "gauss-radau" else (False,)) if n >= MIN_N[name]])
def test_gauss_degree_is_sharp(name, n, right):
    rule = build(name, n, -1.0, 1.0, right)
    cofactor = _sharpness_cofactor(rule)
    assert n + cofactor.degree() == rule.degree + 1
    # omega in product form vanishes exactly at every node, so the rule gives 0 ...
    integrand = lambda x: np.prod(x[:, None] - rule.nodes[None, :], axis=1) * cofactor(x)
    assert rule(integrand) == 0.0
    # ... while the integral (by numpy's Gauss–Legendre rule with n + 30 nodes, exact for
    # this degree) is not: its rounding error is ~1e-16 * size, 1e8 times below the bound.
    # (For the Gauss-type rules omega r keeps one sign, so integral = +-size; for
    # Clenshaw–Curtis it oscillates and the ratio decays with n, ~6e-4 at n = 20.)
    x, w = np.polynomial.legendre.leggauss(n + 30)
    integral, size = w @ integrand(x), w @ np.abs(integrand(x))
    assert abs(integral) > 1e-8 * size, "rule would be exact at degree + 1"
    if name != "clenshaw-curtis":
        assert abs(integral) == pytest.approx(size, rel=1e-12)


@pytest.mark.parametrize("n", list(range(1, 31)))
def test_gauss_legendre_agrees_with_numpy(n):
    x, w = np.polynomial.legendre.leggauss(n)
    rule = gauss_legendre(n)
    np.testing.assert_allclose(rule.nodes, x, rtol=0, atol=2.3e-16)
    # numpy's weights carry errors of a few 1e-16 (up to ~3e-15 at n = 40); ours are
    # checked to the bit against mpmath below.
    np.testing.assert_allclose(rule.weights, w, rtol=0, atol=1e-14)


@pytest.mark.parametrize("degree", [1, 2, 3, 4, 5])
def test_gauss_legendre_bitwise_against_mpmath(degree):
    # mpmath's own Gauss–Legendre tables (3 * 2**(degree - 1) nodes), at 50 digits.
    with mp.workdps(50):
        table = sorted(GaussLegendre(mp).calc_nodes(degree, mp.prec), key=lambda p: p[0])
        x = [float(p[0]) for p in table]
        w = [float(p[1]) for p in table]
    rule = gauss_legendre(len(x))
    assert rule.nodes.tolist() == x
    assert rule.weights.tolist() == w


def test_closed_forms():
    r3 = math.sqrt(3.0)
    rule = gauss_legendre(2)
    with mp.workdps(50):
        node = float(1 / mp.sqrt(3))                   # correctly rounded 1/sqrt(3)
    assert rule.nodes.tolist() == [-node, node]
    assert rule.weights.tolist() == [1.0, 1.0]
    assert abs(rule.nodes[1] - 1 / r3) <= 1.2e-16

    # Gauss–Lobatto: 3 nodes (Simpson), 4 nodes +-1, +-1/sqrt(5), weights 1/6, 5/6.
    rule = gauss_lobatto(3)
    assert rule.nodes.tolist() == [-1.0, 0.0, 1.0]
    np.testing.assert_allclose(rule.weights, [1 / 3, 4 / 3, 1 / 3], rtol=2e-16)
    rule = gauss_lobatto(4)
    np.testing.assert_allclose(rule.nodes, [-1, -1 / math.sqrt(5), 1 / math.sqrt(5), 1],
                               rtol=2e-16)
    np.testing.assert_allclose(rule.weights, [1 / 6, 5 / 6, 5 / 6, 1 / 6], rtol=2e-16)
    assert gauss_lobatto(2).weights.tolist() == [1.0, 1.0]

    # Gauss–Radau: left, 2 nodes on [-1, 1]: -1, 1/3 with weights 1/2, 3/2.
    rule = gauss_radau(2)
    np.testing.assert_allclose(rule.nodes, [-1.0, 1 / 3], rtol=2e-16)
    np.testing.assert_allclose(rule.weights, [0.5, 1.5], rtol=2e-16)
    # Radau IIA with 3 stages on [0, 1]: c = (4 -+ sqrt 6)/10, 1; b = (16 -+ sqrt 6)/36, 1/9.
    s6 = math.sqrt(6.0)
    rule = gauss_radau(3, 0.0, 1.0, right=True)
    np.testing.assert_allclose(rule.nodes, [(4 - s6) / 10, (4 + s6) / 10, 1.0], rtol=4e-16)
    np.testing.assert_allclose(rule.weights, [(16 - s6) / 36, (16 + s6) / 36, 1 / 9],
                               rtol=4e-16)
    assert gauss_radau(1).nodes.tolist() == [-1.0] and gauss_radau(1).weights.tolist() == [2.0]
    assert gauss_radau(1, right=True).nodes.tolist() == [1.0]

    # Clenshaw–Curtis: n = 1 is the midpoint, n = 2 the trapezoid, n = 3 Simpson.
    assert clenshaw_curtis(1, 0.0, 4.0).nodes.tolist() == [2.0]
    assert clenshaw_curtis(1, 0.0, 4.0).weights.tolist() == [4.0]
    assert clenshaw_curtis(2).weights.tolist() == [1.0, 1.0]
    np.testing.assert_allclose(clenshaw_curtis(3).weights, [1 / 3, 4 / 3, 1 / 3], rtol=2e-16)


@pytest.mark.parametrize("n", list(range(2, 26)))
def test_clenshaw_curtis_against_moment_equations(n):
    # Independent construction: w solves sum_k w_k T_j(x_k) = int_{-1}^1 T_j, j < n.
    N = n - 1
    with mp.workdps(50):                               # correctly rounded -cos(k pi / N)
        x = np.array([float(-mp.cospi(mp.mpf(k) / N)) for k in range(n)])
    V = np.polynomial.chebyshev.chebvander(x, N).T
    moments = np.array([2.0 / (1 - j * j) if j % 2 == 0 else 0.0 for j in range(n)])
    w = np.linalg.solve(V, moments)
    rule = clenshaw_curtis(n)
    assert rule.nodes.tolist() == x.tolist()
    np.testing.assert_allclose(rule.weights, w, rtol=0, atol=1e-14)


@settings(max_examples=100, deadline=None)
@given(case=gauss_case(), ab=bounds)
def test_gauss_structure_on_any_interval(case, ab):
    name, n, right = case
    a, b = ab
    assume(a < b)
    rule = build(name, n, a, b, right)
    assert rule.nodes.shape == rule.weights.shape == (n,)
    assert np.all(np.diff(rule.nodes) > 0)
    assert rule.nodes[0] >= a and rule.nodes[-1] <= b
    assert np.all(rule.weights > 0)                      # all these rules have positive weights
    assert abs(rule.weights.sum() - (b - a)) <= 8e-16 * n * (b - a)
    assert rule.order is None                            # spectral, no algebraic order
    if name in ("gauss-lobatto", "clenshaw-curtis") and n >= 2:
        assert rule.nodes[0] == a and rule.nodes[-1] == b
    if name == "gauss-radau":
        assert (rule.nodes[-1] == b) if right else (rule.nodes[0] == a)
    if name != "gauss-radau":                            # symmetric about the midpoint
        mid, half = (a + b) / 2, (b - a) / 2
        np.testing.assert_allclose(rule.nodes - mid, -(rule.nodes - mid)[::-1],
                                   rtol=0, atol=4e-16 * (abs(mid) + half))
        np.testing.assert_allclose(rule.weights, rule.weights[::-1], rtol=4e-16)


@pytest.mark.parametrize("name", GAUSS)
def test_mapped_rule_is_the_affine_image(name):
    # Both sides are rounded (ours once, the float expression up to three times), so
    # they may differ by 2 ulps.
    ref = build(name, 7)
    rule = build(name, 7, 2.0, 5.0)
    np.testing.assert_allclose(rule.nodes, 3.5 + 1.5 * ref.nodes, rtol=4.5e-16)
    np.testing.assert_allclose(rule.weights, 1.5 * ref.weights, rtol=4.5e-16)


@pytest.mark.parametrize("ab", [(-2.0, 1.0), (-1.0, 2.0), (1.0, 2.0)])
@pytest.mark.parametrize("name", sorted(INTERVAL_RULES))
def test_every_rule_maps_to_any_interval(name, ab):
    """Every rule on intervals that share one end point with [-1, 1] is the affine image of
    its reference rule (and records its n, a and b)."""
    a, b = ab
    ref, rule = interval_rule(name, 6), interval_rule(name, 6, a, b)
    assert (rule.n, rule.a, rule.b) == (ref.n, a, b) == (6, a, b)
    mid, half = (a + b) / 2, (b - a) / 2
    np.testing.assert_allclose(rule.nodes, mid + half * ref.nodes, rtol=4.5e-16, atol=1e-15)
    np.testing.assert_allclose(rule.weights, half * ref.weights, rtol=4.5e-16)


def test_whole_messages_of_the_checks():
    with pytest.raises(ValueError, match=r"^n must be an integer >= 1 for rule 'gauss-legendre', "
                                         r"got 2\.5$"):
        interval_rule("gauss-legendre", 2.5)
    with pytest.raises(ValueError, match=r"^n must be an even integer >= 2 for rule 'simpson', got n=3$"):
        interval_rule("simpson", 3)
    with pytest.raises(ValueError, match=r"^a must be a finite real number, got nan$"):
        interval_rule("trapezoid", 4, np.nan, 1.0)
    with pytest.raises(ValueError, match=r"^b must be a finite real number, got None$"):
        interval_rule("trapezoid", 4, 0.0, None)
    with pytest.raises(ValueError, match=r"^need a < b, got a=1\.0, b=1\.0$"):
        interval_rule("trapezoid", 4, 1.0, 1.0)


@pytest.mark.parametrize("name", GAUSS)
def test_spectral_convergence_on_exp(name):
    """12 nodes integrate e^x on [0, 1] to rounding (truncation error < 1e-19): within the
    rounding bound (n + 2) u sum_i |w_i f(x_i)| of a sum of n products of rounded nodes and
    weights (u = 2^-53), not a bound copied from one machine (the dot product's summation
    order depends on the BLAS)."""
    rule = build(name, 12, 0.0, 1.0)
    bound = 14 * 2.0 ** -53 * np.sum(np.abs(rule.weights * np.exp(rule.nodes)))
    assert abs(rule(np.exp) - math.expm1(1.0)) <= bound


# ---------------------------------------------------------------- data and interface


@pytest.mark.parametrize("name", sorted(INTERVAL_RULES))
def test_arrays_read_only(name):
    for a, b in ((-1.0, 1.0), (0.0, 3.0)):
        rule = build(name, 4, a, b)
        for array in (rule.nodes, rule.weights):
            assert array.dtype == np.float64 and not array.flags.writeable
            with pytest.raises(ValueError):
                array[0] = 1.0
    # The cached reference data are shared, so they must stay untouched.
    assert build(name, 4).weights.sum() == pytest.approx(2.0, rel=1e-15)


def test_rule_is_frozen():
    rule = gauss_legendre(3)
    assert isinstance(rule, IntervalRule)
    with pytest.raises(AttributeError):
        rule.degree = 10


def test_call_and_integrate():
    rule = gauss_legendre(5, 0.0, 1.0)
    assert rule(lambda x: 3.0) == pytest.approx(3.0, rel=1e-15)           # scalar return
    vec = rule(lambda x: np.stack([x, x**2], axis=1))                      # (n, 2) values
    np.testing.assert_allclose(vec, [0.5, 1 / 3], rtol=1e-15)
    values = np.stack([rule.nodes, rule.nodes**3])                         # nodes on axis 1
    np.testing.assert_allclose(rule.integrate(values, axis=1), [0.5, 0.25], rtol=1e-15)
    with pytest.raises(ValueError, match="values"):
        rule.integrate(np.ones(4))
    with pytest.raises(ValueError, match="values"):
        rule.integrate(1.0)


def test_exact_only_for_rational_rules():
    with pytest.raises(ValueError, match="irrational"):
        gauss_legendre(3).exact()


def test_registry_names_and_dispatch():
    assert set(INTERVAL_RULES) == {"rectangle", "trapezoid", "simpson", "gauss-legendre",
                                   "gauss-radau", "gauss-lobatto", "clenshaw-curtis"}
    for name, constructor in INTERVAL_RULES.items():
        direct = constructor(4, 0.0, 2.0)
        via = interval_rule(name, 4, a=0.0, b=2.0)
        assert via.name == direct.name == name
        assert via.nodes.tolist() == direct.nodes.tolist()
        assert via.weights.tolist() == direct.weights.tolist()
    right = interval_rule("gauss-radau", 3, 0.0, 1.0, right=True)
    assert right.nodes[-1] == 1.0


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError) as info:
        interval_rule("gauss-kronrod", 5)
    for name in INTERVAL_RULES:
        assert name in str(info.value)


@pytest.mark.parametrize("name", sorted(INTERVAL_RULES))
@pytest.mark.parametrize("n", [0, -3, 2.5, 3.0, "3", None, True])
def test_invalid_n(name, n):
    with pytest.raises(ValueError, match=r"\bn\b"):
        interval_rule(name, n)


@pytest.mark.parametrize("name, n", [("gauss-lobatto", 1), ("simpson", 3), ("simpson", 1)])
def test_n_too_small_for_rule(name, n):
    with pytest.raises(ValueError, match=r"\bn\b"):
        interval_rule(name, n)


def test_constructor_argument_names_in_messages():
    with pytest.raises(ValueError, match=r"\bm\b.*even"):
        composite_simpson(5)
    with pytest.raises(ValueError, match=r"\bm\b"):
        composite_trapezoid(0)
    with pytest.raises(ValueError, match=r"\bn\b"):
        gauss_lobatto(1)


@pytest.mark.parametrize("name", sorted(INTERVAL_RULES))
@pytest.mark.parametrize("a, b, bad", [(1.0, 1.0, "a < b"), (2.0, 1.0, "a < b"),
                                       (np.nan, 1.0, "a"), (0.0, np.inf, "b"),
                                       (-np.inf, 0.0, "a"), ("0", 1.0, "a"), (0.0, None, "b"),
                                       (-1e308, 1e308, "the interval's length b - a overflows")])
def test_invalid_bounds(name, a, b, bad):
    with pytest.raises(ValueError, match=rf"\b{bad}"):
        interval_rule(name, 4, a, b)


@pytest.mark.parametrize("name", sorted(INTERVAL_RULES))
def test_a_rule_that_cannot_fit_is_a_memory_error_before_anything_is_built(name, monkeypatch):
    """gauss_legendre(10**9) was killed by the system (it took 23 GB before the kernel's
    out-of-memory killer ended it: no error, nothing to catch); now a MemoryError with the
    figures, before anything is allocated (here with 1 GB said to be available)."""
    import integrallimits._memory as memory
    monkeypatch.setattr(memory, "available_memory", lambda: 1e9)
    n = 10 ** 8 if name != "simpson" else 2 * 10 ** 8
    with pytest.raises(MemoryError, match=rf"rule {name!r} with [nm] = {n} needs about "
                                          rf"[0-9.]+ GB of memory; 1 GB are available"):
        interval_rule(name, n)
    interval_rule(name, 4 * 10 ** 5)            # 51 MB: not asked, built


@pytest.mark.parametrize("build", [lambda n: gauss_legendre(n),
                                   lambda n: clenshaw_curtis(n, 0.0, 1.0),
                                   lambda n: composite_trapezoid(n)])
def test_large_rules_are_not_kept_after_use(build):
    """Each rule built was cached (32 Gauss-type and 128 + 128 composite ones, of any size): a
    loop over growing n held every rule, 25-32 MB each at n = 2^20.  Only rules of at most
    2^16 nodes are kept now.  n = 2^18 (4 times the limit) keeps the test's cost down (tracing
    the composite rule's exact node arithmetic at 2^20 took 4 s alone): a kept rule is 6-8 MB
    there, a rule not kept leaves under 100 bytes."""
    import gc
    import tracemalloc
    build(2 ** 18)                              # compiled code and small caches warm
    gc.collect()
    tracemalloc.start()
    try:
        build(2 ** 18 + 2)                      # a rule not built before, above the 2^16 kept
        gc.collect()
        kept = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert kept < 2 ** 20                       # bytes; 6-8 MB when the rule is kept


def test_doctests():
    assert doctest.testmod(_interval).failed == 0
