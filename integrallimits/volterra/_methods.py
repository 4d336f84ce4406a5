"""Volterra methods as data plus a small class per family, and the METHODS registry.

A method turns (compiled kernel, forcing, mesh) into mesh values.  The contract
a family class meets (cf. ``scipy.integrate.OdeSolver``):

* ``name``, ``order`` (the order at the mesh points for smooth data),
  ``implicit``, ``family``, ``min_steps``, ``uniform_only``;
* ``solve(kernel, g_vec, t, tol, maxiter, fast_history=False, samples=None)`` returning
  ``(Y, status, index, counts, stages)`` with ``Y`` the (N+1, d) mesh values,
  ``status``/``index`` as in ``_loops``, ``counts`` the int64 work counters and ``stages``
  the (N m, d) stage values of a Runge-Kutta method (None for direct quadrature), which its
  discrete adjoint reads; ``samples`` is a dict the solves of one problem (a solution and
  the companions of its error estimate) share, for what they can reuse (the kernel samples
  of a fast history; the first rows of a direct rule's converged solves, from which a Gregory
  rule's starting block starts: :func:`_guessed_block`).  A Runge-Kutta method's ``solve``
  also takes ``exploring=False``: True for an exploratory solve of the adaptive driver,
  whose Newton solves of the stages fail as soon as an update grows (``_loops.EXPLORING``;
  not for a weakly singular kernel's product integration, which iterates as always), and
  ``shared=False``: True for a solve whose Newton tolerance is a share of a solve's tolerance
  (``_loops.SHARED``: extrapolated starts, and a stop on the contraction).

Adding a method is adding data: a Volterra rule or a Butcher tableau.
"""
from __future__ import annotations

import math
from functools import cached_property, partial
from typing import Callable

import numpy as np

from ..quadrature import volterra_rule
from ..kernels._kernel import FunctionAddress
from ..kernels._structured import LAG_SIGNATURE
from . import _loops
from ._fft import kernel_transforms
from ._tableaux import ButcherTableau, classical_rk4, collocation_tableau

__all__ = ["VolterraMethod", "DirectQuadrature", "VolterraRungeKutta", "METHODS"]


class VolterraMethod:
    """Base class: a numerical method for y(t) = g(t) + int_0^t K(t, s, y(s)) ds."""

    name: str
    order: int
    family: str
    implicit: bool
    min_steps: int = 1
    uniform_only: bool = False
    stages: int = 1
    description: str = ""

    #: True if the method has a fast (FFT) history for convolution kernels
    fast_convolution = False

    def solve(self, kernel, g_vec, t, tol, maxiter, fast_history=False,
              samples=None):  # pragma: no cover
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r}, order={self.order})"


def _lag_sequences(kernel, lags, n_channels):
    """kseq (Q, P, d, d): the convolution kernel k sampled at lags[q, p] (in time units)."""
    d = kernel.dim
    out = np.empty((lags.size, d, d))
    lag = kernel.structure["lag"]
    # (lags, out: float64 and C-contiguous, made here; the entry point where the parameters are
    # such an array too, as _loop takes it)
    _loop("sample-lags", kernel.params)(FunctionAddress(lag, LAG_SIGNATURE).address,
                                        kernel.params, np.ascontiguousarray(lags.ravel()), out)
    return np.ascontiguousarray(out.reshape(n_channels, lags.shape[1], d, d))


def _mesh_lags(kernel, N, h, samples):
    """kseq (1, N + 1, d, d): k(p h) for p = 0 ... N.  With ``samples`` (see the module
    docstring) every r-th of the samples of an earlier solve whose step is h / r, r a power of
    two (the companions of an error estimate, on every other and every fourth point): the same
    floats, as (p r) h / r = p h exactly, without sampling k again."""
    if samples is not None and "mesh_lags" in samples:
        h0, k0 = samples["mesh_lags"]
        r = int(round(h / h0))
        if r >= 1 and (r & (r - 1)) == 0 and r * h0 == h and k0.shape[1] > N * r:
            return np.ascontiguousarray(k0[:, :N * r + 1:r])
    kseq = _lag_sequences(kernel, (np.arange(N + 1) * h)[None, :], 1)
    if samples is not None:
        samples["mesh_lags"] = (h, kseq)
    return kseq


