"""Step-size control for Volterra Runge-Kutta and collocation methods.

First a uniform mesh of ``FEWEST_STEPS`` steps is tried with the global check below: at loose
tolerances on a smooth problem it is all the solve needs (every collocation method at rtol 1e-3
on the smooth problems of the error-control study), at the cost of a few small solves otherwise.
When its estimate predicts fewer than ``PILOT_STEPS`` uniform steps and the solutions on 4, 2
and 1 steps converge at the method's rate (:func:`_converges_at_rate`), the uniform mesh is
refined as for the direct rules: on a few steps a controlled pass costs about 3.5 solves on its
own mesh, more than adaptivity saves there (vector problem, radau3, 1e-9: 1.9 times the best
uniform mesh's evaluations, 3.5 with a pass).  Where that refinement comes to need
``PILOT_STEPS`` or more with the error made in a few steps (:func:`_made_here`), the prediction
failed: it turns to a pilot pass as below (y = 1 - 1000 int y, radau3, 1e-6: the try's steps of
1/4 damped the layer at t = 0, and the uniform meshes grew to 2270 steps, 78.7e6 kernel
evaluations; now 28 steps, 12.8e3).  A refinement to more steps that raised the estimate is
not in the asymptotic regime the sizing assumes: it turns to a pass too, at the tolerance (a
pilot where it predicts ``PILOT_STEPS``), unless a pass at that level ran already (the same
problem at 1e-4: 702 uniform steps, 11.7e6 evaluations; now 32 steps, 14.8e3).  A check after a
pass that does not converge (no correct digit, or differences that grew with the steps) on a
mesh whose first step spans more than ``STIFF`` e-folds of the linearised problem (the
stiffness probe of the check of the first steps) starts a pass at the
tolerance from a step of one e-fold, once (:func:`_resolved_step`; a Gauss method keeps a stiff
transient its steps miss, alike on every mesh: gauss4 on y = 1 - 1e5 int y at 1e-3 refined 8 to
10784 steps, 9.0e9 evaluations, before the check of the first steps started over; now 26 steps,
16.6e3).  Otherwise the mesh is built step by step.  A step of size H from t_n (with the
history of every earlier step) is taken once with H and once as two steps of H/2; the
difference of the two values at t_n + H estimates the local error of the pair,

    le = |y_H - y_{H/2,H/2}| / (2^p - 1),

and the pair is accepted when le <= (atol + rtol |y|) H / (T - t0) (error per unit step: the
local errors of a Volterra equation persist, so their sum, not each, is what the global error is
made of), or, for a pair retried shorter whose local error fell like H rather than H^(p+1)
(a jump of K, g or y inside it, :func:`_falls_slowly`), when the whole difference
|y_H - y_{H/2,H/2}| is at most ``ROUGH_SHARE`` times the tolerance (its error per unit step
does not fall as it shrinks; the next pair may then be 4 times longer).  The three steps of
a pair sum over the history once at each of their times (:func:`._loops._step`): a pass costs
about the plain solve on its own mesh (rk4 on y = 1 - int y^2 at 1e-9: 9605 kernel
evaluations against 9360; radau3 on tan t at 1e-9: 1.40 times), where every step summed anew
cost 2.9 and 1.8 times that.  The next H follows
from le ~ H^(p+1): H_new = H * 0.9 (tolerance / (le trend))^(1/p), clipped to [H/5, 4 H],
where ``trend`` is the growth of the error constant le / H^(p+1) since the last accepted pair
(between 1 and ``TREND``): where the solution steepens the controller
anticipates it (on tan t, radau3 at 1e-9 had 12 of 25 pairs rejected, one after each accepted
pair; now 2). The first H comes from the uniform try (:func:`_first_step`). Accepted pairs are
the mesh, so the mesh of the big steps is the mesh with every other point: the companion solve
of :mod:`._estimate` then gives the global error estimate at every mesh point (Richardson,
exactly).

When the uniform try predicts a mesh of ``PILOT_STEPS`` or more, the pass is a pilot at a
tolerance ``PILOT^p`` times looser (p the order): a third of the steps, a ninth of the history
sums.  When the pass's global check fails (ratio = the largest estimate over the tolerance),
its mesh is redrawn once by :func:`redraw`: the local errors of its pairs give the step sizes
that equalise the local error per step, which the model "global error = sum of local errors"
says needs the fewest steps for a tolerance (the pass's error per unit step grades too
strongly), and the pass's ratio calibrates their number.  (On y = tan t this and the pilot cut
the work by 25-35%: radau3 at 1e-9 0.74 of the best uniform mesh's evaluations, was 1.05.)  A
later failed check redraws the mesh with the same step-size profile and N (1.1 ratio^(1/p))
steps (twice N where the companion found no correct digit), and the check repeats.  A pilot
that cannot reach the end (a blow-up, a failing kernel) is run again at the tolerance: its
values are the answer.

The Richardson estimate assumes the asymptotic regime, which a handful of large steps need not
be in (rk4 on y = 1 - int y^2 with 4 steps of 1/4: the estimate was 11 times below the error;
with 8 steps, within 1.25): a mesh of fewer than ``MIN_STEPS`` intervals is accepted only when a
third solve, on every fourth point, shows the differences of the three solutions falling at the
method's rate 2^p (within a factor ``RATE_FACTOR``), and one of fewer than ``FEWEST_STEPS``
never.  Where they fall clearly faster (the coarsest solution far off) and 2^p - 1 <= ``HONEST``,
the mesh is accepted on the bound |y_N - y| <= |y_N - y_N/2| instead, which is its estimate
(:func:`_faster_than_rate`; that rk4 try: 1.34 times the error, where a pass and a second check
had cost 13 times the best uniform mesh's evaluations, now 6.1 -- its 4 steps alone cost 4.35
times the 2 steps of that mesh).

Newton stops at ``NEWTON_SHARE`` of the tolerance where that is looser than the user's
``newton_tol`` (1e-12 by default): its error is then far below the tolerance, and the iterations
beyond cost kernel evaluations without changing a digit that the check can see (at 1e-3 the
exploratory solves took 3 iterations per step on a linear problem, now 2: affine, gauss2, 1e-3:
4.19 -> 3.22 times the best uniform mesh's evaluations; the study's rows at 1e-3 and 1e-6 took
3-25% less with the same errors).  Those solves (where the share is looser than ``newton_tol``)
also start each step's stages from the previous step's stage polynomial and stop Newton on its
contraction (``_loops.SHARED``: y = tan t, radau3 at 1e-3 and 1e-6, gauss2 at 1e-3: 1.41,
1.39, 1.70 -> 1.25, 1.19, 1.47 times the best uniform mesh's evaluations).

A check whose companion had to be the mesh with every interval bisected (the mesh of every
other point too coarse, or its solve failed) has solved a better solution than the one it
checks: that solution, checked with the checked mesh as its companion (solved already), is the
answer when it meets the tolerance (:func:`_refined_companion`).  When it does not, but
predicts fewer than ``PILOT_STEPS`` steps, its estimates (exact at every other point) show where
the error is made: their growth from one common point to the next is the local error of that
pair of steps, and the mesh is redrawn from them as from a pass (:func:`_profile_mesh`),
without one (tan t, gauss4, 1e-6: 1.43 of the best uniform mesh's evaluations, 1.91 with the
pass at the tolerance that the unknown rate called for).  The solve on every fourth
point that measures the rate of a check is exploratory (Newton capped as below).

A step that fails (Newton, a non-finite value) is retried with H/2, unless the user's function
itself returned NaN/inf at a finite, moderate y: that ends the solve with the point it happened.
After a failed Newton solve of an implicit method the pass's pairs are also at most SAFETY
2 F / lam, F the tableau's fold on y' = y^2 and lam the linearised growth rate
(:func:`_fold_cap`): beyond it a blow-up's stage equations have no root.  A step that holds
one whose exploratory Newton solve failed before (the uniform try's, a pass's pair) is not
solved again: a pass's pair over it is rejected as failed, and the solve on every fourth point
of a check fails there unsolved (:func:`_holds_failed`).
When H falls below ``max(1e-12 (T - t0), 100 eps |t|)`` the solution has a singularity there:
the solve ends as a failure at that t; a power law fitted to the last values extrapolates the
blow-up time (:func:`blow_up_time`).

A mesh accepted where the solve showed a sign of data that is not smooth is checked once more
with solves on every third point (:func:`_shifted_check`): every compared mesh shares the even
points, and the controller puts one just before a non-smooth point.  Where they disagree the
steps there are divided (:func:`_local_mesh`), at most ``LOCAL_ROUNDS`` times.

An explicit method (rk4) is stable only on steps of at most S / rho, with S the real stability
limit of its tableau (:attr:`ButcherTableau.stability_limit`; rk4: 2.785) and rho the
linearised problem's fastest decay; the step-doubling estimate does not see a longer step's
amplification while what it amplifies is small against the tolerance, and the global check then
finds no digit on the mesh of every other point. The pass's pairs are kept within LIMIT_SHARE
of it, probed at each pair (:func:`_controlled_pass`), and a redrawn mesh within half that
(:func:`within_caps`); a pass held there that would need more than ``max_steps`` steps stops as
"stiff", naming the limit and the steps (rk4 on y = 1 - 1e5 int y at 1e-3 failed after 4.5e10
kernel evaluations, two passes to 2^15 steps; on y' = -1e5 (y - cos t) - sin t it now stops
after 1e4).

The history sums use the direct O(n) block sums (the fast FFT history needs a uniform mesh).
"""
from __future__ import annotations

import dataclasses
import dis
import inspect
import math
import time

import numpy as np

from ..kernels import _user
from . import _loops
from ._estimate import _largest_difference
from ._estimate import (PAIR_FACTOR_MIN, RATE_FACTOR, estimate_error, pair_factor, refined_mesh,
                        shifted_estimate, trim_lead_in)
from ._outcome import FAILED, SUCCEEDED, companion, describe, run_guarded, unresolved_message
from ._interrupt import THREAD_WORK
from ._solution import Solution, largest_estimate
from ._tolerance import (EPS, HONEST, ROUNDING, STIFF, STIFF_ADVICE, _evaluator,
                         _unreliable_from, blow_up_time, compiled_entry, decay_rate, growth_rate,
                         over_tolerance, stiffness_scale, tolerance_of, unreachable,
                         unreachable_message, with_confirmed_digits)

__all__ = ["solve_adaptive", "remesh"]

SAFETY = 0.9
#: The local error allowed per unit step, as a share of the tolerance (local errors of
#: different steps partly cancel and partly decay; the global check catches the rest).
LOCAL_SHARE = 1.0
#: The fewest intervals whose global Richardson estimate is trusted as it is, and the fewest
#: trusted after a check of the observed rate of convergence (see the module docstring).
MIN_STEPS = 8
FEWEST_STEPS = 4
#: The controlled pass is a pilot at a tolerance PILOT^p times looser when the uniform try
#: predicts at least PILOT_STEPS steps (see :func:`_pilot_factor` and :func:`redraw`).
PILOT = 3
PILOT_STEPS = 24
#: The largest growth of the error constant per pair the controller extrapolates.
TREND = 10.0
#: Newton iterations allowed in the exploratory solves (the uniform try, its companions and the
#: steps of a controlled pass): a Newton solve that has not converged by then is a step too
#: large, which the driver shrinks anyway (solve_ivp's Radau allows 6).  With the user's cap (50)
#: a failing step cost 50 iterations, m^2 (1 + d) evaluations each with differenced Jacobians:
#: on y = tan t the failed steps were 40-60% of a pass.
TRIAL_MAXITER = 8
#: Newton stops at this share of the tolerance where that is looser than ``newton_tol``.
NEWTON_SHARE = 1e-3
#: The redrawn mesh aims at the tolerance itself (the model's error is conservative: the
#: redrawn meshes of y = tan t reached 0.4-0.6 of the tolerance with 1.1^p of safety), and
#: grades a little less than equal local errors would (``GRADE`` = 0.9 of that exponent): an
#: early local error grows with the solution (on tan t by sec^2 t / sec^2 s), so it is worth
#: more than a late one of the same size (tan t, 1e-9 to 1e-12: radau3 0.66-0.59, gauss2
#: 0.94-0.87, gauss4 0.82-0.70 of the best uniform mesh's evaluations against 0.78-0.69,
#: 1.10-1.03, 0.87-0.74 with 1.1^p and 1).
REDRAW_SAFETY = 1.0
GRADE = 0.9
#: A pass's pair whose local error is below CANCEL times the largest happened to cancel
#: (:func:`redraw`: it is raised to that).  The pairs of a uniform solve's profile
#: (:func:`_profile_mesh`) are raised so only where they dip below CANCEL times the largest on
#: both sides, and elsewhere only as far as steps STRETCH times longer than the shortest
#: (:func:`_profile_floor`).
CANCEL = 1e-3
STRETCH = 8.0
#: The shifted check of an accepted mesh (:func:`_shifted_check`): where it disagrees, the
#: steps around the point where it starts to (then those over which the estimate rises by
#: more than LOCAL_RISE of its largest value), LOCAL_REACH on each side, are divided into up
#: to LOCAL_SPLIT pieces each (:func:`_local_mesh`), at most LOCAL_ROUNDS times.
LOCAL_ROUNDS, LOCAL_SPLIT, LOCAL_REACH, LOCAL_RISE = 10, 16, 3, 0.05
#: A pass whose steps dip by this factor somewhere inside (:func:`_dips`) is checked so.
DIP = 8.0
#: ... and one whose local error, where a pair was rejected and retried shorter from the same
#: point, fell slower than H^((p + 1) / SLOW) (:func:`_falls_slowly`).
SLOW = 2.0
#: ... measured on retries at least RETRY times shorter (a pair rejected by a small factor is
#: retried a little shorter, and the exponent of the two is noise).
RETRY = 2.0
#: A pair whose local error falls slowly (:func:`_falls_slowly`: like H, over a jump of K, g
#: or y) is accepted once that error is at most ROUGH_SHARE of the tolerance, per step rather
#: than per unit step: the error per unit step of such a pair does not fall as it shrinks, and
#: the pass collapsed there (rk4, K jumping in s at 0.503, rtol 1e-6: "blow-up" at |y| = 2.3;
#: radau2 to 2^15 uniform steps, 1.3e10 kernel evaluations, and failed).  One such pair per
#: jump: its error persists in every later value, and the global check measures it.
ROUGH_SHARE = 0.1
#: An explicit method's pass stops as stiff (:func:`_controlled_pass`) once the pairs of its
#: stability limit's length to the end would take it past ``max_steps``, for HELD pairs in a
#: row ...
HELD = 8
#: The pairs of an explicit method are at most LIMIT_SHARE of its stability limit long: at the
#: limit (|R| = 1) the companion of the check, whose steps are the pairs, keeps the decaying
#: mode's errors undamped, and its estimate rose with them (rk4 on y' = -1e3 (y - cos t) -
#: sin t at 1e-6: 14.5 times the tolerance on the pilot's 720 steps, redrawn to 1402, 3.5e7
#: kernel evaluations; with 0.8, |R| = 0.44: the pilot's 898 steps met it, 1.5e7).
LIMIT_SHARE = 0.8
#: ... whatever holds them (the steps to T are counted with pairs of the limit's length, the
#: longest there can be: y' = -1e5 (y - cos t) - sin t at 1e-9, a pilot of 32768 steps of 0.9
#: times the limit reached t = 0.33, and the pass at the tolerance, of 0.3 times, 0.11), but
#: not while the solution settles: its change over a pair falls by e^(-SETTLE rho H) or more
#: (half the decay of the stiff mode), or is at the rounding level (rk4 on y = 1 - 1e5 int y:
#: the decay ends at y = 0 exactly, whence the steps grow freely).
SETTLE = 0.5
#: The lag sums a pass keeps for its pairs to take again (:func:`._loops._lag_sum`).
LAG_SUMS = 16


#: A step collapse where the solution's largest component is at most CREST of its rise below
#: its largest size so far is one on a rising solution (:func:`_rises`).
CREST = 1e-3


#: The differences of g that show it is not smooth at the scale of a step, in units of the
#: tolerance (:func:`_rough_forcing`).
ROUGH_G = 100.0


def remesh(t, n):
    """A mesh of ``n`` intervals with the step-size profile of ``t`` (its points spread evenly
    in the index of ``t``, which is interpolated linearly): the grading the controller found,
    at another resolution."""
    out = np.interp(np.linspace(0.0, len(t) - 1, n + 1), np.arange(len(t)), t)
    out[0], out[-1] = t[0], t[-1]
    return out


#: A mesh's odd point this many units in the last place (of its pair's ends) from the middle
#: of its neighbours is a half already, and :func:`_paired` keeps it.
PAIRED_ULPS = 4.0


def _paired(t):
    """``t`` with every odd point moved to the middle of its neighbours: the mesh with every
    interval of its mesh of every other point (the companion of :mod:`._estimate`) bisected,
    whose Richardson estimate assumes that each companion step is two of the mesh's.  Every
    mesh the driver draws (:func:`redraw`, :func:`remesh`, :func:`_local_mesh`) is paired so
    (the controlled pass's pairs are halves already; a smooth profile moves by little).  (A
    mesh locally refined where a step of 0.0475 followed one of 0.003 paired the two in the
    companion, which then all but repeated the long step: gauss4 on y = cos 30 t to rtol
    1e-3 was a success on 665 steps with an error of 4.3e-6 and an estimate of 1.1e-7, 39
    times below it; with the pairs bisected, 1.9e-7 and 1.7e-7.)  A last step without a
    partner (an odd number of steps) stays.

    A point within PAIRED_ULPS units in the last place (of its pair's ends) of the middle is
    a half already and stays as it is: the controlled pass stores t_2k + H / 2, which can be
    an ulp from 0.5 (t_2k + t_2k+2), and moving it made a locally divided mesh miss a point of
    the answer before the division (:func:`_change`: not nested), whose change then did not
    enter the estimate (K = a |s - b| y + c y: radau3 at 1e-8, an error 234 times the
    estimate; rk4 at 1e-6, 44.6 times; radau3 at 1e-10, 40.2 times)."""
    out = t.copy()
    ends = t[:-2:2], t[2::2]
    middle = 0.5 * (ends[0] + ends[1])
    odd = out[1:-1:2]                              # (a view: written into ``out``)
    ulp = np.spacing(np.maximum(np.abs(ends[0]), np.abs(ends[1])))
    moved = ~(np.abs(odd - middle) <= PAIRED_ULPS * ulp)
    odd[moved] = middle[moved]
    return out


def redraw(t, local, p, ratio, max_steps, floor=CANCEL):
    """A mesh for the tolerance from a controlled pass on ``t`` (pairs of half steps, pair j
    with local error ``local[j]`` over the tolerance) whose global check found error/tolerance
    ``ratio``.

    With C(s) = local / H^(p+1) the local error constant of each pair, the global error of a
    mesh is modelled as sum C h^(p+1) over its steps; for N steps it is least where the step
    size is h ~ C^(-1/(p+1)) (equal local error per step, which the pass's error per unit step,
    h ~ C^(-1/p), grades too strongly; the mesh uses h ~ C^(-GRADE/(p+1)), see ``GRADE``), and
    N is chosen so that the model, scaled to the pass's measured ``ratio``, gives
    REDRAW_SAFETY^-p.  A pair's local error below ``floor`` times the largest is raised to that
    (a pair that happened to cancel: ``CANCEL``; see :func:`_profile_floor` for a uniform
    solve's profile).
    """
    edges = t[::2]
    H = np.diff(edges)
    local = np.maximum(local, floor * local.max())
    C = local / H ** (p + 1)
    density = C ** (GRADE / (p + 1))
    mass = np.concatenate([[0.0], np.cumsum(density * H)])
    # model errors of the pass (two steps of H/2 per pair) and of N equal-mass steps (times N^p)
    pass_error = np.sum(2.0 * C * (H / 2.0) ** (p + 1))
    unit_error = mass[-1] ** p * np.sum(C * density ** -p * H)
    n = math.ceil((REDRAW_SAFETY ** p * ratio * unit_error / pass_error) ** (1.0 / p))
    n = min(max(MIN_STEPS, n + n % 2), max_steps)
    out = np.interp(np.linspace(0.0, mass[-1], n + 1), mass, edges)
    out[0], out[-1] = edges[0], edges[-1]
    return out


def within_caps(mesh, t, caps):
    """``mesh`` (redrawn from the pass on ``t``, once) with each step longer than half the
    stability limit of the pass's pairs it overlaps (``caps``, one per pair of ``t``, inf where
    none) divided into equal steps within it: the redraw sizes steps by their local errors
    only, and where an explicit method's steps were held by its stability limit those are
    small (y decays), so that it drew steps that amplify the decaying mode; with at most half
    the limit, the companion's steps (every other point, two of the mesh's) are within it
    too."""
    caps = np.asarray(caps, dtype=float)
    if not len(caps) or not np.any(np.isfinite(caps)):
        return mesh
    edges = t[::2]
    first = np.clip(np.searchsorted(edges, mesh[:-1], side="right") - 1, 0, len(caps) - 1)
    last = np.clip(np.searchsorted(edges, mesh[1:], side="left") - 1, 0, len(caps) - 1)
    pieces = []
    for j in range(len(mesh) - 1):
        a, b = mesh[j], mesh[j + 1]
        limit = 0.5 * float(np.min(caps[first[j]:last[j] + 1]))
        k = math.ceil((b - a) / limit) if b - a > limit else 1
        pieces.append(np.linspace(a, b, k + 1)[:-1] if k > 1 else mesh[j:j + 1])
    return np.concatenate(pieces + [mesh[-1:]])


def _stable_mesh(kernel, t, Y, limit):
    """(mesh, evaluations, (t, rho)): ``t`` with the pairs of steps (2k, 2k + 1) that hold a
    step beyond an explicit method's stability limit divided, each into equal steps of at most
    LIMIT_SHARE / 2 of it, or None where every step is within it or sits at a fixed point
    (Y bit-equal at both ends: y = 0 exactly after a decay, where the controlled pass lifts
    its limit); (t, rho) of the first step beyond it.  A step of h is beyond it where
    h rho > ``limit``, rho the linearised problem's fastest decay at its start
    (:func:`._tolerance.decay_rate`, d + 1 kernel evaluations a step that is not at a fixed
    point).  A mesh drawn from a pass that lifted its limit at a fixed point need not reach
    that fixed point as early: rk4 on y = 1 - 100 int y at 1e-6, the pass's 80 steps refined to
    160 with steps of up to 8.9 / lam from t = 0.42, where y was 1e-18 and not yet 0, ended a
    success with an error of 2.2e-6 and an estimate of 1e-7 (the mesh and its companion
    amplifying it apart)."""
    n = len(t) - 1
    moving = np.any(Y[1:].reshape(n, -1) != Y[:-1].reshape(n, -1), axis=1)
    h = np.diff(t)
    calls, pieces, where = 0, np.ones(n, dtype=int), None
    for k in np.nonzero(moving)[0].tolist():
        rho, used = decay_rate(kernel, float(t[k]), Y[k])
        calls += used
        if h[k] * rho > limit:                          # (NaN: not known)
            pieces[k] = math.ceil(h[k] * rho / (0.5 * LIMIT_SHARE * limit))
            where = where or (float(t[k]), rho)
    if where is None:
        return None, calls, None
    pair = np.maximum(pieces[0::2], np.append(pieces[1::2], 1)[:len(pieces[0::2])])
    pieces = np.repeat(pair, 2)[:n]
    parts = [np.linspace(t[k], t[k + 1], pieces[k] + 1)[:-1] for k in range(n)]
    return _paired(np.concatenate(parts + [t[-1:]])), calls, where


def _trial_newton_tol(newton_tol, rtol, atol):
    """The Newton tolerance of the exploratory solves: NEWTON_SHARE of the solve's tolerance
    where that is looser than ``newton_tol``."""
    share = NEWTON_SHARE * min(float(np.min(rtol)), float(np.min(atol)))
    return max(newton_tol, share)


def _pilot_factor(tried, ratio, p):
    """How many times looser than the tolerance the controlled pass runs, or None for no pass.

    1 without a uniform try (a given first step).  None when the uniform try predicts fewer
    than PILOT_STEPS steps: the uniform mesh is refined instead (on a few steps a controlled
    pass costs about 3.5 solves on its mesh, more than its steps can save).  Otherwise PILOT^p
    (about a third of the steps and a ninth of the cost of a pass at the tolerance), also when
    the uniform try found no correct digit or failed.
    """
    if not tried:
        return 1.0
    if math.isfinite(ratio) and FEWEST_STEPS * ratio ** (1.0 / p) < PILOT_STEPS:
        return None
    return float(PILOT) ** p


def _first_step(span, ratio, loose, p, converged_first=False, steps=FEWEST_STEPS):
    """The controlled pass's first step from the uniform try (of span / ``steps``): its
    global error over the pass's tolerance, r = ratio / loose, scaled as a step's error ~ H^p;
    half the try's step where the try failed or found no correct digit, the try's step where
    it failed later than its first step (``converged_first``: its first steps converged, and the
    pass's pairs grow from there; y = tan t fails in the last step)."""
    h = span / steps
    ratio = ratio / loose
    if not math.isfinite(ratio):
        return h if converged_first else h / 2.0
    return h * min(1.0, SAFETY * ratio ** (-1.0 / p))


def _sizing_order(comp, p):
    """The order the next mesh is sized with: the observed one where the differences fell
    faster than 2^p, up to p + 1 (the estimate takes at most p + 1/2, which keeps it on the safe
    side; the size is a prediction, checked again), else p or the estimate's."""
    rate = comp.rate
    if rate is not None and math.isfinite(rate) and rate > 2.0 ** p:
        return min(p + 1.0, math.log2(rate))
    return max(p, comp.order)


def _restated(q, order):
    """The factor (2^q - 1) / (2^order - 1) that restates an estimate made with the order q as
    the one the (higher) sizing order gives, 1 for an order not above q."""
    if not (math.isfinite(q) and order > q):
        return 1.0
    return (2.0 ** q - 1.0) / (2.0 ** order - 1.0)


def _refined_steps(N, ratio, p, max_steps):
    """How many steps the next global pass takes after a check with error/tolerance ``ratio``
    on N steps (an estimate made with a lower order than the sizing order ``p`` is restated
    with p by the caller, :func:`_restated`: on y = 1 - int y^2, gauss2, 1e-9 the uniform try's
    differences fell at 2^5.6, its estimate took the order 4.5, and sizing that with 5 gave 12
    steps, 26 times below the tolerance; now 10, 9 times below, the best uniform mesh 7: 4.21
    -> 3.50 times its evaluations): the error falls like N^-p, so N (1.1 ratio^(1/p)) with at
    least 10% more (twice as many where the companion found no correct digit), at least
    FEWEST_STEPS (MIN_STEPS from FEWEST_STEPS on), an even number (the companion takes every
    other point), at most ``max_steps``."""
    grow = 2.0 if not math.isfinite(ratio) else min(16.0, max(1.1, 1.1 * ratio ** (1.0 / p)))
    n = max(MIN_STEPS if N >= FEWEST_STEPS else FEWEST_STEPS, math.ceil(N * grow))
    return min(n + n % 2, max_steps)


def _failed_step(mesh, out):
    """(a, b): the step of ``mesh`` whose Newton solve failed in the run result ``out``
    (``index`` is the end of the step that failed), or None where it did not fail in Newton."""
    if out.status != _loops.NEWTON_FAILED or not 1 <= out.index < len(mesh):
        return None
    return float(mesh[out.index - 1]), float(mesh[out.index])


def _holds_failed(a, b, failed):
    """Whether the step from ``a`` to ``b`` holds a whole step of ``failed`` (a list of (start,
    end) of steps whose exploratory Newton solve failed): a longer step over the same stretch,
    whose stage equations reach at least as far, from values no further along.  Newton at the
    exploratory cap fails on such a step as on the one it holds (y = tan t: the uniform try's
    last step from 1.125 to 1.5, and a pilot pass's pair from 0.375 to 1.5, fail alike; the
    solve on every fourth point of a pass's mesh repeats the pair that failed in the pass)."""
    return any(a <= x and y <= b for x, y in failed)


def _known_to_fail(mesh, failed):
    """The index of the end of the first step of ``mesh`` that holds a step of ``failed``
    (:func:`_holds_failed`), or None."""
    if not failed:
        return None
    for k in range(1, len(mesh)):
        if _holds_failed(float(mesh[k - 1]), float(mesh[k]), failed):
            return k
    return None


class _Store:
    """The growing mesh, mesh values and stage rows of the accepted steps."""

    def __init__(self, y0, m, capacity=64):
        d = y0.shape[0]
        self.m, self.d = m, d
        self.t = np.empty(capacity + 1)
        self.Y = np.empty((capacity + 1, d))
        self.Z = np.zeros((capacity * m + 2 * m, d))
        self.ts = np.zeros(capacity * m + 2 * m)
        self.wz = np.zeros(capacity * m + 2 * m)
        self.n = 0
        self.Y[0] = y0
        self.local = []     # the local error of each accepted pair, over the tolerance
        self.caps = []      # the stability limit of each accepted pair's length (inf: none)
        self.rough = False  # a retried pair's local error fell slowly (:func:`_falls_slowly`)
        self.stiff = None   # (t, rho, S, steps to T, steps in all) of a pass stopped as stiff
        self.failed = []    # (start, end) of the pairs whose Newton solve failed

    def reserve(self, steps):
        """Room for ``steps`` more accepted intervals (and the trial rows of a pair)."""
        need = self.n + steps
        if need + 1 <= self.t.shape[0]:
            return
        cap = max(2 * (self.t.shape[0] - 1), need)
        for name in ("t", "Y"):
            old = getattr(self, name)
            new = np.empty((cap + 1,) + old.shape[1:])
            new[:old.shape[0]] = old
            setattr(self, name, new)
        for name in ("Z", "ts", "wz"):
            old = getattr(self, name)
            new = np.zeros((cap * self.m + 2 * self.m,) + old.shape[1:])
            new[:old.shape[0]] = old
            setattr(self, name, new)


