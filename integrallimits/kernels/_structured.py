"""Structured kernels the solvers exploit: convolution and weakly singular kernels.

They are *specifications*: the shape of y is known only when a problem is solved,
so :func:`~integrallimits.kernels.as_kernel` builds (and caches) the compiled
:class:`Kernel` for the y it meets.
"""
from __future__ import annotations

import numbers
from functools import lru_cache

import numba
import numpy as np

from .._numba import jit
from . import _user
from ._kernel import (_FAST, JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, Source, _check_value,
                      _compile, _njit_user, _user_kernel, as_kernel)

__all__ = ["convolution", "weakly_singular", "is_weakly_singular", "KernelSpec", "LAG_SIGNATURE"]

#: k(u; theta) written into a (d, d) (or (1, 1)) matrix: void(u, theta, out)
LAG_SIGNATURE = numba.types.void(numba.types.float64, numba.types.float64[::1],
                                 numba.types.float64[:, ::1])


def _identity(t, s, Y, j, theta, out):
    for a in range(out.shape[0]):
        out[a] = Y[j, a]


def _identity_jacobian(t, s, Y, j, theta, J):
    for a in range(J.shape[0]):
        for b in range(J.shape[1]):
            J[a, b] = 1.0 if a == b else 0.0


def _identity_block(t, svals, Y, a, b, w, theta, out):
    for k in range(out.shape[0]):
        out[k] = 0.0
    for r in range(a, b):
        for k in range(out.shape[0]):
            out[k] += w[r] * Y[r, k]


@lru_cache(maxsize=None)
def _identity_functions():
    """phi(s, y) = y as compiled kernel functions, each compiled (or loaded from the disk cache)
    when first used, not at import nor when a kernel is built: the linear fast-history loops
    call none of them."""
    return jit(_identity), jit(_identity_jacobian), jit(_identity_block)


class KernelSpec:
    """A kernel whose compiled form depends on the shape of y (built by ``as_kernel``).

    ``build(y0, t0, args)`` returns the compiled :class:`Kernel` for the y of ``y0`` with the
    run-time arguments ``args`` (passed to every user function of the specification)."""

    def __init__(self):
        self._built = {}

    def _user_functions(self):
        """The user's functions (or nested specifications) the compiled kernel is made of."""
        return ()

    def value_key(self):
        """A key of the values the user's functions read now (:func:`_user.value_key`; nested
        specifications included): a changed global or closure value builds the kernel again,
        as for a plain kernel function, instead of reusing one compiled with the old value."""
        return tuple(f.value_key() if isinstance(f, KernelSpec) else _user.value_key(f)
                     for f in self._user_functions() if f is not None and not isinstance(f, Kernel))

    def build(self, y0, t0, args=None):
        y0 = np.asarray(y0, dtype=float)
        spec, theta = _user.pack_args(args)
        key = (y0.ndim == 0, 1 if y0.ndim == 0 else y0.shape[0], spec, self.value_key())
        if key not in self._built:
            kernel = self._build(y0, t0, key[0], key[1], spec, tuple(args or ()))
            kernel._shared["source"] = Source(key[3], self.value_key,
                                              lambda theta, args: self.build(y0, t0, args))
            self._built[key] = kernel
        return self._built[key].with_params(theta, tuple(args or ()))

    def _build(self, y0, t0, scalar, dim, spec, args):  # pragma: no cover - interface
        raise NotImplementedError


def _wrap_lag(kj, matrix, spec, gid):
    """The compiled lag function of k(u, *args): a float (times I) or a (d, d) matrix."""
    unpack = _user.unpacker(spec)
    report = _user.report

    @numba.njit(inline="always", **_FAST)
    def call(u, params):
        return kj(u, *params)

    if matrix:
        @_user.wrapper(LAG_SIGNATURE)
        def lag(u, theta, out):
            # (NaN is what an exception of k or a wrong shape leaves behind; written on those
            # paths only: filling ``out`` before every call cost 10 ns of a sample's 30)
            try:
                r = np.asarray(call(u, unpack(theta, 0)))
            except Exception:
                out[:, :] = np.nan
                report(gid, _user.RAISED, u, np.nan, out[0, :0], -1)
                return
            if r.shape[0] != out.shape[0] or r.shape[1] != out.shape[1]:
                out[:, :] = np.nan
                report(gid, _user.BAD_SHAPE, u, np.nan, out[0, :0], r.size)
                return
            for a in range(out.shape[0]):
                for b in range(out.shape[1]):
                    out[a, b] = r[a, b]
            if not np.all(np.isfinite(out)):
                report(gid, _user.NOT_FINITE, u, np.nan, out[0, :0], -1)
    else:
        @_user.wrapper(LAG_SIGNATURE)
        def lag(u, theta, out):
            try:
                v = call(u, unpack(theta, 0))
            except Exception:
                out[:, :] = np.nan      # (on this path only, as above)
                report(gid, _user.RAISED, u, np.nan, out[0, :0], -1)
                return
            if not np.isfinite(v):
                report(gid, _user.NOT_FINITE, u, np.nan, out[0, :0], -1)
            for a in range(out.shape[0]):
                for b in range(out.shape[1]):
                    out[a, b] = v if a == b else 0.0
    return lag


