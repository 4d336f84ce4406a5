"""Error estimates of mesh solutions, and the check that a solution has correct digits.

Every solve is paired with a *companion*: the same method on the mesh with every other
point (half the steps, a quarter of the work of an O(N^2) method), or, when that mesh is too
coarse for the method or its solve fails, on the mesh with every interval bisected.  At the
common points the difference of the two solutions estimates the error (Richardson): with
order p and halved steps,

    y_h - y = (y_2h - y_h) / (2^p - 1) + o(h^p),      y_2h - y = 2^p (y_h - y_2h) / (2^p - 1) + ...,

so the estimate of the error of y_h is |y_2h - y_h| / (2^p - 1) (coarse companion) or
2^p |y_h - y_{h/2}| / (2^p - 1) (refined companion).  Points of the mesh that are not common
points take the larger estimate of their two neighbours.  Where the difference changes sign
between two neighbouring common points, its leading term crosses zero there while the error
(the higher-order terms) need not: both points take the larger of their two estimates; a
point whose difference is exactly zero, or whose estimate is TOUCH times below both
neighbours', takes the larger neighbour's (:func:`_over_crossings`; the adaptive driver draws
its meshes from the estimates before that, ``Companion.unlifted``).

The same comparison says where a solution has *no* correct digits: where the two solutions
disagree by more than half of the solution's size so far (the largest |y| up to that point),
the step is not resolving the solution, whatever the cause (an unstable rule at this step --
stiffness, the weak stability of high-order Gregory rules, Pouzet/collocation instability on
long intervals -- or a blow-up).  The solve is then reported as failed from the first such
point, and only the values before it are kept.

The estimate assumes the method's order p.  Data that is not smooth (a kink or a jump of g or
K inside a step) lowers the order the solutions actually converge at, and the estimate with p
can be orders of magnitude too small (gregory8 with a kink in g: 85 times; gauss4: 680).  So
when the companion's mesh can be halved once more, a third solve on every fourth point gives
the observed rate r = D2 / D1 of the differences D1 = |y_h - y_2h| and D2 = |y_2h - y_4h| at
the points the three meshes share (or the lower one without the coarsest mesh's first step,
whose start D1 does not see: :func:`_start_free_rate`); where r is below 2^p / RATE_FACTOR (the
order is clearly not p) the estimate uses the observed order q = log2 r (at least 1) instead:
|y_2h - y_h| / (2^q - 1).  A smooth solution in the asymptotic regime has r close to 2^p and
keeps p; differences at the rounding level are not compared.  On a given mesh an order below 1
is taken too (a rate below 2, which for a first-order method is within RATE_FACTOR of 2^p),
down to LEAST_ORDER = log2 1.2, at which a difference of a tenth of the solution's size gives
an estimate of half of it (the rectangle rule ahead of a blow-up converges at the rate 1.07 on
3 steps, and the order 1 gave an estimate of 0.32 for an error of 3.1, no digit); where the
solve between the two others is the answer (the third level is the finer one, below), its
estimate with such an order is at least its difference from the finer solution plus that one's
estimate (:func:`_with_finest_pair`).  The rate on a given mesh is measured where each level
halves the next one's steps, not at a last step that the half-steps companion
shares (an odd number of steps).  On a given mesh, which no refinement corrects, any rate below
2^p gives the observed order (the denominator rate - 1, continuous in the rate), and where the
observed order is below p each estimate is at least the coarser pair's difference over
rate (2^q - 1) (:func:`_with_coarser_pair`): a
kernel less smooth than the method needs (gregory6 on |t - s|^2.5, whose errors converge at the
order 3.5) mixes errors of two orders, the three levels' rate lies between (19.6), and the
finer pair's difference nears zero over stretches where the error does not (147 times).

A direct rule with a block start (Gregory: its first p - 1 steps solved together) is
compared at its first points with the solve of its companion's starting block's span on
halved steps, where that solve costs no more than the rate's (:func:`_start_block_check`):
under an oscillating solution the companion's start can be far from the order p while the
solution's is in it, and the difference over 2^p - 1 was 41 times below the error there.

Solves on a given mesh also check that the solutions converge at all (``converging``): the
solve on every fourth point is made on any mesh of at least one step (where there is none,
the solve with every step bisected instead; where it is a single step, that one too), and
where no pair of the three solutions agrees to a digit while their differences grow as the
steps shrink, the solution has no reliable digit from there (:func:`_first_diverging`: a
few steps that jump a blow-up, or an implicit step on the wrong root ahead of it, agree with
their half-steps companion within half the size).  Where the only companion is the one with
every step bisected (a mesh of one step, or of fewer than twice the method's fewest: gregory4
on 3-5 steps), the solve with every step bisected twice is the third level (gregory4 on 4
steps ahead of a blow-up: -5.7, -7.9, -11.0 for y = 5 at the end, a success with the
estimate 2.4 before), and its rate sets the order.  Differences that grow as the steps
shrink, but stay below LEAD_IN times the size, are checked with a fourth level, the finest
one's steps bisected (:func:`_growth_level`): three levels that all miss a fast time scale
agree while they drift apart (gauss2 on y = 1 - 1e5 int y, 1 step: a success with the
estimate 0.03 for an error of 1.0), and where the fourth still drifts the solution has no
confirmed digit.

Near a singularity (a blow-up) two under-resolved solutions can agree with each other while
both lag behind the exact one: the values kept there carry Richardson estimates that are
only as good as the asymptotic assumption.  Error-controlled solves (``rtol``/``atol``)
refine there instead.  A kink that lies just after (Gauss: or just before) a point that
every nested mesh shares leaves their solutions equal while all are off: methods that run on
any mesh also compare with shifted companions on a given mesh (:func:`shifted_estimate`);
solves to a tolerance check the mesh they accept with them where the solve showed a sign of
data that is not smooth (``_adaptive``).
"""
from __future__ import annotations

import functools
import itertools
import math
import operator
from dataclasses import dataclass

import numpy as np

__all__ = ["Companion", "estimate_error", "estimate_options", "coarse_mesh", "refined_mesh",
           "shifted_estimate", "trim_lead_in", "worst_pair_factor", "hidden_pair_error",
           "pair_hides_error", "rounding_floor", "hiding_steps",
           "hiding_pair_steps", "local_refined_check", "running_size", "none_over_size"]

#: Disagreement (relative to the solution's running size) from which a point has no reliable digit.
UNRESOLVED = 0.5
#: A compared point whose estimate is this many times below both of its neighbours' is where
#: the difference's leading term nears zero: it takes the larger neighbour's (_over_crossings).
TOUCH = 4.0
#: A failed solve keeps no value of the run of points just before its failure where the two
#: solutions disagree by more than LEAD_IN times the size (:func:`trim_lead_in`).
LEAD_IN = 0.1
#: How far (a factor) below 2^p the observed rate may fall before the estimate uses the
#: observed order (and above or below which small meshes are not trusted, see ``_adaptive``).
RATE_FACTOR = 4.0
#: The fewest steps of the mesh of every fourth point for which the rate is measured by
#: default: on fewer, differences are rarely in the asymptotic regime (and the solve's fixed
#: cost would dominate the estimate of a small solve).
RATE_MIN_STEPS = 8
#: The least order an estimate on a given mesh assumes (``converging`` in
#: :func:`estimate_error`): log2(1 + LEAD_IN / UNRESOLVED), at which a difference of LEAD_IN
#: times the solution's size gives an estimate of UNRESOLVED times it: a solution whose
#: differences fall by less than 1.2 a halving (or grow) keeps no digit that they do not
#: agree to within LEAD_IN (the bound :func:`_first_diverging` applies to growing ones).
LEAST_ORDER = math.log2(1.0 + LEAD_IN / UNRESOLVED)
#: The points of a mesh of a single step: a mesh of every fourth point that is no more than
#: this is not a level of the check that the solutions converge on its own (the solve with
#: every step bisected is one too; see ``converging`` in :func:`estimate_error`).
SINGLE_STEP = 2


@dataclass
class Companion:
    """The outcome of :func:`estimate_error`.

    estimate : ndarray (N+1, d)
        Estimated error at each point of the solution's mesh (NaN where none).
    first_bad : int or None
        The first mesh index from which the solution is not confirmed (no reliable digit, or
        beyond what the companion could check); None if every point is confirmed.
    keep : int
        How many leading mesh values are confirmed (all if ``first_bad`` is None): the values
        before the last common point ahead of ``first_bad``.
    reason : str
        "unresolved" (the two solutions disagree), "unchecked" (no companion could be
        computed that far) or "" (confirmed).
    source : str
        "half-steps", "double-steps" or "none".
    nfev : int
        Kernel evaluations of the companion solve(s).
    disagreement, size : float
        At ``first_bad`` (for "unresolved"): |y_h - y_companion| and the solution's size.
    mesh, values, common : ndarray or None
        The half-steps companion's mesh and solution, and the indices of its points in the
        solution's mesh (None for other sources).
    rate : float or None
        The observed rate D2 / D1 from the solve on every fourth point, or from a solve with
        every step bisected (once, or twice for the double-steps companion) where that is the
        third level (inf when D1 is at the rounding level of the solution); None when there
        was none.
    order : float
        The order the estimate assumes: the method's, or the lower observed one (NaN without
        an estimate).
    sizing : float
        (2^order - 1) / (2^p - 1) for an order below p: the estimate times this is the one
        the method's order p gives, by which error-controlled solves size their next mesh (a
        low rate on a coarse mesh is often pre-asymptotic; the full estimate decides
        acceptance); 1 for the order p or a higher observed one (the next mesh is sized with
        it).
    small : bool
        On a given mesh (``converging``): whether the mesh of every fourth point has too few
        steps (fewer than ``rate_min_steps``) for its rate to set the order, so that the
        order p that the estimate assumes was not judged by the rate of such a mesh (a finer
        solve's rate may have set it, on a few steps: see ``converging``).
    unsettled : bool
        On such a small mesh (of more than a single step): whether its three levels converge
        clearly slower than the order p says (their rate below 2^p / ``rate_factor``; not
        with ``least_order``): they are not in the regime the estimate with p assumes, and
        the solve on a given mesh compares the solution with the one on every step bisected
        after its other checks (``_outcome.with_settled_levels``).
    unlifted : ndarray or None
        The estimates before :func:`_over_crossings` raised some (None where it raised none):
        their growth along the mesh is the error profile the adaptive driver draws a mesh
        from.
    pair_factor : float
        The factor of :func:`pair_factor` the estimates were multiplied by (1: none);
        ``by_pairs``: whether ``first_bad`` is where the multiplied estimate first exceeds
        UNRESOLVED times the solution's size (``disagreement`` is then that estimate).
    converging : bool
        False where ``first_bad`` is where the solutions on three nested meshes stop
        converging (:func:`_first_diverging`; ``disagreement`` is then the difference of the
        finer two).
    agreement : callable or None
        ``agreement()`` -> (mesh indices of the points compared, at each the largest
        difference of the two solutions over the solution's size so far), computed when a
        failed solve asks (:func:`trim_lead_in`).
    """

    estimate: np.ndarray
    first_bad: int | None
    reason: str
    source: str
    nfev: int = 0
    keep: int = -1
    disagreement: float = float("nan")
    size: float = float("nan")
    mesh: np.ndarray | None = None
    values: np.ndarray | None = None
    common: np.ndarray | None = None
    rate: float | None = None
    order: float = float("nan")
    sizing: float = 1.0
    agreement: object = None
    converging: bool = True
    pair_factor: float = 1.0
    by_pairs: bool = False
    unlifted: np.ndarray | None = None
    small: bool = False
    unsettled: bool = False

    def stats(self):
        """The solution's stats entries of this estimate: how it was made, its kernel
        evaluations and the order it assumes (and :func:`pair_factor` where it applied)."""
        out = {"error_estimate": self.source, "error_estimate_nfev": self.nfev,
               "estimate_order": self.order}
        if self.pair_factor != 1.0:
            out["estimate_pair_factor"] = self.pair_factor
        return out


def coarse_mesh(t, uniform_only):
    """(coarse mesh, fine indices of its points) for the half-steps companion, or None.

    Every other point; with an odd number of steps the last coarse interval is the last fine
    one (non-uniform methods) or the last fine point is left out (uniform-only methods)."""
    N = len(t) - 1
    if N < 2:
        return None
    idx = np.arange(0, N + 1, 2)
    if N % 2:
        if not uniform_only:
            idx = np.append(idx, N)
    return t[idx], idx


#: :func:`pair_factor` applies from this factor on (a mesh of near-equal step pairs is left
#: to the Richardson factor 1 / (2^p - 1) of the uniform mesh, bit for bit).
PAIR_FACTOR_MIN = 1.5
#: A given mesh whose :func:`worst_pair_factor` reaches this is checked against the refined
#: companion (every step bisected) instead of the half-steps one.
WORST_PAIR_MAX = 4.0


def pair_factor(t, order, skip=None):
    """How many times the half-steps companion's difference underestimates the error on a mesh
    whose step pairs are not two halves of the companion's steps: F (2^p - 1), with

        F = sum_i (a_i^(p+1) + b_i^(p+1)) / sum_i ((a_i + b_i)^(p+1) - a_i^(p+1) - b_i^(p+1))

    over the pairs of steps (a_i, b_i) that the companion merges (local errors C h^(p+1): the
    solution's error over the companion's difference, each pair weighted by its size; 1 for
    equal halves, more where a pair's steps differ).  A mesh of steps alternating 1 and 10
    gives 188 for p = 8: each of the companion's steps all but repeats a long step of the
    solution, and gauss4 on cos 30 t, 16 steps, was a success with error 0.082 for an
    estimate of 6.1e-4.  A graded mesh's unequal pairs are its tiny first ones, which weigh
    nothing here.  ``skip``: steps whose pairs are left out (:func:`hiding_steps`, which
    :func:`local_refined_check` estimates)."""
    return _pair_ratio(t, order, np.sum, skip)


def worst_pair_factor(t, order):
    """The largest factor by which one pair of neighbouring steps of ``t`` (merged by the
    half-steps companion) hides its error from that companion, against the largest error the
    companion sees of any pair:

        R = (2^p - 1) max_i (a_i^(p+1) + b_i^(p+1)) / max_i ((a_i + b_i)^(p+1) - a_i^(p+1)
        - b_i^(p+1)),

    1 on a uniform mesh, near 1 on a smoothly graded one (a graded mesh's unequal first pairs
    are short and weigh nothing), and about 2^p where a long step is paired with a tiny one:
    the companion's step then all but repeats the solution's, their difference misses the
    error made there, and :func:`pair_factor`, an average over all pairs, does not restore
    it where that error dominates (y = 1 - 50 int y on [0, 1] with 13 steps and a first step
    of 1e-9: gauss4 was a success with the error 8.1e-3 at t = 0.15 for an estimate of
    1.4e-5, radau3 3.9e-2 for 3.7e-4)."""
    return _pair_ratio(t, order, np.max)


def _pair_terms(t, order):
    """(a^(p+1) + b^(p+1), (a + b)^(p+1) - a^(p+1) - b^(p+1)) for each pair of steps (a, b) of
    ``t`` that the half-steps companion merges, the steps scaled by the largest of them: each
    pair's own error and the difference that companion sees of it; None under 2 steps."""
    h = np.diff(t)
    n = len(h) // 2 * 2
    if n < 2:
        return None
    p1 = order + 1.0
    h = h / np.max(h[:n])
    a, b = h[0:n:2], h[1:n:2]
    fine = a ** p1 + b ** p1
    return fine, (a + b) ** p1 - fine


