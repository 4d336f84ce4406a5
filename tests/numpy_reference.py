"""Independent references for the network tests: written with NumPy/SciPy only, never with
the package's activations, weights or kernels, so that a wrong formula in the package cannot
be copied into its own reference.

* activations and their derivatives from their textbook formulas (``np.tanh``,
  ``np.maximum``, ``np.logaddexp``, ``scipy.special.expit``);
* the forward pass of every network family as its defining recursion (rectangle rule), and
  the smooth k-th order net as the state-space recursion z_{n+1} = J z_n + e_k h^k f(x_n);
* any rule: all mesh values of x_n = g_n + h sum_j w_nj K_nj(x_j) solved at once with
  ``scipy.optimize.fsolve`` (only the rule's weights come from the package: exact
  rational data, checked in tests/quadrature);
* a plainly written kernel K(t, s, x) of each family, for ``solve_volterra`` with the other
  rules (the network must equal the solver on it: same code path, independent kernel).
"""
import numpy as np
from scipy.optimize import fsolve
from scipy.special import expit

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "softplus": lambda z: np.logaddexp(0.0, z),
    "sigmoid": expit,
    "identity": lambda z: 1.0 * z,
}

DERIVATIVES = {
    "tanh": lambda z: 4.0 * np.exp(-2.0 * np.abs(z)) / (1.0 + np.exp(-2.0 * np.abs(z))) ** 2,  # sech^2
    "relu": lambda z: np.heaviside(z, 0.0),          # relu'(0) = 0, the package's convention
    "softplus": expit,
    "sigmoid": lambda z: expit(z) * expit(-z),
    "identity": lambda z: np.ones_like(z),
}

NETWORK_ACTIVATIONS = ["tanh", "relu", "softplus", "sigmoid"]


def binomial(n, k):
    """C(n, k) from its product formula (0 outside 0 <= k <= n), in floating point."""
    if k < 0 or k > n:
        return 0.0
    value = 1.0
    for i in range(k):
        value = value * (n - i) / (i + 1)
    return value


def forward(family, X0, h, N, W, b=None, activation="tanh", k=1, diffs=None, V=None):
    """States x_0 .. x_N (B, N+1, d) of the explicit (rectangle-rule) network, as recursions.

    residual-dense: x_n = x_0 + h sum_{j<n} sigma(W_nj x_j + b_nj)
    resnet:         x_n = x_{n-1} + h sigma(W_{n-1} x_{n-1} + b_{n-1})
    concat-dense:   z_n = z_0 + h sum_{j<n} W_nj sigma(z_j)
    smooth:         Delta^k x_n = h^k sigma(W_n x_n + b_n), by the state z = (x, Dx, ..,
                    D^{k-1} x) with z_{n+1} = (J_k kron I) z_n + (e_k kron I) h^k f(x_n)
    relu-resnet:    x_n = x_{n-1} + V_{n-1} relu(W_{n-1} x_{n-1} + b_{n-1})
    """
    sigma = ACTIVATIONS[activation]
    X0 = np.atleast_2d(np.asarray(X0, dtype=float))
    xs = [X0]
    if family == "smooth":
        z = [X0] + [np.broadcast_to(dk, X0.shape).astype(float) for dk in
                    (np.zeros((k - 1, X0.shape[1])) if diffs is None else diffs)]
        for n in range(N):
            f = sigma(z[0] @ W[n].T + b[n])
            z = [z[i] + z[i + 1] for i in range(k - 1)] + [z[k - 1] + h ** k * f]
            xs.append(z[0])
        return np.stack(xs, axis=1)
    for n in range(1, N + 1):
        if family == "residual-dense":
            xs.append(X0 + h * sum(sigma(xs[j] @ W[n, j].T + b[n, j]) for j in range(n)))
        elif family == "resnet":
            xs.append(xs[-1] + h * sigma(xs[-1] @ W[n - 1].T + b[n - 1]))
        elif family == "concat-dense":
            xs.append(X0 + h * sum(sigma(xs[j]) @ W[n, j].T for j in range(n)))
        elif family == "relu-resnet":
            xs.append(xs[-1] + np.maximum(xs[-1] @ W[n - 1].T + b[n - 1], 0.0) @ V[n - 1].T)
        else:
            raise ValueError(family)
    return np.stack(xs, axis=1)


