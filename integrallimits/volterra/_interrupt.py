"""Ctrl-C during a compiled solve.

A compiled loop holds no Python frame, so a KeyboardInterrupt cannot stop it: Python runs
its signal handler only when control comes back.  Long solves therefore run in a worker
thread (the loops release the GIL) while the calling thread waits; on Ctrl-C the waiting
thread sets the stop request in every counter array of the solve (the last slot of the arrays
:func:`integrallimits.volterra._loops.new_counts` makes), each loop returns at its next step,
and, once the worker has ended, the KeyboardInterrupt is raised in the caller with nothing
half-written into the result and nothing running on (a step that is one call of Python code
or of LAPACK, such as the dense LU of a large Fredholm system, runs to its end first).
So does any exception raised in the waiting thread (a caller's timeout, raised by its signal
handler).
Short solves (below :data:`THREAD_WORK` kernel evaluations) run inline: they end by themselves
within milliseconds.
"""
from __future__ import annotations

import threading

__all__ = ["register", "run_interruptibly", "stop_requested", "THREAD_WORK"]

#: Estimated kernel evaluations above which a solve runs in a worker thread (~10 ms and up).
THREAD_WORK = 2e6

_ACTIVE = {}          # worker thread id -> the counter arrays its solve created
_LOCK = threading.Lock()
_STOPPING = set()     # worker thread ids whose caller asked them to stop


def stop_requested():
    """Whether the caller of this thread (a solve's worker) asked it to stop: for the Python
    loops a worker runs (a forcing g evaluated point by point), which then raise
    KeyboardInterrupt (the compiled loops read the stop slot of their counters)."""
    return threading.get_ident() in _STOPPING


def register(counts):
    """Note the counter array of a loop of the current solve (if it runs interruptibly)."""
    arrays = _ACTIVE.get(threading.get_ident())
    if arrays is not None:
        arrays.append(counts)
    return counts


def run_interruptibly(solve, work=None):
    """``solve()``, stoppable by Ctrl-C within about one step of its compiled loops.

    ``work`` is the estimated number of kernel evaluations (None: unknown, run in a thread).
    """
    if (work is not None and work < THREAD_WORK) or threading.current_thread() is not \
            threading.main_thread():
        return solve()   # short, or not where Ctrl-C arrives: nothing to gain from a thread
    box = {}
    arrays = []
    # (set by the worker as its last step: the caller waits on it, not on Thread.join, which
    # Python 3.10-3.12 leave broken once a KeyboardInterrupt interrupted it -- a later join()
    # returns at once and is_alive() says False while the worker runs on)
    finished = threading.Event()

    def target():
        with _LOCK:
            _ACTIVE[threading.get_ident()] = arrays
        try:
            box["result"] = solve()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc
        finally:
            with _LOCK:
                _ACTIVE.pop(threading.get_ident(), None)
            _STOPPING.discard(threading.get_ident())    # (a later thread may get the same id)
            finished.set()

    worker = threading.Thread(target=target, name="integrallimits-solve", daemon=True)
    worker.start()
    try:
        while not finished.wait(0.05):
            pass
    except BaseException:   # Ctrl-C, or a signal handler's exception (a caller's timeout)
        _STOPPING.add(worker.ident)
        for counts in list(arrays):
            counts[-1] = 1
        # (the worker has stopped when the caller goes on; a second Ctrl-C stops the wait and
        # leaves the worker to stop on its own)
        finished.wait()
        _STOPPING.discard(worker.ident)     # (added after the worker's own discard)
        raise
    if "error" in box:
        raise box["error"]
    return box["result"]
