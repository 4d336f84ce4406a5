"""The "dnl-gamma" study: its data, its forward-consistency check (the N-layer non-local network is
the Nyström discretisation of the continuum equation on the same grid) and the whole study at tiny
sizes (the parts, their columns, the rates, the figures)."""
import math

import numpy as np
import pytest

from integrallimits.control import band_fields
from integrallimits.networks import spatial_rule
from integrallimits.studies import STUDIES, StudyResult
from integrallimits.studies import dnl_gamma as dnl

import tiny_studies

try:
    import matplotlib  # noqa: F401
    HAVE_MATPLOTLIB = True
except ImportError:
    HAVE_MATPLOTLIB = False

TINY = tiny_studies.DNL_GAMMA


# -- the data -----------------------------------------------------------------------------------------

def test_band_fields_have_unit_pointwise_variance_in_both_classes():
    """u(ξ) ~ N(0, 1) at every node whatever the class: over 3000 samples the pointwise mean is
    within 0.1 of 0 and the variance within 0.12 of 1, for the smooth and the rough class, while
    the correlation of neighbouring values (a non-local property) separates the classes: it is
    E u(ξ) u(ξ + h) = mean over the band of cos(π m h), within 0.03."""
    grid = spatial_rule("trapezoid", 16)
    data = band_fields(grid, 6000, seed=2)
    for k in (0, 1):
        U = data.X[data.y == k]
        assert len(U) == 3000
        assert np.abs(U.mean(axis=0)).max() < 0.1
        assert np.abs(U.var(axis=0) - 1.0).max() < 0.12
    for k, band in enumerate(((1, 2), (4, 5))):
        U = data.X[data.y == k]
        exact = np.mean(np.cos(np.pi * np.array(band) / 16))        # 0.95 smooth, 0.63 rough
        assert abs(np.mean(U[:, :-1] * U[:, 1:]) - exact) < 0.03


def test_band_fields_are_the_same_functions_on_every_grid():
    coarse, fine = spatial_rule("trapezoid", 8), spatial_rule("trapezoid", 32)
    a, b = band_fields(coarse, 5, seed=7, n_test=3), band_fields(fine, 5, seed=7, n_test=3)
    np.testing.assert_array_equal(a.y, b.y)
    np.testing.assert_allclose(a.X, b.X[:, ::4], rtol=0, atol=1e-14)
    np.testing.assert_allclose(a.X_test, b.X_test[:, ::4], rtol=0, atol=1e-14)
    lifted = band_fields(coarse, 5, seed=7, channels=2)
    np.testing.assert_array_equal(lifted.X[:, :9], lifted.X[:, 9:])
    assert not np.array_equal(band_fields(coarse, 5, seed=8).X, a.X)


@pytest.mark.parametrize("kwargs, match", [
    (dict(grid=spatial_rule("trapezoid", 2, dim=2)), "interval"),
    (dict(grid=np.linspace(0, 1, 5)), "SpatialRule"),
    (dict(n_samples=0), "n_samples"),
    (dict(channels=1.5), "channels"),
    (dict(bands=((1, 2),)), "two"),
    (dict(bands=((0, 1), (2, 3))), "modes"),
    (dict(bands=(("a",), (2,))), "integer"),
])
def test_band_fields_bad_input(kwargs, match):
    args = dict(grid=spatial_rule("trapezoid", 4), n_samples=4)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        band_fields(**args)


# -- forward consistency ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", dnl.MAPS)
def test_network_is_the_nystrom_discretisation_of_the_continuum_equation(kind):
    """The compiled N-layer network (rule + kernel through solve_volterra) equals the rectangle /
    Nyström discretisation written with NumPy from the continuum kernels, to rounding; a bias
    changed by 1e-3 changes that discretisation by more than 1e-5 (the check can fail)."""
    row = dnl._consistency((kind, 6, 6))
    assert row["part"] == "consistency" and row["M"] == 7
    assert row["max_abs_difference"] <= 1e-14 * max(1.0, row["max_abs_state"])
    grid = spatial_rule("trapezoid", 6)
    W, b = dnl._smooth_fields(kind)
    u0 = np.sin(np.pi * grid.nodes) + 0.5 * np.cos(3 * grid.nodes)
    reference = dnl.nystrom_discretisation(kind, grid, 6, u0, W, b)
    shifted = dnl.nystrom_discretisation(kind, grid, 6, u0, W, lambda t, s: b(t, s) + 1e-3)
    network = dnl.dnl_network(kind, grid, 6, W=W, b=b).states(u0[None])[0, :, 0]
    assert np.abs(network - reference).max() == pytest.approx(row["max_abs_difference"], abs=1e-16)
    assert np.abs(shifted - reference).max() > 1e-5


def test_dnl_network_kinds_and_errors():
    grid = spatial_rule("trapezoid", 4)
    assert [len(dnl.dnl_network(k, grid, 2).maps) for k in dnl.MAPS] == [1, 2, 2, 2]
    assert dnl.dnl_network("attention", grid, 3, T=3.0).h == 1.0
    with pytest.raises(ValueError, match="kind"):
        dnl.dnl_network("fourier", grid, 2)


# -- the whole study at tiny sizes ------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny():
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(dnl._SETTINGS, "quick", TINY)
        yield STUDIES["dnl-gamma"](quick=True, seed=0)


def _branch(res, kind, start="continuation"):
    return [r for r in res.rows if r["part"] == "depth" and r["map"] == kind and r["start"] == start]


