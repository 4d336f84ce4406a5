"""From a compiled loop's (status, index) to what the user is told: shared by the front functions.

:func:`run_guarded` runs a solve with the user-code failure record cleared before and read
after (an exception in the user's function is raised to the user; a wrong output shape is a
ValueError), and :func:`describe` turns a failed status into the message, with the point where
a kernel returned a non-finite value when that is what happened.  :func:`unresolved_message` says what a failed companion
check means.
"""
from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np

from ..kernels import _user
from . import _loops
from ._estimate import FEW as _FEW
from ._estimate import _EPS, _maximum
from ._estimate import (LEAD_IN, PAIR_FACTOR_MIN, RATE_FACTOR, UNRESOLVED, WORST_PAIR_MAX,
                        estimate_error, none_over_size, running_size, running_size_few,
                        hiding_pair_steps, hiding_steps, local_refined_check, pair_factor,
                        pair_hides_error, refined_mesh, rounding_floor, trim_lead_in,
                        with_pair_factor, worst_pair_factor)
from ._interrupt import THREAD_WORK, run_interruptibly
from ._solution import Solution, largest_estimate

__all__ = ["run_guarded", "describe", "unresolved_message", "Run", "solve_on_mesh", "FAILED",
           "SUCCEEDED", "companion", "companion_drops_odd_end", "checks_odd_end",
           "with_rounding_floor", "with_settled_levels", "with_measured_between"]

SUCCEEDED, FAILED = 0, -1

_NEWTON = ("Newton's method did not converge at t = {t:.6g} (after {it} iterations in all); the "
           "solution may blow up there, the step may be too large for the implicit equation, or "
           "K is not smooth in y or not computed to double precision there.")
#: Added to a Newton failure with a Jacobian the user gave (also Fredholm's): a wrong one is a
#: common cause.
_CHECK_JACOBIAN = (" The Jacobian given with jacobian= was used: a wrong Jacobian also stops "
                   "Newton's method (check it against finite differences, or leave it out).")
_NOT_FINITE = "The solution became non-finite (inf/nan) at t = {t:.6g}: it blows up."
#: Added to a kernel's non-finite value at s > t (see :func:`_user.beyond_diagonal`), by the
#: kernel's form: the second kind's (and a VIDE's) K(t, s, y), the first kind's K(t, s).
_BEYOND_DIAGONAL = (" That point has s > t: this method evaluates K beyond the diagonal (at the "
                    "stages of a step, or in the starting block of a Gregory rule), so K must be "
                    "finite there too; {} evaluate K at s <= t only.")
_AT_OR_BELOW = {"tsy": "trapezoid, rectangle and rk4 (an integro-differential equation: rk4)",
                "ts": "radau1, midpoint and implicit-rectangle"}
_BLOW_UP_SIZE = 1e100


def run_guarded(solve, args=(), work=None):
    """``solve()`` with the failure record of user code cleared before and checked after, and
    stoppable by Ctrl-C (:mod:`._interrupt`; ``work``: estimated kernel evaluations).

    Returns (result, record): the record of a non-finite value (or None).  Exceptions raised
    by the user's functions inside compiled code are raised here, as the user's own exception.
    """
    if work is not None and work < THREAD_WORK:   # short: inline (run_interruptibly would)
        result, record = _guarded(solve)
    else:
        result, record = run_interruptibly(lambda: _guarded(solve), work)
    _user.raise_recorded_failure(record, args)
    return result, record


def _guarded(solve):
    _user.clear_failures()   # the record is per thread: clear and read it in the solving one
    try:
        return solve(), _user.take_failure()
    except BaseException:
        _user.take_failure()
        raise


def describe(status, t_fail, iterations, record, messages=None):
    """(message, failure kind) of a failed loop status (``messages``: status -> (template with
    ``{t}``, kind), for loops with their own codes)."""
    if record is not None and record.kind == _user.NOT_FINITE:
        what, where = _user.describe_failure(record)
        y = record.y
        if np.all(np.isfinite(y)) and (not y.size or np.max(np.abs(y)) < _BLOW_UP_SIZE):
            what = what[0].upper() + what[1:] if what.startswith("the ") else what
            form = _user.beyond_diagonal(record)
            beyond = _BEYOND_DIAGONAL.format(_AT_OR_BELOW[form]) if form else ""
            return (f"{what} returned a non-finite value (inf/nan) at {where}; the solve stopped "
                    f"at t = {t_fail:.6g}.{beyond}", "kernel-non-finite")
    if messages and status in messages:
        template, kind = messages[status]
        return template.format(t=t_fail), kind
    if status == _loops.NEWTON_FAILED:
        return _NEWTON.format(t=t_fail, it=iterations), "newton"
    return _NOT_FINITE.format(t=t_fail), "non-finite"


def unresolved_message(companion, t, what="solution", computed_start=False):
    """The message for a solution without reliable digits from ``companion.first_bad`` on
    (``computed_start``: y(t0) comes from the first step, and goes with it: see
    :func:`solve_on_mesh`)."""
    tb = float(t[companion.first_bad])
    # the first value not kept: the values are kept up to the last point the check shares
    # ahead of first_bad (radau4 on cos 10 t, 6 steps: no digit from t = 4/3, y(t0) alone kept)
    tk = float(t[companion.keep]) if 0 <= companion.keep < companion.first_bad else tb
    if computed_start and companion.keep < 2:
        return _without_start(unresolved_message(companion, t, what), tk)
    if companion.reason == "unchecked":
        return (f"The {what} could not be checked from t = {tb:.6g} on (a companion solve used "
                f"for the error estimate, on a coarser or finer mesh, failed there: the solution "
                f"may blow up near there, or those steps are too large for the method); only the "
                f"values before are kept. Use more steps (or, with an explicit method or a "
                f"Gregory rule, an A-stable collocation method: radau2-4, gauss2-4).")
    if not companion.converging:
        return (f"The {what} has no reliable digits from t = {tb:.6g} on: the solutions on "
                f"nested meshes do not converge there (their differences grow as the steps "
                f"shrink: {companion.disagreement:.3g} between the two finest, against a "
                f"solution of size {companion.size:.3g} so far); the solution may blow up near "
                f"there, or the steps do not resolve it (a time scale of the problem shorter "
                f"than the steps).  Only the values before t = {tk:.6g} "
                f"are kept.  Use more steps.")
    if companion.by_pairs:
        return (f"The {what} has no reliable digits from t = {tb:.6g} on: its error estimate "
                f"there, {companion.disagreement:.3g} against a solution of size "
                f"{companion.size:.3g} so far, is the difference from the solve on every other "
                f"mesh point times {companion.pair_factor:.3g}: the mesh's neighbouring steps "
                f"differ, so that solve's steps all but repeat the long ones.  Only the values "
                f"before t = {tk:.6g} are kept.  Use more steps, or a mesh whose neighbouring "
                f"steps are about equal.")
    cause = ("the solution blows up near there, or the method is unstable at this step size "
             "(stiffness, the weak stability of high-order Gregory rules, or Pouzet/collocation "
             "instability on long intervals), or the steps do not resolve the solution")
    return (f"The {what} has no reliable digits from t = {tb:.6g} on: the solve with "
            f"{'half' if companion.source.startswith('half') else 'twice'} the steps differs from it "
            f"by {companion.disagreement:.3g} there, against a solution of size "
            f"{companion.size:.3g} so far: {cause}. Only the values before t = {tk:.6g} are kept. "
            f"Use more steps, or an A-stable collocation method (radau2-4, gauss2-4).")


def _without_start(message, tb):
    """``message`` with its sentence on the values kept saying that none is (y(t0) comes from
    the first step, which is not confirmed)."""
    kept = f"Only the values before t = {tb:.6g} are kept."
    return (message.replace(kept, _NONE_KEPT) if kept in message else
            f"{message} {_NONE_KEPT}")


_NONE_KEPT = "No value is kept (y(t0) comes from the first step)."


def without_lone_start(keep, message):
    """(keep, message) of a failed solve whose y(t0) comes from its first step (a first-kind
    equation): where y(t0) would be kept alone, it is not confirmed, so no value is kept, and
    the message says so."""
    if 0 < keep < 2:
        return 0, message if _NONE_KEPT in message else f"{message} {_NONE_KEPT}"
    return keep, message


@dataclass
class Run:
    """One solve on one mesh: values Y (N+1, d), loop ``status`` and ``index`` (where it
    failed), ``keep`` (how many leading values are valid), work ``counts``, ``stages`` (or
    None) and the user-code failure ``record`` (or None)."""

    Y: np.ndarray
    status: int
    index: int
    keep: int
    counts: np.ndarray
    stages: object = None
    record: object = None


def companion(run):
    """``run(mesh) -> Run`` as the companion solves of :mod:`._estimate` take it:
    ``mesh -> (Y, status, keep, nfev)``."""
    def solve(mesh):
        r = run(mesh)
        return r.Y, r.status, r.keep, int(r.counts[0])
    return solve


def companion_drops_odd_end(method):
    """The ``uniform_only`` argument of :func:`._estimate.estimate_error` for ``method``: True
    (leave the last point of an odd number of steps out of the half-steps companion) for
    methods that need a uniform mesh and for those whose last step alone makes the last value
    (``companion_shares_odd_end = False``: the first kind)."""
    return bool(method.uniform_only or not getattr(method, "companion_shares_odd_end", True))


def checks_odd_end(method):
    """The ``odd_end`` argument of :func:`._estimate.estimate_error` for ``method``: whether
    the last value of an odd number of steps gets an estimate of its own (the second kind;
    the first kind's last value is made by its own step alone, ``companion_shares_odd_end =
    False``, and takes its neighbour's estimate)."""
    return bool(getattr(method, "companion_shares_odd_end", True))


