"""The command line: the built-in example, user expressions, refusal of code."""
import io
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from integrallimits.cli import main


def run(argv):
    out = io.StringIO()
    code = main(argv, out=out)
    return code, out.getvalue()


def test_solve_with_expressions_prints_errors_and_orders(tmp_path):
    path = tmp_path / "sol.csv"
    code, text = run(["solve", "--kernel", "exp(-(t-s))*y**2", "--forcing", "exp(-2*t)",
                      "--exact", "exp(-t)", "--method", "trapezoid", "--steps", "64", "--orders",
                      "--out", str(path)])
    assert code == 0
    orders = [float(line.split()[-1]) for line in text.splitlines()[3:] if line.split()
              and line.split()[0].isdigit()]
    assert orders and all(abs(o - 2.0) < 0.1 for o in orders[1:])
    assert path.read_text().startswith("t,y")


@pytest.mark.parametrize("evil", ["__import__('os').system('ls')", "().__class__", "y[0]",
                                  "lambda: 1", "open('x')"])
def test_code_in_an_expression_is_refused(evil, capsys):
    code, _ = run(["solve", "--kernel", evil, "--forcing", "1"])
    assert code == 2
    assert capsys.readouterr().err.startswith("integrallimits: error: --kernel: ")


# -- errors a user can read: one line on stderr, exit status 2 (usage) or 1 (runtime) -----

SOLVE = ["solve", "--kernel", "exp(-(t-s))*y**2", "--forcing", "exp(-2*t)"]


def one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("integrallimits: error: "), err
    assert "Traceback" not in err[0]
    return err[0]


@pytest.mark.parametrize("argv, code, says", [
    (SOLVE + ["--method", "nosuch"], 2, "unknown method 'nosuch'"),
    (SOLVE + ["--method", "midpoint"], 2, "first-kind equations"),
    (["solve", "--method", "nosuch"], 2, "unknown method"),
    (SOLVE + ["--steps", "1"], 2, "needs at least 5"),
    (SOLVE + ["--T", "-1"], 2, "greater than the start"),
    (SOLVE + ["--T", "0"], 2, "greater than the start"),
    (SOLVE + ["--T", "nan"], 2, "finite"),
    (SOLVE + ["--T", "inf"], 2, "finite"),
    (SOLVE + ["--t-span", "1", "1"], 2, "greater than the start"),
    (SOLVE + ["--T", "2", "--t-span", "0", "1"], 2, "both give the interval"),   # (was: T = 2)
    (SOLVE + ["--t-span", "0", "1", "--T", "2"], 2, "both give the interval"),
    (SOLVE + ["--steps", "1000000000"], 2, "too many"),
    (SOLVE + ["--steps", "0"], 2, "--steps must be >= 1"),
    (SOLVE + ["--steps", "many"], 2, "invalid int value"),
    (SOLVE + ["--out", "/nonexistent-folder/y.csv"], 2, "does not exist"),
    (SOLVE + ["--out", "/dev/null/y.csv"], 2, "the folder '/dev/null' is not a folder"),
    (SOLVE + ["--out", "."], 2, "is a directory"),
    (SOLVE + ["--out", "/dev/full"], 1, "No space left on device"),
    (SOLVE + ["--out", "/proc/version"], 1, "cannot write --out"),
    (SOLVE + ["--kernel", "[-y1, y0]", "--forcing", "1"], 2, "--forcing is a scalar"),
    (SOLVE + ["--steps", "8", "--exact", "log(t)"], 1,       # (not a usage error: as --forcing)
     "--exact cannot be evaluated at t = 0: math domain error"),
    (["solve", "--kernel", "y"], 2, "give both --kernel and --forcing"),
    # (a constant that underflows to 0.0: a 30-line traceback of the code generator's
    # ValueError, and exit status 1)
    (["solve", "--kernel", "exp(-1000)*y", "--forcing", "1"], 2,
     "--kernel: constant exp(-1000) underflows to zero in float64 at column 1"),
    (["solve", "--kernel", "-y", "--forcing", "t + exp(-800)"], 2,
     "--forcing: constant exp(-800) underflows to zero in float64 at column 5"),
    (SOLVE + ["--exact", "t + 10**-400"], 2, "--exact: constant 1/1000"),
    (["validate", "--json", ".", "--methods", "trapezoid"], 2, "is a directory"),
    (["validate", "--methods", "nosuch"], 2, "unknown method"),
    (["reproduce", "nosuch"], 2, "unknown study"),
    (["reproduce", "orders", "--out", "/dev/full"], 2, "is not a folder"),
    (["nosuch"], 2, "invalid choice"),
])
def test_cli_mistakes_are_one_line_and_an_exit_status(argv, code, says, capsys):
    assert main(argv, out=io.StringIO()) == code
    assert says in one_line_error(capsys)


