"""Gauss-type and Clenshaw–Curtis rules for large n: O(n) work (O(n log n) for Clenshaw–Curtis).

The 40-digit constructions of :mod:`._interval` cost O(n^2) (a three-term recurrence per
node).  From ``FAST_MIN_N`` nodes on the rules are built here in float64, within 2 ulp of the
40-digit values (checked against them in the tests; mostly correctly rounded):

* **Gauss–Legendre** (Bogaert, SIAM J. Sci. Comput. 36 (2014) A1008): with nu = 1/(n + 1/2),
  j_k the k-th zero of J_0 and a_k = j_k nu, the k-th node from +1 is cos theta_k with

      theta_k = a_k + F_1(a_k) nu^2 + F_2(a_k) nu^4 + F_3(a_k) nu^6 + O(nu^8),
      w_k     = pi nu sin(a_k) S(j_k) / W(a_k, nu),

  S(j) = 2 / (pi j J_1(j)^2) and W = 1 + W_1 nu^2 + W_2 nu^4 + W_3 nu^6, closed forms in a_k
  and cot a_k.  No iteration and no recurrence: O(1) per node.
* **Gauss–Radau and Gauss–Lobatto**: their free nodes are the zeros of P_{n-1} + P_n and of
  P'_{n-1}.  Newton's method in the angle from the Gatteschi–Pittaluga estimates of the
  Jacobi zeros, with P_m(cos theta) from Stieltjes' expansion

      P_m(cos theta) = C_m sum_k h_{m,k} cos(alpha_{m,k}) / (2 sin theta)^(k + 1/2),
      alpha_{m,k} = (m + k + 1/2) theta - (k + 1/2) pi / 2,
      h_{m,0} = 1, h_{m,k+1} = h_{m,k} (k + 1/2)^2 / ((k + 1)(m + k + 3/2)),
      C_m = 2 Gamma(m + 1) / (sqrt(pi) Gamma(m + 3/2)),

  a few terms in the interior; it diverges near the end points, where 2 m sin theta is
  small.  The nodes there (five or six at each end, whatever n) come from Halley's method
  on the hypergeometric series P_m(1 - 2z) = sum_k (-m)_k (m + 1)_k z^k / k!^2 in
  double-double arithmetic, from Olver's Bessel-zero estimates: the series' length grows
  with the node's index from the end, not with n.

Accuracy: every node is written phi = pi p / den - corr (x = sin phi, theta = pi/2 - phi)
with integers p, den (the estimate's rational part) and a small float correction.  The phases
(m + 1/2) phi are reduced modulo 2 pi exactly on the integers; the nodes, the distances
1 - |x| to the nearer end and the weights are evaluated in double-double arithmetic (with a
double-double sine and cosine; products with one fused multiply-add) and rounded once, so
that only the truncation errors of the expansions (below 2^-60 relative from n = 128 on)
and that rounding remain.  The gaps 1 - |x| let the affine map to [a, b] keep the nodes
near the ends accurate.

* **Clenshaw–Curtis**: w_k = (c_k / N)((pi/2) sin(k pi / N) + T_k), where T_k, the tail of
  the weights' cosine series beyond the nodes' resolution, is one real FFT of aliased tail
  sums (Hurwitz zeta values); unlike the plain inverse DCT of the moments (Waldvogel, BIT 46
  (2006) 195) this keeps the small weights near the ends accurate to the last bit.

The kernels are compiled with Numba on first use (cached on disk); n = 10^5 nodes take a few
tens of milliseconds.
"""
from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .._numba import jit, llvm_fma

__all__ = ["FAST_MIN_N", "gauss_legendre_fast", "gauss_radau_fast", "gauss_lobatto_fast",
           "clenshaw_curtis_fast"]

#: The smallest n built here (below, the 40-digit constructions are exact and cheap enough;
#: Bogaert's expansion needs n of about 100 for its truncation error to stay below an ulp).
FAST_MIN_N = {"gauss-legendre": 128, "gauss-radau": 128, "gauss-lobatto": 128,
              "clenshaw-curtis": 128}


@lru_cache(maxsize=None)
def _mp():
    """A private 40-digit mpmath context, so that the working precision is not global state
    shared with users (made on first use: importing mpmath is not part of the package's import)."""
    from mpmath.ctx_mp import MPContext
    context = MPContext()
    context.dps = 40
    return context


# pi = _PI_HI + _PI_LO to about 107 bits
_PI_HI = math.pi
_PI_LO = 1.2246467991473532e-16

#: Stieltjes' series: terms below this fraction of the first are dropped ...
_SERIES_TOL = 2.0 ** -60
#: ... and at most this many are summed (the nodes that need more are end nodes).
_SERIES_TERMS = 40
#: Bessel zeros j_{0,k} below this index come from a 40-digit table, the others from McMahon.
_BESSEL_TABLE = 20


# --------------------------------------------------------------- double-double arithmetic

#: a b + c rounded once
_fma = llvm_fma("llvm.fma")


@jit
def _two_prod(a, b):
    """a * b = hi + lo exactly."""
    hi = a * b
    return hi, _fma(a, b, -hi)


@jit
def _two_sum(a, b):
    """a + b = hi + lo exactly (Knuth)."""
    hi = a + b
    bb = hi - a
    return hi, (a - (hi - bb)) + (b - bb)


@jit
def _dd_mul(ah, al, bh, bl):
    hi, lo = _two_prod(ah, bh)
    return _two_sum(hi, lo + ah * bl + al * bh)


@jit
def _dd_add(ah, al, bh, bl):
    hi, lo = _two_sum(ah, bh)
    return _two_sum(hi, lo + al + bl)


