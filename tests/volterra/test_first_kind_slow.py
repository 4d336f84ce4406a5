"""First-kind solves to a tolerance that no uniform mesh meets, refused once the refinement shows
it: y = sqrt(t) (the relative error at the first mesh points is the same on every mesh) and a
kink of y at a zero of y.  They refined to the most steps allowed, 2^14, each mesh 1.35 times
the last at the same ratio to the tolerance (radau2 on y = sqrt(t) at rtol 1e-1: 26 meshes,
2.6e9 kernel evaluations, 5 minutes) before the same failure."""
import math

import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.volterra._tolerance import _too_slow


def _one(t, s):
    return 1.0


def _g_sqrt(t):
    return 2.0 / 3.0 * np.asarray(t) ** 1.5 + 0.0 * np.asarray(t)    # y = sqrt(t)


def _g_kink(t):                                                  # y = |t - 1/2|
    t = np.asarray(t, dtype=float)
    return np.where(t < 0.5, 0.5 * t - 0.5 * t * t, 0.125 + 0.5 * (t - 0.5) ** 2)


def _refused_slow(sol):
    assert not sol.success
    assert sol.stats["failure"] == "tolerance"
    assert "only at the order" in sol.message, sol.message
    assert sol.stats["observed_order"] < 0.125 * sol.order


def test_sqrt_start_is_refused_after_a_few_meshes():
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), method="radau2", kind=1, rtol=1e-1)
    _refused_slow(sol)
    assert "t = 0," in sol.message          # (the point of the largest ratio)
    assert sol.stats["nfev"] < 100_000      # (2.6e9 at 16384 steps)
    assert len(sol.mesh) - 1 <= 64
    # the values kept come with estimates (the first step's error is not resolved by any
    # mesh: within HONEST = 20 of it)
    error = np.abs(sol._y2[:, 0] - np.sqrt(sol.mesh))
    assert np.all(error <= 20.0 * sol._est2[:, 0] + 1e-12)


def test_kink_at_a_zero_of_y_is_refused_after_a_few_meshes():
    sol = solve_volterra(_one, _g_kink, (0.0, 1.0), method="midpoint", kind=1, rtol=1e-3)
    _refused_slow(sol)
    assert "t = 0.5," in sol.message
    assert sol.stats["nfev"] < 100_000      # (to 16384 steps before)


def test_sqrt_start_with_an_absolute_tolerance_is_not_refused():
    # (atol holds at the first points: the estimate there falls like sqrt(h), order 1/2, at
    # which the steps allowed meet the tolerance)
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), method="radau3", kind=1, rtol=1e-2,
                         atol=1e-2)
    assert sol.success, sol.message
    error = np.abs(sol._y2[:, 0] - np.sqrt(sol.mesh))
    assert np.all(error <= 10.0 * (1e-2 + 1e-2 * np.sqrt(sol.mesh)))


def test_sqrt_start_with_a_small_absolute_tolerance_is_refused_after_a_few_meshes():
    # (atol holds at the first points, where the estimate falls like sqrt(h): 1097, 301, 81
    # times the tolerance on 8, 128, 2048 steps, the order 0.47 of radau2's 2, and even at the
    # order 1 about 1.6e5 steps would meet it.  On main the refinement went on to 2^14 steps
    # (64 times the kernel evaluations of 2048) before the same failure)
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), method="radau2", kind=1, rtol=1e-5,
                         atol=1e-5)
    assert not sol.success
    assert sol.stats["failure"] == "tolerance"
    assert "only at the order" in sol.message, sol.message
    assert 0.125 * sol.order < sol.stats["observed_order"] < 0.5 * sol.order
    assert sol.stats["nfev"] < 50_000_000      # (1.3e7 at 2048 steps)
    assert len(sol.mesh) - 1 <= 2048
    error = np.abs(sol._y2[:, 0] - np.sqrt(sol.mesh))
    assert np.all(error <= 20.0 * sol._est2[:, 0] + 1e-12)


