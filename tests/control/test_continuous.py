"""The continuous adjoint: the reversed-time Volterra equation reproduces the classical costate
ODE (t-independent kernels), at the order of the rule; the discrete adjoint tends to it."""
import re
import warnings

import numpy as np
import pytest

from integrallimits.control import (Objective, continuous_adjoint, costate_ode, discrete_adjoint,
                                    make_dataset)
from integrallimits.networks import ResNet
from integrallimits.volterra import METHODS
from integrallimits.volterra.convergence import fit_order


def W(t):
    return np.array([[-1.0 + 0.5 * np.sin(2 * t), 0.8], [-0.6 + 0.3 * t, -0.5 - 0.4 * t * t]])


def b(t):
    return np.array([0.2 * np.cos(2 * t), -0.1 + 0.3 * t])


X0 = np.random.default_rng(0).normal(size=(5, 2))


def dphi(YT):  # phi = sum_i 1/2 |y_i(T) - 0.3|^2
    return YT - 0.3


def test_continuous_adjoint_is_the_ode_costate():
    res = continuous_adjoint(W, b, X0, dphi, n_steps=64, method="gregory6")
    t, states, p = costate_ode(W, b, X0, dphi, t_eval=res.t)
    assert np.max(np.abs(res.states - states)) < 1e-9
    assert np.max(np.abs(res.costate - p)) < 1e-9
    # lambda = f_y^T p, the link between the Volterra adjoint and the costate
    Z = np.einsum("mac,smc->sma", np.array([W(s) for s in t]), states) + np.array([b(s) for s in t])
    fy = (1 - np.tanh(Z) ** 2)[..., None] * np.array([W(s) for s in t])[None]
    assert np.allclose(res.adjoint, np.einsum("smac,sma->smc", fy, p), atol=1e-9)
    # p(T) = grad phi, and the gradient density is f_u^T p
    assert np.allclose(res.costate[:, -1], dphi(states[:, -1]), atol=1e-12)
    q = (1 - np.tanh(Z) ** 2) * p
    assert np.allclose(res.grad_b, q.sum(axis=0), atol=1e-9)


@pytest.mark.parametrize("method,order", [("trapezoid", 2), ("gregory4", 4), ("gregory6", 6)])
def test_continuous_adjoint_converges_at_the_order_of_its_rule(method, order):
    ns, errors = [16, 32, 64], []
    for M in ns:
        res = continuous_adjoint(W, b, X0, dphi, n_steps=M, method=method)
        _, _, p = costate_ode(W, b, X0, dphi, t_eval=res.t)
        errors.append(np.max(np.abs(res.costate - p)))
    observed, _ = fit_order(ns, errors, floor=1e-12)
    assert abs(observed - order) <= 0.3, errors


def test_discrete_adjoint_of_the_resnet_tends_to_the_ode_costate():
    """For the t-independent kernel, p_n = sum_{k >= n} mu_k (the backpropagated gradient of the
    ResNet) approximates p(t_n) at first order (rectangle rule)."""
    errors = []
    for N in (16, 32, 64):
        net = ResNet(W, b, n_layers=N, d=2)
        K = net.kernel(len(X0))
        Y = net.states(X0).transpose(1, 0, 2).reshape(N + 1, -1)
        g = np.zeros_like(Y)
        g[-1] = dphi(Y[-1].reshape(-1, 2)).ravel()
        mu = discrete_adjoint(K, np.linspace(0, 1, N + 1), Y, "rectangle", g).mu
        p_disc = np.cumsum(mu[::-1], axis=0)[::-1].reshape(N + 1, -1, 2).transpose(1, 0, 2)
        _, _, p = costate_ode(W, b, X0, dphi, t_eval=np.linspace(0, 1, N + 1))
        errors.append(np.max(np.abs(p_disc - p)))
    rates = np.log2(np.array(errors[:-1]) / errors[1:])
    assert np.all(np.abs(rates - 1.0) <= 0.15), errors


