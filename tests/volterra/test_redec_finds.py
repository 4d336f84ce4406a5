"""redec-62's finds: solves that report success with an error above 20 times their estimate
(where the error is above 1e-13) or above 10 times the tolerance.  Each case is its own
reproduction (exact solutions, data in closed form); xfail(strict=True) until fixed."""
import numpy as np
import pytest
from exact_problems import check_against_exact as _check
from exact_problems import (KINKED_G_ARGS, KINKED_G_L, kinked_g_exact, kinked_g_forcing,
                            kinked_g_kernel, oscillating_kernel, oscillating_problem)

from integrallimits import solve_fredholm, solve_volterra

# -- find 1 (a kink of K in s, K = a |s - b| y + c y, solved to a tolerance by solve_volterra:
# estimates up to 6.6e3 times below the errors after b) is fixed by kink-62; its cases are in
# test_kink_in_s.py.  Find 3 below is the same kernel in solve_vide.


# -- find 2: Fredholm, g with a kink, gauss-legendre to rtol 1e-7, atol 1e-9 ----------------
# y = g + int_0^2 a cos(b (x - s)) y ds, y = p0 + |x - c|: 473 nodes, a success with an error of
# 8.3e-8 (0.85 of the tolerance) and at x = 1.595 an error of 3.2e-8 for an estimate of 6.3e-10
# (51 times); the largest estimate, 1.05e-8, is 8 times below the largest error.
def test_fredholm_kink_of_g_estimate():
    sol = solve_fredholm(kinked_g_kernel, kinked_g_forcing, (0.0, KINKED_G_L),
                         args=KINKED_G_ARGS, rtol=1e-7, atol=1e-9)
    _check(sol, kinked_g_exact, 1e-7, 1e-9)


# -- find 3: solve_vide with a kink of K in s, gauss2 to 1e-8 ---------------------------------
# y' = -y/2 + z + h(t), z = int_0^t (a|s - b| + c) y ds on [0, 2], y = p0 + exp(p1 t): 1474
# steps, error 6e-4 of the tolerance, but 510 times the estimate where it is above 1e-13; gauss3
# at 1e-6: 108 steps, error 0.015 of the tolerance, 1.8e7 times the estimate.  The kink lay in
# the blind end (after the last stage) of the piece of the carried-misses check's divided solve
# that kept its step's end, missed by it alike; fixed by vide-63 (_vide._with_carried_misses
# divides such pieces again, as the second kind's _adaptive.resolved_ends does).
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


@pytest.mark.parametrize("method, tol", [("gauss2", 1e-8), ("gauss3", 1e-6)])
def test_vide_kink_of_k_in_s_estimate(method, tol):
    from integrallimits import solve_vide
    p0, p1 = VARGS[3], VARGS[4]

    def exact(t):
        return p0 + np.exp(p1 * t)
    sol = solve_vide(_vide_f, _vide_kernel, float(exact(0.0)), (0.0, 2.0), method=method,
                     args=VARGS, rtol=tol, atol=tol)
    _check(sol, exact, tol, tol)


# The same kernel with the kink at b = 0.503, 0.012 of its step [0.5, 0.75] (8 steps): before
# gauss3's first stage (0.113) in the piece of the divided solve that kept the step's start,
# missed by it alike (vide-63: a success with an error 379 times the estimate at t = 0.5).
def test_vide_kink_of_k_in_s_in_a_blind_start():
    from integrallimits import solve_vide
    args = VARGS[:1] + (0.503,) + VARGS[2:]
    p0, p1 = args[3], args[4]

    def exact(t):
        return p0 + np.exp(p1 * t)
    sol = solve_vide(_vide_f, _vide_kernel, float(exact(0.0)), (0.0, 2.0), method="gauss3",
                     args=args, rtol=1e-4, atol=1e-4)
    _check(sol, exact, 1e-4, 1e-4)


# -- find 4: a smooth oscillating solution ---------------------------------------------------
# K = a e^(b t + c s) y + d y, y = p0 + A e^(p1 t) cos 20t on [0, 10] (no kink).  gauss3 to 1e-3
# (80 steps: the last point's estimate 42 times below its error) is fixed (end-62) and tested in
# test_error_control.py (test_end_of_an_oscillating_solution_estimated).