@jit
def _dd_div(ah, al, bh, bl):
    q = ah / bh
    ph, pl = _dd_mul(q, 0.0, bh, bl)
    return _two_sum(q, ((ah - ph) - pl + al) / bh)


@jit
def _pi_ratio(num, den):
    """pi * num / den in double-double, for integers |num| < 2^53 and den."""
    q = num / den
    ph, pl = _two_prod(q, float(den))
    q_lo = ((num - ph) - pl) / den                      # num / den = q + q_lo
    hi, lo = _two_prod(q, _PI_HI)
    return _two_sum(hi, lo + q * _PI_LO + q_lo * _PI_HI)


@jit
def _angle(p, den, corr):
    """pi p / den - corr in double-double."""
    hi, lo = _pi_ratio(p, den)
    hi, e = _two_sum(hi, -corr)
    return _two_sum(hi, lo + e)


@jit
def _reduced_sin_cos(hi, lo):
    """j, sin r, cos r (double-double) with hi + lo = j pi/32 + r, |r| <= pi/64.

    The reduction is exact enough (pi/32 in two parts, j small); sin r and cos r come from
    their Taylor series, where the parts after r and 1 - r^2/2 (below 2e-5 |r| and 1e-7)
    need only float arithmetic.
    """
    j = round(hi * (32.0 / _PI_HI))
    ph, pl = _two_prod(float(j), _PI_HI / 32.0)   # (float: _two_prod's one compilation)
    r, e = _two_sum(hi, -ph)
    r, r_lo = _two_sum(r, e - pl + lo - j * (_PI_LO / 32.0))
    r2 = r * r
    ps = -1.0 / 6 + r2 * (1.0 / 120 + r2 * (-1.0 / 5040 + r2 * (1.0 / 362880 + r2 * (
        -1.0 / 39916800 + r2 * (1.0 / 6227020800)))))
    pc = 1.0 / 24 + r2 * (-1.0 / 720 + r2 * (1.0 / 40320 + r2 * (-1.0 / 3628800 + r2 * (
        1.0 / 479001600 + r2 * (-1.0 / 87178291200)))))
    s_hi, s_lo = _two_sum(r, r_lo + r * r2 * ps)
    q_hi, q_lo = _two_prod(r, r)
    c_hi, c_lo = _two_sum(1.0, -0.5 * q_hi)
    c_hi, c_lo = _two_sum(c_hi, c_lo - 0.5 * q_lo - r * r_lo + r2 * r2 * pc)
    return int(j) + 32, s_hi, s_lo, c_hi, c_lo


@jit
def _sin_dd(hi, lo, table):
    """sin(hi + lo), |hi| <= pi, in double-double: sin(t + r) = sin t cos r + cos t sin r with
    the 40-digit table of sin, cos(t), t = j pi/32.  Error about 1e-21 relative to the
    result (or to |r| near a zero)."""
    k, s_hi, s_lo, c_hi, c_lo = _reduced_sin_cos(hi, lo)
    a_hi, a_lo = _dd_mul(table[0, k], table[1, k], c_hi, c_lo)
    b_hi, b_lo = _dd_mul(table[2, k], table[3, k], s_hi, s_lo)
    return _dd_add(a_hi, a_lo, b_hi, b_lo)


@jit
def _sin_cos_dd(hi, lo, table):
    """(sin, cos)(hi + lo) in double-double, as (sin_hi, sin_lo, cos_hi, cos_lo)."""
    k, s_hi, s_lo, c_hi, c_lo = _reduced_sin_cos(hi, lo)
    a_hi, a_lo = _dd_mul(table[0, k], table[1, k], c_hi, c_lo)
    b_hi, b_lo = _dd_mul(table[2, k], table[3, k], s_hi, s_lo)
    c1, c2 = _dd_mul(table[2, k], table[3, k], c_hi, c_lo)
    d1, d2 = _dd_mul(table[0, k], table[1, k], s_hi, s_lo)
    sin_hi, sin_lo = _dd_add(a_hi, a_lo, b_hi, b_lo)
    cos_hi, cos_lo = _dd_add(c1, c2, -d1, -d2)
    return sin_hi, sin_lo, cos_hi, cos_lo


@lru_cache(maxsize=1)
def _trig_table():
    """Rows sin_hi, sin_lo, cos_hi, cos_lo of j pi / 32, j = -32..32 (40 digits)."""
    rows = np.empty((4, 65))
    for i, j in enumerate(range(-32, 33)):
        for row, value in ((0, _mp().sinpi(_mp().mpf(j) / 32)), (2, _mp().cospi(_mp().mpf(j) / 32))):
            rows[row, i] = float(value)
            rows[row + 1, i] = float(value - rows[row, i])
    return rows


@jit
def _node_gap(p, den, corr, table):
    """x = sin(phi), phi = pi p / den - corr, and 1 - |x| = 2 sin^2(theta / 2) with theta =
    pi/2 -+ phi the angle from the nearer end (exact on the integers), in double-double."""
    hi, lo = _angle(p, den, corr)
    x, x_lo = _sin_dd(hi, lo, table)
    if abs(x) < 0.5:
        if x >= 0:
            return x, x_lo, _two_sum(1.0 - x, -x_lo)
        return x, x_lo, _two_sum(1.0 + x, x_lo)
    sign = 1 if p >= 0 else -1
    hi, lo = _angle(den - 2 * sign * p, 4 * den, -0.5 * sign * corr)    # theta / 2
    s, s_lo = _sin_dd(hi, lo, table)
    g_hi, g_lo = _dd_mul(s, s_lo, s, s_lo)
    return x, x_lo, (2 * g_hi, 2 * g_lo)


# --------------------------------------------------------------------------- Gauss–Legendre

