r"""Additive dense networks with k skip connections, in block-companion state-space form.

The network

    x_{n+1} = Σ_{i<k} a_i x_{n-i} + F_n,        F_n = f(x_n) (or another layer output),

has the state z_n = (x_n, x_{n-1}, ..., x_{n-k+1}) ∈ R^{kd} and is the linear system

    z_{n+1} = A z_n + B F_n,    A = C(a) ⊗ I_d,    B = e_1 ⊗ I_d,

C(a) the k x k companion matrix with first row (a_0, ..., a_{k-1}) and ones on the
subdiagonal. Unrolled, z_n = A^n z_0 + Σ_{j<n} A^{n-1-j} B F_j; the characteristic
polynomial is det(λ I - A) = (λ^k - a_0 λ^{k-1} - ... - a_{k-1})^d.

With the coefficients of a k-th order difference, a_i = (-1)^i C(k, i+1), the
characteristic polynomial is (λ - 1)^{kd} (one Jordan block of size k per coordinate)
and the network *is* the smooth k-th order network Δ^k x_m = h^k f(x_m) of
:mod:`.state_space`, once its layer map reads the oldest skip, F_n = h^k f(x_{n-k+1})
(m = n - k + 1): the change of coordinates T z_n = (x_m, Δx_m, ..., Δ^{k-1} x_m) gives
T A T^{-1} = J_k ⊗ I_d and T B = e_k ⊗ I_d. If the layer map reads the newest state
(F_n = h^k f(x_n)) the two coincide only for k = 1.
"""
from __future__ import annotations

import sympy as sp
from sympy.polys.matrices import DomainMatrix

from ._common import all_zero, check_sizes, is_zero, to_sympy, vector_symbols
from .state_space import closed_form, h, transition_matrices

__all__ = ["difference_coefficients", "companion_matrices", "skip_network",
           "check_companion_closed_form", "characteristic_polynomial",
           "check_characteristic_polynomial", "check_difference_eigenvalues",
           "difference_coordinates", "check_coincides_with_smooth"]


def difference_coefficients(k):
    """a_i = (-1)^i C(k, i+1), i < k: x_{n+1} = Σ a_i x_{n-i} + F_n is Δ^k x_{n-k+1} = F_n.

    Examples
    --------
    >>> difference_coefficients(3)
    [3, -3, 1]
    """
    return [(-1) ** i * sp.binomial(k, i + 1) for i in range(k)]


def _symbolic_coefficients(k):
    return [sp.Symbol(f"a_{i}") for i in range(k)]


def _exact_coefficients(a):
    """``a`` as exact SymPy numbers (:func:`to_sympy`: text is read as a rational, never
    evaluated; a SymPy matrix's element assignment sympified it, running the text)."""
    return [to_sympy(x) for x in a]


def companion_matrices(a, d):
    """(A, B) = (C(a) ⊗ I_d, e_1 ⊗ I_d) for the coefficients ``a`` (length k): exact numbers
    (ints, Fractions, text of rationals such as ``"1/3"``, or SymPy expressions)."""
    a = _exact_coefficients(a)
    k = len(a)
    C = sp.zeros(k, k)
    for i in range(k):
        C[0, i] = a[i]
    for i in range(1, k):
        C[i, i - 1] = 1
    e_1 = sp.zeros(k, 1)
    e_1[0] = 1
    return sp.kronecker_product(C, sp.eye(d)), sp.kronecker_product(e_1, sp.eye(d))