_NO_ROWS = np.empty(0, dtype=np.int64)   # keep nothing besides Y (the loops' ``keep``)
_FLOAT64 = np.dtype(np.float64)


def _loop(name, t):
    """The compiled loop ``name`` for a call whose arrays the caller made itself (float64,
    C-contiguous, writeable) but ``t`` (a solve's mesh; the kernel's parameters of the lag
    samples): its entry point where ``t`` is such a vector too (:func:`._loops.loop_entry`,
    ~2.5 us a call less), else the dispatcher, which checks the types (and refuses what the
    signature does not take: a TypeError)."""
    if type(t) is np.ndarray and t.dtype == _FLOAT64 and t.ndim == 1 and \
            t.flags.c_contiguous and t.flags.writeable:
        return _loops.loop_entry(name)
    return _loops.compiled_loop(name)
#: Solves of up to this many stage times make them from Python floats (beyond, NumPy's calls
#: cost less than the floats' operations).
_FEW_STAGE_TIMES = 24


def _kernel_args(kernel, implicit=True, block_sum=True):
    """(function, jacobian, have_jacobian, block_sum, theta) for the compiled loops, the
    functions as int addresses (kept valid by the kernel's FunctionAddress objects).  An
    explicit method (``implicit=False``) calls no Jacobian: none is compiled for it; nor is the
    block sum for a loop that takes none (``block_sum=False``: the fast-history and
    t-independent loops; its address is then -1, never called)."""
    function = kernel.function_address
    jac = kernel.jacobian_address if implicit else None
    block = kernel.explicit_addresses[1] if block_sum else None
    have = jac is not None
    if not have:
        jac = _loops.no_jacobian()
    return (function.address, jac.address, have, -1 if block is None else block.address,
            kernel.params)


#: The solves of a problem whose first rows a Gregory rule's starting block is guessed from
#: (:func:`_guessed_block`), the latest last, and how many of their rows are kept (a solve
#: with steps up to GUESS_SPAN times theirs finds its starting block among them).
GUESS_SOLVES = 4
GUESS_SPAN = 8


def _keep_block(samples, t, Y, S):
    """Keep the first rows of the converged solve Y on the uniform mesh ``t`` in ``samples``
    (``"direct_start"``) for the starting blocks of the later solves of the problem."""
    rows = min(len(t), GUESS_SPAN * S + 1)
    kept = samples.setdefault("direct_start", [])
    kept.append((float(t[0]), (float(t[-1]) - float(t[0])) / (len(t) - 1), Y[:rows].copy()))
    del kept[:-GUESS_SOLVES]


