"""First-kind equations whose solution starts at 0: y(t0) is computed from the first step, so
its difference between the solution and its companions is that step's error, which was
compared with |y(t0)| = 0 alone ("no reliable digits from t = 0" on every mesh)."""
import numpy as np
import pytest

from integrallimits import solve_volterra


def _one(t, s):
    return 1.0


def _g(t):
    return 1.0 - np.cos(t)          # int_0^t y ds = 1 - cos t: y = sin t, y(0) = 0


@pytest.mark.parametrize("method", ["radau2", "radau3", "radau4", "midpoint"])
@pytest.mark.parametrize("T", [1.0, 6.0])
def test_fixed_mesh_is_a_success_with_its_error_estimated(method, T):
    sol = solve_volterra(_one, _g, (0.0, T), 64, method=method, kind=1)
    assert sol.success, sol.message
    error = np.abs(sol.y - np.sin(sol.t))
    assert np.all(error <= 4.0 * sol.error_estimate + 1e-15)


@pytest.mark.parametrize("method", ["radau2", "radau3"])
def test_tolerance_solve_meets_the_tolerance(method):
    sol = solve_volterra(_one, _g, (0.0, 1.0), method=method, kind=1, rtol=1e-3)
    assert sol.success, sol.message
    assert len(sol.t) - 1 < 4096           # (it refined to 16384 steps, then failed)
    error = np.abs(sol.y - np.sin(sol.t))
    assert np.all(error <= 1e-9 + 1e-3 * np.abs(sol.y))
