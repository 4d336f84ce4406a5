r"""Discrete and continuous adjoints: exact gradients of tiny networks and the costate ODE.

Discrete adjoint (NUMERICS.md "Adjoints"). For the direct-quadrature scheme

    y_n = g_n + h Σ_{j<=n} w_nj K_nj(y_j; θ),      n = 0..N   (row 0 is y_0 = g_0),

and a loss Φ(y_0, ..., y_N), the multipliers μ_n solve, backward in n,

    (I - h w_nn K_y(t_n, t_n, y_n))^T μ_n = ∂Φ/∂y_n + h Σ_{k>n} w_kn K_y(t_k, t_n, y_n)^T μ_k,

and the gradients of J_N = Φ(y(θ, x_0)) are

    ∇_θ J = Σ_k Σ_{j<=k} h w_kj K_θ(t_k, t_j, y_j)^T μ_k,     ∇_{x_0} J = Σ_k (∂g_k/∂x_0)^T μ_k.

(Lagrangian: Φ(y) - Σ_k μ_k^T (y_k - g_k - h Σ_j w_kj K_kj(y_j)); stationarity in y_n
is the recursion.) :func:`check_discrete_adjoint` compares these with the SymPy
gradient of the unrolled J_N, exactly, for symbolic weights, biases, x_0 and loss
parameters. For the explicit rectangle rule this is backpropagation through the
DenseNet; for implicit rules (w_nn != 0) the diagonal kernel is taken affine in y,
K_nn(y) = W_nn y + b_nn, so that the implicit step has a closed-form solution
y_n = (I - h w_nn W_nn)^{-1} (...) and J_N is an explicit rational function.

Continuous adjoint (DESIGN.md "Adjoint"). For y(t) = y_0 + ∫_0^t f(t, s, y(s), u(s)) ds
and cost φ(y(T)) + ∫ L, the adjoint is

    λ(s) = L_y(s)^T + f_y(T, s)^T ∇φ + ∫_s^T f_y(t, s)^T λ(t) dt,
    ∇_u J(s) = L_u(s)^T + f_u(T, s)^T ∇φ + ∫_s^T f_u(t, s)^T λ(t) dt.

If f does not depend on t, f_y(t, s) = F(s) leaves the integral and with the costate
p(s) = ∇φ + ∫_s^T λ(t) dt the adjoint equation *is* the classical costate ODE

    -p'(s) = F(s)^T p(s) + L_y(s)^T,   p(T) = ∇φ,   and   ∇_u J(s) = L_u(s)^T + f_u(s)^T p(s)

(the Hamiltonian gradient); λ = -p' = F^T p + L_y^T is then the rate of the costate.
:func:`check_costate_reduction` verifies this by differentiating the integral
equation symbolically.
"""
from __future__ import annotations

import sympy as sp

from ..quadrature import volterra_rule
from ._common import Sigma, all_zero, check_sizes, inverse_times, matrix_symbols, to_sympy, vector_symbols
from .state_space import h

__all__ = ["ADJOINT_RULES", "tiny_network", "forward_states", "adjoint_row",
           "discrete_adjoint", "adjoint_gradient", "check_discrete_adjoint",
           "check_adjoint_is_transpose", "check_costate_reduction"]

#: Rules without a starting block (the recursion above applies row by row).
ADJOINT_RULES = ("rectangle", "implicit-rectangle", "trapezoid")


def _exact_weights(rule, n_steps):
    return [[to_sympy(w) for w in row] for row in volterra_rule(rule).exact_weights(n_steps)]


