r"""Non-local feature maps and the dense non-local network.

A feature is a function u : Ω -> R^c on Ω = [0, 1] (or the square [0, 1]^2), sampled
at the M nodes η_m of a spatial quadrature rule with weights ω_m
(:class:`SpatialRule`).  A linear feature map is an integral operator followed by a
channel-mixing matrix C,

.. math:: (A u)_a(\xi) = \sum_b C_{ab} \int_\Omega a(\xi, \eta)\, u_b(\eta)\, d\eta
          \approx \sum_b C_{ab} \sum_m \omega_m\, a(\xi, \eta_m)\, u_b(\eta_m)

(the Nyström discretisation).  Its cases are :class:`LocalMap` (a(ξ, η) = c(ξ) δ(ξ - η),
pointwise), :class:`ConvolutionMap` (a(ξ - η), applied by FFT on uniform grids),
:class:`NystromMap` (a general a(ξ, η)) and the data-dependent :class:`AttentionMap`
(a(ξ, η; u) a softmax density in η).  Refining M is the second limit of the networks,
beside depth: for a fixed continuum operator the discrete maps converge with the order
of the spatial rule (2 for the composite trapezoid and midpoint rules, 4 for Simpson,
geometric for Gauss–Legendre on analytic data).

:class:`NonlocalDense` is the residual-dense network with these maps as its layer
operators, x_n = x_0 + h Σ_{j<n} σ(A_nj x_j + b_nj) on states of shape (B, channels, M),
defined (like every family) as a Volterra rule applied to a compiled kernel; with linear
maps that kernel also carries its parameter vector-Jacobian product, so the network trains
with :func:`integrallimits.control.train` like the other families.
"""
from __future__ import annotations

import copy
import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._numba import jit
from ..kernels import Kernel
from ..kernels._kernel import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, VJP_SIGNATURE, make_block_sum
from ..quadrature import IntervalRule, interval_rule
from ..volterra import METHODS, solve_volterra
from ._activations import act, activation, dact
from ._families import VolterraNetwork, _as_grid
from ._kernels import pack

__all__ = ["SpatialRule", "spatial_rule", "FeatureMap", "LocalMap", "ConvolutionMap", "NystromMap",
           "AttentionMap", "NonlocalDense", "resolution_network", "resolution_study_values"]

_UNIFORM_RULES = ("rectangle", "trapezoid", "simpson")


# -- the spatial rule ------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class SpatialRule:
    r"""Nodes and weights of a quadrature rule on Ω = [a, b] or the square [a, b]^2.

    .. math:: \int_\Omega u(\eta)\, d\eta \approx \sum_{m=1}^{M} \omega_m\, u(\eta_m).

    On the square the rule is the tensor product of the interval rule with itself:
    node m = i n_1 + k is (x_i, x_k) with weight w_i w_k (C order, so a feature of
    shape (..., M) reshapes to (..., n_1, n_1)).  Build one with :func:`spatial_rule`.

    Attributes
    ----------
    interval : IntervalRule
        The one-dimensional rule.
    dim : int
        1 (interval) or 2 (square).
    nodes : ndarray
        (M,) for dim 1, (M, 2) for dim 2 (read-only).
    weights : ndarray
        (M,) (read-only).
    shape : tuple
        (n_1,) or (n_1, n_1), the grid shape.
    """

    interval: IntervalRule
    dim: int
    nodes: np.ndarray
    weights: np.ndarray
    shape: tuple

    @property
    def M(self):
        """The number of nodes."""
        return self.weights.size

    @property
    def coordinates(self):
        """The node coordinates as a tuple of (M,) arrays: (ξ,) or (ξ_1, ξ_2)."""
        return (self.nodes,) if self.dim == 1 else (self.nodes[:, 0], self.nodes[:, 1])

    @property
    def length(self):
        """The side length b - a of Ω."""
        return self.interval.b - self.interval.a

    def integrate(self, U):
        r"""Σ_m ω_m U[..., m] ≈ ∫_Ω u: the rule applied along the last axis."""
        U = np.asarray(U, dtype=float)
        if U.ndim == 0 or U.shape[-1] != self.M:
            raise ValueError(f"U must have {self.M} values (one per node) on its last axis, "
                             f"got shape {U.shape}")
        return U @ self.weights

    def sample(self, f):
        """f at the nodes: f(ξ) (dim 1) or f(ξ_1, ξ_2) (dim 2), called on the node arrays.

        f may return shape (M,) (one channel) or (c, M); the result is (c, M).
        """
        values = np.asarray(f(*self.coordinates), dtype=float)
        if values.ndim == 0:
            values = np.full(self.M, float(values))
        if values.shape[-1] != self.M or values.ndim > 2:
            raise ValueError(f"f must return shape (M,) or (channels, M) with M = {self.M}, "
                             f"got {values.shape}")
        return np.atleast_2d(values)

    def __repr__(self):
        return (f"SpatialRule({self.interval.name!r}, n={self.interval.n}, dim={self.dim}, "
                f"M={self.M}, domain=[{self.interval.a}, {self.interval.b}]^{self.dim})")


