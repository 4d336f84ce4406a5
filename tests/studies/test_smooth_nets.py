"""The "smooth-nets" study on a tiny configuration (N = 4, 16 samples, a few iterations): its
contenders, exact parameter counts, depth-ladder columns, resumability and figures."""
import json
import math

import numpy as np
import pytest

from integrallimits.studies import STUDIES
from integrallimits.studies import smooth_nets as sn
from integrallimits.studies._figures import have_matplotlib
from integrallimits.studies._runner import load_cells

import tiny_studies

TINY = tiny_studies.SMOOTH_NETS


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cells")
    return sn._run(TINY, True, 0, None, str(folder)), folder


def test_registered():
    assert "smooth-nets" in STUDIES and STUDIES["smooth-nets"].__wrapped__ is sn.smooth_nets


def test_contenders_and_exact_parameter_counts(tiny):
    """ResNets of width k d (k = 1..4), smooth nets of order 2..4 on the reach horizon
    (k!)^(1/k) and on T = 1; a ResNet layer has (kd)^2 + kd parameters, a smooth layer d^2 + d,
    and the smooth net of order k reads the layers j <= N - k only."""
    res, _ = tiny
    N, d = TINY["N"], 2
    got = {(r["net"], r["k"], round(r["T"], 6)) for r in res.rows}
    want = {("resnet", k, 1.0) for k in (1, 2, 3, 4)}
    want |= {("smooth", k, round(math.factorial(k) ** (1 / k), 6)) for k in (2, 3, 4)}
    want |= {("smooth", k, 1.0) for k in (2, 3, 4)}
    assert got == want and len(res.rows) == len(want)
    for r in res.rows:
        k = r["k"]
        assert r["state_dim"] == k * d and r["N"] == N
        wide = N * ((k * d) ** 2 + k * d)
        if r["net"] == "resnet":
            assert r["params"] == wide and r["param_ratio"] == 1.0
        else:
            assert r["params"] == (N - k + 1) * (d * d + d)
            assert r["param_ratio"] == pytest.approx(wide / r["params"])
        assert r["params_total"] == r["params"] + 2 * d + 2   # the same readout and classifier
        for key in ("train_accuracy", "test_accuracy"):
            assert 0.0 <= r[key] <= 1.0 and r[f"{key}_sd"] >= 0.0
        assert r["train_loss"] > 0 and r["test_loss"] > 0 and r["grad_norm_initial"] > 0
        assert 0 <= r["converged"] <= TINY["seeds"]


def test_depth_ladder_columns(tiny):
    """J_N at N = 4, 8 by continuation for the smooth nets on the reach horizon and the ResNet
    of width d (the smooth net of order 1), and nothing for the others."""
    res, _ = tiny
    for r in res.rows:
        has = (r["net"] == "smooth" and r["T"] != 1.0) or (r["net"] == "resnet" and r["k"] == 1)
        assert {"J_4", "J_8", "J_diff_4", "test_accuracy_8"} <= set(r)
        assert math.isfinite(r["J_8"]) == has
        if has:
            assert r["J_diff_4"] == pytest.approx(abs(r["J_4"] - r["J_8"]))


def test_ladder_rates():
    """log2 of successive |J_N - J_2N|: exactly 1 for J_N = 1 + 1/N; no rate from differences
    at the optimiser's tolerance."""
    ladder = {"J": [1 + 1 / N for N in (8, 16, 32, 64)], "test_accuracy": [0.5] * 4,
              "grad_norm": [1e-9] * 4}
    cols = sn._ladder_columns([8, 16, 32, 64], ladder)
    assert cols["rate_J_diff_16"] == pytest.approx(1.0) and cols["rate_J_diff_32"] == pytest.approx(1.0)
    assert cols["J_diff_32"] == pytest.approx(1 / 32 - 1 / 64)
    flat = dict(ladder, J=[0.25, 0.25 + 1e-12, 0.25, 0.25 + 3e-13])
    assert math.isnan(sn._ladder_columns([8, 16, 32, 64], flat)["rate_J_diff_16"])
    assert math.isnan(sn._ladder_columns([8, 16], None)["J_8"])


def test_resumed_run_reuses_every_cell_and_gives_the_same_table(tiny):
    res, folder = tiny
    n_cells = len(load_cells(str(folder)))
    assert n_cells == 10 * 2 + 4 + 3   # fits (contenders x seeds), ladders, trajectories
    again = sn._run(TINY, True, 0, None, str(folder))
    assert json.dumps(again.rows) == json.dumps(res.rows)  # (NaN marks the rows without a ladder)
    assert len(load_cells(str(folder))) == n_cells


@pytest.mark.skipif(not have_matplotlib(), reason="matplotlib is not installed (plot extra)")
def test_figures(tiny):
    res, _ = tiny
    assert set(res.figures) == {"accuracy-vs-parameters", "depth-limit", "trajectories"}
    traj = res.figures["trajectories"]
    assert len(traj.axes) == 3 and all(ax.get_xlabel() == "x1" for ax in traj.axes)
    acc = res.figures["accuracy-vs-parameters"].axes[0]
    assert acc.get_xscale() == "log" and acc.get_ylabel() == "test accuracy"


def test_padded_inputs_are_the_lift_of_the_smooth_state():
    """The wide ResNet starts from x_0 = (u, 0): the padded data keep u and add zeros."""
    from integrallimits.control import make_dataset
    data = make_dataset("spheres", 8, d=2, seed=0, n_test=4)
    wide = sn._padded(data, 6)
    assert wide.X.shape == (8, 6) and np.array_equal(wide.X[:, :2], data.X)
    assert not wide.X[:, 2:].any() and not wide.X_test[:, 2:].any()


def test_cases_left_out_without_scikit_learn_are_said(tiny, monkeypatch):
    """Without scikit-learn (the digits extra) the digits cases were dropped from the table
    in silence (only a "skipped" entry among the parameters): the table read as the whole
    study.  Now a warning (one line on the command line) and the notes say so."""
    _, folder = tiny
    monkeypatch.setattr(sn, "digits_available", lambda: False)
    with pytest.warns(UserWarning, match=r"smooth-nets: The cases digits \(d = 2\) are left "
                                         r"out: scikit-learn is not installed"):
        res = sn._run(dict(TINY, cases=[["spheres", 2], ["digits", 2]]), True, 0, None,
                      str(folder))     # (the spheres cells are those of the fixture)
    assert {r["task"] for r in res.rows} == {"spheres"}
    assert "digits (d = 2) are left out" in res.notes
    assert res.params["skipped"] == [["digits", 2]]
