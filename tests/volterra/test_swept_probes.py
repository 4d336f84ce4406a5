"""The checks of a solve on a given mesh that sweep the data between the mesh points (the
aliasing probes and the data check of ``_adaptive.with_rough_data``) take g once for all
their points and run their compiled sweeps together, with the values and counts of each
sweep made alone (issue 15: the per-call cost at N = 8)."""
import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.volterra import _adaptive, _solve


def _K_in_t(t, s, y):
    return np.exp(-(t - s)) * y * y


def _K_free(t, s, y):                 # (names no t: no sweep of K in t)
    return -y * y


def _K_pair(t, s, y):
    return np.array([np.cos(t - s) * y[1], -y[0] * y[0]])


def _g(t):
    return np.exp(-2.0 * t) + 0.1 * np.sin(40.0 * t)


def _g_pair(t):
    return np.array([np.exp(-t), np.sin(3.0 * t)])


def _checked_solves(monkeypatch, cases):
    """The (sol, g_vec, kernel, p) with which with_rough_data was called in the solves of
    ``cases`` (K, g, N, method)."""
    seen = []
    original = _solve.with_rough_data

    def keep(sol, g_vec, kernel, p, *args, **options):
        seen.append((sol, g_vec, kernel, int(np.ceil(p))))
        return original(sol, g_vec, kernel, p, *args, **options)
    monkeypatch.setattr(_solve, "with_rough_data", keep)
    for K, g, n, method in cases:
        solve_volterra(K, g, (0.0, 1.0), n, method=method)
    return [case for case in seen if case[0].success and len(case[0].mesh) > 1 and
            np.isfinite(case[0]._est2).all()]


def _same(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if callable(a):
        return callable(b)
    if isinstance(a, np.ndarray):
        return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    return a == b


@pytest.mark.parametrize("K, g", [(_K_in_t, _g), (_K_free, _g), (_K_pair, _g_pair)])
@pytest.mark.parametrize("n", [5, 8, 33])     # (5 and 33: t0 goes before the probe's pieces)
def test_the_sweeps_together_are_each_sweep_alone(monkeypatch, K, g, n):
    """The probes' answers and the data check's ratios and counts from one set of pieces and
    one call of g are those of _alias_probe, _alias_every and data_roughness, bit for bit,
    for the solution and for a solution perturbed between its steps."""
    cases = _checked_solves(monkeypatch, [(K, g, n, m) for m in ("trapezoid", "radau3")])
    assert cases
    rng = np.random.default_rng(n)
    for sol, g_vec, kernel, p in cases:
        t, E = sol.mesh, sol._est2
        for Y in (sol._y2, sol._y2 * (1.0 + 1e-3 * rng.standard_normal(sol._y2.shape))):
            together = _adaptive._swept_probes(g_vec, kernel, t, Y, E, p, True)
            assert together is not None
            probe = _adaptive._alias_probe(g_vec, kernel, t, Y, E, p)
            every = _adaptive._alias_every(g_vec, kernel, t, Y, probe[2], p)
            checked = _adaptive.data_roughness(g_vec, kernel, t, Y, E, p)
            assert _same(together[0][:5], probe)
            assert _same(together[0][5], every)
            assert _same(together[0][5][1](), every[1]())     # (the defects, made when asked)
            assert _same(together[1], checked)


def test_a_value_the_sweeps_record_leaves_each_sweep_alone(monkeypatch):
    """A non-finite kernel value at a point of the sweeps (recorded, not raised): None, and
    the callers make each sweep alone, as before."""
    (sol, g_vec, kernel, p), = _checked_solves(monkeypatch, [(_K_in_t, _g, 8, "trapezoid")])
    Y = sol._y2.copy()
    Y[4] = np.nan                    # (y on the chord to NaN: K is NaN there)
    assert _adaptive._swept_probes(g_vec, kernel, sol.mesh, Y, sol._est2, p, True) is None


def test_the_sweeps_of_a_solve_at_n8_call_g_once(monkeypatch):
    """The README problem at N = 8 (trapezoid, the estimate on): the checks of
    with_rough_data call g once (the probes' pieces, every step's and the data check's points
    in one array; three calls before, ~30 us of a ~360 us solve), with the same answer."""
    calls = []

    def g(t):
        calls.append(np.size(t))
        return np.exp(-2.0 * t)
    reference = solve_volterra(_K_in_t, lambda t: np.exp(-2.0 * t), (0.0, 1.0), 8)
    original = _solve.with_rough_data
    inside = []

    def counted(*args, **options):
        before = len(calls)
        try:
            return original(*args, **options)
        finally:
            inside.append(len(calls) - before)
    monkeypatch.setattr(_solve, "with_rough_data", counted)
    sol = solve_volterra(_K_in_t, g, (0.0, 1.0), 8)
    assert inside == [1]
    assert sol.success and sol.stats["nfev"] == reference.stats["nfev"]
    assert sol.y.tobytes() == reference.y.tobytes()
    assert sol.error_estimate.tobytes() == reference.error_estimate.tobytes()