# gregory6 to 1e-4 on the same family (other parameters): 272 steps, error 9.2 times the
# tolerance (2.5e-3), the largest estimate 1.7e-4 (15 times below the largest error), 25 times
# below the error at a point; on fd9db64 320 steps, 3.8 times the tolerance, 21 times the
# estimate.  The rate of the three levels (68, 136, 272 steps: 128; 80, 160, 320: 72.9) took
# the order 6 where the coarsest level, the refinement's attempt before, had no digit (errors
# 1.35 and 1.06); the finer two converge at 3.1 and 15.  Such a rate is no rate now (order-63):
# 400 steps, 1.05 times the tolerance, 7.6 times the estimate.  With work-63's starting blocks
# (merged after) the refinement stops on 678 steps: the largest error 0.043 of the tolerance,
# 1.002 times the largest estimate, but at t_1 and t_2 the errors of the starting block (5.8e-8,
# 4e-8) were 41 times their estimates (1.4e-9): on 339, 678, 1356 steps its error at t = 0.0295 is
# 1.3e-7, 4.0e-8, 3.8e-10 (ratios 3.2 and 107, pre-asymptotic under cos 20t), and the Richardson
# difference over 2^6 - 1 assumed 64.  The same on a given mesh of 678 steps.  Fixed by start-64
# (_estimate._start_block_check: the companion's starting block's rate against the solve of its
# span on halved steps, 20 steps): the same 678 steps, the errors at t_1 and t_2 0.56 times their
# estimates, the largest ratio 4.8 (at t = 0.41), 656,446 evaluations for 655,156.
def _oscillating(method, **options):
    """(exact, the solve with ``method``) of find 4's y = p0 + A e^(p1 t) cos 20t."""
    params = (0.13625532661385376, 0.6423025244075233, -0.8419518246028527,
              -0.8428105328637294)
    exact, g = oscillating_problem(*params, 1.7590528996487595, 1.0145615853215464,
                                   -1.0469611065342737)
    return exact, solve_volterra(oscillating_kernel, g, (0.0, 10.0), method=method,
                                 args=params, **options)


def test_smooth_oscillation_gregory6_estimate():
    exact, sol = _oscillating("gregory6", rtol=1e-4, atol=1e-4)
    _check(sol, exact, 1e-4, 1e-4)


@pytest.mark.parametrize("method", ["gregory4", "gregory6", "gregory8"])
def test_start_block_estimate_on_a_given_mesh(method):
    # The same problem on the given mesh of 678 steps: at the first 2 (p - 1) points (the
    # companion's starting block) the errors are within twice their estimates (on 69efd7b:
    # gregory6 41 times at t_1, gregory4 3.4, gregory8 5.2; now 1.9, 1.6, 1.2), and the
    # estimates stay within 10 times the errors there (4.7, 3.2 and 8.2 before and after),
    # 20 times (issue 13's bar) since pow-64: the rate below 2^6 of the whole solve now gives
    # the observed order, whose divisor makes gregory6's estimate at t_9, where its error
    # crosses zero (9.1e-9 between 4.8e-8 and 8.2e-8), 15.3 times that error.
    exact, sol = _oscillating(method, n_steps=678)
    assert sol.success, sol.message
    k = 2 * (int(method[-1]) - 1) + 1
    err = np.abs(sol.y[1:k] - exact(sol.t[1:k]))
    est = sol.error_estimate[1:k]
    assert np.all(err <= 2.0 * est), (err / est).max()
    assert np.all(est <= 20.0 * err), (est / err).max()


@pytest.mark.parametrize("problem, method, n", [("affine", "gregory8", 128),
                                                ("cos", "gregory6", 256)])
def test_start_block_check_keeps_an_asymptotic_start(problem, method, n, monkeypatch):
    # A smooth solution whose companion's start is at the order p (the rates near 2^p) keeps
    # the estimates of the difference over 2^p - 1: the check's solve is made (its evaluations
    # counted) and raises nothing (as in the identity grid's gregory6 and gregory8 rows).
    from integrallimits.volterra import _estimate
    from integrallimits.volterra.problems import PROBLEMS
    p = PROBLEMS[problem]
    checked = solve_volterra(p.kernel, p.forcing, p.t_span, n, method)
    monkeypatch.setattr(_estimate, "_start_block_check", lambda *args: 0)
    plain = solve_volterra(p.kernel, p.forcing, p.t_span, n, method)
    assert checked.success and plain.success
    assert checked.stats["nfev"] > plain.stats["nfev"]
    np.testing.assert_array_equal(checked.error_estimate, plain.error_estimate)
