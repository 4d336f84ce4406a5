"""User code inside compiled loops: fresh values, run-time parameters, and failures that reach the user.

Three hazards come with compiling a user's Python function with Numba, and this module is
where the package meets each of them once, for every kind of user function (kernels K,
forcings, VIDE right-hand sides, Fredholm kernels, convolution factors, Jacobians).

**Frozen values.**  Numba reads the globals (and closure cells and default arguments) of a
function when it compiles it and keeps those values in the machine code (also in the code of
an ``@njit`` helper it calls, compiled once); its on-disk cache is keyed on the source
location, not on the values.  :func:`njit_user` therefore keys every
compiled user function on the *current values* it reads (:func:`referenced_values`: globals,
module attributes such as ``cfg.RHO``, closure cells and defaults that are not modules,
functions, classes or compiled functions), in memory and on disk: a changed global compiles
a new specialisation (and a later process with the same value loads it from the disk cache),
never a stale one.  Pure functions, and parameters passed with ``args=``, compile once.

**Parameters at run time.**  ``args=(a, b)`` reaches ``K(t, s, y, a, b)`` through the flat
float array ``theta`` that every compiled kernel already receives: :func:`pack_args` packs
floats, ints, bools and float arrays (their shapes travel in the array), and the wrapper
built by :func:`unpacker` unpacks them inside the compiled code.  The compiled code depends
only on the *kinds* of the arguments (:class:`ArgSpec`), so a sweep over values compiles once.

**Failures.**  The solver loops call kernels through function pointers, and an exception
cannot cross those: Numba prints "Exception ignored" and the loop goes on with garbage.  Every
wrapper therefore catches what the user's function raises (``try``/``except`` in the compiled
code), writes NaN (which stops the loop as a non-finite value) and records the point with
:func:`report` (one record per thread, the first one wins).  After a solve the front function
calls :func:`raise_recorded_failure`, which calls the user's *Python* function again at the
recorded point, so the user sees their own exception with its message and traceback (Numba's
copy cannot show run-time values: ``f"t = {t}"`` reads "t = <object type:float64>").  An
exception no wrapper caught (a Jacobian's) reaches :func:`_unraisable` and is raised as Numba
made it.  Non-finite values and wrong output shapes are recorded the same way and reported
with the point where they occurred.

User functions that divide are compiled with ``error_model="python"``: a division by zero raises
``ZeroDivisionError`` as it would in Python (Numba's NumPy error model silently gives 0 for
integers); the others keep the NumPy model, which is faster and changes nothing for them.
"""
from __future__ import annotations

import ctypes
import dis
import functools
import hashlib
import inspect
import math
import operator
import os
import pickle
import sys
import threading
import types as pytypes
import warnings
import weakref
from dataclasses import dataclass

import llvmlite.binding
import numba
import numpy as np
from numba.core.registry import CPUDispatcher

try:
    from numba.cloudpickle.cloudpickle import _should_pickle_by_reference
except ImportError:  # pragma: no cover - every supported Numba vendors cloudpickle >= 2
    _should_pickle_by_reference = None

from .._inputs import refuse_masked
from .._numba import KeyNamedCache, _PackageCache, deferred_interrupt, guard_cache

__all__ = ["njit_user", "py_function", "referenced_values", "ArgSpec", "pack_args", "unpacker",
           "report", "new_guard", "clear_failures", "failure_recorded", "take_failure",
           "raise_recorded_failure", "check_argument_names", "compiled_args",
           "refuse_if_compiled_differs", "compile_wrapper", "wrapper", "disk_key",
           "with_fresh_helpers", "python_twin", "span_check", "check_over_span", "beyond_diagonal",
           "RAISED", "NOT_FINITE", "BAD_SHAPE", "UserCodeError", "RecompilationWarning", "unique_symbols",
           "require_function"]

RAISED, NOT_FINITE, BAD_SHAPE = 1, 2, 3

#: Options for compiled user code: Python's error model (division by zero raises).
USER_OPTIONS = dict(error_model="python", nogil=True)


class UserCodeError(RuntimeError):
    """A user function failed inside compiled code in a way Python does not reproduce."""


class RecompilationWarning(UserWarning):
    """A user function was compiled again because a value it reads (a global, closure cell
    or default) changed; pass such values with ``args=`` to compile once."""


def py_function(func):
    """The Python function behind ``func`` (a Numba dispatcher's ``py_func``)."""
    if type(func) is pytypes.FunctionType:
        return func     # (at once: the isinstance check against Numba's ABC costs ~0.3 us)
    return func.py_func if isinstance(func, CPUDispatcher) else func


# -- the values a function reads -----------------------------------------------------------------

def _is_code_like(obj):
    """Objects whose *identity* is what a compiled function uses: modules, functions, classes,
    compiled dispatchers, ufuncs.  Everything else is a value Numba would freeze."""
    return isinstance(obj, (pytypes.ModuleType, pytypes.FunctionType, pytypes.BuiltinFunctionType,
                            pytypes.MethodType, type, np.ufunc, numba.core.dispatcher.Dispatcher)) \
        or (callable(obj) and not isinstance(obj, (np.ndarray, np.generic)))


def _code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, pytypes.CodeType):
            yield from _code_objects(const)


_MISSING = object()
_READS = weakref.WeakKeyDictionary()   # code object -> (global paths, local attribute paths)
_LOCAL_LOADS = frozenset(("LOAD_FAST", "LOAD_FAST_CHECK", "LOAD_DEREF", "LOAD_CLASSDEREF"))


def _load_paths(code):
    """(global paths, local attribute paths) of a code object (and the code nested in it): the
    global names it loads, each with the chain of attributes read from it, e.g. ("cfg", "RHO")
    for ``cfg.RHO``; and the chains read from local names (a closure cell or an argument, such
    as ``m.RHO`` where the cell ``m`` holds a module), only those with an attribute."""
    paths = _READS.get(code)
    if paths is not None:
        return paths
    found, local = [], []
    for co in _code_objects(code):
        instructions = list(dis.get_instructions(co))
        for i, ins in enumerate(instructions):
            is_global = ins.opname in ("LOAD_GLOBAL", "LOAD_NAME")
            if not is_global and ins.opname not in _LOCAL_LOADS:
                continue
            path = [ins.argval]
            for nxt in instructions[i + 1:]:
                if nxt.opname not in ("LOAD_ATTR", "LOAD_METHOD"):
                    break
                path.append(nxt.argval)
            if is_global:
                found.append(tuple(path))
            elif len(path) > 1:
                local.append(tuple(path))
    paths = tuple(dict.fromkeys(found)), tuple(dict.fromkeys(local))
    try:
        _READS[code] = paths
    except TypeError:  # pragma: no cover - code objects are weak-referenceable in CPython
        pass
    return paths


def _global_paths(code):
    """The global names a code object loads, with their attribute chains (:func:`_load_paths`)."""
    return _load_paths(code)[0]


def _module_reads(name, module, code):
    """``[(name.attr..., object)]``: what the code reads from the module a local ``name`` (a
    closure cell, an argument's default) holds, through the attribute chains it loads on it
    (Numba freezes ``m.RHO`` of a cell ``m = cfg`` as it does ``cfg.RHO`` of a global)."""
    return [_resolve({name: module}, path)[::-1] for path in _load_paths(code)[1]
            if path[0] == name]


def _resolve(namespace, path):
    """(object, dotted name) of a global path (``name`` or ``module.attr...``) read in
    ``namespace``: attributes are followed through modules only; the object is _MISSING where a
    name is not there."""
    obj = namespace.get(path[0], _MISSING)
    shown = [path[0]]
    for attr in path[1:]:
        if obj is _MISSING or not isinstance(obj, pytypes.ModuleType):
            break
        obj = getattr(obj, attr, _MISSING)
        shown.append(attr)
    return obj, ".".join(shown)


def _reads(func):
    """``[(name, object)]`` that the Python function ``func`` reads: its globals (attribute
    chains through modules followed; _MISSING for a builtin or a name not there), then its
    non-empty closure cells."""
    code = func.__code__
    namespace = getattr(func, "__globals__", {})
    out = [(shown, obj) for obj, shown in
           (_resolve(namespace, path) for path in _global_paths(code))]
    cells = [(name, cell.cell_contents)
             for name, cell in zip(code.co_freevars, func.__closure__ or ()) if _full(cell)]
    out += cells
    for name, obj in cells:
        if isinstance(obj, pytypes.ModuleType):
            out += _module_reads(name, obj, code)
    return out


def referenced_values(func, _seen=frozenset()):
    """``[(name, value)]``: the values ``func`` reads that Numba would freeze when compiling it.

    Globals (following module attribute chains: ``cfg.RHO`` is read from the module ``cfg``),
    closure cells and default arguments, except modules, functions, classes and other
    callables (whose identity, not a value, is what the compiled code uses).

    Examples
    --------
    >>> RATE = 2.0
    >>> referenced_values(lambda t, s, y: -RATE * y)
    [('RATE', 2.0)]
    """
    func = py_function(func)
    if getattr(func, "__code__", None) is None or func in _seen:
        return []
    out = _values(func, _reads(func))
    for path, helper in _value_helpers(func):   # (a recursive helper is among its own)
        out += [(f"{path}: {name}", value)
                for name, value in referenced_values(helper, _seen | {func})]
    return out


def _value_helpers(func, seen=None):
    """``[(name, dispatcher)]``: the Numba-compiled functions (outside this package) that the
    Python function ``func`` reads by a global name, a module attribute or a closure cell, and
    that read values themselves, directly or through helpers of their own, or whose code was
    replaced (:func:`_replaced_code`: the dispatcher keeps the machine code of the old one), or
    that call themselves and may still compile (:func:`_calls_itself`: see :func:`njit_user`;
    one compiled for the signatures given only, ``@njit("float32(float32, int64)")``, keeps
    its code of those types).

    Numba compiles such a helper once, with the values it read then, and a kernel calling it
    links that code: after a changed value the kernel must be compiled against a fresh copy
    of the helper (:func:`njit_user` does), and its key includes the helper's values."""
    func = py_function(func)
    # the functions on the way here (recursion), as objects: closures made by one factory
    # share one code object, and one calling the other is no recursion
    seen = set() if seen is None else seen
    if getattr(func, "__code__", None) is None or func in seen:
        return []
    seen.add(func)
    try:   # a helper two others call is looked at from each (only the path is remembered)
        return [(path, obj) for name, read in _reads(func) for path, obj in _held(name, read)
                if isinstance(obj, numba.core.dispatcher.Dispatcher) and
                not (getattr(obj.py_func, "__module__", None) or "").startswith("integrallimits.")
                and (_values(obj.py_func, _reads(obj.py_func)) or _value_helpers(obj, seen)
                     or _replaced_code(obj.py_func) is not None
                     or getattr(obj, "_can_compile", True) and _calls_itself(obj))]
    finally:
        seen.discard(func)


def _held(name, obj):
    """``[(path, object)]``: ``obj`` read as ``name``, or, for a tuple, the objects it holds
    (``FUNCS[0]``, nested tuples' too): a kernel calling ``FUNCS[0](y)`` calls that helper as
    it would by a name (Numba freezes the tuple), and kept its old values after they changed."""
    if type(obj) is not tuple:
        return [(name, obj)]
    return [item for i, v in enumerate(obj) for item in _held(f"{name}[{i}]", v)]


def _with_item(held, indexes, new):
    """The tuple ``held`` with the item at ``indexes`` (nested) replaced by ``new``."""
    i, rest = indexes[0], indexes[1:]
    return held[:i] + (_with_item(held[i], rest, new) if rest else new,) + held[i + 1:]


def _replacing_items(func, replace):
    """``replace`` (:func:`with_fresh_helpers`' ``{path: fresh helper}``) with each tuple path
    ``NAME[i]...`` folded into ``{NAME: a copy of the tuple holding the fresh helpers}``."""
    items = {path: new for path, new in replace.items() if "[" in path}
    if not items:
        return replace
    out = {path: new for path, new in replace.items() if "[" not in path}
    reads = dict(_reads(func))
    for path, new in items.items():
        name, _, tail = path.partition("[")
        indexes = [int(i) for i in tail[:-1].split("][")]
        out[name] = _with_item(out.get(name, reads[name]), indexes, new)
    return out


