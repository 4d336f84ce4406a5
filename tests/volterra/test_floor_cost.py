"""The rounding floor's memory probes at small N (issue 15, item 2): fewer calls, the same
answers."""
import math
import random

import numpy as np

from integrallimits import solve_volterra
from integrallimits.volterra import _outcome, _tolerance


def _K(t, s, y):
    return np.exp(-(t - s)) * y * y


def _g(t):
    return np.exp(-2 * t)


def test_memory_pair_and_row_in_one_probe(monkeypatch):
    """The memory's pair (T, s*) and (s*, s*) and its row at T take one compiled probe (two on
    main), with the same nfev."""
    calls = []
    original = _tolerance._scalar_rates_compiled

    def counted(kernel, times, values, floor, at=None):
        if at is not None:
            calls.append(len(times))
        return original(kernel, times, values, floor, at)

    monkeypatch.setattr(_tolerance, "_scalar_rates_compiled", counted)
    sol = solve_volterra(_K, _g, (0.0, 1.0), 8)
    assert sol.success
    assert calls[0] == 2 + _outcome.ROW_PROBES + 1


def test_room_reach_on_floats_is_room_reach():
    """:func:`_room_reach_few` answers as :func:`_room_reach` on random blocks, with ties of G
    at the logarithms (math.log's and np.log's), zeros, NaN, infinities and underflows."""
    rng = random.Random(5)
    special = [0.0, -0.0, math.inf, -math.inf, math.nan, 1e-310, 1e308, 1.0]

    def val(p_special):
        if rng.random() < p_special:
            return rng.choice(special)
        return rng.choice([1, -1]) * 10 ** rng.uniform(-20, 5)

    for _ in range(20000):
        n = rng.randint(1, 12)
        y = [val(0.03) for _ in range(n)]
        e = [abs(val(0.05)) if rng.random() > 0.02 else -abs(val(0.0)) for _ in range(n)]
        g = [0.0 if rng.random() < 0.3 else abs(val(0.02)) * rng.choice([1e-3, 1, 10])
             for _ in range(n)]
        scale = math.sqrt(rng.randint(2, 64)) * 2.220446049250313e-16 * rng.choice([1.0, 4.0])
        size = 0.0
        for i in range(n):
            size = max(size, abs(y[i])) if math.isfinite(y[i]) else size
            floor = scale * size
            if floor > 0 and 0 < e[i] < math.inf and 0 < e[i] / floor < math.inf and \
                    rng.random() < 0.15:
                r = e[i] / floor
                g[i] = max(0.0, math.log(r) if rng.random() < 0.5 else float(np.log(r)))
        after = sorted(abs(val(0.0)) for _ in range(n))
        if rng.random() < 0.3:
            after[0] = 0.0
        if rng.random() < 0.2:
            after = [1.0 + i for i in range(n)]
        size0 = abs(val(0.02))
        size0 = size0 if math.isfinite(size0) else 1.0
        a = _outcome._room_reach(np.array(y), np.array(e), np.array(g), np.array(after), size0,
                                 scale)
        b = _outcome._room_reach_few(y, e, g, after, size0, scale)
        assert (a is None) == (b is None), (y, e, g, after, size0, scale)
        if a is not None:
            assert a == b, (y, e, g, after, size0, scale)
