"""Training on bad data says what is wrong, briefly; Ctrl-C stops a training run (issue 17)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from integrallimits.control import Dataset, Objective, TrainingInterrupted, make_dataset, train
from integrallimits.control._data import MAX_CLASSES, training_targets
from integrallimits.control._objective import rebuild_network
from integrallimits.networks import ResidualDense, ResNet

from subprocesses import sigint_as_in_a_terminal


NET = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
X = np.random.default_rng(0).normal(size=(50, 2))
Y = (X[:, 0] > 0).astype(int)


def _refused(data, match, **kwargs):
    with pytest.raises(ValueError, match=match) as info:
        train(NET, data, maxiter=2, **kwargs)
    return str(info.value)


def test_empty_data():
    _refused((np.zeros((0, 2)), np.zeros(0, int)), r"no samples \(inputs of shape \(0, 2\)\)")
    _refused((np.zeros((0, 2)), np.zeros(0)), "training needs at least one")
    _refused(Dataset(np.zeros((0, 2)), np.zeros(0, int), 2), "no samples")


def test_non_finite_inputs_name_the_first_bad_entry_not_the_batch():
    bad = X.copy()
    bad[7, 1], bad[9, 0] = np.nan, np.inf
    message = _refused((bad, Y), r"^X must be finite; X\[7, 1\] = nan \(and 1 more non-finite entries\)$")
    assert len(message) < 80
    targets = Y.astype(float)
    targets[2] = np.nan
    _refused((X, targets), r"^targets must be finite; targets\[2, 0\] = nan$")


def test_a_non_finite_init_vector_is_refused_before_training():
    """It was trained from and failed inside the forward pass as a blow-up of the network."""
    size = Objective(NET, (X, Y)).size
    _refused((X, Y), r"^the init vector contains NaN or inf$", init=np.full(size, np.nan))
    _refused((X, Y), r"init vector must have shape", init=np.zeros(size + 1))


def test_bad_labels_are_named():
    _refused((X, -np.ones(50, int)), r"^labels must be integers >= 0; y\[0\] = -1$")
    labels = Y.copy()
    labels[5] = -3
    _refused((X, labels), r"^labels must be integers >= 0; y\[5\] = -3$")
    labels = Y.copy()
    labels[4] = 7
    _refused(Dataset(X, labels, 2), r"^labels must be integers in \[0, 2\) \(2 classes\); y\[4\] = 7$")


def test_an_absurd_label_is_refused_before_any_allocation():
    labels = Y.copy()
    labels[0] = 10 ** 9
    _refused((X, labels), rf"largest label is 1000000000, which makes 1000000001 classes; at most "
                          rf"{MAX_CLASSES}")
    labels[0] = MAX_CLASSES - 1                   # the largest accepted: one-hot in O(S K)
    _, targets = training_targets(labels, 50)
    assert targets.shape == (50, MAX_CLASSES) and targets.sum() == 50
    assert targets[0, MAX_CLASSES - 1] == 1 and targets[1, Y[1]] == 1


@pytest.mark.parametrize("n_layers", [4.5, 0, -2, True, float("nan"), "4"])
def test_layer_counts_that_are_not_whole_numbers_are_refused(n_layers):
    with pytest.raises(ValueError, match=r"n_layers must be an integer >= 1, got "):
        ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)), n_layers=n_layers)
    with pytest.raises(ValueError, match=r"n_layers must be an integer >= 1, got "):
        ResNet(lambda t: np.eye(2), lambda t: np.zeros(2), n_layers=n_layers, d=2)
    with pytest.raises(ValueError, match=r"n_layers must be an integer >= 1, got "):
        rebuild_network(NET, n_layers=n_layers)
    with pytest.raises(ValueError, match=r"n_layers must be an integer >= 1, got "):
        ResidualDense(lambda t, s: np.eye(2), lambda t, s: np.zeros(2), n_layers=n_layers, d=2)


def test_whole_numbers_are_accepted():
    assert ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)), n_layers=4.0).n_layers == 4
    assert ResNet(lambda t: np.eye(2), lambda t: np.zeros(2), n_layers=np.int64(6), d=2).n_layers == 6
    assert Objective(NET, (X, Y)).n_classes == 2


_TRAINING = """
import sys, time
import numpy as np
from integrallimits.control import make_dataset, train
from integrallimits.networks import ResidualDense
data = make_dataset("two-moons", 256, d=4, seed=0)
net = ResidualDense(np.zeros((65, 65, 4, 4)), np.zeros((65, 65, 4)))
def started(info):
    if info["iteration"] == 1:
        print("training", flush=True)
