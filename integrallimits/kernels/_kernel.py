"""The integrand K(t, s, y) and the forcing g(t) in the form the compiled solvers call.

Every kernel reaches the solvers as a :class:`Kernel`: a Numba function with the
fixed signature ``KERNEL_SIGNATURE``,

    evaluate(t, s, Y, j, out)      # out[:] = K(t, s, Y[j, :])

and optionally an exact Jacobian ``jacobian(t, s, Y, j, J)`` (``J[:, :] = dK/dy``).
Because the signature is fixed, the solver loops are compiled once (and cached
on disk) for all kernels, and a user's function costs only the compilation of
its own small body.  A kernel is compiled once per Python function: calling a
solver again with the same function reuses it.
"""
from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

import numba
import numpy as np
from numba.core import types
from numba.core.errors import NumbaError

__all__ = ["Kernel", "KERNEL_SIGNATURE", "JACOBIAN_SIGNATURE", "as_kernel", "as_forcing",
           "KernelCompilationError"]

KERNEL_SIGNATURE = types.void(types.float64, types.float64, types.float64[:, ::1], types.int64,
                              types.float64[::1])
JACOBIAN_SIGNATURE = types.void(types.float64, types.float64, types.float64[:, ::1], types.int64,
                                types.float64[:, ::1])
KernelFunction = types.FunctionType(KERNEL_SIGNATURE)
JacobianFunction = types.FunctionType(JACOBIAN_SIGNATURE)


class KernelCompilationError(TypeError):
    """A user function could not be compiled with Numba."""


@dataclass(frozen=True, eq=False)
class Kernel:
    """A compiled integrand K(t, s, y) of a Volterra equation.

    Parameters
    ----------
    evaluate : numba function with ``KERNEL_SIGNATURE``
        ``evaluate(t, s, Y, j, out)`` writes K(t, s, Y[j]) into ``out``.
    dim : int
        Dimension d of y (1 for scalar problems).
    scalar : bool
        True if the user-facing y is a scalar.
    jacobian : numba function with ``JACOBIAN_SIGNATURE`` or None
        ``jacobian(t, s, Y, j, J)`` writes dK/dy (d x d) into ``J``.  Without it,
        Newton iterations use finite differences.
    jacobian_source : str
        "user", "sympy", "analytic" or "finite-difference".
    probe : callable
        ``probe(t, s, y) -> ndarray (d,)``, evaluated in Python (for checks).
    structure : dict
        What the solvers may exploit, e.g. ``{"kind": "convolution", ...}``.
    """

    evaluate: object
    dim: int
    scalar: bool
    jacobian: object = None
    jacobian_source: str = "finite-difference"
    probe: object = None
    structure: dict = field(default_factory=lambda: {"kind": "general"})
    name: str = "K"

    def __call__(self, t, s, y):
        """Evaluate K(t, s, y) (Python-level, for checks and dense output)."""
        Y = np.ascontiguousarray(np.reshape(np.asarray(y, dtype=float), (1, self.dim)))
        out = np.empty(self.dim)
        self.evaluate(float(t), float(s), Y, 0, out)
        return out[0] if self.scalar else out


# -- compiling user callables -------------------------------------------------------------

_CACHE = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def _njit_user(func, what):
    """Compile a user function with Numba (on-disk cache when its source file allows)."""
    if isinstance(func, numba.core.registry.CPUDispatcher):
        return func
    try:
        return numba.njit(func, cache=True)
    except (RuntimeError, TypeError, ValueError, OSError):
        # Functions without a source file (interactive, exec) cannot be cached on disk.
        return numba.njit(func)


def _compile(factory, what, func):
    try:
        return factory()
    except NumbaError as exc:
        first = str(exc).strip().splitlines()
        detail = "\n".join(first[:12])
        raise KernelCompilationError(
            f"{what} could not be compiled by Numba. Write it with NumPy/math functions "
            f"on floats (scalar y) or 1-d float arrays (vector y), or give a SymPy expression "
            f"(integrallimits.kernels.from_sympy). Numba said:\n{detail}") from None


def _wrap_kernel(fj, scalar):
    if scalar:
        @numba.njit(KERNEL_SIGNATURE, error_model="numpy", nogil=True)
        def evaluate(t, s, Y, j, out):
            out[0] = fj(t, s, Y[j, 0])
    else:
        @numba.njit(KERNEL_SIGNATURE, error_model="numpy", nogil=True)
        def evaluate(t, s, Y, j, out):
            r = np.asarray(fj(t, s, Y[j]))
            for k in range(out.shape[0]):
                out[k] = r[k]
    return evaluate


def _wrap_jacobian(fj, scalar):
    if scalar:
        @numba.njit(JACOBIAN_SIGNATURE, error_model="numpy", nogil=True)
        def jacobian(t, s, Y, j, J):
            J[0, 0] = fj(t, s, Y[j, 0])
    else:
        @numba.njit(JACOBIAN_SIGNATURE, error_model="numpy", nogil=True)
        def jacobian(t, s, Y, j, J):
            r = np.asarray(fj(t, s, Y[j]))
            for a in range(J.shape[0]):
                for b in range(J.shape[1]):
                    J[a, b] = r[a, b]
    return jacobian


def _python_call(func, t, s, y, scalar):
    if isinstance(func, numba.core.registry.CPUDispatcher):
        func = func.py_func
    return func(t, s, y[0] if scalar else y)