def _rebound(func, replace):
    """A copy of the Python function ``func`` whose names ``replace`` (``{name: object}``, a
    name being a global, ``module.attr`` or a closure cell, as :func:`_reads` shows it) read
    the given objects: the modules on the way are copies with the attribute replaced."""
    code = func.__code__
    namespace = func.__globals__           # shared, unless a global is replaced
    if any(name not in code.co_freevars for name in replace):
        namespace = dict(namespace)
    cells = list(func.__closure__ or ())
    for name, new in replace.items():
        if name in code.co_freevars:
            cells[code.co_freevars.index(name)] = pytypes.CellType(new)
            continue
        head, *attrs = name.split(".")
        if head in code.co_freevars:        # an attribute of the module a cell holds
            i = code.co_freevars.index(head)
            cells[i] = pytypes.CellType(_module_with(cells[i].cell_contents, attrs, new))
            continue
        namespace[head] = _module_with(namespace[head], attrs, new) if attrs else new
    copy = pytypes.FunctionType(code, namespace, func.__name__, func.__defaults__,
                                tuple(cells) if cells else None)
    first = _FIRST_CODE.get(func)
    if first is not None:      # (the copy's key is its original's: see _replaced_code)
        _FIRST_CODE[copy] = first
    copy.__kwdefaults__ = func.__kwdefaults__
    copy.__qualname__ = func.__qualname__
    copy.__module__ = func.__module__
    return copy


def _frozen(func):
    """A copy of the Python function ``func`` bound to the objects it reads now: the values
    (globals, module attributes, closure cells, defaults; arrays copied) and the functions it
    reads by a bare name.  Compiled, it has the values :func:`value_key` of the copy names,
    whatever the names of ``func`` hold by then."""
    replace = {}
    for name, obj in _reads(func):
        if obj is _MISSING or isinstance(obj, pytypes.ModuleType):
            continue
        if _is_code_like(obj):
            if "." not in name:
                replace[name] = obj
            continue
        replace[name] = obj.copy() if isinstance(obj, np.ndarray) else obj
    copy = _rebound(func, replace)
    if func.__defaults__:
        copy.__defaults__ = tuple(v.copy() if isinstance(v, np.ndarray) else v
                                  for v in func.__defaults__)
    return copy


def _module_with(module, attrs, new):
    """A copy of ``module`` whose attribute chain ``attrs`` ends at ``new``."""
    copy = pytypes.ModuleType(module.__name__)
    copy.__dict__.update(module.__dict__)
    setattr(copy, attrs[0], _module_with(getattr(module, attrs[0]), attrs[1:], new)
            if len(attrs) > 1 else new)
    return copy


def _values(func, reads):
    """referenced_values of the Python function ``func`` whose :func:`_reads` are ``reads``."""
    out = [(name, obj) for name, obj in reads if obj is not _MISSING and not _is_code_like(obj)]
    code = func.__code__
    defaults = func.__defaults__ or ()
    names = code.co_varnames[code.co_argcount - len(defaults):code.co_argcount]
    named = list(zip(names, defaults)) + list((func.__kwdefaults__ or {}).items())
    for i, value in enumerate(defaults):
        out.append((f"default {i}", value))
    for name, value in (func.__kwdefaults__ or {}).items():
        out.append((f"default {name}", value))
    for name, value in named:     # a module as a default: the attributes read from it
        if isinstance(value, pytypes.ModuleType):
            out += [(f"default {attr}", obj) for attr, obj in _module_reads(name, value, code)
                    if obj is not _MISSING and not _is_code_like(obj)]
    return out


def _dtype_text(dtype):
    """The dtype's text, with the names, offsets and types of a structured dtype's fields:
    ``dtype.str`` is ``|V16`` for every record of 16 bytes, so two records of the same bytes
    whose fields are named or ordered differently (``r["a"]`` 1.0 in one, 2.0 in the other)
    had one digest, and the kernel reading ``r["a"]`` kept the first one's value."""
    return dtype.str if dtype.names is None else f"{dtype.str}{dtype.descr!r}"


def _tuple_type(value):
    """The type of the tuple or list ``value`` as its digest names it: a named tuple's class
    with its fields (``P(a=1.0, b=2.0)`` and, with the fields the other way round, ``P(b=1.0,
    a=2.0)`` had one digest: the kernel reading ``p.a`` kept 1.0)."""
    kind = type(value)
    if kind in (tuple, list):
        return kind.__name__
    fields = getattr(kind, "_fields", None)
    return f"{kind.__module__}.{kind.__qualname__}" + (f"{tuple(fields)!r}" if fields else "")


def _digest(value):
    """A string that changes whenever ``value`` does (exact for numbers and arrays)."""
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, (float, complex)):
        return f"{type(value).__name__}:{value!r}"
    if isinstance(value, np.ndarray):
        body = hashlib.sha256(np.ascontiguousarray(value).view(np.uint8).tobytes()
                              if value.dtype != object else pickle.dumps(value)).hexdigest()
        return f"ndarray:{_dtype_text(value.dtype)}:{value.shape}:{body}"
    if isinstance(value, np.generic):
        return f"{_dtype_text(value.dtype)}:{value.item()!r}"
    if isinstance(value, (tuple, list)):
        return f"{_tuple_type(value)}(" + ",".join(_digest(v) for v in value) + ")"
    try:
        return "pickle:" + hashlib.sha256(pickle.dumps(value)).hexdigest()
    except Exception:  # an object we cannot fingerprint: its identity, and no disk cache
        return f"id:{id(value)}"


def value_key(func, compiled=True):
    """A hashable key of the current values ``func`` reads (``""`` for a pure function), of the
    functions it calls (:func:`_callees`) and of its code where that was replaced
    (:func:`_replaced_code`),
    starting with ``"id:"`` when a value could only be told by its identity (such a key is
    good in this process only: it never keys an on-disk cache).  A class that cannot be
    imported by name (one defined inside a function, as an exception class often is) counts
    as such a value: the compiled code raises that very class, so a function that defines a
    new one gets new code, and a cached copy would raise a rebuilt class ``except`` misses.
    ``compiled=False``: the key of a function only ever called in Python (a forcing g), for
    which those classes are what they are: only the values, with those that the plain Python
    functions of its module it calls read (:func:`forcing_values`).

    Every solve asks for the key again (a global may have changed since the last one).  When
    everything the function reads, through the functions it calls too, is an object whose
    value its identity tells (:func:`_snapshot`), the key is the one computed the last time
    the same objects were read: a solve then costs a walk over the names, not their digests.
    """
    if type(func) is not pytypes.FunctionType:
        func = py_function(func)
        if getattr(func, "__code__", None) is None:
            return ""
    stack = getattr(_KEYING, "stack", None)
    if not stack:   # (the memo's reader at once: ~0.4 us of the ~0.9 us a look-up cost)
        fast = _FAST_KEYS.get(id(func))
        if fast is not None and fast[0]() is func:
            known = fast[1].get(compiled)
            if known is not None and known[2] is not None and known[2](func):
                return known[1]
    stack = _keying()
    if stack:
        for i, outer in enumerate(stack):
            if outer is func:   # a recursion: its values are in the key being computed
                return f"recursion {len(stack) - i}"
        if _in_cycle(func):     # (its key here names the calls on the stack: not kept)
            return _stacked_key(func, compiled, stack)
    try:
        known = _KEYS.get(func)
    except TypeError:  # pragma: no cover - Python functions are weakly referenceable
        known = None
    per_func = known
    known = known.get(compiled) if known is not None else None
    if known is not None and known[2] is not None and known[2](func):
        return known[1]     # the same objects read (checked in ~0.05 us a read)
    reads = []
    snap = _snapshot(func, reads)
    if snap is not None:
        if known is not None and _same(known[0], snap):
            if known[2] is None:    # the same objects a second time: worth a reader now
                per_func[compiled] = (known[0], known[1], _reader(reads))
            return known[1]
    key = _stacked_key(func, compiled, stack)
    if snap is not None and _same(snap, _snapshot(func)):   # (unchanged while digesting)
        try:
            _remembered(func)[compiled] = (snap, key, None)
        except TypeError:  # pragma: no cover - Python functions are weakly referenceable
            pass
    return key


def _remembered(func):
    """The memo of ``func``'s keys ({compiled: (snapshot, key, reader)}), made if new: in
    :data:`_KEYS`, and found by ``id(func)`` in :data:`_FAST_KEYS` (a dict look-up and a weak
    reference's call, where the WeakKeyDictionary's get is a Python method that makes a weak
    reference each call), while ``func`` lives."""
    per_func = _KEYS.get(func)
    if per_func is None:
        per_func = _KEYS[func] = {}
        ident = id(func)

        def forget(ref, ident=ident):
            entry = _FAST_KEYS.get(ident)
            if entry is not None and entry[0] is ref:
                del _FAST_KEYS[ident]
        _FAST_KEYS[ident] = (weakref.ref(func, forget), per_func)
    return per_func


_KEYS = weakref.WeakKeyDictionary()   # python function -> {compiled: (snapshot, value key)}
_KEYING = threading.local()            # .stack: the functions whose keys are being computed
#: id(python function) -> (a weak reference to it, its dict in _KEYS): :func:`_remembered`.
_FAST_KEYS = {}


def _keying():
    """This thread's stack of the functions :func:`value_key` is computing the keys of."""
    stack = getattr(_KEYING, "stack", None)
    if stack is None:
        stack = _KEYING.stack = []
    return stack


def _stacked_key(func, compiled, stack):
    """:func:`_value_key` of ``func`` with ``func`` on ``stack`` meanwhile: a recursive helper
    among the helpers of its helpers is then keyed by its distance on the stack (its values
    are in the key of the call below) instead of again without end (a RecursionError for a
    recursive helper reading a global).  A function in such a cycle (:func:`_in_cycle`) is
    keyed so only where it comes first (its key elsewhere names a call below it, so neither
    kept nor read from the memo: the same key for the same values however it is reached)."""
    stack.append(func)
    try:
        return _value_key(func, compiled)
    finally:
        stack.pop()


def _in_cycle(func):
    """Whether the Python function ``func`` is the ``py_func`` of one of the compiled functions
    it reads, directly or through theirs: part of a recursion."""
    todo, seen = [func], set()
    while todo:
        for _, obj in _reads(todo.pop()):
            if isinstance(obj, numba.core.dispatcher.Dispatcher) and obj not in seen:
                if obj.py_func is func:
                    return True
                seen.add(obj)
                todo.append(obj.py_func)
    return False


_UNCHANGING = frozenset((type(None), bool, int, float, complex, str, bytes))


def _unchanging(value):
    """Whether ``value`` cannot change while it stays the same object (its identity tells its
    value): None, numbers, strings, NumPy scalars and tuples of such."""
    kind = type(value)
    if kind in _UNCHANGING or isinstance(value, (np.number, np.bool_)):
        return True
    return kind is tuple and all(_unchanging(v) for v in value)


def _snapshot(func, reads=None):
    """The objects the Python function ``func`` reads (its code, defaults, globals with their
    module attribute chains, closure cells), and those that the functions and compiled
    helpers it reads read, in order; functions as weak references (the same object for the
    same function in CPython).  None when one of them could change without changing identity
    (an array, a list, a class or any other object): such functions are digested every time.
    Two equal snapshots (:func:`_same`) give the same :func:`value_key`.

    ``reads``: a list that gets, in order, each read the walk makes (see :func:`_reader`), from
    which a later call can tell that the walk would see the same objects again."""
    out = []
    return out if _snapshot_into(func, out, [], reads, 0) else None


# The reads of a snapshot's walk (:func:`_snapshot`'s ``reads``): (kind, register, argument,
# object, weak), each reading from the object in ``register`` (0: the function; read i puts its
# object in register i + 1) the object that was ``object`` (``weak``: a weak reference to it).
_READ_CODE, _READ_DEFAULTS, _READ_KWDEFAULTS, _READ_GLOBAL, _READ_ATTR, _READ_CELL, \
    _READ_PYFUNC = range(7)
