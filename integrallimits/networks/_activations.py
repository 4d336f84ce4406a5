"""Activations and their derivatives, compiled, selected by a code stored in theta.

Scalar ``act(code, x)`` / ``dact(code, x)`` for the kernels' scalar loops, and the
in-place array forms ``act_array`` / ``dact_array`` with one tight loop per activation,
which the batched layer maps apply to the whole batch at once.

tanh is :func:`tanh_fast`, not libm's: it is branch-free (selects only, no calls), so
LLVM vectorises the loops of ``act_array`` / ``dact_array`` into SIMD code (libm's
scalar ``tanh`` made up ~85 % of a dense network's forward pass).  Its error is at most
2 ulp: the largest measured against mpmath is 1.36 ulp, just above the switch between its
two branches at |x| = 0.625, on sweeps of |x| from 5e-324 to 1e3 of both signs (see
``tests/networks/test_fast_activation.py``).
"""
from __future__ import annotations

import math

import numpy as np

from .._numba import jit, llvm_fma

__all__ = ["ACTIVATIONS", "activation_code", "act", "dact", "act_array", "act_rows", "dact_array",
           "tanh_fast", "dtanh_fast", "activation", "activation_derivative"]

#: name -> code used inside compiled kernels
ACTIVATIONS = {"tanh": 0, "relu": 1, "softplus": 2, "sigmoid": 3, "identity": 4}


def activation_code(name):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


# -- tanh without libm --------------------------------------------------------------------------

#: a b + c, fused where the CPU has FMA (vectorises)
_fma = llvm_fma("llvm.fmuladd")


# tanh a = a + a s P(s) / Q(s), s = a^2, for 0 <= a < 0.625 (Cephes' tanh.c rational)
_P0, _P1, _P2 = -9.64399179425052238628e-1, -9.92877231001918586564e1, -1.61468768441708447952e3
_Q0, _Q1, _Q2 = 1.12811678491632931402e2, 2.23548839060100448583e3, 4.84406305325125486048e3
_SMALL = 0.625
# e^y = 2^k e^r, y = k ln2 + r, |r| <= ln2 / 2 (Cody-Waite: k ln2_hi is exact for |k| < 2^11)
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_SHIFTER = 6755399441055744.0  # 1.5 2^52: y / ln2 + shifter has k = round(y / ln2) in its low bits
_Y_MAX = 40.0  # tanh(a) rounds to 1 for a > 19.1: clamp 2a, so that 2^k stays finite
# e^r = 1 + r + r^2 q(r), q of degree 9: the Chebyshev fit (mpmath.chebyfit, 10 terms) of
# (e^r - 1 - r) / r^2 on [-ln2/2, ln2/2]; the relative error of e^r is below 1.6e-17 there
# (the Taylor polynomial would need degree 13 for the same).
_E2, _E3, _E4, _E5, _E6 = (0.5000000000000001, 0.16666666666666669, 0.041666666666624164,
                           0.008333333333330065, 0.0013888888917196719)
_E7, _E8, _E9, _E10, _E11 = (0.00019841269863040545, 2.4801521322368692e-05, 2.7557268480310024e-06,
                             2.7620075879983367e-07, 2.5100375832561234e-08)


@jit
def _exp_fast(y):
    """e^y for 0 <= y <= 709 (NaN gives NaN), branch-free: a Cody-Waite reduction
    y = k ln2 + r, a polynomial for e^r and 2^k assembled in the exponent bits (error
    about 1 ulp; inlined, it vectorises where libm's exp would not)."""
    t = _fma(y, _LOG2E, _SHIFTER)
    kf = t - _SHIFTER
    r = _fma(-kf, _LN2_LO, _fma(-kf, _LN2_HI, y))
    p = _fma(_E11, r, _E10)
    p = _fma(p, r, _E9)
    p = _fma(p, r, _E8)
    p = _fma(p, r, _E7)
    p = _fma(p, r, _E6)
    p = _fma(p, r, _E5)
    p = _fma(p, r, _E4)
    p = _fma(p, r, _E3)
    p = _fma(p, r, _E2)
    p = _fma(p, r, 1.0)
    p = _fma(p, r, 1.0)  # e^r
    two_k = np.int64((np.float64(t).view(np.int64) + 1023) << 52).view(np.float64)
    return p * two_k


@jit
def tanh_fast(x):
    """tanh(x), float64, branch-free (vectorisable when inlined in a loop), error <= 2 ulp.

    With a = |x|: for a < 0.625 the rational a + a^3 P(a^2) / Q(a^2); beyond it
    1 - 2 / (e^(2a) + 1) with e^(2a) = 2^k e^r from a Cody-Waite reduction, a polynomial
    for e^r and 2^k assembled in the exponent bits.  Both branches are computed and the
    numerator / denominator selected, so there is one division.  The sign is copied from
    x at the end: tanh(-0.0) = -0.0, tiny x gives x, +-inf gives +-1, NaN stays NaN.
    """
    a = abs(x)
    # large a: u = e^(2a) (2a clamped; NaN passes the clamp)
    y = 2.0 * a
    u = _exp_fast(_Y_MAX if y > _Y_MAX else y)
    # small a: the rational; then one division for the selected branch
    s = a * a
    small = a < _SMALL
    num = a * s * _fma(_fma(_P0, s, _P1), s, _P2) if small else -2.0
    den = _fma(_fma(s + _Q0, s, _Q1), s, _Q2) if small else u + 1.0
    base = a if small else 1.0
    return math.copysign(base + num / den, x)