@pytest.mark.parametrize("history, n_max", [
    ([(8, 100.0), (28, 8.0), (64, 1.5)], 2 ** 14),                 # converging
    ([(8, 25.0), (28, 298.0), (216, 4e5)], 2 ** 14),               # resolving: the ratio rises
    ([(8, 1.38), (12, 1.38), (18, 1.38)], 2 ** 14),                # spans less than 4
    ([(8, 2.0), (16, 1.8), (32, 1.6)], 2 ** 14),                   # order 0.16: 590 steps
    ([(8, 250.0), (128, 750.0), (512, 749.0)], 2 ** 14),           # one refinement, 4 times
    ([(8, 250.0), (128, 750.0), (2048, 700.0)], 2 ** 14),          # one refinement, 7% fall
    ([(8, 1.38), (32, np.inf), (36, 1.38), (40, 1.38)], 2 ** 14),  # a failed attempt
])
def test_too_slow_needs_a_flat_run_that_spans_the_steps(history, n_max):
    assert _too_slow(history, 2, n_max) is None


def test_too_slow_flat_ratios():
    n_a, ratio_a, q, needed = _too_slow(
        [(8, 1.3807117), (12, 1.3807117), (18, 1.3807116), (26, 1.3807116), (36, 1.3807115)],
        2, 2 ** 14)
    assert (n_a, ratio_a) == (8, 1.3807117) and 0.0 < q < 1e-6 and needed > 1e12
    # one refinement of 16 times the steps at the same ratio (y = |t - 1/2|, radau2, 1e-3)
    n_a, ratio_a, q, needed = _too_slow([(8, 249.998), (128, 749.904), (2048, 748.467)], 2,
                                        2 ** 14)
    assert (n_a, ratio_a) == (128, 749.904) and q < 1e-3 and needed > 2 ** 14
    # the ratio rose: not "fell at an order"; needed is infinite
    assert _too_slow([(8, 2.0), (16, 2.0), (32, 2.001)], 1, 2 ** 14)[3] == math.inf


def test_too_slow_at_an_order_that_the_steps_allowed_do_not_meet():
    # y = sqrt(t), radau2, rtol = atol = 1e-5: the atol holds at the first points, the ratio
    # falls at the order 0.47 (a quarter of the method's), and even at twice it about 1.6e5
    # steps would meet the tolerance; on main it went on to 2^14 steps
    n_a, ratio_a, q, needed = _too_slow([(8, 1096.577), (128, 300.866), (2048, 80.521)], 2,
                                        2 ** 14)
    assert (n_a, ratio_a) == (8, 1096.577) and 0.45 < q < 0.5 and needed > 1e7


@pytest.mark.parametrize("history, p", [
    # the first kind's midpoint rule on y = cos t - sin t at rtol 1e-3: the order 0.54 (more
    # than a quarter of the method's) between 54 and 232 steps, which met the tolerance at 348
    ([(8, 33.3), (54, 3.69), (120, 2.79), (232, 1.68)], 2),
    # ... at rtol 1e-6: 1.46 from 128 to 2048 steps, N_needed 1.6e4, met at 10776
    ([(8, 32669.6), (128, 1184.8), (2048, 20.93)], 2),
    # the order 1/2 of radau3, where twice it reaches the tolerance within the steps allowed
    ([(16, 40.0), (64, 20.0), (256, 10.0)], 3),
])
def test_too_slow_not_where_the_steps_allowed_may_meet_it(history, p):
    assert _too_slow(history, p, 2 ** 14) is None


def test_sqrt_start_after_a_rise_is_refused_after_one_refinement():
    # radau4 at rtol = atol = 1e-6: 1063, 6289, 2776 times the tolerance on 8, 54, 282 steps,
    # the order 0.49 after the rise; main went on (2048 steps: 1034 times it) towards 2^14
    # (radau3 on the same: from 1364 steps straight to 2^14, 15 minutes)
    sol = solve_volterra(_one, _g_sqrt, (0.0, 1.0), method="radau4", kind=1, rtol=1e-6,
                         atol=1e-6)
    _refused_slow(sol)
    assert "t = 0," in sol.message
    assert len(sol.mesh) - 1 <= 512 and sol.stats["nfev"] < 5_000_000
    error = np.abs(sol._y2[:, 0] - np.sqrt(sol.mesh))
    assert np.all(error <= 20.0 * sol._est2[:, 0] + 1e-12)
