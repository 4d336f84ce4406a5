"""Parameter fields of the networks: grid values, continuum fields, basis expansions, and the
piecewise linear extension of grid values to the continuum with L2 / H1 distances.

One-variable fields (ResNet) theta(t); two-variable fields (dense nets) theta(t, s)
on the triangle 0 <= s <= t <= T.  Values may be arrays (a (d, d) matrix per point).
"""
from __future__ import annotations

import numbers

import numpy as np
from numpy.polynomial import legendre

from .._memory import check_memory

__all__ = ["sample_field", "sample_field_at", "legendre_field", "low_rank_field", "PiecewiseLinear",
           "PiecewiseLinearTriangle", "l2_distance", "h1_distance", "discrete_h1"]


def sample_field(field, n_layers, T=1.0, two_variable=False, t0=0.0, name="field"):
    """Grid values of a callable field at t_n = t0 + n h (and s_j), h = T / N, n, j = 0..N.

    Returns an array (N+1, *shape) or (N+1, N+1, *shape) (all pairs, including s > t,
    which starting blocks of high-order rules read).
    """
    n_layers = _checked_grid(n_layers, T, t0)
    h = (T - t0) / n_layers
    return sample_field_at(field, t0 + h * np.arange(n_layers + 1), two_variable, name)


def _checked_grid(n_layers, T, t0):
    """``n_layers`` as an int, once it is a whole number >= 1 and [t0, T] a finite interval;
    else a ValueError naming the argument.  (``n_layers=0`` was a ZeroDivisionError, 2.5
    sampled past T at 0, 0.4, 0.8, 1.2, -1 gave no sample, True one layer, T = nan NaN times,
    and T <= t0 a grid going backwards or standing still, all without a word.)"""
    if isinstance(n_layers, (bool, np.bool_)) or not isinstance(n_layers, numbers.Real) \
            or not float(n_layers).is_integer() or n_layers < 1:
        raise ValueError(f"n_layers must be an integer >= 1, got {n_layers!r}")
    for label, value in (("T", T), ("t0", t0)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) \
                or not np.isfinite(value):
            raise ValueError(f"{label} must be a finite number, got {value!r}")
    if not T > t0:
        raise ValueError(f"T must be greater than t0, got T = {T!r} and t0 = {t0!r}")
    return int(n_layers)


def _shown(point):
    """A point's times as plain floats, for messages: "(0.5)", not "(np.float64(0.5),)"."""
    return f"({', '.join(repr(float(p)) for p in point)})"


def sample_field_at(field, times, two_variable=False, name="field"):
    """Values of a callable field at ``times`` (all pairs (t_n, s_j) of them if two-variable):
    an array (n, *shape) or (n, n, *shape).

    Raises TypeError for values that are not real numbers (complex values are not silently
    cut to their real part) and ValueError when the shape changes from point to point.
    """
    first = None

    def value(*point):
        nonlocal first
        try:
            v = np.asarray(field(*point))
        except Exception as exc:   # the field's own error: raised, with where
            if hasattr(exc, "add_note"):
                exc.add_note(f"raised by {name}{_shown(point)} (the field called at that point)")
            raise
        if v.dtype == object or not (np.issubdtype(v.dtype, np.number) or v.dtype == bool):
            raise TypeError(f"{name}{_shown(point)} must return real numbers, got "
                            f"{type(v).__name__} of dtype {v.dtype}")
        if np.iscomplexobj(v):
            raise TypeError(f"{name}{_shown(point)} returned complex values; fields must be "
                            f"real")
        if first is None:
            first = v.shape
        elif v.shape != first:
            raise ValueError(f"{name}{_shown(point)} returned shape {v.shape}, but shape {first} "
                             f"at the first point")
        return v.astype(float)

    if two_variable:
        return np.array([[value(ti, sj) for sj in times] for ti in times])
    return np.array([value(ti) for ti in times])