def estimate_kept(run, t, Y, keep, method, converging=True, uniform=False):
    """The companion estimate (:func:`._estimate.estimate_error`) of the values ``Y[:keep]`` of a
    solve on the mesh ``t`` with ``method``, as a fixed mesh's are estimated (a failure of a
    companion solve leaves the values from there unchecked).  ``uniform``: ``t`` is a uniform
    mesh, whose pair factor is 1 (:func:`._estimate.pair_factor`, ~13 us, not computed).  A
    mesh with a pair of neighbouring steps far from two halves
    (:func:`._estimate.worst_pair_factor`) is compared with the solve on every step bisected
    (about 4 times the work of an O(N^2) solve, where the half-steps companion takes a
    quarter): the half-steps companion would all but repeat that pair's long step.  So is a
    confirmed solution whose half-steps companion's differences show a pair hiding an error
    (:func:`._estimate.pair_hides_error`: above ``HIDDEN_PAIR`` times its largest estimate):
    at a stiff start a moderately unequal pair can hide what a uniform error constant would
    not.  The first kind too (its ``odd_points`` option: the odd points' companion merges
    pairs of steps as well): radau2 on y = 10 cos 10 t (K = 1) on 13 geometric steps over
    [0, 3] was a success with an error of 16 for an estimate of 0.51, pair factor 2.5.  Its
    value at a point made by its own step, the first kind bisects only the steps of the
    pairs that hide their error (:func:`._estimate.hiding_steps`,
    :func:`._estimate.local_refined_check`; a solve on N + k steps) beside the half-steps
    estimate and the pair factor of the other pairs: the refined companion with its third
    level cost some 20 times the solve (a first step of 1e-9 on 32 steps, radau3: 97,785
    evaluations for a solve of 4,752; now 13,041)."""
    options = getattr(method, "estimate_options", {})
    # (weakly singular, ``least_order``: graded, another model)
    paired = not (uniform or method.uniform_only or "least_order" in options)
    refined = paired and worst_pair_factor(t[:keep], method.order) >= WORST_PAIR_MAX

    def estimate(refined):
        return estimate_error(companion(run), t[:keep], Y[:keep], method.order,
                              companion_drops_odd_end(method), method.min_steps,
                              odd_end=checks_odd_end(method), uncheck_on_failure=True,
                              converging=converging, refined=refined, **options)

    # (the first kind, whose values are each made by their own step: only the hiding pairs'
    # steps bisected, see _estimate.local_refined_check)
    local = refined and "odd_points" in options
    result = estimate(refined and not local)
    if not paired or (refined and not local):   # (the refined companion halves every step)
        return result
    hiding = hiding_steps(t[:keep], method.order) if local else None
    factor = pair_factor(t[:keep], method.order, hiding)
    if factor >= PAIR_FACTOR_MIN:
        result = with_pair_factor(result, Y[:keep], factor)
    if local:
        result.nfev += local_refined_check(companion(run), t[:keep], Y[:keep], method.order,
                                           result, hiding)
        result.source += " (the hiding pairs' steps bisected)"
        return result
    if result.first_bad is None and result.source == "half-steps" and \
            pair_hides_error(t[:keep], Y[:keep], result):
        if "odd_points" in options:     # (the first kind: those pairs' steps bisected)
            result.nfev += local_refined_check(companion(run), t[:keep], Y[:keep], method.order,
                                               result, hiding_pair_steps(t[:keep], Y[:keep],
                                                                         result))
            result.source += " (the hiding pairs' steps bisected)"
            return result
        spent = result.nfev
        result = estimate(True)
        result.nfev += spent
    return result


def solve_on_mesh(run, t, *, method, scalar, stats, error_estimate=True, t_eval=None,
                  what="solution", messages=None, work=None, converging=True,
                  computed_start=False, uniform=False):
    """Solve with ``run(mesh) -> Run`` on the mesh ``t``, estimate the error with a companion
    solve, and return the :class:`Solution` of the values that are confirmed.

    ``method`` provides ``name``, ``order``, ``uniform_only`` and ``min_steps``; ``stats(counts)``
    makes the stats dict from a run's counters (``nfev`` first).  ``work``, the estimated
    kernel evaluations of the solve on ``t`` (``_mesh.estimated_work``): when it is large, the
    solve and its companions run in one worker thread (:func:`run_interruptibly`; the runs
    inside it then run inline) instead of one thread each: every hand-over between threads
    waits for the scheduler, milliseconds on a loaded machine.  ``converging``: check that
    the solutions on nested meshes converge (:func:`._estimate.estimate_error`).
    ``computed_start``: y(t0) comes from the first step (a first-kind equation), so it is
    compared like the other values (the check can fail from t0) and is not kept alone: where
    the first step is not confirmed, no value is.  ``uniform``: ``t`` is uniform (see
    :func:`estimate_kept`).
    """
    if work is not None and work >= THREAD_WORK:
        return run_interruptibly(lambda: solve_on_mesh(
            run, t, method=method, scalar=scalar, stats=stats, error_estimate=error_estimate,
            t_eval=t_eval, what=what, messages=messages, converging=converging,
            computed_start=computed_start, uniform=uniform), work)
    start = time.perf_counter()
    first = run(t)
    info = stats(first.counts)
    info["failure"] = None
    t_failure = None
    Y, keep, stages = first.Y, first.keep, first.stages
    if first.status == _loops.SUCCESS:
        message = ("The solver reached the end of the interval." if error_estimate else
                   "The solver reached the end of the interval (error_estimate=False: the values "
                   "were not checked, and an unstable or unresolved solve is not detected).")
    else:
        t_failure = float(t[first.index])
        message, info["failure"] = describe(first.status, t_failure,
                                            info.get("newton_iterations", 0), first.record, messages)
        if info["failure"] == "newton" and "user" in (info.get("jacobian"),
                                                      info.get("kernel_jacobian")):
            message += _CHECK_JACOBIAN
    estimate, small, unsettled = None, False, False
    info["error_estimate"] = "not requested" if not error_estimate else "none"
    largest = math.nan
    if error_estimate and keep >= 2:
        comp = estimate_kept(run, t, Y, keep, method, converging, uniform)
        small, unsettled = comp.small, comp.unsettled
        info.update(comp.stats())
        info["nfev"] += comp.nfev
        if keep == Y.shape[0]:
            estimate = comp.estimate            # (the companion's own array: no copy)
        else:
            estimate = np.full(Y.shape, np.nan)
            estimate[:keep] = comp.estimate
        if comp.first_bad is not None:
            if t_failure is None or comp.first_bad < first.index:
                message = unresolved_message(comp, t, what, computed_start) + (
                    "" if t_failure is None else f"  (Further on: {message})")
                info["failure"] = comp.reason
                t_failure = float(t[comp.first_bad])
            keep = min(keep, comp.keep)
        if t_failure is not None:
            comp.keep = keep
            lead_in = trim_lead_in(comp)
            if lead_in is not None:
                keep = comp.keep
                message += (f" The values from t = {float(t[lead_in]):.6g} on are not kept "
                            f"either: there the companion solve differs from the {what} by more "
                            f"than {LEAD_IN:g} of its size (the approach to the failure, where "
                            f"the error estimate does not hold).")
        if computed_start:
            keep, message = without_lone_start(keep, message)
        largest = largest_estimate(estimate[:keep])
    if estimate is None:
        estimate = np.empty(Y.shape)
        estimate.fill(np.nan)
    info["seconds"] = time.perf_counter() - start
    info["max_error_estimate"] = largest
    sol = Solution(t[:keep], Y[:keep], scalar=scalar,
                   status=SUCCEEDED if t_failure is None else FAILED, message=message,
                   stats=info, method=method.name, order=method.order, t_failure=t_failure,
                   stages=stages if t_failure is None else None, error_estimate=estimate[:keep],
                   t_eval=t_eval)
    # (a mesh too small for the rate of every fourth point to judge the order: see
    # Companion.small and _adaptive.with_rough_data)
    sol._small_mesh = small
    # (and whose levels converge slower than the order p: see with_settled_levels)
    sol._unsettled = unsettled
    sol._companion_estimate = estimate[:keep].copy()
    return sol


