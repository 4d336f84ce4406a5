"""Linear kernels given by their coefficient: K(t, s, y) = k(t, s) y.

Equations whose integrand is linear in y (first-kind Volterra equations, linear
Fredholm equations, the non-local feature operators (A u)(x) = int a(x, s) u(s) ds)
are naturally written with the two-argument coefficient ``k(t, s)``: a float, or
a d x d matrix for y in R^d (a float with vector y means ``k(t, s) * I``).
:func:`as_linear_kernel` compiles such a ``k`` into an ordinary
:class:`~._kernel.Kernel` whose ``function`` applies k(t, s) to y and whose
Jacobian is k(t, s) itself (``jacobian_source="analytic"``), so every solver
loop written for K(t, s, y) runs on it unchanged.
"""
from __future__ import annotations

import inspect
import threading
import weakref

import numba
import numpy as np

from . import _user
from ._kernel import (_FAST, JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, _check_value, _compile,
                      _njit_user)

#: ``coefficient(t, s, Y, j, theta, C) -> ok``: C[:, :] = k(t, s; theta) (a linear kernel's
#: compiled core, shared by its function and Jacobian)
COEFFICIENT_SIGNATURE = numba.types.boolean(*JACOBIAN_SIGNATURE.args)

__all__ = ["as_linear_kernel", "positional_arity"]

_CACHE = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def positional_arity(func):
    """The number of positional parameters of ``func`` (None if it takes ``*args`` or is opaque).

    Numba dispatchers are inspected through their Python function.

    Examples
    --------
    >>> positional_arity(lambda t, s: t * s), positional_arity(lambda t, s, y: y)
    (2, 3)
    """
    if isinstance(func, numba.core.registry.CPUDispatcher):
        func = func.py_func
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return None
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty:
            count += 1
    return count


def _wrap_linear(kj, mode, spec, gid):
    """(function, jacobian) for K(t, s, y) = k(t, s, *args) y; mode "scalar", "diagonal" or
    "matrix".  Outputs start as NaN (what an exception of k leaves behind); non-finite values
    and wrong shapes of k are recorded (see ``_user``).

    Both call one compiled ``coefficient`` (k(t, s) as a matrix, checked) instead of each
    inlining it: k, its argument unpacking and its checks are typed and compiled once per
    kernel, not twice (the two entry points are small; ~40% of a linear kernel's
    compilation)."""
    unpack = _user.unpacker(spec)
    report = _user.report
    square = mode == "matrix"

    if square:
        @numba.njit(inline="always", **_FAST)
        def fill(v, t, s, y, C):
            A = np.asarray(v)
            if A.ndim != 2 or A.shape[0] != C.shape[0] or A.shape[1] != C.shape[1]:
                report(gid, _user.BAD_SHAPE, t, s, y, A.size)
                return False
            for a in range(C.shape[0]):
                for b in range(C.shape[1]):
                    C[a, b] = A[a, b]
            return True
    else:
        @numba.njit(inline="always", **_FAST)
        def fill(v, t, s, y, C):
            C[0, 0] = v
            return True

    @numba.njit(inline="always", **_FAST)
    def call(t, s, params):
        return kj(t, s, *params)

    @_user.wrapper(COEFFICIENT_SIGNATURE)
    def coefficient(t, s, Y, j, theta, C):
        """C = k(t, s) as a (d, d) matrix (or its (1, 1) value); False if it raised or failed
        (recorded with the point Y[j]; the caller's outputs stay NaN)."""
        y = Y[j]
        try:
            # (the store inside: a None of one branch, an optional float, raises there)
            filled = fill(call(t, s, unpack(theta, 0)), t, s, y, C)
        except Exception:
            report(gid, _user.RAISED, t, s, y, -1)
            return False
        if not filled:
            return False
        for a in range(C.shape[0]):
            for b in range(C.shape[1]):
                if not np.isfinite(C[a, b]):
                    report(gid, _user.NOT_FINITE, t, s, y, -1)
                    return False
        return True

    @_user.wrapper(KERNEL_SIGNATURE)
    def function(t, s, Y, j, theta, out):
        d = out.shape[0]
        out[:] = np.nan
        C = np.empty((d, d)) if square else np.empty((1, 1))
        if not coefficient(t, s, Y, j, theta, C):
            return
        for a in range(d):
            if square:
                acc = 0.0
                for b in range(d):
                    acc += C[a, b] * Y[j, b]
                out[a] = acc
            else:
                out[a] = C[0, 0] * Y[j, a]

    @_user.wrapper(JACOBIAN_SIGNATURE)
    def jacobian(t, s, Y, j, theta, J):
        d = J.shape[0]
        J[:, :] = np.nan
        C = np.empty((d, d)) if square else np.empty((1, 1))
        if not coefficient(t, s, Y, j, theta, C):
            return
        for a in range(d):
            for b in range(d):
                J[a, b] = C[a, b] if square else (C[0, 0] if a == b else 0.0)
    return function, jacobian


