"""Safe parsing of user text (CLI arguments, config files) into SymPy expressions.

The text is read by :func:`ast.parse` (which only builds a syntax tree; nothing is
run) and the SymPy expression is built by walking a whitelist of node types:

* numbers: decimal ``int`` and ``float`` literals (``16``, ``1.5``, ``2e-3``, ``1_000``; not
  ``0x10``, ``0o17``, ``0b101``, ``bool``, ``complex``, strings, ``None``), the rule of
  ``--param`` values too (:func:`~._text.decimal_number`);
* names: the problem's variables (``t``, ``s``, ``y`` or ``y0``, ``y1``, ...) and the
  constants ``pi`` and ``e``;
* unary ``+``/``-`` and binary ``+ - * / **``;
* calls of the mathematical functions in :data:`FUNCTIONS`, with positional arguments
  only and their fixed number of arguments.

Anything else (attribute access, subscripts, lambdas, comprehensions, keyword or
starred arguments, comparisons, boolean operators, conditional expressions,
f-strings, unknown names such as ``__import__`` or ``open``) is refused with an
:class:`ExpressionError` naming the construct and its column.  The text is never
given to ``eval``, ``exec``, ``sympy.sympify`` or ``sympy.parse_expr``.

Numbers
-------
A float literal is converted to the exact rational number *written* (``0.1`` becomes
``1/10``, from its decimal digits, not from the binary double), so the symbolic
expression and its exact derivatives mean what the user typed; compiled code rounds
it back to the same double Python would use.  Every literal must be a finite,
non-underflowing float64; so must, in a text to be compiled (:func:`parse_with_literal`),
every constant subexpression the code computes with (``y * exp(-1000)`` would be 0.0).

Values
------
SymPy simplifies as it builds (``exp(log(t))``, ``sqrt(t)**2`` and ``sqrt(t)*sqrt(t)`` are
``t``, ``(t**0.5)**4`` is ``t**2``, ``log(t) - log(t)`` is 0), which changes where the function
is defined: NumPy gives NaN for t < 0.  :func:`parse_with_literal` therefore also returns the
text as written (:func:`_literal`), from which the generated code computes the values
(:func:`._sympy._written_code`); the SymPy expression gives the exact derivatives.

Resource limits
---------------
The text is at most :data:`MAX_LENGTH` characters, its syntax tree at most
:data:`MAX_NODES` nodes and :data:`MAX_DEPTH` levels deep (a chain ``a + b - c ...``
or ``a * b / c ...`` counts as one level, however long).  SymPy evaluates powers
of numbers exactly, so ``9**9**9`` would build an integer of hundreds of millions of
digits: a power whose exponent is a number must have ``|exponent| <=``
:data:`MAX_EXPONENT`, and a power of two numbers is evaluated only if its exact value
needs at most :data:`MAX_POWER_BITS` bits; otherwise the power is refused.  Likewise
every exact constant has at most :data:`MAX_POWER_BITS` bits, and every other constant
subexpression (``exp(exp(5))``, ``sin(2)``) must lie in the float64 range: SymPy would
otherwise evaluate it to ever higher precision (``1/tan(exp(exp(exp(5))))`` never returns).

SymPy simplifies a power of a power automatically, at a cost exponential in the
nesting (a 113-character ``((((y**1.5)**1.5)...)**1.5`` of 16 levels would run for
days), so at most :data:`MAX_POWER_NESTING` powers may be nested in the base of a
power with a non-integer exponent.  As a last guard, building the expression stops
after :data:`MAX_SECONDS` seconds of the calling thread's CPU time, also inside a SymPy call
(a profile hook of the thread watches the clock, unless a profiler is already installed
there).
"""
from __future__ import annotations

import ast
import contextlib
import keyword
import math
import re
import sys
import time
from decimal import Decimal, InvalidOperation

import sympy

from ._text import (DECIMAL_LITERAL, MAX_LENGTH, NUMBER_RULE, ExpressionError,
                    split_vector_text)

