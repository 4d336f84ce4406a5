"""`integrallimits reproduce`: every study writes its files; runs resume after a kill; executors
(process pool, Dask) give the serial rows; text that is not a study or executor is refused."""
import io
import json
import os
import signal
import subprocess
import sys

import pytest

from integrallimits.cli import main
from integrallimits.studies import STUDIES
from integrallimits.studies._executors import ExecutorSpecError, open_executor, parse_executor
from integrallimits.studies._reproduce import reproduce
from integrallimits.studies._runner import cell_key, load_cells, run_cells

import tiny_studies

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False


def run(argv):
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


@pytest.mark.parametrize("name", list(STUDIES))
def test_each_study_quick_writes_table_figures_and_manifest(name, tmp_path, monkeypatch):
    tiny_studies.shrink(monkeypatch, name)     # (the expensive ones: their own tests check them)
    result, manifest = reproduce(name, tmp_path, quick=True, seed=0)
    folder = tmp_path / name
    assert result.rows, f"{name} produced no rows"
    table = json.loads((folder / "table.json").read_text())
    assert table["rows"] == json.loads(json.dumps(result.rows))
    assert (folder / "table.md").read_text().startswith("| ")
    assert (folder / "table.csv").read_text().splitlines()[0] == ",".join(result.columns)
    written = json.loads((folder / "manifest.json").read_text())
    assert written["study"] == name and written["seed"] == 0 and written["quick"] is True
    assert written["package"]["name"] == "integrallimits" and written["dependencies"]["numpy"]
    assert written["platform"]["python"] and written["timings"]["wall_seconds"] >= 0
    assert written["cells"]["total"] >= 1 and written["cells"]["computed"] == written["cells"]["total"]
    pngs = sorted(p.name for p in folder.glob("*.png"))
    if HAVE_MATPLOTLIB:
        assert set(pngs) == {k for k in written["files"] if k.endswith(".png")}
    else:
        assert pngs == []


def test_run_cells_stores_each_cell_and_skips_stored_ones(tmp_path):
    calls = []

    def record(args):          # a closure: fine in-process (no executor)
        calls.append(args)
        return {"x": args[0] ** 2, "t": (1, 2)}

    cells = [[k] for k in range(4)]
    first = run_cells("demo", cells, record, tmp_path)
    assert first == [{"x": k * k, "t": [1, 2]} for k in range(4)] and len(calls) == 4
    assert sorted(os.listdir(tmp_path)) == sorted(cell_key(record, c) + ".json" for c in cells)
    os.unlink(tmp_path / (cell_key(record, [2]) + ".json"))
    second = run_cells("demo", cells, record, tmp_path)
    assert second == first and calls[4:] == [[2]]
    assert [r["args"] for r in load_cells(tmp_path)] == sorted(
        ([c] for c in range(4)), key=lambda c: cell_key(record, c))


_KILLED_AFTER_THREE_CELLS = """
import os, signal, sys
from integrallimits.cli import main
from integrallimits.studies import _runner

write = _runner.atomic_write
stored = []

def write_then_die(path, text):       # SIGKILL right after the third cell is stored
    write(path, text)
    stored.append(path)
    if len(stored) == 3:
        os.kill(os.getpid(), signal.SIGKILL)

_runner.atomic_write = write_then_die
sys.exit(main(sys.argv[1:]))
"""