try:
    train(net, data, init="random", maxiter=10 ** 6, gtol=0.0, callback=started)
    print("finished", flush=True)
except KeyboardInterrupt as exc:
    print("KeyboardInterrupt", type(exc).__name__, exc.nit >= 1, bool(np.all(np.isfinite(exc.x))),
          flush=True)
"""


def test_ctrl_c_stops_a_training_run():
    """SIGINT in the middle of a long training run: train() raises KeyboardInterrupt (within
    one evaluation of the objective, milliseconds here) instead of running on, carrying the
    last iterate (a TrainingInterrupted)."""
    proc = subprocess.Popen([sys.executable, "-c", _TRAINING], stdout=subprocess.PIPE, text=True,
                            preexec_fn=sigint_as_in_a_terminal)
    try:
        assert proc.stdout.readline().strip() == "training"
        time.sleep(0.5)
        os.kill(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        out, _ = proc.communicate(timeout=60)
        assert out.split() == ["KeyboardInterrupt", "TrainingInterrupted", "True", "True"]
        assert time.monotonic() - sent < 30          # (a million iterations otherwise)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("method", ["implicit-rectangle", "gauss2"])
def test_an_absurd_newton_budget_is_a_clear_value_error(method):
    """newton_maxiter=2**70 gave an OverflowError (or a Numba typing error) from the compiled
    loop; it is refused up front (the check lives with the solver's other options)."""
    from integrallimits import solve_volterra

    with pytest.raises(ValueError, match=r"newton_maxiter must be an integer from 1 to "):
        solve_volterra(lambda t, s, y: np.sin(y), lambda t: 1.0, (0.0, 1.0), 8, method=method,
                       newton_maxiter=2 ** 70)


def test_a_forward_solve_failing_at_a_trial_point_keeps_the_progress_made():
    """An implicit rule whose Newton solve fails at a line search's trial point (relu, large
    steps) raised SolverError out of train(), losing every iteration made; the training now
    stops there with status False, the reason, and the last iterate."""
    from integrallimits.control import make_dataset

    data = make_dataset("two-moons", 16, d=2, seed=0)
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)), activation="relu", T=4.0,
                 rule="implicit-rectangle")
    res = train(net, data, maxiter=500, loss="cross-entropy", alpha=0.0, gtol=0.0, init="random")
    assert not res.status and not res.success
    # (the trial point's first sample whose solve fails has a step with two roots, which the
    # Objective counts since relu-52; a later sample's Newton solve did not converge there)
    assert res.message.startswith(f"stopped after iteration {res.nit}: at a trial point the "
                                  f"objective could not be evaluated (The implicit step at t = "
                                  f"3 (layer 3) has 2 roots")
    assert res.nit >= 1 and len(res.history) == res.nit + 1
    assert res.fun == res.history[-1]["J"] < res.history[0]["J"]
    assert res.fun == pytest.approx(res.objective.value(res.x), rel=1e-14)


def test_an_objective_that_is_not_finite_at_the_start_is_refused():
    """Targets of size 1e200 overflow the loss (J = inf at the start): the optimiser then
    stepped to NaN weights and the user saw "The solution became non-finite ... it blows up"."""
    targets = 1e200 * np.sign(np.random.default_rng(1).normal(size=(50, 2)))
    with pytest.raises(ValueError, match=r"^J_N = inf is not finite at the start \(start: "
                                         r"network\); scale the data or targets"), \
            np.errstate(over="ignore"):
        train(NET, (X, targets), maxiter=5, train_classifier=False)


