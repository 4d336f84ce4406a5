"""Compiled loops of the Volterra solvers: one loop per method family.

The loops are plain Python functions compiled lazily (on first use) with explicit
signatures whose kernel arguments are Numba first-class functions (the kernel
``function``, its ``jacobian_function`` and its ``block_sum``, see
``integrallimits.kernels``).  So each loop is compiled once for every kernel, and
cached on disk: a new user kernel costs only the compilation of its own body.
The history sums go through the kernel's ``block_sum`` (the kernel inlined in
one loop), single evaluations through ``function``.

Conventions: states are C-contiguous (M, d) float64 arrays; ``stats`` is an
int64 array [kernel evaluations, Jacobian evaluations, Newton iterations,
Newton solves]; every loop returns (status, index) with status 0 (success),
1 (a Newton solve failed at mesh index ``index``) or 2 (a non-finite value at
``index``).
"""
from __future__ import annotations

import math

import numpy as np
from .._numba import njit

from .._numba import JIT_OPTIONS, NO_NRT, optimise_for_size, types
from .._linalg import solve_inplace
from ..kernels._kernel import (BlockSumFunction, ParamJacobianFunction, ParamKernelFunction,
                               fd_floor, function_at, size_floor)
from ..kernels._structured import LAG_SIGNATURE
from ._interrupt import register
from ._fft import (LOCAL_BLOCK, add_block, add_local, add_sources, block_workspace,
                   stage_channels)

NFEV, NJEV, NIT, NSOLVE = 0, 1, 2, 3
#: The slot of a Runge-Kutta/collocation loop's counters (after the four work counters, before
#: the stop request: ``new_counts(5)``) that its caller sets to 1 for an exploratory solve of
#: the adaptive driver (:func:`integrallimits.volterra._adaptive.solve_adaptive`: the uniform
#: try and its companions, the steps of a controlled pass, the solves that measure a rate),
#: whose failure only leads to a finer mesh or a shorter step: there a Newton solve of the
#: stages (:func:`_stages_at`) also fails as soon as an update is more than DIVERGE times the
#: one before and above the rounding level (ROUNDING_UPDATE times eps of the stages): its
#: iteration is not contracting (Newton with the Jacobian of every iterate contracts
#: quadratically near a root; the Radau IIA codes stop at a contraction estimate of 1 too),
#: where it went on to the driver's cap (8 iterations).  On y = t + int y^2 ds over [0, 1.5],
#: where a step is too long for the implicit equation to have a root, radau3 on 2 steps spent
#: 55 iterations (1002 kernel evaluations) to fail with the user's cap of 50, 7 (138) with
#: this stop.  Every other solve (fixed meshes, the solves the driver accepts or checks with
#: the user's ``newton_maxiter``, dense output) leaves it 0 and iterates as before, bit for bit:
#: a step that grows once may still converge, and a fixed mesh's blow-up is reported from the
#: values it reached.  A converged solve is the same with the stop or without it (the stop
#: only turns a solve that would go on iterating into a failure).
#:
#: Bit 2 of the slot (``SHARED``) marks a solve of the driver whose Newton tolerance is a share
#: of the solve's tolerance (``_adaptive.NEWTON_SHARE``, looser than the user's ``newton_tol``):
#: there the stages of a step of a plain solve start from the previous step's stage polynomial
#: extrapolated (:func:`_extrapolated_guesses`; from y_n again where that fails), and Newton
#: (also in a controlled pass's steps) stops once its update
#: contracted by at least CONTRACTED and the geometric bound on the error of the new iterate,
#: |dZ|^2 / (|dZ_previous| - |dZ|) (the Radau IIA codes' eta |dZ|), is below tol |Z|: the update
#: test alone took one more iteration whose only use was to show that (each one m^2 (1 + d)
#: kernel evaluations with differenced Jacobians).  Newton's error stays below that share of
#: the tolerance, which its checks cannot see (y = tan t, radau3 at 1e-3 and 1e-6, gauss2 at
#: 1e-3: 1.41, 1.39, 1.70 -> 1.25, 1.19, 1.47 times the best uniform mesh's kernel
#: evaluations).  Solves at the user's ``newton_tol`` (fixed meshes, the driver's at
#: tolerances where the share is not looser) leave it 0 and iterate as before, bit for bit.
EXPLORING = 4
DIVERGE = 1.0
SHARED = 2
CONTRACTED = 0.5
ROUNDING_UPDATE = 64.0
EPS_F = float(np.finfo(float).eps)
SUCCESS, NEWTON_FAILED, NOT_FINITE, INTERRUPTED = 0, 1, 2, 3

# The compiled loops take the user's functions as int64 addresses (FunctionAddress.address) and
# turn them back into functions inside: a function argument costs ~7.5 us a call to unbox.
_kernel_at = function_at(ParamKernelFunction)
_jacobian_at = function_at(ParamJacobianFunction)
_block_at = function_at(BlockSumFunction)
_lag_at = function_at(types.FunctionType(LAG_SIGNATURE))


def new_counts(n):
    """The int64 counters of a loop: ``n`` work counters and, last, the stop request that the
    loops check once per step (set by :mod:`._interrupt` when the user presses Ctrl-C)."""
    return register(np.zeros(n + 1, dtype=np.int64))

# The loops' helpers are inlined in Numba's IR: each one compiled on its own cost a separate
# LLVM module (the direct loop took 2.7 s to compile from an empty cache, 2.0 s inlined).
# solve_inplace stays a separate function: inlined at its several call sites it costs more.
_helper = njit(cache=True, nogil=True, error_model="numpy", inline="always")
#: the options of the loops (JIT_OPTIONS) for the big helpers called, not inlined, by them:
#: _stages_at (inlined at 4 sites, one of them inside _step), _lag_sum (3 sites in _step) and
#: _finish_step (one site in each of 5 direct loops; it inlines two helpers). Inlined, the step
#: doubling's loop ("vrk-steps") took 8.1-9.1 s to compile from an empty cache, called 2.3
#: (+ 2 for the two helpers, shared by the VRK loops); the four VRK loops 18.7 s, now 11.2; the
#: five direct loops 18.5-21.6 s, 16.8-20.8 with _finish_step called. A call per step (or per
#: stage's lag sum) costs nothing measurable.
_called = njit(cache=True, nogil=True, error_model="numpy")


@_helper
def _all_finite(x):
    for v in x.flat:
        if not np.isfinite(v):
            return False
    return True


def start_floor(y0):
    """:func:`fd_floor` of y(t0) = ``y0`` in Python, for the calls of the step doubling
    (``"vrk-steps"``: the adaptive driver's passes and the dense output's partial steps), which
    hold no y(t0) (their first stage is at t0 + c_1 h: y = tan t has y(t0) = 0 and a floor 1,
    its first stage a floor near c_1 h)."""
    # (a list of floats as it is: np.ravel's array and list of it cost ~1 us)
    values = y0 if type(y0) is list and all(type(v) is float for v in y0) else \
        np.ravel(y0).tolist()
    return size_floor.py_func(max(map(abs, values), default=0.0))


@_helper
def _jacobian_p(K, J, have_jac, t, s, Y, j, theta, Jout, f0, work, stats, floor):
    """dK/dy at (t, s, Y[j]; theta) into Jout: exact if given, else forward differences
    (steps sqrt(eps) max(|y_b|, floor), ``floor`` from :func:`fd_floor`).

    ``f0`` must hold K(t, s, Y[j]) when differences are used; Y[j] is restored.
    """
    d = Y.shape[1]
    stats[NJEV] += 1
    if have_jac:
        J(t, s, Y, j, theta, Jout)
        return
    for b in range(d):
        yb = Y[j, b]
        step = abs(yb)
        step = 1.4901161193847656e-08 * (step if step > floor else floor)
        Y[j, b] = yb + step
        step = Y[j, b] - yb  # the step actually representable
        K(t, s, Y, j, theta, work)
        stats[NFEV] += 1
        Y[j, b] = yb
        for a in range(d):
            Jout[a, b] = (work[a] - f0[a]) / step


@_helper
def _newton_update(Z, r0, rows, F, JF, tol, floor):
    """Z[r0 + i] -= (JF^{-1} F)[i] for i < rows; returns 1 converged (the update below
    tol max(floor, |Z|)), 0 not yet, -1 failed."""
    d = Z.shape[1]
    if not _all_finite(F) or not _all_finite(JF):
        return -1
    if not solve_inplace(JF, F):
        return -1
    size = 0.0
    scale = floor
    for i in range(rows):
        for k in range(d):
            Z[r0 + i, k] -= F[i * d + k]
            size = max(size, abs(F[i * d + k]))
            scale = max(scale, abs(Z[r0 + i, k]))
    if not np.isfinite(size):
        return -1
    return 1 if size <= tol * scale else 0