def solve_adaptive(meth, kernel, g_vec, t0, T, *, rtol, atol, newton_tol, newton_maxiter, args,
                   run, stats, t_eval=None, h0=None, max_steps=2 ** 15):
    """Solve with step-size control to ``atol + rtol |y|`` (see the module docstring).

    ``run(mesh) -> Run`` is the plain solve on a mesh (for the companion and refinements);
    ``stats(counts)`` makes the stats dict.  Returns a :class:`Solution`.
    """
    start = time.perf_counter()
    p = meth.order
    # (K not reading t, an ODE: collocation converges faster than 2^p at the mesh points, see
    # _global_check)
    superconverging = not _names(kernel, 0)
    trial_maxiter = min(newton_maxiter, TRIAL_MAXITER)
    trial_tol = _trial_newton_tol(newton_tol, rtol, atol)
    reused = _reusing(run, trial_tol)
    solved = set()      # the meshes solved without a failure (a repeat is free: _reusing)

    def run(mesh, **options):
        out = reused(mesh, **options)
        if out.status == 0:
            solved.add(mesh.tobytes())
        return out
    refinements, total, trusted, t_first, try_ratio = [], 0, False, None, math.inf
    profile = None
    # the shifted check (:func:`_shifted_check`): the mesh refined where it disagreed, the
    # rounds of that so far, and the point it last disagreed from (None once it agrees)
    suspect, rounds, non_smooth = None, 0, None
    rough = False       # a sign of data that is not smooth: the shifted check runs
    previous = None     # (mesh, values) before the last division of steps where g is not smooth
    checked = []        # (mesh, values, estimate, ratio) of every solution checked so far
    tightest = math.inf     # the tightest tolerance factor of a controlled pass so far
    jumps = []              # (x, rho) of the stiff jumps located (see _stiff_ends)
    restarted = False       # a pass from a step resolving a stiff start ran (or was weighed)
    unprobed = []           # (the sentence of a stiffness probe the user's K refused)
    caps = []               # the stability limits of the last pass's pairs (explicit methods)
    limit = meth.tableau.stability_limit if meth.tableau.explicit else None

    # the steps (start, end) whose exploratory Newton solve failed (in a solve or a pass's
    # pair), and a solve's result to shape the failures foretold from them (see rate_explore)
    failed, shape = [], []

    def explore(mesh):
        out = run(mesh, newton_maxiter=trial_maxiter, newton_tol=trial_tol, exploring=True)
        step = _failed_step(mesh, out)
        if step is not None:
            failed.append(step)
        shape[:] = [out]
        return out

    def rate_explore(mesh):
        """``explore`` for the solves on every fourth point of the checks: a mesh with a step
        that holds one whose exploratory Newton solve failed (:func:`_holds_failed`) fails there
        unsolved, as it would solved (tan t, radau3, 1e-3: the pass's pair from 0.9375 to 1.4257
        failed, and the solve on every fourth point of its mesh took that step and failed there
        too, 210 kernel evaluations, 0.11 of the best uniform mesh's).  Only a rate takes it: a
        failed rate solve leaves no trace but the rate's absence, whatever the step it fails
        in, and so nothing else changes."""
        k = _known_to_fail(mesh, failed)
        if k is None or not shape or mesh.tobytes() in solved:
            return explore(mesh)
        out = shape[0]
        return dataclasses.replace(out, Y=np.full((len(mesh),) + out.Y.shape[1:], np.nan),
                                   status=_loops.NEWTON_FAILED, index=k, keep=k,
                                   counts=np.zeros_like(out.counts), stages=None, record=None)

    def controlled(loose, first_step):
        """(t, Y, stages, local errors, stats) of a controlled pass at ``loose`` times the
        tolerance from ``first_step``, run again at the tolerance where it cannot reach the
        end (its values are then the answer), or the failed :class:`Solution`."""
        nonlocal total, rough

        def once(loose):
            nonlocal tightest
            tightest = min(tightest, loose)
            out = _controlled_pass(meth, kernel, g_vec, t0, T, rtol * loose, atol * loose,
                                   trial_tol, trial_maxiter, args, first_step, max_steps,
                                   trial_tol > newton_tol, sorted(jumps), failed)
            failed.extend(out[0].failed)
            return out
        store, counts, rejected, failure, kernel_failure, h_floor = once(loose)
        if failure is not None and loose > 1.0:
            # (also a pilot out of steps or stopped as stiff: rk4 on y = 1 - 1e5 int y at 1e-9
            # ran out of 2^15 steps at the pilot's tolerance, near its stability limit, and
            # took 19264 at the tolerance, where its decay ends at y = 0 exactly)
            total += int(counts[0])
            loose = 1.0
            store, counts, rejected, failure, kernel_failure, h_floor = once(loose)
        n = store.n
        caps[:] = store.caps
        t, Y = store.t[:n + 1].copy(), store.Y[:n + 1].copy()
        info = stats(counts)
        info.update(rejected_steps=rejected, adaptive_steps=n, pilot_factor=loose,
                    rtol=rtol, atol=atol, failure=None)
        total += int(counts[0])
        if failure is not None:
            return _failed_pass(t, Y, failure, kernel_failure, h_floor, max_steps, run, p,
                                meth, kernel, info, total, start, t_eval, store.stiff)
        rough = rough or _dips(t) or store.rough
        return t, Y, store.Z[:n * store.m].copy(), np.asarray(store.local), info

    def uniform_info(counts):   # the stats of a mesh solved without a controlled pass
        info = stats(counts)
        info.update(rejected_steps=0, adaptive_steps=0, pilot_factor=None, rtol=rtol, atol=atol,
                    failure=None)
        return info

    if h0 is None:
        # the fewest uniform steps whose estimate can be checked: at loose tolerances on a
        # smooth problem that is the whole solve, at a fraction of a controlled pass
        t = np.linspace(t0, T, FEWEST_STEPS + 1)
        first, t_first = explore(t), t
        total += int(first.counts[0])
        if first.status == 0:
            comp, ratio, trusted, calls = _global_check(explore, t, first.Y, p, rtol, atol,
                                                        rate_explore, superconverging)
            total += calls
            refinements.append((FEWEST_STEPS, ratio))
            checked.append((t, first.Y, comp.estimate, ratio, _converges_at_rate(comp, p)))
            rough = _rough(comp, p)
            try_ratio = ratio * comp.sizing         # sized with the method's order
            if not trusted:
                better = _refined_companion(explore, comp, t, p, rtol, atol, refinements,
                                            rate_explore, keep_untrusted=True,
                                            superconverging=superconverging)
                if better is not None:
                    total += better[-1]
                    checked.append((better[1], better[0].Y, better[2].estimate, better[3],
                                    _converges_at_rate(better[2], p)))
                    rough = rough or _rough(better[2], p)
                    if better[4]:
                        first, t, comp, ratio, trusted, calls = better
                    else:
                        profile = better
        if trusted:
            rough_steps, _, calls, located, _ = _rough_data(g_vec, kernel, t, first.Y, p,
                                                            rtol, atol, meth.tableau.c)
            total += calls
            if located:     # (a pass at the tolerance that resolves their transients)
                trusted, jumps[:] = False, located
            rough = rough or bool(rough_steps.any())
        if trusted and rough:
            over, i, calls = _shifted_check(explore, t, first.Y, comp, p, rtol, atol,
                                            meth.min_steps, [x for x, _ in jumps])
            total += calls
            if over is not None and over.max() > 1.0:
                trusted, rounds, previous = False, 1, (t, first.Y)
                suspect = _local_mesh(t, _made_here(over, i), float(over.max()))
                non_smooth = float(t[i])
                profile = (first, t)            # (to fall back on if its refinement fails)
            elif rough_steps.any():     # (confirmed by dividing them: see _raised)
                trusted, rounds, previous = False, 1, (t, first.Y)
                suspect = _local_mesh(t, rough_steps, LOCAL_SPLIT, _rough_split(p))
                profile = (first, t)
        if trusted and limit is not None:
            stable, calls, _ = _stable_mesh(kernel, t, first.Y, limit)
            total += calls
            trusted = stable is None        # (else as a try that missed: refined or a pass)
        if trusted:
            Y, stages, info = first.Y, first.stages, uniform_info(first.counts)
    if not trusted:
        if jumps:
            suspect, loose, drawn = None, 1.0, None
        elif suspect is not None:     # the uniform try, refined where the shifted check disagreed
            loose, drawn, suspect = 1.0, suspect, None
        else:
            loose = _pilot_factor(t_first is not None, try_ratio, p)
            if loose is None:       # a few steps predicted: uniform, if converging at the rate
                loose = None if _converges_at_rate(comp, p) else 1.0
            drawn = None if loose is None or profile is None else _profile_mesh(
                profile, p, rtol, atol, max_steps)
        uniform = loose is None     # (refined uniformly until it needs PILOT_STEPS)
        if uniform:
            t, Y, stages, local = t_first, first.Y, first.stages, None
            info = uniform_info(first.counts)
        elif drawn is not None:
            fine = run(drawn)
            total += int(fine.counts[0])
            t, Y, stages, local = drawn, fine.Y, fine.stages, None
            info = uniform_info(fine.counts)
            if fine.status != 0:
                t, Y, stages = profile[1], profile[0].Y, profile[0].stages
                non_smooth = None
        else:
            passed = controlled(loose, h0 if h0 is not None else _first_step(
                T - t0, try_ratio, loose, p, first.status != 0 and first.index > 1))
            if isinstance(passed, Solution):
                return passed
            t, Y, stages, local, info = passed
        while True:
            if refinements and t_first is not None and len(t) == len(t_first) and \
                    np.array_equal(t, t_first):
                trusted = False                     # the uniform try, already checked
            else:
                comp, ratio, trusted, calls = _global_check(run, t, Y, p, rtol, atol,
                                                            rate_explore, superconverging)
                total += calls
                refinements.append((len(t) - 1, ratio))
                checked.append((t, Y, comp.estimate, ratio, _converges_at_rate(comp, p)))
                rough = rough or _rough(comp, p)
                better = None if trusted else _refined_companion(
                    run, comp, t, p, rtol, atol, refinements, rate_explore,
                    superconverging=superconverging)
                if better is not None:
                    rough = rough or _rough(better[2], p)
                    checked.append((better[1], better[0].Y, better[2].estimate, better[3],
                                    _converges_at_rate(better[2], p)))
                    fine, t, comp, ratio, trusted, calls = better
                    total += calls
                    Y, stages = fine.Y, fine.stages
            if trusted and limit is not None:
                stable, calls, where = _stable_mesh(kernel, t, Y, limit)
                total += calls
                if stable is not None and len(stable) - 1 > max_steps:
                    info.update(comp.stats(), nfev=total, refinements=refinements,
                                failure="stiff", seconds=time.perf_counter() - start,
                                max_error_estimate=float(np.max(comp.estimate)))
                    return Solution(t, Y, scalar=kernel.scalar, status=FAILED, message=(
                        f"The problem is stiff for the explicit method {meth.name!r}: the mesh "
                        f"that meets the tolerance ({len(t) - 1} steps) has steps beyond its "
                        f"stability limit, {limit:.4g} / rho = {limit / where[1]:.3g} at "
                        f"t = {where[0]:.6g} (rho = {where[1]:.3g}, the fastest decay of the "
                        f"linearised problem there, the largest |eigenvalue| of dK/dy at s = t), "
                        f"and within it needs {len(stable) - 1} steps, more than the "
                        f"{max_steps} allowed.  {STIFF_ADVICE}"), stats=info, method=meth.name,
                        order=p, t_failure=where[0], error_estimate=comp.estimate, t_eval=t_eval)
                if stable is not None:
                    trusted, suspect = False, stable
            if trusted:
                rough_steps, blind, calls, located, kinked = _rough_data(
                    g_vec, kernel, t, Y, p, rtol, atol, meth.tableau.c, [x for x, _ in jumps])
                total += calls
                located = _new_jumps(located, jumps, T - t0)
                if located:
                    # a pass at the tolerance that resolves their transients (dividing the
                    # steps around them, round after round, left the steps after a jump
                    # many e-folds long)
                    jumps.extend(located)
                    passed = controlled(1.0, _first_step(T - t0, ratio, 1.0, p,
                                                         steps=len(t) - 1))
                    if isinstance(passed, Solution):
                        return passed
                    t, Y, stages, local, info = passed
                    continue
            if trusted and not rough:
                rough = _disagree(checked, t, Y, comp.estimate, rtol, atol) or \
                    _too_fast(checked, p) or bool(rough_steps.any())
            if trusted and not rough:
                non_smooth = None
                break
            if trusted:
                over, i, calls = _shifted_check(run, t, Y, comp, p, rtol, atol, meth.min_steps,
                                                [x for x, _ in jumps])
                total += calls
                if over is None or over.max() <= 1.0:
                    non_smooth = None
                    # steps divided where g is not smooth or where a check disagreed: the
                    # answer stands where the last division changed it by less than the
                    # tolerance (see _raised)
                    change = _change(previous, t, Y) if previous is not None else None
                    if change is not None and np.any(rough_steps & _kept(previous[0], t) |
                                                     blind | kinked & _from_old(previous[0], t)):
                        change = None   # (that division left a step where the data are not
                        # smooth as it was: radau2, g with a kink at 0.618, rtol 1e-8, was
                        # accepted at 42 times the tolerance on a division nearby; or a jump
                        # in a blind end, which the change of the answer cannot show; or a
                        # kink of K in s still standing out in a piece that starts where its
                        # step did, whose miss, made by its offset from there, the division
                        # did not change: radau4 on K = a |s - b| y + c y at 1e-10, the kink
                        # 1e-5 after a point, 22 -> 112 steps changed the answer by 5.6e-16
                        # for an error of 1.5e-11)
                    if change is None and not rough_steps.any():
                        break
                    if change is not None:
                        comp.estimate, ratio = _raised(change, comp.estimate, Y, rtol, atol)
                        if ratio <= 1.0:
                            break
                    steps = rough_steps if rough_steps.any() else _where_changed(
                        previous, t, change, rtol, atol)
                    trusted, previous = False, (t, Y)
                    if rounds >= LOCAL_ROUNDS:
                        break
                    if steps is not None:       # (else refined as a whole, below)
                        rounds += 1
                        suspect = _local_mesh(t, steps, LOCAL_SPLIT,
                                              _rough_split(p) if rough_steps.any() else 1)
                else:
                    trusted, ratio, previous = False, float(over.max()), (t, Y)
                    non_smooth = float(t[i])
                    if rounds >= LOCAL_ROUNDS:
                        break
                    rounds += 1
                    # (and the steps where the data are not smooth: else, refined where the
                    # shifted check disagreed round after round, they were left as they were
                    # and the rounds ran out; see _standing_out)
                    suspect = _local_mesh(t, _made_here(over, i) | rough_steps, ratio)
            else:
                non_smooth = None
                here = None
                if comp.first_bad is None and (rounds or rough and tightest <= 1.0):
                    # (the shifted check found a non-smooth point, or a pass at the tolerance
                    # showed signs of one: refined where the error is made, not as a whole:
                    # gauss4, K jumping in s at 0.618, rtol 1e-10, whose pass at the tolerance
                    # stepped over the jump after the last Gauss points of its pair, refined
                    # the pass's profile to 2^15 steps, 4.9e10 kernel evaluations, and failed)
                    here = _where_made(comp.estimate, Y, rtol, atol)
                if here is not None:
                    non_smooth, previous = float(t[int(np.argmax(here))]), (t, Y)
                    if rounds >= LOCAL_ROUNDS:
                        break
                    rounds += 1
                    suspect = _local_mesh(t, here, ratio)
            if not trusted and comp.first_bad is not None and tightest < math.inf:
                # no reliable digit after a pass: where a stiff jump of the data starts a
                # transient that the method does not damp (Gauss, R(inf) = +-1), no mesh is
                # ever trusted, so the data check above never runs: the jumps are located on
                # this mesh (its values only scale the tolerance and the decay probes) and a
                # pass at the tolerance resolves their transients (gauss3, K jumping in s at
                # 0.5, y = 1 - 1e6 int H(s - 0.5) y at 1e-3: refined uniformly to 2^15 steps,
                # 1.3e10 evaluations, and failed)
                located, calls = _stiff_jumps(g_vec, kernel, t, Y, p, rtol, atol,
                                              meth.tableau.c, jumps, T - t0)
                total += calls
                if located:
                    jumps.extend(located)
                    suspect = None      # (a mesh refined from this one would not keep them)
                    passed = controlled(1.0, _first_step(T - t0, ratio, 1.0, p,
                                                         steps=len(t) - 1))
                    if isinstance(passed, Solution):
                        return passed
                    t, Y, stages, local, info = passed
                    continue
            if not trusted and not restarted and suspect is None and not rounds and \
                    tightest < math.inf and (comp.first_bad is not None or
                                                (comp.rate is not None and comp.rate < 1.0)):
                # not converging after a pass (no digit, or differences that grew with the
                # steps; an estimate that merely rose is not enough: on smooth problems the
                # probe below then cost its 2 evaluations in 3 of 180 solves): where the first
                # step spans more than STIFF e-folds of the linearised problem, the meshes miss
                # the stiff transient alike (see :func:`_resolved_step`): a pass at the
                # tolerance from a step that resolves it.
                # (Not before a pass: one that raised the estimate turns to a pass below, a
                # pilot where it predicts PILOT_STEPS; y = 1 - 1000 int y, radau3, 1e-6: 28
                # steps, 68 with this pass at the tolerance instead.)
                restarted = True
                h, calls = _resolved_step(kernel, t0, Y[0], t, unprobed)
                total += calls
                if h is not None:
                    uniform = False
                    passed = controlled(1.0, h)
                    if isinstance(passed, Solution):
                        return passed
                    t, Y, stages, local, info = passed
                    continue
            if len(t) - 1 >= max_steps:
                break
            # (stalled: the estimate over the tolerance fell by less than half with the last
            # refinement, where at least 1.1^p steps more make it fall like N^-p)
            out_of_reach = unreachable(
                Y, comp.estimate, rtol, atol,
                len(refinements) >= 2 and 0.5 * refinements[-2][1] <= refinements[-1][1]) \
                if comp.first_bad is None and suspect is None else None
            if out_of_reach is not None:
                info.update(comp.stats(), nfev=total, refinements=refinements,
                            failure="tolerance", seconds=time.perf_counter() - start,
                            max_error_estimate=float(np.max(comp.estimate)))
                return Solution(t, Y, scalar=kernel.scalar, status=FAILED,
                                message="The tolerance could not be met: " + unreachable_message(
                                    t, Y, comp.estimate, out_of_reach, rtol, atol),
                                stats=info, method=meth.name, order=p,
                                t_failure=float(t[out_of_reach[0]]),
                                error_estimate=comp.estimate, t_eval=t_eval)
            sized = ratio * comp.sizing     # (accepted by ratio, sized with p or a higher order)
            if suspect is not None:
                t, suspect = suspect, None
            elif local is not None and math.isfinite(ratio) and local.max() > 0:
                t = _paired(_with_jumps(within_caps(redraw(t, local, p, sized, max_steps), t,
                                                    caps), jumps))
            else:
                order = _sizing_order(comp, p)
                n = _refined_steps(len(t) - 1, sized * _restated(comp.order, order), order,
                                   max_steps)
                # more steps that raised the estimate: not yet the asymptotic regime, where
                # refining the profile crawls (y = 1 - 1000 int y, radau3, 1e-4: 4, 8, 12, 20
                # steps, the estimate 1.3 to 7.6 times the tolerance, then on to 702 steps):
                # a pass at the tolerance
                rose = _rose(refinements)
                # (a rise by more than the 2^p that bisecting every step gains: the profile
                # misses a point where the data are not smooth; radau2, K jumping at 0.618,
                # rtol 1e-8: 16 -> 16500 times the tolerance from the pilot's mesh to its
                # redrawn one, then refined to 2^15 steps, 8.4e9 evaluations, and failed)
                jumped = rose and refinements[-1][1] > 2.0 ** p * refinements[-2][1]
                made = n >= PILOT_STEPS and (uniform or rough or jumped) and _made_here(
                    np.max(over_tolerance(comp.estimate, tolerance_of(Y, rtol, atol)), axis=1)) \
                    is not None
                loose = float(PILOT) ** p if n >= PILOT_STEPS and (uniform or not (
                    made or jumped)) else 1.0
                if comp.first_bad is None and loose < tightest and (rose or made):
                    # (or the error is made in a few steps: after the few uniform steps
                    # predicted, a pass, a pilot where it predicts PILOT_STEPS, as the uniform
                    # try would have run had it predicted so; after a pilot, a pass at the
                    # tolerance, whose steps over a jump of the data it missed are sized on
                    # their own (ROUGH_SHARE): radau2, K jumping in s at 0.503, rtol 1e-6
                    # refined the pilot's profile to 2^15 steps and failed)
                    after_pass, uniform = not uniform, False
                    passed = controlled(loose, _first_step(T - t0, ratio, loose, p,
                                                           steps=len(t) - 1))
                    here = _where_made(comp.estimate, Y, rtol, atol) \
                        if isinstance(passed, Solution) and after_pass and not rose else None
                    if here is None:
                        if isinstance(passed, Solution):
                            return passed
                        t, Y, stages, local, info = passed
                        continue
                    # (that pass did not reach the end: this mesh is refined where the error
                    # is made; rk4, g with a kink at 0.5, rtol 1e-10: its steps collapsed
                    # just after the kink)
                    rounds, previous = rounds + 1, (t, Y)
                    t = _local_mesh(t, here, ratio)
                else:
                    t = _paired(_with_jumps(remesh(t, n), jumps))
            local = None
            fine = run(t)
            total += int(fine.counts[0])
            if fine.status != 0:
                message, kind = describe(fine.status, float(t[fine.index]), 0, fine.record)
                info.update(nfev=total, failure=kind,
                            refinements=refinements, seconds=time.perf_counter() - start)
                return Solution(t[:fine.keep], fine.Y[:fine.keep], scalar=kernel.scalar,
                                status=FAILED, message=message, stats=info, method=meth.name,
                                order=p, t_failure=float(t[fine.index]), t_eval=t_eval)
            Y, stages = fine.Y, fine.stages
    info.update(comp.stats(), nfev=total, refinements=refinements,
                max_error_estimate=float(np.max(comp.estimate)),
                seconds=time.perf_counter() - start)
    if trusted:
        return Solution(t, Y, scalar=kernel.scalar, status=SUCCEEDED,
                        message=(f"The solver reached the end of the interval; the estimated error "
                                 f"meets atol + rtol |y| at every mesh point ({len(t) - 1} "
                                 f"steps)." + "".join(unprobed)), stats=info, method=meth.name,
                        order=p, stages=stages,
                        error_estimate=comp.estimate, t_eval=t_eval)
    keep = comp.keep if comp.first_bad is not None else len(t)
    if comp.first_bad is not None:
        message = unresolved_message(comp, t)
    elif non_smooth is not None:
        message = (f"The tolerance could not be met with {len(t) - 1} steps: solves on every "
                   f"third mesh point differ from the solution by {ratio:.3g} times atol + rtol "
                   f"|y| from t = {non_smooth:.10g} on, where the solves on every other point "
                   f"agree with it: the data (g or K) are not smooth near there (a kink or a jump "
                   f"of g or K, or of K in y where the solution crosses it), and the refinement "
                   f"there did not reach the tolerance.  Give that point as a mesh point "
                   f"(mesh=...), or smooth the data.")
    else:
        message = (f"The tolerance could not be met with {len(t) - 1} steps (the estimated error "
                   f"is {ratio:.3g} times atol + rtol |y|); use a looser tolerance or a "
                   f"higher-order method.")
    info["failure"] = comp.reason or ("non-smooth" if non_smooth is not None else "tolerance")
    return Solution(t[:keep], Y[:keep], scalar=kernel.scalar, status=FAILED,
                    message=message + "".join(unprobed),
                    stats=info, method=meth.name, order=p,
                    t_failure=float(t[comp.first_bad]) if comp.first_bad is not None else
                    non_smooth if non_smooth is not None else float(T),
                    error_estimate=comp.estimate[:keep], t_eval=t_eval)


def _controlled_pass(meth, kernel, g_vec, t0, T, rtol, atol, newton_tol, newton_maxiter, args, h0,
                     max_steps, shared=False, jumps=(), failed=()):
    """The mesh built step by step with step doubling (see the module docstring).

    An explicit method's pair is at most LIMIT_SHARE S / rho long, with S its stability limit
    (:attr:`ButcherTableau.stability_limit`) and rho the linearised problem's fastest decay at
    the pair's start (:func:`._tolerance.decay_rate`, d + 1 kernel evaluations a pair): longer,
    its step amplifies what rounding and the local errors leave of that mode, and the
    step-doubling estimate, which compares two such values, does not see it while they are
    small against the tolerance (rk4 on y = 1 - 1e4 int y at 1e-3: a pilot pass accepted pairs
    of 12.8 / lam where S = 2.79, a solution that the global check found without a digit; 4210,
    8420 and 11790 steps, 3.1e9 kernel evaluations; now 384 steps, 3.4e6). Not after a pair
    whose values were bit-equal to the values before: the discrete solution sits at a fixed
    point (y = 0 exactly, once a decay is complete), where there is nothing to amplify (rk4 on
    y = 1 - 1e5 int y at 1e-9, on 8be3dd2 without a limit, crossed the rest of the interval in
    pairs of up to 5600 / lam). Where HELD pairs in a row did not settle (``SETTLE``) and pairs
    of the limit's length to T would take more than ``max_steps`` steps, the pass stops:
    ``failure`` "stiff", and ``store.stiff`` = (t, rho, S, the pairs' steps to T at rho, the
    pass's steps in all).

    ``shared``: ``newton_tol`` is a share of the tolerance, looser than the user's
    (``_loops.SHARED``: Newton's stop on its contraction).

    ``jumps``: (x, rho) of the stiff jumps of the data located so far (:func:`_stiff_ends`),
    sorted: a pair ends at each x (the last float before the jump), the pair after it at most
    JUMP_START / rho long, rho the fastest decay there: the transient that the jump starts is
    then resolved from its start, where a pair over it, or one that starts at it many
    e-folds long, damps it in both the pair and its halves, whose difference then misses it.

    ``failed``: (start, end) of the steps whose exploratory Newton solve failed so far (the
    uniform try's, an earlier pass's pairs): a pair whose long step holds one of them
    (:func:`_holds_failed`) is rejected as failed in Newton without being solved (y = tan t,
    radau3, 1e-3: the pilot's pair from 0.375 to 1.5, over the try's failed step from 1.125,
    failed after 54 kernel evaluations).  The pass's own failed pairs are ``store.failed``.

    Returns (store, counts, rejected, failure, kernel_failure, h_floor): ``failure`` None,
    "kernel", "collapse", "steps" or "stiff"."""
    steps = _loops.compiled_loop("vrk-steps")
    K, jac, have, B, theta = _kernel_args(kernel)
    c, A, b = meth._data
    m, p = c.shape[0], meth.order
    explicit = meth.tableau.explicit
    limit = meth.tableau.stability_limit if explicit else math.inf
    span = T - t0
    y_start = np.ascontiguousarray(g_vec(np.array([t0]))[0], dtype=float)
    store = _Store(y_start, m)
    store.t[0] = t0
    floor = _loops.start_floor(y_start)     # (Newton's size of the solution: _loops.fd_floor)
    counts = _loops.new_counts(5)
    counts[_loops.EXPLORING] = 1    # (a failed pair is retried shorter: see _loops.EXPLORING)
    if shared:                      # (``newton_tol`` a share of the tolerance: _loops.SHARED)
        counts[_loops.EXPLORING] |= _loops.SHARED
    H = span / 2.0 if h0 is None else float(h0)
    h_floor = 1e-12 * span
    offsets = np.concatenate([c, [1.0]])
    y_big, y_mid, y_end = (np.empty(store.d) for _ in range(3))
    sums = np.full((LAG_SUMS, store.d + 2), -1.0)     # (see _loops._lag_sum)
    failure, rejected, kernel_failure = None, 0, None
    previous = 0.0          # the error constant ratio / H^p of the last accepted pair
    newton_failed = False
    tried = None            # (t_n, H, local error) of the last pair tried
    # an explicit method's pair is at most LIMIT_SHARE of its stability limit over the
    # linearised problem's fastest decay long: (t_n, the decay, that length) of the last probe,
    # the pairs it shortened in a row, and whether the last accepted pair's values were
    # bit-equal to the values before
    cap, held, exact = None, 0, False
    # after a failed Newton solve of an implicit method, each pair is at most SAFETY times the
    # tableau's fold over the linearised problem's growth rate at its start (see _fold_cap):
    # (t_n, the growth rate) of the last probe, None before such a failure
    folded = None
    # the largest |y| so far, the change of y over the last accepted pair, and whether it fell
    # by e^(-SETTLE rho H) or was at the rounding level: a decay that may end at a fixed point,
    # where the limit no longer holds the steps
    size, change, settling = float(np.max(np.abs(y_start))), math.inf, False
    k = 0                   # the next stiff jump (of ``jumps``) ahead
    while store.n == 0 or store.t[store.n] < T:
        tn = store.t[store.n]
        yn = store.Y[store.n]
        H = min(H, T - tn)
        if T - (tn + H) < 1e-9 * H:       # no sliver at the end
            H = T - tn
        if explicit and not exact:
            if cap is None or cap[0] != tn:
                rho, calls = decay_rate(kernel, float(tn), yn)
                counts[0] += calls
                cap = (tn, rho, LIMIT_SHARE * limit / rho if rho > 0.0 else math.inf)
            H = min(H, cap[2])                                # (NaN: no cap)
            if math.isfinite(cap[2]):
                held = 0 if settling else held + 1
                need = store.n + 2 * math.ceil((T - tn) / cap[2])
                if held >= HELD and need > max_steps:
                    store.stiff = (float(tn), cap[1], limit, math.ceil((T - tn) * cap[1] / limit),
                                   need)
                    failure = "stiff"
                    break
            else:
                held = 0
        if folded is not None:
            if folded[0] != tn:
                lam, calls = growth_rate(kernel, float(tn), yn)
                counts[0] += calls
                folded = (tn, lam)
            H = min(H, _fold_cap(meth.tableau.fold, folded[1]))
        while k < len(jumps) and jumps[k][0] - tn <= h_floor:
            if jumps[k][0] >= tn - h_floor:     # (at it: a pair of the transient's scale)
                H = min(H, JUMP_START / jumps[k][1])
            k += 1
        end = None      # (the jump the pair ends at: its end point exactly)
        if k < len(jumps) and tn + H > jumps[k][0] - 0.5 * H:
            rest = jumps[k][0] - tn       # (in two pairs where one would leave a sliver)
            H = rest if rest <= H else 0.5 * rest
            end = jumps[k][0] if rest <= H else None
            while max(tn + H, tn + H / 2 + H / 2) > jumps[k][0]:     # (every stage before it)
                H = float(np.nextafter(H, 0.0))
        if H < max(h_floor, 100 * np.finfo(float).eps * abs(tn)) or store.n >= max_steps:
            failure = "collapse" if store.n < max_steps else "steps"
            break
        if not explicit and _holds_failed(float(tn), float(tn + H), failed):
            # (as a pair that failed in Newton, below, unsolved)
            kernel_failure = describe(_loops.NEWTON_FAILED, tn, 0, None)
            H /= 2.0
            rejected += 1
            newton_failed = True
            if folded is None:
                folded = (None, math.nan)
            continue
        store.reserve(2)
        r = store.n * m
        times = np.concatenate([tn + offsets * H, tn + offsets * (H / 2),
                                tn + H / 2 + offsets * (H / 2)])
        G = np.ascontiguousarray(g_vec(times))
        _user.clear_failures()          # capture what the user's functions raise in this step
        status = steps(K, jac, have, B, theta, tn, H, yn, G, store.Z, store.ts, store.wz, r, c, A,
                       b, explicit, newton_tol, newton_maxiter, counts, 3, y_big, y_mid, y_end,
                       floor, sums)
        record = _user.take_failure()
        _user.raise_recorded_failure(record, args)     # the user's exception, at once
        if status == _loops.INTERRUPTED:
            raise KeyboardInterrupt
        if status != _loops.SUCCESS:
            kernel_failure = describe(status, tn, 0, record)
            if kernel_failure[1] == "kernel-non-finite":   # at finite, moderate y: K's own NaN
                failure = "kernel"
                break
            if status == _loops.NEWTON_FAILED:
                store.failed.append((float(tn), float(tn + H)))
            H /= 2.0
            rejected += 1
            newton_failed = True
            if not explicit and folded is None:
                folded = (None, math.nan)
            continue
        scale = tolerance_of(np.maximum(np.abs(yn), np.abs(y_end)), rtol, atol)
        local = np.abs(y_big - y_end) / (2.0 ** p - 1.0)
        ratio = float(np.max(over_tolerance(local, scale * LOCAL_SHARE * (H / span))))
        per_step = float(np.max(over_tolerance(local, scale)))
        slow = bool(store.n) and tried is not None and tried[0] == tn and \
            _falls_slowly(tried[1], tried[2], H, per_step, p)
        store.rough |= slow     # (not the first pair: sized from the uniform try, it can be
                                # far from the asymptotic regime)
        tried = (tn, H, per_step)
        trend = 1.0
        # a pair over a jump of the data (its local error falls like H, so the error per
        # unit step never does) is accepted on its error per step (see ROUGH_SHARE)
        # (its finer solution's error is then up to the whole difference of the two, not
        # 1 / (2^p - 1) of it)
        whole = per_step * (2.0 ** p - 1.0)
        over_jump = slow and ratio > 1.0 and whole <= ROUGH_SHARE
        if ratio <= 1.0 or over_jump:
            store.local.append(whole if over_jump else per_step)
            store.caps.append(cap[2] if explicit and not exact else math.inf)
            exact = explicit and np.array_equal(y_big, y_end) and np.array_equal(y_end, yn)
            size = max(size, float(np.max(np.abs(y_end))))
            moved = float(np.max(np.abs(y_end - yn)))
            rate = cap[1] if cap is not None and math.isfinite(cap[1]) else 0.0
            settling = moved <= ROUNDING * EPS * size or \
                moved <= change * math.exp(-SETTLE * rate * H)
            change = moved
            store.t[store.n + 1], store.t[store.n + 2] = tn + H / 2, tn + H if end is None else end
            store.Y[store.n + 1], store.Y[store.n + 2] = y_mid, y_end
            store.n += 2
            constant = ratio / H ** p
            if previous > 0.0 and constant > 0.0:
                trend = min(TREND, max(1.0, constant / previous))
            previous = 0.0 if over_jump else constant
            if over_jump:
                ratio, trend = 0.0, 1.0     # (the pairs beyond it: as fast as they may grow)
        else:
            rejected += 1
        grow = SAFETY * (1.0 / (ratio * trend)) ** (1.0 / p) if ratio > 0 else 4.0
        # no growth right after a failed Newton solve: the step was at its limit
        H *= min(1.0 if newton_failed else 4.0, max(0.2, grow))
        newton_failed = False

    return store, counts, rejected, failure, kernel_failure, h_floor


def _fold_cap(fold, lam):
    """The longest pair after a failed Newton solve: SAFETY 2 F / lam, F the tableau's fold
    (:attr:`ButcherTableau.fold`) and lam the linearised problem's growth rate at the pair's
    start (:func:`._tolerance.growth_rate`); inf where nothing grows or lam is not known.

    On the model blow-up y' = y^2 (lam = 2 y0, the pole 2 / lam away) the stage equations of a
    step longer than F / y0 have no root: Newton fails there whatever its start, and halving
    the step after each failure walked towards the pole by halves of the rest, one failed pair
    each (radau3 on y = tan t at 1e-3: steps to T from 0.375, 0.9375 and 1.21875 failed, their
    longest with a root 0.951, 0.478 and 0.262, 0.72-0.80 of the distance to the pole; now the
    first and the pair of the cap from 0.9375, 0.488: y' = 1 + y^2 is y' = y^2 only near the
    pole, and at y = 1.37 the model's fold is 1.13 times the actual one, at t = 1.1 and later
    within 1 / SAFETY of it).  A pair of the cap that fails is halved, as any other."""
    return SAFETY * 2.0 * fold / lam if lam > 0.0 else math.inf     # (NaN: no cap)


