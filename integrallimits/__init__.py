"""integrallimits: Volterra integral equations, their solvers, and the deep-layer limits of
ResNets and DenseNets as quadrature rules.

The public entry points::

    from integrallimits import solve_volterra, METHODS
    sol = solve_volterra(K, g, t_span=(0.0, T), n_steps=N, method="trapezoid")
"""
import importlib as _importlib

__version__ = "0.1.0"

__all__ = ["METHODS", "Solution", "SolverError", "solve_volterra", "__version__",
           "solve_fredholm", "solve_vide"]

# Imported on first use (PEP 562): ``import integrallimits`` loads neither Numba nor the
# compiled layers, so the command line's help and the study registry start at once.
_LAZY = {"METHODS": "volterra", "Solution": "volterra", "SolverError": "volterra",
         "solve_volterra": "volterra", "solve_fredholm": "fredholm", "solve_vide": "volterra"}
_SUBPACKAGES = ("quadrature", "kernels", "volterra", "fredholm", "networks", "control",
                "symbolic", "studies", "validation", "cli")


def __getattr__(name):
    if name in _LAZY:
        value = getattr(_importlib.import_module(f".{_LAZY[name]}", __name__), name)
    elif name in _SUBPACKAGES:
        value = _importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({n for n in globals() if not n.startswith("_") or n.startswith("__")}
                  | set(_LAZY) | set(_SUBPACKAGES))
