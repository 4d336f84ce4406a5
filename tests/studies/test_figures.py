"""Every study draws its own figure, as a reader of a paper would want it: labelled axes with
the quantity's symbol (no raw column names), a caption-like title, reference slopes on the
convergence plots.  Drawn from the committed full tables in validation/ (nothing recomputed)."""
import json
import os

import pytest

pytest.importorskip("matplotlib")

from integrallimits.studies import StudyResult  # noqa: E402
from integrallimits.studies._figures import study_figures  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: studies whose figures show convergence against N, n or M: they carry O(N^-p) slopes
CONVERGENCE = {"forward-limit", "relu-convergence", "resolution-limit", "adjoint-agreement",
               "resnet-gamma", "dense-gamma", "fast-convolution"}


def committed(name):
    with open(os.path.join(ROOT, "validation", name, "table.json"), encoding="utf-8") as fh:
        table = json.load(fh)
    return StudyResult(table["name"], table["rows"], params=table["params"], notes=table["notes"])


#: the studies whose figure functions follow these rules (smooth-nets, added later, not yet)
DRAWN = ["orders", "fast-convolution", "forward-limit", "relu-convergence", "resnet-gamma",
         "dense-gamma", "adjoint-agreement", "training-stability", "resolution-limit", "state-space"]


@pytest.mark.parametrize("name", DRAWN)
def test_each_study_draws_a_readable_figure(name):
    if not os.path.exists(os.path.join(ROOT, "validation", name, "table.json")):
        pytest.skip(f"no committed table for {name}")
    result = committed(name)
    figures = study_figures(name, result)
    assert figures, f"{name} draws no figure"
    columns = set(result.columns)
    for fig in figures.values():
        assert fig._suptitle is not None and len(fig._suptitle.get_text()) > 20
        slopes = 0
        for ax in fig.axes:
            for label in (ax.get_xlabel(), ax.get_ylabel()):
                assert label and label not in columns, (name, label)
            slopes += sum(line.get_linestyle() == "--" and line.get_label().startswith("_")
                          for line in ax.get_lines())
        if name in CONVERGENCE:
            assert slopes >= 1, f"{name}: no reference slope"


def test_orders_names_methods_and_reads_pre_asymptotic_rows():
    result = committed("orders")
    (fig,) = study_figures("orders", result).values()
    ticks = {t.get_text() for t in fig.axes[0].get_xticklabels()}
    assert {"trapezoid", "gregory8", "gauss4"} <= ticks
    rows = [r for r in result.rows if r["problem"] == "cos6"]
    assert rows, "the orders table has no cos6 rows: regenerate validation/orders"
    assert all(r["verdict"] == "asymptotic" for r in rows), [
        (r["method"], r["observed_order"]) for r in rows if r["verdict"] != "asymptotic"]
    assert {r["verdict"] for r in result.rows} <= {"asymptotic", "pre-asymptotic", "superconvergent",
                                                   "geometric", "not measured"}
