"""Problems of size 1e-30: Newton's finite-difference steps and its stopping test take the size
of the solution (y(t0), or the Fredholm values) where it is below 1, so that a problem scaled
by c is solved as the problem of size 1 (the absolute floor 1 made Jacobians 1e22 times too
large, Newton's updates nothing, and solves to a tolerance successes with errors of 50%)."""
import numpy as np
import pytest

from integrallimits import solve_fredholm, solve_vide, solve_volterra

C = 1e-30


def _square(t, s, y, c):
    return y * y / c            # y = c / (1 - t) solves y = c + int_0^t y^2 / c ds


def _start(t, c):
    return c


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "radau3", "gauss2"])
def test_tolerance_solve_of_a_tiny_problem_meets_the_tolerance(method):
    sol = solve_volterra(_square, _start, (0.0, 0.5), method=method, rtol=1e-6, atol=0.0,
                         args=(C,))
    exact = C / (1.0 - sol.t)
    assert sol.success, sol.message
    assert np.max(np.abs(sol.y - exact) / exact) <= 1e-6


@pytest.mark.parametrize("method", ["trapezoid", "radau3", "gauss2"])
def test_a_tiny_problem_is_solved_as_the_problem_of_size_one(method):
    tiny = solve_volterra(_square, _start, (0.0, 0.5), 32, method=method, args=(C,))
    one = solve_volterra(_square, _start, (0.0, 0.5), 32, method=method, args=(1.0,))
    assert one.success and tiny.success, tiny.message      # (not a false "grows 2e20 e-folds")
    np.testing.assert_allclose(tiny.y / C, one.y, rtol=1e-9)
    np.testing.assert_allclose(tiny.error_estimate / C, one.error_estimate, rtol=1e-3,
                               atol=1e-15)


def _f(t, y, z, c):
    return y * y / c + z


def _zero_memory(t, s, y, c):
    return 0.0 * y


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_a_tiny_vide_is_solved_as_the_vide_of_size_one(method):
    tiny = solve_vide(_f, _zero_memory, C, (0.0, 0.5), 32, method=method, args=(C,))
    one = solve_vide(_f, _zero_memory, 1.0, (0.0, 0.5), 32, method=method, args=(1.0,))
    assert one.success and tiny.success
    exact = C / (1.0 - tiny.t)
    # (the absolute floor: a success with errors of 2e-2 on 32 steps)
    assert np.max(np.abs(tiny.y - exact) / exact) <= 1e-10
    np.testing.assert_allclose(tiny.y / C, one.y, rtol=1e-9)


def _fred_kernel(x, s, y, c):
    return 0.25 * y * y / c     # y = c (1 + x) for g = c (1 + x - 7 / 12)


def _fred_forcing(x, c):
    return c * (1.0 + x - 0.25 * 7.0 / 3.0)


@pytest.mark.parametrize("options", [{"n_nodes": 8}, {"rtol": 1e-8, "atol": 0.0}])
def test_a_tiny_fredholm_equation_is_solved_as_the_one_of_size_one(options):
    sol = solve_fredholm(_fred_kernel, _fred_forcing, (0.0, 1.0), args=(C,), **options)
    assert sol.success, sol.message          # (not a "singular" Newton matrix)
    exact = C * (1.0 + sol.x)
    assert np.max(np.abs(sol.y - exact) / exact) <= 1e-12


@pytest.mark.parametrize("method", ["radau3", "gregory4"])
def test_a_problem_scaled_by_a_power_of_two_is_solved_bit_for_bit_as_itself(method):
    # the floor is a power of 2: the scaled solve makes the same operations, scaled exactly
    c = 2.0 ** -100
    tiny = solve_volterra(_square, _start, (0.0, 0.5), method=method, rtol=1e-6, atol=0.0,
                          args=(c,))
    one = solve_volterra(_square, _start, (0.0, 0.5), method=method, rtol=1e-6, atol=0.0,
                         args=(1.0,))
    assert tiny.success and one.success
    np.testing.assert_array_equal(tiny.t, one.t)
    np.testing.assert_array_equal(tiny.y / c, one.y)