_READ_TEXT = {_READ_CODE: "{r}.__code__", _READ_DEFAULTS: "{r}.__defaults__",
              _READ_KWDEFAULTS: "{r}.__kwdefaults__", _READ_GLOBAL: "{r}.__globals__.get(A[{i}], M)",
              _READ_ATTR: "getattr({r}, A[{i}], M)", _READ_CELL: "_cell({r}.__closure__[A[{i}]])",
              _READ_PYFUNC: "{r}.py_func"}


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:   # an empty cell
        return _MISSING


def _read(reads, kind, register, arg, obj, weak=False):
    """Note a read of the walk (if ``reads`` is a list); returns the register of ``obj``."""
    if reads is None:
        return None
    reads.append((kind, register, arg, weakref.ref(obj) if weak else obj, weak))
    return len(reads)


def _reader(reads):
    """A function ``same(func)``: whether :func:`_snapshot` of ``func`` would read the same
    objects as the walk that noted ``reads`` (then the snapshot is the same one, and so is the
    value key).  Straight-line code, one comparison a read (by identity; modules on the way
    too, so it may say False where the snapshot is the same: the caller then walks)."""
    if any(r[0] == _READ_KWDEFAULTS and r[3] for r in reads):  # (their values: walked each time)
        return lambda func: False
    # (the objects and names are the function's defaults: local loads, not E[i] and A[i]
    # from its globals)
    params, defaults, lines = ["M", "_cell"], [_MISSING, _cell], []
    for i, (kind, register, arg, obj, weak) in enumerate(reads):
        value = _READ_TEXT[kind].format(r=f"r{register}", i=i)
        if f"A[{i}]" in value:
            value = value.replace(f"A[{i}]", f"a{i}")
            params.append(f"a{i}")
            defaults.append(arg)
        if kind == _READ_KWDEFAULTS:            # (None or empty)
            lines.append(f"    if {value}: return False")
            continue
        params.append(f"e{i}")
        defaults.append(obj)
        lines.append(f"    r{i + 1} = {value}")
        lines.append(f"    if {'e%d()' % i if weak else 'e%d' % i} is not r{i + 1}: return False")
    lines.append("    return True")
    text = "\n".join([f"def same(r0, {', '.join(params)}):"] + lines)
    code = _READER_CODE.get(text)
    if code is None:    # (compiling costs ~0.3 ms; the text depends on the walk's shape only)
        if len(_READER_CODE) >= 256:
            _READER_CODE.clear()
        code = _READER_CODE[text] = compile(text, "<value_key reader>", "exec").co_consts[0]
    return pytypes.FunctionType(code, {}, "same", tuple(defaults))


_READER_CODE = {}   # the text of a reader -> its code


def reads_reader(func):
    """A function ``same(func)`` that says (in ~0.2 us, one identity comparison a read) whether
    the plain Python function ``func`` still reads the very objects it reads now: its code,
    defaults, globals, closure cells and module attributes, and those of the functions and
    compiled helpers it reads, through theirs (the walk of :func:`_snapshot`); or None when
    one of them could change without changing identity (an array, a list, any other object)
    or ``func`` is not a plain function.  While it says True, every :func:`value_key` of
    ``func`` (``compiled`` or not) is the one taken now, and so is what a copy with fresh
    helpers (:func:`with_fresh_helpers`) would be compiled with: one look serves a caller that
    keeps something made from both.  It may say False where the objects are equal but new
    (the caller then compares the keys)."""
    if type(func) is not pytypes.FunctionType:
        return None
    reads = []
    if _snapshot(func, reads) is None:
        return None
    return _reader(reads)


def _snapshot_into(func, out, path, reads=None, at=0):
    code = func.__code__
    _read(reads, _READ_CODE, at, None, code)
    if func in path:   # recursion (``in``: functions compare by identity)
        out.append(code)
        return True
    defaults, kwdefaults = func.__defaults__, func.__kwdefaults__
    _read(reads, _READ_DEFAULTS, at, None, defaults)
    _read(reads, _READ_KWDEFAULTS, at, None, kwdefaults)
    out += (code, defaults)
    if defaults is not None and not _unchanging(defaults):
        return False
    if kwdefaults:
        for name, value in kwdefaults.items():
            out += (name, value)
            if not _unchanging(value):
                return False
    path.append(func)
    namespace = func.__globals__
    for names in _global_paths(code):
        obj = namespace.get(names[0], _MISSING)
        where = _read(reads, _READ_GLOBAL, at, names[0], obj, _weak(obj))
        for attr in names[1:]:      # as _resolve does
            if not isinstance(obj, pytypes.ModuleType):
                break
            obj = getattr(obj, attr, _MISSING)
            where = _read(reads, _READ_ATTR, where, attr, obj, _weak(obj))
        if not _snapshot_object(obj, out, path, reads, where):
            return False
    for k, (name, cell) in enumerate(zip(code.co_freevars, func.__closure__ or ())):
        obj = _cell(cell)
        where = _read(reads, _READ_CELL, at, k, obj, _weak(obj))
        if not _snapshot_object(obj, out, path, reads, where):
            return False
        if isinstance(obj, pytypes.ModuleType):    # and what is read from it, as globals'
            for path_read in _load_paths(code)[1]:     # (as _module_reads does)
                if path_read[0] != name:
                    continue
                value, inner = obj, where
                for attr in path_read[1:]:              # (as _resolve does)
                    if value is _MISSING or not isinstance(value, pytypes.ModuleType):
                        break
                    value = getattr(value, attr, _MISSING)
                    inner = _read(reads, _READ_ATTR, inner, attr, value, _weak(value))
                if not _snapshot_object(value, out, path, reads, inner):
                    return False
    path.pop()
    return True


def _weak(obj):
    """Whether a walk's read of ``obj`` is noted by a weak reference (functions and compiled
    dispatchers: their snapshots hold them so; a note must not keep them alive)."""
    return isinstance(obj, (pytypes.FunctionType, numba.core.dispatcher.Dispatcher))


_SNAPSHOT_CODE_LIKE = (pytypes.ModuleType, pytypes.BuiltinFunctionType, np.ufunc)
#: The same types exactly (a set lookup, first: a NumPy function such as np.exp is a ufunc).
_SNAPSHOT_CODE_TYPES = frozenset(_SNAPSHOT_CODE_LIKE)


def _snapshot_object(obj, out, path, reads=None, where=None):
    if type(obj) in _SNAPSHOT_CODE_TYPES or obj is _MISSING or _unchanging(obj) or \
            isinstance(obj, _SNAPSHOT_CODE_LIKE):
        out.append(obj)
        return True
    if isinstance(obj, pytypes.FunctionType):
        out.append(weakref.ref(obj))
        return _snapshot_into(obj, out, path, reads, where)
    if isinstance(obj, numba.core.dispatcher.Dispatcher):
        out.append(weakref.ref(obj))
        py = obj.py_func
        return _snapshot_into(py, out, path, reads,
                              _read(reads, _READ_PYFUNC, where, None, py, _weak(py)))
    return False


def _same(a, b):
    """Whether two snapshots hold the same objects."""
    return len(a) == len(b) and all(map(operator.is_, a, b))


def _python_helper_values(func, seen):
    """``[(name, value)]`` that the plain Python functions ``func`` calls by a bare name (a global
    or a closure cell) and that are defined in its module read (:func:`_values`), through their
    own such helpers too (``seen``: the functions met so far): what a function called in Python
    (a forcing g) computes with beside its own reads (g(t) = helper(t), helper reading a global
    C: a C changed after the solve was not seen, and the dense output mixed its values with the
    solution of the old ones).  Functions of other modules (libraries) are not followed."""
    out = []
    module = getattr(func, "__module__", None)
    for name, obj in _reads(func):
        if "." in name or type(obj) is not pytypes.FunctionType or obj in seen or \
                obj.__module__ != module:
            continue
        seen.add(obj)
        out += [(f"{name}: {inner}", value) for inner, value in _values(obj, _reads(obj))]
        out += [(f"{name}: {inner}", value) for inner, value in _python_helper_values(obj, seen)]
    return out


def forcing_values(func):
    """``[(name, value)]``: the values a function called in Python reads (:func:`_values`) and
    those its plain Python helpers of the same module read (:func:`_python_helper_values`), the
    values :func:`value_key` with ``compiled=False`` is the key of."""
    func = py_function(func)
    if getattr(func, "__code__", None) is None:
        return []
    return _values(func, _reads(func)) + _python_helper_values(func, {func})


def _value_key(func, compiled):
    """:func:`value_key`, computed from the values (digested)."""
    reads = _reads(func)                  # one walk serves both
    values = _values(func, reads)
    if not compiled:       # (called in Python: its plain helpers' values are its own)
        values += _python_helper_values(func, {func})
    local = _unimportable_classes(func, reads=reads) if compiled else []
    helpers = _value_helpers(func) if compiled else []
    callees = _callees(reads) if compiled else []
    replaced = _replaced_code(func)
    if not values and not local and not helpers and not callees and replaced is None:
        return ""
    digests = [(name, _digest(v)) for name, v in values]
    digests += [(f"helper {name}", value_key(h)) for name, h in helpers]
    digests += [(f"calls {name}", ident) for name, ident in callees]
    if replaced is not None:
        digests.append(("code", replaced))
    text = "\n".join([f"{name}={digest}" for name, digest in digests] +
                     [f"class {c.__qualname__} at {id(c)}" for c in local])
    marker = "id:" if local or any(digest.startswith("id:") for _, digest in digests) else ""
    return marker + hashlib.sha256(text.encode()).hexdigest()


#: python function -> the code object it had when first keyed (copies made by :func:`_rebound`
#: get their original's).
_FIRST_CODE = weakref.WeakKeyDictionary()


def _replaced_code(func):
    """The digest of the code of the Python function ``func`` if it is not the code the function
    had when it was first keyed (its ``__code__`` was assigned since, as IPython's
    ``%autoreload`` does to the functions of a module edited and reloaded), else None.

    The compiled code kept for a function is keyed on the function object and the values it
    reads; a function whose code was replaced was served the old code's machine code
    (``K.__code__ = (lambda t, s, y: -2.0 * y).__code__`` still solved y' = -y)."""
    code = func.__code__
    try:
        first = _FIRST_CODE.setdefault(func, code)
    except TypeError:  # pragma: no cover - Python functions are weakly referenceable
        return None
    return None if first is code else _code_digest(code)


_CALLABLE = (pytypes.FunctionType, pytypes.BuiltinFunctionType, np.ufunc,
             numba.core.dispatcher.Dispatcher)


#: Callables read as ``module.attr`` that the key follows: Python code (a module's functions
#: and dispatchers are rebound by ``importlib.reload`` and by assignment); a built-in or a ufunc
#: reached through a module (``np.exp``, ``math.sin``) is taken as fixed.
_REDEFINABLE = (pytypes.FunctionType, numba.core.dispatcher.Dispatcher)


def _callees(reads):
    """``[(name, identity)]`` of the functions a function reads by a bare name (a global or a
    closure cell) and of the Python functions and dispatchers it reads as a module attribute
    (``model.rate``): Numba links the one the name holds when it compiles,
    so ``f = math.cos`` after ``f = math.sin``, a helper ``@njit def h`` defined again with
    other code, or ``model.rate`` after ``importlib.reload(model)`` of an edited file, is other
    machine code (all were served the first one's, stale).  The
    identity is :func:`_identity` (name, code, source stamp: the same in every process), or,
    without a source file, the code and the object's id, marked "id:" (this process only)."""
    out = []
    for name, obj in reads:
        if not isinstance(obj, _CALLABLE) or "." in name and not isinstance(obj, _REDEFINABLE):
            continue
        ident = _identity(obj)
        if ident is None:
            py = py_function(obj)
            code = getattr(py, "__code__", None)
            ident = (f"id:{getattr(py, '__qualname__', '')}:"
                     f"{_code_digest(code) if code is not None else ''}:{id(obj)}")
        out.append((name, ident))
    return out


