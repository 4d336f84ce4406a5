"""Small SymPy helpers shared by the symbolic checks: symbol factories and exact zero tests.

Everything here is exact: a check *holds* when SymPy reduces a difference to the
number 0 (after expansion, cancellation or, for algebraic numbers, the minimal
polynomial), never when a float is small.
"""
from __future__ import annotations

import numbers
from fractions import Fraction

import sympy as sp

__all__ = ["vector_symbols", "matrix_symbols", "is_zero", "all_zero", "to_sympy", "check_sizes",
           "forward_difference", "Sigma", "DSigma", "D2Sigma", "Reciprocal",
           "inverse_times"]


def check_sizes(minimum=1, **sizes):
    """Refuse a size that is not an integer >= ``minimum`` (None passes: a default), naming
    it.  A check over an empty range (no steps, width 0, order 0, a negative degree) holds
    vacuously: it would report an identity as proved that it never looked at."""
    for name, value in sizes.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")


def check_weight_rows(weights, n_steps):
    """Refuse ``weights`` that are not the rows 0 .. ``n_steps`` of a rule, row n with at least
    n + 1 entries w_n0 ... w_nn (a short list was a bare ``IndexError`` inside a check)."""
    try:
        rows = [len(weights[n]) for n in range(min(len(weights), n_steps + 1))]
    except TypeError:
        raise ValueError("weights must be a list of rows of numbers (w_n0 ... w_nn each), "
                         f"got {type(weights).__name__}") from None
    if len(rows) < n_steps + 1:
        raise ValueError(f"weights must have the rows 0 .. {n_steps} ({n_steps + 1} rows), got "
                         f"{len(rows)}")
    for n, size in enumerate(rows):
        if size < n + 1:
            raise ValueError(f"row {n} of weights must have {n + 1} entries (w_{n}0 ... "
                             f"w_{n}{n}), got {size}")


def vector_symbols(name, d, **assumptions):
    """Column vector (d x 1) of fresh symbols ``name_0 ... name_{d-1}``."""
    return sp.Matrix([sp.Symbol(f"{name}_{r}", **assumptions) for r in range(d)])


def matrix_symbols(name, rows, cols, **assumptions):
    """Matrix (rows x cols) of fresh symbols ``name_{r}{c}``."""
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r}{c}", **assumptions))


def to_sympy(value):
    """Exact SymPy number from an int, a Fraction, the text of a rational number (read by
    :class:`fractions.Fraction`, never evaluated) or an exact SymPy expression.

    Floats of every kind (Python, NumPy, ``Decimal``, ``sympy.Float`` inside an expression)
    are refused: a check on them would compare rounded values, and could pass where the
    numbers they stand for do not satisfy the identity.
    """
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        raise TypeError(f"to_sympy needs an exact number (int, Fraction, SymPy), got {value!r}")
    if isinstance(value, numbers.Integral):
        return sp.Integer(int(value))
    if isinstance(value, str):
        try:
            exact = Fraction(value)
        except ValueError:
            raise ValueError(f"{value!r} is not the text of a rational number (such as '1/3' or "
                             f"'0.25'); give other exact numbers as SymPy expressions") from None
        return sp.Rational(exact.numerator, exact.denominator)
    if isinstance(value, sp.Expr):
        if value.atoms(sp.Float):
            raise TypeError(f"to_sympy needs an exact number; {value} contains floating-point "
                            f"numbers (use sympy.Rational or Fraction)")
        return value
    raise TypeError(f"to_sympy needs an exact number (int, Fraction, SymPy), got "
                    f"{type(value).__name__} {value!r}")


def _canonical_atoms(expr):
    """Expand the argument of every generic-function value (innermost first)."""
    def canon(e):
        if isinstance(e, _OPAQUE):
            return e.func(sp.expand(e.args[0]))
        return e
    return sp.bottom_up(expr, canon)


def _clear_reciprocals(expr):
    """P(q_1, ..., q_r) with q_i = Reciprocal(D_i) -> Σ_α c_α Π_i D_i^{E_i - α_i} (a polynomial).

    The result is zero iff ``expr`` is zero as a rational function (E_i = deg_{q_i} P).
    """
    recips = sorted(expr.atoms(Reciprocal), key=sp.default_sort_key)
    if not recips:
        return expr
    qs = [sp.Dummy(f"q{i}") for i in range(len(recips))]
    P = sp.Poly(expr.xreplace(dict(zip(recips, qs))), *qs)
    top = [P.degree(q) for q in qs]
    total = sp.Integer(0)
    for powers, coeff in P.terms():
        term = coeff
        for r, e_max, e in zip(recips, top, powers):
            term *= r.args[0] ** (e_max - e)
        total += term
    return total


