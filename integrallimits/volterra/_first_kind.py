r"""Volterra integral equations of the first kind.

.. math:: g(t) = \int_{t_0}^{t} K(t, s)\, y(s)\, ds, \qquad t_0 \le t \le T,

with K linear in y, K(t, t) nonsingular and g(t_0) = 0.  Differentiating gives the
second-kind equation K(t, t) y(t) = g'(t) - \int K_t(t, s) y(s) ds, so the problem is
well posed in the smooth case, but a discretisation inherits the ill-posedness of
differentiating data: errors in g (and rounding) are amplified by 1/h, and only
methods whose error recursion is *damped* converge.  The methods offered
(:data:`FIRST_KIND_METHODS`):

* ``"radau1"`` ... ``"radau4"`` -- collocation in the discontinuous piecewise
  polynomials of degree m - 1 at the m Radau IIA points (c_m = 1), fully
  discretised with the same interpolatory quadrature (the Pouzet form of
  :class:`~integrallimits.volterra.VolterraRungeKutta`).  On step n with stage
  times t_ni = t_n + c_i h_n the m d stage values Z_ni solve the linear system

  .. math:: h_n \sum_j a_{ij} K(t_{ni}, t_{nj}) Z_{nj}
            = g(t_{ni}) - \sum_{l<n} h_l \sum_j b_j K(t_{ni}, t_{lj}) Z_{lj},

  and y(t_{n+1}) = Z_{n,m} (c_m = 1).  Brunner's convergence condition for
  first-kind collocation (Brunner 2004, Thm. 2.4.2) is
  :math:`-1 \le \rho_m = (-1)^m \prod_i (1 - c_i)/c_i \le 1`, order m when
  :math:`\rho_m < 1`; Radau IIA points have :math:`\rho_m = 0`, the strongest
  damping.  Order **m**, also at the mesh points (no superconvergence for the
  first kind: with K = 1 the method is exactly differentiation of the degree-m
  interpolant of g, whose error at the end point is O(h^m)).  ``"implicit-rectangle"``
  is ``"radau1"`` (h sum_{j=1}^{n} K(t_n, t_j) y_j = g(t_n)), order 1.
* ``"midpoint"`` -- the midpoint method (Linz 1985, ch. 10): unknowns at the
  midpoints t_{j+1/2}, the equation imposed at the mesh points,
  :math:`\sum_{j<n} h_j K(t_n, t_{j+1/2}) y_{j+1/2} = g(t_n)`.  Stable, order 2 at
  the midpoints; the mesh values are the linear interpolant (extrapolant at the
  two ends) of the midpoint values, also order 2.

Refused, with the reason (:data:`REFUSED_METHODS`), are the second-kind methods that
diverge or are only weakly stable for the first kind: the trapezoid and Gregory
rules (the roots of their first-kind characteristic polynomial, computed from the
rule's end weights, lie on or outside the unit circle), Gauss collocation
(:math:`\rho_m = (-1)^m`: on the stability boundary) and the explicit methods.

The measured orders are in ``tests/volterra/test_first_kind.py`` and the "orders"
study.
"""
from __future__ import annotations

import math

import numpy as np
from .._numba import njit

from .._linalg import solve_inplace
from .._numba import JIT_OPTIONS, types
from ..kernels import Kernel, _user, as_forcing, as_kernel
from ..kernels._linear import as_linear_kernel, positional_arity
from ..quadrature import volterra_rule
from . import _loops
from ._loops import _stage_grid, new_counts
from ..kernels._structured import is_weakly_singular
from ._mesh import (check_flags, check_mesh, check_size, check_t_eval, estimated_work,
                    resolve_method, uniform_mesh)
from ._adaptive import _not_checked
from ._outcome import Run, run_guarded, solve_on_mesh, with_settled_levels
from ._solution import SolverError, lagrange_values, largest_estimate
from ._tolerance import (ESTIMATE_FLOOR, GROSS, RESOLVE, STIFF, _raise_to_defects,
                         check_tolerances, fit_tolerances, refined_to_tolerance,
                         solve_uniform_to_tolerance, with_checked_estimate, with_confirmed_digits,
                         with_resolved_start)
from ._tableaux import collocation_tableau

__all__ = ["FirstKindMethod", "FIRST_KIND_METHODS", "REFUSED_METHODS", "solve_first_kind"]

SUCCESS, SINGULAR, NOT_FINITE, INTERRUPTED = 0, 1, 2, 3
#: The most steps of a solve to a tolerance (``rtol``, ``atol``).
MAX_TOLERANCE_STEPS = 2 ** 14
NFEV, NSOLVE = 0, 1
_EPS = float(np.finfo(float).eps)
#: The measured part of the bound of :class:`_RoundingFloor` (the rounding errors of a step's
#: right side times ||A^-1||_inf): 1/4.
_ROUNDING = 0.25

_MESSAGES = {
    SINGULAR: ("The linear system of the step ending at t = {t:.6g} is singular: K(t, t) is singular "
               "there (a first-kind equation needs K(t, t) nonsingular).", "singular"),
}


# -- compiled loops ------------------------------------------------------------------------------

def _collocation_loop(K_at, block_at, theta, t, Gs, c, A, b, Z, stats):
    """Radau IIA collocation for the first kind: one (m d) x (m d) linear solve per step.

    Z[n m + i] receives the stage value at t_n + c_i h_n; Gs holds g there.  The kernel and
    its block sum come by their addresses (as the second kind's loops take them).
    """
    K, block_sum = _loops._kernel_at(K_at), _loops._block_at(block_at)
    N = t.shape[0] - 1
    m = c.shape[0]
    d = Z.shape[1]
    md = m * d
    E = np.eye(d)                       # rows: unit vectors (columns of the kernel matrix)
    f = np.empty(d)
    mat = np.empty((md, md))
    rhs = np.empty(md)
    svals, wts = _stage_grid(t, c, b)
    for n in range(N):
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, n
        h = t[n + 1] - t[n]
        for i in range(m):
            ti = t[n] + c[i] * h
            block_sum(ti, svals, Z, 0, n * m, wts, theta, f)
            stats[NFEV] += n * m
            for k in range(d):
                rhs[i * d + k] = Gs[n * m + i, k] - f[k]
            for j in range(m):
                tj = svals[n * m + j]
                for q in range(d):
                    K(ti, tj, E, q, theta, f)
                    stats[NFEV] += 1
                    for a in range(d):
                        mat[i * d + a, j * d + q] = h * A[i, j] * f[a]
        stats[NSOLVE] += 1
        if not solve_inplace(mat, rhs):
            return SINGULAR, n + 1
        for i in range(m):
            for k in range(d):
                v = rhs[i * d + k]
                if not np.isfinite(v):
                    return NOT_FINITE, n + 1
                Z[n * m + i, k] = v
    return SUCCESS, N


def _midpoint_loop(K_at, block_at, theta, t, G, U, stats):
    """The midpoint method: sum_{j<=n} h_j K(t_{n+1}, t_{j+1/2}) U_j = g(t_{n+1}) for U_n."""
    K, block_sum = _loops._kernel_at(K_at), _loops._block_at(block_at)
    N = t.shape[0] - 1
    d = U.shape[1]
    E = np.eye(d)
    f = np.empty(d)
    mat = np.empty((d, d))
    rhs = np.empty(d)
    mid = np.empty(N)
    wts = np.empty(N)
    for n in range(N):
        mid[n] = 0.5 * (t[n] + t[n + 1])
        wts[n] = t[n + 1] - t[n]
    for n in range(N):
        block_sum(t[n + 1], mid, U, 0, n, wts, theta, f)
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, n
        stats[NFEV] += n
        for k in range(d):
            rhs[k] = G[n + 1, k] - f[k]
        for q in range(d):
            K(t[n + 1], mid[n], E, q, theta, f)
            stats[NFEV] += 1
            for a in range(d):
                mat[a, q] = wts[n] * f[a]
        stats[NSOLVE] += 1
        if not solve_inplace(mat, rhs):
            return SINGULAR, n + 1
        for k in range(d):
            if not np.isfinite(rhs[k]):
                return NOT_FINITE, n + 1
            U[n, k] = rhs[k]
    return SUCCESS, N


