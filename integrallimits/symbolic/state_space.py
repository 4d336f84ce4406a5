r"""State-space form and closed form of the smooth k-th order networks.

The smooth k-th order network (DESIGN.md section 2) is

    Δ^k x_n = h^k f(x_n; θ_n),       x_n ∈ R^d,   Δ x_n = x_{n+1} - x_n.

With the state z_n = (x_n, Δx_n, ..., Δ^{k-1} x_n) ∈ R^{kd} it is the linear
system driven by the layer map

    z_{n+1} = (J_k ⊗ I_d) z_n + (e_k ⊗ I_d) h^k f(x_n),

J_k the k x k upper bidiagonal matrix of ones, and unrolled

    x_n = Σ_{i<k} C(n, i) Δ^i x_0 + h^k Σ_{j <= n-k} C(n-j-1, k-1) f(x_j).       (CF)

Every identity is linear in the values f_j = f(x_j), so it is checked with the
f_j as independent symbols: it then holds for every f, in particular f(x_j; θ_j).

The checks here:

* :func:`check_state_space` -- for given k, d and N: the matrix recursion, the
  closed form (CF) and the definition of the state agree exactly, with symbolic
  initial differences and symbolic f_j (vectors of d symbols);
* :func:`check_closed_form_symbolic_n` -- (CF) satisfies Δ^k x_n = h^k f_n and the
  initial conditions for *symbolic* n (fixed k), coefficient by coefficient;
* :func:`closed_form_induction_steps` -- the same for symbolic n *and* symbolic k,
  by the Pascal-rule induction Δ S_k = S_{k-1};
* :func:`check_kernel_limit` -- with t = nh, s = jh the mixing weight of f_j, divided
  by h, tends to the Volterra kernel (t - s)^{k-1}/(k-1)! as h -> 0;
* :func:`parameter_counts` -- state dimension k d, d^2 weights per layer against
  (k d)^2 for a first-order ResNet of the same width: the factor k^2.
"""
from __future__ import annotations

import sympy as sp

from ._common import all_zero, check_sizes, forward_difference, is_zero, to_sympy, vector_symbols

__all__ = ["difference_matrix", "transition_matrices", "smooth_weight", "closed_form",
           "state_space_states", "check_state_space", "check_closed_form_symbolic_n",
           "closed_form_induction_steps", "check_closed_form_induction", "kernel_limit",
           "check_kernel_limit", "parameter_counts", "check_parameter_ratio"]

h = sp.Symbol("h", positive=True)


def difference_matrix(k):
    """J_k: the k x k upper bidiagonal matrix of ones (Δ^i x_{n+1} = Δ^i x_n + Δ^{i+1} x_n)."""
    return sp.Matrix(k, k, lambda r, c: 1 if c in (r, r + 1) else 0)


def transition_matrices(k, d):
    """(J_k ⊗ I_d, e_k ⊗ I_d): state transition and input matrices of the smooth network.

    Examples
    --------
    >>> A, B = transition_matrices(2, 1)
    >>> A, B.T
    (Matrix([
    [1, 1],
    [0, 1]]), Matrix([[0, 1]]))
    """
    e_k = sp.zeros(k, 1)
    e_k[k - 1] = 1
    eye = sp.eye(d)
    return sp.kronecker_product(difference_matrix(k), eye), sp.kronecker_product(e_k, eye)


def smooth_weight(n, j, k):
    """The mixing weight C(n - j - 1, k - 1) of f_j in x_n (without the factor h^k)."""
    return sp.binomial(n - j - 1, k - 1)


def _exact_weight(weight):
    """``weight`` with its values made exact SymPy numbers or expressions (:func:`to_sympy`):
    a text it returns is read as a rational, never evaluated (``sp.expand_func`` sympified
    it, running the text), and a float is refused."""
    def exact(n, j, k):
        return to_sympy(weight(n, j, k))
    return exact


def closed_form(n, k, diffs, forcing, step=h, weight=smooth_weight):
    r"""x_n = Σ_{i<k} C(n, i) Δ^i x_0 + h^k Σ_{j <= n-k} w(n, j, k) f_j, w = C(n-j-1, k-1).

    Parameters
    ----------
    n, k : int
    diffs : sequence of k column vectors
        Δ^0 x_0, ..., Δ^{k-1} x_0.
    forcing : sequence of column vectors
        f_0, f_1, ... (at least n - k + 1 of them).
    step : SymPy expression
        h.
    weight : callable (n, j, k) -> expression
        The mixing weight; replaceable to test that a wrong binomial is detected.
    """
    weight = _exact_weight(weight)
    x = sum((sp.binomial(n, i) * diffs[i] for i in range(k)), sp.zeros(*diffs[0].shape))
    for j in range(n - k + 1):
        x += step ** k * weight(n, j, k) * forcing[j]
    return x


