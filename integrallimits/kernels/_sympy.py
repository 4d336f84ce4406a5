"""Kernels and forcings from SymPy expressions: exact Jacobians, generated and compiled.

:func:`from_sympy` turns an expression K(t, s, y) into a :class:`~._kernel.Kernel`:

1. the exact Jacobian dK/dy is computed with :func:`sympy.diff` (t, s and y are
   treated as real symbols, so ``d|y|/dy = sign(y)``);
2. Python source is generated for two functions with the solver signatures
   (``kernel(t, s, Y, j, out)`` and ``jacobian(t, s, Y, j, J)``) using only the
   :mod:`math` module, builtins and float literals (common subexpressions shared),
   plus a pure-Python twin ``probe(t, s, y)``;
3. the source is written to the on-disk cache directory under a name given by its
   SHA-256, imported, and compiled with Numba (``cache=True``), so another process
   building the same expression loads the machine code from Numba's cache instead of
   compiling it again (:mod:`._generated`).  Within a process the compiled functions are
   kept in a dict keyed by the same hash: the same expression is never compiled twice.

The cache directory is ``$INTEGRALLIMITS_CACHE_DIR/kernels`` if that variable is set,
else ``$XDG_CACHE_HOME/integrallimits/kernels`` or ``~/.cache/integrallimits/kernels``;
if it cannot be written, a private temporary directory (one per process) is used.

:func:`~._text.kernel_from_text` and :func:`~._text.forcing_from_text` combine this with
the safe parser :func:`~._parse.parse_expression` for text from users.
"""
from __future__ import annotations

import hashlib
import math

import numpy as np
import sympy
from sympy.printing.codeprinter import PrintMethodNotImplementedError
from sympy.printing.pycode import PythonCodePrinter

from . import _generated
from ._generated import cache_directory
from ._kernel import KernelCompilationError

__all__ = ["from_sympy", "forcing_from_sympy", "cache_directory"]


# -- code generation ----------------------------------------------------------------------

class _MathPrinter(PythonCodePrinter):
    """Python code that Numba compiles without allocation: ``math`` functions, builtins
    (``abs``, ``min``, ``max``) and float literals.

    Rationals and Floats are printed as the nearest double (``repr(float(x))``), so
    ``1/3`` is never an integer division and a Float keeps all its 53 bits; integers
    are printed exactly when they fit in int64 (exact integer powers ``y**3``).
    """

    def __init__(self):
        super().__init__({"standard": "python3", "fully_qualified_modules": True,
                          "strict": True})

    def _float_literal(self, expr):
        try:
            value = float(expr)
        except OverflowError:
            value = math.inf
        if not math.isfinite(value):
            raise ValueError(f"the number {expr} is outside the float64 range")
        if value == 0.0 and expr != 0:
            raise ValueError(f"the number {expr} underflows to zero in float64")
        return repr(value)

    def _print_Derivative(self, expr):
        # SymPy's printer raises a ValueError for a derivative it cannot write (of Mod(y, 1),
        # say); every unprintable object is a KernelCompilationError naming it instead
        raise PrintMethodNotImplementedError(f"Unsupported by {type(self)}: {type(expr)}")

    def _print_Integer(self, expr):
        return str(expr.p) if abs(expr.p) < 2 ** 63 else self._float_literal(expr)

    def _print_Rational(self, expr):
        return self._float_literal(expr)

    def _print_Float(self, expr):
        return self._float_literal(expr)


def _print_body(exprs, targets, what, indent="    "):
    """Lines assigning ``exprs`` to ``targets`` with common subexpressions shared.

    Raises KernelCompilationError naming what (``what``, e.g. "dK/dy of K = ...")
    contains a function the printer cannot express with ``math``.
    """
    for e in exprs:
        for pw in e.atoms(sympy.Piecewise):
            if pw.args[-1].cond is not sympy.true:
                raise KernelCompilationError(
                    f"{what} contains {pw}, which is undefined where no condition holds; "
                    f"add a last branch (value, True)")
    printer = _MathPrinter()
    temps, reduced = sympy.cse(list(exprs), symbols=sympy.numbered_symbols("_x"))
    try:
        lines = [f"{indent}{printer.doprint(sym)} = {printer.doprint(val)}"
                 for sym, val in temps]
        lines += [f"{indent}{target} = {printer.doprint(e)}"
                  for target, e in zip(targets, reduced)]
    except PrintMethodNotImplementedError as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        unsupported = first.rsplit(": ", 1)[-1]
        if unsupported.startswith("<class '"):
            unsupported = unsupported[len("<class '"):].rstrip("'>").rsplit(".", 1)[-1]
        raise KernelCompilationError(
            f"{what} uses {unsupported}, which is not available in Python's math module "
            f"(generated code may use math functions, abs, min and max only)") from None
    return lines