def with_rounding_floor(sol, probe=None, least=0, loose=False):
    """``sol``, a solve on a given mesh (``solve_vide``, or ``solve_volterra`` of the second
    kind with ``n_steps`` or ``mesh``), with its estimates after y(t0) (given, exact) raised
    to the rounding error its values can carry (:func:`._estimate.rounding_floor`): a
    Richardson difference at the rounding level is no estimate of it (``solve_volterra`` of
    y = 1e5 - int y, gauss4 on 64 steps: an error of 1.5e-11, 0.4 eps |y(t0)|, for an
    estimate of 5.7e-14).  A system's floor carries the rounding of the components that feed
    each one, by the Jacobian the stiffness probe found (``sol._rate_jacobian``, where it ran)
    at t0 and, with ``probe``, at the mesh's middle and last points too, the largest |J_ij|
    of each half of the mesh (:func:`_carried_jacobian`); where the memory's growth replaces
    the diagonal's (:func:`_with_memory_growth`), at most the rounding carried by the
    growing mode's Perron vector (the coupling is in that growth already).

    Parameters
    ----------
    sol : Solution
        The solve, its estimates in place (NaN, no estimate, is left as it is).
    probe : callable, optional
        ``probe(t, y, y0) -> (J or None, kernel evaluations)``: the Jacobian of the same kind
        as ``sol._rate_jacobian`` at (t, y) (y0: y(t0), for the differences' steps), or of a
        VIDE's 2d x 2d kind where that one is d x d; its evaluations are counted in
        ``stats["nfev"]``.
    least : int, optional
        Probe at this many points at least (:func:`_probed_points`; a solve to a tolerance).
    loose : bool, optional
        A solve to a tolerance that no unseen growth could fail
        (:func:`._tolerance.rounded_to_tolerance`): probed at LOOSE_PROBES points, a scalar
        only where its rate at t0 grows.

    Returns
    -------
    Solution
        ``sol``, its estimates raised in place (``stats["max_error_estimate"]`` too).
    """
    est, Y = sol._est2, sol._y2
    if len(Y) < 2 or est is None or len(est) != len(Y):
        return sol
    J, halves, rates = getattr(sol, "_rate_jacobian", None), None, [[], []]
    scalar = Y.shape[1] == 1
    if J and probe is not None and not scalar and len(Y) > 2:
        J, halves = _carried_jacobian(sol, J, probe, rates, least, loose)
    elif J and probe is not None and len(Y) > 2:
        rates = _scalar_rates(sol, J, probe, least, loose)
    growth = _growth(sol.mesh, len(Y) - 1, *rates) if rates[0] else None
    weights = []
    if J and probe is not None and len(Y) > 2 and not loose:
        growth = _with_memory_growth(sol, probe, growth, rates[1], weights)
    if scalar and len(Y) <= _FEW and growth is None:
        # (a scalar solution of a few values on floats, ~1 us a NumPy call: the same running
        # maximum, NaN propagating, products and comparisons; where an estimate is below its
        # floor, NumPy's below; not where the rate grows over the span (after the probes of
        # a rate growing at t0), whose floor grows more)
        scale = math.sqrt(len(Y) - 1) * _EPS
        sizes = itertools.accumulate(map(abs, Y[:, 0].tolist()), _maximum)
        next(sizes)
        if not any(e < scale * r for e, r in zip(est[1:, 0].tolist(), sizes)):
            return sol
    if scalar and len(Y) <= _FEW and growth is not None and _below_grown_bound(Y, est, growth):
        return sol
    floor = rounding_floor(Y, sol.mesh if J is not None or growth is not None else None, J,
                           halves, growth, weights[0] if weights else None)[1:]
    if not np.any(est[1:] < floor):           # (NaN, no estimate: left as it is)
        return sol
    np.fmax(est[1:], floor, out=est[1:], where=~np.isnan(est[1:]))   # (in place: the mesh's)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    return sol


#: :func:`_below_grown_bound`'s margin over the rounding of the logarithms and exponentials
#: of :func:`._estimate.rounding_floor` (a few ulp of exponents below ~1500: ~1e-12).
_GROWN_MARGIN = 1.0 + 1e-9
#: ... taken where G is at most this (e^G finite)
_MAX_EXP = 700.0


def _below_grown_bound(Y, est, growth):
    """Whether no estimate of a scalar solution ``Y`` (N+1, 1) of a few values, ``est`` (N+1,
    1), after y(t0) can be below the floor that :func:`._estimate.rounding_floor` makes with
    the growth G ``growth`` (N+1,; the e-folds from t0, :func:`_growth`): that floor is
    sqrt(N) eps max(s_n, e^(G_n + max_(l <= n) (ln|y_l| - G_l))), at most sqrt(N) eps s_n
    e^(G_n) where every G_l >= 0 (s_n = max_(l <= n) |y_l|), which each estimate meets here
    (times _GROWN_MARGIN), on floats (the floor's NumPy calls on a few values cost ~10 us).
    False where a value or G is not finite (the floor's fmax then drops a NaN size), G is
    negative or over _MAX_EXP (math.exp would overflow), or an estimate is below the bound:
    the floor is made then (NaN estimates are left by both)."""
    scale = math.sqrt(len(Y) - 1) * _EPS * _GROWN_MARGIN
    values, estimates = Y[:, 0].tolist(), est[:, 0].tolist()
    grown = growth.tolist() if hasattr(growth, "tolist") else list(growth)
    if len(grown) != len(values):
        return False
    size = 0.0
    for n, (y, e, g) in enumerate(zip(values, estimates, grown)):
        if not (math.isfinite(y) and 0.0 <= g <= _MAX_EXP):
            return False
        size = max(size, abs(y))
        if n and e < scale * size * math.exp(g):
            return False
    return True


def _growth_rate(J, d):
    """The largest real part of the eigenvalues of the upper left d x d block of ``J`` (rows
    of lists; df/dy of a VIDE's 2d x 2d one), the linearised problem's fastest growth (a
    bound on it where that is not positive); None where J is not finite or d > 128."""
    if J is None or d > 128 or len(J) < d:
        return None
    if d == 1:      # (dK/dy itself, at once)
        v = J[0][0] if len(J[0]) else math.nan
        return float(v) if math.isfinite(v) else None
    block = [list(row[:d]) for row in J[:d]]
    if not all(len(row) == d and all(map(math.isfinite, row)) for row in block):
        return None
    if d == 1:
        return float(block[0][0])
    # (Gershgorin's bound first: the largest J_ii + sum_(j != i) |J_ij|, on floats, where it
    # is not positive; a pair's eigenvalues in closed form; a NumPy eigenvalue call costs
    # ~15 us)
    bound = max(row[i] + sum(abs(v) for j, v in enumerate(row) if j != i)
                for i, row in enumerate(block))
    if bound <= 0.0:
        return bound
    if d == 2:
        half = 0.5 * (block[0][0] + block[1][1])
        disc = half * half - (block[0][0] * block[1][1] - block[0][1] * block[1][0])
        return half + math.sqrt(disc) if disc > 0.0 else half
    return float(np.max(np.linalg.eigvals(np.array(block)).real))


#: The rounding floor probes the rate and the coupling at every mesh point up to this many
#: steps, at this many points spread evenly over a longer mesh (:func:`_probed_points`; 64
#: took the work of gregory8 at rtol = atol = 1e-12 over its goal, 4 times the best uniform
#: mesh's).
PROBES = 32
#: A solve to a tolerance (:func:`._tolerance.rounded_to_tolerance`) is probed at this many
#: points at least, between its mesh points too (:func:`_probed_points`).
LEAST_PROBES = 32
#: A solve to a tolerance that no unseen growth could fail is probed at this many points
#: only, the middle and the last (the floor only fills estimates at the rounding level
#: there; probes at every mesh point took affine gregory4 at rtol = atol = 1e-3 from 227 to
#: 243 kernel evaluations, 3.98 -> 4.26 times its best uniform mesh's).
LOOSE_PROBES = 2