def _symbols(k, d, n_steps):
    diffs = [vector_symbols(f"D{i}", d) for i in range(k)]
    forcing = [vector_symbols(f"f{j}", d) for j in range(n_steps + 1)]
    return diffs, forcing


def state_space_states(k, d, n_steps, diffs, forcing, step=h, transition=None):
    """z_0 ... z_N of z_{n+1} = A z_n + B h^k f_n from z_0 = (Δ^0 x_0, ..., Δ^{k-1} x_0)."""
    A, B = transition if transition is not None else transition_matrices(k, d)
    z = [sp.Matrix.vstack(*diffs)]
    for n in range(n_steps):
        z.append(A * z[-1] + B * step ** k * forcing[n])
    return z


def check_state_space(k, d, n_steps=None, weight=smooth_weight, transition=None):
    r"""Exact check of the state-space representation for given k, d and N steps.

    With symbolic Δ^i x_0 and f_j (vectors of d symbols), for every n <= N:

    * the first block of z_n (matrix recursion) equals x_n of the closed form (CF);
    * block i of z_n equals Δ^i x_n computed from the sequence x_0 ... x_N (where
      n + i <= N): the state really is (x, Δx, ..., Δ^{k-1} x);
    * Δ^k x_n = h^k f_n for n <= N - k (the network's defining equation).

    Parameters
    ----------
    k, d : int
        Order and width (k >= 1, d >= 1).
    n_steps : int, optional
        N; default 2 k + 1 (so that sums with several terms occur).
    weight, transition : optional
        Replacements for the mixing weight and for (A, B) (to inject a broken variant).

    Returns
    -------
    bool
        True iff every difference is exactly zero.

    Examples
    --------
    >>> check_state_space(2, 1)
    True
    >>> check_state_space(2, 1, weight=lambda n, j, k: sp.binomial(n - j, k - 1))
    False
    """
    check_sizes(k=k, d=d, n_steps=n_steps)
    n_steps = 2 * k + 1 if n_steps is None else n_steps
    diffs, forcing = _symbols(k, d, n_steps)
    z = state_space_states(k, d, n_steps, diffs, forcing, transition=transition)
    x = [closed_form(n, k, diffs, forcing, weight=weight) for n in range(n_steps + 1)]
    residuals = []
    for n in range(n_steps + 1):
        residuals.extend(z[n][:d, 0] - x[n])
        for i in range(1, k):
            if n + i <= n_steps:
                residuals.extend(z[n][i * d:(i + 1) * d, 0] - forward_difference(x, i, n))
        if n + k <= n_steps:
            residuals.extend(forward_difference(x, k, n) - h ** k * forcing[n])
    return all_zero(residuals)


