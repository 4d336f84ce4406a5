"""Error estimates and tolerances for Fredholm solves.

The companion of a Nyström solve with M nodes is the same rule with M' = M + max(2, M/4)
nodes (panels, for the composite rules; a node or a few more where that makes the two share no
interior node, :func:`companion_size`): its Nyström interpolant at the M nodes is more
accurate than y_M -- geometrically for the Gauss-type and Clenshaw-Curtis rules, by
(M'/M)^p for composite rules of order p -- so

    est = |y_M - y_{M'}(x_m)|,   divided by 1 - (M/M')^p for composite rules,

its largest value at x_m and the two nodes on either side (:func:`_neighbour_envelope`: a
difference can cancel at a single node), estimates the error of y_M at its nodes.  It costs
about (1.25)^3 ~ 2 more LU factorisations' work and 1.6 times the assembly, which is the price
of knowing the answer's accuracy.  A nonlinear companion's Newton iteration starts from y_M's
Nyström interpolant at its nodes: it converges in a step or two, and to the solution y_M
approximates (from g it could find another).

With a tolerance the number of nodes grows by a factor 1.5 (composite rules: from the order,
``M (est/tol)^(1/p)``; the observed order of the estimates where it is lower, see
``_solve._with_observed_order``) until the estimate meets atol + rtol |y| at every node.
"""
from __future__ import annotations

import math

import numpy as np

from . import _assembly

#: (np.finfo(float).eps, a NumPy float64 as it was: np.finfo costs ~0.5 us a call)
_EPS = np.finfo(float).eps

__all__ = ["companion_size", "condition_message", "with_estimate"]

#: Orders of the composite rules (the others converge geometrically for analytic data).
COMPOSITE_ORDERS = {"rectangle": 2, "trapezoid": 2, "simpson": 4}
#: The exponent of the condition number's growth from a solve to its companion from which a
#: solve on a rule that converges geometrically (Gauss-type, Clenshaw-Curtis) is not a
#: success (see :func:`_check_condition_growth`): their discrete eigenvalues approach the
#: operator's like rho^-M, so near an eigenvalue the condition number grows by orders of
#: magnitude from M to M' (exponents 3.5 to 38 measured where the answers were wrong), where a
#: resolved problem's has converged (exponents below 0.9 from 4 nodes on; up to 2.5 where the
#: rule did not resolve the kernel yet, and the estimate said so).
GEOMETRIC_GROWTH = 3.0


def _fit(n, rule_name):
    """n rounded up to a size the rule accepts (Simpson's rule needs an even number of panels)."""
    return n + n % 2 if rule_name == "simpson" else n


#: The symmetric rules whose odd sizes have a node at the middle of the interval.
_MIDDLE_NODE = ("gauss-legendre", "gauss-lobatto")


