"""The front function :func:`solve_volterra`."""
from __future__ import annotations

import math
import numbers
from types import SimpleNamespace

import numpy as np

from ..kernels import _user, as_forcing, as_kernel
from . import _loops
from ._mesh import (check_flags, check_mesh, check_newton_options, check_size, check_t_eval,
                    estimated_work, is_uniform, resolve_method, uniform_mesh)
from ._methods import METHODS, VolterraMethod, VolterraRungeKutta, tolerance_method
from ._outcome import (FAILED, Run, companion, run_guarded, solve_on_mesh,
                       with_measured_between, with_rounding_floor, with_settled_levels)
from ._adaptive import (_trial_newton_tol, solve_adaptive, with_divided_dense, with_lag_defects,
                        with_rough_data)
from ._dense import direct_dense_output, substep_dense_output
from ._estimate import estimate_options, shifted_estimate
from ._interrupt import THREAD_WORK
from ._solution import (Solution, SolverError, _count_error_evaluations, _interpolate_estimate,
                        largest_estimate)
from ._tolerance import (RECTANGLE_LIMIT, check_tolerances, fit_tolerances, over_tolerance,
                         rate_jacobian_probe, refined_to_tolerance, rounded_to_tolerance,
                         solve_uniform_to_tolerance, tolerance_of, unreachable,
                         unreachable_message, unstable_rule, with_checked_estimate,
                         with_confirmed_digits, with_kept_transient, with_resolved_start)

__all__ = ["solve_volterra"]

_DEFAULTS = {"newton_tol": 1e-12, "newton_maxiter": 50, "raise_on_failure": False}
#: The types of the flags' usual values (None, True, False), which :func:`check_flags` accepts.
_FLAG_TYPES = (type(None), bool)


