"""The one place that configures Numba for the package.

Every compiled kernel of the package goes through :func:`jit` so that the
options (on-disk cache, no GIL, NumPy error model) are set once.  Compilation
is always lazy: importing :mod:`integrallimits` compiles nothing.

Numba's on-disk cache checks only the source file of the function it compiled, not the
files of the compiled helpers it inlined (a loop in ``volterra/_loops.py`` inlines
``_linalg.solve_inplace``): after an edit or an upgrade that changes a helper, the cached
loop would silently run the old helper.  :func:`purge_stale_caches` therefore drops the
package's cached machine code whenever any of its source files changed (a fingerprint of
their sizes and modification times, kept next to the cache); it runs once at import and
costs a directory walk.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import signal
import threading
import time
import types as pytypes
import warnings

import numba
import numba.core.caching
import numba.core.cpu

__all__ = ["jit", "njit", "JIT_OPTIONS", "NO_NRT", "types", "llvm_fma", "purge_stale_caches", "IMPORTED_FINGERPRINT",
           "cache_available", "KeyNamedCache", "optimise_for_size", "deferred_interrupt",
           "unresolved_symbols", "LoadableCache", "guard_cache"]

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_MARKER = "integrallimits-sources.sha256"

types = numba.types

#: Options shared by all compiled package code.  ``error_model="numpy"`` makes
#: division by zero give inf/nan (which the solvers detect and report) instead of
#: raising inside compiled code.
JIT_OPTIONS = dict(nopython=True, cache=True, nogil=True, error_model="numpy")

#: Added to the options of a helper that allocates nothing, it compiles without Numba's
#: reference counting (NRT): otherwise each array argument of a call costs an atomic increment
#: and decrement, ~5 ns an array, more than the work of many small helpers in a hot loop.
#: ``_nrt`` is Numba's own (private) option; a Numba without it gets none (slower, not wrong).
NO_NRT = {"_nrt": False} if hasattr(numba.core.cpu.CPUTargetOptions, "_nrt") else {}


#: The prefix of the global variables through which Numba's machine code calls a function that
#: was not compiled yet when it was (a recursion whose argument types vary, ``h(x, k + 1, n)``
#: called from ``h(x, Literal[1], Literal[16])``, or a mutual recursion).  In its own process
#: Numba's run-time linker fills them in; machine code loaded from the disk cache cannot have
#: them filled: loading it aborted the whole process, "LLVM ERROR: Symbol not found:
#: .numba.unresolved$..." (Numba issues 6061 and 9129).
UNRESOLVED = ".numba.unresolved$"


def unresolved_symbols(library):
    """The names of the functions that the machine code of the Numba code library ``library``
    calls through Numba's run-time linker (:data:`UNRESOLVED`): code that cannot be cached."""
    module = library._final_module     # (as Numba's own CompileResult._reduce reads it)
    return [gv.name[len(UNRESOLVED):] for gv in module.global_variables
            if gv.name.startswith(UNRESOLVED)]


def _names_unresolved(payload, depth=4):
    """Whether cached data (Numba's tuple of a compiled function, with the object code of its
    library) names a symbol of Numba's run-time linker, which a process cannot load."""
    if isinstance(payload, bytes):
        return UNRESOLVED.encode() in payload
    if isinstance(payload, tuple) and depth:
        return any(_names_unresolved(part, depth - 1) for part in payload)
    return False


class _LoadableFiles(numba.core.caching.IndexDataCacheFile):
    """Numba's cache files, reading as missing the code that a process cannot load."""

    def load(self, key):
        """The cached data of ``key``, or None also when its machine code calls through Numba's
        run-time linker (written by Numba, or by an older version of the package): compiled
        again instead of aborting the process."""
        data = super().load(key)
        return None if data is not None and _names_unresolved(data) else data


class LoadableCache(numba.core.caching.FunctionCache):
    """Numba's on-disk function cache that neither saves nor loads machine code calling through
    Numba's run-time linker (:data:`UNRESOLVED`: a recursive function), which a later process
    cannot load: it is compiled in memory in each process instead, as without a cache."""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file.__class__ = _LoadableFiles

    def save_overload(self, sig, data):
        if not unresolved_symbols(data.library):
            super().save_overload(sig, data)


