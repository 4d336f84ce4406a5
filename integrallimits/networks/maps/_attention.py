r"""The data-dependent (attention-like) feature map with quadrature weights in the softmax,
and its compiled forward map, vector-Jacobian product and state derivative."""
from __future__ import annotations

import math
import numbers

import numpy as np

from ..._memory import check_memory
from ..._numba import jit
from ._base import ATTENTION, FeatureMap
from ._spatial import read_only

__all__ = ["AttentionMap", "attention_apply", "attention_vjp", "attention_derivative",
           "attention_work_size"]


class AttentionMap(FeatureMap):
    r"""Data-dependent (attention-like) map with quadrature weights in the softmax.

    .. math:: (A(u) u)_a(\xi) = \sum_b C_{ab} \int_\Omega a(\xi, \eta; u)\, u_b(\eta)\, d\eta,
              \qquad a(\xi, \eta; u) = \frac{\exp s(\xi, \eta)}{\int_\Omega \exp s(\xi, \eta')\, d\eta'},

    s(ξ, η) = κ ⟨Q u(ξ), K u(η)⟩ (κ = ``scale``).  For each ξ, a(ξ, ·; u) is a
    probability density on Ω.  Discretised with the spatial rule,

    .. math:: \alpha_{pm} = \frac{\omega_m \exp s(\xi_p, \eta_m)}{\sum_{m'} \omega_{m'}
              \exp s(\xi_p, \eta_{m'})}, \qquad \sum_m \alpha_{pm} = 1,

    and (A u)_a(ξ_p) = Σ_b C_ab Σ_m α_pm u_b(η_m): a ratio of two quadratures of
    smooth integrands, so it converges with the rule's order as M -> ∞ (the plain
    softmax, without ω_m, would not converge on non-uniform grids).  C plays the
    role of the value matrix.

    Parameters
    ----------
    grid : SpatialRule
        Its weights must be positive.
    query, key : array (d_k, c)
        Q and K.
    scale : float, optional
        κ (default 1 / sqrt(d_k)).
    channel_matrix, channels
        See :class:`FeatureMap`.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import spatial_rule
    >>> grid = spatial_rule("gauss-legendre", 8)
    >>> att = AttentionMap(grid, query=[[1.0]], key=[[2.0]])
    >>> u = np.sin(3 * grid.nodes)[None]
    >>> bool(np.allclose(att.attention_weights(u).sum(axis=-1), 1.0))
    True
    """

    kind = "attention"
    linear = False

    def __init__(self, grid, query, key, scale=None, channel_matrix=None, channels=None):
        Q = np.atleast_2d(np.asarray(query, dtype=float))
        if channels is None and channel_matrix is None:
            channels = Q.shape[1]
        super().__init__(grid, channel_matrix, channels)
        K = np.atleast_2d(np.asarray(key, dtype=float))
        c = self.in_channels
        if Q.ndim != 2 or Q.shape[1] != c or K.shape != Q.shape:
            raise ValueError(f"query and key must both have shape (d_k, {c}), got "
                             f"{Q.shape} and {K.shape}")
        if not (np.all(np.isfinite(Q)) and np.all(np.isfinite(K))):
            raise ValueError("query and key must be finite")
        if np.any(grid.weights <= 0):
            raise ValueError(f"AttentionMap needs positive quadrature weights (a probability "
                             f"density); rule {grid.interval.name!r} has non-positive ones")
        scale = 1.0 / math.sqrt(Q.shape[0]) if scale is None else scale
        if not isinstance(scale, numbers.Real) or not np.isfinite(scale):
            raise ValueError(f"scale must be a finite float, got {scale!r}")
        self.query, self.key, self.scale = read_only(Q), read_only(K), float(scale)

    def scores(self, U):
        """s(ξ_p, η_m) = κ ⟨Q u(ξ_p), K u(η_m)⟩ for U (B, c, M) -> (B, M, M)."""
        U, _ = self._check_features(U)
        return self.scale * np.einsum("kc,Bcp,kd,Bdm->Bpm", self.query, U, self.key, U)

    def attention_weights(self, U):
        """α_pm = ω_m e^{s_pm} / Σ_m' ω_m' e^{s_pm'} for U (B, c, M) or (c, M): rows sum to 1."""
        U, single = self._check_features(U)
        B, M = U.shape[0], self.grid.M
        check_memory(3 * 8.0 * B * float(M) ** 2,     # (the scores, their exponentials and α)
                     f"AttentionMap's weights of {B} samples on {M} nodes ({B} x {M} x {M} "
                     f"values, three times)")
        S = self.scores(U)
        E = np.exp(S - S.max(axis=-1, keepdims=True)) * self.grid.weights
        alpha = E / E.sum(axis=-1, keepdims=True)
        return alpha[0] if single else alpha

    def _spatial(self, U):
        return np.einsum("Bpm,Bcm->Bcp", self.attention_weights(U), U)

    def _compiled(self):
        data = np.concatenate([self.grid.weights, (self.scale * self.query).ravel(),
                               self.key.ravel()])
        return ATTENTION, data, self.query.shape[0]


# -- compiled form (read by the non-local network's kernel) ------------------------------------------
# data at theta[off:]: ω (M), κQ (d_k, c), K (d_k, c).  For one sample u (channel b at node p in
# u[base + b M + p]) with queries q_p = κ Q u(ξ_p), keys k_m = K u(η_m), scores s_pm = q_p · k_m and
# α_pm = ω_m e^{s_pm} / Σ_m' ω_m' e^{s_pm'}, the map is v_b(ξ_p) = Σ_m α_pm u_b(η_m).
# work: q (d_k M) | k (d_k M) | α (M M) | dJ/dq (d_k M) | dJ/dk (d_k M) | a row (M).

