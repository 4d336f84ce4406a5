r"""Collocation with product integration for weakly singular kernels, and graded meshes.

The equation is

.. math::

    y(t) = g(t) + \int_{t_0}^{t} (t - s)^{-\alpha}\, k(t, s, y(s))\, ds, \qquad 0 < \alpha < 1,

with k smooth.  Its solution behaves like :math:`(t - t_0)^{1 - \alpha}` near
:math:`t_0` (Brunner 2004, ch. 6), so every method loses its order on a uniform
mesh: the error of any polynomial approximation of :math:`t^{1-\alpha}` on
:math:`[0, h]` is of size :math:`h^{1-\alpha}`.  The remedy is the graded mesh
:math:`t_n = t_0 + (T - t_0)(n/N)^r` (:func:`graded_mesh`), with
:math:`r` from :func:`grading_exponent`.

The method (:func:`solve_product_integration`) is the fully discretised
collocation method in the space of discontinuous piecewise polynomials of degree
m - 1: on :math:`\sigma_l = [t_l, t_{l+1}]` (length :math:`h_l`) the solution is
the Lagrange polynomial through its stage values :math:`Z_{lj} \approx y(t_{lj})`,
:math:`t_{lj} = t_l + c_j h_l`, and the integrand
:math:`k(t, s, u(s))` is replaced by its interpolant through the stages, while
the singular factor is integrated exactly (product integration):

.. math::

    \int_{\sigma_l} (t - s)^{-\alpha} k(t, s, u(s))\, ds \approx \sum_j W_{lj}(t)\,
    k(t, t_{lj}, Z_{lj}), \qquad
    W_{lj}(t) = \int_{\sigma_l} (t - s)^{-\alpha} L_j\!\left(\frac{s - t_l}{h_l}\right) ds .

The stage equations of interval n (Newton on its m d unknowns) and the iterated
value at the mesh point are

.. math::

    Z_{ni} &= g(t_{ni}) + \sum_{l<n} \sum_j W_{lj}(t_{ni})\, k(t_{ni}, t_{lj}, Z_{lj})
              + h_n^{1-\alpha} \sum_j a^{(\alpha)}_{ij}\, k(t_{ni}, t_{nj}, Z_{nj}), \\
    y_{n+1} &= g(t_{n+1}) + \sum_{l<n} \sum_j W_{lj}(t_{n+1})\, k(t_{n+1}, t_{lj}, Z_{lj})
              + h_n^{1-\alpha} \sum_j b^{(\alpha)}_{j}\, k(t_{n+1}, t_{nj}, Z_{nj}),

with :math:`a^{(\alpha)}_{ij} = \int_0^{c_i} (c_i - u)^{-\alpha} L_j(u)\, du` and
:math:`b^{(\alpha)}_j = \int_0^1 (1 - u)^{-\alpha} L_j(u)\, du`, built from the
Beta moments :math:`\int_0^c (c - u)^{-\alpha} u^k du = c^{k+1-\alpha} B(k+1, 1-\alpha)`
in 50-digit arithmetic.  For an earlier interval, with
:math:`\delta = (t - t_{l+1}) / h_l` the distance of the target past the
interval in units of its length, :math:`W_{lj}(t) = h_l^{1-\alpha}\Phi_j(\delta)`,
:math:`\Phi_j(\delta) = \int_0^1 (1 + \delta - u)^{-\alpha} L_j(u)\, du`, evaluated to
rounding by a formula that is stable for that δ (:func:`history_weights`).

Orders (m collocation points; measured in ``tests/volterra/test_singular.py`` on
manufactured problems with y = 1 + t^(1-alpha), alpha = 0.3, 0.5, 0.7):

* the collocation solution u (the polynomial of each interval, e.g. at t_n^+):
  order :math:`1 - \alpha` on a uniform mesh, order m on
  ``graded_mesh(T, N, grading_exponent(m, alpha))`` (Brunner 2004, ch. 6);
* the iterated values at the mesh points (what the solver returns): order
  :math:`m + 1 - \alpha` on ``graded_mesh(T, N, grading_exponent(m + 1 - alpha, alpha))``
  when the collocation points satisfy :math:`\int_0^1 \prod_i (u - c_i)\, du = 0`
  (Gauss m >= 1, Radau IIA m >= 2).  This is the attainable superconvergence for
  weakly singular kernels, not 2m or 2m - 1 as for smooth kernels: integrating the
  collocation error (size :math:`h^m`) against :math:`(t - s)^{-\alpha}` over the last
  interval gains only the factor :math:`h^{1-\alpha}`, and no orthogonality cancels it
  because the singular factor is not a polynomial.  Gauss points reach it
  from N = 32 on (measured within 0.12); Radau IIA approaches it slowly from below
  (radau2 at alpha = 0.7: local slopes 2.08 ... 2.20 for N = 64 ... 2048).  Radau
  IIA with m = 1 (c = 1) has no such gain: order 1;
* on a uniform mesh the iterated values tend to order :math:`2 - 2\alpha` (or less):
  at :math:`t_1 = h` their error is the integral of :math:`(h - s)^{-\alpha}(y - u)(s)`
  over [0, h], with y - u of size :math:`h^{1-\alpha}` there.

Cost O(N^2 m^2) kernel evaluations, O(N^2 m) powers and O(N^2 m^2) flops for the
weights (at most 12 Gauss nodes per pair of interval and target);
memory O(N m d).  For k(t, s, y) = k~(t - s) phi(s, y) (Abel-type kernels, e.g.
``weakly_singular(convolution(lambda u: -1.0), alpha)`` for (t - s)^(-alpha) (-y)) on a
uniform mesh the history weights depend on n - l only; ``fast_history=True`` sums them
with the blocked FFT scheme of :mod:`._fft` in O(N log^2 N) work, O(N) weights and
O(N m) evaluations of phi.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import numpy as np
from .._numba import njit

from .._linalg import solve_inplace
from .._numba import JIT_OPTIONS, types
from . import _loops
from ._fft import add_sources, block_workspace, kernel_transforms, stage_channels
from ._loops import (INTERRUPTED, NEWTON_FAILED, NFEV, NIT, NOT_FINITE, NSOLVE, SUCCESS, _all_finite,
                     _jacobian_p, fd_floor)
from ._solution import lagrange_values

__all__ = ["graded_mesh", "grading_exponent", "local_weights", "history_weights",
           "solve_product_integration", "collocation_product_integration",
           "ProductIntegrationResult", "partial_step_dense_output"]

_helper = njit(cache=True, nogil=True, error_model="numpy")

#: Below this δ the history weights use the closed form (binomial moments lose
#: at most a few digits there); from it up to 1, composite Gauss-Legendre.
_DELTA_CLOSED = 0.25
#: Far-field Gauss-Legendre rules: (smallest δ, number of points).  Each keeps the
#: relative error of the weights below ~5e-15 for m <= 4 and 0.05 <= α <= 0.95
#: (the integrand is analytic in a Bernstein ellipse that grows with δ).
_FAR_TIERS = ((1.0, 12), (3.0, 8), (6.0, 7), (12.0, 6), (32.0, 5))
_NEAR_POINTS = 12


# -- meshes --------------------------------------------------------------------------------

def graded_mesh(T, n_steps, r, t0=0.0):
    r"""The graded mesh :math:`t_n = t_0 + (T - t_0)(n/N)^r`, n = 0 ... N.

    Parameters
    ----------
    T : float
        The end of the interval (T > t0).
    n_steps : int
        N >= 1.
    r : float
        Grading exponent, r >= 1 (r = 1 is the uniform mesh); see
        :func:`grading_exponent`.
    t0 : float
        The start of the interval (where the solution is singular).

    Returns
    -------
    ndarray (N+1,)
        Strictly increasing, t[0] = t0 and t[-1] = T exactly.

    Raises
    ------
    ValueError
        For T <= t0, N < 1, r < 1, non-finite input, or a grading so strong that the
        first steps vanish in floating point.

    Examples
    --------
    >>> graded_mesh(1.0, 4, 2.0)
    array([0.    , 0.0625, 0.25  , 0.5625, 1.    ])
    """
    try:
        T, t0, r = float(T), float(t0), float(r)
    except (TypeError, ValueError):
        raise ValueError(f"T, r and t0 must be floats, got {T!r}, {r!r}, {t0!r}") from None
    if not (np.isfinite(T) and np.isfinite(t0)) or not T > t0:
        raise ValueError(f"graded_mesh needs finite t0 < T, got t0 = {t0!r}, T = {T!r}")
    if isinstance(n_steps, bool) or not isinstance(n_steps, numbers.Integral) or n_steps < 1:
        raise ValueError(f"n_steps must be an integer >= 1, got {n_steps!r}")
    if not (np.isfinite(r) and r >= 1.0):
        raise ValueError(f"the grading exponent r must be a finite float >= 1, got {r!r}")
    n = int(n_steps)
    t = t0 + (T - t0) * (np.arange(n + 1) / n) ** r
    t[0], t[-1] = t0, T
    if not np.all(np.diff(t) > 0):
        raise ValueError(f"graded mesh with r = {r:g} and N = {n} has coincident points in "
                         f"floating point (the first step (1/N)^r underflows); use a smaller r")
    return t


def grading_exponent(order, alpha):
    r"""The grading exponent :math:`r = \max(1, p / (1 - \alpha))` that restores order p.

    On :math:`t_n = t_0 + (T - t_0)(n/N)^r` the first step is
    :math:`h_0 \sim N^{-r}`, and a solution behaving like
    :math:`(t - t_0)^{1-\alpha}` is approximated there only to
    :math:`h_0^{1-\alpha} = N^{-r(1-\alpha)}`; later steps satisfy
    :math:`h_n \sim N^{-1} t_n^{1 - 1/r}`, which balances the growing derivatives.
    With :math:`r = p/(1-\alpha)` the local errors are :math:`O(N^{-p})` uniformly
    (Brunner 2004, ch. 6, the collocation theory on graded meshes).  So

    * ``grading_exponent(m, alpha)`` restores the global order m of the
      collocation solution with m points (its error in the maximum norm over the
      interval, e.g. at the interval ends t_n^+; at the collocation points
      themselves the stage values are as accurate as the iterated values);
    * ``grading_exponent(m + 1 - alpha, alpha)`` is the exponent for the iterated
      values at the mesh points (``sol.y``), whose attainable order with Gauss
      points (and Radau IIA, m >= 2) is :math:`m + 1 - \alpha`.

    The returned r is meant to restore exactly the order p passed in; it does not
    raise the method above its own order.

    Parameters
    ----------
    order : float
        The target order p > 0.
    alpha : float
        The exponent of the singular factor, 0 < alpha < 1.

    Examples
    --------
    >>> grading_exponent(2, 0.5)
    4.0
    >>> grading_exponent(0.3, 0.5)   # already reached on a uniform mesh
    1.0
    """
    alpha = _check_alpha(alpha)
    if isinstance(order, bool) or not isinstance(order, numbers.Real) or not (
            np.isfinite(order) and order > 0):
        raise ValueError(f"order must be a positive number, got {order!r}")
    return max(1.0, float(order) / (1.0 - alpha))


def _check_alpha(alpha):
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not (0.0 < alpha < 1.0):
        raise ValueError(f"alpha must satisfy 0 < alpha < 1, got {alpha!r}")
    return float(alpha)


# -- product-integration weights -----------------------------------------------------------

@dataclass(frozen=True)
class _WeightData:
    """Everything the compiled loop needs to integrate (t - s)^(-α) against L_j."""

    c: np.ndarray       # (m,) collocation points
    Aa: np.ndarray      # (m, m) a^(α)_ij for a unit step
    ba: np.ndarray      # (m,) b^(α)_j for a unit step
    E: np.ndarray       # (m, m) L_j(1 - w) = sum_k E[j, k] w^k
    far_lower: np.ndarray   # (T,) smallest δ of each far-field tier
    far_count: np.ndarray   # (T,) int64, points of each tier
    far_gap: np.ndarray     # (T, Q) 1 - u_q
    far_wl: np.ndarray      # (T, Q, m) w_q L_j(u_q)
    near_x: np.ndarray      # (P,) Gauss-Legendre nodes on [0, 1]
    near_w: np.ndarray      # (P,) weights


def _points_key(tableau):
    """High-precision collocation points (the tableau's exact ones when it keeps them)."""
    if tableau.exact is not None:
        return tuple(mpmath.mpf(x) for x in tableau.exact[0])
    return tuple(mpmath.mpf(float(x)) for x in tableau.c)


@lru_cache(maxsize=64)
def _weight_data(points, alpha):
    m = len(points)
    with mpmath.workdps(50):
        c = [mpmath.mpf(x) for x in points]
        a = mpmath.mpf(alpha)

        def times(p, q):  # polynomial product, ascending coefficients
            out = [mpmath.mpf(0)] * (len(p) + len(q) - 1)
            for i, x in enumerate(p):
                for j, y in enumerate(q):
                    out[i + j] += x * y
            return out

        mono = []    # L_j(u) in powers of u
        taylor1 = []  # L_j(1 - w) in powers of w
        for j in range(m):
            p, q, den = [mpmath.mpf(1)], [mpmath.mpf(1)], mpmath.mpf(1)
            for i in range(m):
                if i != j:
                    p = times(p, [-c[i], mpmath.mpf(1)])
                    q = times(q, [1 - c[i], mpmath.mpf(-1)])
                    den *= c[j] - c[i]
            mono.append([x / den for x in p])
            taylor1.append([x / den for x in q])
        beta = [mpmath.beta(k + 1, 1 - a) for k in range(m)]
        Aa = [[sum(mono[j][k] * c[i] ** (k + 1 - a) * beta[k] for k in range(m)) for j in range(m)]
              for i in range(m)]
        ba = [sum(mono[j][k] * beta[k] for k in range(m)) for j in range(m)]
        Aa = np.array([[float(x) for x in row] for row in Aa])
        ba = np.array([float(x) for x in ba])
        E = np.array([[float(x) for x in row] for row in taylor1])
    cf = np.array([float(x) for x in points])

    Q = max(n for _, n in _FAR_TIERS)
    far_gap = np.zeros((len(_FAR_TIERS), Q))
    far_wl = np.zeros((len(_FAR_TIERS), Q, m))
    for k, (_, n) in enumerate(_FAR_TIERS):
        x, w = np.polynomial.legendre.leggauss(n)
        far_gap[k, :n] = (1.0 - x) / 2.0
        far_wl[k, :n] = (w / 2.0)[:, None] * lagrange_values(cf, (1.0 + x) / 2.0)
    x, w = np.polynomial.legendre.leggauss(_NEAR_POINTS)
    return _WeightData(cf, Aa, ba, E, np.array([d for d, _ in _FAR_TIERS]),
                       np.array([n for _, n in _FAR_TIERS], dtype=np.int64),
                       far_gap, far_wl, (1.0 + x) / 2.0, w / 2.0)


def local_weights(tableau, alpha):
    r"""The product-integration matrix and vector of the current interval, for a unit step.

    Returns ``(A_alpha, b_alpha)`` with
    :math:`a^{(\alpha)}_{ij} = \int_0^{c_i} (c_i - u)^{-\alpha} L_j(u)\,du` and
    :math:`b^{(\alpha)}_j = \int_0^1 (1 - u)^{-\alpha} L_j(u)\,du`; on a step of length
    h they are multiplied by :math:`h^{1-\alpha}`.  As α → 0 they tend to the
    collocation tableau's A and b.

    Examples
    --------
    >>> from integrallimits.volterra._tableaux import collocation_tableau
    >>> A, b = local_weights(collocation_tableau("radau", 1), 0.5)
    >>> float(A[0, 0]), float(b[0])      # int_0^1 (1 - u)^(-1/2) du = 2
    (2.0, 2.0)
    """
    data = _weight_data(_points_key(tableau), _check_alpha(alpha))
    return data.Aa.copy(), data.ba.copy()


@_helper
def _phi(delta, alpha, c, E, far_lower, far_count, far_gap, far_wl, near_x, near_w, out):
    """out[j] = int_0^1 (1 + δ - u)^(-α) L_j(u) du for δ >= 0 (the weights for a unit step)."""
    m = c.shape[0]
    for j in range(m):
        out[j] = 0.0
    if delta >= far_lower[0]:
        # far: one Gauss-Legendre rule on the analytic integrand
        tier = 0
        for k in range(far_lower.shape[0]):
            if delta >= far_lower[k]:
                tier = k
        for q in range(far_count[tier]):
            p = (delta + far_gap[tier, q]) ** (-alpha)
            for j in range(m):
                out[j] += far_wl[tier, q, j] * p
    elif delta < _DELTA_CLOSED:
        # closed form: L_j(1 - w) = sum_k E_jk w^k and
        # mu_k = int_0^1 (δ + w)^(-α) w^k dw
        #      = sum_i C(k, i) (-δ)^(k-i) ((1 + δ)^(i+1-α) - δ^(i+1-α)) / (i + 1 - α);
        # for δ < 1/4 the alternating sum loses at most a factor ~4.
        for k in range(m):
            mu = 0.0
            binom = 1.0
            for i in range(k, -1, -1):  # i = k, k-1, ..., 0;  binom = C(k, i)
                e = i + 1.0 - alpha
                term = ((1.0 + delta) ** e - (delta ** e if delta > 0.0 else 0.0)) / e
                mu += binom * (-delta) ** (k - i) * term
                binom = binom * i / (k - i + 1.0)
            for j in range(m):
                out[j] += E[j, k] * mu
    else:
        # near: composite Gauss-Legendre on pieces [a, b] of [0, 1], built from the
        # right, each as long as its distance to the singularity at u = 1 + δ
        b = 1.0
        while b > 0.0:
            a = max(0.0, b - (1.0 + delta - b))
            for q in range(near_x.shape[0]):
                u = a + (b - a) * near_x[q]
                p = (b - a) * near_w[q] * ((1.0 + delta - b) + (b - u)) ** (-alpha)
                for j in range(m):
                    lj = 1.0
                    for i in range(m):
                        if i != j:
                            lj *= (u - c[i]) / (c[j] - c[i])
                    out[j] += p * lj
            b = a


def history_weights(tableau, alpha, t, t_left, t_right):
    r"""Product-integration weights :math:`W_j(t) = \int_{t_l}^{t_{l+1}} (t - s)^{-\alpha}
    L_j((s - t_l)/h)\, ds` of one earlier interval, for a target :math:`t \ge t_{l+1}`.

    This is the function the compiled loop uses: for
    :math:`\delta = (t - t_{l+1})/h` below 1/4 a closed form through Beta-type
    moments, between 1/4 and 1 composite Gauss-Legendre on pieces as long as
    their distance to the singularity, and from 1 on (the target at least one
    interval length away) Gauss-Legendre on the smooth integrand with fewer
    points the farther it is.  Relative accuracy about 1e-14 for m <= 4 (tested to
    1e-13 against mpmath).

    Examples
    --------
    >>> from integrallimits.volterra._tableaux import collocation_tableau
    >>> w = history_weights(collocation_tableau("gauss", 1), 0.5, 2.0, 0.0, 1.0)
    >>> round(float(w[0]), 14) == round(2 * (2 ** 0.5 - 1), 14)   # int_0^1 (2 - s)^(-1/2) ds
    True
    """
    alpha = _check_alpha(alpha)
    t, t_left, t_right = float(t), float(t_left), float(t_right)
    if not t_right > t_left or not t >= t_right:
        raise ValueError(f"need t_left < t_right <= t, got {t_left}, {t_right}, {t}")
    data = _weight_data(_points_key(tableau), alpha)
    h = t_right - t_left
    out = np.empty(data.c.shape[0])
    _phi((t - t_right) / h, alpha, data.c, data.E, data.far_lower, data.far_count, data.far_gap,
         data.far_wl, data.near_x, data.near_w, out)
    return out * h ** (1.0 - alpha)


# -- the compiled loop ---------------------------------------------------------------------

@_helper
def _history_weights_into(w, x, n, alpha, t, c, E, far_lower, far_count, far_gap, far_wl,
                          near_x, near_w, W):
    """w[l m + j] = W_lj(x) for the intervals l < n (x >= t_n): the history weights of a target."""
    m = c.shape[0]
    one = 1.0 - alpha
    for l in range(n):
        hl = t[l + 1] - t[l]
        # δ = (x - t_{l+1}) / h_l; x - t_{l+1} = (x - t_n) + (t_n - t_{l+1}) without cancellation
        _phi(((x - t[n]) + (t[n] - t[l + 1])) / hl, alpha, c, E, far_lower, far_count, far_gap,
             far_wl, near_x, near_w, W)
        scale = hl ** one
        for j in range(m):
            w[l * m + j] = scale * W[j]


@_helper
def _stage_newton(K, J, have_jac, theta, ts, Y, Z, C, n, hp, Aa, tol, maxiter, stats, f, work, Jk,
                  F, JF):
    """Newton on the m d stage unknowns of interval n (from y_n):
    Z_ni = C_i + h^(1-alpha) sum_j a_ij k(t_ni, t_nj, Z_nj).  True if it converged."""
    m = Aa.shape[0]
    d = Y.shape[1]
    md = m * d
    for i in range(m):
        for k in range(d):
            Z[n * m + i, k] = Y[n, k]
    stats[NSOLVE] += 1
    for it in range(maxiter):
        stats[NIT] += 1
        for i in range(m):
            for k in range(d):
                F[i * d + k] = Z[n * m + i, k] - C[i, k]
        for r in range(md):
            for q in range(md):
                JF[r, q] = 1.0 if r == q else 0.0
        for i in range(m):
            ti = ts[n * m + i]
            for j in range(m):
                wij = hp * Aa[i, j]
                if wij == 0.0:
                    continue
                tj = ts[n * m + j]
                K(ti, tj, Z, n * m + j, theta, f)
                stats[NFEV] += 1
                for k in range(d):
                    F[i * d + k] -= wij * f[k]
                _jacobian_p(K, J, have_jac, ti, tj, Z, n * m + j, theta, Jk, f, work, stats,
                            fd_floor(Y[0]))
                for a in range(d):
                    for q in range(d):
                        JF[i * d + a, j * d + q] -= wij * Jk[a, q]
        if not _all_finite(F) or not _all_finite(JF):
            return False
        if not solve_inplace(JF, F):  # F becomes the Newton step
            return False
        size = 0.0
        scale = fd_floor(Y[0])
        for i in range(m):
            for k in range(d):
                Z[n * m + i, k] -= F[i * d + k]
                size = max(size, abs(F[i * d + k]))
                scale = max(scale, abs(Z[n * m + i, k]))
        if not np.isfinite(size):
            return False
        if size <= tol * scale:
            return True
    return False


def _product_integration_loop(K_at, J_at, have_jac, B_at, theta, t, ts, G, Gs, Y, Z, alpha, c,
                              Aa, ba, E, far_lower, far_count, far_gap, far_wl, near_x, near_w,
                              tol, maxiter, stats):
    """Collocation with product integration on the mesh t (see the module docstring).

    ``ts`` holds the stage times (row n m + i), ``G`` g at the mesh points, ``Gs`` g at
    the stage times; ``Y`` receives the iterated values at the mesh points, ``Z`` the
    stage values.  The history sums go through the kernel's block sum ``B`` with the
    product-integration weights of the target.
    """
    K, J, B = _loops._kernel_at(K_at), _loops._jacobian_at(J_at), _loops._block_at(B_at)
    N = t.shape[0] - 1
    d = Y.shape[1]
    m = c.shape[0]
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    W = np.empty(m)
    w = np.empty(N * m)
    md = m * d
    F = np.empty(md)
    JF = np.empty((md, md))
    one = 1.0 - alpha
    for k in range(d):
        Y[0, k] = G[0, k]
    for n in range(N):
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, n
        h = t[n + 1] - t[n]
        hp = h ** one
        # the history at the m stage times of this interval
        for i in range(m):
            ti = ts[n * m + i]
            _history_weights_into(w, ti, n, alpha, t, c, E, far_lower, far_count, far_gap, far_wl,
                                  near_x, near_w, W)
            B(ti, ts, Z, 0, n * m, w, theta, f)
            for k in range(d):
                C[i, k] = Gs[n * m + i, k] + f[k]
        stats[NFEV] += n * m * m
        if not _all_finite(C):
            return NOT_FINITE, n + 1
        if not _stage_newton(K, J, have_jac, theta, ts, Y, Z, C, n, hp, Aa, tol, maxiter, stats, f,
                             work, Jk, F, JF):
            return NEWTON_FAILED, n + 1
        # the iterated value at t_{n+1}: history weights plus the whole current interval
        tn1 = t[n + 1]
        _history_weights_into(w, tn1, n, alpha, t, c, E, far_lower, far_count, far_gap, far_wl,
                              near_x, near_w, W)
        for j in range(m):
            w[n * m + j] = hp * ba[j]
        B(tn1, ts, Z, 0, (n + 1) * m, w, theta, f)
        stats[NFEV] += (n + 1) * m
        for k in range(d):
            Y[n + 1, k] = G[n + 1, k] + f[k]
            if not np.isfinite(Y[n + 1, k]):
                return NOT_FINITE, n + 1
    return SUCCESS, N


def _partial_step_loop(K_at, J_at, have_jac, B_at, theta, t, ts, Y, Z, alpha, c, Aa, ba, E,
                       far_lower, far_count, far_gap, far_wl, near_x, near_w, tol, maxiter, stats,
                       points, idx, Gp, out):
    """The dense output: out[p] is the value at x = points[p], t_n < x < t_{n+1} (n = idx[p]),
    of the method on the mesh t_0 .. t_n, x: the stages of the partial interval [t_n, x]
    (Newton, on the history of the stages Z of the intervals before) and the iterated value
    at x, as :func:`_product_integration_loop` computes them at a mesh point.  ``ts`` and
    ``Z`` are work copies of the stage times and values (the rows of interval n are used for
    the partial interval and restored after each point); ``Gp`` (P (m + 1), d) holds g at the
    partial interval's stage times and at x.  A point whose Newton solve fails (or whose value
    is not finite) gets NaN."""
    K, J, B = _loops._kernel_at(K_at), _loops._jacobian_at(J_at), _loops._block_at(B_at)
    d = Y.shape[1]
    m = c.shape[0]
    N = t.shape[0] - 1
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    W = np.empty(m)
    w = np.empty(N * m + m)
    md = m * d
    F = np.empty(md)
    JF = np.empty((md, md))
    keep_ts = np.empty(m)
    keep_Z = np.empty((m, d))
    one = 1.0 - alpha
    for p in range(points.shape[0]):
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, p
        n = idx[p]
        x = points[p]
        h = x - t[n]
        hp = h ** one
        for i in range(m):
            keep_ts[i] = ts[n * m + i]
            for k in range(d):
                keep_Z[i, k] = Z[n * m + i, k]
            ts[n * m + i] = t[n] + c[i] * h
        for i in range(m):
            ti = ts[n * m + i]
            _history_weights_into(w, ti, n, alpha, t, c, E, far_lower, far_count, far_gap, far_wl,
                                  near_x, near_w, W)
            B(ti, ts, Z, 0, n * m, w, theta, f)
            for k in range(d):
                C[i, k] = Gp[p * (m + 1) + i, k] + f[k]
        stats[NFEV] += n * m * m
        ok = _all_finite(C) and _stage_newton(K, J, have_jac, theta, ts, Y, Z, C, n, hp, Aa, tol,
                                              maxiter, stats, f, work, Jk, F, JF)
        if ok:
            _history_weights_into(w, x, n, alpha, t, c, E, far_lower, far_count, far_gap, far_wl,
                                  near_x, near_w, W)
            for j in range(m):
                w[n * m + j] = hp * ba[j]
            B(x, ts, Z, 0, (n + 1) * m, w, theta, f)
            stats[NFEV] += (n + 1) * m
            for k in range(d):
                out[p, k] = Gp[p * (m + 1) + m, k] + f[k]
        if not ok:
            for k in range(d):
                out[p, k] = np.nan
        for i in range(m):
            ts[n * m + i] = keep_ts[i]
            for k in range(d):
                Z[n * m + i, k] = keep_Z[i, k]
    return SUCCESS, points.shape[0]


@_helper
def _phi_table(deltas, alpha, c, E, far_lower, far_count, far_gap, far_wl, near_x, near_w, out):
    """out[r, j] = Phi_j(deltas[r]): the unit-step history weights at many distances."""
    for r in range(deltas.shape[0]):
        _phi(deltas[r], alpha, c, E, far_lower, far_count, far_gap, far_wl, near_x, near_w, out[r])


def _product_integration_conv_loop(K_at, J_at, have_jac, phi_at, theta, t, ts, G, Gs, Y, Z,
                                   alpha, Aa, kseq, khat, koff, tw, tol, maxiter, stats):
    """The product-integration loop for k(t, s, y) = k~(t - s) phi(s, y) on a uniform mesh.

    The history weights are Toeplitz there: with delta = (t_ni - t_{l+1}) / h = n - l - 1 +
    c_i, channel q = i m + j carries kappa[p] = h^(1-alpha) Phi_j(p - 1 + c_i) k~((p + c_i -
    c_j) h) from the sources phi(t_lj, Z_lj) to stage i, and channel m m + j carries
    h^(1-alpha) Phi_j(p - 1) k~((p - c_j) h) to the iterated value (p = 1 is the current
    interval: Phi_j(0) = b^(alpha)_j), so the blocked FFT scheme of ``_fft.add_block`` sums
    them in O(N log^2 N).  The stages are solved as in :func:`_product_integration_loop`.
    """
    K, J, phi = _loops._kernel_at(K_at), _loops._jacobian_at(J_at), _loops._kernel_at(phi_at)
    N = t.shape[0] - 1
    d = Y.shape[1]
    m = Aa.shape[0]
    h = (t[N] - t[0]) / N
    hp = h ** (1.0 - alpha)
    f = np.empty(d)
    work = np.empty(d)
    Jk = np.empty((d, d))
    C = np.empty((m, d))
    F = np.empty(m * d)
    JF = np.empty((m * d, m * d))
    src = np.zeros((m, N + 1, d))
    acc = np.zeros((m + 1, N + 1, d))
    work_fft = block_workspace(koff, src, acc)
    chan_src, chan_tgt = stage_channels(m)
    for k in range(d):
        Y[0, k] = G[0, k]
    for n in range(N):
        if stats[stats.shape[0] - 1] != 0:   # interrupted (see _loops.new_counts)
            return INTERRUPTED, n
        for i in range(m):
            for k in range(d):
                C[i, k] = Gs[n * m + i, k] + acc[i, n, k]
        if not _all_finite(C):
            return NOT_FINITE, n + 1
        if not _stage_newton(K, J, have_jac, theta, ts, Y, Z, C, n, hp, Aa, tol, maxiter, stats, f,
                             work, Jk, F, JF):
            return NEWTON_FAILED, n + 1
        for j in range(m):
            phi(ts[n * m + j], ts[n * m + j], Z, n * m + j, theta, f)
            for k in range(d):
                src[j, n, k] = f[k]
        stats[NFEV] += m
        add_sources(n, kseq, khat, koff, src, acc, chan_src, chan_tgt, tw, work_fft)
        for k in range(d):
            Y[n + 1, k] = G[n + 1, k] + acc[m, n + 1, k]
            if not np.isfinite(Y[n + 1, k]):
                return NOT_FINITE, n + 1
    return SUCCESS, N


_f8 = types.float64
_A1 = types.float64[::1]
_A2 = types.float64[:, ::1]
_A3 = types.float64[:, :, ::1]
_I = types.int64   # (the functions' addresses: a function argument cost ~7.5 us a call)
_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _A1, _A1, _A1, _A2,
    _A2, _A2, _A2, _f8, _A1, _A2, _A1, _A2, _A1, types.int64[::1], _A2, _A3, _A1, _A1, _f8,
    types.int64, types.int64[::1])
