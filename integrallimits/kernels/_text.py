"""Kernels and forcings from user text, and the index from a text to its generated module.

The first use of a text parses it into the whitelist of :mod:`._parse` (the text is never
evaluated), derives the module with :mod:`._sympy` (exact Jacobian included) and writes it to
:func:`~._generated.cache_directory`; an *index entry* ``text_<hash>.json`` beside the module
then records the SHA-256 of that module's source.  The hash names everything that determines
the generated code: what is built (kernel or forcing), the exact text(s), the variable and
parameter names, the package's source fingerprint and SymPy's version.  A later call, in this
or another process, with the same text finds the entry, checks the module's SHA-256 and
imports it without SymPy (the text is only hashed): kernel, block sum, Jacobian and probe all
come from the module the package wrote.  No entry, an entry for another key, a missing or
changed module, or any failure while loading it takes the full path, which writes the module
and the entry again; nothing is deleted.

Nothing here imports SymPy until a text has to be parsed.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from importlib.util import find_spec
from pathlib import Path

from .._numba import IMPORTED_FINGERPRINT
from . import _generated

__all__ = ["ExpressionError", "split_vector_text", "kernel_from_text", "forcing_from_text",
           "decimal_number", "MAX_LENGTH"]

#: Longest accepted text (characters).
MAX_LENGTH = 2000

#: Largest generated module (lines, characters) compiled for a kernel given as text: Numba's
#: compile time and memory grow faster than the module (the Jacobian of a d-component kernel
#: alone has d^2 lines).  "[-y1, -y2, ..., -y0]" with d = 30 (1300 lines) compiled in about
#: 2 minutes on a loaded machine; with d = 60 (4400 lines, a 350-character text) it ran over
#: 10 minutes and took 9 GB before it was stopped.
MAX_GENERATED_LINES = 1500
MAX_GENERATED_CHARS = 200_000

#: Version of the index entries' format (part of the key).  2: a text's values are computed
#: from the text as written, not from SymPy's simplified expression.
_INDEX_FORMAT = 2

_DIGITS = r"[0-9](?:_?[0-9])*"
#: A number as the expressions and ``--param`` accept it: a decimal literal of Python (digits
#: grouped by single underscores, as in ``1_000``; a fraction; an exponent), not a hexadecimal,
#: octal or binary one (``0x10``).
DECIMAL_LITERAL = (rf"(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})"
                   rf"(?:[eE][+-]?{_DIGITS})?")
NUMBER_RULE = "numbers are finite and decimal, e.g. 16, 1.5, 2e-3 or 1_000"

#: The names the expression language gives a meaning (the keys of ``_parse.FUNCTIONS`` and
#: ``_parse.CONSTANTS``, which import SymPy): a variable or parameter cannot take them.
LANGUAGE_NAMES = frozenset({"exp", "log", "sqrt", "sin", "cos", "tan", "asin", "acos", "atan",
                            "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "abs", "erf", "erfc",
                            "atan2", "min", "max", "pi", "e"})


class ExpressionError(ValueError):
    """User text is not an accepted mathematical expression.

    Attributes
    ----------
    column : int or None
        1-based column of the offending construct (None if it has no position).
    line : int or None
        1-based line (only differs from 1 for text spanning several lines).
    """

    def __init__(self, message, line=None, column=None):
        super().__init__(message)
        self.line = line
        self.column = column


def split_vector_text(text):
    """The component texts of a vector written as one text, ``"[e0, e1, ...]"``.

    The text is only parsed (:func:`ast.parse`), never evaluated; each component is
    returned as the user wrote it, for :func:`~._parse.parse_vector` (or
    :func:`~integrallimits.kernels.kernel_from_text`) to check against the whitelist.

    Parameters
    ----------
    text : str
        A list or tuple display, e.g. ``"[-y1, y0]"`` or ``"(1, 0)"``.

    Returns
    -------
    list of str or None
        The components, or None if ``text`` is not a bracketed list or tuple (a
        scalar expression).

    Raises
    ------
    ExpressionError
        If the list is empty, has a starred element, or the text is too long.

    Examples
    --------
    >>> split_vector_text("[-y1, exp(-t) * y0]")
    ['-y1', 'exp(-t) * y0']
    >>> split_vector_text("-y**2") is None
    True
    """
    if not isinstance(text, str):
        raise TypeError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; at most "
                              f"{MAX_LENGTH} are accepted")
    source = text.strip()
    if not source.startswith(("[", "(")):
        return None
    try:
        body = ast.parse(source, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None     # parse_expression reports the error with its column
    if not isinstance(body, (ast.List, ast.Tuple)):
        return None     # a parenthesised scalar, "(t - s) * y"
    if not body.elts:
        raise ExpressionError("a vector needs at least one component")
    if any(isinstance(e, ast.Starred) for e in body.elts):
        raise ExpressionError("starred components are not accepted")
    return [ast.get_source_segment(source, e) for e in body.elts]


def decimal_number(text):
    """The float value of a number written as the expressions accept it: an optional sign, then
    a :data:`DECIMAL_LITERAL` (a regular expression) that Python also reads as a literal
    (``007`` is refused).

    Raises
    ------
    ExpressionError
        If ``text`` is not such a number, or is outside the float64 range.

    Examples
    --------
    >>> decimal_number("-1_000.5")
    -1000.5
    """
    source = text.strip()
    shown = source if len(source) <= 40 else source[:37] + "..."
    literal = source[1:] if source[:1] in "+-" else source
    node = None
    if re.fullmatch(DECIMAL_LITERAL, literal):
        with contextlib.suppress(SyntaxError):
            node = ast.parse(literal, mode="eval").body
    if not (isinstance(node, ast.Constant) and type(node.value) in (int, float)):
        raise ExpressionError(f"{shown!r} is not a number ({NUMBER_RULE})")
    try:
        value = float(node.value)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        raise ExpressionError(f"{shown!r} is outside the float64 range ({NUMBER_RULE})")
    return -value if source.startswith("-") else value


# -- the index: text -> generated module ----------------------------------------------------

@functools.lru_cache(maxsize=None)
def _sympy_release():
    """The text of SymPy's ``release.py`` (its version), read without importing SymPy; None
    if it cannot be read (the index is then not used)."""
    try:
        spec = find_spec("sympy")
        folder = spec.submodule_search_locations[0]
        with open(os.path.join(folder, "release.py"), encoding="utf-8") as fh:
            return fh.read()
    except (ImportError, AttributeError, TypeError, IndexError, OSError, ValueError):
        return None


def _index_key(kind, texts, variables, params):
    """The key of the index entry: everything the generated module depends on, as JSON text;
    None when the index cannot be used (SymPy's version unknown, texts that are not strings)."""
    release = _sympy_release()
    if release is None or not all(isinstance(x, str) for x in
                                  ([texts] if isinstance(texts, str) else texts)):
        return None
    return json.dumps({"format": _INDEX_FORMAT, "kind": kind, "texts": texts,
                       "variables": variables, "params": list(params),
                       "package": IMPORTED_FINGERPRINT, "sympy": release}, sort_keys=True)


def _entry_path(directory, key):
    return Path(directory) / f"text_{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}.json"


def _lookup(key, prefix):
    """The module recorded for ``key`` as a loader of it and its SHA-256, or None: the entry
    must hold exactly ``key``, and the module file the source with the recorded SHA-256."""
    if key is None:
        return None
    for directory in _generated.search_directories():
        try:
            entry = json.loads(_entry_path(directory, key).read_text(encoding="utf-8"))
            digest = entry["sha256"] if entry["key"] == key else None
        except (OSError, ValueError, KeyError, TypeError):  # no entry, not JSON, other fields
            continue
        if not (isinstance(digest, str) and re.fullmatch(r"[0-9a-f]{64}", digest)):
            continue
        name = _generated.module_name(prefix, digest)
        path = Path(directory) / f"{name}.py"
        try:
            source = path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            continue
        if hashlib.sha256(source.encode("utf-8")).hexdigest() == digest:
            return digest, functools.partial(_generated.import_module_file, name, path)
    return None


def _record(key, digest, path):
    """Write the index entry of ``key`` beside the module file ``path`` whose source has
    SHA-256 ``digest`` (if the folder can be written: the index only saves time)."""
    if key is None:
        return
    try:
        _generated._write_atomic(_entry_path(Path(path).parent, key),
                                 json.dumps({"key": key, "sha256": digest}) + "\n")
    except OSError:
        pass


class _StructureOnDemand(Mapping):
    """The ``structure`` of a kernel loaded through the index: ``kind`` at once; the SymPy
    entries (``expression``, ``variables``, ``params``) derived from the text when first
    read, which imports SymPy then (the solvers read ``kind`` and flags only)."""

    _KEYS = ("kind", "expression", "variables", "params")

    def __init__(self, derive):
        self._derive, self._full = derive, None

    def __getitem__(self, key):
        if key == "kind":
            return "general"
        if key not in self._KEYS:
            raise KeyError(key)
        if self._full is None:
            self._full = self._derive()
        return self._full[key]

    def __iter__(self):
        return iter(self._KEYS)

    def __len__(self):
        return len(self._KEYS)

    def __repr__(self):
        return repr(dict(self))


# -- the text front end -------------------------------------------------------------------

def _param_names(params):
    if isinstance(params, str):
        raise TypeError(f"params must be a sequence of names, got the string {params!r}")
    names = list(params)
    for p in names:
        if not isinstance(p, str) or not p.isidentifier():
            raise ValueError(f"parameter names must be identifiers, got {p!r}")
    if len(set(names)) != len(names):
        raise ValueError(f"parameter names must be distinct, got {names}")
    return names


def _check_generated_size(source, d):
    """Refuse (ExpressionError) a generated kernel module too large to compile in reasonable
    time and memory (see :data:`MAX_GENERATED_LINES`)."""
    lines, chars = source.count("\n"), len(source)
    if lines > MAX_GENERATED_LINES or chars > MAX_GENERATED_CHARS:
        jacobian = f" (its Jacobian alone has {d} x {d} entries)" if d > 1 else ""
        raise ExpressionError(
            f"the kernel's generated code has {lines} lines and {chars} characters{jacobian}; "
            f"a kernel given as text may have at most {MAX_GENERATED_LINES} lines and "
            f"{MAX_GENERATED_CHARS} characters, as Numba's compile time and memory grow "
            f"faster than that (minutes to hours, gigabytes); fewer components or a shorter "
            f"expression compile, or integrallimits.kernels.from_sympy compiles it anyway")


def _kernel_from_parse(text, params, name):
    """(the kernel, its module's SHA-256, the module file) by the full path: ``text`` parsed
    by the whitelist, then derived and generated by :mod:`._sympy`."""
    import sympy

    from ._parse import parse_vector_with_literal, parse_with_literal
    from ._sympy import _from_sympy

    ps = tuple(sympy.Symbol(p, real=True) for p in params)
    if isinstance(text, str):
        t, s, y = sympy.symbols("t s y", real=True)
        K, written = parse_with_literal(text, (t, s, y, *ps))
        written = [written]
    else:
        t, s = sympy.symbols("t s", real=True)
        y = list(sympy.symbols(f"y0:{len(text)}", real=True))
        K, written = zip(*parse_vector_with_literal(text, (t, s, *y, *ps)))
        K = list(K)
    with _numbers_refused():
        return _from_sympy(K, t, s, y, ps, name, limit=_check_generated_size, written=written)


@contextlib.contextmanager
def _numbers_refused():
    """The code generator's ValueError for a number of the text it cannot write as a float64
    (``1e-200 * y * 1e-200``: its dK/dy is 10**-400, 0.0 in float64) as an ExpressionError:
    the text is refused (the command line said so with a traceback)."""
    try:
        yield
    except ValueError as exc:
        if type(exc) is not ValueError:
            raise
        raise ExpressionError(str(exc)) from None


def kernel_from_text(text, vector_dim=None, params=()):
    """Parse user text safely and compile it with :func:`~integrallimits.kernels.from_sympy`.

    Parameters
    ----------
    text : str or sequence of str
        A scalar kernel in the variables ``t, s, y``, or one text per component of a
        vector kernel in ``t, s, y0, ..., y{d-1}``.
    vector_dim : int, optional
        d, if given: ``text`` must then be a sequence of d texts.
    params : sequence of str, optional
        Names of parameters the text may use, given at solve time with ``args=`` in this
        order (e.g. ``params=["a"]`` for ``"-a*y"``).

    Returns
    -------
    Kernel
        As :func:`~integrallimits.kernels.from_sympy` makes it (exact Jacobian).

    Raises
    ------
    ExpressionError
        (a ValueError) if a text is refused by :func:`~integrallimits.kernels.parse_expression`.

    Notes
    -----
    A text compiled before (in any process, with the same package and SymPy versions) is
    found in the index of generated modules (see :mod:`integrallimits.kernels._text`) and
    loaded without importing SymPy; ``structure["expression"]`` is then derived when it is
    first read.

    Examples
    --------
    >>> kernel = kernel_from_text("exp(s - t) * y")
    >>> float(kernel(1.0, 1.0, 2.0))
    2.0
    >>> kernel_from_text(["-y1", "y0"]).dim
    2
    """
    if isinstance(text, str):
        if vector_dim is not None:
            raise TypeError(f"vector_dim={vector_dim} needs one text per component "
                            f"(a list of {vector_dim} strings), got a single string")
        texts, variables, name = text, ["t", "s", "y"], text
    elif isinstance(text, (list, tuple)):
        d = len(text)
        if vector_dim is not None and vector_dim != d:
            raise ValueError(f"vector_dim={vector_dim} but {d} component texts were given")
        if d == 0:
            raise ValueError("text must contain at least one component")
        texts, variables = list(text), ["t", "s"] + [f"y{k}" for k in range(d)]
        name = "[" + ", ".join(map(str, text)) + "]"
    else:
        raise TypeError(f"text must be a string or a list of strings, got "
                        f"{type(text).__name__}")
    params = _param_names(params)
    key = _index_key("kernel", texts, variables, params)
    found = _lookup(key, "kernel")
    if found is not None:
        digest, load = found
        try:
            compiled = _generated.kernel_functions(digest, load, name)
            structure = _StructureOnDemand(
                lambda: _kernel_from_parse(texts, params, name)[0].structure)
            return _generated.generated_kernel(compiled, len(variables) - 2, isinstance(texts, str),
                                               len(params), structure, name)
        except Exception:  # noqa: BLE001 - any failure of the shortcut: the full path decides
            pass
    kernel, digest, path = _kernel_from_parse(texts, params, name)
    _record(key, digest, path)
    return kernel


def forcing_from_text(text, params=()):
    """Parse user text for g(t) safely and build the function with
    :func:`~integrallimits.kernels.forcing_from_sympy`.

    Parameters
    ----------
    text : str or sequence of str
        g(t) in the variable ``t`` (one text per component for vector g).
    params : sequence of str, optional
        Names of parameters the text may use: the function is ``g(t, *params)``.

    Returns
    -------
    callable
        ``g(t)``: a float, or a (d,) array for a sequence of texts.  A text built before is
        loaded through the index without SymPy (see :func:`kernel_from_text`).

    Examples
    --------
    >>> forcing_from_text("1 + t")(0.5)
    1.5
    """
    if not isinstance(text, (str, list, tuple)):
        raise TypeError(f"text must be a string or a list of strings, got "
                        f"{type(text).__name__}")
    params = _param_names(params)
    texts = text if isinstance(text, str) else list(text)
    key = _index_key("forcing", texts, ["t"], params)
    found = _lookup(key, "forcing")
    if found is not None:
        try:
            return _generated.forcing_function(*found)
        except Exception:  # noqa: BLE001 - any failure of the shortcut: the full path decides
            pass
    import sympy

    from ._parse import parse_vector_with_literal, parse_with_literal
    from ._sympy import _forcing_from_sympy

    t = sympy.Symbol("t", real=True)
    ps = tuple(sympy.Symbol(p, real=True) for p in params)
    if isinstance(texts, str):
        g, written = parse_with_literal(texts, (t, *ps))
        written = [written]
    else:
        g, written = zip(*parse_vector_with_literal(texts, (t, *ps)))
        g = list(g)
    with _numbers_refused():
        func, digest, path = _forcing_from_sympy(g, t, ps, written=written)
    _record(key, digest, path)
    return func
