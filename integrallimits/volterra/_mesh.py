"""Validation shared by the front functions: the method, the mesh and the Newton options."""
from __future__ import annotations

import functools
import math
import numbers
import reprlib

import numpy as np

from .._inputs import not_a_number, refuse_masked
from .._memory import SMALL, check_memory, format_bytes

__all__ = ["resolve_method", "make_mesh", "check_mesh", "uniform_mesh", "check_t_eval",
           "is_uniform", "check_newton_options", "check_newton_tol", "check_flags",
           "check_resolved", "check_size", "estimated_work", "MAX_STEPS"]


def resolve_method(method, registry, cls, purpose=""):
    """The method object: an instance of ``cls`` as it is, or a name in ``registry``
    (``purpose`` completes the error message, e.g. " for a first-kind equation")."""
    if isinstance(method, cls):
        return method
    if isinstance(method, str):
        if method not in registry:
            raise ValueError(f"method must be one of {', '.join(registry)}{purpose}; got {method!r}")
        return registry[method]
    raise TypeError(f"method must be a method name (str), got {type(method).__name__}")


def _check_t_span(t_span):
    try:
        t0, T = map(float, t_span)
        if not_a_number(t_span):     # (float() read ("0", "1") and (False, True) as times)
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"t_span must be a pair (t0, T) of floats, got {t_span!r}") from None
    if not (math.isfinite(t0) and math.isfinite(T)):
        raise ValueError(f"t_span must be finite, got {t_span!r}")
    if not T > t0:
        raise ValueError(f"t_span must satisfy t0 < T (a non-empty, forward interval), got {t_span!r}")
    return t0, T


def make_mesh(t_span, n_steps, mesh, caller):
    """The mesh from (t_span, n_steps) (uniform) or from ``mesh`` (validated), as a C array."""
    t, t0, T, n_steps = check_mesh(t_span, n_steps, mesh, caller)
    return t if t is not None else uniform_mesh(t0, T, n_steps)


def check_mesh(t_span, n_steps, mesh, caller):
    """Validate the mesh arguments without making a uniform mesh: ``(t, t0, T, n_steps)``, with
    ``t`` the validated copy of ``mesh`` when it is given, else None (:func:`uniform_mesh` makes
    it once the solve is known to fit: 1e8 steps spent 2-9 s writing 800 MB of mesh before the
    work check refused them)."""
    if mesh is not None:
        if t_span is not None or n_steps is not None:
            raise ValueError("give either mesh or (t_span, n_steps), not both")
        # a copy: the solution keeps it as sol.t (the caller's array, edited later, moved the
        # solution's mesh under its values), and the compiled loops take a writable array
        t = _real_times(mesh, "mesh", "a 1-d array of at least 2 points")
        if t.ndim != 1 or t.shape[0] < 2:
            raise ValueError(f"mesh must be a 1-d array of at least 2 points, got shape {t.shape}")
        if not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
            raise ValueError("mesh must be finite and strictly increasing")
        check_resolved(t, "mesh")
        return t, t[0], t[-1], t.shape[0] - 1
    if t_span is None or n_steps is None:
        # (the solvers with a tolerance pass n_steps when one is given: neither was)
        either = (" with n_steps, or with a tolerance (rtol=..., atol=...: the solver chooses "
                  "the mesh)" if caller in ("solve_volterra", "solve_vide", "solve_first_kind")
                  else " and n_steps")
        raise TypeError(f"{caller} needs t_span{either}, or a mesh")
    t0, T = _check_t_span(t_span)
    if type(n_steps) is not int and (isinstance(n_steps, bool) or
                                     not isinstance(n_steps, numbers.Integral)):
        raise TypeError(f"n_steps must be an integer, got {n_steps!r}")
    if n_steps < 1:
        raise ValueError(f"n_steps must be >= 1, got {n_steps}")
    if n_steps > MAX_STEPS:
        raise ValueError(f"n_steps = {n_steps} is too large: a mesh of that many points needs "
                         f"{format_bytes(8 * (n_steps + 1))} for t alone (at most {MAX_STEPS} steps)")
    check_size(n_steps, 1, 1, False, caller)   # the memory of the mesh and one solution, first
    if not math.isfinite(T - t0):
        raise ValueError(f"t_span {t_span!r}: T - t0 overflows")
    # t0 as the mesh has it: a float64, 0.0 for -0.0 (t0 + 0 (T - t0) / N)
    return None, np.float64(t0) + 0.0, np.float64(T), int(n_steps)


def uniform_mesh(t0, T, n_steps):
    """The uniform mesh of ``n_steps`` steps on [t0, T] (arguments from :func:`check_mesh`)."""
    t0, T = float(t0), float(T)
    if n_steps <= _REMEMBERED_STEPS:
        t = _uniform_mesh(t0, T, n_steps).copy()     # (the remembered ones are shared)
    else:   # built for this call alone: no copy (1e8 steps: a second 800 MB array not made)
        t = _uniform_mesh.__wrapped__(t0, T, n_steps)
        t.flags.writeable = True
    t[-1] = T      # (the cache takes -0.0 for 0.0)
    return t