def _read_only(a):
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


def spatial_rule(name="gauss-legendre", n=16, dim=1, domain=(0.0, 1.0)):
    """The spatial rule ``name`` of size ``n`` on Ω = domain (dim 1) or domain^2 (dim 2).

    Parameters
    ----------
    name : str
        An interval rule (:data:`integrallimits.quadrature.INTERVAL_RULES`):
        "trapezoid", "simpson", "rectangle" (composite midpoint), "gauss-legendre", ...
    n : int
        The rule's size argument: panels for the composite rules (trapezoid and
        Simpson have n + 1 nodes per side), nodes for the Gauss-type rules.
    dim : {1, 2}
    domain : (float, float)

    Returns
    -------
    SpatialRule

    Examples
    --------
    >>> grid = spatial_rule("trapezoid", 4)
    >>> grid.nodes.tolist(), grid.weights.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.125, 0.25, 0.25, 0.25, 0.125])
    >>> spatial_rule("gauss-legendre", 3, dim=2).nodes.shape
    (9, 2)
    """
    if dim not in (1, 2) or isinstance(dim, bool):
        raise ValueError(f"dim must be 1 or 2, got {dim!r}")
    try:
        a, b = (float(v) for v in domain)
    except (TypeError, ValueError):
        raise ValueError(f"domain must be a pair (a, b) of floats, got {domain!r}") from None
    rule = interval_rule(name, n, a, b)
    x, w = rule.nodes, rule.weights
    if dim == 1:
        return SpatialRule(rule, 1, x, w, (x.size,))
    X1, X2 = np.meshgrid(x, x, indexing="ij")
    nodes = np.stack([X1.ravel(), X2.ravel()], axis=1)
    return SpatialRule(rule, 2, _read_only(nodes), _read_only(np.outer(w, w).ravel()),
                       (x.size, x.size))


