"""Solving to a tolerance: the mesh is chosen so that the estimated error meets atol + rtol |y|.

Uniform refinement with Richardson estimates (:func:`solve_uniform_to_tolerance`) serves every
method: the solution on N steps and its companion on N/2 give the error estimate of
:mod:`._estimate` at every mesh point; while it exceeds the tolerance somewhere, N is
predicted from the observed error and the order, ``N_new = N (max_n est_n / tol_n)^(1/p)``
times a safety factor, and the pair is solved again.  Each step of the refinement costs the
pair (1.25 solves of the O(N^2) methods); the last step is the answer, so the work is about
1.25 N^2 for an N within the safety factor of the smallest uniform N that meets the
tolerance, plus the cheaper earlier steps.

Volterra Runge-Kutta and collocation methods refine locally instead
(:mod:`._adaptive`): a uniform mesh spends as many steps where the solution is smooth as
where it is not.
"""
from __future__ import annotations

import math
import time
import warnings

import numpy as np

from ..kernels import _user
from ._estimate import UNRESOLVED, estimate_error
from ._outcome import FAILED, SUCCEEDED, companion_drops_odd_end, describe, unresolved_message
from ._solution import Solution, largest_estimate

__all__ = ["check_tolerances", "first_steps_check", "fit_tolerances", "short_time_scale",
           "solve_uniform_to_tolerance", "tolerance_of", "unresolved_start", "with_checked_estimate",
           "with_resolved_start"]

#: The smallest relative tolerance accepted (below it rounding errors dominate every method).
MIN_RTOL = 1e-14
SAFETY = 1.15
#: The resolution check of a solve to a tolerance (:func:`first_steps_check`): its first
#: FIRST_STEPS steps solved again with REFINE times shorter steps must agree with the answer
#: within AGREE times atol + rtol |y|.
FIRST_STEPS, REFINE, AGREE = 2, 16, 4.0
#: The probes that decide whether that check runs (:func:`short_time_scale`): the first step
#: spans more than STIFF e-folds of the linearised problem, or the trapezoid sums of the
#: kernel over it with 1, 2, ..., PANELS panels are not converging at the rule's rate (or
#: one panel is off four by more than GROSS times their size).
STIFF, PANELS, GROSS = 2.0, 16, 0.25
#: A solve on a given mesh (:func:`with_checked_estimate`): its error estimate, taken as at
#: least ESTIMATE_FLOOR times the solution's size, is compared with the finer solve.
ESTIMATE_FLOOR = 2.0 ** -42


def _tolerance_value(name, v):
    """A tolerance as given: a float >= 0 or a 1-d array of them (one per component)."""
    arr = None if isinstance(v, (bool, np.bool_)) else np.asarray(v)
    if arr is None or arr.dtype.kind not in "iuf" or arr.ndim > 1 or arr.size == 0 \
            or not np.all(np.isfinite(arr) & (arr >= 0)):
        raise ValueError(f"{name} must be a finite float >= 0 or a 1-d array of them (one per "
                         f"component of y), got {v!r}")
    if arr.ndim == 0:
        return float(arr)
    arr = arr.astype(float)            # a copy: later changes to the caller's array are theirs
    arr.flags.writeable = False
    return arr


