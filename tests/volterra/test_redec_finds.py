"""redec-62's finds: solves that report success with an error above 20 times their estimate
(where the error is above 1e-13) or above 10 times the tolerance.  Each case is its own
reproduction (exact solutions, data in closed form); xfail(strict=True) until fixed."""
import numpy as np
import pytest

from integrallimits import solve_fredholm, solve_volterra


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


def _kink_problem(a, b, c, p0, p1, t0):
    """K = a|s - b| y + c y with y = p0 + exp(p1 t) from t0: (exact, g) in closed form."""
    def exact(t):
        return p0 + np.exp(p1 * t)

    def f(s):
        return p0 * s + np.exp(p1 * s) / p1

    def h(s):
        return b * f(s) - (p0 * s * s / 2 + np.exp(p1 * s) * (s / p1 - 1 / p1 ** 2))

    def g(t, *args):
        t = np.asarray(t, dtype=float)
        below = h(np.minimum(t, b)) - h(t0)
        above = np.where(t > b, h(t) - h(b), 0.0)
        return exact(t) - (a * (below - above) + c * (f(t) - f(t0)))
    return exact, g


# The worst of a sweep of this family (30 draws of a, b, c, p0, p1; 6 methods; 1e-6, 1e-8,
# 1e-10: 33 of 539 successes with errors over 20 times the estimate, none over 10 times the
# tolerance): gauss2 at 1e-6 on [0, 2], 714 steps, error 0.55 of the tolerance, 4.4e3 times
# the estimate; gauss4 at 1e-6 on [0, 1], 168 steps, 748 times.
@pytest.mark.xfail(strict=True, reason="redec-62 find 1 (sweep): estimates far below the error "
                   "after a kink of K in s")
@pytest.mark.parametrize("params, span, method, tol", [
    ((-1.6157783724506234, 0.151660850073346, -0.3501526477668935, -0.6901738278159486,
      0.397793255681794), (0.0, 2.0), "gauss2", 1e-6),
    ((1.1242192935933684, 0.6135171419708433, 0.8550051942313655, -0.7127571137732898,
      -0.6706071761459094), (0.0, 1.0), "gauss4", 1e-6)])
def test_kink_of_k_in_s_sweep_estimate(params, span, method, tol):
    exact, g = _kink_problem(*params, span[0])
    sol = solve_volterra(_kink_kernel, g, span, method=method, args=params[:3], rtol=tol,
                         atol=tol)
    _check(sol, exact, tol, tol)


# -- find 2: Fredholm, g with a kink, gauss-legendre to rtol 1e-7, atol 1e-9 ----------------
# y = g + int_0^2 a cos(b (x - s)) y ds, y = p0 + |x - c|: 473 nodes, a success with an error of
# 8.3e-8 (0.85 of the tolerance) and at x = 1.595 an error of 3.2e-8 for an estimate of 6.3e-10
# (51 times); the largest estimate, 1.05e-8, is 8 times below the largest error.
FA, FB = 0.15307706113708014, 5.593771875448765
FP0, FC, FL = 0.9676979826868183, 0.2703803072902353, 2.0


def _fred_kernel(x, s, y, a, b):
    return a * np.cos(b * (x - s)) * y


def _fred_exact(x):
    return FP0 + np.abs(x - FC)


def _fred_forcing(x, a, b):
    x = np.asarray(x, dtype=float)

    def f0(s):                  # int cos(b (x - s)) ds
        return -np.sin(FB * (x - s)) / FB

    def f1(s):                  # int s cos(b (x - s)) ds
        return -s * np.sin(FB * (x - s)) / FB + np.cos(FB * (x - s)) / FB ** 2

    def psi(s):                 # int (c - s) cos(b (x - s)) ds
        return FC * f0(s) - f1(s)
    integral = FP0 * (f0(FL) - f0(0.0)) + (psi(FC) - psi(0.0)) - (psi(FL) - psi(FC))
    return _fred_exact(x) - FA * integral


@pytest.mark.xfail(strict=True, reason="redec-62 find 2: Fredholm estimate 51 times below the "
                   "error (g with a kink, gauss-legendre, rtol 1e-7)")
def test_fredholm_kink_of_g_estimate():
    sol = solve_fredholm(_fred_kernel, _fred_forcing, (0.0, FL), args=(FA, FB), rtol=1e-7,
                         atol=1e-9)
    assert sol.success, sol.message
    err = np.abs(sol.y - _fred_exact(np.asarray(sol.x)))
    assert np.max(err / (1e-9 + 1e-7 * np.abs(_fred_exact(np.asarray(sol.x))))) <= 10.0
    seen = err > 1e-13
    assert np.max(err[seen] / sol.error_estimate[seen]) <= 20.0