def skip_network(a, history, forcing, n_steps):
    """x_1 ... x_N of x_{n+1} = Σ_{i<k} a_i x_{n-i} + F_n.

    ``history`` is [x_0, x_{-1}, ..., x_{-k+1}]; returns the list x_{-k+1}, ..., x_N
    together with the offset k - 1 (index of x_0 in that list).  ``a`` as in
    :func:`companion_matrices`.
    """
    a = _exact_coefficients(a)
    k = len(a)
    xs = list(reversed(history))  # x_{-k+1} ... x_0
    off = k - 1
    for n in range(n_steps):
        # expanded at each step so that the symbolic coefficients stay polynomials in
        # canonical form instead of a deep expression tree
        xs.append((sum((a[i] * xs[off + n - i] for i in range(k)), sp.zeros(*xs[0].shape))
                   + forcing[n]).applyfunc(sp.expand))
    return xs, off


def check_companion_closed_form(k, d, n_steps=None, a=None, power_shift=0):
    r"""z_n = A^n z_0 + Σ_{j<n} A^{n-1-j} B F_j equals the unrolled skip network, exactly.

    Symbolic a_i (unless given), symbolic history x_0, ..., x_{-k+1} and forcing
    F_j (vectors of d symbols), every n <= N (default k + 3).
    ``power_shift`` != 0 uses A^{n-1-j+shift} (a broken variant).

    Examples
    --------
    >>> check_companion_closed_form(2, 1)
    True
    >>> check_companion_closed_form(2, 1, power_shift=1)
    False
    """
    check_sizes(k=k, d=d, n_steps=n_steps)
    n_steps = k + 3 if n_steps is None else n_steps
    a = _symbolic_coefficients(k) if a is None else _exact_coefficients(a)
    A, B = companion_matrices(a, d)
    history = [vector_symbols(f"x_m{i}", d) for i in range(k)]
    forcing = [vector_symbols(f"F{j}", d) for j in range(n_steps)]
    xs, off = skip_network(a, history, forcing, n_steps)
    z0 = sp.Matrix.vstack(*history)
    # powers of A = C(a) ⊗ I_d from expanded powers of the k x k companion block
    # (sparse polynomial arithmetic keeps the symbolic powers cheap)
    C = DomainMatrix.from_Matrix(A[::d, ::d])
    block_powers = [DomainMatrix.eye(k, C.domain)]
    for _ in range(n_steps + 1):
        block_powers.append(C * block_powers[-1])
    powers = [sp.kronecker_product(P.to_Matrix(), sp.eye(d)) for P in block_powers]
    residuals = []
    for n in range(n_steps + 1):
        z = powers[n] * z0
        for j in range(n):
            p = n - 1 - j + power_shift
            z += (powers[p] if p >= 0 else sp.zeros(k * d)) * B * forcing[j]
        expected = sp.Matrix.vstack(*[xs[off + n - i] for i in range(k)])
        residuals.extend(z - expected)
    return all_zero(residuals)


def characteristic_polynomial(a, d, lam):
    """(λ^k - Σ_i a_i λ^{k-1-i})^d: the claimed det(λ I - A) of the companion form (``a`` as
    in :func:`companion_matrices`)."""
    a = _exact_coefficients(a)
    k = len(a)
    return (lam ** k - sum(a[i] * lam ** (k - 1 - i) for i in range(k))) ** d


def check_characteristic_polynomial(k, d, a=None, sign=1):
    r"""det(λ I - A) = (λ^k - a_0 λ^{k-1} - ... - a_{k-1})^d for symbolic a_i.

    ``sign=-1`` compares with (λ^k + Σ a_i λ^{k-1-i})^d instead (a broken variant).

    Examples
    --------
    >>> check_characteristic_polynomial(2, 2)
    True
    >>> check_characteristic_polynomial(2, 2, sign=-1)
    False
    """
    check_sizes(k=k, d=d)
    a = _symbolic_coefficients(k) if a is None else _exact_coefficients(a)
    lam = sp.Symbol("lambda")
    A, _ = companion_matrices(a, d)
    claimed = characteristic_polynomial([sign * ai for ai in a], d, lam)
    return is_zero(A.charpoly(lam).as_expr() - claimed)


