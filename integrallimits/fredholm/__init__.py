"""Fredholm integral equations of the second kind: the Nyström method on the package's interval rules.

    from integrallimits.fredholm import solve_fredholm
    sol = solve_fredholm(K, g, (a, b), n_nodes=M, rule="gauss-legendre")

:func:`nystrom_matrix` exposes the same machinery for other users of discretised
integral operators (the non-local feature maps of the networks).  This layer
imports only :mod:`integrallimits.quadrature` and :mod:`integrallimits.kernels`
(and the common :class:`~integrallimits.SolverError`).
"""
from ._solution import FredholmSolution
from ._solve import nystrom_matrix, solve_fredholm

__all__ = ["FredholmSolution", "nystrom_matrix", "solve_fredholm"]
