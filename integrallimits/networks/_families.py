"""The network families, each a Volterra rule applied to a parameterised kernel.

The forward map of every family *is* ``solve_volterra`` with the family's kernel
(``integrallimits.networks._kernels``) and the chosen rule: with the default
"rectangle" rule this is the usual network, with "trapezoid" or "gregoryP" a
network whose layers mix earlier layers with those weights (an implicit layer,
solved by Newton, where w_nn != 0).  Batches of B inputs are one solve with a
state of B d components for explicit rules, one solve per sample otherwise.
"""
from __future__ import annotations

import inspect
import numbers
import warnings
from math import comb
from typing import TYPE_CHECKING, Callable, Union

import numpy as np

from .._inputs import refuse_bools, refuse_masked
from .._memory import check_memory
from ..kernels import Kernel
from ..volterra import METHODS, solve_volterra
from ..volterra._solution import SolverError
from . import _kernels, _roots
from ._activations import activation_code
from ._fields import sample_field

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    #: A parameter field: grid values, or a callable of t (ResNet) or (t, s) (dense).
    Field = Union[ArrayLike, Callable[..., ArrayLike]]

__all__ = ["VolterraNetwork", "ResNet", "ResidualDense", "ConcatDense", "SmoothNet"]

#: solve_volterra options a marching network honours (others: one solve_volterra, sliced)
_MARCH_OPTIONS = {"raise_on_failure", "newton_tol", "newton_maxiter"}


def check_field_size(n_layers, two_variable, shape, name):
    """Refuse, before a callable is sampled or anything allocated, a field whose grid values
    (N+1[, N+1], *shape) cannot fit in memory (held about three times while the network is
    built: the samples, the padded grid and ``theta``)."""
    count = float(n_layers + 1) ** (2 if two_variable else 1) * float(np.prod(shape, dtype=float))
    need = 3.0 * 8.0 * count
    grid = "(N+1, N+1, " if two_variable else "(N+1, "
    check_memory(need, f"{name} with n_layers = {n_layers} has {count:.3g} values "
                       f"{grid}{', '.join(map(str, shape))}) and")


def _as_grid(values, n_layers, two_variable, shape, T, name):
    """Grid values (N+1[, N+1], *shape) from an array or a callable field."""
    check_field_size(n_layers, two_variable, shape, name)
    if callable(values):
        values = sample_field(values, n_layers, T, two_variable, name=name)
    v = np.asarray(refuse_masked(values, name))
    refuse_bools(v, name)
    if v.dtype == object or not np.issubdtype(v.dtype, np.number):
        raise TypeError(f"{name} must hold real numbers, got dtype {v.dtype}")
    if np.iscomplexobj(v):
        raise TypeError(f"{name} must be real, got complex values")
    v = v.astype(float)
    lead = 2 if two_variable else 1
    if v.shape[lead:] != shape or any(k not in (n_layers, n_layers + 1) for k in v.shape[:lead]):
        want = "(N[+1], N[+1], " if two_variable else "(N[+1], "
        raise ValueError(f"{name} must have shape {want}{', '.join(map(str, shape))}) with "
                         f"N = {n_layers}, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or inf")
    # pad the last layer (rules reading t_N need it; the rectangle rule never does)
    for axis in range(lead):
        if v.shape[axis] == n_layers:
            v = np.concatenate([v, np.take(v, [-1], axis=axis)], axis=axis)
    return v


def _in(view, theta):
    """Is ``view`` an array in the memory of ``theta`` (a field of a built network)?"""
    return isinstance(view, np.ndarray) and theta is not None and np.shares_memory(view, theta)


def _assign(view, value, name):
    """Write ``value`` into ``view`` (a field of theta): same shape, real and finite."""
    v = np.asarray(refuse_masked(value, name))
    refuse_bools(v, name)
    if v.dtype == object or not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
        raise TypeError(f"{name} must hold real numbers, got dtype {v.dtype}")
    if v.shape != view.shape:
        raise ValueError(f"{name} has shape {view.shape} (the network's parameters); assign "
                         f"values of that shape, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} contains NaN or inf")
    view[...] = v


class _ThetaView(tuple):
    """(offset, shape) of a C-contiguous view of theta, as pickled by a network."""

    @classmethod
    def of(cls, view, theta):
        """The place of ``view`` in ``theta`` (None if it is not a C-contiguous float view)."""
        if view.dtype != theta.dtype or not view.flags.c_contiguous or not theta.flags.c_contiguous:
            return None
        start = view.__array_interface__["data"][0] - theta.__array_interface__["data"][0]
        offset, rest = divmod(start, theta.itemsize)
        if rest or offset < 0 or offset + view.size > theta.size:
            return None
        return cls((int(offset), tuple(view.shape)))

    def view(self, theta):
        offset, shape = self
        return theta[offset:offset + int(np.prod(shape, dtype=int))].reshape(shape)