def _rises(Y):
    """Whether the solution's largest component at its end rises there as towards a blow-up:
    at least twice its least, and at most CREST of that rise below its largest size so far.

    A step collapse at a crest of y (a cusp) stops just before or just after it, as the
    rounding of the last steps falls: radau2 on y = 1 + t - |t - 0.503|^(1/2) + int y at
    1e-10 stopped 4.9e-10 past the crest, 1.0e-5 below it (6e-6 of its rise from 0.29), and was
    called a collapse of a solution that does not grow, as on a stiff problem, where the one
    that stopped before the crest was a rise that no blow-up law fits."""
    y = np.abs(Y.reshape(len(Y), -1))
    if len(y) < 2 or not np.all(np.isfinite(y[-1])):
        return False
    y = y[:, int(np.argmax(y[-1]))]
    least = np.min(y)
    return bool(np.max(y) - y[-1] <= CREST * (y[-1] - least) and y[-1] >= 2.0 * least)


def _failed_pass(t, Y, failure, kernel_failure, h_floor, max_steps, run, p, meth, kernel, info,
                 total, start, t_eval, stiff=None):
    """The solution of a controlled pass that could not reach the end (``stiff``: the
    ``store.stiff`` of a pass stopped as stiff)."""
    n = len(t) - 1
    t_fail = float(t[-1])
    # (y(t0) where the first step failed: "at |y| = nan" said nothing, gauss2 on a rotation
    # with components of sizes 1e-6 and 1e6 at rtol 1e-4)
    size = float(np.max(np.abs(Y[-1]))) if len(Y) else float("nan")
    if failure == "kernel":
        message, info["failure"] = kernel_failure
    elif failure == "stiff":
        at, rho, limit, rest, need = stiff
        message = (f"The problem is stiff for the explicit method {meth.name!r}: at "
                   f"t = {at:.6g} its steps are held at its stability limit, {limit:.4g} / rho "
                   f"= {limit / rho:.3g}, with rho = {rho:.3g} the fastest decay of the "
                   f"linearised problem there (the largest |eigenvalue| of dK/dy at s = t).  "
                   f"At that rate the rest of the interval needs at least {rest} steps, and the "
                   f"error control, which checks each step against two of half its length, "
                   f"about {need} in all: more than the {max_steps} steps allowed.  "
                   f"{STIFF_ADVICE}")
        info["failure"] = "stiff"
    elif failure == "collapse" and _rises(Y):
        info["failure"] = "blow-up"     # (the message once the blow-up time is fitted, below)
    elif failure == "collapse":
        # not a blow-up (gauss2 on y = 1 - 1e7 int y at rtol 1e-8 was reported as one, at
        # y = 0.72 on the way down): the local error does not fall as the steps shrink
        message = (f"The step size collapsed at t = {t_fail:.10g} (below {h_floor:.3g}) at "
                   f"|y| = {size:.3g}, which does not grow as at a blow-up: the local error "
                   f"does not fall as the steps shrink there (a method that is not L-stable, "
                   f"such as a Gauss method, on a stiff problem, or data that is not smooth "
                   f"there). A Radau method or a looser tolerance may reach the end.")
        info["failure"] = "step-collapse"
    else:
        message = (f"The tolerance needs more than {max_steps} steps (reached t = {t_fail:.6g}); "
                   f"use a looser tolerance or a higher-order method.")
        info["failure"] = "tolerance"
    # the values so far are accepted to the tolerance step by step; estimate them globally,
    # and keep those that the estimate confirms: not the run of points ahead of the failure
    # where the companion disagrees by more than LEAD_IN of the size (rk4 on y = 1 + int y^2
    # at rtol 1e-6 kept values up to t = 1.0000002, past the blow-up at 1)
    comp = estimate_error(companion(run), t, Y, p, False, 1, uncheck_on_failure=True) \
        if n >= 2 else None
    # (the blow-up law is fitted to all the values: the trim below drops the last ones)
    fit = blow_up_time(t, Y, comp.estimate if comp is not None else np.full_like(Y, np.nan)) \
        if info["failure"] == "blow-up" else None
    if fit is not None and not math.isfinite(fit[1]):
        # no law fits the rise (rk4, K jumping from 1 to 2 in s at 0.503, rtol 1e-6: steps
        # collapsed at the jump, where y = 2.31 rose from 1, and the solve said it blew up)
        message = (f"The step size collapsed at t = {t_fail:.10g} (below {h_floor:.3g}) at "
                   f"|y| = {size:.3g}: the local error does not fall as the steps shrink "
                   f"there, and the values before it do not rise as towards a blow-up that "
                   f"can be located: data that is not smooth there (a jump of K or g), or a "
                   f"singularity of the solution. A looser tolerance or a given mesh "
                   f"(n_steps, with its error estimate) may reach the end.")
        info["failure"], fit = "step-collapse", None
    if fit is not None:
        info.update(blow_up_time=fit[0], blow_up_time_error=fit[1], blow_up_exponent=fit[2])
        law = (f"; as |y| ~ C (t* - t)^-{fit[2]:.3g} there, the blow-up time is "
               f"t* = {fit[0]:.10g} +- {fit[1]:.2g}" if math.isfinite(fit[2]) else "")
        message = (f"The step size collapsed at t = {t_fail:.10g} (below {h_floor:.3g}): the "
                   f"solution has a singularity there (|y| = {size:.3g}; it blows up near "
                   f"t = {t_fail:.10g}{law}).")
    keep = n + 1
    if comp is not None:
        if comp.first_bad is not None:
            keep = comp.keep
        comp.keep = keep
        if trim_lead_in(comp) is not None:
            keep = comp.keep
    estimate = comp.estimate[:keep] if comp is not None else np.full_like(Y, np.nan)
    if keep <= n:
        message += (f" The values from t = {float(t[keep]):.10g} on are not kept: the error "
                    f"estimate (a solve with every other point) does not confirm them.")
    message += _over_tolerance_kept(t, Y, estimate, keep, info)
    info["nfev"] = total + (comp.nfev if comp is not None else 0)
    info["seconds"] = time.perf_counter() - start
    return Solution(t[:keep], Y[:keep], scalar=kernel.scalar, status=FAILED, message=message,
                    stats=info, method=meth.name, order=p, t_failure=t_fail,
                    error_estimate=estimate, t_eval=t_eval)


def _over_tolerance_kept(t, Y, estimate, keep, info):
    """The sentence saying from where the values a failed pass keeps have estimates over the
    tolerance ("" if none has).  Its steps were accepted one by one, and the global estimate of
    the values kept can exceed atol + rtol |y| well before the failure: y = sqrt(1 - t)
    (K = -1 / (2 y), g = 1) at rtol 1e-6 on [0, 1] kept values from t = 0.9937 on whose
    estimates (right to 15%) were up to 1.4e4 times the tolerance, and the message named only
    the collapse of the steps at t = 0.99999985 and the values not kept after 0.9999963."""
    if keep < 1 or "rtol" not in info or "atol" not in info:
        return ""
    with np.errstate(invalid="ignore"):
        ratio = np.max(over_tolerance(np.asarray(estimate, dtype=float),
                                      tolerance_of(Y[:keep], info["rtol"], info["atol"])),
                       axis=1)
    over = np.flatnonzero(ratio > 1.0)
    if not over.size:
        return ""
    return (f" The estimates of the values kept exceed atol + rtol |y| from t = "
            f"{float(t[over[0]]):.10g} on (up to {float(np.nanmax(ratio)):.3g} times).")


def _rose(refinements):
    """Whether the last refinement took more steps and raised the estimate (over the
    tolerance): not the asymptotic regime."""
    return len(refinements) >= 2 and refinements[-1][0] > refinements[-2][0] \
        and refinements[-1][1] > refinements[-2][1]


def _resolved_step(kernel, t0, y0, t, failures=None):
    """(H, evaluations): the first pair of a controlled pass that resolves a stiff start, or
    None where the first step of the mesh ``t`` spans at most STIFF e-folds of the linearised
    problem (rho, ||J||_inf of K(t0, t0, y) at y0 or of J balanced where less,
    :func:`stiffness_scale`): H = 2 / rho, a first step of one e-fold (at most the mesh's
    first pair).

    A method that is A- but not L-stable (the Gauss methods: |R(-inf)| = 1) keeps a stiff
    transient that its steps do not resolve instead of damping it, alike on every mesh of
    such steps, so that the estimates compare equal errors: on y = 1 - 1e5 int y, gauss4 at
    rtol = atol = 1e-3, the pass's 6 steps (the first of 0.12, 12000 e-folds) had an estimate
    5.6 times the tolerance that rose to 450 as the profile was refined at 1.1 times the steps
    up to 10784, accepted there, 9.0e9 kernel evaluations before the check of the first steps
    started over from a step of one e-fold and found 28 steps.  The pass's own pairs do not
    see it either (the half steps miss the transient as the whole one does).

    ``failures``: a list that gets the sentence of a probe that the user's K refused (it
    raised at the probe's points on both sides of y0, :func:`._tolerance._differences_at`),
    for the answer's message: the start was then not probed for stiffness."""
    if len(t) < 2:
        return None, 0
    raised = []
    rho, calls = stiffness_scale(kernel, float(t0), y0, raised)
    if raised and failures is not None and not math.isfinite(rho):
        exc = raised[-1]
        if not isinstance(exc, BaseException):      # (a record of what compiled code caught)
            try:
                _user.raise_recorded_failure(exc, kernel.args)
            except Exception as again:  # noqa: BLE001 (the user's K, called again in Python)
                if not _user.raised_by_user(again):
                    raise
                exc = again
        failures.append(_not_checked(
            "The start was not probed for stiffness (a stiff transient that every mesh of the "
            "refinement misses alike)", exc) if isinstance(exc, BaseException) else
            "  The start was not probed for stiffness (a stiff transient that every mesh of "
            "the refinement misses alike): " + _user.failure_said(exc) + ".")
    if not (float(t[1] - t[0]) * rho > STIFF):          # (NaN: not known to be stiff)
        return None, calls
    return min(2.0 / rho, float(t[min(2, len(t) - 1)] - t[0])), calls


def _global_check(run, t, Y, p, rtol, atol, explore, superconverging=False):
    """(companion, error/tolerance ratio, whether the mesh is accepted, nfev) of the solution
    ``Y`` on ``t``: accepted when the ratio is at most 1 and the mesh has MIN_STEPS steps, or
    FEWEST_STEPS and the three-level check of :func:`_converges_at_rate` passes.  The solve on
    every fourth point that measures the rate is exploratory (``explore``: Newton capped at
    TRIAL_MAXITER): on a mesh that coarse Newton often fails, and at the user's cap a failure
    cost 50 iterations (tan t, radau3, 1e-3: the most expensive solve of the whole run).
    Differences that fall faster than FASTER 2^p are not the method's rate unless
    ``superconverging`` (a kernel that does not read t, an ODE, where collocation converges
    beyond its order at the mesh points: gauss2 and radau3 on y = 1 - int y^2 fall at 2^7)."""
    n = len(t) - 1
    # The observed rate from a quarter mesh of any size (the estimates' default needs 8 steps
    # there): a mesh below MIN_STEPS is trusted only on the rate, and a few coarse steps often
    # converge faster than h^p, where the estimate with p was 2-7 times the error (y = 1 -
    # int y^2); the higher observed order (at most p + 1) estimates and sizes the next mesh
    # (radau3/gauss2 at 1e-9 and 1e-12: 1.7-3.9 times the best uniform mesh's evaluations, were
    # 4.4-5.3).
    comp = estimate_error(companion(run), t, Y, p, False, 1, rate_min_steps=1,
                          higher_order=True, rate_run=companion(explore))
    calls = comp.nfev
    ratio = float(np.max(over_tolerance(comp.estimate, tolerance_of(Y, rtol, atol)))) \
        if comp.first_bad is None else math.inf
    trusted = ratio <= 1.0 and n >= MIN_STEPS
    if ratio <= 1.0 and FEWEST_STEPS <= n < MIN_STEPS and _halvings(t, p):
        fast = not superconverging and _falls_faster(comp, p)
        trusted = _converges_at_rate(comp, p) and not fast
        if not trusted and _faster_than_rate(comp, p):
            bound = dataclasses.replace(comp, estimate=comp.estimate * (2.0 ** comp.order - 1.0),
                                        order=1.0, sizing=1.0)
            bound_ratio = float(np.max(over_tolerance(bound.estimate, tolerance_of(Y, rtol, atol))))
            if bound_ratio <= 1.0:
                comp, ratio, trusted = bound, bound_ratio, True
    return comp, ratio, trusted, calls


def _halvings(t, p):
    """Whether the three levels of the check of ``t`` (the mesh, its mesh of every other point
    and every fourth) are halvings of each other: the rate check of :func:`_converges_at_rate`
    (and the bound of :func:`_faster_than_rate`) reads their differences as falling by 2^p per
    halving, which holds only where each level's steps pair into the next one's in near-equal
    halves (:func:`._estimate.pair_factor` below ``PAIR_FACTOR_MIN`` for both pairings).  A
    controlled pass's mesh pairs its steps into halves, but its pairs need not be equal: radau3
    on y = 1 - e^(t/2)/2 - e^-t (K = cos(t - s) sin(y) / 2) at rtol 1e-6 was accepted on the
    pass's 4 steps [0, 1/8, 1/4, 5/8, 1], whose every fourth point merges the pairs of 1/4 and
    3/4: the differences fell at the rate 14.6 (near 2^5 / 4), while the 3/4 step was far from
    the asymptotic regime (the errors of the levels of 2 and 4 steps 9.9e-8 and 2.9e-8, at
    5/8 8.4e-8), and the estimate 4.1e-9 was 20 times below the error.  Such a mesh is refined
    to MIN_STEPS steps instead.  So is a mesh whose number of steps is not a multiple of 4:
    the mesh of every other point then has an odd number of steps, whose last one the mesh of
    every fourth point keeps (:func:`._estimate.coarse_mesh`), so that the two coarser levels
    share a step and their difference at its end shows none of its error: rk4 on y = 1 - t/2
    + cos t - cos 2t (K = cos(t - s) y^2 / 2) at rtol 1e-6 was accepted on 6 steps ending in
    two of 0.30, the rate 14.2 (near 2^4) from that shared step, the error 1.05e-5 at the
    end 35 times its estimate (``integrallimits validate``, seed 0)."""
    if (len(t) - 1) % 4:
        return False
    half = t[::2]
    return pair_factor(t, p) < PAIR_FACTOR_MIN and pair_factor(half, p) < PAIR_FACTOR_MIN


#: The differences of a few steps' three levels that fall faster than FASTER 2^p are not read as
#: the method's rate (:func:`_faster_than_rate`): the middle level can be close by chance where
#: its error changes sign (radau3 on y = 1 - t/2 - t^3, K = -cos(t - s y), at rtol 1e-6: the
#: errors of 1, 2 and 4 steps 5.4e-3, 3.2e-5 and 1.05e-5, the rate 126 within RATE_FACTOR of
#: 2^5, and 4 steps were accepted with an error 10.8 times their estimate and the tolerance,
#: ``integrallimits validate --seed 3``).
FASTER = 2.0


def _falls_faster(comp, p):
    """Whether the differences on N/4, N/2 and N steps fell faster than FASTER 2^p."""
    rate = comp.rate
    return rate is not None and math.isfinite(rate) and rate > 2.0 ** p * FASTER


def _faster_than_rate(comp, p):
    """Whether the differences on N/4, N/2 and N steps fell clearly faster than 2^p
    (:func:`_falls_faster`), for an
    order p whose Richardson denominator 2^p - 1 is within the factor HONEST: the mesh is then
    accepted on the bound |y_N - y| <= D1 = |y_N - y_N/2| (which holds when the error of y_N is
    at most half that of y_N/2) as its estimate, which is 2^p - 1 times the error where the
    solutions converge at their rate.  (rk4 on y = 1 - int y^2 with 4 steps: D2 / D1 = 766, the
    errors of 2 and 4 steps 2.9e-5 and 1.4e-5, D1 = 1.9e-5; Richardson's D1 / 15 was 11 times
    below the error.)"""
    return _falls_faster(comp, p) and 2.0 ** p - 1.0 <= HONEST and comp.order >= 1.0


def _profile_mesh(profile, p, rtol, atol, max_steps):
    """A mesh drawn from a checked uniform solve whose error is made unevenly, or None.

    ``profile`` = (run result, mesh, companion, ratio, trusted, nfev) of a solve on a uniform
    mesh checked against the mesh of every other point: the growth of its estimate from one
    common point to the next is taken as the local error of that pair of steps, and the mesh
    is redrawn from them as from a pass (:func:`redraw`), when it predicts fewer than
    PILOT_STEPS steps (a pass costs more than its steps can save there)."""
    fine, tr, comp, ratio, _, _ = profile
    if comp.common is None or not math.isfinite(ratio) or comp.first_bad is not None:
        return None
    if (len(tr) - 1) * (ratio * comp.sizing) ** (1.0 / p) >= PILOT_STEPS:
        return None
    idx = comp.common
    if len(idx) != (len(tr) + 1) // 2 or not np.array_equal(idx, np.arange(0, len(tr), 2)):
        return None
    estimate = comp.estimate if comp.unlifted is None else comp.unlifted
    E = np.max(over_tolerance(estimate[idx], tolerance_of(fine.Y[idx], rtol, atol)), axis=1)
    local = np.maximum(np.diff(E), 0.0)
    if not np.all(np.isfinite(local)) or local.max() <= 0:
        return None
    local, floor = _profile_floor(local, p)
    return _paired(redraw(tr, local, p, ratio * comp.sizing, max_steps, floor))


def _profile_floor(local, p):
    """(local errors, floor) for :func:`redraw` from the ``local`` errors of the equal pairs of
    a uniform solve (:func:`_profile_mesh`): a pair below CANCEL times the largest local error
    on each side of it (a dip: a pair that happened to cancel) is raised to that, and the floor
    is the level whose steps are STRETCH times those of the largest (the redraw's step density
    is C^(GRADE / (p + 1))).  A pass's CANCEL times the largest would also raise the pairs
    where the error is small for real: the local errors of the uniform 8 steps of tan t (gauss4,
    1e-6) grow from 1.9e-6 to 65 times the tolerance, and that floor (steps at most
    1e-3^(-0.9 / 9) = 2 times longer than the shortest for p = 8) drew 12 steps of 0.16 to
    0.08, where 8 of 0.39 to 0.08 meet the tolerance (1.05 -> 0.80 times the best uniform
    mesh's evaluations)."""
    left = np.maximum.accumulate(local)
    right = np.maximum.accumulate(local[::-1])[::-1]
    both = np.minimum(np.concatenate([[0.0], left[:-1]]), np.concatenate([right[1:], [0.0]]))
    return np.maximum(local, CANCEL * both), STRETCH ** (-(p + 1.0) / GRADE)


def _refined_companion(run, comp, t, p, rtol, atol, refinements, explore=None,
                       keep_untrusted=False, superconverging=False):
    """When the check of ``t`` had to compare with the mesh of every interval bisected (the
    mesh of every other point was too coarse or its solve failed), that solution is the better
    one: checked with ``t`` as its companion (already solved: no new solve but for the rate), it
    carries the same difference over 2^q - 1, 2^p times less than the estimate of ``t``.
    Returns (run result, mesh, companion, ratio, trusted, nfev) of the bisected mesh when it is
    accepted, else None.  (tan t, gauss4, 1e-3: the uniform try's 2-step companion failed in
    Newton, its 8-step one met the tolerance 60 times over and was thrown away; the solve went
    on to a pass and two more meshes.)"""
    if not comp.source.startswith("double-steps") or comp.first_bad is not None:
        return None
    tr = refined_mesh(t)
    fine = run(tr)                  # solved by the check: reused
    if fine.status != 0:
        return None
    comp_r, ratio_r, trusted_r, calls = _global_check(run, tr, fine.Y, p, rtol, atol,
                                                      explore or run, superconverging)
    calls += int(fine.counts[0])
    if not (trusted_r or keep_untrusted):
        return None
    refinements.append((len(tr) - 1, ratio_r))
    return fine, tr, comp_r, ratio_r, trusted_r, calls


def _shifted_check(run, t, Y, comp, p, rtol, atol, min_steps, jumps=()):
    """(over, first, nfev): the shifted check of a mesh the half-steps companion accepted.

    Every mesh the driver compares (the mesh, its mesh of every other point, every fourth)
    shares the even points, and the controller makes such a point sit just before a
    non-smooth point of the data (a kink of g, a jump of K in s, a kink of K in y that the
    solution crosses): a pair of steps over it is rejected until one ends just before it, and
    the next pair starts there, its big step and its two half steps seeing the non-smooth
    point at the same small offset before their first collocation point (Gauss: also just
    before the pair's end, after their last one).  All then miss the same part of the step's
    integral, the estimates compare equal errors, and solves ended a success 10^2 to 10^9
    times over the tolerance (gauss4, g = |t - 0.618|, rtol 1e-10: 3e6 times, with 12
    steps).  The solves on every third point (:func:`._estimate.shifted_estimate`) have
    every point of the mesh inside one of their steps: where their estimate exceeds the
    largest half-steps one so far by more than RATE_FACTOR somewhere (the solutions do not
    converge at one order there), it is the estimate, with the order 1, ``over`` is it over
    the tolerance (a row maximum per mesh point) and ``first`` the first mesh index where
    they disagree (where the non-smooth point is); (None, None) where they agree (the
    half-steps estimate stands: their steps are 1.5 times longer, and their Richardson
    estimate is no better).  Cost: two solves on N/3 steps, 2/9 of the solve's work (more
    on a few steps), on the accepted mesh only, and only where the solve showed a sign of
    data that is not smooth (:func:`_rough`, :func:`_dips`, :func:`_falls_slowly`,
    :func:`_disagree`, :func:`_too_fast`, :func:`_rough_forcing`): run on every accepted mesh, it
    cost 1.09-1.59 times the evaluations on every smooth row of the ``error-control`` study,
    and took two rows over their work goals (tan, gauss2, 1e-6: 1.19 times the best uniform
    mesh's work, the goal below 1); gated so, none of them.  The gate misses a non-smooth
    point that no check betrays (gauss4, 10 steps, a jump of K at t = 0.5, rtol 1e-10: 8e7
    times the tolerance).

    ``jumps``: the points x of the stiff jumps located (:func:`_located_jump`) that are points
    of ``t``: every shifted mesh takes them too (:func:`_keeping`), as the mesh does: a
    shifted step over such a jump damps its transient, and the check then disagreed by 500
    times the tolerance with a mesh that met it (radau2, y = H(t - 0.5) - 1e6 int y).  The
    data there jump between two adjacent floats, so no step of the mesh misses a part of it."""
    order = comp.order if math.isfinite(comp.order) else float(p)
    solve = companion(run)
    kept = [x for x in jumps if np.any(t == x)]
    raised, q, _, nfev, first = shifted_estimate(_keeping(solve, kept) if kept else solve, t, Y,
                                                 comp.estimate, order, min_steps, running=True)
    if first is None:
        return None, None, nfev
    comp.estimate, comp.order, comp.sizing = raised, q, 1.0
    over = over_tolerance(raised, tolerance_of(Y, rtol, atol))
    return np.max(over, axis=1), first, nfev


def _keeping(solve, points):
    """The companion solve ``solve`` (mesh -> (Y, status, keep, nfev)) on each mesh with the
    ``points`` inside it added, its values returned at the mesh's own points."""
    points = np.asarray(points, dtype=float)

    def kept(mesh):
        inside = points[(points > mesh[0]) & (points < mesh[-1])]
        inside = inside[~np.isin(inside, mesh)]
        if not len(inside):
            return solve(mesh)
        full = np.union1d(mesh, inside)
        Y, status, keep, nfev = solve(full)
        own = np.searchsorted(full, mesh)
        return Y[np.minimum(own, len(Y) - 1)], status, int(np.searchsorted(own, keep)), nfev
    return kept


def _rough(comp, p):
    """Whether a check saw the solutions converge clearly slower than the method's order: the
    observed rate below 2^p / RATE_FACTOR (not the bound of :func:`_faster_than_rate`, whose
    order 1 is a bound on solutions converging faster), measured on a mesh of at least
    4 MIN_STEPS steps (on fewer, the solutions on a quarter of them are rarely in the
    asymptotic regime: y = tan t, rk4, 1e-3 measured 0.71 on 4 steps, radau3, 1e-6, 6.7 on
    12, and the shifted check, run on their accepted meshes, cost 14 and 1.18 times the
    evaluations, the first refining where nothing was wrong)."""
    rate = comp.rate
    return rate is not None and math.isfinite(rate) and rate < 2.0 ** p / RATE_FACTOR \
        and len(comp.estimate) - 1 >= 4 * MIN_STEPS


def _dips(t):
    """Whether the pass's mesh ``t`` (pairs of half steps) has a pair DIP times shorter than
    the longest pairs both before and after it: the controller closing in on a point where the
    data are not smooth (a smooth solution's steps shrink and grow gradually, or shrink
    towards a blow-up at the end)."""
    H = np.diff(t[::2])
    if len(H) < 3:
        return False
    before = np.maximum.accumulate(H)[:-2]
    after = np.maximum.accumulate(H[::-1])[::-1][2:]
    return bool(np.any(DIP * H[1:-1] < np.minimum(before, after)))


def _falls_slowly(H1, e1, H2, e2, p):
    """Whether the local error ``e1`` of a pair of length ``H1``, rejected, and ``e2`` of the
    pair at least RETRY times shorter tried next from the same point fell, but slower than
    H^((p + 1) / SLOW): a smooth local error falls like H^(p + 1), and a pair over a
    non-smooth point of the data one like H (the point's offset in the step changes).  On the
    smooth problems of the ``error-control`` study the exponents of such retries were 3.9-8.2
    for p = 4 (rk4, gauss2), 6.4-22 (radau3, p = 5), 11-23 (gauss4, p = 8); on the data of
    ``tools/kink_scan.py`` gauss4 and radau4 passes accepted 20-8e6 times over the tolerance
    had ones of 0.5-1.1.  Left out (the caller also leaves out the pass's first pair, sized
    from the uniform try): an error that grew as the step shrank, and a retry less than RETRY
    times shorter: steps far from the asymptotic regime (the renewal equation
    K = (t - s) e^-(t - s) y on [0, 100], radau2 at 1e-2: steps of 9.4 and 3.6 against a
    time scale of 1, their local errors 1.2 and 12 times the tolerance; the shifted check
    it opened disagreed, and the solve took 1224 steps instead of 442)."""
    if not (H1 >= RETRY * H2 > 0.0 and e1 > 0.0):
        return False
    if not 0.0 < e2 < e1:       # (one that grew as the step shrank is pre-asymptotic)
        return False
    return math.log(e1 / e2) < (p + 1.0) / SLOW * math.log(H1 / H2)


def _disagree(checked, t, Y, estimate, rtol, atol):
    """Whether a solution checked before whose solutions converged at the method's rate
    (``checked``: (mesh, values, estimate, ratio, at rate) each) and the solution ``Y`` on
    ``t`` with ``estimate`` differ at a common point (t_N at least) by more than the tolerance
    and HONEST times the sum of their estimates: one of the two estimates is dishonest there.
    On the smooth problems of the ``error-control`` study the largest difference was 11.5
    times that sum (rk4's 4-step uniform try on ``inverse``); on the data of
    ``tools/kink_scan.py`` it was 23-6e7 in 15 of the 28 solves the checks accepted 20-1e8
    times over the tolerance.  A solution whose rate was off is left out: its own estimate is
    not trusted anyway (the renewal equation K = (t - s) e^-(t - s) y on [0, 100] at 1e-2: 4
    steps of 25 claimed 0.33 times the tolerance, and the shifted check it opened cost gauss2
    13% more); so are, with it, 6 of those 15 (gauss4 on 10 steps with K jumping at 0.5, 8e7
    times the tolerance, compared only with its 4-step try)."""
    for tc, Yc, Ec, _, at_rate in checked:
        if not at_rate or len(tc) == len(t) and np.array_equal(tc, t):
            continue
        _, i, j = np.intersect1d(tc, t, assume_unique=True, return_indices=True)
        keep = j > 0
        i, j = i[keep], j[keep]
        if not len(j):
            continue
        D = np.abs(Yc[i] - Y[j])
        bound = HONEST * (Ec[i] + estimate[j])
        tol = tolerance_of(Y[j], rtol, atol)
        with np.errstate(invalid="ignore"):
            if np.any((D > bound) & (D > tol) & np.isfinite(bound)):
                return True
    return False


def _too_fast(checked, p):
    """Whether the last two solutions checked (``checked``: (mesh, values, estimate, ratio)
    each), both on uniform meshes of N1 < N2 steps (N1 >= MIN_STEPS), claim an error that fell
    more than HONEST times faster than (N2 / N1)^p: a smooth solution's cannot (on the smooth
    problems of the ``error-control`` study at most 5.7 times, inverse, gauss2, 1e-12, 16 to
    28 steps), where a non-smooth point that moves relative to the mesh makes the estimates
    erratic (gauss2 with K jumping at t = 0.503, rtol 1e-6: 1.76 times the tolerance on 34
    steps, 0.01 on 40, 92 times faster; the error 3e3 times the tolerance)."""
    if len(checked) < 2:
        return False
    (t1, _, _, r1, _), (t2, _, _, r2, _) = checked[-2:]
    n1, n2 = len(t1) - 1, len(t2) - 1
    if not (MIN_STEPS <= n1 < n2 and math.isfinite(r1) and r1 > 1.0 and r2 > 0.0):
        return False
    if not (_uniform(t1) and _uniform(t2)):
        return False
    return r1 / r2 > HONEST * (n2 / n1) ** p


def _rough_forcing(g_vec, t, Y, p, rtol, atol):
    """For each step of the mesh ``t``, its level: the largest ratio of the differences of
    order p + 1 of g on p + 2 equally spaced points of the step to the tolerance of the
    component's largest value (not the tolerance at the step: near a zero of a component with
    a small atol, cos t and sin t on 0.2-steps at rtol 1e-4 had the check run for nothing);
    g is not smooth at the scale of the step where the level exceeds ROUGH_G.  A smooth g's
    are about g^(p+1) (h / (p + 1))^(p+1), the size of the method's own local error there,
    while a jump of g inside the step keeps them the size of the jump, and a kink h / (p + 1)
    times the change of slope, on every mesh.
    A jump that the accepted mesh has just after one of its points is missed alike by every
    nested mesh, whose estimates then agree (y = g - int y, g jumping from 1 to 2 at t = 0.62:
    radau3 at rtol 1e-6 was a success on 14 steps with an error of 1.8e-2 for an estimate of
    8.5e-9): such a g has the shifted check run and, where that agrees, the steps where g is
    not smooth divided (``LOCAL_SPLIT``, at most LOCAL_ROUNDS times) until the answer changes
    by less than the tolerance (:func:`_raised`; with the kink in the first step,
    every mesh, the shifted ones too, misses it alike).  (p + 1) N + 1 values of g, not kernel
    evaluations, once per accepted mesh.
    """
    n = len(t) - 1
    u = np.linspace(0.0, 1.0, p + 2)
    times = (t[:-1, None] + np.diff(t)[:, None] * u[None, :]).ravel()
    G = np.asarray(g_vec(times, keep=False), dtype=float).reshape(n, p + 2, -1)
    differences = np.abs(np.diff(G, n=p + 1, axis=1))[:, 0, :]          # (n, d)
    tol = tolerance_of(np.max(np.abs(Y.reshape(n + 1, -1)), axis=0), rtol, atol)
    return _level(differences, tol)


