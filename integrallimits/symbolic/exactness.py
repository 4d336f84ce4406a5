r"""Exactness of the package's rules, proved in exact arithmetic.

Volterra rules (``integrallimits.quadrature.VOLTERRA_RULES``). A rule w has degree p
on row n if, on the mesh t_j = j h,

    h Σ_j w_nj t_j^q = ∫_0^{t_n} s^q ds,  i.e.  E_q(n) := Σ_j w_nj j^q - n^{q+1}/(q+1) = 0,

for q = 0..p (the h-scaling cancels). For n >= n0 (past the starting block and long
enough for both end corrections) the weights are w_nj = 1 + left_j + right_{n-j}, so

    E_q(n) = Σ_{j=0}^{n} j^q + Σ_i left_i i^q + Σ_i right_i (n - i)^q - n^{q+1}/(q+1)

is a polynomial in a *symbolic* n (Faulhaber); rows n < n0 are enumerated. Exactness
of degree p on every row n >= 1 is E_q ≡ 0 for q <= p plus the finitely many rows;
sharpness is that E_{p+1}(n) != 0 for every n >= 1 (its integer roots are all < 1).

Runge-Kutta tableau (c, A, b) of order p: Σ_j a_ij = c_i and, for every rooted tree t
with |t| <= p, the elementary weight Φ(t) = b^T g(t) equals 1/γ(t), where
g(•) = 1, g([t_1, ..., t_m]) = Π_l A g(t_l) (entrywise) and γ the tree density
(γ(•) = 1, γ([t_1..t_m]) = |t| Π γ(t_l)). Up to order 4 these are the 8 conditions

    Σ b = 1, Σ b c = 1/2, Σ b c² = 1/3, Σ b A c = 1/6, Σ b c³ = 1/4,
    Σ b c A c = 1/8, Σ b A c² = 1/12, Σ b A A c = 1/24.

Collocation tableaux (a_ij = ∫_0^{c_i} L_j, b_j = ∫_0^1 L_j) at m Gauss or Radau IIA
points satisfy C(m): Σ_j a_ij c_j^{q-1} = c_i^q / q (q <= m) and B(r):
Σ_j b_j c_j^{q-1} = 1/q (q <= r), r = 2m (Gauss) or 2m - 1 (Radau IIA).
"""
from __future__ import annotations

import math
import numbers
from fractions import Fraction
from functools import lru_cache

import mpmath
import sympy as sp

from ..quadrature import VOLTERRA_RULES, volterra_rule
from ..volterra._tableaux import classical_rk4, collocation_tableau
from ._common import all_zero, check_sizes, check_weight_rows, is_zero, to_sympy

__all__ = ["row_moment_error", "check_rule_rows", "rule_moment_polynomial", "first_regular_row",
           "check_rule_exactness", "check_rule_sharpness", "rooted_trees", "tree_order",
           "tree_density", "elementary_weight", "check_rk_order_conditions",
           "check_rk_order_sharp", "collocation_polynomial", "exact_collocation_tableau",
           "check_collocation_conditions", "check_collocation_quadrature_order",
           "check_collocation_floats", "VOLTERRA_RULES"]

_n = sp.Symbol("n", integer=True, nonnegative=True)


# --------------------------------------------------------------------- Volterra rules

def row_moment_error(row, n, q):
    """E_q(n) = Σ_j w_nj j^q - n^{q+1}/(q+1) for one row of weights (exact Fraction)."""
    return sum((Fraction(w) * j ** q for j, w in enumerate(row)), Fraction(0)) - Fraction(
        n ** (q + 1), q + 1)


