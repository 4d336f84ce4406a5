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


def _build(builder, out, doctrees):
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
                           "-d", str(doctrees), DOCS, str(out)], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The html build, then the doctest build from the same parsed documents (one read of the
    sources and the API docstrings instead of two)."""
    pytest.importorskip("sphinx")
    root = tmp_path_factory.mktemp("docs")
    _build("html", root / "html", root / "doctrees")
    _build("doctest", root / "doctest", root / "doctrees")
    return root


def test_html_builds_without_warnings(site):
    tmp_path = site
    pages = {p.name for p in (tmp_path / "html").rglob("*.html")}
    assert {"index.html", "api.html", "gallery.html", "getting-started.html", "studies.html",
            "adjoint.html", "networks.html"} <= pages
    api = (tmp_path / "html" / "api.html").read_text(encoding="utf-8")
    assert "solve_volterra" in api and "run_cells" in api and "check_method" in api
    # a page per public function/class/registry, none for a private module
    generated = {p.name for p in (tmp_path / "html" / "api").glob("*.html")}
    for name in ("integrallimits.solve_volterra", "integrallimits.volterra.solve_first_kind",
                 "integrallimits.volterra.FIRST_KIND_METHODS", "integrallimits.volterra.VIDE_METHODS",
                 "integrallimits.solve_vide", "integrallimits.studies.STUDIES"):
        assert f"{name}.html" in generated, name
    assert not any("._" in name for name in generated)
    assert {"fredholm.html", "vide.html", "first-kind.html", "singular.html", "coming-from.html",
            "changelog.html"} <= pages
    # intersphinx links to NumPy, SciPy and Python, from local inventories (no network)
    html = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "html").rglob("*.html"))
    for site in ("https://numpy.org/doc/stable/", "https://docs.scipy.org/doc/scipy/",
                 "https://docs.python.org/3/"):
        assert f'href="{site}' in html, site


def test_gallery_leaves_unchanged_pages_alone(tmp_path, monkeypatch):
    """The gallery is written at the start of every build; a page whose text is unchanged keeps
    its time stamp, so the doctest build after the html build (same doctrees) does not parse
    the gallery again (it did: the pages were deleted and written anew).  A changed table is
    written again and the files of a study that is gone are removed."""
    import shutil
    monkeypatch.syspath_prepend(DOCS)
    from _gallery import write_gallery
    root, out = tmp_path / "validation", tmp_path / "generated"
    shutil.copytree(os.path.join(ROOT, "validation", "orders"), root / "orders")
    shutil.copytree(os.path.join(ROOT, "validation", "dnl-gamma"), root / "dnl-gamma")
    assert write_gallery(str(root), str(out)) == ["dnl-gamma", "orders"]
    files = sorted(p.name for p in out.iterdir())
    assert {"orders.rst.inc", "orders-orders.png", "studies.rst.inc"} <= set(files)
    old = 1_000_000_000
    for p in out.iterdir():
        os.utime(p, ns=(old, old))
    write_gallery(str(root), str(out))
    assert sorted(p.name for p in out.iterdir()) == files
    assert {p.name for p in out.iterdir() if p.stat().st_mtime_ns != old} == set()
    table = root / "orders" / "table.json"
    table.write_text(table.read_text(encoding="utf-8").replace('"notes": "', '"notes": "New. ', 1),
                     encoding="utf-8")
    shutil.rmtree(root / "dnl-gamma")
    write_gallery(str(root), str(out))
    assert "New. " in (out / "orders.rst.inc").read_text(encoding="utf-8")
    assert (out / "orders.rst.inc").stat().st_mtime_ns != old
    assert not any(p.name.startswith("dnl-gamma") for p in out.iterdir())
    assert "dnl-gamma" not in (out / "studies.rst.inc").read_text(encoding="utf-8")


def test_api_reference_lists_every_public_name():
    import importlib
    api = _read("docs", "api.rst")
    for module in ("integrallimits", "integrallimits.volterra", "integrallimits.quadrature",
                   "integrallimits.kernels", "integrallimits.networks", "integrallimits.control",
                   "integrallimits.symbolic", "integrallimits.studies", "integrallimits.validation",
                   "integrallimits.fredholm"):
        listed = set(re.findall(r"^   (\w+)$", api, re.MULTILINE))
        missing = [n for n in importlib.import_module(module).__all__
                   if n != "__version__" and n not in listed]
        assert not missing, (module, missing)


def test_code_blocks_run_as_written_under_spawn(tmp_path):
    """Every ``.. code-block:: python`` of the guide runs as a script, with worker processes
    spawned (macOS, Windows): a process pool without an ``if __name__ == "__main__":`` guard
    fails there."""
    blocks = []
    for folder, _, files in os.walk(DOCS):
        for name in sorted(files):
            if name.endswith(".rst"):
                text = _read(folder, name)
                for m in re.finditer(r"^\.\. code-block:: python\n\n((?:   .*\n|\n)+)", text,
                                     re.MULTILINE):
                    blocks.append((name, "\n".join(line[3:] for line in m.group(1).splitlines())))
    assert any("ProcessPoolExecutor" in code for _, code in blocks)
    for k, (name, code) in enumerate(blocks):
        script = tmp_path / f"snippet{k}.py"
        script.write_text("import multiprocessing\nmultiprocessing.set_start_method('spawn', "
                          "force=True)\n" + code, encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                              timeout=600, cwd=tmp_path)
        assert proc.returncode == 0, (name, code, proc.stderr[-2000:])


def test_guide_examples_run(site):
    report = (site / "doctest" / "output.txt").read_text(encoding="utf-8")
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
