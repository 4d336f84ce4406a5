"""Training: deterministic given the seed, reaches a small loss on a separable set, continues from
a coarser depth through the piecewise linear extension, honours the callback."""
import numpy as np
import pytest

from integrallimits.control import Objective, make_dataset, random_fields, train
from integrallimits.networks import ResidualDense, ResNet


def _tiny():
    # 24 points of two well separated moons (noise 0.05): separable by a 4-layer ResNet + affine map
    return make_dataset("two-moons", 24, d=2, noise=0.05, seed=2)


def test_training_reaches_a_small_loss_deterministically():
    data = _tiny()
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    kwargs = dict(loss="cross-entropy", alpha=1e-4, beta=1.0, init="random", seed=3, maxiter=300)
    a = train(net, data, **kwargs)
    b = train(net, data, **kwargs)
    assert a.train_accuracy == 1.0
    assert a.loss < 0.05
    assert a.fun == b.fun and np.array_equal(a.x, b.x) and a.nit == b.nit
    assert a.network.n_layers == 4 and a.classifier[0].shape == (2, 2)
    # the returned network carries the trained weights: its forward pass gives the same cost
    assert Objective(a.network, data, loss="cross-entropy", alpha=1e-4, beta=1.0,
                     classifier=a.classifier).value(a.objective.initial_vector(
                         a.network, a.classifier)) == pytest.approx(a.fun, rel=1e-12)
    assert a.seconds > 0 and a.nfev >= a.nit and a.grad_norm >= 0 and a.history[0]["iteration"] == 0


def test_a_different_seed_gives_a_different_start():
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    assert not np.array_equal(random_fields(net, seed=0).theta, random_fields(net, seed=1).theta)
    assert np.array_equal(random_fields(net, seed=5).theta, random_fields(net, seed=5).theta)


@pytest.mark.parametrize("family", ["resnet", "residual-dense"])
def test_continuation_starts_from_the_extension_of_the_coarse_minimiser(family):
    """Multilevel continuation: the 2N-layer start is theta_bar_N sampled on the fine grid (the
    coarse values at the even nodes, midpoint averages between them), with the coarse classifier."""
    data = make_dataset("two-moons", 32, d=2, seed=0)
    make = (lambda N: ResNet(np.zeros((N, 2, 2)), np.zeros((N, 2)))) if family == "resnet" else \
        (lambda N: ResidualDense(np.zeros((N, N, 2, 2)), np.zeros((N, N, 2))))
    coarse = train(make(4), data, alpha=1e-3, init="random", seed=0, maxiter=400)
    start = train(make(8), data, alpha=1e-3, init=coarse, maxiter=0)
    fine = train(make(8), data, alpha=1e-3, init=coarse, maxiter=400)
    assert fine.start == start.start == "continuation from N=4"
    assert np.array_equal(fine.history[0]["J"], start.fun)
    c, f = coarse.grids()["W"], start.grids()["W"]
    if family == "resnet":  # used layers 0..N-1; the extension is constant after t_{N-1}
        assert np.allclose(f[0:7:2], c[0:4]) and np.allclose(f[1:6:2], 0.5 * (c[0:3] + c[1:4]))
        assert np.allclose(f[7], c[3])
    else:  # the triangle j < n: even nodes and edge midpoints of the coarse grid
        for n in range(1, 5):
            for j in range(n):
                assert np.allclose(f[2 * n, 2 * j], c[n, j])
                if j + 1 < n:
                    assert np.allclose(f[2 * n, 2 * j + 1], 0.5 * (c[n, j] + c[n, j + 1]))
    assert np.array_equal(start.classifier[0], coarse.classifier[0])
    assert fine.fun <= start.fun
    # a network (not a result) also works as a coarse start
    again = train(make(8), data, alpha=1e-3, init=coarse.network, maxiter=0)
    assert again.start == "continuation from N=4" and np.allclose(again.grids()["W"], f)


def test_callback_sees_every_iteration_and_can_stop():
    data = _tiny()
    seen = []

    def hook(info):
        seen.append(info["J"])
        return info["iteration"] >= 3

    res = train(ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2))), data, init="random", maxiter=100,
                callback=hook)
    assert len(seen) == 3 and res.nit <= 4
    assert seen == sorted(seen, reverse=True)  # a descent method
    # (the message was SciPy's "`callback` raised `StopIteration`.": the hook raised nothing)
    assert not res.status
    assert res.message == "stopped by the callback after iteration 3 (it returned a true value)"
    assert res.fun == seen[-1]


def test_train_rejects_bad_arguments():
    data = _tiny()
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    with pytest.raises(ValueError, match="method"):
        train(net, data, method="Nelder-Mead")
    with pytest.raises(ValueError, match="maxiter"):
        train(net, data, maxiter=-1)
    with pytest.raises(ValueError, match="init"):
        train(net, data, init="zeros")
    with pytest.raises(ValueError, match="init vector"):
        train(net, data, init=np.zeros(3))


@pytest.mark.parametrize("method", ["trust-constr", "BFGS", "TNC"])
def test_a_stop_at_maxiter_says_iterations(method):
    """trust-constr stopped at maxiter said "The maximum number of function evaluations is
    exceeded." (SciPy's text for its status 0): the message names the iteration limit, as the
    other methods' do."""
    data = make_dataset("xor", 16, d=2, seed=0)
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    res = train(net, data, init="random", seed=0, maxiter=2, method=method)
    assert not res.success and res.nit == 2
    assert "iterations" in res.message.lower() and "function evaluations" not in res.message


@pytest.mark.parametrize("method", ["L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP", "trust-constr"])
def test_the_callback_means_the_same_for_every_method(method):
    """trust-constr called the callback at the start (iteration 1 was the start point, J the
    start's J: the history held it twice) and after rejected steps, and ran maxiter - 1
    steps; the other methods call back after each step only."""
    data = make_dataset("xor", 24, d=2, seed=0)
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    seen = []
    res = train(net, data, loss="cross-entropy", init="random", seed=1, maxiter=3, method=method,
                callback=lambda info: seen.append((info["iteration"], info["J"],
                                                   info["x"].copy())))
    assert [i for i, _, _ in seen] == list(range(1, len(seen) + 1))
    assert 1 <= len(seen) <= 3 and res.nit >= len(seen) and res.nit <= 3
    J0 = res.history[0]["J"]
    assert all(J != J0 for _, J, _ in seen)       # (none is the start)
    assert all(not np.array_equal(a, b) for (_, _, a), (_, _, b) in zip(seen, seen[1:]))
    assert [h["J"] for h in res.history[1:]] == [J for _, J, _ in seen]
    assert len(res.history) == len(seen) + 1