# The direct loops' variants for a network's kernel (``robust``: "start-robust", "direct-robust",
# "direct-autonomous-robust", chosen by :meth:`~integrallimits.volterra.DirectQuadrature.solve`):
# there an implicit step (or a Gregory rule's starting block) whose Newton iteration fails is
# tried again by :func:`_continuation` (continuation in the implicit weight from the explicit
# step).  ReLU makes a network's step equation piecewise linear, and Newton's method, which
# solves the linear system of the current activation pattern at each iteration, can cycle
# between patterns whose solutions lie in each other's regions although the equation has one
# root (tests/networks/test_relu_newton.py: a 2-wide ReLU ResNet on the implicit rectangle rule,
# h = 0.2, 50 iterations without converging at the last layer).  Only a failure is retried: a
# step whose Newton iteration converges is the same, bit for bit, and every other kernel (whose
# failed solve the tolerance drivers answer with a finer mesh) fails as before.  ``robust`` is a
# constant of the compiled code (a closure variable: Numba drops the branch it switches off), so
# the other kernels' loops do not compile the fallback (issue 15: it cost a cold first solve
# with a Gregory rule several seconds).


#: int64 in compiled code: a constant argument of a compiled call is typed as a literal
#: (Literal[int](1)), and the callee is compiled again for it: _continuation's calls with
#: literal 1s and 0s compiled it three times (1.5-2.2 s each with an empty cache), once for each
#: robust loop; the constants passed as _INT(1) share the one int64 compilation.
_INT = np.int64


@njit(cache=True, nogil=True, error_model="numpy")
def _continuation(K, J, have_jac, theta, tr, tc, Y, r0, R, j0, C, Wt, tol, maxiter, stats):
    """Solve F(y) = 0 for the rows r0 .. r0 + R - 1 of Y, where
    F_i(y) = y_i - C_i - sum_{j0 <= j < r0 + R} Wt[i, j - j0] K(tr[i], tc[j - j0], Y, j),
    by continuation in the implicit weights: with the weights of the unknown rows j >= r0
    multiplied by lam, the root is explicit at lam = 0 and followed to lam = 1, each stage by
    Newton's method from the last root (with the loops' convergence test; at most 8 iterations
    before lam = 1, ``maxiter`` at lam = 1), the step in lam doubled when Newton converges and
    halved when it does not.  Along a short step the activation pattern of a piecewise linear
    equation changes little, so Newton's method does not cycle.  Returns True with the root in
    Y (the last stage is Newton's method on F itself, with the same test as the iteration that
    failed), or False (the rows hold their start Y[r0 - 1] again) after 60 stages or a step in
    lam below 2^-30: an equation with no root fails here too."""
    d = Y.shape[1]
    m = R * d
    F = np.empty(m)
    JF = np.empty((m, m))
    keep = np.empty(m)
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    for i in range(R):
        for k in range(d):
            Y[r0 + i, k] = Y[r0 - 1, k]
    lam, step, stage = 0.0, 0.5, -1
    while stage < 60 and step >= 9.313225746154785e-10:
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see new_counts): give up
            break
        # stage -1: lam = 0, one update with JF = I gives the explicit root
        target = 0.0 if stage < 0 else (lam + step if lam + step < 1.0 else 1.0)
        stage += 1
        stats[NSOLVE] += 1
        for i in range(R):
            for k in range(d):
                keep[i * d + k] = Y[r0 + i, k]
        state = 0
        cap = 1 if target == 0.0 else (maxiter if target >= 1.0 or maxiter < 8 else 8)
        for it in range(cap):
            stats[NIT] += 1
            for r in range(m):
                for c in range(m):
                    JF[r, c] = 1.0 if r == c else 0.0
            for i in range(R):
                for k in range(d):
                    F[i * d + k] = Y[r0 + i, k] - C[i * d + k]
                for j in range(j0, r0 + R):
                    w = Wt[i, j - j0] * (target if j >= r0 else 1.0)
                    if w == 0.0:
                        continue
                    K(tr[i], tc[j - j0], Y, j, theta, f)
                    stats[NFEV] += 1
                    for k in range(d):
                        F[i * d + k] -= w * f[k]
                    if j >= r0:
                        _jacobian_p(K, J, have_jac, tr[i], tc[j - j0], Y, j, theta, Jk, f, work,
                                    stats, fd_floor(Y[0]))
                        for a in range(d):
                            for b in range(d):
                                JF[i * d + a, (j - r0) * d + b] -= w * Jk[a, b]
            state = _newton_update(Y, r0, R, F, JF, tol, fd_floor(Y[0]))
            if target == 0.0 and state == 0:
                state = 1      # (the explicit root: one update is exact up to rounding)
            if state != 0:
                break
        if state == 1:
            lam = target
            if lam >= 1.0:
                return True
            step = step if target == 0.0 else 2.0 * step
        elif target == 0.0:
            break
        else:
            for i in range(R):
                for k in range(d):
                    Y[r0 + i, k] = keep[i * d + k]
            step = 0.5 * step
    for i in range(R):
        for k in range(d):
            Y[r0 + i, k] = Y[r0 - 1, k]
    return False


#: A Gregory rule's starting block solved from a guess (``guessed``: the rows of an earlier solve
#: of the same problem on another mesh, interpolated by
#: :meth:`~integrallimits.volterra.DirectQuadrature.solve`) keeps the Newton matrix of its
#: first iterate while each update is at most this fraction of the one before (a simplified
#: Newton iteration: the guess is within the meshes' difference of the root, where the
#: Jacobian barely changes), and computes it again where an update shrinks less.  The
#: convergence test is Newton's (the update below tol |Y|); where the iteration fails, the block
#: is solved again from Y[0] as without a guess.  A differenced Jacobian of the block costs
#: (S - 1) S d kernel evaluations besides the residual's (S - 1) S: gregory8 on the study's
#: y = 1 - int y^2 ... (``exp-square``) took 5 Newton iterations of 103 evaluations from
#: Y[0], 2 from the guess (103 + 55).
GUESSED_CHORD = 0.25
#: The bit of a direct loop's flag slot (``stats[EXPLORING]``) that says its starting block's
#: rows hold a guess (:func:`guessed_block`), and the slot where the loop writes the kernel
#: evaluations of its starting block (the cost of a solve besides its O(N^2) history, for the
#: refinement's work model: :func:`._tolerance._costed`): counters of
#: ``new_counts(BLOCK + 1)`` (:meth:`~integrallimits.volterra.DirectQuadrature.solve` given
#: ``samples``); every other caller's ``new_counts(4)`` has neither.
GUESSED = 4
BLOCK = 5


@_helper
def guessed_block(stats):
    """Whether the direct loop's counters ``stats`` (``new_counts(BLOCK + 1)``, the flag slot
    set to GUESSED) say that Y[1..S-1] hold a guess of the starting block."""
    return stats.shape[0] > BLOCK + 1 and (stats[EXPLORING] & GUESSED) != 0


@_helper
def _block_evaluations(stats, before):
    """The starting block's kernel evaluations (since the count ``before``) into
    ``stats[BLOCK]``, where the counters have that slot (see GUESSED)."""
    if stats.shape[0] > BLOCK + 1:
        stats[BLOCK] = stats[NFEV] - before


def _start_loop_of(robust):
    """The starting loop, with (``robust``: a network's kernel) or without the
    continuation fallback (see :func:`_continuation`)."""

    def _start_loop(K_at, J_at, have_jac, theta, t, G, Y, start, tol, maxiter, stats):
        """Y[0] = g_0 and the starting block Y[1..S-1] (compiled separately: only Gregory
        rules need it): Newton on the (S-1) d unknowns together, from Y[0], or
        (:func:`guessed_block`) from the rows Y[1..S-1] as given, with the Jacobian kept while
        the updates contract (see GUESSED_CHORD; from Y[0] again where that fails).  Returns
        (status, index) like the loops.  For the loops that do not solve the block themselves
        (the fast-history, the t-independent and the explicit direct loops); the direct loop
        with Newton's method makes the same operations at its own Newton call site."""
        optimise_for_size()
        K, J = _kernel_at(K_at), _jacobian_at(J_at)
        N = t.shape[0] - 1
        S = start.shape[0]
        d = Y.shape[1]
        for k in range(d):
            Y[0, k] = G[0, k]
        if S <= 1:
            return SUCCESS, 0
        # written here, not in a helper inlined here: Numba copies an inlined helper's IR at a
        # cost that grows as its blocks times its variables, twice for a helper inlined in a helper
        h = (t[N] - t[0]) / N
        f = np.empty(d)
        work = np.empty(d)
        Jk = np.empty((d, d))
        m = (S - 1) * d
        F = np.empty(m)
        JF = np.empty((m, m))
        kept = np.empty((m, m))
        guessed = guessed_block(stats)
        before = stats[NFEV]
        for attempt in range(2 if guessed else 1):
            chord = guessed and attempt == 0
            if not chord:
                for n in range(1, S):
                    for k in range(d):
                        Y[n, k] = Y[0, k]
            stats[NSOLVE] += 1
            fresh, last, state = True, np.inf, 0
            for it in range(maxiter):
                stats[NIT] += 1
                for r in range(m):
                    F[r] = 0.0
                    for c in range(m):
                        JF[r, c] = (1.0 if r == c else 0.0) if fresh else kept[r, c]
                for n in range(1, S):
                    for k in range(d):
                        F[(n - 1) * d + k] = Y[n, k] - G[n, k]
                    for j in range(S):
                        w = h * start[n, j]
                        if w == 0.0:
                            continue
                        K(t[n], t[j], Y, j, theta, f)
                        stats[NFEV] += 1
                        for k in range(d):
                            F[(n - 1) * d + k] -= w * f[k]
                        if j > 0 and fresh:
                            _jacobian_p(K, J, have_jac, t[n], t[j], Y, j, theta, Jk, f, work,
                                        stats, fd_floor(Y[0]))
                            for a in range(d):
                                for b in range(d):
                                    JF[(n - 1) * d + a, (j - 1) * d + b] -= w * Jk[a, b]
                if chord and fresh:
                    for r in range(m):
                        for c in range(m):
                            kept[r, c] = JF[r, c]
                state = _newton_update(Y, 1, S - 1, F, JF, tol, fd_floor(Y[0]))
                if state != 0:
                    break
                if chord:   # (the size of the update: F holds it after _newton_update)
                    size = 0.0
                    for r in range(m):
                        size = max(size, abs(F[r]))
                    fresh = not size <= GUESSED_CHORD * last
                    last = size
            if state == 1:
                _block_evaluations(stats, before)
                return SUCCESS, 0
        # (r0 = 1 and j0 = 0 as int64, not literals: the direct loops' signature of
        # _continuation, compiled once for the three robust loops; see _INT)
        if robust and _continuation(K, J, have_jac, theta, t[1:S], t[:S], Y, _INT(1), S - 1,
                                    _INT(0), np.ascontiguousarray(G[1:S]).ravel(),
                                    h * start[1:S, :S], tol, maxiter, stats):
            _block_evaluations(stats, before)
            return SUCCESS, 0
        _block_evaluations(stats, before)
        return NEWTON_FAILED, 1

    return _start_loop