#: Functions of the expression language as the generated code calls them (``min`` and ``max``
#: are written out by :func:`_written_code`: NumPy's minimum and maximum propagate NaN).
_CALLS = {"abs": "abs", **{name: f"math.{name}" for name in (
    "exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh",
    "asinh", "acosh", "atanh", "erf", "erfc", "atan2")}}


def _written_code(node, names, printer, lines):
    """Python source of a text as written (a tree of :func:`._parse._literal`), computing what
    NumPy computes from the text: every operation kept, sums and products left to right, a
    power by ``math.pow`` unless its exponent is a natural number (NaN in compiled code,
    ValueError in Python, for a negative base and a non-integer exponent; inf, not
    ZeroDivisionError, in compiled code for ``0.0 ** -1``) and NaN-propagating ``min`` and
    ``max``, whose operands are first assigned to temporaries appended to ``lines``.
    ``names`` maps the Symbols to their names in the code."""
    kind = node[0]
    if kind == "num":
        code = printer._float_literal(node[1])
        return f"({code})" if code.startswith("-") else code
    if kind == "var":
        return names[node[1]]
    if kind == "neg":
        return f"(-{_written_code(node[1], names, printer, lines)})"
    if kind == "chain":
        parts = [_written_code(node[1], names, printer, lines)]
        parts += [f"{op} {_written_code(x, names, printer, lines)}" for op, x in node[2]]
        return f"({' '.join(parts)})"
    if kind == "**":
        base = _written_code(node[1], names, printer, lines)
        exponent = node[2]
        if exponent[0] == "num" and exponent[1].is_Integer and exponent[1] >= 0:
            return f"({base} ** {exponent[1].p})"   # (Numba: 0.0 ** -1 raises, math.pow is inf)
        return f"math.pow({base}, {_written_code(exponent, names, printer, lines)})"
    name, args = node[1], [_written_code(a, names, printer, lines) for a in node[2]]
    if name in ("min", "max"):
        a, b = (f"_m{len(lines) + k}" for k in range(2))
        lines += [f"{a} = {args[0]}", f"{b} = {args[1]}"]
        return f"({name}({a}, {b}) if {a} == {a} and {b} == {b} else math.nan)"
    return f"{_CALLS[name]}({', '.join(args)})"


def _print_values(exprs, written, names, targets, what, indent="    "):
    """Lines assigning the values of K to ``targets``: from the texts as ``written`` (see
    :func:`_written_code`) if given, else from the SymPy expressions ``exprs``."""
    if written is None:
        return _print_body(exprs, targets, what, indent)
    printer, lines = _MathPrinter(), []
    assigned = [f"{target} = {_written_code(tree, names, printer, lines)}"
                for target, tree in zip(targets, written)]
    return [indent + line for line in lines + assigned]