def _unimportable_classes(func, seen=None, reads=None):
    """The classes ``func`` reads (globals, closure cells; ``reads``: its :func:`_reads` if
    known), or a function it calls that is itself pickled by value (defined inside a function,
    or in the script run as ``__main__``) reads, that Numba's cache cannot find by name."""
    func = py_function(func)
    seen = set() if seen is None else seen   # functions (closures of one factory share code)
    if getattr(func, "__code__", None) is None or func in seen:
        return []
    seen.add(func)
    out = []
    for _, obj in _reads(func) if reads is None else reads:
        if isinstance(obj, type) and not _importable(obj):
            out.append(obj)
        elif isinstance(obj, (pytypes.FunctionType, numba.core.dispatcher.Dispatcher)) and \
                _pickled_by_value(py_function(obj)):
            out += _unimportable_classes(obj, seen)
    return out


_BY_VALUE = weakref.WeakKeyDictionary()   # objects without __module__ known to be pickled by value


def _pickled_by_value(obj):
    """Whether Numba's cache would store the class or function ``obj`` by value (cloudpickle's
    rule: one defined inside a function or in ``__main__``), so that a later process loads a
    rebuilt copy of it rather than the object itself.

    For an object without ``__module__`` (a SymPy ``lambdify`` function, say) cloudpickle
    searches every module in ``sys.modules`` (~10 ms); a True answer is remembered per
    object (it can only turn False if a module imported later holds the object under its
    own name, and a True answer only makes :func:`value_key` look at more)."""
    if _should_pickle_by_reference is None:   # pragma: no cover - every supported Numba has it
        return "<locals>" in getattr(obj, "__qualname__", "") or \
            getattr(obj, "__module__", None) == "__main__"
    unplaced = getattr(obj, "__module__", None) is None
    if unplaced and _BY_VALUE.get(obj, False):
        return True
    try:
        by_value = not _should_pickle_by_reference(obj)
    except Exception:  # pragma: no cover - an object cloudpickle cannot place
        return True
    if unplaced and by_value:
        try:
            _BY_VALUE[obj] = True
        except TypeError:  # pragma: no cover - not weakly referenceable
            pass
    return by_value


def _importable(cls):
    """Whether ``cls`` is what its module and qualified name lead to, in a module that Numba's
    cache pickles by reference (a class of the script run as ``__main__`` comes back from the
    cache of a later run as a rebuilt copy, which ``except`` clauses miss)."""
    obj = sys.modules.get(getattr(cls, "__module__", None) or "")
    for part in getattr(cls, "__qualname__", "").split("."):
        obj = getattr(obj, part, None)
    return obj is cls and not _pickled_by_value(cls)


def _code_digest(code):
    """sha256 of a code object's bytecode and constants, nested code included."""
    digest = hashlib.sha256()
    for co in _code_objects(code):
        digest.update(co.co_code)
        digest.update(repr(tuple(c for c in co.co_consts if not isinstance(c, pytypes.CodeType))
                           ).encode())
        digest.update(repr(co.co_names).encode())
    return digest.hexdigest()


def _source_stamp(path):
    try:
        st = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"


def _identity(obj):
    """A string naming a code-like object the same way in every process (a module, or a
    function, dispatcher, ufunc or class with its code and the stamp of its source file), or
    None when there is none."""
    if isinstance(obj, pytypes.ModuleType):
        return f"module:{obj.__name__}"
    py = py_function(obj) if isinstance(obj, numba.core.dispatcher.Dispatcher) else obj
    name = f"{getattr(py, '__module__', None)}.{getattr(py, '__qualname__', None)}"
    code = getattr(py, "__code__", None)
    if code is not None:
        stamp = _source_stamp(code.co_filename)
        return None if stamp is None else f"function:{name}:{_code_digest(code)}:{stamp}"
    if isinstance(obj, type):   # a class: the stamp of its module's file (its methods' code)
        path = getattr(sys.modules.get(getattr(obj, "__module__", ""), None), "__file__", None)
        return f"class:{name}:{_source_stamp(path) if path else ''}"
    if isinstance(obj, (pytypes.BuiltinFunctionType, np.ufunc)):
        return f"builtin:{name}:{getattr(obj, '__name__', '')}"
    return None


def disk_key(func, options=()):
    """A string that names, the same way in every process, everything the machine code of the
    user function ``func`` depends on: its code, its source file's stamp (size and time),
    the values it reads (:func:`value_key`), the code-like objects it reads (functions,
    modules, each by name, code and source stamp) and the compile ``options``; None when that
    cannot be told (no source file, a value known only by identity, an unnamed callable):
    then nothing compiled from it is cached on disk."""
    py = py_function(func)
    code = getattr(py, "__code__", None)
    if code is None or not _module_found(py):
        return None
    stamp = _source_stamp(code.co_filename)
    values = value_key(py)
    if stamp is None or values.startswith("id:"):
        return None
    parts = [f"{py.__module__}.{py.__qualname__}", stamp, _code_digest(code), values,
             repr(sorted(dict(options).items()))]
    for _, obj in _reads(py):
        if obj is _MISSING or not _is_code_like(obj):
            continue   # builtins, or values (in ``values`` already)
        ident = _identity(obj)
        if ident is None:
            return None
        parts.append(ident)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _module_found(py):
    """Can Numba find the module of ``py`` (``sys.modules[py.__module__]``)?  When it cannot (a
    file loaded by ``importlib.util.module_from_spec`` without a ``sys.modules`` entry),
    Numba compiles ``py`` against a stand-in module named "<dynamic>" and a later process
    cannot load that code from the disk: it raised ``ModuleNotFoundError: No module named
    '<dynamic>'`` at the second run of the same script.  Such functions are compiled in
    memory only."""
    return sys.modules.get(getattr(py, "__module__", None) or "") is not None


def _full(cell):
    try:
        cell.cell_contents
    except ValueError:
        return False
    return True


# -- compiling user functions ---------------------------------------------------------------------

_DIVISIONS = {"/", "//", "%", "/=", "//=", "%="}
_DIVISION_OPS = {"BINARY_TRUE_DIVIDE", "BINARY_FLOOR_DIVIDE", "BINARY_MODULO",
                 "INPLACE_TRUE_DIVIDE", "INPLACE_FLOOR_DIVIDE", "INPLACE_MODULO"}
_DIVISION_NAMES = {"divmod", "floor_divide", "mod", "remainder", "fmod", "true_divide", "divide"}


def _indexes(func):
    """Whether the Python function ``func`` subscripts anything (``y[0]``, ``w[i]``): its code
    (or that of a function defined in it) has a subscript instruction."""
    py = py_function(func)
    code = getattr(py, "__code__", None)
    if code is None:
        return True
    return any(ins.opname in ("BINARY_SUBSCR", "BINARY_SLICE", "STORE_SUBSCR", "STORE_SLICE")
               or ins.opname == "BINARY_OP" and ins.argrepr == "[]"     # (Python 3.14)
               for c in _code_objects(code) for ins in dis.get_instructions(c))


def divides(func):
    """Whether a function's code (nested code included) divides: a ``/``, ``//`` or ``%``
    operator, or a call by name of divmod, np.floor_divide, np.mod, np.remainder, math.fmod,
    np.divide.  Only such functions need Python's error model (a division by zero raises)."""
    code = getattr(py_function(func), "__code__", None)
    if code is None:
        return True
    for co in _code_objects(code):
        for ins in dis.get_instructions(co):
            if ins.opname in _DIVISION_OPS or (ins.opname == "BINARY_OP" and ins.argrepr in _DIVISIONS):
                return True
            if ins.opname in ("LOAD_GLOBAL", "LOAD_ATTR", "LOAD_METHOD", "LOAD_NAME") and \
                    ins.argval in _DIVISION_NAMES:
                return True
    return False

class _ValueKeyedCache(KeyNamedCache):
    """Numba's on-disk cache with the values a function reads added to the index key."""

    def __init__(self, py_func, values):
        super().__init__(py_func)
        self._values = values

    def _index_key(self, sig, codegen):
        return super()._index_key(sig, codegen) + (self._values,)


def _require_function(py, what):
    """Refuse, with a message saying what to write instead, a callable Numba cannot compile
    (a bound method, a ``functools.partial``, an object with ``__call__``, a built-in)."""
    if isinstance(py, pytypes.FunctionType):
        return
    if isinstance(py, pytypes.MethodType):
        kind = f"a bound method ({getattr(py, '__qualname__', '?')})"
    elif isinstance(py, functools.partial):
        kind = "a functools.partial"
    elif isinstance(py, (pytypes.BuiltinFunctionType, np.ufunc)):
        kind = f"the built-in {getattr(py, '__name__', py)!r}"
    else:
        kind = f"a {type(py).__name__} object"
    raise TypeError(f"{what} must be a function (def or lambda, or a Numba @njit function) for "
                    f"the solver to compile it; got {kind}.  Write a function instead and pass "
                    f"its parameters with args=(...): they arrive as extra arguments")


#: Refuse a callable the solvers cannot compile, before it reaches a cache keyed by functions
#: (a NumPy ufunc cannot be weakly referenced: np.add as K(t, s) raised "cannot create weak
#: reference to 'numpy.ufunc' object").
require_function = _require_function

_COMPILED = weakref.WeakKeyDictionary()   # python function -> {value key: dispatcher}
_KEYS_SEEN = weakref.WeakKeyDictionary()  # code object -> value keys compiled (for the warning)
_LOCK = threading.RLock()


def njit_user(func, what="K"):
    """The Numba dispatcher for a user function, keyed on the values it reads.

    A dispatcher given by the user is used as it is when it reads no values; otherwise (and
    for plain functions) the function is compiled with the package's user options (Python's
    error model) and cached on disk under a key that includes those values
    (:func:`referenced_values`), or not cached on disk when it has no source file or reads a
    value that cannot be fingerprinted.  Compiling is lazy (on the first call from compiled
    code).  Compiled helpers it calls that read values (:func:`_value_helpers`) are compiled
    the same way, and the function is compiled against those copies
    (:func:`with_fresh_helpers`).
    """
    py = py_function(func)
    _require_function(py, what)
    key = value_key(py)
    if isinstance(func, CPUDispatcher) and not key:
        guard_helper_caches(func)
        return func
    with _LOCK:
        building = _BUILDING.get(py)
        if building is not None:    # a recursion: its copy, made when the outer call is done
            return building
        per_func = _COMPILED.setdefault(py, {})
        dispatcher = per_func.get(key)
        if dispatcher is not None:
            return dispatcher
        # Numba reads the values when it compiles, later (lazily, from the caller's wrapper):
        # a value another thread changes meanwhile would be frozen into code stored under
        # the key of the old one (and on disk), served to every later solve with the old
        # value.  The code is compiled from a copy bound to the values now, under their key.
        frozen = _frozen(py)
        key = value_key(frozen)
        dispatcher = per_func.get(key)
        if dispatcher is not None:
            return dispatcher
        seen = _KEYS_SEEN.setdefault(py.__code__, set())
        seen.add(key)
        if len(seen) == 2:
            names = ", ".join(name for name, _ in referenced_values(py))
            classes = ", ".join(c.__qualname__ for c in _unimportable_classes(py))
            advice = (f"a value it reads changed ({names}); Numba freezes such values, so each "
                      f"new value costs a compilation.  Pass parameters with args=(...) and take "
                      f"them as extra arguments to compile once." if names else
                      f"a class it reads is a new class object ({classes}, defined inside a "
                      f"function or in the script run as __main__).  Define it at module level "
                      f"of an importable module to compile once." if classes else
                      "its code, or a function it calls, is other code than before (a name "
                      "rebound, a module reloaded, a function defined again).")
            warnings.warn(f"{what} ({getattr(py, '__qualname__', py)}) is compiled again because "
                          f"{advice}", RecompilationWarning, stacklevel=4)
        options = dict(USER_OPTIONS)
        if _indexes(py):
            # an index out of bounds raises IndexError, as in Python (caught and reported by the
            # wrappers): without the check Numba reads past the array (a lookup table
            # w[int(s * 10)] read w[10] at s = 1 and trapezoid returned a success 0.011 off)
            options["boundscheck"] = True
        if not divides(py):
            # Python's error model only changes what a division by zero does, and it costs up
            # to 2x in the history sums: functions without a division keep NumPy's.
            options["error_model"] = "numpy"
        if isinstance(func, CPUDispatcher):
            options.update({k: v for k, v in func.targetoptions.items() if k != "nopython"})
        recursive = _in_cycle(py)
        if recursive:
            # Numba compiles a function with the error model and fastmath of its caller where
            # it sets none itself, keeps one machine code per argument types whatever they
            # were, and names a recursive call's callee with the caller's: the user's helper
            # h compiled for a kernel without a division (NumPy's model) called the
            # h(x, int64, Literal[16]) compiled for one with (Python's), under a name no code
            # had ("numba jitted function aborted due to unresolved symbol", reported as a
            # compiled-only fault of K).  The copy sets both itself, and calls copies.
            options.setdefault("fastmath", False)
        guard_helper_caches(frozen)
        placeholder = _BUILDING[py] = _Building()
        try:
            target = with_fresh_helpers(frozen, what)
            cached_as = disk_key(frozen, options)
            if cached_as is not None:
                target = unique_symbols(target, cached_as)
            dispatcher = numba.njit(target, **options)
        except BaseException:
            placeholder.forget()
            raise
        finally:
            del _BUILDING[py]
        placeholder.become(dispatcher)
        dispatcher._disk_key = cached_as
        if "id:" not in key and _module_found(py) and not recursive:
            # (a recursion's code calling another of its specialisations is not cached anyway;
            # one loaded from the disk would not be linked to those compiled here:
            # :func:`.._numba.guard_cache`)
            try:   # keyed also on the functions it calls (their code and source files)
                dispatcher._cache = _ValueKeyedCache(target, dispatcher._disk_key or key)
            except Exception:  # no source file (interactive, exec): in-memory only
                pass
        per_func[key] = dispatcher
        return dispatcher


