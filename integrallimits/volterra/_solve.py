"""The front function :func:`solve_volterra`."""
from __future__ import annotations

import numbers
import time

import numpy as np

from ..kernels import Kernel, as_forcing, as_kernel
from . import _loops
from ._methods import METHODS, VolterraMethod
from ._solution import Solution, SolverError

__all__ = ["solve_volterra"]

_DEFAULTS = {"newton_tol": 1e-12, "newton_maxiter": 50, "raise_on_failure": False}

_MESSAGES = {
    _loops.SUCCESS: "The solver reached the end of the interval.",
    _loops.NEWTON_FAILED: ("Newton's method did not converge at t = {t:.6g} "
                           "(after {it} iterations in all); the solution may blow up there, "
                           "or the step is too large for the implicit equation."),
    _loops.NOT_FINITE: "The solution became non-finite (inf/nan) at t = {t:.6g}: it blows up.",
}


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


def _is_uniform(t):
    """True if the steps of t are equal up to the rounding of t_n = t_0 + n h (~ N eps |t|)."""
    n = len(t) - 1
    h = (t[-1] - t[0]) / n
    scale = max(abs(t[0]), abs(t[-1]))
    return bool(np.max(np.abs(np.diff(t) - h)) <= 8 * np.finfo(float).eps * (scale + n * abs(h)))