def solve_volterra(K, g, t_span=None, n_steps=None, method=None, *, args=None, kind=2, mesh=None,
                   rtol=None, atol=None, t_eval=None, error_estimate=None, jacobian=None,
                   newton_tol=1e-12, newton_maxiter=50, fast_history=None, raise_on_failure=False):
    r"""Solve the Volterra integral equation of the second kind.

    .. math::

        y(t) = g(t) + \int_{t_0}^{t} K(t, s, y(s))\, ds, \qquad t_0 \le t \le T.

    Parameters
    ----------
    K : callable or Kernel
        ``K(t, s, y, *args)``: a float for scalar y; for y of shape (d,) an array of
        shape (d,) or, fastest (no allocation per call), a tuple of d floats.
        Plain Python with NumPy/math is compiled with Numba: once per function and set
        of values it reads from globals, closure cells and defaults (a changed global is
        compiled again, never run stale; see the kernel rules in the user guide);
        :func:`integrallimits.kernels.from_sympy` gives a kernel with an exact
        Jacobian.  An exception raised by K reaches the caller as it is.
    g : callable
        ``g(t, *args)``: a float, or an array of shape (d,) (this fixes the shape of y).
    t_span : (float, float)
        The interval (t0, T), t0 < T.
    n_steps : int, optional
        Number of uniform steps N (h = (T - t0) / N).  Omit it to solve to a tolerance.
    method : str or VolterraMethod, optional
        A name in :data:`METHODS` (``METHODS[name].order`` is its order); default
        "trapezoid" with ``n_steps``, and with a tolerance "radau3" (rtol >= 1e-7) or
        "radau4" (L-stable collocation of orders 5 and 7); for ``kind=1``: "radau2".
    args : tuple, optional
        Extra arguments passed to K, g and the Jacobian, as in
        :func:`scipy.integrate.solve_ivp`: floats, ints, bools or float arrays.  The
        compiled code depends only on their kinds, so a sweep over their values
        compiles once.
    kind : {2, 1}
        2 (default): the equation above.  1: the first-kind equation
        g(t) = int_{t_0}^t K(t, s) y(s) ds, with K(t, s) the (linear) kernel,
        solved by the methods of ``integrallimits.volterra.FIRST_KIND_METHODS`` (to a
        tolerance, give ``atol`` for a y that crosses zero: see :func:`solve_first_kind`).
    mesh : array_like, optional
        A strictly increasing mesh to use instead of ``t_span``/``n_steps``
        (Volterra Runge-Kutta/collocation methods only; e.g. a graded mesh).
    rtol, atol : float or array_like (d,), optional
        Solve to a tolerance: the solver chooses the mesh so that the estimated global error
        of every mesh value meets ``atol + rtol * |y|`` (defaults rtol = 1e-6, atol = 1e-9
        when only one is given; an array gives one value per component of y, as in
        :func:`scipy.integrate.solve_ivp`).  Not together with ``n_steps`` or ``mesh``.  See the
        "accuracy and error control" guide.
    t_eval : array_like, optional
        Times within ``t_span`` at which to return the solution (from the dense output):
        ``sol.t`` and ``sol.y`` are then at these times (after a failure, those the solver
        reached), as in :func:`scipy.integrate.solve_ivp`; the mesh stays in
        ``sol.mesh``/``sol.y_mesh``.  A time outside ``t_span`` or not finite is a ValueError.
    error_estimate : bool or None
        Estimate the error of every mesh value with a companion solve (half the steps,
        about 25% more work for O(N^2) methods; twice the steps when N is too small; from
        32 steps also one on a quarter of the steps, about 6% more, whose rate of
        convergence replaces the method's order when it is clearly lower) and
        check that the solution has correct digits: where the two solves disagree by more
        than half the solution's size (an unstable step, a blow-up), the solve fails from
        that point on and only the values before it are kept.  ``False`` skips both;
        ``None`` (default) means True, except for the kernels of networks
        (:mod:`integrallimits.networks`), whose N-layer map is defined on its own grid and
        is computed exactly by the solve.
    jacobian : callable, optional
        dK/dy(t, s, y, *args) (float, or (d, d) array) for the Newton iterations of
        implicit methods; without it finite differences are used.
    newton_tol : float
        Newton stops when the update is below ``newton_tol * max(s, |y|)``, s the size of
        g(t0) where it is below 1, else 1 (finite-difference Jacobians take steps of
        sqrt(eps) max(s, |y|) too: a problem of size 1e-30 is solved as one of size 1).  A
        solve to a tolerance with a Runge-Kutta or collocation method stops it at 1e-3 of
        the smaller of ``rtol`` and ``atol`` where that is larger (Newton's error is then far
        below the tolerance; iterating on to ``newton_tol`` only costs kernel evaluations); so
        do the solves of a direct rule's uniform refinement (Gregory, trapezoid).  Between 0 and 1.
    newton_maxiter : int
        Iteration cap per Newton solve.
    fast_history : bool or None
        For convolution kernels (:func:`integrallimits.kernels.convolution`, also as the
        smooth factor of :func:`~integrallimits.kernels.weakly_singular` with a collocation
        method) on a uniform mesh, compute the history sums with the blocked FFT scheme in
        O(N log^2 N) work.  ``None`` (default) does so whenever it applies,
        ``False`` forces the direct O(N^2) sums, ``True`` raises if it cannot apply.
    raise_on_failure : bool
        Raise :class:`SolverError` instead of returning a failed solution.

    Returns
    -------
    Solution
        ``t``, ``y`` ((N+1,) or (N+1, d)), ``error_estimate`` (shape of ``y``), dense
        output ``sol(t)``, ``status`` (0 success, -1 failure), ``success``, ``message``,
        ``nfev``, ``njev`` and ``stats``.

    Raises
    ------
    ValueError, TypeError
        For invalid arguments (naming the argument), a K or g with the wrong shape, a mesh
        whose steps do not resolve in floating point, or a size that cannot be computed.
    Exception
        Whatever K, g or the Jacobian raise, with a note saying where.
    SolverError
        With ``raise_on_failure=True``, when the solve fails.

    See Also
    --------
    solve_vide, solve_fredholm, integrallimits.volterra.solve_first_kind

    Examples
    --------
    y(t) = 1 - int_0^t (t - s) y(s) ds has the solution cos t:

    >>> import numpy as np
    >>> from integrallimits import solve_volterra
    >>> def K(t, s, y):
    ...     return -(t - s) * y
    >>> sol = solve_volterra(K, lambda t: 1.0, (0.0, 2.0), 64, method="gregory6")
    >>> sol.status, sol.success, bool(abs(sol.y[-1] - np.cos(2.0)) < 1e-9)
    (0, True, True)
    >>> bool(abs(sol(1.0) - np.cos(1.0)) < 1e-9)                 # dense output
    True
    >>> bool(sol.error_estimate[-1] < 1e-9)                       # estimated error of y(2)
    True

    Parameters through ``args`` (compiled once for all values of ``a``):

    >>> def K(t, s, y, a):
    ...     return -a * y
    >>> [round(float(solve_volterra(K, lambda t, a: 1.0, (0.0, 1.0), 32, "gauss3",
    ...                             args=(a,)).y[-1]), 8) for a in (1.0, 2.0)]
    [0.36787944, 0.13533528]
    """
    if not (type(error_estimate) in _FLAG_TYPES and type(fast_history) in _FLAG_TYPES and
            type(raise_on_failure) in _FLAG_TYPES):   # (the usual case at once: ~0.3 us)
        check_flags(error_estimate=error_estimate, fast_history=fast_history,
                    raise_on_failure=raise_on_failure)
    if type(kind) is not int and (isinstance(kind, bool) or
                                  not isinstance(kind, numbers.Integral)):
        # (True and 1.0 equal 1: they were taken for kind=1, 2.0 for kind=2)
        raise TypeError(f"kind must be the integer 2 (second kind) or 1 (first kind), got "
                        f"{kind!r} ({type(kind).__name__})")
    if kind == 1:
        from ._first_kind import solve_first_kind
        options = dict(mesh=mesh, jacobian=jacobian, newton_tol=newton_tol,
                       newton_maxiter=newton_maxiter, fast_history=fast_history,
                       raise_on_failure=raise_on_failure, args=args, t_eval=t_eval,
                       error_estimate=error_estimate, rtol=rtol, atol=atol)
        options = {k: v for k, v in options.items() if v is not None and
                   (k not in _DEFAULTS or v != _DEFAULTS[k])}
        return solve_first_kind(K, g, t_span, n_steps, method, **options)
    if kind != 2:
        raise ValueError(f"kind must be 2 (second kind) or 1 (first kind), got {kind!r}")
    tolerance = check_tolerances(rtol, atol, n_steps, mesh, "solve_volterra")
    if method is None:
        method = "trapezoid" if tolerance is None else tolerance_method(tolerance[0])

    # -- the method
    meth = resolve_method(method, METHODS, VolterraMethod)

    # -- the mesh (a tolerance: a first mesh, to check the problem on)
    # (a uniform mesh is made once the work is known to fit: t is None until then)
    t, t0, T, n_steps = check_mesh(t_span, n_steps if tolerance is None else 8, mesh,
                                   "solve_volterra")
    check_t_eval(t_eval, (t0, T))
    if mesh is not None and meth.uniform_only and not is_uniform(t):
        raise ValueError(f"method {meth.name!r} needs a uniform mesh; use a Volterra "
                         f"Runge-Kutta or collocation method (e.g. 'radau3') on graded meshes")
    if n_steps < meth.min_steps:
        raise ValueError(f"method {meth.name!r} needs n_steps >= {meth.min_steps}, got {n_steps}")
    check_newton_options(newton_tol, newton_maxiter)

    # -- the forcing and the kernel
    g_vec, y0 = as_forcing(g, t0, args)
    if not (math.isfinite(y0) if y0.ndim == 0 else np.isfinite(y0).all()):
        raise ValueError(f"g(t) is not finite at t = {t0} (value {y0.tolist()})")
    tolerance = fit_tolerances(tolerance, y0, "solve_volterra")
    kernel = as_kernel(K, y0, t0, jacobian=jacobian, args=args)

    uniform = t is None or is_uniform(t)
    kind = kernel.structure.get("kind")
    singular_conv = (kind == "weakly-singular" and getattr(meth, "collocation", False)
                     and kernel.structure["smooth"].structure.get("kind") == "convolution")
    can_fast = uniform and meth.fast_convolution and (kind == "convolution" or singular_conv)
    if fast_history is True and not can_fast:
        raise ValueError("fast_history=True needs a convolution kernel (kernels.convolution, or "
                         "weakly_singular(convolution(...)) with collocation), a uniform "
                         f"mesh and a method with a fast history; method {meth.name!r}, kernel "
                         f"{kernel.structure.get('kind')!r}, uniform mesh: {uniform}")
    fast = can_fast and fast_history is not False
    quadratic = not fast and not kernel.structure.get("t_independent")   # O(N^2) history sums
    check_size(n_steps, kernel.dim, getattr(meth, "stages", 1), quadratic, "solve_volterra")
    if t is None:
        t = uniform_mesh(t0, T, n_steps)

    def stats(counts):
        nfev, njev, iterations, solves = counts[:4].tolist()
        return {"nfev": nfev, "njev": njev, "newton_iterations": iterations,
                "newton_solves": solves,
                "jacobian": kernel.jacobian_source if meth.implicit else "not needed",
                "compiled": True, "fast_history": fast}

    if error_estimate is None:
        error_estimate = kind != "network"

    def with_dense(sol):
        """``sol``, a direct rule's solve, with its dense output (:mod:`._dense`): the equation
        at the point, by the rule's weights and a partial step (kept where it has one: the
        check at ``t_eval``'s, whose values ``t_eval`` takes)."""
        if sol._dense is None and sol.mesh.shape[0] > max(1, meth.min_steps):   # (start rows)
            sol.attach(dense=direct_dense_output(meth, kernel, g_vec, sol.mesh, sol._y2,
                                                 tuple(args or ())))
        return sol
    run = _runner(meth, kernel, g_vec, float(newton_tol), int(newton_maxiter), fast,
                  tuple(args or ()))
    estimated = meth
    singular = kind == "weakly-singular"
    if singular:
        # the mesh values' order: m + 1 - alpha on suitably graded meshes, 1 - alpha on uniform
        # ones (the t^(1 - alpha) behaviour at t0); the Richardson estimates need the real one
        alpha = kernel.structure["alpha"]
        graded = tolerance is not None or not is_uniform(t)
        estimated = SimpleNamespace(name=meth.name, uniform_only=False, min_steps=meth.min_steps,
                                    order=min(meth.order, meth.stages + 1 - alpha) if graded
                                    else 1 - alpha, estimate_options=estimate_options(alpha))

    def singular_grading():
        """The grading exponent that keeps the order of a weakly singular kernel (else None)."""
        if not singular:
            return None
        from ._singular import grading_exponent
        alpha = kernel.structure["alpha"]
        return grading_exponent(min(meth.order, meth.stages + 1 - alpha), alpha)

    def singular_rule():
        """The method's points and product-integration weights b^(alpha) (else None)."""
        if not singular:
            return None
        from ._singular import local_weights
        return (meth.tableau.c.tolist(),
                local_weights(meth.tableau, kernel.structure["alpha"])[1].tolist())

    step_defect = None
    if singular:
        from ._tolerance import singular_step_defects

        def step_defect(mesh, Y, claims):
            """The rule's misses of the kernel's integral over the steps (probed; the rule
            made after a solve, which refuses methods without one)."""
            return singular_step_defects(mesh, Y, kernel, singular_rule(), claims)

    if tolerance is not None:
        n_max = 2 ** 15 if quadratic else 2 ** 20
        uniform_run = run
        if meth.family == "direct":
            uniform_run = _newton_to_tolerance(run, float(newton_tol), tolerance)

        def to_tolerance(finer=None, uniform=False):
            """The solve to the tolerance; ``finer``: a first step (adaptive) or a first N
            (uniform) to start from, after a resolution check failed."""
            if meth.family == "vrk" and not singular and not uniform:
                return solve_adaptive(meth, kernel, g_vec, t[0], t[-1], rtol=tolerance[0],
                                      atol=tolerance[1], newton_tol=float(newton_tol),
                                      newton_maxiter=int(newton_maxiter), args=tuple(args or ()),
                                      run=run, stats=stats, h0=finer)
            grading = 1.0
            if singular:
                # graded meshes keep the order (t^(1 - alpha) behaviour at t0); nested as N doubles
                from ._singular import grading_exponent
                grading = grading_exponent(estimated.order, kernel.structure["alpha"])
            return solve_uniform_to_tolerance(uniform_run, t[0], t[-1], method=estimated,
                                              scalar=kernel.scalar, stats=stats,
                                              rtol=tolerance[0], atol=tolerance[1], n_max=n_max,
                                              grading=grading, n_start=finer or 8,
                                              stall=not singular, step_defect=step_defect,
                                              jump=None if singular or meth.family != "direct"
                                              else _jump_at(kernel, g_vec, meth))

        adaptive = meth.family == "vrk" and not singular

        def checked_solve(n_least=None, uniform=False):
            """The solve to the tolerance, on at least ``n_least`` uniform steps if given, with
            the checks that may raise its estimates after the refinement accepted them."""
            solve = to_tolerance if n_least is None else (
                lambda finer=None: to_tolerance(max(finer or 8, n_least), uniform))
            # the estimates compare coarser meshes, which all miss a time scale shorter than
            # the steps alike: the first steps are solved again on a finer mesh (for a weakly
            # singular kernel, divided in the graded coordinate)
            sol = with_resolved_start(
                solve, run, tolerance[0], tolerance[1], uniform_only=meth.uniform_only,
                min_steps=meth.min_steps, adaptive=adaptive and not uniform, n_max=n_max,
                kernel=kernel, grading=singular_grading())
            if sol.success and not singular:
                # (a stiff transient that every mesh compared keeps alike: Gauss, trapezoid)
                sol = with_kept_transient(sol, run, meth, kernel, tolerance=tolerance)
            if sol.success and (singular or meth.family == "direct"):
                sol = _with_rough_tolerance_data(sol, g_vec, kernel, meth, run, tolerance,
                                                 singular, quadratic)
            if sol.success and not singular and quadratic:
                sol = with_lag_defects(sol, kernel, meth.order)     # (K jumping at a lag)
            if sol.success and meth.family == "direct" and not singular:
                # (the dense output against the divided solve of the rough steps raises the
                # estimates of those steps' ends, which the tolerance must still meet)
                sol = with_divided_dense(with_dense(sol))
            return sol

        def tolerance_solve(n_least=None, uniform=False):
            """The solve to the tolerance, on at least ``n_least`` uniform steps if given: where
            the checks raised its estimates above the tolerance, refined on (uniform and graded
            meshes) or a failure (the adaptive steps: :func:`refined_to_tolerance`)."""
            sol = refined_to_tolerance(
                lambda n: checked_solve(n_least if n is None else max(n, n_least or 0), uniform),
                tolerance, estimated.order, n_max,
                "after the checks of the data and of the first steps raised the estimates "
                "that the refinement accepted (see below); use a looser tolerance, or split the "
                "interval where the data are not smooth.", refine=not adaptive or uniform)
            if not sol.success and not meth.implicit and meth.family == "direct":
                sol = unstable_rule(sol, kernel, t[0], t[-1], g_vec(np.array([t[0]]))[0],
                                    meth.name, RECTANGLE_LIMIT, n_max)
            return sol

        sol = tolerance_solve()
        if t_eval is not None and meth.family == "direct" and not singular:
            sol = _meeting_tolerance_at(sol, t_eval, tolerance, with_dense, tolerance_solve,
                                        n_max)
        # (a Richardson or embedded difference at the rounding level is no estimate of it, as on
        # a given mesh: where the solve and its companion lose an increment alike, 0)
        sol = rounded_to_tolerance(sol, tolerance, rate_jacobian_probe(kernel),
                                   refine=lambda n: tolerance_solve(n, uniform=True))
    else:
        sol = solve_on_mesh(run, t, method=estimated, scalar=kernel.scalar, stats=stats,
                            error_estimate=error_estimate, uniform=mesh is None,
                            work=estimated_work(n_steps, meth.stages, kernel.dim, quadratic))
        if error_estimate:
            sol = with_checked_estimate(sol, run, uniform_only=meth.uniform_only,
                                        min_steps=meth.min_steps, kernel=kernel,
                                        grading=singular_grading(), rule=singular_rule())
            if meth.family == "vrk" and not singular and not fast:
                # (not with the fast history: the shifted meshes are not uniform, and their
                # direct O(N^2) histories cost 1.8e8 evaluations, 12 s, at N = 2^14 (gauss2))
                sol = _with_shifted_estimate(sol, run, meth.min_steps)
            if not singular:
                divides = meth.family == "vrk" and not fast
                sol = with_rough_data(sol, g_vec, kernel, meth.order,
                                      companion(run) if divides else None, quadratic=quadratic,
                                      nodes=meth.tableau.c if divides else None,
                                      uniform_run=companion(run) if meth.family == "direct"
                                      and mesh is None else None, aliasing=True,
                                      on_mesh=meth.family == "direct" or (
                                          meth.family == "vrk" and
                                          all(c in (0.0, 1.0) for c in meth.tableau.c)))
                if quadratic:
                    sol = with_lag_defects(sol, kernel, meth.order)     # (K jumping at a lag)
            else:
                sol = with_rough_data(sol, g_vec, kernel.structure["smooth"], meth.order,
                                      companion(run), singular=kernel.structure["alpha"])
            # (a small mesh whose levels converge slower than the order p: the bisected solve)
            sol = with_settled_levels(sol, run, estimated.order)
            # (Richardson differences at the rounding level are no estimate of it)
            sol = with_rounding_floor(sol, rate_jacobian_probe(kernel))
            if not singular:   # (estimates over half the size only as a later point's bound)
                sol = with_measured_between(sol, run, estimated.order, meth.min_steps)
                # (a stiff transient that every mesh compared keeps alike: Gauss, trapezoid)
                sol = with_kept_transient(sol, run, meth, kernel)
            sol = with_confirmed_digits(sol)
    if singular:
        # the dense output is a partial step of product integration (polynomials through the
        # mesh values miss the (t - t0)^(1 - alpha) behaviour); the stages stay private:
        # ``sol.stages`` is for the discrete adjoint, which product integration has not
        if sol.stages is not None and len(sol.mesh) > 1:
            from ._singular import partial_step_dense_output
            sol.attach(dense=partial_step_dense_output(
                kernel, meth.tableau, g_vec, sol.mesh, sol._y2, sol.stages, float(newton_tol),
                int(newton_maxiter), tuple(args or ())))
        sol.stages = None
    elif meth.family == "vrk" and sol.stages is not None and len(sol.mesh) > 1:
        sol.attach(dense=substep_dense_output(meth, kernel, g_vec, sol.mesh, sol._y2, sol.stages,
                                              float(newton_tol), int(newton_maxiter),
                                              tuple(args or ())))
        sol = with_divided_dense(sol)
    elif meth.family == "direct":
        sol = with_divided_dense(with_dense(sol))
    sol.__dict__.pop("_divided_between", None)     # (with_divided_dense's, done with)
    sol.attach(t_eval=t_eval)
    # the user's compiled functions against Python's over the interval solved (once per
    # kernel and interval: the check at compilation compared two points)
    said = _user.check_over_span(kernel, sol.mesh, sol.y_mesh)
    if said:
        sol.message += f"  {said}"
    if raise_on_failure and not sol.success:
        raise SolverError(sol.message)
    return sol


