"""The discrete adjoint: exact gradients of a loss of the mesh values of a direct-quadrature solve.

For y_n = g_n + h sum_{j<=n} w_nj K(t_n, t_j, y_j; theta) and a loss Phi(y_0, ..., y_N),
:func:`discrete_adjoint` returns the adjoint states mu (dPhi/dg_n = mu_n) and
dPhi/dtheta, the exact transpose of the forward scheme (implicit rules included:
the adjoint of each Newton-solved step is one linear solve).  For the explicit
(rectangle) network this is backpropagation.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..volterra import METHODS
from ..volterra._loops import SUCCESS, no_jacobian
from ._adjoint_loops import compiled_adjoint

__all__ = ["AdjointResult", "discrete_adjoint"]


@dataclass
class AdjointResult:
    """mu: (N+1, D) adjoint states; grad_theta: dPhi/dtheta (layout of theta); stats."""

    mu: np.ndarray
    grad_theta: np.ndarray
    status: bool
    message: str
    stats: dict

    @property
    def grad_g(self):
        """dPhi/dg_n = mu_n (for a constant forcing g = x0: dPhi/dx0 = sum_n mu_n)."""
        return self.mu


def discrete_adjoint(kernel, t, Y, method, dphi):
    """Adjoint states and parameter gradient of Phi(Y) for a solve of ``kernel`` on mesh ``t``.

    Parameters
    ----------
    kernel : Kernel
        The kernel of the forward solve (its ``params`` are theta).
    t : ndarray (N+1,)
        The uniform mesh of the forward solve.
    Y : ndarray (N+1, D)
        The forward mesh values (``sol.y`` reshaped to 2-d).
    method : str
        The direct-quadrature method of the forward solve.
    dphi : ndarray (N+1, D)
        dPhi/dy_n.

    Returns
    -------
    AdjointResult

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
    """
    meth = METHODS[method]
    if meth.family != "direct":
        raise ValueError(f"the discrete adjoint is implemented for direct-quadrature methods; "
                         f"got {method!r}")
    Y = np.ascontiguousarray(Y, dtype=float)
    dphi = np.ascontiguousarray(dphi, dtype=float)
    t = np.ascontiguousarray(t, dtype=float)
    if Y.shape != dphi.shape or Y.shape[0] != t.shape[0]:
        raise ValueError(f"Y {Y.shape}, dphi {dphi.shape} and t {t.shape} do not match")
    function, jac, _ = kernel.addresses
    vjp = kernel.vjp_address
    have = jac is not None
    if not have:
        jac = no_jacobian()
    mu = np.zeros_like(Y)
    grad = np.zeros_like(kernel.params)
    stats = np.zeros(4, dtype=np.int64)
    start, left, right = meth._data
    status, index = compiled_adjoint()(function, jac, have, vjp, kernel.params, t, Y,
                                       start, left, right,
                                       bool(kernel.structure.get("t_independent", False)), dphi, mu,
                                       grad, stats)
    ok = status == SUCCESS
    message = "ok" if ok else f"singular adjoint system at t = {t[index]:.6g}"
    return AdjointResult(mu, grad, ok, message, {"vjp_calls": int(stats[0]), "njev": int(stats[1])})
