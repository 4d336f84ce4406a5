"""Structured kernels the solvers exploit: convolution and weakly singular kernels.

They are *specifications*: the shape of y is known only when a problem is solved,
so :func:`~integrallimits.kernels.as_kernel` builds (and caches) the compiled
:class:`Kernel` for the y it meets.
"""
from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

from .._numba import jit
from ._kernel import (BLOCK_SIGNATURE, JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, _check_value,
                      _compile, _njit_user, as_kernel)

__all__ = ["convolution", "weakly_singular", "KernelSpec", "LAG_SIGNATURE"]

#: k(u) written into a (d, d) (or (1, 1)) matrix: void(u, out)
LAG_SIGNATURE = numba.types.void(numba.types.float64, numba.types.float64[:, ::1])


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
    """phi(s, y) = y as compiled kernel functions (compiled on first use, not at import)."""
    return (jit(KERNEL_SIGNATURE)(_identity), jit(JACOBIAN_SIGNATURE)(_identity_jacobian),
            jit(BLOCK_SIGNATURE)(_identity_block))


class KernelSpec:
    """A kernel whose compiled form depends on the shape of y (built by ``as_kernel``)."""

    def __init__(self):
        self._built = {}

    def build(self, y0, t0):
        y0 = np.asarray(y0, dtype=float)
        key = (y0.ndim == 0, 1 if y0.ndim == 0 else y0.shape[0])
        if key not in self._built:
            self._built[key] = self._build(y0, t0, *key)
        return self._built[key]

    def _build(self, y0, t0, scalar, dim):  # pragma: no cover - interface
        raise NotImplementedError