@lru_cache(maxsize=1)
def _bessel_table():
    """delta_k = j_{0,k} - pi (k - 1/4) and S_k - 1 = 2 / (pi j J_1(j)^2) - 1 for k <=
    _BESSEL_TABLE, at 40 digits (one Newton step J_0 / J_1 from SciPy's float zeros)."""
    from scipy.special import jn_zeros
    delta, s_minus_1 = [], []
    for k, guess in enumerate(jn_zeros(0, _BESSEL_TABLE), start=1):
        j = _mp().mpf(float(guess))
        j += _mp().besselj(0, j) / _mp().besselj(1, j)
        j += _mp().besselj(0, j) / _mp().besselj(1, j)
        delta.append(float(j - _mp().pi * (k - _mp().mpf(1) / 4)))
        s_minus_1.append(float(2 / (_mp().pi * j * _mp().besselj(1, j) ** 2) - 1))
    return np.array(delta), np.array(s_minus_1)


@jit
def _legendre_kernel(n, delta_table, s_table, table, x, gap, w):
    """Bogaert's nodes and weights k = 1 .. ceil(n/2), from +1 inwards."""
    nu = 1.0 / (n + 0.5)
    v2 = nu * nu
    # (np.int64(2), not 2: a constant argument is typed as a literal and compiled _pi_ratio a
    # second time)
    c_hi, c_lo = _pi_ratio(np.int64(2), 2 * n + 1)              # pi nu
    for i in range(x.size):
        k = i + 1
        if k <= delta_table.size:
            delta = delta_table[i]
            s_minus_1 = s_table[i]
        else:   # McMahon's expansion of j_{0,k} about b = pi (k - 1/4); J_1(j)^2 from
            b = _PI_HI * (k - 0.25)                             # the modulus of J_0 (DLMF 10.18.17)
            r = 1.0 / (b * b)
            delta = (1.0 / 8 + r * (-31.0 / 384 + r * (3779.0 / 15360 + r * (
                -6277237.0 / 3440640 + r * (2092163573.0 / 82575360))))) / b
            t = 1.0 / (4 * (b + delta) ** 2)
            s_minus_1 = 0.0
            term = 1.0
            for m in range(1, 12):
                term *= -(2 * m - 1) ** 3 / (2.0 * m) * t
                s_minus_1 += term
                if abs(term) < 1e-20:
                    break
        # a = j nu = pi (4k - 1) / (2 (2n + 1)) + 2 delta / (2n + 1)
        a_hi, a_lo = _pi_ratio(4 * k - 1, 2 * (2 * n + 1))
        a_hi, a_lo = _dd_add(a_hi, a_lo, 2 * delta / (2 * n + 1), 0.0)
        a = a_hi
        u = math.cos(a) / math.sin(a)
        u2 = u * u
        a2 = a * a
        a3 = a2 * a
        a4 = a2 * a2
        u4 = u2 * u2
        f1 = (u * a - 1) / (8 * a)
        f2 = (6 * a2 * (1 + u2) + 25 - u * (31 * u2 + 33) * a3) / (384 * a3)
        f3 = (u * (2595 + 6350 * u2 + 3779 * u4) / 15360 - 1073.0 / 5120 / (a3 * a2)
              + (1 + u2) * (-(31 * u2 + 11) / 1024 / a + u / 512 / a2 - 25.0 / 3072 / a3))
        w1 = (u * a + a2 - 1) / (8 * a2)
        w2 = (81 - 31 * u * a - 3 * (1 - 2 * u2) * a2 + 6 * u * a3
              - (27 + 84 * u2 + 56 * u4) * a4) / (384 * a4)
        w3 = (187.0 / 96 * u4 + 295.0 / 256 * u2 + 151.0 / 160 * u4 * u2 + 153.0 / 1024
              + (-119.0 / 768 * u2 * u - 35.0 / 384 * u4 * u - 65.0 / 1024 * u) / a
              + (5.0 / 512 + 7.0 / 384 * u4 + 15.0 / 512 * u2) / a2
              + (u2 * u / 512 - 13.0 / 1536 * u) / a3
              + (-7.0 / 384 * u2 + 53.0 / 3072) / a4
              + 3749.0 / 15360 * u / (a4 * a)
              - 1125.0 / 1024 / (a3 * a3))
        # theta = a + nu^2 (F1 + nu^2 (F2 + nu^2 F3)); phi = pi/2 - theta
        corr = nu * delta + v2 * (f1 + v2 * (f2 + v2 * f3))
        x_hi, x_lo, g = _node_gap(n + 1 - 2 * k, 2 * n + 1, corr, table)
        x[i], gap[i] = x_hi + x_lo, g[0] + g[1]
        # w = pi nu sin(a) (1 + S - 1) / (1 + W - 1)
        s_hi, s_lo = _sin_dd(a_hi, a_lo, table)
        p_hi, p_lo = _dd_mul(c_hi, c_lo, s_hi, s_lo)
        w_minus_1 = v2 * (w1 + v2 * (w2 + v2 * w3))
        w[i] = p_hi + (p_lo + p_hi * ((s_minus_1 - w_minus_1) / (1 + w_minus_1)))
    if n % 2:
        x[-1] = 0.0
        gap[-1] = 1.0


def _mirror(x, gap, w, n):
    """The symmetric rule (ascending) from its nodes x >= 0, descending, where the last one
    is the middle node 0 when n is odd."""
    odd = n % 2
    return (np.concatenate([-x, x[::-1][odd:]]), np.concatenate([gap, gap[::-1][odd:]]),
            np.concatenate([w, w[::-1][odd:]]))


