"""Interval quadrature rules as data: nodes and weights for int_a^b f(x) dx.

An interval rule with nodes x_i in [a, b] and weights w_i approximates

    int_a^b f(x) dx  ~  sum_i w_i f(x_i).

Two families are provided:

* **Composite Newton–Cotes rules** on m equal panels (midpoint "rectangle",
  "trapezoid", "simpson").  Their nodes and weights are rational, so they are
  built in exact arithmetic (:class:`fractions.Fraction`) and every float is the
  correctly rounded value of the exact one, on any interval [a, b] (floats are
  rationals, so the affine image of an exact rule is exact too).
* **Gauss-type rules** (Gauss–Legendre, Gauss–Radau, Gauss–Lobatto) and
  Clenshaw–Curtis.  Their nodes are irrational.  For n below 128 they are computed
  with 40 significant digits (Newton's method on Legendre polynomials, started from
  Golub–Welsch estimates, in a private :mod:`mpmath` context; O(n^2)) and the affine
  map to [a, b] is applied at that precision before rounding to float64, so nodes and
  weights are correctly rounded but for rare ties.  From 128 nodes on they come from
  the O(n) asymptotic constructions of :mod:`._asymptotic` (Bogaert's expansion for
  Gauss–Legendre, Newton on Stieltjes' expansion for Radau and Lobatto, an FFT for
  Clenshaw–Curtis), within 2 ulp of the 40-digit values on [-1, 1] (n = 10^5 in a few
  tens of milliseconds); on another interval the affine map adds a rounding or two.

The reference data (on [-1, 1]) are cached per (rule, n); every returned array
is read-only.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache, wraps

import numpy as np

from .._memory import check_memory
from ._asymptotic import (FAST_MIN_N, _mp, clenshaw_curtis_fast, gauss_legendre_fast,
                          gauss_lobatto_fast, gauss_radau_fast)
from ._exact import read_only

__all__ = ["IntervalRule", "INTERVAL_RULES", "interval_rule", "gauss_legendre", "gauss_radau",
           "gauss_lobatto", "clenshaw_curtis", "composite_rectangle", "composite_trapezoid",
           "composite_simpson"]


@dataclass(frozen=True, eq=False)
class IntervalRule:
    r"""A quadrature rule on an interval, ``int_a^b f(x) dx ~ sum_i w_i f(x_i)``.

    Build one with a constructor (:func:`gauss_legendre`, :func:`composite_simpson`,
    ...) or by name with :func:`interval_rule`.

    Attributes
    ----------
    name : str
        Registry name of the rule (a key of :data:`INTERVAL_RULES`).
    n : int
        The size argument it was built with: the number of nodes for the
        Gauss-type and Clenshaw–Curtis rules, the number of panels m for the
        composite rules.
    nodes, weights : ndarray
        Read-only float64 arrays of the nodes (ascending, in [a, b]) and weights.
    degree : int
        Degree of polynomial exactness: the rule is exact for every polynomial of
        degree <= ``degree`` and not for all polynomials of degree ``degree + 1``.
    order : int or None
        Algebraic convergence order of a composite rule in the panel width,
        error = O(h**order) for smooth f.  ``None`` for Gauss-type and
        Clenshaw–Curtis rules, whose convergence in n is spectral (faster than
        any power of 1/n for smooth f, geometric for analytic f).
    a, b : float
        The interval.

    Examples
    --------
    >>> rule = composite_trapezoid(4, 0.0, 1.0)
    >>> rule.nodes.tolist(), rule.weights.tolist()
    ([0.0, 0.25, 0.5, 0.75, 1.0], [0.125, 0.25, 0.25, 0.25, 0.125])
    >>> rule(lambda x: x)
    0.5
    """

    name: str
    n: int
    nodes: np.ndarray
    weights: np.ndarray
    degree: int
    order: int | None
    a: float
    b: float

    def __repr__(self):
        return (f"IntervalRule(name={self.name!r}, n={self.n}, a={self.a!r}, b={self.b!r}, "
                f"degree={self.degree}, order={self.order})")

    def integrate(self, values, axis=0):
        """Apply the rule to sampled values ``values[..., i, ...] = f(x_i)``.

        Parameters
        ----------
        values : array_like
            f at the nodes; the nodes run along ``axis``.
        axis : int, optional
            The axis of ``values`` holding the nodes (default 0).

        Returns
        -------
        float or ndarray
            ``sum_i w_i values_i``, with ``axis`` removed.
        """
        values = np.asarray(values)
        moved = np.moveaxis(values, axis, -1) if values.ndim else values
        if values.ndim == 0 or moved.shape[-1] != self.nodes.size:
            raise ValueError(f"values must have {self.nodes.size} entries (one per node) along "
                             f"axis {axis}, got shape {values.shape}")
        result = moved @ self.weights
        return result if np.ndim(result) else result.item()

    def __call__(self, f):
        """Integrate the callable ``f`` over [a, b].

        ``f`` is called once with the array of nodes and must work elementwise on
        it (as NumPy ufuncs do); it may return shape (n,) or (n, ...) for a
        vector-valued integrand, or a scalar for a constant one.
        """
        values = np.asarray(f(self.nodes))
        if values.ndim == 0:
            values = np.broadcast_to(values, self.nodes.shape)
        return self.integrate(values, axis=0)

    def exact(self):
        """The exact nodes and weights on [a, b] as tuples of Fractions.

        Only rules with rational nodes and weights (the composite rules) have
        them; the floats ``nodes`` and ``weights`` are their correctly rounded
        values.

        Raises
        ------
        ValueError
            For a rule with irrational nodes (Gauss-type, Clenshaw–Curtis).
        """
        if self.name not in _COMPOSITE:
            raise ValueError(f"rule {self.name!r} has irrational nodes; no exact form")
        data = _composite_data(self.name, self.n)
        a, b = Fraction(self.a), Fraction(self.b)
        nodes = tuple(a + (b - a) * Fraction(int(k), data.denominator) for k in data.numerators)
        weights = tuple(data.coefficients[i] * (b - a) for i in data.pattern)
        return nodes, weights


# --------------------------------------------------------------------- validation


def _check_count(value, argument, minimum, rule, even=False, bytes_per_node=80.0):
    """Validate an integer size argument (number of nodes or panels)."""
    what = "an even integer" if even else "an integer"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{argument} must be {what} >= {minimum} for rule {rule!r}, "
                         f"got {value!r}")
    value = int(value)
    if value < minimum or (even and value % 2):
        raise ValueError(f"{argument} must be {what} >= {minimum} for rule {rule!r}, "
                         f"got {argument}={value}")
    # Building a rule holds at its peak (measured at n = 4e6 on [0, 3]) 66-72 bytes a node for
    # the Gauss-type and Clenshaw-Curtis rules, 96-104 for the composite ones (bytes_per_node)
    check_memory(bytes_per_node * value, f"rule {rule!r} with {argument} = {value}")
    return value


def _check_interval(a, b):
    """Validate the bounds: finite reals with a < b."""
    bounds = []
    for argument, value in (("a", a), ("b", b)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
            raise ValueError(f"{argument} must be a finite real number, got {value!r}")
        value = float(value)
        if not np.isfinite(value):
            raise ValueError(f"{argument} must be a finite real number, got {value!r}")
        bounds.append(value)
    a, b = bounds
    if not a < b:
        raise ValueError(f"need a < b, got a={a!r}, b={b!r}")
    if not np.isfinite(b - a):
        raise ValueError(f"the interval's length b - a overflows (a={a!r}, b={b!r}): the weights "
                         f"would be inf; integrate over a shorter interval and rescale")
    return a, b


# --------------------------------------------------------------- composite rules


@dataclass(frozen=True)
class _CompositeData:
    """Exact composite rule on [0, 1]: node k at numerators[k] / denominator,
    weight k equal to coefficients[pattern[k]] (only a few distinct weights)."""

    numerators: np.ndarray      # int64, read-only
    denominator: int
    coefficients: tuple          # Fractions
    pattern: np.ndarray          # int64 indices into coefficients, read-only


#: Rules of at most this many nodes are kept in memory for reuse (recomputing one costs
#: ~0.1 us a node); larger ones are built on each call, so that a loop over growing n does not
#: hold hundreds of MB of rules no one refers to.
_CACHED_NODES = 2 ** 16


def _cached_if_small(maxsize):
    """``lru_cache(maxsize)`` for the calls ``function(name, n, ...)`` with n <= _CACHED_NODES."""
    def decorate(function):
        cached = lru_cache(maxsize=maxsize)(function)

        @wraps(function)
        def wrapper(name, n, *args):
            return cached(name, n, *args) if n <= _CACHED_NODES else function(name, n, *args)
        return wrapper
    return decorate


#: name -> (degree, order, minimum m, m must be even)
_COMPOSITE = {"rectangle": (1, 2, 1, False), "trapezoid": (1, 2, 1, False),
              "simpson": (3, 4, 2, True)}


@_cached_if_small(128)
def _composite_data(name, m):
    k = np.arange(m + 1, dtype=np.int64)
    if name == "rectangle":        # midpoints (k + 1/2) / m, all weights 1/m
        numerators, denominator = 2 * k[:-1] + 1, 2 * m
        coefficients = (Fraction(1, m),)
        pattern = np.zeros(m, dtype=np.int64)
    elif name == "trapezoid":      # weights (1/2, 1, ..., 1, 1/2) / m
        numerators, denominator = k, m
        coefficients = (Fraction(1, 2 * m), Fraction(1, m))
        pattern = np.ones(m + 1, dtype=np.int64)
        pattern[[0, -1]] = 0
    elif name == "simpson":        # weights (1, 4, 2, 4, ..., 2, 4, 1) / (3 m)
        numerators, denominator = k, m
        coefficients = (Fraction(1, 3 * m), Fraction(4, 3 * m), Fraction(2, 3 * m))
        pattern = np.where(k % 2 == 1, 1, 2)
        pattern[[0, -1]] = 0
    else:  # pragma: no cover - guarded by the callers
        raise ValueError(f"unknown composite rule {name!r}")
    return _CompositeData(read_only(numerators), denominator, coefficients, read_only(pattern))


def _map_composite(data, a, b):
    """Correctly rounded float nodes and weights of the exact rule mapped to [a, b]."""
    fa, fb = Fraction(a), Fraction(b)
    # Both bounds over one (power-of-two) denominator: x_k = (A M + (B - A) K_k) / (D M),
    # evaluated with Python integers; int / int is correctly rounded.
    den = max(fa.denominator, fb.denominator)
    A, B = int(fa * den), int(fb * den)
    M = data.denominator
    numerators = A * M + (B - A) * data.numerators.astype(object)
    nodes = (numerators / (den * M)).astype(float)
    weights = np.array([float(c * (fb - fa)) for c in data.coefficients])[data.pattern]
    return read_only(nodes), read_only(weights)


@_cached_if_small(128)
def _composite_reference(name, m):
    return _map_composite(_composite_data(name, m), -1.0, 1.0)


def _composite(name, m, a, b, argument="m"):
    degree, order, minimum, even = _COMPOSITE[name]
    m = _check_count(m, argument, minimum, name, even=even, bytes_per_node=112.0)
    a, b = _check_interval(a, b)
    if (a, b) == (-1.0, 1.0):
        nodes, weights = _composite_reference(name, m)
    else:
        nodes, weights = _map_composite(_composite_data(name, m), a, b)
    return IntervalRule(name, m, nodes, weights, degree, order, a, b)


def composite_rectangle(m, a=-1.0, b=1.0):
    r"""Composite midpoint (rectangle) rule on m equal panels.

    With h = (b - a) / m, each panel is integrated by its midpoint value:

    .. math:: \int_a^b f \approx h \sum_{k=0}^{m-1} f\bigl(a + (k + \tfrac12) h\bigr).

    This is the *midpoint* rectangle rule: degree 1, order 2 (error
    ``(b - a) h**2 f''(xi) / 24``).  It is not the left-endpoint rectangle rule of
    the Volterra method "rectangle" (order 1).

    Parameters
    ----------
    m : int
        Number of panels, m >= 1.
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule

    Examples
    --------
    >>> rule = composite_rectangle(2, 0.0, 1.0)
    >>> rule.nodes.tolist(), rule.weights.tolist(), rule.degree, rule.order
    ([0.25, 0.75], [0.5, 0.5], 1, 2)
    """
    return _composite("rectangle", m, a, b)


def composite_trapezoid(m, a=-1.0, b=1.0):
    r"""Composite trapezoidal rule on m equal panels.

    .. math:: \int_a^b f \approx h \Bigl[\tfrac12 f(x_0) + \sum_{k=1}^{m-1} f(x_k)
              + \tfrac12 f(x_m)\Bigr], \qquad x_k = a + k h,\ h = (b - a)/m.

    Degree 1, order 2 (error ``-(b - a) h**2 f''(xi) / 12``).

    Parameters
    ----------
    m : int
        Number of panels, m >= 1 (m + 1 nodes).
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule

    Examples
    --------
    >>> rule = composite_trapezoid(2, 0.0, 1.0)
    >>> rule.weights.tolist(), rule.degree, rule.order
    ([0.25, 0.5, 0.25], 1, 2)
    """
    return _composite("trapezoid", m, a, b)


def composite_simpson(m, a=-1.0, b=1.0):
    r"""Composite Simpson rule on m (even) equal panels.

    .. math:: \int_a^b f \approx \frac{h}{3} \bigl[f(x_0) + 4 f(x_1) + 2 f(x_2) + \dots
              + 2 f(x_{m-2}) + 4 f(x_{m-1}) + f(x_m)\bigr], \quad x_k = a + k h,\ h = (b-a)/m.

    Degree 3, order 4 (error ``-(b - a) h**4 f''''(xi) / 180``).

    Parameters
    ----------
    m : int
        Number of panels, even and >= 2 (m + 1 nodes).
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule

    Examples
    --------
    >>> rule = composite_simpson(2)
    >>> [str(w) for w in rule.exact()[1]]
    ['1/3', '4/3', '1/3']
    >>> rule(lambda x: x**3 + x**2)   # exact for cubics: 2/3
    0.6666666666666666
    """
    return _composite("simpson", m, a, b)


# --------------------------------------------------------------- Gauss-type rules


def _jacobi_zeros_estimate(m, alpha, beta):
    """Float zeros of the Jacobi polynomial P_m^(alpha, beta) (Golub–Welsch), ascending."""
    if m == 0:
        return np.empty(0)
    k = np.arange(m, dtype=float)
    s = 2 * k + alpha + beta
    diag = np.empty(m)
    diag[0] = (beta - alpha) / (alpha + beta + 2)
    diag[1:] = (beta**2 - alpha**2) / (s[1:] * (s[1:] + 2))
    k, s = k[1:], s[1:]
    off = np.sqrt(4 * k * (k + alpha) * (k + beta) * (k + alpha + beta)
                  / (s**2 * (s + 1) * (s - 1)))
    return np.linalg.eigvalsh(np.diag(diag) + np.diag(off, 1) + np.diag(off, -1))


def _legendre(m, x):
    """P_m(x), P_{m-1}(x), P'_m(x), P'_{m-1}(x) at the mpf x (m >= 1).

    Three-term recurrence (k + 1) P_{k+1} = (2k + 1) x P_k - k P_{k-1} and
    P'_{k+1} = P'_{k-1} + (2k + 1) P_k.
    """
    p0, p1, d0, d1 = _mp().one, x, _mp().zero, _mp().one
    for k in range(1, m):
        p0, p1 = p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1)
        d0, d1 = d1, d0 + (2 * k + 1) * p0
    return p1, p0, d1, d0


def _newton(function, guesses):
    """Refine each float guess to a root of ``function`` (returning value, derivative).

    The guesses are good to ~1e-15, so Newton's quadratic convergence means a step
    below 1e-20 leaves an error of order 1e-40, the working precision: stop there.
    """
    roots = []
    for guess in guesses:
        x = _mp().mpf(float(guess))
        for _ in range(50):
            value, slope = function(x)
            step = value / slope
            x -= step
            if abs(step) < _mp().mpf(10) ** (-(_mp().dps // 2)):
                break
        else:  # pragma: no cover - quadratic convergence from Golub–Welsch estimates
            raise RuntimeError("Newton's method did not converge for a quadrature node")
        roots.append(x)
    return roots


def _mirror(nodes, weights, n):
    """Full symmetric rule from its left half (the first ceil(n/2) nodes, ascending).

    Imposes x_i = -x_{n-1-i}, w_i = w_{n-1-i} exactly, and a zero middle node.
    """
    nodes, weights = list(nodes[:(n + 1) // 2]), list(weights[:(n + 1) // 2])
    if n % 2:
        nodes[-1] = _mp().zero
    tail = n // 2
    return (nodes + [-x for x in reversed(nodes[:tail])],
            weights + list(reversed(weights[:tail])))


def _gauss_legendre_mp(n):
    """Zeros of P_n; w_i = 2 / ((1 - x_i^2) P'_n(x_i)^2).  Left half, then mirrored."""
    guesses = _jacobi_zeros_estimate(n, 0, 0)[:(n + 1) // 2]
    nodes = _newton(lambda x: _legendre(n, x)[::2], guesses)
    weights = [2 / ((1 - x**2) * _legendre(n, x)[2] ** 2) for x in nodes]
    return _mirror(nodes, weights, n)


def _gauss_radau_mp(n):
    """Left Radau: x = -1 and the zeros of (P_{n-1} + P_n) / (1 + x).

    w = 2 / n^2 at -1 and w_i = (1 - x_i) / (n^2 P_{n-1}(x_i)^2) elsewhere.
    """
    def function(x):
        p, q, dp, dq = _legendre(n, x)
        return p + q, dp + dq
    interior = _newton(function, _jacobi_zeros_estimate(n - 1, 0, 1))
    weights = [_mp().mpf(2) / n**2] + [(1 - x) / (n**2 * _legendre(n, x)[1] ** 2)
                                     for x in interior]
    return [-_mp().one] + interior, weights


def _gauss_lobatto_mp(n):
    """x = +-1 and the zeros of P'_{n-1}; w_i = 2 / (n (n - 1) P_{n-1}(x_i)^2)."""
    m = n - 1

    def function(x):
        p, _, dp, _ = _legendre(m, x)
        # Legendre's equation gives P'' = (2 x P' - m (m + 1) P) / (1 - x^2).
        return dp, (2 * x * dp - m * (m + 1) * p) / (1 - x**2)
    interior = _newton(function, _jacobi_zeros_estimate(n - 2, 1, 1)[:(n - 1) // 2])
    nodes = [-_mp().one] + interior
    weights = [_mp().mpf(2) / (n * m) / _legendre(m, x)[0] ** 2 for x in nodes]
    return _mirror(nodes, weights, n)


def _clenshaw_curtis_mp(n):
    """Chebyshev extreme points x_k = -cos(k pi / N), N = n - 1, and the weights

    w_k = (c_k / N) [1 - sum_{j=1}^{floor(N/2)} b_j cos(2 j k pi / N) / (4 j^2 - 1)],
    c_0 = c_N = 1, c_k = 2 otherwise; b_j = 1 if j = N/2, else 2.  n = 1 is the midpoint.
    """
    if n == 1:
        return [_mp().zero], [_mp().mpf(2)]
    N = n - 1
    cosines = [_mp().cospi(_mp().mpf(2 * r) / N) for r in range(N)]   # cos(2 pi r / N)
    half = (n + 1) // 2
    nodes = [-_mp().cospi(_mp().mpf(k) / N) for k in range(half)]
    weights = []
    for k in range(half):
        total = _mp().one
        for j in range(1, N // 2 + 1):
            b = 1 if 2 * j == N else 2
            total -= b * cosines[(j * k) % N] / (4 * j * j - 1)
        weights.append((1 if k in (0, N) else 2) * total / N)
    return _mirror(nodes, weights, n)


#: name -> (builder of the mp data on [-1, 1], minimum n, degree(n), O(n) float builder for
#: n >= FAST_MIN_N[name], returning nodes, gaps 1 - |x| and weights on [-1, 1])
_GAUSS = {
    "gauss-legendre": (_gauss_legendre_mp, 1, lambda n: 2 * n - 1, gauss_legendre_fast),
    "gauss-radau": (_gauss_radau_mp, 1, lambda n: 2 * n - 2, gauss_radau_fast),
    "gauss-lobatto": (_gauss_lobatto_mp, 2, lambda n: 2 * n - 3, gauss_lobatto_fast),
    "clenshaw-curtis": (_clenshaw_curtis_mp, 1, lambda n: n if n % 2 else n - 1,
                        clenshaw_curtis_fast),
}


@lru_cache(maxsize=128)
def _gauss_reference(name, n, right=False):
    """High-precision nodes and weights on [-1, 1] and their float64 roundings."""
    nodes, weights = _GAUSS[name][0](n)
    if right:   # mirror x -> -x: the fixed node moves to +1 (Radau IIA)
        nodes, weights = [-x for x in reversed(nodes)], list(reversed(weights))
    if any(not -1 <= x <= 1 for x in nodes) or any(
            x >= y for x, y in zip(nodes, nodes[1:])):  # pragma: no cover - internal check
        raise RuntimeError(f"{name}: computed nodes are not ordered inside [-1, 1]")
    as_float = lambda values: read_only(np.array([float(v) for v in values]))
    return tuple(nodes), tuple(weights), as_float(nodes), as_float(weights)


@_cached_if_small(32)
def _fast_reference(name, n, right=False):
    """Float nodes, gaps 1 - |x| and weights on [-1, 1] from the O(n) construction."""
    nodes, gaps, weights = _GAUSS[name][3](n)
    if right:
        nodes, gaps, weights = -nodes[::-1], gaps[::-1], weights[::-1]
    if not (np.all(np.diff(nodes) > 0) and nodes[0] >= -1 and nodes[-1] <= 1
            and np.all(weights > 0)):  # pragma: no cover - internal check
        raise RuntimeError(f"{name}: computed nodes are not ordered inside [-1, 1]")
    return read_only(nodes), read_only(gaps), read_only(weights)


def _gauss_type(name, n, a, b, right=False):
    minimum, degree = _GAUSS[name][1], _GAUSS[name][2]
    n = _check_count(n, "n", minimum, name)
    a, b = _check_interval(a, b)
    if n >= FAST_MIN_N[name]:
        nodes, gaps, weights = _fast_reference(name, n, right)
        if (a, b) != (-1.0, 1.0):
            # Nodes from the nearer end, x = a + (b - a) gap/2 or b - (b - a) gap/2, so that
            # those near an end keep their relative accuracy.
            length = b - a
            nodes = read_only(np.where(nodes < 0, a + length * (gaps / 2), b - length * (gaps / 2)))
            weights = read_only(weights * (length / 2))
        return IntervalRule(name, n, nodes, weights, degree(n), None, a, b)
    nodes_mp, weights_mp, nodes, weights = _gauss_reference(name, n, right)
    if (a, b) != (-1.0, 1.0):
        # Affine map at 40 digits, then one rounding: x = ((1 - t) a + (1 + t) b) / 2
        # (the end points map exactly to a and b).
        A, B = _mp().mpf(a), _mp().mpf(b)
        nodes = read_only(np.array([float(((1 - t) * A + (1 + t) * B) / 2) for t in nodes_mp]))
        weights = read_only(np.array([float(w * (B - A) / 2) for w in weights_mp]))
    return IntervalRule(name, n, nodes, weights, degree(n), None, a, b)


def gauss_legendre(n: int, a: float = -1.0, b: float = 1.0) -> IntervalRule:
    r"""Gauss–Legendre rule with n nodes.

    The nodes are the zeros of the Legendre polynomial P_n mapped to [a, b], the
    weights ``w_i = 2 / ((1 - t_i**2) P_n'(t_i)**2)`` on [-1, 1], scaled by
    (b - a) / 2:

    .. math:: \int_a^b f \approx \sum_{i=1}^n w_i f(x_i),

    exact for polynomials of degree <= 2n - 1 (``degree = 2n - 1``);
    convergence in n is spectral, so ``order`` is None.

    Parameters
    ----------
    n : int
        Number of nodes, n >= 1.
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule

    Raises
    ------
    ValueError
        For n < 1 or invalid bounds.

    See Also
    --------
    interval_rule : any rule by name.
    gauss_radau, gauss_lobatto : with one or both ends as nodes.

    Examples
    --------
    >>> rule = gauss_legendre(2)
    >>> rule.nodes.tolist()        # -+1/sqrt(3), correctly rounded
    [-0.5773502691896257, 0.5773502691896257]
    >>> rule.degree, rule.order
    (3, None)
    >>> abs(gauss_legendre(3, 0.0, 1.0)(lambda x: x**5) - 1 / 6) < 1e-16
    True
    """
    return _gauss_type("gauss-legendre", n, a, b)


def gauss_radau(n, a=-1.0, b=1.0, right=False):
    r"""Gauss–Radau rule with n nodes, one of them an end point.

    By default the fixed node is the left end a: on [-1, 1] the nodes are -1 and the
    zeros of ``(P_{n-1}(t) + P_n(t)) / (1 + t)``, with weights ``2 / n**2`` at -1
    and ``(1 - t_i) / (n**2 P_{n-1}(t_i)**2)``.  With ``right=True`` the rule is
    mirrored, so the last node is b: on [0, 1] these are the abscissae and weights
    (c_i, b_i) of the Radau IIA Runge–Kutta methods.

    .. math:: \int_a^b f \approx \sum_{i=1}^n w_i f(x_i), \qquad
              \text{exact for degree} \le 2n - 2.

    Parameters
    ----------
    n : int
        Number of nodes, n >= 1.
    a, b : float, optional
        The interval (default [-1, 1]).
    right : bool, optional
        Fix the right end point instead of the left one (default False).

    Returns
    -------
    IntervalRule
        ``degree = 2n - 2``, ``order = None`` (spectral).

    Examples
    --------
    >>> rule = gauss_radau(2, 0.0, 1.0, right=True)   # Radau IIA, 2 stages
    >>> rule.nodes.tolist(), rule.weights.tolist()
    ([0.3333333333333333, 1.0], [0.75, 0.25])
    """
    return _gauss_type("gauss-radau", n, a, b, right=bool(right))


def gauss_lobatto(n, a=-1.0, b=1.0):
    r"""Gauss–Lobatto rule with n >= 2 nodes, both end points included.

    On [-1, 1] the nodes are -1, 1 and the zeros of P'_{n-1}, with weights
    ``2 / (n (n - 1) P_{n-1}(t_i)**2)`` (``2 / (n (n - 1))`` at the ends):

    .. math:: \int_a^b f \approx \sum_{i=1}^n w_i f(x_i), \qquad
              \text{exact for degree} \le 2n - 3.

    Parameters
    ----------
    n : int
        Number of nodes, n >= 2 (n = 2 is the trapezoid rule, n = 3 Simpson's).
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule
        ``degree = 2n - 3``, ``order = None`` (spectral).

    Examples
    --------
    >>> rule = gauss_lobatto(3)
    >>> rule.nodes.tolist(), (3 * rule.weights).round(14).tolist()
    ([-1.0, 0.0, 1.0], [1.0, 4.0, 1.0])
    """
    return _gauss_type("gauss-lobatto", n, a, b)


def clenshaw_curtis(n: int, a: float = -1.0, b: float = 1.0) -> IntervalRule:
    r"""Clenshaw–Curtis rule on n Chebyshev extreme points.

    For n >= 2 the nodes are ``t_k = -cos(k pi / N)``, N = n - 1 (both ends
    included), and the weights integrate the polynomial interpolant of degree N
    exactly:

    .. math:: w_k = \frac{c_k}{N}\Bigl[1 - \sum_{j=1}^{\lfloor N/2 \rfloor}
              \frac{b_j}{4j^2 - 1} \cos\frac{2 j k \pi}{N}\Bigr],

    c_0 = c_N = 1, c_k = 2 otherwise, b_j = 1 if j = N/2 else 2 (on [-1, 1]).
    n = 1 is the midpoint rule.  Degree n - 1, or n when n is odd (symmetry);
    the weights are positive and sum to b - a.

    Parameters
    ----------
    n : int
        Number of nodes, n >= 1.
    a, b : float, optional
        The interval (default [-1, 1]).

    Returns
    -------
    IntervalRule
        ``order = None`` (spectral).

    Raises
    ------
    ValueError
        For n < 1 or invalid bounds.

    See Also
    --------
    interval_rule : any rule by name.
    gauss_legendre : the Gauss rule on the same number of nodes.

    Examples
    --------
    >>> rule = clenshaw_curtis(3, 0.0, 1.0)        # Simpson's rule
    >>> rule.nodes.tolist(), (6 * rule.weights).round(14).tolist(), rule.degree
    ([0.0, 0.5, 1.0], [1.0, 4.0, 1.0], 3)
    """
    return _gauss_type("clenshaw-curtis", n, a, b)


#: Registry of the interval rules: name -> constructor ``(n, a, b, **options)``.
INTERVAL_RULES = {
    "rectangle": composite_rectangle,
    "trapezoid": composite_trapezoid,
    "simpson": composite_simpson,
    "gauss-legendre": gauss_legendre,
    "gauss-radau": gauss_radau,
    "gauss-lobatto": gauss_lobatto,
    "clenshaw-curtis": clenshaw_curtis,
}


def interval_rule(name: str, n: int, a: float = -1.0, b: float = 1.0, **options) -> IntervalRule:
    """Build the interval rule called ``name`` (a key of :data:`INTERVAL_RULES`).

    Parameters
    ----------
    name : str
        "rectangle" (composite midpoint), "trapezoid", "simpson",
        "gauss-legendre", "gauss-radau", "gauss-lobatto" or "clenshaw-curtis".
    n : int
        Number of panels for the composite rules, number of nodes otherwise.
    a, b : float, optional
        The interval (default [-1, 1]).
    **options
        Passed to the constructor (``right=True`` for "gauss-radau").

    Returns
    -------
    IntervalRule

    Raises
    ------
    ValueError
        For an unknown name (the message lists the known ones), an invalid ``n``
        or invalid bounds.
    TypeError
        For options the rule does not take.

    See Also
    --------
    gauss_legendre, clenshaw_curtis : two of the rules, built directly.
    volterra_rule : lower-triangular rules for Volterra integrals.

    Examples
    --------
    >>> rule = interval_rule("gauss-lobatto", 4, a=0.0, b=2.0)
    >>> rule.degree, rule.nodes[[0, -1]].tolist()
    (5, [0.0, 2.0])
    """
    if name not in INTERVAL_RULES:
        raise ValueError(f"unknown interval rule {name!r}; known rules: "
                         f"{', '.join(INTERVAL_RULES)}")
    if name in _COMPOSITE:
        # Same constructor, but errors about the size name the argument given here.
        if options:
            raise TypeError(f"rule {name!r} takes no options, got {sorted(options)}")
        return _composite(name, n, a, b, argument="n")
    return INTERVAL_RULES[name](n, a, b, **options)