def tiny_network(rule, n_steps, d, diagonal="affine"):
    """Symbolic parameters, kernel and loss of a tiny dense network on ``rule``.

    Parameters
    ----------
    rule : str
        One of :data:`ADJOINT_RULES`.
    n_steps, d : int
    diagonal : {"affine", "sigma"}
        Kernel on the diagonal j = n: W_nn y + b_nn (the implicit step then has a
        closed-form solution) or σ(W_nn y + b_nn) like the others.

    Returns
    -------
    dict
        ``weights`` (exact rows), ``x0``, ``params`` (list of symbols),
        ``kernel(n, j, y)`` = σ(W_nj y + b_nj) (σ generic), ``g(n)`` (= x_0),
        ``loss(ys)`` = ½ |y_N - ȳ|² + ½ ρ Σ_{n<N} |y_n|².
    """
    if rule not in ADJOINT_RULES:
        raise ValueError(f"rule must be one of {ADJOINT_RULES}, got {rule!r}")
    weights = _exact_weights(rule, n_steps)
    x0 = vector_symbols("x0", d)
    W, b, params = {}, {}, []
    for n in range(1, n_steps + 1):
        for j in range(n + 1):
            if weights[n][j] != 0:
                W[n, j] = matrix_symbols(f"W{n}{j}", d, d)
                b[n, j] = vector_symbols(f"b{n}{j}", d)
                params.extend(list(W[n, j]) + list(b[n, j]))
    target = vector_symbols("ybar", d)
    rho = sp.Symbol("rho")

    def kernel(n, j, y):
        z = W[n, j] * y + b[n, j]
        return z if (j == n and diagonal == "affine") else z.applyfunc(Sigma)

    def loss(ys):
        e = ys[-1] - target
        return (e.T * e)[0, 0] / 2 + rho * sum(((y.T * y)[0, 0] for y in ys[:-1]), 0) / 2

    return {"weights": weights, "x0": x0, "params": params, "kernel": kernel,
            "g": lambda n: x0, "loss": loss, "d": d, "n_steps": n_steps}


def forward_states(net, step=h):
    """y_0 ... y_N of the scheme; an implicit step is solved exactly (affine diagonal kernel)."""
    weights, kernel, d = net["weights"], net["kernel"], net["d"]
    ys = [net["g"](0)]
    for n in range(1, net["n_steps"] + 1):
        rhs = net["g"](n)
        for j in range(n):
            if weights[n][j] != 0:
                rhs = rhs + step * weights[n][j] * kernel(n, j, ys[j])
        if weights[n][n] == 0:
            ys.append(rhs)
            continue
        Y = vector_symbols("Ynew", d)
        residual = Y - rhs - step * weights[n][n] * kernel(n, n, Y)
        M = residual.jacobian(Y)
        if any(e.has(*Y) for e in M):
            raise ValueError("the diagonal kernel must be affine in y for an exact implicit step")
        ys.append(inverse_times(M, -residual.subs(dict(zip(Y, [0] * d)))))
    return ys


def _derivatives(net, ys, step=h):
    """∂Φ/∂y_n and (K_y, K_θ)(t_k, t_j, y_j) for the pairs with w_kj != 0 (y_j held fixed)."""
    d, N, weights = net["d"], net["n_steps"], net["weights"]
    theta = sp.Matrix(net["params"])
    Ysym = [vector_symbols(f"Yl{n}", d) for n in range(N + 1)]
    phi = net["loss"](Ysym)
    at = {s: v for Y, y in zip(Ysym, ys) for s, v in zip(Y, y)}
    dphi = [sp.Matrix([phi.diff(s) for s in Y]).subs(at) for Y in Ysym]
    Yfix = vector_symbols("Yfix", d)
    jac = {}
    for k in range(1, N + 1):
        for j in range(k + 1):
            if weights[k][j] != 0:
                K = net["kernel"](k, j, Yfix)
                sub = dict(zip(Yfix, ys[j]))
                jac[k, j] = (K.jacobian(Yfix).subs(sub), K.jacobian(theta).subs(sub))
    return dphi, jac


