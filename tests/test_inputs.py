"""Masked arrays (numpy.ma) are refused where arrays come in: NumPy's conversions drop the
mask and keep the values under it, which every entry point used as data (a t_eval with a
masked time returned the solution at the time under the mask; a masked W built a network of
the values under the mask)."""
import re

import numpy as np
import numpy.ma as ma
import pytest

from integrallimits import solve_vide, solve_volterra
from integrallimits.fredholm import nystrom_matrix, solve_fredholm
from integrallimits.networks import ResNet


def _decay(t, s, y):
    return -y


def _one(t):
    return 1.0


_TIMES = ma.array([0.0, 0.25, 0.5, 0.75, 1.0], mask=[0, 0, 1, 0, 0])
_SOL = {}


def _solution():
    if not _SOL:
        _SOL["s"] = solve_volterra(_decay, _one, (0.0, 1.0), 8, method="trapezoid")
    return _SOL["s"]


@pytest.mark.parametrize("name, call", [
    ("mesh", lambda: solve_volterra(_decay, _one, mesh=_TIMES, method="trapezoid")),
    ("t_eval", lambda: solve_volterra(_decay, _one, (0.0, 1.0), 8, method="trapezoid",
                                      t_eval=_TIMES)),
    ("the value of g(t) at t = 0.0",
     lambda: solve_volterra(_decay, lambda t: ma.array([1.0, 2.0], mask=[0, 1]), (0.0, 1.0), 8,
                            method="trapezoid")),
    ("args[0]", lambda: solve_volterra(lambda t, s, y, a: -a[0] * y, _one, (0.0, 1.0), 8,
                                       method="trapezoid", args=(ma.array([1.0], mask=[1]),))),
    ("atol", lambda: solve_volterra(_decay, lambda t: np.ones(2), (0.0, 1.0), rtol=1e-6,
                                    atol=ma.array([1e-9, 1.0], mask=[0, 1]))),
    ("y0", lambda: solve_vide(lambda t, y, z: -y + z, _decay, ma.array([1.0, 2.0], mask=[0, 1]),
                              (0.0, 1.0), 8)),
    ("t", lambda: _solution()(_TIMES)),
    ("nodes", lambda: nystrom_matrix(lambda x, s: x * s, _TIMES, np.full(5, 0.2))),
    ("W", lambda: ResNet(ma.array(np.ones((4, 2, 2)), mask=np.eye(2, dtype=bool)[None]
                                  .repeat(4, 0)), np.zeros((4, 2)))),
    ("inputs", lambda: ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2))).forward(
        ma.array([[1.0, 2.0]], mask=[[0, 1]]))),
])
def test_a_masked_array_is_refused_naming_the_argument(name, call):
    with pytest.raises(TypeError,
                       match=rf"^{re.escape(name)} is a masked array \(numpy\.ma\): its mask "):
        call()


def test_a_masked_fredholm_argument_is_refused():
    """g's values and the points of a Fredholm solution's interpolant, as for the Volterra
    solvers."""
    with pytest.raises(TypeError, match=r"^the value of g\(x\) at x = .* is a masked array"):
        solve_fredholm(lambda x, s, y: 0.1 * y, lambda x: ma.masked_array(1.0, mask=True),
                       (0.0, 1.0), 8)
    sol = solve_fredholm(lambda x, s, y: 0.1 * y, np.cos, (0.0, 1.0), 8)
    with pytest.raises(TypeError, match=r"^x is a masked array"):
        sol(_TIMES)
    # an ordinary array with the same values still works, as do the unmasked entries
    assert np.array_equal(sol(_TIMES.compressed()), sol(np.array([0.0, 0.25, 0.75, 1.0])))
