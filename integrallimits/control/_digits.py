r"""The non-local image experiment: scikit-learn's 8x8 digits as features on the unit square.

An image is a feature u : Ω = [0, 1]^2 -> R sampled at the pixel centres, which are the
nodes η_m = ((i + 1/2)/8, (k + 1/2)/8) of the composite midpoint rule ("rectangle", 8
panels per side, weights ω_m = 1/64; :func:`~integrallimits.networks.spatial_rule`).  The
one input channel is lifted to ``channels`` copies and fed to a
:class:`~integrallimits.networks.NonlocalDense` network with two fixed spatial operators,

.. math:: x_n = x_0 + h \sum_{j<n} \tanh\bigl(W^0_{nj}\, x_j
          + W^1_{nj} \int_\Omega a(\cdot, \eta)\, x_j(\eta)\, d\eta + b_{nj}\bigr),
          \qquad a(\xi, \eta) = \frac{e^{-|\xi - \eta|^2 / (2\ell^2)}}{2\pi\ell^2},

(a pointwise map and a Gaussian Nyström map), whose channel fields W^r(t, s) (c x c) and
channel bias b(t, s) are trained.  The readout is resolution-independent: the classifier acts
on the channel means z = P ∫_Ω x_N(ξ) dξ + c_0 (a quadrature with the same rule).

Training is the package's: :func:`~integrallimits.control.train` minimises
J_N = mean softmax cross-entropy + α R_N (the discrete H¹ regulariser of two-variable
fields) of :class:`~integrallimits.control.Objective` by L-BFGS-B with the exact gradient,
the discrete adjoint of the network's Volterra scheme (the kernel of
:class:`~integrallimits.networks.NonlocalDense` carries the vector-Jacobian product in its
channel fields and bias).

scikit-learn is an optional extra (``pip install integrallimits[digits]``): without it
:func:`digits_experiment` raises ImportError.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..networks import LocalMap, NonlocalDense, NystromMap, spatial_rule
from ._data import Dataset, load_digits
from ._train import train

__all__ = ["DigitsResult", "digits_experiment", "digits_network"]


def digits_network(n_layers=4, channels=2, width=0.15, seed=0, scale=0.5, rule="rectangle"):
    """The non-local network of the digits experiment on the 8x8 midpoint grid of [0, 1]^2.

    Maps: pointwise (``LocalMap``) and the Gaussian Nyström map of width ``width``; channel
    fields start as seeded Gaussian values of standard deviation ``scale``, the bias at zero.

    Parameters
    ----------
    n_layers : int
        Depth N.
    channels : int
        Channels c of the state (the state of one image has c M = 64 c components).
    width : float
        Width ℓ of the Gaussian kernel a.
    seed : int
        Seeds the starting channel fields.
    scale : float
        Their standard deviation.
    rule : str
        The network's Volterra rule ("rectangle": the explicit network).

    Returns
    -------
    NonlocalDense
    """
    grid = spatial_rule("rectangle", 8, dim=2, domain=(0.0, 1.0))
    var = float(width) ** 2

    def gauss(x1, x2, y1, y2):
        return np.exp(-((x1 - y1) ** 2 + (x2 - y2) ** 2) / (2.0 * var)) / (2.0 * np.pi * var)

    maps = [LocalMap(grid, channels=channels), NystromMap(gauss, grid, channels=channels)]
    N, c = int(n_layers), int(channels)
    rng = np.random.default_rng(seed)
    W = [scale * rng.normal(size=(N + 1, N + 1, c, c)) for _ in maps]
    return NonlocalDense(maps, W, None, n_layers=N, T=1.0, rule=rule)


def digits_dataset(data, channels):
    """The images of ``data`` (S, 64) lifted to the network's inputs (S, c 64): the image
    copied into every channel (channel a at node ξ_p in column 64 a + p)."""
    def lift(X):
        return np.ascontiguousarray(np.tile(np.asarray(X, dtype=float), (1, int(channels))))

    return Dataset(lift(data.X), data.y, data.n_classes, data.name, lift(data.X_test),
                   data.y_test, {**data.meta, "channels": int(channels)})


@dataclass
class DigitsResult:
    """The outcome of :func:`digits_experiment`.

    Attributes
    ----------
    train_accuracy, test_accuracy : float
    J : float
        The final value of J_N (cross-entropy + α R_N); ``J0`` the starting value.
    iterations, evaluations : int
        L-BFGS-B iterations and evaluations of J_N and its gradient.
    grad_norm : float
    seconds : float
    classes : tuple
    n_train, n_test, n_layers, channels : int
    message : str
    network : NonlocalDense
        The trained network.
    classifier : (P, c0)
        P (K, channels) acting on the channel means.
    history : list of float
        J after each iteration.
    train_result : TrainResult
        The result of :func:`~integrallimits.control.train` (its objective, vector, history).
    """

    train_accuracy: float
    test_accuracy: float
    J: float
    J0: float
    iterations: int
    evaluations: int
    grad_norm: float
    seconds: float
    classes: tuple
    n_train: int
    n_test: int
    n_layers: int
    channels: int
    message: str
    network: object = field(repr=False, default=None)
    classifier: tuple = field(repr=False, default=None)
    history: list = field(repr=False, default_factory=list)
    train_result: object = field(repr=False, default=None)

    def as_dict(self):
        """The scalar results (for tables)."""
        return {k: getattr(self, k) for k in
                ("train_accuracy", "test_accuracy", "J", "J0", "iterations", "evaluations",
                 "grad_norm", "seconds", "n_train", "n_test", "n_layers", "channels")}


def digits_experiment(n_layers=4, n_train=100, n_test=100, classes=(0, 1), channels=2, seed=0,
                      maxiter=30, alpha=1e-3, beta=1.0, width=0.15, init_scale=0.5):
    """Train the non-local network of :func:`digits_network` on the 8x8 digits with
    :func:`~integrallimits.control.train`.

    Parameters
    ----------
    n_layers : int
        Depth N (rule "rectangle": the explicit network x_n = x_0 + h Σ_{j<n} σ(...)).
    n_train, n_test : int
        Training and held-out images (a seeded draw from ``classes``).
    classes : sequence of int
        The digits kept (relabelled 0..K-1).
    channels : int
        The channels the single input channel is lifted to.
    seed : int
        Seeds the image draw, the starting channel fields and the starting classifier
        (deterministic result).
    maxiter : int
        L-BFGS-B iterations.
    alpha, beta : float
        Weight of the discrete H¹ regulariser and of its L² part.
    width : float
        Width ℓ of the Gaussian non-local kernel.
    init_scale : float
        Standard deviation of the starting channel fields.

    Returns
    -------
    DigitsResult

    Raises
    ------
    ImportError
        Without scikit-learn (an optional extra), with a message saying so.
    """
    try:
        images = load_digits(n_samples=n_train, n_test=n_test, seed=seed, classes=classes)
    except ImportError as exc:
        raise ImportError("digits_experiment needs scikit-learn for its bundled 8x8 digits "
                          "(pip install scikit-learn, or the extra integrallimits[digits])") from exc
    net = digits_network(n_layers, channels, width, seed, init_scale)
    data = digits_dataset(images, net.channels)
    K = data.n_classes
    P0 = np.random.default_rng([seed, 1]).normal(size=(K, net.channels))
    res = train(net, data, loss="cross-entropy", alpha=alpha, beta=beta, regularizer="h1",
                maxiter=maxiter, classifier=(P0, np.zeros(K)), gtol=1e-8)
    return DigitsResult(train_accuracy=res.train_accuracy, test_accuracy=res.test_accuracy,
                        J=res.fun, J0=float(res.history[0]["J"]), iterations=res.nit,
                        evaluations=res.objective.evaluations, grad_norm=res.grad_norm,
                        seconds=res.seconds, classes=tuple(int(k) for k in classes),
                        n_train=len(data.y), n_test=len(data.y_test), n_layers=net.n_layers,
                        channels=net.channels, message=res.message, network=res.network,
                        classifier=res.classifier, history=[h["J"] for h in res.history[1:]],
                        train_result=res)