def check_tolerances(rtol, atol, n_steps=None, mesh=None, caller="solve_volterra"):
    """Validated (rtol, atol) or None (no tolerance given).  A tolerance with ``n_steps`` or
    ``mesh`` is an error: the tolerance chooses the mesh.  Each is a float or, as in
    :func:`scipy.integrate.solve_ivp`, an array with one value per component of y (checked
    against y by :func:`fit_tolerances`)."""
    if rtol is None and atol is None:
        return None
    if n_steps is not None or mesh is not None:
        raise ValueError(f"{caller}: give either a tolerance (rtol/atol: the solver chooses the mesh) "
                         f"or n_steps/mesh (a fixed mesh, with an error estimate), not both")
    rtol = _tolerance_value("rtol", 1e-6 if rtol is None else rtol)
    atol = _tolerance_value("atol", 1e-9 if atol is None else atol)
    if np.ndim(rtol) and np.ndim(atol) and np.shape(rtol) != np.shape(atol):
        raise ValueError(f"rtol and atol have different lengths ({len(rtol)} and {len(atol)}): "
                         f"give one value per component of y in both, or a float")
    if np.any((np.asarray(rtol) < MIN_RTOL) & (np.asarray(atol) == 0)):
        raise ValueError(f"rtol = {rtol} is below {MIN_RTOL} with atol = 0: no method reaches that "
                         f"in floating point; give atol > 0 or a larger rtol")
    if np.any(np.asarray(rtol) < MIN_RTOL):   # as solve_ivp: below it no estimate can tell its
        # digits from rounding
        warnings.warn(f"rtol = {rtol} is below {MIN_RTOL}, where rounding errors dominate every "
                      f"method; using rtol = {MIN_RTOL}", UserWarning, stacklevel=3)
        rtol = max(rtol, MIN_RTOL) if np.ndim(rtol) == 0 else np.maximum(rtol, MIN_RTOL)
    return rtol, atol


def fit_tolerances(tolerance, y0, caller="solve_volterra"):
    """``tolerance`` checked against the shape of y (y0: a float or shape (d,)): a tolerance
    array needs one value per component."""
    if tolerance is not None:
        for name, v in zip(("rtol", "atol"), tolerance):
            if np.ndim(v) and np.shape(v) != np.shape(y0):
                raise ValueError(f"{caller}: {name} has {len(v)} values, y has "
                                 f"{'one component' if np.ndim(y0) == 0 else f'{len(y0)} components'}"
                                 f": give one value per component, or a float")
    return tolerance


def tolerance_of(Y, rtol, atol):
    """atol + rtol |y| per mesh point and component."""
    return atol + rtol * np.abs(Y)


def _predict(n, ratio, order, n_max):
    """The next N (even, so that its companion has N/2 steps) for an observed max est/tol."""
    factor = SAFETY * max(ratio, 1.0) ** (1.0 / order)
    factor = min(max(factor, 1.25), 16.0)
    new = int(math.ceil(n * factor / 2.0)) * 2
    return min(max(new, n + 2), n_max)


def _estimate_order(previous, n, ratio, comp, p):
    """The order at which the estimate fell from the previous refinement ``previous`` = (N,
    ratio, rate) to this one, within [the estimate's order, p], or None.

    Only when both estimates used an observed rate below 2^p / RATE_FACTOR (their order
    q < p): sizing the next N with p then assumes the asymptotic regime that the observed rate
    says the solve is not in (gregory8 on y = tan t at 1e-6 climbed 116, 158, 198, 248 steps,
    each 25-36% more, as the estimate fell like N^-6.4 while p = 8), and sizing with q assumes
    none of the acceleration towards it."""
    if previous is None or previous[2] is None or comp.rate is None or not np.isfinite(ratio) \
            or not comp.order < p or not n > previous[0] or not 0.0 < ratio < previous[1]:
        return None
    order = math.log(previous[1] / ratio) / math.log(n / previous[0])
    return min(float(p), max(comp.order, order))


