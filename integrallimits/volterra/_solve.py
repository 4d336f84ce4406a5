"""The front function :func:`solve_volterra`."""
from __future__ import annotations

import time

import numpy as np

from ..kernels import as_forcing, as_kernel
from . import _loops
from ._mesh import check_newton_options, is_uniform, make_mesh, resolve_method
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


def solve_volterra(K, g, t_span=None, n_steps=None, method=None, *, kind=2, mesh=None,
                   jacobian=None,
                   newton_tol=1e-12, newton_maxiter=50, fast_history=None, raise_on_failure=False):
    r"""Solve the Volterra integral equation of the second kind.

    .. math::

        y(t) = g(t) + \int_{t_0}^{t} K(t, s, y(s))\, ds, \qquad t_0 \le t \le T.

    Parameters
    ----------
    K : callable or Kernel
        ``K(t, s, y)``: a float for scalar y; for y of shape (d,) an array of
        shape (d,) or, fastest (no allocation per call), a tuple of d floats.
        Plain Python with NumPy/math is compiled with Numba (once per function);
        :func:`integrallimits.kernels.from_sympy` gives a kernel with an exact
        Jacobian.
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
    meth = resolve_method(method, METHODS, VolterraMethod)

    # -- the mesh
    t = make_mesh(t_span, n_steps, mesh, "solve_volterra")
    if mesh is not None and meth.uniform_only and not is_uniform(t):
        raise ValueError(f"method {meth.name!r} needs a uniform mesh; use a Volterra "
                         f"Runge-Kutta or collocation method (e.g. 'radau3') on graded meshes")
    n_steps = len(t) - 1
    if n_steps < meth.min_steps:
        raise ValueError(f"method {meth.name!r} needs n_steps >= {meth.min_steps}, got {n_steps}")
    check_newton_options(newton_tol, newton_maxiter)

    # -- the forcing and the kernel
    g_vec, y0 = as_forcing(g, t[0])
    if not np.all(np.isfinite(y0)):
        raise ValueError(f"g(t) is not finite at t = {t[0]} (value {y0.tolist()})")
    kernel = as_kernel(K, y0, t[0], jacobian=jacobian)

    uniform = mesh is None or is_uniform(t)
    can_fast = (kernel.structure.get("kind") == "convolution" and uniform and meth.fast_convolution)
    if fast_history is True and not can_fast:
        raise ValueError("fast_history=True needs a convolution kernel (kernels.convolution), a uniform "
                         f"mesh and a method with a fast history; method {meth.name!r}, kernel "
                         f"{kernel.structure.get('kind')!r}, uniform mesh: {uniform}")
    fast = can_fast and fast_history is not False

    start = time.perf_counter()
    Y, status, index, counts, stages = meth.solve(kernel, g_vec, t, float(newton_tol), int(newton_maxiter),
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
                    t_failure=t_failure, stages=stages if status == _loops.SUCCESS else None)