_BUILDING = {}   # python function -> its _Building while njit_user makes its copy (under _LOCK)


class _Building:
    """What a copy made by :func:`njit_user` reads for a compiled function whose own copy is
    being made (it calls itself, directly or through others): the functions reading it get
    that copy when it is made (:meth:`become`), so the copy's recursion calls the copy, not
    the user's dispatcher (whose code has the values it read when it compiled)."""

    def __init__(self):
        self.readers = []      # the copies (Python functions) reading this placeholder

    def become(self, dispatcher):
        """Make every function reading this placeholder read ``dispatcher`` instead."""
        for func in self.readers:
            _swap(func, self, dispatcher)
        self.readers.clear()

    def forget(self):
        """The copy was not made: the compiled copies made to call it are dropped."""
        for per_func in list(_COMPILED.values()):
            for key, dispatcher in list(per_func.items()):
                if any(dispatcher.py_func is func for func in self.readers):
                    del per_func[key]
        self.readers.clear()


def _swap(func, old, new):
    """Make the names of ``func`` (a copy made by :func:`_rebound`) that read ``old`` read
    ``new``: its own globals, closure cells and module copies."""
    code = func.__code__
    cells = dict(zip(code.co_freevars, func.__closure__ or ()))
    for name, cell in cells.items():
        if _cell(cell) is old:
            cell.cell_contents = new
    for head, *attrs in _load_paths(code)[0] + _load_paths(code)[1]:
        if head in cells:
            obj = _cell(cells[head])
        elif head in code.co_varnames or head in code.co_cellvars:
            continue   # (an argument's or a local's attributes: nothing of the copy's)
        else:
            obj = func.__globals__.get(head, _MISSING)
            if obj is old:
                func.__globals__[head] = new
        for attr in attrs:
            if not isinstance(obj, pytypes.ModuleType):
                break
            owner, obj = obj, getattr(obj, attr, _MISSING)
            if obj is old:
                setattr(owner, attr, new)
                break


def guard_helper_caches(func, _seen=None):
    """Give the user's compiled functions that ``func`` calls (a Numba dispatcher, or a Python
    function: those it reads by a global name, a module attribute or a closure cell, and theirs
    in turn), and ``func`` itself when it is one, the guards of
    :func:`.._numba.guard_cache`: a recursive ``@njit(cache=True)`` helper saved code that
    aborted the next process loading it ("LLVM ERROR: Symbol not found")."""
    seen = set() if _seen is None else _seen
    if isinstance(func, numba.core.dispatcher.Dispatcher):
        if func in seen or (getattr(func.py_func, "__module__", None) or ""
                            ).startswith("integrallimits."):
            return
        seen.add(func)
        guard_cache(func, recursive=_calls_itself(func))
        func = func.py_func
    if getattr(func, "__code__", None) is None:
        return
    for _, obj in _reads(func):
        if isinstance(obj, numba.core.dispatcher.Dispatcher):
            guard_helper_caches(obj, seen)


def _calls_itself(dispatcher):
    """Whether the compiled functions the Numba dispatcher ``dispatcher`` reads (and those they
    read, in turn) include ``dispatcher``: a recursion, direct or mutual."""
    todo, seen = [dispatcher], set()
    while todo:
        py = todo.pop().py_func
        if getattr(py, "__code__", None) is None:
            continue
        for _, obj in _reads(py):
            if obj is dispatcher:
                return True
            if isinstance(obj, numba.core.dispatcher.Dispatcher) and obj not in seen:
                seen.add(obj)
                todo.append(obj)
    return False


def with_fresh_helpers(func, what, *, through_python=False, marks=None, _seen=None):
    """``func`` (a Python function), or, when it reads compiled functions of the user's that
    read values (:func:`_value_helpers`), a copy of it (:func:`_rebound`) that reads copies of
    them compiled with the values now (:func:`njit_user`, one compilation per set of values;
    ``what``: the caller's name in messages, ``"{what}, its helper {name}"`` the helper's).

    Numba compiled the user's ``@njit def helper(): return H`` once, with H as it was then (or
    loaded it so from its cache, keyed on the source file only): a function calling it kept
    the old H after H changed.  A kernel is compiled against such copies (:func:`njit_user`),
    and a forcing g called in Python calls them (:func:`._kernel._with_fresh_helpers`).

    Parameters
    ----------
    func : function
        The Python function whose global names, module attributes and closure cells are walked.
    what : str
        The name of ``func`` in messages.
    through_python : bool
        Also walk the plain Python functions of ``func``'s module that it calls by a bare name
        (a forcing g, called in Python, calls them; compiled code cannot), replaced by their
        own copies when they call such helpers.
    marks : list, optional
        Appended with (object, its :func:`value_key` now) of ``func``, of every compiled helper
        replaced and of every Python function walked through: the copy is current while each
        has the same key.
    """
    if marks is not None:
        marks.append((func, value_key(func)))
    replace = {}
    for name, h in _value_helpers(func):
        if marks is not None:
            marks.append((h, value_key(h)))
        replace[name] = njit_user(h, f"{what}, its helper {name}")
    if through_python:
        seen = {func} if _seen is None else _seen
        for name, obj in _reads(func):
            if "." in name or name in replace or type(obj) is not pytypes.FunctionType or \
                    obj in seen or obj.__module__ != func.__module__:
                continue
            seen.add(obj)
            fresh = with_fresh_helpers(obj, what, through_python=True, marks=marks, _seen=seen)
            if fresh is not obj:
                replace[name] = fresh
    if not replace:
        return func
    copy = _rebound(func, _replacing_items(func, replace))
    for obj in replace.values():
        if isinstance(obj, _Building):
            obj.readers.append(copy)
    return copy


#: How many calls of a recursive helper's Python twin one evaluation of a twin may make: past
#: it (an exponential recursion, fib(30) is 1.6e6 calls, seconds in Python) the point is not
#: compared (:class:`_TooManyCalls`, an exception: :func:`refuse_if_compiled_differs` skips
#: the point) instead of running for long.
TWIN_RECURSION_CALLS = 10000


class _TooManyCalls(RuntimeError):
    """A recursive helper's Python twin made more than :data:`TWIN_RECURSION_CALLS` calls."""


def _recursive_twin():
    """(proxy, bind): ``proxy(*args)`` calls the function given to ``bind`` (a recursive
    helper's twin, which calls ``proxy`` for its recursion), at most
    :data:`TWIN_RECURSION_CALLS` times per outermost call."""
    state = {"twin": None, "depth": 0, "calls": 0}

    def proxy(*args, **kwargs):
        if state["depth"] == 0:
            state["calls"] = 0
        state["calls"] += 1
        if state["calls"] > TWIN_RECURSION_CALLS:
            raise _TooManyCalls(f"more than {TWIN_RECURSION_CALLS} recursive calls in Python")
        state["depth"] += 1
        try:
            return state["twin"](*args, **kwargs)
        finally:
            state["depth"] -= 1

    def bind(twin):
        state["twin"] = twin
    return proxy, bind


def _float64_only(dispatcher):
    """True for a dispatcher compiled only for signatures given that are all float64 scalars
    in and out (``@njit("float64(float64)")``): the arithmetic Numba infers from floats
    anyway, not a narrower type chosen on purpose."""
    sigs = getattr(dispatcher, "nopython_signatures", ())
    return bool(sigs) and all(
        sig.return_type == numba.types.float64 and
        all(a == numba.types.float64 for a in sig.args) for sig in sigs)


def python_twin(func, _twins=None):
    """A copy of the Python function ``func`` that calls, for each compiled function of the
    user's it reads (a Numba dispatcher outside this package, by a global name, a module
    attribute or a closure cell), the twin of that function's Python function: the whole
    computation in Python's arithmetic, for :func:`refuse_if_compiled_differs` (a kernel
    calling the user's ``@njit`` helper ``N * N % 7`` with N = 2**40 has the helper's compiled
    0 on both sides otherwise); ``func`` itself when it reads none.

    A helper calling itself calls its own twin (through a proxy, at most
    :data:`TWIN_RECURSION_CALLS` calls per evaluation: past them the point is not compared;
    the base's twin called the compiled helper for the inner calls, so an overflow there was
    on both sides).  A dispatcher compiled only for signatures given is kept (the arithmetic
    of those types on purpose: ``@njit("float32(float32)")``, ``@njit("int64(int64)")``),
    unless they are all float64 scalars in and out: its twin's value is then converted to a
    float, as the compiled helper's is."""
    twins = {} if _twins is None else _twins
    replace = {}
    for name, obj in _reads(func):
        if not isinstance(obj, numba.core.dispatcher.Dispatcher) or \
                (not getattr(obj, "_can_compile", True) and not _float64_only(obj)) or \
                (getattr(obj.py_func, "__module__", None) or "").startswith("integrallimits."):
            continue
        twin = twins.get(obj)
        if twin is None:
            proxy, bind = _recursive_twin()
            twins[obj] = proxy     # (a recursive helper calls its twin through the proxy)
            inner = python_twin(obj.py_func, twins)
            if not getattr(obj, "_can_compile", True):
                py = inner

                def inner(*args, _py=py, **kwargs):   # (float64 out, as compiled)
                    return float(_py(*args, **kwargs))
            bind(inner)
            twin = proxy
        if twin is not obj:
            replace[name] = twin
    return _rebound(func, replace) if replace else func


# -- wrappers of user functions, cached on disk ----------------------------------------------------

def _cell_key(obj):
    """How a closure cell of a wrapper enters its on-disk key (None: it cannot)."""
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return repr(obj)
    if isinstance(obj, numba.core.dispatcher.Dispatcher):
        known = getattr(obj, "_disk_key", _MISSING)
        if known is not _MISSING:          # a user function or a wrapper compiled here
            return known
        py = obj.py_func
        if getattr(py, "__module__", "").startswith("integrallimits."):
            if py.__closure__ is None and "<locals>" not in py.__qualname__:
                return f"{py.__module__}.{py.__qualname__}"   # package code: the fingerprint
            return wrapper_key(py)         # a package closure (an inlined caller, an unpacker)
        return disk_key(obj, obj.targetoptions)   # the user's own dispatcher, used as it is
    if isinstance(obj, pytypes.FunctionType) and obj is _JITABLE.get(
            f"{getattr(obj, '__module__', '')}.{obj.__qualname__}"):
        return f"{obj.__module__}.{obj.__qualname__}"   # package code (report): the fingerprint
    return None


