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

import dataclasses
import itertools
import math
import time
import warnings
import weakref

import numpy as np

from .._inputs import refuse_masked
from ..kernels import _user
from . import _loops
from ._estimate import (FEW, RATE_FACTOR, RATE_MIN_STEPS, UNRESOLVED, estimate_error,
                        none_over_size, running_size, trim_lead_in)
from ._estimate import _estimate_order as _order_of_rate
from ._estimate import _two_to_minus_one
from ._outcome import (_NONE_KEPT, FAILED, LEAST_PROBES, SUCCEEDED, companion,
                       companion_drops_odd_end, describe, estimate_kept, unresolved_message,
                       with_rounding_floor, without_lone_start)
from ._solution import Solution, largest_estimate

__all__ = ["check_tolerances", "failed_to_tolerance", "first_steps_check", "fit_tolerances",
           "over_tolerance", "rate_jacobian_probe", "refined_to_tolerance",
           "rounded_to_tolerance", "short_time_scale", "solve_uniform_to_tolerance",
           "tolerance_of", "unreachable", "unreachable_message",
           "unresolved_start", "with_checked_estimate", "with_confirmed_digits",
           "with_kept_transient", "with_resolved_start", "stability_function"]

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
#: LATE_STIFFNESS (a note): the stiffness probe also takes the rate's Jacobian at the first
#: step's end, (t1, y0) (d + 1 evaluations more): a rate that grows within the step from 0 at
#: t0 has a layer there that the probe at (t0, y0) does not see (y = 1 - 1e6 int s y ds,
#: y = exp(-1e6 t^2 / 2), radau2 on 16 steps: y(1/16) = -5.1e-4 for 0, a success with an
#: estimate of 1.8e-5; radau3 to 1e-3 at lam = 1e3: 16 times the tolerance).
#: Weakly singular kernels (:func:`singular_check_steps`): the check covers the steps until
#: the linearised problem has spanned SETTLED of its time scales, at most SINGULAR_STEPS.
SETTLED, SINGULAR_STEPS = 8.0, 4
#: Weakly singular kernels solved to a tolerance: a refinement, or a start over after the
#: check of the first steps, takes at most REFINE_SINGULAR times the steps (at least twice).
REFINE_SINGULAR = 4.0
#: A value within ROOT times its estimated error of 0 has at most one digit: a purely relative
#: tolerance there is out of reach when refining does not lower the error over it
#: (:func:`unreachable`).
ROOT = 10.0
#: A solve on a given mesh (:func:`with_checked_estimate`): its error estimate, taken as at
#: least ESTIMATE_FLOOR times the solution's size, is compared with the finer solve.
ESTIMATE_FLOOR = 2.0 ** -42
#: Estimates that grow as the mesh is refined are rounding errors only while they stay below
#: ROUNDING eps N max |y| (:func:`solve_uniform_to_tolerance`).
ROUNDING, EPS = 1e3, float(np.finfo(float).eps)
#: An oscillation of the linearised problem that the first step does not resolve (a probe
#: that returns a refinement, see :func:`with_checked_estimate`): the check's finer solve
#: takes steps of at most RESOLVE radians of it, and at most CHECK_STEPS steps.
RESOLVE, CHECK_STEPS = 0.5, 4096
#: The stability limit of the explicit (left) rectangle rule: on y = 1 + lam int y it is
#: Euler's method, y_(n+1) = (1 + h lam) y_n, stable while h |lam| <= 2 (:func:`unstable_rule`).
RECTANGLE_LIMIT = 2.0
#: The advice of a fixed mesh's failure found by the check of its first steps; a solve to a
#: tolerance gives its own (:func:`with_resolved_start`).
_MORE_STEPS = "Use more steps, or solve to a tolerance (rtol, atol), which finds the steps."
#: The advice of a failure "stiff" (an explicit method held by its stability limit).
STIFF_ADVICE = ('Use an implicit method, such as method="radau3" (L-stable; or method=None), '
                'whose steps the stiffness does not limit.')
_UNRESOLVED_ADVICE = "Give n_steps or a mesh whose steps resolve that time scale."
#: A stiff transient that a method which is A- but not L-stable keeps (:func:`with_kept_transient`):
#: looked for where |R(h lam)| is at least KEPT on the first step and on the REFINE times
#: shorter steps of the check of the first steps (which then keeps it alike), and measured by
#: a solve of LAYER_STEPS steps of LAYER_STEP / |lam| from t0 (LAYER_STEPS LAYER_STEP e-folds).
KEPT, LAYER_STEPS, LAYER_STEP = 0.5, 32, 0.5
#: |z| beyond which R(z) is evaluated at this size (its limit; the polynomials would overflow).
_HUGE_Z = 1e50
_KEPT_ADVICE = ('Use an L-stable method, such as method="radau3" (which damps the transient), or '
                'steps that resolve the transient.')


def _tolerance_value(name, v):
    """A tolerance as given: a float >= 0 or a 1-d array of them (one per component)."""
    arr = None if isinstance(v, (bool, np.bool_)) else np.asarray(refuse_masked(v, name))
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
        # (solve_fredholm's fixed size is n_nodes: "n_steps/mesh" named no argument of it)
        chosen, fixed = ("the nodes", "n_nodes (a fixed rule") if caller == "solve_fredholm" \
            else ("the mesh", "n_steps/mesh (a fixed mesh")
        raise ValueError(f"{caller}: give either a tolerance (rtol/atol: the solver chooses "
                         f"{chosen}) or {fixed}, with an error estimate), not both")
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


def unreachable(Y, estimate, rtol, atol, stalled=False):
    """None, or (i, j): the first mesh value (point i, component j) whose estimated error
    exceeds a tolerance atol + rtol |y| that no mesh can be expected to meet: one below
    MIN_RTOL times the size of its component so far (the largest |y_j| up to t_i), or a
    purely relative one (atol = 0) at a value within its estimated error of 0 (not even its
    sign is known), within ROOT times it when the refinement ``stalled`` (its estimate over
    the tolerance did not fall).  The estimate of such a value falls with it as the mesh is
    refined: at a root on the mesh both are the solve's error, and the error over the
    tolerance stays near 1 / rtol.

    A pure relative tolerance on a component that passes through 0 asks there for more
    digits than floating point has: y = (sin t, cos t) on [0, 2 pi] with rtol = 1e-6,
    atol = 0 has the mesh points pi / 2, pi, ... on every uniform mesh, where |y| is the
    solve's own error, so the error over the tolerance stays 1 / rtol however fine the mesh:
    the refinement went on to the most steps allowed (radau3: 2^15 steps, 1.2e10 kernel
    evaluations, to fail; 18 minutes were seen).  Below MIN_RTOL (the relative tolerance
    refused with atol = 0) rounding errors dominate every method."""
    tol = tolerance_of(Y, rtol, atol)
    absY = np.abs(Y)
    size = np.maximum.accumulate(absY, axis=0)
    out = tol < MIN_RTOL * size
    out |= (np.asarray(atol) == 0) & (absY <= (ROOT if stalled else 1.0) * estimate)
    bad = out & (estimate > tol)
    if not bad.any():
        return None
    i = int(np.argmax(bad.any(axis=1)))
    return i, int(np.argmax(bad[i]))


def unreachable_message(t, Y, estimate, where, rtol, atol):
    """Why a solve to a tolerance stopped by :func:`unreachable` at ``where`` (the message
    after "The tolerance could not be met: ")."""
    i, j = where
    component = "" if Y.shape[1] == 1 else f" component {j} of"
    tol = tolerance_of(Y, rtol, atol)[i, j]
    return (f"at t = {float(t[i]):.6g}{component} y is "
            f"{float(Y[i, j]):.3g} with an estimated error of {float(estimate[i, j]):.3g}, where "
            f"atol + rtol |y| is {float(tol):.3g}: a relative tolerance (atol = 0) asks for ever "
            f"more digits where y passes through 0, and no mesh meets it there.  Give atol > 0 "
            f"for that component (an error that is small enough where y is near 0).")


