"""Exact rational helpers: polynomials with :class:`fractions.Fraction` coefficients."""
from __future__ import annotations

from fractions import Fraction
from math import comb

__all__ = ["lagrange_basis", "poly_integral", "gregory_coefficients", "read_only"]


def _poly_mul_linear(p, root):
    """Coefficients (ascending) of p(x) * (x - root)."""
    out = [Fraction(0)] * (len(p) + 1)
    for k, c in enumerate(p):
        out[k + 1] += c
        out[k] -= c * root
    return out


def lagrange_basis(nodes):
    """Ascending coefficients of the Lagrange basis polynomials on ``nodes`` (exact)."""
    nodes = [Fraction(x) for x in nodes]
    basis = []
    for j, xj in enumerate(nodes):
        p = [Fraction(1)]
        denom = Fraction(1)
        for i, xi in enumerate(nodes):
            if i != j:
                p = _poly_mul_linear(p, xi)
                denom *= xj - xi
        basis.append([c / denom for c in p])
    return basis


def poly_integral(p, a, b):
    """Exact integral of the polynomial with ascending coefficients ``p`` over [a, b]."""
    a, b = Fraction(a), Fraction(b)
    return sum(c * (b ** (k + 1) - a ** (k + 1)) / (k + 1) for k, c in enumerate(p))


def gregory_coefficients(q):
    """gamma_1..gamma_q of Gregory's end corrections (1/12, 1/24, 19/720, ...).

    They are |G_{k+1}|, G the coefficients of x / log(1 + x) = sum G_k x^k, from
    sum_{k=0}^{n} (-1)^k G_{n-k} / (k + 1) = [n == 0].
    """
    G = [Fraction(1)]
    for n in range(1, q + 2):
        G.append(-sum(Fraction((-1) ** k, k + 1) * G[n - k] for k in range(1, n + 1)))
    return [abs(G[k + 1]) for k in range(1, q + 1)]


def binomial_difference(k):
    """Coefficients of the backward difference nabla^k f_n = sum_i c_i f_{n-i}."""
    return [(-1) ** i * comb(k, i) for i in range(k + 1)]


def read_only(array):
    """Mark a NumPy array read-only and return it."""
    array.setflags(write=False)
    return array
