r"""The compiled kernel of the non-local dense network: K(t, s, x) = σ(Σ_r (W^r(t, s) ⊗ S_r) x + b(t, s)),
its Jacobian in the state and its vector-Jacobian product in the state and the parameters.

Layout of the parameter vector theta (built by :class:`~integrallimits.networks.NonlocalDense`)::

    [t0, h, N, c, activation code, M, R, bias offset, spatial bias (0/1)]   the header
    [kind, data offset, channel-field offset, d_k] per map r = 0..R-1
    data of each map (local: c(ξ_p) (M); dense: S (M, M); attention: ω (M), κQ, K (d_k, c))
    channel fields W^r (N+1, N+1, c, c) of each map, then the bias (N+1, N+1, c[, M]).

The state of one sample is x[a M + p] = x_a(ξ_p); a batch is B such blocks side by side.  Each
map's own compiled form (apply, vjp) lives in its module of :mod:`integrallimits.networks.maps`;
this module dispatches on the kind code and adds the channel mixing, the bias and σ.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from .._numba import jit
from ..kernels._kernel import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, VJP_SIGNATURE, make_block_sum
from ._activations import act, dact
from .maps._attention import (attention_apply, attention_derivative, attention_vjp,
                               attention_work_size)
from .maps._base import ATTENTION, LOCAL
from .maps._local import local_apply, local_vjp
from .maps._nystrom import dense_apply, dense_vjp

__all__ = ["HEADER", "MAP_FIELDS", "nonlocal_dense", "nonlocal_dense_jacobian", "nonlocal_dense_vjp",
           "compiled_kernel", "compiled_block_sum"]

HEADER = 9
MAP_FIELDS = 4


@jit
def _pair(t, s, theta):
    t0, h, N = theta[0], theta[1], int(theta[2])
    n = min(max(int(round((t - t0) / h)), 0), N)
    m = min(max(int(round((s - t0) / h)), 0), N)
    return n * (N + 1) + m


@jit
def _map_work(theta):
    """Work space of one map (the attention maps' queries, keys and weights; see
    :func:`~integrallimits.networks.maps._attention.attention_work_size`)."""
    M, R = int(theta[5]), int(theta[6])
    dk = 0
    for r in range(R):
        dk = max(dk, int(theta[HEADER + MAP_FIELDS * r + 3]))
    return attention_work_size(dk, M) if dk > 0 else 0


@jit
def _work_size(theta):
    """Work space of all maps: map r uses work[r W:(r + 1) W], W = :func:`_map_work`."""
    return int(theta[6]) * _map_work(theta)


@jit
def _spatial_apply(theta, r, u, base, v, work):
    """v[b M + p] = (S_r u_b)(ξ_p) for the sample starting at u[base]: map r on each channel."""
    c, M = int(theta[3]), int(theta[5])
    desc = HEADER + MAP_FIELDS * r
    kind, off, dk = int(theta[desc]), int(theta[desc + 1]), int(theta[desc + 3])
    if kind == LOCAL:
        local_apply(theta, off, c, M, u, base, v)
    elif kind == ATTENTION:
        size = _map_work(theta)
        attention_apply(theta, off, dk, c, M, u, base, v, work[r * size:(r + 1) * size])
    else:
        dense_apply(theta, off, c, M, u, base, v)


@jit
def _spatial_vjp(theta, r, u, base, G, gy, work):
    """gy += (∂(S_r u)/∂u)^T G for the sample at u[base] (the transpose of :func:`_spatial_apply`,
    after it ran on the same sample: an attention map reads its weights from ``work``)."""
    c, M = int(theta[3]), int(theta[5])
    desc = HEADER + MAP_FIELDS * r
    kind, off, dk = int(theta[desc]), int(theta[desc + 1]), int(theta[desc + 3])
    if kind == LOCAL:
        local_vjp(theta, off, c, M, G, gy, base)
    elif kind == ATTENTION:
        size = _map_work(theta)
        attention_vjp(theta, off, dk, c, M, u, base, G, gy, work[r * size:(r + 1) * size])
    else:
        dense_vjp(theta, off, c, M, G, gy, base)


@jit
def _preactivation(theta, pair, u, base, z, v, work):
    """z = Σ_r (W^r_nj ⊗ S_r) u + b_nj for the sample at u[base] (pair = n (N+1) + j); the
    maps' outputs S_r u are left in v[r c M:(r + 1) c M] (v holds R c M values)."""
    c, M, R = int(theta[3]), int(theta[5]), int(theta[6])
    bo = int(theta[7])
    size = c * M
    if theta[8] != 0.0:
        for k in range(size):
            z[k] = theta[bo + pair * size + k]
    else:
        for a in range(c):
            for p in range(M):
                z[a * M + p] = theta[bo + pair * c + a]
    for r in range(R):
        vr = v[r * size:(r + 1) * size]
        _spatial_apply(theta, r, u, base, vr, work)
        wo = int(theta[HEADER + MAP_FIELDS * r + 2]) + pair * c * c
        for a in range(c):
            for b in range(c):
                w = theta[wo + a * c + b]
                for p in range(M):
                    z[a * M + p] += w * vr[b * M + p]


