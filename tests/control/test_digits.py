"""The non-local digits experiment (needs scikit-learn) and its exact gradient (does not)."""
import sys

import numpy as np
import pytest

from integrallimits.control._digits import _DigitsProblem, digits_experiment, digits_network


@pytest.mark.parametrize("rule", ["rectangle", "trapezoid"])
def test_gradient_matches_finite_differences(rule):
    """Channel fields, bias and classifier: adjoint gradient = central differences."""
    rng = np.random.default_rng(3)
    net = digits_network(n_layers=3, channels=2, seed=1, rule=rule)
    X, y = rng.uniform(size=(3, 64)), np.array([0, 1, 1])
    problem = _DigitsProblem(net, X, y, 2, alpha=1e-2, beta=1.0)
    problem.chunk = 2  # two batches: the sums over chunks are exercised
    v = problem.vector(rng.normal(size=(2, 2)), rng.normal(size=2))
    v[:problem.n_weights] += 0.3 * rng.normal(size=problem.n_weights)
    _, g = problem.value_and_gradient(v)
    fd, eps = np.empty_like(v), 1e-6
    for k in range(v.size):
        e = np.zeros_like(v)
        e[k] = eps
        fd[k] = (problem.value_and_gradient(v + e)[0] - problem.value_and_gradient(v - e)[0]) / (2 * eps)
    assert np.abs(g - fd).max() <= 1e-7 * np.abs(fd).max()


def test_missing_sklearn_raises_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="scikit-learn"):
        digits_experiment(n_layers=2, n_train=10, n_test=0, maxiter=1)


def test_zero_vs_one_is_learned_deterministically():
    pytest.importorskip("sklearn")
    kw = dict(n_layers=3, n_train=100, n_test=100, classes=(0, 1), channels=2, seed=0, maxiter=20)
    res = digits_experiment(**kw)
    assert res.train_accuracy >= 0.9          # chance is 0.5
    assert res.test_accuracy >= 0.8
    assert res.J < res.J0
    assert res.n_train == 100 and res.network.M == 64
    again = digits_experiment(**kw)
    assert again.J == res.J and again.train_accuracy == res.train_accuracy