def _probed_points(n, least=0, t=None, loose=False):
    """The points of a mesh of n steps that :func:`_scalar_rates` and
    :func:`_carried_jacobian` probe, as positions x in steps (x = j + w is t_j + w h_j, y
    interpolated linearly): every mesh point 1, ..., n up to PROBES steps, else PROBES of them
    spread evenly, n among them; with fewer than ``least`` steps, instead the points that
    divide the span of the mesh ``t`` into ``least`` equal parts (a mesh of a solve to a
    tolerance: 4 steps where y is 1e5 and its increments are lost, or 8, the longest 0.36).  A
    rate or a coupling that acts on a stretch of a few steps alone (y = 1e5 + int (2e-11 +
    r(s) (y - 1e5)) ds, r 400 sin^2 on [0.3, 0.35] or [0.6, 0.65] and 0 elsewhere, its 10
    e-folds on the increments lost; or y2 = int c(s) (y1 - 1e5) ds, c such a bump) is 0 at
    t0, the middle and the last point: trapezoid, gauss2 and radau3 on 16 to 256 steps, and
    to rtol = atol = 1e-10, were successes with errors 20 to 6000 times their estimates (y2's
    estimate 0)."""
    most = LOOSE_PROBES if loose else PROBES
    if n > most:
        return sorted({(i * n) // most for i in range(1, most + 1)})
    if n >= least:
        return range(1, n + 1)
    t = np.asarray(t, dtype=float)[:n + 1]
    return np.interp(np.linspace(t[0], t[n], least + 1)[1:], t, np.arange(n + 1.0)).tolist()


def _probe_points(sol, probe, points):
    """The Jacobians ``probe`` finds at the positions ``points`` (:func:`_probed_points`) of
    ``sol``'s mesh, their evaluations counted in ``stats["nfev"]``: a list, None where a
    probe failed; rows of lists."""
    Y, t = sol._y2, sol.mesh
    y0 = Y[0].tolist()
    # (the rows the points read, not the whole mesh's: Y.tolist() took ~40 ms at N = 2^18)
    rows = sorted({int(x) for x in points} | {int(x) + 1 for x in points if x != int(x)})
    if len(Y) > 4 * len(rows):
        index = np.asarray(rows, dtype=np.intp)
        values, times = dict(zip(rows, Y[index].tolist())), dict(zip(rows, t[index].tolist()))
    else:
        values, times = Y.tolist(), t.tolist()
    at = []
    for x in points:
        j = int(x)
        w = x - j
        if w == 0.0:
            at.append((times[j], values[j]))
        else:
            at.append((times[j] + w * (times[j + 1] - times[j]),
                       [(1.0 - w) * a + w * b for a, b in zip(values[j], values[j + 1])]))
    many = getattr(probe, "jacobians", None)
    found = None if many is None or not at else many([tx for tx, _ in at],
                                                      [yx for _, yx in at], y0)
    if found is not None:    # (in one compiled call: the same Jacobians, ~0.3 us a point)
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + found[1]
        return found[0]
    out, evaluations = [], 0
    for tx, yx in at:
        Jk, calls = probe(tx, yx, y0)
        evaluations += calls
        out.append(None if Jk is None else (Jk.tolist() if hasattr(Jk, "tolist") else Jk))
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + evaluations
    return out


def _scalar_rates(sol, J, probe, least=0, loose=False):
    """([points], [rates]): the growth rate dK/dy at t0 (J = [[dK/dy]] there) and at the
    points of :func:`_probed_points` (``least``) of a scalar solve, their d + 1 = 2 kernel
    evaluations each counted in ``stats["nfev"]``; ([], []) where a probe failed (~3 us a
    point)."""
    rate = _growth_rate(J, 1)
    if rate is None:
        return [], []
    if loose and not rate * abs(float(sol.mesh[-1] - sol.mesh[0])) > GROWTH_MIN:
        return [], []       # (a loose tolerance: probed where t0's rate grows)
    points = _probed_points(len(sol._y2) - 1, least, sol.mesh, loose)
    many = getattr(probe, "scalar_rates", None)
    if many is None:
        rates = [_growth_rate(Jk, 1) for Jk in _probe_points(sol, probe, points)]
    else:       # (in one compiled call: ~0.1 us a point; the mesh's own floats)
        if isinstance(points, range):
            times, values = sol.mesh[1:], sol._y2[1:, 0]
        else:
            times = np.interp(points, np.arange(len(sol.mesh)), sol.mesh)
            values = np.interp(points, np.arange(len(sol.mesh)), sol._y2[:, 0])
        rates, evaluations = many(times, values, sol._y2[0].tolist())
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + evaluations
    if None in rates:
        return [], []
    return [0, *points], [rate] + rates


#: The growth of the linearised problem over the span, as the e-folds sum of its rate, from
#: which the rounding floor carries the rounding of each point grown (:func:`_growth`).
GROWTH_MIN = math.log(2.0)


def _growth(t, n, points, rates):
    """G (n + 1,) for :func:`._estimate.rounding_floor`: the e-folds of the linearised
    problem's growth from t0 to each mesh point, the integral of its rate (``rates`` at the
    mesh ``points``, t0 and the last among them) by the trapezoid rule over the probed points
    (the rate's negative part taken as 0), linear between them; None where it grows by less
    than GROWTH_MIN over the span, or a rate is missing.  The rounding made at a point grows
    with the linearised problem: y = 1e5 + int (2e-11 + 10 (y - 1e5)) ds, and the loop
    y = (1e5 + int (2e-11 + 10 y2) ds, int 10 (y1 - 1e5) ds), gauss2 and radau3 on 16 steps
    over [0, 1]: the increments below half an ulp of 1e5 lost alike by the solve and its
    companions, the error, 1.8e-8 to 3.7e-8, grown e^10 times, was 166 to 418 times the
    estimate, the floor sqrt(N) eps |y|.  (The rate at every probed point, not the smaller
    of the two ends of each half of the mesh, which missed a rate 0 at t0, the middle and the
    last point: :func:`_probed_points`.)"""
    if len(points) < 2 or len(points) != len(rates) or None in rates or n < 2:
        return None
    # (on floats: NumPy calls on a few points cost more than the sums; the mesh's points
    # read as one list, the same floats as float(t[p]); not the whole mesh's: 12 ms at
    # N = 2^18)
    on_mesh = all(map(isinstance, points, itertools.repeat(int)))
    if on_mesh:
        tp = t[np.asarray(points, dtype=np.intp)].tolist() if isinstance(t, np.ndarray) \
            else [float(t[p]) for p in points]
    else:
        tp = np.interp(points, np.arange(n + 1), np.asarray(t, dtype=float)[:n + 1]).tolist()
    Gp, total, before = [0.0], 0.0, max(rates[0], 0.0)
    for i in range(1, len(points)):
        rate = max(rates[i], 0.0)
        total += 0.5 * (rate + before) * abs(tp[i] - tp[i - 1])
        Gp.append(total)
        before = rate
    if not total > GROWTH_MIN:
        return None
    if on_mesh and len(points) == n + 1:
        return np.array(Gp)
    return np.interp(np.arange(n + 1), points, Gp)


#: The rounding floor probes the memory's row dK/dy(T, s, y(s)) at the last point T at this
#: many steps' ends, spread evenly over the span in time, t0 and T among them
#: (:func:`_with_memory_growth`).
ROW_PROBES = 8
#: :func:`_memory_rate`'s grids: this many rates, twice (the second within a step of the first).
_RATE_GRID = 64


def _with_memory_growth(sol, probe, growth, diagonal=(), weights=None):
    """``growth`` (G of :func:`_growth`, or None) raised to the growth through the memory:
    r (t - t0), r the rate of the linearised problem's memory at the last point T
    (:func:`_memory_rate` of the row dK/dy(T, s, y(s)) that ``probe.memory`` finds at
    ROW_PROBES + 1 points evenly spaced from t0 to T, y interpolated linearly; d + 1 kernel
    evaluations each, counted in ``stats["nfev"]``), where that grows by more than GROWTH_MIN;
    ``growth`` as it is where the probe has no row, fails, or the mesh does not increase.  The
    diagonal rate dK/dy(t, t, y) is 0 where the growth is the memory's alone: the renewal
    equation y = 1e5 + 2e-11 t + int (t - s) (y - 1e5) ds (y'' = y, y = 1e5 + 2e-11 sinh t)
    on [0, 10], gauss2 on 64 steps, had an error of 1.3e-8 for an estimate 1.8e-10, the floor
    sqrt(N) eps |y| (71 times); radau3 to rtol = atol = 1e-8, 456 times.

    A row whose rate spans more than ROW_RESOLVED e-folds a step of the row, or that has none
    (h/2 |dK/dy| at age 0 at least 1: k = 2 e^(-u) on [0, 10], h = 1.25), is probed again at
    FINE_ROW_PROBES + 1 points (:func:`_resolved_rate`).  And where the diagonal's growth
    exceeds the memory's, the memory's replaces it where it is shown to bound it
    (:func:`_memory_bounds_diagonal`, ``diagonal`` the diagonal's rates at its probes):
    the diagonal rate dK/dy(t, t, y) is no growth rate where the memory decays, k = 2 e^(-u)'s
    2 where the growth is 1 (2 / (1 + r) = 1), whose floor e^(2 (t - t0)) failed every method
    at rtol = atol = 1e-8 on [0, 10] (y = 1e5 + 2e-11 t + int k (y - 1e5) ds: errors ~1e-6,
    the floor 11 times the tolerance).  ``weights``, a list: where the memory's growth
    replaces the diagonal's for a system, the Perron envelope of its rows (hi, lo) is
    appended (:func:`_memory_bounds_diagonal`; none where a vector is missing), for
    :func:`._estimate.rounding_floor`'s ``weights``."""
    memory = getattr(probe, "memory", None)
    Y, t = sol._y2, np.asarray(sol.mesh, dtype=float)
    n = len(Y) - 1
    t0, T = float(t[0]), float(t[n])
    if memory is None or not T > t0:       # (a mesh increases: its span's ends alone)
        return growth
    # (a kernel whose dK/dy does not depend on t, K(s, y) as y' = f(t, y), has the diagonal's
    # growth, whose integral G is: its row at s* = t0 + _OFF (T - t0) the same floats as the
    # diagonal's at s*, 2 (d + 1) evaluations; the row's 9 (d + 1) took inverse gregory8 at
    # rtol = atol = 1e-9 over its goal, 4 times the best uniform mesh's work)
    star = t0 + _OFF * (T - t0)
    # (on floats: a NumPy call on such few points costs more)
    s = [t0 + (T - t0) * (i / ROW_PROBES) for i in range(ROW_PROBES)] + [T]
    # (the pair and the row in one compiled call, ~5 us less at N = 8: the same points, floats
    # and answers; the row's evaluations counted only where it is used, as when it was probed
    # after the pair, and None, the growth as it is, where either failed, as then)
    at = _interpolated(t[:n + 1], Y[:n + 1], [star] + s)
    found = memory([T, star] + [T] * len(s), [star, star] + s, [at[0], at[0]] + at[1:],
                   Y[0].tolist())
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + 2 * (Y.shape[1] + 1)
    if found is None or found[0][0] == found[0][1]:
        return growth
    rows = found[0][2:]
    sol.stats["nfev"] += found[1] - 2 * (Y.shape[1] + 1)
    if Y.shape[1] == 1 and _memory_cannot_matter(t, Y, sol._est2, growth, rows):
        return growth
    rate, rows = _resolved_rate(sol, memory, T, s, rows)
    if rate is None:
        return growth
    if growth is not None and rate * (T - t0) < float(growth[-1]):
        bound = _memory_bounds_diagonal(sol, memory, growth, diagonal, rate, rows)
        if bound is not None:
            G = np.interp(t[:n + 1], *bound[:2])
            if G[-1] > GROWTH_MIN and bound[2] is not None and weights is not None:
                weights.append(bound[2])
            return G if G[-1] > GROWTH_MIN else None
    if not rate * (T - t0) > GROWTH_MIN:
        return growth
    G = rate * (t[:n + 1] - t0)
    return G if growth is None else np.fmax(np.asarray(growth, dtype=float), G)


#: A memory row whose rate r spans more than this many e-folds a step h of the row (r h),
#: or that has none, is probed again at FINE_ROW_PROBES + 1 points (:func:`_resolved_rate`).
ROW_RESOLVED = 0.5
#: ... that many steps (k = 2 e^(-u) on [0, 10]: no rate at 8 steps, 1.35 at 16, 1.02 at 64
#: for the growth 1)
FINE_ROW_PROBES = 64


#: :func:`_memory_bounds_diagonal` replaces the diagonal's growth on a mesh whose steps span
#: at most this many e-folds of the diagonal's rate (h max dK/dy(t, t, y)).
STEP_FOLDS = 1.0


def _row_at(sol, memory, T, s):
    """(the memory's row at T (``probe.memory``) at the points ``s``, y interpolated
    linearly; its evaluations counted in ``stats["nfev"]``), None where it failed."""
    Y, t = sol._y2, np.asarray(sol.mesh, dtype=float)
    n = len(Y) - 1
    found = memory(T, s, _interpolated(t[:n + 1], Y[:n + 1], s), Y[0].tolist())
    if found is None:
        return None
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + found[1]
    return found[0]


def _resolved_rate(sol, memory, T, s, rows):
    """(rate, rows): :func:`_memory_rate` of the row ``rows`` at T (its points ``s``, evenly
    spaced from t0), or where that is None or spans more than ROW_RESOLVED e-folds a step of
    it, of the row probed again at FINE_ROW_PROBES + 1 points (where that probe fails, the
    first row's)."""
    t0 = s[0]
    h = (T - t0) / (len(s) - 1)
    rate = _memory_rate([T - v for v in s], h, rows)
    if rate is not None and not rate * h > ROW_RESOLVED or len(s) > FINE_ROW_PROBES:
        return rate, rows
    fine = [t0 + (T - t0) * (i / FINE_ROW_PROBES) for i in range(FINE_ROW_PROBES)] + [T]
    found = _row_at(sol, memory, T, fine)
    if found is None:
        return rate, rows
    return _memory_rate([T - v for v in fine], (T - t0) / FINE_ROW_PROBES, found), found


def _memory_bounds_diagonal(sol, memory, growth, diagonal, rate, rows):
    """The memory's growth where it bounds the linearised problem's in place of the diagonal's
    ``growth`` G (which exceeds r (T - t0), ``rate`` r of the row ``rows`` at the last point
    T): (times t0, T_1, ..., T, e-folds 0, G_1, ..., G_T) to interpolate, and a system's
    Perron envelope (:func:`_perron_envelope` of the rows' :func:`_perron_vector`, None for a
    scalar or where a vector is missing), else None.  Only
    where the floor with G raises an estimate (no more probes otherwise).  A kernel whose
    dK/dy(t, s) is nonnegative and at most dK/dy(T, T - (t - s)) has a perturbation's growth
    at most the rate of its row at T (Lotka's; nonnegative resolvents compared); the rate of
    a kernel that changes in t changes too: the row is probed at the ROW_PROBES - 1 points
    T_k = t0 + k (T - t0) / ROW_PROBES before T as well (ROW_PROBES + 1 points each, again
    where unresolved), and the e-folds G_k = G_(k-1) + r_k (T_k - T_(k-1)) integrate the rate
    r_k of the row at each (a memory that decays faster later grows faster early; a short
    span's rate, the row's perturbation term e^(-r (T_k - t0)) larger, is higher: k = 2 e^(-u)
    on [0, 10], 1.35 at T_1 = 1.25, its e-folds 10.5 against the growth 2 e^t's 10.7).  The
    diagonal's rate at each of its probes (``diagonal``) must be at most the row's at age 0
    at T, dK/dy(T, T) (checked before the rows are probed): a growth on a stretch the rows do
    not see (a bump of dK/dy in s that the diagonal's probes found), or a rate that falls (y =
    e^(-t) of K = e^(-(t - s)) y^2, whose early memory the later rows do not bound), keeps the
    diagonal's.  None where a row has a negative entry or a probe failed, or where the
    memory's e-folds are not below G's; and on a mesh whose longest step spans more than
    STEP_FOLDS e-folds of the diagonal's largest rate: the method's own error there can
    exceed its estimate by more than the floor's growth hid (gregory4 to rtol = atol = 1e-10
    on 8 steps of k = 2 e^(-u)'s problem above, h dK/dy = 2.5: a parasitic growth 10.6 times
    the estimate at T, 1.18 times the tolerance, a failure by the diagonal's floor)."""
    Y, t = sol._y2, np.asarray(sol.mesh, dtype=float)
    n, d = len(Y) - 1, Y.shape[1]
    t0, T = float(t[0]), float(t[n])
    if not diagonal or None in diagonal or not all(map(math.isfinite, diagonal)):
        return None
    coarse = float(np.max(np.diff(t[:n + 1]))) * max(diagonal) > STEP_FOLDS
    G = np.asarray(growth, dtype=float)
    floor = rounding_floor(Y, None, None, None, np.fmax(G, rate * (t[:n + 1] - t0)))
    if not np.any(sol._est2[1:] < floor[1:]):
        return None

    def age_zero(found):
        return _growth_rate(found[-1], d)

    def nonnegative(found):
        return all(v >= 0.0 for row in found for line in row for v in line)

    seen = age_zero(rows)
    if not nonnegative(rows) or seen is None or max(diagonal) > seen * (1.0 + 1e-9):
        return None
    if coarse:
        # (the steps a uniform mesh needs for the memory's growth to replace the diagonal's,
        # and that growth at T, for a solve to a tolerance to start over on: see
        # _tolerance.rounded_to_tolerance; the rows before T are probed on that mesh)
        sol._finer_floor = (math.ceil((T - t0) * max(diagonal) / STEP_FOLDS * (1.0 + 1e-9)),
                            rate * (t[:n + 1] - t0))
        return None
    # (a system's Perron vectors, for the floor's weights: none for a scalar)
    times, folds, vectors = [t0], [0.0], [_perron_vector(rows, T - t0, rate)] if d > 1 else []
    for k in range(1, ROW_PROBES):
        Tk = t0 + (T - t0) * (k / ROW_PROBES)
        s = [t0 + (Tk - t0) * (i / ROW_PROBES) for i in range(ROW_PROBES)] + [Tk]
        found = _row_at(sol, memory, Tk, s)
        if found is None or not nonnegative(found):
            return None
        r, found = _resolved_rate(sol, memory, Tk, s, found)
        if r is None or not nonnegative(found):
            return None
        folds.append(folds[-1] + r * (Tk - times[-1]))
        times.append(Tk)
        if d > 1:
            vectors.append(_perron_vector(found, Tk - t0, r))
    folds.append(folds[-1] + rate * (T - times[-1]))
    times.append(T)
    if not folds[-1] < float(G[-1]):
        return None
    return times, folds, _perron_envelope(vectors)


def _perron_vector(rows, span, rate):
    """The Perron vector v of the memory's row ``rows`` (m >= 2 nonnegative d x d matrices at
    the ages span (1 - l / (m - 1)), evenly spaced from ``span`` = T - t0 down to 0) at its
    rate r = ``rate``: M v = rho v, M = sum_l w_l e^(-r u_l) rows[l] (w the trapezoid rule's,
    :func:`_memory_rate`'s sum), v >= 0 scaled to a largest entry 1, rho M's largest
    eigenvalue (its spectral radius, M >= 0).  A perturbation at most c v at s carries at
    most c v e^(r (t - s)) through a nonnegative memory whose rate is r (v e^(r t) a
    supersolution: int k(t - s) v e^(r s) ds <= e^(r t) M v <= v e^(r t) for a convolution),
    which weighs the rounding each component feeds the others by the mode that grows
    (:func:`._estimate.rounding_floor`'s ``weights``).  None where a row is not finite or
    negative, M v > rho v (1 + 1e-9) (a dominant eigenvalue complex or with no nonnegative
    vector), or an entry of v is not positive (a component the growing mode does not reach:
    a rounding there is carried by the coupling's sum, not by v)."""
    A = np.array(rows, dtype=float)
    if A.ndim != 3 or A.shape[0] < 2 or A.shape[1] != A.shape[2] or \
            not np.all(np.isfinite(A)) or np.any(A < 0.0) or not span > 0.0:
        return None
    m = A.shape[0]
    u = span * (1.0 - np.arange(m) / (m - 1))
    w = np.full(m, span / (m - 1))
    w[0] = w[-1] = 0.5 * w[0]
    M = np.einsum("l,lij->ij", w * np.exp(-rate * u), A)
    values, vectors = np.linalg.eig(M)
    k = int(np.argmax(values.real))
    v = vectors[:, k].real
    v = v / v[int(np.argmax(np.abs(v)))]
    rho = float(values[k].real)
    if not rho > 0.0 or not np.all(np.isfinite(v)) or not np.all(v > 0.0):
        return None
    if np.any(M @ v > rho * v * (1.0 + 1e-9)):
        return None
    return v


def _perron_envelope(vectors):
    """(hi, lo): the largest and the least entries of the Perron vectors ``vectors`` (of
    :func:`_perron_vector`, one a row probed), each scaled to a largest entry 1: the floor
    weighs a rounding by lo (its size in the growing mode's units, at most y_j / lo_j) and
    carries it to component i as hi_i (a memory whose mode turns over the span: the least
    and the largest share of each component over the probed rows); None where a vector is
    missing."""
    if not vectors or any(v is None for v in vectors):
        return None
    V = np.array(vectors, dtype=float)
    return np.max(V, axis=0), np.min(V, axis=0)


def _memory_cannot_matter(t, Y, est, growth, rows):
    """Whether the memory's rate, whatever :func:`_memory_rate` finds it, can raise no
    estimate of a scalar solution ``Y`` (N+1, 1), ``est`` (N+1, 1), above the floor that
    :func:`._estimate.rounding_floor` makes with G = max(``growth``, r (t - t0)) (a Gronwall
    bound, on floats: no root found).  That floor is at most sqrt(N) eps s_n e^(G_n), s_n =
    max_(l <= n) |y_l| (:func:`_below_grown_bound`), below every estimate where each
    ln(est_n / (sqrt(N) eps s_n)) (less _GROWN_MARGIN) is at least the diagonal's G_n and r
    (t_n - t0) with r up to R, the least of those logarithms over t_n - t0.  Every rate
    :func:`_memory_rate` returns for the row ``rows`` (ROW_PROBES + 1 scalars, ages T - t0
    down to 0) is at most r_B + max(1/(T - t0), 2 r_B) / _RATE_GRID^2 (its grids' last step,
    Newton's a smaller one), r_B where the row's bound e^(-r (T - t0)) + sum_l w_l |kappa_l|
    e^(-r u_l), decreasing, falls below 1, beyond every root of the characteristic
    equation: R less that step's bound, where the bound is below 1 there, is beyond every
    rate returned.  False where a value, an estimate or G is not finite or negative (or
    over _MAX_EXP), or the bound is not below 1 (the rate is found then, as before)."""
    n = len(Y) - 1
    t0, T = float(t[0]), float(t[n])
    span = T - t0
    kappa = [row[0][0] for row in rows]
    if n < 2 or len(kappa) != ROW_PROBES + 1 or not span > 0.0 or \
            not all(map(math.isfinite, kappa)):
        return False
    scale = math.sqrt(n) * _EPS * _GROWN_MARGIN
    # (in NumPy, the same decisions as a loop over the points on floats, which took 73 ms at
    # N = 2^18; by blocks of _BLOCK points, whose arrays the allocator reuses: arrays of the
    # mesh's size are new pages each, 15 ms of page faults for a division at N = 2^18)
    values, estimates = Y[:, 0], est[:, 0]
    grown = None if growth is None else np.asarray(growth, dtype=float)
    if (grown is not None and grown.shape != (n + 1,)) or estimates.shape != (n + 1,):
        return False
    if not math.isfinite(values[0]):
        return False
    times = np.asarray(t, dtype=float)
    size, reach = abs(float(values[0])), math.inf     # (y(t0) in the sizes, not in the walk)
    if n <= _FEW_POINTS:        # (on floats: the same decisions, ~10 us less at N = 8)
        found = _room_reach_few(values[1:].tolist(), estimates[1:].tolist(),
                                [0.0] * n if grown is None else grown[1:].tolist(),
                                (times[1:] - t0).tolist(), size, scale)
        if found is None:
            return False
        size, reach = found
    for a in range(1, n + 1 if n > _FEW_POINTS else 1, _BLOCK):
        b = min(a + _BLOCK, n + 1)
        found = _room_reach(values[a:b], estimates[a:b],
                            np.zeros(b - a) if grown is None else grown[a:b],
                            times[a:b] - t0, size, scale)
        if found is None:
            return False
        size, reach = found[0], min(reach, found[1])
    if reach == math.inf:
        return True
    step = 1.0 / _RATE_GRID ** 2
    R = (reach * (1.0 - 1e-9) - step / span) / (1.0 + 2.0 * step)
    if not R > 0.0:
        return False
    h = span / ROW_PROBES
    bound = math.exp(-R * span)
    for i, k in enumerate(kappa):
        w = 0.5 * h if i in (0, ROW_PROBES) else h
        bound += w * abs(k) * math.exp(-R * span * (1.0 - i / ROW_PROBES))
    return bound < 1.0 - 1e-9


#: :func:`_memory_cannot_matter` takes the mesh's points this many at a time.
_BLOCK = 4096


def _room_reach(y, e, g, after, size, scale):
    """:func:`_memory_cannot_matter` on a block of points (values ``y``, estimates ``e``, G
    ``g``, t - t0 ``after``), the largest |y| before it ``size``: (the largest |y| to its
    end, the least ln(e / (scale s)) / (t - t0) over its points after t0, inf where none),
    None where a value or G is not finite (or G negative or over _MAX_EXP), an estimate
    (not NaN, of a size not 0) not positive, or its logarithm below G.  The logarithms
    np.log's, which differ from math.log's by an ulp at times, and math.log's where that
    could change a comparison or the least."""
    if not np.all(np.isfinite(y) & (g >= 0.0) & (g <= _MAX_EXP)):
        return None
    sizes = np.maximum.accumulate(np.abs(y))
    np.maximum(sizes, size, out=sizes)
    last = float(sizes[-1])
    kept = ~(np.isnan(e) | (sizes == 0.0))      # (left as it is; a floor of 0)
    if not kept.all():
        e, g, sizes, after = e[kept], g[kept], sizes[kept], after[kept]
    if not np.all(e > 0.0):
        return None
    ratio = e / (scale * sizes)
    with np.errstate(divide="ignore"):      # (a ratio 0, below the floor: -inf, refused)
        room = np.log(ratio)
    for k in np.flatnonzero(np.abs(room - g) <= 1e-14 * np.abs(room)).tolist():
        room[k] = _log(float(ratio[k]))
    if not np.all(room >= g):
        return None
    later = after > 0.0
    if not later.any():
        return last, math.inf
    if not later.all():
        ratio, room, after = ratio[later], room[later], after[later]
    reaches = room / after
    least = float(np.min(reaches))
    if not least < math.inf:
        return last, math.inf
    near = np.flatnonzero(reaches <= least + 1e-13 * abs(least)).tolist()
    return last, min(_log(float(ratio[k])) / float(after[k]) for k in near)


#: :func:`_memory_cannot_matter` takes meshes of up to this many steps on floats
#: (:func:`_room_reach_few`).
_FEW_POINTS = 64


def _room_reach_few(y, e, g, after, size, scale):
    """:func:`_room_reach` on lists of floats: the same answer.  Its logarithms are
    math.log's (np.log's differ by an ulp at times): the comparisons with G that np.log's
    decide are those more than 1e-14 of the logarithm apart, where an ulp changes none, and
    the others, and the least, are math.log's there too; the least's point is among the
    points within 1e-13 of the least by either logarithm, and every other such point's
    reach by math.log is at least its own."""
    for v, gv in zip(y, g):
        if not (math.isfinite(v) and 0.0 <= gv <= _MAX_EXP):
            return None
    least = math.inf
    ratios, rooms, ages = [], [], []
    for v, ev, gv, u in zip(y, e, g, after):
        size = _maximum(size, abs(v))
        if ev != ev or size == 0.0:         # (left as it is; a floor of 0)
            continue
        if not ev > 0.0:
            return None
        floor = scale * size
        ratio = ev / floor if floor else math.inf      # (NumPy's quotient by an underflow)
        room = _log(ratio)
        if not room >= gv:
            return None
        if u > 0.0:
            ratios.append(ratio)
            rooms.append(room)
            ages.append(u)
    # (every estimate positive and above G: the reaches of the points after t0)
    if not ages:
        return size, math.inf
    reaches = [room / u for room, u in zip(rooms, ages)]
    least = min(reaches)
    if not least < math.inf:
        return size, math.inf
    bar = least + 1e-13 * abs(least)
    return size, min(_log(ratio) / u for ratio, u, r in zip(ratios, ages, reaches) if r <= bar)


def _log(x):
    """math.log(x), -inf at 0 (below every floor: refused as np.log's)."""
    return math.log(x) if x > 0.0 else -math.inf


def _interpolated(t, Y, times):
    """y at ``times`` (a list of floats in the span of the increasing mesh ``t``), linear
    between the mesh's values ``Y`` (n + 1, d): a list of lists of d floats."""
    if Y.shape[1] == 1:
        return [[v] for v in np.interp(times, t, Y[:, 0]).tolist()]
    return np.stack([np.interp(times, t, Y[:, k]) for k in range(Y.shape[1])],
                    axis=-1).tolist()


def _memory_rate(ages, h, rows):
    """The largest r >= 0 at which the linearised problem's memory at T, rows[l] = dK/dy(T,
    s_l, y(s_l)) at the ages u_l = T - s_l (``ages``, from T - t0 down to 0, equispaced by
    ``h``; d x d rows of lists), can carry a growth e^(r (s - t0)) from a perturbation 1 at
    t0: the largest real part of an eigenvalue of e^(-r (T - t0)) I + sum_l w_l e^(-r u_l)
    rows[l] (w the trapezoid rule's) at least 1 (a renewal equation's characteristic equation,
    Lotka's, with the perturbation's term: exact for y' = a y, rows a; for a convolution
    y = g + int k(t - s) y ds, the real root of int_0^inf k(u) e^(-r u) du = 1 over a long
    span: k = u, r = 1).  To within 1/64^2 of a bracket [0, R], R where the same sum of
    ||rows[l]||_inf bounds it below 1 (the upper end of the bracket's last step where it is
    met); 0 where no r >= 0 meets it, None where no R does (a row at u = 0 of h/2
    ||rows|| >= 1) or a row is not finite."""
    if len(rows) and all(len(row) == 1 and len(row[0]) == 1 for row in rows):
        kappa = [row[0][0] for row in rows]
        found = _scalar_memory_rate(list(ages), h, kappa)
        if found is False:
            found = _oscillating_memory_rate(list(ages), h, kappa)
        if found is not False:
            return found
    A = np.array(rows, dtype=float)
    if A.ndim != 3 or A.shape[1] != A.shape[2] or not np.all(np.isfinite(A)):
        return None
    m, d = A.shape[0], A.shape[1]
    w = np.full(m, h)
    w[0] = w[-1] = 0.5 * h
    u = np.asarray(ages, dtype=float)
    span = float(u[0])
    norms = w * np.max(np.sum(np.abs(A), axis=2), axis=1)
    if not norms[-1] < 1.0:
        return None

    def bound(r):
        return math.exp(-r * span) + float(np.dot(norms, np.exp(-r * u)))

    top = 1.0 / span
    for _ in range(200):
        if bound(top) < 1.0:
            break
        top *= 2.0
    else:
        return None
    WA = w[:, None, None] * A
    eye = np.eye(d)

    def met(rates):
        E = np.exp(-np.outer(rates, u))
        M = np.exp(-rates * span)[:, None, None] * eye + np.einsum("rl,lij->rij", E, WA)
        if d == 1:
            return M[:, 0, 0] >= 1.0
        return np.max(np.linalg.eigvals(M).real, axis=1) >= 1.0

    low, high = 0.0, top
    for _ in range(2):
        grid = np.linspace(low, high, _RATE_GRID + 1)
        ok = np.flatnonzero(met(grid))
        if not ok.size:
            return 0.0 if low == 0.0 else low
        i = int(ok[-1])
        if i == _RATE_GRID:
            return high
        low, high = float(grid[i]), float(grid[i + 1])
    return high


def _weighted_row(ages, h, kappa):
    """The trapezoid rule's terms w_l kappa_l of a scalar row ``kappa`` (floats) at the
    ``ages`` (spaced ``h``), or None where the row is shorter than 2 points, does not match
    the ages or is not finite, or where h/2 |kappa| at u = 0 is at least 1 (no rate
    bounds the row: :func:`_memory_rate`)."""
    m = len(kappa)
    if m < 2 or len(ages) != m or not all(map(math.isfinite, kappa)):
        return None
    c = [h * k for k in kappa]
    c[0] *= 0.5
    c[-1] *= 0.5
    return c if abs(c[-1]) < 1.0 else None


def _scalar_memory_rate(ages, h, kappa):
    """:func:`_memory_rate` of a scalar row ``kappa`` (floats) on floats, where it is one sign:
    0 where no term grows (every kappa_l <= 0, or none but 0), else the root of the convex
    decreasing F(r) = e^(-r (T - t0)) + sum_l w_l kappa_l e^(-r u_l) = 1 by Newton's steps
    from r = 0 (from below, F convex: never past the root; to within 1e-6 of it, the last
    step added); None as there (not finite, h/2 |kappa| at u = 0 at least 1); False where
    the row changes sign or Newton does not settle (the grids then, as a system's)."""
    c = _weighted_row(ages, h, kappa)
    if c is None:
        return None
    if all(v <= 0.0 for v in c):
        return 0.0
    if any(v < 0.0 for v in c):
        return False
    span = ages[0]
    r = 0.0
    for _ in range(60):
        terms = [v * math.exp(-r * u) for v, u in zip(c, ages)]
        e = math.exp(-r * span)
        excess = e + sum(terms) - 1.0
        if not excess > 0.0:
            return r
        slope = span * e + sum(v * u for v, u in zip(terms, ages))
        if not slope > 0.0:
            return False
        step = excess / slope
        r += step
        if step <= 1e-6 * (r + 1.0 / span):
            return r + step
    return False


def _oscillating_memory_rate(ages, h, kappa):
    """:func:`_memory_rate` of a scalar row ``kappa`` that changes sign: the largest real part
    of a root p, complex too, of e^(-p (T - t0)) + sum_l w_l kappa_l e^(-p u_l) = 1 (0 where
    none is positive), a polynomial in z = e^(-p h) on the equispaced ages (u_l = j h, T - t0 =
    P h: z^P + sum_j c_j z^j = 1), Re p = -ln|z| / h.  A row that changes sign can carry a
    growth that oscillates: k = u cos u, whose int k e^(-r u) du = (r^2 - 1) / (r^2 + 1)^2 is
    below 1 at every real r (no real root; the grid's rate 0), grows as e^(0.676 t) (the roots
    of p^4 + p^2 + 2 = 0), and y = 1e5 + 2e-11 t + int k (y - 1e5) ds on [0, 10] had errors up
    to 3.3 times the estimates (radau3 on 16 steps; gauss2 on 64, 2.3).  None as there (not
    finite, h/2 |kappa| at u = 0 at least 1); False where the ages are not equispaced."""
    c = _weighted_row(ages, h, kappa)
    if c is None:
        return None
    P = len(c) - 1
    if not all(abs(ages[l] - (P - l) * h) <= 1e-9 * ages[0] for l in range(P + 1)):
        return False
    # (kappa[l] at age (P - l) h: the coefficient of z^(P - l), highest first as np.roots)
    coefficients = np.array(c, dtype=float)
    coefficients[0] += 1.0
    coefficients[-1] -= 1.0
    roots = np.roots(coefficients)
    roots = roots[np.abs(roots) > 0.0]
    if not roots.size or not np.all(np.isfinite(roots)):
        return 0.0
    return max(0.0, float(-np.log(np.min(np.abs(roots))) / h))


def _carried_jacobian(sol, J, probe, rates=None, least=0, loose=False):
    """|J| of the start (``J``, rows of lists) and, elementwise, the largest |J_ij| of the
    Jacobians ``probe`` finds at the points of :func:`_probed_points` (every mesh point up to
    PROBES steps; the finite ones of J's shape, or of a VIDE's 2d x 2d one, J then its upper
    left block; d + 1 kernel evaluations each, counted in ``stats["nfev"]``): the floor
    carries the rounding that one component feeds another by the largest coupling seen, and
    a coupling zero at t0 is none at the start alone (y2 = int c(s) (y1 - 1e5) ds beside
    y1 = 1e5 + int 2e-11 ds, c(s) = s or sin(pi s), gauss2 and radau3 to atol = (1e-6, 1e-13
    or 1e-14): successes with y2's errors 3.6 to 88 times its tolerance; a VIDE's
    y2' = t (y1 - 1e5): 67 and 667 times, its estimate 0; c a bump on [0.3, 0.35] or
    [0.6, 0.65], 0 at t0, the middle and the last point: trapezoid, gauss2 and radau3 on 16
    to 256 steps, and to atol = (1e-6, 1e-13), successes with y2's errors 50 to 1e4 times
    its estimate, or over an estimate 0).  Where an off-diagonal |J_ij| is 0 at every probed
    point, one point off the mesh's points in each half is probed too (a fraction 1 - 1/phi
    of its steps in, y there interpolated; d + 1 evaluations each; the first's in the first
    half's bound): a coupling zero at t0, T/2 and T, c(s) = sin(2 pi s / T) or a polynomial
    with those roots, gave trapezoid and gregory4 successes with y2's errors 11 to 114 times
    its tolerance, a VIDE's y2' = sin(2 pi t) (y1 - 1e5) 32 and 318 times, and estimates 0
    on given meshes (on 2 steps, whose points are these).  ``rates``, a list: the growth
    rate at t0 and at each probed point are appended, as ([points], [rates]) in its first
    and second entries (:func:`_growth`; empty where a probe failed).

    Returns (A, halves): A that largest |J| (for the chains of :func:`._estimate.rounding_floor`
    and the mesh's second half), and halves = (k, A_1), k the middle point and A_1 the largest
    |J| at t0 and the probed points up to it (None where a probe failed), by which the floor's
    first link integrates the coupling: a rate growing 21 times over the span (a VIDE's
    rotation y' = w(t) (y2, -y1), w = 1 + 10 t on [0, 2], gauss2 at rtol = atol = 1e-12) gave
    a floor 1.18 times the tolerance with the largest |J| alone, twice the int w ds its
    rounding is carried by, for an error of 0.58 times it (a success before).  (Never below
    the floor of J at t0 alone.)"""
    def largest(P, Q):
        return [[a if a >= b else b for a, b in zip(ra, rb)] for ra, rb in zip(P, Q)]

    def absolute(Jk):
        return None if Jk is None else [[abs(v) for v in row] for row in Jk]

    def fits(B, M):
        return B is not None and len(B) == len(M) and all(
            len(row) == len(B) and all(map(math.isfinite, row)) for row in B)

    def padded(M):           # (a VIDE's f_y, d x d, in its 2d x 2d form)
        return [row + [0.0] * d for row in M] + [[0.0] * (2 * d) for _ in range(d)]

    # (on lists of floats: a NumPy call on such tiny arrays costs ~1 us)
    A = [[abs(v) for v in row] for row in J]
    if not all(len(row) == len(A) and all(map(math.isfinite, row)) for row in A):
        if rates is not None:
            rates[:] = [[], []]
        return J, None
    n, d = len(sol._y2) - 1, sol._y2.shape[1]
    points = _probed_points(n, least, sol.mesh, loose)
    middle = n // 2
    first, whole, failed, found = None, A, False, [_growth_rate(J, d)]
    for x, Jk in zip(points, _probe_points(sol, probe, points)):
        if rates is not None:
            found.append(_growth_rate(Jk, d))
        B = absolute(Jk)
        if B is not None and len(B) == 2 * d and len(whole) == d:
            whole = padded(whole)
            first = None if first is None else padded(first)
        if fits(B, whole):
            whole = largest(whole, B)
        else:
            failed = True
        if first is None and x >= middle:
            first = whole
    if rates is not None:
        rates[:] = [[], []] if None in found else [[0, *points], found]
    if failed or first is None:
        return whole, None
    if not _unseen_coupling(whole, d):
        return whole, (middle, first)
    # (a coupling zero at every probed point: between them, off the mesh's points, where a
    # coupling such as sin(2 pi s / T) or a polynomial with roots at 0, T/2 and T is not)
    off = [_OFF * middle, middle + _OFF * (n - middle)]
    for x, Jk in zip(off, _probe_points(sol, probe, off)):
        B = absolute(Jk)
        if fits(B, whole):
            whole = largest(whole, B)
            if x < middle:
                first = largest(first, B)
    return whole, (middle, first)


#: Where :func:`_carried_jacobian` probes a coupling zero at t0, the middle and the last point
#: in each half of the mesh: this fraction of its steps in (1 - 1/phi; irrational, no point of
#: a coupling's rational roots, and off the mesh's points).
_OFF = (3.0 - math.sqrt(5.0)) / 2.0


def _unseen_coupling(A, d):
    """Whether |J| ``A`` (rows of lists, d x d, or a VIDE's 2d x 2d whose lower right block,
    dK/dz, is 0 by its form) has an off-diagonal entry 0: a coupling the probes did not see,
    or none."""
    m = len(A)
    return any(A[i][j] == 0.0 for i in range(m) for j in range(m)
               if i != j and not (i >= d and j >= d))


def with_settled_levels(sol, run, order):
    """``sol``, a solve on a given mesh, with its estimates raised to the Richardson estimate of
    the solve with every step bisected, 2^p |y_h - y_(h/2)| / (2^p - 1), at every point, where
    its mesh is too small for the rate of the mesh of every fourth point to set the order and
    that rate is clearly below 2^p (``Companion.unsettled``): the three levels are not in the
    regime the half-steps estimate with the order p assumes.

    radau2 on cos 5 t (y = 1 - 25 int (t - s) y) on 5 random steps over [0, 3], the last
    three 3.4 to 5.5 radians of the oscillation: the solutions on 5, 3 and 2 steps agree to
    no digit and converge at the rate 1.4, and the solve was a success with the error 1.35
    at t = 0.81 for an estimate of 0.060; ``solve_vide`` of y' = -50 y with radau4 on 5
    random steps over [0, 1]: the rate 7.7 (not 2^7), and the error 2.9e-3 that the step to
    t = 0.27 makes, which the next stiff step damps (the common points beside it do not see
    it), for an estimate of 1.3e-4.  Made after the other checks of the estimate (the first
    steps', the data's: a jump of the data converges slowly too, and their check divides
    the steps where it is); an estimate so raised over half the solution's size fails the
    solve (afterwards, :func:`._tolerance.with_confirmed_digits`).  Where the bisected solve
    fails, the estimates of the points it did not reach are left as they are.  Where the data
    check divided steps (``sol._divided_from``, the first point of the first one around a rough
    step after the first: a jump or kink of the data, whose divided solve's change is the
    estimate from there on; a rough first step alone, data not smooth from t0, compares every
    value, ``_adaptive._divided_after_start``), only the values up to that point are
    compared, and the bisected solve stops there: beyond it the bisected solve's own error at
    the jump can exceed the solution's (its stages on the other side of it), and its
    difference over-estimated (rk4 with K jumping in t at 0.618 on 24
    steps: 71 times the error, the data check's 44; radau2 with c(s) jumping at 0.2345 on 16
    steps: 34.7, the data check's 8.7).

    Parameters
    ----------
    sol : Solution
        The solve (its estimates raised in place; left as it is unless it is a success whose
        companion estimate was ``unsettled``).
    run : callable
        ``run(mesh) -> Run``: the method on another mesh.
    order : float
        The method's order p.

    Returns
    -------
    Solution
        ``sol``, its estimates, ``nfev``, ``error_estimate_nfev`` and ``max_error_estimate``
        updated and its message extended where the estimates were raised.
    """
    if not (sol.success and getattr(sol, "_unsettled", False)) or len(sol.mesh) < 2:
        return sol
    t, est = sol.mesh, sol._est2
    # (the points up to the first step the data check divided: beyond it, the change of its
    # divided solve is the estimate)
    n_points = min(len(t), getattr(sol, "_divided_from", len(t)) + 1)
    if n_points < 2:
        return sol
    bound, _ = _bisected_difference(sol, run, n_points, order)
    if bound is None:
        return sol
    reached = len(bound)
    before = largest_estimate(est)
    np.fmax(est[:reached], bound, out=est[:reached])     # (in place: also the mesh's)
    sol.stats["max_error_estimate"] = largest = largest_estimate(est)
    if largest > before:
        sol.message += (f"  The mesh is too small for the solutions on coarser meshes to show the "
                        f"order they converge at, and they converge slower than the order "
                        f"{order:g} says: the estimates were raised to the difference from the "
                        f"solve with every step bisected (up to {largest:.3g}).")
    return sol


def _bisected_difference(sol, run, n_points, order):
    """(difference, complete): the Richardson difference 2^p |y_h - y_(h/2)| / (2^p - 1) (p =
    ``order``) of the solve ``sol`` on a given mesh and the solve with every step of its first
    ``n_points`` points bisected (``run(mesh) -> Run``), at the points the bisected solve
    reached, and whether it reached them all; (None, False) where it reached fewer than 2.
    Its evaluations are counted in ``sol``'s ``nfev`` and ``error_estimate_nfev``."""
    finer = run(refined_mesh(sol.mesh[:n_points]))
    calls = int(finer.counts[0])
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
    complete = finer.status == _loops.SUCCESS
    reached = n_points if complete else (int(finer.keep) + 1) // 2
    if reached < 2:
        return None, False
    factor = 2.0 ** order / (2.0 ** order - 1.0)
    return np.abs(sol._y2[:reached] - finer.Y[:2 * reached - 1:2]) * factor, complete


def with_measured_between(sol, run, order, min_steps=1):
    """``sol``, a solve on a given mesh, with the estimates that exceed UNRESOLVED (half) times
    the solution's size so far only as a later point's bound measured with the solve with
    every step bisected, where the estimates assume the method's order ``order``.

    A point that the companions do not compare takes the larger estimate of the points beside
    it that they do (errors persist in a Volterra equation: a bound, not a measurement).
    Where a solution grows from 0 that later point's estimate can exceed half the size so far
    at the point that borrows it, and :func:`._tolerance.with_confirmed_digits` failed a
    solve whose values have digits (the implicit rectangle rule on y = 1 - cos 2t, K =
    exp(-2 (t - s)) y / 2, 4 steps: at t = 0.25 the estimate 0.070 of t = 0.5 against the
    size 0.135, the error there 0.012; radau1, K = y / 2: 0.138 from the solve on every third
    point at t = 0.75, against 0.134).  Here each such point j (the first on, up to the first
    one that does not borrow: no later point b whose estimate is at least j's and within half
    its own size so far) is measured: the solve with every step bisected up to the last such
    b gives 2^p |y_h - y_(h/2)| / (2^p - 1) at every point, and the point takes the larger of
    that and the largest estimate before the first such point (the errors so far).  Only where

    * the estimates assume the order p (``stats["estimate_order"]``): with a lower observed
      order the solutions are not in the regime in which a difference at a point estimates
      the error there, and the bound stays (y = 1 + int y^2 on [0, 0.875], exact 1 / (1 - t):
      rk4 on 2 steps, y = 6.89 at the end for 8 with an estimate of 1.84, the order 0.88;
      radau2 on 4 steps, 6.48 with 3.18, the order 0.68: both refused); and
    * the data are smooth as far as the solve can tell: the solves on every third point
      agree with the half-steps companion within RATE_FACTOR (``sol._shifted_ratio``), and
      the data check found no step to divide (``sol._rough_data``): a non-smooth point just
      after a point that all nested meshes share is missed by the bisected solve alike; and
    * the bisected solve agrees with the half-steps companion's estimate at each b within
      RATE_FACTOR (``sol._companion_estimate``, before the other checks raised it).

    Every estimate up to the last b is raised to the bisected solve's where that is larger.
    The failure itself is left to :func:`._tolerance.with_confirmed_digits` (afterwards),
    which now judges the measured estimates; where the bisected solve fails (or would take
    fewer than ``min_steps``, the method's fewest), nothing changes.  Its evaluations are
    counted in ``nfev`` and ``error_estimate_nfev``."""
    if not sol.success or len(sol.mesh) < 3:
        return sol
    q = sol.stats.get("estimate_order", math.nan)
    if not q >= order:
        return sol
    if getattr(sol, "_rough_data", False) or not getattr(sol, "_shifted_ratio",
                                                           1.0) <= RATE_FACTOR:
        return sol
    t, Y, est = sol.mesh, sol._y2, sol._est2
    if Y.shape[1] == 1 and len(Y) <= _FEW and est.shape == Y.shape:
        # (the usual case, no estimate over, on floats: ~1 us a NumPy call on such small
        # arrays, 5 of them; running_size's maxima, NaN propagating, and the same products
        # and comparisons, so the same answer)
        values = est[:, 0].tolist()
        if not all(map(math.isfinite, values)):
            return sol
        if not any(w > UNRESOLVED * r for w, r in zip(values,
                                                       running_size_few(Y[:, 0].tolist()))):
            return sol
    elif not np.all(np.isfinite(est)):
        return sol
    worst = np.max(est, axis=1)
    if none_over_size(worst, Y, UNRESOLVED):  # (without the running maximum, most of the cost)
        return sol
    running = running_size(Y)     # (as with_confirmed_digits judges them)
    over = worst > UNRESOLVED * running
    if not np.any(over):
        return sol
    points, sources = [], []
    for j in np.flatnonzero(over).tolist():
        later = np.flatnonzero(~over[j + 1:] & (worst[j + 1:] >= worst[j]))
        if later.size == 0:
            break                   # (its own estimate, or no later point admits it)
        points.append(max(j, 1))
        sources.append(j + 1 + int(later[0]))
    if not points:
        return sol
    last = max(sources)
    if 2 * last < max(min_steps, 1):
        return sol
    measured, complete = _bisected_difference(sol, run, last + 1, order)
    if not complete or not np.all(np.isfinite(measured)):
        return sol
    seen = np.max(measured, axis=1)
    companion = getattr(sol, "_companion_estimate", None)
    if companion is not None and any(RATE_FACTOR * seen[b] < np.max(companion[b])
                                     for b in set(sources)):
        return sol      # (the bisected solve misses what the half-steps companion measures)
    before = np.max(est[:points[0]], axis=0)
    for j in points:
        est[j] = np.maximum(measured[j], before)                # (in place: also the mesh's)
    np.fmax(est[:last + 1], measured, out=est[:last + 1])
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.message += (f"  The error estimates from t = {float(t[points[0]]):.6g} on, taken from "
                    f"later points (up to t = {float(t[last]):.6g}) and over half the "
                    f"solution's size so far there, were measured with the solve with every "
                    f"step bisected.")
    return sol
