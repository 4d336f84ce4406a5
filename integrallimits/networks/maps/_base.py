r"""The base class of the feature maps and the codes of their compiled forms.

A linear feature map is an integral operator followed by a channel-mixing matrix C,

.. math:: (A u)_a(\xi) = \sum_b C_{ab} \int_\Omega a(\xi, \eta)\, u_b(\eta)\, d\eta
          \approx \sum_b C_{ab} \sum_m \omega_m\, a(\xi, \eta_m)\, u_b(\eta_m)

(the Nyström discretisation on a :class:`~integrallimits.networks.maps.SpatialRule`).
"""
from __future__ import annotations

import copy
import numbers

import numpy as np

from ..._inputs import numbers_array, refuse_bools
from ._spatial import SpatialRule, read_only

__all__ = ["FeatureMap", "LOCAL", "DENSE", "ATTENTION"]

#: How the compiled network kernel applies a map (``FeatureMap._compiled()[0]``): pointwise
#: multiplier, dense M x M matrix (Nyström, convolution), attention.
LOCAL, DENSE, ATTENTION = 0, 1, 2


def _channel_matrix(channel_matrix, channels):
    if channel_matrix is None:
        c = 1 if channels is None else channels
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 1:
            raise ValueError(f"channels must be an integer >= 1, got {channels!r}")
        return read_only(np.eye(int(c)))
    C = np.asarray(channel_matrix, dtype=float)
    if C.ndim != 2:
        raise ValueError(f"channel_matrix must be a 2-d array (out_channels, in_channels), "
                         f"got shape {C.shape}")
    if channels is not None and C.shape[1] != channels:
        raise ValueError(f"channel_matrix has {C.shape[1]} input channels, but channels={channels}")
    if not np.all(np.isfinite(C)):
        raise ValueError("channel_matrix contains NaN or inf")
    return read_only(C)


class FeatureMap:
    r"""Base class: a feature map on the nodes of a :class:`SpatialRule`.

    .. math:: (A u)_a(\xi_p) = \sum_b C_{ab}\, (S u_b)(\xi_p),

    S the discretised scalar operator (the same on every channel), C the
    (out_channels, in_channels) channel-mixing matrix.  A subclass sets ``kind`` and
    implements ``_spatial(U)`` (S on each channel of U (B, c, M)); linear maps also
    ``spatial_matrix()``.  A subclass's compiled form (for :class:`NonlocalDense`) is
    given by ``_compiled()`` -> (kind code, data, key width).

    Parameters
    ----------
    grid : SpatialRule
    channel_matrix : array (c_out, c_in), optional
        Default: the identity on ``channels`` channels.
    channels : int, optional
        The number of (input) channels (default 1, or from ``channel_matrix``).
    """

    kind = "feature-map"
    linear = True

    def __init__(self, grid, channel_matrix=None, channels=None):
        if not isinstance(grid, SpatialRule):
            raise TypeError(f"grid must be a SpatialRule (see spatial_rule), got {type(grid).__name__}")
        self.grid = grid
        self.channel_matrix = _channel_matrix(channel_matrix, channels)

    @property
    def in_channels(self):
        return self.channel_matrix.shape[1]

    @property
    def out_channels(self):
        return self.channel_matrix.shape[0]

    def with_channels(self, channel_matrix):
        """The same spatial operator with another channel-mixing matrix."""
        other = copy.copy(self)
        other.channel_matrix = _channel_matrix(channel_matrix, self.in_channels)
        return other

    def _check_features(self, U):
        U = numbers_array(U, "U")
        refuse_bools(U, "U")    # (a mask or a comparison's result ran as the features 1, 0)
        U = np.asarray(U, dtype=float)
        single = U.ndim == 2
        if single:
            U = U[None]
        if U.ndim != 3 or U.shape[1:] != (self.in_channels, self.grid.M):
            raise ValueError(f"U must have shape (B, {self.in_channels}, {self.grid.M}) or "
                             f"({self.in_channels}, {self.grid.M}) (batch, channels, nodes), "
                             f"got {np.shape(U)}")
        if not np.all(np.isfinite(U)):
            raise ValueError("U contains NaN or inf")
        return U, single

    def apply(self, U):
        """A applied to the features U of shape (B, c_in, M) (or (c_in, M)) -> (B, c_out, M)."""
        U, single = self._check_features(U)
        V = np.einsum("ab,Bbm->Bam", self.channel_matrix, self._spatial(U))
        return V[0] if single else V

    def __call__(self, U):
        return self.apply(U)

    def spatial_matrix(self):
        """S (M, M): (S v)_p = Σ_m ω_m a(ξ_p, η_m) v_m, the scalar operator as a matrix."""
        raise TypeError(f"{type(self).__name__} is not a linear map: it has no fixed matrix")

    def matrix(self):
        """The whole map as a (c_out M, c_in M) matrix, C ⊗ S (index a M + p)."""
        return np.kron(self.channel_matrix, self.spatial_matrix())

    def _spatial(self, U):
        return U @ self.spatial_matrix().T

    def _compiled(self):
        return DENSE, np.ascontiguousarray(self.spatial_matrix()).ravel(), 0

    def __repr__(self):
        return (f"{type(self).__name__}(M={self.grid.M}, dim={self.grid.dim}, "
                f"channels={self.out_channels}x{self.in_channels})")
