"""The continuous adjoint of the residual-dense continuum (t-dependent kernel): it reduces to
the ResNet adjoint when W, b do not depend on t, and the discrete adjoint of ResidualDense
(rectangle rule) tends to its gradient density (interior) and line term (t = T) at first order."""
import numpy as np
import pytest

from integrallimits.control import continuous_adjoint, continuous_adjoint_dense, discrete_adjoint
from integrallimits.networks import ResidualDense
from integrallimits.quadrature import cumulative_integrate


def W1(s):
    return np.array([[-1.0 + 0.5 * np.sin(2 * s), 0.8], [-0.6 + 0.3 * s, -0.5 - 0.4 * s * s]])


def b1(s):
    return np.array([0.2 * np.cos(2 * s), -0.1 + 0.3 * s])


def W(t, s):
    return np.array([[-1.0 + 0.5 * np.sin(2 * s) + 0.3 * t, 0.8 - 0.4 * (t - s)],
                     [-0.6 + 0.3 * s * t, -0.5 - 0.4 * s * s]])


def b(t, s):
    return np.array([0.2 * np.cos(2 * s) + 0.2 * t, -0.1 + 0.3 * s - 0.2 * t * s])


X0 = np.random.default_rng(0).normal(size=(5, 2))


def dphi(YT):  # phi = sum_i 1/2 |x_i(T) - 0.3|^2
    return YT - 0.3


def test_t_independent_fields_give_the_resnet_adjoint():
    res = continuous_adjoint(W1, b1, X0, dphi, n_steps=64)
    dense = continuous_adjoint_dense(lambda t, s: W1(s), lambda t, s: b1(s), X0, dphi, n_steps=64)
    assert np.max(np.abs(dense.states - res.states)) < 1e-9
    assert np.max(np.abs(dense.adjoint - res.adjoint)) < 1e-9
    # the ResNet gradient f_u^T p, p = grad phi + int_s^T lambda dt, is the t-integral of the
    # dense density plus the line term
    h = 1.0 / 64
    for j in (0, 16, 40):
        integral = cumulative_integrate(dense.grad_b[j:, j], h, order=6, axis=0)[-1]
        assert np.allclose(integral + dense.line_b[j], res.grad_b[j], atol=1e-7)
    # the same with a collocation method, whose tables add the stage times
    res = continuous_adjoint(W1, b1, X0, dphi, n_steps=16, method="gauss2")
    dense = continuous_adjoint_dense(lambda t, s: W1(s), lambda t, s: b1(s), X0, dphi, n_steps=16,
                                     method="gauss2")
    assert np.max(np.abs(dense.adjoint - res.adjoint)) < 1e-12


@pytest.mark.parametrize("method", ["gregory6", "gauss3", "radau3"])
def test_solution_of_a_linear_field(method):
    """sigma = identity, W = -1: x = e^{-t} x0, lambda(s) = -e^{-(T - s)} for phi = x(T)."""
    res = continuous_adjoint_dense(lambda t, s: -np.eye(1), lambda t, s: np.zeros(1),
                                   np.ones((1, 1)), np.ones((1, 1)), activation="identity",
                                   n_steps=32, method=method)
    assert np.allclose(res.states[0, :, 0], np.exp(-res.t), atol=1e-10)
    assert np.allclose(res.adjoint[0, :, 0], -np.exp(-(1.0 - res.t)), atol=1e-10)
    assert np.allclose(res.line_b[:, 0], 1.0)


def _discrete_gradients(N, d=2):
    net = ResidualDense(W, b, n_layers=N, d=d)
    Y = net.states(X0).transpose(1, 0, 2).reshape(N + 1, -1)
    g = np.zeros_like(Y)
    g[-1] = dphi(Y[-1].reshape(-1, d)).ravel()
    gt = discrete_adjoint(net.kernel(len(X0)), np.linspace(0, 1, N + 1), Y, "rectangle", g).grad_theta
    nW = (N + 1) ** 2 * d * d
    return gt[6:6 + nW].reshape(N + 1, N + 1, d, d), gt[6 + nW:].reshape(N + 1, N + 1, d)


def test_discrete_adjoint_of_residual_dense_tends_to_the_continuous_density():
    M = 256
    ref = continuous_adjoint_dense(W, b, X0, dphi, n_steps=M)
    ns, interior, line = [8, 16, 32, 64], [], []
    for N in ns:
        gW, gb = _discrete_gradients(N)
        h, k = 1.0 / N, M // N
        n, j = np.tril_indices(N, -1)                                    # 0 <= j < n < N
        interior.append(max(np.max(np.abs(gW[n, j] / h ** 2 - ref.grad_W[k * n, k * j])),
                            np.max(np.abs(gb[n, j] / h ** 2 - ref.grad_b[k * n, k * j]))))
        j = np.arange(N)                                                  # n = N: line term
        line.append(max(np.max(np.abs(gW[N, j] / h - ref.line_W[k * j])),
                        np.max(np.abs(gb[N, j] / h - ref.line_b[k * j]))))
    for errors in (interior, line):
        assert np.all(np.diff(errors) < 0), errors
        rate = -np.polyfit(np.log(ns), np.log(errors), 1)[0]
        assert rate >= 0.8, (rate, errors)


def test_continuous_adjoint_dense_checks_its_input():
    with pytest.raises(ValueError, match="callables"):
        continuous_adjoint_dense(np.zeros((9, 9, 2, 2)), np.zeros((9, 9, 2)), X0, dphi, n_steps=8,
                                 method="rk4")
    with pytest.raises(ValueError, match="mesh pairs"):
        continuous_adjoint_dense(np.zeros((3, 3, 2, 2)), np.zeros((3, 3, 2)), X0, dphi, n_steps=8)


def test_a_mesh_whose_tables_cannot_fit_is_refused_before_sampling():
    """n_steps = 10**6 sampled the fields on all 10**12 mesh pairs until the process was killed
    for its memory; it is a MemoryError with the figures before any field is called."""
    def never(t, s):
        raise AssertionError("a field was sampled")
    with pytest.raises(MemoryError, match=r"continuous_adjoint_dense with n_steps = 1000000 "):
        continuous_adjoint_dense(never, never, X0, dphi, n_steps=10 ** 6)
