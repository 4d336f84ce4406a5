"""The safe expression parser: a whitelist of syntax, never evaluated text.

Properties checked: every construct outside the whitelist is refused with an
ExpressionError naming it and its column; accepted text means the SymPy expression a
reader would expect; random whitelisted trees printed to text parse back to the same
function; random text either parses or raises ExpressionError, and nothing is run.
"""
import ast
import builtins
import inspect
import math
import sys
import time

import mpmath
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from integrallimits.kernels import ExpressionError, parse_expression, parse_vector
from integrallimits.kernels import _parse
from integrallimits.kernels._parse import FUNCTIONS, MAX_LENGTH, MAX_POWER_NESTING

t, s, y = sympy.symbols("t s y", real=True)
y0, y1 = sympy.symbols("y0 y1", real=True)


# -- refused constructs -------------------------------------------------------------------

REFUSED = [
    # (text, words the message must contain, column or None)
    ("__import__('os').system('ls')", "attribute access '.system'", 17),
    ("().__class__", "attribute access '.__class__'", 3),
    ("t.__class__.__bases__[0].__subclasses__()", "attribute access '.__subclasses__'", 25),
    ("exp(t).evalf()", "attribute access '.evalf'", 7),
    ("y[0]", "subscript", 2),
    ("lambda: 1", "lambda", 1),
    ("open('x')", "unknown function 'open'", 1),
    ("__import__('os')", "unknown function '__import__'", 1),
    ("getattr(t, 'real')", "unknown function 'getattr'", 1),
    ("eval('1')", "unknown function 'eval'", 1),
    ("t if s else y", "conditional expression", 1),
    ("t < s", "comparison ('<')", 1),
    ("s <= t <= 1", "comparison ('<=', '<=')", 1),
    ("t and s", "boolean operator 'and'", 1),
    ("t or s", "boolean operator 'or'", 1),
    ("not t", "operator 'not'", 1),
    ("~t", "operator '~'", 1),
    ("t ^ 2", "operator '^'", 2),
    ("t // 2", "operator '//'", 2),
    ("t % 2", "operator '%'", 2),
    ("t @ s", "operator '@'", 2),
    ("t << 1", "operator '<<'", 2),
    ("9**9**9**9", "power with exponent 387420489", 4),
    ("2**9**9", "power with exponent 387420489", 1),
    ("(2**900)**8", "numeric power too large", 1),
    ("y**2000", "power with exponent 2000", 1),
    ("(y**40)**40", "power with exponent 1600", 1),
    ("[t for t in (1, 2)]", "comprehension", 1),
    ("{t for t in (1, 2)}", "comprehension", 1),
    ("{t: s for t in (1, 2)}", "comprehension", 1),
    ("sum(t for t in (1, 2))", "unknown function 'sum'", 1),
    ("exp(t for t in (1, 2))", "generator expression", 4),
    ("(t, s)", "tuple", 1),
    ("[t]", "list", 1),
    ("{t: s}", "dict", 1),
    ("{t}", "set", 1),
    ("sin(x=t)", "keyword argument", 5),
    ("sin(**t)", "'**' argument", 5),
    ("sin(*t)", "starred argument", 5),
    ("f'{t}'", "f-string", 1),
    ("(q := 1)", "assignment expression", 2),
    ("x + 1", "unknown name 'x'", 1),
    ("__builtins__", "unknown name '__builtins__'", 1),
    ("exp", "function 'exp' used without calling it", 1),
    ("sin(t)(s)", "call of something that is not a function name", 1),
    ("sin(t, s)", "call of 'sin' with 2 argument(s)", 1),
    ("max(t)", "call of 'max' with 1 argument(s)", 1),
    ("atan2(t, s, y)", "call of 'atan2' with 3 argument(s)", 1),
    ("True", "constant True", 1),
    ("None", "constant None", 1),
    ("...", "constant Ellipsis", 1),
    ("'t'", "string", 1),
    ("b't'", "bytes literal", 1),
    ("1j", "complex number", 1),
    ("1/0", "division by zero", 1),
    ("t / (s - s)", "division by zero", 1),
    ("0**-1", "power 0**-1", 1),
    ("log(0)", "undefined or infinite value", 1),
    ("atan2(0, 0)", "undefined or infinite value", 1),
    ("sqrt(-1)", "complex value", 1),
    ("(-8)**(1/3)", "complex value", 1),
    ("1e999", "outside the float64 range", 1),
    ("1e-999", "underflows to zero", 1),
    ("1e300 * 1e300 * t", "outside the float64 range", None),
    ("t +", "invalid syntax", None),
    ("t; s", "invalid syntax", None),
    ("import os", "invalid syntax", None),
    ("t\0", "invalid syntax", None),
    ("", "empty", None),
    ("   \n ", "empty", None),
    ("x" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH}", None),
    ("-" * 150 + "t", "nesting deeper than 100", None),
    ("sin(" * 101 + "t" + ")" * 101, "nesting deeper than 100", None),
    # hostile short texts whose SymPy evaluation never ended (issue 17)
    ("(" * 16 + "y" + "**1.5)" * 16, "power of powers nested more than 6 levels", 11),
    ("(" * 7 + "y" + "**1.5)" * 7, "power of powers nested more than 6 levels", 2),
    ("(2*" * 16 + "y" + "**1.5)" * 16, "power of powers nested more than 6 levels", 31),
    ("(sin(" * 9 + "y" + ")**1.5)" * 9, "power of powers nested more than 6 levels", None),
    ("1/tan(exp(exp(exp(5))))", "constant exp(exp(exp(5))) outside the float64 range", 7),
    ("y/exp(exp(exp(exp(9))))", "constant exp(exp(9)) outside the float64 range", 11),
    ("1/sin(exp(exp(exp(9))))", "outside the float64 range", 11),
    ("exp(710) * y", "constant exp(710) outside the float64 range", 1),
    ("*".join(f"{k}**{k}" for k in range(99, 1, -1)), "number of about 8814 digits", 1),
    ("9**9**9", "power with exponent 387420489", 1),
]