def _same_as_python(lag, py, matrix, dim, args, points=((0.0,), (0.5,))):
    """Refuse a compiled lag function ``lag`` (:data:`LAG_SIGNATURE`) whose k(u) at u = 0 and
    u = 0.5 (t - s at the points where a kernel is compared; or at ``points``, (u,) tuples:
    after a solve, :func:`._user.span_check`) differs from that of ``py``, the
    Python function it was compiled from (with the values compiled in), with the arguments
    ``args``: see :func:`._user.refuse_if_compiled_differs`.  k = -(N * N % 7) with N = 2**40
    (-4 in Python, 0 in 64-bit integers) was a success with y(1) = 1.0 for e^-4 (the direct
    and the fast FFT history alike)."""
    theta, values = _user.compiled_args(args)

    def compiled(u):
        out = np.empty((dim, dim)) if matrix else np.empty((1, 1))
        lag(float(u), theta, out)
        return out if matrix else out[0, 0]

    _user.refuse_if_compiled_differs("k(u)", list(points), lambda u: py(u, *values),
                                     compiled)


class _Convolution(KernelSpec):
    def __init__(self, k, phi, phi_jacobian):
        super().__init__()
        if not callable(k):
            raise TypeError(f"k must be callable k(u), got {type(k).__name__}")
        if phi is not None and not callable(phi):
            raise TypeError(f"phi must be callable phi(s, y) or None, got {type(phi).__name__}")
        self.k, self.phi, self.phi_jacobian = k, phi, phi_jacobian

    def _user_functions(self):
        return self.k, self.phi, self.phi_jacobian

    def _build(self, y0, t0, scalar, dim, spec, args):
        _user.check_argument_names(self.k, ("u",), "k(u)", len(spec))
        with _user.raised_at("k(u)", "u = 0"):
            value = _user.py_function(self.k)(0.0, *args)
        # (a ragged list raised NumPy's "inhomogeneous shape" error, not naming k; a (1, 1)
        # matrix for a scalar y passed here and then failed to compile)
        allowed = "a float" if scalar else f"a float or a ({dim}, {dim}) matrix"
        try:
            kv = np.asarray(value)
        except ValueError:
            raise ValueError(f"k(u) must return {allowed}, got a ragged "
                             f"{type(value).__name__} at u = 0.0") from None
        if kv.shape not in (((),) if scalar else ((), (dim, dim))):
            raise ValueError(f"k(u) must return {allowed}"
                             + (" for a scalar y" if scalar else "")
                             + f", got shape {kv.shape} at u = 0.0")
        # real numbers (a complex k was cut to its real part here and then failed to compile; a
        # text or a bool is refused as for K)
        _check_value(value, kv.shape, "k(u)", 0.0, 0.0, at="u = 0.0")
        matrix = kv.shape == (dim, dim) and not scalar
        kj = _njit_user(self.k, "k(u)")
        gid = _user.new_guard(self.k, "k(u)", "u", True, () if not matrix else (dim, dim))
        lag = _compile(lambda: _wrap_lag(kj, matrix, spec, gid), "k(u)", self.k)
        twin = _user.python_twin(kj.py_func)
        _same_as_python(lag, twin, matrix, dim, args)
        # phi as a kernel (t is ignored): phi(s, y, *args) -> K-signature function
        if self.phi is None:
            identity, identity_jacobian, identity_block = _identity_functions()
            phi_kernel = Kernel(identity, dim, scalar, identity_jacobian, identity_block,
                                "analytic", name="identity")
        else:
            phi_kernel = _user_kernel(self.phi, y0, t0, self.phi_jacobian, spec, np.zeros(0), args,
                                      form="sy", what="phi(s, y)")

        phi_e = phi_kernel.function
        if matrix:
            @_user.wrapper(KERNEL_SIGNATURE)
            def evaluate(t, s, Y, j, theta, out):
                out[:] = np.nan
                m = np.empty((out.shape[0], out.shape[0]))
                lag(t - s, theta, m)
                f = np.empty(out.shape[0])
                phi_e(t, s, Y, j, theta, f)
                for a in range(out.shape[0]):
                    acc = 0.0
                    for b in range(out.shape[0]):
                        acc += m[a, b] * f[b]
                    out[a] = acc
        else:  # scalar k: one 1 x 1 lag
            @_user.wrapper(KERNEL_SIGNATURE)
            def evaluate(t, s, Y, j, theta, out):
                out[:] = np.nan
                phi_e(t, s, Y, j, theta, out)
                m = np.empty((1, 1))
                lag(t - s, theta, m)
                w = m[0, 0]
                for a in range(out.shape[0]):
                    out[a] *= w

        jacobian = None
        source = "finite-difference"
        if phi_kernel.jacobian_function is not None:
            phi_j = phi_kernel.jacobian_function

            @_user.wrapper(JACOBIAN_SIGNATURE, lazy=True)   # the linear fast history calls none
            def jacobian(t, s, Y, j, theta, J):
                J[:, :] = np.nan
                m = np.empty((J.shape[0], J.shape[0])) if matrix else np.empty((1, 1))
                lag(t - s, theta, m)
                P = np.empty((J.shape[0], J.shape[0]))
                phi_j(t, s, Y, j, theta, P)
                for a in range(J.shape[0]):
                    for b in range(J.shape[1]):
                        acc = 0.0
                        if matrix:
                            for c in range(J.shape[0]):
                                acc += m[a, c] * P[c, b]
                        else:
                            acc = m[0, 0] * P[a, b]
                        J[a, b] = acc
            source = "analytic" if self.phi is None else phi_kernel.jacobian_source

        structure = {"kind": "convolution", "lag": lag, "phi": phi_kernel, "matrix": matrix,
                     "linear": self.phi is None}
        kernel = Kernel(evaluate, dim, scalar, jacobian, None, source, probe=None,
                        structure=structure, name="convolution", arg_spec=spec)
        phi_check = phi_kernel._shared.get("span_check")

        def compare(points, a):   # k(u) at u = t - s, and phi(s, y) (its own check)
            _same_as_python(lag, twin, matrix, dim, a,
                            sorted({(p[0] - p[1],) for p in points}))
        lag_check = _user.span_check(compare)

        def check(mesh, y, a=()):
            lag_check(mesh, y, a)
            if phi_check is not None:
                phi_check(mesh, y, a)
        kernel._shared["span_check"] = check
        return kernel


