r"""The convolution map, applied by FFT on uniform grids (a dense Nyström matrix inside the
compiled network kernel)."""
from __future__ import annotations

import math

import numpy as np

from ..._memory import check_memory
from ._base import FeatureMap
from ._spatial import evaluate, read_only

__all__ = ["ConvolutionMap"]

#: rules with equally spaced nodes
UNIFORM_RULES = ("rectangle", "trapezoid", "simpson")


class ConvolutionMap(FeatureMap):
    r"""Convolution :math:`(A u)_a(\xi) = \sum_b C_{ab} \int_\Omega a(\xi - \eta)\, u_b(\eta)\, d\eta`,
    applied by FFT on a uniform grid.

    The nodes must be equally spaced (spacing δ; rules "rectangle" (midpoint),
    "trapezoid", "simpson", on the interval or the square).  Two modes:

    * ``"zero"`` (default): the operator on Ω itself, a(ξ - η) for ξ - η in
      [-|Ω|, |Ω|], nothing outside Ω (zero padding).  The Nyström sum
      Σ_m ω_m a((p - m) δ) u_m is a Toeplitz matrix times ω ⊙ u, computed as a linear
      convolution by FFT of length 2 n per axis (n nodes per axis): O(M log M), equal
      to the dense Nyström product to rounding, with the rule's order.
    * ``"periodic"``: Ω is a circle (torus), a is evaluated at (ξ - η) mod |Ω|
      (the |Ω|-periodic extension of a from [0, |Ω|)); the sum is a circular
      convolution (FFT of length n).  This needs equal weights and n δ = |Ω|: the
      midpoint rule "rectangle" (spectrally accurate for smooth periodic data).

    Parameters
    ----------
    a : callable
        a(δ) (a(δ_1, δ_2) on the square), vectorised over arrays if possible.
    grid : SpatialRule
    mode : {"zero", "periodic"}
    channel_matrix, channels
        See :class:`FeatureMap`.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import spatial_rule
    >>> grid = spatial_rule("trapezoid", 16)
    >>> A = ConvolutionMap(lambda d: np.exp(-d * d), grid)
    >>> u = np.cos(grid.nodes)[None]
    >>> dense = (A.spatial_matrix() @ u[0])
    >>> bool(np.allclose(A.apply(u)[0], dense, rtol=0, atol=1e-15))
    True
    """

    kind = "convolution"

    def __init__(self, a, grid, mode="zero", channel_matrix=None, channels=None):
        super().__init__(grid, channel_matrix, channels)
        if not callable(a):
            raise TypeError(f"a must be callable a(δ), got {type(a).__name__}")
        if mode not in ("zero", "periodic"):
            raise ValueError(f"mode must be 'zero' or 'periodic', got {mode!r}")
        x = grid.interval.nodes
        n = x.size
        spacing = (x[-1] - x[0]) / (n - 1) if n > 1 else grid.length
        if n > 1 and not np.allclose(np.diff(x), spacing, rtol=1e-12, atol=0.0):
            raise ValueError(f"ConvolutionMap needs equally spaced nodes (rules "
                             f"{', '.join(map(repr, UNIFORM_RULES))}), got rule "
                             f"{grid.interval.name!r}")
        if mode == "periodic":
            w = grid.interval.weights
            if not (np.allclose(w, w[0], rtol=1e-14, atol=0.0)
                    and math.isclose(n * spacing, grid.length, rel_tol=1e-14)):
                raise ValueError(f"mode='periodic' needs equal weights and n × spacing = |Ω| "
                                 f"(the midpoint rule 'rectangle'), got rule {grid.interval.name!r}")
        self.a, self.mode, self.spacing, self.n = a, mode, spacing, n
        d = grid.dim
        L = 2 * n if mode == "zero" else n
        index = np.arange(L)
        if mode == "zero":  # lags 0..n-1, then -(n-1)..-1 at the end; entry n stays zero
            lags = np.where(index < n, index, index - L) * spacing
            used = np.nonzero(np.abs(np.where(index < n, index, index - L)) < n)[0]
        else:
            lags, used = index * spacing, index
        values = np.zeros((L,) * d)
        if d == 1:
            values[used] = evaluate(a, "a(δ)", lags[used])
        else:
            values[np.ix_(used, used)] = evaluate(a, "a(δ1, δ2)", lags[used][:, None],
                                                   lags[used][None, :])
        self._L = L
        self._values = read_only(values)
        self._kernel_hat = np.fft.rfftn(values)

    def spatial_matrix(self):
        """S (M, M) from the values of ``a`` sampled when the map was made (those ``apply``
        uses): ``a`` is not called again, so a value it reads that changed since cannot make
        a network built later from this map disagree with the map."""
        n, M = self.n, self.grid.M
        check_memory(8.0 * float(M) ** 2,
                     f"ConvolutionMap's dense matrix on {M} nodes (its {M} x {M} matrix)")
        idx = np.arange(n)
        lag = (idx[:, None] - idx[None, :]) % self._L   # lag p - m as an index of the values
        if self.grid.dim == 1:
            S = self._values[lag]
        else:
            S = self._values[lag[:, None, :, None], lag[None, :, None, :]].reshape(n * n, n * n)
        return S * self.grid.weights[None, :]

    def _spatial(self, U):
        d, n, L = self.grid.dim, self.n, self._L
        V = (U * self.grid.weights).reshape(U.shape[:2] + (n,) * d)
        axes = tuple(range(-d, 0))
        out = np.fft.irfftn(np.fft.rfftn(V, s=(L,) * d, axes=axes) * self._kernel_hat,
                            s=(L,) * d, axes=axes)
        out = out[(Ellipsis,) + (slice(0, n),) * d]
        return np.ascontiguousarray(out).reshape(U.shape)