class VolterraNetwork:
    """Base class: a network with N layers on [0, T] defined by a rule and a kernel.

    Subclasses set ``family`` and build ``self.theta`` (the flat parameters).
    """

    family: str
    t_independent = False
    #: the parameter fields, views of ``theta`` once it is built (a tuple of views for a
    #: :class:`NonlocalDense`'s channel fields)
    _FIELDS: tuple = ("W", "b")
    #: attributes fixed when the network is built: they are written into the structure
    #: entries of ``theta`` (step h, depth, width, activation code, ...) or into its packed
    #: data (the feature maps of a :class:`NonlocalDense`), which the kernel reads
    #: (and ``rule``, which decides the grid values used, read by an Objective's layout)
    _STRUCTURE: tuple = ("d", "n_layers", "T", "h", "activation", "_code", "k", "m", "maps",
                         "grid", "channels", "M", "rule")

    def __setattr__(self, name, value):
        """Assigning ``theta`` or a field of a built network writes the values into the
        parameters the kernel reads (with the field's shape), as an edit in place does;
        rebinding the name would detach it from the network.  The structure of a built
        network (``T``, ``n_layers``, ``activation``, ...) cannot be assigned another value:
        the kernel would go on with the old one (a new ``activation`` was ignored, a new
        ``T`` mixed two step sizes), and an :class:`~integrallimits.control.Objective` built
        on the network would keep the grid values its ``rule`` used."""
        if "theta" in self.__dict__ and name in self._STRUCTURE and name in self.__dict__:
            current = self.__dict__[name]
            same = current is value or (
                isinstance(current, str) and isinstance(value, str) and current == value) or (
                isinstance(current, numbers.Real) and isinstance(value, numbers.Real)
                and not isinstance(value, bool) and current == value)
            if same:
                return      # (keeps the built type: n_layers = 4.0 leaves the int 4)
            raise AttributeError(
                f"{name} of a built {type(self).__name__} cannot be changed (it is part of "
                f"the network's structure, which its kernel reads from theta); build a new "
                f"network, e.g. integrallimits.control.rebuild_network(net, T=..., "
                f"n_layers=..., rule=...) for another T, depth or rule")
        if name == "theta" or name in self._FIELDS:
            current, theta = self.__dict__.get(name), self.__dict__.get("theta")
            if isinstance(current, tuple) and all(_in(view, theta) for view in current):
                if not isinstance(value, (list, tuple)) or len(value) != len(current):
                    raise ValueError(f"{name} must be a sequence of {len(current)} fields, got "
                                     f"{type(value).__name__}")
                for r, (view, v) in enumerate(zip(current, value)):
                    _assign(view, v, f"{name}[{r}]")
                return
            if _in(current, theta):
                if name == "theta":
                    self._check_structure(value)
                _assign(current, value, name)
                return
        object.__setattr__(self, name, value)

    @property
    def field_offset(self):
        """Start in ``theta`` of the parameter fields: the entries before it are the
        network's structure (the step h, depth, width, activation code, ...), which the
        kernel reads from ``theta`` too."""
        return len(self._header())

    def _check_structure(self, value):
        """Refuse ``theta`` values whose structure entries differ from this network's (the
        theta of a network with another T, depth or activation): the kernel would run with
        them while ``T``, ``h`` and ``activation`` said otherwise."""
        v, k = np.asarray(value), self.field_offset
        if v.shape == self.theta.shape and v.dtype.kind in "biuf" and \
                not np.array_equal(v[:k].astype(float), self.theta[:k]):
            raise ValueError(f"theta[:{k}] holds the network's structure (step h, depth, width, "
                             f"activation, ...), not parameters, and the values assigned differ "
                             f"there: build a network with the other T, depth or activation, or "
                             f"assign the parameters only (theta[{k}:] or the fields)")

    def __copy__(self):
        """``copy.copy``: a network sharing everything, ``theta`` included (as before: the
        pickling state below is for copies with a theta of their own)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __getstate__(self):
        """Pickling and ``copy.deepcopy``: the fields (views of ``theta``) are stored as their
        place in theta and made views of the copy's theta again by :meth:`__setstate__`.
        They were copied as arrays of their own: an edit or assignment of the copy's ``W``
        changed nothing its forward map reads, and the kernels cached for the original's
        theta are not kept."""
        state = dict(self.__dict__)
        state.pop("_kernel_cache", None)
        theta = state.get("theta")
        if isinstance(theta, np.ndarray):
            for name, value in self.__dict__.items():
                if isinstance(value, tuple) and value and all(_in(v, theta) for v in value):
                    places = tuple(_ThetaView.of(v, theta) for v in value)
                    if all(p is not None for p in places):
                        state[name] = places
                elif name != "theta" and _in(value, theta):
                    place = _ThetaView.of(value, theta)
                    if place is not None:
                        state[name] = place
        return state

    def __setstate__(self, state):
        theta = state.get("theta")
        for name, value in list(state.items()):
            if isinstance(value, _ThetaView):
                state[name] = value.view(theta)
            elif isinstance(value, tuple) and value and \
                    all(isinstance(v, _ThetaView) for v in value):
                state[name] = tuple(v.view(theta) for v in value)
        self.__dict__.update(state)

    def _rebind(self, theta, fields):
        """Make ``theta`` (and the views in ``fields``, a dict name -> view) this network's
        own parameters: for the copies of :func:`integrallimits.control` that share
        everything but theta with their template."""
        object.__setattr__(self, "theta", theta)
        for name, view in fields.items():
            object.__setattr__(self, name, view)

    def __init__(self, d, n_layers, T, rule, activation):
        n_layers, d = positive_int(n_layers, "n_layers"), positive_int(d, "d")
        if isinstance(T, bool) or not isinstance(T, numbers.Real) or not (np.isfinite(T) and T > 0):
            raise ValueError(f"T must be a positive float, got {T!r}")
        _check_rule(rule, n_layers)
        self.d, self.n_layers, self.T, self.rule = int(d), int(n_layers), float(T), rule
        self.activation = activation
        self.h = self.T / self.n_layers
        self._code = activation_code(activation)

    def _header(self, extra=0.0):
        return [0.0, self.h, self.n_layers, self.d, self._code, extra]

    def kernel(self, batch=1):
        """The family's Kernel acting on a batch of ``batch`` samples (state B d).

        Cached per batch size while ``theta`` is the same array (updating theta in place,
        as training does, keeps the kernel valid: it reads theta at every call).
        """
        cache = self.__dict__.setdefault("_kernel_cache", {})
        key = (batch, id(self.theta))
        cached = cache.get(key)
        if cached is not None and cached.params is self.theta:
            return cached
        function, jacobian, vjp = _kernels.family_functions(self.family)
        kernel = cache[key] = Kernel(
            function, batch * self.d, False, jacobian, _kernels.block_sum(self.family), "analytic",
            structure={"kind": "network", "family": self.family,
                       "t_independent": self.t_independent},
            name=self.family, params=self.theta, vjp_function=vjp)
        return kernel

    def forcing(self, x0):
        """g(t) for the input x0 (B, d) flattened: x0 itself (the identity embedding)."""
        flat = np.ascontiguousarray(x0, dtype=float).ravel()
        return lambda t: flat

    def solve(self, x0, **options):
        """``solve_volterra`` for one input x0 (d,): the network's forward pass as a Solution.

        A ReLU network on an implicit rule whose implicit step (not a contraction) has several
        roots fails there (``stats["failure"]`` "several-roots";
        :mod:`integrallimits.networks._roots`): the rule does not define that layer; one whose
        step equation has no root fails "no-root".  Steps whose roots could not be counted are
        named in a success's message.
        ``raise_on_failure`` is False unless given."""
        batch = self._check_inputs(x0, single=True)
        refuse_solver_options(options, allow_t_eval=True)
        x0 = batch[0]
        steps = _roots.plan(self)
        if steps is None:
            return solve_volterra(self.kernel(1), self.forcing(x0[None, :]), (0.0, self.T),
                                  self.n_layers, method=self.rule, **options)
        raise_on_failure = options.pop("raise_on_failure", False)
        sol = _roots.checked(self, solve_volterra(
            self.kernel(1), self.forcing(x0[None, :]), (0.0, self.T), self.n_layers,
            method=self.rule, raise_on_failure=False, **options), steps, options.get("t_eval"))
        if raise_on_failure and not sol.success:
            raise SolverError(sol.message)
        return sol

    def states(self, X0: ArrayLike, every: int = 1, layers: ArrayLike | None = None,
               **options) -> np.ndarray:
        """The layer states of a batch: x_0, x_k, x_2k, ..., x_N (k = ``every``; x_N always)
        or x_n for n in ``layers``.

        A t-independent network on the rectangle rule (the ResNet,
        x_n = x_{n-1} + h K(x_{n-1})) keeps only the requested states while it is solved:
        the rule's loop marches with the last two states in a ring
        (:meth:`~integrallimits.volterra.DirectQuadrature.march`), the same values as
        ``solve_volterra`` (bitwise) in O(B d) memory besides the output.  Other networks
        keep every state while they are solved and return the requested ones.

        Parameters
        ----------
        X0 : array (B, d) or (d,)
            The inputs x_0.
        every : int >= 1, optional
            Keep every k-th layer (and the last).
        layers : array_like of int, optional
            The layer indices n to return, in [-(N+1), N] (negative ones count from the end,
            as NumPy indices: -1 is x_N), in any order, repeats allowed; instead of
            ``every``.
        **options
            Passed to ``solve_volterra`` (``raise_on_failure`` is True unless given).

        Returns
        -------
        array (B, ceil(N / k) + 1, d), or (B, len(layers), d)

        Raises
        ------
        ValueError
            For inputs of another width or with NaN/inf, ``every`` not an integer >= 1,
            ``layers`` not integers within range, or both ``every`` and ``layers`` given.

        Examples
        --------
        The identity-activation ResNet with W = -I is Euler's method for x' = -x:

        >>> import numpy as np
        >>> net = ResNet(-np.tile(np.eye(2), (8, 1, 1)), np.zeros((8, 2)), activation="identity")
        >>> x = net.states(np.ones((3, 2)), layers=[4, -1])
        >>> x.shape
        (3, 2, 2)
        >>> bool(np.allclose(x[:, 1], (1 - 1 / 8) ** 8, rtol=1e-15))
        True
        """
        N = self.n_layers
        keep, order = requested_layers(N, every, layers)
        X0 = self._check_inputs(X0, copies=lambda B: self._copies(B, keep.size, order.size))
        refuse_solver_options(options)
        options.setdefault("raise_on_failure", True)
        B = X0.shape[0]
        if B == 0:      # (no sample: a solve of a state of size 0 was refused about g(t))
            return np.empty((0, order.size, self.d))
        if self._marches() and options["raise_on_failure"] and set(options) <= _MARCH_OPTIONS:
            ys, _ = METHODS["rectangle"].march(self.kernel(B), X0, (0.0, self.T), N, keep,
                                               options.get("newton_tol", 1e-12),
                                               options.get("newton_maxiter", 50))
        elif not METHODS[self.rule].implicit:
            ys = reached(solve_volterra(self.kernel(B), self.forcing(X0), (0.0, self.T), N,
                                        method=self.rule, **options), keep)
        else:   # Newton on one sample's d unknowns at a time, not on the batch's B d
            kernel = self.kernel(1)
            ys = np.empty((keep.size, B * self.d))
            # (a ReLU network's implicit steps that are not contractions: their roots counted)
            steps = _roots.plan(self)
            for b in range(B):
                sol = _roots.solve_checked(self, steps, kernel, self.forcing(X0[b:b + 1]),
                                           **options)
                ys[:, b * self.d:(b + 1) * self.d] = reached(sol, keep)
        out = np.empty((B, order.size, self.d))
        for i, n in enumerate(order):          # row by row: no third copy of the states
            out[:, i] = ys[n].reshape(B, self.d)
        return out

    def forward(self, X0: ArrayLike, **options) -> np.ndarray:
        """The output x_N for a batch X0 (B, d) -> (B, d): :meth:`states` with
        ``layers=[-1]`` (a ResNet keeps no other state while it is solved)."""
        return self.states(X0, layers=[-1], **options)[:, 0]

    def _copies(self, B, kept, returned):
        """About how many arrays of B d floats :meth:`states` holds for a batch of B: the
        contiguous inputs, the ``kept`` layers, the ``returned`` rows and the states of the
        solve (two in a ring when the rule marches, N + 1 in one solve of the batch with an
        explicit rule; an implicit rule solves one sample at a time)."""
        if self._marches():
            held = 2.0
        elif not METHODS[self.rule].implicit:
            held = self.n_layers + 1.0
        else:
            held = 0.0
        return 1.0 + kept + returned + held

    def _marches(self):
        """Can the rule's loop march with a ring of states?  It needs a t-independent kernel
        (its history is the running sum of the K_j), the identity forcing, and, for a batch
        of B samples solved as one state of B d, an explicit rule (the rectangle rule)."""
        return self.t_independent and self.rule == "rectangle" and \
            type(self).forcing is VolterraNetwork.forcing

    def _check_parameters(self):
        """Refuse parameters made NaN or inf after the network was built (an edit in place of
        ``theta`` or of a field, which no assignment sees), naming the first such entry: the
        solve failed as a blow-up with no word of the parameter, or an inf weight saturated
        the activation into a finite output.  One pass over ``theta``, once per forward call.

        Raises
        ------
        ValueError
            Naming the field and index (``W[1, 0, 0]``) of the first non-finite parameter.
        """
        theta, start = self.theta, self.field_offset
        if np.isfinite(theta[start:]).all():
            return
        flat = start + int(np.flatnonzero(~np.isfinite(theta[start:]))[0])
        where = f"theta[{flat}]"
        for label, view in self._labelled_views():
            bad = np.argwhere(~np.isfinite(view)) if _in(view, theta) else ()
            if len(bad):
                where = f"{label}[{', '.join(str(int(i)) for i in bad[0])}]"
                break
        raise ValueError(f"the parameter {where} of this {type(self).__name__} is "
                         f"{theta[flat]} (theta[{flat}]): a network's parameters must be "
                         f"finite; assign finite values (an edit in place of theta or of a "
                         f"field is not checked when it is made)")

    def _labelled_views(self):
        """(label, view) for each field view: ``W``, or ``W[r]`` for the r-th of a tuple."""
        for name in self._FIELDS:
            value = self.__dict__.get(name)
            if isinstance(value, tuple):
                yield from ((f"{name}[{r}]", view) for r, view in enumerate(value))
            else:
                yield name, value

    def _check_inputs(self, X0, copies=None, single=False):
        """The inputs as a float array (B, d), checked; and the parameters
        (:meth:`_check_parameters`), once per call of the forward map.

        ``copies(B)``: how many arrays of B d floats the call holds; a batch whose arrays
        cannot fit is a ``MemoryError`` before any work (a batch of 10^9 inputs spent 40 s
        checking them, then met NumPy's allocation error).  ``single``: refuse a batch of
        more than one sample (:meth:`solve`) before the inputs are scanned."""
        self._check_parameters()
        X0 = real_array(X0, "inputs", bools=False)
        if X0.ndim == 1:
            X0 = X0[None, :]
        if X0.ndim != 2 or X0.shape[1] != self.d:
            raise ValueError(f"inputs must have shape (B, {self.d}) or ({self.d},), got {X0.shape}")
        self._check_batch(X0.shape[0], copies, single)
        if not np.all(np.isfinite(X0)):
            raise ValueError("inputs contain NaN or inf")
        return X0

    def _check_batch(self, B, copies, single):
        """Refuse a batch of ``B`` samples that :meth:`solve` cannot take (``single``), or whose
        ``copies(B)`` arrays of B d floats cannot fit in memory."""
        if single and B != 1:   # it solved the first sample and dropped the others
            raise ValueError(f"solve takes one input (a Solution for one sample), got a batch of "
                             f"{B}; use states or forward for a batch, or solve(X0[i])")
        if copies is not None and B:
            check_memory(8.0 * B * self.d * copies(B),
                         f"a batch of {B} inputs of width {self.d} (its states held "
                         f"{copies(B):.3g} times while the network of {self.n_layers} layers "
                         f"is solved)")

    def __repr__(self):
        return (f"{type(self).__name__}(d={self.d}, n_layers={self.n_layers}, T={self.T}, "
                f"rule={self.rule!r}, activation={self.activation!r})")


class ResidualDense(VolterraNetwork):
    r"""Residual-dense network (the dense non-local model)

    .. math:: x_n = x_0 + h \sum_{j \le n} w_{nj}\, \sigma(W_{nj} x_j + b_{nj}),

    the rule w applied to K(t, s, x) = sigma(W(t, s) x + b(t, s)).

    Parameters
    ----------
    W : array (N[+1], N[+1], d, d) or callable W(t, s) -> (d, d)
        A callable is sampled on the layer times when the network is built; the network
        keeps those samples.
    b : array (N[+1], N[+1], d) or callable b(t, s) -> (d,)
    n_layers : int, optional
        N (needed when W is a callable field).  Without it, N is the length of W's first
        axis: a W holding the N+1 grid values t_0..t_N (as a built network's ``W`` does)
        needs ``n_layers=N``, else it builds N+1 layers.
    d : int, optional
        The state dimension (needed when W is a callable field; else W's, which a given
        ``d`` must equal).
    activation : {"tanh", "relu", "softplus", "sigmoid"}
    T : float
    rule : str
        A direct-quadrature method name; "rectangle" is the usual explicit network.

    Raises
    ------
    ValueError
        For a non-integer or non-positive ``n_layers``, a non-positive ``T``, a ``rule``
        that is not a direct-quadrature method or needs more steps than ``n_layers``
        (gregory4: 3), an unknown ``activation``, fields whose shapes do not match
        (N[+1], ..., d, d) (the message names the field; without ``n_layers`` it says that
        N was taken from W's first axis), or a ``d`` other than W's.

    See Also
    --------
    ResNet : the t-independent (ODE) case.
    ConcatDense : the Hammerstein (classic DenseNet) form.
    integrallimits.solve_volterra : the same computation, which the network reproduces.

    Examples
    --------
    >>> import numpy as np
    >>> net = ResidualDense(lambda t, s: -np.eye(2) * (1 + t - s), lambda t, s: np.zeros(2),
    ...                     n_layers=16, d=2)
    >>> net.forward(np.array([[1.0, 0.5]])).shape
    (1, 2)
    """

    family = "residual-dense"

    def __init__(self, W: Field, b: Field, n_layers: int | None = None, d: int | None = None,
                 activation: str = "tanh", T: float = 1.0, rule: str = "rectangle") -> None:
        n_layers, d = _infer(W, n_layers, d, two_variable=True, b=b)
        super().__init__(d, n_layers, T, rule, activation)
        self.W = _as_grid(W, n_layers, True, (d, d), T, "W")
        self.b = _as_grid(b, n_layers, True, (d,), T, "b")
        self.theta = _kernels.pack(self._header(), self.W, self.b)
        self.W, self.b = _kernels.views(self.theta, len(self._header()), self.W, self.b)


class ResNet(VolterraNetwork):
    r"""ResNet :math:`x_n = x_{n-1} + h\,\sigma(W_{n-1} x_{n-1} + b_{n-1})`.

    The rule applied to the t-independent kernel K(s, x) = sigma(W(s) x + b(s)); the
    solvers sum it in O(N).  Other rules give implicit ResNet variants
    (trapezoid: x_n = x_{n-1} + h/2 (K_{n-1} + K_n)).

    Parameters
    ----------
    W : array (N[+1], d, d) or callable W(t) -> (d, d)
        The weights of layer n are W(t_n); a callable is sampled on the layer times when
        the network is built, and the network keeps those samples (a value the callable
        reads that changes later does not change this network: build a new one).
    b : array (N[+1], d) or callable b(t) -> (d,)
        The biases, sampled in the same way.
    n_layers, d, activation, T, rule
        As for :class:`ResidualDense`.

    Raises
    ------
    ValueError
        For a non-integer or non-positive ``n_layers``, a non-positive ``T``, a ``rule``
        that is not a direct-quadrature method or needs more steps than ``n_layers``
        (gregory4: 3), an unknown ``activation``, fields whose shapes do not match
        (N[+1], ..., d, d) (the message names the field; without ``n_layers`` it says that
        N was taken from W's first axis), or a ``d`` other than W's.

    See Also
    --------
    ResidualDense : weights W(t, s) depending on the earlier layer too.
    SmoothNet : k-th order differences, k^2 fewer weights for the same state dimension.

    Examples
    --------
    With W = -I and b = 0 (identity activation) every layer multiplies by 1 - h, as the
    explicit Euler steps of x' = -x:

    >>> import numpy as np
    >>> net = ResNet(lambda t: -np.eye(2), lambda t: np.zeros(2), n_layers=8, d=2,
    ...              activation="identity")
    >>> x = net.forward(np.array([[1.0, 2.0]]))
    >>> bool(np.allclose(x, np.array([[1.0, 2.0]]) * (1 - 1 / 8) ** 8, rtol=1e-14))
    True
    """

    family = "resnet"
    t_independent = True

    def __init__(self, W: Field, b: Field, n_layers: int | None = None, d: int | None = None,
                 activation: str = "tanh", T: float = 1.0, rule: str = "rectangle") -> None:
        n_layers, d = _infer(W, n_layers, d, two_variable=False, b=b)
        super().__init__(d, n_layers, T, rule, activation)
        self.W = _as_grid(W, n_layers, False, (d, d), T, "W")
        self.b = _as_grid(b, n_layers, False, (d,), T, "b")
        self.theta = _kernels.pack(self._header(), self.W, self.b)
        self.W, self.b = _kernels.views(self.theta, len(self._header()), self.W, self.b)


class ConcatDense(VolterraNetwork):
    r"""Concatenation-dense network (classic DenseNet), pre-activations z:

    .. math:: z_n = x_0 + h \sum_{j \le n} w_{nj} W_{nj}\, \sigma(z_j)

    (Hammerstein form of z(t) = x0 + int_0^t W(t, s) sigma(z(s)) ds).

    Parameters
    ----------
    W : array (N[+1], N[+1], d, d) or callable W(t, s) -> (d, d)
    n_layers, d, activation, T, rule
        As for :class:`ResidualDense`.

    Raises
    ------
    ValueError
        For a non-integer or non-positive ``n_layers``, a non-positive ``T``, a ``rule``
        that is not a direct-quadrature method or needs more steps than ``n_layers``
        (gregory4: 3), an unknown ``activation``, or fields whose shapes do not match
        (N[+1], ..., d, d) (the message names the field).

    See Also
    --------
    ResidualDense : the additive (Urysohn) form.
    """

    family = "concat-dense"

    def __init__(self, W: Field, n_layers: int | None = None, d: int | None = None,
                 activation: str = "tanh", T: float = 1.0, rule: str = "rectangle") -> None:
        n_layers, d = _infer(W, n_layers, d, two_variable=True)
        super().__init__(d, n_layers, T, rule, activation)
        self.W = _as_grid(W, n_layers, True, (d, d), T, "W")
        self.theta = _kernels.pack(self._header(), self.W)
        self.W, = _kernels.views(self.theta, len(self._header()), self.W)


class SmoothNet(VolterraNetwork):
    r"""Smooth k-th order network :math:`\Delta^k x_n = h^k \sigma(W_n x_n + b_n)`.

    Unrolled, x_n = sum_{i<k} C(n, i) Delta^i x_0 + h^k sum_{j <= n-k} C(n-j-1, k-1) f(x_j),
    i.e. the rule applied to the kernel h^(k-1) C(n-j-1, k-1) sigma(W_j x + b_j), which
    tends to (t - s)^(k-1) / (k-1)! sigma(W(s) x + b(s)).  With the rectangle rule the
    forward map equals the state-space recursion :meth:`state_space` (tested).

    Parameters
    ----------
    k : int >= 1
    W, b, n_layers, d, activation, T, rule
        As for :class:`ResNet`.
    initial_differences : array (k-1, d), optional
        Delta^1 x_0 ... Delta^{k-1} x_0 (zero by default).

    Raises
    ------
    ValueError
        For k not an integer >= 1, a non-integer or non-positive ``n_layers``, a
        non-positive ``T``, a ``rule`` that is not a direct-quadrature method or needs more
        steps than ``n_layers``, an unknown ``activation``, or fields whose shapes do not
        match (N[+1], ..., d, d) (the message names the field).

    See Also
    --------
    ResNet : the first-order case k = 1.
    """

    family = "smooth"

    def __init__(self, k: int, W: Field, b: Field, n_layers: int | None = None, d: int | None = None,
                 activation: str = "tanh", T: float = 1.0, rule: str = "rectangle",
                 initial_differences: ArrayLike | None = None) -> None:
        k = positive_int(k, "k")     # (k = inf or nan: OverflowError / a NumPy message)
        n_layers, d = _infer(W, n_layers, d, two_variable=False, b=b)
        super().__init__(d, n_layers, T, rule, activation)
        self.k = int(k)
        self.W = _as_grid(W, n_layers, False, (d, d), T, "W")
        self.b = _as_grid(b, n_layers, False, (d,), T, "b")
        diffs = np.zeros((self.k - 1, d)) if initial_differences is None else \
            real_array(initial_differences, "initial_differences", bools=False).copy()
        if diffs.shape != (self.k - 1, d):
            raise ValueError(f"initial_differences must have shape ({self.k - 1}, {d}), "
                             f"got {diffs.shape}")
        if not np.all(np.isfinite(diffs)):
            raise ValueError("initial_differences contains NaN or inf")
        self.initial_differences = diffs
        self.theta = _kernels.pack(self._header(self.k), self.W, self.b)
        self.W, self.b = _kernels.views(self.theta, len(self._header()), self.W, self.b)

    def forcing(self, x0):
        """g_n = sum_{i<k} C(n, i) Delta^i x_0 (for each sample of x0 (B, d))."""
        x0 = np.asarray(x0, dtype=float)
        diffs = self.initial_differences
        h = self.h

        def g(t):
            n = int(round(t / h))
            val = x0.copy()
            for i in range(1, self.k):
                val = val + comb(n, i) * diffs[i - 1][None, :]
            return val.ravel()
        return g

    def state_space(self, X0):
        """The defining recursion z_{n+1} = (J_k kron I) z_n + (e_k kron I) h^k f(x_n), z =
        (x, Delta x, ..., Delta^{k-1} x); returns the states x_0..x_N (B, N+1, d)."""
        X0 = self._check_inputs(X0, copies=lambda B: self.n_layers + 2.0 + 3.0 * self.k)
        B, d, k, h = X0.shape[0], self.d, self.k, self.h
        from ._activations import activation as act_np
        sigma = act_np(self.activation)
        z = np.zeros((B, k, d))
        z[:, 0] = X0
        z[:, 1:] = self.initial_differences[None]
        out = np.empty((B, self.n_layers + 1, d))
        out[:, 0] = X0
        for n in range(self.n_layers):
            f = sigma(z[:, 0] @ self.W[n].T + self.b[n])
            new = z.copy()
            new[:, :k - 1] = z[:, :k - 1] + z[:, 1:]  # J_k: upper bidiagonal of ones
            new[:, k - 1] = z[:, k - 1] + h ** k * f
            z = new
            out[:, n + 1] = z[:, 0]
        return out


def _check_rule(rule, n_layers):
    """Refuse a ``rule`` that is not a direct-quadrature method name, or ``n_layers`` fewer
    than its minimum steps (gregory4 needs 3: such a network was built and refused only
    when solved)."""
    if not isinstance(rule, str) or rule not in METHODS or METHODS[rule].family != "direct":
        direct = [m for m, meth in METHODS.items() if meth.family == "direct"]
        raise ValueError(f"rule must be one of {', '.join(direct)}, got {rule!r}")
    if n_layers < METHODS[rule].min_steps:
        raise ValueError(f"rule {rule!r} needs n_layers >= {METHODS[rule].min_steps} (the "
                         f"method's minimum number of steps), got {n_layers}")


#: solve_volterra options that would redefine the network (its rule, depth, T, equation)
_STRUCTURE_OPTIONS = ("t_span", "n_steps", "method", "mesh", "kind", "rtol", "atol")


def refuse_solver_options(options, allow_t_eval=False):
    """Refuse the solver options a network's forward map cannot take: ``t_eval`` in
    ``states``/``forward``, which keep layers (``layers=``, ``every=``; passed on to the solver
    it replaced the mesh values the layers are read from, an ``IndexError``), and everywhere
    the options that would redefine the network: ``t_span``, ``n_steps``, ``method`` and
    ``mesh`` (the network's T, depth and rule; they were a ``TypeError`` of ``solve_volterra``
    about "multiple values"), ``rtol``/``atol`` (an adaptive mesh instead of the layers: "give
    either a tolerance or n_steps/mesh", which the caller had not given) and ``kind``."""
    # (a misspelt option was "solve_volterra() got an unexpected keyword argument")
    known = [name for name, p in inspect.signature(solve_volterra).parameters.items()
             if p.kind is p.KEYWORD_ONLY and name not in _STRUCTURE_OPTIONS]
    unknown = [name for name in options if name not in known and name not in _STRUCTURE_OPTIONS]
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}: a network's solve, states "
                        f"and forward take the options of solve_volterra ({', '.join(known)})")
    if "t_eval" in options and not allow_t_eval:
        raise ValueError("t_eval is not an option of a network's states or forward: give "
                         "layers= (the layer indices to keep), or use net.solve(x0, t_eval=...) "
                         "for the values at other times")
    given = [name for name in _STRUCTURE_OPTIONS if name in options]
    if given:
        raise ValueError(f"{', '.join(given)} cannot be given to a network's forward map: its "
                         f"rule, depth n_layers and T define the solve (the layers are the "
                         f"mesh); build another network for other ones, e.g. "
                         f"integrallimits.control.rebuild_network(net, rule=..., "
                         f"n_layers=..., T=...)")


def requested_layers(N, every, layers):
    """The layers :meth:`VolterraNetwork.states` returns for ``every`` / ``layers`` (checked):
    ``keep`` (sorted, unique indices in 0..N) and ``order`` (the output row n is keep[order[n]])."""
    every = positive_int(every, "every")
    if layers is None:
        wanted = np.r_[0:N:every, N]
    elif every != 1:
        raise ValueError("give every or layers, not both")
    else:
        wanted = np.asarray(layers)
        if wanted.ndim != 1 or wanted.dtype.kind not in "iu" or wanted.size == 0 or \
                np.any(wanted < -(N + 1)) or np.any(wanted > N):
            raise ValueError(f"layers must be a non-empty sequence of integers in "
                             f"[{-(N + 1)}, {N}], got {layers!r}")
        wanted = wanted % (N + 1)
    return np.unique(wanted, return_inverse=True)


def reached(sol, keep):
    """``sol.y[keep]`` of a network's solve; a solve that failed (``raise_on_failure=False``)
    has values only up to where it stopped: the layers past it are NaN, with a
    :class:`RuntimeWarning` carrying the solver's message (the states are returned without
    the Solution, whose status would say so)."""
    if sol.status == 0:
        return sol.y[keep]
    out = np.full((keep.size,) + sol.y.shape[1:], np.nan)
    valid = keep < sol.y.shape[0]
    out[valid] = sol.y[keep[valid]]
    warnings.warn(f"{sol.message} The layers it did not reach are NaN.", RuntimeWarning,
                  stacklevel=3)
    return out


def real_array(value, name, bools=True):
    """``value`` as a float array; ``TypeError`` naming ``name`` for complex values (a cast
    to float keeps their real parts with no more than NumPy's ``ComplexWarning``: a
    complex-step derivative of a network or of J_N came out as zero), and for text (the cast
    read inputs ["0.3", "-0.2"] as numbers).  ``bools=False`` (a network's inputs and
    weights): an array of bools is refused too (:func:`refuse_bools`)."""
    v = np.asarray(refuse_masked(value, name))
    if not bools:
        refuse_bools(v, name)
    if np.iscomplexobj(v):
        raise TypeError(f"{name} must be real, got complex values")
    if v.dtype.kind in "US" or (v.dtype == object and any(isinstance(e, (str, bytes))
                                                          for e in v.reshape(-1))):
        raise TypeError(f"{name} must hold real numbers, got dtype {v.dtype}"
                        + (" holding text" if v.dtype == object else ""))
    return np.asarray(v, dtype=float)


def positive_int(value, name):
    """``value`` as an int if it is a whole number >= 1 (4 or 4.0, not 4.5, True or nan);
    else ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not float(value).is_integer() or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _infer(W, n_layers, d, two_variable, b=None):
    """(n_layers, d) of a family's fields W (and b).

    A callable W needs both given.  For an array W, d is the length of its last axes (a
    ``d`` given with another value is refused: it was ignored) and N, unless given, the
    length of its first axis: the fields' axes over the layers must then hold N or N+1
    values, or the error says that N was taken from W and that a W of N+1 grid values
    (a built network's ``W``) needs ``n_layers``."""
    if callable(W):
        if n_layers is None or d is None:
            raise ValueError("give n_layers and d when W is a callable field")
        return positive_int(n_layers, "n_layers"), positive_int(d, "d")
    shape = np.shape(W)
    lead = 2 if two_variable else 1
    if len(shape) != lead + 2 or shape[-1] != shape[-2]:
        raise ValueError(f"W must be an array of shape {'(N, N, d, d)' if two_variable else '(N, d, d)'}"
                         f" or a callable, got shape {shape}")
    if d is not None and positive_int(d, "d") != shape[-1]:
        raise ValueError(f"d = {d} disagrees with W of shape {shape} (d = {shape[-1]}): give "
                         f"W of shape (..., {d}, {d}) or leave d out")
    if n_layers is not None:
        return positive_int(n_layers, "n_layers"), int(shape[-1])
    n_layers = positive_int(shape[0], "n_layers")
    fields = [("W", shape)] + ([("b", np.shape(b))] if b is not None and not callable(b) else [])
    refuse_misfits_of_inferred(n_layers, "W", fields, lead)
    return n_layers, int(shape[-1])


def refuse_misfits_of_inferred(n_layers, source, fields, lead):
    """Refuse fields that do not fit N = ``n_layers``, taken (no n_layers given) from the
    first axis of the field named ``source``: ``fields`` are (name, shape) pairs whose first
    ``lead`` axes run over the layers and must hold N or N+1 values; the message says where
    N came from and that a W of N+1 grid values needs ``n_layers``."""
    for name, field in fields:
        if len(field) > lead and any(k not in (n_layers, n_layers + 1) for k in field[:lead]):
            raise ValueError(
                f"n_layers is not given, so N = {n_layers} (the length of {source}'s first "
                f"axis), but {name} has shape {field}: its axes over the layers must hold N or "
                f"N+1 values; give n_layers (a W holding the N+1 grid values t_0..t_N, as a "
                f"built network's W does, needs n_layers=N)")
