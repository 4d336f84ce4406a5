"""The O(n) constructions of the Gauss-type and Clenshaw–Curtis rules (n >= FAST_MIN_N):
within 2 ulp of the 40-digit constructions, and identities at large n."""
import math

import numpy as np
import pytest
from mpmath import mp

from integrallimits.quadrature import (clenshaw_curtis, gauss_legendre, gauss_lobatto,
                                       gauss_radau, interval_rule)
from integrallimits.quadrature import _asymptotic, _interval

FAST = {"gauss-legendre": _asymptotic.gauss_legendre_fast,
        "gauss-radau": _asymptotic.gauss_radau_fast,
        "gauss-lobatto": _asymptotic.gauss_lobatto_fast,
        "clenshaw-curtis": _asymptotic.clenshaw_curtis_fast}


def ulps(approx, exact):
    """Error of the float ``approx`` in units of the last place of the exact value."""
    exact_float = float(exact)
    spacing = np.spacing(abs(exact_float)) if exact_float else 5e-324
    with mp.workdps(40):
        return float(abs((mp.mpf(float(approx)) - exact) / spacing))


# The 40-digit constructions are the reference: their O(n^2) cost keeps the sizes near the
# switch (where the truncation errors of the expansions are largest), one even, one odd.
@pytest.mark.parametrize("name, n", [
    ("gauss-legendre", 128), ("gauss-legendre", 129), ("gauss-legendre", 200),
    ("gauss-radau", 128), ("gauss-radau", 151), ("gauss-lobatto", 128),
    ("gauss-lobatto", 257), ("clenshaw-curtis", 128), ("clenshaw-curtis", 201)])
def test_within_two_ulp_of_40_digits(name, n):
    assert n >= _asymptotic.FAST_MIN_N[name]
    nodes_mp, weights_mp, _, _ = _interval._gauss_reference(name, n)
    nodes, gaps, weights = FAST[name](n)
    assert max(ulps(x, ref) for x, ref in zip(nodes, nodes_mp)) <= 2
    assert max(ulps(w, ref) for w, ref in zip(weights, weights_mp)) <= 2
    assert max(ulps(g, 1 - abs(ref)) for g, ref in zip(gaps, nodes_mp) if abs(ref) != 1) <= 2
    # the public constructors use the fast path from FAST_MIN_N on
    rule = interval_rule(name, n)
    assert rule.nodes.tolist() == nodes.tolist() and rule.weights.tolist() == weights.tolist()


def _legendre_recurrence(m, x):
    """P_m(x) and P'_m(x) by the three-term recurrence (O(m), at the working precision)."""
    p0, p1, d0, d1 = mp.one, x, mp.zero, mp.one
    for k in range(1, m):
        p0, p1 = p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1)
        d0, d1 = d1, d0 + (2 * k + 1) * p0
    return p1, d1


def _legendre_hypergeometric(m, x):
    """P_m(x) and P'_m(x) from mpmath's hypergeometric series, fast near x = +-1 whatever m
    (P_m(-y) = (-1)^m P_m(y); P'_m = m (x P_m - P_{m-1}) / (x^2 - 1), which loses about
    log10(1 / (1 - |x|)) digits: work with 20 more)."""
    sign = 1 if x > 0 else -1
    p, q = sign**m * mp.legendre(m, abs(x)), sign ** (m - 1) * mp.legendre(m - 1, abs(x))
    return p, m * (x * p - q) / (x * x - 1)


def _node_function(name, n, x, legendre=_legendre_recurrence):
    """f and f' whose zeros are the free nodes, and the weight at a zero."""
    if name == "gauss-legendre":
        p, dp = legendre(n, x)
        return p, dp, 2 / ((1 - x * x) * dp * dp)
    if name == "gauss-radau":
        (p1, dp1), (p0, dp0) = legendre(n - 1, x), legendre(n, x)
        return p1 + p0, dp1 + dp0, 4 / ((1 - x) * (dp1 + dp0) ** 2)
    p, dp = legendre(n - 1, x)       # Lobatto: zeros of P'_{n-1}; P'' from Legendre's equation
    return dp, (2 * x * dp - (n - 1) * n * p) / (1 - x * x), mp.mpf(2) / (n * (n - 1) * p * p)