def _kernel_source(K, J, y_names, scalar, what, n_params=0, written=None, names=None):
    """Source of the module defining kernel, jacobian and probe (parameters _p0, _p1, ...
    read from theta in the compiled functions, extra arguments of probe).

    ``kernel``, ``block_sum`` and ``jacobian`` record a non-finite value with its point, as the
    wrappers of Python kernels do (:func:`integrallimits.kernels._user.report`, failure path
    only), under the guard id ``_GID`` (``_GID + 1`` for the Jacobian) derived from the rest of
    the source (the same in every process: it
    is compiled into code cached on disk); :func:`._generated.kernel_functions` registers it."""
    d = len(y_names)
    load_p = [f"    _p{k} = theta[{k}]" for k in range(n_params)]
    if scalar:
        load_Y = ["    y = Y[j, 0]"] + load_p
        load_y = ["    y = float(y)"]
    else:
        load_Y = [f"    {name} = Y[j, {k}]" for k, name in enumerate(y_names)] + load_p
        load_y = [f"    {name} = float(y[{k}])" for k, name in enumerate(y_names)]
    probe_args = "".join(f", _p{k}" for k in range(n_params))
    out_targets = [f"out[{k}]" for k in range(d)]
    jac_targets = [f"J[{a}, {b}]" for a in range(d) for b in range(d)]
    load_row = ["    " + line.replace("Y[j,", "_ys[_r,") for line in load_Y[:len(load_Y) - n_params]]
    terms = [f"_k{k}" for k in range(d)]
    finite = " and ".join(f"math.isfinite({v})" for v in terms)
    lines = [
        '"""Generated by integrallimits.kernels.from_sympy: K(t, s, y) and dK/dy."""',
        "import math",
        "",
        "import numpy as np",
        "",
        "from integrallimits.kernels._user import NOT_FINITE as _NOT_FINITE",
        "from integrallimits.kernels._user import report as _report",
        "",
        "",
        "def kernel(t, s, Y, j, theta, out):",
        *load_Y,
        *_print_values(K, written, names, out_targets, what),
        f"    if not ({' and '.join(f'math.isfinite({v})' for v in out_targets)}):",
        "        _report(_GID, _NOT_FINITE, t, s, Y[j], -1)",
        "",
        "",
        "def block_sum(t, svals, Y, a, b, w, theta, out):",
        "    _ws, _ss, _ys = w[a:b], svals[a:b], Y[a:b]",
        *load_p,
        *[f"    _acc{k} = 0.0" for k in range(d)],
        "    for _r in range(_ws.shape[0]):",
        "        s = _ss[_r]",
        *load_row,
        *_print_values(K, written, names, terms, what, indent="        "),
        *[f"        _acc{k} += _ws[_r] * _k{k}" for k in range(d)],
        *[f"    out[{k}] = _acc{k}" for k in range(d)],
        f"    if {' and '.join(f'math.isfinite(_acc{k})' for k in range(d))}:",
        "        return",
        "    for _r in range(_ws.shape[0]):   # name the term that is not finite",
        "        s = _ss[_r]",
        *load_row,
        *_print_values(K, written, names, terms, what, indent="        "),
        f"        if not ({finite}):",
        "            _report(_GID, _NOT_FINITE, t, s, _ys[_r], -1)",
        "            return",
        "",
        "",
        "def jacobian(t, s, Y, j, theta, J):",
        *load_Y,
        *_print_body(J, jac_targets, f"the Jacobian dK/dy of {what}"),
        *_undefined_rows(K, written, names, terms, what),
        f"    if not ({' and '.join(f'math.isfinite({v})' for v in jac_targets)}):",
        "        _report(_GID + 1, _NOT_FINITE, t, s, Y[j], -1)",
        "",
        "",
        f"def probe(t, s, y{probe_args}):",
        "    t = float(t)",
        "    s = float(s)",
        *load_y,
        *_print_values(K, written, names, terms, what),
        ("    return float(_k0)" if scalar else
         f"    return np.array([{', '.join(terms)}], dtype=np.float64)"),
        "",
    ]
    if written is not None and not all(_polynomial(tree) for tree in written):
        # Reassociation lets LLVM simplify as SymPy does (exp(log(y)) -> y in block_sum)
        lines += ["", "", "#: block_sum's fast-math flags (see _generated.kernel_functions)",
                  '_BLOCK_FASTMATH = ("contract",)']
    body = "\n".join(lines)
    gid = (1 << 33) + int(hashlib.sha256(body.encode("utf-8")).hexdigest()[:13], 16)
    return body + f"\n\n_GID = {gid}\n"


def _polynomial(node):
    """Whether a text as written (:func:`_written_code`) uses only ``+ - *``, natural powers and
    divisions by numbers: defined everywhere, so that reassociating its operations (which lets
    LLVM vectorise the block sum, 3.5x faster for ``-y``) changes rounding only; LLVM would
    simplify ``exp(log(y))`` or ``y/y`` as SymPy does."""
    kind = node[0]
    if kind in ("num", "var"):
        return True
    if kind == "neg":
        return _polynomial(node[1])
    if kind == "chain":
        return _polynomial(node[1]) and all((op in "+-*" or x[0] == "num") and _polynomial(x)
                                            for op, x in node[2])
    if kind == "**":
        exponent = node[2]
        return (exponent[0] == "num" and exponent[1].is_Integer and exponent[1] >= 0
                and _polynomial(node[1]))
    return False


