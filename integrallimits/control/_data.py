r"""Seeded synthetic classification data sets, lifted from R^2 to R^d, and the optional 8x8 digits.

Every planar set (two moons, concentric circles, two spirals, XOR) is drawn from a
``numpy.random.default_rng(seed)`` stream, centred and scaled to unit variance per
coordinate, and then embedded in R^d by a fixed linear map

.. math:: x = A u, \qquad A \in R^{d \times 2},\ A^T A = I,

with A the Q factor of a Gaussian matrix drawn from ``lift_seed`` (A = I for d = 2).
The labels do not change, so the lifted set is exactly as separable as the planar one.

The nested spheres live in R^d itself (not lifted): class 0 fills the ball |x| <= 1/2,
class 1 the shell 1 <= |x| <= 3/2 (uniformly in volume; annuli for d = 2).  No
homeomorphism of R^d separates them by a hyperplane, so a width-d ResNet in its continuum
limit cannot, while a network with a state of dimension > d can (Dupont, Doucet & Teh,
*Augmented Neural ODEs*, 2019).

Function-valued data for the non-local networks: :func:`band_fields` draws random functions
on an interval, labelled by their frequency band, and samples them on any spatial rule.

The 8x8 digits of scikit-learn (bundled with it, no download) are offered only when
scikit-learn is importable; it is not a dependency of the package.  ``make_dataset("digits",
d=...)`` gives their first d principal components.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .._memory import check_memory
from ..networks._families import real_array

__all__ = ["Dataset", "DATASETS", "make_dataset", "two_moons", "circles", "spirals", "xor",
           "spheres", "lift", "band_fields", "load_digits", "digits_available", "training_inputs",
           "training_targets", "check_test_set", "MAX_CLASSES"]

#: Most classes integer labels may imply (labels 0 .. K-1): the one-hot targets, the
#: outputs and the classifier of a network hold S K and K d numbers.
MAX_CLASSES = 65536


def _first_non_finite(a, name):
    """Raise ValueError naming the first non-finite entry of ``a`` (if any)."""
    bad = ~np.isfinite(a)
    if bad.any():
        index = tuple(int(k) for k in np.argwhere(bad)[0])
        count = int(bad.sum())
        more = f" (and {count - 1} more non-finite entries)" if count > 1 else ""
        raise ValueError(f"{name} must be finite; {name}[{', '.join(map(str, index))}] = "
                         f"{a[index]}{more}")


def _labels(y, name):
    """Class labels as int64; ValueError naming the first label that is not a whole number
    (a cast truncated 0.7 to 0 and made NaN a huge negative label)."""
    v = real_array(y, name) if not np.issubdtype(np.asarray(y).dtype, np.integer) else np.asarray(y)
    if v.dtype.kind == "f":
        bad = ~(np.isfinite(v) & (v == np.round(v)))
        if bad.any():
            index = tuple(int(k) for k in np.argwhere(bad)[0])
            raise ValueError(f"{name} must hold integer class labels; "
                             f"{name}[{', '.join(map(str, index))}] = {v[index]}")
    return v.astype(np.int64)


def check_test_set(data, d=None):
    """Refuse a test part that does not fit the training part (X_test (T, d) finite, y_test
    (T,) labels in [0, n_classes)), naming it: it is used only after training, where it
    failed with the training's result lost ("K is a kernel for y of dimension 10, but g gives
    shape (15,)" after the whole run)."""
    X, Xt, yt = data.X, data.X_test, data.y_test
    d = X.shape[1] if d is None and X.ndim == 2 else d
    if Xt.size == 0 and yt.size == 0:
        return
    if Xt.ndim != 2 or (d is not None and Xt.shape[1] != d):
        raise ValueError(f"X_test must have shape (T, {d}), as the inputs, got {Xt.shape}")
    if yt.shape != (Xt.shape[0],):
        raise ValueError(f"y_test must have shape ({Xt.shape[0]},), one label per row of X_test, "
                         f"got {yt.shape}")
    _first_non_finite(Xt, "X_test")
    bad = (yt < 0) | (yt >= data.n_classes)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"y_test must hold labels in [0, {data.n_classes}) ({data.n_classes} "
                         f"classes); y_test[{i}] = {yt[i]}")


def training_inputs(X, d):
    """The inputs x0_i as a float array (S, d) with S >= 1 and finite entries; else
    ValueError (naming the first non-finite entry, not the whole batch).

    Examples
    --------
    >>> training_inputs([[0.0, 1.0], [2.0, np.nan]], 2)
    Traceback (most recent call last):
        ...
    ValueError: X must be finite; X[1, 1] = nan
    """
    X = np.ascontiguousarray(real_array(X, "X", bools=False))
    if X.ndim != 2 or X.shape[1] != d:
        raise ValueError(f"inputs must have shape (S, {d}), got {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"there are no samples (inputs of shape {X.shape}): training needs at "
                         "least one")
    _first_non_finite(X, "X")
    return X


