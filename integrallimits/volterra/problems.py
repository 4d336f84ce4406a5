"""Built-in test problems with exact solutions (used by the tests, the "orders" study,
the CLI's example and the benchmarks).

Each problem states K as a plain NumPy function (the way a user writes it), its
Jacobian, the exact solution, and the same K and solution as SymPy expressions.
The forcing g is *derived*, g(t) = y(t) - int_0^t K(t, s, y(s)) ds, with SymPy on
first use, so no forcing is typed in by hand.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import sympy as sp

__all__ = ["Problem", "PROBLEMS", "problem"]

_t, _s = sp.symbols("t s", real=True)


@dataclass(eq=False)
class Problem:
    """y(t) = g(t) + int_0^t K(t, s, y(s)) ds on t_span with a known solution.

    Attributes
    ----------
    name, description : str
    kernel : callable K(t, s, y)
    jacobian : callable dK/dy(t, s, y)
    exact : callable y(t) (vectorised over an array of t; returns (n,) or (n, d))
    t_span : tuple
    dim : int or None (None for scalar problems)
    kernel_expr : sympy expression(s) in t, s and the symbol(s) ``y_symbols``
    exact_expr : sympy expression(s) in t
    tags : frozenset of str ("nonlinear", "convolution", "t-independent", "vector", ...)
    """

    name: str
    description: str
    kernel: object
    jacobian: object
    kernel_expr: object
    exact_expr: object
    y_symbols: object
    t_span: tuple = (0.0, 1.0)
    tags: frozenset = field(default_factory=frozenset)

    @property
    def dim(self):
        return None if isinstance(self.y_symbols, sp.Symbol) else len(self.y_symbols)

    @cached_property
    def forcing_expr(self):
        """g = y - int_0^t K(t, s, y(s)) ds, derived exactly with SymPy."""
        ys = [self.exact_expr] if self.dim is None else list(self.exact_expr)
        syms = [self.y_symbols] if self.dim is None else list(self.y_symbols)
        Ks = [self.kernel_expr] if self.dim is None else list(self.kernel_expr)
        subs = {y: e.subs(_t, _s) for y, e in zip(syms, ys)}
        g = [_canonical(y - sp.integrate(k.subs(subs), (_s, 0, _t))) for y, k in zip(ys, Ks)]
        if any(gi.has(sp.Integral) for gi in g):
            raise RuntimeError(f"SymPy could not integrate the kernel of problem {self.name!r}")
        return g[0] if self.dim is None else g

    @cached_property
    def forcing(self):
        """g(t) as a Python callable (float or (d,) array)."""
        f = sp.lambdify(_t, self.forcing_expr, modules="numpy")
        if self.dim is None:
            return lambda t: float(f(t))
        return lambda t: np.array(f(t), dtype=float)

    @cached_property
    def exact(self):
        f = sp.lambdify(_t, self.exact_expr, modules="numpy")
        if self.dim is None:
            return lambda t: np.asarray(f(np.asarray(t, dtype=float)), dtype=float) + 0 * np.asarray(t)
        return lambda t: np.stack(np.broadcast_arrays(*f(np.asarray(t, dtype=float))), axis=-1)


def _canonical(expr):
    """One fixed form of an expression built from powers, exponentials, sines and cosines.

    SymPy's ``integrate`` and ``simplify`` return different (equal) forms from run to
    run (they iterate over sets, whose order follows Python's hash seed), and different
    forms round differently: the forcing, and every error computed from it, would then
    change in the last bits between processes.  Products and powers of sines and
    cosines are turned into sums (``TR8``) and the result expanded, which gives the
    same expression for equal inputs in every process.
    """
    from sympy.simplify.fu import TR8
    return sp.expand(TR8(sp.expand(expr)))


# -- the kernels, written as a user writes them ---------------------------------------------

def _k_exp_square(t, s, y):
    return np.exp(-(t - s)) * y * y


def _j_exp_square(t, s, y):
    return 2.0 * np.exp(-(t - s)) * y


def _k_cos(t, s, y):
    return -(t - s) * y


def _j_cos(t, s, y):
    return -(t - s)


def _k_cos6(t, s, y):
    return (t - s) * y


def _j_cos6(t, s, y):
    return t - s


def _k_inverse(t, s, y):
    return -y * y


def _j_inverse(t, s, y):
    return -2.0 * y


def _k_nonconv(t, s, y):
    return (t + s + 1.0) * y * y


def _j_nonconv(t, s, y):
    return 2.0 * (t + s + 1.0) * y


def _k_vector(t, s, y):
    return np.array([(1.0 + t - s) * y[0] * y[1],
                     np.exp(s - t) * y[0] - 0.5 * t * s * y[1] ** 2])


def _j_vector(t, s, y):
    return np.array([[(1.0 + t - s) * y[1], (1.0 + t - s) * y[0]],
                     [np.exp(s - t), -t * s * y[1]]])


def _k_affine(t, s, y):
    return np.cos(t - s) + s * y


def _j_affine(t, s, y):
    return s


def _k_rotation(t, s, y):
    return np.array([-y[1], y[0]])


def _j_rotation(t, s, y):
    return np.array([[0.0, -1.0], [1.0, 0.0]])


def _build():
    y = sp.Symbol("y", real=True)
    y0, y1 = sp.symbols("y0 y1", real=True)
    P = Problem
    problems = [
        P("exp-square", "y = e^{-2t} + int e^{-(t-s)} y^2 ds; y = e^{-t}", _k_exp_square,
          _j_exp_square, sp.exp(-(_t - _s)) * y ** 2, sp.exp(-_t), y,
          tags=frozenset({"nonlinear", "convolution"})),
        P("cos", "y = 1 - int (t-s) y ds; y = cos t", _k_cos, _j_cos, -(_t - _s) * y, sp.cos(_t), y,
          t_span=(0.0, 2.0), tags=frozenset({"linear", "convolution"})),
        P("inverse", "y = 1 - int y^2 ds; y = 1/(1+t)", _k_inverse, _j_inverse, -y ** 2,
          1 / (1 + _t), y, tags=frozenset({"nonlinear", "t-independent"})),
        P("nonconvolution", "y = g + int (t+s+1) y^2 ds; y = 1/(1+t)", _k_nonconv, _j_nonconv,
          (_t + _s + 1) * y ** 2, 1 / (1 + _t), y, tags=frozenset({"nonlinear", "non-convolution"})),
        P("vector", "d = 2, non-convolution nonlinear; y = (e^{-t}, 1 + sin t)", _k_vector, _j_vector,
          [(1 + _t - _s) * y0 * y1, sp.exp(_s - _t) * y0 - _t * _s * y1 ** 2 / 2],
          [sp.exp(-_t), 1 + sp.sin(_t)], (y0, y1),
          tags=frozenset({"nonlinear", "non-convolution", "vector"})),
        P("cos6", "y = g + int (t-s) y ds; y = cos 6t (oscillating: order-8 rules reach their "
          "asymptotic regime above the rounding floor)", _k_cos6, _j_cos6, (_t - _s) * y,
          sp.cos(6 * _t), y, tags=frozenset({"linear", "convolution"})),
        P("affine", "y = g + int (cos(t-s) + s y) ds; y = e^t (K(t, s, 0) != 0)", _k_affine, _j_affine,
          sp.cos(_t - _s) + _s * y, sp.exp(_t), y, tags=frozenset({"linear", "non-convolution"})),
        P("rotation", "d = 2, y = (1, 0) + int A y ds; y = (cos t, sin t)", _k_rotation, _j_rotation,
          [-y1, y0], [sp.cos(_t), sp.sin(_t)], (y0, y1), t_span=(0.0, 2.0),
          tags=frozenset({"linear", "t-independent", "vector"})),
    ]
    return {p.name: p for p in problems}


#: The built-in problems by name.
PROBLEMS = _build()


def problem(name):
    """The built-in :class:`Problem` called ``name``."""
    try:
        return PROBLEMS[name]
    except KeyError:
        raise ValueError(f"unknown problem {name!r}; known problems: {', '.join(PROBLEMS)}") from None