def _evaluate(f, what, *coords):
    """f(*coords) as a float array of the broadcast shape: vectorised if f broadcasts
    (NumPy ufuncs), else pointwise."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in coords))
    values = None
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(f(*coords), dtype=float)
        if v.shape == shape:
            values = v
        elif v.shape == ():
            values = np.full(shape, float(v))
    except Exception:  # not written for arrays: evaluate pointwise below
        values = None
    if values is None:
        full = [np.broadcast_to(c, shape) for c in coords]
        values = np.empty(shape)
        for idx in np.ndindex(shape):
            try:
                values[idx] = float(f(*(c[idx] for c in full)))
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{what} must return a real number, got an error: {exc}") from exc
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} is not finite at some node")
    return values


# -- feature maps ----------------------------------------------------------------------------------

def _channel_matrix(channel_matrix, channels):
    if channel_matrix is None:
        c = 1 if channels is None else channels
        if isinstance(c, bool) or not isinstance(c, numbers.Integral) or c < 1:
            raise ValueError(f"channels must be an integer >= 1, got {channels!r}")
        return _read_only(np.eye(int(c)))
    C = np.asarray(channel_matrix, dtype=float)
    if C.ndim != 2:
        raise ValueError(f"channel_matrix must be a 2-d array (out_channels, in_channels), "
                         f"got shape {C.shape}")
    if channels is not None and C.shape[1] != channels:
        raise ValueError(f"channel_matrix has {C.shape[1]} input channels, but channels={channels}")
    if not np.all(np.isfinite(C)):
        raise ValueError("channel_matrix contains NaN or inf")
    return _read_only(C)


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
        return _DENSE, np.ascontiguousarray(self.spatial_matrix()).ravel(), 0

    def __repr__(self):
        return (f"{type(self).__name__}(M={self.grid.M}, dim={self.grid.dim}, "
                f"channels={self.out_channels}x{self.in_channels})")


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
    >>> grid = spatial_rule("trapezoid", 2)
    >>> LocalMap(grid, 2.0, [[0.0, 1.0], [1.0, 0.0]]).apply(np.array([[1., 2., 3.], [4., 5., 6.]]))
    array([[ 8., 10., 12.],
           [ 2.,  4.,  6.]])
    """

    kind = "local"

    def __init__(self, grid, multiplier=1.0, channel_matrix=None, channels=None):
        super().__init__(grid, channel_matrix, channels)
        if callable(multiplier):
            c = _evaluate(multiplier, "multiplier c(ξ)", *grid.coordinates)
        else:
            if not isinstance(multiplier, numbers.Real) or not np.isfinite(multiplier):
                raise ValueError(f"multiplier must be a finite float or a callable, got {multiplier!r}")
            c = np.full(grid.M, float(multiplier))
        self.multiplier = _read_only(c)

    def spatial_matrix(self):
        return np.diag(self.multiplier)

    def _spatial(self, U):
        return U * self.multiplier

    def _compiled(self):
        return _LOCAL, np.array(self.multiplier), 0


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
            raise TypeError(f"a must be callable a(ξ, η), got {type(a).__name__}")
        self.a = a
        if grid.dim == 1:
            from ..fredholm import nystrom_matrix
            S = nystrom_matrix(a, grid.nodes, grid.weights)
            if S.shape != (grid.M, grid.M):
                raise ValueError(f"a(ξ, η) must return a float, got a matrix of shape {S.shape}")
        else:
            # nystrom_matrix takes 1-d nodes; the tensor grid's matrix is assembled here.
            (x1, x2), (y1, y2) = ([c[:, None] for c in grid.coordinates],
                                  [c[None, :] for c in grid.coordinates])
            S = _evaluate(a, "a(ξ1, ξ2, η1, η2)", x1, x2, y1, y2) * grid.weights[None, :]
        self._matrix = _read_only(S)

    def spatial_matrix(self):
        return np.array(self._matrix)


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
                             f"{', '.join(map(repr, _UNIFORM_RULES))}), got rule "
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
            values[used] = _evaluate(a, "a(δ)", lags[used])
        else:
            values[np.ix_(used, used)] = _evaluate(a, "a(δ1, δ2)", lags[used][:, None],
                                                   lags[used][None, :])
        self._L = L
        self._kernel_hat = np.fft.rfftn(values)

    def spatial_matrix(self):
        coords = self.grid.coordinates
        diffs = [c[:, None] - c[None, :] for c in coords]
        if self.mode == "periodic":
            diffs = [np.mod(dd, self.grid.length) for dd in diffs]
        return _evaluate(self.a, "a(δ)", *diffs) * self.grid.weights[None, :]

    def _spatial(self, U):
        d, n, L = self.grid.dim, self.n, self._L
        V = (U * self.grid.weights).reshape(U.shape[:2] + (n,) * d)
        axes = tuple(range(-d, 0))
        out = np.fft.irfftn(np.fft.rfftn(V, s=(L,) * d, axes=axes) * self._kernel_hat,
                            s=(L,) * d, axes=axes)
        out = out[(Ellipsis,) + (slice(0, n),) * d]
        return np.ascontiguousarray(out).reshape(U.shape)


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
        self.query, self.key, self.scale = _read_only(Q), _read_only(K), float(scale)

    def scores(self, U):
        """s(ξ_p, η_m) = κ ⟨Q u(ξ_p), K u(η_m)⟩ for U (B, c, M) -> (B, M, M)."""
        U, _ = self._check_features(U)
        return self.scale * np.einsum("kc,Bcp,kd,Bdm->Bpm", self.query, U, self.key, U)

    def attention_weights(self, U):
        """α_pm = ω_m e^{s_pm} / Σ_m' ω_m' e^{s_pm'} for U (B, c, M) or (c, M): rows sum to 1."""
        U, single = self._check_features(U)
        S = self.scores(U)
        E = np.exp(S - S.max(axis=-1, keepdims=True)) * self.grid.weights
        alpha = E / E.sum(axis=-1, keepdims=True)
        return alpha[0] if single else alpha

    def _spatial(self, U):
        return np.einsum("Bpm,Bcm->Bcp", self.attention_weights(U), U)

    def _compiled(self):
        data = np.concatenate([self.grid.weights, (self.scale * self.query).ravel(),
                               self.key.ravel()])
        return _ATTENTION, data, self.query.shape[0]


# -- the compiled kernel of the non-local network ---------------------------------------------------
#
# theta = [t0, h, N, c, activation code, M, R, bias offset, spatial bias (0/1)]   the header
#         [kind, data offset, channel-field offset, d_k] per map r = 0..R-1
#         data of each map (local: c(ξ_p) (M); dense: S (M, M); attention: ω (M), κQ, K (d_k, c))
#         channel fields W^r (N+1, N+1, c, c) of each map, then the bias (N+1, N+1, c[, M]).
# The state of one sample is x[a M + p] = x_a(ξ_p); a batch is B such blocks side by side.

HEADER = 9
MAP_FIELDS = 4
_LOCAL, _DENSE, _ATTENTION = 0, 1, 2