def _undefined_rows(K, written, names, terms, what):
    """Lines making the Jacobian NaN where K, computed from the texts as ``written``, is NaN:
    its derivatives come from SymPy's simplified expression, which may be defined there
    (d/dy of ``sqrt(y)**2`` is 1 to SymPy)."""
    if written is None:
        return []
    defined = " and ".join(f"{term} == {term}" for term in terms)
    return [*_print_values(K, written, names, terms, what), f"    if not ({defined}):",
            "        J[:, :] = math.nan"]


def _forcing_source(g, scalar, what, n_params=0, written=None, names=None):
    d = len(g)
    params = "".join(f", _p{k}" for k in range(n_params))
    lines = [
        '"""Generated by integrallimits.kernels.forcing_from_sympy: g(t)."""',
        "import math",
        "",
        "import numpy as np",
        "",
        "",
        f"def forcing(t{params}):",
        "    t = float(t)",
        *_print_values(g, written, names, [f"_g{k}" for k in range(d)], what),
        ("    return float(_g0)" if scalar else
         f"    return np.array([{', '.join(f'_g{k}' for k in range(d))}], dtype=np.float64)"),
        "",
    ]
    return "\n".join(lines)


# -- validation ---------------------------------------------------------------------------

def _as_symbol(x, what):
    if not isinstance(x, sympy.Symbol):
        raise TypeError(f"{what} must be a sympy.Symbol, got {type(x).__name__} {x!r}")
    return x


def _as_expr(e, what):
    if isinstance(e, str):
        raise TypeError(f"{what} must be a SymPy expression, not a string; parse text with "
                        f"integrallimits.kernels.kernel_from_text / forcing_from_text")
    if isinstance(e, (bool, np.bool_)):
        raise TypeError(f"{what} must be a SymPy expression, got {e!r}")
    if isinstance(e, (int, np.integer)):
        return sympy.Integer(int(e))
    if isinstance(e, (float, np.floating)):
        return sympy.Float(float(e))
    if not isinstance(e, sympy.Expr) or isinstance(e, sympy.MatrixBase):
        raise TypeError(f"{what} must be a SymPy expression, got {type(e).__name__}")
    return e


def _components(K, what):
    """A scalar expression -> (expr,), scalar=True; a vector -> tuple, scalar=False."""
    if isinstance(K, (sympy.MatrixBase, sympy.NDimArray)):
        if sum(n != 1 for n in K.shape) > 1:
            raise ValueError(f"{what} must be a vector of expressions, got shape {K.shape}")
        return tuple(_as_expr(e, f"{what}[{k}]") for k, e in enumerate(K)), False
    if isinstance(K, (list, tuple)):
        return tuple(_as_expr(e, f"{what}[{k}]") for k, e in enumerate(K)), False
    return (_as_expr(K, what),), True


def _check_free_symbols(exprs, allowed, what):
    extra = set().union(*(e.free_symbols for e in exprs)) - set(allowed)
    if extra:
        names = ", ".join(sorted(str(x) for x in extra))
        allowed_names = {str(a) for a in allowed}
        note = ""
        if any(str(x) in allowed_names for x in extra):
            note = (" (a different Symbol with the same name as an argument: SymPy symbols "
                    "with different assumptions are different symbols)")
        raise TypeError(f"{what} contains symbols other than "
                        f"{', '.join(str(a) for a in allowed)}: {names}{note}")


def _check_real(exprs, what):
    for e in exprs:
        if e.has(sympy.zoo, sympy.nan):
            raise ValueError(f"{what} contains an undefined value (zoo or nan): {e}")
        if e.has(sympy.I):
            raise TypeError(f"{what} is complex-valued (contains I): {e}; kernels and "
                            f"forcings must be real")


def _describe(name, exprs):
    shown = str(exprs[0] if len(exprs) == 1 else list(exprs))
    if len(shown) > 200:
        shown = shown[:200] + "..."
    return f"{name} = {shown}"


# -- public API ---------------------------------------------------------------------------

