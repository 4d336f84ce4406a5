r"""The Nyström method for Fredholm equations of the second kind.

The equation (Urysohn form; Hammerstein and linear kernels are special cases) is

.. math:: y(x) = g(x) + \int_a^b K(x, s, y(s))\, ds, \qquad a \le x \le b .

Replacing the integral by an interval rule with nodes :math:`s_m` and weights
:math:`w_m` and collocating at the nodes gives the M d discrete equations

.. math:: y_i = g(s_i) + \sum_{m=1}^{M} w_m K(s_i, s_m, y_m), \qquad i = 1, \dots, M,

and the Nyström interpolant :math:`y(x) = g(x) + \sum_m w_m K(x, s_m, y_m)` extends
the node values to all of [a, b] with the same accuracy (Atkinson 1997, ch. 4).
The error is that of the rule on the integrands :math:`s \mapsto K(x, s, y(s))`:
geometric in M for Gauss-type and Clenshaw–Curtis rules when K, g are analytic,
O(h^p) for the composite rules (trapezoid and midpoint 2, Simpson 4).
"""
from __future__ import annotations

import math
import numbers
import re
import time
import weakref
from functools import lru_cache
from types import FunctionType

import numpy as np

from .._inputs import not_a_number, numbers_array, refuse_masked
from .._memory import SMALL, check_memory
from ..kernels import Kernel, _user, as_forcing, as_kernel
from ..kernels._kernel import _with_fresh_helpers, require_jit
from ..kernels._structured import is_weakly_singular
from ..kernels._linear import as_linear_kernel, positional_arity
from ..quadrature import IntervalRule, interval_rule
from ..volterra._estimate import UNRESOLVED
from ..volterra import _interrupt
from ..volterra._interrupt import run_interruptibly
from ..volterra._mesh import check_newton_tol
from ..volterra._outcome import _CHECK_JACOBIAN
from ..volterra._solution import SolverError
from ..volterra._tolerance import check_tolerances, fit_tolerances, over_tolerance, tolerance_of
from . import _assembly
from ._control import COMPOSITE_ORDERS, condition_message, next_size, with_estimate
from ._solution import FredholmSolution

__all__ = ["solve_fredholm", "nystrom_matrix"]

_EPS = np.finfo(float).eps


# -- the variable x -------------------------------------------------------------------------------

#: The shared layers' words for a user function's point (K(t, s, y) at t = ...: the Volterra
#: solvers' variable), said in :func:`in_x` with the Fredholm equation's x.
_T_WORDS = ((re.compile(r"\b([Kg])\(t\b"), r"\1(x"), (re.compile(r"\bt = s = "), "x = s = "),
            (re.compile(r"\bat t = "), "at x = "), (re.compile(r"\(t, s\) = "), "(x, s) = "),
            (re.compile(r"\(t plus "), "(x plus "))


def in_x(text):
    """``text``, a message of the layers shared with the Volterra solvers, with their t (the
    kernel's first variable, where g is evaluated) said as x."""
    if "(t" not in text and "t = " not in text:     # (every pattern holds one of them: the
        return text                                 # usual message at once, not 5 searches)
    for pattern, words in _T_WORDS:
        text = pattern.sub(words, text)
    return text


def said_in_x(exc):
    """Say the package's words in ``exc`` (its notes; its message where the package raised it:
    a ValueError, TypeError or RuntimeError without the note of a user's own exception) with x
    (:func:`in_x`), in place."""
    notes = getattr(exc, "__notes__", None)
    if notes:
        notes[:] = [in_x(note) if isinstance(note, str) else note for note in notes]
    elif isinstance(exc, (ValueError, TypeError, RuntimeError)) and len(exc.args) == 1 and \
            isinstance(exc.args[0], str):
        exc.args = (in_x(exc.args[0]),)


# -- validation ----------------------------------------------------------------------------------

