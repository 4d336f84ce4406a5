"""First-kind solves whose data have a kink (a kink or a jump of y) at a point of the
solution's mesh: the answer's steps end there and are exact or at the method's order, while
the companions of the estimate (the half-steps one, the odd points' one, every fourth
point's) merged steps across the point, and their error there, O(h) or O(1), made the
estimate.  Their steps are now split at that point (``_first_kind._KinkSplitRun``).  On
69efd7b radau3 at rtol = atol = 1e-3 on y = |t - 1/2| failed after 5248 steps and 1.95e8
kernel evaluations ("only at the order 0.0013") for a largest error of 2.4e-12."""
import math

import numpy as np
import pytest

from integrallimits import solve_volterra


def _one(t, s):
    return 1.0


def _exp(t, s):
    return np.exp(t - s)


def _g_kink(t):                                                  # y = |t - 1/2|
    t = np.asarray(t, dtype=float)
    return np.where(t < 0.5, 0.5 * t - 0.5 * t * t, 0.125 + 0.5 * (t - 0.5) ** 2)


def _g_jump_exp(t):          # K = e^(t - s), y = -1 on [0, 1/2], 1 after (a jump of y)
    t = np.asarray(t, dtype=float)
    before = -(1.0 - np.exp(-np.minimum(t, 0.5)))
    after = np.where(t > 0.5, math.exp(-0.5) - np.exp(-t), 0.0)
    return np.exp(t) * (before + after)


def _y_jump(t):
    return np.where(np.asarray(t) <= 0.5, -1.0, 1.0)      # (at 1/2 the left limit)


def test_kink_at_a_mesh_point_has_the_estimate_of_its_exact_answer():
    # (main: the estimate 9.6e-3 at t = 0.5104 for an error of 3e-14: the odd points'
    # companion's 49 steps have 1/2 inside one of theirs)
    sol = solve_volterra(_one, _g_kink, (0.0, 1.0), 96, method="radau3", kind=1)
    assert sol.success, sol.message
    error = np.abs(sol._y2[:, 0] - np.abs(sol.mesh - 0.5))
    assert error.max() < 1e-12
    # (at most the error of a kink of y hidden within reach of 1/2 that the check of g cannot
    # see, about 1.7e-7: _estimate.split_point_floor)
    assert sol._est2.max() < 1e-6
    assert np.all(error <= 20.0 * sol._est2[:, 0])


@pytest.mark.parametrize("method", ["radau2", "radau3", "radau4"])
def test_kink_at_a_mesh_point_to_a_tolerance_is_fast(method):
    # (main 1bdaeb5: successes on 1048, 28 and 16 steps, 3.7e6, 12368 and 6877 kernel
    # evaluations, estimates 7.2e-4 to 9.8e-4 for errors below 3e-13; 69efd7b failed radau3
    # after 5248 steps; now 8 steps, 493 to 1921 evaluations)
    sol = solve_volterra(_one, _g_kink, (0.0, 1.0), method=method, kind=1, rtol=1e-3,
                         atol=1e-3)
    assert sol.success, sol.message
    assert len(sol.mesh) - 1 <= 16 and sol.stats["nfev"] < 5_000
    error = np.abs(sol._y2[:, 0] - np.abs(sol.mesh - 0.5))
    assert np.all(error <= 20.0 * sol._est2[:, 0] + 1e-13)


@pytest.mark.parametrize("method", ["radau2", "radau3", "radau4"])
def test_jump_at_a_mesh_point_to_a_tolerance(method):
    sol = solve_volterra(_exp, _g_jump_exp, (0.0, 1.0), method=method, kind=1, rtol=1e-3,
                         atol=1e-3)
    assert sol.success, sol.message
    assert sol.stats["nfev"] < 100_000
    error = np.abs(sol._y2[:, 0] - _y_jump(sol.mesh))
    assert np.all(error <= 2.0 * sol._est2[:, 0] + 1e-13)
    assert np.all(error <= 1e-3 + 1e-3 * np.abs(_y_jump(sol.mesh)))


def test_kink_splits_only_at_a_kink_at_a_point_of_the_finer_mesh():
    from integrallimits.volterra._first_kind import _kink_splits
    fine = np.linspace(0.0, 1.0, 97)
    odd = fine[[0] + list(range(1, 97, 2)) + [96]]
    points, reach = _kink_splits(_g_kink, odd, fine)
    assert np.array_equal(points, [0.5]) and 0.0 < reach[0] < 1e-6
    assert _kink_splits(_g_kink, fine[::2], fine)[0].size == 0   # (1/2 is a point of it)
    # a kink inside a step of the finer mesh, just beside its point, nowhere: nothing split
    for a in (0.3 + 1e-3 * math.pi, 0.5 - 1e-6):
        assert _kink_splits(lambda x, a=a: np.abs(x - a) - a, odd, fine)[0].size == 0
    assert _kink_splits(np.sin, odd, fine)[0].size == 0


@pytest.mark.parametrize("offset, jump", [(-1e-8, False), (-1e-7, False), (-1e-6, True),
                                          (-1e-12, True)])
def test_kink_just_before_a_mesh_point_keeps_its_estimate(offset, jump):
    # a kink or a jump of y just inside the step ending at 1/2: the solution's value there is
    # off by the slope's jump times the offset (by the jump of y), which a companion split at
    # 1/2 repeats (radau2, 100 steps: successes with errors of 2e-8 and 2 for estimates of
    # 1.3e-13 and 1.3e-3 before _smooth_up_to and split_point_floor)
    a = 0.5 + offset
    if jump:
        def g(x):
            return np.abs(x - a) - a

        def y(x):
            return np.where(np.asarray(x) <= a, -1.0, 1.0)
    else:
        def g(x):
            return np.where(x < a, a * x - 0.5 * x * x, 0.5 * a * a + 0.5 * (x - a) ** 2)

        def y(x):
            return np.abs(np.asarray(x) - a)
    sol = solve_volterra(_one, g, (0.0, 1.0), 100, method="radau2", kind=1)
    if sol.success:
        error = np.abs(sol._y2[:, 0] - y(sol.mesh))
        assert error.max() <= 20.0 * sol._est2.max() + 1e-12
