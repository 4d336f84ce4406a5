"""Training networks as optimal control of Volterra equations: adjoints, objectives, training."""
from ._adjoint import AdjointResult, discrete_adjoint

__all__ = ["AdjointResult", "discrete_adjoint"]