def guard_cache(dispatcher, recursive=False):
    """Give the Numba dispatcher ``dispatcher`` (a user's ``@njit(cache=True)`` function) the
    guards of :class:`LoadableCache`, in place, when it has Numba's plain on-disk cache: the
    same files, but code a later process could not load is neither saved nor loaded (a
    recursive helper a kernel called aborted the next process, also without this package:
    Numba issue 6061).

    ``recursive``: the function calls itself (directly or through others).  If it may still
    compile, its on-disk cache is then not used at all in this process (compiled in memory, its
    files left as they are): a specialisation loaded from the disk (h(x, int64, Literal[16])),
    called by one compiled here (h(x, Literal[1], Literal[16]), through Numba's run-time
    linker) was never linked to it, and the kernel raised "numba jitted function aborted due
    to unresolved symbol" at every call."""
    cache = getattr(dispatcher, "_cache", None)
    if type(cache) is numba.core.caching.FunctionCache and \
            type(getattr(cache, "_cache_file", None)) is numba.core.caching.IndexDataCacheFile:
        if recursive and getattr(dispatcher, "_can_compile", False):
            dispatcher._cache = numba.core.caching.NullCache()
            return
        cache._cache_file.__class__ = _LoadableFiles
        cache.__class__ = LoadableCache


class _KeyNamedFiles(_LoadableFiles):
    """Numba's cache files (an index of keys, one data file per key) with each data file named
    by a hash of its key instead of by the first number the index does not use.

    With numbers, two processes saving different overloads of one function at the same time
    (pytest-xdist workers, a process pool, Dask workers, two scripts) could both read the
    index, take the same free number and write their machine code to that one file: the index
    could then name the other process's code for a key (the interleaving is in
    ``tests/test_numba_cache.py``).  Named by its key, a file only ever holds that key's code
    (the same code whoever writes it), and it is written before the index names it; a lost
    index entry from the same race costs one compilation, nothing else.  (Symbols of code from
    different processes are kept apart by :func:`integrallimits.kernels._user.unique_symbols`.)
    """

    def save(self, key, data):
        digest = hashlib.sha256(repr(key).encode()).hexdigest()[:32]
        name = f"{self._index_name[:-len('.nbi')]}.k{digest}.nbc"
        self._save_data(name, data)
        overloads = self._load_index()
        if overloads.get(key) != name:
            overloads[key] = name
            self._save_index(overloads)


class KeyNamedCache(LoadableCache):
    """Numba's on-disk function cache writing :class:`_KeyNamedFiles` (safe when processes
    compile at the same time) and never code a later process could not load
    (:class:`LoadableCache`); the base of every on-disk cache the package installs."""

    def __init__(self, py_func):
        super().__init__(py_func)
        self._cache_file.__class__ = _KeyNamedFiles


class _PackageCache(KeyNamedCache):
    """Numba's on-disk cache for package code, which is neither read nor written once the
    package's sources on disk differ from the ones this process imported.

    A long-running process (a notebook, a Dask worker) that compiles a loop after the sources
    were edited, and after another process refreshed the caches, would otherwise save the
    loop with its *old* inlined helpers under the new fingerprint, and every later process
    would trust it.  The check costs a walk of the package directory, at compile time only.
    """

    _checked = [0.0, True]   # (monotonic time of the last check, its result)

    def _current(self):
        now = time.monotonic()
        if now - self._checked[0] > 1.0:   # one directory walk per second of compiling at most
            self._checked[:] = [now, _fingerprint(PACKAGE_DIR) == IMPORTED_FINGERPRINT]
        return self._checked[1]

    def load_overload(self, sig, target_context):
        return super().load_overload(sig, target_context) if self._current() else None

    def save_overload(self, sig, data):
        if self._current():
            super().save_overload(sig, data)


def llvm_fma(name):
    """A compiled-code intrinsic ``f(a, b, c) = a b + c`` on float64 by the LLVM intrinsic
    ``name``: "llvm.fma" rounds once, always (one instruction where the CPU has FMA, else the C
    library's fma: exact products for double-double arithmetic); "llvm.fmuladd" fuses where the
    CPU has FMA and vectorises (polynomials)."""
    from llvmlite import ir
    from numba.extending import intrinsic

    @intrinsic
    def fma(typingctx, a, b, c):
        f8 = types.float64

        def codegen(context, builder, signature, args):
            d = ir.DoubleType()
            fn = builder.module.declare_intrinsic(name, [d], ir.FunctionType(d, [d, d, d]))
            return builder.call(fn, args)
        return f8(f8, f8, f8), codegen
    return fma


