"""Quadrature rules as data: interval rules and Volterra (lower-triangular) rules."""
from ._volterra import VOLTERRA_RULES, VolterraRule, volterra_rule

__all__ = ["VOLTERRA_RULES", "VolterraRule", "volterra_rule"]
