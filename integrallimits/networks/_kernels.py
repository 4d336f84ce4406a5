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
from ..kernels._kernel import BLOCK_SIGNATURE, KERNEL_SIGNATURE, block_loop
from ._activations import act_array, act_rows, dact_array

HEADER = 6


@jit
def _index(x, t0, h, N):
    n = int(round((x - t0) / h))
    return min(max(n, 0), N)


@jit
def _header(theta):
    return theta[0], theta[1], int(theta[2]), int(theta[3]), int(theta[4])


@jit(inline="always")
def _affine_z_loop(Y, j, theta, wo, bo, d, z):
    n = (Y.shape[1] // d) * d
    for bb in range(0, n, d):
        for a in range(d):
            acc = theta[bo + a]
            for c in range(d):
                acc += theta[wo + a * d + c] * Y[j, bb + c]
            z[bb + a] = acc
    return n


@jit
def _product_blas(Y, j, theta, wo, d, z):
    """Z = X W^T for the samples X (B, d) of row j as one matrix product (BLAS); returns Z,
    a (B, d) view of z."""
    B = Y.shape[1] // d
    Z = z[:B * d].reshape(B, d)
    np.dot(Y[j, :B * d].reshape(B, d), theta[wo:wo + d * d].reshape(d, d).T, Z)
    return Z


@jit
def _affine_z_blas(Y, j, theta, wo, bo, d, z):
    """z = W x + b for every sample of row j as one matrix product (B, d) @ (d, d)^T (BLAS)."""
    Z = _product_blas(Y, j, theta, wo, d, z)
    for r in range(Z.shape[0]):
        for a in range(d):
            Z[r, a] += theta[bo + a]
    return Z.size


@jit
def _affine_z(Y, j, theta, wo, bo, d, z):
    """z = W x + b for every sample of row j (W at wo, b at bo in theta); returns B d.

    Widths d <= 4 run their own copy of the loop, with d a constant: LLVM then unrolls the
    d x d product and vectorises over the samples (6x faster at d = 4); wider layers are one
    matrix product of the batch with W^T (BLAS: 2.3x faster than the loop at d = 8, 5x at
    d = 16, 18x at d = 256, B = 128)."""
    if d == 1:
        return _affine_z_loop(Y, j, theta, wo, bo, 1, z)
    if d == 2:
        return _affine_z_loop(Y, j, theta, wo, bo, 2, z)
    if d == 3:
        return _affine_z_loop(Y, j, theta, wo, bo, 3, z)
    if d == 4:
        return _affine_z_loop(Y, j, theta, wo, bo, 4, z)
    return _affine_z_blas(Y, j, theta, wo, bo, d, z)


@jit
def _affine_act(code, Y, j, theta, wo, bo, d, scale, out):
    """out = scale sigma(W x + b) for every sample of row j (W at wo, b at bo in theta):
    all of z = W x + b first, then sigma in one loop over ``out`` (SIMD for tanh, relu);
    wide layers add b in that loop (one pass less over the batch)."""
    if d <= 4:
        n = _affine_z(Y, j, theta, wo, bo, d, out)
        act_array(code, out, n, scale)
    else:
        act_rows(code, _product_blas(Y, j, theta, wo, d, out), theta[bo:bo + d], scale)


@jit
def _affine_jac(code, Y, j, theta, wo, bo, d, scale, J):
    """J = scale diag(sigma'(W x + b)) W, block diagonal over the samples."""
    J[:, :] = 0.0
    g = np.empty(Y.shape[1])
    n = _affine_z(Y, j, theta, wo, bo, d, g)
    dact_array(code, g, n)
    for bb in range(0, n, d):
        for a in range(d):
            ga = scale * g[bb + a]
            for c in range(d):
                J[bb + a, bb + c] = ga * theta[wo + a * d + c]


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

@jit
def _act_row(code, Y, j, derivative):
    """sigma(Y[j]) (or sigma'(Y[j])) as a new array, in one loop (SIMD for tanh, relu)."""
    v = Y[j].copy()
    if derivative:
        dact_array(code, v, v.shape[0])
    else:
        act_array(code, v, v.shape[0], 1.0)
    return v


def concat_dense(t, s, Y, j, theta, out):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    wo = HEADER + (n * (N + 1) + m) * d * d
    sy = _act_row(code, Y, j, False)
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            z = 0.0
            for c in range(d):
                z += theta[wo + a * d + c] * sy[bb * d + c]
            out[bb * d + a] = z


def concat_dense_jacobian(t, s, Y, j, theta, J):
    t0, h, N, d, code = _header(theta)
    n, m = _index(t, t0, h, N), _index(s, t0, h, N)
    wo = HEADER + (n * (N + 1) + m) * d * d
    J[:, :] = 0.0
    dsy = _act_row(code, Y, j, True)
    for bb in range(Y.shape[1] // d):
        for a in range(d):
            for c in range(d):
                J[bb * d + a, bb * d + c] = theta[wo + a * d + c] * dsy[bb * d + c]


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


# -- vector-Jacobian products for the adjoint: gy += w K_y^T mu, gtheta += w K_theta^T mu -----------

@jit(inline="always")
def _affine_vjp_loop(Y, j, theta, wo, d, nb, g, gy, gT, yT):
    for bb in range(nb):
        for c in range(d):
            acc = gy[bb * d + c]
            for a in range(d):
                acc += g[bb * d + a] * theta[wo + a * d + c]
            gy[bb * d + c] = acc
            gT[c * nb + bb] = g[bb * d + c]
            yT[c * nb + bb] = Y[j, bb * d + c]


@jit
def _affine_vjp_gy(Y, j, theta, wo, d, nb, g, gy, gT, yT):
    """gy += W^T delta sample by sample (delta = g); delta and x transposed into gT, yT
    (row a holds component a of all samples)."""
    if d == 1:
        _affine_vjp_loop(Y, j, theta, wo, 1, nb, g, gy, gT, yT)
    elif d == 2:
        _affine_vjp_loop(Y, j, theta, wo, 2, nb, g, gy, gT, yT)
    elif d == 3:
        _affine_vjp_loop(Y, j, theta, wo, 3, nb, g, gy, gT, yT)
    elif d == 4:
        _affine_vjp_loop(Y, j, theta, wo, 4, nb, g, gy, gT, yT)
    else:
        _affine_vjp_loop(Y, j, theta, wo, d, nb, g, gy, gT, yT)


@jit(fastmath={"reassoc"})
def _affine_vjp_gtheta(d, nb, gT, yT, wo, bo, gtheta):
    """gtheta[b] += sum_samples delta, gtheta[W] += sum_samples delta x^T (contiguous sums)."""
    for a in range(d):
        sb = 0.0
        for bb in range(nb):
            sb += gT[a * nb + bb]
        gtheta[bo + a] += sb
        for c in range(d):
            sw = 0.0
            for bb in range(nb):
                sw += gT[a * nb + bb] * yT[c * nb + bb]
            gtheta[wo + a * d + c] += sw


@jit
def _affine_vjp(code, Y, j, theta, wo, bo, d, scale, mu, w, gy, gtheta):
    """For out = scale sigma(W x + b) (W at wo, b at bo in theta): delta = w scale mu
    sigma'(W x + b) for the whole batch (sigma' in one SIMD loop), then gy += W^T delta per
    sample and the parameter gradient as sums over the samples."""
    nb = Y.shape[1] // d
    buf = np.empty(3 * nb * d)
    g, gT, yT = buf[:nb * d], buf[nb * d:2 * nb * d], buf[2 * nb * d:]
    n = _affine_z(Y, j, theta, wo, bo, d, g)
    dact_array(code, g, n)
    ws = w * scale
    for i in range(n):
        g[i] = ws * mu[i] * g[i]
    _affine_vjp_gy(Y, j, theta, wo, d, nb, g, gy, gT, yT)
    _affine_vjp_gtheta(d, nb, gT, yT, wo, bo, gtheta)


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
    sy = _act_row(code, Y, j, False)
    dsy = _act_row(code, Y, j, True)
    for bb in range(Y.shape[1] // d):
        for c in range(d):
            sc, dsc = sy[bb * d + c], dsy[bb * d + c]
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


# -- the compiled forms: lazy (importing compiles nothing), cached on disk ------------------------

_RESIDUAL_DENSE = jit(residual_dense)
_RESNET = jit(resnet)
_CONCAT_DENSE = jit(concat_dense)
_SMOOTH = jit(smooth)
_RELU_RESNET = jit(relu_resnet)


# The block sums are module-level functions, so that they are cached on disk too (a block sum
# built by ``make_block_sum`` is compiled again in every process).

@jit
def _residual_dense_block_sum(t, svals, Y, a, b, w, theta, out):
    block_loop(_RESIDUAL_DENSE, t, svals, Y, a, b, w, theta, out)


@jit
def _resnet_block_sum(t, svals, Y, a, b, w, theta, out):
    block_loop(_RESNET, t, svals, Y, a, b, w, theta, out)


@jit
def _concat_dense_block_sum(t, svals, Y, a, b, w, theta, out):
    block_loop(_CONCAT_DENSE, t, svals, Y, a, b, w, theta, out)


@jit
def _smooth_block_sum(t, svals, Y, a, b, w, theta, out):
    block_loop(_SMOOTH, t, svals, Y, a, b, w, theta, out)


@jit
def _relu_resnet_block_sum(t, svals, Y, a, b, w, theta, out):
    block_loop(_RELU_RESNET, t, svals, Y, a, b, w, theta, out)


#: family -> (function, jacobian, vjp, block sum)
_FAMILIES = {
    "residual-dense": (_RESIDUAL_DENSE, residual_dense_jacobian, residual_dense_vjp,
                       _residual_dense_block_sum),
    "resnet": (_RESNET, resnet_jacobian, resnet_vjp, _resnet_block_sum),
    "concat-dense": (_CONCAT_DENSE, concat_dense_jacobian, concat_dense_vjp, _concat_dense_block_sum),
    "smooth": (_SMOOTH, smooth_jacobian, smooth_vjp, _smooth_block_sum),
    "relu-resnet": (_RELU_RESNET, relu_resnet_jacobian, relu_resnet_vjp, _relu_resnet_block_sum),
}


@lru_cache(maxsize=None)
def family_functions(family):
    """(function, jacobian_function, vjp) of a family: the function compiled (or loaded from
    the on-disk cache) on first use, importing the networks compiles nothing; the Jacobian and
    the vjp when they are first needed (by an implicit rule, by an adjoint: a forward pass on
    an explicit rule compiles neither, seconds each)."""
    function, jacobian, vjp, _ = _FAMILIES[family]
    function.compile(KERNEL_SIGNATURE)
    return function, jit(jacobian), jit(vjp)


@lru_cache(maxsize=None)
def block_sum(family):
    """The compiled block sum of a family's kernel, the kernel inlined (compiled or loaded from
    the on-disk cache on first use)."""
    family_functions(family)
    summed = _FAMILIES[family][3]
    summed.compile(BLOCK_SIGNATURE)
    return summed


def smooth_weight_exact(n, j, k):
    """The integer C(n - j - 1, k - 1) (j <= n - k), for tests and the symbolic layer."""
    return comb(n - j - 1, k - 1) if j <= n - k else 0


def pack(header, *arrays):
    """theta = header followed by the arrays, flattened (C order)."""
    parts = [np.asarray(header, dtype=float)] + [np.ascontiguousarray(a, dtype=float).ravel()
                                                 for a in arrays]
    return np.concatenate(parts)


def views(theta, start, *arrays):
    """Views of ``theta`` shaped as ``arrays``, laid out from ``start`` in order (as
    :func:`pack` stored them): a network keeps its fields as these views, so that a field
    edited in place changes the network's kernel and an edit of ``theta`` shows in the
    fields (and in every method that reads them)."""
    out = []
    for a in arrays:
        out.append(theta[start:start + a.size].reshape(a.shape))
        start += a.size
    return out
