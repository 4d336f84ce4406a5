"""The Sphinx site builds with warnings as errors and its examples run (``-b doctest``); the
README's commands and first example stay true."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as fh:
        return fh.read()


def _build(builder, out):
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
                           DOCS, str(out)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_html_builds_without_warnings(tmp_path):
    pytest.importorskip("sphinx")
    _build("html", tmp_path / "html")
    pages = {p.name for p in (tmp_path / "html").rglob("*.html")}
    assert {"index.html", "api.html", "gallery.html", "getting-started.html", "studies.html",
            "adjoint.html", "networks.html"} <= pages
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    assert "solve_volterra" in api and "run_cells" in api and "check_method" in api


def test_guide_examples_run(tmp_path):
    pytest.importorskip("sphinx")
    _build("doctest", tmp_path / "doctest")
    report = (tmp_path / "doctest" / "output.txt").read_text(encoding="utf-8")
    assert "0 failures in tests" in report


def test_ci_installs_what_the_readme_test_command_installs():
    readme = _read("README.md")
    extras = re.findall(r'pip install -e "\.\[([a-z,]+)\]" && python -m pytest -q', readme)
    assert len(extras) == 1
    ci = re.search(r'^EXTRAS="([a-z,]+)"$', _read(".ci", "run"), re.MULTILINE)
    assert ci and set(ci.group(1).split(",")) == set(extras[0].split(","))
    assert 'pip install --quiet -e ".[$EXTRAS]"' in _read(".ci", "run")
    assert 'pip install -e ".[plot]" && integrallimits reproduce all --quick' in readme


def test_readme_solve_example_runs(tmp_path):
    block = re.findall(r"```python\n(.*?)```", _read("README.md"), re.DOTALL)[0]
    assert "solve_volterra" in block and len(block.strip().splitlines()) <= 12
    script = tmp_path / "readme_example.py"
    script.write_text(block, encoding="utf-8")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    error, estimate = map(float, lines[1].split())
    assert lines[0].startswith("True") and error < 1e-10 and estimate / 20 <= error <= 20 * estimate
