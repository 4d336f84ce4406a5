r"""The spatial rule: nodes and weights of a quadrature rule on Ω = [a, b] or [a, b]^2.

A feature of a non-local network is a function u : Ω -> R^c sampled at the M nodes η_m of
such a rule; every spatial integral (a feature map, the pooled readout) is the rule's sum
Σ_m ω_m (·)(η_m).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...kernels._kernel import agrees_on_halves
from ...quadrature import IntervalRule, interval_rule

__all__ = ["SpatialRule", "spatial_rule"]

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


def read_only(a):
    """A read-only float copy of ``a`` (rule data and map matrices are never changed in place)."""
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
    return SpatialRule(rule, 2, read_only(nodes), read_only(np.outer(w, w).ravel()),
                       (x.size, x.size))


def _same_on_halves(f, full, values):
    """:func:`~integrallimits.kernels._kernel.agrees_on_halves` for f's values on the grid
    ``full`` (halves of its first axis; a half f cannot take, or complex values: no)."""
    def call(part):
        try:
            with np.errstate(all="ignore"):
                v = np.asarray(f(*(c[part] for c in full)))
            if np.iscomplexobj(v):
                return None
            return np.broadcast_to(v.astype(float), values[part].shape)
        except Exception:  # noqa: BLE001 (a half it cannot take: pointwise, which reports)
            return None
    return values.ndim == 0 or agrees_on_halves(call, values)


def evaluate(f, what, *coords):
    """f(*coords) as a float array of the broadcast shape: vectorised if f broadcasts to it
    (NumPy ufuncs) and agrees with pointwise calls at its first, middle and last entries, else
    pointwise (a reduction such as ``np.linalg.norm(δ)`` broadcasts to a single number and
    would otherwise stand for every entry).  An exception of f's own is raised with the point
    in a note; complex values are refused (not cut to their real part)."""
    shape = np.broadcast_shapes(*(np.shape(c) for c in coords))
    full = [np.broadcast_to(c, shape) for c in coords]

    def point(idx):
        return ", ".join(repr(float(c[idx])) for c in full)

    def at(idx):
        try:
            value = f(*(c[idx] for c in full))
        except Exception as exc:   # the user's own error: raised, with where
            if hasattr(exc, "add_note"):
                exc.add_note(f"raised by {what} when called at ({point(idx)})")
            raise
        if np.iscomplexobj(value):
            raise TypeError(f"{what} must return a real number, got complex value {value!r} at "
                            f"({point(idx)})")
        try:
            return float(value)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{what} must return a real number, got {type(value).__name__} "
                            f"{np.shape(value)} at ({point(idx)})") from exc

    values = None
    try:
        with np.errstate(all="ignore"):
            v = np.asarray(f(*coords))
        if np.iscomplexobj(v):      # (pointwise below: refused with its point)
            v = None
        else:
            v = v.astype(float)
    except Exception:  # not written for arrays: evaluate pointwise below
        v = None
    if v is not None:
        if v.shape == shape:
            values = v
        elif v.shape == ():
            values = np.full(shape, float(v))
    if values is not None and values.size:
        checks = {np.unravel_index(i, shape) for i in (0, values.size // 2, values.size - 1)}
        # (a NaN is not close to anything: pointwise then, and the error below)
        if not all(math.isclose(values[idx], at(idx), rel_tol=1e-12, abs_tol=1e-300)
                   for idx in checks) or not _same_on_halves(f, full, values):
            values = None
    if values is None:
        values = np.empty(shape)
        for idx in np.ndindex(shape):
            values[idx] = at(idx)
    if not np.all(np.isfinite(values)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise ValueError(f"{what} is not finite at some node: {values[idx]} at ({point(idx)})")
    return values
