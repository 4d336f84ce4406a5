from integrallimits.studies import STUDIES


def test_forward_limit_rates_quick():
    res = STUDIES["forward-limit"](quick=True)
    assert {"family", "rule", "N", "error"} <= set(res.columns)
    finals = [r for r in res.rows if "observed_order" in r]
    assert len(finals) == 6
    for row in finals:
        # quick mode stops at N = 64, where the Gregory-6 local slopes still move between
        # 6.0 and 6.3 (pre-asymptotic); hence 0.3 rather than the 0.2 of the order tests
        assert abs(row["observed_order"] - row["declared_order"]) <= 0.3, row
    for row in res.rows:
        assert row["reference_error"] < 1e-12


def test_relu_convergence_direction_quick():
    res = STUDIES["relu-convergence"](quick=True)
    assert {"decay", "n", "step_change"} <= set(res.columns)
    summable = [r["step_change"] for r in res.rows if r["decay"] == "n^-2"]
    harmonic = [r["step_change"] for r in res.rows if r["decay"] == "n^-1"]
    # summable weights: step changes halve with n (x_n converges); harmonic: they do not vanish
    assert all(b < 0.6 * a for a, b in zip(summable, summable[1:]))
    assert harmonic[-1] > 0.5 * harmonic[0] and harmonic[-1] > 10 * summable[-1]


def _failed(*args, **kwargs):
    import types
    return types.SimpleNamespace(success=False, status=False, message="injected failure")


def test_forward_limit_does_not_report_the_error_of_a_failed_reference_check(monkeypatch):
    """The reference's error was read off a gauss4 solve on 32 steps whose status was never
    looked at: a failed check gave a 'reference_error' column of numbers from its values."""
    import types

    import numpy as np
    import pytest

    from integrallimits.studies import forward_limit as fl

    def solve(kernel, forcing, t_span, n, method, raise_on_failure=False):
        if n == 32:
            return types.SimpleNamespace(success=False, y=np.zeros((33, 2)),
                                         message="injected failure")
        return types.SimpleNamespace(success=True, y=np.zeros((n + 1, 2)), message="")

    monkeypatch.setattr(fl, "solve_volterra", solve)
    fl._reference.cache_clear()
    try:
        with pytest.raises(RuntimeError, match="reference .* failed: injected failure"):
            fl._reference("resnet")
    finally:
        fl._reference.cache_clear()


def test_adjoint_agreement_does_not_run_against_a_failed_reference(monkeypatch):
    """Every row compares the network's gradients with the continuous adjoint, whose status
    was never looked at: a failed reference gave a table of differences from its values."""
    import pytest

    from integrallimits.studies import adjoint_agreement as aa

    def unchecked(*args, **kwargs):
        raise AssertionError("the study went on past a failed reference")

    monkeypatch.setattr(aa, "continuous_adjoint", _failed)
    monkeypatch.setattr(aa, "costate_ode", unchecked)
    with pytest.raises(RuntimeError, match="reference .* failed: injected failure"):
        aa.adjoint_agreement(quick=True)