#: A solve to a tolerance on nested meshes whose estimates the data check raised fails
#: where they exceed this many times atol + rtol |y| (an error within 10 times the tolerance
#: is what the trust scans accept of a solve to a tolerance).
ROUGH_TOLERANCE = 10.0
MEET_AT_TRIES = 4     # (checks of a direct rule's dense output at t_eval: _meeting_tolerance_at)
#: the estimate at t_eval (the mesh values' and the partial step's) over the tolerance there
#: that starts a direct rule over on more steps: the mesh's own bar is 1, and the larger of the
#: two neighbours' estimates exceeds it slightly where |y| changes between them (at 4 the
#: accepted values near a zero of y were up to 12.4 times the tolerance off, gregory8 on
#: sin 30t at 1e-9, where the mesh values' estimates were 0.3 times their error; at 2, 4.3)
MEET_AT_RATIO = 2.0


def _with_rough_tolerance_data(sol, g_vec, kernel, meth, run, tolerance, singular, quadratic):
    """``sol``, a solve to the ``tolerance`` (rtol, atol) on nested uniform or graded meshes (a
    weakly singular kernel's, ``singular``, or a direct rule's), with the data check of its
    solves on a given mesh (:func:`._adaptive.with_rough_data`): the meshes of the refinement
    are nested and share their points, and a jump of the data just after one is missed alike
    by all of them (gauss3 on y = 1 + t^(1/2) + H(t - 0.503), K = -(t - s)^(-1/2) y, at rtol
    1e-5: a success on 128 graded steps, whose point 0.50229 every coarser one keeps, with an
    error 121 times the tolerance); a direct rule's Richardson estimate takes its order p where
    a kink of the data makes the errors of order 1 or 2 (gregory6 on y = 1 + |t - 0.5106|,
    K = -y^2, rtol = atol = 1e-4: a success on 12 steps 11.7 times over the tolerance, 15.5
    times its estimate).  Where the estimates so raised exceed ROUGH_TOLERANCE times
    atol + rtol |y|, the solve fails there
    (``stats["failure"]`` "tolerance"), the values before kept; below, it stays a success
    with the raised estimates, and its message says so (failing from atol + rtol |y| on lost
    9 of the 16 answers of a scan of jumps and kinks of g and k within 10 times the
    tolerance, radau3 at rtol 1e-3 with an error 0.83 times it); where they exceed the
    tolerance, the caller refines on (:func:`._tolerance.refined_to_tolerance`).  Cost on
    smooth data: (p + 1) N + 1 values of g and of k (twice where k names t; none of K for a
    direct rule where K names neither t nor s and is visibly smooth in y:
    :func:`_forcing_checked`), and more on the long first steps of the graded mesh."""
    before = sol.message          # (the check adds its sentences to it, in place)
    if singular:
        checked = with_rough_data(sol, g_vec, kernel.structure["smooth"], meth.order,
                                  companion(run), singular=kernel.structure["alpha"])
    else:
        checked = _forcing_checked(sol, g_vec, kernel, meth.order, quadratic, companion(run))
        if checked is None:
            checked = with_rough_data(sol, g_vec, kernel, meth.order, quadratic=quadratic,
                                      uniform_run=companion(run))
    if not checked.success:
        return checked
    rtol, atol = tolerance
    est, Y = checked._est2, checked._y2
    over = np.max(over_tolerance(est, tolerance_of(Y, rtol, atol)), axis=1)
    if not np.any(over > ROUGH_TOLERANCE):
        return checked
    j = max(1, int(np.argmax(over > ROUGH_TOLERANCE)))
    info = dict(checked.stats, failure="tolerance", max_error_estimate=largest_estimate(est[:j]))
    message = (f"The tolerance could not be met: from t = {float(checked.mesh[j]):.6g} on the "
               f"error estimates are up to {float(np.max(over)):.3g} times atol + rtol |y|."
               f"{checked.message[len(before):]}  Only the values before "
               f"t = {float(checked.mesh[j]):.6g} are kept: split the interval at the point "
               f"where the data are not smooth, or use a looser tolerance.")
    return Solution(checked.mesh[:j], Y[:j], scalar=checked.scalar, status=FAILED,
                    message=message, stats=info, method=checked.method, order=checked.order,
                    t_failure=float(checked.mesh[j]), error_estimate=est[:j])


