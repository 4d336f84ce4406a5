"""Butcher tableaux for the Volterra Runge-Kutta family, built in exact or high precision.

A Pouzet-type Volterra Runge-Kutta method is fixed by a tableau (c, A, b); the
collocation methods are the tableaux a_ij = int_0^{c_i} L_j, b_j = int_0^1 L_j
(L_j the Lagrange basis on the collocation points c), whose iterated values at
the mesh points are superconvergent (Gauss: 2m, Radau IIA: 2m - 1).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property, lru_cache

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

    def stability(self, z):
        r"""The stability function R(z) = 1 + z b^T (I - z A)^{-1} 1 at the complex array
        ``z``: y_{n+1} = R(h lambda) y_n on y' = lambda y.

        Evaluated as det(I - z (A - 1 b^T)) / det(I - z A), whose polynomial coefficients
        (degree at most m) are made once by :func:`_det_polynomial`, so that many z cost two
        polynomial evaluations each.
        """
        coefficients = self.__dict__.get("_stability_polynomials")
        if coefficients is None:
            coefficients = (_det_polynomial(self.A - np.outer(np.ones(self.stages), self.b)),
                            _det_polynomial(self.A))
            object.__setattr__(self, "_stability_polynomials", coefficients)
        z = np.asarray(z, dtype=complex)
        return np.polyval(coefficients[0], z) / np.polyval(coefficients[1], z)

    @cached_property
    def stability_limit(self):
        """S: the length of the interval [-S, 0] of the real axis on which |R(z)| <= 1, to
        1e-3 (:meth:`stability`; classical RK4: 2.785); a step of h stays stable on a mode
        decaying at the rate rho while h rho <= S (RK4's region also reaches 2.83 along the
        imaginary axis).  Computed once per tableau (32000 values of R for 4 stages, ~1 ms:
        the controlled passes of an explicit method read it at every solve)."""
        x = np.linspace(0.0, 8.0 * self.stages, 8000 * self.stages + 1)
        over = np.nonzero(np.abs(self.stability(-x)) > 1.0 + 1e-12)[0]
        over = over[over > 0]
        return float(x[over[0] - 1]) if len(over) else float(x[-1])

    @cached_property
    def fold(self):
        """F: the stage equations of a step of h from y0 > 0 on the model blow-up y' = y^2
        (pole at 1 / y0), Z = y0 + h A Z^2, have a root on the branch from Z = y0 while
        h y0 < F (to 1e-9; implicit Euler 1/4, the midpoint rule 1/2, radau3 0.739, gauss2
        0.75): beyond it the branch folds back, and no Newton iteration finds a root.  A step
        is then limited to F / y0 = 2 F / lam, lam = 2 y0 the linearised problem's growth
        rate.  Followed from h = 0 by continuation in h y0 (Newton from the last root, the
        step halved where Newton fails or det(I - 2 h A diag Z) changes sign); inf for an
        explicit tableau (no stage equations)."""
        if self.explicit:
            return math.inf
        A, m = np.asarray(self.A, dtype=float), self.stages
        h, dh, z = 0.0, 0.0625, np.ones(m)
        while dh > 1e-9:
            root = _model_root(A, h + dh, z)
            if root is None:
                dh /= 2.0
            else:
                h, z = h + dh, root
        return h


def _model_root(A, h, z, iterations=40):
    """The root of Z - 1 - h A Z^2 (:attr:`ButcherTableau.fold`, y0 = 1) by Newton from ``z``,
    or None where Newton does not converge or the root is past the fold (det(I - 2 h A diag Z)
    not positive: the other branch)."""
    eye = np.eye(len(z))
    for _ in range(iterations):
        J = eye - 2.0 * h * A * z[None, :]
        if not np.linalg.det(J) > 0.0:
            return None
        dz = np.linalg.solve(J, z - 1.0 - h * A @ (z * z))
        z = z - dz
        if not np.all(np.isfinite(z)):
            return None
        if np.max(np.abs(dz)) <= 1e-13 * np.max(np.abs(z)):
            return z
    return None


def _det_polynomial(M):
    """The coefficients of det(I - z M), highest power first (for ``np.polyval``): those of
    the characteristic polynomial det(x I - M) = x^m + c_{m-1} x^{m-1} + ... + c_0 in the
    reverse order, by the Faddeev-LeVerrier recurrence (traces of products: an explicit
    tableau's strictly lower triangular A gives exact zeros, which the powers of a large |z|
    would amplify)."""
    m = M.shape[0]
    coefficients = [1.0]                  # c_m, c_{m-1}, ..., c_0
    P = np.zeros_like(M)
    for k in range(1, m + 1):
        P = M @ P + coefficients[-1] * np.eye(m)
        coefficients.append(-float(np.trace(M @ P)) / k)
    return np.array(coefficients[::-1])


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