@pytest.mark.parametrize("text, words, column", REFUSED, ids=[r[0][:30] for r in REFUSED])
def test_refused_constructs_are_named_with_their_column(text, words, column):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    message = str(info.value)
    assert words in message
    assert isinstance(info.value, ValueError)
    if column is not None:
        assert f"column {column}" in message
        assert info.value.column == column


def test_columns_refer_to_the_users_text():
    # leading whitespace is stripped before ast.parse, but columns count it
    with pytest.raises(ExpressionError, match="column 8"):
        parse_expression("  t + s.x")
    with pytest.raises(ExpressionError, match="line 2, column 3"):
        parse_expression("(t +\n s.x)")
    with pytest.raises(ExpressionError, match="column 7"):
        parse_expression("ỳỳ + t.x", ("ỳỳ", "t"))  # ast counts bytes, we count characters


def test_hostile_short_texts_are_bounded():
    """The 113-character text of issue 17 ends at once, through the CLI's own front end, and
    the deepest accepted power tower still parses (and means what it says)."""
    from integrallimits.kernels import kernel_from_text

    text = "(" * 16 + "y" + "**1.5)" * 16
    assert len(text) == 113
    with pytest.raises(ExpressionError, match="nested more than 6 levels deep"):
        kernel_from_text(text)
    tower = parse_expression("(" * MAX_POWER_NESTING + "y" + "**1.5)" * MAX_POWER_NESTING)
    assert float(tower.subs(y, 2)) == pytest.approx(2 ** 1.5 ** MAX_POWER_NESTING, rel=1e-14)
    assert parse_expression("9**400 / 9**399 * y") == 9 * y     # exact arithmetic is kept
    assert parse_expression("exp(-1000) * y") == sympy.exp(-1000) * y


def test_building_stops_after_the_time_limit(monkeypatch):
    from sympy.core.cache import clear_cache

    monkeypatch.setattr(_parse, "MAX_SECONDS", 0.01)
    clear_cache()   # (not a faster cached result)
    with pytest.raises(ExpressionError, match="took more than 0.01 s to build"):
        parse_expression("(" * 6 + "y" + "**1.37)" * 6)
    assert sys.getprofile() is None