def wrapper_key(func):
    """The on-disk key of a package closure around user code: its own code and, recursively,
    what its closure cells hold (user functions by :func:`disk_key`), or None."""
    parts = [func.__qualname__, _code_digest(func.__code__)]
    for cell in func.__closure__ or ():
        key = _cell_key(cell.cell_contents) if _full(cell) else None
        if key is None:
            return None
        parts.append(key)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


class _WrapperCache(_PackageCache):
    """The package's on-disk cache (refused once its sources changed) for a wrapper of user
    code, under :func:`wrapper_key` instead of Numba's pickle of the closure (which names
    dispatchers by a per-process id, so it never matched in another process)."""

    def __init__(self, py_func, key):
        super().__init__(py_func)
        self._key = key

    def _index_key(self, sig, codegen):
        return (sig, codegen.magic_tuple(), self._key)


def unique_symbols(func, key):
    """``func`` (a closure made for one kernel, or a copy of a user function) with ``key``
    (the on-disk key of its compiled code) in its ``__qualname__``, so that its machine code
    gets symbol names of its own.

    Numba names a compiled function's symbol by its qualified name, its argument types and a
    number counting the functions compiled in the process.  Code loaded from the disk cache
    keeps the names of the process that compiled it, so the wrappers of two kernels (the same
    closure, the same types), or one kernel compiled with two values of a global, each compiled
    in a fresh process, had the same symbol; a process loading both linked the second to the
    first one's code (a solve reporting success with the other kernel's values).  With the key
    in the name, equal symbols mean equal code.
    """
    func.__qualname__ = f"{func.__qualname__}__{key[:20]}"
    return func


def compile_wrapper(func, signature, lazy=False, **options):
    """``numba.njit(signature, **options)(func)`` for a package closure around user code,
    loaded from (or saved to) the on-disk cache when :func:`wrapper_key` can name everything
    it depends on, so a later process with the same user functions and values compiles
    nothing (its symbols named by that key: :func:`unique_symbols`).  The dispatcher carries
    the key (``_disk_key``) for wrappers built on it.

    ``lazy``: compile (or load) it only when first used (its address taken for a loop, or a
    call), for wrappers around functions compiled already, which cannot fail to compile (a
    block sum, a convolution's Jacobian): a loop that never calls them (the fast history, a
    t-independent kernel's loop) then does not pay for their compilation."""
    key = wrapper_key(func)
    if key is not None:
        unique_symbols(func, key)
    dispatcher = numba.njit(**options)(func)
    dispatcher._disk_key = key
    if key is not None:
        try:
            dispatcher._cache = _WrapperCache(func, key)
        except Exception:  # no cache locator (a read-only install): compile in memory
            pass
    if not lazy:
        with deferred_interrupt():
            dispatcher.compile(signature)
        dispatcher.disable_compile()
    return dispatcher


def wrapper(signature, lazy=False, **options):
    """Decorator: :func:`compile_wrapper` with the options of the package's compiled code
    (NumPy's error model, no GIL) updated by ``options``."""
    return lambda func: compile_wrapper(func, signature, lazy,
                                        **{"error_model": "numpy", "nogil": True, **options})


# -- parameters passed at run time --------------------------------------------------------------

@dataclass(frozen=True)
class ArgSpec:
    """The kinds of the extra arguments: "f" float, "i" int, "b" bool, "aN" float array of N
    dimensions.  Compiled wrappers depend on this, not on the values."""

    kinds: tuple = ()

    def __len__(self):
        return len(self.kinds)


NO_ARGS = ArgSpec()


def pack_args(args, what="args"):
    """(ArgSpec, theta): ``args`` packed into a flat float array.

    Floats, ints (exact below 2**53), bools and real arrays (as float64, each preceded by its
    shape) are accepted; anything else raises TypeError.
    """
    if args is None:
        return NO_ARGS, np.zeros(0)
    if not isinstance(args, tuple):
        raise TypeError(f"{what} must be a tuple of parameters, got {type(args).__name__} (for one "
                        f"parameter write args=(value,))")
    kinds, parts = [], []
    for i, a in enumerate(args):
        if isinstance(a, (bool, np.bool_)):
            kinds.append("b")
            parts.append([float(a)])
        elif isinstance(a, (int, np.integer)):
            if abs(int(a)) > 2 ** 53:
                raise ValueError(f"{what}[{i}] = {a} is too large to pass exactly (|value| <= 2**53)")
            kinds.append("i")
            parts.append([float(a)])
        elif isinstance(a, (float, np.floating)):
            kinds.append("f")
            parts.append([float(a)])
        elif isinstance(a, (np.ndarray, list, tuple)):
            arr = np.asarray(refuse_masked(a, f"{what}[{i}]"))
            if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                           or arr.dtype == bool) or np.iscomplexobj(arr):
                raise TypeError(f"{what}[{i}] must be an array of real numbers, got dtype {arr.dtype}")
            if arr.ndim == 0:
                kinds.append("f")
                parts.append([float(arr)])
                continue
            kinds.append(f"a{arr.ndim}")
            parts.append(np.concatenate([np.asarray(arr.shape, dtype=float),
                                         arr.astype(float).ravel()]))
        else:
            raise TypeError(f"{what}[{i}] must be a float, int, bool or array of floats, got "
                            f"{type(a).__name__}")
    theta = np.concatenate([np.asarray(p, dtype=float) for p in parts]) if parts else np.zeros(0)
    return ArgSpec(tuple(kinds)), np.ascontiguousarray(theta)


_inline = numba.njit(inline="always", **{"error_model": "numpy", "nogil": True})


@_inline
def _get_float(theta, o):
    return theta[o], o + 1


@_inline
def _get_int(theta, o):
    return int(theta[o]), o + 1


@_inline
def _get_bool(theta, o):
    return theta[o] != 0.0, o + 1


@_inline
def _get_array1(theta, o):
    n = int(theta[o])
    return theta[o + 1:o + 1 + n], o + 1 + n


@_inline
def _get_array2(theta, o):
    n0 = int(theta[o])
    n1 = int(theta[o + 1])
    return theta[o + 2:o + 2 + n0 * n1].reshape((n0, n1)), o + 2 + n0 * n1


@_inline
def _get_array3(theta, o):
    n0 = int(theta[o])
    n1 = int(theta[o + 1])
    n2 = int(theta[o + 2])
    size = n0 * n1 * n2
    return theta[o + 3:o + 3 + size].reshape((n0, n1, n2)), o + 3 + size


_GETTERS = {"f": _get_float, "i": _get_int, "b": _get_bool, "a1": _get_array1, "a2": _get_array2,
            "a3": _get_array3}
_UNPACKERS = {}


def unpacker(spec):
    """A compiled ``unpack(theta, offset) -> tuple`` of the arguments described by ``spec``
    (inlined into the wrappers; ``fj(t, s, y, *unpack(theta, 0))``)."""
    kinds = spec.kinds
    fn = _UNPACKERS.get(kinds)
    if fn is not None:
        return fn
    for k in kinds:
        if k not in _GETTERS:
            raise TypeError(f"arrays of more than 3 dimensions cannot be passed in args (got {k[1:]})")
    if not kinds:
        @_inline
        def fn(theta, o):
            return ()
    else:
        head, rest = _GETTERS[kinds[0]], unpacker(ArgSpec(kinds[1:]))

        @_inline
        def fn(theta, o):
            value, nxt = head(theta, o)
            return (value,) + rest(theta, nxt)
    _UNPACKERS[kinds] = fn
    return fn


# -- failures inside compiled code ------------------------------------------------------------------

@dataclass
class Failure:
    """What went wrong where: ``kind`` (RAISED, NOT_FINITE, BAD_SHAPE), the guard that saw it,
    the point (a, b, y) in the function's own arguments, and the output length for BAD_SHAPE."""

    guard: int
    kind: int
    a: float
    b: float
    y: np.ndarray
    size: int = -1
    exception: object = None


@dataclass
class _Guard:
    """A compiled wrapper of a user function: how to call that function again in Python."""

    what: str               # "K(t, s, y)", "k(u)", "f(t, y, z)", ...
    ref: object             # weak reference to the Python function
    form: str               # how the recorded point maps to the function's arguments
    scalar: bool
    expected: tuple         # the expected output shape


_GUARDS = {}
_RECORDS = {}
_NEXT = [0]


def new_guard(func, what, form, scalar, expected, gid=None):
    """Register a wrapper of ``func`` and return its id (a compile-time constant of the wrapper).

    ``form`` says how the wrapper reports its point: "tsy" (a = t, b = s, y), "ts" (k(t, s)),
    "u" (k(u): a = u), "sy" (phi(s, y): b = s), "tyz" (f(t, y, z): y holds y then z).
    ``gid``: the id to register under (code that has its own, e.g. a generated module's).
    """
    py = py_function(func)
    key = disk_key(py) if gid is None else None
    with _LOCK:
        if gid is not None:
            pass
        elif key is None:
            _NEXT[0] += 1
            gid = _NEXT[0]
        else:   # the same in every process: the id is compiled into wrappers cached on disk
            text = f"{key}\0{what}\0{form}\0{scalar}\0{expected}"
            gid = (1 << 32) + int(hashlib.sha256(text.encode()).hexdigest()[:14], 16)
        try:
            ref = weakref.ref(py, lambda _, gid=gid: _forget_guard(gid))
        except TypeError:
            ref = (lambda py=py: py)
        _GUARDS[gid] = _Guard(what, ref, form, scalar, expected)
    return gid


def _forget_guard(gid):
    """Drop a guard whose function died (unless an equal function registered it since)."""
    guard = _GUARDS.get(gid)
    if guard is not None and guard.ref() is None:
        _GUARDS.pop(gid, None)


_CAPTURING = set()   # threads whose solve is running: their exceptions from compiled code are kept
_HOOK = [None]


def _unraisable(info):
    """``sys.unraisablehook`` while the package solves: an exception that a compiled kernel
    raised stops at the function-pointer boundary, where Numba reports it as unraisable; keep
    the first one of each solving thread (to raise it after the loop), pass the rest on."""
    ident = threading.get_ident()
    if ident in _CAPTURING and info.exc_value is not None and \
            "numba" in str(info.object):
        if ident not in _RECORDS or _RECORDS[ident].kind != RAISED:
            _RECORDS[ident] = Failure(0, RAISED, np.nan, np.nan, np.zeros(0), -1,
                                      info.exc_value)
        return
    _HOOK[0](info)


def _install_hook():
    if sys.unraisablehook is not _unraisable:
        _HOOK[0] = sys.unraisablehook
        sys.unraisablehook = _unraisable


def _record(gid, kind, a, b, y, size):
    _RECORDS.setdefault(threading.get_ident(), Failure(int(gid), int(kind), float(a), float(b),
                                                       np.array(y, dtype=float), int(size)))


def _record_at(gid, kind, a, b, address, n, stride, size):
    """:func:`report`'s Python side, called from compiled code through a C function pointer:
    y is read as ``n`` doubles at ``address``, ``stride`` bytes apart."""
    y = [ctypes.c_double.from_address(address + i * stride).value for i in range(n)]
    _record(gid, kind, a, b, y, size)


# A C callback (ctypes takes the GIL when compiled code calls it) under a symbol that compiled
# code, cached code included, calls by name: :func:`report` compiles no object-mode block of its
# own (0.2-0.3 s of every process that compiled a wrapper, an empty cache's first call included).
_RECORD_AT = ctypes.CFUNCTYPE(None, ctypes.c_int64, ctypes.c_int64, ctypes.c_double,
                              ctypes.c_double, ctypes.c_uint64, ctypes.c_int64, ctypes.c_int64,
                              ctypes.c_int64)(_record_at)
_RECORD_SYMBOL = "integrallimits_record_failure_v1"
llvmlite.binding.add_symbol(_RECORD_SYMBOL, ctypes.cast(_RECORD_AT, ctypes.c_void_p).value)
_record_failure = numba.types.ExternalFunction(
    _RECORD_SYMBOL, numba.types.void(numba.types.int64, numba.types.int64, numba.types.float64,
                                     numba.types.float64, numba.types.uint64, numba.types.int64,
                                     numba.types.int64, numba.types.int64))