@jit
def _pair(t, s, theta):
    t0, h, N = theta[0], theta[1], int(theta[2])
    n = min(max(int(round((t - t0) / h)), 0), N)
    m = min(max(int(round((s - t0) / h)), 0), N)
    return n * (N + 1) + m


@jit
def _work_size(theta):
    M, R = int(theta[5]), int(theta[6])
    dk = 0
    for r in range(R):
        dk = max(dk, int(theta[HEADER + MAP_FIELDS * r + 3]))
    return 2 * dk * M + M


@jit
def _spatial_apply(theta, r, u, base, v, work):
    """v[b M + p] = (S_r u_b)(ξ_p) for the sample starting at u[base]: map r on each channel."""
    c, M = int(theta[3]), int(theta[5])
    desc = HEADER + MAP_FIELDS * r
    kind, off, dk = int(theta[desc]), int(theta[desc + 1]), int(theta[desc + 3])
    if kind == _LOCAL:
        for b in range(c):
            for p in range(M):
                v[b * M + p] = theta[off + p] * u[base + b * M + p]
    elif kind == _DENSE:
        for b in range(c):
            for p in range(M):
                acc = 0.0
                for q in range(M):
                    acc += theta[off + p * M + q] * u[base + b * M + q]
                v[b * M + p] = acc
    else:
        qo, ko = off + M, off + M + dk * c
        for k in range(dk):  # work[k M + p] = (κ Q u(ξ_p))_k, work[(dk + k) M + p] = (K u(ξ_p))_k
            for p in range(M):
                aq = 0.0
                ak = 0.0
                for b in range(c):
                    aq += theta[qo + k * c + b] * u[base + b * M + p]
                    ak += theta[ko + k * c + b] * u[base + b * M + p]
                work[k * M + p] = aq
                work[(dk + k) * M + p] = ak
        e = 2 * dk * M
        for p in range(M):
            top = -np.inf
            for q in range(M):
                sc = 0.0
                for k in range(dk):
                    sc += work[k * M + p] * work[(dk + k) * M + q]
                work[e + q] = sc
                top = max(top, sc)
            den = 0.0
            for q in range(M):
                work[e + q] = theta[off + q] * math.exp(work[e + q] - top)
                den += work[e + q]
            for b in range(c):
                acc = 0.0
                for q in range(M):
                    acc += work[e + q] * u[base + b * M + q]
                v[b * M + p] = acc / den


@jit
def _preactivation(theta, pair, u, base, z, v, work):
    """z = Σ_r (W^r_nj ⊗ S_r) u + b_nj for the sample at u[base] (pair = n (N+1) + j)."""
    c, M, R = int(theta[3]), int(theta[5]), int(theta[6])
    bo = int(theta[7])
    if theta[8] != 0.0:
        for k in range(c * M):
            z[k] = theta[bo + pair * c * M + k]
    else:
        for a in range(c):
            for p in range(M):
                z[a * M + p] = theta[bo + pair * c + a]
    for r in range(R):
        _spatial_apply(theta, r, u, base, v, work)
        wo = int(theta[HEADER + MAP_FIELDS * r + 2]) + pair * c * c
        for a in range(c):
            for b in range(c):
                w = theta[wo + a * c + b]
                for p in range(M):
                    z[a * M + p] += w * v[b * M + p]