def test_the_time_limit_interrupts_a_single_long_call():
    """The profile hook raises inside a call the builder cannot check between nodes."""
    with pytest.raises(_parse._OutOfTime):
        with _parse._time_limit(time.monotonic() + 0.01):
            for _ in range(10 ** 8):     # ~20 s if the hook did not stop it
                abs(-1)
    assert sys.getprofile() is None

    def profiler(frame, event, arg):
        pass

    sys.setprofile(profiler)             # a profiler the user installed is left alone
    try:
        with _parse._time_limit(time.monotonic() - 1):
            abs(-1)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)


def test_node_count_limit(monkeypatch):
    monkeypatch.setattr(_parse, "MAX_NODES", 10)
    with pytest.raises(ExpressionError, match="more than 10 syntax-tree nodes"):
        parse_expression("t + s + y + t")


def test_non_string_text_is_a_type_error():
    with pytest.raises(TypeError, match="string"):
        parse_expression(1.5)
    with pytest.raises(TypeError, match="sequence of strings"):
        parse_vector("t")


@pytest.mark.parametrize("variables", [("t", "sin"), ("t", "pi"), ("t", "t"), ("1x",),
                                       ("lambda",), ("t", 3)])
def test_bad_variable_names(variables):
    with pytest.raises(ValueError, match="variable"):
        parse_expression("t", variables)


# -- accepted expressions -----------------------------------------------------------------

ACCEPTED = [
    ("exp(-(t - s)) * sin(y)", sympy.exp(s - t) * sympy.sin(y)),
    ("t*s/y - 2*t/s + y/3 - 1/(t - s)", t * s / y - 2 * t / s + y / 3 - 1 / (t - s)),
    ("+t - -s", t + s),
    ("y**2**3", y ** 8),
    ("2**-1 * y", y / 2),
    ("(t + 1)**0.5", sympy.sqrt(t + 1)),
    ("0.1 * y", sympy.Rational(1, 10) * y),
    ("1_000.5 + .5e-3 + 5. + 0x10 + 1E2", sympy.Rational(2001, 2) + sympy.Rational(1, 2000)
     + 5 + 16 + 100),
    ("pi * e", sympy.pi * sympy.E),
    ("abs(y) + min(t, s) + max(t, y)", sympy.Abs(y) + sympy.Min(t, s) + sympy.Max(t, y)),
    ("atan2(y, t) + erf(y) + erfc(t)", sympy.atan2(y, t) + sympy.erf(y) + sympy.erfc(t)),
    ("log(1 + y**2) + sqrt(t) + tan(s)", sympy.log(1 + y ** 2) + sympy.sqrt(t) + sympy.tan(s)),
    ("asin(y) + acos(y) + atan(y)", sympy.asin(y) + sympy.acos(y) + sympy.atan(y)),
    ("sinh(t) + cosh(s) + tanh(y)", sympy.sinh(t) + sympy.cosh(s) + sympy.tanh(y)),
    ("asinh(t) + acosh(1 + s**2) + atanh(y / 2)",
     sympy.asinh(t) + sympy.acosh(1 + s ** 2) + sympy.atanh(y / 2)),
    ("(t +\n s)", t + s),
    ("  t  ", t),
    ("+".join(["y"] * 900), 900 * y),  # a long chain is not deep nesting
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[a[0][:30] for a in ACCEPTED])
def test_accepted_expressions_mean_what_they_say(text, expected):
    expr = parse_expression(text)
    assert isinstance(expr, sympy.Expr)
    assert sympy.simplify(expr - expected) == 0


def test_float_literals_are_exact_decimals():
    assert parse_expression("0.1") == sympy.Rational(1, 10)
    assert parse_expression("1e-3") == sympy.Rational(1, 1000)
    assert parse_expression("2.5e2") == 250
    assert parse_expression("1e308") == sympy.Integer(10) ** 308
    # the double nearest to the exact decimal is the one Python uses for the literal
    for literal in ["0.1", "1.7976931348623157e308", "5e-324", "0.3333333333333333"]:
        assert float(parse_expression(literal)) == float(literal)


