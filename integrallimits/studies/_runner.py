"""Cells: the resumable, parallel unit of work of a study.

A study splits its work into *cells*: calls ``function(args)`` of one module-level
function on JSON-serialisable arguments, each returning a JSON-serialisable result
(a row dict, a list of rows, numbers...).  :func:`run_cells` runs the cells that have
no stored result yet, serially or on any :mod:`concurrent.futures`-style executor,
and stores each finished cell's result atomically as ``<cache_dir>/<key>.json``
the moment it finishes.  Cells whose file exists are read back instead of being
computed, so a run that was killed loses nothing but the cells in progress, and a
rerun computes only the cells that are missing.

Results always go through the same JSON round trip, whether they were computed
now or read back, so an interrupted-and-resumed run returns exactly the values of
an uninterrupted one.

A study opts in with two keywords, ``executor`` and ``cache_dir``::

    def my_study(quick=False, seed=0, executor=None, cache_dir=None):
        cells = [(n, seed) for n in (8, 16, 32)]
        rows = run_cells("my-study", cells, _one_cell, cache_dir, executor)
        return StudyResult("my-study", rows, params={...})

``integrallimits reproduce`` passes ``cache_dir=<out>/<name>/cells``.

A stored cell is identified by the function's qualified name, its arguments, the package
version, the package's source code and the versions of the libraries that compute with it
(see :func:`cell_key`): after any change of code or of those versions, cells are computed
again.  A stored file is used only if it is a cell record of this key whose checksum
matches; anything else in the folder (a corrupt or truncated cell, a user's notes, a
directory) is not read, and never deleted.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import functools
import hashlib
import json
import logging
import os
import re
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable

from ._result import atomic_write

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["run_cells", "cell_key", "load_cells", "to_plain"]

#: File-name suffix of stored cells.
CELL_SUFFIX = ".json"
#: One INFO record per finished cell ("NAME: cell k/n done in s"); the command line prints
#: them when stderr is not a terminal.
_log = logging.getLogger("integrallimits.studies")

#: Distributions whose versions go into every cell's key (they compute the results).
CELL_DEPENDENCIES = ("numpy", "scipy", "numba", "llvmlite", "sympy", "mpmath")

#: {key: {"reused": bool, "seconds": float}} of the stored cells run_cells used, while
#: :func:`recording_cells` is active (None otherwise)
_USED = contextvars.ContextVar("integrallimits_used_cells", default=None)


@contextlib.contextmanager
def recording_cells():
    """Collect the cells that :func:`run_cells` reads back or computes and stores (with a
    ``cache_dir``) in this context: yields a dict {key: {"reused": bool, "seconds": float}}.

    :func:`~integrallimits.studies.reproduce` reports these in its manifest: the folder of
    stored cells may also hold the cells of other seeds or of the quick mode, which this run
    neither read nor computed."""
    used = {}
    token = _USED.set(used)
    try:
        yield used
    finally:
        _USED.reset(token)


def to_plain(value):
    """``value`` with NumPy scalars/arrays and tuples turned into plain Python data.

    Examples
    --------
    >>> import numpy as np
    >>> to_plain({"a": np.float64(1.5), "b": (1, np.int64(2)), "c": np.arange(2)})
    {'a': 1.5, 'b': [1, 2], 'c': [0, 1]}
    """
    return json.loads(_dumps(value))


def _default(obj):
    if hasattr(obj, "tolist"):          # NumPy scalars and arrays
        return obj.tolist()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    raise TypeError(f"a cell's arguments and result must be JSON data (numbers, strings, lists, "
                    f"dicts); got {type(obj).__name__}")


def _dumps(value, indent=None):
    # allow_nan: NaN marks "not measured" in several tables; Python's json reads it back.
    return json.dumps(value, default=_default, allow_nan=True, sort_keys=False, indent=indent)


def _function_name(function):
    base = getattr(function, "func", function)          # functools.partial
    return f"{base.__module__}:{base.__qualname__}"


def _slug(args):
    text = "_".join(str(a) for a in (args if isinstance(args, (list, tuple)) else [args]))
    text = re.sub(r"[^A-Za-z0-9.+-]+", "_", text).strip("_.")
    return text[:60] or "cell"


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@functools.lru_cache(maxsize=None)
def code_fingerprint(root=_PACKAGE_DIR):
    """SHA-256 (hex) of the package's version and source files under ``root`` (their
    contents) and of the versions of :data:`CELL_DEPENDENCIES`: what a stored cell's result
    depends on besides its arguments.  Computed once per process."""
    from importlib import metadata

    from .. import __version__
    digest = hashlib.sha256(f"integrallimits {__version__}\n".encode())
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(f for f in files if f.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, "rb") as fh:
                source = fh.read()
            digest.update(f"{os.path.relpath(path, root)}\0{len(source)}\0".encode() + source)
    for dist in CELL_DEPENDENCIES:
        try:
            version = metadata.version(dist)
        except metadata.PackageNotFoundError:
            version = None
        digest.update(f"{dist} {version}\n".encode())
    return digest.hexdigest()


def _checksum(key, args, result):
    return hashlib.sha256(_dumps([key, args, result]).encode("utf-8")).hexdigest()


def cell_key(function, args):
    """The file name (without ``.json``) under which the cell ``function(args)`` is stored.

    A readable prefix made from ``args`` and the first 12 hex digits of a SHA-256 of
    the function's qualified name, the arguments and :func:`code_fingerprint` (so cells
    computed by other code, or with other versions of NumPy, SciPy, Numba... are never
    read).

    Examples
    --------
    >>> from integrallimits.studies._runner import cell_key, to_plain
    >>> key = cell_key(to_plain, ["trapezoid", "exp-square", 256])
    >>> key.startswith("trapezoid_exp-square_256-"), len(key.rsplit("-", 1)[1])
    (True, 12)
    """
    payload = _dumps([_function_name(function), to_plain(args), code_fingerprint()])
    digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()[:12]
    return f"{_slug(args)}-{digest}"


def _timed_call(function, args):
    """Run one cell (on a worker): (JSON text of the result, seconds)."""
    start = time.perf_counter()
    result = function(args)
    return _dumps(result), time.perf_counter() - start


def _load_record(path, key):
    """The cell record stored at ``path`` under ``key``, or None if the file is absent,
    unreadable, not a record of this key and of this code, or fails its checksum."""
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):   # (a directory is an OSError too)
        return None
    if (not isinstance(record, dict) or record.get("key") != key or "result" not in record
            or record.get("code") != code_fingerprint()
            or record.get("sha256") != _checksum(key, record.get("args"), record["result"])):
        return None
    return record


def _read_cell(path, key, function, args):
    """The stored record of the cell ``function(args)``, or None (see :func:`_load_record`)."""
    record = _load_record(path, key)
    if record is None or record.get("function") != _function_name(function) \
            or record.get("args") != to_plain(args):
        return None
    return record


def _progress(name, total, initial):
    """A tqdm bar on a terminal when tqdm is installed, else a no-op object."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    # disable=None: shown only when stderr is a terminal (never in logs or pipes)
    return tqdm(total=total, initial=initial, desc=name, unit="cell", disable=None, leave=False,
                file=sys.stderr, dynamic_ncols=True)


