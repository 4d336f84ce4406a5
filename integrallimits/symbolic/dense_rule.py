r"""The DenseNet map is the explicit rectangle rule; the ResNet is its t-independent case.

Direct quadrature for y(t) = g(t) + ∫_0^t K(t, s, y(s)) ds with a Volterra rule w:

    y_n = g(t_n) + h Σ_{j<=n} w_nj K(t_n, t_j, y_j).                                (DQ)

* residual-dense network  x_n = x_0 + h Σ_{j<n} σ(W_nj x_j + b_nj)  is (DQ) with the
  weights of ``volterra_rule("rectangle")`` (w_nj = 1 for j < n, w_nn = 0), g = x_0
  and K(t_n, t_j, y) = σ(W_nj y + b_nj);
* concatenation-dense network  z_n = g_n + h Σ_{j<n} W_nj σ(z_j)  is (DQ) with the
  same weights and the Hammerstein kernel K(t_n, t_j, z) = W_nj σ(z);
* ResNet  x_n = x_{n-1} + h σ(W_{n-1} x_{n-1} + b_{n-1})  is the residual-dense
  network whose kernel does not depend on t: W_nj = W_j, b_nj = b_j.

σ is a generic (undefined) function applied entrywise, W_nj, b_nj, x_0 have symbolic
entries, so the identities hold for every activation and every parameter value.
"""
from __future__ import annotations

import sympy as sp

from ..quadrature import volterra_rule
from ._common import (Sigma, all_zero, check_sizes, check_weight_rows, matrix_symbols, to_sympy,
                      vector_symbols)
from .state_space import h

__all__ = ["direct_quadrature", "residual_dense_network", "concatenation_dense_network",
           "resnet", "dense_parameters", "check_dense_is_rectangle",
           "check_resnet_is_t_independent_dense"]


def _act(v, sigma=Sigma):
    return v.applyfunc(sigma)


def direct_quadrature(g, kernel, weights, n_steps, step=h):
    """y_0 ... y_N of (DQ) for an *explicit* rule (w_nn = 0 for n >= 1).

    Parameters
    ----------
    g : callable n -> column vector
    kernel : callable (n, j, y) -> column vector
        K(t_n, t_j, y).
    weights : list of rows
        w_nj (exact numbers), rows 0..N, as ``VolterraRule.exact_weights(N)``.
    """
    check_weight_rows(weights, n_steps)
    ys = [g(0)]
    for n in range(1, n_steps + 1):
        row = [to_sympy(w) for w in weights[n]]
        if row[n] != 0 or any(w != 0 for w in row[n + 1:]):
            raise ValueError(f"row {n} of the rule is not explicit (w_nn != 0 or w_nj != 0 for j > n)")
        y = g(n)
        for j in range(n):
            if row[j] != 0:
                y = y + step * row[j] * kernel(n, j, ys[j])
        ys.append(y)
    return ys


def dense_parameters(n_steps, d, t_independent=False):
    """Symbolic W_nj (d x d) and b_nj (d) for 0 <= j < n <= N; t-independent: W_nj = W_j."""
    W, b = {}, {}
    for n in range(1, n_steps + 1):
        for j in range(n):
            tag = f"{j}" if t_independent else f"{n}_{j}"
            W[n, j] = matrix_symbols(f"W{tag}", d, d)
            b[n, j] = vector_symbols(f"b{tag}", d)
    return W, b


def residual_dense_network(x0, W, b, n_steps, step=h, sigma=Sigma):
    """x_n = x_0 + h Σ_{j<n} σ(W_nj x_j + b_nj), written directly (no rule)."""
    xs = [x0]
    for n in range(1, n_steps + 1):
        xs.append(x0 + step * sum((_act(W[n, j] * xs[j] + b[n, j], sigma) for j in range(n)),
                                  sp.zeros(*x0.shape)))
    return xs


def concatenation_dense_network(g, W, n_steps, step=h, sigma=Sigma):
    """z_n = g_n + h Σ_{j<n} W_nj σ(z_j), written directly (no rule)."""
    zs = [g(0)]
    for n in range(1, n_steps + 1):
        zs.append(g(n) + step * sum((W[n, j] * _act(zs[j], sigma) for j in range(n)),
                                    sp.zeros(*zs[0].shape)))
    return zs