def _level(differences, tol):
    """For each step, the largest of its ``differences`` (n, d) over the tolerance ``tol`` (d,)
    of the component (NaN: 0)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        level = np.max(differences / tol, axis=1)
    return np.where(level > 0.0, level, 0.0)


def _rough_data(g_vec, kernel, t, Y, p, rtol, atol, nodes, known=()):
    """(steps, blind, evaluations, jumps): the steps of the mesh ``t`` (a boolean per step) where g
    (:func:`_rough_forcing`) or K (:func:`_rough_kernel`) is not smooth at their scale (their
    level over ROUGH_G), or jumps in a blind end of the stage points ``nodes``
    (:func:`_blind_steps`; ``blind``: those steps), and the kernel evaluations that took; K's
    steps that stand out from their neighbours (:func:`_kinked`: a kink or jump of K in s
    whose miss enters every later row) are rough at any level over KINK_LEVEL.  The
    blind ends are checked only in the steps whose differences exceed the tolerance itself:
    those of a jump J before the second of their p + 2 points are J h, and the integral it
    makes every stage miss at most c_1 J h (or (1 - c_m) J h).  ``jumps``: the stiff jumps
    located (:func:`_stiff_ends`); ``kinked``: the steps of :func:`_kinked` among ``steps``.

    A step that starts at one of the ``known`` jumps (x, the last float before the jump,
    :func:`_located_jump`) is checked from the float after x (all its stages take the data
    after the jump; a division of it keeps x), on its own: its data's differences, the size
    of the jump, are then no sign against it, nor do they hide its neighbours' (their level
    compared with its as 0)."""
    level, calls = _rough_kernel(kernel, t, Y, p, rtol, atol)
    kinked = _kinked(level, t, Y, p, rtol, atol)
    level = np.maximum(level, _rough_forcing(g_vec, t, Y, p, rtol, atol))
    parts = {}
    for j in np.flatnonzero(np.isin(t[:-1], known)).tolist() if len(known) else ():
        part = np.array([np.nextafter(t[j], np.inf), t[j + 1]])
        parts[j] = _rough_data(g_vec, kernel, part, Y[j:j + 2], p, rtol, atol, nodes)
        calls += parts[j][2]
        level[j] = 0.0
    # (not weighed by the growth of the solution after the step, as a given mesh's check is:
    # the renewal equation, y growing 50 times on [0, 100], radau3 at rtol 1e-2 then took 2038
    # steps and 6.0e7 evaluations for 152 and 3.0e5)
    steps = (level > ROUGH_G) | _standing_out(level, t, p) | kinked
    blind, more = _blind_steps(g_vec, kernel, t, Y, nodes, p, rtol, atol, level > 1.0)
    stiff, most, jumps = _stiff_ends(g_vec, kernel, t, Y, steps, rtol, atol)
    blind |= stiff
    for j, (rough, unseen, _, more_jumps, kink) in parts.items():
        steps[j], blind[j], kinked[j] = rough[0], unseen[0], kink[0]
        jumps += more_jumps
    return steps | blind, blind, calls + more + most, jumps, kinked


#: :func:`_kinked`: the level (K's differences over the tolerance) above which a step of K
#: that stands out KINK_OUT times from its neighbours is rough, however small its miss.
KINK_LEVEL = 1e-3

#: :func:`_kinked`: how many times a step's level of K exceeds its neighbours' taken to its
#: scale (and the rounding noise of its differences) to be rough (STAND_OUT squared, 16^2).
KINK_OUT = 256.0


def _kinked(level, t, Y, p, rtol, atol):
    """For each step of the mesh ``t`` (values ``Y``) but the first and the last, whether K's
    ``level`` there (:func:`_rough_kernel`) exceeds KINK_LEVEL, KINK_OUT times the rounding
    noise of its differences (2^(p + 1) eps |y| over the tolerance) and KINK_OUT times its
    neighbours' taken to its scale (as in :func:`_standing_out`): a kink or jump of K in s
    inside the step, whose quadrature miss (at most 1 / (p + 1) of its differences) enters
    the history integral of every later row, however far below the tolerance it is.  The
    estimates of the nested meshes, which keep the step's start and miss it alike, need not
    carry it: radau4 on K = a |s - b| y + c y, the kink at 0.075 of its step, rtol = atol =
    1e-10, a success on 112 steps with an error of 1.46e-11 for an estimate of 1.76e-14
    (level 1.43, its neighbours' 1e-9; rk4 at 1e-8: 45 times; gauss2 at 1e-6: 4.4e3 times).
    Such a step is divided as a rough one until it no longer stands out, and the estimates
    are raised to the change of the answer (:func:`_raised`), which carries the miss.  On 30
    draws of that family (6 methods, rtol 1e-6, 1e-8, 1e-10), successes with errors over 20
    times the estimate went from 33 to 9 of 540 (the largest ratio 4.45e3 -> 234), 0.96 times
    the steps in all (up to 14.8 times on one solve); ``tools/kink_scan.py``: 0.98 times the
    evaluations in all, 0.06-7.84 times a solve (jumps of K in s divided further)."""
    n = len(level)
    near = np.zeros(n, dtype=bool)
    if n < 3:
        return near
    Y2 = Y.reshape(n + 1, -1)
    big = np.max(np.abs(Y2), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        noise = float(np.nanmax(2.0 ** (p + 1) * EPS * big / tolerance_of(big, rtol, atol)))
    bar = max(KINK_LEVEL, KINK_OUT * noise) if math.isfinite(noise) else math.inf
    return _above_neighbours(level > bar, level, t, p, KINK_OUT)


#: The e-folds of the fastest decay before the end of a stiff rough step in which
#: :func:`_stiff_ends` looks for a jump of the data.
JUMP_WINDOW = 40.0


def _stiff_ends(g_vec, kernel, t, Y, rough, rtol, atol):
    """(steps, evaluations, jumps): the ``rough`` steps of the mesh ``t`` (values ``Y``; a
    boolean per step) that span more than STIFF e-folds of the linearised problem's fastest
    decay rho at their end (:func:`._tolerance.decay_rate` at Y_n and Y_(n+1)) and whose data
    jump within
    W / rho before it, W the larger of JUMP_WINDOW and HONEST J / (atol + rtol |y|) over the
    components (J the change of the data across the step, |y| the component's largest
    value): a mesh point on a jump, or after one by less than the transient it starts needs
    to fall below the tolerance (J / (rho tol)), with the margin of an honest estimate
    (radau4, K jumping in s at 0.25, 9.5e-3 before a point: 0.41 times the tolerance off,
    28 times the estimate).

    The exact solution there is still on the transient that the jump starts (a jump J of g
    gives y = J e^(-rho (t - c)) after it; a jump of K in s switches the decay on), while the
    step's stages after the jump take it with the weight of their share of the step: its end
    value is the transient's damped remnant, about J / (rho d) (d from the jump to the end),
    an error of order 1 at a jump on the mesh point, and over the tolerance for d below
    J / (rho tol), that falls only once h rho < 1.  Dividing the step changes that value by a
    few times itself, not by its error, so the change of the answer (:func:`_raised`) is no
    bound on it (radau2 on y = H(t - 0.5) - 1e6 int y, or on y = 1 - 1e6 int H(s - 0.5) y,
    rtol = atol = 1e-3: a success on 64 steps with y(0.5) = 1.6e-4 and 2.6e-4 for 1,
    estimates 1.5e-4 and 2.4e-4; the jump at 0.503, 4.7e-4 before a point: 2.4 times the
    tolerance, 26 times the estimate).  Such steps are returned as blind (no answer is
    accepted while one is left: they are divided until h rho <= STIFF, where the change
    measures the error again).  The window's second differences (of g, and of K along the
    diagonal at Y_n and at Y_(n+1), the latter times 1 / rho, plus t_(n+1) - t0 where K names
    t) are compared with the tolerance of each component's largest value, as
    :func:`_rough_kernel` does.  2 (d + 1) + 12 kernel evaluations and 6 values of g per
    rough step (none on smooth data; the decay probes alone where the step is not stiff).

    ``jumps``: (x, rho) of the jumps located (:func:`_located_jump`) in such a step's window,
    or, where the whole step's second difference (its ends and middle) exceeds the tolerance,
    in the step: the driver makes them breaks of a pass at the tolerance
    (:func:`_controlled_pass`), whose pairs end at x and resolve the transient from there.
    Dividing the steps around a jump instead (LOCAL_SPLIT a round) left the steps after it
    many e-folds long, where the shifted check saw the transient and the rounds ran out:
    radau2 on the two problems above failed at 788 and 924 steps, 6.4e6 and 7.3e6
    evaluations, now a success on 776 steps, 2.2e6, 1e-6 times the tolerance; radau4, g
    jumping at 0.503: 5.3e8 evaluations, now 8.2e4."""
    n = len(t) - 1
    steps = np.zeros(max(n, 0), dtype=bool)
    jumps = []
    if n < 1 or not rough.any():
        return steps, 0, jumps
    Y2 = Y.reshape(n + 1, -1)
    tol = tolerance_of(np.max(np.abs(Y2), axis=0), rtol, atol)
    in_t = _names(kernel, 0)
    calls = 0
    for j in np.flatnonzero(rough).tolist():
        a, b = float(t[j]), float(t[j + 1])
        rho = 0.0
        for y in (Y2[j + 1], Y2[j]):
            r, more = decay_rate(kernel, b, y)
            calls += more
            rho = max(rho, r) if math.isfinite(r) else rho
        if not (b - a) * rho > STIFF:
            continue
        K = _evaluator(kernel, [Y2[j].tolist(), Y2[j + 1].tolist()])
        scale = 1.0 / rho + (b - float(t[0]) if in_t else 0.0)
        _user.clear_failures()
        try:
            # the jump across the step (of g, or of K times 1 / rho), to which the window
            # after it that its transient needs to fall below the tolerance is taken
            G, V = _data_at(g_vec, K, scale, [a, 0.5 * (a + b), b])
            size = np.maximum(np.abs(G[2] - G[0]), np.max(np.abs(V[:, 2] - V[:, 0]), axis=0))
            inside = np.maximum(np.abs(G[2] - 2.0 * G[1] + G[0]),
                                np.max(np.abs(V[:, 2] - 2.0 * V[:, 1] + V[:, 0]), axis=0))
            with np.errstate(invalid="ignore", divide="ignore"):
                window = max(JUMP_WINDOW, HONEST * float(np.nanmax(size / tol)))
            w = 0.5 * min(window / rho if math.isfinite(window) else math.inf, b - a)
            G, V = _data_at(g_vec, K, scale, [b - 2.0 * w, b - w, b])
            jump = np.maximum(np.abs(G[2] - 2.0 * G[1] + G[0]),
                              np.max(np.abs(V[:, 2] - 2.0 * V[:, 1] + V[:, 0]), axis=0))
        except Exception as exc:  # noqa: BLE001 (the user's error: left to the steps' checks)
            if not _user.raised_by_user(exc):
                raise
            jump = inside = None
        finally:
            calls += 12
            failed = _user.take_failure() is not None
        with np.errstate(invalid="ignore"):
            steps[j] = not failed and jump is not None and bool(np.any(jump > tol))
            elsewhere = not failed and inside is not None and bool(np.any(inside > tol))
        if steps[j] or elsewhere:
            # (a jump before the window: its transient has decayed at the step's end, but
            # the steps that divide the rough step start it there again; radau4, g jumping
            # at 0.503, lam 1e6: 1312 steps and 1.8e7 evaluations before the stiff end)
            lo = b - 2.0 * w if steps[j] else a
            x, more = _located_jump(g_vec, K, scale, lo, b, tol)
            calls += more
            if x is not None:
                jumps.append((x, rho))
    return steps, calls, jumps


def _stiff_jumps(g_vec, kernel, t, Y, p, rtol, atol, nodes, jumps, span):
    """(located, evaluations): the stiff jumps ((x, rho) each) that the data check of the
    mesh ``t`` (values ``Y``; :func:`_rough_data`) locates and that are not yet among
    ``jumps`` (:func:`_new_jumps`; ``span`` the interval's length), for a mesh no check
    trusts.  The check's cost: (p + 1) N + 1 values of g and about as many kernel evaluations,
    plus those of :func:`_stiff_ends` on the rough steps."""
    _, _, calls, located, _ = _rough_data(g_vec, kernel, t, Y, p, rtol, atol, nodes,
                                          [x for x, _ in jumps])
    return _new_jumps(located, jumps, span), calls


def _new_jumps(located, jumps, span):
    """The stiff jumps of ``located`` ((x, rho) each) not within 1e-12 ``span`` of one of
    ``jumps``."""
    return [(x, rho) for x, rho in located
            if all(abs(x - y) > 1e-12 * span for y, _ in jumps)]


def _with_jumps(t, jumps):
    """The mesh ``t`` with, for each of the ``jumps`` ((x, rho) each) inside it and not a
    point of it, its nearest even point but the first and last moved to x (the caller pairs
    it again: :func:`_paired` moves the odd points), so that a mesh redrawn after a pass that
    broke at the stiff jumps (:func:`_controlled_pass`) keeps them as companion points."""
    n = len(t) - 1
    if not jumps or n < 4:
        return t
    t = t.copy()
    for x, _ in jumps:
        if not t[0] < x < t[-1] or np.any(t == x):
            continue
        k = 2 * (int(np.searchsorted(t[::2], x)) - 1)       # t[k] < x < t[k + 2]
        i = k if k + 2 > n - 1 or x - t[k] <= t[k + 2] - x else k + 2
        if 2 <= i and i + 2 <= n and t[i - 2] < x < t[i + 2]:
            t[i] = x
    return t


#: The first pair after a stiff jump of the data spans at most JUMP_START / rho
#: (:func:`_controlled_pass`).
JUMP_START = 1.0

#: The most bisections of :func:`_located_jump` (to adjacent floats on [0, 1]: 54).
JUMP_BISECTIONS = 64


def _located_jump(g_vec, K, scale, lo, hi, tol):
    """(x, evaluations): the last float x of [``lo``, ``hi``) before the jump of the data on
    it (g, and ``scale`` times K along the diagonal at the two rows of the evaluator ``K``, as
    :func:`_data_at` takes them), found by bisection into the half whose ends' data differ
    most over the tolerance ``tol`` (d,) of each component, to adjacent floats; None where the
    data at the two floats found differ by less than the tolerance (no jump: a steep front).
    The data at x are the data before the jump, so a mesh point at x leaves the jump to the
    step after it, whose stages all take it: a stiff transient that its step starts, not one
    that its last stage takes alone (:func:`_stiff_ends`).  3 kernel evaluations and a value
    of g a bisection (the user's error: None)."""
    calls, found = 0, False

    def data(x):
        nonlocal calls
        calls += 2
        G, V = _data_at(g_vec, K, scale, [x])
        return np.concatenate([G[0] / tol, (V[:, 0] / tol).ravel()])

    _user.clear_failures()
    try:
        a, b = data(lo), data(hi)
        for _ in range(JUMP_BISECTIONS):
            mid = 0.5 * (lo + hi)
            if not lo < mid < hi:
                break
            m = data(mid)
            with np.errstate(invalid="ignore"):
                left, right = np.nanmax(np.abs(m - a)), np.nanmax(np.abs(b - m))
            if left > right:
                hi, b = mid, m
            else:
                lo, a = mid, m
        with np.errstate(invalid="ignore"):
            found = bool(np.nanmax(np.abs(b - a)) > 1.0)
    except Exception as exc:  # noqa: BLE001 (the user's error: left to the steps' checks)
        if not _user.raised_by_user(exc):
            raise
        found = False
    finally:
        found = _user.take_failure() is None and found
    return (lo if found else None), calls


def _data_at(g_vec, K, scale, x):
    """(G, V): g at the points ``x`` (len(x), d), and ``scale`` times K along the diagonal at
    the two rows of y of the evaluator ``K`` (:func:`._tolerance._evaluator`; (2, len(x), d))."""
    G = np.asarray(g_vec(np.asarray(x, dtype=float), keep=False), dtype=float).reshape(len(x), -1)
    V = scale * np.array([[K(u, u, row) for u in x] for row in (0, 1)], dtype=float)
    return G, V


#: A step of a solve to a tolerance whose data's level exceeds p + 1 and STAND_OUT times its
#: neighbours' (:func:`_standing_out`) is rough too.
STAND_OUT = 16.0


def _standing_out(level, t, p):
    """For each step of the mesh ``t`` but the first and the last, whether the data's
    ``level`` there (of :func:`_rough_data`) exceeds p + 1 (what a jump inside the step makes
    its quadrature miss, at most 1 / (p + 1) of its differences, :func:`kernel_defects`,
    exceeds the tolerance) and STAND_OUT times the larger of its neighbours' taken to its
    scale (times (h_n / h_m)^(p + 1), as smooth data's differences of order p + 1 fall):
    a jump or kink inside the step, whose differences there do not fall with h, where those
    of the smooth data around it are below the tolerance.  Such a step, under ROUGH_G, was
    left to the estimates, which the jump can fool: radau3, y = 1 + t + int c(s) y, c jumping
    from 1 to 2 at s = 0.12275, rtol = atol = 1e-7, a success 23 times over the tolerance
    (level 15, the estimate's order-5 model 1/31 of the difference of the half-steps
    companion, which the jump makes of order 1).  On the smooth problems of
    ``tools/smooth_tolerance_scan.py``, every step over 1 (cos 6t, radau2 and radau3 at 1e-6)
    is at most 2.2 times its neighbours; the jump's step 2.5e6 to 3e15 times.  The first and
    last steps have one neighbour, which decaying data can leave 16 times below them: the
    renewal equation's first step (radau3, rtol 1e-2: 99 times the tolerance, its neighbour
    far less, the kernel's transient) was divided to 2038 steps, 6e7 evaluations, for 152
    and 3e5; the start is the resolution check's (:func:`._tolerance.first_steps_check`)."""
    return _above_neighbours(level * defect_factor(p) > 1.0, level, t, p, STAND_OUT)


def _above_neighbours(near, level, t, p, factor):
    """``near`` (a boolean per step of the mesh ``t``: the steps whose ``level`` passed a
    caller's bar) but the first and the last step, and only where the level also exceeds
    ``factor`` times the larger of its neighbours' taken to its scale (times (h_n /
    h_m)^(p + 1), as smooth data's differences of order p + 1 fall): the test of
    :func:`_standing_out` and :func:`_kinked`."""
    near[[0, -1]] = False
    if not near.any():
        return near
    h = np.diff(t)
    scaled = np.maximum(level[:-2] * (h[1:-1] / h[:-2]) ** (p + 1),
                        level[2:] * (h[1:-1] / h[2:]) ** (p + 1))
    near[1:-1] &= level[1:-1] > factor * scaled
    return near


#: Solves on a given mesh (:func:`with_rough_data`): the data are not smooth at the scale of
#: a step where their differences there exceed ROUGH_FIXED times the solution's largest
#: estimate (of that component): the bar of an honest estimate (``_tolerance.HONEST``).
ROUGH_FIXED = HONEST


#: Solves on a given mesh (:func:`with_rough_data`): a step whose data's differences times
#: the growth of the solution after it (:func:`defect_growth`) exceed ROUGH_GROWN times the
#: largest estimate is rough too.
ROUGH_GROWN = ROUGH_FIXED / 2.0


def defect_growth(Y):
    """For each step n of a solution ``Y`` (N+1, d) on N steps, how many times the solution's
    largest size after the step exceeds its size so far (the largest |y| up to t_(n+1)), at
    least 1 (1 where the size so far is 0): about how much a defect made in the step grows
    by the end, where the solution grows as the equation's homogeneous part does.
    :func:`data_roughness` measures a step's defect against the estimate at its end, not at
    the end of the interval: gregory6 on y = 1 + t + int c(s) y, c jumping from 1 to 2 at
    s = 0.1234, 32 steps, measured 13.3 times the estimate there (below ROUGH_FIXED) while
    y grows 7.6 times after the step, and the error was 31.9 times the estimate (kink of c,
    24 steps: 2.7 times, growth 5.0, error 22.8 times).  The weighed ratio is compared with
    ROUGH_GROWN, half of ROUGH_FIXED: the growth of the size is a model of the propagation
    (the kink's defect times it was 0.6 of its error)."""
    size = np.max(np.abs(Y), axis=1) if Y.shape[1] > 1 else np.abs(Y[:, 0])
    so_far = np.maximum.accumulate(size)[1:]
    after = np.maximum.accumulate(size[::-1])[::-1][1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = after / so_far
    return np.where((growth > 1.0) & (so_far > 0.0), growth, 1.0)     # (NaN, x/0: 1)


def _may_grow_over(top, Y):
    """Whether a step's ratio, at most ``top``, times :func:`defect_growth` can exceed
    ROUGH_GROWN: the growth is at most the solution's largest size over its size at t_1 (a
    bound in a few float operations; the growth itself, ~10 us, on every solve that the data
    check sweeps, only where it may matter)."""
    if not top > 0.0:
        return False
    if Y.size <= 64:   # (a few values as floats, NaN propagating as NumPy's maxima: ~1 us a call)
        values = Y.reshape(-1).tolist()
        first = _largest_difference(values[:2 * Y.shape[1]], None)
        largest = _largest_difference(values, None)
    else:
        first, largest = float(np.max(np.abs(Y[:2]))), float(np.max(np.abs(Y)))
    return not (first > 0.0 and top * largest <= ROUGH_GROWN * first)


def data_roughness(g_vec, kernel, t, Y, estimate, p, alpha=0.0, t_free=False, of_k=False,
                   diagonal=True):
    """(ratio, evaluations): for each step of the mesh ``t`` (N,), the largest ratio of the
    differences of order p + 1 across it of the data (g; K in t at (t0, Y_0) where K names t,
    times t_(n+1) - t0; K along the diagonal at y on the chord from Y_n to Y_(n+1), which a
    kink of K in y that the solution crosses inside the step crosses too, times t_(n+1) - t0
    where K names t, else h: as :func:`_rough_forcing` and :func:`_rough_kernel` take them) to
    the largest ``estimate`` of the solution ``Y`` (of the component, at least ROUNDING ulp of
    its largest value); a difference within ROUNDING ulp of the size of its terms (rounding)
    counts as 0.  With ``alpha`` > 0 (``kernel`` the smooth factor k of a weakly singular
    kernel (t - s)^(-alpha) k), a length L multiplying K's differences is its weight under the
    singular factor, L^(1 - alpha) / (1 - alpha) (a jump of k over a length L of the step moves
    the step's integral by that times the jump, not by L: k jumping from -1 to -2 y at s = 1/3,
    alpha = 0.7, 64 graded gauss1 steps, was a success with an error of 1.44, 73 times the
    estimate, whose steps' differences times h were 2 times the estimate).  (p + 1) N + 1
    values of g and (p + 1) N + 1 kernel evaluations a sweep (the steps share their ends where
    Y is finite; else (p + 2) N), in one compiled call (:func:`_data_ratios`).  ``t_free``:
    K taken as if it named no t (no sweep of K in t; the diagonal's times h).  ``of_k``:
    (ratio, K's ratio, evaluations), K's ratio that of K's sweeps alone, as with g = 0 (the
    rounding of K's differences, and the scale's floor, at ulp of float64: EPS, as of a g
    that returns zeros), of the same evaluations.  ``diagonal=False``: no sweep of K along the
    diagonal either (with ``t_free``, or a K that names no t: g's sweep alone, no kernel
    evaluation; a direct rule's check of a K that names neither t nor s and is smooth in y,
    :func:`._solve._forcing_checked`)."""
    n = len(t) - 1
    grid = _GRIDS.get((n, p))
    if grid is None:       # (the step index of each point, and of each mesh point)
        grid = _GRIDS[(n, p)] = (np.arange(n * (p + 1) + 1) / (p + 1), np.arange(n + 1.0))
    times = np.interp(grid[0], grid[1], t)     # (exact at the mesh points)
    G = np.ascontiguousarray(g_vec(times, keep=False), dtype=float).reshape(len(times), -1)
    in_t = False if t_free else _names(kernel, 0)
    ratio, ratio_k = np.empty(n), np.empty(n)
    # (the entry point checks no types: (N + 1, d) float arrays, C-contiguous)
    Y2, E, mesh = _c_floats(Y), _c_floats(estimate), _c_floats(t)
    share = _shares_ends(Y2, mesh)
    calls = (int(in_t) + int(diagonal)) * ((p + 1) * n + 1 if share else (p + 2) * n)
    sweeps = int(in_t) * SWEEP_T + (0 if diagonal else NO_DIAGONAL)
    run_guarded(lambda: _ratios()(kernel.function_address.address, kernel.params, mesh, Y2, G,
                                  difference_weights(p), sweeps, int(share), E,
                                  ROUNDING * EPS, ratio, float(alpha),
                                  ROUNDING * EPS, ratio_k),
                kernel.args, calls)   # (inline, not in a thread, below THREAD_WORK)
    if alpha:
        np.maximum(ratio, _offset_forcing_ratio(g_vec, mesh, Y2, E, p), out=ratio)
    return (ratio, ratio_k, calls) if of_k else (ratio, calls)


def _c_floats(a):
    """``a`` itself if it is a C-contiguous float64 array, else such a copy of it."""
    return a if a.dtype == np.float64 and a.flags.c_contiguous else \
        np.ascontiguousarray(a, dtype=float)


def _offset_forcing_ratio(g_vec, t, Y, E, p):
    """For each step of the mesh ``t``, the largest ratio (over the components) of g's
    differences of order p + 1 on the first p + 2 of p + 3 equally spaced points of the step
    to the estimates' scale, as :func:`_data_ratios` takes g's on all p + 2 of p + 2.

    The differences of order p + 1 of a kink of g at c inside a step vanish for one c between
    two of its points (and at the middle of the step for even p, the weights being odd about
    it): gauss2 with a weakly singular kernel, y = 1 + t^(1/2) + (t - 1/3)_+, rtol 1e-5, whose
    step [0.32133, 0.33739] of 128 graded steps put 1/3 there, was a success with an error
    13.8 times the tolerance and 16 times the estimate (differences 0.34 times the estimate).
    The Runge-Kutta methods' shifted companions (every third point) see such a kink; weakly
    singular kernels have none, and take g's differences on these points too: of a kink at
    t_n + c h, the larger of the two is at least 0.18 min(c, 1 - c) h |g'(c+) - g'(c-)|
    (p <= 8).  p + 2 values of g a step."""
    u = np.arange(p + 2) / (p + 2.0)
    D = _forcing_differences(g_vec, t[:-1, None] + np.diff(t)[:, None] * u, p)
    scale = _estimates_scale(E, Y)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(scale > 0.0, D / scale, 0.0)
    return np.max(r, axis=1)


def _estimates_scale_few(E, Y):
    """:func:`_estimates_scale` on floats where ``Y`` is a scalar solution of a few values and
    ``E`` is finite (the maxima of floats are the same floats; NaN in Y propagating, as
    NumPy's maximum does), else that function (~5 us of NumPy calls less)."""
    if Y.shape[1] != 1 or Y.size > 64 or E.shape != Y.shape:
        return _estimates_scale(E, Y)
    e = E.reshape(-1).tolist()
    if not all(map(math.isfinite, e)):
        return _estimates_scale(E, Y)
    size = ROUNDING * EPS * _largest_difference(Y.reshape(-1).tolist(), None)
    top = max(e)
    return np.array([top if top >= size else size])


def _forcing_differences(g_vec, x, p):
    """|differences of order p + 1| of g on each row of the points ``x`` (M, p + 2), (M, d);
    those within ROUNDING ulp of the size of their terms (rounding), and NaN, are 0."""
    G = np.asarray(g_vec(x.reshape(-1), keep=False), dtype=float).reshape(len(x), p + 2, -1)
    weights = difference_weights(p)
    D = np.abs(np.einsum("j,mja->ma", weights, G))
    D[~(D > ROUNDING * EPS * np.abs(weights[None, :, None] * G).sum(axis=1))] = 0.0
    return D


def _estimates_scale(E, Y):
    """The scale of the estimates ``E`` of ``Y`` (both (N+1, d)) per component, as
    :func:`_data_ratios` takes it: their largest, at least ROUNDING ulp of |Y|'s largest."""
    return np.maximum(np.max(E, axis=0), ROUNDING * EPS * np.max(np.abs(Y), axis=0))


#: (j / (p + 1) for j = 0 .. N (p + 1), the mesh indices 0 .. N) by (N, p): the points where
#: :func:`data_roughness` takes g, in the index of the mesh (on meshes of fewer than 32 steps).
_GRIDS = {}


#: :func:`_data_ratios`' ``sweeps`` bits: K swept in t at (t0, Y_0), and K not swept along the
#: diagonal (without either bit: the sweeps of g and of K along the diagonal).
SWEEP_T, NO_DIAGONAL = 1, 2


def _data_ratios(K_at, theta, t, Y, G, weights, sweeps, share, E, noise, ratio, alpha, noise_k,
                 ratio_k):
    """ratio[n] = the largest over the components a and the sweeps of |D[a]| c / scale[a], for
    the differences D = sum_j weights[j] v_j across the step n (m = len(weights) points
    x_j = t[n] + j h / (m - 1), the last t[n+1] itself) of

    * g: v_j = G[n (m - 1) + j], c = 1;
    * where ``sweeps`` has the bit SWEEP_T, K in t: v_j = K(x_j, t[0], Y[0]),
      c = t[n+1] - t[0];
    * unless ``sweeps`` has the bit NO_DIAGONAL, K along the diagonal on the chord:
      v_j = K(x_j, x_j, y_j), y_j = Y[n] + u_j (Y[n+1] - Y[n]), u_j = j / (m - 1),
      c = t[n+1] - t[0] with SWEEP_T, else h (the sweeps of K
      are :func:`_step_differences`, as :func:`_kernel_differences`'s); with ``alpha`` > 0 (the
      smooth factor of a weakly singular kernel), c^(1 - alpha) / (1 - alpha) instead of c;

    scale[a] = the larger of max_i E[i, a] and noise max_i |Y[i, a]|; a D within noise
    sum_j |weights[j] v_j[a]| (rounding), or NaN, counts as 0.  ``K_at``: the kernel's
    address (as the loops take it); ``share``: the sweeps of K share the steps' ends
    (:func:`_step_differences`).  ratio_k[n]: the same of K's sweeps alone with ``noise_k``
    for ``noise`` (in the rounding and in the scale: ratio[n] of G = 0 and ``noise_k``)."""
    K = _loops._kernel_at(K_at)
    in_t = sweeps & SWEEP_T
    diagonal = (sweeps & NO_DIAGONAL) == 0
    m = weights.shape[0]
    d = Y.shape[1]
    f = np.empty(d)
    acc = np.empty(d)
    terms = np.empty(d)
    scale = np.zeros(d)
    scale_k = np.empty(d)
    size = np.zeros(d)
    path = np.empty((1, d))
    last = np.empty((2, d))
    for i in range(Y.shape[0]):
        for a in range(d):
            if E[i, a] > scale[a]:
                scale[a] = E[i, a]
            if abs(Y[i, a]) > size[a]:
                size[a] = abs(Y[i, a])
    for a in range(d):
        scale_k[a] = scale[a]
        if noise_k * size[a] > scale_k[a]:
            scale_k[a] = noise_k * size[a]
        if noise * size[a] > scale[a]:
            scale[a] = noise * size[a]
    for n in range(t.shape[0] - 1):
        best = 0.0
        best_k = 0.0
        for which in range(3):
            if which == 0:
                for a in range(d):
                    acc[a] = 0.0
                    terms[a] = 0.0
                for j in range(m):
                    for a in range(d):
                        w = weights[j] * G[n * (m - 1) + j, a]
                        acc[a] += w
                        terms[a] += abs(w)
            elif which == 1 and in_t == 0 or which == 2 and not diagonal:
                continue
            else:
                _step_differences(K, theta, t, Y, n, weights, which - 1, share != 0 and n > 0,
                                  last, f, path, acc, terms)
            c = 1.0 if which == 0 else (t[n + 1] - t[0] if in_t != 0 else t[n + 1] - t[n])
            if which != 0 and alpha != 0.0:
                c = c ** (1.0 - alpha) / (1.0 - alpha)
            for a in range(d):
                v = abs(acc[a])
                if v > noise * terms[a] and scale[a] > 0.0:
                    r = v * c / scale[a]
                    if r > best:
                        best = r
                if which != 0 and v > noise_k * terms[a] and scale_k[a] > 0.0:
                    r = v * c / scale_k[a]
                    if r > best_k:
                        best_k = r
        ratio[n] = best
        ratio_k[n] = best_k


def _ratios_signature():
    from .._numba import types
    a1, a2, i = types.float64[::1], types.float64[:, ::1], types.int64
    return types.void(i, a1, a1, a2, a2, a1, i, i, a2, types.float64, a1, types.float64,
                      types.float64, a1)


def _ratios():
    """:func:`_data_ratios`, compiled on first use (cached on disk), called through its entry
    point (the arguments are always of its one signature)."""
    return compiled_entry(_data_ratios, _ratios_signature)


#: Solves on a given mesh whose data are not smooth (:func:`with_rough_data`): the steps
#: where they are not, and one on each side, are divided into this many pieces.
ROUGH_SPLIT = 4
#: ... and the first steps of a weakly singular kernel's solve that it does not check.
SINGULAR_START = 2
#: ... but the first step's pieces [t0 + 2^-(j+1) h, t0 + 2^-j h], j < SINGULAR_DEPTH, no
#: longer than their distance from t0 (:func:`_singular_check_mesh`).
SINGULAR_DEPTH = 20
#: A weakly singular kernel's solve: the non-smooth point of the data in each of (at most
#: LOCATED of) its rough steps is located to LOCATE_ULP ulp (:func:`_located`) and made a point
#: of the divided solve.
LOCATED, LOCATE_ULP = 8, 64
#: :func:`with_rough_data` divides every step of a uniform mesh of a method that needs one (a
#: solve on :func:`uniform_split` times the steps, 9 to 81 times the work of an O(N^2) solve)
#: up to this many steps; larger meshes take the order 1 of a jump in their companion's
#: estimates, and on a mesh the caller gave the first N / uniform_split(p) steps (at most this
#: many) are solved divided (:func:`_divided_start`).
ROUGH_UNIFORM_STEPS = 512


def _singular_check_mesh(t):
    """(mesh, step): the mesh ``t`` of a weakly singular kernel's solve with each of its steps
    [t_n, t_(n+1)] longer than t_n - t0 (n >= SINGULAR_START) divided at t0 + 2^j (t_n - t0),
    j = 1, 2, ..., and its first step at t0 + 2^-j h_0, j = 1 ... SINGULAR_DEPTH, so that no
    piece but the innermost is longer than its distance from t0 (where g's differences of the
    solution's (t - t0)^(1 - alpha) start stay small), and for each step of ``mesh`` the step
    of ``t`` it lies in.  (A jump of g at 0.2 h of the first of 16 uniform radau2 steps, before
    its first stage, was missed by every nested mesh alike: a success 31 times over its
    estimate.)  (The graded meshes' first steps are long: on 8 graded steps every
    step from the third on, and a jump of g or of k there went unchecked: radau3 on
    y = 1 + t^(1/2) + H(t - 1/3), 8 graded steps, an error 323 times the estimate.)"""
    t0 = float(t[0])
    start = (t[:-1] - t0).tolist()
    ends = t[1:].tolist()
    extra = []
    for n in range(SINGULAR_START, len(start)):
        x = 2.0 * start[n]
        while t0 + x < ends[n]:
            extra.append(t0 + x)
            x *= 2.0
    # (the first step too, at t0 + 2^-j h_0: only its innermost piece is left unchecked)
    h0 = ends[0] - t0
    extra.extend(t0 + h0 * 0.5 ** j for j in range(1, SINGULAR_DEPTH + 1))
    mesh = np.union1d(t, np.array(extra))
    return mesh, np.searchsorted(t, mesh[:-1], side="right") - 1


def _located(g_vec, kernel, t, Y, scale, i, p, alpha):
    """(x, evaluations): the point of the step [t_i, t_(i+1)] of the mesh ``t`` where the data
    of :func:`data_roughness` are not smooth, by bisection: of the two halves of the interval,
    the one whose differences are the larger (y on the chord from Y_i to Y_(i+1); ``scale``
    (d,) the estimates' scale), until it is LOCATE_ULP ulp long or neither half shows any.
    A jump of the data just before (or after) a mesh point is missed alike by every mesh that
    keeps the point, its ROUGH_SPLIT divisions too, and for a weakly singular kernel it is not
    small: the step's integral misses (t - s)^(-alpha) times the jump over the distance delta
    to the point, delta^(1 - alpha) / (1 - alpha) (gauss3 on y = 1 + t^0.7 + H(t - 1/3), 32
    graded steps, alpha = 0.3, a point at 0.33370: an error of 5.6e-3, 1.7e3 times the estimate,
    which the divided solve changed by 1e-7).  About 45 halvings, each 2 (p + 1) + 1 values of
    g and kernel evaluations (twice where K names t)."""
    a, b = float(t[i]), float(t[i + 1])
    ya, yb = Y[i], Y[i + 1]
    E = np.ascontiguousarray(np.broadcast_to(scale, (3, len(scale))))
    width = LOCATE_ULP * EPS * max(abs(a), abs(b))
    calls = 0
    while b - a > width:
        m = 0.5 * (a + b)
        if not a < m < b:
            break
        sub = np.array([a, m, b])
        u = (sub - float(t[i])) / float(t[i + 1] - t[i])
        ratio, n = data_roughness(g_vec, kernel, sub, ya[None, :] + u[:, None] * (yb - ya),
                                  E, p, alpha)
        calls += n
        if not (ratio[0] > 0.0 or ratio[1] > 0.0):
            break
        if ratio[1] > ratio[0]:
            a = m
        else:
            b = m
    return 0.5 * (a + b), calls


def with_rough_data(sol, g_vec, kernel, p, run=None, singular=False, quadratic=True,
                    nodes=None, uniform_run=None, aliasing=False, on_mesh=False):
    """``sol``, a solve on a given mesh with its error estimate (``p``: the method's order),
    with its estimates raised where the data are not smooth at the scale of its steps
    (:func:`_with_rough_data`), and, with ``aliasing`` (the solves on a mesh the caller gave:
    ``n_steps``), failed where they oscillate at the mesh's period (:func:`_aliased_data`;
    not for a weakly singular kernel), and where the method takes the data at the mesh points
    alone (``on_mesh``: the direct rules, radau1), with its estimates raised to the defects
    of data sampled at one phase that add up over the steps (:func:`_summed_defects`).
    (Solves to a tolerance are not probed: the probe's
    evaluations took gregory4 at rtol = atol = 1e-3 from 4.09 to 4.82 times the best uniform
    mesh's, ``test_error_control``.)"""
    probe, unprobed, checked = None, "", None
    if aliasing and not singular and sol.success and len(sol.mesh) > 1 and \
            (quadratic or getattr(sol, "_small_mesh", False)):
        nested = getattr(sol, "_nested_estimate", None)
        against = sol._est2 if nested is None or nested.shape != sol._est2.shape else nested
        if (all(map(math.isfinite, against.reshape(-1).tolist())) if against.size <= 64 else
                np.all(np.isfinite(against))):    # (a few values as floats: ~2 us less)
            # (the probes' sweeps and the data check's of :func:`_with_rough_data` at once:
            # one call of g, one guarded run; None where g or K raised or recorded a value,
            # then each alone, as before.  Only where the solve called g on an array of more
            # than 8 times, and d <= 8: g_vec has then told whether g takes arrays, and takes
            # g on the joined points as on each sweep's)
            together = None
            if len(sol.mesh) > 8 and sol._y2.shape[1] <= 8:
                est = sol._est2
                check = against is est or (all(map(math.isfinite, est.reshape(-1).tolist())) if
                                           est.size <= 64 else bool(np.all(np.isfinite(est))))
                together = _swept_probes(g_vec, kernel, sol.mesh, sol._y2, against,
                                         int(math.ceil(p)), check)
            if together is not None:
                probe, checked = together
            else:
                try:
                    probe = _alias_probe(g_vec, kernel, sol.mesh, sol._y2, against,
                                         int(math.ceil(p)))
                    probe += (_alias_every(g_vec, kernel, sol.mesh, sol._y2, probe[2],
                                           probe[4]),)
                except Exception as exc:   # noqa: BLE001 (g or K raised at a point the solve
                    if not _user.raised_by_user(exc):      # never took: left unchecked, and said)
                        raise
                    # (silent, g undefined at t_n + 0.414 h alone, radau2 on 64 steps aliased on
                    # a part of the interval: a success 0.055 off with an estimate of 6.4e-5)
                    unprobed = _not_checked(
                        "The data were not checked for an oscillation at the steps' scale that "
                        "the mesh samples at one phase", exc)
    # (the estimates before the check, whose largest _aliased_data takes only where the probe
    # saw something: a copy, ~2 us less than the maxima)
    before = sol._est2.copy() if probe is not None else None
    sol = _with_rough_data(sol, g_vec, kernel, p, run, singular, quadratic, nodes, uniform_run,
                           start=aliasing, checked=checked)
    sol = sol if probe is None else _aliased_data(sol, probe, before)
    if on_mesh and probe is not None and sol.success and not _names(kernel, 0):
        sol = _summed_defects(sol, g_vec, kernel, probe[2], probe[4])
    uncovered = getattr(sol, "_uncovered", None) if sol.success else None
    sol = sol if uncovered is None else _uncovered_steps(sol, *uncovered)
    sol.message += unprobed
    return sol


#: :func:`_alias_probe`: the share of each step its first piece spans (sqrt 2 - 1; not the
#: golden share of :func:`_off_grid_roughness`, whose multiples by 16 or 21 cycles a step fall
#: near whole cycles), that of its second piece after it at the i-th step, 1/4 + 0.3 frac(
#: ALIAS_SPAN + i phi) (phi the golden share: no frequency vanishes at the points of every
#: one), and the fewest steps it takes, spread over the mesh (of N steps: ALIAS_DENSITY
#: sqrt(N) if more).
ALIAS_SPAN, ALIAS_STEPS, ALIAS_DENSITY = math.sqrt(2.0) - 1.0, 4, 2.0
#: :func:`_aliased_data`: a probed step's differences over ALIAS_FACTOR times the whole step's
#: show data that the mesh samples at one phase of an oscillation.
ALIAS_FACTOR = 10.0


def alias_bar(p):
    """The running sum (in estimates) of :func:`_aliased_data` over which a solve of order
    ``p`` fails: ROUGH_FIXED, times 2^(p + 1) / 16 below p = 3.  The differences of order
    p + 1 of an oscillation of amplitude A reach 2^(p + 1) A (for p = 3, 16 A), while its
    defect in a step sampled at one phase is about h A: for low orders their sum is about the
    error, no bound (radau1 on y = 1 + int cos(w s) y ds on [1, 3], 64 steps, w = 2 pi 1024:
    a sum of 24 against 20 with one span, 15.3 with a span varying, for an error 25 times the
    estimate)."""
    return ROUGH_FIXED * min(1.0, 2.0 ** (p + 1) / 16.0)


def _alias_spans(m):
    """The shares of their steps that the ``m`` probed steps of :func:`_alias_probe` span."""
    phi = (math.sqrt(5.0) - 1.0) / 2.0
    return 0.25 + 0.3 * ((ALIAS_SPAN + np.arange(m) * phi) % 1.0)


#: :func:`_alias_shares`' arrays by m (on meshes of up to 4096 steps).
_ALIAS_SHARES = {}


def _alias_shares(m):
    """(m, 3): the shares 0, ALIAS_SPAN, ALIAS_SPAN + s_i (:func:`_alias_spans`) of the i-th
    of m probed steps at its points t_k, t_k + A h, t_k + (A + s_i) h; remembered (read-only:
    ~5 us a call at m = 8)."""
    u = _ALIAS_SHARES.get(m)
    if u is None:
        u = np.empty((m, 3))
        u[:, 0], u[:, 1], u[:, 2] = 0.0, ALIAS_SPAN, ALIAS_SPAN + _alias_spans(m)
        u.setflags(write=False)
        if m <= 4096:
            _ALIAS_SHARES[m] = u
    return u


def _alias_probe(g_vec, kernel, t, Y, estimate, p):
    """(steps, ratio, scale, evaluations, p): :func:`data_roughness` of M steps of the mesh ``t``
    (the middles of as many blocks of steps; M = N up to ALIAS_STEPS steps, else the larger of
    ALIAS_STEPS and ALIAS_DENSITY sqrt(N), at most N), the i-th taken on p + 2 equally spaced
    points of [t_n, t_n + A h] and of [t_n + A h, t_n + (A + s_i) h] (A = ALIAS_SPAN, s_i of
    :func:`_alias_spans`; y on the chord), the larger of the two, against the ``estimate``
    (before any check raised it for the data), and that estimate's scale
    (:func:`_estimates_scale`).

    Four steps alone missed an oscillation confined to a part of the interval (y = g - int y,
    y = 1 + (sin(w t) b(t) / w)', b a bump on [0.3, 0.45], w = 2 pi 3072, radau2 on 64 steps:
    an error of 0.055 with an estimate of 6.4e-5); one span alone is blind to the frequencies
    whose cycles between its points are whole (radau1 on y = 1 + int cos(w s) y ds,
    w = 2 pi 3072, 64 steps, 48 cycles a step, 9.94 between its points: an error of 1.74 with
    an estimate of 0.022).  The steps are swept in one call, after the piece [t0, t_k] of the
    first (K in t is taken at (t0, Y_0), as on the mesh), the pieces between them too: about
    3 (p + 1) M values of g and kernel evaluations (twice where K names t); M = 8, 16, 64 at
    N = 16, 64, 1024."""
    steps, scale, first, points, rows, E = _alias_probe_pieces(t, Y, estimate)
    r, calls = data_roughness(g_vec, kernel, points, rows, E, p)
    # (the pieces first + 3 i and first + 3 i + 1, i < m, as slices)
    return steps, np.maximum(r[first::3], r[first + 1::3]), scale, calls, p


def _alias_probe_pieces(t, Y, estimate):
    """(steps, scale, first, points, rows, E) of :func:`_alias_probe`: its steps, the
    estimates' scale, whether t0 is put before the pieces (1) or not (0), the points and the
    rows of y on the chord there, and the scale as the estimates of those rows."""
    n = len(t) - 1
    steps, m = _alias_steps(n)      # (the middles of m blocks of steps)
    scale = _estimates_scale_few(estimate, Y)
    # (the pieces [t_k, t_k + A h], [t_k + A h, t_k + (A + s) h] of each probed step, (M, 3),
    # after t0 where the first is not the first step; as arrays: ~30 us less than point by point)
    u = _alias_shares(m)
    points = (t[steps, None] + u * (t[steps + 1] - t[steps])[:, None]).reshape(-1)
    rows = (Y[steps, None, :] + u[:, :, None] * (Y[steps + 1] - Y[steps])[:, None, :]).reshape(
        3 * m, -1)                                                  # (on the chord)
    first = int(steps[0] > 0)
    if first:
        points, rows = np.concatenate((t[:1], points)), np.concatenate((Y[:1], rows))
    E = np.zeros_like(rows) + scale         # (the scale of the whole solution's)
    return steps, scale, first, points, rows, E


def _swept_probes(g_vec, kernel, t, Y, against, p, check):
    """(probe, checked) of :func:`with_rough_data`: ``probe`` the tuple of :func:`_alias_probe`
    with :func:`_alias_every`'s answer appended, and (with ``check``) ``checked`` the
    (ratio, evaluations) of the data check's sweep of :func:`_with_rough_data`
    (:func:`data_roughness` of the solution ``Y`` on the mesh ``t`` against ``against``),
    else None: the same values and counts as those functions' own calls, from the pieces of
    both probes made in one set of array operations (:func:`_alias_pieces`), one call of g
    on the points of all three sweeps and one guarded run of their compiled sweeps (~30 us
    less a solve at N = 8).  None where g or K raised there, or a kernel value was recorded
    (not finite): the callers then make each call alone, as before, which says what raised
    where."""
    n = len(t) - 1
    steps, m, first, S, S1, U = _alias_pieces(n)
    scale = _estimates_scale_few(against, Y)
    # (the probe's pieces, t0 before them where its first step is not the first, then every
    # step's: t_k + u (t_(k+1) - t_k), y on the chord, as _alias_probe and _alias_every make
    # them, element by element)
    tk = t[S]
    points = tk + U * (t[S1] - tk)
    if Y.shape[1] == 1:
        # (a scalar solution on its column: the same operations on each value; NumPy's
        # indexing of the (N + 1, 1) array by rows costs twice as much)
        y = Y[:, 0]
        yk = y[S]
        rows = (yk + U * (y[S1] - yk)).reshape(-1, 1)
    else:
        Yk = Y[S]
        rows = Yk + U[:, None] * (Y[S1] - Yk)
    if first:
        points[0], rows[0] = t[0], Y[0]
    E = np.zeros_like(rows) + scale
    cut = first + 3 * m
    # (the sweeps share the steps' ends where the points and rows are finite: both probes'
    # at once where all are, :func:`_shares_ends`)
    share = _shares_ends(rows, points) or None
    parts = [(points[:cut], rows[:cut], E[:cut], share), (points[cut:], rows[cut:], E[cut:],
                                                          share)]
    if check:
        parts.append((t, Y, against, None))
    try:
        swept = _swept_together(g_vec, kernel, parts, p)
    except Exception as exc:   # noqa: BLE001 (the user's g or K: each call alone says where)
        if not _user.raised_by_user(exc):
            raise
        return None
    if swept is None:
        return None
    r = swept[0][0]
    probe = (steps, np.maximum(r[first::3], r[first + 1::3]), scale, swept[0][2], p)
    probe += (_every_answer(g_vec, kernel, t, Y, *swept[1]),)
    return probe, ((swept[2][0], swept[2][2]) if check else None)


#: :func:`_alias_pieces`' arrays by N (read-only; meshes of up to 4096 steps).
_ALIAS_PIECES = {}


def _alias_pieces(n):
    """(steps, m, first, S, S1, U) of a mesh of ``n`` steps: :func:`_alias_probe`'s m steps
    and whether t0 goes before its pieces (``first``, 1 or 0), and for each point of its
    pieces then of :func:`_alias_every`'s, the step k (``S``; 0 for t0), k + 1 (``S1``) and
    the share u of the step (``U``; 0 for t0) at t_k + u h; remembered by n (read-only)."""
    known = _ALIAS_PIECES.get(n)
    if known is not None:
        return known
    steps, m = _alias_steps(n)
    first = int(steps[0] > 0)
    every = np.arange(n)
    S = np.concatenate((np.zeros(first, dtype=np.intp), np.repeat(steps, 3),
                        np.repeat(every, 3))).astype(np.intp)
    U = np.concatenate((np.zeros(first), _alias_shares(m).reshape(-1),
                        _alias_shares(n).reshape(-1)))
    S1 = S + 1
    for a in (S, S1, U):
        a.setflags(write=False)
    known = (steps, m, first, S, S1, U)
    if n <= 4096:
        _ALIAS_PIECES[n] = known
    return known


def _swept_together(g_vec, kernel, parts, p):
    """[(ratio, K's ratio, evaluations)] of :func:`data_roughness` (``of_k``) of each of the
    ``parts`` (mesh, Y, estimate, True where its sweeps share the steps' ends, or None:
    :func:`_shares_ends` asked), from one call of g on the points of all of them and one
    guarded run of their compiled sweeps; None where a kernel value was recorded (not finite)
    or a part's points would not all take g on one array (a few points, or d of them: g
    pointwise there, as :func:`data_roughness` calls it)."""
    in_t = _names(kernel, 0)
    d = parts[0][1].shape[1]
    prepared, times = [], []
    for t, Y, E, share in parts:
        n = len(t) - 1
        grid = _GRIDS.get((n, p))
        if grid is None:
            grid = _GRIDS[(n, p)] = (np.arange(n * (p + 1) + 1) / (p + 1), np.arange(n + 1.0))
        x = np.interp(grid[0], grid[1], t)
        if x.size <= 8 or x.size == d:      # (g_vec's own test of calling g on the array)
            return None
        times.append(x)
        Y2, E2, mesh = _c_floats(Y), _c_floats(E), _c_floats(t)
        share = share or _shares_ends(Y2, mesh)
        calls = (1 + in_t) * ((p + 1) * n + 1 if share else (p + 2) * n)
        prepared.append((mesh, Y2, E2, int(share), calls, np.empty(n), np.empty(n)))
    G = np.ascontiguousarray(g_vec(np.concatenate(times), keep=False), dtype=float)
    G = G.reshape(sum(x.size for x in times), -1)
    if G.shape[1] != d:
        return None
    weights, noise = difference_weights(p), ROUNDING * EPS
    address, params = kernel.function_address.address, kernel.params

    def sweeps():
        ratios, start = _ratios(), 0
        for x, (mesh, Y2, E2, share, _, ratio, ratio_k) in zip(times, prepared):
            ratios(address, params, mesh, Y2, G[start:start + x.size], weights, int(in_t),
                   share, E2, noise, ratio, 0.0, ROUNDING * EPS, ratio_k)
            start += x.size
    work = sum(part[4] for part in prepared)
    if work < THREAD_WORK:
        # (:func:`run_guarded`'s inline path, without its calls: the sweeps of a small mesh)
        _user.clear_failures()
        try:
            sweeps()
        except BaseException:
            _user.take_failure()
            raise
        record = _user.take_failure()
        _user.raise_recorded_failure(record, kernel.args)
    else:
        _, record = run_guarded(sweeps, kernel.args, work)
    if record is not None:
        return None
    return [(ratio, ratio_k, calls) for (_, _, _, _, calls, ratio, ratio_k) in prepared]


#: :func:`_alias_steps`' (steps, m) by N (read-only arrays; meshes of up to 4096 steps).
_ALIAS_STEPS = {}


def _alias_steps(n):
    """(steps, m): the m steps of a mesh of ``n`` steps that :func:`_alias_probe` takes (the
    middles of m blocks of steps); remembered by n (read-only)."""
    known = _ALIAS_STEPS.get(n)
    if known is not None:
        return known
    m = min(n, max(ALIAS_STEPS, int(math.ceil(ALIAS_DENSITY * math.sqrt(n)))))
    steps = (2 * np.arange(m) + 1) * n // (2 * m)
    steps.setflags(write=False)
    if n <= 4096:
        _ALIAS_STEPS[n] = (steps, m)
    return steps, m


def alias_every_bar(p):
    """The sum (in estimates) of the defects of :func:`_alias_every` over which a solve of order
    ``p`` fails: ROUGH_FIXED times 2^(p + 1) / 16 (:func:`alias_bar` without its cap at p = 3:
    each step's differences of order p + 1, up to 2^(p + 1) times the oscillation's amplitude,
    stand for that step alone, whose defect is about h times it)."""
    return ROUGH_FIXED * 2.0 ** (p + 1) / 16.0


def _alias_every(g_vec, kernel, t, Y, scale, p):
    """(ratio, defect, evaluations, of g, slope, between): :func:`_alias_probe`'s ratios of
    every step of the mesh ``t`` (the n-th on [t_n, t_n + A h] and [t_n + A h,
    t_n + (A + s_n) h], s_n of :func:`_alias_spans`), against the estimates' ``scale``, and
    (``defect()``, made when called) the same in defect units: where
    g's differences are the larger (K's alone taken with g = 0), they times the step h, as K's
    are (an oscillation of g is in y itself, and moves the solution only through the integral
    of y over the step: g's differences were up to 1000 times the error, y = g - int y with
    y = 1 + (sin(w t) b(t) / w)', b a bump on [0.6, 0.65], w = 2 pi 256, radau2 on 64 steps;
    :func:`_aliased_data` takes them times min(1, h |dK/dy|) instead where they count, the
    fifth item's function of the steps: :func:`_weighted_by_slope`).

    The sample of :func:`_alias_probe`, 2 sqrt(N) steps each standing for its block, missed an
    oscillation confined to a few steps: of the bump on [0.6, 0.65], w = 2 pi 3072, 64 steps,
    its one probed step at the bump's edge saw 1.02 times the estimate while the step
    [0.625, 0.641] shows 40.8 (radau2 on y = 1 + int c(s) y ds, c = (sin(w s) b(s) / w)': a
    success with an error of 0.0195, 29 times the estimate); of the bump on [0.9, 0.92] and 512
    steps, the probed steps at 0.9004 and 0.9238 (trapezoid, an error of 7.7e-3, 100 times the
    estimate); of the bump on [0.05, 0.1] and 128 steps, the probed step inside it showed 7.7
    times the whole step's differences, below ALIAS_FACTOR, its neighbours 192 and 32 times
    (trapezoid, an error of 0.0194, 57 times the estimate).  ``of g``: where g's differences
    are the larger.  About 3 (p + 1) N values of g and kernel
    evaluations (twice where K names t; K's ratios of the same sweep: ``of_k`` of
    :func:`data_roughness`), a fraction O(1 / N) of an O(N^2) solve's."""
    n = len(t) - 1
    # (the pieces [t_k, t_k + A h], [t_k + A h, t_k + (A + s_k) h] of every step, (N, 3))
    u = _alias_shares(n)
    points = (t[:-1, None] + u * (t[1:] - t[:-1])[:, None]).reshape(-1)
    rows = (Y[:-1, None, :] + u[:, :, None] * (Y[1:] - Y[:-1])[:, None, :]).reshape(
        3 * n, -1)                                                  # (on the chord)
    E = np.zeros_like(rows) + scale
    return _every_answer(g_vec, kernel, t, Y, *data_roughness(g_vec, kernel, points, rows, E, p,
                                                               of_k=True))


def _every_answer(g_vec, kernel, t, Y, r, rk, calls):
    """:func:`_alias_every`'s answer from the ratios ``r`` and K's ``rk`` of its pieces (three
    a step) and their ``calls``."""
    r, rk = np.maximum(r[0::3], r[1::3]), np.maximum(rk[0::3], rk[1::3])
    of_g = r > rk
    # (the defects when asked: only where a step's ratio is over the bar, ~3 us a solve less)
    return r, lambda: np.where(of_g, np.maximum(rk, r * np.diff(t)), r), calls, of_g, \
        lambda which, r_at=None: _weighted_by_slope(kernel, t, Y, r if r_at is None else r_at,
                                                    rk, which), \
        lambda which: _between_divisions(g_vec, t, which)


#: :func:`_between_divisions`: the half-spans, in steps, of the pieces whose second differences
#: it takes, two about each of its centres, by turns (incommensurate: no frequency whose cycles
#: between a piece's points are near-whole for all of them; chosen by a search over m = 8 ...
#: 400 cycles a step, not proven).
FINE_SPANS = (0.027, 0.01669, 0.0215)


def _between_divisions(g_vec, t, which):
    """(seen, evaluations): for each step n of ``which``, whether g oscillates between the
    points t_n + j h / 4 of the data check's division into 4 while those see it smooth: the
    largest second difference of g on the points c - e h, c, c + e h (c = t_n + u_j h, u_j the
    fraction of A + j phi, j = 0 ... 3, A = ALIAS_SPAN, phi the golden share: not at one
    phase of the division's points; e two of FINE_SPANS, by turns) exceeds ALIAS_FACTOR times that
    of those points' (the largest second difference on them, times (4 e)^2: a curve smooth at
    the scale h / 4 bends that much over 2 e h), and 64 ulp of g.  A jump of g, or an envelope
    that bends within h / 4, shows on those points too; an oscillation that the division
    samples at one phase shows only between them (y = g - L int y, y = 1 + (sin(w t) b(t) /
    w)', b a bump on [0.6, 0.65], w = 2 pi 3072, radau1 on 16 steps: the bump's envelope
    within one step made the data check's ratio 28 there, as large as the probe's, whose
    comparison with ALIAS_FACTOR times it saw nothing, and the division into 4, at one phase
    too, raised the estimate to 0.21 for an error of 0.93 at L = 200).  25 values of g a
    step."""
    which = np.asarray(which)
    h = np.diff(t)[which]
    spans = np.array(FINE_SPANS)
    e = np.array([spans[[j % 3, (j + 1) % 3]] for j in range(4)])        # (4, 2)
    centres = (ALIAS_SPAN + np.arange(4) * (math.sqrt(5.0) - 1.0) / 2.0) % 1.0
    u = np.concatenate((np.arange(5) / 4.0, centres, (centres[:, None] - e).ravel(),
                        (centres[:, None] + e).ravel()))
    m = len(which)
    values = np.asarray(g_vec((t[which, None] + h[:, None] * u).reshape(-1), keep=False),
                        dtype=float).reshape(m, len(u), -1)
    q, c = values[:, :5], values[:, 5:9]
    lo, hi = values[:, 9:17].reshape(m, 4, 2, -1), values[:, 17:].reshape(m, 4, 2, -1)
    bend = np.max(np.abs(q[:, :-2] - 2.0 * q[:, 1:-1] + q[:, 2:]), axis=(1, 2))
    between = np.abs(lo - 2.0 * c[:, :, None] + hi).max(axis=3)          # (m, 4, 2)
    noise = 64.0 * EPS * np.max(np.abs(values), axis=(1, 2))
    bar = ALIAS_FACTOR * (4.0 * e) ** 2 * bend[:, None, None] + noise[:, None, None]
    return np.any(between > bar, axis=(1, 2)), len(u) * m


def _weighted_by_slope(kernel, t, Y, r, rk, which):
    """(defect, evaluations): the defects of :func:`_alias_every` at the steps ``which``
    (where g's differences ``r`` are the larger than K's ``rk``) with g's taken times
    min(1, h S) instead of h, S the kernel's slope in y (:func:`_kernel_slope`) along the step:
    an oscillation of g of amplitude A that the mesh samples at one phase is in y itself, and
    moves the solution through the integral of K(t, s, y) over the step alone, by about
    h |dK/dy| A (times h alone overstated it L times for y = g - L int y with L = 0.01 and
    understated it with L = 50: radau2 on 64 steps, y = 1 + (sin(w t) b(t) / w)', b a bump on
    [0.6, 0.65], w = 2 pi 3072, a success with an error of 0.47, 42 times the estimate); at
    most A where h S exceeds 1 (a decaying kernel damps the step's error within it).  Where the
    kernel raised, h (as without the slope)."""
    defect, calls = np.maximum(rk[which], r[which] * np.diff(t)[which]), 0
    try:
        slope, calls = _kernel_slope(kernel, t, Y, which)
    except Exception as exc:   # noqa: BLE001
        if not _user.raised_by_user(exc):
            raise
        return defect, calls
    h = np.diff(t)[which]
    return np.maximum(rk[which], r[which] * np.minimum(1.0, h * slope)), calls


def _kernel_slope(kernel, t, Y, which):
    """(slope, evaluations): for each step n of ``which``, the largest |K_b(x, s, y + d e_a) -
    K_b(x, s, y)| / d over the components a, b, the signs of d (d = 1e-6 max_i |Y[i, a]|, or
    1e-6 where Y[:, a] vanishes), the points s = t_n, t_(n+1) (y = Y_n, Y_(n+1)) and x = s,
    (s + T) / 2, T (T = t[-1]).  A finite difference, not |K(s, s, y)| / |y|: that ratio is
    no slope where K is affine in y (K = c(t, s) - y) or y near 0, and the kernel's effect on
    the solution reaches past the diagonal (K = (t - s) y: 0 on it).  On both sides of y: a
    kink of K in y at y (|y|) has one slope of each side.  (2 + 4 d) 3 evaluations a point."""
    T = float(t[-1])
    d = Y.shape[1]
    delta = 1e-6 * np.max(np.abs(Y), axis=0)
    delta[~(delta > 0.0)] = 1e-6
    slope = np.zeros(len(which))
    calls = 0
    for i, n in enumerate(np.asarray(which).tolist()):
        best = 0.0
        for k in (n, n + 1):
            s, y = float(t[k]), np.array(Y[k], dtype=float)
            for x in (s, 0.5 * (s + T), T):
                k0 = np.atleast_1d(kernel(x, s, y))
                calls += 1
                for a in range(d):
                    for sign in (1.0, -1.0):
                        z = y.copy()
                        z[a] += sign * delta[a]
                        v = np.max(np.abs(np.atleast_1d(kernel(x, s, z)) - k0)) / delta[a]
                        calls += 1
                        if v > best:
                            best = v
        slope[i] = best
    return slope, calls


def _aliased_data(sol, probe, before=None):
    """``sol`` (checked by :func:`_with_rough_data`; ``before`` (N+1, d), its estimates
    before that check) failed from the first mesh point where
    the data taken between the mesh points (``probe``, :func:`_alias_probe`) say that they
    oscillate at the mesh's period and that the estimates, as the checks left them, miss it.

    Data whose period divides the step (or a power of 2 of its divisions) are sampled at one
    phase by the mesh points, the stages, the nested meshes of the estimate, the check of the
    first steps (16 times shorter steps) and the data check's points j h / (p + 1) alike:
    every one sees smooth data, and the answer solves another equation (radau1 on
    y = 1 + int cos(w s) y ds, w = 2 pi 1024, 64 steps: e^t, an error of 1.74 with an
    estimate of 0.022).  A probed step whose differences on its points [t_n, t_n + s h]
    exceed ALIAS_FACTOR times those across the whole step (the data check's on its points
    j h / (p + 1), ``sol._data_ratio``: for smooth data they are s^(p + 1) times smaller) shows
    such data; their defects add up over the steps alike (the same phase each step), so each
    probed step stands for its block of N / M steps, and the running sum of their ratios to
    the estimates is their bound (a rough one: the differences of order p + 1 on a piece are
    no quadrature defect).  Where it ends over :func:`alias_bar`, the solution fails from the first
    point where it exceeds 1 (the estimates' scale) and the estimate there, and the values
    before keep estimates raised to the bound; unless the checks
    of :func:`_with_rough_data` raised the largest estimate over ROUGH_FIXED times what it
    was, and to at least the bound at the end over ROUGH_FIXED^2: a divided solve whose
    points the data do not alias saw them (radau2, the same K with w = 2 pi 320, 64 steps: an
    error of 0.127 with an estimate raised from 1.4e-4 to 0.155; the running sum overstates
    such errors 40 times).  What it was is the largest of ``before`` (where given), after the
    check of the first steps: that check multiplies every estimate by one factor, the defect
    of its few steps, while the defects of data aliased on the whole mesh add up over it
    (gregory6 on the same K with w = 2 pi 448, 7 cycles a step, 64 steps, its division into 7
    at one phase too: an error of 1.72 with the estimates multiplied by 1.4e11 to 0.068).
    Trapezoid on y = g - int y, y = sin(w t), w = 2 pi 192, 64 steps (the data check's points
    j h / 3 and the division into 3 at sin's zeros too) was a success with its dense output
    1.7e-3 off and an estimate of 3.2e-14."""
    steps, off, scale, calls, p, every = probe
    calls += every[2]
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
    on = getattr(sol, "_data_ratio", None)
    if not sol.success or on is None or len(on) != len(sol.mesh) - 1:
        return sol
    fine = _oscillating_between(sol, every, on)
    if not (_alias_seen(off, steps, every[0], on) or fine.any()):
        return sol      # (no step seen, by the sample or by every step: both sums are 0)
    was = scale if before is None else np.maximum(scale, np.max(before, axis=0))
    seen = np.where(off > ALIAS_FACTOR * on[steps], off, 0.0)
    n = len(sol.mesh) - 1
    # (each probed step stands for its block of steps)
    each = seen[np.arange(n) * len(steps) // n]
    if not np.sum(each) > alias_bar(p):
        # (every step, in defect units: the sample misses an oscillation on a few steps; the
        # steps the data check found rough left out, its divided solve having seen the data
        # there (a jump of K in t at 0.503, radau3 on 48 steps: a success 0.0106 off for
        # 0.0245, the step showing 368 times the estimate), but where g's differences are the
        # larger, only where it raised the estimates (y = g - int y, y = 1 + (sin(w t) b(t) /
        # w)', b a bump on [0.9, 0.92], w = 2 pi 3072, trapezoid on 512 steps: an error of
        # 7.6e-3 for 9.1e-5, every step at the bump over ROUGH_FIXED, the estimates as were))
        steps, off, defect = np.arange(n), every[0], every[1]()
        # (and the steps whose data oscillate between the points of the data check's division
        # into 4 that see them smooth, which that division's solve did not see:
        # :func:`_between_divisions`)
        seen = np.where((off > ALIAS_FACTOR * on) | fine, off, 0.0)
        raised = np.any(np.max(sol._est2, axis=0) > 2.0 * was)
        rough = (on > ROUGH_FIXED) & ~fine
        # (g's differences times h |dK/dy| where they count: :func:`_weighted_by_slope`)
        which = np.flatnonzero((seen > 0.0) & every[3] & ~(raised & rough))
        if len(which):
            defect = defect.copy()
            # (where seen between the division's points alone, by the amplitude's floor
            # r / 2^(p + 1): the differences of the divided steps' ends saw the data rough, and
            # its divided solve covered such steps' errors at L = 1, within 0.65 to 0.88 of
            # their estimates, while r h overstated them (trapezoid on 64 steps, the bump on
            # [0.6, 0.65], w = 2 pi 256))
            defect[which], calls = every[4](which, np.where(fine, off / 2.0 ** (p + 1), off))
            sol.stats["nfev"] += calls
            sol.stats["error_estimate_nfev"] += calls
        each = np.where((seen > 0.0) & ~((raised | ~every[3]) & rough), defect, 0.0)
        if not np.sum(each) > alias_every_bar(p):
            return sol
    est = sol._est2
    score = np.concatenate(([0.0], np.cumsum(each)))
    bound = score[:, None] * scale
    top = np.max(est, axis=0)
    if np.any((top > ROUGH_FIXED * was) & (ROUGH_FIXED ** 2 * top >= bound[-1])):
        return sol      # (a divided solve saw the data oscillate, and raised the estimates)
    # (from the first point where the bound exceeds the estimates' scale and the estimate:
    # the defects so seen are in every step, and no value after that point is checked)
    over = (score > 1.0) & np.any(bound > est, axis=1)
    if not np.any(over):
        return sol
    j = max(1, int(np.argmax(over)))
    # (no later than the step after the last probed step before the first that saw the data
    # whose differences are within the estimates' scale: the steps between two probed steps
    # are not checked, and an oscillation confined to a part of the interval may start
    # anywhere among them, or where its envelope's differences on the points j h / (p + 1) hid
    # it from the comparison: radau2 on y = g - int y, y = 1 + (sin(w t) b(t) / w)', b a bump
    # on [0.3, 0.45], w = 2 pi 3072, 64 steps, kept the values up to 0.375, 0.028 off with an
    # estimate of 4.2e-5)
    first = int(np.argmax(seen > 0.0))
    clean = np.flatnonzero(off[:first] <= 1.0)
    j = max(1, min(j, int(steps[clean[-1]]) + 1 if len(clean) else 1))
    np.maximum(est[:j], bound[:j], out=est[:j])      # (in place: also error_estimate_mesh)
    i = int(np.argmax(seen))
    k = int(steps[i])
    return _unreliable_from(
        sol, j, f"the data (g or K) oscillate at the scale of the steps: taken between the "
        f"mesh points (on [t_n, t_n + {ALIAS_SPAN:.3g} h] and [t_n + {ALIAS_SPAN:.3g} h, t_n "
        f"+ {ALIAS_SPAN + float(_alias_spans(len(steps))[i]):.3g} h]), their "
        f"differences across the step "
        f"[{float(sol.mesh[k]):.6g}, {float(sol.mesh[k + 1]):.6g}] are {float(off[i]):.3g} "
        f"times the error estimate, " + (
            f"over {ALIAS_FACTOR:g} times those across the whole step" if off[i] >
            ALIAS_FACTOR * on[k] else "while g is smooth at the points of the step divided "
            "into 4 (it oscillates between them)") + ", which the mesh points, "
        f"the coarser meshes of the estimate and the steps divided sample alike at one phase "
        f"of the oscillation; over the steps such differences add up to "
        f"{float(score[-1]):.3g} times the estimate, over it from t = {float(sol.mesh[j]):.6g} "
        f"on", False)


def _oscillating_between(sol, every, on):
    """(N,) bool: the steps that the data check found rough (``on`` over ROUGH_FIXED: it
    divided them into 4) where g's differences on the probe's points (``every`` of
    :func:`_alias_every`) are the larger and over the estimates' scale but within ALIAS_FACTOR
    times the data check's, whose g oscillates between the points of that division that see
    it smooth (:func:`_between_divisions`, its evaluations counted).  Such a step's comparison
    saw nothing: the differences of an envelope that bends within the step were as large as
    the probe's."""
    fine = np.zeros(len(on), dtype=bool)
    if len(every[0]) != len(on) or not every[3].any():
        return fine
    if len(on) <= 32:    # (a few values as floats: the same comparisons, ~5 us less)
        which = [k for k, (g, r, o) in enumerate(zip(every[3].tolist(), every[0].tolist(),
                                                     on.tolist()))
                 if g and r > 1.0 and o > ROUGH_FIXED and not r > ALIAS_FACTOR * o]
        which = np.array(which, dtype=np.intp)
    else:
        which = np.flatnonzero(every[3] & (every[0] > 1.0) & (on > ROUGH_FIXED) &
                               ~(every[0] > ALIAS_FACTOR * on))
    if len(which):
        fine[which], calls = every[5](which)
        sol.stats["nfev"] += calls
        sol.stats["error_estimate_nfev"] += calls
    return fine


def _alias_seen(off, steps, every, on):
    """Whether any probed step's ratio ``off`` (at ``steps``), or any step's of ``every``,
    exceeds ALIAS_FACTOR times the data check's ratio ``on`` of the step, as
    :func:`_aliased_data` takes them (NaN: not; where none does, the sums it bounds are 0).
    A few values as floats (the sums' arrays cost ~20 us a solve at N = 8).  (Of another mesh
    than ``on``'s: True, left to :func:`_aliased_data`'s arrays.)"""
    if len(every) != len(on):
        return True
    if len(on) > 64:
        return bool((off > ALIAS_FACTOR * on[steps]).any() or (every > ALIAS_FACTOR * on).any())
    o = on.tolist()
    return any(x > ALIAS_FACTOR * o[k] for x, k in zip(off.tolist(), steps.tolist())) or \
        any(x > ALIAS_FACTOR * y for x, y in zip(every.tolist(), o))


def alias_damping(p):
    """(2 sin(pi / (p + 1)))^(p + 1): the differences of order p + 1 on p + 2 equally spaced
    points across a step of an oscillation of amplitude A and m cycles a step, m = 1 ... p
    (those the points do not sample at one phase), are (2 sin(pi m / (p + 1)))^(p + 1) A, this
    times A at the least (m = 1 or p); its defect in a step sampled at one phase is up to
    about h A.  4, 5.2, 4, 2.25, 1, 0.37, 0.12, 0.033 for p = 1 ... 8."""
    return (2.0 * math.sin(math.pi / (p + 1))) ** (p + 1)


def _summed_defects(sol, g_vec, kernel, scale, p):
    """``sol`` (a solve on a mesh the caller gave, after :func:`_aliased_data`, K naming no t;
    ``scale`` (d,) its estimates' scale before the checks, the unit of ``sol._data_ratio``;
    a method that takes the data at the mesh points alone) with its estimates raised to the
    running sum of the steps' defects that the data's signed differences on the points
    j h / (p + 1) bound, where that sum exceeds ROUGH_FIXED times the scale.

    A step whose differences are within ROUGH_FIXED times the estimate is taken for smooth,
    but an oscillation at the steps' scale over many steps, each within it, that the mesh,
    the stages and the nested meshes sample at one phase adds up: its defect in a step is up
    to about h A for differences of :func:`alias_damping` times A (times h), the same sign
    each step (radau1 on y = 1 + int c(s) y ds, c = (sin(w s) b(s) / w)', b a bump on
    [0.3, 0.45], w = 2 pi 256, 256 steps: every mesh point at cos = 1, the differences up to
    7.7 times the estimate in 38 steps, an error of 0.059, 28 times the estimate; gregory8
    on the bump [0.6, 0.65], the same w and steps: differences of order 9 of one cycle a step
    damped 30 times, up to 2.8 times the estimate, an error 740 times it).  Where ALIAS_RUN
    or more steps in a row each bound a defect over the estimates' scale (their differences
    over :func:`alias_damping` times it, within ROUGH_FIXED times it: those over it are
    checked by the divided solves; a kink of the data makes one such step, whose defect the
    nested meshes see at their order: counting such steps raised the estimates of 41 solves
    of ``tools/fixedn_scan.py`` up to 500 times, 36 honest successes failing), the data's
    differences across those steps are taken again with their signs (g's; K's along the
    diagonal on the chord, times h) and summed from the first step on: data sampled at one
    phase add up, while those whose phase turns from step to step (an oscillation of 1 / 4
    cycle a step, which the steps resolve) cancel (their absolute values summed failed 14
    honest successes of ``tools/alias_scan.py``, radau2 on 256 steps with an error of 5e-5
    among them).  The signed differences are taken on the points j h / (p + 1) and on the
    same moved on by ALIAS_SPAN h (back by it in the last step): on the first alone, data
    even about the step's middle have no differences of an odd order p + 1, while the defect
    of data that the mesh samples at their peak is the largest (m cycles a step of
    A cos(w (s - t_n)) have differences (2 sin(pi m / (p + 1)))^(p + 1) A sin(phase) there
    for an odd p + 1, and a defect h A cos(phase): gregory8 on y = 1 + int c(s) y ds,
    c = (sin(w s) b(s) / w)', b a smooth step from 0.8 to 0.85, w = 2 pi 256, 256 steps,
    c = cos(w s) after 0.85, was a success with an error of 0.191 and an estimate of 7.0e-3,
    made by the step's rise alone; moved on, the estimate is 0.10).  Where the largest of
    the running sums over :func:`alias_damping` exceeds
    ROUGH_FIXED times the scale (for smooth data the steps' differences are of the order of
    h times the error's), the estimates are raised to it (a bound that stays a success
    where the solution keeps a reliable digit).  Only for the methods that take the data at
    the mesh points alone (the direct rules, radau1): stages at other points of the step
    sample such data at other phases, their defect |sum_i b_i exp(2 pi i m c_i)| h A for m
    cycles a step (0.09 h A for radau3's at m = 1), and the bound h A failed 35 honest
    successes of radau3 and radau4 in ``tools/alias_scan.py --local`` (errors down to 4e-5)
    and 10 in ``--offsets``.  4 (p + 2) values of g and kernel
    evaluations a step of those runs, only where their absolute values sum over that."""
    on = getattr(sol, "_data_ratio", None)
    if not sol.success or on is None or len(on) != len(sol.mesh) - 1:
        return sol
    damping = alias_damping(p)
    if not sum(v for v in on.tolist() if damping < v <= ROUGH_FIXED) > ROUGH_FIXED * damping:
        return sol
    seen = (on > damping) & (on <= ROUGH_FIXED)
    ends = np.convolve(seen.astype(float), np.ones(ALIAS_RUN), "valid") >= ALIAS_RUN
    runs = np.zeros(len(on), dtype=bool)
    for k in np.flatnonzero(ends).tolist():
        runs[k:k + ALIAS_RUN] = True
    if not float(np.sum(np.where(runs, on, 0.0))) > ROUGH_FIXED * damping:
        return sol
    t, Y, est = sol.mesh, sol._y2, sol._est2
    if est.shape != Y.shape:
        return sol
    steps = np.flatnonzero(runs)
    u = np.arange(p + 2) / (p + 1.0)
    h = (t[steps + 1] - t[steps])[:, None]
    # (the points j h / (p + 1) of each step, and the same moved on by ALIAS_SPAN h (back, in
    # the last step): data even about the step's middle, at one phase on the mesh, have no
    # differences of an odd order p + 1 on the first)
    shifts = (np.zeros((len(steps), 1)),
              np.where(steps[:, None] + 1 < len(t) - 1, ALIAS_SPAN, -ALIAS_SPAN))
    weights = difference_weights(p)
    running = None
    for shift in shifts:
        v = u[None, :] + shift                  # (M, p + 2)
        x = t[steps][:, None] + h * v
        chord = Y[steps][:, None, :] + v[:, :, None] * (Y[steps + 1] - Y[steps])[:, None, :]
        if not shift.any():
            x[:, -1] = t[steps + 1]
            chord[:, -1] = Y[steps + 1]
        try:
            G = np.asarray(g_vec(x.reshape(-1), keep=False), dtype=float).reshape(
                len(steps), p + 2, -1)
            Kv = np.array([[np.reshape(kernel(xv, xv, yv), -1) for xv, yv in zip(xs, ys)]
                           for xs, ys in zip(x.tolist(), chord)], dtype=float)
        except Exception as exc:   # noqa: BLE001 (g or K raised: left unchecked, and said)
            if not _user.raised_by_user(exc):
                raise
            sol.message += _not_checked(
                "The data's defects were not summed over the steps (an oscillation at the "
                "steps' scale that the mesh samples at one phase)", exc)
            return sol
        calls = 2 * x.size
        sol.stats["nfev"] += calls
        sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
        # (signed differences of each step, (M, d): g's, and K's times h)
        D = np.einsum("j,mja->ma", weights, G) + h * np.einsum("j,mja->ma", weights, Kv)
        D[~np.isfinite(D)] = 0.0
        each = np.zeros_like(Y[1:])
        each[steps] = D / damping
        sums = np.maximum.accumulate(np.abs(np.cumsum(each, axis=0)), axis=0)
        running = sums if running is None else np.maximum(running, sums)
    with np.errstate(invalid="ignore", divide="ignore"):
        top = float(np.max(np.where(scale > 0.0, running[-1] / scale, 0.0)))
    if not top > ROUGH_FIXED:
        return sol
    np.maximum(est[1:], running, out=est[1:])       # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    said = (f"  The data's differences of order {p + 1} across {len(steps)} steps in runs of "
            f"{ALIAS_RUN} or more (each within {ROUGH_FIXED:g} times the error estimate) add "
            f"up, with their signs, to {top:.3g} times it (over {damping:.3g}: the least of an "
            f"oscillation of the steps' scale, whose defects the mesh and the coarser meshes "
            f"of the estimate may sample alike at one phase); the estimates were raised to "
            f"their running sum.")
    return _confirmed_saying(sol, said)


def _with_rough_data(sol, g_vec, kernel, p, run=None, singular=False, quadratic=True,
                     nodes=None, uniform_run=None, start=False, checked=None):
    """``sol``, a solve on a given mesh with its error estimate (``p``: the method's order),
    with its estimates raised where the data are not smooth at the scale of its steps.

    The estimate compares solutions on nested meshes with the order p.  A jump or kink of the
    data (of g; of K in t, in s, or in y where the solution crosses it) makes their errors
    O(h) or O(h^2).  Where the mesh of every fourth point is too small for its rate to judge
    the order (fewer than 8 steps: ``Companion.small``; a finer solve's rate on fewer steps
    can agree with p by chance), the estimate with p was up to 500 times below the error:
    radau3 on y = 1 + t + int c(s) y, c = 1 before 0.5 and 2 after, 8 steps, 0.088 for an
    estimate of 2.9e-3 (0.5 a mesh point, whose step's last stage takes c = 2 where the step
    needs 1, on every nested mesh alike); gauss4 on K = -|y - 0.5|, 16 steps, 518 times.  On
    larger meshes, whose rate was taken to judge it, a kink of g or of K in s just after a
    mesh point, or a jump of K, is missed alike by every nested mesh keeping that point, and
    the rate need not show it (gauss4 with g = |t - 0.5772| on 32 steps: 1.4e3 times; rk4
    with K jumping in t at 0.5772, 32 steps: 27 times; 94 of 2940 solves of N = 32-128 over
    20 times).
    The differences of order p + 1 of the data across each step (:func:`data_roughness`, as
    solves to a tolerance check them, with K along the diagonal at y on the chord from Y_n
    to Y_(n+1)) are about the quadrature defect a jump or a kink makes in the step, and a
    smooth datum's about the step's local error; where one exceeds ROUGH_FIXED times the
    solution's largest estimate,

    * with ``run`` (``mesh -> (Y, status, keep, nfev)``, methods that take any mesh), those
      steps and one on each side are divided into ROUGH_SPLIT pieces, and the estimates are
      raised to the change of the answer at the mesh points times ROUGH_SPLIT /
      (ROUGH_SPLIT - 1) (the error of a jump falls like the step: the change is at least
      that part of it);
    * where that solve fails, the estimates from each such step on are raised to its
      differences (the nested meshes may miss its defect alike, which no order makes up for);
    * else, with ``uniform_run`` (methods that need a uniform mesh; the same form as ``run``)
      and at most ROUGH_UNIFORM_STEPS steps, every step is divided into :func:`uniform_split`
      pieces (a uniform mesh; a multiple of p + 1, which takes the data where this check
      did) and the estimates are raised alike: the nested meshes all sample data that
      oscillate at about a step's period at the same phase, and all miss them alike (trapezoid,
      y = sin 50t - int y on [0, 2], 16 steps: an error of 0.28, 700 times the estimate, when
      they were only made with the order of a jump; gregory4: 4e4 times; rectangle, whose
      order is that of a jump already: 39 times, unchanged);
    * else (larger meshes), or where that solve fails, the companion's
      estimates are made with the order 1 of a jump (multiplied by 2^q - 1, q the order they
      assumed), as where the shifted companions disagree; and with ``start`` (a mesh the
      caller gave), the first steps of a larger uniform mesh are solved divided
      (:func:`_divided_start`);

    and the message says so.  With ``nodes`` (the stage points c of a Runge-Kutta method, in
    [0, 1]), a jump or kink of the data within c_1 h / ROUGH_SPLIT after a mesh point of a
    rough step or (1 - c_m) h / ROUGH_SPLIT before one is missed alike by the divided solve,
    which keeps that point and whose nearest stage lies beyond it: those blind ends are
    checked too (:func:`blind_ends`), and where one sees a jump that may exceed the estimate
    its piece is divided again (:func:`resolved_ends`).  An estimate so raised over half the
    solution's size fails the solve (afterwards, :func:`._tolerance.with_confirmed_digits`).
    Where g or K raises at a point of the check that the solve never took (K at s = T, which
    Gauss points never reach, reading a table one past its end), the solution is left as it
    is.  ``checked``: the (ratio, evaluations) of this check's sweep (:func:`data_roughness`
    against the same estimates), made with the aliasing probes' (:func:`_swept_probes`), not
    taken again.  Cost, on every successful solve: (p + 1) N + 1 kernel evaluations (twice where K
    names t), counted in ``nfev``, and (p + 1) N + 1 values of g, a fraction 1/N of an O(N^2)
    solve's; where the data are not smooth, a solve on N + 3 (ROUGH_SPLIT - 1) steps or so,
    and the blind ends' p + 2 values of g and of K (twice where it names t) each (and a solve
    for each division of :func:`resolved_ends`).  Solves whose history is not O(N^2)
    (``quadratic`` False: the fast history of a convolution kernel, t-independent kernels) are
    checked only on meshes too small for the rate, as before: there the sweeps cost more than
    the solve (gregory6 with the fast history at N = 2^14: 5.3 -> 18.4 ms), and a divided
    solve would take the direct O(N^2) history (``run`` None for them).

    ``singular`` (the exponent alpha of a weakly singular kernel, False for others; ``kernel``
    is then its smooth factor k): every mesh of more than SINGULAR_START steps is checked (the
    graded meshes' rates judged the order of solves that missed a jump alike: gauss3 on
    y = 1 + t^(1/2) + H(t - 0.503), K = -(t - s)^(-1/2) y, 64 graded steps, an error 403 times
    the estimate; k jumping at s = 0.7071 on 4 graded gauss3 steps: 36 times), with k's
    differences weighed by the singular factor (:func:`data_roughness`), except where g takes
    the solution's (t - t0)^(1 - alpha) start: the first SINGULAR_START steps (smooth solves of
    the manufactured problems of ``tests/volterra/test_singular.py`` and Abel's equation,
    alpha = 0.3, 0.5, 0.7, gauss1-4 and radau1-4 on uniform and graded meshes of 8 to 64 steps:
    differences up to 2000 times the estimate in the first step of a uniform mesh, 9.3 in the
    second), where the first step is checked on pieces [2^-(j+1) h, 2^-j h] but its innermost
    (:func:`_singular_check_mesh`).  The steps [t_n, t_n + h] with h > t_n - t0, whose
    differences of that start were up to 161 times the estimate (with t_n - t0 >= h at most
    6.2), are checked on pieces no longer than their distance from t0 too (the last steps of
    a few graded steps are such: a jump of g in them was 323 times the estimate on 8 radau3
    steps).
    In the divided solve, the point where the data are not smooth in each rough step is
    located and made a mesh point (:func:`_with_located`): a jump just before or after a mesh
    point stays so in the divided steps, and the divided solve missed it alike (gauss3, 32
    graded steps, a jump of g 3.6e-4 before a point: an error 1.7e3 times the estimate).
    The change of the divided solve is multiplied by ROUGH_SPLIT / (ROUGH_SPLIT - 1) as for
    the other kernels: the model of an error that falls like h^(1 - alpha),
    1 / (1 - ROUGH_SPLIT^(alpha - 1)), made estimates 3 times the errors at alpha = 0.7 (13
    solves with errors of 0.37-1.5 failed with no reliable digit: the divided solves had
    resolved the jump) and fixed 1 miss of 134 more."""
    # (differences of an integer order: a method declaring a fractional order takes the next
    # integer; math.comb refused 2.8 with a TypeError that the check took for the user's)
    p = int(math.ceil(p))
    if not (sol.success and (len(sol.mesh) > SINGULAR_START + 1 if singular else
                             quadratic or getattr(sol, "_small_mesh", False))) or \
            len(sol.mesh) < 2:
        return sol
    est = sol._est2
    if not (all(map(math.isfinite, est.reshape(-1).tolist())) if est.size <= 64 else
            np.all(np.isfinite(est))):   # (a few values as floats: NumPy's calls cost ~3 us)
        return sol
    t, Y = sol.mesh, sol._y2
    alpha = float(singular) if singular else 0.0
    mesh, step = _singular_check_mesh(t) if singular else (t, None)
    Ym = Y if step is None else np.stack([np.interp(mesh, t, Y[:, a])
                                          for a in range(Y.shape[1])], axis=1)
    # (not singular: the data are measured against the nested meshes' own estimates, before
    # the check of the first steps multiplied them all by one factor (see
    # _tolerance.with_checked_estimate), which is evidence about the first steps only and hid
    # the steps' defects that every nested mesh missed alike: gregory6 on y = 1 + int cos(w s)
    # y ds, w = 2 pi 256, 256 steps (every mesh point at cos = 1, the answer e^t), a success
    # with an error of 1.72 and estimates of 2.3e-13 multiplied by 3.4e10 to 7.8e-3, against
    # which the steps' differences were 2e-3 times)
    nested = getattr(sol, "_nested_estimate", None)
    against = est if singular or nested is None or nested.shape != est.shape else nested
    try:
        if step is None:
            ratio, calls = checked if checked is not None and not singular else \
                data_roughness(g_vec, kernel, t, Y, against, p, alpha)
            # (the steps' differences on the points j h / (p + 1) alone: the divided solves
            # take the data there, and what they miss alike is what _aliased_data looks for)
            sol._data_ratio = ratio.copy()
            if against is not est:
                more, extra = _off_grid_roughness(g_vec, kernel, t, Y, against, p)
                np.maximum(ratio, more, out=ratio)
                calls += extra
        else:       # (the estimates' scale: their largest, as on t)
            sub, calls = data_roughness(g_vec, kernel, mesh, Ym, np.zeros_like(Ym) + np.max(
                est, axis=0), p, alpha)
            # (the solution's start: the first step's innermost piece, and the steps after
            # the first one before SINGULAR_START, are not checked)
            sub[0] = 0.0
            sub[(step > 0) & (step < SINGULAR_START)] = 0.0
            ratio = np.zeros(len(t) - 1)
            np.maximum.at(ratio, step, sub)
    except Exception as exc:   # noqa: BLE001 (the user's g or K raised where the solve never
        if not _user.raised_by_user(exc):   # took it: s = T for Gauss points, a table read one
            raise                           # past its end; left unchecked, and said so)
        sol.message += _not_checked("The data were not checked between the mesh points", exc)
        return sol
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
    if step is not None:
        sol._data_ratio = ratio       # (the steps' differences: see _aliased_data)
    top = max(ratio.tolist()) if len(ratio) <= 64 else float(ratio.max())
    if not singular and (top > ROUGH_FIXED or _may_grow_over(top, Y)):
        # (a step's defect weighed by the growth of the solution after it, against a bar
        # half as high: see defect_growth)
        ratio = np.maximum(ratio, defect_growth(Y) * ratio * (ROUGH_FIXED / ROUGH_GROWN))
        top = max(ratio.tolist()) if len(ratio) <= 64 else float(ratio.max())
    if not top > ROUGH_FIXED:
        return sol
    # (the estimates' scale before any raise below: the differences' unit, see _uncovered_steps)
    scale = _estimates_scale(against, Y) if start and uniform_run is not None else None
    sol._rough_data = True      # (its estimates raised for it: see _outcome.with_measured_between)
    q = float(sol.stats.get("estimate_order", math.nan))
    rough = ratio > ROUGH_FIXED
    n = int(np.argmax(ratio))
    where = (f"  The data (g or K) are not smooth at the scale of the steps: their differences "
             f"of order {p + 1} across the step [{float(t[n]):.6g}, {float(t[n + 1]):.6g}] are "
             f"{float(ratio[n]):.3g} times the error estimate, and " +
             ("the mesh is too small for the solutions on coarser meshes to show the order they "
              "converge at" if getattr(sol, "_small_mesh", False) and not singular else
              "the solutions on coarser meshes may miss them alike"))
    if run is not None:
        near = rough.copy()
        near[1:] |= rough[:-1]
        near[:-1] |= rough[1:]
        cuts = _cuts(1 if singular else p)
        pieces = [t[j] + (t[j + 1] - t[j]) * cuts if near[j] else t[j:j + 1]
                  for j in range(len(t) - 1)]
        divided = np.concatenate(pieces + [t[-1:]])
        if singular:
            divided, calls = _with_located(divided, g_vec, kernel, mesh, Ym, est, p, alpha,
                                           sub if step is not None else ratio)
            sol.stats["nfev"] += calls
            sol.stats["error_estimate_nfev"] += calls
        Yd, status, calls, error = _run_divided(run, divided)
        sol.stats["nfev"] += calls
        sol.stats["error_estimate_nfev"] += calls
        blind = ""
        if status == 0:
            # (the divided solve's values between the mesh points of the rough steps (not
            # their neighbours, whose data are smooth at their scale): see with_divided_dense)
            inner = np.flatnonzero(~np.isin(divided, t) & rough[np.clip(
                np.searchsorted(t, divided, side="right") - 1, 0, len(rough) - 1)])
            sol._divided_between = (divided[inner], Yd[inner], ROUGH_SPLIT)
            np.maximum(est, _divided_change(divided, Yd, t, Y), out=est)   # (in place: also
            # error_estimate_mesh)
            # (the first mesh point whose step was divided for a rough step after the first:
            # the settled-levels check takes the values up to it only, see
            # _outcome.with_settled_levels; a rough first step alone, the data's start at t0,
            # has no stage of a bisected solve before it)
            sol._divided_from = _divided_after_start(rough, len(t))
            if nodes is not None:
                try:
                    calls, raised = resolved_ends(run, g_vec, kernel, t, Y, est,
                                                  np.flatnonzero(rough), divided, Yd, nodes, p)
                except Exception as exc:   # noqa: BLE001 (g or K raised at a new point:
                    if not _user.raised_by_user(exc):               # unchecked, and said)
                        raise
                    # (silent, g = |t - 0.9995| undefined in (0.9999, 1), gauss2 on 64 steps:
                    # a success with an error of 2.5e-7 for an estimate of 6.1e-11)
                    calls, raised = 0, False
                    blind = _not_checked(
                        "The data next to the mesh points of those steps, nearer than their "
                        "stages reach (where a jump or kink is missed by every division "
                        "alike), were not checked", exc)
                sol.stats["nfev"] += calls
                sol.stats["error_estimate_nfev"] += calls
                if raised:
                    blind = ("  A jump or kink of the data next to a mesh point of those "
                             "steps, nearer than their stages reach, is missed by every "
                             "division alike: the pieces next to it were divided again.")
            sol.stats["max_error_estimate"] = largest_estimate(est)
            sol.message += _divided_message(where, "those steps and their neighbours are") + \
                blind
            return sol
        # (the divided solve failed: its Newton iterations, or g or K raising at a new point.
        # The nested meshes may miss a rough step's defect alike, which no order of their
        # differences makes up for: the estimates from each rough step on are raised to its
        # data's differences, about that defect.  A solve to a tolerance, which keeps no
        # companion estimate, returned its answer as it was: gauss3 on y = 1 + t^(1/2) +
        # H(t - 0.503), K = -(t - s)^(-1/2) y, rtol 1e-5, a success with an error 121 times
        # the tolerance; the order 1 of a jump raised it 1.12 times)
        bound = np.maximum.accumulate(np.where(rough, ratio, 0.0))[:, None] * \
            _estimates_scale(against, Y)
        np.maximum(est[1:], bound, out=est[1:])
        sol.stats["max_error_estimate"] = largest_estimate(est)
        failed = "failed" if error is None else \
            f"failed ({type(error).__name__} raised by g or K there: {error})"
        sol.message += (f"{where}: the solve with those steps divided {failed}, and the "
                        f"estimates from them on were raised to those differences.")
        return sol
    if uniform_run is not None and len(t) - 1 <= ROUGH_UNIFORM_STEPS:
        split = uniform_split(p)
        divided = np.linspace(float(t[0]), float(t[-1]), split * (len(t) - 1) + 1)
        divided[::split] = t    # (the points of the mesh, bitwise)
        Yd, status, calls, _ = _run_divided(uniform_run, divided)
        sol.stats["nfev"] += calls
        sol.stats["error_estimate_nfev"] += calls
        if status == 0:
            np.maximum(est, _divided_change(divided, Yd, t, Y, split), out=est)   # (in place)
            # (its values between the mesh points of the rough steps: see with_divided_dense)
            i = np.arange(divided.size)
            inner = np.flatnonzero((i % split != 0) & rough[np.minimum(i // split, len(t) - 2)])
            sol._divided_between = (divided[inner], Yd[inner], split)
            sol._divided_from = 0
            sol.stats["max_error_estimate"] = largest_estimate(est)
            sol.message += _divided_message(where, "every step is", split)
            return sol
    if q > 1.0 and getattr(sol, "_companion_estimate", None) is not None:
        factor = 2.0 ** q - 1.0
        np.maximum(est, sol._companion_estimate * factor, out=est)
        sol.stats["estimate_order"] = 1.0
        sol.stats["max_error_estimate"] = largest_estimate(est)
        sol.message += (f"{where}: the estimates of the solve with every other point were made "
                        f"with the order 1 of a jump, not {q:.3g} ({factor:.3g} times larger).")
    if uniform_run is not None and start:
        sol = _divided_start(sol, uniform_run, p, int(np.argmax(rough)), where)
        if sol.success:   # (raised by with_rough_data after _aliased_data, whose excuse is a
            # divided solve's)
            sol._uncovered = _step_defects(sol, g_vec, kernel, p, ratio, scale)
    return sol


def _not_checked(what, exc):
    """The sentence of a solve whose check ``what`` ("The data were not checked between the
    mesh points", ...) was dropped where the user's g or K raised ``exc`` at its points (new
    points, which the solve itself never took)."""
    return f"  {what}: {type(exc).__name__} raised by g or K there ({exc})."


def _confirmed_saying(sol, said):
    """``sol``, whose estimates were raised for the reason ``said`` (a sentence of its
    message), through :func:`with_confirmed_digits`; a failure's message says it too (the
    failure's own message would not)."""
    sol.message += said
    checked = with_confirmed_digits(sol)
    if not checked.success:
        checked.message += said
    return checked


def with_divided_dense(sol):
    """``sol``, a solve on a given mesh whose rough steps :func:`with_rough_data` divided (its
    values at the points between the mesh points of the rough steps, ``sol._divided_between``)
    and with its dense output attached, with the estimate of each such step's end raised to
    the largest difference of the dense output from the divided solve at those points, times
    split / (split - 1), the division's (ROUGH_SPLIT; a direct rule's uniform division,
    :func:`uniform_split`) as in :func:`_divided_change` (the divided solve's own error is a
    part of it); the estimate between two mesh points is the larger of theirs.

    The mesh values of a step whose data oscillate within it can be right (the step's
    integral of the oscillation vanishes, or is sampled at one phase by the mesh, the stages
    and the nested meshes alike) while the dense output's partial steps [t_n, x] sample it at
    other phases: radau4 on y = 1 + int c(s) y ds, c = (sin(w s) b(s) / w)', b a bump on
    [0.9, 0.92], w = 2 pi 256, 16 steps, a success with its mesh values 1.2e-14 off, its
    dense output 0.0145 off and an estimate of 3.2e-4 (the divided solve's change); the
    dense output differed from the divided solve by 0.0132 at its points.  (Next to a kink
    of g too: rk4 on y = |t - 0.618| - int y, 48 steps, the dense output 8.0e-6 off for an
    estimate of 3.2e-6, now 1.1e-5.)  A direct rule's dense output interpolates the data at
    the mesh points over the partial step: y = 1 + int 0.1 b'(s) y ds, b a bump of 0.8 h after
    0.5 + 0.1 h, trapezoid on 8 steps, the mesh values exact, the dense output 0.105 off, a
    success with an estimate of 6.3e-16 (now 0.144).  An estimate so
    raised over half the solution's size fails the solve
    (:func:`._tolerance.with_confirmed_digits`).  Cost: one partial step (the history sums of
    one step) at each point of the divided rough steps between the mesh points (their
    neighbours' data are smooth at their scale), counted in ``nfev`` and
    ``error_estimate_nfev``."""
    between = sol.__dict__.pop("_divided_between", None)
    dense = sol._dense
    if between is None or not sol.success or dense is None or len(sol.mesh) < 2:
        return sol
    x, Yx, split = between
    t, est = sol.mesh, sol._est2
    if not x.size or est.shape != sol._y2.shape:
        return sol
    values = dense(x)
    calls = int(getattr(dense, "nfev", 0))
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
    factor = split / (split - 1.0)
    differ = np.abs(values - Yx) * factor
    ends = np.clip(np.searchsorted(t, x, side="right"), 1, len(t) - 1)
    raised = np.zeros_like(est)
    np.fmax.at(raised, ends, differ)        # (a NaN partial step: left as it is)
    if not np.any(raised > est):
        return sol
    np.fmax(est, raised, out=est)           # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    said = (f"  The dense output in the steps so divided differs from the divided solve by up "
            f"to {float(np.nanmax(differ)) / factor:.3g} (times {factor:.3g} as above) "
            f"between the mesh points: the estimates at those steps' ends were raised to it.")
    return _confirmed_saying(sol, said)


def _step_defects(sol, g_vec, kernel, p, ratio, scale):
    """(differences (N, d), rough (N,), p) for :func:`_uncovered_steps`: the data's
    differences ``ratio`` times the estimates' ``scale`` (d,) and the steps where they exceed
    ROUGH_FIXED times it; where K names t, those of a sweep taking K as if it did not
    (:func:`data_roughness`, ``t_free``; the steps' defects, not those of K in t times
    t - t0: K(t_n, s, y) is taken at each t_n itself, and a jump of K in t made 24 honest
    successes of N = 1024 and 2048 in ``tools/fixedn_scan.py`` estimates of the solution's
    size); the differences of each step being at least the part of its integral that the
    data at the mesh points miss (:func:`_missed_integrals`, which a narrow bump inside a step
    shows where its differences vanish)."""
    t, Y = sol.mesh, sol._y2
    try:
        if _names(kernel, 0):
            ratio, calls = data_roughness(g_vec, kernel, t, Y, np.zeros_like(Y) + scale, p,
                                          t_free=True)
            sol.stats["nfev"] += calls
            sol.stats["error_estimate_nfev"] += calls
            if len(ratio) > 1 and (ratio.max() > ROUGH_FIXED or
                                   _may_grow_over(ratio.max(), Y)):
                ratio = np.maximum(ratio, defect_growth(Y) * ratio * (ROUGH_FIXED /
                                                                      ROUGH_GROWN))
        rough = ratio > ROUGH_FIXED
        missed, calls = _missed_integrals(kernel, t, Y, scale, p)
    except Exception as exc:   # noqa: BLE001 (g or K raised: as in the check itself)
        if not _user.raised_by_user(exc):
            raise
        return None
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] += calls
    if len(missed) > 1 and (missed.max() > ROUGH_FIXED or _may_grow_over(missed.max(), Y)):
        missed = np.maximum(missed, defect_growth(Y) * missed * (ROUGH_FIXED / ROUGH_GROWN))
    return np.maximum(ratio, missed)[:, None] * scale, rough, p


def _missed_integrals(kernel, t, Y, scale, p):
    """(ratio, evaluations): for each step of the mesh ``t`` (N,), h |sum_j c_j K(x_j, x_j,
    y_j)| over the estimates' ``scale`` (d,) (the largest over the components), on the
    p + 2 equally spaced points x_j of the step (y on the chord, as :func:`data_roughness`
    takes K along the diagonal), c the weights of the composite trapezoid rule on them less
    those of the trapezoid rule on the step's ends: the part of the step's integral of K
    that a rule taking the data at the mesh points alone misses, where the data are not
    smooth between them.

    The differences of order p + 1 (odd for the direct rules, p even) of data symmetric about
    a point between two of those points vanish: a narrow bump of K inside a step, which every
    nested mesh misses alike (gregory4 on y = 1 + int c(s) y, c = 1 + a box of height 1 on
    [0.453382, 0.453382 + h / 2], 1024 steps: an error of 1.33e-3, the running sum of
    :func:`_uncovered_steps` 1.04e-5), while these weights are positive between the ends.
    On smooth data c is the composite trapezoid rule's error less the step's, about
    h^3 |K''| / 12: taken in the steps whose data are not smooth alone.  (p + 1) N + 1 kernel
    evaluations (K taken as if it named no t)."""
    m = p + 2
    weights = np.full(m, 1.0 / (p + 1))
    weights[0] = weights[-1] = 0.5 / (p + 1) - 0.5
    n = len(t) - 1
    Y2, mesh = _c_floats(Y), _c_floats(t)
    G = np.zeros((n * (m - 1) + 1, Y2.shape[1]))
    E = np.ascontiguousarray(np.broadcast_to(np.asarray(scale, dtype=float), Y2.shape))
    share = _shares_ends(Y2, mesh)
    calls = (p + 1) * n + 1 if share else (p + 2) * n
    ratio = np.empty(n)
    run_guarded(lambda: _ratios()(kernel.function_address.address, kernel.params, mesh, Y2, G,
                                  weights, 0, int(share), E, ROUNDING * EPS, ratio, 0.0,
                                  ROUNDING * EPS, np.empty(n)),
                kernel.args, calls)
    return ratio, calls


#: :func:`_uncovered_steps`: the fewest steps in a row whose data are not smooth that fail a
#: solve (data that oscillate at the steps' scale, not a jump or a kink of one step).
ALIAS_RUN = 4


def _uncovered_steps(sol, differences, rough, p):
    """``sol``, a solve of a direct rule (of order ``p``) on a uniform mesh of more than
    ROUGH_UNIFORM_STEPS steps after :func:`_divided_start` (and :func:`_aliased_data`), with
    its estimates raised to the running sum of the ``differences`` (N, d) of the data of its
    ``rough`` steps (N,) that no divided solve covered (those from ``sol._divided_steps`` on:
    all of them where the divided solve was not run or failed).

    Those steps' only answer was the companion's order 1 of a jump: right for a jump or kink,
    whose defect in its step the nested meshes make at that order, but data that oscillate
    at the steps' scale over many steps are sampled alike by every nested mesh (gregory4 on
    y = g - int y, y = 1 + (sin(w t) b(t) / w)', b a bump on [0.3, 0.45], w = 2 pi 1024, 1024
    steps, one cycle a step: a success with an error of 0.0547 and an estimate of 4.9e-8,
    while the data check's differences there were 4.5e7 times it in each of 140 steps).  A
    step's differences of order p + 1 of the data (those of K times h; K in t's left out, K
    being taken at each t_n itself) are about its defect for a jump or a kink, and the
    defects add up over the steps.
    An estimate so raised over half the solution's size fails the solve
    (:func:`._tolerance.with_confirmed_digits`, and the message says why); a jump or a kink
    keeps a success with a larger estimate (a jump of K in s at 0.8, gregory6 on 1024 steps:
    0.0030 -> 0.063 for an error of 1.6e-3; a kink of g there, 5.2e-7 -> 7.8e-4 for 1.1e-7).
    But that bound does not hold for every phase: an oscillation symmetric about the steps'
    middles has differences of an odd order p + 1 of 0 (gregory6 on y = 1 + int c(s) y,
    c = cos(w s) after 0.85, w = 2 pi 1024, 1024 steps: differences of 8.7e-7 a step, a
    running sum of 3.2e-3 for an error of 0.191).  So where ALIAS_RUN or more steps in a row
    are not smooth (an oscillation, not a jump or a kink of one step), the solve fails from
    the first of them, keeping the values before it."""
    if not sol.success:
        return sol
    t, est = sol.mesh, sol._est2
    covered = getattr(sol, "_divided_steps", 0)
    if len(rough) != len(t) - 1 or est.shape[0] != len(t) or \
            not np.any(rough[covered:]):
        return sol
    each = np.where(rough[:, None], differences, 0.0)
    each[:covered] = 0.0
    bound = np.cumsum(each, axis=0)
    np.maximum(est[1:], bound, out=est[1:])         # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    k = covered + int(np.argmax(rough[covered:]))
    run = np.convolve(rough[covered:].astype(float), np.ones(ALIAS_RUN), "valid") >= ALIAS_RUN
    if np.any(run):
        j = covered + int(np.argmax(run))
        return _unreliable_from(
            sol, max(1, j), f"the data (g or K) are not smooth at the scale of the steps in "
            f"{ALIAS_RUN} or more steps in a row from [{float(t[j]):.6g}, "
            f"{float(t[j + 1]):.6g}] on (their differences of order {p + 1} over "
            f"{ROUGH_FIXED:g} times the error estimate), which no divided solve checked (a "
            f"mesh of more than {ROUGH_UNIFORM_STEPS} steps is divided in its first steps "
            f"only): the coarser meshes of the estimate may sample data that oscillate at "
            f"the steps' scale alike, and those differences bound no error (an oscillation "
            f"symmetric about the steps' middles has none)", False)
    said = (f"  From the step [{float(t[k]):.6g}, {float(t[k + 1]):.6g}] on (the steps with "
            f"data not smooth that no divided solve covered: a mesh of more than "
            f"{ROUGH_UNIFORM_STEPS} steps is divided in its first steps only), the estimates "
            f"were raised to the running sum of their data's differences of order {p + 1}"
            f" or of the part of their integral that the data at the mesh points miss"
            f" ({float(np.max(bound)):.3g} at the end): the coarser meshes of the estimate "
            f"may sample data that oscillate at the steps' scale alike.")
    return _confirmed_saying(sol, said)


def _divided_start(sol, uniform_run, p, first, where):
    """``sol``, a solve of a direct rule on a uniform mesh of more than ROUGH_UNIFORM_STEPS
    steps whose data :func:`with_rough_data` saw not smooth from its step ``first`` on, with
    its first M steps (M = N / :func:`uniform_split`, at most ROUGH_UNIFORM_STEPS: a solve
    costing about the answer's) solved again with every step divided into
    :func:`uniform_split` pieces, where step ``first`` is among them.

    The estimates of those points are raised to the change of the answer (as for smaller
    meshes), and the later ones to its largest (errors persist in a Volterra equation).  Where
    the change exceeds ROUGH_FIXED times the estimates (the order 1 of a jump in the
    companion's included), the nested meshes missed the data alike, and the later steps, not
    so checked, are no success: gregory6 on y = 1 + int cos(w s) y ds, w = 2 pi 1024, 1024
    steps (every mesh point at cos = 1: the answer e^t) was a success with an error of 1.72
    and an estimate of 2.0e-3."""
    t, Y, est = sol.mesh, sol._y2, sol._est2
    split = uniform_split(p)
    m = min(ROUGH_UNIFORM_STEPS, (len(t) - 1) // split)
    if first >= m - 1:
        return sol
    divided = np.linspace(float(t[0]), float(t[m]), split * m + 1)
    divided[::split] = t[:m + 1]
    Yd, status, calls, _ = _run_divided(uniform_run, divided)
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] += calls
    if status != 0:
        return sol
    change = _divided_change(divided, Yd, t[:m + 1], Y[:m + 1], split)
    worst = float(np.max(np.max(change, axis=1) / np.maximum(np.max(est[:m + 1], axis=1),
                                                             ROUNDING * EPS)))
    np.maximum(est[:m + 1], change, out=est[:m + 1])        # (in place)
    np.maximum(est[m + 1:], np.max(change, axis=0), out=est[m + 1:])
    sol._divided_from = 0
    sol._divided_steps = m      # (the steps the divided solve covered: see _uncovered_steps)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    what = f"the first {m} steps are"
    if not worst > ROUGH_FIXED:
        sol.message += _divided_message(where, what, split)
        return sol
    said = where.strip()
    return _unreliable_from(
        sol, m + 1, f"{said[0].lower()}{said[1:]}: the solve of the first {m} steps with every "
        f"step divided into {split} differs from the answer by {float(np.max(change)):.3g}, up to "
        f"{worst:.3g} times the error estimate (the coarser meshes sample data that oscillate "
        f"at the steps' period alike); the later steps are not so checked (more than "
        f"{ROUGH_UNIFORM_STEPS} steps divided would cost too much)", False)


def uniform_split(p):
    """The number of pieces :func:`with_rough_data` divides every step of a uniform mesh into
    (a method of order ``p`` that needs a uniform mesh): the smallest multiple of p + 1 that
    is at least 3 (a division into 2 is the nested meshes' own).

    The data check (:func:`data_roughness`) takes the data at the points j h / (p + 1) of
    each step; the divided solve takes them at those points too, so it sees what the check
    saw.  A division into ROUGH_SPLIT = 4, a power of 2, samples data that oscillate at a
    period h / 2^k at the same phase as the nested meshes do, and all of them alike missed
    what the check saw: trapezoid on y = g - int y, y = sin(2 pi f t), f = 64, 256, 1024,
    rtol 1e-6, was a success on 8 steps, every mesh value exact (sin's zeros) and its dense
    output 3e-4 to 5e-3 off (estimates 2e-15 to 6e-14), the divided solve changing nothing."""
    return (p + 1) * -(-3 // (p + 1))


#: :func:`_off_grid_roughness`: the share of each step its points span (1 / golden ratio).
OFF_GRID_SPAN = (math.sqrt(5.0) - 1.0) / 2.0


def _off_grid_roughness(g_vec, kernel, t, Y, estimate, p):
    """(ratio, evaluations): :func:`data_roughness` of the steps of the mesh ``t`` taken on
    p + 2 equally spaced points of [t_n, t_n + OFF_GRID_SPAN h] instead of the whole step,
    for the solves whose nested meshes the check of the first steps showed to miss a time
    scale (``sol._nested_estimate``, :func:`._tolerance.with_checked_estimate`).

    On the points j h / (p + 1) the data check is blind to data that oscillate an integer
    number of times a step: symmetric about the step's middle, their differences of an odd
    order p + 1 vanish (y = 1 + int cos(w s) ds, w = 2 pi 256, 64 steps of gregory6, gregory4,
    trapezoid, rk4: successes with an error of 1 and estimates of 0.031, the answer 1 + t),
    and so are they where their period divides h / (p + 1).  The span, irrational in h,
    makes the points fall at no fixed phase of such data.  2 (p + 1) N + 1 values of g and
    kernel evaluations (twice where K names t)."""
    n = len(t) - 1
    inner = t[:-1] + OFF_GRID_SPAN * np.diff(t)
    mesh = np.empty(2 * n + 1)
    mesh[0::2], mesh[1::2] = t, inner
    rows = np.empty((2 * n + 1, Y.shape[1]))
    rows[0::2] = Y
    rows[1::2] = Y[:-1] + OFF_GRID_SPAN * (Y[1:] - Y[:-1])      # (on the chord)
    E = np.empty_like(rows)
    E[0::2], E[1::2] = estimate, estimate[:-1]
    ratio, calls = data_roughness(g_vec, kernel, mesh, rows, E, p)
    return ratio[0::2], calls


def _divided_after_start(rough, n_points):
    """The first mesh point of the steps :func:`with_rough_data` divides around its ``rough``
    steps other than the first (each with its neighbours), or ``n_points`` where the first
    step alone is rough.  A rough first step is data that are not smooth from t0 on (a power
    of t - t0 in g): a solve with every step bisected has no stage before t0, and its
    difference from the answer is the Richardson one (:func:`._outcome.with_settled_levels`
    compares the values up to this point only); elsewhere the bisected solve's stages on the
    other side of a jump make an error of their own there.  K = sqrt|t - s| y, g with a
    t^(3/2) term: gauss2 on 16 steps had an error 4.1 times its estimate, the settled-levels
    check skipped for the first step's division."""
    later = rough.copy()
    later[0] = False
    later[:-1] |= rough[1:]         # (a rough step's left neighbour is divided too)
    return int(np.argmax(later)) if later.any() else n_points


def _cuts(p):
    """The points u in [0, 1) (u = 0 first) at which :func:`with_rough_data` divides a rough
    step [t_n, t_n + h] (and its neighbours) of a method of order ``p`` that takes any mesh:
    k / ROUGH_SPLIT and k / (p + 1), the points where the data check took the data
    (:func:`data_roughness`), so that the divided solve takes them there too.  The quarters
    alone sampled data that oscillate at a period h / 2^k at the same phase as the solve:
    rk4 (stages at 0, h / 2, h) on y = g - int y, y = sin(2 pi f t), f = 64, 8 steps, was a
    success with its dense output 8.7e-2 off and an estimate of 2.5e-15 (f = 1024, 64 steps:
    1.1e-2, 8.4e-14).  The pieces next to t_n and t_n + h stay at most h / ROUGH_SPLIT long
    (the blind ends of :func:`blind_ends` take them so long)."""
    n = ROUGH_SPLIT * (p + 1) // math.gcd(ROUGH_SPLIT, p + 1)
    k = np.union1d(np.arange(0, n, n // ROUGH_SPLIT), np.arange(0, n, n // (p + 1)))
    return k / float(n)


def _divided_change(divided, Yd, t, Y, split=ROUGH_SPLIT):
    """The change of the answer ``Y`` on ``t`` when steps are divided into ``split`` (the solve
    ``Yd`` on the mesh ``divided``, which keeps every point of ``t``), times split /
    (split - 1): the error of a jump falls like the step, so the change is at least that part
    of it."""
    return np.abs(Yd[np.searchsorted(divided, t)] - Y) * (split / (split - 1.0))


def _divided_message(where, what, split=ROUGH_SPLIT):
    """The sentence of :func:`with_rough_data` saying the estimates were raised to the change
    of the answer when ``what`` ("every step is", ...) divided into ``split``."""
    return (f"{where}: the estimates were raised to the change of the answer when {what} "
            f"divided into {split} (times {split / (split - 1.0):.3g}: the "
            f"error of a jump falls like the step).")


def _run_divided(run, mesh):
    """(Y, status, evaluations, error) of ``run`` (``mesh -> (Y, status, keep, nfev)``) on a
    divided ``mesh`` of a data check: where the user's g or K raises at a new point, as a
    failed solve (status -1, ``error`` the exception; else None); any other exception (the
    package's, a caller's timeout) is raised."""
    try:
        Y, status, _, calls = run(mesh)
    except Exception as exc:   # noqa: BLE001 (only the user's: _user.raised_by_user)
        if not _user.raised_by_user(exc):
            raise
        return None, -1, 0, exc
    return Y, status, calls, None


def blind_ends(g_vec, kernel, t, steps, divided, Yd, nodes, p, level=1):
    """(bounds, steps, after, evaluations): bounds (M, d) of the error that a jump or kink of
    the data in each of the M blind ends of the rough ``steps`` of the mesh ``t`` makes from
    the end of its step on, the step of each, and whether the end follows the step's start
    (else it precedes its end).  The solve on the ``divided`` mesh (values ``Yd``; the pieces
    next to the kept points h_p = h / ROUGH_SPLIT^``level`` long) misses such a jump alike: a
    Runge-Kutta method with the stage points ``nodes`` c (in [0, 1]) samples the data of a
    piece of length h_p at t + c_i h_p only, so a jump at a distance w
    < c_1 h_p after a mesh point the divided solve keeps, or w < (1 - c_m) h_p before one, is
    on the same side of every stage of both solves: each misses the integral of the jump J
    over w alike (an error about J w, up to the solution's sensitivity), and the change of
    the answer shows nothing (gauss2 on y = 1 + t + int c(s) y, c jumping at 0.999, 48 steps:
    an error of 4.4e-3, 3.1e6 times the estimate; gauss1, 96 steps: 89 times; kink-g and K
    jumping in t alike).

    On each blind end [a, b] (from a mesh point t_n of a rough step, INSIDE h from it, so that
    a jump at the mesh point itself, which every stage takes on one side, is none) the
    differences of order p + 1 on p + 2 equally spaced points are at least J where a jump J
    lies between them (:func:`kernel_defects`) and about (b - a)^(p + 1) times the data's
    derivative where they are smooth: of g, times (b - a); of K
    (:func:`kernel_differences`, y on the chord of ``Yd`` between a and b) times (b - a)
    where K names t (they are then also times t_(n+1) - t0), else as they are (times
    b - a).  A jump J between the points k and k + 1 at w ~ (k + 1) (b - a) / (p + 1) from the
    mesh point gives J C(p + 1, k) (b - a), at least (p + 1) J w: the margin of a sensitivity
    of the solution up to p + 1; up to C(p + 1, k) (p + 1) / (k + 1) times J w where the jump
    lies in the middle (radau3 with K jumping in s 0.003 after a mesh point of 6 steps: 8
    times the error).  p + 2 values of g and (p + 2)
    (1 + in t) kernel evaluations a blind end, two ends of a rough step at most (none where
    c_1 = 0 and c_m = 1: rk4; radau's c_m = 1: its start only)."""
    c = np.asarray(nodes, dtype=float)
    h = t[steps + 1] - t[steps]
    ends, owner, after = [], [], []
    for j, hj in zip(steps.tolist(), h.tolist()):
        inside, hp = INSIDE * hj, hj / ROUGH_SPLIT ** level
        if c[0] * hp > 2.0 * inside:
            ends.append((t[j] + inside, t[j] + c[0] * hp))
            owner.append(j)
            after.append(True)
        if (1.0 - c[-1]) * hp > 2.0 * inside:
            ends.append((t[j + 1] - (1.0 - c[-1]) * hp, t[j + 1] - inside))
            owner.append(j)
            after.append(False)
    if not ends:
        return np.zeros((0, Yd.shape[-1])), np.array(owner, dtype=int), np.array(after), 0
    ab = np.array(ends)                                     # (M, 2)
    width = ab[:, 1] - ab[:, 0]
    u = np.arange(p + 2) / (p + 1.0)
    x = ab[:, :1] + width[:, None] * u                      # (M, p + 2)
    x[:, -1] = ab[:, 1]
    est = _forcing_differences(g_vec, x, p) * width[:, None]
    # K: a mesh t0, t0, a_1, b_1, a_2, b_2, ... swept on every other step (0: nothing)
    mesh = np.concatenate(([t[0], t[0]], ab.reshape(-1)))
    rows = np.empty((len(mesh), Yd.shape[1]))
    rows[:2] = Yd[0]
    for a in range(Yd.shape[1]):
        rows[2:, a] = np.interp(ab.reshape(-1), divided, Yd[:, a])
    out, calls = kernel_differences(kernel, mesh, rows, p, stride=2)
    dk = out[2::2] * (width[:, None] if _names(kernel, 0) else 1.0)
    dk[~(dk == dk)] = 0.0
    return np.maximum(est, dk), np.array(owner, dtype=int), np.array(after), calls


def _blind_steps(g_vec, kernel, t, Y, nodes, p, rtol, atol, near):
    """(steps, evaluations): the steps of an accepted mesh ``t`` (values ``Y``; a boolean per step)
    among the steps ``near`` where the data jump (or have a kink) in a blind end.  A Runge-Kutta
    method with the stage points ``nodes`` c samples the data of a step [t_n, t_n + h] at t_n +
    c_i h only: a jump less than c_1 h after t_n (or (1 - c_m) h before t_(n+1)) is on the same
    side of every stage, of the step and of every nested or paired step keeping t_n, and every
    estimate, the change of the answer when steps are divided too, misses the integral of the
    jump over that distance alike (y = 1 + t + int c(s) y, c jumping from 1 to 2 at 0.12708,
    0.069 of its step, gauss4's c_1 = 0.0694: a success at rtol 1e-4 with an error 37 times the
    tolerance and an estimate 5e-10 of it; at random places in (0.05, 0.95), 7 of 156 successes
    of 8 methods were 11-72 times over the tolerance).  The differences of the data on each
    blind end (:func:`blind_ends`, about (p + 1) times the error such a jump makes, or more) are
    compared with the tolerance of each component's largest value, as :func:`_rough_kernel`
    does; the steps found are divided as rough ones, and no answer is accepted while one is left
    (the blind ends start INSIDE h from the mesh points: a jump at one is none).  2 (p + 2)
    values of g and (p + 2) (1 + in t) kernel evaluations a step checked (none where K names
    neither t nor s and is visibly smooth in y), for methods whose stages leave a blind end (not
    rk4: c_1 = 0, c_m = 1)."""
    n = len(t) - 1
    c = np.asarray(nodes, dtype=float)
    steps = np.zeros(max(n, 0), dtype=bool)
    if n < 1 or not (c[0] > 0.0 or c[-1] < 1.0) or not near.any():
        return steps, 0
    Y2 = Y.reshape(n + 1, -1)
    bounds, owner, _, calls = blind_ends(g_vec, kernel, t, np.flatnonzero(near), t, Y2, c, p,
                                         level=0)
    tol = tolerance_of(np.max(np.abs(Y2), axis=0), rtol, atol)
    with np.errstate(invalid="ignore"):
        steps[owner[np.any(bounds > tol, axis=1)]] = True
    return steps, calls


#: Solves on a given mesh (:func:`resolved_ends`): the most times the pieces next to the kept
#: mesh points of rough steps are divided again (by ROUGH_SPLIT) where a blind end sees a jump.
BLIND_LEVELS = 4


def resolved_ends(run, g_vec, kernel, t, Y, est, steps, divided, Yd, nodes, p):
    """(evaluations, raised): ``est`` (of the solve ``Y`` on the mesh ``t``) raised in place
    where a jump or kink of the data lies in a blind end of the rough ``steps`` of the solve on
    the ``divided`` mesh (values ``Yd``), and whether it was.  The blind ends
    (:func:`blind_ends`) whose bound exceeds the estimate at the end of their step have the
    pieces they lie in divided again into ROUGH_SPLIT (their blind ends ROUGH_SPLIT times
    shorter: a jump there is now between stages, or nearer the point, where it makes less),
    the estimates are raised to the change of the answer (times ROUGH_SPLIT / (ROUGH_SPLIT - 1),
    as for the first division), and so on, up to BLIND_LEVELS divisions: the bounds of the
    blind ends left are then raised into the estimates.  A bound is generous where the data
    vary fast but are smooth (y = 1 + int e^(-5 (t - s)) y, 16 gauss2 steps over [0, 1000],
    whose first step's first stage misses the layer of y: its bound at the first division,
    9.0, is 36 times the error, which a solve three divisions further measures)."""
    calls = 0
    h = t[steps + 1] - t[steps]
    raised = False
    for level in range(1, BLIND_LEVELS + 1):
        ends, owner, after, more = blind_ends(g_vec, kernel, t, steps, divided, Yd, nodes, p,
                                              level)
        calls += more
        over = np.any(ends > est[owner + 1], axis=1)
        if not over.any():
            return calls, raised
        status = -1
        if level < BLIND_LEVELS:
            points = []
            for j, first in zip(owner[over].tolist(), after[over].tolist()):
                hj = h[np.searchsorted(steps, j)] / ROUGH_SPLIT ** (level + 1)
                k = np.arange(1, ROUGH_SPLIT)
                points.append(t[j] + hj * k if first else t[j + 1] - hj * k)
            finer = np.union1d(divided, np.concatenate(points))
            Yf, status, more, _ = _run_divided(run, finer)
            calls += more
        if status != 0:         # (the last level, or a failed solve: the bounds themselves)
            bound = np.zeros_like(est)
            for k in np.flatnonzero(over).tolist():
                np.maximum(bound[owner[k] + 1], ends[k], out=bound[owner[k] + 1])
            np.maximum.accumulate(bound, axis=0, out=bound)
            np.maximum(est, bound, out=est)
            return calls, True
        change = _divided_change(finer, Yf, t, Y)
        raised = raised or bool(np.any(change > est))
        np.maximum(est, change, out=est)
        divided, Yd = finer, Yf
    return calls, raised


def _with_located(divided, g_vec, kernel, mesh, Y, est, p, alpha, ratio):
    """(divided, evaluations): the divided mesh of a weakly singular kernel's solve with the
    point where the data are not smooth (:func:`_located`) in each of the LOCATED roughest
    steps of ``mesh`` (``ratio`` its steps' ratios; ``Y`` the solution there) whose ratio
    exceeds ROUGH_FIXED, where it is more than LOCATE_ULP ulp from the divided mesh's points."""
    rough = np.nonzero(ratio > ROUGH_FIXED)[0]
    rough = rough[np.argsort(-ratio[rough], kind="stable")][:LOCATED]
    scale = np.max(est, axis=0)
    points, calls = [], 0
    try:
        for i in rough.tolist():
            x, n = _located(g_vec, kernel, mesh, Y, scale, i, p, alpha)
            calls += n
            points.append(x)
    except Exception as exc:   # noqa: BLE001 (g or K raised at a new point: the points so far)
        if not _user.raised_by_user(exc):
            raise
    gap = LOCATE_ULP * EPS * float(np.max(np.abs(divided)))
    for x in points:
        j = int(np.searchsorted(divided, x))
        if 0 < j < len(divided) and min(x - divided[j - 1], divided[j] - x) > gap:
            divided = np.insert(divided, j, x)
    return divided, calls


def _rough_kernel(kernel, t, Y, p, rtol, atol):
    """(level, evaluations): for each step of the mesh ``t``, the level of K's differences (K
    is not smooth in t, in s or in y along the solution at the scale of the step where it
    exceeds ROUGH_G), as :func:`_rough_forcing` finds them for g: the differences of order
    p + 1 on p + 2 equally spaced points x_j of the step

    * of tau -> K(tau, t0, Y_0) (where K names t),
    * of x -> K(x, x, y(x)) along the diagonal, y(x) linear between Y_n and Y_(n+1) across
      the step, which a jump or kink of K in t or in s inside the step crosses (one sweep for
      both, where the two sweeps of t at s = t_n and of s at t = t_(n+1) took the study's
      affine/gauss2/1e-3 row to 4.33 times the best uniform mesh's work, over its goal of 4),
      and a kink of K in y that y crosses inside the step (y = 1 - t - int |y - 0.5|, which
      crosses 0.5 at ln 1.5: radau3 at rtol 1e-6 was a success on 10 steps 2.3e3 times over
      the tolerance, radau4 at 1e-8 on 8 steps 4.9e3 times, gauss4 at 1e-6 1.05e3 times;
      with y held at Y_n the sweep saw no kink); one that y does not cross stays smooth
      along the path,

    times the length t_{n+1} - t0 of the integral they enter where K names t (the lag term int_0^t_n
    K(t, s, y(s)) ds is g's twin in the step), else times h (the step's part of every later
    integral), over the tolerance of the component's largest value (K is not smooth where that
    exceeds ROUGH_G).  A jump of K in t is a jump of y, which
    every nested mesh keeping the mesh point before it misses alike: y = 1 + c(t) int y, c = 1
    before 0.503 and 2 after, gauss2 at rtol 1e-6 was a success on 12 steps with an error 1700
    times the tolerance (steps [0.5, 0.583]: every Gauss point of the nested meshes after the
    jump).  A jump of K in s inside a step is missed alike by the quadrature of that step in
    every later integral: y = 1 + t + int c(s) y, c = 1 before 0.5 and 2 after, gauss4 at rtol
    1e-10 was a success 8e7 times over the tolerance.  The steps found are divided as g's are
    (:func:`_raised`).  (p + 2) N kernel evaluations a sweep in one compiled call
    (:func:`_kernel_differences`), once per accepted mesh; none for t where the kernel's
    code never names it (:func:`_names`: K = -y^2, whose 4-step rk4 solve at rtol 1e-3 the
    t-differences made 1.23 times as costly), none at all where it names neither t nor s and
    is visibly smooth in y (:func:`_smooth_in_y`: K = -y^2, y^2 and (-y_2, y_1), the
    study's inverse, tan and rotation, whose (p + 2) N evaluations cost 1.0003-1.115 times
    the evaluations of their 54 rows of ``tools/smooth_tolerance_scan.py``, and took
    tan/gauss2/1e-6 over its work goal: 0.998 -> 1.017 times the best uniform mesh's)."""
    out, calls = kernel_differences(kernel, t, Y, p)
    tol = tolerance_of(np.max(np.abs(Y.reshape(len(t), -1)), axis=0), rtol, atol)
    return _level(out, tol), calls


def kernel_differences(kernel, t, Y, p, stride=1):
    """(out, evaluations): out[n] (d floats) the scaled differences of order p + 1 of K
    across the step [t_n, t_(n+1)] of :func:`_rough_kernel` (zeros where it sweeps nothing;
    with ``stride`` k only every k-th step n = 0, k, 2k, ... is swept, the others are 0),
    and the kernel evaluations they took.  A jump of K inside the step keeps them at least
    the jump times the scale, a bound of the step's quadrature error that every nested mesh
    makes alike (:func:`kernel_defects`)."""
    n = len(t) - 1
    in_t = _names(kernel, 0)
    if n < 1 or not (in_t or _names(kernel, 1) or
                     _names(kernel, 2) and not _smooth_in_y(kernel)):
        return np.zeros((max(n, 0), kernel.dim)), 0
    weights = difference_weights(p)
    Y2 = np.ascontiguousarray(Y.reshape(n + 1, -1), dtype=float)
    mesh = np.ascontiguousarray(t, dtype=float)     # (the entry point checks no types)
    out = np.empty((n, kernel.dim))
    share = stride == 1 and _shares_ends(Y2, mesh)
    calls = (1 + in_t) * ((p + 1) * n + 1 if share else (p + 2) * len(range(0, n, stride)))
    run_guarded(lambda: _differences()(kernel.function_address.address, kernel.params, mesh, Y2,
                                       weights, int(in_t), int(stride), int(share), out),
                kernel.args, calls)   # (inline, not in a thread, below THREAD_WORK)
    return out, calls


#: Where :func:`kernel_defects` sweeps a step [t_n, t_n + h]: from t_n + INSIDE h to
#: t_n + (1 - INSIDE) h, so that a jump of K at a mesh point, which the Gauss methods'
#: quadrature resolves exactly, is no defect.
INSIDE = 2.0 ** -20


def kernel_defects(kernel, t, Y, p, span=None, ends=(False, False)):
    """(delta, evaluations): delta[n] (d floats) a bound of what the quadrature of a step
    [t_n, t_(n+1)] of a solve on the mesh ``t`` misses of the integral of K over it where K
    jumps or has a kink inside, from :func:`kernel_differences` on the step without its ends
    (INSIDE): a jump J between the points k and k + 1 of the p + 2 gives differences J C(p, k)
    times the scale h: J h where it lies before the second point, within h / (p + 1) of the
    step's start (or after the last but one), where the quadrature misses at most
    J h / (p + 1) (its stage points all on one side of it); at least J h p further in, where
    the stage points lie on both sides and the miss is below J h / 2.  So delta = 1 / (p + 1)
    times the differences bounds the miss.  On smooth K, delta is h^(p + 1) times K's
    derivatives: below the method's own error.
    The evaluations of :func:`kernel_differences` (its mesh holds the gaps between the
    steps, which it skips).  With ``span`` (in (0, 1)) each step is swept on
    [t_n + INSIDE h, t_n + span h] instead (y on the chord), the points off the ones
    j h / (p + 1) at which data that oscillate a whole number of times a step show no
    differences (see :func:`_off_grid_roughness`).  ``ends`` = (start, end): the sweep
    includes t_n itself (start) and t_(n+1) itself (end, not with ``span``), the points at
    which a method with the stage c = 0 or c = 1 takes K: a jump of K at a mesh point is
    there K's value on the other side for that stage (:func:`._vide.solve_vide`)."""
    n = len(t) - 1
    h = np.diff(t)
    sweep = np.empty(2 * n)
    sweep[0::2] = t[:-1] if ends[0] else t[:-1] + INSIDE * h
    # (the sweep of step k runs from row k to row k + 1: Y_n to Y_(n+1) across a step, Y_(n+1)
    # across the gap after it)
    Y2 = Y.reshape(n + 1, -1)
    if span is None:
        sweep[1::2] = t[1:] if ends[1] else t[1:] - INSIDE * h
        rows = Y2[np.concatenate(([0], np.repeat(np.arange(1, n), 2), [n]))]
    else:
        sweep[1::2] = t[:-1] + span * h
        rows = np.empty((2 * n, Y2.shape[1]))
        rows[0::2] = Y2[:-1]
        rows[1::2] = Y2[:-1] + span * (Y2[1:] - Y2[:-1])        # (on the chord)
    out, calls = kernel_differences(kernel, sweep, rows, p, stride=2)
    return out[0::2] * defect_factor(p), calls


def defect_factor(p):
    """1 / (p + 1): the factor of the differences of order p + 1 across a step that bounds
    what its quadrature misses of a jump inside it (:func:`kernel_defects`)."""
    return 1.0 / (p + 1)


def _names(kernel, index):
    """Whether K may depend on its argument ``index`` (0: t, 1: s, 2: y): False for t of a kernel
    marked t-independent, and for a user's plain Python K(t, s, y, ...) (the general kind)
    whose code never names that parameter (no instruction of any kind has it as its argument,
    so that opcodes of later Pythons, such as 3.14's LOAD_FAST_BORROW, count as reads; no
    inner function captures it: in compiled code nothing else can read it); True otherwise
    (structured kernels, SymPy's, callables without code).  Kept in the kernel's shared dict
    (its copies with other parameters share it)."""
    if index == 0 and kernel.structure.get("t_independent", False):
        return False
    key = ("names", index)
    known = kernel._shared.get(key)
    if known is not None:
        return known
    reads = True
    func = _user.py_function(kernel.probe) if kernel.probe is not None else None
    code = getattr(func, "__code__", None)
    if kernel.structure.get("kind", "general") == "general" and code is not None and \
            code.co_argcount >= 3 and not code.co_flags & inspect.CO_VARARGS:
        name = code.co_varnames[index]
        reads = name in code.co_cellvars or any(
            ins.argval == name or (isinstance(ins.argval, tuple) and name in ins.argval)
            for ins in dis.get_instructions(code))
    kernel._shared[key] = reads
    return reads


#: What a kernel's code may hold and still be smooth in y wherever it is finite
#: (:func:`_smooth_in_y`): the functions (NumPy's and math's, by name), the other names
#: (modules, constants), the opcodes (no branch, comparison or loop), the binary operators.
_SMOOTH_CALLS = frozenset({"array", "asarray", "exp", "expm1", "log", "log1p", "sin", "cos",
                           "tan", "sinh", "cosh", "tanh", "arctan", "atan", "float"})
_SMOOTH_NAMES = _SMOOTH_CALLS | {"np", "numpy", "math", "pi", "e"}
_SMOOTH_OPS = frozenset({
    "RESUME", "NOP", "CACHE", "EXTENDED_ARG", "LOAD_CONST", "LOAD_SMALL_INT", "RETURN_VALUE",
    "RETURN_CONST", "POP_TOP", "COPY", "SWAP", "ROT_TWO", "ROT_THREE", "DUP_TOP", "PUSH_NULL",
    "PRECALL", "KW_NAMES", "BINARY_SUBSCR", "BINARY_SLICE", "BUILD_TUPLE", "BUILD_LIST",
    "BUILD_SLICE", "LIST_EXTEND", "LIST_APPEND", "UNARY_NEGATIVE", "UNARY_POSITIVE",
    "CALL_INTRINSIC_1", "LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "CALL", "CALL_KW",
    "CALL_FUNCTION", "CALL_METHOD", "CALL_FUNCTION_KW", "BINARY_OP", "BINARY_ADD",
    "BINARY_SUBTRACT", "BINARY_MULTIPLY", "BINARY_TRUE_DIVIDE", "BINARY_MATRIX_MULTIPLY",
    "BINARY_POWER", "INPLACE_ADD", "INPLACE_SUBTRACT", "INPLACE_MULTIPLY",
    "INPLACE_TRUE_DIVIDE"})
_SMOOTH_OPERATORS = frozenset({"+", "-", "*", "/", "@", "**", "+=", "-=", "*=", "/=", "@=",
                               "**=", "[]"})


def _smooth_in_y(kernel):
    """Whether K is visibly smooth in y wherever it is finite: a user's plain Python K (the
    general kind) whose code has no branch, comparison or loop, calls only the functions of
    _SMOOTH_CALLS (each call one of theirs: a function passed in ``args`` is not), loads no
    other global or attribute, and raises to integer constant powers only (``(y * y) ** 0.5``
    is |y|); False otherwise (structured kernels, SymPy's, callables without code, inner
    functions).  A kink of K in y needs abs, min, max, a branch, or the like.  Kept in the
    kernel's shared dict, as :func:`_names`."""
    known = kernel._shared.get("smooth in y")
    if known is not None:
        return known
    smooth = False
    func = _user.py_function(kernel.probe) if kernel.probe is not None else None
    code = getattr(func, "__code__", None)
    if kernel.structure.get("kind", "general") == "general" and code is not None and \
            not (code.co_cellvars or code.co_freevars):
        smooth, calls, functions, previous = True, 0, 0, None
        for ins in dis.get_instructions(code):
            name = ins.opname
            calls += name in ("CALL", "CALL_KW", "CALL_FUNCTION", "CALL_METHOD",
                              "CALL_FUNCTION_KW")
            if name.startswith(("LOAD_FAST", "STORE_FAST")):
                pass
            elif name not in _SMOOTH_OPS:
                smooth = False
            elif name in ("LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD"):
                smooth = smooth and ins.argval in _SMOOTH_NAMES
                functions += ins.argval in _SMOOTH_CALLS
            elif name == "BINARY_OP":
                smooth = smooth and ins.argrepr in _SMOOTH_OPERATORS
            if "**" in ins.argrepr or name == "BINARY_POWER":
                smooth = smooth and previous is not None and previous.opname in (
                    "LOAD_CONST", "LOAD_SMALL_INT") and type(previous.argval) is int
            previous = ins
        smooth = smooth and calls <= functions
    kernel._shared["smooth in y"] = smooth
    return smooth


def _shares_ends(Y, t):
    """Whether the sweeps of consecutive steps may share their ends (:func:`_step_differences`):
    Y and t finite (y on the chord to an inf is NaN, not Y_n).  A few values as floats
    (NumPy's isfinite and its reduction cost ~1.3 us an array)."""
    if Y.size + t.size <= 128:
        return all(map(math.isfinite, Y.reshape(-1).tolist())) and \
            all(map(math.isfinite, t.tolist()))
    return bool(np.isfinite(Y).all()) and bool(np.isfinite(t).all())


#: The weights of the differences of order p + 1 on p + 2 points, by p.
_DIFFERENCE_WEIGHTS = {}


def difference_weights(p):
    """The weights (-1)^(p + 1 - j) C(p + 1, j), j = 0 .. p + 1, of the differences of order
    p + 1 on p + 2 equally spaced points."""
    weights = _DIFFERENCE_WEIGHTS.get(p)
    if weights is None:
        weights = np.array([(-1.0) ** (p + 1 - j) * math.comb(p + 1, j) for j in range(p + 2)])
        _DIFFERENCE_WEIGHTS[p] = weights
    return weights


def _kernel_differences(K_at, theta, t, Y, weights, in_t, stride, share, out):
    """out[n, a] = the larger of (where ``in_t``) (t[n+1] - t[0]) |sum_j weights[j]
    K(x_j, t[0], Y[0])[a]| and c |sum_j weights[j] K(x_j, x_j, y_j)[a]|, x_j = t[n] +
    j h / (m - 1) (the last point t[n+1] itself), y_j = Y[n] + (j / (m - 1)) (Y[n+1] - Y[n])
    (the last Y[n+1] itself), m = len(weights), h = t[n+1] - t[n], c = t[n+1] - t[0] where
    ``in_t``, else h; a NaN difference counts as 0; only for n = 0, ``stride``, 2 ``stride``, ...
    (out[n] = 0 for the others).  ``K_at``: the kernel's address (as the loops take it);
    ``share`` (stride 1 only): the sweeps share the steps' ends (:func:`_step_differences`)."""
    K = _loops._kernel_at(K_at)
    d = out.shape[1]
    f = np.empty(d)
    acc = np.empty(d)
    terms = np.empty(d)
    path = np.empty((1, Y.shape[1]))
    last = np.empty((2, d))
    for n in range(t.shape[0] - 1):
        for a in range(d):
            out[n, a] = 0.0
        if n % stride != 0:
            continue
        scale = t[n + 1] - t[0] if in_t != 0 else t[n + 1] - t[n]
        for which in range(1 - in_t, 2):
            _step_differences(K, theta, t, Y, n, weights, which, share != 0 and n > 0, last, f,
                              path, acc, terms)
            for a in range(d):
                v = abs(acc[a]) * scale
                if v > out[n, a]:
                    out[n, a] = v


@_loops._helper
def _step_differences(K, theta, t, Y, n, weights, which, shared, last, f, path, acc, terms):
    """acc[a] = sum_j weights[j] v_j[a] and terms[a] = sum_j |weights[j] v_j[a]| across the
    step n of the mesh ``t``, m = len(weights) points x_j = t[n] + u_j h, u_j = j / (m - 1),
    h = t[n+1] - t[n] (the last t[n+1] itself), v_j = K(x_j, t[0], Y[0]) (``which`` 0: K in
    t) or K(x_j, x_j, y_j) (1: along the diagonal, y_j = Y[n] + u_j (Y[n+1] - Y[n]) on the
    chord, the last Y[n+1] itself); ``f`` (d,) and ``path`` (1, d) are work space.  The sweep
    of :func:`_data_ratios` and :func:`_kernel_differences`, inlined in both.  ``last[which]``
    receives K at the last point; with ``shared`` it is also the first point's value (x_0 =
    t[n], y_0 = Y[n] exactly: the last point of the step before, swept just before this one,
    where Y is finite: :func:`_shares_ends`), (m - 1) N + 1 evaluations a sweep of N steps
    instead of m N, the same values."""
    m = weights.shape[0]
    h = t[n + 1] - t[n]
    for a in range(acc.shape[0]):
        acc[a] = 0.0
        terms[a] = 0.0
    for j in range(m):
        x = t[n + 1] if j == m - 1 else t[n] + h * (j / (m - 1))
        if j == 0 and shared:
            for a in range(acc.shape[0]):
                f[a] = last[which, a]
        elif which == 0:
            K(x, t[0], Y, 0, theta, f)
        else:
            for b in range(Y.shape[1]):
                path[0, b] = Y[n + 1, b] if j == m - 1 else \
                    Y[n, b] + (Y[n + 1, b] - Y[n, b]) * (j / (m - 1))
            K(x, x, path, 0, theta, f)
        if j == m - 1:
            for a in range(acc.shape[0]):
                last[which, a] = f[a]
        for a in range(acc.shape[0]):
            w = weights[j] * f[a]
            acc[a] += w
            terms[a] += abs(w)


def _differences_signature():
    from .._numba import types
    a1, a2, i = types.float64[::1], types.float64[:, ::1], types.int64
    return types.void(i, a1, a1, a2, a1, i, i, i, a2)


def _differences():
    """:func:`_kernel_differences`, compiled on first use (cached on disk), called through its
    entry point (the arguments are always of its one signature)."""
    return compiled_entry(_kernel_differences, _differences_signature)


def _change(previous, t, Y):
    """The change of the answer ``Y`` on ``t`` from ``previous`` = (mesh, values), the answer
    before a local division of steps (its points are points of ``t``; the points between take
    the larger change of their neighbours), or None where the meshes are not nested."""
    tp, Yp = previous
    idx = np.searchsorted(t, tp)
    if np.any(idx >= len(t)) or not np.array_equal(t[idx], tp):
        return None
    change = np.abs(Y[idx] - Yp)
    # (both meshes end at T: every point has a common point at or after it)
    points = np.arange(len(t))
    after = np.searchsorted(idx, points)
    here = idx[after] == points
    return np.where(here[:, None], change[after],
                    np.maximum(change[np.maximum(after - 1, 0)], change[after]))


def _kept(tp, t):
    """Whether each step of the mesh ``t`` is a step of the mesh ``tp`` (not divided)."""
    idx = np.minimum(np.searchsorted(tp, t), len(tp) - 1)
    shared = tp[idx] == t
    return shared[:-1] & shared[1:] & (idx[1:] == idx[:-1] + 1)


def _from_old(tp, t):
    """Whether each step of the mesh ``t`` starts at a point of the mesh ``tp``."""
    return np.isin(t[:-1], tp)


def _where_changed(previous, t, change, rtol, atol):
    """The steps of ``t`` (a boolean per step) inside the steps of ``previous`` = (mesh,
    values), the answer before the last division, over which its ``change``
    (:func:`_change`, on ``t``) over the tolerance was made (:func:`_where_made`), or None
    (the change made everywhere).  All the pieces of a divided step: which of them holds the
    non-smooth point, the change at the old points does not say."""
    tp, Yp = previous
    old = _where_made(change[np.searchsorted(t, tp)], Yp, rtol, atol)
    if old is None:
        return None
    return old[np.clip(np.searchsorted(tp, t[:-1], side="right") - 1, 0, len(old) - 1)]


def _raised(change, estimate, Y, rtol, atol):
    """(estimate, ratio): the ``estimate`` raised to the ``change`` of the answer from the
    last division of steps where the data are not smooth (:func:`_change`), and its largest
    ratio to atol + rtol |y|; the answer stands where that is at most 1.

    A non-smooth point of g just after a mesh point is missed alike by every mesh that keeps
    that point, the shifted ones too where it is in the first step; its error falls as the
    steps around it are divided (like the offset of the point in its step), and the change
    of the answer from one division to the next is then at least its error after it.  So
    is a jump of K in s whose offsets in the divided step and in the shifted check's step
    happen to give the same error: gauss2, K jumping at s = 0.5 (0.82 of its step, after its
    last Gauss point), rtol 1e-8, was accepted by the shifted check at 12.6 times the
    tolerance, after a division that had changed the answer by 68 times it."""
    raised = np.maximum(estimate, change)
    return raised, float(np.max(over_tolerance(raised, tolerance_of(Y, rtol, atol))))


def _uniform(t):
    """Whether the mesh ``t`` is uniform (to rounding)."""
    h = np.diff(t)
    return bool(np.max(h) - np.min(h) <= 1e-9 * (t[-1] - t[0]))


def _local_mesh(t, steps, top, multiple=1):
    """``t`` with the steps ``steps`` (a boolean per step) and the LOCAL_REACH steps on each
    side of them divided, each into min(LOCAL_SPLIT, ``top``) pieces (``top``: the largest
    estimate over the tolerance), rounded up to an even number, and to a multiple of
    ``multiple`` (the steps where the data check saw the data not smooth: p + 1, see
    :func:`_rough_split`).  The steps are divided by
    pairs (steps 2k and 2k + 1, the companion's step from t_2k: both or neither), so that every
    pair stays two halves of its companion's step (:func:`_paired`); a divided pair then
    makes an even number of steps.  A jump's local error falls like the step, so each round
    divides the error over the tolerance by up to LOCAL_SPLIT where the steps were equal."""
    near = np.convolve(steps.astype(float), np.ones(2 * LOCAL_REACH + 1), mode="same") > 0
    pair = near[0::2].copy()
    pair[:len(near[1::2])] |= near[1::2]
    near = np.repeat(pair, 2)[:len(near)]
    split = int(max(4.0, math.ceil(min(top, LOCAL_SPLIT))))   # (top = inf: no digit)
    split += split % 2
    step = multiple * (2 // math.gcd(2, multiple))    # (even, and a multiple of ``multiple``)
    split = step * -(-split // step)
    pieces = [np.linspace(t[j], t[j + 1], split + 1)[:-1] if near[j] else t[j:j + 1]
              for j in range(len(t) - 1)]
    return _paired(np.concatenate(pieces + [t[-1:]]))


def _rough_split(p):
    """The multiple that the pieces of a step where the data check (:func:`_rough_data`) saw
    the data not smooth are divided into (:func:`_local_mesh`): p + 1 (``p`` the method's
    order), as the check takes the data at the points j h / (p + 1) of each step, so that the
    divided solve takes them there too.  A division into LOCAL_SPLIT = 16, a power of 2,
    samples data that oscillate at a period h / 2^k at the same phase as the meshes before:
    rk4 on y = g - int y, y = sin(2 pi f t), f = 256 and 1024, rtol 1e-6, was a success on 64
    steps, every value at a mesh point and a stage exact (sin's zeros), the division from 4
    steps changing nothing, and its dense output 1.1e-2 off (estimate 2.8e-15)."""
    return int(math.ceil(p)) + 1


def _where_made(estimate, Y, rtol, atol):
    """:func:`_made_here` of the ``estimate`` of ``Y`` over the tolerance (per mesh point, the
    largest over the components), the steps found from the estimate over the tolerance of
    each component's largest value so far (the ``rise``)."""
    Y2 = Y.reshape(len(Y), -1)
    E = estimate.reshape(Y2.shape)
    largest = np.maximum.accumulate(np.abs(Y2), axis=0)
    return _made_here(np.max(over_tolerance(E, tolerance_of(Y2, rtol, atol)), axis=1),
                      rise=np.max(over_tolerance(E, tolerance_of(largest, rtol, atol)), axis=1))


def _made_here(over, i=None, rise=None):
    """The steps (a boolean per step of the mesh) where the estimate over the tolerance, per
    mesh point ``over``, is made: the step into the point ``i`` (the first one over the
    tolerance, for the shifted check, whose companion's step that holds the non-smooth point
    starts at most one step before it: the estimates between its points are the larger of its
    ends'), or else the steps over which ``rise`` (``over`` where not given) rises by more
    than LOCAL_RISE of its largest value; None where that is more than a quarter of the steps
    (the error is made everywhere: the mesh is refined as a whole) or none.  The ``rise`` of
    :func:`_where_made` is the estimate over the tolerance of each component's largest value
    so far: over the tolerance at the point, an error made at a kink of K in y that y
    crosses (y = 1 - t - int |y - 0.5|, y crosses 0.5 at 0.405) rose most where y then
    crosses 0 (t = 0.811, the tolerance 100 times tighter with atol = rtol / 100), and the
    steps divided there left the error where it was (radau3 at rtol 1e-6: 2310 steps, 4.6e4
    times the evaluations of its 10-step miss, where 440 steps meet the tolerance)."""
    if i is not None:
        steps = np.zeros(len(over) - 1, dtype=bool)
        steps[max(i - 1, 0)] = True
        return steps
    if len(over) < 2 or not over.max() > 1.0 or not np.all(np.isfinite(over)):
        return None
    if rise is None:
        rise = over
    steps = np.diff(rise) > LOCAL_RISE * rise.max()
    return steps if 0 < steps.sum() <= len(steps) / 4 else None


def _converges_at_rate(comp, p):
    """Whether the solutions on N/4, N/2 and N steps converge at the method's rate.

    At the points common to the three meshes, the differences D1 = |y_N - y_N/2| and
    D2 = |y_N/2 - y_N/4| fall like 2^p from one level to the next in the asymptotic regime,
    where Richardson's estimate D1 / (2^p - 1) holds; on a few large steps they need not (rk4 on
    y = 1 - int y^2 with 4 steps: D2 / D1 = 766 against 2^4, the estimate 11 times below the
    error).  A D1 at the rounding level of the solution passes.  The rate is the companion's
    (:func:`._estimate.estimate_error` solves on every fourth point too).
    """
    rate = comp.rate
    if rate is None:
        return False
    return math.isinf(rate) or 2.0 ** p / RATE_FACTOR <= rate <= 2.0 ** p * RATE_FACTOR


def _reusing(run, newton_tol=None):
    """``run`` that solves on each mesh once: the uniform try and the companions of the checks
    share meshes (the try's 4 steps are the quarter mesh of 16).  A repeat costs no kernel
    evaluation (its counts are zero); a failed solve is repeated only with more Newton
    iterations, or without the exploratory stop of Newton (``exploring``: see
    ``_loops.EXPLORING``; a converged solve is the same with it or without it)."""
    done = {}

    default_tol = newton_tol

    def reusing(mesh, newton_maxiter=None, newton_tol=None, exploring=False):
        key = mesh.tobytes()
        old = done.get(key)
        if old is not None and (old[2].status == 0 or (
                old[0] >= (newton_maxiter or math.inf) and (exploring or not old[1]))):
            return dataclasses.replace(old[2], counts=np.zeros_like(old[2].counts))
        options = {} if newton_maxiter is None else {"newton_maxiter": newton_maxiter}
        if (newton_tol or default_tol) is not None:
            options["newton_tol"] = newton_tol or default_tol
        if exploring:
            options["exploring"] = True
        out = run(mesh, **options)
        done[key] = (newton_maxiter or math.inf, exploring, out)
        return out
    return reusing


def _kernel_args(kernel):
    from ._methods import _kernel_args as args
    return args(kernel)


#: :func:`lag_defects`: the rows of the mesh whose history K(t_n, s, y(s)) is swept step by
#: step (fractions of the steps N), and the step of a sampled row that stands out LAG_OUT
#: times from the median of its LAG_NEAR neighbours on each side (and is not rounding).
LAG_ROWS = (1.0, 0.5)
#: the order of the differences that find those steps (on LAG_ORDER + 1 points a step).
LAG_ORDER = 3
LAG_OUT = 16.0
LAG_NEAR = 4
#: the most lines t - s = b that :func:`lag_defects` follows through every row.
LAG_LINES = 4
#: the fewest steps a mesh has before :func:`lag_defects` sweeps its history.
LAG_STEPS = 8
#: :func:`lag_defects`: a step's miss below this many EPS times the solution's largest size
#: is rounding, not a jump or a kink.
LAG_ROUNDING = 1024.0


def lag_defects(kernel, t, Y, p):
    """(miss, evaluations): miss (N + 1, d) a bound of what the quadrature of the history
    int_t0^t_n K(t_n, s, y(s)) ds of each row n misses where K jumps or has a kink along a
    line s = t - b (a memory of finite length b, K = a [t - s > b] y + c y, or a kink at a lag,
    a |t - s - b| y + c y), with the kernel evaluations that took; zeros where none is found.

    The data check (:func:`data_roughness`) takes K on the diagonal s = t and
    :func:`kernel_defects` across the steps, where a kink of K at a fixed s lies in the same
    step of every row; a line s = t - b crosses the history of each row at another phase of
    its steps: the nested meshes of the estimates sample it at other phases, and their
    difference depends on frac(b / h), not on h (radau1 on 256 steps, K jumping at lag
    0.208: an error 997 times the estimate; gauss2 to rtol = atol = 1e-3, a success on 962
    steps 11.4 times over the tolerance, 136 times its largest estimate).
    The histories of the rows LAG_ROWS N are swept step by step (K(t_n, s, y) on
    LAG_ORDER + 1 points of each step but the last, from t_j + INSIDE h to
    t_(j+1) - INSIDE h, y on the chord, h times their differences of order LAG_ORDER); a
    step whose differences stand out LAG_OUT times from its neighbours' median (and above
    the rounding of the solution's size, LAG_ROUNDING) has K not smooth in s there, at the
    lag b = t_n - s.  For each such lag (the LAG_LINES largest), every row's steps that the
    line may cross (the step found, moved along the line) are swept with the differences of
    order p + 1 on p + 2 points, and the largest of their bounds (:func:`kernel_defects`'s,
    1 / (p + 1) times h times those differences) is the row's miss.  Where K names t or s
    alone, or is visibly smooth (:func:`_smooth_in_y`: no branch, comparison or non-smooth
    call), nothing is swept; else (LAG_ORDER + 1) N (1 + 1/2) kernel evaluations, and
    (p + 2) N or so for each line found."""
    n = len(t) - 1
    Y2 = np.ascontiguousarray(Y.reshape(n + 1, -1), dtype=float)
    miss = np.zeros((n + 1, kernel.dim))
    if n < LAG_STEPS or not (_names(kernel, 0) and _names(kernel, 1)) or _smooth_in_y(kernel):
        return miss, 0
    mesh = np.ascontiguousarray(t, dtype=float)
    rows = sorted({max(LAG_STEPS // 2, round(f * n)) for f in LAG_ROWS}, reverse=True)
    tr = np.concatenate([np.full(r - 1, mesh[r]) for r in rows])
    js = np.concatenate([np.arange(r - 1) for r in rows])
    out, calls = _history_differences(kernel, tr, js, mesh, Y2, LAG_ORDER - 1)
    level = out.max(axis=1)
    # (misses at the rounding level of the solution are none: the differences of K = c y, y
    # on a chord, vanish to rounding on the steps away from a jump, where the median is 0)
    floor = LAG_ROUNDING * EPS * float(np.max(np.abs(Y2), initial=0.0))
    lags, at = [], 0
    for r in rows:
        d = level[at:at + r - 1]
        at += r - 1
        for j in np.flatnonzero(d > floor).tolist():
            near = np.concatenate((d[max(0, j - LAG_NEAR):j], d[j + 1:j + 1 + LAG_NEAR]))
            if near.size and d[j] > LAG_OUT * np.median(near):
                lags.append((float(d[j]), float(mesh[r] - mesh[j + 1]),
                             float(mesh[r] - mesh[j])))
    if not lags:
        return miss, calls
    lines = []
    for _, lo, hi in sorted(lags, reverse=True):
        if not any(lo < b_hi and hi > b_lo for b_lo, b_hi in lines):
            lines.append((lo, hi))
        if len(lines) >= LAG_LINES:
            break
    tr, js = [], []
    for lo, hi in lines:
        # (row m: the steps of s in (t_m - hi, t_m - lo), but the last one, s = t_m's)
        first = np.searchsorted(mesh, mesh - hi, side="right") - 1
        last = np.searchsorted(mesh, mesh - lo, side="left")
        for m in range(2, n + 1):
            a, b = max(int(first[m]), 0), min(int(last[m]), m - 1)
            tr.extend([mesh[m]] * max(b - a, 0))
            js.extend(range(a, b))
    if not js:
        return miss, calls
    tr, js = np.array(tr, dtype=float), np.array(js, dtype=np.int64)
    out, more = _history_differences(kernel, tr, js, mesh, Y2, p)
    rowof = np.searchsorted(mesh, tr)
    np.maximum.at(miss, rowof, out)
    return miss, calls + more


def _history_differences(kernel, tr, js, t, Y, p):
    """(out, evaluations): out[k] (d floats) 1 / (p + 1) times h times the differences of
    order p + 1 of s -> K(tr[k], s, y(s)) across the step js[k] of the mesh ``t`` (h its
    length, s on p + 2 points from t_j + INSIDE h to t_(j+1) - INSIDE h, y on the chord of
    ``Y``; 0 where they are at the rounding level), :func:`lag_defects`'s sweep."""
    out = np.zeros((len(js), kernel.dim))
    if not len(js):
        return out, 0
    weights = difference_weights(p)
    calls = (p + 2) * len(js)
    run_guarded(lambda: _history()(kernel.function_address.address, kernel.params,
                                   np.ascontiguousarray(tr, dtype=float),
                                   np.ascontiguousarray(js, dtype=np.int64), t, Y, weights,
                                   ROUNDING * EPS, INSIDE, out),
                kernel.args, calls)
    return out * defect_factor(p), calls


def _history_sweep(K_at, theta, tr, js, t, Y, weights, noise, inside, out):
    """out[k, a] = h |sum_i weights[i] K(tr[k], x_i, y_i)[a]|, x_i = t[j] + h (inside +
    (1 - 2 inside) i / (m - 1)), j = js[k], h = t[j+1] - t[j], m = len(weights), y_i on the
    chord of Y[j], Y[j+1]; 0 where that sum is within ``noise`` times the sum of its terms'
    sizes, or NaN."""
    K = _loops._kernel_at(K_at)
    d = out.shape[1]
    m = weights.shape[0]
    f = np.empty(d)
    acc = np.empty(d)
    terms = np.empty(d)
    path = np.empty((1, Y.shape[1]))
    for k in range(js.shape[0]):
        j = js[k]
        h = t[j + 1] - t[j]
        for a in range(d):
            acc[a] = 0.0
            terms[a] = 0.0
        for i in range(m):
            u = inside + (1.0 - 2.0 * inside) * (i / (m - 1))
            for b in range(Y.shape[1]):
                path[0, b] = Y[j, b] + (Y[j + 1, b] - Y[j, b]) * u
            K(tr[k], t[j] + h * u, path, 0, theta, f)
            for a in range(d):
                w = weights[i] * f[a]
                acc[a] += w
                terms[a] += abs(w)
        for a in range(d):
            v = abs(acc[a])
            out[k, a] = v * h if v > noise * terms[a] else 0.0


def _history_signature():
    from .._numba import types
    a1, a2, i1 = types.float64[::1], types.float64[:, ::1], types.int64[::1]
    return types.void(types.int64, a1, a1, i1, a1, a2, a1, types.float64, types.float64, a2)


def _history():
    """:func:`_history_sweep`, compiled on first use (cached on disk)."""
    return compiled_entry(_history_sweep, _history_signature)


#: :func:`with_lag_defects`: the estimates are raised to this many times the rows' misses
#: accumulated (a miss of every row at the same phase of the steps, as on a uniform mesh,
#: makes an error that grows with them).
LAG_FACTOR = 2.0


def with_lag_defects(sol, kernel, p):
    """``sol`` (a successful solve with its error estimate; ``p`` the method's order) with
    its estimates raised where K jumps or has a kink along a line s = t - b
    (:func:`lag_defects`): at each mesh point n to LAG_FACTOR times the largest of the rows'
    misses up to it, and its message saying so; unchanged where none is found or the misses
    stay below the estimates.  The caller's checks fail a solve whose estimates so raised
    exceed the tolerance (adaptive steps; a uniform mesh is refined) or half the solution's
    size."""
    if not sol.success or len(sol.mesh) < 2 or getattr(sol, "_est2", None) is None:
        return sol
    t, Y, est = sol.mesh, sol._y2, sol._est2
    if est.shape != Y.shape:
        return sol
    try:
        miss, calls = lag_defects(kernel, t, Y, math.ceil(p))
    except Exception as exc:   # noqa: BLE001 (the user's K raised at a new point)
        if not _user.raised_by_user(exc):
            raise
        sol.message += _not_checked("K was not checked along the rows' histories", exc)
        return sol
    sol.stats["nfev"] += calls
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + calls
    if not calls or not np.any(miss > 0.0):
        return sol
    bound = LAG_FACTOR * np.maximum.accumulate(miss, axis=0)
    sol._lag_miss = miss
    if not np.any(bound > est):
        return sol
    n = int(np.argmax(np.max(miss, axis=1)))
    np.maximum(est, bound, out=est)     # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.message += (f"  K is not smooth in s along a line s = t - b in the rows' histories "
                    f"(the history of t = {float(t[n]):.6g} misses up to "
                    f"{float(np.max(miss[n])):.3g} there, at another phase of the steps in "
                    f"each row, which the solutions on coarser meshes do not show): the "
                    f"estimates were raised to {LAG_FACTOR:g} times those misses.")
    return sol