@numba.extending.register_jitable
def report(gid, kind, a, b, y, size):
    """Record a failure of a compiled user function (runs Python under the GIL: failure path only).

    Callable from compiled code only (``y`` a 1-d float array).  A wrapper passes its id ``gid``
    (and often ``size = -1``) as compile-time constants, which Numba types as literals: as a
    dispatcher, ``report`` was compiled again for every wrapper (~0.3 s each, a quarter of a small
    kernel's compilation).  As an overload it is typed with the plain types first, and hands
    int64/float64 values and y's address to the C callback :func:`_record_at`."""
    _record_failure(np.int64(gid), np.int64(kind), np.float64(a), np.float64(b),
                    np.uint64(y.ctypes.data), np.int64(y.shape[0]), np.int64(y.strides[0]),
                    np.int64(size))


#: Package functions compiled as overloads (register_jitable) that wrappers may hold: keyed by name.
_JITABLE = {f"{report.__module__}.{report.__qualname__}": report}


def clear_failures():
    """Forget this thread's record and start keeping the exceptions its compiled kernels raise
    (called before a solve)."""
    _install_hook()
    ident = threading.get_ident()
    _RECORDS.pop(ident, None)
    _CAPTURING.add(ident)


def take_record():
    """This thread's record (or None), removed; whether it captures is left as it is."""
    return _RECORDS.pop(threading.get_ident(), None)


def put_record(rec):
    """This thread's record made ``rec`` (None: no record), as :func:`take_record` found it."""
    ident = threading.get_ident()
    _RECORDS.pop(ident, None)
    if rec is not None:
        _RECORDS[ident] = rec


def failure_recorded():
    """Whether this thread has a record (see :func:`take_failure`), without removing it."""
    return threading.get_ident() in _RECORDS


def take_failure():
    """This thread's record (or None), removed; the thread stops capturing."""
    ident = threading.get_ident()
    _CAPTURING.discard(ident)
    return _RECORDS.pop(ident, None)


def _point(guard, rec):
    """(positional arguments of the user's function at the recorded point, their description)."""
    y = rec.y
    if guard.form == "tyz":
        d = y.shape[0] // 2
        yv, zv = (float(y[0]), float(y[d])) if guard.scalar else (y[:d].copy(), y[d:].copy())
        return (rec.a, yv, zv), f"t = {rec.a!r}, y = {_show(yv)}, z = {_show(zv)}"
    yv = float(y[0]) if guard.scalar and y.size else y.copy()
    if guard.form == "tsy":
        return (rec.a, rec.b, yv), f"t = {rec.a!r}, s = {rec.b!r}, y = {_show(yv)}"
    if guard.form == "ts":
        return (rec.a, rec.b), f"t = {rec.a!r}, s = {rec.b!r}"
    if guard.form == "u":
        return (rec.a,), f"u = {rec.a!r}"
    if guard.form == "sy":
        return (rec.b, yv), f"s = {rec.b!r}, y = {_show(yv)}"
    if guard.form == "t":
        return (rec.a,), f"t = {rec.a!r}"
    raise AssertionError(guard.form)  # pragma: no cover


def _show(v):
    return repr(float(v)) if np.ndim(v) == 0 else repr(np.asarray(v).tolist())


def describe_failure(rec):
    """(what, where) of a record: e.g. ("K(t, s, y)", "t = 0.5, s = 0.25, y = 1.0")."""
    guard = _GUARDS.get(rec.guard)
    if rec.kind == RAISED and guard is None:   # caught by Numba, not by a wrapper: no point
        return "a user function", "a point inside a compiled loop"
    if guard is None:
        return "a user function", "an unknown point"
    return guard.what, _point(guard, rec)[1]


def beyond_diagonal(rec):
    """The form ("tsy" or "ts") of a record's kernel K(t, s, y) or k(t, s) when its point has
    s > t, else None: the stages of collocation and the starting block of the Gregory rules
    evaluate K there, where the equation itself never needs it (sqrt(t - s) y is NaN there)."""
    guard = _GUARDS.get(rec.guard)
    beyond = guard is not None and guard.form in ("tsy", "ts") and rec.b > rec.a
    return guard.form if beyond else None


def failure_said(rec, what=None):
    """What a record (RAISED or BAD_SHAPE) says, for a message: e.g. "K(t, s, y) raised
    ValueError (no table value) at t = 0.5, s = 0.25, y = 1.0".  ``what``: the name of the
    function that failed, where the record's guard names another (the smooth factor
    k(t, s, y) of a weakly singular kernel, compiled as a kernel of its own)."""
    named, where = describe_failure(rec)
    what = named if what is None else what
    exc = rec.exception
    said = f"raised {type(exc).__name__} ({exc})" if exc is not None else \
        "raised an exception" if rec.kind == RAISED else "returned values of a wrong shape"
    return f"{what} {said} at {where}"


def _numbers(value):
    """Whether ``value`` (a user function's) converts to an array of real numbers (a tuple of
    arrays, a Jacobian's pair, too)."""
    try:
        arr = np.asarray(value)
    except Exception:   # noqa: BLE001 (ragged sequences: the shapes are checked elsewhere)
        return True
    return arr.dtype != object and (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool)


def raise_recorded_failure(rec, args=()):
    """Raise what a record stands for, if it is an exception or a wrong output shape.

    RAISED: the user's Python function is called again at the recorded point (with ``args``)
    and its own exception is raised, with a note saying where; if Python does not raise there,
    :class:`UserCodeError`.  BAD_SHAPE: ValueError.  NOT_FINITE records are left to the caller
    (a non-finite value is a failed solve, reported through its status and message).
    """
    if rec is None or rec.kind == NOT_FINITE:
        return
    guard = _GUARDS.get(rec.guard)
    what, where = describe_failure(rec)
    if rec.kind == BAD_SHAPE:
        expected = guard.expected if guard is not None else "?"
        raise from_user(ValueError(f"{what} returned {rec.size} values at {where}; expected "
                                   f"shape {expected} (the length must be the same at every "
                                   f"point)"))
    exc = rec.exception
    if exc is None and guard is not None and guard.ref() is not None:   # a wrapper caught it
        point, _ = _point(guard, rec)
        try:
            value = guard.ref()(*point, *args)
        except Exception as raised:   # the user's own exception, from their own code
            if hasattr(raised, "add_note"):
                raised.add_note(f"raised by {what} at {where} inside a compiled solver loop "
                                f"(called again in Python there)")
            raise from_user(raised)
        if not _numbers(value):
            # (compiled, a None from one branch of the function is an optional float, whose
            # conversion raised: "raised ... but not when called in Python there" misled)
            raise from_user(TypeError(
                f"{what} returned {'None' if value is None else type(value).__name__} at "
                f"{where} (inside a compiled solver loop, called again in Python there): it "
                f"must return real numbers at every point"))
        raise from_user(UserCodeError(
            f"{what} raised an exception inside a compiled solver loop at {where}, but not "
            f"when called in Python there ({_arithmetic_differs(value, what, point)})"))
    if exc is None:   # pragma: no cover - a wrapper caught it, and its function is gone
        raise from_user(UserCodeError(f"{what} raised an exception inside a compiled solver "
                                      f"loop at {where}"))
    if hasattr(exc, "add_note"):
        exc.add_note("raised by a user function (kernel, forcing factor, right-hand side or "
                     "Jacobian) inside a compiled solver loop")
    raise from_user(exc)


def _arithmetic_differs(value, what, point):
    """How compiled and Python arithmetic differ for a function (``what``) that raised compiled
    but returned ``value`` in Python at ``point``.  A value that is not finite is most likely a
    division by zero: compiled, it raises ZeroDivisionError, where NumPy scalars give inf or
    nan (K = sin(t - s) / (t - s) y raised at t = s, and the message named integer overflow)."""
    try:
        finite = bool(np.all(np.isfinite(np.asarray(value, dtype=float))))
    except (TypeError, ValueError):
        finite = True
    if finite:
        return "compiled and Python arithmetic differ: integer overflow, or a value read only " \
               "when compiled"
    text = np.asarray(value, dtype=float).tolist()
    limit = ""
    if what.startswith("K(") and float(point[0]) == float(point[1]):
        limit = " (at s = t: a removable singularity such as sin(t - s) / (t - s) needs its " \
                "limit there, e.g. from an `if t == s:` branch)"
    return (f"where it returned {text!r}: compiled, a division by zero raises "
            f"ZeroDivisionError, where NumPy scalars give inf or nan{limit}")


def raise_user_exception(exc, note):
    """Raise ``exc``, the user's own exception from their function called in Python at a probe
    point, with ``note`` saying where (``raised by K(t, s, y) when called at ...``): the same
    exception a compiled loop raises for it (:func:`raise_recorded_failure`), so an ``except
    ValueError`` around a solve catches the kernel's ValueError wherever it was raised.  (The
    note needs Python 3.11; 3.10 raises the exception as it is.)"""
    if hasattr(exc, "add_note"):
        exc.add_note(note)
    raise from_user(exc)


class raised_at:
    """``with raised_at(what, where, *values): value = func(...)``: an exception of the user's
    function ``what`` (``"g(t)"``) called inside is raised as :func:`raise_user_exception`
    raises it, with the note ``raised by {what} when called at {where}``, ``where`` formatted
    with ``values`` (``str.format``) only then.  A ``BaseException`` (Ctrl-C) passes as it
    is."""
    __slots__ = ("what", "where", "values")

    def __init__(self, what, where, *values):
        self.what, self.where, self.values = what, where, values

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, traceback):
        if kind is not None and issubclass(kind, Exception):
            raise_user_exception(exc, f"raised by {self.what} when called at "
                                 f"{self.where.format(*self.values)}")
        return False


#: The attribute that marks an exception as the user's functions' (:func:`from_user`).
_FROM_USER = "_integrallimits_from_user"


def from_user(exc):
    """``exc``, marked as raised by (or for) the user's function where the package called it:
    its own exception, or the error that names what it returned.  The checks that call g or K
    at points the solve never took (:func:`integrallimits.volterra._adaptive.with_rough_data`)
    leave the answer unchecked for these only (:func:`raised_by_user`); any other exception
    (the package's own, or one a signal handler raised while the package's code ran: a timeout
    of the caller's, caught so, left a success unchecked with an error 13 times the
    tolerance) is raised."""
    try:
        setattr(exc, _FROM_USER, True)
    except Exception:   # noqa: BLE001 (an exception type that takes no attributes: unmarked)
        pass
    return exc


def raised_by_user(exc):
    """Whether ``exc`` was marked by :func:`from_user`."""
    return getattr(exc, _FROM_USER, False) is True


# -- compiled arithmetic against Python's ---------------------------------------------------------

def compiled_args(args):
    """(theta, values): ``args`` packed (:func:`pack_args`) and the extra arguments as compiled
    code receives them from theta (:func:`unpacker` in Python): floats, Python ints, bools and
    float64 arrays (an integer array or a list given in ``args=`` arrives as a float64
    array)."""
    spec, theta = pack_args(args or None)
    theta = np.ascontiguousarray(theta, dtype=float)
    out, o = [], 0
    for kind in spec.kinds:
        if kind in ("f", "i", "b"):
            value = float(theta[o])
            out.append(int(value) if kind == "i" else value != 0.0 if kind == "b" else value)
            o += 1
            continue
        nd = int(kind[1:])
        shape = tuple(int(n) for n in theta[o:o + nd])
        size = int(np.prod(shape))
        out.append(np.array(theta[o + nd:o + nd + size]).reshape(shape))
        o += nd + size
    return theta, tuple(out)


def _perturbed(point, factor):
    return tuple(np.asarray(p, dtype=float) * factor if isinstance(p, np.ndarray)
                 else p * factor if type(p) is float else p for p in point)


