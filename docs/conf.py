"""Sphinx configuration of the integrallimits documentation.

Build with warnings as errors (no network needed)::

    sphinx-build -W -b html docs docs/_build/html

The gallery page is generated from the committed outputs in ``validation/`` by
``docs/_gallery.py`` at the start of every build.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import integrallimits  # noqa: E402
from _gallery import write_gallery  # noqa: E402
from _inventories import write_inventories  # noqa: E402

project = "integrallimits"
author = "the integrallimits developers"
copyright = "the integrallimits developers; BSD-3-Clause"
version = release = integrallimits.__version__

extensions = ["sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon",
              "sphinx.ext.doctest", "sphinx.ext.mathjax", "sphinx.ext.intersphinx"]

# A page per public function and class (api.rst), generated at build time into docs/api/.
autosummary_generate = True
autosummary_imported_members = False

# Links to NumPy, SciPy and Python through inventories written locally (docs/_inventories.py):
# the build needs no network and fails on no fetch.
intersphinx_mapping = write_inventories(os.path.join(HERE, "_inventories_generated"))
source_suffix = {".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_generated/*.rst.inc", "_inventories_generated"]
templates_path = []

# NumPy docstrings only
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_param = False      # types stay text: "array (N, d) or callable W(t, s)" is no xref
napoleon_use_keyword = False
napoleon_use_ivar = True
autodoc_default_options = {"show-inheritance": False}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True

# `.. doctest::` blocks of the guide pages run with `sphinx-build -b doctest`; the
# docstrings' own examples run as pytest doctests (``--doctest-modules``).
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np"

html_theme = "alabaster"
html_static_path = []
html_title = f"integrallimits {release}"
html_theme_options = {"description": "Volterra equations and the deep limits of dense networks",
                      "fixed_sidebar": False}
html_show_sourcelink = False


_INLINE = re.compile(r"(``.+?``|:[a-z:]+:`[^`]+`|`[^`]+`_{0,2})")


def _escape(text):
    """Escape the characters that plain-text docstrings use as mathematics (``|y|``,
    ``2*t``, ``y**2``) but reStructuredText reads as markup, outside inline literals
    and roles."""
    parts = _INLINE.split(text)
    for k in range(0, len(parts), 2):
        part = parts[k].replace("\\", "\\\\").replace("*", "\\*").replace("|", "\\|")
        parts[k] = re.sub(r"(?<=\w)_(?=\s|$|[.,;:)\]])", r"\\_", part)
    return "".join(parts)


def _plain_text_docstring(app, what, name, obj, options, lines):
    """Make the package's NumPy docstrings valid reST without changing code blocks.

    The docstrings are written for ``help()`` and read as plain text; only their prose
    is escaped.  Literal blocks (after ``::``), doctest blocks (``>>>``), directive
    bodies (``.. math::``) and section underlines are left alone.
    """
    out, literal_indent = [], None
    for k, line in enumerate(lines):
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if literal_indent is not None:
            if stripped and indent <= literal_indent:
                literal_indent = None
            else:
                out.append(line)
                continue
        if stripped.startswith((">>>", "...")) or (stripped and set(stripped) <= set("-=~")):
            out.append(line)
            continue
        if stripped.startswith(".. "):
            out.append(line)
            literal_indent = indent
            continue
        if stripped.startswith("* "):      # a bullet stays a bullet
            cut = indent + 2
            out.append(line[:cut] + _escape(line[cut:]))
        else:
            out.append(_escape(line))
        if stripped.endswith("::"):
            literal_indent = indent
    lines[:] = out


def _registry_docstring(app, what, name, obj, options, lines):
    """A registry (a dict, list or tuple defined in a private module) has no docstring of its
    own: autodoc would show the docstring of ``dict``; list its keys instead."""
    if what == "data" and isinstance(obj, (dict, list, tuple)) and (
            not lines or "\n".join(lines).strip() == (type(obj).__doc__ or "").strip()):
        kind = type(obj).__name__
        keys = ", ".join(f"``{k}``" for k in (obj if isinstance(obj, dict) else obj))
        lines[:] = [f"A ``{kind}`` registry with the entries {keys}."]


def _gallery(app):
    write_gallery(os.path.join(os.path.dirname(HERE), "validation"),
                  os.path.join(HERE, "_generated"))


def setup(app):
    app.connect("builder-inited", _gallery)
    # before napoleon (priority 500) turns the NumPy sections into reST
    app.connect("autodoc-process-docstring", _registry_docstring, priority=300)
    app.connect("autodoc-process-docstring", _plain_text_docstring, priority=400)