def _kernel_samples(K_at, theta, t, s, out):
    """out[n] = the (d, d) kernel matrix k(t_n, s_n) (columns from unit vectors)."""
    K = _loops._kernel_at(K_at)
    d = out.shape[1]
    E = np.eye(d)
    f = np.empty(d)
    for n in range(t.shape[0]):
        for q in range(d):
            K(t[n], s[n], E, q, theta, f)
            for a in range(d):
                out[n, a, q] = f[a]


_I = types.int64   # (the functions' addresses: a function argument cost ~7.5 us a call)
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I8A = types.int64[::1]
_RET = types.UniTuple(types.int64, 2)
_SIGNATURES = {
    "collocation": _RET(_I, _I, _A1, _A1, _A2, _A1, _A2, _A1, _A2, _I8A),
    "midpoint": _RET(_I, _I, _A1, _A1, _A2, _A2, _I8A),
    "samples": types.void(_I, _A1, _A1, _A1, types.float64[:, :, ::1]),
}
_PYFUNCS = {"collocation": _collocation_loop, "midpoint": _midpoint_loop, "samples": _kernel_samples}
_COMPILED = {}


def _compiled(name):
    loop = _COMPILED.get(name)
    if loop is None:
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        loop = njit(_SIGNATURES[name], **options)(_PYFUNCS[name])
        _COMPILED[name] = loop
    return loop


# -- methods -------------------------------------------------------------------------------------

class FirstKindMethod:
    """A method for first-kind Volterra equations: ``name``, ``order``, ``family``, ``description``.

    ``family`` is "collocation" (Radau IIA, with ``tableau``) or "midpoint".
    ``solve(kernel, g_vec, t)`` returns (Y, status, index, counts) like the
    second-kind methods, and the stage values Z (N m, d) (collocation; None for midpoint).
    """

    implicit = True
    min_steps = 1
    uniform_only = False
    #: The half-steps companion of an odd number of steps leaves the last point out (it takes
    #: its neighbour's estimate) instead of sharing the last step, as second-kind solves do
    #: (:func:`._estimate.coarse_mesh`): a first-kind value is made by its own step (the
    #: equation is a differentiation), so on a shared last step both solves give the same
    #: y(T) and its estimate was rounding (radau3, N = 33: 1.9e-15 for an error of 1.1e-6).
    companion_shares_odd_end = False
    #: Every odd point is estimated by a companion of its own (``odd_points`` of
    #: :func:`._estimate.estimate_error`): a first-kind value is made by its own step, and
    #: an error there (a jump of y inside it, K(t, t) near 0) is not seen at the even points
    #: beside it that the half-steps companion compares.
    estimate_options = {"odd_points": True}

    def __init__(self, name, family, order, description, tableau=None, min_steps=1):
        self.name = name
        self.family = family
        self.order = order
        self.description = description
        self.tableau = tableau
        self.min_steps = min_steps
        if tableau is not None:
            if tableau.c[-1] != 1.0:
                raise ValueError("first-kind collocation here needs c_m = 1 (the mesh value is the "
                                 "last stage); Radau IIA points have it")
            self._data = tuple(np.array(a, dtype=float, order="C")
                               for a in (tableau.c, tableau.A, tableau.b))
            c = np.array(tableau.c, dtype=float)
            # Lagrange basis on c evaluated at 0: y(t_0) from the first interval's polynomial
            self._at_zero = lagrange_values(c, [0.0])[0]

    def __repr__(self):
        return f"FirstKindMethod({self.name!r}, order={self.order})"

    def solve(self, kernel, g_vec, t):
        N = len(t) - 1
        d = kernel.dim
        counts = new_counts(2)
        Y = np.empty((N + 1, d))
        if self.family == "collocation":
            c, A, b = self._data
            m = c.shape[0]
            h = np.diff(t)
            stage_times = (t[:-1, None] + c[None, :] * h[:, None]).reshape(-1)
            Gs = np.ascontiguousarray(g_vec(stage_times))
            Z = np.zeros((N * m, d))
            function, _, block_sum = kernel.addresses
            status, index = _compiled("collocation")(function.address, block_sum.address,
                                                     kernel.params, t, Gs, c, A, b, Z, counts)
            Y[1:] = Z.reshape(N, m, d)[:, -1, :]
            Y[0] = self._at_zero @ Z[:m]
            return Y, status, index, counts, Z
        else:
            G = np.ascontiguousarray(g_vec(t))
            U = np.zeros((N, d))
            function, _, block_sum = kernel.addresses
            status, index = _compiled("midpoint")(function.address, block_sum.address,
                                                  kernel.params, t, G, U, counts)
            mid = 0.5 * (t[:-1] + t[1:])
            Y[:] = _linear_through(mid, U, t)
        return Y, status, index, counts, None


class CollocationPolynomial:
    """The dense output of a first-kind collocation solve: on (t_n, t_{n+1}] the polynomial of
    degree m - 1 through the stage values Z_n1..Z_nm at t_n + c_i h_n (the collocation
    solution itself, discontinuous at the mesh points; its value at t_{n+1} is Z_nm = y_{n+1}
    since c_m = 1).  Its error between the mesh points is of the order of the mesh values
    and measured 0.35-1.6 times theirs (radau2-4; interpolating the mesh values: 2.1-3.8
    times for radau3, 9-43 for radau4).  For radau1 (m = 1) it is piecewise constant, up to
    1.9 times the mesh error against 1.0 for linear interpolation, which radau1 keeps.
    Holds only arrays, so a pickled solution keeps it."""

    picklable = True

    def __init__(self, t, Y, Z, c):
        self.t, self.Y, self.c = t, Y, c
        self.Z = Z.reshape(len(t) - 1, c.shape[0], -1)

    def __call__(self, points):
        t, c = self.t, self.c
        n = np.clip(np.searchsorted(t, points, side="left") - 1, 0, len(t) - 2)
        x = (points - t[n]) / (t[n + 1] - t[n])
        basis = lagrange_values(c, x)
        out = np.zeros((points.size, self.Z.shape[2]))
        for j in range(c.shape[0]):
            out += basis[:, j, None] * self.Z[n, j]
        on_mesh = np.searchsorted(t, points)
        exact = (on_mesh < len(t)) & (t[np.minimum(on_mesh, len(t) - 1)] == points)
        out[exact] = self.Y[on_mesh[exact]]       # the mesh values, bit for bit
        return out


def _linear_through(xp, fp, x):
    """Piecewise linear interpolant of (xp, fp) at x, extrapolated linearly at both ends."""
    if xp.shape[0] == 1:
        return np.broadcast_to(fp[0], (x.shape[0],) + fp.shape[1:]).copy()
    idx = np.clip(np.searchsorted(xp, x) - 1, 0, xp.shape[0] - 2)
    lam = (x - xp[idx]) / (xp[idx + 1] - xp[idx])
    return fp[idx] + lam[:, None] * (fp[idx + 1] - fp[idx])


def _build_methods():
    methods = {"midpoint": FirstKindMethod(
        "midpoint", "midpoint", 2, "midpoint method (Linz): unknowns at the midpoints, the equation "
        "at the mesh points; mesh values by linear interpolation", min_steps=2)}
    for m in range(1, 5):
        methods[f"radau{m}"] = FirstKindMethod(
            f"radau{m}", "collocation", m, f"collocation at {m} Radau IIA points (rho_m = 0), "
            f"fully discretised; order {m}", tableau=collocation_tableau("radau", m))
    methods["implicit-rectangle"] = FirstKindMethod(
        "implicit-rectangle", "collocation", 1, "implicit (right) rectangle rule = radau1",
        tableau=collocation_tableau("radau", 1))
    return methods


