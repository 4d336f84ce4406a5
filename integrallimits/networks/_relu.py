r"""ReLU ResNets with inner width m != d, and their activation-matrix form.

.. math:: x_n = x_{n-1} + V_n\, \mathrm{relu}(W_n x_{n-1} + b_n), \qquad n = 1, \dots, N,

with V_n (d, m), W_n (m, d), b_n (m).  On the activation pattern
D_n(x) = diag(1[W_n x_{n-1} + b_n > 0]) the map is affine:

.. math:: x_n = P_{n,1} x_0 + \sum_{k=1}^{n} P_{n,k+1} V_k D_k b_k,\qquad
          P_{n,k} = (I + V_n D_n W_n) \cdots (I + V_k D_k W_k),\ P_{n,n+1} = I.

Convergence of x_n as n -> infinity follows from summability of
sum ||V_n|| ||W_n|| and sum ||V_n|| ||b_n|| (:func:`summability`).
"""
from __future__ import annotations

import numpy as np

from . import _kernels
from ._families import VolterraNetwork, real_array

__all__ = ["ReLUResNet", "activation_patterns", "product_form", "summability"]


class ReLUResNet(VolterraNetwork):
    """ReLU ResNet with inner width m, as the rectangle rule on K(s, x) = V(s) relu(W(s) x + b(s)) / h.

    Parameters
    ----------
    V : array (N, d, m)
    W : array (N, m, d)
    b : array (N, m)
        Layer n = 1..N uses V[n-1], W[n-1], b[n-1] (not scaled by h: give V_n = h V(t_n)
        for a depth-scaled network).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> net = ReLUResNet(rng.normal(size=(8, 2, 5)) / 8, rng.normal(size=(8, 5, 2)), rng.normal(size=(8, 5)))
    >>> x = net.forward(np.ones((1, 2)))
    >>> bool(np.allclose(x, product_form(net, np.ones(2))[-1]))
    True
    """

    family = "relu-resnet"
    t_independent = True
    _FIELDS = ("V", "W", "b")

    def __init__(self, V, W, b, T=1.0, rule="rectangle"):
        V, W, b = (real_array(a, name, bools=False) for a, name in ((V, "V"), (W, "W"), (b, "b")))
        if V.ndim != 3 or W.ndim != 3 or b.ndim != 2:
            raise ValueError(f"V, W, b must have shapes (N, d, m), (N, m, d), (N, m); got {V.shape}, "
                             f"{W.shape}, {b.shape}")
        N, d, m = V.shape
        if W.shape != (N, m, d) or b.shape != (N, m):
            raise ValueError(f"V {V.shape} needs W of shape {(N, m, d)} and b of shape {(N, m)}, got "
                             f"{W.shape} and {b.shape}")
        if not all(np.all(np.isfinite(a)) for a in (V, W, b)):
            raise ValueError("V, W, b contain NaN or inf")
        super().__init__(d, N, T, rule, "relu")
        self.m = m
        pad = lambda a: np.concatenate([a, a[-1:]])  # noqa: E731  (index N, read by no explicit rule)
        header, padded = self._header(m), [pad(V), pad(W), pad(b)]
        self.theta = _kernels.pack(header, *padded)
        # the fields are views of theta (not the caller's arrays): edits in place reach the kernel
        self.V, self.W, self.b = (a[:N] for a in _kernels.views(self.theta, len(header), *padded))


def _as_point(net, x0):
    if net.rule != "rectangle":   # the formulas are the recursion's: another rule's network differs
        raise ValueError(f"the activation patterns and the product formula are those of the "
                         f"recursion x_n = x_(n-1) + V_n relu(W_n x_(n-1) + b_n) (the rectangle "
                         f"rule); this network uses the rule {net.rule!r}")
    x0 = real_array(x0, "x0", bools=False)
    if x0.shape != (net.d,):
        raise ValueError(f"x0 must have shape ({net.d},), got {x0.shape}")
    if not np.all(np.isfinite(x0)):   # (the patterns of NaN were all "off", the states NaN)
        raise ValueError("x0 contains NaN or inf")
    return x0


def activation_patterns(net, x0):
    """D_n(x0) for n = 1..N as a boolean array (N, m) (from the forward pass of x0)."""
    x = _as_point(net, x0)
    D = np.empty((net.n_layers, net.m), dtype=bool)
    for n in range(net.n_layers):
        z = net.W[n] @ x + net.b[n]
        D[n] = z > 0
        x = x + net.V[n] @ np.where(D[n], z, 0.0)
    return D


def product_form(net, x0, patterns=None):
    """x_0..x_N from the product formula on the activation patterns (array (N+1, d))."""
    x0 = _as_point(net, x0)
    D = activation_patterns(net, x0) if patterns is None else np.asarray(patterns, dtype=bool)
    if D.shape != (net.n_layers, net.m):
        raise ValueError(f"patterns must have shape ({net.n_layers}, {net.m}), got {D.shape}")
    d = net.d
    out = np.empty((net.n_layers + 1, d))
    out[0] = x0
    # accumulate P_{n,1} and the sum s_n = sum_k P_{n,k+1} V_k D_k b_k by left multiplication
    P = np.eye(d)
    s = np.zeros(d)
    for n in range(net.n_layers):
        VD = net.V[n] * D[n][None, :]            # V_n D_n, (d, m) non-square
        A = np.eye(d) + VD @ net.W[n]            # I + V_n D_n W_n
        P = A @ P
        s = A @ s + VD @ net.b[n]
        out[n + 1] = P @ x0 + s
    return out


def summability(V, W, b):
    """Partial sums S_VW(n) = sum_{k<=n} ||V_k|| ||W_k|| and S_Vb(n) = sum ||V_k|| ||b_k||
    (spectral / Euclidean norms), returned as a dict of arrays with the tail ratio
    (S(N) - S(N/2)) / S(N): small for summable sequences, near 1/2 or more for divergent ones
    (NaN for N = 1, where no tail can be told: the ratio would be 0, "summable", whatever the
    weights)."""
    V, W, b = (real_array(a, name, bools=False) for a, name in ((V, "V"), (W, "W"), (b, "b")))
    if V.ndim != 3 or W.shape != (V.shape[0], V.shape[2], V.shape[1]) or \
            b.shape != (V.shape[0], V.shape[2]):
        raise ValueError(f"V, W, b must have shapes (N, d, m), (N, m, d), (N, m); got {V.shape}, "
                         f"{W.shape}, {b.shape}")
    if not all(np.all(np.isfinite(a)) for a in (V, W, b)):   # (was "SVD did not converge")
        raise ValueError("V, W, b contain NaN or inf")
    nv = np.linalg.norm(V, ord=2, axis=(1, 2))
    vw = np.cumsum(nv * np.linalg.norm(W, ord=2, axis=(1, 2)))
    vb = np.cumsum(nv * np.linalg.norm(b, axis=1))
    half = len(vw) // 2 - 1
    tail = lambda S: (float("nan") if len(S) < 2 else  # noqa: E731
                      float((S[-1] - S[half]) / S[-1]) if S[-1] > 0 else 0.0)
    return {"VW": vw, "Vb": vb, "tail_VW": tail(vw), "tail_Vb": tail(vb)}
