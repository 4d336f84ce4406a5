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

The training problem is the package's: J_N = mean softmax cross-entropy + α R_N with the
discrete H¹ regulariser of two-variable fields (the one of
:class:`~integrallimits.control.Objective`), minimised by L-BFGS-B with the exact gradient,
the discrete adjoint (:func:`~integrallimits.control.discrete_adjoint`) of the network's
Volterra scheme.  Two pieces the generic driver lacks for this family are supplied here:
a compiled vector-Jacobian product of the non-local kernel with respect to its channel
fields and bias (the kernel of :class:`NonlocalDense` differentiates only in the state), and
the parameter layout of the family (``parameter_layout`` has none for "nonlocal-dense", so
:func:`~integrallimits.control.train` cannot take the network; the small loop below is
the same L-BFGS-B call on the same kind of objective).

scikit-learn is an optional extra: without it :func:`digits_experiment` raises ImportError.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize

from .._numba import jit
from ..kernels import Kernel
from ..kernels._kernel import VJP_SIGNATURE
from ..networks import LocalMap, NonlocalDense, NystromMap, spatial_rule
from ..networks._activations import dact
from ..networks._nonlocal import (_LOCAL, HEADER, MAP_FIELDS, _block_sum, _compiled,
                                  _pair, _spatial_apply, _work_size)
from ..volterra import solve_volterra
from ._adjoint import discrete_adjoint
from ._data import load_digits
from ._objective import FieldSpec, _h1_two, _pair_mask

__all__ = ["DigitsResult", "digits_experiment", "digits_network", "TrainableNonlocalDense"]


# -- the parameter vjp of the non-local kernel ---------------------------------------------------

