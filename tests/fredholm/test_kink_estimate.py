"""Estimates of Fredholm solves to a tolerance on data that are not smooth (a kink of g or of K
in s), on which the Gauss-type and Clenshaw-Curtis rules converge algebraically and the
companion's difference can cancel by chance (fred-63; redec-62 find 2)."""
import numpy as np
import pytest
from exact_problems import (KINKED_G_ARGS, KINKED_G_L, check_against_exact, kinked_g_exact,
                            kinked_g_forcing, kinked_g_kernel)

from integrallimits import solve_fredholm
from integrallimits.fredholm import _solve

# y = g + int_0^2 a cos(b (x - s)) y ds with y = p0 + |x - c| (g has a kink at c): redec-62's
# find 2 (tests/exact_problems.py; rtol 1e-7 in tests/volterra/test_redec_finds.py), here at
# rtol = 5e-8, where main stopped on the same 473 nodes (error 51 times the estimate at a node,
# 1.7 times the tolerance).


def test_kink_of_g_tighter_tolerance():
    rtol, atol = 5e-8, 5e-10
    sol = solve_fredholm(kinked_g_kernel, kinked_g_forcing, (0.0, KINKED_G_L),
                         args=KINKED_G_ARGS, rtol=rtol, atol=atol)
    check_against_exact(sol, kinked_g_exact, rtol, atol)


def _k_kink_s(x, s, y, c, a):
    return c * np.abs(s - a) * y


def _k_smooth(x, s, y, c, a):
    return c * np.exp(-(x - s) ** 2) * y


@pytest.mark.parametrize("rule", ["gauss-legendre", "clenshaw-curtis"])
def test_flat_tail_tells_kinks(rule):
    """The coefficients of a kinked integrand through the nodes fall algebraically (a flat
    tail); a smooth one's geometrically (none)."""
    g = lambda x, c, a: np.exp(x)      # noqa: E731
    kinked = solve_fredholm(_k_kink_s, g, (0.0, 1.0), 64, rule, args=(0.5, 0.3 + 1e-3 * np.pi))
    smooth = solve_fredholm(_k_smooth, g, (0.0, 1.0), 64, rule, args=(0.5, 0.3))
    assert kinked.success and smooth.success
    assert _solve._flat_tail(kinked, rule)
    assert not _solve._flat_tail(smooth, rule)


def test_smooth_tolerance_solve_not_raised():
    """Smooth data to a tight tolerance: no estimate raised to the previous solve's."""
    def k(x, s, y):
        return np.cos(3.0 * (x - s)) * y / 4.0

    sol = solve_fredholm(k, lambda x: np.exp(-x) + np.sin(5.0 * x), (0.0, 1.0), rtol=1e-12,
                         atol=1e-12)
    assert sol.success, sol.message
    assert "not smooth" not in sol.message
