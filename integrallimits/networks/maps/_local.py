r"""The pointwise (local) feature map, the special case a(ξ, η) = c(ξ) δ(ξ - η)."""
from __future__ import annotations

import numbers

import numpy as np

from ..._numba import jit
from ._base import LOCAL, FeatureMap
from ._spatial import evaluate, read_only

__all__ = ["LocalMap", "local_apply", "local_vjp"]


class LocalMap(FeatureMap):
    r"""Pointwise map :math:`(A u)_a(\xi) = c(\xi) \sum_b C_{ab} u_b(\xi)`.

    The kernel a(ξ, η) = c(ξ) δ(ξ - η): no quadrature, S = diag(c(ξ_p)).

    Parameters
    ----------
    grid : SpatialRule
    multiplier : float or callable, optional
        c, a constant or c(ξ) (c(ξ_1, ξ_2) on the square); default 1.
    channel_matrix, channels
        See :class:`FeatureMap`.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import spatial_rule
    >>> grid = spatial_rule("trapezoid", 2)
    >>> LocalMap(grid, 2.0, [[0.0, 1.0], [1.0, 0.0]]).apply(np.array([[1., 2., 3.], [4., 5., 6.]]))
    array([[ 8., 10., 12.],
           [ 2.,  4.,  6.]])
    """

    kind = "local"

    def __init__(self, grid, multiplier=1.0, channel_matrix=None, channels=None):
        super().__init__(grid, channel_matrix, channels)
        if callable(multiplier):
            c = evaluate(multiplier, "multiplier c(ξ)", *grid.coordinates)
        else:
            if not isinstance(multiplier, numbers.Real) or not np.isfinite(multiplier):
                raise ValueError(f"multiplier must be a finite float or a callable, got {multiplier!r}")
            c = np.full(grid.M, float(multiplier))
        self.multiplier = read_only(c)

    def spatial_matrix(self):
        return np.diag(self.multiplier)

    def _spatial(self, U):
        return U * self.multiplier

    def _compiled(self):
        return LOCAL, np.array(self.multiplier), 0


# -- compiled form (read by the non-local network's kernel) ------------------------------------------
# data at theta[off:off + M]: the multiplier c(ξ_p).

@jit
def local_apply(theta, off, c, M, u, base, v):
    """v[b M + p] = c(ξ_p) u_b(ξ_p) for the sample at u[base]."""
    for b in range(c):
        for p in range(M):
            v[b * M + p] = theta[off + p] * u[base + b * M + p]


@jit
def local_vjp(theta, off, c, M, G, gy, base):
    """gy_b += S^T G_b with S = diag(c(ξ_p)): the transpose of :func:`local_apply`."""
    for b in range(c):
        for p in range(M):
            gy[base + b * M + p] += theta[off + p] * G[b * M + p]
