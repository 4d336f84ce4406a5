"""The command line: the built-in example, user expressions, refusal of code."""
import io

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
