"""Problems with exact solutions shared by the error-control tests, and the check of a success
against its exact solution (issue 13's bars: the error within 10 times the tolerance, and
within 20 times the estimate where it is above 1e-13)."""
import numpy as np


def check_against_exact(sol, exact, rtol, atol):
    """A success's error is within 10 times the tolerance and 20 times its estimate."""
    assert sol.success, sol.message
    y = np.asarray(sol.y, dtype=float)
    e = np.asarray(exact(np.asarray(sol.t)), dtype=float).reshape(y.shape)
    err = np.abs(y - e)
    assert np.max(err / (atol + rtol * np.abs(e))) <= 10.0
    seen = err > 1e-13
    ratio = err[seen] / np.maximum(sol.error_estimate[seen], 1e-300)
    assert not seen.any() or np.max(ratio) <= 20.0, (np.max(ratio), len(sol.t) - 1)


def oscillating_kernel(t, s, y, a, b, c, d):
    """K = a e^(b t + c s) y + d y (its parameters by ``args=``)."""
    return a * np.exp(b * t + c * s) * y + d * y


def oscillating_problem(a, b, c, d, p0, amp, p1):
    """y = p0 + amp e^(p1 t) cos 20t from 0 with :func:`oscillating_kernel`: (exact, g), g in
    closed form (g taking the kernel's ``args`` too)."""
    z = complex(p1, 20.0)

    def exact(t):
        t = np.asarray(t, dtype=float)
        return p0 + amp * np.exp(p1 * t) * np.cos(20.0 * t)

    def g(t, *args):
        t = np.asarray(t, dtype=float)
        part = p0 * (np.exp(c * t) - 1) / c + np.real(amp * (np.exp((c + z) * t) - 1) / (c + z))
        rest = p0 * t + np.real(amp * (np.exp(z * t) - 1) / z)
        return exact(t) - (a * np.exp(b * t) * part + d * rest)
    return exact, g
