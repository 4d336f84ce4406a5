"""integrallimits: Volterra integral equations, their solvers, and the deep-layer limits of
ResNets and DenseNets as quadrature rules.

The public entry points::

    from integrallimits import solve_volterra, METHODS
    sol = solve_volterra(K, g, t_span=(0.0, T), n_steps=N, method="trapezoid")
"""
from .volterra import METHODS, Solution, SolverError, solve_volterra
from .fredholm import solve_fredholm
from .volterra._vide import solve_vide

__version__ = "0.1.0"

__all__ = ["METHODS", "Solution", "SolverError", "solve_volterra", "__version__",
           "solve_fredholm", "solve_vide"]
