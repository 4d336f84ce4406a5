"""Packaging: one place for the metadata (PEP 621), a licence, and an sdist that carries what a
packager needs to run this test suite."""
import os
import subprocess
import sys
import tarfile
import tomllib

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pyproject():
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as fh:
        return tomllib.load(fh)


def test_metadata_lives_in_pyproject_and_bounds_match_the_lowest_versions_ci_tests():
    project = _pyproject()["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert not os.path.exists(os.path.join(ROOT, "setup.cfg"))
    with open(os.path.join(ROOT, "LICENSE"), encoding="utf-8") as fh:
        text = fh.read()
    assert text.startswith("BSD 3-Clause License") and "Neither the name of" in text
    versions = {c.split(" :: ")[-1] for c in project["classifiers"]
                if c.startswith("Programming Language :: Python :: 3.")}
    assert versions == {"3.10", "3.11", "3.12", "3.13"}
    assert any(c.startswith("Development Status") for c in project["classifiers"])
    deps = {d.split(">=")[0]: d.split(">=")[1] for d in project["dependencies"]}
    assert "hypothesis" in deps          # `integrallimits validate` is a core command
    with open(os.path.join(ROOT, ".ci", "lowest-constraints.txt"), encoding="utf-8") as fh:
        pins = dict(line.split("==") for line in fh.read().split()
                    if "==" in line and not line.startswith("#"))
    for name in ("numpy", "scipy", "numba", "sympy"):
        assert pins[name] == deps[name], (name, pins[name], deps[name])
    assert all(">=" in d and "==" not in d for d in project["optional-dependencies"]["bench"]
               if not d.startswith("voles"))


def test_sdist_ships_tests_docs_validation_and_licence(tmp_path):
    pytest.importorskip("setuptools", minversion="77")
    proc = subprocess.run([sys.executable, "-c", "import sys, setuptools.build_meta as b; "
                           "print(b.build_sdist(sys.argv[1]))", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    name = proc.stdout.split()[-1]
    with tarfile.open(tmp_path / name) as tar:
        members = {m.split("/", 1)[1] for m in tar.getnames() if "/" in m}
        pkg_info = tar.extractfile(f"{name[:-len('.tar.gz')]}/PKG-INFO").read().decode()
    assert "License-Expression: BSD-3-Clause" in pkg_info
    needed = {"LICENSE", "README.md", "pyproject.toml", ".ci/run", "integrallimits/py.typed",
              "docs/conf.py", "validation/README.md"}
    for folder in ("tests", "docs", "validation"):
        for base, dirs, files in os.walk(os.path.join(ROOT, folder)):
            dirs[:] = [d for d in dirs if d not in ("__pycache__", "_build", "_generated", "cells", "api",
                                                    "_inventories_generated")]
            needed |= {os.path.relpath(os.path.join(base, f), ROOT) for f in files
                       if f.endswith((".py", ".rst", ".md", ".png", ".json", ".csv"))}
    assert "tests/conftest.py" in needed
    assert needed <= members, sorted(needed - members)[:10]
    assert not any("__pycache__" in m or "/cells/" in m for m in members)


def test_the_top_level_namespace_lists_only_public_names():
    import integrallimits

    listed = dir(integrallimits)
    assert set(integrallimits.__all__) <= set(listed)
    private = [n for n in listed if n.startswith("_") and not n.startswith("__")]
    assert private == []
    assert "importlib" not in listed            # the module's own imports are not API