def _forcing_checked(sol, g_vec, kernel, p, quadratic, uniform_run):
    """``sol`` with the data check of :func:`._adaptive.with_rough_data` (a direct rule's solve
    to a tolerance: no aliasing probes) where K names neither t nor s and is visibly smooth in
    y (:func:`._adaptive._smooth_in_y`: K = y^2, -y^2), with the sweeps of g alone, or None
    (the caller checks as before).  K's one sweep there, along the diagonal at y on the chord
    from Y_n to Y_(n+1), is of a smooth function of a straight path: no jump or kink of K in
    t, in s or in y lies on it, and its differences are the smooth level the sweeps of
    :func:`._adaptive.kernel_differences` skip for such a K (K = y^2 on a chord: a quadratic,
    differences of order p + 1 >= 3 at the rounding).  Its (p + 1) N + 1 kernel evaluations
    took tan (y = t + int y^2) with gregory8 at rtol = atol = 1e-3 to 4.07 times the best
    uniform mesh's work (9792 evaluations for 2409), over the goal of 4.  g's ratios are
    :func:`._adaptive.data_roughness`'s without K's sweeps (``diagonal=False``); where g
    raises there, None (the check as before says so)."""
    from . import _adaptive as adaptive
    p = math.ceil(p)
    if not (sol.success and len(sol.mesh) > 1 and
            (quadratic or getattr(sol, "_small_mesh", False))):
        return None
    if adaptive._names(kernel, 0) or adaptive._names(kernel, 1) or \
            adaptive._names(kernel, 2) and not adaptive._smooth_in_y(kernel):
        return None
    est = sol._est2
    if not np.all(np.isfinite(est)):
        return None
    nested = getattr(sol, "_nested_estimate", None)
    against = est if nested is None or nested.shape != est.shape else nested
    try:   # (g's sweep alone: no kernel evaluation)
        ratio, calls = adaptive.data_roughness(g_vec, kernel, sol.mesh, sol._y2, against, p,
                                               t_free=True, diagonal=False)
    except Exception as exc:   # (the user's g: the check as before says so)
        if not _user.raised_by_user(exc):
            raise
        return None
    sol = adaptive._with_rough_data(sol, g_vec, kernel, p, None, False, quadratic, None,
                                    uniform_run, start=False, checked=(ratio, calls))
    uncovered = getattr(sol, "_uncovered", None) if sol.success else None
    return sol if uncovered is None else adaptive._uncovered_steps(sol, *uncovered)


