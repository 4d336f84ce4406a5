"""redec-64's finds: solves that report success with an error above 20 times their estimate
(where the error is above 1e-13) or above 10 times the tolerance.  Each case is its own
reproduction (exact polynomial solutions, the forcing in closed form); xfail(strict=True) until
fixed.  Scripts: /tmp/exp64/redec-64/rep_*.py."""
import math

import numpy as np
import pytest
from exact_problems import check_against_exact as _check
from numpy.polynomial import polynomial as P

from integrallimits import solve_volterra


# -- a kernel with a jump or a kink along the line s = t - b (a memory of finite length b, or
# a kink at lag b): K = a [t - s > b] y + c y or a |t - s - b| y + c y, y a quadratic in t - t0.
# Unlike a kink of K in s (fixed by kink-62) or in t, the kink moves with t: every row's
# quadrature crosses it at another phase of the steps, which the data check (K along the
# diagonal s = t, and g) does not see.
def lag_kernel(t, s, y, a, b, c, jump, t0):
    """K = a [t - s > b] y + c y (``jump``), else a |t - s - b| y + c y."""
    u = t - s - b
    return (a * (1.0 if u > 0 else 0.0) if jump else a * abs(u)) * y + c * y


def lag_problem(a, b, c, jump, t0, coef):
    """(exact, g) for :func:`lag_kernel` with y = sum coef[k] (t - t0)^k, g in closed form."""
    coef = np.asarray(coef, dtype=float)
    ic, sp = P.polyint(coef), P.polyint(P.polymulx(coef))

    def exact(t):
        return P.polyval(np.asarray(t, dtype=float) - t0, coef)

    def memory(tau):            # int_0^tau w(tau - s) y(t0 + s) ds, w(u) = [u > b] or |u - b|
        m = min(max(tau - b, 0.0), tau)
        if jump:
            return P.polyval(m, ic)
        lo = (tau - b) * P.polyval(m, ic) - P.polyval(m, sp)
        hi = P.polyval(tau, sp) - P.polyval(m, sp) - (tau - b) * (P.polyval(tau, ic)
                                                                 - P.polyval(m, ic))
        return lo + hi

    def g(t, *args):
        tau = np.asarray(t, dtype=float) - t0
        w = np.vectorize(memory)(tau) if tau.ndim else memory(float(tau))
        return exact(t) - a * w - c * P.polyval(tau, ic)
    return exact, g


def power_kernel(t, s, y, a, al, c, q, t0):
    """K = a |t - s|^al y^q + c y."""
    return a * abs(t - s) ** al * y ** q + c * y


def power_problem(a, al, c, t0, coef):
    """(exact, g) for :func:`power_kernel` with q = 1, y = sum coef[k] (t - t0)^k."""
    coef = np.asarray(coef, dtype=float)

    def exact(t):
        return P.polyval(np.asarray(t, dtype=float) - t0, coef)

    def g(t, *args):
        tau = np.asarray(t, dtype=float) - t0
        w = sum(ck * math.gamma(al + 1) * math.gamma(k + 1) / math.gamma(al + k + 2)
                * tau ** (al + k + 1) for k, ck in enumerate(coef))
        return exact(t) - a * w - c * P.polyval(tau, P.polyint(coef))
    return exact, g


def _honest(sol, exact, rtol, atol):
    """A success is checked as the bar says (:func:`_check`); a failure (status False) must
    say why: an honest answer to a tolerance the solver cannot meet."""
    if sol.success:
        _check(sol, exact, rtol, atol)
    else:
        assert sol.status != 0 and "could not be met" in sol.message, sol.message


def _fixed(kernel, exact, g, t_span, n, method, args):
    """A solve on n uniform steps, checked as the bar says (no tolerance: its error is judged
    against its estimate only)."""
    sol = solve_volterra(kernel, g, t_span, n, method=method, args=args)
    _check(sol, exact, 1e300, 1e300)


