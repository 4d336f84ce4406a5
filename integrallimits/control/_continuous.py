r"""The continuous adjoint of a ResNet's continuum limit, solved as a Volterra equation.

For the state y(t) = x0 + int_0^t f(s, y(s), u(s)) ds with the t-independent kernel
f(s, y, u) = sigma(W(s) y + b(s)) (the deep limit of a ResNet) and a terminal cost
phi(y(T)), the adjoint of DESIGN.md section 2 is the anticipating linear Volterra equation

.. math::

    \lambda(s) = f_y(s)^T \nabla\varphi + \int_s^T f_y(s)^T \lambda(t)\, dt ,

and the gradient with respect to the control u = (W, b) is

.. math::

    \nabla_u J(s) = f_u(s)^T \Big(\nabla\varphi + \int_s^T \lambda(t)\, dt\Big)
                  = f_u(s)^T p(s).

Reversing time, tau = T - s and Lambda(tau) = lambda(T - tau), it is the ordinary
(forward) Volterra equation

.. math::

    \Lambda(\tau) = A(\tau)^T \nabla\varphi + \int_0^\tau A(\tau)^T \Lambda(\sigma)\, d\sigma,
    \qquad A(\tau) = f_y(T - \tau, y(T - \tau)),

which :func:`continuous_adjoint` solves with the package's own ``solve_volterra`` (any
direct-quadrature rule; gregory6 by default) on a uniform mesh, the matrices A tabulated on
the mesh from a forward solve of the same order.  The costate
p(s) = grad phi + int_s^T lambda dt then solves -p' = f_y^T p, p(T) = grad phi: the
classical adjoint ODE (:func:`costate_ode` integrates that ODE with SciPy, for checks).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .._numba import jit
from ..kernels import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel
from ..kernels._kernel import make_block_sum
from ..networks import ResidualDense, ResNet
from ..networks._fields import sample_field
from ..networks._activations import activation as _activation
from ..networks._activations import activation_derivative as _activation_derivative
from ..quadrature import cumulative_integrate
from ..volterra import METHODS, solve_volterra

__all__ = ["ContinuousAdjointResult", "continuous_adjoint", "costate_ode",
           "ContinuousDenseAdjointResult", "continuous_adjoint_dense"]


# The reversed-time adjoint kernels K(tau, sigma, Lambda) = A^T Lambda read a table of d x d
# blocks from theta = (t0, h, M, d, B, pairs) + A.ravel(): with pairs = 0, A (M+1, B, d, d) is
# indexed by the target tau_n alone (the ResNet adjoint); with pairs = 1, A (M+1, M+1, B, d, d)
# by (tau_n, sigma_m) (the dense adjoint).
@jit
def _table_offset(t, s, theta):
    h, M, d, B, pairs = theta[1], int(theta[2]), int(theta[3]), int(theta[4]), int(theta[5])
    n = min(max(int(round((t - theta[0]) / h)), 0), M)
    m = min(max(int(round((s - theta[0]) / h)), 0), M) if pairs else 0
    return 6 + (n * (1 + pairs * M) + m) * B * d * d, d, B


def _transposed_table(t, s, Y, j, theta, out):
    """K(tau, sigma, Lambda) = A^T Lambda, sample by sample (A read from theta)."""
    base, d, B = _table_offset(t, s, theta)
    for b in range(B):
        o = base + b * d * d
        for a in range(d):
            acc = 0.0
            for c in range(d):
                acc += theta[o + c * d + a] * Y[j, b * d + c]
            out[b * d + a] = acc


def _transposed_table_jacobian(t, s, Y, j, theta, J):
    base, d, B = _table_offset(t, s, theta)
    J[:, :] = 0.0
    for b in range(B):
        o = base + b * d * d
        for a in range(d):
            for c in range(d):
                J[b * d + a, b * d + c] = theta[o + c * d + a]


@lru_cache(maxsize=None)
def _compiled():
    """(kernel, jacobian, block sum) compiled on first use (importing compiles nothing)."""
    function = jit(KERNEL_SIGNATURE)(_transposed_table)
    return function, jit(JACOBIAN_SIGNATURE)(_transposed_table_jacobian), make_block_sum(function)


def _adjoint_kernel(A, h, pairs=False):
    """The reversed-time adjoint kernel for the table A: (M+1, B, d, d), or (M+1, M+1, B, d, d)
    with ``pairs`` (built once per solve)."""
    M, (B, d) = A.shape[0] - 1, A.shape[-3:-1]
    theta = np.concatenate([[0.0, h, M, d, B, float(pairs)], np.ascontiguousarray(A).ravel()])
    function, jacobian, block = _compiled()
    return Kernel(function, B * d, False, jacobian, block, "analytic", structure={"kind": "general"},
                  name="continuous-adjoint", params=theta)


def _fields_on_mesh(W, b, M, T, d):
    t = T * np.arange(M + 1) / M
    Wg = np.array([np.asarray(W(ti), dtype=float) for ti in t]) if callable(W) else np.asarray(W, float)
    bg = np.array([np.asarray(b(ti), dtype=float) for ti in t]) if callable(b) else np.asarray(b, float)
    if Wg.shape != (M + 1, d, d) or bg.shape != (M + 1, d):
        raise ValueError(f"W and b must give (d, d) = ({d}, {d}) and (d,) values on the {M + 1} mesh "
                         f"points, got {Wg.shape} and {bg.shape}")
    return t, Wg, bg


@dataclass
class ContinuousAdjointResult:
    """Output of :func:`continuous_adjoint` (all on the uniform mesh s_m = m T / M).

    Attributes
    ----------
    t : ndarray (M+1,)
    states : ndarray (S, M+1, d)
        The forward states y_i(s_m).
    adjoint : ndarray (S, M+1, d)
        lambda_i(s_m), the solution of the anticipating adjoint Volterra equation.
    costate : ndarray (S, M+1, d)
        p_i(s_m) = grad phi_i + int_s^T lambda_i dt.
    grad_W, grad_b : ndarray (M+1, d, d), (M+1, d)
        nabla_u J(s_m) = sum_i f_u(s_m)^T p_i(s_m) for u = W and u = b.
    terminal_gradient : ndarray (S, d)
        grad phi_i used (d phi / d y_i(T)).
    stats : dict
    """

    t: np.ndarray
    states: np.ndarray
    adjoint: np.ndarray
    costate: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    terminal_gradient: np.ndarray
    stats: dict


def continuous_adjoint(W, b, X0, dphi, activation="tanh", T=1.0, n_steps=256, method="gregory6"):
    r"""Solve the continuous adjoint of y' = sigma(W(s) y + b(s)) and form nabla_u J.

    Parameters
    ----------
    W, b : callables W(t) -> (d, d), b(t) -> (d,), or arrays on the mesh (M+1, ...)
        The continuum control.
    X0 : array (S, d)
        Initial states (one adjoint per sample; they are solved together, batched).
    dphi : array (S, d) or callable
        grad phi_i = d phi / d y_i(T), or a function of the final states Y_T (S, d)
        returning it (e.g. the output gradient of an :class:`Objective`).
    activation : str
    T : float
    n_steps : int
        M, the uniform mesh of both the forward and the adjoint solve.
    method : str
        A direct-quadrature rule (gregory6: order 6 for smooth fields).

    Returns
    -------
    ContinuousAdjointResult

    Examples
    --------
    A linear field (sigma = identity, W = -I, b = 0): y = e^{-s} x0, and for phi = y(T)
    the costate is p(s) = e^{-(T - s)}:

    >>> import numpy as np
    >>> res = continuous_adjoint(lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)),
    ...                          np.ones((1, 1)), activation="identity", n_steps=32)
    >>> bool(np.allclose(res.costate[0, :, 0], np.exp(-(1.0 - res.t)), atol=1e-9))
    True
    """
    X0 = np.atleast_2d(np.asarray(X0, dtype=float))
    S, d = X0.shape
    M = int(n_steps)
    meth = METHODS[method]
    if meth.family != "direct":
        raise ValueError(f"method must be a direct-quadrature rule, got {method!r}")
    t, Wg, bg = _fields_on_mesh(W, b, M, T, d)
    # forward: the same rule on the continuum kernel sampled on the mesh
    net = ResNet(Wg, bg, n_layers=M, activation=activation, T=T, rule=method)
    states = net.states(X0)                                       # (S, M+1, d)
    YT = states[:, -1]
    grad_phi = np.asarray(dphi(YT) if callable(dphi) else dphi, dtype=float).reshape(S, d)
    Z = np.einsum("mac,smc->sma", Wg, states) + bg[None]          # pre-activations (S, M+1, d)
    dsig = _activation_derivative(activation)(Z)
    A = dsig[..., None] * Wg[None]                                 # f_y = diag(sigma') W, (S, M+1, d, d)
    A_rev = np.ascontiguousarray(A[:, ::-1].transpose(1, 0, 2, 3))  # tau_n = T - s_{M-n}: (M+1, S, d, d)
    h = T / M
    G = np.einsum("nbca,bc->nba", A_rev, grad_phi).reshape(M + 1, S * d)  # A(tau)^T grad phi

    def g(tau):
        idx = np.clip(np.rint(np.asarray(tau) / h).astype(int), 0, M)
        return G[idx]

    sol = solve_volterra(_adjoint_kernel(A_rev, h), g, (0.0, T), M, method=method,
                         raise_on_failure=True)
    Lam = sol.y.reshape(M + 1, S, d)
    order = min(meth.order, 8)
    P = grad_phi[None] + cumulative_integrate(Lam, h, order=order, axis=0)
    adjoint = Lam[::-1].transpose(1, 0, 2).copy()                  # lambda_i(s_m), (S, M+1, d)
    costate = P[::-1].transpose(1, 0, 2).copy()
    q = dsig * costate                                              # sigma'(z) * p
    grad_W = np.einsum("sma,smc->mac", q, states)
    grad_b = q.sum(axis=0)
    return ContinuousAdjointResult(t, states, adjoint, costate, grad_W, grad_b, grad_phi,
                                   {"method": method, "n_steps": M, "adjoint_nfev": sol.stats.get("nfev"),
                                    "seconds": sol.stats.get("seconds")})


def costate_ode(W, b, X0, dphi, activation="tanh", T=1.0, t_eval=None, rtol=1e-12, atol=1e-13):
    r"""The classical costate by ``scipy.integrate.solve_ivp``: y' = sigma(W y + b) forward,
    then -p' = f_y(s, y(s))^T p backwards from p(T) = grad phi.

    Returns (t_eval, states (S, len, d), costate (S, len, d)); ``dphi`` as in
    :func:`continuous_adjoint`.  A reference for tests and the adjoint-agreement study.

    Examples
    --------
    >>> import numpy as np
    >>> t, y, p = costate_ode(lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)),
    ...                       np.ones((1, 1)), activation="identity", t_eval=[0.0, 1.0])
    >>> np.round(p[0, :, 0], 6).tolist()          # p(s) = exp(-(1 - s))
    [0.367879, 1.0]
    """
    from scipy.integrate import solve_ivp
    X0 = np.atleast_2d(np.asarray(X0, dtype=float))
    S, d = X0.shape
    sigma, dsigma = _activation(activation), _activation_derivative(activation)
    Wf = W if callable(W) else None
    bf = b if callable(b) else None
    if Wf is None or bf is None:
        raise TypeError("costate_ode needs callable fields W(t), b(t)")

    def rhs(s, y):
        Y = y.reshape(S, d)
        return sigma(Y @ np.asarray(Wf(s)).T + np.asarray(bf(s))).ravel()

    fwd = solve_ivp(rhs, (0.0, T), X0.ravel(), method="DOP853", rtol=rtol, atol=atol,
                    dense_output=True)
    YT = fwd.y[:, -1].reshape(S, d)
    grad_phi = np.asarray(dphi(YT) if callable(dphi) else dphi, dtype=float).reshape(S, d)

    def back(s, p):
        Y = fwd.sol(s).reshape(S, d)
        Wm = np.asarray(Wf(s))
        ds = dsigma(Y @ Wm.T + np.asarray(bf(s)))                   # (S, d)
        P = p.reshape(S, d)
        return -np.einsum("sa,ac,sa->sc", ds, Wm, P).ravel()          # -(diag(s') W)^T p

    t_eval = np.linspace(0.0, T, 65) if t_eval is None else np.asarray(t_eval, dtype=float)
    bwd = solve_ivp(back, (T, 0.0), grad_phi.ravel(), method="DOP853", rtol=rtol, atol=atol,
                    dense_output=True)
    states = fwd.sol(t_eval).T.reshape(len(t_eval), S, d).transpose(1, 0, 2)
    costate = bwd.sol(t_eval).T.reshape(len(t_eval), S, d).transpose(1, 0, 2)
    return t_eval, states, costate


# -- t-dependent kernels: the residual-dense continuum x(t) = x0 + int_0^t sigma(W(t,s) x + b(t,s)) ds --


def _pair_fields_on_mesh(W, b, M, T, d):
    Wg = sample_field(W, M, T, True) if callable(W) else np.asarray(W, dtype=float)
    bg = sample_field(b, M, T, True) if callable(b) else np.asarray(b, dtype=float)
    if Wg.shape != (M + 1, M + 1, d, d) or bg.shape != (M + 1, M + 1, d):
        raise ValueError(f"W and b must give (d, d) = ({d}, {d}) and (d,) values on the "
                         f"{M + 1} x {M + 1} mesh pairs, got {Wg.shape} and {bg.shape}")
    return Wg, bg


@dataclass
class ContinuousDenseAdjointResult:
    """Output of :func:`continuous_adjoint_dense` (uniform mesh t_n = n T / M).

    Attributes
    ----------
    t : ndarray (M+1,)
    states : ndarray (S, M+1, d)
        x_i(t_n).
    adjoint : ndarray (S, M+1, d)
        lambda_i(t_n).
    grad_W, grad_b : ndarray (M+1, M+1, d, d), (M+1, M+1, d)
        The gradient density G(t_n, s_j) = sum_i f_u(t_n, s_j)^T lambda_i(t_n) on the pairs
        j <= n (zero for j > n, outside the triangle); the entries 0 <= j < n < M are the
        interior values.
    line_W, line_b : ndarray (M+1, d, d), (M+1, d)
        The line term on t = T: sum_i f_u(T, s_j)^T grad phi_i at s_j (j = 0..M).
    terminal_gradient : ndarray (S, d)
    stats : dict
    """

    t: np.ndarray
    states: np.ndarray
    adjoint: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    line_W: np.ndarray
    line_b: np.ndarray
    terminal_gradient: np.ndarray
    stats: dict


def continuous_adjoint_dense(W, b, X0, dphi, activation="tanh", T=1.0, n_steps=128,
                             method="gregory6"):
    r"""Continuous adjoint of the residual-dense continuum (t-dependent kernel).

    For x(t) = x0 + int_0^t f(t, s, x(s)) ds, f = sigma(W(t, s) x + b(t, s)), and the loss
    phi(x(T)), the adjoint is the anticipating Volterra equation

    .. math::

        \lambda(s) = f_y(T, s)^T \nabla\varphi + \int_s^T f_y(t, s)^T \lambda(t)\, dt ,

    solved in reversed time tau = T - s, Lambda(tau) = lambda(T - tau), as the forward linear
    equation Lambda(tau) = F(tau) + int_0^tau A(tau, sigma) Lambda(sigma) dsigma with
    A(tau, sigma) = f_y(T - sigma, T - tau, x(T - tau))^T (tabulated on all mesh pairs, the
    pairs sigma > tau being read by the starting blocks of high-order rules) and
    F(tau) = A(tau, 0) grad phi.  The gradient with respect to the two-variable control
    u = (W, b) is the density G(t, s) = f_u(t, s)^T lambda(t) on the triangle s < t < T plus
    the line term f_u(T, s)^T grad phi on t = T.

    Parameters
    ----------
    W, b : callables W(t, s) -> (d, d), b(t, s) -> (d,), or arrays on the mesh pairs
        (M+1, M+1, ...).
    X0 : array (S, d)
    dphi : array (S, d) or callable of the final states (S, d)
    activation : str
    T : float
    n_steps : int
        M, the uniform mesh of the forward (``ResidualDense`` with the same rule) and the
        adjoint solve.
    method : str
        A direct-quadrature rule (gregory6 by default).

    Returns
    -------
    ContinuousDenseAdjointResult

    Examples
    --------
    A linear field (sigma = identity, W = -1, b = 0): x = e^{-t} x0 and, for phi = x(T),
    lambda(s) = -e^{-(T - s)}:

    >>> import numpy as np
    >>> res = continuous_adjoint_dense(lambda t, s: -np.eye(1), lambda t, s: np.zeros(1),
    ...                                np.ones((1, 1)), np.ones((1, 1)),
    ...                                activation="identity", n_steps=32)
    >>> bool(np.allclose(res.adjoint[0, :, 0], -np.exp(-(1.0 - res.t)), atol=1e-9))
    True
    """
    X0 = np.atleast_2d(np.asarray(X0, dtype=float))
    S, d = X0.shape
    M = int(n_steps)
    meth = METHODS[method]
    if meth.family != "direct":
        raise ValueError(f"method must be a direct-quadrature rule, got {method!r}")
    Wg, bg = _pair_fields_on_mesh(W, b, M, T, d)
    t = T * np.arange(M + 1) / M
    h = T / M
    net = ResidualDense(Wg, bg, n_layers=M, activation=activation, T=T, rule=method)
    states = net.states(X0)                                           # (S, M+1, d)
    grad_phi = np.asarray(dphi(states[:, -1]) if callable(dphi) else dphi,
                          dtype=float).reshape(S, d)
    # pre-activations z[s, n, j] = W(t_n, s_j) x_s(s_j) + b(t_n, s_j), all mesh pairs
    Z = np.einsum("njac,sjc->snja", Wg, states) + bg[None]
    dsig = _activation_derivative(activation)(Z)                      # (S, M+1, M+1, d)
    fy = dsig[..., None] * Wg[None]                                   # f_y(t_n, s_j), (S, n, j, d, d)
    # A[n, m] = f_y(t_{M-m}, s_{M-n}): reverse both indices, swap them -> (n, m, S, d, d)
    A = np.ascontiguousarray(fy[:, ::-1, ::-1].transpose(2, 1, 0, 3, 4))
    del fy
    F = np.einsum("nbca,bc->nba", A[:, 0], grad_phi).reshape(M + 1, S * d)  # A(tau, 0)^T grad phi

    def g(tau):
        idx = np.clip(np.rint(np.asarray(tau) / h).astype(int), 0, M)
        return F[idx]

    sol = solve_volterra(_adjoint_kernel(A, h, pairs=True), g, (0.0, T), M, method=method,
                         raise_on_failure=True)
    Lam = sol.y.reshape(M + 1, S, d)
    adjoint = Lam[::-1].transpose(1, 0, 2).copy()                      # lambda_i(t_n), (S, M+1, d)
    q = dsig * adjoint[:, :, None, :]                                  # sigma'(z(t_n, s_j)) lambda(t_n)
    tri = (np.arange(M + 1)[None, :] <= np.arange(M + 1)[:, None])     # j <= n
    grad_W = np.einsum("snja,sjc->njac", q, states) * tri[..., None, None]
    grad_b = q.sum(axis=0) * tri[..., None]
    qT = dsig[:, M] * grad_phi[:, None, :]                             # sigma'(z(T, s_j)) grad phi
    line_W = np.einsum("sja,sjc->jac", qT, states)
    line_b = qT.sum(axis=0)
    return ContinuousDenseAdjointResult(
        t, states, adjoint, grad_W, grad_b, line_W, line_b, grad_phi,
        {"method": method, "n_steps": M, "adjoint_nfev": sol.stats.get("nfev"),
         "seconds": sol.stats.get("seconds")})
