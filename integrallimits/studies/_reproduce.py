"""Run a registered study and write its outputs: what ``integrallimits reproduce`` does.

For a study NAME and an output folder OUT it writes ::

    OUT/NAME/table.md, table.csv, table.json    the table (same numbers in three formats)
    OUT/NAME/<figure>.png                        figures, when matplotlib is installed
    OUT/NAME/manifest.json                       versions, platform, seed, parameters, timings
                                                 ("complete": false while they are written)
    OUT/NAME/cells/<key>.json                    one file per finished cell (the resume state)

Studies that accept ``cache_dir`` store their cells one by one through
:func:`~integrallimits.studies.run_cells`; any other registered study is run as a
single cell, so a rerun still skips it once it has finished.

The folder may hold the user's own files: a run deletes only figures that an earlier run
wrote (listed with their checksums in its manifest) and did not draw again, if they are
unchanged.  Several runs may write into one folder at once: they compute side by side
(sharing finished cells) and write their outputs one after the other (a lock on
``OUT/NAME/.lock``; every temporary file has a name of its own).
"""
from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import inspect
import json
import numbers
import os
import platform
import sys
import time
from typing import TYPE_CHECKING

from ._figures import save_figure, study_figures
from ._result import StudyResult, atomic_write, new_temporary, replace_keeping_mode
from ._runner import recording_cells, run_cells, to_plain

if TYPE_CHECKING:
    import concurrent.futures

__all__ = ["reproduce", "study_accepts", "check_seed", "DEPENDENCIES"]

#: Distributions whose versions go into every manifest (absent ones are recorded as null).
DEPENDENCIES = ("numpy", "scipy", "numba", "llvmlite", "sympy", "mpmath", "matplotlib", "tqdm",
                "dask", "distributed", "hypothesis")


def study_accepts(study, keyword):
    """True if the study function takes ``keyword`` (by name or through ``**kwargs``)."""
    try:
        params = inspect.signature(study).parameters
    except (TypeError, ValueError):
        return False
    return keyword in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def check_seed(seed):
    """``seed`` as an int, if it is an integer >= 0 (what :func:`numpy.random.default_rng`
    takes); else a TypeError or ValueError naming it.  A float such as 1.5 is refused rather
    than truncated: the stored cells are keyed on the seed, and 1.5 would reuse those of 1."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"seed must be an integer >= 0, got {seed!r}")
    if seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed}")
    return int(seed)


def _whole_study(args, executor=None):
    """A study that does not split itself into cells, run as one cell."""
    from . import STUDIES
    name, quick, seed = args
    study = STUDIES[name]
    kwargs = {"quick": quick, "seed": seed}
    if executor is not None and study_accepts(study, "executor"):
        kwargs["executor"] = executor
    res = study(**kwargs)
    return {"rows": res.rows, "params": res.params, "notes": res.notes}


def _versions():
    from importlib import metadata

    from .. import __version__
    deps = {}
    for dist in DEPENDENCIES:
        try:
            deps[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            deps[dist] = None
    return {"name": "integrallimits", "version": __version__}, deps


def _platform():
    return {"python": sys.version.split()[0], "implementation": platform.python_implementation(),
            "system": platform.system(), "release": platform.release(),
            "machine": platform.machine(), "platform": platform.platform(),
            "cpu_count": os.cpu_count()}


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


@contextlib.contextmanager
def _exclusive(folder):
    """Hold an exclusive lock on ``folder/.lock`` (POSIX ``flock``; no lock where there is none)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(os.path.join(folder, ".lock"), os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)   # (releases the lock)


def _written_before(folder):
    """{file name: sha256} of the files the last run wrote into ``folder`` (its manifest);
    {} when there is no manifest.

    Raises FileExistsError when ``folder/manifest.json`` is there but is not the manifest of
    a run of this study (a JSON object whose ``"study"`` is the folder's name): the run would
    replace it, and a file this package did not write is never replaced."""
    path = os.path.join(folder, "manifest.json")
    if not os.path.lexists(path):
        return {}
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("study") != os.path.basename(folder):
        raise FileExistsError(f"{folder} holds manifest.json, which is not the manifest of an "
                              f"earlier run of this study; move it away or choose another "
                              f"output folder")
    files = manifest.get("files")
    if not isinstance(files, dict):
        return {}
    # (a list of digests: the file an interrupted run was writing, with what it held before
    # and what the run wrote; ours while it holds one of them.  A null digest, which earlier
    # versions wrote for every output not yet written, says nothing of what is there now.)
    return {name: digest if isinstance(digest, str) else tuple(digest)
            for name, digest in files.items()
            if isinstance(name, str) and (isinstance(digest, str) or (
                isinstance(digest, list) and all(isinstance(d, str) for d in digest)))
            and name == os.path.basename(name) and not name.startswith(".")}


