"""Synthetic data sets: seeded, balanced, lifted isometrically; the digits only with scikit-learn."""
import numpy as np
import pytest

from integrallimits.control import DATASETS, digits_available, lift, load_digits, make_dataset


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_sets_are_seeded_balanced_and_standardised(name):
    a = make_dataset(name, 60, d=5, seed=4, n_test=20)
    b = make_dataset(name, 60, d=5, seed=4, n_test=20)
    c = make_dataset(name, 60, d=5, seed=5, n_test=20)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X, c.X)
    assert a.X.shape == (60, 5) and a.X_test.shape == (20, 5) and a.n_classes == 2
    assert 0.3 < a.y.mean() < 0.7
    # the planar coordinates are standardised on the training part, and the lift is an isometry
    planar = make_dataset(name, 60, d=2, seed=4, n_test=20)
    assert np.allclose(planar.X.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(planar.X.std(axis=0), 1.0)
    assert np.allclose(np.linalg.norm(a.X, axis=1), np.linalg.norm(planar.X, axis=1))
    assert np.array_equal(a.y, planar.y)


def test_aliases():
    assert np.array_equal(make_dataset("moons", 10, seed=1).X, make_dataset("two-moons", 10, seed=1).X)


def test_lift_is_fixed_by_its_seed():
    U = np.random.default_rng(0).normal(size=(7, 2))
    assert np.array_equal(lift(U, 4, 1), lift(U, 4, 1))
    assert not np.allclose(lift(U, 4, 1), lift(U, 4, 2))
    with pytest.raises(ValueError, match="d must"):
        lift(U, 1)


def test_bad_requests_are_refused():
    with pytest.raises(ValueError, match="unknown data set"):
        make_dataset("mnist")
    with pytest.raises(ValueError, match="n_samples"):
        make_dataset("xor", 1)
    with pytest.raises(ValueError, match="noise"):
        make_dataset("xor", 10, noise=-1.0)


def test_digits_need_scikit_learn():
    if not digits_available():
        with pytest.raises(ImportError, match="scikit-learn"):
            load_digits()
        pytest.skip("scikit-learn is not installed (optional extra)")
    data = load_digits(n_samples=100, n_test=50, seed=0, classes=[0, 1])
    assert data.X.shape == (100, 64) and data.meta["grid"] == (8, 8)
    assert set(np.unique(data.y)) <= {0, 1} and 0.0 <= data.X.min() and data.X.max() <= 1.0