__all__ = ["ExpressionError", "parse_expression", "parse_vector", "parse_with_literal",
           "parse_vector_with_literal", "split_vector_text", "FUNCTIONS",
           "CONSTANTS", "MAX_LENGTH", "MAX_NODES", "MAX_DEPTH", "MAX_EXPONENT", "MAX_POWER_BITS",
           "MAX_POWER_NESTING", "MAX_SECONDS"]

#: Most syntax-tree nodes (operators and contexts included).
MAX_NODES = 4000
#: Deepest nesting of the syntax tree.
MAX_DEPTH = 100
#: Largest |exponent| of a power whose exponent is a number.
MAX_EXPONENT = 1000
#: Largest size (bits of numerator or denominator) of an exactly evaluated power of numbers.
MAX_POWER_BITS = 4096
#: Most powers nested in the base of a power with a non-integer exponent.
MAX_POWER_NESTING = 6
#: Longest time spent building the expression (seconds of CPU time, see :data:`_clock`).
MAX_SECONDS = 5.0

#: Function name -> (SymPy function, number of positional arguments).
FUNCTIONS = {
    "exp": (sympy.exp, 1),
    "log": (sympy.log, 1),
    "sqrt": (sympy.sqrt, 1),
    "sin": (sympy.sin, 1),
    "cos": (sympy.cos, 1),
    "tan": (sympy.tan, 1),
    "asin": (sympy.asin, 1),
    "acos": (sympy.acos, 1),
    "atan": (sympy.atan, 1),
    "sinh": (sympy.sinh, 1),
    "cosh": (sympy.cosh, 1),
    "tanh": (sympy.tanh, 1),
    "asinh": (sympy.asinh, 1),
    "acosh": (sympy.acosh, 1),
    "atanh": (sympy.atanh, 1),
    "abs": (sympy.Abs, 1),
    "erf": (sympy.erf, 1),
    "erfc": (sympy.erfc, 1),
    "atan2": (sympy.atan2, 2),
    "min": (sympy.Min, 2),
    "max": (sympy.Max, 2),
}

#: Constant name -> SymPy constant.
CONSTANTS = {"pi": sympy.pi, "e": sympy.E}

_BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_UNARY = {ast.UAdd: "+", ast.USub: "-"}

# Refused binary/unary operators, with a hint where a user likely meant something else.
_OPERATOR_NAMES = {
    ast.BitXor: "operator '^'", ast.FloorDiv: "operator '//'",
    ast.Mod: "operator '%'", ast.MatMult: "operator '@'", ast.BitAnd: "operator '&'",
    ast.BitOr: "operator '|'", ast.LShift: "operator '<<'", ast.RShift: "operator '>>'",
    ast.Not: "operator 'not'", ast.Invert: "operator '~'",
}

# Names for refused node types (the construct named in the error message).
_CONSTRUCTS = {
    ast.Attribute: "attribute access", ast.Subscript: "subscript", ast.Lambda: "lambda",
    ast.ListComp: "comprehension", ast.SetComp: "comprehension",
    ast.DictComp: "comprehension", ast.GeneratorExp: "generator expression",
    ast.Compare: "comparison", ast.BoolOp: "boolean operator", ast.IfExp: "conditional expression",
    ast.JoinedStr: "f-string", ast.FormattedValue: "f-string", ast.Starred: "starred argument",
    ast.Tuple: "tuple", ast.List: "list", ast.Dict: "dict", ast.Set: "set",
    ast.NamedExpr: "assignment expression (':=')", ast.Await: "await", ast.Yield: "yield",
    ast.YieldFrom: "yield", ast.Slice: "slice",
}

_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">",
                ast.GtE: ">=", ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in"}

_UNDEFINED = (sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)


def _position(text, lineno, col_offset, shift=(0, 0)):
    """1-based (line, column) in characters of the user's text.

    ``ast`` counts columns in UTF-8 bytes of the parsed (stripped) text; ``shift`` is
    the (lines, columns) of leading whitespace removed before parsing.
    """
    lines = text.splitlines() or [""]
    line = lines[lineno - 1] if 0 < lineno <= len(lines) else ""
    col = len(line.encode("utf-8")[:col_offset].decode("utf-8", errors="ignore"))
    if lineno == 1:
        col += shift[1]
    return lineno + shift[0], col + 1


