r"""The training objective of a network as an optimal-control cost, with its exact gradient.

For samples (x0_i, y_i), i = 1..S, and a network with N layers (a Volterra rule applied
to the family's kernel), the discrete cost is

.. math::

    J_N(\theta, P, c) = \frac1S \sum_{i=1}^S \ell(P x_i(T) + c,\ y_i) + \alpha R_N(\theta),

with the losses

* ``"mse"``: :math:`\ell(z, y) = \tfrac12 |z - y|^2` (integer labels are one-hot encoded),
* ``"cross-entropy"``: :math:`\ell(z, y) = \log \sum_k e^{z_k} - z_y` (softmax),

and the regularisers (sums over the grid values the rule actually uses, DESIGN.md section 2,
NUMERICS.md "Parameter fields"):

* ``"h1"``, one-variable fields (ResNet):
  :math:`\sum_n h |(\theta_{n+1} - \theta_n)/h|^2 + \beta \sum_n h |\theta_n|^2`;
  two-variable fields (dense nets, the non-local net's channel fields and bias, nodes j < n
  of the triangle):
  :math:`h^2 \sum (|\Delta_t \theta / h|^2 + |\Delta_s \theta / h|^2) + \beta h^2 \sum |\theta|^2`;
* ``"l2"``: :math:`\sum_n h |\theta_n|^2` (resp. :math:`h^2 \sum |\theta_{nj}|^2`).

The classifier acts on the features of x_i(T): x_i(T) itself, or for the non-local family
(:class:`~integrallimits.networks.NonlocalDense`, states x(ξ) on a spatial rule) the channel
means :math:`\int_\Omega x_i(T, \xi)\, d\xi` (its ``pooling_matrix``), a readout that does not
depend on the spatial resolution; or any fixed linear map F given as ``readout`` (e.g. the
first d coordinates of a network of width w > d run on inputs padded with zeros, the readout
of an augmented ResNet).

:meth:`Objective.value_and_gradient` returns J_N and its exact gradient with respect to the
network weights (the discrete adjoint, batched over the samples), the classifier (P, c) when
it is trained, and optionally the inputs.  :meth:`Objective.continuum_value` evaluates the
continuum cost J of the same terms for continuum fields (piecewise linear extensions of grid
values, or callables), the quantity discrete minimizers are compared against in the deep limit.
"""
from __future__ import annotations

import copy
import numbers
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..networks import (ConcatDense, NonlocalDense, PiecewiseLinear, PiecewiseLinearTriangle,
                        ReLUResNet, ResidualDense, ResNet, SmoothNet, VolterraNetwork, sample_field)
from ..networks import _roots
from ..networks._families import positive_int, real_array
from ..kernels._kernel import agrees_on_halves
from ..networks._fields import sample_field_at
from ..volterra import METHODS, solve_volterra
from ..volterra._mesh import check_flags
from ._adjoint import discrete_adjoint
from ._data import Dataset, check_test_set, training_inputs, training_targets

__all__ = ["Objective", "FieldSpec", "parameter_layout", "rebuild_network", "LOSSES",
           "REGULARIZERS"]

HEADER = 6
LOSSES = ("mse", "cross-entropy")
REGULARIZERS = ("h1", "l2", None)


# -- where the fields live in theta, and which grid values a rule uses ----------------------------

@dataclass(frozen=True)
class FieldSpec:
    """One parameter field of a network: its place in theta and the grid values the rule uses.

    Attributes
    ----------
    name : str
        The network attribute ("W", "b", "V"; "W0", "W1", ... for the channel fields
        ``W[0], W[1], ...`` of a non-local network).
    offset : int
        Start of the field in theta.
    two_variable : bool
        theta(t, s) on the grid (N+1, N+1) (dense nets) or theta(t) on (N+1,) (ResNets).
    point_shape : tuple
        Shape of the value at one grid point ((d, d) for a weight matrix).
    used : ndarray of bool
        Grid points whose value the rule reads (w_nj != 0 for some row n >= 1).
    """

    name: str
    offset: int
    two_variable: bool
    point_shape: tuple
    used: np.ndarray

    @property
    def grid_shape(self):
        return self.used.shape

    @property
    def size(self):
        return int(np.prod(self.grid_shape)) * int(np.prod(self.point_shape, dtype=int))

    def grid(self, theta):
        """The field's grid values, a view into theta (grid shape + point shape)."""
        return theta[self.offset:self.offset + self.size].reshape(self.grid_shape + self.point_shape)

    def indices(self):
        """Flat indices in theta of the used grid values (in C order)."""
        p = int(np.prod(self.point_shape, dtype=int))
        cells = np.flatnonzero(self.used.ravel())
        return (self.offset + cells[:, None] * p + np.arange(p)[None, :]).ravel()


@lru_cache(maxsize=64)
def _rule_support(rule, N):
    """w_nj != 0 for the rule on N steps, (N+1, N+1) bool, from the float rule data
    (rows n < S from the starting block, then 1 + left[j] + right[n - j])."""
    start, left, right = METHODS[rule]._data
    S = start.shape[0]
    n, j = np.meshgrid(np.arange(N + 1), np.arange(N + 1), indexing="ij")
    w = np.ones((N + 1, N + 1))
    L = min(left.shape[0], N + 1)
    w[:, :L] += left[None, :L]
    k = n - j
    inside = (k >= 0) & (k < right.shape[0])
    w[inside] += right[k[inside]]
    w[k < 0] = 0.0
    for r in range(min(S, N + 1)):
        w[r] = 0.0
        w[r, :min(S, N + 1)] = start[r, :min(S, N + 1)]
    w[0] = 0.0
    out = w != 0.0
    out.setflags(write=False)
    return out