_start_loop = _start_loop_of(False)
_start_robust_loop = _start_loop_of(True)


@_helper
def _diagonal(n, left, right):
    """w_nn = 1 + right[0] + left[n] (each where defined) for rows n >= S."""
    w = 1.0
    if right.shape[0] > 0:
        w += right[0]
    if n < left.shape[0]:
        w += left[n]
    return w


@_called
def _finish_step(K, J, have_jac, theta, tn, hist, hw, Y, n, tol, maxiter, f, work, Jk, stats):
    """Y[n] = hist + hw K(t_n, t_n, Y[n]): explicit if hw == 0, else Newton from Y[n-1]."""
    d = Y.shape[1]
    if hw == 0.0:
        for k in range(d):
            Y[n, k] = hist[k]
    else:
        for k in range(d):
            Y[n, k] = Y[n - 1, k]
        # Newton's method written here, not in a helper of its own: Numba copies an inlined
        # helper's IR at a cost that grows as its blocks times its variables, and a helper
        # inlined in this one would be copied twice
        F = np.empty(d)
        stats[NSOLVE] += 1
        state = 0
        for it in range(maxiter):
            stats[NIT] += 1
            K(tn, tn, Y, n, theta, f)
            stats[NFEV] += 1
            for k in range(d):
                F[k] = Y[n, k] - hist[k] - hw * f[k]
            _jacobian_p(K, J, have_jac, tn, tn, Y, n, theta, Jk, f, work, stats, fd_floor(Y[0]))
            for a in range(d):
                for b in range(d):
                    Jk[a, b] = (1.0 if a == b else 0.0) - hw * Jk[a, b]
            state = _newton_update(Y, n, 1, F, Jk, tol, fd_floor(Y[0]))
            if state != 0:
                break
        if state != 1:
            return NEWTON_FAILED
    for k in range(d):
        if not np.isfinite(Y[n, k]):
            return NOT_FINITE
    return SUCCESS


@_helper
def _newton_workspace(d, S, N, left, right):
    """The d x d Jacobian workspace, empty when every step is explicit (w_nn = 0)."""
    for n in range(S, N + 1):
        if _diagonal(n, left, right) != 0.0:
            return np.empty((d, d))
    return np.empty((0, 0))


@_helper
def _weight(n, j, left, right):
    """w_nj = 1 + left[j] + right[n - j] (each where defined), rows n >= S."""
    w = 1.0
    if j < left.shape[0]:
        w += left[j]
    if n - j < right.shape[0]:
        w += right[n - j]
    return w


def _direct_loop_of(implicit, robust=False):
    """The direct quadrature loop, with (``implicit``) or without Newton's method, and with
    (``robust``: a network's kernel) or without the continuation fallback of its failed Newton
    solves (see :func:`_continuation`).

    Rules whose diagonal weights w_nn all vanish (the rectangle rule: a network's forward
    pass) take the loop without it: ``implicit`` is a constant of the compiled code, so the
    Newton iteration, its Jacobian and ``solve_inplace`` are not compiled for them (a third of
    the loop's compile time with an empty cache); the explicit steps are the same operations in
    both loops (bits unchanged).

    The loop with Newton's method also solves a Gregory rule's starting block (``_start_loop``'s
    operations, in the same order) at the same Newton call site as the implicit steps: a
    separate starting loop compiled for 1.1-1.4 s with an empty cache, this one site costs a
    fraction of that.
    """

    def _direct_loop(K_at, J_at, have_jac, B_at, theta, t, G, Y, start, left, right, tol, maxiter,
                     stats):
        """Direct quadrature y_n = g_n + h sum_{j<=n} w_nj K(t_n, t_j, y_j) on a uniform mesh.

        Rows n >= S use w_nj = 1 + left[j] + right[n - j].  The loop with Newton's method sets
        Y[0] = g_0 and, for S > 1, solves the starting block Y[1..S-1] first (Newton on its
        (S-1) d unknowns together, as ``_start_loop``, also from the rows as given where
        :func:`guessed_block`: a failure there returns (NEWTON_FAILED, 1)); the loop without it
        needs Y[0..S-1] set.
        """
        # (short loops over d not unrolled: 0.35 s less to compile; math.isfinite, not
        # np.isfinite, whose ufunc typing runs at each round of type inference)
        optimise_for_size()
        K, J, B = _kernel_at(K_at), _jacobian_at(J_at), _block_at(B_at)
        N = t.shape[0] - 1
        d = Y.shape[1]
        h = (t[N] - t[0]) / N
        S = start.shape[0]
        f = np.empty(d)
        work = np.empty(d)
        ones = np.empty(N + 1)      # (np.ones compiles two more overloads)
        for j in range(N + 1):
            ones[j] = 1.0
        hist = np.empty(d)
        calls = 0
        guessed = guessed_block(stats)
        before = stats[NFEV]
        if implicit:
            for k in range(d):
                Y[0, k] = G[0, k]
            Jk = np.empty((d, d))       # dK/dy at one point
            F1 = np.empty(d)            # the residual and Newton matrix of one step ...
            JF1 = np.empty((d, d))
            m = (S - 1) * d if S > 1 else 0
            Fs = np.empty(m)            # ... and of the starting block
            JFs = np.empty((m, m))
            kept = np.empty((m, m))     # (a guessed block's Newton matrix, see GUESSED_CHORD)
        n = 1 if implicit and S > 1 else S
        while n <= N:
            block = implicit and n < S      # the starting block, rows 1 .. S - 1
            hw = 0.0
            if not block:
                if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
                    return INTERRUPTED, n
                # the history sum_{j<n} w_nj K(t_n, t_j, Y_j): the unit-weight interior by the
                # block sum, the corrected ends one by one (written here, not in helpers inlined
                # here: see the Newton iteration's note)
                lo = left.shape[0] if left.shape[0] < n else n
                hi = n - right.shape[0] + 1 if n - right.shape[0] + 1 < n else n
                hi = hi if hi > lo else lo    # j < n: the diagonal is the implicit part
                B(t[n], t, Y, lo, hi, ones, theta, hist)
                calls += hi - lo
                for q in range(lo + n - hi):  # j < lo, then hi <= j < n: one call site
                    j = q if q < lo else q - lo + hi
                    w = 1.0                   # w_nj = 1 + left[j] + right[n - j] (where defined)
                    if j < left.shape[0]:
                        w += left[j]
                    if n - j < right.shape[0]:
                        w += right[n - j]
                    if w != 0.0:
                        K(t[n], t[j], Y, j, theta, f)
                        calls += 1
                        for k in range(d):
                            hist[k] += w * f[k]
                for k in range(d):
                    hist[k] = G[n, k] + h * hist[k]
                if implicit:   # h w_nn, w_nn as _diagonal computes it
                    hw = 1.0
                    if right.shape[0] > 0:
                        hw += right[0]
                    if n < left.shape[0]:
                        hw += left[n]
                    hw = h * hw
            if hw == 0.0 and not block:
                status = SUCCESS
                for k in range(d):
                    Y[n, k] = hist[k]
                    if not math.isfinite(Y[n, k]):
                        status = NOT_FINITE
            elif implicit:
                # Newton's method on rows r0 .. r0 + R - 1 (written here, not in a helper
                # inlined here: Numba copies an inlined helper's IR at a cost that grows as its
                # blocks times its variables), from the row before them:
                # F_i = y_i - c_i - sum_j w_ij K(t_i, t_j, y_j), j from j0 to the last row
                r0 = 1 if block else n
                R = S - 1 if block else 1
                j0 = 0 if block else n
                F = Fs if block else F1
                JF = JFs if block else JF1
                chord = block and guessed       # (else from the row before, as always)
                if not chord:
                    for i in range(R):
                        for k in range(d):
                            Y[r0 + i, k] = Y[r0 - 1, k]
                stats[NSOLVE] += 1
                state = 0
                fresh, last = True, np.inf
                for it in range(maxiter):
                    stats[NIT] += 1
                    for r in range(R * d):
                        for c in range(R * d):
                            JF[r, c] = (1.0 if r == c else 0.0) if fresh else kept[r, c]
                    for i in range(R):
                        for k in range(d):
                            F[i * d + k] = Y[r0 + i, k] - (G[r0 + i, k] if block else hist[k])
                        for j in range(j0, r0 + R):
                            w = h * start[r0 + i, j] if block else hw
                            if w == 0.0:
                                continue
                            K(t[r0 + i], t[j], Y, j, theta, f)
                            stats[NFEV] += 1
                            for k in range(d):
                                F[i * d + k] -= w * f[k]
                            if j >= r0 and fresh:
                                # _jacobian_p(K, J, have_jac, t_i, t_j, Y, j, theta, Jk, f,
                                # work, stats) written out
                                stats[NJEV] += 1
                                if have_jac:
                                    J(t[r0 + i], t[j], Y, j, theta, Jk)
                                else:
                                    floor = fd_floor(Y[0])
                                    for b in range(d):
                                        yb = Y[j, b]
                                        # max(floor, |yb|) as Numba's max computes it (its
                                        # overload cost a compilation)
                                        step = abs(yb)
                                        step = 1.4901161193847656e-08 * (step if step > floor
                                                                         else floor)
                                        Y[j, b] = yb + step
                                        step = Y[j, b] - yb  # the step actually representable
                                        K(t[r0 + i], t[j], Y, j, theta, work)
                                        stats[NFEV] += 1
                                        Y[j, b] = yb
                                        for a in range(d):
                                            Jk[a, b] = (work[a] - f[a]) / step
                                for a in range(d):
                                    for b in range(d):
                                        JF[i * d + a, (j - r0) * d + b] -= w * Jk[a, b]
                    if chord and fresh:
                        for r in range(R * d):
                            for c in range(R * d):
                                kept[r, c] = JF[r, c]
                    # _newton_update(Y, r0, R, F, JF, tol) written out (see the note above)
                    state = -1
                    finite = True
                    for r in range(R * d):
                        finite = finite and math.isfinite(F[r])
                        for c in range(R * d):
                            finite = finite and math.isfinite(JF[r, c])
                    if finite and solve_inplace(JF, F):
                        size = 0.0
                        scale = fd_floor(Y[0])
                        for i in range(R):
                            for k in range(d):
                                Y[r0 + i, k] -= F[i * d + k]
                                v = abs(F[i * d + k])      # size = max(size, v), and scale
                                size = v if v > size else size
                                v = abs(Y[r0 + i, k])
                                scale = v if v > scale else scale
                        if math.isfinite(size):
                            state = 1 if size <= tol * scale else 0
                        # (the next Jacobian: kept while the updates shrink enough)
                        fresh = not (chord and size <= GUESSED_CHORD * last)
                        last = size
                    if state != 0:
                        break
                if chord and state != 1:
                    guessed = False     # the block again from Y[0], as without a guess
                    continue
                if robust and state != 1:
                    if block:
                        Cs = np.ascontiguousarray(G[1:S]).ravel()
                        Ws = h * start[1:S, :S]
                    else:
                        Cs = hist.copy()
                        Ws = np.full((1, 1), hw)
                    if _continuation(K, J, have_jac, theta, t[r0:r0 + R], t[j0:r0 + R], Y, r0,
                                     R, j0, Cs, Ws, tol, maxiter, stats):
                        state = 1
                if state != 1:
                    status = NEWTON_FAILED
                else:
                    status = SUCCESS
                    if not block:
                        for k in range(d):
                            if not math.isfinite(Y[n, k]):
                                status = NOT_FINITE
                if block:
                    _block_evaluations(stats, before)
                    if status != SUCCESS:
                        stats[NFEV] += calls
                        return status, 1
                    n = S
                    continue
            if status != SUCCESS:
                stats[NFEV] += calls
                return status, n
            n += 1
        stats[NFEV] += calls
        return SUCCESS, N

    return _direct_loop


