r"""Volterra integro-differential equations (VIDEs).

.. math::

    y'(t) = f\bigl(t, y(t), z(t)\bigr), \qquad z(t) = \int_{t_0}^{t} K(t, s, y(s))\, ds,
    \qquad y(t_0) = y_0 .

Volterra Runge–Kutta methods for VIDEs (Brunner 2004, ch. 3; Lubich 1982): one
Butcher tableau (c, A, b) discretises the differential part *and* the memory
term, consistently.  On [t_n, t_{n+1}] (length h) with stage times
t_ni = t_n + c_i h, stage values Y_ni, memory values Z_ni and stage derivatives F_ni:

.. math::

    Y_{ni} &= y_n + h \sum_j a_{ij} F_{nj}, \qquad F_{ni} = f(t_{ni}, Y_{ni}, Z_{ni}), \\
    Z_{ni} &= \sum_{l<n} h_l \sum_j b_j K(t_{ni}, t_{lj}, Y_{lj})
              + h \sum_j a_{ij} K(t_{ni}, t_{nj}, Y_{nj}), \\
    y_{n+1} &= y_n + h \sum_j b_j F_{nj}.

The history (the first sum) is the Pouzet quadrature of the earlier intervals
with the tableau's weights, as in
:class:`~integrallimits.volterra.VolterraRungeKutta`; the current interval uses
the stage integration a_ij, exactly as the RK method integrates y'.  Implicit
tableaux solve the m d stage unknowns of an interval together by Newton's method,
with the Jacobian

.. math:: \partial R_i / \partial Y_k = \delta_{ik} I - h a_{ik} f_y(k)
          - h^2 \sum_j a_{ij} a_{jk} f_z(j) K_y(t_{nj}, t_{nk}, Y_{nk})

(f_y, f_z and K_y exact if given, else forward differences).  With the
collocation tableaux this is the fully discretised collocation method in the
continuous piecewise polynomials of degree m; its mesh values are
superconvergent.  Declared orders at the mesh points (:data:`VIDE_METHODS`,
measured in ``tests/volterra/test_vide.py``): "gauss1" ... "gauss4": 2m;
"radau1" ... "radau4": 2m - 1; "rk4" (explicit): 4.  With K = 0 (``K=None``) the
methods are the Runge–Kutta methods of the ODE y' = f(t, y, 0).
"""
from __future__ import annotations

import math
import threading
import weakref

import numba
import numpy as np
from .._numba import njit

from .._numba import JIT_OPTIONS, types
from .._inputs import not_a_number, refuse_masked
from ..kernels import Kernel, as_kernel
from ..kernels import _user
from ..kernels._kernel import (_FAST, BLOCK_SIGNATURE, KERNEL_SIGNATURE, FunctionAddress,
                               _check_value, _compile, _njit_user, check_no_writes, check_unchanged,
                               function_at)
from ..kernels._linear import as_linear_kernel, positional_arity
from ..kernels._structured import is_weakly_singular
from . import _loops
from ._adaptive import (ALIAS_FACTOR, ALIAS_RUN, ALIAS_SPAN, INSIDE, OFF_GRID_SPAN, ROUGH_FIXED,
                        ROUGH_SPLIT, _cuts, _divided_change, _run_divided, defect_factor,
                        difference_weights, kernel_defects, resolved_ends)
from ._estimate import UNRESOLVED, Companion, _odd_points_check
from ._loops import NFEV, NIT, NJEV, NSOLVE, _jacobian_p, _stage_grid
from ._methods import tolerance_method
from ._mesh import (check_flags, check_mesh, check_newton_options, check_size, check_t_eval,
                    estimated_work, resolve_method, uniform_mesh)
from ._outcome import (Run, companion, run_guarded, solve_on_mesh, with_rounding_floor,
                       with_settled_levels)
from ._solution import SolverError, count_estimate_work, largest_estimate
from ._tolerance import (ESTIMATE_FLOOR, FIRST_STEPS, RESOLVE, STIFF, _entry_point,
                         _evaluator, _raise_to_defects, _shifted_rows, _unreliable_from,
                         check_tolerances, fit_tolerances, refined_to_tolerance,
                         rounded_to_tolerance, short_time_scale, solve_uniform_to_tolerance,
                         with_checked_estimate, with_confirmed_digits,
                         with_resolved_start)
from ._tableaux import ButcherTableau, classical_rk4, collocation_tableau

__all__ = ["VIDEMethod", "VIDE_METHODS", "solve_vide", "F_SIGNATURE", "F_JACOBIAN_SIGNATURE"]

FEV, FJEV = 4, 5   # counters beyond the engine's [nfev, njev, newton_iterations, newton_solves]
SUCCESS, NEWTON_FAILED, NOT_FINITE, INTERRUPTED = (_loops.SUCCESS, _loops.NEWTON_FAILED,
                                                  _loops.NOT_FINITE, _loops.INTERRUPTED)


#: ``f(t, y, z, theta, out)``: out[:] = f(t, y, z, *args) (theta: the packed args)
F_SIGNATURE = types.void(types.float64, types.float64[::1], types.float64[::1], types.float64[::1],
                         types.float64[::1])
#: ``f_jacobian(t, y, z, theta, Jy, Jz)``: Jy = df/dy, Jz = df/dz
F_JACOBIAN_SIGNATURE = types.void(types.float64, types.float64[::1], types.float64[::1],
                                  types.float64[::1], types.float64[:, ::1], types.float64[:, ::1])
_FD_STEP = 1.4901161193847656e-08
#: The phase error of an oscillation over the interval, W (h omega)^p, that has the first steps
#: checked (:func:`_coupled_scale`), and the one that the check's own steps allow over them.
DRIFT = 0.2


# -- compiling f ---------------------------------------------------------------------------------

_F_CACHE = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _caller(fj, scalar):
    """An inlined ``call(t, y, z, params)``: the user's f(t, y, z, *args) on floats (scalar y)
    or on the arrays."""
    if scalar:
        @numba.njit(inline="always", **_FAST)
        def call(t, y, z, params):
            return fj(t, y[0], z[0], *params)
    else:
        @numba.njit(inline="always", **_FAST)
        def call(t, y, z, params):
            return fj(t, y, z, *params)
    return call


def _wrap_f(fj, scalar, spec, gid):
    unpack = _user.unpacker(spec)
    report = _user.report

    call = _caller(fj, scalar)

    if scalar:
        @numba.njit(inline="always", **_FAST)
        def store(v, out):
            out[0] = v
            return 1
    else:
        @numba.njit(inline="always", **_FAST)
        def store(v, out):
            r = np.asarray(v)
            if r.size != out.shape[0]:
                return r.size
            for k in range(out.shape[0]):
                out[k] = r[k]
            return out.shape[0]

    @_user.wrapper(F_SIGNATURE)
    def function(t, y, z, theta, out):
        out[:] = np.nan                  # what an exception of f leaves behind
        try:
            size = store(call(t, y, z, unpack(theta, 0)), out)
        except Exception:
            report(gid, _user.RAISED, t, np.nan, np.concatenate((y, z)), -1)
            return
        if size != out.shape[0]:
            out[:] = np.nan
            report(gid, _user.BAD_SHAPE, t, np.nan, np.concatenate((y, z)), size)
        elif not np.all(np.isfinite(out)):
            report(gid, _user.NOT_FINITE, t, np.nan, np.concatenate((y, z)), -1)
    return function


def _wrap_f_jacobian(fj, scalar, spec, gid):
    """The compiled jacobian(t, y, z) -> (df/dy, df/dz) wrapper: NaN where the user's function
    raised or returned matrices of another shape (recorded with the point, as :func:`_wrap_f`
    does, so the solve raises the user's own exception or names the shape, not Newton)."""
    unpack = _user.unpacker(spec)
    report = _user.report

    call = _caller(fj, scalar)

    if scalar:
        @numba.njit(inline="always", **_FAST)
        def store(pair, Jy, Jz):
            a, b = pair
            Jy[0, 0] = a
            Jz[0, 0] = b
            return -1
    else:
        @numba.njit(inline="always", **_FAST)
        def store(pair, Jy, Jz):
            a, b = pair
            A = np.asarray(a)
            B = np.asarray(b)
            if A.size != Jy.size or A.shape[0] != Jy.shape[0]:
                return A.size
            if B.size != Jz.size or B.shape[0] != Jz.shape[0]:
                return B.size
            for p in range(Jy.shape[0]):
                for q in range(Jy.shape[1]):
                    Jy[p, q] = A[p, q]
                    Jz[p, q] = B[p, q]
            return -1

    @_user.wrapper(F_JACOBIAN_SIGNATURE)
    def jacobian(t, y, z, theta, Jy, Jz):
        Jy[:, :] = np.nan
        Jz[:, :] = np.nan
        try:
            size = store(call(t, y, z, unpack(theta, 0)), Jy, Jz)
        except Exception:
            report(gid, _user.RAISED, t, np.nan, np.concatenate((y, z)), -1)
            return
        if size != -1:      # (the size of the matrix of the wrong shape)
            Jy[:, :] = np.nan
            Jz[:, :] = np.nan
            report(gid, _user.BAD_SHAPE, t, np.nan, np.concatenate((y, z)), size)
    return jacobian


def _as_rhs(f, y0, t0, jacobian, spec=_user.NO_ARGS, args=()):
    """Compiled (function, jacobian or None, its check against Python over a solve's interval:
    :func:`._user.span_check` of :func:`_stage_points`) for the right-hand side f(t, y, z,
    *args), kept with the user's f (the check's memo of intervals with it)."""
    if not callable(f):
        raise TypeError(f"f must be callable f(t, y, z), got {type(f).__name__}")
    if jacobian is not None and not callable(jacobian):
        raise TypeError(f"jacobian must be callable jacobian(t, y, z) -> (df/dy, df/dz), got "
                        f"{type(jacobian).__name__}")
    _user.require_function(_user.py_function(f), "f(t, y, z)")
    _user.check_argument_names(f, ("t", "y", "z"), "f(t, y, z)", len(args))
    scalar = y0.ndim == 0
    d = 1 if scalar else y0.shape[0]
    arg = y0.item() if scalar else y0.copy()
    zero = 0.0 if scalar else np.zeros(d)
    py = _user.py_function(f)
    with _user.raised_at("f(t, y, z)", "t = {}, y = y0, z = 0", t0):
        value = py(float(t0), arg, zero, *args)
    if not scalar:
        check_unchanged(arg, y0, "f(t, y, z)", "y")
        check_unchanged(zero, np.zeros(d), "f(t, y, z)", "z")
    at = f"t = {t0}, y = y0, z = 0"     # (f and its Jacobian take no s)
    _check_value(value, () if scalar else (d,), "f(t, y, z)", t0, t0, at=at)
    if jacobian is not None:
        # (the user's own error, a TypeError too: raised, with where)
        with _user.raised_at("jacobian(t, y, z)", "t = {}, y = y0, z = 0", t0):
            pair = _user.py_function(jacobian)(float(t0), arg, zero, *args)
        try:
            fy, fz = pair
        except (TypeError, ValueError) as exc:
            size = f" of length {len(pair)}" if hasattr(pair, "__len__") else ""
            raise TypeError(f"jacobian(t, y, z) must return the pair (df/dy, df/dz), got "
                            f"{type(pair).__name__}{size}") from exc
        if not scalar:
            check_unchanged(arg, y0, "jacobian(t, y, z)", "y")
            check_unchanged(zero, np.zeros(d), "jacobian(t, y, z)", "z")
        for name, v in (("df/dy", fy), ("df/dz", fz)):
            _check_value(v, () if scalar else (d, d), f"jacobian(t, y, z) ({name})", t0, t0,
                         double=False, at=at)
    key = (scalar, d, spec, _user.value_key(py),
           None if jacobian is None else (id(jacobian), _user.value_key(jacobian)))
    cached = _F_CACHE.get(py, {}).get(key)
    if not scalar and not (cached is not None and cached[1] is jacobian):
        # (z = 0 above: a write such as y -= z changed nothing there)
        points = {"y": y0, "z": 1.0 + np.abs(y0)}
        check_no_writes(lambda y, z: py(float(t0), y, z, *args), "f(t, y, z)", points)
        if jacobian is not None:
            check_no_writes(lambda y, z: _user.py_function(jacobian)(float(t0), y, z, *args),
                            "jacobian(t, y, z)", points)
    with _LOCK:
        per_func = _F_CACHE.setdefault(py, {})
        cached = per_func.get(key)
        if cached is not None and cached[1] is jacobian:
            return cached[0]
        fj = _njit_user(f, "f(t, y, z)")
        gid = _user.new_guard(f, "f(t, y, z)", "tyz", scalar, () if scalar else (d,))
        function = _compile(lambda: _wrap_f(fj, scalar, spec, gid), "f(t, y, z)", f)
        jac = None
        if jacobian is not None:
            jj = _njit_user(jacobian, "jacobian")
            jgid = _user.new_guard(jacobian, "jacobian(t, y, z)", "tyz", scalar, (d, d))
            jac = _compile(lambda: _wrap_f_jacobian(jj, scalar, spec, jgid), "jacobian(t, y, z)",
                           jacobian)
        twin = _user.python_twin(fj.py_func)
        _same_as_python(function, twin, scalar, d, t0, y0, args)
        if jac is not None:   # the Jacobian too, then at the same points as f
            jtwin = _user.python_twin(jj.py_func)
            _same_as_python(jac, jtwin, scalar, d, t0, y0, args, jacobian=True)

        def compare(points, a):
            _same_as_python(function, twin, scalar, d, t0, y0, a, points)
            if jac is not None:
                _same_as_python(jac, jtwin, scalar, d, t0, y0, a, points, jacobian=True)
        span_check = _user.span_check(compare, _stage_points)
        per_func[key] = ((function, jac, span_check), jacobian)
        return function, jac, span_check