# -- find 0 (the worst): a memory of finite length b, K = a [t - s > b] y + c y, to 1e-3 ----
# y = g + int_0^t (a [t - s > b] + c) y ds on [0, 2], b = 0.185, a = -1.79, y a quadratic.
# gauss2 to rtol = atol = 1e-3: 962 steps, a SUCCESS whose error is 11.4 times the tolerance:
# -0.025 at t = 2 (the last step is 0.065 long) for an estimate of 1.46e-4 there, the largest
# estimate 1.95e-4 (136 times below the largest error); pointwise up to 1.45e7 times (just after
# t = b: an error of 1.1e-4 for an estimate of 8.5e-12).  The jump lies in the history of every
# row at s = t - b: the step-doubling pair shares that history and its quadrature error, the
# data check takes K on the diagonal only, and the nested companion samples the jump at another
# phase.  radau2 to 3e-3: 2676 steps, 2.2 times the tolerance, 3.8 times the largest estimate,
# 2.1e3 times pointwise.  (At 3e-4 and with rk4/gauss3 at 3e-3 the third-points check catches
# it: status False.)  /tmp/exp64/redec-64/rep_gauss2_memory.py
# lag-64: K is swept along the histories of a few rows, the line s = t - b found and every
# row's miss there bounded (_adaptive.lag_defects): both solves now fail honestly, the
# estimates raised over the tolerance (gauss2: 23.8 times atol + rtol |y|).
@pytest.mark.parametrize("method, tol", [("gauss2", 1e-3), ("radau2", 3e-3)])
def test_finite_memory_to_tolerance(method, tol):
    args = (-1.7942449300989627, 0.18524020162424104, 0.11069031072308122, 1.0, 0.0)
    coef = [-0.04534409458554234, -0.34087238138986264, -0.17010859092786915]
    exact, g = lag_problem(*args, coef)
    sol = solve_volterra(lag_kernel, g, (0.0, 2.0), method=method, args=args, rtol=tol,
                         atol=tol)
    _honest(sol, exact, tol, tol)


# -- find 1: gauss2 to rtol = atol = 1e-4, a kink of K at lag b ------------------------------
# K = a |t - s - b| y + c y on [-2.5, -0.5], b = 0.969: 436 steps, a success with an error of
# 3.5e-2 of the tolerance, but just after t = t0 + b (where the kink line leaves s = t0) the
# errors (up to 8e-7, of changing sign from step to step) are up to 357 times the estimates
# (2.25e-9, carried unchanged across ~30 points); the largest error 7.8e-6 is 5.7 times the
# largest estimate.  At 1e-5 (3274 steps, 31 s): an error 2.97 times the tolerance, 2.9e3
# times the estimate.  /tmp/exp64/redec-64/rep_gauss2_lagkink.py
# lag-64 (_adaptive.lag_defects): a success within 1.0 times its raised estimates.
def test_kink_at_a_lag_gauss2_to_tolerance():
    args = (1.7933138131671003, 0.9693630370655465, 0.24376718559276567, 0.0, -2.5)
    coef = [0.3256859050335985, -0.4493823684777414, -0.2172191562798268]
    exact, g = lag_problem(*args, coef)
    sol = solve_volterra(lag_kernel, g, (-2.5, -0.5), method="gauss2", args=args, rtol=1e-4,
                         atol=1e-4)
    _honest(sol, exact, 1e-4, 1e-4)


# -- find 2: radau1 on 256 steps, a memory of finite length (a jump of K at lag b) -----------
# K = a [t - s > b] y + c y on [0, 1], b = 0.2084: error 1.7e-3 at t = 0.629 for an estimate of
# 1.7e-6 (997 times); the errors after b on 128 and 256 steps agree to 1% (-1.87e-3, -1.91e-3
# at t = 0.25: the phase of b in the steps, frac(b N), makes the error, not h), so their
# difference says nothing and the quarter mesh's rate (64 steps, 4 times the error) looks
# higher than 1.  The data check saw the step where t crosses b (234 times the estimate) and
# raised the estimates from the divided solve near there and at t = 1 (1.4e-3), not between.
# rep_radau1_jump.py.  lag-64: the estimates raised to 2 times the rows' misses along the line
# (the error 1.0 times the estimate at most).
def test_jump_at_a_lag_radau1_fixed_steps():
    args = (1.1408438373054857, 0.20838587087615507, -0.903833025994907, 1.0, 0.0)
    coef = [0.6997312621904237, -0.13501037668993843, 0.07648076022184432]
    exact, g = lag_problem(*args, coef)
    _fixed(lag_kernel, exact, g, (0.0, 1.0), 256, "radau1", args)


# -- find 3: gauss3 on 256 steps, a kink of K at lag b ---------------------------------------
# K = a |t - s - b| y + c y on [3, 5], b = 1.506: error 4.1e-7, 89 times the estimate at a point.
# Passes since lag-64 (the line's miss: 0.05 times) and, alone, pow-64 (the rate 23.6 of the
# three levels, below 2^6, gives the observed order: 0.25 times).
def test_kink_at_a_lag_gauss3_fixed_steps():
    args = (0.7196706446560892, 1.5059051438923912, -0.7540552502256199, 0.0, 3.0)
    coef = [0.7003826936175741, -0.9822083889291306, 0.287260537311178]
    exact, g = lag_problem(*args, coef)
    _fixed(lag_kernel, exact, g, (3.0, 5.0), 256, "gauss3", args)