def test_every_method_keeps_the_iteration_budget_and_no_iterations_is_no_convergence():
    """TNC has no ``maxiter`` option: SciPy warned "Unknown solver options: maxiter" and it
    ran on (16 iterations for maxiter=3) and reported convergence.  maxiter=0 reported
    status True, as if the start had been checked for convergence."""
    import warnings

    for method in ("TNC", "L-BFGS-B", "CG", "SLSQP"):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            res = train(NET, (X, Y), maxiter=2, method=method, init="random", gtol=0.0)
        assert res.nit <= 2 and len(res.history) <= 3 and not res.status, (method, res.message)
        assert res.fun == pytest.approx(res.objective.value(res.x), rel=1e-14)
    res = train(NET, (X, Y), maxiter=0)
    assert not res.status and res.nit == 0
    assert res.message.startswith("no iterations requested (maxiter=0)")


def test_inputs_that_overflow_the_loss_are_named_as_such():
    """Inputs of size 1e200 gave J = inf and a SolverError from the adjoint (or a "blow-up")."""
    with pytest.raises(ValueError, match=r"^J_N = inf is not finite at the start"), \
            np.errstate(over="ignore", invalid="ignore"):
        train(NET, (X * 1e200, Y), maxiter=5)


def test_inputs_of_1e200_say_so_in_the_outcome_without_numpys_overflow_warnings():
    """Inputs of 1e200 let NumPy's "overflow encountered" RuntimeWarnings through (from the loss
    and from the norm of the gradient, which came out inf): train reports the overflow itself,
    as a ValueError at the start or in the result's message, with the gradient's true norm."""
    import math
    import warnings

    big = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]]) * 1e200
    labels = np.array([0, 1, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"^J_N = inf is not finite at the start"):
            train(NET, (big, labels), maxiter=5)
        res = train(NET, (big, labels), loss="cross-entropy", maxiter=5)
    assert not res.status and res.nit == 0 and res.message.startswith(
        "stopped after iteration 0: at a trial point the objective could not be evaluated (the "
        "trial point is not finite: the optimiser's step overflowed, from a gradient of norm ")
    _, g = res.objective.value_and_gradient(res.x)
    assert np.all(np.isfinite(g)) and res.fun == res.history[0]["J"] > 1e199   # (the start)
    assert res.grad_norm == res.history[0]["grad_norm"] == pytest.approx(math.hypot(*g),
                                                                          rel=1e-14)
    assert f"of norm {res.grad_norm:.3g}: scale the data or targets" in res.message


def test_evaluations_of_the_objective_keep_no_copy_of_the_weights():
    """A network run before training shared its kernel cache with the copies the objective
    makes per evaluation: each added a kernel holding its theta (0.6 MB here), and a training
    run of 500 iterations kept them all."""
    import gc
    import tracemalloc
    net = ResidualDense(np.zeros((16, 16, 6, 6)), np.zeros((16, 16, 6)))
    net.forward(np.zeros((3, 6)))
    obj = Objective(net, (np.ones((3, 6)), np.array([0, 1, 0])))
    v = obj.initial_vector()
    obj.value_and_gradient(v)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(10):
            obj.value_and_gradient(v + 1e-3 * i)
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 2 * net.theta.nbytes, (grown, net.theta.nbytes)


def test_complex_values_are_refused_not_cast_to_their_real_parts():
    """A cast to float kept the real parts with a ComplexWarning only: a complex-step
    derivative of J_N (obj.value(v + 1e-20j e_i).imag / 1e-20) came out as 0, and complex
    data, classifiers or start vectors trained on their real parts."""
    import warnings
    from integrallimits.control import discrete_adjoint
    obj = Objective(NET, (X, Y))
    v = obj.initial_vector()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call, match in [
                (lambda: obj.value(v + 1e-20j), "vector must be real"),
                (lambda: obj.value_and_gradient(v + 0j), "vector must be real"),
                (lambda: train(NET, (X, Y), maxiter=1, init=v + 0j), "init must be real"),
                (lambda: Objective(NET, (X + 0j, Y)), "X must be real"),
                (lambda: Objective(NET, (X, Y + 0.5j), loss="mse"), "targets must be real"),
                (lambda: Objective(NET, (X, Y), classifier=(np.eye(2) + 1j, np.zeros(2))),
                 "classifier P must be real"),
                (lambda: Objective(NET, (X, Y), readout=np.eye(2) + 0j), "readout must be real"),
                (lambda: Dataset(X + 0j, Y, 2), "X must be real"),
                (lambda: discrete_adjoint(NET.kernel(1), np.linspace(0, 1, 5), np.ones((5, 2)),
                                          "rectangle", np.ones((5, 2)) + 0j), "dphi must be real")]:
            with pytest.raises(TypeError, match=match):
                call()


def test_class_labels_that_are_not_whole_numbers_are_refused():
    """Dataset cast its labels to int64: 0.5 became class 0 and NaN a huge negative label."""
    with pytest.raises(ValueError, match=r"^y must hold integer class labels; y\[3\] = 0.5$"):
        Dataset(X, np.where(np.arange(50) == 3, 0.5, Y), 2)
    with pytest.raises(ValueError, match=r"^y_test must hold integer class labels; y_test\[0\] = nan$"):
        Dataset(X, Y, 2, X_test=X[:2], y_test=[np.nan, 1.0])
    assert Dataset(X, Y.astype(float), 2).y.dtype == np.int64      # whole numbers are labels
    assert np.array_equal(Dataset(X, Y.astype(float), 2).y, Y)


def test_a_non_finite_classifier_is_named():
    """It failed inside the adjoint with "Y and dphi must be finite"."""
    with pytest.raises(ValueError, match=r"^classifier \(P, c\) contains NaN or inf$"):
        train(NET, (X, Y), maxiter=1, classifier=(np.eye(2), np.array([np.nan, 0.0])))


def test_flags_and_numbers_of_train_are_checked():
    """train_classifier="no" is truthy (the classifier was trained); a negative or NaN gtol
    ran to maxiter; seed=-1 and init_scale=nan failed in NumPy or as a blow-up of the network."""
    with pytest.raises(TypeError, match=r"^train_classifier must be True or False, got 'no'$"):
        train(NET, (X, Y), maxiter=1, train_classifier="no")
    with pytest.raises(TypeError, match=r"^wrt_inputs must be True or False, got 1$"):
        Objective(NET, (X, Y), wrt_inputs=1)
    for kwargs, match in [({"gtol": -1.0}, "gtol must be a float >= 0"),
                          ({"gtol": float("nan")}, "gtol must be a float >= 0"),
                          ({"alpha": "1"}, "alpha must be a float >= 0"),
                          ({"init": "random", "seed": -1}, "seed must be an integer >= 0"),
                          ({"init": "random", "seed": 1.5}, "seed must be an integer >= 0"),
                          ({"init": "random", "init_scale": float("nan")},
                           r"scale \(init_scale\) must be a float >= 0")]:
        with pytest.raises(ValueError, match=match):
            train(NET, (X, Y), **{"maxiter": 1, **kwargs})
    with pytest.raises(ValueError, match="maxiter must be an integer >= 0, got None"):
        train(NET, (X, Y), maxiter=None)


def test_a_test_set_that_does_not_fit_is_refused_before_training():
    """The test part is used after training only: a width, length or NaN that did not fit
    failed there ("K is a kernel for y of dimension 10, but g gives shape (15,)"), with the
    trained result lost."""
    for X_test, y_test, match in [
            (X[:5, :1].repeat(3, axis=1), Y[:5], r"^X_test must have shape \(T, 2\), as the inputs"),
            (X[:5], Y[:4], r"^y_test must have shape \(5,\), one label per row of X_test"),
            (np.full((5, 2), np.nan), Y[:5], r"^X_test must be finite; X_test\[0, 0\] = nan"),
            (X[:5], np.array([0, 1, 2, 0, 1]), r"^y_test must hold labels in \[0, 2\)")]:
        with pytest.raises(ValueError, match=match):
            Dataset(X, Y, 2, X_test=X_test, y_test=y_test)
    data = Dataset(X, Y, 2, X_test=X[:5], y_test=Y[:5])
    data.X_test = X[:5, :1]                    # changed after it was made
    with pytest.raises(ValueError, match=r"^X_test must have shape \(T, 2\)"):
        train(NET, data, maxiter=1)
    assert np.isfinite(train(NET, Dataset(X, Y, 2, X_test=X[:5], y_test=Y[:5]),
                             maxiter=1).test_accuracy)


@pytest.mark.parametrize("n_fine", [0, 2.7, True, -4])
def test_the_fine_grid_of_the_continuum_cost_is_a_whole_number(n_fine):
    """int(n_fine) made 2.7 two steps and True one (a cost on a grid not asked for); 0 was a
    ZeroDivisionError."""
    obj = Objective(NET, (X, Y))
    with pytest.raises(ValueError, match="n_fine must be an integer >= 1"):
        obj.continuum_value(obj.initial_vector(), n_fine=n_fine)


def _interrupted(n_evaluations=None, at_iteration=None):
    """Train XOR, interrupted in the n-th evaluation of the objective or in the callback."""
    data = make_dataset("xor", 24, d=2, seed=0)
    net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    seen = []

    def callback(info):
        seen.append(info["x"])
        if info["iteration"] == at_iteration:
            raise KeyboardInterrupt

    original = Objective.value_and_gradient
    calls = [0]

    def counting(self, x):
        calls[0] += 1
        if calls[0] == n_evaluations:
            raise KeyboardInterrupt
        return original(self, x)

    Objective.value_and_gradient = counting
    try:
        with pytest.raises(TrainingInterrupted) as info:
            train(net, data, loss="cross-entropy", init="random", seed=1, maxiter=50,
                  callback=callback)
    finally:
        Objective.value_and_gradient = original
    return info.value, seen, net, data


@pytest.mark.parametrize("where", ["callback", "objective"])
def test_ctrl_c_keeps_the_last_iterate_and_training_resumes_from_it(where):
    """Ctrl-C lost the run: train() raised a bare KeyboardInterrupt and every iteration made
    was gone.  The exception (still a KeyboardInterrupt) carries the last accepted iterate,
    the iterations completed and the history; init=exc.x resumes at that point."""
    exc, seen, net, data = (_interrupted(at_iteration=3) if where == "callback"
                            else _interrupted(n_evaluations=6))
    assert isinstance(exc, KeyboardInterrupt)
    assert exc.nit == len(exc.history) - 1 == len(seen) >= 1
    np.testing.assert_array_equal(exc.x, seen[-1])
    assert "iteration" in str(exc) and "init=exc.x" in str(exc)
    resumed = train(net, data, loss="cross-entropy", init=exc.x, maxiter=0)
    assert resumed.fun == exc.history[-1]["J"]


@pytest.mark.parametrize("maxiter", [float("inf"), float("nan")])
def test_a_maxiter_that_is_not_a_whole_number_is_a_value_error_naming_it(maxiter):
    """maxiter = inf was an OverflowError ("cannot convert float infinity to integer"), nan a
    ValueError from int() that named no option; the docstring promises this ValueError."""
    with pytest.raises(ValueError, match=rf"^maxiter must be an integer >= 0, got {maxiter}$"):
        train(NET, (X, Y), maxiter=maxiter)


@pytest.mark.parametrize("kwargs, match", [
    ({"callback": 5}, r"^callback must be callable callback\(info\), got int"),
    ({"options": "abc"}, r"^options must be a dict of L-BFGS-B's options .*got str"),
    ({"options": [1]}, r"^options must be a dict of L-BFGS-B's options .*got list"),
])
def test_a_callback_or_options_of_the_wrong_type_is_refused_before_training(kwargs, match):
    """A callback of 5 failed at the first iteration with "'int' object is not callable", and
    options of "abc" with "dictionary update sequence element #0 has length 1; 2 is required"
    (after the start's evaluation)."""
    with pytest.raises(TypeError, match=match):
        train(NET, (X, Y), maxiter=2, **kwargs)