def from_sympy(K, t, s, y, *, params=(), name="K"):
    """Compile a SymPy expression K(t, s, y) into a :class:`Kernel` with its exact Jacobian.

    The kernel is the integrand of the Volterra equation

        y(t) = g(t) + int_0^t K(t, s, y(s)) ds,

    and ``jacobian`` is dK/dy computed by :func:`sympy.diff`, so Newton iterations of
    implicit methods and the adjoint use exact derivatives.

    Parameters
    ----------
    K : sympy.Expr, or sequence / Matrix of d sympy.Expr
        The kernel: one expression for scalar y, d expressions for y in R^d.
    t, s : sympy.Symbol
        The symbols standing for t and s in ``K``.
    y : sympy.Symbol, or sequence of d sympy.Symbol
        The symbol for scalar y, or the d symbols of the components of y.
    params : sequence of sympy.Symbol, optional
        Parameters of ``K`` whose values are given at solve time with ``args=`` (in this
        order, floats): the compiled code reads them at run time, so a sweep over their
        values compiles once.
    name : str
        Name of the kernel (in messages).

    Returns
    -------
    Kernel
        ``evaluate`` and ``jacobian`` compiled with ``KERNEL_SIGNATURE`` /
        ``JACOBIAN_SIGNATURE``; ``jacobian_source="sympy"``; ``probe(t, s, y)`` evaluates
        K in pure Python (a float for scalar y, a (d,) array for vector y);
        ``structure = {"kind": "general", "expression": K, "variables": (t, s, y)}``.

    Raises
    ------
    TypeError
        If ``K`` contains symbols other than t, s, y (they are named), is complex, or
        is not a SymPy expression.
    KernelCompilationError
        (a TypeError) if ``K`` uses functions that cannot be printed for or compiled by
        Numba (undefined functions, Bessel functions, ...).
    ValueError
        If the number of components of ``K`` and ``y`` differ, or ``K`` contains an
        undefined value or a number outside the float64 range.

    Notes
    -----
    t, s and y are replaced by real symbols before differentiating.  Compiled code
    follows the NumPy error model (1/0 gives inf, not an exception); ``probe`` is plain
    Python and raises instead.  The expression is compiled once per process, and the
    machine code is cached on disk (see :func:`cache_directory`).

    Examples
    --------
    >>> import sympy
    >>> t, s, y = sympy.symbols("t s y")
    >>> K = sympy.exp(s - t) * sympy.sin(y)
    >>> kernel = from_sympy(K, t, s, y)
    >>> kernel.jacobian_source, kernel.dim, kernel.scalar
    ('sympy', 1, True)
    >>> round(float(kernel(1.0, 1.0, 0.5)), 6)           # sin(0.5)
    0.479426
    >>> import numpy as np
    >>> J = np.empty((1, 1))
    >>> kernel.jacobian_function(1.0, 1.0, np.array([[0.5]]), 0, kernel.params, J)  # cos(0.5)
    >>> round(float(J[0, 0]), 6)
    0.877583
    """
    return _from_sympy(K, t, s, y, params, name)[0]


