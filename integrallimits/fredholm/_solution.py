"""The result of a Fredholm solve: node values, Nyström interpolation, status and stats."""
from __future__ import annotations

import numpy as np

from .._inputs import points_array
from ..volterra._interrupt import run_interruptibly
from ..volterra._solution import copy_sharing
from . import _assembly

__all__ = ["FredholmSolution"]


#: NaN arrays by shape, copied for a new solution's ``error_estimate`` (np.full costs ~0.6 us,
#: np.empty and fill ~0.3, a copy ~0.15).
_NANS = {}


def _nans(shape):
    """A new float array of ``shape`` filled with NaN."""
    known = _NANS.get(shape)
    if known is None:
        if len(_NANS) >= 64:
            _NANS.clear()
        known = _NANS[shape] = np.full(shape, np.nan)
    return known.copy()


class FredholmSolution:
    r"""Solution of a Fredholm integral equation of the second kind on the nodes of a rule.

    Attributes
    ----------
    x : ndarray (M,)
        The quadrature nodes s_m (ascending).
    y : ndarray (M,) or (M, d)
        The solution at the nodes.
    weights : ndarray (M,)
        The quadrature weights w_m.
    rule : IntervalRule
        The rule the equation was discretised with.
    status : int
        0 if the solve succeeded, -1 if it failed (as in :func:`scipy.integrate.solve_ivp`).
    success : bool
        ``status >= 0``.
    message : str
        What happened; on failure, why.
    error_estimate : ndarray, shape of ``y``
        Estimated error at each node, from a companion solve with 25% more nodes (see
        :mod:`integrallimits.fredholm._control`); NaN where none was made.
    nfev, njev : int
        Kernel and Jacobian evaluations (companion included).
    stats : dict
        ``nfev`` (kernel evaluations), ``njev`` (Jacobian evaluations),
        ``failure`` (None for a success; else "singular": an eigenvalue or a singular
        Newton matrix, "non-finite", "newton": no convergence, "unresolved", "unchecked":
        no reliable digit or no estimate, "tolerance": not met with the most nodes),
        ``newton_iterations``, ``newton_solves``, ``jacobian`` (its source:
        "user", "sympy", "analytic", "finite-difference", or "not needed" for the
        direct linear solve), ``linear`` (whether the direct linear solve was
        used), ``separable`` (whether Newton's method used the structure K = k(x, s)
        phi(s, y) of a scalar kernel, O(M) kernel calls per iteration), ``condition``
        (LAPACK dgecon's estimate of the 1-norm condition number of the last system matrix),
        ``residual`` (max-norm residual of the discrete
        equations at ``y``; nan for a two-argument, linear-by-construction K(x, s),
        where it is not computed), ``unknowns`` (M d), ``rule``, ``compiled`` and
        ``seconds``.

    Calling ``sol(x)`` evaluates the Nyström interpolant

    .. math:: y(x) = g(x) + \sum_m w_m K(x, s_m, y_m),

    which has the accuracy of the node values everywhere in [a, b] and equals
    them at the nodes.  Array in, array out; a float in gives a float (or a (d,)
    array) out.
    """

    def __init__(self, rule, y, *, scalar, status, message, stats, kernel, g_vec, g_nodes=None,
                 g_unchanged=None, nodes=None, weights=None):
        self.rule = rule
        # (``nodes``, ``weights``: writable C copies of the rule's that the solve made, kept)
        self.x = np.array(rule.nodes, dtype=float, order="C") if nodes is None else nodes
        self.weights = (np.array(rule.weights, dtype=float, order="C") if weights is None
                        else weights)
        self._y2 = np.ascontiguousarray(y)
        self.y = self._y2[:, 0] if scalar else self._y2
        self.scalar = scalar
        self.status = 0 if status else -1
        self.message = message
        self.stats = stats
        self._kernel = kernel
        self._g_vec = g_vec
        # the interpolant calls g again
        self._g_unchanged = g_vec.snapshot(g_unchanged, nodes=True)
        self._g_nodes = g_nodes     # g at the nodes, (M, d): the companion's interpolant reuses it
        self.error_estimate = _nans(self.y.shape)
        self._condition_grows = False   # set with the estimate (_control)
        # a scalar linear K's coefficient k(x, s_m) at the first, middle and last node x, kept
        # from the solve's matrix for the pre-check of _with_unresolved_interpolant (or None)
        self._k_rows = None

    def set_error_estimate(self, estimate):
        """Set ``error_estimate`` (shape of ``y``) from an (M, d) array."""
        estimate = np.asarray(estimate, dtype=float).reshape(self._y2.shape)
        self.error_estimate = estimate[:, 0] if self.scalar else estimate

    @property
    def success(self):
        return self.status >= 0

    @property
    def nfev(self):
        return self.stats.get("nfev", 0)

    @property
    def njev(self):
        return self.stats.get("njev", 0)

    def __getstate__(self):
        """A pickled solution keeps every value but not what the interpolant needs (the
        compiled kernel and g, which cannot be pickled): the unpickled one raises when
        called (evaluate before pickling)."""
        state = self.__dict__.copy()
        state.update(_kernel=None, _g_vec=None, _g_unchanged=None)
        return state

    def __copy__(self):
        """``copy.copy``: a solution sharing everything, its interpolant's kernel and g
        included (copying went through :meth:`__getstate__`, and the copy raised as if
        unpickled)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        """``copy.deepcopy``: the values copied, the compiled kernel and g shared."""
        return copy_sharing(self, memo, ("_kernel", "_g_vec", "_g_unchanged"))

    def __call__(self, x):
        x_arr = points_array(x, "x")
        flat = np.array(x_arr.reshape(-1), order="C")
        a, b = self.rule.a, self.rule.b
        if flat.size and (np.any(~np.isfinite(flat)) or flat.min() < a or flat.max() > b):
            raise ValueError(f"x must lie in the interval [{a}, {b}]")
        if self._kernel is None:
            raise RuntimeError("this solution was unpickled: its Nystrom interpolant (which "
                               "needs the kernel and g) was not kept; evaluate it before "
                               "pickling")
        try:
            if flat.size:
                self._g_unchanged()
            values = (self._interpolate_interruptibly(flat, self._g_vec(flat)) if flat.size
                      else np.empty((0, self._y2.shape[1])))
        except Exception as exc:
            from ._solve import said_in_x
            said_in_x(exc)
            raise
        values = values.reshape(x_arr.shape + self._y2.shape[1:])
        if self.scalar:
            values = values[..., 0]
        return values[()] if x_arr.ndim == 0 and self.scalar else values

    def _interpolate_interruptibly(self, flat, g_values):
        """:meth:`_interpolate`, stopped by Ctrl-C within a point (its M kernel calls: a worker
        thread for many points, as a solve's)."""
        d = self._y2.shape[1]
        return run_interruptibly(lambda: self._interpolate(flat, g_values, _assembly.new_counts()),
                                 float(flat.size) * self.x.size * d)

    def _interpolate(self, flat, g_values, counts=None):
        """g(x) + sum_m w_m K(x, s_m, y_m) at the points ``flat`` (a C array in [a, b]), given
        ``g_values`` = g(flat) as an (n, d) array: the Nyström interpolant (its kernel calls
        added to ``counts``, if given)."""
        kernel = self._kernel
        counts = np.zeros(2, dtype=np.int64) if counts is None else counts
        return g_values + _assembly.nystrom_sums(kernel, _assembly.addresses(kernel), flat, self.x,
                                                 self.weights, self._y2, counts)

    def __repr__(self):
        shape = "x".join(map(str, self.y.shape))
        return (f"FredholmSolution(rule={self.rule.name!r}, status={self.status}, y: {shape}, "
                f"message={self.message!r})")