def training_targets(y, S, n_classes=None):
    """``(labels, targets)`` of S samples: integer labels 0 .. K-1 (K = ``n_classes``, or
    the largest label + 1) with their one-hot targets (S, K), or ``(None, targets)`` for
    real targets (S,) or (S, K).

    Raises
    ------
    ValueError
        Naming the first bad label or non-finite target; for more than :data:`MAX_CLASSES`
        classes (one label of 10**9 would ask for a one-hot array of 10**9 columns).

    Examples
    --------
    >>> labels, targets = training_targets(np.array([0, 2, 1]), 3)
    >>> targets
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    >>> training_targets(np.array([0, -1, 1]), 3)
    Traceback (most recent call last):
        ...
    ValueError: labels must be integers >= 0; y[1] = -1
    """
    y = np.asarray(y)
    if y.ndim == 1 and np.issubdtype(y.dtype, np.integer):
        if y.shape != (S,):
            raise ValueError(f"labels must have shape ({S},), got {y.shape}")
        if y.min() < 0:
            i = int(np.argmax(y < 0))
            raise ValueError(f"labels must be integers >= 0; y[{i}] = {y[i]}")
        if n_classes is None:
            K, top = int(y.max()) + 1, int(y.max())
            if K > MAX_CLASSES:
                raise ValueError(f"the largest label is {top}, which makes {K} classes; at most "
                                 f"{MAX_CLASSES} are supported (number the classes 0 .. K-1, "
                                 "e.g. with np.unique(y, return_inverse=True))")
        else:
            K = int(n_classes)
            if not 1 <= K <= MAX_CLASSES:
                raise ValueError(f"n_classes must be from 1 to {MAX_CLASSES}, got {n_classes!r}")
            if y.max() >= K:
                i = int(np.argmax(y >= K))
                raise ValueError(f"labels must be integers in [0, {K}) ({K} classes); "
                                 f"y[{i}] = {y[i]}")
        targets = np.zeros((S, K))
        targets[np.arange(S), y] = 1.0
        return y.astype(np.int64), targets
    t = real_array(y, "targets")
    t = t[:, None] if t.ndim == 1 else t
    if t.ndim != 2 or t.shape[0] != S:
        raise ValueError(f"targets must have {S} rows, got shape {t.shape}")
    _first_non_finite(t, "targets")
    return None, t


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
        self.X = np.ascontiguousarray(real_array(self.X, "X", bools=False))
        self.y = _labels(self.y, "y")
        if self.X_test is None:
            self.X_test = np.zeros((0, self.X.shape[1]))
            self.y_test = np.zeros(0, dtype=np.int64)
        self.X_test = np.ascontiguousarray(real_array(self.X_test, "X_test", bools=False))
        self.y_test = _labels(self.y_test, "y_test")
        check_test_set(self)


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


def _spheres(rng, S, noise, d, radii=(0.5, 1.0, 1.5)):
    """Class 0 uniform in the ball |x| <= r0, class 1 uniform in the shell r1 <= |x| <= r2."""
    k = S // 2
    u = rng.normal(size=(S, d))
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    v = rng.uniform(size=S)
    r0, r1, r2 = radii
    r = np.where(np.arange(S) < k, r0 * v ** (1.0 / d), (r1 ** d + (r2 ** d - r1 ** d) * v) ** (1.0 / d))
    y = (np.arange(S) >= k).astype(int)
    return u * r[:, None] + noise * rng.normal(size=(S, d)), y


_PLANAR = {"two-moons": _moons, "circles": _circles, "spirals": _spirals, "xor": _xor}
_IN_RD = {"spheres": _spheres}  # drawn in R^d itself, not lifted from the plane
_ALIASES = {"moons": "two-moons", "spiral": "spirals", "circle": "circles", "annuli": "spheres",
            "nested-spheres": "spheres"}


