"""Smooth k-th order networks: state-space form, closed form, kernel limit, parameter counts."""
from fractions import Fraction
from math import comb

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

from integrallimits.networks import SmoothNet
from integrallimits.symbolic import state_space as ss

WRONG_BINOMIALS = {
    "C(n-j, k-1)": lambda n, j, k: sp.binomial(n - j, k - 1),
    "C(n-j-1, k)": lambda n, j, k: sp.binomial(n - j - 1, k),
    "C(n-j-2, k-1)": lambda n, j, k: sp.binomial(n - j - 2, k - 1),
}


@pytest.mark.parametrize("k,d", [(k, d) for k in range(1, 5) for d in (1, 2)] + [(6, 3)])
def test_state_space_identity(k, d):
    assert ss.check_state_space(k, d)


@pytest.mark.parametrize("name", WRONG_BINOMIALS)
def test_state_space_detects_wrong_binomial(name):
    # k = 1 cannot tell C(n-j, 0) from C(n-j-1, 0); from k = 2 on every variant differs
    assert not ss.check_state_space(3, 2, weight=WRONG_BINOMIALS[name])


def test_state_space_detects_wrong_transition():
    A, B = ss.transition_matrices(3, 2)
    wrong = sp.Matrix(A)
    wrong[0, 2] = 0  # drop one coupling x <- Δx
    assert not ss.check_state_space(3, 2, transition=(wrong, B))
    assert not ss.check_state_space(3, 2, transition=(A, ss.transition_matrices(3, 2)[0][:, :2]))


def test_transition_matrix_is_kronecker_of_bidiagonal():
    A, B = ss.transition_matrices(3, 2)
    assert A == sp.kronecker_product(sp.Matrix([[1, 1, 0], [0, 1, 1], [0, 0, 1]]), sp.eye(2))
    assert B == sp.Matrix.vstack(sp.zeros(4, 2), sp.eye(2))


@pytest.mark.parametrize("k", range(1, 7))
def test_closed_form_for_symbolic_n(k):
    assert ss.check_closed_form_symbolic_n(k)


@pytest.mark.parametrize("name", WRONG_BINOMIALS)
@pytest.mark.parametrize("k", [2, 4])
def test_closed_form_symbolic_n_detects_wrong_binomial(k, name):
    assert not ss.check_closed_form_symbolic_n(k, weight=WRONG_BINOMIALS[name])


def test_closed_form_induction_symbolic_k():
    steps = ss.closed_form_induction_steps()
    assert set(steps) == {"pascal-summand", "boundary", "base", "pascal-free", "negative-index",
                          "initial"}
    assert all(steps.values())
    assert ss.check_closed_form_induction()


@pytest.mark.parametrize("name", WRONG_BINOMIALS)
def test_closed_form_induction_detects_wrong_binomial(name):
    assert not ss.check_closed_form_induction(WRONG_BINOMIALS[name])


@pytest.mark.parametrize("k", range(1, 7))
def test_kernel_limit(k):
    t, s = sp.symbols("t s", positive=True)
    assert ss.check_kernel_limit(k)
    assert sp.expand(ss.kernel_limit(k) - (t - s) ** (k - 1) / sp.factorial(k - 1)) == 0


@pytest.mark.parametrize("name", ["C(n-j-1, k)", "C(n-j, k-1)"])
def test_kernel_limit_detects_wrong_weight(name):
    # C(n-j, k-1) has the same limit (an O(h) change): only the binomial of the wrong
    # degree changes the kernel
    expected = name == "C(n-j, k-1)"
    assert ss.check_kernel_limit(3, weight=WRONG_BINOMIALS[name]) is expected


def test_parameter_counts():
    assert ss.parameter_counts(4, 3) == {"state_dim": 12, "params_smooth": 9,
                                         "params_resnet": 144, "ratio": 16}
    assert ss.check_parameter_ratio()
    wrong = lambda k, d: {"state_dim": k * d, "params_smooth": d * d, "params_resnet": k * d * d}
    assert not ss.check_parameter_ratio(wrong)


@settings(max_examples=15)
@given(k=st.integers(1, 5), n_steps=st.integers(1, 12),
       data=st.lists(st.integers(-50, 50), min_size=17, max_size=17))
@example(k=5, n_steps=12, data=list(range(-8, 9)))
@example(k=1, n_steps=1, data=[3] * 17)
def test_smooth_net_is_the_exact_recursion_on_integer_data(k, n_steps, data):
    """Property: the package's smooth net (identity activation, W = 0, so f(x_j) = b_j) with
    integer Delta^i x_0 and b_j, h = 1/2, equals the recursion Delta^k x_n = h^k b_n run in
    exact rational arithmetic, and so does the closed form with C(n, i) and C(n-j-1, k-1)."""
    h = Fraction(1, 2)
    diffs, f = data[:k], data[k:k + n_steps]
    z = [Fraction(v) for v in diffs]
    exact = []
    for n in range(n_steps + 1):
        exact.append(z[0])
        forcing = h ** k * f[n] if n < n_steps else 0
        z = [z[i] + (z[i + 1] if i + 1 < k else forcing) for i in range(k)]
    for n, x in enumerate(exact):
        assert sum(comb(n, i) * diffs[i] for i in range(k)) + h ** k * sum(
            comb(n - j - 1, k - 1) * f[j] for j in range(n - k + 1)) == x
    net = SmoothNet(k, np.zeros((n_steps, 1, 1)), np.array(f, dtype=float)[:, None],
                    activation="identity", T=n_steps * 0.5,
                    initial_differences=np.array(diffs[1:], dtype=float)[:, None])
    got = net.states(np.array([[float(diffs[0])]]))[0, :, 0]
    np.testing.assert_allclose(got, [float(x) for x in exact], rtol=1e-13, atol=1e-13)