@pytest.mark.parametrize("steps, method, sizes", [
    ("20", "trapezoid", [5, 10, 20]), ("8", "trapezoid", [1, 2, 4, 8]),
    ("64", "gregory6", [8, 16, 32, 64]), ("256", "trapezoid", [16, 32, 64, 128, 256])])
def test_orders_end_at_the_steps_asked_for(steps, method, sizes):
    """``--orders`` solved with (N // 16) 2^k steps: --steps 20 ended at 16 and --steps 8 at
    16, and a method needing more than N/16 steps (gregory6: 5) went to 5 * 16 = 80 > 64.
    Now N is the finest and is halved while the count stays whole and large enough."""
    code, text = run(["solve", "--kernel=-y", "--forcing", "1", "--exact", "exp(-t)",
                      "--method", method, "--steps", steps, "--orders"])
    assert code == 0
    assert [int(line.split()[0]) for line in text.splitlines()[2:]] == sizes


@pytest.mark.parametrize("steps", ["7", "6"])
def test_orders_of_steps_that_cannot_be_halved_are_a_usage_error(steps, capsys):
    """(--steps 7 --orders solved on 1, 2, 4, 8, 16 steps; 6 halves to 3, fewer than the 5
    steps gregory6 needs)"""
    assert main(SOLVE + ["--method", "gregory6", "--steps", steps, "--orders"],
                out=io.StringIO()) == 2
    assert f"--orders halves --steps: {steps} cannot be halved" in one_line_error(capsys)


@pytest.mark.parametrize("argv", [
    SOLVE + ["--steps", "8", "--out", ""],
    SOLVE + ["--steps", "8", "--method", ""],
    ["solve", "--method", ""],
    ["validate", "--methods", "rectangle", "--max-examples", "1", "--json", ""],
    ["reproduce", "orders", "--quick", "--out", ""],
])
def test_an_empty_option_value_is_a_usage_error(argv, capsys):
    # (``--out "$FILE"`` with FILE unset: the solve ran and exited 0 without writing a file,
    # ``--method ""`` solved with gregory6 and ``--json ""`` wrote no report)
    assert main(argv, out=io.StringIO()) == 2
    err = one_line_error(capsys)
    option = argv[argv.index("") - 1]
    assert f"argument {option}: the value is empty" in err


def test_out_is_checked_before_the_solve_runs(monkeypatch, capsys):
    import integrallimits.volterra as volterra

    def no_solve(*args, **kwargs):
        raise AssertionError("the solve ran before --out was checked")
    monkeypatch.setattr(volterra, "solve_volterra", no_solve)
    for path in ("/dev/full", "/proc/version", "/sys/integrallimits-test.csv"):
        assert main(SOLVE + ["--out", path], out=io.StringIO()) == 1
        assert "cannot write --out" in one_line_error(capsys)
    assert not os.path.exists("/sys/integrallimits-test.csv")


def test_out_replacing_a_file_keeps_its_permissions(tmp_path):
    """--out over an existing file of the user's, mode 0600: the new contents keep 0600 (the
    rename had given it the umask's mode, 0644 or wider)."""
    path = tmp_path / "y.csv"
    path.write_text("old")
    os.chmod(path, 0o600)
    assert main(SOLVE + ["--steps", "8", "--out", str(path)], out=io.StringIO()) == 0
    assert path.read_text().startswith("t,y") and oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_failing_write_after_the_run_is_one_line(tmp_path, monkeypatch, capsys):
    import integrallimits.cli as cli

    def disk_full(path, text):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("integrallimits.studies.atomic_write", disk_full)
    code = cli.main(SOLVE + ["--steps", "8", "--out", str(tmp_path / "y.csv")], out=io.StringIO())
    assert code == 1 and "No space left on device" in one_line_error(capsys)
    assert not (tmp_path / "y.csv").exists()     # the check left no file behind


def test_a_failed_run_leaves_no_file_behind_a_dangling_link(tmp_path, capsys):
    """--out a symbolic link to a file that does not exist: the check created that file (empty)
    and left it there when the run then failed."""
    link, target = tmp_path / "y.csv", tmp_path / "target.csv"
    link.symlink_to(target)
    code = main(["solve", "--kernel", "1/(y - y)", "--forcing", "1", "--out", str(link)],
                out=io.StringIO())
    assert code == 2 and "division by zero" in one_line_error(capsys)
    assert not target.exists() and link.is_symlink()
    code, _ = run(SOLVE + ["--steps", "8", "--out", str(link)])   # a run that succeeds writes it
    assert code == 0 and target.read_text().startswith("t,y") and link.is_symlink()