_A4 = types.float64[:, :, :, ::1]
_CONV_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _A1, _A1, _A1,
    _A2, _A2, _A2, _A2, _f8, _A2, _A4, types.complex128[::1], types.int64[::1], types.complex128[::1],
    _f8, types.int64, types.int64[::1])
_DENSE_SIGNATURE = types.UniTuple(types.int64, 2)(
    _I, _I, types.boolean, _I, _A1, _A1, _A1, _A2,
    _A2, _f8, _A1, _A2, _A1, _A2, _A1, types.int64[::1], _A2, _A3, _A1, _A1, _f8, types.int64,
    types.int64[::1], _A1, types.int64[::1], _A2, _A2)
_LOOPS = {"direct": (_SIGNATURE, _product_integration_loop),
          "dense": (_DENSE_SIGNATURE, _partial_step_loop),
          "fft": (_CONV_SIGNATURE, _product_integration_conv_loop)}
_COMPILED = {}


def _compiled_loop(name="direct"):
    """The compiled loop ("direct", "fft" or "dense"), compiled (or loaded from the disk cache)
    on first use."""
    if name not in _COMPILED:
        options = {k: v for k, v in JIT_OPTIONS.items() if k != "nopython"}
        signature, loop = _LOOPS[name]
        _COMPILED[name] = njit(signature, **options)(loop)
    return _COMPILED[name]


