"""What `reproduce` and run_cells write and delete (issue 17): only their own files, safely
when several runs share a folder, with the user's umask; stored cells are used only if they
are cell records of the same code with a matching checksum, and foreign files are left alone."""
import json
import os
import subprocess
import sys

import pytest

from integrallimits.studies import _reproduce, _runner
from integrallimits.studies._reproduce import reproduce
from integrallimits.studies._runner import cell_key, code_fingerprint, load_cells, run_cells

try:
    from matplotlib.figure import Figure
except ImportError:
    Figure = None
needs_matplotlib = pytest.mark.skipif(Figure is None, reason="needs matplotlib")

CALLS = []


def square(args):
    CALLS.append(args)
    return {"x": args[0] ** 2}


def _cells(folder):
    return {name: (folder / name).read_text() for name in os.listdir(folder)
            if (folder / name).is_file()}


def test_cells_of_the_wrong_shape_are_recomputed_and_foreign_files_left_alone(tmp_path):
    cells = [[k] for k in range(6)]
    expected = [{"x": k * k} for k in range(6)]
    CALLS.clear()
    assert run_cells("demo", cells, square, tmp_path) == expected and len(CALLS) == 6
    path = [tmp_path / (cell_key(square, c) + ".json") for c in cells]
    path[0].write_text("[1, 2, 3]")                                  # valid JSON, not a record
    record = json.loads(path[1].read_text())
    del record["result"]
    path[1].write_text(json.dumps(record))                           # a record without result
    record = json.loads(path[2].read_text())
    record["result"]["x"] = 5
    path[2].write_text(json.dumps(record))                           # a result that fails the checksum
    path[3].write_text(json.dumps({**json.loads(path[3].read_text()), "code": "other"}))  # other code
    path[4].unlink()
    path[4].mkdir()                                                  # a directory in the way
    (path[4] / "keep.txt").write_text("mine")
    (tmp_path / "notes.json").write_text('{"my": "notes"}')          # the user's own files
    (tmp_path / "list.json").write_text("[1, 2, 3]")
    CALLS.clear()
    with pytest.warns(RuntimeWarning, match="is not stored: .* is a directory"):
        assert run_cells("demo", cells, square, tmp_path) == expected
    assert sorted(CALLS) == [[0], [1], [2], [3], [4]]               # cell 5 was read back
    assert (path[4] / "keep.txt").read_text() == "mine"
    assert (tmp_path / "notes.json").read_text() == '{"my": "notes"}'
    assert (tmp_path / "list.json").read_text() == "[1, 2, 3]"
    assert [r["key"] for r in load_cells(tmp_path)] == sorted(
        cell_key(square, c) for c in cells if c != [4])
    CALLS.clear()
    with pytest.warns(RuntimeWarning):
        run_cells("demo", cells, square, tmp_path)
    assert CALLS == [[4]]                                            # only the unstorable one


def test_cells_are_keyed_on_the_code_and_the_library_versions(tmp_path, monkeypatch):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "study.py").write_text("def cell(args):\n    return 1\n")
    first = code_fingerprint.__wrapped__(str(pkg))
    assert code_fingerprint.__wrapped__(str(pkg)) == first
    (pkg / "study.py").write_text("def cell(args):\n    return 2\n")    # the study changed
    assert code_fingerprint.__wrapped__(str(pkg)) != first
    changed = code_fingerprint.__wrapped__(str(pkg))
    from importlib import metadata
    real = metadata.version
    monkeypatch.setattr(metadata, "version",
                        lambda d: "0.0.1" if d == "numba" else real(d))   # another Numba
    assert code_fingerprint.__wrapped__(str(pkg)) != changed
    monkeypatch.undo()

    CALLS.clear()
    run_cells("demo", [[3]], square, tmp_path / "cells")
    monkeypatch.setattr(_runner, "code_fingerprint", lambda: "other code")
    assert cell_key(square, [3]) != (os.listdir(tmp_path / "cells")[0])[:-5]
    run_cells("demo", [[3]], square, tmp_path / "cells")
    assert CALLS == [[3], [3]]                                       # not reused by other code


def _draw(names):
    def figures(name, result):
        out = {}
        for fig_name in names:
            fig = Figure(figsize=(1, 1))
            fig.add_subplot().plot([0, 1], [0, len(fig_name)])
            out[fig_name] = fig
        return out
    return figures


