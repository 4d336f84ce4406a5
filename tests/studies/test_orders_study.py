import pytest

from integrallimits.studies import STUDIES


def test_orders_study_quick_rows_and_files(tmp_path):
    res = STUDIES["orders"](quick=True, methods=["trapezoid", "rk4", "radau2"],
                            problems=["exp-square"])
    assert {"method", "problem", "declared_order", "observed_order"} <= set(res.columns)
    assert [r["method"] for r in res.rows] == ["trapezoid", "rk4", "radau2"]
    for row in res.rows:
        assert abs(row["observed_order"] - row["declared_order"]) <= 0.2
    res.to_csv(tmp_path / "t.csv")
    res.to_json(tmp_path / "t.json")
    assert (tmp_path / "t.csv").read_text().splitlines()[0].startswith("method,problem")
    assert "| trapezoid |" in res.to_markdown()


def test_orders_study_has_rows_beyond_the_second_kind():
    # (in this file, not tests/fredholm: the trapezoid exp-square row shares the test above's
    # compiled kernel, and the Fredholm file, the longest under --dist loadfile, compiles no
    # Volterra, first-kind or VIDE solvers for it)
    names = ["fredholm:gauss-legendre", "fredholm:simpson", "first-kind:radau3", "vide:gauss2"]
    res = STUDIES["orders"](quick=True, methods=["trapezoid"] + names, problems=["exp-square"])
    assert [r["method"] for r in res.rows] == ["trapezoid"] + names
    assert all(r["within_0.2"] for r in res.rows), res.to_markdown()
    assert res.rows[1]["declared_order"] == "geometric"
    with pytest.raises(KeyError, match="unknown method"):
        STUDIES["orders"](quick=True, methods=["vide:euler"])


def test_registry_lists_orders():
    assert "orders" in STUDIES and "orders" in list(STUDIES)


def test_fast_convolution_study_quick():
    res = STUDIES["fast-convolution"](quick=True, methods=("gregory4",))
    assert {"N", "direct_seconds", "fast_seconds", "max_abs_difference"} <= set(res.columns)
    assert [r["N"] for r in res.rows] == [256, 512, 1024, 2048, 4096]
    assert all(r["max_abs_difference"] < 1e-12 for r in res.rows)


def test_an_unknown_problem_is_refused_naming_the_known_ones():
    """It was a bare KeyError 'nosuch' from the cell that reached it (after the cells before
    it had run), where an unknown method names the known ones."""
    with pytest.raises(KeyError, match=r"unknown problem\(s\) \['nosuch'\]; known: .*exp-square"):
        STUDIES["orders"](quick=True, methods=["trapezoid"], problems=["exp-square", "nosuch"])



@pytest.mark.parametrize("method, module, solver, where", [
    ("fredholm:simpson", "integrallimits.fredholm", "solve_fredholm", 3),
    ("first-kind:radau3", "integrallimits.volterra._first_kind", "solve_first_kind", 3),
    ("vide:gauss2", "integrallimits.volterra._vide", "solve_vide", 4)])
def test_a_failed_solve_is_not_reported_as_a_measured_order(method, module, solver, where,
                                                            monkeypatch):
    """The rows beyond the second kind fitted the errors of solves that reported failure
    (status False) and said "within_0.2" True when those values happened to converge at the
    declared order; such a row is now "not measured", with the solver's message and no
    numbers from the failed solves.  (The solver is replaced by one that reports failure with
    values off by h^p, p the declared order: nothing is compiled.)"""
    import importlib
    import types

    import numpy as np

    from integrallimits.studies import _beyond
    from integrallimits.studies.orders import _beyond_cell
    family = method.split(":")[0]
    exact = {"fredholm": lambda: _beyond._fredholm_problem()[2],
             "first-kind": lambda: _beyond._first_kind_problem()[2],
             "vide": lambda: _beyond._vide_problem()[3]}[family]()
    order = _beyond.BEYOND_METHODS[method]

    def failed(*args, **kwargs):
        n = args[where]
        t = np.linspace(0.0, 1.0, n + 1)
        return types.SimpleNamespace(t=t, x=t, y=exact(t) + n ** -float(order), status=-1,
                                     success=False, message="injected failure")

    monkeypatch.setattr(importlib.import_module(module), solver, failed)
    row = _beyond_cell((method, True))
    assert row["within_0.2"] is False and row["verdict"] == "not measured", row
    assert row["finest_error"] != row["finest_error"] and "injected failure" in row["note"]