def _stage_points(mesh, y, stages, memories, c):
    """The points (t, y, z) at which a compiled f is compared with Python's after a solve
    (:func:`._user.span_check`; ``y`` the mesh values, (N + 1,) or (N + 1, d)): the stages
    (``stages``, with the memory there from ``memories``, by the mesh's bytes, zeros when not
    known; the method's nodes ``c``) nearest to the 9 fractions k / 8 of their number, where
    the solve called f; the mesh values, with z = 0, when there are no stages."""
    rows = 0 if stages is None else min(len(stages), (len(mesh) - 1) * len(c))
    if not rows:
        return [(float(tt), float(v) if np.ndim(v) == 0 else np.array(v, dtype=float),
                 0.0 if np.ndim(v) == 0 else np.zeros(np.shape(v)))
                for tt, v in zip(mesh[:: max(1, (len(mesh) - 1) // 8)],
                                 y[:: max(1, (len(mesh) - 1) // 8)])]
    m = len(c)
    scalar = np.ndim(y) == 1
    Z = memories.get(np.ascontiguousarray(mesh, dtype=float).tobytes())
    points = []
    for row in sorted({int(round(k * (rows - 1) / 8)) for k in range(9)}):
        n, i = divmod(row, m)
        tt = float(mesh[n] + c[i] * (mesh[n + 1] - mesh[n]))
        z = np.zeros(stages.shape[1]) if Z is None else Z[row]
        points.append((tt, float(stages[row, 0]) if scalar else stages[row].copy(),
                       float(z[0]) if scalar else np.array(z, dtype=float)))
    return points


def _same_as_python(function, py, scalar, d, t0, y0, args, points=None, jacobian=False):
    """Refuse a compiled f ``function`` (F_SIGNATURE) whose values at (t0, y0, 0) and
    (t0 + 1, 1 + |y0|, 1 + |y0|) (or at ``points``, (t, y, z) triples: after a solve,
    :func:`_stage_points`) differ from those of ``py``, the Python function it was
    compiled from with the values compiled in (:func:`.._user.refuse_if_compiled_differs`:
    Numba's 64-bit integers wrap around where Python's grow).  ``jacobian``: ``function`` is
    the user's Jacobian (F_JACOBIAN_SIGNATURE), compared as the pair (df/dy, df/dz)."""
    theta, values = _user.compiled_args(args)

    def python(t, y, z):
        if scalar:
            value = py(t, float(y), float(z), *values)
        else:
            value = py(t, np.array(y, dtype=float), np.array(z, dtype=float), *values)
        if not jacobian:
            return value
        fy, fz = value
        return fy, fz    # (each in its own precision: a float32 one is compared as such)

    def compiled(t, y, z):
        y = np.array(y, dtype=float).reshape(d)
        z = np.array(z, dtype=float).reshape(d)
        if jacobian:
            Jy, Jz = np.empty((d, d)), np.empty((d, d))
            function(float(t), y, z, theta, Jy, Jz)
            return np.array([Jy[0, 0], Jz[0, 0]]) if scalar else np.array([Jy, Jz])
        out = np.empty(d)
        function(float(t), y, z, theta, out)
        return out

    y0 = np.asarray(y0, dtype=float)
    far = 1.0 + np.abs(y0)
    if points is None:
        points = [(float(t0), float(y0) if scalar else y0.copy(),
                   0.0 if scalar else np.zeros(d)),
                  (float(t0) + 1.0, float(far) if scalar else far,
                   float(far) if scalar else far.copy())]
    what = "the Jacobian (df/dy, df/dz) of f(t, y, z)" if jacobian else "f(t, y, z)"
    _user.refuse_if_compiled_differs(what, points, python, compiled)


_PLACEHOLDERS = {}


def _placeholders():
    """Never-called stand-ins for missing Jacobians and for the kernel when K = 0."""
    if not _PLACEHOLDERS:
        @njit(F_JACOBIAN_SIGNATURE, cache=True)
        def no_f_jacobian(t, y, z, theta, Jy, Jz):
            Jy[:, :] = np.nan
            Jz[:, :] = np.nan

        @njit(KERNEL_SIGNATURE, cache=True)
        def zero_kernel(t, s, Y, j, theta, out):
            out[:] = 0.0

        @njit(BLOCK_SIGNATURE, cache=True)
        def zero_block(t, svals, Y, a, b, w, theta, out):
            out[:] = 0.0

        _PLACEHOLDERS.update(f_jac=no_f_jacobian, kernel=zero_kernel, block=zero_block)
    return _PLACEHOLDERS


# -- the compiled loop -----------------------------------------------------------------------------

# (inlined in Numba's IR: its one call site; compiled on its own it cost 0.25 s and a module)
@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _f_jacobian(f, fjac, have_fjac, t, y, z, theta, f0, Jy, Jz, yw, zw, work, stats, floor):
    """df/dy and df/dz at (t, y, z): exact if given, else forward differences (f0 = f(t, y, z))
    with steps sqrt(eps) max(|y_b|, floor) and sqrt(eps) max(|z_b|, floor), ``floor`` the
    size of the solution (:func:`._loops.fd_floor`: 1 unless |y0| < 1)."""
    d = y.shape[0]
    stats[FJEV] += 1
    if have_fjac:
        fjac(t, y, z, theta, Jy, Jz)
        return
    for k in range(d):
        yw[k] = y[k]
        zw[k] = z[k]
    for b in range(d):
        step = _FD_STEP * max(floor, abs(y[b]))
        yw[b] = y[b] + step
        step = yw[b] - y[b]
        f(t, yw, z, theta, work)
        stats[FEV] += 1
        yw[b] = y[b]
        for a in range(d):
            Jy[a, b] = (work[a] - f0[a]) / step
        step = _FD_STEP * max(floor, abs(z[b]))
        zw[b] = z[b] + step
        step = zw[b] - z[b]
        f(t, y, zw, theta, work)
        stats[FEV] += 1
        zw[b] = z[b]
        for a in range(d):
            Jz[a, b] = (work[a] - f0[a]) / step


def _vide_loop_of(explicit):
    """The VRK loop for explicit (``explicit``) or implicit tableaux.

    ``explicit`` is a constant of the compiled code (a closure variable: Numba drops the branch
    it switches off), so a solve compiles one of the two kinds of step: the explicit loop (rk4)
    has no Newton iteration, Jacobian or ``solve_inplace``, the implicit one no explicit stages
    (issue 15: with an empty cache the one loop with both took 5.5-5.7 s of CPU to compile with
    its helpers; the explicit loop takes 2.3-2.5 s, the implicit one 4.8-4.9 s, with
    :func:`_f_jacobian` inlined in Numba's IR).  Each loop's steps are the same operations as
    the one loop's (bits unchanged).
    """

    def _vide_loop(f_at, fjac_at, have_fjac, K_at, Kjac_at, have_kjac, block_at, theta, memory,
                   t, y0, c, A, b, tol, maxiter, Y, Ys, Zo, stats, start):
        """The VRK method for y' = f(t, y, z), z = int K: see the module docstring.

        Y (N+1, d) receives the mesh values, Ys (N m, d) the stage values, Zo (N m, d) the memory
        z at the stages (for :func:`_rough_f`); the steps from mesh point ``start`` on (earlier
        values and stages given: the dense output's partial steps).
        The functions come by their addresses (as the Volterra loops take them: a function
        argument cost ~7.5 us a call to unbox, five of them a third of a VIDE's solve at N = 8).
        """
        f, fjac, K = _f_at(f_at), _fjac_at(fjac_at), _loops._kernel_at(K_at)
        Kjac, block_sum = _loops._jacobian_at(Kjac_at), _loops._block_at(block_at)
        N = t.shape[0] - 1
        m = c.shape[0]
        d = Y.shape[1]
        md = m * d
        svals, wts = _stage_grid(t, c, b)
        lag = np.zeros((m, d))
        Zs = np.zeros((m, d))
        F = np.zeros((m, d))
        Kv = np.zeros((m, m, d))
        Ky = np.zeros((m, m, d, d))
        Fy = np.zeros((m, d, d))
        Fz = np.zeros((m, d, d))
        row = np.empty(d)
        work = np.empty(d)
        work2 = np.empty(d)
        yw = np.empty(d)
        zw = np.empty(d)
        R = np.empty(md)
        JR = np.empty((md, md))
        for k in range(d):
            Y[0, k] = y0[k]
        floor = _loops.fd_floor(Y[0])     # (Y[0] is not written again)
        for n in range(start, N):
            if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
                return INTERRUPTED, n
            h = t[n + 1] - t[n]
            r0 = n * m
            # the memory of the earlier intervals at the stage times
            for i in range(m):
                if memory and n > 0:
                    block_sum(svals[r0 + i], svals, Ys, 0, r0, wts, theta, row)
                    stats[NFEV] += r0
                    for k in range(d):
                        lag[i, k] = row[k]
                else:
                    for k in range(d):
                        lag[i, k] = 0.0
            if explicit:
                for i in range(m):
                    ti = svals[r0 + i]
                    for k in range(d):
                        Ys[r0 + i, k] = Y[n, k]
                        Zs[i, k] = lag[i, k]
                    for j in range(i):
                        if A[i, j] != 0.0:
                            for k in range(d):
                                Ys[r0 + i, k] += h * A[i, j] * F[j, k]
                    for j in range(i):
                        if memory and A[i, j] != 0.0:
                            K(ti, svals[r0 + j], Ys, r0 + j, theta, row)
                            stats[NFEV] += 1
                            for k in range(d):
                                Zs[i, k] += h * A[i, j] * row[k]
                    f(ti, Ys[r0 + i], Zs[i], theta, work)
                    stats[FEV] += 1
                    for k in range(d):
                        F[i, k] = work[k]
            else:
                for i in range(m):
                    for k in range(d):
                        Ys[r0 + i, k] = Y[n, k]
                stats[NSOLVE] += 1
                converged = False
                for it in range(maxiter + 1):
                    # memory values and stage derivatives at the current stage values
                    for i in range(m):
                        ti = svals[r0 + i]
                        for k in range(d):
                            Zs[i, k] = lag[i, k]
                        if memory:
                            for j in range(m):
                                if A[i, j] == 0.0:
                                    continue
                                K(ti, svals[r0 + j], Ys, r0 + j, theta, row)
                                stats[NFEV] += 1
                                for k in range(d):
                                    Kv[i, j, k] = row[k]
                                    Zs[i, k] += h * A[i, j] * row[k]
                    for i in range(m):
                        f(svals[r0 + i], Ys[r0 + i], Zs[i], theta, work)
                        stats[FEV] += 1
                        for k in range(d):
                            F[i, k] = work[k]
                    if converged:
                        break
                    if it == maxiter:
                        break
                    stats[NIT] += 1
                    for i in range(m):
                        for k in range(d):
                            acc = Ys[r0 + i, k] - Y[n, k]
                            for j in range(m):
                                acc -= h * A[i, j] * F[j, k]
                            R[i * d + k] = acc
                    # Jacobian blocks
                    for i in range(m):
                        for k in range(d):
                            work2[k] = F[i, k]
                        _f_jacobian(f, fjac, have_fjac, svals[r0 + i], Ys[r0 + i], Zs[i], theta,
                                    work2, Fy[i], Fz[i], yw, zw, work, stats, floor)
                    if memory:
                        for j in range(m):
                            for q in range(m):
                                if A[j, q] == 0.0:
                                    continue
                                for k in range(d):
                                    row[k] = Kv[j, q, k]
                                _jacobian_p(K, Kjac, have_kjac, svals[r0 + j], svals[r0 + q], Ys,
                                            r0 + q, theta, Ky[j, q], row, work, stats, floor)
                    for r in range(md):
                        for q in range(md):
                            JR[r, q] = 1.0 if r == q else 0.0
                    for i in range(m):
                        for q in range(m):
                            coef = h * A[i, q]
                            if coef != 0.0:
                                for a in range(d):
                                    for bb in range(d):
                                        JR[i * d + a, q * d + bb] -= coef * Fy[q, a, bb]
                            if memory:
                                for j in range(m):
                                    cj = h * h * A[i, j] * A[j, q]
                                    if cj == 0.0:
                                        continue
                                    for a in range(d):
                                        for bb in range(d):
                                            acc = 0.0
                                            for e in range(d):
                                                acc += Fz[j, a, e] * Ky[j, q, e, bb]
                                            JR[i * d + a, q * d + bb] -= cj * acc
                    state = _loops._newton_update(Ys, r0, m, R, JR, tol, floor)
                    if state < 0:
                        return NEWTON_FAILED, n + 1
                    if state == 1:
                        converged = True   # one more pass recomputes Zs and F at the final stages
                if not converged:
                    return NEWTON_FAILED, n + 1
            for i in range(m):
                for k in range(d):
                    Zo[r0 + i, k] = Zs[i, k]
            for k in range(d):
                acc = Y[n, k]
                for j in range(m):
                    acc += h * b[j] * F[j, k]
                Y[n + 1, k] = acc
                if not math.isfinite(acc):
                    return NOT_FINITE, n + 1
        return SUCCESS, N

    return _vide_loop


_f_at = function_at(types.FunctionType(F_SIGNATURE))
_fjac_at = function_at(types.FunctionType(F_JACOBIAN_SIGNATURE))
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_I = types.int64
_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _I, types.boolean, _I, _A1, types.boolean, _A1, _A1, _A1, _A2,
    _A1, types.float64, types.int64, _A2, _A2, _A2, types.int64[::1], types.int64)
_EXPLICIT_LOOP = _vide_loop_of(True)
_IMPLICIT_LOOP = _vide_loop_of(False)
_COMPILED = {}


def _compiled_loop(explicit):
    """The loop of :func:`_vide_loop_of` for explicit or implicit tableaux, compiled on first
    use (cached on disk)."""
    loop = _COMPILED.get(explicit)
    if loop is None:
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        loop = _COMPILED[explicit] = njit(_SIGNATURE, **options)(
            _EXPLICIT_LOOP if explicit else _IMPLICIT_LOOP)
    return loop


def _f_differences(f_at, theta, t, Y, Z, c, weights, lo, hi, out):
    """out[n, a] = h |sum_j weights[j] f(x_j, y(x_j), z(x_j))[a]| (a NaN counts as 0) for the
    step [t_n, t_n + h] of the mesh ``t``: x_j the m = len(weights) equally spaced points of
    [t_n + lo h, t_n + hi h], y(x) on the line from Y[n] to Y[n+1] (which a kink of
    f in y that the solution crosses inside the step also crosses), z(x) on the line through
    the memory at the step's first and last stages (Z[n s], Z[n s + s - 1] at t_n + c[0] h,
    t_n + c[s - 1] h, s = len(c); the first alone where c[0] = c[s - 1]), smooth where the
    memory is: a jump of f in t that multiplies z shows as z times the jump.  ``f_at``: f's
    address."""
    f = _f_at(f_at)
    m = weights.shape[0]
    d = out.shape[1]
    s = c.shape[0]
    span = c[s - 1] - c[0]
    y, z, v, acc = np.empty(d), np.zeros(d), np.empty(d), np.empty(d)
    for n in range(t.shape[0] - 1):
        h = t[n + 1] - t[n]
        for a in range(d):
            acc[a] = 0.0
        for j in range(m):
            u = lo + (hi - lo) * (j / (m - 1))
            w = (u - c[0]) / span if span > 0.0 else 0.0
            for a in range(d):
                y[a] = Y[n, a] + u * (Y[n + 1, a] - Y[n, a])
                z[a] = Z[n * s, a] + w * (Z[n * s + s - 1, a] - Z[n * s, a])
            f(t[n] + u * h, y, z, theta, v)
            for a in range(d):
                acc[a] += weights[j] * v[a]
        for a in range(d):
            r = abs(acc[a]) * h
            out[n, a] = r if r == r else 0.0


_F_DIFFERENCES = []


def _rough_f(f_address, theta, t, Y, Z, c, p, span=None):
    """The bound of :func:`._adaptive.kernel_defects` for f: 1 / (p + 1) times the
    differences of order p + 1 of x -> f(x, y(x), z(x)) across each step without its ends
    (:func:`_f_differences`, ``Z`` the memory at the stages ``c`` of the solve; (p + 2) N
    evaluations of f, not counted, as the rate's probes are not), an (N, d) array.  A jump of
    f in t inside a step is missed alike by every nested mesh whose stage points in it all lie
    after it (y' = c(t), c jumping from 1 to 2 at 0.503: gauss2 at rtol 1e-9 was a success on
    8 steps 1.7e6 times over the tolerance; y' = c(t) z, z = int y, with z held at 0 in this
    sweep: 27 of 70 solves (rk4, radau2, radau3, gauss2, gauss4) had errors over 10 times
    the tolerance or 20 times the estimate, gauss4 on 8 steps 1.2e6 times over rtol 1e-9).
    With ``span`` (in (0, 1)) each step is taken on [t_n + INSIDE h, t_n + span h] instead
    (see :func:`_aliased_steps`).  A step's end where the stages ``c`` take f (c = 0, c = 1:
    :func:`_sampled_ends`) is swept itself, not INSIDE h off it."""
    if not _F_DIFFERENCES:
        a1, a2 = types.float64[::1], types.float64[:, ::1]
        signature = types.void(types.int64, a1, a1, a2, a2, a1, a1, types.float64,
                               types.float64, a2)
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        _F_DIFFERENCES.append(_entry_point(njit(signature, **options)(_f_differences)))
    n = len(t) - 1
    Y2 = np.ascontiguousarray(Y.reshape(n + 1, -1), dtype=float)
    out = np.empty((n, Y2.shape[1]))
    _user.clear_failures()
    try:
        # (the entry point checks no types: C-contiguous float arrays)
        Z2, c2, t2 = (np.ascontiguousarray(a, dtype=float) for a in (Z, c, t))
        start, end = _sampled_ends(c2)
        _F_DIFFERENCES[0](f_address.address, theta, t2, Y2, Z2, c2, difference_weights(p),
                          0.0 if start else INSIDE,
                          float(span) if span is not None else 1.0 if end else 1.0 - INSIDE,
                          out)
    finally:
        _user.take_failure()
    return out * defect_factor(p)


def _sampled_ends(c):
    """(start, end): whether the stages ``c`` take the data at a step's start (c = 0: rk4) and
    at its end (c = 1: rk4, the Radau IIA methods).  A jump of f in t or of K at a mesh point
    gives such a stage the value on the other side of it, a miss of the stage's weight times
    the jump and h that the sweeps of the data without the steps' ends do not see, and that
    every companion, whose meshes share the point, makes alike (y' = c(t), c jumping from 1
    to 2 at t = 0.5, radau3 at rtol 1e-3: 8 steps, an error of 1.4e-2 = h b_3 for an estimate
    of 4.5e-4, the Richardson estimate with the order 5 of solutions converging at the order
    1).  The Gauss methods take neither end: a jump there is no defect of theirs."""
    return bool(c[0] == 0.0), bool(c[-1] == 1.0)


#: How many solves' memories (z at the stages) ``solve_vide`` keeps for its checks of rough
#: data: the solve and its companions (with 4, the 7 VIDE rows of N = 4 of ``identity.py``
#: solved once more, their first steps' finer solves having pushed the solve's out).
MEMORIES = 8

#: The lowest order p whose differences of order p + 1 find where K or f is not smooth
#: (``rough_data`` in :func:`solve_vide`).
ROUGH_ORDER = 4


#: :func:`_aliased_steps`: the shares of a step whose pieces [t_n, t_n + share h] are swept
#: (two: at one, data oscillating 32 times a step can fall near one phase at every point,
#: 32 OFF_GRID_SPAN / 5 = 3.96 cycles apart).
ALIAS_SPANS = (OFF_GRID_SPAN, ALIAS_SPAN)


def _aliased_steps(on, off, floor=0.0):
    """The bounds (N, d) of what each step's quadrature misses, from the differences of f or
    of K across the whole step (``on``, :func:`_rough_f`, :func:`._adaptive.kernel_defects`)
    and across its pieces [t_n, t_n + s h], s in ALIAS_SPANS (``off``, the larger): their
    larger, and where the pieces' exceed ALIAS_FACTOR times the whole step's (the data
    oscillate at the mesh's period) and ``floor`` (the rounding level of the differences,
    :func:`_differences_rounding`: (N, d), or 0), the running sum of the pieces' over such
    steps (each step's below the bar of ``rough_data``, their sum not: radau2 with h(t) at
    one cycle a step, 256 steps, 0.105 off for an estimate of 4.8e-5).

    Data that oscillate a whole number of times a step are symmetric about its middle, and
    their differences of an odd order on the points j h / (p + 1) vanish; where their period
    divides h / (p + 1) too, every difference does.  The stages of rk4 (0, h / 2, h), gauss1
    (h / 2) and radau2 (h / 3, h) and those of every nested mesh of the estimate take them at
    one phase: y' = -z + h(t), z = int y, h with cos(w t), w = 2 pi 48, y = 1 + sin(w t) / w,
    8 steps of [0, 1], was a success with every value off by sin t (0.84) and estimates of
    1.4e-6 (rk4), 2.4e-5 (radau2), 7.1e-4 (gauss1), the data check seeing 1e-15.  The miss of
    such a step is the same in every step (the same phase), so the misses add up: the running
    sum (a bound as rough as the differences; :func:`._adaptive._aliased_data` sums alike)."""
    delta = np.maximum(on, off)
    aliased = (off > ALIAS_FACTOR * on) & (off > floor)
    if np.any(aliased):
        np.maximum(delta, np.cumsum(np.where(aliased, off, 0.0), axis=0), out=delta)
    return delta


def _differences_rounding(t, Y, Z, J, p):
    """The rounding level (N, d) of the bounds of :func:`_rough_f` (differences of order p + 1
    of f across each step, times h / (p + 1)): h 2^(p + 1) / (p + 1) eps times the size of
    f's terms, |y'| + |f_y| max |y| + |f_z| max |z| (``J`` = [[f_y, f_z], ...] at the start,
    :func:`_coupled_jacobian`; ``Z`` the memory at the stages); zeros where ``J`` is None.

    Where the pieces' differences of every step are rounding noise, :func:`_aliased_steps`
    takes a step in four for aliased and sums the noise over the steps: y' = -1000 y + z +
    h(t), y = cos t, z = int y, radau3 on 1024 steps of [0, 2]: the steps' differences at
    most 2.7e-15 (this level 4.6e-15), 254 steps flagged, a sum of 2.8e-13, over the
    estimate (3.6e-15, the error 4.9e-15): the odd points' companion ran (+19% kernel
    evaluations) and changed no estimate."""
    N, d = len(t) - 1, Y.shape[1]
    if J is None or N < 1:
        return np.zeros((N, d))
    size = np.max(np.abs(Y), axis=0)
    slope = np.max(np.abs(np.diff(Y, axis=0)) / np.diff(t)[:, None], axis=0)
    terms = slope + np.abs(J[:d, :d]) @ size
    if J.shape[0] == 2 * d and len(Z):
        terms += np.abs(J[:d, d:]) @ np.max(np.abs(Z), axis=0)
    level = 2.0 ** (p + 1) / (p + 1) * np.finfo(float).eps
    return np.diff(t)[:, None] * (level * terms)[None, :]


def _blind_steps(on, off):
    """The part of the bounds of :func:`_aliased_steps` that the companions may not see: the
    bound of a step whose own exceeds ROUGH_FIXED times both its neighbours' (a jump or kink
    of the data: y' = int c(s) ds, c jumping from 1 to 2 at 0.503, gauss2 at rtol 1e-3, 304
    steps: the solve and the companions through the even and through the odd points missed
    the same part of the step's integral, an error of 1.4e-4 for an estimate of 5.6e-8), and
    the running sum of the pieces' differences over the runs of ALIAS_RUN or more steps in a
    row where they exceed ALIAS_FACTOR times the whole step's (data oscillating at the mesh's
    own period, sampled at one phase by the solve and by every mesh of its points, do so in
    every step; a step alone is where the whole step's differences of data the steps do not
    resolve pass near 0: K-conv f = 48, gauss2 at rtol 1e-3, 178 steps, two such steps
    bounded 2.5e-5 for an error of 9.2e-8)."""
    delta = np.maximum(on, off)
    near = np.zeros_like(delta)
    near[1:] = delta[:-1]
    np.maximum(near[:-1], delta[1:], out=near[:-1])
    aliased = off > ALIAS_FACTOR * on
    runs = np.zeros_like(aliased)
    for a in range(aliased.shape[1]):
        ends = np.convolve(aliased[:, a], np.ones(ALIAS_RUN), "valid") >= ALIAS_RUN
        for k in np.flatnonzero(ends).tolist():
            runs[k:k + ALIAS_RUN, a] = True
    return np.maximum(np.where(delta > ROUGH_FIXED * near, delta, 0.0),
                      np.cumsum(np.where(runs, off, 0.0), axis=0))


def _with_odd_points(sol, rough_data, run, order, min_steps):
    """``sol``, a successful VIDE solve to a tolerance, checked as :func:`_with_rough_data`
    checks it, except that where the data's bounds exceed ROUGH_FIXED times the estimates,
    the odd points are first estimated by a companion of their own (the points 0, 1, 3, 5,
    ...: :func:`._estimate._odd_points_check`, ``run`` as the companions take it, with the
    estimate's order or ``order``), and then only the bounds of the steps that stand out of
    their neighbours' and of data aliased on the mesh's own steps (:func:`_blind_steps`,
    which that companion may miss as the solve does) raise the estimates.

    The half-steps companion compares the even points, and on 2^k steps data making whole
    cycles a companion step are taken at one phase there by both solves alike, the error at
    the odd points (y' = cos(w t) (1 + z), z = int cos(w s) y, w = 2 pi 8, gauss2 at rtol
    1e-3: 32 steps, an error of 3.1e-5 for an estimate of 1.5e-17; with the odd points
    7.95e-5).  The bounds of differences of order p + 1 across a step of data not resolved at
    that order are loose by up to 10^4 (K-conv f = 48, gauss2 at rtol 1e-3: a bound of 8.4e-4
    for an error of 9.2e-8; the odd points 1.3e-7).  Where that companion fails or finds the
    solution unresolved, the estimates are raised to the bounds (:func:`_with_rough_data`)."""
    est, t = sol._est2, sol.mesh
    if len(t) < 4 or not np.all(np.isfinite(est)):
        return _with_rough_data(sol, rough_data)
    if not _data_defects(sol, rough_data):
        return sol
    odd = _odd_points_estimate(sol, run, order, min_steps)
    if odd.first_bad is not None:
        return _with_rough_data(sol, rough_data)
    est[...] = odd.estimate                       # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    return _with_rough_data(sol, lambda mesh, Y, claims: rough_data(mesh, Y, claims, True))


def _odd_points_estimate(sol, run, order, min_steps):
    """The :class:`._estimate.Companion` of ``sol``'s estimates raised at its odd points by
    a companion of their own (:func:`._estimate._odd_points_check`, ``run`` as the
    companions take it, with the estimate's order or ``order``); its evaluations counted in
    ``sol.stats["nfev"]`` and ``sol.stats["error_estimate_nfev"]``."""
    q = float(sol.stats.get("estimate_order", np.nan))
    odd = Companion(sol._est2.copy(), None, "", "half-steps")
    count_estimate_work(sol.stats, _odd_points_check(run, sol.mesh, sol._y2,
                                                     q if q > 0.0 else float(order), min_steps,
                                                     odd, True))
    return odd


def _four_steps_bar(c, b, p):
    """The ratio (at most 1) of the bound of :func:`_rough_f` (differences of order p + 1 on
    p + 2 points across a step, times h / (p + 1)) to what the quadrature of the stages ``c``
    with the weights ``b`` misses of a step's integral, for data making a cycle in 4 steps
    (w h = pi / 2; the larger over the phases): the bar of the estimates above which the
    bounds call for the odd points' companion (:func:`_with_checked_odd_points`).

    There the bounds fall short of the miss: the midpoint (gauss1) misses 1 - sinc(pi / 4) =
    0.1 h of a unit cos(w t), the differences of order 5 bound 6.0e-4 h (a bar of 6.0e-3); y'
    = -z + h(t), z = int y, y = 1 + sin(w t) / w, w = 2 pi f, gauss1 on 4 f steps of [0, 1]
    was a success with errors of 2.2e-3, 1.1e-3, 5.5e-4 (f = 8, 16, 32) for estimates of
    9.7e-5, 2.4e-5, 6.1e-6, the bounds (1.3e-5, 6.6e-6, 3.3e-6) under them; over 6.0e-3
    times them, the odd points' companion raised the estimates to 6.1e-3, 3.1e-3, 1.5e-3."""
    theta = math.pi / 2.0
    miss = abs(np.sum(b * np.exp(1j * theta * c)) - (np.exp(1j * theta) - 1.0) / (1j * theta))
    bound = (2.0 * math.sin(theta / (2.0 * (p + 1)))) ** (p + 1) / (p + 1)
    return min(1.0, bound / miss) if miss > 0.0 else 1.0


def _with_checked_odd_points(sol, rough_data, run, order, min_steps, bar=1.0):
    """``sol``, a successful VIDE solve on a given mesh whose estimates come from the
    half-steps companion (the even points), with the estimates of its odd points raised by a
    companion of their own (:func:`_odd_points_estimate`) where the data's bounds
    (``rough_data``, as :func:`_with_rough_data` takes them) exceed the estimates (not
    ROUGH_FIXED times them, that check's bar), or ``bar`` times them (at most 1: the bounds'
    shortfall at data of 4 steps a cycle, :func:`_four_steps_bar`).

    Data whose period is 4 steps are sampled by the companion on every other point (2 steps
    a cycle) at one phase, and the solve's errors at its own even points can cancel: y' = -z
    + h(t), z = int y, h with cos(w t), w = 2 pi 256, y = 1 + sin(w t) / w, gauss1 (the
    midpoint) on 1024 steps of [0, 1] was a success with an error of 6.9e-5 at the odd points
    (4.2e-8 at the even ones) for an estimate of 9.5e-8, the data's bounds 4.1e-7 (their
    differences of order 5 across a step: no bound of the midpoint's miss).  The bounds of
    smooth data resolved by the steps are far below their estimates (no companion); so are
    those of data at the rounding level where ``rough_data`` takes no pieces' differences
    below the level of f's rounding for aliased (:func:`_differences_rounding`: 2.7e-15,
    where the sum over the steps taken for aliased, 2.8e-13, exceeded an estimate of
    3.6e-15)."""
    est, t = sol._est2, sol.mesh
    if len(t) < 4 or not np.all(np.isfinite(est)) or \
            sol.stats.get("error_estimate") != "half-steps" or \
            not _data_defects(sol, rough_data, bar):
        return sol
    est[...] = _odd_points_estimate(sol, run, order, min_steps).estimate   # (in place)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    return sol


def _data_defects(sol, rough_data, bar=ROUGH_FIXED):
    """The steps of ``sol`` (a VIDE solve with its estimates) where the bound of what the
    quadrature misses, ``rough_data(mesh, Y, claims) -> (defects, kernel evaluations)``,
    exceeds ``bar`` times the component's largest estimate (at least ESTIMATE_FLOOR times
    its size); the evaluations counted in ``sol.stats["nfev"]`` and
    ``sol.stats["error_estimate_nfev"]``."""
    est, Y = sol._est2, sol._y2
    size = np.max(np.abs(Y), axis=0)
    claims = np.broadcast_to(bar * np.maximum(np.max(est, axis=0), ESTIMATE_FLOOR * size),
                             est[1:].shape)
    defects, evaluations = rough_data(sol.mesh, Y, claims)
    count_estimate_work(sol.stats, evaluations)
    return defects


def _with_rough_data(sol, rough_data):
    """``sol``, a successful VIDE solve on a given mesh, with its estimates raised from each
    step on to the bound of what the step's quadrature misses (``rough_data(mesh, Y, claims)
    -> (defects, kernel evaluations)``: :func:`_rough_f` and :func:`._adaptive.kernel_defects`)
    where it exceeds ROUGH_FIXED times the component's largest estimate (the fixed meshes'
    bar of :func:`._adaptive.with_rough_data`: an estimate within ``_tolerance.HONEST`` of the
    error is honest; smooth data's bounds are far below their estimates).  A jump of K or of f
    inside a step is missed alike by the solve and every companion whose stage points in the
    step all lie on one side of it: y' = int_0^t c(s) ds, c jumping from 1 to 2 at 0.503, was a
    success with an error of 1.5e-3 for an estimate of 0 on 4 to 64 steps (gauss2); 48 of 125
    solves of jumps of K in s, of f in t and a kink of f in y that y crosses (rk4, radau2,
    radau3, gauss2, gauss4, N = 4 to 64) had errors over 20 times their estimates."""
    est, t = sol._est2, sol.mesh
    if len(t) < 2 or not np.all(np.isfinite(est)):
        return sol
    defects = _data_defects(sol, rough_data)
    if not defects:
        return sol
    _raise_to_defects(est, defects)               # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.stats["step_defects"] = len(defects)
    sol.message += (f"  The data (K or f) are not smooth inside the step from t = "
                    f"{float(t[defects[0][0]]):.6g}, which every mesh whose stage points in it "
                    f"lie on one side of that point misses alike: the estimates from there on "
                    f"were raised to a bound of what the step's quadrature misses "
                    f"({float(np.max(defects[0][1])):.3g}).")
    return sol


#: :func:`_with_carried_misses`: the steps whose bound of what their quadrature misses is at
#: least CARRIED_SHARE of the bounds' sum (a feature of the data) and their neighbours are
#: solved divided, where they are at most N / (ROUGH_SPLIT - 1) steps, or CARRIED_EXTRA /
#: (ROUGH_SPLIT - 1) on smaller meshes (counted in quarters, not in the method's pieces: a
#: higher order divides a step into more, 12 for gauss4, and its feature of 10 steps and
#: neighbours on 16 went unchecked, an error 42.5 times the estimate).
CARRIED_SHARE, CARRIED_EXTRA = 1e-3, 64


#: :func:`_carried_rise`: the factor by which the bounds of a feature's steps, with a step's
#: dip taken at its neighbours', change from one step to the next where the steps do not
#: resolve it (a Gaussian bump of width w: about exp(2 |t - c| h / w^2), 400 at 3 w with h = w;
#: the data of a smooth problem change slowly from step to step where the steps resolve them).
CARRIED_RISE = 10.0


def _carried_rise(delta, steps):
    """Whether the bounds ``delta`` (N, d) of the steps ``steps`` (a boolean mask, per row:
    any component) rise or fall by more than CARRIED_RISE from one step to the next, each
    step's bound taken as the largest of its own and its neighbours' (a step alone where the
    differences of smooth data pass near 0 is no feature)."""
    if len(delta) < 2:
        return False
    env = delta.copy()
    np.maximum(env[1:], delta[:-1], out=env[1:])
    np.maximum(env[:-1], delta[1:], out=env[:-1])
    lo, hi = np.minimum(env[1:], env[:-1]), np.maximum(env[1:], env[:-1])
    pair = steps[1:] | steps[:-1]
    return bool(np.any((hi > CARRIED_RISE * lo)[pair]))


def _with_carried_misses(sol, rough_data, run, order, ends=None):
    """``sol``, a successful VIDE solve on a given mesh, with its estimates raised to the
    error that the steps of a feature of the data make at the later points, where the misses
    of their quadratures, carried forward, may exceed an estimate there.

    The error that a step commits stays in the solution after it (y' = f(t) carries it
    unchanged), and the solve and its companion on every other point carry theirs alike: the
    difference of the two can fall far below either after a feature of the data a few steps
    wide (y' = 0.1 b'(t), b = exp(-((t - 0.5) / 0.04)^2), radau3 on 16 steps: an error of
    2.3e-3 from t = 0.625 on for an estimate of 2.5e-5, the largest estimate 1.0e-4 at the
    bump), while the steps' bounds (``rough_data(mesh, Y, claims) -> (defects, kernel
    evaluations)``, :func:`_rough_f` and :func:`._adaptive.kernel_defects`) stay below
    ROUGH_FIXED times the largest estimate (:func:`_with_rough_data`: 4.7e-4 against 2.1e-3).
    Where their running sum (the misses carried forward unchanged) exceeds an estimate (not
    ROUGH_FIXED times it: in steps that do not resolve the feature the bounds fall short of
    the miss, b of w = 0.04 on 8 steps, gauss2: a bound of 4.7e-3 for a miss of 3.5e-2, 7.8
    times the estimate at the peak), the steps whose bounds are at least CARRIED_SHARE of the
    sum (of a component whose sum does) and their neighbours (where their quarters add at most
    N steps, or CARRIED_EXTRA: a feature, not the smooth data of a decaying solution on a large
    mesh), where those bounds change by more than CARRIED_RISE from step to step
    (:func:`_carried_rise`: a feature the steps do not resolve, not smooth data, whose
    divided solve changed nothing but the work: x1.5-2.5 on smooth memory problems at rtol
    1e-9, 1e-12), are divided as :func:`._adaptive.with_rough_data` divides a rough step
    (:func:`._adaptive._cuts` of the method's ``order``), and where the change of the answer
    at a mesh point, times ROUGH_SPLIT / (ROUGH_SPLIT - 1), exceeds ROUGH_FIXED times the
    estimate there, the estimates are raised to it (the solve carries the misses on as it
    carries an error; the bounds of a feature narrower than a step are loose: 0.6 for a miss
    of 7e-3).  Where the divided solve fails, to the running sum.  ``run``: ``mesh -> (Y,
    status, keep, nfev)``; the kernel evaluations are counted in ``sol.stats["nfev"]`` and
    ``sol.stats["error_estimate_nfev"]``.

    The divided solve keeps the mesh points, and a jump or kink of the data in a blind end of
    a feature's step (nearer a mesh point than the stages of the pieces next to it reach) is
    missed by it alike: with ``ends`` (``(run, t, Y, est, steps, divided, Yd) -> (evaluations,
    raised, error)``, :func:`._adaptive.resolved_ends` with f's values, :func:`solve_vide`),
    the pieces of those steps whose blind end's data may make more than the estimate are
    divided again, as the second kind's rough steps are, and the change of the answer counts
    (y' = -y / 2 + z + h(t), z = int (a |s - b| + c) y ds, b = 1.1479 at 0.986 of its step,
    after gauss3's last stage, 0.887, of the piece that kept its end: at rtol 1e-6 a success
    on 108 steps with an error of 2.4e-8 for an estimate of 1.3e-15 at t = 2)."""
    est, Y, t = sol._est2, sol._y2, sol.mesh
    N = len(t) - 1
    if N < 2 or not np.all(np.isfinite(est)):
        return sol
    d = Y.shape[1]
    found, evaluations = rough_data(t, Y, np.full((N, d), -1.0))
    count_estimate_work(sol.stats, evaluations)
    delta = np.zeros((N, d))
    for j, bound in found:
        delta[j] = bound
    carried = np.zeros((N + 1, d))
    carried[1:] = np.cumsum(delta, axis=0)
    size = np.maximum.accumulate(np.max(np.abs(Y), axis=1))
    claimed = np.maximum(est, ESTIMATE_FLOOR * size[:, None])
    claims = ROUGH_FIXED * claimed
    if not np.any(carried > claimed):
        return sol
    over = np.any(carried > claimed, axis=0)       # (the components whose misses do)
    notable = np.any(delta[:, over] >= CARRIED_SHARE * carried[-1, over], axis=1)
    near = notable.copy()
    near[1:] |= notable[:-1]
    near[:-1] |= notable[1:]
    if not _carried_rise(delta[:, over], near):    # (data the steps resolve: their estimates
        return sol                                 # hold there, a divided solve changes nothing)
    cuts = _cuts(int(math.ceil(order)))
    if np.count_nonzero(near) * (ROUGH_SPLIT - 1) > max(N, CARRIED_EXTRA):
        return sol
    divided = np.concatenate([t[j] + (t[j + 1] - t[j]) * cuts if near[j] else t[j:j + 1]
                              for j in range(N)] + [t[-1:]])
    Yd, status, calls, error = _run_divided(run, divided)
    count_estimate_work(sol.stats, calls)
    change = _divided_change(divided, Yd.reshape(len(divided), d), t, Y) if status == 0 else \
        np.where(carried > claims, carried, 0.0)
    blind, unchecked = False, None
    if status == 0 and ends is not None:
        # (a kink in a blind end of a feature's step: its pieces divided again, as the second
        # kind's; the estimates they are held against: the solve's, or the change where above)
        seen = np.maximum(claimed, change)
        calls, blind, unchecked = ends(run, t, Y, seen, np.flatnonzero(notable), divided,
                                       Yd.reshape(len(divided), d))
        count_estimate_work(sol.stats, calls)
        if blind:
            np.maximum(change, seen, out=change)
    if not np.any(change > claims):
        if unchecked is not None:
            sol.message += _ends_unchecked(unchecked)
        return sol
    np.maximum(est, change, out=est)               # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    k = int(np.argmax(np.any(change > claims, axis=1)))
    first = int(np.argmax(near))
    sol.message += (f"  The misses of the steps' quadratures from t = {float(t[first]):.6g} on "
                    f"(bounded by the differences of K and f across the steps), carried forward, "
                    f"may exceed the error estimate from t = {float(t[k]):.6g} on, which the "
                    f"meshes of the estimate carry alike: the estimates were raised to " +
                    (f"the change of the answer when those steps and their neighbours are "
                     f"divided into {ROUGH_SPLIT} (times {ROUGH_SPLIT / (ROUGH_SPLIT - 1.0):.3g})"
                     if status == 0 else "the running sum of those bounds (the solve with those "
                     "steps divided failed" + ("" if error is None else
                                               f": {type(error).__name__} raised by f or K "
                                               f"there ({error})") + ")")
                    + f", at most {float(np.max(change)):.3g}." +
                    ("  A jump or kink of the data next to a mesh point of those steps, nearer "
                     "than their stages reach, is missed by every division alike: the pieces "
                     "next to it were divided again." if blind else "") +
                    ("" if unchecked is None else _ends_unchecked(unchecked)))
    return sol


def _ends_unchecked(error):
    """The sentence of :func:`_with_carried_misses` saying that the blind ends of a
    feature's steps were not checked: f or K raised ``error`` there."""
    return (f"  The data next to the mesh points of those steps, nearer than their stages "
            f"reach (where a jump or kink is missed by every division alike), were not "
            f"checked: {type(error).__name__} raised by f or K there ({error}).")


def _f_on_path(f_fn, theta, t, Y, Z, c):
    """``g_vec(x, keep=False)`` of :func:`._adaptive.blind_ends` for f: the values (len(x),
    d) of x -> f(x, y(x), z(x)) (NaN where f failed), y on the chords of the values ``Y`` on
    the mesh ``t``, z on the chords of the memory ``Z`` at the stages ``c`` of its steps (a
    blind end, before a step's first stage or after its last, lies between two stages: z is
    linear there), so that a jump of f in t there shows in its differences as g's does."""
    d = Y.shape[1]
    at = (t[:-1, None] + np.diff(t)[:, None] * np.asarray(c, dtype=float)[None, :]).reshape(-1)

    def g_vec(x, keep=False):
        x = np.asarray(x, dtype=float).reshape(-1)
        y = np.stack([np.interp(x, t, Y[:, a]) for a in range(d)], axis=1)
        z = np.stack([np.interp(x, at, Z[:, a]) for a in range(d)], axis=1) if len(Z) else \
            np.zeros_like(y)
        out = np.empty((len(x), d))
        v = np.empty(d)
        _user.clear_failures()
        try:
            for k in range(len(x)):
                f_fn(float(x[k]), np.ascontiguousarray(y[k]), np.ascontiguousarray(z[k]),
                     theta, v)
                out[k] = v
        finally:
            _user.take_failure()
        return out
    return g_vec


#: :func:`_carried_to_tolerance`: the solves started over on more steps at most.
CARRIED_TRIES = 3


def _carried_to_tolerance(solve_from, rough_data, run, order, tolerance, n_max, ends=None):
    """``solve_from(8)``, a VIDE solved to the tolerance (rtol, atol) = ``tolerance``, with its
    estimates raised to the misses that a feature's steps carry forward
    (:func:`_with_carried_misses`, ``rough_data``, ``run``, ``order`` and ``ends`` as it
    takes them);
    where the raised estimates exceed the tolerance, ``solve_from(N)`` starts over on the N
    that their ratio to it asks for at the ``order`` (as the refinement predicts it), checked
    again, at most CARRIED_TRIES times; where the last one's still exceed it (or N is
    ``n_max``), the answer is a failure ("tolerance") that keeps its values and estimates
    (:func:`._tolerance.refined_to_tolerance`).

    The solve and its half-steps companion carry the error of a feature's steps alike, as on
    a fixed mesh: y' = 0.1 b'(t), b = exp(-((t - 0.5) / 0.02)^2), radau3 at rtol = atol =
    1e-3 was a success on 32 steps with an error of 1.18 times the tolerance, 95 times its
    estimate.  The evaluations of every solve are counted in ``stats["nfev"]``."""
    def checked(n):
        sol = solve_from(8 if n is None else n)
        return _with_carried_misses(sol, rough_data, run, order, ends) if sol.success else sol
    return refined_to_tolerance(checked, tolerance, order, n_max,
                                "(the misses of a feature's steps carried forward, which the "
                                "solve and its companion carry alike); use a looser tolerance, "
                                "or split the interval at the feature.", tries=CARRIED_TRIES)


def _coupled_jacobian(t0, y0, f_fn, theta, kernel, at=None):
    """The Jacobian J = [[f_y, f_z], [K_y, 0]] (2d, 2d) at (t0, y0, z = 0) of the system that the
    VIDE behaves like near its start (see :func:`_coupled_scale`), or with ``kernel`` None (no
    memory) f_y (d, d); None where a value is not finite or a function failed.  ``at``: K_y
    at (t, s) = (at, t0) instead of (t0, t0) (the memory's row, :func:`_memory_rows`).

    By forward differences: f 2d + 1 times (d + 1 without memory; uncounted, as for the rate's
    probes), K d + 1 times (the caller counts them).
    """
    y0 = np.ascontiguousarray(y0, dtype=float)
    d = len(y0)
    steps, rows = _shifted_rows(y0.tolist())                 # y0, then y0 + step_j e_j
    memory = kernel is not None
    K = _evaluator(kernel, rows) if memory else None
    J = np.zeros((2 * d, 2 * d) if memory else (d, d))
    out, zero = np.empty(d), np.zeros(d)
    _user.clear_failures()
    try:
        f_fn(t0, y0, zero, theta, out)
        base = out.copy()
        for j in range(d):
            f_fn(t0, np.array(rows[j + 1]), zero, theta, out)
            J[:d, j] = (out - base) / steps[j]
            if memory:
                z = zero.copy()
                z[j] = 1.4901161193847656e-08
                f_fn(t0, y0, z, theta, out)
                J[:d, d + j] = (out - base) / z[j]
        if memory:
            t = t0 if at is None else float(at)
            k0 = np.array(K(t, t0, 0))
            for j in range(d):
                J[d:, j] = (np.array(K(t, t0, j + 1)) - k0) / steps[j]
    except Exception as exc:  # noqa: BLE001 (the user's error: the guarded check says it)
        if not _user.raised_by_user(exc):   # (the package's, a caller's timeout: raised)
            raise
        return None
    finally:
        failed = _user.take_failure() is not None
    return None if failed or not np.all(np.isfinite(J)) else J


def _memory_rows(at, times, values, f_fn, theta, kernel):
    """The VIDE's memory as the row of a second-kind equation, for the rounding floor's memory
    growth (:func:`._outcome._with_memory_growth`; ``probe.memory`` of :func:`solve_vide`'s
    probe): (rows, K evaluations), None where a probe failed.  Linearised at (s, y(s), z = 0),
    y' = A e + B int C(t, s) e ds integrates to e(T) = int (A(s) + int_s^T B C(tau, s) dtau)
    e(s) ds, whose row at T is A(s_l) + B(s_l) int_(s_l)^T C(T, T - (tau - s_l)) dtau here (the
    row C(T, s) = K_y(T, s, y(s)) at the points ``times``, from t0 to ``at`` = T, integrated by
    the trapezoid rule from T back: exact for A, B constant and a convolution C(t - s));
    with ``at`` a list (each point's t): A + B (t - s) C(t, s), which is A at t = s and
    differs from it wherever the memory couples (y' = int (t - s) (y - 1e5) ds, y0 = 1e5,
    whose f_y = K_y(t, t) = 0: gauss2 on 64 steps of [0, 10] had an error of 1.5e-7, every
    increment 2e-11 lost, for an estimate of 1.8e-10, the floor that saw no growth)."""
    one = not isinstance(at, (list, tuple))
    ats = [float(at)] * len(times) if one else [float(a) for a in at]
    d = len(values[0])
    A, B, C = [], [], []
    for a, s, y in zip(ats, times, values):
        J = _coupled_jacobian(float(s), np.array(y, dtype=float), f_fn, theta, kernel, at=a)
        if J is None:
            return None
        A.append(J[:d, :d])
        B.append(J[:d, d:])
        C.append(J[d:, :d])
    evaluations = len(times) * (d + 1)
    if not one:
        return [(A[i] + (ats[i] - times[i]) * (B[i] @ C[i])).tolist()
                for i in range(len(times))], evaluations
    rows = [None] * len(times)
    last = len(times) - 1
    integral = (ats[0] - times[last]) * C[last]
    rows[last] = (A[last] + B[last] @ integral).tolist()
    for i in range(last - 1, -1, -1):
        integral = integral + 0.5 * (times[i + 1] - times[i]) * (C[i] + C[i + 1])
        rows[i] = (A[i] + B[i] @ integral).tolist()
    return rows, evaluations


def _coupled_scale(sol, J, tableau):
    """Whether the first step of ``sol`` spans more than STIFF units of the time scale that the
    memory couples into the equation (False, True, or the refinement that resolves an
    oscillation: h max |Im lambda| / RESOLVE, see :func:`._tolerance.with_checked_estimate`),
    from the Jacobian J of :func:`_coupled_jacobian` (None: its probe failed).

    Differentiating z(t) = int K(t, s, y(s)) ds gives z' = K(t, t, y) + int dK/dt ds, so near
    (t0, y0, z = 0) the VIDE behaves like the system y' = f(t, y, z), z' = K(t, t, y) with the
    Jacobian J = [[f_y, f_z], [K_y, 0]] (the memory's own decay, int dK/dt ds, left out: it
    only adds a rate of its own); its spectral radius rho is the inverse time scale.  y' = z
    with K = -w^2 y is y'' = -w^2 y: rho = w, and f(t, y, 0) = 0 shows the probes of
    :func:`short_time_scale` nothing.  The companions of the error estimate, on meshes as
    coarse or coarser, miss a time scale shorter than the steps alike: on [0, 2], w = 10 and
    30, 2 to 16 steps, gauss1-gauss4 and radau2-radau3 were 23 successes with errors of 0.15
    to 1.9 and estimates 20 to 60,000 times smaller (and rtol = 1e-3 with w = 100: radau2 and
    radau3 on 8 steps, errors 1.0 and 0.97).  h rho > STIFF asks for the first-steps check.

    rho from the eigenvalues of J up to 2d = 128, above that its infinity norm (a bound: a check
    too many, never one too few; no refinement is then asked for).  A value of J that is not
    finite, or a function that failed, is a suspicion (the check runs in the guarded loop).
    So is a mode of J whose error the method's stability function (``tableau``) predicts to
    exceed UNRESOLVED (half) its size over the mesh (:func:`_may_lose_every_digit`), even
    where the phase error W (h omega)^p is below 1 / DRIFT (radau1's damping is (h omega)^2 / 2
    a step: on y'' = -25 y over [0, 2] in 24 steps, W (h omega) = 4.2, it keeps 15 % of the
    oscillation); the check then measures how much of the solution the mode is
    (:func:`_with_linearised_error`).
    J is kept as ``sol._rate_jacobian`` (up to 2d = 128), the rate whose growth
    :func:`._tolerance.with_checked_estimate` checks (y' = z, K = w^2 y: y = cosh(w t), whose
    growth the answer's and the check's unresolved Radau steps damped alike)."""
    t = sol.mesh
    if len(t) < 2:
        return False
    t0, h = float(t[0]), float(t[1] - t[0])
    if J is None:
        return True
    if J.shape[0] > 128:
        return not h * np.max(np.sum(np.abs(J), axis=1)) <= STIFF
    sol._rate_jacobian = J.tolist()     # (its growth: see _tolerance.with_checked_estimate)
    lam = np.linalg.eigvals(J)
    omega = float(np.max(np.abs(lam.imag)))
    # an oscillation's phase error over the interval, ~ W (h omega)^p for W = omega (T - t0)
    # radians (a low order on steps that each resolve it: radau1, y'' = -900 y on [0, 2] in
    # 48 steps of 1.25 radians, was a success with an error of 1.02 and an estimate of 0.22,
    # the answer and its companions damped to nothing alike)
    p = sol.order
    drift = omega * float(t[-1] - t0) * (h * omega) ** p
    if h * np.max(np.abs(lam)) <= STIFF and not drift > 1.0 / DRIFT and \
            not _may_lose_every_digit(t, lam, tableau):
        return False
    # the first-steps check's own steps: RESOLVE radians, and for a low order fewer, so that
    # its phase error over the checked steps stays ~DRIFT (radau1 on 1 step over 60 radians:
    # at 0.5 radians its 120 steps damped the oscillation to 1e-6 as the answer's one did,
    # and the two agreed)
    span = omega * h * min(FIRST_STEPS, len(t) - 1)
    theta = min(RESOLVE, (DRIFT / span) ** (1.0 / p)) if span > 0.0 else RESOLVE
    return max(h * omega / theta, 1.0)


def _mode_errors(t, lam, tableau):
    """q (len(lam), len(t)), complex: prod_{j < n} R(h_j lambda) - e^(lambda (t_n - t_0)), the
    error at the mesh point n of the method (stability function R of ``tableau``) on the mode
    e^(lambda t) of amplitude 1 (inf where it overflows)."""
    h, elapsed = np.diff(t), t - t[0]
    q = np.zeros((len(lam), len(t)), dtype=complex)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for row, mode in enumerate(lam):
            z = h * mode
            r = tableau.stability(z)
            # log of prod R(h_j lambda) e^(-h_j lambda) at t_0 ... t_N (a zero of R: 0)
            log_rho = np.concatenate(([0.0], np.cumsum(
                np.log(np.maximum(np.abs(r), 1e-300)) + 1j * np.angle(r) - z)))
            exact = mode * elapsed
            q[row] = np.where(log_rho.real > 1.0, np.exp(exact + log_rho) - np.exp(exact),
                              np.exp(exact) * np.expm1(log_rho))
        q[~np.isfinite(q)] = np.inf
    return q


def _may_lose_every_digit(t, lam, tableau):
    """Whether the method (the stability function of ``tableau``) makes an error of more than
    UNRESOLVED (half) the size of a mode e^(lambda t), lambda in ``lam``, somewhere on the mesh
    ``t``: |q_n| (:func:`_mode_errors`) over max(1, |e^(lambda (t_n - t0))|) (the size of a
    mode that grows)."""
    q = _mode_errors(t, lam[lam.imag >= 0.0], tableau)
    with np.errstate(over="ignore", invalid="ignore"):
        grown = np.maximum(1.0, np.abs(np.exp(np.outer(lam[lam.imag >= 0.0], t - t[0]))))
        return bool(np.any(~(np.abs(q) / grown <= UNRESOLVED)))


def _with_linearised_error(sol, J, tableau):
    r"""``sol``, a solve on a given mesh whose first steps the check of
    :func:`._tolerance.with_checked_estimate` solved again, its estimates raised to the error
    that the method makes on the modes of the problem linearised at the start (J of
    :func:`_coupled_jacobian`) as it builds up over the steps, and failed from the first point
    where that error exceeds UNRESOLVED (half) times the solution's size so far.

    On y' = lambda y a step multiplies y by R(h lambda), the tableau's stability function, for
    e^(h lambda): at t_n a mode of amplitude a is off by a q_n, q_n = prod R(h_j lambda) -
    e^(lambda (t_n - t0)).  A neutral oscillation (lambda = i w) keeps its size, so its
    damping 1 - |R(i h w)| and phase error arg R(i h w) - h w build up over the steps,
    linearly in their number: radau1 on 24 steps over [0, 2] with w = 10 and radau2 on 32 with
    w = 30 (y' = z, K = -w^2 y) were successes with errors of 1.01 and 0.99 and largest
    estimates of 0.25 and 0.31.  The companions of the estimate damp the oscillation alike,
    and the check sees the first steps only, where the error has not built up.

    The amplitudes are those that explain the check's difference (the answer less its finer
    solve, the answer's error) at the checked points j <= k: a least-squares fit of
    sum_lambda 2 Re(a v q_j) (v the eigenvector's y-part; a real mode once), exact for
    y'' = -w^2 y, where the error at t_n is then bounded by sum_lambda 2 |a v| |q_n| (the
    envelope); an amplitude is taken as at most the solution's size so far.  A forced
    oscillation whose free mode the start does not excite (y' = z + cos t, K = -w^2 (y -
    sin s), y = sin t) has a difference near the method's local error, and keeps an estimate
    near it; a stiff mode that a method which is not L-stable keeps (a Gauss method's
    R(-inf) = +-1) carries the error measured at the check on, without growth.  Eigenvalues
    of J up to 2d = 128, as :func:`_coupled_scale`; nothing where the check did not run.
    """
    t = sol.mesh
    diff = getattr(sol, "_first_steps_difference", None)
    if diff is None or J is None or J.shape[0] > 128 or len(t) < len(diff) + 2:
        return sol
    k = len(diff)
    Y, est = sol._y2, sol._est2
    d = Y.shape[1]
    size = np.maximum.accumulate(np.max(np.abs(Y), axis=1))
    lam, V = np.linalg.eig(J)
    V = V[:d]
    modes = np.flatnonzero((lam.imag >= 0.0) & np.any(V != 0.0, axis=0))  # (conjugates alike)
    q = _mode_errors(t, lam[modes], tableau)
    columns = []
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for row, i in enumerate(modes):
            u = q[row, 1:k + 1, None] * V[None, :, i]        # (k, d)
            columns += [2.0 * u.real, -2.0 * u.imag] if lam[i].imag > 0.0 else [u.real]
        M = np.stack([c.ravel() for c in columns], axis=1)
        fit = np.isfinite(M).all() and np.isfinite(diff).all()
        coef = np.linalg.lstsq(M, diff.ravel(), rcond=1e-8)[0] if fit else \
            np.full(M.shape[1], np.inf)
        pred = np.zeros((len(t), d))
        which = np.zeros(len(t), dtype=int)
        largest = np.zeros(len(t))
        at = 0
        for row, i in enumerate(modes):
            pair = lam[i].imag > 0.0
            a = abs(complex(coef[at], coef[at + 1])) if pair else abs(coef[at])
            at += 2 if pair else 1
            amplitude = np.minimum((2.0 if pair else 1.0) * a * np.abs(V[:, i])[None, :],
                                   size[:, None])
            error = amplitude * np.abs(q[row])[:, None]
            error[np.isnan(error)] = 0.0           # (0 times inf: a mode not there)
            mode = np.max(error, axis=1)
            which[mode > largest] = i
            largest = np.maximum(largest, mode)
            pred += error
    # (below ESTIMATE_FLOOR times the size, the prediction is its own rounding: N steps of
    # log R - h lambda, each off by ~eps)
    pred[pred <= ESTIMATE_FLOOR * size[:, None]] = 0.0
    with np.errstate(invalid="ignore"):
        if not np.any(pred > est):
            return sol
        over = np.max(pred, axis=1) > UNRESOLVED * size
    if np.any(over):
        j = int(np.argmax(over))
        before = np.max(est[j])
        est[1:j] = np.maximum(est[1:j], pred[1:j])
        z = complex(lam[which[j]] * (t[j] - t[j - 1]))
        r = complex(tableau.stability(z))
        return _unreliable_from(
            sol, j, f"the method's damping and phase error of the mode lambda = "
            f"{complex(lam[which[j]]):.3g} of the problem linearised at the start (a step of "
            f"h lambda = {z:.3g} multiplies it by R(h lambda) = {r:.3g}, e^(h lambda) = "
            f"{complex(np.exp(z)):.3g}), built up over {j} steps from the error that a solve "
            f"of the first steps with shorter steps measures, is "
            f"{float(np.max(pred[j])):.3g} there, against a solution of size "
            f"{float(size[j]):.3g} so far, although the error estimate (which compares "
            f"coarser meshes, damped alike) was {float(before):.3g}", False)
    np.maximum(est, pred, out=est)                 # (in place: also error_estimate_mesh)
    sol.stats["max_error_estimate"] = largest_estimate(est)
    sol.message += (f"  The error estimates were raised, to at most "
                    f"{float(np.max(pred)):.3g}, to the error that the method's stability "
                    f"function R(h lambda) predicts for the modes lambda of the problem "
                    f"linearised at the start, built up over the steps from the error measured "
                    f"at the first ones.")
    return sol


def _partial_steps(run, t, Y, Ys):
    """The dense output ``dense(points) -> (P, d)``: a partial step of the method from the mesh
    point before each point, on the solve's history (mesh values ``Y``, stages ``Ys``), so the
    values between mesh points have the mesh values' order (interpolating the mesh values lost
    30-250 times their accuracy)."""
    N, d = len(t) - 1, Y.shape[1]
    m = Ys.shape[0] // N

    def dense(points):
        points = np.asarray(points, dtype=float)
        idx = np.clip(np.searchsorted(t, points, side="right") - 1, 0, N)
        out = Y[idx].copy()
        for i in np.flatnonzero((idx < N) & (points > t[idx])):
            n = idx[i]
            Yp, Ysp = np.zeros((n + 2, d)), np.zeros(((n + 1) * m, d))
            Yp[:n + 1], Ysp[:n * m] = Y[:n + 1], Ys[:n * m]
            r = run(np.append(t[:n + 1], points[i]), Yp, Ysp, n)
            out[i] = Yp[n + 1] if r.status == SUCCESS else np.nan
        return out

    return dense


# -- methods ---------------------------------------------------------------------------------------

class VIDEMethod:
    """A Volterra Runge–Kutta method for VIDEs: a tableau with its ``order`` at the mesh points."""

    uniform_only = False
    min_steps = 1

    def __init__(self, name, tableau: ButcherTableau, order, description):
        self.name = name
        self.tableau = tableau
        self.order = order
        self.implicit = not tableau.explicit
        self.description = description
        self._data = tuple(np.array(a, dtype=float, order="C") for a in (tableau.c, tableau.A, tableau.b))

    def __repr__(self):
        return f"VIDEMethod({self.name!r}, order={self.order})"


def _build_methods():
    methods = {"rk4": VIDEMethod("rk4", classical_rk4(), 4,
                                 "explicit: the classical RK4 tableau for y' and the memory term")}
    for m in range(1, 5):
        methods[f"gauss{m}"] = VIDEMethod(f"gauss{m}", collocation_tableau("gauss", m), 2 * m,
                                          f"collocation at {m} Gauss points (order {2 * m} at the mesh)")
        methods[f"radau{m}"] = VIDEMethod(f"radau{m}", collocation_tableau("radau", m), 2 * m - 1,
                                          f"collocation at {m} Radau IIA points (order {2 * m - 1} at "
                                          f"the mesh)")
    return methods


class _Registry(dict):
    def __missing__(self, key):
        raise KeyError(f"unknown VIDE method {key!r}; known methods: {', '.join(self)}")


#: VIDE methods by name; ``VIDE_METHODS[name].order`` is the order at the mesh points.
VIDE_METHODS = _Registry(_build_methods())


# -- the front function ----------------------------------------------------------------------------

_ZERO_KERNELS = {}


def _zero_kernel(dim, scalar):
    key = (dim, scalar)
    if key not in _ZERO_KERNELS:
        p = _placeholders()
        kernel = Kernel(function=p["kernel"], dim=dim, scalar=scalar, block_sum=p["block"],
                        jacobian_source="not needed", structure={"kind": "zero"}, name="0")
        # (it names none of t, s, y: the sweeps of the blind ends (:func:`solve_vide`'s
        # blind_ends, ._adaptive.kernel_differences) take no evaluation of it)
        for index in range(3):
            kernel._shared[("names", index)] = False
        _ZERO_KERNELS[key] = kernel
    return _ZERO_KERNELS[key]


def solve_vide(f, K, y0, t_span=None, n_steps=None, method=None, *, args=None, mesh=None,
               rtol=None, atol=None, t_eval=None, error_estimate=True, jacobian=None,
               kernel_jacobian=None, newton_tol=1e-12, newton_maxiter=50, raise_on_failure=False):
    r"""Solve a Volterra integro-differential equation.

    .. math::

        y'(t) = f\Bigl(t, y(t), \int_{t_0}^{t} K(t, s, y(s))\, ds\Bigr), \qquad y(t_0) = y_0 .

    Parameters
    ----------
    f : callable
        ``f(t, y, z, *args)`` with z the memory term: floats for scalar y, arrays of shape
        (d,) in and out for y of shape (d,).  Compiled with Numba (see
        :func:`solve_volterra` for what is compiled and cached).
    K : callable, Kernel or None
        ``K(t, s, y, *args)``, returning the shape of y (a float, or (d,)); a two-argument
        ``K(t, s, *args)`` is the coefficient of the linear memory int K(t, s) y(s) ds (a
        float, or a (d, d) array); ``None`` for no memory (then the equation is the
        ODE y' = f(t, y, 0)).
    y0 : float or array_like (d,)
        The initial value (fixes the shape of y).
    t_span : (float, float)
        The interval (t0, T), t0 < T.
    n_steps : int, optional
        Number of uniform steps N.  Omit it to solve to a tolerance.
    method : str or None, optional
        A name in :data:`VIDE_METHODS`: "gauss1" ... "gauss4" (order 2m),
        "radau1" ... "radau4" (order 2m - 1), "rk4" (explicit, order 4).  The default,
        ``None``, chooses as :func:`solve_volterra` does: "gauss2" with ``n_steps`` or
        ``mesh``, and with a tolerance "radau3" (rtol >= 1e-7) or "radau4" (L-stable
        collocation of orders 5 and 7).  ``sol.method`` is the method used.
    args : tuple, optional
        Extra arguments of f, K and the Jacobians (floats, ints, bools, float arrays),
        passed at run time: a sweep over their values compiles once.
    mesh : array_like, optional
        A strictly increasing mesh instead of ``t_span``/``n_steps``.
    rtol, atol : float or array_like (d,), optional
        Solve to a tolerance instead of on ``n_steps``: the uniform mesh is refined (with
        Richardson estimates) until the estimated error of every mesh value meets
        ``atol + rtol * |y|`` (an array: one value per component of y).
    t_eval : array_like, optional
        Times within ``t_span`` at which to return the solution (``sol.t``, ``sol.y``), from
        the dense output (see :func:`solve_volterra`).
    error_estimate : bool
        Estimate the error with a companion solve and check the solution has correct
        digits (see :func:`solve_volterra`).
    jacobian : callable, optional
        ``jacobian(t, y, z, *args) -> (df/dy, df/dz)`` (floats, or (d, d) arrays) for the
        Newton iterations; without it forward differences.
    kernel_jacobian : callable, optional
        dK/dy(t, s, y); without it forward differences (or the SymPy Jacobian of a
        :func:`~integrallimits.kernels.from_sympy` kernel).
    newton_tol : float
        Newton stops when the update is below ``newton_tol * max(s, |Y|)``, s the size of
        ``y0`` where it is below 1, else 1.  Between 0 and 1.
    newton_maxiter : int
        Iteration cap per step.
    raise_on_failure : bool
        Raise :class:`SolverError` instead of returning a failed solution.

    Returns
    -------
    Solution
        ``t``, ``y`` ((N+1,) or (N+1, d)), ``error_estimate``, dense output ``sol(t)`` (a
        partial step of the method from the mesh point before t: the mesh values' order),
        ``status`` (0 success, -1 failure), ``success``, ``message`` and ``stats``
        (``nfev``/``njev``: kernel evaluations and
        Jacobians, also of the error estimate's solves; ``f_evaluations``,
        ``f_jacobian_evaluations``: those of the solve on the mesh of the answer,
        ``newton_iterations``, ``newton_solves``, ``jacobian`` and
        ``kernel_jacobian``: their sources).

    Examples
    --------
    y' = -y + int_0^t e^{-(t - s)} y(s) ds, y(0) = 1 has the solution (1 + e^{-2t}) / 2:

    >>> import numpy as np
    >>> from integrallimits.volterra._vide import solve_vide
    >>> sol = solve_vide(lambda t, y, z: -y + z, lambda t, s, y: np.exp(s - t) * y, 1.0,
    ...                  (0.0, 1.0), 16, method="gauss3")
    >>> sol.success, bool(abs(sol.y[-1] - (1 + np.exp(-2.0)) / 2) < 1e-10)
    (True, True)
    >>> sol.stats["jacobian"], bool(sol.stats["max_error_estimate"] < 1e-10)
    ('finite-difference', True)

    To a tolerance, with the method chosen for it (the default, ``method=None``):

    >>> sol = solve_vide(lambda t, y, z: -y + z, lambda t, s, y: np.exp(s - t) * y, 1.0,
    ...                  (0.0, 1.0), rtol=1e-8, atol=1e-8)
    >>> sol.success, sol.method, bool(abs(sol.y[-1] - (1 + np.exp(-2.0)) / 2) < 1e-7)
    (True, 'radau4', True)
    """
    tolerance = check_tolerances(rtol, atol, n_steps, mesh, "solve_vide")
    if method is None:      # (as solve_volterra: its default on a given mesh, else by tolerance)
        method = "gauss2" if tolerance is None else tolerance_method(tolerance[0])
    meth = resolve_method(method, VIDE_METHODS, VIDEMethod)

    t, t0, T, n = check_mesh(t_span, n_steps if tolerance is None else 8, mesh,
                             "solve_vide")   # (a uniform t is made once the work fits)
    check_t_eval(t_eval, (t0, T))
    check_newton_options(newton_tol, newton_maxiter)
    check_flags(error_estimate=error_estimate, raise_on_failure=raise_on_failure)

    refuse_masked(y0, "y0")
    try:
        # (a text "1.0" was read as 1.0, True as 1.0 and None as nan, refused as not finite)
        if y0 is None or not_a_number(y0):
            raise TypeError
        # a copy: a read-only y0 (np.frombuffer, a view of a read-only array) raised Numba's
        # "No matching definition for argument type(s)" from the compiled loop
        y_init = np.array(y0, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"y0 must be a float or a 1-d array of floats, got {y0!r:.80}") from None
    if y_init.ndim > 1 or y_init.size == 0:
        raise ValueError(f"y0 must be a float or an array of shape (d,), d >= 1, got shape "
                         f"{y_init.shape}")
    if not np.all(np.isfinite(y_init)):
        raise ValueError(f"y0 must be finite, got {y_init.tolist()}")
    scalar = y_init.ndim == 0
    d = 1 if scalar else y_init.shape[0]
    tolerance = fit_tolerances(tolerance, y_init, "solve_vide")
    spec, theta = _user.pack_args(args)
    args = tuple(args or ())
    f_fn, f_jac, f_check = _as_rhs(f, y_init, t0, jacobian, spec, args)
    memory = K is not None
    if memory and callable(K) and not isinstance(K, Kernel) and positional_arity(K) == 2 + len(args):
        if kernel_jacobian is not None:
            raise ValueError("kernel_jacobian is not used with a two-argument (linear) kernel K(t, s): "
                             "its Jacobian is K itself")
        kernel = as_linear_kernel(K, y_init, t0, args=args)
    elif memory:
        if is_weakly_singular(K):
            raise ValueError("solve_vide does not support weakly singular kernels "
                             "(weakly_singular(...)); only solve_volterra does, with collocation")
        kernel = as_kernel(K, y_init, t0, jacobian=kernel_jacobian, args=args)
    else:
        if kernel_jacobian is not None:
            raise ValueError("kernel_jacobian given without a kernel (K is None)")
        kernel = _zero_kernel(d, scalar)
    theta = kernel.params if kernel.arg_spec is not None else theta
    p = _placeholders()
    have_fjac = f_jac is not None
    have_kjac = kernel.jacobian_function is not None
    c, A, b = meth._data
    m = c.shape[0]
    check_size(n, d, m, memory, "solve_vide")
    if t is None:
        t = uniform_mesh(t0, T, n)
    y_start = np.ascontiguousarray(y_init.reshape(d))

    # the compiled functions by their addresses, resolved once (not in every loop call)
    f_address = FunctionAddress(f_fn, F_SIGNATURE)
    fj_address = FunctionAddress(f_jac if have_fjac else p["f_jac"], F_JACOBIAN_SIGNATURE)
    k_address, kj_address, kb_address = kernel.addresses
    if not have_kjac:
        kj_address = _loops.no_jacobian()

    # the memory z at the stages of the latest solves, by their meshes (for rough_data: a
    # solve on a mesh is the same solve whenever it is made)
    memories = {}

    def run(mesh, Y=None, Ys=None, start=0):
        N = len(mesh) - 1
        Y = np.zeros((N + 1, d)) if Y is None else Y
        Ys = np.zeros((N * m, d)) if Ys is None else Ys
        Zo = np.zeros((N * m, d))
        counts = _loops.new_counts(6)
        (status, index), record = run_guarded(lambda: _compiled_loop(bool(meth.tableau.explicit))(
            f_address.address, fj_address.address, have_fjac, k_address.address,
            kj_address.address, have_kjac, kb_address.address, theta, memory, mesh, y_start, c,
            A, b, float(newton_tol), int(newton_maxiter), Y, Ys, Zo, counts, start),
            args, estimated_work(N - start, m, d, memory))
        if status == SUCCESS and not start:
            memories[mesh.tobytes()] = Zo
            while len(memories) > MEMORIES:
                del memories[next(iter(memories))]
        return Run(Y, status, index, N + 1 if status == SUCCESS else index, counts, Ys, record)

    def memory_of(mesh):
        """z at the stages of the solve on ``mesh`` and the kernel evaluations it took: solved
        again if it is no longer known; zeros without memory."""
        n = (len(mesh) - 1) * m
        if not memory:
            return np.zeros((n, d)), 0
        mesh = np.ascontiguousarray(mesh, dtype=float)
        known = memories.get(mesh.tobytes())
        if known is not None:
            return known, 0
        again = run(mesh)
        if again.status != SUCCESS:    # (values the loop cannot reproduce: the sweep without z)
            return np.zeros((n, d)), int(again.counts[NFEV])
        return memories[mesh.tobytes()], int(again.counts[NFEV])

    implicit = meth.implicit

    def stats(counts):
        return {"nfev": int(counts[NFEV]), "njev": int(counts[NJEV]),
                "f_evaluations": int(counts[FEV]), "f_jacobian_evaluations": int(counts[FJEV]),
                "newton_iterations": int(counts[NIT]), "newton_solves": int(counts[NSOLVE]),
                "jacobian": ("user" if have_fjac else "finite-difference") if implicit
                else "not needed",
                "kernel_jacobian": (kernel.jacobian_source if memory and implicit else "not needed"),
                "compiled": True}

    def rate(tt, y):        # f(t, y, 0) for the resolution probe (NaN where f failed)
        out = np.empty(d)
        _user.clear_failures()
        f_fn(float(tt), np.ascontiguousarray(y, dtype=float), np.zeros(d), theta, out)
        _user.take_failure()
        return out

    start = []     # the Jacobian of the problem linearised at the start, made once

    def linearised(t, Y):
        """(J of :func:`_coupled_jacobian` at the start (t[0], Y[0]) of a solve, the kernel
        evaluations made for it by this call)."""
        if start:
            return start[0], 0
        start.append(_coupled_jacobian(float(t[0]), Y[0], f_fn, theta,
                                       kernel if memory else None))
        return start[0], d + 1 if memory else 0

    def later(t, y, y0):
        """(J of :func:`_coupled_jacobian` at (t, y), the kernel evaluations made for it): the
        rounding floor's probe of the coupling later on (``_outcome.with_rounding_floor``)."""
        return (_coupled_jacobian(t, y, f_fn, theta, kernel if memory else None),
                d + 1 if memory else 0)

    if memory:
        def memory_row(at, times, values, y0):
            """The memory's row as a second-kind equation's (:func:`_memory_rows`)."""
            return _memory_rows(at, times, values, f_fn, theta, kernel)
        later.memory = memory_row

    def suspect(sol, rtol, atol):
        """short_time_scale's probes, then the memory's coupling (:func:`_coupled_scale`)."""
        if short_time_scale(sol, rtol, atol, kernel if memory else None, rate):
            return True
        if not memory:
            return False
        J, evaluations = linearised(sol.mesh, sol._y2)
        sol.stats["nfev"] += evaluations
        return _coupled_scale(sol, J, meth.tableau)

    bounds = {}     # the bounds of the last (mesh, Y) that rough_data swept (see below)

    def rough_data(mesh, Y, claims, blind=False, quiet=False):
        """(defects, kernel evaluations): the steps where K (:func:`._adaptive.kernel_defects`)
        or f (:func:`_rough_f`) is not smooth, with a bound of what their quadrature misses,
        where it exceeds ``claims`` (at the step's end).  (Differences of order at least
        ROUGH_ORDER + 1: a jump's stay the jump's size at any order, a smooth datum's fall
        like h^(order); of order 2, radau1's, K = -100 (y - sin s) on 24 steps of [0, 2]
        bounded a miss 55 times the estimate, 18 times the error.)  The bounds of the last
        (mesh, Y) are kept: the tolerance path checks its answer's mesh again against its
        estimates (:func:`_with_rough_data`) without sweeping it again.  With ``blind``, the
        bounds that the companions may not see (:func:`_blind_steps`); with ``quiet``, where
        a bound exceeds its claim, the bounds without f's pieces at the rounding level taken
        for aliased (:func:`_differences_rounding`)."""
        key = (np.ascontiguousarray(mesh, dtype=float).tobytes(),
               np.ascontiguousarray(Y, dtype=float).tobytes())
        if key in bounds:
            (delta, unseen, parts), evaluations = bounds[key], 0
        else:
            delta, unseen, parts, evaluations = step_bounds(mesh, Y)
            bounds.clear()
            bounds[key] = delta, unseen, parts
        if blind:
            delta = unseen
        elif quiet and np.any(delta > claims):
            J, calls = linearised(mesh, Y)
            on, off, Z, missed = parts
            floor = _differences_rounding(mesh, Y, Z, J, max(meth.order, ROUGH_ORDER))
            delta = np.maximum(_aliased_steps(on, off, floor), missed)
            evaluations += calls
        return [(j, delta[j]) for j in np.nonzero(np.any(delta > claims, axis=1))[0]], \
            evaluations

    def step_bounds(mesh, Y):
        """(the (N, d) bounds of :func:`rough_data`, their part that the companions may not
        see (:func:`_blind_steps`), their parts (f's differences across the steps and across
        their pieces, the memory at the stages, K's bounds), kernel evaluations)"""
        order = max(meth.order, ROUGH_ORDER)
        Z, evaluations = memory_of(mesh)
        delta = _rough_f(f_address, theta, mesh, Y, Z, c, order)
        off = np.maximum(*(_rough_f(f_address, theta, mesh, Y, Z, c, order, span)
                           for span in ALIAS_SPANS))
        unseen = _blind_steps(delta, off)
        parts = [delta, off, Z, np.zeros_like(delta)]
        delta = _aliased_steps(delta, off)
        if memory:
            missed, calls = kernel_defects(kernel, mesh, Y, order, ends=_sampled_ends(c))
            evaluations += calls
            off = np.zeros_like(missed)
            for span in ALIAS_SPANS:
                more, calls = kernel_defects(kernel, mesh, Y, order, span)
                np.maximum(off, more, out=off)
                evaluations += calls
            parts[3] = _aliased_steps(missed, off)
            delta = np.maximum(delta, parts[3])
            unseen = np.maximum(unseen, _blind_steps(missed, off))
        return delta, unseen, parts, evaluations

    def blind_ends(solve, mesh, Y, est, steps, divided, Yd):
        """(evaluations, raised, error): ``est`` raised in place where a jump or kink of f or
        K lies in a blind end of the ``steps`` of the solve ``Y`` on ``mesh`` and of its solve
        on the ``divided`` mesh (values ``Yd``; ``solve`` as the companions take ``run``), by
        :func:`._adaptive.resolved_ends` (f's values on the solve's path:
        :func:`_f_on_path`); ``error``: what f or K raised at a new point (then unchecked)."""
        Z, evaluations = memory_of(mesh)
        try:
            calls, raised = resolved_ends(solve, _f_on_path(f_fn, theta, mesh, Y, Z, c),
                                          kernel, mesh, Y, est, steps, divided, Yd, c,
                                          max(meth.order, ROUGH_ORDER))
        except Exception as exc:   # (only the user's: _user.raised_by_user)
            if not _user.raised_by_user(exc):
                raise
            return evaluations, False, exc
        return evaluations + calls, raised, None

    if tolerance is None:
        sol = solve_on_mesh(run, t, method=meth, scalar=scalar, stats=stats,
                            error_estimate=error_estimate, uniform=mesh is None,
                            work=estimated_work(len(t) - 1, m, d, memory))
        if error_estimate:
            sol = with_checked_estimate(sol, run, uniform_only=meth.uniform_only,
                                        min_steps=meth.min_steps, suspect=suspect)
            # the error that the method's damping and phase error of an oscillation build up
            # over the steps, from the error that the check above measured at the first ones
            if getattr(sol, "_first_steps_difference", None) is not None:
                J, evaluations = linearised(sol.mesh, sol._y2)
                sol.stats["nfev"] += evaluations
                sol = _with_linearised_error(sol, J, meth.tableau)
            if sol.success:
                # (the data's bounds against the half-steps estimates first: the odd points'
                # companion raises the estimates without covering a jump inside a step)
                sol = _with_rough_data(sol, rough_data)
                sol = _with_checked_odd_points(
                    sol, lambda mesh, Y, claims: rough_data(mesh, Y, claims, quiet=True),
                    companion(run), meth.order, meth.min_steps,
                    _four_steps_bar(c, b, max(meth.order, ROUGH_ORDER)))
            if sol.success:
                sol = _with_carried_misses(sol, rough_data, companion(run), meth.order,
                                           blind_ends)
            # (a small mesh whose levels converge slower than the order p: the bisected solve)
            sol = with_settled_levels(sol, run, meth.order)
            sol = with_rounding_floor(sol, later)
            # an answer whose own estimate says it has no digit is no success, as for the
            # second kind (y' = y^2 on [0, 0.875], radau2 on 4 steps was a success with an
            # estimate of 1.9 against a size of 2.6 at the point)
            sol = with_confirmed_digits(sol)
    else:
        n_max = 2 ** 15 if memory else 2 ** 20

        def solve_from(n_first):
            """The solve to the tolerance from ``n_first`` steps on, checked (see below)."""
            sol = with_resolved_start(
                lambda finer: solve_uniform_to_tolerance(
                    run, t[0], t[-1], method=meth, scalar=scalar, stats=stats,
                    rtol=tolerance[0], atol=tolerance[1], n_max=n_max,
                    n_start=max(finer or 8, n_first), step_defect=rough_data),
                run, tolerance[0], tolerance[1], uniform_only=meth.uniform_only,
                min_steps=meth.min_steps, adaptive=False, n_max=n_max, suspect=suspect,
                by_ratio=True)
            if not sol.success:
                return sol
            # the refinement raises an attempt's estimates to the data's bounds only where
            # they exceed the tolerance; the answer's must also bound its error where the
            # bounds exceed the estimates (the fixed meshes' bar): the solve and its companion
            # on 2^k steps of data oscillating a whole number of times a step sample one phase
            # alike (y' = cos(w t) (1 + z), z = int cos(w s) y, w = 2 pi 8, gauss2 at rtol
            # 1e-3: 32 steps, an error of 3.1e-5 for an estimate of 1.5e-17); where they do,
            # the odd points' companion first (the bounds of data not resolved at the order
            # p + 1 are loose: 8.4e-4 for an error of 9.2e-8)
            return _with_odd_points(sol, rough_data, companion(run), meth.order,
                                    meth.min_steps)

        # the error of a feature's steps, carried on alike by the solve and its companion
        # (:func:`_with_carried_misses`): a raised estimate over the tolerance refines
        sol = _carried_to_tolerance(solve_from, rough_data, companion(run), meth.order,
                                    tolerance, n_max, blind_ends)
        # (a Richardson difference at the rounding level is no estimate of it, as on a mesh)
        sol = rounded_to_tolerance(sol, tolerance, later)
    # f and K compiled against Python over the interval solved (once per function and
    # interval): f at stages, with the memory there when this solve's mesh left it
    if len(sol.mesh):
        f_check(sol.mesh, sol.y_mesh, args, sol.stages, memories, c)
    if memory:
        said = _user.check_over_span(kernel, sol.mesh, sol.y_mesh)
        if said:
            sol.message += f"  {said}"
    memories.clear()      # (the dense output keeps ``run``: not the checks' arrays)
    if sol.stages is not None and len(sol.mesh) > 1:
        sol.attach(dense=_partial_steps(run, sol.mesh, sol._y2, sol.stages))
    sol.attach(t_eval=t_eval)
    if raise_on_failure and not sol.success:
        raise SolverError(sol.message)
    return sol
