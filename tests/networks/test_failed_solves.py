"""A network whose solve fails with raise_on_failure=False returns the layers it reached and
NaN for the rest, with a RuntimeWarning carrying the solver's message (it raised an
IndexError, or a ValueError from a reshape for the non-local network)."""
import numpy as np
import pytest

from integrallimits.networks import LocalMap, NonlocalDense, ResidualDense, ResNet, spatial_rule

N = 12


@pytest.mark.parametrize("make, x0", [
    (lambda: ResNet(np.tile(1e200 * np.eye(2), (N, 1, 1)), np.zeros((N, 2)),
                    activation="identity"), np.ones((2, 2))),
    (lambda: ResidualDense(np.tile(1e200 * np.eye(2), (N, N, 1, 1)), np.zeros((N, N, 2)),
                           activation="identity"), np.ones((2, 2))),
    (lambda: NonlocalDense(LocalMap(spatial_rule("trapezoid", 2), channels=2),
                           [lambda t, s: 1e200 * np.eye(2)], n_layers=N, activation="identity"),
     np.ones((2, 2, 3))),
], ids=["resnet", "residual-dense", "nonlocal-dense"])
def test_blow_up_without_raising_gives_nan_and_a_warning(make, x0):
    net = make()
    with pytest.warns(RuntimeWarning, match=r"non-finite .* layers it did not reach are NaN"):
        out = net.forward(x0, raise_on_failure=False)
    assert out.shape == x0.shape and np.all(np.isnan(out))
    with pytest.warns(RuntimeWarning):
        states = net.states(x0, raise_on_failure=False)
    first = states[:, 0]
    assert np.array_equal(first, x0)          # the input layer was reached
    assert np.all(np.isnan(states[:, -1]))