def _check_interval(interval):
    if type(interval) is tuple and len(interval) == 2 and type(interval[0]) is float \
            and type(interval[1]) is float and interval[0] < interval[1] \
            and math.isfinite(interval[0]) and math.isfinite(interval[1]):
        return interval    # the usual (a, b) of floats, at once (no ABC checks, no generator)
    try:
        a, b = (float(v) for v in interval)
        if not_a_number(interval):     # (float() read ("0", "1") and (False, True) as an interval)
            raise TypeError
    except (TypeError, ValueError):
        raise ValueError(f"interval must be a pair (a, b) of floats, got {interval!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"interval must be finite, got {interval!r}")
    if not b > a:
        raise ValueError(f"interval must satisfy a < b, got {interval!r}")
    return a, b


def _build_rule(rule, n_nodes, a, b):
    if isinstance(rule, IntervalRule):
        if n_nodes is not None and n_nodes != rule.n:
            raise ValueError(f"n_nodes={n_nodes!r} conflicts with the given rule (n = {rule.n}); "
                             f"give one or the other")
        if (rule.a, rule.b) != (a, b):
            raise ValueError(f"the rule is on [{rule.a}, {rule.b}], but interval is [{a}, {b}]")
        return rule
    if not isinstance(rule, str):
        raise TypeError(f"rule must be a rule name (str) or an IntervalRule, got {type(rule).__name__}")
    if n_nodes is None:
        raise TypeError("solve_fredholm needs n_nodes (or an IntervalRule as rule)")
    if type(n_nodes) is not int and (isinstance(n_nodes, (bool, np.bool_)) or
                                     not isinstance(n_nodes, numbers.Integral)):
        raise TypeError(f"n_nodes must be an integer, got {n_nodes!r}")
    try:
        return _cached_rule(rule, int(n_nodes), a, b)
    except ValueError as exc:
        if rule not in _known_rules():
            raise
        raise ValueError(f"invalid n_nodes={n_nodes} for rule {rule!r}: {exc}") from None


@lru_cache(maxsize=64)
def _cached_rule(name, n, a, b):
    """Rules are immutable (read-only arrays); mapping Gauss nodes to [a, b] in 40-digit
    arithmetic costs milliseconds, so repeated solves on the same interval reuse them."""
    return interval_rule(name, n, a, b)


def _known_rules():
    from ..quadrature import INTERVAL_RULES
    return INTERVAL_RULES


def _check_matrix_size(n_nodes, dim=1):
    """Refuse (before building the rule) a Nyström system that cannot fit in memory."""
    if type(n_nodes) is int and 24.0 * (float(n_nodes) * dim) ** 2 <= SMALL:
        return      # (the usual size, at once: check_memory asks the system nothing below SMALL)
    if (type(n_nodes) is int or isinstance(n_nodes, numbers.Integral) and
            not isinstance(n_nodes, bool)) and n_nodes > 0:
        need = 3.0 * 8.0 * (float(n_nodes) * dim) ** 2    # the matrix, its LU and |W|
        check_memory(need, f"solve_fredholm with n_nodes = {n_nodes} (its dense Nyström system)")


def _check_positive(value, name):
    if type(value) is float and value > 0:    # the usual case, at once (numbers.Real is an ABC)
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0:
        raise ValueError(f"{name} must be a positive float, got {value!r}")
    return float(value)


_ARITY = weakref.WeakKeyDictionary()


def _arity(K):
    """positional_arity(K), remembered per function (inspect.signature costs ~30 us a call)."""
    try:
        return _ARITY[K]
    except (KeyError, TypeError):
        arity = positional_arity(K)
        try:
            _ARITY[K] = arity
        except TypeError:    # not weakly referenceable
            pass
        return arity


def _compile_kernel(K, y0, a, jacobian, args=None):
    """The Kernel for K: a two-argument K(x, s) is the coefficient of a linear kernel."""
    if is_weakly_singular(K):
        raise ValueError("solve_fredholm does not support weakly singular kernels (weakly_singular"
                         "(...)): the Nyström rules here need a smooth kernel")
    if isinstance(K, Kernel) or hasattr(K, "build") or not callable(K):
        return as_kernel(K, y0, a, jacobian=jacobian, args=args)
    # a plain function compiled before for the values it reads is not called in Python at
    # (a, a) again: the compiled calls report one that raises or is not finite, with the point
    if _arity(K) == 2 + len(args or ()):
        if jacobian is not None:
            raise ValueError("jacobian is not used with a two-argument (linear) kernel K(x, s): "
                             "its Jacobian is K itself")
        return as_linear_kernel(K, y0, a, args=args, probe_cached=False)
    return as_kernel(K, y0, a, jacobian=jacobian, args=args, probe_cached=False)


#: The kernel a plain function K was compiled to in its last solve (:func:`_kernel_of`): K ->
#: (what it was compiled for, the value keys of K and the Jacobian then, the kernel).
_KERNELS = weakref.WeakKeyDictionary()


def _kernel_of(K, y0, t0, jacobian, args, G=None, shape=None):
    """:func:`_compile_kernel`, remembered per plain function K (the set-up a repeated solve
    of the same equation would make again: ~30 Python statements and two cache look-ups).

    The kernel of an earlier solve is used again only for the same code of K, the same
    Jacobian (object and code), the shape of y and the kinds of ``args``, while K and the
    Jacobian read the same values (:func:`~integrallimits.kernels._user.value_key`, the key the
    kernel caches of :func:`~integrallimits.kernels.as_kernel` are checked with): a changed
    global, closure cell or default compiles (or finds) the kernel for the new values, as
    without this memo.  ``args`` are packed again on every call (their values are never taken
    from here); a vector-y K(x, s) (which :func:`~integrallimits.kernels._linear.as_linear_kernel`
    calls in Python to tell its mode) is not remembered.

    ``y0`` None: g's value at t0 is the first row of ``G`` (g at the nodes, (M, d)), of
    ``shape`` (``()`` for a scalar g), made only where K is compiled (~0.3 us)."""
    if y0 is not None:
        shape = y0.shape
    if type(K) is not FunctionType or "build" in K.__dict__ or \
            not (jacobian is None or type(jacobian) is FunctionType):
        return _compile_kernel(K, _first_value(y0, G, shape), t0, jacobian, args)
    spec, theta = (_user.NO_ARGS, _NO_THETA) if args is None else _user.pack_args(args)
    made_for = (K.__code__, jacobian, None if jacobian is None else jacobian.__code__, shape, spec)
    known = _KERNELS.get(K)
    # (equal tuples, and the very same code objects: code compares equal by value; K and the
    # Jacobian reading the very objects they read then (their readers, ~0.2 us) or, else,
    # values of the same keys)
    keys = None
    if known is not None and known[0] == made_for and known[0][0] is made_for[0] and \
            known[0][2] is made_for[2] and (
                known[3] is not None and known[3](K) and
                (jacobian is None or known[4] is not None and known[4](jacobian)) or
                known[1] == (keys := _value_keys(K, jacobian))):
        require_jit()
        kernel = known[2]
        # (with_params returns the kernel itself for no parameters and no args: at once)
        return kernel if args is None and not kernel.params.size else \
            kernel.with_params(theta, args)
    if keys is None:
        keys = _value_keys(K, jacobian)
    kernel = _compile_kernel(K, _first_value(y0, G, shape), t0, jacobian, args)
    if (kernel.scalar or kernel.structure.get("kind") != "linear") and \
            _value_keys(K, jacobian) == keys:      # (K read the same values all along)
        # (the readers' objects are those of the keys just compared: nothing ran between)
        _KERNELS[K] = (made_for, keys, kernel, _user.reads_reader(K),
                       None if jacobian is None else _user.reads_reader(jacobian))
    return kernel


_NO_THETA = np.zeros(0)     # (pack_args(None)'s, without a new empty array each call)


def _first_value(y0, G, shape):
    """``y0``, or where it is None g's value at the first node from g at the nodes ``G`` ((M, d))
    of ``shape`` (:func:`_kernel_of`)."""
    if y0 is not None:
        return y0
    return np.array(G[0, 0]) if shape == () else G[0].copy()


def _value_keys(K, jacobian):
    return _user.value_key(K), None if jacobian is None else _user.value_key(jacobian)


# -- linearity -----------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _probe_vectors(d):
    """Two fixed generic vectors with entries in [0.5, 1.5] (deterministic probes)."""
    rng = np.random.default_rng(20240607)
    return rng.uniform(0.5, 1.5, d), rng.uniform(0.5, 1.5, d)


#: The structure probes made lately (:func:`_structure`): (address of the compiled K, d, M) ->
#: (its function, kept alive so the address stays its own, then the bytes of the parameters
#: and nodes, the scale, the flags and the kernel calls the probe made).
_PROBED = {}
_PROBED_MAX = 16


def _structure(kernel, addr, nodes, scale, counts):
    """(looks affine, looks separable) on a few probes with two fixed generic vectors u, v of
    size ~ ``scale`` (see :func:`~._assembly._structure`), in one compiled call.

    The compiled K is deterministic: a probe of the same compiled function with the same
    parameters, nodes and scale gives the same flags, so a repeated solve of the same equation
    takes them from the last such probe (``counts`` gets the calls it made) instead of calling
    K again.  A probe in which K raised or was not finite (a recorded failure) is not kept."""
    key = (addr[0], kernel.dim, nodes.shape[0])
    now = (kernel.params.tobytes(), nodes.tobytes(), scale)
    known = _PROBED.get(key)
    if known is not None and known[1:4] == now:
        counts[_assembly.NFEV] += known[5]
        flags = known[4]
    else:
        u, v = _probe_vectors(kernel.dim)
        calls = int(counts[_assembly.NFEV])
        flags = _assembly.compiled("structure")(addr[0], kernel.params, nodes, scale * u,
                                                -scale * v, counts)
        if not _user.failure_recorded():
            if len(_PROBED) >= _PROBED_MAX:
                _PROBED.clear()
            _PROBED[key] = (kernel.function_address,) + now + \
                (flags, int(counts[_assembly.NFEV]) - calls)
    return bool(flags & _assembly.AFFINE), bool(flags & _assembly.SEPARABLE)


# -- dense linear algebra (LAPACK) -----------------------------------------------------------------

@lru_cache(maxsize=None)
def _lapack():
    """scipy.linalg.lapack, imported on first solve (`import integrallimits` stays light)."""
    from scipy.linalg import lapack
    return lapack


def _all_finite(a):
    """Whether every entry of the float array ``a`` is finite (the sum is, unless it overflows)."""
    return math.isfinite(a.sum()) or bool(np.isfinite(a).all())


def _identity_minus(W):
    """W := I - W in place (the system matrix of the Nyström equations)."""
    W *= -1.0
    W.flat[::W.shape[0] + 1] += 1.0
    return W


_SINGULAR = ("The Nyström system is singular or nearly singular (condition number estimate {cond:.3g} "
             "> max_condition = {limit:.3g}): 1 is (close to) an eigenvalue of the discretised "
             "integral operator (for K = lambda k: lambda is close to 1/mu for an eigenvalue mu of "
             "k), so the equation has no solution or infinitely many and the computed values "
             "cannot be trusted.")
_SINGULAR_NEWTON = ("The Jacobian of the Nyström system at the computed solution is singular or nearly "
                    "so (condition number estimate {cond:.3g} > max_condition = {limit:.3g}): the "
                    "solution is not isolated (a bifurcation or turning point of the nonlinear "
                    "equation) and cannot be trusted.")


# -- the solver ----------------------------------------------------------------------------------

def solve_fredholm(K, g, interval, n_nodes=None, rule="gauss-legendre", *, args=None, linear=None,
                   jacobian=None, initial=None, rtol=None, atol=None, error_estimate=True,
                   newton_tol=1e-12, newton_maxiter=50, max_condition=1e12, raise_on_failure=False):
    r"""Solve a Fredholm integral equation of the second kind by the Nyström method.

    .. math:: y(x) = g(x) + \int_a^b K(x, s, y(s))\, ds, \qquad a \le x \le b .

    With the nodes s_m and weights w_m of an interval rule, the M d unknowns
    y_m ~ y(s_m) solve y_i = g(s_i) + sum_m w_m K(s_i, s_m, y_m): directly
    (one LU factorisation) when K is affine in y, by Newton's method otherwise.

    Parameters
    ----------
    K : callable or Kernel
        ``K(x, s, y, *args)``: a float for scalar y, an array of shape (d,) for y of shape
        (d,) (compiled with Numba once per function; a SymPy kernel from
        :func:`integrallimits.kernels.from_sympy` brings its exact Jacobian).  A
        two-argument callable ``K(x, s)`` is the coefficient of the *linear* kernel
        K(x, s) y: a float, or a (d, d) array for vector y.
    g : callable
        ``g(x, *args)``: a float, or an array of shape (d,) (this fixes the shape of y).
        Evaluated at the nodes of the rule only.
    interval : (float, float)
        (a, b), a < b.
    n_nodes : int
        The size of the rule: the number of nodes M for "gauss-legendre",
        "gauss-radau", "gauss-lobatto" and "clenshaw-curtis"; the number of
        panels for the composite rules ("trapezoid" and "simpson" have
        n_nodes + 1 nodes, "rectangle" -- the composite midpoint rule -- n_nodes).
        Omit it when ``rule`` is an :class:`~integrallimits.quadrature.IntervalRule`.
    rule : str or IntervalRule
        A name in :data:`integrallimits.quadrature.INTERVAL_RULES`, or a rule on
        ``interval`` (e.g. ``gauss_radau(n, a, b, right=True)``).  Spectral
        (geometric) convergence for analytic data with the Gauss-type rules and
        Clenshaw–Curtis; order 2 (trapezoid, rectangle) or 4 (simpson) otherwise.
    args : tuple, optional
        Extra arguments of K, g and the Jacobian (floats, ints, bools, float arrays),
        passed at run time: a sweep over their values compiles once.
    linear : bool or None
        Whether K is affine in y (K(x, s, y) = k(x, s) y + k0(x, s)).  ``None``
        (default) decides with a cheap probe: K is evaluated at three (x, s) pairs
        and four values of y, and an affine K is assumed when every probe is
        affine to 1e-9.  ``True`` skips the probe (a two-argument K is linear by
        construction); ``False`` always uses Newton.  The direct solve is always
        verified: the residual of the original equations at its result must be
        at rounding level.  If it is not, a probed K falls back to Newton (from
        that result), and ``linear=True`` gives a failed solve saying so -- never a
        wrong answer.
    jacobian : callable, optional
        dK/dy(x, s, y) (a float, or (d, d) array) for Newton; without it, forward
        differences (``stats["jacobian"]`` says which was used).
    initial : callable or array_like, optional
        Newton's starting guess: y(x) as a callable, or the values at the nodes
        ((M,) or (M, d)).  Default: g at the nodes.  (The companion solve of the error
        estimate, and each larger rule with ``rtol``/``atol``, start from the interpolant of
        the solution before them.)
    rtol, atol : float or array_like (d,), optional
        Solve to a tolerance: the number of nodes grows (by 1.5, or from the order for the
        composite rules) until the estimated error at every node meets ``atol + rtol |y|``;
        a failed solve (Newton, an eigenvalue, a non-finite kernel value) ends the search.
        Not together with ``n_nodes``; ``rule`` must then be a name.
    error_estimate : bool
        Estimate the error at the nodes with a companion solve on the same rule with 25%
        more nodes (see :mod:`integrallimits.fredholm._control`; not for a rule given as an
        :class:`~integrallimits.quadrature.IntervalRule`).  A solve whose companion
        fails, or differs from it by more than half the solution's size, is not a success
        (``stats["failure"]`` ``"unchecked"`` or ``"unresolved"``; its values are kept).
    newton_tol : float
        Newton stops when the update is below ``newton_tol * |y|`` (max norms; ``newton_tol``
        where y = 0).  Between 0 and 1.
    newton_maxiter : int
        Iteration cap.
    max_condition : float
        Threshold on the estimate of the 1-norm condition number (LAPACK dgecon's) of the
        system matrix (I - W, W the Nyström matrix or its Jacobian).  The relative
        error of the solve can be as large as about ``condition * 2.2e-16``; above
        ``max_condition`` (default 1e12, i.e. possibly only 4 correct digits) the
        solve is reported as failed: the equation is at (or numerically
        indistinguishable from) an eigenvalue, where it has no solution or
        infinitely many.  The estimate is always in ``stats["condition"]``.  For a
        vector system above it, the condition in units of each component's size (its
        components may be in other units) is taken where lower (a linear system is then
        solved in those units).
    raise_on_failure : bool
        Raise :class:`~integrallimits.SolverError` instead of returning a failed
        solution.

    Returns
    -------
    FredholmSolution
        ``x`` (the nodes), ``y`` ((M,) or (M, d)), the Nyström interpolant
        ``sol(x)``, ``status``, ``message`` and ``stats``.

    Notes
    -----
    The condition test concerns the *discrete* system.  With a low-order rule
    the discrete eigenvalues differ from the continuous ones by the quadrature
    error, so near a continuous eigenvalue the discrete system may still be
    moderately conditioned (condition ~ 1 / quadrature error); a large
    ``stats["condition"]`` that grows with n_nodes is the sign of it.  With the error
    estimate, ``stats["condition_growth"]`` is the exponent of that growth from the solve to
    its companion; at 0.75 times a composite rule's order or more (3 for the Gauss-type rules
    and Clenshaw-Curtis; and a condition number of 100 or more) 1 is (close to) an eigenvalue
    and the rule's discrete eigenvalue still off it by its quadrature error: the solves agree
    with each other but not necessarily with the equation (y = 1 + x - 2.5 l x +
    l int_0^1 3 x s y ds with l = 1 - 1e-6 has y = 1 + x; the trapezoid rule gives y = 1 on
    16 and 20 panels).  Such a solve is not a success (``stats["failure"] == "unresolved"``,
    the values kept), and a solve to a tolerance takes more nodes until the growth stops.

    A scalar K written with NumPy is evaluated on the whole grid of nodes in one
    call when it broadcasts (the matrix and the interpolant of a linear K,
    Newton's model for a separable one); those values are used only if they are
    finite and agree with the compiled K to 1e-13 on two entries of every row
    and every column, else the compiled K is called at every pair.

    The direct solve keeps the LU factors of a matrix (up to 256 unknowns) that it has met
    twice: a later solve whose matrix has the same bits -- the same kernel and rule again,
    with the same or another g -- uses them (the same solution and condition estimate, to
    the bit, without the factorisation).  K is evaluated in every solve; only the matrix
    it gives is compared.

    Examples
    --------
    y(x) = g(x) + int_0^1 e^{x - s} y(s)^2 / 2 ds with g(x) = e^{-x} - (1 - e^{-3}) e^x / 6
    (derived with SymPy) has the solution e^{-x} (and a second one, which Newton's method
    reaches from other initial guesses):

    >>> import numpy as np
    >>> from integrallimits import solve_fredholm
    >>> def K(x, s, y):
    ...     return 0.5 * np.exp(x - s) * y * y
    >>> def g(x):
    ...     return np.exp(-x) - (1.0 - np.exp(-3.0)) / 6.0 * np.exp(x)
    >>> sol = solve_fredholm(K, g, (0.0, 1.0), 16)
    >>> sol.success, bool(np.max(np.abs(sol.y - np.exp(-sol.x))) < 1e-14)
    (True, True)
    >>> bool(abs(sol(0.3) - np.exp(-0.3)) < 1e-14)                 # Nyström interpolation
    True

    A linear equation at an eigenvalue is refused: int_0^1 e^{x - s} y(s) ds has
    the eigenvalue 1 (eigenfunction e^x), so y = g + (that integral) is singular:

    >>> sol = solve_fredholm(lambda x, s: np.exp(x - s), np.cos, (0.0, 1.0), 8)
    >>> sol.success, "eigenvalue" in sol.message
    (False, True)
    """
    tolerance = check_tolerances(rtol, atol, n_nodes, None, "solve_fredholm")
    a, b = _check_interval(interval)
    if not (type(newton_tol) is float and 0.0 < newton_tol < 1.0):   # (the usual float at once:
        newton_tol = check_newton_tol(newton_tol)    # numbers.Real's ABC check costs ~0.8 us)
    max_condition = _check_positive(max_condition, "max_condition")
    if type(newton_maxiter) is not int and (isinstance(newton_maxiter, bool) or
                                            not isinstance(newton_maxiter, numbers.Integral)) \
            or newton_maxiter < 1:
        raise ValueError(f"newton_maxiter must be an integer >= 1, got {newton_maxiter!r}")
    if linear not in (None, True, False):
        raise ValueError(f"linear must be None, True or False, got {linear!r}")
    problem = _Problem(K, g, args, jacobian, linear, initial, newton_tol, int(newton_maxiter),
                       max_condition)

    def solve(n, start=None, keep_rows=False):
        rule_obj = _build_rule_checked(rule, n, a, b)
        work = _estimated_work(problem, rule_obj)
        if work < _interrupt.THREAD_WORK:   # (run_interruptibly would run it inline: at once)
            return _solve_on_rule(problem, rule_obj, start, keep_rows)
        return run_interruptibly(lambda: _solve_on_rule(problem, rule_obj, start, keep_rows),
                                 work)

    try:
        if tolerance is not None:
            sol = _to_tolerance(solve, rule, *tolerance)
        elif error_estimate and isinstance(rule, str):
            companion = []      # (the companion solve, which the probe of a Gauss rule reads)

            def solve_companion(n, start=None):
                companion.append(solve(n, start))
                return companion[-1]

            sol = _unresolved(_with_aliased_nodes(
                with_estimate(solve_companion, solve(n_nodes, keep_rows=True), rule, n_nodes), rule,
                companion[-1] if companion else None))
        else:
            sol = solve(n_nodes)
        if problem.kernel is not None and len(sol.x):
            said = _said_over_span(problem.kernel, sol.x, sol.y)
            if said:
                sol.message += f"  {said}"
    except Exception as exc:
        said_in_x(exc)
        raise
    sol.message = in_x(sol.message)
    if raise_on_failure and not sol.success:
        raise SolverError(sol.message)
    return sol


#: What the comparisons of :func:`_said_over_span` said lately: (id of the kernel's span check,
#: the first node, the last node) -> (that check, kept alive so its id stays its own, what it
#: said).
_SPANS = {}
_SPANS_MAX = 64


def _said_over_span(kernel, x, y):
    """What comparing K compiled against Python over the nodes ``x`` (values ``y``) says, or
    None (:func:`~integrallimits.kernels._user.check_over_span`): s up to x, and, with the
    nodes reversed, s from x on.  The kernel's check compares once per interval and then
    returns what it said then; so does this, from one look-up for both directions on the same
    nodes' ends (the two checks' look-ups and the reversed views cost ~2 us of a 50 us solve at
    M = 32)."""
    check = kernel._shared.get("span_check")
    if check is None:
        return None
    key = (id(check), float(x[0]), float(x[-1]))
    known = _SPANS.get(key)
    if known is not None and known[0] is check:
        return known[1]
    said = _user.check_over_span(kernel, x, y)
    said_reversed = _user.check_over_span(kernel, x[::-1], y[::-1])
    said = said or said_reversed
    if len(_SPANS) >= _SPANS_MAX:
        _SPANS.clear()
    _SPANS[key] = (check, said)
    return said


#: :func:`_estimated_work`: the kernel evaluations of a solve on M nodes, in units of (M d)^2
#: (a Newton solve of a scalar K: ~2 M^2 an iteration, a few iterations).
_WORK_PER_PAIR = 10.0


def _estimated_work(problem, rule_obj):
    """The estimated kernel evaluations of :func:`_solve_on_rule` on ``rule_obj``: above
    ``THREAD_WORK`` it runs in a worker thread, stoppable by Ctrl-C within a row of its
    matrices or a Newton iteration (:func:`~integrallimits.volterra._interrupt.run_interruptibly`;
    no result is returned: KeyboardInterrupt is raised in the caller)."""
    d = 1 if problem.kernel is None else problem.kernel.dim
    n = len(rule_obj.nodes) * d
    return _WORK_PER_PAIR * n * n


def _build_rule_checked(rule, n_nodes, a, b):
    _check_matrix_size(n_nodes)     # before the rule is built
    return _build_rule(rule, n_nodes, a, b)


class _Problem:
    """The equation of one solve_fredholm call, its arguments checked: the forcing and the
    compiled kernel are made on the first rule (probed at its first node, not at a, which a
    Gauss rule does not use) and reused by the companion and refinement solves."""

    def __init__(self, K, g, args, jacobian, linear, initial, newton_tol, newton_maxiter,
                 max_condition):
        self.K, self.g, self.args, self.jacobian = K, g, args, jacobian
        self.linear, self.initial = linear, initial
        self.newton_tol, self.newton_maxiter, self.max_condition = (newton_tol, newton_maxiter,
                                                                    max_condition)
        self.kernel = self.g_unchanged = None

    def prepare(self, nodes):
        """(g_vec, kernel, G): G is g at ``nodes`` as an (M, d) array where preparing made it
        (else None).  A g checked in an earlier call with the values it reads now is not
        called at the first node on its own (see :func:`~integrallimits.kernels.as_forcing`):
        its value there, which fixes the kernel's shape and where K is probed, is taken from
        g at all the nodes."""
        G = None
        if self.kernel is None:
            t0 = nodes[0]
            self.g_vec, y0 = _forcing(self.g, t0, self.args)
            if y0 is None:      # (g's value at t0: G[0], made only if K is compiled now)
                G = np.ascontiguousarray(self.g_vec(nodes, False))   # (checked finite)
            elif not (np.isfinite(y0).all() if y0.ndim else math.isfinite(y0)):
                raise ValueError(f"g(x) is not finite at x = {t0} (value {y0.tolist()})")
            self.kernel = _kernel_of(self.K, y0, t0, self.jacobian, self.args, G,
                                     self.g_vec.shape)
        return self.g_vec, self.kernel, G


#: The forcings of the plain functions g (no args) of the last solves (:func:`_forcing`): g ->
#: (the value key of what g read then, g as it was called then, its g_vec, g's code then, and
#: a reader that says whether g reads the same objects as then, or None).
_FORCINGS_OF = {}
_FORCINGS_MAX = 8


def _forcing(g, t0, args):
    """``as_forcing(g, t0, args, remember=True)``, for a plain function g without args taken
    from an earlier solve in which g was checked (as_forcing's memo: its value at t0 and its
    array call) while g reads the same values and calls the same helpers (the value key that
    as_forcing compares, the same code and g with fresh helpers): its g_vec, and y0 None (take g's
    value at the first node from g_vec at the nodes), as as_forcing returns them then, without
    making the g_vec again (~5 us of a 50 us solve at M = 32: its closures and checks).

    The g_vec's state is the same for every solve of g with these values: what its checks
    found, and g's values at the points of the last call that kept them (each new solution's
    ``snapshot`` drops them; a Fredholm solve itself neither takes nor keeps any)."""
    plain = args is None and type(g) is FunctionType
    if plain:
        known = _FORCINGS_OF.get(g)
        if known is not None and known[3] is g.__code__:
            # the same objects read (through g's helpers too): both keys as then, in one look
            # (~0.3 us; the two keys and the helpers' memo cost ~1.5 us)
            if known[4] is not None and known[4](g):
                return known[2], None
            if known[0] == _user.value_key(g, compiled=False) and \
                    _with_fresh_helpers(g) is known[1]:
                return known[2], None
    g_vec, y0 = as_forcing(g, t0, args, remember=True)
    if plain and y0 is None:    # (as_forcing's memo: g checked before with these values)
        if len(_FORCINGS_OF) >= _FORCINGS_MAX:
            _FORCINGS_OF.clear()
        fresh, same = _with_fresh_helpers(g), _user.reads_reader(g)
        # (the reader's objects are those of the key and the helpers above: checked, as a
        # global could change meanwhile only in another thread)
        if same is not None and not (_user.value_key(g, compiled=False) == g_vec.key and
                                     _with_fresh_helpers(g) is fresh):
            same = None
        _FORCINGS_OF[g] = (g_vec.key, fresh, g_vec, g.__code__, same)
    return g_vec, y0


#: The stats of a solve before it starts (:func:`_solve_on_rule` fills in a copy).
_STATS = {"nfev": 0, "njev": 0, "newton_iterations": 0, "newton_solves": 0,
          "jacobian": "not needed", "linear": False, "separable": False, "condition": float("nan"),
          "residual": float("nan"), "unknowns": 0, "rule": "", "compiled": True}


def _solve_on_rule(problem, rule_obj, start=None, keep_rows=False):
    """The Nyström solve of ``problem`` on ``rule_obj`` (no error estimate).  ``start``: a
    solution of the same problem on another rule (the one a companion or a refinement
    follows): Newton then starts from its Nyström interpolant, not from ``initial`` or g.
    ``keep_rows``: a scalar linear K's coefficient at three rows of the matrix is kept for
    the probe :func:`_with_unresolved_interpolant` (``sol._k_rows``)."""
    began = time.perf_counter()
    # writable copies: the compiled loops' signatures take plain C arrays
    nodes = np.array(rule_obj.nodes, dtype=float, order="C")
    weights = np.array(rule_obj.weights, dtype=float, order="C")
    M = nodes.shape[0]
    g_vec, kernel, G = problem.prepare(nodes)
    linear, max_condition = problem.linear, problem.max_condition
    if kernel.dim > 1:      # (M alone was checked before the rule was built)
        _check_matrix_size(M, kernel.dim)
    _user.clear_failures()
    d = kernel.dim
    if G is None:
        G = np.ascontiguousarray(g_vec(nodes, False))     # (g at the nodes is needed once)
    from_start = start is not None and start.success
    # made only if Newton runs (g's values: a copy of G; from ``start``: its interpolant, which
    # costs M M' kernel calls); a given ``initial`` is checked now
    Y0 = None if from_start or problem.initial is None else \
        _initial_values(problem.initial, nodes, G, kernel.scalar, d)

    is_linear_kernel = kernel.structure.get("kind") == "linear"
    counts = _assembly.new_counts()     # (made in the solving thread: Ctrl-C reaches it)
    addr = _assembly.addresses(kernel)
    affine, separable = ((True, False) if is_linear_kernel else
                         _structure(kernel, addr, nodes,
                                    max(1.0, _assembly.compiled("largest-abs")(G)), counts))
    use_linear = affine if linear is None else linear
    stats = _STATS.copy()       # (in its order; a copy costs less than the literal)
    stats["linear"], stats["unknowns"], stats["rule"] = bool(use_linear), M * d, rule_obj.name
    run_newton = not use_linear
    k_rows = None
    if use_linear:
        Y, status, message, not_affine, k_rows = _solve_linear(
            kernel, addr, not is_linear_kernel, nodes, weights, G, max_condition, counts, stats,
            keep_rows)
        if not_affine and linear is True:
            status = False
            message = (f"linear=True, but K is not affine in y: the residual of the linear "
                       f"solve is {stats['residual']:.3g}, far above rounding level; solve "
                       f"with linear=None (probe and fall back) or linear=False (Newton)")
        elif not_affine:
            stats["linear"] = False
            stats["linear_probe"] = "affine on the probes but not at the solution: Newton used"
            run_newton = True
            if np.all(np.isfinite(Y)):
                Y0 = Y
    if run_newton:
        if Y0 is None:
            Y0 = start._interpolate(nodes, G, counts) if from_start else G   # (Newton copies)
        newton = (kernel, addr, nodes, weights, G, problem.newton_tol, problem.newton_maxiter,
                  max_condition, counts, stats)
        result = None
        if separable:
            result = _solve_newton_separable(Y0, *newton)
        if result is None or result[1] is None:     # not separable (after all): general Newton
            result = _solve_newton(Y0 if result is None else result[0], *newton)
        Y, status, message = result
    stats["nfev"], stats["njev"] = counts[:_assembly.STOP].tolist()
    stats["seconds"] = time.perf_counter() - began
    record = _user.take_failure()
    if record is not None:
        _user.raise_recorded_failure(record, tuple(problem.args or ()))
    if not status and record is not None:
        what, where = _user.describe_failure(record)
        message = f"{what} returned a non-finite value (inf/nan) at {where}. {message}"
    if not status and record is not None and stats.get("failure") != "singular":
        stats["failure"] = "non-finite"        # (K's non-finite value: the cause)
    stats["failure"] = None if status else stats.get("failure", "newton")
    sol = FredholmSolution(rule_obj, Y, scalar=kernel.scalar, status=status, message=message,
                           stats=stats, kernel=kernel, g_vec=g_vec, g_nodes=G,
                           g_unchanged=problem.g_unchanged, nodes=nodes, weights=weights)
    problem.g_unchanged = sol._g_unchanged     # g's values are read once per call
    sol._k_rows = k_rows
    return sol


def _to_tolerance(solve, rule, rtol, atol, n_start=8, n_max=4096):
    """Grow the rule until the companion estimate meets atol + rtol |y| at every node."""
    if not isinstance(rule, str):
        raise ValueError("solve_fredholm with rtol/atol needs the rule as a name (its size is chosen)")
    n, history, sol, last, order = n_start, [], None, None, None
    while True:
        previous = sol
        sol = with_estimate(solve, solve(n, sol), rule, n)
        if sol.success:
            fit_tolerances((rtol, atol), sol.y[0], "solve_fredholm")
            last, order = _with_observed_order(sol, rule, n, last)
        # (an estimate whose condition number grows like M^p says nothing: more nodes)
        ratio = float(np.max(over_tolerance(sol.error_estimate, tolerance_of(sol.y, rtol, atol)))) \
            if sol.success and not sol._condition_grows else np.inf
        if ratio <= 1.0 and rule not in COMPOSITE_ORDERS:   # (a chance below the tolerance?)
            if _with_previous_solve(sol, previous, rule) > 1.0:
                ratio = float(np.max(over_tolerance(sol.error_estimate,
                                                    tolerance_of(sol.y, rtol, atol))))
        history.append((n, ratio))
        if ratio <= 1.0 or n >= n_max or not sol.success:   # a failed solve: more nodes
            break                                            # repeat it, ever more slowly
        n = min(next_size(n, ratio, rule, order), n_max)
    sol.stats["refinements"] = history
    if sol.success and sol._condition_grows:
        _fail_growing(sol, f" (up to {n} nodes)")
    elif sol.success and math.isnan(ratio):   # no estimate (its companion failed): not checked
        sol.status = -1
        sol.stats["failure"] = "unchecked"
        sol.message = (f"The tolerance could not be checked with {n} nodes: there is no error "
                       f"estimate ({sol.stats['error_estimate']}).")
    elif sol.success and ratio > 1.0:
        sol.status = -1
        sol.stats["failure"] = "tolerance"
        sol.message = (f"The tolerance could not be met with up to {n} nodes: the estimated error is "
                       f"{ratio:.3g} times atol + rtol |y|.")
    elif sol.success:
        sol.message += f" The estimated error meets atol + rtol |y| at every node ({n} nodes)."
    return sol


#: :func:`_with_observed_order`: estimates that fall more slowly than the composite rule's
#: order p, at an observed order below this share of p, are rescaled to that order.
SLOW_ORDER = 0.8
#: ... which is taken at least this (a jump of the data: 1).
LEAST_ORDER = 0.5


def _with_observed_order(sol, rule_name, n, last):
    """((n, the largest estimate), the observed order or None) for ``sol``, a success on ``n``
    nodes (panels) of the named rule with its estimate; ``last``: the previous solve's pair, or
    None.  A composite rule's estimate |y_M - y_M'| / (1 - (M/M')^p) takes the rule's order p,
    which data that jump or kink (in s, of K or g) do not give: at a jump the error falls like
    1/M.  The estimates of two solves of the refinement (same M'/M) fall like the error, so
    their observed order q = log(e0 / e1) / log(n1 / n0), where it is below SLOW_ORDER p, takes
    the place of p (at least LEAST_ORDER): the estimates are multiplied by (1 - (M/M')^p) /
    (1 - (M/M')^q), and the next size is chosen from q.  K = (s < 1/2) y, g = 1/2 on [0, 1]
    (y = 1), Simpson's rule to rtol = 1e-3: a success on 723 panels with an error of 1.8e-3
    and an estimate of 6.2e-4 (q = 1.0) without it.  No cost: the estimates are those the
    refinement made; estimates at the rounding level (below 1e3 times the condition number
    times eps |y|), which need not fall, are left as they were."""
    from ._control import _EPS, companion_size
    p = COMPOSITE_ORDERS.get(rule_name)
    est = np.array(sol.error_estimate, dtype=float)
    top = float(np.max(est)) if est.size and np.all(np.isfinite(est)) else math.nan
    if p is None or not math.isfinite(top) or sol._condition_grows:
        return None, None
    cond = sol.stats.get("condition")
    floor = 1e3 * _EPS * float(np.abs(sol.y).max()) * (cond if cond and math.isfinite(cond)
                                                        else 1.0)
    if last is None or n <= last[0] or top <= floor or not last[1] > top:
        return (n, top), None
    q = math.log(last[1] / top) / math.log(n / last[0])
    if q >= SLOW_ORDER * p:
        return (n, top), None
    q = max(q, LEAST_ORDER)
    r = n / companion_size(n, rule_name)
    factor = (1.0 - r ** p) / (1.0 - r ** q)
    sol.set_error_estimate(est.reshape(len(sol.x), -1) * factor)
    sol.stats["max_error_estimate"] = top * factor
    sol.stats["observed_order"] = q
    sol.message += (f"  The estimates fell like M^-{q:.2g} with the number of nodes, below the "
                    f"rule's order {p}: they were raised by {factor:.3g} to that order.")
    return (n, top), q


#: :func:`_flat_tail`: the Legendre (Chebyshev, for Clenshaw-Curtis) coefficients of the
#: integrand's interpolant through the nodes, over the last quarter of the degrees, above this
#: share of those over the quarter before: no geometric decay (a kink falls like k^-1.5,
#: 0.65 from quarter to quarter; a jump like k^-0.5, 0.87; data resolved geometrically to an
#: error of 1e-4 or less, below 0.3: rho^(M/4) >= 3.3 where the error is rho^(-2 M)) ...
FLAT_TAIL = 0.3
#: ... and above this many times eps times the integrand's size times the condition number
#: (rounding's flat tail is not the data's).
TAIL_ROUNDING = 1e3
#: ... on TAIL_NODES nodes or more (a quarter of fewer degrees, 8, does not tell algebraic decay
#: from the slow start of a geometric one: y = g + int_0^1 y / (4 + 100 (x - s)^2) ds, smooth,
#: had a flat tail on 12 Gauss-Legendre nodes).
TAIL_NODES = 32


def _tail_coefficients(rule_name, sol, F):
    """The magnitudes of the coefficients of degrees M // 2 .. M - 1 of the interpolants through
    the nodes of ``F`` ((M, k): the integrand at k rows): Chebyshev's (a DCT of the values at
    the Clenshaw-Curtis nodes, O(M log M)) or Legendre's from the rule's weights (exact for
    Gauss-Legendre; the three-term recurrence, O(M^2) time, O(M) memory)."""
    M = F.shape[0]
    if rule_name == "clenshaw-curtis":
        ext = np.concatenate((F, F[-2:0:-1]), axis=0)
        c = np.abs(np.fft.rfft(ext, axis=0).real[:M]) / (M - 1)
        return c[M // 2:]
    a, b = sol.rule.a, sol.rule.b
    t = (2.0 * np.asarray(sol.x, dtype=float) - (a + b)) / (b - a)
    wF = (np.asarray(sol.rule.weights, dtype=float) * (2.0 / (b - a)))[:, None] * F
    p0, p1 = np.ones(M), t.copy()
    out = np.empty((M - M // 2, F.shape[1]))
    for k in range(M):
        if k >= M // 2:
            out[k - M // 2] = np.abs((k + 0.5) * (p0 @ wF))
        p0, p1 = p1, ((2 * k + 3) * t * p1 - (k + 1) * p0) / (k + 2)
    return out


def _flat_tail(sol, rule_name):
    """Whether the integrand s -> K(x, s, y(s)) at the first, middle and last node x has a flat
    tail of coefficients through the M nodes (:data:`FLAT_TAIL`, above rounding): data that are
    not smooth (a kink or jump of g, of K in s), on which a Gauss-type or Clenshaw-Curtis rule
    converges algebraically, not geometrically."""
    x = np.ascontiguousarray(sol.x, dtype=float)
    M = len(x)
    if M < TAIL_NODES:
        return False
    kernel = sol._kernel
    addr = _assembly.addresses(kernel)
    rows = np.ascontiguousarray(x.take((0, M // 2, M - 1)))
    counts = np.zeros(2, dtype=np.int64)
    Y = np.ascontiguousarray(sol._y2, dtype=float)
    _user.clear_failures()
    try:
        if kernel.scalar:
            V = np.empty((3, M))
            _assembly.compiled("values")(addr[0], kernel.params, rows, x, Y, V, counts)
            F = V.T
        else:
            F = _assembly.pointwise_values(kernel, addr, np.repeat(rows, M),
                                           np.concatenate((x, x, x)),
                                           np.concatenate((Y, Y, Y)), counts)
            F = F.reshape(3, M, -1).transpose(1, 0, 2).reshape(M, -1)
    finally:
        _user.take_failure()
    sol.stats["nfev"] += int(counts[0])
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + int(counts[0])
    if not np.all(np.isfinite(F)):
        return False
    c = _tail_coefficients(rule_name, sol, F)
    h = len(c) // 2
    lo, hi = c[:h].max(axis=0), c[h:].max(axis=0)
    cond = sol.stats.get("condition")
    rounding = TAIL_ROUNDING * _EPS * np.abs(F).max(axis=0) * \
        max(1.0, cond if cond and math.isfinite(cond) else 1.0)
    return bool(np.any((hi > FLAT_TAIL * lo) & (hi > rounding)))


def _with_previous_solve(sol, previous, rule_name):
    """The factor (>= 1) by which the largest estimate of ``sol`` (a success of a Gauss-type or
    Clenshaw-Curtis rule whose estimates meet the tolerance) was raised, in place, to the
    difference from ``previous`` (the refinement's solve before it, with fewer nodes: its
    Nyström interpolant at the nodes of ``sol``, enveloped over neighbours as the companion's
    is), where the data are not smooth (:func:`_flat_tail`).  There the rules converge
    algebraically, and the error's constant depends on where a kink falls among the nodes,
    differently for the companion's, so |y_M - y_M'| can cancel by chance; the refinement stops
    at the first such chance below the tolerance: y = g + int_0^2 a cos(b (x - s)) y ds,
    y = p0 + |x - c| (g with a kink), Gauss-Legendre to rtol = 1e-7: the estimates fell by a
    factor of 41 from 315 to 473 nodes, where the error was 51 times the estimate at a node.
    The previous solve's error is larger (it has fewer nodes) and its constant another: the two
    differences seldom cancel together, and this one bounds the error of ``sol``.  Costs M M''
    kernel evaluations (the interpolant) and 3 M (the integrand at three rows), only where
    the estimates meet the tolerance."""
    if previous is None or not previous.success or not _flat_tail(sol, rule_name):
        return 1.0
    counts = np.zeros(2, dtype=np.int64)
    _user.clear_failures()
    try:
        values = previous._interpolate(sol.x, sol._g_nodes, counts)
    finally:
        _user.take_failure()
    sol.stats["nfev"] += int(counts[0])
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + int(counts[0])
    y2 = sol._y2
    diff = np.empty(y2.shape)
    top = _assembly.compiled("estimate")(
        np.ascontiguousarray(y2), np.ascontiguousarray(values, dtype=float), 2, 1.0, -1.0,
        diff)[0]
    est = np.array(sol.error_estimate, dtype=float).reshape(y2.shape)
    old = float(np.max(est))
    if not (math.isfinite(top) and top > old):
        return 1.0
    np.maximum(est, diff, out=est)
    sol.set_error_estimate(est)
    sol.stats["max_error_estimate"] = float(np.max(est))
    sol.stats["error_estimate"] += f" and the solve with {len(previous.x)}"
    sol.message += (f"  The integrand is not smooth (its coefficients through the nodes do not "
                    f"fall geometrically), where the companion's difference can cancel by "
                    f"chance: the estimates were raised to the difference from the solve with "
                    f"{len(previous.x)} nodes ({float(top):.3g}).")
    return float(top) / old if old > 0.0 else math.inf


def _unresolved(sol):
    """``sol`` (a solve on a given rule with its estimate), failed where its estimate exceeds
    UNRESOLVED times the largest |y|: the companion differs from it by about the solution's
    size, so it has no correct digit.  y = x + int_0^1 3 x s y ds has no solution (3 is an
    eigenvalue); on the trapezoid rule with n = 8 or 32 (whose discrete eigenvalue is off 3) it was a
    success with max |y| = 128 and 2050 and estimates of 200 and 3200.  Failed also where the
    companion failed (no estimate): its values could not be checked."""
    if not sol.success:
        return sol
    est, size = (sol.stats.get("max_error_estimate", math.nan),
                 _assembly.compiled("largest-abs")(sol._y2))      # (max |y|)
    if math.isnan(est):   # the companion failed: no digit of the values could be checked
        sol.status = -1
        sol.stats["failure"] = "unchecked"
        sol.message = (f"The solution could not be checked (the equation may have no solution, or "
                       f"one the rule does not resolve; use another number of nodes, or "
                       f"error_estimate=False to accept the values unchecked). {sol.message}")
    elif est > UNRESOLVED * size:
        sol.status = -1
        sol.stats["failure"] = "unresolved"
        sol.message = (f"The solution has no reliable digits: the companion solve "
                       f"({sol.stats['error_estimate']}) differs from it by about "
                       f"{est:.3g}, against a solution of size {size:.3g} (the equation may have "
                       f"no solution, or a kernel the rule does not resolve).  {sol.message}")
    elif sol._condition_grows:
        _fail_growing(sol, "")
    return sol


#: :func:`_with_aliased_nodes`: the most gaps between nodes probed (the middles of as many
#: blocks) and the rows x probed (the first, middle and last node).
ALIAS_GAPS, ALIAS_ROWS = 2, 3
#: :func:`_with_aliased_nodes`: a piece's differences over this share of its gap's show an
#: integrand that is not smooth at the nodes' spacing (smooth: ALIAS_SPAN^(p + 1), below 0.07).
NOT_SMOOTH = 0.25


def _with_aliased_nodes(sol, rule_name, companion=None):
    """``sol`` (a solve on a given rule, with its estimate), its estimates raised where the
    integrand oscillates at the spacing of the nodes: at most ALIAS_GAPS gaps [s_m, s_m+1]
    between nodes, each taken on p + 2 equally spaced points of the gap and of its pieces
    [s_m, s_m + c h], c = ALIAS_SPAN and OFF_GRID_SPAN (two: at one, Simpson's 4 panels took
    cos(2 pi 48 s) 0.994 cycles apart) (h its length, p the composite rule's order),
    the differences of order p + 1 of s -> K(x, s, y(s)) at ALIAS_ROWS nodes x, y the Nyström
    interpolant (which holds g's own oscillation).  Where a piece's exceed NOT_SMOOTH times the
    whole gap's (for smooth data they are ALIAS_SPAN^(p + 1) times smaller), and (b - a) /
    (p + 1) times them the largest estimate, the integrand is not smooth at the nodes'
    spacing, and the nodes may take it at one phase of an oscillation, as may the
    companion's (4 and 6 panels of [0, 1] both take cos(2 pi 48 s) at 1): each gap's
    quadrature then misses up to h times the spread of the integrand over the gap, alike in
    every gap, so the estimates are raised to (b - a) times the largest spread over the
    points of such gaps where that exceeds ROUGH_FIXED times the largest estimate
    (:func:`_unresolved` then fails a solve so left without a digit).  (The differences
    themselves cancel at some phases: 0.13 on the piece for an integrand of spread 3.)  y = e^x with
    K = cos(2 pi 48 (x - s)) / 2, trapezoid and Simpson on 4 panels: errors of 1.73 and 1.72
    with estimates of 8.9e-3 and 3.7e-5; g = cos(2 pi 48 x), K = x s / 2: 0.30 for 1.9e-3 and
    4.5e-16.  Only the composite rules (equally spaced nodes, whose companion's spacing can be
    commensurate): the Gauss-type rules' and Clenshaw-Curtis' estimates are geometric, far
    below these differences of smooth data (K = cos(10 (x - s)) y^2 / 2 on 8 Gauss-Legendre
    nodes: a piece's differences where the gap's cancel, the estimate raised from 4e-8 to
    0.35); those rules (given their ``companion`` solve) are probed by
    :func:`_with_unresolved_interpolant` instead.  (3 (p + 2) ALIAS_GAPS points of the
    interpolant, M kernel evaluations each, and as many times ALIAS_ROWS; in ``nfev``.)"""
    M = len(sol.x)
    p = COMPOSITE_ORDERS.get(rule_name)
    if p is None and sol.success and M >= 3 and companion is not None and companion.success:
        return _with_unresolved_interpolant(sol, rule_name, companion)
    if not sol.success or M < 3 or p is None:
        return sol
    from ..volterra._adaptive import ALIAS_SPAN, OFF_GRID_SPAN, difference_weights
    est = np.array(sol.error_estimate, dtype=float).reshape(M, -1)
    if not np.all(np.isfinite(est)):
        return sol
    x = np.asarray(sol.x, dtype=float)
    gaps = _spread_gaps(M, ALIAS_GAPS)
    u = np.arange(p + 2) / (p + 1.0)
    shares = (1.0, ALIAS_SPAN, OFF_GRID_SPAN)
    points = np.concatenate([x[m] + share * (x[m + 1] - x[m]) * u
                             for m in gaps.tolist() for share in shares])
    rows = x[np.unique([0, M // 2, M - 1])]
    counts = np.zeros(2, dtype=np.int64)
    _user.clear_failures()
    try:
        Y = _probed(sol._interpolate(np.ascontiguousarray(points), np.ascontiguousarray(
            sol._g_vec(points, False)), counts))
        kernel = sol._kernel
        addr = _assembly.addresses(kernel)
        one = np.ones(1)
        # (the integrand at each point, for every row: (points, rows, d))
        F = _probed(np.stack([_assembly.nystrom_sums(kernel, addr, np.ascontiguousarray(rows),
                                                     np.ascontiguousarray(points[j:j + 1]), one,
                                                     np.ascontiguousarray(Y[j:j + 1]), counts)
                              for j in range(len(points))]))
    except Exception as exc:   # noqa: BLE001 (g or K raised between the nodes: unchecked, and
        if not _user.raised_by_user(exc):   # said so)
            raise
        return _not_probed(sol, exc)
    finally:
        _user.take_failure()
    sol.stats["nfev"] += int(counts[0])
    sol.stats["error_estimate_nfev"] = sol.stats.get("error_estimate_nfev", 0) + int(counts[0])
    F = F.reshape(len(gaps), len(shares), p + 2, *F.shape[1:])   # (gap, share, point, ...)
    diffs = np.abs(np.einsum("j,gwjrd->gwrd", difference_weights(p), F))
    whole, piece = diffs[:, 0], diffs[:, 1:].max(axis=1)
    length = float(x[-1] - x[0])
    top = est.max(axis=0)
    rough = (piece > NOT_SMOOTH * whole) & (length * piece / (p + 1) > top)
    spread = F.max(axis=(1, 2)) - F.min(axis=(1, 2))         # (gap, row, d)
    bound = length * np.where(rough, spread, 0.0).max(axis=(0, 1))
    return _raised_to(sol, est, bound, (
        f"  The integrand oscillates at the spacing of the nodes: between them its differences "
        f"of order {p + 1} are over {NOT_SMOOTH:g} times those across a whole gap, and the "
        f"nodes (and the companion's) may sample it at one phase; the estimates were raised to "
        f"a bound of what the rule misses ({float(bound.max()):.3g})."))


class _NotFinite(Exception):
    """The compiled K (or the interpolant) between the nodes raised or was not finite there:
    :func:`_probed`'s, marked as the user's (:func:`_user.from_user`)."""


def _probed(values):
    """``values`` of the probes between the nodes (of the compiled K, or the interpolant that
    reads it), or :class:`_NotFinite` where one is not finite: a K that raised there left a
    NaN (and a record, said in the exception), which the comparisons read as smooth (a
    success 1.73 off with an estimate of 8.9e-3, unchecked without a word)."""
    if np.all(np.isfinite(values)):
        return values
    rec = _user.take_record()
    if rec is None or rec.kind == _user.NOT_FINITE:
        raise _user.from_user(_NotFinite("the integrand is not finite there"))
    raise _user.from_user(_NotFinite(_user.failure_said(rec)))


def _not_probed(sol, exc):
    """``sol``, whose integrand could not be probed between the nodes (``exc``: the user's
    exception there, or :class:`_NotFinite`), with its message saying so."""
    what = str(exc) if isinstance(exc, _NotFinite) else \
        f"{type(exc).__name__} raised by g or K there ({exc})"
    sol.message += (f"  The integrand was not checked between the nodes (where the rule "
                    f"may miss an oscillation or a kink that every node count samples "
                    f"alike): {what}.")
    return sol


def _spread_gaps(M, n):
    """The indices m of at most ``n`` of the M - 1 gaps [x_m, x_m+1] between M nodes, spread
    evenly (the middles of n equal shares of them)."""
    n = min(M - 1, n)
    return (2 * np.arange(n) + 1) * (M - 1) // (2 * n)


def _raised_to(sol, est, bound, said):
    """``sol`` with its estimates ``est`` ((M, d), a copy) raised to ``bound`` (d,) and ``said``
    added to its message, where the bound exceeds ROUGH_FIXED times their largest; else
    ``sol`` as it was."""
    from ..volterra._adaptive import ROUGH_FIXED
    if not np.any(bound > ROUGH_FIXED * est.max(axis=0)):
        return sol
    np.maximum(est, bound, out=est)
    sol.stats["max_error_estimate"] = float(est.max())
    sol.set_error_estimate(est)
    sol.message += said
    return sol


#: :func:`_with_unresolved_interpolant`: the gaps between nodes probed (at the shares
#: ALIAS_SPAN and OFF_GRID_SPAN of each) and the rows x probed (the first, middle and last node).
INTERPOLANT_GAPS = 4
#: :func:`_with_unresolved_interpolant`: the integrand differs from its interpolant through the
#: M nodes by over this share of its size: the nodes do not resolve it (aliased data: 0.53 to
#: 2.0 on the probes; resolved data, whose estimates are honest, below 0.07 from M = 8 on) ...
NOT_RESOLVED = 0.5
#: ... and the companion's interpolant is off it by over this share of that: no sign of the
#: geometric convergence that makes the companion's estimate honest (smooth data just short of
#: resolved, cos(2 pi 3 x) on 8 nodes or cos(2 pi 8 x) on 16: 0.07 to 0.46, where the
#: estimates were within 2 % of the errors; aliased data 0.43 to 3.1 (the miss above: 1.26).
NOT_CONVERGING = 0.5
#: :func:`_with_unresolved_interpolant` probes between the nodes only where the upper half of
#: the Legendre coefficients of the interpolant through the nodes exceeds this share of the
#: integrand's size there (resolved data's fall geometrically: no probe, no cost).
RESOLVED = 0.01
_UNSCALED = np.zeros(0)     # (the rows of F as they are: no y to multiply them by)


@lru_cache(maxsize=64)
def _barycentric_weights(rule_name, n, a, b):
    """The barycentric weights of the polynomial interpolant through the nodes of the named
    rule (n nodes on [a, b]; any common factor): Gauss-Legendre's from its weights,
    (-1)^m sqrt((1 - t_m^2) w_m) (t_m on [-1, 1]), O(n); the others' from the products
    prod_k (x_m - x_k) of the nodes, scaled to an interval of length 4 (no overflow)."""
    rule = _cached_rule(rule_name, n, a, b)
    x = np.asarray(rule.nodes, dtype=float)
    if rule_name == "gauss-legendre":
        t = (2.0 * x - (a + b)) / (b - a)
        w = np.sqrt(np.abs((1.0 - t * t) * np.asarray(rule.weights, dtype=float)))
        w[1::2] *= -1.0
        return w
    d = (x[:, None] - x[None, :]) * (4.0 / (b - a))
    np.fill_diagonal(d, 1.0)
    return 1.0 / np.prod(d, axis=1)


@lru_cache(maxsize=64)
def _upper_legendre(rule_name, n, a, b):
    """The (n - n // 2, n) matrix that takes values at the n nodes of the named rule on [a, b]
    to the Legendre coefficients of degrees n // 2 .. n - 1 of their interpolant:
    Gauss-Legendre's (2 k + 1) / 2 w_m P_k(t_m) (exact: the products have degree below 2 n);
    the others' from the inverse of the Legendre-Vandermonde matrix of the nodes."""
    rule = _cached_rule(rule_name, n, a, b)
    t = (2.0 * np.asarray(rule.nodes, dtype=float) - (a + b)) / (b - a)
    V = np.polynomial.legendre.legvander(t, n - 1)
    if rule_name == "gauss-legendre":
        w = np.asarray(rule.weights, dtype=float) * (2.0 / (b - a))
        T = (V * w[:, None]).T * ((2.0 * np.arange(n) + 1.0) / 2.0)[:, None]
    else:
        T = np.linalg.inv(V)
    return np.ascontiguousarray(T[n // 2:])


def _with_unresolved_interpolant(sol, rule_name, companion):
    """``sol`` (a solve on a Gauss-type or Clenshaw-Curtis rule of M nodes, with its estimate
    from ``companion``, the solve on M' nodes), its estimates raised where neither rule
    resolves the integrand.  These rules are interpolatory: each integrates the polynomial
    interpolant p of degree M - 1 of s -> F(s) = K(x, s, y(s)) through its nodes, so the
    quadrature misses int (F - p), at most (b - a) max |F - p|.  Where F is resolved, p follows
    it between the nodes (|F - p| below 0.07 of F's size from 8 nodes on, falling
    geometrically) and the companion's estimate, geometric too, is honest (K = cos(10 (x - s))
    y^2 / 2 on 8 Gauss-Legendre nodes: 4e-8, although p is off F by 0.07 of its size).  Where
    F oscillates faster than the nodes resolve, the nodes (and the companion's) take it at
    scattered phases, p is off F between them by about F's size, and the companion can agree
    by chance: g = cos(2 pi 48 x), K = x s / 2, 16 Gauss-Legendre nodes: an error of 0.085
    with an estimate of 1.9e-3.  So F is taken at INTERPOLANT_GAPS gaps (at the shares
    ALIAS_SPAN and OFF_GRID_SPAN of each) at the first, middle and last node x, y from the
    Nyström interpolant (which holds g's own oscillation); where max |F - p| there exceeds
    NOT_RESOLVED times max |F|, and the companion's interpolant p' (through its nodes, y its
    values) is off F by over NOT_CONVERGING times that (no sign of convergence: smooth data
    just short of resolved have their p' markedly closer, and honest estimates), and (b - a)
    max |F - p| exceeds ROUGH_FIXED times the largest estimate, the estimates are raised to
    (b - a) max |F - p| (:func:`_unresolved` then fails a solve so left without a digit).
    The points are probed only where the upper half of p's Legendre coefficients exceeds
    RESOLVED times F's size at the nodes (3 M evaluations of F, none for a scalar linear K
    k(x, s) y, whose k there the solve's matrix held; resolved data's coefficients fall
    geometrically), which costs 2 INTERPOLANT_GAPS points of the Nyström interpolant (M
    kernel evaluations each) and 6 INTERPOLANT_GAPS evaluations of F, and 3 M' more where p is
    off F (all in ``nfev``).)"""
    x = sol.x
    M = len(x)
    a, b = sol.rule.a, sol.rule.b
    # (resolved data: the upper half of the interpolant's Legendre coefficients is small)
    T = _upper_legendre(rule_name, M, a, b)
    k_rows = sol._k_rows        # k(x, s) y: k at the rows, kept from the solve's matrix
    if k_rows is not None and _assembly.compiled("resolved")(T, k_rows, sol.y, RESOLVED):
        _user.take_failure()    # (no kernel call, not 3 M of the compiled k; the state the
        return sol              # clear-and-take around the probe below leaves)
    rows = x.take((0, M // 2, M - 1))
    counts = np.zeros(2, dtype=np.int64)
    kernel = sol._kernel
    addr = _assembly.addresses(kernel)

    def integrand(s, Y):    # F(x, s) at the rows x: (3, len(s), d)
        n = len(s)
        if kernel.scalar:   # (the compiled grid: no arrays of the pairs to make)
            V = np.empty((3, n))
            _assembly.compiled("values")(addr[0], kernel.params, rows, s, Y, V, counts)
            return _probed(V[:, :, None])
        return _probed(_assembly.pointwise_values(
            kernel, addr, np.repeat(rows, n), np.concatenate((s, s, s)),
            np.concatenate((Y, Y, Y)), counts).reshape(3, n, -1))

    _user.clear_failures()
    try:
        Fn = integrand(x, sol._y2)  # (the probe's F at the nodes: from the compiled K)
        if k_rows is None:          # (else checked above)
            if Fn.shape[2] == 1:    # (a scalar K: in two dimensions, one compiled pass)
                if _assembly.compiled("resolved")(T, Fn.reshape(3, M), _UNSCALED, RESOLVED):
                    return sol
            elif not (np.abs(np.einsum("km,rmd->rkd", T, Fn)).max(axis=(0, 1)) >
                      RESOLVED * np.abs(Fn).max(axis=(0, 1))).any():
                return sol
        from ..volterra._adaptive import ALIAS_SPAN, OFF_GRID_SPAN
        size = np.abs(Fn).max(axis=(0, 1))
        gaps = _spread_gaps(M, INTERPOLANT_GAPS)
        h = x[gaps + 1] - x[gaps]
        points = np.ascontiguousarray(np.concatenate([x[gaps] + ALIAS_SPAN * h,
                                                      x[gaps] + OFF_GRID_SPAN * h]))
        Y = _probed(sol._interpolate(points, np.ascontiguousarray(sol._g_vec(points, False)),
                                     counts))
        Fp = integrand(points, Y)
        off = np.abs(Fp - _interpolant(rule_name, a, b, x, Fn, points)).max(axis=(0, 1))
        unresolved = off > NOT_RESOLVED * np.maximum(size, np.abs(Fp).max(axis=(0, 1)))
        if np.any(unresolved):
            xc = np.asarray(companion.x, dtype=float)
            Fc = integrand(xc, np.ascontiguousarray(companion._y2, dtype=float))
            off_c = np.abs(Fp - _interpolant(rule_name, a, b, xc, Fc, points)).max(axis=(0, 1))
            unresolved &= ~(off_c <= NOT_CONVERGING * off)
    except Exception as exc:   # noqa: BLE001 (g or K raised between the nodes: unchecked, and
        if not _user.raised_by_user(exc):   # said so)
            raise
        return _not_probed(sol, exc)
    finally:
        _user.take_failure()
        sol.stats["nfev"] += int(counts[0])
        sol.stats["error_estimate_nfev"] = (sol.stats.get("error_estimate_nfev", 0) +
                                            int(counts[0]))
    est = np.array(sol.error_estimate, dtype=float).reshape(M, -1)
    if not np.all(np.isfinite(est)):
        return sol
    bound = (b - a) * np.where(unresolved, off, 0.0)
    return _raised_to(sol, est, bound, (
        f"  The nodes do not resolve the integrand: between them it differs from its "
        f"interpolant through the {M} nodes (which the rule integrates) by "
        f"{float(off.max()):.3g}, over {NOT_RESOLVED:g} times its size, and from the "
        f"companion's by about as much; the estimates were raised to a bound of what the rule "
        f"misses ({float(bound.max()):.3g})."))


def _interpolant(rule_name, a, b, nodes, F, points):
    """The polynomial interpolant through ``nodes`` (those of the named rule) of the values
    ``F`` ((R, n, d)) there, at the ``points`` ((R, P, d)); a point on a node takes its value."""
    with np.errstate(divide="ignore", invalid="ignore"):
        q = _barycentric_weights(rule_name, len(nodes), a, b)[None, :] / \
            (points[:, None] - nodes[None, :])
        q /= q.sum(axis=1)[:, None]
    on = points[:, None] == nodes[None, :]
    if on.any():
        hit = on.any(axis=1)
        q[hit] = on[hit]
    return np.einsum("pm,rmd->rpd", q, F)


def _fail_growing(sol, where):
    """Fail ``sol``, a success whose condition number grows like the rule's M^p (see
    :func:`~integrallimits.fredholm._control.condition_message`); its values are kept."""
    sol.status = -1
    sol.stats["failure"] = "unresolved"
    sol.message = f"{condition_message(sol)}{where}  {sol.message}"


def _initial_values(initial, nodes, G, scalar, d):
    if initial is None:
        return G.copy()
    if callable(initial):
        values = []
        for x in nodes.tolist():
            with _user.raised_at("initial(x)", "x = {}", x):   # (the user's error, with where)
                values.append(initial(x))
        try:
            values = np.array(values)
        except ValueError as exc:      # (values of different shapes at different nodes)
            raise ValueError(f"initial(x) must return values of one shape at every node: {exc}") \
                from None
    else:
        values = np.asarray(refuse_masked(initial, "initial"))
    if np.iscomplexobj(values):   # a cast keeps the real parts, with a warning only
        raise TypeError("initial must be real, got complex values")
    if values.dtype == object or not (np.issubdtype(values.dtype, np.number)
                                      or values.dtype == bool):
        raise TypeError(f"initial must give real numbers, got dtype {values.dtype}")
    values = values.astype(float)
    expected = (nodes.shape[0],) if scalar else (nodes.shape[0], d)
    if values.shape != expected:
        raise ValueError(f"initial must give values of shape {expected} at the {nodes.shape[0]} "
                         f"nodes, got shape {values.shape}")
    if not np.all(np.isfinite(values)):
        raise ValueError("initial must be finite at the nodes")
    return np.ascontiguousarray(values.reshape(nodes.shape[0], d))


def _residual(kernel, addr, nodes, weights, G, Y, counts):
    """F(Y) = Y - G - sum_m w_m K(s_i, s_m, Y_m) at the nodes (an (M, d) array), and the sums."""
    sums = _assembly.nystrom_sums(kernel, addr, nodes, nodes, weights, Y, counts)
    return Y - G - sums, sums


def _solve_linear(kernel, addr, affine, nodes, weights, G, max_condition, counts, stats,
                  keep_rows=False):
    """One LU solve of (I - W) y = g + offset; returns (Y, status, message, not_affine, rows):
    ``rows`` (with ``keep_rows``) the values of a scalar linear K's coefficient k(x, s_m) at
    the first, middle and last node x (a (3, M) copy made before the matrix overwrote them),
    else None."""
    M, d = G.shape
    n = M * d
    check = affine or kernel.structure.get("kind") != "linear"
    rows = None     # (k's values at the probe's rows: see _with_unresolved_interpolant)
    if kernel.scalar and not check:     # k(x, s) y: A = I - the values of k times the weights
        A = _assembly.grid_values(kernel, addr, nodes, nodes, None, counts)
        if keep_rows:       # (take: ~0.2 us; A[[0, M // 2, M - 1]] ~1 us)
            rows = A.take((0, M // 2, M - 1), 0)
        anorm = _assembly.compiled("system-matrix")(A, weights)      # NaN if A is not finite
        offset, b, finite = 0.0, G.reshape(n), math.isfinite(anorm)
    else:
        A = np.empty((n, n))
        offset = np.empty((M, d))
        _assembly.compiled("linear-blocks")(addr[0], addr[1], addr[2], affine, kernel.params,
                                            nodes, nodes, weights, A, offset, counts)
        _assembly.raise_if_stopped(counts)
        b, anorm = (G + offset).reshape(n), None
        finite = _all_finite(A) and _all_finite(b)
    if not finite:
        stats["failure"] = "non-finite"
        return (np.full((M, d), np.nan), False,
                "K is not finite at some pair of nodes (the Nyström matrix has inf/nan entries).",
                False, None)
    if anorm is None:   # A = W from the blocks (for vector y, also of a linear K(x, s)): I - W
        if check:       # |W| |Y| scales the rounding in the residual check below
            absW = np.abs(A)
        _identity_minus(A)
        anorm = float(_lapack().dlange("I", A.T))  # ||A||_1 = ||A^T||_inf, without a copy of |A|
    # factors, condition estimate and solution in one compiled call (LAPACK's dgetrf on A^T,
    # dgecon's estimate with norm "I" on its factors: cond_1(A), dgetrs with the transpose), or the
    # solution from the factors kept for a matrix with the same bits
    Y = np.array(b, dtype=float)       # (b may be a view of G)
    # (a vector system's components may be in other units: see _equilibrated_solve)
    original = A.copy() if d > 1 else None
    cond = stats["condition"] = _assembly.linear_solve(A, anorm, Y)
    if original is not None and math.isfinite(cond) and cond > max_condition:
        Y, cond = _equilibrated_solve(original, np.array(b, dtype=float), Y, cond, d)
        stats["condition"] = cond
    Y = Y.reshape(M, d)
    stats["newton_solves"] = 0
    if not math.isfinite(cond) or cond > max_condition:     # (a float: math's test at once)
        if not math.isfinite(cond):
            Y = np.full((M, d), np.nan)
        stats["failure"] = "singular"
        return Y, False, _SINGULAR.format(cond=cond, limit=max_condition), False, None
    if check:
        # Verify on the original equations: for K affine in y the residual is rounding error.
        # (A two-argument K(x, s) is linear by construction: no check.)
        F, _ = _residual(kernel, addr, nodes, weights, G, Y, counts)
        scale = np.abs(Y) + np.abs(G) + (absW @ np.abs(Y).reshape(n)).reshape(M, d) + np.abs(offset)
        residual = float(np.abs(F).max())
        stats["residual"] = residual
        size = float(scale.max())        # (relative: max(1, size) passed anything at 1e-30)
        if not np.isfinite(residual) or residual > 64 * _EPS * n * (size if size > 0 else 1.0):
            return Y, False, "", True, None
    return Y, True, _solved_directly(n, cond), False, rows


@lru_cache(maxsize=64)
def _solved_directly(n, cond):
    """The message of a direct solve of ``n`` unknowns with the condition estimate ``cond`` (a
    repeated system's: formatting the float costs ~0.6 us)."""
    return (f"The linear Nyström system ({n} unknowns) was solved directly; condition number "
            f"estimate {cond:.3g}.")


def _in_units(A, Y, b, d):
    """(S, s): the system matrix A (n, n) in units of each component's size, S = D^-1 A D, and
    the diagonal s of D (n,): each of the ``d`` components' largest |y| (over the nodes of
    ``Y``, or of ``b`` where that is 0 or not finite; the unknowns ordered node by node),
    rounded to a power of 2 (exact); S None where it is not finite.

    A vector system whose components are in other units (y0 ~ 1e6, y1 ~ 1e-6, coupled by
    entries of 1e12 and 1e-12) has a 1-norm condition number of 1e22 while S, the same
    equations in units of each component's size, is well conditioned: such a system was
    refused as "nearly singular" (1 an eigenvalue of the operator; for Newton's method, a
    solution that is not isolated) though a change of units solves it to rounding."""
    n = A.shape[0]
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        size = np.max(np.abs(Y.reshape(n // d, d)), axis=0)
        other = np.max(np.abs(b.reshape(n // d, d)), axis=0)
        size = np.where(np.isfinite(size) & (size > 0), size, other)
        size = np.where(np.isfinite(size) & (size > 0), size, 1.0)
        scale = np.tile(np.exp2(np.round(np.log2(size))), n // d)
        S = A * (scale[None, :] / scale[:, None])
    return (S if _all_finite(S) else None), scale


def _equilibrated_solve(A, b, Y, cond, d):
    """(Y, cond) of the linear system A y = b solved in units of each component's size
    (:func:`_in_units`), where that system's condition estimate is below ``cond``, the
    unscaled one's; else the given (Y, cond).  The solution is verified on the original
    equations as any other."""
    S, scale = _in_units(A, Y, b, d)
    if S is None:
        return Y, cond
    z = b / scale
    scaled = _assembly.linear_solve(S, float(np.max(np.sum(np.abs(S), axis=0))), z)
    if not scaled < cond:
        return Y, cond
    return scale * z, scaled


def _condition_in_units(kernel, addr, nodes, weights, G, Y, counts):
    """The condition estimate of the Newton matrix I - W J at the solution Y in units of each
    component's size (:func:`_in_units`; its kernel evaluations are counted)."""
    M, d = G.shape
    n = M * d
    W = np.empty((n, n))
    sums = np.empty((M, d))
    _assembly.compiled("jacobian-blocks")(addr[0], addr[1], addr[2], kernel.params, nodes, nodes,
                                          weights, Y, W, sums, counts)
    _assembly.raise_if_stopped(counts)
    A = -W
    A[np.diag_indices(n)] += 1.0
    S, _ = _in_units(A, Y, G, d)
    if S is None:
        return math.inf
    return float(_assembly.linear_solve(S, float(np.max(np.sum(np.abs(S), axis=0))),
                                        np.zeros(n)))


def _newton_stopped(status, out, maxiter, stats):
    """The message of a compiled Newton loop (:func:`~._assembly._separable_newton`,
    :func:`~._assembly._newton`) that stopped without converging: ``status`` and ``out`` =
    [iteration, residual, update, condition] as it returned them; ``stats["failure"]`` its
    kind."""
    it = int(out[0])
    stats["failure"] = {_assembly.NONFINITE: "non-finite", _assembly.SINGULAR: "singular",
                        _assembly.BAD_UPDATE: "non-finite"}.get(status, "newton")
    if status == _assembly.NONFINITE:
        return (f"The Nyström equations became non-finite (inf/nan) in Newton iteration "
                f"{it}: K overflows near the iterate; give a better initial guess "
                f"(initial=...).")
    if status == _assembly.SINGULAR:
        return (f"The Newton matrix I - W is singular in iteration {it}: the iteration "
                f"cannot continue (give another initial guess); if this happens at the "
                f"solution, it is not isolated.")
    if status == _assembly.BAD_UPDATE:
        return f"Newton's method produced a non-finite update in iteration {it}."
    return _not_converged(maxiter, float(out[2]), out[3], stats)


def _run_newton(loop, args, stats):
    """Run a compiled Newton loop: (status, out); stats' ``newton_iterations`` and
    ``residual`` (the last iteration's) updated."""
    out = np.empty(4)
    status = _assembly.compiled(loop)(*args, out)
    if status == _assembly.INTERRUPTED:
        raise KeyboardInterrupt
    stats["newton_iterations"] = int(out[0])
    stats["residual"] = float(out[1])
    return status, out


def _converged(kernel, addr, nodes, weights, G, Y, it, cond, max_condition, counts, stats,
               F=None, residual=None):
    """The result of a converged Newton iteration: the residual of the equations at Y (F if
    given; ``residual``: its max |F|, if known) and the condition estimate ``cond`` of its last
    matrix, checked."""
    if F is None:
        F, _ = _residual(kernel, addr, nodes, weights, G, Y, counts)
    stats["residual"] = float(np.abs(F).max()) if residual is None else float(residual)
    cond = stats["condition"] = float(cond)
    if cond > max_condition and G.shape[1] > 1:     # (components in other units: _in_units)
        scaled = _condition_in_units(kernel, addr, nodes, weights, G, Y, counts)
        if scaled < cond:
            cond = stats["condition"] = scaled
    if cond > max_condition:
        stats["failure"] = "singular"
        return Y, False, _SINGULAR_NEWTON.format(cond=cond, limit=max_condition)
    return Y, True, (f"Newton's method converged in {it} iterations ({Y.size} unknowns); "
                     f"condition number estimate of the Jacobian {cond:.3g}.")


def _not_converged(maxiter, size, cond, stats):
    stats["condition"] = float(cond)
    return (f"Newton's method did not converge in {maxiter} iterations (last update {size:.3g}, "
            f"residual {stats['residual']:.3g}); the equation may have no solution near the initial "
            f"guess: give a better initial guess (initial=...) or raise newton_maxiter."
            + (_CHECK_JACOBIAN if stats.get("jacobian") == "user" else ""))


def _solve_newton(Y, kernel, addr, nodes, weights, G, tol, maxiter, max_condition, counts, stats):
    """Newton's method on F(Y) = Y - G - sum_m w_m K(s_i, s_m, Y_m) = 0 (all M d unknowns)."""
    M, d = G.shape
    n = M * d
    Y = np.ascontiguousarray(Y, dtype=float).copy()
    W = np.empty((n, n))
    sums = np.empty((M, d))
    stats["jacobian"] = kernel.jacobian_source if addr[2] else "finite-difference"
    stats["newton_solves"] = 1
    F = np.empty((M, d))
    start = stats.get("newton_iterations", 0)
    # each iteration: the blocks, W := I - W and F = Y - G - sums, LU, the update (compiled)
    status, out = _run_newton("newton", (addr[0], addr[1], addr[2], kernel.params, nodes, weights,
                                         Y, G, W, sums, F, counts, _assembly.lapack_addresses(),
                                         np.empty(n, np.int32), tol, start, maxiter), stats)
    if status != _assembly.CONVERGED:
        return Y, False, _newton_stopped(status, out, maxiter, stats)
    return _converged(kernel, addr, nodes, weights, G, Y, int(out[0]), out[3], max_condition,
                      counts, stats)


def _solve_newton_separable(Y, kernel, addr, nodes, weights, G, tol, maxiter, max_condition, counts,
                            stats):
    """Newton's method for a scalar K(x, s, y) = k(x, s) phi(s, y) (see :func:`_structure`).

    With the values V[p, m] = K(x_p, s_m, r_m) at the initial guess r, K(x_p, s_m, y) =
    V[p, m] c_m(y), c_m(y) = K(x_q, s_m, y) / V[q, m] for the row q where |V[:, m]| is
    largest: each iteration needs K and dK/dy at one target per node (O(M) kernel calls),
    and the sums and the Jacobian are C c and C diag(c') with C = V diag(w) (O(M^2) flops,
    as in a hand-written Nyström solve).  At the end the sums are recomputed from K itself:
    if they differ from the model's by more than rounding, K is not separable after all,
    and this returns (Y, None, None): the caller continues with the general Newton from there
    (None: not even started, some K(x, s_m, r_m) vanish for all x).
    """
    M = G.shape[0]
    Y = np.ascontiguousarray(Y, dtype=float).copy()
    V = _assembly.grid_values(kernel, addr, nodes, nodes, Y, counts)
    C, xq, Vq = np.empty((M, M)), np.empty(M), np.empty(M)
    if not _assembly.compiled("separable-model")(V, weights, nodes, C, xq, Vq):
        return None
    W = np.empty((M, M))
    F = np.empty((M, 1))
    stats["jacobian"] = kernel.jacobian_source if addr[2] else "finite-difference"
    stats["newton_solves"] = 1
    stats["separable"] = True
    # each iteration (compiled): F = Y - G - C c(Y), W = I - C diag(c'(Y)) (C is finite: V is),
    # LU, the update
    status, out = _run_newton("separable-newton", (addr[0], addr[1], addr[2], kernel.params, xq,
                                                   nodes, Y, Vq, C, G, W, F, counts,
                                                   _assembly.lapack_addresses(),
                                                   np.empty(M, np.int32), tol, maxiter), stats)
    if status != _assembly.CONVERGED:
        return Y, False, _newton_stopped(status, out, maxiter, stats)
    it = int(out[0])
    # verify the model: the sums from K itself against C c at the final Y (F := the residual
    # of the equations there)
    gap, scale, residual = _assembly.compiled("separable-check")(
        addr[0], _assembly.block_address(kernel), kernel.params, xq, nodes, weights, Y, Vq, C, G,
        F, counts)
    _assembly.raise_if_stopped(counts)       # (the sums returned early)
    if not gap <= 64 * _EPS * M * scale:
        stats["separable"] = False
        stats["separable_probe"] = "separable on the probes but not at the solution: general Newton"
        return Y, None, None
    return _converged(kernel, addr, nodes, weights, G, Y, it, out[3], max_condition, counts, stats,
                      F, residual)


# -- the Nyström matrix on its own -----------------------------------------------------------------

def _real_vector(values, name):
    """``values`` as a C-ordered float array, or a ValueError (as NumPy's) naming ``name`` for
    anything but real numbers (text gave "could not convert string to float: 'abc'")."""
    v = numbers_array(refuse_masked(values, name), name)
    if np.iscomplexobj(v):
        raise TypeError(f"{name} must be real, got complex values")
    return np.array(v, dtype=float, order="C")


def nystrom_matrix(kernel, nodes, weights, targets=None, *, at=None, dim=None):
    r"""The matrix of the discretised integral operator (A u)(x) = int K(x, s, u(s)) ds.

    With nodes s_m, weights w_m and targets x_p (default: the nodes),

    .. math:: W_{(p, a), (m, b)} = w_m\, \frac{\partial K_a}{\partial y_b}(x_p, s_m, u_m),

    stored as a (P d, M d) array (row p d + a, column m d + b; (P, M) for scalar
    y).  For a kernel linear in y this is the Nyström discretisation of the
    operator, (W u)_p = sum_m w_m k(x_p, s_m) u_m, e.g. the non-local feature map
    (A u)(xi) = int a(xi, eta) u(eta) d eta of a network layer.

    Parameters
    ----------
    kernel : callable or Kernel
        ``a(x, s)`` (two arguments: a float, or a (d, d) array), a kernel
        ``K(x, s, y)`` affine in y, or any kernel with ``at`` given.
    nodes, weights : array_like (M,)
        The rule (e.g. ``rule.nodes``, ``rule.weights`` of an
        :class:`~integrallimits.quadrature.IntervalRule`).
    targets : array_like (P,), optional
        Where the operator is evaluated (default: the nodes).
    at : array_like (M,) or (M, d), optional
        Node values u_m at which to linearise a nonlinear K (its Jacobian: exact if
        the kernel has one, else forward differences).  Without it K must be
        affine in y and W is its linear part, computed from exact unit
        differences K(x, s, e_b) - K(x, s, 0) (or the analytic Jacobian).
    dim : int, optional
        The dimension d of y for a three-argument callable K without ``at``
        (default: scalar y).  A two-argument ``a(x, s)`` returning a (d, d)
        array fixes d itself.

    Returns
    -------
    ndarray
        (P, M) for scalar y, (P d, M d) for y in R^d.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.quadrature import gauss_legendre
    >>> rule = gauss_legendre(12, 0.0, 1.0)
    >>> W = nystrom_matrix(lambda x, s: np.exp(x * s), rule.nodes, rule.weights)
    >>> u = np.ones(12)                    # (A 1)(x) = (e^x - 1) / x
    >>> bool(np.allclose(W @ u, np.expm1(rule.nodes) / rule.nodes, rtol=0, atol=1e-14))
    True
    """
    if not (callable(kernel) or isinstance(kernel, Kernel) or hasattr(kernel, "build")):
        raise TypeError(f"kernel must be a callable a(x, s) or K(x, s, y), or a Kernel, got "
                        f"{type(kernel).__name__}" + (
                            " (text is not parsed here: write a function, or make a Kernel with "
                            "integrallimits.kernels.kernel_from_text)"
                            if isinstance(kernel, (str, bytes)) else ""))
    if dim is not None:     # (int() read dim="2" as 2, dim=2.5 as 2 and dim=True as 1)
        if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, numbers.Integral):
            raise TypeError(f"dim must be an integer >= 1 or None, got {type(dim).__name__} "
                            f"{dim!r:.40}")
        if dim < 1:
            raise ValueError(f"dim must be an integer >= 1 or None, got {dim!r}")
        dim = int(dim)
    nodes = _real_vector(nodes, "nodes")
    weights = _real_vector(weights, "weights")
    if nodes.ndim != 1 or weights.shape != nodes.shape or nodes.size == 0:
        raise ValueError(f"nodes and weights must be 1-d arrays of the same (nonzero) length, got "
                         f"shapes {nodes.shape} and {weights.shape}")
    if not (np.all(np.isfinite(nodes)) and np.all(np.isfinite(weights))):
        raise ValueError("nodes and weights must be finite")
    x = nodes if targets is None else np.atleast_1d(_real_vector(targets, "targets"))
    if x.ndim != 1 or not np.all(np.isfinite(x)):
        raise ValueError(f"targets must be a finite 1-d array, got shape {x.shape}")
    M = nodes.shape[0]

    if at is not None:
        at = _real_vector(at, "at")
        if at.ndim not in (1, 2) or at.shape[0] != M:
            raise ValueError(f"at must have shape ({M},) or ({M}, d), got {at.shape}")
        y0 = at[0] if at.ndim == 2 else at[0].item()
    elif isinstance(kernel, Kernel):
        y0 = 0.0 if kernel.scalar else np.zeros(kernel.dim)
    elif callable(kernel) and _arity(kernel) == 2:
        with _user.raised_at("a(x, s)", "x = s = {}", nodes[0]):   # (the user's error)
            value = np.shape((kernel.py_func if hasattr(kernel, "py_func") else kernel)(
                nodes[0], nodes[0]))
        if value != () and (len(value) != 2 or value[0] != value[1]):
            # (not a (d, d) matrix: the kernel's check expected (d, d) from the first length)
            raise ValueError(f"a(x, s) must return a float or a (d, d) matrix, got shape "
                             f"{value}")
        if dim is not None and value == () and dim > 1:
            y0 = np.zeros(dim)
        else:
            y0 = 0.0 if value == () else np.zeros(value[0])
    else:
        y0 = 0.0 if dim is None else np.zeros(int(dim))
    if callable(kernel) and not isinstance(kernel, Kernel) and _arity(kernel) == 2:
        kern = as_linear_kernel(kernel, y0, nodes[0])
    else:
        kern = as_kernel(kernel, y0, nodes[0])
    d = kern.dim
    P = x.shape[0]
    check_memory(8.0 * float(P * d) * float(M * d),
                 f"nystrom_matrix with {P} targets and {M} nodes (its ({P * d}, {M * d}) matrix)")
    W = np.empty((P * d, M * d))
    function, jac, have_jac = _assembly.addresses(kern)

    def assemble():     # (a row at a time: Ctrl-C stops it within a row, in a worker thread)
        counts = _assembly.new_counts()
        if at is None:
            offset = np.empty((P, d))
            affine = kern.structure.get("kind") != "linear"
            _assembly.compiled("linear-blocks")(function, jac, have_jac, affine, kern.params, x,
                                                nodes, weights, W, offset, counts)
        else:
            Y = np.ascontiguousarray(at.reshape(M, d))
            sums = np.empty((P, d))
            _assembly.compiled("jacobian-blocks")(function, jac, have_jac, kern.params, x,
                                                  nodes, weights, Y, W, sums, counts)
        _assembly.raise_if_stopped(counts)

    run_interruptibly(assemble, float(P) * M * d * (d + 1))
    return W