@needs_matplotlib
def test_reproduce_deletes_only_the_figures_it_wrote(tmp_path, monkeypatch):
    folder = tmp_path / "relu-convergence"
    folder.mkdir()
    (folder / "mine.png").write_bytes(b"\x89PNG the user's own figure")
    monkeypatch.setattr(_reproduce, "study_figures", _draw(["a", "b", "c"]))
    _, manifest = reproduce("relu-convergence", tmp_path, quick=True)
    assert {"a.png", "b.png", "c.png"} <= set(manifest["files"])
    (folder / "c.png").write_bytes(b"\x89PNG edited by the user")   # no longer what we wrote
    monkeypatch.setattr(_reproduce, "study_figures", _draw(["a"]))
    _, manifest = reproduce("relu-convergence", tmp_path, quick=True)
    assert sorted(p.name for p in folder.glob("*.png")) == ["a.png", "c.png", "mine.png"]
    assert (folder / "mine.png").read_bytes() == b"\x89PNG the user's own figure"
    assert "b.png" not in manifest["files"] and "c.png" not in manifest["files"]


@needs_matplotlib
def test_outputs_honour_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        reproduce("relu-convergence", tmp_path, quick=True)
    finally:
        os.umask(old)
    folder = tmp_path / "relu-convergence"
    written = [p for p in folder.rglob("*") if p.is_file() and p.name != ".lock"]
    assert {p.name for p in written} >= {"table.md", "table.csv", "table.json", "manifest.json",
                                         "relu-convergence.png"}
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in written} == {
        p.name: "0o640" for p in written}


def test_a_table_no_run_wrote_is_not_replaced(tmp_path):
    """``out/name/table.md`` of the user's own (no manifest lists it) stops the run before the
    study computes anything, and is left as it was (it was replaced)."""
    folder = tmp_path / "relu-convergence"
    folder.mkdir()
    (folder / "table.md").write_text("the user's own notes")
    with pytest.raises(FileExistsError, match="table.md, which no earlier run"):
        reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    assert (folder / "table.md").read_text() == "the user's own notes"
    assert not any((folder / "cells").iterdir()) and not (folder / "manifest.json").exists()
    (folder / "table.md").unlink()
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    (folder / "table.md").write_text("edited after the run")     # ours, listed: rewritten
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    assert (folder / "table.md").read_text().startswith("|")


def test_a_manifest_no_run_wrote_is_not_replaced(tmp_path):
    """``out/name/manifest.json`` of the user's own (not a manifest of this study) stops the run
    before the study computes anything and is left as it was (it was replaced, silently)."""
    folder = tmp_path / "relu-convergence"
    folder.mkdir()
    for text in ('{"my": "notes"}', "not JSON", '{"study": "orders", "files": {}}'):
        (folder / "manifest.json").write_text(text)
        with pytest.raises(FileExistsError, match="manifest.json, which is not the manifest"):
            reproduce("relu-convergence", tmp_path, quick=True, figures=False)
        assert (folder / "manifest.json").read_text() == text
        assert not (folder / "table.md").exists()
    (folder / "manifest.json").unlink()
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)   # its own: rewritten
    assert json.loads((folder / "manifest.json").read_text())["study"] == "relu-convergence"


def test_a_rewritten_output_keeps_its_permissions(tmp_path):
    """A table the user made private (0600) or read-only stays so when a rerun replaces it (the
    replacement had the umask's mode)."""
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    folder = tmp_path / "relu-convergence"
    os.chmod(folder / "table.md", 0o600)
    os.chmod(folder / "table.csv", 0o444)
    reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    assert oct((folder / "table.md").stat().st_mode & 0o777) == "0o600"
    assert oct((folder / "table.csv").stat().st_mode & 0o777) == "0o444"


_RUN = """
import os, sys, traceback
from integrallimits.studies._reproduce import reproduce
import matplotlib.figure                  # (imported once, before the runs fork)
children = []
for _ in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            reproduce("relu-convergence", sys.argv[1], quick=True)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    children.append(pid)
sys.exit(sum(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0 for pid in children))
"""


