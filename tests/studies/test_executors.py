"""Process pools end with the process that opened them; absurd pool sizes are refused (issue 17)."""
import io
import os
import signal
import subprocess
import sys
import time

import pytest

from integrallimits.cli import main
from integrallimits.studies import _executors
from integrallimits.studies._executors import ExecutorSpecError, parse_executor

from subprocesses import sigint_as_in_a_terminal


def _session(sid):
    """The live (not zombie) processes of session ``sid``: pid -> command line."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                stat = fh.read()
            with open(f"/proc/{entry}/cmdline") as fh:
                cmdline = fh.read().replace("\0", " ")
        except OSError:
            continue
        state, _, _, session = stat[stat.rindex(")") + 2:].split()[:4]
        if int(session) == sid and state != "Z":
            procs[int(entry)] = cmdline
    return procs


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to list processes")
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_killing_a_pooled_reproduction_leaves_no_process_behind(sig, tmp_path):
    """`reproduce --executor processes:2` runs in its own session: once its pool is up
    (forkserver, resource tracker, two workers), the parent is killed; every process of the
    session must then end by itself."""
    proc = subprocess.Popen([sys.executable, "-m", "integrallimits", "reproduce", "orders", "--quick",
                             "--executor", "processes:2", "--out", str(tmp_path)],
                            start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    sid = proc.pid
    try:
        deadline = time.monotonic() + 120
        while len(_session(sid)) < 5 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        started = _session(sid)
        assert len(started) >= 5 and proc.poll() is None, started
        assert sum("forkserver" in c for c in started.values()) >= 3       # server + 2 workers
        assert any("resource_tracker" in c for c in started.values())
        proc.send_signal(sig)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _session(sid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session(sid) == {}
    finally:
        for pid in _session(sid):   # (only if the test failed: leave nothing running)
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_absurd_pool_sizes_are_refused(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert parse_executor(f"processes:{2 * _executors.WORKERS_PER_CPU}") == (
        "processes", {"max_workers": 2 * _executors.WORKERS_PER_CPU})
    with pytest.raises(ExecutorSpecError, match=r"asks for 9999 worker processes; at most 8 "
                                                r"\(4 per CPU, 2 CPUs here\)"):
        parse_executor("processes:9999")
    code = main(["reproduce", "orders", "--quick", "--executor", "processes:9999",
                 "--out", str(tmp_path)], out=io.StringIO())
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "at most 8" in err
    assert os.listdir(tmp_path) == []


_SLEEPY_STUDY = """
import sys, time
from integrallimits.studies import run_cells
from integrallimits.studies._executors import open_executor
try:
    with open_executor(sys.argv[1]) as executor:
        # two short cells finish and are stored; then cells of a minute each
        run_cells("sleepy", [0.1, 0.2, 60.0, 61.0, 62.0, 63.0], time.sleep, sys.argv[2], executor)
    print("finished", flush=True)
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
"""


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc to list processes")
@pytest.mark.parametrize("spec", ["serial", "processes:2"])
def test_ctrl_c_stops_a_study_at_once_and_keeps_the_finished_cells(spec, tmp_path):
    """Ctrl-C (SIGINT to the terminal's process group) while cells of a minute run: the
    study raises KeyboardInterrupt at once (not after the running and queued cells), no
    process stays behind, and the cells folder holds the finished cells and nothing else."""
    from integrallimits.studies._runner import load_cells

    cells = tmp_path / "cells"
    proc = subprocess.Popen([sys.executable, "-c", _SLEEPY_STUDY, spec, str(cells)],
                            start_new_session=True, stdout=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    try:
        deadline = time.monotonic() + 120
        while (not cells.is_dir() or len(os.listdir(cells)) < 2) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)                                   # the long cells are running now
        assert proc.poll() is None
        os.killpg(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        out, _ = proc.communicate(timeout=60)
        waited = time.monotonic() - sent
        assert out.split() == ["KeyboardInterrupt"]
        assert waited < 30            # (the running cells would hold it for a minute or more)
        deadline = time.monotonic() + 30
        while _session(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _session(proc.pid) == {}
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert sorted(r["args"] for r in load_cells(cells)) == [0.1, 0.2]
    assert len(os.listdir(cells)) == 2


@pytest.mark.parametrize("name, kwargs", [
    ("orders", {"methods": ["trapezoid"], "problems": ["exp-square"]}),
    ("state-space", {}), ("resolution-limit", {"operators": ["nystrom"], "rules": ["trapezoid"]}),
])
def test_an_executor_without_submit_is_refused_naming_what_it_must_be(name, kwargs):
    """executor="processes" (the command line's text) failed at the first cell with
    "'str' object has no attribute 'submit'" (or 'map')."""
    from integrallimits.studies import STUDIES
    with pytest.raises(TypeError, match=r"^executor must be a concurrent.futures.Executor .*"
                                        r"got str 'processes'"):
        STUDIES[name](quick=True, executor="processes", **kwargs)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"quick": "no"}, TypeError, "quick must be True or False"),
    ({"quick": True, "seed": "a"}, TypeError, "seed must be an integer >= 0"),
    ({"quick": True, "seed": -1}, ValueError, "seed must be an integer >= 0"),
])
def test_a_study_refuses_a_quick_or_seed_of_the_wrong_kind(kwargs, error, match):
    """STUDIES' functions took quick="no" (truthy: the quick mode ran) and seed="a" (the orders
    study draws nothing) as reproduce() refuses them."""
    from integrallimits.studies import STUDIES
    with pytest.raises(error, match=match):
        STUDIES["orders"](methods=["trapezoid"], problems=["exp-square"], **kwargs)
    with pytest.raises(error, match=match):     # (positional arguments are read alike)
        STUDIES["orders"](kwargs["quick"], kwargs.get("seed", 0), methods=["trapezoid"],
                          problems=["exp-square"])


def test_a_misspelt_study_argument_names_the_study():
    """STUDIES["orders"](quik=True) said "got an unexpected keyword argument 'quik'" with no
    function's name (the arguments are bound before the study runs)."""
    from integrallimits.studies import STUDIES
    with pytest.raises(TypeError, match=r"^orders\(\) got an unexpected keyword argument "
                                        r"'quik'$"):
        STUDIES["orders"](quik=True)


class _SubmitOnly:
    """The least an executor must have (check_executor's contract): ``submit``, no ``map``."""

    def __init__(self):
        self.calls = 0

    def submit(self, function, *args):
        import concurrent.futures
        self.calls += 1
        future = concurrent.futures.Future()
        future.set_result(function(*args))
        return future


@pytest.mark.parametrize("name, kwargs", [
    ("state-space", {}),
    ("resolution-limit", {"operators": ["nystrom"], "rules": ["trapezoid"]}),
])
def test_the_studies_run_on_an_executor_with_submit_only(name, kwargs):
    """check_executor accepts anything with ``submit``, but resolution-limit called
    ``executor.map``: an AttributeError.  They map their calls with one helper
    (map_calls) now, giving the serial run's rows."""
    from integrallimits.studies import STUDIES
    study = STUDIES[name]
    executor = _SubmitOnly()
    res = study(quick=True, executor=executor, **kwargs)
    assert executor.calls > 0
    serial = study(quick=True, **kwargs)

    def table(rows):    # (repr: NaN marks "no order", and nan != nan)
        return repr([{k: v for k, v in r.items() if k != "seconds"} for r in rows])
    assert table(res.rows) == table(serial.rows)


def test_map_calls_cancels_the_rest_and_raises_the_first_error():
    from integrallimits.studies._runner import map_calls

    class Later:        # futures that run when their result is asked for
        def submit(self, function, *args):
            import concurrent.futures
            future = concurrent.futures.Future()
            future.run = lambda: future.set_result(function(*args))
            real = future.result

            def result(timeout=None):
                if not future.done():
                    try:
                        future.run()
                    except Exception as exc:   # as a pool reports it
                        future.set_exception(exc)
                return real(timeout)
            future.result = result
            return future

    ran = []

    def f(x):
        ran.append(x)
        return 1 / x

    with pytest.raises(ZeroDivisionError):
        map_calls(f, [1, 0, 2], executor=Later())
    assert ran == [1, 0]
    assert map_calls(f, [1, 2], executor=Later()) == [1.0, 0.5]
    assert map_calls(divmod, [7, 9], [2, 4]) == [(3, 1), (2, 1)]


@pytest.mark.parametrize("text", ["processes:0", "processes:00", "processes:-2", "processes:x"])
def test_pool_sizes_below_one_are_refused_with_one_message(text):
    """processes:0 and processes:-2 were refused with two messages (and processes:00 was shown
    as 'processes:0'): one message, with the text as given."""
    with pytest.raises(ExecutorSpecError) as info:
        parse_executor(text)
    assert str(info.value) == ("executor must be 'serial', 'processes', 'processes:N' with "
                               f"N >= 1, or 'dask://HOST:PORT'; refused {text!r}")


@pytest.mark.parametrize("workers", ["99999", "0099999", "9" * 5000])
def test_pool_sizes_of_five_digits_or_more_are_refused_as_too_many(monkeypatch, workers):
    """processes:99999 (more than four digits) was refused as a text that is no executor
    ("executor must be 'serial', 'processes', ..."), where processes:9999 said that it asks
    for too many workers; 5000 digits are not converted (int() refuses them)."""
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    with pytest.raises(ExecutorSpecError, match=r"worker processes; at most 8 \(4 per CPU, 2 "
                                                r"CPUs here\) are accepted$") as info:
        parse_executor(f"processes:{workers}")
    assert len(str(info.value)) < 200
    assert parse_executor("processes:02") == ("processes", {"max_workers": 2})


def test_a_cache_dir_that_is_a_file_is_refused_before_any_cell_runs(tmp_path):
    """run_cells with cache_dir naming a file computed the first cell, then raised a bare
    FileExistsError while storing it; it is refused first, naming cache_dir, and the file is
    left as it was."""
    from integrallimits.studies import run_cells
    path = tmp_path / "cells"
    path.write_text("mine")
    ran = []

    def cell(x):
        ran.append(x)
        return x

    with pytest.raises(NotADirectoryError, match="cache_dir must be a folder"):
        run_cells("demo", [1, 2], cell, path)
    assert ran == [] and path.read_text() == "mine"