def make_dataset(name: str, n_samples: int = 128, d: int = 2, noise: float = 0.1, seed: int = 0,
                 n_test: int = 0, lift_seed: int = 0) -> Dataset:
    """A seeded classification set: "two-moons" (alias "moons"), "circles", "spirals", "xor",
    "spheres" (aliases "annuli", "nested-spheres") or "digits".

    The planar sets are lifted to R^d by :func:`lift`; "spheres" are drawn in R^d; "digits"
    are scikit-learn's 8x8 digits (10 classes; needs scikit-learn) reduced to their first d
    principal components (of the training part; ``noise`` and ``lift_seed`` do not apply).
    Every set is centred and scaled to unit variance per coordinate on its training part.

    Parameters
    ----------
    name : str
    n_samples : int
        Training samples S.
    d : int >= 2
        Dimension of the inputs.
    noise : float
        Standard deviation of the Gaussian noise added to the points (before scaling).
    seed : int
        Seed of the samples (training and test sets come from one stream).
    n_test : int
        Held-out samples.
    lift_seed : int
        Seed of the embedding R^2 -> R^d (fixed by default, so sets of every seed share it).

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones), ``n_samples < 2``,
        ``n_test < 0``, ``d < 2`` or a negative or non-finite ``noise``.
    ImportError
        For "digits" without scikit-learn (the ``digits`` extra).

    See Also
    --------
    load_digits : the scikit-learn digits (the ``digits`` extra).
    train : training a network on a data set.

    Examples
    --------
    >>> data = make_dataset("two-moons", 40, d=3, seed=1, n_test=10)
    >>> data.X.shape, data.X_test.shape, sorted(set(data.y.tolist()))
    ((40, 3), (10, 3), [0, 1])
    >>> bool(np.array_equal(data.X, make_dataset("two-moons", 40, d=3, seed=1, n_test=10).X))
    True
    >>> balls = make_dataset("spheres", 40, d=4, noise=0.0, seed=1)
    >>> r = np.linalg.norm(balls.X, axis=1)
    >>> bool(r[balls.y == 0].max() < r[balls.y == 1].min())    # nested: the ball inside the shell
    True
    """
    name = _ALIASES.get(name, name)
    if name not in _PLANAR and name not in _IN_RD and name != "digits":
        raise ValueError(f"unknown data set {name!r}; known: "
                         f"{', '.join([*_PLANAR, *_IN_RD])}, digits")
    # (inf was an OverflowError of int(); a seed of -1 or 1.5 failed in NumPy, naming no seed)
    for arg, value, low in (("n_samples", n_samples, 2), ("n_test", n_test, 0), ("d", d, 2)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                not float(value).is_integer() or value < low:
            raise ValueError(f"{arg} must be an integer >= {low}, got {value!r}")
    for arg, value in (("seed", seed), ("lift_seed", lift_seed)):
        if isinstance(value, bool) or (isinstance(value, numbers.Real) and not (
                isinstance(value, numbers.Integral) and value >= 0)):
            raise ValueError(f"{arg} must be an integer >= 0, got {value!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a float >= 0, got {noise!r}")
    n_samples, n_test, d = int(n_samples), int(n_test), int(d)
    # about six arrays of (S, d) while the set is drawn, permuted, standardised and lifted, and
    # the d x 2 embedding (d = 10**9 had the process killed for its memory)
    total = float(n_samples + n_test)
    check_memory(8.0 * (6.0 * total * max(d, 2) + 6.0 * d),
                 f"data set {name!r} of {n_samples + n_test} samples in dimension {d}")
    if name == "digits":
        return _digits_components(n_samples, n_test, d, seed)
    rng = np.random.default_rng(seed)
    if name in _IN_RD:
        X, y = _IN_RD[name](rng, n_samples + n_test, float(noise), d)
    else:
        X, y = _PLANAR[name](rng, n_samples + n_test, float(noise))
    # one permutation so that training and test sets both hold both classes
    order = rng.permutation(n_samples + n_test)
    X, y = X[order], y[order]
    X = (X - X[:n_samples].mean(axis=0)) / X[:n_samples].std(axis=0)
    if name in _PLANAR:
        X = lift(X, d, lift_seed)
    return Dataset(X[:n_samples], y[:n_samples], 2, name, X[n_samples:], y[n_samples:],
                   {"seed": seed, "noise": noise, "lift_seed": lift_seed, "d": d})


def _digits_components(n_samples, n_test, d, seed):
    """The digits projected on the first d principal axes of the training part, each axis
    scaled to unit variance there."""
    data = load_digits(n_samples, n_test, seed)
    mean = data.X.mean(axis=0)
    _, sv, Vt = np.linalg.svd(data.X - mean, full_matrices=False)
    if d > Vt.shape[0] or sv[d - 1] <= 1e-12 * sv[0]:
        raise ValueError(f"d must be at most the rank of the training digits "
                         f"({int(np.sum(sv > 1e-12 * sv[0]))}), got {d}")
    V = Vt[:d].T
    scale = ((data.X - mean) @ V).std(axis=0)

    def components(X):
        return ((X - mean) @ V) / scale

    return Dataset(components(data.X), data.y, data.n_classes, "digits", components(data.X_test),
                   data.y_test, {**data.meta, "d": d, "principal_components": d})


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


def spheres(n_samples=128, d=2, noise=0.0, seed=0, n_test=0):
    """Nested spheres in R^d: the ball |x| <= 1/2 inside the shell 1 <= |x| <= 3/2 (annuli for
    d = 2; see :func:`make_dataset`)."""
    return make_dataset("spheres", n_samples, d, noise, seed, n_test)


DATASETS = {"two-moons": two_moons, "circles": circles, "spirals": spirals, "xor": xor,
            "spheres": spheres}


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
