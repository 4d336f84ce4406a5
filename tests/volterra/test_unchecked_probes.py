"""Checks that call the user's functions at points the solve never took, and whose calls
raised there: the answer says the check was not done (or fails), never a silent success."""
import math

import numpy as np
import pytest

from numba import njit

from integrallimits import solve_volterra
from integrallimits.kernels import weakly_singular


def _decaying_forcing(t, lam):
    """y = 1 solves y = g - int (t-s)^(-1/2) e^(-lam (t-s)) y ds with this g."""
    from scipy.special import erf
    return 1.0 + np.sqrt(np.pi / lam) * erf(np.sqrt(lam * t))


def _decaying_factor_raising_inside(t, s, y, lam):
    # (undefined at t - s = h / 16 on 8 uniform steps, s > 0: the step-defect probe's point
    # w = 1/4 of every step, where neither the solve nor its other checks take k)
    if 0.00781 < t - s < 0.007815 and s > 0.01:
        raise ValueError("k undefined here")
    return -y * np.exp(-lam * (t - s))


def test_a_step_defect_probe_that_k_refuses_is_said_not_done():
    """gauss2 on 8 uniform steps, K = (t-s)^(-1/2) e^(-1e3 (t-s)) y (exact y = 1): the rule's
    miss over every step raises the estimate to 0.059 (error 0.056) when k is defined there.
    Where k raises at the probe's points alone, the probe stopped and its check was dropped
    without a word: a success with an error of 0.056 and an estimate of 4.6e-4 (the rough-data
    check's).  Now the message says the check was not done, and from where."""
    sol = solve_volterra(weakly_singular(_decaying_factor_raising_inside, 0.5), _decaying_forcing,
                         mesh=np.linspace(0.0, 1.0, 9), method="gauss2", args=(1e3,))
    err = float(np.max(np.abs(sol.y - 1.0)))
    assert err > 10.0 * sol.stats["max_error_estimate"]       # (the case: an estimate it misses)
    assert not sol.success or "was not checked from t = 0 on" in sol.message, sol.message
    assert "ValueError" in sol.message or "raised an exception" in sol.message


def _k_cos48_tabulated(x, s):
    # (defined at s = k/12 alone: the nodes of 4 panels and of the companion's 6, which the
    # solve takes; not between them, where the check of aliasing probes the integrand)
    if abs(s * 12.0 - np.round(s * 12.0)) > 1e-9:
        raise ValueError("K is tabulated at s = k/12 only")
    return 0.5 * np.cos(2.0 * np.pi * 48.0 * (x - s))


def _g_cos48(x):
    """g of y = g + int_0^1 cos(w (x - s)) y ds / 2 with y = e^x, w = 2 pi 48."""
    w = 2.0 * np.pi * 48.0
    return np.exp(x) - 0.5 * np.real(np.exp(1j * w * x) * (np.exp(1.0 - 1j * w) - 1.0)
                                     / (1.0 - 1j * w))


def test_a_fredholm_kernel_that_raises_between_the_nodes_is_said_unchecked():
    """K = cos(2 pi 48 (x - s)) / 2, y = e^x, 4 trapezoid panels (aliased on the nodes and the
    companion's: the check between the nodes fails the solve, 1.73 off).  A K defined at the
    nodes alone left NaN at the probe's points (its exception recorded, then dropped), which
    the comparisons read as smooth: a success 1.73 off with an estimate of 8.9e-3, the check
    not mentioned.  Now the message says the integrand was not checked between the nodes."""
    from integrallimits import solve_fredholm
    sol = solve_fredholm(_k_cos48_tabulated, _g_cos48, (0.0, 1.0), 4, "trapezoid")
    err = float(np.max(np.abs(sol.y - np.exp(sol.x))))
    assert err > 20.0 * float(np.max(sol.error_estimate))
    assert not sol.success or "not checked between the nodes" in sol.message, sol.message


def _k_parity(t, s, y):
    # the parity of a count that overflows to inf past t - s = 0.9: Python raises
    # OverflowError there, compiled code takes int(inf) (an arbitrary integer) and goes on
    n = int(np.exp(800.0 * (t - s))) if t - s > 0.9 else 1
    return -y * (1.0 + n % 2)


