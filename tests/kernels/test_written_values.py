"""A text's values are those of the text as written, as NumPy computes them (``kernels/_parse.py``,
``_sympy.py``, ``_text.py``).

SymPy simplifies as it builds: ``exp(log(y))``, ``sqrt(y)**2`` and ``sqrt(y)*sqrt(y)`` are ``y``
to it, ``(y**0.5)**4`` is ``y**2``, ``log(y) - log(y)`` is 0 and ``min(1, log(y))`` printed as
Python's ``min`` is 1 where ``log(y)`` is NaN.  Compiled from that expression, a kernel had values
where NumPy (and the text) has NaN, so a solve that must stop at the user's function leaving its
domain succeeded with another function's values.  The reference here is an independent NumPy
interpreter of the text's syntax tree (NumPy functions, Python's own literals).
"""
import ast
import math
import warnings

import numpy as np
import pytest
from scipy.special import erf, erfc

from integrallimits.cli import main
from integrallimits.kernels import ExpressionError, forcing_from_text, kernel_from_text
from integrallimits.kernels import parse_expression

TEXTS = [
    "exp(log(y))", "sqrt(y)**2", "sqrt(y)*sqrt(y)", "(y**0.5)**4", "log(exp(y))", "y/y",
    "0*log(y)", "log(y) - log(y)", "sqrt(y)/sqrt(y)", "sin(asin(y))", "cos(acos(y))",
    "cosh(acosh(y))", "tanh(atanh(y))", "(y**2)**0.5", "sqrt(y**2)", "y**2/y", "(y - 1)/(y - 1)",
    "min(1, log(y))", "max(log(y), 1)", "max(2, sqrt(y))", "log(y)*0 + 1", "log(y)**0",
    "(y**(1/3))**3", "exp(2*log(y))", "sqrt(y)**4", "y**0.5*y**0.5", "log(y)/log(y)",
    "exp(y) - exp(y)", "exp(y)*exp(-y)", "y**1.5/y**0.5", "erfc(sqrt(y))*0", "sqrt(-y)**2",
    "y**-2", "e**y", "exp(-(t - s))*sin(y) + t*y**2/3", "1/(1 + y**2)", "atan2(sqrt(y), 1)",
]
YS = [-1e300, -1e3, -2.0, -1.0, -0.5, -1e-300, 0.0, 1e-300, 0.5, 1.0, 2.0, 700.0, 1e300]
T, S = 0.7, 0.3

_NUMPY = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "sin": np.sin, "cos": np.cos,
          "asin": np.arcsin, "acos": np.arccos, "cosh": np.cosh, "acosh": np.arccosh,
          "tanh": np.tanh, "atanh": np.arctanh, "erfc": erfc, "erf": erf, "atan2": np.arctan2,
          "min": np.minimum, "max": np.maximum}
_OPS = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Div: np.divide,
        ast.Pow: np.power}


def numpy_values(text, **variables):
    """The text's values, each operation of its syntax tree done by NumPy on float64."""
    names = {"e": math.e, "pi": math.pi, **variables}

    def value(node):
        if isinstance(node, ast.Constant):
            return np.float64(node.value)
        if isinstance(node, ast.Name):
            return np.asarray(names[node.id], dtype=float)
        if isinstance(node, ast.UnaryOp):
            return -value(node.operand)
        if isinstance(node, ast.BinOp):
            return _OPS[type(node.op)](value(node.left), value(node.right))
        return _NUMPY[node.func.id](*(value(a) for a in node.args))

    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.broadcast_to(value(ast.parse(text, mode="eval").body), np.shape(YS))


def agree(got, expected):
    """NaN exactly where NumPy has NaN, the same infinities, finite values to 1e-12."""
    got, expected = np.asarray(got, float), np.asarray(expected, float)
    return (np.array_equal(np.isnan(got), np.isnan(expected))
            and np.allclose(got, expected, rtol=1e-12, atol=0.0, equal_nan=True))


@pytest.mark.parametrize("text", TEXTS)
def test_a_text_kernel_computes_the_text_as_numpy_does(text, tmp_path, monkeypatch):
    monkeypatch.setenv("INTEGRALLIMITS_CACHE_DIR", str(tmp_path))
    expected = numpy_values(text, y=np.array(YS), t=T, s=S)
    for kernel in (kernel_from_text(text), kernel_from_text(text)):   # cold, then the index
        out, J, acc = np.empty(1), np.empty((1, 1)), np.empty(1)
        values, jacobian, sums = [], [], []
        for y in YS:
            Y = np.array([[y]])
            kernel.function(T, S, Y, 0, kernel.params, out)
            kernel.jacobian_function(T, S, Y, 0, kernel.params, J)
            kernel.block_sum(T, np.array([S]), Y, 0, 1, np.ones(1), kernel.params, acc)
            values.append(out[0])
            jacobian.append(J[0, 0])
            sums.append(acc[0])
        assert agree(values, expected) and agree(sums, expected), (text, values, expected)
        assert np.isnan(jacobian)[np.isnan(expected)].all(), (text, jacobian)


@pytest.mark.parametrize("text", [x for x in TEXTS if "s" not in x.replace("sqrt", "")
                                  .replace("sin", "").replace("cos", "")])
def test_a_text_forcing_and_probe_are_undefined_where_numpy_is(text):
    """The forcing and the kernel's probe are plain Python: they raise (the CLI then stops with
    a message) or give NaN where NumPy gives NaN, and NumPy's value where they give one."""
    expected = numpy_values(text, y=np.array(YS), t=T, s=S)
    g = forcing_from_text(text.replace("y", "t"))
    probe = kernel_from_text(text).probe
    for f in (g, lambda y: probe(T, S, y)):
        for y, want in zip(YS, expected):
            try:
                got = f(y)
            except (ValueError, ArithmeticError):
                continue
            assert agree([got], [want]), (text, y, got, want)


def test_a_solve_leaving_the_domain_of_the_text_stops(capsys):
    """y = -1 + int_0^t exp(log(y)) ds: log(y) is NaN for y < 0, so K is undefined at the first
    step; compiled from SymPy's ``y`` the solve succeeded with y = -exp(t)."""
    code = main(["solve", "--kernel", "exp(log(y))", "--forcing", "-1", "--steps", "16"])
    err = capsys.readouterr().err
    assert code == 1 and "non-finite" in err and "exp(log(y))" in err


# -- numbers: the same rule in expressions and in --param -----------------------------------

@pytest.mark.parametrize("literal", ["0x10", "0o17", "0b101", "0X1f", "007", "1__0"])
def test_numbers_that_are_not_decimal_are_refused_in_both(literal, capsys):
    """``0x10`` was 16 in an expression and not a number to --param; now both refuse it."""
    with pytest.raises(ExpressionError):
        parse_expression(f"{literal} * y")
    from integrallimits.kernels._text import decimal_number
    with pytest.raises(ExpressionError):
        decimal_number(literal)
    code = main(["solve", "--kernel", "-a*y", "--forcing", "1", "--param", f"a={literal}"])
    assert code == 2 and "decimal" in capsys.readouterr().err


@pytest.mark.parametrize("literal, value", [("1_0", 10.0), ("1_000.5", 1000.5), (".5e1_0", 5e9),
                                            ("2.", 2.0), ("1E2", 100.0)])
def test_decimal_numbers_mean_the_same_in_both(literal, value):
    from integrallimits.kernels._text import decimal_number
    assert decimal_number(literal) == value == float(parse_expression(literal))
    assert decimal_number(f"-{literal}") == -value