def test_the_output_check_never_removes_a_file_made_after_its_look(tmp_path, monkeypatch):
    """The check of --out removed the file if it had not existed when it looked: a file that
    another process made between that look and the check's open was deleted (red2-61).  Now
    only a file the check's own open created (O_EXCL) is removed."""
    import integrallimits.cli as cli
    path = tmp_path / "y.csv"
    path.write_text("another process's file")
    real_exists, looks = os.path.exists, []

    def exists(p):      # (the first look came before the file was made)
        if str(p) == str(path):
            looks.append(p)
            return len(looks) > 1 and real_exists(p)
        return real_exists(p)
    monkeypatch.setattr(os.path, "exists", exists)
    cli._check_output_file(str(path), "--out")
    monkeypatch.undo()
    assert path.read_text() == "another process's file"
    new = tmp_path / "new.csv"
    cli._check_output_file(str(new), "--out")     # a file the check made is removed
    assert not new.exists()


def test_out_dev_stdout_on_a_pipe_is_written():
    """``--out /dev/stdout`` with stdout a pipe: the output check opened the resolved path
    (``/proc/<pid>/fd/pipe:[...]``, which names no file) and refused it ("No such file or
    directory", exit 1) once it took the link's target to open it exclusively."""
    import integrallimits
    root = os.path.dirname(os.path.dirname(integrallimits.__file__))
    proc = subprocess.run([sys.executable, "-m", "integrallimits"] + SOLVE
                          + ["--steps", "8", "--out", "/dev/stdout"], capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": root}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "\nt,y\n0.0," in proc.stdout and proc.stdout.endswith("wrote /dev/stdout\n"), \
        proc.stdout[-300:]


def test_t_is_deprecated_but_still_works(capsys):
    code, text = run(SOLVE + ["--T", "2", "--steps", "8", "--exact", "exp(-t)"])
    assert code == 0 and "y(2)" in text
    assert "--T is deprecated; use --t-span 0 2" in capsys.readouterr().err
    code, text = run(SOLVE + ["--t-span", "0", "2", "--steps", "8", "--exact", "exp(-t)"])
    assert code == 0 and "y(2)" in text
    assert capsys.readouterr().err == ""


def test_a_kernel_may_start_with_a_minus_sign():
    for argv in (["--kernel", "-y**2"], ["--kernel=-y**2"]):
        code, text = run(["solve", *argv, "--forcing", "1", "--exact", "1/(1+t)", "--steps", "32"])
        assert code == 0
        assert float(text.splitlines()[-1].split()[2]) < 1e-7     # y = 1/(1+t)


def test_vector_problems(tmp_path):
    path = tmp_path / "rotation.csv"
    code, text = run(["solve", "--kernel", "[-y1, y0]", "--forcing", "[1, 0]", "--exact",
                      "[cos(t), sin(t)]", "--t-span", "0", "2", "--method", "gauss2", "--steps", "64",
                      "--orders", "--out", str(path)])
    assert code == 0
    orders = [float(line.split()[-1]) for line in text.splitlines()[3:] if line[:3].strip().isdigit()]
    assert all(abs(o - 4.0) < 0.1 for o in orders[-3:]), text
    lines = path.read_text().splitlines()
    assert lines[0] == "t,y0,y1" and len(lines) == 66
    t, y0, y1 = map(float, lines[-1].split(","))
    assert t == 2.0 and abs(y0 - np.cos(2.0)) < 1e-8 and abs(y1 - np.sin(2.0)) < 1e-8


def test_help_lists_methods_studies_and_every_default(capsys, monkeypatch):
    import argparse
    monkeypatch.setenv("COLUMNS", "1000")       # no line breaks inside names such as gauss-x

    from integrallimits import METHODS
    from integrallimits.cli import build_parser
    from integrallimits.studies import STUDIES
    for command, names in (("solve", METHODS), ("reproduce", STUDIES), ("validate", METHODS)):
        with pytest.raises(SystemExit) as exc:
            main([command, "--help"])
        assert exc.value.code == 0
        text = " ".join(capsys.readouterr().out.split())
        assert all(name in text for name in names)
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for command, parser in commands.choices.items():
        for action in parser._actions:
            if action.dest == "help" or not action.option_strings:
                continue
            assert action.help and re.search(r"default|deprecated|and exit", action.help), \
                (command, action.option_strings)


def test_version_from_the_installed_command():
    from integrallimits import __version__
    proc = subprocess.run([sys.executable, "-m", "integrallimits", "--version"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and proc.stdout.strip() == f"integrallimits {__version__}"
    proc = subprocess.run([sys.executable, "-m", "integrallimits", "solve", "--method", "midpoint"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1


def test_progress_lines_when_stderr_is_not_a_terminal(tmp_path, capsys):
    code = main(["reproduce", "relu-convergence", "--quick", "--out", str(tmp_path)],
                out=io.StringIO())
    assert code == 0
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("relu-convergence:")]
    assert lines and lines[-1].startswith(f"relu-convergence: cell {len(lines)}/{len(lines)} done")


def test_missing_matplotlib_is_reported(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("integrallimits.studies._figures.have_matplotlib", lambda: False)
    assert main(["reproduce", "relu-convergence", "--quick", "--out", str(tmp_path)],
                out=io.StringIO()) == 0
    assert "pip install 'integrallimits[plot]'" in capsys.readouterr().err


def _table(text):
    """The rows of the solve table (after its header line)."""
    lines = text.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("N "))
    return [line.split() for line in lines[start + 1:]]


def test_parameters_reach_the_expressions():
    for a in ("1.5", "3"):
        code, text = run(["solve", "--kernel", "-a*y", "--forcing", "1 + 0*b", "--exact",
                          "exp(-a*t)", "--param", f"a={a}", "--param", "b=2", "--steps", "32",
                          "--method", "gauss3"])
        row = _table(text)[-1]
        assert code == 0 and abs(float(row[1]) - np.exp(-float(a))) < 1e-10 and float(row[3]) < 1e-10


@pytest.mark.parametrize("param, says", [("a", "NAME=VALUE"), ("a=x", "not a number"),
                                         ("a=nan", "finite"), ("y=1", "already taken")])
def test_bad_parameters_are_one_line(param, says, capsys):
    code = main(["solve", "--kernel", "-a*y", "--forcing", "1", "--param", param])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0]


@pytest.mark.parametrize("argv, unused", [
    (["--kernel", "-a*y", "--forcing", "1", "--param", "a=1", "--param", "b=2"], "b"),
    (["--kernel", "-lam*y", "--forcing", "1", "--param", "lamb=1", "--param", "lam=2"], "lamb"),
    (["--kernel", "[-y1, y0]", "--forcing", "[1, 0]", "--param", "a=1"], "a"),
    (["--kernel", "-y", "--forcing", "exp(t)", "--exact", "exp(-t)", "--param", "exp1=1"],
     "exp1"),
])
def test_a_parameter_no_expression_uses_is_refused(argv, unused, capsys):
    """An unused --param (most likely a misspelt name: --param lamb=1 for lam) was accepted and
    ignored: it is a usage error, one line naming it; a parameter used only by --exact, or
    in a term that cancels (0*b), is used."""
    code, _ = run(["solve"] + argv + ["--steps", "8"])
    err = one_line_error(capsys)
    assert code == 2 and err.startswith(f"integrallimits: error: --param {unused}: no expression "
                                        f"uses it"), err
    code, _ = run(["solve", "--kernel", "-a*y", "--forcing", "1", "--exact", "exp(-a*t) + 0*b",
                   "--param", "a=1", "--param", "b=2", "--steps", "8"])
    assert code == 0


@pytest.mark.parametrize("param, says", [("exp=1", "a function of the expressions"),
                                         ("lambda=1", "a Python keyword"),
                                         ("atan2=1", "a function of the expressions")])
def test_parameters_named_as_functions_or_keywords_are_one_line(param, says, capsys):
    """--param exp=1 or lambda=1 was a 30-line traceback (the ValueError of the parser's
    variable check) and exit status 1."""
    code = main(["solve", "--kernel", "-y", "--forcing", "1", "--param", param])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0] and err[0].startswith(
        f"integrallimits: error: --param {param.split('=')[0]}:")


def test_language_names_are_the_parsers_functions_and_constants():
    from integrallimits.kernels._parse import CONSTANTS, FUNCTIONS
    from integrallimits.kernels._text import LANGUAGE_NAMES
    assert LANGUAGE_NAMES == set(FUNCTIONS) | set(CONSTANTS)


def test_solve_to_a_tolerance_prints_the_estimated_and_the_actual_error():
    code, text = run(["solve", "--kernel", "-y", "--forcing", "1", "--exact", "exp(-t)",
                      "--rtol", "1e-10", "--atol", "1e-12"])
    (row,) = _table(text)
    estimated, actual = float(row[2]), float(row[3])
    assert code == 0 and "estimated error meets" in text
    assert actual <= 10 * (1e-12 + 1e-10) and estimated / 20 <= actual <= 20 * estimated
    assert main(["solve", "--kernel", "-y", "--forcing", "1", "--rtol", "1e-6", "--steps", "8"]) == 2


# -- from issue 19 (mutation testing) --
def test_builtin_example_runs():
    code, text = run(["solve", "--method", "trapezoid"])
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith("Built-in problems: exp-square  y = e^{-2t}")
    assert lines[3].split() == ["problem", "method", "declared", "observed", "N0", "max", "error",
                                "at", "N", "=", "N0,", "2", "N0,", "4", "N0,", "..."]
    rows = [line.split() for line in lines[4:]]
    assert [r[:3] for r in rows] == [["exp-square", "trapezoid", "2"], ["vector", "trapezoid", "2"]]
    for r in rows:       # the observed order, then N0 = 4, then the errors at N0, 2 N0, ...
        assert abs(float(r[3]) - 2.0) < 0.1 and r[4] == "4" and float(r[5]) > float(r[-1])


def test_solve_table_and_csv_are_the_solvers_values(tmp_path):
    """The printed values are solve_volterra's, the order column is log2 of successive errors,
    and the CSV holds the finest solution."""
    import numpy as np

    from integrallimits import solve_volterra
    from integrallimits.kernels import forcing_from_text, kernel_from_text

    path = tmp_path / "sol.csv"
    code, text = run(["solve", "--kernel=-y", "--forcing", "1", "--exact", "exp(-t)", "--method",
                      "trapezoid", "--steps", "32", "--orders", "--out", str(path)])
    assert code == 0
    lines = text.splitlines()
    assert lines[0].startswith("method trapezoid (declared order 2); ")
    assert lines[1].split() == ["N", "y(1)", "estimated", "error", "max", "error", "order"]
    assert lines[-1] == f"wrote {path}"
    rows = [line.split() for line in lines[2:-1]]
    assert [int(r[0]) for r in rows] == [2, 4, 8, 16, 32]
    K, g = kernel_from_text("-y"), forcing_from_text("1")
    for r in rows:
        sol = solve_volterra(K, g, (0.0, 1.0), int(r[0]), method="trapezoid")
        assert r[1] == f"{sol.y[-1]:.15g}"
        assert r[2] == f"{sol.stats['max_error_estimate']:.3e}"
        assert float(r[3]) == float(f"{np.max(np.abs(sol.y - np.exp(-sol.t))):.3e}")
    for prev, r in zip(rows, rows[1:]):
        assert abs(float(r[4]) - np.log2(float(prev[3]) / float(r[3]))) < 0.01
    assert len(rows[0]) == 4                                   # no order for the first N
    csv = np.loadtxt(path, delimiter=",", skiprows=1)
    assert path.read_text().startswith("t,y\n") and csv.shape == (33, 2)
    np.testing.assert_array_equal(csv[:, 1], sol.y)
    code, text = run(["solve", "--kernel=-y", "--forcing", "1", "--T", "2", "--steps", "8"])
    assert code == 0 and text.splitlines()[0].startswith("method gregory6 (declared order 6); ")
    assert text.splitlines()[1].split() == ["N", "y(2)", "estimated", "error"] and text.splitlines()[2].split()[0] == "8"


@pytest.mark.parametrize("argv, message", [
    (["solve", "--kernel=-y"], "error: give both --kernel and --forcing (or neither, for the built-in "
                               "example)\n"),
    (["solve", "--steps", "0"], "error: --steps must be >= 1\n"),
    (["validate", "--methods", "trapezoid", "x" * 41], "error: unknown method(s) '" + "x" * 37 +
     "...'; known: rectangle, implicit-rectangle, trapezoid, gregory4, gregory6, gregory8, rk4, "
     "gauss1, radau1, gauss2, radau2, gauss3, radau3, gauss4, radau4\n"),
    (["validate", "--max-examples", "0"], "error: --max-examples must be >= 1\n"),
    (["reproduce", "y" * 81], "error: unknown study '" + "y" * 77 + "...'; known: all, "),
    (["check-symbolic", "--only", "no-such-identity"], "error: unknown identities ['no-such-identity']; "
                                                       "known: state-space, "),
])
def test_mistakes_are_one_line_on_stderr(argv, message, capsys):
    code, text = run(argv)
    err = capsys.readouterr().err
    assert code == 2 and text == "" and err.startswith("integrallimits: " + message)
    assert err.count("\n") == 1, err


def test_check_symbolic_passes_its_options(capsys):
    assert main(["check-symbolic", "--list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0].startswith("state-space: ") and len(listed) > 5
    assert main(["check-symbolic", "--quick", "--only", "parameter-ratio"]) == 0
    out = capsys.readouterr().out
    assert "parameter-ratio" in out and "state-space" not in out
    assert out.rstrip().endswith("all 1 identities hold exactly")


def _payload(folder):
    """Text that, if anything evaluated it, would create files in ``folder`` three ways (a
    shell command, open(), and exec of a string), and only then fail."""
    a, b, c = (str(folder / name) for name in ("by-system", "by-open", "by-exec"))
    return (f"__import__('os').system('touch {a}') + open({b!r}, 'w').write('x') + "
            f"(lambda: exec(\"open({c!r}, 'w')\"))() + y")


@pytest.mark.parametrize("option", ["--kernel", "--forcing", "--exact"])
def test_code_in_an_expression_never_runs(option, tmp_path):
    """The real command in a fresh process: the payload must not run (no marker file, before
    or after the refusal), and the refusal is one line on stderr with exit status 2."""
    argv = {"--kernel": "y", "--forcing": "1", "--exact": "1"}
    argv[option] = _payload(tmp_path)
    cmd = [sys.executable, "-m", "integrallimits", "solve", "--steps", "8"]
    for name, text in argv.items():
        cmd += [name, text]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("integrallimits: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "attribute access '.system'" in proc.stderr and proc.stdout == ""


def test_exact_with_erf_and_min():
    """--exact is evaluated by the same generated code as --forcing (math functions)."""
    code, text = run(["solve", "--kernel", "0*y", "--forcing", "erf(t) + min(t, 0.5)", "--exact",
                      "erf(t) + min(t, 0.5)", "--steps", "8"])
    assert code == 0 and text.splitlines()[-1].split()[-1] == "0.000e+00"


_REPEAT = """
import io, json, sys
from integrallimits.cli import main
out = io.StringIO()
code = main(sys.argv[1:], out=out)
print(json.dumps({"code": code, "out": out.getvalue(), "sympy": "sympy" in sys.modules}))
"""


def test_a_repeated_solve_does_not_import_sympy(tmp_path):
    """Fresh processes sharing a kernel cache: the first parses and derives the expressions
    (SymPy), the next loads the modules it wrote through the index (no SymPy) and prints the
    same table; a module changed on disk (here: valid code for another kernel) is not used:
    that process takes the full path again, prints the right table and restores the module."""
    argv = ["solve", "--kernel", "exp(-(t-s))*y**2", "--forcing", "exp(-2*t)", "--exact",
            "exp(-t)", "--method", "trapezoid", "--steps", "16"]
    env = dict(os.environ, INTEGRALLIMITS_CACHE_DIR=str(tmp_path), PYTHONWARNINGS="ignore")

    def solve():
        proc = subprocess.run([sys.executable, "-c", _REPEAT, *argv], env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        assert result["code"] == 0
        return result

    first, second = solve(), solve()
    assert first["sympy"] and not second["sympy"]
    assert second["out"] == first["out"] and "max error" in first["out"]
    assert len(list((tmp_path / "kernels").glob("text_*.json"))) == 3   # kernel, forcing, exact
    (module,) = (tmp_path / "kernels").glob("kernel_*.py")
    source = module.read_text()
    module.write_text(source.replace("math.exp", "math.cos"))
    third = solve()
    assert third["sympy"] and third["out"] == first["out"]
    assert module.read_text() == source


def test_the_command_flushes_its_output_before_the_fast_exit(tmp_path):
    """``python -m integrallimits solve`` ends with os._exit after flushing: the table reaches
    a pipe whole, the CSV is complete, and the exit status is main's (0, 2 or 1)."""
    path = tmp_path / "y.csv"
    cmd = [sys.executable, "-m", "integrallimits", "solve", "--kernel=-y", "--forcing", "1",
           "--method", "trapezoid", "--steps", "8"]
    proc = subprocess.run(cmd + ["--out", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("method trapezoid") and lines[-1] == f"wrote {path}"
    assert len(path.read_text().splitlines()) == 10
    proc = subprocess.run(cmd + ["--steps", "0"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stderr == "integrallimits: error: --steps must be >= 1\n"
    proc = subprocess.run(cmd + ["--out", "/dev/full"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and proc.stderr.startswith("integrallimits: error: cannot write")
    code = ("import atexit, sys; atexit.register(print, 'atexit ran', file=sys.stderr); "
            "from integrallimits.cli import run; sys.argv[1:] = sys.argv[2:]; sys.exit(run())")
    proc = subprocess.run([sys.executable, "-c", code, "-"] + cmd[3:], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "atexit ran\n"
    profile = tmp_path / "solve.prof"        # a profiler gets the normal exit (and its output)
    proc = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile)] + cmd[1:],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and profile.stat().st_size > 0


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
def test_a_forcing_that_fails_at_t0_is_one_line(capsys):
    """An expression that parses but cannot be evaluated where the solve needs it (g = log t at
    t0 = 0) is a one-line error naming --forcing (it used to be a traceback), with exit status
    1: a run that cannot finish, as a kernel that cannot be evaluated (it was 2, a usage error,
    naming no option)."""
    code, _ = run(["solve", "--kernel", "0*y", "--forcing", "log(t)", "--steps", "8"])
    err = capsys.readouterr().err
    assert code == 1 and err == ("integrallimits: error: --forcing 'log(t)' cannot be evaluated "
                                 "at t = 0.0: ValueError: math domain error\n"), err


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
def test_a_forcing_that_overflows_later_says_where(capsys):
    """g = exp(1000 t) parses and is finite at t0 but overflows in the solve's later calls: the
    error names g and the time (it was a bare "OverflowError: math range error")."""
    from integrallimits import solve_volterra
    with pytest.raises(OverflowError) as info:
        solve_volterra(lambda t, s, y: -y, lambda t: math.exp(1000.0 * t), (0.0, 1.0), 16)
    assert "raised by g(t) when called at t = 0.75" in "".join(info.value.__notes__)
    code, _ = run(["solve", "--kernel", "-y", "--forcing", "exp(1000*t)", "--steps", "8"])
    err = capsys.readouterr().err
    assert code == 1 and err == ("integrallimits: error: --forcing 'exp(1000*t)' cannot be "
                                 "evaluated at t = 0.75: OverflowError: math range error\n"), err


@pytest.mark.skipif(sys.version_info < (3, 11), reason="exception notes need Python 3.11")
@pytest.mark.parametrize("argv", [
    ["--kernel", "-y", "--forcing", "exp(1000*t)"],
    ["--kernel", "-y", "--forcing", "exp(1000*t)", "--method", "rk4"],
    ["--kernel", "-y", "--forcing", "exp(1000*t)", "--rtol", "1e-6"],
    ["--kernel", "[-y1, y0]", "--forcing", "[1, exp(1000*t)]", "--method", "gauss2"],
    ["--kernel", "-y", "--forcing", "1/(t - 0.5)"],
])
def test_a_forcing_that_overflows_exits_as_an_overflowing_kernel(argv, capsys):
    """g = exp(1000 t) overflowing exited with status 2 (a usage error) naming no option, while
    K = exp(1000 t) y overflowing exits with 1 (the solve fails): both are runs that cannot
    finish, status 1, and the forcing's message names --forcing and the time."""
    steps = [] if "--rtol" in argv else ["--steps", "8"]
    code, _ = run(["solve", "--kernel", "exp(1000*t)*y", "--forcing", "1", "--steps", "8"])
    kernel = one_line_error(capsys)
    assert code == 1 and "exp(1000*t)*y returned a non-finite value" in kernel
    code, _ = run(["solve"] + argv + steps)
    err = one_line_error(capsys)
    assert code == 1 and re.fullmatch(r"integrallimits: error: --forcing '[^']+' cannot be "
                                      r"evaluated at t = [0-9.]+: (OverflowError|"
                                      r"ZeroDivisionError): .+", err), err


_INTERRUPTED = """
import sys
from integrallimits.cli import main
print("ready", flush=True)
sys.exit(main(sys.argv[1:]))
"""


def _interrupted(tmp_path, argv, wait):
    """(process, stderr, what ``wait(stdout)`` returned) of ``integrallimits argv`` in a child
    process sent SIGINT, as from a terminal, once ``wait`` returns."""
    import signal

    import integrallimits
    from subprocesses import sigint_as_in_a_terminal
    env = {**os.environ, "PYTHONPATH": os.path.dirname(os.path.dirname(integrallimits.__file__))}
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, *argv], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    try:
        seen = wait(proc.stdout)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc, err, seen


def test_ctrl_c_is_one_line_and_status_130(tmp_path):
    """Ctrl-C in a long solve printed Python's traceback (through Numba's frames when it came
    during a compilation) and ended with the signal; a shell expects one line and 130."""
    import time

    def wait(stdout):
        assert stdout.readline().strip() == "ready"
        time.sleep(1.0)

    proc, err, _ = _interrupted(tmp_path, ["solve", "--kernel=-y", "--forcing", "1", "--steps",
                                           "1000000", "--method", "trapezoid"], wait)
    assert proc.returncode == 130 and err == "integrallimits: interrupted\n", (proc.returncode, err)


_INTERRUPTED_IMPORT = """
import sys
from importlib.abc import MetaPathFinder


class CtrlC(MetaPathFinder):      # Ctrl-C while the command line's module imports NumPy
    def find_spec(self, name, path=None, target=None):
        if name == "integrallimits.cli":
            raise KeyboardInterrupt


sys.meta_path.insert(0, CtrlC())
from integrallimits._console import run
sys.exit(run())
"""


def test_ctrl_c_while_the_command_line_imports_is_one_line_and_status_130(tmp_path):
    """Ctrl-C in the first ~0.3 s of ``integrallimits ...`` (the console script imported
    ``integrallimits.cli``, which imports NumPy) printed the import's traceback (red-61).  The
    console script and ``python -m integrallimits`` now start in :mod:`._console`."""
    import integrallimits
    root = os.path.dirname(os.path.dirname(integrallimits.__file__))
    with open(os.path.join(root, "pyproject.toml")) as f:
        script = re.search(r'^integrallimits = "([^"]+)"$', f.read(), re.M)
    assert script and script.group(1) == "integrallimits._console:run"
    with open(os.path.join(root, "integrallimits", "__main__.py")) as f:
        assert "from ._console import run" in f.read()
    proc = subprocess.run([sys.executable, "-c", _INTERRUPTED_IMPORT, "validate"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": root}, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 130 and proc.stderr == "integrallimits: interrupted\n", (
        proc.returncode, proc.stderr)


def test_ctrl_c_in_validate_keeps_the_finished_methods(tmp_path):
    """Ctrl-C in a validation run (minutes long) wrote no --json at all: the methods it had
    finished were lost.  Now the partial report is written, marked interrupted and not passed,
    and the one line says where."""
    report = tmp_path / "report.json"
    proc, err, lines = _interrupted(
        tmp_path, ["validate", "--methods", "rectangle", "trapezoid", "--max-examples", "2",
                   "--json", str(report)],
        lambda stdout: [stdout.readline() for _ in range(3)])  # ready, the settings, rectangle
    assert lines[0].strip() == "ready" and "rectangle" in lines[2], lines
    assert proc.returncode == 130, (proc.returncode, err)
    assert "Traceback" not in err and err.splitlines()[-1] == (
        f"integrallimits: interrupted; the 1 method(s) finished before it are in {report}"), err
    data = json.loads(report.read_text())
    assert data["interrupted"] is True and data["passed"] is False
    assert list(data["methods"]) == ["rectangle"]
    assert data["methods"]["rectangle"]["status"] == "passed"


def test_a_warning_is_one_line(capsys):
    """A solver's warning reached the terminal as Python's two lines (the file and line of the
    call in cli.py, then its source line); the command's warnings are one line."""
    code, text = run(["solve", "--kernel", "-y", "--forcing", "1", "--rtol", "0"])
    err = capsys.readouterr().err.splitlines()
    assert code == 0 and "y(1)" in text
    assert err == ["integrallimits: warning: rtol = 0.0 is below 1e-14, where rounding errors "
                   "dominate every method; using rtol = 1e-14"]


def test_negative_numbers_with_an_exponent_are_values_of_numeric_options(capsys):
    """argparse took -1e0 for an option: --t-span -1e0 1 was "expected 2 arguments" (exit 2),
    while --t-span -1 1 ran; --rtol -1e-3 said "expected one argument" instead of the range."""
    code, text = run(["solve", "--kernel", "-y", "--forcing", "1", "--t-span", "-1e0", "1",
                      "--steps", "8", "--method", "trapezoid"])
    code2, text2 = run(["solve", "--kernel", "-y", "--forcing", "1", "--t-span", "-1", "1",
                        "--steps", "8", "--method", "trapezoid"])
    assert code == code2 == 0 and _table(text) == _table(text2)
    capsys.readouterr()
    assert main(["solve", "--kernel", "-y", "--forcing", "1", "--rtol", "-1e-3"]) == 2
    assert "--rtol must be a finite number >= 0, got -0.001" in capsys.readouterr().err


def test_check_symbolic_prints_to_the_given_output():
    """main(argv, out=...) printed the other commands to ``out`` but check-symbolic's list and
    table to sys.stdout."""
    code, text = run(["check-symbolic", "--list"])
    assert code == 0 and text.startswith("state-space: ") and "relu-activation-pattern" in text