def test_a_kernel_only_python_refuses_at_the_compared_points_is_said():
    """K's compiled code gave finite values where its Python function raises (int(inf)), and
    the comparison with Python after the solve skipped those points: gauss2 on 64 steps of
    [0, 2] was a success (y(2) = 0.152) of an equation the user's function does not define,
    without a word.  Now the message names the exception and the points."""
    from integrallimits import solve_volterra
    sol = solve_volterra(_k_parity, lambda t: 1.0, (0.0, 2.0), 64, "gauss2")
    assert not sol.success or "raises OverflowError in Python" in sol.message, sol.message


@njit(cache=True)
def _bumped_cos_kernel_tabulated(t, s, y, w, a, width, n, p):
    """(sin(w s) b(s) / w)' y, b a bump on [a, a + width], undefined at the points of each of
    the n steps that the summed defects' sweep moved by (sqrt 2 - 1) h takes alone (s at
    sqrt 2 - 1 + j / (p + 1) of a step, 0 < j < p + 1)."""
    f = s * n - np.floor(s * n)
    for j in range(1, p + 1):
        v = np.sqrt(2.0) - 1.0 + j / (p + 1.0)
        if abs(f - (v - np.floor(v))) < 1e-7:
            raise ValueError("c is tabulated off these points")
    u = (s - a) / width
    if u <= 0.0 or u >= 1.0:
        return 0.0 * y
    q = u * (1.0 - u)
    b = np.exp(4.0 - 1.0 / q)
    return (np.cos(w * s) * b + np.sin(w * s) * b * (1.0 - 2.0 * u) / q ** 2 / width / w) * y


@pytest.mark.parametrize("method, a, width, p", [("radau1", 0.3, 0.15, 1),
                                                 ("gregory8", 0.6, 0.05, 8)])
def test_summed_defects_that_k_refuses_are_said_not_summed(method, a, width, p):
    """y = 1 + int c(s) y ds, c = (sin(w s) b(s) / w)', one cycle a step of 256 (as in
    test_aliasing.py): the steps' defects, summed with their signs, raise the estimates to
    0.047 (radau1, error 0.059) and 0.013 (gregory8, error 0.019).  Where c raises at the
    points of that sum alone, it was dropped without a word: successes with estimates of
    2.1e-3 and 2.6e-5.  Now the message says the defects were not summed, and what raised."""
    w = 2.0 * np.pi * 256

    def exact(t):
        u = (t - a) / width
        inside = (u > 0.0) & (u < 1.0)
        b = np.where(inside, np.exp(4.0 - 1.0 / np.where(inside, u * (1.0 - u), 0.25)), 0.0)
        return np.exp(np.sin(w * t) * b / w)

    sol = solve_volterra(_bumped_cos_kernel_tabulated, lambda t: np.ones_like(t), (0.0, 1.0),
                         256, method=method, args=(w, a, width, 256.0, p))
    err = float(np.max(np.abs(sol.y.ravel() - exact(sol.t))))
    assert err > 0.01
    assert err <= 20.0 * sol.stats["max_error_estimate"] or not sol.success or (
        "defects were not summed over the steps (an oscillation at the steps' scale that the "
        "mesh samples at one phase): ValueError" in sol.message), \
        (err, sol.stats["max_error_estimate"], sol.message)


def _kink_g_undefined_near_the_end(t, a):
    # (undefined in (0.9999, 1): the blind end of the last step that the solve, its divided
    # check and the check of the data at j h / (p + 1) never take, T itself taken)
    if 0.9999 < t < 1.0 - 1e-12:
        raise ValueError("g is not defined here")
    return abs(t - a)