def solve_uniform_to_tolerance(run, t0, T, *, method, scalar, stats, rtol, atol, n_start=8,
                               n_max=2 ** 16, t_eval=None, grading=1.0):
    """Refine a uniform mesh until the Richardson estimate meets atol + rtol |y| everywhere.

    ``run(mesh) -> Run`` solves on a mesh (see :mod:`._outcome`); ``method`` provides ``name``,
    ``order``, ``uniform_only`` and ``min_steps``.  Returns a :class:`Solution` whose
    ``error_estimate`` meets the tolerance, or a failed one saying what stood in the way
    (the values of the last attempt that are confirmed are kept, with their estimates).  When
    the estimate grows over two refinements in a row, rounding errors dominate it (the first
    kind amplifies them like 1/h): refining further only costs more and loses digits, so the
    refinement stops there with the attempt of the smallest estimate, as a failure.
    With ``grading`` r > 1 the meshes are graded, t_k = t0 + (T - t0) (k/N)^r (weakly singular
    kernels): they are nested too, so the companion of N steps is the graded mesh of N/2.
    """
    start = time.perf_counter()
    p = method.order
    n = max(n_start, 2 * method.min_steps)
    n += n % 2
    total, history, best, last = 0, [], None, None

    def companion(mesh):
        r = run(mesh)
        return r.Y, r.status, r.keep, int(r.counts[0])

    while True:
        t = t0 + (T - t0) * (np.arange(n + 1) / n) ** grading
        t[-1] = T
        first = run(t)
        total += int(first.counts[0])
        comp, ratio = None, np.inf
        if first.status == 0:
            comp = estimate_error(companion, t, first.Y, p, companion_drops_odd_end(method),
                                  method.min_steps)
            total += comp.nfev
            if comp.first_bad is None:
                ratio = float(np.max(comp.estimate / tolerance_of(first.Y, rtol, atol)))
        history.append((n, ratio))
        if best is None or ratio < best[0]:
            best = (ratio, n, t, first, comp)
        stalled = len(history) >= 3 and history[-3][1] <= history[-2][1] <= history[-1][1] < np.inf
        if ratio <= 1.0 or n >= n_max or stalled:
            break
        # a failed or unresolved solve: four times the steps; else the predicted N
        # (sized with the method's order; the estimate with an observed lower one decides),
        # or with the order at which the estimate itself fell since the last refinement
        measured = _estimate_order(last, n, ratio, comp, p)
        last = (n, ratio, comp.rate) if np.isfinite(ratio) else None
        if measured is not None:
            n = _predict(n, ratio, measured, n_max)
        else:
            n = _predict(n, ratio * comp.sizing, p, n_max) if np.isfinite(ratio) else \
                min(4 * n, n_max)

    if stalled:       # the attempt with the smallest estimate is the answer (a failed one)
        ratio, n, t, first, comp = best
    info = stats(first.counts)
    info.update(comp.stats() if comp is not None else
                {"error_estimate": "none", "error_estimate_nfev": 0, "estimate_order": float("nan")},
                nfev=total, refinements=history, rtol=rtol, atol=atol, failure=None)
    estimate = comp.estimate if comp is not None else np.full_like(first.Y, np.nan)
    keep, t_fail = len(t), None
    if ratio <= 1.0:
        message = (f"The solver reached the end of the interval; the estimated error meets "
                   f"atol + rtol |y| at every mesh point (N = {n}).")
    elif first.status != 0:
        t_fail = float(t[first.index])
        message, info["failure"] = describe(first.status, t_fail, info.get("newton_iterations", 0),
                                            first.record)
        keep = first.keep
    elif comp.first_bad is not None:
        t_fail = float(t[comp.first_bad])
        message, info["failure"] = unresolved_message(comp, t), comp.reason
        keep = comp.keep
    elif stalled:
        t_fail = float(T)
        message = (f"the estimated error stopped decreasing as the mesh was refined (N = "
                   f"{', '.join(str(k) for k, _ in history[-3:])}: {history[-3][1]:.3g}, "
                   f"{history[-2][1]:.3g}, {history[-1][1]:.3g} times atol + rtol |y|); the values "
                   f"are those of N = {n}, {ratio:.3g} times it.  Rounding errors dominate there "
                   f"(a first-kind equation amplifies them like 1/h): use a looser tolerance.")
        info["failure"] = "stalled"
    else:
        t_fail = float(T)
        message = (f"the estimated error is {ratio:.3g} times atol + rtol |y| at N = {n}, the most "
                   f"steps allowed; use a higher-order method or a looser tolerance.")
        info["failure"] = "tolerance"
    if t_fail is not None:
        message = f"The tolerance could not be met: {message}"
    info["max_error_estimate"] = largest_estimate(estimate[:keep])
    info["seconds"] = time.perf_counter() - start
    return Solution(t[:keep], first.Y[:keep], scalar=scalar,
                    status=SUCCEEDED if t_fail is None else FAILED, message=message, stats=info,
                    method=method.name, order=p, t_failure=t_fail,
                    stages=first.stages if t_fail is None else None,
                    error_estimate=estimate[:keep], t_eval=t_eval)