_direct_loop = _direct_loop_of(True)
_direct_robust_loop = _direct_loop_of(True, True)
_direct_explicit_loop = _direct_loop_of(False)


def all_explicit(S, N, left, right):
    """Whether every step n = S .. N of a direct rule is explicit (w_nn = 0, as ``_diagonal``
    computes it), so that the loop without Newton's method (``"direct-explicit"``) applies."""
    w0 = 1.0 + right[0] if right.shape[0] > 0 else 1.0
    for n in range(S, N + 1):
        if n >= left.shape[0]:
            return w0 == 0.0   # every later row has this diagonal
        if w0 + left[n] != 0.0:
            return False
    return True


@_helper
def _stage_grid(t, c, b):
    """(times, weights) of the stage rows q = n m + j of a VRK method on the mesh t:
    t_n + c_j h_n and the lag weights h_n b_j."""
    N = t.shape[0] - 1
    m = c.shape[0]
    ts = np.empty(N * m)
    wz = np.empty(N * m)
    for n in range(N):
        hn = t[n + 1] - t[n]
        for j in range(m):
            ts[n * m + j] = t[n] + c[j] * hn
            wz[n * m + j] = hn * b[j]
    return ts, wz


@_helper
def _explicit_stages(K, theta, tn, h, r0, Z, C, c, A, stats, f):
    """The stages of an explicit tableau (A strictly lower triangular), stage by stage: the
    explicit branch of ``_stages_at``."""
    d = Z.shape[1]
    for i in range(c.shape[0]):
        ti = tn + c[i] * h
        for k in range(d):
            Z[r0 + i, k] = C[i, k]
        for j in range(i):
            if A[i, j] != 0.0:
                K(ti, tn + c[j] * h, Z, r0 + j, theta, f)
                stats[NFEV] += 1
                for k in range(d):
                    Z[r0 + i, k] += h * A[i, j] * f[k]


@_called
def _stages_at(K, J, have_jac, theta, tn, h, r0, yinit, Z, C, c, A, explicit, tol, maxiter, stats, f,
               work, Jk, F, JF, guessed, floor):
    """Solve Z_i = C_i + h sum_j a_ij K(tn + c_i h, tn + c_j h, Z_j) for the stages of the step
    [tn, tn + h], rows r0 .. r0 + m - 1 of Z.  Explicit tableaux go stage by stage; others
    solve the m d unknowns together by Newton from yinit or, when ``guessed``, from the values
    those rows hold.  Returns False if Newton fails: ``maxiter`` iterations without
    convergence, a non-finite value, or, in an exploratory solve (``stats[EXPLORING]`` set), an
    update larger than the one before (see ``EXPLORING``).

    Converged also asks that the residual left be below tol max(floor, |Z|) (or at its rounding
    level, ROUNDING_UPDATE eps times the residual's largest term), as the contraction of the
    last two updates predicts it: the step's end, g + lag + h sum_j b_j K(Z_j), and every later
    lag sum take the stages' error times h |J|, the residual's size, not the update's.  An
    update within tol of a stage near 0 left y(t) = 1 - 1e6 int y ds on [0, 1e20] (radau4, 4
    steps, h |J| = 2.5e25) values of 3.8e-7 to 8e-5 for 0, successes with estimates of 4e-7
    (the first update's rounding, eps times a residual of 2.5e9 over h |J|, kept: one more
    iteration makes it eps).  Below h |J| ~ 1 the residual is about the update: unchanged.

    The loops call it directly (no wrapper taking the step index): Numba copies an inlined
    helper's IR at a cost that grows as its blocks times its variables, twice for a helper
    inlined in a helper."""
    d = Z.shape[1]
    m = c.shape[0]
    md = m * d
    if explicit:
        _explicit_stages(K, theta, tn, h, r0, Z, C, c, A, stats, f)
        return True
    if not guessed:
        for i in range(m):
            for k in range(d):
                Z[r0 + i, k] = yinit[k]
    stats[NSOLVE] += 1
    exploring = (stats[EXPLORING] & 1) != 0
    shared = (stats[EXPLORING] & SHARED) != 0
    last = np.inf
    for it in range(maxiter):
        stats[NIT] += 1
        terms = 0.0             # the largest term of the residual (its rounding level)
        for i in range(m):
            for k in range(d):
                F[i * d + k] = Z[r0 + i, k] - C[i, k]
                terms = max(terms, abs(Z[r0 + i, k]), abs(C[i, k]))
        for r in range(md):
            for q in range(md):
                JF[r, q] = 1.0 if r == q else 0.0
        for i in range(m):
            ti = tn + c[i] * h
            for j in range(m):
                if A[i, j] == 0.0:
                    continue
                tj = tn + c[j] * h
                K(ti, tj, Z, r0 + j, theta, f)
                stats[NFEV] += 1
                for k in range(d):
                    F[i * d + k] -= h * A[i, j] * f[k]
                    terms = max(terms, abs(h * A[i, j] * f[k]))
                _jacobian_p(K, J, have_jac, ti, tj, Z, r0 + j, theta, Jk, f, work, stats, floor)
                for a in range(d):
                    for q in range(d):
                        JF[i * d + a, j * d + q] -= h * A[i, j] * Jk[a, q]
        residual = 0.0
        for r in range(md):
            residual = max(residual, abs(F[r]))
        state = _newton_update(Z, r0, m, F, JF, tol, floor)
        if state < 0:
            return False
        size = 0.0          # the update just made (F holds it) and the stages' size
        scale = floor
        for i in range(m):
            for k in range(d):
                size = max(size, abs(F[i * d + k]))
                scale = max(scale, abs(Z[r0 + i, k]))
        # the residual left, as the contraction of the updates predicts it (see above)
        left = residual * (size / last if it >= 1 and size < last else 1.0)
        settled = left <= tol * scale or residual <= ROUNDING_UPDATE * EPS_F * terms
        if state == 1 and settled:
            return True
        if shared and it >= 1 and size < CONTRACTED * last and \
                size * size / (last - size) <= tol * scale and settled:
            return True     # contracted below tol: see SHARED
        if exploring or shared:
            if exploring and it >= 1 and size > DIVERGE * last and \
                    size > ROUNDING_UPDATE * EPS_F * scale:
                return False    # not contracting: see EXPLORING
        last = size
    return False