def gauss_legendre_fast(n):
    """Gauss–Legendre rule on [-1, 1]: nodes (ascending), gaps 1 - |x|, weights."""
    half = (n + 1) // 2
    x, gap, w = np.empty(half), np.empty(half), np.empty(half)
    _legendre_kernel(n, *_bessel_table(), _trig_table(), x, gap, w)
    return _mirror(x, gap, w, n)


# ------------------------------------------------------------------- Radau and Lobatto

@lru_cache(maxsize=64)
def _series_coefficients(m):
    """h_{m,0..} of Stieltjes' series and the smallest 2 sin theta at which it reaches
    _SERIES_TOL within _SERIES_TERMS terms (nodes closer to the ends are end nodes)."""
    h = np.empty(_SERIES_TERMS)
    h[0] = 1.0
    for k in range(_SERIES_TERMS - 1):
        h[k + 1] = h[k] * (k + 0.5) ** 2 / ((k + 1) * (m + k + 1.5))
    k = np.arange(1, _SERIES_TERMS)
    return h, float(np.min((h[1:] / _SERIES_TOL) ** (1.0 / k)))


@jit
def _leading(m, p, den, corr, table):
    """sin and cos (double-double) of beta = m pi/2 - (m + 1/2) phi at phi = pi p / den - corr,
    reduced modulo 2 pi exactly: pi (m den - (2m + 1) p) / (2 den) + (m + 1/2) corr."""
    num = (m * den - (2 * m + 1) * p) % (4 * den)
    if num >= 2 * den:
        num -= 4 * den
    hi, lo = _pi_ratio(num, 2 * den)
    hi, e = _two_sum(hi, (m + 0.5) * corr)
    s_hi, s_lo, c_hi, c_lo = _sin_cos_dd(hi, lo + e, table)
    return s_hi, s_lo, c_hi, c_lo


@jit
def _tails(m, h, c, s, sphi, cphi, hr, d, omega):
    """The tails tv, tdv of Stieltjes' series at phi, with cos(beta) = c, sin(beta) = s:

        sqrt(2 cos phi) P_m(sin phi) / C_m             = cos(beta) + tv,
        sqrt(2 cos phi) d/dphi P_m(sin phi) / C_m      = (m + 1/2) sin(beta) + tdv,

    (alpha_{m,k} = beta - k phi; terms below 1e-19 dropped).

    If ``d`` is not empty (Radau, m = n), tv is instead the tail of f = r V_{n-1} + V_n,

        sum_k q^k (cos(alpha_{n,k}) (r h_{n-1,k} omega - d_k) + sin(alpha_{n,k}) r h_{n-1,k} cos phi),

    q = 1 / (2 cos phi), from alpha_{n-1,k} = alpha_{n,k} - theta, with hr = r h_{n-1},
    d_k = r h_{n-1,k} - h_{n,k} (accurate) and omega = 1 + sin phi: near -1 the two tails
    nearly cancel while E is small, and rounding them separately put the gaps of the first
    series nodes there several ulp off from n of a few million on.
    """
    inv = 0.5 / cphi
    tv = 0.0
    tdv = sphi * c * inv
    q = 1.0
    for k in range(1, h.size):
        q *= inv
        if h[k] * q < 1e-19:
            break
        c, s = c * cphi + s * sphi, s * cphi - c * sphi            # rotate by -phi
        if d.size:
            tv += q * (c * (hr[k] * omega - d[k]) + s * (hr[k] * cphi))
        else:
            tv += h[k] * q * c
        tdv += h[k] * q * ((m + k + 0.5) * s + (2 * k + 1) * sphi * c * inv)
    return tv, tdv


