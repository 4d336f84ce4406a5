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


class _Measured(Exception):
    """Raised by the fake run: with_measured_between went on to the bisected solve."""


def _measures(Y, est):
    """Whether ``with_measured_between`` goes on to measure (calls the bisected solve) for a
    solution ``Y`` (N+1, d) with the estimates ``est``."""
    from types import SimpleNamespace

    from integrallimits.volterra._outcome import with_measured_between

    def run(mesh):
        raise _Measured

    n = len(Y)
    sol = SimpleNamespace(success=True, mesh=np.linspace(0.0, 1.0, n), _y2=Y, _est2=est,
                          stats={"estimate_order": 2.0, "nfev": 0}, message="")
    try:
        with_measured_between(sol, run, 2.0)
    except _Measured:
        return True
    return False


def test_a_few_scalar_values_decide_as_the_arrays():
    # the early exit of a scalar solution of a few values is made on floats: the same decision
    # as the arrays' (here those of the same values in two equal components), with NaN, inf
    # and estimates over half the size so far at one point or another
    rng = np.random.default_rng(49)
    decided = set()
    for case in range(400):
        n = int(rng.integers(3, 65))
        Y = rng.normal(size=(n, 1)) * 10.0 ** rng.integers(-3, 3)
        est = np.abs(rng.normal(size=(n, 1))) * 10.0 ** rng.integers(-6, 1)
        if case % 5 == 1:
            est[rng.integers(n)] = np.nan
        elif case % 5 == 2:
            Y[rng.integers(n)] = np.nan
        elif case % 5 == 3:
            est[rng.integers(n)] = np.inf
        elif case % 5 == 4:
            Y[:2] = 0.0
        scalar = _measures(Y.copy(), est.copy())
        assert scalar == _measures(np.repeat(Y, 2, axis=1), np.repeat(est, 2, axis=1)), case
        decided.add(scalar)
    assert decided == {True, False}