def _toeplitz_weights(smooth_kernel, data, alpha, N, h):
    """kseq (m (m + 1), N + 1, d, d) for :func:`_product_integration_conv_loop`: the history
    weights h^(1-alpha) Phi_j(p - 1 + c_i) times the lag samples k~((p + c_i - c_j) h) of the
    smooth convolution factor, with c_m = 0 for the iterated value (its target t_{n+1} is
    the start of interval n + 1, and p counts from there); lag 0 is unused."""
    from ._methods import _lag_sequences
    m = data.c.shape[0]
    ci = np.concatenate([data.c, [0.0]])                      # targets: the stages, then t_{n+1}
    p = np.arange(N + 1)
    lags = ((p[None, None, :] + ci[:, None, None] - data.c[None, :, None]) * h).reshape(-1, N + 1)
    kseq = _lag_sequences(smooth_kernel, lags, m * (m + 1))
    deltas = np.ascontiguousarray((p[None, 1:] - 1 + ci[:, None]).reshape(-1))
    phis = np.empty((deltas.shape[0], m))
    _phi_table(deltas, alpha, data.c, data.E, data.far_lower, data.far_count, data.far_gap,
               data.far_wl, data.near_x, data.near_w, phis)
    weights = np.zeros((m + 1, m, N + 1))
    weights[:, :, 1:] = np.moveaxis(phis.reshape(m + 1, N, m), 2, 1) * h ** (1.0 - alpha)
    kseq *= weights.reshape(m * (m + 1), N + 1)[:, :, None, None]
    return kseq