def check_closed_form_symbolic_n(k, weight=smooth_weight):
    r"""Prove (CF) for symbolic n and a fixed k, coefficient by coefficient.

    (CF) is linear in Δ^i x_0 and f_j, so Δ^k x_n = h^k f_n for all n iff

    * Δ^k C(n, i) = 0 for i < k, as a polynomial identity in symbolic n;
    * the coefficient c(n, j) = w(n, j, k) [j <= n - k] of h^k f_j satisfies
      Δ^k_n c(n, j) = [j = n]: for j <= n - k every term of Δ^k is present and this
      is Σ_r (-1)^{k-r} C(k, r) w(n + r, j, k) = 0 for symbolic n and j; for
      j = n - k + q (q = 1..k) only the terms r >= q are present, an identity in
      symbolic n for each q; for j > n no term is present;

    and the initial conditions hold: Δ^i of (CF) at n = 0 is Δ^i x_0 for i < k
    (C(r, i') summed with difference coefficients is [i = i'], and no f_j enters
    x_0 ... x_{k-1}). Together with uniqueness of the solution of the k-th order
    recursion this proves (CF) for every n >= 0.

    Returns
    -------
    bool
    """
    check_sizes(k=k)
    weight = _exact_weight(weight)
    n, j = sp.symbols("n j", integer=True)

    def delta_k(seq_of_r, start=0):
        return sum((-1) ** (k - r) * sp.binomial(k, r) * seq_of_r(r) for r in range(start, k + 1))

    conditions = []
    for i in range(k):  # homogeneous part: polynomials of degree i < k
        conditions.append(delta_k(lambda r: sp.expand_func(sp.binomial(n + r, i))))
    # j <= n - k: all k + 1 terms present
    conditions.append(delta_k(lambda r: sp.expand_func(weight(n + r, j, k))))
    for q in range(1, k + 1):  # j = n - k + q: the terms r >= q (j <= n + r - k) are present
        target = 1 if q == k else 0
        conditions.append(delta_k(lambda r: sp.expand_func(weight(n + r, n - k + q, k)), q)
                          - target)
    # initial differences: Δ^i (Σ_{i'} C(n, i') D_{i'}) at n = 0 equals D_i
    for i in range(k):
        for i2 in range(k):
            value = sum((-1) ** (i - r) * sp.binomial(i, r) * sp.binomial(r, i2) for r in range(i + 1))
            conditions.append(value - (1 if i == i2 else 0))
    return all_zero(conditions)


def _binomial_identity(expr):
    """True if ``expr`` (with binomials) is 0, *provided* every binomial has arguments that
    SymPy can prove to be non-negative integers -- the range where the factorial
    manipulations of ``combsimp`` are valid (they are not at negative upper arguments,
    e.g. C(-1, 0) = 1 while C(m - 1, m) -> 0 for m >= 1)."""
    expr = sp.sympify(expr)
    for b in expr.atoms(sp.binomial):
        if not all(arg.is_integer and arg.is_nonnegative for arg in b.args):
            return False
    return is_zero(sp.gammasimp(sp.combsimp(expr)))


def closed_form_induction_steps(weight=smooth_weight):
    r"""The steps of the proof of (CF) for symbolic n *and* symbolic k.

    Write S_k(n) = Σ_{j=0}^{n-k} w(n, j, k) f_j with w = C(n - j - 1, k - 1). For
    n >= k - 1, splitting off the last term of S_k(n + 1) (the definition of a sum),

        Δ S_k(n) = w(n+1, n+1-k, k) f_{n+1-k} + Σ_{j=0}^{n-k} [w(n+1, j, k) - w(n, j, k)] f_j,
        S_{k-1}(n) = w(n, n+1-k, k-1) f_{n+1-k} + Σ_{j=0}^{n-k} w(n, j, k-1) f_j,

    and for n < k - 1 both are empty sums. So Δ S_k = S_{k-1} (k >= 2) follows from two
    identities, checked with k = κ + 2 and, inside the sum, j = n - k - r (κ, r >= 0
    integer symbols; every binomial argument must then be provably >= 0, see
    :func:`_binomial_identity`):

    * ``"pascal-summand"``:  w(n+1, j, k) - w(n, j, k) = w(n, j, k-1)   (0 <= j <= n - k);
    * ``"boundary"``:        w(n+1, n+1-k, k) = w(n, n+1-k, k-1)         (both C(κ+1, κ+1), C(κ, κ));

    and, for k = 1, ``"base"``: w(n+1, n, 1) = 1 and w(n+1, j, 1) = w(n, j, 1) (j <= n - 1),
    so Δ S_1(n) = f_n. Hence Δ^{k-1} S_k = S_1 and Δ^k S_k(n) = f_n. For the free part,
    ``"pascal-free"``: Δ C(n, i) = C(n, i-1) (n >= 0, i >= 1 symbolic; for i <= 0 both
    sides vanish), so Δ^k C(n, i) = C(n, i-k) = 0 for i < k (``"negative-index"``), and
    Δ^i C(n, i') at n = 0 is C(0, i'-i) = [i = i'] (``"initial"``); S_k contributes
    nothing to x_0 ... x_{k-1} (empty sums). So x_n = Σ_{i<k} C(n, i) Δ^i x_0 + h^k S_k(n)
    solves Δ^k x_n = h^k f_n with the given initial differences, for every k >= 1 and
    n >= 0. The boundary values are also evaluated at the integers k = 2..5 (symbolic n),
    where SymPy computes the binomials directly.

    Returns
    -------
    dict
        step name -> bool (exact).
    """
    weight = _exact_weight(weight)
    n, r, kappa, iota = sp.symbols("n r kappa iota", integer=True, nonnegative=True)
    k = kappa + 2
    j = n - k - r  # 0 <= j <= n - k  <=>  0 <= r <= n - k
    pascal_step = weight(n + 1, j, k) - weight(n, j, k) - weight(n, j, k - 1)
    boundary = weight(n + 1, n + 1 - k, k) - weight(n, n + 1 - k, k - 1)
    boundary_small_k = [weight(n + 1, n + 1 - kk, kk) - weight(n, n + 1 - kk, kk - 1)
                        for kk in range(2, 6)]
    j1 = n - 1 - r  # 0 <= j <= n - 1 for k = 1
    negative = sp.Symbol("neg", integer=True, negative=True)
    positive = sp.Symbol("pos", integer=True, positive=True)
    return {
        "pascal-summand": _binomial_identity(pascal_step),
        "boundary": _binomial_identity(boundary) and all_zero(boundary_small_k),
        "base": _binomial_identity(weight(n + 1, n, 1) - 1)
        and _binomial_identity(weight(n + 1, j1, 1) - weight(n, j1, 1)),
        "pascal-free": _binomial_identity(sp.binomial(n + 1, iota + 1) - sp.binomial(n, iota + 1)
                                          - sp.binomial(n, iota)),
        "negative-index": sp.binomial(n, negative) == 0,
        "initial": sp.binomial(0, 0) == 1 and sp.binomial(0, positive) == 0
        and sp.binomial(0, -positive) == 0,
    }