def over_tolerance(error, tol):
    """``error / tol`` per entry, 0 where the error is 0 (also where the tolerance is: a pure
    relative tolerance, atol = 0, on a component that is 0 at t0, where every solve has the
    exact y(t0) = g(t0) and its estimate 0; 0/0 was NaN, never met, and the refinement went on
    to the most steps allowed: 18 minutes), inf where only the tolerance is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = error / tol
    return np.where(error == 0, 0.0, ratio)


def _predict(n, ratio, order, n_max, most=16.0):
    """The next N (even, so that its companion has N/2 steps) for an observed max est/tol,
    at most ``most`` times N."""
    factor = SAFETY * max(ratio, 1.0) ** (1.0 / order)
    factor = min(max(factor, 1.25), most)
    new = int(math.ceil(n * factor / 2.0)) * 2
    return min(max(new, n + 2), n_max)


def _unresolved_growth(first, comp, rtol, atol):
    """The factor by which a uniform refinement multiplies the steps of an attempt that found
    no estimate (``first``, its :class:`._outcome.Run`; ``comp``, its companion, or None): 4,
    or 2 where its solve finished and its levels stop converging ("unresolved") by no more
    than atol + rtol |y| at that point, a solution resolved to the tolerance there, whose
    levels drift at that level (rounding errors grown by the equation: k = 2 e^(-u),
    y = 1e5 + 2e-11 t + int k (y - 1e5) ds on [0, 10], the rounding floor's 24 steps, where
    gregory4's levels differed by 9.5e-9 for a tolerance of 1e-3, then 96 steps, 9592
    evaluations, where 48 meet it, 4257; radau4: 107012 and 30596)."""
    if first.status != 0 or comp is None or comp.reason != "unresolved" or \
            comp.first_bad is None:
        return 4
    j = comp.first_bad
    within = tolerance_of(first.Y[j:j + 1], rtol, atol)
    return 2 if comp.disagreement <= float(np.min(within)) else 4


def _costed(run, T):
    """(``run``, costs): ``run`` that records in ``costs`` (steps -> kernel evaluations) the
    work of each solve that evaluated the kernel on a mesh ending at ``T`` (the refinement's
    meshes and their companions; not a repeat, see :func:`_solving_once`, nor a mesh of every
    fourth point that leaves out an odd end).

    A direct rule's solve that reports its starting block's evaluations (``_loops.BLOCK``)
    is recorded with the cheapest block solved from a guess (``_loops.GUESSED``) in place of
    its own once one is known: the solves still to come start from the earlier solves' values,
    and the first attempt's block from y_0 cost more than theirs (gregory8 on the study's
    vector problem at 1e-12: 16 steps 820 evaluations, their companion on 8 steps 226, a fit
    of F + c N^2 to which priced 32 steps at 3192, 36 at 5340 with their companion and rate,
    where they cost about 930 and 1830: 36 steps were solved where 32 met the tolerance)."""
    costs, solves = {}, {}

    def costed(mesh):
        out = run(mesh)
        if out.status == 0 and int(out.counts[0]) > 0 and mesh[-1] == T:
            counts = out.counts
            block = int(counts[_loops.BLOCK]) if len(counts) > _loops.BLOCK + 1 else 0
            guessed = block > 0 and (int(counts[_loops.EXPLORING]) & _loops.GUESSED) != 0
            solves[len(mesh) - 1] = (int(counts[0]), block, guessed)
            cheapest = min((b for _, b, g in solves.values() if g), default=None)
            for k, (work, own, _) in solves.items():
                costs[k] = work if cheapest is None or not own else work - own + cheapest
        return out
    return costed, costs


def _work_model(costs):
    """(F, c): a solve's kernel evaluations F + c N^2 fitted to ``costs`` (steps -> kernel
    evaluations) by least squares, F and c at least 0; F = 0 where fewer than two N are known
    (an O(N^2) solve alone, which under-rates a fixed cost per solve such as a Gregory rule's
    starting block: gregory8 on 7 and 16 steps of y = 1 - int y^2 ..., 515 and 695)."""
    if not costs:
        return 0.0, 1.0
    n = np.array(sorted(costs), dtype=float)
    w = np.array([costs[k] for k in sorted(costs)], dtype=float)
    if len(n) > 1:
        c, f = np.polyfit(n * n, w, 1)
        if c > 0.0 and f >= 0.0:
            return float(f), float(c)
    return 0.0, float(np.max(w / (n * n)))


def _doubled(n, new, ratio, order, n_max, quarters, min_steps, costs=None, reusable=True):
    """The next N of a uniform (or graded) refinement from an attempt on ``n`` steps whose
    estimate was ``ratio`` times the tolerance, for ``new``, the N that :func:`_predict` asks
    for at the ``order``: 2 n instead where its new solves cost less than those of ``new`` and
    the same order says that 2 n meets the tolerance (ratio 2^-order <= 1).

    The refinement solves each mesh once (:func:`_solving_once`): 2 n steps have the attempt
    itself as their half-steps companion and its companion of n / 2 steps as the solve on
    every other point of theirs (the rate of the estimate from RATE_STEPS on), so that 2 n
    costs one new solve where ``new`` costs its own, its companion's and that of the rate's
    mesh (and the third level of :func:`_third_level_rate` where a direct rule's ``quarters``
    need one; ``reusable``: the attempt on n steps may be that level).  The work of a solve
    on N steps is :func:`_work_model`'s fit to ``costs`` (steps -> kernel evaluations of the
    solves so far, :func:`_costed`).  Where ``new`` > 2 n, 2 n meets the tolerance by the
    order alone, without :func:`_predict`'s SAFETY margin, and may miss it (y = tan t by
    gregory8 at 1e-6: 56 steps at 102 times the tolerance, 112 at 63 times it): 2 n is taken
    there only where its work is at most half of ``new``'s, so that a miss costs no more than
    a hit saves.  gregory8 on a vector problem at rtol = atol = 1e-12: 16 steps at 145 times
    the tolerance, then 36 steps (their companion on 18 and rate on 9 steps, 3175 kernel
    evaluations) where 32 steps (1329) met it; on y = 1 - int y^2 ... at 1e-9, 16 steps at 2.4
    times the tolerance, then 24 (and 12: 1391) where 32 (1062) meet it."""
    double = 2 * n
    if double > n_max or new == double or not ratio * 2.0 ** -order <= 1.0:
        return new
    fixed, rate = _work_model(costs or {})

    def work(m, cached=()):
        """The work of the solves that m steps need and are not ``cached``: m, its
        companion's m // 2, the companion's every other point (where that mesh has min_steps)
        and, below RATE_STEPS (no rate), a direct rule's third level."""
        levels = [m, m // 2] + ([m // 2 // 2] if m // 2 // 2 >= min_steps else [])
        if quarters and m < RATE_STEPS and not (reusable and _reusable_steps(m, n)):
            levels.append(3 * m // 4 if m % 4 == 0 and 3 * m // 4 >= min_steps else 3 * m // 2)
        return sum(fixed + rate * k * k for k in levels if k not in cached)
    new_quarters = min(_quarters(new), n_max) if quarters else new
    bet = 2.0 if new_quarters > double else 1.0     # (a miss costs the one solve on 2 n)
    return double if bet * work(double, (n, n // 2)) < work(new_quarters) else new


#: :func:`_too_slow`: the refinement's attempts over which the observed order is measured span
#: at least this factor in N (and two refinements) ...
SLOW_SPAN = 4.0
#: ... and an observed order at most this fraction of the method's is far below it ...
SLOW_FRACTION = 0.5
#: ... and the steps allowed are too few even at this multiple of the observed order (the
#: order may still rise towards the method's as the mesh refines) ...
SLOW_GAIN = 2.0
#: ... in a run of attempts whose ratio to the tolerance rose by no more than this fraction
#: from one to the next (a rise is a finer mesh beginning to resolve what coarser ones missed);
#: a run of one refinement suffices where it spans SLOW_SPAN^2 and its ratio fell by at most
#: SLOW_FLAT of itself ...
SLOW_RISE = 1e-3
SLOW_FLAT = 0.01
#: ... or where it spans SLOW_SPAN after an attempt whose ratio rose or was not measured, and
#: its ratio fell at an order of at least this (a ratio that barely fell there is a mesh still
#: resolving: y = H(t - 1/2) - 100 int y, the trapezoid rule at rtol = atol = 1e-3, 49 and 39
#: times the tolerance on 32 and 260 steps, the order 0.11, after an unresolved attempt on 8,
#: meets it on 19876).
SLOW_LEAST = 0.25


def _too_slow(history, p, n_max):
    """None, or (N_a, ratio_a, q, N_needed): the refinement ``history`` ((N, est/tol), ...)
    shows the tolerance out of reach of the steps allowed.  Over its last attempts, a run in
    which the ratio never rose (by more than SLOW_RISE) spanning at least SLOW_SPAN times the
    steps and two refinements (or SLOW_SPAN^2 times and one, over which the ratio fell by at
    most SLOW_FLAT of itself; or SLOW_SPAN times and one after an attempt whose ratio rose or
    was not measured, at an order of at least SLOW_LEAST), from N_a to the last N, the ratio
    fell at an observed order q
    at most SLOW_FRACTION times the method's order p, and even at SLOW_GAIN q the ratio
    reaches 1 only beyond ``n_max`` steps; N_needed is where it reaches 1 at the order q
    (infinite where it did not fall).  The prediction decides, not the order alone: the
    first kind's midpoint rule on y = cos t - sin t at rtol 1e-3 falls at the order 0.54
    between 54 and 232 steps (its estimate 1.7 times the tolerance, N_needed 606) and meets
    the tolerance at 348.

    A flat ratio is the error at a point whose own scale shrinks with the steps: y = sqrt(t)
    near t0 (the relative error at the first mesh points is the same on every mesh) or a kink
    of y at a zero of y (an estimate of a value of the size of the step), measured against
    atol + rtol |y| with a small atol.  The first kind's radau2 at rtol 1e-3 on y = sqrt(t)
    refined on 26 meshes, each 1.35 times the last, at 1.38 times the tolerance on every one
    (the ratio fell by 5e-6 in all), to 2^14 steps: 2.6e9 kernel evaluations, 5 minutes.
    Where an atol holds at the worst point the ratio falls, but slowly: like sqrt(h) at the
    first points of y = sqrt(t) (radau2 at rtol = atol = 1e-5: 1097, 301, 81 times the
    tolerance on 8, 128, 2048 steps, the order 0.47, N_needed 2.3e7), and went on to 2^14.
    After a rise one refinement tells: radau3 at rtol = atol = 1e-6 on y = sqrt(t), 3055, 5562,
    1720 times the tolerance on 8, 128, 1364 steps (the order 0.5), went straight on to 2^14
    steps, 15 minutes; a direct rule of the second kind on a stiff jump, y = H(t - 1/2) - 1e3
    int y, the trapezoid rule at 1e-3, from unresolved attempts to 44 and 10 times the
    tolerance on 2048 and 15614 steps (the order 0.71), went on to 2^15."""
    n, ratio = history[-1]
    if not 1.0 < ratio < np.inf:
        return None
    k = len(history) - 1
    while k > 0 and history[k - 1][0] < history[k][0] and np.isfinite(history[k - 1][1]) \
            and history[k][1] <= history[k - 1][1] * (1.0 + SLOW_RISE):
        k -= 1
    run = [(m, r) for m, r in history[k:-2] if m * SLOW_SPAN <= n]
    if not run and k == len(history) - 2:
        m, r = history[k]
        if m * SLOW_SPAN ** 2 <= n and ratio >= (1.0 - SLOW_FLAT) * r or k > 0 and \
                m * SLOW_SPAN <= n and ratio <= r * (m / n) ** SLOW_LEAST:
            run = [history[k]]
    if not run:
        return None
    n_a, ratio_a = run[-1]
    q = math.log(ratio_a / ratio) / math.log(n / n_a)
    if q > SLOW_FRACTION * p:
        return None
    # (log N_needed: the power overflows where q is near 0)
    needed, gained = (math.exp(min(math.log(n) + math.log(ratio) / (gain * q), 700.0))
                      if q > 0.0 else math.inf for gain in (1.0, SLOW_GAIN))
    if not gained > n_max:
        return None
    return n_a, ratio_a, max(q, 0.0), needed


def _estimate_order(previous, n, ratio, comp, p):
    """The order at which the estimate fell from the previous refinement ``previous`` = (N,
    ratio, rate) to this one, within [the estimate's order, p], or None.

    Only when both estimates used an observed rate below 2^p / RATE_FACTOR (their order
    q < p): sizing the next N with p then assumes the asymptotic regime that the observed rate
    says the solve is not in (gregory8 on y = tan t at 1e-6 climbed 116, 158, 198, 248 steps,
    each 25-36% more, as the estimate fell like N^-6.4 while p = 8), and sizing with q assumes
    none of the acceleration towards it."""
    if previous is None or previous[2] is None or comp is None or comp.rate is None \
            or not np.isfinite(ratio) \
            or not comp.order < p or not n > previous[0] or not 0.0 < ratio < previous[1]:
        return None
    order = math.log(previous[1] / ratio) / math.log(n / previous[0])
    return min(float(p), max(comp.order, order))


def blow_up_time(t, Y, estimate):
    """(t*, error, alpha) of a solution that grows like |y| ~ C (t* - t)^(-alpha) at its end,
    or (t[-1], error, NaN) where its last values do not fit that law (error NaN where no fit
    was possible).

    The law through the last point and the ones where the largest component was a half and a
    quarter of its last size gives t* and alpha (two equations in log |y| after C is
    eliminated: a root in t* > t[-1]); the same through a quarter and a sixteenth gives a
    second t*.  Their difference, plus the shift of the singularity that the solution's own
    relative error e makes (the largest e (t* - t) / alpha), is the error.  The law holds where
    the two t* differ by less than t* - t[-1] (the error may be larger: the solution's own error
    may put t* before t[-1], and t* +- error says so).  Where a step
    collapses at a blow-up the last point is not the blow-up time: the controller's error per
    unit step asks for relative local errors below the rounding unit before t* (radau2 on
    y = 1 + int y^2 at rtol 1e-8 stopped 3.9e-5 before t* = 1; the fit: 5e-9)."""
    j = int(np.argmax(np.abs(Y[-1])))
    y = np.abs(Y[:, j])
    c = len(y) - 1
    nothing = (float(t[-1]), math.nan, math.nan)
    if c < 3 or not np.all(np.isfinite(y)) or not y[c] > 0.0:
        return nothing

    def below(fraction):              # the last point at or below fraction * y[c]
        idx = np.nonzero(y[:c] <= fraction * y[c])[0]
        return int(idx[-1]) if idx.size else None

    def fit(a, b):
        if not (y[a] > 0.0 and y[b] > 0.0):
            return None               # (a zero on the way: y = tan t from y(0) = 0)
        la, lb, lc = (math.log(y[i]) for i in (a, b, c))
        ta, tb, tc = float(t[a]), float(t[b]), float(t[c])

        def f(tau):                   # (u_a - u_b)(lc - lb) - (u_b - u_c)(lb - la), u = log(tau - t)
            return ((math.log(tau - ta) - math.log(tau - tb)) * (lc - lb)
                    - (math.log(tau - tb) - math.log(tau - tc)) * (lb - la))
        # (math.ulp: np.spacing of a negative time is negative, which put lo before tc and
        # log(lo - tc) out of its domain on an interval left of 0)
        lo, hi = tc + 1e-300 + 4 * math.ulp(tc), tc + 4.0 * (tc - ta)
        if not (tb > ta and lc > lb > la) or f(lo) >= 0.0 or f(hi) <= 0.0:
            return None               # not growing faster than exponentially: no finite t*
        for _ in range(200):          # bisection to the resolution of t
            mid = 0.5 * (lo + hi)
            if mid in (lo, hi):
                break
            lo, hi = (mid, hi) if f(mid) < 0.0 else (lo, mid)
        tau = 0.5 * (lo + hi)
        return tau, (lc - lb) / (math.log(tau - tb) - math.log(tau - tc))

    points = [below(0.5), below(0.25), below(0.0625)]
    if None in points or not np.all(np.isfinite(estimate[points + [c], j])):
        return nothing                # (unchecked values: the singularity's shift is unknown)
    near, far = fit(points[1], points[0]), fit(points[2], points[1])
    if near is None or far is None:
        return nothing
    tau, alpha = near
    with np.errstate(divide="ignore", invalid="ignore"):
        shifts = estimate[:, j] / y * (tau - t) / alpha
    shifts = shifts[np.isfinite(shifts)]
    error = abs(tau - far[0]) + (float(shifts.max()) if shifts.size else 0.0)
    if abs(tau - far[0]) >= tau - float(t[c]):
        # the law does not hold there (y = -log(1 - t), rk4 at 1e-8: alpha 0.13 and 0.34, the
        # fits' t* 6.9e-5 apart, 1200 times the 5.9e-8 from the last point to t*)
        return float(t[c]), error + tau - float(t[c]), math.nan
    # (the law holds, however close to t* the steps came: the fits of y = 1 + int 2 y^3 agree
    # to 1e-16 and on alpha = 1/2 to 3e-9, and the steps stopped 5.9e-9 before t* on one
    # machine, within the error 8.9e-9 (the solution's own), and 2e-7 or more on another: the
    # error was compared with that distance, and the law was denied or not by rounding)
    return tau, error, alpha


def _grows(first):
    """Whether a failed attempt's values before the failure grow as a blow-up's can be
    fitted (:func:`blow_up_time` needs a point at a sixteenth of the last size)."""
    if first.keep < 4:          # (before the reshape: keep = 0 has no shape to infer)
        return False
    Y = first.Y[:first.keep].reshape(first.keep, -1)
    if not np.all(np.isfinite(Y[-1])):
        return False
    y = np.abs(Y[:, int(np.argmax(np.abs(Y[-1])))])
    return bool(y[-1] > 0.0 and np.min(y[:-1]) <= y[-1] / 16.0)


def _failed_attempt(run, t, first, method):
    """(keep, estimate, nfev, fit) of a uniform attempt whose solve failed: its values before
    the failure checked as a fixed-mesh solve checks them (the companion's estimate; the
    values it does not confirm and the approach to the failure dropped, as
    :func:`._outcome.solve_on_mesh` drops them: gauss2 on y' = 2 y^3 kept values past the
    blow-up at 1/4, unchecked), and ``fit``, the blow-up law those values follow
    (:func:`blow_up_time`: t*, its error, the exponent), or None."""
    keep = first.keep
    if keep < 2:
        return keep, np.full((keep,) + first.Y.shape[1:], np.nan), 0, None
    comp = estimate_kept(run, t, first.Y, keep, method, converging=False)
    comp.keep = keep = min(keep, comp.keep) if comp.first_bad is not None else keep
    if trim_lead_in(comp) is not None:
        keep = comp.keep
    fit = blow_up_time(t[:keep], first.Y[:keep], comp.estimate[:keep]) if keep >= 4 else None
    return keep, comp.estimate[:keep], comp.nfev, fit if fit and math.isfinite(fit[2]) else None


def _solving_once(run):
    """``run`` that solves on each mesh once where the solve succeeded: a refinement's
    attempts and the solves of their checks share meshes (gregory8 on y = 1 - int y^2 at
    1e-12: the rate of the attempt on 64 steps is measured on every fourth point, the 16
    steps of the first attempt).  A repeat returns the same values with zero counts (no
    kernel evaluation); a failed solve is not kept."""
    done = {}

    def once(mesh):
        key = mesh.tobytes()
        old = done.get(key)
        if old is not None:
            return dataclasses.replace(old, counts=np.zeros_like(old.counts))
        out = run(mesh)
        if out.status == 0:
            done[key] = out
        return out
    return once


def solve_uniform_to_tolerance(run, t0, T, *, method, scalar, stats, rtol, atol, n_start=8,
                               n_max=2 ** 16, t_eval=None, grading=1.0, stall=True,
                               step_defect=None, computed_start=False, rounding=None,
                               refuse_slow=None, jump=None):
    """Refine a uniform mesh until the Richardson estimate meets atol + rtol |y| everywhere.

    ``run(mesh) -> Run`` solves on a mesh (see :mod:`._outcome`); ``method`` provides ``name``,
    ``order``, ``uniform_only`` and ``min_steps``.  Returns a :class:`Solution` whose
    ``error_estimate`` meets the tolerance, or a failed one saying what stood in the way
    (the values of the last attempt that are confirmed are kept, with their estimates).  When
    the estimate grows over two refinements in a row to at most ROUNDING eps N max |y|,
    rounding errors dominate it (the first kind amplifies them like 1/h): refining further
    only costs more and loses digits, so the refinement stops there with the attempt of the
    smallest estimate, as a failure (a larger growth is refinement beginning to resolve the
    solution: it goes on).
    With ``grading`` r > 1 the meshes are graded, t_k = t0 + (T - t0) (k/N)^r (weakly singular
    kernels): they are nested too, so the companion of N steps is the graded mesh of N/2.
    ``stall=False`` (weakly singular kernels) refines on where the estimate grows: there it
    grows on the first meshes that begin to resolve a stiff transient (y = 1 - lam int
    (t-s)^(-1/2) y ds, lam = 100: 5.1, 7.9, 12 times the tolerance on 8, 10, 14 steps), not
    from rounding errors.  ``step_defect(t, Y, claims) -> (defects, evaluations)`` (weakly
    singular kernels: :func:`singular_step_defects`, which adds a third, the sentence of the
    steps it could not probe, said in the answer's message): each attempt's estimates are
    raised to the misses of the steps' rules (as :func:`with_step_defect`) before they are
    compared with the tolerance.  ``computed_start``: y(t0) comes from the first step (a first-kind
    equation), so a failure that keeps it alone keeps no value (as :func:`._outcome.solve_on_mesh`
    does: the midpoint method on K = e^(-lam (t - s)), lam = 1e6, rtol 1e-3, failed at t0 on
    16384 steps and kept y(t0) = 2.9e11 for 1).  ``rounding(t, Y)`` (first kind: the rounding
    error the values can carry, which grows like N) raises each attempt's estimates to it;
    no refinement goes beyond the N where it would reach 0.9 times the tolerance.  Where it
    alone exceeds the tolerance on a resolved attempt, the next N is where it would meet the
    Richardson estimate (which falls like N^-p while it grows like N), and an attempt where it
    is at least that estimate stops the refinement (a finer mesh has more of it), as a failure
    with the attempt of the smallest estimate.  ``refuse_slow`` (the first kind; None: the
    direct rules of the second kind, ``method.uniform_only``, on uniform meshes): the
    refinement stops, as a failure with its last attempt, once its estimates fall at an
    observed order far below the method's that the steps allowed cannot bring to the tolerance
    (:func:`_too_slow`: y = sqrt(t), a kink of y at a zero of y; for a direct rule, a jump of
    g or K in a stiff equation, y = H(t - 1/2) - 1e3 int y, which the trapezoid rule refined
    to 2^15 steps at the order 0.7 before the same failure).  ``jump`` (a direct rule of the
    second kind: :func:`._solve._jump_at`): an attempt over the tolerance stops the refinement
    where the data jump at the middle of the interval, a point of every mesh it takes, by
    more than the steps allowed can meet there (:func:`unreachable_jump`).
    """
    start = time.perf_counter()
    run = _solving_once(run)
    run, costs = _costed(run, T)   # (the work of each new solve, for _doubled)
    p = method.order
    direct = bool(method.uniform_only) and not computed_start    # (a direct rule's advice)
    if refuse_slow is None:
        refuse_slow = direct and grading == 1.0
    # (stall=False, weakly singular kernels: the estimate's order is pre-asymptotic on the
    # first meshes, 0.3-0.5 where they begin to resolve a stiff transient, and a prediction
    # from it overshoots: radau2, lam = 1e3, rtol 1e-3 jumped from 48 steps to 768 where 110
    # meet the tolerance.  At most REFINE_SINGULAR times the steps per refinement: the O(N^2)
    # work of the extra refinements sums to at most 1/15 of the last one's)
    most = 16.0 if stall else REFINE_SINGULAR
    n = max(n_start, 2 * method.min_steps)
    n += n % 2
    # (a direct rule whose Richardson denominator 2^p - 1 exceeds HONEST: assumed where the
    # solutions converge at the order 1, the estimate with p was more than HONEST times below
    # the error; the trapezoid rule and gregory4 stay within it.  gregory4's 15 exceeds
    # PROPORTIONAL: where no rate is measured its estimate must meet PROPORTIONAL / 15 of the
    # tolerance, the bar of the attempt)
    quarters = method.uniform_only and 2.0 ** p - 1.0 > HONEST
    base = n            # (a failed first attempt is refined from here: see _quarters)
    n_asked, n_max = n_max, _graded_steps_limit(t0, T, grading, n_max, n)
    if quarters:
        n = _quarters(n)
    total, history, best, last, prior, solved = 0, [], None, None, None, None
    slow = rounded = cap = cross = None  # (rounded: the attempt (N, floor / tol) stopped by
    # its floor)

    while True:
        t = _refinement_mesh(t0, T, n, grading)
        first = run(t)
        total += int(first.counts[0])
        comp, ratio, bar = None, np.inf, 1.0
        if first.status == 0:
            comp = estimate_error(companion(run), t, first.Y, p, companion_drops_odd_end(method),
                                  method.min_steps, drift=True,
                                  **getattr(method, "estimate_options", {}))
            total += comp.nfev
            if rounding is not None:
                low = rounding(t, first.Y)
                cross = None
                if comp.first_bad is None:
                    tol = tolerance_of(first.Y, rtol, atol)
                    level = float(np.max(over_tolerance(low, tol)))
                    own = float(np.max(over_tolerance(comp.estimate, tol)))
                    if level > 1.0 and not own > level:
                        rounded = (n, level)
                    elif level > 1.0:     # (own falls like N^-p, the floor grows like N)
                        cross = int(math.ceil(n * (own / level) ** (1.0 / (p + 1)) / 2.0)) * 2
                    elif level > 0.0:     # (0.9 times the tolerance at)
                        cap = int(0.9 * n / level) - int(0.9 * n / level) % 2
                np.fmax(comp.estimate, low, out=comp.estimate, where=~np.isnan(comp.estimate))
            if comp.first_bad is None:
                ratio = float(np.max(over_tolerance(comp.estimate,
                                                    tolerance_of(first.Y, rtol, atol))))
                if ratio <= 1.0 and quarters and comp.rate is None:
                    # (an accepted mesh only: one the order p rejects is refined anyway)
                    total += _third_level_rate(run, t, first.Y, comp, p, method.min_steps,
                                               solved if grading == 1.0 else None)
                    ratio = float(np.max(over_tolerance(comp.estimate,
                                                        tolerance_of(first.Y, rtol, atol))))
                elif method.uniform_only and comp.rate is None:
                    bar = min(1.0, PROPORTIONAL / (2.0 ** p - 1.0))
                    if bar < ratio <= 1.0 and grading == 1.0 and (
                            _reusable_level(t, n, solved) is not None
                            or n % 4 == 0 and 3 * n // 4 >= method.min_steps):
                        # (the bar not met but the tolerance: the rate of a third level,
                        # 9/16 of the solve's work or none, against a refinement's 2-3 times
                        # it; gregory4 on y = 1 + int y^2 ... at 1e-6: 20 steps at 0.87
                        # times the tolerance went on to 26 steps, 1926 -> 1270 evaluations)
                        total += _third_level_rate(run, t, first.Y, comp, p, method.min_steps,
                                                   solved)
                        if comp.rate is not None:
                            bar = 1.0
                            ratio = float(np.max(over_tolerance(
                                comp.estimate, tolerance_of(first.Y, rtol, atol))))
        if jump is not None and grading == 1.0 and comp is not None and np.isfinite(ratio):
            # (the jump model's error at the middle, where the data jump there: the order-1
            # error that the Richardson estimate with the order q puts 2^q - 1 times too low)
            raised, spent = jump_raised(jump, t, first.Y, comp, n)
            total += spent
            if raised:
                ratio = float(np.max(over_tolerance(comp.estimate,
                                                    tolerance_of(first.Y, rtol, atol))))
        defects, unprobed = [], None
        if step_defect is not None and np.isfinite(ratio):
            tol = tolerance_of(first.Y, rtol, atol)
            defects, spent, *more = step_defect(t, first.Y, tol[1:])
            unprobed = more[0] if more else None
            total += spent
            if defects:
                raised = comp.estimate.copy()
                _raise_to_defects(raised, defects)
                ratio = float(np.max(over_tolerance(raised, tol)))
        history.append((n, ratio))
        if first.status == 0:      # (the third level of a later attempt: _third_level_rate)
            solved = (t, first.Y)
        # a blow-up where the values before the failures of two attempts in a row fit the
        # law alike: t* is known to the two fits' difference plus the finer one's own error
        # (their values are checked only then, or on the last attempt)
        failed = blow_up = None
        grows = first.status != 0 and _grows(first)
        if first.status != 0 and (n >= n_max or (grows and prior is not None)):
            failed = _failed_attempt(run, t, first, method)
            total += failed[2]
            if prior is not None:
                if prior[2] is None:
                    prior = prior[:2] + (_failed_attempt(run, prior[1], prior[0], method),
                                         prior[3])
                    total += prior[2][2]
                if failed[3] is not None and prior[2][3] is not None:
                    (tau, error, alpha), tau0 = failed[3], prior[2][3][0]
                    error += abs(tau - tau0)
                    met = error <= float(np.min(atol)) + float(np.min(rtol)) * abs(tau)
                    blow_up = (tau, error, alpha, prior[3], met)
        prior = (first, t, failed, n) if grows else None
        if blow_up is not None and blow_up[4]:
            break   # the blow-up time to the tolerance: no finer mesh tells more
        if best is None or ratio < best[0]:
            best = (ratio, n, t, first, comp, defects, unprobed)
        # (growing estimates that rounding errors can explain: at most ROUNDING times the
        # eps N |y| that N steps accumulate; a growth above that is the finer meshes beginning
        # to resolve what the coarser ones missed: y = cos(300 t) as a VIDE, radau2 at
        # rtol = 1e-6, estimates 25, 298, 4e5 times the tolerance on 8, 28, 216 steps, and the
        # answer was the 8 steps' values, off by 1 with the estimate 2.5e-5)
        # (the last attempt may also be one whose solutions stop converging at that level: the
        # first kind, radau4, rtol 1e-13, N = 916, 1146, 1496 with 1.15, 11 times the tolerance
        # and a drift of 2.9e-11 at 1496 refined on to 2^14 steps and kept 18% of the interval)
        stalled = stall and len(history) >= 3 and comp is not None and \
            history[-3][1] <= history[-2][1] <= history[-1][1] and \
            (comp.disagreement if comp.first_bad is not None and history[-2][1] < np.inf
             else largest_estimate(comp.estimate) if comp.first_bad is None else np.inf) <= \
            ROUNDING * EPS * n * float(np.max(np.abs(first.Y)))
        out_of_reach = None if not 1.0 < ratio < np.inf else \
            unreachable(first.Y, comp.estimate, rtol, atol, stalled)
        slow = _too_slow(history, p, n_max) if refuse_slow and ratio > bar and n < n_max \
            and not stalled and out_of_reach is None and rounded is None else None
        stuck = None
        if jump is not None and ratio > bar and comp is not None and grading == 1.0 and \
                blow_up is None and not stalled and out_of_reach is None and rounded is None:
            stuck, spent = unreachable_jump(jump, t, first.Y, comp, n, n_max, rtol, atol)
            total += spent
        if ratio <= bar or n >= n_max or stalled or out_of_reach is not None or \
                rounded is not None or slow is not None or stuck is not None:
            break
        # a failed or unresolved solve: four times the steps (twice where the levels
        # disagree within the tolerance: _unresolved_growth); else the predicted N
        # (sized with the method's order; the estimate with an observed lower one decides),
        # or with the order at which the estimate itself fell since the last refinement
        measured = _estimate_order(last, n, ratio, comp, p)
        last = (n, ratio, comp.rate) if np.isfinite(ratio) else None
        if measured is not None:
            n = _doubled(n, _predict(n, ratio, measured, n_max, most), ratio, measured, n_max,
                         quarters, method.min_steps, costs, grading == 1.0)
        else:
            n = _doubled(n, _predict(n, ratio * comp.sizing, p, n_max, most), ratio * comp.sizing,
                         p, n_max, quarters, method.min_steps, costs, grading == 1.0) \
                if np.isfinite(ratio) else min(_unresolved_growth(first, comp, rtol, atol) * (
                    base if len(history) == 1 else n), n_max)
        if quarters:
            n = min(_quarters(n), n_max)
        if cap is not None and n > cap > history[-1][0]:
            n = cap
        if cross is not None:
            n = min(max(cross, history[-1][0] + 2), n_max)

    if rounded is not None and ratio > bar:
        stalled = True    # (the attempt of the smallest estimate is the answer, as stalled)
    else:
        rounded = None
    if stalled:       # the attempt with the smallest estimate is the answer (a failed one)
        ratio, n, t, first, comp, defects, unprobed = best
        if out_of_reach is not None:     # (said of the answer's values)
            out_of_reach = unreachable(first.Y, comp.estimate, rtol, atol, True) \
                if comp is not None and comp.first_bad is None else None
    info = stats(first.counts)
    info.update(comp.stats() if comp is not None else
                {"error_estimate": "none", "error_estimate_nfev": 0, "estimate_order": float("nan")},
                nfev=total, refinements=history, rtol=rtol, atol=atol, failure=None)
    estimate = comp.estimate if comp is not None else np.full_like(first.Y, np.nan)
    if defects:
        _raise_to_defects(estimate, defects)
        info["step_defects"] = len(defects)
    keep, t_fail = len(t), None
    if ratio <= bar:
        message = (f"The solver reached the end of the interval; the estimated error meets "
                   f"atol + rtol |y| at every mesh point (N = {n}).")
    elif blow_up is not None:
        tau, error, alpha, n_prior, met = blow_up
        t_fail = float(t[first.index])
        keep, estimate = failed[:2]
        info.update(failure="blow-up", blow_up_time=tau, blow_up_time_error=error,
                    blow_up_exponent=alpha)
        short = "" if met else \
            " (not to the tolerance: a finer mesh would need more than the steps allowed)"
        message = (f"the solution blows up: the solves on {n_prior} and {n} uniform steps "
                   f"fail at t = {t_fail:.10g}; as |y| ~ C (t* - t)^-{alpha:.3g} before it, the "
                   f"blow-up time is t* = {tau:.10g} +- {error:.2g}{short}.")
    elif first.status != 0:
        t_fail = float(t[first.index])
        message, info["failure"] = describe(first.status, t_fail, info.get("newton_iterations", 0),
                                            first.record)
        keep, estimate = failed[:2]      # (the last attempt failed: it was checked above)
        if keep < first.keep:
            message += (f" The values from t = {float(t[keep]):.6g} on are not kept: the error "
                        f"estimate (a solve with every other point) does not confirm them.")
    elif stuck is not None:
        keep = stuck[0]
        t_fail = float(t[keep])
        message = unreachable_jump_message(stuck, n, n_max, method.name)
        info.update(failure="tolerance", jump_time=t_fail)
    elif comp.first_bad is not None:
        t_fail = float(t[comp.first_bad])
        message, info["failure"] = unresolved_message(comp, t, computed_start=computed_start), \
            comp.reason
        keep = comp.keep
    elif out_of_reach is not None:
        t_fail = float(t[out_of_reach[0]])
        message = unreachable_message(t, first.Y, comp.estimate, out_of_reach, rtol, atol)
        info["failure"] = "tolerance"
    elif rounded is not None:
        t_fail = float(T)
        message = (f"rounding errors alone, which a first-kind equation amplifies like 1/h, "
                   f"are estimated at {rounded[1]:.3g} times atol + rtol |y| at N = "
                   f"{rounded[0]} (more on finer meshes); the values are those of N = {n}, "
                   f"{ratio:.3g} times it.  Use a looser tolerance.")
        info["failure"] = "stalled"
    elif slow is not None:
        t_fail = float(T)
        message, spent = _too_slow_message(t, first.Y, comp.estimate, defects, rtol, atol, slow,
                                           n, ratio, p, n_max, direct, jump)
        info["nfev"] += spent
        info.update(failure="tolerance", observed_order=slow[2])
    elif stalled:
        t_fail = float(T)
        (_, r1), (_, r2), (_, r3) = history[-3:]
        growth = f"{r1:.3g}, {r2:.3g}, {r3:.3g} times atol + rtol |y|" if r3 < np.inf else \
            f"{r1:.3g} and {r2:.3g} times atol + rtol |y|, then solutions that stop converging"
        message = (f"the estimated error stopped decreasing as the mesh was refined (N = "
                   f"{', '.join(str(k) for k, _ in history[-3:])}: {growth}); the values are "
                   f"those of N = {n}, {ratio:.3g} times it.  Rounding errors dominate there (a "
                   f"first-kind equation amplifies them like 1/h): use a looser tolerance.")
        info["failure"] = "stalled"
    else:
        t_fail = float(T)
        advice = "use a higher-order method or a looser tolerance." if not defects else (
            f"it holds what the steps' quadrature misses where the data (K, or a VIDE's f) are "
            f"not smooth or not resolved inside a step, from t = {float(t[defects[0][0]]):.6g} "
            f"on, which uniform meshes resolve slowly whatever the method's order: use a looser "
            f"tolerance, or split the interval at that point.")
        if n_max < n_asked:
            advice = (f"finer graded meshes have coincident points in floating point near "
                      f"t0 = {t0:.10g} (their first steps fall below its spacing): shift the "
                      f"time origin to 0 (t -> t - t0 in K and g), or use a looser tolerance.")
        message = (f"the estimated error is {ratio:.3g} times atol + rtol |y| at N = {n}, the most "
                   f"steps allowed; {advice}")
        info["failure"] = "tolerance"
    if unprobed is not None:
        message += f"  {unprobed}"
    if computed_start and t_fail is not None:
        keep, message = without_lone_start(keep, message)
    if info["failure"] == "blow-up":
        message = message[0].upper() + message[1:]
    elif t_fail is not None:
        message = f"The tolerance could not be met: {message}"
    info["max_error_estimate"] = largest_estimate(estimate[:keep])
    info["seconds"] = time.perf_counter() - start
    return Solution(t[:keep], first.Y[:keep], scalar=scalar,
                    status=SUCCEEDED if t_fail is None else FAILED, message=message, stats=info,
                    method=method.name, order=p, t_failure=t_fail,
                    stages=first.stages if t_fail is None else None,
                    error_estimate=estimate[:keep], t_eval=t_eval)


#: :func:`unreachable_jump`: the error modelled at the jump's point on the most steps allowed
#: exceeds this many times atol + rtol |y| there (the model is the rule's own arithmetic at
#: that point, linearised: trapezoid on y = H(t - 1/2) - 1e3 int y, 0.0311 modelled on 15614
#: steps for an error of 0.0310).
JUMP_MARGIN = 2.0


#: :func:`jump_raised`: the most by which the jump's part of the Richardson difference after
#: it is taken to lag its error (E_n / (E_(n/2) - E_n) of the model; 1 + 2 h w |J| for a
#: scalar, 2 at h w |J| = 1/2).
JUMP_LAG = 2.0


def _jump_error(dI, J, w, h):
    """|(I - h w J)^-1 h w dI|, the error of a direct rule's value at a point where the
    integrand of the history jumps by ``dI`` (its Jacobian there ``J``, the rule's weight of
    a step's end point ``w``, the step ``h``), or None where the matrix is singular."""
    try:
        return np.abs(np.linalg.solve(np.eye(len(dI)) - h * w * J, h * w * dI))
    except np.linalg.LinAlgError:
        return None


def jump_raised(jump, t, Y, comp, n):
    """(raised, evaluations): ``comp``'s estimates raised, in place, where the data jump at
    x = t_k, k = n / 2, the middle of the uniform mesh ``t`` (values ``Y``) and the jump's
    error there dominates: the model's E = (I - h w J)^-1 h w dI (:func:`unreachable_jump`),
    the rule's own arithmetic at x, which falls like h, while the Richardson estimate assumes
    the order q of ``comp`` (the method's) and puts an error of the order 1 2^q - 1 times too
    low (y = H(t - 1/2) - 100 int y, the trapezoid rule at rtol = atol = 1e-3: accepted on
    20484 steps with the estimate 0.40 times the tolerance at t = 1/2, the error 1.22 times
    it, 3.0 times the estimate, and so at every point of the transient after it).  Where E
    exceeds the estimate at t_k in a component, the estimate there is raised to E and the
    estimates of the points after it, which carry the jump's error on, are multiplied by
    2^q - 1, to their Richardson difference, the error of the order 1 it shows (and more
    than the error of the order q of the smooth part of it), and by E_n / (E_(n/2) - E_n)
    of the model (at most JUMP_LAG), which the jump's part of that difference lags its
    error where the steps begin to resolve the transient after the jump (1.004 on those
    20484 steps: 1 + 2 h w |J|).  The m points after t_k of ``jump.after`` = (m, c),
    where the rule or its companion on every other point weights x with an end correction,
    are raised to at least c E times that lag: gregory4 on y = H(t - 1/2) - 10 int y has
    c_j = 13/24 h after 1 step, 1/2 after 2 (c = 13/9), while its companion on 4537 steps,
    for which 1/2 is the middle of a step, is off by 1/24 of its step 3 fine steps after
    1/2: the estimate there, of the order 1, was 1.2 times below the error.  ``raised``:
    whether any was;
    ``jump``: the locate hook (:func:`._solve._jump_at`, cached where the data are smooth at
    x)."""
    k = n // 2
    Y2 = Y.reshape(len(t), -1)
    est = comp.estimate.reshape(len(t), -1)
    if n % 2 or k < 2 or comp.first_bad is not None or not np.all(np.isfinite(Y2[k - 1])) \
            or not np.all(np.isfinite(est[k])):
        return False, 0
    found, calls = jump(float(t[k]), Y2[k - 1])
    if found is None:
        return False, calls
    dI, J, _, w = found
    if not w > 0.0 or not np.any(dI != 0.0):
        return False, calls
    h = float(t[-1] - t[0]) / n
    E, E_half = _jump_error(dI, J, w, h), _jump_error(dI, J, w, 2.0 * h)
    if E is None or E_half is None or not np.all(np.isfinite(E)) or \
            not np.all(np.isfinite(E_half)) or not np.any(E > est[k]):
        return False, calls
    # (the jump's part of the Richardson difference is E_(n/2) - E_n, less than E_n by the
    # factor 1 + 2 h w |J| where the steps begin to resolve the transient after the jump)
    q = comp.order if np.isfinite(comp.order) else 1.0
    shown = E_half - E
    with np.errstate(divide="ignore", invalid="ignore"):
        lag = np.where((E > 0.0) & (shown > 0.0), E / shown, JUMP_LAG)
    lag = float(np.clip(np.max(lag), 1.0, JUMP_LAG))
    est[k + 1:] *= max(_two_to_minus_one(q), 1.0) * lag
    np.maximum(est[k], E, out=est[k])
    # (the points whose rule, or its companion's, weights x with end corrections: the
    # rule's own error of the jump there, which the difference need not show)
    m, c = getattr(jump, "after", (0, 1.0))
    np.maximum(est[k + 1:k + 1 + m], c * lag * E, out=est[k + 1:k + 1 + m])
    return True, calls


def unreachable_jump(jump, t, Y, comp, n, n_max, rtol, atol):
    """(None or (k, x, dI, rho, z, E_n, ratio_n, ratio_max), evaluations): whether the data jump at
    x = t_k, k = n / 2, the middle of the uniform mesh ``t`` (values ``Y``, estimates
    ``comp``): a point of every mesh of the refinement, whose N are all even.  The rule
    weights the integrand's value at a step's end point with h w (``jump``: the locate hook
    :func:`._solve._jump_at`, which gives w, dI the jump of the integrand K(x, s, y(s)) at
    s = x and J = dK/dy there, at the value y_(k-1) before it and that value plus g's jump
    after it), while the integral has nothing of a jump at its end: the value at x is off by
    E = (I - h w J)^-1 h w dI, which falls like h where the equation is not stiff there and
    stays near dI / |J|, the jump's own size, where h |J| >> 1 (y = H(t - 1/2) - 1e6 int y,
    the trapezoid rule: 0.94 on 32768 steps).  Where E on ``n_max`` steps exceeds JUMP_MARGIN
    times atol + rtol |y| at x (the larger |y| of the two sides), no mesh of the refinement
    meets the tolerance; ratio_n and ratio_max are E's ratios to it on ``n`` and ``n_max``
    steps, rho the largest |eigenvalue| of J, z = rho h on ``n_max`` steps.  Only where the
    estimates of t_(k-1) ... t_(k+2) exceed the tolerance or stop resolving there (the first
    unresolved point at most k + 2), y_(k-1) before it."""
    k = n // 2
    Y2 = Y.reshape(len(t), -1)
    limit = comp.first_bad if comp.first_bad is not None else len(t)
    if n % 2 or k < 2 or k - 1 >= limit or not np.all(np.isfinite(Y2[k - 1])):
        return None, 0
    # (only where the estimates near t_k exceed the tolerance, or stop resolving there)
    near = slice(k - 1, min(k + 3, len(t)))
    over = over_tolerance(comp.estimate[near], tolerance_of(Y2[near], rtol, atol))
    if not (limit <= k + 2 or np.any(np.nan_to_num(over, nan=0.0) > 1.0)):
        return None, 0
    x = float(t[k])
    found, calls = jump(x, Y2[k - 1])
    if found is None:
        return None, calls
    dI, J, after, w = found
    if not w > 0.0 or not np.any(dI != 0.0):
        return None, calls
    tol = tolerance_of(np.maximum(np.abs(Y2[k - 1]), np.abs(after)), rtol, atol)
    span = float(t[-1] - t[0])

    E_n, E_max = _jump_error(dI, J, w, span / n), _jump_error(dI, J, w, span / n_max)
    if E_n is None or E_max is None:
        return None, calls
    ratio_max = float(np.max(E_max / tol))
    if not ratio_max > JUMP_MARGIN:
        return None, calls
    rho = float(np.max(np.abs(np.linalg.eigvals(J)))) if J.size else 0.0
    return (k, x, dI, rho, rho * span / n_max, E_n, float(np.max(E_n / tol)), ratio_max), calls


def unreachable_jump_message(stuck, n, n_max, name):
    """Why :func:`unreachable_jump` stopped a refinement (after "The tolerance could not be
    met: "): the jump's time and size, the error it makes there on ``n`` and ``n_max`` steps
    and, where the equation is stiff there (z = h rho > STIFF on ``n_max`` steps), that no
    step allowed resolves its transient; a method that locates it is advised."""
    _, x, dI, rho, z, E_n, ratio_n, ratio_max = stuck
    return (f"the data (g or K) jump at t = {x:.10g}, the middle of the interval, which is a "
            f"point of every mesh of the refinement (uniform, N even): the integrand of the "
            f"history jumps by {float(np.max(np.abs(dI))):.3g} there, whose value after the jump "
            f"the {name} rule weights as the end of the step that ends there, while the "
            f"integral over that step has none of it.  "
            f"The value at t = {x:.10g} is off by about {float(np.max(E_n)):.3g}, "
            f"{ratio_n:.3g} times atol + rtol |y| (N = {n}), and still {ratio_max:.3g} times "
            f"it on the most steps allowed (N = {n_max})"
            + (f": the equation is stiff after the jump (its fastest rate {rho:.3g}: even those "
               f"steps span {z:.3g} of its e-folds), so no step allowed resolves the transient "
               f"that the jump starts" if z > STIFF else "")
            + f".  The values are kept up to the step before it.  Use a method whose steps "
            f"locate the jump, such as method=\"radau3\" (or method=None), or split the "
            f"interval at t = {x:.10g}, or use a looser tolerance.")


def _too_slow_message(t, Y, estimate, defects, rtol, atol, slow, n, ratio, p, n_max,
                      direct=False, jump=None):
    """Why a refinement stopped by :func:`_too_slow` (after "The tolerance could not be met: "):
    the ratios, the observed order and the point of the largest ratio.  ``direct``: a direct
    rule of the second kind, whose slow refinement is that of a solution not smooth from the
    first point over the tolerance on, mostly a jump of g or K in a stiff equation (the rules
    are not L-stable: the trapezoid rule's R(-inf) = -1 keeps the transient after the jump),
    said with the first point over the tolerance (the jump is there or within the few steps
    after it that the estimate spreads over: y = 1 - 1e3 int H(s - 3/8) y, the trapezoid rule on
    2004 steps, from t = 0.373752, two steps before the jump) and an L-stable method advised;
    with the jump's time where ``jump`` (the locate hook, :func:`._solve._jump_at`) finds one
    from two steps before that point to two after the largest ratio (at 0.375).  Returns
    (message, kernel evaluations)."""
    n_a, ratio_a, q, needed = slow
    raised = estimate.copy()
    if defects:
        _raise_to_defects(raised, defects)
    over = over_tolerance(raised, tolerance_of(Y, rtol, atol))
    over = np.where(np.isnan(over), -np.inf, over)
    i, j = np.unravel_index(int(np.argmax(over)), over.shape)
    component = "" if Y.shape[1] == 1 else f" component {j} of"
    steps = "no number of steps" if not math.isfinite(needed) else \
        f"about {needed:.2g} steps" if needed < 1e12 else "more than 1e12 steps"
    said = (f"the estimated error is {ratio:.3g} times atol + rtol |y| at N = {n}, and fell from "
            f"{ratio_a:.3g} times it at N = {n_a} only at the order {q:.2g} (the method's is "
            f"{p:g}): at that order {steps} would meet the tolerance (the most allowed: "
            f"{n_max}).  ")
    largest = (f"t = {float(t[i]):.6g}, where{component} y is {float(Y[i, j]):.3g} with an "
               f"estimated error of {float(raised[i, j]):.3g}")
    if direct:
        k = int(np.argmax((over > 1.0).any(axis=1)))     # (the first point over the tolerance)
        where = f"t = {float(t[k]):.6g}" if k == 0 else \
            f"the step from t = {float(t[k - 1]):.6g} to {float(t[k]):.6g}"
        spent, located = 0, None
        if jump is not None and k >= 1:
            j = max(k - 2, 0)
            end = float(t[min(max(i, k) + 2, len(t) - 1)])   # (past the largest ratio)
            located, spent = jump.locate(float(t[j]), end, Y[j],
                                         tolerance_of(np.abs(Y[j]), rtol, atol))
        rough = "y is not smooth from about there, such as after a jump of g or K" \
            if located is None else f"the data (g or K) jump at t = {located:.10g}"
        return said + (
            f"The estimates exceed the tolerance from {where} on (the largest ratio at "
            f"{largest}): {rough}, whose transient a stiff equation makes shorter than the "
            f"steps; a direct rule (not L-stable) keeps it and converges there at the order 1 "
            f"or less, whatever its order.  Use an implicit L-stable method, such as "
            f"method=\"radau3\" (or method=None), whose steps locate such a jump, or split the "
            f"interval at that point, or use a looser tolerance."), spent
    return said + (
        f"The largest ratio is at {largest}: y is not smooth there (such as "
        f"sqrt(t - t0) at the start, or a kink), or atol + rtol |y| shrinks there with the "
        f"steps (y near 0 with a small atol), which no uniform mesh meets.  Use a larger "
        f"atol or a looser tolerance, or split the interval at that point."), 0


def _refinement_mesh(t0, T, n, grading=1.0):
    """The mesh t0 + (T - t0) (k/n)^grading, k = 0 ... n, ending at T exactly."""
    t = t0 + (T - t0) * (np.arange(n + 1) / n) ** grading
    t[-1] = T
    return t


def _graded_steps_limit(t0, T, grading, n_max, n_start):
    """The most steps (even, at most ``n_max``) whose mesh :func:`_refinement_mesh` with
    ``grading`` is strictly increasing in floating point.  Far from 0, t0 has a coarse
    spacing and a graded mesh's first step (T - t0) N^-r falls below it sooner: on
    [1e5, 1e5 + 1] with r = 5 (radau2, alpha = 1/2) the first points coincide beyond
    N = 168, and a solve refined past it raised a ValueError from the solver's mesh check.
    A ValueError saying so where even the first mesh (``n_start`` steps) has coincident
    points.  Only the first points of each mesh are made: those before its steps are certain
    to be positive (:func:`_first_certain_step`; a whole mesh of 2^15 points cost 0.7-6 ms,
    the bisection's from t0 = 1 some 15 ms, for solves of ~0.1 s)."""
    def distinct(n):
        k = _first_certain_step(t0, T, grading, n)
        if k >= n - 1:
            return bool(np.all(np.diff(_refinement_mesh(t0, T, n, grading)) > 0))
        # (the first k + 2 points: the same expression as _refinement_mesh's, which sets
        # only t_n = T apart)
        return bool(np.all(np.diff(t0 + (T - t0) * (np.arange(k + 2) / n) ** grading) > 0))

    if grading == 1.0 or distinct(n_max):
        return n_max
    if not distinct(n_start):
        raise ValueError(f"the graded meshes a weakly singular kernel needs (grading exponent "
                         f"{grading:g}) have coincident points in floating point on "
                         f"[{t0:.10g}, {T:.10g}] from {n_start} steps on: " + (
                             "shift the time origin to 0 (t -> t - t0 in K and g)" if t0 != 0
                             else "their first points underflow to 0 (alpha this close to 1); "
                             "solve on a given mesh (n_steps) without a tolerance"))
    lo, hi = n_start // 2, n_max // 2         # (in units of 2 steps: distinct(2 lo) holds)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (mid, hi) if distinct(2 * mid) else (lo, mid)
    return 2 * lo


#: ln of the largest float (n^r from it on overflows)
_LOG_MAX = math.log(np.finfo(float).max)


def _first_certain_step(t0, T, grading, n):
    """A k from which every step t_{j+1} - t_j, j >= k, of :func:`_refinement_mesh` (t0, T,
    n, grading) is positive in floating point whatever the rounding of its points (n - 1 if
    none is known).  The computed t_j is t0 + (T - t0) u_j (1 + e_j) + f_j, u_j = (j/n)^r,
    with |e_j| < (r + 4) eps (the quotient, the power, the product) and |f_j| <= eps
    max(|t0|, |T|) (the sum): a step is positive if (T - t0) ((j+1)^r - j^r - 2 (r + 4) eps
    (j+1)^r) / n^r exceeds 2 eps max(|t0|, |T|) (here 4 eps: this test's own rounding).  That
    bracket grows with j while (r - 1) / (j + 1) > 2 (r + 4) eps: the first j where it holds
    is found by bisection."""
    r, span, top = float(grading), float(T - t0), max(abs(float(t0)), abs(float(T)))
    c = 2.0 * (r + 4.0) * EPS
    # (n^r past the largest float: such a grading has no step certain; float(n) ** r would
    # raise OverflowError, not give inf)
    if not r > 1.0 or n - 1 >= (r - 1.0) / c or r * math.log(max(n, 1)) >= _LOG_MAX:
        return n - 1

    def certain(j):
        grow = 1.0 if j == 0 else j ** r * math.expm1(r * math.log1p(1.0 / j))  # (j+1)^r - j^r
        return span * (grow - c * (j + 1.0) ** r) / float(n) ** r > 4.0 * EPS * top

    if certain(0):
        return 0
    lo, hi = 0, n - 1        # (certain(lo) fails; hi: certain, or n - 1, which is returned)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if certain(mid) else (mid, hi)
    return hi


#: The factor within which an error estimate must stay of the actual error: a direct rule
#: whose Richardson denominator 2^p - 1 exceeds it has the order of its small meshes measured
#: (:func:`_third_level_rate`); the adaptive driver's bounds and signs use it too
#: (:func:`._adaptive._faster_than_rate`).
HONEST = 20.0
#: The factor within which the error of a solve to a tolerance must stay of it.  Where a
#: direct rule's uniform mesh measures no rate, its Richardson estimate with the order p is
#: 2^p - 1 times below the error if the solutions converge at the order 1 only (a jump of K
#: in t, a jump of y): the estimate must meet PROPORTIONAL / (2^p - 1) of the tolerance
#: where 2^p - 1 exceeds PROPORTIONAL.  gregory4 on y = 1 + c(t) int y, c jumping from 1 to 2
#: at t = 0.5, rtol 1e-3: 28 steps with an estimate 0.79 times the tolerance and an error
#: 10.6 times it.
PROPORTIONAL = 10.0
#: Below this many steps the estimate of a direct rule's uniform mesh measures no rate (its
#: mesh of every fourth point has fewer than ``_estimate.RATE_MIN_STEPS`` steps): the meshes
#: its refinement predicts are multiples of 4 there (:func:`_quarters`).
RATE_STEPS = 4 * RATE_MIN_STEPS


def _quarters(n):
    """``n`` steps of a direct rule's uniform refinement: below RATE_STEPS, rounded up to a
    multiple of 4, whose solve on 3 n / 4 steps (9/16 of the work, against 9/4 for 3 n / 2)
    gives the rate of :func:`_third_level_rate`.  A first attempt that fails or finds no
    digit is refined to 4 times the steps it had before the rounding (gregory8 on y = tan t
    at 1e-6: 16, 64, 122, 162, 258 steps, 4.01 times the best uniform mesh's work, against
    14, 56, 116, 158, 248 before the rounding)."""
    return n if n >= RATE_STEPS else -(-n // 4) * 4


def _rate_order(ratio, r, p):
    """The order q at which D1 / D2 = ``ratio`` for the differences of uniform solves on N/2,
    N and N / r steps at their common points, D1 = |y_N/2 - y_N| ~ C h^q (2^q - 1) and
    D2 = |y_N/r - y_N| ~ C h^q |r^q - 1| (h = T / N), by bisection on [0, p + 1]: the ratio
    rises with q (r = 4/3: from ln 2 / ln(4/3) = 2.41 at q -> 0 through 3 at q = 1, 5.1 at 3
    and 13.6 at 6 to 25.5 at 8; r = 2/3: 1.71, 3, 10.0, 69 and 265).  None where it is not
    finite."""
    if not math.isfinite(ratio):
        return None
    lo, hi = 1e-6, float(p) + 1.0

    def f(q):
        return (2.0 ** q - 1.0) / abs(r ** q - 1.0)
    if ratio <= f(lo):
        return 0.0
    if ratio >= f(hi):
        return hi
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) < ratio else (lo, mid)
    return 0.5 * (lo + hi)


def _reusable_level(t, n, previous):
    """The earlier attempt ``previous`` = (mesh, values) of M uniform steps as the third level
    of :func:`_third_level_rate` for a uniform mesh ``t`` of ``n`` steps, or None: it must
    span the same interval, with N / 2 < M < N (where the ratio of the differences at the
    common points rises with the order, see :func:`_rate_order`; N / M from 1.2 on, where
    it tells the orders apart) and as many points in common with the companion of N / 2
    steps as the solve on 3 N / 4 steps has, or at least 4 after t0 (the solve on 12 steps
    for 16: t0 + k (T - t0) / 4)."""
    if previous is None:
        return None
    tm, Ym = previous
    if not _reusable_steps(n, len(tm) - 1) or tm[0] != t[0] or tm[-1] != t[-1]:
        return None
    return tm, Ym


def _reusable_steps(n, m):
    """Whether a uniform solve of ``m`` steps is the third level of :func:`_third_level_rate`
    for ``n`` steps on the same interval (see :func:`_reusable_level`)."""
    if not (n // 2 < m < n and 1.2 * m <= n):
        return False
    want = math.gcd(n // 2, 3 * n // 4 if n % 4 == 0 else 3 * n // 2)
    return math.gcd(n // 2, m) >= min(want, 4)


def _third_level_rate(run, t, Y, comp, p, min_steps, previous=None):
    """The observed order of a direct rule's solve ``Y`` on a uniform mesh ``t`` of N steps,
    accepted by its estimate ``comp`` (made with the order p) where that measured no rate
    (N < RATE_STEPS, or a solve on every fourth point that failed), from a third solve on
    M = 3 N / 4 uniform steps (N a multiple of 4: 9/16 of the solve's work) or else 3 N / 2
    (9/4): at the points that M and N / 2 steps share (every (N / 2) / gcd(N / 2, M)-th of the
    companion's) the ratio of the differences gives the order q (:func:`_rate_order`), and
    where 2^q is below 2^p / RATE_FACTOR the estimate takes it (at least 1), as the estimate
    does with a rate it measures; ``comp`` is changed in place (``rate`` = 2^q).  Returns the
    kernel evaluations.

    Without it the estimate assumed the order p where the solutions need not converge at it
    (gregory6 on a vector problem, ``integrallimits validate --seed 7``: errors 7.6e-5,
    1.0e-5, 2.1e-7 on 5, 10 and 20 steps, 2^2.9 from 5 to 10, so that the estimate with the
    order 6 was 10 times below the error, and rtol 1e-6 was met on 10 steps with an error of
    10.4 times it).  Needs the half-steps companion (``comp.values``).

    ``previous`` = (mesh, values): the refinement's earlier attempt on M uniform steps, which
    is the third level instead of a new solve where :func:`_reusable_level` accepts it
    (gregory8 on y = 1 + int y^2 ... at rtol 1e-9: 16 steps, then 24 checked with the 16
    instead of a solve on 18 steps, 3249 -> 2620 kernel evaluations)."""
    n = len(t) - 1
    if n % 2 or comp.common is None or comp.values is None or len(comp.values) != n // 2 + 1:
        return 0
    reused = _reusable_level(t, n, previous)
    if reused is not None:
        tm, other_Y = reused
        m, calls = len(tm) - 1, 0
    else:
        m = 3 * n // 4 if n % 4 == 0 and 3 * n // 4 >= min_steps else 3 * n // 2
        tm = t[0] + (t[-1] - t[0]) * (np.arange(m + 1) / m)
        tm[-1] = t[-1]
        third = run(tm)
        calls = int(third.counts[0])
        if third.status != 0:
            return calls
        other_Y = third.Y
    g = math.gcd(n // 2, m)
    fine, half, other = Y[::n // g], comp.values[::(n // 2) // g], other_Y[::m // g]
    d1 = float(np.max(np.abs(half - fine)))
    d2 = float(np.max(np.abs(other - fine)))
    if not d2 > 0.0 or d1 <= 64 * EPS * float(np.max(np.abs(Y))):
        return calls
    q_seen = _rate_order(d1 / d2, n / m, p)
    if q_seen is None:
        return calls
    rate = 2.0 ** q_seen
    q = _order_of_rate(rate, p, RATE_FACTOR, None, False, False)
    comp.rate = rate
    if q < p:
        factor = (2.0 ** p - 1.0) / (2.0 ** q - 1.0)
        comp.estimate = comp.estimate * factor
        if comp.unlifted is not None:
            comp.unlifted = comp.unlifted * factor
        comp.order = q
        comp.sizing = comp.sizing / factor
    return calls


def _finer_start(run, sol, uniform_only, min_steps, steps=FIRST_STEPS, grading=None,
                 refine=REFINE):
    """(Yf, m, y1): the first k = ``steps`` steps of ``sol`` solved again with m >= ``refine``
    times shorter steps (``run(mesh)``, its work counted in ``sol.stats["nfev"]``), Yf (k, d) its
    values at the mesh points 1, ..., k of ``sol`` and y1 (d,) its value at the end of its own
    first step; None when that solve cannot be made (steps too short to divide) or did not
    finish.

    With ``grading`` r (a weakly singular kernel, whose solution behaves like
    (t - t0)^(1 - alpha)), every step is divided uniformly in the graded coordinate
    x = ((t - t0) / (T - t0))^(1/r): the graded mesh t0 + (T - t0) (n/N)^r becomes the one of
    m N steps, and a uniform mesh gets a graded first step (a uniform division of it would
    resolve the start worse than the answer's own steps)."""
    t = sol.mesh
    k = min(steps, len(t) - 1)
    m = max(refine, -(-min_steps // k))
    if uniform_only:      # (a direct rule's mesh is uniform: the refined one is uniform too)
        fine = t[0] + (t[k] - t[0]) * (np.arange(k * m + 1) / (k * m))
    elif grading is not None:
        span = float(t[-1] - t[0])
        x = ((t[:k + 1] - t[0]) / span) ** (1.0 / grading)
        u = np.arange(m) / m
        fine = np.concatenate([x[i] + (x[i + 1] - x[i]) * u for i in range(k)] + [x[k:k + 1]])
        fine = t[0] + span * fine ** grading
        fine[::m] = t[:k + 1]                      # (the answer's points, exactly)
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
    return r.Y[m::m][:k], m, r.Y[1]


def first_steps_check(run, sol, rtol, atol, uniform_only=False, min_steps=1, steps=FIRST_STEPS,
                      grading=None, refine=REFINE, digits=False):
    """None if the first steps of a solve to a tolerance are confirmed, else a
    :class:`_StartCheck`: the first mesh point j > 0 where they are not, the largest difference
    over atol + rtol |y| and a step that resolves them (and, for ``digits``, the difference and
    the solution's size where the finer solve leaves no digit).

    The error estimates compare the answer with solves on *coarser* meshes (every other and
    every fourth point).  When the steps are long against a time scale of the problem (a kernel
    that decays within a step, a stiff transient), all of these miss it alike, agree, and the
    estimate is small however large the error: y = 1 + int (t-s) e^(-(t-s)) y ds on [0, 100]
    was accepted on 8 trapezoid steps with y(100) = 1.0006 (exact 50.75) and an estimate of
    2e-4.  A solve of the first FIRST_STEPS steps with REFINE times shorter steps sees the
    time scale; it costs O(FIRST_STEPS * REFINE) steps, nothing beside the solve.  (Only the
    start is checked: a time scale that appears later is not seen.)  ``steps``, ``grading``
    and ``refine``: as for :func:`_finer_start` (a weakly singular kernel; an oscillation
    that REFINE times shorter steps do not resolve, see :func:`with_resolved_start`).

    ``digits`` (a first-kind equation, whose values on steps that miss the time scale are
    small, like 1 / (lam h) for K = e^(-lam (t - s)), so that they meet an atol however wrong
    they are): the first steps are not confirmed either where the finer solve differs from
    the answer by more than its estimate and by more than UNRESOLVED (half) times the
    solution's size so far, as on a fixed mesh (:func:`with_checked_estimate`): radau1 at
    rtol = atol = 1e-3 with lam = 3e4 was a success on 8 steps with y = 2.7e-4 for 1 (the finer
    solve 4.3e-3, within 4 times the tolerance; the estimate 1.3e-4), and with lam = 1e6 with
    y = 8e-6.

    Where the finer solve differs from the answer by more than its estimate (within AGREE
    times the tolerance), the estimates are raised to that, for every kind of equation
    (:func:`_raised_estimates`): radau3 at rtol = atol = 1e-3 on the first-kind K = 1e-3 +
    (t - s), y = cos t, was a success on 8 steps with an error of 0.058 and estimates of
    1.05e-3 (the finer solve differed by 7.4 times the estimate); radau3 and radau4 on the
    second-kind y = 1 - lam int y, lam = 1e4-1e6, successes on 6-8 steps with errors 88-360
    times their estimates (the first value, the stability function at -lam h, for 0), and the
    VIDE y' = -1e6 y - 0.2 int y 62-250 times.
    """
    if not sol.success or len(sol.mesh) < 2:
        return None
    finer = _finer_start(run, sol, uniform_only, min_steps, steps, grading, refine)
    if finer is None:
        return None
    Yf, m, _ = finer
    k = len(Yf)
    Yc = sol._y2[1:k + 1]
    ratio = np.max(over_tolerance(np.abs(Yc - Yf), tolerance_of(Yf, rtol, atol)), axis=1)
    if not np.all(ratio <= AGREE):        # (a NaN is not agreement)
        j = 1 + int(np.argmax(~(ratio <= AGREE)))
        return _StartCheck(float(np.max(ratio)), j, float(sol.mesh[1] - sol.mesh[0]) / m)
    if digits:
        D = np.abs(Yc - Yf)
        running = np.maximum.accumulate(np.max(np.abs(sol._y2[:k + 1]), axis=1))[1:]
        with np.errstate(invalid="ignore"):
            lost = (np.max(D, axis=1) > UNRESOLVED * running) & \
                np.any(D > sol._est2[1:k + 1], axis=1)
        if np.any(lost):
            j = 1 + int(np.argmax(lost))
            return _StartCheck(float(np.max(ratio)), j, float(sol.mesh[1] - sol.mesh[0]) / m,
                               lost=(float(np.max(D[j - 1])), float(running[j - 1])))
    return _raised_estimates(sol, Yf, m, rtol, atol)


def _raised_estimates(sol, Yf, m, rtol, atol):
    """The check of a solve to a tolerance whose first steps agreed within AGREE times the
    tolerance: where the finer solve differs from the answer by more than its
    estimate, every estimate is multiplied by the largest ratio (as on a fixed mesh,
    :func:`with_checked_estimate`; radau2 with lam = 1e4 at rtol = atol = 1e-3 was accepted
    on 8 steps with an error 7 times its estimate, 1.6 times the tolerance).  Returns None
    if the raised estimates still meet the tolerance, else a :class:`_StartCheck` for the
    first mesh point j where they do not (its ratio that of the raised estimates)."""
    k = len(Yf)
    Y, est = sol._y2, sol._est2
    if not np.all(np.isfinite(est[1:k + 1])):
        return None
    size = float(np.max(np.abs(Y[:k + 1])))
    claim = np.maximum(np.max(est[1:k + 1], axis=0), ESTIMATE_FLOOR * size)
    if not np.all(claim > 0):
        return None
    factor = float(np.max(np.abs(Y[1:k + 1] - Yf) / claim))
    if not factor > 1.0:
        return None
    est[1:] *= factor                            # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.stats["resolution_check"] = factor
    over = np.max(over_tolerance(est, tolerance_of(Y, rtol, atol)), axis=1)
    if np.all(over <= 1.0):
        sol.message += (f"  The error estimates were multiplied by {factor:.3g}: a solve of the "
                        f"first steps with {m} times shorter steps differs from the answer by "
                        f"that many times the estimate.")
        return None
    j = max(1, int(np.argmax(~(over <= 1.0))))
    return _StartCheck(float(np.max(over)), j, float(sol.mesh[1] - sol.mesh[0]) / m,
                       raised_by=factor)


@dataclasses.dataclass(frozen=True)
class _StartCheck:
    """What :func:`first_steps_check` did not confirm: ``ratio``, the largest difference of the
    finer solve over atol + rtol |y| (with ``raised_by``, the finer solve's difference over
    the estimate by which :func:`_raised_estimates` raised the estimates: ``ratio`` is then
    that of the raised estimates, not a difference), at the mesh point ``j``; ``h``, a step
    that resolves the first steps; ``lost`` = (difference, the solution's size so far) where
    the finer solve leaves no digit (``digits``)."""
    ratio: float
    j: int
    h: float
    lost: tuple | None = None
    raised_by: float | None = None


#: dispatcher -> the entry point of its one compiled signature (see :func:`_evaluator`)
_ENTRY_POINTS = weakref.WeakKeyDictionary()


def _entry_point(fn):
    """The entry point of ``fn``'s one compiled signature, or ``fn`` itself (not a dispatcher
    of exactly one signature)."""
    try:
        return _ENTRY_POINTS[fn]
    except (KeyError, TypeError):
        pass
    overloads = getattr(fn, "overloads", None)
    if overloads is None or len(overloads) != 1:
        return fn
    entry = next(iter(overloads.values())).entry_point
    try:
        _ENTRY_POINTS[fn] = entry
    except TypeError:
        pass
    return entry


_COMPILED_ENTRIES = {}


def compiled_entry(fn, signature):
    """The entry point of ``fn`` compiled for ``signature()`` (Numba types, made only then) on
    first use, cached on disk: for the package's own helpers whose arguments are always of
    that one signature (no dispatcher's type matching at each call)."""
    entry = _COMPILED_ENTRIES.get(fn)
    if entry is None:
        from .._numba import JIT_OPTIONS, njit
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        entry = _COMPILED_ENTRIES[fn] = _entry_point(njit(signature(), **options)(fn))
    return entry


def _evaluator(kernel, rows, function=None):
    """``K(t, s, j) -> list``: the compiled kernel of the solve at (t, s, rows[j]), its d values
    as floats, called directly (~1 us; ``Kernel.__call__`` checks the values the kernel reads
    first).  ``rows``: the values of y it is called at (lists of d floats), written once into
    the array the kernel reads its row j from.  A failure is recorded, not raised: the caller
    reads :func:`_user.take_failure`.  ``function``: another compiled function of the same
    arguments (the smooth factor k of a weakly singular kernel)."""
    fn, params = function or kernel.function, kernel.params
    # a dispatcher of one compiled signature called through its entry point: the same machine
    # code, without the dispatcher's matching of the argument types (~0.15 us of ~0.4 a call;
    # the arguments here are always of that signature)
    fn = _entry_point(fn)
    Y = np.array(rows, dtype=float)            # (1 + d, d)
    out = np.empty(kernel.dim)

    def K(t, s, j):
        fn(t, s, Y, j, params, out)
        return out.tolist()
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
#: The rows of T_1, T_2 and T_4 on their PANELS // 4 + 1 points, as floats.
_PANEL_ROWS = _PANEL_WEIGHTS[:3, ::PANELS // 4].tolist()
#: The points of the first step (as fractions of it) where the probe compares the kernel with
#: the quartic through its five equispaced samples: (3 - sqrt 5) / 2 and (1 + sqrt 5) / 4, far
#: from every dyadic fraction and from each other's phases, so that a frequency aliased onto
#: the samples is not aliased at both; the kernel is suspect where it is off the quartic by
#: more than ALIAS times its largest sample.
OFF_GRID = ((3.0 - math.sqrt(5.0)) / 2.0, (1.0 + math.sqrt(5.0)) / 4.0)
ALIAS = 0.1


def _off_grid_weights():
    """The Lagrange weights of the quartic through 0, 1/4, 1/2, 3/4, 1 at each OFF_GRID point."""
    nodes = [0.0, 0.25, 0.5, 0.75, 1.0]
    rows = []
    for c in OFF_GRID:
        weights = []
        for i, xi in enumerate(nodes):
            w = 1.0
            for j, xj in enumerate(nodes):
                if j != i:
                    w *= (c - xj) / (xi - xj)
            weights.append(w)
        rows.append(weights)
    return rows


_OFF_GRID_WEIGHTS = _off_grid_weights()


def short_time_scale(sol, rtol, atol, kernel=None, rate=None, step=None, stiffness=True):
    """Whether the first step of ``sol`` (a solve to a tolerance) may be long against a time
    scale of the problem, so that :func:`first_steps_check` must look.  That check solves 32
    short steps: on the smooth problems of the error-control study it cost 2-300 times the
    whole solve at loose tolerances, so it runs only when one of three probes of at most 3 d + 8
    evaluations (3 d + 18 where the trapezoid sums are off their rate; the sums' first and
    last samples, K(t1, t0, y0) and K(t1, t1, y0), are the other probes') says so:

    * stiffness: h ||J||_inf > STIFF, with J = d rate / dy at (t0, y0) by forward differences
      (``rate(t, y)``: a VIDE's f(t, y, 0); by default the kernel's diagonal K(t, t, y)): the
      first step spans more than
      STIFF e-folds of the linearised problem (y = 1 - 1000 int y on steps of 0.25: 250; the
      smooth problems of the study: 0.5 at most);
    * the second-order time scale: h^2 |d^2 K / dt dy| at s = t0 (h times the change of
      dK/dy(t, t0, y0) from t = t0 to t1, row sums as for J; d + 1 evaluations; not for a
      VIDE's ``rate`` or a kernel without t) above STIFF^2: differentiating (VIE) twice,
      y'' = ... + K_y(t, t, y) y' + K_ty(t, t, y) y + ..., so 1 / sqrt|K_ty| is a time scale
      of the linearised problem that the first probe does not see (K(t, t, y) = 0 for
      K = -w^2 (t - s) y, whose solution is cos(w t): the time scale 1 / w; 4 Radau steps of
      0.5 at w = 30 were a success with an error of 1.5 and an estimate of 1.6e-3, the
      nested meshes all missing the oscillation alike);
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
      Where the sums pass, two more evaluations at the off-grid points s* = t0 + c h (c in
      OFF_GRID) are compared with the quartic through the five samples: a kernel that
      oscillates with a period near a quarter step (or a fraction of it) shows the same value
      at every equispaced sample, and then on every nested mesh of the estimates too
      (aliasing).  It is suspect where K(t1, s*, y0) is off the quartic by more than ALIAS
      times the largest sample and h times that difference exceeds atol + rtol max(|y0|, |y1|):
      y = 1 + int cos(200 (t - s)) y ds on steps of 1/8 (200 h / 4 = 6.25, 2 pi - 0.033)
      was a success to 1e-3 with y(1) = 2.42 for 0.993 (715 times the tolerance; rk4 on 4
      steps, and omega = 500: 260 times).

    A probe whose function raises or is not finite counts as a suspicion (the check then runs
    in the solver's guarded loop).  Returns whether it suspects the step; the evaluations are
    the kernel's, counted in ``sol.stats["nfev"]`` (a given ``rate``'s, a VIDE's f, are not:
    its ``f_evaluations`` are those of the solve on the answer's mesh).  ``step``: (t, Y), the
    first two points and values of another step to probe (a finer solve's, see
    :func:`_finer_step_suspect`), its evaluations counted in ``sol``'s; ``stiffness=False``
    leaves the stiffness probe out.  The stiffness probe's Jacobian J (d x d, a list of rows) of
    ``sol``'s own first step is kept as ``sol._rate_jacobian`` (None where it was not made)."""
    t, Y = (sol.mesh, sol._y2) if step is None else step
    jacobian = [] if step is None else None
    suspect, n_rate, n_kernel = _probe(t, Y, rtol, atol, kernel, rate, stiffness, jacobian)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + n_kernel + (n_rate if rate is None else 0)
    if step is None:      # (for the growth test of :func:`with_checked_estimate`)
        sol._rate_jacobian = jacobian[0] if jacobian else None
    return suspect


def rate_jacobian_probe(kernel):
    """``probe(t, y, y0) -> (J or None, d + 1)``: the forward-difference Jacobian dK/dy of
    ``kernel`` at s = t and y (lists of floats; rows of lists, as the stiffness probe's
    ``sol._rate_jacobian``; the steps' floor from y0 = y(t0)), None where the kernel fails
    there or a value is not finite (:func:`._outcome.with_rounding_floor`'s probe).  (The
    steps' floor of the last y0 is kept: the probes of one solve share it; ~1 us a probe.)"""
    kept = [None, None]         # (y0 as a tuple, its floor)

    def floor_of(y0):
        start = tuple(y0)
        if kept[0] != start:
            kept[0], kept[1] = start, _loops.start_floor(y0)
        return kept[1]

    def probe(t, y, y0):
        d = len(y)
        if d == 1:
            return _scalar_probe(kernel, t, y[0], floor_of(y0))
        steps, rows = _shifted_rows(y, floor=floor_of(y0))
        K = _evaluator(kernel, rows)
        _user.clear_failures()
        try:
            values = [K(t, t, j) for j in range(d + 1)]
        except Exception as exc:  # noqa: BLE001 (the user's error: the guarded loop says it)
            if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
                raise
            return None, d + 1
        finally:
            failed = _user.take_failure() is not None
        J = _forward_jacobian(steps, values)
        if failed or not all(math.isfinite(v) for row in J for v in row):
            return None, d + 1
        return J, d + 1

    def rates(times, values, y0):
        """A scalar y's dK/dy at the points (``times``, ``values``: lists of floats), as
        ``probe``'s at each, in one compiled call (:func:`_scalar_rates_compiled`; None at
        every point where one failed)."""
        return _scalar_rates_compiled(kernel, times, values, floor_of(y0))

    def jacobians(times, values, y0):
        """``probe``'s (J, d + 1) at each of the points (``times``; ``values``, lists of d
        floats) in one compiled call (:func:`_jacobians_compiled`), or None where the kernel
        recorded a failure there (the caller probes point by point then)."""
        return _jacobians_compiled(kernel, times, values, floor_of(y0))

    def memory(at, times, values, y0):
        """The memory's row: (dK/dy(at, s, y), kernel evaluations) at the points (``times``
        the s, ``values`` the y: lists of d floats; ``at`` a float, or a list: each point's
        t) in one compiled call, as ``probe``'s differences (a scalar's rates as [[rate]]);
        None where the kernel failed at a point or a value is not finite (no memory growth
        then)."""
        if kernel.dim == 1:
            found = _scalar_rates_compiled(kernel, times, [y[0] for y in values],
                                           floor_of(y0), at)
            if found is None or None in found[0]:
                return None
            return [[[r]] for r in found[0]], found[1]
        found = _jacobians_compiled(kernel, times, values, floor_of(y0), at)
        if found is None or None in found[0]:
            return None
        return found

    probe.scalar_rates = rates
    probe.jacobians = jacobians
    probe.memory = memory
    return probe


def _scalar_rates_at(kernel, times, values, floor):
    """(rates, 2 n): :func:`_scalar_probe`'s dK/dy at the n points (``times``, ``values``), its
    arrays and entry point made once (~1 us a point less than a probe each), the failure
    record kept over the whole pass (cleared before it, read after it: ~0.3 us a point less);
    every rate None where the kernel failed (raised, or recorded a failure) at any point or a
    rate is not finite: its one caller, the rounding floor's :func:`._outcome._scalar_rates`,
    drops them all then (the same kernel calls at every point, the same floats)."""
    steps = fd_steps(values, floor=floor)
    fn = _entry_point(kernel.function)
    Y = np.empty((2, 1))
    row = Y.reshape(2)          # (a view: a 1-d item set costs less)
    out = np.empty(kernel.dim)
    params = kernel.params
    rates, failed = [], False
    _user.clear_failures()
    try:
        for t, y, step in zip(times, values, steps):
            row[0], row[1] = y, y + step
            try:
                fn(t, t, Y, 0, params, out)
                base = out.item(0)
                fn(t, t, Y, 1, params, out)
                rate = (out.item(0) - base) / step
            except Exception as exc:  # noqa: BLE001 (the user's error: the guarded loop says it)
                if not _user.raised_by_user(exc):   # (the package's, a timeout: raised)
                    raise
                failed = True
                continue
            if not math.isfinite(rate):
                failed = True
            rates.append(rate)
    finally:
        failed = _user.take_failure() is not None or failed
    n = min(len(times), len(steps))
    return ([None] * n if failed else rates), 2 * n


def _diagonal_rates(K_at, theta, at, times, values, floor, rates):
    """rates[i] = (K(a_i, t_i, y_i + step_i) - K(a_i, t_i, y_i)) / step_i, a scalar kernel's
    (its address ``K_at``, parameters ``theta``) forward difference in y at t = a_i (``at``:
    ``times`` itself on the diagonal s = t, the last time for the memory's row), as
    :func:`_scalar_probe` makes it: the same step sqrt(eps) max(floor, |y_i|) as
    :func:`fd_steps` (Python's max: ``floor`` unless |y_i| is above it, NaN too), the same two
    calls, floats and difference."""
    K = _loops._kernel_at(K_at)
    Y = np.empty((2, 1))
    f = np.empty(1)
    first, second = np.int64(0), np.int64(1)
    for i in range(times.shape[0]):
        a, t, y = at[i], times[i], values[i]
        size = abs(y)
        step = 1.4901161193847656e-08 * (size if size > floor else floor)  # noqa: FURB136
        Y[0, 0] = y
        Y[1, 0] = y + step
        K(a, t, Y, first, theta, f)
        base = f[0]
        K(a, t, Y, second, theta, f)
        rates[i] = (f[0] - base) / step


def _diagonal_rates_signature():
    from .._numba import types
    a1 = types.float64[::1]
    return types.void(types.int64, a1, a1, a1, a1, types.float64, a1)


def _scalar_rates_compiled(kernel, times, values, floor, at=None):
    """:func:`_scalar_rates_at`'s (rates, 2 n) in one compiled call (:func:`_diagonal_rates`,
    ~0.1 us a point against ~1.3; ``times``, ``values``: lists or 1-d arrays of floats): the
    same steps, kernel calls and floats; every rate None where the kernel recorded a failure
    (its exceptions inside compiled code are records) or a rate is not finite, as there.
    (A scalar kernel: ``kernel.dim`` 1; else :func:`_scalar_rates_at` itself.)  ``at``: a
    float, the t of every point, or a list, each point's (s the ``times``: the memory's row
    dK/dy(at, s, y(s)); a scalar kernel's alone, None otherwise)."""
    if kernel.dim != 1 and at is not None:
        return None
    if kernel.dim != 1:
        return _scalar_rates_at(kernel, list(times), list(values), floor)
    n = min(len(times), len(values))       # (as zip pairs them)
    times = np.ascontiguousarray(times[:n], dtype=float)
    values = np.ascontiguousarray(values[:n], dtype=float)
    rates = np.empty(n)
    entry = compiled_entry(_diagonal_rates, _diagonal_rates_signature)
    address = kernel.function_address.address
    _user.clear_failures()
    try:
        entry(address, kernel.params, times if at is None else _at_points(at, n), times,
              values, float(floor), rates)
    finally:
        failed = _user.take_failure() is not None
    out = rates.tolist()
    if failed or not all(map(math.isfinite, out)):
        return [None] * n, 2 * n
    return out, 2 * n


def _at_points(at, n):
    """The t of each of n points: ``at`` a float (every point's) or a list of n floats."""
    if isinstance(at, (list, tuple, np.ndarray)):
        return np.ascontiguousarray(at[:n], dtype=float)
    return np.full(n, float(at))


def _forward_jacobians(K_at, theta, at, times, values, floor, out):
    """out[i] = the forward-difference Jacobian dK/dy (d x d) of a kernel of d components (its
    address ``K_at``, parameters ``theta``) at t = at[i], s = times[i], y = values[i] (``at``:
    ``times`` itself on the diagonal, the last time for the memory's row), as
    :func:`rate_jacobian_probe`'s probe makes it: the steps of :func:`fd_steps` (Python's
    max, ``floor`` first), the rows of :func:`_shifted_rows` in one array, the kernel at each
    row, the differences of :func:`_forward_jacobian`."""
    K = _loops._kernel_at(K_at)
    n, d = values.shape
    Y = np.empty((d + 1, d))
    F = np.empty((d + 1, d))
    f = np.empty(d)
    steps = np.empty(d)
    for i in range(n):
        ta, t = at[i], times[i]
        for b in range(d):
            size = abs(values[i, b])
            steps[b] = 1.4901161193847656e-08 * (size if size > floor else floor)  # noqa: FURB136
        for j in range(d + 1):
            for b in range(d):
                Y[j, b] = values[i, b]
            if j:
                Y[j, j - 1] = values[i, j - 1] + steps[j - 1]
        for j in range(d + 1):
            K(ta, t, Y, np.int64(j), theta, f)
            for a in range(d):
                F[j, a] = f[a]
        for a in range(d):
            for b in range(d):
                out[i, a, b] = (F[b + 1, a] - F[0, a]) / steps[b]


def _forward_jacobians_signature():
    from .._numba import types
    return types.void(types.int64, types.float64[::1], types.float64[::1], types.float64[::1],
                      types.float64[:, ::1], types.float64, types.float64[:, :, ::1])


def _jacobians_compiled(kernel, times, values, floor, at=None):
    """(Js, (d + 1) n): :func:`rate_jacobian_probe`'s probe at the n points (``times``,
    ``values``: lists of d floats) in one compiled call (:func:`_forward_jacobians`, ~0.3 us
    a point against ~12 for d = 2): the same steps, rows, kernel calls and floats; each J rows
    of lists, None where it is not finite (as the probe's).  None where the kernel recorded a
    failure (raised, or a value not finite) at any point, or its values are not d: the caller
    probes point by point, which tells the points apart.  ``at``: a float, the t of every
    point, or a list, each point's (s the ``times``: the memory's row dK/dy(at, s, y(s)))."""
    n = min(len(times), len(values))
    d = len(values[0]) if n else 0
    if not n or kernel.dim != d or any(len(y) != d for y in values[:n]):
        return None
    out = np.empty((n, d, d))
    entry = compiled_entry(_forward_jacobians, _forward_jacobians_signature)
    address = kernel.function_address.address
    T = np.array(times[:n], dtype=float)
    V = np.array(values[:n], dtype=float)
    _user.clear_failures()
    try:
        entry(address, kernel.params, T if at is None else _at_points(at, n), T, V,
              float(floor), out)
    finally:
        failed = _user.take_failure() is not None
    if failed:
        return None
    found = [J if all(math.isfinite(v) for row in J for v in row) else None
             for J in out.tolist()]
    return found, (d + 1) * n


def _scalar_probe(kernel, t, y, floor):
    """:func:`rate_jacobian_probe`'s probe of a scalar y (a float; ``floor``: its steps'
    floor), on floats: the same step, points, kernel calls and difference as
    :func:`_shifted_rows`, :func:`_evaluator` and :func:`_forward_jacobian` make (~3 us less
    than theirs)."""
    step = fd_steps([y], floor=floor)[0]
    fn = _entry_point(kernel.function)
    Y = np.empty((2, 1))
    Y[0, 0], Y[1, 0] = y, y + step
    out = np.empty(kernel.dim)
    _user.clear_failures()
    try:
        fn(t, t, Y, 0, kernel.params, out)
        base = out.tolist()[0]
        fn(t, t, Y, 1, kernel.params, out)
        rate = (out.tolist()[0] - base) / step
    except Exception as exc:  # noqa: BLE001 (the user's error: the guarded loop says it)
        if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
            raise
        return None, 2
    finally:
        failed = _user.take_failure() is not None
    if failed or not math.isfinite(rate):
        return None, 2
    return [[rate]], 2


def _differences_at(kernel, t, y, start=None, failures=None):
    """((steps, values, row sums), evaluations): K(t, t, .) at ``y`` (a row of ``values``) and
    at y + step_j e_j, and the row sums of |dK/dy| by these forward differences (d + 1 kernel
    evaluations, as the stiffness probe of :func:`short_time_scale`); None for the first where
    the kernel fails there.

    Where the kernel fails or is not finite at those points, the backward differences at
    y - step_j e_j once (d + 1 evaluations more; ``steps`` then negative): a kernel defined
    for y <= y0 alone (the solution decays from y0) raised ValueError at y0 + step, and
    gauss4 on y = 1 - 1e4 int y at 1e-3, not known to be stiff (:func:`stiffness_scale`),
    refined to 574 steps, 7.0e6 kernel evaluations, for the 20 steps, 1.2e4, of the pass
    from a step of one e-fold.  ``failures``: a list that gets what the user's function
    raised at the last points (an exception, or the record of one compiled code caught)
    where both fail so."""
    y = np.asarray(y, dtype=float).ravel().tolist()
    forward = fd_steps(y, [1.0] if start is None else start)
    found, calls, raised = None, 0, None
    for steps in (forward, [-h for h in forward]):
        rows = [y] + [y[:j] + [y[j] + steps[j]] + y[j + 1:] for j in range(len(y))]
        K = _evaluator(kernel, rows)
        _user.clear_failures()
        calls += len(y) + 1
        raised = None
        try:
            values, norm = _row_sums(lambda j: K(t, t, j), steps)
        except Exception as exc:  # noqa: BLE001 (the user's error: the solve's steps report it)
            if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
                raise
            values, raised = None, exc
        finally:
            record = _user.take_failure()
        found = None if record is not None or values is None else (steps, values, norm)
        if found is not None and all(math.isfinite(v) for v in norm):
            return found, calls
        raised = raised if raised is not None else \
            record if record is not None and record.kind == _user.RAISED else None
    if failures is not None and raised is not None:
        failures.append(raised)
    return found, calls


def stiffness_scale(kernel, t0, y0, failures=None):
    """(rho, evaluations): the largest row sum of |J|, J = dK/dy(t0, t0, y) at ``y0`` by
    forward differences (:func:`_differences_at`: d + 1 kernel evaluations), or of |D^-1 J D|
    where that is less, D the diagonal of powers of 2 that balances J
    (:func:`scipy.linalg.matrix_balance`): the e-folds per unit time of the linearised problem
    at the start, at least its largest |eigenvalue| either way; NaN where the kernel fails or
    is not finite there.  A row sum alone mixes the components' scales: y' = M y with
    M = [[0, -1e-12], [1e12, 0]] (components of sizes 1e-6 and 1e6) is a rotation, eigenvalues
    +-i, whose ||J||_inf of 1e12 read as 1e12 e-folds, gauss2's first step 2e-12 below the
    step floor ("collapsed at t = 0", a stiff problem); balanced, rho = 1.  ``failures``: as
    :func:`_differences_at`'s."""
    found, calls = _differences_at(kernel, t0, y0, np.ravel(y0).tolist(), failures)
    largest = max(found[2]) if found is not None else math.nan
    if not math.isfinite(largest):
        return math.nan, calls
    steps, values, _ = found
    d = len(steps)
    if d > 1:
        J = np.array(_forward_jacobian(steps, values))
        if np.all(np.isfinite(J)):
            from scipy.linalg import matrix_balance     # (only on this rare path)
            balanced = matrix_balance(J, permute=False)[0]
            largest = min(largest, float(np.max(np.sum(np.abs(balanced), axis=1))))
    return largest, calls


def decay_rate(kernel, t, y, start=None):
    """(rho, evaluations): the largest |lambda| over the eigenvalues lambda of J = dK/dy(t, t, y)
    at ``y`` whose real part is negative (forward differences, :func:`_differences_at`: d + 1
    kernel evaluations), the fastest decay of the linearised problem there, which bounds the
    steps of an explicit method (a growing mode is one the solution follows too, and a step of
    h amplifies it no more than it grows); 0.0 where J has no such eigenvalue, NaN where the
    kernel fails or is not finite there."""
    eig, calls = _jacobian_eigenvalues(kernel, t, y, start)
    if eig is None:
        return math.nan, calls
    eig = eig[eig.real < 0.0]
    return (float(np.max(np.abs(eig))) if eig.size else 0.0), calls


def growth_rate(kernel, t, y):
    """(lam, evaluations): the largest real eigenvalue of J = dK/dy(t, t, y) at ``y``, the
    fastest real growth of the linearised problem there (d + 1 kernel evaluations, as
    :func:`decay_rate`), 0.0 where J has no positive real eigenvalue (a growing oscillation's
    complex pair is left out), NaN where the kernel fails or is not finite there.  On the
    model blow-up y' = y^2 from y0, lam = 2 y0 = 2 / (the distance to the pole)."""
    eig, calls = _jacobian_eigenvalues(kernel, t, y)
    if eig is None:
        return math.nan, calls
    eig = eig.real[(eig.real > 0.0) & (eig.imag == 0.0)]
    return (float(np.max(eig)) if eig.size else 0.0), calls


def _jacobian_eigenvalues(kernel, t, y, start=None):
    """(the eigenvalues of J = dK/dy(t, t, y), evaluations) by the forward differences of
    :func:`_differences_at`, None where the kernel fails or is not finite there."""
    found, calls = _differences_at(kernel, t, y, start)
    if found is None:
        return None, calls
    steps, values, _ = found
    J = np.array(_forward_jacobian(steps, values))
    if not np.all(np.isfinite(J)):
        return None, calls
    return (J[0].copy() if len(steps) == 1 else np.linalg.eigvals(J)), calls


def unstable_rule(sol, kernel, t0, T, y0, name, limit, n_max):
    """``sol``, a failed solve to a tolerance with the explicit rule ``name`` on uniform meshes,
    said to be stiff where the steps of its last attempt exceed the rule's stability limit
    ``limit`` / rho, rho the linearised problem's fastest decay at (t0, ``y0``)
    (:func:`decay_rate`, its d + 1 evaluations counted in ``nfev``): the rule then amplifies
    the decaying mode by |1 - h rho| > 1 a step instead of damping it, and its failures (no
    digit, non-finite values) read as a blow-up (the rectangle rule on y = 1 - 1e5 int y at
    1e-3: "it blows up" at t = 0.03, on 32768 steps, h rho = 3.05).  The message names the
    limit and the steps a uniform mesh stable at t0 needs, (T - t0) rho / ``limit``
    (``n_max``: the most allowed); the failure is "stiff"."""
    history = sol.stats.get("refinements") or []
    if not history:
        return sol
    rho, calls = decay_rate(kernel, float(t0), y0, np.ravel(y0).tolist())
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + calls
    n = int(history[-1][0])
    h = (T - t0) / n
    if not h * rho > limit:       # (NaN: not known)
        return sol
    need = math.ceil((T - t0) * rho / limit)
    kept = "" if not len(sol.t) or sol.t[-1] >= T else \
        f" The values after t = {float(sol.t[-1]):.6g} are not kept: the error estimate does " \
        f"not confirm them."
    sol.message = (f"The problem is stiff for the explicit {name} rule: the steps of its last "
                   f"attempt ({n} steps, h = {h:.3g}) exceed its stability limit {limit:g} / rho "
                   f"= {limit / rho:.3g}, with rho = {rho:.3g} the fastest decay of the "
                   f"linearised problem at t = {t0:.6g} (the largest |eigenvalue| of dK/dy at "
                   f"s = t), which it amplifies by |1 - h rho| = {abs(1.0 - h * rho):.3g} a step "
                   f"instead of damping it.  A uniform mesh stable there needs at least {need} "
                   f"steps" + (f", more than the {n_max} allowed" if need > n_max else "") +
                   f".  {STIFF_ADVICE}" + kept)
    sol.stats["failure"] = "stiff"
    return sol


def fd_steps(y0, start=None, floor=None):
    """The forward-difference steps sqrt(eps) max(|y_j|, floor) of a Jacobian at ``y0`` (a
    list of floats), the floor the power of 2 nearest the largest |y_j| of ``start`` (y(t0);
    ``y0`` itself when not given) where that is below 1, else 1, as the compiled loops'
    :func:`._loops.fd_floor` (``floor``: that floor, where the caller has it).

    An absolute step of 1.5e-8 at y ~ 1e-30 with a kernel nonlinear at that scale
    (y^2 / 1e-30) made the stiffness probe see a growth of 1e22 (a false "grows 2.33e+20
    e-folds a step" refusal of a solve on 32 steps)."""
    if floor is None:
        floor = _loops.start_floor(y0 if start is None else start)
    return [1.4901161193847656e-08 * max(floor, abs(v)) for v in y0]


def _forward_jacobian(steps, values):
    """J[a][b] = (K_a(y + step_b e_b) - K_a(y)) / step_b (rows of lists) from ``values``, the
    rate at the rows of :func:`_shifted_rows` (its ``steps``)."""
    d = len(steps)
    return [[(values[j + 1][a] - values[0][a]) / steps[j] for j in range(d)] for a in range(d)]


def _shifted_rows(y0, start=None, floor=None):
    """(steps, rows): the forward-difference steps of a Jacobian at ``y0`` (a list of floats,
    :func:`fd_steps`, their floor from ``start``, y(t0), where given, or ``floor`` itself) and
    the points y0 (row 0) and y0 + step_j e_j (row j + 1)."""
    steps = fd_steps(y0, start, floor)
    return steps, [y0] + [y0[:j] + [y0[j] + steps[j]] + y0[j + 1:] for j in range(len(y0))]


def _row_sums(rate_at, steps):
    """(values, norm): the rate at the rows of :func:`_shifted_rows` (``rate_at(j)``, a list
    per row) and the row sums of |J| of its forward-difference Jacobian."""
    base = rate_at(0)
    values, norm = [base], [0.0] * len(steps)
    for j in range(len(steps)):
        r = rate_at(j + 1)
        values.append(r)
        for a in range(len(steps)):
            norm[a] += abs(r[a] - base[a]) / abs(steps[j])
    return values, norm


def _probe(t, Y, rtol, atol, kernel, rate, stiffness=True, jacobian=None):
    """(suspect, rate evaluations, kernel evaluations) of :func:`short_time_scale` for the
    step from t[0] to t[1] with the values Y[0], Y[1] (without its stiffness probe where
    ``stiffness`` is False).  ``jacobian``: a list that gets the forward-difference Jacobian
    J of the rate at (t0, y0) that the stiffness probe computes (rows J[a][j], as lists; for
    d <= 128 only, whose eigenvalues :func:`_growth` takes).

    On d-vectors of Python floats (a few of them: a NumPy call on such tiny arrays costs ~1 us,
    a float operation ~30 ns), with the arithmetic of the array expressions they stand for in
    the same order (the trapezoid sums as NumPy's ``W @ F`` sums them: from 0, term by term),
    so the floats are the same; the 16-panel sum, needed only where the others fail their
    rate, is NumPy's."""
    if len(t) < 2:
        return False, 0, 0
    t0, t1 = t[:2].tolist()
    y0, y1 = Y[:2].tolist()
    d = len(y0)
    if d == 1 and rate is None and kernel is not None:
        return _probe_scalar(t0, t1, y0[0], y1[0], rtol, atol, kernel, stiffness, jacobian)
    h = t1 - t0
    steps, rows = _shifted_rows(y0)     # (the points of the rate's forward differences)
    # (K(s, y) without t has no second-order time scale: d^2 K / dt dy = 0)
    t_dependent = kernel is not None and not kernel.structure.get("t_independent", False)
    if kernel is not None:
        kernel = _evaluator(kernel, rows)
    if rate is None:
        def rate_at(tt, j):
            return kernel(tt, tt, j)
    else:
        def rate_at(tt, j):
            return np.array(rate(tt, np.array(rows[j])), dtype=float).reshape(d).tolist()
    n_rate, evaluations = d + 1, 0
    T = slow = None
    _user.clear_failures()
    try:
        diagonal, norm = _row_sums(lambda j: rate_at(t0, j), steps)   # (norm: |J|'s row sums)
        if jacobian is not None and d <= 128:    # (as _vide._coupled_scale: eigenvalues)
            jacobian.append(_forward_jacobian(steps, diagonal))
        if stiffness and not all(h * v <= STIFF for v in norm):   # (NaN: suspect)
            return True, n_rate, evaluations
        # (K(t1, t0, y0) and K(t1, t1, y0), the panels' first and last samples, where the
        # probes before them made them: the same floats, 2 evaluations fewer)
        first = last = None
        if stiffness:       # (and at the step's end, y0's: see LATE_STIFFNESS)
            n_rate += d + 1
            late, late_norm = _row_sums(lambda j: rate_at(t1, j), steps)
            if rate is None:
                last = late[0]
            if not all(h * v <= STIFF for v in late_norm):
                return True, n_rate, evaluations
        if kernel is None:
            return False, n_rate, evaluations
        if rate is None and t_dependent:
            # the second-order time scale: h times the change of dK/dy(t, t0, y0) from t = t0
            # to t1, h^2 |d^2 K / dt dy| at s = t, against STIFF^2 (d + 1 evaluations)
            turn = [0.0] * d
            ahead = [kernel(t1, t0, j) for j in range(d + 1)]
            first = ahead[0]
            evaluations += d + 1
            for j in range(d):
                for a in range(d):
                    turn[a] += abs((ahead[j + 1][a] - ahead[0][a]) -
                                   (diagonal[j + 1][a] - diagonal[0][a])) / steps[j]
            if not all(h * v <= STIFF * STIFF for v in turn):     # (NaN: suspect)
                # an oscillation of frequency sqrt|K_ty|: the check's refinement resolves it
                # (radau2 on 3 steps of cos 30 t kept y(2/3) 0.36 off: 16 times was too few)
                largest = h * max(turn)
                return (max(math.sqrt(largest) / RESOLVE, 1.0) if math.isfinite(largest)
                        else True), n_rate, evaluations
        # T_1, T_2, T_4 from 5 of the PANELS + 1 points; the others only where these fail
        quarter = PANELS // 4
        F = [first if i == 0 and first is not None else last if i == PANELS and
             last is not None else kernel(t1, t0 + i * h / PANELS if i < PANELS else t1, 0)
             for i in range(0, PANELS + 1, quarter)]
        evaluations += 5 - (first is not None) - (last is not None)
        T = [[h * _weighted_sum(w, F, a) for a in range(d)] for w in _PANEL_ROWS]
        # |T1 - T2| < 2 |T2 - T4| (not the rate of a resolved step) or |T1 - T4| > GROSS |T4|
        slow = [abs(T[0][a] - T[1][a]) < 2.0 * abs(T[1][a] - T[2][a]) or
                abs(T[0][a] - T[2][a]) > GROSS * abs(T[2][a]) for a in range(d)]
        if not any(slow):
            # the off-grid samples against the quartic through the five (aliasing)
            rt, at = _components(rtol, d), _components(atol, d)
            for c, weights in zip(OFF_GRID, _OFF_GRID_WEIGHTS):
                off = kernel(t1, t0 + c * h, 0)
                evaluations += 1
                for a in range(d):
                    miss = abs(off[a] - _weighted_sum(weights, F, a))
                    if not (miss <= ALIAS * max(abs(row[a]) for row in F) or
                            h * miss <= at[a] + rt[a] * _maximum(abs(y0[a]), abs(y1[a]))):
                        return True, n_rate, evaluations      # (NaN: suspect)
        if any(slow):
            full = np.empty((PANELS + 1, d))
            full[::quarter] = F
            for i in range(PANELS):
                if i % quarter:
                    full[i] = kernel(t1, t0 + i * h / PANELS, 0)
            evaluations += PANELS - 4
            T.append((h * (_PANEL_WEIGHTS[-1:] @ full))[0].tolist())
    except Exception as exc:  # noqa: BLE001 (the user's error: the guarded check says it)
        if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
            raise
        return True, n_rate, evaluations
    finally:
        failed = _user.take_failure() is not None
    if failed or not all(math.isfinite(v) for row in T for v in row):
        return True, n_rate, evaluations
    if not any(slow):
        return False, n_rate, evaluations
    rtol, atol = _components(rtol, d), _components(atol, d)
    # slow and not |T_1 - T_PANELS| <= atol + rtol max(|y0|, |y1|) (NaN: unresolved)
    return any(slow[a] and not abs(T[0][a] - T[-1][a]) <= atol[a] + rtol[a] * _maximum(
        abs(y0[a]), abs(y1[a])) for a in range(d)), n_rate, evaluations


def _probe_scalar(t0, t1, y0, y1, rtol, atol, kernel, stiffness=True, jacobian=None):
    """:func:`_probe` of a scalar solution (y0, y1: floats) with the kernel's own rate: the
    same evaluations in the same order and the same float operations, on floats instead of
    lists of one (the lists' loops and helpers were half of its ~18 us); ``jacobian`` as
    there."""
    h = t1 - t0
    # (fd_steps([y0])[0], without its generator and list: the same floor and product)
    step = 1.4901161193847656e-08 * max(_loops.size_floor.py_func(abs(y0)), abs(y0))
    t_dependent = not kernel.structure.get("t_independent", False)
    K = _evaluator(kernel, [[y0], [y0 + step]])
    evaluations, n_rate = 0, 2
    T = slow = None
    _user.clear_failures()
    try:
        base = K(t0, t0, 0)[0]
        diagonal = K(t0, t0, 1)[0]
        norm = 0.0 + abs(diagonal - base) / step
        if jacobian is not None:
            jacobian.append([[(diagonal - base) / step]])
        if stiffness and not h * norm <= STIFF:       # (NaN: suspect)
            return True, n_rate, evaluations
        # (K(t1, t0, y0) and K(t1, t1, y0), the panels' first and last samples, where the
        # probes before them made them: the same floats, 2 evaluations fewer)
        first = last = None
        if stiffness:       # (and at the step's end, y0's: see LATE_STIFFNESS)
            n_rate = 4
            shifted = K(t1, t1, 1)[0]
            last = K(t1, t1, 0)[0]
            if not h * abs(shifted - last) / step <= STIFF:
                return True, n_rate, evaluations
        if t_dependent:
            ahead0, ahead1 = K(t1, t0, 0)[0], K(t1, t0, 1)[0]
            first = ahead0
            evaluations += 2
            turn = 0.0 + abs((ahead1 - ahead0) - (diagonal - base)) / step
            if not h * turn <= STIFF * STIFF:         # (NaN: suspect)
                largest = h * turn
                return (max(math.sqrt(largest) / RESOLVE, 1.0) if math.isfinite(largest)
                        else True), n_rate, evaluations
        quarter = PANELS // 4
        F = [first if i == 0 and first is not None else last if i == PANELS and
             last is not None else K(t1, t0 + i * h / PANELS if i < PANELS else t1, 0)[0]
             for i in range(0, PANELS + 1, quarter)]
        evaluations += 5 - (first is not None) - (last is not None)
        T = []
        for w in _PANEL_ROWS:
            total = 0.0
            for wi, f in zip(w, F):
                total += wi * f
            T.append(h * total)
        slow = abs(T[0] - T[1]) < 2.0 * abs(T[1] - T[2]) or abs(T[0] - T[2]) > GROSS * abs(T[2])
        if not slow:
            rt, at = _components(rtol, 1)[0], _components(atol, 1)[0]
            largest_sample = max([abs(f) for f in F])
            for c, weights in zip(OFF_GRID, _OFF_GRID_WEIGHTS):
                off = K(t1, t0 + c * h, 0)[0]
                evaluations += 1
                total = 0.0
                for wi, f in zip(weights, F):
                    total += wi * f
                miss = abs(off - total)
                if not (miss <= ALIAS * largest_sample or
                        h * miss <= at + rt * _maximum(abs(y0), abs(y1))):
                    return True, n_rate, evaluations       # (NaN: suspect)
        else:
            full = np.empty((PANELS + 1, 1))
            full[::quarter, 0] = F
            for i in range(PANELS):
                if i % quarter:
                    full[i] = K(t1, t0 + i * h / PANELS, 0)
            evaluations += PANELS - 4
            T.append((h * (_PANEL_WEIGHTS[-1:] @ full))[0].tolist()[0])
    except Exception as exc:  # noqa: BLE001 (the user's error: the guarded check says it)
        if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
            raise
        return True, n_rate, evaluations
    finally:
        failed = _user.take_failure() is not None
    if failed or not all(math.isfinite(v) for v in T):
        return True, n_rate, evaluations
    if not slow:
        return False, n_rate, evaluations
    rtol, atol = _components(rtol, 1)[0], _components(atol, 1)[0]
    # slow and not |T_1 - T_PANELS| <= atol + rtol max(|y0|, |y1|) (NaN: unresolved)
    return not abs(T[0] - T[-1]) <= atol + rtol * _maximum(abs(y0), abs(y1)), n_rate, evaluations


def _weighted_sum(w, F, a):
    """sum_i w[i] F[i][a], summed as NumPy's matrix product of these sizes does (from 0, in
    order: the same float)."""
    total = 0.0
    for wi, row in zip(w, F):
        total += wi * row[a]
    return total


def _maximum(a, b):
    """``np.maximum`` of two floats (NaN if either is NaN)."""
    return a if a >= b or math.isnan(a) else b


def _largest(values):
    """``np.max`` of floats (NaN if any is NaN)."""
    m = max(values)
    return math.nan if any(map(math.isnan, values)) else m


def _components(v, d):
    """A tolerance (a float, or an array of one per component) as d floats."""
    # (the usual types at once: np.ndim of a list makes an array, ~1.5 us; the claims of
    # with_checked_estimate are a list of d floats)
    if type(v) is float:
        return [v] * d
    if type(v) is list and len(v) == d and all(type(x) is float for x in v):
        return list(v)
    if np.ndim(v) == 0:
        return [float(v)] * d
    return np.asarray(v, dtype=float).reshape(d).tolist()


def _kept(t, j, computed_start=False):
    """The sentence of a failure message saying which values are kept (those before t[j]; none
    when j is 1 and y(t0) comes from the first step)."""
    if computed_start and j == 1:
        return _NONE_KEPT
    return f"Only the values before t = {float(t[j]):.6g} are kept."


def singular_check_steps(sol, kernel):
    """0, or the number k of first steps of ``sol`` that the check of a weakly singular kernel
    K = (t - s)^(-alpha) k(t, s, y) must solve again.

    The probes of :func:`short_time_scale` do not apply (K(t, t, y) is infinite).  The
    linearised equation y = g - L int (t - s)^(-alpha) y ds has the time scale
    tau = ((1 - alpha) / L)^(1/(1 - alpha)) (L = ||dk/dy||_inf at (t0, t0, y0), by forward
    differences: d + 1 evaluations of k, counted in ``sol.stats["nfev"]``): a step of length h
    spans S(h) = L h^(1 - alpha) / (1 - alpha) of it, and the solution makes its transient
    where S(t - t0) is of order 1 (y = E_(1/2)(-lam sqrt(pi t)) for k = -lam y, alpha = 1/2).
    The coarser meshes of the estimate all miss a transient that their steps do not resolve
    alike: radau4 on graded meshes of 4 to 16 steps with lam = 100 to 1e4, estimates 12 to
    2200 times below the error.  The check covers the steps up to the first point where
    S(t - t0) reaches SETTLED (the transient is over there), at least FIRST_STEPS and at most
    SINGULAR_STEPS of them, and runs where one of these steps spans more than STIFF
    (a graded mesh's first steps can be short enough to resolve the transient by themselves).
    A k that raises or is not finite counts as a suspicion."""
    t, Y = sol.mesh, sol._y2
    n = len(t) - 1
    if n < 1:
        return 0
    alpha = float(kernel.structure["alpha"])
    t0, y0 = float(t[0]), Y[0].tolist()
    d = len(y0)
    steps = fd_steps(y0)
    rows = [y0] + [[v + steps[j] if i == j else v for i, v in enumerate(y0)] for j in range(d)]
    K = _evaluator(kernel, rows, kernel.structure["smooth"].function)
    _user.clear_failures()
    norm = np.full(d, np.nan)
    try:
        base = np.array(K(t0, t0, 0))
        norm = np.zeros(d)                   # the row sums of |dk/dy|
        for j in range(d):
            norm += np.abs(np.array(K(t0, t0, 1 + j)) - base) / steps[j]
    except Exception as exc:  # noqa: BLE001 (the user's error: the guarded check says it)
        if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
            raise
        norm = np.full(d, np.nan)
    finally:
        if _user.take_failure() is not None:
            norm = np.full(d, np.nan)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + d + 1
    L = float(np.max(norm))
    if not np.isfinite(L):
        return min(FIRST_STEPS, n)
    spans = L * (t[1:] - t0) ** (1.0 - alpha) / (1.0 - alpha)     # S(t_j - t0), j = 1 ... n
    k = min(FIRST_STEPS, n)
    while k < min(SINGULAR_STEPS, n) and spans[k - 1] < SETTLED:
        k += 1
    steps = L * np.diff(t[:k + 1]) ** (1.0 - alpha) / (1.0 - alpha)
    return k if np.any(steps > STIFF) else 0


#: The reference integral of :func:`singular_step_defect`: composite Gauss-Legendre of
#: DEFECT_POINTS points on 4, 8, ..., 2^DEFECT_LEVELS panels (in the coordinate w of
#: s = t_(j+1) - h w^(1/(1 - alpha))), until two successive sums agree within DEFECT_AGREE
#: times the larger of the defect and the tolerance.
DEFECT_POINTS, DEFECT_LEVELS, DEFECT_AGREE = 5, 8, 0.1
_DEFECT_NODES = [(float(x + 1.0) / 2.0, float(w) / 2.0)
                 for x, w in zip(*np.polynomial.legendre.leggauss(DEFECT_POINTS))]


def singular_step_defects(t, Y, kernel, rule, claims):
    """(defects, evaluations, unchecked): for each step [t_j, t_(j+1)] of the mesh ``t`` where
    the probe below finds the kernel's smooth factor not resolved, (j, delta), with delta
    (d floats) how far the product-integration rule of a weakly singular kernel
    K = (t - s)^(-alpha) k(t, s, y) misses the integral over the step,

        delta = | h^(1 - alpha) sum_i b_i k(t_(j+1), t_j + c_i h, y_j)
                  - int_(t_j)^(t_(j+1)) (t_(j+1) - s)^(-alpha) k(t_(j+1), s, y_j) ds |

    (``rule`` = (c, b): the method's points and weights b^(alpha), see
    :func:`._singular.local_weights`); ``evaluations`` of k in all.  (The stage equations'
    rules are not probed: on [t_j, t_j + c_i h] they read k at the later stage points too,
    where e^(-lam (t-s)) grows like e^(lam (s-t)), and their misses overstated the error by
    up to 1e290 times.)

    The iterated value y_(j+1) adds that integral to the history: its error holds the
    rule's error on the step, and every coarser mesh of the estimates misses a factor k that
    varies within the steps alike.  K = (t-s)^(-1/2) e^(-lam (t-s)) y with lam = 1e3: errors
    of 0.053 (the kernel's mass missed: e^(-lam (t-s)) vanishes at every stage point) came
    with estimates from 0 to 2e-3 on graded and uniform meshes of 4 to 256 steps.
    The probe (5 evaluations of k per step): with w the coordinate in which the singular
    factor is integrated out, s = t_(j+1) - h w^(1/(1 - alpha)), the integral is
    h^(1 - alpha) / (1 - alpha) int_0^1 k(t_(j+1), s(w), y_j) dw, and the trapezoid sums T_1,
    T_2, T_4 of it converge at their rate for a factor the step resolves, as in
    :func:`short_time_scale` (|T_1 - T_2| < 2 |T_2 - T_4| or |T_1 - T_4| > GROSS |T_4|: not
    resolved, where also |T_1 - T_4| > ``claims[j]``).  Only there is delta computed: the reference by composite Gauss-Legendre in w
    (DEFECT_POINTS points on 4, 8, ... up to 2^DEFECT_LEVELS panels, until two sums agree
    within DEFECT_AGREE times the larger of delta and ``claims[j]``, d floats), and m more
    evaluations for the rule.  A k that raises or is not finite (at points the solve never
    took: the probe's are inside the steps, with y_j) ends the probe there: the steps before
    it are checked, and ``unchecked`` says from where the rest are not (else None)."""
    alpha = float(kernel.structure["alpha"])
    power = 1.0 / (1.0 - alpha)
    K = _evaluator(kernel, Y.tolist(), kernel.structure["smooth"].function)
    d = Y.shape[1]
    nodes, weights = rule
    found, evaluations, stop, error = [], 0, None, None
    _user.clear_failures()
    try:
        for j in range(len(t) - 1):
            stop = j
            a, b = float(t[j]), float(t[j + 1])
            h = b - a
            scale = h ** (1.0 - alpha) / (1.0 - alpha)

            def F(w, a=a, b=b, h=h, j=j):
                return K(b, b - h * w ** power if w < 1.0 else a, j)
            values = [F(i / 4.0) for i in range(5)]
            evaluations += 5
            T = [[scale * _weighted_sum(w, values, c) for c in range(d)] for w in _PANEL_ROWS]
            if _user.failure_recorded() or not all(math.isfinite(v) for row in T for v in row):
                break
            # not the rate of a resolved factor, and T_1 off T_4 by more than the claim
            # (a constant factor's sums differ by rounding)
            if not any((abs(T[0][c] - T[1][c]) < 2.0 * abs(T[1][c] - T[2][c]) or
                        abs(T[0][c] - T[2][c]) > GROSS * abs(T[2][c])) and
                       abs(T[0][c] - T[2][c]) > claims[j][c] for c in range(d)):
                continue
            Q = np.zeros(d)
            for cl, wl in zip(nodes, weights):
                Q += wl * np.array(K(b, a + cl * h, j))
            Q *= h ** (1.0 - alpha)
            evaluations += len(nodes)
            integral, spent = _singular_integral(K, b, h, alpha, j, Q, claims[j], d)
            evaluations += spent
            delta = np.abs(Q - integral)
            if _user.failure_recorded() or not np.all(np.isfinite(delta)):
                break
            found.append((j, delta))
        else:
            stop = None
    except Exception as exc:  # noqa: BLE001 (the user's k raised at a probe point, which the
        if not _user.raised_by_user(exc):   # solve never took: the steps from there on are
            raise                           # left unchecked, and said so; anything else raised)
        error = exc
    finally:
        record = _user.take_failure()
    return found, evaluations, None if stop is None else _unprobed(
        t, stop, record, error, kernel.structure["smooth"])


def _unprobed(t, j, record, error, smooth=None):
    """The sentence of a solve whose steps from t_j on :func:`singular_step_defects` could not
    probe (``record``: the failure the kernel's compiled code recorded, ``error``: an
    exception raised there; neither: values that are not finite).  A record of an exception
    that compiled code caught is named by calling the user's k (``smooth``, its kernel) again
    in Python there, as the solve's own failures are (:func:`_user.raise_recorded_failure`);
    the record's guard names k's compiled kernel "K(t, s, y)": the sentence says k."""
    if error is None and record is not None and record.kind == _user.RAISED and \
            record.exception is None and smooth is not None:
        try:
            _user.raise_recorded_failure(record, smooth.args)
        except Exception as exc:  # noqa: BLE001 (the user's k, called again: named below)
            if not _user.raised_by_user(exc):
                raise
            return _unprobed_sentence(t, j, f"k(t, s, y) raised {type(exc).__name__} ({exc}) at "
                                            f"{_user.describe_failure(record)[1]}")
    if error is not None:
        what = f"{type(error).__name__} raised by k there ({error})"
    elif record is not None and record.kind != _user.NOT_FINITE:
        what = _user.failure_said(record, "k(t, s, y)")
    else:
        what = "k is not finite at a point there"
    return _unprobed_sentence(t, j, what)


def _unprobed_sentence(t, j, what):
    """The sentence of :func:`_unprobed`, ``what`` saying why."""
    return (f"The rule's miss of the kernel's integral over the steps (a smooth factor k that "
            f"varies within them, which the error estimate cannot see) was not checked from "
            f"t = {float(t[j]):.6g} on: {what}, inside a step, where the solve itself does not "
            f"take k.")


def _singular_integral(K, x, span, alpha, j, Q, claim, d):
    """(I, evaluations): int_(x - span)^x (x - s)^(-alpha) K(x, s, j) ds by composite
    Gauss-Legendre in w, s = x - span w^(1/(1 - alpha)), on 4, 8, ..., 2^DEFECT_LEVELS
    panels, until two sums agree within DEFECT_AGREE times the larger of |Q - I| and
    ``claim``."""
    power, scale = 1.0 / (1.0 - alpha), span ** (1.0 - alpha) / (1.0 - alpha)
    previous, evaluations = None, 0
    for level in range(2, DEFECT_LEVELS + 1):
        panels = 2 ** level
        total = np.zeros(d)
        for p in range(panels):
            for node, wq in _DEFECT_NODES:
                total += wq * np.array(K(x, x - span * ((p + node) / panels) ** power, j))
        evaluations += panels * DEFECT_POINTS
        integral = scale * total / panels
        if previous is not None and np.all(np.abs(integral - previous) <= DEFECT_AGREE * np.maximum(
                np.abs(Q - integral), claim)):
            break
        previous = integral
    return integral, evaluations


def _raise_to_defects(est, defects):
    """Every estimate (in place) from a step's end on at least that step's miss (a running
    maximum: the error a step makes stays in the history of the later values)."""
    floor = np.zeros_like(est)
    for j, delta in defects:
        floor[j + 1] = np.maximum(floor[j + 1], delta)
    np.maximum(est, np.maximum.accumulate(floor, axis=0), out=est)


def with_step_defect(sol, kernel, rule):
    """``sol``, a weakly singular solve on a given mesh, its estimates checked against the
    rule's misses of :func:`singular_step_defects` (the probe's evaluations counted in
    ``sol.stats["nfev"]``).  From the first step where the rule misses the integral by more
    than the estimate at its end (taken as at least ESTIMATE_FLOOR times the solution's
    size), every estimate is raised to at least the largest miss of a step before it
    (``stats["step_defect"]``: the largest ratio of miss to estimate); where it misses it by
    more than half of the solution's size so far, the solve fails at the step's end (the values before kept, as
    :func:`with_checked_estimate`)."""
    t, Y, est = sol.mesh, sol._y2, sol._est2
    if len(t) < 2 or not np.all(np.isfinite(est)):
        return sol
    running = np.maximum.accumulate(np.max(np.abs(Y), axis=1))
    claims = np.maximum(est[1:], ESTIMATE_FLOOR * running[1:, None])
    if not np.all(claims > 0):
        return sol
    found, evaluations, unchecked = singular_step_defects(t, Y, kernel, rule, claims)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + evaluations
    if unchecked is not None:
        sol.message += f"  {unchecked}"
    ratios = [(j, float(np.max(delta / claims[j])), float(np.max(delta))) for j, delta in found]
    over = [(j, r) for j, r, _ in ratios if r > 1.0]
    if over:
        first, ratio = over[0][0], max(r for _, r in over)
        sol.stats["step_defect"] = ratio
        _raise_to_defects(est, found)               # (in place: also error_estimate_mesh)
        sol.stats["max_error_estimate"] = largest_estimate(est)
        sol.message += (f"  The error estimates from t = {float(t[first + 1]):.6g} on were raised "
                        f"to the method's miss of the integral of the kernel over a step before, "
                        f"up to {ratio:.3g} times the estimate (the kernel's smooth factor varies "
                        f"within the steps); more steps give a sharper estimate.")
    for j, _, delta in ratios:
        if delta > UNRESOLVED * running[j + 1]:
            message = (f"The solution has no reliable digits from t = {float(t[j + 1]):.6g} on: "
                       f"the method's rule misses the integral of the kernel over the step "
                       f"[{float(t[j]):.6g}, {float(t[j + 1]):.6g}] by {delta:.3g}, against a "
                       f"solution of size {float(running[j + 1]):.3g} so far, although the error "
                       f"estimate (which compares coarser meshes) was "
                       f"{float(np.max(est[j + 1])):.3g}: the kernel's smooth factor varies on a "
                       f"time scale shorter than the step.  {_kept(t, j + 1)}  Use more steps, or "
                       f"solve to a tolerance (rtol, atol), which finds the steps.")
            if not sol.success:
                message += f"  (Further on: {sol.message})"
            return _failed_at(sol, j + 1, message)
    return sol


def unresolved_start(sol, check, refine_tries, computed_start=False):
    """The failed :class:`Solution` of a solve to a tolerance whose first steps
    :func:`first_steps_check` did not confirm, after ``refine_tries`` solves started on
    finer meshes: only the values before the point it names are kept."""
    ratio, j, raised = check.ratio, check.j, check.raised_by
    t_fail = float(sol.mesh[j])
    differs = f"{ratio:.3g} times atol + rtol |y|" if check.lost is None else \
        f"{check.lost[0]:.3g}, more than half the solution's size so far ({check.lost[1]:.3g}),"
    if raised is not None:
        # (the ratio is of the estimates raised by the finer solve's factor, not a difference)
        message = (f"The tolerance could not be met: the error estimates miss the error of the "
                   f"first steps: a solve of the first steps with {REFINE} times shorter steps "
                   f"differs from the answer by {raised:.3g} times its error estimate there, "
                   f"and the estimates raised by that factor exceed atol + rtol |y| by "
                   f"{ratio:.3g} (at t = {t_fail:.6g}; also after {refine_tries} solve(s) "
                   f"started on finer meshes).  The problem may have a time scale shorter than "
                   f"these steps (a fast-decaying kernel, a stiff transient), or the estimates "
                   f"are not yet asymptotic there: give n_steps or a mesh that resolves it, or "
                   f"another method.  {_kept(sol.mesh, j, computed_start)}")
    else:
        message = (f"The tolerance could not be met: the steps do not resolve the solution "
                   f"near t = {float(sol.mesh[0]):.6g}: a solve of the first steps with "
                   f"{REFINE} times shorter steps differs from the answer by {differs} (at t = "
                   f"{t_fail:.6g}), although the error estimates, which compare coarser meshes, "
                   f"met the tolerance (also after {refine_tries} solve(s) started on finer "
                   f"meshes).  The problem has a time scale shorter than these steps (a "
                   f"fast-decaying kernel, a stiff transient): give n_steps or a mesh that "
                   f"resolves it.  {_kept(sol.mesh, j, computed_start)}")
    return _failed_at(sol, 0 if computed_start and j == 1 else j, message,
                      resolution_check=ratio)


def _finer_step_suspect(sol, finer, kernel, rate, tolerance):
    """Whether the probes of :func:`short_time_scale` but the stiffness one suspect the first
    step of the finer solve ``finer`` of :func:`_finer_start` (with ``tolerance`` as atol):
    the kernel's variation within it, or its second-order time scale (an A-stable method
    damps a stiff transient right on steps that do not resolve it; a kernel that varies
    within the step is missed alike by every mesh that does not resolve it).  Its
    evaluations are counted in ``sol.stats["nfev"]``."""
    if kernel is None:
        return False
    t0 = float(sol.mesh[0])
    step = (np.array([t0, t0 + (float(sol.mesh[1]) - t0) / finer[1]]),
            np.array([sol._y2[0], np.asarray(finer[2], dtype=float).reshape(-1)]))
    return bool(short_time_scale(sol, 0.0, tolerance.tolist(), kernel, rate, step=step,
                                 stiffness=False))


def _no_digits(sol, j, finer, differs, scales, computed_start, advice=_MORE_STEPS):
    """The failed :class:`Solution` of ``sol`` without a reliable digit from its mesh point j
    on, where a solve of its first steps on ``finer`` differs from it by ``differs``."""
    return _unreliable_from(sol, j, f"a solve of the first steps with {finer[1]} times shorter "
                            f"steps differs from it by {differs}: the steps are long against a "
                            f"time scale of the problem ({scales}, a stiff transient)",
                            computed_start, advice)


def _unreliable_from(sol, j, why, computed_start, advice=_MORE_STEPS):
    """``sol`` failed with no reliable digit from its mesh point j on, because ``why``
    (``advice``: the message's last sentence, before the failure ``sol`` had already)."""
    message = (f"The solution has no reliable digits from t = {float(sol.mesh[j]):.6g} on: "
               f"{why}.  {_kept(sol.mesh, j, computed_start)}  {advice}")
    if not sol.success:
        message += f"  (Further on: {sol.message})"
    return _failed_at(sol, 0 if computed_start and j == 1 else j, message)


def with_confirmed_digits(sol, computed_start=False):
    """``sol``, a solve on a given mesh with its final error estimate, failed from the first
    point where that estimate exceeds UNRESOLVED (half) times the solution's size so far: an
    answer whose own estimate says it has no reliable digit is no success (cos 30 t as
    y = 1 - 900 int (t - s) y ds on [0, 2]: radau3 on 64 steps was a success with an
    estimate of 920, raised so far by the shifted companions, whose steps keep no digit (now
    their steps bisected agree with it: the estimate 0.015 for errors up to 0.011, see
    ``_estimate._nearer_branch``); radau4 on 3 steps, w = 10 on 6, with 0.47-0.55 for errors
    of 0.3-1).  The companions' check applies the same bound to
    their differences (:data:`._estimate.UNRESOLVED`), and a check of the first steps to the
    estimates it raises (:func:`with_checked_estimate`); this one covers the estimates as they
    end, after every raise.  ``computed_start``: as for :func:`with_checked_estimate`."""
    if len(sol.mesh) < 2:
        return sol
    Y, est = sol._y2, sol._est2
    if Y.shape[1] == 1 and Y.shape[0] <= FEW:
        # (a scalar solution of a few values on floats, ~1 us a NumPy call: the same running
        # maximum, NaN propagating, and comparisons)
        sizes = [abs(v) for v in Y[:, 0].tolist()]
        sizes[0] = _maximum(sizes[0], sizes[1])      # (the first step's size: see the else)
        running = list(itertools.accumulate(sizes, _maximum))
        over = [e > UNRESOLVED * r for e, r in zip(est[:, 0].tolist(), running)]
        if True not in over:
            return sol
        j = max(1, over.index(True))
    else:
        worst = np.max(est, axis=1)
        if none_over_size(worst, Y, UNRESOLVED):   # (without the running maximum)
            return sol
        running = running_size(Y)     # (the size at t0 is the first step's)
        with np.errstate(invalid="ignore"):
            over = worst > UNRESOLVED * running   # (NaN: no estimate, no claim)
        if not np.any(over):
            return sol
        j = max(1, int(np.argmax(over)))
    return _unreliable_from(sol, j, f"its error estimate there, {float(np.max(est[j])):.3g}, "
                            f"exceeds half the solution's size so far ({float(running[j]):.3g})",
                            computed_start)


def _failed_at(sol, j, message, **stats):
    """``sol`` failed at its mesh point j with ``message`` (``stats["failure"] ==
    "unresolved"`` and ``stats``): only the values before j are kept."""
    est = sol._est2[:j]
    info = dict(sol.stats, failure="unresolved", **stats)
    info["max_error_estimate"] = largest_estimate(est)
    return Solution(sol.mesh[:j], sol._y2[:j], scalar=sol.scalar, status=FAILED, message=message,
                    stats=info, method=sol.method, order=sol.order,
                    t_failure=float(sol.mesh[j]), error_estimate=est)


def _growth(sol):
    """h g for the first step h of ``sol``, with g the largest real part of the eigenvalues of
    the Jacobian of the rate (dK/dy at s = t, or a VIDE's df/dy) at (t0, y0) that the stiffness
    probe of :func:`short_time_scale` found (``sol._rate_jacobian``): the e-folds a step of the
    linearised problem's fastest growth; 0.0 where the probe found none or it is not finite."""
    J = getattr(sol, "_rate_jacobian", None)
    if not J or not all(math.isfinite(v) for row in J for v in row):
        return 0.0
    g = J[0][0] if len(J) == 1 else float(np.max(np.linalg.eigvals(np.array(J)).real))
    return float(sol.mesh[1] - sol.mesh[0]) * g


#: A finer solve's difference from the answer above this times the solution's size so far is
#: no rounding of the two (:func:`_with_checked_difference`).
CHECKED_NOISE = 64.0 * EPS


def _with_checked_difference(sol, D, running):
    """``sol`` whose first-steps check (:func:`with_checked_estimate`) found differences ``D``
    (k, d) from the finer solve within the claims (the estimates, at least ESTIMATE_FLOOR
    times the solution's size ``running`` so far): the estimates of those k points raised to
    D where it is over CHECKED_NOISE times that size (the finer solve's errors are 16^p times
    smaller: D is their error).  Below ESTIMATE_FLOOR the claim hid it: y = 1 - 1000 int y
    on [0, 1e12], radau3 on 64 steps, y1 = R(-1000 h) = 1.9e-13 (exact 0) for an estimate of
    3.1e-15, the companions' R(-500 h)^2 near 0 alike."""
    k = len(D)
    est = sol._est2
    over = D > np.maximum(est[1:k + 1], CHECKED_NOISE * running[:, None])
    if not np.any(over):
        return sol
    np.copyto(est[1:k + 1], D, where=over)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    return sol


def _unchecked_growth(sol, growth, m, what, computed_start, advice):
    """``sol`` failed from its first step (``stats["failure"] == "unresolved"``): its first
    step spans ``growth`` e-folds of a growing mode of the linearised problem, and the solve of
    the first steps with ``m`` times shorter steps ``what`` ("did not finish", "does not
    resolve it either"), so nothing confirms the answer."""
    return _unchecked(sol, f"it grows, {growth:.3g} e-folds a step at the start (h times the "
                      f"largest real part of the eigenvalues of the linearised rate, dK/dy at "
                      f"s = t or a VIDE's df/dy), and implicit steps that do not resolve a growth "
                      f"keep the values bounded on every mesh alike, which the error estimate "
                      f"(coarser meshes) cannot see; a solve of the first steps with {m} times "
                      f"shorter steps {what}.", computed_start, advice)


def _unchecked(sol, why, computed_start, advice):
    """``sol`` failed from its first step (``stats["failure"] == "unresolved"``): its first
    steps cannot be checked, for the reason ``why`` (a sentence)."""
    message = (f"The solution is not checked from t = {float(sol.mesh[1]):.6g} on: {why}  "
               f"{_kept(sol.mesh, 1, computed_start)}  {advice}")
    if not sol.success:
        message += f"  (Further on: {sol.message})"
    return _failed_at(sol, 0 if computed_start else 1, message)


def _suspects(sol, rtol, atol, kernel, rate, suspect):
    """Whether the first step of ``sol`` must be checked: ``suspect(sol, rtol, atol)`` (a
    solver's own probe) or else :func:`short_time_scale`."""
    return short_time_scale(sol, rtol, atol, kernel, rate) if suspect is None else \
        suspect(sol, rtol, atol)


def with_checked_estimate(sol, run, *, uniform_only, min_steps, kernel=None, rate=None,
                          suspect=None, computed_start=False, grading=None, rule=None,
                          advice=_MORE_STEPS):
    """``sol``, a solve on a given mesh (``n_steps`` or ``mesh``) with its error estimate, the
    estimate checked at the first steps where :func:`short_time_scale` suspects them.

    The estimate compares coarser meshes, which all miss a time scale shorter than the steps
    alike: y = 1 + int (t-s) e^(-(t-s)) y ds on [0, 100] on 8 trapezoid steps was a success with
    y(100) = 1.0006 (exact 50.75) and an estimate of 2e-4; radau3, gauss2 and rk4 on 4 to 16
    steps alike.  The probes (3 d + 8 evaluations) take the estimate of the first steps (at
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
      (y = 1 - 1000 int y on 8 radau3 steps: the estimate 3.5e-4 becomes 0.021, the error);
      where an estimate so raised exceeds half the solution's size so far, the solution fails
      there as above (y = 1 + int cos(200 (t - s)) y ds on 4-32 trapezoid steps was a success
      with errors of 1.43 and estimates, so raised, of 2.9-59).

    A failed solve's values before the failure are checked alike.
    ``stats["resolution_check"]`` is that ratio whenever the check ran, and
    ``sol._first_steps_difference`` the answer less the finer solve (k, d) at the checked
    points 1, ..., k (a VIDE fits to it the modes whose error its stability function
    predicts for the later steps).  ``suspect``: a
    solver's own probe instead of :func:`short_time_scale` (see :func:`_suspects`), which
    may return, instead of True, the refinement that resolves an oscillation of the
    linearised problem (h |Im lambda| / RESOLVE): the finer solve then takes that many
    times shorter steps (at least REFINE; at 16 times, Radau methods damp an oscillation of
    w = 300 on a step of 1 to nothing in the finer solve as in the answer, and the two
    agree), and where that needs more than CHECK_STEPS steps the solve fails there
    unchecked (``stats["failure"] == "unresolved"``);
    ``computed_start``: y(t0) comes from the first step (a first-kind equation), so it is not
    kept where that step is not resolved.

    A weakly singular kernel (``grading``: the exponent of its graded meshes) is probed by
    :func:`singular_check_steps`, which also says how many first steps the check solves again
    (with steps divided in the graded coordinate, see :func:`_finer_start`); with ``rule``
    (the method's points and product-integration weights) its longest step is probed first
    by :func:`with_step_defect`.  ``advice``: the last sentence of the messages of the failures
    found here, before the message of a failed ``sol`` (a solve to a tolerance whose failure is
    checked, :func:`with_resolved_start`, gives its own)."""
    if len(sol.mesh) < 2:
        return sol
    singular = kernel is not None and kernel.structure.get("kind") == "weakly-singular"
    if singular and rule is not None:
        checked = with_step_defect(sol, kernel, rule)
        if checked is not sol:
            return checked                       # (failed where the rule misses the kernel)
    Y, est = sol._y2, sol._est2
    k = singular_check_steps(sol, kernel) if singular else min(FIRST_STEPS, len(sol.mesh) - 1)
    if k == 0:
        return sol                               # (no suspicion)
    # (on the first rows as floats: each NumPy call on them costs ~1 us, as much as the probe's
    # kernel evaluations)
    first = est[1:k + 1].tolist()
    if not all(math.isfinite(v) for row in first for v in row):
        return sol                               # (no estimate there to check)
    size = _largest([abs(v) for row in Y[:k + 1].tolist() for v in row])
    claim = [_maximum(max(column), ESTIMATE_FLOOR * size) for column in zip(*first)]
    if not all(c > 0 for c in claim):
        return sol                               # (an identically zero start)
    sol._rate_jacobian = None
    suspicion = singular or _suspects(sol, 0.0, claim, kernel, rate, suspect)
    if not suspicion:
        return sol
    refine = REFINE if suspicion is True else max(REFINE, math.ceil(suspicion))
    if refine * k > CHECK_STEPS:
        return _unchecked(sol, f"the steps are long against an oscillation of the linearised "
                          f"problem, which the error estimate (coarser meshes) cannot see, and a "
                          f"solve of the first steps that resolves it would take {refine * k} "
                          f"steps, more than {CHECK_STEPS}.", computed_start, advice)
    claim = np.array(claim)
    # e-folds of the linearised problem's growth in the answer's first step (0: it decays)
    growth = 0.0 if singular else _growth(sol)
    finer = _finer_start(run, sol, uniform_only, min_steps, k, grading if singular else None,
                         refine)
    if finer is None:
        return _unchecked_growth(sol, growth, refine, "did not finish", computed_start, advice) \
            if growth > STIFF * refine else sol
    D = np.abs(Y[1:k + 1] - finer[0])
    ratio = float(np.max(D / claim))
    running = np.maximum.accumulate(np.max(np.abs(Y[:k + 1]), axis=1))[1:]
    lost = np.max(D, axis=1) > UNRESOLVED * running
    # the finer solve's steps do not resolve a growth either: the answer's A-stable steps keep
    # its values bounded, and so do the finer's (radau3 on y = 1 + int y over [0, 300] in one
    # step was a success with y(300) = -0.011 and the estimate 0.011, the 16 finer steps
    # damping the growth as the answer does; gauss2 over [0, 1e20] kept y = 1)
    grows = growth > STIFF * finer[1]
    if not np.any(lost) and k * refine * REFINE <= CHECK_STEPS and not singular and \
            (grows or ratio > 1.0 and _finer_step_suspect(sol, finer, kernel, rate, claim * ratio)):
        # the estimates are to be raised to the finer solve's difference, which is their error
        # only where its own steps resolve the time scale: where the probe suspects its first
        # step too, a solve with REFINE times shorter steps again, and the larger difference
        # from the two (the renewal equation (t - s) e^-(t - s) on [0, 100], one step:
        # y(100) = 1.0 for 50.75, the 16 steps of 6.25 differed by 0.082, and the answer was a
        # success with that estimate; the 256 steps of 0.39 give 50.7).  (Not for a weakly
        # singular kernel: its sums never converge at the probe's rate; it has its own probe.)
        finest = _finer_start(run, sol, uniform_only, min_steps, k,
                              grading if singular else None, refine * REFINE)
        if finest is not None:
            D = np.maximum(D, np.abs(Y[1:k + 1] - finest[0]))
            ratio = float(np.max(D / claim))
            lost = np.max(D, axis=1) > UNRESOLVED * running
            finer = finest
        elif grows:
            return _unchecked_growth(sol, growth, refine * REFINE, "did not finish",
                                     computed_start, advice)
    sol.stats["resolution_check"] = ratio
    sol._first_steps_difference = Y[1:k + 1] - finer[0]     # (signed: see the docstring)
    if np.any(lost):
        j = 1 + int(np.argmax(lost))
        # the values kept before j: at least the finer solve's difference (errors 16^p times
        # smaller: the difference is their error; cos 30 t on 3 radau2 steps kept y(2/3) with an
        # error of 0.36, 26 times the companion's estimate)
        est[1:j] = np.maximum(est[1:j], D[:j - 1])
        return _no_digits(sol, j, finer, f"{float(np.max(D[j - 1])):.3g} there, against a "
                          f"solution of size {float(running[j - 1]):.3g} so far, although the "
                          f"error estimate (which compares coarser meshes) was "
                          f"{float(np.max(est[j])):.3g}", "a fast-decaying kernel", computed_start,
                          advice)
    if grows and growth > STIFF * finer[1]:
        return _unchecked_growth(sol, growth, finer[1], "does not resolve it either",
                                 computed_start, advice)
    if not ratio > 1.0:
        return _with_checked_difference(sol, D, running)
    # (in place: also error_estimate_mesh.)  An estimate below the claims' floor is raised from
    # the floor, as the ratio was measured against it: y = 1 + int e^(-5 (t - s)) y ds on 16
    # gauss2 steps over [0, 1000] kept y = 1 (exact 1.25) with estimates of exactly 0 (32
    # steps: 5.7e-16), which the ratio 1.1e12 left at 0 (6.3e-4)
    # (the nested meshes' own estimates, which the data check measures the data against: see
    # _adaptive.with_rough_data)
    sol._nested_estimate = est.copy()
    np.maximum(est[1:], ESTIMATE_FLOOR * size, out=est[1:])
    est[1:] *= ratio
    sol.stats["max_error_estimate"] = largest_estimate(est)
    # an estimate so raised that it exceeds half the solution's size: no reliable digit there
    over = np.max(est, axis=1) > UNRESOLVED * np.maximum.accumulate(np.max(np.abs(Y), axis=1))
    if np.any(over):
        j = max(1, int(np.argmax(over)))
        return _no_digits(sol, j, finer, f"{ratio:.3g} times the error estimate (which compares "
                          f"coarser meshes), and the estimate so raised is "
                          f"{float(np.max(est[j])):.3g} there, more than half the solution's "
                          f"size", "a fast-decaying or oscillating kernel", computed_start,
                          advice)
    sol.message += (f"  The error estimates were multiplied by {ratio:.3g}: a solve of the first "
                    f"steps with {finer[1]} times shorter steps differs from the answer by that "
                    f"many times the estimate (the steps are long against a time scale of the "
                    f"problem); more steps give a sharper estimate.")
    return sol


#: The direct rules' stability functions by name (:func:`stability_function`; made once).
_DIRECT_STABILITY = {"trapezoid": lambda z: (1.0 + 0.5 * z) / (1.0 - 0.5 * z),
                     "implicit-rectangle": lambda z: 1.0 / (1.0 - z),
                     "rectangle": lambda z: 1.0 + z}
#: :func:`_kept_at_infinity` of the direct rules, by name (made on first use).
_DIRECT_KEPT = {}


def stability_function(method):
    """R(z) of ``method`` on y' = lam y (y_(n+1) = R(h lam) y_n), a callable on complex arrays,
    or None where it has none that one step sets (the Gregory rules' start and end weights):
    a Volterra Runge-Kutta method's from its tableau; the trapezoid rule's (1 + z/2) /
    (1 - z/2), the implicit rectangle rule's 1 / (1 - z), the (explicit) rectangle rule's
    1 + z."""
    tableau = getattr(method, "tableau", None)
    if getattr(method, "family", None) == "vrk" and tableau is not None:
        return tableau.stability
    return _DIRECT_STABILITY.get(getattr(method, "name", None))


def _kept_at_infinity(method, R):
    """|R(-_HUGE_Z)| of ``method``'s stability function ``R`` (:func:`stability_function`,
    not None), made once per tableau (read-only: kept with it, as its R's polynomials are) or
    direct rule (R by its name): ~6 us a solve less."""
    tableau = getattr(method, "tableau", None)
    if getattr(method, "family", None) == "vrk" and tableau is not None:
        store, key = tableau.__dict__, "_kept_at_infinity"
    else:
        store, key = _DIRECT_KEPT, method.name
    kept = store.get(key)
    if kept is None:
        kept = store[key] = abs(complex(_stability_at(R, -_HUGE_Z)))
    return kept


def _stability_at(R, z):
    """R at the complex array ``z``, |z| capped at _HUGE_Z (R's limit there)."""
    z = np.asarray(z, dtype=complex)
    size = np.abs(z)
    if z.ndim == 0 and not size > _HUGE_Z:     # (a scalar within the cap, as it is: ~2 us less)
        return np.asarray(R(z), dtype=complex)
    z = np.where(size > _HUGE_Z, z / np.maximum(size, 1.0) * _HUGE_Z, z)
    return np.asarray(R(z), dtype=complex)


def _fastest_decay(sol, kernel):
    """The eigenvalue lam of the Jacobian of the rate at (t0, y0) with Re lam < 0 and the
    largest |lam| (``sol._rate_jacobian`` where the stiffness probe made it, else by forward
    differences of K(t0, t0, y) when ``kernel`` is given: d + 1 evaluations, counted in
    ``sol.stats["nfev"]``); None where there is none or it is not finite."""
    J = getattr(sol, "_rate_jacobian", None)
    if J and len(J) == 1 and len(J[0]) == 1:
        # (d = 1, a list of rows of floats: its one eigenvalue as a float, ~6 us less)
        lam = float(J[0][0])
        return complex(lam) if math.isfinite(lam) and lam < 0.0 else None
    if J:
        J = np.array(J, dtype=float)
        if not np.all(np.isfinite(J)):
            return None
        eig = np.linalg.eigvals(J)
    elif kernel is not None:
        eig, calls = _jacobian_eigenvalues(kernel, float(sol.mesh[0]), sol._y2[0])
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + calls
        if eig is None:
            return None
        eig = np.asarray(eig, dtype=complex)
    else:
        return None
    eig = eig[eig.real < 0.0]
    return complex(eig[int(np.argmax(np.abs(eig)))]) if eig.size else None


def with_kept_transient(sol, run, method, kernel=None, *, tolerance=None,
                        computed_start=False):
    """``sol`` (a success: on a given mesh, or to a tolerance) with its estimates raised to the
    part of a stiff transient at t0 that its steps keep where they do not resolve it, the
    method A- but not L-stable (the Gauss methods, the trapezoid rule: |R(-inf)| = 1).

    Such steps keep the transient instead of damping it, |R(h lam)| near 1 for the
    exp(h lam) near 0 of the equation, and so do the steps of every mesh that the estimate
    and the check of the first steps compare (N, N/2, REFINE times shorter first steps):
    their differences are the small departures of R from its limit, the rounding level for
    a long enough step.  y = 1 - int y on [0, 1e16], gauss2 on 4 steps: y(T) = 0.99999999999998
    for exp(-1e16) = 0, a success with an estimate of 3.5e-12 (at rtol = 1e-6 an estimate of
    7e-15; gauss4, y = 1 - 1e6 int y on [0, 1e6] at rtol = 1e-3: y = 1 for 0, estimate 1e-6).

    Looked for where lam, the eigenvalue of the rate's Jacobian at (t0, y0) with Re lam < 0 and
    the largest |lam| (:func:`_fastest_decay`), gives |R(h lam)| >= KEPT on the first step h
    and on its REFINE-th (``method``'s R, :func:`stability_function`; not for a method without
    one), with Re(h lam) / REFINE < -STIFF.  The transient's size A is then measured by a
    solve of LAYER_STEPS steps of LAYER_STEP / |lam| from t0 (``run(mesh)``, counted in
    ``stats["nfev"]``), 2 y(tau) - y(2 tau) - y0 (tau half its span: the slow solution's
    change, linear over the span, cancels; a y0 on the slow manifold, the Prothero-Robinson
    kind, has A ~ 0 and is left as it is), and the estimate at each mesh point t_n raised to
    A |prod R(h_k lam) - exp(lam (t_n - t0))|.  On a given mesh (``tolerance`` None) a raise
    over half the solution's size fails the solve there ("unresolved"); to a tolerance, the
    caller's refinement compares the raised estimates with it
    (:func:`refined_to_tolerance`).  ``computed_start``: as for :func:`with_checked_estimate`.
    """
    R = stability_function(method)
    if R is None or not sol.success or len(sol.mesh) < 2:
        return sol
    t = sol.mesh
    # (cheap screens first: a method that damps stiff modes never needs the probe)
    if _kept_at_infinity(method, R) < KEPT:
        return sol
    lam = _fastest_decay(sol, kernel)
    if lam is None or not -lam.real * (t[1] - t[0]) / REFINE > STIFF:   # (h[0])
        return sol
    h = np.diff(t)
    if not (abs(complex(_stability_at(R, h[0] * lam))) >= KEPT and
            abs(complex(_stability_at(R, h[0] * lam / REFINE))) >= KEPT):
        return sol
    step = LAYER_STEP / abs(lam)
    layer = t[0] + step * np.arange(LAYER_STEPS + 1)
    if not (np.all(np.diff(layer) > 0) and layer[-1] < t[1]):
        return sol
    r = run(layer)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + int(r.counts[0])
    Y, est = sol._y2, sol._est2
    if r.status != 0 or not np.all(np.isfinite(r.Y)):
        return sol       # (nothing measured: the checks before stand)
    half = LAYER_STEPS // 2
    size = float(np.max(np.abs(2.0 * r.Y[half] - r.Y[-1] - r.Y[0])))
    kept = np.abs(np.cumprod(_stability_at(R, h * lam)) - np.exp(lam * (t[1:] - t[0])))
    bound = size * kept
    if not np.any(bound[:, None] > est[1:]):
        return sol
    np.maximum(est[1:], bound[:, None], out=est[1:])
    sol.stats["max_error_estimate"] = largest_estimate(est)
    why = (f"the first step spans {-lam.real * h[0]:.3g} e-folds of a decaying mode of the "
           f"linearised problem, which the {sol.method} steps (|R(h lambda)| = "
           f"{abs(complex(_stability_at(R, h[0] * lam))):.3g}, not L-stable) keep instead of "
           f"damping, on every mesh that the error estimate compares alike; a solve that "
           f"resolves the start shows a transient of size {size:.3g}, of which the steps keep "
           f"up to {float(np.max(bound)):.3g}")
    if tolerance is None:
        running = running_size(Y)
        over = np.max(est, axis=1) > UNRESOLVED * running
        if np.any(over):
            return _unreliable_from(sol, max(1, int(np.argmax(over))), why, computed_start,
                                    _KEPT_ADVICE)
    sol.message += f"  The error estimates were raised: {why}.  {_KEPT_ADVICE}"
    return sol


def with_resolved_start(solve, run, rtol, atol, *, uniform_only, min_steps, adaptive, n_max,
                        kernel=None, rate=None, suspect=None, computed_start=False,
                        grading=None, check_failures=False, by_ratio=False):
    """``solve(None)``, the solve to a tolerance, with its first steps checked
    (:func:`first_steps_check`) when :func:`short_time_scale` (with ``rate`` and ``kernel``)
    suspects them: where they are not confirmed, ``solve(finer)`` starts over, checked again:
    with a first step REFINE times shorter (``adaptive``: ``finer`` is that step, from which
    the step control finds its own), or on the steps that the check's ratio (the first steps'
    error over the tolerance) asks for at the estimate's order, 2 to REFINE times as many
    (uniform refinement: ``finer`` is that N, at most ``n_max``), REFINE times where the last
    start over did not lower the ratio (not yet at the order: a stiff start).  Once the first
    steps are REFINE^2 times shorter than the first solve's (two restarts of REFINE), or at
    ``n_max``, the answer is :func:`unresolved_start`.  A weakly singular kernel's solve
    starts over alike, on 2 to REFINE_SINGULAR times the steps.  ``suspect`` and
    ``computed_start`` as for :func:`with_checked_estimate` (and the check asks for digits:
    ``digits`` of :func:`first_steps_check`).  A weakly singular kernel
    (``grading``: the exponent of its graded meshes) is probed by :func:`singular_check_steps`
    instead, which also gives the number of steps to check.  Where ``suspect`` returns a
    refinement (an oscillation of frequency omega, see :func:`with_checked_estimate`), every
    check takes steps of RESOLVE / omega (at least REFINE and at most CHECK_STEPS // steps
    times shorter than the answer's): radau2 and radau3 at rtol = 1e-3 on y = cos(300 t) as
    a VIDE were successes on 8 steps with errors of 1, the 16 times finer check damping the
    oscillation as the answer does.

    ``by_ratio`` (:func:`solve_vide`): uniform refinement starts over on the steps the ratio asks
    for, as above; without it on REFINE times the steps (the first kind and the direct rules,
    whose scans with the ratio were not run).

    ``check_failures`` (the first kind): a failed solve, also one started over, has the values
    it keeps checked as a fixed mesh's are (:func:`with_checked_estimate`, where ``suspect``
    suspects its first step): the estimates of the kept values compare coarser meshes too,
    and miss a time scale shorter than the steps alike."""
    def failed(sol):
        """A failed ``sol`` with the values it keeps checked (``check_failures``)."""
        if not check_failures:
            return sol
        return with_checked_estimate(
            sol, run, uniform_only=uniform_only, min_steps=min_steps, kernel=kernel, rate=rate,
            suspect=suspect, computed_start=computed_start, advice=_UNRESOLVED_ADVICE)

    sol = solve(None)
    singular = kernel is not None and kernel.structure.get("kind") == "weakly-singular"
    if not sol.success:
        return failed(sol)
    if singular:
        steps = singular_check_steps(sol, kernel)
        if steps == 0:
            return sol
    else:
        suspicion = _suspects(sol, rtol, atol, kernel, rate, suspect)
        if not suspicion:
            return sol
        steps = FIRST_STEPS
        # an oscillation's frequency (radians per unit time), where the probe gave one
        omega = 0.0 if suspicion is True else suspicion * RESOLVE / float(sol.mesh[1] - sol.mesh[0])
    tries, spent = 0, 0      # spent: the kernel evaluations of the attempts started over
    refined = 1.0            # the first steps so far over those of the first solve
    last = math.inf          # the check's ratio before the last start over
    while True:
        if not sol.success:          # (a solve started over failed)
            sol.stats["nfev"] += spent
            return failed(sol)
        refine = REFINE if singular else min(max(REFINE, math.ceil(
            omega * float(sol.mesh[1] - sol.mesh[0]) / RESOLVE)), CHECK_STEPS // steps)
        check = first_steps_check(run, sol, rtol, atol, uniform_only, min_steps, steps,
                                  grading if singular else None, refine, computed_start)
        sol.stats["nfev"] += spent
        if check is None:
            return sol
        n = len(sol.mesh) - 1
        if refined >= REFINE ** 2 or (not adaptive and n >= n_max):
            return unresolved_start(sol, check, tries, computed_start)
        tries += 1
        spent = sol.stats["nfev"]
        if adaptive:
            # a first step REFINE times shorter, from which the step control finds its own (one
            # sized by the ratio, 2 times shorter, took radau4 on y = 1 - 1000 int y at 1e-3
            # through 3 solves instead of 2, 4.7 times the evaluations)
            refined *= REFINE
            sol = solve(check.h)
            continue
        # the steps the check's ratio asks for at the estimate's order, 2 to REFINE (weakly
        # singular: REFINE_SINGULAR) times as many; as far as REFINE^2 times in all, as two
        # restarts of REFINE.  (REFINE times always: radau2, lam = 1e4, rtol 1e-3, weakly
        # singular, went from 8 steps to 128, 160, 468; gauss3 and radau3 on the VIDE
        # y' = -1e3 y - 0.2 int y at rtol = atol = 1e-3 from 294 and 348 steps to 4704 and 5568,
        # errors 2.6e-7 and 7e-6 times the tolerance)
        order = sol.stats.get("estimate_order", float("nan"))
        order = order if math.isfinite(order) and order > 0 else sol.order
        factor = min(max(SAFETY * check.ratio ** (1.0 / order), 2.0),
                     REFINE_SINGULAR if singular else REFINE)
        if not singular and (not by_ratio or not check.ratio < last or check.lost is not None):
            # REFINE times where the steps started over did not lower the ratio: not yet at
            # the order (a stiff start whose error grows as the steps shorten, radau4 with
            # lam = 1e6 at 1e-6: 32, 64, 136 times the tolerance on 8, 16 and 34 steps), or
            # where the finer solve leaves no digit (``digits``: the ratio does not say how far)
            factor = REFINE
        last = check.ratio
        new = min(int(math.ceil(n * factor / 2.0)) * 2, n_max)
        refined *= new / n
        sol = solve(new)
        if singular and sol.success:     # (the probe again: the new mesh's steps)
            steps = singular_check_steps(sol, kernel)
            if steps == 0:
                sol.stats["nfev"] += spent
                return sol


#: The claim of a success's message that :func:`failed_to_tolerance` restates: the estimates
#: it kept were raised above the tolerance after the refinement accepted them.
_MET, _MET_BEFORE = ("the estimated error meets atol + rtol |y| at every mesh point",
                     "the refinement's error estimate met atol + rtol |y| at every mesh point "
                     "before the checks raised it")


def failed_to_tolerance(sol, why):
    """``sol``, a solve to a tolerance whose estimates exceed it, as a failure ("tolerance")
    that keeps its values and estimates; ``why``: the sentence that says so (the success's
    claim that the tolerance is met is restated as the refinement's, before the raise)."""
    info = dict(sol.stats, failure="tolerance")
    return Solution(sol.mesh, sol._y2, scalar=sol.scalar, status=FAILED,
                    message=f"The tolerance could not be met: {why}  "
                            f"{sol.message.replace(_MET, _MET_BEFORE)}", stats=info,
                    method=sol.method, order=sol.order, t_failure=float(sol.mesh[-1]),
                    error_estimate=sol._est2)


#: :func:`refined_to_tolerance`: the solves started over on more steps at most.
RAISED_TRIES = 3


def refined_to_tolerance(solve_from, tolerance, order, n_max, why, tries=None, refine=True):
    """``solve_from(None)``, a solve to the tolerance (rtol, atol) = ``tolerance`` with the
    checks that raise its estimates after its refinement accepted them (the data's, the first
    steps', a VIDE's carried misses); where the raised estimates exceed the tolerance,
    ``solve_from(N)`` starts over on at least the N steps that their ratio to it asks for
    (:func:`_predict`) at the ``order``, or at the order at which the ratio fell from the last
    start over where that is lower (at least 1: a raise to the change of a jump's step falls
    like the step), checked again, at most ``tries`` times; where the last one's still exceed
    it (or N is ``n_max``, or not ``refine``: the steps of a step control, which an N does not
    restart), the answer is a failure ("tolerance") that keeps its values and estimates,
    ``why`` (after "at N = ...") saying what raised them.  A success so returned has its
    estimate within the tolerance at every mesh point and component.

    The refinement compares each attempt's estimate with the tolerance before these checks:
    trapezoid on y = sin 20t, K = 1e-3 y, at rtol = atol = 1e-6 was a success on 64 steps whose
    estimates the data check had raised to 1.07 times the tolerance, and its message said that
    the tolerance was met at every mesh point.  The evaluations of every solve are counted in
    ``stats["nfev"]``."""
    rtol, atol = tolerance
    tries = RAISED_TRIES if tries is None else tries
    sol, spent, tried, last = solve_from(None), 0, 0, None
    while True:
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + spent
        if not sol.success:
            return sol
        ratio = float(np.max(over_tolerance(sol._est2, tolerance_of(sol._y2, rtol, atol))))
        if not ratio > 1.0:
            return sol
        n = len(sol.mesh) - 1
        if not refine or n >= n_max or tried >= tries:
            break
        q = order
        if last is not None and n > last[0]:     # (the order the ratio fell at, 1 where not)
            fell = math.log(last[1] / ratio) / math.log(n / last[0]) if ratio < last[1] else 1.0
            q = min(order, max(1.0, fell))
        spent, tried, last = sol.stats["nfev"], tried + 1, (n, ratio)
        sol = solve_from(_predict(n, ratio, q, n_max))
    return failed_to_tolerance(sol, f"the estimated error is {ratio:.3g} times atol + rtol |y| "
                                    f"at N = {n} {why}")


def _finer_steps(sol, tolerance):
    """The uniform steps on which :func:`rounded_to_tolerance` solves again where the floor
    over the tolerance is the diagonal's growth, kept on steps too long for the memory's
    (``sol._finer_floor`` = (n, G), G the memory's e-folds at the mesh's points, set by
    ``_outcome._memory_bounds_diagonal``): n, where the floor with G, grown by sqrt(n / N),
    meets the tolerance at every point (else None: no mesh of n steps or more can); n
    rounded up to a multiple of 8, whose halvings the companions nest (22 steps, 11 and 5,
    took the trapezoid rule on to 282)."""
    hint = getattr(sol, "_finer_floor", None)
    if hint is None:
        return None
    from ._estimate import rounding_floor
    n, G = -(-hint[0] // 8) * 8, hint[1]
    N = len(sol.mesh) - 1
    if not n > N or len(G) != N + 1 or not np.all(np.isfinite(G)):
        return None
    floor = rounding_floor(sol._y2, None, None, None, G) * math.sqrt(n / N)
    within = tolerance_of(sol._y2, *tolerance)
    return n if np.all(floor[1:] <= within[1:]) else None


#: :func:`rounded_to_tolerance` probes the rate and the coupling between the mesh's points
#: (``_outcome.LEAST_PROBES``) where a growth of this many e-folds, unseen at them, would
#: take the rounding floor over the tolerance (a rate or coupling acting between the points
#: of a mesh of a few steps, on the increments lost: 10 e-folds gave errors 1.4 to 2.7 times
#: rtol = atol = 1e-12).
UNSEEN_GROWTH = 20.0


def rounded_to_tolerance(sol, tolerance, probe=None, refine=None):
    """``sol``, a solve to the tolerance (rtol, atol) = ``tolerance`` (``solve_vide``, or
    ``solve_volterra`` of the second kind: uniform, graded or adaptive steps), with its
    estimates raised to the rounding error its values can carry
    (:func:`._outcome.with_rounding_floor`, as on a given mesh); where that exceeds the
    tolerance, a failure ("tolerance").

    Increments below half an ulp of y are lost alike by the solve and its companion, whose
    values then agree bit for bit: a Richardson or embedded estimate of 0 where the error is
    what they lost (y' = 0.1 b'(t), b a Gaussian bump of width 0.08 at 0.5, radau1 at
    rtol = atol = 1e-6: 299252 steps, every value up to t = 0.079 exactly 1, the estimate 0
    at 24327 points for errors up to 1.3e-13; sqrt(N) eps |y| = 1.2e-13 there;
    y = 1e5 + int 2e-11 ds on [0, 1] at atol = 1e-10: trapezoid and gregory4 on 8 steps,
    gauss2 and radau3 on 4, the estimate 0 at every point for errors up to 7.5e-12).
    ``probe``: the Jacobians of the coupling later on, as ``with_rounding_floor``'s.

    ``refine(n)``, optional: the same solve on at least n uniform steps (with its checks).
    Where the floor over the tolerance is the diagonal's growth, kept on steps too long for
    the memory's (``_outcome._memory_bounds_diagonal``, ``_outcome.STEP_FOLDS``), and the
    memory's floor on the n steps that need would meet the tolerance, the answer is that
    solve's, floored (no further refinement) and within the tolerance at every point, else
    the failure: k = 2 e^(-u), y = 1e5 + 2e-11 t + int k (y - 1e5) ds on [0, 10] to
    rtol = atol = 1e-8 stopped on 4 to 8 steps, h dK/dy = 2.5 to 5, where the diagonal's floor
    e^(2 t) was 11 times the tolerance, the memory's e^t 1e-3 times (errors up to 1e-2 of
    it).  (The coarse mesh's own estimates are not trusted with the memory's floor: gregory4
    at 1e-10 on 8 steps had an error 10.6 times its estimate, 1.18 times the tolerance.)"""
    if not sol.success:
        return sol
    before = sol._est2.copy()
    rtol, atol = tolerance
    # (the probes between the mesh's points only where a growth of UNSEEN_GROWTH e-folds that
    # the mesh's points miss takes the floor over the tolerance: 64 more kernel evaluations
    # of a scalar y, which took a 4-step rk4 solve of y' = -y^2 at rtol = 1e-3 from 126 to 190)
    size = np.maximum.accumulate(np.abs(sol._y2), axis=0)
    tight = np.any(tolerance_of(sol._y2, rtol, atol) < math.exp(UNSEEN_GROWTH) * math.sqrt(
        max(len(sol.mesh) - 1, 1)) * EPS * size)
    sol = with_rounding_floor(sol, probe, least=LEAST_PROBES if tight else 0,
                              loose=not tight)
    raised = sol._est2 > before           # (the floor's entries: not an estimate accepted
    if not np.any(raised):                # above the tolerance before it, which is no rounding)
        return sol
    over = over_tolerance(sol._est2, tolerance_of(sol._y2, rtol, atol))
    ratio = float(np.max(over[raised]))
    if not ratio > 1.0:
        return sol
    finer = _finer_steps(sol, tolerance) if refine is not None else None
    if finer is not None:
        again = refine(finer)
        again.stats["nfev"] = again.stats.get("nfev", 0) + sol.stats.get("nfev", 0)
        if again.success:
            again = rounded_to_tolerance(again, tolerance, probe)
        if again.success and not np.any(over_tolerance(
                again._est2, tolerance_of(again._y2, rtol, atol)) > 1.0):
            return again
        sol.stats["nfev"] = again.stats["nfev"]
    return failed_to_tolerance(sol, f"the rounding error that the values on N = "
                                    f"{len(sol.mesh) - 1} steps can carry, sqrt(N) eps |y| "
                                    f"(and that of the components feeding it), is "
                                    f"{ratio:.3g} times atol + rtol |y|; use a looser "
                                    f"tolerance.")