@_helper
def _stage_lags(B, theta, ts, Z, rows, wz, m, last, L, f, stats):
    """L[i] = sum_{r < rows} wz[r] K(ts[rows + i], ts[r], Z[r]), the lag sums of a step's
    stages, once per distinct stage time: a stage at the time of the one before shares its sum
    (rk4's two middle stages), a stage at ``last``, the time of the previous step's end, takes
    its sum over the same rows, which row m of L holds on entry (rk4's first stage)."""
    d = L.shape[1]
    for i in range(m):
        x = ts[rows + i]
        if x == last or (i > 0 and x == ts[rows + i - 1]):
            src = m if x == last else i - 1
            for k in range(d):
                L[i, k] = L[src, k]
            continue
        B(x, ts, Z, 0, rows, wz, theta, f)
        stats[NFEV] += rows
        for k in range(d):
            L[i, k] = f[k]


@_helper
def _end_lag(B, theta, x, ts, Z, rows, wz, m, L, stats):
    """L[m] = the lag sum at the step's end x over its rows + m rows: where the last stage sits
    at x (Radau IIA, rk4), that stage's sum plus the step's own m terms (fixed meshes; the
    adaptive driver's steps sum the end over every row: see ``_step``)."""
    d = L.shape[1]
    f = L[m]
    if ts[rows + m - 1] == x:
        B(x, ts, Z, rows, rows + m, wz, theta, f)
        stats[NFEV] += m
        for k in range(d):
            f[k] += L[m - 1, k]
    else:
        B(x, ts, Z, 0, rows + m, wz, theta, f)
        stats[NFEV] += rows + m


def _vrk_loop(K_at, J_at, have_jac, B_at, theta, t, G, Gs, Y, Z, c, A, b, explicit, tol, maxiter,
              stats):
    """Volterra Runge-Kutta (Pouzet type) with tableau (c, A, b) on the mesh t.

    Step n, interval [t_n, t_{n+1}] of length h_n, stage times t_ni = t_n + c_i h_n:
        lag(x) = sum_{l<n} h_l sum_j b_j K(x, t_lj, Z_lj)
        Z_ni = g(t_ni) + lag(t_ni) + h_n sum_j a_ij K(t_ni, t_nj, Z_nj)
        y_{n+1} = g(t_{n+1}) + lag(t_{n+1}) + h_n sum_j b_j K(t_{n+1}, t_nj, Z_nj)
    ``Gs`` holds g at the stage times (row n m + i), ``Z`` receives the stages.
    """
    optimise_for_size()
    K, J, B = _kernel_at(K_at), _jacobian_at(J_at), _block_at(B_at)
    N = t.shape[0] - 1
    d = Y.shape[1]
    m = c.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    F = np.empty(m * d)
    JF = np.empty((m * d, m * d))
    L = np.empty((m + 1, d))        # the lag sums at the stage times and (row m) at the end
    ts, wz = _stage_grid(t, c, b)   # stage times and lag weights of every stage row of Z
    for k in range(d):
        Y[0, k] = G[0, k]
        L[m, k] = 0.0
    for n in range(N):
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, n
        _stage_lags(B, theta, ts, Z, n * m, wz, m, t[n], L, f, stats)
        for i in range(m):
            for k in range(d):
                C[i, k] = Gs[n * m + i, k] + L[i, k]
        guessed = n > 0 and not explicit and (stats[EXPLORING] & SHARED) != 0
        solved = False
        for start in range(2 if guessed else 1):    # (one call site: inlined once)
            # (from the extrapolated start, then from y_n where that failed: on the renewal
            # equation's steps of 25 the stage polynomial extrapolated far off)
            if guessed and start == 0:
                _extrapolated_guesses(ts, Z, n * m, c, t[n], t[n + 1] - t[n], Y[n])
            solved = _stages_at(K, J, have_jac, theta, t[n], t[n + 1] - t[n], n * m, Y[n], Z, C,
                                c, A, explicit, tol, maxiter, stats, f, work, Jk, F, JF,
                                guessed and start == 0, fd_floor(Y[0]))
            if solved:
                break
        if not solved:
            return NEWTON_FAILED, n + 1
        _end_lag(B, theta, t[n + 1], ts, Z, n * m, wz, m, L, stats)
        for k in range(d):
            Y[n + 1, k] = G[n + 1, k] + L[m, k]
            if not np.isfinite(Y[n + 1, k]):
                return NOT_FINITE, n + 1
    return SUCCESS, N


@_helper
def _extrapolated_guesses(ts, Z, rows, c, tn, h, yn):
    """Newton's start for the stages of the step of ``h`` from tn (at tn + c h): the previous
    step's stage polynomial (through its stages Z[rows - m:rows] at ts[rows - m:rows] and y_n
    at tn; a stage at tn is left out as a node), extrapolated to those times, into
    Z[rows:rows + m]."""
    m = c.shape[0]
    d = Z.shape[1]
    nodes = np.empty(m + 1)
    values = np.empty((m + 1, d))
    q = 0
    for j in range(m):
        if ts[rows - m + j] != tn:
            nodes[q] = ts[rows - m + j]
            for k in range(d):
                values[q, k] = Z[rows - m + j, k]
            q += 1
    nodes[q] = tn
    for k in range(d):
        values[q, k] = yn[k]
    q += 1
    for i in range(m):
        _lagrange_row(tn + c[i] * h, nodes, values, q, Z, rows + i)


@_helper
def _lagrange_row(x, nodes, values, q, out, row):
    """out[row] := the polynomial through (nodes[a], values[a]), a < q, at x (Lagrange's
    form)."""
    for k in range(out.shape[1]):
        out[row, k] = 0.0
    for a in range(q):
        w = 1.0
        for e in range(q):
            if e != a:
                w *= (x - nodes[e]) / (nodes[a] - nodes[e])
        for k in range(out.shape[1]):
            out[row, k] += w * values[a, k]


@_helper
def _forget_sums(sums, rows):
    """Drop the entries of ``sums`` (:func:`_lag_sum`) over more than ``rows`` stage rows."""
    for e in range(sums.shape[0]):
        if sums[e, 1] > rows:
            sums[e, 1] = -1.0


@_called
def _lag_sum(B, theta, x, ts, Z, rows, wz, sums, f, stats):
    """f = sum_{r < rows} wz[r] K(x, ts[r], Z[r]), from ``sums`` where it holds the sum at x over
    as many rows, else the sum it holds at x over the most rows up to ``rows`` and the terms of
    the rows after them (the sum in two parts), else summed; kept there when finite.  A row of
    ``sums`` is (x, rows, the d values of the sum), rows -1 when empty; its entries stay valid
    while the stage rows below their row count are unchanged (:func:`_forget_sums` drops the
    others before a step rewrites rows).  See :func:`_step`."""
    d = f.shape[0]
    free, best = -1, -1
    for e in range(sums.shape[0]):
        if sums[e, 1] < 0.0:
            free = e if free < 0 else free
        elif sums[e, 0] == x and sums[e, 1] <= rows and (best < 0 or sums[e, 1] > sums[best, 1]):
            best = e
    if best >= 0 and sums[best, 1] == rows:
        for k in range(d):
            f[k] = sums[best, 2 + k]
        return
    lo = int(sums[best, 1]) if best >= 0 else 0
    B(x, ts, Z, lo, rows, wz, theta, f)
    stats[NFEV] += rows - lo
    if best >= 0:
        for k in range(d):
            f[k] += sums[best, 2 + k]
    if sums.shape[0] == 0 or not _all_finite(f):
        return
    if free < 0:        # full: the entry over the fewest rows makes room
        free = 0
        for e in range(1, sums.shape[0]):
            if sums[e, 1] < sums[free, 1]:
                free = e
    sums[free, 0] = x
    sums[free, 1] = rows
    for k in range(d):
        sums[free, 2 + k] = f[k]