def test_symbols_are_real_and_given_symbols_are_kept():
    expr = parse_expression("abs(y)")
    (sym,) = expr.free_symbols
    assert sym.is_real
    x = sympy.Symbol("x", positive=True)
    assert parse_expression("x**2 + 1", (x,)) == x ** 2 + 1
    assert parse_expression("y0 * y1", ("y0", "y1")) == y0 * y1


def test_parse_vector():
    assert parse_vector(["-y0 * y1", "y0 - cos(t - s)"]) == [-y0 * y1, y0 - sympy.cos(t - s)]
    with pytest.raises(ExpressionError, match=r"^component 1: unknown name 'y2' at column 1"):
        parse_vector(["y0", "y2"])
    with pytest.raises(ExpressionError, match="component 0: unknown name 'y'"):
        parse_vector(["y"])


# -- the parser never evaluates text ------------------------------------------------------

def test_parser_source_calls_no_evaluator():
    """_parse.py contains no call of eval, exec, compile, sympify or parse_expr."""
    tree = ast.parse(inspect.getsource(_parse))
    forbidden = {"eval", "exec", "compile", "sympify", "parse_expr", "__import__"}
    called = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            called.add(f.id if isinstance(f, ast.Name) else getattr(f, "attr", None))
    assert not called & forbidden


@pytest.fixture
def no_evaluation(monkeypatch):
    """Make eval/exec and SymPy's string parsers fail loudly while the test runs."""
    def refuse(*args, **kwargs):
        raise AssertionError("text was evaluated")

    monkeypatch.setattr(builtins, "eval", refuse)
    monkeypatch.setattr(builtins, "exec", refuse)
    monkeypatch.setattr(sympy, "sympify", refuse)
    monkeypatch.setattr(sympy, "parse_expr", refuse, raising=False)
    monkeypatch.setattr("sympy.parsing.sympy_parser.parse_expr", refuse)


def test_malicious_text_has_no_effect(tmp_path, monkeypatch, no_evaluation):
    monkeypatch.chdir(tmp_path)
    for text in ["__import__('os').system('touch pwned')", "open('pwned', 'w')",
                 "exec(\"open('pwned', 'w')\")", "(lambda: open('pwned', 'w'))()",
                 "[open('pwned', 'w') for _ in (1,)]"]:
        with pytest.raises(ExpressionError):
            parse_expression(text)
    assert list(tmp_path.iterdir()) == []


@settings(max_examples=200)
@given(st.text(alphabet=st.sampled_from(list("ts y0123456789.e+-*/()[]{}'\",:;=<>!%^&|~@_ \n"
                                             "abcdfijlmnopqrux")) | st.characters(),
               max_size=60))
def test_random_text_parses_or_raises_expression_error(text):
    # (evaluators are not patched here: Hypothesis runs the body many times and the
    #  property is simply that nothing but an Expr or an ExpressionError comes out)
    try:
        expr = parse_expression(text)
    except ExpressionError:
        return
    assert isinstance(expr, sympy.Expr)
    assert expr.free_symbols <= {t, s, y}


def test_random_text_under_no_evaluation(no_evaluation):
    # the same property, with eval/exec/sympify patched to fail, on a fixed sample
    import random
    rng = random.Random(0)
    alphabet = "ts y0123456789.e+-*/()[]'_,:<abcdfijlmnopqrux"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 30)))
        try:
            parse_expression(text)
        except ExpressionError:
            pass


# -- round trip of random whitelisted expression trees ------------------------------------

_UNARY_FUNCS = ["exp", "log", "sqrt", "sin", "cos", "tan", "atan", "sinh", "cosh", "tanh",
                "abs", "erf", "asinh"]
_BINARY_FUNCS = ["atan2", "min", "max"]
_MP = {"exp": mpmath.exp, "log": mpmath.log, "sqrt": mpmath.sqrt, "sin": mpmath.sin,
       "cos": mpmath.cos, "tan": mpmath.tan, "atan": mpmath.atan, "sinh": mpmath.sinh,
       "cosh": mpmath.cosh, "tanh": mpmath.tanh, "abs": abs, "erf": mpmath.erf,
       "asinh": mpmath.asinh, "atan2": mpmath.atan2, "min": min, "max": max}

