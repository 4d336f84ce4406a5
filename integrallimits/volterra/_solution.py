"""The result of a solve: mesh values, dense output, status and work counters."""
from __future__ import annotations

import copy
import math

import numpy as np

from .._inputs import points_array

__all__ = ["Solution", "SolverError", "copy_sharing", "count_estimate_work",
           "lagrange_dense_output", "lagrange_values", "largest_estimate"]


class SolverError(RuntimeError):
    """A solve failed (Newton did not converge, the solution blew up or became non-finite)."""


def lagrange_values(nodes, u):
    """The Lagrange basis polynomials on ``nodes`` (m,) at the points ``u`` (P,): an array
    (P, m) of L_j(u), each formed as the product of (u - x_i) / (x_j - x_i), i != j."""
    u = np.asarray(u, dtype=float)
    out = np.ones((u.shape[0], len(nodes)))
    for j in range(len(nodes)):
        for i in range(len(nodes)):
            if i != j:
                out[:, j] *= (u - nodes[i]) / (nodes[j] - nodes[i])
    return out


def lagrange_dense_output(t, y, points, n_nodes):
    """Interpolate mesh values (t, y) at ``points`` with local Lagrange polynomials.

    Each query uses the ``n_nodes`` mesh nodes nearest to its interval (clipped at
    the ends), so the interpolation error is O(h^n_nodes) for smooth y.
    """
    points = np.asarray(points, dtype=float)
    N = t.shape[0] - 1
    k = min(n_nodes, N + 1)
    idx = np.clip(np.searchsorted(t, points, side="right") - 1, 0, max(N - 1, 0))
    first = np.clip(idx - (k - 1) // 2, 0, N + 1 - k)
    nodes = first[:, None] + np.arange(k)[None, :]  # (P, k)
    tn = t[nodes]
    diff = points[:, None] - tn
    # Lagrange basis values, computed as products (k <= 9, no barycentric weights needed)
    basis = np.ones_like(diff)
    for a in range(k):
        for b in range(k):
            if a != b:
                basis[:, a] *= diff[:, b] / (tn[:, a] - tn[:, b])
    return np.einsum("pk,pk...->p...", basis, y[nodes])


class Solution:
    """Solution of a Volterra integral equation on a mesh.

    Attributes
    ----------
    t : ndarray (N+1,)
        The mesh (truncated at the last confirmed point if the solve failed), or the
        requested ``t_eval``.
    y : ndarray (N+1,) or (N+1, d)
        The solution at ``t``.
    error_estimate : ndarray, shape of ``y``
        Estimated error of each value (from a companion solve with half, or double, the
        steps; see :mod:`integrallimits.volterra._estimate`); NaN where no estimate was
        made (``error_estimate=False``).  Its maximum over the mesh is
        ``stats["max_error_estimate"]`` (at ``t_eval`` points between mesh points the estimate
        adds that of the dense output's partial step, or of the interpolation, and may exceed
        it).
    status : int
        0: the solver reached the end of the interval; -1: it failed (``message`` says
        where and why).  As in :func:`scipy.integrate.solve_ivp`.
    success : bool
        ``status >= 0``.
    message : str
        What happened; on failure, where (t) and why.
    nfev, njev : int
        Kernel and Jacobian evaluations (also in ``stats``), companion solve included.
    stats : dict
        Work counters: ``nfev`` (kernel evaluations), ``njev`` (Jacobian
        evaluations), ``newton_iterations``, ``newton_solves``, ``jacobian``
        (its source: "user", "sympy", "analytic" or "finite-difference"),
        ``error_estimate`` (how it was made), ``error_estimate_nfev`` (the companion's
        kernel evaluations, included in ``nfev``), ``estimate_order`` (the order the
        estimate assumes: the method's, or a lower one the solutions were seen to converge
        at, a sign of data that is not smooth), ``estimate_pair_factor`` (on a mesh whose
        neighbouring steps differ, the factor the estimates were multiplied by: the solve
        on every other point all but repeats the long steps), ``max_error_estimate``,
        ``failure``
        (None, or "newton", "non-finite", "kernel-non-finite", "unresolved", "unchecked";
        solves to a tolerance also "tolerance", "stalled", "blow-up", "step-collapse",
        "non-smooth"; a ReLU network's forward map also "several-roots", with ``roots``, and
        "no-root" (an implicit step whose equation has no solution, ``roots`` 0); a
        success whose steps' roots could not be counted has ``roots_unchecked``, one whose
        layers from a Newton failure on are the one roots of their steps ``roots_solved``, see
        :mod:`integrallimits.networks._roots`),
        ``compiled`` and ``seconds``.  Solves to a tolerance add ``rtol``, ``atol`` and
        ``refinements`` (the (steps, estimate / tolerance) of every global check); those of
        Runge-Kutta and collocation methods ``adaptive_steps`` and ``rejected_steps`` of the
        controlled pass (0 when the mesh stayed uniform) and ``pilot_factor`` (how many times
        looser than the tolerance that pass ran; None without one).
    method : str
    order : int
        The declared order of the method.
    mesh, y_mesh : ndarray
        The mesh and the mesh values (the same arrays as ``t`` and ``y`` unless ``t_eval``
        was given).
    stages : ndarray (N m, d) or None
        For Runge-Kutta and collocation methods, the stage values Z_ni at
        t_n + c_i h_n (row n m + i), which :func:`integrallimits.control.discrete_adjoint`
        needs; None for direct quadrature and product integration.
    t_failure : float or None
        Where a failed solve stopped.

    Notes
    -----
    Calling ``sol(t)`` evaluates the dense output: for Runge-Kutta and collocation methods
    one more (partial) step of the method from the mesh point before t, which has the
    accuracy of the mesh values (:mod:`integrallimits.volterra._dense`; for weakly singular
    kernels a partial step of product integration); for first-kind
    collocation the collocation polynomial of the step; for direct quadrature the equation
    itself, g at t plus the rule's weights over the whole steps and an interpolatory rule over
    the partial one (g is called again, with the values it read in the solve), which has the
    accuracy of the mesh values; otherwise local Lagrange interpolation of the mesh values.
    Array in, array out; a float in gives a float (or a
    (d,) array) out.
    """

    def __init__(self, t, y, *, scalar, status, message, stats, method, order, t_failure=None,
                 stages=None, error_estimate=None, t_eval=None):
        self.mesh = t
        self._y2 = y
        self.scalar = scalar
        self.status = int(status)
        self.message = message
        self.stats = stats
        self.method = method
        self.order = order
        self.t_failure = t_failure
        self.stages = stages
        est = np.full_like(y, np.nan) if error_estimate is None else error_estimate
        self._est2 = est
        self._dense = None
        self.y_mesh = y[:, 0] if scalar else y
        self.error_estimate_mesh = est[:, 0] if scalar else est
        self.t, self.y, self.error_estimate = self.mesh, self.y_mesh, self.error_estimate_mesh
        if t_eval is not None:
            self.attach(t_eval=t_eval)

    def attach(self, dense=None, t_eval=None):
        """Use ``dense(points) -> (P, d)`` as the dense output (e.g. the partial-step output of
        :mod:`._dense`), and/or make ``t``, ``y`` and ``error_estimate`` the values at
        ``t_eval`` (those inside the solved interval).  A dense output with an ``error(points)``
        (direct quadrature's: its partial step's) adds it to the estimates at ``t_eval``."""
        if dense is not None:
            self._dense = dense
        if t_eval is not None:
            t, t_eval = self.mesh, np.asarray(t_eval, dtype=float).reshape(-1)
            inside = t_eval[(t_eval >= t[0]) & (t_eval <= t[-1])] if len(t) else t_eval[:0]
            self.t = inside
            self.y = self(inside) if inside.size else self.y_mesh[:0]
            self.error_estimate = _interpolate_estimate(t, self._est2, inside, self.scalar)
            if inside.size and self._dense is None:
                self.error_estimate = self.error_estimate + self._interpolation_error(inside)
            elif inside.size and hasattr(self._dense, "error"):
                more = self._dense.error(inside)
                _count_error_evaluations(self.stats, self._dense.error)
                self.error_estimate = self.error_estimate + (more[:, 0] if self.scalar else more)
        return self

    def _interpolation_error(self, points):
        """An estimate of the error of the Lagrange dense output at ``points`` (0 at the mesh
        points): its difference to the interpolant with one node more.  Between t0 and t1
        the mesh values' estimates are near 0 while interpolating loses O(h^k) (trapezoid,
        N = 256: 97 times the estimate there)."""
        mesh, k = self.mesh, max(2, int(np.ceil(self.order)))
        if mesh.shape[0] < k + 1 or self._dense is _UNPICKLED:
            return 0.0
        diff = np.abs(lagrange_dense_output(mesh, self._y2, points, k + 1)
                      - lagrange_dense_output(mesh, self._y2, points, k))
        return diff[:, 0] if self.scalar else diff

    @property
    def success(self):
        return self.status >= 0

    @property
    def nfev(self):
        return self.stats.get("nfev", 0)

    @property
    def njev(self):
        return self.stats.get("njev", 0)

    def __getstate__(self):
        """A pickled solution keeps every value but not the partial-step dense output, which
        holds the compiled kernel and the forcing (neither can be pickled; a dense output of
        arrays only says ``picklable = True`` and is kept): called between
        mesh points, the unpickled solution raises instead (evaluate before pickling, or pass
        ``t_eval``)."""
        state = self.__dict__.copy()
        if state.get("_dense") is not None and not getattr(state["_dense"], "picklable", False):
            state["_dense"] = _UNPICKLED
        return state

    def __copy__(self):
        """``copy.copy``: a solution sharing everything, its dense output included (copying
        went through :meth:`__getstate__`, and the copy raised between mesh points as if
        unpickled)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: the values copied, the dense output shared (it reads the
        solve's arrays and the compiled kernel and g, and writes none of them)."""
        return copy_sharing(self, memo, ("_dense",))

    def __call__(self, t):
        t_arr = points_array(t, "t")
        mesh = self.mesh
        if t_arr.size and (np.any(~np.isfinite(t_arr)) or t_arr.min() < mesh[0]
                           or t_arr.max() > mesh[-1]):
            raise ValueError(f"t must lie in the solved interval [{mesh[0]}, {mesh[-1]}]")
        if self._dense is _UNPICKLED:
            if not np.isin(t_arr, mesh).all():
                raise RuntimeError("this solution was unpickled: its dense output (a partial "
                                   "step of the method, which needs the kernel and g) was not "
                                   "kept; evaluate it before pickling, or solve with t_eval=")
            values = self._y2[np.searchsorted(mesh, t_arr.reshape(-1))]
        elif mesh.shape[0] < 2:
            values = np.broadcast_to(self._y2[0], t_arr.reshape(-1).shape + self._y2.shape[1:])
        elif self._dense is not None:
            values = self._dense(t_arr.reshape(-1))
        else:
            values = lagrange_dense_output(mesh, self._y2, t_arr.reshape(-1),
                                           max(2, int(np.ceil(self.order))))
        values = values.reshape(t_arr.shape + self._y2.shape[1:])
        if self.scalar:
            values = values[..., 0]
        return values[()] if t_arr.ndim == 0 and self.scalar else values

    def __repr__(self):
        shape = "x".join(map(str, self.y.shape))
        return (f"Solution(method={self.method!r}, status={self.status}, y: {shape}, "
                f"message={self.message!r})")


def _count_error_evaluations(stats, error):
    """Add the kernel evaluations of the last call of a dense output's ``error(points)``
    (``error.nfev``) to ``stats["nfev"]`` and ``stats["error_estimate_nfev"]`` (a dict, or
    None)."""
    calls = int(getattr(error, "nfev", 0))
    if calls and stats is not None:
        count_estimate_work(stats, calls)


def count_estimate_work(stats, calls):
    """Add ``calls`` kernel evaluations made to estimate or check the error to ``stats["nfev"]``
    and ``stats["error_estimate_nfev"]``."""
    stats["nfev"] = stats.get("nfev", 0) + calls
    stats["error_estimate_nfev"] = stats.get("error_estimate_nfev", 0) + calls


def copy_sharing(obj, memo, shared):
    """A deep copy of ``obj`` (its ``__dict__``) whose attributes named in ``shared`` are the
    original's (what only pickling has to drop: a solution's compiled kernel, g and the
    dense output made of them)."""
    new = object.__new__(type(obj))
    memo[id(obj)] = new
    state = {k: v for k, v in obj.__dict__.items() if k not in shared}
    new.__dict__.update(copy.deepcopy(state, memo))
    new.__dict__.update({k: v for k, v in obj.__dict__.items() if k in shared})
    return new


class _UNPICKLED:
    """The dense output of an unpickled solution (see :meth:`Solution.__getstate__`; a class,
    so that pickling keeps its identity)."""


def _interpolate_estimate(t, est, points, scalar):
    """The error estimate at ``points``: the larger of the two enclosing mesh points'."""
    if not points.size:
        out = est[:0]
    else:
        right = np.clip(np.searchsorted(t, points), 0, len(t) - 1)
        left = np.clip(right - 1, 0, len(t) - 1)
        out = np.maximum(est[left], est[right])
    return out[:, 0] if scalar else out


def largest_estimate(estimate):
    """The largest finite entry of an error estimate (``stats["max_error_estimate"]``), NaN
    where there is none."""
    if estimate.size <= 64:     # (as floats: NumPy's reductions of a few values cost ~2 us each)
        finite = [v for v in estimate.reshape(-1).tolist() if math.isfinite(v)]
        return max(finite) if finite else float("nan")
    largest = float(np.maximum.reduce(estimate, axis=None))   # (NaN if one is NaN)
    if math.isfinite(largest):
        return largest      # (every entry is finite, or -inf)
    finite = estimate[np.isfinite(estimate)]
    return float(finite.max()) if finite.size else float("nan")