def _short(number):
    try:
        text = str(number)
    except ValueError:  # an integer with more digits than Python prints (4300 by default)
        bits = max(abs(number.p).bit_length(), number.q.bit_length())
        return f"of about {int(bits * math.log10(2))} digits"
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


def _power_nesting(expr, memo):
    """The most powers nested in one another (through any operations) in ``expr``."""
    if expr.is_Atom:
        return 0
    if expr not in memo:
        inner = max(_power_nesting(arg, memo) for arg in expr.args)
        memo[expr] = inner + 1 if expr.is_Pow else inner
    return memo[expr]


class _OutOfTime(BaseException):
    """Raised inside SymPy by the profile hook of :func:`_time_limit` (a BaseException,
    so that SymPy's own ``except Exception`` clauses do not swallow it)."""


#: The clock of :data:`MAX_SECONDS`: the calling thread's CPU time, which a loaded machine does
#: not advance (on the wall clock, "exp(-(t - s)) * sin(y) + t * y**2 / 3" once took over 5 s
#: in a test process starved at load ~8, and was refused as too costly to build).
_clock = time.thread_time


@contextlib.contextmanager
def _time_limit(deadline):
    """Raise :class:`_OutOfTime` in this thread once its CPU time (:func:`_clock`) passes
    ``deadline``, also deep inside a SymPy call: a profile hook checks the clock every
    256 calls.  A profiler already installed in the thread is left alone (the builder
    still checks the clock between nodes)."""
    if sys.getprofile() is not None:
        yield
        return
    calls = 0

    def hook(frame, event, arg):
        nonlocal calls
        calls += 1
        if calls % 256 == 0 and _clock() > deadline:
            raise _OutOfTime   # Python then removes the hook itself

    sys.setprofile(hook)
    try:
        yield
    finally:
        sys.setprofile(None)


def _where(line, column):
    return f"column {column}" if line == 1 else f"line {line}, column {column}"