def _meeting_tolerance_at(sol, t_eval, tolerance, with_dense, resolve, n_max):
    """``sol``, a direct rule's solve to the ``tolerance`` (rtol, atol), refined until its
    dense output also meets the tolerance at the ``t_eval`` points between mesh points.

    The refinement meets it at the mesh values; between them the dense output is the equation
    at the point (:func:`._dense.direct_dense_output`): the rule's row over the whole steps,
    whose error is that of the mesh values, and a partial step by an interpolatory rule on
    p + 1 points, whose error, O(h^(p+2)), its difference to the rule on p + 2 points estimates
    (``dense.error``).  The check takes the estimate that ``t_eval``'s ``error_estimate``
    reports, the larger of the two enclosing mesh points' plus the partial step's, against
    atol + rtol |y| at the point itself.  Near a zero of y that tolerance is far below the mesh
    points' around it while the mesh values' error, carried by the row over the whole steps,
    is not: the partial step's estimate alone (0.02 times the tolerance) let gregory8 on
    y = sin 20t, K = 1e-3 y, rtol 1e-9, atol 1e-12 succeed on 66 steps whose value at
    t = 0.157 was 16.4 times the tolerance off (the mesh values' estimate there 5.9 times it;
    gregory6 on sin 10t at 1e-7: 37.7 times, gregory8 on cos 20t at 1e-7: 37.4).  Where it
    exceeds MEET_AT_RATIO times the tolerance at a point of ``t_eval``, the solve starts over
    on the steps its ratio asks for (:func:`._tolerance._predict`), at the mesh values' order
    p where their part is the larger and at the partial step's p + 2 where not; past
    ``n_max`` steps, or after MEET_AT_TRIES attempts, it is a failure saying so, which keeps
    the mesh values (they meet the tolerance).  The work of every attempt is counted in
    ``nfev``; ``stats["t_eval_checks"]`` lists the (steps, estimate at ``t_eval`` / tolerance)
    of each check.

    Parameters
    ----------
    sol : Solution
        The solve to the tolerance (its mesh uniform).
    t_eval : array_like
        The times asked for.
    tolerance : (rtol, atol)
        Floats or arrays (d,).
    with_dense : callable
        ``with_dense(sol)``: the solve with its dense output (:mod:`._dense`).
    resolve : callable
        ``resolve(n)``: the solve to the tolerance on at least n uniform steps.
    n_max : int
        The most steps allowed.

    Returns
    -------
    Solution
    """
    from ._tolerance import _predict

    rtol, atol = tolerance
    points = np.asarray(t_eval, dtype=float).reshape(-1)
    checks, nfev = [], 0
    for _ in range(MEET_AT_TRIES):
        mesh = sol.mesh
        inside = points[(points > mesh[0]) & (points < mesh[-1])] if sol.success else points[:0]
        if not inside.size or mesh.shape[0] < 3:
            break
        sol = with_dense(sol)
        P = inside.shape[0]
        partial = np.asarray(sol._dense.error(inside), dtype=float).reshape(P, -1)
        _count_error_evaluations(sol.stats, sol._dense.error)
        # the estimate that t_eval reports: the mesh values' (the larger of the enclosing
        # points') plus the partial step's, against the tolerance at the point itself
        carried = _interpolate_estimate(mesh, sol._est2, inside, False)
        values = np.asarray(sol(inside)).reshape(P, -1)
        over = over_tolerance(carried + partial, tolerance_of(values, rtol, atol))
        ratio = float(np.max(over))
        n = mesh.shape[0] - 1
        checks.append((n, ratio))
        if not ratio > MEET_AT_RATIO:
            break
        out_of_reach = unreachable(values, np.where(over > MEET_AT_RATIO, carried + partial, 0.0),
                                   rtol, atol)
        if out_of_reach is not None:
            # (a relative tolerance at a point within its estimated error of a zero of y: no
            # mesh meets it, and the refinement went on to the most steps allowed, gregory4 on
            # sin 20t at rtol 1e-9, atol 0, t_eval pi / 20: 3 solves up to 32768 steps)
            sol.status = FAILED
            sol.stats["failure"] = "tolerance"
            sol.message = (f"The tolerance is met at the {n + 1} mesh points but not between "
                           f"them at t_eval: " + unreachable_message(
                               inside, values, carried + partial, out_of_reach, rtol, atol))
            break
        # the mesh values' error falls with the order p, the partial step's with p + 2: each
        # point asks for the steps of the part that dominates it
        p = int(np.ceil(sol.order))
        worst = np.max(over, axis=1)
        mesh_led = np.max(carried - partial, axis=1) >= 0.0
        n_new = max(_predict(n, float(np.max(worst[led])), order, n_max)
                    for led, order in ((mesh_led, p), (~mesh_led, p + 2)) if led.any())
        if n_new <= n or len(checks) == MEET_AT_TRIES:
            where = float(inside[int(np.argmax(np.max(over, axis=1)))])
            why = (f"more than {n_max} steps would be needed" if n_new <= n
                   else f"{len(checks)} refinements did not reach it")
            sol.status = FAILED
            sol.stats["failure"] = "tolerance"
            sol.message = (f"The tolerance is met at the {n + 1} mesh points but not between "
                           f"them at t_eval: at t = {where:.6g} the estimated error is "
                           f"{ratio:.3g} times atol + rtol |y|, and {why}; use a "
                           f"Runge-Kutta or collocation method, or a looser tolerance.")
            break
        nfev += sol.stats.get("nfev", 0)
        sol = resolve(n_new)
    if checks:
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + nfev
        sol.stats["t_eval_checks"] = checks
    return sol