# -- find 4: Gregory rules with K = a |t - s|^2.5 y + c y (C^2 at s = t) ---------------------
# y = p0 + p1 t + p2 t^2 on [0, 5]: the errors converge at 3.5, not at the rule's order, and
# the estimate takes the order (gregory6: 6) or a quarter mesh's rate 3.4-4.2 that misjudges
# it pointwise: gregory6 on 256 steps, 147 times at t = 1.914 (err 4.9e-9, est 3.4e-11; the
# largest error 6.2e-8, 5.3 times the largest estimate); gregory8 on 64 steps 30.7 times, on
# 1024 steps 270 times (err 1.6e-10, est 5.8e-13); gregory4 on 1024 steps 31.7 times.
# rk4, gauss3, radau4 stay within 4.  rep_gregory_power.py.  Fixed by pow-64: on a given mesh
# any rate below 2^p gives the observed order, and below the order each estimate is at least
# the coarser pair's difference over rate (2^q - 1) (_estimate._with_coarser_pair): 3.97, 5.8,
# 14.1 and 3.9 times.
@pytest.mark.parametrize("method, n", [("gregory6", 256), ("gregory8", 64),
                                       ("gregory8", 1024), ("gregory4", 1024)])
def test_power_kernel_gregory_fixed_steps(method, n):
    args = (-1.8188992243902193, 2.5, -0.9024845785456639, 1.0, 0.0)
    coef = [0.30473822317597543, -0.5309795966603521, -0.03903146866491478]
    exact, g = power_problem(args[0], args[1], args[2], args[4], coef)
    _fixed(power_kernel, exact, g, (0.0, 5.0), n, method, args)


# The same kernel to a tolerance (uniform refinements of a direct rule): gregory6 and gregory8 to
# rtol = atol = 1e-8 were accepted on 406 and 556 steps with the observed orders 3.9 and 3.85,
# their errors within the tolerance, but 23 and 43 times the estimate at points where the two
# finer solutions' mixes of the order-6/8 and order-3.5 errors agree (the fixed-N fix of pow-64,
# _estimate._with_coarser_pair, fixes them in the refinement too, 3.7 and 4.0 times, but costs
# gregory8 on tan t at 1e-6 13% more work: not applied there, left).  gregory8 to 1e-6 is
# accepted on 56 steps with an error 13 times the tolerance: the levels of 14, 28 and 56 steps
# show the rate 212 (errors 0.096, 4.8e-4, 2.9e-5: 200 from 14 to 28 steps, 16 from 28 to 56),
# near 2^8, so the estimate keeps the order 8; a third level (42 steps,
# _tolerance._third_level_rate) sees the order 4.4, but the refinement measures it only where
# the estimate has no rate.
@pytest.mark.xfail(strict=True, reason="|t - s|^2.5 to a tolerance: gregory6 / gregory8 at "
                   "1e-8 accepted with errors 23 / 43 times the estimate at points; gregory8 "
                   "at 1e-6 with an error 13 times the tolerance")
@pytest.mark.parametrize("method, tol", [("gregory6", 1e-8), ("gregory8", 1e-8),
                                         ("gregory8", 1e-6)])
def test_power_kernel_gregory_to_tolerance(method, tol):
    args = (-1.8188992243902193, 2.5, -0.9024845785456639, 1.0, 0.0)
    coef = [0.30473822317597543, -0.5309795966603521, -0.03903146866491478]
    exact, g = power_problem(args[0], args[1], args[2], args[4], coef)
    sol = solve_volterra(power_kernel, g, (0.0, 5.0), method=method, args=args, rtol=tol,
                         atol=tol)
    _check(sol, exact, tol, tol)


# -- find 5: the first kind, a kernel that changes after a lag b -----------------------------
# g(t) = int_0^t (c + a [t - s > b]) y(s) ds on [0, 1], b = 0.463, y a quadratic (y ~ 0.8): g'
# jumps at t = b by a y(0), balanced by the kernel's jump.  radau1 (= implicit-rectangle) on 512
# steps: a success with an error of 0.12 (15% of y) at t = 0.4648, the estimate 0.06 there and
# 47 times below the error at t = 0.66; on 2048 steps 0.097 (38 times); on 128, 256, 1024 steps
# the solve fails (status False); the error near b does not fall with h (0.12, 0.097).  radau2 on
# 1024 steps: a success, error 0.081 at t = 0.4639 (est 0.034), 7.9e4 times the estimate at
# t = 1.  /tmp/exp64/redec-64/rep_first_kind_memory.py
def _first_kind_kernel(t, s, a, b, c, jump, t0):
    u = t - s - b
    return c + (a * (1.0 if u > 0 else 0.0) if jump else a * abs(u))