def test_tiny_study_parts_and_columns(tiny):
    parts = [r["part"] for r in tiny.rows]
    assert list(dict.fromkeys(parts)) == ["depth", "resolution", "stability", "consistency"]
    for kind in dnl.MAPS:
        assert [r["N"] for r in _branch(tiny, kind)] == [2, 4, 8]
    assert [r["N"] for r in _branch(tiny, "nystrom", "seed=1")] == [2, 4]
    depth = [r for r in tiny.rows if r["part"] == "depth"]
    assert {"J", "J_diff", "rate_J_diff", "J_continuum", "J_gap", "loss_gap", "regularizer_gap",
            "param_diff_L2", "param_diff_H1", "rate_param_diff_H1", "train_accuracy",
            "test_accuracy", "grad_norm", "iterations"} <= set(depth[0])
    for r in depth:
        assert r["converged"] and r["grad_norm"] < 1e-5 and r["M"] == 5
        assert r["J_gap"] == pytest.approx(r["loss_gap"] + tiny.params["alpha"] * r["regularizer_gap"],
                                           abs=1e-12)
        assert r["J_continuum"] == pytest.approx(r["J"] + r["J_gap"], abs=1e-14)
    res = [r for r in tiny.rows if r["part"] == "resolution"]
    assert [(r["N"], r["M"]) for r in res if r["map"] == "local"] == [(4, 5), (4, 9), (2, 5), (4, 9)]
    markdown = tiny.to_markdown()
    assert markdown.startswith("| part | data | map |") and markdown.count("\n\n| part |") == 3
    assert tiny.params["digits"] is False and tiny.data["fields"]


def test_tiny_study_values_and_rates(tiny):
    """Along each continuation branch |J_N - J_2N| and the L2 distance of successive extensions
    shrink from N = 2 -> 4 to N = 4 -> 8 and the rate columns are log2 of their ratios; the
    consistency gap at the minimiser shrinks; the network equals its Nyström discretisation."""
    for kind in dnl.MAPS:
        rows = _branch(tiny, kind)
        assert rows[-1]["J_diff"] != rows[-1]["J_diff"]          # NaN: nothing finer to compare
        assert rows[1]["param_diff_L2"] < rows[0]["param_diff_L2"]
        assert rows[1]["rate_param_diff_L2"] == pytest.approx(
            math.log2(rows[0]["param_diff_L2"] / rows[1]["param_diff_L2"]))
        assert abs(rows[-1]["J_gap"]) < abs(rows[0]["J_gap"])
    checks = [r for r in tiny.rows if r["part"] == "consistency"]
    assert [r["map"] for r in checks] == list(dnl.MAPS)
    assert all(r["max_abs_difference"] < 1e-13 for r in checks)


def test_tiny_study_stability_rows(tiny):
    """With the 1/N scaling the adjoint |mu_n| / h varies by less than a factor 3 over the hidden
    layers at every depth (it tends to the continuous adjoint); without it (h = 1, a product of N
    layer Jacobians) its spread at N = 64 is more than 5 times larger, for every map."""
    stab = {(r["map"], r["scaling"], r["N"]): r for r in tiny.rows if r["part"] == "stability"}
    assert len(stab) == 4 * 2 * 2
    for kind in dnl.MAPS:
        assert all(stab[kind, "1/N", N]["adjoint_spread"] < 3 for N in (4, 64))
        assert stab[kind, "none", 64]["adjoint_spread"] > 5 * stab[kind, "1/N", 64]["adjoint_spread"]
        row = stab[kind, "1/N", 64]
        assert row["adjoint_spread"] == pytest.approx(row["adjoint_max"] / row["adjoint_min"])


@pytest.mark.skipif(not HAVE_MATPLOTLIB, reason="needs matplotlib")
def test_tiny_study_figures(tiny):
    figs = dnl.figures(tiny)
    assert set(figs) == {"dnl-gamma-rates", "dnl-gamma-fields", "dnl-gamma-resolution",
                         "dnl-gamma-stability"}
    fields = figs["dnl-gamma-fields"]
    assert len(fields.axes) == 4 * (3 + 1) + 4 * 2   # maps x (N panels + last change), two colour bars
    without_data = StudyResult("dnl-gamma", tiny.rows, params=tiny.params)
    assert "dnl-gamma-fields" not in dnl.figures(without_data)


def test_sections_split_a_table_by_its_part_column():
    res = StudyResult("demo", [{"part": "a", "x": 1}, {"part": "b", "y": 2.5}, {"part": "a", "x": 3}])
    assert [[r.get("x", r.get("y")) for r in sec] for sec in res.sections()] == [[1, 3], [2.5]]
    assert res.to_markdown() == ("| part | x |\n|---|---|\n| a | 1 |\n| a | 3 |\n\n"
                                 "| part | y |\n|---|---|\n| b | 2.5 |\n")
    plain = StudyResult("demo", [{"x": 1}, {"x": 2}])
    assert plain.sections() == [plain.rows] and plain.to_markdown().count("|---|") == 1


def test_the_digits_ladder_left_out_without_scikit_learn_is_said(monkeypatch):
    """Without scikit-learn the digits depth ladder of the full study was dropped in silence
    (only "digits": false among the parameters); now a warning and the notes say so (the
    warning comes before any cell runs: the test stops there)."""
    class Stop(Exception):
        pass

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(dnl, "digits_available", lambda: False)
    monkeypatch.setattr(dnl, "run_cells", stop)
    with pytest.warns(UserWarning, match="dnl-gamma: The digits depth ladder is left out: "
                                         "scikit-learn is not installed"):
        with pytest.raises(Stop):
            dnl.dnl_gamma(quick=False)