def _with_shifted_estimate(sol, run, min_steps):
    """``sol``, a Runge-Kutta or collocation solve on a given mesh, with its estimates raised to
    those of the shifted companions (:func:`._estimate.shifted_estimate`: solves on every third
    point, which see a non-smooth point of the data just after a point that the half-steps
    companion and every mesh nested in it share; their work counted in ``nfev``).  After the
    check of the first steps (:func:`with_checked_estimate`), whose factor compares the
    half-steps estimate with a finer solve (raised first, the estimates it multiplies were the
    larger and the factor the smaller: rk4 on y = 1 + int cos(200 (t-s)) y ds on 4 steps
    ended a success with an estimate of 0.8 at y(1) = 2.42, exact 0.993)."""
    est = sol._est2
    order = sol.stats.get("estimate_order", math.nan)
    if len(sol.mesh) < 4 or not math.isfinite(order) or not (
            all(map(math.isfinite, est.reshape(-1).tolist())) if est.size <= 64 else
            np.all(np.isfinite(est))):   # (a few values as floats: NumPy's calls cost ~3 us)
        return sol

    raised, q, ratio, nfev = shifted_estimate(companion(run), sol.mesh, sol._y2, est, order,
                                              min_steps)
    sol.stats["nfev"] += nfev
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + nfev
    if ratio is None:
        return sol
    sol._shifted_ratio = ratio                   # (see _outcome.with_measured_between)
    est[...] = raised                            # (in place: also error_estimate_mesh)
    sol.stats["estimate_order"] = q
    sol.stats["max_error_estimate"] = largest_estimate(est)
    if q != order:
        sol.message += (f"  The error estimates were raised to the differences with solves on "
                        f"every third mesh point, {ratio:.3g} times the estimate of the mesh of "
                        f"every other point: the data (g or K) are not smooth somewhere, where "
                        f"the nested meshes miss the same part of a step's integral.")
    return sol