# -- the solver ----------------------------------------------------------------------------

@dataclass
class ProductIntegrationResult:
    """Mesh values, stage values and the loop's status of one solve.

    ``y`` (N+1, d): iterated values at the mesh points; ``stage_times`` (N m,) and
    ``stages`` (N m, d): the collocation solution at t_nj (row n m + j);
    ``status``/``index`` as in ``_loops``; ``counts`` the int64 work counters.
    """

    y: np.ndarray
    stage_times: np.ndarray
    stages: np.ndarray
    status: int
    index: int
    counts: np.ndarray


def collocation_product_integration(smooth_kernel, alpha, g_vec, t, tableau, tol, maxiter,
                                    fast_history=False):
    """Solve with the stage values kept; see :func:`solve_product_integration`."""
    alpha = _check_alpha(alpha)
    t = np.ascontiguousarray(t, dtype=float)
    if t.ndim != 1 or t.shape[0] < 2 or not np.all(np.diff(t) > 0):
        raise ValueError("the mesh must be a strictly increasing 1-d array of at least 2 points")
    data = _weight_data(_points_key(tableau), alpha)
    h = np.diff(t)
    stage_times = (t[:-1, None] + data.c[None, :] * h[:, None]).reshape(-1)
    G = np.ascontiguousarray(g_vec(t), dtype=float)
    Gs = np.ascontiguousarray(g_vec(stage_times), dtype=float)
    Y = np.zeros_like(G)
    Z = np.zeros((stage_times.shape[0], G.shape[1]))
    counts = _loops.new_counts(4)
    function, jac = smooth_kernel.function_address, smooth_kernel.jacobian_address
    have = jac is not None
    if not have:
        jac = _loops.no_jacobian()
    if fast_history:
        N = t.shape[0] - 1
        h = (t[-1] - t[0]) / N
        if smooth_kernel.structure.get("kind") != "convolution" or not np.allclose(
                np.diff(t), h, rtol=1e-12, atol=0):
            raise ValueError("the fast history of a weakly singular kernel needs a uniform mesh and "
                             "k(t, s, y) = k~(t - s) phi(s, y): weakly_singular(convolution(...), "
                             "alpha)")
        kseq = _toeplitz_weights(smooth_kernel, data, alpha, N, h)
        khat, koff, tw = kernel_transforms(kseq, N + 1)
        status, index = _compiled_loop("fft")(
            function.address, jac.address, have,
            smooth_kernel.structure["phi"].function_address.address,
            smooth_kernel.params, t, stage_times, G, Gs, Y, Z, alpha, data.Aa, kseq, khat, koff, tw,
            float(tol), int(maxiter), counts)
    else:
        status, index = _compiled_loop()(
            function.address, jac.address, have,
            smooth_kernel.explicit_addresses[1].address,   # (the block sum: this loop only)
            smooth_kernel.params, t,
            stage_times, G, Gs, Y, Z, alpha,
            data.c, data.Aa, data.ba, data.E, data.far_lower, data.far_count, data.far_gap,
            data.far_wl, data.near_x, data.near_w, float(tol), int(maxiter), counts)
    return ProductIntegrationResult(Y, stage_times, Z, int(status), int(index), counts)


