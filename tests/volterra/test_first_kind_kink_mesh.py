"""First-kind solves whose data have a kink (a kink or a jump of y) at a point of the
solution's mesh: the answer's steps end there and are exact or at the method's order, while
the companions of the estimate (the half-steps one, the odd points' one, every fourth
point's) merged steps across the point, and their error there, O(h) or O(1), made the
estimate.  Their steps are now split at that point (``_first_kind._KinkSplitRun``).  On main
(1bdaeb5) radau3 at rtol = atol = 1e-3 on y = |t - 1/2| failed after 5248 steps and 1.95e8
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
    assert sol._est2.max() < 1e-10
    assert np.all(error <= 20.0 * sol._est2[:, 0])


def test_kink_at_a_mesh_point_to_a_tolerance_is_fast():
    sol = solve_volterra(_one, _g_kink, (0.0, 1.0), method="radau3", kind=1, rtol=1e-3,
                         atol=1e-3)
    assert sol.success, sol.message
    assert len(sol.mesh) - 1 <= 64 and sol.stats["nfev"] < 100_000   # (main: 1.95e8)
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
    coarse = fine[::2]
    assert np.array_equal(_kink_splits(_g_kink, fine[[0, 1] + list(range(3, 97, 2)) + [96]],
                                       fine), [0.5])
    assert _kink_splits(_g_kink, coarse, fine).size == 0     # (1/2 is a point of coarse)
    # a kink inside a step of the finer mesh, a kink nowhere: nothing split
    a = 0.3 + 1e-3 * math.pi
    assert _kink_splits(lambda x: np.abs(x - a) - a, coarse, fine).size == 0
    assert _kink_splits(np.sin, fine[[0] + list(range(1, 97, 2)) + [96]], fine).size == 0
