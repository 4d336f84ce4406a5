"""Tolerances per component (``rtol``/``atol`` arrays, as in :func:`scipy.integrate.solve_ivp`):
each component meets its own ``atol_i + rtol_i |y_i|``, and a loose component costs fewer steps;
arrays that do not fit y are refused before any work, by every solver."""
import warnings

import numpy as np
import pytest

from integrallimits import solve_fredholm, solve_vide, solve_volterra


def _kernel(t, s, y):            # y1 = e^{-t}, y2 = 1 / (1 + 8 t): y1' = -y1, y2' = -8 y2^2
    return np.array([-y[0], -8.0 * y[1] * y[1]])


def _forcing(t):
    return np.array([1.0, 1.0])


def _exact(t):
    return np.stack([np.exp(-t), 1.0 / (1.0 + 8.0 * t)], axis=-1)


def test_each_component_meets_its_own_tolerance_and_a_loose_one_costs_less():
    rtol, results = 1e-14, {}
    for atol in ((1e-10, 1e-10), (1e-10, 1e-4), (1e-4, 1e-10)):
        sol = solve_volterra(_kernel, _forcing, (0.0, 2.0), method="radau3", rtol=rtol,
                             atol=np.array(atol))
        assert sol.success, sol.message
        exact = _exact(sol.t)
        scaled = np.abs(sol.y - exact) / (np.array(atol) + rtol * np.abs(exact))
        assert scaled.max(axis=0).max() <= 10.0, scaled.max(axis=0)
        assert np.all(sol.error_estimate <= np.array(atol) + rtol * np.abs(sol.y))
        results[atol] = sol
    # y2 (the reciprocal) is the harder component: loosening it saves steps, loosening y1 less
    tight = results[(1e-10, 1e-10)].stats["nfev"]
    assert results[(1e-10, 1e-4)].stats["nfev"] < 0.75 * tight
    assert results[(1e-10, 1e-4)].stats["nfev"] < results[(1e-4, 1e-10)].stats["nfev"] <= tight
    # an array of equal values is the float
    same = solve_volterra(_kernel, _forcing, (0.0, 2.0), method="radau3", rtol=rtol, atol=[1e-10] * 2)
    assert np.array_equal(same.y, results[(1e-10, 1e-10)].y)


def _calls():
    vec = lambda x: np.array([1.0, x])
    return {
        "solve_volterra": lambda **tol: solve_volterra(_kernel, _forcing, (0.0, 1.0), **tol),
        "kind=1": lambda **tol: solve_volterra(lambda t, s, y: y, lambda t: np.array([t, 2 * t]),
                                               (0.0, 1.0), kind=1, **tol),
        "solve_vide": lambda **tol: solve_vide(lambda t, y, z: -y + z,
                                               lambda t, s, y: 0.1 * y, [1.0, 2.0], (0.0, 1.0), **tol),
        "solve_fredholm": lambda **tol: solve_fredholm(lambda x, s, y: 0.1 * np.cos(x - s) * y, vec,
                                                       (0.0, 1.0), **tol),
    }


@pytest.mark.parametrize("solver", ["solve_volterra", "kind=1", "solve_vide", "solve_fredholm"])
def test_tolerance_arrays_are_accepted_by_every_solver_and_checked_against_y(solver):
    call = _calls()[solver]
    sol = call(rtol=[1e-6, 1e-6], atol=np.array([1e-8, 1e-3]))
    assert sol.success, sol.message
    assert np.all(sol.error_estimate <= np.array([1e-8, 1e-3]) + 1e-6 * np.abs(sol.y))
    name = "solve_first_kind" if solver == "kind=1" else solver
    for tol in ({"atol": [1e-8]}, {"atol": [1e-8] * 3}, {"rtol": [1e-6] * 3}):
        with pytest.raises(ValueError, match=f"{name}: .* has (1|3) values, y has 2 components"):
            call(**tol)


@pytest.mark.parametrize("bad", [[[1e-8]], ["a", "b"], [1e-8, -1.0], [1e-8, np.nan], [True, False],
                                 [], True, np.inf])
def test_a_tolerance_that_is_not_finite_floats_is_refused(bad):
    for name in ("rtol", "atol"):
        with pytest.raises(ValueError, match=f"{name} must be a finite float >= 0 or a 1-d array"):
            solve_volterra(_kernel, _forcing, (0.0, 1.0), **{name: bad})
    with pytest.raises(ValueError, match="rtol and atol have different lengths"):
        solve_volterra(_kernel, _forcing, (0.0, 1.0), rtol=[1e-6] * 3, atol=[1e-8] * 2)
    with pytest.raises(ValueError, match="atol has 2 values, y has one component"):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), atol=[1e-8, 1e-8])


def test_an_rtol_component_below_the_floor_is_raised_to_it_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sol = solve_volterra(_kernel, _forcing, (0.0, 1.0), rtol=[1e-16, 1e-6], atol=[1e-12, 1e-12])
    assert [w.category for w in caught] == [UserWarning] and "below 1e-14" in str(caught[0].message)
    assert np.array_equal(sol.stats["rtol"], [1e-14, 1e-6])
    with pytest.raises(ValueError, match="below 1e-14 with atol = 0"):
        solve_volterra(_kernel, _forcing, (0.0, 1.0), rtol=[1e-16, 1e-6], atol=[0.0, 1e-12])


def _rotation(t, s, y):          # y1' = y2, y2' = -y1, y(0) = (0, 1): y = (sin t, cos t)
    return (y[1], -y[0])


def _start(t):
    return np.array([0.0, 1.0])


@pytest.mark.parametrize("method", [None, "gauss2", "gregory4"])
def test_a_relative_tolerance_on_a_component_that_starts_at_zero_is_met(method):
    """rtol = 1e-6, atol = 0 with y1(0) = 0: every solve has the exact y(t0) = g(t0) and its
    estimate 0, and 0 / 0 was NaN, a tolerance never met: the refinement went on to the most
    steps allowed (radau3, the default: killed after 18 minutes; 2 minutes was not enough).
    An exact value meets any tolerance."""
    sol = solve_volterra(_rotation, _start, (0.0, 2.0), method=method, rtol=1e-6,
                         atol=np.array([0.0, 0.0]))
    assert sol.success, sol.message
    exact = np.stack([np.sin(sol.t), np.cos(sol.t)], axis=1)
    assert np.all(np.abs(sol.y - exact)[1:] <= 10 * 1e-6 * np.abs(exact)[1:])
    assert sol.stats["nfev"] < 1e7


@pytest.mark.parametrize("method", [None, "gauss2", "gregory4"])
def test_a_relative_tolerance_where_a_component_passes_through_zero_stops_and_says_so(method):
    """On [0, 2 pi], sin and cos are 0 at mesh points (pi / 2, pi, 2 pi): there |y| is the
    solve's own error, and a relative tolerance is never met however fine the mesh (radau3
    refined to its 2^15 steps, 1.2e10 kernel evaluations, to fail).  The solve stops at the
    first check that sees it and says what to do."""
    sol = solve_volterra(_rotation, _start, (0.0, 2.0 * np.pi), method=method, rtol=1e-6,
                         atol=np.array([0.0, 0.0]))
    assert not sol.success and sol.stats["failure"] == "tolerance"
    assert "atol > 0" in sol.message and "passes through 0" in sol.message
    assert sol.stats["nfev"] < 1e8
    # with an absolute tolerance the same problem is solved
    sol = solve_volterra(_rotation, _start, (0.0, 2.0 * np.pi), method=method, rtol=1e-6,
                         atol=np.array([1e-9, 1e-9]))
    assert sol.success, sol.message
