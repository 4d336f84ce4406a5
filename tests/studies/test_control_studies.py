"""The control studies in quick mode: they run, have their columns, and their observed rates fall
in windows that follow from the theory (first-order rectangle rule; see each test)."""
import math

import numpy as np
import pytest

from integrallimits.studies import STUDIES

GAMMA_COLUMNS = {"N", "start", "J", "J_diff", "param_diff_L2", "param_diff_H1", "train_accuracy",
                 "seconds", "J_continuum", "J_extrapolated", "test_accuracy"}


@pytest.fixture(scope="module")
def resnet_gamma():
    return STUDIES["resnet-gamma"](quick=True)


@pytest.fixture(scope="module")
def dense_gamma():
    return STUDIES["dense-gamma"](quick=True)


def _branch(res, start="continuation"):
    return [r for r in res.rows if r["start"] == start]


def _finite(values):
    return [v for v in values if not math.isnan(v)]


def test_resnet_gamma_columns_and_starts(resnet_gamma):
    assert GAMMA_COLUMNS <= set(resnet_gamma.columns)
    starts = {r["start"] for r in resnet_gamma.rows}
    assert "continuation" in starts and any(s.startswith("seed=") for s in starts)
    assert [r["N"] for r in _branch(resnet_gamma)] == [4, 8, 16, 32, 64]
    for row in resnet_gamma.rows:
        assert math.isfinite(row["J"]) and row["grad_norm"] < 1e-5
    assert "J_diff" in resnet_gamma.to_markdown() and resnet_gamma.to_csv().count("\n") == 16


def test_resnet_gamma_rates(resnet_gamma):
    """Along the continuation branch the state is the explicit Euler scheme (first order) and the
    discrete H1 penalty is the exact H1 seminorm of the extension, so optimal values and
    minimisers move by O(h): the rates of |J_N - J_2N| and of the L2/H1 distances of
    theta_bar_N, theta_bar_2N (N = 8, 16, 32) tend to 1 with an O(h) pre-asymptotic term, so
    their distances from 1 halve with each doubling (ratios within 0.3 .. 0.7; observed
    0.44-0.53) and the finest is within 0.1 of 1 (observed 1.04, 1.07, 1.06).  (A fixed window
    of 0.3 around 1 at every N held the coarsest L2 rate, 1.300030 on an AVX-512 machine, by
    rounding only: its distance 0.300 is the O(h) term, not noise.)"""
    rows = _branch(resnet_gamma)
    for key in ("J_diff", "param_diff_L2", "param_diff_H1"):
        rates = _finite([r[f"rate_{key}"] for r in rows])
        assert len(rates) == 3
        off = [abs(rate - 1.0) for rate in rates]
        assert off[-1] <= 0.1, (key, rates)
        assert all(0.3 * a <= b <= 0.7 * a for a, b in zip(off, off[1:])), (key, rates)
    # the consistency gap J(theta_bar_N) - J_N(theta_N) is O(h): positive, decreasing, and its
    # last rate is first order up to a pre-asymptotic margin
    gaps = [r["J_continuum"] - r["J"] for r in rows]
    assert all(g > 0 for g in gaps) and all(b < a for a, b in zip(gaps, gaps[1:]))
    assert 0.75 <= np.log2(gaps[-2] / gaps[-1]) <= 1.5, gaps


def test_dense_gamma(dense_gamma):
    """Residual-dense (rectangle rule): first order in the limit, pre-asymptotic at N <= 16, so
    only convergence is asserted for the values: |J_N - J_2N| falls, at most at second order;
    the consistency gap J(theta_bar_N) - J_N(theta_N) = O(h) falls at a rate in [0.75, 2]; the
    L2 distance of minimisers at a rate in [0.5, 1.5]; the H1 distance at rate 1/2 (within 0.2):
    the extension is continued constantly across the strip s in [t - h, t] next to the diagonal,
    where the limit field has d/ds theta != 0, an H1 defect of size (h |d_s theta|^2)^(1/2)."""
    assert GAMMA_COLUMNS <= set(dense_gamma.columns)
    rows = _branch(dense_gamma)
    assert [r["N"] for r in rows] == [4, 8, 16]
    diffs = _finite([r["J_diff"] for r in rows])
    assert len(diffs) == 2 and 0 < diffs[1] < diffs[0]
    assert 0 < rows[1]["rate_J_diff"] <= 2.0
    gaps = [r["J_continuum"] - r["J"] for r in rows]
    rates = np.log2(np.array(gaps[:-1]) / gaps[1:])
    assert np.all((0.75 <= rates) & (rates <= 2.0)), gaps
    assert 0.5 <= rows[1]["rate_param_diff_L2"] <= 1.5
    assert 0.3 <= rows[1]["rate_param_diff_H1"] <= 0.7
    assert all(r["grad_norm"] < 1e-5 for r in dense_gamma.rows)


def test_adjoint_agreement():
    """Rectangle ResNet: first order; trapezoid: second order at interior layers, first order
    at the end layers (O(h) implicit correction of the end multipliers).  Discrete adjoint =
    finite differences to 1e-7; the continuous reference matches the SciPy costate ODE."""
    res = STUDIES["adjoint-agreement"](quick=True)
    assert {"rule", "N", "gradient_difference", "rate", "fd_difference"} <= set(res.columns)
    rect = [r for r in res.rows if r["rule"] == "rectangle"]
    trap = [r for r in res.rows if r["rule"] == "trapezoid"]
    assert [r["N"] for r in rect] == [4, 8, 16, 32, 64]
    assert abs(rect[-1]["rate"] - 1.0) <= 0.1
    assert abs(trap[-1]["interior_rate"] - 2.0) <= 0.2
    assert abs(trap[-1]["rate"] - 1.0) <= 0.1
    assert all(b["gradient_difference"] < a["gradient_difference"] for a, b in zip(rect, rect[1:]))
    fds = _finite([r["fd_difference"] for r in res.rows])
    assert len(fds) == 4 and max(fds) <= 1e-7
    assert res.rows[0]["reference_error"] <= 1e-10


def test_training_stability():
    """With the 1/N scaling mu_n / h -> lambda(t_n), so the first/last hidden-layer ratio of the
    adjoint norms stays bounded and settles (within a factor 2 from N = 16 to 64), and J_N at the
    common start moves by O(h) (< 10 %).  Without it (h = 1) the adjoint is a product of N layer
    Jacobians: the ratio leaves the scaled range by orders of magnitude by N = 64."""
    res = STUDIES["training-stability"](quick=True)
    assert {"family", "scaling", "N", "J_initial", "J_final", "adjoint_first", "adjoint_last",
            "adjoint_ratio"} <= set(res.columns)
    for family in ("resnet", "residual-dense", "concat-dense"):
        scaled = {r["N"]: r for r in res.rows if r["family"] == family and r["scaling"] == "1/N"}
        plain = {r["N"]: r for r in res.rows if r["family"] == family and r["scaling"] == "none"}
        assert set(scaled) == set(plain) == {4, 16, 64}
        assert all(0.1 < r["adjoint_ratio"] < 10 for r in scaled.values())
        assert 0.5 <= scaled[64]["adjoint_ratio"] / scaled[16]["adjoint_ratio"] <= 2.0
        assert abs(scaled[64]["J_initial"] - scaled[16]["J_initial"]) < 0.1 * scaled[64]["J_initial"]
        assert abs(math.log10(plain[64]["adjoint_ratio"])) > \
            abs(math.log10(scaled[64]["adjoint_ratio"])) + 2
        for r in list(scaled.values()) + list(plain.values()):
            assert r["J_final"] < r["J_initial"]