@jit
def attention_work_size(dk, M):
    """The length of the work array the compiled attention functions need."""
    return 4 * dk * M + M * M + M


@jit
def _queries_keys(theta, off, dk, c, M, u, base, work):
    """work[k M + p] = (κ Q u(ξ_p))_k and work[(d_k + k) M + p] = (K u(ξ_p))_k."""
    qo, ko = off + M, off + M + dk * c
    for k in range(dk):
        for p in range(M):
            aq = 0.0
            ak = 0.0
            for b in range(c):
                aq += theta[qo + k * c + b] * u[base + b * M + p]
                ak += theta[ko + k * c + b] * u[base + b * M + p]
            work[k * M + p] = aq
            work[(dk + k) * M + p] = ak


@jit
def _attention_row(theta, off, dk, M, p, work, at):
    """work[at + m] = α_pm (the row p of the attention weights, summing to 1)."""
    top = -np.inf
    for m in range(M):
        sc = 0.0
        for k in range(dk):
            sc += work[k * M + p] * work[(dk + k) * M + m]
        work[at + m] = sc
        top = max(top, sc)
    den = 0.0
    for m in range(M):
        e = theta[off + m] * math.exp(work[at + m] - top)
        work[at + m] = e
        den += e
    for m in range(M):
        work[at + m] /= den


@jit
def attention_apply(theta, off, dk, c, M, u, base, v, work):
    """v[b M + p] = Σ_m α_pm u_b(η_m) for the sample at u[base]; leaves q, k and α in ``work``
    (read by :func:`attention_vjp`)."""
    _queries_keys(theta, off, dk, c, M, u, base, work)
    for p in range(M):
        at = 2 * dk * M + p * M
        _attention_row(theta, off, dk, M, p, work, at)
        for b in range(c):
            acc = 0.0
            for m in range(M):
                acc += work[at + m] * u[base + b * M + m]
            v[b * M + p] = acc


@jit
def attention_vjp(theta, off, dk, c, M, u, base, G, gy, work):
    r"""gy += (dv/du)^T G for the sample at u[base] (G[b M + p] = dJ/dv_b(ξ_p)), right after
    :func:`attention_apply` on the same sample and ``work`` (it reads q, k and α from there).

    With A_pm = Σ_b G_b(p) u_b(m), ρ_p = Σ_m α_pm A_pm and D_pm = α_pm (A_pm - ρ_p)
    (= dJ/ds_pm, the softmax's transpose):
    gy_b(m) += Σ_p α_pm G_b(p) (u read as values), and through the scores
    dJ/dq_p = Σ_m D_pm k_m, dJ/dk_m = Σ_p D_pm q_p, gy(ξ_p) += (κQ)^T dJ/dq_p + K^T dJ/dk_p.
    """
    alpha = 2 * dk * M
    gq = alpha + M * M
    gk = gq + dk * M
    ar = gk + dk * M
    for i in range(gq, ar):
        work[i] = 0.0
    for p in range(M):
        at = alpha + p * M
        rho = 0.0
        for m in range(M):
            a = 0.0
            for b in range(c):
                gb = G[b * M + p]
                a += gb * u[base + b * M + m]
                gy[base + b * M + m] += work[at + m] * gb
            work[ar + m] = a
            rho += work[at + m] * a
        for m in range(M):
            d = work[at + m] * (work[ar + m] - rho)
            if d != 0.0:
                for k in range(dk):
                    work[gq + k * M + p] += d * work[(dk + k) * M + m]
                    work[gk + k * M + m] += d * work[k * M + p]
    qo, ko = off + M, off + M + dk * c
    for k in range(dk):
        for b in range(c):
            wq, wk = theta[qo + k * c + b], theta[ko + k * c + b]
            for p in range(M):
                gy[base + b * M + p] += wq * work[gq + k * M + p] + wk * work[gk + k * M + p]


@jit
def attention_derivative(theta, off, dk, c, M, u, base, D, work):
    r"""D[b M + p, e M + m] = ∂v_b(ξ_p) / ∂u_e(η_m) for the sample at u[base] (D is (c M, c M)).

    .. math:: \frac{\partial v_b(\xi_p)}{\partial u_e(\eta_m)} = \alpha_{pm}\delta_{be}
              + \delta_{pm} \sum_q \alpha_{pq} (u_b(\eta_q) - v_b(\xi_p)) (\kappa Q^T k_q)_e
              + \alpha_{pm} (u_b(\eta_m) - v_b(\xi_p)) (K^T q_p)_e.
    """
    _queries_keys(theta, off, dk, c, M, u, base, work)
    at = 2 * dk * M
    qo, ko = off + M, off + M + dk * c
    qk = np.zeros(c * M)        # (κ Q^T k_q)_e at e M + q
    for e in range(c):
        for q in range(M):
            acc = 0.0
            for k in range(dk):
                acc += theta[qo + k * c + e] * work[(dk + k) * M + q]
            qk[e * M + q] = acc
    kq = np.empty(c)            # (K^T q_p)_e
    for p in range(M):
        _attention_row(theta, off, dk, M, p, work, at)
        for e in range(c):
            acc = 0.0
            for k in range(dk):
                acc += theta[ko + k * c + e] * work[k * M + p]
            kq[e] = acc
        for b in range(c):
            row = b * M + p
            vb = 0.0
            for m in range(M):
                vb += work[at + m] * u[base + b * M + m]
            for col in range(c * M):
                D[row, col] = 0.0
            for m in range(M):
                alpha = work[at + m]
                D[row, b * M + m] += alpha
                f = alpha * (u[base + b * M + m] - vb)
                for e in range(c):
                    D[row, e * M + m] += f * kq[e]
                    D[row, e * M + p] += f * qk[e * M + m]