def _optimise_for_size():
    """A compiled-code intrinsic ``optimise_for_size()``: called in a compiled function, it gives
    that function LLVM's ``optsize`` attribute.

    LLVM then unrolls and vectorises less: the solver loops' many short loops over the d
    components (d = 1 for scalar problems) were unrolled and vectorised with remainders, which
    doubled the direct loop's optimised code (6100 lines of LLVM IR -> 3500) and cost ~0.35 s
    of its 2.2 s compilation with an empty cache, for no measured speed (the history sums run
    in the kernels' block sums, compiled without it).  Floating-point operations are not
    changed (no fast-math), so results are bit-identical."""
    from numba.extending import intrinsic

    @intrinsic
    def optimise_for_size(typingctx):
        def codegen(context, builder, signature, args):
            builder.function.attributes.add("optsize")
            return context.get_dummy_value()
        return types.void(), codegen
    return optimise_for_size


optimise_for_size = _optimise_for_size()


@contextlib.contextmanager
def deferred_interrupt():
    """Ctrl-C while Numba compiles or loads code: held until the block ends, then raised as
    KeyboardInterrupt.

    Numba and llvmlite run Python code from C callbacks (the object cache's notification,
    weakref callbacks of the compiler's objects) and catch errors while typing: a
    KeyboardInterrupt raised there by Python's handler was printed as "Exception ignored"
    and lost (the solve then ran on, 80-120 s in a measured case), or left the compilation
    half done: a RuntimeError from Numba's cache ("no compiled object yet"), or a
    KernelCompilationError telling the user to rewrite a kernel that compiles.  In the main
    thread under Python's default handler only (a handler of the user's own is left alone;
    other threads never get the signal); nested blocks defer to the outermost."""
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    pending = []
    signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if pending:
            raise KeyboardInterrupt from None


def _deferring(compile_for_args):
    """A dispatcher's ``_compile_for_args`` (what its call runs for types it has not compiled,
    looked up on the instance) inside :func:`deferred_interrupt`: the package's loops that
    compile on their first call, from Python, hold Ctrl-C as a user's kernel does."""
    @functools.wraps(compile_for_args)
    def compile_and_call(*args, **kwargs):
        with deferred_interrupt():
            return compile_for_args(*args, **kwargs)
    return compile_and_call


def jit(*args, **kwargs):
    """``numba.njit`` with the package options (keywords override them).

    With ``cache=True`` (the default) the on-disk cache is :class:`_PackageCache`, which
    refuses code compiled from sources that changed after this process imported them.
    Explicit signatures compile at once, as with ``numba.njit``.
    """
    options = {**JIT_OPTIONS, **kwargs}
    cache = options.pop("cache")
    signatures = None
    if args and not callable(args[0]):
        signatures, args = args[0], args[1:]

    def decorate(func):
        dispatcher = numba.jit(**options)(func)
        if cache:
            try:
                dispatcher._cache = _PackageCache(func)
            except Exception:  # no cache locator (e.g. a read-only install): compile in memory
                pass
        if signatures is not None:
            with deferred_interrupt():
                for sig in (signatures if isinstance(signatures, list) else [signatures]):
                    dispatcher.compile(sig)
            dispatcher.disable_compile()
        elif hasattr(dispatcher, "_compile_for_args"):   # (not with NUMBA_DISABLE_JIT)
            dispatcher._compile_for_args = _deferring(dispatcher._compile_for_args)
        return dispatcher

    return decorate(args[0]) if args else decorate


def njit(*args, **kwargs):
    """:func:`jit` without the on-disk cache unless ``cache=True`` is asked for (the
    package's drop-in for ``numba.njit``)."""
    kwargs.setdefault("cache", False)
    return jit(*args, **kwargs)


def _fingerprint(root):
    """sha256 of (path, size, mtime) of every .py file under ``root``."""
    digest = hashlib.sha256()
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                st = os.stat(os.path.join(folder, name))
                rel = os.path.relpath(os.path.join(folder, name), root)
                digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _probe():  # pragma: no cover - never called: stands in for a function of a module
    pass


