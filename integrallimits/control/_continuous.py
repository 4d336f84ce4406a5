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
method: a direct-quadrature rule, gregory6 by default, or a Runge-Kutta / collocation method)
on a uniform mesh, the matrices A tabulated at the nodes the method reads (the mesh, and the
stage times of a Runge-Kutta method) from a forward solve of at least the same order.  The costate
p(s) = grad phi + int_s^T lambda dt then solves -p' = f_y^T p, p(T) = grad phi: the
classical adjoint ODE (:func:`costate_ode` integrates that ODE with SciPy, for checks).
"""
from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import lru_cache
from typing import TYPE_CHECKING, Callable

import numpy as np

from .._memory import check_memory
from .._numba import jit
from ..kernels import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel
from ..kernels._kernel import make_block_sum
from ..networks import ResidualDense, ResNet
from ..networks._families import positive_int, real_array
from ..networks._fields import sample_field_at
from ..networks._activations import activation as _activation
from ..networks._activations import activation_derivative as _activation_derivative
from ..quadrature import cumulative_integrate
from ..volterra import METHODS, SolverError, solve_volterra
from ..volterra._estimate import UNRESOLVED
from ..volterra._mesh import check_flags, check_mesh, check_t_eval, make_mesh
from ..volterra._solution import lagrange_dense_output

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["ContinuousAdjointResult", "continuous_adjoint", "costate_ode",
           "ContinuousDenseAdjointResult", "continuous_adjoint_dense"]


# The reversed-time adjoint kernels K(tau, sigma, Lambda) = A^T Lambda read a table of d x d
# blocks from theta = (nf, d, B, pairs, 0, 0) + nodes (nf) + A.ravel(), at the table node
# nearest to each time: the mesh, plus the stage times of a Runge-Kutta / collocation method.
# With pairs = 0, A (nf, B, d, d) is indexed by the target tau alone (the ResNet adjoint); with
# pairs = 1, A (nf, nf, B, d, d) by (tau, sigma) (the dense adjoint).
@jit
def _nearest_node(x, theta, nf):
    nodes = theta[6:6 + nf]
    k = np.searchsorted(nodes, x)
    if k >= nf:
        return nf - 1
    if k > 0 and x - nodes[k - 1] < nodes[k] - x:
        return k - 1
    return k


@jit
def _table_offset(t, s, theta):
    nf, d, B, pairs = int(theta[0]), int(theta[1]), int(theta[2]), int(theta[3])
    n = _nearest_node(t, theta, nf)
    m = _nearest_node(s, theta, nf) if pairs else 0
    return 6 + nf + (n * (1 + pairs * (nf - 1)) + m) * B * d * d, d, B


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


def _adjoint_kernel(A, nodes, pairs=False):
    """The reversed-time adjoint kernel for the table A on ``nodes``: (nf, B, d, d), or
    (nf, nf, B, d, d) with ``pairs`` (built once per solve)."""
    nf, (B, d) = nodes.shape[0], A.shape[-3:-1]
    theta = np.concatenate([[nf, d, B, float(pairs), 0.0, 0.0], nodes,
                            np.ascontiguousarray(A).ravel()])
    function, jacobian, block = _compiled()
    return Kernel(function, B * d, False, jacobian, block, "analytic", structure={"kind": "general"},
                  name="continuous-adjoint", params=theta)


def _table_nodes(method, M, T):
    """The reversed-time nodes the adjoint solve reads: the mesh tau_n = n T / M, plus the
    stage times tau_n + c_i h of a Runge-Kutta / collocation method (merged where they meet)."""
    t = make_mesh((0.0, T), M, None, "continuous_adjoint")
    meth = METHODS[method]
    if meth.family != "vrk":
        return t
    nodes = np.unique(np.concatenate([t, (t[:-1, None] + meth.tableau.c[None, :] * (T / M)).ravel()]))
    return nodes[np.concatenate([[True], np.diff(nodes) > 1e-9 * T / M])]


def _forward_rule(method):
    """The direct rule of the forward solve: ``method`` itself, or for a Runge-Kutta method the
    Gregory-type rule of at least its order (up to 8); its states reach the adjoint's stage
    times by local interpolation of the same order."""
    meth = METHODS[method]
    if meth.family == "direct":
        return method
    return next(r for r in ("trapezoid", "gregory4", "gregory6", "gregory8")
                if METHODS[r].order >= min(meth.order, 8))


def _on_nodes(mesh_values, t, times, rule):
    """Mesh values (S, M+1, ...) at ``times`` (local Lagrange interpolation of the rule's order)."""
    S, n = mesh_values.shape[:2]
    flat = mesh_values.transpose(1, 0, *range(2, mesh_values.ndim)).reshape(n, -1)
    out = lagrange_dense_output(t, flat, times, max(2, METHODS[rule].order))
    return out.reshape(len(times), S, *mesh_values.shape[2:]).transpose(1, 0, *range(2, mesh_values.ndim))


def _fields_at(W, b, times, d, two_variable, M):
    """(W, b) at the table times (all pairs (t, s) for two-variable fields).  Arrays are given
    on the mesh and serve only when the table is the mesh."""
    shape = (len(times),) * (2 if two_variable else 1)
    where = "mesh points" if len(times) == M + 1 else "table nodes"
    if two_variable:
        where = where.replace("points", "pairs").replace("nodes", "node pairs")
    values = []
    for field, fshape, name in ((W, (d, d), "W"), (b, (d,), "b")):
        if callable(field):
            v = sample_field_at(field, times, two_variable, name)
        else:
            v = real_array(field, name)   # (complex values were cut to their real parts)
            if v.shape[:1] == (M + 1,) and len(times) != M + 1:
                raise ValueError("fields given as arrays on the mesh cannot be read at the stage "
                                 "times of a Runge-Kutta method: give callables")
        if v.shape != shape + fshape:
            raise ValueError(f"W and b must give (d, d) = ({d}, {d}) and (d,) values on the "
                             f"{' x '.join(map(str, shape))} {where}, got {v.shape}")
        values.append(v)
    return values


def _linearised(Wv, bv, X, activation):
    """sigma'(z) and f_y = diag(sigma'(z)) W for z = W x + b: one-variable fields (n, d, d) with
    states X (S, n, d), or two-variable fields (n, j, d, d) with the states at s_j."""
    if Wv.ndim == 3:
        Z = np.einsum("mac,smc->sma", Wv, X) + bv[None]
    else:
        Z = np.einsum("njac,sjc->snja", Wv, X) + bv[None]
    dsig = _activation_derivative(activation)(Z)
    return dsig, dsig[..., None] * Wv[None]


def _table_forcing(G, nodes):
    """g(tau) = G[node nearest to tau] for the adjoint solve."""
    def g(tau):
        tau = np.asarray(tau, dtype=float)
        k = np.clip(np.searchsorted(nodes, tau), 1, len(nodes) - 1)
        k = np.where(tau - nodes[k - 1] < nodes[k] - tau, k - 1, k)
        return G[k]
    return g


class _Outcome:
    """``success``, as the solvers' results have it: ``status`` as a bool."""

    @property
    def success(self):
        return bool(self.status)


@dataclass
class ContinuousAdjointResult(_Outcome):
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
        ``method``, ``forward_rule``, ``n_steps``, ``adjoint_nfev``, ``seconds``, and with the
        estimate ``max_error_estimates`` ({name: largest estimate}), ``estimate_order`` and
        ``estimate_steps`` (the companions' steps).
    status : bool
        False where the estimate says the mesh does not resolve the states or the costate (no
        correct digit), or a value is not finite; ``message`` says which.
    message : str
    error_estimate : dict
        ``{name: array}`` of the estimated error of ``states``, ``adjoint``, ``costate``,
        ``grad_W`` and ``grad_b`` (each of its array's shape), from the solves on M/2 and
        M/4 steps (see :func:`continuous_adjoint`); empty without an estimate.
    """

    t: np.ndarray
    states: np.ndarray
    adjoint: np.ndarray
    costate: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    terminal_gradient: np.ndarray
    stats: dict
    status: bool = True
    message: str = ""
    error_estimate: dict = dataclass_field(default_factory=dict)


def _terminal_gradient(value, S, d):
    """grad phi as an (S, d) array: real, finite and of that shape ((d,) for one sample); a
    reshape took the transposed (d, S) array, and NaN failed in the adjoint solve as "g(t) is
    not finite"."""
    g = real_array(value, "dphi")
    if g.shape != (S, d) and not (S == 1 and g.shape == (d,)):
        raise ValueError(f"dphi must give an array of shape ({S}, {d}) (one gradient per sample), "
                         f"got {g.shape}")
    if not np.all(np.isfinite(g)):
        raise ValueError("dphi contains NaN or inf")
    return g.reshape(S, d)


def continuous_adjoint(W: ArrayLike | Callable[[float], ArrayLike],
                       b: ArrayLike | Callable[[float], ArrayLike], X0: ArrayLike,
                       dphi: ArrayLike | Callable[[NDArray], ArrayLike], activation: str = "tanh",
                       T: float = 1.0, n_steps: int = 256,
                       method: str = "gregory6", error_estimate: bool = True
                       ) -> ContinuousAdjointResult:
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
        The method of the adjoint solve: a direct-quadrature rule (gregory6: order 6 for
        smooth fields), forward solve with the same rule; or a Runge-Kutta / collocation
        method (rk4, gauss1-4, radau1-4), with the forward solved by the Gregory-type rule of
        at least its order (``stats["forward_rule"]``) and interpolated to the stage times,
        which needs callable fields.
    error_estimate : bool
        Estimate the errors of every output against the continuum (default): the whole
        computation is repeated on M/2 and M/4 steps (about a third more work; arrays given
        on the mesh are read at every second and fourth point), and the differences, with the
        order they are observed to fall at (between 1 and the method's), give the estimates
        (``error_estimate``).  A mesh that does not resolve the states or the costate (an
        estimate above half their size: no correct digit) gives ``status=False``.  M not
        divisible by 4, or too few steps for the companions: no estimate (the message says so).

    Returns
    -------
    ContinuousAdjointResult

    Raises
    ------
    ValueError
        For fields whose values are not (d, d) and (d,), fields given as arrays with a
        Runge--Kutta or collocation ``method`` (it needs values at the stage times), an
        unknown ``method``, or fewer ``n_steps`` than the method (or the forward rule of a
        Runge-Kutta method) needs (gregory6, gauss3, radau3: 5; gregory8, gauss4, radau4: 7).
    SolverError
        When the adjoint's solve fails (its Newton iteration, a non-finite table).

    See Also
    --------
    costate_ode : the same costate from the adjoint ODE (SciPy), the check.
    discrete_adjoint : the exact gradient of the N-layer network.
    continuous_adjoint_dense : the dense-network (two-variable field) analogue.

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
    _check_options(method, error_estimate)
    X0 = np.atleast_2d(real_array(X0, "X0", bools=False))
    M = positive_int(n_steps, "n_steps")     # int() made 32.7 steps 32
    _check_steps(M, method, "continuous_adjoint")
    return _estimated(lambda Wk, bk, m: _resnet_adjoint(Wk, bk, X0, dphi, activation, T, m, method),
                      W, b, M, method, _RESNET_AXES, False, error_estimate)


def _check_options(method, error_estimate):
    """The ValueError the docstrings promise for an unknown ``method`` (it was a KeyError of
    METHODS), and ``error_estimate`` True or False (the string "no" is truthy: it estimated)."""
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    check_flags(error_estimate=error_estimate)


def _check_steps(M, method, caller):
    """The ValueError for too few steps, naming ``n_steps`` and the ``method`` asked for: the
    forward network's was "rule 'gregory6' needs n_layers >= 5", which named a rule the caller
    may not have chosen (the default method, or the forward rule of gauss3)."""
    rule = _forward_rule(method)
    need = max(METHODS[method].min_steps, METHODS[rule].min_steps)
    if M < need:
        why = (f"method={method!r} needs" if rule == method else
               f"method={method!r} solves the forward states with the rule {rule!r} (of its "
               f"order), which needs")
        raise ValueError(f"{caller}: {why} n_steps >= {need}, got {M}; give more steps or a "
                         f"method of lower order (method='trapezoid': any n_steps)")


def _resnet_adjoint(W, b, X0, dphi, activation, T, M, method):
    """:func:`continuous_adjoint` on M steps, without the estimate."""
    S, d = X0.shape
    meth = METHODS[method]
    rule = _forward_rule(method)
    t = make_mesh((0.0, T), M, None, "continuous_adjoint")
    Wg, bg = _fields_at(W, b, t, d, False, M)
    net = ResNet(Wg, bg, n_layers=M, activation=activation, T=T, rule=rule)
    states = net.states(X0)                                       # (S, M+1, d)
    YT = states[:, -1]
    grad_phi = _terminal_gradient(dphi(YT) if callable(dphi) else dphi, S, d)
    dsig, A = _linearised(Wg, bg, states, activation)              # f_y on the mesh (S, M+1, d, d)
    tau = _table_nodes(method, M, T)
    if len(tau) != M + 1:                                          # add the stage times
        s_nodes = T - tau[::-1]
        Wn, bn = _fields_at(W, b, s_nodes, d, False, M)
        A = _linearised(Wn, bn, _on_nodes(states, t, s_nodes, rule), activation)[1]
    A_rev = np.ascontiguousarray(A[:, ::-1].transpose(1, 0, 2, 3))  # at tau_k = T - s: (nf, S, d, d)
    h = T / M
    G = np.einsum("nbca,bc->nba", A_rev, grad_phi).reshape(len(tau), S * d)  # A(tau)^T grad phi
    sol = solve_volterra(_adjoint_kernel(A_rev, tau), _table_forcing(G, tau), (0.0, T), M,
                         method=method, error_estimate=False, raise_on_failure=True)
    Lam = sol.y.reshape(M + 1, S, d)
    order = min(meth.order, 8)
    P = grad_phi[None] + cumulative_integrate(Lam, h, order=order, axis=0)
    adjoint = Lam[::-1].transpose(1, 0, 2).copy()                  # lambda_i(s_m), (S, M+1, d)
    costate = P[::-1].transpose(1, 0, 2).copy()
    q = dsig * costate                                              # sigma'(z) * p
    grad_W = np.einsum("sma,smc->mac", q, states)
    grad_b = q.sum(axis=0)
    return ContinuousAdjointResult(t, states, adjoint, costate, grad_W, grad_b, grad_phi,
                                   {"method": method, "forward_rule": rule, "n_steps": M,
                                    "adjoint_nfev": sol.stats.get("nfev"),
                                    "seconds": sol.stats.get("seconds")})


def costate_ode(W, b, X0, dphi, activation="tanh", T=1.0, t_eval=None, rtol=1e-12, atol=1e-13):
    r"""The classical costate by ``scipy.integrate.solve_ivp``: y' = sigma(W y + b) forward,
    then -p' = f_y(s, y(s))^T p backwards from p(T) = grad phi.

    Returns (t_eval, states (S, len, d), costate (S, len, d)); ``dphi`` as in
    :func:`continuous_adjoint`.  A reference for tests and the adjoint-agreement study.
    Raises :class:`~integrallimits.SolverError` with SciPy's message when either solve
    fails (it returned their NaN or extrapolated values), and ValueError for a ``T`` that is
    not a finite float > 0 or a ``t_eval`` outside [0, T].

    Examples
    --------
    >>> import numpy as np
    >>> t, y, p = costate_ode(lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)),
    ...                       np.ones((1, 1)), activation="identity", t_eval=[0.0, 1.0])
    >>> np.round(p[0, :, 0], 6).tolist()          # p(s) = exp(-(1 - s))
    [0.367879, 1.0]
    """
    from scipy.integrate import solve_ivp
    # T as a t_span's end and t_eval within it: T = nan never returned (solve_ivp looped),
    # T < 0 and times outside [0, T] returned extrapolated values
    check_mesh((0.0, T), 1, None, "costate_ode")
    check_t_eval(t_eval, (0.0, T))
    X0 = np.atleast_2d(real_array(X0, "X0", bools=False))
    S, d = X0.shape
    sigma, dsigma = _activation(activation), _activation_derivative(activation)
    Wf = W if callable(W) else None
    bf = b if callable(b) else None
    if Wf is None or bf is None:
        raise TypeError("costate_ode needs callable fields W(t), b(t)")

    def rhs(s, y):
        Y = y.reshape(S, d)
        return sigma(Y @ np.asarray(Wf(s)).T + np.asarray(bf(s))).ravel()

    fwd = _checked(solve_ivp(rhs, (0.0, T), X0.ravel(), method="DOP853", rtol=rtol, atol=atol,
                             dense_output=True), "forward")
    YT = fwd.y[:, -1].reshape(S, d)
    grad_phi = _terminal_gradient(dphi(YT) if callable(dphi) else dphi, S, d)

    def back(s, p):
        Y = fwd.sol(s).reshape(S, d)
        Wm = np.asarray(Wf(s))
        ds = dsigma(Y @ Wm.T + np.asarray(bf(s)))                   # (S, d)
        P = p.reshape(S, d)
        return -np.einsum("sa,ac,sa->sc", ds, Wm, P).ravel()          # -(diag(s') W)^T p

    t_eval = np.linspace(0.0, T, 65) if t_eval is None else np.asarray(t_eval, dtype=float)
    bwd = _checked(solve_ivp(back, (T, 0.0), grad_phi.ravel(), method="DOP853", rtol=rtol,
                             atol=atol, dense_output=True), "costate")
    states = fwd.sol(t_eval).T.reshape(len(t_eval), S, d).transpose(1, 0, 2)
    costate = bwd.sol(t_eval).T.reshape(len(t_eval), S, d).transpose(1, 0, 2)
    return t_eval, states, costate


def _checked(result, what):
    """``result`` of ``solve_ivp`` if it succeeded with finite values, else SolverError."""
    if not result.success or not np.all(np.isfinite(result.y)):
        raise SolverError(f"costate_ode: the {what} solve failed at t = {result.t[-1]:.6g}: "
                          f"{result.message if not result.success else 'non-finite values'}")
    return result


# -- t-dependent kernels: the residual-dense continuum x(t) = x0 + int_0^t sigma(W(t,s) x + b(t,s)) ds --


@dataclass
class ContinuousDenseAdjointResult(_Outcome):
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
    status, message, error_estimate
        As in :class:`ContinuousAdjointResult` (``error_estimate`` of ``states``,
        ``adjoint``, ``grad_W``, ``grad_b``, ``line_W`` and ``line_b``).
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
    status: bool = True
    message: str = ""
    error_estimate: dict = dataclass_field(default_factory=dict)


def continuous_adjoint_dense(W, b, X0, dphi, activation="tanh", T=1.0, n_steps=128,
                             method="gregory6", error_estimate=True):
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
        M, the uniform mesh of the forward (``ResidualDense``) and the adjoint solve.
    method : str
        As in :func:`continuous_adjoint`: a direct-quadrature rule (gregory6 by default; the
        forward uses the same rule) or a Runge-Kutta / collocation method (callable fields).
    error_estimate : bool
        As in :func:`continuous_adjoint` (the outputs' estimates, from M/2 and M/4 steps).

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
    _check_options(method, error_estimate)
    X0 = np.atleast_2d(real_array(X0, "X0", bools=False))
    M = positive_int(n_steps, "n_steps")     # int() made 32.7 steps 32
    _check_steps(M, method, "continuous_adjoint_dense")
    # before the fields are sampled on all (M+1)^2 pairs: n_steps = 10**6 had the process
    # killed for its memory (the fields, f_y of every sample, the adjoint's table, grad_W)
    S, d = X0.shape[0], X0.shape[-1]
    check_memory(8.0 * float(M + 1) ** 2 * (d * d * (2 * S + 5) + d * (2 * S + 2)),
                 f"continuous_adjoint_dense with n_steps = {M} (tables on the {M + 1} x {M + 1} "
                 f"mesh pairs for {S} samples of dimension {d})")
    return _estimated(lambda Wk, bk, m: _dense_adjoint(Wk, bk, X0, dphi, activation, T, m, method),
                      W, b, M, method, _DENSE_AXES, True, error_estimate)


def _dense_adjoint(W, b, X0, dphi, activation, T, M, method):
    """:func:`continuous_adjoint_dense` on M steps, without the estimate."""
    S, d = X0.shape
    rule = _forward_rule(method)
    t = make_mesh((0.0, T), M, None, "continuous_adjoint_dense")
    Wg, bg = _fields_at(W, b, t, d, True, M)
    net = ResidualDense(Wg, bg, n_layers=M, activation=activation, T=T, rule=rule)
    states = net.states(X0)                                           # (S, M+1, d)
    grad_phi = _terminal_gradient(dphi(states[:, -1]) if callable(dphi) else dphi, S, d)
    # f_y(t_n, s_j) (S, n, j, d, d) from the pre-activations W(t_n, s_j) x(s_j) + b(t_n, s_j)
    dsig, fy = _linearised(Wg, bg, states, activation)
    tau = _table_nodes(method, M, T)
    if len(tau) != M + 1:                                              # add the stage times
        s_nodes = T - tau[::-1]
        Wn, bn = _fields_at(W, b, s_nodes, d, True, M)
        fy = _linearised(Wn, bn, _on_nodes(states, t, s_nodes, rule), activation)[1]
    # A[n, m] = f_y(t_{M-m}, s_{M-n}): reverse both indices, swap them -> (n, m, S, d, d)
    A = np.ascontiguousarray(fy[:, ::-1, ::-1].transpose(2, 1, 0, 3, 4))
    del fy
    F = np.einsum("nbca,bc->nba", A[:, 0], grad_phi).reshape(len(tau), S * d)  # A(tau, 0)^T grad phi
    sol = solve_volterra(_adjoint_kernel(A, tau, pairs=True), _table_forcing(F, tau), (0.0, T), M,
                         method=method, error_estimate=False, raise_on_failure=True)
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
        {"method": method, "forward_rule": rule, "n_steps": M, "adjoint_nfev": sol.stats.get("nfev"),
         "seconds": sol.stats.get("seconds")})


# -- the estimate: the same computation on M/2 and M/4 steps ------------------------------------

#: The outputs that get an estimate, with their mesh axes; the first two are those whose
#: resolution decides the status.
_RESNET_AXES = {"states": (1,), "costate": (1,), "adjoint": (1,), "grad_W": (0,), "grad_b": (0,)}
_DENSE_AXES = {"states": (1,), "adjoint": (1,), "grad_W": (0, 1), "grad_b": (0, 1),
               "line_W": (0,), "line_b": (0,)}


def _every(a, k, axes):
    """``a`` at every k-th mesh point along ``axes``."""
    index = [slice(None)] * a.ndim
    for ax in axes:
        index[ax] = slice(None, None, k)
    return a[tuple(index)]


def _spread(e, axes):
    """Estimates at every second mesh point, spread to all: an odd point takes the larger of
    its neighbours'."""
    for ax in axes:
        e = np.moveaxis(e, ax, 0)
        out = np.empty((2 * e.shape[0] - 1,) + e.shape[1:])
        out[::2] = e
        out[1::2] = np.maximum(e[:-1], e[1:])
        e = np.moveaxis(out, 0, ax)
    return e


def _estimated(solve, W, b, M, method, axes, two_variable, wanted):
    """``solve(W, b, M)`` with its status, message and, if ``wanted``, the estimates of its
    outputs X from companion solves (array fields read at every second and fourth point):

    * on M/2 and M/4 steps (M a multiple of 4): with D1 = |X_M - X_{M/2}| and D2 =
      |X_{M/2} - X_{M/4}| on the M/4 mesh (the states and the costate or adjoint), the order
      q = log2(max D2 / max D1) clipped to [1, p], and the estimate D1 / (2^q - 1) on the M/2
      mesh (an odd point takes the larger of its neighbours');
    * else on M/2 steps (M even), with q = 1: the difference itself;
    * else (callable fields) on 2M steps, with q = 1: twice the difference.
    """
    res = solve(W, b, M)
    names = list(axes)
    p = min(METHODS[method].order, 8)
    steps = max(METHODS[method].min_steps, METHODS[_forward_rule(method)].min_steps, 2)
    bad = next((n for n in names if not np.all(np.isfinite(getattr(res, n)))), None)
    if bad is not None:
        res.status, res.message = False, (f"{bad} is not finite: the states overflow (or the "
                                          f"fields give non-finite values) on {M} steps.")
        return res
    fine = callable(W) and callable(b)
    if not wanted or (M % 2 or M // 2 < steps) and not fine:
        res.message = ("Solved on the mesh; no error estimate (" +
                       ("error_estimate=False" if not wanted else
                        f"n_steps = {M}: with fields given as arrays the estimate needs an even "
                        f"number of at least {2 * steps} steps") + ").")
        return res

    def coarse(f, k):
        if callable(f):
            return f
        return _every(np.asarray(f, dtype=float), k, (0, 1) if two_variable else (0,))

    def gap(a, ka, c, kc, n):          # |a - c| of output n, a read every ka-th point, c kc-th
        return np.abs(_every(getattr(a, n), ka, axes[n]) - _every(getattr(c, n), kc, axes[n]))

    key = names[:2]
    if M % 4 == 0 and M // 4 >= steps:
        half = solve(coarse(W, 2), coarse(b, 2), M // 2)
        quarter = solve(coarse(W, 4), coarse(b, 4), M // 4)
        d1 = max(float(np.max(gap(res, 4, half, 2, n), initial=0.0)) for n in key)
        d2 = max(float(np.max(gap(half, 2, quarter, 1, n), initial=0.0)) for n in key)
        q = float(p) if d1 == 0.0 else float(np.clip(np.log2(d2 / d1), 1.0, p))
        q = q if np.isfinite(q) else 1.0
        estimates = {n: _spread(gap(res, 2, half, 1, n) / (2.0 ** q - 1.0), axes[n])
                     for n in names}
        used = (M // 2, M // 4)
    elif M % 2 == 0 and M // 2 >= steps:
        half = solve(coarse(W, 2), coarse(b, 2), M // 2)
        q, used = 1.0, (M // 2,)
        estimates = {n: _spread(gap(res, 2, half, 1, n), axes[n]) for n in names}
    else:
        double = solve(W, b, 2 * M)
        q, used = 1.0, (2 * M,)
        estimates = {n: 2.0 * gap(res, 1, double, 2, n) for n in names}
    res.error_estimate = estimates
    res.stats.update(max_error_estimates={n: float(np.max(e, initial=0.0))
                                          for n, e in estimates.items()},
                     estimate_order=q, estimate_steps=used)
    for n in key:
        size = float(np.max(np.abs(getattr(res, n)), initial=0.0))
        worst = float(np.max(estimates[n], initial=0.0))
        if not worst <= UNRESOLVED * size:
            res.status = False
            res.message = (f"The mesh of {M} steps does not resolve the {n}: their estimated "
                           f"error {worst:.3g} is not below {UNRESOLVED} times their size "
                           f"{size:.3g} (the solves on {M} and "
                           f"{' and '.join(map(str, used))} steps disagree): no digit can be "
                           f"trusted; use more steps.")
            return res
    res.message = (f"Solved on the mesh; estimated errors (from {' and '.join(map(str, used))} "
                   f"steps, order {q:.2g}): " +
                   ", ".join(f"{n} {res.stats['max_error_estimates'][n]:.2g}" for n in names) + ".")
    return res
