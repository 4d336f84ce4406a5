"""Direct rules of the second kind to a tolerance on a stiff equation with a jump of its data:
the jump makes the rule first order (the rules are not L-stable), and the refinement went on to
the most steps allowed, 2^15, before an honest failure.  It stops once its estimates fall at an
observed order far below the method's that the steps allowed cannot bring to the tolerance
(:func:`._tolerance._too_slow`), and says so, with the time of the jump and an L-stable method."""
import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.volterra._tolerance import _too_slow


def g_unit(t, lam, c):
    return 1.0


def K_step_in_s(t, s, y, lam, c):
    return -lam * y if s >= c else 0.0 * y


def test_stiff_jump_of_k_with_the_trapezoid_rule_is_refused_early():
    # y = 1 - 1e3 int H(s - 3/8) y: 24, 92, 30 times the tolerance on 32, 182, 2004 steps (the
    # order 0.47 after the rise); main went on to 12622 and 32768 steps (8.1e8 kernel
    # evaluations) before failing at 2.5 times the tolerance
    sol = solve_volterra(K_step_in_s, g_unit, (0.0, 1.0), method="trapezoid", rtol=1e-3,
                         atol=1e-3, args=(1e3, 0.375))
    assert not sol.success
    assert sol.stats["failure"] == "tolerance"
    assert "only at the order" in sol.message and 'method="radau3"' in sol.message, sol.message
    assert sol.stats["observed_order"] <= 0.5 * sol.order
    assert len(sol.mesh) - 1 <= 4096 and sol.stats["nfev"] < 1e7
    # (the jump: the estimates exceed the tolerance from a step just before t = 3/8 on)
    first = float(sol.message.split("exceed the tolerance from the step from t = ")[1].split()[0])
    assert 0.365 < first < 0.375
    # the values kept come with their estimates
    exact = np.where(sol.t >= 0.375, np.exp(-1e3 * np.clip(sol.t - 0.375, 0.0, None)), 1.0)
    assert np.all(np.abs(sol.y - exact) <= 20.0 * sol.error_estimate.ravel() + 1e-12)


@pytest.mark.parametrize("history, p", [
    # a direct rule still resolving a stiff transient after an unresolved attempt: the ratio
    # barely fell over one refinement (y = H(t - 1/2) - 100 int y, trapezoid, 1e-3: met on
    # 19876 steps)
    ([(8, np.inf), (32, 49.27), (260, 38.83)], 2),
    # ... and falling at a low order where the steps allowed may still meet it (y = 1 - 100
    # int H(s - 1/2) y, trapezoid, 1e-3: met on 8686)
    ([(8, 43.49), (62, np.inf), (248, 25.67), (1446, 6.04)], 2),
    # one refinement from the first attempt
    ([(8, 3055.0), (128, 1720.0)], 3),
    # one refinement after a rise spanning less than SLOW_SPAN
    ([(2048, 95.62), (4304, 46.14)], 4),
])
def test_too_slow_one_refinement_that_does_not_tell(history, p):
    assert _too_slow(history, p, 2 ** 15) is None


def test_too_slow_one_refinement_after_a_rise():
    # the first kind's radau3 at rtol = atol = 1e-6 on y = sqrt(t): from 128 steps straight on
    # to 2^14 on main (15 minutes), at the order 0.5
    n_a, ratio_a, q, needed = _too_slow([(8, 3055.08), (128, 5561.75), (1364, 1719.78)], 3,
                                        2 ** 14)
    assert (n_a, ratio_a) == (128, 5561.75) and 0.45 < q < 0.55 and needed > 1e9
    # the trapezoid rule on y = H(t - 1/2) - 1e3 int y after unresolved attempts: the order 0.71
    inf = np.inf
    n_a, ratio_a, q, needed = _too_slow(
        [(8, inf), (32, inf), (128, inf), (512, inf), (2048, 43.95), (15614, 10.32)], 2, 2 ** 15)
    assert (n_a, ratio_a) == (2048, 43.95) and 0.6 < q < 0.8 and needed > 2 ** 15
