"""Solvers for nonlinear Volterra integral equations of the second kind."""
from ._methods import METHODS, DirectQuadrature, VolterraMethod, VolterraRungeKutta
from ._solution import Solution, SolverError
from ._first_kind import FIRST_KIND_METHODS, solve_first_kind
from ._singular import graded_mesh, grading_exponent
from ._vide import VIDE_METHODS, solve_vide
from ._solve import solve_volterra

__all__ = ["METHODS", "DirectQuadrature", "VolterraMethod", "VolterraRungeKutta", "Solution",
           "SolverError", "solve_volterra", "graded_mesh", "grading_exponent", "FIRST_KIND_METHODS",
           "solve_first_kind", "VIDE_METHODS", "solve_vide"]
