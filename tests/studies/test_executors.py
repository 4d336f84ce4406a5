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