def check_rule_rows(name, n_max, degree=None, weights=None):
    """Enumeration: E_q(n) = 0 for every row 1 <= n <= n_max and q <= degree (Fractions).

    Examples
    --------
    >>> check_rule_rows("gregory4", 12)
    True
    >>> check_rule_rows("gregory4", 12, degree=4)
    False
    """
    check_sizes(n_max=n_max)
    check_sizes(0, degree=degree)
    rule = volterra_rule(name)
    degree = rule.degree if degree is None else degree
    rows = rule.exact_weights(n_max) if weights is None else weights
    check_weight_rows(rows, n_max)
    return all(row_moment_error(rows[n], n, q) == 0
               for n in range(1, n_max + 1) for q in range(degree + 1))


def first_regular_row(rule, left=None, right=None):
    """n0: from this row on every weight is 1 + left_j + right_{n-j} with all corrections present."""
    left = rule.left_exact if left is None else left
    right = rule.right_exact if right is None else right
    return max(rule.n_start, len(left) - 1, len(right) - 1, 1)


def rule_moment_polynomial(name, q, left=None, right=None):
    """E_q(n) for n >= n0 as a polynomial in the symbolic n (SymPy expression)."""
    rule = volterra_rule(name)
    left = rule.left_exact if left is None else left
    right = rule.right_exact if right is None else right
    j = sp.Symbol("j", integer=True, nonnegative=True)
    expr = sp.summation(j ** q, (j, 0, _n))
    expr += sum((to_sympy(c) * i ** q for i, c in enumerate(left)), sp.Integer(0))
    expr += sum((to_sympy(c) * (_n - i) ** q for i, c in enumerate(right)), sp.Integer(0))
    return sp.expand(expr - _n ** (q + 1) / (q + 1))


def _regular_rows_match(rule, left, right, n0, upto):
    """The public ``exact_weights`` rows n0..upto are 1 + left_j + right_{n-j} (the formula used)."""
    rows = rule.exact_weights(upto)
    for n in range(n0, upto + 1):
        for jj in range(n + 1):
            w = Fraction(1)
            if jj < len(left):
                w += left[jj]
            if n - jj < len(right):
                w += right[n - jj]
            if rows[n][jj] != w:
                return False
    return True


def check_rule_exactness(name, degree=None, left=None, right=None):
    r"""Proof that every row n >= 1 of rule ``name`` integrates polynomials of degree <= p exactly.

    * rows 1 <= n < n0: enumerated in Fractions;
    * rows n >= n0: E_q(n) ≡ 0 as a polynomial in symbolic n, q = 0..p;
    * the rows n0 .. n0 + 2 n0 of ``exact_weights`` equal the formula 1 + left_j + right_{n-j}.

    Parameters
    ----------
    name : str
    degree : int, optional
        p (default ``rule.degree``); ``degree + 1`` is the sharpness claim, which fails.
    left, right : tuple of Fraction, optional
        Replace the rule's end corrections (a broken variant).

    Examples
    --------
    >>> check_rule_exactness("trapezoid")
    True
    >>> check_rule_exactness("trapezoid", degree=2)
    False
    """
    check_sizes(0, degree=degree)
    rule = volterra_rule(name)
    degree = rule.degree if degree is None else degree
    left = rule.left_exact if left is None else tuple(left)
    right = rule.right_exact if right is None else tuple(right)
    n0 = first_regular_row(rule, left, right)
    if n0 > 1 and not check_rule_rows(name, n0 - 1, degree):
        return False
    if not all(rule_moment_polynomial(name, q, left, right) == 0 for q in range(degree + 1)):
        return False
    if (left, right) == (rule.left_exact, rule.right_exact):
        return _regular_rows_match(rule, left, right, n0, 3 * n0)
    return True