class _Builder:
    """Walks a syntax tree and builds the SymPy expression from whitelisted nodes."""

    def __init__(self, text, symbols, shift, deadline=math.inf, compiled=False):
        self.text = text
        self.compiled = compiled   # (refuse constants that float64 rounds to 0.0: _literal)
        self.symbols = symbols
        self.shift = shift
        self.deadline = deadline
        self.nesting = {}   # memo of _power_nesting
        self.values = {}    # syntax-tree node -> its SymPy expression

    # -- errors ---------------------------------------------------------------------------

    def fail(self, what, node, lineno=None, col_offset=None, refused=True, hint=""):
        """Raise ExpressionError: '<what> at column c is not allowed ...' (or, for
        ``refused=False``, a problem with an allowed construct: '<what> at column c')."""
        lineno = getattr(node, "lineno", 1) if lineno is None else lineno
        col_offset = getattr(node, "col_offset", 0) if col_offset is None else col_offset
        line, column = _position(self.text, lineno, col_offset, self.shift)
        where = _where(line, column)
        message = (f"{what} at {where} is not allowed in an expression" if refused
                   else f"{what} at {where}")
        raise ExpressionError(f"{message} ({hint})" if hint else message, line, column)

    def invalid(self, what, node, hint=""):
        self.fail(what, node, refused=False, hint=hint)

    def refuse(self, node):
        """Raise for a node outside the whitelist, naming it as a user would."""
        if isinstance(node, ast.Attribute):
            # Point at the '.name' part: the value before it may be long.
            self.fail(f"attribute access '.{node.attr}'", node, node.end_lineno,
                      node.end_col_offset - len(node.attr) - 1)
        if isinstance(node, ast.Subscript):
            self.fail("subscript '[...]'", node, node.value.end_lineno, node.value.end_col_offset)
        if isinstance(node, ast.Compare):
            ops = ", ".join(f"'{_COMPARISONS.get(type(op), '?')}'" for op in node.ops)
            self.fail(f"comparison ({ops})", node)
        if isinstance(node, ast.BoolOp):
            self.fail(f"boolean operator '{'and' if isinstance(node.op, ast.And) else 'or'}'", node)
        if isinstance(node, ast.IfExp):
            self.fail("conditional expression ('... if ... else ...')", node)
        name = _CONSTRUCTS.get(type(node), f"construct '{type(node).__name__}'")
        self.fail(name, node)

    # -- building -------------------------------------------------------------------------

    def build(self, node, depth=0):
        """The SymPy expression of ``node`` (recorded in :attr:`values` for :func:`_literal`)."""
        result = self.values[node] = self._build(node, depth)
        return result

    def _build(self, node, depth):
        if _clock() > self.deadline:
            raise _OutOfTime
        if depth > MAX_DEPTH:
            self.invalid(f"nesting deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, ast.Constant):
            return self.constant(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if type(node.op) not in _UNARY:
                self.fail(_OPERATOR_NAMES.get(type(node.op), "unary operator"), node)
            operand = self.build(node.operand, depth + 1)
            return self.checked(-operand if isinstance(node.op, ast.USub) else operand, node)
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        self.refuse(node)

    def constant(self, node):
        value = node.value
        literal = ast.get_source_segment(self.text, node)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and literal \
                and not re.fullmatch(DECIMAL_LITERAL, literal):
            self.invalid(f"number '{literal}'", node, hint=NUMBER_RULE)
        if isinstance(value, bool) or value is None or value is Ellipsis:
            self.fail(f"constant {value!r}", node)
        if isinstance(value, complex):
            self.fail("complex number", node)
        if isinstance(value, (str, bytes)):
            self.fail("string" if isinstance(value, str) else "bytes literal", node)
        if isinstance(value, int):
            if abs(value) >= 2 ** 1024:
                self.invalid("integer outside the float64 range", node)
            return sympy.Integer(value)
        if isinstance(value, float):
            literal = literal or repr(value)
            if not math.isfinite(value):
                self.invalid("number outside the float64 range", node)
            try:
                exact = Decimal(literal.replace("_", ""))
            except InvalidOperation:  # pragma: no cover - ast accepted it as a float
                exact = Decimal(repr(value))
            if value == 0.0 and exact != 0:
                self.invalid("number that underflows to zero in float64", node)
            return sympy.Rational(*exact.as_integer_ratio())
        self.fail(f"constant of type {type(value).__name__}", node)

    def name(self, node):
        if node.id in self.symbols:
            return self.symbols[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            self.fail(f"function '{node.id}' used without calling it", node)
        known = ", ".join(self.symbols)
        self.invalid(f"unknown name '{node.id}'", node,
                     hint=f"variables: {known}; constants: pi, e")

    def binop(self, node, depth):
        if type(node.op) not in _BINARY:
            self.fail(_OPERATOR_NAMES.get(type(node.op), "binary operator"), node,
                      node.left.end_lineno, node.left.end_col_offset)
        if isinstance(node.op, ast.Pow):
            base = self.build(node.left, depth + 1)
            exponent = self.build(node.right, depth + 1)
            return self.checked(self.power(base, exponent, node), node)
        # "a + b - c + ..." parses as a left-nested chain as deep as it is long: walk the
        # chain iteratively and build one Add (or Mul for "a * b / c ...").
        additive = isinstance(node.op, (ast.Add, ast.Sub))
        group = (ast.Add, ast.Sub) if additive else (ast.Mult, ast.Div)
        chain = []
        head = node
        while isinstance(head, ast.BinOp) and isinstance(head.op, group):
            chain.append(head)
            head = head.left
        terms = [self.build(head, depth + 1)]
        for link in reversed(chain):
            right = self.build(link.right, depth + 1)
            if isinstance(link.op, ast.Sub):
                right = -right
            elif isinstance(link.op, ast.Div):
                if right.is_zero:
                    self.invalid("division by zero", link)
                right = 1 / right
            terms.append(right)
        result = sympy.Add(*terms) if additive else sympy.Mul(*terms)
        return self.checked(result, node)

    def power(self, base, exponent, node):
        if exponent.is_Number:
            if abs(exponent) > MAX_EXPONENT:
                self.invalid(f"power with exponent {exponent}", node,
                             hint=f"|exponent| must be at most {MAX_EXPONENT}")
            if base.is_Rational:
                # Exact powers of numbers grow like |exponent| * size(base): bound them
                # before SymPy evaluates them.
                size = max(abs(base.p).bit_length(), base.q.bit_length())
                if float(abs(exponent)) * size > MAX_POWER_BITS:
                    self.invalid("numeric power too large to evaluate exactly", node,
                                 hint=f"more than {MAX_POWER_BITS} bits")
        if base.is_zero and exponent.is_number and (exponent.is_negative or exponent.is_zero):
            self.invalid(f"power 0**{exponent} (undefined)", node)
        if exponent.is_integer is not True and _power_nesting(base, self.nesting) >= MAX_POWER_NESTING:
            self.invalid(f"power of powers nested more than {MAX_POWER_NESTING} levels deep", node,
                         hint="SymPy's simplification of nested non-integer powers takes time "
                              "exponential in their depth")
        result = sympy.Pow(base, exponent)
        # Automatic simplification ((y**a)**b -> y**(a*b)) may create a large exponent.
        if result.is_Pow and result.exp.is_Number and abs(result.exp) > MAX_EXPONENT:
            self.invalid(f"power with exponent {result.exp}", node,
                         hint=f"|exponent| must be at most {MAX_EXPONENT}")
        return result

    def call(self, node, depth):
        func = node.func
        if not isinstance(func, ast.Name):
            self.build(func, depth + 1)  # raises: attribute access, subscript, call, ...
            self.fail("call of something that is not a function name", node)
        if func.id not in FUNCTIONS:
            self.invalid(f"unknown function '{func.id}'", node,
                         hint=f"functions: {', '.join(FUNCTIONS)}")
        for kw in node.keywords:
            where = kw if hasattr(kw, "lineno") else node
            self.fail("keyword argument" if kw.arg is not None else "'**' argument", where)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.fail("starred argument", arg)
        sympy_func, arity = FUNCTIONS[func.id]
        if len(node.args) != arity:
            self.invalid(f"call of '{func.id}' with {len(node.args)} argument(s)", node,
                         hint=f"{func.id} takes {arity}")
        args = [self.build(a, depth + 1) for a in node.args]
        return self.checked(sympy_func(*args), node)

    def checked(self, result, node):
        """Refuse constant subexpressions that are undefined, infinite, complex or too large."""
        if result.has(*_UNDEFINED):
            self.invalid(f"undefined or infinite value ({result})", node)
        if result.is_number:
            self.bounded(result, node)
            if result.has(sympy.I) or result.is_extended_real is False:
                self.invalid(f"complex value ({result})", node)
        return result

    def bounded(self, value, node):
        """Refuse an exact constant of more than MAX_POWER_BITS bits, and any other constant
        outside the float64 range: later questions about it (is it zero?) would make SymPy
        evaluate it to a precision that grows with its size."""
        if value.is_Rational:
            if max(abs(value.p).bit_length(), value.q.bit_length()) > MAX_POWER_BITS:
                self.invalid(f"number {_short(value)}", node,
                             hint=f"exact numbers have at most {MAX_POWER_BITS} bits")
            return
        try:
            magnitude = abs(complex(value.evalf(17)))
        except (TypeError, ValueError, ArithmeticError):
            magnitude = math.inf
        if not magnitude <= sys.float_info.max:
            self.invalid(f"constant {_short(value)} outside the float64 range", node)


#: Node types whose value NumPy computes from their operands in the order written.
_CHAIN = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def _variable_nodes(tree, symbols):
    """The syntax-tree nodes with a variable (a name of ``symbols``) somewhere below them."""
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    marked = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in symbols:
            while node is not None and node not in marked:
                marked.add(node)
                node = parents.get(node)
    return marked


def _literal(node, builder, variable):
    """The expression as written, for code that computes the text's values as NumPy would.

    SymPy simplifies as it builds (``exp(log(t)) -> t``, ``sqrt(t)**2 -> t``, ``t/t -> 1``),
    which changes where the function is defined; this tree keeps every operation of the text,
    in its order.  Nodes: ``("num", exact value)`` for a subexpression without variables (its
    exact SymPy value, rounded once when printed), ``("var", Symbol)``, ``("neg", x)``,
    ``("chain", first, [(op, x), ...])`` for ``a + b - c ...`` or ``a * b / c ...`` (evaluated
    left to right), ``("**", base, exponent)`` and ``("call", name, [args])``.
    """
    if node not in variable:
        value = builder.values[node]
        if builder.compiled and _underflows(value):   # (it would be compiled as 0.0)
            builder.invalid(f"constant {_short(value)} underflows to zero in float64", node)
        return ("num", value)
    if isinstance(node, ast.Name):
        return ("var", builder.symbols[node.id])
    if isinstance(node, ast.UnaryOp):
        operand = _literal(node.operand, builder, variable)
        return ("neg", operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return ("call", node.func.id, [_literal(a, builder, variable) for a in node.args])
    if isinstance(node.op, ast.Pow):
        return ("**", _literal(node.left, builder, variable),
                _literal(node.right, builder, variable))
    group = (ast.Add, ast.Sub) if isinstance(node.op, (ast.Add, ast.Sub)) else (ast.Mult, ast.Div)
    links, head = [], node
    while isinstance(head, ast.BinOp) and isinstance(head.op, group):   # (iterative: long chains)
        links.append((_CHAIN[type(head.op)], _literal(head.right, builder, variable)))
        head = head.left
    return ("chain", _literal(head, builder, variable), links[::-1])


def _underflows(number):
    """Whether the nonzero constant ``number`` rounds to 0.0 in float64 (``exp(-1000)``,
    ``1e-200 * 1e-200``): the compiled code would hold 0.0 for it, as for a literal ``1e-400``,
    which the parser refuses.  (A constant too large for a float64 is refused elsewhere.)"""
    try:
        return float(number) == 0.0 and number != 0
    except (OverflowError, TypeError, ValueError):
        return False


def _symbols(variables):
    """Map variable names to real SymPy symbols (a given Symbol is used as it is)."""
    if isinstance(variables, (str, sympy.Basic)):
        variables = (variables,)
    symbols = {}
    for v in variables:
        symbol = v if isinstance(v, sympy.Symbol) else None
        name = v.name if symbol is not None else v
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            raise ValueError(f"variables must be identifiers or SymPy Symbols, got {v!r}")
        if name in FUNCTIONS or name in CONSTANTS:
            raise ValueError(f"variable name {name!r} is also the name of a function or "
                             f"constant of the expression language")
        if name in symbols:
            raise ValueError(f"variable {name!r} is given twice")
        symbols[name] = symbol if symbol is not None else sympy.Symbol(name, real=True)
    return symbols


def parse_expression(text, variables=("t", "s", "y")):
    """Parse user text into a SymPy expression, accepting only arithmetic on numbers,
    variables, ``pi``, ``e`` and the named functions of :data:`FUNCTIONS`.

    Parameters
    ----------
    text : str
        The expression in Python syntax, e.g. ``"exp(-(t - s)) * sin(y)"``.
    variables : sequence of str or sympy.Symbol
        The names the text may use.  A name becomes ``sympy.Symbol(name, real=True)``;
        a Symbol is used as given (so the result can be combined with the caller's
        symbols).

    Returns
    -------
    sympy.Expr

    Raises
    ------
    ExpressionError
        (a ``ValueError``) if the text is not an accepted expression; the message
        names the refused construct and its column.
    TypeError
        If ``text`` is not a string.

    Notes
    -----
    The text is only parsed (:func:`ast.parse`), never evaluated.  Float literals are
    converted exactly from their decimal digits (``0.1 -> 1/10``).  See the module
    docstring for the size limits and the rule on large powers.

    Examples
    --------
    >>> parse_expression("exp(-(t - s)) * sin(y) + 0.5 * y**2")
    y**2/2 + exp(s - t)*sin(y)
    >>> parse_expression("__import__('os').system('ls')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
        ...
    integrallimits.kernels._text.ExpressionError: attribute access '.system' at column 17 ...
    """
    return parse_with_literal(text, variables, compiled=False)[0]


def parse_with_literal(text, variables=("t", "s", "y"), compiled=True):
    """(:func:`parse_expression`'s SymPy expression, the text as written: :func:`_literal`).

    The compiled code of a text computes its values from the second (SymPy's automatic
    simplification changes the domain: ``sqrt(t)**2`` is ``t`` to SymPy but NaN for t < 0 to
    NumPy); derivatives come from the first.  For that code (``compiled``, the default) a
    constant of the text that float64 rounds to 0.0 (``y * exp(-1000)``) is refused, as a
    literal ``1e-400`` is; the exact expression alone (:func:`parse_expression`) keeps it."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a string, got {type(text).__name__}")
    symbols = _symbols(variables)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; at most "
                              f"{MAX_LENGTH} are accepted")
    # ast refuses leading whitespace ("unexpected indent"): strip it, and remember it
    # so that columns in messages refer to the user's text.
    source = text.strip()
    if not source:
        raise ExpressionError("expression is empty")
    prefix = text[:len(text) - len(text.lstrip())]
    shift = (prefix.count("\n"), len(prefix) - (prefix.rfind("\n") + 1))
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        line, col = _position(source, exc.lineno or 1, 0, shift)
        col += (exc.offset or 1) - 1
        raise ExpressionError(f"invalid syntax at {_where(line, col)}: {exc.msg}",
                              line, col) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ExpressionError(f"invalid expression: {type(exc).__name__}") from None
    count = 0
    for _ in ast.walk(tree):
        count += 1
        if count > MAX_NODES:
            raise ExpressionError(f"expression has more than {MAX_NODES} syntax-tree nodes")
    deadline = _clock() + MAX_SECONDS
    builder = _Builder(source, symbols, shift, deadline, compiled)
    try:
        with _time_limit(deadline):
            expr = builder.build(tree.body)
            literal = _literal(tree.body, builder, _variable_nodes(tree.body, symbols))
    except _OutOfTime:
        raise ExpressionError(f"expression took more than {MAX_SECONDS:g} s to build "
                              "(SymPy's automatic simplification of it is too costly)") from None
    except RecursionError:  # pragma: no cover - MAX_DEPTH keeps recursion shallow
        raise ExpressionError("expression is nested too deeply") from None
    for number in expr.atoms(sympy.Number):
        try:
            finite = math.isfinite(float(number))
        except OverflowError:
            finite = False
        if not finite:
            raise ExpressionError(f"the number {_short(number)} in the expression is "
                                  f"outside the float64 range")
    return expr, literal


def parse_vector(texts, variables=None):
    """Parse the components of a vector expression (one text per component).

    Parameters
    ----------
    texts : sequence of str
        One expression per component, e.g. ``["-y0 * y1", "y0 - cos(t - s)"]``.
    variables : sequence of str or sympy.Symbol, optional
        Default ``("t", "s", "y0", ..., "y{d-1}")`` with ``d = len(texts)``.

    Returns
    -------
    list of sympy.Expr

    Raises
    ------
    ExpressionError
        If a component is refused; the message starts with the component index.

    Examples
    --------
    >>> parse_vector(["-y0 * y1", "y0 - cos(t - s)"])
    [-y0*y1, y0 - cos(s - t)]
    """
    return [expr for expr, _ in parse_vector_with_literal(texts, variables, compiled=False)]


def parse_vector_with_literal(texts, variables=None, compiled=True):
    """[(expression, literal) per component]: :func:`parse_vector` with
    :func:`parse_with_literal`'s second part (``compiled`` as there)."""
    if isinstance(texts, str) or not hasattr(texts, "__len__"):
        raise TypeError(f"texts must be a sequence of strings, got {type(texts).__name__}")
    if variables is None:
        variables = ("t", "s") + tuple(f"y{k}" for k in range(len(texts)))
    exprs = []
    for k, text in enumerate(texts):
        try:
            exprs.append(parse_with_literal(text, variables, compiled))
        except ExpressionError as exc:
            raise ExpressionError(f"component {k}: {exc}", exc.line, exc.column) from None
    return exprs
