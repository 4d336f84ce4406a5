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