def _newton_to_tolerance(run, newton_tol, tolerance):
    """``run`` whose Newton iterations stop at ``_adaptive.NEWTON_SHARE`` of the smaller of
    rtol and atol (``tolerance``) where that is looser than ``newton_tol``, as the adaptive
    driver's solves do (:func:`._adaptive._trial_newton_tol`): the solves of a direct rule's
    uniform refinement to a tolerance (the attempts, their companions and third levels).
    Newton's error is then far below the tolerance, and the iterations beyond cost kernel
    evaluations without changing a digit the estimates can see (gregory8 on exp-square at
    rtol = atol = 1e-3: its solves on 16, 8 and 12 steps took 41, 9 and 25 iterations, 1831
    kernel evaluations, and 31, 7 and 19, 1492, at 1e-6).  A ``newton_tol`` given to a
    call overrides it (the checks that solve with the caller's)."""
    share = _trial_newton_tol(newton_tol, *tolerance)
    if share == newton_tol:
        return run

    def relaxed(t, newton_tol=share, **options):
        return run(t, newton_tol=newton_tol, **options)
    return relaxed


#: :func:`_jump_at`: smooth data change over this fraction of |x| before x (a jump, not a
#: slope, changes them more over the one float before x).
JUMP_SLOPE = 2.0 ** -20