@jit
def _free_kernel(radau, n, k_first, k_last, h_lo, h_hi, hr, dk, constant, table, x, gap, w):
    """Newton's method for the free nodes k = k_first .. k_last from +1 (zeros of P_{n-1} +
    P_n if ``radau``, else of P'_{n-1}) and their weights, written at position n - k (Radau,
    ascending) or k (Lobatto, descending).

    The estimates are Gatteschi and Pittaluga's for the zeros of P_m^(alpha, beta), (m,
    alpha, beta) = (n - 1, 0, 1) for Radau, (n - 2, 1, 1) for Lobatto: with rho = 2m + alpha
    + beta + 1 and K = (4k + 2 alpha - 1) pi / (2 rho), theta_k = K + ((1/4 - alpha^2)
    cot(K/2) - (1/4 - beta^2) tan(K/2)) / rho^2, written phi = pi/2 - theta_k = pi p / den -
    corr with p = rho - 4k - 2 alpha + 1, den = 2 rho.

    Every evaluation is in double-double (the float parts are the series' tails) and the
    iteration stops at the first step delta below 1e-10 of the spacing h (from n of a few
    thousand on, the estimates of most nodes are that close already): Newton's error after
    it is O(delta^2 / theta), theta >= 20 / n the angle to the nearer end, below 1e-21 h.  The
    node is phi - delta; the weight, from the same evaluation at phi, is carried to it to
    first order, w (1 + shift), leaving errors O((n delta)^2) < 1e-18 relative:
    Radau, x >= 0: w = 4 (1 + x) / (dg/dphi)^2 = K_0 (1 + x) 2 cos(phi) / E^2,
                   shift = 2 (2 n r V_{n-1} / E + tan phi) delta,
           x < 0:  w = (1 - x) / (n^2 P_{n-1}^2) = K_1 (1 - x) 2 cos(phi) / V_{n-1}^2,
                   shift = 2 (D_{n-1} / V_{n-1}) delta
           (near -1, P_{n-1} ~ -P_n and E = r D_{n-1} + D_n loses digits),
    Lobatto:       w = 2 / (n (n - 1) P_{n-1}^2) = K_0 2 cos(phi) / V_{n-1}^2, shift as for x < 0,
    with V = cos(beta) + tv, D = (m + 1/2) sin(beta) + tdv the expansions of :func:`_tails`
    (d ln P / dphi = D / V), f = r V_{n-1} + V_n the function whose zeros are the Radau
    nodes, E = f' at them, r = C_{n-1} / C_n = 1 + 1/(2n), and 1 +- x at the new node;
    ``constant`` holds K_0 and K_1 as double-double rows.  (d ln(dg/dphi) / dphi = f'' / E +
    tan phi at a zero of f, and f'' = 2 n r V_{n-1} there, since u'' = -((m + 1/2)^2 +
    1 / (4 cos^2 phi)) u for u = V_m.)  The leading terms of P_n come from those of P_{n-1}:
    beta_n = beta_{n-1} + pi/2 - phi; the tail of f is one series (``hr``, ``dk``: see
    :func:`_tails`; empty for Lobatto).
    """
    alpha = 0 if radau else 1
    rho = 2 * n if radau else 2 * n - 1                   # 2 (n - 1) + 2, 2 (n - 2) + 3
    den = 2 * rho
    spacing = _PI_HI / den
    r_lo = 0.5 / n
    m = n - 1                                             # the degree of P_{n-1}
    for k in range(k_first, k_last + 1):
        p = rho - 4 * k - 2 * alpha + 1
        t = math.tan(0.5 * (_PI_HI * (4 * k + 2 * alpha - 1) / (2 * rho)))   # tan(K/2)
        c = ((0.25 - alpha**2) / t + 0.75 * t) / rho**2                        # beta = 1
        for _ in range(40):
            hi, lo = _angle(p, den, c)
            sp_hi, sp_lo, cp_hi, cp_lo = _sin_cos_dd(hi, lo, table)
            sphi, cphi = sp_hi + sp_lo, cp_hi + cp_lo
            s1, s1l, c1, c1l = _leading(m, p, den, c, table)
            tv1, tdv1 = _tails(m, h_lo, c1, s1, sphi, cphi, hr, dk[:0], 0.0)
            v_hi, v_lo = _dd_add(c1, c1l, tv1, 0.0)                 # V_{n-1}
            d_hi, d_lo = _dd_mul(s1, s1l, m + 0.5, 0.0)
            d_hi, d_lo = _dd_add(d_hi, d_lo, tdv1, 0.0)             # D_{n-1}
            if radau:       # cos, sin(beta_{n-1} + theta), cos theta = sin phi, sin theta = cos phi
                a_hi, a_lo = _dd_mul(c1, c1l, sp_hi, sp_lo)
                b_hi, b_lo = _dd_mul(s1, s1l, cp_hi, cp_lo)
                c0, c0l = _dd_add(a_hi, a_lo, -b_hi, -b_lo)
                a_hi, a_lo = _dd_mul(s1, s1l, sp_hi, sp_lo)
                b_hi, b_lo = _dd_mul(c1, c1l, cp_hi, cp_lo)
                s0, s0l = _dd_add(a_hi, a_lo, b_hi, b_lo)
                tf, tdv0 = _tails(n, h_hi, c0, s0, sphi, cphi, hr, dk, (1.0 + sp_hi) + sp_lo)
                # f = r V_{n-1} + V_n (tail tf), f' = E = r D_{n-1} + D_n (common factors dropped)
                f_hi, f_lo = _dd_add(c1, c1l, r_lo * c1, 0.0)
                f_hi, f_lo = _dd_add(f_hi, f_lo, c0, c0l + tf)
                e_hi, e_lo = _dd_mul(s0, s0l, n + 0.5, 0.0)
                e_hi, e_lo = _dd_add(e_hi, e_lo, tdv0, 0.0)
                e_hi, e_lo = _dd_add(e_hi, e_lo, d_hi, d_lo + r_lo * d_hi)
                step = (f_hi + f_lo) / (e_hi + e_lo)
            else:
                v, dv = v_hi + v_lo, d_hi + d_lo
                step = dv / (sphi / cphi * dv - m * (m + 1) * v)   # u'' = tan(phi) u' - m(m+1) u
            if abs(step) < 1e-10 * spacing:
                break
            c += step
        # the node phi - step: x = sin(phi) - cos(phi) step, and its gap
        x_hi, x_lo = _dd_add(sp_hi, sp_lo, -cphi * step, 0.0)
        i = n - k if radau else k
        x[i] = x_hi + x_lo
        ax_hi, ax_lo = (x_hi, x_lo) if x_hi >= 0 else (-x_hi, -x_lo)      # |x|
        if ax_hi < 0.5:
            g_hi, g_lo = _dd_add(1.0, 0.0, -ax_hi, -ax_lo)
        else:               # 1 - |x| = cos^2(phi) / (1 + |x|), cos(phi - step) = cos phi + sin phi step
            a_hi, a_lo = _dd_add(cp_hi, cp_lo, sphi * step, 0.0)
            a_hi, a_lo = _dd_mul(a_hi, a_lo, a_hi, a_lo)
            g_hi, g_lo = _dd_div(a_hi, a_lo, *_dd_add(1.0, 0.0, ax_hi, ax_lo))
        gap[i] = g_hi + g_lo
        if radau and x_hi >= 0:     # K (1 + x) 2 cos(phi) / E^2
            sq_hi, sq_lo = _dd_mul(e_hi, e_lo, e_hi, e_lo)
            k_hi, k_lo = constant[0, 0], constant[0, 1]
            shift = 2 * (2 * n * (1 + r_lo) * v_hi / e_hi + sphi / cphi) * step
        else:                       # K (1 -+ x) 2 cos(phi) / V^2
            sq_hi, sq_lo = _dd_mul(v_hi, v_lo, v_hi, v_lo)
            k_hi, k_lo = constant[1 if radau else 0, 0], constant[1 if radau else 0, 1]
            shift = 2 * (d_hi / v_hi) * step
        t_hi, t_lo = _dd_mul(k_hi, k_lo, 2 * cp_hi, 2 * cp_lo)
        if radau:                   # 1 + x or 1 - x = 1 + |x|
            t_hi, t_lo = _dd_mul(t_hi, t_lo, *_dd_add(1.0, 0.0, ax_hi, ax_lo))
        w_hi, w_lo = _dd_div(t_hi, t_lo, sq_hi, sq_lo)
        w[i] = w_hi + (w_lo + w_hi * shift)