@needs_matplotlib
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the four runs are forked")
def test_concurrent_runs_into_one_folder(tmp_path):
    """Four processes run the same study into one folder at once: all succeed, leave the
    user's PNG and notes alone and no temporary file behind, and the manifest describes the
    files there."""
    folder = tmp_path / "relu-convergence"
    folder.mkdir()
    (folder / "mine.png").write_bytes(b"\x89PNG the user's own figure")
    (folder / "notes.json").write_text('["mine"]')
    run = subprocess.run([sys.executable, "-c", _RUN, str(tmp_path)], capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (folder / "mine.png").read_bytes() == b"\x89PNG the user's own figure"
    assert (folder / "notes.json").read_text() == '["mine"]'
    left = [p.name for p in folder.rglob(".tmp-*")]
    assert left == []
    manifest = json.loads((folder / "manifest.json").read_text())
    assert "relu-convergence.png" in manifest["files"]
    for name, digest in manifest["files"].items():
        assert _reproduce._sha256(folder / name) == digest
    assert manifest["cells"]["total"] == 2


def test_manifest_counts_the_cells_of_this_run_only(tmp_path):
    """The cells folder keeps the cells of every seed: the run with seed 1 after one with seed
    0 said "4 cells (2 reused)" in its manifest and on the command line, while it computed its
    2 cells and reused none (the 2 "reused" were seed 0's, which it never read)."""
    counts = []
    for seed in (0, 1, 1, 0):
        _, manifest = reproduce("relu-convergence", tmp_path, quick=True, seed=seed, figures=False)
        cells = manifest["cells"]
        counts.append((cells["total"], cells["computed"], cells["reused"]))
        assert set(manifest["timings"]["cell_seconds"]) == {
            r["key"] for r in load_cells(tmp_path / "relu-convergence" / "cells")
            if r["args"][-1] == seed}
    assert counts == [(2, 2, 0), (2, 2, 0), (2, 0, 2), (2, 0, 2)]


@pytest.mark.parametrize("writer", ["to_csv", "to_json"])
def test_table_writers_refuse_a_folder_and_do_not_make_one(tmp_path, writer, monkeypatch):
    """to_csv(".") gave an OSError "Device or resource busy" on the rename of a temporary file
    onto "."; to_csv("nope/x.csv") made the folder nope.  As numpy.savetxt and
    DataFrame.to_csv: a folder is an IsADirectoryError, a missing folder a FileNotFoundError
    (nothing made, no temporary file left)."""
    from integrallimits.studies import StudyResult
    result = StudyResult("t", [{"a": 1}])
    monkeypatch.chdir(tmp_path)
    for folder in (".", str(tmp_path), "sub"):
        os.makedirs(folder, exist_ok=True)
        with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
            getattr(result, writer)(folder)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        getattr(result, writer)(os.path.join("nope", "x.csv"))
    assert sorted(os.listdir(tmp_path)) == ["sub"] and os.listdir("sub") == []
    text = getattr(result, writer)(os.path.join("sub", "x"))
    assert (tmp_path / "sub" / "x").read_bytes().decode() == text


@pytest.mark.parametrize("writer", ["to_csv", "to_json"])
def test_table_writers_keep_a_symbolic_link(tmp_path, writer):
    """to_csv("link.csv"), link.csv a symbolic link to the user's file, renamed the new table
    onto the link: the link was replaced by a file and its target kept the old table.  The
    target is written (atomically), the link kept, as the command line's --out does; a
    dangling link's target is made; a link to a folder is refused as a folder."""
    from integrallimits.studies import StudyResult
    result = StudyResult("t", [{"a": 1}])
    (tmp_path / "target.csv").write_text("old\n")
    (tmp_path / "link.csv").symlink_to("target.csv")
    text = getattr(result, writer)(tmp_path / "link.csv")
    assert (tmp_path / "link.csv").is_symlink()
    assert (tmp_path / "target.csv").read_bytes().decode() == text
    (tmp_path / "dangling.csv").symlink_to("made.csv")
    getattr(result, writer)(str(tmp_path / "dangling.csv"))
    assert (tmp_path / "dangling.csv").is_symlink()
    assert (tmp_path / "made.csv").read_bytes().decode() == text
    (tmp_path / "sub").mkdir()
    (tmp_path / "to-folder").symlink_to("sub")
    with pytest.raises(IsADirectoryError):
        getattr(result, writer)(tmp_path / "to-folder")
    assert sorted(os.listdir(tmp_path)) == ["dangling.csv", "link.csv", "made.csv", "sub",
                                            "target.csv", "to-folder"]
    assert os.listdir(tmp_path / "sub") == []


def _interrupted_on_figures(monkeypatch):
    """Figures "a" and "b"; a.png is written, Ctrl-C while b.png is."""
    def save(fig, path):
        if fig == "b":
            raise KeyboardInterrupt
        with open(path, "wb") as fh:
            fh.write(b"\x89PNG figure " + fig.encode())

    monkeypatch.setattr(_reproduce, "study_figures", lambda name, result: {"a": "a", "b": "b"})
    monkeypatch.setattr(_reproduce, "save_figure", save)


def test_a_run_stopped_while_writing_leaves_its_manifest_marked_incomplete(tmp_path,
                                                                          monkeypatch):
    """Ctrl-C between the tables and the manifest left the tables of seed 1 beside the manifest
    of the seed-0 run (its seed, checksums that no longer match): the folder looked complete.
    The manifest now says "complete": false until every output is written."""
    folder = tmp_path / "relu-convergence"
    _, first = reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    assert first["complete"] is True
    with monkeypatch.context() as patch:
        _interrupted_on_figures(patch)
        with pytest.raises(KeyboardInterrupt):
            reproduce("relu-convergence", tmp_path, quick=True, seed=1)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert json.loads((folder / "table.json").read_text())["params"]["seed"] == 1
    assert manifest["complete"] is False and manifest["seed"] == 1
    for name, digest in manifest["files"].items():     # what is there
        assert digest == _reproduce._sha256(folder / name), name
    assert "a.png" in manifest["files"] and "b.png" not in manifest["files"]
    _, again = reproduce("relu-convergence", tmp_path, quick=True, seed=1, figures=False)
    assert again["complete"] is True and again["seed"] == 1
    assert not (folder / "a.png").exists()              # ours, listed, not drawn again


def test_a_first_run_stopped_while_writing_can_be_rerun(tmp_path, monkeypatch):
    """The tables of a first run stopped before its manifest was written were taken for the
    user's files: the rerun refused to replace them ("which no earlier run of this study
    wrote") and the user had to delete what the package wrote."""
    folder = tmp_path / "relu-convergence"
    with monkeypatch.context() as patch:
        _interrupted_on_figures(patch)
        with pytest.raises(KeyboardInterrupt):
            reproduce("relu-convergence", tmp_path, quick=True)
    assert (folder / "table.md").exists()
    assert json.loads((folder / "manifest.json").read_text())["complete"] is False
    _, manifest = reproduce("relu-convergence", tmp_path, quick=True, figures=False)
    assert manifest["complete"] is True and set(manifest["files"]) == {
        "table.md", "table.csv", "table.json"}


def _figures_saved(monkeypatch):
    def save(fig, path):
        with open(path, "wb") as fh:
            fh.write(b"\x89PNG figure " + fig.encode())

    monkeypatch.setattr(_reproduce, "study_figures", lambda name, result: {"a": "a", "b": "b"})
    monkeypatch.setattr(_reproduce, "save_figure", save)


def test_a_file_put_where_an_interrupted_run_had_not_written_is_not_replaced(tmp_path,
                                                                             monkeypatch):
    """A run stopped while it wrote a.png listed every output it had not yet written as null
    ("ours, content unknown"): a file the user then put at b.png was replaced by the next run
    (fails on main).  Now only what the run wrote (or was writing) is listed, and the rerun
    stops naming b.png, which it leaves as it was."""
    folder = tmp_path / "relu-convergence"
    with monkeypatch.context() as patch:
        _interrupted_on_figures(patch)
        with pytest.raises(KeyboardInterrupt):
            reproduce("relu-convergence", tmp_path, quick=True)
    (folder / "b.png").write_bytes(b"the user's own figure")
    with monkeypatch.context() as patch:
        _figures_saved(patch)
        with pytest.raises(FileExistsError, match=r"holds b\.png, which no earlier run"):
            reproduce("relu-convergence", tmp_path, quick=True)
    assert (folder / "b.png").read_bytes() == b"the user's own figure"


@pytest.mark.parametrize("renamed", [False, True])
def test_the_file_a_stopped_run_was_writing_is_its_own_while_it_holds_what_it_wrote(
        tmp_path, monkeypatch, renamed):
    """Ctrl-C just before (or just after) b.png was renamed onto its name: the manifest lists
    b.png with the checksums of what it may hold, and a rerun replaces it; a file the user
    puts there instead is refused (the rerun named it "ours")."""
    folder = tmp_path / "relu-convergence"
    rename = _reproduce.replace_keeping_mode

    def stopped(tmp, path):
        if path.endswith("b.png"):
            if renamed:
                rename(tmp, path)
            raise KeyboardInterrupt
        rename(tmp, path)

    with monkeypatch.context() as patch:
        _figures_saved(patch)
        patch.setattr(_reproduce, "replace_keeping_mode", stopped)
        with pytest.raises(KeyboardInterrupt):
            reproduce("relu-convergence", tmp_path, quick=True)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["complete"] is False and len(manifest["files"]["b.png"]) == 1
    assert (folder / "b.png").exists() is renamed
    with monkeypatch.context() as patch:
        _figures_saved(patch)
        _, again = reproduce("relu-convergence", tmp_path, quick=True)
    assert again["complete"] is True and again["files"]["b.png"] == _reproduce._sha256(
        folder / "b.png")
    (folder / "b.png").unlink()
    with monkeypatch.context() as patch:
        _figures_saved(patch)
        patch.setattr(_reproduce, "replace_keeping_mode", stopped)
        with pytest.raises(KeyboardInterrupt):
            reproduce("relu-convergence", tmp_path, quick=True)
    if not renamed:
        (folder / "b.png").write_bytes(b"the user's own figure")
        with monkeypatch.context() as patch:
            _figures_saved(patch)
            with pytest.raises(FileExistsError, match=r"holds b\.png"):
                reproduce("relu-convergence", tmp_path, quick=True)
        assert (folder / "b.png").read_bytes() == b"the user's own figure"