def _locate(py_file):
    """The directory Numba caches the functions of ``py_file`` in, asked of Numba's own
    locators (so ``NUMBA_CACHE_DIR``, a read-only install and the user-wide fallback are
    resolved exactly as Numba will), or None when no locator can write anywhere."""
    probe = pytypes.FunctionType(_probe.__code__.replace(co_filename=py_file), {})
    try:
        from numba.core.caching import CompileResultCacheImpl
    except ImportError:  # pragma: no cover - other Numba layouts: the in-tree cache
        return os.path.join(os.path.dirname(py_file), "__pycache__")
    try:
        return CompileResultCacheImpl(probe).locator.get_cache_path()
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return None


def _module_dirs(root):
    """(directory, one of its .py files) for every module directory under ``root``."""
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        py = sorted(name for name in files if name.endswith(".py"))
        if py:
            yield folder, os.path.join(folder, py[0])


def _cache_dirs(root):
    """Where Numba may cache the functions of the modules under ``root``, as (directory,
    primary) pairs: primary is where Numba caches them in this process (see :func:`_locate`;
    a module directory no locator can write to has none); the others (the in-tree, the
    ``NUMBA_CACHE_DIR`` and the user-wide caches) may hold code from other runs."""
    bases = []
    try:  # Numba's own naming of the mirrored directories (stable since 0.4x, but private)
        from numba.core.caching import _CacheLocator
        from numba.misc.appdirs import AppDirs
        subpath = _CacheLocator.get_suitable_cache_subpath
        bases = [numba.config.CACHE_DIR, AppDirs(appname="numba", appauthor=False).user_cache_dir]
    except (ImportError, AttributeError):  # pragma: no cover - other Numba layouts
        subpath = None
    out = []
    for folder, py_file in _module_dirs(root):
        primary = _locate(py_file)
        if primary is not None:
            out.append((primary, True))
        others = [os.path.join(folder, "__pycache__")]
        if subpath is not None:
            others += [os.path.join(base, subpath(py_file)) for base in bases if base]
        out.extend((d, False) for d in dict.fromkeys(others) if d != primary)
    return out


def purge_stale_caches(root=PACKAGE_DIR, cache_dirs=None):
    """Delete Numba's cached code (``*.nbi``, ``*.nbc``) for the modules under ``root`` in
    every cache directory whose recorded source fingerprint differs from the current one.

    Parameters
    ----------
    root : str
        The package directory.
    cache_dirs : list of str, optional
        The cache directories to check, all treated as primary (default: those Numba may use
        for ``root``).  A primary directory that does not exist yet is created with the
        fingerprint, so the code cached there next is trusted by the next process.

    Returns
    -------
    int
        The number of cache files deleted.  Unwritable directories are skipped (a failure
        here never stops the import).
    """
    stamp = IMPORTED_FINGERPRINT if root == PACKAGE_DIR else _fingerprint(root)
    removed = 0
    pairs = _cache_dirs(root) if cache_dirs is None else [(c, True) for c in cache_dirs]
    for cache, primary in pairs:
        marker = os.path.join(cache, _MARKER)
        try:
            if not os.path.isdir(cache):
                if not primary:
                    continue
                os.makedirs(cache, exist_ok=True)
            try:
                with open(marker) as fh:
                    if fh.read().strip() == stamp:
                        continue
            except FileNotFoundError:
                pass
            for name in os.listdir(cache):
                if name.endswith((".nbi", ".nbc")):
                    os.remove(os.path.join(cache, name))
                    removed += 1
            tmp = f"{marker}.{os.getpid()}"
            with open(tmp, "w") as fh:
                fh.write(stamp + "\n")
            os.replace(tmp, marker)
        except OSError:
            continue
    return removed


def cache_available(root=PACKAGE_DIR):
    """Whether Numba can cache the compiled functions of every module under ``root`` on disk
    (the package directory, ``NUMBA_CACHE_DIR`` or the user-wide cache is writable)."""
    return all(_locate(py_file) is not None for _, py_file in _module_dirs(root))


#: The fingerprint of the sources this process imported (see :class:`_PackageCache`).
IMPORTED_FINGERPRINT = _fingerprint(PACKAGE_DIR)
if not cache_available():
    # A read-only install with no writable cache (containers, system installs, services):
    # :func:`jit` then compiles in memory.
    warnings.warn("integrallimits: no writable Numba cache directory (the package directory "
                  f"{PACKAGE_DIR} and the user cache are read-only): the package's compiled "
                  "functions are compiled again in every process; set NUMBA_CACHE_DIR to a "
                  "writable directory to cache them", RuntimeWarning, stacklevel=2)
purge_stale_caches()
