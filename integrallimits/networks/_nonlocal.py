r"""The dense non-local network: a residual-dense network whose layer operators are feature maps.

:class:`NonlocalDense` is the residual-dense network with the feature maps of
:mod:`integrallimits.networks.maps` as its layer operators, x_n = x_0 + h Σ_{j<n} σ(A_nj x_j + b_nj)
on states of shape (B, channels, M), defined (like every family) as a Volterra rule applied to a
compiled kernel (:mod:`._nonlocal_kernel`); that kernel carries its exact state Jacobian and its
vector-Jacobian product in the state and the channel fields, so the network trains with
:func:`integrallimits.control.train` like the other families, whatever its maps.
"""
from __future__ import annotations

import numpy as np

from .._memory import check_memory
from ..kernels import Kernel
from ..volterra import METHODS
from . import _roots
from ._activations import activation
from ._families import (VolterraNetwork, _as_grid, check_field_size, positive_int, reached,
                        real_array, refuse_misfits_of_inferred, refuse_solver_options,
                        requested_layers)
from ._kernels import pack, views
from ._nonlocal_kernel import HEADER, MAP_FIELDS, compiled_block_sum, compiled_kernel
from .maps import FeatureMap

__all__ = ["NonlocalDense"]


class NonlocalDense(VolterraNetwork):
    r"""Residual-dense network with non-local feature maps, states of shape (B, channels, M):

    .. math:: x_n = x_0 + h \sum_{j \le n} w_{nj}\, \sigma(A_{nj} x_j + b_{nj}),
              \qquad A_{nj} = \sum_r A^r \text{ with channel matrix } W^r(t_n, t_j),

    the Volterra rule w applied to K(t, s, x) = σ(A(t, s) x + b(t, s)) with x in
    R^{c M} (channel a at node ξ_p in component a M + p), the discretisation of

    .. math:: x(t, \xi) = x_0(\xi) + \int_0^t \sigma\Bigl(\sum_r W^r(t, s)
              \int_\Omega a_r(\xi, \eta)\, x(s, \eta)\, d\eta + b(t, s, \xi)\Bigr) ds.

    The maps' spatial operators are fixed; their channel-mixing matrices are the
    fields W^r(t, s) sampled at the layers (for an attention map, a_r depends on
    x(s) and W^r is its value matrix).  With the default "rectangle" rule this is
    the explicit network x_n = x_0 + h Σ_{j<n} σ(A_nj x_j + b_nj) (:meth:`recursion`,
    the same map written with the feature maps' ``apply``); any direct rule gives a
    network that equals ``solve_volterra(net.kernel(), ..., method=rule)``.
    Inside the compiled kernel a convolution acts through its dense M x M matrix.

    The network trains like the other families (:func:`~integrallimits.control.train`,
    :class:`~integrallimits.control.Objective`): its kernel carries the vector-Jacobian
    product in the state, the channel fields and the bias (for every kind of map, attention
    included), the trainable fields are ``W0, W1, ...`` (``W[r]`` on the triangle j < n) and
    ``b``, and the classifier acts on the channel means (:meth:`pooling_matrix`).

    Parameters
    ----------
    maps : FeatureMap or sequence of FeatureMap
        On one :class:`SpatialRule`, each with a square c x c channel matrix.
    W : array (N[+1], N[+1], c, c), callable W(t, s) -> (c, c), None, or a list of
        these (one per map)
        The channel fields; None keeps the map's own channel matrix at every layer.
    b : array (N[+1], N[+1], c[, M]), callable b(t, s) -> (c,) or (c, M), or None
        The bias (zero by default); with shape (c, M) it is a function of ξ.
    n_layers : int
        N; if not given, the length of the first axis of the first array among W and b (a
        W of the N+1 grid values t_0..t_N, as a built network's, needs n_layers=N).
    activation : {"tanh", "relu", "softplus", "sigmoid", "identity"}
    T : float
    rule : str
        A direct-quadrature method name ("rectangle" is the usual explicit network).

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import LocalMap, NystromMap, spatial_rule
    >>> grid = spatial_rule("gauss-legendre", 8)
    >>> maps = [LocalMap(grid, channels=2), NystromMap(lambda x, s: np.exp(-(x - s) ** 2), grid,
    ...                                                channels=2)]
    >>> net = NonlocalDense(maps, [lambda t, s: -np.eye(2), lambda t, s: (1 + t - s) * np.eye(2)],
    ...                     n_layers=4)
    >>> x0 = np.stack([np.sin(grid.nodes), np.cos(grid.nodes)])         # (c, M)
    >>> net.forward(x0).shape
    (1, 2, 8)
    >>> bool(np.allclose(net.forward(x0), net.recursion(x0)[:, -1], rtol=0, atol=1e-14))
    True
    """

    family = "nonlocal-dense"

    def __init__(self, maps, W=None, b=None, n_layers=None, activation="tanh", T=1.0,
                 rule="rectangle"):
        if isinstance(maps, FeatureMap):
            maps = [maps]
        elif isinstance(maps, (list, tuple)):
            maps = list(maps)
        if not isinstance(maps, list) or not maps or not all(isinstance(m, FeatureMap) for m in maps):
            raise TypeError("maps must be a FeatureMap or a non-empty sequence of FeatureMaps")
        grid = maps[0].grid
        for m in maps[1:]:
            if m.grid is not grid and not (m.grid.dim == grid.dim and m.grid.M == grid.M
                                           and np.array_equal(m.grid.nodes, grid.nodes)
                                           and np.array_equal(m.grid.weights, grid.weights)):
                raise ValueError("all maps must live on the same spatial rule")
        c = maps[0].in_channels
        for m in maps:
            if m.channel_matrix.shape != (c, c):
                raise ValueError(f"every map needs a square {c} x {c} channel matrix (the state "
                                 f"keeps its channels), got {m.channel_matrix.shape}")
        fields = list(W) if isinstance(W, (list, tuple)) else [W]
        if len(fields) != len(maps):
            raise ValueError(f"W must give one channel field per map ({len(maps)}), got {len(fields)}")
        n_layers = _infer_layers(n_layers, fields, b)
        super().__init__(c * grid.M, n_layers, T, rule, activation)
        self.maps, self.grid, self.channels, self.M = maps, grid, c, grid.M
        N = self.n_layers
        for r, f in enumerate(fields):
            check_field_size(N, True, (c, c), f"W[{r}]" if len(maps) > 1 else "W")
        self.W = [np.broadcast_to(m.channel_matrix, (N + 1, N + 1, c, c)).copy() if f is None
                  else _as_grid(f, N, True, (c, c), self.T, f"W[{r}]" if len(maps) > 1 else "W")
                  for r, (m, f) in enumerate(zip(maps, fields))]
        self.b = self._bias(b)
        self.theta = self._pack()
        # the fields are views of theta: edits in place reach the kernel, and edits of theta
        # show in the fields (and in :meth:`recursion`)
        *W, self.b = views(self.theta, self.field_offset, *self.W, self.b)
        self.W = tuple(W)

    def _bias(self, b):
        N, c, M = self.n_layers, self.channels, self.M
        if b is None:
            return np.zeros((N + 1, N + 1, c))
        if callable(b):
            try:
                value = np.shape(b(0.0, 0.0))
            except Exception as exc:   # the field's own error: raised, with where
                if hasattr(exc, "add_note"):
                    exc.add_note("raised by b(0.0, 0.0) (the field called at that point)")
                raise
        else:
            value = np.shape(b)[2:]
        if value not in ((c,), (c, M)):
            raise ValueError(f"b must give values of shape ({c},) or ({c}, {M}) per layer pair, "
                             f"got {value}")
        return _as_grid(b, N, True, value, self.T, "b")

    def _pack(self):
        R, M, c, N = len(self.maps), self.M, self.channels, self.n_layers
        compiled = [m._compiled() for m in self.maps]
        dk = max(k for _, _, k in compiled)
        if dk:      # the kernel's work space: an M x M block per map, at every call
            check_memory(8.0 * R * (4.0 * dk * M + float(M) ** 2 + M),
                         f"NonlocalDense with an AttentionMap on {M} nodes (its kernel's work "
                         f"space of {R} x {M} x {M} attention weights)")
        offset = HEADER + MAP_FIELDS * R
        descriptors, data = [], []
        for kind, values, dk in compiled:
            descriptors.append([kind, offset, 0, dk])
            data.append(values)
            offset += values.size
        for r in range(R):
            descriptors[r][2] = offset
            offset += (N + 1) ** 2 * c * c
        spatial_bias = self.b.ndim == 4
        header = [0.0, self.h, N, c, self._code, M, R, offset, float(spatial_bias)]
        return pack(header, np.array(descriptors, dtype=float), *data, *self.W, self.b)

    @property
    def field_offset(self):
        """Start in ``theta`` of the trainable fields: the channel fields W^0, W^1, ... (each
        (N+1, N+1, c, c)) and then the bias, contiguous up to the end of ``theta``."""
        return int(self.theta[HEADER + 2])

    def pooling_matrix(self):
        r"""The channel means :math:`\int_\Omega x_a(\xi)\, d\xi \approx \sum_p \omega_p x_a(\xi_p)`
        as a (c, c M) matrix acting on a flattened state (the resolution-independent readout
        of :class:`~integrallimits.control.Objective` for this family).

        Examples
        --------
        >>> from integrallimits.networks import LocalMap, spatial_rule
        >>> grid = spatial_rule("trapezoid", 2)
        >>> NonlocalDense(LocalMap(grid, channels=2), n_layers=1).pooling_matrix()
        array([[0.25, 0.5 , 0.25, 0.  , 0.  , 0.  ],
               [0.  , 0.  , 0.  , 0.25, 0.5 , 0.25]])
        """
        return np.kron(np.eye(self.channels), self.grid.weights[None, :])

    def kernel(self, batch=1):
        """The network's Kernel K(t, s, x) = σ(A(t, s) x + b(t, s)) on ``batch`` samples.

        The kernel carries its exact Jacobian in the state and the vector-Jacobian product
        in the state and the parameters (:func:`~integrallimits.networks._nonlocal_kernel.nonlocal_dense_vjp`:
        the channel fields W^r and the bias), so :func:`~integrallimits.control.discrete_adjoint`
        gives their exact gradient.  The kernel reads ``theta`` at every call: updating it in
        place retrains the network.
        """
        function, jacobian, vjp = compiled_kernel()
        return Kernel(function, batch * self.d, False, jacobian, compiled_block_sum(), "analytic",
                      structure={"kind": "network", "family": self.family, "t_independent": False},
                      name=self.family, params=self.theta, vjp_function=vjp)

    def states(self, X0, every=1, layers=None, **options):
        """The layer states for inputs X0 (B, c, M): x_0, x_k, ..., x_N (k = ``every``) or x_n
        for n in ``layers``, as :meth:`VolterraNetwork.states`, shaped (B, len, c, M).  (A
        dense network's layers read every earlier one: all are kept while it is solved.)"""
        N = self.n_layers
        keep, order = requested_layers(N, every, layers)
        X0 = self._check_inputs(X0, copies=lambda B: self._copies(B, keep.size, order.size))
        refuse_solver_options(options)
        B = X0.shape[0]
        options.setdefault("raise_on_failure", True)
        # implicit rules: Newton on one sample's (c M) unknowns at a time, not the whole batch's;
        # a ReLU network's implicit steps that are not contractions: their roots counted
        chunk = 1 if METHODS[self.rule].implicit else B
        steps = _roots.plan(self)       # (None for an explicit rule: solve_volterra itself)
        out = np.empty((B, keep.size, self.d))
        for start in range(0, B, chunk or 1):  # (no sample: the empty states, as the others')
            part = X0[start:start + chunk]
            sol = _roots.solve_checked(self, steps, self.kernel(len(part)), self.forcing(part),
                                       **options)
            ys = reached(sol, keep)
            out[start:start + len(part)] = ys.reshape(keep.size, len(part), self.d).transpose(1, 0, 2)
        return out[:, order].reshape(B, order.size, self.channels, self.M)

    def forward(self, X0, **options):
        """The output x_N for inputs X0 (B, c, M) or (c, M) -> (B, c, M)."""
        return self.states(X0, layers=[-1], **options)[:, 0]

    def recursion(self, X0):
        """The defining explicit recursion x_n = x_0 + h Σ_{j<n} σ(Σ_r A^r_nj x_j + b_nj),
        written with the maps' ``apply`` (FFT for convolutions); returns (B, N+1, c, M).

        This is the "rectangle" network whatever ``rule`` is.
        """
        X0 = self._check_inputs(X0, copies=lambda B: 2.0 * self.n_layers + 4.0).reshape(
            -1, self.channels, self.M)
        sigma = activation(self.activation)
        xs = [X0]
        for n in range(1, self.n_layers + 1):
            total = np.zeros_like(X0)
            for j in range(n):
                z = sum(m.with_channels(Wr[n, j]).apply(xs[j]) for m, Wr in zip(self.maps, self.W))
                bias = self.b[n, j] if self.b.ndim == 4 else self.b[n, j][:, None]
                total += sigma(z + bias)
            xs.append(X0 + self.h * total)
        return np.stack(xs, axis=1)

    def _check_inputs(self, X0, copies=None, single=False):
        """The inputs (B, c, M) or (c, M) as a float array (B, c M), checked (as
        :meth:`VolterraNetwork._check_inputs`)."""
        self._check_parameters()
        X0 = real_array(X0, "inputs", bools=False)
        c, M = self.channels, self.M
        if X0.ndim == 2:
            X0 = X0[None]
        if X0.ndim != 3 or X0.shape[1:] != (c, M):
            raise ValueError(f"inputs must have shape (B, {c}, {M}) or ({c}, {M}) (batch, channels, "
                             f"nodes), got {np.shape(X0)}")
        self._check_batch(X0.shape[0], copies, single)
        if not np.all(np.isfinite(X0)):
            raise ValueError("inputs contain NaN or inf")
        return X0.reshape(X0.shape[0], c * M)

    def __repr__(self):
        kinds = ", ".join(m.kind for m in self.maps)
        return (f"NonlocalDense(maps=[{kinds}], channels={self.channels}, M={self.M}, "
                f"n_layers={self.n_layers}, T={self.T}, rule={self.rule!r}, "
                f"activation={self.activation!r})")


def _infer_layers(n_layers, fields, b):
    """N: ``n_layers``, else the length of the first axis of the first array among the
    channel fields and b, which the other arrays must then fit (as for the other families)."""
    if n_layers is not None:   # (4.0 as the other families take it: it was refused here)
        return positive_int(n_layers, "n_layers")
    names = ["W"] if len(fields) == 1 else [f"W[{r}]" for r in range(len(fields))]
    arrays = [(name, np.shape(f)) for name, f in zip(names + ["b"], list(fields) + [b])
              if f is not None and not callable(f) and np.ndim(f) >= 2]
    if not arrays:
        raise ValueError("give n_layers when no W or b is an array")
    source, shape = arrays[0]
    n_layers = positive_int(shape[0], "n_layers")
    refuse_misfits_of_inferred(n_layers, source, arrays, 2)
    return n_layers