def resnet(x0, W, b, n_steps, step=h, sigma=Sigma):
    """x_n = x_{n-1} + h σ(W_{n-1} x_{n-1} + b_{n-1}); W, b indexed by the layer j."""
    xs = [x0]
    for n in range(1, n_steps + 1):
        xs.append(xs[-1] + step * _act(W[n - 1] * xs[-1] + b[n - 1], sigma))
    return xs


def check_dense_is_rectangle(n_steps, d, family="residual", weights=None):
    r"""The unrolled dense network equals (DQ) with the explicit rectangle rule, exactly.

    Parameters
    ----------
    n_steps, d : int
        N layers, width d (symbolic σ, W_nj, b_nj, x_0 / g_n).
    family : {"residual", "concatenation"}
    weights : list of rows, optional
        Replace ``volterra_rule("rectangle").exact_weights(N)`` (a broken variant).

    Returns
    -------
    bool
        True iff x_n - y_n is exactly zero for every n <= N.

    Examples
    --------
    >>> check_dense_is_rectangle(2, 1)
    True
    >>> from fractions import Fraction
    >>> check_dense_is_rectangle(2, 1, weights=[[0], [1, 0], [Fraction(1, 2), 1, 0]])
    False
    """
    check_sizes(n_steps=n_steps, d=d)
    weights = volterra_rule("rectangle").exact_weights(n_steps) if weights is None else weights
    W, b = dense_parameters(n_steps, d)
    if family == "residual":
        x0 = vector_symbols("x0", d)
        net = residual_dense_network(x0, W, b, n_steps)
        scheme = direct_quadrature(lambda n: x0, lambda n, j, y: _act(W[n, j] * y + b[n, j]),
                                   weights, n_steps)
    elif family == "concatenation":
        gs = [vector_symbols(f"g{n}", d) for n in range(n_steps + 1)]
        net = concatenation_dense_network(lambda n: gs[n], W, n_steps)
        scheme = direct_quadrature(lambda n: gs[n], lambda n, j, z: W[n, j] * _act(z),
                                   weights, n_steps)
    else:
        raise ValueError(f"family must be 'residual' or 'concatenation', got {family!r}")
    return all_zero(sum((list(x - y) for x, y in zip(net, scheme)), []))


def check_resnet_is_t_independent_dense(n_steps, d, t_independent=True):
    r"""ResNet x_n = x_{n-1} + h σ(W_{n-1} x_{n-1} + b_{n-1}) = dense net with W_nj = W_j.

    By telescoping, x_n = x_0 + h Σ_{j<n} σ(W_j x_j + b_j). ``t_independent=False``
    compares with the dense network with its own W_nj, b_nj (which is *not* a ResNet:
    the check then fails for N >= 2).

    Examples
    --------
    >>> check_resnet_is_t_independent_dense(3, 1)
    True
    >>> check_resnet_is_t_independent_dense(3, 1, t_independent=False)
    False
    """
    check_sizes(n_steps=n_steps, d=d)
    x0 = vector_symbols("x0", d)
    layer_W = [matrix_symbols(f"W{j}", d, d) for j in range(n_steps)]
    layer_b = [vector_symbols(f"b{j}", d) for j in range(n_steps)]
    res = resnet(x0, layer_W, layer_b, n_steps)
    if t_independent:
        W = {(n, j): layer_W[j] for n in range(1, n_steps + 1) for j in range(n)}
        b = {(n, j): layer_b[j] for n in range(1, n_steps + 1) for j in range(n)}
    else:
        W, b = dense_parameters(n_steps, d)
        # keep the last layer's own parameters equal to the ResNet's, so only the
        # t-dependence differs
        for n in range(1, n_steps + 1):
            W[n, n - 1], b[n, n - 1] = layer_W[n - 1], layer_b[n - 1]
    dense = residual_dense_network(x0, W, b, n_steps)
    return all_zero(sum((list(x - y) for x, y in zip(res, dense)), []))
