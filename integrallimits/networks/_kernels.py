"""Compiled layer maps of the network families, as parameterised Volterra kernels.

Every family is a kernel K(t, s, x; theta) in the package's kernel interface
(``integrallimits.kernels``), so a network is a Volterra rule applied to it by
the solvers' own loops.  theta is a flat array:

    theta[0:6] = (t0, h, N, d, activation code, extra)      the header
    theta[6:]  = the weights, family-specific (see the builders in ``_families``)

The grid indices are recovered from the times: n = round((t - t0) / h).  The
state may hold a batch: Y has B d columns, sample b in columns [b d, (b + 1) d),
and the layer map acts on each sample.
"""
from __future__ import annotations

from functools import lru_cache
from math import comb

import numpy as np

from .._numba import jit
from ..kernels._kernel import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, VJP_SIGNATURE, make_block_sum
from ._activations import act, dact

HEADER = 6


@jit
def _index(x, t0, h, N):
    n = int(round((x - t0) / h))
    return min(max(n, 0), N)


@jit
def _header(theta):
    return theta[0], theta[1], int(theta[2]), int(theta[3]), int(theta[4])


@jit
def _affine_act(code, Y, j, theta, wo, bo, d, scale, out):
    """out = scale sigma(W x + b) for every sample of row j (W at wo, b at bo in theta)."""
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            z = theta[bo + a]
            for c in range(d):
                z += theta[wo + a * d + c] * Y[j, bb * d + c]
            out[bb * d + a] = scale * act(code, z)


@jit
def _affine_jac(code, Y, j, theta, wo, bo, d, scale, J):
    """J = scale diag(sigma'(W x + b)) W, block diagonal over the samples."""
    J[:, :] = 0.0
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            z = theta[bo + a]
            for c in range(d):
                z += theta[wo + a * d + c] * Y[j, bb * d + c]
            g = scale * dact(code, z)
            for c in range(d):
                J[bb * d + a, bb * d + c] = g * theta[wo + a * d + c]


# -- residual-dense: K(t_n, t_j, x) = sigma(W_nj x + b_nj) --------------------------------------

@jit
def _dense_offsets(t, s, theta):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    return (HEADER + (n * (N + 1) + m) * d * d,
            HEADER + (N + 1) * (N + 1) * d * d + (n * (N + 1) + m) * d, d, code)


def residual_dense(t, s, Y, j, theta, out):
    wo, bo, d, code = _dense_offsets(t, s, theta)
    _affine_act(code, Y, j, theta, wo, bo, d, 1.0, out)


def residual_dense_jacobian(t, s, Y, j, theta, J):
    wo, bo, d, code = _dense_offsets(t, s, theta)
    _affine_jac(code, Y, j, theta, wo, bo, d, 1.0, J)


# -- ResNet: K(s, x) = sigma(W(s) x + b(s)), independent of t -----------------------------------

@jit
def _layer_offsets(s, theta):
    t0, h, N, d, code = _header(theta)
    m = _index(s, t0, h, N)
    return HEADER + m * d * d, HEADER + (N + 1) * d * d + m * d, d, code


def resnet(t, s, Y, j, theta, out):
    wo, bo, d, code = _layer_offsets(s, theta)
    _affine_act(code, Y, j, theta, wo, bo, d, 1.0, out)


def resnet_jacobian(t, s, Y, j, theta, J):
    wo, bo, d, code = _layer_offsets(s, theta)
    _affine_jac(code, Y, j, theta, wo, bo, d, 1.0, J)


# -- concatenation-dense: K(t_n, t_j, z) = W_nj sigma(z) (Hammerstein) ----------------------------

def concat_dense(t, s, Y, j, theta, out):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    wo = HEADER + (n * (N + 1) + m) * d * d
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            z = 0.0
            for c in range(d):
                z += theta[wo + a * d + c] * act(code, Y[j, bb * d + c])
            out[bb * d + a] = z


def concat_dense_jacobian(t, s, Y, j, theta, J):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    wo = HEADER + (n * (N + 1) + m) * d * d
    J[:, :] = 0.0
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            for c in range(d):
                J[bb * d + a, bb * d + c] = theta[wo + a * d + c] * dact(code, Y[j, bb * d + c])


# -- smooth k-th order: K(t_n, t_j, x) = h^(k-1) C(n-j-1, k-1) sigma(W_j x + b_j), j <= n - k -----

@jit
def _smooth_weight(n, m, k, h):
    if m > n - k:
        return 0.0
    w = 1.0
    for i in range(k - 1):  # C(n - m - 1, k - 1) = prod_i (n - m - 1 - i) / (i + 1)
        w = w * (n - m - 1 - i) / (i + 1)
    return w * h ** (k - 1)


@jit
def _smooth_scale(t, s, theta):
    t0, h, N, d, code = _header(theta)
    return _smooth_weight(_index(t, t0, h, N), _index(s, t0, h, N), int(theta[5]), h)


def smooth(t, s, Y, j, theta, out):
    wo, bo, d, code = _layer_offsets(s, theta)
    _affine_act(code, Y, j, theta, wo, bo, d, _smooth_scale(t, s, theta), out)


def smooth_jacobian(t, s, Y, j, theta, J):
    wo, bo, d, code = _layer_offsets(s, theta)
    _affine_jac(code, Y, j, theta, wo, bo, d, _smooth_scale(t, s, theta), J)


# -- ReLU ResNet with inner width m: K(s, x) = V(s) relu(W(s) x + b(s)) / h ----------------------