def check_executor(executor):
    """Refuse an ``executor`` that is neither None nor an object with ``submit`` (such as the
    command line's text ``"processes"``): it failed with an AttributeError at the first cell."""
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise TypeError(f"executor must be a concurrent.futures.Executor (anything with submit: "
                        f"a ProcessPoolExecutor, a Dask client's get_executor()) or None, got "
                        f"{type(executor).__name__} {executor!r:.60}")


def map_calls(function: Callable, *iterables, executor=None) -> list:
    """``list(map(function, *iterables))``, run on ``executor`` if one is given.

    The calls are submitted all at once and their results returned in order; the first call's
    exception is raised (the calls not yet started are cancelled), as by
    :meth:`concurrent.futures.Executor.map`.  Unlike :func:`run_cells` nothing is stored:
    for the studies whose calls are too quick to be worth a file.  ``executor`` needs only
    ``submit`` (checked by :func:`check_executor`).

    Examples
    --------
    >>> map_calls(pow, [2, 3], [2, 2])
    [4, 9]
    """
    check_executor(executor)
    if executor is None:
        return list(map(function, *iterables))
    futures = [executor.submit(function, *args) for args in zip(*iterables)]
    try:
        return [future.result() for future in futures]
    finally:
        for future in futures:
            future.cancel()