@_helper
def _step(K, J, have_jac, B, theta, tn, h, t_end, yn, Gs, gend, Z, ts, wz, rows, c, A, b, explicit,
          tol, maxiter, stats, yout, guessed, floor, sums):
    """One VRK step from tn with step h after ``rows`` stage rows of history (the adaptive driver's
    building block): stages into Z[rows:rows + m] (their times and lag weights into ts, wz),
    y(t_end) into yout (t_end = tn + h, given: a stage at c = 1 sits at it).  ``Gs`` holds g at
    the stage times, ``gend`` at t_end.  Newton starts from yn, or, when ``guessed``, from the
    values in Z[rows:rows + m].  Returns the status (SUCCESS, NEWTON_FAILED, NOT_FINITE or
    INTERRUPTED).

    The lag sums are taken from and kept in ``sums`` (:func:`_lag_sum`), the end's in two
    parts: the sum over the history (the ``rows`` rows) and the step's own m terms.  The step
    doubling of the adaptive driver sums at the same times again in a pair (the big step and
    the first half step at tn and tn + H/2 over the history, the second half step's start at
    the first's end, the big step's start at the last pair's end) and over the same history
    (at tn + H: the big step's end, the second half step's stage and end): each sum over the
    history is made once (rk4 summed 12 times over the history a pair, now 4; radau3 9 times,
    now 5).  Both ends at tn + H then hold the same history sum, bit for bit, whose rounding
    cancels in their difference (summed over every row apart, the two sums' rounding differed;
    tools/kink_scan.py)."""
    m = c.shape[0]
    d = yout.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    F = np.empty(m * d)
    JF = np.empty((m * d, m * d))
    if stats[stats.shape[0] - 1] != 0:
        return INTERRUPTED
    _forget_sums(sums, rows)        # (rows from ``rows`` on are rewritten now)
    for j in range(m):
        ts[rows + j] = t_end if c[j] == 1.0 else tn + c[j] * h
        wz[rows + j] = h * b[j]
    L = np.empty((m + 1, d))
    for i in range(m):
        x = ts[rows + i]
        if i > 0 and x == ts[rows + i - 1]:     # (rk4's two middle stages)
            for k in range(d):
                L[i, k] = L[i - 1, k]
            continue
        _lag_sum(B, theta, x, ts, Z, rows, wz, sums, f, stats)
        for k in range(d):
            L[i, k] = f[k]
    for i in range(m):
        for k in range(d):
            C[i, k] = Gs[i, k] + L[i, k]
    if not _stages_at(K, J, have_jac, theta, tn, h, rows, yn, Z, C, c, A, explicit, tol, maxiter,
                      stats, f, work, Jk, F, JF, guessed, floor):
        return NEWTON_FAILED
    if sums.shape[0] == 0:      # (nothing kept: the sum over every row at once)
        B(t_end, ts, Z, 0, rows + m, wz, theta, f)
        stats[NFEV] += rows + m
    else:
        _lag_sum(B, theta, t_end, ts, Z, rows, wz, sums, f, stats)     # (a stage's at c = 1)
        _lag_sum(B, theta, t_end, ts, Z, rows + m, wz, sums, f, stats)
    for k in range(d):
        yout[k] = gend[k] + f[k]
        if not np.isfinite(yout[k]):
            return NOT_FINITE
    return SUCCESS


def _vrk_steps(K_at, J_at, have_jac, B_at, theta, tn, H, yn, G, Z, ts, wz, rows, c, A, b, explicit,
               tol, maxiter, stats, parts, y_big, y_mid, y_end, floor, sums):
    """The step doubling of the adaptive driver in one call (``parts`` = 3): a step of H from tn
    into ``y_big``, then two of H/2 into ``y_mid`` and ``y_end`` (their stages in
    Z[rows:rows + 2m], overwriting the big step's); ``parts`` = 1: only the step of H (dense
    output's partial steps).  ``G`` holds g at tn + (c, 1) H, tn + (c, 1) H/2 and
    tn + H/2 + (c, 1) H/2, m + 1 rows each.  Returns the first status that is not SUCCESS, else
    SUCCESS.

    Newton for the half steps starts from the big step's stage polynomial (the interpolant of
    y_n at tn and the big step's stages, at the half steps' stage times) instead of from their
    starting values: a better start by O(H^m), so fewer iterations, and fewer half steps that
    fail where the big step converged (y = tan t, radau3, 1e-3: the pass's Newton iterations
    87 -> 74).

    ``sums`` keeps the lag sums for the steps that sum at the same time again (:func:`_step`;
    the caller keeps it from pair to pair, or passes no rows)."""
    optimise_for_size()
    K, J, B = _kernel_at(K_at), _jacobian_at(J_at), _block_at(B_at)
    m = c.shape[0]
    d = yn.shape[0]
    start, size, end, y_from, row, out = tn, H, tn + H, yn, rows, y_big
    for k in range(parts):                  # one call site: the step is inlined once
        if k == 1:
            if not explicit:
                _half_step_guesses(c, yn, Z, rows, d)
            start, size, end, y_from, row, out = tn, H / 2, tn + H / 2, yn, rows, y_mid
        elif k == 2:        # (ending at tn + H exactly: the big step's end, and its sums there)
            start, size, end, y_from, row, out = tn + H / 2, H / 2, tn + H, y_mid, rows + m, y_end
        o = k * (m + 1)
        status = _step(K, J, have_jac, B, theta, start, size, end, y_from, G[o:o + m], G[o + m], Z,
                       ts, wz, row, c, A, b, explicit, tol, maxiter, stats, out,
                       k > 0 and not explicit, floor, sums)
        if status != SUCCESS:
            return status
    return SUCCESS


@_helper
def _half_step_guesses(c, yn, Z, rows, d):
    """Newton's start for the stages of the two half steps of a big step: its stage
    polynomial (through y_n at 0 and its stages Z[rows:rows + m] at c, on the step's unit
    interval; c = 0 is left out as a node) at c / 2 into Z[rows:rows + m] and at (1 + c) / 2
    into Z[rows + m:rows + 2 m]."""
    m = c.shape[0]
    nodes = np.empty(m + 1)
    values = np.empty((m + 1, d))
    for k in range(d):
        values[0, k] = yn[k]
    nodes[0] = 0.0
    q = 1
    for j in range(m):
        if c[j] != 0.0:
            nodes[q] = c[j]
            for k in range(d):
                values[q, k] = Z[rows + j, k]
            q += 1
    guess = np.empty((2 * m, d))
    for i in range(2 * m):
        _lagrange_row(0.5 * c[i] if i < m else 0.5 * (1.0 + c[i - m]), nodes, values, q, guess,
                      i)
    for i in range(2 * m):
        for k in range(d):
            Z[rows + i, k] = guess[i, k]


def _direct_conv_loop(K_at, J_at, have_jac, phi_at, theta, t, G, Y, start, left, right, kseq, khat,
                      koff, tw, linear, tol, maxiter, stats):
    """The direct quadrature loop for K = k(t - s) phi(s, y) with a fast history.

    The unit-weight part of the history, sum_{j<n} k_{n-j} phi_j, comes from the
    blocked FFT scheme (``_fft.add_block``, kseq[0, p] = k(p h)); the O(p) end
    corrections are summed directly.  Y[0..S-1] must be set (``_start_loop``).
    ``linear`` (phi(s, y) = y): an implicit step y_n = hist + h w_nn k(0) y_n is one d x d
    solve instead of Newton's method.
    """
    optimise_for_size()
    K, J, phi = _kernel_at(K_at), _jacobian_at(J_at), _kernel_at(phi_at)
    N = t.shape[0] - 1
    d = Y.shape[1]
    h = (t[N] - t[0]) / N
    S = start.shape[0]
    nl = left.shape[0]
    nr = right.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = _newton_workspace(d, S, N, left, right)
    # the sources phi(t_n, Y[n]): Y itself where phi(s, y) = y (no copy; the history sums read
    # the sources before n + 1 only, which are final)
    src = Y.reshape((1, N + 1, d)) if linear else np.zeros((1, N + 1, d))
    acc = np.zeros((1, N + 1, d))
    work_fft = block_workspace(koff, src, acc)
    chan = np.zeros(1, dtype=np.int64)
    hist = np.empty(d)
    for n in range(N + 1):
        if n >= S:   # Y[n]; the first S values are the starting block's
            if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
                return INTERRUPTED, n
            # end corrections: left[j] at j < nl, right[i] at j = n - i (1 <= i < nr); written
            # out (helper calls with their array arguments cost more than these products)
            for a in range(d):
                v = acc[0, n, a]
                for j in range(min(nl, n)):
                    v += left[j] * _lag_product(kseq, n - j, a, src, j)
                for i in range(1, min(nr, n + 1)):
                    v += right[i] * _lag_product(kseq, i, a, src, n - i)
                hist[a] = G[n, a] + h * v
            hw = h * _diagonal(n, left, right)
            if linear and hw != 0.0 and d == 1:
                # _linear_step's arithmetic written out: its call, with five arrays, costs a
                # sixth of a scalar step
                stats[NSOLVE] += 1
                pivot = 1.0 - hw * kseq[0, 0, 0, 0]
                Y[n, 0] = hist[0] / pivot
                if not (abs(pivot) > 0.0) or not np.isfinite(pivot):
                    status = NEWTON_FAILED
                elif not np.isfinite(Y[n, 0]):
                    status = NOT_FINITE
                else:
                    status = SUCCESS
            elif linear and hw != 0.0:
                status = _linear_step(kseq, hw, hist, Y, n, Jk, stats)
            else:
                status = _finish_step(K, J, have_jac, theta, t[n], hist, hw, Y, n, tol, maxiter, f,
                                      work, Jk, stats)
            if status != SUCCESS:
                return status, n
        # the source phi(t_n, Y[n]) of the later history sums (linear: Y[n] itself, in src)
        if not linear:
            phi(t[n], t[n], Y, n, theta, f)
            for k in range(d):
                src[0, n, k] = f[k]
        stats[NFEV] += 1
        if (n + 1) % LOCAL_BLOCK:
            add_local(n, kseq, src, acc, chan, chan)
        else:
            add_block(n + 1, kseq, khat, koff, src, acc, chan, chan, tw, work_fft)
    return SUCCESS, N


