"""Volterra quadrature rules: lower-triangular weights for the integrals over [0, t_n].

A Volterra rule on the uniform mesh t_n = n h approximates

    int_0^{t_n} f(s) ds  ~  h * sum_{j <= n} w_{nj} f(t_j),      n = 1, 2, ...

The rules of this module are stored as *data*, built once in exact rational
arithmetic:

* a starting block ``start`` (S x S): for 1 <= n < S the row n uses the nodes
  t_0 ... t_{S-1} (the first rows may reach past t_n, which makes the first S-1
  steps one coupled system);
* for n >= S, unit weights plus fixed end corrections,
  ``w_nj = 1 + left[j] + right[n - j]`` (a correction is zero past its length;
  where the two ends overlap both corrections apply).

This is the form the solvers and the fast convolution history use: the interior
weights are all one, only O(p) weights per row differ.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ._exact import (binomial_difference, gregory_coefficients, lagrange_basis,
                     poly_integral, read_only)

__all__ = ["VolterraRule", "volterra_rule", "VOLTERRA_RULES", "partial_step_weights"]


@dataclass(frozen=True)
class VolterraRule:
    """A Volterra (lower-triangular) quadrature rule on a uniform mesh.

    Attributes
    ----------
    name : str
    order : int
        Convergence order of the rule (and of the direct quadrature method built
        on it) for smooth integrands.
    degree : int
        Degree of polynomial exactness of every row n >= 1 (``order - 1``).
    start_exact, left_exact, right_exact : tuple
        The exact rational data (see the module docstring).
    start, left, right : ndarray
        The same as read-only float arrays.
    """

    name: str
    order: int
    degree: int
    start_exact: tuple
    left_exact: tuple
    right_exact: tuple
    start: np.ndarray = field(init=False, repr=False, compare=False)
    left: np.ndarray = field(init=False, repr=False, compare=False)
    right: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        to_float = lambda rows: read_only(np.array(rows, dtype=float).reshape(
            len(rows), -1) if rows and isinstance(rows[0], tuple) else np.array(rows, dtype=float))
        object.__setattr__(self, "start", to_float(self.start_exact))
        object.__setattr__(self, "left", to_float(self.left_exact))
        object.__setattr__(self, "right", to_float(self.right_exact))

    @property
    def n_start(self):
        """S: rows n < S come from the starting block (1 for rules without one)."""
        return len(self.start_exact)

    @property
    def min_steps(self):
        """Smallest number of steps N the rule is defined for."""
        return max(1, self.n_start - 1)

    @property
    def implicit(self):
        """True if some diagonal weight w_nn is non-zero (an implicit method)."""
        return self.diagonal_exact(max(self.n_start, len(self.left_exact)) + 1) != 0 or any(
            self.start_exact[n][n] != 0 for n in range(1, self.n_start))

    def diagonal_exact(self, n):
        """w_nn for n >= S."""
        return self.weight_exact(n, n)

    def weight_exact(self, n, j):
        """The exact weight w_nj (0 <= j <= n)."""
        if not 0 <= j <= n:
            raise ValueError(f"need 0 <= j <= n, got n={n}, j={j}")
        if n < self.n_start:
            return self.start_exact[n][j] if n > 0 else Fraction(0)
        w = Fraction(1)
        if j < len(self.left_exact):
            w += self.left_exact[j]
        if n - j < len(self.right_exact):
            w += self.right_exact[n - j]
        return w

    def exact_weights(self, n_steps):
        """Rows 0..N of the rule as lists of Fractions; rows n < S have S entries."""
        self._check_steps(n_steps)
        rows = []
        for n in range(n_steps + 1):
            width = max(n + 1, self.n_start) if n < self.n_start else n + 1
            rows.append([self.weight_exact(n, j) if j <= n else self.start_exact[n][j]
                         for j in range(width)])
        return rows

    def weights(self, n_steps):
        """Dense (N+1, max(N+1, S)) float array of the weights (row n integrates over [0, t_n]).

        Rows of the starting block may have entries right of the diagonal.
        """
        rows = self.exact_weights(n_steps)
        out = np.zeros((n_steps + 1, max(n_steps + 1, self.n_start)))
        for n, row in enumerate(rows):
            out[n, :len(row)] = [float(w) for w in row]
        return read_only(out)

    def _check_steps(self, n_steps):
        if int(n_steps) != n_steps or n_steps < self.min_steps:
            raise ValueError(f"rule {self.name!r} needs n_steps >= {self.min_steps}, got {n_steps}")


def _starting_block(p):
    """Rows n = 0..p-1 of int_0^n l_j(x) dx, l_j the Lagrange basis on 0..p-1."""
    basis = lagrange_basis(range(p))
    return tuple(tuple(poly_integral(basis[j], 0, n) for j in range(p)) for n in range(p))


def _gregory(p):
    """Gregory rule of (even) order p: trapezoid minus q = p - 2 end corrections."""
    q = p - 2
    left = [Fraction(0)] * (q + 1)
    left[0] -= Fraction(1, 2)
    for k, gamma in enumerate(gregory_coefficients(q), start=1):
        for i, c in enumerate(binomial_difference(k)):
            left[i] -= gamma * c
    # The right corrections mirror the left ones: -gamma_k (nabla^k f_n + (-1)^k Delta^k f_0).
    return VolterraRule(f"gregory{p}", p, p - 1, _starting_block(p), tuple(left), tuple(left))


@lru_cache(maxsize=None)
def volterra_rule(name: str) -> VolterraRule:
    """Return the (cached) :class:`VolterraRule` called ``name``.

    Raises
    ------
    ValueError
        For an unknown name (the message lists :data:`VOLTERRA_RULES`).

    See Also
    --------
    interval_rule : rules on an interval (Gauss, Clenshaw--Curtis, composite).
    integrallimits.METHODS : the solvers built on these rules.

    Examples
    --------
    >>> rule = volterra_rule("gregory4")
    >>> rule.order, rule.degree
    (4, 3)
    >>> [str(w) for w in rule.exact_weights(6)[6]]
    ['3/8', '7/6', '23/24', '1', '23/24', '7/6', '3/8']
    """
    one = (Fraction(0),)
    builders = {
        "rectangle": lambda: VolterraRule("rectangle", 1, 0, (one,), (), (Fraction(-1),)),
        "implicit-rectangle": lambda: VolterraRule("implicit-rectangle", 1, 0, (one,),
                                                   (Fraction(-1),), ()),
        "trapezoid": lambda: VolterraRule("trapezoid", 2, 1, (one,), (Fraction(-1, 2),),
                                          (Fraction(-1, 2),)),
        "gregory4": lambda: _gregory(4),
        "gregory6": lambda: _gregory(6),
        "gregory8": lambda: _gregory(8),
    }
    if name not in builders:
        raise ValueError(f"unknown Volterra rule {name!r}; known rules: {', '.join(builders)}")
    return builders[name]()


#: Names of the Volterra rules, in order of increasing order.
VOLTERRA_RULES = ("rectangle", "implicit-rectangle", "trapezoid", "gregory4", "gregory6", "gregory8")


@lru_cache(maxsize=None)
def partial_step_weights(n_nodes, first):
    """The weights of a partial step, exact: int_0^theta f(u) du ~ sum_i a_i(theta) f(first + i)
    (i < ``n_nodes``, nodes at the integers ``first`` ... ``first + n_nodes - 1``), the integral
    of the interpolant, exact for polynomials of degree < ``n_nodes``.

    a_i(theta) = sum_k c_ik theta^(k+1); returns the rows (c_i0, c_i1, ...) as Fractions (for
    the dense output of direct quadrature between t_n and t_n+1: theta = (t - t_n) / h, the
    nodes t_(n + first + i)).
    """
    basis = lagrange_basis(range(first, first + n_nodes))
    return tuple(tuple(c / (k + 1) for k, c in enumerate(row)) for row in basis)
