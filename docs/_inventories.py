"""Local intersphinx inventories for NumPy, SciPy and Python, so that the documentation links
to them and still builds offline (``sphinx-build -W`` with no network).

Each inventory lists the objects these pages refer to, with their address in the published
documentation; :func:`write_inventories` writes them in Sphinx's inventory format (version 2)
before the build.  Add an entry here when a page refers to another object of these projects.
"""
import os
import zlib

#: project -> (base URL, version, [(name, domain:role, path relative to the base)])
INVENTORIES = {
    "numpy": ("https://numpy.org/doc/stable/", "stable", [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
        ("numpy.linspace", "py:function", "reference/generated/numpy.linspace.html#$"),
        ("numpy.polyfit", "py:function", "reference/generated/numpy.polyfit.html#$"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
        ("numpy.random.default_rng", "py:function", "reference/random/generator.html#$"),
        ("numpy.typing.ArrayLike", "py:data", "reference/typing.html#$"),
        ("numpy.typing.NDArray", "py:data", "reference/typing.html#$"),
        ("numpy.fft", "py:module", "reference/routines.fft.html#module-$"),
    ]),
    "scipy": ("https://docs.scipy.org/doc/scipy/", "stable", [
        ("scipy.integrate.solve_ivp", "py:function", "reference/generated/scipy.integrate.solve_ivp.html#$"),
        ("scipy.integrate.OdeSolution", "py:class", "reference/generated/scipy.integrate.OdeSolution.html#$"),
        ("scipy.integrate.cumulative_simpson", "py:function",
         "reference/generated/scipy.integrate.cumulative_simpson.html#$"),
        ("scipy.integrate.quad", "py:function", "reference/generated/scipy.integrate.quad.html#$"),
        ("scipy.optimize.minimize", "py:function", "reference/generated/scipy.optimize.minimize.html#$"),
        ("scipy.optimize.OptimizeResult", "py:class",
         "reference/generated/scipy.optimize.OptimizeResult.html#$"),
        ("scipy.special.erfcx", "py:data", "reference/generated/scipy.special.erfcx.html#$"),
        ("scipy.linalg.lapack", "py:module", "reference/linalg.lapack.html#module-$"),
    ]),
    "python": ("https://docs.python.org/3/", "3", [
        ("ast.parse", "py:function", "library/ast.html#$"),
        ("math", "py:module", "library/math.html#module-$"),
        ("fractions.Fraction", "py:class", "library/fractions.html#$"),
        ("concurrent.futures", "py:module", "library/concurrent.futures.html#module-$"),
        ("concurrent.futures.Future", "py:class", "library/concurrent.futures.html#$"),
        ("concurrent.futures.ProcessPoolExecutor", "py:class", "library/concurrent.futures.html#$"),
        ("concurrent.futures.Executor", "py:class", "library/concurrent.futures.html#$"),
        ("logging", "py:module", "library/logging.html#module-$"),
        ("functools.partial", "py:function", "library/functools.html#$"),
    ]),
}


def write_inventories(folder):
    """Write ``folder/<project>.inv`` for every project; returns Sphinx's
    ``intersphinx_mapping`` pointing at them (no network is used)."""
    os.makedirs(folder, exist_ok=True)
    mapping = {}
    for project, (base, version, entries) in INVENTORIES.items():
        header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
                  f"# The remainder of this file is compressed using zlib.\n").encode()
        body = "".join(f"{name} {role} 1 {path} -\n" for name, role, path in entries).encode()
        path = os.path.join(folder, f"{project}.inv")
        with open(path, "wb") as fh:
            fh.write(header + zlib.compress(body))
        mapping[project] = (base, path)
    return mapping