def solve_product_integration(smooth_kernel, alpha, g_vec, t, tableau, tol, maxiter,
                              fast_history=False):
    r"""Collocation with product integration for :math:`K = (t - s)^{-\alpha} k(t, s, y)`.

    Parameters
    ----------
    smooth_kernel : Kernel
        The compiled smooth factor k(t, s, y) (with its Jacobian, if any).
    alpha : float
        0 < alpha < 1.
    g_vec : callable
        ``g_vec(times) -> (len(times), d)`` array.
    t : ndarray (N+1,)
        The mesh, strictly increasing (normally :func:`graded_mesh`).
    tableau : ButcherTableau
        A collocation tableau; only its points c are used.
    tol, maxiter : float, int
        Newton stops when the update is below ``tol * max(1, |Z|)``, or fails
        after ``maxiter`` iterations.
    fast_history : bool
        For k(t, s, y) = k~(t - s) phi(s, y) (``weakly_singular(convolution(k~, phi),
        alpha)``) on a uniform mesh: the history weights are then Toeplitz, and the
        blocked FFT scheme of :mod:`._fft` sums the history in O(N log^2 N) instead of
        O(N^2) (the same values to rounding, so the same orders).

    Returns
    -------
    Y : ndarray (N+1, d)
        The iterated collocation values at the mesh points.
    status, index : int
        0 (success), 1 (Newton failed on the interval ending at mesh index
        ``index``) or 2 (a non-finite value at ``index``).
    counts : ndarray (4,) int64
        Kernel evaluations, Jacobian evaluations, Newton iterations, Newton solves.

    Orders: see the module docstring (m for the collocation solution on
    ``graded_mesh(T, N, grading_exponent(m, alpha))``; m + 1 - alpha at the mesh
    points on ``grading_exponent(m + 1 - alpha, alpha)`` for Gauss and Radau IIA
    with m >= 2; about 1 - alpha on a uniform mesh).

    Examples
    --------
    y(t) = 1 - int_0^t (t - s)^(-1/2) y(s) ds (the solution is
    exp(pi t) erfc(sqrt(pi t))):

    >>> import numpy as np
    >>> from scipy.special import erfcx
    >>> from integrallimits import solve_volterra
    >>> from integrallimits.kernels import weakly_singular
    >>> K = weakly_singular(lambda t, s, y: -y, 0.5)
    >>> t = graded_mesh(1.0, 64, grading_exponent(3.5, 0.5))
    >>> sol = solve_volterra(K, lambda t: 1.0, mesh=t, method="gauss3")
    >>> bool(np.max(np.abs(sol.y - erfcx(np.sqrt(np.pi * sol.t)))) < 1e-6)
    True
    """
    res = collocation_product_integration(smooth_kernel, alpha, g_vec, t, tableau, tol, maxiter,
                                          fast_history)
    return res.y, res.status, res.index, res.counts


