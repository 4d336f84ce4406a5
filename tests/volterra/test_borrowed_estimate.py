"""A point between the points the companions compare borrows a later point's estimate: where
that bound is over half the solution's size so far there, it is measured, not a refusal
(``_outcome.with_measured_between``); solves whose estimates assume a lower observed order
stay refused."""
import math

import numpy as np
import pytest

from integrallimits import solve_volterra


def exact(t):
    return 1.0 - np.cos(2.0 * t)


def linear_kernel(t, s, y):
    return 0.5 * y


def linear_g(t):
    # y = 1 - cos 2t = g + int_0^t y / 2 ds
    return 1.0 - math.cos(2.0 * t) - 0.5 * (t - 0.5 * math.sin(2.0 * t))


def convolution(a):
    """(K, g) of y = 1 - cos 2t = g + int_0^t exp(-a (t - s)) y / 2 ds."""
    def kernel(t, s, y):
        return 0.5 * math.exp(-a * (t - s)) * y

    def g(t):
        e = math.exp(-a * t)
        integral = (1.0 - e) / a - (a * math.cos(2.0 * t) + 2.0 * math.sin(2.0 * t) - a * e) / (
            a * a + 4.0)
        return 1.0 - math.cos(2.0 * t) - 0.5 * integral
    return kernel, g


@pytest.mark.parametrize("method,kernel,g", [                 # (validate --seed 14)
    ("implicit-rectangle", *convolution(2.0)),
    ("radau1", *convolution(1.0)),
    ("radau1", linear_kernel, linear_g),
])
def test_a_borrowed_estimate_over_the_size_so_far_is_measured(method, kernel, g):
    # y grows from 0: t = 0.25 took the estimate of t = 0.5 (0.070; radau1: 0.155 and 0.138
    # from the solves on every third point) against the size 0.134-0.135 there, and the solve
    # failed with "no reliable digits from t = 0.25" for an error of 0.012
    sol = solve_volterra(kernel, g, (0.0, 1.0), 4, method=method)
    assert sol.success, sol.message
    assert len(sol.t) == 5
    error = np.abs(sol.y - exact(sol.t))
    assert np.all(error <= sol.error_estimate), (error, sol.error_estimate)
    size = np.maximum.accumulate(np.abs(sol.y))
    assert np.all(sol.error_estimate[1:] <= 0.5 * size[1:])


def square(t, s, y):
    return y * y


def one(t):
    return 1.0


@pytest.mark.parametrize("method,n", [("rk4", 2), ("radau2", 4)])
def test_a_lower_observed_order_keeps_the_borrowed_bound(method, n):
    # y = 1 + int_0^t y^2 ds = 1 / (1 - t): the solutions converge at an order below p (0.88,
    # 0.68), y(0.875) = 6.89 (rk4) and 6.48 (radau2) for 8, no correct leading digit: refused
    sol = solve_volterra(square, one, (0.0, 0.875), n, method=method)
    assert not sol.success
    assert sol.t[-1] < 0.875