def _pair_mask(network):
    """used[n, j]: the rule's weight w_nj (rows n >= 1) is non-zero and the family reads it."""
    N = network.n_layers
    w = _rule_support(network.rule, N).copy()
    if network.family == "smooth":  # the kernel's own weight C(n-j-1, k-1) vanishes for j > n-k
        n, j = np.meshgrid(np.arange(N + 1), np.arange(N + 1), indexing="ij")
        w &= j <= n - network.k
    return w


def parameter_layout(network):
    """The fields of ``network`` as a list of :class:`FieldSpec` (in theta order).

    Raises
    ------
    ValueError
        For a family without a layout.

    Examples
    --------
    >>> net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    >>> [(f.name, f.point_shape, int(f.used.sum())) for f in parameter_layout(net)]
    [('W', (2, 2), 4), ('b', (2,), 4)]
    """
    if not isinstance(network, VolterraNetwork):
        raise TypeError(f"network must be an integrallimits network, got {type(network).__name__}")
    d = network.d
    pairs = _pair_mask(network)
    one = pairs.any(axis=0)  # a t-independent field theta(s) is read wherever some row reads s
    fam = network.family
    offset = HEADER
    if fam in ("resnet", "smooth"):
        shapes = [("W", False, (d, d)), ("b", False, (d,))]
    elif fam == "residual-dense":
        shapes = [("W", True, (d, d)), ("b", True, (d,))]
    elif fam == "concat-dense":
        shapes = [("W", True, (d, d))]
    elif fam == "relu-resnet":
        m = network.m
        shapes = [("V", False, (d, m)), ("W", False, (m, d)), ("b", False, (m,))]
    elif fam == "nonlocal-dense":
        c = network.channels
        shapes = [(f"W{r}", True, (c, c)) for r in range(len(network.maps))]
        shapes.append(("b", True, network.b.shape[2:]))
        offset = network.field_offset
    else:
        raise ValueError(f"no parameter layout for the family {fam!r}")
    out = []
    for name, two, shape in shapes:
        spec = FieldSpec(name, offset, two, shape, pairs.copy() if two else one.copy())
        out.append(spec)
        offset += spec.size
    if offset != network.theta.size:
        raise AssertionError(f"layout of {fam!r} covers {offset} of {network.theta.size} entries")
    return out


def rebuild_network(network, grids=None, n_layers=None, rule=None, T=None):
    """A network of the same family (and activation) from grid values of its fields.

    Parameters
    ----------
    network : VolterraNetwork
        The template (family, d, activation, and defaults for the rest).
    grids : dict name -> array, optional
        Grid values (N+1, ...) or (N+1, N+1, ...); the template's own when omitted.
    n_layers, rule, T : optional
        Change the depth, the rule or the horizon (T = N gives the unscaled network
        x_n = x_{n-1} + sigma(...), h = 1).
    """
    N = network.n_layers if n_layers is None else positive_int(n_layers, "n_layers")
    rule = network.rule if rule is None else rule
    T = network.T if T is None else float(T)
    if grids is None:
        grids = {f.name: f.grid(network.theta) for f in parameter_layout(network)}
    fam, act, d = network.family, network.activation, network.d
    if fam == "resnet":
        return ResNet(grids["W"], grids["b"], n_layers=N, d=d, activation=act, T=T, rule=rule)
    if fam == "residual-dense":
        return ResidualDense(grids["W"], grids["b"], n_layers=N, d=d, activation=act, T=T, rule=rule)
    if fam == "concat-dense":
        return ConcatDense(grids["W"], n_layers=N, d=d, activation=act, T=T, rule=rule)
    if fam == "smooth":
        return SmoothNet(network.k, grids["W"], grids["b"], n_layers=N, d=d, activation=act, T=T,
                         rule=rule, initial_differences=network.initial_differences)
    if fam == "relu-resnet":
        return ReLUResNet(grids["V"][:N], grids["W"][:N], grids["b"][:N], T=T, rule=rule)
    if fam == "nonlocal-dense":
        return NonlocalDense(network.maps, [grids[f"W{r}"] for r in range(len(network.maps))],
                             grids["b"], n_layers=N, activation=act, T=T, rule=rule)
    raise ValueError(f"cannot rebuild a network of the family {fam!r}")


def _with_theta(network, theta, layout=None):
    """A shallow copy of ``network`` whose parameters are ``theta`` (fields as views of it)."""
    net = copy.copy(network)
    # its own kernel cache: a copy sharing the template's dict added a kernel holding its
    # theta to it at every evaluation of J_N (a network run before training leaked theta)
    net.__dict__.pop("_kernel_cache", None)
    grids = {f.name: f.grid(theta) for f in (parameter_layout(network) if layout is None else layout)}
    if network.family == "relu-resnet":
        grids = {name: grid[:network.n_layers] for name, grid in grids.items()}
    elif network.family == "nonlocal-dense":
        grids["W"] = tuple(grids.pop(f"W{r}") for r in range(len(network.maps)))
    net._rebind(theta, grids)
    return net


