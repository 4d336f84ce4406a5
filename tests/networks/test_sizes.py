"""Networks whose fields cannot fit in memory are refused before a callable field is
sampled or anything is allocated, with a MemoryError naming the field."""
import numpy as np
import pytest

from integrallimits.networks import (ConcatDense, LocalMap, NonlocalDense, ResidualDense, ResNet,
                                     spatial_rule)


def _counted(value, limit=1000):
    """A field that fails the test once sampled more than ``limit`` times (the old code
    sampled all (N+1)^2 points: days for these sizes)."""
    calls = [0]

    def field(*point):
        calls[0] += 1
        if calls[0] > limit:
            raise RuntimeError("the field was sampled before its size was checked")
        return value
    return field


@pytest.mark.parametrize("build", [
    lambda: ResidualDense(_counted(np.eye(2)), _counted(np.zeros(2)), n_layers=10 ** 7, d=2),
    lambda: ConcatDense(_counted(np.eye(2)), n_layers=10 ** 7, d=2),
    lambda: ResNet(_counted(np.eye(2)), _counted(np.zeros(2)), n_layers=10 ** 15, d=2),
], ids=["residual-dense", "concat-dense", "resnet"])
def test_field_too_large_refused_before_sampling(build):
    with pytest.raises(MemoryError, match=r"W with n_layers = 10+ .* needs about .* available"):
        build()


def test_nonlocal_channel_field_too_large_refused():
    grid = spatial_rule("trapezoid", 2)
    with pytest.raises(MemoryError, match="W with n_layers"):
        NonlocalDense(LocalMap(grid, channels=2), n_layers=10 ** 8)
