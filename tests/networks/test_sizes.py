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


def _small_memory(monkeypatch):
    """Pretend 100 MB are free (the checks ask the system only above 64 MB)."""
    import integrallimits._memory as memory
    monkeypatch.setattr(memory, "available_memory", lambda: 10 ** 8)


def _resnet():
    return ResNet(-np.tile(np.eye(2), (8, 1, 1)), np.zeros((8, 2)))


@pytest.mark.parametrize("call", [
    lambda X: _resnet().forward(X),
    lambda X: _resnet().states(X, every=2),
    lambda X: ResidualDense(-np.tile(np.eye(2), (8, 8, 1, 1)), np.zeros((8, 8, 2))).forward(X),
    lambda X: ConcatDense(np.tile(np.eye(2), (8, 8, 1, 1)) / 8).forward(X),
], ids=["resnet-forward", "resnet-states", "residual-dense", "concat-dense"])
def test_batch_too_large_refused_before_any_work(monkeypatch, call):
    # a batch of 10^7 inputs (a broadcast view: no memory of its own) needs some 800 MB for its
    # states; it was scanned for NaN first (a batch of 10^9: 40 s), then met NumPy's
    # allocation error.  The NaN placed here shows the order: the size is refused first.
    _small_memory(monkeypatch)
    X = np.broadcast_to(np.array([np.nan, 1.0]), (10 ** 7, 2))
    with pytest.raises(MemoryError, match=r"a batch of 10000000 inputs of width 2 .* needs about"):
        call(X)


def test_solve_refuses_a_batch_before_scanning_it():
    # solve takes one sample: a batch was scanned for NaN/inf before it was refused
    X = np.broadcast_to(np.array([np.nan, 1.0]), (10 ** 6, 2))
    with pytest.raises(ValueError, match="solve takes one input .* a batch of 1000000"):
        _resnet().solve(X)


def test_batch_that_fits_is_solved(monkeypatch):
    _small_memory(monkeypatch)
    X = np.ones((1000, 2))
    out = _resnet().forward(X)
    np.testing.assert_allclose(out, _resnet().forward(X[:1]).repeat(1000, axis=0), rtol=0)
