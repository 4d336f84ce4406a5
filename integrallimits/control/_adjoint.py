"""The discrete adjoint: exact gradients of a loss of the mesh values of a Volterra solve.

For y_n = g_n + h sum_{j<=n} w_nj K(t_n, t_j, y_j; theta) and a loss Phi(y_0, ..., y_N),
:func:`discrete_adjoint` returns the adjoint states mu (dPhi/dg_n = mu_n) and
dPhi/dtheta, the exact transpose of the forward scheme (implicit rules included:
the adjoint of each Newton-solved step is one linear solve).  For the explicit
(rectangle) network this is backpropagation.  The Volterra Runge-Kutta and
collocation methods (rk4, gauss1-4, radau1-4) are transposed too, stage by stage:
their adjoint also returns the stage multipliers dPhi/dg(t_ni).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..kernels import Kernel, _user
from ..kernels._jacobian_check import jacobian_disagreement
from ..networks._families import real_array
from ..volterra import METHODS
from ..volterra._loops import SUCCESS, no_jacobian, start_floor
from ..volterra._mesh import is_uniform
from ._adjoint_loops import compiled_adjoint

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

__all__ = ["AdjointResult", "discrete_adjoint"]


@dataclass
class AdjointResult:
    """Result of :func:`discrete_adjoint`.

    Attributes
    ----------
    mu : ndarray (N+1, D)
        Adjoint states: dPhi/dg(t_n) at the mesh points.
    grad_theta : ndarray
        dPhi/dtheta, in the layout of the kernel's parameters.  NaN for a kernel whose
        vector-Jacobian product does not differentiate its parameters (the ``args`` of a user
        kernel, the parameters of a SymPy kernel): only the networks' kernels do.
    status : bool
        False if a transposed implicit system was singular, the kernel (or its Jacobian)
        gave a non-finite value, or a Jacobian the user gave disagrees with difference
        quotients of the kernel at points of the solve (``message`` says where).  The arrays
        are then as computed: after a refused Jacobian, the exact transpose of the scheme with
        that Jacobian (to compare with a kernel made without it, not to use).
    message : str
    stats : dict
        ``vjp_calls``, ``njev`` (Jacobians formed for the implicit solves) and
        ``check_nfev`` (calls of K checking a Jacobian the user gave, 3 (6 d + 1); else 0).
    mu_stages : ndarray (N m, D) or None
        For Runge-Kutta / collocation methods: dPhi/dg(t_n + c_i h_n) at the stage times
        (row n m + i); None for direct quadrature.
    """

    mu: np.ndarray
    grad_theta: np.ndarray
    status: bool
    message: str
    stats: dict
    mu_stages: np.ndarray | None = None

    @property
    def grad_g(self):
        """dPhi/dg_n = mu_n at the mesh points (for a constant forcing g = x0 and a direct
        method: dPhi/dx0 = sum_n mu_n; add ``mu_stages.sum(0)`` for Runge-Kutta methods)."""
        return self.mu


def discrete_adjoint(kernel: Kernel, t: ArrayLike, Y: ArrayLike, method: str, dphi: ArrayLike,
                     stages: ArrayLike | None = None) -> AdjointResult:
    """Adjoint states and parameter gradient of Phi(Y) for a solve of ``kernel`` on mesh ``t``.

    For the direct-quadrature scheme F_n(Y) = y_n - g_n - h sum_j w_nj K(t_n, t_j, y_j; theta)
    the adjoint mu solves (dF/dY)^T mu = dPhi/dY, and dPhi/dtheta = sum_{n,j} h w_nj
    K_theta(t_n, t_j, y_j)^T mu_n: the exact gradient of Phi of the computed mesh values.
    For a Runge-Kutta / collocation method the unknowns are the stages Z_ni (give them
    as ``stages=sol.stages``); their multipliers are returned as ``mu_stages``.

    Parameters
    ----------
    kernel : Kernel
        The kernel of the forward solve (its ``params`` are theta).
    t : ndarray (N+1,)
        The mesh of the forward solve (uniform for direct quadrature).
    Y : ndarray (N+1, D)
        The forward mesh values (``sol.y`` reshaped to 2-d).
    method : str
        The method of the forward solve: a direct-quadrature rule, rk4, gauss1-4 or
        radau1-4 (not for weakly singular kernels).
    dphi : ndarray (N+1, D)
        dPhi/dy_n.
    stages : ndarray (N m, D), optional
        The stage values of a Runge-Kutta / collocation solve (``sol.stages``); required
        for those methods and ignored otherwise.

    Returns
    -------
    AdjointResult

    Raises
    ------
    ValueError
        On mismatched shapes, an unknown ``method``, a weakly singular kernel, or a
        Runge-Kutta method without ``stages``.
    TypeError
        For a ``kernel`` that is not a :class:`~integrallimits.kernels.Kernel`.
    Exception
        What the user's kernel or Jacobian raised, raised again from Python at that point.

    Notes
    -----
    A kernel compiled from user functions is used with the values they read now
    (:meth:`~integrallimits.kernels.Kernel.current`), as the solvers use it.

    See Also
    --------
    continuous_adjoint : the continuous adjoint it approaches as h -> 0.
    train : training with these gradients.

    Examples
    --------
    Gradient of y(1) for y = 1 + int_0^t -y ds with the trapezoid rule, against the
    derivative of the scheme's value (1 - h/2)^N / (1 + h/2)^N in g (= 1):

    >>> import numpy as np
    >>> from integrallimits import solve_volterra
    >>> from integrallimits.kernels import as_kernel
    >>> K = as_kernel(lambda t, s, y: -y, 1.0)
    >>> sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")
    >>> dphi = np.zeros((9, 1)); dphi[-1] = 1.0
    >>> adj = discrete_adjoint(K, sol.t, sol.y[:, None], "trapezoid", dphi)
    >>> bool(np.isclose(adj.mu.sum(), sol.y[-1]))   # linear in g: dy_N/dg = y_N / g
    True

    The same with 2-point Gauss collocation: the forcing is also read at the stages.

    >>> sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="gauss2")
    >>> adj = discrete_adjoint(K, sol.t, sol.y[:, None], "gauss2", dphi, stages=sol.stages)
    >>> bool(np.isclose(adj.mu.sum() + adj.mu_stages.sum(), sol.y[-1]))
    True
    """
    if not isinstance(method, str) or method not in METHODS:   # (was a KeyError of METHODS)
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    meth = METHODS[method]
    if not isinstance(kernel, Kernel):   # (a plain K failed with "no attribute 'current'")
        raise TypeError(f"kernel must be the Kernel of the forward solve, got "
                        f"{type(kernel).__name__}: wrap a function K(t, s, y) once with "
                        f"integrallimits.kernels.as_kernel(K, y0) and pass that object to "
                        f"solve_volterra and here")
    kernel = kernel.current()   # a global the user's functions read may have changed
    if kernel.structure.get("kind") == "weakly-singular":
        raise ValueError("the discrete adjoint of product integration (weakly singular kernels) "
                         "is not implemented")
    if meth.family not in ("direct", "vrk"):
        raise ValueError(f"no discrete adjoint for the {meth.family!r} method {method!r}")
    # C-ordered and writable (the compiled loops' signatures), copied only if need be
    Y = np.require(real_array(Y, "Y"), float, ("C", "W"))
    dphi = np.require(real_array(dphi, "dphi"), float, ("C", "W"))
    t = np.require(real_array(t, "t"), float, ("C", "W"))
    if Y.ndim != 2 or Y.shape != dphi.shape or Y.shape[0] != t.shape[0]:
        raise ValueError(f"Y {Y.shape} and dphi {dphi.shape} must both have the shape (len(t), "
                         f"d), one row per mesh point (a scalar solve's sol.y[:, None]); t has "
                         f"the shape {t.shape}")
    if Y.shape[1] != kernel.dim:
        raise ValueError(f"Y has {Y.shape[1]} components per time, but the kernel is for y of "
                         f"dimension {kernel.dim}")
    if t.ndim != 1 or t.shape[0] < 2 or not np.all(np.isfinite(t)) or not np.all(np.diff(t) > 0):
        raise ValueError("t must be the solve's mesh: finite and strictly increasing, at least 2 "
                         "points")
    if meth.uniform_only and not is_uniform(t):
        raise ValueError(f"method {method!r} needs a uniform mesh (the solve's); t is not uniform")
    if not (np.all(np.isfinite(Y)) and np.all(np.isfinite(dphi))):
        raise ValueError("Y and dphi must be finite")
    function, jac = kernel.function_address, kernel.jacobian_address   # (no block sum)
    vjp = kernel.vjp_address
    have = jac is not None
    if not have:
        jac = no_jacobian()
    grad = np.zeros_like(kernel.params)
    stats = np.zeros(4, dtype=np.int64)
    mu_stages = None
    _user.clear_failures()   # what the user's kernel or Jacobian raises, or a NaN it returns
    try:
        status, index, mu, mu_stages = _run(meth, method, kernel, function.address, jac.address,
                                            have, vjp.address, t, Y, dphi, stages, grad, stats)
        record = _user.take_failure()
    except BaseException:
        _user.take_failure()
        raise
    _user.raise_recorded_failure(record, kernel.args)
    ok = status == SUCCESS
    message = "ok" if ok else f"singular adjoint system at t = {t[index]:.6g}"
    finite = all(a is None or np.all(np.isfinite(a)) for a in (mu, mu_stages, grad))
    if record is not None:
        what, where = _user.describe_failure(record)
        ok, message = False, f"{what} returned a non-finite value (inf/nan) at {where}"
    elif ok and not finite:
        ok, message = False, "the adjoint states became non-finite (inf/nan)"
    checked = 0   # calls of K checking a Jacobian the user gave
    if ok and kernel.jacobian_source == "user":
        said, checked = jacobian_disagreement(kernel, *_check_points(meth, t, Y, stages),
                                              start_floor(Y[0]), 1.0 / (t[-1] - t[0]))
        if said is not None:
            ok, message = False, said + _WRONG_JACOBIAN
    if kernel.vjp_function is None and grad.size:   # the generic vjp leaves theta alone
        grad[:] = np.nan
        if ok:
            message = ("ok; grad_theta is NaN: the kernel's vector-Jacobian product does not "
                       "differentiate its parameters")
    return AdjointResult(mu, grad, ok, message, {"vjp_calls": int(stats[0]), "njev": int(stats[1]),
                                                 "check_nfev": checked}, mu_stages)


#: Added to the message of a Jacobian that :func:`jacobian_disagreement` refused.
_WRONG_JACOBIAN = ("; the adjoint uses the Jacobian as the derivative of K, so its gradient "
                   "would be wrong (a Jacobian good enough for Newton's method is not enough "
                   "here): correct it, or make the kernel without jacobian= (the adjoint then "
                   "differentiates K by differences)")


def _check_points(meth, t, Y, stages):
    """Three points (t, s, y(s)) of the forward solve at which the adjoint evaluates dK/dy,
    for :func:`jacobian_disagreement`, as the arrays (ts, ss, ys): at the last node (s = t), and
    at the middle node and the first node read from the last and middle ones.  The nodes are
    the mesh (direct quadrature) or the stages (Runge-Kutta / collocation), whose values the
    adjoint differentiates at."""
    if meth.family == "direct":
        last, middle = t.shape[0] - 1, (t.shape[0] - 1) // 2
        at = (last, middle, 0)   # (take: new C-ordered float arrays, ~3 us less than indexing)
        return t.take((last, last, middle)), t.take(at), Y.take(at, axis=0)
    c = meth._data[0]
    m = c.shape[0]
    last = (t.shape[0] - 1) * m - 1
    at = (last, last // 2, 0)
    # the stage times t_n + h_n c_i of those three only (the whole grid cost ~20 us)
    times = [t[r // m] + (t[r // m + 1] - t[r // m]) * c[r % m] for r in at]
    return (np.array([times[0], times[0], times[1]]), np.array(times),
            np.asarray(stages, dtype=float).take(at, axis=0))


def _run(meth, method, kernel, function, jac, have, vjp, t, Y, dphi, stages, grad, stats):
    """The compiled adjoint loop: (status, index, mu, mu_stages)."""
    mu_stages = None
    if meth.family == "direct":
        mu = np.zeros_like(Y)
        start, left, right = meth._data
        status, index = compiled_adjoint("direct")(
            function, jac, have, vjp, kernel.params, t, Y, start, left, right,
            bool(kernel.structure.get("t_independent", False)), dphi, mu, grad, stats)
    else:
        c, A, b = meth._data
        shape = ((t.shape[0] - 1) * c.shape[0], Y.shape[1])
        if stages is None:
            raise ValueError(f"the adjoint of {method!r} needs the stage values: pass "
                             f"stages=sol.stages")
        Z = np.ascontiguousarray(stages, dtype=float)
        if Z.shape != shape:
            raise ValueError(f"stages must have shape {shape} for {method!r} on this mesh, "
                             f"got {Z.shape}")
        mu = dphi.copy()   # the mesh values feed nothing: dPhi/dg_n = dPhi/dy_n
        mu_stages = np.zeros(shape)
        status, index = compiled_adjoint("vrk")(function, jac, have, vjp, kernel.params, t,
                                                Z.copy(), c, A, b, dphi, mu_stages, grad, stats,
                                                start_floor(Y[0]))
    return status, index, mu, mu_stages