def convolution(k, phi=None, *, phi_jacobian=None):
    """A convolution kernel K(t, s, y) = k(t - s) phi(s, y).

    Parameters
    ----------
    k : callable
        ``k(u)``: a float, or a (d, d) matrix for vector problems.
    phi : callable, optional
        ``phi(s, y)`` (shape of y); ``None`` means the linear case phi = y.
    phi_jacobian : callable, optional
        d phi / dy (s, y).

    On uniform meshes the solvers compute the history sums of such kernels with a
    blocked FFT scheme in O(N log^2 N) work (``fast_history=False`` in
    ``solve_volterra`` forces the direct O(N^2) sums).

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits import solve_volterra
    >>> K = convolution(lambda u: np.exp(-u))          # y = sin t solves ...
    >>> sol = solve_volterra(K, lambda t: 0.5 * (np.sin(t) + np.cos(t) + np.exp(-t)) - np.exp(-t)
    ...                      + 0.0, (0.0, 1.0), 64, method="trapezoid")
    >>> sol.success
    True
    """
    return _Convolution(k, phi, phi_jacobian)


class _WeaklySingular(KernelSpec):
    def __init__(self, k, alpha, jacobian):
        super().__init__()
        if isinstance(alpha, (bool, np.bool_)) or not isinstance(alpha, numbers.Real):
            raise TypeError(f"alpha must be a real number with 0 < alpha < 1, got "
                            f"{type(alpha).__name__} {alpha!r}")
        if not (0.0 < float(alpha) < 1.0):
            raise ValueError(f"alpha must satisfy 0 < alpha < 1, got {alpha!r}")
        self.k, self.alpha, self.jacobian = k, float(alpha), jacobian

    def _user_functions(self):
        return self.k, self.jacobian

    def _build(self, y0, t0, scalar, dim, spec, args):
        smooth = as_kernel(self.k, y0, t0, jacobian=self.jacobian, args=args)
        inner = smooth.function
        alpha = self.alpha

        @_user.wrapper(KERNEL_SIGNATURE)
        def evaluate(t, s, Y, j, theta, out):
            inner(t, s, Y, j, theta, out)
            w = (t - s) ** (-alpha)
            for a in range(out.shape[0]):
                out[a] *= w

        structure = {"kind": "weakly-singular", "alpha": alpha, "smooth": smooth}
        kernel = Kernel(evaluate, dim, scalar, None, None, smooth.jacobian_source, probe=None,
                        structure=structure, name="weakly-singular", arg_spec=spec)
        if "span_check" in smooth._shared:   # (k's own check: compared over the solve's span)
            kernel._shared["span_check"] = smooth._shared["span_check"]
        return kernel


def weakly_singular(k, alpha, *, jacobian=None):
    """A weakly singular kernel K(t, s, y) = (t - s)^(-alpha) k(t, s, y), 0 < alpha < 1.

    The solvers integrate the factor (t - s)^(-alpha) exactly against the local
    polynomial (product integration); use a collocation method on a graded mesh
    (:func:`integrallimits.volterra.graded_mesh`) to keep the order.
    """
    return _WeaklySingular(k, alpha, jacobian)


def is_weakly_singular(K):
    """True for a :func:`weakly_singular` kernel (specification or built kernel)."""
    return isinstance(K, _WeaklySingular) or (isinstance(K, Kernel)
                                              and K.structure.get("kind") == "weakly-singular")