@jit
def _legendre_at_end(m, z_hi, z_lo):
    """z^j d^j/dz^j P_m(1 - 2z), j = 0..3, at z = z_hi + z_lo, in double-double (as hi, lo
    pairs in one tuple).

    The hypergeometric series sum_k (-m)_k (m + 1)_k z^k / k!^2: its terms grow to about
    e^(2 m sqrt(z)) / sqrt(2 pi 2 m sqrt(z)) before they decay, so near the k-th node from
    an end (2 m sqrt(z) ~ j_k < 21 for the five or six end nodes) about 25 of the 106 bits
    cancel.
    """
    t_hi, t_lo = 1.0, 0.0
    a0, a0l, a1, a1l, a2, a2l, a3, a3l = 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
    peak = 4.0 * m * m * z_hi
    for k in range(m):                                              # the term of z^(k+1)
        c_hi, c_lo = _two_prod(float(k - m), float(k + m + 1))
        t_hi, t_lo = _dd_mul(t_hi, t_lo, c_hi, c_lo)
        t_hi, t_lo = _dd_mul(t_hi, t_lo, z_hi, z_lo)
        t_hi, t_lo = _dd_div(t_hi, t_lo, float((k + 1) * (k + 1)), 0.0)
        j = k + 1
        a0, a0l = _dd_add(a0, a0l, t_hi, t_lo)
        u_hi, u_lo = _dd_mul(t_hi, t_lo, float(j), 0.0)
        a1, a1l = _dd_add(a1, a1l, u_hi, u_lo)
        u_hi, u_lo = _dd_mul(u_hi, u_lo, float(k), 0.0)
        a2, a2l = _dd_add(a2, a2l, u_hi, u_lo)
        u_hi, u_lo = _dd_mul(u_hi, u_lo, float(k - 1), 0.0)
        a3, a3l = _dd_add(a3, a3l, u_hi, u_lo)
        if k * k > peak and abs(t_hi) * j**3 < 1e-40:
            break
    return a0, a0l, a1, a1l, a2, a2l, a3, a3l


@jit
def _end_node(radau, n, z, left):
    """Halley's method in double-double for the node at z = (1 -+ x)/2 near +1 (-1 if
    ``left``), from its float estimate; returns the gap 1 - |x| = 2z and the weight.

    With F = f, G = z f', H = z^2 f'' the step is dz = -z (F/G) / (1 - F H / (2 G^2)); f is
    P_{n-1} + P_n at +1 and P_{n-1} - P_n at -1 (P_m(-y) = (-1)^m P_m(y)) for Radau, and
    z P'_{n-1} for Lobatto.  The weight uses the values before the last step (below 2^-64
    relative, cubic convergence).
    """
    z_hi, z_lo = z, 0.0
    sign = -1.0 if left else 1.0
    for _ in range(40):
        p1 = _legendre_at_end(n - 1, z_hi, z_lo)
        if radau:
            p0 = _legendre_at_end(n, z_hi, z_lo)
            f_hi, f_lo = _dd_add(p1[0], p1[1], sign * p0[0], sign * p0[1])
            g_hi, g_lo = _dd_add(p1[2], p1[3], sign * p0[2], sign * p0[3])
            h = p1[4] + sign * p0[4]
        else:
            f_hi, f_lo = p1[2], p1[3]
            g_hi, g_lo = _dd_add(p1[2], p1[3], p1[4], p1[5])
            h = 2 * p1[4] + p1[6]
        ratio = (f_hi + f_lo) / g_hi
        step = z_hi * ratio / (1 - ratio * h / (2 * g_hi))
        z_hi, z_lo = _dd_add(z_hi, z_lo, -step, 0.0)
        if abs(step) * 2.0**64 < z_hi:
            break
    else:  # pragma: no cover - cubic convergence from the asymptotic estimates
        raise RuntimeError("Halley's method did not converge for a quadrature node")
    if radau:   # w = 4 / ((1 - x) g'(x)^2) = 8 / ((z or 1 - z) (dg/dz)^2), G = z dg/dz
        num_hi, num_lo = 8 * z_hi, 8 * z_lo
        den_hi, den_lo = _dd_mul(g_hi, g_lo, g_hi, g_lo)
        if left:
            num_hi, num_lo = _dd_mul(num_hi, num_lo, z_hi, z_lo)
            den_hi, den_lo = _dd_mul(den_hi, den_lo, *_dd_add(1.0, 0.0, -z_hi, -z_lo))
    else:       # w = 2 / (n (n - 1) P_{n-1}(x)^2)
        num_hi, num_lo = 2.0, 0.0
        den_hi, den_lo = _dd_mul(p1[0], p1[1], p1[0], p1[1])
        den_hi, den_lo = _dd_mul(den_hi, den_lo, n * (n - 1.0), 0.0)
    t_hi, t_lo = _dd_div(num_hi, num_lo, den_hi, den_lo)
    return 2 * (z_hi + z_lo), t_hi + t_lo


