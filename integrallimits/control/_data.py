r"""Seeded synthetic classification data sets, lifted from R^2 to R^d, and the optional 8x8 digits.

Every planar set (two moons, concentric circles, two spirals, XOR) is drawn from a
``numpy.random.default_rng(seed)`` stream, centred and scaled to unit variance per
coordinate, and then embedded in R^d by a fixed linear map

.. math:: x = A u, \qquad A \in R^{d \times 2},\ A^T A = I,

with A the Q factor of a Gaussian matrix drawn from ``lift_seed`` (A = I for d = 2).
The labels do not change, so the lifted set is exactly as separable as the planar one.

Function-valued data for the non-local networks: :func:`band_fields` draws random functions
on an interval, labelled by their frequency band, and samples them on any spatial rule.

The 8x8 digits of scikit-learn (bundled with it, no download) are offered only when
scikit-learn is importable; it is not a dependency of the package.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["Dataset", "DATASETS", "make_dataset", "two_moons", "circles", "spirals", "xor",
           "lift", "band_fields", "load_digits", "digits_available"]


@dataclass
class Dataset:
    """A labelled data set (training part and an optional test part).

    Attributes
    ----------
    X : ndarray (S, d)
        Inputs x0_i.
    y : ndarray (S,) of int
        Class labels 0 .. n_classes - 1.
    n_classes : int
    name : str
    X_test, y_test : ndarray
        Held-out samples drawn from the same distribution (possibly empty).
    meta : dict
        How the set was made (seed, noise, lift, grid shape for images).
    """

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    name: str = "data"
    X_test: np.ndarray = None
    y_test: np.ndarray = None
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        self.X = np.ascontiguousarray(self.X, dtype=float)
        self.y = np.asarray(self.y, dtype=np.int64)
        if self.X_test is None:
            self.X_test = np.zeros((0, self.X.shape[1]))
            self.y_test = np.zeros(0, dtype=np.int64)
        self.X_test = np.ascontiguousarray(self.X_test, dtype=float)
        self.y_test = np.asarray(self.y_test, dtype=np.int64)

    @property
    def d(self):
        return self.X.shape[1]

    def __len__(self):
        return self.X.shape[0]

    def __repr__(self):
        return (f"Dataset({self.name!r}, S={len(self)}, d={self.d}, classes={self.n_classes}, "
                f"test={len(self.y_test)})")


def lift(U, d, lift_seed=0):
    """Embed planar points U (S, 2) in R^d by x = A u with A^T A = I (A = I when d = 2).

    Examples
    --------
    >>> U = np.array([[1.0, 0.0], [0.0, 2.0]])
    >>> X = lift(U, 5, lift_seed=3)
    >>> X.shape, bool(np.allclose(np.linalg.norm(X, axis=1), [1.0, 2.0]))
    ((2, 5), True)
    """
    U = np.asarray(U, dtype=float)
    if int(d) != d or d < 2:
        raise ValueError(f"d must be an integer >= 2, got {d!r}")
    if d == 2:
        return U.copy()
    G = np.random.default_rng(lift_seed).normal(size=(int(d), 2))
    A, R = np.linalg.qr(G)
    A = A * np.sign(np.diag(R))[None, :]  # a unique orientation (QR's sign convention aside)
    return U @ A.T


def _standardise(U):
    return (U - U.mean(axis=0)) / U.std(axis=0)


def _moons(rng, S, noise):
    k = S // 2
    a = rng.uniform(0.0, np.pi, size=k)
    b = rng.uniform(0.0, np.pi, size=S - k)
    U = np.concatenate([np.stack([np.cos(a), np.sin(a)], 1),
                        np.stack([1.0 - np.cos(b), 0.5 - np.sin(b)], 1)])
    y = np.concatenate([np.zeros(k, int), np.ones(S - k, int)])
    return U + noise * rng.normal(size=U.shape), y


def _circles(rng, S, noise, factor=0.5):
    k = S // 2
    a = rng.uniform(0.0, 2 * np.pi, size=S)
    r = np.where(np.arange(S) < k, 1.0, factor)
    U = np.stack([r * np.cos(a), r * np.sin(a)], 1)
    y = (np.arange(S) >= k).astype(int)
    return U + noise * rng.normal(size=U.shape), y


def _spirals(rng, S, noise, turns=1.5):
    k = S // 2
    u = np.sqrt(rng.uniform(0.05, 1.0, size=S))  # uniform along the arm's length
    phi = 2 * np.pi * turns * u + np.where(np.arange(S) < k, 0.0, np.pi)
    U = np.stack([u * np.cos(phi), u * np.sin(phi)], 1)
    y = (np.arange(S) >= k).astype(int)
    return U + noise * rng.normal(size=U.shape), y


def _xor(rng, S, noise):
    U = rng.uniform(-1.0, 1.0, size=(S, 2))
    y = (U[:, 0] * U[:, 1] > 0).astype(int)
    return U + noise * rng.normal(size=U.shape), y


_PLANAR = {"two-moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor}
_ALIASES = {"moons": "two-moons", "spiral": "spirals", "circle": "circles"}


def make_dataset(name, n_samples=128, d=2, noise=0.1, seed=0, n_test=0, lift_seed=0):
    """A seeded synthetic two-class set: "two-moons" (alias "moons"), "circles", "spirals" or "xor".

    Parameters
    ----------
    name : str
    n_samples : int
        Training samples S.
    d : int >= 2
        Dimension of the inputs (the planar set is lifted by :func:`lift`).
    noise : float
        Standard deviation of the Gaussian noise added in the plane (before scaling).
    seed : int
        Seed of the samples (training and test sets come from one stream).
    n_test : int
        Held-out samples.
    lift_seed : int
        Seed of the embedding R^2 -> R^d (fixed by default, so sets of every seed share it).

    Returns
    -------
    Dataset

    Examples
    --------
    >>> data = make_dataset("two-moons", 40, d=3, seed=1, n_test=10)
    >>> data.X.shape, data.X_test.shape, sorted(set(data.y.tolist()))
    ((40, 3), (10, 3), [0, 1])
    >>> bool(np.array_equal(data.X, make_dataset("two-moons", 40, d=3, seed=1, n_test=10).X))
    True
    """
    name = _ALIASES.get(name, name)
    if name not in _PLANAR:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(_PLANAR)}, digits")
    for arg, value, low in (("n_samples", n_samples, 2), ("n_test", n_test, 0)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{arg} must be an integer >= {low}, got {value!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a float >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n_samples, n_test = int(n_samples), int(n_test)
    U, y = _PLANAR[name](rng, n_samples + n_test, float(noise))
    # one permutation so that training and test sets both hold both classes
    order = rng.permutation(n_samples + n_test)
    U, y = U[order], y[order]
    mean, std = U[:n_samples].mean(axis=0), U[:n_samples].std(axis=0)
    U = (U - mean) / std
    X = lift(U, d, lift_seed)
    return Dataset(X[:n_samples], y[:n_samples], 2, name, X[n_samples:], y[n_samples:],
                   {"seed": seed, "noise": noise, "lift_seed": lift_seed, "d": d})


def two_moons(n_samples=128, d=2, noise=0.1, seed=0, n_test=0, lift_seed=0):
    """Two interleaved half circles (see :func:`make_dataset`)."""
    return make_dataset("two-moons", n_samples, d, noise, seed, n_test, lift_seed)


def circles(n_samples=128, d=2, noise=0.05, seed=0, n_test=0, lift_seed=0):
    """Two concentric circles of radii 1 and 1/2 (see :func:`make_dataset`)."""
    return make_dataset("circles", n_samples, d, noise, seed, n_test, lift_seed)


def spirals(n_samples=128, d=2, noise=0.02, seed=0, n_test=0, lift_seed=0):
    """Two interleaved spirals of 1.5 turns (see :func:`make_dataset`)."""
    return make_dataset("spirals", n_samples, d, noise, seed, n_test, lift_seed)


def xor(n_samples=128, d=2, noise=0.0, seed=0, n_test=0, lift_seed=0):
    """XOR: label 1 where u_1 u_2 > 0 on the square [-1, 1]^2 (see :func:`make_dataset`)."""
    return make_dataset("xor", n_samples, d, noise, seed, n_test, lift_seed)


DATASETS = {"two-moons": two_moons, "circles": circles, "spirals": spirals, "xor": xor}


def band_fields(grid, n_samples=32, seed=0, n_test=0, bands=((1, 2), (4, 5)), channels=1):
    r"""Random functions on an interval Ω = [a, b], labelled by their frequency band, sampled on
    the nodes of a spatial rule.

    Sample i of class k = y_i is

    .. math:: u_i(\xi) = \frac{1}{\sqrt{|B_k|}} \sum_{m \in B_k}
              \bigl(a_{im} \cos(\pi m \hat\xi) + b_{im} \sin(\pi m \hat\xi)\bigr),
              \qquad \hat\xi = \frac{\xi - a}{b - a},\quad a_{im}, b_{im} \sim N(0, 1),

    so every value u_i(ξ) is N(0, 1) in every class: the classes differ only in how the
    values at different points are correlated (smooth against rough), a non-local property
    that no pointwise map followed by a spatial mean can see beyond sampling noise.  The
    coefficients are drawn before the grid is looked at, so one seed gives the same functions
    on every rule (the resolution limit M -> ∞ refines the sampling of fixed data).

    Parameters
    ----------
    grid : SpatialRule
        A rule on an interval (``dim`` 1); the functions are sampled at its nodes.
    n_samples, n_test : int
        Training and held-out samples (one seeded stream; classes alternate before a seeded
        permutation, so both parts hold both classes when they have two samples or more).
    seed : int
    bands : sequence of sequences of int
        The modes m of each class (class k uses ``bands[k]``).
    channels : int
        Copies of u in the input (channel a at node p in column a M + p).

    Returns
    -------
    Dataset
        X of shape (S, channels M).

    Examples
    --------
    >>> from integrallimits.networks import spatial_rule
    >>> coarse, fine = spatial_rule("trapezoid", 4), spatial_rule("trapezoid", 8)
    >>> a, b = band_fields(coarse, 6, seed=1), band_fields(fine, 6, seed=1)
    >>> a.X.shape, b.X.shape, a.y.tolist() == b.y.tolist()
    ((6, 5), (6, 9), True)
    >>> bool(np.allclose(a.X, b.X[:, ::2]))          # the same functions on both grids
    True
    """
    from ..networks import SpatialRule
    if not isinstance(grid, SpatialRule) or grid.dim != 1:
        raise ValueError("grid must be a SpatialRule on an interval (spatial_rule(..., dim=1))")
    for arg, value, low in (("n_samples", n_samples, 1), ("n_test", n_test, 0), ("channels", channels, 1)):
        if isinstance(value, bool) or int(value) != value or value < low:
            raise ValueError(f"{arg} must be an integer >= {low}, got {value!r}")
    try:
        bands = [[int(m) for m in band] for band in bands]
    except (TypeError, ValueError):
        raise ValueError(f"bands must be sequences of integer modes, got {bands!r}") from None
    if len(bands) < 2 or any(not band or min(band) < 1 for band in bands):
        raise ValueError(f"bands must give at least two non-empty sets of modes >= 1, got {bands!r}")
    rng = np.random.default_rng(seed)
    total = int(n_samples) + int(n_test)
    y = rng.permutation(np.arange(total) % len(bands))
    width = max(len(band) for band in bands)
    coefficients = rng.normal(size=(total, width, 2))
    xi = (grid.nodes - grid.interval.a) / grid.length
    U = np.empty((total, grid.M))
    for i in range(total):
        band = np.array(bands[y[i]])
        a = coefficients[i, :band.size] / np.sqrt(band.size)
        U[i] = a[:, 0] @ np.cos(np.pi * band[:, None] * xi) + a[:, 1] @ np.sin(np.pi * band[:, None] * xi)
    X = np.tile(U, (1, int(channels)))
    S = int(n_samples)
    return Dataset(X[:S], y[:S], len(bands), "band-fields", X[S:], y[S:],
                   {"seed": seed, "bands": bands, "grid": repr(grid), "channels": int(channels)})


def digits_available():
    """True if scikit-learn (and so its bundled 8x8 digits) can be imported."""
    try:
        import sklearn.datasets  # noqa: F401
    except ImportError:
        return False
    return True


def load_digits(n_samples=None, n_test=0, seed=0, classes=None):
    """scikit-learn's bundled 8x8 digits as a :class:`Dataset` (d = 64 pixel features in [0, 1]).

    The features live on the 8 x 8 pixel grid (``meta["grid"] = (8, 8)``, row-major), the
    setting of the non-local image experiments.  Needs scikit-learn (an optional extra).

    Parameters
    ----------
    n_samples : int, optional
        Training samples (all but ``n_test`` by default), drawn by a seeded permutation.
    n_test : int
    seed : int
    classes : sequence of int, optional
        Keep only these digits (relabelled 0 .. len(classes) - 1).

    Raises
    ------
    ImportError
        If scikit-learn is not installed.
    """
    try:
        from sklearn.datasets import load_digits as _load
    except ImportError as exc:
        raise ImportError("the digits data set needs scikit-learn (pip install scikit-learn); "
                          "it is an optional extra of integrallimits") from exc
    bunch = _load()
    X, y = bunch.data / 16.0, bunch.target.astype(np.int64)
    if classes is not None:
        classes = [int(c) for c in classes]
        keep = np.isin(y, classes)
        X, y = X[keep], np.searchsorted(np.array(sorted(classes)), y[keep])
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    total = len(y) if n_samples is None else int(n_samples) + int(n_test)
    if total > len(y) or (n_samples is None and n_test >= len(y)):
        raise ValueError(f"asked for {total} samples, the digits set has {len(y)}")
    X, y = X[:total], y[:total]
    n_train = total - int(n_test)
    n_classes = int(y.max()) + 1 if classes is None else len(classes)
    return Dataset(X[:n_train], y[:n_train], n_classes, "digits", X[n_train:], y[n_train:],
                   {"seed": seed, "grid": (8, 8), "classes": classes})
