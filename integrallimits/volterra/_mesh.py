"""Validation shared by the front functions: the method, the mesh and the Newton options."""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["resolve_method", "make_mesh", "is_uniform", "check_newton_options"]


def resolve_method(method, registry, cls, purpose=""):
    """The method object: an instance of ``cls`` as it is, or a name in ``registry``
    (``purpose`` completes the error message, e.g. " for a first-kind equation")."""
    if isinstance(method, cls):
        return method
    if isinstance(method, str):
        if method not in registry:
            raise ValueError(f"method must be one of {', '.join(registry)}{purpose}; got {method!r}")
        return registry[method]
    raise TypeError(f"method must be a method name (str), got {type(method).__name__}")


def _check_t_span(t_span):
    try:
        t0, T = (float(v) for v in t_span)
    except (TypeError, ValueError):
        raise ValueError(f"t_span must be a pair (t0, T) of floats, got {t_span!r}") from None
    if not (np.isfinite(t0) and np.isfinite(T)):
        raise ValueError(f"t_span must be finite, got {t_span!r}")
    if not T > t0:
        raise ValueError(f"t_span must satisfy t0 < T (a non-empty, forward interval), got {t_span!r}")
    return t0, T


def make_mesh(t_span, n_steps, mesh, caller):
    """The mesh from (t_span, n_steps) (uniform) or from ``mesh`` (validated), as a C array."""
    if mesh is not None:
        if t_span is not None or n_steps is not None:
            raise ValueError("give either mesh or (t_span, n_steps), not both")
        t = np.ascontiguousarray(mesh, dtype=float)
        if t.ndim != 1 or t.shape[0] < 2:
            raise ValueError(f"mesh must be a 1-d array of at least 2 points, got shape {t.shape}")
        if not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
            raise ValueError("mesh must be finite and strictly increasing")
        return t
    if t_span is None or n_steps is None:
        raise TypeError(f"{caller} needs t_span and n_steps (or mesh)")
    t0, T = _check_t_span(t_span)
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
        raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    t = t0 + (T - t0) * np.arange(n_steps + 1) / n_steps
    t[-1] = T
    return t


def is_uniform(t):
    """True if the steps of t are equal up to the rounding of t_n = t_0 + n h (~ N eps |t|)."""
    n = len(t) - 1
    h = (t[-1] - t[0]) / n
    scale = max(abs(t[0]), abs(t[-1]))
    return bool(np.max(np.abs(np.diff(t) - h)) <= 8 * np.finfo(float).eps * (scale + n * abs(h)))


def check_newton_options(newton_tol, newton_maxiter):
    if isinstance(newton_tol, bool) or not isinstance(newton_tol, numbers.Real) or not newton_tol > 0:
        raise ValueError(f"newton_tol must be a positive float, got {newton_tol!r}")
    if isinstance(newton_maxiter, bool) or not isinstance(newton_maxiter, numbers.Integral) \
            or newton_maxiter < 1:
        raise ValueError(f"newton_maxiter must be an integer >= 1, got {newton_maxiter!r}")
