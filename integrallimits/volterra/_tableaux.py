"""Butcher tableaux for the Volterra Runge-Kutta family, built in exact or high precision.

A Pouzet-type Volterra Runge-Kutta method is fixed by a tableau (c, A, b); the
collocation methods are the tableaux a_ij = int_0^{c_i} L_j, b_j = int_0^1 L_j
(L_j the Lagrange basis on the collocation points c), whose iterated values at
the mesh points are superconvergent (Gauss: 2m, Radau IIA: 2m - 1).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..quadrature._exact import read_only

__all__ = ["ButcherTableau", "classical_rk4", "collocation_tableau"]


@dataclass(frozen=True)
class ButcherTableau:
    """c, A, b as read-only float arrays, checked for consistency when built.

    ``exact`` keeps the exact (Fraction) or high-precision (mpmath) entries that
    the floats were rounded from.
    """

    c: np.ndarray
    A: np.ndarray
    b: np.ndarray
    exact: tuple = field(repr=False, compare=False, default=None)

    def __post_init__(self):
        c, A, b = (read_only(np.array(x, dtype=float)) for x in (self.c, self.A, self.b))
        m = c.shape[0]
        if A.shape != (m, m) or b.shape != (m,):
            raise ValueError(f"inconsistent tableau shapes c {c.shape}, A {A.shape}, b {b.shape}")
        if abs(b.sum() - 1.0) > 1e-14 or np.max(np.abs(A.sum(axis=1) - c)) > 1e-14:
            raise ValueError("tableau violates sum(b) = 1 or sum_j a_ij = c_i")
        object.__setattr__(self, "c", c)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "_explicit", bool(np.all(np.triu(A) == 0.0)))

    @property
    def stages(self):
        return self.c.shape[0]

    @property
    def explicit(self):
        """True if A is strictly lower triangular (decided once: A is read-only)."""
        return self._explicit


@lru_cache(maxsize=None)
def classical_rk4():
    """The classical fourth-order tableau (exact rationals)."""
    F = Fraction
    c = (F(0), F(1, 2), F(1, 2), F(1))
    A = ((F(0),) * 4, (F(1, 2), F(0), F(0), F(0)), (F(0), F(1, 2), F(0), F(0)),
         (F(0), F(0), F(1), F(0)))
    b = (F(1, 6), F(1, 3), F(1, 3), F(1, 6))
    return ButcherTableau(c, A, b, exact=(c, A, b))


def _legendre_shifted(m):
    """Ascending mpmath coefficients of P_m(2x - 1)."""
    import mpmath
    # P_m(2x-1) = sum_k (-1)^(m+k) C(m,k) C(m+k,k) x^k
    return [(-1) ** (m + k) * mpmath.binomial(m, k) * mpmath.binomial(m + k, k) for k in range(m + 1)]


@lru_cache(maxsize=None)
def collocation_tableau(points, m):
    """Collocation tableau with m Gauss-Legendre ("gauss") or Radau IIA ("radau") points.

    Computed with 50-digit mpmath arithmetic and rounded once.
    """
    import mpmath   # here, not at import: the tableaux are built on first use
    with mpmath.workdps(50):
        if points == "gauss":
            poly = _legendre_shifted(m)
        elif points == "radau":
            # Radau IIA: zeros of P_m(2x-1) - P_{m-1}(2x-1) (c_m = 1)
            p1, p0 = _legendre_shifted(m), _legendre_shifted(m - 1) + [0]
            poly = [a - b for a, b in zip(p1, p0)]
        else:
            raise ValueError(f"unknown collocation points {points!r}")
        if m == 1:
            roots = [-poly[0] / poly[1]]
        else:
            roots = mpmath.polyroots(poly[::-1], maxsteps=200, extraprec=200)
        c = sorted(mpmath.re(r) for r in roots)
        if points == "radau":
            c[-1] = mpmath.mpf(1)

        def basis_integral(j, upper):
            # integral_0^upper of L_j, L_j the Lagrange basis on c
            coeffs = [mpmath.mpf(1)]
            denom = mpmath.mpf(1)
            for i, ci in enumerate(c):
                if i != j:
                    coeffs = [mpmath.mpf(0)] + coeffs
                    for k in range(len(coeffs) - 1):
                        coeffs[k] -= ci * coeffs[k + 1]
                    denom *= c[j] - ci
            return sum(a * upper ** (k + 1) / (k + 1) for k, a in enumerate(coeffs)) / denom

        A = [[basis_integral(j, c[i]) for j in range(m)] for i in range(m)]
        b = [basis_integral(j, mpmath.mpf(1)) for j in range(m)]
        cf = [float(x) for x in c]
        Af = [[float(x) for x in row] for row in A]
        bf = [float(x) for x in b]
    return ButcherTableau(cf, Af, bf, exact=(tuple(c), tuple(map(tuple, A)), tuple(b)))
