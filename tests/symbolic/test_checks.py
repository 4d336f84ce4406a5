"""The registry of identities, the table runner and the check-symbolic entry point."""
import pytest

from integrallimits.symbolic import checks


def test_registry_covers_every_family():
    assert {"state-space", "closed-form-symbolic-n", "closed-form-induction", "kernel-limit",
            "skip-companion-closed-form", "skip-equals-smooth", "dense-is-rectangle",
            "resnet-is-t-independent-dense", "rule-exactness", "rule-sharpness",
            "rk4-order-conditions", "collocation-conditions", "adjoint-unrolled-gradient",
            "adjoint-is-transpose", "costate-reduction", "relu-product-formula"} <= set(checks.CHECKS)
    for check in checks.CHECKS.values():
        assert check.full and check.quick and check.full_parameters and check.quick_parameters


def test_run_checks_rows():
    names = ["closed-form-induction", "rule-exactness", "rk4-order-conditions", "parameter-ratio"]
    rows = checks.run_checks(quick=True, names=names)
    assert [r["identity"] for r in rows] == names
    for r in rows:
        assert set(r) == {"identity", "parameters", "cases", "holds"}
        assert r["holds"] is True
    assert rows[1]["cases"] == 6


def test_every_identity_holds_quick():
    rows = checks.run_checks(quick=True)
    assert len(rows) == len(checks.CHECKS)
    assert [r["identity"] for r in rows if not r["holds"]] == []


def test_run_checks_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown identities"):
        checks.run_checks(names=["no-such-identity"])


def test_main_prints_table_and_succeeds(capsys):
    assert checks.check_symbolic_main(["--quick", "--only", "kernel-limit", "--only",
                                       "rule-sharpness"]) == 0
    out = capsys.readouterr().out
    assert "kernel-limit" in out and "rule-sharpness" in out and "yes" in out


def test_main_returns_nonzero_when_an_identity_fails(monkeypatch, capsys):
    broken = checks.SymbolicCheck("broken", "1 = 2", lambda: False, ({},), ({},), "-", "-")
    monkeypatch.setitem(checks.CHECKS, "broken", broken)
    assert checks.check_symbolic_main(["--quick", "--only", "broken"]) == 1
    assert "FAILED: broken" in capsys.readouterr().out


def test_main_unknown_name_and_list(capsys):
    assert checks.check_symbolic_main(["--only", "nope"]) == 2
    assert checks.check_symbolic_main(["--list"]) == 0
    assert "state-space:" in capsys.readouterr().out


def test_run_checks_selection_is_never_empty_and_a_name_is_one_name():
    """run_checks(names=[]) returned [] (all(...) of it reads as "every identity holds"), and
    a single name given as a string was split into its characters."""
    with pytest.raises(ValueError, match="selects no identity"):
        checks.run_checks(quick=True, names=[])
    rows = checks.run_checks(quick=True, names="rk4-order-conditions")
    assert [r["identity"] for r in rows] == ["rk4-order-conditions"] and rows[0]["holds"]