def check_rule_sharpness(name, degree=None):
    r"""p is the exact degree of the rule: every row n >= 1 integrates polynomials of degree
    <= p exactly (:func:`check_rule_exactness`) and degree p + 1 fails on *every* row.

    For p + 1: rows n < n0 are enumerated; for n >= n0, E_{p+1}(n) is a non-zero polynomial
    whose integer roots all lie below n0 (found exactly by ``sympy.roots``).

    Examples
    --------
    >>> check_rule_sharpness("gregory6")
    True
    >>> check_rule_sharpness("gregory6", degree=4)
    False
    >>> check_rule_sharpness("trapezoid", degree=100)    # 101 fails, but so does 2
    False
    """
    check_sizes(0, degree=degree)
    rule = volterra_rule(name)
    degree = rule.degree if degree is None else degree
    if not check_rule_exactness(name, degree):
        return False
    q = degree + 1
    n0 = first_regular_row(rule)
    rows = rule.exact_weights(max(n0 - 1, rule.min_steps))
    if any(row_moment_error(rows[n], n, q) == 0 for n in range(1, n0)):
        return False
    poly = rule_moment_polynomial(name, q)
    if poly == 0:
        return False
    roots = sp.roots(sp.Poly(poly, _n))
    integer_roots = [r for r in roots if r.is_integer]
    return all(r < n0 for r in integer_roots)


# --------------------------------------------------------------------- Runge-Kutta

def _partitions(total, max_part=None):
    """Integer partitions of ``total`` as non-increasing tuples."""
    max_part = total if max_part is None else max_part
    if total == 0:
        yield ()
        return
    for first in range(min(total, max_part), 0, -1):
        for rest in _partitions(total - first, first):
            yield (first,) + rest


@lru_cache(maxsize=None)
def rooted_trees(order):
    """All rooted trees with ``order`` vertices; a tree is the sorted tuple of its subtrees.

    Examples
    --------
    >>> [len(rooted_trees(p)) for p in range(1, 6)]
    [1, 1, 2, 4, 9]
    """
    if order == 1:
        return ((),)
    trees = set()
    for parts in _partitions(order - 1):
        choices = [()]
        for size in parts:
            choices = [c + (t,) for c in choices for t in rooted_trees(size)]
        trees.update(tuple(sorted(c)) for c in choices)
    return tuple(sorted(trees))


def tree_order(tree):
    """|t|: the number of vertices."""
    return 1 + sum(tree_order(u) for u in tree)


def tree_density(tree):
    """γ(t) = |t| Π γ(subtrees)."""
    gamma = tree_order(tree)
    for u in tree:
        gamma *= tree_density(u)
    return gamma


def _stage_weight(tree, A):
    g = sp.ones(A.shape[0], 1)
    for u in tree:
        g = g.multiply_elementwise(A * _stage_weight(u, A))
    return g


def elementary_weight(tree, A, b):
    """Φ(t) = b^T g(t), g(•) = 1, g([t_1..t_m]) = Π_l (A g(t_l)) entrywise."""
    return (b.T * _stage_weight(tree, A))[0, 0]


def _as_tableau(tableau):
    c, A, b = classical_rk4().exact if tableau is None else tableau
    c = sp.Matrix([to_sympy(x) for x in c])
    A = sp.Matrix([[to_sympy(x) for x in row] for row in A])
    b = sp.Matrix([to_sympy(x) for x in b])
    return c, A, b


def check_rk_order_conditions(tableau=None, order=4):
    r"""Σ_j a_ij = c_i and Φ(t) = 1/γ(t) for every rooted tree with |t| <= order, exactly.

    Default: the exact classical RK4 tableau of the package ("rk4"), order 4 (8 trees).

    Examples
    --------
    >>> check_rk_order_conditions()
    True
    >>> check_rk_order_conditions(order=5)
    False
    """
    check_sizes(order=order)
    c, A, b = _as_tableau(tableau)
    if not all_zero(A * sp.ones(A.shape[0], 1) - c):
        return False
    return all(is_zero(elementary_weight(t, A, b) - sp.Rational(1, tree_density(t)))
               for p in range(1, order + 1) for t in rooted_trees(p))