def reproduce(name: str, out: str | os.PathLike = "out", *, quick: bool = False, seed: int = 0,
              executor: concurrent.futures.Executor | None = None, executor_name: str | None = None,
              figures: bool = True) -> tuple[StudyResult, dict]:
    """Run study ``name`` and write its table, figures and manifest under ``out/name``.

    Parameters
    ----------
    name : str
        A name in :data:`~integrallimits.studies.STUDIES`.
    out : str or path-like
        The output root; the study writes to ``out/name``.
    quick : bool
        The study's quick mode.
    seed : int
        Passed to the study (studies are deterministic given the seed); an integer >= 0,
        as :func:`numpy.random.default_rng` takes.
    executor : concurrent.futures.Executor, optional
        Where the cells run (see :func:`~integrallimits.studies.run_cells`).
    executor_name : str, optional
        How to name the executor in the manifest (e.g. the command line's text).
    figures : bool
        Draw and save the figures (needs matplotlib; skipped silently without it).

    Returns
    -------
    (StudyResult, dict)
        The result and the manifest that was written.

    Raises
    ------
    KeyError
        For a name that is not in :data:`STUDIES` (the message lists them).
    TypeError, ValueError
        For a seed that is not an integer >= 0, or ``quick`` or ``figures`` not True or
        False (before anything is written).
    FileExistsError
        Where ``out/name`` holds a table or figure of the name this run writes that no earlier
        run wrote (not in its manifest): it is left as it was.
    Exception
        What the study raised, after its finished cells were stored (a rerun resumes).

    See Also
    --------
    run_cells : the resumable, executor-agnostic cell runner the studies use.
    STUDIES : the registered studies.

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> res, manifest = reproduce("relu-convergence", folder, quick=True, figures=False)
    >>> sorted(os.listdir(os.path.join(folder, "relu-convergence")))
    ['.lock', 'cells', 'manifest.json', 'table.csv', 'table.json', 'table.md']
    >>> manifest["cells"]["computed"], manifest["seed"]
    (2, 0)
    """
    from ..volterra._mesh import check_flags
    from . import STUDIES
    study = STUDIES[name]
    seed = check_seed(seed)
    check_flags(quick=quick, figures=figures)   # a string is truthy: quick="no" ran quick
    folder = os.path.join(os.fspath(out), name)
    cells_dir = os.path.join(folder, "cells")
    os.makedirs(cells_dir, exist_ok=True)
    with _exclusive(folder):      # (before the study runs; the figures' names are known later)
        _check_ours(folder, TABLES, _written_before(folder))
    started, start = _now(), time.perf_counter()

    # the cells of this run (the folder may hold others: other seeds, the quick mode)
    with recording_cells() as used:
        if study_accepts(study, "cache_dir"):
            kwargs = {"quick": quick, "seed": seed, "cache_dir": cells_dir}
            if executor is not None and study_accepts(study, "executor"):
                kwargs["executor"] = executor
            result = study(**kwargs)
            granularity = "cells"
        else:
            [payload] = run_cells(name, [(name, bool(quick), int(seed))],
                                  functools.partial(_whole_study, executor=executor), cells_dir)
            result = StudyResult(name, payload["rows"], params=payload["params"],
                                 notes=payload["notes"])
            granularity = "whole study"
    wall = time.perf_counter() - start

    # rows through JSON first: the written table is the same whether cells were fresh or stored
    result.rows = to_plain(result.rows)
    figs = (result.figures or study_figures(name, result)) if figures else {}
    with _exclusive(folder):
        files = _write_outputs(folder, result, figs, seed, quick)
        records = dict(sorted(used.items()))
        package, deps = _versions()
        manifest = {
            "study": name,
            "complete": True,
            "package": package,
            "dependencies": deps,
            "platform": _platform(),
            "command": " ".join(["integrallimits", "reproduce", name] + (["--quick"] if quick else [])
                                + ["--seed", str(seed)]),
            "seed": seed,
            "quick": bool(quick),
            "parameters": to_plain(result.params),
            "notes": result.notes,
            "executor": executor_name or ("serial" if executor is None else type(executor).__name__),
            "cells": {"granularity": granularity, "total": len(records),
                      "computed": sum(1 for r in records.values() if not r["reused"]),
                      "reused": sum(1 for r in records.values() if r["reused"]),
                      "seconds": round(sum(float(r["seconds"] or 0.0) for r in records.values()),
                                       3)},
            "timings": {"started": started, "finished": _now(), "wall_seconds": round(wall, 3),
                        "cell_seconds": {key: r["seconds"] for key, r in records.items()}},
            "rows": len(result.rows),
            "files": files,
        }
        atomic_write(os.path.join(folder, "manifest.json"),
                     json.dumps(manifest, indent=2, default=str))
    return result, manifest


