"""Quadrature rules as data: interval rules and Volterra (lower-triangular) rules."""
from ._cumulative import cumulative_integrate
from ._interval import (INTERVAL_RULES, IntervalRule, clenshaw_curtis, composite_rectangle,
                        composite_simpson, composite_trapezoid, gauss_legendre, gauss_lobatto,
                        gauss_radau, interval_rule)
from ._volterra import VOLTERRA_RULES, VolterraRule, volterra_rule

__all__ = ["VOLTERRA_RULES", "VolterraRule", "volterra_rule",
           "IntervalRule", "INTERVAL_RULES", "interval_rule", "gauss_legendre", "gauss_radau",
           "gauss_lobatto", "clenshaw_curtis", "composite_rectangle", "composite_trapezoid",
           "composite_simpson", "cumulative_integrate"]