class _Registry(dict):
    def __missing__(self, key):
        raise KeyError(f"unknown first-kind method {key!r}; known methods: {', '.join(self)}")


#: Methods for first-kind equations by name; ``FIRST_KIND_METHODS[name].order`` is the order.
FIRST_KIND_METHODS = _Registry(_build_methods())


def _first_kind_roots(name):
    """Roots of the first-kind characteristic polynomial of a direct quadrature rule.

    For n beyond the starting block, h sum_j w_nj K y_j = g_n with the end weights
    w_{n, n-i} = 1 + right[i]; differencing consecutive equations (K = 1) gives
    sum_i (w_{n, n-i} - w_{n, n-i+1}) y_{n-i} = (g_n - g_{n-1}) / h, whose
    characteristic roots must lie strictly inside the unit circle for errors to be damped.
    """
    rule = volterra_rule(name)
    w = 1.0 + np.array([float(x) for x in rule.right_exact] + [0.0])
    coeffs = np.concatenate([[w[0]], np.diff(w)])
    return np.roots(coeffs)


def _refusal(name):
    if name in ("trapezoid", "gregory4", "gregory6", "gregory8"):
        roots = _first_kind_roots(name)
        big = roots[np.argmax(np.abs(roots))]
        root = f"{big.real:.4g}" if abs(big.imag) < 1e-12 else f"{big:.4g}"
        if name == "trapezoid":
            return (f"the trapezoid rule is only weakly stable for first-kind equations: its "
                    f"characteristic root is z = {root} (|z| = 1), so the error carries an "
                    f"undamped (-1)^n oscillation excited by the starting value and by every "
                    f"perturbation of g (Linz 1985, ch. 10). Use 'midpoint' (order 2) or 'radau2'.")
        return (f"{name} diverges for first-kind equations: the characteristic polynomial of its end "
                f"weights has the root z = {root}, |z| = {abs(big):.3g} > 1, so errors grow like "
                f"|z|^n (Linz 1985, ch. 10: Newton-Cotes/Gregory corrections are unstable for the "
                f"first kind). Use 'radau3' or 'radau4' for higher order.")
    if name.startswith("gauss") and name[5:].isdigit():
        m = int(name[5:])
        rho = (-1) ** m
        detail = ("rho_m = +1: the order drops to m - 1 = %d and errors accumulate undamped" % (m - 1)
                  if rho == 1 else
                  "rho_m = -1: errors are not damped but alternate in sign from step to step")
        return (f"collocation at Gauss points is on the boundary of the convergence condition "
                f"-1 <= rho_m <= 1 for first-kind equations (Brunner 2004, Thm. 2.4.2), since "
                f"rho_m = (-1)^m prod (1 - c_i)/c_i = (-1)^m for symmetric points; here {detail}. "
                f"Use radau{m} (c_m = 1, rho_m = 0, order {m}).")
    if name == "rectangle":
        return ("the explicit (left) rectangle rule determines y_{n-1} from the equation at t_n, so "
                "y(T) would need g beyond T; its implicit counterpart is 'implicit-rectangle' "
                "(= 'radau1', order 1).")
    if name == "rk4":
        return ("explicit Volterra Runge-Kutta methods have a_11 = 0: the first stage equation of a "
                "first-kind problem does not contain the unknown, so the stage system is singular. "
                "Use 'radau4' (order 4).")
    return None


#: Second-kind method names refused for the first kind -> the reason.
REFUSED_METHODS = {name: _refusal(name) for name in
                   ("trapezoid", "gregory4", "gregory6", "gregory8", "rectangle", "rk4",
                    "gauss1", "gauss2", "gauss3", "gauss4")}


# -- the front function ----------------------------------------------------------------------------

def _linear_kernel(K, y0, t0, args=None):
    """The Kernel of a first-kind equation: K(t, s) (coefficient) or K(t, s, y) linear in y."""
    n_args = len(args or ())
    if isinstance(K, Kernel) or hasattr(K, "build"):
        kernel = as_kernel(K, y0, t0, args=args)
    elif not callable(K):
        raise TypeError(f"K must be callable K(t, s) (or K(t, s, y) linear in y), got "
                        f"{type(K).__name__}")
    elif positional_arity(K) == 2 + n_args:
        return as_linear_kernel(K, y0, t0, args=args)
    else:
        kernel = as_kernel(K, y0, t0, args=args)
    if kernel.structure.get("kind") == "linear":
        return kernel
    # A three-argument K must be linear in y: check it on probes (K(t, s, 0) = 0 and additivity).
    d = kernel.dim
    rng = np.random.default_rng(7)
    for t, s in ((t0 + 0.5, t0 + 0.25), (t0 + 1.0, t0), (t0 + 0.3, t0 + 0.3)):
        u, v = rng.uniform(0.5, 1.5, d), -rng.uniform(0.5, 1.5, d)
        ku, kv = np.atleast_1d(kernel(t, s, u)), np.atleast_1d(kernel(t, s, v))
        k0 = np.atleast_1d(kernel(t, s, np.zeros(d)))
        kw = np.atleast_1d(kernel(t, s, 2.5 * u - 1.5 * v))
        size = np.abs(ku).max() + np.abs(kv).max() + np.abs(kw).max()
        if np.abs(k0).max() > 1e-12 * size or np.abs(kw - (2.5 * ku - 1.5 * kv)).max() > 1e-9 * size:
            raise ValueError("K must be linear in y for a first-kind equation (K(t, s, y) = k(t, s) y); "
                             f"the given K is not (checked at t = {t}, s = {s}). Give the "
                             f"coefficient as a two-argument function K(t, s).")
    return kernel


def _short_time_scale(kernel):
    """The probe of a first-kind solve's first step, ``suspect(sol, rtol, atol)`` for the
    resolution check (:func:`._tolerance.with_checked_estimate`): whether the step may be long
    against a time scale of K, where the error estimates (coarser meshes) miss it alike.

    Differentiated, the equation is K(t, t) y + int dK/dt(t, s) y ds = g', of the second kind
    with the kernel -K(t, t)^-1 dK/dt: K = e^(-1000 (t - s)) on steps of 1/8 (radau1) was a
    success with y near 0.008 for y = 1 and estimates 250 times below the error.  Where
    dK/dt(t, t) = 0 the time scale is in the next derivative: K = cos(w (t - s)) gives the
    kernel w sin(w (t - s)) ~ w^2 (t - s), y'' ~ -w^2 y (radau1 on 2 to 8 steps with w = 100
    was a success with y = -0.01 for 1 and estimates 1,500 to 3,900 times below the error).
    Suspect the step if h ||J_1||_inf > STIFF or h^2 ||J_2||_inf > STIFF^2, with
    J_k = K(t0, t0)^-1 d^kK/dt^k(t0, t0) (forward differences in t), or if K(t1, s) varies over
    it more than its trapezoid sums with 1 and 4 panels agree, |T_1 - T_4| > GROSS |T_4|
    (scale-free: the size of y does not enter).  9 kernel matrices (9 d evaluations, counted
    in ``nfev``); a K that raises is raised as in the solve."""
    d = kernel.dim

    def suspect(sol, rtol, atol):
        t0, t1 = float(sol.mesh[0]), float(sol.mesh[1])
        h = t1 - t0
        delta = 1.4901161193847656e-08 * max(1.0, abs(t0))
        wide = 6.0554544523933395e-06 * max(1.0, abs(t0))    # eps^(1/3): a second difference
        tt = np.array([t0, t0 + delta] + [t1] * 5 + [t0 + wide, t0 + 2 * wide])
        ss = np.array([t0, t0] + [t0 + i * h / 4 for i in range(4)] + [t1] + [t0, t0])
        k = np.empty((9, d, d))
        run_guarded(lambda: _compiled("samples")(kernel.function_address.address, kernel.params,
                                                tt, ss, k),
                    kernel.args)
        sol.stats["nfev"] = sol.stats.get("nfev", 0) + 9 * d
        if not np.isfinite(k).all():
            return True
        # (K(t0, t0) is nonsingular)
        J1 = np.linalg.solve(k[0], (k[1] - k[0]) / delta)
        J2 = np.linalg.solve(k[0], (k[8] - 2 * k[7] + k[0]) / wide ** 2)
        if not h * np.abs(J1).sum(axis=1).max() <= STIFF:
            return True
        second = h * h * np.abs(J2).sum(axis=1).max()
        if not second <= STIFF * STIFF:      # (an oscillation: refine to RESOLVE radians)
            return max(math.sqrt(second) / RESOLVE, 1.0) if math.isfinite(second) else True
        T1 = h * (k[2] + k[6]) / 2
        T4 = h * (k[2] / 2 + k[3] + k[4] + k[5] + k[6] / 2) / 4
        return not np.abs(T1 - T4).max() <= GROSS * np.abs(T4).max()
    return suspect