def test_blind_ends_that_g_refuses_are_said_not_checked():
    """y = |t - 0.9995| - int y, gauss2 on 64 steps: the kink lies after the last stage of
    the last step's pieces divided for the data check, and only the check of its blind end
    (its pieces divided again) brings the estimate to the error (2.5e-7).  Where g raises in
    that end alone, the check was dropped without a word: a success with an estimate of
    6.1e-11, 4100 times under the error.  Now the message says that end was not checked."""
    a = 0.9995
    sol = solve_volterra(lambda t, s, y, a: -y, _kink_g_undefined_near_the_end, (0.0, 1.0),
                         method="gauss2", n_steps=64, args=(a,))
    ya = (a + 1.0) * math.exp(-a) - 1.0
    exact = np.where(sol.t <= a, (a + 1.0) * np.exp(-sol.t) - 1.0,
                     1.0 + (ya - 1.0) * np.exp(-(sol.t - a)))
    err = float(np.max(np.abs(sol.y - exact)))
    assert err > 1e-8
    assert err <= 20.0 * sol.stats["max_error_estimate"] or not sol.success or (
        "nearer than their stages reach (where a jump or kink is missed by every division "
        "alike), were not checked: ValueError" in sol.message), sol.message


def test_an_aliasing_probe_that_g_refuses_is_said_not_done():
    """y = g - int y, y = 1 + (sin(w t) b(t) / w)', b a bump on [0.3, 0.45], w = 2 pi 3072,
    radau2 on 64 steps (as in test_aliasing.py): the aliasing probe fails the solve from
    0.297 on.  Where g raises at t_n + (sqrt 2 - 1) h alone (the probe's points; no solve and
    no other check takes them), the probe was dropped without a word: a success with an error
    of 0.055 for an estimate of 6.4e-5.  Now the message says the data were not checked for
    an oscillation the mesh samples at one phase."""
    w, a, width, n = 2.0 * np.pi * 3072, 0.3, 0.15, 64

    def bump(t):
        u = (np.asarray(t, dtype=float) - a) / width
        inside = (u > 0.0) & (u < 1.0)
        q = np.where(inside, u * (1.0 - u), 0.25)
        b = np.where(inside, np.exp(4.0 - 1.0 / q), 0.0)
        return b, b * (1.0 - 2.0 * u) / q ** 2 / width

    def exact(t):
        b, db = bump(t)
        return 1.0 + np.cos(w * t) * b + np.sin(w * t) * db / w

    def g(t):
        t = np.asarray(t, dtype=float)
        if np.any(np.abs(t * n - np.floor(t * n) - (math.sqrt(2.0) - 1.0)) < 1e-7):
            raise ValueError("g is tabulated off these points")
        return exact(t) + t + np.sin(w * t) * bump(t)[0] / w

    sol = solve_volterra(lambda t, s, y: -y, g, (0.0, 1.0), n, method="radau2")
    err = float(np.max(np.abs(sol.y.ravel() - exact(sol.t))))
    assert err <= 20.0 * sol.stats["max_error_estimate"] or not sol.success or (
        "not checked for an oscillation at the steps' scale that the mesh samples at one "
        "phase: ValueError" in sol.message), (err, sol.stats["max_error_estimate"], sol.message)


def _decay_refusing_above_one_at_the_origin(t, s, y, lam):
    # (K(0, 0, y) is not defined above y(0) = 1: the solution decays from there, and gauss4
    # never takes K at t = 0; the stiffness probe of the start takes it at 1 + 1.5e-8)
    if t == 0.0 and s == 0.0 and y > 1.0:
        raise ValueError("K is defined for y <= 1 only at t = 0")
    return -lam * y


def _decay_refusing_off_one_at_the_origin(t, s, y, lam):
    if t == 0.0 and s == 0.0 and y != 1.0:
        raise ValueError("K is defined at y = 1 only at t = 0")
    return -lam * y


def test_a_stiffness_probe_that_k_refuses_on_one_side_takes_the_other():
    """gauss4 on y = 1 - 1e4 int y at 1e-3: the meshes miss the stiff transient alike until
    the probe of the start sees 1e4 e-folds a unit time and a pass starts from a step of one
    e-fold (20 steps, 1.2e4 kernel evaluations).  Where K raised at the probe's point
    y0 + 1.5e-8 alone, the probe read NaN, "not known to be stiff", and the meshes were refined
    to 574 steps, 7.0e6 evaluations (a success, its values right).  Now the probe takes the
    backward difference there: 2.4e4 evaluations."""
    lam = 1e4
    sol = solve_volterra(_decay_refusing_above_one_at_the_origin, lambda t, lam: 1.0,
                         (0.0, 1.0), method="gauss4", rtol=1e-3, atol=1e-3, args=(lam,))
    assert sol.success, sol.message
    assert float(np.max(np.abs(sol.y - np.exp(-lam * sol.t)))) <= 1e-3
    assert sol.stats["nfev"] < 2e5, sol.stats["nfev"]