def refuse_if_compiled_differs(what, points, python, compiled, times=1):
    """Refuse (:class:`UserCodeError`) a compiled user function whose value differs from its
    Python function's at one of ``points`` by more than rounding can explain.

    Numba's integers are 64 bits and wrap around where Python's grow (``N * N % 7`` with
    N = 2**40: 4 in Python, 0 compiled), and a float too large for an int converts to an
    arbitrary one: such a kernel solved another equation, and the solve reported success.

    ``python(*point)`` must evaluate the Python function that was compiled, with the values it
    was compiled with (the copy :func:`njit_user` compiled, its ``py_func``: a global or a
    compiled helper's value read now could differ legitimately) and the arguments as compiled
    code gets them (:func:`compiled_args`); ``compiled(*point)`` the compiled wrapper, an
    array, NaN where the function failed.  Points where either is not finite (Python also 8
    units in the last place away), or Python raises, are skipped (the solve reports
    those); the points where Python raises but the compiled value is finite (which the solve
    then used: math.exp(800.0) raises OverflowError where compiled code goes on with inf,
    and int(inf) % 2 made a gauss2 success of an equation Python does not define) are
    returned as a sentence saying so (else None).  The tolerance is 1e-9 times the largest
    Python value over all points, plus 1000 times how much Python's value moves when the
    floating-point inputs move by 8 units in the last place, plus 1e-12 times the largest
    y (and z) of the points: a value that cancels to rounding noise, where summation orders
    or library functions that differ in the last place differ relatively by O(1) (``-y *
    (np.sum(np.full(10, 0.1)) - 1)``: 1.1e-16 compiled, 0 in Python), is not compared beyond
    its noise.  ``times``: how many of a point's leading arguments are times (the rest are
    y, z).

    A value in single (or half) precision (a Jacobian's, allowed: it only steers Newton's
    iterations) is compared with 1000 units of its precision's rounding in place of 1e-9 and
    1e-12 (:func:`_rounding`: 1.2e-4 for float32): NumPy 2 keeps np.float32(-2.1) * (1 + 0.1
    y) in float32 where Numba rounds the float64 product, a float32 unit apart, but an integer
    wrapping around inside it (0 compiled for Python's -40) is no rounding."""
    saved = take_record()    # (the compiled calls may record a failure: the thread's is kept)
    try:
        pairs, scale, size, rel, python_only = [], 0.0, 0.0, 1e-9, []
        for point in points:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        raw = python(*point)
                        rounding = _rounding(raw)
                        p = np.asarray(raw, dtype=float)
            except Exception as exc:   # noqa: BLE001 (outside the function's domain: not
                # compared; where the compiled code gives a finite value there, said)
                if np.all(np.isfinite(np.asarray(compiled(*point), dtype=float))):
                    python_only.append((point, exc))
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        moved = [np.asarray(python(*_perturbed(point, 1.0 + k * 2.0 ** -50)),
                                            dtype=float) for k in (8, -8)]
            except Exception:   # noqa: BLE001 (next to the function's domain: not compared)
                continue
            if not np.all(np.isfinite(p)) or any(m.shape != p.shape or
                                                  not np.all(np.isfinite(m)) for m in moved):
                continue    # (also next to where it is not finite: no noise to compare with)
            c = np.asarray(compiled(*point), dtype=float)
            if c.size != p.size or not np.all(np.isfinite(c)):
                continue     # (a wrong shape is the solve's to report, with the point)
            c = c.reshape(p.shape)
            noise = max(float(np.max(np.abs(m - p), initial=0.0)) for m in moved)
            scale = max(scale, float(np.max(np.abs(p), initial=0.0)))
            size = max([size] + [float(np.max(np.abs(v), initial=0.0)) for v in point[times:]])
            rel = max(rel, 1e3 * rounding)
            pairs.append((point, p, c, noise))
        small = 1e-12 if rel == 1e-9 else rel
        for point, p, c, noise in pairs:
            if np.all(np.abs(c - p) <= rel * scale + 1e3 * noise + small * size):
                continue
            shown = ", ".join(_show(v) for v in point)
            raise from_user(UserCodeError(
                f"{what} is {_show_value(c)} compiled by Numba but {_show_value(p)} in Python "
                f"at ({shown}): compiled arithmetic differs from Python's there (Numba's "
                f"integers are 64-bit and wrap around on overflow, 2**40 * 2**40 == 0 where "
                f"Python's grow; a float too large for an int converts to an arbitrary one), "
                f"so the solve would use other values than your function's.  Compute with "
                f"floats (2.0**40, float(n)), or pass such a value with args=(...) as a float"))
    finally:
        put_record(saved)
    if not python_only:
        return None
    point, exc = python_only[0]
    shown = ", ".join(_show(v) for v in point)
    return (f"{what} raises {type(exc).__name__} in Python ({exc}) at {len(python_only)} of "
            f"the {len(points)} points where its compiled code was compared with it, e.g. at "
            f"({shown}), where the compiled code gives a finite value, which the solve used "
            f"unchecked: Python's arithmetic raises where the compiled code's overflows to inf "
            f"and goes on (int() of inf is an arbitrary integer; min(inf, c) is c).")


#: The solved interval is cut into this many parts for :func:`span_points`: the comparison of a
#: compiled user function with Python's after a solve (:func:`span_check`) samples t at the mesh
#: points nearest to its 9 dyadic fractions, each with s at t0, at t and half-way along the
#: mesh (24 points at most, about 1 ms for a scalar kernel, once per kernel and interval).
SPAN_PARTS = 8
#: How many intervals a kernel's :func:`span_check` remembers (then it starts over).
SPAN_MEMORY = 256


def span_points(mesh, y):
    """The points (t, s, y(s)) at which :func:`span_check` compares a compiled user function
    with its Python twin after a solve on ``mesh`` with the mesh values ``y`` ((N + 1,) or
    (N + 1, d)): t at the mesh points nearest to t0 + k (T - t0) / :data:`SPAN_PARTS`, k = 0,
    ..., SPAN_PARTS, and for each, s at t0, at t and at the chosen mesh point half as far
    along, with the solution's value there (where the solve evaluated K, near enough: a
    kernel's values between two mesh points come from the same arithmetic as at them unless a
    range of overflow is narrower than a step).  t, s and t - s each take every fraction."""
    mesh = np.asarray(mesh, dtype=float)
    n = mesh.shape[0] - 1
    if n < 0:
        return []
    y = np.asarray(y, dtype=float)
    idx = sorted({int(round(k * n / SPAN_PARTS)) for k in range(SPAN_PARTS + 1)})
    points = []
    for a, i in enumerate(idx):
        for j in sorted({idx[0], idx[a // 2], i}):
            points.append((float(mesh[i]), float(mesh[j]),
                           float(y[j]) if y.ndim == 1 else y[j].copy()))
    return points


def span_check(compare, choose=span_points):
    """A check, ``check(mesh, y, args, *more)``, that calls ``compare(choose(mesh, y, *more),
    args)`` (which refuses a compiled function differing from Python's:
    :func:`refuse_if_compiled_differs`) once per interval (mesh[0], mesh[-1]): the two
    points compared at compilation (t0 and t0 + 1) miss a kernel whose 64-bit arithmetic
    overflows only elsewhere (``m**4 // m**3`` with m = int(1e5 sin(pi t)) + 1, m > 55000
    on (0.19, 0.81): a gauss2 success with y(1) = 0.234 for e^-1).  Repeated solves on
    the interval pay one set lookup, and so do intervals whose ends differ from a compared
    one's by less than a :data:`SPAN_GRAIN` of its length (:func:`_span_key`: their points
    are all but the same; a sweep of T over [1, 1.2] in steps of 1e-3 compared 200 times
    took 12 ms a solve against 7.6 for the solve itself); other args on the same interval are
    not compared again."""
    done = {}

    def check(mesh, y, args=(), *more):
        key = _span_key(float(mesh[0]), float(mesh[-1]))
        if key in done:
            return done[key]
        said = compare(choose(mesh, y, *more), args)
        if len(done) >= SPAN_MEMORY:
            done.clear()
        done[key] = said
        return said
    return check


#: Intervals whose ends agree to this share of their length (rounded down to a power of 2)
#: share :func:`span_check`'s comparison.
SPAN_GRAIN = 1.0 / 64.0


def _span_key(t0, T):
    """The key of the interval (t0, T) in :func:`span_check`'s memo: its length's power of 2
    and its ends in units of SPAN_GRAIN of that power."""
    length = abs(T - t0)
    if not (0.0 < length < math.inf) or not math.isfinite(t0):
        return (t0, T)
    e = math.frexp(length)[1]
    unit = math.ldexp(SPAN_GRAIN, e)
    return (e, math.floor(t0 / unit), math.floor(T / unit))


def _rounding(value):
    """The relative rounding (eps) of the narrowest floating-point type in ``value`` (a user
    function's value: a number, an array, or a tuple or list of them) when it is narrower
    than float64 (a Jacobian's float32), else 0."""
    if isinstance(value, (tuple, list)):
        return max((_rounding(v) for v in value), default=0.0)
    kind = getattr(value, "dtype", None)
    if kind is not None and kind.kind == "f" and kind.itemsize < 8:
        return float(np.finfo(kind).eps)
    return 0.0


def check_over_span(kernel, mesh, y):
    """Compare ``kernel``'s compiled user functions with Python's over a solve's ``mesh`` and
    mesh values ``y`` (:func:`span_check`; nothing for kernels without user functions): the
    sentence of the points only Python refused (:func:`refuse_if_compiled_differs`), or
    None."""
    check = kernel._shared.get("span_check")
    if check is not None and len(mesh):
        return check(mesh, y, kernel.args)
    return None


def _show_value(v):
    return repr(float(v)) if np.ndim(v) == 0 else repr(np.asarray(v).tolist())


# -- argument names ------------------------------------------------------------------------------

#: What :func:`check_argument_names` found nothing to say about, per plain function: (its code,
#: its defaults, the set of (expected, n_args) checked with them).
_NAMES_FINE = weakref.WeakKeyDictionary()


def check_argument_names(func, expected, what, n_args=0):
    """Warn when the first positional parameters of ``func`` are the expected names in another
    order (``K(t, y, s)`` for K(t, s, y)); raise TypeError when ``func`` cannot take
    ``len(expected) + n_args`` positional arguments.

    A plain function (no ``__signature__`` or ``__wrapped__`` of its own) that passed silently
    is not inspected again while its code and defaults are the same objects (inspect.signature
    costs ~6 us: a forcing g(t, c) with args= paid it every solve)."""
    py = py_function(func)
    plain = type(py) is pytypes.FunctionType and "__signature__" not in py.__dict__ and \
        "__wrapped__" not in py.__dict__
    asked = (tuple(expected), n_args)
    if plain:
        fine = _NAMES_FINE.get(py)
        if fine is not None and fine[0] is py.__code__ and fine[1] is py.__defaults__ and \
                asked in fine[2]:
            return
    try:
        params = list(inspect.signature(py).parameters.values())
    except (TypeError, ValueError):
        return
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    star = any(p.kind == p.VAR_POSITIONAL for p in params)
    required = [p for p in positional if p.default is p.empty]
    want = len(expected) + n_args
    if not star and (len(positional) < want or len(required) > want):
        extra = f" plus {n_args} parameter{'s' * (n_args != 1)} from args" if n_args else ""
        raise TypeError(f"{what} must take {want} positional arguments ({', '.join(expected)}"
                        f"{extra}), but {getattr(py, '__name__', 'it')} takes "
                        f"{len(required)}" + (f" to {len(positional)}" if len(positional) > len(required)
                                               else ""))
    names = tuple(p.name for p in positional[:len(expected)])
    if len(names) == len(expected) and set(names) == set(expected) and names != tuple(expected):
        warnings.warn(f"{what}: the parameters of {getattr(py, '__name__', 'the function')} are named "
                      f"({', '.join(names)}), but they are passed in the order ({', '.join(expected)})",
                      UserWarning, stacklevel=4)
    elif plain:
        fine = _NAMES_FINE.get(py)
        if fine is None or fine[0] is not py.__code__ or fine[1] is not py.__defaults__:
            fine = _NAMES_FINE[py] = (py.__code__, py.__defaults__, set())
        fine[2].add(asked)