#: Uniform meshes of up to this many steps are made once (a few NumPy calls, ~3 us) and copied.
_REMEMBERED_STEPS = 2 ** 16


@functools.lru_cache(maxsize=16)
def _uniform_mesh(t0, T, n_steps):
    t = np.arange(n_steps + 1.0)
    t /= n_steps
    t *= T - t0
    t += t0        # t0 + (T - t0) * (n / N), in place
    t[-1] = T
    if (T - t0) / n_steps <= 2.0 ** 22 * math.ulp(max(abs(t0), abs(T))):
        check_resolved(t, "t_span")   # near the limit: check every step (else all pass by far)
    t.flags.writeable = False        # (the remembered ones are shared: copies are handed out)
    return t


def _real_times(value, name, what):
    """``value`` as a new C-ordered float array; ValueError naming ``name`` (``what`` it must
    be) for entries that are not real numbers: NumPy's own errors did not name the argument,
    and a cast of complex values kept their real parts with only a ``ComplexWarning``; a
    masked array is refused (:func:`refuse_masked`)."""
    refuse_masked(value, name)
    try:
        # (a text "0.5" was read as 0.5 and a bool True as 1.0)
        if np.iscomplexobj(np.asarray(value)) or not_a_number(value):
            raise TypeError
        return np.array(value, dtype=float, order="C")
    except (TypeError, ValueError):
        kind = "complex values" if isinstance(value, np.ndarray) and \
            np.iscomplexobj(value) else reprlib.repr(value)
        raise ValueError(f"{name} must be {what} (real numbers), got {kind}") from None


#: Bytes a time of t_eval takes in a solve (scalar y; measured: 1.07 GB for 2e7 times).
_T_EVAL_BYTES = 56


def check_t_eval(t_eval, t):
    """Refuse a ``t_eval`` that is not a 1-d array of finite times within the mesh ``t``'s
    interval (as :func:`scipy.integrate.solve_ivp` does): a time outside it has no value to
    give, and dropping it would return fewer values than asked for."""
    if t_eval is None:
        return
    # (before its copy: a t_eval of 1e9 times, np.broadcast_to(0.5, (10**9,)), took some 53
    # bytes a time in copies, the dense output's work and the result, and the process was
    # killed for want of memory; 2e7 times took 1.07 GB)
    size = t_eval.size if isinstance(t_eval, np.ndarray) else None
    if size is not None and size * _T_EVAL_BYTES > SMALL:
        check_memory(float(size) * _T_EVAL_BYTES, f"t_eval with {size} times")
    times = _real_times(t_eval, "t_eval", "a 1-d array of times")
    if times.ndim > 1:
        raise ValueError(f"t_eval must be a 1-d array of times, got shape {times.shape}")
    if not np.all(np.isfinite(times)):
        raise ValueError("t_eval must be finite (it holds NaN or inf)")
    outside = times[(times < t[0]) | (times > t[-1])]
    if outside.size:
        # (in full: 1 + 2e-16 is no "1")
        raise ValueError(f"t_eval must lie within t_span [{float(t[0])!r}, {float(t[-1])!r}]; "
                         f"{outside.size} value(s) do not (e.g. {float(outside[0])!r})")


#: The largest number of steps any solver accepts (more cannot be stored on one machine).
MAX_STEPS = 2 ** 34
#: Kernel evaluations beyond which a solve is refused (about a day at 1e9 evaluations per second).
MAX_EVALUATIONS = 1e14


def check_resolved(t, what="mesh"):
    """Refuse meshes whose steps do not resolve in floating point (t0 far from 0 with tiny
    steps): every step must exceed 2^20 ulps of |t| at its ends, so that the steps are exact
    to about 1e-6 relative."""
    if not np.all(np.isfinite(t)):
        raise ValueError(f"{what}: the mesh is not finite (t0 + (T - t0) overflows?)")
    steps = np.diff(t)
    floor = 2.0 ** 20 * np.spacing(np.maximum(np.abs(t[:-1]), np.abs(t[1:])))
    bad = np.nonzero(~(steps > floor))[0]
    if bad.size:
        j = int(bad[0])
        raise ValueError(f"{what}: the steps do not resolve in floating point near t = {t[j]:.17g} "
                         f"(step {steps[j]:.3g} where |t| = {abs(t[j + 1]):.3g}; it must exceed "
                         f"{floor[j]:.3g}, 2^20 units in the last place). Shift the problem so that "
                         f"t0 = 0, or use fewer steps.")


