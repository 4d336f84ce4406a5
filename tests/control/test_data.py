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
    if name == "spheres":  # drawn in R^d itself: standardised there
        assert np.allclose(a.X.mean(axis=0), 0.0, atol=1e-12) and np.allclose(a.X.std(axis=0), 1.0)
        return
    # the planar coordinates are standardised on the training part, and the lift is an isometry
    planar = make_dataset(name, 60, d=2, seed=4, n_test=20)
    assert np.allclose(planar.X.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(planar.X.std(axis=0), 1.0)
    assert np.allclose(np.linalg.norm(a.X, axis=1), np.linalg.norm(planar.X, axis=1))
    assert np.array_equal(a.y, planar.y)


def test_aliases():
    assert np.array_equal(make_dataset("moons", 10, seed=1).X, make_dataset("two-moons", 10, seed=1).X)
    assert np.array_equal(make_dataset("annuli", 10, seed=1).X, make_dataset("spheres", 10, seed=1).X)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_spheres_are_nested(d):
    """Without noise the ball (class 0) lies inside the shell (class 1) in every dimension, the
    radii fill the ball and the shell uniformly in volume (median radius r0 2^(-1/d) of the
    ball), and the per-coordinate scaling keeps the classes apart."""
    data = make_dataset("spheres", 400, d=d, noise=0.0, seed=3, n_test=100)
    X = np.concatenate([data.X, data.X_test])
    y = np.concatenate([data.y, data.y_test])
    r = np.linalg.norm(X, axis=1)
    assert r[y == 0].max() < r[y == 1].min()
    assert np.mean(y) == 0.5
    raw = make_dataset("spheres", 4000, d=d, noise=0.0, seed=3)
    ratio = np.median(np.linalg.norm(raw.X[raw.y == 0], axis=1)) / np.median(
        np.linalg.norm(raw.X[raw.y == 1], axis=1))
    shell = ((1.0 + 1.5 ** d) / 2) ** (1 / d)  # median radius of the shell 1 <= r <= 3/2
    assert ratio == pytest.approx(0.5 * 2 ** (-1 / d) / shell, rel=0.05)


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
    with pytest.raises(ValueError, match="d must"):
        make_dataset("spheres", 10, d=1)


def test_digits_need_scikit_learn():
    if not digits_available():
        with pytest.raises(ImportError, match="scikit-learn"):
            load_digits()
        pytest.skip("scikit-learn is not installed (optional extra)")
    data = load_digits(n_samples=100, n_test=50, seed=0, classes=[0, 1])
    assert data.X.shape == (100, 64) and data.meta["grid"] == (8, 8)
    assert set(np.unique(data.y)) <= {0, 1} and 0.0 <= data.X.min() and data.X.max() <= 1.0


def test_digits_principal_components():
    if not digits_available():
        with pytest.raises(ImportError, match="scikit-learn"):
            make_dataset("digits", 100, d=4)
        pytest.skip("scikit-learn is not installed (optional extra)")
    data = make_dataset("digits", 300, d=4, seed=1, n_test=100)
    assert data.X.shape == (300, 4) and data.X_test.shape == (100, 4) and data.n_classes == 10
    assert np.allclose(data.X.mean(axis=0), 0.0, atol=1e-12) and np.allclose(data.X.std(axis=0), 1.0)
    # principal components: uncorrelated on the training part, and of falling variance before scaling
    assert np.allclose(np.corrcoef(data.X.T), np.eye(4), atol=1e-10)
    pixels = load_digits(300, 100, seed=1)
    centred = pixels.X - pixels.X.mean(axis=0)
    top = np.linalg.svd(centred, full_matrices=False)[2][0]
    assert abs(np.corrcoef(centred @ top, data.X[:, 0])[0, 1]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="rank"):
        make_dataset("digits", 20, d=30)


@pytest.mark.parametrize("n, d", [(10, 10 ** 9), (10 ** 12, 2)])
def test_a_data_set_that_cannot_fit_is_refused_before_it_is_drawn(n, d):
    """d = 10**9 allocated 15 GB of random samples and then had the process killed in the
    embedding; n = 10**12 was a NumPy allocation error deep inside the drawing."""
    with pytest.raises(MemoryError, match=rf"data set 'two-moons' of {n} samples in dimension {d}"):
        make_dataset("two-moons", n, d=d)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_samples": float("inf")}, r"^n_samples must be an integer >= 2, got inf$"),
    ({"n_test": float("inf")}, r"^n_test must be an integer >= 0, got inf$"),
    ({"d": float("nan")}, r"^d must be an integer >= 2, got nan$"),
    ({"seed": -1}, r"^seed must be an integer >= 0, got -1$"),
    ({"seed": 1.5}, r"^seed must be an integer >= 0, got 1.5$"),
    ({"lift_seed": -2}, r"^lift_seed must be an integer >= 0, got -2$")])
def test_counts_and_seeds_that_are_not_whole_numbers_are_value_errors_naming_them(kwargs, match):
    """n_samples = inf and n_test = inf were OverflowErrors of int(), d = nan a ValueError of
    int(); seed = -1 failed in NumPy ("expected non-negative integer"), seed = 1.5 was a
    TypeError of SeedSequence: none named the argument."""
    with pytest.raises(ValueError, match=match):
        make_dataset("two-moons", **{"n_samples": 8, "d": 3, **kwargs})