def check_rk_order_sharp(tableau=None, order=4):
    """Some order condition of order ``order + 1`` fails: the order is exactly ``order``."""
    check_sizes(order=order)
    c, A, b = _as_tableau(tableau)
    return any(not is_zero(elementary_weight(t, A, b) - sp.Rational(1, tree_density(t)))
               for t in rooted_trees(order + 1))


# --------------------------------------------------------------------- collocation

_x = sp.Symbol("x")


def collocation_polynomial(kind, m):
    """Exact nodal polynomial: P_m(2x-1) (Gauss) or P_m(2x-1) - P_{m-1}(2x-1) (Radau IIA)."""
    p = sp.legendre(m, 2 * _x - 1)
    if kind == "radau":
        p -= sp.legendre(m - 1, 2 * _x - 1)
    elif kind != "gauss":
        raise ValueError(f"kind must be 'gauss' or 'radau', got {kind!r}")
    return sp.Poly(sp.expand(p), _x)


def _superconvergence_order(kind, m):
    return 2 * m if kind == "gauss" else 2 * m - 1


@lru_cache(maxsize=None)
def exact_collocation_tableau(kind, m):
    """(c, A, b) in radicals from the exact nodal polynomial (Gauss m <= 4, Radau m <= 3).

    Radau IIA m = 4 has an irreducible cubic with three real roots (casus irreducibilis),
    whose radicals are complex; it is covered by :func:`check_collocation_quadrature_order`
    in exact rationals instead.
    """
    poly = collocation_polynomial(kind, m)
    c = []
    for factor, _ in sp.factor_list(poly)[1]:
        if factor.degree() > 2 and not (kind == "gauss" and m == 4):
            raise NotImplementedError(f"no real radical form for the {kind} points, m = {m}")
        roots = sp.roots(factor)
        if sum(roots.values()) != factor.degree():
            raise NotImplementedError(f"SymPy found no radicals for the {kind} points, m = {m}")
        c.extend(roots)
    c = sorted(c, key=lambda r: sp.N(r, 50))
    basis = []
    for j in range(m):
        L = sp.Integer(1)
        for i in range(m):
            if i != j:
                L *= (_x - c[i]) / (c[j] - c[i])
        basis.append(sp.expand(L))
    # rationalised denominators: entries in the canonical form  r0 + r1 sqrt(q) + ...
    canon = lambda e: sp.expand(sp.radsimp(sp.expand(e)))
    A = [[canon(sp.integrate(basis[j], (_x, 0, c[i]))) for j in range(m)] for i in range(m)]
    b = [canon(sp.integrate(basis[j], (_x, 0, 1))) for j in range(m)]
    return tuple(c), tuple(tuple(row) for row in A), tuple(b)


def check_collocation_conditions(kind, m, tableau=None, order=None):
    r"""C(m) and B(2m) (Gauss) / B(2m-1) (Radau IIA) for the exact radical tableau.

    Zero tests of algebraic numbers are exact (minimal polynomial). ``tableau``
    replaces the exact (c, A, b); ``order`` replaces the claimed B-order (a broken
    variant: one more than the true order fails).

    Examples
    --------
    >>> check_collocation_conditions("gauss", 2)
    True
    >>> check_collocation_conditions("gauss", 2, order=5)
    False
    """
    check_sizes(m=m, order=order)
    if tableau is None:
        c, A, b = exact_collocation_tableau(kind, m)
    else:   # exact numbers only (floats refused, text read as a Fraction)
        c, A, b = tableau
        c = [to_sympy(x) for x in c]
        A = [[to_sympy(x) for x in row] for row in A]
        b = [to_sympy(x) for x in b]
    order = _superconvergence_order(kind, m) if order is None else order
    for q in range(1, m + 1):
        for i in range(m):
            if not is_zero(sum(A[i][j] * c[j] ** (q - 1) for j in range(m)) - c[i] ** q / q,
                           algebraic=True):
                return False
    return all(is_zero(sum(b[j] * c[j] ** (q - 1) for j in range(m)) - sp.Rational(1, q),
                       algebraic=True) for q in range(1, order + 1))