def is_zero(expr, algebraic=False):
    """True if ``expr`` is *exactly* zero.

    Without ``algebraic``: the values of the generic functions (:class:`Sigma`,
    :class:`DSigma`, :class:`D2Sigma`, with expanded arguments) become indeterminates,
    :class:`Reciprocal` atoms are cleared, and the numerator over a common denominator
    must be the zero polynomial in its generators. Values of an undefined function
    at distinct arguments are algebraically independent, so for the expressions of
    this package a non-zero polynomial means a non-zero expression.

    With ``algebraic=True`` (numbers with radicals), a number that does not expand to
    0 is decided by its minimal polynomial, which is ``x`` iff the number is 0.
    """
    if not isinstance(expr, (sp.Basic, sp.MatrixBase, numbers.Number)):
        # (text, also inside a list or tuple, which sympify would parse and run)
        raise TypeError(f"is_zero needs a SymPy expression or a number, not "
                        f"{type(expr).__name__}")
    expr = sp.sympify(expr)
    if isinstance(expr, sp.Basic) and expr.atoms(sp.Float):
        raise TypeError(f"an exact zero test needs exact numbers; {expr} contains "
                        f"floating-point numbers")
    if expr == 0:
        return True
    if algebraic:
        reduced = sp.expand(sp.radsimp(sp.expand(expr)))
        if reduced == 0:
            return True
        x = sp.Dummy("x")
        return sp.minimal_polynomial(reduced, x) == x
    if expr.has(*_OPAQUE):
        expr = _canonical_atoms(expr)
        opaque = {a: sp.Dummy() for a in expr.atoms(Sigma, DSigma, D2Sigma)}
        expr = _clear_reciprocals(expr.xreplace(opaque))
    try:
        poly = sp.Poly(expr)
        if not any(g.is_Pow and not (g.exp.is_Integer and g.exp > 0) for g in poly.gens):
            return poly.is_zero  # a polynomial in independent generators
    except sp.GeneratorsNeeded:  # a constant
        return sp.expand(expr) == 0
    except sp.PolynomialError:
        pass
    num, _ = sp.fraction(sp.together(expr))
    try:
        return sp.Poly(num).is_zero
    except sp.GeneratorsNeeded:
        return sp.expand(num) == 0


def all_zero(exprs, algebraic=False):
    """True if every entry of ``exprs`` (an iterable or a Matrix) is exactly zero."""
    return all(is_zero(e, algebraic=algebraic) for e in exprs)


def forward_difference(seq, order, n):
    """Δ^order seq_n = Σ_{r=0}^{order} (-1)^{order-r} C(order, r) seq_{n+r} for a list ``seq``."""
    return sum(((-1) ** (order - r) * sp.binomial(order, r) * seq[n + r]
                for r in range(order + 1)), sp.zeros(*seq[n].shape) if hasattr(seq[n], "shape")
               else sp.Integer(0))


class Sigma(sp.Function):
    """A generic smooth activation σ (undefined), whose derivative is :class:`DSigma`.

    Using explicit classes instead of ``sympy.Function('sigma')`` keeps chain-rule
    results free of ``Subs`` objects, so two gradients compare term by term.
    """

    def fdiff(self, argindex=1):
        return DSigma(self.args[0])


class DSigma(sp.Function):
    """σ' of :class:`Sigma` (itself generic; its derivative is :class:`D2Sigma`)."""

    def fdiff(self, argindex=1):
        return D2Sigma(self.args[0])


class D2Sigma(sp.Function):
    """σ'' of :class:`Sigma` (generic)."""


class Reciprocal(sp.Function):
    """1/D kept as an opaque atom, with d(1/D) = -(1/D)^2 dD.

    Exact inverses written as adj(M) Reciprocal(det M) keep rational expressions
    polynomial in a few atoms; :func:`is_zero` clears them exactly.
    """

    nargs = 1

    def fdiff(self, argindex=1):
        return -Reciprocal(self.args[0]) ** 2


def inverse_times(M, rhs):
    """M^{-1} rhs written as adj(M) rhs · Reciprocal(det M) (det expanded)."""
    return (M.adjugate() * rhs) * Reciprocal(sp.expand(M.det()))


_OPAQUE = (Sigma, DSigma, D2Sigma, Reciprocal)