def as_linear_kernel(k, y0, t0=0.0, args=None, *, probe_cached=True):
    """Compile the coefficient ``k(t, s)`` into the :class:`Kernel` of K(t, s, y) = k(t, s) y.

    Parameters
    ----------
    k : callable
        ``k(t, s)``: a float, or for y of shape (d,) either a float (meaning
        k(t, s) times the identity) or an array of shape (d, d).  Plain Python with
        NumPy/math, compiled with Numba once per function.
    y0 : float or array_like (d,)
        A value of y; it fixes scalar/vector and d.
    t0 : float
        Where ``k`` is probed (at t = s = t0).
    args : tuple, optional
        Run-time arguments: ``k(t, s, *args)`` (see :func:`~._kernel.as_kernel`).
    probe_cached : bool
        ``False``: for scalar y, a ``k`` already compiled for the values it reads now is not
        called in Python at (t0, t0) again (see :func:`~._kernel.as_kernel`).

    Returns
    -------
    Kernel
        ``jacobian_source="analytic"`` (the Jacobian is k itself) and
        ``structure = {"kind": "linear", "coefficient": k}``.

    Raises
    ------
    TypeError
        If ``k`` is not callable, returns non-numbers or cannot be compiled.  (An
        exception ``k`` raises at the probe is raised as it is, with a note saying where.)
    ValueError
        If ``k`` returns a shape other than () or (d, d).

    Examples
    --------
    >>> import numpy as np
    >>> kernel = as_linear_kernel(lambda t, s: np.exp(t - s), 1.0)
    >>> float(kernel(1.0, 1.0, 2.5)), kernel.jacobian_source
    (2.5, 'analytic')
    """
    if not callable(k):
        raise TypeError(f"K must be callable K(t, s), got {type(k).__name__}")
    y0 = np.asarray(y0, dtype=float)
    scalar = y0.ndim == 0
    dim = 1 if scalar else y0.shape[0]
    spec, theta = _user.pack_args(args)
    args = tuple(args or ())
    py = _user.py_function(k)
    _user.require_function(py, "K(t, s)")
    values = None
    if scalar and not probe_cached:      # (the mode of scalar y does not need the probe)
        values = _user.value_key(py)
        known = _CACHE.get(py, {}).get(("scalar", dim, spec, values))
        if known is not None:
            return known.with_params(theta, args)
    if not any(key[2] == spec for key in _CACHE.get(py, ())):   # once per compiled kernel
        _user.check_argument_names(k, ("t", "s"), "K(t, s)", len(args))
    with _user.raised_at("K(t, s)", "t = s = {}", t0):
        value = py(float(t0), float(t0), *args)
    shape = np.shape(value)
    if scalar:
        _check_value(value, (), "K(t, s)", t0, t0)
        mode = "scalar"
    elif shape == ():
        _check_value(value, (), "K(t, s)", t0, t0)
        mode = "diagonal"
    else:
        _check_value(value, (dim, dim), "K(t, s)", t0, t0)
        mode = "matrix"

    key = (mode, dim, spec, _user.value_key(py) if values is None else values)
    with _LOCK:
        per_func = _CACHE.setdefault(py, {})
        kernel = per_func.get(key)
        if kernel is not None:
            return kernel.with_params(theta, args)
        kj = _njit_user(k, "K(t, s)")
        gid = _user.new_guard(k, "K(t, s)", "ts", scalar, (dim, dim) if mode == "matrix" else ())
        function, jacobian = _compile(lambda: _wrap_linear(kj, mode, spec, gid), "K(t, s)", k)

        def probe(t, s, y, *a):
            return np.asarray(py(t, s, *a), dtype=float) @ np.atleast_1d(y) if mode == "matrix" \
                else py(t, s, *a) * y

        kernel = Kernel(function=function, dim=dim, scalar=scalar, jacobian_function=jacobian,
                        jacobian_source="analytic", probe=probe,
                        structure={"kind": "linear", "coefficient": k},
                        name=getattr(k, "__name__", "K"), arg_spec=spec)
        twin = _user.python_twin(kj.py_func)
        _same_as_python(jacobian, twin, mode, dim, t0, args)
        kernel._shared["span_check"] = _user.span_check(
            lambda points, a: _same_as_python(jacobian, twin, mode, dim, t0, a,
                                              [p[:2] for p in points]))
        per_func[key] = kernel
        return kernel.with_params(theta, args)


def _same_as_python(jacobian, py, mode, dim, t0, args, points=None):
    """Refuse a compiled coefficient whose k(t, s) at (t0, t0) and (t0 + 1, t0 + 0.5) (or at
    ``points``, (t, s) pairs: after a solve, :func:`._user.span_check`), read from
    its compiled Jacobian ``jacobian`` (k itself), differs from that of ``py``, the Python
    function it was compiled from (with the values compiled in), with the arguments ``args``:
    see :func:`._user.refuse_if_compiled_differs`.  k = 1 + N * N % 7 with N = 2**40 (5 in
    Python, 1 in 64-bit integers) was a first-kind success with y = 1 for 1 / 5."""
    theta, values = _user.compiled_args(args)
    Y = np.ones((1, dim))

    def compiled(t, s):
        J = np.empty((dim, dim))
        jacobian(float(t), float(s), Y, 0, theta, J)
        return J if mode == "matrix" else J[0, 0]

    if points is None:
        points = [(float(t0), float(t0)), (float(t0) + 1.0, float(t0) + 0.5)]
    _user.refuse_if_compiled_differs("K(t, s)", points, lambda t, s: py(t, s, *values),
                                     compiled, times=2)