def adjoint_row(net, jac, dphi, n, mu, step=h, transpose=True, diagonal_solve=True, sign=1,
                adjoint_weights=None):
    r"""Row n of the adjoint recursion as (L_n, r_n) with L_n μ_n = r_n:

        L_n = (I - h w_nn K_y(t_n, t_n, y_n))^T,   r_n = ∂Φ/∂y_n + h Σ_{k>n} w_kn K_y(t_k, t_n, y_n)^T μ_k.

    ``transpose=False`` (K_y for K_y^T), ``diagonal_solve=False`` (L_n = I), ``sign=-1``
    (history term subtracted) and ``adjoint_weights`` (other w_kn) are broken variants.
    """
    d, N, weights = net["d"], net["n_steps"], net["weights"]
    bw = weights if adjoint_weights is None else adjoint_weights
    T = (lambda M: M.T) if transpose else (lambda M: M)
    rhs = dphi[n]
    for k in range(n + 1, N + 1):
        if (k, n) in jac and bw[k][n] != 0:
            rhs = rhs + sign * step * bw[k][n] * T(jac[k, n][0]) * mu[k]
    if diagonal_solve and n >= 1 and weights[n][n] != 0:
        return T(sp.eye(d) - step * weights[n][n] * jac[n, n][0]), rhs
    return sp.eye(d), rhs


def adjoint_gradient(net, jac, mu, step=h):
    r"""∇_θ J = Σ_k Σ_{j<=k} h w_kj K_θ(t_k, t_j, y_j)^T μ_k and ∇_{x_0} J = Σ_k (∂g_k/∂x_0)^T μ_k."""
    weights, d = net["weights"], net["d"]
    grad_theta = sp.zeros(len(net["params"]), 1)
    for (k, j), (_, K_theta) in jac.items():
        grad_theta += step * weights[k][j] * K_theta.T * mu[k]
    grad_x0 = sp.zeros(d, 1)
    for k in range(net["n_steps"] + 1):
        grad_x0 += net["g"](k).jacobian(net["x0"]).T * mu[k]
    return grad_theta, grad_x0


def discrete_adjoint(net, ys, step=h, **variant):
    r"""μ_N ... μ_0 by the backward recursion, and the gradients (∇_θ J, ∇_{x_0} J).

    Parameters
    ----------
    net : dict
        From :func:`tiny_network`.
    ys : list of column vectors
        The forward states.
    **variant
        Passed to :func:`adjoint_row` (broken variants for the tests).

    Returns
    -------
    mu : list of column vectors
    grad_theta, grad_x0 : column vectors
    """
    dphi, jac = _derivatives(net, ys, step)
    mu = [None] * (net["n_steps"] + 1)
    for n in range(net["n_steps"], -1, -1):
        L, rhs = adjoint_row(net, jac, dphi, n, mu, step, **variant)
        mu[n] = rhs if L == sp.eye(net["d"]) else inverse_times(L, rhs)
    return (mu,) + adjoint_gradient(net, jac, mu, step)


def check_discrete_adjoint(rule, n_steps, d, **variant):
    r"""The discrete adjoint gradient equals the SymPy gradient of the unrolled J_N, exactly.

    J_N = ½ |y_N - ȳ|² + ½ ρ Σ_{n<N} |y_n|² on the tiny network of :func:`tiny_network`
    (affine diagonal kernel, so that J_N is an explicit function of the parameters;
    N layers, width d, every weight, bias, x_0, ȳ, ρ symbolic, σ generic). Both
    ∇_θ J and ∇_{x_0} J are compared with ``J_N.diff(p)``.

    Parameters
    ----------
    rule : str
        One of :data:`ADJOINT_RULES`.
    n_steps, d : int
    **variant
        Passed to :func:`adjoint_row` (``transpose=False``, ``diagonal_solve=False``,
        ``sign=-1``, ``adjoint_weights=...``): broken variants, which must fail.

    Examples
    --------
    >>> check_discrete_adjoint("rectangle", 2, 1)
    True
    >>> check_discrete_adjoint("rectangle", 2, 1, sign=-1)
    False
    """
    check_sizes(n_steps=n_steps, d=d)
    net = tiny_network(rule, n_steps, d)
    ys = forward_states(net)
    J = net["loss"](ys)
    _, grad_theta, grad_x0 = discrete_adjoint(net, ys, **variant)
    exact_theta = [J.diff(p) for p in net["params"]]
    exact_x0 = [J.diff(x) for x in net["x0"]]
    return all_zero([a - e for a, e in zip(grad_theta, exact_theta)]) and all_zero(
        [a - e for a, e in zip(grad_x0, exact_x0)])


