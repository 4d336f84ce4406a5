"""Cumulative integration of uniformly sampled data with the package's Volterra rules."""
from __future__ import annotations

import numbers
from typing import TYPE_CHECKING

import numpy as np

from ._volterra import volterra_rule

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

__all__ = ["cumulative_integrate"]

#: Requested order -> Volterra rule.  An odd order p > 1 uses the Gregory rule of
#: order p + 1 (Gregory rules come in even orders).
_RULE_FOR_ORDER = {1: "rectangle", 2: "trapezoid", 3: "gregory4", 4: "gregory4",
                   5: "gregory6", 6: "gregory6", 7: "gregory8", 8: "gregory8"}


def cumulative_integrate(samples: ArrayLike, h: float, order: int = 2, axis: int = 0,
                         initial: float = 0.0) -> NDArray[np.float64]:
    r"""Cumulative integral of uniformly spaced samples, to a chosen order.

    Given f_j = f(t_j) on the mesh t_j = j h, j = 0, ..., N, returns

    .. math:: I_n = \mathrm{initial} + \int_0^{t_n} f(s)\,ds
              \approx \mathrm{initial} + h \sum_j w_{nj} f_j, \qquad n = 0, \dots, N,

    with the weights w_{nj} of a Volterra rule (see :func:`volterra_rule`):

    ======  ===================  =====================================
    order   rule                 error for smooth f
    ======  ===================  =====================================
    1       "rectangle" (left)   O(h)
    2       "trapezoid"          O(h**2)
    3, 4    "gregory4"           O(h**4)
    5, 6    "gregory6"           O(h**6)
    7, 8    "gregory8"           O(h**8)
    ======  ===================  =====================================

    An odd order p > 1 uses the Gregory rule of order p + 1 (there are no
    odd-order Gregory rules), so the result is at least as accurate as asked.
    Every row is exact for polynomials of degree < the rule's order.

    This is the analogue of :func:`scipy.integrate.cumulative_simpson` at any
    order up to 8.  The cost is O(N p) per column: a cumulative sum gives the
    unit interior weights, and only the O(p) end corrections and the p x p
    starting block (rows n < p of the Gregory rules, which use the samples
    f_0 .. f_{p-1}) are applied explicitly; the dense (N+1) x (N+1) matrix is
    never formed.

    Parameters
    ----------
    samples : array_like
        Finite values f(t_j), real or complex; the mesh runs along ``axis``.
    h : float
        Mesh spacing, finite and > 0.
    order : int, optional
        Requested order, 1 <= order <= 8 (default 2: the trapezoidal rule).
    axis : int, optional
        Axis of ``samples`` along which to integrate (default 0).
    initial : float or array_like, optional
        Value of the integral at t_0, added to every entry (as in
        :func:`scipy.integrate.cumulative_simpson`); a scalar or an array
        broadcastable to the shape of ``samples`` without ``axis``.  Default 0.

    Returns
    -------
    ndarray
        I, of the same shape as ``samples``; ``I[0] = initial`` along ``axis``.

    Raises
    ------
    ValueError
        For non-finite samples, a bad ``h`` or ``order``, or fewer samples
        along ``axis`` than the rule needs (2 for orders 1-2, 4 for orders 3-4,
        6 for orders 5-6, 8 for orders 7-8).
    TypeError
        For non-numeric samples.

    See Also
    --------
    scipy.integrate.cumulative_simpson : SciPy's fourth-order analogue.
    volterra_rule : the Gregory rules these weights come from.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.linspace(0.0, 1.0, 9)
    >>> I = cumulative_integrate(t**3, h=t[1], order=4)   # exact for cubics
    >>> bool(np.allclose(I, t**4 / 4, rtol=0, atol=1e-15))
    True
    >>> cumulative_integrate([1.0, 1.0, 1.0], h=0.5, order=1, initial=2.0).tolist()
    [2.0, 2.5, 3.0]
    """
    f, h, rule, initial = _validate(samples, h, order, axis, initial)
    f = np.moveaxis(f, axis, 0)
    n_samples = f.shape[0]
    needed = rule.min_steps + 1
    if n_samples < needed:
        raise ValueError(f"order {order} ({rule.name!r} rule) needs at least {needed} samples "
                         f"along axis {axis}, got {n_samples}")

    # Rows n >= S: w_nj = 1 + left[j] + right[n - j].
    total = np.cumsum(f, axis=0)
    for j, c in enumerate(rule.left):     # + left[j] f_j in every row n >= j
        total[j:] += c * f[j]
    for i, c in enumerate(rule.right):    # + right[i] f_{n-i} in every row n >= i
        total[i:] += c * f[:n_samples - i]
    # Rows n < S: the starting block over f_0 .. f_{S-1} (row 0 is zero).  Summed in a
    # fixed order rather than by a BLAS product, so that a column gives bit-for-bit the
    # same result alone or within a batch.
    S = rule.n_start
    block = np.zeros_like(total[:S])
    for j in range(S):
        block += np.multiply.outer(rule.start[:, j], f[j])
    total[:S] = block

    result = h * total + initial
    return np.moveaxis(result, 0, axis)


def _validate(samples, h, order, axis, initial):
    if isinstance(order, (bool, np.bool_)) or not isinstance(order, numbers.Integral) \
            or order not in _RULE_FOR_ORDER:
        raise ValueError(f"order must be an integer from 1 to 8, got {order!r}")
    rule = volterra_rule(_RULE_FOR_ORDER[int(order)])

    f = np.asarray(samples)
    if f.dtype.kind not in "biufc":
        raise TypeError(f"samples must be numeric, got an array of dtype {f.dtype}")
    if f.ndim == 0:
        raise ValueError("samples must have at least one dimension, got a scalar")
    f = f.astype(np.result_type(f.dtype, float), copy=False)
    if not np.all(np.isfinite(f)):
        raise ValueError("samples must be finite (no NaN or inf)")

    if np.ndim(h) > 0 and not isinstance(h, (str, bytes)):
        # scipy's cumulative_trapezoid(y, x) takes the sample points second: say what h is
        raise ValueError(f"h must be the mesh spacing, a finite number > 0, got an array of shape "
                         f"{np.shape(h)}: the samples are uniformly spaced, so for sample points t "
                         f"pass h = t[1] - t[0]")
    if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Real):
        raise ValueError(f"h must be a finite number > 0, got {h!r}")
    h = float(h)
    if not (np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a finite number > 0, got {h!r}")

    if isinstance(axis, (bool, np.bool_)) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"axis must be an integer, got {axis!r}")
    if not -f.ndim <= axis < f.ndim:
        raise ValueError(f"axis {axis} is out of bounds for samples with {f.ndim} dimensions")

    initial = np.asarray(initial)
    if initial.dtype.kind not in "biufc" or not np.all(np.isfinite(initial)):
        raise ValueError(f"initial must be finite numbers, got {initial!r}")
    cross_section = f.shape[:axis % f.ndim] + f.shape[axis % f.ndim + 1:]
    try:
        fits = np.broadcast_shapes(initial.shape, cross_section) == cross_section
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"initial of shape {initial.shape} does not broadcast to the "
                         f"samples' shape without axis, {cross_section}")
    return f, h, rule, initial
