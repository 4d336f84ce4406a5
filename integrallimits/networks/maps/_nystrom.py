r"""The general integral operator, discretised by Nyström, and the compiled dense-matrix form
that the convolution map shares."""
from __future__ import annotations

import numpy as np

from ..._memory import check_memory
from ..._numba import jit
from ...kernels import Kernel
from ...kernels._linear import positional_arity
from ._base import FeatureMap
from ._spatial import evaluate, read_only

__all__ = ["NystromMap", "dense_apply", "dense_vjp"]

_ARGUMENTS = {1: "(ξ, η)", 2: "(ξ1, ξ2, η1, η2)"}


class NystromMap(FeatureMap):
    r"""General integral operator, discretised by Nyström:

    .. math:: (A u)_a(\xi_p) = \sum_b C_{ab} \sum_{m} \omega_m\, a(\xi_p, \eta_m)\, u_b(\eta_m).

    The error is the spatial rule's on η -> a(ξ, η) u(η): O(h^2) (trapezoid,
    midpoint), O(h^4) (Simpson), geometric in M (Gauss–Legendre) for analytic a, u.

    Parameters
    ----------
    a : callable
        a(ξ, η) -> float on the interval (compiled with Numba by
        :func:`integrallimits.fredholm.nystrom_matrix`); a(ξ_1, ξ_2, η_1, η_2) on the
        square (evaluated with NumPy on the node arrays, pointwise if it does not
        broadcast).
    grid : SpatialRule
    channel_matrix, channels
        See :class:`FeatureMap`.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import spatial_rule
    >>> grid = spatial_rule("gauss-legendre", 12)
    >>> A = NystromMap(lambda x, s: np.exp(x * s), grid)
    >>> u = np.exp(grid.nodes)[None]          # (A u)(ξ) = (e^(ξ+1) - 1) / (ξ + 1)
    >>> exact = np.expm1(grid.nodes + 1) / (grid.nodes + 1)
    >>> bool(np.abs(A.apply(u)[0] - exact).max() < 1e-14)
    True
    """

    kind = "nystrom"

    def __init__(self, a, grid, channel_matrix=None, channels=None):
        super().__init__(grid, channel_matrix, channels)
        if not callable(a):
            raise TypeError(f"a must be callable a(ξ, η), got {type(a).__name__}" + (
                " (text is not parsed here: write a function, e.g. "
                "lambda x, s: np.exp(-(x - s) ** 2))" if isinstance(a, (str, bytes)) else ""))
        self.a = a
        want = 2 if grid.dim == 1 else 4
        arity = None if isinstance(a, Kernel) else positional_arity(a)
        if arity is not None and arity != want and not (grid.dim == 1 and arity == 3):
            # (the interval's a went to nystrom_matrix, which named K(t, s, y))
            raise TypeError(f"a must take {want} arguments {_ARGUMENTS[grid.dim]}, but "
                            f"{getattr(a, '__name__', type(a).__name__)} takes {arity}")
        if grid.dim == 1:
            from ...fredholm import nystrom_matrix
            S = nystrom_matrix(a, grid.nodes, grid.weights)
            if S.shape != (grid.M, grid.M):
                raise ValueError(f"a(ξ, η) must return a float, got a matrix of shape {S.shape}")
            if not np.all(np.isfinite(S)):   # (as the other maps: refused, not a NaN network)
                raise ValueError("a(ξ, η) is not finite at some node")
        else:
            # nystrom_matrix takes 1-d nodes; the tensor grid's matrix is assembled here.
            check_memory(8.0 * float(grid.M) ** 2,
                         f"NystromMap on {grid.M} nodes (its {grid.M} x {grid.M} matrix)")
            (x1, x2), (y1, y2) = ([c[:, None] for c in grid.coordinates],
                                  [c[None, :] for c in grid.coordinates])
            S = evaluate(a, "a(ξ1, ξ2, η1, η2)", x1, x2, y1, y2) * grid.weights[None, :]
        self._matrix = read_only(S)

    def spatial_matrix(self):
        return np.array(self._matrix)


# -- compiled form (read by the non-local network's kernel) ------------------------------------------
# data at theta[off:off + M*M]: S[p, m] = ω_m a(ξ_p, η_m), row by row.

@jit
def dense_apply(theta, off, c, M, u, base, v):
    """v[b M + p] = (S u_b)(ξ_p) = Σ_m S[p, m] u_b(η_m) for the sample at u[base]."""
    for b in range(c):
        for p in range(M):
            acc = 0.0
            for q in range(M):
                acc += theta[off + p * M + q] * u[base + b * M + q]
            v[b * M + p] = acc


@jit
def dense_vjp(theta, off, c, M, G, gy, base):
    """gy_b += S^T G_b: the transpose of :func:`dense_apply`."""
    for b in range(c):
        for p in range(M):
            gp = G[b * M + p]
            if gp != 0.0:
                for m in range(M):
                    gy[base + b * M + m] += theta[off + p * M + m] * gp