def nonlocal_dense(t, s, Y, j, theta, out):
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(R * size)
    work = np.empty(_work_size(theta))
    u = Y[j]
    for bb in range(Y.shape[1] // size):
        base = bb * size
        _preactivation(theta, pair, u, base, z, v, work)
        for k in range(size):
            out[base + k] = act(code, z[k])


def nonlocal_dense_jacobian(t, s, Y, j, theta, J):
    """dK/dx = diag(σ'(z)) Σ_r (W^r ⊗ 1) ∂(S_r x)/∂x, block diagonal over the samples
    (∂(S_r x)/∂x = S_r for a linear map; for an attention map its derivative)."""
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(R * size)
    g = np.empty(size)
    D = np.empty((size, size))
    work = np.empty(_work_size(theta))
    u = Y[j]
    J[:, :] = 0.0
    for bb in range(Y.shape[1] // size):
        base = bb * size
        _preactivation(theta, pair, u, base, z, v, work)
        for k in range(size):
            g[k] = dact(code, z[k])
        for r in range(R):
            desc = HEADER + MAP_FIELDS * r
            kind, off, dk = int(theta[desc]), int(theta[desc + 1]), int(theta[desc + 3])
            wo = int(theta[desc + 2]) + pair * c * c
            if kind == ATTENTION:
                attention_derivative(theta, off, dk, c, M, u, base, D, work)
            for a in range(c):
                for p in range(M):
                    row = base + a * M + p
                    for b in range(c):
                        w = g[a * M + p] * theta[wo + a * c + b]
                        if kind == LOCAL:
                            J[row, base + b * M + p] += w * theta[off + p]
                        elif kind == ATTENTION:
                            for col in range(size):
                                J[row, base + col] += w * D[b * M + p, col]
                        else:
                            for q in range(M):
                                J[row, base + b * M + q] += w * theta[off + p * M + q]


def nonlocal_dense_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    r"""gy += w K_y^T mu and gtheta += w K_θ^T mu for K = σ(Σ_r (W^r ⊗ S_r) y + b).

    Per sample block, with g = w σ'(z) ⊙ mu (z the pre-activation) and v_r = S_r y (both
    from one pass of :func:`_preactivation`):

    * dW^r_ab += Σ_p g_a(ξ_p) v_{r,b}(ξ_p)  (the channel field of map r at the pair (n, j)),
    * db += g, summed over ξ for a channel bias (shape (c,)), pointwise for a bias (c, M),
    * gy += Σ_r (∂v_r/∂y)^T G_r with G_{r,b} = Σ_a W^r_ab g_a (S_r^T G_r for a linear map;
      a convolution acts through its dense matrix; an attention map through its own vjp).

    The maps' operators are fixed (an attention map's query and key are not trained).
    """
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    bo = int(theta[7])
    spatial_bias = theta[8] != 0.0
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(R * size)
    g = np.empty(size)
    G = np.empty(size)
    work = np.empty(_work_size(theta))
    u = Y[j]
    for bb in range(Y.shape[1] // size):
        base = bb * size
        _preactivation(theta, pair, u, base, z, v, work)
        for k in range(size):
            g[k] = w * dact(code, z[k]) * mu[base + k]
        if spatial_bias:
            for k in range(size):
                gtheta[bo + pair * size + k] += g[k]
        else:
            for a in range(c):
                acc = 0.0
                for p in range(M):
                    acc += g[a * M + p]
                gtheta[bo + pair * c + a] += acc
        for r in range(R):
            wo = int(theta[HEADER + MAP_FIELDS * r + 2]) + pair * c * c
            vr = r * size       # S_r u, left in v by _preactivation
            for a in range(c):
                for b in range(c):
                    acc = 0.0
                    for p in range(M):
                        acc += g[a * M + p] * v[vr + b * M + p]
                    gtheta[wo + a * c + b] += acc
            for b in range(c):
                for p in range(M):  # G_b = Σ_a W^r_ab g_a
                    acc = 0.0
                    for a in range(c):
                        acc += theta[wo + a * c + b] * g[a * M + p]
                    G[b * M + p] = acc
            _spatial_vjp(theta, r, u, base, G, gy, work)


@lru_cache(maxsize=None)
def compiled_kernel():
    """(kernel, jacobian, vjp) compiled on first use (importing the module compiles nothing)."""
    return (jit(KERNEL_SIGNATURE)(nonlocal_dense), jit(JACOBIAN_SIGNATURE)(nonlocal_dense_jacobian),
            jit(VJP_SIGNATURE)(nonlocal_dense_vjp))


@lru_cache(maxsize=None)
def compiled_block_sum():
    """The compiled block sum of the non-local kernel (built once per process)."""
    return make_block_sum(compiled_kernel()[0])