def check_difference_eigenvalues(k, d, a=None):
    r"""With a_i = (-1)^i C(k, i+1): det(λ I - A) = (λ - 1)^{kd}, rank(A - I) = (k - 1) d.

    So λ = 1 is the only eigenvalue, of algebraic multiplicity k d and geometric
    multiplicity d: one k x k Jordan block per coordinate, as for J_k ⊗ I_d.
    """
    check_sizes(k=k, d=d)
    a = difference_coefficients(k) if a is None else _exact_coefficients(a)
    lam = sp.Symbol("lambda")
    A, _ = companion_matrices(a, d)
    charpoly = A.charpoly(lam)
    charpoly_ok = is_zero(charpoly.as_expr() - (lam - 1) ** (k * d))
    eigen_ok = sp.roots(charpoly) == {1: k * d}
    return charpoly_ok and eigen_ok and (A - sp.eye(k * d)).rank() == (k - 1) * d


def difference_coordinates(k, d):
    r"""T with T (x_n, ..., x_{n-k+1}) = (x_m, Δx_m, ..., Δ^{k-1} x_m), m = n - k + 1.

    Row block i: Δ^i x_m = Σ_r (-1)^{i-r} C(i, r) x_{m+r}, and x_{m+r} is block k-1-r.
    """
    T = sp.zeros(k, k)
    for i in range(k):
        for r in range(i + 1):
            T[i, k - 1 - r] = (-1) ** (i - r) * sp.binomial(i, r)
    return sp.kronecker_product(T, sp.eye(d))


def check_coincides_with_smooth(k, d, a=None, delay=None, n_steps=None):
    r"""With a_i = (-1)^i C(k, i+1), the skip network is the smooth k-th order network.

    Checks exactly (symbolic f_j, d symbols each, every n <= N, default 2 k + 2):

    * T A T^{-1} = J_k ⊗ I_d and T B = e_k ⊗ I_d (T from :func:`difference_coordinates`);
    * the skip network with F_n = h^k f_{n-delay} (delay = k - 1: the layer reads the
      oldest skip x_{n-k+1}) and history x_{-i} built from Δ^i x_0 by the smooth
      network's own closed form reproduces that closed form for x_0 ... x_N.

    ``a`` (other coefficients) or ``delay`` (e.g. 0: the layer reads the newest
    state) give variants that, for k >= 2, do not coincide.

    Examples
    --------
    >>> check_coincides_with_smooth(3, 1)
    True
    >>> check_coincides_with_smooth(3, 1, delay=0)
    False
    """
    check_sizes(k=k, d=d, n_steps=n_steps)
    a = difference_coefficients(k) if a is None else _exact_coefficients(a)
    delay = k - 1 if delay is None else delay
    n_steps = 2 * k + 2 if n_steps is None else n_steps
    A, B = companion_matrices(a, d)
    T = difference_coordinates(k, d)
    J, E = transition_matrices(k, d)
    similar = all_zero(T * A - J * T) and T.det() != 0 and all_zero(T * B - E)

    # Skip index n is smooth index m = n + k - 1: the history (x_0, ..., x_{-k+1}) of the
    # skip network is (x_{k-1}, ..., x_0) of the smooth one, and F_n = h^k f_{n+k-1-delay}.
    diffs = [vector_symbols(f"D{i}", d) for i in range(k)]
    fs = [vector_symbols(f"f{j}", d) for j in range(n_steps + k)]
    smooth = [closed_form(m, k, diffs, fs) for m in range(n_steps + k)]
    history = [smooth[k - 1 - i] for i in range(k)]
    forcing = [h ** k * fs[n + k - 1 - delay] if n + k - 1 - delay >= 0 else sp.zeros(d, 1)
               for n in range(n_steps)]
    xs, off = skip_network(a, history, forcing, n_steps)
    residuals = []
    for n in range(n_steps + 1):  # skip x_n (n counted from the history) = smooth x_{n+k-1}
        residuals.extend(xs[off + n] - smooth[n + k - 1])
    return similar and all_zero(residuals)