@lru_cache(maxsize=16)
def _bessel_zeros(alpha, count):
    """The first ``count`` zeros of J_alpha (SciPy's, cached: they cost more than the end nodes)."""
    from scipy.special import jn_zeros
    zeros = jn_zeros(alpha, count)
    zeros.flags.writeable = False
    return zeros


def _end_estimates(m, alpha, beta, count):
    """Olver's estimates of the first ``count`` zeros of P_m^(alpha, beta) from x = +1, as
    z = sin^2(theta/2): theta = t + ((alpha^2 - 1/4)(1 - t cot t)/(2t) - (alpha^2 - beta^2)
    tan(t/2) / 4) / rho^2, t = j_{alpha,k} / rho, rho = m + (alpha + beta + 1)/2."""
    rho = m + (alpha + beta + 1) / 2
    t = _bessel_zeros(alpha, count) / rho
    theta = t + ((alpha**2 - 0.25) * (1 - t / np.tan(t)) / (2 * t)
                 - (alpha**2 - beta**2) * np.tan(t / 2) / 4) / rho**2
    return np.sin(theta / 2) ** 2


def _jacobi_estimates(m, alpha, beta, k):
    """Gatteschi–Pittaluga estimates of the zeros k of P_m^(alpha, beta) (integer alpha, beta),
    descending in x, written phi = pi p / den - corr, x = sin(phi):
    theta_k = K + ((1/4 - alpha^2) cot(K/2) - (1/4 - beta^2) tan(K/2)) / rho^2,
    K = (2k + alpha - 1/2) pi / rho, rho = 2m + alpha + beta + 1 (as in :func:`_free_kernel`)."""
    rho = 2 * m + alpha + beta + 1
    K = np.pi * (4 * k + 2 * alpha - 1) / (2 * rho)
    corr = ((0.25 - alpha**2) / np.tan(K / 2) - (0.25 - beta**2) * np.tan(K / 2)) / rho**2
    return rho - 4 * k - 2 * alpha + 1, 2 * rho, corr


#: the end nodes are among the first this many from each end (five or six, whatever n)
_END_SCAN = 64


@lru_cache(maxsize=64)
def _end_counts(radau, n):
    """How many free nodes from +1 and (Radau) from -1 are end nodes: those whose angle theta
    to the nearer end has 2 sin(theta) below what Stieltjes' series needs."""
    m, alpha, beta = (n - 1, 0, 1) if radau else (n - 2, 1, 1)
    limit = max(_series_coefficients(n - 1)[1], _series_coefficients(n)[1])
    counts = []
    for k in (np.arange(1, _END_SCAN + 1), m - np.arange(_END_SCAN)):
        p, den, corr = _jacobi_estimates(m, alpha, beta, k)
        theta = np.pi / 2 - np.abs(np.pi * p / den - corr)
        inner = 2 * np.sin(theta) >= limit
        if not inner.any() or inner.all():  # pragma: no cover - n >= FAST_MIN_N has both kinds
            raise RuntimeError(f"no interior or no end nodes for n = {n}")
        counts.append(int(np.argmax(inner)))
    return counts[0], counts[1] if radau else 0


@lru_cache(maxsize=64)
def _tail_differences(n, radau):
    """r h_{n-1,k} and d_k = r h_{n-1,k} - h_{n,k} of :func:`_tails` (empty for Lobatto), with
    h_{n,k} / h_{n-1,k} = prod_{j<k} (1 - 1 / (n + j + 3/2)) so that d_k has no cancellation."""
    h = _series_coefficients(n - 1)[0]
    if not radau:
        return h[:0], h[:0]
    j = np.arange(_SERIES_TERMS - 1)
    log_ratio = np.concatenate([[0.0], np.cumsum(np.log1p(-1.0 / (n + j + 1.5)))])
    return (1 + 0.5 / n) * h, h * (0.5 / n - np.expm1(log_ratio))


@lru_cache(maxsize=64)
def _weight_constants(radau, n):
    """K_0, K_1 of :func:`_free_kernel` as double-double rows."""
    C0, C1 = _legendre_constant(n), _legendre_constant(n - 1)
    constants = (4 / C0**2, 1 / (n * C1) ** 2) if radau else (2 / (n * (n - 1) * C1**2), 0)
    return np.array([[float(K), float(K - float(K))] for K in constants])


def _free_nodes(radau, n, x, gap, w):
    """The free nodes of the Radau rule (zeros of P_{n-1} + P_n), written ascending at x[1:],
    or the Lobatto rule (zeros of P'_{n-1}, only x >= 0), written descending at x[1:], with
    their gaps 1 - |x| and weights."""
    right, left = _end_counts(radau, n)
    m = n - 1 if radau else n - 2
    last = m - left if radau else (n - 1) // 2
    _free_kernel(radau, n, right + 1, last, _series_coefficients(n - 1)[0],
                 _series_coefficients(n)[0], *_tail_differences(n, radau),
                 _weight_constants(radau, n), _trig_table(), x, gap, w)
    # end nodes: the first ones from +1 and (Radau) from -1
    alpha, beta = (0, 1) if radau else (1, 1)
    for is_left, count in ((False, right), (True, left)):
        if not count:
            continue
        z0 = _end_estimates(m, beta, alpha, count) if is_left else \
            _end_estimates(m, alpha, beta, count)
        for j, z in enumerate(z0, start=1):
            k = m + 1 - j if is_left else j
            i = n - k if radau else k
            gap[i], w[i] = _end_node(radau, n, z, is_left)
            x[i] = gap[i] - 1 if is_left else 1 - gap[i]