class _RoundingFloor:
    """The rounding error a first-kind solve's mesh values can carry, ``floor(t, Y)`` (N+1, d),
    per point: the least error estimate that is honest (``rounding_floor`` in ``stats`` of a
    solve where it raised an estimate).

    A step solves h A (x) K(t, t) Z = g - (history) for its stage values: rounding errors in
    that right side, eps |t| |g'| from the stage times and about sqrt(n) eps times the
    history's sum of |K| |y| over its n steps, at most eps (|t_n| + sqrt(n) (t_n - t0)) ||K||
    max |y|, come out of it multiplied by about ||(h A (x) K(t, t))^-1|| = ||A^-1||
    ||K(t, t)^-1|| / h (the equation is a differentiation); ||A^-1||_inf is 1, 7, 18.1 and
    34.2 for radau1-4 (2 for the midpoint method, whose mesh values are the two midpoint
    values' linear inter- or extrapolant), of which _ROUNDING = 1/4 was measured (radau3 and
    radau4 on e^(t - s) y = sin t on 256 to 8192 steps: errors of 139 to 1500 eps N max |y|
    for radau4, 0.35 to 0.75 times this floor; radau3 0.4 to 1.0 times it); y(t0) from the
    first step's polynomial takes the Lagrange weights' sum |l_j(0)| times y(t1)'s.  The
    Richardson differences at that level divide the noise by 2^p - 1 (15 for radau4): radau4
    on y = 1e5 (cos t - sin t), 256 steps, had estimates 11 times below the largest error.
    Where K(t, s) does not depend on t (the same numbers on the mesh), the history's rounding
    errors are shared from step to step and only their difference reaches a step's values:
    2 (|t| + t - t0) replaces |t| + sqrt(n) (t - t0) (K = 1 + 1e-9 (t - s) already has the
    random walk: errors 10 times those of K = 1)."""

    def __init__(self, kernel, meth, t0, shared=True):
        # (shared=False: the random walk for every K, as the solves to a tolerance stop by it)
        self.kernel, self.t0, self.shared = kernel, t0, shared
        if meth.family == "collocation":
            A = np.asarray(meth._data[1])
            self.amplification = float(np.abs(np.linalg.inv(A)).sum(axis=1).max())
            self.start = float(np.abs(meth._at_zero).sum())
        else:
            self.amplification, self.start = 2.0, 1.0

    def _inverse_norms(self, t):
        """||K(t_n, t_n)^-1||_inf on the points ``t``, the largest ||K||_inf sampled, and
        whether K(t, s) is the same number for every t sampled: K(t_n, t0) = K(t0, t0) and
        K(t_N, t_n) = K(t_n, t_n) on every point (exactly)."""
        d, n = self.kernel.dim, len(t)
        k = np.empty((3 * n, d, d))
        run_guarded(lambda: _compiled("samples")(
            self.kernel.function_address.address, self.kernel.params,
            np.concatenate([t, t, np.full(n, t[-1])]),
            np.concatenate([t, np.full(n, self.t0), t]), k), self.kernel.args)
        diag, first, last = k[:n], k[n:2 * n], k[2 * n:]
        kmax = float(np.abs(k).sum(axis=2).max())
        inv = np.abs(np.linalg.inv(diag)).sum(axis=2).max(axis=1)
        constant = bool(np.all(first == diag[0]) and np.all(last == diag))
        return inv, kmax, constant

    def __call__(self, t, Y):
        n = len(Y)
        if n < 2:
            return np.zeros_like(Y)
        t = np.asarray(t[:n], dtype=float)
        inv, kmax, constant = self._inverse_norms(t)
        constant = constant and self.shared
        h = np.diff(t)
        size = np.maximum.accumulate(np.abs(Y).max(axis=1))
        # (K independent of t: step n + 1's history sums step n's terms in the same order plus
        # its own, so its rounding error is step n's plus a few, and step n + 1's values carry
        # the difference of the two (step n's values made the history meet g(t_{n+1})): no
        # sqrt(n), but 2 (|t| + t - t0), measured: the largest error 0.3 to 0.6 times the
        # floor for radau4 on K = 1, 2 + cos s, 1024 to 4096 steps; K = 1, y = e^t on [0, 2],
        # 768 steps had estimates 72 times the error with sqrt(n))
        reach = (2.0 * (np.abs(t) + (t - self.t0)) if constant
                 else np.abs(t) + (t - self.t0) * np.sqrt(np.arange(n)))
        floor = np.empty(n)
        floor[1:] = (_EPS * _ROUNDING * self.amplification * inv[1:] * reach[1:] * kmax
                     * size[1:]) / h
        floor[0] = self.start * floor[1]
        return np.broadcast_to(floor[:, None], Y.shape).copy()


def with_rounding_floor(sol, floor):
    """``sol`` with its estimates (NaN left as it is) raised in place to ``floor(t, Y)``
    (:class:`_RoundingFloor`), ``stats["max_error_estimate"]`` too, and
    ``stats["rounding_floor"]``, the largest floor, where it raised one."""
    est, Y = sol._est2, sol._y2
    if len(Y) < 2 or est is None or len(est) != len(Y):
        return sol
    low = floor(sol.mesh, Y)
    if not np.any(est < low):
        return sol
    np.fmax(est, low, out=est, where=~np.isnan(est))
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.stats["rounding_floor"] = float(low.max())
    return sol


def _check_diagonal(kernel, t):
    """K(t, t) must be nonsingular on the mesh (relative to the kernel's size there)."""
    d = kernel.dim
    both = np.empty((2 * len(t), d, d))
    run_guarded(lambda: _compiled("samples")(kernel.function_address.address, kernel.params,
                                             np.concatenate([t, t]),
                                             np.concatenate([t, np.full(len(t), t[0])]), both),
                kernel.args)
    diag = both[:len(t)]
    if not np.all(np.isfinite(both)):
        n = int(np.nonzero(~np.isfinite(both).reshape(2 * len(t), -1).all(axis=1))[0][0])
        raise ValueError(f"K(t, s) is not finite at t = {t[n % len(t)]:.6g}, "
                         f"s = {(t[n] if n < len(t) else t[0]):.6g}")
    scale = float(np.abs(both).max())
    smallest = (np.abs(diag[:, 0, 0]) if d == 1 else np.linalg.svd(diag, compute_uv=False).min(axis=1))
    bad = np.nonzero(~np.isfinite(smallest) | (smallest <= 1e-8 * scale))[0]
    if bad.size:
        tn, smallest = t[bad[0]], smallest[bad[0]]
        raise ValueError(f"K(t, t) must be nonsingular for a first-kind equation; at t = {tn:.6g} "
                         f"its smallest singular value is {smallest:.3g} (kernel size {scale:.3g}). "
                         f"With K(t, t) = 0 the equation must be differentiated first.")