def run_cells(name: str, cells: Sequence, function: Callable[[Any], Any],
              cache_dir: str | os.PathLike | None = None,
              executor: concurrent.futures.Executor | None = None) -> list:
    """Run ``function(args)`` for every ``args`` in ``cells``; results in the order of ``cells``.

    Parameters
    ----------
    name : str
        The study's name (progress bar label, and recorded in each cell file).
    cells : sequence
        The arguments of each cell: JSON data (numbers, strings, lists, dicts).
        They must determine the result completely (include the seed if one is used).
    function : callable
        A module-level function (importable by name, so process pools and Dask
        workers can run it) returning JSON data.
    cache_dir : str or path-like, optional
        Where each finished cell is stored as ``<key>.json`` (see :func:`cell_key`),
        atomically, as soon as it finishes; cells already stored there are read back
        and not recomputed.  Without it nothing is stored.
    executor : concurrent.futures.Executor, optional
        Anything with ``submit`` returning a :class:`concurrent.futures.Future`
        (a ``ProcessPoolExecutor``, ``dask.distributed.Client.get_executor()``...).
        Default: run in this process, one cell after the other.

    Returns
    -------
    list
        The results, JSON-round-tripped (tuples become lists, NumPy scalars plain
        floats), so stored and fresh results are the same values.

    Raises
    ------
    TypeError
        For an ``executor`` without ``submit``.
    Exception
        The first exception raised by a cell, after the cells that finished have
        been stored.

    See Also
    --------
    reproduce : run a registered study and write its table, figures and manifest.
    cell_key : the file name of a cell.

    Examples
    --------
    >>> import tempfile, os
    >>> from integrallimits.studies._runner import run_cells, to_plain
    >>> folder = tempfile.mkdtemp()
    >>> run_cells("demo", [[1, 2], [3]], to_plain, folder)
    [[1, 2], [3]]
    >>> len(os.listdir(folder))
    2
    """
    check_executor(executor)
    if cache_dir is not None and os.path.exists(cache_dir) and not os.path.isdir(cache_dir):
        # (before any cell is computed: storing the first one raised a bare FileExistsError)
        raise NotADirectoryError(f"cache_dir must be a folder, but {os.fspath(cache_dir)!r} is "
                                 "a file")
    cells = list(cells)
    results = [None] * len(cells)
    keys = [cell_key(function, args) for args in cells]
    if len(set(keys)) != len(keys):
        raise ValueError(f"study {name!r} has duplicate cells (the same arguments twice)")
    used = _USED.get() if cache_dir is not None else None
    pending = []
    for i, (key, args) in enumerate(zip(keys, cells)):
        record = None if cache_dir is None else _read_cell(os.path.join(cache_dir, key + CELL_SUFFIX),
                                                           key, function, args)
        if record is None:
            pending.append(i)
        else:
            results[i] = record["result"]
            if used is not None:
                used[key] = {"reused": True, "seconds": record.get("seconds")}
    bar = _progress(name, len(cells), len(cells) - len(pending)) if pending else None
    done = [len(cells) - len(pending)]

    def store(i, text, seconds):
        results[i] = json.loads(text)
        if cache_dir is not None:
            from .. import __version__
            args = to_plain(cells[i])
            record = {"study": name, "key": keys[i], "function": _function_name(function),
                      "args": args, "version": __version__, "code": code_fingerprint(),
                      "seconds": round(seconds, 6), "result": results[i],
                      "sha256": _checksum(keys[i], args, results[i])}
            path = os.path.join(cache_dir, keys[i] + CELL_SUFFIX)
            try:
                atomic_write(path, _dumps(record, indent=1))
            except IsADirectoryError:   # not ours to remove: compute, do not store
                warnings.warn(f"cell {keys[i]} of study {name!r} is not stored: {path} is a "
                              "directory", RuntimeWarning, stacklevel=2)
            if used is not None:
                used[keys[i]] = {"reused": False, "seconds": round(seconds, 6)}
        if bar is not None:
            bar.update(1)
        done[0] += 1
        _log.info("%s: cell %d/%d done in %.1f s", name, done[0], len(cells), seconds)

    futures = {}
    try:
        if executor is None:
            for i in pending:
                store(i, *_timed_call(function, cells[i]))
        elif pending:
            futures = {executor.submit(_timed_call, function, cells[i]): i for i in pending}
            error = None
            for future in concurrent.futures.as_completed(futures):
                if future.cancelled():
                    continue
                exc = future.exception()
                if exc is not None:
                    if error is None:
                        error = exc
                        for other in futures:   # stop what has not started; keep what finishes
                            other.cancel()
                    continue
                store(futures[future], *future.result())
            if error is not None:
                raise error
    except BaseException:   # (Ctrl-C): the queued cells are not wanted any more
        for future in futures:
            future.cancel()
        raise
    finally:
        if bar is not None:
            bar.close()
    return results


def load_cells(cache_dir):
    """The cell records of the current code stored in ``cache_dir`` (dicts with ``key``,
    ``args``, ``seconds``, ``result``...), sorted by key; every other file (unreadable,
    foreign, of other code, failing its checksum) is skipped."""
    records = []
    if cache_dir is None or not os.path.isdir(cache_dir):
        return records
    for entry in sorted(os.listdir(cache_dir)):
        if not entry.endswith(CELL_SUFFIX) or entry.startswith("."):
            continue
        record = _load_record(os.path.join(cache_dir, entry), entry[:-len(CELL_SUFFIX)])
        if record is not None:
            records.append(record)
    return records
