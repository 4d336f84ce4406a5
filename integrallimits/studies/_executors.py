"""Executors for studies: serial, a local process pool, or a Dask cluster.

A study takes any :mod:`concurrent.futures`-style executor (an object whose
``submit`` returns a :class:`concurrent.futures.Future`).  :func:`open_executor`
makes one from the text the command line accepts:

``serial``
    no executor: cells run one after the other in this process;
``processes`` or ``processes:N``
    a local :class:`~concurrent.futures.ProcessPoolExecutor` with N workers
    (default: the number of CPUs; at most :data:`WORKERS_PER_CPU` per CPU).  Its
    workers end with the process that opened the pool, also when that process is
    killed (SIGKILL, SIGTERM): each watches it from a thread.  With them end the
    forkserver and the resource tracker, which live as long as a worker does.
    Ctrl-C interrupts the opening process only (the workers ignore SIGINT); leaving
    the ``with`` block by an exception stops the workers at once instead of waiting
    for the cells they run;
``dask://HOST:PORT``
    a :class:`dask.distributed.Client` connected to the scheduler at
    ``tcp://HOST:PORT`` (the ``dask`` extra), used through ``client.get_executor()``.

Anything else is refused: the text is matched against these patterns, never run.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import re
import select
import signal
import threading
import time

__all__ = ["ExecutorSpecError", "parse_executor", "open_executor", "WORKERS_PER_CPU"]

#: Most worker processes per CPU a ``processes:N`` executor may ask for (each worker
#: holds its own NumPy, SciPy, Numba and compiled code: some 200 MB).
WORKERS_PER_CPU = 4

_HOST = r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])"
_DASK = re.compile(rf"dask://{_HOST}:(?P<port>[0-9]{{1,5}})")
# (any number of digits: processes:99999 is refused as too many workers, not as a bad text)
_PROCESSES = re.compile(r"processes(?::(?P<workers>[0-9]+))?")


class ExecutorSpecError(ValueError):
    """An executor text that is not ``serial``, ``processes[:N]`` or ``dask://HOST:PORT``."""


def parse_executor(text):
    """Check an executor text and split it into ``(kind, options)``.

    Parameters
    ----------
    text : str
        ``"serial"``, ``"processes"``, ``"processes:N"`` or ``"dask://HOST:PORT"``.

    Returns
    -------
    (str, dict)
        ``("serial", {})``, ``("processes", {"max_workers": N or None})`` or
        ``("dask", {"address": "tcp://HOST:PORT"})``.

    Raises
    ------
    ExecutorSpecError
        (a ValueError) for any other text.

    Examples
    --------
    >>> parse_executor("dask://127.0.0.1:8786")
    ('dask', {'address': 'tcp://127.0.0.1:8786'})
    >>> parse_executor("processes:2")
    ('processes', {'max_workers': 2})
    >>> parse_executor("__import__('os')")
    Traceback (most recent call last):
    ...
    integrallimits.studies._executors.ExecutorSpecError: executor must be 'serial', 'processes', 'processes:N' with N >= 1, or 'dask://HOST:PORT'; refused "__import__('os')"
    """
    if not isinstance(text, str):
        raise ExecutorSpecError(f"executor must be a string, got {type(text).__name__}")
    if text == "serial":
        return "serial", {}
    m = _PROCESSES.fullmatch(text)
    digits = m["workers"].lstrip("0") or "0" if m and m["workers"] else None
    # (more than 18 digits: not converted, int() of thousands of digits raises ValueError)
    workers = None if digits is None else int(digits) if len(digits) <= 18 else float("inf")
    if m and workers != 0:      # (processes:0 is refused below, as processes:-2 is)
        cpus = os.cpu_count() or 1
        if workers is not None and workers > WORKERS_PER_CPU * cpus:
            shown = text if len(text) <= 40 else text[:37] + "..."
            asked = digits if len(digits) <= 20 else f"a {len(digits)}-digit number of"
            raise ExecutorSpecError(f"executor {shown!r} asks for {asked} worker processes; at "
                                    f"most {WORKERS_PER_CPU * cpus} ({WORKERS_PER_CPU} per CPU, "
                                    f"{cpus} CPUs here) are accepted")
        return "processes", {"max_workers": workers}
    m = _DASK.fullmatch(text)
    if m and 0 < int(m["port"]) < 65536:
        return "dask", {"address": f"tcp://{m['host']}:{int(m['port'])}"}
    shown = text if len(text) <= 80 else text[:77] + "..."
    raise ExecutorSpecError("executor must be 'serial', 'processes', 'processes:N' with N >= 1, "
                            f"or 'dask://HOST:PORT'; refused {shown!r}")


def _process_context():
    # Not fork: the parent may hold threads (progress bars, Numba, Dask) that a forked
    # child would inherit half-way.  forkserver starts clean workers quickly on POSIX.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


@contextlib.contextmanager
def open_executor(text="serial", *, timeout=30):
    """A context manager yielding the executor described by ``text`` (None for serial).

    The pool or the Dask client is shut down on exit.

    Parameters
    ----------
    text : str
        See :func:`parse_executor`.
    timeout : float
        Seconds to wait for a Dask scheduler to answer.

    Raises
    ------
    ExecutorSpecError
        For a text :func:`parse_executor` refuses.
    ImportError
        For ``dask://`` without the ``dask`` extra installed (the message says so).

    Examples
    --------
    >>> with open_executor("serial") as ex:
    ...     print(ex)
    None
    """
    kind, options = parse_executor(text)
    if kind == "serial":
        yield None
    elif kind == "processes":
        pool = _pool(options["max_workers"] or os.cpu_count() or 1)
        try:
            yield pool
        except BaseException:   # interrupted or failed: the running cells are not wanted
            _terminate_workers(pool)
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    else:
        try:
            from distributed import Client
        except ImportError:
            raise ImportError("the dask executor needs dask.distributed: pip install "
                              "'integrallimits[dask]'") from None
        client = Client(options["address"], timeout=timeout, set_as_default=False)
        try:
            yield client.get_executor()
        finally:
            client.close()


def _pool(workers):
    from concurrent.futures import ProcessPoolExecutor
    return ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(),
                               initializer=_end_with, initargs=(os.getpid(),))


def _terminate_workers(pool):
    if hasattr(pool, "terminate_workers"):   # Python >= 3.14
        pool.terminate_workers()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):   # private before
        process.terminate()


def _end_with(parent):
    """Pool worker initializer: end this worker as soon as process ``parent`` has ended,
    and leave Ctrl-C (SIGINT, sent to the whole terminal's process group) to the parent.

    A worker would otherwise wait forever for tasks (it holds both ends of the pool's
    queue, so the pipe never reports the end of the parent), and keep the forkserver and
    the resource tracker alive with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch, args=(parent,), name="integrallimits-end-with-parent",
                     daemon=True).start()


def _watch(parent):
    try:
        fd = os.pidfd_open(parent)     # Linux >= 5.3: readable once the process has ended
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):
        fd = None
    if fd is not None:
        select.select([fd], [], [])
    else:  # pragma: no cover - other systems: poll
        while _alive(parent):
            time.sleep(0.5)
    os._exit(1)


def _alive(pid):  # pragma: no cover - used where pidfd_open is missing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def describe_executor(executor):
    """A short text naming an executor object (for manifests)."""
    if executor is None:
        return "serial"
    return type(executor).__module__ + "." + type(executor).__qualname__