# (radau2 on 1024 steps passes since pow-64: the observed order 1.7 and the coarser pair's bound
# make the largest ratio 2.5; radau1 on 512 steps is still 47 times)
@pytest.mark.parametrize("method, n", [
    pytest.param("radau1", 512, marks=pytest.mark.xfail(
        strict=True, reason="first kind, K jumping at lag b: success with an error of 0.12 that "
        "does not fall with h, 47 times the estimate")),
    ("radau2", 1024)])
def test_first_kind_jump_at_a_lag_fixed_steps(method, n):
    args = (-0.13986869936293167, 0.4630076149907124, 0.8644534304299971, 1.0, 0.0)
    coef = [0.7896366741828167, 0.12428606659263819, -0.09402189381226105]
    exact, gm = lag_problem(-args[0], args[1], -args[2], args[3], args[4], coef)

    def g(t, *a):               # = int_0^t (c + a [t - s > b]) y ds
        return gm(t) - exact(t)
    sol = solve_volterra(_first_kind_kernel, g, (0.0, 1.0), n, method=method, args=args,
                         kind=1)
    _check(sol, exact, 1e300, 1e300)


# -- find 6: a smooth coupled system, per-component tolerances -------------------------------
# y = g + int e^(-(t - s)) M y ds, y = (eps e^(p t) cos(w t), 1 + sin t), eps = 1.15e-4, M[0, 1]
# = 3.0e-5 (the large component feeds the small one), radau3 to rtol = 1e-5, atol = (eps rtol,
# rtol): 12 steps, a success (0.22 of the tolerance), but at t = 0.417, 0.833 the small
# component's errors 5.5e-12, 8.2e-12 are 74 and 111 times its estimate 7.4e-14 (the same value
# at both points; from t = 1.25 on within 2).  rep_system_radau3.py.
def _system_kernel(t, s, y, m00, m01, m10, m11):
    e = np.exp(-(t - s))
    return (e * (m00 * y[0] + m01 * y[1]), e * (m10 * y[0] + m11 * y[1]))


def _coupled_check(method, m01, rtol):
    """Solve find 6's system with M[0, 1] = ``m01`` to ``rtol`` (atol = (eps rtol, rtol)) and
    check the errors against the tolerance and the estimates (within 20 times where the error
    is above 1e-13)."""
    eps, p, w = 0.00011519267378628896, 0.34354100930261655, 2.6343181450940554
    m = np.array([-0.0432963390499268, m01, 0.6850146495048124, 0.9513375077672672]).reshape(2, 2)
    z = complex(p, w)

    def exact(t):
        t = np.asarray(t, dtype=float)
        return np.stack([eps * np.exp(p * t) * np.cos(w * t), 1 + np.sin(t)], axis=-1)

    def g(t, *args):            # y - M int_0^t e^(-(t - s)) y(s) ds
        t = float(t)
        c0 = eps * np.real((np.exp(z * t) - np.exp(-t)) / (z + 1))
        c1 = (1 - np.exp(-t)) + np.imag((np.exp(1j * t) - np.exp(-t)) / (1j + 1))
        return exact(t) - m @ np.array([c0, c1])
    atol = np.array([eps * rtol, rtol])
    sol = solve_volterra(_system_kernel, g, (0.0, 5.0), method=method,
                         args=tuple(m.reshape(-1).tolist()), rtol=rtol, atol=atol)
    assert sol.success, sol.message
    e = exact(sol.t)
    err = np.abs(sol.y - e)
    assert np.max(err / (atol + rtol * np.abs(e))) <= 10.0
    seen = err > 1e-13
    ratio = err[seen] / np.maximum(sol.error_estimate[seen], 1e-300)
    assert np.max(ratio) <= 20.0, np.max(ratio)


def test_coupled_system_small_component_estimate():
    # (the estimate of the first points from the first common step bisected:
    # _estimate.start_refined_check; 5.5e-12 and 8.2e-12 for errors of 5.5e-12 and 8.2e-12)
    _coupled_check("radau3", 3.0349674215678885e-05, 1e-5)


def test_coupled_system_small_component_estimate_gauss3():
    # M[0, 1] = 2.4e-5, gauss3 to 1e-5: 8 steps from a pass; main: at t = 0.655 the small
    # component's error 6.2e-11 was 26 times its estimate 2.4e-12 (the estimate at the next
    # common point 220 times that one's, on steps whose local errors grow 5.2 times)
    _coupled_check("gauss3", 2.4244620170823306e-05, 1e-5)