def _guessed_block(kept, t, Y, S):
    """Fill Y[1..S-1] with a guess of the starting block on the uniform mesh ``t`` from the
    finest of the ``kept`` solves (:func:`_keep_block`) that starts at t[0] and spans
    t[S - 1]: its values at the points it shares, a Lagrange interpolant of degree S of its
    values elsewhere.  Returns whether it did (else Y is as it was)."""
    if not kept or len(t) < S:
        return False
    t0, h = float(t[0]), (float(t[-1]) - float(t[0])) / (len(t) - 1)
    best = None
    for a, step, rows in kept:
        if a == t0 and rows.shape[1] == Y.shape[1] and rows.shape[0] > S and step * h > 0.0 and \
                (S - 1) * abs(h) <= (rows.shape[0] - 1) * abs(step) * (1.0 + 1e-12) and \
                (best is None or abs(step) < abs(best[0])):
            best = (step, rows)
    if best is None:
        return False
    step, rows = best
    q = S + 1   # the interpolant's nodes
    for n in range(1, S):
        x = n * h / step     # the point in the old mesh's steps
        near = int(round(x))
        if abs(x - near) <= 1e-9 * max(1.0, x):
            Y[n] = rows[near]
            continue
        lo = min(max(int(math.floor(x)) - (q - 1) // 2, 0), rows.shape[0] - q)
        nodes = np.arange(lo, lo + q, dtype=float)
        weights = np.array([np.prod((x - np.delete(nodes, i)) / (nodes[i] - np.delete(nodes, i)))
                            for i in range(q)])
        Y[n] = weights @ rows[lo:lo + q]
    if not np.all(np.isfinite(Y[1:S])):
        Y[1:S] = 0.0
        return False
    return True


class DirectQuadrature(VolterraMethod):
    """Direct quadrature: y_n = g(t_n) + h sum_{j<=n} w_nj K(t_n, t_j, y_j).

    w is a :class:`~integrallimits.quadrature.VolterraRule` (rectangle, trapezoid,
    Gregory); w_nn != 0 makes each step implicit (Newton on d unknowns from
    y_{n-1}); Gregory rules solve their first p - 1 steps as one block.
    Uniform meshes only.
    """

    family = "direct"
    uniform_only = True
    fast_convolution = True

    def __init__(self, rule_name, description=""):
        self.name = self._rule_name = rule_name
        self.description = description

    @cached_property
    def rule(self):
        """The Volterra rule (its exact weights are built on first use, not at import)."""
        return volterra_rule(self._rule_name)

    @cached_property
    def order(self):
        return self.rule.order

    @cached_property
    def implicit(self):
        return self.rule.implicit

    @cached_property
    def min_steps(self):
        return self.rule.min_steps

    @cached_property
    def _data(self):
        # writable copies: the compiled loop's signature takes plain C arrays
        return tuple(np.array(a, dtype=float, order="C")
                     for a in (self.rule.start, self.rule.left, self.rule.right))

    def solve(self, kernel, g_vec, t, tol, maxiter, fast_history=False, samples=None):
        structure = kernel.structure
        if structure.get("kind") == "weakly-singular":
            raise ValueError(f"method {self.name!r} cannot integrate a weakly singular kernel; use a "
                             f"collocation method (gauss1..4, radau1..4) with product integration "
                             f"on a graded mesh")
        G = np.ascontiguousarray(g_vec(t))
        Y = np.zeros(G.shape)
        start, left, right = self._data
        # (a starting block from an earlier solve of this problem: _loops.GUESSED_CHORD)
        guessed = start.shape[0] > 1 and samples is not None and \
            _guessed_block(samples.get("direct_start"), t, Y, start.shape[0])
        counts = _loops.new_counts(_loops.BLOCK + 1 if start.shape[0] > 1 and samples is not None
                                   else 4)
        if guessed:
            counts[_loops.EXPLORING] = _loops.GUESSED
        autonomous = structure.get("t_independent")
        K, jac, have, B, theta = _kernel_args(kernel, self.implicit,
                                              block_sum=not (fast_history or autonomous))
        explicit = not self.implicit and _loops.all_explicit(start.shape[0], len(t) - 1, left,
                                                              right)
        # a network's failed Newton solves are retried by continuation (_loops._continuation) in
        # loops of their own: no other kernel's loop compiles it, nor a network's explicit one
        robust = "-robust" if structure.get("kind") == "network" and not (
            explicit and start.shape[0] == 1) else ""
        loop = None
        if not (fast_history or autonomous):
            loop = "direct-explicit" if explicit else "direct"
        if loop == "direct":
            pass   # the loop with Newton's method sets Y[0] and solves the starting block itself
        elif start.shape[0] > 1:
            status, index = _loop("start" + robust, t)(K, jac, have, theta, t, G, Y, start, tol,
                                                       maxiter, counts)
            if status != _loops.SUCCESS:
                return Y, status, index, counts, None
        else:
            Y[0] = G[0]
        if fast_history:
            N = len(t) - 1
            h = (t[-1] - t[0]) / N
            kseq = _mesh_lags(kernel, N, h, samples)
            khat, koff, tw = kernel_transforms(kseq, N + 1)
            phi = kernel.structure["phi"].function_address.address
            status, index = _loop("direct-conv", t)(
                K, jac, have, phi, theta, t, G, Y, *self._data, kseq, khat, koff, tw,
                bool(kernel.structure.get("linear")), tol, maxiter, counts)
        elif autonomous:
            status, index = _loop("direct-autonomous" + robust, t)(
                K, jac, have, theta, t, G, Y, *self._data, tol, maxiter, _NO_ROWS,
                np.empty((0, Y.shape[1])), counts)
        else:
            status, index = _loop(loop + robust if loop == "direct" else loop, t)(
                K, jac, have, B, theta, t, G, Y, *self._data, tol, maxiter, counts)
        if start.shape[0] > 1 and samples is not None and status == _loops.SUCCESS:
            _keep_block(samples, t, Y, start.shape[0])
        return Y, status, index, counts, None

    def march(self, kernel, y0, t_span, n_steps, keep, tol, maxiter):
        """The states y_n, n in ``keep``, of y(t) = y0 + int_a^t K(s, y(s)) ds (a
        t-independent kernel K(s, y)) on ``n_steps`` uniform steps of ``t_span`` = (a, b),
        keeping no other state.

        This is :meth:`solve` on the mesh of ``solve_volterra`` with the constant forcing
        g = y0, in the same compiled loop and with the same values (bitwise), but with G a
        single row and Y a ring of the last two states: O(d) memory besides the kept states
        instead of two (N+1, d) arrays (a ResNet's forward pass: x_N alone is
        ``keep=[N]``).

        Parameters
        ----------
        kernel : Kernel
            With ``structure["t_independent"]`` true (the network kernels of ResNets).
        y0 : array (d,)
            y(a).
        t_span : (float, float)
        n_steps : int
            N >= 1 uniform steps.
        keep : array of int
            Increasing step indices in [0, N].
        tol, maxiter : float, int
            The Newton tolerance and iteration limit of implicit rules.

        Returns
        -------
        states : array (len(keep), d)
            y_n for n in ``keep``.
        counts : int64 array
            The work counters (kernel evaluations first), as in :meth:`solve`.

        Raises
        ------
        SolverError
            When a step fails (a non-finite state, Newton), with ``solve_volterra``'s message.
        ValueError
            For a kernel that depends on t, a rule with a starting block (Gregory), or
            ``keep`` not increasing within [0, N].

        Examples
        --------
        The identity-activation ResNet with W = -I is Euler's method for y' = -y:

        >>> import numpy as np
        >>> from integrallimits.networks import ResNet
        >>> net = ResNet(-np.tile(np.eye(2), (8, 1, 1)), np.zeros((8, 2)), activation="identity")
        >>> states, counts = METHODS["rectangle"].march(net.kernel(1), np.ones(2), (0.0, 1.0), 8,
        ...                                             [0, 4, 8], 1e-12, 50)
        >>> states.shape
        (3, 2)
        >>> bool(np.allclose(states[-1], (1 - 1 / 8) ** 8, rtol=1e-15))
        True
        """
        from ._mesh import estimated_work, make_mesh
        from ._outcome import describe, run_interruptibly
        from ._solution import SolverError
        start, left, right = self._data
        if not kernel.structure.get("t_independent") or start.shape[0] != 1:
            raise ValueError(f"march needs a t-independent kernel and a rule without a starting "
                             f"block; method {self.name!r}, kernel {kernel.structure.get('kind')!r}")
        t = make_mesh(t_span, n_steps, None, "march")
        keep = np.asarray(keep)
        if keep.ndim != 1 or keep.dtype.kind not in "iu" or np.any(np.diff(keep) <= 0) or \
                (keep.size and (keep[0] < 0 or keep[-1] > n_steps)):
            raise ValueError(f"keep must be increasing integers in [0, {n_steps}], got {keep!r}")
        K, jac, have, _, theta = _kernel_args(kernel, self.implicit, block_sum=False)
        y0 = np.ascontiguousarray(y0, dtype=float).reshape(1, -1)
        if not y0.flags.writeable:   # the compiled loop's signature has a mutable y0
            y0 = y0.copy()
        d = y0.shape[1]
        out = np.empty((keep.size, d))
        Y = np.empty((2, d))
        Y[0] = y0[0]

        def run():
            counts = _loops.new_counts(4)
            status, index = _loops.compiled_loop("direct-autonomous")(
                K, jac, have, theta, t, y0, Y, start, left, right, tol, maxiter,
                keep.astype(np.int64), out, counts)
            return counts, None if status == _loops.SUCCESS else (status, float(t[index]))

        counts, failure = run_interruptibly(run, estimated_work(n_steps, 1, d, False))
        if failure is not None:
            raise SolverError(describe(failure[0], failure[1], int(counts[_loops.NIT]), None)[0])
        return out, counts


class VolterraRungeKutta(VolterraMethod):
    """Pouzet-type Volterra Runge-Kutta method with a Butcher tableau (c, A, b).

    On [t_n, t_{n+1}] with stage times t_ni = t_n + c_i h_n::

        Z_ni    = g(t_ni) + lag(t_ni) + h_n sum_j a_ij K(t_ni, t_nj, Z_nj)
        y_{n+1} = g(t_{n+1}) + lag(t_{n+1}) + h_n sum_j b_j K(t_{n+1}, t_nj, Z_nj)

    with lag(x) = sum_{l<n} h_l sum_j b_j K(x, t_lj, Z_lj).  Implicit tableaux
    solve the m d stage unknowns of an interval together by Newton.  Any mesh.
    With a collocation tableau this is the fully discretised collocation method
    and y_{n+1} its iterated value.
    """

    family = "vrk"
    fast_convolution = True

    def __init__(self, name, tableau: ButcherTableau | Callable[[], ButcherTableau], order,
                 stage_order=None, description="", collocation=False):
        self.name = name
        self.collocation = collocation
        if isinstance(tableau, ButcherTableau):
            self.__dict__["tableau"] = tableau
        else:
            self._tableau = tableau
        self.order = order
        self.stage_order = stage_order
        self.description = description

    @cached_property
    def tableau(self) -> ButcherTableau:
        """The Butcher tableau (collocation tableaux are computed on first use, not at import)."""
        return self._tableau()

    @cached_property
    def implicit(self):
        return not self.tableau.explicit

    @cached_property
    def stages(self):
        return self.tableau.stages

    @cached_property
    def _data(self):
        tab = self.tableau
        return tuple(np.array(a, dtype=float, order="C") for a in (tab.c, tab.A, tab.b))

    @cached_property
    def _nodes(self):
        """The tableau's c as Python floats (the stage times of a few points)."""
        return self.tableau.c.tolist()

    def solve(self, kernel, g_vec, t, tol, maxiter, fast_history=False, samples=None,
              exploring=False, shared=False):
        structure = kernel.structure
        if structure.get("kind") == "weakly-singular":
            if not self.collocation:
                raise ValueError(f"method {self.name!r} cannot integrate a weakly singular kernel; "
                                 f"use a collocation method (gauss1..4, radau1..4)")
            from ._singular import collocation_product_integration
            smooth = kernel.structure["smooth"].with_params(kernel.params, kernel.args)
            res = collocation_product_integration(smooth, kernel.structure["alpha"], g_vec, t,
                                                  self.tableau, tol, maxiter, fast_history)
            return res.y, res.status, res.index, res.counts, res.stages
        tab = self.tableau
        c = tab.c
        m = c.shape[0]
        n_points = t.shape[0]
        # (np.diff(t)'s own subtraction, without its ~1.5 us of Python; the stage times as
        # t_n + c_i h_n, the same floats as t[:-1, None] + c[None, :] * h[:, None]; a few
        # stage times as Python floats, the same operations in the same order: 1-2 us less)
        if (n_points - 1) * m <= _FEW_STAGE_TIMES:
            mesh, nodes = t.tolist(), self._nodes
            times = np.array(mesh + [tn + (tn1 - tn) * ci for tn, tn1 in zip(mesh, mesh[1:])
                                     for ci in nodes])
        else:
            h = t[1:] - t[:-1]
            times = np.empty(n_points + (n_points - 1) * m)
            times[:n_points] = t
            np.add(t[:-1, None], h[:, None] * c, out=times[n_points:].reshape(n_points - 1, m))
        both = np.ascontiguousarray(g_vec(times))   # one call of g
        G, Gs = (both[:n_points], both[n_points:]) if m else (both, both)
        Y = np.zeros(G.shape)
        Z = np.zeros((max(n_points - 1, 1) * m, G.shape[1]))
        counts = _loops.new_counts(5)
        counts[_loops.EXPLORING] = int(bool(exploring)) | (_loops.SHARED if shared else 0)
        # the linear fast-history loop (phi(s, y) = y) calls neither the Jacobian nor phi, and no
        # fast-history loop calls the block sum: none of them is compiled for it
        linear = bool(fast_history and structure.get("linear"))
        K, jac, have, B, theta = _kernel_args(kernel, not linear, block_sum=not fast_history)
        if fast_history:
            N = len(t) - 1
            h = (t[-1] - t[0]) / N
            c = tab.c
            shift = np.concatenate([c, [1.0]])[:, None] - c[None, :]   # (m+1, m): c_i - c_j
            shift[m] = -c                                             # mesh value: p - c_j
            p = np.arange(N + 1)
            lags = ((p[None, None, :] + shift[:, :, None]) * h).reshape(m * (m + 1), N + 1)
            kseq = _lag_sequences(kernel, lags, m * (m + 1))
            khat, koff, tw = kernel_transforms(kseq, N + 1)
            phi = -1 if linear else kernel.structure["phi"].function_address.address
            status, index = _loop("vrk-conv-linear" if linear else "vrk-conv", t)(
                K, jac, have, phi, theta, t, G, Gs, Y, Z, *self._data, tab.explicit, kseq, khat,
                koff, tw, linear, tol, maxiter, counts)
        else:
            status, index = _loop("vrk", t)(
                K, jac, have, B, theta, t, G, Gs, Y, Z, *self._data, tab.explicit, tol, maxiter,
                counts)
        return Y, status, index, counts, Z


def _build_methods():
    methods = {
        "rectangle": DirectQuadrature("rectangle", "explicit (left) rectangle rule: the DenseNet map"),
        "implicit-rectangle": DirectQuadrature("implicit-rectangle", "implicit (right) rectangle rule"),
        "trapezoid": DirectQuadrature("trapezoid", "trapezoidal rule, implicit"),
        "gregory4": DirectQuadrature("gregory4", "Gregory rule of order 4 with a block start"),
        "gregory6": DirectQuadrature("gregory6", "Gregory rule of order 6 with a block start"),
        "gregory8": DirectQuadrature("gregory8", "Gregory rule of order 8 with a block start"),
        "rk4": VolterraRungeKutta("rk4", classical_rk4(), 4, description=(
            "explicit Pouzet VRK method with the classical RK4 tableau")),
    }
    for m in range(1, 5):
        methods[f"gauss{m}"] = VolterraRungeKutta(
            f"gauss{m}", partial(collocation_tableau, "gauss", m), 2 * m, stage_order=m,
            description=f"collocation at {m} Gauss points (iterated; global order {m})",
            collocation=True)
        methods[f"radau{m}"] = VolterraRungeKutta(
            f"radau{m}", partial(collocation_tableau, "radau", m), 2 * m - 1, stage_order=m,
            description=f"collocation at {m} Radau IIA points (iterated; global order {m})",
            collocation=True)
    return methods


class _Registry(dict):
    """dict of name -> method whose missing-key error lists the known names."""

    def __missing__(self, key):
        raise KeyError(f"unknown method {key!r}; known methods: {', '.join(self)}")


#: Registry of the Volterra methods by name.  ``METHODS[name].order`` is the order.
METHODS = _Registry(_build_methods())

#: The relative tolerance below which ``method=None`` solves to a tolerance with "radau4".
HIGH_ORDER_RTOL = 1e-7


def tolerance_method(rtol):
    """The name of the method that ``method=None`` stands for in a solve to a tolerance:
    "radau3" (L-stable collocation, order 5 at the mesh points) for ``rtol`` >= HIGH_ORDER_RTOL
    (the smallest component's), else "radau4" (order 7).  :func:`solve_volterra` and
    :func:`solve_vide` both choose with it (both registries have these names)."""
    return "radau3" if np.min(rtol) >= HIGH_ORDER_RTOL else "radau4"