TABLES = ("table.md", "table.csv", "table.json")


def _ours(folder, name, previous):
    """Whether ``folder/name`` may be replaced: absent, or listed by the last run's manifest
    (``previous``, :func:`_written_before`) with a digest, or, for the file an interrupted
    run was writing (listed with its candidate digests), holding one of them."""
    path = os.path.join(folder, name)
    if not os.path.lexists(path):
        return True
    listed = previous.get(name)
    if isinstance(listed, tuple):
        return os.path.isfile(path) and not os.path.islink(path) and _sha256(path) in listed
    return listed is not None


def _check_ours(folder, names, previous):
    """Raise FileExistsError if a file ``folder/name`` to be written is there and the last
    run's manifest (``previous``, :func:`_written_before`) does not list it (or, for the file
    an interrupted run was writing, it holds neither what was there before nor what the run
    wrote: :func:`_ours`): a file this package did not write is never replaced."""
    theirs = [name for name in names if not _ours(folder, name, previous)]
    if theirs:
        raise FileExistsError(f"{folder} holds {', '.join(theirs)}, which no earlier run of "
                              f"this study wrote (its manifest.json does not list them); "
                              f"move them away or choose another output folder")


def _write_outputs(folder, result, figs, seed, quick):
    """Write the tables and figures; delete the figures of the last run not drawn again.
    Returns {file name: sha256} of what was written.

    Until every output is written the manifest is one marked ``"complete": false``: a run
    stopped while it writes (Ctrl-C, a full disk, a figure that fails) leaves a folder whose
    tables and figures may mix this run's and an earlier one's, and its manifest must not
    describe them as the earlier run's (its seed, its checksums).  It lists each file with the
    checksum of what is there: the earlier run's until the new one is written, and, for the
    file being written, both what was there and what is written (a list: the file is made
    whole in a temporary file, hashed, then renamed onto its name).  A file this run had not
    begun is not listed for it: a file the user puts at that name afterwards is theirs, and
    the next run refuses to replace it (every output was listed as null, "ours", and the next
    run replaced it)."""
    previous = _written_before(folder)
    names = TABLES + tuple(f"{fig_name}.png" for fig_name in figs)
    _check_ours(folder, names, previous)
    listed = {}
    for name, digest in previous.items():    # (what is there, ours: the checksums listed)
        if isinstance(digest, str):
            listed[name] = digest
        elif _ours(folder, name, previous) and os.path.lexists(os.path.join(folder, name)):
            listed[name] = _sha256(os.path.join(folder, name))   # (one of the candidates)

    def mark():
        atomic_write(os.path.join(folder, "manifest.json"), json.dumps({
            "study": os.path.basename(folder), "complete": False, "seed": seed,
            "quick": bool(quick),
            "note": "a run was stopped while writing its outputs: the tables and figures here "
                    "may mix that run's and an earlier one's; rerun the command (finished "
                    "cells are reused)",
            "files": {name: list(d) if isinstance(d, tuple) else d
                      for name, d in listed.items()}}, indent=2))

    def write(name, writer):
        """``writer(tmp)`` writes the output into a temporary file, renamed onto ``name``
        once the manifest lists its checksum."""
        path = os.path.join(folder, name)
        fd, tmp = new_temporary(folder, name)
        os.close(fd)
        try:
            writer(tmp)
            new = _sha256(tmp)
            before = _sha256(path) if os.path.isfile(path) and not os.path.islink(path) \
                else None
            listed[name] = tuple(d for d in (before, new) if d is not None)
            mark()
            replace_keeping_mode(tmp, path)
        except BaseException:
            if os.path.lexists(tmp):
                os.unlink(tmp)
            raise
        listed[name] = new
        mark()
        return path

    mark()
    paths = {}
    for name, text in (("table.md", result.to_markdown), ("table.csv", result.to_csv),
                       ("table.json", result.to_json)):
        text = text()
        paths[name] = write(name, lambda tmp, text=text: atomic_write(tmp, text))
    for fig_name, fig in figs.items():
        paths[f"{fig_name}.png"] = write(f"{fig_name}.png",
                                         lambda tmp, fig=fig: save_figure(fig, tmp))
    for entry, digest in previous.items():  # ours, not drawn this time, and unchanged since
        path = os.path.join(folder, entry)
        if entry in paths or not os.path.lexists(path):
            continue
        if entry.endswith(".png") and os.path.isfile(path) and not os.path.islink(path) \
                and _sha256(path) in ((digest,) if isinstance(digest, str) else digest):
            os.unlink(path)
    return {label: listed[label] for label in paths}