class _Convolution(KernelSpec):
    def __init__(self, k, phi, phi_jacobian):
        super().__init__()
        if not callable(k):
            raise TypeError(f"k must be callable k(u), got {type(k).__name__}")
        if phi is not None and not callable(phi):
            raise TypeError(f"phi must be callable phi(s, y) or None, got {type(phi).__name__}")
        self.k, self.phi, self.phi_jacobian = k, phi, phi_jacobian

    def _build(self, y0, t0, scalar, dim):
        k_py = self.k.py_func if isinstance(self.k, numba.core.registry.CPUDispatcher) else self.k
        kv = np.asarray(k_py(0.0), dtype=float)
        if kv.shape not in ((), (dim, dim)):
            raise ValueError(f"k(u) must return a float or a ({dim}, {dim}) matrix, got shape {kv.shape}")
        matrix = kv.shape == (dim, dim) and not scalar
        if self.phi is not None:
            phi_py = (self.phi.py_func if isinstance(self.phi, numba.core.registry.CPUDispatcher)
                      else self.phi)
            _check_value(phi_py(t0, y0 if not scalar else float(y0)), () if scalar else (dim,),
                         "phi(s, y)", t0, t0)
        kj = _njit_user(self.k, "k")

        def make_lag():
            if matrix:
                @numba.njit(LAG_SIGNATURE)
                def lag(u, out):
                    r = np.asarray(kj(u))
                    for a in range(out.shape[0]):
                        for b in range(out.shape[1]):
                            out[a, b] = r[a, b]
            else:
                @numba.njit(LAG_SIGNATURE)
                def lag(u, out):
                    v = kj(u)
                    for a in range(out.shape[0]):
                        for b in range(out.shape[1]):
                            out[a, b] = v if a == b else 0.0
            return lag

        lag = _compile(make_lag, "k(u)", self.k)
        # phi as a kernel (t is ignored): phi(s, y) -> K-signature function
        if self.phi is None:
            identity, identity_jacobian, identity_block = _identity_functions()
            phi_kernel = Kernel(identity, dim, scalar, identity_jacobian, identity_block,
                                "analytic", name="identity")
        else:
            phi_fn = _njit_user(self.phi, "phi")
            phi_as_kernel = lambda t, s, y: phi_fn(s, y)  # noqa: E731
            phi_jac = None
            if self.phi_jacobian is not None:
                phi_jac_fn = _njit_user(self.phi_jacobian, "phi_jacobian")
                phi_jac = lambda t, s, y: phi_jac_fn(s, y)  # noqa: E731
            phi_kernel = as_kernel(phi_as_kernel, y0, t0, jacobian=phi_jac)

        phi_e = phi_kernel.function
        if matrix:
            @numba.njit(KERNEL_SIGNATURE, error_model="numpy", nogil=True)
            def evaluate(t, s, Y, j, theta, out):
                m = np.empty((out.shape[0], out.shape[0]))
                lag(t - s, m)
                f = np.empty(out.shape[0])
                phi_e(t, s, Y, j, theta, f)
                for a in range(out.shape[0]):
                    acc = 0.0
                    for b in range(out.shape[0]):
                        acc += m[a, b] * f[b]
                    out[a] = acc
        else:  # scalar k: no temporary arrays on this hot path
            @numba.njit(KERNEL_SIGNATURE, error_model="numpy", nogil=True)
            def evaluate(t, s, Y, j, theta, out):
                phi_e(t, s, Y, j, theta, out)
                w = kj(t - s)
                for a in range(out.shape[0]):
                    out[a] *= w

        jacobian = None
        source = "finite-difference"
        if phi_kernel.jacobian_function is not None:
            phi_j = phi_kernel.jacobian_function
            if matrix:
                @numba.njit(JACOBIAN_SIGNATURE, error_model="numpy", nogil=True)
                def jacobian(t, s, Y, j, theta, J):
                    m = np.empty((J.shape[0], J.shape[0]))
                    lag(t - s, m)
                    P = np.empty((J.shape[0], J.shape[0]))
                    phi_j(t, s, Y, j, theta, P)
                    for a in range(J.shape[0]):
                        for b in range(J.shape[1]):
                            acc = 0.0
                            for c in range(J.shape[0]):
                                acc += m[a, c] * P[c, b]
                            J[a, b] = acc
            else:  # scalar k: J = k(t - s) dphi/dy, no temporary arrays (a Newton step's hot path)
                @numba.njit(JACOBIAN_SIGNATURE, error_model="numpy", nogil=True)
                def jacobian(t, s, Y, j, theta, J):
                    phi_j(t, s, Y, j, theta, J)
                    w = kj(t - s)
                    for a in range(J.shape[0]):
                        for b in range(J.shape[1]):
                            J[a, b] *= w
            source = "analytic" if self.phi is None else phi_kernel.jacobian_source

        structure = {"kind": "convolution", "lag": lag, "phi": phi_kernel, "matrix": matrix,
                     "linear": self.phi is None}
        return Kernel(evaluate, dim, scalar, jacobian, None, source, probe=None, structure=structure,
                      name="convolution")


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
    >>> sol.status
    True
    """
    return _Convolution(k, phi, phi_jacobian)


class _WeaklySingular(KernelSpec):
    def __init__(self, k, alpha, jacobian):
        super().__init__()
        if not (0.0 < float(alpha) < 1.0):
            raise ValueError(f"alpha must satisfy 0 < alpha < 1, got {alpha!r}")
        self.k, self.alpha, self.jacobian = k, float(alpha), jacobian

    def _build(self, y0, t0, scalar, dim):
        smooth = as_kernel(self.k, y0, t0, jacobian=self.jacobian)
        inner = smooth.function
        alpha = self.alpha

        @numba.njit(KERNEL_SIGNATURE, error_model="numpy", nogil=True)
        def evaluate(t, s, Y, j, theta, out):
            inner(t, s, Y, j, theta, out)
            w = (t - s) ** (-alpha)
            for a in range(out.shape[0]):
                out[a] *= w

        structure = {"kind": "weakly-singular", "alpha": alpha, "smooth": smooth}
        return Kernel(evaluate, dim, scalar, None, None, smooth.jacobian_source, probe=None,
                      structure=structure, name="weakly-singular")


def weakly_singular(k, alpha, *, jacobian=None):
    """A weakly singular kernel K(t, s, y) = (t - s)^(-alpha) k(t, s, y), 0 < alpha < 1.

    The solvers integrate the factor (t - s)^(-alpha) exactly against the local
    polynomial (product integration); use a collocation method on a graded mesh
    (:func:`integrallimits.volterra.graded_mesh`) to keep the order.
    """
    return _WeaklySingular(k, alpha, jacobian)