def _jump_at(kernel, g_vec, meth):
    """``jump(x, y) -> (found, evaluations)``, the locate hook of a direct rule's refinement to
    a tolerance (``jump`` of :func:`._tolerance.solve_uniform_to_tolerance`): where the data
    jump between the float before ``x`` and ``x``, y the value just before, ``found`` is (dI,
    J, after, w): dI (d,) the jump of the history's integrand K(x, s, y(s)) at s = x (K at
    (x, x, after) less K at (x, x^-, y), where ``after`` = y plus g's jump), J the Jacobian
    dK/dy(x, x, after) (forward differences) and w the rule's weight of the step's end point
    (1 + its last end correction: 1/2 for the trapezoid rule, 3/8 for gregory4, 0 for the
    explicit rectangle rule); None where g or K fails there (the user's error: the steps'
    checks report it) or where neither changes over the float before x by more than 4 times
    their change over the JUMP_SLOPE |x| before that (smooth data: a slope, not a jump).
    d + 5 kernel evaluations and three values of g.  ``jump.locate(lo, hi,
    y, tol)``: where the data jump on [lo, hi] (for the failure's message).  ``jump.after``:
    (m, c), the points after x within m steps, those whose rule weights x with an end
    correction of its own or of its companion on every other point, and the most by which
    their error exceeds the one at x, as a multiple of it: the rule integrates the jump
    over the j steps after x with h (w_0 + ... + w_j) for the length j h, w_i = 1 + its
    i-th end correction, off by c_j h = |w_0 + ... + w_j - j| h times the jump (c_0 = w;
    1/2 inside the interval for the trapezoid rule and Gregory's; gregory4's c_1 = 13/24)
    and c = max c_j / w."""
    from ._tolerance import _differences_at, _evaluator, _forward_jacobian
    right = [float(r) for r in meth.rule.right]
    w = 1.0 + right[0] if right else 1.0
    carried = [abs(1.0 + sum(right[:j + 1])) for j in range(len(right) + 1)]

    smooth = set()      # (the points found smooth: once a solve, a few evaluations)

    def jump(x, y):
        if x in smooth:
            return None, 0
        before = float(np.nextafter(x, -np.inf))
        left = x - JUMP_SLOPE * (abs(x) if x != 0.0 else 1.0)
        y = np.asarray(y, dtype=float).ravel()
        _user.clear_failures()
        try:
            G = np.asarray(g_vec(np.array([left, before, x]), keep=False),
                           dtype=float).reshape(3, -1)
            after = y + (G[2] - G[1])
            K = _evaluator(kernel, [y.tolist(), after.tolist()])
            k_left, k_before, k_at = (np.array(K(x, s, 0)) for s in (left, before, x))
            dI = np.array(K(x, x, 1)) - k_before
        except Exception as exc:  # noqa: BLE001 (the user's error: left to the steps' checks)
            if not _user.raised_by_user(exc):
                raise
            _user.take_failure()
            return None, 4
        if _user.take_failure() is not None or not np.all(np.isfinite(dI)):
            return None, 4
        # (a jump, not a slope: g or K changes more over the one float than over the
        # JUMP_SLOPE |x| before it)
        if not (np.any(np.abs(G[2] - G[1]) > 4.0 * np.abs(G[1] - G[0])) or
                np.any(np.abs(k_at - k_before) > 4.0 * np.abs(k_before - k_left))):
            smooth.add(x)
            return None, 4
        found, calls = _differences_at(kernel, x, after)
        if found is None:
            return None, 4 + calls
        J = np.array(_forward_jacobian(found[0], found[1]), dtype=float)
        return ((dI, J, after, w) if np.all(np.isfinite(J)) else None), 4 + calls

    def locate(lo, hi, y, tol):
        """(x, evaluations): the last float x of [``lo``, ``hi``) before a jump of the data
        on it (:func:`._adaptive._located_jump`: g, and K along the diagonal at ``y`` times
        1 / rho, rho its fastest decay there, :func:`._tolerance.decay_rate`, or 1 where it has
        none, against ``tol`` (d,)), None where there is none (a steep front)."""
        from ._adaptive import _located_jump
        from ._tolerance import decay_rate
        y = np.asarray(y, dtype=float).ravel()
        rho, calls = decay_rate(kernel, hi, y)
        scale = 1.0 / rho if math.isfinite(rho) and rho > 0.0 else 1.0
        x, more = _located_jump(g_vec, _evaluator(kernel, [y.tolist(), y.tolist()]), scale,
                                lo, hi, np.asarray(tol, dtype=float).ravel())
        return x, calls + more
    jump.locate = locate
    jump.after = (2 * (len(right) + 1), max(carried) / w if w > 0.0 else 1.0)
    return jump


def _runner(meth, kernel, g_vec, tol, maxiter, fast, args):
    """``run(mesh, newton_maxiter=maxiter) -> Run``: the method on any mesh (the solution and
    its companions; exploratory solves of the adaptive driver cap the Newton iterations and,
    with ``exploring``, stop Newton when an update grows: ``_loops.EXPLORING``)."""
    quadratic = not fast and not kernel.structure.get("t_independent")
    samples = {}   # what the solves of this problem can share (VolterraMethod.solve)

    def run(t, newton_maxiter=maxiter, newton_tol=tol, exploring=False):
        use_fast = fast and is_uniform(t)
        work = estimated_work(len(t) - 1, meth.stages, kernel.dim, quadratic)
        more = {"exploring": True} if exploring else {}     # (direct rules take no such option)
        if newton_tol > tol and isinstance(meth, VolterraRungeKutta):
            more["shared"] = True       # (a share of a solve's tolerance: _loops.SHARED)
        if work < THREAD_WORK:
            # (run_guarded's inline path, without its closure and calls: a solve's companions
            # and checks run a few of these on small meshes)
            _user.clear_failures()
            try:
                Y, status, index, counts, stages = meth.solve(
                    kernel, g_vec, t, newton_tol, newton_maxiter, fast_history=use_fast,
                    samples=samples, **more)
            except BaseException:
                _user.take_failure()
                raise
            record = _user.take_failure()
            _user.raise_recorded_failure(record, args)
        else:
            (Y, status, index, counts, stages), record = run_guarded(
                lambda: meth.solve(kernel, g_vec, t, newton_tol, newton_maxiter,
                                   fast_history=use_fast, samples=samples, **more), args, work)
        return Run(Y, status, index, len(t) if status == _loops.SUCCESS else index, counts, stages,
                   record)
    return run