#: :func:`_kink_splits`: the degree of the polynomial fitted to g on a step and its parts, the
#: factor by which its miss on the whole step must exceed the larger of its misses on the two
#: parts (a smooth g: 2^(degree + 1) = 32; a kink of g or of g' at the point between them: it
#: grows like h^-3 or h^-4), and the misses below this many eps times |g| that are rounding.
SPLIT_DEGREE = 4
SPLIT_RATIO = 2048.0
SPLIT_NOISE = 16.0
#: ... the shortest share of a part next to the point checked (:func:`_smooth_up_to`), times
#: max(|t|, 1).
SPLIT_SHORTEST = 2.0 ** -40


class SplitValues(np.ndarray):
    """The mesh values of a companion solve (:class:`_KinkSplitRun`) with ``split``, a bool
    array over its points: True where the step ending there was solved in two parts (g is
    smooth on each but not on the whole step), so that its difference from the solution
    there is about 0 and no estimate (:func:`._estimate.split_companion_points`); and
    ``reach``, the points inserted and how near each a kink of g' could hide unseen
    (:func:`._estimate.split_point_floor`)."""

    def __array_finalize__(self, obj):
        self.split = getattr(obj, "split", None)
        self.reach = getattr(obj, "reach", None)


def _misses(g_vec, a, b):
    """(len(a), d): the largest miss of the polynomial of degree SPLIT_DEGREE through g at
    equally spaced points of [a, b] at the points PROBE_POINTS, and the noise there
    (SPLIT_NOISE eps times the largest |g| sampled)."""
    q = SPLIT_DEGREE
    u = np.arange(q + 1) / float(q)
    n = len(a)
    h = b - a
    nodes = g_vec((a[:, None] + u[None, :] * h[:, None]).reshape(-1)).reshape(n, q + 1, -1)
    x = np.array(PROBE_POINTS)
    probes = g_vec((a[:, None] + x[None, :] * h[:, None]).reshape(-1)).reshape(n, len(x), -1)
    basis = lagrange_values(u, x)                                   # (P, q + 1)
    model = np.einsum("pj,njd->npd", basis, nodes)
    miss = np.abs(probes - model).max(axis=1)
    size = np.maximum(np.abs(nodes).max(axis=1), np.abs(probes).max(axis=1))
    return miss, SPLIT_NOISE * _EPS * size


def _kink_splits(g_vec, coarse, fine):
    """The points of the mesh ``fine`` to insert into the mesh ``coarse`` (whose points are
    among ``fine``'s): in each step of ``coarse`` over more than one step of ``fine``, the point
    of ``fine`` inside it at which g is smooth on both sides but not on the whole step (a kink
    of g or of g' there: a jump or a kink of y at a point of the solution's mesh), if any.

    Such a step is solved with an error of O(h) (a kink of y) or O(1) (a jump) at its end,
    while the solution, whose steps end there, can be exact: its companions (the half-steps
    one, the odd points' one, every fourth point's) merge its steps across the point, and
    their differences made the estimate (radau3, K = 1, y = |t - 1/2| on 96 steps: 9.6e-3 at
    t = 0.5104 for an error of 3e-14; to rtol = atol = 1e-3 a failure after 5248 steps and 164
    s).  The test: the polynomial of degree SPLIT_DEGREE through g on the step misses g by more
    than SPLIT_RATIO times it does on either part, and g is smooth up to the point from both
    sides (:func:`_smooth_up_to`).  Returns the points and, for each, the distance e within
    which a kink of g' could hide unseen.  O(N) values of g, no kernel evaluation."""
    inside = np.searchsorted(fine, coarse)
    wide = np.nonzero(np.diff(inside) > 1)[0]
    if wide.size == 0:
        return np.empty(0), np.empty(0)
    a, b = coarse[wide], coarse[wide + 1]
    whole, noise = _misses(g_vec, a, b)
    suspect = np.any(whole > noise, axis=1)
    wide, a, b, whole = wide[suspect], a[suspect], b[suspect], whole[suspect]
    if wide.size == 0:
        return np.empty(0), np.empty(0)
    # every point of ``fine`` inside those steps, with its step
    step = np.concatenate([np.full(inside[k + 1] - inside[k] - 1, i)
                           for i, k in enumerate(wide)])
    points = np.concatenate([fine[inside[k] + 1:inside[k + 1]] for k in wide])
    left, noise_l = _misses(g_vec, a[step], points)
    right, noise_r = _misses(g_vec, points, b[step])
    parts = np.maximum(np.maximum(left, right), np.maximum(noise_l, noise_r))
    over = np.all(whole[step] > SPLIT_RATIO * parts, axis=1)
    out = []
    for i in np.unique(step[over]):
        mine = np.nonzero((step == i) & over)[0]
        out.append(mine[np.argmin(parts[mine].max(axis=1))])
    if not out:
        return np.empty(0), np.empty(0)
    out = np.array(out)
    at = points[out]
    clean = _smooth_up_to(g_vec, a[step[out]], at, left[out]) & \
        _smooth_up_to(g_vec, b[step[out]], at, right[out])
    at, lo, hi = at[clean], a[step[out]][clean], b[step[out]][clean]
    # (a kink of g' hidden within e of the point misses about |g'' jump| e^2 / 2 on every
    # share: unseen where that is below 4 times the noise, e <= sqrt(32 noise / |g'' jump|))
    reach = np.zeros(len(at))
    for k in range(len(at)):
        jump, noise = _second_derivative_jump(g_vec, lo[k], at[k], hi[k])
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.sqrt(32.0 * noise / jump)
        # (at most the shorter part: the shares checked reach any kink farther off)
        reach[k] = min(float(np.max(np.where(jump > 0.0, e, 0.0))), at[k] - lo[k], hi[k] - at[k])
    return at, reach


def _second_derivative_jump(g_vec, a, p, b):
    """(|g''(p+) - g''(p-)| (d,), the noise of :func:`_misses` at p) from the polynomials of
    degree SPLIT_DEGREE through g at equally spaced points of [a, p] and [p, b]."""
    q = SPLIT_DEGREE
    u = np.arange(q + 1) / float(q)
    left = g_vec(a + u * (p - a)).reshape(q + 1, -1)
    right = g_vec(p + u * (b - p)).reshape(q + 1, -1)
    second = []
    for values, length, end in ((left, p - a, 1.0), (right, b - p, 0.0)):
        c = np.polyfit(u, values, q)                         # (q + 1, d), highest first
        second.append(np.array([np.polyval(np.polyder(c[:, j], 2), end)
                                for j in range(c.shape[1])]) / length ** 2)
    size = max(float(np.abs(left).max()), float(np.abs(right).max()))
    return np.abs(second[1] - second[0]), SPLIT_NOISE * _EPS * size


def _smooth_up_to(g_vec, far, at, miss):
    """Whether g is smooth up to the points ``at`` from the side of ``far`` (``miss``: the
    misses on the parts between them, see :func:`_misses`): the misses on the parts' shares
    2^-j next to ``at`` fall by at least 4 a halving (2^(SPLIT_DEGREE + 1) = 32 for smooth
    g) or are below 4 times the noise, down to shares of SPLIT_SHORTEST |t|.

    A kink of g at a distance e from ``at`` inside the part misses alike on every share
    longer than e (about the jump of g' times e), and a solution whose step ends at ``at``
    takes its value there from the wrong side of a jump of y, where the split companion
    repeats that step and its difference is 0 (a jump 1e-6 before 1/2, K = 1, radau2 on 100
    steps, was a success with an error of 2 for an estimate of 1.3e-3)."""
    ok = np.ones(len(at), dtype=bool)
    length = at - far
    last = miss
    for j in range(1, 64):
        share = length * 2.0 ** -j
        if np.all(np.abs(share) < SPLIT_SHORTEST * np.maximum(np.abs(at), 1.0)):
            break
        lo, hi = np.minimum(at - share, at), np.maximum(at - share, at)
        now, noise = _misses(g_vec, lo, hi)
        ok &= ~np.any((now > 4.0 * noise) & (now > 0.25 * last), axis=1)
        last = now
    return ok