def check_closed_form_induction(weight=smooth_weight):
    """True iff every step of :func:`closed_form_induction_steps` holds (symbolic n and k)."""
    return all(closed_form_induction_steps(weight).values())


def kernel_limit(k, weight=smooth_weight):
    r"""lim_{h->0} h^{k-1} w(t/h, s/h, k): the Volterra kernel the mixing weights discretise.

    The f_j term of x_n is h^k w(n, j, k) f_j = h · [h^{k-1} w(n, j, k)] f_j, a
    rectangle-rule term h κ(t_n, t_j) f_j; with t = n h, s = j h fixed this returns the
    limit κ(t, s) (a SymPy expression in t and s).
    """
    weight = _exact_weight(weight)
    t, s = sp.symbols("t s", positive=True)
    u = sp.Symbol("u", positive=True)  # u = t - s > 0
    expr = sp.expand_func(h ** (k - 1) * weight((s + u) / h, s / h, k))
    return sp.limit(sp.expand(expr), h, 0, "+").subs(u, t - s)


def check_kernel_limit(k, weight=smooth_weight):
    r"""lim_{h->0} h^{k-1} C((t-s)/h - 1, k - 1) = (t - s)^{k-1} / (k-1)!, exactly.

    Examples
    --------
    >>> check_kernel_limit(3)
    True
    >>> check_kernel_limit(3, weight=lambda n, j, k: sp.binomial(n - j - 1, k))
    False
    """
    check_sizes(k=k)
    t, s = sp.symbols("t s", positive=True)
    return is_zero(kernel_limit(k, weight) - (t - s) ** (k - 1) / sp.factorial(k - 1))


def parameter_counts(k, d):
    """State dimension and weights per layer: smooth k-th order net vs first-order ResNet.

    The smooth network has a state of dimension k d but each layer map f(x; θ_n)
    acts on x ∈ R^d only: d^2 weights; a first-order ResNet of the same width k d
    has (k d)^2. Biases are not counted.

    Examples
    --------
    >>> parameter_counts(3, 2)
    {'state_dim': 6, 'params_smooth': 4, 'params_resnet': 36, 'ratio': 9}
    """
    state_dim = k * d
    smooth, resnet = d * d, state_dim * state_dim
    return {"state_dim": state_dim, "params_smooth": smooth, "params_resnet": resnet,
            "ratio": resnet // smooth}


def check_parameter_ratio(counts=parameter_counts):
    """(k d)^2 / d^2 = k^2 for symbolic k, d (with the counting rule ``counts``)."""
    k, d = sp.symbols("k d", integer=True, positive=True)
    c = counts(k, d)
    return is_zero(sp.Rational(1, 1) * c["params_resnet"] / c["params_smooth"] - k ** 2) and \
        is_zero(c["state_dim"] - k * d)