def legendre_field(coefficients, T=1.0, two_variable=False):
    """theta(t) = sum_p c_p P_p(2t/T - 1) or theta(t, s) = sum_pq c_pq P_p(t') P_q(s').

    ``coefficients`` has shape (P, *shape) or (P, Q, *shape).
    """
    c = np.asarray(coefficients, dtype=float)
    if two_variable:
        def field(t, s):
            pt = legendre.legvander(np.array([2 * t / T - 1]), c.shape[0] - 1)[0]
            ps = legendre.legvander(np.array([2 * s / T - 1]), c.shape[1] - 1)[0]
            return np.tensordot(np.tensordot(pt, c, axes=(0, 0)), ps, axes=(0, 0))
    else:
        def field(t):
            return np.tensordot(legendre.legvander(np.array([2 * t / T - 1]), c.shape[0] - 1)[0],
                                c, axes=(0, 0))
    return field


def low_rank_field(a, b):
    """theta(t, s) = sum_r a_r(t) b_r(s)^T (a_r, b_r callables returning (d,) arrays)."""
    if len(a) != len(b):
        raise ValueError(f"a and b need the same rank, got {len(a)} and {len(b)}")

    def field(t, s):
        return sum(np.outer(ar(t), br(s)) for ar, br in zip(a, b))
    return field


def _step(h):
    """``h`` as a float if it is finite and > 0, else ValueError (h = 0 divided by zero: every
    value of the extension was the last node's)."""
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite float > 0, got {h!r}")
    return float(h)


class PiecewiseLinear:
    """Piecewise linear extension in t of grid values theta_0..theta_{K-1} at t_n = t0 + n h,
    continued constantly after the last node (a ResNet with N layers has K = N values)."""

    def __init__(self, values, h, t0=0.0):
        self.values = np.asarray(values, dtype=float)
        self.h, self.t0 = _step(h), float(t0)

    def __call__(self, t):
        t = np.asarray(t, dtype=float)
        x = np.clip((t - self.t0) / self.h, 0.0, len(self.values) - 1)
        i = np.minimum(np.floor(x).astype(int), len(self.values) - 2) if len(self.values) > 1 \
            else np.zeros_like(x, dtype=int)
        lam = (x - i).reshape(x.shape + (1,) * (self.values.ndim - 1))
        if len(self.values) == 1:
            return np.broadcast_to(self.values[0], x.shape + self.values.shape[1:]).copy()
        return (1 - lam) * self.values[i] + lam * self.values[i + 1]


class PiecewiseLinearTriangle:
    """Linear extension on the triangulated grid of values theta_nj, 0 <= j < n <= N.

    Each grid square [s_j, s_{j+1}] x [t_n, t_{n+1}] is split along its diagonal; the
    values are continued constantly to the diagonal s = t, where the explicit network
    has no node (theta_nn := theta_{n,n-1}, theta_00 := theta_10).
    """

    def __init__(self, values, h, t0=0.0):
        v = np.array(values, dtype=float)  # (N+1, N+1, *shape); only j < n used
        N = v.shape[0] - 1
        for n in range(1, N + 1):
            v[n, n] = v[n, n - 1]
        v[0, 0] = v[1, 0] if N >= 1 else v[0, 0]
        self.values, self.h, self.t0, self.N = v, _step(h), float(t0), N

    def __call__(self, t, s):
        t, s = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(s, dtype=float))
        x = np.clip((t - self.t0) / self.h, 0.0, self.N)
        y = np.clip((s - self.t0) / self.h, 0.0, self.N)
        y = np.minimum(y, x)  # the field lives on s <= t
        n = np.minimum(np.floor(x).astype(int), self.N - 1)
        j = np.minimum(np.floor(y).astype(int), self.N - 1)
        a, b = x - n, y - j  # local coordinates in the square (t-direction a, s-direction b)
        v = self.values
        extra = (1,) * (v.ndim - 2)
        a, b = a.reshape(a.shape + extra), b.reshape(b.shape + extra)
        # split along the diagonal a = b: lower triangle (a >= b) uses (0,0), (1,0), (1,1)
        v00, v10, v11, v01 = v[n, j], v[n + 1, j], v[n + 1, j + 1], v[n, np.minimum(j + 1, n)]
        lower = v00 + a * (v10 - v00) + b * (v11 - v10)
        upper = v00 + b * (v01 - v00) + a * (v11 - v01)
        return np.where(a >= b, lower, upper)