class _KinkSplitRun:
    """``run(mesh) -> Run`` of a first-kind collocation solve whose companions split their
    steps at a kink of the data at a point of the solution's mesh (:func:`_kink_splits`).

    A mesh is a companion when its points are among those of the last other mesh solved (the
    solution's, or a finer level's) and fewer: it is solved with the points that
    :func:`_kink_splits` names inserted, and returns their values left out, as
    :class:`SplitValues` that mark the points whose step was split (the estimate takes their
    neighbours' there), ``stages`` None.  Other meshes are solved as given."""

    def __init__(self, run, g_vec):
        self.run, self.g_vec, self.main = run, g_vec, None

    def __call__(self, mesh):
        main = self.main
        if main is None or len(mesh) >= len(main) or mesh[0] != main[0] or \
                mesh[-1] != main[-1] or not np.all(np.isin(mesh, main)):
            self.main = np.array(mesh, dtype=float)
            return self.run(mesh)
        try:
            extra, reach = _kink_splits(self.g_vec, mesh, main)
        except Exception as exc:   # noqa: BLE001 (g raised at a point the solve never took:
            if not _user.raised_by_user(exc):     # the companion as it is)
                raise
            extra = np.empty(0)
        if extra.size == 0:
            return self.run(mesh)
        full = np.union1d(mesh, extra)
        r = self.run(full)
        at = np.searchsorted(full, mesh)
        Y = np.asarray(r.Y)[at].view(SplitValues)
        split = np.zeros(len(mesh), dtype=bool)
        split[np.searchsorted(mesh, extra)] = True      # (the point ending the step split)
        Y.split = split
        Y.reach = (extra, reach)

        def mapped(k):                   # (values before full's k -> before mesh's)
            return int(np.searchsorted(at, k, side="left"))
        return Run(Y, r.status, mapped(r.index), mapped(r.keep), r.counts, None, r.record)


#: :func:`_unresolved_g`: the points u h of each step [t_n, t_n + h] where g' is probed (not
#: the mesh's, the stages' or any dyadic fraction's), the step of the central differences of g
#: there (a share of h), and the relative rounding of those differences that is no signal.
PROBE_POINTS = (math.sqrt(5.0) - 2.0, math.sqrt(2.0) - 1.0, (math.sqrt(5.0) - 1.0) / 2.0)
PROBE_DELTA = 2.0 ** -10
PROBE_ROUNDING = 64.0 * _EPS


def _derivative_weights(order, points):
    """(len(points), order + 2): the weights of the values at u = j / (order + 1), j = 0 ..
    order + 1, that give the derivative at u = ``points`` of the polynomial through them."""
    nodes = np.arange(order + 2) / (order + 1.0)
    out = np.empty((len(points), len(nodes)))
    for i, x in enumerate(points):
        for j, xj in enumerate(nodes):
            others = np.delete(nodes, j)
            denom = np.prod(xj - others)
            out[i, j] = sum(np.prod(x - np.delete(others, k)) for k in range(len(others))) / denom
    return out


def _unresolved_g(kernel, g_vec, order, t, claims):
    """(defects, kernel evaluations): the steps of the mesh ``t`` where g' differs from the
    derivative of the polynomial of degree ``order`` + 1 through g on the step's equally spaced
    points by more than ``claims`` ((N, d), at the step's end) after the division by K(t, t)
    (the size of y's error that the mismatch makes: y = K(t, t)^-1 (g' - int K_t y)), each
    with that bound.  g' is taken by central differences (PROBE_DELTA h) at the points
    PROBE_POINTS of every step.

    A first-kind value is g' (over K(t, t)) as the step's points sample g.  Data that oscillate
    at the mesh's period (g, or K, which g integrates) are taken at one phase by the mesh, the
    stages and every nested mesh of the estimate alike, and the solve differentiates another
    g: K = 1, y = 1 + cos(w t), w = 2 pi 48, on 8 to 64 steps of [0, 1] (midpoint, radau1,
    radau2) answered y = 1, an error of 1 with estimates of 1e-15 to 5e-13; K = 2 + cos(w s),
    y = 1, w = 2 pi 256, an error of 0.33 for 1e-15.  Between the mesh points g' shows it.
    Three points, as a point can fall where the oscillation of g' crosses 0 (w = 2 pi 256, 8
    steps: at 0.414 h and 0.618 h, cos(w t) is 0 and 0.17).  Data whose period is below a few
    PROBE_DELTA h are not seen (their differences average them out).  (3 + order) + 6 values of
    g a step, and 2 kernel evaluations (d of them
    for y of d components)."""
    n = len(t) - 1
    h = np.diff(t)
    q = order
    u = np.arange(q + 2) / (q + 1.0)
    on = g_vec((t[:-1, None] + u[None, :] * h[:, None]).reshape(-1)).reshape(n, q + 2, -1)
    d = on.shape[2]
    weights = _derivative_weights(q, PROBE_POINTS)          # (P, q + 2)
    worst = np.zeros((n, d))
    for i, x in enumerate(PROBE_POINTS):
        where = t[:-1] + x * h
        delta = PROBE_DELTA * h
        both = g_vec(np.concatenate([where + delta, where - delta])).reshape(2, n, d)
        slope = (both[0] - both[1]) / (2.0 * delta[:, None])
        model = np.einsum("j,njd->nd", weights[i], on) / h[:, None]
        noise = PROBE_ROUNDING * np.max(np.abs(both), axis=0) / delta[:, None]
        worst = np.maximum(worst, np.maximum(np.abs(slope - model) - noise, 0.0))
    # (K(t, t) at the steps' middles: y's error is K(t, t)^-1 times g''s)
    middle = t[:-1] + 0.5 * h
    diag = np.empty((n, d, d))
    run_guarded(lambda: _compiled("samples")(kernel.function_address.address, kernel.params,
                                             np.ascontiguousarray(middle),
                                             np.ascontiguousarray(middle), diag), kernel.args)
    if d == 1:
        bound = worst / np.abs(diag[:, 0, :])
    else:
        inverse = np.linalg.norm(np.linalg.inv(diag), ord=np.inf, axis=(1, 2))
        bound = worst * inverse[:, None]
    bound = np.where(np.isfinite(bound), bound, 0.0)
    over = np.nonzero(np.any(bound > claims, axis=1))[0]
    return [(int(j), bound[j]) for j in over], n * d


def _with_unresolved_g(sol, kernel, g_vec, order):
    """``sol``, a successful first-kind solve on a given mesh, with its estimates raised from
    each step on to the bound of :func:`_unresolved_g` where it exceeds the component's
    largest estimate (as :func:`._vide._with_rough_data` does over ROUGH_FIXED times it: the
    bound is one order above the method's for smooth g, and it bounds the dense output's
    errors between the mesh points too, which such g make larger than the mesh values':
    K = 2 + cos(w s), w = 2 pi 256, radau3 on 64 steps, 0.99 between them for 0.34 at them,
    with an estimate of 0.033)."""
    est, Y, t = sol._est2, sol._y2, sol.mesh
    if not sol.success or len(t) < 2 or not np.all(np.isfinite(est)):
        return sol
    size = np.max(np.abs(Y), axis=0)
    claims = np.broadcast_to(np.maximum(np.max(est, axis=0), ESTIMATE_FLOOR * size),
                             est[1:].shape)
    try:
        defects, evaluations = _unresolved_g(kernel, g_vec, order, t, claims)
    except Exception as exc:   # noqa: BLE001 (g or K raised at a point the solve never took:
        if not _user.raised_by_user(exc):                 # left unchecked, and said so)
            raise
        # (silent, g defined on a table of times was a success 1.0 off with an estimate of
        # 3.6e-15: the check that sees it could not run)
        sol.message += _not_checked("The data were not checked between the mesh points", exc)
        return sol
    sol.stats["nfev"] += evaluations
    if not defects:
        return sol
    _raise_to_defects(est, defects)               # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.stats["step_defects"] = len(defects)
    j, bound = defects[0]
    sol.message += (f"  g' between the mesh points differs from what the points of the step "
                    f"from t = {float(t[j]):.6g} sample (the data oscillate or change at a "
                    f"scale the steps do not resolve, which every coarser mesh of the estimate "
                    f"samples alike): the estimates from there on were raised to a bound of "
                    f"the error it makes ({float(np.max(bound)):.3g}).")
    return sol