def check_collocation_quadrature_order(kind, m, poly=None, order=None):
    r"""B(r) holds and B(r + 1) fails, in exact rationals, for any m.

    The nodes are the roots of the nodal polynomial p (monic after scaling). If p is
    square-free with m roots in [0, 1] (Sturm count), the interpolant of x^{q-1} on
    the nodes is the remainder rem(x^{q-1}, p), so

        Σ_j b_j c_j^{q-1} = ∫_0^1 rem(x^{q-1}, p) dx,

    a rational number: B(q) is the exact equality with 1/q. ``poly`` replaces p and
    ``order`` the claimed r (broken variants).

    Examples
    --------
    >>> check_collocation_quadrature_order("radau", 4)
    True
    >>> check_collocation_quadrature_order("radau", 4, order=8)
    False
    """
    check_sizes(m=m, order=order)
    if poly is None:
        p = collocation_polynomial(kind, m)
    else:
        if not isinstance(poly, (sp.Expr, sp.Poly)):
            raise TypeError(f"poly must be a SymPy expression or Poly in x, got "
                            f"{type(poly).__name__} (text is not parsed here)")
        p = sp.Poly(poly, _x)
        if not p.domain.is_Exact or p.as_expr().atoms(sp.Float):
            raise TypeError(f"poly must have exact coefficients, got {poly}")
    order = _superconvergence_order(kind, m) if order is None else order
    if p.degree() != m or sp.gcd(p, p.diff(_x)).degree() != 0 or p.count_roots(0, 1) != m:
        return False

    def moment(q):
        r = sp.rem(sp.Poly(_x ** (q - 1), _x), p)
        return sp.integrate(r.as_expr(), (_x, 0, 1))

    holds = all(moment(q) == sp.Rational(1, q) for q in range(1, order + 1))
    return holds and moment(order + 1) != sp.Rational(1, order + 1)


def check_collocation_floats(kind, m, tol=None, tol_mp=1e-40):
    r"""The package's tableau equals the exact radical one: each float entry is the exact value
    correctly rounded (within half an ulp), each 50-digit mpmath entry within 1e-40 of it.

    The float tableau is rounded once from a 50-digit computation, so each entry is the
    nearest double to the exact value (measured: at most 0.49 ulp for gauss m = 1..4 and radau
    m = 1..3).  The bound was 1e-15 absolute, about 9 ulp of an entry near 1/2, so an entry
    several ulp off (wrong last digits of a constant) passed.  ``tol`` (a float >= 0), if
    given, replaces half an ulp by that absolute bound.
    """
    check_sizes(m=m)
    for name, value in (("tol", tol), ("tol_mp", tol_mp)):   # a NaN compared false: all passed
        if name == "tol" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not 0.0 <= value < math.inf:
            raise ValueError(f"{name} must be a finite float >= 0, got {value!r}")
    c, A, b = exact_collocation_tableau(kind, m)
    tab = collocation_tableau(kind, m)
    c_mp, A_mp, b_mp = tab.exact
    pairs = [(tab.c[i], c_mp[i], c[i]) for i in range(m)]
    pairs += [(tab.b[j], b_mp[j], b[j]) for j in range(m)]
    pairs += [(tab.A[i, j], A_mp[i][j], A[i][j]) for i in range(m) for j in range(m)]
    for flt, mp, exact in pairs:
        value = sp.N(exact, 60)
        flt = float(flt)
        if tol is not None:
            bound = sp.Rational(tol)
        else:   # half the gap to the next double on the exact value's side: correct rounding
            side = math.nextafter(flt, math.inf if value > flt else -math.inf)
            bound = abs(sp.Rational(side) - sp.Rational(flt)) / 2
        if abs(sp.Rational(flt) - value) > bound:
            return False
        if abs(sp.Float(mpmath.nstr(mp, 60), 60) - value) > tol_mp:
            return False
    return True