def _grid(T, fine, t0=0.0, two_variable=False):
    """The fine grid of :func:`l2_distance` and :func:`h1_distance`, after checking ``fine``
    (an integer >= 1) and that its arrays fit in memory (fine = 10**9 had the process killed)."""
    if isinstance(fine, bool) or not isinstance(fine, numbers.Integral) or fine < 1:
        raise ValueError(f"fine must be an integer >= 1, got {fine!r}")
    if not (np.isfinite(T) and np.isfinite(t0) and T > t0):
        raise ValueError(f"the interval [t0, T] must be finite with T > t0, got [{t0!r}, {T!r}]")
    points = float(fine + 1) ** (2 if two_variable else 1)
    # about eight arrays of that many values (the grid(s), f, g, their difference, its powers)
    check_memory(8.0 * 8.0 * points, f"a distance on the fine grid with fine = {fine} "
                                     f"({points:.3g} points)")
    return t0 + (T - t0) * np.arange(fine + 1) / fine


def l2_distance(f, g, T=1.0, two_variable=False, fine=512, t0=0.0):
    """||f - g||_{L2} over [t0, T] (or the triangle s <= t), composite trapezoid on a fine grid."""
    x = _grid(T, fine, t0, two_variable)
    w = np.full(fine + 1, (T - t0) / fine)
    w[[0, -1]] /= 2
    if not two_variable:
        diff = (np.asarray(f(x)) - np.asarray(g(x))).reshape(len(x), -1)
        return float(np.sqrt(np.einsum("i,ik->", w, diff ** 2)))
    tt, ss = np.meshgrid(x, x, indexing="ij")
    diff = (np.asarray(f(tt, ss)) - np.asarray(g(tt, ss))).reshape(len(x), len(x), -1)
    mask = (ss <= tt + 1e-15).astype(float)
    return float(np.sqrt(np.einsum("i,j,ij,ijk->", w, w, mask, diff ** 2)))


def h1_distance(f, g, T=1.0, two_variable=False, fine=512, t0=0.0):
    """The H1 seminorm of f - g (first differences on a fine grid), plus nothing else.

    Exact for piecewise linear functions whose nodes lie on the fine grid (1-D).
    """
    x = _grid(T, fine, t0, two_variable)
    dx = (T - t0) / fine
    if not two_variable:
        diff = (np.asarray(f(x)) - np.asarray(g(x))).reshape(len(x), -1)
        return float(np.sqrt(np.sum(np.diff(diff, axis=0) ** 2) / dx))
    tt, ss = np.meshgrid(x, x, indexing="ij")
    diff = (np.asarray(f(tt, ss)) - np.asarray(g(tt, ss))).reshape(len(x), len(x), -1)
    inside = ss <= tt + 1e-15
    dt = np.diff(diff, axis=0)[(inside[1:] & inside[:-1])]
    ds = np.diff(diff, axis=1)[(inside[:, 1:] & inside[:, :-1])]
    return float(np.sqrt((np.sum(dt ** 2) + np.sum(ds ** 2))))


def discrete_h1(values, h, beta=0.0):
    """sum_n h |(theta_{n+1} - theta_n) / h|^2 + beta sum_n h |theta_n|^2 (one variable)."""
    h = _step(h)
    v = np.asarray(values, dtype=float).reshape(len(values), -1)
    return float(np.sum(np.diff(v, axis=0) ** 2) / h + beta * h * np.sum(v ** 2))