#: :func:`_with_start_order`: the order observed at the first points below the method's by
#: more than this raises their estimates (a smooth y converges there at the method's order).
START_ORDER_GAP = 0.25
#: ... where the differences exceed this many eps times the largest |y| (rounding shows no
#: order).
START_NOISE = 1024.0
#: A solve to a tolerance so raised starts over on more steps at most this many times
#: (:func:`._tolerance.refined_to_tolerance`, whose prediction takes at least the order 1: at
#: the order 1/2 of y = sqrt(t) at t0 each start over lowers the ratio by its square root).
START_TRIES = 6


def _with_start_order(sol, run, order):
    """``sol`` with the estimates of its first two points (t0 and t1) raised to their error at
    the order observed there: the solves of the first two steps [t0, t2] on 2, 4 and 8 steps
    (``run``) give three values at each, whose differences fall like 2^-q; where q is below
    ``order`` by more than START_ORDER_GAP, the answer's error there is about the first
    difference over 1 - 2^-q.

    The estimate (Richardson, the companion of half the points) takes the method's order p
    everywhere, but y(t0) comes from the first step, which sees y's behaviour at t0: y = sqrt(t)
    (K = 1) converges there like h^(1/2), and the estimate at t0 was (2^p - 1) / (sqrt(2) - 1)
    times below the error (7.2 for radau2 and the midpoint rule, 17 for radau3, 36 for radau4:
    radau3 at rtol = atol = 1e-2 was a success on 8 steps with an error of 0.054 at t0, 5.4
    times the tolerance).  The three solves cost 14 steps' work; a failure's kept values are
    raised alike (a first point's values only: ``sol`` keeps at least two)."""
    t, est, Y = sol.mesh, sol._est2, sol._y2
    if len(t) < 3 or est is None or not np.all(np.isfinite(Y[:3])):
        return sol
    levels, spent = [], 0
    for m in (2, 4, 8):
        try:
            r = run(np.linspace(t[0], t[2], m + 1))
        except Exception as exc:   # noqa: BLE001 (g or K raised at a point the solve never
            if not _user.raised_by_user(exc):          # took: left unchecked, and said so)
                raise
            sol.stats["nfev"] = sol.stats.get("nfev", 0) + spent
            sol.message += _not_checked("The estimates of the first points were not checked "
                                        "at the order there", exc)
            return sol
        spent += int(r.counts[NFEV])
        at = np.asarray(r.Y, dtype=float).reshape(m + 1, -1)[[0, m // 2]] \
            if r.status == SUCCESS else None
        if at is None or not np.all(np.isfinite(at)):
            sol.stats["nfev"] = sol.stats.get("nfev", 0) + spent
            return sol
        levels.append(at)
    sol.stats["nfev"] = sol.stats.get("nfev", 0) + spent
    first, second = np.abs(levels[0] - levels[1]), np.abs(levels[1] - levels[2])
    # (the solve of [t0, t2] is the answer's there: a first-kind value is made by its steps)
    same = np.abs(levels[0] - Y[:2]) <= 1e-12 * np.maximum(np.abs(Y[:2]), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.log2(first / second)
        raise_to = first / (1.0 - 2.0 ** -q)
    # (differences at the rounding level show no order: y = 1, K = 2 + t - s, g = 2t + t^2/2)
    noise = START_NOISE * _EPS * np.max(np.abs(Y), axis=0)
    low = same & (first > second) & (second > noise) & (q < order - START_ORDER_GAP) & \
        (raise_to > est[:2])
    if not np.any(low):
        return sol
    est[:2] = np.where(low, raise_to, est[:2])
    sol.stats["max_error_estimate"] = largest_estimate(est)
    k, j = np.unravel_index(int(np.argmin(np.where(low, q, np.inf))), low.shape)
    sol.message += (f"  The estimates of the first points were raised to their error at the "
                    f"order that solves of the first two steps on 2, 4 and 8 steps show there "
                    f"({float(q[k, j]):.2g} at t = {float(t[k]):.6g}, the method's is "
                    f"{order:g}: y is not smooth at t0, such as sqrt(t - t0)), up to "
                    f"{float(np.max(raise_to[low])):.3g}.")
    return sol


def solve_first_kind(K, g, t_span=None, n_steps=None, method="radau2", *, args=None, mesh=None,
                     rtol=None, atol=None, t_eval=None, error_estimate=True, jacobian=None,
                     newton_tol=None, newton_maxiter=None, fast_history=None,
                     raise_on_failure=False):
    r"""Solve the Volterra integral equation of the first kind.

    .. math:: g(t) = \int_{t_0}^{t} K(t, s)\, y(s)\, ds, \qquad t_0 \le t \le T,

    with K(t, t) nonsingular and g(t_0) = 0.  Also reached as
    ``solve_volterra(K, g, t_span, n_steps, method, kind=1)``.

    Parameters
    ----------
    K : callable or Kernel
        ``K(t, s, *args)``, the kernel's coefficient: a float for scalar y, a (d, d)
        array (or a float, meaning times the identity) for y of shape (d,).  A
        three-argument ``K(t, s, y, *args)`` is accepted too if it is linear in y (checked
        on probes).  Compiled with Numba (see :func:`solve_volterra`).
    g : callable
        ``g(t, *args)``: a float, or an array of shape (d,) (this fixes the shape of y);
        g(t_0) must be 0.
    t_span : (float, float)
        The interval (t0, T), t0 < T.
    n_steps : int
        Number of uniform steps N.
    method : str
        A name in :data:`FIRST_KIND_METHODS`: "radau1" ... "radau4" (order m),
        "implicit-rectangle" (= "radau1") or "midpoint" (order 2).  Second-kind
        methods that diverge or are only weakly stable for the first kind
        (:data:`REFUSED_METHODS`: trapezoid, Gregory, Gauss collocation, explicit
        methods) raise ValueError with the reason.
    args : tuple, optional
        Extra arguments of K and g, passed at run time (a sweep compiles once).
    mesh : array_like, optional
        A strictly increasing mesh instead of ``t_span``/``n_steps``.
    rtol, atol : float or array_like (d,), optional
        Solve to a tolerance instead of on ``n_steps`` (uniform refinement with Richardson
        estimates).  The conditioning allows it down to about 1e-10 for smooth data: the
        first kind amplifies rounding errors in g by about 1/h.  Give ``atol`` for a y that
        crosses zero: with rtol alone, atol = 1e-9 holds there (rtol 1e-4 on y = cos t - sin t:
        6396 steps, 1.6e8 kernel evaluations, where atol = 1e-4 takes 68 steps).
    t_eval : array_like, optional
        Times within ``t_span`` at which to return the solution (``sol.t``, ``sol.y``; see
        :func:`solve_volterra`).
    error_estimate : bool
        Estimate the error with a companion solve and check that the solution has correct
        digits (see :func:`solve_volterra`).  First-kind equations are ill-posed: errors
        in g are amplified by about 1/h, so the estimate covers the discretisation error only.
        On a given mesh the solutions on N, N/2 and N/4 steps must converge (as for the second
        kind), and a companion on the points 0, 1, 3, 5, ... estimates every odd point (a
        first-kind value is made by its own step: see ``docs/guide/accuracy.rst``); these
        cost 1.2 times the kernel evaluations of the estimate without them from 32 steps on,
        1.3-1.4 times on 8 to 21 steps.
    jacobian, newton_tol, newton_maxiter : optional
        Accepted for a uniform call signature with :func:`solve_volterra`; the
        equation is linear, so there is no Newton iteration and they have no effect.
    fast_history : bool or None
        Must not be True (there is no FFT history for the first kind).
    raise_on_failure : bool
        Raise :class:`SolverError` instead of returning a failed solution.

    Returns
    -------
    Solution
        ``t``, ``y`` ((N+1,) or (N+1, d)), ``error_estimate``, dense output ``sol(t)``,
        ``status`` (0 success, -1 failure), ``success``, ``message`` and ``stats``
        (``nfev``: kernel evaluations, ``linear_solves``).
        y(t_0) comes from the first interval's collocation polynomial (Radau) or
        by linear extrapolation (midpoint).  ``sol(t)`` is the collocation polynomial of
        the step containing t (radau2-4; its stage values are ``sol.stages``), or interpolates
        the mesh values (midpoint, radau1).

    Raises
    ------
    ValueError
        For a refused or unknown method, g(t_0) != 0, K(t, t) singular on the mesh,
        a K that is not linear in y, or invalid t_span / n_steps / mesh.

    Examples
    --------
    int_0^t e^{t - s} y(s) ds = sin t has the solution y = cos t - sin t:

    >>> import numpy as np
    >>> from integrallimits.volterra._first_kind import solve_first_kind
    >>> sol = solve_first_kind(lambda t, s: np.exp(t - s), np.sin, (0.0, 1.0), 64, "radau3")
    >>> sol.success, bool(np.max(np.abs(sol.y - (np.cos(sol.t) - np.sin(sol.t)))) < 1e-6)
    (True, True)
    >>> solve_first_kind(lambda t, s: np.exp(t - s), np.sin, (0.0, 1.0), 64, "trapezoid")
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: method 'trapezoid' is refused for first-kind equations: the trapezoid rule ...
    """
    # -- the method
    check_flags(error_estimate=error_estimate, fast_history=fast_history,
                raise_on_failure=raise_on_failure)
    if method is None:
        method = "radau2"
    if isinstance(method, str) and method in REFUSED_METHODS:
        raise ValueError(f"method {method!r} is refused for first-kind equations: "
                         f"{REFUSED_METHODS[method]}")
    meth = resolve_method(method, FIRST_KIND_METHODS, FirstKindMethod, " for a first-kind equation")
    if fast_history:
        raise ValueError("fast_history=True: there is no fast (FFT) history for first-kind equations")

    # -- the mesh
    tolerance = check_tolerances(rtol, atol, n_steps, mesh, "solve_first_kind")
    t, t0, T, n = check_mesh(t_span, n_steps if tolerance is None else 8, mesh,
                             "solve_first_kind")   # (a uniform t is made once the work fits)
    check_t_eval(t_eval, (t0, T))
    if n < meth.min_steps:
        raise ValueError(f"method {meth.name!r} needs n_steps >= {meth.min_steps}, got {n}")

    # -- the forcing and the kernel
    g_vec, y0 = as_forcing(g, t0, args)
    tolerance = fit_tolerances(tolerance, y0, "solve_first_kind")
    if is_weakly_singular(K):
        raise ValueError("solve_first_kind does not support weakly singular kernels "
                         "(weakly_singular(...)); Abel equations of the first kind are not solved here")
    kernel = _linear_kernel(K, y0, t0, args)
    stages = getattr(meth.tableau, "stages", 1)
    check_size(n, kernel.dim, stages, True, "solve_first_kind")
    if t is None:
        t = uniform_mesh(t0, T, n)
    G = g_vec(t)
    gscale = max(1.0, float(np.abs(G).max()))
    if np.abs(G[0]).max() > 1e-12 * gscale:
        raise ValueError(f"g(t0) must be 0 for a first-kind equation (the integral vanishes at "
                         f"t0 = {t[0]}), got g(t0) = {G[0].tolist() if G.shape[1] > 1 else G[0, 0]}")
    _check_diagonal(kernel, t)
    collocation = meth.family == "collocation"

    def run(mesh):
        work = estimated_work(len(mesh) - 1, stages, kernel.dim, True)
        (Y, status, index, counts, Z), record = run_guarded(
            lambda: meth.solve(kernel, g_vec, mesh), tuple(args or ()), work)
        if status == SUCCESS:
            keep = len(mesh)
        else:
            # the mesh values before the failing step are good: for collocation y(t_0)..y(t_{n})
            # (y(t_0) needs the first interval), for the midpoint method one fewer (interpolation)
            keep = index if collocation else index - 1
            keep = keep if keep >= 2 else 0
        return Run(Y, status, index, keep, counts, Z, record)

    if collocation:
        run = _KinkSplitRun(run, g_vec)

    def stats(counts):
        return {"nfev": int(counts[NFEV]), "njev": 0, "newton_iterations": 0, "newton_solves": 0,
                "linear_solves": int(counts[NSOLVE]), "jacobian": "not needed", "compiled": True,
                "fast_history": False}

    # the estimates compare coarser meshes, which all miss a time scale shorter than the steps
    # alike: where the probe suspects the first step, it is solved again on a finer mesh
    suspect = _short_time_scale(kernel)
    floor = _RoundingFloor(kernel, meth, t0)
    probe_order = int(math.ceil(meth.order)) + 1   # (g's polynomial: one degree over y's)
    if tolerance is None:
        sol = solve_on_mesh(run, t, method=meth, scalar=kernel.scalar, stats=stats,
                            error_estimate=error_estimate, messages=_MESSAGES,
                            computed_start=True, uniform=mesh is None,
                            work=estimated_work(len(t) - 1, stages, kernel.dim, True))
        if error_estimate:
            sol = with_checked_estimate(sol, run, uniform_only=False, min_steps=meth.min_steps,
                                        suspect=suspect, computed_start=True)
            # (a small mesh whose levels converge slower than the order p: the bisected solve)
            sol = with_settled_levels(sol, run, meth.order)
            sol = _with_start_order(sol, run, meth.order)
            sol = _with_unresolved_g(sol, kernel, g_vec, probe_order)
            sol = with_confirmed_digits(sol, computed_start=True)
        sol = with_rounding_floor(sol, floor)
    else:
        def to_tolerance(finer=None):
            """The solve to the tolerance; ``finer``: the N to start from after a check."""
            return solve_uniform_to_tolerance(run, t[0], t[-1], method=meth, scalar=kernel.scalar,
                                              stats=stats, rtol=tolerance[0], atol=tolerance[1],
                                              n_max=MAX_TOLERANCE_STEPS, n_start=finer or 8,
                                              computed_start=True, refuse_slow=True,
                                              rounding=_RoundingFloor(kernel, meth, t0, False),
                                              step_defect=lambda mesh, Y, claims: _unresolved_g(
                                                  kernel, g_vec, probe_order, mesh, claims))
        def started(n_least=None):
            """The solve to the tolerance from at least ``n_least`` steps, its first steps
            checked, the estimates of its first points at the order observed there."""
            solve = to_tolerance if n_least is None else (
                lambda finer=None: to_tolerance(max(finer or 8, n_least)))
            return _with_start_order(with_resolved_start(
                solve, run, tolerance[0], tolerance[1], uniform_only=False,
                min_steps=meth.min_steps, adaptive=False, n_max=MAX_TOLERANCE_STEPS,
                suspect=suspect, computed_start=True, check_failures=True), run, meth.order)
        sol = refined_to_tolerance(
            started, tolerance, meth.order, MAX_TOLERANCE_STEPS,
            "after the estimates of the first points were raised to their error at the order "
            "observed there (see below); use a larger atol or a looser tolerance.",
            tries=START_TRIES)
    if sol.stages is not None and len(sol.mesh) > 1 and meth.order > 1:
        sol.attach(dense=CollocationPolynomial(sol.mesh, sol._y2, sol.stages, meth._data[0]))
    sol.attach(t_eval=t_eval)
    # K(t, s) compiled against Python over the interval solved (once per kernel and interval)
    said = _user.check_over_span(kernel, sol.mesh, sol.y_mesh)
    if said:
        sol.message += f"  {said}"
    if raise_on_failure and not sol.success:
        raise SolverError(sol.message)
    return sol