def _check_value(value, expected, what, t, s):
    arr = np.asarray(value)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{what} must return real numbers, got {type(value).__name__}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{what} must return real numbers, got complex values")
    if arr.shape != expected:
        raise ValueError(f"{what} returned shape {arr.shape} at (t, s) = ({t}, {s}); "
                         f"expected {expected}")
    return arr.astype(float)


def as_kernel(K, y0, t0=0.0, jacobian=None):
    """Return the compiled :class:`Kernel` for ``K`` on problems whose initial value is ``y0``.

    Parameters
    ----------
    K : Kernel or callable
        ``K(t, s, y)``: a float for scalar y, an array of shape (d,) for y of shape (d,).
    y0 : float or array_like (d,)
        A value of y (normally g(t0)); it fixes scalar/vector and d.
    t0 : float
        Where ``K`` is probed.
    jacobian : callable, optional
        dK/dy(t, s, y): a float for scalar y, a (d, d) array for vector y.

    Raises
    ------
    TypeError
        If ``K`` is not callable, returns non-numbers, or cannot be compiled.
    ValueError
        If ``K`` returns the wrong shape.
    """
    y0 = np.asarray(y0, dtype=float)
    scalar = y0.ndim == 0
    dim = 1 if scalar else y0.shape[0]
    if hasattr(K, "build") and not isinstance(K, Kernel):  # a structured-kernel specification
        if jacobian is not None:
            raise ValueError("give the Jacobian to the structured kernel's constructor, not here")
        return K.build(y0, t0)
    if isinstance(K, Kernel):
        if K.dim != dim or K.scalar != scalar:
            raise ValueError(f"K is a kernel for y of dimension {K.dim}, but g gives "
                             f"{'a scalar' if scalar else f'shape {y0.shape}'}")
        return K
    if not callable(K):
        raise TypeError(f"K must be callable K(t, s, y) or a Kernel, got {type(K).__name__}")
    if jacobian is not None and not callable(jacobian):
        raise TypeError(f"jacobian must be callable jacobian(t, s, y), got {type(jacobian).__name__}")

    shape = () if scalar else (dim,)
    y_probe = y0.reshape(1, dim)
    try:
        value = _python_call(K, t0, t0, y_probe[0].copy(), scalar)
    except Exception as exc:  # a user function failing on a valid point: say where
        raise TypeError(f"K(t, s, y) raised {type(exc).__name__}: {exc} when called at "
                        f"t = s = {t0}, y = {y0.tolist()}") from exc
    _check_value(value, shape, "K(t, s, y)", t0, t0)
    if jacobian is not None:
        jvalue = _python_call(jacobian, t0, t0, y_probe[0].copy(), scalar)
        _check_value(jvalue, () if scalar else (dim, dim), "jacobian(t, s, y)", t0, t0)

    key = (scalar, dim)
    with _LOCK:
        per_func = _CACHE.setdefault(K, {})
        cached = per_func.get(key)
        if cached is not None and cached[1] is jacobian:
            return cached[0]
        fj = _njit_user(K, "K")
        evaluate = _compile(lambda: _wrap_kernel(fj, scalar), "K(t, s, y)", K)
        jac = None
        if jacobian is not None:
            jj = _njit_user(jacobian, "jacobian")
            jac = _compile(lambda: _wrap_jacobian(jj, scalar), "jacobian(t, s, y)", jacobian)
        kernel = Kernel(evaluate, dim, scalar, jac, "user" if jac is not None else "finite-difference",
                        probe=K, name=getattr(K, "__name__", "K"))
        per_func[key] = (kernel, jacobian)
        return kernel


def as_forcing(g, t0):
    """Return (g_vec, y0): ``g_vec(times) -> (len(times), d)`` float array and g(t0).

    ``g`` is evaluated pointwise in Python (it is called O(N) times, the kernel
    O(N^2)), which accepts any callable returning a float or a (d,) array.
    """
    if not callable(g):
        raise TypeError(f"g must be callable g(t), got {type(g).__name__}")
    if isinstance(g, numba.core.registry.CPUDispatcher):
        g = g.py_func
    try:
        value = g(float(t0))
    except Exception as exc:
        raise TypeError(f"g(t) raised {type(exc).__name__}: {exc} when called at t = {t0}") from exc
    y0 = np.asarray(value)
    if y0.dtype == object or not np.issubdtype(y0.dtype, np.number) or np.iscomplexobj(y0):
        raise TypeError(f"g(t) must return a real float or a 1-d array, got {value!r}")
    if y0.ndim > 1:
        raise ValueError(f"g(t) must return a float or an array of shape (d,), got shape {y0.shape}")
    y0 = y0.astype(float)
    shape = y0.shape

    def g_vec(times):
        times = np.asarray(times, dtype=float)
        out = np.empty((times.size, 1 if not shape else shape[0]))
        for i, ti in enumerate(times):
            v = np.asarray(g(float(ti)), dtype=float)
            if v.shape != shape:
                raise ValueError(f"g(t) returned shape {v.shape} at t = {ti}; expected {shape}")
            out[i] = v
        bad = ~np.isfinite(out)
        if bad.any():
            i = int(np.nonzero(bad.any(axis=1))[0][0])
            raise ValueError(f"g(t) is not finite at t = {times[i]} (value {out[i].tolist()})")
        return out

    return g_vec, y0