@functools.lru_cache(maxsize=64)
def estimated_work(n_steps, stages, dim, quadratic):
    """About how many kernel evaluations (times d for vector kernels) a solve costs, or their
    equivalent in time: the N log^2 N operations of a fast (FFT) history count an eighth of an
    evaluation each (measured: 0.9-1.6 ns an operation from N = 2^12 to 2^16, against 10-12 ns
    an evaluation in O(N^2) history sums)."""
    N, m = float(n_steps), float(max(stages, 1))
    per = m * m * max(dim, 1)
    return 0.5 * N * N * per if quadratic else N * per * (1.0 + math.log2(max(N, 2.0)) ** 2) / 8.0


def check_size(n_steps, dim, stages, quadratic, what="solve"):
    """Refuse a solve whose memory or work cannot be met, before anything is allocated.

    Memory: the mesh values, the forcing and the stage values (and the same again for the
    error estimate's companion), against the physical memory; work: about N^2 m^2 / 2 kernel
    evaluations for O(N^2) histories (``quadratic``), against :data:`MAX_EVALUATIONS`.
    """
    N = int(n_steps)
    need = 8.0 * (N + 1) * (3 + dim * (3 + 2 * max(stages, 1))) * 1.5
    if need > SMALL:   # (below, check_memory asks for nothing: the message's f-string alone
        check_memory(need, f"{what} with n_steps = {N} and d = {dim}")   # cost ~0.3 us)
    work = estimated_work(N, stages, dim, quadratic)
    if work > MAX_EVALUATIONS:
        raise ValueError(f"{what} with n_steps = {N} needs about {work:.2g} kernel evaluations "
                         f"(O(N^2) history sums; days to years of computing); use fewer steps, a "
                         f"higher-order method, or a convolution kernel with the fast history")


def is_uniform(t):
    """True if the steps of t are equal up to the rounding of t_n = t_0 + n h (~ N eps |t|).

    A mesh of a few points (a solve's companions, each asking again) on Python floats: the same
    operations, NaN failing the test as NumPy's maximum propagates it (NumPy's diff, abs and
    max cost ~5 us)."""
    n = len(t) - 1
    if 1 <= n <= _FEW_STEPS:
        mesh = t.tolist()
        h = (mesh[-1] - mesh[0]) / n
        scale = max(abs(mesh[0]), abs(mesh[-1]))
        misses = [abs((b - a) - h) for a, b in zip(mesh, mesh[1:])]
        if any(map(math.isnan, misses)):
            return False
        return max(misses) <= _UNIFORM_ULPS * (scale + n * abs(h))
    h = (t[-1] - t[0]) / n
    scale = max(abs(t[0]), abs(t[-1]))
    # (np.diff's own subtraction; the maximum of NumPy's reduction, NaN propagating)
    misses = t[1:] - t[:-1]
    if misses.dtype == np.float64:
        # in place: each temporary more of N values cost more than its operation, the pages
        # the allocator got anew (0.2 ms of 0.4 at N = 2^16)
        misses -= h
        np.abs(misses, out=misses)
    else:
        misses = np.abs(misses - h)
    return bool(misses.max() <= _UNIFORM_ULPS * (scale + n * abs(h)))


#: :func:`is_uniform` on floats up to this many steps; its bound in units of eps |t|.
_FEW_STEPS = 24
_UNIFORM_ULPS = 8 * float(np.finfo(float).eps)


def check_flags(**flags):
    """Refuse a flag that is not True, False (a NumPy bool too) or None (its default): a
    string is truthy, so ``raise_on_failure="no"`` raised on a failure and
    ``error_estimate="False"`` estimated."""
    for name, value in flags.items():
        if value is not None and not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{name} must be True or False, got {value!r}")


def check_newton_tol(newton_tol):
    """``newton_tol`` as a float in (0, 1), else a ValueError: Newton stops at an update below
    ``newton_tol`` times the size of y, so 1 or more stops before any digit is right (at 0.5
    estimates fell 1.5-2.2 times short of the errors)."""
    if isinstance(newton_tol, bool) or not isinstance(newton_tol, numbers.Real) or \
            not 0 < newton_tol < 1:
        raise ValueError(f"newton_tol must be a float between 0 and 1 (relative to |y|), got "
                         f"{newton_tol!r}")
    return float(newton_tol)


def check_newton_options(newton_tol, newton_maxiter):
    if type(newton_tol) is float and 0 < newton_tol < 1 and type(newton_maxiter) is int and \
            1 <= newton_maxiter <= 10 ** 6:
        return   # the usual case, at once (a check against numbers.Real costs ~0.5 us)
    check_newton_tol(newton_tol)
    if isinstance(newton_maxiter, bool) or not isinstance(newton_maxiter, numbers.Integral) \
            or not 1 <= newton_maxiter <= 10 ** 6:
        raise ValueError(f"newton_maxiter must be an integer from 1 to 10**6, got {newton_maxiter!r}")