@_helper
def _linear_step(kseq, hw, hist, Y, n, A, stats):
    """Y[n] = (I - hw k(0))^(-1) hist for K = k(t - s) y (k(0) = kseq[0, 0]); A is workspace."""
    d = Y.shape[1]
    stats[NSOLVE] += 1
    for a in range(d):
        Y[n, a] = hist[a]
        for b in range(d):
            A[a, b] = (1.0 if a == b else 0.0) - hw * kseq[0, 0, a, b]
    if not solve_inplace(A, Y[n]):
        return NEWTON_FAILED
    for k in range(d):
        if not np.isfinite(Y[n, k]):
            return NOT_FINITE
    return SUCCESS


@_helper
def _linear_stages(kseq, h, n, Z, C, A, JF):
    """Z_ni = C_i + h sum_j a_ij k((c_i - c_j) h) Z_nj for K = k(t - s) y, one m d solve
    (kseq[i m + j, 0] = k((c_i - c_j) h)).  Returns False if the system is singular."""
    m = A.shape[0]
    d = Z.shape[1]
    r0 = n * m
    for i in range(m):
        for a in range(d):
            Z[r0 + i, a] = C[i, a]
            for j in range(m):
                for b in range(d):
                    JF[i * d + a, j * d + b] = ((1.0 if i == j and a == b else 0.0)
                                                - h * A[i, j] * kseq[i * m + j, 0, a, b])
    return solve_inplace(JF, Z[r0:r0 + m].reshape(m * d))


@_helper
def _lag_product(kseq, p, a, src, j):
    """(kseq[0, p] @ src[0, j])[a]."""
    v = 0.0
    for b in range(src.shape[2]):
        v += kseq[0, p, a, b] * src[0, j, b]
    return v


def _vrk_conv_loop_of(linear_only):
    """The VRK loop with a fast history, for any phi, or (``linear_only``, a constant of the
    compiled code) for phi(s, y) = y alone: that loop compiles neither Newton's method on the
    stages nor the calls of phi (half the loop's compile time with an empty cache); the linear
    steps are the same operations in both loops (bits unchanged)."""

    def _vrk_conv_loop(K_at, J_at, have_jac, phi_at, theta, t, G, Gs, Y, Z, c, A, b, explicit, kseq, khat,
                       koff, tw, linear, tol, maxiter, stats):
        """The VRK loop for K = k(t - s) phi(s, y) on a uniform mesh with a fast history.

        Channel q = i m + j carries kappa[p] = k((p + c_i - c_j) h) from the sources
        h b_j phi(Z_lj) to stage i (i < m), and kappa[p] = k((p - c_j) h) to the mesh
        value (i = m), so that every lag sum is a Toeplitz product (``_fft.add_block``).
        ``linear`` (phi(s, y) = y): the stages of an implicit tableau are one m d solve
        instead of Newton's method.
        """
        optimise_for_size()
        K, J, phi = _kernel_at(K_at), _jacobian_at(J_at), _kernel_at(phi_at)
        N = t.shape[0] - 1
        d = Y.shape[1]
        m = c.shape[0]
        h = (t[N] - t[0]) / N
        f = np.empty(d)
        work = np.empty(d)
        Jk = np.empty((d, d))
        C = np.empty((m, d))
        F = np.empty(m * d)
        JF = np.empty((m * d, m * d))
        src = np.zeros((m, N + 1, d))
        acc = np.zeros((m + 1, N + 1, d))
        work_fft = block_workspace(koff, src, acc)
        chan_src, chan_tgt = stage_channels(m)
        for k in range(d):
            Y[0, k] = G[0, k]
        for n in range(N):
            if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
                return INTERRUPTED, n
            for i in range(m):
                for k in range(d):
                    C[i, k] = Gs[n * m + i, k] + acc[i, n, k]
            if (linear_only or linear) and not explicit:
                stats[NSOLVE] += 1
                if not _linear_stages(kseq, h, n, Z, C, A, JF):
                    return NEWTON_FAILED, n + 1
            elif linear_only:
                _explicit_stages(K, theta, t[n], t[n + 1] - t[n], n * m, Z, C, c, A, stats, f)
            elif not _stages_at(K, J, have_jac, theta, t[n], t[n + 1] - t[n], n * m, Y[n], Z, C, c, A,
                                explicit, tol, maxiter, stats, f, work, Jk, F, JF,
                                n < 0, fd_floor(Y[0])):  # (n < 0: False, not a literal
                return NEWTON_FAILED, n + 1     # False, which would compile _stages_at again)
            for j in range(m):
                if linear_only or linear:
                    for k in range(d):
                        src[j, n, k] = h * b[j] * Z[n * m + j, k]
                else:
                    phi(t[n] + c[j] * h, t[n] + c[j] * h, Z, n * m + j, theta, f)
                    for k in range(d):
                        src[j, n, k] = h * b[j] * f[k]
            stats[NFEV] += m
            add_sources(n, kseq, khat, koff, src, acc, chan_src, chan_tgt, tw, work_fft)
            for k in range(d):
                Y[n + 1, k] = G[n + 1, k] + acc[m, n + 1, k]
                if not np.isfinite(Y[n + 1, k]):
                    return NOT_FINITE, n + 1
        return SUCCESS, N

    return _vrk_conv_loop


_vrk_conv_loop = _vrk_conv_loop_of(False)
_vrk_conv_linear_loop = _vrk_conv_loop_of(True)


def _direct_autonomous_loop_of(robust):
    """The direct loop of t-independent kernels, with (``robust``: a network's kernel)
    or without the continuation fallback (see :func:`_continuation`)."""

    def _direct_autonomous_loop(K_at, J_at, have_jac, theta, t, G, Y, start, left, right, tol,
                                maxiter, keep, out, stats):
        """The direct quadrature loop for kernels that do not depend on t: K(s, y).

        Then sum_{j<n} w_nj K_j = sum_{j<n} K_j + O(p) end corrections, with every K_j
        evaluated once: O(N) work (a ResNet is this loop with the rectangle rule).
        Only the K_j the corrections read are kept: the first max(S, p) rows and the last few (a
        ring), O(p d) memory besides Y (an (N+1, d) array of them cost as much as Y in page faults
        alone on wide states).

        G and Y are rings too: row n is G[n % rows], Y[n % rows], so an (N+1, d) Y holds every
        state, a (2, d) Y (the least an implicit step needs: Newton starts from y_{n-1}) the last
        two, a (1, d) G a constant forcing; the states y_n with n in ``keep`` (increasing) are
        copied into the rows of ``out`` as they are reached.  Y[0..S-1] must be set
        (``_start_loop``; a ring needs S = 1).
        """
        optimise_for_size()
        K, J = _kernel_at(K_at), _jacobian_at(J_at)
        N = t.shape[0] - 1
        d = Y.shape[1]
        h = (t[N] - t[0]) / N
        S = start.shape[0]
        nl = left.shape[0]
        nr = right.shape[0]
        ny, ng = Y.shape[0], G.shape[0]
        f = np.empty(d)
        work = np.empty(d)
        Jk = _newton_workspace(d, S, N, left, right)
        H = max(nl, S)
        R = nr + 1
        head = np.zeros((H, d))          # K_j, j < H (the starting block and the left corrections)
        ring = np.zeros((R, d))          # K_j, n - R <= j < n, at ring[j % R]
        total = np.zeros(d)
        q = 0                            # the next entry of keep
        # (rows copied and summed element by element: a slice assignment, head[n, :] = f, also
        # compiles Numba's shape-mismatch error with its message formatting, 1.7 s of this loop's
        # 4.6 s compilation from an empty cache; the same values)
        for n in range(S):
            K(t[n], t[n], Y, n % ny, theta, f)
            for k in range(d):
                head[n, k] = f[k]
                ring[n % R, k] = f[k]
            while q < keep.shape[0] and keep[q] == n:
                for k in range(d):
                    out[q, k] = Y[n % ny, k]
                q += 1
        for n in range(S - 1):
            for k in range(d):
                total[k] += head[n, k]
        stats[NFEV] += S
        hist = np.empty(d)
        for n in range(S, N + 1):
            # total = sum_{j < n - 1} K_j here; add K_{n-1}
            if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
                return INTERRUPTED, n
            last = ring[(n - 1) % R]
            r, g = n % ny, G[n % ng]
            if min(nl, n) == 0 and min(nr, n + 1) <= 1 and _diagonal(n, left, right) == 0.0:
                # explicit, no end corrections (the rectangle rule: a ResNet): the operations of
                # the general step in one pass (on wide states a pass costs as much as a tanh)
                bad = False
                for k in range(d):
                    total[k] += last[k]
                    v = g[k] + h * total[k]
                    Y[r, k] = v
                    bad |= not np.isfinite(v)
                if bad:
                    return NOT_FINITE, n
            else:
                for k in range(d):
                    total[k] += last[k]
                    hist[k] = total[k]
                for j in range(min(nl, n)):
                    for k in range(d):
                        hist[k] += left[j] * head[j, k]
                for i in range(1, min(nr, n + 1)):
                    row = ring[(n - i) % R]
                    for k in range(d):
                        hist[k] += right[i] * row[k]
                for k in range(d):
                    hist[k] = g[k] + h * hist[k]
                # Newton starts from Y[r - 1]: for r = 0 that is Y[-1], the ring's last row,
                # y_{n-1}
                status = _finish_step(K, J, have_jac, theta, t[n], hist,
                                      h * _diagonal(n, left, right), Y, r, tol, maxiter, f, work,
                                      Jk, stats)
                if robust and status == NEWTON_FAILED and _continuation(
                        K, J, have_jac, theta, t[n:n + 1], t[n:n + 1], Y, r, _INT(1), r,
                        hist.copy(), np.full((1, 1), h * _diagonal(n, left, right)), tol,
                        maxiter, stats):
                    status = SUCCESS
                    for k in range(d):
                        if not np.isfinite(Y[r, k]):
                            status = NOT_FINITE
                if status != SUCCESS:
                    return status, n
            while q < keep.shape[0] and keep[q] == n:
                for k in range(d):
                    out[q, k] = Y[r, k]
                q += 1
            if n == N:
                break                                    # K_N: no later step reads it
            K(t[n], t[n], Y, r, theta, ring[n % R])      # into the ring: no copy of K_n
            stats[NFEV] += 1
            if n < H:
                for k in range(d):
                    head[n, k] = ring[n % R, k]
        return SUCCESS, N

    return _direct_autonomous_loop


