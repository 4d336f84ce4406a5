r"""Training driver: minimise J_N with ``scipy.optimize.minimize`` and the exact gradient.

.. math:: \min_{\theta, P, c}\ J_N(\theta, P, c)
          = \frac1S \sum_i \ell(P x_i(T) + c, y_i) + \alpha R_N(\theta)

(:class:`~integrallimits.control.Objective`).  The gradient is the discrete adjoint, so
quasi-Newton methods (L-BFGS-B by default) see the exact derivative of the discrete problem.
Everything is deterministic given ``seed``: the seed only draws the random starting fields
(``init="random"``), and the optimiser itself is deterministic.

Multilevel continuation: ``init=coarse_result`` starts an N-layer problem from the piecewise
linear extension of the minimiser found at a coarser depth, sampled on the finer grid.
"""
from __future__ import annotations

import contextlib
import ctypes
import numbers
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

import numpy as np
from numpy.polynomial import legendre
from scipy.optimize import OptimizeResult, minimize

from ..networks._families import real_array
from ..volterra import SolverError
from ._objective import Objective, _with_theta

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ..networks import VolterraNetwork
    from ._data import Dataset

__all__ = ["TrainResult", "TrainingInterrupted", "train", "random_fields"]

_GRADIENT_METHODS = ("L-BFGS-B", "BFGS", "CG", "TNC", "SLSQP", "trust-constr")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (or another ``KeyboardInterrupt``) during :func:`train`, with the progress made.

    A ``KeyboardInterrupt``, so a script stops as before; nothing of the run is lost:

    Attributes
    ----------
    x : ndarray
        The last iterate the optimiser accepted (the start before the first iteration):
        ``train(network, data, init=exc.x, ...)`` resumes from it.
    nit : int
        Iterations completed.
    history : list of dict
        Per iteration, as :attr:`TrainResult.history`.
    """

    def __init__(self, x, nit, history):
        super().__init__(f"training interrupted after iteration {nit}; the last iterate is "
                         f"this exception's .x (train(..., init=exc.x) resumes from it)")
        self.x, self.nit, self.history = x, nit, history


class _NotFinite(ArithmeticError):
    """J_N or its gradient is inf/NaN at a point (overflowing loss, data or weights)."""


def _norm(g):
    """The Euclidean norm of ``g``: ``np.linalg.norm``, and for a finite vector whose squares
    overflow (a gradient of 1e200, from inputs of 1e200) the norm of ``g`` scaled by its
    largest entry (it was inf, with NumPy's overflow warning); inf only if the norm is."""
    with np.errstate(over="ignore"):
        value = float(np.linalg.norm(g))
        if np.isinf(value) and np.all(np.isfinite(g)):
            big = float(np.max(np.abs(g)))
            value = big * float(np.linalg.norm(g / big))
    return value


def _loaded_openblas():
    """The OpenBLAS libraries loaded in this process (Linux; empty elsewhere)."""
    libs = []
    try:
        with open("/proc/self/maps") as fh:
            paths = {line.split()[-1] for line in fh if "openblas" in line and line.count("/")}
    except OSError:
        return libs
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
            libs.append(lib.openblas_set_num_threads_local)
        except (OSError, AttributeError):
            continue
    return libs


@contextlib.contextmanager
def _single_threaded_blas():
    """Run the optimiser's small dense algebra on one BLAS thread (this thread only).

    L-BFGS-B works on vectors of a few thousand entries, where OpenBLAS's thread start-up
    costs more than the arithmetic (measured: 3-10x slower per iteration on 2 cores).
    ``openblas_set_num_threads_local`` changes the calling thread only and returns the old
    value, which is restored on exit; where it is not available this does nothing.
    """
    setters = _loaded_openblas()
    for f in setters:
        f.restype = ctypes.c_int
        f.argtypes = [ctypes.c_int]
    old = [f(1) for f in setters]
    try:
        yield
    finally:
        for f, value in zip(setters, old):
            f(max(int(value), 1))


@dataclass
class TrainResult:
    """The outcome of :func:`train`.

    Attributes
    ----------
    fun : float
        The optimal value found, J_N at ``x``.
    x : ndarray
        The optimal vector (layout of ``objective``).
    network : VolterraNetwork
        A network with the trained weights.
    classifier : (P, c)
    loss, regularizer : float
        The two terms of J_N at ``x`` (regularizer before the factor alpha).
    train_accuracy, test_accuracy : float
        Fractions correctly classified (nan without labels / test set).
    nit, nfev : int
        Optimiser iterations and objective (+ gradient) evaluations.
    grad_norm : float
        Euclidean norm of the gradient at ``x``.
    seconds : float
        Wall time of the optimisation; ``seconds_per_evaluation`` the mean per evaluation.
    status : bool
        True if the optimiser reported convergence (False also when it stopped at
        ``maxiter``, for ``maxiter=0`` (the start, unchecked), or when J_N could not be
        evaluated at a trial point of the line search: the forward solve failed or J_N was
        not finite; ``message`` says which, and ``x`` is then the last iterate).
    message : str
        The optimiser's message; when some implicit steps' roots at ``x`` could not be counted
        (``roots_unchecked``) a sentence saying so, with the first such sample's solve message.
    history : list of dict
        Per iteration: ``iteration``, ``J``, ``grad_norm``, ``seconds``, ``roots_unchecked``.
    start : str
        "network", "random (seed=k)", "continuation from N=..." or "vector".
    objective : Objective
    roots_unchecked : int
        The implicit steps of the forward passes at ``x`` (summed over the samples) whose
        roots could not be counted (:attr:`Objective.roots_unchecked`: a ReLU network on an
        implicit rule, a step that is not a contraction and was not searched or that reads an
        attention map): their values are the roots Newton's method reached, and the rule may
        have others there.  0 for every other network.
    """

    fun: float
    x: np.ndarray
    network: object
    classifier: tuple
    loss: float
    regularizer: float
    train_accuracy: float
    test_accuracy: float
    nit: int
    nfev: int
    grad_norm: float
    seconds: float
    seconds_per_evaluation: float
    status: bool
    message: str
    start: str
    objective: Objective = field(repr=False)
    history: list = field(default_factory=list, repr=False)
    roots_unchecked: int = 0

    @property
    def success(self):
        return self.status

    def extensions(self):
        """Field name -> piecewise linear extension of the trained grid values."""
        return self.objective.extensions(self.x)

    def grids(self):
        """Field name -> trained grid values."""
        return self.objective.grids(self.x)


def random_fields(network, seed=0, scale=0.5, degree=3):
    """Seeded smooth random fields on the network's grid: every entry a Legendre series
    sum_{p <= degree} c_p P_p(2t/T - 1) (two-variable: in t and s) with c_p ~ N(0, (scale/(p+1))^2).

    The same seed gives the same continuum field at every depth, so random starts at
    different N sample one function.

    Returns
    -------
    VolterraNetwork
        ``network`` with those fields.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.networks import ResNet
    >>> a = random_fields(ResNet(np.zeros((8, 2, 2)), np.zeros((8, 2))), seed=1)
    >>> b = random_fields(ResNet(np.zeros((16, 2, 2)), np.zeros((16, 2))), seed=1)
    >>> bool(np.allclose(a.W[2], b.W[4]))       # the same field, sampled at t = 1/4
    True
    """
    from ._objective import parameter_layout
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or \
            not (np.isfinite(scale) and scale >= 0):
        raise ValueError(f"scale (init_scale) must be a float >= 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    N = network.n_layers
    x = 2.0 * np.arange(N + 1) / N - 1.0
    V = legendre.legvander(x, degree)  # (N+1, degree+1)
    decay = scale / (1.0 + np.arange(degree + 1))
    theta = network.theta.copy()
    for f in parameter_layout(network):
        shape = f.point_shape
        if f.two_variable:
            c = rng.normal(size=(degree + 1, degree + 1) + shape)
            c = c * (decay[:, None] * decay[None, :] / scale).reshape((degree + 1, degree + 1) +
                                                                     (1,) * len(shape))
            f.grid(theta)[...] = np.einsum("np,mq,pq...->nm...", V, V, c)
        else:
            c = rng.normal(size=(degree + 1,) + shape) * decay.reshape((-1,) + (1,) * len(shape))
            f.grid(theta)[...] = np.einsum("np,p...->n...", V, c)
    return _with_theta(network, theta)


def train(network: VolterraNetwork, data: Dataset, loss: str = "mse", alpha: float = 1e-3,
          beta: float = 1.0, regularizer: str = "h1", method: str = "L-BFGS-B", maxiter: int = 500,
          seed: int = 0, callback: Callable[[dict], bool | None] | None = None,
          init: str | TrainResult | VolterraNetwork | ArrayLike | None = None,
          classifier: tuple | None = None, train_classifier: bool = True, gtol: float = 1e-8,
          init_scale: float = 0.5, options: dict | None = None,
          readout: ArrayLike | None = None) -> TrainResult:
    r"""Train ``network`` on ``data`` by minimising J_N with the exact gradient.

    Parameters
    ----------
    network : VolterraNetwork
        Defines family, depth, rule, activation and T (and the start when ``init`` is None).
    data : Dataset or (X, y)
    loss, alpha, beta, regularizer, classifier, train_classifier, readout
        As in :class:`~integrallimits.control.Objective`.
    method : str
        A gradient method of ``scipy.optimize.minimize`` (L-BFGS-B by default).
    maxiter : int
        Iteration budget.
    seed : int
        Seed of the random start (``init="random"``).
    callback : callable, optional
        ``callback(info)`` after each iteration that moved the weights (never at the start,
        whose values are ``history[0]``), with a dict (``iteration``, ``J``, ``grad_norm``,
        ``seconds``, ``roots_unchecked``, ``x``); returning True stops the optimisation.  The
        same for every ``method``: trust-constr's own calls at the start and after a rejected
        trust-region step are not passed on (its rejected steps count in ``nit``, as
        iterations, but are not in ``history``).
    init : None, "random", TrainResult, VolterraNetwork or ndarray
        None: the network's own weights; "random": :func:`random_fields` with ``seed``;
        a TrainResult or network of the same family at another depth: continuation through
        the piecewise linear extension of its fields (classifier copied); an array: the vector.
    gtol : float
        Gradient tolerance (L-BFGS-B's and TNC's projected gradient, the gradient norm of
        BFGS, CG and trust-constr; SLSQP has none: its ``ftol`` can be given in ``options``).
    init_scale : float
        Scale of the random fields.
    options : dict, optional
        Further options for the scipy method.

    Returns
    -------
    TrainResult

    Raises
    ------
    TrainingInterrupted
        On Ctrl-C (a ``KeyboardInterrupt``), carrying the last accepted iterate ``x``,
        ``nit`` and ``history``; ``init=exc.x`` resumes.
    SolverError
        If the forward pass fails at the start (a failure at a later trial point ends the
        training with ``status=False`` and the last iterate instead).
    TypeError
        For a ``callback`` that is not callable or ``options`` that are not a dict.
    ValueError
        For a ``method`` that is not a gradient method of :func:`scipy.optimize.minimize`, a
        negative or non-integer ``maxiter``, an unknown ``init`` text or an ``init`` vector of
        the wrong shape, J_N or its gradient not finite at the start, and (from
        :class:`Objective`) an unknown ``loss`` or ``regularizer`` or data that do not fit
        the network.

    See Also
    --------
    Objective : the cost J_N and its exact gradient (discrete adjoint).
    make_dataset : seeded data sets.
    continuous_adjoint : the continuum gradient the discrete one approaches.

    Examples
    --------
    >>> import numpy as np
    >>> from integrallimits.control import make_dataset
    >>> from integrallimits.networks import ResNet
    >>> data = make_dataset("xor", 24, d=2, seed=0)
    >>> net = ResNet(np.zeros((4, 2, 2)), np.zeros((4, 2)))
    >>> res = train(net, data, loss="cross-entropy", alpha=1e-3, init="random", seed=1, maxiter=50)
    >>> res.fun < res.history[0]["J"], res.network.n_layers
    (True, 4)
    """
    if method not in _GRADIENT_METHODS:
        raise ValueError(f"method must be a gradient method of scipy.optimize.minimize "
                         f"({', '.join(_GRADIENT_METHODS)}), got {method!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Real) or \
            not float(maxiter).is_integer() or maxiter < 0:   # (inf: an OverflowError of int)
        raise ValueError(f"maxiter must be an integer >= 0, got {maxiter!r}")
    if isinstance(gtol, bool) or not isinstance(gtol, numbers.Real) or not gtol >= 0 or \
            not np.isfinite(gtol):
        raise ValueError(f"gtol must be a float >= 0, got {gtol!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable callback(info), got {type(callback).__name__}")
    if options is not None and not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict of {method}'s options (as for "
                        f"scipy.optimize.minimize), got {type(options).__name__}")
    start_net, start = network, "network"
    if isinstance(init, str):
        if init != "random":
            raise ValueError(f"init must be None, 'random', a TrainResult, a network or a vector; "
                             f"got {init!r}")
        start_net, start = random_fields(network, seed, init_scale), f"random (seed={seed})"
    objective = Objective(network, data, loss=loss, alpha=alpha, beta=beta, regularizer=regularizer,
                          classifier=classifier, train_classifier=train_classifier, readout=readout)
    if isinstance(init, TrainResult):
        x0 = init.objective.prolong(init.x, objective)
        start = f"continuation from N={init.network.n_layers}"
    elif init is not None and not isinstance(init, str) and hasattr(init, "theta"):
        coarse = Objective(init, data, loss=loss, classifier=objective.classifier_for(
            objective.initial_vector()), train_classifier=train_classifier, n_classes=objective.n_classes,
            readout=readout)
        x0 = coarse.prolong(coarse.initial_vector(), objective)
        start = f"continuation from N={init.n_layers}"
    elif init is not None and not isinstance(init, str):
        x0 = real_array(init, "init").copy()
        if x0.shape != (objective.size,):
            raise ValueError(f"an init vector must have shape ({objective.size},), got {x0.shape}")
        if not np.all(np.isfinite(x0)):
            raise ValueError("the init vector contains NaN or inf")
        start = "vector"
    else:
        x0 = objective.initial_vector(start_net)

    history = []
    t_start = time.perf_counter()
    last = {}

    def fun(x):
        if not np.isfinite(x).all():     # (the objective refuses it with a ValueError)
            raise _NotFinite("the trial point is not finite: the optimiser's step overflowed"
                             + (f", from a gradient of norm {_norm(last['g']):.3g}: scale the "
                                f"data or targets" if "g" in last else ""))
        # overflow to inf/NaN in J or g is reported here, as the training's outcome (a
        # ValueError at the start, status False later), not as NumPy's RuntimeWarning too
        with np.errstate(over="ignore", invalid="ignore"):
            J, g = objective.value_and_gradient(x)
        if not (np.isfinite(J) and np.all(np.isfinite(g))):
            raise _NotFinite(f"J_N = {J:.6g} and its gradient are not finite" if np.isfinite(J)
                             else f"J_N = {J} is not finite")
        last.update(x=x.copy(), J=J, g=g, roots_unchecked=objective.roots_unchecked)
        return J, g

    try:
        try:
            J0, g0 = fun(x0)
        except SolverError:   # the adjoint of an overflowing loss: say that, if it is so
            with np.errstate(over="ignore", invalid="ignore"):
                J0 = objective.value(x0)
            if np.isfinite(J0):
                raise
            raise _NotFinite(f"J_N = {J0} is not finite") from None
    except _NotFinite as exc:
        raise ValueError(f"{exc} at the start (start: {start}); scale the data or targets, or "
                         f"start from smaller weights") from None
    history.append({"iteration": 0, "J": J0, "grad_norm": _norm(g0), "seconds": 0.0,
                    "roots_unchecked": last["roots_unchecked"]})

    stopped = {}
    accepted = {"x": x0}

    def on_iteration(intermediate_result):
        # SciPy >= 1.11 passes an OptimizeResult (it reads this parameter's name); older
        # versions pass the iterate x_k itself.
        x = getattr(intermediate_result, "x", intermediate_result)
        if method == "trust-constr" and np.array_equal(x, accepted["x"]):
            # trust-constr calls back at the start and after a rejected step: no iteration
            # moved the weights (the other methods call back after each step only)
            return
        J = float(intermediate_result.fun) if hasattr(intermediate_result, "fun") else None
        if J is None or not np.array_equal(x, last.get("x")):
            J, _ = fun(x)
        g = last["g"] if np.array_equal(x, last.get("x")) else fun(x)[1]
        info = {"iteration": len(history), "J": J, "grad_norm": _norm(g),
                "seconds": time.perf_counter() - t_start,
                "roots_unchecked": last["roots_unchecked"]}
        accepted["x"] = x.copy()
        history.append(info)
        if callback is not None and callback({**info, "x": x.copy()}):
            stopped["x"] = x.copy()
            raise StopIteration
        if method == "TNC" and info["iteration"] >= maxiter:   # TNC has no iteration limit
            stopped.update(x=x.copy(), maxiter=True)
            raise StopIteration

    # (trust-constr counts its first call of the callback, at the start, as an iteration)
    opts = {} if method == "TNC" else {"maxiter": int(maxiter) + (method == "trust-constr")}
    if method == "L-BFGS-B":
        opts.update(gtol=gtol, ftol=1e-15, maxfun=max(15000, 4 * int(maxiter)), maxcor=20)
    elif method in ("BFGS", "CG", "TNC", "trust-constr"):
        opts.update(gtol=gtol)
    opts.update(options or {})
    if maxiter == 0:
        x, nit, nfev, ok = x0, 0, 1, False
        message = "no iterations requested (maxiter=0): the start, not checked for convergence"
    else:
        with _single_threaded_blas():
            try:
                sol = minimize(fun, x0, jac=True, method=method, callback=on_iteration,
                               options=opts)
            except StopIteration:  # SciPy < 1.11 lets the callback's StopIteration through
                sol = OptimizeResult(x=stopped["x"], nit=len(history) - 1, success=False,
                                     nfev=objective.evaluations,
                                     message="`callback` raised `StopIteration`.")
            except KeyboardInterrupt:   # Ctrl-C: stop, with the last iterate kept
                raise TrainingInterrupted(accepted["x"].copy(), len(history) - 1,
                                          history) from None
            except (SolverError, _NotFinite) as exc:  # at a trial point: keep what was reached
                sol = OptimizeResult(
                    x=accepted["x"], nit=len(history) - 1, success=False,
                    nfev=objective.evaluations,
                    message=f"stopped after iteration {len(history) - 1}: at a trial point the "
                            f"objective could not be evaluated ({exc}); the result is the last "
                            f"iterate")
        x, nit, nfev = sol.x, int(sol.get("nit", len(history) - 1)), int(sol.get("nfev", 0))
        if method == "trust-constr" and "nit" in sol:
            nit = max(nit - 1, 0)           # (its count includes the start, see opts)
        ok = bool(sol.success)
        message = str(sol.message)
        if method == "trust-constr" and sol.get("status") == 0:
            # (SciPy's status 0 of trust-constr is its iteration limit, under the text "The
            # maximum number of function evaluations is exceeded.")
            message = "The maximum number of iterations is exceeded (maxiter)."
        if stopped.get("maxiter"):
            x, nit, ok = stopped["x"], int(maxiter), False
            message = "STOP: TOTAL NO. OF ITERATIONS REACHED LIMIT (maxiter)"
        elif "x" in stopped:    # (SciPy said "`callback` raised `StopIteration`": ours did)
            x, ok = stopped["x"], False
            message = (f"stopped by the callback after iteration {len(history) - 1} (it "
                       f"returned a true value)")
    seconds = time.perf_counter() - t_start
    J, g = fun(x)
    terms = objective.terms(x)
    if terms["roots_unchecked"]:
        message += (f"  At x, {terms['roots_unchecked']} implicit step(s) of the forward passes "
                    f"(summed over the samples) could not be shown to have one root: their "
                    f"values are the roots Newton's method reached, the rule may have others "
                    f"(roots_unchecked; {objective.roots_message})")
    test_acc = float("nan")
    ds = objective.data
    if ds is not None and len(ds.y_test):
        test_acc = objective.accuracy(x, ds.X_test, ds.y_test)
    return TrainResult(fun=float(J), x=x, network=objective.network_for(x),
                       classifier=objective.classifier_for(x), loss=terms["loss"],
                       regularizer=terms["regularizer"], train_accuracy=terms["accuracy"],
                       test_accuracy=test_acc, nit=nit, nfev=nfev,
                       grad_norm=_norm(g), seconds=seconds,
                       seconds_per_evaluation=seconds / max(objective.evaluations, 1),
                       status=ok, message=message, start=start, objective=objective,
                       history=history, roots_unchecked=terms["roots_unchecked"])
