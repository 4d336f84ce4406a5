"""The command line: the built-in example, user expressions, refusal of code."""
import io
import os
import subprocess
import sys

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
    assert capsys.readouterr().err.startswith("error: ")


def test_builtin_example_runs():
    code, text = run(["solve", "--method", "trapezoid"])
    assert code == 0 and "trapezoid" in text and "2.00" in text


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
    cmd = [sys.executable, "-m", "integrallimits", "solve", "--steps", "4"]
    for name, text in argv.items():
        cmd += [name, text]
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert sorted(p.name for p in tmp_path.iterdir()) == []
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "attribute access '.system'" in proc.stderr and proc.stdout == ""