def nonlocal_dense(t, s, Y, j, theta, out):
    c, code, M = int(theta[3]), int(theta[4]), int(theta[5])
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(size)
    work = np.empty(_work_size(theta))
    u = Y[j]
    for bb in range(Y.shape[1] // size):
        base = bb * size
        _preactivation(theta, pair, u, base, z, v, work)
        for k in range(size):
            out[base + k] = act(code, z[k])


def nonlocal_dense_jacobian(t, s, Y, j, theta, J):
    """dK/dx = diag(σ'(z)) Σ_r W^r ⊗ S_r (linear maps only; attention uses differences)."""
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(size)
    work = np.empty(_work_size(theta))
    u = Y[j]
    J[:, :] = 0.0
    for bb in range(Y.shape[1] // size):
        base = bb * size
        _preactivation(theta, pair, u, base, z, v, work)
        for a in range(c):
            for p in range(M):
                g = dact(code, z[a * M + p])
                row = base + a * M + p
                for r in range(R):
                    desc = HEADER + MAP_FIELDS * r
                    kind, off = int(theta[desc]), int(theta[desc + 1])
                    wo = int(theta[desc + 2]) + pair * c * c
                    for b in range(c):
                        w = g * theta[wo + a * c + b]
                        if kind == _LOCAL:
                            J[row, base + b * M + p] += w * theta[off + p]
                        else:
                            for q in range(M):
                                J[row, base + b * M + q] += w * theta[off + p * M + q]


def nonlocal_dense_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    r"""gy += w K_y^T mu and gtheta += w K_θ^T mu for K = σ(Σ_r (W^r ⊗ S_r) y + b).

    Per sample block, with g = w σ'(z) ⊙ mu (z the pre-activation):

    * dW^r_ab += Σ_p g_a(ξ_p) (S_r y_b)(ξ_p)  (the channel field of map r at the pair (n, j)),
    * db += g, summed over ξ for a channel bias (shape (c,)), pointwise for a bias (c, M),
    * gy_b += Σ_r S_r^T Σ_a W^r_ab g_a.

    Linear maps only (local and dense S; a convolution acts through its dense matrix):
    for an attention map S_r depends on y, and :meth:`NonlocalDense.kernel` then uses the
    generic state-only vjp.
    """
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    bo = int(theta[7])
    spatial_bias = theta[8] != 0.0
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(size)
    g = np.empty(size)
    q = np.empty(M)
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
            desc = HEADER + MAP_FIELDS * r
            kind, off = int(theta[desc]), int(theta[desc + 1])
            wo = int(theta[desc + 2]) + pair * c * c
            _spatial_apply(theta, r, u, base, v, work)
            for a in range(c):
                for b in range(c):
                    acc = 0.0
                    for p in range(M):
                        acc += g[a * M + p] * v[b * M + p]
                    gtheta[wo + a * c + b] += acc
            for b in range(c):
                for p in range(M):  # q = Σ_a W^r_ab g_a
                    acc = 0.0
                    for a in range(c):
                        acc += theta[wo + a * c + b] * g[a * M + p]
                    q[p] = acc
                if kind == _LOCAL:
                    for p in range(M):
                        gy[base + b * M + p] += theta[off + p] * q[p]
                else:  # dense S (M, M): gy_b += S^T q
                    for p in range(M):
                        qp = q[p]
                        if qp != 0.0:
                            for m in range(M):
                                gy[base + b * M + m] += theta[off + p * M + m] * qp


@lru_cache(maxsize=None)
def _compiled():
    """(kernel, jacobian, vjp) compiled on first use (importing the module compiles nothing)."""
    return (jit(KERNEL_SIGNATURE)(nonlocal_dense), jit(JACOBIAN_SIGNATURE)(nonlocal_dense_jacobian),
            jit(VJP_SIGNATURE)(nonlocal_dense_vjp))


@lru_cache(maxsize=None)
def _block_sum():
    """The compiled block sum of the non-local kernel (built once per process)."""
    return make_block_sum(_compiled()[0])


class NonlocalDense(VolterraNetwork):
    r"""Residual-dense network with non-local feature maps, states of shape (B, channels, M):

    .. math:: x_n = x_0 + h \sum_{j \le n} w_{nj}\, \sigma(A_{nj} x_j + b_{nj}),
              \qquad A_{nj} = \sum_r A^r \text{ with channel matrix } W^r(t_n, t_j),

    the Volterra rule w applied to K(t, s, x) = σ(A(t, s) x + b(t, s)) with x in
    R^{c M} (channel a at node ξ_p in component a M + p), the discretisation of

    .. math:: x(t, \xi) = x_0(\xi) + \int_0^t \sigma\Bigl(\sum_r W^r(t, s)
              \int_\Omega a_r(\xi, \eta)\, x(s, \eta)\, d\eta + b(t, s, \xi)\Bigr) ds.

    The maps' spatial operators are fixed; their channel-mixing matrices are the
    fields W^r(t, s) sampled at the layers (for an attention map, a_r depends on
    x(s) and W^r is its value matrix).  With the default "rectangle" rule this is
    the explicit network x_n = x_0 + h Σ_{j<n} σ(A_nj x_j + b_nj) (:meth:`recursion`,
    the same map written with the feature maps' ``apply``); any direct rule gives a
    network that equals ``solve_volterra(net.kernel(), ..., method=rule)``.
    Inside the compiled kernel a convolution acts through its dense M x M matrix.

    With linear maps the network trains like the other families
    (:func:`~integrallimits.control.train`, :class:`~integrallimits.control.Objective`):
    its kernel carries the vector-Jacobian product in the channel fields and the bias, the
    trainable fields are ``W0, W1, ...`` (``W[r]`` on the triangle j < n) and ``b``, and the
    classifier acts on the channel means (:meth:`pooling_matrix`).

    Parameters
    ----------
    maps : FeatureMap or sequence of FeatureMap
        On one :class:`SpatialRule`, each with a square c x c channel matrix.
    W : array (N[+1], N[+1], c, c), callable W(t, s) -> (c, c), None, or a list of
        these (one per map)
        The channel fields; None keeps the map's own channel matrix at every layer.
    b : array (N[+1], N[+1], c[, M]), callable b(t, s) -> (c,) or (c, M), or None
        The bias (zero by default); with shape (c, M) it is a function of ξ.
    n_layers : int
        N (inferred from an array W or b if not given).
    activation : {"tanh", "relu", "softplus", "sigmoid", "identity"}
    T : float
    rule : str
        A direct-quadrature method name ("rectangle" is the usual explicit network).

    Examples
    --------
    >>> import numpy as np
    >>> grid = spatial_rule("gauss-legendre", 8)
    >>> maps = [LocalMap(grid, channels=2), NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid,
    ...                                                channels=2)]
    >>> net = NonlocalDense(maps, [lambda t, s: -np.eye(2), lambda t, s: (1 + t - s) * np.eye(2)],
    ...                     n_layers=4)
    >>> x0 = np.stack([np.sin(grid.nodes), np.cos(grid.nodes)])         # (c, M)
    >>> net.forward(x0).shape
    (1, 2, 8)
    >>> bool(np.allclose(net.forward(x0), net.recursion(x0)[:, -1], rtol=0, atol=1e-14))
    True
    """

    family = "nonlocal-dense"

    def __init__(self, maps, W=None, b=None, n_layers=None, activation="tanh", T=1.0,
                 rule="rectangle"):
        if isinstance(maps, FeatureMap):
            maps = [maps]
        elif isinstance(maps, (list, tuple)):
            maps = list(maps)
        if not isinstance(maps, list) or not maps or not all(isinstance(m, FeatureMap) for m in maps):
            raise TypeError("maps must be a FeatureMap or a non-empty sequence of FeatureMaps")
        grid = maps[0].grid
        for m in maps[1:]:
            if m.grid is not grid and not (m.grid.dim == grid.dim and m.grid.M == grid.M
                                           and np.array_equal(m.grid.nodes, grid.nodes)
                                           and np.array_equal(m.grid.weights, grid.weights)):
                raise ValueError("all maps must live on the same spatial rule")
        c = maps[0].in_channels
        for m in maps:
            if m.channel_matrix.shape != (c, c):
                raise ValueError(f"every map needs a square {c} x {c} channel matrix (the state "
                                 f"keeps its channels), got {m.channel_matrix.shape}")
        fields = list(W) if isinstance(W, (list, tuple)) else [W]
        if len(fields) != len(maps):
            raise ValueError(f"W must give one channel field per map ({len(maps)}), got {len(fields)}")
        n_layers = _infer_layers(n_layers, fields, b)
        super().__init__(c * grid.M, n_layers, T, rule, activation)
        self.maps, self.grid, self.channels, self.M = maps, grid, c, grid.M
        N = self.n_layers
        self.W = [np.broadcast_to(m.channel_matrix, (N + 1, N + 1, c, c)).copy() if f is None
                  else _as_grid(f, N, True, (c, c), self.T, f"W[{r}]" if len(maps) > 1 else "W")
                  for r, (m, f) in enumerate(zip(maps, fields))]
        self.b = self._bias(b)
        self.theta = self._pack()

    def _bias(self, b):
        N, c, M = self.n_layers, self.channels, self.M
        if b is None:
            return np.zeros((N + 1, N + 1, c))
        if callable(b):
            value = np.shape(b(0.0, 0.0))
        else:
            value = np.shape(b)[2:]
        if value not in ((c,), (c, M)):
            raise ValueError(f"b must give values of shape ({c},) or ({c}, {M}) per layer pair, "
                             f"got {value}")
        return _as_grid(b, N, True, value, self.T, "b")

    def _pack(self):
        R, M, c, N = len(self.maps), self.M, self.channels, self.n_layers
        compiled = [m._compiled() for m in self.maps]
        offset = HEADER + MAP_FIELDS * R
        descriptors, data = [], []
        for kind, values, dk in compiled:
            descriptors.append([kind, offset, 0, dk])
            data.append(values)
            offset += values.size
        for r in range(R):
            descriptors[r][2] = offset
            offset += (N + 1) ** 2 * c * c
        spatial_bias = self.b.ndim == 4
        header = [0.0, self.h, N, c, self._code, M, R, offset, float(spatial_bias)]
        return pack(header, np.array(descriptors, dtype=float), *data, *self.W, self.b)

    @property
    def field_offset(self):
        """Start in ``theta`` of the trainable fields: the channel fields W^0, W^1, ... (each
        (N+1, N+1, c, c)) and then the bias, contiguous up to the end of ``theta``."""
        return int(self.theta[HEADER + 2])

    def pooling_matrix(self):
        r"""The channel means :math:`\int_\Omega x_a(\xi)\, d\xi \approx \sum_p \omega_p x_a(\xi_p)`
        as a (c, c M) matrix acting on a flattened state (the resolution-independent readout
        of :class:`~integrallimits.control.Objective` for this family).

        Examples
        --------
        >>> grid = spatial_rule("trapezoid", 2)
        >>> NonlocalDense(LocalMap(grid, channels=2), n_layers=1).pooling_matrix()
        array([[0.25, 0.5 , 0.25, 0.  , 0.  , 0.  ],
               [0.  , 0.  , 0.  , 0.25, 0.5 , 0.25]])
        """
        return np.kron(np.eye(self.channels), self.grid.weights[None, :])

    def kernel(self, batch=1):
        """The network's Kernel K(t, s, x) = σ(A(t, s) x + b(t, s)) on ``batch`` samples.

        With linear maps only (local, Nyström, convolution) the kernel carries its exact
        Jacobian and the vector-Jacobian product in the state and the parameters
        (:func:`nonlocal_dense_vjp`: the channel fields W^r and the bias), so
        :func:`~integrallimits.control.discrete_adjoint` gives their exact gradient.  With
        an attention map the Jacobian is by finite differences and the vjp acts on the
        state only.  The kernel reads ``theta`` at every call: updating it in place
        retrains the network.
        """
        linear = all(m.linear for m in self.maps)
        function, jacobian, vjp = _compiled()
        return Kernel(function, batch * self.d, False,
                      jacobian if linear else None, _block_sum(),
                      "analytic" if linear else "finite-difference",
                      structure={"kind": "network", "family": self.family, "t_independent": False},
                      name=self.family, params=self.theta, vjp_function=vjp if linear else None)

    def states(self, X0, **options):
        """All layer states x_0..x_N for inputs X0 (B, c, M) -> (B, N+1, c, M)."""
        X0 = self._check_inputs(X0)
        B, N = X0.shape[0], self.n_layers
        options.setdefault("raise_on_failure", True)
        # implicit rules: Newton on one sample's (c M) unknowns at a time, not the whole batch's
        chunk = 1 if METHODS[self.rule].implicit else B
        out = np.empty((B, N + 1, self.d))
        for start in range(0, B, chunk):
            part = X0[start:start + chunk]
            sol = solve_volterra(self.kernel(len(part)), self.forcing(part), (0.0, self.T), N,
                                 method=self.rule, **options)
            out[start:start + len(part)] = sol.y.reshape(N + 1, len(part), self.d).transpose(1, 0, 2)
        return out.reshape(B, N + 1, self.channels, self.M)

    def forward(self, X0, **options):
        """The output x_N for inputs X0 (B, c, M) or (c, M) -> (B, c, M)."""
        return self.states(X0, **options)[:, -1]

    def recursion(self, X0):
        """The defining explicit recursion x_n = x_0 + h Σ_{j<n} σ(Σ_r A^r_nj x_j + b_nj),
        written with the maps' ``apply`` (FFT for convolutions); returns (B, N+1, c, M).

        This is the "rectangle" network whatever ``rule`` is.
        """
        X0 = self._check_inputs(X0).reshape(-1, self.channels, self.M)
        sigma = activation(self.activation)
        xs = [X0]
        for n in range(1, self.n_layers + 1):
            total = np.zeros_like(X0)
            for j in range(n):
                z = sum(m.with_channels(Wr[n, j]).apply(xs[j]) for m, Wr in zip(self.maps, self.W))
                bias = self.b[n, j] if self.b.ndim == 4 else self.b[n, j][:, None]
                total += sigma(z + bias)
            xs.append(X0 + self.h * total)
        return np.stack(xs, axis=1)

    def _check_inputs(self, X0):
        X0 = np.asarray(X0, dtype=float)
        c, M = self.channels, self.M
        if X0.ndim == 2:
            X0 = X0[None]
        if X0.ndim != 3 or X0.shape[1:] != (c, M):
            raise ValueError(f"inputs must have shape (B, {c}, {M}) or ({c}, {M}) (batch, channels, "
                             f"nodes), got {np.shape(X0)}")
        if not np.all(np.isfinite(X0)):
            raise ValueError("inputs contain NaN or inf")
        return X0.reshape(X0.shape[0], c * M)

    def __repr__(self):
        kinds = ", ".join(m.kind for m in self.maps)
        return (f"NonlocalDense(maps=[{kinds}], channels={self.channels}, M={self.M}, "
                f"n_layers={self.n_layers}, T={self.T}, rule={self.rule!r}, "
                f"activation={self.activation!r})")


def _infer_layers(n_layers, fields, b):
    if n_layers is not None:
        if isinstance(n_layers, bool) or not isinstance(n_layers, numbers.Integral):
            raise ValueError(f"n_layers must be an integer >= 1, got {n_layers!r}")
        return int(n_layers)
    for f in list(fields) + [b]:
        if f is not None and not callable(f):
            shape = np.shape(f)
            if len(shape) >= 2:
                return int(shape[0])
    raise ValueError("give n_layers when no W or b is an array")


# -- convergence in M ------------------------------------------------------------------------------

def _kernel_a(x, s):
    """The fixed continuum kernel a(ξ, η) = exp(-4 (ξ - η)^2) of the resolution study."""
    return np.exp(-4.0 * (x - s) ** 2)


def _field_nonlocal(t, s):
    return np.array([[1.0 + t - s, -0.5], [0.5 + s, -1.0 + t]])


def _field_local(t, s):
    return np.array([[-0.5, 0.2 * t], [0.1 * s, -0.3]])


def _initial(x):
    return np.stack([np.sin(np.pi * x) + x, np.cos(2.0 * x)])


_QUERY = np.array([[1.0, 0.5], [-0.3, 1.0]])
_KEY = np.array([[0.8, -0.2], [0.4, 0.6]])


def resolution_network(grid, operator="nystrom", n_layers=8, rule="rectangle"):
    r"""The fixed continuum non-local network of the resolution study, on ``grid``.

    Two channels, tanh, T = 1, N = ``n_layers``:

    .. math:: x(t, \xi) = x_0(\xi) + \int_0^t \tanh\bigl(W_0(t, s) x(s, \xi)
              + W_1(t, s) (\mathcal{A} x(s))(\xi) + b(t, s, \xi)\bigr)\, ds,

    x_0 = (sin πξ + ξ, cos 2ξ), b = (0.1 sin(2πξ + t - s), 0.2 s cos πξ), and
    𝒜 the Nyström operator with a(ξ, η) = exp(-4 (ξ - η)^2) (``operator="nystrom"``)
    or the attention map with fixed Q, K (``"attention"``).  All data are analytic in ξ.

    Returns
    -------
    (NonlocalDense, x0 of shape (2, M))
    """
    if operator == "nystrom":
        spatial = NystromMap(_kernel_a, grid, channels=2)
    elif operator == "attention":
        spatial = AttentionMap(grid, _QUERY, _KEY)
    else:
        raise ValueError(f"operator must be 'nystrom' or 'attention', got {operator!r}")
    x = grid.nodes

    def bias(t, s):
        return np.stack([0.1 * np.sin(2 * np.pi * x + t - s), 0.2 * s * np.cos(np.pi * x)])

    net = NonlocalDense([LocalMap(grid, channels=2), spatial], [_field_local, _field_nonlocal],
                        bias, n_layers=n_layers, rule=rule)
    return net, _initial(x)


def resolution_study_values(rule, sizes, operator="nystrom", n_layers=8):
    r"""Pooled outputs of the fixed continuum network (:func:`resolution_network`) for
    spatial rules of growing size.

    For each size n the network runs on ``spatial_rule(rule, n)`` (M nodes) and
    returns the readout

    .. math:: J_M = \sum_p \omega_p\, x_N(\xi_p) \approx \int_\Omega x_N(\xi)\, d\xi
              \quad (\text{one value per channel}),

    which tends to the continuum value as M -> ∞ with the rule's order (every
    spatial sum, the operator's and the readout's, is a quadrature of an analytic
    integrand).

    Parameters
    ----------
    rule : str
        A spatial rule name ("trapezoid", "simpson", "rectangle", "gauss-legendre", ...).
    sizes : sequence of int
        The rule's size arguments (panels for composite rules, nodes otherwise).
    operator : {"nystrom", "attention"}
    n_layers : int

    Returns
    -------
    M : ndarray (len(sizes),)
        The number of nodes of each rule.
    values : ndarray (len(sizes), 2)
        J_M.

    Examples
    --------
    >>> M, J = resolution_study_values("gauss-legendre", [12, 16])
    >>> M.tolist(), bool(np.abs(J[1] - J[0]).max() < 1e-12)
    ([12, 16], True)
    """
    Ms, values = [], []
    for n in sizes:
        grid = spatial_rule(rule, n)
        net, x0 = resolution_network(grid, operator, n_layers)
        Ms.append(grid.M)
        values.append(grid.integrate(net.forward(x0)[0]))
    return np.array(Ms), np.array(values)