def _finer_start(run, sol, uniform_only, min_steps):
    """(Yf, m): the first k = FIRST_STEPS steps of ``sol`` solved again with m >= REFINE times
    shorter steps (``run(mesh)``, its work counted in ``sol.stats["nfev"]``), Yf (k, d) its
    values at the mesh points 1, ..., k of ``sol``; None when that solve cannot be made (steps
    too short to divide) or did not finish."""
    t = sol.mesh
    k = min(FIRST_STEPS, len(t) - 1)
    m = max(REFINE, -(-min_steps // k))
    if uniform_only:      # (a direct rule's mesh is uniform: the refined one is uniform too)
        fine = t[0] + (t[k] - t[0]) * (np.arange(k * m + 1) / (k * m))
    else:
        fine = np.concatenate([np.linspace(t[i], t[i + 1], m + 1)[:-1] for i in range(k)])
        fine = np.append(fine, t[k])
    fine[-1] = t[k]
    if not np.all(np.diff(fine) > 0):
        return None       # steps too short to divide in floating point: nothing to see
    r = run(fine)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + int(r.counts[0])   # (its work is counted)
    if r.status != 0:
        return None       # the finer solve did not finish: it cannot contradict the answer
    return r.Y[m::m][:k], m


def first_steps_check(run, sol, rtol, atol, uniform_only=False, min_steps=1):
    """None if the first steps of a solve to a tolerance are confirmed, else (ratio, j, h):
    the first mesh point j > 0 where they are not, the largest difference over atol + rtol |y|
    and a step that resolves them.

    The error estimates compare the answer with solves on *coarser* meshes (every other and
    every fourth point).  When the steps are long against a time scale of the problem (a kernel
    that decays within a step, a stiff transient), all of these miss it alike, agree, and the
    estimate is small however large the error: y = 1 + int (t-s) e^(-(t-s)) y ds on [0, 100]
    was accepted on 8 trapezoid steps with y(100) = 1.0006 (exact 50.75) and an estimate of
    2e-4.  A solve of the first FIRST_STEPS steps with REFINE times shorter steps sees the
    time scale; it costs O(FIRST_STEPS * REFINE) steps, nothing beside the solve.  (Only the
    start is checked: a time scale that appears later is not seen.)
    """
    if not sol.success or len(sol.mesh) < 2:
        return None
    finer = _finer_start(run, sol, uniform_only, min_steps)
    if finer is None:
        return None
    Yf, m = finer
    Yc = sol._y2[1:len(Yf) + 1]
    ratio = np.max(np.abs(Yc - Yf) / tolerance_of(Yf, rtol, atol), axis=1)
    if not np.all(ratio <= AGREE):        # (a NaN is not agreement)
        j = 1 + int(np.argmax(~(ratio <= AGREE)))
        return float(np.max(ratio)), j, float(sol.mesh[1] - sol.mesh[0]) / m
    return None


def _evaluator(kernel):
    """``K(t, s, y, out)``: the compiled kernel of the solve written into ``out``, called
    directly (~1 us; ``Kernel.__call__`` checks the values the kernel reads first).  A failure
    is recorded, not raised: the caller reads :func:`_user.take_failure`."""
    fn, params = kernel.function, kernel.params
    Y = np.empty((1, kernel.dim))

    def K(t, s, y, out):
        Y[0] = y
        fn(t, s, Y, 0, params, out)
        return out
    return K


def _panel_weights():
    """(log2(PANELS) + 1, PANELS + 1): row i, the composite trapezoid rule with 2^i panels on
    the PANELS + 1 equispaced points of [0, 1]."""
    W = np.zeros((PANELS.bit_length(), PANELS + 1))
    for i in range(W.shape[0]):
        stride = PANELS >> i
        W[i, ::stride] = stride / PANELS
        W[i, [0, -1]] *= 0.5
    return W


_PANEL_WEIGHTS = _panel_weights()


def short_time_scale(sol, rtol, atol, kernel=None, rate=None):
    """Whether the first step of ``sol`` (a solve to a tolerance) may be long against a time
    scale of the problem, so that :func:`first_steps_check` must look.  That check solves 32
    short steps: on the smooth problems of the error-control study it cost 2-300 times the
    whole solve at loose tolerances, so it runs only when one of two probes of d + 6
    evaluations (d + 18 where the kernel's rate is off) says so:

    * stiffness: h ||J||_inf > STIFF, with J = d rate / dy at (t0, y0) by forward differences
      (``rate(t, y)``: a VIDE's f(t, y, 0); by default the kernel's diagonal K(t, t, y)): the
      first step spans more than
      STIFF e-folds of the linearised problem (y = 1 - 1000 int y on steps of 0.25: 250; the
      smooth problems of the study: 0.5 at most);
    * the kernel's variation within the step: the trapezoid sums T_k of int_{t0}^{t1}
      K(t1, s, y0) ds with k = 1, 2, 4, ..., PANELS panels (nested: 5 evaluations for T_1,
      T_2, T_4, the other PANELS - 4 only where these fail the rate) are not in their
      asymptotic regime, |T_1 - T_2| < 2 |T_2 - T_4| (a smooth kernel gives
      4), while |T_1 - T_PANELS| exceeds atol + rtol max(|y0|, |y1|): the kernel varies on a
      scale that the step does not resolve (the renewal kernel (t-s) e^(-(t-s)) on a step of
      12.5: T = 0, 0.075, 0.48, ...).  (y0, not the solution: the solution of such a step is
      what is in doubt; the rate test, not the size, tells an unresolved kernel from the
      smooth one of a high-order method on long steps.)  Also where the rate is met but T_1
      is off T_4 by more than GROSS |T_4|: a step of 3.1 on the renewal kernel, T_1 = 0.21,
      T_2 = 0.62, T_4 = 0.76 (rate 2.9; the integral 0.82), gave 32 trapezoid steps whose
      answer stayed bounded (the discrete kernel's mass 0.47 against 1) while y grows to 50.

    A probe whose function raises or is not finite counts as a suspicion (the check then runs
    in the solver's guarded loop).  Returns whether it suspects the step; the evaluations are
    the kernel's, counted in ``sol.stats["nfev"]`` (a given ``rate``'s, a VIDE's f, are not:
    its ``f_evaluations`` are those of the solve on the answer's mesh)."""
    suspect, n_rate, n_kernel = _probe(sol, rtol, atol, kernel, rate)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + n_kernel + (n_rate if rate is None else 0)
    return suspect


def _probe(sol, rtol, atol, kernel, rate):
    """(suspect, rate evaluations, kernel evaluations) of :func:`short_time_scale`."""
    t, Y = sol.mesh, sol._y2
    if len(t) < 2:
        return False, 0, 0
    t0, t1 = float(t[0]), float(t[1])
    y0, y1 = Y[0], Y[1]
    d = y0.shape[0]
    h = t1 - t0
    if kernel is not None:
        kernel = _evaluator(kernel)
    if rate is None:
        def rate(tt, y):
            return kernel(tt, tt, y, np.empty(d))
    n_rate, evaluations = d + 1, 0
    T = slow = None
    _user.clear_failures()
    try:
        base = np.array(rate(t0, y0), dtype=float).reshape(d)
        norm = np.zeros(d)                   # the row sums of |J|
        for j in range(d):
            step = 1.4901161193847656e-08 * max(1.0, abs(y0[j]))
            y = y0.copy()
            y[j] += step
            norm += np.abs(np.asarray(rate(t0, y)).reshape(d) - base) / step
        if not h * norm.max() <= STIFF:     # (NaN: suspect)
            return True, n_rate, evaluations
        if kernel is None:
            return False, n_rate, evaluations
        # T_1, T_2, T_4 from 5 of the PANELS + 1 points; the others only where these fail
        F = np.empty((PANELS + 1, d))
        quarter = PANELS // 4
        for i in range(0, PANELS + 1, quarter):
            kernel(t1, t0 + i * h / PANELS if i < PANELS else t1, y0, F[i])
        evaluations += 5
        T = h * (_PANEL_WEIGHTS[:3, ::quarter] @ F[::quarter])
        D = np.abs(T[[0, 1, 0]] - T[[1, 2, 2]])        # |T1 - T2|, |T2 - T4|, |T1 - T4|
        slow = (D[0] < 2.0 * D[1]) | (D[2] > GROSS * np.abs(T[2]))
        if slow.any():
            for i in range(PANELS):
                if i % quarter:
                    kernel(t1, t0 + i * h / PANELS, y0, F[i])
            evaluations += PANELS - 4
            T = np.append(T, h * (_PANEL_WEIGHTS[-1:] @ F), axis=0)
    except Exception:  # noqa: BLE001 (the user's error at a probe: the guarded check says it)
        return True, n_rate, evaluations
    finally:
        failed = _user.take_failure() is not None
    if failed or not np.isfinite(T).all():
        return True, n_rate, evaluations
    if not slow.any():
        return False, n_rate, evaluations
    size = np.maximum(np.abs(y0), np.abs(y1))
    unresolved = slow & ~(np.abs(T[0] - T[-1]) <= tolerance_of(size, rtol, atol))
    return bool(unresolved.any()), n_rate, evaluations


def unresolved_start(sol, check, refine_tries):
    """The failed :class:`Solution` of a solve to a tolerance whose first steps
    :func:`first_steps_check` did not confirm, after ``refine_tries`` solves started on
    finer meshes: only the values before the point it names are kept."""
    ratio, j, _ = check
    t_fail = float(sol.mesh[j])
    message = (f"The tolerance could not be met: the steps do not resolve the solution near "
               f"t = {float(sol.mesh[0]):.6g}: a solve of the first steps with {REFINE} times shorter "
               f"steps differs from the answer by {ratio:.3g} times atol + rtol |y| (at t = "
               f"{t_fail:.6g}), although the error estimates, which compare coarser meshes, met "
               f"the tolerance (also after {refine_tries} solve(s) started on finer meshes).  The "
               f"problem has a time scale shorter than these steps (a fast-decaying kernel, a "
               f"stiff transient): give n_steps or a mesh that resolves it.  Only the values "
               f"before t = {t_fail:.6g} are kept.")
    return _failed_at(sol, j, message, resolution_check=ratio)


def _failed_at(sol, j, message, **stats):
    """``sol`` failed at its mesh point j with ``message`` (``stats["failure"] ==
    "unresolved"`` and ``stats``): only the values before j are kept."""
    est = sol._est2[:j]
    info = dict(sol.stats, failure="unresolved", **stats)
    info["max_error_estimate"] = largest_estimate(est)
    return Solution(sol.mesh[:j], sol._y2[:j], scalar=sol.scalar, status=FAILED, message=message,
                    stats=info, method=sol.method, order=sol.order,
                    t_failure=float(sol.mesh[j]), error_estimate=est)


def with_checked_estimate(sol, run, *, uniform_only, min_steps, kernel=None, rate=None):
    """``sol``, a solve on a given mesh (``n_steps`` or ``mesh``) with its error estimate, the
    estimate checked at the first steps where :func:`short_time_scale` suspects them.

    The estimate compares coarser meshes, which all miss a time scale shorter than the steps
    alike: y = 1 + int (t-s) e^(-(t-s)) y ds on [0, 100] on 8 trapezoid steps was a success with
    y(100) = 1.0006 (exact 50.75) and an estimate of 2e-4; radau3, gauss2 and rk4 on 4 to 16
    steps alike.  The probes (d + 6 evaluations) take the estimate of the first steps (at
    least ESTIMATE_FLOOR times the solution's size) as the tolerance; where they suspect the
    first steps, those are solved again with REFINE times shorter steps
    (:func:`first_steps_check`'s solve), whose values have errors 16^p times smaller.  Where
    it differs from the answer

    * by more than half of the solution's size so far (no reliable digit: the same bound as
      the companions' :data:`._estimate.UNRESOLVED`), the solution fails there with
      ``stats["failure"] == "unresolved"`` and keeps the values before;
    * otherwise, by more than the estimate, every estimate is multiplied by the largest ratio
      of difference to estimate (the evidence that the comparison of coarser meshes
      understates the error, by that factor at least), and the message says so
      (y = 1 - 1000 int y on 8 radau3 steps: the estimate 3.5e-4 becomes 0.021, the error).

    A failed solve's values before the failure are checked alike.
    ``stats["resolution_check"]`` is that ratio whenever the check ran."""
    if len(sol.mesh) < 2:
        return sol
    Y, est = sol._y2, sol._est2
    k = min(FIRST_STEPS, len(sol.mesh) - 1)
    if not np.all(np.isfinite(est[1:k + 1])):
        return sol                               # (no estimate there to check)
    size = float(np.max(np.abs(Y[:k + 1])))
    claim = np.maximum(np.max(est[1:k + 1], axis=0), ESTIMATE_FLOOR * size)
    if not np.all(claim > 0):
        return sol                               # (an identically zero start)
    if not short_time_scale(sol, 0.0, claim, kernel, rate):
        return sol
    finer = _finer_start(run, sol, uniform_only, min_steps)
    if finer is None:
        return sol
    D = np.abs(Y[1:k + 1] - finer[0])
    ratio = float(np.max(D / claim))
    sol.stats["resolution_check"] = ratio
    t = sol.mesh
    running = np.maximum.accumulate(np.max(np.abs(Y[:k + 1]), axis=1))[1:]
    lost = np.max(D, axis=1) > UNRESOLVED * running
    if np.any(lost):
        j = 1 + int(np.argmax(lost))
        message = (f"The solution has no reliable digits from t = {float(t[j]):.6g} on: a solve "
                   f"of the first steps with {finer[1]} times shorter steps differs from it by "
                   f"{float(np.max(D[j - 1])):.3g} there, against a solution of size "
                   f"{float(running[j - 1]):.3g} so far, although the error estimate (which "
                   f"compares coarser meshes) was {float(np.max(est[j])):.3g}: the steps are "
                   f"long against a time scale of the problem (a fast-decaying kernel, a stiff "
                   f"transient).  Only the values before t = {float(t[j]):.6g} are kept.  Use "
                   f"more steps, or solve to a tolerance (rtol, atol), which finds the steps.")
        if not sol.success:
            message += f"  (Further on: {sol.message})"
        return _failed_at(sol, j, message)
    if not ratio > 1.0:
        return sol
    est[1:] *= ratio                             # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.message += (f"  The error estimates were multiplied by {ratio:.3g}: a solve of the first "
                    f"steps with {finer[1]} times shorter steps differs from the answer by that "
                    f"many times the estimate (the steps are long against a time scale of the "
                    f"problem); more steps give a sharper estimate.")
    return sol


def with_resolved_start(solve, run, rtol, atol, *, uniform_only, min_steps, adaptive, n_max,
                        kernel=None, rate=None):
    """``solve(None)``, the solve to a tolerance, with its first steps checked
    (:func:`first_steps_check`) when :func:`short_time_scale` (with ``rate`` and ``kernel``)
    suspects them: where they are not confirmed, ``solve(finer)`` starts over with a first
    step REFINE times shorter (``adaptive``: ``finer`` is that step) or REFINE times the steps
    (uniform refinement: ``finer`` is that N, at most ``n_max``), checked again; after two
    such restarts, or at ``n_max``, the answer is :func:`unresolved_start`."""
    sol = solve(None)
    if not sol.success or not short_time_scale(sol, rtol, atol, kernel, rate):
        return sol
    tries, spent = 0, 0      # spent: the kernel evaluations of the attempts started over
    while True:
        check = first_steps_check(run, sol, rtol, atol, uniform_only, min_steps)
        sol.stats["nfev"] += spent
        if check is None:
            return sol
        n = len(sol.mesh) - 1
        if tries == 2 or (not adaptive and n >= n_max):
            return unresolved_start(sol, check, tries)
        tries += 1
        spent = sol.stats["nfev"]
        sol = solve(check[2] if adaptive else min(n * REFINE, n_max))