def _from_sympy(K, t, s, y, params, name, limit=None, written=None):
    """(the kernel of :func:`from_sympy`, the SHA-256 of its generated source, the file).

    ``limit``, a callable of the generated source (the text front end's size check), may
    refuse the source before it is written and compiled.  ``written``, the components of K as
    the user's text wrote them (:func:`._parse.parse_with_literal`), if given, computes the
    values of K (see :func:`_written_code`); ``K`` then gives the Jacobian only."""
    t = _as_symbol(t, "t")
    s = _as_symbol(s, "s")
    if isinstance(y, sympy.Symbol):
        ys, y_scalar = (y,), True
    elif isinstance(y, (list, tuple, sympy.MatrixBase)):
        ys, y_scalar = tuple(_as_symbol(v, f"y[{k}]") for k, v in enumerate(y)), False
        if not ys:
            raise ValueError("y must contain at least one symbol")
    else:
        raise TypeError(f"y must be a sympy.Symbol or a sequence of Symbols, got "
                        f"{type(y).__name__}")
    ps = tuple(_as_symbol(p, f"params[{k}]") for k, p in enumerate(params))
    if len({t, s, *ys, *ps}) != 2 + len(ys) + len(ps):
        raise ValueError(f"t, s, y and the params must be distinct symbols, got {t}, {s}, {y}, "
                         f"{list(ps)}")

    exprs, scalar = _components(K, name)
    if scalar != y_scalar:
        raise ValueError(f"{name} and y must both be scalar or both be vectors: got "
                         f"{'one expression' if scalar else f'{len(exprs)} expressions'} "
                         f"and {'a single symbol y' if y_scalar else f'{len(ys)} symbols y'}")
    if len(exprs) != len(ys):
        raise ValueError(f"{name} has {len(exprs)} components but y has {len(ys)}; "
                         f"K must map R^d to R^d")
    _check_free_symbols(exprs, (t, s, *ys, *ps), name)

    # Fixed real symbols: the generated code never sees the user's names, and
    # derivatives of abs, sign, ... are the real ones.
    d = len(ys)
    y_names = ["y"] if scalar else [f"y{k}" for k in range(d)]
    T, S = sympy.Symbol("t", real=True), sympy.Symbol("s", real=True)
    Ys = [sympy.Symbol(n, real=True) for n in y_names]
    Ps = [sympy.Symbol(f"_p{k}", real=True) for k in range(len(ps))]
    mapping = {t: T, s: S, **dict(zip(ys, Ys)), **dict(zip(ps, Ps))}
    Kr = [e.xreplace(mapping) for e in exprs]
    _check_real(Kr, name)
    Jr = [sympy.diff(Kr[a], Ys[b]) for a in range(d) for b in range(d)]

    names = {symbol: str(fixed) for symbol, fixed in mapping.items()}
    source = _kernel_source(Kr, Jr, y_names, scalar, _describe(name, exprs), len(ps), written,
                            names)
    if limit is not None:
        limit(source, d)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    path = _generated.write_module(source, digest, "kernel")
    compiled = _generated.kernel_functions(
        digest, lambda: _generated.import_module_file(path.stem, path), _describe(name, exprs))
    structure = {"kind": "general", "expression": exprs[0] if scalar else exprs,
                 "variables": (t, s, y), "params": ps}
    kernel = _generated.generated_kernel(compiled, d, scalar, len(ps), structure, name)
    return kernel, digest, path


def forcing_from_sympy(g, t, params=()):
    """Turn a SymPy expression g(t) into a Python function of t for the solvers.

    Parameters
    ----------
    g : sympy.Expr, or sequence / Matrix of d sympy.Expr
        The forcing of y(t) = g(t) + int_0^t K(t, s, y(s)) ds.
    t : sympy.Symbol
        The symbol for t in ``g``.
    params : sequence of sympy.Symbol, optional
        Parameters: the function is then ``g(t, *params)`` (values given with ``args=``).

    Returns
    -------
    callable
        ``g(t)`` (or ``g(t, *params)``) for a float ``t``: a float (scalar ``g``) or a (d,)
        float array.

    Raises
    ------
    TypeError
        If ``g`` contains symbols other than ``t`` (named), is complex, or is not a
        SymPy expression or cannot be printed with the :mod:`math` module.

    Examples
    --------
    >>> import sympy
    >>> t = sympy.Symbol("t")
    >>> g = forcing_from_sympy(1 + t**2 / 2, t)
    >>> g(2.0)
    3.0
    >>> forcing_from_sympy([sympy.cos(t), sympy.sin(t)], t)(0.0)
    array([1., 0.])
    """
    return _forcing_from_sympy(g, t, params)[0]


def _forcing_from_sympy(g, t, params, written=None):
    """(the function of :func:`forcing_from_sympy`, the SHA-256 of its generated source, the
    file); ``written`` as for :func:`_from_sympy`."""
    t = _as_symbol(t, "t")
    exprs, scalar = _components(g, "g")
    if not exprs:
        raise ValueError("g must have at least one component")
    ps = tuple(_as_symbol(p, f"params[{k}]") for k, p in enumerate(params))
    _check_free_symbols(exprs, (t, *ps), "g")
    T = sympy.Symbol("t", real=True)
    mapping = {t: T, **{p: sympy.Symbol(f"_p{k}", real=True) for k, p in enumerate(ps)}}
    gr = [e.xreplace(mapping) for e in exprs]
    _check_real(gr, "g")
    names = {symbol: str(fixed) for symbol, fixed in mapping.items()}
    source = _forcing_source(gr, scalar, _describe("g", exprs), len(ps), written, names)
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()
    path = _generated.write_module(source, digest, "forcing")
    func = _generated.forcing_function(
        digest, lambda: _generated.import_module_file(path.stem, path))
    return func, digest, path
