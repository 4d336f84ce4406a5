"""redec-62's finds: solves that report success with an error above 20 times their estimate
(where the error is above 1e-13) or above 10 times the tolerance.  Each case is its own
reproduction (exact solutions, data in closed form); xfail(strict=True) until fixed."""
import numpy as np
import pytest

from integrallimits import solve_volterra


def _check(sol, exact, rtol, atol):
    """A success's error is within 10 times the tolerance and 20 times its estimate."""
    assert sol.success, sol.message
    y = np.asarray(sol.y, dtype=float)
    e = np.asarray(exact(np.asarray(sol.t)), dtype=float).reshape(y.shape)
    err = np.abs(y - e)
    assert np.max(err / (atol + rtol * np.abs(e))) <= 10.0
    seen = err > 1e-13
    ratio = err[seen] / np.maximum(sol.error_estimate[seen], 1e-300)
    assert not seen.any() or np.max(ratio) <= 20.0, (np.max(ratio), len(sol.t) - 1)


# -- find 1: a kink of K in s, radau4 to 1e-10 --------------------------------------------
# K = a |s - b| y + c y, y = p0 + exp(p1 t) on [0.3, 1.3]; the accepted mesh (112 steps,
# refined around b) has errors of 1.5e-11 (0.1 of the tolerance) after b, with estimates of
# 1e-15 to 2e-14 there: 6.6e3 times below the error.
KA, KB, KC = 0.15257325287711287, 0.42136549069721396, 0.5768574068568086
KP0, KP1, KT0, KT1 = -0.39361034141671003, -0.18600844207739398, 0.3, 1.3


def _kink_kernel(t, s, y, a, b, c):
    return a * np.abs(s - b) * y + c * y


def _kink_exact(t):
    return KP0 + np.exp(KP1 * t)


def _kink_forcing(t, a, b, c):
    def f(s):                   # int y
        return KP0 * s + np.exp(KP1 * s) / KP1

    def h(s):                   # int (b - s) y
        return KB * f(s) - (KP0 * s * s / 2 + np.exp(KP1 * s) * (s / KP1 - 1 / KP1 ** 2))
    t = np.asarray(t, dtype=float)
    below = h(np.minimum(t, KB)) - h(KT0)
    above = np.where(t > KB, h(t) - h(KB), 0.0)
    return _kink_exact(t) - (KA * (below - above) + KC * (f(t) - f(KT0)))


# The same problem with rk4 to 1e-8: 74 steps, error 4.5e-9 (0.32 of the tolerance), estimates
# 45 times below it.
@pytest.mark.xfail(strict=True, reason="redec-62 find 1: estimates far below the error after a "
                   "kink of K in s (radau4 1e-10: 6.6e3 times; rk4 1e-8: 45 times)")
@pytest.mark.parametrize("method, tol", [("radau4", 1e-10), (None, 1e-10), ("rk4", 1e-8)])
def test_kink_of_k_in_s_estimate(method, tol):
    sol = solve_volterra(_kink_kernel, _kink_forcing, (KT0, KT1), method=method,
                         args=(KA, KB, KC), rtol=tol, atol=tol)
    _check(sol, _kink_exact, tol, tol)
