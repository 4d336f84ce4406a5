r"""The fixed continuum non-local network of the "resolution-limit" study and its pooled outputs
as the spatial rule is refined."""
from __future__ import annotations

import numpy as np

from ._nonlocal import NonlocalDense
from .maps import AttentionMap, LocalMap, NystromMap, spatial_rule

__all__ = ["resolution_network", "resolution_study_values"]


def _kernel_a(x, s):
    """The fixed continuum kernel a(ξ, η) = exp(-4 (ξ - η)^2) of the resolution study."""
    return np.exp(-4.0 * (x - s) ** 2)


def _field_nonlocal(t, s):
    return np.array([[1.0 + t - s, -0.5], [0.5 + s, -1.0 + t]])


def _field_local(t, s):
    return np.array([[-0.5, 0.2 * t], [0.1 * s, -0.3]])


def _initial(x):
    return np.stack([np.sin(np.pi * x) + x, np.cos(2.0 * x)])


_QUERY = np.array([[1.0, 0.5], [-0.3, 1.0]])
_KEY = np.array([[0.8, -0.2], [0.4, 0.6]])


def resolution_network(grid, operator="nystrom", n_layers=8, rule="rectangle"):
    r"""The fixed continuum non-local network of the resolution study, on ``grid``.

    Two channels, tanh, T = 1, N = ``n_layers``:

    .. math:: x(t, \xi) = x_0(\xi) + \int_0^t \tanh\bigl(W_0(t, s) x(s, \xi)
              + W_1(t, s) (\mathcal{A} x(s))(\xi) + b(t, s, \xi)\bigr)\, ds,

    x_0 = (sin πξ + ξ, cos 2ξ), b = (0.1 sin(2πξ + t - s), 0.2 s cos πξ), and
    𝒜 the Nyström operator with a(ξ, η) = exp(-4 (ξ - η)^2) (``operator="nystrom"``)
    or the attention map with fixed Q, K (``"attention"``).  All data are analytic in ξ.

    Returns
    -------
    (NonlocalDense, x0 of shape (2, M))
    """
    if operator == "nystrom":
        spatial = NystromMap(_kernel_a, grid, channels=2)
    elif operator == "attention":
        spatial = AttentionMap(grid, _QUERY, _KEY)
    else:
        raise ValueError(f"operator must be 'nystrom' or 'attention', got {operator!r}")
    x = grid.nodes

    def bias(t, s):
        return np.stack([0.1 * np.sin(2 * np.pi * x + t - s), 0.2 * s * np.cos(np.pi * x)])

    net = NonlocalDense([LocalMap(grid, channels=2), spatial], [_field_local, _field_nonlocal],
                        bias, n_layers=n_layers, rule=rule)
    return net, _initial(x)


def resolution_study_values(rule, sizes, operator="nystrom", n_layers=8):
    r"""Pooled outputs of the fixed continuum network (:func:`resolution_network`) for
    spatial rules of growing size.

    For each size n the network runs on ``spatial_rule(rule, n)`` (M nodes) and
    returns the readout

    .. math:: J_M = \sum_p \omega_p\, x_N(\xi_p) \approx \int_\Omega x_N(\xi)\, d\xi
              \quad (\text{one value per channel}),

    which tends to the continuum value as M -> ∞ with the rule's order (every
    spatial sum, the operator's and the readout's, is a quadrature of an analytic
    integrand).

    Parameters
    ----------
    rule : str
        A spatial rule name ("trapezoid", "simpson", "rectangle", "gauss-legendre", ...).
    sizes : sequence of int
        The rule's size arguments (panels for composite rules, nodes otherwise).
    operator : {"nystrom", "attention"}
    n_layers : int

    Returns
    -------
    M : ndarray (len(sizes),)
        The number of nodes of each rule.
    values : ndarray (len(sizes), 2)
        J_M.

    Examples
    --------
    >>> M, J = resolution_study_values("gauss-legendre", [12, 16])
    >>> M.tolist(), bool(np.abs(J[1] - J[0]).max() < 1e-12)
    ([12, 16], True)
    """
    Ms, values = [], []
    for n in sizes:
        grid = spatial_rule(rule, n)
        net, x0 = resolution_network(grid, operator, n_layers)
        Ms.append(grid.M)
        values.append(grid.integrate(net.forward(x0)[0]))
    return np.array(Ms), np.array(values)