leaves = (st.sampled_from(["t", "s", "y", "pi", "e"])
          | st.integers(0, 9).map(str)
          | st.sampled_from(["0.5", "1.25", "2.5e-1", "3e0", "0.1"]))


def _extend(children):
    return (st.tuples(st.sampled_from(["+", "-", "*", "/", "**"]), children, children)
            | st.tuples(st.just("neg"), children)
            | st.tuples(st.sampled_from(_UNARY_FUNCS), children)
            | st.tuples(st.sampled_from(_BINARY_FUNCS), children, children))


trees = st.recursive(leaves, _extend, max_leaves=12)


def _to_text(tree):
    if isinstance(tree, str):
        return tree
    op, *args = tree
    texts = [_to_text(a) for a in args]
    if op == "neg":
        return f"(-{texts[0]})"
    if op in ("+", "-", "*", "/", "**"):
        return f"({texts[0]} {op} {texts[1]})"
    return f"{op}({', '.join(texts)})"


def _mp_value(tree, point):
    """Evaluate a tree with mpmath at the working precision (independently of SymPy)."""
    if isinstance(tree, str):
        if tree in point:
            return point[tree]
        return {"pi": +mpmath.pi, "e": +mpmath.e}.get(tree) or mpmath.mpf(tree)
    op, *args = tree
    a = [_mp_value(arg, point) for arg in args]
    if op == "neg":
        value = -a[0]
    elif op == "+":
        value = a[0] + a[1]
    elif op == "-":
        value = a[0] - a[1]
    elif op == "*":
        value = a[0] * a[1]
    elif op == "/":
        value = a[0] / a[1]
    elif op == "**":
        if abs(a[1]) > 50 or (a[0] == 0 and a[1] <= 0):
            raise ZeroDivisionError  # huge or undefined powers: skip the example
        value = a[0] ** a[1]
    else:
        value = _MP[op](*a)
    if isinstance(value, mpmath.mpc) or not mpmath.isfinite(value) or abs(value) > 1e100:
        raise ValueError("complex, infinite or huge intermediate value")
    return value


@settings(max_examples=100)
@given(trees, st.lists(st.floats(0.2, 1.9), min_size=3, max_size=3))
def test_random_trees_round_trip(tree, xyz):
    """Printing a whitelisted tree and parsing it back gives the same function."""
    text = _to_text(tree)
    try:
        expr = parse_expression(text)
    except ExpressionError as exc:
        # only numeric subexpressions that are undefined or too large may be refused
        assert any(w in str(exc) for w in ("division by zero", "undefined", "complex",
                                           "exponent", "too large", "float64", "0**")), exc
        assume(False)
    f = sympy.lambdify((t, s, y), expr, modules="mpmath")
    values = []
    for digits in (50, 80):
        with mpmath.workdps(digits):
            point = {"t": mpmath.mpf(xyz[0]), "s": mpmath.mpf(xyz[1]), "y": mpmath.mpf(xyz[2])}
            try:
                expected = _mp_value(tree, point)
                got = +mpmath.mpmathify(f(point["t"], point["s"], point["y"]))
            except (ZeroDivisionError, ValueError, OverflowError):
                assume(False)
            values.append((expected, got))
    (e50, g50), (e80, _) = values
    # skip trees so ill-conditioned that 50 digits do not fix 45 of them
    assume(abs(e50 - e80) <= 1e-45 * (1 + abs(e80)))
    assert abs(mpmath.im(g50)) <= 1e-30 * (1 + abs(e50)), (text, expr)
    assert abs(mpmath.re(g50) - e50) <= 1e-25 * (1 + abs(e50)), (text, expr)


def test_function_table_is_what_the_docs_promise():
    for name in ["exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan", "sinh",
                 "cosh", "tanh", "abs", "erf", "atan2", "min", "max"]:
        assert name in FUNCTIONS
    assert math.isclose(float(parse_expression("atan2(1, 1)")), math.pi / 4)