def partial_step_dense_output(kernel, tableau, g_vec, t, Y, Z, tol, maxiter, args=()):
    """A function ``dense(points) -> (P, d)`` evaluating a product-integration solution (mesh
    ``t``, values ``Y``, stages ``Z`` (N m, d) of the weakly singular ``kernel`` with the
    collocation points of ``tableau``) by a partial step of the method from the mesh point
    before each point: the value the method gives at x on the mesh t_0 .. t_n, x.

    Its error is that of a mesh value (the solution behaves like (t - t_0)^(1 - alpha) near
    t_0, which no polynomial through the mesh values follows: interpolating them on the first
    steps of a graded mesh was up to 290 times the tolerance of the solve).  Cost per point: the
    history sums of one interval, O(N m^2) kernel evaluations.  Holds the compiled kernel and
    ``g``: not kept by pickling (see :meth:`Solution.__getstate__`).
    """
    from ._outcome import run_guarded
    alpha = kernel.structure["alpha"]
    smooth = kernel.structure["smooth"].with_params(kernel.params, kernel.args)
    data = _weight_data(_points_key(tableau), alpha)
    c = data.c
    m = c.shape[0]
    N = len(t) - 1
    h = np.diff(t)
    stage_times = np.ascontiguousarray((t[:-1, None] + c[None, :] * h[:, None]).reshape(-1))
    unchanged = g_vec.snapshot()       # g is called again: with the values of the solve

    def dense(points):
        points = np.asarray(points, dtype=float)
        out = np.empty((points.size, Y.shape[1]))
        idx = np.clip(np.searchsorted(t, points, side="right") - 1, 0, N)
        out[:] = Y[idx]
        need = np.nonzero((points - t[idx] > 0) & (idx < N))[0]
        if not need.size:
            return out
        unchanged()
        x = np.ascontiguousarray(points[need])
        n = np.ascontiguousarray(idx[need], dtype=np.int64)
        Gp = np.ascontiguousarray(g_vec(np.concatenate(
            [t[k] + np.append(c, 1.0) * (xi - t[k]) for k, xi in zip(n, x)])), dtype=float)
        values = np.empty((x.size, Y.shape[1]))
        function, jac, block = smooth.addresses
        have = jac is not None
        if not have:
            jac = _loops.no_jacobian()

        def run():
            counts = _loops.new_counts(4)     # (made in the solving thread: Ctrl-C reaches it)
            return _compiled_loop("dense")(
                function.address, jac.address, have, block.address, smooth.params, t,
                stage_times.copy(),
                np.ascontiguousarray(Y), np.ascontiguousarray(Z).copy(), alpha, c, data.Aa,
                data.ba, data.E, data.far_lower, data.far_count, data.far_gap, data.far_wl,
                data.near_x, data.near_w, float(tol), int(maxiter), counts, x, n, Gp, values)
        run_guarded(run, args, work=float(x.size) * (int(n.max()) + 1) * m * (m + 1))
        out[need] = values
        return out

    return dense