def check_adjoint_is_transpose(rule, n_steps, d, **variant):
    r"""The recursion is the transposed linearised scheme (implicit function theorem), exactly.

    With the states as free symbols Y_0 ... Y_N and a kernel σ(W_nj y + b_nj) on every
    pair *including the diagonal* (a nonlinear implicit step), write the scheme as
    E(Y, θ, x_0) = 0, E_n = Y_n - g_n - h Σ_{j<=n} w_nj K_nj(Y_j) (E_0 = Y_0 - x_0).
    Wherever the scheme is solvable (E_Y invertible: blocks I - h w_nn K_y), the
    implicit function theorem gives ∇J = -E_p^T μ* with E_Y^T μ* = Φ_Y^T (p = θ or x_0).
    For free multipliers μ_0 ... μ_N (symbols) this checks, as polynomial identities,

    * L_n μ_n - r_n (row n of the recursion, :func:`adjoint_row`) = (E_Y^T μ - Φ_Y^T)_n;
    * :func:`adjoint_gradient` (μ) = -E_θ^T μ and -E_{x_0}^T μ.

    So the μ of the recursion is μ* and its gradients are ∇_θ J and ∇_{x_0} J, for
    every smooth σ and every N, d checked.

    Examples
    --------
    >>> check_adjoint_is_transpose("trapezoid", 2, 2)
    True
    >>> check_adjoint_is_transpose("trapezoid", 2, 2, transpose=False)
    False
    """
    check_sizes(n_steps=n_steps, d=d)
    net = tiny_network(rule, n_steps, d, diagonal="sigma")
    N, weights, kernel = n_steps, net["weights"], net["kernel"]
    Y = [vector_symbols(f"Y{n}", d) for n in range(N + 1)]
    mu = [vector_symbols(f"mu{n}", d) for n in range(N + 1)]
    E = [Y[0] - net["g"](0)]
    for n in range(1, N + 1):
        e = Y[n] - net["g"](n)
        for j in range(n + 1):
            if weights[n][j] != 0:
                e = e - h * weights[n][j] * kernel(n, j, Y[j])
        E.append(e)
    E, Yall, mu_all = sp.Matrix.vstack(*E), sp.Matrix.vstack(*Y), sp.Matrix.vstack(*mu)
    phi_Y = sp.Matrix([net["loss"](Y).diff(y) for y in Yall])
    ift_adjoint = E.jacobian(Yall).T * mu_all - phi_Y
    ift_theta = -E.jacobian(sp.Matrix(net["params"])).T * mu_all
    ift_x0 = -E.jacobian(net["x0"]).T * mu_all

    dphi, jac = _derivatives(net, Y)
    rows = []
    for n in range(N + 1):
        L, r = adjoint_row(net, jac, dphi, n, mu, **variant)
        rows.append(L * mu[n] - r)
    grad_theta, grad_x0 = adjoint_gradient(net, jac, mu)
    return (all_zero(sp.Matrix.vstack(*rows) - ift_adjoint) and all_zero(grad_theta - ift_theta)
            and all_zero(grad_x0 - ift_x0))