# -- find 3: solve_vide with a kink of K in s, gauss2 to 1e-8 ---------------------------------
# y' = -y/2 + z + h(t), z = int_0^t (a|s - b| + c) y ds on [0, 2], y = p0 + exp(p1 t): 1474
# steps, error 6e-4 of the tolerance, but 510 times the estimate where it is above 1e-13; gauss3
# at 1e-6: 108 steps, error 0.015 of the tolerance, 1.8e7 times the estimate.
VARGS = (-1.6574033314255026, 1.147891664915862, -0.5263789868078006, -0.8117427155192016,
         -0.7006191792905785, 0.0)


def _vide_kernel(t, s, y, a, b, c, p0, p1, t0):
    return a * np.abs(s - b) * y + c * y


def _vide_f(t, y, z, a, b, c, p0, p1, t0):
    f = p0 * t + np.exp(p1 * t) / p1
    f0 = p0 * t0 + np.exp(p1 * t0) / p1
    tm = min(t, b)
    hm = b * (p0 * tm + np.exp(p1 * tm) / p1) - (p0 * tm * tm / 2
                                                  + np.exp(p1 * tm) * (tm / p1 - 1 / p1 ** 2))
    h0 = b * f0 - (p0 * t0 * t0 / 2 + np.exp(p1 * t0) * (t0 / p1 - 1 / p1 ** 2))
    hb = b * (p0 * b + np.exp(p1 * b) / p1) - (p0 * b * b / 2
                                               + np.exp(p1 * b) * (b / p1 - 1 / p1 ** 2))
    ht = b * f - (p0 * t * t / 2 + np.exp(p1 * t) * (t / p1 - 1 / p1 ** 2))
    above = ht - hb if t > b else 0.0
    zex = a * ((hm - h0) - above) + c * (f - f0)
    yex = p0 + np.exp(p1 * t)
    return -0.5 * y + z + (p1 * np.exp(p1 * t) + 0.5 * yex - zex)


@pytest.mark.xfail(strict=True, reason="redec-62 find 3: VIDE estimates far below the error after "
                   "a kink of K in s (gauss2 1e-8: 510 times; gauss3 1e-6: 1.8e7 times)")
@pytest.mark.parametrize("method, tol", [("gauss2", 1e-8), ("gauss3", 1e-6)])
def test_vide_kink_of_k_in_s_estimate(method, tol):
    from integrallimits import solve_vide
    p0, p1 = VARGS[3], VARGS[4]

    def exact(t):
        return p0 + np.exp(p1 * t)
    sol = solve_vide(_vide_f, _vide_kernel, float(exact(0.0)), (0.0, 2.0), method=method,
                     args=VARGS, rtol=tol, atol=tol)
    _check(sol, exact, tol, tol)


# -- find 4: a smooth oscillating solution ---------------------------------------------------
# K = a e^(b t + c s) y + d y, y = p0 + A e^(p1 t) cos 20t on [0, 10] (no kink).  gauss3 to 1e-3
# (80 steps: the last point's estimate 42 times below its error) is fixed (end-62) and tested in
# test_error_control.py (test_end_of_an_oscillating_solution_estimated).


def _osc_kernel(t, s, y, a, b, c, d):
    return a * np.exp(b * t + c * s) * y + d * y


def _osc_problem(a, b, c, d, p0, amp, p1):
    """K = a e^(b t + c s) y + d y, y = p0 + amp e^(p1 t) cos 20t from 0: (exact, g)."""
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


# gregory6 to 1e-4 on the same family (other parameters): 272 steps, error 9.2 times the
# tolerance (2.5e-3), the largest estimate 1.7e-4 (15 times below the largest error), 25 times
# below the error at a point.
@pytest.mark.xfail(strict=True, reason="redec-62 find 4: gregory6 at 1e-4, smooth oscillation: "
                   "error 9.2 times the tolerance, 25 times the estimate")
def test_smooth_oscillation_gregory6_estimate():
    params = (0.13625532661385376, 0.6423025244075233, -0.8419518246028527,
              -0.8428105328637294)
    exact, g = _osc_problem(*params, 1.7590528996487595, 1.0145615853215464,
                            -1.0469611065342737)
    sol = solve_volterra(_osc_kernel, g, (0.0, 10.0), method="gregory6", args=params,
                         rtol=1e-4, atol=1e-4)
    _check(sol, exact, 1e-4, 1e-4)