@lru_cache(maxsize=64)
def _legendre_constant(m):
    """C_m = 2 Gamma(m + 1) / (sqrt(pi) Gamma(m + 3/2)), at 40 digits."""
    return 2 * _mp().exp(_mp().loggamma(m + 1) - _mp().loggamma(_mp().mpf(m) + 1.5)) / _mp().sqrt(_mp().pi)


def gauss_radau_fast(n):
    """Left Gauss–Radau rule on [-1, 1]: nodes (ascending, nodes[0] = -1), gaps, weights."""
    x, gap, w = np.empty(n), np.empty(n), np.empty(n)
    _free_nodes(True, n, x, gap, w)
    x[0], gap[0], w[0] = -1.0, 0.0, 2.0 / n**2
    return x, gap, w


def gauss_lobatto_fast(n):
    """Gauss–Lobatto rule on [-1, 1]: nodes (ascending, -1 and 1 included), gaps, weights."""
    half = (n + 1) // 2
    x, gap, w = np.empty(half), np.empty(half), np.empty(half)
    _free_nodes(False, n, x, gap, w)
    x[0], gap[0], w[0] = 1.0, 0.0, 2.0 / (n * (n - 1))
    if n % 2:
        x[-1], gap[-1] = 0.0, 1.0
    return _mirror(x, gap, w, n)


# ------------------------------------------------------------------------ Clenshaw–Curtis

#: Taylor terms of S about a = 3/2 (radius 3/2, used on |a - 3/2| <= 1/2: 3^-40 * 40 < 1e-17)
_ZETA_TERMS = 40


@lru_cache(maxsize=1)
def _hurwitz_zeta_at_three_halves():
    """zeta(s, 3/2) for s = 0 .. 2 + 6 + _ZETA_TERMS (40 digits; entries s < 2 unused)."""
    return [0.0, 0.0] + [float(_mp().zeta(s, 1.5)) for s in range(2, 9 + _ZETA_TERMS)]


def _clenshaw_curtis_tail(N):
    """T_k, k = 0..N/2, with w_k = (c_k / N) ((pi/2) sin(k pi/N) + T_k).

    The weights are (c_k / N)(1 - sum_{j <= N/2} b_j cos(2 j theta_k) / (4 j^2 - 1)); the full
    series is 1 - (pi/2) sin(theta) on [0, pi], so T_k is the rest: the terms j > N/2 (and
    half the term j = N/2 when N is even).  On the nodes cos(2 j theta_k) depends only on
    j mod N, so T_k = sum_r a_r cos(2 pi r k / N), one real FFT, with

        a_r = sum_{j > N/2, j = r mod N} 2 / (4 j^2 - 1)
            = [r > N/2] 2 / (4 r^2 - 1) + S(1 + r/N) / (2 N^2),
        S(a) = sum_{q >= 0} 1 / ((q + a)^2 - b^2) = sum_i b^(2i) zeta(2i + 2, a),  b = 1/(2N),

    S from its Taylor series about a = 3/2 (coefficients from zeta(s, 3/2) at 40 digits).
    This avoids the cancellation of the plain sum near the ends, where 1 - sum ~ k/N: the
    errors of T are about eps/N, and the weights come out within an ulp.
    """
    zeta = _hurwitz_zeta_at_three_halves()
    b2 = 1.0 / (4.0 * N * N)
    coef = [(-1) ** m * sum(b2**i * math.comb(2 * i + 1 + m, m) * zeta[2 * i + 2 + m]
                            for i in range(4)) for m in range(_ZETA_TERMS)]
    r = np.arange(N)
    u = r / N - 0.5
    S = np.full(N, coef[-1])
    for c in coef[-2::-1]:
        S = S * u + c
    tail = S / (2.0 * N * N)
    upper = r[N // 2 + 1:]
    tail[N // 2 + 1:] += 2.0 / (4.0 * upper * upper - 1)
    if N % 2 == 0:
        tail[N // 2] += 1.0 / (N * N - 1.0)
    return np.fft.rfft(tail).real


@jit
def _clenshaw_curtis_kernel(N, tail, table, x, gap, w):
    """Nodes cos(k pi / N) (k = 0 .. N/2, from +1 inwards), gaps and weights."""
    half_pi_hi, half_pi_lo = _PI_HI / 2, _PI_LO / 2
    for k in range(x.size):
        x_hi, x_lo, g = _node_gap(N - 2 * k, 2 * N, 0.0, table)
        x[k], gap[k] = x_hi + x_lo, g[0] + g[1]
        s_hi, s_lo = _pi_ratio(k, N)
        s_hi, s_lo = _sin_dd(s_hi, s_lo, table)
        s_hi, s_lo = _dd_mul(s_hi, s_lo, half_pi_hi, half_pi_lo)
        s_hi, s_lo = _dd_add(s_hi, s_lo, tail[k], 0.0)
        w_hi, w_lo = _dd_div(s_hi, s_lo, N / (1.0 if k == 0 else 2.0), 0.0)
        w[k] = w_hi + w_lo
    w[0] = 1.0 / (N * N - 1.0) if N % 2 == 0 else 1.0 / (N * N)   # exact: T_0 = N w_0


def clenshaw_curtis_fast(n):
    """Clenshaw–Curtis rule on [-1, 1] (n >= 2 nodes): nodes (ascending), gaps, weights."""
    N = n - 1
    half = (n + 1) // 2
    x, gap, w = np.empty(half), np.empty(half), np.empty(half)
    _clenshaw_curtis_kernel(N, _clenshaw_curtis_tail(N), _trig_table(), x, gap, w)
    return _mirror(x, gap, w, n)