def check_costate_reduction(d=2, controls=1, t_independent=True, costate="integral"):
    r"""For a t-independent kernel the Volterra adjoint is the costate ODE (symbolic d).

    With λ_i(t), F_ij(s) = f_y, G_il(s) = f_u, ℓ_i(s) = L_y, m_l(s) = L_u generic
    functions and ∇φ symbolic, the residual of the adjoint integral equation

        R(s) = λ(s) - ℓ(s) - F(s)^T ∇φ - ∫_s^T F(s)^T λ(t) dt

    and the residual of the costate ODE for p(s) = ∇φ + ∫_s^T λ(t) dt,

        -p'(s) - F(s)^T p(s) - ℓ(s),

    are the same expression (SymPy differentiates the integral in its lower limit),
    p(T) = ∇φ, and ∇_u J(s) = m(s) + G(s)^T ∇φ + ∫_s^T G(s)^T λ dt = m(s) + G(s)^T p(s).
    So λ solves the adjoint equation iff p solves -p' = F^T p + ℓ, p(T) = ∇φ.

    Parameters
    ----------
    d, controls : int
        State and control dimensions.
    t_independent : bool
        False uses F(t, s), G(t, s) (a kernel depending on t): the reduction fails.
    costate : {"integral", "lambda"}
        "lambda" claims instead that λ itself solves -λ' = F^T λ + ℓ, λ(T) = ∇φ,
        which is false unless F and ℓ are constant: the check fails.

    Examples
    --------
    >>> check_costate_reduction(1)
    True
    >>> check_costate_reduction(1, t_independent=False)
    False
    """
    check_sizes(d=d, controls=controls)
    s, t, T = sp.symbols("s t T", real=True)
    lam = [sp.Function(f"lambda_{i}") for i in range(d)]
    lam_t, lam_s = sp.Matrix([f(t) for f in lam]), sp.Matrix([f(s) for f in lam])
    grad_phi = vector_symbols("gphi", d)

    def field(name, rows, cols, at_t):
        args = (t, s) if (at_t and not t_independent) else (s,)
        return sp.Matrix(rows, cols, lambda r, c: sp.Function(f"{name}_{r}{c}")(*args))

    F_ts, F_Ts = field("F", d, d, True), field("F", d, d, True).subs(t, T)
    G_ts, G_Ts = field("G", d, controls, True), field("G", d, controls, True).subs(t, T)
    ell = sp.Matrix([sp.Function(f"l_{i}")(s) for i in range(d)])
    m = sp.Matrix([sp.Function(f"m_{i}")(s) for i in range(controls)])

    def integral(vec):
        # term by term, so that factors independent of t leave the integral
        return vec.applyfunc(lambda e: sum((sp.integrate(term, (t, s, T))
                                            for term in sp.Add.make_args(sp.expand(e))), 0))

    R = lam_s - ell - F_Ts.T * grad_phi - integral(F_ts.T * lam_t)
    grad_u = m + G_Ts.T * grad_phi + integral(G_ts.T * lam_t)
    F_s = F_ts.subs(t, s)
    G_s = G_ts.subs(t, s)
    if costate == "integral":
        # E[λ] := -p' - F^T p - ℓ is identically R[λ]: E = 0 exactly when R = 0
        p = grad_phi + integral(lam_t)
        ode_residual = -p.diff(s) - F_s.T * p - ell - R
        terminal = p.subs(s, T).applyfunc(lambda e: e.doit()) - grad_phi
        gradient = grad_u - (m + G_s.T * p)
    elif costate == "lambda":
        # On solutions of the adjoint equation λ = Λ := λ - R = ℓ + F(T,s)^T ∇φ + ∫ F^T λ;
        # the claim -λ' = F^T λ + ℓ, λ(T) = ∇φ, ∇_u J = L_u + G^T λ would make these vanish.
        Lam = lam_s - R
        ode_residual = -Lam.diff(s) - F_s.T * Lam - ell
        terminal = Lam.subs(s, T).applyfunc(lambda e: e.doit()) - grad_phi
        gradient = grad_u - (m + G_s.T * Lam)
    else:
        raise ValueError(f"costate must be 'integral' or 'lambda', got {costate!r}")
    return all_zero(ode_residual) and all_zero(terminal) and all_zero(gradient)
