"""Plain Python vector kernels: arrays and tuples (which allocate nothing per call) give the same
solution; tuples mixing ints and floats work; a wrong length is reported."""
import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.volterra.problems import PROBLEMS

P = PROBLEMS["vector"]


def k_tuple(t, s, y):
    return ((1.0 + t - s) * y[0] * y[1], np.exp(s - t) * y[0] - 0.5 * t * s * y[1] ** 2)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gauss2"])
def test_tuple_kernel_equals_array_kernel(method):
    ref = solve_volterra(P.kernel, P.forcing, P.t_span, 32, method=method, jacobian=P.jacobian)
    sol = solve_volterra(k_tuple, P.forcing, P.t_span, 32, method=method, jacobian=P.jacobian)
    assert sol.success
    np.testing.assert_array_equal(sol.y, ref.y)


def test_tuple_mixing_ints_and_floats():
    # y = (1, 0) + int_0^t (0, y_0) ds = (1, t)
    sol = solve_volterra(lambda t, s, y: (0, y[0]), lambda t: np.array([1.0, 0.0]), (0.0, 1.0), 8,
                         method="trapezoid")
    np.testing.assert_allclose(sol.y, np.stack([np.ones(9), sol.t], axis=1), rtol=0, atol=1e-14)


def test_tuple_of_the_wrong_length():
    with pytest.raises(ValueError, match=r"returned shape \(3,\)"):
        solve_volterra(lambda t, s, y: (y[0], y[1], 0.0), lambda t: np.array([1.0, 0.0]),
                       (0.0, 1.0), 8)