#: Largest argument of :func:`_exp_fast` (e^709 ~ 8.2e307; beyond, sech^2 underflows to 0).
_SECH_Y_MAX = 709.0


@jit
def dtanh_fast(x):
    """tanh'(x) = sech^2 x = (2 / (e^a + e^-a))^2, a = |x|, branch-free, error a few ulp.

    1 - tanh^2 x cancels: its relative error grows like e^(2a) (3e-8 at |x| = 10) and it is
    0 from |x| ~ 19 on, where sech^2 is still 1.7e-17; this form has no cancellation and
    follows sech^2 down to underflow (|x| ~ 372).  NaN stays NaN, +-inf gives 0.
    """
    a = abs(x)
    v = _exp_fast(_SECH_Y_MAX if a > _SECH_Y_MAX else a)
    sech = 2.0 / (v + 1.0 / v)
    return sech * sech


# -- scalar activations ----------------------------------------------------------------------------

@jit
def _softplus(x):
    return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))


@jit
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))


@jit
def _dsigmoid(x):
    """sigma'(x) = e^-a / (1 + e^-a)^2, a = |x|: s (1 - s) cancels for large x (relative error
    4e-8 at x = 20, 0 from x ~ 37 on, where sigma' is still 8.5e-17); this form does not."""
    e = math.exp(-abs(x))
    q = 1.0 + e
    return e / (q * q)


@jit
def act(code, x):
    """sigma(x) for the activation ``code``."""
    if code == 0:
        return tanh_fast(x)
    if code == 1:
        return x if x > 0.0 else 0.0
    if code == 2:
        return _softplus(x)
    if code == 3:
        return _sigmoid(x)
    return x


@jit
def dact(code, x):
    """sigma'(x) for the activation ``code`` (relu'(0) = 0)."""
    if code == 0:
        return dtanh_fast(x)
    if code == 1:
        return 1.0 if x > 0.0 else 0.0
    if code == 2:
        return _sigmoid(x)
    if code == 3:
        return _dsigmoid(x)
    return 1.0


# -- in place over an array: one tight loop per activation (tanh, relu, identity vectorise) -------

@jit
def act_array(code, v, n, scale):
    """v[i] = scale sigma(v[i]) for i < n: the same values as ``scale * act(code, v[i])``."""
    if code == 0:
        for i in range(n):
            v[i] = scale * tanh_fast(v[i])
    elif code == 1:
        for i in range(n):
            x = v[i]
            v[i] = scale * (x if x > 0.0 else 0.0)
    elif code == 2:
        for i in range(n):
            v[i] = scale * _softplus(v[i])
    elif code == 3:
        for i in range(n):
            v[i] = scale * _sigmoid(v[i])
    elif scale != 1.0:
        for i in range(n):
            v[i] = scale * v[i]


@jit
def act_rows(code, Z, bias, scale):
    """Z[r, a] = scale sigma(Z[r, a] + bias[a]) for every row r: the bias added in the pass
    that applies sigma (the same values as adding it first, then ``act_array``)."""
    if code == 0:
        for r in range(Z.shape[0]):
            for a in range(Z.shape[1]):
                Z[r, a] = scale * tanh_fast(Z[r, a] + bias[a])
    elif code == 1:
        for r in range(Z.shape[0]):
            for a in range(Z.shape[1]):
                x = Z[r, a] + bias[a]
                Z[r, a] = scale * (x if x > 0.0 else 0.0)
    else:
        for r in range(Z.shape[0]):
            for a in range(Z.shape[1]):
                Z[r, a] += bias[a]
        act_array(code, Z.reshape(Z.size), Z.size, scale)


@jit
def dact_array(code, v, n):
    """v[i] = sigma'(v[i]) for i < n: the same values as ``dact(code, v[i])``."""
    if code == 0:
        for i in range(n):
            v[i] = dtanh_fast(v[i])
    elif code == 1:
        for i in range(n):
            v[i] = 1.0 if v[i] > 0.0 else 0.0
    elif code == 2:
        for i in range(n):
            v[i] = _sigmoid(v[i])
    elif code == 3:
        for i in range(n):
            v[i] = _dsigmoid(v[i])
    else:
        for i in range(n):
            v[i] = 1.0


def activation(name):
    """The NumPy (vectorised) activation ``name``."""
    code = activation_code(name)
    return np.vectorize(lambda x: act(code, float(x)), otypes=[float])


def activation_derivative(name):
    code = activation_code(name)
    return np.vectorize(lambda x: dact(code, float(x)), otypes=[float])