def _pair_ratio(t, order, reduce, skip=None):
    """(2^p - 1) ``reduce``(a^(p+1) + b^(p+1)) / ``reduce``((a + b)^(p+1) - a^(p+1) - b^(p+1))
    over the pairs of steps (a, b) of ``t`` that the half-steps companion merges
    (:func:`pair_factor`: the sum, :func:`worst_pair_factor`: the largest), but the pairs of
    the steps ``skip`` (:func:`hiding_steps`) in the numerator: their error is estimated
    otherwise (:func:`local_refined_check`), the companion's difference still sees them."""
    terms = _pair_terms(t, order)
    if terms is None:
        return 1.0
    fine, seen = terms
    seen = float(reduce(seen))
    if not seen > 0.0:
        return math.inf
    if skip is not None and len(skip):
        # (the error of the other pairs against the difference the companion sees of all)
        kept = np.ones(len(fine), dtype=bool)
        kept[skip[skip < 2 * len(fine)] // 2] = False
        fine = fine[kept]
        if not fine.size:
            return 1.0
    return float(reduce(fine)) / seen * _two_to_minus_one(order)


#: A half-steps estimate (on a mesh that :func:`worst_pair_factor` leaves to that companion)
#: is made again with the refined companion where :func:`hidden_pair_error` exceeds this
#: times its largest estimate (half of ``_tolerance.HONEST``: the bar an honest estimate
#: meets, with a factor 2 to spare).
HIDDEN_PAIR = 10.0

#: The longest path of the Jacobian's links (components feeding each other) along which
#: :func:`rounding_floor` carries a component's rounding into another's floor (a chain of
#: CHAIN_LINKS + 1 components; a VIDE's memory term is a link of its own between two).  The
#: links stop where no pair is first reached (a system's longest shortest path, 1 for a
#: dense J): a bound on the cost for chains alone, each link m^3 (8 was a bar chains of 10
#: and 12 components passed, their last ones' errors 90 to 290 times their estimates).
CHAIN_LINKS = 128


def hidden_pair_error(t, Y, result):
    """The largest error that one pair of unequal steps of ``t`` hides from the half-steps
    companion, as the differences of the solution ``Y`` on ``t`` and that companion (of
    ``result``, :func:`estimate_error`'s) measure it: over the pairs (a, b) that the
    companion merges (common points k - 1 and k),

        max_k G_k (a^(p+1) + b^(p+1)) / ((a + b)^(p+1) - a^(p+1) - b^(p+1)),

    with G_k = max(0, |D_k| - |D_(k-1)|) the growth of the difference D of the two solutions
    over the pair (its largest component; the local error the companion sees there, where
    what came before does not grow) and p the order the estimate of ``result`` assumes.
    :func:`worst_pair_factor` compares a pair's error with the largest the companion sees of
    any pair, as if the local error constant were the same everywhere; at a stiff start it
    is orders of magnitude larger over the first steps, and a moderately unequal pair there
    (worst pair factor below WORST_PAIR_MAX) hid an error the estimate missed
    (``solve_vide`` of y' = -50 y on 13 random steps over [0, 1], gauss4: an error of 1.1e-4
    at t = 0.12, where the steps 0.005 and 0.091 are a pair, for an estimate of 1.0e-6; this
    measure: 1.3e-4).  0 where ``result`` has no half-steps companion's values."""
    return _finite_max(_hidden_by_pair(t, Y, result)[1])


def _hidden_by_pair(t, Y, result):
    """(the first steps of the pairs the half-steps companion of ``result`` merges, the error
    each hides: :func:`hidden_pair_error`'s terms)."""
    none = (np.zeros(0, dtype=np.intp), np.zeros(0))
    if result.values is None or result.common is None or len(result.common) < 2:
        return none
    idx = result.common
    size = _row_max(np.abs(Y[idx] - result.values[:len(idx)]))
    growth = np.maximum(size[1:] - size[:-1], 0.0)
    pairs = np.flatnonzero(np.diff(idx) == 2)
    if pairs.size == 0:
        return none
    h = np.diff(t)
    a, b = h[idx[pairs]], h[idx[pairs] + 1]
    longer = np.maximum(a, b)
    a, b = a / longer, b / longer
    p1 = (result.order if math.isfinite(result.order) else 1.0) + 1.0
    fine = a ** p1 + b ** p1
    seen = (a + b) ** p1 - fine
    with np.errstate(divide="ignore", invalid="ignore"):
        hidden = np.where(growth[pairs] > 0.0, growth[pairs] * fine / seen, 0.0)
    return idx[pairs], hidden


def hiding_pair_steps(t, Y, result):
    """The steps (both of each pair) of the pairs whose hidden error
    (:func:`hidden_pair_error`'s terms) exceeds HIDDEN_PAIR times the largest estimate of
    ``result``: where :func:`pair_hides_error`, the ones that do."""
    first, hidden = _hidden_by_pair(t, Y, result)
    with np.errstate(invalid="ignore"):
        first = first[hidden > HIDDEN_PAIR * _finite_max(result.estimate)]
    return np.sort(np.concatenate([first, first + 1])).astype(np.intp)


def hiding_steps(t, order):
    """The steps (indices into ``np.diff(t)``) of the pairs that the half-steps companion merges
    whose own error is at least WORST_PAIR_MAX times the largest error that companion sees of
    any pair (:func:`worst_pair_factor`, pair by pair): both steps of each such pair."""
    terms = _pair_terms(t, order)
    if terms is None:
        return np.zeros(0, dtype=np.intp)
    fine, seen = terms
    seen = float(np.max(seen))
    if not seen > 0.0:
        pairs = np.arange(len(fine))
    else:
        pairs = np.flatnonzero(fine * _two_to_minus_one(order) >= WORST_PAIR_MAX * seen)
    return np.sort(np.concatenate([2 * pairs, 2 * pairs + 1])).astype(np.intp)


def local_refined_check(run, t, Y, order, result, steps, uncheck_on_failure=True):
    """Raise the estimates of ``result`` (of the solution ``Y`` on ``t``, a first-kind one:
    each value made by its own step) with a companion on ``t`` with the ``steps`` bisected
    (:func:`hiding_steps`: the steps whose error the half-steps companion cannot see): at
    every point, 2^p |y - y_local| / (2^p - 1), with p the order ``result`` assumes (at most
    the method's ``order``); the solution is "unresolved" from the first point where the two
    differ by more than UNRESOLVED times its size so far, and "unchecked" from where that
    solve fails (``uncheck_on_failure``).  Returns the kernel evaluations.  A solve on N + k
    steps (k = ``len(steps)``), about the solve's work, where the solve with every step
    bisected (the refined companion, with its third level on every step bisected twice)
    costs some 20 times it."""
    n_points = len(t)
    if len(steps) == 0 or n_points < 2:
        return 0
    split = np.zeros(n_points - 1, dtype=bool)
    split[steps] = True
    mids = 0.5 * (t[:-1] + t[1:])
    pieces = [np.array([t[j], mids[j]]) if split[j] else t[j:j + 1] for j in range(n_points - 1)]
    mesh = np.concatenate(pieces + [t[-1:]])
    where = np.searchsorted(mesh, t)             # (the solution's points in that mesh)
    Yl, status, index, calls = run(mesh)
    valid = len(mesh) if status == 0 else int(index)
    reached = int(np.searchsorted(where, valid))  # (the solution's points it reached)
    q = result.order if math.isfinite(result.order) else float(order)
    q = min(q, float(order))
    if reached >= 2:
        idx = np.arange(reached)
        diff = np.abs(Y[idx] - Yl[where[idx]])
        est = result.estimate
        est[idx] = np.fmax(est[idx], diff * (2.0 ** q) / _two_to_minus_one(q))
        bad = _first_unresolved(Y, idx, diff)
        if bad is not None and (result.first_bad is None or bad[0] < result.first_bad):
            first, _, worst, size = bad
            result.first_bad, result.reason, result.keep = first, "unresolved", first
            result.disagreement, result.size, result.converging = worst, size, True
    if status != 0 and uncheck_on_failure and reached < n_points:
        _unchecked_from(result, max(reached, 1), max(reached, 1))
    return calls


def pair_hides_error(t, Y, result):
    """Whether :func:`hidden_pair_error` exceeds HIDDEN_PAIR times the largest estimate of
    ``result`` (never on a uniform mesh: an equal pair's measure is the growth of the
    difference over it / (2 (2^p - 1)), at most half the Richardson estimate there)."""
    return hidden_pair_error(t, Y, result) > HIDDEN_PAIR * _finite_max(result.estimate)


def with_pair_factor(result, Y, factor):
    """``result`` (of :func:`estimate_error` on a mesh with :func:`pair_factor` ``factor``)
    with its estimates multiplied by it, and not confirmed from the first point where an
    estimate exceeds UNRESOLVED times the solution's size so far (no reliable digit)."""
    result.pair_factor = factor
    est = result.estimate = result.estimate * factor
    size = np.maximum.accumulate(_row_max(np.abs(Y)))
    worst = _row_max(est[:len(size)])
    resolved = ~(worst > UNRESOLVED * size)     # (NaN: no estimate, left to the companion)
    if not _all(resolved):
        j = int(np.argmin(resolved))
        first = max(j, 1)
        if result.first_bad is None or first < result.first_bad:
            result.first_bad, result.reason, result.keep = first, "unresolved", first
            result.disagreement, result.size = float(worst[j]), float(size[j])
            result.converging, result.by_pairs = True, True
    return result


def rounding_floor(Y, t=None, jacobian=None, halves=None, growth=None, weights=None):
    """The rounding error a solution ``Y`` (N+1, d) on N steps can carry: sqrt(N) eps times
    its size so far (the largest |y| up to each point), per point and component, the least
    error estimate that is honest.  Richardson differences of two solutions at the rounding
    level say nothing about it (they are the difference of two roundings): ``solve_vide`` of
    y' = -y, y0 = 1e5, gauss4, had estimates of 0.015 to 0.05 eps |y| where its errors were
    0.7 (16 steps) to 8.6 eps |y| (1024 steps; 2.6 to 25 eps |y| for y' = -int y, y0 = 1e5,
    errors that grow about as sqrt(N)): on 256 steps 4.0e-13 for an error of 7.8e-11.  Each
    component its own size: a floor from the largest one is a bar the small ones cannot meet
    to a tolerance of their own (y = (1e5 + int 2e-11 ds, 1 - int y2), gauss2 at rtol = atol
    = 1e-10 on 46 steps: the second component's floor would be 1.5e-10 from the first's
    1e5, over its tolerance 1.4e-10, where its error, 1.15e-10, is the steps', which its own
    estimate holds).

    With the mesh ``t`` and ``jacobian`` J (rows J[i][j] = dK_i / dy_j at the start, or the
    largest |dK_i / dy_j| of a few points of the mesh, :func:`._outcome.with_rounding_floor`; a
    list of rows, an array or None), component i's floor also carries the rounding that the
    others feed it, (t - t0) sum_(j != i) |J_ij| floor_j: y = (1e5 + int 2e-11 ds,
    int (y1 - 1e5) ds), gauss2 at atol = (1e-6, 1e-14) on 10 steps, y2 = 1e-11 t^2 had an
    error of 1.6e-12, y1's rounding integrated, for a floor of its own of 1e-27.  And the
    rounding fed along a chain,
    [|J|^k]_ij F_k(floor_j) for the paths of k links from j to i that no shorter path links,
    F_k the k-fold integral over [t0, t] (as right sums; (t - t0)^k / k! floor_j for a
    constant floor, less for a growing one; up to CHAIN_LINKS, and m - 1 for J m x m: a
    chain without a loop; |J| without its diagonal): y3 = int y2 ds beside that pair, gauss2
    and radau3 to atol = (1e-6, 1e-6, 1e-14) were successes with y3's errors 6.8e-13, 50
    times the tolerance, its floor y2's own, 1e-27, carried.  (Longer paths between linked
    components, around a loop, are left out: |J|^k of a rotation, y' = M y or y = y0 +
    int M y ds with M 3 x 3 skew, on [0, 30] at rtol = atol = 1e-12, raised the floor to
    2.6-4.1 times the error and failed successes within 0.64 and 0.99 of their tolerance;
    and (t - t0)^k / k! times the floor so far, for F_k, failed a VIDE with memory whose
    solution grows to 8e10, a success within 0.17 of rtol = atol = 1e-10.)  J may also be
    2d x 2d, a VIDE's [[df/dy, df/dz], [dK/dy, 0]] (:func:`._vide._coupled_jacobian`; its z
    carries no floor of its own, the rounding it feeds y is the y's it integrated):
    y1' = 2e-11, y1(0) = 1e5, y2' = int (y1 - 1e5) ds to atol = (1e-6, 1e-13 or 1e-14),
    gauss2 and radau3, were successes with y2's errors 33 to 333 times its tolerance (no
    coupling for that J).  No coupling where J is not finite or of another shape.
    ``halves`` = (k, J_1), a |J| bound over the mesh points up to k (of J's shape, at most |J|):
    the first link's (t - t0) |J_ij| is then (t - t0) [J_1]_ij up to t_k, (t_k - t0) [J_1]_ij
    + (t - t_k) |J_ij| after it (the chains' links take J).  ``growth``, G (N+1,): the
    e-folds of the linearised problem's growth from t0 to each point (the integral of its
    rate, :func:`._outcome._growth`): the floor is then at least eps sqrt(sum_(1 <= l <= n) |y_l|^2
    e^(2 (G_n - G_l))), the roundings made at each t_l grown to t_n as a random walk (at most
    sqrt(N) |y| so far: no digit); sqrt(N) eps max_(l <= n) |y_l| e^(G_n - G_l), every
    rounding the largest grown, was 360 to 980 times the error of the renewal equations
    y = 1e5 + 2e-11 t + int k(t - s) (y - 1e5) ds, k = u or u^2 on [0, 10], on 16 or 64
    steps, and failed their successes to rtol = atol = 1e-10 (errors up to 0.52 times the
    tolerance, the floor 1.7 times).

    ``weights`` = (hi, lo), d positive entries each (the Perron vectors of a nonnegative
    memory whose rate is ``growth``'s, :func:`._outcome._perron_envelope`): the coupling's
    floor is then at most hi_i times the floor of max_j |y_j| / lo_j with the growth, every
    rounding weighed in the growing mode's units and carried by it (the coupling's sum on top
    of a growth that is the coupled system's counts it twice: y = g + int 2 e^(-(t - s))
    A (y - 1e5) ds, A = [[0.6, 0.4], [0.3, 0.7]] on [0, 10], the growth e^t, had floors 9
    times the scalar mode's, 430 to 1600 times the errors on 64 steps, and every method
    failed at rtol = atol = 1e-10 with errors ~1e-2 of it).  Only for J d x d with growth."""
    n = max(Y.shape[0] - 1, 1)
    if growth is not None and len(growth) == len(Y) and len(Y) > _FLOOR_BLOCK:
        floor = _grown_floor(Y, np.asarray(growth, dtype=float), n)
    elif growth is not None and len(growth) == len(Y) and len(Y) > 2:
        size = np.maximum.accumulate(np.abs(Y), axis=0)
        floor = math.sqrt(n) * _EPS * size
        # (the roundings made at each point grown to t_n, as a random walk: sqrt(sum_(l <= n)
        # |y_l|^2 e^(2 (G_n - G_l))) eps, in logarithms; at most sqrt(N) |y| so far)
        G = np.asarray(growth, dtype=float)
        with np.errstate(divide="ignore"):
            walk = 2.0 * (np.log(np.abs(Y)) - G[:, None])
            if walk.shape[1] == 1:     # (one column at once, the same values: the inner
                # loop called a point at a time took 20 ms at N = 2^18, 17 so)
                walk = np.logaddexp.accumulate(walk[:, 0])[:, None]
            else:
                walk = np.logaddexp.accumulate(walk, axis=0)
            walk[0] = -np.inf                   # (y(t0) given: no rounding)
            grown = np.exp(np.minimum(G[:, None] + 0.5 * walk + math.log(_EPS),
                                      np.log(math.sqrt(n) * size)))
        floor = np.fmax(floor, grown)
    else:
        floor = math.sqrt(n) * _EPS * np.maximum.accumulate(np.abs(Y), axis=0)
    d = Y.shape[1]
    if t is None or jacobian is None or d < 2:
        return floor
    A = np.abs(np.array(jacobian, dtype=float))
    m = A.shape[0] if A.ndim == 2 else 0
    if A.shape != (m, m) or m not in (d, 2 * d) or not np.all(np.isfinite(A)):
        return floor
    np.fill_diagonal(A, 0.0)
    span = np.abs(np.asarray(t, dtype=float) - t[0])[:, None]
    A1 = None if halves is None else np.abs(np.array(halves[1], dtype=float))
    if A1 is not None and A1.shape != A.shape:
        return floor
    if A1 is not None:
        np.fill_diagonal(A1, 0.0)
    if A1 is None or np.array_equal(A1, A):
        first = span * (floor @ A[:d, :d].T)
    else:                  # (the first link's coupling integrated over the two halves)
        before = np.minimum(span, span[halves[0]])
        first = before * (floor @ A1[:d, :d].T) + (span - before) * (floor @ A[:d, :d].T)
    if m == 2:            # (one link: the pair's)
        return _weighed(floor + first, Y, growth, weights, m)
    h = np.diff(np.asarray(t, dtype=float)[:len(Y)])[:, None]
    out, power, fed = floor + first, A, _integrated(floor, h)
    linked = np.eye(d, dtype=bool) | (A[:d, :d] > 0.0)  # (the pairs a shorter path links)
    reached = np.eye(m, dtype=bool) | (A > 0.0)   # (also through a VIDE's z)
    for _ in range(2, min(m, CHAIN_LINKS + 1)):
        power = A @ power                   # (the paths of k links)
        new = (power > 0.0) & ~reached
        if not np.any(new):     # (no pair first reached by k links: none by more; a chain's end)
            break
        reached |= new
        fed = _integrated(fed, h)          # (its k-fold integral)
        links = np.where(linked, 0.0, power[:d, :d])    # (y to y; a VIDE's z between)
        if np.any(links):
            out += fed @ links.T
            linked |= links > 0.0
            if linked.all():                # (every pair linked: no new path)
                break
    return _weighed(out, Y, growth, weights, m)


def _weighed(out, Y, growth, weights, m):
    """:func:`rounding_floor`'s coupled floor ``out`` (N+1, d) of ``Y``, at most the Perron
    floor hi_i F(max_j |y_j| / lo_j) (F the floor of that one column with ``growth``) where
    ``weights`` = (hi, lo) fits (d positive finite entries each, J d x d: m = d, and a growth
    of Y's length); ``out`` as it is otherwise."""
    d = Y.shape[1]
    if weights is None or growth is None or m != d or len(growth) != len(Y):
        return out
    hi, lo = (np.asarray(v, dtype=float) for v in weights)
    if hi.shape != (d,) or lo.shape != (d,) or not (np.all(np.isfinite(hi)) and
                                                    np.all(np.isfinite(lo)) and
                                                    np.all(lo > 0.0)):
        return out
    scaled = np.max(np.abs(Y) / lo, axis=1)[:, None]
    perron = rounding_floor(scaled, growth=growth) * hi
    return np.fmin(out, perron)


#: :func:`rounding_floor` with a growth takes the points of a longer solution this many at a
#: time (:func:`_grown_floor`).
_FLOOR_BLOCK = 8192


def _grown_floor(Y, G, n):
    """:func:`rounding_floor`'s floor with the growth ``G`` (N+1,) of a solution ``Y`` (N+1,
    d), n = N, by blocks of _FLOOR_BLOCK points, the same values: the running maximum and
    the walk's accumulation carried from block to block (the walk's the last value before
    the block, accumulated on from it as along the whole), every other operation by point.
    Arrays of the mesh's size are new pages each: at N = 2^18 the dozen of the whole took
    ~60 ms, most of it page faults."""
    out = np.empty(Y.shape)
    root, low = math.sqrt(n), math.log(_EPS)
    size = walk = None
    with np.errstate(divide="ignore"):
        for a in range(0, len(Y), _FLOOR_BLOCK):
            b = min(a + _FLOOR_BLOCK, len(Y))
            sizes = np.maximum.accumulate(np.abs(Y[a:b]), axis=0)
            if size is not None:
                np.maximum(sizes, size, out=sizes)
            size = sizes[-1].copy()
            g = G[a:b, None]
            steps = 2.0 * (np.log(np.abs(Y[a:b])) - g)
            if walk is not None:
                steps = np.concatenate([walk[None], steps])
            if steps.shape[1] == 1:
                steps = np.logaddexp.accumulate(steps[:, 0])[:, None]
            else:
                steps = np.logaddexp.accumulate(steps, axis=0)
            if walk is not None:
                steps = steps[1:]
            walk = steps[-1].copy()
            if a == 0:
                steps[0] = -np.inf                  # (y(t0) given: no rounding)
            grown = np.exp(np.minimum(g + 0.5 * steps + low, np.log(root * sizes)))
            np.fmax(root * _EPS * sizes, grown, out=out[a:b])
    return out


def _integrated(f, h):
    """int_t0^t f ds on the mesh of steps ``h`` (N, 1) for ``f`` (N+1, d), as its right sums
    sum_(l <= n) h_l f(t_l) (0 at t0): at least the integral of an ``f`` nondecreasing."""
    out = np.zeros_like(f)
    np.cumsum(h * f[1:], axis=0, out=out[1:])
    return out


def refined_mesh(t):
    """The mesh with every interval bisected (fine point j is refined point 2 j)."""
    out = np.empty(2 * len(t) - 1)
    out[0::2] = t
    out[1::2] = 0.5 * (t[:-1] + t[1:])
    return out


def _spread(common_idx, common_est, n_points, d, every_other=False):
    """Estimates at every point: exact at the common points, the larger neighbour elsewhere
    (points before the first or beyond the last common point take its estimate).  In O(N):
    a binary search for the neighbours of every point took 3 ms at N = 2^16.  ``every_other``:
    the common points are 0, 2, 4, ... (the half-steps companion's): the same values with
    strided slices (np.repeat and its counts cost more than the rest at small N)."""
    est = np.empty((n_points, d))
    first, last = common_idx[0], common_idx[-1]
    if every_other:
        est[0:last + 1:2] = common_est
        np.maximum(common_est[:-1], common_est[1:], out=est[1:last:2])
        est[last + 1:] = common_est[-1]
        return est
    est[:first] = common_est[0]
    est[first:last] = np.repeat(np.maximum(common_est[:-1], common_est[1:]),
                                common_idx[1:] - common_idx[:-1], axis=0)
    est[last:] = common_est[-1]
    est[common_idx] = common_est
    return est


def _over_crossings(common_est, signed):
    """``common_est`` (estimates at the common points, from the differences ``signed`` of the
    two solutions there) raised where the difference changes sign: both points of every
    neighbouring pair whose differences have opposite signs take the larger of their two
    estimates, and a point after the first whose difference is exactly zero, or whose
    estimate is TOUCH times below both its neighbours' (the difference nears zero, or crosses
    it twice, between them), the larger of its neighbours'; the last two points, where their
    differences have opposite signs and both estimates are TOUCH times below the one before
    them, that one's (the pair's one neighbour, as a touch's two: the difference crosses zero
    in the last interval, and the end has no point beyond to show it rise again; rk4 to
    rtol = atol = 1e-6 on a kink of K in s, 150 steps: the error carried from the steps
    before the kink, 2.5e-7, and the difference of the companion, whose longer steps after
    the kink made errors that cancel its own carried one, falling from 1e-6 to 6e-8 and
    1.3e-7 of the other sign at the last two points: estimates of 7e-9 and 9e-9, 34 times
    below the error, the one before 4.7e-8); the last point, whose estimate (as
    raised) is TOUCH times below its one neighbour's (as raised), that one's.  The difference
    is c(t) h^p plus terms of higher order; where c(t) crosses zero the difference passes
    through zero between two points while the error, made of the higher-order terms there,
    does not: the point next to the crossing got an estimate far below its error (radau2,
    renewal equation on [0, 20] at rtol = atol = 1e-3: 1.6e-7 for an error of 5.4e-6, its
    neighbours 9.0e-6 and 1.4e-5; the rectangle rule on y = (cos t, sin t), 16 steps: 0 at
    t = 0.25 for an error of 2.6e-3, the two solves' second component both h sum y_1 there;
    gregory6 on y = cos t, 16 steps: 2.1e-9 at t = 1 for an error of
    6.9e-8, its neighbours 2.8e-8 and 4.0e-8; gauss3 to rtol = atol = 1e-3 on an oscillating
    y = p0 + A e^(p1 t) cos 20t over [0, 10], 80 steps: 4.3e-5 at the end for an error of
    1.8e-3, its neighbour 2.9e-6 raised to 5.5e-4: the difference nears zero there, and the
    end has no neighbour beyond to show it).  Returns ``common_est`` itself where nothing
    is raised.

    A value's lift depends on its two neighbours alone (the last two's on the three before
    the last): long arrays are lifted a block of rows at a time (:func:`_block_rows`), each
    block with the rows beside it (two before the last block, which also gives the row before
    it), the same floats without full-length
    temporaries (at N = 2^18 these were ~2000 fresh pages, 5-10 ms a call, at the rounding
    level's differences, whose signs flip at every fourth point)."""
    m = len(signed)
    rows = _block_rows(signed)
    if m <= rows:
        return _lifted_block(common_est, signed)[0]
    out = None
    for a in range(0, m, rows):
        b = min(a + rows, m)
        # (the block and the rows beside it; two before it for the last block, whose last
        # row, the last of all, is compared with the lifted row before it)
        lo, hi = max(a - (1 if b < m else 2), 0), min(b + 1, m)
        part, lifted = _lifted_block(common_est[lo:hi], signed[lo:hi], b == m)
        if lifted:
            if out is None:
                out = common_est.copy()
            # (the last block's also the row before it, which the last pair's lift can raise)
            c = a - 1 if b == m and a > 0 else a
            out[c:b] = part[c - lo:b - lo]
    return common_est if out is None else out


#: Elements (rows times components) of the blocks in which :func:`_over_crossings` and
#: :func:`none_over_size` treat long arrays: a block's temporaries (64 kB a float array) stay
#: in the allocator's heap and the cache, where full-length ones of N = 2^18 points are
#: mapped afresh at each call and fault in every page.
BLOCK_ELEMENTS = 8192


def _block_rows(a):
    """The rows of ``a`` (n, d) in a block of :data:`BLOCK_ELEMENTS` (at least one)."""
    return max(BLOCK_ELEMENTS // max(a.shape[1], 1), 1) if a.ndim == 2 else BLOCK_ELEMENTS


def _lifted_block(common_est, signed, last=True):
    """(:func:`_over_crossings` of the rows ``common_est``, ``signed``, whether any value was
    lifted), as if they were all the rows: the values of all but their first and last row are
    the ones those take among all rows (their first row's too where it is the first of all,
    their last's where it is the last, ``last``, and the row before it is not their first but
    where that is the first of all; with ``last``, the row before that one's too, where it is
    not their first)."""
    below, above = signed < 0.0, signed > 0.0       # (both False for NaN and for a zero)
    flip = below[:-1] & above[1:] | above[:-1] & below[1:]
    zero = signed[1:] == 0.0
    if len(signed) > 2:     # (a touch: below both neighbours by TOUCH; False for NaN)
        zero[:-1] |= TOUCH * common_est[1:-1] < np.minimum(common_est[:-2], common_est[2:])
    flipped, zeros = flip.any(), zero.any()
    # (the last two of all of opposite signs, both TOUCH below the one before them: the
    # difference crosses zero in the last interval, and no point beyond shows it rise again)
    tail = None
    if last and flipped and len(signed) > 2:
        tail = flip[-1] & (TOUCH * np.maximum(common_est[-1], common_est[-2]) < common_est[-3])
        tail = tail if tail.any() else None
    # (the last of all: TOUCH below its one neighbour, as both are raised; unraised here)
    end = last and len(signed) > 1 and bool((TOUCH * common_est[-1] < common_est[-2]).any())
    if not (flipped or zeros or end):
        return common_est, False
    out = common_est.copy()
    if flipped:
        pair = np.maximum(common_est[:-1], common_est[1:])
        np.copyto(out[:-1], pair, where=flip)
        np.maximum(out[1:], pair, out=out[1:], where=flip)
    if zeros:       # the larger neighbour of the points 1 .. m - 1 (the last: its left one)
        neighbour = common_est[:-1].copy()
        np.maximum(neighbour[:-1], common_est[2:], out=neighbour[:-1])
        np.maximum(out[1:], neighbour, out=out[1:], where=zero)
    if tail is not None:    # (the pair's one neighbour, as a touch's: see _over_crossings)
        np.maximum(out[-2:], common_est[-3], out=out[-2:], where=tail)
    if last and len(signed) > 1:
        np.maximum(out[-1:], out[-2:-1], out=out[-1:], where=TOUCH * out[-1:] < out[-2:-1])
    return out, True


class _Sizes:
    """The size of a solution at each point, ``rows`` = max_a |Y[i, a]| (free of NaN), and its
    running size (:func:`_running_size`), made on first use: the checks against the running
    size (:func:`_first_unresolved`, :func:`_first_diverging`) compare with ``rows`` first, a
    lower bound of it, and need the running maximum only where that comparison does not show
    the answer (np.maximum.accumulate costs ~3 ns a value, 0.2 ms at N = 2^16, more than the
    rest of these checks)."""

    __slots__ = ("_running", "rows")

    def __init__(self, rows):
        self.rows, self._running = rows, None

    def running(self):
        if self._running is None:
            self._running = np.maximum.accumulate(self.rows)   # (= _running_size(Y))
        return self._running


def _running_size(Y):
    """max_{j <= i} |Y_j| (the largest component) at every point i, NaN propagating."""
    return np.maximum.accumulate(_row_max(np.abs(Y)))


def _all(flags):
    """``flags.all()``: on a few values as a list (the reduction costs ~2 us, the list 0.2)."""
    return False not in flags.tolist() if flags.size <= 64 else bool(flags.all())


def _row_max(a):
    """np.max(a, axis=1), NaN propagating, column by column: numpy's reduction over a short
    last axis is slow (2.7 ms for N = 2^16 rows of 3, 0.1 ms this way)."""
    if a.shape[1] == 1:
        return a[:, 0]
    return functools.reduce(np.maximum, a.T) if a.shape[1] <= 16 else np.max(a, axis=1)


def _two_to_minus_one(q):
    """2^q - 1, the Richardson denominator, also for q near 0 (the order 1 - alpha of a weakly
    singular kernel with alpha near 1: 2.0 ** 1e-16 - 1 is 0, and the estimate was NaN)."""
    return math.expm1(q * math.log(2.0)) if q < 1.0 else 2.0 ** q - 1.0


def _first_unresolved(Y, common_idx, diff, size=None):
    """(first, keep, disagreement, size) at the first common point where the two solutions
    disagree by more than UNRESOLVED times the running size, or None.  ``first`` is that mesh
    index, ``keep`` the number of values before the common point ahead of it.  ``size``: the
    running size of ``Y`` (:func:`_running_size`) where the caller has it.

    The size at t0 is that of the first step, max(|y(t0)|, |y(t1)|): a value y(t0) that the
    solutions compute (first-kind equations: from the first step's collocation polynomial)
    has the error of that step, and where y(t0) = 0 its own size made every solve fail
    there (int_0^t y ds = 1 - cos t, radau2 and radau3 on 64 steps: "no reliable digits
    from t = 0", a difference of 4.9e-7 against a size of 7.1e-8; a solve to a tolerance
    refined to 16384 steps and failed too).  (A given y(t0) = g(t0) is the same in every
    solve: its difference is 0.)"""
    if isinstance(size, _Sizes):
        # (each difference within UNRESOLVED times its own point's size, a lower bound of the
        # running size, without NaN: within it of the running size too)
        if _all(_row_max(diff) <= UNRESOLVED * size.rows[common_idx]):
            return None
        size = size.running()
    if size is None:
        size = _running_size(Y)
    if len(size) > 1 and size[1] > size[0]:    # (the running size at t1: max(|y0|, |y1|))
        size = size.copy()
        size[0] = size[1]
    worst = _row_max(diff)
    scale = size[common_idx]
    resolved = worst <= UNRESOLVED * scale      # (False for NaN)
    if _all(resolved):
        return None
    k = int(np.argmin(resolved))
    return (int(common_idx[k]), int(common_idx[k - 1]) + 1 if k > 0 else 1, float(worst[k]),
            float(scale[k]))


def estimate_error(run, t, Y, order, uniform_only, min_steps, rate_min_steps=RATE_MIN_STEPS,
                   higher_order=False, rate_run=None, rate_factor=RATE_FACTOR, least_order=None,
                   odd_end=False, uncheck_on_failure=False, converging=False,
                   odd_points=False, drift=False, refined=False, start_exponent=None):
    """Estimate the error of the solution ``Y`` on the mesh ``t`` with a companion solve.

    Parameters
    ----------
    run : callable
        ``run(mesh) -> (Y, status, index, nfev)``: the same method, kernel and forcing on
        another mesh (status 0 on success; on failure the values before ``index`` are valid).
    t, Y : ndarray
        The mesh (N+1,) and the solution (N+1, d) to check.
    order : int
        The method's order at the mesh points.
    uniform_only : bool
        Whether the method needs a uniform mesh.
    min_steps : int
        The fewest steps the method accepts.
    rate_min_steps : int
        The fewest steps of the mesh of every fourth point on which the observed rate is
        measured (see the module docstring).
    higher_order : bool
        Where the observed rate r is above 2^p, estimate with the order log2 r, at most p + 1
        (error-controlled solves: on a few coarse steps the errors often fall faster than
        h^p, and the estimate with p was 4-7 times the error).
    rate_run : callable, optional
        ``run`` for the solve on every fourth point that measures the rate (default ``run``):
        error-controlled solves cap its Newton iterations, as for their exploratory solves (a
        mesh on which Newton needs more is too coarse for a rate; its failure only leaves the
        rate unknown).
    rate_factor, least_order : float
        The observed order replaces p where the rate is below 2^p / ``rate_factor`` (with
        ``converging``, below 2^p), and is taken as at least ``least_order`` (None: 1, or
        with ``converging`` LEAST_ORDER).  Weakly singular kernels use 1 and 1 - alpha
        (see :func:`estimate_options`).
    odd_end : bool
        With an odd number of steps, estimate the last value with a solve of its own (see
        :func:`_odd_end_check`) instead of leaving it the estimate of the last common point
        (the second kind, whose last value carries the error of every step before it).
    uncheck_on_failure : bool
        A companion or rate solve that fails (Newton's method, a non-finite value) at a time
        the solution passed leaves the solution unchecked from there (``reason``
        "unchecked", the values before the last common point ahead of it kept, with the
        estimates of the half-steps companion's part that finished): the method on the
        coarser mesh could not get past that time, and the solution's own values there
        are what is in doubt (a blow-up that the solution's steps jumped: radau2 on
        y = 1 + int 2 y^3 over [0, 0.5], blow-up at 0.25, was a success with y(0.5) = 15.6
        on 32 steps, whose half-steps companion failed at 0.25 and whose double-steps one
        jumped it too).  Solves on a given mesh use this; False (the drivers of a tolerance,
        which refine instead): a failed half-steps companion is replaced by the refined one
        and a failed rate solve only leaves the rate unknown.
    converging : bool
        Check that the solutions converge at all (solves on a given mesh): the solve on every
        fourth point is made on any mesh of at least one step (its rate sets the estimate's
        order only from ``rate_min_steps`` on: a coarser solution with no digit can agree
        with the companion by chance, cos 10 t on 3 steps of gauss4 against 6 and 12, where
        the order 1 it gave made an estimate of 0.5 for an error of 1.5e-4), or, where there
        is no such mesh (N = 2 or 3) or its solve failed, the solve with every step bisected,
        whose rate does set the order (a finer solution: rk4 on 2 steps ahead of a blow-up,
        the solutions on 1, 2 and 4 steps converge at the rate 1.2, and the estimate with
        the order 4 was 21 times below the error).  Where that mesh is a single step (N = 3
        or 4; methods that need a uniform mesh, N = 4 to 7), the solve with every step
        bisected is a level too, and its rate sets the order: a solution on one step is no
        evidence (radau2 on y = 1 + int 2 y^3 over [0, 0.5], t* = 0.25, 3 steps, was a success
        with y(0.5) = 4.70 and an estimate of 0.23: the solutions on 1, 2 and 3 steps, 2.44,
        4.48 and 4.70 there, converge at the rate 9.5, near 2^3, by chance, while the one on 6
        steps, 6.76, is further off; radau4 on cos 30 t, 3 steps: an error of 1.0 for an
        estimate of 0.47; rk4 on 3 steps ahead of a blow-up: the order 4 gave an estimate 15
        times below the error, the rate of the finer solve one equal to it).  From the first
        point where the differences of the three solutions do not fall as the steps shrink,
        the solution is "unresolved" (:func:`_first_diverging`); the estimate of a solution
        between two levels with an observed order below p is at least the finest pair's
        (:func:`_with_finest_pair`), and the last value of an odd number of steps, whose
        half-steps companion shares its last step, takes the estimate of the solve with every
        step bisected too.  Where the only companion is that solve (the mesh of every other
        point has fewer steps than the method takes), the solve with every step bisected twice
        is the third level: the same check, with the solution the coarsest, and its rate sets
        the order.  Differences that grow below LEAD_IN times the size are checked with a
        fourth level (:func:`_growth_level`).  A few steps that jump a
        blow-up (radau2 on y = 1 + int 2 y^3 over [0, 0.5], t* = 0.25, 2 to 12 steps:
        successes with y(0.5) = 3.8 ... 9.6 and estimates of 0.2-0.4), or that the rectangle
        rule takes through it (2 or 3 steps: y(0.5) = 3.2 and 5.3, the solutions on 1, 2, 4
        and 8 steps 2, 3.2, 10, 2e4), agree with their half-steps companion within half the
        size while the differences grow with every halving.  A failure of that solve on a mesh shorter
        than ``rate_min_steps`` leaves the check undone (on one or two steps, Newton's method
        often fails on smooth problems); the solve with every step bisected that fails where
        the solution passed leaves it "unchecked" from there.
    odd_points : bool
        Also estimate every odd point with a companion of its own (:func:`_odd_points_check`:
        the first kind, whose value at a point is made by its own step, so that an error
        there is not seen at the neighbours the half-steps companion compares).
    drift : bool
        (Solves to a tolerance on uniform refinements, which refine where a mesh is not
        confirmed.)  The solve on every fourth point is made on any mesh of at least the
        method's fewest steps (its rate sets the order only from ``rate_min_steps`` on), and
        from the first point where the differences of the three levels grow as the steps
        shrink above the rounding noise, the solution is "unresolved": levels that all miss
        a fast time scale agree while they drift apart (a VIDE y' = -1e7 y with gauss2 was
        accepted on 8 steps at rtol 1e-3 with y(1) = 1.0, e^-1e7 exact).  Not with
        ``least_order`` (a weakly singular kernel: on a few graded steps its solutions do not
        converge monotonically), nor the check of :func:`_growth_level`.
    refined : bool
        Compare with the solve on every interval bisected (the refined companion) instead of
        the one on every other point: a mesh with a pair of neighbouring steps that the latter
        would merge far from two halves (:func:`worst_pair_factor`), whose error there that
        companion cannot see.
    start_exponent : float, optional
        1 - alpha of a weakly singular kernel: the estimates of the first points of a graded
        mesh, whose coarser companion all but repeats their steps, are at least the first
        reliable ones' scaled by (t - t0)^(1 - alpha) (:func:`_graded_start_bound`).

    Returns
    -------
    Companion
    """
    n_points, d = Y.shape
    nfev = 0
    coarse = None if refined else coarse_mesh(t, uniform_only)
    tried_coarse = False
    if coarse is not None and len(coarse[0]) - 1 >= min_steps:
        tried_coarse = True
        tc, idx = coarse
        Yc, status, index, calls = run(tc)
        nfev += calls
        valid = len(tc) if status == 0 else index
        if status != 0 and uncheck_on_failure:
            return _failed_half_steps(Y, tc, idx, Yc, max(valid, 1), order, nfev)
        if status == 0:
            idx = idx[:valid]
            # (idx: every other point, and the last one when N is odd, see coarse_mesh)
            every_other = int(idx[-1]) == 2 * (len(idx) - 1)
            Yf = Y[:2 * len(idx) - 1:2] if every_other else Y[idx]   # (a view: the same values)
            # (converging: the rate also on meshes shorter than rate_min_steps, see above)
            small = (converging or drift) and (len(tc) - (1 if uniform_only else 0)) // 2 < \
                max(min_steps, rate_min_steps)
            # (on a given mesh, the rate at the points of halved steps only: not at a shared
            # last step, see _observed_rate)
            halving = (len(idx) if every_other else len(idx) - 1) if converging else None
            # (the estimates on floats, see _half_steps_few; else the running size of Y and the
            # differences at the common points, made once for the checks that read them)
            # (a first-kind companion that split steps at a kink of the data: see
            # split_companion_points)
            split = getattr(Yc, "split", None)
            split = split[:valid] if split is not None and split[:valid].any() else None
            few = every_other and d == 1 and n_points <= FEW and split is None
            size = None
            if d > 1 or n_points > FEW:
                rows = _row_max(np.abs(Y))
                # (the checks' shortcut needs sizes free of NaN: else the running size at once)
                size = _Sizes(rows) if rows.max() >= 0.0 else np.maximum.accumulate(rows)
            signed = diff = None
            bad = False
            # (a small mesh's rate sets no order, but says whether its levels show the order p:
            # Companion.unsettled)
            judged = small and converging and least_order is None
            rate, calls, rate_failed, levels = _observed_rate(
                rate_run or run, tc, Yc, Yf, uniform_only,
                max(min_steps, 1 if converging else min_steps if drift else rate_min_steps),
                halving, want_rate=judged or not (small and (converging or least_order is None)))
            nfev += calls
            if drift and least_order is None and rate is not None and levels is not None and \
                    rate >= 2.0 ** order / rate_factor and \
                    _largest_array_difference(Yc[levels[0]], levels[1]) > \
                    LEAD_IN * float(np.max(np.abs(Y))):
                # (a uniform refinement) the coarsest level has no confirmed digit (its
                # difference from the companion over LEAD_IN of the size): its rate says how fast
                # it nears the others, not that the finer two are at the order p (gregory6 on
                # y = p0 + A e^(p1 t) cos 20t at 1e-4: the errors on 80, 160, 320 steps 1.06,
                # 1.6e-2, 1.05e-3, the rate 72.9 of the three, 15 of the finer two; accepted on
                # 320 steps with an error 21 times the estimate, 3.8 times the tolerance): no
                # rate, which the refinement measures on a third level instead
                # (_tolerance._third_level_rate) or meets a stricter bar without
                rate = None
            unsettled = bool(judged and levels is not None and len(levels[0]) > SINGLE_STEP and
                             rate is not None and rate < 2.0 ** order / rate_factor)
            diverging = unchecked = finest = None
            if small:
                rate_failed = None   # (no evidence: Newton often fails on one or two steps)
            # (drift: not for a weakly singular kernel, ``least_order`` given, whose solutions on
            # a few graded steps do not converge monotonically; see estimate_options)
            drift = drift and least_order is None
            if levels is not None and (converging or drift):
                iq, Yq = levels
                if converging and d == 1 and n_points <= FEW:
                    # (:func:`_first_diverging`'s own path on floats, the points taken from
                    # lists: the same values, without indexing the arrays by rows, ~1 us each)
                    at, common = iq.tolist(), idx.tolist()
                    fine, middle = Yf[:, 0].tolist(), Yc[:, 0].tolist()
                    diverging = _first_diverging_few(
                        Y[:, 0].tolist(), [common[i] for i in at], [fine[i] for i in at],
                        [middle[i] for i in at], Yq[:, 0].tolist())
                else:
                    diverging = _first_diverging(Y, idx[iq], Yf[iq], Yc[iq], Yq, size=size) if \
                        converging else _drifting(Y, idx[iq], Yf[iq], Yc[iq], Yq,
                                                  _noise(n_points))
                if small:
                    rate = None  # (on so few steps: for the check only, see below)
            if converging and small and (levels is None or len(levels[0]) <= SINGLE_STEP):
                # no mesh of every fourth point, its solve failed, or it is a single step: the
                # one of every step bisected is the third level (too), and its rate sets the
                # order
                finer, rate, unchecked, calls, finest, level = _refined_level(
                    run, t, Y, idx, Yf, Yc[:valid], halving)
                nfev += calls
                if finer is not None and (diverging is None or finer[0] < diverging[0]):
                    diverging = finer
            if converging and rate is not None and levels is not None and not small:
                # the order of the values kept: the rate where the solutions still converge,
                # before the first point where they stop or disagree by more than UNRESOLVED
                # (the rectangle rule on y = 1 + int y^2 over [0, 2], 64 steps: 1.2 over all
                # points up to the blow-up, whose order raised the estimates of the values
                # before t = 0.875 to 3-4 times their errors and failed the solve at 0.72)
                if not few:
                    signed = Yf - Yc[:valid]
                    diff = np.abs(signed)
                    bad = _first_unresolved(Y, idx, diff, size)
                rate = _rate_before(Y, idx, Yf, Yc[:valid], levels, diverging, rate, halving,
                                    bad)
            q = _estimate_order(rate, order, rate_factor, least_order, higher_order, converging)
            if converging and least_order is not None and not small and (
                    levels is None or len(levels[0]) <= SINGLE_STEP):
                # (a weakly singular kernel: a rate from a solve on one step, whose error the
                # solution's (t - t0)^(1 - alpha) start makes, or none, is no evidence of the
                # order: the least one; radau4 on 4 graded steps, alpha = 0.3, y = 1 + t^0.7:
                # the solves on 1, 2 and 4 steps had errors of 1.4e-6, 2.9e-5 and 2.7e-5 at
                # t = 1, the rate 12.5 gave the order 3.64 and an estimate 139 times below
                # the error; with 1 - alpha, 7.6 times)
                q = float(least_order)
            if few:
                est, bad, unlifted = _half_steps_few(Y, Yf, Yc[:valid], _two_to_minus_one(q))
                result = _companion(est, bad, "half-steps", nfev, n_points)
                result.unlifted = unlifted
                result.agreement = lambda: _agreement(Y, idx, np.abs(Yf - Yc[:valid]))
            else:
                if signed is None:
                    signed = Yf - Yc[:valid]
                    diff = np.abs(signed)
                    bad = _first_unresolved(Y, idx, diff, size)
                common_est = diff / _two_to_minus_one(q)
                if split is not None:
                    common_est = split_companion_points(common_est, split)
                lifted = _over_crossings(common_est, signed)
                est = _spread(idx, lifted, n_points, d, every_other)
                result = _finish(Y, idx, diff, est, "half-steps", nfev, bad)
                if lifted is not common_est:
                    result.unlifted = _spread(idx, common_est, n_points, d, every_other)
            if converging and least_order is None and q < order and levels is not None and \
                    rate is not None and not small:
                # (below the order: at least the coarser pair's estimate, see the function)
                _with_coarser_pair(result.estimate, idx, Yc[:valid], levels, halving, rate, q,
                                   int(min_steps) if uniform_only and min_steps > 1 else 0)
            if finest is not None and q < order:
                # the estimate takes a lower observed order: the answer is a level between the
                # other two, and at least its difference from the finer one plus that one's
                # estimate (see _with_finest_pair)
                _with_finest_pair(result.estimate, Y, finest, Y, q)
            elif finest is not None and not every_other and len(finest) == n_points:
                # the last value of an odd number of steps, whose half-steps companion shares
                # its last step (no halving: the rate is not measured there): the bisected
                # solve's estimate too (rk4 on y = 1 + int 2 y^3 over [0, 0.24], 3 steps: the
                # rate 8.9 at t = 0.16; at t_N the error 0.71, the odd-end estimate 0.048,
                # the bisected one 0.51)
                _with_finest_pair(result.estimate[-1:], Y[-1:], finest[-1:], Y[-1:], q)
            if start_exponent is not None:
                _graded_start_bound(t, result.estimate, idx, float(start_exponent))
            if uniform_only and min_steps > 1 and not odd_points and least_order is None \
                    and every_other:
                # a direct rule's block start (Gregory): the companion's start block is not
                # always at the order p where the solution's is (_start_block_check)
                result.nfev += _start_block_check(run, t, Y, Yc[:valid], order, min_steps,
                                                  result)
            if split is not None:
                split_point_floor(result.estimate, t, Y, Yc)
            result.mesh, result.values, result.common = tc, Yc, idx
            result.rate, result.order, result.small = rate, q, bool(small and converging)
            result.unsettled = unsettled
            result.sizing = _two_to_minus_one(q) / _two_to_minus_one(order) if q < order else 1.0
            if rate_failed is not None and uncheck_on_failure:
                # the solve on every fourth point failed at its point rate_failed (> 0): the
                # order, and so the estimate, is not confirmed from there
                iq = coarse_mesh(tc, uniform_only)[1]
                _unchecked_from(result, int(idx[iq[rate_failed]]),
                                int(idx[iq[rate_failed - 1]]) + 1)
            if unchecked is not None:
                _unchecked_from(result, unchecked, unchecked)
            if diverging is not None:
                _unresolved_from(result, *diverging)
            # (the first common point's estimate far below the second's: a third level there;
            # not for direct rules nor weakly singular kernels, see start_refined_check)
            if not uniform_only and least_order is None and start_exponent is None and \
                    result.first_bad is None:
                result.nfev += start_refined_check(run, t, Y, idx, result.estimate, q, min_steps)
            # the fourth level where the three drift (not for a weakly singular kernel: see
            # drift above): the finest three are the solve with every step bisected, the
            # solution and its half-steps companion, or the solution and the two coarser ones
            q_args = (order, rate_factor, least_order, higher_order)
            if least_order is None and finest is not None:
                result.nfev += _growth_level(run, result, Y, level, 2 * idx, Yf, Yc[:valid],
                                             2, q_args)
            elif least_order is None and levels is not None and converging:
                result.nfev += _growth_level(run, result, Y, (t, Y), idx[levels[0]],
                                             Yc[levels[0]], levels[1], 1, q_args)
            if odd_points:
                result.nfev += _odd_points_check(run, t, Y, q, min_steps, result,
                                                 uncheck_on_failure)
            elif odd_end and (n_points - 1) % 2 == 1:
                result.nfev += _odd_end_check(run, t, Y, q, uniform_only, min_steps, result)
            return result
    # the refined companion: when the mesh is too coarse for a half-steps one, or it failed
    tr = refined_mesh(t)
    Yr, status, index, calls = run(tr)
    nfev += calls
    valid_fine = n_points if status == 0 else (index + 1) // 2   # fine j <-> refined 2 j
    if valid_fine < 1:
        return Companion(np.full((n_points, d), np.nan), 0, "unchecked", "none", nfev, keep=1)
    idx = np.arange(valid_fine)
    diff = np.abs(Y[idx] - Yr[2 * idx])
    q, third = float(order), None
    if converging and valid_fine >= 2:
        # a third level, the solve with every step bisected twice: the check that the three
        # converge (the solution is the coarsest), and its rate sets the order
        n_r = 2 * valid_fine - 1
        third = _refined_level(run, tr[:n_r], Yr[:n_r], 2 * idx, Yr[2 * idx], Y[idx])
        nfev += third[3]
        q = _estimate_order(third[1], order, rate_factor, least_order, higher_order, True)
    est = np.full((n_points, d), np.nan)
    est[idx] = diff * (2.0 ** q) / _two_to_minus_one(q)
    if third is not None and third[4] is not None and q < order:
        finest = third[4][0::2]                    # (at the solution's points it reached)
        _with_finest_pair(est, Y, finest, Yr[2 * idx[:len(finest)]], q)
    result = _finish(Y, idx, diff, est, "double-steps", nfev)
    if result.first_bad is None and valid_fine < n_points:
        result.first_bad, result.reason, result.keep = valid_fine, "unchecked", valid_fine
    if third is not None:
        result.rate = third[1]
        diverging, unchecked = third[0], third[2]
        if unchecked is not None:                  # (a point of tr: fine j <-> 2 j)
            _unchecked_from(result, (unchecked + 1) // 2, (unchecked + 1) // 2)
        if diverging is not None:
            first, keep, worst, size = diverging
            _unresolved_from(result, first // 2, (keep + 1) // 2, worst, size)
        if least_order is None:
            result.nfev += _growth_level(run, result, Y, third[5], 4 * idx, Yr[2 * idx], Y[idx],
                                         4, (order, rate_factor, least_order, higher_order))
    result.small = converging
    if tried_coarse and result.source == "double-steps":
        result.source = "double-steps (the half-steps companion failed)"
    result.order = q
    return result


def split_companion_points(common_est, split):
    """``common_est`` (the estimates at the half-steps companion's points) with those of the
    points whose companion step was solved in two parts (``split``, see
    :class:`._first_kind.SplitValues`) raised to the larger of their neighbours'.

    A first-kind companion splits a step over which the data have a kink at the solution's
    mesh point inside it (its error there would be O(h) or O(1) while the solution's, whose
    steps end at the kink, is not); the split step is then the solution's two steps, and the
    difference at its end, about 0, measures nothing.  The solution's error there is made by
    those two steps, on each of which the data are smooth, as at the points beside it."""
    out = common_est.copy()
    n = len(out)
    for i in np.nonzero(split[:n])[0]:
        beside = [j for j in (i - 1, i + 1) if 0 <= j < n and not split[j]]
        if beside:
            out[i] = np.fmax(out[i], np.max(common_est[beside], axis=0))
    return out


def split_point_floor(est, t, Y, Yc):
    """``est`` (the estimates of the solution ``Y`` on the mesh ``t``) raised in place, at the
    points that a first-kind companion ``Yc`` inserted into its steps (its ``reach``, see
    :class:`._first_kind.SplitValues`: each with the distance e within which a kink of g'
    could hide unseen), to the error such a kink would make there: the jump of the slope of
    ``Y`` at the point (one-sided slopes) times e.  A kink of y at a distance e before the
    point is inside the solution's step ending there (an error of about the slope's jump
    times e) and inside the split companion's alike (K = 1, y = |t - a|, a = 1/2 - 1e-8,
    radau2 on 100 steps: an error of 2e-8 for an estimate of 1.3e-13)."""
    reach = getattr(Yc, "reach", None)
    if reach is None:
        return
    for tp, e in zip(*reach):
        k = int(np.searchsorted(t, tp))
        if not (0 < k < min(len(t), len(est)) - 2 and t[k] == tp and e > 0.0):
            continue
        # (one-sided slopes: not across [t_k, t_k+1], over which a jump of y at t_k shows)
        slope = (Y[k + 2] - Y[k + 1]) / (t[k + 2] - t[k + 1]) - \
            (Y[k] - Y[k - 1]) / (t[k] - t[k - 1])
        np.fmax(est[k], np.abs(slope) * e, out=est[k], where=np.isfinite(slope))


def _unchecked_from(result, first, keep):
    """``result`` unchecked from the mesh index ``first`` on, ``keep`` values kept (unless it
    is already not confirmed from an earlier point)."""
    if result.first_bad is None or first < result.first_bad:
        result.first_bad, result.reason, result.keep = first, "unchecked", keep


def _failed_half_steps(Y, tc, idx, Yc, valid, order, nfev):
    """The :class:`Companion` of a half-steps companion (mesh ``tc``, its points ``idx`` in the
    solution's mesh) whose solve failed at its point ``valid`` (its values before are valid):
    the estimates of the common points before, and the solution unchecked from there on
    (see ``uncheck_on_failure`` in :func:`estimate_error`)."""
    n_points, d = Y.shape
    common = idx[:valid]
    diff = np.abs(Y[common] - Yc[:valid])
    est = _spread(common, diff / _two_to_minus_one(order), n_points, d)
    result = _finish(Y, common, diff, est, "half-steps", nfev)
    first = int(idx[valid]) if valid < len(idx) else n_points - 1
    _unchecked_from(result, first, int(common[-1]) + 1)
    result.mesh, result.values, result.common = tc[:valid], Yc[:valid], common
    result.order = float(order)
    return result


def _odd_end_check(run, t, Y, q, uniform_only, min_steps, result):
    """Estimate the last value of a solution on an odd number N of steps; returns the nfev.

    The half-steps companion has no point that pairs two steps ending at t_N: its last
    interval is the solution's last step (shared, so the two values at t_N differ only by
    what came before) or it stops at t_(N-1) (uniform-only methods).  Either way the last
    step's own error is not seen, and the last value took the estimate of t_(N-1): where
    the solution steepens (ahead of a blow-up) that step's error dominates (y = 1 + int y^2
    on [0, 0.875], gauss4, N = 7: an estimate of 1.2e-8 for an error of 1.5e-6).  So a second
    companion ends at t_N: the mesh of the points 0, 1, 3, ..., N (its first step shared, then
    pairs of steps; collocation) or, for methods that need a uniform mesh, the uniform mesh of
    (N + 1) / 2 steps, whose step is r = 2 N / (N + 1) times the solution's (Richardson with
    the ratio r: |y_N - y_r| / (r^q - 1)).  Its estimate at t_N replaces a smaller one; where it
    disagrees by more than UNRESOLVED times the solution's size, or its solve fails, the last
    value is not confirmed."""
    n = len(t) - 1
    if result.first_bad is not None and result.first_bad < n:   # not kept: nothing to check
        return 0
    if uniform_only:
        m = (n + 1) // 2
        if m < max(min_steps, 1):
            return 0
        tb = np.linspace(t[0], t[-1], m + 1)
        tb[-1] = t[-1]
        denominator = _two_to_minus_one(q * math.log2(2.0 * n / (n + 1)))
    else:
        tb = t[np.concatenate(([0], np.arange(1, n + 1, 2)))]
        if len(tb) - 1 < max(min_steps, 1):
            return 0
        denominator = _two_to_minus_one(q)
    Yb, status, _, calls = run(tb)
    size = float(np.max(np.abs(Y)))
    if status != 0:
        result.first_bad, result.reason, result.keep = n, "unchecked", n
        return calls
    diff = np.abs(Y[n] - Yb[-1])
    result.estimate[n] = np.maximum(result.estimate[n], diff / denominator)
    worst = float(np.max(diff))
    if not worst <= UNRESOLVED * size:
        result.first_bad, result.reason, result.keep = n, "unresolved", n
        result.disagreement, result.size = worst, size
    return calls


def _odd_points_check(run, t, Y, q, min_steps, result, uncheck_on_failure):
    """Estimate the odd points of a solution on N steps with a companion on the points 0, 1,
    3, 5, ... (and N; its first step is the solution's, then pairs of its steps, as in
    :func:`_odd_end_check`); returns its nfev.

    The half-steps companion compares the even points only, and an odd point takes the larger
    estimate of its two neighbours.  That holds where the error is carried from step to step
    (the second kind), not where a value is made by its own step alone: a first-kind value is
    (its error recursion is damped, rho_m = 0 for Radau IIA), and a step that misses something
    -- a jump of y (a kink of g) inside it, a K(t, t) near 0 -- had an error far above its
    neighbours' (radau3, K(t, t) = 0.01 + (t - 0.5)^2, 21 steps: 7.1e-3 at t = 13/21,
    1.8e-4 and 3.2e-4 at the even points beside it, estimates 2.8e-4; a jump of y: errors
    of 0.7-1.3 with estimates of 4e-3).  Here every odd point 2k + 1 >= 3 is also the end of
    a step twice as long, and |y_h - y_2h| / (2^q - 1) there (the half-steps companion's
    Richardson estimate, with its order q) raises its estimate; where the two differ by more
    than UNRESOLVED times the solution's size so far, the solution has no reliable digit from
    that point ("unresolved", the values before it kept); where the companion's solve fails,
    the solution is "unchecked" from that point (``uncheck_on_failure``; otherwise the
    points it did not reach keep the estimates they had).  Cost: a solve on about N / 2
    steps, a quarter of the solve's work for an O(N^2) method."""
    n = len(t) - 1
    if n < 3 or (result.first_bad is not None and result.first_bad <= 3):
        return 0
    idx = np.concatenate(([0], np.arange(1, n + 1, 2), [n] if n % 2 == 0 else []))
    idx = idx.astype(np.intp)
    if len(idx) - 1 < max(min_steps, 1):
        return 0
    Yb, status, index, calls = run(t[idx])
    valid = len(idx) if status == 0 else int(index)
    last = len(idx) - (2 if n % 2 == 0 else 1)      # (the companion's last odd point)
    odd = idx[2:min(valid, last + 1)]                 # (odd points 3, 5, ...: not 1, shared)
    if odd.size:
        diff = np.abs(Y[odd] - Yb[2:2 + odd.size])
        est = result.estimate
        est[odd] = np.fmax(est[odd], diff / _two_to_minus_one(q))
        split_point_floor(est, t, Y, Yb)
        bad = _first_unresolved(Y, odd, diff)
        if bad is not None and (result.first_bad is None or bad[0] < result.first_bad):
            first, _, worst, size = bad
            result.first_bad, result.reason, result.keep = first, "unresolved", first
            result.disagreement, result.size, result.converging = worst, size, True
    if status != 0 and uncheck_on_failure and valid <= last:
        first = int(idx[max(valid, 2)])
        _unchecked_from(result, first, first)
    return calls


def shifted_estimate(run, t, Y, estimate, order, min_steps, running=False):
    """(estimate, order, ratio, nfev): ``estimate`` (N+1, d) of the solution ``Y`` on ``t``, made
    with the order ``order``, raised to that of the shifted companions (``run(mesh) -> (Y,
    status, keep, nfev)``), the order it then assumes (1 where they disagree with it), the
    ratio of their largest estimate to its (None without them) and their kernel evaluations.

    The half-steps companion (every other point) and every mesh nested in it share the even
    points of the solution's mesh.  A non-smooth point of the data (a kink of g, a jump of K in
    s, a kink of K(t, s, y) in y that the solution crosses) at a small offset delta after such
    a point lies in the first step after it on every one of these meshes, at the same offset,
    before the first collocation point (Gauss and Radau methods, c_1 > 0; Gauss methods also
    see an offset delta before it alike, after their last point): each solution then misses
    about the same part of the step's integral (delta times the jump of K, delta^2 / 2 times
    the jump of the derivative of g), their difference does not show it, and the estimate was
    up to 10^12 times below the error (gauss4, y = 1 - t + int -|y - 0.5|, 64 steps).

    So two more companions take every third point, from the points 0 and 1 (the points 0, 3,
    6, ..., N and 0, 1, 4, 7, ..., N): every point but 0 and N lies inside a step of one of
    them, a third or two thirds into it.  (Not the points 0, 1, 3, 5, ...: an even point then
    lies in the middle of a step, where the symmetric rules of Gauss methods with an even
    number of stages miss a jump just after it by the same amount as the solution's step:
    gauss2, a jump of K h/10 after a mesh point, 64 steps: 169 times below the error.)  For a
    smooth solution the difference is Richardson's estimate with the step ratio 3,
    |y_h - y_3h| / (3^q - 1).  Where the largest such estimate exceeds the half-steps
    companion's by more than RATE_FACTOR, the companions do not agree on an error of order q
    (the order of the solutions is not q near a non-smooth point: 1 for a jump, 2 for a kink),
    and the differences take the order 1, |y_h - y_3h| / 2.  The estimates, spread over the
    mesh as :func:`_spread` does, raise the others (``ratio``: the ratio of the
    largest ones).  They do not decide which values are confirmed (the half-steps companion
    does): their steps are 1.5 times longer, and near a blow-up they fail, or disagree by
    more than UNRESOLVED, where the solution is resolved (tan t, radau3, 1e-3: the solve
    went on from 10 steps to 20); beyond the point a companion's solve reached, the
    estimates are the others'.  Cost: two solves on N/3 steps, 2/9 of the solve's work for an
    O(N^2) method.  On a given mesh (not ``running``) a companion that differs from the
    solution by more than UNRESOLVED times its size is checked with its steps bisected
    (:func:`_nearer_branch`): where that finer level agrees with the solution to LEAD_IN
    times the size, the companion was on another branch (or its long steps kept no digit)
    and the finer level's differences, with the step ratio 1.5, are the estimate instead.

    ``running``: compare at each point with the largest estimate up to it (the errors of a
    Volterra equation persist, so that is the scale of the errors so far), not the largest
    of all (``ratio`` is then the largest such ratio): the error of a jump of K just after a
    shared point can be far above the estimates around it and still below those of later
    points (radau3, a jump of K at t = 0.503, rtol 1e-8, 60 steps: 13.6 times the estimates
    before it, 3.3 times the largest estimate; the error 630 times the tolerance).  A fifth
    value is then returned: the first mesh index where they disagree so (None where they
    agree), where the non-smooth point is (the point over the tolerance can be a later one,
    where the solution passes near 0)."""
    n = len(t) - 1
    d = Y.shape[1]
    base = _finite_max(estimate)
    rounding = _ROUNDING * (_largest_difference(Y.reshape(-1).tolist(), None)
                            if Y.size <= FEW else float(np.max(np.abs(Y))))
    if d == 1 and n < FEW and not running:
        return _shifted_few(run, t, Y, estimate, order, min_steps, base, rounding)
    nfev, levels = 0, {}
    for idx, Ys, valid, calls in _shifted_solves(run, t, min_steps, _every_third):
        nfev += calls
        if valid < 2:
            continue
        common, r = idx[:valid], SHIFTED_RATIO
        if not running:             # (a companion on another branch: its steps bisected)
            nearer, valid_b, calls = _nearer_branch(run, t, Y, common, Ys[:valid], order)
            nfev += calls
            if nearer is not None:
                Ys, valid, r = nearer, valid_b, SHIFTED_RATIO / 2.0
                common = idx[:valid]
        est = _spread(common, np.abs(Y[common] - Ys[:valid]), len(t), d)
        if valid < len(idx):            # beyond the companion's solve: the others' estimates
            est[common[-1] + 1:] = 0.0
        levels[r] = est if r not in levels else np.maximum(levels[r], est)
    if not levels:
        return (estimate, order, None, nfev) + ((None,) if running else ())
    # (the differences over the Richardson denominators of their step ratios, the largest:
    # with the one ratio 3 the same floats as the largest difference over its denominator)
    raised = _largest_over(levels, lambda r: _two_to_minus_one(order * math.log2(r)))
    top = _finite_max(raised)
    ratio = top / base if base > 0 else math.inf
    disagree = top > RATE_FACTOR * max(base, rounding)
    first = None
    if running:
        # (the estimate of a point between common points is the larger of its two
        # neighbours': up to two points ahead for these companions, one for the half-steps')
        scale = np.fmax.accumulate(_row_max(estimate))
        scale = np.maximum(scale[np.minimum(np.arange(n + 1) + 1, n)], rounding)
        with np.errstate(divide="ignore", invalid="ignore"):
            pointwise = _row_max(raised) / scale
        ratio = float(np.nanmax(pointwise)) if np.any(np.isfinite(pointwise)) else 0.0
        disagree = ratio > RATE_FACTOR
        first = int(np.argmax(pointwise > RATE_FACTOR)) if disagree else None
    if disagree:            # the order 1 (see above)
        raised, order = _largest_over(levels, lambda r: r - 1.0), 1.0
    out = (np.maximum(estimate, raised), order, ratio, nfev)
    return out + (first,) if running else out


#: The steps of the shifted companions of :func:`shifted_estimate` over the solution's.
SHIFTED_RATIO = 3.0


def _every_third(start, n):
    """0, start, start + 3, ... < n, n as an array (increasing, as np.unique would give
    them, in ~5 us)."""
    return np.concatenate(([0], np.arange(start, n, 3), [n]))


def _every_third_few(start, n):
    """:func:`_every_third` as a list."""
    return [0] + list(range(start, n, 3)) + [n]


def _shifted_solves(run, t, min_steps, points):
    """(idx, Ys, valid, calls) of the solves of :func:`shifted_estimate` on every third point
    of the mesh ``t`` (offsets 3 and 1, with t0 and t_N: ``idx = points(start, n)``, a list
    or an array) that have at least min(min_steps, 2) steps and are not the mesh itself:
    the points solved (``valid``) and the kernel evaluations."""
    n = len(t) - 1
    for start in (3, 1):
        idx = points(start, n)
        if len(idx) - 1 < max(min_steps, 2) or len(idx) == n + 1:   # (too few, or the mesh)
            continue
        Ys, status, index, calls = run(t[idx])
        yield idx, Ys, len(idx) if status == 0 else index, calls


def _shifted_few(run, t, Y, estimate, order, min_steps, base, rounding):
    """:func:`shifted_estimate` (not ``running``) of a scalar solution of a few values, on
    floats: the same differences, spread (:func:`_spread`), maxima (NumPy's, NaN propagating)
    and divisions, so the same floats (each NumPy call on such small arrays costs ~1 us)."""
    n = len(t) - 1
    y = Y[:, 0].tolist()
    nfev, levels = 0, {}
    for idx, Ys, valid, calls in _shifted_solves(run, t, min_steps, _every_third_few):
        nfev += calls
        if valid < 2:
            continue
        nearer, valid_b, calls = _nearer_branch(run, t, Y, np.array(idx[:valid]), Ys[:valid],
                                                order)
        nfev += calls
        r = SHIFTED_RATIO if nearer is None else SHIFTED_RATIO / 2.0
        if nearer is not None:
            Ys, valid = nearer, valid_b
        common = idx[:valid]
        est = _spread_few(common, [abs(y[i] - v) for i, v in zip(common, Ys[:valid, 0].tolist())],
                          n + 1)
        if valid < len(idx):            # beyond the companion's solve: the others' estimates
            est[common[-1] + 1:] = [0.0] * (n - common[-1])
        levels[r] = est if r not in levels else list(map(_maximum, levels[r], est))
    if not levels:
        return estimate, order, None, nfev
    raised = _largest_over_few(levels, lambda r: _two_to_minus_one(order * math.log2(r)))
    finite = [v for v in raised if v == v]
    top = max(finite) if any(map(math.isfinite, raised)) else 0.0
    ratio = top / base if base > 0 else math.inf
    if top > RATE_FACTOR * max(base, rounding):     # the order 1 (see shifted_estimate)
        raised, order = _largest_over_few(levels, lambda r: r - 1.0), 1.0
    return np.maximum(estimate, np.array(raised).reshape(-1, 1)), order, ratio, nfev


def _largest_over(levels, denominator):
    """The largest of the estimates ``levels[r]`` (arrays, by step ratio r) over
    ``denominator(r)``, NaN propagating (NumPy's maximum)."""
    return functools.reduce(np.maximum, [est / denominator(r) for r, est in levels.items()])


def _largest_over_few(levels, denominator):
    """:func:`_largest_over` of lists of floats (the same floats)."""
    scaled = [[v / denominator(r) for v in est] for r, est in levels.items()]
    return functools.reduce(lambda a, b: list(map(_maximum, a, b)), scaled)


def _nearer_branch(run, t, Y, common, Ys, order):
    """(values, valid, nfev): a shifted companion (its values ``Ys`` at the points ``common``
    of the mesh ``t``) that differs from the solution ``Y`` by more than UNRESOLVED times its
    size somewhere, checked with the solve on its steps bisected (step ratio 1.5 to the
    solution's); where, over the common points up to there, that one agrees with ``Y`` to
    LEAD_IN times the size, or the three levels converge at the order ``order`` at least
    (max |Ys - Yb| >= (3^q - 1.5^q) / (1.5^q - 1) max |Yb - Y|, the rate of the step ratios
    3, 1.5 and 1), its values at ``common`` (as far as they are valid) replace the
    companion's, else (None, 0, nfev), as where the companion is not so far (nfev 0).

    A long step of an implicit method can converge to another root of its step equation, one
    the solution's steps never approach: radau1 on y = 1 + t/2 (K = y^3 / 8) on 4 steps, an
    error of 0.062, whose companion on the points 0, 1, 4 took its step of 0.75 (h L = 0.63) to
    y(1) = -3.78; the estimate so raised, 2.67, failed the solve ("no reliable digits").  The
    differences of three levels of one branch fall with the steps: a difference of more than
    half the size that the finer level's falls to less than a tenth of it is another branch,
    no estimate; so is a coarse level whose long steps keep no digit while the three converge
    at the order (radau1 on y = 1 + sin(3 t) / 2 - e^(t/2) / 2, K = (sin(t + s) + 1) y / 2, 4
    steps: y(1) = -0.79, 0.092 and 0.242 on steps of 0.75, 0.375 and 0.25, exact 0.246, the
    rate 5.9; the estimate 0.52 failed a solve with errors up to 0.071).  The bisected solve
    is one more shifted level (its points inside the solution's steps as the companion's
    are, the shared ones but its midpoints), and its own estimate stands.  Where neither
    holds, the companion's difference stands (a solution without digits, the shifted
    companions the only level to show it, stays a failure)."""
    if Y.shape[1] == 1 and len(Y) <= FEW and _resolved_few(Y[:, 0].tolist(), common,
                                                           Ys[:, 0].tolist()):
        return None, 0, 0       # (the usual case, on floats: see _resolved_few)
    bad = _first_unresolved(Y, common, np.abs(Y[common] - Ys))
    if bad is None:
        return None, 0, 0
    Yb, status, index, calls = run(refined_mesh(t[common]))
    valid = len(common) if status == 0 else (index + 1) // 2     # (its point 2 j: common j)
    k = int(np.searchsorted(common, bad[0]))                       # (common[k] == bad[0])
    if valid <= k:
        return None, 0, calls
    Yb = Yb[0:2 * valid - 1:2]
    size = _running_size(Y)
    size[0] = _maximum(size[0], size[1])          # (the first step's size, as above)
    fine = _row_max(np.abs(Y[common[:k + 1]] - Yb[:k + 1]))
    coarse = float(np.max(_row_max(np.abs(Yb[:k + 1] - Ys[:k + 1]))))
    low, high = 1.5 ** order, 3.0 ** order
    if not (_all(fine <= LEAD_IN * size[common[:k + 1]]) or
            coarse >= (high - low) / (low - 1.0) * float(np.max(fine))):
        return None, 0, calls
    return Yb, valid, calls


def _resolved_few(y, common, ys):
    """Whether :func:`_first_unresolved` of a scalar solution ``y`` and a companion ``ys`` at
    the points ``common`` (lists of floats; indices) is None, on floats (each NumPy call on
    such small arrays costs ~1 us, as much as the float operations on all of their values):
    the same running size (NaN propagating, as NumPy's maxima; at t0 the first step's), the
    same differences, products and comparisons (False for NaN), so the same answer."""
    size = list(itertools.accumulate(map(abs, y), _maximum))
    if len(size) > 1 and size[1] > size[0]:
        size[0] = size[1]
    return all(abs(y[i] - v) <= UNRESOLVED * size[i] for i, v in zip(common, ys))


def _spread_few(common, values, n_points):
    """:func:`_spread` of scalar estimates on lists (``common``: increasing indices)."""
    est = [values[0]] * common[0]
    for k in range(len(common) - 1):
        est += [_maximum(values[k], values[k + 1])] * (common[k + 1] - common[k])
    est += [values[-1]] * (n_points - common[-1])
    for i, v in zip(common, values):
        est[i] = v
    return est


def _finite_max(a):
    """``float(np.nanmax(a))`` where ``a`` has a finite entry, else 0.0 (on a few values as
    floats: the NaN-ignoring maximum; NumPy's nanmax and isfinite cost ~5 us)."""
    if a.size > FEW:
        return float(np.nanmax(a)) if np.any(np.isfinite(a)) else 0.0
    values = a.reshape(-1).tolist()
    if not any(map(math.isfinite, values)):
        return 0.0
    return max([v for v in values if v == v])


def estimate_options(alpha):
    """The options of :func:`estimate_error` for a weakly singular kernel with exponent alpha.

    Collocation on graded meshes approaches the order m + 1 - alpha of its mesh values
    slowly, Radau IIA from below (``._singular``), and a transient of a stiff kernel
    (k = -lam y with lam = 100 ... 1e4) keeps a few coarse steps far from it: on graded
    meshes of 4 to 64 steps the estimate with that order was 1.5 to 48 times below the error
    (radau4, lam = 1, 4 steps: the solves on 1, 2 and 4 steps have errors 3.9e-4, 4.1e-4,
    2.8e-4).  So the rate is measured from a companion of one step on (``rate_min_steps`` 1:
    the solve on every fourth point costs 1/16 of the solve), any rate below 2^p gives the
    observed order, and that order is at least 1 - alpha, the order of every method on
    every mesh (not 1: a rate below 2 is what these kernels show before the asymptotic
    regime).  A rate whose coarsest solve is a single step, or no rate, gives that least
    order too (:func:`estimate_error`): the error of one step is made by the solution's
    (t - t0)^(1 - alpha) start, and its rate is no evidence of the order.  The estimates of
    a graded mesh's first points, whose companion all but repeats their steps, are at least
    the later ones' scaled by (t - t0)^(1 - alpha) (:func:`_graded_start_bound`)."""
    return {"rate_min_steps": 1, "rate_factor": 1.0, "least_order": 1.0 - float(alpha),
            "start_exponent": 1.0 - float(alpha)}


#: the coarse step over the fine one that ends at a common point (2 on uniform meshes) from
#: which the half-steps estimate of a graded mesh's start is taken as reliable
START_HALVING = 1.5


def _graded_start_bound(t, est, idx, exponent, least=START_HALVING):
    """Raise, in place, the estimates ``est`` of the first points of a graded mesh ``t``.

    At the first common points of a graded mesh (t_k = t0 + (T - t0) (k/N)^r) the
    companion's step all but repeats the solution's last one (their ratio is 1 + 2^-r at
    the first point, 2 on uniform meshes): both carry nearly the same error of the
    (t - t0)^(1 - alpha) start, and their difference over 2^q - 1 was 37 (erfcx, radau3,
    r = 7) to 3e4 (alpha = 0.95, r = 61) times below the error there.  Before the first
    common point whose coarse step is at least ``least`` times the fine one, each estimate
    is at least every later common one's up to that point times ((t - t0) / (t_J - t0))^
    ``exponent`` (1 - alpha: the errors there grew at least like that in every case seen).

    Parameters
    ----------
    t : ndarray
        The mesh (N+1,).
    est : ndarray
        The estimates (N+1, d), raised in place (NaN stays NaN).
    idx : ndarray
        The common points' indices (every other point, and the last one when N is odd).
    exponent : float
        1 - alpha.
    least : float
        The step ratio from which the half-steps estimate is taken as reliable.
    """
    if len(idx) < 3:
        return
    ends = np.asarray(idx[1:])
    h = t[ends] - t[ends - 1]
    coarse = t[ends] - t[np.asarray(idx[:-1])]
    with np.errstate(divide="ignore", invalid="ignore"):
        reliable = np.nonzero(coarse >= least * h)[0]
    first = int(reliable[0]) if reliable.size else len(ends) - 1
    if first == 0:
        return                      # (a uniform start: the half-steps estimate holds)
    stop = int(ends[first])
    tau = t[:stop + 1] - t[0]
    sources = np.asarray(idx[1:first + 2])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scaled = est[sources] / (tau[sources] ** exponent)[:, None]
    scaled = np.where(np.isfinite(scaled), scaled, 0.0)
    # the largest scaled estimate of the common points after each point up to ``stop``
    later = np.maximum.accumulate(scaled[::-1], axis=0)[::-1]
    which = np.searchsorted(sources, np.arange(1, stop), side="right")
    bound = later[which] * (tau[1:stop] ** exponent)[:, None]
    part = est[1:stop]
    np.fmax(part, bound, out=part, where=~np.isnan(part))


#: :func:`_start_block_check`: the points of the solution's start checked are the companion's
#: starting block, this many times the method's fewest steps (its block: Gregory's p - 1).
START_BLOCKS = 2
#: ... and where their rate is below 2^p over this, the estimate's 2^p - 1 is not taken there:
#: at a rate r the difference over 2^p - 1 is (2^p - 1) / (r - 1) times below the error, at
#: most about 2 from r = 2^(p-1) up.
START_RATE_FACTOR = 2.0


def _start_block_check(run, t, Y, Yc, order, min_steps, result):
    """Raise, in place, the estimates of the first points of a direct rule's solution
    (a Gregory rule, whose first ``min_steps`` steps are one block) where its companion's
    start is not at the order p; returns the kernel evaluations spent.

    The half-steps companion's first 2 ``min_steps`` steps are the solution's first
    START_BLOCKS ``min_steps`` points, made by its starting block on steps twice as long,
    where a solution that oscillates can be far from the order p while the solution's own
    start is in it: gregory6 on y = p0 + A e^(p1 t) cos 20t over [0, 10], 678 steps, errors
    1.3e-7, 4.0e-8 and 3.8e-10 at t = 0.0295 on 339, 678 and 1356 steps (the rates 3.2 and
    107), and the difference over 2^6 - 1 was 41 times below the error at t_1 and t_2.  The
    solve of those points' span [t0, t_M] with every step bisected (2 M steps: the values of a
    direct rule at a point depend on its steps before it only) gives at each even point the
    rate r = D0 / D1 of the differences D0 = |y_2h - y_h| and D1 = |y_h - y_h/2|; where r is
    below 2^p / START_RATE_FACTOR (the order is not p there), the estimates of that point and of
    its two neighbours are at least D1 / (1 - 1/r) (the sum of the differences still to come
    at the rate r, with r at least 2 and at most 2^p).  Differences at the rounding level show
    no rate, nor does a rate below 2^-p: the coarser two agree far closer than the order p
    lets the finer two, as the samples of data that oscillate at the steps' period do (y = 1 +
    int cos(2 pi 1024 s) y ds on 1024 steps: every mesh point at cos = 1, the halved steps'
    midpoints at -1), which the data check judges against the largest estimate
    (``_adaptive.data_roughness``), and a raise of the first points' would hide from it.  A
    start at the order p keeps its estimates (r near 2^p), and a failed solve leaves them.
    The solve of 2 M steps costs some 2 M^2 kernel evaluations: it is made on meshes of
    at least 8 M steps (16 (p - 1) for Gregory's), where it is no longer than the
    rate's solve on every fourth point (at most 1/16 of the solve's work); on fewer steps its
    cost would take a solve to a tolerance past its goal of 4 times the best uniform mesh's
    work (gregory8 to 1e-6 on y = affine: 16 steps, 939 evaluations, the check 565), and the
    estimates stay the difference over 2^p - 1 (2-16 times below the errors at the start in
    the identity grid's smooth problems on 16 steps).
    """
    n_points = len(t)
    m = START_BLOCKS * int(min_steps)
    est = result.estimate
    # (the check's 2 M steps no more than the rate's solve on every fourth point, N / 4 steps:
    # at most 1/16 of the solve's work)
    if 8 * m > n_points - 1 or len(Yc) < m // 2 + 1 or not np.all(np.isfinite(est[1:m + 1])):
        return 0
    Yr, status, _, calls = run(refined_mesh(t[:m + 1]))
    if status != 0:
        return calls
    Yr = np.asarray(Yr, dtype=float).reshape(2 * m + 1, -1)
    if not np.all(np.isfinite(Yr)):
        return calls
    d1 = np.abs(Y[:m + 1] - Yr[0::2])                        # (points 0 .. m)
    d0 = np.abs(Y[0:m + 1:2] - Yc[:m // 2 + 1])              # (even points 0, 2 .. m)
    noise = _noise(n_points) * np.maximum(running_size(Y[:m + 1]), _EPS)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = d0 / d1[0::2]
    # (r below 2^-p: the coarser two agree as samples of aliased data do, see above)
    low = (d1[0::2] > noise[0::2]) & (r >= 2.0 ** -order) & \
        (r < 2.0 ** order / START_RATE_FACTOR)
    low[0] = False
    if not np.any(low):
        return calls
    factor = 1.0 / (1.0 - 1.0 / np.clip(np.where(low, r, np.inf), 2.0, 2.0 ** order))
    factor = np.where(low, factor, 0.0)
    # each point takes the larger factor of the even points it neighbours (or is)
    at = np.zeros_like(d1)
    at[0::2] = factor
    at[1::2] = np.maximum(factor[:-1], factor[1:])
    bound = d1 * at
    part = est[:m + 1]
    np.fmax(part, bound, out=part, where=~np.isnan(part))
    if result.unlifted is not None:
        part = result.unlifted[:m + 1]
        np.fmax(part, bound, out=part, where=~np.isnan(part))
    return calls


def start_refined_check(run, t, Y, idx, est, q, min_steps):
    """Raise, in place, the estimates ``est`` of the points up to the first common point where
    a component's estimate there is too far below its estimate at the second: the solve of
    the first common step with every step bisected is a third level there.  Returns its
    kernel evaluations (0 where it is not run).

    The half-steps estimate at a common point is |y_N - y_N/2| / (2^q - 1), right where the
    companion's error is 2^q times the solution's.  Where a component's leading error term
    all but cancels, the companion's longer steps are not yet in that regime, and its error
    can come out near the solution's: a system whose large component feeds its small one
    (K = e^-(t - s) M y, M[0, 1] = 3e-5, the small component ~1e-4, the large ~1): its own
    error and the one carried in from the large component cancel to a tenth near t0; radau3
    to rtol 1e-5 on 12 steps had errors of 5.5e-12 and 8.2e-12 at the first two points, 74
    and 111 times their estimate 7.4e-14 (the companion's error at t2 1.06e-11, the
    solution's 8.2e-12: their difference 2.4e-12).  Between common points the touch rule of
    :func:`_over_crossings` takes the larger neighbour's estimate; the first common point has
    t0 on its left, where the error is 0, and its right neighbour's estimate would be 27
    times its error.  The check runs where a component's estimate at the second common point
    exceeds the first's by more than TOUCH times the growth of the local errors h^(q+1)
    summed over the steps up to each (2 on a uniform mesh; radau3 above: 2970 times; gauss3
    to 1e-5 with M[0, 1] = 2.4e-5, 8 steps of a pass: 220 times for a growth of 5.2, the
    error at t1 6.2e-11 26 times the estimate 2.4e-12); its solve on the first common step
    bisected (2 idx[1] steps, its estimate |y_N - y_2N| 2^q / (2^q - 1), as the refined
    companion's) measures the errors there: those components' points up to the first common
    one take the larger of the two estimates (radau3: 5.5e-12 and 8.2e-12; gauss3: 6.3e-11
    and 2.0e-11 for errors of 6.2e-11 and 2.0e-11).

    Parameters
    ----------
    run : callable
        ``run(mesh) -> (Y, status, index, nfev)``.
    t, Y : ndarray
        The mesh (N+1,) and the solution (N+1, d).
    idx : ndarray
        The common points' indices (idx[0] = 0).
    est : ndarray
        The estimates (N+1, d), raised in place.
    q : float
        The estimate's order.
    min_steps : int
        The fewest steps the method accepts.
    """
    if len(idx) < 3 or int(idx[0]) != 0:
        return 0
    first, second = int(idx[1]), int(idx[2])
    q = float(q)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        local = np.diff(t[:second + 1]) ** (q + 1.0)
        grown = float(local.sum() / local[:first].sum())
    if not math.isfinite(grown):
        return 0
    # (and more than 2^q times: a rise below it is one the companion's own error can make)
    low = (TOUCH * grown * est[first] < est[second]) & (2.0 ** q * est[first] < est[second])
    if not low.any() or 2 * first < min_steps:
        return 0
    tr = refined_mesh(t[:first + 1])
    Yr, status, _, nfev = run(tr)
    if status != 0:
        return nfev
    raised = np.abs(Y[1:first + 1] - Yr[2:2 * first + 1:2]) * (2.0 ** q / _two_to_minus_one(q))
    part = est[1:first + 1]
    np.fmax(part, raised, out=part, where=low & ~np.isnan(part))
    return nfev


def _observed_rate(run, tc, Yc, Yf, uniform_only, min_steps, halving=None, want_rate=True):
    """(D2 / D1, nfev, failed, levels) from a solve on every other point of the companion's
    mesh ``tc`` (values ``Yc``; ``Yf`` the solution at the same points; the rate of
    :func:`_start_free_rate`), or (None, nfev, failed, None) when there is no such mesh or its
    solve fails; inf when D1 is at the rounding level of the solution.  ``failed``: the point
    of that mesh where its solve failed (at least 1), else None; ``levels``: (the indices of
    that mesh's points in ``tc``, its values).

    ``halving``: the rate only at the points where each level's steps are twice the next
    one's: the first ``halving`` points of ``tc`` (the rest, the last point of an odd number
    of steps, ends a step of the solution's own) and the points of the mesh of every fourth
    point that are every other point of ``tc``.  At a shared last step the two solutions take
    the same step, their difference is far below a halving's and the rate is off (gauss3 on
    y = 1 + int y^2, 3 steps: 0.15 for solutions with errors of 1e-8 to 1e-3); None where no
    point but the first is left.  ``want_rate=False``: the solve on every fourth point is for
    its levels alone (a mesh too small for a rate, whose rate :func:`estimate_error` drops:
    ``small``, with the check of the levels): the rate is None."""
    if len(tc) < 3 or (len(tc) - (1 if uniform_only else 0)) // 2 < min_steps:
        return None, 0, None, None   # (coarse_mesh(tc) would have no mesh, or fewer steps)
    tq, iq = coarse_mesh(tc, uniform_only)
    Yq, status, index, calls = run(tq)
    if status != 0:
        return None, calls, max(int(index), 1), None
    ir, Yr = iq, Yq                     # (the points of the rate)
    if halving is not None:
        m = _halving_points(iq, halving)
        if m < 2:
            return None, calls, None, (iq, Yq)
        ir, Yr = iq[:m], Yq[:m]
    if not want_rate:
        return None, calls, None, (iq, Yq)
    if Yf.shape[1] == 1 and Yf.shape[0] <= FEW:
        # (on floats: the same differences and NaN-propagating maxima, ~1 us a NumPy call)
        fine, middle, coarse = Yf[ir, 0].tolist(), Yc[ir, 0].tolist(), Yr[:, 0].tolist()
        size = _largest_difference(Yf[:, 0].tolist(), None)
        rate = _start_free_rate(_largest_difference, fine, middle, coarse, size)
    else:
        size = float(np.max(np.abs(Yf)))
        rate = _start_free_rate(_largest_array_difference, Yf[ir], Yc[ir], Yr, size)
    return rate, calls, None, (iq, Yq)


def _largest_array_difference(a, b):
    """``float(np.max(np.abs(a - b)))`` of two arrays (the absolute values in place: one
    temporary, not two)."""
    diff = np.subtract(a, b)
    return float(np.max(np.abs(diff, out=diff)))


def _start_free_rate(largest, fine, middle, coarse, size):
    """The rate D2 / D1 of three levels' values at the points they share (``largest(a, b)``:
    the largest |a - b|; inf where D1 is at the rounding level of ``size``), or the lower one
    without the first two points (t0 and the end of the coarsest level's first step) where
    two more are left.  D2 holds the coarsest level's first step, whose error a start (a
    starting rule, a power of t - t0 in the data) can make far larger than its later steps',
    while D1 holds no first step of its two levels: gregory4 on K = sqrt|t - s| y, whose
    solutions converge like h^1.5 (the rate 2.8 without those points), showed the rate 5.8,
    above 2^4 / RATE_FACTOR, and its estimate kept the order 4, 5.5 times below the error.
    (Not D1 at the finer two's own common points, which hold the middle level's first step:
    the first step of a stiff transient, whose error does not shrink with h, gave the lowest
    order to the estimates of every point, 5 to 9 times the error.  A single point after
    them is no rate: cos 6 t to 1e-3 on 8 steps, rk4 and gauss2, took the order 1 from it, an
    estimate 17 and 13 times the error.)"""
    d1 = largest(fine, middle)
    if d1 <= _ROUNDING * size:
        return math.inf
    rate = largest(middle, coarse) / d1
    if len(fine) > 3:       # (two points after those at least: one is no rate)
        later = largest(fine[2:], middle[2:])
        if later > _ROUNDING * size:
            rate = min(rate, largest(middle[2:], coarse[2:]) / later)  # (NaN: stays)
    return rate


def _rate_before(Y, idx, Yf, Yc, levels, diverging, rate, halving, bad=False):
    """The rate D2 / D1 of :func:`_observed_rate` over the points of the mesh of every fourth
    point (``levels``) before the first point where the solutions stop converging
    (``diverging``) or the solution and its half-steps companion disagree by more than
    UNRESOLVED times the size (``rate`` where there is no such point, or fewer than two
    points before it).  ``bad``: :func:`_first_unresolved`'s answer for |Yf - Yc| where the
    caller has it."""
    if bad is False:
        bad = _first_unresolved(Y, idx, np.abs(Yf - Yc))
    limits = [b[0] for b in (bad, diverging) if b is not None]
    if not limits:
        return rate
    iq, Yq = levels
    m = _halving_points(iq, halving) if halving is not None else len(iq)
    m = min(m, int(np.searchsorted(idx[iq[:m]], min(limits))))
    if m < 2:
        return rate
    ir = iq[:m]
    return _start_free_rate(_largest_array_difference, Yf[ir], Yc[ir], Yq[:m],
                            float(np.max(np.abs(Yf))))


def _halving_points(iq, halving):
    """How many leading points of ``iq`` (indices of every other point of a mesh) are every
    other point (2 k) and among its first ``halving`` points.  (Beyond a few points in
    NumPy: the Python loop over the indices took 1.1 ms at N = 2^16 and 4.9 ms at 2^18, twice
    a solve with the estimate.)"""
    if len(iq) > FEW:
        ok = (iq == 2 * np.arange(len(iq))) & (iq < halving)
        return len(iq) if ok.all() else int(np.argmin(ok))
    m = 0
    for k, i in enumerate(iq.tolist()):
        if i != 2 * k or i >= halving:
            break
        m += 1
    return m


_EPS = float(np.finfo(float).eps)
#: 64 ulp of 1: differences below this times the solution's size are at the rounding level.
_ROUNDING = 64 * _EPS


def _largest_difference(a, b):
    """``float(np.max(np.abs(a - b)))`` of two lists of floats (``b`` None: of ``a``), NaN if
    any difference is NaN."""
    values = [abs(x) for x in a] if b is None else [abs(x - y) for x, y in zip(a, b)]
    m = max(values)
    return math.nan if m != m or any(map(math.isnan, values)) else m


def _first_diverging(Y, common, fine, middle, coarse, lead_in=LEAD_IN, size=None):
    """(first, keep, disagreement, size) at the first of the points ``common`` (mesh indices
    of the solution ``Y``) where the solutions on three nested meshes, ``fine``, ``middle``
    and ``coarse`` there, do not converge, or None.  (``lead_in``: LEAD_IN below; the level
    of rounding noise instead for :func:`_drifting`.)

    In the asymptotic regime the differences D1 = |fine - middle| and D2 = |middle - coarse|
    fall by 2^p from one level to the next; solutions that converge get closer as the steps
    shrink.  Where neither pair agrees to a digit (the largest D1 and D2 so far both exceed
    LEAD_IN times the solution's size so far; running maxima: a single point may lie where
    an error changes sign) and D1 is the larger, the differences grow as the steps shrink,
    and the finest solution has no confirmed digit from there on.  (A D1 above D2 alone is
    not enough: a few coarse steps before the asymptotic regime show it on smooth problems
    with errors of 1e-9 to 1e-4 -- logistic, gauss4, 5 steps; y = 1 - int y^2, rk4, 8 steps
    -- and a coarsest solution with no digit can agree with the next by chance: cos 10 t,
    radau4, 12 steps, error 1.5e-3, D2 at t = 2/3 far below D1 = 0.18.)  ``size``: the
    running size of ``Y`` (:func:`_running_size`) where the caller has it."""
    if Y.shape[1] == 1 and Y.shape[0] <= FEW:
        return _first_diverging_few(Y[:, 0].tolist(), common.tolist(), fine[:, 0].tolist(),
                                    middle[:, 0].tolist(), coarse[:, 0].tolist(), lead_in)
    if isinstance(size, _Sizes):
        # (D2, the running maximum of |middle - coarse|, is within lead_in times the running
        # size wherever each difference is within lead_in times its own point's size, which
        # bounds the running size from below, without NaN: none of the points fails)
        if np.all(_row_max(np.abs(middle - coarse)) <= lead_in * size.rows[common]):
            return None
        size = size.running()
    size = (_running_size(Y) if size is None else size)[common]
    d1 = np.maximum.accumulate(_row_max(np.abs(fine - middle)))
    d2 = np.maximum.accumulate(_row_max(np.abs(middle - coarse)))
    bad = ~((d1 <= d2) | (d2 <= lead_in * size))       # (NaN: not converging)
    if not bad.any():
        return None
    k = int(np.argmax(bad))
    return (int(common[k]), int(common[k - 1]) + 1 if k > 0 else 1, float(d1[k]), float(size[k]))


def _first_diverging_few(Y, common, fine, middle, coarse, lead_in=LEAD_IN):
    """:func:`_first_diverging` of a scalar solution (lists of floats): the same running
    maxima (NaN propagating, as NumPy's) and comparisons (False for NaN), so the same answer."""
    size = list(itertools.accumulate(map(abs, Y), _maximum))
    d1 = d2 = None
    for k, (i, a, b, c) in enumerate(zip(common, fine, middle, coarse)):
        x, y = abs(a - b), abs(b - c)
        d1 = x if d1 is None else _maximum(d1, x)
        d2 = y if d2 is None else _maximum(d2, y)
        if not (d1 <= d2 or d2 <= lead_in * size[i]):
            return (i, common[k - 1] + 1 if k > 0 else 1, d1, size[i])
    return None


def _refined_level(run, t, Y, idx, Yf, Yc, halving=None):
    """(:func:`_first_diverging`'s answer, rate, unchecked, nfev, finest, level) for the
    solution ``Y`` on ``t`` from its half-steps companion ``Yc`` (at the points ``idx``, ``Yf``
    the solution there) and a solve with every step bisected, the third level where the mesh
    of every fourth point has too few steps for one (N = 2 or 3, or below the method's
    fewest) or its solve failed.  ``rate``: |Yf - Yc| / |Y - Y_bisected| (largest over the
    points they share, of the first ``halving`` of ``idx`` where given: not at a shared last
    step; inf when the latter is at the rounding level), or None; ``unchecked``: the mesh index from which
    the solution is unchecked (that solve failed where the solution passed), or None;
    ``finest``: the bisected solve's values at the points of ``t`` it reached (None if
    none); ``level``: its mesh and values, as far as it reached.  (Also the third level of a
    double-steps companion: ``Y`` is then that companion on ``t``, ``Yc`` the solution.)"""
    tr = refined_mesh(t)
    Yr, status, index, calls = run(tr)
    valid = len(t) if status == 0 else (index + 1) // 2      # (fine j <-> refined 2 j)
    unchecked = max(valid, 1) if valid < len(t) else None
    finest = Yr[:2 * valid - 1:2] if valid > 0 else None
    level = (tr[:max(2 * valid - 1, 0)], Yr[:max(2 * valid - 1, 0)])
    shared = int(np.searchsorted(idx, valid))
    if shared < 2:
        return None, None, unchecked, calls, finest, level
    common = idx[:shared]
    finer = Yr[2 * common]
    m = shared if halving is None else min(shared, halving)    # (the points of the rate)
    if m < 2:
        rate = None
    else:
        d0 = float(np.max(np.abs(Y[common[:m]] - finer[:m])))
        d1 = float(np.max(np.abs(Yf[:m] - Yc[:m])))
        rate = math.inf if d0 <= _ROUNDING * float(np.max(np.abs(Y))) else d1 / d0
    return (_first_diverging(Y, common, finer, Y[common], Yc[:shared]), rate, unchecked, calls,
            finest, level)


def _noise(n_points):
    """Differences of two solutions on ``n_points`` below this times the solution's size are
    rounding noise: _ROUNDING, or 4 ulp a point on long meshes (sums of N terms)."""
    return max(_ROUNDING, 4.0 * _EPS * n_points)


def _drifting(Y, common, fine, middle, coarse, noise):
    """:func:`_first_diverging` with the rounding ``noise`` for LEAD_IN, where the three
    levels' largest differences grow as the steps shrink (max |fine - middle| above max |middle
    - coarse| and the noise), else None: a local growth that the largest differences do not
    show is not a drift (the first points of a graded mesh for a weakly singular kernel)."""
    if Y.shape[1] == 1 and Y.shape[0] <= FEW:      # (on floats, as _first_diverging_few)
        fine, middle, coarse = fine[:, 0].tolist(), middle[:, 0].tolist(), coarse[:, 0].tolist()
        d1, d2 = _largest_difference(fine, middle), _largest_difference(middle, coarse)
        if not (d1 > d2 and d1 > noise * _largest_difference(Y[:, 0].tolist(), None)):
            return None
        return _first_diverging_few(Y[:, 0].tolist(), common.tolist(), fine, middle, coarse,
                                    noise)
    d1 = _largest_array_difference(fine, middle)
    d2 = _largest_array_difference(middle, coarse)
    if not (d1 > d2 and d1 > noise * float(np.max(np.abs(Y)))):
        return None
    return _first_diverging(Y, common, fine, middle, coarse, noise)


def _growth_level(run, result, Y, level, j, middle, coarse, stride, q_args):
    """Check, with a fourth level, a solution whose three levels' differences grow as the
    steps shrink below LEAD_IN times its size (where :func:`_first_diverging` lets them be);
    change ``result`` in place and return the kernel evaluations spent.

    Three levels that all miss a fast time scale of the problem agree with each other while
    their differences grow: gauss2 on y = 1 - 1e5 int y, 1 step, and its companions on 2 and
    4 steps are 0.99988, 0.99952 and 0.99808 at t = 1 (the stability function of a Gauss
    method tends to 1 on stiff steps), the differences grow 4-fold a halving, and the
    solution was a success with the estimate 0.03 for an error of 1.0.  A smooth solution
    before its asymptotic regime can show a growing pair too (gauss4 on the logistic
    equation, 5 steps, error 1e-9).  Where the finest three levels grow above the rounding
    noise (:func:`_noise`), the finest level (``level``: its mesh and values, the solution's
    points every ``stride``-th of them; ``j``: the indices there, increasing, of the points
    the three share, ``middle`` and ``coarse`` the other two's values at them) is solved
    again with every step bisected: where the finest three still grow, the solution is
    "unresolved" from there; elsewhere the finest pair's estimate (:func:`_with_finest_pair`,
    with the order of its rate; ``q_args``: ``order, rate_factor, least_order, higher_order`` of
    :func:`_estimate_order`) raises the solution's."""
    tf, Yf = level
    reach = len(tf) if result.first_bad is None else stride * result.first_bad
    # (the points the solution keeps, that the level reached; ``j`` increases: a view)
    j = j[:int(np.searchsorted(j, reach))]
    if len(j) < 2:
        return 0
    noise = _noise(len(tf))
    middle, coarse = middle[:len(j)], coarse[:len(j)]
    if _drifting(Yf, j, Yf[j], middle, coarse, noise) is None:
        return 0
    Z, status, index, calls = run(refined_mesh(tf))
    valid = len(tf) if status == 0 else (index + 1) // 2     # (level i <-> refined 2 i)
    reached = (valid - 1) // stride + 1 if valid > 0 else 0  # (the solution's points)
    if reached < len(Y):
        _unchecked_from(result, max(reached, 1), max(reached, 1))
    shared = int(np.searchsorted(j, valid))
    if shared >= 2:
        js = j[:shared]
        finer = Z[2 * js]
        diverging = _drifting(Yf, js, finer, Yf[js], middle[:shared], noise)
        if diverging is not None:
            first, keep, worst, size = diverging
            _unresolved_from(result, first // stride, (keep - 1) // stride + 1, worst, size)
        d1 = float(np.max(np.abs(Yf[js] - middle[:shared])))
        d0 = float(np.max(np.abs(finer - Yf[js])))
        rate = math.inf if d0 <= noise * float(np.max(np.abs(Yf))) else d1 / d0
        q = _estimate_order(rate, *q_args, True)
        if reached > 0:
            _with_finest_pair(result.estimate, Y, Z[:2 * stride * (reached - 1) + 1:2 * stride],
                              Yf[:stride * (reached - 1) + 1:stride], q)
    return calls


def _estimate_order(rate, order, rate_factor, least_order, higher_order, converging):
    """The order the estimate assumes, given the observed ``rate`` (or None) and the method's
    ``order`` (see :func:`estimate_error`): the observed order log2 rate where the rate is below
    2^order / ``rate_factor`` or, on a given mesh (``converging``), below 2^order, at least
    ``least_order`` (None: 1, or on a given mesh LEAST_ORDER) and at most ``order``.

    On a given mesh the estimate has no refinement to correct it, and a rate below 2^p, however
    near, is taken as it is (the denominator 2^q - 1 = rate - 1, continuous in the rate): a
    kernel less smooth than the method needs makes errors of a lower order whose share grows as
    the steps shrink, and the rate of the three levels, their coarsest still dominated by the
    terms of order p, lies between (gregory6 on K = a |t - s|^2.5 y + c y, whose errors
    converge at the order 3.5: the rate 19.6 on 64, 128, 256 steps, above 2^6 / RATE_FACTOR;
    with the order 6 the largest estimate was 5.3 times below the largest error, with
    log2 19.6 = 4.3 1.6 times)."""
    q = float(order)
    if rate is None:
        return q
    if rate < 2.0 ** order / rate_factor or (converging and rate < 2.0 ** order):
        floor = least_order if least_order is not None else (LEAST_ORDER if converging else 1.0)
        q = min(q, max(floor, math.log2(max(rate, 1.0))))       # the order is not p
    elif higher_order and rate > 2.0 ** order:
        q = min(order + 0.5, math.log2(rate))     # pre-asymptotic from above
    return q


def _with_coarser_pair(est, idx, Yc, levels, halving, rate, q, block=0):
    """Raise, in place, the estimates ``est`` of a solution on a given mesh whose observed
    order ``q`` is below the method's: each at least the coarser pair's difference |Yc - Yq|
    (the companion's and the solve on every fourth point's, ``levels``) over rate (2^q - 1),
    the estimate that pair gives of the solution's error where the rate holds pointwise.

    Below its order the error is a mix of terms of different orders whose shapes in t differ
    (the lower one's share grows as the steps shrink): the finer pair's difference then passes
    near zero where the two solutions' mixes happen to agree, over a stretch of points rather
    than at a crossing of one c(t) (:func:`_over_crossings`), while the error does not, and
    the coarser pair's difference does not vanish there (gregory6 on K = a |t - s|^2.5 y + c y,
    256 steps: at t = 1.9 the errors of the solution and its companion -5.2e-9 and -9.6e-9,
    an estimate 147 times below the error; gregory8 on 1024 steps, 270 times; gregory4 on 1024
    steps, whose rate 15.0 is just below 2^4, 32 times).  (Not on a uniform refinement to a
    tolerance: there it would fix gregory6 to 1e-8 on the same kernel, 406 steps, 23 times, but
    its raised estimates size the refinement, gregory8 on y = tan t to 1e-6 took 85921 kernel
    evaluations instead of 76099.)  At the points between those of the
    mesh of every fourth point the larger of the two neighbours' bounds; only up to the last
    of its points at which the rate was measured (``halving``, see :func:`_observed_rate`).

    Parameters
    ----------
    est : ndarray
        The estimates (N+1, d), raised in place (NaN stays NaN).
    idx : ndarray
        The common points' indices in the solution (the companion's points).
    Yc : ndarray
        The companion's values at them.
    levels : tuple
        (indices of the mesh of every fourth point in the companion's, its values).
    halving : int or None
        The companion's points at which the steps halve (:func:`_halving_points`).
    rate, q : float
        The observed rate and the order the estimate takes (q < the method's order).
    block : int
        A direct rule's starting block (Gregory's p - 1 steps; 0 for none): the points of
        the mesh of every fourth point up to its block's end give no bound.  Their
        difference is that block's on steps four times the solution's, which under an
        oscillating solution is far from any order (find 4's y = p0 + A e^(p1 t) cos 20t,
        gregory6 on 678 given steps: the first points' estimates 235 times their errors);
        the solution's start is checked by :func:`_start_block_check`.
    """
    iq, Yq = levels
    m = _halving_points(iq, halving) if halving is not None else len(iq)
    if m < 2:
        return
    iq = iq[:m]
    bound = np.abs(Yc[iq] - Yq[:m]) / (max(rate, 2.0 ** q) * _two_to_minus_one(q))
    bound[:block + 1] = 0.0       # (t0 and the block's points: see ``block``)
    points = np.asarray(idx)[iq]
    bound = _spread(points - points[0], bound, int(points[-1] - points[0]) + 1, est.shape[1])
    part = est[points[0]:points[-1] + 1]
    np.fmax(part, bound, out=part, where=~np.isnan(part))


def _with_finest_pair(est, Y, finest, between, q):
    """Raise ``est`` (in place), the estimate of the solution ``Y``, to |Y - finest| + |between
    - finest| / (2^q - 1) at the points that ``finest``, the finest level's values at the
    solution's points (a leading part of them), reached; ``between``: the level next to the
    finest one there (``Y`` itself when the finest level is the solution with every step
    bisected).  With the observed order (q = log2 of the rate) this is the estimate of the
    three levels' pairs alike; with an order set by a bound (LEAST_ORDER) it is the larger, the
    finest pair's."""
    n = len(finest)
    if n == 0:
        return
    extra = np.abs(Y[:n] - finest) + np.abs(between[:n] - finest) / _two_to_minus_one(q)
    np.maximum(est[:n], extra, out=est[:n])


def _unresolved_from(result, first, keep, worst, size):
    """``result`` unresolved from the mesh index ``first`` on (see :func:`_first_diverging`),
    unless it is not confirmed from an earlier point already."""
    if result.first_bad is None or first < result.first_bad:
        result.first_bad, result.reason, result.keep = first, "unresolved", keep
        result.disagreement, result.size, result.converging = worst, size, False


def _finish(Y, idx, diff, est, source, nfev, bad=False):
    """The Companion of the estimate ``est`` from the differences ``diff`` at the points ``idx``
    (``bad``: :func:`_first_unresolved`'s answer for them where the caller has it)."""
    if bad is False:
        bad = _first_unresolved(Y, idx, diff)
    result = _companion(est, bad, source, nfev, Y.shape[0])
    result.agreement = lambda: _agreement(Y, idx, diff)
    return result


def trim_lead_in(companion):
    """The number of leading values that a *failed* solve keeps when it keeps fewer than
    ``companion.keep`` (which it lowers to that), else None.

    Near a blow-up at t*, the solution on steps h and its companion do not converge at t*:
    y_h(t*) grows like h^(-beta) (beta the blow-up's exponent, y ~ (t* - t)^(-beta)), so the
    two differ there by 1 - 2^(-beta) of the size: 0.29 for y = 1 + int 2 y^3 (beta = 1/2),
    0.5 for y = 1 + int y^2 (beta = 1), both within UNRESOLVED, and the value at t* was kept
    by failed solves (rk4 on 12 steps over [0, 1.2] kept y(1) = 82 with an estimate of 2.7;
    the rectangle rule on 16 steps over [0, 0.5] kept values up to 0.3125, past t* = 0.25),
    while the points before agreed within 0.006 (within 0.08 for the rectangle rule).  The
    failure says that the asymptotic regime the estimate assumes ends near there: the run of
    compared points just before the kept end where the two disagree by more than LEAD_IN
    of the size (no digit confirmed) is dropped, with the values after the last point
    before it (NaN counts as disagreement)."""
    if companion.agreement is None:
        return None
    common, rel = companion.agreement()
    k = int(np.searchsorted(common, companion.keep))     # compared points kept
    j = k
    while j > 1 and not rel[j - 1] <= LEAD_IN:
        j -= 1
    if j == k or j < 1:
        return None
    keep = int(common[j - 1]) + 1
    if keep >= companion.keep:
        return None
    companion.keep = keep
    return keep


#: Up to this many points (N + 1) of a scalar solution, the half-steps companion's estimates
#: and check are made on Python floats (:func:`_half_steps_few`): each NumPy call on such
#: small arrays costs ~1 us, as much as the float operations on all of their values.
FEW = 64


def _maximum(a, b):
    """``np.maximum`` of two floats (the first NaN if either is NaN)."""
    return a if a >= b or math.isnan(a) else b


def running_size(Y):
    """The solution's size so far at each point of ``Y`` (N+1, d), as UNRESOLVED judges an
    estimate against it: the running maximum of max_a |Y[i, a]|, the size at t0 being the
    first step's, max(|y(t0)|, |y(t1)|) (a y(t0) that the solve computes, first kind, has that
    step's error; where y(t0) = 0 its own size failed every solve there: int_0^t y ds =
    1 - cos t, see :func:`_first_unresolved`); NaN propagating."""
    sizes = np.max(np.abs(Y), axis=1)
    sizes[0] = _maximum(sizes[0], sizes[1])
    return np.maximum.accumulate(sizes)


def none_over_size(values, Y, factor):
    """True if no ``values[i] > factor * running_size(Y)[i]`` can hold, shown without the
    running maximum (np.maximum.accumulate, ~3 ns a value, 0.2 ms at N = 2^16: most of such a
    check): running_size(Y)[i] is at least max_a |Y[i, a]|, or NaN (which no comparison
    passes), and a product with ``factor`` > 0 keeps that order, so no value above ``factor``
    times max_a |Y[i, a]| is none above ``factor`` times the running size either.  False: not
    shown (the caller compares with the running size)."""
    with np.errstate(invalid="ignore"):
        rows = _block_rows(Y)       # (by blocks: no full-length temporaries, see BLOCK_ELEMENTS)
        for a in range(0, len(Y), rows):
            if np.any(values[a:a + rows] > factor * _row_max(np.abs(Y[a:a + rows]))):
                return False
    return True


def running_size_few(y):
    """:func:`running_size` of a scalar solution's values ``y`` (a list of floats, at least
    two) on floats (each NumPy call on a few values costs ~1 us): the same maxima, NaN
    propagating, so the same floats."""
    sizes = list(map(abs, y))
    sizes[0] = _maximum(sizes[0], sizes[1])
    return list(itertools.accumulate(sizes, _maximum))


def _half_steps_few(Y, Yf, Yc, denominator):
    """(estimate, :func:`_first_unresolved`'s answer) of the half-steps companion on every other
    point of a scalar solution (``Yf``: Y there, ``Yc``: the companion), as :func:`_spread` and
    :func:`_first_unresolved` make them, on floats: the same operations on each value (the
    differences, the division, :func:`_over_crossings`, NumPy's maximum with its NaN, the
    running size), so the same floats."""
    signed = list(map(operator.sub, Yf[:, 0].tolist(), Yc[:, 0].tolist()))
    diff = list(map(abs, signed))
    common = [v / denominator for v in diff]
    m = len(common)
    unlifted = None
    # (where the differences after the first are all of one sign, the first not of the other,
    # no estimate touches zero and the last is not TOUCH times below the one before,
    # :func:`_over_crossings` raises nothing; a NaN does not count (min and max skip it but as
    # their first value, when the test fails): else it is called on arrays)
    rest = signed[1:]
    if rest and (not (min(rest) > 0.0 and not signed[0] < 0.0 or
                      max(rest) < 0.0 and not signed[0] > 0.0) or
                 any(map(_touches, common, common[1:], common[2:])) or
                 TOUCH * common[-1] < common[-2]):
        common_est = np.array(common).reshape(-1, 1)
        lifted = _over_crossings(common_est, np.array(signed).reshape(-1, 1))
        if lifted is not common_est:
            unlifted = _spread_halves(common, Y.shape[0])
            common = lifted[:, 0].tolist()
    est = _spread_halves(common, Y.shape[0])
    # the running size max_{j <= i} |Y_j| at the common points i = 2 k against the difference
    # there (False for NaN)
    size = list(itertools.accumulate(map(abs, Y[:2 * m - 1, 0].tolist()), _maximum))[0::2]
    if size and Y.shape[0] > 1:      # (the size at t0: the first step's, as there)
        first = _maximum(abs(float(Y[0, 0])), abs(float(Y[1, 0])))
        if first > size[0]:
            size[0] = first
    for k, (worst, scale) in enumerate(zip(diff, size)):
        if not worst <= UNRESOLVED * scale:
            return est, (2 * k, 2 * k - 1 if k > 0 else 1, worst, scale), unlifted
    return est, None, unlifted


def _touches(left, middle, right):
    """Whether the estimate ``middle`` is TOUCH times below both of its neighbours' (the test
    of :func:`_over_crossings` on floats)."""
    return TOUCH * middle < left and TOUCH * middle < right


def _spread_halves(common, n_points):
    """:func:`_spread` of the estimates ``common`` (floats) at the points 0, 2, 4, ... of a
    scalar solution of ``n_points`` points."""
    m = len(common)
    est = [0.0] * (2 * m - 1)
    est[0::2] = common
    est[1::2] = list(map(_maximum, common, common[1:]))
    est += [common[-1]] * (n_points - len(est))
    return np.array(est).reshape(-1, 1)


def _agreement(Y, idx, diff):
    """:attr:`Companion.agreement` of the comparison ``diff`` (rows) at the points ``idx``."""
    size = np.maximum.accumulate(_row_max(np.abs(Y)))[idx]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(idx), _row_max(diff) / size


def _companion(est, bad, source, nfev, n_points):
    """The Companion of the estimate ``est`` and :func:`_first_unresolved`'s ``bad``."""
    if bad is None:
        return Companion(est, None, "", source, nfev, keep=n_points)
    first, keep, worst, size = bad
    return Companion(est, first, "unresolved", source, nfev, keep, worst, size)