def test_a_stiffness_probe_that_k_refuses_on_both_sides_is_said_not_done():
    """As above with K defined at y = 1 alone at t = 0: neither difference can be taken, and the
    refinement to 574 steps (7.0e6 evaluations) said nothing of the probe.  Now the message
    says the start was not probed for stiffness, and what K raised."""
    lam = 1e4
    sol = solve_volterra(_decay_refusing_off_one_at_the_origin, lambda t, lam: 1.0,
                         (0.0, 1.0), method="gauss4", rtol=1e-3, atol=1e-3, args=(lam,))
    assert float(np.max(np.abs(sol.y - np.exp(-lam * sol.t)))) <= 1e-3
    assert "The start was not probed for stiffness" in sol.message, sol.message
    assert "ValueError raised by g or K there (K is defined at y = 1 only" in sol.message


def test_a_step_defect_probe_that_k_refuses_names_k_and_its_exception():
    """The case of test_a_step_defect_probe_that_k_refuses_is_said_not_done: the sentence said
    "K(t, s, y) raised an exception at t = 0.125, ..." where the user's k (not the product K
    that the solver compiles from it) raised ValueError.  Now it names k and the exception."""
    sol = solve_volterra(weakly_singular(_decaying_factor_raising_inside, 0.5), _decaying_forcing,
                         mesh=np.linspace(0.0, 1.0, 9), method="gauss2", args=(1e3,))
    assert "k(t, s, y) raised ValueError (k undefined here) at t = 0.125" in sol.message, \
        sol.message
    assert "K(t, s, y) raised" not in sol.message


_DIVIDED_STAGE = 0.25 + 0.15 * (0.5 - math.sqrt(3.0) / 6.0)


def _kink_g_undefined_at_a_divided_stage(t, a):
    # (undefined at the first Gauss point of the piece [0.25, 0.4] of a step divided for the
    # data check near the end: only that divided solve takes g there)
    f = t * 64.0 - math.floor(t * 64.0)
    if t > 0.98 and abs(f - _DIVIDED_STAGE) < 1e-6:
        raise ValueError("g is tabulated off these points")
    return abs(t - a)


def test_a_divided_solve_that_g_refuses_names_the_exception():
    """y = |t - 0.9995| - int y, gauss2 on 64 steps: the data check divides the rough last
    steps, and g raises at a stage of that divided solve alone.  The sentence said "the solve
    with those steps divided failed" without what failed; now it names g's ValueError."""
    sol = solve_volterra(lambda t, s, y, a: -y, _kink_g_undefined_at_a_divided_stage,
                         (0.0, 1.0), method="gauss2", n_steps=64, args=(0.9995,))
    assert "the solve with those steps divided failed (ValueError raised by g or K there: g " \
           "is tabulated off these points)" in sol.message, sol.message


def test_the_dense_error_of_a_direct_rule_is_counted():
    """gregory4 on y = 1 - int y, 32 steps, with 7 points of t_eval between mesh points: the
    partial step's error estimate at each (``dense.error``: the rule on p + 2 points, at least
    p + 2 kernel evaluations a point) was not in ``nfev`` nor ``error_estimate_nfev`` (2289
    and 1602, with t_eval or without).  Now it is counted where it is evaluated."""
    t_eval = np.linspace(0.013, 0.987, 7)
    plain = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 32, "gregory4")
    sol = solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 32, "gregory4",
                         t_eval=t_eval)
    assert np.all(sol.error_estimate > 0.0)
    least = t_eval.size * (4 + 2)
    assert sol.stats["error_estimate_nfev"] - plain.stats["error_estimate_nfev"] >= least
    assert sol.stats["nfev"] - plain.stats["nfev"] >= least