@pytest.mark.parametrize("rule,order", [("rectangle", 1), ("trapezoid", 2)])
def test_discrete_gradient_density_tends_to_the_continuous_one(rule, order):
    """dJ_N/dtheta_j / (h w_Nj) -> f_u(t_j)^T p(t_j) at the rule's order at interior layers."""
    data = make_dataset("two-moons", 8, d=2, seed=1)
    P = (np.array([[1.0, -0.5], [0.3, 0.8]]), np.array([0.1, -0.2]))
    M = 256
    probe = Objective(ResNet(W, b, n_layers=4, d=2), data, classifier=P, train_classifier=False)
    ref = continuous_adjoint(W, b, data.X, lambda YT: probe.output_gradient(YT)[1], n_steps=M)
    errors = []
    for N in (16, 32, 64):
        obj = Objective(ResNet(W, b, n_layers=N, d=2, rule=rule), data, classifier=P,
                        train_classifier=False)
        _, g = obj.value_and_gradient(obj.initial_vector())
        gb = obj.gradient_grids(g)["b"][1:N] / (1.0 / N)   # interior layers, w_Nj = 1
        errors.append(np.max(np.abs(gb - ref.grad_b[(M // N) * np.arange(1, N)])))
    rate = np.log2(errors[-2] / errors[-1])
    assert abs(rate - order) <= 0.2, errors


@pytest.mark.parametrize("method", ["rk4", "gauss1", "gauss3", "radau2"])
def test_continuous_adjoint_with_runge_kutta_methods(method):
    """The adjoint VIE solved by a Runge-Kutta / collocation method (the table read at its stage
    times, the forward interpolated there): the costate converges at no less than the method's
    order and no more than its forward rule's."""
    ns, errors = [8, 16, 32, 64], []
    for M in ns:
        res = continuous_adjoint(W, b, X0, dphi, n_steps=M, method=method)
        _, _, p = costate_ode(W, b, X0, dphi, t_eval=res.t)
        errors.append(np.max(np.abs(res.costate - p)))
    observed, _ = fit_order(ns, errors, floor=1e-12)
    low, high = METHODS[method].order, METHODS[res.stats["forward_rule"]].order
    assert low - 0.3 <= observed <= high + 0.3, (observed, errors)


def test_continuous_adjoint_checks_its_input():
    with pytest.raises(ValueError, match="callables"):
        continuous_adjoint(np.array([W(t) for t in np.linspace(0, 1, 9)]),
                           np.array([b(t) for t in np.linspace(0, 1, 9)]), X0, dphi, n_steps=8,
                           method="gauss2")
    with pytest.raises(ValueError, match="mesh points"):
        continuous_adjoint(np.zeros((3, 2, 2)), np.zeros((3, 2)), X0, dphi, n_steps=8)


def test_terminal_gradients_inputs_and_steps_that_do_not_fit_are_refused():
    """dphi of the transposed shape (d, S) was reshaped into (S, d) (another gradient, no
    word); complex X0 or dphi were cast to their real parts; n_steps = 32.7 solved on 32
    steps; a NaN in dphi failed in the solve as "g(t) is not finite"."""
    from integrallimits.control import continuous_adjoint_dense
    W, b = (lambda t: -np.eye(2)), (lambda t: np.zeros(2))
    X0 = np.ones((1, 2))
    for dphi, error, match in [(np.ones((2, 1)), ValueError, r"dphi must give an array of shape \(1, 2\)"),
                               (np.full((1, 2), np.nan), ValueError, "dphi contains NaN or inf"),
                               (np.ones((1, 2)) + 1j, TypeError, "dphi must be real")]:
        with pytest.raises(error, match=match):
            continuous_adjoint(W, b, X0, dphi, n_steps=16)
        with pytest.raises(error, match=match):
            costate_ode(W, b, X0, dphi)
        with pytest.raises(error, match=match):
            continuous_adjoint_dense(lambda t, s: -np.eye(2), lambda t, s: np.zeros(2), X0, dphi,
                                     n_steps=8)
    with pytest.raises(TypeError, match="X0 must be real"):
        continuous_adjoint(W, b, X0 + 1j, np.ones((1, 2)), n_steps=16)
    with pytest.raises(ValueError, match="n_steps must be an integer >= 1, got 32.7"):
        continuous_adjoint(W, b, X0, np.ones((1, 2)), n_steps=32.7)
    assert continuous_adjoint(W, b, X0, np.ones(2), n_steps=16).costate.shape == (1, 17, 2)


@pytest.mark.parametrize("M", [32, 64, 30, 9])
@pytest.mark.parametrize("method", ["gregory6", "trapezoid", "gauss2"])
def test_the_estimates_bound_the_errors_of_the_continuum_gradient(method, M):
    """Every output carries an estimate of its error against the continuum, checked against
    the ODE costate: from M/2 and M/4 steps (the observed order) the error is within 1.2 times
    the estimate (an asymptotic estimate, not a bound: trapezoid M = 32, 0.9992 times) and the
    estimate within 30 times the error; from M/2 alone (M = 30) or 2M (M = 9) the order is
    taken as 1, which can only overstate it (gregory6, M = 30: 53 times)."""
    res = continuous_adjoint(W, b, X0, dphi, n_steps=M, method=method)
    _, states, p = costate_ode(W, b, X0, dphi, t_eval=res.t)
    assert res.success and "estimated errors" in res.message
    sharp = M % 4 == 0
    assert res.stats["estimate_steps"] == ((M // 2, M // 4) if sharp else (M // 2,) if M % 2 == 0
                                           else (2 * M,))
    for name, exact in (("states", states), ("costate", p)):
        error = np.max(np.abs(getattr(res, name) - exact))
        estimate = res.stats["max_error_estimates"][name]
        assert res.error_estimate[name].shape == getattr(res, name).shape
        assert error <= 1.2 * estimate, (name, error, estimate)
        assert not sharp or error < 1e-12 or estimate <= 30 * error, (name, error, estimate)


@pytest.mark.parametrize("lam, M", [(-50.0, 8), (-400.0, 16), (400.0, 16), (-50.0, 20)])
@pytest.mark.parametrize("dense", [False, True])
def test_a_mesh_that_misses_the_time_scale_is_not_a_success(lam, M, dense):
    """y' = lam y with steps of lam h = -6 ... -25 or 25: the states and the costate were off
    by 2.8 to 5e173 times their size (gregory6: the weak stability of the high-order rule),
    returned with no status, message or estimate; now status False and a message."""
    from integrallimits.control import continuous_adjoint_dense
    if dense:
        res = continuous_adjoint_dense(lambda t, s: lam * np.eye(1), lambda t, s: np.zeros(1),
                                       np.ones((1, 1)), np.ones((1, 1)), activation="identity",
                                       n_steps=M)
    else:
        res = continuous_adjoint(lambda t: lam * np.eye(1), lambda t: np.zeros(1),
                                 np.ones((1, 1)), np.ones((1, 1)), activation="identity",
                                 n_steps=M)
    exact = np.exp(lam * res.t)
    assert np.max(np.abs(res.states[0, :, 0] - exact)) > 0.5 * np.max(exact)   # (the premise)
    assert not res.success and "does not resolve" in res.message


def test_without_the_estimate_the_message_says_so():
    res = continuous_adjoint(W, b, X0, dphi, n_steps=16, error_estimate=False)
    assert res.success and res.error_estimate == {} and "no error estimate" in res.message
    arrays = continuous_adjoint(np.array([W(t) for t in np.linspace(0, 1, 10)]),
                                np.array([b(t) for t in np.linspace(0, 1, 10)]), X0, dphi,
                                n_steps=9)
    assert arrays.error_estimate == {} and "even number" in arrays.message


def test_the_ode_reference_refuses_a_failed_solve():
    """A field blowing up at t = 1/2: solve_ivp stops there, and its NaN and extrapolated
    values came back as the reference (p(3/4) = 7.39)."""
    from integrallimits import SolverError
    with pytest.raises(SolverError, match="forward solve failed at t = 0.49"), \
            np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # (SciPy's overflow on the way)
        costate_ode(lambda t: np.eye(1) / (0.5 - t) ** 2, lambda t: np.zeros(1), np.ones((1, 1)),
                    np.ones((1, 1)), activation="identity", t_eval=[0.0, 0.75, 1.0])


def test_continuous_adjoint_fields_name_themselves():
    """Complex field arrays are refused (they were cut to their real parts with a ComplexWarning
    only); a callable field's error or complex values name the field W or b and the time (they
    said "field(np.float64(0.0),)" or nothing)."""
    M = 8
    grid = np.linspace(0.0, 1.0, M + 1)
    Wa = np.array([W(t) for t in grid]) + 0.5j
    ba = np.array([b(t) for t in grid])
    with pytest.raises(TypeError, match="W must be real, got complex values"):
        continuous_adjoint(Wa, ba, X0, dphi, n_steps=M, method="rectangle")
    with pytest.raises(TypeError, match=r"^b\(0\.0\) returned complex values"):
        continuous_adjoint(W, lambda t: b(t) + 0.5j, X0, dphi, n_steps=M, method="trapezoid")

    def late(t):
        if t > 0.5:
            raise KeyError("late")
        return W(t)

    with pytest.raises(KeyError, match="late") as info:
        continuous_adjoint(late, b, X0, dphi, n_steps=M, method="trapezoid")
    assert info.value.__notes__[-1] == "raised by W(0.625) (the field called at that point)"


@pytest.mark.parametrize("dense", [False, True])
def test_an_unknown_method_is_the_documented_value_error_and_the_estimate_flag_a_bool(dense):
    """method="foo" was a KeyError of METHODS (the docstring promises a ValueError);
    error_estimate="no" is truthy and estimated."""
    from integrallimits.control import continuous_adjoint_dense
    if dense:
        call = lambda **kw: continuous_adjoint_dense(  # noqa: E731
            lambda t, s: -np.eye(1), lambda t, s: np.zeros(1), np.ones((1, 1)), np.ones((1, 1)),
            n_steps=8, **kw)
    else:
        call = lambda **kw: continuous_adjoint(  # noqa: E731
            lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)), np.ones((1, 1)),
            n_steps=8, **kw)
    with pytest.raises(ValueError, match=r"^unknown method 'foo'; known: rectangle, "):
        call(method="foo")
    with pytest.raises(TypeError, match=r"^error_estimate must be True or False, got 'no'$"):
        call(error_estimate="no")
    assert call(error_estimate=np.bool_(False)).status


@pytest.mark.parametrize("kwargs, match", [
    ({"T": -1.0}, r"^t_span must satisfy t0 < T"),
    ({"t_eval": [0.5, 2.0]}, r"^t_eval must lie within t_span \[0.0, 1.0\]"),
    ({"t_eval": [-0.5]}, r"^t_eval must lie within t_span"),
])
def test_costate_ode_refuses_times_outside_its_interval(kwargs, match):
    """T = -1 and t_eval outside [0, T] returned extrapolated states and costates as values
    (and T = nan never returned: solve_ivp looped; refused by the same check)."""
    with pytest.raises(ValueError, match=match):
        costate_ode(lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)),
                    np.ones((1, 1)), activation="identity", **kwargs)


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("method, n_steps, match", [
    (None, 3, r"method='gregory6' needs n_steps >= 5, got 3; give more steps"),
    ("gauss3", 4, r"method='gauss3' solves the forward states with the rule 'gregory6' \(of its "
                  r"order\), which needs n_steps >= 5, got 4"),
    ("radau4", 6, r"method='radau4' .* rule 'gregory8' .* n_steps >= 7, got 6"),
    ("rk4", 2, r"method='rk4' .* rule 'gregory4' .* n_steps >= 3, got 2"),
])
def test_too_few_steps_name_n_steps_and_the_method_asked_for(dense, method, n_steps, match):
    """n_steps=3 (default method gregory6) gave "rule 'gregory6' needs n_layers >= 5" (the
    forward network's words: no n_layers was given), and method='gauss3' the same sentence,
    naming a rule the caller had not chosen."""
    from integrallimits.control import continuous_adjoint_dense
    kw = {} if method is None else {"method": method}
    if dense:
        call = lambda: continuous_adjoint_dense(  # noqa: E731
            lambda t, s: -np.eye(1), lambda t, s: np.zeros(1), np.ones((1, 1)), np.ones((1, 1)),
            n_steps=n_steps, **kw)
    else:
        call = lambda: continuous_adjoint(  # noqa: E731
            lambda t: -np.eye(1), lambda t: np.zeros(1), np.ones((1, 1)), np.ones((1, 1)),
            n_steps=n_steps, **kw)
    caller = "continuous_adjoint_dense" if dense else "continuous_adjoint"
    with pytest.raises(ValueError, match=rf"^{caller}: {match}"):
        call()
    kw["n_steps"] = int(re.search(r"n_steps >= (\d+)", match).group(1))   # enough: solved
    assert (continuous_adjoint_dense if dense else continuous_adjoint)(
        *((lambda t, s: -np.eye(1), lambda t, s: np.zeros(1)) if dense else
          (lambda t: -np.eye(1), lambda t: np.zeros(1))),
        np.ones((1, 1)), np.ones((1, 1)), **kw).status is not None