@jit
def _relu_offsets(s, theta):
    """(h, d, m, vo, wo, bo): V_q, W_q, b_q offsets of the layer read at time s."""
    t0, h, N, d, code = _header(theta)
    m = int(theta[5])
    q = _index(s, t0, h, N)
    vo = HEADER + q * d * m
    wo = HEADER + (N + 1) * d * m + q * m * d
    bo = HEADER + (N + 1) * d * m + (N + 1) * m * d + q * m
    return h, d, m, vo, wo, bo


def relu_resnet(t, s, Y, j, theta, out):
    h, d, m, vo, wo, bo = _relu_offsets(s, theta)
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            out[bb * d + a] = 0.0
        for r in range(m):
            z = theta[bo + r]
            for c in range(d):
                z += theta[wo + r * d + c] * Y[j, bb * d + c]
            if z > 0.0:
                for a in range(d):
                    out[bb * d + a] += theta[vo + a * m + r] * z / h


def relu_resnet_jacobian(t, s, Y, j, theta, J):
    h, d, m, vo, wo, bo = _relu_offsets(s, theta)
    J[:, :] = 0.0
    for bb in range(Y.shape[1] // d):
        for r in range(m):
            z = theta[bo + r]
            for c in range(d):
                z += theta[wo + r * d + c] * Y[j, bb * d + c]
            if z > 0.0:
                for a in range(d):
                    for c in range(d):
                        J[bb * d + a, bb * d + c] += theta[vo + a * m + r] * theta[wo + r * d + c] / h


_FAMILIES = {
    "residual-dense": (residual_dense, residual_dense_jacobian),
    "resnet": (resnet, resnet_jacobian),
    "concat-dense": (concat_dense, concat_dense_jacobian),
    "smooth": (smooth, smooth_jacobian),
    "relu-resnet": (relu_resnet, relu_resnet_jacobian),
}


# -- vector-Jacobian products for the adjoint: gy += w K_y^T mu, gtheta += w K_theta^T mu -----------

@jit
def _affine_vjp(code, Y, j, theta, wo, bo, d, scale, mu, w, gy, gtheta):
    """For out = scale sigma(W x + b) (W at wo, b at bo in theta), sample by sample."""
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            z = theta[bo + a]
            for c in range(d):
                z += theta[wo + a * d + c] * Y[j, bb * d + c]
            delta = w * scale * mu[bb * d + a] * dact(code, z)
            if delta == 0.0:
                continue
            gtheta[bo + a] += delta
            for c in range(d):
                gtheta[wo + a * d + c] += delta * Y[j, bb * d + c]
                gy[bb * d + c] += delta * theta[wo + a * d + c]


def residual_dense_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    wo, bo, d, code = _dense_offsets(t, s, theta)
    _affine_vjp(code, Y, j, theta, wo, bo, d, 1.0, mu, w, gy, gtheta)


def resnet_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    wo, bo, d, code = _layer_offsets(s, theta)
    _affine_vjp(code, Y, j, theta, wo, bo, d, 1.0, mu, w, gy, gtheta)


def smooth_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    scale = _smooth_scale(t, s, theta)
    if scale != 0.0:
        wo, bo, d, code = _layer_offsets(s, theta)
        _affine_vjp(code, Y, j, theta, wo, bo, d, scale, mu, w, gy, gtheta)


def concat_dense_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    wo = HEADER + (n * (N + 1) + m) * d * d
    for bb in range(Y.shape[1] // d):
        for c in range(d):
            x = Y[j, bb * d + c]
            sc, dsc = act(code, x), dact(code, x)
            acc = 0.0
            for a in range(d):
                ma = w * mu[bb * d + a]
                gtheta[wo + a * d + c] += ma * sc
                acc += ma * theta[wo + a * d + c]
            gy[bb * d + c] += acc * dsc


def relu_resnet_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    h, d, m, vo, wo, bo = _relu_offsets(s, theta)
    for bb in range(Y.shape[1] // d):
        for r in range(m):
            z = theta[bo + r]
            for c in range(d):
                z += theta[wo + r * d + c] * Y[j, bb * d + c]
            if z <= 0.0:
                continue
            delta = 0.0
            for a in range(d):
                ma = w * mu[bb * d + a] / h
                gtheta[vo + a * m + r] += ma * z
                delta += ma * theta[vo + a * m + r]
            gtheta[bo + r] += delta
            for c in range(d):
                gtheta[wo + r * d + c] += delta * Y[j, bb * d + c]
                gy[bb * d + c] += delta * theta[wo + r * d + c]


_VJPS = {"residual-dense": residual_dense_vjp, "resnet": resnet_vjp, "concat-dense": concat_dense_vjp,
         "smooth": smooth_vjp, "relu-resnet": relu_resnet_vjp}


@lru_cache(maxsize=None)
def family_functions(family):
    """(function, jacobian_function, vjp) of a family, compiled (or loaded from the on-disk
    cache) on first use: importing the networks compiles nothing."""
    function, jacobian = _FAMILIES[family]
    return (jit(KERNEL_SIGNATURE)(function), jit(JACOBIAN_SIGNATURE)(jacobian),
            jit(VJP_SIGNATURE)(_VJPS[family]))


@lru_cache(maxsize=None)
def block_sum(family):
    """The compiled block sum of a family's kernel (built once per process)."""
    return make_block_sum(family_functions(family)[0])


def smooth_weight_exact(n, j, k):
    """The integer C(n - j - 1, k - 1) (j <= n - k), for tests and the symbolic layer."""
    return comb(n - j - 1, k - 1) if j <= n - k else 0


def pack(header, *arrays):
    """theta = header followed by the arrays, flattened (C order)."""
    parts = [np.asarray(header, dtype=float)] + [np.ascontiguousarray(a, dtype=float).ravel()
                                                 for a in arrays]
    return np.concatenate(parts)
