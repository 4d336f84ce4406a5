"""Solvers for nonlinear Volterra integral equations of the second kind."""
from ._methods import METHODS, DirectQuadrature, VolterraMethod, VolterraRungeKutta
from ._solution import Solution, SolverError
from ._solve import solve_volterra

__all__ = ["METHODS", "DirectQuadrature", "VolterraMethod", "VolterraRungeKutta", "Solution",
           "SolverError", "solve_volterra", "graded_mesh", "grading_exponent", "FIRST_KIND_METHODS",
           "solve_first_kind", "VIDE_METHODS", "solve_vide"]

# The first-kind, weakly singular and integro-differential solvers are imported on first use
# (PEP 562): each defines compiled functions that a second-kind solve does not need.
_LAZY = {"FIRST_KIND_METHODS": "_first_kind", "solve_first_kind": "_first_kind",
         "graded_mesh": "_singular", "grading_exponent": "_singular",
         "VIDE_METHODS": "_vide", "solve_vide": "_vide"}


def __getattr__(name):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