def test_kill_and_resume_loses_nothing_and_recomputes_nothing(tmp_path):
    """The run is killed (SIGKILL, no cleanup) at a fixed point, right after its third cell
    is stored, not after a timed wait: no race with the run finishing first."""
    out = tmp_path / "out"
    cells_dir = out / "orders" / "cells"
    proc = subprocess.run([sys.executable, "-c", _KILLED_AFTER_THREE_CELLS, "reproduce", "orders",
                           "--quick", "--out", str(out)], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    done = {f: (cells_dir / f).stat().st_mtime_ns for f in os.listdir(cells_dir)
            if f.endswith(".json") and not f.startswith(".")}
    assert len(done) == 3
    assert not (out / "orders" / "table.json").exists()

    code, _ = run(["reproduce", "orders", "--quick", "--out", str(out)])
    assert code == 0
    manifest = json.loads((out / "orders" / "manifest.json").read_text())
    total = manifest["cells"]["total"]
    assert len(done) < total
    assert manifest["cells"]["reused"] == len(done)
    assert manifest["cells"]["computed"] == total - len(done)
    for f, mtime in done.items():     # finished cells were read, not recomputed or rewritten
        assert (cells_dir / f).stat().st_mtime_ns == mtime

    fresh, _ = reproduce("orders", tmp_path / "fresh", quick=True, figures=False)
    resumed = json.loads((out / "orders" / "table.json").read_text())
    assert resumed["rows"] == json.loads(json.dumps(fresh.rows))
    assert (out / "orders" / "table.csv").read_text() == (tmp_path / "fresh" / "orders" /
                                                           "table.csv").read_text()
    # a second rerun computes nothing
    code, _ = run(["reproduce", "orders", "--quick", "--out", str(out)])
    manifest = json.loads((out / "orders" / "manifest.json").read_text())
    assert code == 0 and manifest["cells"]["computed"] == 0


def test_process_pool_gives_the_serial_rows(tmp_path):
    serial = STUDIES["forward-limit"](quick=True)
    with open_executor("processes:2") as pool:
        pooled = STUDIES["forward-limit"](quick=True, executor=pool, cache_dir=tmp_path)
    assert json.loads(json.dumps(pooled.rows)) == json.loads(json.dumps(serial.rows))
    assert len(load_cells(tmp_path)) == 6


def test_dask_cluster_gives_the_serial_rows(tmp_path):
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    methods, problems = ["trapezoid", "gauss2", "rk4"], ["exp-square", "vector"]
    serial = STUDIES["orders"](quick=True, methods=methods, problems=problems)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://127.0.0.1:")
        spec = "dask://" + address[len("tcp://"):]
        with open_executor(spec) as executor:
            distributed = STUDIES["orders"](quick=True, methods=methods, problems=problems,
                                            executor=executor, cache_dir=tmp_path / "cells")
        assert json.loads(json.dumps(distributed.rows)) == json.loads(json.dumps(serial.rows))
        # and through the command line
        code, text = run(["reproduce", "relu-convergence", "--quick", "--executor", spec,
                          "--out", str(tmp_path / "cli")])
        assert code == 0, text
    manifest = json.loads((tmp_path / "cli" / "relu-convergence" / "manifest.json").read_text())
    assert manifest["executor"] == spec
    assert (json.loads((tmp_path / "cli" / "relu-convergence" / "table.json").read_text())["rows"]
            == json.loads(json.dumps(STUDIES["relu-convergence"](quick=True).rows)))


@pytest.mark.parametrize("evil", ["__import__('os').system('echo hacked')", "orders; rm -rf /",
                                  "../../etc/passwd", "ORDERS", "orders\n"])
def test_code_passed_as_a_study_name_is_refused(evil, tmp_path, capsys):
    code, _ = run(["reproduce", evil, "--out", str(tmp_path)])
    assert code == 2
    assert capsys.readouterr().err.startswith("integrallimits: error: unknown study")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("evil", ["__import__('os').system('echo hacked')", "dask://$(touch x):1",
                                  "dask://host:99999", "processes:0", "threads", "dask://a b:1",
                                  "exec('1')"])
def test_code_passed_as_an_executor_is_refused(evil, tmp_path, capsys):
    with pytest.raises(ExecutorSpecError):
        parse_executor(evil)
    code, _ = run(["reproduce", "orders", "--quick", "--executor", evil, "--out", str(tmp_path)])
    assert code == 2
    assert "executor must be" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("existing", [False, True])
def test_an_executor_that_cannot_be_opened_leaves_no_folder_behind(existing, tmp_path, capsys,
                                                                    monkeypatch):
    """--out was made before the executor was opened: a scheduler that does not answer left an
    empty folder the command had made; a folder that was there before is kept."""
    from integrallimits.studies import _executors

    def unreachable(text):
        raise OSError("Timed out trying to connect")
    monkeypatch.setattr(_executors, "open_executor", unreachable)
    out = tmp_path / "out"
    if existing:
        out.mkdir()
    code, _ = run(["reproduce", "orders", "--quick", "--executor", "dask://nohost.invalid:1",
                   "--out", str(out)])
    assert code == 2
    assert "cannot open executor" in capsys.readouterr().err
    assert out.exists() == existing and (not existing or os.listdir(out) == [])


def test_executor_texts_accepted():
    assert parse_executor("serial") == ("serial", {})
    assert parse_executor("processes") == ("processes", {"max_workers": None})
    assert parse_executor("dask://scheduler.example.org:8786") == (
        "dask", {"address": "tcp://scheduler.example.org:8786"})


@pytest.mark.parametrize("seed, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError),
                                         ("3", TypeError)])
def test_a_seed_that_is_not_an_integer_from_zero_is_refused_before_writing(seed, error, tmp_path):
    """numpy's generators take integers >= 0: -1 failed inside each seeded study ("expected
    non-negative integer", naming no argument) after its folders were made, and 1.5 was stored
    under the cells of seed 1."""
    with pytest.raises(error, match="seed must be an integer >= 0"):
        reproduce("relu-convergence", tmp_path, quick=True, seed=seed, figures=False)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("flags", [{"quick": "no"}, {"quick": 1}, {"figures": "False"}])
def test_quick_and_figures_must_be_booleans(flags, tmp_path):
    """A string is truthy: quick="no" ran the quick mode (and recorded quick: true)."""
    name = next(iter(flags))
    with pytest.raises(TypeError, match=f"{name} must be True or False"):
        reproduce("relu-convergence", tmp_path, **{"quick": True, "figures": False, **flags})
    assert os.listdir(tmp_path) == []


def test_cli_seed_below_zero_is_one_line_and_status_2(tmp_path, capsys):
    code, _ = run(["reproduce", "adjoint-agreement", "--quick", "--seed", "-1", "--out",
                   str(tmp_path)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "--seed" in err[0]
    assert "must be an integer >= 0, got -1" in err[0]
    assert os.listdir(tmp_path) == []