def smooth_closed_form(X0, h, N, W, b, activation, k, diffs=None):
    """x_n = sum_{i<k} C(n, i) Delta^i x_0 + h^k sum_{j <= n-k} C(n-j-1, k-1) f(x_j) (the
    unrolled smooth net, with binomials from their product formula)."""
    sigma = ACTIVATIONS[activation]
    X0 = np.atleast_2d(np.asarray(X0, dtype=float))
    diffs = np.zeros((k - 1, X0.shape[1])) if diffs is None else diffs
    xs, fs = [], []
    for n in range(N + 1):
        x = X0 + sum(binomial(n, i) * diffs[i - 1] for i in range(1, k))
        x = x + h ** k * sum((binomial(n - j - 1, k - 1) * fs[j] for j in range(n - k + 1)),
                             np.zeros_like(X0))
        xs.append(x)
        fs.append(sigma(x @ W[n].T + b[n]))
    return np.stack(xs, axis=1)


def layer_map(family, h, W, b=None, activation="tanh", k=1, V=None):
    """K(n, j, x): the family's kernel at grid times (t_n, t_j), x of shape (d,)."""
    sigma = ACTIVATIONS[activation]
    if family == "residual-dense":
        return lambda n, j, x: sigma(W[n, j] @ x + b[n, j])
    if family == "resnet":
        return lambda n, j, x: sigma(W[j] @ x + b[j])
    if family == "concat-dense":
        return lambda n, j, x: W[n, j] @ sigma(x)
    if family == "smooth":
        return lambda n, j, x: h ** (k - 1) * binomial(n - j - 1, k - 1) * sigma(W[j] @ x + b[j])
    if family == "relu-resnet":
        return lambda n, j, x: V[j] @ np.maximum(W[j] @ x + b[j], 0.0) / h
    raise ValueError(family)


def rule_solution(K, g, weights, h):
    """x_0 .. x_N with x_n = g_n + h sum_j w_nj K(n, j, x_j), every equation at once.

    ``g`` is (N+1, d); ``weights`` the rule's dense (N+1, >= N+1) array (rows of a starting
    block reach past the diagonal, so the first steps are one coupled system).
    """
    N, d = g.shape[0] - 1, g.shape[1]
    width = weights.shape[1]

    def residual(flat):
        X = np.vstack([g[0], flat.reshape(N, d)])
        F = [X[n] - g[n] - h * sum(weights[n, j] * K(n, j, X[j]) for j in range(width)
                                   if weights[n, j] != 0.0) for n in range(1, N + 1)]
        return np.concatenate(F)

    guess = np.tile(g[0], N) if N else np.zeros(0)
    flat = fsolve(residual, guess, xtol=1e-14, full_output=True)[0]   # (no warning at xtol)
    assert np.max(np.abs(residual(flat))) < 1e-12, "the reference system did not converge"
    return np.vstack([g[0], flat.reshape(N, d)])


FAMILY_CODES = {"residual-dense": 0, "resnet": 1, "concat-dense": 2}


def plain_kernel(t, s, x, family, h, Wd, bd, Wr, br):
    """The tanh kernel K(t, s, x) of each family as a user writes it, reading the grid by
    rounding t/h; the family (``FAMILY_CODES``) and the weights are parameters (``args``: one
    compiled function serves every family).  ``Wd``, ``bd`` are the two-index weights W_nj,
    b_nj with (n, j) as one index n (N + 1) + j (``args`` take arrays of at most 3
    dimensions); ``Wr``, ``br`` the one-index weights W_j, b_j."""
    j = int(round(s / h))
    if family == 1:                                    # resnet
        return np.tanh(Wr[j] @ x + br[j])
    nj = int(round(t / h)) * Wr.shape[0] + j
    if family == 0:                                    # residual-dense
        return np.tanh(Wd[nj] @ x + bd[nj])
    return Wd[nj] @ np.tanh(x)                         # concat-dense
