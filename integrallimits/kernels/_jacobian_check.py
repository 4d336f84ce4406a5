"""A check of a user-given Jacobian dK/dy against difference quotients of K.

The solvers use a Jacobian the user gave only in Newton's method, where a wrong one slows the
iteration but not its answer.  A discrete adjoint uses it as the derivative itself: a Jacobian
missing a chain-rule term (K = -y (1 + y^2 / 2) with -(1 + y^2 / 2)) gave gradients 43-51% off
with status True.  :func:`jacobian_disagreement` compares the Jacobian with central and
one-sided difference quotients of K at a few points (O(d) calls of K each), and says where
they disagree by more than the quotients' own error allows.
"""
from __future__ import annotations

import functools

import numpy as np

from .._numba import JIT_OPTIONS, njit, optimise_for_size, types
from . import _user
from ._kernel import ParamJacobianFunction, ParamKernelFunction, function_at

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
_A1, _A2 = types.float64[::1], types.float64[:, ::1]
_kernel_at = function_at(ParamKernelFunction)
_jacobian_at = function_at(ParamJacobianFunction)


def jacobian_disagreement(kernel, ts, ss, ys, floor=1.0, size=0.0):
    """Where ``kernel``'s Jacobian disagrees with difference quotients of its function.

    At each point (t, s, y) = (ts[p], ss[p], ys[p]) and for each component b, K is
    evaluated at y and at y +- k h e_b for k in :data:`STEPS`, h = eps^(1/3) max(|y_b|,
    ``floor``): 6 d + 1 calls of K and one of the Jacobian per point.  Of the central, forward
    and backward quotients (step h/2) of each entry, those that moved by at most
    :data:`RESOLVED` of themselves over the steps judge it: J[a, b] is accepted if it lies
    within tol of the interval they span (at a kink such as relu's or abs's the one-sided
    quotients differ, and any value between them, a subgradient, is accepted), where
    tol = SAFETY (spread + rounding) + RELATIVE size; spread is how far those quotients moved
    over the steps (their own error: K's curvature, its noise, a kink nearby), rounding is
    eps |K| / (h/2).  An entry no quotient judges, and a point where K or the Jacobian is not
    finite (or raises: its compiled wrapper then writes NaN), are skipped: this check only
    judges, it never fails on its own account.  The loop is compiled (:func:`_check`, once for
    every kernel: K and the Jacobian are called through their addresses).

    Parameters
    ----------
    kernel : Kernel
        With a ``jacobian_function``.
    ts, ss : ndarray (P,)
        The points' t and s.
    ys : ndarray (P, d)
        The points' y (C-ordered).
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
    worst = np.empty(6)
    function, jacobian = kernel.function_address, kernel.jacobian_address
    _user.clear_failures()   # (a raise or a non-finite value leaves NaN: that point is skipped)
    try:
        at = _compiled()(function.address, jacobian.address, kernel.params, ts, ss, ys,
                         float(floor), float(size), worst)
    finally:
        _user.take_failure()
    calls = ys.shape[0] * (1 + 2 * len(STEPS) * ys.shape[1])
    if at < 0:
        return None, calls
    t, s, y = float(ts[at]), float(ss[at]), ys[at]
    a, b = int(worst[0]), int(worst[1])
    given, low, high, tol = (float(v) for v in worst[2:])
    where = f"t = {t!r}, s = {s!r}, y = {_user._show(float(y[0]) if kernel.scalar else y)}"
    entry = "dK/dy" if kernel.scalar else f"dK/dy[{a}, {b}]"
    quotients = (f"{(low + high) / 2 + 0.0:.6g}" if high - low <= tol
                 else f"between {low + 0.0:.6g} and {high + 0.0:.6g}")
    return (f"the Jacobian given with the kernel disagrees with difference quotients of "
            f"K(t, s, y) at {where}: {entry} is {given:.6g} by the Jacobian, {quotients} by "
            f"differences of K (to within {tol:.2g})"), calls


#: ``(K_at, J_at, theta, ts, ss, ys, floor, size, worst)`` -> the index of the worst point or -1
_SIGNATURE = types.int64(types.int64, types.int64, _A1, _A1, _A1, _A2, types.float64,
                         types.float64, _A1)


@functools.lru_cache(maxsize=None)
def _compiled():
    """:func:`_check` compiled (or loaded from the cache) on first use: one machine code for
    every kernel, which it calls through the addresses of its compiled functions."""
    return njit(_SIGNATURE, **{k: v for k, v in JIT_OPTIONS.items() if k != "nopython"})(_check)


def _check(K_at, J_at, theta, ts, ss, ys, floor, size, worst):
    """The check of :func:`jacobian_disagreement` at the points (ts[p], ss[p], ys[p]): the
    index of the point of the worst disagreeing entry (-1 if none), whose (a, b, J[a, b], low,
    high, tol) it writes into ``worst``.  Each operation is NumPy's in the Python version this
    replaced (the same values, bit for bit: the same verdicts and messages)."""
    optimise_for_size()
    K, Jf = _kernel_at(K_at), _jacobian_at(J_at)
    P, d = ys.shape
    S = len(STEPS)
    Y = np.empty((1, d))
    J = np.empty((d, d))
    f0 = np.empty(d)
    h = np.empty(d)
    steps = np.empty((2 * S, d))
    values = np.empty((2 * S * d, d))      # row i d + b: K at y with y_b moved by the i-th step
    low = np.empty((d, d))                 # [b, a], as the quotients are
    high = np.empty((d, d))
    spread = np.empty((d, d))
    moved = np.empty(3)
    fine = np.empty(3)
    best, found = 0.0, -1
    for p in range(P):
        t, s = ts[p], ss[p]
        for c in range(d):
            Y[0, c] = ys[p, c]
            h[c] = STEP * max(abs(ys[p, c]), floor)
        K(t, s, Y, 0, theta, f0)
        Jf(t, s, Y, 0, theta, J)
        finite = True
        for a in range(d):
            finite = finite and np.isfinite(f0[a])
            for b in range(d):
                finite = finite and np.isfinite(J[a, b])
        for i in range(2 * S):
            k = STEPS[i] if i < S else -STEPS[i - S]
            for b in range(d):
                for c in range(d):
                    Y[0, c] = ys[p, c] + k * (h[c] if c == b else 0.0)
                steps[i, b] = Y[0, b] - ys[p, b]     # the step actually representable
                K(t, s, Y, 0, theta, values[i * d + b])
                for a in range(d):
                    finite = finite and np.isfinite(values[i * d + b, a])
        if not finite:
            continue
        largest = 0.0      # the largest resolved quotient's size
        for b in range(d):
            for a in range(d):
                # central, forward, backward quotients with the steps k h: fine = step h/2
                top = abs(f0[a])
                for i in range(2 * S):
                    top = max(top, abs(values[i * d + b, a]))
                for kind in range(3):
                    worst_move, nan = 0.0, False
                    for i in range(S):
                        up, down = values[i * d + b, a], values[(S + i) * d + b, a]
                        if kind == 0:
                            q = (up - down) / (steps[i, b] - steps[S + i, b])
                        elif kind == 1:
                            q = (up - f0[a]) / steps[i, b]
                        else:
                            q = (down - f0[a]) / steps[S + i, b]
                        if i == 0:
                            fine[kind] = q
                        move = abs(q - fine[kind])
                        nan = nan or np.isnan(move)
                        worst_move = max(worst_move, move)
                    moved[kind] = np.nan if nan else worst_move
                lo, hi, most = np.inf, -np.inf, 0.0
                for kind in range(3):
                    if moved[kind] <= RESOLVED * abs(fine[kind]):
                        lo = min(lo, fine[kind])
                        hi = max(hi, fine[kind])
                        most = max(most, moved[kind])
                        largest = max(largest, abs(fine[kind]))
                if lo > hi:      # no quotient resolved
                    lo, hi = -np.inf, np.inf
                low[b, a], high[b, a] = lo, hi
                spread[b, a] = most + 4.0 * _EPS * top / abs(steps[0, b])
        jmax = 0.0
        for a in range(d):
            for b in range(d):
                jmax = max(jmax, abs(J[a, b]))
        scale = RELATIVE * max(max(size, largest), jmax)
        # the entry of the largest excess (the first one; a NaN first, as np.argmax)
        at_a, at_b, top_excess, top_tol = -1, -1, 0.0, 0.0
        for a in range(d):
            for b in range(d):
                tol = SAFETY * spread[b, a] + scale
                excess = max(low[b, a] - J[a, b], J[a, b] - high[b, a]) - tol
                if at_a < 0 or excess > top_excess or (np.isnan(excess)
                                                       and not np.isnan(top_excess)):
                    at_a, at_b, top_excess, top_tol = a, b, excess, tol
        if not top_excess > 0.0:
            continue
        ratio = top_excess / top_tol if top_tol > 0.0 else np.inf
        if found < 0 or ratio > best:
            best, found = ratio, p
            worst[0], worst[1], worst[2] = at_a, at_b, J[at_a, at_b]
            worst[3], worst[4], worst[5] = low[at_b, at_a], high[at_b, at_a], top_tol
    return found