_direct_autonomous_loop = _direct_autonomous_loop_of(False)
_direct_autonomous_robust_loop = _direct_autonomous_loop_of(True)


def _sample_lags(lag_at, theta, us, out):
    """out[i] = k(us[i]; theta) for a convolution kernel's lag function."""
    lag = _lag_at(lag_at)
    for i in range(us.shape[0]):
        lag(us[i], theta, out[i])


def _direct_dense(B_at, theta, points, rows, t, Y, start, left, right, history, first, partial,
                  G, out):
    """The dense output of direct quadrature: out[i] = G[i] + h (sum_j w_nj K(x, t_j, Y_j)
    + sum_k partial[i, k] K(x, t_(first[i] + k), Y_(first[i] + k))), x = points[i] and
    n = rows[i]: the rule's row n over [t0, t_n] (rows n < S of the starting block ``start``,
    beyond w_nj = 1 + left[j] + right[n - j]; none without ``history``) and the partial step
    over [t_n, x], in one block sum per point."""
    B = _block_at(B_at)
    N = t.shape[0] - 1
    h = (t[N] - t[0]) / N
    S = start.shape[0]
    q = partial.shape[1]
    w = np.empty(N + 1)
    acc = np.empty(Y.shape[1])
    for i in range(points.shape[0]):
        n = rows[i]
        width = 0
        if history:
            width = S if n < S else n + 1
        for j in range(width):
            if n < S:
                w[j] = start[n, j]
            else:
                wj = 1.0
                if j < left.shape[0]:
                    wj += left[j]
                if n - j < right.shape[0]:
                    wj += right[n - j]
                w[j] = wj
        end = first[i] + q
        end = end if end > width else width
        for j in range(width, end):
            w[j] = 0.0
        for k in range(q):
            w[first[i] + k] += partial[i, k]
        B(points[i], t, Y, 0, end, w, theta, acc)
        for k in range(Y.shape[1]):
            out[i, k] = G[i, k] + h * acc[k]


# -- lazy compilation with fixed signatures --------------------------------------------------

_f8 = types.float64
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I8A = types.int64[::1]
_RET = types.UniTuple(types.int64, 2)

_A4 = types.float64[:, :, :, ::1]
_C1 = types.complex128[::1]
_K = _J = _B = types.int64        # addresses (see _kernel_at)
_SIGNATURES = {
    "start": _RET(_K, _J, types.boolean, _A1, _A1, _A2, _A2, _A2, _f8, types.int64, _I8A),
    "sample-lags": types.void(types.int64, _A1, _A1, types.float64[:, :, ::1]),
    "direct-dense": types.void(_B, _A1, _A1, _I8A, _A1, _A2, _A2, _A1, _A1, types.boolean, _I8A,
                               _A2, _A2, _A2),
    "direct": _RET(_K, _J, types.boolean, _B, _A1, _A1, _A2, _A2, _A2, _A1, _A1, _f8, types.int64,
                   _I8A),
    "direct-explicit": _RET(_K, _J, types.boolean, _B, _A1, _A1, _A2, _A2, _A2, _A1, _A1, _f8,
                            types.int64, _I8A),
    "vrk": _RET(_K, _J, types.boolean, _B, _A1, _A1, _A2, _A2, _A2, _A2, _A1, _A2, _A1, types.boolean,
                _f8, types.int64, _I8A),
    "direct-autonomous": _RET(_K, _J, types.boolean, _A1, _A1, _A2, _A2, _A2, _A1, _A1, _f8,
                              types.int64, _I8A, _A2, _I8A),
    "vrk-steps": types.int64(_K, _J, types.boolean, _B, _A1, _f8, _f8, _A1, _A2, _A2, _A1, _A1,
                             types.int64, _A1, _A2, _A1, types.boolean, _f8, types.int64, _I8A,
                             types.int64, _A1, _A1, _A1, _f8, _A2),
    "direct-conv": _RET(_K, _J, types.boolean, _K, _A1, _A1, _A2, _A2, _A2, _A1, _A1, _A4, _C1, _I8A,
                        _C1, types.boolean, _f8, types.int64, _I8A),
    "vrk-conv": _RET(_K, _J, types.boolean, _K, _A1, _A1, _A2, _A2, _A2, _A2, _A1, _A2, _A1,
                     types.boolean, _A4, _C1, _I8A, _C1, types.boolean, _f8, types.int64, _I8A),
    "vrk-conv-linear": _RET(_K, _J, types.boolean, _K, _A1, _A1, _A2, _A2, _A2, _A2, _A1, _A2, _A1,
                            types.boolean, _A4, _C1, _I8A, _C1, types.boolean, _f8, types.int64,
                            _I8A),
}
# the variants with the continuation fallback (a network's kernel) take the same arguments
for _name in ("start", "direct", "direct-autonomous"):
    _SIGNATURES[_name + "-robust"] = _SIGNATURES[_name]
_PYFUNCS = {"start": _start_loop, "direct-autonomous": _direct_autonomous_loop,
            "vrk-steps": _vrk_steps, "sample-lags": _sample_lags, "direct": _direct_loop,
            "direct-dense": _direct_dense,
            "direct-explicit": _direct_explicit_loop,
            "vrk": _vrk_loop, "direct-conv": _direct_conv_loop, "vrk-conv": _vrk_conv_loop,
            "vrk-conv-linear": _vrk_conv_linear_loop, "start-robust": _start_robust_loop,
            "direct-robust": _direct_robust_loop,
            "direct-autonomous-robust": _direct_autonomous_robust_loop}
_COMPILED = {}
#: the loops that allocate nothing, compiled without reference counting (see _numba.NO_NRT):
#: the lag samples' loop passes a view of its output to k at every sample (~5 ns a call: the
#: samples of N = 2^18 took 5.4 ms with it, 4.0 without)
_NO_NRT_LOOPS = frozenset({"sample-lags"})


def compiled_loop(name):
    """The compiled loop ``name`` (a key of ``_SIGNATURES``), compiled (or loaded from the
    on-disk cache) on first use."""
    loop = _COMPILED.get(name)
    if loop is None:
        # called from Python only, never through a function pointer: no C wrapper to compile
        loop = njit(_SIGNATURES[name], no_cfunc_wrapper=True,
                    **{k: v for k, v in JIT_OPTIONS.items() if k != "nopython"},
                    **(NO_NRT if name in _NO_NRT_LOOPS else {}))(_PYFUNCS[name])
        _COMPILED[name] = loop
    return loop


_ENTRIES = {}


def loop_entry(name):
    """The entry point of :func:`compiled_loop` ``name``'s one compiled signature: the same
    machine code without the dispatcher's matching of the argument types (~2.5 us a call of 17
    arguments; a solve on 8 steps with its error estimate makes 6 to 12 such calls).  It
    converts no argument and checks no array's type: for callers whose arrays are float64 (int64
    for the counts) and C-contiguous by construction, as the signature says (a dispatcher would
    refuse others with a TypeError; the entry point would misread them)."""
    entry = _ENTRIES.get(name)
    if entry is None:
        loop = compiled_loop(name)
        overloads = getattr(loop, "overloads", None)
        if overloads is None or len(overloads) != 1:   # (a loop wrapped by a study: as it is)
            return loop
        entry = _ENTRIES[name] = next(iter(overloads.values())).entry_point
    return entry


_NO_JACOBIAN = []


def no_jacobian():
    """A placeholder Jacobian function (never called: ``have_jac`` is False), as a
    :class:`~integrallimits.kernels._kernel.FunctionAddress` with no compiled code
    (:meth:`~integrallimits.kernels._kernel.FunctionAddress.absent`)."""
    if not _NO_JACOBIAN:
        from ..kernels._kernel import JACOBIAN_SIGNATURE, FunctionAddress
        _NO_JACOBIAN.append(FunctionAddress.absent(JACOBIAN_SIGNATURE))
    return _NO_JACOBIAN[0]
