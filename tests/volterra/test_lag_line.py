"""lag-64: K jumping or kinked along a line s = t - b (``_adaptive.lag_defects``): found in the
rows' histories, and smooth kernels whose code branches left alone."""
import numpy as np

from integrallimits import solve_volterra
from integrallimits.kernels._kernel import as_kernel
from integrallimits.volterra import _adaptive


def _memory(t, s, y, a, b):
    """K = a [t - s > b] y - y: a memory of finite length b."""
    return (a if t - s > b else 0.0) * y - y


def _far_kink(t, s, y, a):
    """K = a |t - s + 3| y - y: its kink at s = t + 3 lies outside every history."""
    return a * abs(t - s + 3.0) * y - y


def _rows(kernel, t, y, p):
    return _adaptive.lag_defects(kernel, t, np.asarray(y, dtype=float).reshape(-1, 1), p)


def test_lag_defects_follow_the_line_through_every_row():
    # the jump at s = t - 0.3 lies in the history of the rows t > 0.3 only, and in each at
    # another step: every row after it misses, the rows before none
    b = 0.3
    kernel = as_kernel(_memory, 1.0, 0.0, args=(1.5, b))
    t = np.linspace(0.0, 1.0, 65)
    miss, calls = _rows(kernel, t, np.cos(t), 2)
    assert calls > 0
    after = t > b + 2 * (t[1] - t[0])        # (the last step of a row is not its history's)
    assert np.all(miss[after, 0] > 1e-4)
    assert np.all(miss[t < b, 0] == 0.0)


def test_smooth_kernel_that_branches_is_not_flagged():
    # abs in the code, no kink in [0, 2]: swept (the code is not visibly smooth), none found
    kernel = as_kernel(_far_kink, 1.0, 0.0, args=(-0.5,))
    t = np.linspace(0.0, 2.0, 33)
    miss, calls = _rows(kernel, t, np.exp(-t), 4)
    assert calls > 0 and not np.any(miss)
    sol = solve_volterra(_far_kink, lambda t, a: np.cos(t), (0.0, 2.0), 64, method="gauss2",
                         args=(-0.5,))
    assert sol.success and "s = t - b" not in sol.message


def test_visibly_smooth_kernel_is_not_swept():
    kernel = as_kernel(lambda t, s, y: np.exp(-(t - s)) * y, 1.0, 0.0)
    t = np.linspace(0.0, 1.0, 33)
    miss, calls = _rows(kernel, t, np.ones_like(t), 2)
    assert calls == 0 and not np.any(miss)