def _check_mesh(mesh):
    t = np.ascontiguousarray(mesh, dtype=float)
    if t.ndim != 1 or t.shape[0] < 2:
        raise ValueError(f"mesh must be a 1-d array of at least 2 points, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
        raise ValueError("mesh must be finite and strictly increasing")
    return t


def solve_volterra(K, g, t_span=None, n_steps=None, method=None, *, kind=2, mesh=None,
                   jacobian=None,
                   newton_tol=1e-12, newton_maxiter=50, fast_history=None, raise_on_failure=False):
    r"""Solve the Volterra integral equation of the second kind.

    .. math::

        y(t) = g(t) + \int_{t_0}^{t} K(t, s, y(s))\, ds, \qquad t_0 \le t \le T.

    Parameters
    ----------
    K : callable or Kernel
        ``K(t, s, y)``: a float for scalar y, an array of shape (d,) for y of
        shape (d,).  Plain Python with NumPy/math is compiled with Numba (once
        per function); :func:`integrallimits.kernels.from_sympy` gives a kernel
        with an exact Jacobian.
    g : callable
        ``g(t)``: a float, or an array of shape (d,) (this fixes the shape of y).
    t_span : (float, float)
        The interval (t0, T), t0 < T.
    n_steps : int
        Number of uniform steps N (h = (T - t0) / N).
    method : str or VolterraMethod, optional
        A name in :data:`METHODS` (``METHODS[name].order`` is its order); default
        "trapezoid" (for ``kind=1``: "radau2").
    kind : {2, 1}
        2 (default): the equation above.  1: the first-kind equation
        g(t) = int_{t_0}^t K(t, s) y(s) ds, with K(t, s) the (linear) kernel,
        solved by the methods of ``integrallimits.volterra.FIRST_KIND_METHODS``.
    mesh : array_like, optional
        A strictly increasing mesh to use instead of ``t_span``/``n_steps``
        (Volterra Runge-Kutta/collocation methods only; e.g. a graded mesh).
    jacobian : callable, optional
        dK/dy(t, s, y) (float, or (d, d) array) for the Newton iterations of
        implicit methods; without it finite differences are used.
    newton_tol : float
        Newton stops when the update is below ``newton_tol * max(1, |y|)``.
    newton_maxiter : int
        Iteration cap per Newton solve.
    fast_history : bool or None
        For convolution kernels (:func:`integrallimits.kernels.convolution`) on a
        uniform mesh, compute the history sums with the blocked FFT scheme in
        O(N log^2 N) work.  ``None`` (default) does so whenever it applies,
        ``False`` forces the direct O(N^2) sums, ``True`` raises if it cannot apply.
    raise_on_failure : bool
        Raise :class:`SolverError` instead of returning a failed solution.

    Returns
    -------
    Solution
        ``t``, ``y`` ((N+1,) or (N+1, d)), dense output ``sol(t)``, ``status``,
        ``message`` and ``stats``.

    Examples
    --------
    y(t) = 1 - int_0^t (t - s) y(s) ds has the solution cos t:

    >>> import numpy as np
    >>> from integrallimits import solve_volterra
    >>> def K(t, s, y):
    ...     return -(t - s) * y
    >>> sol = solve_volterra(K, lambda t: 1.0, (0.0, 2.0), 64, method="gregory6")
    >>> sol.status, bool(abs(sol.y[-1] - np.cos(2.0)) < 1e-9)
    (True, True)
    >>> bool(abs(sol(1.0) - np.cos(1.0)) < 1e-9)                 # dense output
    True
    """
    if kind == 1:
        from ._first_kind import solve_first_kind
        options = dict(mesh=mesh, jacobian=jacobian, newton_tol=newton_tol,
                       newton_maxiter=newton_maxiter, fast_history=fast_history,
                       raise_on_failure=raise_on_failure)
        options = {k: v for k, v in options.items() if v is not None and
                   (k not in ("newton_tol", "newton_maxiter", "raise_on_failure")
                    or v != _DEFAULTS[k])}
        return solve_first_kind(K, g, t_span, n_steps, method, **options)
    if kind != 2:
        raise ValueError(f"kind must be 2 (second kind) or 1 (first kind), got {kind!r}")
    if method is None:
        method = "trapezoid"

    # -- the method
    if isinstance(method, VolterraMethod):
        meth = method
    elif isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"method must be one of {', '.join(METHODS)}; got {method!r}")
        meth = METHODS[method]
    else:
        raise TypeError(f"method must be a method name (str), got {type(method).__name__}")

    # -- the mesh
    if mesh is not None:
        if t_span is not None or n_steps is not None:
            raise ValueError("give either mesh or (t_span, n_steps), not both")
        t = _check_mesh(mesh)
        if meth.uniform_only and not _is_uniform(t):
            raise ValueError(f"method {meth.name!r} needs a uniform mesh; use a Volterra "
                             f"Runge-Kutta or collocation method (e.g. 'radau3') on graded meshes")
    else:
        if t_span is None or n_steps is None:
            raise TypeError("solve_volterra needs t_span and n_steps (or mesh)")
        t0, T = _check_t_span(t_span)
        if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral):
            raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
        if n_steps < 1:
            raise ValueError(f"n_steps must be >= 1, got {n_steps}")
        t = t0 + (T - t0) * np.arange(n_steps + 1) / n_steps
        t[-1] = T
    n_steps = len(t) - 1
    if n_steps < meth.min_steps:
        raise ValueError(f"method {meth.name!r} needs n_steps >= {meth.min_steps}, got {n_steps}")
    if not (isinstance(newton_tol, numbers.Real) and newton_tol > 0):
        raise ValueError(f"newton_tol must be a positive float, got {newton_tol!r}")
    if isinstance(newton_maxiter, bool) or not isinstance(newton_maxiter, numbers.Integral) \
            or newton_maxiter < 1:
        raise ValueError(f"newton_maxiter must be an integer >= 1, got {newton_maxiter!r}")

    # -- the forcing and the kernel
    g_vec, y0 = as_forcing(g, t[0])
    if not np.all(np.isfinite(y0)):
        raise ValueError(f"g(t) is not finite at t = {t[0]} (value {y0.tolist()})")
    kernel = as_kernel(K, y0, t[0], jacobian=jacobian)

    uniform = mesh is None or _is_uniform(t)
    can_fast = (kernel.structure.get("kind") == "convolution" and uniform and meth.fast_convolution)
    if fast_history is True and not can_fast:
        raise ValueError("fast_history=True needs a convolution kernel (kernels.convolution), a uniform "
                         f"mesh and a method with a fast history; method {meth.name!r}, kernel "
                         f"{kernel.structure.get('kind')!r}, uniform mesh: {uniform}")
    fast = can_fast and fast_history is not False

    start = time.perf_counter()
    Y, status, index, counts = meth.solve(kernel, g_vec, t, float(newton_tol), int(newton_maxiter),
                                          fast_history=fast)
    seconds = time.perf_counter() - start

    stats = {"nfev": int(counts[0]), "njev": int(counts[1]), "newton_iterations": int(counts[2]),
             "newton_solves": int(counts[3]),
             "jacobian": kernel.jacobian_source if meth.implicit else "not needed",
             "compiled": True, "fast_history": fast, "seconds": seconds}
    t_failure = None
    if status == _loops.SUCCESS:
        message = _MESSAGES[status]
        keep = len(t)
    else:
        t_failure = float(t[index])
        message = _MESSAGES[status].format(t=t_failure, it=stats["newton_iterations"])
        keep = index  # the values before the failing point are good
        if raise_on_failure:
            raise SolverError(message)
    return Solution(t[:keep], Y[:keep], scalar=kernel.scalar, status=status == _loops.SUCCESS,
                    message=message, stats=stats, method=meth.name, order=meth.order,
                    t_failure=t_failure)
