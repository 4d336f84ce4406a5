"""The on-disk cache of generated kernel and forcing modules (no SymPy here).

:mod:`._sympy` generates Python source for a kernel (``kernel``, ``block_sum``, ``jacobian``,
``probe``) or a forcing (``forcing``); this module writes it to :func:`cache_directory` under
a name given by its SHA-256, imports it, and compiles the kernel's functions with Numba
(``cache=True``, so another process loads the machine code instead of compiling it again).
Within a process the compiled functions are kept in dicts keyed by the same hash: a module
is never compiled twice.  :mod:`._text` imports the modules it recorded here without SymPy.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import threading
from pathlib import Path

from numba.core.errors import NumbaError

from .._numba import jit
from . import _user
from ._kernel import (BLOCK_SIGNATURE, JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel,
                      KernelCompilationError)

__all__ = ["cache_directory", "search_directories", "module_name", "write_module",
           "import_module_file", "kernel_functions", "forcing_function", "generated_kernel"]

_LOCK = threading.RLock()
_COMPILED = {}   # source sha256 -> (evaluate, jacobian, block_sum, probe)
_FORCINGS = {}   # source sha256 -> forcing function
_FALLBACK_DIR = None


def cache_directory():
    """The directory where generated kernel modules (and Numba's cache of them) live.

    ``$INTEGRALLIMITS_CACHE_DIR/kernels`` if the variable is set, else
    ``$XDG_CACHE_HOME/integrallimits/kernels`` or ``~/.cache/integrallimits/kernels``.
    The directory is not created here; see :func:`~integrallimits.kernels.from_sympy` for
    the fallback when it cannot be written.

    Examples
    --------
    >>> cache_directory().name
    'kernels'
    """
    base = os.environ.get("INTEGRALLIMITS_CACHE_DIR")
    if base:
        return Path(base).expanduser() / "kernels"
    xdg = os.environ.get("XDG_CACHE_HOME")
    root = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return root / "integrallimits" / "kernels"


def _private_directory():
    """A fresh private directory, one per process.  A shared, predictable /tmp path could
    be pre-filled by another user with code we would import."""
    global _FALLBACK_DIR
    if _FALLBACK_DIR is None:
        _FALLBACK_DIR = Path(tempfile.mkdtemp(prefix="integrallimits-kernels-"))
    return _FALLBACK_DIR


def search_directories():
    """Where generated modules may be found: :func:`cache_directory`, and this process's
    private directory if it had to use one."""
    return [cache_directory()] + ([_FALLBACK_DIR] if _FALLBACK_DIR is not None else [])


def _writable_directory():
    """cache_directory() if it can be created and written, else a private temp dir."""
    directory = cache_directory()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".probe-"):
            pass
        return directory
    except OSError:
        return _private_directory()


def _write_atomic(path, text):
    """Write ``text`` to ``path`` unless it already holds exactly that text."""
    try:
        if path.read_text(encoding="utf-8") == text:
            return  # unchanged file: keeps its mtime, so Numba's cache stays valid
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def module_name(prefix, digest):
    """The module (and file stem) of the generated source whose SHA-256 is ``digest``."""
    return f"{prefix}_{digest[:32]}"


def import_module_file(name, path):
    """Import the generated module ``name`` from ``path`` (once per process)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    # Numba records the module name of compiled functions and re-imports it by name
    # when it loads them from its on-disk cache: the module must be in sys.modules.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def write_module(source, digest, prefix):
    """Write the generated ``source`` (SHA-256 ``digest``) to the cache directory, unless the
    file already holds it, and return the file's path."""
    path = _writable_directory() / f"{module_name(prefix, digest)}.py"
    try:
        _write_atomic(path, source)
    except OSError:
        # The directory passed the write probe but the write failed (full disk, race):
        # fall back to a private directory rather than failing the user's call.
        path = _private_directory() / path.name
        _write_atomic(path, source)
    return path


def _compile_error(what, exc):
    detail = [line for line in str(exc).strip().splitlines() if line.strip()]
    short = "\n".join(detail[:6]) if detail else type(exc).__name__
    return KernelCompilationError(f"{what} cannot be compiled for Numba. Numba said:\n{short}")


def kernel_functions(digest, load, what):
    """(evaluate, jacobian, block_sum, probe) of the generated kernel module whose source has
    SHA-256 ``digest``: ``load()`` imports it the first time, and its functions are compiled
    (or loaded from Numba's cache) with the solvers' signatures.  ``what`` names the kernel
    in a :class:`KernelCompilationError`."""
    with _LOCK:
        compiled = _COMPILED.get(digest)
        if compiled is None:
            module = load()
            try:
                evaluate = jit(KERNEL_SIGNATURE)(module.kernel)
                # (a text's module keeps its operations: no reassociation, see _BLOCK_FASTMATH)
                fastmath = set(getattr(module, "_BLOCK_FASTMATH", ("reassoc", "contract")))
                block = jit(BLOCK_SIGNATURE, fastmath=fastmath)(module.block_sum)
                jacobian = jit(JACOBIAN_SIGNATURE)(module.jacobian)
            except NumbaError as exc:
                raise _compile_error(what, exc) from None
            compiled = (evaluate, jacobian, block, module.probe)
            _COMPILED[digest] = compiled
    return compiled


def forcing_function(digest, load):
    """The ``forcing`` of the generated module whose source has SHA-256 ``digest``
    (``load()`` imports it the first time)."""
    with _LOCK:
        func = _FORCINGS.get(digest)
        if func is None:
            func = _FORCINGS[digest] = load().forcing
    return func


def generated_kernel(compiled, dim, scalar, n_params, structure, name):
    """The :class:`Kernel` of a generated module's ``compiled`` functions (see
    :func:`kernel_functions`); its ``n_params`` parameters are floats given with ``args=``."""
    evaluate, jacobian, block, probe = compiled
    gid = probe.__globals__.get("_GID")   # the module's id for the non-finite values it records
    if gid is not None:
        what = "K(t, s, y)" if name == "K" else f"K(t, s, y) = {name}"
        _user.new_guard(probe, what, "tsy", scalar, () if scalar else (dim,), gid=gid)
        _user.new_guard(probe, f"the Jacobian dK/dy of {what}", "tsy", scalar, (dim, dim),
                        gid=gid + 1)
    return Kernel(evaluate, dim, scalar, jacobian, block, "sympy", probe=probe,
                  structure=structure, name=name,
                  arg_spec=_user.ArgSpec(("f",) * n_params) if n_params else None)
