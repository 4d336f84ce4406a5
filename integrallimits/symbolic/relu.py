r"""ReLU ResNets on a fixed activation pattern: the activation-matrix product formula.

For x_n = x_{n-1} + V_n relu(W_n x_{n-1} + b_n) (V_n: d x m, W_n: m x d, b_n ∈ R^m, the
inner width m may differ from d), the activation matrix D_n = diag(1[W_n x_{n-1} + b_n > 0])
makes each layer affine, relu(z) = D_n z, on its activation domain, and then

    x_n = P_{n,1} x_0 + Σ_{k=1}^{n} P_{n,k+1} V_k D_k b_k,
    P_{n,k} = (I + V_n D_n W_n)(I + V_{n-1} D_{n-1} W_{n-1}) ⋯ (I + V_k D_k W_k),  P_{n,n+1} = I.

:func:`check_relu_product_formula` proves the formula with symbolic V, W, b, x_0 and a
*symbolic* diagonal D_n = diag(δ_{n,1}, ..., δ_{n,m}): it holds for every diagonal matrix,
so at once for all 2^{mN} activation patterns (δ ∈ {0, 1}). :func:`check_relu_is_pattern`
checks relu(z) = D z on the domain of each pattern with SymPy's ``Max`` and sign
assumptions.
"""
from __future__ import annotations

from itertools import product

import sympy as sp

from ._common import all_zero, check_sizes, matrix_symbols, vector_symbols

__all__ = ["relu_layer_parameters", "relu_resnet_on_pattern", "activation_product",
           "relu_product_formula", "check_relu_product_formula", "check_relu_is_pattern"]


def relu_layer_parameters(n_steps, d, m):
    """Symbolic V_n (d x m), W_n (m x d), b_n (m) and D_n = diag(δ_n), n = 1..N (index 0 unused)."""
    V = [None] + [matrix_symbols(f"V{n}", d, m) for n in range(1, n_steps + 1)]
    W = [None] + [matrix_symbols(f"W{n}", m, d) for n in range(1, n_steps + 1)]
    b = [None] + [vector_symbols(f"b{n}", m) for n in range(1, n_steps + 1)]
    D = [None] + [sp.diag(*vector_symbols(f"delta{n}", m)) for n in range(1, n_steps + 1)]
    return V, W, b, D


def relu_resnet_on_pattern(x0, V, W, b, D, n_steps):
    """x_n = x_{n-1} + V_n D_n (W_n x_{n-1} + b_n): the composed network on the pattern."""
    xs = [x0]
    for n in range(1, n_steps + 1):
        xs.append(xs[-1] + V[n] * D[n] * (W[n] * xs[-1] + b[n]))
    return xs


def activation_product(V, W, D, n, k, order="descending"):
    """P_{n,k} = (I + V_n D_n W_n) ⋯ (I + V_k D_k W_k) (I for k = n + 1).

    ``order="ascending"`` multiplies in the opposite order (a broken variant).
    """
    d = V[1].shape[0]
    P = sp.eye(d)
    for layer in range(k, n + 1):
        factor = sp.eye(d) + V[layer] * D[layer] * W[layer]
        P = factor * P if order == "descending" else P * factor
    return P


def relu_product_formula(x0, V, W, b, D, n, order="descending", bias_shift=1):
    """x_n = P_{n,1} x_0 + Σ_{k=1}^n P_{n,k+bias_shift} V_k D_k b_k (bias_shift=1 is correct)."""
    x = activation_product(V, W, D, n, 1, order) * x0
    for k in range(1, n + 1):
        x += activation_product(V, W, D, n, k + bias_shift, order) * V[k] * D[k] * b[k]
    return x


def check_relu_product_formula(n_steps, d, m, order="descending", bias_shift=1):
    r"""The product formula equals the composed network exactly, for every n <= N.

    Symbolic V_n, W_n, b_n, x_0 and symbolic diagonal D_n (all activation patterns).

    Parameters
    ----------
    n_steps, d, m : int
        Depth N, width d, inner width m (m != d gives the non-square factors).
    order, bias_shift
        Broken variants: ``order="ascending"`` (reversed product), ``bias_shift=0``
        (P_{n,k} instead of P_{n,k+1} in the bias sum).

    Examples
    --------
    >>> check_relu_product_formula(2, 2, 3)
    True
    >>> check_relu_product_formula(2, 2, 3, order="ascending")
    False
    """
    check_sizes(n_steps=n_steps, d=d, m=m)
    if order not in ("descending", "ascending"):   # (any other text was read as "ascending")
        raise ValueError(f"order must be 'descending' or 'ascending', got {order!r}")
    if isinstance(bias_shift, bool) or not isinstance(bias_shift, int):
        raise TypeError(f"bias_shift must be an integer (1 is the formula), got {bias_shift!r}")
    V, W, b, D = relu_layer_parameters(n_steps, d, m)
    x0 = vector_symbols("x0", d)
    xs = relu_resnet_on_pattern(x0, V, W, b, D, n_steps)
    return all(all_zero(xs[n] - relu_product_formula(x0, V, W, b, D, n, order, bias_shift))
               for n in range(n_steps + 1))


def check_relu_is_pattern(m, activation=None):
    r"""relu(z) = D z on the activation domain of every pattern δ ∈ {0, 1}^m.

    On the domain of δ, z_i = s_i > 0 where δ_i = 1 and z_i = -s_i < 0 where δ_i = 0
    (s_i > 0 symbols); SymPy's Max(0, z_i) must reduce to δ_i z_i. ``activation``
    replaces relu (a broken variant, e.g. ``sympy.Abs``).

    Examples
    --------
    >>> check_relu_is_pattern(2)
    True
    >>> check_relu_is_pattern(2, activation=sp.Abs)
    False
    """
    check_sizes(m=m)
    activation = (lambda e: sp.Max(0, e)) if activation is None else activation
    s = [sp.Symbol(f"s{i}", positive=True) for i in range(m)]
    for delta in product((0, 1), repeat=m):
        z = sp.Matrix([s[i] if delta[i] else -s[i] for i in range(m)])
        relu = z.applyfunc(activation)
        if not all_zero(relu - sp.diag(*delta) * z):
            return False
    return True