def companion_size(n, rule_name=None):
    """The companion's size for a solve on ``n`` nodes of the named rule: n + max(2, n/4), fitted
    to the rule, and then raised (by one or a few) until the two rules share no interior node
    where that is known: the companion of an odd Gauss-Legendre or Gauss-Lobatto rule is even
    (odd sizes have a node at the middle), and Clenshaw-Curtis' n and m have n - 1 and m - 1
    coprime (their nodes cos(k pi / (n - 1)) share cos(j pi / (m - 1)) otherwise).  At a shared
    node a kernel (or g) that jumps or kinks there is taken alike by both rules, which make the
    same kind of error, and their difference is far below it: K = (s < 1/2) y, g = 1/2 on
    [0, 1] (y = 1), Gauss-Legendre on 11 nodes with a companion of 13: an error of 0.12 with an
    estimate of 0.016, Clenshaw-Curtis 0.14 with 0.020; with 14, estimates of 0.12 and 0.14,
    the errors.  (A jump between the nodes is met by each rule at its own place: no such
    common error.)  Even sizes (and Clenshaw-Curtis' n - 1 coprime to m - 1 as they were) keep
    their companion: no cost on the sizes most used; an odd size's companion has one node
    more."""
    m = _fit(n + max(2, n // 4), rule_name)
    if rule_name == "clenshaw-curtis":
        while n > 2 and math.gcd(n - 1, m - 1) > 1:
            m += 1
    elif rule_name in _MIDDLE_NODE and n % 2 and m % 2:
        m += 1
    return m


def with_estimate(solve, sol, rule_name, n_nodes):
    """Attach ``error_estimate`` (and ``stats["max_error_estimate"]``) to a Fredholm solution,
    from the companion ``solve(n, sol)`` (a solve with another size and no estimate, whose
    Newton iteration starts from the Nyström interpolant of ``sol``)."""
    y2 = sol._y2
    estimate = None
    sol.stats["error_estimate"] = "none"
    if sol.success and rule_name is not None and n_nodes is not None:
        m = companion_size(n_nodes, rule_name)
        comp = solve(m, sol)
        sol.stats["nfev"] += comp.stats.get("nfev", 0)
        sol.stats["error_estimate_nfev"] = comp.stats.get("nfev", 0)
        if comp.success:
            values = comp._interpolate(sol.x, sol._g_nodes)     # g at sol.x is known
            p = COMPOSITE_ORDERS.get(rule_name)
            # |y2 - values|, its envelope over neighbours (:func:`_neighbour_envelope`), divided
            # by 1 - (n/m)^p for a composite rule, at least :func:`_rounding_floor` (and the
            # largest estimate, below), in one compiled pass: the same values as those NumPy
            # operations, which cost ~8 us at small M
            cond = sol.stats.get("condition")
            estimate = np.empty(y2.shape)
            top, finite_top, finite = _assembly.compiled("estimate")(
                np.ascontiguousarray(y2), np.ascontiguousarray(values, dtype=float),
                ENVELOPE_RADIUS, 1.0 if p is None else 1.0 - (n_nodes / m) ** p,
                cond * _EPS if cond and math.isfinite(cond) else -1.0, estimate)
            sol.stats["error_estimate"] = f"{rule_name} with {m}"
            _check_condition_growth(sol, comp, n_nodes, m, p)
        else:   # say so: a NaN estimate beside a success would read as "none was asked for"
            sol.stats["error_estimate"] = f"none: the companion solve with {m} nodes failed"
            sol.message += (f" No error estimate: the companion solve with {m} nodes failed: "
                            f"{comp.message}")
    if estimate is None:
        estimate = np.full_like(y2, np.nan)
        top = finite_top = math.nan
        finite = 0
    # the largest finite estimate: the largest one, if that is finite (NaN would be, inf is
    # larger than any finite one); else the largest finite one
    top = float(top) if estimate.size else math.nan
    if not math.isfinite(top):
        top = float(finite_top) if finite else float("nan")
    sol.stats["max_error_estimate"] = top
    sol.set_error_estimate(estimate)
    return sol


#: The estimate at a node is the largest difference at the nodes within this many places of it
#: (in increasing order): see :func:`_neighbour_envelope`.
ENVELOPE_RADIUS = 2


def _neighbour_envelope(diff, radius=ENVELOPE_RADIUS):
    """The largest of ``diff`` ((M, d), rows: the nodes, in increasing order as every named
    rule gives them) over each node and the ``radius`` nodes on either side of it.

    The error of y_M at its nodes varies slowly from node to node, but that of the companion's
    interpolant at x_m need not: where the data are not smooth at s = x (a kink of K on the
    diagonal, K = |x - s| y), it depends on where x_m falls among the companion's nodes, and is
    of the size of y_M's own error, so the difference of the two can cancel at a single node.
    K = l |x - s| y on [0, 1], y = e^x, Gauss-Legendre, Clenshaw-Curtis and trapezoid rules with
    M = 8..200 and l = 0.5, -1, 2, -3: errors up to 1254 times a node's estimate (52 of 120
    solves had a node above 20 times), while the largest estimate covered the largest error;
    with the envelope over 2 nodes either side, at most 6.6 times."""
    n, r = len(diff), radius
    padded = np.zeros((n + 2 * r, diff.shape[1]))   # (differences are >= 0)
    padded[r:r + n] = diff
    env = padded[:n].copy()
    for k in range(1, 2 * r + 1):
        np.maximum(env, padded[k:k + n], out=env)
    return env


def _rounding_floor(sol):
    """The error the solve of ``sol`` can make in floating point, per component: its condition
    number times eps times the largest |y| at the nodes (the bound of the ``max_condition``
    documentation).  The companion, which starts from ``sol``'s interpolant, makes its own
    rounding error of that size, which may cancel in their difference: y = 1 + l int_0^1 y^2 ds
    at l = 1/4 - 1e-10, near its fold, had an error of 1.2e-12 and an estimate of 0 on 8 nodes
    (condition 1.5e5); y = 1 + l int_0^1 e^(x-s) y ds with l = 1 - 1e-4 (condition 4.8e4, 16
    nodes), 3e-13 for 1.2e-14; y = 1 with A = 1e6 cos 3(x - s) (condition 2.1e6, 20 nodes),
    1.4e-10, 25 times the estimate at a node."""
    cond = sol.stats.get("condition")
    if not cond or not math.isfinite(cond):
        return 0.0
    return (cond * _EPS) * np.abs(sol._y2).max(axis=0)


def _check_condition_growth(sol, comp, n, m, p):
    """Set ``stats["condition_growth"]``, the exponent of the condition number's growth from
    ``sol`` (n nodes) to its companion (m), and ``sol._condition_grows``: whether it grows
    like the composite rule's M^p (an exponent of 0.75 p or more, a condition number of 100 or
    more; for the rules that converge geometrically (``p`` None) an exponent of
    :data:`GEOMETRIC_GROWTH` or more).  Regular problems' condition numbers converge (exponents
    below 0.3 from 8 nodes on the problems measured).  One that grows so says that 1 is
    (close to) an eigenvalue of the integral operator and that the discrete eigenvalue is
    still off it by the rule's quadrature error (O(h^p)): the discrete solutions then agree
    with each other but not with the equation, and the estimate, their difference, says
    nothing.  Where 1 is an eigenvalue every y + c e
    (e its eigenfunction) may solve the equation: y = x - 2/3 + int_0^1 3 x s y ds, which the
    trapezoid rule answers with c = -1, estimate 1e-14 (condition 358 -> 490,000 from 8 to
    256 nodes).  Where it is only close, the answer is wrong: y = 1 + x - 2.5 l x +
    l int_0^1 3 x s y ds, l = 1 - 1e-6, has y = 1 + x, and the trapezoid rule's answers on 16
    and 20 panels are both y = 1 to 1e-4 (error 1.0, estimate 8e-4) until h^2 is well below
    1 - l.  The Gauss-type rules and Clenshaw-Curtis approach the eigenvalue geometrically,
    but from few nodes they are off it as well: y = 1 + sin(pi x) - l (4/pi + 1) sin(pi x) +
    l int_0^1 2 sin(pi x) sin(pi s) y ds, l = 1 - 1e-14, has y = 1 + sin(pi x); Gauss-Legendre
    on 6 and 8 nodes both answered y ~ 1 + 0.07 sin(pi x) (error 0.93, estimate 6e-4), the
    condition number growing from 3.5e6 to 2.8e10 (an exponent of 31)."""
    c1, c2 = sol.stats.get("condition"), comp.stats.get("condition")
    if not c1 or not c2 or not (math.isfinite(c1) and math.isfinite(c2)):
        return
    growth = math.log(c2 / c1) / math.log(m / n)
    sol.stats["condition_growth"] = growth
    sol._geometric_rule = p is None
    sol._condition_grows = growth >= (GEOMETRIC_GROWTH if p is None else 0.75 * p) and \
        c2 >= 100.0


def condition_message(sol):
    """The sentence that says why a solve whose condition number grows like M^p has no
    checked digit (see :func:`_check_condition_growth`)."""
    return (f"The condition number grows like M^{sol.stats['condition_growth']:.2g} with the "
            f"number of nodes (now {sol.stats['condition']:.3g}): 1 is (close to) an eigenvalue "
            f"of the integral operator, and the rule's discrete eigenvalue is still off it by "
            f"its quadrature error, so the solves with different numbers of nodes agree with "
            f"each other but need not agree with the equation.  Where 1 is an eigenvalue, the "
            f"solution is not unique and these values may be one of them; where it is close to "
            f"one, they can be off by their own size.  A rule with more nodes (until the "
            f"condition number stops growing) resolves it"
            f"{'' if getattr(sol, '_geometric_rule', False) else ', or a Gauss-type rule'}.")


def next_size(n, ratio, rule_name, order=None):
    """The next size for an observed max est/tol > 1 (``order``: an observed order that takes
    the place of a composite rule's)."""
    p = COMPOSITE_ORDERS.get(rule_name)
    if p is not None and order is not None:
        p = max(order, 1.0)     # (a noisy order below 1 would grow the rule by ratio^2)
    if p is None or not math.isfinite(ratio):
        return _fit(int(math.ceil(1.5 * n)), rule_name)
    return _fit(max(n + 2, int(math.ceil(1.15 * n * ratio ** (1.0 / p)))), rule_name)