@pytest.mark.parametrize("name", ["gauss-legendre", "gauss-radau", "gauss-lobatto"])
def test_large_n_spot_checks_at_40_digits(name):
    # One Newton step at 40 digits from the float node (the three-term recurrence, O(n) per
    # node; the float node is within 2 ulp, so the step leaves an error ~1e-30) for the end
    # nodes, the ones around the switch to Stieltjes' series (the 7th or so from each end)
    # and some interior ones.
    n = 1001
    nodes, gaps, weights = FAST[name](n)
    fixed = {"gauss-radau": [0], "gauss-lobatto": [0, n - 1]}.get(name, [])
    picks = [i for i in (*range(10), 300, n // 2, *range(n - 10, n)) if i not in fixed]
    with mp.workdps(40):
        for i in picks:
            x = mp.mpf(float(nodes[i]))
            f, df, _ = _node_function(name, n, x)
            x -= f / df
            weight = _node_function(name, n, x)[2]
            assert ulps(nodes[i], x) <= 2, i
            assert ulps(weights[i], weight) <= 2, i
            assert ulps(gaps[i], 1 - abs(x)) <= 2, i


@pytest.mark.parametrize("name, n", [("gauss-legendre", 10**5), ("gauss-radau", 10**5),
                                     ("gauss-radau", 3 * 10**6), ("gauss-lobatto", 10**5)])
def test_nodes_near_the_ends_at_large_n_at_40_digits(name, n):
    # The end nodes (Halley's method on the hypergeometric series in double-double) and the
    # first ones of Stieltjes' series beyond them, three Newton steps at 60 digits from the
    # float node with mpmath's hypergeometric Legendre functions (the spacing there is ~1e-9
    # at n = 10^5: one step from the float node leaves ~1e-14 of it, too much for the gaps'
    # last bits).  Radau near -1 at n = 3e6: the two series' tails nearly cancel there, and
    # rounding them separately put the gaps 3-5 ulp off.
    nodes, gaps, weights = FAST[name](n)
    fixed = {"gauss-radau": [0], "gauss-lobatto": [0, n - 1]}.get(name, [])
    picks = [i for i in (*range(12), *range(n - 12, n)) if i not in fixed]
    for i in picks:
        with mp.workdps(60):
            x = mp.mpf(float(nodes[i]))
            for _ in range(3):
                f, df, _ = _node_function(name, n, x, _legendre_hypergeometric)
                x -= f / df
            weight = _node_function(name, n, x, _legendre_hypergeometric)[2]
            assert ulps(nodes[i], x) <= 2, i
            assert ulps(weights[i], weight) <= 2, i
            assert ulps(gaps[i], 1 - abs(x)) <= 2, i


@pytest.mark.parametrize("name", sorted(FAST))
@pytest.mark.parametrize("n", [10**5, 10**5 + 1])
def test_identities_at_large_n(name, n):
    rule = interval_rule(name, n)
    nodes, weights = rule.nodes, rule.weights
    assert np.all(np.diff(nodes) > 0) and np.all(weights > 0)
    assert abs(math.fsum(weights) - 2) <= 4e-16
    assert rule.degree >= n - 1
    if name != "gauss-radau":                                 # symmetric rules
        assert nodes.tolist() == (-nodes[::-1]).tolist()
        assert weights.tolist() == weights[::-1].tolist()
    for k in (2, 10, 40):                                     # exact for x^k: 2/(k + 1)
        assert abs(math.fsum(weights * nodes**k) - 2 / (k + 1)) <= 1e-15
    # Gauss-type: the weights approach pi sqrt(1 - x^2) / n in the middle
    mid = n // 2
    assert abs(weights[mid] / (np.pi / n) - 1) < 2 / n


def test_clenshaw_curtis_chebyshev_moments():
    # sum_k w_k T_j(x_k) = int T_j = 2 / (1 - j^2) for even j < n, 0 for odd j, with
    # T_j(x_k) = (-1)^j cos(j k pi / N).  Weights within 2 ulp (relative 4.4e-16) and the
    # cosines within an ulp bound the error by sum_k w_k (4.4e-16 + 2.2e-16) = 1.3e-15.
    n = 1025
    rule = clenshaw_curtis(n)
    k = np.arange(n)
    for j in (0, 1, 2, 3, 100, 511, 1000, 1024):
        moment = math.fsum(rule.weights * np.cos(np.pi * (j * k % (2 * (n - 1))) / (n - 1)))
        assert abs((-1) ** j * moment - (2 / (1 - j * j) if j % 2 == 0 else 0.0)) < 1.3e-15
    assert rule.weights[0] == 1 / (1024**2 - 1)               # closed form of the end weights


def test_mcmahon_zeros_of_j0():
    # Bogaert's nodes use j_{0,k} = b + delta(b), b = pi (k - 1/4), McMahon's series beyond
    # the 40-digit table; delta must be right to ~1e-17 relative to j for k past the table.
    k0 = _asymptotic._BESSEL_TABLE
    table_delta, _ = _asymptotic._bessel_table()
    with mp.workdps(30):
        for k in range(1, 41):
            exact = mp.besseljzero(0, k)
            if k <= k0:
                delta = table_delta[k - 1]
            else:
                b = math.pi * (k - 0.25)
                r = 1 / (b * b)
                delta = (1 / 8 + r * (-31 / 384 + r * (3779 / 15360 + r * (
                    -6277237 / 3440640 + r * (2092163573 / 82575360))))) / b
            assert abs(delta - float(exact - mp.pi * (k - mp.mpf(1) / 4))) < 2e-17 * float(exact)


@pytest.mark.parametrize("name", sorted(FAST))
def test_mapped_fast_rule_keeps_end_nodes_accurate(name):
    # On [0, 1] a node near 0 is gap/2 exactly: relative accuracy however small it is.
    n = 4000
    ref = interval_rule(name, n)
    rule = interval_rule(name, n, 0.0, 1.0)
    _, gaps, _ = FAST[name](n)
    left = ref.nodes < 0
    assert rule.nodes[left].tolist() == (gaps[left] / 2).tolist()
    np.testing.assert_allclose(rule.nodes, (ref.nodes + 1) / 2, rtol=0, atol=1.2e-16)
    np.testing.assert_array_equal(rule.weights, ref.weights / 2)
    assert rule.nodes[0] >= 0 and rule.nodes[-1] <= 1


def test_right_radau_is_the_mirror_image():
    left, right = gauss_radau(300), gauss_radau(300, right=True)
    assert right.nodes.tolist() == (-left.nodes[::-1]).tolist()
    assert right.weights.tolist() == left.weights[::-1].tolist()
    assert right.nodes[-1] == 1.0


def test_switch_is_seamless():
    # Both sides of the switch integrate e^x on [0, 1] to rounding.
    for n in (_asymptotic.FAST_MIN_N["gauss-legendre"] - 1, _asymptotic.FAST_MIN_N["gauss-legendre"]):
        for rule in (gauss_legendre(n, 0.0, 1.0), gauss_lobatto(n, 0.0, 1.0)):
            assert abs(rule(np.exp) - math.expm1(1.0)) < 2e-15