def _readout(network):
    """The matrix (F, d) taking x(T) to the features the classifier acts on (None: x(T))."""
    return network.pooling_matrix() if network.family == "nonlocal-dense" else None


def _agrees_pointwise(field, values, t, two_variable):
    """Whether a field's values on the grid ``t`` equal its pointwise values at the first,
    middle and last times (a reduction such as ``np.linalg.norm`` broadcasts to the wrong
    numbers; a NaN agrees with nothing, and the pointwise sampling then names it)."""
    idx = np.unique([0, t.size // 2, t.size - 1])
    pointwise = sample_field_at(field, t[idx], two_variable)
    got = values[np.ix_(idx, idx)] if two_variable else values[idx]
    return got.shape == pointwise.shape and bool(np.all(np.abs(got - pointwise)
                                                        <= 1e-12 * np.abs(pointwise)))


def _same_on_halves(field, values, t, two_variable):
    """:func:`~integrallimits.kernels._kernel.agrees_on_halves` for a field's values on the
    grid ``t`` (halves of t; both variables' grid for a field of (t, s)).  Exceptions are the
    caller's (it samples point by point then)."""
    def call(part):
        if two_variable:
            return np.asarray(field(*np.meshgrid(t[part], t, indexing="ij")), dtype=float)
        return np.asarray(field(t[part]), dtype=float)
    return agrees_on_halves(call, values)


def _sample(field, spec, N, h):
    """Grid values of a continuum field (callable, vectorised if it can be) at t_n = n h:
    from one call on the whole grid when that gives the grid's shape and agrees with pointwise
    calls at the first, middle and last times and with its calls on the grid's two halves,
    else point by point."""
    t = h * np.arange(N + 1)
    want = spec.grid_shape + spec.point_shape
    try:
        if spec.two_variable:
            tt, ss = np.meshgrid(t, t, indexing="ij")
            values = np.asarray(field(tt, ss), dtype=float)
        else:
            values = np.asarray(field(t), dtype=float)
        if values.shape == want and _agrees_pointwise(field, values, t, spec.two_variable) \
                and _same_on_halves(field, values, t, spec.two_variable):
            return values
    except Exception:  # a field written for scalar arguments only: sample point by point
        pass
    values = sample_field(field, N, h * N, spec.two_variable, name=spec.name)
    if values.shape != want:
        raise ValueError(f"field {spec.name!r} gives values of shape {values.shape[len(spec.grid_shape):]}"
                         f", expected {spec.point_shape}")
    return values


# -- the regularisers --------------------------------------------------------------------------

def _h1_one(v, used, h, beta):
    """sum h |dv/h|^2 over consecutive used nodes + beta sum h |v|^2, and its gradient."""
    v2 = v.reshape(v.shape[0], -1)
    pair = (used[:-1] & used[1:]).astype(float)[:, None]
    diff = (v2[1:] - v2[:-1]) * pair
    mask = used.astype(float)[:, None]
    value = np.sum(diff ** 2) / h + beta * h * np.sum(mask * v2 ** 2)
    grad = 2.0 * beta * h * mask * v2
    grad[1:] += 2.0 * diff / h
    grad[:-1] -= 2.0 * diff / h
    return value, grad.reshape(v.shape)


def _h1_two(v, used, h, beta):
    """h^2 sum (|D_t v / h|^2 + |D_s v / h|^2) + beta h^2 sum |v|^2 over used nodes, and gradient."""
    v2 = v.reshape(v.shape[0], v.shape[1], -1)
    mask = used.astype(float)[..., None]
    pt = (used[:-1] & used[1:]).astype(float)[..., None]
    ps = (used[:, :-1] & used[:, 1:]).astype(float)[..., None]
    dt = (v2[1:] - v2[:-1]) * pt
    ds = (v2[:, 1:] - v2[:, :-1]) * ps
    value = np.sum(dt ** 2) + np.sum(ds ** 2) + beta * h * h * np.sum(mask * v2 ** 2)
    grad = 2.0 * beta * h * h * mask * v2
    grad[1:] += 2.0 * dt
    grad[:-1] -= 2.0 * dt
    grad[:, 1:] += 2.0 * ds
    grad[:, :-1] -= 2.0 * ds
    return value, grad.reshape(v.shape)


def _l2(v, used, h, two):
    w = h * h if two else h
    mask = used.astype(float).reshape(used.shape + (1,) * (v.ndim - used.ndim))
    return w * float(np.sum(mask * v ** 2)), 2.0 * w * mask * v


# -- continuum norms of P1 interpolants on a fine grid ---------------------------------------------

def _continuum_norm_one(values, delta, beta, kind):
    """int |f'|^2 + beta int |f|^2 (or int |f|^2) of the P1 interpolant of ``values``."""
    v = values.reshape(values.shape[0], -1)
    a, b = v[:-1], v[1:]
    l2 = delta / 3.0 * float(np.sum(a * a + a * b + b * b))
    if kind == "l2":
        return l2
    return float(np.sum((b - a) ** 2)) / delta + beta * l2


def _continuum_norm_two(values, delta, beta, kind):
    """The same on the triangle 0 <= s <= t (fine squares split along the diagonal, as in
    :class:`~integrallimits.networks.PiecewiseLinearTriangle`)."""
    v = values.reshape(values.shape[0], values.shape[1], -1)
    M = v.shape[0] - 1
    n, j = np.meshgrid(np.arange(M), np.arange(M), indexing="ij")
    lower = j <= n          # triangle (n, j), (n+1, j), (n+1, j+1): inside for j <= n
    upper = j + 1 <= n      # triangle (n, j), (n, j+1), (n+1, j+1): inside for j < n
    v00, v10, v11, v01 = v[:-1, :-1], v[1:, :-1], v[1:, 1:], v[:-1, 1:]

    def p1_sq(x, y, z):  # int over a triangle of area delta^2/2 of the squared P1 function
        return (delta * delta / 12.0) * np.sum(x * x + y * y + z * z + x * y + y * z + z * x, axis=-1)

    l2 = float(np.sum(p1_sq(v00, v10, v11)[lower]) + np.sum(p1_sq(v00, v01, v11)[upper]))
    if kind == "l2":
        return l2
    # on a triangle the gradient is constant: its square times the area delta^2/2
    semi = 0.5 * (np.sum(((v10 - v00) ** 2 + (v11 - v10) ** 2).sum(-1)[lower])
                  + np.sum(((v01 - v00) ** 2 + (v11 - v01) ** 2).sum(-1)[upper]))
    return float(semi) + beta * l2


# -- the objective -------------------------------------------------------------------------------

class Objective:
    r"""J_N(theta, P, c) of a network on a data set, with the exact gradient.

    Parameters
    ----------
    network : VolterraNetwork
        Its family, depth N, rule, activation and T define the map; its weights are the
        default point (:meth:`initial_vector`).
    data : Dataset or (X, y)
        Inputs X (S, d); integer labels y (S,) or, for ``loss="mse"``, real targets (S, K).
        For a non-local network the inputs are its features flattened, (S, c M) (channel a
        at node ξ_p in column a M + p).  The arrays are copied: changing them afterwards does
        not change the objective.
    loss : {"mse", "cross-entropy"}
    alpha, beta : float
        Weight of the regulariser and of its L2 part.
    regularizer : {"h1", "l2", None}
    classifier : (P, c), optional
        The affine classifier z = P F x(T) + c, P (K, f), F the network's readout
        (:attr:`readout`; f = d, F = I except for the non-local family); defaults to P = I
        (first K rows of the identity, zero-padded), c = 0.
    train_classifier : bool
        Whether (P, c) are part of the optimisation vector.
    wrt_inputs : bool
        Whether the inputs X are part of the vector (gradient dJ/dx0_i = sum_n mu_n).
    readout : array (f, d), optional
        A fixed linear readout F instead of the network's own (below).

    Attributes
    ----------
    readout : ndarray (f, d) or None
        The linear readout F of x(T): the ``readout`` given, else None (the identity) for the
        finite-dimensional families and the channel means
        (:meth:`NonlocalDense.pooling_matrix`, f = channels) for the non-local family.
    n_features : int
        f, the number of columns of P.
    roots_unchecked : int
        The implicit steps of the last forward pass (:meth:`value`,
        :meth:`value_and_gradient`, :meth:`terms`, :meth:`states`, ...), summed over the
        samples, whose roots could not be counted (``stats["roots_unchecked"]`` of the
        network's solves, :mod:`integrallimits.networks._roots`: a ReLU network on an implicit
        rule whose step is not a contraction and was not searched, or reads an attention map):
        their values are the roots Newton's method reached, and the rule may have others.
        0 for every other network.
    roots_message : str
        The message of the first such sample's solve ("sample i: ..."), "" when there is none.

    Notes
    -----
    The vector is ``[weights (used grid values, field by field, C order), P, c, X]`` (the
    last three as present).  The gradient is exact: the network part is the discrete adjoint
    of the forward scheme (batched over the samples for explicit rules), so it agrees with
    finite differences of :meth:`value` to rounding.

    Examples
    --------
    >>> from integrallimits.control import make_dataset
    >>> data = make_dataset("two-moons", 16, d=2, seed=0)
    >>> net = ResNet(lambda t: 0.5 * np.eye(2), lambda t: np.zeros(2), n_layers=8, d=2)
    >>> obj = Objective(net, data, loss="cross-entropy", alpha=1e-2, beta=1.0)
    >>> v = obj.initial_vector()
    >>> J, g = obj.value_and_gradient(v)
    >>> bool(np.isclose(J, obj.value(v))), g.shape == v.shape
    (True, True)
    """

    def __init__(self, network, data, loss="mse", alpha=0.0, beta=0.0, regularizer="h1",
                 classifier=None, train_classifier=True, wrt_inputs=False, n_classes=None,
                 readout=None):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {', '.join(LOSSES)}, got {loss!r}")
        if regularizer not in REGULARIZERS:
            raise ValueError(f"regularizer must be 'h1', 'l2' or None, got {regularizer!r}")
        for name, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real) or \
                    not (np.isfinite(value) and value >= 0):
                raise ValueError(f"{name} must be a float >= 0, got {value!r}")
        check_flags(train_classifier=train_classifier, wrt_inputs=wrt_inputs)
        self.network = network
        self.layout = parameter_layout(network)
        self.loss, self.alpha, self.beta, self.regularizer = loss, float(alpha), float(beta), regularizer
        self.train_classifier, self.wrt_inputs = bool(train_classifier), bool(wrt_inputs)
        X, y = (data.X, data.y) if isinstance(data, Dataset) else data
        # The data are copied: the objective is the one of the data it was given, as it checked
        # them (a float64 X was used in place, so changing the caller's array after this
        # changed J silently, while other dtypes and the labels were copied).
        self.X = training_inputs(X, network.d).copy()
        self.data = None
        if isinstance(data, Dataset):   # its test part is used after training: check it now
            self.data = replace(data, X=self.X, X_test=data.X_test.copy(),
                                y_test=data.y_test.copy(), meta=dict(data.meta))
            check_test_set(self.data, network.d)
        if n_classes is None and isinstance(data, Dataset):
            n_classes = data.n_classes
        self.labels, self.targets = training_targets(y, self.X.shape[0], n_classes)
        self.targets = self.targets.copy() if self.labels is None else self.targets
        if self.labels is None and loss == "cross-entropy":
            raise ValueError("cross-entropy needs integer class labels")
        K = self.n_classes = self.targets.shape[1]
        if readout is None:
            self.readout = _readout(network)
        else:
            self.readout = real_array(readout, "readout").copy()
            if self.readout.ndim != 2 or self.readout.shape[1] != network.d or \
                    not np.all(np.isfinite(self.readout)):
                raise ValueError(f"readout must be a finite array of shape (f, {network.d}), "
                                 f"got shape {self.readout.shape}")
        F = self.n_features = network.d if self.readout is None else self.readout.shape[0]
        if classifier is None:
            P, c = np.eye(K, F), np.zeros(K)
        else:
            P, c = classifier
            P, c = real_array(P, "classifier P").copy(), real_array(c, "classifier c").copy()
        if P.shape != (K, F) or c.shape != (K,):
            raise ValueError(f"classifier must be (P, c) with P ({K}, {F}) and c ({K},), got "
                             f"{P.shape} and {c.shape}")
        if not (np.all(np.isfinite(P)) and np.all(np.isfinite(c))):
            raise ValueError("classifier (P, c) contains NaN or inf")
        self.P0, self.c0 = P, c
        self._index = np.concatenate([f.indices() for f in self.layout])
        self.n_weights = self._index.size
        self.n_classifier = (K * F + K) if self.train_classifier else 0
        self.size = self.n_weights + self.n_classifier + (self.X.size if self.wrt_inputs else 0)
        self._t = np.linspace(0.0, network.T, network.n_layers + 1)
        self._t[-1] = network.T
        self.evaluations = 0
        self.roots_unchecked, self.roots_message = 0, ""

    # -- the vector -------------------------------------------------------------------------
    def initial_vector(self, network=None, classifier=None):
        """The vector of ``network``'s weights (the objective's own by default) and classifier."""
        net = self.network if network is None else network
        P, c = (self.P0, self.c0) if classifier is None else classifier
        parts = [net.theta[self._index]]
        if self.train_classifier:
            parts += [np.ravel(P), np.ravel(c)]
        if self.wrt_inputs:
            parts.append(self.X.ravel())
        return np.concatenate(parts).astype(float)

    def split(self, vector):
        """(theta, P, c, X) from a vector."""
        vector = real_array(vector, "vector")
        if vector.shape != (self.size,):
            raise ValueError(f"vector must have shape ({self.size},), got {vector.shape}")
        if not np.isfinite(vector).all():
            raise ValueError(self._not_finite(vector))
        theta = self.network.theta.copy()
        theta[self._index] = vector[:self.n_weights]
        K, F = self.n_classes, self.n_features
        k = self.n_weights
        if self.train_classifier:
            P = vector[k:k + K * F].reshape(K, F)
            c = vector[k + K * F:k + K * F + K]
            k += K * F + K
        else:
            P, c = self.P0, self.c0
        X = vector[k:].reshape(self.X.shape) if self.wrt_inputs else self.X
        return theta, P, c, np.ascontiguousarray(X)

    def _not_finite(self, vector):
        """The message for a vector with a NaN or inf entry: its first such entry and the part
        of the vector (weights, classifier P or c, inputs X) it is in."""
        i = int(np.flatnonzero(~np.isfinite(vector))[0])
        parts = [("a weight", self.n_weights)]
        if self.train_classifier:
            parts += [("the classifier P", self.n_classes * self.n_features),
                      ("the classifier c", self.n_classes)]
        if self.wrt_inputs:
            parts.append(("an input X", self.X.size))
        start = 0
        for name, size in parts:
            if i < start + size:
                break
            start += size
        return (f"vector must be finite; vector[{i}] = {vector[i]} ({name}, entry {i - start} "
                f"of that part)")

    def network_for(self, vector):
        """The network with the weights of ``vector``."""
        return _with_theta(self.network, self.split(vector)[0], self.layout)

    def classifier_for(self, vector):
        """(P, c) of ``vector``."""
        _, P, c, _ = self.split(vector)
        return P.copy(), c.copy()

    def grids(self, vector):
        """Field name -> grid values (copies) of ``vector``."""
        theta = self.split(vector)[0]
        return {f.name: f.grid(theta).copy() for f in self.layout}

    def extensions(self, vector):
        """Field name -> the piecewise linear extension of the used grid values.

        One-variable fields: :class:`~integrallimits.networks.PiecewiseLinear` through the used
        nodes (continued constantly past them); two-variable fields:
        :class:`~integrallimits.networks.PiecewiseLinearTriangle` of the values j < n.
        """
        theta = self.split(vector)[0]
        h = self.network.h
        out = {}
        for f in self.layout:
            grid = f.grid(theta)
            if f.two_variable:
                out[f.name] = PiecewiseLinearTriangle(grid, h)
            else:
                nodes = np.flatnonzero(f.used)
                out[f.name] = PiecewiseLinear(grid[nodes[0]:nodes[-1] + 1], h, t0=nodes[0] * h)
        return out

    # -- pieces -----------------------------------------------------------------------------
    def regularization(self, theta):
        """R_N(theta) and its gradient (layout of theta)."""
        grad = np.zeros_like(theta)
        if self.regularizer is None:
            return 0.0, grad
        h, total = self.network.h, 0.0
        for f in self.layout:
            v = f.grid(theta)
            if self.regularizer == "l2":
                val, g = _l2(v, f.used, h, f.two_variable)
            elif f.two_variable:
                val, g = _h1_two(v, f.used, h, self.beta)
            else:
                val, g = _h1_one(v, f.used, h, self.beta)
            total += val
            f.grid(grad)[...] = g
        return float(total), grad

    def _loss(self, Z):
        """Mean loss of the outputs Z (S, K) and its derivative in Z."""
        S = Z.shape[0]
        if self.loss == "mse":
            r = Z - self.targets
            return 0.5 * float(np.sum(r * r)) / S, r / S
        zmax = Z.max(axis=1, keepdims=True)
        e = np.exp(Z - zmax)
        ssum = e.sum(axis=1, keepdims=True)
        lse = (zmax + np.log(ssum))[:, 0]
        value = float(np.sum(lse - Z[np.arange(S), self.labels])) / S
        dZ = e / ssum
        dZ[np.arange(S), self.labels] -= 1.0
        return value, dZ / S

    def _forward(self, network, X):
        """(mesh values Y (N+1, S d) for the batched kernel, or a list per sample); sets
        :attr:`roots_unchecked` and :attr:`roots_message`."""
        N, T, rule = network.n_layers, network.T, network.rule
        self.roots_unchecked, self.roots_message = 0, ""
        if not METHODS[rule].implicit:
            K = network.kernel(X.shape[0])
            sol = solve_volterra(K, network.forcing(X), (0.0, T), N, method=rule,
                                 raise_on_failure=True)
            return K, [sol.y.reshape(N + 1, -1)]
        K = network.kernel(1)
        out = []
        # (a ReLU network's implicit steps that are not contractions: their roots counted, a
        # step with several roots a SolverError naming the layer, as in the network's forward;
        # the steps whose roots were not counted are summed in roots_unchecked)
        steps = _roots.plan(network)
        for b in range(X.shape[0]):
            sol = _roots.solve_checked(network, steps, K, network.forcing(X[b:b + 1]))
            out.append(sol.y.reshape(N + 1, -1))
            count = sol.stats.get("roots_unchecked", 0)
            if count and not self.roots_unchecked:
                self.roots_message = f"sample {b}: {sol.message}"
            self.roots_unchecked += count
        return K, out

    @staticmethod
    def _final(Ys, S, d):
        return Ys[0][-1].reshape(S, d) if len(Ys) == 1 else np.array([Y[-1] for Y in Ys])

    def _outputs(self, network, X):
        """The final states x_i(T) (S, d) of ``network`` for the inputs X (S, d)."""
        return self._final(self._forward(network, X)[1], X.shape[0], network.d)

    def _features(self, XT):
        """F x_i(T) (S, f): what the classifier acts on."""
        return XT if self.readout is None else XT @ self.readout.T

    def _state_gradient(self, dF):
        """dJ/dx_i(T) from dJ/d(F x_i(T)): the transpose of the readout."""
        return dF if self.readout is None else dF @ self.readout

    def states(self, vector):
        """Layer states x_0..x_N of every sample, (S, N+1, d)."""
        theta, _, _, X = self.split(vector)
        net = _with_theta(self.network, theta, self.layout)
        _, Ys = self._forward(net, X)
        S, d, N = X.shape[0], net.d, net.n_layers
        if len(Ys) == 1:
            return Ys[0].reshape(N + 1, S, d).transpose(1, 0, 2).copy()
        return np.array(Ys)

    def terms(self, vector):
        """dict: ``J``, ``loss``, ``regularizer`` (R_N, before alpha), ``accuracy`` and
        ``roots_unchecked`` (:attr:`roots_unchecked` of this forward pass)."""
        theta, P, c, X = self.split(vector)
        net = _with_theta(self.network, theta, self.layout)
        Z = self._features(self._outputs(net, X)) @ P.T + c
        loss, _ = self._loss(Z)
        reg, _ = self.regularization(theta)
        return {"J": loss + self.alpha * reg, "loss": loss, "regularizer": reg,
                "accuracy": self._accuracy(Z), "roots_unchecked": self.roots_unchecked}

    def value(self, vector):
        """J_N at ``vector``."""
        return self.terms(vector)["J"]

    def output_gradient(self, XT, classifier=None):
        """(mean loss, dJ/dx_i(T)) for final states XT (S, d): the terminal cost phi of the
        control problem and its gradient, for continuous adjoints."""
        P, c = (self.P0, self.c0) if classifier is None else (np.asarray(a, float) for a in classifier)
        loss, dZ = self._loss(self._features(np.asarray(XT, dtype=float)) @ P.T + c)
        return loss, self._state_gradient(dZ @ P)

    def gradient_grids(self, gradient):
        """Field name -> the weight part of a gradient (from :meth:`value_and_gradient`) laid
        out on the grid (zeros at unused grid points)."""
        full = np.zeros_like(self.network.theta)
        full[self._index] = np.asarray(gradient, dtype=float)[:self.n_weights]
        return {f.name: f.grid(full).copy() for f in self.layout}

    def _accuracy(self, Z):
        if self.labels is None:
            return float("nan")
        return float(np.mean(np.argmax(Z, axis=1) == self.labels))

    def accuracy(self, vector, X=None, y=None):
        """Fraction of samples (the training set, or X, y) classified correctly (argmax of z).

        Raises
        ------
        ValueError
            For only one of ``X`` and ``y`` given, or labels ``y`` that are not whole numbers
            in [0, n_classes), one per row of ``X`` (a ``y`` without ``X`` was ignored, the
            training set's accuracy returned; one label was compared with every row, and
            labels of 0.5 or of another length were counted as misclassified or failed in
            NumPy's broadcasting).
        """
        theta, P, c, Xv = self.split(vector)
        net = _with_theta(self.network, theta, self.layout)
        if (X is None) != (y is None):
            raise ValueError("give both X and y (samples and their labels), or neither (the "
                             "training set)")
        if X is None:
            X, labels = Xv, self.labels
        else:
            X, labels = real_array(X, "X", bools=False), real_array(y, "y")
            if X.ndim == 2 and X.shape[0] == 0 and labels.shape == (0,):
                return float("nan")
            X = training_inputs(X, self.network.d)
            if labels.shape != (X.shape[0],):
                raise ValueError(f"y must hold one label per row of X, shape ({X.shape[0]},), "
                                 f"got {labels.shape}")
            bad = ~np.isfinite(labels) | (labels != np.round(labels)) | (labels < 0) | \
                (labels >= self.n_classes)
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(f"y must hold class labels, integers in [0, {self.n_classes}); "
                                 f"y[{i}] = {labels[i]}")
            labels = labels.astype(np.int64)
        if labels is None or len(labels) == 0:
            return float("nan")
        Z = self._features(self._outputs(net, X)) @ P.T + c
        return float(np.mean(np.argmax(Z, axis=1) == labels))

    def value_and_gradient(self, vector):
        """J_N and its exact gradient (same layout as ``vector``)."""
        theta, P, c, X = self.split(vector)
        net = _with_theta(self.network, theta, self.layout)
        S, d = X.shape[0], net.d
        K, Ys = self._forward(net, X)
        XT = self._final(Ys, S, d)
        FT = self._features(XT)
        Z = FT @ P.T + c
        loss, dZ = self._loss(Z)
        reg, dreg = self.regularization(theta)
        dXT = self._state_gradient(dZ @ P)  # dJ/dx_i(T)
        gtheta = self.alpha * dreg
        gX = np.empty_like(X)
        if len(Ys) == 1:
            dphi = np.zeros_like(Ys[0])
            dphi[-1] = dXT.ravel()
            adj = discrete_adjoint(K, self._t, Ys[0], net.rule, dphi)
            self._check(adj)
            gtheta += adj.grad_theta
            gX[:] = adj.mu.sum(axis=0).reshape(S, d)
        else:
            for b, Y in enumerate(Ys):
                dphi = np.zeros_like(Y)
                dphi[-1] = dXT[b]
                adj = discrete_adjoint(K, self._t, Y, net.rule, dphi)
                self._check(adj)
                gtheta += adj.grad_theta
                gX[b] = adj.mu.sum(axis=0)
        self.evaluations += 1
        parts = [gtheta[self._index]]
        if self.train_classifier:
            parts += [(dZ.T @ FT).ravel(), dZ.sum(axis=0)]
        if self.wrt_inputs:
            parts.append(gX.ravel())
        return loss + self.alpha * reg, np.concatenate(parts)

    def adjoint_states(self, vector):
        """The discrete adjoint states mu_n of every sample, (S, N+1, d), for the data term
        (mu_n = dPhi/dg_n, the sensitivity of the loss to the n-th equation of the scheme)."""
        theta, P, c, X = self.split(vector)
        net = _with_theta(self.network, theta, self.layout)
        S, d, N = X.shape[0], net.d, net.n_layers
        K, Ys = self._forward(net, X)
        _, dZ = self._loss(self._features(self._final(Ys, S, d)) @ P.T + c)
        dXT = self._state_gradient(dZ @ P)
        if len(Ys) == 1:
            dphi = np.zeros_like(Ys[0])
            dphi[-1] = dXT.ravel()
            adj = discrete_adjoint(K, self._t, Ys[0], net.rule, dphi)
            self._check(adj)
            return adj.mu.reshape(N + 1, S, d).transpose(1, 0, 2).copy()
        out = np.empty((S, N + 1, d))
        for b, Y in enumerate(Ys):
            dphi = np.zeros_like(Y)
            dphi[-1] = dXT[b]
            adj = discrete_adjoint(K, self._t, Y, net.rule, dphi)
            self._check(adj)
            out[b] = adj.mu
        return out

    @staticmethod
    def _check(adj):
        if not adj.status:
            from ..volterra import SolverError
            raise SolverError(f"discrete adjoint failed: {adj.message}")

    # -- the continuum cost -------------------------------------------------------------------
    def continuum_terms(self, fields, classifier=None, n_fine=256, method="trapezoid"):
        r"""The continuum cost of the same terms for continuum fields.

        .. math:: J(\theta, P, c) = \frac1S \sum_i \ell(P x_i(T) + c, y_i) + \alpha R(\theta),

        x_i solving the family's Volterra equation with the fields, R the continuum H^1
        (:math:`\int |\theta'|^2 + \beta |\theta|^2`, or on the triangle
        :math:`\iint |\partial_t\theta|^2 + |\partial_s\theta|^2 + \beta|\theta|^2`) or L^2 norm.

        Parameters
        ----------
        fields : dict name -> callable, or a vector of this objective
            theta(t) (one-variable) or theta(t, s) (two-variable) for every field; a vector
            means its piecewise linear extensions (:meth:`extensions`).
        classifier : (P, c), optional
            Defaults to the vector's classifier (or the objective's initial one).
        n_fine : int
            The fine grid M: the state is solved with ``method`` on M steps, and R is the
            exact norm of the P1 interpolant of the fields on that grid (exact for piecewise
            linear fields whose nodes are fine-grid nodes, e.g. extensions with M a multiple
            of N).
        method : str
            A direct-quadrature rule for the state (trapezoid: second order, also across
            the kinks of piecewise linear fields when they sit on the fine grid).

        Returns
        -------
        dict with ``J``, ``loss``, ``regularizer``, ``accuracy``.
        """
        if not callable(fields) and not isinstance(fields, dict):
            vec = np.asarray(fields, dtype=float)
            if classifier is None:
                classifier = self.classifier_for(vec)
            fields = self.extensions(vec)
        P, c = (self.P0, self.c0) if classifier is None else (np.asarray(a, float) for a in classifier)
        M = positive_int(n_fine, "n_fine")     # int() made 2.7 two steps, True one
        h = self.network.T / M
        grids = {}
        for f in self.layout:
            if f.name not in fields:
                raise ValueError(f"fields must give {f.name!r}")
            grids[f.name] = _sample(fields[f.name], FieldSpec(f.name, 0, f.two_variable, f.point_shape,
                                                              np.ones((M + 1,) * (2 if f.two_variable else 1),
                                                                      bool)), M, h)
        fine = rebuild_network(self.network, grids, n_layers=M, rule=method)
        Z = self._features(self._outputs(fine, self.X)) @ P.T + c
        loss, _ = self._loss(Z)
        reg = 0.0
        if self.regularizer is not None:
            for f in self.layout:
                norm = _continuum_norm_two if f.two_variable else _continuum_norm_one
                reg += norm(grids[f.name], h, self.beta, self.regularizer)
        return {"J": loss + self.alpha * reg, "loss": loss, "regularizer": reg,
                "accuracy": self._accuracy(Z)}

    def continuum_value(self, fields, classifier=None, n_fine=256, method="trapezoid"):
        """J of continuum fields (see :meth:`continuum_terms`)."""
        return self.continuum_terms(fields, classifier, n_fine, method)["J"]

    def prolong(self, vector, objective):
        """``vector`` of this objective carried to ``objective`` (another depth, same family)
        through the piecewise linear extension of its fields: multilevel continuation.

        The fields must have the same names and point shapes; a non-local network's channel
        fields do not depend on the spatial resolution M, so its vector also carries over to
        another spatial rule (another M) of the same maps."""
        def shapes(layout):
            return [(f.name, f.two_variable, f.point_shape) for f in layout]
        a, b = objective.network, self.network
        if (a.family != b.family or shapes(objective.layout) != shapes(self.layout)
                or getattr(a, "k", None) != getattr(b, "k", None)):
            raise ValueError("continuation needs the same family, the same field shapes (width, "
                             "channels) and the same order k of a smooth net")
        ext = self.extensions(vector)
        net = objective.network
        theta = net.theta.copy()
        for f in objective.layout:
            f.grid(theta)[...] = _sample(ext[f.name], f, net.n_layers, net.h)
        classifier = self.classifier_for(vector)
        if classifier[0].shape != objective.P0.shape:
            classifier = None
        return objective.initial_vector(_with_theta(net, theta, objective.layout), classifier)

    def __repr__(self):
        return (f"Objective({self.network!r}, S={self.X.shape[0]}, loss={self.loss!r}, "
                f"alpha={self.alpha}, beta={self.beta}, regularizer={self.regularizer!r}, "
                f"size={self.size})")
