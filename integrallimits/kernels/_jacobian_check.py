"""A check of a user-given Jacobian dK/dy against difference quotients of K.

The solvers use a Jacobian the user gave only in Newton's method, where a wrong one slows the
iteration but not its answer.  A discrete adjoint uses it as the derivative itself: a Jacobian
missing a chain-rule term (K = -y (1 + y^2 / 2) with -(1 + y^2 / 2)) gave gradients 43-51% off
with status True.  :func:`jacobian_disagreement` compares the Jacobian with central and
one-sided difference quotients of K at a few points (O(d) calls of K each), and says where
they disagree by more than the quotients' own error allows.
"""
from __future__ import annotations

import numpy as np

from . import _user

__all__ = ["jacobian_disagreement"]

#: The difference step eps^(1/3) max(|y_b|, floor): the central quotient's truncation error
#: (h^2) and rounding (eps / h) are then both near eps^(2/3) of K's scale.
STEP = float(np.finfo(float).eps) ** (1.0 / 3.0)
#: The quotients are taken with the steps h/2, h and 40 h: the first two estimate the error of
#: the quotient with step h/2; the third breaks a coincidence of the two in K's rounding (K
#: rounded to multiples of q, as -((y + 1e8) - 1e8), has quotients with steps h and h/2 biased
#: alike by up to q / h: 6 of 2000 points were refused with 16 h, none with 40 h, not a power
#: of 2 times h) and sees a kink or a singularity within 40 h.
STEPS = (0.5, 1.0, 40.0)
#: A quotient that moves by more than this share of itself over the steps is not resolved: it
#: does not judge the Jacobian (a kink or K's noise within the steps, sqrt(y) near 0).
RESOLVED = 0.05
#: A disagreement is refused beyond SAFETY times the quotients' own error estimate ...
SAFETY = 10.0
#: ... plus this share of the Jacobian's size (its largest entry, or the quotients', or the
#: ``size`` given).  Not less: K computed in single precision (float32(sin y)) has quotients
#: off by up to its rounding 6e-8 / (40 h) = 2.5e-4 of K's size, and 1e-4 refused 1-23 of 2000
#: points of such kernels with the right Jacobian.
RELATIVE = 1e-3
_EPS = float(np.finfo(float).eps)


def jacobian_disagreement(kernel, points, floor=1.0, size=0.0):
    """Where ``kernel``'s Jacobian disagrees with difference quotients of its function.

    At each point (t, s, y) (y a float or an array (d,)) and for each component b, K is
    evaluated at y and at y +- k h e_b for k in :data:`STEPS`, h = eps^(1/3) max(|y_b|,
    ``floor``): 6 d + 1 calls of K and one of the Jacobian per point.  Of the central, forward
    and backward quotients (step h/2) of each entry, those that moved by at most
    :data:`RESOLVED` of themselves over the steps judge it: J[a, b] is accepted if it lies
    within tol of the interval they span (at a kink such as relu's or abs's the one-sided
    quotients differ, and any value between them, a subgradient, is accepted), where
    tol = SAFETY (spread + rounding) + RELATIVE size; spread is how far those quotients moved
    over the steps (their own error: K's curvature, its noise, a kink nearby), rounding is
    eps |K| / (h/2).  An entry no quotient judges, and a point where K or the Jacobian is not
    finite (or raises), are skipped: this check only judges, it never fails on its own account.

    Parameters
    ----------
    kernel : Kernel
        With a ``jacobian_function``.
    points : iterable of (t, s, y)
    floor : float
        The size below which |y_b| does not shrink the step (as the solvers' Jacobians:
        :func:`~integrallimits.kernels._kernel.fd_floor` of y(t0)).
    size : float
        The least size of the Jacobian that matters: 1 / T for an adjoint over an interval
        of length T (it reads T dK/dy against the identity: an error below RELATIVE / T moves
        its gradient by less than RELATIVE of itself).

    Returns
    -------
    tuple
        ``(said, calls)``: ``said`` is None if every entry agreed, else a sentence naming the
        worst entry, its point, the Jacobian's value and the quotients'; ``calls`` is the
        number of calls of K made.
    """
    d = kernel.dim
    worst, calls = None, 0
    for t, s, y in points:
        y = np.array(y, dtype=float).reshape(d)
        found, n = _at_point(kernel, float(t), float(s), y, floor, size)
        calls += n
        if found is not None and (worst is None or found[0] > worst[0]):
            worst = found + ((float(t), float(s), y),)
    if worst is None:
        return None, calls
    _, a, b, given, low, high, tol, (t, s, y) = worst
    where = f"t = {t!r}, s = {s!r}, y = {_user._show(y[0] if kernel.scalar else y)}"
    entry = "dK/dy" if kernel.scalar else f"dK/dy[{a}, {b}]"
    quotients = (f"{(low + high) / 2 + 0.0:.6g}" if high - low <= tol
                 else f"between {low + 0.0:.6g} and {high + 0.0:.6g}")
    return (f"the Jacobian given with the kernel disagrees with difference quotients of "
            f"K(t, s, y) at {where}: {entry} is {given:.6g} by the Jacobian, {quotients} by "
            f"differences of K (to within {tol:.2g})"), calls


