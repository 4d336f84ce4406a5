"""The first kind's estimates at the first points where y is not smooth at t0 (y = sqrt(t), K = 1):
y(t0) comes from the first step, whose values converge like h^(1/2) there, and the Richardson
estimate at the method's order p was (2^p - 1) / (sqrt(2) - 1) times below the error (7.2 for
radau2 and the midpoint rule, 17 for radau3).  They are raised to the error at the order the
solves of the first two steps on 2, 4 and 8 steps show (:func:`._first_kind._with_start_order`),
on a given mesh and to a tolerance, where radau3 at rtol = atol = 1e-2 was a success on 8 steps
with an error of 0.054 at t0, 5.4 times the tolerance."""
import numpy as np
import pytest

from integrallimits import solve_volterra


def _one(t, s):
    return 1.0


def _g_sqrt(t):
    return 2.0 / 3.0 * np.asarray(t) ** 1.5 + 0.0 * np.asarray(t)    # y = sqrt(t)


def _g_smooth(t):
    return np.sin(t)                                                 # y = cos(t)


@pytest.mark.parametrize("method", ["midpoint", "radau2", "radau3", "radau4"])
def test_estimate_at_t0_of_sqrt_on_a_given_mesh(method):
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), 8, method=method, kind=1)
    error = np.abs(sol._y2[:2, 0] - np.sqrt(sol.mesh[:2]))
    assert error[0] <= 1.5 * sol._est2[0, 0], (error, sol._est2[:2, 0])
    assert "first points were raised" in sol.message


@pytest.mark.parametrize("method", ["radau3", "radau4"])
def test_sqrt_start_to_a_tolerance_is_no_false_success(method):
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), method=method, kind=1, rtol=1e-2,
                         atol=1e-2)
    error = np.abs(sol._y2[:, 0] - np.sqrt(sol.mesh))
    assert error[0] <= 1.5 * sol._est2[0, 0]
    if sol.success:
        assert np.all(error <= 2.0 * (1e-2 + 1e-2 * np.sqrt(sol.mesh)))


def test_smooth_start_is_not_raised():
    sol = solve_volterra(_one, _g_smooth, (0.0, 1.0), 8, method="radau2", kind=1)
    assert sol.success and "first points were raised" not in sol.message


def test_a_start_that_cannot_be_checked_is_said():
    """g given on the times k / 16 only (a table): the solves of the first two steps on 4 and
    8 steps take other times, where g raises.  The solve raised the user's ValueError from
    that check (slow-63's, found by the CI after the merges); now the estimates of the first
    points stay as the solve made them and the message says they were not checked."""
    def table(t):
        if abs(t * 16 - round(t * 16)) > 1e-12:
            raise ValueError(f"no data at t = {t}")
        return 2.0 * t
    sol = solve_volterra(lambda t, s: 2.0, table, (0.0, 1.0), 8, "radau1", kind=1)
    assert "The estimates of the first points were not checked at the order there: ValueError " \
           "raised by g or K there (no data at t = " in sol.message, sol.message
    assert np.allclose(sol.y, 1.0)