def nonlocal_dense_vjp(t, s, Y, j, theta, mu, w, gy, gtheta):
    r"""gy += w (dK/dy)^T mu and gtheta += w (dK/dθ)^T mu for K = σ(Σ_r (W^r ⊗ S_r) y + b).

    With g = w σ'(z) ⊙ mu (per sample block): dW^r_ab += Σ_p g_ap (S_r y_b)_p,
    db += g (summed over ξ for a channel bias), and gy_b += Σ_r S_r^T Σ_a W^r_ab g_a.
    Linear maps (local, dense) only.
    """
    c, code, M, R = int(theta[3]), int(theta[4]), int(theta[5]), int(theta[6])
    bo = int(theta[7])
    spatial_bias = theta[8] != 0.0
    size = c * M
    pair = _pair(t, s, theta)
    z = np.empty(size)
    v = np.empty(size)
    g = np.empty(size)
    q = np.empty(M)
    work = np.empty(_work_size(theta))
    for bb in range(Y.shape[1] // size):
        base = bb * size
        # the pre-activation (as the kernel computes it), keeping every S_r y
        if spatial_bias:
            for k in range(size):
                z[k] = theta[bo + pair * size + k]
        else:
            for a in range(c):
                for p in range(M):
                    z[a * M + p] = theta[bo + pair * c + a]
        for r in range(R):
            _spatial_apply(theta, r, Y[j], base, v, work)
            wo = int(theta[HEADER + MAP_FIELDS * r + 2]) + pair * c * c
            for a in range(c):
                for b in range(c):
                    wab = theta[wo + a * c + b]
                    for p in range(M):
                        z[a * M + p] += wab * v[b * M + p]
        for k in range(size):
            g[k] = w * dact(code, z[k]) * mu[base + k]
        # the bias
        if spatial_bias:
            for k in range(size):
                gtheta[bo + pair * size + k] += g[k]
        else:
            for a in range(c):
                acc = 0.0
                for p in range(M):
                    acc += g[a * M + p]
                gtheta[bo + pair * c + a] += acc
        for r in range(R):
            desc = HEADER + MAP_FIELDS * r
            kind, off = int(theta[desc]), int(theta[desc + 1])
            wo = int(theta[desc + 2]) + pair * c * c
            _spatial_apply(theta, r, Y[j], base, v, work)
            for a in range(c):
                for b in range(c):
                    acc = 0.0
                    for p in range(M):
                        acc += g[a * M + p] * v[b * M + p]
                    gtheta[wo + a * c + b] += acc
            for b in range(c):
                for p in range(M):  # q = Σ_a W^r_ab g_a
                    acc = 0.0
                    for a in range(c):
                        acc += theta[wo + a * c + b] * g[a * M + p]
                    q[p] = acc
                if kind == _LOCAL:
                    for p in range(M):
                        gy[base + b * M + p] += theta[off + p] * q[p]
                else:  # dense S (M, M): gy_b += S^T q
                    for p in range(M):
                        qp = q[p]
                        if qp != 0.0:
                            for m in range(M):
                                gy[base + b * M + m] += theta[off + p * M + m] * qp


_VJP = []


def _vjp():
    """The compiled vjp (built on first use)."""
    if not _VJP:
        _VJP.append(jit(VJP_SIGNATURE)(nonlocal_dense_vjp))
    return _VJP[0]


class TrainableNonlocalDense(NonlocalDense):
    """:class:`~integrallimits.networks.NonlocalDense` whose kernel carries the parameter
    vjp (channel fields and bias), so the discrete adjoint gives their exact gradient.

    Linear maps only (local, Nyström, convolution); the kernel reads ``theta`` at every
    call, so updating ``theta`` in place retrains the network (``W``/``b`` are refreshed
    by :meth:`sync_fields`).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not all(m.linear for m in self.maps):
            raise ValueError("TrainableNonlocalDense supports linear maps only")

    def kernel(self, batch=1):
        function, jacobian = _compiled()
        return Kernel(function, batch * self.d, False, jacobian, _block_sum(), "analytic",
                      structure={"kind": "network", "family": self.family, "t_independent": False},
                      name=self.family, params=self.theta, vjp_function=_vjp())

    def layout(self):
        """FieldSpecs of the trainable fields: ``W0``, ``W1``, ... (c x c) and ``b``."""
        used = _pair_mask(self)
        c, M = self.channels, self.M
        specs = [FieldSpec(f"W{r}", int(self.theta[HEADER + MAP_FIELDS * r + 2]), True, (c, c), used)
                 for r in range(len(self.maps))]
        point = (c, M) if self.b.ndim == 4 else (c,)
        specs.append(FieldSpec("b", int(self.theta[7]), True, point, used))
        return specs

    def sync_fields(self):
        """Copy the fields from ``theta`` into ``W`` and ``b``."""
        specs = self.layout()
        for r in range(len(self.maps)):
            self.W[r][...] = specs[r].grid(self.theta)
        self.b[...] = specs[-1].grid(self.theta)


# -- the network and the experiment ----------------------------------------------------------------

def digits_network(n_layers=4, channels=2, width=0.15, seed=0, scale=0.5, rule="rectangle"):
    """The non-local network of the digits experiment on the 8x8 midpoint grid of [0, 1]^2.

    Maps: pointwise (``LocalMap``) and the Gaussian Nyström map of width ``width``; channel
    fields start as seeded Gaussian values of standard deviation ``scale``, the bias at zero.

    Returns
    -------
    TrainableNonlocalDense
    """
    grid = spatial_rule("rectangle", 8, dim=2, domain=(0.0, 1.0))
    var = float(width) ** 2

    def gauss(x1, x2, y1, y2):
        return np.exp(-((x1 - y1) ** 2 + (x2 - y2) ** 2) / (2.0 * var)) / (2.0 * np.pi * var)

    maps = [LocalMap(grid, channels=channels), NystromMap(gauss, grid, channels=channels)]
    N, c = int(n_layers), int(channels)
    rng = np.random.default_rng(seed)
    W = [scale * rng.normal(size=(N + 1, N + 1, c, c)) for _ in maps]
    return TrainableNonlocalDense(maps, W, None, n_layers=N, T=1.0, rule=rule)


@dataclass
class DigitsResult:
    """The outcome of :func:`digits_experiment`.

    Attributes
    ----------
    train_accuracy, test_accuracy : float
    J : float
        The final value of J_N (cross-entropy + α R_N); ``J0`` the starting value.
    iterations, evaluations : int
    grad_norm : float
    seconds : float
    classes : tuple
    n_train, n_test, n_layers, channels : int
    message : str
    network : TrainableNonlocalDense
    classifier : (P, c0)
    history : list of float
        J after each iteration.
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

    def as_dict(self):
        """The scalar results (for tables)."""
        return {k: getattr(self, k) for k in
                ("train_accuracy", "test_accuracy", "J", "J0", "iterations", "evaluations",
                 "grad_norm", "seconds", "n_train", "n_test", "n_layers", "channels")}


class _DigitsProblem:
    """J_N(W, b, P, c0) and its exact gradient for a :class:`TrainableNonlocalDense`."""

    def __init__(self, net, X, y, n_classes, alpha, beta):
        self.net, self.alpha, self.beta = net, float(alpha), float(beta)
        self.K = int(n_classes)
        self.layout = net.layout()
        self.index = np.concatenate([f.indices() for f in self.layout])
        self.X0 = self.lift(X)
        self.y = np.asarray(y, dtype=np.int64)
        self.t = np.linspace(0.0, net.T, net.n_layers + 1)
        self.omega = net.grid.weights
        self.chunk = max(1, 2048 // net.d)  # the direct loops keep a (state x state) workspace
        self.n_weights = self.index.size
        self.size = self.n_weights + self.K * net.channels + self.K
        self.evaluations = 0

    def lift(self, X):
        """Images (S, 64) -> inputs (S, c * M): the image copied into every channel."""
        X = np.asarray(X, dtype=float)
        return np.ascontiguousarray(np.tile(X, (1, self.net.channels)))

    def split(self, v):
        c = self.net.channels
        P = v[self.n_weights:self.n_weights + self.K * c].reshape(self.K, c)
        return P, v[self.n_weights + self.K * c:]

    def vector(self, P, c0):
        return np.concatenate([self.net.theta[self.index], P.ravel(), c0])

    def _pool(self, XT):
        """Channel means ∫ x_N(ξ) dξ: (S, c M) -> (S, c)."""
        return XT.reshape(XT.shape[0], self.net.channels, self.net.M) @ self.omega

    def _solve(self, X0):
        net = self.net
        sol = solve_volterra(net.kernel(X0.shape[0]), net.forcing(X0), (0.0, net.T), net.n_layers,
                             method=net.rule, raise_on_failure=True)
        return sol.y.reshape(net.n_layers + 1, -1)

    def logits(self, v, X0=None):
        self.net.theta[self.index] = v[:self.n_weights]
        X0 = self.X0 if X0 is None else X0
        P, c0 = self.split(v)
        out = []
        for a in range(0, X0.shape[0], self.chunk):
            part = X0[a:a + self.chunk]
            out.append(self._solve(part)[-1].reshape(part.shape[0], -1))
        return self._pool(np.concatenate(out)) @ P.T + c0

    def _regularizer(self):
        total, grad = 0.0, np.zeros_like(self.net.theta)
        for f in self.layout:
            val, g = _h1_two(f.grid(self.net.theta), f.used, self.net.h, self.beta)
            total += val
            f.grid(grad)[...] = g
        return total, grad[self.index]

    def value_and_gradient(self, v):
        net = self.net
        net.theta[self.index] = v[:self.n_weights]
        P, c0 = self.split(v)
        S, c, M = self.X0.shape[0], net.channels, net.M
        gtheta = np.zeros_like(net.theta)
        loss, gP, gc = 0.0, np.zeros_like(P), np.zeros_like(c0)
        for a in range(0, S, self.chunk):
            part = self.X0[a:a + self.chunk]
            B = part.shape[0]
            kern = net.kernel(B)
            Y = self._solve(part)
            pooled = self._pool(Y[-1].reshape(B, -1))
            Z = pooled @ P.T + c0
            Z = Z - Z.max(axis=1, keepdims=True)
            e = np.exp(Z)
            ssum = e.sum(axis=1, keepdims=True)
            labels = self.y[a:a + B]
            loss += float(np.sum(np.log(ssum[:, 0]) - Z[np.arange(B), labels]))
            dZ = e / ssum
            dZ[np.arange(B), labels] -= 1.0
            dZ /= S
            gP += dZ.T @ pooled
            gc += dZ.sum(axis=0)
            dpooled = dZ @ P  # (B, c)
            dphi = np.zeros_like(Y)
            dphi[-1] = (dpooled[:, :, None] * self.omega[None, None, :]).reshape(-1)
            adj = discrete_adjoint(kern, self.t, Y, net.rule, dphi)
            if not adj.status:
                raise RuntimeError(f"discrete adjoint failed: {adj.message}")
            gtheta += adj.grad_theta
        reg, greg = self._regularizer()
        self.evaluations += 1
        J = loss / S + self.alpha * reg
        grad = np.concatenate([gtheta[self.index] + self.alpha * greg, gP.ravel(), gc])
        return J, grad


def digits_experiment(n_layers=4, n_train=100, n_test=100, classes=(0, 1), channels=2, seed=0,
                      maxiter=30, alpha=1e-3, beta=1.0, width=0.15, init_scale=0.5):
    """Train the non-local network of :func:`digits_network` on the 8x8 digits.

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
        Seeds the image draw and the starting channel fields (deterministic result).
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
        data = load_digits(n_samples=n_train, n_test=n_test, seed=seed, classes=classes)
    except ImportError as exc:
        raise ImportError("digits_experiment needs scikit-learn for its bundled 8x8 digits "
                          "(pip install scikit-learn; an optional extra of integrallimits)") from exc
    net = digits_network(n_layers, channels, width, seed, init_scale)
    problem = _DigitsProblem(net, data.X, data.y, data.n_classes, alpha, beta)
    rng = np.random.default_rng([seed, 1])
    P0 = rng.normal(size=(data.n_classes, channels))
    v0 = problem.vector(P0, np.zeros(data.n_classes))
    history = []
    t0 = time.perf_counter()
    J0, _ = problem.value_and_gradient(v0)
    sol = minimize(problem.value_and_gradient, v0, jac=True, method="L-BFGS-B",
                   callback=lambda intermediate_result: history.append(float(intermediate_result.fun)),
                   options={"maxiter": int(maxiter), "gtol": 1e-8, "ftol": 1e-15, "maxcor": 20})
    seconds = time.perf_counter() - t0
    J, g = problem.value_and_gradient(sol.x)
    train_acc = float(np.mean(np.argmax(problem.logits(sol.x), axis=1) == data.y))
    test_acc = float("nan")
    if len(data.y_test):
        Zt = problem.logits(sol.x, problem.lift(data.X_test))
        test_acc = float(np.mean(np.argmax(Zt, axis=1) == data.y_test))
    problem.net.theta[problem.index] = sol.x[:problem.n_weights]
    net.sync_fields()
    P, c0 = problem.split(sol.x)
    return DigitsResult(train_accuracy=train_acc, test_accuracy=test_acc, J=float(J), J0=float(J0),
                        iterations=int(sol.nit), evaluations=problem.evaluations,
                        grad_norm=float(np.linalg.norm(g)), seconds=seconds,
                        classes=tuple(int(k) for k in classes), n_train=len(data.y),
                        n_test=len(data.y_test), n_layers=net.n_layers, channels=net.channels,
                        message=str(sol.message), network=net, classifier=(P.copy(), c0.copy()),
                        history=history)