def _at_point(kernel, t, s, y, floor, size):
    """(excess, a, b, J[a, b], low, high, tol) of the worst disagreeing entry at (t, s, y),
    or None; and the number of calls of K."""
    d = kernel.dim
    Y = y.reshape(1, d).copy()
    J = np.empty((d, d))
    h = STEP * np.maximum(np.abs(y), floor)
    ks = np.array(STEPS)
    rows = y + np.concatenate([ks, -ks])[:, None, None] * np.diag(h)[None]   # (2S, d, d)
    values = np.empty(rows.shape)
    _user.clear_failures()
    try:
        f0 = np.empty(d)
        kernel.function(t, s, Y, 0, kernel.params, f0)
        kernel.jacobian_function(t, s, Y, 0, kernel.params, J)
        for i in range(rows.shape[0]):
            for b in range(d):
                Y[0] = rows[i, b]
                kernel.function(t, s, Y, 0, kernel.params, values[i, b])
    finally:
        failed = _user.take_failure() is not None
    calls = 1 + rows.shape[0] * d
    if failed or not np.isfinite(np.sum(J) + np.sum(values) + np.sum(f0)):
        return None, calls
    low, high, spread, largest = _quotients(y, rows, values, f0)
    tol = SAFETY * spread + RELATIVE * max(size, largest, np.max(np.abs(J)))
    excess = np.maximum(low - J, J - high) - tol
    a, b = np.unravel_index(int(np.argmax(excess)), excess.shape)
    if not excess[a, b] > 0.0:
        return None, calls
    return ((excess[a, b] / tol[a, b] if tol[a, b] > 0.0 else np.inf, a, b, float(J[a, b]),
             float(low[a, b]), float(high[a, b]), float(tol[a, b])), calls)


def _quotients(y, rows, values, f0):
    """(low, high, error, largest): (d, d) arrays in the Jacobian's layout [a, b], the least and
    largest of the resolved central, forward and backward quotients with step h/2 (-inf and inf
    where none is), and the rounding plus the most a resolved one moved over the steps; and the
    largest resolved quotient's size.  ``rows[i, b]``: y with y_b moved by the i-th of the
    steps (+STEPS, then -STEPS), ``values[i, b]`` K there."""
    S = len(STEPS)
    b = np.arange(y.shape[0])
    steps = (rows[:, b, b] - y)[:, :, None]          # the steps actually representable
    up, down = values[:S], values[S:]
    quotients = np.stack([(up - down) / (steps[:S] - steps[S:]), (up - f0) / steps[:S],
                          (down - f0) / steps[S:]])   # [kind, step, b, a]
    fine = quotients[:, 0]
    moved = np.max(np.abs(quotients - fine[:, None]), axis=1)
    resolved = moved <= RESOLVED * np.abs(fine)
    largest = np.maximum(np.max(np.abs(values), axis=0), np.abs(f0))
    rounding = 4.0 * _EPS * largest / np.abs(steps[0])
    low = np.where(resolved, fine, np.inf).min(axis=0)
    high = np.where(resolved, fine, -np.inf).max(axis=0)
    spread = np.where(resolved, moved, 0.0).max(axis=0) + rounding
    unjudged = low > high                             # no quotient resolved
    low[unjudged], high[unjudged] = -np.inf, np.inf
    return low.T, high.T, spread.T, float(np.max(np.abs(np.where(resolved, fine, 0.0))))
