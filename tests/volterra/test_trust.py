"""A reported success is right: fresh values, run-time parameters, user exceptions, honest failures.

Regression tests for the trust issue: every form of user code (fresh lambdas in a sweep, a
global changed between calls, module attributes, closures, defaults, arrays mutated in place,
another process with another value), parameters passed with ``args=``, kernels that raise or
change shape, degenerate meshes, and the unstable or unresolved discretisations that used to
come back as success.
"""
import functools
import math
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
import types
import warnings

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrallimits import SolverError, solve_fredholm, solve_volterra, solve_vide
from integrallimits.kernels import as_kernel, convolution, weakly_singular
from integrallimits.kernels._user import RecompilationWarning, UserCodeError, referenced_values
from integrallimits.volterra import solve_first_kind

ONE = lambda t: 1.0  # noqa: E731


@pytest.fixture(autouse=True)
def _quiet_recompilation():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecompilationWarning)
        yield


# -- 1. values are never stale --------------------------------------------------------------------

lam = 1.0   # read by the lambdas below as a module global, as in a sweep written at module level
RHO = 1.0
cfg = types.ModuleType("cfg")
cfg.RATE = 1.0
WEIGHTS = np.array([1.0, 0.0])


def K_global(t, s, y):
    return -RHO * y


def K_module_attribute(t, s, y):
    return -cfg.RATE * y


def K_array(t, s, y):
    return -(WEIGHTS[0] + WEIGHTS[1]) * y


def test_fresh_lambda_sweep_over_a_global():
    global lam
    for value in (1.0, 2.0, 5.0):
        lam = value
        sol = solve_volterra(lambda t, s, y: -lam * y, ONE, (0.0, 1.0), 64, method="gauss3")
        assert sol.success and abs(sol.y[-1] - np.exp(-value)) < 1e-12


@pytest.mark.parametrize("kernel, setter", [
    (K_global, lambda v: globals().__setitem__("RHO", v)),
    (K_module_attribute, lambda v: setattr(cfg, "RATE", v)),
    (K_array, lambda v: WEIGHTS.__setitem__(0, v)),      # an array mutated in place
])
def test_one_function_reading_a_changed_value(kernel, setter):
    try:
        for value in (1.0, 3.0, 1.0):
            setter(value)
            sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, method="radau3")
            assert abs(sol.y[-1] - np.exp(-value)) < 1e-8, value
    finally:
        setter(1.0)


def _minus_rho(t, s, y):
    return -RHO


def _rho_decay(u):
    return -RHO * np.exp(-u)


@pytest.mark.parametrize("build", ["as_kernel", "with a Jacobian", "convolution", "with args"])
def test_a_kernel_object_kept_across_a_change_is_built_again(build):
    """A Kernel made once with ``as_kernel`` (or from a convolution) and solved again after a
    global it reads changed ran the old value's compiled code: success, the old answer."""
    def make():
        if build == "convolution":
            return as_kernel(convolution(_rho_decay), 1.0)
        if build == "with args":
            return as_kernel(lambda t, s, y, c: -c * RHO * y, 1.0, args=(1.0,))
        return as_kernel(K_global, 1.0, jacobian=_minus_rho if build == "with a Jacobian" else None)

    try:
        kernel = make()
        for value in (1.0, 3.0):
            globals()["RHO"] = value
            kept = solve_volterra(kernel, ONE, (0.0, 1.0), 32, "gauss2", args=(
                (1.0,) if build == "with args" else None))
            new = solve_volterra(make(), ONE, (0.0, 1.0), 32, "gauss2", args=(
                (1.0,) if build == "with args" else None))
            assert kept.success and np.array_equal(kept.y, new.y)
            if build != "convolution":
                assert abs(kept.y[-1] - np.exp(-value)) < 1e-7
                assert kernel(0.5, 0.25, 2.0) == -2.0 * value     # the kernel called directly
    finally:
        globals()["RHO"] = 1.0


def _reads_a_module_in_a_cell():
    m = cfg            # as ``import cfg as m`` inside a function that builds the kernel

    def K(t, s, y):
        return -m.RATE * y
    return K


def _reads_a_module_default(t, s, y, m=cfg):
    return -m.RATE * y


@pytest.mark.parametrize("kernel", [_reads_a_module_in_a_cell(), _reads_a_module_default],
                         ids=["closure cell", "default argument"])
def test_a_module_attribute_read_through_a_local_name_is_fresh(kernel):
    """``m.RATE`` where ``m`` is a closure cell or an argument's default holding a module:
    Numba freezes the attribute as it does a global module's, and the key did not follow it
    (the first value's answer came back, a success, after cfg.RATE changed)."""
    try:
        for value in (1.0, 3.0, 1.0):
            cfg.RATE = value
            sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, method="radau3")
            assert abs(sol.y[-1] - np.exp(-value)) < 1e-8, value
    finally:
        cfg.RATE = 1.0


def test_closures_and_defaults_are_keyed_on_their_values():
    def factory(a):
        return lambda t, s, y: -a * y
    for a in (1.0, 2.0):
        assert abs(solve_volterra(factory(a), ONE, (0.0, 1.0), 32, "gauss2").y[-1] - np.exp(-a)) < 1e-7
        K = lambda t, s, y, a=a: -a * y  # noqa: E731
        assert abs(solve_volterra(K, ONE, (0.0, 1.0), 32, "gauss2").y[-1] - np.exp(-a)) < 1e-7


SPEED = 1.0   # read by compiled helpers of the kernels below, not by the kernels themselves


@numba.njit
def _speed():
    return SPEED


@numba.njit
def _twice_speed():
    return 2.0 * _speed()


@numba.njit
def _half_twice_speed():
    return 0.5 * _twice_speed()


@numba.njit
def _also_half_twice_speed():
    return 0.5 * _twice_speed()


helpers = types.ModuleType("helpers")
helpers.speed = _speed


def _relay(inner):
    return numba.njit(lambda: inner())


_relayed = _relay(_relay(_speed))   # two closures of one factory (one code object) in a chain


def _closure_kernel():
    speed = _speed
    return lambda t, s, y: -speed() * y


@numba.njit
def _compiled_kernel(t, s, y):
    return -_speed() * y


@pytest.mark.parametrize("kernel, paths", [
    (lambda t, s, y: -_speed() * y, 1),                 # a global helper
    (lambda t, s, y: -0.5 * _twice_speed() * y, 1),     # a helper's helper
    (lambda t, s, y: -(_half_twice_speed() + _also_half_twice_speed()) * 0.5 * y, 2),  # two paths
    (lambda t, s, y: -helpers.speed() * y, 1),          # a module attribute
    (_closure_kernel(), 1),                             # a closure cell
    (_compiled_kernel, 1),                              # the user's own @njit kernel
    (lambda t, s, y: -_relayed() * y, 1),               # closures of one factory, chained
], ids=["global", "nested", "diamond", "module attribute", "closure", "njit kernel", "chain"])
def test_a_changed_value_read_by_a_compiled_helper_is_not_stale(kernel, paths):
    """Numba compiles a helper once with the values it read then; a kernel calling it kept
    SPEED = 1 after SPEED = 3 and reported success with the old answer."""
    global SPEED
    try:
        for SPEED in (1.0, 3.0, 1.0):
            sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, "gauss2")
            assert sol.success and abs(sol.y[-1] - np.exp(-SPEED)) < 1e-7, SPEED
        SPEED = 2.0
        sol = solve_vide(lambda t, y, z: -0.5 * _twice_speed() * y, None, 1.0, (0.0, 1.0), 32)
        assert abs(sol.y[-1] - np.exp(-2.0)) < 1e-7
        assert [v for name, v in referenced_values(kernel) if name.endswith(": SPEED")] == \
            [2.0] * paths
    finally:
        SPEED = 1.0


@numba.njit
def _decay_once(y):
    return -y


@numba.njit
def _decay_twice(y):
    return -2.0 * y


RATE_FN = _decay_once      # a function read by a bare global name, rebound below
ELEMENTARY = math.sin


def _defined_again(body):
    """A fresh ``@njit def helper(y)`` with the given body, as a notebook cell run again."""
    namespace = {"numba": numba}
    exec(f"@numba.njit\ndef helper(y):\n    return {body}\n", namespace)  # noqa: S102 (a cell run again)
    return namespace["helper"]


def test_a_rebound_or_redefined_function_is_not_stale():
    """Numba links the function a name holds when it compiles; the kernel's key had only its
    values, so ``RATE_FN = _decay_twice`` (and ``math.sin`` -> ``math.cos``, or a helper
    defined again with other code) was served the first compilation: e^-1 for e^-2."""
    global RATE_FN, ELEMENTARY
    kernel = lambda t, s, y: RATE_FN(y)
    elementary = lambda t, s, y: ELEMENTARY(y) - y
    try:
        for RATE_FN, rate in ((_decay_once, 1.0), (_decay_twice, 2.0), (_decay_once, 1.0)):
            sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, "gauss2")
            assert sol.success and abs(sol.y[-1] - np.exp(-rate)) < 1e-7, rate
        values = []
        for ELEMENTARY in (math.sin, math.cos):
            values.append(solve_volterra(elementary, ONE, (0.0, 1.0), 32, "gauss2").y[-1])
        ELEMENTARY = math.sin
        fresh = solve_volterra(lambda t, s, y: math.cos(y) - y, ONE, (0.0, 1.0), 32, "gauss2")
        assert values[0] != values[1] and values[1] == fresh.y[-1]
        for body, rate in (("-y", 1.0), ("-3.0 * y", 3.0)):
            helper = _defined_again(body)
            sol = solve_volterra(lambda t, s, y: helper(y), ONE, (0.0, 1.0), 32, "gauss2")  # noqa: B023
            assert abs(sol.y[-1] - np.exp(-rate)) < 1e-7, body
    finally:
        RATE_FN, ELEMENTARY = _decay_once, math.sin


def test_a_reloaded_or_rebound_module_function_is_not_stale(tmp_path, monkeypatch):
    """``model.rate`` after ``importlib.reload(model)`` of an edited file (or after
    ``model.rate = other``) was served the first compilation: e^-1 for e^-2, a success.  The
    key followed functions read by a bare name only."""
    import importlib
    source = "import numba\n\n@numba.njit\ndef rate(y):\n    return {} * y\n"
    (tmp_path / "model_for_reload.py").write_text(source.format("1.0"))
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)   # (no .pyc of the same second)
    import model_for_reload as model
    try:
        kernel = lambda t, s, y: -model.rate(y)  # noqa: E731
        for rate in (1.0, 2.0):
            if rate != 1.0:
                (tmp_path / "model_for_reload.py").write_text(source.format(rate))
                importlib.reload(model)
            sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, "gauss2")
            assert sol.success and abs(sol.y[-1] - np.exp(-rate)) < 1e-7, rate
        model.rate = _decay_twice        # rebound by assignment
        assert abs(solve_volterra(lambda t, s, y: model.rate(y), ONE, (0.0, 1.0), 32,
                                  "gauss2").y[-1] - np.exp(-2.0)) < 1e-7
    finally:
        sys.modules.pop("model_for_reload", None)


def test_a_function_whose_code_was_replaced_is_not_stale():
    """A kernel (or a VIDE right-hand side) whose ``__code__`` was replaced, as IPython's
    ``%autoreload`` does to the functions of an edited module that the user holds, was served
    the machine code of its first code: e^-1 for e^-3, a success."""
    def kernel(t, s, y):
        return -y

    def rhs(t, y, z):
        return -y
    codes = {1.0: ((lambda t, s, y: -y).__code__, (lambda t, y, z: -y).__code__),
             3.0: ((lambda t, s, y: -3.0 * y).__code__, (lambda t, y, z: -3.0 * y).__code__)}
    for rate in (1.0, 3.0, 1.0):
        kernel.__code__, rhs.__code__ = codes[rate]
        sol = solve_volterra(kernel, ONE, (0.0, 1.0), 32, "gauss2")
        assert abs(sol.y[-1] - np.exp(-rate)) < 1e-7, rate
        assert abs(solve_vide(rhs, None, 1.0, (0.0, 1.0), 32).y[-1] - np.exp(-rate)) < 1e-7, rate


RACE = 1.0


def _reads_race(t, s, y):
    return -RACE * y


def test_a_value_changed_while_compiling_is_not_stored_under_the_old_key(monkeypatch):
    """Numba reads the values when it compiles, after the key was made: a global another
    thread changed in between was frozen into the code kept under the old value's key (and on
    disk), and every later solve with the old value got the new one's answer (e^-2 for
    e^-1, also in a fresh process).  The change is made here at that moment, as a thread
    would (from the on-disk key's computation, which runs in between)."""
    global RACE
    from integrallimits.kernels import _user
    real = _user.disk_key

    def another_thread_changes_it(func, options=()):
        global RACE
        if getattr(func, "__name__", "") == "_reads_race":
            RACE = 2.0
        return real(func, options)

    monkeypatch.setattr(_user, "disk_key", another_thread_changes_it)
    try:
        RACE = 1.0
        during = solve_volterra(_reads_race, ONE, (0.0, 1.0), 32, "gauss2").y[-1]
        monkeypatch.setattr(_user, "disk_key", real)
        assert abs(during - np.exp(-1.0)) < 1e-7    # the values of the start, throughout
        for RACE in (1.0, 2.0, 1.0):
            sol = solve_volterra(_reads_race, ONE, (0.0, 1.0), 32, "gauss2")
            assert abs(sol.y[-1] - np.exp(-RACE)) < 1e-7, RACE
    finally:
        RACE = 1.0


def test_referenced_values_sees_globals_cells_attributes_and_defaults():
    c = 2.0
    names = dict(referenced_values(lambda t, s, y, d=3.0: -c * RHO * cfg.RATE * np.exp(y) * d))
    assert names == {"c": 2.0, "RHO": RHO, "cfg.RATE": cfg.RATE, "default 0": 3.0}


def test_fredholm_and_vide_sweeps_are_fresh():
    global lam
    for value in (0.5, 1.5):
        lam = value
        fred = solve_fredholm(lambda x, s, y: lam * y, ONE, (0.0, 1.0), 8)
        assert abs(fred.y[0] - 1.0 / (1.0 - lam)) < 1e-10            # y = 1 + lam int_0^1 y
        vide = solve_vide(lambda t, y, z: -lam * y, None, 1.0, (0.0, 1.0), 16, "gauss2")
        assert abs(vide.y[-1] - np.exp(-lam)) < 1e-6     # gauss2, N = 16: error 4e-8


# one structured kernel of each kind, built once at module level and solved as lam changes
CONV_K = convolution(lambda u: np.exp(-lam * u))
CONV_PHI = convolution(lambda u: np.exp(-u), lambda s, y: -lam * y)
SINGULAR = weakly_singular(lambda t, s, y: -lam * y, alpha=0.5)
SINGULAR_CONV = weakly_singular(convolution(lambda u: -lam), alpha=0.5)


@pytest.mark.parametrize("spec, fresh, method", [
    (lambda: CONV_K, lambda v: convolution(lambda u: np.exp(-v * u)), "gregory6"),
    (lambda: CONV_PHI, lambda v: convolution(lambda u: np.exp(-u), lambda s, y: -v * y),
     "gregory6"),
    (lambda: SINGULAR, lambda v: weakly_singular(lambda t, s, y: -v * y, alpha=0.5), "gauss2"),
    (lambda: SINGULAR_CONV, lambda v: weakly_singular(convolution(lambda u: -v), alpha=0.5),
     "gauss2"),
])
def test_structured_kernels_built_once_see_a_changed_global(spec, fresh, method):
    """A convolution or weakly singular kernel made once is built again when a value its
    functions read changes (it used to keep the compiled kernel of the first value: a success
    with the old value's answer); each answer equals that of a kernel made for the value."""
    global lam
    first = None
    try:
        for value in (1.0, 2.0, 1.0):
            lam = value
            got = solve_volterra(spec(), ONE, (0.0, 1.0), 32, method=method)
            want = solve_volterra(fresh(value), ONE, (0.0, 1.0), 32, method=method)
            assert got.success and np.array_equal(got.y, want.y), value
            assert value == 1.0 or not np.allclose(got.y, first, rtol=1e-3)   # lam matters
            first = got.y if value == 1.0 else first
    finally:
        lam = 1.0


def test_dense_output_after_a_sweep_refuses_the_changed_forcing():
    """Between mesh points a solution calls g again (Volterra dense output, the Nystrom
    interpolant): once a value g reads has changed since the solve, that raises instead of
    mixing g's new values with the old solution (it gave 1.26 for 0.45); with args=, or before
    the change, the values are those of the solve."""
    global lam
    try:
        sols, freds, with_args = {}, {}, {}
        for value in (1.0, 2.0):
            lam = value
            sols[value] = solve_volterra(lambda t, s, y: -y, lambda t: lam * np.cos(t),
                                         (0.0, 1.0), 16, method="gauss2")
            freds[value] = solve_fredholm(lambda x, s, y: 0.5 * y, lambda x: lam * x, (0.0, 1.0), 8)
            with_args[value] = solve_volterra(lambda t, s, y, a: -y, lambda t, a: a * np.cos(t),
                                              (0.0, 1.0), 16, method="gauss2", args=(value,))
            before = float(sols[value](0.55))
        assert before == float(sols[2.0](0.55))          # the latest one: values unchanged
        with pytest.raises(RuntimeError, match=r"changed after the solve \(lam\)"):
            sols[1.0](0.55)
        with pytest.raises(RuntimeError, match="lam"):
            freds[1.0](0.55)
        assert float(sols[1.0](sols[1.0].t[3])) == sols[1.0].y[3]     # mesh values stay
        np.testing.assert_allclose(with_args[1.0](0.55), with_args[2.0](0.55) / 2.0, rtol=1e-12)
        lam = 1.0
        assert float(sols[1.0](0.55)) == float(with_args[1.0](0.55))  # the same values again
    finally:
        lam = 1.0


WARN_RATE = 1.0


def K_warn(t, s, y):   # used by one test only: the warning comes once per function
    return -WARN_RATE * y


def test_a_changed_global_warns_once_and_points_to_args():
    global WARN_RATE
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for WARN_RATE in (5.0, 6.0, 7.0):
            solve_volterra(K_warn, ONE, (0.0, 1.0), 8, "trapezoid")
    messages = [str(w.message) for w in caught if issubclass(w.category, RecompilationWarning)]
    assert len(messages) == 1 and "args=" in messages[0] and "WARN_RATE" in messages[0]


_SCRIPT = textwrap.dedent("""
    import sys
    import numpy as np
    from integrallimits import solve_volterra
    RHO = float(sys.argv[1])
    def K(t, s, y):
        return -RHO * y
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 32, method="gauss3")
    print(repr(float(sol.y[-1])))
""")


# The scripts live in a fresh temporary folder, so their disk cache (next to them, or under
# NUMBA_CACHE_DIR) starts without their entries; the package's own compiled loops come from its
# usual cache, as for any user (a fresh NUMBA_CACHE_DIR would compile them again in every run).
def _run(script_path, *argv):
    return float(_run_all(script_path, *argv)[-1])


def _run_all(script_path, *argv):
    """Every value the script prints (one per line)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    out = subprocess.run([sys.executable, str(script_path), *map(str, argv)], capture_output=True,
                         text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_another_process_with_another_value_is_not_served_from_the_disk_cache(tmp_path):
    script = tmp_path / "k.py"
    script.write_text(_SCRIPT)
    assert abs(_run(script, 1) - np.exp(-1.0)) < 1e-10
    assert abs(_run(script, 3) - np.exp(-3.0)) < 1e-10


_KERNELS = textwrap.dedent("""
    import sys
    from integrallimits import solve_volterra
    A = 0.0
    def K(t, s, y):          # one function reading a global
        return -A * y
    def P(t, s, y):          # two functions of the same shape
        return -2.0 * y
    def Q(t, s, y):
        return -3.0 * y
    for name in sys.argv[1:]:
        if name.startswith("A="):
            A, kernel = float(name[2:]), K
        else:
            kernel = {"P": P, "Q": Q}[name]
        sol = solve_volterra(kernel, lambda t: 1.0, (0.0, 1.0), 8, "trapezoid",
                             error_estimate=False)
        print(repr(float(sol.y[-1])))
""")


def _trapezoid(a, n=8):
    """y(1) of the trapezoidal rule for y = 1 - a int_0^t y ds on n steps (in Python)."""
    h, y = 1.0 / n, [1.0]
    for _ in range(n):
        y.append((1.0 - a * h * (y[0] / 2 + sum(y[1:]))) / (1.0 + a * h / 2))
    return y[-1]


def test_code_compiled_in_different_processes_is_not_mixed_when_loaded_together(tmp_path):
    """Each kernel (and each value of the global) compiled in its own fresh process, then all
    loaded from the disk cache into one: Numba names symbols by qualified name and a
    per-process counter, so the wrappers of P and Q (and K's two compilations) had the same
    symbols, and the process loading both linked one to the other's code (A = 3 answered with
    0.131 for 0.048, success)."""
    script = tmp_path / "kernels.py"
    script.write_text(_KERNELS)
    runs = (["A=2"], ["A=3"], ["P"], ["Q"])
    for argv in runs:
        _run_all(script, *argv)
    together = [float(v) for v in _run_all(script, *(a for argv in runs for a in argv))]
    assert together == pytest.approx([_trapezoid(a) for a in (2.0, 3.0, 2.0, 3.0)],
                                     rel=1e-13, abs=0.0)


_SWEEP = textwrap.dedent("""
    import sys
    import numpy as np
    from integrallimits import solve_volterra
    A = 0.0
    def K(t, s, y):
        return -A * y * np.cos(t - s)
    for A in map(float, sys.argv[1:]):
        print(repr(float(solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 16, method="radau2").y[-1])))
""")


@settings(max_examples=3, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([0.25, 0.5, 1.0, 2.0, 4.0]), min_size=2, max_size=4))
def test_a_sweep_in_one_process_equals_each_value_in_a_fresh_process(tmp_path_factory, values):
    tmp = tmp_path_factory.mktemp("sweep")
    script = tmp / "sweep.py"
    script.write_text(_SWEEP)
    swept = [float(v) for v in _run_all(script, *values)]
    # the last value alone, in a fresh process that finds the others in the disk cache
    alone = _run(script, values[-1])
    assert len(swept) == len(values) and swept[-1] == alone
    assert len({(v, s) for v, s in zip(values, swept)}) == len(set(values))   # one result per value


# -- parameters as arguments ----------------------------------------------------------------------

def test_args_reach_K_and_g_and_a_sweep_compiles_once():
    from integrallimits.kernels import as_kernel

    def K(t, s, y, a, n, v, M):
        return -(a + n + v[1] + M[1, 0]) * y

    def g(t, a, n, v, M):
        return 1.0 + 0.0 * a

    first = None
    for a in (0.5, 1.5):
        args = (a, 1, np.array([0.0, 0.25]), np.array([[0.0, 0.0], [0.25, 0.0]]))
        sol = solve_volterra(K, g, (0.0, 1.0), 32, "gauss3", args=args)
        assert abs(sol.y[-1] - np.exp(-(a + 1.5))) < 1e-10
        kernel = as_kernel(K, 1.0, args=args)
        assert first is None or kernel.function is first
        first = kernel.function


def test_args_for_vector_kernels_fast_history_vide_fredholm_and_first_kind():
    rot = lambda t, s, y, w: (-w * y[1], w * y[0])  # noqa: E731
    sol = solve_volterra(rot, lambda t, w: np.array([1.0, 0.0]), (0.0, 1.0), 64, "gregory6",
                         args=(2.0,))
    # y' = rot(y) with y(0) = (1, 0): (cos 2t, sin 2t)
    assert np.max(np.abs(sol.y[-1] - [np.cos(2.0), np.sin(2.0)])) < 1e-6   # a wrong w: 1e-1
    conv = convolution(lambda u, a: np.exp(-a * u))
    fast = solve_volterra(conv, ONE, (0.0, 1.0), 64, "trapezoid", args=(1.0,), fast_history=True)
    slow = solve_volterra(conv, ONE, (0.0, 1.0), 64, "trapezoid", args=(1.0,), fast_history=False)
    assert fast.stats["fast_history"] and np.max(np.abs(fast.y - slow.y)) < 1e-13
    vide = solve_vide(lambda t, y, z, a: -a * y + z, lambda t, s, y, a: 0.0 * y, 1.0, (0.0, 1.0), 16,
                      "gauss2", args=(2.0,))
    assert abs(vide.y[-1] - np.exp(-2.0)) < 1e-6     # gauss2, N = 16: 9e-8; a wrong a: 1e-1
    fred = solve_fredholm(lambda x, s, lam: lam, ONE, (0.0, 1.0), 8, args=(0.5,))
    assert abs(fred.y[0] - 2.0) < 1e-12
    first = solve_first_kind(lambda t, s, c: c, lambda t, c: c * t, (0.0, 1.0), 16, "radau2",
                             args=(3.0,))
    assert np.max(np.abs(first.y - 1.0)) < 1e-12
    first = solve_volterra(lambda t, s, c: c, lambda t, c: c * t, (0.0, 1.0), 16, kind=1,
                           args=(3.0,))
    assert np.max(np.abs(first.y - 1.0)) < 1e-12


@pytest.mark.parametrize("flag, solver", [
    (flag, solver) for solver in ("volterra", "vide", "first-kind")
    for flag in ("error_estimate", "raise_on_failure", "fast_history")
    if (flag, solver) != ("fast_history", "vide")])      # (solve_vide has no fast history)
def test_a_flag_that_is_not_a_bool_is_refused(flag, solver):
    """A string is truthy: raise_on_failure="no" raised on a failure, error_estimate="False"
    estimated."""
    run = {"volterra": lambda **kw: solve_volterra(_stiff, ONE, (0.0, 1.0), 8, **kw),
           "vide": lambda **kw: solve_vide(lambda t, y, z: -y, None, 1.0, (0.0, 1.0), 8, **kw),
           "first-kind": lambda **kw: solve_first_kind(lambda t, s: 1.0, lambda t: t, (0.0, 1.0),
                                                       8, **kw)}[solver]
    with pytest.raises(TypeError, match=f"{flag} must be True or False, got 'no'"):
        run(**{flag: "no"})
    run(**{flag: np.bool_(False)})


def test_bad_args_are_refused_clearly():
    with pytest.raises(TypeError, match="must be a tuple"):
        solve_volterra(lambda t, s, y, a: -a * y, ONE, (0.0, 1.0), 8, args=2.0)
    with pytest.raises(TypeError, match="4 positional arguments"):
        solve_volterra(lambda t, s, y: -y, ONE, (0.0, 1.0), 8, args=(2.0,))
    with pytest.raises(TypeError, match="args\\[0\\]"):
        solve_volterra(lambda t, s, y, a: -y, ONE, (0.0, 1.0), 8, args=("x",))
    # a kernel object made with args, solved without: the message says where they go
    kernel = as_kernel(lambda t, s, y, a: -a * y, 1.0, 0.0, args=(2.0,))
    with pytest.raises(TypeError, match=r"pass args= to the solver too \(the kernel was made "
                                        r"with args=\(2\.0,\)"):
        solve_volterra(kernel, ONE, (0.0, 1.0), 8)
    assert solve_volterra(kernel, ONE, (0.0, 1.0), 8, args=(2.0,)).success


# -- 2. kernels that fail, change shape, or meet a degenerate mesh ----------------------------

class Boom(ValueError):
    pass


def _raising(t, s, y):
    if t > 0.5:
        raise Boom(f"K fails past t = 0.5: t = {t}")
    return -y


def _raising_vector(t, s, y):
    if t > 0.5:
        raise Boom(f"K fails past t = 0.5: t = {t}")
    return (-y[0], -y[1])


@pytest.mark.parametrize("method", ["rectangle", "trapezoid", "gregory6", "rk4", "gauss2", "radau3"])
def test_a_kernel_that_raises_reaches_the_user(method):
    """The user's own exception, raised from Python at the point where the compiled loop
    met it: its message shows the values (Numba's copy read "t = <object type:float64>")."""
    for K, g in ((_raising, ONE), (_raising_vector, lambda t: np.ones(2))):
        with pytest.raises(Boom, match=r"K fails past t = 0.5: t = 0\.[5-9]\d*(\n|$)") as info:
            solve_volterra(K, g, (0.0, 1.0), 16, method=method)
        t = float(info.value.args[0].rsplit("= ", 1)[1])
        notes = getattr(info.value, "__notes__", [])
        assert any(note.startswith(f"raised by K(t, s, y) at t = {t!r}, s = ") and
                   "inside a compiled solver loop" in note for note in notes) or \
            sys.version_info < (3, 11)


def test_raising_user_functions_in_every_solver():
    with pytest.raises(Boom):
        solve_vide(lambda t, y, z: -y + z, _raising, 1.0, (0.0, 1.0), 16, "gauss2")
    def f(t, y, z):
        if t > 0.5:
            raise Boom(f"f fails at t = {t}")
        return -y
    with pytest.raises(Boom, match=r"f fails at t = 0\.\d") as info:
        solve_vide(f, None, 1.0, (0.0, 1.0), 16, "rk4")
    assert any(n.startswith("raised by f(t, y, z) at t = ") for n in
               getattr(info.value, "__notes__", [])) or sys.version_info < (3, 11)
    with pytest.raises(Boom):
        solve_fredholm(_raising, ONE, (0.0, 1.0), 8)

    def k(t, s):
        if t > 0.5:
            raise Boom(f"k(t, s) fails at t = {t}")
        return 2.0
    with pytest.raises(Boom, match=r"k\(t, s\) fails at t = 0\.\d"):
        solve_first_kind(k, lambda t: t, (0.0, 1.0), 8)

    def k(u):
        if u > 0.5:
            raise Boom(f"k fails at u = {u}")
        return np.exp(-u)
    for fast in (True, False):
        with pytest.raises(Boom, match=r"k fails at u = 0\.\d"):
            solve_volterra(convolution(k), ONE, (0.0, 1.0), 16, "trapezoid", fast_history=fast)


class _Rate:
    """A rate kept on an object: its method, or the object itself, as the kernel."""

    def __init__(self, a):
        self.a = a

    def kernel(self, t, s, y):
        return -self.a * y

    def __call__(self, t, s, y):
        return -self.a * y

    def first_kind(self, t, s):
        return self.a


def _rate_kernel(t, s, y, a):
    return -a * y


def _rate_first_kind(t, s, a):
    return a


@pytest.mark.parametrize("how", ["bound method", "callable object", "partial", "ufunc"])
@pytest.mark.parametrize("solver", ["volterra", "vide", "fredholm", "first-kind"])
def test_callables_numba_cannot_compile_are_refused_with_advice(how, solver):
    """They raised AttributeError ('... has no attribute __code__') from deep inside; a NumPy
    ufunc (np.add as K(t, s)) raised "cannot create weak reference to 'numpy.ufunc' object"."""
    rate = _Rate(2.0)
    if solver == "first-kind":
        K = {"bound method": rate.first_kind, "callable object": rate,
             "partial": functools.partial(_rate_first_kind, a=2.0), "ufunc": np.add}[how]
    else:
        K = {"bound method": rate.kernel, "callable object": rate,
             "partial": functools.partial(_rate_kernel, a=2.0), "ufunc": np.multiply}[how]
    run = {"volterra": lambda: solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="gauss2"),
           "vide": lambda: solve_vide(lambda t, y, z: -y + z, K, 1.0, (0.0, 1.0), 8),
           "fredholm": lambda: solve_fredholm(K, lambda x: 1.0, (0.0, 1.0), 8),
           "first-kind": lambda: solve_volterra(K, lambda t: 2.0 * t, (0.0, 1.0), 8, kind=1)}[solver]
    with pytest.raises(TypeError, match=r"must be a function \(def or lambda.*args=\(\.\.\.\)"):
        run()


def test_integer_division_by_zero_raises_as_in_python():
    def K(t, s, y):
        n = int(4 * t)
        return -y * (1 // (n - 2) if t > 0 else 0.0)
    with pytest.raises(ZeroDivisionError):
        solve_volterra(K, ONE, (0.0, 1.0), 16, "trapezoid")


def test_output_length_is_checked_at_every_call():
    def K(t, s, y):
        if t > 0.5:
            return np.array([1.0])
        return np.array([-y[0], -y[1]])
    for method in ("gregory4", "gauss2"):
        with pytest.raises(ValueError, match="returned 1 values.*expected shape \\(2,\\)"):
            solve_volterra(K, lambda t: np.ones(2), (0.0, 1.0), 16, method=method)


@pytest.mark.parametrize("t_span", [(1e16, 1e16 + 4), (1e12, 1e12 + 1e-3)])
def test_meshes_that_do_not_resolve_are_refused(t_span):
    with pytest.raises(ValueError, match="do not resolve in floating point"):
        solve_volterra(lambda t, s, y: -y, ONE, t_span, 16)


@pytest.mark.parametrize("times", [np.array([0.0, 0.5, 1.0]) + 0j, [0.0, 0.5 + 1j, 1.0],
                                   ["0", "a", "1"], [0.0, [0.5, 0.7], 1.0]])
@pytest.mark.parametrize("name", ["mesh", "t_eval"])
def test_times_that_are_not_real_numbers_are_refused_naming_the_argument(times, name):
    """A complex mesh or t_eval was solved on its real parts (NumPy's ComplexWarning only),
    and other entries gave NumPy's errors ("could not convert string to float: 'a'")."""
    kw = {"mesh": times} if name == "mesh" else {"t_span": (0.0, 1.0), "n_steps": 8,
                                                 "t_eval": times}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=rf"^{name} must be .*\(real numbers\), got "):
            solve_volterra(lambda t, s, y: -y, ONE, method="gauss2", **kw)


def test_a_huge_interval_gives_finite_times_and_no_false_success():
    sol = solve_volterra(lambda t, s, y: -y, ONE, (0.0, 1e308), 16)
    assert np.all(np.isfinite(sol.mesh)) and not sol.success


@pytest.mark.parametrize("n_steps, kind", [(10 ** 9, MemoryError), (2 ** 63, ValueError),
                                           (10 ** 8, ValueError)])
def test_sizes_that_cannot_be_met_are_refused_before_allocating(n_steps, kind):
    with pytest.raises((kind, ValueError, MemoryError), match="n_steps"):
        solve_volterra(lambda t, s, y: -y, ONE, (0.0, 1.0), n_steps, "trapezoid")


@pytest.mark.parametrize("solver", ["volterra", "vide", "first-kind"])
def test_a_refused_work_makes_no_mesh_first(solver):
    """1e8 steps of an O(N^2) history need 5e15 kernel evaluations and are refused, but the
    800 MB uniform mesh was made first (2-10 s of writing memory before the refusal): the
    work is checked before the mesh is made (peak memory of the refusal below 80 MB)."""
    n = 10 ** 8
    calls = {"volterra": lambda: solve_volterra(lambda t, s, y: -y, ONE, (0.0, 1.0), n,
                                                "trapezoid"),
             "vide": lambda: solve_vide(lambda t, y, z: z, lambda t, s, y: -y, 1.0, (0.0, 1.0),
                                        n),
             "first-kind": lambda: solve_volterra(lambda t, s: 1.0 + t - s, lambda t: t,
                                                  (0.0, 1.0), n, kind=1)}
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="kernel evaluations"):
            calls[solver]()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 80e6


def test_fredholm_systems_that_cannot_fit_are_refused_at_once():
    start = time.monotonic()
    with pytest.raises(MemoryError, match="n_nodes = 1000000"):
        solve_fredholm(lambda x, s, y: y, ONE, (0.0, 1.0), 10 ** 6, rule="clenshaw-curtis")
    assert time.monotonic() - start < 5.0


def test_kernel_returning_nan_is_named():
    sol = solve_volterra(lambda t, s, y: np.sqrt(0.5 - t) * y, ONE, (0.0, 1.0), 16, "gauss2")
    assert not sol.success and "returned a non-finite value" in sol.message
    assert "K(t, s, y)" in sol.message and sol.t[-1] <= 0.5


@pytest.mark.parametrize("scalar", [True, False])
@pytest.mark.parametrize("method", ["trapezoid", "gauss2"])
def test_a_jacobian_that_raises_or_is_not_finite_is_named(scalar, method):
    """A raising Jacobian reached the user as Numba's copy ("t = <object type:float64>"), and a
    NaN one was reported as "Newton's method did not converge ... may blow up"."""
    y0 = 1.0 if scalar else np.ones(2)
    if scalar:
        def raising(t, s, y):
            if t > 0.5:
                raise Boom(f"the Jacobian fails at t = {t}")
            return -2.0 * y

        def nan_after(t, s, y):
            return np.nan if t > 0.5 else -2.0 * y
    else:
        def raising(t, s, y):
            if t > 0.5:
                raise Boom(f"the Jacobian fails at t = {t}")
            return np.diag(-2.0 * y)

        def nan_after(t, s, y):
            return np.diag(np.full(2, np.nan) if t > 0.5 else -2.0 * y)

    g = ONE if scalar else (lambda t: np.ones(2))
    with pytest.raises(Boom, match=r"fails at t = 0\.\d"):
        solve_volterra(as_kernel(lambda t, s, y: -y * y, y0, jacobian=raising), g, (0.0, 1.0),
                       32, method)
    sol = solve_volterra(as_kernel(lambda t, s, y: -y * y, y0, jacobian=nan_after), g,
                         (0.0, 1.0), 32, method)
    assert not sol.success
    assert sol.message.startswith("The Jacobian of K(t, s, y) returned a non-finite value")
    assert 0.5 < sol.t[-1] + 1e-12 and sol.t[-1] < 0.6


def test_a_wrong_jacobian_is_named_when_newton_fails():
    wrong = lambda t, s, y: -2000.0 * y  # noqa: E731  (dK/dy of -y^2 is -2y)
    sol = solve_volterra(as_kernel(lambda t, s, y: -y * y, 1.0, jacobian=wrong), ONE,
                         (0.0, 1.0), 32, "gauss2")
    assert not sol.success and "jacobian=" in sol.message
    sol = solve_fredholm(lambda x, s, y: 0.5 * x * s * y * y, lambda x: 1 - 0.25 * x,
                         (0.0, 1.0), 16, jacobian=lambda x, s, y: 1000 * x * s * y)
    assert not sol.success and "jacobian=" in sol.message
    sol = solve_volterra(lambda t, s, y: -y * y, ONE, (0.0, 1.0), 1, "gauss2",
                         error_estimate=False, newton_maxiter=1)     # differences: no hint
    assert sol.stats["failure"] == "newton" and "jacobian=" not in sol.message


def test_a_solve_without_its_estimate_says_it_is_unchecked():
    """rk4 at a step 30x past its stability limit "reached the end of the interval" with
    y(1) = 2.8e145 for e^-1000 and the same message as a checked solve."""
    stiff = lambda t, s, y: -1000.0 * y  # noqa: E731
    sol = solve_volterra(stiff, ONE, (0.0, 1.0), 32, "rk4", error_estimate=False)
    assert sol.success and "were not checked" in sol.message
    checked = solve_volterra(stiff, ONE, (0.0, 1.0), 32, "rk4")
    assert not checked.success and "no reliable digits" in checked.message
    assert "not checked" not in solve_volterra(stiff, ONE, (0.0, 1.0), 32, "radau3").message


def test_argument_order_warning():
    with pytest.warns(UserWarning, match="passed in the order \\(t, s, y\\)"):
        solve_volterra(lambda t, y, s: -y, ONE, (0.0, 1.0), 8)


def test_weakly_singular_kernels_are_refused_where_unsupported():
    ws = weakly_singular(lambda t, s, y: y, 0.5)
    with pytest.raises(ValueError, match="weakly singular"):
        solve_vide(lambda t, y, z: z, ws, 1.0, (0.0, 1.0), 8)
    with pytest.raises(ValueError, match="weakly singular"):
        solve_fredholm(ws, ONE, (0.0, 1.0), 8)
    with pytest.raises(ValueError, match="weakly singular"):
        solve_first_kind(ws, lambda t: t, (0.0, 1.0), 8)


def test_fredholm_evaluates_g_only_at_the_nodes():
    # g has a removable singularity at x = 0, which a Gauss rule never touches
    g = lambda x: np.sin(x) / x  # noqa: E731
    sol = solve_fredholm(lambda x, s: 0.0 * x, g, (0.0, 1.0), 8)
    assert sol.success and np.allclose(sol.y, np.sin(sol.x) / sol.x)


@pytest.mark.parametrize("field, error", [
    (lambda t, s: np.eye(3), ValueError),                  # 3 x 3 for d = 2
    (lambda t, s: 0.5, ValueError),                        # a scalar for d = 2
    (lambda t, s: np.full((2, 2), np.nan), ValueError),
    (lambda t, s: np.eye(2) * (1 + 1j), TypeError),
    (lambda t, s: np.eye(2) if t < 0.5 else np.eye(3), ValueError),
])
def test_network_weight_fields_are_checked(field, error):
    from integrallimits.networks import ResidualDense
    with pytest.raises(error):
        ResidualDense(field, np.zeros((8, 8, 2)), n_layers=8, d=2)


def test_disabled_jit_is_refused_in_one_sentence():
    code = ("from integrallimits import solve_volterra\n"
            "solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 8)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                         env=dict(os.environ, NUMBA_DISABLE_JIT="1"))
    assert out.returncode != 0 and "NUMBA_DISABLE_JIT" in out.stderr.strip().splitlines()[-1]


def test_ctrl_c_stops_a_compiled_solve(tmp_path):
    script = tmp_path / "long.py"
    script.write_text(textwrap.dedent("""
        import signal, sys, time
        signal.signal(signal.SIGINT, signal.default_int_handler)
        import numpy as np
        from integrallimits import solve_volterra
        K = lambda t, s, y: np.exp(s - t) * y * y
        solve_volterra(K, lambda t: 0.1, (0.0, 1.0), 64, "trapezoid")    # compile first
        print("started", flush=True)
        try:
            solve_volterra(K, lambda t: 0.1, (0.0, 1.0), 2 ** 16, "trapezoid")
            print("finished", flush=True)
        except KeyboardInterrupt:
            print("interrupted", flush=True)
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "started"
    time.sleep(1.0)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    line = proc.stdout.readline().strip()
    elapsed = time.monotonic() - sent
    proc.wait(timeout=60)
    assert line == "interrupted" and elapsed < 5.0


def test_ctrl_c_while_a_kernel_compiles_is_raised_not_lost():
    """Ctrl-C during the first call's compilation (3 s here with an empty cache): Numba and
    llvmlite run Python code from C callbacks (the object cache's notification, weakref
    callbacks), where Python prints a KeyboardInterrupt as "Exception ignored" and drops it.
    Sent 0.8-3.2 s into such a call: lost, and a radau4 solve of 2^14 steps ran on to its end
    (122 s); or a RuntimeError from Numba's cache ("no compiled object yet"); or a
    KernelCompilationError telling the user to rewrite a kernel that compiles.  Now it is held
    until the compilation ends and raised then.  (Here the signal arrives inside a weakref
    callback during the compilation of a kernel, as there.)"""
    import threading
    import weakref
    from integrallimits.kernels._kernel import _compile
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")

    class Part:
        pass

    def factory():
        part = Part()
        ref = weakref.ref(part, lambda _: signal.raise_signal(signal.SIGINT))
        del part           # the callback runs here: a KeyboardInterrupt in it is dropped
        return ref

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            _compile(factory, "K(t, s, y)", None)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert signal.getsignal(signal.SIGINT) is previous


def test_ctrl_c_while_a_package_loop_compiles_on_its_first_call_is_held_until_it_ends():
    """The package's own loops that compile on their first call from Python (no explicit
    signature) hold Ctrl-C as a user's kernel does: the compilation ends, then the interrupt
    is raised, and the loop is compiled for the next call.  An interrupt in the middle had
    aborted the compilation (no signature compiled) and, raised from Numba's C callbacks,
    could be lost.  (The signal arrives from a listener of Numba's compile event.)"""
    import threading
    from numba.core import event
    from integrallimits._numba import jit
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")

    class Interrupt(event.Listener):
        def on_start(self, event):
            signal.raise_signal(signal.SIGINT)

        def on_end(self, event):
            pass

    def loop(x):
        return x + 1

    dispatcher = jit(cache=False)(loop)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), \
                event.install_listener("numba:compile", Interrupt()):
            dispatcher(1)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert signal.getsignal(signal.SIGINT) is previous
    assert len(dispatcher.signatures) == 1          # the compilation ended
    assert dispatcher(2) == 3


# -- 3. unstable or unresolved discretisations are not success --------------------------------

# The kernels of section 3 are module functions, compiled once for all the methods and sizes
# (a lambda written in each test compiles again for every parametrization).
def _stiff(t, s, y):
    return -1000.0 * y


def _renewal(t, s, y):
    return (t - s) * np.exp(-(t - s)) * y


def _square(t, s, y):
    return y * y


@pytest.mark.parametrize("method, n", [("gregory8", 1024), ("gregory6", 512), ("gregory4", 256),
                                       ("rk4", 256), ("rectangle", 128)])
def test_stiff_unstable_rules_fail_and_keep_only_good_values(method, n):
    sol = solve_volterra(_stiff, ONE, (0.0, 1.0), n, method=method)
    assert not sol.success and "no reliable digits" in sol.message
    assert np.max(np.abs(sol.y)) <= 1.5 and sol.t_failure < 1.0
    with pytest.raises(SolverError):
        solve_volterra(_stiff, ONE, (0.0, 1.0), n, method=method, raise_on_failure=True)


def test_a_stable_method_on_the_stiff_problem_succeeds():
    sol = solve_volterra(_stiff, ONE, (0.0, 1.0), 64, method="radau4")
    assert sol.success and abs(sol.y[-1]) < 1e-10


@pytest.mark.parametrize("method, n", [("radau2", 48), ("gauss2", 32)])
def test_renewal_equation_at_coarse_steps_fails(method, n):
    K = _renewal
    sol = solve_volterra(K, ONE, (0.0, 100.0), n, method=method)
    assert not sol.success and np.max(np.abs(sol.y)) < 10
    fine = solve_volterra(K, ONE, (0.0, 100.0), 800, method=method)
    # y(t) = (2t + 3 + e^{-2t}) / 4 solves y = 1 + int (t-s) e^{-(t-s)} y ds (Laplace transform)
    error = abs(fine.y[-1] - (2 * 100 + 3) / 4)
    assert fine.success and error < 2e-3 * 50.75
    assert fine.error_estimate[-1] / 20 <= error <= 20 * fine.error_estimate[-1]


def _renewal_exact(t):
    return (2 * t + 3 + np.exp(-2 * t)) / 4


@pytest.mark.parametrize("method", [None, "trapezoid"])
def test_renewal_equation_to_a_tolerance_resolves_the_kernel(method):
    """The kernel of the renewal equation lives on a unit time scale; the error estimates
    compare coarser meshes, which all miss it alike: 8 trapezoid steps of 12.5 were accepted
    at rtol = atol = 1e-2 with y(100) = 1.0006 (exact 50.75) and an estimate of 2e-4, the
    default method (radau3) with 34 steps and 98 times the tolerance.  The first steps are
    now solved again on a 16 times finer mesh, and the solve starts over finer (error 0.2-0.9
    times the tolerance)."""
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), method=method, rtol=1e-2, atol=1e-2)
    exact = _renewal_exact(sol.t)
    assert sol.success and sol.t[-1] == 100.0
    assert np.all(np.abs(sol.y - exact) <= 2 * 1e-2 * (1 + exact))


@pytest.mark.parametrize("method", [None, "radau4"])
def test_stiff_transient_to_a_tolerance_is_resolved(method):
    """y = 1 - 1000 int y: radau3/radau4 were accepted on 4 steps of 0.25 at rtol = atol = 1e-3
    with y(0.25) = 1.1e-2 and -1.4e-2 (exact e^-250), 11 and 14 times the tolerance, where the
    estimate borrowed from the neighbouring points was 1.3e-4 and 6e-5."""
    sol = solve_volterra(_stiff, ONE, (0.0, 1.0), method=method, rtol=1e-3, atol=1e-3)
    assert sol.success
    assert np.all(np.abs(sol.y - np.exp(-1000.0 * sol.t)) <= 2 * 1e-3 * (1 + np.exp(-1000.0 * sol.t)))


def test_stiff_vide_to_a_tolerance_is_resolved():
    """y' = -1000 y: radau3 was accepted on 8 steps at rtol = atol = 1e-3 with 21 times the
    tolerance (the VIDE driver had no look at a finer mesh either)."""
    sol = solve_vide(lambda t, y, z: -1000.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0),
                     method="radau3", rtol=1e-3, atol=1e-3)
    exact = np.exp(-1000.0 * sol.t)    # (now 3.7 times the tolerance at most, on 348 steps)
    assert sol.success and np.all(np.abs(sol.y - exact) <= 5 * 1e-3 * (1 + exact))


def test_a_restarted_adaptive_solve_that_refines_twice_finishes():
    """The restart of a step-controlled solve (radau3, renewal at 0.1) took a path with no
    uniform try, and its second global check raised TypeError (len of None)."""
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), method="radau3", rtol=0.1, atol=0.1)
    exact = _renewal_exact(sol.t)
    assert sol.success and np.all(np.abs(sol.y - exact) <= 0.1 * (1 + exact))


def _smooth(t, s, y):
    return -(1.0 + t * s) * y * y


@pytest.mark.parametrize("method", ["radau3", "gauss2", "gauss4", "rk4", "trapezoid", "gregory4",
                                    "gregory8"])
def test_the_resolution_check_runs_only_where_a_probe_suspects_a_short_time_scale(method,
                                                                                  monkeypatch):
    """The check's solve of 32 short steps cost 2-100 times a whole smooth solve at loose
    tolerances; it runs when the first step is stiff or the kernel varies within it (the
    probes, d + 18 evaluations, counted in nfev), which the renewal and stiff problems do
    and a smooth problem at 1e-3 ... 1e-12 does not."""
    from integrallimits.volterra import _tolerance
    calls = []
    real = _tolerance.first_steps_check
    monkeypatch.setattr(_tolerance, "first_steps_check",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    tolerances = [1e-3, 1e-6] if method == "trapezoid" else [1e-3, 1e-6, 1e-9, 1e-12]
    for tol in tolerances:
        sol = solve_volterra(_smooth, ONE, (0.0, 1.0), method=method, rtol=tol, atol=tol)
        assert sol.success
    assert calls == []
    # the problems whose first steps were accepted unresolved (the tests above) are checked
    # (the trapezoid rule on the renewal equation, refined uniformly, no longer accepts its
    # coarse meshes, whose levels drift apart, and reaches a resolving one unchecked)
    for K, T, checked in ((_renewal, 100.0, "radau3"), (_stiff, 1.0, "radau3")):
        calls.clear()
        solve_volterra(K, ONE, (0.0, T), method=checked, rtol=1e-2, atol=1e-2)
        assert calls, (K.__name__, checked)


def test_first_steps_that_stay_unresolved_fail_and_keep_the_start(monkeypatch):
    """When the finer solve of the first steps still disagrees after two restarts on finer
    meshes, the solve fails there (here forced: no agreement is enough), and says so by
    raising with ``raise_on_failure``.  (radau3's first steps are suspected by the probe
    that decides the check; radau2's, which this test used for the raise, no longer are
    since the differences of K in t divide its steps: its first step is 8 times longer, the
    probe does not suspect it, and its answer meets the goal, 1.08 times the tolerance.)"""
    from integrallimits.volterra import _tolerance
    monkeypatch.setattr(_tolerance, "AGREE", -1.0)
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), method="radau3", rtol=1e-2, atol=1e-2)
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert "do not resolve the solution near t = 0" in sol.message
    assert len(sol.t) == 1 and sol.y[0] == 1.0 and sol.t_failure > 0
    with pytest.raises(SolverError, match="do not resolve"):
        solve_volterra(_renewal, ONE, (0.0, 100.0), method="radau3", rtol=1e-2, atol=1e-2,
                       raise_on_failure=True)


@pytest.mark.parametrize("method, n", [("rectangle", 16), ("rectangle", 256), ("rk4", 4), ("rk4", 64),
                                       ("trapezoid", 64), ("radau2", 64)])
def test_blow_up_fails_and_keeps_no_values_past_it(method, n):
    """y = 1 + int_0^t y^2 = 1/(1 - t) blows up at t = 1: nothing past it is kept (the issue's
    rk4 kept 3.2e12 and 1.5e173, the rectangle rule 15 values up to 2.9e291), and where the
    solution is resolved (t <= 1/2) the kept values are right to their error estimate."""
    sol = solve_volterra(_square, ONE, (0.0, 2.0), n, method=method)
    assert not sol.success and sol.t_failure is not None and sol.t_failure <= (2.0 if n == 4 else 1.25)
    assert sol.t[-1] <= 1.0 and np.max(np.abs(sol.y)) < 1e3
    early = sol.t <= 0.5
    error = np.abs(sol.y[early] - 1.0 / (1.0 - sol.t[early]))
    assert np.all(error <= 20 * sol.error_estimate[early] + 1e-12)


def test_stiff_vide_with_an_explicit_method_fails():
    sol = solve_vide(lambda t, y, z: -1000.0 * y + z, lambda t, s, y: np.exp(s - t) * y, 1.0,
                     (0.0, 1.0), 64, "rk4")
    assert not sol.success and np.max(np.abs(sol.y)) < 2


@pytest.mark.parametrize("method", ["trapezoid", "rectangle", "radau3", "gauss2", "rk4"])
@pytest.mark.parametrize("n", [8, 16])
def test_a_fixed_mesh_that_misses_the_kernels_time_scale_is_not_a_success(method, n):
    """Renewal on [0, 100] with 8 or 16 steps was a success with y(100) near 1 (exact 50.75)
    and estimates of 2e-4 ... 0.07 (the companions on coarser meshes miss the kernel alike):
    the finer solve of the first steps disagrees by more than the solution's size."""
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), n_steps=n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    # (the levels of the check drift apart, 3e-3 ... 0.1 of the size and growing: found before
    # the finer solve of the first steps, whose ratio, resolution_check, was 20-1e4 here)
    assert "no reliable digits" in sol.message
    assert sol.stats.get("resolution_check", math.inf) > 20 or "do not converge" in sol.message
    assert np.all(np.abs(sol.y - _renewal_exact(sol.t)) <= 20 * sol.error_estimate + 1e-13)


@pytest.mark.parametrize("method", ["rectangle", "trapezoid", "radau1", "implicit-rectangle"])
def test_a_finer_check_that_misses_the_time_scale_too_does_not_confirm_a_single_step(method):
    """Renewal on [0, 100] in one step: y(100) = 1.0 (exact 50.75).  The check of the first
    steps solved the step again on 16 steps of 6.25, still long against the kernel's unit time
    scale, which differed by only 0.082: the answer was a success with that as its estimate.
    Before the estimates are raised to such a difference, a solve on 256 steps checks it."""
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), n_steps=1, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert "256 times shorter steps" in sol.message
    assert np.all(np.abs(sol.y - _renewal_exact(sol.t)) <= 20 * sol.error_estimate + 1e-13)


@pytest.mark.parametrize("method, n", [("radau3", 8), ("radau3", 16), ("radau3", 64),
                                       ("radau4", 8), ("radau4", 64), ("gauss2", 8),
                                       ("gauss2", 16)])
def test_a_fixed_mesh_estimate_on_a_stiff_start_bounds_the_error(method, n):
    """y = 1 - 1000 int y on [0, 1]: the estimates of radau3, radau4 and gauss2 on 8 to 64
    steps were 26-215 times below the error (of the first step, where the transient is).  Now
    the L-stable methods keep their answer with the estimate raised to the finer solve's
    difference, and gauss2 (no digit at the first step) fails there."""
    sol = solve_volterra(_stiff, ONE, (0.0, 1.0), n_steps=n, method=method)
    err = np.abs(sol.y - np.exp(-1000.0 * sol.t))
    assert sol.success == method.startswith("radau"), sol.message
    assert np.all(err <= 20 * sol.error_estimate + 1e-13)
    if sol.success:
        assert "estimates were multiplied" in sol.message
        assert sol.stats["max_error_estimate"] == pytest.approx(np.max(sol.error_estimate))


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gregory8", "radau3", "gauss4", "rk4"])
def test_a_fixed_mesh_estimate_is_checked_only_where_a_probe_suspects_it(method, monkeypatch):
    """On a smooth problem the fixed-mesh solve costs the probes (d + 8 evaluations, in nfev)
    and no finer solve; its values are those of the unchecked solve."""
    from integrallimits.volterra import _tolerance
    calls = []
    real = _tolerance._finer_start
    monkeypatch.setattr(_tolerance, "_finer_start", lambda *a, **k: calls.append(1) or real(*a, **k))
    for n in (16, 64, 256):
        sol = solve_volterra(_smooth, ONE, (0.0, 1.0), n_steps=n, method=method)
        plain = solve_volterra(_smooth, ONE, (0.0, 1.0), n_steps=n, method=method,
                               error_estimate=False)
        assert sol.success and np.array_equal(sol.y, plain.y)
        assert "resolution_check" not in sol.stats
    assert calls == []
    sol = solve_volterra(_renewal, ONE, (0.0, 100.0), n_steps=16, method=method)
    assert not sol.success and len(sol.t) == 1
    # (Gregory rules: the companion already finds no digit at the first step, nothing to check;
    # gauss4: it differs by more than a tenth of the size from t = 12.5 on, ahead of its
    # failure at 37.5, and the failed solve keeps no value of that run, so none but y(t0); the
    # others: the levels of the check drift apart, found before the finer solve)
    assert not calls and "no reliable digits" in sol.message


def _abel(t, s, y, lam):
    return -lam * y


def _abel_exact(t, lam):
    """y = 1 - lam int_0^t (t - s)^(-1/2) y ds: y = E_(1/2)(-lam sqrt(pi t)) = erfcx(lam sqrt(pi t))."""
    from scipy.special import erfcx
    return erfcx(lam * np.sqrt(np.pi * t))


def _graded_abel(method, lam, n):
    from integrallimits.volterra import graded_mesh, grading_exponent
    m = int(method[-1])
    return solve_volterra(weakly_singular(_abel, 0.5), lambda t, lam: 1.0,
                          mesh=graded_mesh(1.0, n, grading_exponent(m + 0.5, 0.5)),
                          method=method, args=(lam,))


@pytest.mark.parametrize("method, lam, n", [("radau2", 300.0, 4), ("radau2", 300.0, 16),
                                            ("radau2", 1e4, 64), ("radau4", 1e4, 4),
                                            ("radau4", 100.0, 8), ("gauss4", 1e4, 16),
                                            ("radau4", 1.0, 4), ("gauss4", 1.0, 4),
                                            ("radau3", 1e4, 128)])
def test_a_weakly_singular_estimate_on_a_graded_mesh_bounds_the_error(method, lam, n):
    """y = 1 - lam int (t-s)^(-1/2) y ds on graded meshes: the estimates were 2 to 2240 times
    below the error (the stiff transient near t = 0 missed alike by the coarser meshes; and on
    4 steps the solves on 4, 2, 1 steps far from their order).  The check of the first steps
    and the observed rate keep the error within 1.5 times the estimate."""
    sol = _graded_abel(method, lam, n)
    err = np.max(np.abs(sol.y - _abel_exact(sol.t, lam)))
    assert sol.success, sol.message
    assert err <= 1.5 * sol.stats["max_error_estimate"]
    assert sol.stats["max_error_estimate"] <= 20 * err          # (and not far above it)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_a_weakly_singular_estimate_is_checked_only_where_the_probe_suspects_it(method,
                                                                                monkeypatch):
    """The check solves again only where a first step spans more than STIFF of the linearised
    problem's time scale: lam = 1 on graded meshes (first steps spanning 1e-3 or less) runs
    none; lam = 1e4 does, with d + 1 evaluations of the probe counted in nfev."""
    from integrallimits.volterra import _tolerance
    calls = []
    real = _tolerance._finer_start
    monkeypatch.setattr(_tolerance, "_finer_start", lambda *a, **k: calls.append(1) or real(*a, **k))
    sol = _graded_abel(method, 1.0, 16)
    assert sol.success and "resolution_check" not in sol.stats and calls == []
    sol = _graded_abel(method, 1e4, 16)
    assert sol.success and "resolution_check" in sol.stats and calls == [1]


@pytest.mark.parametrize("lam", [100.0, 1e4])
def test_a_weakly_singular_solve_to_a_tolerance_sees_its_stiff_start(lam):
    """radau2 at rtol = atol = 1e-3 accepted 8 graded steps with errors 20 and 78 times the
    estimate (9.3e-3 and 1.6e-3 against the tolerance 1e-3): the estimate grew on the next
    meshes (5.1, 7.9, 12 times the tolerance at lam = 100 was taken for rounding errors)."""
    sol = solve_volterra(weakly_singular(_abel, 0.5), lambda t, lam: 1.0, (0.0, 1.0),
                         method="radau2", rtol=1e-3, atol=1e-3, args=(lam,))
    err = np.abs(sol.y - _abel_exact(sol.t, lam))
    assert sol.success, sol.message
    assert np.max(err) <= 1.5 * sol.stats["max_error_estimate"]
    assert np.all(err <= 1e-3 * (1.0 + np.abs(sol.y)))


def test_the_finer_start_of_a_graded_mesh_is_the_graded_mesh_of_more_steps():
    """Dividing the steps in the graded coordinate nests: the first k steps of the graded
    mesh of N steps, each divided into 16, are the first 16 k steps of the one of 16 N."""
    from types import SimpleNamespace

    from integrallimits.volterra import _tolerance, graded_mesh
    t = graded_mesh(2.0, 8, 5.0)
    seen = []

    def run(mesh):
        seen.append(mesh)
        return SimpleNamespace(Y=np.zeros((len(mesh), 1)), status=0, counts=np.zeros(4, int))
    sol = SimpleNamespace(mesh=t, stats={})
    _tolerance._finer_start(run, sol, False, 1, 3, grading=5.0)
    fine = graded_mesh(2.0, 128, 5.0)[:49]
    assert np.allclose(seen[0], fine, rtol=1e-12, atol=0) and np.all(seen[0][::16] == t[:4])


def _decay(t, s, y):
    return -y


def test_a_mesh_is_the_solutions_own_and_may_be_read_only():
    """solve_volterra(mesh=m) kept m itself as sol.t: m edited afterwards moved the mesh under
    the values (sol(0.55) changed by 0.18); a read-only m raised Numba's "No matching
    definition".  The same for solve_vide and solve_first_kind (one mesh helper)."""
    m = np.linspace(0.0, 1.0, 9)
    sol = solve_volterra(_decay, lambda t: 1.0, mesh=m)
    y = sol(0.55)
    m[:] = np.linspace(0.0, 2.0, 9)
    assert sol.t[-1] == 1.0 and sol(0.55) == y
    frozen = np.linspace(0.0, 1.0, 9)
    frozen.setflags(write=False)
    again = solve_volterra(_decay, lambda t: 1.0, mesh=frozen)
    assert np.array_equal(again.y, sol.y)
    assert solve_vide(lambda t, y, z: z - y, lambda t, s, y: 0.5 * y, 1.0, mesh=frozen).success
    assert solve_first_kind(lambda t, s: 1.0 + t - s, lambda t: t, mesh=frozen, method="midpoint").success


@pytest.mark.parametrize("method, n", [("trapezoid", 64), ("trapezoid", 256), ("gregory4", 64),
                                       ("gregory4", 256), ("gregory6", 64)])
def test_the_estimate_at_t_eval_covers_the_interpolation_between_mesh_points(method, n):
    """Direct rules interpolate their mesh values between the mesh points; the estimate at a
    ``t_eval`` point was only the larger of its neighbours' mesh estimates, near 0 between t0
    and t1 while interpolating loses O(h^k) there: y = 1 - int y on [0, 2] had errors 25-98
    times the estimate (trapezoid, N = 64, 256), 26-98 (gregory4), 29 (gregory6, N = 64).  It
    now adds the interpolant's difference to the one with a node more (at most 2.8 times)."""
    t_eval = np.linspace(0.0, 2.0, 4001)
    sol = solve_volterra(_minus_y, lambda t: 1.0, (0.0, 2.0), n, method=method, t_eval=t_eval)
    assert sol.success
    error = np.abs(sol.y - np.exp(-t_eval))
    assert np.all(error <= 4.0 * sol.error_estimate)


def _minus_y(t, s, y):
    return -y


# Kernels of parametrized tests, defined once: a kernel made inside a test is a new function
# each time, compiled again for every parameter (about a second each).

def _minus_y_squared(t, s, y):
    return -y * y


def _minus_half_over_y(t, s, y):
    return -0.5 / y


def _decay_50(t, s, y):
    return -50.0 * y


def _grow(t, s, y):
    return y


def _grow_twice(t, s, y):
    return 2.0 * y


def _oscillating_memory(t, s, y):
    return -900.0 * (t - s) * y


def _smooth_decay_squared(t, s, y):
    return -(1.0 + t * s) * math.exp(s - t) * y * y


def _fading_memory(t, s, y, c):
    return math.exp(-c * (t - s)) * y


def _exp_difference(t, s):
    return np.exp(t - s)


def _vide_grow(t, y, z):
    return y


def _vide_z(t, y, z, w):
    return z


def _vide_growing_memory(t, s, y, w):
    return w * w * y


def _decaying_factor(t, s, y, lam):
    return -y * np.exp(-lam * (t - s))


def _decaying_forcing(t, lam):
    """y = 1 solves y = g - int (t-s)^(-1/2) e^(-lam (t-s)) y ds with this g."""
    from scipy.special import erf
    return 1.0 + np.sqrt(np.pi / lam) * erf(np.sqrt(lam * t))


def _oscillating_factor(t, s, y, om):
    return -y * np.cos(om * (t - s))


def _oscillating_forcing(t, om):
    """y = 1 solves y = g - int (t-s)^(-1/2) cos(om (t-s)) y ds with this g (Fresnel C)."""
    from scipy.special import fresnel
    return 1.0 + np.sqrt(2.0 * np.pi / om) * fresnel(np.sqrt(2.0 * om * t / np.pi))[1]


@pytest.mark.parametrize("k, g, par, method, graded, n", [
    (_decaying_factor, _decaying_forcing, 1e3, "gauss2", False, 8),
    (_decaying_factor, _decaying_forcing, 1e3, "gauss4", True, 16),
    (_decaying_factor, _decaying_forcing, 1e4, "gauss3", False, 64),
    (_oscillating_factor, _oscillating_forcing, 100.0, "radau1", False, 16),
    (_oscillating_factor, _oscillating_forcing, 1000.0, "radau3", True, 4)])
def test_a_weakly_singular_estimate_sees_a_smooth_factor_that_varies_within_the_steps(
        k, g, par, method, graded, n):
    """K = (t-s)^(-1/2) k with k = -e^(-lam (t-s)) y or -cos(om (t-s)) y (exact y = 1): the
    rule misses the kernel's integral over every step alike on every coarser mesh, and the
    stiffness probe (|dk/dy| = 1) sees nothing.  The errors were 26 to 3e10 times the
    estimate (gauss2, lam = 1e3, 8 uniform steps: 0.053 against 3.4e-12; radau3, om = 1000,
    4 graded steps: 0.61 against 2.7e-3); the rule's miss over each step now raises the
    estimates, or fails the solve where it has no digit (the kept values estimated alike)."""
    from integrallimits.volterra import graded_mesh, grading_exponent
    m = int(method[-1])
    mesh = graded_mesh(1.0, n, grading_exponent(m + 0.5, 0.5)) if graded else \
        np.linspace(0.0, 1.0, n + 1)
    sol = solve_volterra(weakly_singular(k, 0.5), g, mesh=mesh, method=method, args=(par,))
    err = np.max(np.abs(sol.y - 1.0))
    assert len(sol.t) > 1 and err <= 2.0 * sol.stats["max_error_estimate"]


def _renewal_factor(t, s, y):
    return (t - s) * np.exp(-(t - s)) * y


@pytest.mark.parametrize("method, n", [("gauss3", 16), ("radau3", 8)])
def test_a_weakly_singular_renewal_kernel_on_long_steps_is_estimated(method, n):
    """y = 1 + int (t-s)^(-1/2) (t-s) e^(-(t-s)) y ds on [0, 100] (y -> 8.79) on graded
    meshes: the late steps (up to 36 long) miss the kernel's mass, y decays to 0, and the
    estimates were 80 (gauss3, 16 steps) and 50 (radau3, 8 steps) times below the error
    (|dk/dy| = 0 at t = s: no stiffness to probe).  Now the solve fails where a step's rule
    misses more than half the solution, and the estimates of the values kept hold the error
    within 7 times (the misses are raised to; the renewal amplifies them)."""
    import mpmath

    from integrallimits.volterra import graded_mesh
    sol = solve_volterra(weakly_singular(_renewal_factor, 0.5), lambda t: 1.0,
                         mesh=graded_mesh(100.0, n, 7.0), method=method)
    exact = [1.0] + [float(mpmath.invertlaplace(
        lambda p: 1 / (p * (1 - mpmath.gamma(1.5) * (p + 1) ** -1.5)), float(x), method="talbot"))
        for x in sol.t[1:]]
    err = np.abs(sol.y - np.array(exact))
    assert len(sol.t) > 1 and np.max(err) <= 10.0 * sol.stats["max_error_estimate"]


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_a_smooth_factor_is_not_integrated_again(method, monkeypatch):
    """The variation probe (5 evaluations of k per step) computes no reference integral on
    smooth factors: Abel's k = -lam y and k = -cos(t - s) y."""
    from integrallimits.volterra import _tolerance
    calls = []
    real = _tolerance._singular_integral
    monkeypatch.setattr(_tolerance, "_singular_integral",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    for lam in (1.0, 1e4):
        sol = _graded_abel(method, lam, 16)
        assert sol.success and "step_defect" not in sol.stats
    sol = solve_volterra(weakly_singular(lambda t, s, y: -np.cos(t - s) * y, 0.5),
                         lambda t: 1.0, (0.0, 1.0), 16, method=method)
    assert sol.success and "step_defect" not in sol.stats
    assert calls == []


@pytest.mark.parametrize("lam, most", [(100.0, 128), (1e3, 256)])
def test_a_weakly_singular_solve_to_a_tolerance_refines_in_proportion(lam, most):
    """radau2 on y = 1 - lam int (t-s)^(-1/2) y ds at rtol = atol = 1e-3: the estimates of the
    first meshes fall at an order of 0.3-0.5 (the transient being resolved), and the
    prediction jumped 16 times: 24 -> 186 steps (lam = 100; 48 meet the tolerance) and
    48 -> 768 (lam = 1e3; 128 meet it).  At most 4 times per refinement: 96 and 192."""
    sol = solve_volterra(weakly_singular(_abel, 0.5), lambda t, lam: 1.0, (0.0, 1.0),
                         method="radau2", rtol=1e-3, atol=1e-3, args=(lam,))
    err = np.abs(sol.y - _abel_exact(sol.t, lam))
    assert sol.success, sol.message
    assert len(sol.t) - 1 <= most
    assert np.all(err <= 1e-3 * (1.0 + np.abs(sol.y)))


def _square(t, s, y):
    return y * y


@pytest.mark.parametrize("method, n", [("gauss4", 7), ("radau3", 7), ("gregory4", 15),
                                       ("gregory6", 15), ("rk4", 7)])
def test_the_last_value_of_an_odd_number_of_steps_has_its_own_estimate(method, n):
    """y = 1 + int y^2 = 1 / (1 - t) on [0, 0.875]: with an odd N the last value took the
    estimate of the point before (the companion shares or leaves out the last step), whose
    error is far smaller where the solution steepens (errors 130, 16, 8.6, 28 and 8.8 times
    the estimate; now 1.3, 0.23, 1.1, 3.8 and 2.7)."""
    sol = solve_volterra(_square, ONE, (0.0, 0.875), n, method=method)
    error = np.abs(sol.y - 1.0 / (1.0 - sol.t))
    assert sol.success
    assert error[-1] > 1e-10
    assert error[-1] <= 5.0 * sol.error_estimate[-1]


def test_a_failed_solve_does_not_keep_an_unchecked_value_ahead_of_a_blow_up():
    """y = 1 + int y^2 on [0, 2] (blow-up at t = 1), gauss4 on 8 steps: Newton fails at t = 1
    and the values up to 0.75 are kept; the one at 0.75 had the estimate of 0.5 (5.8e-9 for an
    error of 7.5e-7)."""
    sol = solve_volterra(_square, ONE, (0.0, 2.0), 8, method="gauss4")
    assert not sol.success
    error = np.abs(sol.y - 1.0 / (1.0 - sol.t))
    assert np.all(error <= 2.0 * sol.error_estimate)


def _cube(t, s, y):
    return 2.0 * y ** 3


@pytest.mark.parametrize("n", [32, 64])
def test_a_blow_up_that_the_solution_jumps_is_not_a_success(n):
    """y = 1 + int 2 y^3 = 1 / sqrt(1 - 4 t) blows up at t = 1/4; radau2 on [0, 0.5] was a
    success with y(0.5) = 15.6 and 22.1 (estimates 7.4 and 0.92) on 32 and 64 steps: the
    half-steps companion failed in Newton at 0.25 and the one with twice the steps jumped
    the singularity too (32), or the solve on every fourth point failed there and the order
    was taken on trust (64).  A companion that fails where the solution passed leaves it
    unchecked from there: only values before t* are kept, right to their estimates.

    On 64 steps, the step that ends at t* = 0.25 puts Radau's last stage on t*, where y is
    infinite.  Where Newton's method finds a root there (as when this test was written), the
    solve passes t* and the companion's failure leaves it unchecked; on the machine of
    branch trust-26 it fails at t* in the solve itself, deterministically, at every commit
    since the test came (6be5c5e, main 9b9c98d, lead-26; an empty Numba cache and
    NUMBA_CPU_NAME=generic alike), keeping the values up to 0.242 (errors within 1.6 times
    their estimates).  Both are honest failures: not a success, no value kept at or past t*,
    the values kept right to their estimates, SolverError with ``raise_on_failure``."""
    sol = solve_volterra(_cube, ONE, (0.0, 0.5), n, method="radau2")
    assert not sol.success and sol.stats["failure"] in ("unchecked", "newton"), sol.message
    said = {"unchecked": "could not be checked",
            "newton": "Newton's method did not converge at t = 0.25"}[sol.stats["failure"]]
    assert said in sol.message and sol.t_failure <= 0.25
    if n == 32:
        assert sol.stats["failure"] == "unchecked"    # (its solve passes t* everywhere)
    assert sol.t[-1] < 0.25
    error = np.abs(sol.y - 1.0 / np.sqrt(1.0 - 4.0 * sol.t))
    assert np.all(error <= 2.0 * sol.error_estimate + 1e-12)
    with pytest.raises(SolverError, match="could not be checked|Newton's method did not"):
        solve_volterra(_cube, ONE, (0.0, 0.5), n, method="radau2", raise_on_failure=True)


@pytest.mark.parametrize("kernel, T, t_star, exponent, method, n", [
    (_square, 1.2, 1.0, 1.0, "rk4", 12), (_square, 1.2, 1.0, 1.0, "rk4", 48),
    (_square, 1.2, 1.0, 1.0, "rectangle", 16), (_cube, 0.5, 0.25, 0.5, "rk4", 8),
    (_cube, 0.5, 0.25, 0.5, "rectangle", 16), (_cube, 0.5, 0.25, 0.5, "gregory4", 64),
    (_cube, 0.5, 0.25, 0.5, "gauss1", 16), (_cube, 0.5, 0.25, 0.5, "radau4", 8)])
def test_a_failed_solve_keeps_no_value_at_or_past_the_blow_up(kernel, T, t_star, exponent,
                                                              method, n):
    """At the blow-up time t* the solutions on h and 2h steps grow like h^(-beta) (beta the
    exponent of the blow-up), so they differ by 1 - 2^(-beta) of the size, 0.29 or 0.5, within
    the half of it that has no reliable digit: failed solves kept y(t*) (rk4 on y = 1 + int y^2
    over [0, 1.2] on 12 steps kept y(1) = 82 with an estimate of 2.7; 93 of 330 failed solves
    of the two blow-ups over 15 methods and 8 to 256 steps kept t*, the rectangle rule up to
    0.3125 for t* = 0.25).  The run of points before the failure where the two disagree by
    more than a tenth of the size is not kept, and what is kept is right to its estimate."""
    sol = solve_volterra(kernel, ONE, (0.0, T), n, method=method)
    assert not sol.success and sol.t[-1] < t_star
    exact = (1.0 - sol.t / t_star) ** -exponent
    assert np.all(np.abs(sol.y - exact) <= 5.0 * sol.error_estimate + 1e-12)


@pytest.mark.parametrize("method", ["rk4", "gauss2", "radau3"])
def test_a_step_controlled_solve_that_meets_a_blow_up_keeps_no_value_past_it(method):
    """y = 1 + int y^2 on [0, 2] to rtol = atol = 1e-6: the controlled pass ends where its
    step collapses, at t = 1.0000002 for rk4, and kept every value up to there (past the
    blow-up at 1, |y| = 2.6e7), whatever the global estimate said of them.  The values it
    does not confirm (the run before the failure where it disagrees by a tenth of the size)
    are not kept; those kept are right to their estimates."""
    sol = solve_volterra(_square, ONE, (0.0, 2.0), method=method, rtol=1e-6, atol=1e-6)
    assert not sol.success and sol.stats["failure"] == "blow-up"
    assert abs(sol.t_failure - 1.0) < 1e-6 and sol.t[-1] < 1.0
    error = np.abs(sol.y - 1.0 / (1.0 - sol.t))
    assert np.all(error <= 5.0 * sol.error_estimate + 1e-12)


def _cos200(t, s, y):
    return math.cos(200.0 * (t - s)) * y


def _cos200_exact(t):
    """y = 1 + int_0^t cos(200 (t - s)) y ds, by Laplace: Y = (p^2 + w^2) / (p (p^2 - p + w^2))."""
    roots = np.roots([1.0, -1.0, 200.0 ** 2])
    value = np.ones_like(np.asarray(t, dtype=float), dtype=complex)
    for k in range(2):
        r, other = roots[k], roots[1 - k]
        value = value + (r * r + 200.0 ** 2) / (r * (r - other)) * np.exp(r * np.asarray(t))
    return value.real


@pytest.mark.parametrize("method, n", [("trapezoid", 4), ("trapezoid", 8), ("rk4", 4),
                                       ("gregory4", 8)])
def test_a_kernel_aliased_on_the_mesh_is_not_a_success(method, n):
    """cos(200 (t - s)) on steps of 1/8 or 1/4: 200 h / 4 is 2 pi k - 0.03...0.07, so the kernel
    has the same value at every equispaced sample of the probe and of every nested mesh; the
    solve was a success with y(1) = 2.42 for 0.993 and an estimate of 5e-4."""
    sol = solve_volterra(_cos200, ONE, (0.0, 1.0), n, method=method)
    assert not sol.success
    error = np.abs(sol.y - _cos200_exact(sol.t))
    assert np.all(error <= 5.0 * sol.error_estimate + 1e-12)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4"])
def test_a_kernel_aliased_on_the_first_mesh_is_solved_to_the_tolerance(method):
    """The same kernel to rtol = atol = 1e-3: accepted on 8 steps with 715 times the tolerance."""
    sol = solve_volterra(_cos200, ONE, (0.0, 1.0), method=method, rtol=1e-3, atol=1e-3)
    assert sol.success
    exact = _cos200_exact(sol.t)
    assert np.all(np.abs(sol.y - exact) <= 1e-3 * (1.0 + np.abs(exact)))


def _oscillator(t, s, y, w):
    return -w * w * (t - s) * y


def _one_w(t, w):
    return 1.0


@pytest.mark.parametrize("method, w, n", [("gauss4", 10.0, 4), ("gauss3", 10.0, 4),
                                          ("radau2", 10.0, 2), ("radau3", 10.0, 2),
                                          ("radau2", 30.0, 2), ("radau3", 30.0, 5),
                                          ("radau3", 30.0, 6), ("radau4", 30.0, 4),
                                          ("radau4", 30.0, 3), ("radau3", 30.0, 4)])
def test_an_oscillation_on_steps_longer_than_its_period_is_not_a_success(method, w, n):
    """y = 1 - w^2 int (t - s) y ds = cos(w t) on [0, 2] with w h = 5 to 30: the solves were
    successes with errors of 0.6 to 5.6 and estimates of 1e-3 to 5e-2 (every nested mesh
    misses the oscillation alike).  The probe of the kernel's second-order time scale,
    1 / sqrt|d^2 K / dt dy| = 1 / w, says the steps are long against it, and the first steps
    solved again with 16 times shorter ones have no digit in common with the answer.

    radau4 on 3 steps and radau3 on 4 (w = 30) stayed successes with errors of 1.0 and 0.77
    for estimates of 0.47, raised so by the finer solve of the first steps (whose first
    value happened to be near): the solutions on 1, 2 and 3 or 4 steps agreed by chance.
    Where the mesh of every fourth point is a single step, the solve with every step
    bisected is a level of the convergence check too, and differs from the answer by 1.7."""
    sol = solve_volterra(_oscillator, _one_w, (0.0, 2.0), n, method=method, args=(w,))
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert "no reliable digits" in sol.message
    error = np.abs(sol.y - np.cos(w * sol.t))
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-13)


@pytest.mark.parametrize("method, w, n", [("radau4", 3.0, 2), ("radau4", 10.0, 6),
                                          ("radau3", 30.0, 128), ("gauss4", 30.0, 32),
                                          ("rk4", 10.0, 128)])
def test_an_oscillation_kept_on_a_suspect_or_resolving_mesh_is_right_to_its_estimate(method, w,
                                                                                     n):
    """The same equation where the answer is kept: its estimate bounds its error (radau4 on
    2 steps, w = 3, and on 6 steps, w = 10: errors of 0.08 and 0.33 for estimates of 2e-3
    before; the finer solve of the first steps now raises them to 0.12 and 0.45), and a mesh
    that resolves the oscillation stays a success with the same estimate."""
    sol = solve_volterra(_oscillator, _one_w, (0.0, 2.0), n, method=method, args=(w,))
    error = np.abs(sol.y - np.cos(w * sol.t))
    assert sol.success
    assert np.max(error) <= 2.0 * np.max(sol.error_estimate)
    if n >= 32:
        assert np.max(error) < 2e-3 and "resolution_check" not in sol.stats


@pytest.mark.parametrize("kernel, T, t_star, exponent, method, n", [
    (_cube, 0.5, 0.25, 0.5, "radau2", 2), (_cube, 0.5, 0.25, 0.5, "radau2", 3),
    (_cube, 0.5, 0.25, 0.5, "radau2", 4),
    (_cube, 0.5, 0.25, 0.5, "radau2", 6), (_cube, 0.5, 0.25, 0.5, "radau2", 12),
    (_cube, 0.5, 0.25, 0.5, "rectangle", 2), (_cube, 0.5, 0.25, 0.5, "rectangle", 3),
    (_square, 2.0, 1.0, 1.0, "rectangle", 2), (_square, 2.0, 1.0, 1.0, "rectangle", 3)])
def test_a_blow_up_jumped_by_a_few_steps_is_not_a_success(kernel, T, t_star, exponent, method,
                                                          n):
    """y = 1 + int 2 y^3 (t* = 1/4) and y = 1 + int y^2 (t* = 1): radau2 on 2 to 12 steps and
    the rectangle rule on 2 or 3 steps passed the blow-up and were successes (radau2, 12
    steps: y(0.5) = 9.56, estimate 0.42; the rectangle rule, 2 steps: y(2) = 6, estimate 3):
    their half-steps companion agreed within half the size, while the solutions on N/4, N/2
    and N steps (or N/2, N and 2N) move further apart as the steps shrink.  Now no value at
    or past t* is kept, and the values kept are right to their estimates.  radau2 on 3 steps
    stayed a success with y(0.5) = 4.70 and an estimate of 0.23: its solutions on 1, 2 and 3
    steps (2.44, 4.48, 4.70 at t = 0.5) converge at the rate 9.5, near 2^3, by chance; a
    mesh of every fourth point of a single step is no level on its own, and the solve on 6
    steps (6.76) is one too."""
    sol = solve_volterra(kernel, ONE, (0.0, T), n, method=method)
    assert not sol.success and sol.stats["failure"] in ("unresolved", "unchecked"), sol.message
    assert sol.t[-1] < t_star
    exact = (1.0 - sol.t / t_star) ** -exponent
    assert np.all(np.abs(sol.y - exact) <= 20.0 * sol.error_estimate + 1e-12)


@pytest.mark.parametrize("kernel, T, t_star, exponent, method, n", [
    (_cube, 0.24, 0.25, 0.5, "rk4", 3), (_cube, 0.24, 0.25, 0.5, "rk4", 4),
    (_square, 0.875, 1.0, 1.0, "rk4", 3), (_square, 0.875, 1.0, 1.0, "rk4", 4),
    (_square, 0.875, 1.0, 1.0, "gauss4", 3)])
def test_a_few_steps_ahead_of_a_blow_up_take_the_order_of_the_finer_solve(kernel, T, t_star,
                                                                            exponent, method, n):
    """Ahead of a blow-up (y(0.24) = 5, y(0.875) = 8), on 3 or 4 steps, whose mesh of every
    fourth point is a single step: the estimate with the method's order was 15, 11, 7, 4.8 and
    3.2 times below the error (rk4, y(0.24) with an error of 0.71 for an estimate of 0.047).
    The solve with every step bisected is now a level, and its rate (the finest one) sets
    the order: the successes are right to their estimates."""
    sol = solve_volterra(kernel, ONE, (0.0, T), n, method=method)
    assert sol.success, sol.message
    error = np.abs(sol.y - (1.0 - sol.t / t_star) ** -exponent)
    assert np.all(error <= 2.0 * sol.error_estimate + 1e-12)


@pytest.mark.parametrize("name", ["cos", "exp-square", "inverse", "affine", "vector"])
@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "rk4", "gauss2", "radau2", "radau3",
                                    "radau4", "gauss4"])
@pytest.mark.parametrize("n", [3, 4])
def test_a_smooth_solve_on_three_or_four_steps_stays_a_success(name, method, n):
    """The solve with every step bisected, a level of the convergence check where the mesh of
    every fourth point is a single step, confirms a smooth solution on a few steps: the
    library problems stay successes, right to their estimates (within the factor 20 of the
    trust scan).  Of 680 solves of the 8 library problems by the 15 methods on 3, 4, 5, 7, 16
    and 64 steps, no outcome and no value changed, and one estimate: radau4 on 'affine', 3
    steps, 5.9e-9 -> 2.8e-8 for an error of 5.9e-9."""
    from integrallimits.volterra.problems import PROBLEMS
    p = PROBLEMS[name]
    sol = solve_volterra(p.kernel, p.forcing, p.t_span, n, method=method)
    assert sol.success, sol.message
    error = np.abs(sol.y - p.exact(sol.t))
    assert np.max(error) <= 20.0 * np.max(sol.error_estimate)


@pytest.mark.parametrize("method, n", [("gregory4", 8), ("gregory6", 12)])
def test_a_last_step_on_the_wrong_root_ahead_of_a_blow_up_is_not_a_success(method, n):
    """y = 1 + int 2 y^3 on [0, 0.24] (y(0.24) = 5, t* = 0.25): the implicit last step of
    gregory4 (8 steps) and gregory6 (12) found a negative root, y(0.24) = -7.9 and -10.2, as did
    the half-steps companion, and the solve was a success with an estimate of 0.15 and 0.045.
    The solve with every step bisected (the mesh of every fourth point is too short for these
    rules) differs from it by more still: no reliable digit there."""
    sol = solve_volterra(_cube, ONE, (0.0, 0.24), n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert np.all(sol.y > 0)
    error = np.abs(sol.y - 1.0 / np.sqrt(1.0 - 4.0 * sol.t))
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-12)


def test_two_steps_ahead_of_a_blow_up_take_the_order_they_show():
    """rk4 on 2 steps of y = 1 + int 2 y^3 over [0, 0.24] (t* = 0.25) was a success with
    y(0.24) = 3.89 for 5 and an estimate of 0.05 (the order 4).  The solutions on 1, 2 and 4
    steps (3.11, 3.89, 4.53) converge at the rate 1.2: with the order that rate shows (at
    least 1) the estimate is 0.78, more than half the size of the solution where it is
    spread to (t = 0.12), so the solve has no reliable digit from there."""
    sol = solve_volterra(_cube, ONE, (0.0, 0.24), 2, method="rk4")
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert sol.stats["estimate_order"] < 2.0 and sol.t[-1] < 0.12


def _kept_values_have_digits(sol, exact):
    """The values a solve keeps are right to their estimates (within the factor 20 of the
    trust scan) and have a digit: error and estimate at most half the size so far."""
    y = sol.y.reshape(len(sol.t), -1)
    error = np.abs(y - np.asarray(exact(sol.t), dtype=float).reshape(y.shape))
    est = np.asarray(sol.error_estimate, dtype=float).reshape(y.shape)
    size = np.maximum.accumulate(np.max(np.abs(y), axis=1))[:, None]
    assert np.all(error <= 20.0 * est + 1e-12)
    assert np.all(error <= 0.5 * size) and np.all(est <= 0.5 * size)


@pytest.mark.parametrize("method, n", [("gregory4", 4), ("gregory6", 6), ("rectangle", 1),
                                       ("rk4", 1), ("radau3", 1)])
def test_a_solve_with_the_double_steps_companion_checks_three_levels(method, n):
    """y = 1 + int 2 y^3 on [0, 0.24] (y(0.24) = 5, t* = 0.25).  Where the mesh of every other
    point has fewer steps than the method takes (gregory4 on 3-5 steps, gregory6 on 5-11, any
    method on 1), the only companion was the solve with every step bisected, and no check
    that the solutions converge was made: gregory4 on 4 steps and gregory6 on 6 were
    successes with y(0.24) = -5.7 and -7.3 (estimates 2.4 and 2.9), radau3 on 1 step with
    -5.0, the rectangle rule on 1 step with 1.48 (estimate 0.44).  The solve with every step
    bisected twice is now the third level: the solutions on N, 2N and 4N steps (gregory4:
    -5.7, -7.9, -11.0) move apart, or converge at the rate 1.2 (rk4 on 1 step: 3.11, 3.89,
    4.53), whose order gives an estimate above half the size.  (radau3's 4-step level, on
    the spurious root y(0.24) = -10.0 after 57 Newton iterations, fails Newton since the lag
    sums are grouped per distinct stage time: the solve is unchecked there instead.  gregory6's
    levels, their starting blocks from the coarser levels' values since work-63, have a
    companion fail at t = 0.24, 0.01 before the blow-up, which from y_0 did not: unchecked
    from 0.24, with the same values kept, up to t = 0.2.)"""
    sol = solve_volterra(_cube, ONE, (0.0, 0.24), n, method=method)
    kinds = ("unresolved", "unchecked") if method in ("radau3", "gregory6") else ("unresolved",)
    assert not sol.success and sol.stats["failure"] in kinds, sol.message
    assert sol.t[-1] < 0.24
    _kept_values_have_digits(sol, lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t))


@pytest.mark.parametrize("kernel, T, exact, n", [
    (_cube, 0.24, lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t), 3),
    (_cube, 0.24, lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t), 5),
    (_square, 0.875, lambda t: 1.0 / (1.0 - t), 3)])
def test_a_first_order_solve_that_converges_slower_than_order_one_is_not_a_success(kernel, T,
                                                                                   exact, n):
    """The rectangle rule ahead of a blow-up on 3 or 5 steps was a success with no digit at
    the end (y(0.24) = 1.86 for 5, estimate 0.32; y(0.875) = 2.70 for 8, estimate 0.72): the
    solutions on N/2, N and 2N steps converge at the rate 1.07 (1.01), far below the 2 of the
    order 1, which the estimate assumed (an order below 1 was never taken).  With the order
    the rate shows (at least log2 1.2) the estimate exceeds half the size: unresolved from
    there, and the values kept have digits."""
    sol = solve_volterra(kernel, ONE, (0.0, T), n, method="rectangle")
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert sol.stats["estimate_order"] < 1.0
    _kept_values_have_digits(sol, exact)


@pytest.mark.parametrize("name, method, n", [
    ("nonconvolution", "rectangle", 1), ("nonconvolution", "rectangle", 2),
    ("nonconvolution", "rectangle", 3), ("rotation", "implicit-rectangle", 1),
    ("rotation", "radau1", 1)])
def test_a_library_problem_on_a_few_first_order_steps_without_a_digit_is_not_a_success(name,
                                                                                     method, n):
    """'nonconvolution' (y(1) = 0.5) by the rectangle rule was a success on 1, 2 and 3 steps
    with y(1) = 1.31, 1.20, 1.11 (estimates 0.6, 0.11, 0.17): the solutions on 1, 2 and 4
    steps (1.31, 1.20, 1.04) move apart at the rate 0.70.  The estimate of a solve between
    two levels with an observed order is at least its difference from the finer solution plus
    that one's estimate (0.93 on 2 steps); on 1 step the solve with every step bisected twice
    is the third level.  'rotation' on 1 step of the first-order implicit rules: y(2) = (0.2,
    0.4) for (-0.42, 0.91), estimate 0.4."""
    from integrallimits.volterra.problems import PROBLEMS
    p = PROBLEMS[name]
    sol = solve_volterra(p.kernel, p.forcing, p.t_span, n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    _kept_values_have_digits(sol, p.exact)


@pytest.mark.parametrize("kernel, T, exact, method, n", [
    (_square, 0.875, lambda t: 1.0 / (1.0 - t), "gauss3", 3),
    (_square, 0.875, lambda t: 1.0 / (1.0 - t), "rk4", 3),
    (_cube, 0.24, lambda t: 1.0 / np.sqrt(1.0 - 4.0 * t), "rk4", 3)])
def test_a_shared_last_step_does_not_set_the_rate(kernel, T, exact, method, n):
    """On an odd number of steps the half-steps companion shares the solution's last step
    (collocation), and the two differ there by far less than a halving's difference: with that
    point the rate of gauss3 on 3 steps ahead of the blow-up of y = 1 + int y^2 was 0.15 (for
    errors of 1e-8 to 0.012), and the order it gives turned these successes into failures.
    The rate on a given mesh is measured where steps are halved; the last value takes the
    estimate of the solve with every step bisected too (rk4 on y = 1 + int 2 y^3, 3 steps:
    0.51 for an error of 0.71)."""
    sol = solve_volterra(kernel, ONE, (0.0, T), n, method=method)
    assert sol.success, sol.message
    error = np.abs(sol.y - exact(sol.t))
    assert np.all(error <= 2.0 * sol.error_estimate + 1e-12)


def _vide_square(t, y, z):
    return y * y + z


def _vide_no_memory(t, s, y):
    return 0.0 * y


def _vide_memory(t, y, z):
    return z


def _vide_minus(t, s, y):
    return -y


@pytest.mark.parametrize("f, K, T, exact, method, n", [
    (_vide_square, _vide_no_memory, 0.875, lambda t: 1.0 / (1.0 - t), "radau2", 4),
    (_vide_square, _vide_no_memory, 0.875, lambda t: 1.0 / (1.0 - t), "rk4", 2),
    (_vide_memory, _vide_minus, 6.0, np.cos, "radau1", 3),
    (_vide_memory, _vide_minus, 6.0, np.cos, "radau3", 3)])
def test_a_vide_whose_estimate_or_error_leaves_no_digit_is_not_a_success(f, K, T, exact, method,
                                                                          n):
    """A VIDE on a given mesh had no check of its final estimate: y' = y^2 (t* = 1) on [0, 0.875]
    by radau2 on 4 steps and rk4 on 2 were successes with estimates of 1.9 and 1.5 above half
    the solution's size there; y' = int -y (y = cos t) on [0, 6] by radau1 on 3 steps with
    errors of 0.62 and 1.05 (estimates 0.18 and 0.006), by radau3 with errors 50 times its
    estimates at t = 2 (0.005 for 1e-4).  The estimate with the order the three levels show
    exceeds half the size, and the solve fails there, as the second kind does."""
    sol = solve_vide(f, K, 1.0, (0.0, T), n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    _kept_values_have_digits(sol, exact)


def _stiff_decay(t, s, y, lam):
    return -lam * y


@pytest.mark.parametrize("method, lam, n", [("gauss2", 1e4, 1), ("gauss2", 1e5, 1),
                                            ("gauss2", 1e5, 3), ("gauss2", 1e6, 2),
                                            ("gauss2", 1e6, 12), ("gauss4", 1e5, 2),
                                            ("gauss4", 1e6, 1), ("gauss4", 1e6, 6)])
def test_levels_that_drift_apart_on_stiff_steps_are_not_a_success(method, lam, n):
    """y = 1 - lam int y = e^{-lam t} on [0, 1] with a few Gauss steps (whose stability
    function tends to 1 on stiff steps): every level of the check keeps y near 1, and they
    agree to 1e-4 ... 1e-2 while their differences grow 4-fold a halving.  gauss2 on 1 step
    with lam = 1e5 was a success with the estimate 0.03 for an error of 1.0 (lam = 1e6: 3e-3),
    and on 1-12 steps successes without a digit.  The fourth level, the finest one's steps
    bisected, drifts further: no reliable digit."""
    sol = solve_volterra(_stiff_decay, ONE, (0.0, 1.0), n, method=method, args=(lam,))
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    _kept_values_have_digits(sol, lambda t: np.exp(-lam * t))
    # the message names the first value not kept (it named the first unresolved point, a
    # later one: gauss2, lam = 1e6, 12 steps, "the values before t = 0.333333", y(t0) alone kept)
    first_dropped = np.linspace(0.0, 1.0, n + 1)[len(sol.t)]
    assert f"Only the values before t = {first_dropped:.6g} are kept" in sol.message


@pytest.mark.parametrize("method, n", [("gauss4", 5), ("gauss4", 6), ("gauss3", 6),
                                       ("radau4", 6)])
def test_a_smooth_solution_before_its_asymptotic_regime_stays_a_success(method, n):
    """Differences that grow from the coarsest pair to the finest one on a smooth problem
    (y = 1 + int y^2 over [0, 0.875], gauss4 on 6 steps: their rate 0.08) are not a drift:
    the fourth level shows them falling, and the solution stays a success right to its
    estimate."""
    sol = solve_volterra(_square, ONE, (0.0, 0.875), n, method=method)
    assert sol.success, sol.message
    _kept_values_have_digits(sol, lambda t: 1.0 / (1.0 - t))



@pytest.mark.parametrize("method, lam", [("radau3", 1e5), ("radau4", 1e5), ("radau3", 1e6),
                                         ("radau4", 1e6), ("radau4", 1e4)])
def test_a_stiff_start_to_a_tolerance_is_estimated_from_the_finer_solve(method, lam):
    """y = 1 - lam int y = e^{-lam t} to rtol = atol = 1e-3: radau3 and radau4 were successes
    on 6-8 steps whose first value (the stability function at -lam h, 1e3-1e5, for e^{-lam h}
    = 0) was off by 6.9e-5 to 3.1e-3 with estimates 88-360 times below the error (every
    level misses the transient alike; radau4, lam = 1e4: 3.1e-3 against 8.8e-6).  The check
    of the first steps, 16 times shorter, differed from the answer by that much but within 4
    times the tolerance; the estimates are now raised to that difference (as for the first
    kind), and a solve whose raised estimates miss the tolerance starts over finer."""
    sol = solve_volterra(_stiff_decay, ONE, (0.0, 1.0), method=method, rtol=1e-3, atol=1e-3,
                         args=(lam,))
    assert sol.success, sol.message
    error = np.abs(sol.y - np.exp(-lam * sol.t))
    assert error.max() <= 20.0 * sol.error_estimate.max() or error.max() <= 1e-13
    assert np.all(error <= 10.0 * 1e-3 * (1.0 + np.exp(-lam * sol.t)))


def _stiff_vide(t, y, z, lam):
    return -lam * y - 0.2 * z


def _stiff_vide_memory(t, s, y, lam):
    return y


@pytest.mark.parametrize("method", ["radau3", "radau4"])
def test_a_stiff_vide_start_to_a_tolerance_is_estimated_from_the_finer_solve(method):
    """y' = -lam y - 0.2 int y, y(0) = 1, lam = 1e6, to rtol = atol = 1e-3: radau3 and radau4
    were successes on 8 steps with errors of 2.4e-5 and 3.2e-5 and estimates 62 and 250 times
    below them (the stiff start, as for the second kind); the estimates are now raised to the
    difference from the check's finer solve."""
    lam = 1e6
    sol = solve_vide(_stiff_vide, _stiff_vide_memory, 1.0, (0.0, 1.0), method=method,
                     rtol=1e-3, atol=1e-3, args=(lam,))
    assert sol.success, sol.message
    # y = (r1 e^{r1 t} - r2 e^{r2 t}) / (r1 - r2), r1 + r2 = -lam, r1 r2 = 0.2
    r2 = (-lam - math.sqrt(lam * lam - 0.8)) / 2.0
    r1 = 0.2 / r2
    exact = (r1 * np.exp(r1 * sol.t) - r2 * np.exp(r2 * sol.t)) / (r1 - r2)
    error = np.abs(sol.y - exact)
    assert error.max() <= 20.0 * sol.error_estimate.max() or error.max() <= 1e-13
    assert np.all(error <= 10.0 * 1e-3 * (1.0 + np.abs(exact)))


@pytest.mark.parametrize("method", ["gauss3", "radau3"])
def test_a_restart_after_the_check_of_the_first_steps_is_sized_by_its_ratio(method):
    """y' = -1000 y - 0.2 int y: the check of the first steps found the answers on 294
    (gauss3) and 348 (radau3) steps 2.7 and 3.9 times the tolerance (1e-3) off, and the solve
    started over on 16 times the steps, 4704 and 5568: right to 2.6e-7 and 7e-6 times the
    tolerance, at 132e6 and 185e6 kernel evaluations, 10-40 times those of 1e-6.  On the
    steps the ratio asks for at the order (588 and 676): 0.07 and 0.23 times, 3.3e6 and
    4.6e6."""
    lam, tol = 1000.0, 1e-3
    sol = solve_vide(_stiff_vide, _stiff_vide_memory, 1.0, (0.0, 1.0), method=method,
                     args=(lam,), rtol=tol, atol=tol)
    r2 = (-lam - math.sqrt(lam * lam - 0.8)) / 2.0
    r1 = 0.2 / r2
    exact = (r1 * np.exp(r1 * sol.t) - r2 * np.exp(r2 * sol.t)) / (r1 - r2)
    error = np.abs(sol.y - exact)
    assert sol.success and np.all(error <= tol + tol * np.abs(exact))
    assert np.max(error) <= 20 * np.max(sol.error_estimate)
    assert len(sol.t) - 1 <= 1000 and sol.stats["nfev"] <= 1e7


@pytest.mark.parametrize("method, long_step, n", [("gauss4", 10.0, 16), ("radau3", 20.0, 24)])
def test_a_user_mesh_of_unequal_step_pairs_is_estimated_honestly(method, long_step, n):
    """y = 1 - w^2 int (t - s) y ds (y = cos 30 t) on a mesh= whose steps alternate 1 and
    ``long_step`` (scaled to [0, 1]): the companion on every other point merges each short step
    with a long one, so its steps are the long ones again and the solutions differ little.
    gauss4 (10, 16 steps): a success with error 0.082 for an estimate of 6.1e-4; radau3 (20, 24):
    error 0.99 (no digit) for 0.026.  Such a mesh (``_estimate.worst_pair_factor`` 188 and
    91) is compared with the solve on every step bisected: gauss4 an honest success (the
    estimate 0.0819 for the error 0.0818; the pair factor's 186 gave 0.11), radau3
    "unresolved"."""
    h = np.where(np.arange(n) % 2 == 0, 1.0, long_step)
    mesh = np.concatenate([[0.0], np.cumsum(h)])
    mesh /= mesh[-1]
    sol = solve_volterra(_oscillating_memory, ONE, mesh=mesh, method=method)
    error = np.abs(sol.y - np.cos(30.0 * sol.t)).max()
    assert not sol.success or error <= 20.0 * sol.stats["max_error_estimate"]
    assert sol.stats["error_estimate"].startswith("double-steps")
    if not sol.success:
        assert sol.stats["failure"] == "unresolved"
        assert np.abs(sol.y - np.cos(30.0 * sol.t)).max() <= \
            20.0 * np.nanmax(sol.error_estimate)


@pytest.mark.parametrize("method", ["gauss4", "radau3"])
def test_a_user_mesh_with_one_tiny_step_is_estimated_honestly(method):
    """y = 1 - 50 int y (y = e^(-50 t)) on 13 uniform steps over [0, 1] whose first point is
    moved to 1e-9: the companion on every other point takes the same long first step as the
    solution (its steps 0-2 merge 1e-9 and 0.154), so their difference misses the error made
    there, which dominates; the mesh's pair factor, an average over all pairs, did not restore
    it.  gauss4 was a success with the error 8.1e-3 at t = 0.15 for an estimate of 1.4e-5
    (574 times), radau3 3.9e-2 for 3.7e-4.  The refined companion (every step bisected)
    estimates it."""
    mesh = np.linspace(0.0, 1.0, 14)
    mesh[1] = 1e-9
    sol = solve_volterra(_decay_50, ONE, mesh=mesh, method=method)
    error = np.abs(sol.y - np.exp(-50.0 * sol.t))
    assert sol.success
    assert error.max() <= 20.0 * sol.stats["max_error_estimate"]


#: 5 steps over [0, 3] drawn at random (``tools/mesh_scan.py``, rounded): two short steps,
#: then three of 0.69 to 1.1, 3.4 to 5.5 radians of cos 5 t each.
_FEW_RANDOM_STEPS = np.array([0.0, 0.04958291, 0.12292057, 0.80936014, 1.91088506, 3.0])


def test_a_few_unresolved_random_steps_are_not_a_success():
    """y = 1 - 25 int (t - s) y ds (y = cos 5 t) on ``_FEW_RANDOM_STEPS`` with radau2: the
    solutions on 5, 3 and 2 steps agree to no digit and converge at the rate 1.4 (not 2^3),
    but the mesh of every fourth point is too small for its rate to set the order, and the
    solve was a success with the error 1.35 at t = 0.81 (no digit) for an estimate of 0.060
    (22.5 times).  Such levels (``Companion.unsettled``) have the estimates raised to the
    difference from the solve with every step bisected (``_outcome.with_settled_levels``):
    1.25 at t = 0.81, over half the size, so the solve is "unresolved" from there, and the
    values it keeps are honest."""
    sol = solve_volterra(lambda t, s, y: -25.0 * (t - s) * y, ONE, mesh=_FEW_RANDOM_STEPS,
                         method="radau2")
    error = np.abs(sol.y - np.cos(5.0 * sol.t))
    assert not sol.success or error.max() <= 20.0 * sol.stats["max_error_estimate"]
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-13)


#: 5 steps over [0, 1] drawn at random (``tools/mesh_scan.py``, rounded): the steps 0.23 and
#: 0.37 from t = 0.04, 11 and 18 times 1 / 50, are a pair of the half-steps companion.
_FEW_STIFF_STEPS = np.array([0.0, 0.01652764, 0.04097352, 0.26978671, 0.63696169, 1.0])


def test_a_stiff_step_damped_by_the_next_is_estimated_honestly():
    """y' = -50 y (``solve_vide``) on ``_FEW_STIFF_STEPS`` with radau4: the error made by the
    step to t = 0.27 (2.9e-3) is damped by the next stiff step, so the common points beside
    it do not see it, and the solutions on 5, 3 and 2 steps converge at the rate 7.7, not
    2^7; the mesh is too small for that rate to set the order, and the solve was a success
    with the estimate 1.3e-4 (21.7 times below).  Such levels (``Companion.unsettled``) have
    the estimates raised to the difference from the solve with every step bisected, at every
    point (``_outcome.with_settled_levels``): 2.91e-3."""
    sol = solve_vide(_stiff_f, _no_memory, 1.0, mesh=_FEW_STIFF_STEPS, method="radau4")
    error = np.abs(sol.y - np.exp(-50.0 * sol.t))
    assert not sol.success or error.max() <= 20.0 * sol.stats["max_error_estimate"]
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-13)


def _first_kind_one(t, s):
    return 1.0


@pytest.mark.parametrize("method", ["radau1", "radau2", "radau4", "midpoint"])
def test_a_first_kind_user_mesh_of_unequal_step_pairs_is_estimated_honestly(method):
    """int_0^t y ds = sin 10 t (y = 10 cos 10 t) on 13 geometric steps over [0, 3] (from
    3e-6, each step 3.2 times the one before): the half-steps companion merges unequal pairs
    and its difference underestimates the error, and the first kind got no pair factor
    (``_outcome.estimate_kept`` left every method with ``estimate_options`` out, meant for a
    weakly singular kernel's).  radau2 was a success with an error of 16.4 for an estimate
    of 0.51 (32.5 times); with the pair factor (2.5) 1.25."""
    mesh = 3.0 * np.concatenate([[0.0], np.geomspace(1e-6, 1.0, 13)])
    sol = solve_volterra(_first_kind_one, lambda t: np.sin(10.0 * t), mesh=mesh, method=method,
                         kind=1)
    error = np.abs(sol.y - 10.0 * np.cos(10.0 * sol.t)).max()
    assert not sol.success or error <= 20.0 * sol.stats["max_error_estimate"]
    assert len(sol.t) < 2 or error <= 20.0 * np.nanmax(sol.error_estimate)
    assert sol.stats.get("estimate_pair_factor", 1.0) > 1.5 or \
        sol.stats["error_estimate"].startswith("double-steps") or \
        "hiding pairs' steps bisected" in sol.stats["error_estimate"]


def _tiny_step_mesh(end, n=32, T=2.0):
    """n uniform steps over [0, T] with the first point moved to 1e-9 T (``end`` False) or the
    last but one to T (1 - 1e-9) (``tools/mesh_scan.py``'s tiny1 and tinyend meshes)."""
    mesh = np.linspace(0.0, T, n + 1)
    if end:
        mesh[-2] = T * (1.0 - 1e-9)
    else:
        mesh[1] = 1e-9 * T
    return mesh


@pytest.mark.parametrize("end, method", [(False, "radau3"), (False, "radau4"),
                                         (True, "radau2"), (True, "radau4")])
def test_a_first_kind_tiny_step_is_checked_by_bisecting_its_pair_only(end, method):
    """int_0^t e^(t - s) y ds = sin t (y = cos t - sin t) on 32 steps over [0, 2] with a step
    of 2e-9 first or last: the half-steps companion merges it with a long step, whose error it
    cannot see, and the refined companion (every step bisected, and twice for its third level)
    cost 20 times the solve (radau3, tiny first step: 97,785 evaluations for 4,752); radau4
    with the tiny last step bisected three times failed ("do not converge", the rounding of a
    first-kind step of 2.5e-10) with an error of 7.8e-6 at 700,169.  Only the hiding pair's
    steps are bisected now (a first-kind value is made by its own step): estimates within 20
    times the error both ways, at most 4 times the solve's evaluations."""
    mesh = _tiny_step_mesh(end)
    K = _exp_difference
    sol = solve_volterra(K, np.sin, mesh=mesh, method=method, kind=1)
    bare = solve_volterra(K, np.sin, mesh=mesh, method=method, kind=1, error_estimate=False)
    assert sol.success, sol.message
    error = float(np.max(np.abs(sol.y - (np.cos(sol.t) - np.sin(sol.t)))))
    estimate = sol.stats["max_error_estimate"]
    assert error <= 20.0 * estimate and estimate <= 20.0 * error, (error, estimate)
    assert sol.stats["nfev"] <= 4 * bare.stats["nfev"], (sol.stats["nfev"], bare.stats["nfev"])


#: 13 steps over [0, 1] (drawn at random, rounded): the pair of steps 0.006 and 0.09 from
#: t = 0.028, where y = e^(-50 t) still changes fast, is moderately unequal
#: (``worst_pair_factor`` near 1: the large equal pairs later dominate it).
_STIFF_START_MESH = np.array([0.0, 0.003, 0.028, 0.034, 0.124, 0.176, 0.3, 0.423, 0.541,
                              0.671, 0.73, 0.857, 0.863, 1.0])


def _stiff_f(t, y, z):
    return -50.0 * y + z


def _no_memory(t, s, y):
    return 0.0 * y


@pytest.mark.parametrize("method", ["gauss4", "radau4", "gauss3", "radau3"])
def test_a_moderately_unequal_pair_at_a_stiff_start_is_estimated_honestly(method):
    """y' = -50 y on ``_STIFF_START_MESH``: the companion on every other point merges the
    steps 0.006 and 0.09 into one of 0.096, all but the solution's own long step, where the
    local error is e^5 times that of the equal pairs later on; the worst pair factor (a
    uniform error constant) leaves the mesh to that companion.  gauss4 was a success with
    the error 1.1e-4 at t = 0.124 for an estimate of 1.2e-6 (92 times), radau4 60 times,
    gauss3 34, radau3 23 (on ``tools/mesh_scan.py``'s unrounded mesh 112, 72, 41, 27).  The
    companion's own differences show the pair hiding an error
    (``_estimate.hidden_pair_error``) and the refined companion estimates it (within 1%)."""
    sol = solve_vide(_stiff_f, _no_memory, 1.0, mesh=_STIFF_START_MESH, method=method)
    error = np.abs(sol.y - np.exp(-50.0 * sol.t)).max()
    assert sol.success, sol.message
    assert error <= 20.0 * sol.stats["max_error_estimate"]
    assert sol.stats["error_estimate"] == "double-steps"


def test_the_hidden_pair_error_is_none_on_a_uniform_mesh_and_a_pair_at_a_stiff_start():
    """``hidden_pair_error``: on equal pairs at most the Richardson estimate (the companion
    sees their whole error: the growth of its difference over a pair / (2^p - 1)), and for
    the stiff start of ``_STIFF_START_MESH`` (gauss4) about the solution's error there
    (1.1e-4), far above the half-steps companion's Richardson estimate (1e-6 times the pair
    factor 2.9)."""
    from integrallimits.volterra._estimate import estimate_error, hidden_pair_error

    def run(mesh):
        s = solve_vide(_stiff_f, _no_memory, 1.0, mesh=mesh, method="gauss4",
                       error_estimate=False)
        return s.y.reshape(-1, 1), 0, len(mesh), s.stats["nfev"]

    for t in (np.linspace(0.0, 1.0, 17), _STIFF_START_MESH):
        y = run(t)[0]
        result = estimate_error(run, t, y, 8, False, 1, converging=True)
        hidden = hidden_pair_error(t, y, result)
        if len(t) == 17:
            assert 0.0 < hidden <= np.max(result.estimate)
        else:
            error = np.abs(y[:, 0] - np.exp(-50.0 * t)).max()
            assert error / 3.0 < hidden < 3.0 * error
            assert hidden > 100.0 * np.max(result.estimate)


def test_a_vide_estimate_is_at_least_the_rounding_of_its_values():
    """y' = -y, y(0) = 1e5 (y = 1e5 e^(-t)) on 256 steps of gauss4: the error, rounding alone
    (7.9e-11, 3.5 eps |y|), was 200 times the Richardson estimate (4.0e-13), the difference of
    two roundings; the estimates are now at least sqrt(N) eps |y| so far
    (``_estimate.rounding_floor``), and y(t0) keeps its estimate 0."""
    sol = solve_vide(lambda t, y, z: -y + z, _no_memory, 1e5, (0.0, 1.0), n_steps=256,
                     method="gauss4")
    _assert_estimates_hold_the_rounding(sol)


def _creeping(t, y, z, a):
    return a


def _creeping_pair(t, y, z, a):
    return np.array([a, -y[1]])


@pytest.mark.parametrize("method, pair", [("radau1", False), ("gauss2", False), (None, False),
                                          ("gauss2", True), (None, True)])
def test_a_vide_estimate_to_a_tolerance_is_at_least_the_rounding_of_its_values(method, pair):
    """y' = 2e-11, y(0) = 1e5 (and a second component y' = -y) to rtol = atol = 1e-6: each
    step's increment h y' is below half an ulp of y, lost alike by the solve and its companion,
    whose values agree bit for bit (all 1e5): the Richardson estimate was 0 at every point for
    an error of 2e-11 t (radau1 at rtol 1e-6 on a Gaussian bump: 2^18-2^20 steps, estimates
    of 0 where the error was up to 2.3e-13).  As on a given mesh, the estimates are now at
    least sqrt(N) eps |y| so far."""
    a = 2e-11
    y0 = np.array([1e5, 1.0]) if pair else 1e5
    sol = solve_vide(_creeping_pair if pair else _creeping, None, y0, (0.0, 1.0),
                     method=method, args=(a,), rtol=1e-6, atol=1e-6)
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(np.asarray(sol.y).reshape(len(t), -1)[:, 0] - (1e5 + a * t)).astype(float)
    estimate = np.asarray(sol.error_estimate).reshape(len(t), -1)[:, 0]
    assert sol.success
    assert error[-1] > 1e-11
    assert np.all(error[1:] <= 20.0 * estimate[1:])



def _creeping_integrand(t, s, y, a):
    return a


def _creeping_integrand_pair(t, s, y, a):
    return np.array([a, -y[1]])


@pytest.mark.parametrize("method, form", [
    ("trapezoid", "scalar"), ("gregory4", "negative"), ("gauss2", "scalar"),
    ("radau3", "negative"), ("radau2", "scalar"), ("gregory4", "pair"), ("gauss2", "pair"),
    ("radau3", "scaled"), ("trapezoid", "scaled"), ("gauss2", "singular"),
    ("radau3", "singular")])
def test_a_volterra_estimate_to_a_tolerance_is_at_least_the_rounding_of_its_values(method,
                                                                                 form):
    """y = +-1e5 + int_0^t 2e-11 ds (a second component 1 - int y2 or 1e-3 - int y2; a
    weakly singular kernel 2e-11 (t - s)^(-1/2)) to rtol = atol = 1e-10 (atol 1e-13 for the
    small component): each step's increment is below half an ulp of y, lost alike by the
    solve and its Richardson or embedded companion (uniform, adaptive and graded steps), whose
    values agree bit for bit: the estimate was 0 at every point for errors of 5.5e-12 to
    7.5e-12.  As on a given mesh, the estimates are now at least sqrt(N) eps |y| so far, each
    component its own (the small one's tolerance is far below the large one's floor)."""
    from integrallimits.kernels import weakly_singular
    a, rtol, atol = 2e-11, 1e-10, 1e-10
    y0 = {"scalar": 1e5, "negative": -1e5, "singular": 1e5, "pair": np.array([1e5, 1.0]),
          "scaled": np.array([-1e5, 1e-3])}[form]
    K = _creeping_integrand_pair if np.ndim(y0) else _creeping_integrand
    if form == "singular":
        K = weakly_singular(_creeping_integrand, 0.5)
    if form == "scaled":
        atol = np.array([1e-10, 1e-13])
    sol = solve_volterra(K, lambda t: np.copy(y0), (0.0, 1.0), method=method, args=(a,),
                         rtol=rtol, atol=atol)
    t = np.asarray(sol.t, dtype=np.longdouble)
    gained = 2.0 * a * np.sqrt(t) if form == "singular" else a * t
    y = np.asarray(sol.y).reshape(len(t), -1)
    error = np.abs(y[:, 0] - (np.atleast_1d(y0)[0] + gained)).astype(float)
    estimate = np.asarray(sol.error_estimate).reshape(len(t), -1)
    assert sol.success, sol.message
    assert error.max() > 1e-12
    assert np.all(error <= estimate[:, 0])
    if form == "scaled":     # (the small component's floor is its own: below its tolerance)
        assert np.all(estimate[1:, 1] <= 1e-13 + 1e-10 * np.abs(y[1:, 1]))

def _carried_creep(t, s, y, a):
    return np.array([a, y[0] - 1e5])


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
def test_rounding_carried_into_a_small_component_is_no_success(method, rtol, atol):
    """y1 = 1e5 + int_0^t 2e-11 ds, y2 = int_0^t (y1 - 1e5) ds (y2 = 1e-11 t^2) to
    atol = (1e-6, ``atol``): y1's rounding (an ulp of 1e5 is 1.5e-11) enters y2 integrated,
    which its own floor, sqrt(N) eps |y2| ~ 1e-27, does not see: gauss2 and radau3 were
    successes with y2's errors 14 to 180 times its tolerance (1.4e-12 to 1.8e-12).  The
    floor of y2 now carries y1's, (t - t0) |dK2/dy1| floor_1: a failure ("tolerance"), or a
    success within the tolerance."""
    atol = np.array([1e-6, atol])
    sol = solve_volterra(_carried_creep, lambda t: np.array([1e5, 0.0]), (0.0, 1.0),
                         method=method, args=(2e-11,), rtol=rtol, atol=atol)
    t = np.asarray(sol.t, dtype=np.longdouble)
    exact = np.stack([1e5 + 2e-11 * t, 1e-11 * t ** 2], axis=-1)
    error = np.abs(np.asarray(sol.y) - exact).astype(float)
    tol = atol + rtol * np.abs(np.asarray(sol.y))
    if sol.success:
        assert np.all(error <= tol), np.max(error / tol)
    else:
        assert sol.stats["failure"] == "tolerance", sol.message
        assert "feeding" in sol.message


def _carried_chain(t, s, y, a):
    return np.array([a, y[0] - 1e5, y[1]])


def _fed_memory(t, y, z, a):
    return np.array([a, z[1]])


def _fed_kernel(t, s, y, a):
    return np.array([0.0, y[0] - 1e5])


def _fed_chain(t, y, z, a):
    return np.array([a, y[0] - 1e5, y[1]])


def _assert_no_success_over_tolerance(sol, exact, rtol, atol):
    """``sol`` a success within ``atol + rtol |y|`` of ``exact`` (at sol.t), or a failure
    that says the rounding (and that of the components feeding it) is over the tolerance."""
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(np.asarray(sol.y) - exact(t)).astype(float)
    tol = atol + rtol * np.abs(np.asarray(sol.y))
    if sol.success:
        assert np.all(error <= tol), np.max(error / tol, axis=0)
    else:
        assert sol.stats["failure"] == "tolerance", sol.message
        assert "feeding" in sol.message


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
def test_rounding_carried_along_a_chain_is_no_success(method, rtol, atol):
    """y1 = 1e5 + int_0^t 2e-11 ds, y2 = int_0^t (y1 - 1e5) ds, y3 = int_0^t y2 ds
    (y3 = 1e-11 t^3 / 3) to atol = (1e-6, 1e-6, ``atol``): y1's rounding reaches y3 through
    y2, whose own floor (1e-27) was all y3's floor carried: gauss2 and radau3 were successes
    with y3's errors 4.4 to 54 times its tolerance.  y3's floor now carries y1's along the
    chain (``_estimate.rounding_floor``)."""
    atol = np.array([1e-6, 1e-6, atol])
    sol = solve_volterra(_carried_chain, lambda t: np.array([1e5, 0.0, 0.0]), (0.0, 1.0),
                         method=method, args=(2e-11,), rtol=rtol, atol=atol)
    _assert_no_success_over_tolerance(
        sol, lambda t: np.stack([1e5 + 2e-11 * t, 1e-11 * t ** 2, 1e-11 * t ** 3 / 3], axis=-1),
        rtol, atol)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_rounding_carried_along_a_chain_on_a_given_mesh_is_in_the_estimate(method):
    """The chain above on 10 steps: y3's error, 6.8e-13, was 32 to 36 times its estimate
    (2.8e-13 and 3.9e-13); it is now within it."""
    sol = solve_volterra(_carried_chain, lambda t: np.array([1e5, 0.0, 0.0]), (0.0, 1.0), 10,
                         method=method, args=(2e-11,))
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(sol.y[:, 2] - 1e-11 * t ** 3 / 3).astype(float)
    assert error.max() > 1e-13
    assert np.all(error <= sol.error_estimate[:, 2])


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
@pytest.mark.parametrize("form", ["memory", "chain"])
def test_rounding_a_vide_carries_into_a_small_component_is_no_success(method, rtol, atol,
                                                                       form):
    """y1' = 2e-11, y1(0) = 1e5, and y2' = int_0^t (y1 - 1e5) ds (y2 = 1e-11 t^3 / 3; the
    memory), or y2' = y1 - 1e5, y3' = y2 (the chain; y3 = 1e-11 t^3 / 3) to atol 1e-6 for
    the large components and ``atol`` for the last: the Jacobian of a VIDE with memory,
    2d x 2d, was no d x d one and carried nothing, and a chain carried one link: successes
    with the last component's errors 33 to 333 times its tolerance."""
    a = 2e-11
    if form == "memory":
        atol = np.array([1e-6, atol])
        sol = solve_vide(_fed_memory, _fed_kernel, np.array([1e5, 0.0]), (0.0, 1.0),
                         method=method, args=(a,), rtol=rtol, atol=atol)
        exact = lambda t: np.stack([1e5 + a * t, a * t ** 3 / 6], axis=-1)  # noqa: E731
    else:
        atol = np.array([1e-6, 1e-6, atol])
        sol = solve_vide(_fed_chain, None, np.array([1e5, 0.0, 0.0]), (0.0, 1.0),
                         method=method, args=(a,), rtol=rtol, atol=atol)
        exact = lambda t: np.stack([1e5 + a * t, a * t ** 2 / 2, a * t ** 3 / 6],  # noqa: E731
                                   axis=-1)
    _assert_no_success_over_tolerance(sol, exact, rtol, atol)


def _coupled_later(t, s, y, a):
    return np.array([a, s * (y[0] - 1e5)])


def _coupled_between(t, s, y, a):
    return np.array([a, np.sin(np.pi * s) * (y[0] - 1e5)])


def _fed_later(t, y, z, a):
    return np.array([a, t * (y[0] - 1e5)])


def _fed_later_kernel(t, s, y, a):
    return np.array([0.0, s * (y[0] - 1e5)])


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
@pytest.mark.parametrize("coupling", ["s", "sin"])
def test_rounding_carried_by_a_coupling_zero_at_the_start_is_no_success(method, rtol, atol,
                                                                         coupling):
    """y1 = 1e5 + int_0^t 2e-11 ds, y2 = int_0^t c(s) (y1 - 1e5) ds with c(s) = s or
    sin(pi s), zero at t0, to atol = (1e-6, ``atol``): the floor carried the coupling of the
    Jacobian at t0 alone, none, and gauss2 and radau3 were successes with y2's errors 3.6 to
    88 times its tolerance.  The floor now takes the couplings of the Jacobians at t0, the
    middle and the last point of the mesh, the larger of each half's ends
    (``_outcome.with_rounding_floor``)."""
    a = 2e-11
    atol = np.array([1e-6, atol])
    K = _coupled_later if coupling == "s" else _coupled_between
    sol = solve_volterra(K, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), method=method,
                         args=(a,), rtol=rtol, atol=atol)
    pi = np.longdouble(np.pi)
    if coupling == "s":
        exact = lambda t: np.stack([1e5 + a * t, a * t ** 3 / 3], axis=-1)  # noqa: E731
    else:
        exact = lambda t: np.stack(  # noqa: E731
            [1e5 + a * t, a * (np.sin(pi * t) - pi * t * np.cos(pi * t)) / pi ** 2], axis=-1)
    _assert_no_success_over_tolerance(sol, exact, rtol, atol)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
@pytest.mark.parametrize("form", ["rate", "memory"])
def test_rounding_a_vide_carries_by_a_coupling_zero_at_the_start_is_no_success(method, rtol,
                                                                                atol, form):
    """y1' = 2e-11, y1(0) = 1e5, and y2' = t (y1 - 1e5) (y2 = 2e-11 t^3 / 3), or
    y2' = int_0^t s (y1 - 1e5) ds (the memory; y2 = 2e-11 t^4 / 12), to atol = (1e-6,
    ``atol``): f's and K's coupling is zero at t0, and gauss2 and radau3 were successes
    with y2's estimates 0 and its errors 17 to 667 times its tolerance."""
    a = 2e-11
    atol = np.array([1e-6, atol])
    if form == "rate":
        sol = solve_vide(_fed_later, None, np.array([1e5, 0.0]), (0.0, 1.0), method=method,
                         args=(a,), rtol=rtol, atol=atol)
        exact = lambda t: np.stack([1e5 + a * t, a * t ** 3 / 3], axis=-1)  # noqa: E731
    else:
        sol = solve_vide(_fed_memory, _fed_later_kernel, np.array([1e5, 0.0]), (0.0, 1.0),
                         method=method, args=(a,), rtol=rtol, atol=atol)
        exact = lambda t: np.stack([1e5 + a * t, a * t ** 4 / 12], axis=-1)  # noqa: E731
    _assert_no_success_over_tolerance(sol, exact, rtol, atol)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("equation", ["volterra", "vide"])
def test_rounding_carried_by_a_coupling_zero_at_the_start_is_in_the_estimate(method,
                                                                             equation):
    """The couplings c(s) = s above on 10 steps: y2's estimates were 0 for errors up to
    5.5e-13 (``solve_volterra``) and 6.7e-12 (``solve_vide``); they now hold them."""
    a = 2e-11
    if equation == "volterra":
        sol = solve_volterra(_coupled_later, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), 10,
                             method=method, args=(a,))
    else:
        sol = solve_vide(_fed_later, None, np.array([1e5, 0.0]), (0.0, 1.0), 10,
                         method=method, args=(a,))
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(sol.y[:, 1] - a * t ** 3 / 3).astype(float)
    assert sol.success
    assert error.max() > 1e-13
    assert np.all(error <= sol.error_estimate[:, 1])


def _coupled_off(t, s, y, a):
    return np.array([a, np.sin(2.0 * np.pi * s) * (y[0] - 1e5)])


def _coupled_off_poly(t, s, y, a):
    return np.array([a, 64.0 * (s * (s - 0.5) * (s - 1.0)) ** 2 * (y[0] - 1e5)])


def _fed_off(t, y, z, a):
    return np.array([a, np.sin(2.0 * np.pi * t) * (y[0] - 1e5)])


def _off_exact(t, a=2e-11):
    """y1 = 1e5 + a t, y2 = int_0^t sin(2 pi s) a s ds (long double)."""
    w = 2 * np.longdouble(np.pi)
    return np.stack([1e5 + a * t, a * (np.sin(w * t) / w ** 2 - t * np.cos(w * t) / w)],
                    axis=-1)


def _off_poly_exact(t, a=2e-11):
    """y1 = 1e5 + a t, y2 = int_0^t 64 (s (s - 1/2) (s - 1))^2 a s ds (long double)."""
    P = np.polynomial.polynomial
    c = P.polymul(P.polymul([0.0, 1.0], [-0.5, 1.0]), [-1.0, 1.0])
    c = P.polyint(P.polymul(P.polymul(c, c), [0.0, 64.0 * a]))
    return np.stack([1e5 + a * t, sum(np.longdouble(v) * t ** k for k, v in enumerate(c))],
                    axis=-1)


@pytest.mark.parametrize("method, n", [("gauss2", 10), ("radau3", 16), ("trapezoid", 64),
                                       ("gregory4", 64)])
@pytest.mark.parametrize("coupling", ["sin", "poly"])
def test_rounding_carried_by_a_coupling_zero_at_the_probed_points_is_in_the_estimate(
        method, n, coupling):
    """y1 = 1e5 + int_0^t 2e-11 ds, y2 = int_0^t c(s) (y1 - 1e5) ds with c(s) = sin(2 pi s)
    or 64 (s (s - 1/2) (s - 1))^2, zero at t0, at the mesh's middle and at its last point,
    the three points whose Jacobians the floor took: y2's estimates were 0 (or the
    Richardson difference's, 1e-27) for errors up to 3.2e-12, 25 to 1.4e14 times them.
    Where a coupling is zero at the three points, the floor probes one point off the mesh's
    points in each half (``_outcome._carried_jacobian``)."""
    K, exact = (_coupled_off, _off_exact) if coupling == "sin" else \
        (_coupled_off_poly, _off_poly_exact)
    sol = solve_volterra(K, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), n, method=method,
                         args=(2e-11,))
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(sol.y[:, 1] - exact(t)[:, 1]).astype(float)
    assert sol.success
    assert error.max() > 1e-13
    assert np.all(error <= sol.error_estimate[:, 1])


@pytest.mark.parametrize("method", ["trapezoid", "gregory4"])
@pytest.mark.parametrize("rtol, atol", [(1e-6, 1e-13), (1e-3, 1e-14)])
def test_rounding_carried_by_a_coupling_zero_at_the_probed_points_is_no_success(method, rtol,
                                                                                 atol):
    """The coupling c(s) = sin(2 pi s) above to atol = (1e-6, ``atol``): trapezoid and
    gregory4 were successes with y2's errors 11 to 114 times its tolerance."""
    atol = np.array([1e-6, atol])
    sol = solve_volterra(_coupled_off, lambda t: np.array([1e5, 0.0]), (0.0, 1.0),
                         method=method, args=(2e-11,), rtol=rtol, atol=atol)
    _assert_no_success_over_tolerance(sol, _off_exact, rtol, atol)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("tolerance", [None, (1e-6, 1e-13), (1e-3, 1e-14)])
def test_rounding_a_vide_carries_by_a_coupling_zero_at_the_probed_points_is_caught(method,
                                                                                   tolerance):
    """y1' = 2e-11, y1(0) = 1e5, y2' = sin(2 pi t) (y1 - 1e5): f's coupling is zero at t0,
    at the middle and at the end; on 10 steps y2's estimates were 0 for errors of 3.2e-12,
    and to atol = (1e-6, 1e-13 or 1e-14) gauss2 and radau3 were successes with y2's errors
    32 and 318 times its tolerance."""
    y0 = np.array([1e5, 0.0])
    if tolerance is None:
        sol = solve_vide(_fed_off, None, y0, (0.0, 1.0), 10, method=method, args=(2e-11,))
        t = np.asarray(sol.t, dtype=np.longdouble)
        error = np.abs(sol.y[:, 1] - _off_exact(t)[:, 1]).astype(float)
        assert sol.success
        assert error.max() > 1e-13
        assert np.all(error <= sol.error_estimate[:, 1])
        return
    rtol, atol = tolerance[0], np.array([1e-6, tolerance[1]])
    sol = solve_vide(_fed_off, None, y0, (0.0, 1.0), method=method, args=(2e-11,), rtol=rtol,
                     atol=atol)
    _assert_no_success_over_tolerance(sol, _off_exact, rtol, atol)


def _bump_coupled(t, s, y, a):
    """y1 = 1e5 + int 2e-11, y2 = int c(s) (y1 - 1e5), c = 100 sin^2 on [a, a + 0.05], else 0."""
    c = 0.0
    if a < s < a + 0.05:
        x = math.sin(math.pi * (s - a) / 0.05)
        c = 100.0 * x * x
    return np.array([2e-11, c * (y[0] - 1e5)])


def _bump_coupled_exact(t, a):
    """(y1, y2) of :func:`_bump_coupled`: y2 = 1e-9 int_a^min(t, a + w) s (1 - cos(k (s - a)))
    ds, k = 2 pi / w."""
    t = np.asarray(t, dtype=float)
    w = 0.05
    k = 2.0 * np.pi / w
    u = np.clip(t - a, 0.0, w)
    y2 = 1e-9 * (a * u + u * u / 2 - (a + u) * np.sin(k * u) / k - (np.cos(k * u) - 1) / k ** 2)
    return np.stack([1e5 + 2e-11 * t, y2], axis=-1)


def _bump_growth(t, s, y, a):
    """y = 1e5 + int (2e-11 + r(s) (y - 1e5)), r = 400 sin^2 on [a, a + 0.05], else 0:
    10 e-folds on that stretch alone."""
    r = 0.0
    if a < s < a + 0.05:
        x = math.sin(math.pi * (s - a) / 0.05)
        r = 400.0 * x * x
    return 2e-11 + r * (y - 1e5)


def _bump_growth_exact(t, a):
    """y of :func:`_bump_growth`: 1e5 + 2e-11 e^R(t) int_0^t e^-R(s) ds, R = int_0^t r, by
    Gauss-Legendre on the bump."""
    w, k = 0.05, 2.0 * np.pi / 0.05

    def R(s):
        u = np.clip(s - a, 0.0, w)
        return 200.0 * (u - np.sin(k * u) / k)

    x, c = np.polynomial.legendre.leggauss(100)
    out = []
    for tk in np.asarray(t, dtype=float):
        hi = min(max(tk, a), a + w)
        s = a + (hi - a) * (x + 1) / 2
        inside = (hi - a) / 2 * np.sum(c * np.exp(-R(s)))
        after = max(tk - a - w, 0.0) * math.exp(-R(a + w))
        out.append(1e5 + 2e-11 * math.exp(R(tk)) * (min(tk, a) + inside + after))
    return np.array(out)


@pytest.mark.parametrize("method", ["trapezoid", "gauss2", "radau3"])
@pytest.mark.parametrize("a", [0.3, 0.6])
def test_rounding_carried_by_a_coupling_on_a_narrow_stretch_is_in_the_estimate(method, a):
    """y2 = int c(s) (y1 - 1e5) ds beside y1 = 1e5 + int 2e-11 ds, c a bump of width 0.05
    on [a, a + 0.05], 0 at t0, the middle, the last point and the two points off the mesh:
    y2's increments, lost with y1's, were 5e-12 to 1.6e-11 for estimates 50 to 1e4 times
    less or 0 (16 and 64 steps; ``_outcome._probed_points``)."""
    for n in (16, 64):
        sol = solve_volterra(_bump_coupled, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), n,
                             method=method, args=(a,))
        error = np.abs(sol.y[:, 1] - _bump_coupled_exact(sol.t, a)[:, 1])
        assert sol.success
        assert error.max() > 1e-13
        assert np.all(error <= sol.error_estimate[:, 1])


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("a", [0.3, 0.6])
def test_rounding_carried_by_a_coupling_on_a_narrow_stretch_is_no_success(method, a):
    """The bump coupling above to atol = (1e-6, 1e-13): gauss2 and radau3 were successes on
    4 and 8 steps with y2's errors 162 and 312 times its tolerance (estimates 0): a solve to
    a tolerance probes LEAST_PROBES points of its span."""
    rtol, atol = 1e-10, np.array([1e-6, 1e-13])
    sol = solve_volterra(_bump_coupled, lambda t: np.array([1e5, 0.0]), (0.0, 1.0),
                         method=method, args=(a,), rtol=rtol, atol=atol)
    _assert_no_success_over_tolerance(sol, lambda t: _bump_coupled_exact(t, a), rtol, atol)


@pytest.mark.parametrize("method", ["trapezoid", "gauss2", "radau3"])
@pytest.mark.parametrize("a", [0.3, 0.6])
@pytest.mark.parametrize("n", [16, None])
def test_rounding_grown_on_a_narrow_stretch_is_in_the_estimate(method, a, n):
    """y = 1e5 + int (2e-11 + r(s) (y - 1e5)) ds, r = 400 sin^2 on [a, a + 0.05] and 0
    elsewhere (0 at t0, the middle and the last point, where the floor's growth was probed,
    and only where the rate at t0 grew): every increment lost, y = 1e5 throughout, for
    errors of 1.4e-7 and 2.7e-7, 1.5e3 to 6e3 times the estimates (16 steps; and to rtol =
    atol = 1e-10 on 4 steps)."""
    if n is None and method == "trapezoid":
        pytest.skip("(trapezoid to a tolerance: not measured on main)")
    kwargs = {"rtol": 1e-10, "atol": 1e-10} if n is None else {}
    sol = solve_volterra(_bump_growth, lambda t: 1e5, (0.0, 1.0), n, method=method,
                         args=(a,), **kwargs)
    if not sol.success:
        return
    error = np.abs(sol.y - _bump_growth_exact(sol.t, a))
    assert error.max() > 1e-13
    assert np.all(error <= 20.0 * sol.error_estimate)


def _long_chain(t, s, y, a, c):
    """y1 = 1e5 + int a, y2 = int c (y1 - 1e5), y_(k+1) = int c y_k: a chain of y.size - 1
    links."""
    out = c * np.concatenate((np.zeros(1), y[:-1]))
    out[0] = a
    out[1] = c * (y[0] - 1e5)
    return out


def _long_chain_exact(t, m, c, a=2e-11):
    """The chain's solution, y_(k+1) = a c^k t^(k+1) / (k+1)! (long double)."""
    return np.stack([1e5 + a * t] + [a * np.longdouble(c) ** k * t ** (k + 1) /
                                     math.factorial(k + 1) for k in range(1, m)], axis=-1)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
@pytest.mark.parametrize("m, c", [(10, 5.0), (12, 8.0)])
def test_rounding_carried_along_a_chain_of_more_than_8_links_is_in_the_estimate(method, m, c):
    """The chain of ``_long_chain`` with 10 and 12 components (c = 5 and 8) on 16 steps: the
    floor carried
    a component's rounding along 8 links at most, and the last components' errors (up to
    3.2e-10) were 89 to 150 times their estimates.  The links now stop where no pair is first
    reached (``_estimate.rounding_floor``)."""
    y0 = np.zeros(m)
    y0[0] = 1e5
    sol = solve_volterra(_long_chain, lambda t: y0.copy(), (0.0, 1.0), 16, method=method,
                         args=(2e-11, c))
    t = np.asarray(sol.t, dtype=np.longdouble)
    error = np.abs(sol.y - _long_chain_exact(t, m, c)).astype(float)
    assert sol.success
    assert error[:, 9:].max() > 1e-12
    assert np.all(error <= sol.error_estimate)


@pytest.mark.parametrize("method", ["gauss2", "trapezoid"])
def test_rounding_carried_along_a_chain_of_more_than_8_links_is_no_success(method):
    """The chain of 12 components (c = 8) to rtol = 1e-6, atol 1e-6 (1e-11 for the last):
    gauss2, radau3 and trapezoid were successes with the last one's error 25 to 34 times its
    tolerance."""
    y0 = np.zeros(12)
    y0[0] = 1e5
    atol = np.full(12, 1e-6)
    atol[-1] = 1e-11
    sol = solve_volterra(_long_chain, lambda t: y0.copy(), (0.0, 1.0), method=method,
                         args=(2e-11, 8.0), rtol=1e-6, atol=atol)
    _assert_no_success_over_tolerance(sol, lambda t: _long_chain_exact(t, 12, 8.0), 1e-6, atol)


def _grown_offset(t, s, y, a, k):
    return a + k * (y - 1e5)


def _grown_loop(t, s, y, a, k):
    return np.array([a + k * y[1], k * (y[0] - 1e5)])


def _grown_rotation(t, s, y, a, k):
    return np.array([a - k * y[1], k * (y[0] - 1e5)])


@pytest.mark.parametrize("method", ["gauss2", "radau3", "trapezoid"])
@pytest.mark.parametrize("form", ["scalar", "loop"])
def test_rounding_grown_by_the_problem_is_in_the_estimate(method, form):
    """y = 1e5 + int_0^t (2e-11 + 10 (y - 1e5)) ds (y = 1e5 + 2e-12 (e^(10 t) - 1)), and the
    loop y1 = 1e5 + int (2e-11 + 10 y2), y2 = int 10 (y1 - 1e5) (each feeding the other), on
    16 steps: the first increments, below half an ulp of 1e5, are lost alike by the solve and
    its companions, and the linearised problem grows the loss e^10 times: errors of 1.8e-8 to
    3.7e-8 were 9 to 418 times the estimates, the floor sqrt(N) eps |y|.  The floor now
    grows the rounding of each point with the problem's growth rate
    (``_outcome._growth``)."""
    a, k = 2e-11, 10.0
    if form == "scalar":
        sol = solve_volterra(_grown_offset, lambda t: 1e5, (0.0, 1.0), 16, method=method,
                             args=(a, k))
        t_ = np.asarray(sol.t, dtype=np.longdouble)
        exact = (1e5 + a * np.expm1(k * t_) / k)[:, None]
    else:
        sol = solve_volterra(_grown_loop, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), 16,
                             method=method, args=(a, k))
        t_ = np.asarray(sol.t, dtype=np.longdouble)
        exact = np.stack([1e5 + a * np.sinh(k * t_) / k, a * (np.cosh(k * t_) - 1) / k],
                         axis=-1)
    error = np.abs(np.asarray(sol.y).reshape(exact.shape) - exact).astype(float)
    estimate = np.asarray(sol.error_estimate).reshape(exact.shape)
    assert sol.success
    assert error.max() > 1e-9
    assert np.all(error <= estimate)


@pytest.mark.parametrize("method", ["gauss2", "radau3"])
def test_rounding_of_a_rotation_loop_is_not_grown(method):
    """The rotation y1 = 1e5 + int (2e-11 - 10 y2), y2 = int 10 (y1 - 1e5) does not grow
    (eigenvalues +-10 i): its floor stays sqrt(N) eps |y| and the one its coupling carries,
    the estimates below 1e-8 (an error of 2e-11; grown e^10 times they would be 1e-6)."""
    sol = solve_volterra(_grown_rotation, lambda t: np.array([1e5, 0.0]), (0.0, 1.0), 16,
                         method=method, args=(2e-11, 10.0))
    assert sol.success
    assert np.max(sol.error_estimate) < 1e-8


def _lost_renewal_u(t, s, y):
    return (t - s) * (y - 1e5)


def _lost_renewal_squared(t, s, y):
    return (t - s) * (y - 1e5) * (y / 1e5) ** 2


def _solved_renewal(kernel, exact, *n_steps, g=None, **options):
    """(sol, error): the renewal problem y = g + int_0^t k(t - s) (y - 1e5) ds on [0, 10] of
    ``kernel`` (g = 1e5 + 2e-11 t unless given) solved with ``options``, and its errors against
    ``exact``."""
    sol = solve_volterra(kernel, g or (lambda t: 1e5 + 2e-11 * t), (0.0, 10.0), *n_steps,
                         **options)
    return sol, np.abs(sol.y - exact(sol.t)).astype(float)


def _lost_renewal_u2(t, s, y):
    return (t - s) ** 2 * (y - 1e5)


def _lost_renewal_pair(t, s, y):
    return np.array([(t - s) * (y[1] - 1e5), (t - s) * (y[0] - 1e5)])


def _lost_renewal_exact(t, form):
    """y of y = 1e5 + 2e-11 t + int k(t - s) (y - 1e5) ds: k = u, 1e5 + 2e-11 sinh t (y'' = y;
    ``squared``'s factor (y / 1e5)^2 is 1 within 1e-11 of it); k = u^2, 1e5 + 2e-11 sum_p
    e^(p t) / (3 p) over the roots of p^3 = 2; the pair k = u crossed,
    1e5 + 1e-11 (sinh t +- sin t)."""
    t = np.asarray(t, dtype=np.longdouble)
    if form == "u2":
        roots = 2.0 ** (1.0 / 3.0) * np.exp(2j * np.pi * np.arange(3) / 3)
        z = 2e-11 * np.real(np.sum(np.exp(np.multiply.outer(np.asarray(t, dtype=float),
                                                            roots)) / (3 * roots), axis=-1))
        return 1e5 + np.asarray(z, dtype=np.longdouble)
    if form == "pair":
        return np.stack([1e5 + 1e-11 * (np.sinh(t) + np.sin(t)),
                         1e5 + 1e-11 * (np.sinh(t) - np.sin(t))], axis=-1)
    return 1e5 + 2e-11 * np.sinh(t)


_LOST_RENEWALS = {"u": _lost_renewal_u, "squared": _lost_renewal_squared,
                  "u2": _lost_renewal_u2, "pair": _lost_renewal_pair}


@pytest.mark.parametrize("form, method, n", [
    ("u", "gauss2", 64), ("u", "radau3", None), ("u", "trapezoid", None),
    ("squared", "radau3", None), ("u2", "gregory4", None), ("pair", "radau3", None),
    ("pair", "gauss2", 64)])
def test_rounding_grown_through_the_memory_is_in_the_estimate(form, method, n):
    """y = 1e5 + 2e-11 t + int_0^t k(t - s) (y - 1e5) ds on [0, 10] (``_lost_renewal_exact``):
    k = u (y'' = y), its nonlinear form (y / 1e5)^2 k (y - 1e5), u^2 (a third-order growth,
    2^(1/3)) and a pair crossed by k = u, on 64 steps and to rtol = atol = 1e-8: the
    increments lost alike by the solve and its companions grow through the memory alone,
    dK/dy(t, t, y) = 0, and the errors (1e-8 to 2e-6) were 56 to 456 times the estimates, the
    floor sqrt(N) eps |y| that saw no growth (gauss2 on 64 steps; radau3 and gregory4 to the
    tolerance).  The floor now grows with the memory's rate
    (``_outcome._with_memory_growth``)."""
    if form == "pair":
        def g(t):
            return np.array([1e5 + 2e-11 * t, 1e5])
    else:
        def g(t):
            return 1e5 + 2e-11 * t
    kwargs = {"rtol": 1e-8, "atol": 1e-8} if n is None else {}
    sol = solve_volterra(_LOST_RENEWALS[form], g, (0.0, 10.0), n, method=method, **kwargs)
    exact = _lost_renewal_exact(sol.t, form)
    error = np.abs(np.asarray(sol.y).reshape(exact.shape) - exact).astype(float)
    estimate = np.asarray(sol.error_estimate).reshape(exact.shape)
    assert sol.success
    assert error.max() > 1e-9
    assert np.all(error <= 20.0 * estimate)


@pytest.mark.parametrize("method", ["gauss2", "radau3", "trapezoid"])
def test_a_memory_growth_floor_keeps_the_successes_it_can(method):
    """k = u^2 above to rtol = atol = 1e-10 (a tolerance 1e-5): successes with errors up to
    0.52 times it; the floor sqrt(N) eps max_l |y_l| e^(G_n - G_l), with the memory's growth,
    was 1.7 times the tolerance (a failure); as a random walk of the grown roundings it is
    0.68 times (``_estimate.rounding_floor``)."""
    sol, error = _solved_renewal(_lost_renewal_u2, lambda t: _lost_renewal_exact(t, "u2"),
                                 method=method, rtol=1e-10, atol=1e-10)
    assert sol.success, sol.message
    assert np.all(error <= 1e-10 + 1e-10 * np.abs(sol.y))
    assert np.all(error <= 20.0 * sol.error_estimate)


def test_the_memory_rate_is_the_growth_of_its_row():
    """``_outcome._memory_rate``: a constant row a (y = 1 + int a y ds) is the rate a; k = u
    over a long span about 1 (the root of int u e^(-r u) du = 1); k = 2 e^(-u), 1 where its
    diagonal says 2; a row that decays, 0, or a pair that rotates, 0 within a step of the
    grids; a pair crossed by k = u, 1; a row at u = 0 of h/2 |k| at least 1, None."""
    from integrallimits.volterra._outcome import _memory_rate
    ages = np.linspace(10.0, 0.0, 401)
    h = 10.0 / 400

    def rate(k):
        return _memory_rate(ages, h, [[[k(u)]] for u in ages])
    assert rate(lambda u: 0.7) == pytest.approx(0.7, abs=1e-3)
    assert rate(lambda u: u) == pytest.approx(1.0, abs=1e-2)
    assert rate(lambda u: 2.0 * math.exp(-u)) == pytest.approx(1.0, abs=1e-2)
    assert rate(lambda u: -3.0) == 0.0
    assert rate(lambda u: 100.0) is None
    assert _memory_rate(ages, h, [[[0.0, -2.0], [2.0, 0.0]] for _ in ages]) < 1e-3
    assert _memory_rate(ages, h, [[[0.0, u], [u, 0.0]] for u in ages]) == \
        pytest.approx(1.0, abs=1e-2)


def _readme_kernel(t, s, y):
    return np.exp(-(t - s)) * y * y


@pytest.mark.parametrize("method", ["trapezoid", "gauss2", "radau3", "gregory4"])
def test_the_memory_gate_skips_the_rate_where_no_rate_can_matter(monkeypatch, method):
    """The README problem (K = e^(-(t-s)) y^2, dK/dy depends on t) at N = 8 and 32: its row's
    Gronwall bound shows no memory rate can raise an estimate (~1e-4 to 1e-12 against a floor
    ~1e-15), so ``_memory_rate`` is not called (it was, 60-100 us a call at N = 8); the values,
    estimates and nfev are those of the rate found and applied (the gate off)."""
    from integrallimits.volterra import _outcome
    found = {}
    for n in (8, 32):
        for gated in (True, False):
            if gated:
                def refused(*args):
                    raise AssertionError("the memory's rate was solved for")
                monkeypatch.setattr(_outcome, "_memory_rate", refused)
            else:
                monkeypatch.undo()
                monkeypatch.setattr(_outcome, "_memory_cannot_matter", lambda *a: False)
            sol = solve_volterra(_readme_kernel, lambda t: np.exp(-2 * t), (0.0, 1.0), n,
                                 method=method)
            assert sol.success
            found[gated] = (sol.y.copy(), sol.error_estimate.copy(), sol.stats["nfev"])
            monkeypatch.undo()
        assert np.array_equal(found[True][0], found[False][0])
        assert np.array_equal(found[True][1], found[False][1])
        assert found[True][2] == found[False][2]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(-30.0, 30.0), min_size=9, max_size=9),
       st.floats(0.1, 20.0), st.floats(-3.0, 3.0), st.floats(0.0, 40.0),
       st.integers(2, 40), st.floats(0.0, 3.0))
def test_the_memory_gate_passes_no_rate_that_raises_an_estimate(kappa, span, shift, room, n,
                                                                 diagonal):
    """``_outcome._memory_cannot_matter`` says so only where the floor made with the rate
    ``_memory_rate`` finds for the row (G = max(the diagonal's, r (t - t0))) is below every
    estimate: estimates e^(room + c (t - t0)) times the floor sqrt(N) eps |y| about the rate
    (c within a factor of it), rows of both signs and up to h/2 |k| near 1 at u = 0."""
    from integrallimits.volterra._estimate import rounding_floor
    from integrallimits.volterra._outcome import ROW_PROBES, _memory_cannot_matter, _memory_rate
    t = np.linspace(1.0, 1.0 + span, n + 1)
    Y = (1.0 + 0.5 * np.sin(3.0 * t))[:, None]
    h = span / ROW_PROBES
    rows = [[[k / span]] for k in kappa]
    rate = _memory_rate([span * (1.0 - i / ROW_PROBES) for i in range(ROW_PROBES + 1)], h,
                        rows)
    c = (rate or 0.0) * math.exp(shift)
    growth = diagonal * (t - t[0]) / span if diagonal > 0.5 else None
    base = math.sqrt(n) * 2.220446049250313e-16 * np.maximum.accumulate(np.abs(Y[:, 0]))
    est = (base * np.exp(room / 10.0 + c * (t - t[0])
                         + (0.0 if growth is None else growth)))[:, None]
    if not _memory_cannot_matter(t, Y, est, growth, rows):
        return
    G = None if rate is None else rate * (t - t[0])
    if G is not None and growth is not None:
        G = np.fmax(growth, G)
    elif G is None:
        G = growth
    floor = rounding_floor(Y, None, None, None, G)
    assert np.all(est[1:] >= floor[1:])


def test_the_memory_gate_refuses_an_estimate_whose_room_underflows():
    """``_outcome._memory_cannot_matter`` on values of 1e300 with estimates of 5e-324: the
    ratio of an estimate to its floor sqrt(N) eps |y| underflows to 0, below every floor (it
    raised math.log's ValueError); by blocks longer than one (the NumPy form), and the same
    decision on every block size."""
    from integrallimits.volterra import _outcome
    t = np.linspace(0.0, 1.0, 11)
    Y = np.full((11, 1), 1e300)
    est = np.full((11, 1), 5e-324)
    rows = [[[0.1]] for _ in range(_outcome.ROW_PROBES + 1)]
    assert _outcome._memory_cannot_matter(t, Y, est, None, rows) is False
    est = np.full((11, 1), 1e290)
    found = set()
    for block in (1, 3, 4096):
        _outcome._BLOCK, before = block, _outcome._BLOCK
        try:
            found.add(_outcome._memory_cannot_matter(t, Y, est, None, rows))
        finally:
            _outcome._BLOCK = before
    assert found == {True}


def test_the_memory_row_probes_are_the_kernels_derivatives_at_t():
    """``probe.memory(T, s, y, y0)`` is dK/dy(T, s, y) (scalar and pair, d + 1 evaluations a
    point), and the pair's diagonal probe dK/dy(s, s, y): a loop index once took the pair's
    t in the compiled probes."""
    from integrallimits.volterra import _tolerance
    for function, y in ((_lost_renewal_u, [1e5]), (_lost_renewal_pair, [1e5, 1e5])):
        d = len(y)
        kernel = as_kernel(function, np.array(y) if d > 1 else y[0], 0.0)
        probe = _tolerance.rate_jacobian_probe(kernel)
        rows, calls = probe.memory(10.0, [0.0, 4.0, 10.0], [y] * 3, y)
        assert calls == 3 * (d + 1)
        for row, s in zip(rows, (0.0, 4.0, 10.0)):
            expected = (10.0 - s) * (np.eye(1) if d == 1 else np.array([[0, 1], [1, 0]]))
            assert np.allclose(row, expected, rtol=1e-6, atol=1e-9)
        if d > 1:
            assert np.allclose(probe.jacobians([4.0], [y], y)[0][0], 0.0, atol=1e-9)


def _decaying_renewal(t, s, y):
    return 2.0 * np.exp(-(t - s)) * (y - 1e5)


def _decaying_renewal_exact(t):
    """y of y = 1e5 + 2e-11 t + int 2 e^(-(t - s)) (y - 1e5) ds: 1e5 + 2e-11 (2 (e^t - 1) - t)
    (the resolvent 2 e^t: the growth rate 1, the diagonal's dK/dy 2)."""
    t = np.asarray(t, dtype=np.longdouble)
    return 1e5 + np.longdouble(2e-11) * (2 * np.expm1(t) - t)


@pytest.mark.parametrize("method, n", [("gauss2", 64), ("radau3", 32), ("trapezoid", 64),
                                       ("gregory4", 64)])
def test_a_decaying_memorys_floor_grows_at_its_rate_not_the_diagonals(method, n):
    """k = 2 e^(-u) on [0, 10] (``_decaying_renewal``): the diagonal's dK/dy = 2 grew the floor
    as e^(2 t), 1.6e-2 on 64 steps for errors of 5e-8 to 7e-8 (3e5 times), where the growth
    is e^t (Lotka's 2 / (1 + r) = 1); the memory's rows now replace it
    (``_outcome._memory_bounds_diagonal``): the estimates still hold the errors, within 50
    times the largest."""
    sol, error = _solved_renewal(_decaying_renewal, _decaying_renewal_exact, n, method=method)
    assert sol.success
    assert error.max() > 1e-9
    assert np.all(error <= sol.error_estimate)
    assert np.max(sol.error_estimate) <= 50.0 * error.max()


def test_a_coarse_mesh_keeps_the_diagonals_growth():
    """gregory4 to rtol = atol = 1e-10 on k = 2 e^(-u)'s problem stops on 8 steps, h dK/dy =
    2.5, where a parasitic growth took its error at T to 1.18 times the tolerance, 10.6 times
    its estimate: the diagonal's floor (a failure) is kept on a mesh whose steps span more
    than an e-fold of the diagonal's rate (``_outcome.STEP_FOLDS``)."""
    sol, error = _solved_renewal(_decaying_renewal, _decaying_renewal_exact, method="gregory4",
                                 rtol=1e-10, atol=1e-10)
    if sol.success:
        assert np.all(error <= 1e-10 + 1e-10 * np.abs(sol.y))
        assert np.all(error <= sol.error_estimate)


@pytest.mark.parametrize("method, tolerance", [
    ("trapezoid", 1e-8), ("gregory4", 1e-8), ("gregory4", 1e-10), ("gauss2", 1e-8),
    ("radau3", 1e-10), ("radau4", 1e-8)])
def test_a_renewal_solve_over_the_diagonals_floor_refines_to_the_memorys(method, tolerance):
    """k = 2 e^(-u) on [0, 10] to rtol = atol = 1e-8 and 1e-10: every method failed on 4 to
    8 steps, where the diagonal's floor e^(2 t), kept on steps of h dK/dy > 1, was 11 (1e-8)
    or 1080 (1e-10) times the tolerance; now solved again on the 24 steps the memory's floor
    e^t needs (``_tolerance.rounded_to_tolerance``'s refine): successes with errors within
    the tolerance and the estimates (gregory4 at 1e-10 on 8 steps: an error 1.18 times the
    tolerance, 10.6 times its estimate, a failure still on that mesh)."""
    sol, error = _solved_renewal(_decaying_renewal, _decaying_renewal_exact, method=method,
                                 rtol=tolerance, atol=tolerance)
    assert sol.success, sol.message
    assert len(sol.t) - 1 >= 24
    assert np.all(error <= tolerance * (1.0 + np.abs(sol.y)))
    assert np.all(error <= sol.error_estimate)


@pytest.mark.parametrize("method, most", [("gregory4", 6000), ("radau4", 45000)])
def test_a_renewal_solve_on_the_floors_steps_doubles_where_its_levels_drift_within_it(method,
                                                                                   most):
    """k = 2 e^(-u) to rtol = atol = 1e-8 (the test above): the uniform solve on the 24 steps
    the memory's floor needs found its levels drifting apart by 9.5e-9 (gregory4; the
    tolerance 1e-3 there), "unresolved", and went on to 4 times the steps, 96: 9592 and 107012
    kernel evaluations (gregory4, radau4), where 48 steps meet the tolerance, 4257 and 30596
    (``_tolerance._unresolved_growth``)."""
    sol, error = _solved_renewal(_decaying_renewal, _decaying_renewal_exact, method=method,
                                 rtol=1e-8, atol=1e-8)
    assert sol.success, sol.message
    assert np.all(error <= 1e-8 * (1.0 + np.abs(sol.y)))
    assert np.all(error <= sol.error_estimate)
    assert sol.nfev <= most


def _decaying_renewal_pair(t, s, y):
    e = 2.0 * np.exp(-(t - s))
    return np.array([e * (0.6 * (y[0] - 1e5) + 0.4 * (y[1] - 1e5)),
                     e * (0.3 * (y[0] - 1e5) + 0.7 * (y[1] - 1e5))])


def _decaying_renewal_pair_forcing(t):
    return np.array([1e5 + 6e-11 * t, 1e5 - 1e-11 * t])


def _decaying_renewal_pair_exact(t):
    """y of y = (1e5 + 6e-11 t, 1e5 - 1e-11 t) + int 2 e^(-(t - s)) A (y - 1e5) ds, A = [[0.6,
    0.4], [0.3, 0.7]] (eigenvalues 1 and 0.3, vectors (1, 1) and (4, -3)): the forcing
    2e-11 t (1, 1) + 1e-11 t (4, -3), each mode a scalar renewal, 2e-11 (2 (e^t - 1) - t) as
    ``_decaying_renewal_exact``'s (the growth rate 1, the diagonal's 2) and 1e-11 (3.75
    (e^(-0.4 t) - 1) + 2.5 t) (the resolvent of k = 0.6 e^(-u))."""
    t = np.asarray(t, dtype=np.longdouble)
    grown = np.longdouble(2e-11) * (2 * np.expm1(t) - t)
    decayed = np.longdouble(1e-11) * (3.75 * np.expm1(-0.4 * t) + 2.5 * t)
    return np.stack([1e5 + grown + 4 * decayed, 1e5 + grown - 3 * decayed], axis=-1)


_PAIR_FLOOR = ("radau3's error on 64 steps, 3.18e-8, is below the scalar mode's (6.2e-8) and "
               "the pair's floor is the scalar mode's, 1.86e-6 (Perron vector (1, 1)): 58.5 "
               "times; no floor tighter than the growing mode's is derived")


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gauss2", "radau3", "radau4"])
def test_a_renewal_pairs_floor_meets_a_tolerance_its_errors_meet(method):
    """``_decaying_renewal``'s problem as a pair (``_decaying_renewal_pair_exact``: dK/dy(t, t)
    = 2 A, the diagonal's growth 2, the memory's 1) to rtol = atol = 1e-10: every method
    failed on the rounding floor (1.3 to 9.98e3 times the tolerance, on the 4 to 32 steps it
    reported; gregory4's 8 steps rightly, an error 1.61 times the tolerance), where the
    scalar mode succeeds on the 24 steps the memory's floor allows (test above) and the
    pair's errors on 24 and 64 steps are 1e-8 to 1.3e-7 (trapezoid on 24: 1.8e-6), below
    1e-2 of the tolerance 1e-5: the memory's growth replaces the diagonal's for the pair too
    (e^10.8, a floor of 1.33e-6 on 24 steps), but the coupling term on top of it makes the
    floor 1.2e-5, over the tolerance, on every mesh from 24 steps on.  Now the floor is at
    most the rounding carried by the growing mode, weighed by the Perron vector of the
    memory's rows ((1, 1) here: ``_outcome._perron_vector``, ``_estimate._weighed``), the
    scalar mode's floor: successes on 24 to 96 steps, errors within the tolerance and the
    estimates."""
    sol, error = _solved_renewal(_decaying_renewal_pair, _decaying_renewal_pair_exact,
                                 g=_decaying_renewal_pair_forcing, method=method, rtol=1e-10,
                                 atol=1e-10)
    assert sol.success, sol.message
    assert np.all(error <= 1e-10 * (1.0 + np.abs(sol.y)))
    assert np.all(error <= sol.error_estimate)


@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gauss2", "radau3", "radau4"])
def test_a_renewal_pairs_estimates_hold_its_errors(method):
    """The pair above on 64 steps: successes whose estimates hold the errors (no false
    success; the floor carries the memory's growth e^10.8 and the coupling: 1.68e-5 for
    errors of 1.0e-8 (gregory4) to 1.3e-7 (trapezoid); 1.86e-6 with the Perron weights)."""
    sol, error = _solved_renewal(_decaying_renewal_pair, _decaying_renewal_pair_exact, 64,
                                 g=_decaying_renewal_pair_forcing, method=method)
    assert sol.success, sol.message
    assert error.max() > 1e-9
    assert np.all(error <= sol.error_estimate)


@pytest.mark.parametrize("method", ["gauss2", pytest.param("radau3", marks=pytest.mark.xfail(
    strict=True, reason=_PAIR_FLOOR))])
def test_a_renewal_pairs_floor_is_within_50_times_its_error(method):
    """The pair on 64 steps to ``test_a_decaying_memorys_floor_grows_at_its_rate_not_the_
    diagonals``'s bar (the scalar mode's estimates within 36 (gauss2) and 30 (radau3) times
    the largest error, its floor 1.86e-6): the pair's were 447 and 527 times (the floor
    1.68e-5, 9 times the scalar's by the coupling term; errors of 3.7e-8 and 3.2e-8); now
    49.7 and 58.5 times, the floor the scalar mode's (radau3 a strict xfail still: its error
    is half the scalar mode's)."""
    sol, error = _solved_renewal(_decaying_renewal_pair, _decaying_renewal_pair_exact, 64,
                                 g=_decaying_renewal_pair_forcing, method=method)
    assert np.max(sol.error_estimate) <= 50.0 * error.max()


def _coupled_renewal(t, s, y, a11, a12, a21, a22, c1, c2, p1, p2):
    e = 2.0 * np.exp(-(t - s))
    return np.array([e * (a11 * (y[0] - c1) + a12 * (y[1] - c2)),
                     e * (a21 * (y[0] - c1) + a22 * (y[1] - c2))])


def _coupled_renewal_forcing(t, a11, a12, a21, a22, c1, c2, p1, p2):
    return np.array([c1 + p1 * t, c2 + p2 * t])


def _coupled_renewal_exact(t, A, c, p):
    """y of y = c + p t + int_0^t 2 e^(-(t - s)) A (y - c) ds, A 2 x 2 with real distinct
    eigenvalues lambda (vectors V): y - c = V x, each mode x_k of the forcing q_k t (q =
    V^-1 p) a scalar renewal of k = 2 lambda e^(-u), x_k = q_k t + 2 lambda q_k (e^(b t) - 1 -
    b t) / b^2, b = 2 lambda - 1 (``_decaying_renewal_exact``'s at lambda = 1)."""
    lam, V = np.linalg.eig(np.array(A, dtype=float))
    q = np.linalg.solve(V, np.array(p, dtype=float))
    t = np.asarray(t, dtype=np.longdouble)
    modes = []
    for a, qk in zip(2.0 * lam.real, q.real):
        b = np.longdouble(a - 1.0)
        modes.append(qk * t + a * qk * (np.expm1(b * t) - b * t) / (b * b))
    return np.array(c, dtype=np.longdouble) + np.stack(modes, axis=-1) @ \
        V.real.T.astype(np.longdouble)


@pytest.mark.parametrize("A, c, p", [
    ([[0.8, 5.5], [0.004, 0.8]], (1.0, 1e5), (0.0, 2e-11)),
    ([[0.8, 5.5], [0.004, 0.8]], (1e5, 1e5), (0.0, 2e-11)),
    ([[0.4, 0.5], [0.0, 1.1]], (1.0, 1e5), (0.0, 2e-11)),
    ([[1.1, 0.5], [0.0, 0.4]], (1.0, 1e5), (0.0, 2e-11)),
    ([[1.1, 0.0], [0.0, 0.4]], (1e5, 1e5), (2e-11, 2e-11))],
    ids=["non-normal, y1 small", "non-normal", "zero entry, Perron (0.71, 1)",
         "zero entry, Perron (1, 0)", "diagonal"])
@pytest.mark.parametrize("method", ["trapezoid", "gregory4", "gauss2", "radau3", "radau4"])
def test_a_coupled_renewals_floor_holds_the_rounding_its_components_feed(A, c, p, method):
    """y = c + p t + int 2 e^(-(t - s)) A (y - c) ds on [0, 10], 64 steps, the increments of
    the component at 1e5 lost (``_coupled_renewal_exact``): the floor weighs the rounding by
    the Perron vector of the memory's rows where the memory's growth replaces the
    diagonal's (``_outcome._perron_vector``), and keeps the coupling's sum where that vector
    has a zero entry (A upper triangular with the growing mode first) or there is no coupling
    (A diagonal).  Non-normal A (eigenvalues 0.948 and 0.652, its Perron vector (1, 0.027):
    a rounding in y2 reaches y1 37 times over) and A with a zero entry, y1 at 1 fed by y2 at
    1e5: successes whose estimates hold the errors (9 to 44 times at the closest point);
    each component's floor of its own size alone, with the growth but without what the
    other feeds it, was below y1's error on 11 of these 25 solves (0.0027 times it with
    trapezoid on the non-normal pair with y1 small, 0.005 with radau3 on (0.71, 1), 0.03
    with gregory4 on (1, 0))."""
    args = (*A[0], *A[1], *c, *p)
    sol = solve_volterra(_coupled_renewal, _coupled_renewal_forcing, (0.0, 10.0), 64,
                         method=method, args=args)
    error = np.abs(sol.y - _coupled_renewal_exact(sol.t, A, c, p)).astype(float)
    assert sol.success, sol.message
    assert error.max() > 1e-9
    assert np.all(error <= sol.error_estimate)


def test_the_perron_vector_weighs_a_nonnegative_memory_and_no_other():
    """``_outcome._perron_vector`` of the rows 2 e^(-u) A at their rate: A's Perron vector
    where it is positive ((1, 1) for _decaying_renewal_pair's A, (1, 0.027) for a non-normal
    A); None where it has a zero entry (A diagonal, or triangular with the growing mode
    first) or a row a negative entry; and ``_estimate.rounding_floor`` with those weights is
    the floor of max_j |y_j| / lo_j times hi_i where that is below the coupling's, the
    coupled floor otherwise (a zero or missing weight: as without)."""
    from integrallimits.volterra._estimate import rounding_floor
    from integrallimits.volterra._outcome import _perron_vector
    u = np.linspace(10.0, 0.0, 9)

    def rows(A):
        return [(2.0 * np.exp(-v) * np.array(A)).tolist() for v in u]
    v = _perron_vector(rows([[0.6, 0.4], [0.3, 0.7]]), 10.0, 1.0)
    assert np.allclose(v, [1.0, 1.0], rtol=1e-12)
    v = _perron_vector(rows([[0.8, 5.5], [0.004, 0.8]]), 10.0, 0.9)
    assert np.allclose(v, [1.0, math.sqrt(0.004 / 5.5)], rtol=1e-9)
    for A in ([[1.1, 0.0], [0.0, 0.4]], [[1.1, 0.5], [0.0, 0.4]], [[0.6, -0.4], [0.3, 0.7]]):
        assert _perron_vector(rows(A), 10.0, 1.0) is None
    t = np.linspace(0.0, 10.0, 65)
    Y = 1e5 + np.outer(t, [1e-6, 2e-6])
    G = t.copy()
    J = [[1.2, 0.8], [0.6, 1.4]]
    coupled = rounding_floor(Y, t, J, None, G)
    weighed = rounding_floor(Y, t, J, None, G, (np.ones(2), np.ones(2)))
    alone = rounding_floor(np.max(Y, axis=1)[:, None], growth=G)
    assert np.array_equal(weighed, np.fmin(coupled, alone))
    assert np.all(weighed[1:] < coupled[1:])
    assert np.array_equal(rounding_floor(Y, t, J, None, G, (np.ones(2), np.zeros(2))), coupled)
    assert np.array_equal(rounding_floor(Y, t, J, None, None, (np.ones(2), np.ones(2))),
                          rounding_floor(Y, t, J))


def _before_the_floor(method, n, tolerance):
    """k = 2 e^(-u)'s problem on n steps with its estimates as the companion made them (a
    solve to ``tolerance`` whose estimates met it before its rounding floor), and the same
    solve on given meshes (their checks and floors applied), for
    ``_tolerance.rounded_to_tolerance``."""
    def solve(steps):
        return solve_volterra(_decaying_renewal, lambda t: 1e5 + 2e-11 * t, (0.0, 10.0), steps,
                              method=method)
    sol = solve(n)
    sol._est2[...] = sol._companion_estimate
    assert np.all(sol._est2 <= tolerance * (1.0 + np.abs(sol._y2)))
    return sol, solve


@pytest.mark.parametrize("method, n", [("trapezoid", 8), ("gregory4", 8), ("gauss2", 4),
                                       ("radau3", 4), ("radau4", 8)])
def test_a_coarse_mesh_over_the_floor_is_solved_again_on_finer_steps(method, n):
    """k = 2 e^(-u) to rtol = atol = 1e-8 stopped on 4 to 8 steps (h dK/dy = 2.5 to 5), where
    the diagonal's floor e^(2 t) kept on such steps was 11 times the tolerance (a failure)
    and the memory's e^t 1e-3 times: with ``refine``, the solve on the 24 steps (a multiple
    of 8 with h dK/dy <= 1) that the memory's floor needs (or more, to the tolerance),
    floored, is the answer, its errors within the tolerance and its estimates; without, the
    failure as before."""
    from integrallimits.volterra._tolerance import rate_jacobian_probe, rounded_to_tolerance
    probe = rate_jacobian_probe(as_kernel(_decaying_renewal, 1e5, 0.0))
    sol, solve = _before_the_floor(method, n, 1e-8)
    assert not rounded_to_tolerance(sol, (1e-8, 1e-8), probe).success
    asked = []

    def refine(steps):          # (as a solve to the tolerance: doubled until it meets it)
        asked.append(steps)
        finer = solve(steps)
        while np.any(finer.error_estimate > 1e-8 * (1.0 + np.abs(finer.y))):
            steps *= 2
            finer = solve(steps)
        return finer
    sol, _ = _before_the_floor(method, n, 1e-8)
    spent = sol.stats["nfev"]
    out = rounded_to_tolerance(sol, (1e-8, 1e-8), probe, refine=refine)
    assert out.success, out.message
    assert asked == [24] and len(out.mesh) - 1 in (24, 48)
    assert out.stats["nfev"] > spent
    error = np.abs(out.y - _decaying_renewal_exact(out.t)).astype(float)
    assert np.all(error <= 1e-8 * (1.0 + np.abs(out.y)))
    assert np.all(error <= out.error_estimate)


def test_a_coarse_mesh_is_not_solved_again_where_no_finer_one_can_meet_the_floor():
    """At rtol = atol = 1e-11 and 1e-12 the memory's floor on 24 steps, sqrt(24) eps 1e5
    e^10 = 2.4e-6, is over the tolerance (1e-6, 1e-7): no finer solve is asked for (the
    failure as before).  Nor is a finer solve the answer where its estimates are over the
    tolerance (``refine`` may be a given mesh's solve, unchecked against it)."""
    from integrallimits.volterra._tolerance import rate_jacobian_probe, rounded_to_tolerance
    probe = rate_jacobian_probe(as_kernel(_decaying_renewal, 1e5, 0.0))

    def refused(steps):
        raise AssertionError("a finer solve was asked for")
    for tolerance in (1e-11, 1e-12):
        sol, _ = _before_the_floor("gregory4", 8, 1e-8)
        np.minimum(sol._est2, 1e-13, out=sol._est2)   # (estimates that met the tolerance)
        assert not rounded_to_tolerance(sol, (tolerance, tolerance), probe,
                                        refine=refused).success

    def over(steps):
        finer = solve(steps)
        finer._est2[1:] = 2e-3              # (over 1e-8 (1 + 1e5))
        return finer
    sol, solve = _before_the_floor("gregory4", 8, 1e-8)
    out = rounded_to_tolerance(sol, (1e-8, 1e-8), probe, refine=over)
    assert not out.success and len(out.mesh) == 9


def _oscillating_renewal(t, s, y):
    return (t - s) * np.cos(t - s) * (y - 1e5)


def _oscillating_renewal_exact(t):
    """y of y = 1e5 + 2e-11 t + int (t - s) cos(t - s) (y - 1e5) ds: Z = 2e-11 (p^2 + 1)^2 /
    (p^2 (p^4 + p^2 + 2)) inverted by its residues (a double pole at 0, four at
    +-0.676 +- 0.978 i)."""
    from scipy.signal import residue
    num = 2e-11 * np.polymul([1, 0, 1], [1, 0, 1])
    r, p, _ = residue(num, np.polymul([1, 0, 0], [1, 0, 1, 0, 2]))
    t = np.asarray(t, dtype=float)
    out, seen = np.zeros(t.shape, dtype=complex), {}
    for ri, pi in zip(r, p):
        key = (round(pi.real, 8), round(pi.imag, 8))
        power = seen.get(key, 0)
        seen[key] = power + 1
        out += ri * t ** power / math.factorial(power) * np.exp(pi * t)
    return 1e5 + np.real(out).astype(np.longdouble)


@pytest.mark.parametrize("method, n", [("gauss2", 64), ("radau3", 16), ("trapezoid", 16),
                                       ("trapezoid", 64)])
def test_an_oscillating_memorys_growth_is_in_the_estimate(method, n):
    """k = u cos u on [0, 10]: int k e^(-r u) du = 1 has no real root (the memory's rate was
    0), the growth e^(0.676 t) the complex roots' (``_outcome._oscillating_memory_rate``):
    errors up to 2.3 (gauss2, 64 steps), 3.3 (radau3, 16) and 4.6 (trapezoid, 16) times the
    estimates."""
    sol, error = _solved_renewal(_oscillating_renewal, _oscillating_renewal_exact, n,
                                 method=method)
    assert sol.success
    assert error.max() > 1e-10
    assert np.all(error <= sol.error_estimate)


def test_an_oscillating_rows_rate_is_its_complex_roots():
    """``_outcome._memory_rate`` of k = u cos u on [0, 10] at 65 points: 0.676 (the real part
    of the roots of p^4 + p^2 + 2 = 0) within 0.01; a row of both signs that decays
    (-3 + cos u / 2), 0; the rates of rows of one sign as before."""
    from integrallimits.volterra._outcome import _memory_rate
    ages = [10.0 * (1.0 - i / 64) for i in range(65)]
    h = 10.0 / 64

    def rate(k):
        return _memory_rate(ages, h, [[[k(u)]] for u in ages])
    assert rate(lambda u: u * math.cos(u)) == pytest.approx(0.6761, abs=1e-2)
    assert rate(lambda u: -3.0 + 0.5 * math.cos(u)) == 0.0
    assert rate(lambda u: 2.0 * math.exp(-u)) == pytest.approx(1.0, abs=3e-2)


def _assert_estimates_hold_the_rounding(sol):
    """``sol`` (y = 1e5 e^(-t), an error of rounding alone, above 1e-13) a success within 20
    times its estimates at every point, y(t0)'s 0, the largest at most 16 eps 1e5."""
    exact = 1e5 * np.exp(-np.asarray(sol.t, dtype=np.longdouble))
    error = np.abs(sol.y - exact).astype(float)
    assert sol.success
    assert error.max() > 1e-13
    assert error.max() <= 20.0 * sol.stats["max_error_estimate"]
    assert np.all(error[1:] <= 20.0 * sol.error_estimate[1:])
    assert sol.error_estimate[0] == 0.0
    assert sol.stats["max_error_estimate"] <= 16.0 * np.finfo(float).eps * 1e5


@pytest.mark.parametrize("method, mesh", [("gauss4", 64), ("radau4", 64), ("gauss4", "graded")])
def test_a_volterra_estimate_on_a_given_mesh_is_at_least_the_rounding_of_its_values(method,
                                                                                    mesh):
    """y = 1e5 - int_0^t y ds (y = 1e5 e^(-t)) on 64 steps (and on a graded mesh): the error,
    rounding alone (1.5e-11 with gauss4), was 255 times the Richardson estimate (5.7e-14), the
    difference of two roundings; as for ``solve_vide``, the estimates are now at least
    sqrt(N) eps |y| so far (``_outcome.with_rounding_floor``), and y(t0) keeps its
    estimate 0."""
    from integrallimits.volterra import graded_mesh
    if mesh == "graded":
        sol = solve_volterra(_minus_y, lambda t: 1e5, mesh=graded_mesh(1.0, 48, 1.5),
                             method=method)
    else:
        sol = solve_volterra(_minus_y, lambda t: 1e5, (0.0, 1.0), mesh, method=method)
    _assert_estimates_hold_the_rounding(sol)


def test_the_worst_pair_factor_is_one_on_equal_pairs_and_large_for_a_tiny_step():
    """``worst_pair_factor``: 1 on a uniform mesh and near 1 on a graded one (below the
    WORST_PAIR_MAX from which the refined companion is used); about 2^p for a long step paired
    with a tiny one."""
    from integrallimits.volterra import graded_mesh
    from integrallimits.volterra._estimate import WORST_PAIR_MAX, worst_pair_factor
    for p in (2, 4, 8):
        assert abs(worst_pair_factor(np.linspace(0.0, 1.0, 33), p) - 1.0) < 1e-12
        assert worst_pair_factor(graded_mesh(1.0, 32, 2.0), p) < WORST_PAIR_MAX
        mesh = np.linspace(0.0, 1.0, 14)
        mesh[1] = 1e-9
        assert worst_pair_factor(mesh, p) > 0.9 * 2.0 ** p


def test_the_pair_factor_is_one_on_equal_pairs_and_follows_the_local_errors():
    """``pair_factor``: 1 where the companion's steps are two equal halves (uniform meshes, to
    rounding; a graded mesh, whose unequal pairs are its tiny first steps, below the 1.5 from
    which it applies); on steps alternating 1 and L, q / (1 - q) (2^p - 1) with
    q = (1 + L^(p+1)) / (1 + L)^(p+1), the share of the solution's local error in the
    companion's."""
    from integrallimits.volterra._estimate import PAIR_FACTOR_MIN, pair_factor
    from integrallimits.volterra import graded_mesh
    for p in (2, 4, 8):
        assert abs(pair_factor(np.linspace(0.0, 1.0, 33), p) - 1.0) < 1e-12
        assert pair_factor(graded_mesh(1.0, 32, 3.0), p) < PAIR_FACTOR_MIN
        for L in (2.0, 10.0):
            h = np.where(np.arange(16) % 2 == 0, 1.0, L)
            q = (1.0 + L ** (p + 1)) / (1.0 + L) ** (p + 1)
            expected = q / (1.0 - q) * (2.0 ** p - 1.0)
            assert abs(pair_factor(np.concatenate([[0.0], np.cumsum(h)]), p) / expected - 1) < 1e-12


@pytest.mark.parametrize("method, T, n", [("radau3", 300.0, 1), ("radau3", 700.0, 2),
                                          ("radau4", 700.0, 1), ("radau2", 100.0, 1),
                                          ("implicit-rectangle", 50.0, 1), ("radau1", 300.0, 8),
                                          ("gauss2", 1e20, 16), ("gauss4", 1e20, 4)])
def test_a_growth_that_no_first_steps_check_resolves_is_not_a_success(method, T, n):
    """y = 1 + int y ds (y = e^t) on steps of many e-folds: an implicit step that does not
    resolve the growth keeps the values bounded (Radau: y(300) = -0.011 on one radau3 step;
    Gauss: y = 1 over [0, 1e20]), on the companions' meshes and on the first-steps check's
    16 times shorter steps alike, so every estimate agreed (0.011 for an error of 1.9e130).
    Such a first step is checked with steps that resolve the growth (256 times shorter), and
    where those do not either, the solve fails unchecked."""
    sol = solve_volterra(_grow, ONE, (0.0, T), n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert len(sol.t) == 1 and sol.y[0] == 1.0


@pytest.mark.parametrize("method, T, n", [("radau3", 300.0, 1), ("radau2", 300.0, 2),
                                          ("radau1", 100.0, 2)])
def test_a_vide_growth_that_no_first_steps_check_resolves_is_not_a_success(method, T, n):
    """y' = y, y(0) = 1 as a VIDE (no memory) on steps of 100 and more e-folds: radau3 on one
    step over [0, 300] was a success with y(300) = -0.011 and the estimate 0.011."""
    sol = solve_vide(_vide_grow, _vide_no_memory, 1.0, (0.0, T), n, method=method)
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert len(sol.t) == 1


@pytest.mark.parametrize("method, n", [("radau3", 4), ("gauss2", 8), ("radau1", 16),
                                       ("trapezoid", 16), ("rk4", 8)])
def test_a_growth_that_the_finer_check_resolves_is_right_to_its_estimate(method, n):
    """A growth of up to a few e-folds a step (y = e^(2 t) on [0, 5]): the check resolves it;
    every success is right to 20 times its estimate."""
    sol = solve_volterra(_grow_twice, ONE, (0.0, 5.0), n, method=method)
    error = np.abs(sol.y - np.exp(2.0 * sol.t)).max()
    assert not sol.success or error <= 20.0 * sol.stats["max_error_estimate"]


@pytest.mark.parametrize("w, method, n", [(10.0, "radau1", 4), (10.0, "radau2", 2),
                                          (30.0, "radau3", 1), (100.0, "radau1", 8)])
def test_a_growth_the_memory_couples_into_a_vide_is_checked(w, method, n):
    """y' = z with the memory K = w^2 y (y'' = w^2 y: y = cosh(w t)) over 300 e-folds: f(t, y, 0)
    = 0 shows no growth, the coupled system's Jacobian [[0, 1], [w^2, 0]] has the eigenvalue w;
    every fixed-mesh success of the scan (21 of 75: radau1-radau3 on 1 to 8 steps) kept bounded
    values (radau3 on one step: y(300 / w) = -5.7e-4 for 9.7e129, estimate 1.7e-3)."""
    sol = solve_vide(_vide_z, _vide_growing_memory, 1.0, (0.0, 300.0 / w), n,
                     method=method, args=(w,))
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert np.abs(sol.y - np.cosh(w * sol.t)).max() <= 1e-12


def _vide_oscillator(t, y, z, w):
    return z


def _vide_oscillator_memory(t, s, y, w):
    return -w * w * y


@pytest.mark.parametrize("n", [1, 2, 5, 8, 48])
def test_a_vide_oscillation_a_low_order_damps_is_not_a_success(n):
    """y' = z, K = -w^2 y (y = cos(w t)), w = 30 on [0, 2]: radau1 damps the oscillation to
    nothing over its 60 radians, and its companions alike; on 48 steps of 1.25 radians (below
    the stiffness probe's threshold) and on 1 to 8 (the first-steps check at 0.5 radians a step
    damping it too) it was a success with errors of 0.95-1.02 and estimates of 0.007-0.22
    (``tools/trust_scan.py vide``: 10 successes without a digit, 3 of them wrong).  The phase
    error W (h w)^p over the interval has the first steps checked, on steps that keep the
    check's own phase error small."""
    sol = solve_vide(_vide_oscillator, _vide_oscillator_memory, 1.0, (0.0, 2.0), n, "radau1",
                     args=(30.0,))
    error = np.abs(sol.y - np.cos(30.0 * sol.t))
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-12)


@pytest.mark.parametrize("w, method, n", [(10.0, "radau1", 24), (30.0, "radau2", 32)])
def test_a_vide_oscillation_damped_after_its_first_steps_is_not_a_success(w, method, n):
    """y' = z, K = -w^2 y on [0, 2]: radau1 on 24 steps (w = 10) and radau2 on 32 (w = 30)
    are successes with errors of 1.01 and 0.99 for largest estimates of 0.25 and 0.31 (a point
    257 and 37 times its own estimate): their first steps are close enough to the check's
    finer solve, and the damping that takes every digit builds up later, where the companions
    damp alike (found by the mutation pass mut-30).  The error that the stability function
    R(h lambda) predicts for the mode lambda = i w, with the amplitude that the check measures
    at the first steps, builds up past half the size: they fail there, the values before right
    to their estimates (errors 0.20 and 0.46, estimates up to 0.42 and 0.49)."""
    sol = solve_vide(_vide_oscillator, _vide_oscillator_memory, 1.0, (0.0, 2.0), n, method,
                     args=(w,))
    error = np.abs(sol.y - np.cos(w * sol.t))
    assert not sol.success or np.all(error <= 20.0 * sol.error_estimate + 1e-12)


def _vide_two_oscillators_memory(t, s, y, w):
    # -M y, M = Q diag(w^2, w^2 / 4) Q^T with Q the rotation by 0.5: two coupled oscillations
    c, r = math.cos(0.5), math.sin(0.5)
    a, b = w * w, 0.25 * w * w
    m00, m01, m11 = c * c * a + r * r * b, c * r * (a - b), r * r * a + c * c * b
    return np.array([-(m00 * y[0] + m01 * y[1]), -(m01 * y[0] + m11 * y[1])])


def _two_oscillators(t, w):
    c, r = math.cos(0.5), math.sin(0.5)
    Q = np.array([[c, -r], [r, c]])
    u = Q.T @ np.array([1.0, 0.5])
    return np.stack([u[0] * np.cos(w * t), u[1] * np.cos(0.5 * w * t)], axis=1) @ Q.T


@pytest.mark.parametrize("kind, method, w, n", [
    ("scalar", "radau1", 5.0, 12), ("scalar", "radau1", 50.0, 96), ("scalar", "radau2", 10.0, 12),
    ("scalar", "radau2", 15.0, 16), ("scalar", "radau2", 20.0, 24), ("vector", "radau1", 5.0, 24),
    ("vector", "radau1", 10.0, 24), ("vector", "radau2", 20.0, 24)])
def test_a_vide_oscillation_whose_damping_builds_up_is_not_a_success(kind, method, w, n):
    """y' = z, K = -w^2 y on [0, 2], and the vector y' = z, K = -M y with two coupled
    oscillations (w and w / 2): in a search of radau1, radau2, gauss1 and gauss2, w = 5-50, 8-128
    steps, these were the successes without a digit, errors of 0.62-1.02 for largest estimates
    of 0.14-0.44 (radau1 on 96 steps, w = 50: 1.02 and 0.44; the vector radau1 on 24 steps,
    w = 5: 0.82 and 0.22, whose first steps were not checked, W (h w) = 4.2 < 1 / DRIFT).  The
    error that the stability function R(h lambda) predicts for the modes of the linearised
    problem, with the amplitudes that the check of the first steps measures, exceeds half the
    size, and the values kept are right to their estimates (15 of 504 solves were such
    successes before, none now, and no other success was lost)."""
    if kind == "scalar":
        sol = solve_vide(_vide_oscillator, _vide_oscillator_memory, 1.0, (0.0, 2.0), n, method,
                         args=(w,))
        error = np.abs(sol.y - np.cos(w * sol.t))
    else:
        sol = solve_vide(_vide_oscillator, _vide_two_oscillators_memory, np.array([1.0, 0.5]),
                         (0.0, 2.0), n, method, args=(w,))
        error = np.abs(sol.y - _two_oscillators(sol.t, w))
    assert not sol.success and sol.stats["failure"] == "unresolved", sol.message
    assert "R(h lambda)" in sol.message
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-12)


def _forced(t, y, z, w):
    return z + math.cos(t)


def _forced_memory(t, s, y, w):
    return -w * w * (y - math.sin(s))


@pytest.mark.parametrize("method, w, n", [("radau2", 30.0, 32), ("gauss2", 30.0, 32),
                                          ("radau1", 10.0, 24), ("gauss1", 30.0, 64)])
def test_a_forced_vide_oscillation_whose_free_mode_is_not_excited_stays_a_success(method, w, n):
    """y' = z + cos t, K = -w^2 (y - sin s), y(0) = 0: y = sin t, the oscillation of the
    linearised problem (w) never excited.  Its mode's error, as the stability function
    predicts it, is scaled by the amplitude that the check's difference at the first steps
    (near the method's local error) shows: the solves stay successes, with estimates within
    50 times their errors (with the solution's size as the amplitude, radau2 on 32 steps, an
    error of 6.6e-6, had the estimate 0.21 and failed)."""
    sol = solve_vide(_forced, _forced_memory, 0.0, (0.0, 2.0), n, method, args=(w,))
    error = np.abs(sol.y - np.sin(sol.t))
    assert sol.success, sol.message
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-12)
    assert sol.stats["max_error_estimate"] <= 50.0 * np.max(error)


@pytest.mark.parametrize("method, n", [("radau3", 128), ("gauss3", 64), ("radau2", 256)])
def test_a_resolved_vide_oscillation_stays_a_success(method, n):
    sol = solve_vide(_vide_oscillator, _vide_oscillator_memory, 1.0, (0.0, 2.0), n, method,
                     args=(30.0,))
    error = np.abs(sol.y - np.cos(30.0 * sol.t)).max()
    assert sol.success and error <= 20.0 * sol.stats["max_error_estimate"] and error < 0.02


def _negated_in_place(t, s, y):
    y *= -1.0
    return y


def _halves_first_in_place(x, s, y):
    y[0] = 0.5 * y[0]
    return (-y[0], -y[1])


@pytest.mark.parametrize("solver", ["rk4", "gauss2", "tolerance", "fredholm", "vide K", "vide f y",
                                    "vide f z", "jacobian"])
def test_a_user_function_that_changes_its_argument_in_place_is_refused(solver):
    """The compiled loops pass a vector y as a view of their own arrays (the solution's
    history, a stage): ``y *= -1; return y`` as K corrupted it (rk4 on 16 steps: a success 1.3
    off the solution of K = -y, estimate 0.1; the implicit methods: "Newton's method did not
    converge"). The probe call in Python refuses it, naming the argument."""
    two = lambda t: np.array([1.0, 2.0])  # noqa: E731

    def f_sets_z(t, y, z):
        z[0] = 1.0
        return -y

    def jacobian_zeroes_y(t, s, y):
        y[0] = 0.0
        return -np.eye(2)

    calls = {
        "rk4": lambda: solve_volterra(_negated_in_place, two, (0.0, 1.0), 16, method="rk4"),
        "gauss2": lambda: solve_volterra(_halves_first_in_place, two, (0.0, 1.0), 16,
                                         method="gauss2"),
        "tolerance": lambda: solve_volterra(_halves_first_in_place, two, (0.0, 1.0), rtol=1e-6),
        "fredholm": lambda: solve_fredholm(_negated_in_place, two, (0.0, 1.0), 8),
        "vide K": lambda: solve_vide(lambda t, y, z: z - y, _negated_in_place, np.ones(2),
                                     (0.0, 1.0), 16),
        "vide f y": lambda: solve_vide(lambda t, y, z: _negated_in_place(t, t, y), None,
                                       np.ones(2), (0.0, 1.0), 16),
        "vide f z": lambda: solve_vide(f_sets_z, lambda t, s, y: -y, np.ones(2), (0.0, 1.0), 16),
        "jacobian": lambda: solve_volterra(lambda t, s, y: -y, two, (0.0, 1.0), 16,
                                           method="gauss2", jacobian=jacobian_zeroes_y),
    }
    with pytest.raises(ValueError, match=r"changed its argument [yz] in place"):
        calls[solver]()


def _scaled_in_place(t, s, y):
    y *= np.exp(s - t)
    return -y


def _subtracts_z_in_place(t, y, z):
    y -= z
    return -y


def _doubles_z_in_place(t, y, z):
    z *= 2.0
    return z - y


@pytest.mark.parametrize("solver", ["vide f y rk4", "vide f y gauss2", "vide f z", "volterra",
                                    "volterra tolerance", "fredholm"])
def test_a_write_that_the_first_probe_cannot_see_is_refused(solver):
    """The first probe calls f at z = 0 and K at s = t, where ``y -= z`` and
    ``y *= exp(s - t)`` change nothing; inside the loop they corrupted the solver's arrays:
    on the base ``solve_vide`` with rk4 ended a success with y(1) = [0.514, 1.135] for
    [0.568, 1.313], gauss2 a Newton failure at its first step, K's a failure "no reliable
    digits" (rk4) or a step-size collapse (tolerance), and Fredholm's "1 is an eigenvalue".
    A second probe away from those points refuses them, naming the argument."""
    K = lambda t, s, y: np.array([np.exp(-(t - s)) * y[0], y[1]])  # noqa: E731
    two = lambda t: np.array([1.0, 2.0])  # noqa: E731
    y0 = np.array([1.0, 2.0])
    calls = {
        "vide f y rk4": lambda: solve_vide(_subtracts_z_in_place, K, y0, (0.0, 1.0), 16,
                                           method="rk4"),
        "vide f y gauss2": lambda: solve_vide(_subtracts_z_in_place, K, y0, (0.0, 1.0), 16,
                                              method="gauss2"),
        "vide f z": lambda: solve_vide(_doubles_z_in_place, K, y0, (0.0, 1.0), 16,
                                       method="rk4"),
        "volterra": lambda: solve_volterra(_scaled_in_place, two, (0.0, 1.0), 16, method="rk4"),
        "volterra tolerance": lambda: solve_volterra(_scaled_in_place, two, (0.0, 1.0),
                                                     rtol=1e-6),
        "fredholm": lambda: solve_fredholm(_scaled_in_place, two, (0.0, 1.0), 16),
    }
    with pytest.raises(ValueError, match=r"changed its argument [yz] in place"):
        calls[solver]()


def test_a_user_function_returning_its_argument_unchanged_is_accepted():
    sol = solve_volterra(lambda t, s, y: y, lambda t: np.array([1.0, 2.0]), (0.0, 1.0), 16,
                         method="gauss2")
    assert sol.success and np.abs(sol.y[-1] - np.e * np.array([1.0, 2.0])).max() < 1e-6


HELPER_SCALE = 1.0


def _scaled_by_a_global(x):          # a helper of g in the same module, reading a global
    return HELPER_SCALE * x


def _g_through_a_helper(t):
    return _scaled_by_a_global(np.cos(t))


@pytest.mark.parametrize("solver", ["volterra", "fredholm"])
def test_dense_output_refuses_a_forcing_whose_helper_reads_a_changed_value(solver):
    """g(t) = helper(cos t) with the helper reading a global: after a change of that global,
    the dense output (gauss2) and the Nystrom interpolant called g with the new value and mixed
    it with the old solution, silently (gauss2 on y = g + int y, g = C: 5.8 for 1.7; a Nystrom
    interpolant: 1.1 for 0.3); now
    they refuse as for a value g reads itself, naming it.  A sweep over the value is fresh."""
    global HELPER_SCALE
    try:
        sols = {}
        for value in (1.0, 2.0, 1.0, 3.0):        # (the same objects twice: the key's fast path)
            HELPER_SCALE = value
            sols[value] = solve_volterra(lambda t, s, y: -y, _g_through_a_helper, (0.0, 1.0), 16,
                                         method="gauss2") if solver == "volterra" else \
                solve_fredholm(lambda x, s, y: 0.5 * y, _g_through_a_helper, (0.0, 1.0), 8)
        latest = float(sols[3.0](0.55))               # (the equation is linear in g)
        np.testing.assert_allclose(sols[3.0].y, 1.5 * sols[2.0].y, rtol=1e-12)
        with pytest.raises(RuntimeError, match=r"changed after the solve \(.*HELPER_SCALE"):
            sols[2.0](0.55)
        HELPER_SCALE = 2.0
        np.testing.assert_allclose(float(sols[2.0](0.55)), latest / 1.5, rtol=1e-12)
    finally:
        HELPER_SCALE = 1.0


@pytest.mark.parametrize("solver", ["volterra", "tolerance", "fredholm", "first-kind", "vide"])
def test_an_empty_vector_forcing_or_start_is_refused_clearly(solver):
    """g(t) = np.array([]) (or y0 = [] for a VIDE) went on with d = 0 and raised NumPy's "reduce()
    of empty iterable" or "zero-size array to reduction operation" from deep inside the solve or
    its error estimate."""
    empty = lambda t: np.array([])  # noqa: E731
    calls = {
        "volterra": lambda: solve_volterra(lambda t, s, y: -y, empty, (0.0, 1.0), 8),
        "tolerance": lambda: solve_volterra(lambda t, s, y: -y, empty, (0.0, 1.0), rtol=1e-3),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: -y, empty, (0.0, 1.0), 8),
        "first-kind": lambda: solve_volterra(lambda t, s: 1.0, empty, (0.0, 1.0), 8, kind=1),
        "vide": lambda: solve_vide(lambda t, y, z: -y, None, np.array([]), (0.0, 1.0), 8),
    }
    with pytest.raises(ValueError, match=r"d >= 1, got shape \(0,\)"):
        calls[solver]()


@pytest.mark.parametrize("solver", ["volterra", "volterra list", "fredholm"])
def test_an_args_array_changed_in_place_after_the_solve_does_not_reach_its_dense_output(solver):
    """args=(w,) with g(t, w) reading the array w: changed in place after the solve, the dense
    output (gauss3) and the Nystrom interpolant called g with the new values and mixed them with
    the old solution, silently (5.8 for 1.7; 1.1 for 0.3), although args= is the documented
    way to pass values that change; g now gets the values of the solve, as K does.  A list
    w = [1.0] too (args= packs it for K as an array; g got the list itself, and its change
    after the solve gave the dense output 5.8 for 1.7 as well)."""
    w = [1.0] if solver == "volterra list" else np.array([1.0])
    if solver.startswith("volterra"):
        sol = solve_volterra(lambda t, s, y, w: y, lambda t, w: w[0], (0.0, 1.0), 16,
                             method="gauss3", args=(w,))
        point, exact = 0.53, math.exp(0.53)
    else:
        sol = solve_fredholm(lambda x, s, y, w: x * s * y, lambda x, w: w[0] * x * 2.0 / 3.0,
                             (0.0, 1.0), 8, args=(w,))
        point, exact = 0.3, 0.3
    w[0] = 5.0
    assert abs(float(sol(point)) - exact) <= 20.0 * sol.stats["max_error_estimate"] + 1e-14


@pytest.mark.parametrize("c, T, n", [(5.0, 1000.0, 16), (5.0, 1000.0, 32), (50.0, 100.0, 16),
                                     (500.0, 10.0, 32)])
def test_an_estimate_of_zero_raised_by_the_first_steps_check_is_not_left_at_zero(c, T, n):
    """y = 1 + int e^(-c (t - s)) y ds (y -> c / (c - 1)) on gauss2 steps of 60 decay times and
    more: every mesh keeps y = 1, so the companions agree to the bit (estimates 0, or 5.7e-16),
    and the first-steps check, which found a difference of 0.25 (1.1e12 times the claims' floor
    2^-42 |y|), multiplied those estimates: a success with the estimate 0 (or 6.3e-4) for an
    error of 0.25.  Estimates below the floor are raised from the floor."""
    sol = solve_volterra(_fading_memory, ONE, (0.0, T), n,
                         method="gauss2", args=(c,))
    exact = (c - np.exp((1.0 - c) * sol.t)) / (c - 1.0)
    error = np.abs(sol.y - exact).max()
    # a success: the steps do miss the time scale, and the estimate says so; or a failure
    # (since trust-59, on 16 steps: "no reliable digits from t = 62.5", only y0 kept)
    assert not sol.success or 1e-3 < error <= 20.0 * sol.stats["max_error_estimate"]


def _table_lookup(t, s, y, w):
    return w[int(s * 10)] * y          # s = 1 reads w[10]: one past the table


@pytest.mark.parametrize("method", ["trapezoid", "radau3"])
def test_an_index_out_of_bounds_raises_as_in_python(method):
    """A lookup table w[int(s * 10)] over [0, 1] reads w[10] at s = 1: Python raises
    IndexError, and Numba without bounds checks read past the array (trapezoid: a success with
    y(1) = 0.379 for 0.368, error 0.011 for the estimate 0.0037; radau3: error 2.6e-3 for
    8.4e-5).  User functions that subscript are compiled with bounds checks: the user's
    IndexError is raised."""
    w = np.full(10, -1.0)
    with pytest.raises(IndexError, match="index 10 is out of bounds"):
        solve_volterra(_table_lookup, lambda t, w: 1.0, (0.0, 1.0), 16, method=method, args=(w,))
    sol = solve_volterra(_table_lookup, lambda t, w: 1.0, (0.0, 1.0), 16, method="gauss2",
                         args=(w,))                   # (Gauss points never reach s = 1)
    assert sol.success
    assert abs(sol.y[-1] - math.exp(-1.0)) <= 20.0 * sol.stats["max_error_estimate"]
    assert "The data were not checked between the mesh points: IndexError" in sol.message


class _Timeout(Exception):
    """A caller's timeout, as its signal handler raises it."""


@pytest.mark.parametrize("where", ["data_roughness", "_swept_together", "resolved_ends",
                                   "_located"])
def test_an_exception_the_users_functions_did_not_raise_is_not_swallowed_by_the_checks(
        monkeypatch, where):
    """The data check of a solve on a given mesh calls g and K at points the solve never took,
    and leaves the answer unchecked where they raise there (a table read one past its end).  It
    caught every exception so: a caller's timeout, raised by its signal handler while the check
    ran, was swallowed and the solve went on to a success with an error 13 times the tolerance
    (gauss3, weakly singular kernel, a kink of g at 1/3, rtol 1e-7).  Only the user's
    functions' own exceptions are so taken now; this one, raised in the package's code during
    the check (the sweep of the data, the check of the divided steps' ends, the search for
    the point of a weakly singular kernel's jump), reaches the caller.  On meshes of more than
    8 points the data check's sweep and the aliasing probes' are one (call-61:
    ``_swept_together``); on 7 steps each is :func:`data_roughness` alone."""
    from integrallimits.volterra import _adaptive

    def interrupted(*args, **kwargs):
        raise _Timeout("the caller's time is up")

    monkeypatch.setattr(_adaptive, where, interrupted)
    with pytest.raises(_Timeout):
        if where == "_located":    # (y = 1 + t^(1/2) + H(t - 0.503), 16 graded steps)
            solve_volterra(weakly_singular(lambda t, s, y: -y, 0.5), _jump_forcing_singular,
                           mesh=(np.arange(17) / 16.0) ** 2, method="gauss2")
        else:
            solve_volterra(lambda t, s, y: -y, lambda t: abs(t - 0.5772), (0.0, 1.0),
                           7 if where == "data_roughness" else 32, method="gauss4")


_PROBED = {
    "scalar": lambda: solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), rtol=1e-6,
                                     method="gauss2"),
    "vector": lambda: solve_volterra(lambda t, s, y: -y, lambda t: np.array([1.0, 2.0]),
                                     (0.0, 1.0), rtol=1e-6, method="radau3"),
    "singular": lambda: solve_volterra(weakly_singular(lambda t, s, y: -y, 0.5),
                                       lambda t: 1.0, (0.0, 1.0), rtol=1e-5, method="gauss2"),
    "vide": lambda: solve_vide(lambda t, y, z: -y + z, lambda t, s, y: -y, 1.0, (0.0, 1.0),
                               rtol=1e-6, method="gauss2"),
}


@pytest.mark.parametrize("case", sorted(_PROBED))
def test_an_exception_the_users_functions_did_not_raise_is_not_swallowed_by_the_probes(
        monkeypatch, case):
    """A solve to a tolerance probes the kernel at points of its own (the first steps'
    resolution and stiffness, a weakly singular kernel's first steps, the memory's coupling of
    a VIDE) and took any exception there as "suspect" or "unchecked": a caller's timeout,
    raised by its signal handler while a probe ran, was swallowed and the solve went on.  The
    probes call the compiled kernel, which records the user's own failures rather than raise
    them; an exception reaching a probe is the package's or the caller's and reaches the
    caller."""
    from integrallimits.volterra import _tolerance, _vide

    def interrupted(*args, **kwargs):
        def K(*a):
            raise _Timeout("the caller's time is up")
        return K

    monkeypatch.setattr(_tolerance, "_evaluator", interrupted)
    monkeypatch.setattr(_vide, "_evaluator", interrupted)
    with pytest.raises(_Timeout):
        _PROBED[case]()


def test_any_exception_in_the_waiting_thread_stops_the_worker():
    """A long compiled solve runs in a worker thread while the caller's thread waits; on Ctrl-C
    the waiting thread asks every loop of the solve to stop.  Any other exception raised in the
    waiting thread (a caller's timeout, raised by its signal handler) left the worker solving
    in the background; it asks them to stop too.  (A worker that polls its stop request.)"""
    from integrallimits.volterra import _interrupt
    counts = np.zeros(3)

    def solve():
        _interrupt.register(counts)
        end = time.monotonic() + 5.0
        while counts[-1] == 0 and time.monotonic() < end:
            time.sleep(0.01)
        return counts[-1]

    def alarm(*_):
        raise _Timeout("the caller's time is up")

    previous = signal.signal(signal.SIGALRM, alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.2)
        with pytest.raises(_Timeout):
            _interrupt.run_interruptibly(solve)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)
    assert counts[-1] == 1


def _jump_forcing_singular(t):
    """g of y = 1 + t^(1/2) + H(t - 0.503) for K = -(t - s)^(-1/2) y."""
    t = np.asarray(t, dtype=float)
    after = t >= 0.503
    return (1.0 + 3.0 * np.sqrt(t) + 0.5 * np.pi * t +
            np.where(after, 1.0 + 2.0 * np.sqrt(np.where(after, t - 0.503, 0.0)), 0.0))


def test_an_integer_array_argument_used_as_an_index_is_explained():
    """args=(table, np.array([1])) with K indexing table[idx[0]]: Python indexes with the int,
    the compiled code receives idx as a float64 array and Numba refused getitem(array, float64)
    with only the generic advice; the message now says why and what to write."""
    def K(t, s, y, table, idx):
        return table[idx[0]] * y
    with pytest.raises(TypeError, match=r"indexes an array with a float: run-time arguments"):
        solve_volterra(K, lambda t, table, idx: 1.0, (0.0, 1.0), 16, method="gauss2",
                       args=(np.array([-1.0, -2.0]), np.array([1])))
    sol = solve_volterra(lambda t, s, y, table, i: table[i] * y, lambda t, table, i: 1.0,
                         (0.0, 1.0), 16, method="gauss2", args=(np.array([-1.0, -2.0]), 1))
    assert sol.success and abs(sol.y[-1] - math.exp(-2.0)) < 1e-6


@pytest.mark.parametrize("unfinished", ["first", "second"])
def test_a_growth_whose_check_solve_does_not_finish_is_not_a_success(monkeypatch, unfinished):
    """y = 1 + int y ds on one radau3 step over [0, 300] (300 e-folds a step; the answer's
    y(300) = -0.011 for e^300): where the first-steps check's solve with 16 times shorter steps
    (``first``), or the one with 256 times shorter steps that resolves the growth
    (``second``), does not finish (``_finer_start`` gives None), nothing confirms the answer
    and it is not a success ("did not finish"); returning the answer unchecked there left the
    success with its estimate 0.011.  (A failing check solve is simulated: a real one is hard
    to make fail on this linear problem.)"""
    from integrallimits.volterra import _tolerance
    original = _tolerance._finer_start

    def finer_start(run, sol, uniform_only, min_steps, steps=_tolerance.FIRST_STEPS,
                    grading=None, refine=_tolerance.REFINE):
        if unfinished == "first" or refine > _tolerance.REFINE:
            return None
        return original(run, sol, uniform_only, min_steps, steps, grading, refine)

    monkeypatch.setattr(_tolerance, "_finer_start", finer_start)
    sol = solve_volterra(_grow, ONE, (0.0, 300.0), 1, method="radau3")
    assert not sol.success and sol.stats["failure"] == "unresolved"
    assert "did not finish" in sol.message and "grows" in sol.message
    assert len(sol.t) == 1 and sol.y[0] == 1.0


def _step_at(t, c):
    return 1.0 if t < c else 2.0


@pytest.mark.parametrize("method, c", [("radau3", 0.62), ("gauss2", 0.33)])
def test_a_jump_of_g_inside_a_step_of_a_solve_to_a_tolerance_is_not_a_success(method, c):
    """y = g - int_0^t y ds with g jumping from 1 to 2 at t = c (y = e^-t, then
    e^-t + e^-(t - c)), rtol 1e-6: radau3 (c = 0.62) ends a success on 14 steps with an error of
    1.8e-2 for an estimate of 8.5e-9, gauss2 (c = 0.33) on 80 steps with 1.6e-3 for 2.1e-11:
    the accepted mesh has a point just before the jump, and every nested mesh misses the same
    part of the step after it (7 of 20 jump positions each, errors > 10 times the tolerance).
    The differences of order p + 1 of g in a step (``_adaptive._rough_forcing``) have the
    shifted check run, which was gated on signs that these solves did not show."""
    sol = solve_volterra(_minus_y, lambda t: _step_at(t, c), (0.0, 1.0), method=method,
                         rtol=1e-6, atol=1e-8)
    exact = np.exp(-sol.t) + np.where(sol.t < c, 0.0, np.exp(-(sol.t - c)))
    assert not sol.success or np.all(np.abs(sol.y - exact) <= 20.0 * sol.error_estimate + 1e-8)


@pytest.mark.parametrize("method, c, tol", [("gauss2", 0.05, 1e-6), ("gauss4", 0.05, 1e-6)])
def test_a_kink_of_g_that_the_shifted_check_misses_is_divided_until_the_answer_settles(
        method, c, tol):
    """g = 1 + max(t - c, 0) (y = e^-t, then + 1 - e^-(t - c)): with the kink in the first step
    every mesh misses it alike, the shifted ones too (gauss2, c = 0.05: a success on 4 steps,
    990 times over the tolerance; gauss4: 5.4 times over, the estimate 94 times below).
    The steps where g is not smooth are divided until the answer changes by less than the
    tolerance there, the change raising the estimate (``_adaptive._raised``)."""
    sol = solve_volterra(_minus_y, lambda t: 1.0 + max(t - c, 0.0), (0.0, 1.0),
                         method=method, rtol=tol, atol=tol)
    exact = np.exp(-sol.t) + np.where(sol.t < c, 0.0, 1.0 - np.exp(-(sol.t - c)))
    error = np.abs(sol.y - exact)
    assert sol.success and np.all(error <= 10.0 * (tol + tol * np.abs(exact)))
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-13)


def test_the_forcing_roughness_sees_a_kink_and_not_a_smooth_forcing():
    """``_rough_forcing``: on 16 steps at rtol = atol = 1e-6 (p = 4), e^-2t, cos 3t and t^5 are
    smooth at the scale of the steps; a kink of slope 1 at t = 0.3 is not, nor a jump of 1e-3."""
    from integrallimits.volterra._adaptive import ROUGH_G, _rough_forcing

    t = np.linspace(0.0, 1.0, 17)
    Y = np.ones((17, 1))

    def g_vec(g):
        return lambda times, keep=True: np.array([[g(x)] for x in times])

    for g in (lambda x: math.exp(-2 * x), lambda x: math.cos(3 * x), lambda x: x ** 5):
        assert not (_rough_forcing(g_vec(g), t, Y, 4, 1e-6, 1e-6) > ROUGH_G).any()
    for g in (lambda x: max(x - 0.3, 0.0), lambda x: 1e-3 * (x > 0.3)):
        assert (_rough_forcing(g_vec(g), t, Y, 4, 1e-6, 1e-6) > ROUGH_G).any()


@pytest.mark.parametrize("method, c", [("gauss2", 0.476), ("radau2", 0.571), ("rk4", 0.618)])
def test_a_jump_of_g_inside_a_step_of_the_uniform_try_is_not_a_success(method, c):
    """The same at rtol = atol = 1e-3, where the uniform try of 4 steps was accepted at once:
    gauss2 (c = 0.476), radau2 (c = 0.571) and rk4 (c = 0.618) were successes with errors of
    23, 57 and 65 times the tolerance (estimates 16-420 times below them)."""
    sol = solve_volterra(_minus_y, lambda t: _step_at(t, c), (0.0, 1.0), method=method,
                         rtol=1e-3, atol=1e-3)
    exact = np.exp(-sol.t) + np.where(sol.t < c, 0.0, np.exp(-(sol.t - c)))
    error = np.abs(sol.y - exact)
    assert not sol.success or (np.all(error <= 10.0 * (1e-3 + 1e-3 * np.abs(exact)))
                               and np.all(error <= 20.0 * sol.error_estimate + 1e-8))


def _fixed_mesh_rough(data, a, method, n):
    """(solution, exact values at its points) of the problems of ``tools/fixedn_scan.py``."""
    if data == "jump-s":        # y = 1 + t + int c(s) y, c = 1 before a, 2 after
        sol = solve_volterra(lambda t, s, y, a: (1.0 if s < a else 2.0) * y, lambda t, a: 1.0 + t,
                             (0.0, 1.0), method=method, n_steps=n, args=(a,))
        ya = -1.0 + 2.0 * math.exp(a)
        exact = np.where(sol.t <= a, -1.0 + 2.0 * np.exp(sol.t),
                         -0.5 + (ya + 0.5) * np.exp(2.0 * (sol.t - a)))
    elif data == "kink-s":      # y = 1 + t + int c(s) y, c = 1 + |s - a|: y' = 1 + c(t) y
        from scipy.integrate import solve_ivp
        sol = solve_volterra(lambda t, s, y, a: (1.0 + abs(s - a)) * y, lambda t, a: 1.0 + t,
                             (0.0, 1.0), method=method, n_steps=n, args=(a,))
        rhs = lambda x, y: 1.0 + (1.0 + abs(x - a)) * y   # noqa: E731
        left = solve_ivp(rhs, (0.0, a), [1.0], method="DOP853", rtol=1e-13, atol=1e-15,
                         dense_output=True)
        right = solve_ivp(rhs, (a, 1.0), left.y[:, -1], method="DOP853", rtol=1e-13,
                          atol=1e-15, dense_output=True)
        exact = np.where(sol.t <= a, left.sol(np.minimum(sol.t, a))[0],
                         right.sol(np.maximum(sol.t, a))[0])
    elif data == "jump-t":      # y = 1 + c(t) int y: a jump of y
        sol = solve_volterra(lambda t, s, y, a: (1.0 if t < a else 2.0) * y, lambda t, a: 1.0,
                             (0.0, 1.0), method=method, n_steps=n, args=(a,))
        after = -0.5 + (math.exp(a) - 0.5) * np.exp(2.0 * (sol.t - a))
        exact = np.where(sol.t < a, np.exp(sol.t), 1.0 + 2.0 * after)
    elif data == "kink-g":      # y = |t - a| - int y
        sol = solve_volterra(lambda t, s, y, a: -y, lambda t, a: abs(t - a), (0.0, 1.0),
                             method=method, n_steps=n, args=(a,))
        ya = (a + 1.0) * math.exp(-a) - 1.0
        exact = np.where(sol.t <= a, (a + 1.0) * np.exp(-sol.t) - 1.0,
                         1.0 + (ya - 1.0) * np.exp(-(sol.t - a)))
    else:                       # K = -|y - 0.5|, g = 1 - t: y crosses 0.5 at ln 1.5
        sol = solve_volterra(lambda t, s, y: -abs(y - 0.5), lambda t: 1.0 - t, (0.0, 1.0),
                             method=method, n_steps=n)
        tc = math.log(1.5)
        exact = 0.5 + np.where(sol.t <= tc, -1.0 + 1.5 * np.exp(-sol.t),
                               1.0 - np.exp(sol.t - tc))
    return sol, exact


def _assert_rough_data_estimated(data, a, method, n):
    """The solve on n uniform steps of :func:`_fixed_mesh_rough`'s problem: a success whose
    error is within 20 times its estimate, raised by the check of rough data."""
    sol, exact = _fixed_mesh_rough(data, a, method, n)
    error = float(np.max(np.abs(sol.y - exact)))
    assert sol.success, sol.message
    assert error <= 20.0 * sol.stats["max_error_estimate"], (error, sol.stats)
    assert "not smooth at the scale of the steps" in sol.message


@pytest.mark.parametrize("data, a, method, n", [
    ("jump-s", 0.5, "radau3", 8), ("jump-s", 0.5, "radau4", 16), ("jump-s", 0.618, "gauss4", 4),
    ("jump-t", 0.503, "gauss4", 6), ("kink-g", 0.618, "gauss4", 24),
    ("crossing", None, "gauss4", 16),
    ("jump-s", 0.5, "gregory6", 24), ("jump-t", 0.618, "gregory6", 24)])
def test_a_fixed_mesh_whose_data_are_not_smooth_has_an_estimate_within_its_error(data, a,
                                                                                 method, n):
    """Solves on a given mesh too small for the rate of every fourth point to judge the order:
    a jump or kink of the data (of K in s or t, of g, of K in y where y crosses it) makes the
    errors O(h) or O(h^2), and the estimate with the method's order was 24-518 times below the
    error (radau3 with c(s) jumping at 0.5 on 8 steps: 0.088 for 2.9e-3, every nested mesh
    taking c = 2 at the step's last stage; gauss4 on K = -|y - 0.5|, 16 steps: 518 times).
    Where the data's differences across a step exceed 20 times the estimate, the estimate is
    raised to the change of the answer with those steps divided (methods on any mesh) or made
    with the order 1 (Gregory rules): within 20 times the error, and still a success."""
    _assert_rough_data_estimated(data, a, method, n)


@pytest.mark.parametrize("data, a, method, n", [
    ("kink-g", 0.5772, "gauss4", 32), ("jump-t", 0.5772, "rk4", 32),
    ("jump-s", 0.866, "rk4", 48), ("kink-g", 0.1234, "gauss4", 48),
    ("kink-g", 0.4142, "gregory4", 64)])
def test_a_large_fixed_mesh_whose_data_are_not_smooth_has_an_estimate_within_its_error(
        data, a, method, n):
    """Meshes of 32 steps and more, whose rate of every fourth point was taken to judge the
    order: a kink of g inside a step is missed alike by every nested mesh keeping the mesh
    point before it, and gauss4 on 32 and 48 steps had errors 1.4e3 and 277 times their
    estimates; a jump of K in t or s, rk4 on 32 and 48 steps, 27 and 24 times; gregory4 on 64
    steps, 25.5 times.  The data check now runs on every mesh (its (p + 1) N + 1 evaluations
    of K and of g are a fraction 1/N of an O(N^2) solve's): within 20 times the error."""
    _assert_rough_data_estimated(data, a, method, n)


@pytest.mark.parametrize("data, a, method, n", [
    ("jump-s", 0.2345, "radau2", 16), ("jump-s", 0.618, "radau4", 16),
    ("jump-t", 0.618, "gauss3", 6)])
def test_the_settled_levels_stop_at_the_step_the_data_check_divided(data, a, method, n):
    """A small mesh whose levels converge slowly because the data jump: the data check divides
    the rough step and its neighbours, and its divided solve's change estimates the error from
    there on.  The settled-levels check then raised the estimates after it to the difference
    from the solve with every step bisected, whose own error at the jump (its stages on the
    other side of it) can exceed the solution's: radau2 with c(s) jumping at 0.2345 on 16 steps
    had an estimate 34.7 times its error (now 8.7); radau4 at 0.618 on 16 steps 2.7 (now
    0.95); gauss3 with K jumping in t on 6 steps 6.6 (now 4.2).  It now compares only the
    values up to the first divided step (and solves only there), none before the rough step
    in these: the estimates are the data check's."""
    sol, exact = _fixed_mesh_rough(data, a, method, n)
    error = float(np.max(np.abs(sol.y - exact)))
    estimate = sol.stats["max_error_estimate"]
    assert sol.success, sol.message
    assert "not smooth at the scale of the steps" in sol.message
    assert error <= 20.0 * estimate and estimate <= 20.0 * error, (error, estimate)
    assert "every step bisected" not in sol.message      # (the rough step is the first one)


def _sqrt_kernel(t, s, y):
    return math.sqrt(abs(t - s)) * y


def _sqrt_kernel_g(t):
    """g of y = g + int sqrt|t - s| y ds with y = 1 + t."""
    return 1.0 + t - (1.0 + t) * (2.0 / 3.0) * t ** 1.5 + 0.4 * t ** 2.5


def _sqrt_kernel_ratio(method, n):
    """(error / estimate, solution) of the solve of y = g + int sqrt|t - s| y ds (y = 1 + t)
    on n uniform steps: a kernel that is not smooth at s = t, whose solutions converge like
    h^1.5 whatever the method's order."""
    sol = solve_volterra(_sqrt_kernel, _sqrt_kernel_g, (0.0, 1.0), n_steps=n, method=method)
    error = float(np.max(np.abs(sol.y - (1.0 + sol.t))))
    return error / sol.stats["max_error_estimate"], sol


@pytest.mark.parametrize("n", [32, 64])
def test_the_rate_is_not_set_by_the_coarsest_levels_start(n):
    """gregory4 on K = sqrt|t - s| y: the solutions converge like h^1.5 (the rate 2.8), but the
    rate D2 / D1 at the points of the mesh of every fourth point holds in D2 that mesh's first
    step (a start value of gregory4, the largest difference) and in D1 no first step of its
    two levels: 5.8, above 2^4 / 4, and the estimate kept the order 4, 5.5 times below the
    error on 32 and 64 steps.  The rate is now the lower one without that first step
    (``_estimate._start_free_rate``: 3.0), the observed order, and the estimate is within 2
    times the error."""
    ratio, sol = _sqrt_kernel_ratio("gregory4", n)
    assert sol.success, sol.message
    assert 0.25 <= ratio <= 2.0, ratio


@pytest.mark.parametrize("method", ["gauss2", "radau3", "gauss3"])
def test_the_settled_levels_compare_every_value_past_a_rough_first_step(method):
    """K = sqrt|t - s| y with g holding t^1.5 on 16 steps: the levels on 16, 8 and 4 steps
    converge at the rate 2.8, clearly below 2^p (``Companion.unsettled``), and the data check
    saw the first step rough (g's t^1.5 from t0).  The settled-levels check compared only the
    values up to the first divided step, none here, and the estimate stayed the one with the
    order p: 4.1 (gauss2), 4.7 (radau3) and 4.3 (gauss3) times below the error.  A rough first
    step alone has no stage of the bisected solve before it: every value is compared, and the
    estimate is within 2 times the error."""
    ratio, sol = _sqrt_kernel_ratio(method, 16)
    assert sol.success, sol.message
    assert 0.25 <= ratio <= 2.0, ratio
    assert "every step bisected" in sol.message


def test_the_defect_growth_is_the_growth_of_the_size_after_each_step():
    """``defect_growth``: the largest |y| after step n over the largest up to its end, at least
    1 (a decaying or oscillating solution: 1; y = 0 so far: 1)."""
    from integrallimits.volterra._adaptive import defect_growth
    t = np.linspace(0.0, 1.0, 9)
    growing = np.exp(2.0 * t)[:, None]
    assert np.allclose(defect_growth(growing), np.exp(2.0 * (1.0 - t[1:])))
    assert np.all(defect_growth(np.exp(-t)[:, None]) == 1.0)
    assert np.all(defect_growth(np.cos(30.0 * t)[:, None]) == 1.0)
    assert defect_growth(np.array([[0.0], [0.0], [2.0]]))[0] == 1.0
    both = np.stack([np.exp(-t), 0.1 * growing[:, 0]], axis=1)      # (the rows' largest)
    assert np.all(defect_growth(both) >= 1.0)


@pytest.mark.parametrize("data, n", [("jump-s", 24), ("jump-s", 32), ("kink-s", 24),
                                     ("kink-s", 32)])
def test_a_rough_step_whose_defect_grows_with_the_solution_is_estimated(data, n):
    """gregory6 on y = 1 + t + int c(s) y with c jumping from 1 to 2 (or kinking, c = 1 +
    |s - a|) at a = 0.1234: the data's differences across the step of the jump were 11-13
    (kink: 2.7-5.4) times the largest estimate, under the data check's bar of 20, while y
    grows 5-7.6 times after the step and the defect with it: errors 36.5 and 31.9 (kink 22.8
    and 21.6) times the estimates on 24 and 32 steps.  The ratio weighed by that growth
    (``_adaptive.defect_growth``) against half the bar finds the step, and the estimates
    take the order 1 of a jump."""
    _assert_rough_data_estimated(data, 0.1234, "gregory6", n)


@pytest.mark.parametrize("rtol", [1e-6, 1e-10])
def test_a_failed_tolerance_solve_says_where_its_kept_values_miss_the_tolerance(rtol):
    """y = sqrt(1 - t) (K = -1 / (2 y), g = 1) has a square-root fold at t = 1, where the steps
    collapse.  The values kept had estimates right to 15% but up to 1.4e4 times the tolerance
    from t = 0.9937 on (rtol 1e-6), and the message named only the collapse at 0.99999985 and
    the values not kept after 0.9999963: it now says from where the kept values' estimates
    exceed atol + rtol |y|, and every kept value over 10 times the tolerance is after that."""
    atol = 1e-9 if rtol > 1e-8 else 1e-12
    sol = solve_volterra(_minus_half_over_y, lambda t: 1.0, (0.0, 1.0), rtol=rtol,
                         atol=atol)
    assert not sol.success
    match = re.search(r"exceed atol \+ rtol \|y\| from t = ([0-9.e+-]+) on", sol.message)
    assert match, sol.message
    exact = np.sqrt(1.0 - sol.t)
    over = np.abs(sol.y - exact) > 10.0 * (atol + rtol * exact)
    assert over.any() and np.all(sol.t[over] >= float(match.group(1)))
    assert np.all(np.abs(sol.y - exact) <= 20.0 * sol.error_estimate + 1e-13)


@pytest.mark.parametrize("method, n, nonlinear", [
    (m, n, nonlinear) for m in ("trapezoid", "gregory4", "rectangle")
    for n, nonlinear in ((16, False), (16, True), (8, False))
    if (m, n) != ("rectangle", 8)])   # (its data check, on h / 2 = 0.125, aliases as well)
def test_data_oscillating_at_the_period_of_the_steps_are_not_a_success(method, n, nonlinear):
    """g = sin 50t on [0, 2] with 16 steps (50 h = 6.25, about 2 pi) or 8: every nested mesh
    samples g at the same phase and sees the same slow alias, so the companions agree with the
    solve.  The data check saw the differences of g across a step 3.8e4 (trapezoid) to 4.9e6
    (gregory4) times the estimate, but raised the estimates of a direct rule only to the order
    of a jump: successes with errors of 0.28 (linear K = -y) and 0.89 (K = -y^2, y = sin 50t),
    700 to 5e5 times their estimates (rectangle: 39 times, unraised).  Every step is divided
    into ROUGH_SPLIT now: not a success, or values within 20 times their estimates."""
    if nonlinear:
        sol = solve_volterra(_minus_y_squared,
                             lambda t: math.sin(50 * t) + t / 2 - math.sin(100 * t) / 200,
                             (0.0, 2.0), n, method=method)
        exact = np.sin(50 * sol.t)
    else:
        sol = solve_volterra(_minus_y, lambda t: math.sin(50 * t), (0.0, 2.0), n,
                             method=method)
        a, b = 50 / 2501, 2500 / 2501
        exact = a * np.cos(50 * sol.t) + b * np.sin(50 * sol.t) - a * np.exp(-sol.t)
    error = np.abs(sol.y - exact)
    assert np.all(error <= 20.0 * sol.error_estimate + 1e-13), (sol.success, sol.message)
    assert not sol.success or "every step is divided" in sol.message


@pytest.mark.parametrize("data, a, method, n", [
    ("jump-t", 0.999, "gauss2", 32), ("jump-s", 0.999, "gauss1", 96),
    ("kink-g", 0.9995, "gauss2", 64)])
def test_a_jump_in_the_blind_end_of_a_rough_step_is_in_the_estimate(data, a, method, n):
    """A jump or kink of the data in the last step after its last Gauss point (nearer T than
    the stages of the steps divided for the check reach) is missed alike by the solve and its
    divided check, which keep T: gauss2 with K jumping in t at 0.999 on 32 steps had an error
    4.8e5 times its estimate, gauss1 with K jumping in s on 96 steps 89 times, gauss2 with
    g = |t - 0.9995| on 64 steps 4.1e3 times.  The blind ends of the rough steps are checked
    by their own differences, and where they see a jump their pieces are divided again: within
    20 times the error."""
    sol, exact = _fixed_mesh_rough(data, a, method, n)
    error = float(np.max(np.abs(sol.y - exact)))
    assert error > 1e-8
    assert sol.success, sol.message
    assert error <= 20.0 * sol.stats["max_error_estimate"], (error, sol.stats)
    assert "nearer than their stages reach" in sol.message


@pytest.mark.parametrize("method, n", [("radau3", 8), ("gauss4", 4), ("gauss4", 16),
                                       ("rk4", 12), ("gregory6", 24)])
def test_a_fixed_mesh_of_smooth_data_keeps_its_estimate(method, n):
    """The data check of a fixed mesh leaves smooth data alone: y = cos 3t - int (1 + t s)
    e^(-(t - s)) y^2 ds and y = e^t (K = y, g = 1) on a few steps keep the estimate of the
    companions (the message says nothing of data that are not smooth) and succeed."""
    for K, g in ((_smooth_decay_squared,
                  lambda t: math.cos(3.0 * t)),
                 (_grow, lambda t: 1.0)):
        sol = solve_volterra(K, g, (0.0, 1.0), method=method, n_steps=n)
        assert sol.success, sol.message
        assert "not smooth" not in sol.message


def _units_rotation(t, s, y):
    return (-1e12 * y[1], 1e-12 * y[0])


def test_a_refusal_by_the_raised_estimates_says_what_was_measured():
    """y = (1e6 cos t, 1e-6 sin t) with rk4 at rtol = 1e-4, atol = (1e-7, 1e-19): the solve of
    the first steps with 16 times shorter steps agrees with the answer to 1.3e-3 of the
    tolerance, but differs from it by 4.4 times its estimate there; the estimates, raised by
    that factor everywhere, exceed the tolerance near the root of y0 (t = 1.52) and the solve
    fails.  The message said that the finer solve differs from the answer by 2.15 times the
    tolerance at t = 1.52, which that solve, over the first two steps, never reached; it says
    now what was measured."""
    sol = solve_volterra(_units_rotation, lambda t: np.array([1e6, 0.0]), (0.0, 3.0),
                         method="rk4", rtol=1e-4, atol=np.array([1e-7, 1e-19]))
    if sol.success:
        return
    assert sol.stats["failure"] == "unresolved"
    assert "differs from the answer by 2.15 times atol" not in sol.message
    assert "the estimates raised by that factor exceed atol + rtol |y|" in sol.message


def _cubic_forcing(t):
    # y = 1 + t/2 for K = y^3 / 8: int_0^t (1 + s/2)^3 / 8 ds = ((1 + t/2)^4 - 1) / 16
    return 1.0 + 0.5 * t - ((1.0 + 0.5 * t) ** 4 - 1.0) / 16.0


def _cubic_pair_forcing(t):
    # the same and 2 (1 + t/2) for K = y^3 / 64
    return np.array([_cubic_forcing(t), _cubic_forcing(t) + 1.0 + 0.5 * t])


@pytest.mark.parametrize("kind", ["scalar", "vector"])
def test_a_shifted_companion_on_another_root_does_not_fail_a_resolved_solve(kind):
    """y = 1 + t/2 (K = y^3 / 8, L = 0.84) with radau1 on 4 steps (h L = 0.21; ``validate
    --seed 6``): the values are 4% off, the estimates right, but the shifted companion on the
    points 0, 1, 4 took its step of 0.75 to another root of its step equation, y(1) = -3.78,
    and the estimate so raised, 2.67, failed the solve ("no reliable digits from t = 0.5").
    Its steps bisected, the companion agrees with the solution to 0.03: the far level is no
    estimate, the finer one is (the scalar of a few values on floats, the vector on arrays)."""
    if kind == "scalar":
        sol = solve_volterra(lambda t, s, y: y ** 3 / 8.0, _cubic_forcing, (0.0, 1.0), 4,
                             method="radau1", jacobian=lambda t, s, y: 3.0 * y ** 2 / 8.0)
        exact = (1.0 + 0.5 * sol.t)[:, None]
    else:
        sol = solve_volterra(lambda t, s, y: np.array([y[0] ** 3 / 8.0, y[1] ** 3 / 64.0]),
                             _cubic_pair_forcing, (0.0, 1.0), 4, method="radau1",
                             jacobian=lambda t, s, y: np.array([[3.0 * y[0] ** 2 / 8.0, 0.0],
                                                                [0.0, 3.0 * y[1] ** 2 / 64.0]]))
        exact = (1.0 + 0.5 * sol.t)[:, None] * np.array([1.0, 2.0])
    assert sol.success, sol.message
    error = np.abs(sol.y.reshape(exact.shape) - exact)
    estimate = sol.error_estimate.reshape(exact.shape)
    assert np.all(error <= estimate) and np.max(estimate) <= 4.0 * np.max(error)


@pytest.mark.parametrize("method, n", [("radau3", 64), ("radau4", 48)])
def test_shifted_companions_without_a_digit_do_not_fail_a_resolved_oscillation(method, n):
    """y = 1 - 900 int (t - s) y ds (y = cos 30 t) on [0, 2]: radau3 on 64 steps (errors up
    to 0.011) and radau4 on 48 (5.8e-4) failed with estimates of 0.79 and 0.57 ("no reliable
    digits"), the differences of the shifted companions, whose steps of 2.8 and 3.75 radians
    keep no digit.  On their steps bisected they agree with the solutions to a tenth of the
    size: successes, every value within its estimate (the largest 0.015 and 6.2e-3)."""
    sol = solve_volterra(_oscillating_memory, ONE, (0.0, 2.0), n,
                         method=method)
    assert sol.success, sol.message
    error = np.abs(sol.y - np.cos(30.0 * sol.t))
    assert np.all(error <= sol.error_estimate) and \
        sol.stats["max_error_estimate"] <= 20.0 * np.max(error)


def test_a_shifted_companion_whose_long_step_keeps_no_digit_does_not_fail_a_solve():
    """radau1 on y = 1 + sin(3 t) / 2 - e^(t/2) / 2, K = (sin(t + s) + 1) y / 2 (linear) on 4
    steps (``validate --seed 14``): errors up to 0.071, but the shifted companion on the points
    0, 1, 4 has y(1) = -0.79 after its step of 0.75 (exact 0.246), and the estimate so raised,
    0.52, failed the solve.  Its steps bisected give 0.092: the three levels converge at rate
    5.9 (at least order 1's 3), and the finer level's estimate stands: a success, every value
    within its estimate (at most 0.30)."""
    from integrallimits.validation import ManufacturedProblem

    built = ManufacturedProblem(exact="1 + 1/2*sin(3*t) - 1/2*exp(t/2)",
                                kernel="1/2*(sin(t + s) + 1)*y", family="linear").build()
    sol = solve_volterra(built.kernel, built.forcing, (0.0, 1.0), 4, method="radau1")
    assert sol.success, sol.message
    error = np.abs(sol.y - built.exact(sol.t))
    assert np.all(error <= sol.error_estimate) and \
        sol.stats["max_error_estimate"] <= 0.5 * np.max(np.abs(sol.y))


@pytest.mark.parametrize("case", ["scalar", "vector", "vide f", "first kind", "fredholm"])
def test_a_function_returning_none_at_some_points_is_named(case):
    """A function with a branch that returns None (compiled: an optional value, whose
    conversion raises): on the base a TypeError "expected float64, got None" naming neither
    the function nor the point (Volterra, first kind), or a UserCodeError saying it raised
    "but not when called in Python there" (VIDE, Fredholm: 'integer overflow, or a value read
    only when compiled')."""
    one = lambda t: 1.0  # noqa: E731
    calls = {
        "scalar": lambda: solve_volterra(lambda t, s, y: None if t > 0.5 else -y, one,
                                         (0.0, 1.0), 16),
        "vector": lambda: solve_volterra(lambda t, s, y: None if t > 0.5 else -y,
                                         lambda t: np.ones(2), (0.0, 1.0), 16),
        "vide f": lambda: solve_vide(lambda t, y, z: -y if t < 0.5 else None, None, 1.0,
                                     (0.0, 1.0), 16),
        "first kind": lambda: solve_volterra(lambda t, s: None if t > 0.5 else 1.0, np.sin,
                                             (0.0, 1.0), 16, kind=1),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: None if x > 0.5 else 0.1 * y, one,
                                           (0.0, 1.0), 8),
    }
    with pytest.raises(TypeError, match=r"returned None at [tx] = 0\.5.*must return real numbers"):
        calls[case]()


@pytest.mark.parametrize("case", ["volterra", "fredholm"])
def test_a_division_by_zero_at_s_equal_t_is_named(case):
    """K = sin(t - s) / (t - s) y (a removable singularity written without its limit): compiled,
    the division raises ZeroDivisionError at s = t, while NumPy scalars in Python give nan
    there, and the base's UserCodeError blamed 'integer overflow, or a value read only when
    compiled'."""
    one = lambda t: 1.0  # noqa: E731
    kernel = lambda t, s, y: -np.sin(t - s) / (t - s) * y  # noqa: E731
    calls = {"volterra": lambda: solve_volterra(kernel, one, (0.0, 1.0), 16),
             "fredholm": lambda: solve_fredholm(kernel, one, (0.0, 1.0), 8, linear=False)}
    with pytest.warns(RuntimeWarning), pytest.raises(
            UserCodeError, match=r"returned nan: compiled, a division by zero raises "
                                 r"ZeroDivisionError.*removable singularity"):
        calls[case]()


def test_neither_steps_nor_a_tolerance_says_both_ways():
    """The docstring says "omit n_steps to solve to a tolerance"; the base's message said only
    "needs t_span and n_steps (or mesh)"."""
    with pytest.raises(TypeError, match=r"n_steps, or with a tolerance \(rtol"):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0))
    with pytest.raises(TypeError, match=r"n_steps, or with a tolerance \(rtol"):
        solve_vide(lambda t, y, z: -y, None, 1.0, (0.0, 1.0))


def test_a_time_just_outside_t_span_is_shown_in_full():
    """The base said "t_eval must lie within t_span [0, 1]; ... (e.g. 1)" of 1 + 2e-16."""
    with pytest.raises(ValueError, match=r"\[0\.0, 1\.0\].*e\.g\. 1\.0000000000000002"):
        solve_volterra(lambda t, s, y: -y, lambda t: 1.0, (0.0, 1.0), 16,
                       t_eval=[0.5, 1.0 + 2e-16])


BIG_INT = 2 ** 40   # BIG_INT * BIG_INT % 7 is 4 in Python, 0 in 64-bit integers (2**80 wraps to 0)


def _wraps_around(t, s, y):
    return -y * ((BIG_INT * BIG_INT) % 7)


def _wraps_around_arg(t, s, y, n):
    return -y * ((n * n) % 7)


@numba.njit
def _wraps_around_helper():       # the user's compiled helper: 4 in Python, 0 compiled
    return (BIG_INT * BIG_INT) % 7


@numba.njit
def _wraps_around_helper_of(n):
    return (n * n) % 7


@numba.njit("float32(float32)")
def _single_precision_helper(x):   # float32 on purpose: not compared with float64 Python
    return np.float32(1.0) / np.float32(3.0) * x


@pytest.mark.parametrize("case", ["global", "args", "vector", "y0 = 0", "float to int",
                                  "tolerance", "vide f", "vide f args", "vide K", "fredholm",
                                  "convolution phi args", "first kind", "first kind args",
                                  "first kind float to int", "fredholm K(x, s)", "vide K(t, s)",
                                  "convolution k", "convolution k args", "convolution k vector",
                                  "convolution k matrix", "weakly singular convolution k",
                                  "compiled helper", "compiled helper args",
                                  "K(t, s) compiled helper", "k(u) compiled helper",
                                  "vide f compiled helper"])
def test_a_kernel_whose_compiled_value_differs_from_python_is_refused(case):
    """Numba's integers are 64-bit: the base solved y = 1 + int 0 ds, a success with y(1) = 1.0,
    where Python's K gives -4 y (y(1) = e^-4 = 0.018); int(1e20) is 2 mod 7 in Python, 6
    compiled.  The comparison is with the Python function as compiled (a compiled helper
    reading a changed global is compiled again: test_a_changed_value_read_by_a_compiled_helper
    _is_not_stale, where K called in Python gives the helper's stale value, still passes).
    Two-argument kernels K(t, s) and convolution kernels k(u) were not compared on the base:
    each of their cases below was a success there, y(1) = 1.0 (first kind: K = 5 in Python,
    y = 1 / 5; Fredholm: y = 1 / 0.6; VIDE: y = cos 2 = -0.42; convolution: e^-4 = 0.018),
    and y(1) = 1 / 7 for 1 / 3 (first kind, K = 1 + int(1e20 + s) % 7).  A K calling the
    user's @njit helper computing N * N % 7 was compared with Python calling that compiled
    helper, 0 on both sides: each "compiled helper" case was a success with y(1) = 1.0 too."""
    one = lambda t: 1.0  # noqa: E731
    two = lambda t: np.array([1.0, 2.0])  # noqa: E731
    calls = {
        "global": lambda: solve_volterra(_wraps_around, one, (0.0, 1.0), 16),
        "args": lambda: solve_volterra(_wraps_around_arg, one, (0.0, 1.0), 16, args=(2 ** 40,)),
        "vector": lambda: solve_volterra(_wraps_around, lambda t: np.array([1.0, 2.0]),
                                         (0.0, 1.0), 16),
        "y0 = 0": lambda: solve_volterra(lambda t, s, y: 1.0 - y * ((BIG_INT * BIG_INT) % 7),
                                         lambda t: 0.0, (0.0, 1.0), 16),
        "float to int": lambda: solve_volterra(lambda t, s, y: -y * (int(1e20 + t) % 7), one,
                                               (0.0, 1.0), 16),
        "tolerance": lambda: solve_volterra(_wraps_around, one, (0.0, 1.0), rtol=1e-6),
        "vide f": lambda: solve_vide(lambda t, y, z: -y * ((BIG_INT * BIG_INT) % 7), None, 1.0,
                                     (0.0, 1.0), 16),
        "vide f args": lambda: solve_vide(lambda t, y, z, n: -y * ((n * n) % 7), None, 1.0,
                                          (0.0, 1.0), 16, args=(2 ** 40,)),
        "vide K": lambda: solve_vide(lambda t, y, z: z, _wraps_around, 1.0, (0.0, 1.0), 16),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: 0.1 * y * ((BIG_INT * BIG_INT) % 7),
                                           one, (0.0, 1.0), 8),
        "convolution phi args": lambda: solve_volterra(
            convolution(lambda u, n: np.exp(-u), lambda s, y, n: -y * ((n * n) % 7)), one,
            (0.0, 1.0), 16, args=(2 ** 40,)),
        "first kind": lambda: solve_volterra(lambda t, s: 1.0 + ((BIG_INT * BIG_INT) % 7),
                                             lambda t: t, (0.0, 1.0), 16, kind=1),
        "first kind args": lambda: solve_volterra(lambda t, s, n: 1.0 + ((n * n) % 7),
                                                  lambda t: t, (0.0, 1.0), 16, kind=1,
                                                  args=(2 ** 40,)),
        "first kind float to int": lambda: solve_volterra(
            lambda t, s: 1.0 + (int(1e20 + s) % 7), lambda t: t, (0.0, 1.0), 16, kind=1),
        "fredholm K(x, s)": lambda: solve_fredholm(lambda x, s: 0.1 * ((BIG_INT * BIG_INT) % 7),
                                                   one, (0.0, 1.0), 8),
        "vide K(t, s)": lambda: solve_vide(lambda t, y, z: z,
                                           lambda t, s: -1.0 * ((BIG_INT * BIG_INT) % 7), 1.0,
                                           (0.0, 1.0), 16),
        "convolution k": lambda: solve_volterra(
            convolution(lambda u: -1.0 * ((BIG_INT * BIG_INT) % 7)), one, (0.0, 1.0), 16),
        "convolution k args": lambda: solve_volterra(
            convolution(lambda u, n: -1.0 * ((n * n) % 7)), one, (0.0, 1.0), 64,
            args=(2 ** 40,)),
        "convolution k vector": lambda: solve_volterra(
            convolution(lambda u: -1.0 * ((BIG_INT * BIG_INT) % 7)), two, (0.0, 1.0), 16),
        "convolution k matrix": lambda: solve_volterra(
            convolution(lambda u: -np.eye(2) * ((BIG_INT * BIG_INT) % 7)), two, (0.0, 1.0), 16),
        "weakly singular convolution k": lambda: solve_volterra(
            weakly_singular(convolution(lambda u: -1.0 * ((BIG_INT * BIG_INT) % 7)), 0.5), one,
            (0.0, 1.0), 16, method="gauss2"),
        "compiled helper": lambda: solve_volterra(lambda t, s, y: -y * _wraps_around_helper(),
                                                  one, (0.0, 1.0), 16),
        "compiled helper args": lambda: solve_volterra(
            lambda t, s, y, n: -y * _wraps_around_helper_of(n), one, (0.0, 1.0), 16,
            args=(2 ** 40,)),
        "K(t, s) compiled helper": lambda: solve_volterra(
            lambda t, s: 1.0 + _wraps_around_helper(), lambda t: t, (0.0, 1.0), 16, kind=1),
        "k(u) compiled helper": lambda: solve_volterra(
            convolution(lambda u: -1.0 * _wraps_around_helper()), one, (0.0, 1.0), 16),
        "vide f compiled helper": lambda: solve_vide(
            lambda t, y, z: -y * _wraps_around_helper(), None, 1.0, (0.0, 1.0), 16),
    }
    with pytest.raises(UserCodeError, match=r"compiled by Numba but .* in Python at .*64-bit"):
        calls[case]()


def test_a_convolution_kernel_with_args_is_compared_with_its_args():
    """phi of a convolution kernel is compiled before the kernel's parameters are packed (with
    no parameters of its own): the comparison with Python took its arguments from those and
    raised IndexError for every convolution kernel with args= (the fast-history tests).  Its
    arguments are the args given: n = 3 is solved (y = 1 - 2 int e^(s - t) y ds: y' = 1 - 3 y,
    y = (1 + 2 e^(-3 t)) / 3), n = 2**40 refused above."""
    K = convolution(lambda u, n: np.exp(-u), lambda s, y, n: -y * ((n * n) % 7))
    sol = solve_volterra(K, ONE, (0.0, 1.0), 64, method="gregory6", args=(3,))
    assert sol.success and abs(sol.y[-1] - (1.0 + 2.0 * np.exp(-3.0)) / 3.0) < 1e-8


def test_two_argument_and_convolution_kernels_with_args_are_compared_with_their_args():
    """The comparisons of K(t, s) and k(u) with Python take the args given (as compiled code
    gets them: n arrives as a Python int): n = 3 is solved, n = 2**40 refused above.  First
    kind: int_0^t 3 y ds = t, y = 1 / 3; a matrix K(t, s) = n I with y0 = (1, 2); convolution:
    y = 1 - 2 int y ds, y = e^(-2 t)."""
    sol = solve_volterra(lambda t, s, n: 1.0 + ((n * n) % 7), lambda t: t, (0.0, 1.0), 16,
                         kind=1, args=(3,))
    assert sol.success and abs(sol.y[-1] - 1.0 / 3.0) < 1e-10
    sol = solve_fredholm(lambda x, s, n: 0.1 * np.eye(2) * ((n * n) % 7),
                         lambda x: np.array([1.0, 2.0]), (0.0, 1.0), 8, args=(3,))
    assert sol.success and np.allclose(sol.y[-1], np.array([1.0, 2.0]) / 0.8, rtol=1e-10)
    sol = solve_volterra(convolution(lambda u, n: -1.0 * ((n * n) % 7)), ONE, (0.0, 1.0), 64,
                         method="gregory6", args=(3,))
    assert sol.success and abs(sol.y[-1] - np.exp(-2.0)) < 1e-8


def test_a_compiled_helper_with_its_own_signature_is_not_compared_in_python():
    """The comparison calls the Python functions of the user's compiled helpers, except those
    compiled only for the signatures given (float32 here: 0.33333334 compiled, 0.333... in
    Python, 3e-8 apart, not an error of the solver's): y' = -y / 3 * 3 is solved."""
    sol = solve_volterra(lambda t, s, y: -y * _single_precision_helper(3.0), ONE, (0.0, 1.0),
                         16, "gauss2")
    assert sol.success and abs(sol.y[-1] - np.exp(-1.0)) < 1e-6


@numba.njit
def _wraps_around_deep(n, k):     # N * N % 7 at the bottom of a recursion: 4 in Python, 0 compiled
    if k == 0:
        return n * n % 7
    return _wraps_around_deep(n, k - 1)


@numba.njit("float64(float64)")
def _wraps_around_float_signature(x):   # float64 in and out, int arithmetic inside
    n = int(x)
    return float(n * n % 7)


@numba.njit
def _fibonacci(n):
    if n < 2:
        return 1.0
    return _fibonacci(n - 1) + _fibonacci(n - 2)


def test_a_float64_signature_helper_is_compared_in_python():
    """A helper compiled only for a float64(float64) signature was kept compiled in the
    twin: N * N % 7 (N = 2**40) inside it was 0 on both sides, and y = 1 - int_0^t 0 ds a
    success with y(1) = 1.0 on the base (4 in Python: e^-4)."""
    with pytest.raises(UserCodeError, match=r"compiled by Numba but -4.0 in Python at .*64-bit"):
        sol = solve_volterra(lambda t, s, y: -y * _wraps_around_float_signature(2.0 ** 40), ONE,
                             (0.0, 1.0), 16)
        print(sol.success, sol.y[-1])


def test_a_recursive_helper_is_called_in_python_by_its_twin():
    """The twin called a recursive helper's compiled self for the inner calls: N * N % 7
    (N = 2**40) at the bottom of a recursion was 0 (compiled) on the Python side too (a
    kernel -y h(N, 3) was a success with y(1) = 1.0 on the base for e^-4).  Its twin calls
    its own twin: 4.  At most TWIN_RECURSION_CALLS calls per point (fib(25) is 2.4e5 calls,
    seconds in Python): past them the twin raises and the point is not compared.  (Tested
    on the twin: a kernel calling a recursive helper, compiled with cache=True, aborts a
    later process that loads it from Numba's cache, "LLVM ERROR: Symbol not found", on the
    base too.)"""
    from integrallimits.kernels import _user
    assert _user.python_twin(lambda: _wraps_around_deep(BIG_INT, 3))() == 4
    with pytest.raises(RuntimeError, match="recursive calls in Python"):
        _user.python_twin(lambda: _fibonacci(25))()
    assert _user.python_twin(lambda: _fibonacci(10))() == 89.0


def test_a_kernel_that_cancels_to_rounding_is_not_refused_as_different():
    """Numba sums np.full(10, 0.1) in order (0.9999999999999999), NumPy pairwise (1.0): K is
    1.1e-16 y compiled and 0 in Python, rounding noise that the comparison must not refuse;
    nor the last-place differences of y**3 against y*y*y or of exp near 0."""
    sol = solve_volterra(lambda t, s, y: -y * (np.sum(np.full(10, 0.1)) - 1.0), ONE, (0.0, 1.0),
                         16)
    assert sol.success and abs(sol.y[-1] - 1.0) < 1e-14
    sol = solve_volterra(lambda t, s, y: y ** 3 - y * y * y - y, ONE, (0.0, 1.0), 16, "gauss2")
    assert sol.success and abs(sol.y[-1] - np.exp(-1.0)) < 1e-6
    sol = solve_volterra(lambda t, s, y: np.exp(y) - 1.0 - 2.0 * y - 0.5 * y * y, lambda t: 1e-3,
                         (0.0, 1.0), 16)
    assert sol.success


def _one_wrapping_in_the_middle(x):
    """1 in Python (m**4 // m**3 == m), not compiled where m**4 overflows 64 bits (m > 55108:
    0.19 < x < 0.81), with m = int(1e5 sin(pi x)) + 1: 1 at x = 0 and x = 1 (m = 1), where the
    compiled kernel is compared with Python when it is compiled."""
    m = int(1e5 * math.sin(math.pi * x)) + 1
    return (m ** 4 // m ** 3) / m


_middle = numba.njit(_one_wrapping_in_the_middle)


@numba.njit
def _one_wrapping_late(x):
    """1 in Python, 1 + (x - 1.85)**2 compiled from x = 1.8447 on (int(5e18 x) is past
    2**63 there and converts to -2**63): the same at x = 0, 0.5 and 1."""
    return 1.0 + (int(5e18 * x) < 0) * (x - 1.85) ** 2


@numba.njit
def _one_wrapping_at_lags(u):     # _one_wrapping_in_the_middle at 2 u: 1 at u = 0 and 0.5
    m = int(1e5 * math.sin(2.0 * math.pi * u)) + 1
    return (m ** 4 // m ** 3) / m


@pytest.mark.parametrize("case", ["gauss2", "s", "tolerance", "tolerance radau4", "vector",
                                  "weakly singular", "first kind", "first kind s",
                                  "first kind tolerance", "fredholm", "fredholm K(x, s)",
                                  "convolution k", "convolution k direct", "vide f", "vide K"])
def test_a_kernel_differing_from_python_only_inside_the_interval_is_refused(case):
    """Compiled and Python arithmetic compared at compilation, at t0 and t0 + 1 only, missed
    a kernel that wraps around only elsewhere; each case was a success on the base: K = -y
    m**4 // m**3 / m (m = int(1e5 sin(pi t)) + 1; y = e^-t in Python), gauss2 on 32 steps,
    y(1) = 0.234 for e^-1 = 0.368; the weakly singular one 0.119; K = -y (1 + (int(5e18 t)
    < 0) (t - 1.85)**2) (y = e^-t) to rtol 1e-6 on [0, 3] (radau3 and radau4), y(3) =
    -0.523 for 0.050, vector (gauss2, 32 steps) -1.05, with s for t 0.030; the first-kind
    K(t, s) = 1 + ... (y = 1) -0.849 (t) and 0.431 (s; also to a tolerance); Fredholm
    y = 1 + int 0.5 y (y = 2) 1.698 (K(x, s, y) and K(x, s)); the convolution k(u) (e^-t)
    0.593 (fast and direct history); the VIDE y' = -y ... (e^-t) 0.579 and y' = int K
    (cos t) -1.156.  The solve's own interval is compared after the solve (once per kernel
    and interval)."""
    one = lambda t: 1.0  # noqa: E731
    late = _one_wrapping_late
    calls = {
        "gauss2": lambda: solve_volterra(
            lambda t, s, y: -y * _middle(t), one, (0.0, 1.0), 32, "gauss2"),
        "s": lambda: solve_volterra(
            lambda t, s, y: -y * late(s), one, (0.0, 3.0), 32, "gauss2"),
        "tolerance": lambda: solve_volterra(
            lambda t, s, y: -y * late(t), one, (0.0, 3.0), rtol=1e-6),
        "tolerance radau4": lambda: solve_volterra(
            lambda t, s, y: -y * late(t), one, (0.0, 3.0), rtol=1e-8, method="radau4"),
        "vector": lambda: solve_volterra(
            lambda t, s, y: -y * late(t), lambda t: np.array([1.0, 2.0]), (0.0, 3.0), 32,
            "gauss2"),
        "weakly singular": lambda: solve_volterra(
            weakly_singular(lambda t, s, y: -y * _middle(t), 0.5), one, (0.0, 1.0), 32,
            "radau3"),
        "first kind": lambda: solve_volterra(lambda t, s: late(t), lambda t: t, (0.0, 3.0), 32,
                                             kind=1),
        "first kind s": lambda: solve_volterra(lambda t, s: late(s), lambda t: t, (0.0, 3.0),
                                               32, kind=1),
        "first kind tolerance": lambda: solve_volterra(lambda t, s: late(s), lambda t: t,
                                                       (0.0, 3.0), kind=1, rtol=1e-6),
        "fredholm": lambda: solve_fredholm(lambda x, s, y: 0.5 * y * _middle(x), one,
                                           (0.0, 1.0), 16),
        "fredholm K(x, s)": lambda: solve_fredholm(lambda x, s: 0.5 * _middle(x), one,
                                                   (0.0, 1.0), 16),
        "convolution k": lambda: solve_volterra(
            convolution(lambda u: -_one_wrapping_at_lags(u)), one, (0.0, 1.0), 32, "gauss2"),
        "convolution k direct": lambda: solve_volterra(
            convolution(lambda u: -_one_wrapping_at_lags(u)), one, (0.0, 1.0), 32, "gauss2",
            fast_history=False),
        "vide f": lambda: solve_vide(lambda t, y, z: -y * _middle(t) + z,
                                     lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0), 32),
        "vide K": lambda: solve_vide(lambda t, y, z: z, lambda t, s, y: -y * late(t), 1.0,
                                     (0.0, 3.0), 32),
    }
    with pytest.raises(UserCodeError, match=r"compiled by Numba but .* in Python at .*64-bit"):
        sol = calls[case]()
        print(sol.success, np.ravel(sol.y)[-1])


def test_the_check_over_the_interval_is_made_once_per_kernel_and_interval(monkeypatch):
    """The comparison over a solve's interval (after the solve) is made once per compiled
    kernel and interval: a second solve on the interval compares nothing (its per-call cost
    is a set lookup), one on another interval compares again, at 24 points."""
    from integrallimits.kernels import _user
    compared = []
    original = _user.refuse_if_compiled_differs

    def counting(what, points, *rest, **options):
        compared.append(len(points))
        return original(what, points, *rest, **options)

    def K(t, s, y):
        return -y * math.exp(-(t - s))

    monkeypatch.setattr(_user, "refuse_if_compiled_differs", counting)
    solve_volterra(K, ONE, (0.0, 1.0), 8, "gauss2")
    assert compared == [2, 24]     # (at compilation, then over [0, 1])
    solve_volterra(K, ONE, (0.0, 1.0), 8, "gauss2")
    solve_volterra(K, lambda t: 2.0, (0.0, 1.0), 16, "radau3")
    assert compared == [2, 24]
    solve_volterra(K, ONE, (0.0, 2.0), 8, "gauss2")
    assert compared == [2, 24, 24]


def _jacobian_wrapping(t, s, y):
    """-40 in Python (2**80 % 3 == 1), 0 compiled (2**80 wraps to 0): dK/dy of K = -40 y."""
    return -40 * ((BIG_INT * BIG_INT) % 3)


@pytest.mark.parametrize("case", ["fixed", "tolerance", "args", "vector", "vide K", "vide f",
                                  "fredholm", "convolution phi", "weakly singular",
                                  "inside fixed", "inside tolerance", "inside vide f"])
def test_a_jacobian_whose_compiled_value_differs_from_python_is_refused(case):
    """The user's Jacobian was never compared with Python: J = -40 (2**80 % 3) for K = -40 y
    is -40 in Python and 0 compiled.  On the base, gauss2 on 32 steps failed blaming its
    check ("could not be checked from t = 0.0625", y = 1.0 kept: Newton on a Jacobian 0);
    radau3 to rtol 1e-6 was a success after 363968 evaluations of K (25571 with J = -40);
    Fredholm (K = y**2 / 2) failed naming K ("returned a non-finite value").  On the base
    each case below ran without comparing the Jacobian.  "inside": J = -2 m**4 // m**3 / m
    (m = int(1e5 sin(pi t)) + 1; -2 in Python), equal at t0 and t0 + 1, is compared over the
    solve's interval as K is.  Each is now refused naming the Jacobian, the point and both
    values."""
    one = lambda t: 1.0  # noqa: E731
    two = lambda t: np.array([1.0, 2.0])  # noqa: E731

    def K(t, s, y):
        return -40.0 * y

    def K2(t, s, y):
        return -2.0 * y

    def J2(t, s, y):
        return -2.0 * _middle(t)

    calls = {
        "fixed": lambda: solve_volterra(K, one, (0.0, 1.0), 32, "gauss2",
                                        jacobian=_jacobian_wrapping),
        "tolerance": lambda: solve_volterra(K, one, (0.0, 1.0), method="radau3", rtol=1e-6,
                                            jacobian=_jacobian_wrapping),
        "args": lambda: solve_volterra(lambda t, s, y, n: -40.0 * y, one, (0.0, 1.0), 32,
                                       "gauss2", args=(BIG_INT,),
                                       jacobian=lambda t, s, y, n: -40 * ((n * n) % 3)),
        "vector": lambda: solve_volterra(
            K, two, (0.0, 1.0), 32, "gauss2",
            jacobian=lambda t, s, y: -40.0 * np.eye(2) * ((BIG_INT * BIG_INT) % 3)),
        "vide K": lambda: solve_vide(lambda t, y, z: z, K, 1.0, (0.0, 1.0), 32, "gauss2",
                                     kernel_jacobian=_jacobian_wrapping),
        "vide f": lambda: solve_vide(
            lambda t, y, z: -40.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0), 32,
            "gauss2", jacobian=lambda t, y, z: (-40 * ((BIG_INT * BIG_INT) % 3), 1.0)),
        "fredholm": lambda: solve_fredholm(
            lambda x, s, y: 0.5 * y * y, lambda x: 1.0, (0.0, 1.0), 16,
            jacobian=lambda x, s, y: y * ((BIG_INT * BIG_INT) % 3)),
        "convolution phi": lambda: solve_volterra(
            convolution(lambda u: np.exp(-u), lambda s, y: -40.0 * y,
                        phi_jacobian=lambda s, y: -40 * ((BIG_INT * BIG_INT) % 3)),
            one, (0.0, 1.0), 32, "gauss2"),
        "weakly singular": lambda: solve_volterra(
            weakly_singular(K, 0.5, jacobian=_jacobian_wrapping), one, (0.0, 1.0), 32,
            "radau3"),
        "inside fixed": lambda: solve_volterra(K2, one, (0.0, 1.0), 32, "gauss2", jacobian=J2),
        "inside tolerance": lambda: solve_volterra(K2, one, (0.0, 1.0), method="radau3",
                                                   rtol=1e-6, jacobian=J2),
        "inside vide f": lambda: solve_vide(
            lambda t, y, z: -2.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0), 32,
            "gauss2", jacobian=lambda t, y, z: (-2.0 * _middle(t), 1.0)),
    }
    with pytest.raises(UserCodeError, match=r"^the Jacobian .* compiled by Numba but .* in "
                                            r"Python at \(.*64-bit"):
        sol = calls[case]()
        print(sol.success, np.ravel(sol.y)[-1], sol.stats.get("nfev"), sol.message[:200])


@pytest.mark.parametrize("case", ["fixed", "vide f"])
def test_a_single_precision_jacobian_whose_compiled_value_differs_from_python_is_refused(case):
    """A Jacobian in single precision (allowed) was not compared with Python at all: J =
    np.float32(-40) * (2**80 % 3) for K = -40 y, -40 in Python and 0 compiled (2**80 wraps to
    0), ran unchecked on the base (gauss2 on 32 steps: "could not be checked", y = 1.0 kept).
    It is compared at 1000 units of float32's rounding (1.2e-4 of the largest value) and
    refused as a double one is."""
    calls = {
        "fixed": lambda: solve_volterra(
            lambda t, s, y: -40.0 * y, ONE, (0.0, 1.0), 32, "gauss2",
            jacobian=lambda t, s, y: np.float32(-40.0) * ((BIG_INT * BIG_INT) % 3)),
        "vide f": lambda: solve_vide(
            lambda t, y, z: -40.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0), 32,
            "gauss2", jacobian=lambda t, y, z: (np.float32(-40.0) * ((BIG_INT * BIG_INT) % 3),
                                                np.float32(1.0))),
    }
    with pytest.raises(UserCodeError, match=r"^the Jacobian .* is \[?-?0\.0.* compiled by Numba "
                                            r"but \[?-40\.0.* in Python at \(.*64-bit"):
        sol = calls[case]()
        print(sol.success, np.ravel(sol.y)[-1], sol.message[:200])


def test_a_correct_jacobian_is_compared_once_per_interval_with_k(monkeypatch):
    """A Jacobian computing in integers that do not overflow (-(n * n) // 4 with n = 2**20:
    2**38, exact) passes; it is compared with K, at compilation (2 points each) and once per
    interval (24 points each, one memo for both: a second solve on the interval compares
    nothing); K = -40 y solved by gauss2 (e^-40 to 1e-12) and by a VIDE with f's Jacobian."""
    from integrallimits.kernels import _user
    compared = []
    original = _user.refuse_if_compiled_differs

    def counting(what, points, *rest, **options):
        compared.append((what, len(points)))
        return original(what, points, *rest, **options)

    big = 2 ** 20

    def K(t, s, y):
        return -40.0 * y / 2.0 ** 38 * ((big * big) // 4)

    def J(t, s, y):
        return -40.0 / 2.0 ** 38 * ((big * big) // 4)

    monkeypatch.setattr(_user, "refuse_if_compiled_differs", counting)
    for _ in range(2):
        sol = solve_volterra(K, ONE, (0.0, 1.0), 32, "gauss2", jacobian=J)
        assert sol.success and abs(sol.y[-1] - np.exp(-40.0)) < 1e-12
        assert sol.stats["jacobian"] == "user"
    jac = "the Jacobian of K(t, s, y)"
    assert compared == [("K(t, s, y)", 2), (jac, 2), ("K(t, s, y)", 24), (jac, 24)]
    sol = solve_vide(lambda t, y, z: -40.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0),
                     32, "gauss2",
                     jacobian=lambda t, y, z: (-40.0 / 2.0 ** 38 * ((big * big) // 4), 1.0))
    assert sol.success and abs(sol.y[-1] - np.exp(-40.0)) < 1e-12
    assert [w for w, _ in compared[4:]].count("the Jacobian (df/dy, df/dz) of f(t, y, z)") == 2


def test_a_jacobian_in_mixed_single_precision_is_not_refused():
    """A Jacobian may be single precision: NumPy 2 keeps np.float32(-2.1) * (1 + 0.1 y) in
    float32, Numba computes it in float64 (a float32 unit apart): not compared, solved as on
    the base (the comparison in double precision refused it at (0.5, 0.5, 0.368))."""
    jac = lambda t, s, y: np.float32(-2.1) * (1.0 + 0.1 * y)  # noqa: E731
    sol = solve_volterra(lambda t, s, y: -2.0 * y, ONE, (0.0, 1.0), 16, "radau2", jacobian=jac)
    assert sol.success and abs(sol.y[-1] - np.exp(-2.0)) < 1e-4
    sol = solve_vide(lambda t, y, z: -2.0 * y + z, lambda t, s, y: 0.0 * y, 1.0, (0.0, 1.0),
                     16, "gauss2", jacobian=lambda t, y, z: (np.float32(-2.1) * (1.0 + 0.1 * y),
                                                             1.0))
    assert sol.success and abs(sol.y[-1] - np.exp(-2.0)) < 1e-4


FORCING_LEVEL = 1.0   # read by a compiled helper of the forcings below


@numba.njit
def _forcing_level():
    return FORCING_LEVEL


@numba.njit
def _scaled_by_forcing_level(x):
    return FORCING_LEVEL * x


def _forcing_through_python(t):     # a plain helper of g, in g's module, calling the compiled one
    return _scaled_by_forcing_level(1.0)


@pytest.mark.parametrize("solver", ["volterra", "fredholm", "first-kind", "python helper"])
def test_a_forcing_calling_a_compiled_helper_sees_a_changed_global(solver):
    """g(t) = helper() with the user's @njit helper reading a global: Numba compiled the helper
    once, with FORCING_LEVEL = 1, and g (called in Python) kept that value after the global
    changed: on the base, FORCING_LEVEL = 3 gave y(1) = e^-1 (0.74 off 3 e^-1), a success,
    and the Fredholm solve 2.0 for 6.0.  The helper is compiled again for the new value, as a
    kernel's helper is."""
    global FORCING_LEVEL
    try:
        for FORCING_LEVEL in (1.0, 3.0, 1.0):
            if solver == "volterra":
                sol = solve_volterra(lambda t, s, y: -y, lambda t: _forcing_level(), (0.0, 1.0),
                                     32, "gauss2")
                want = FORCING_LEVEL * np.exp(-1.0)
                assert abs(float(sol(0.55)) - FORCING_LEVEL * np.exp(-0.55)) < 1e-6
            elif solver == "fredholm":
                sol = solve_fredholm(lambda x, s, y: 0.5 * y,
                                     lambda x: _scaled_by_forcing_level(1.0), (0.0, 1.0), 8)
                want = 2.0 * FORCING_LEVEL
            elif solver == "python helper":
                sol = solve_volterra(lambda t, s, y: -y, lambda t: _forcing_through_python(t),
                                     (0.0, 1.0), 32, "gauss2")
                want = FORCING_LEVEL * np.exp(-1.0)
            else:   # int_0^t y ds = g(t) = level * t: y = level
                sol = solve_volterra(lambda t, s: 1.0,
                                     lambda t: _scaled_by_forcing_level(t), (0.0, 1.0), 16,
                                     kind=1)
                want = FORCING_LEVEL
            assert sol.success and abs(sol.y[-1] - want) < 1e-6, FORCING_LEVEL
    finally:
        FORCING_LEVEL = 1.0


@pytest.mark.parametrize("method, lam, T, kw", [
    ("gauss2", 1.0, 1e16, {"n_steps": 4}),
    ("gauss2", 1.0, 1e20, {"n_steps": 16}),
    ("gauss4", 1.0, 1e20, {"n_steps": 8}),
    ("gauss2", 1e6, 1e10, {"n_steps": 8}),
    ("gauss4", 1e6, 1e6, {"rtol": 1e-3, "atol": 1e-6}),
])
def test_a_stiff_transient_that_every_mesh_keeps_alike_is_no_success(method, lam, T, kw):
    """y = 1 - lam int y (y = exp(-lam t), 0 at T) with a Gauss method on steps of h lam up to
    1e19 e-folds: R(h lam) tends to +1 (A- but not L-stable), so the transient is kept, y = 1
    for 0, alike on every mesh that the estimate and the check of the first steps compare
    (their differences at the rounding level).  On main each was a success with y(T) = 1
    and an estimate of 8e-12 to 1e-6 (gauss2, 4 steps over [0, 1e16]: 3.5e-12); now a failure
    that names the kept transient (or, to a tolerance, the collapse of the step size for a
    method that is not L-stable: the stage solves of steps of h lam ~ 1e5 converge only to
    the residual's tolerance since trust-59), or a success whose values are within their
    estimate."""
    sol = solve_volterra(lambda t, s, y: -lam * y, ONE, (0.0, T), method=method, **kw)
    err = np.abs(sol.y - np.exp(-lam * sol.t))
    if sol.success:
        bound = (np.asarray(sol.error_estimate) if "n_steps" in kw
                 else 10 * (kw["atol"] + kw["rtol"] * np.exp(-lam * sol.t)))
        assert np.all(err <= 3 * bound + 1e-13), (err.max(), sol.message)
    else:
        named = "keep instead of damping" in sol.message or (
            "n_steps" not in kw and "not L-stable" in sol.message)
        assert named, sol.message
        assert np.all(err[1:] <= 3 * np.asarray(sol.error_estimate)[1:] + 1e-13)


def test_a_stiff_component_kept_by_gauss_steps_is_no_success():
    """A system with one stiff component, y_a = 1 - 1e6 int y_a, y_b = 1 - 1e-10 int y_b, on
    4 gauss2 steps over [0, 1e10]: main returned a success with y_a = 1 for 0 and an
    estimate of 2.2e-5; the kept transient of y_a now fails the solve."""
    sol = solve_volterra(lambda t, s, y: (-1e6 * y[0], -1e-10 * y[1]),
                         lambda t: np.array([1.0, 1.0]), (0.0, 1e10), 4, method="gauss2")
    assert not sol.success and "keep instead of damping" in sol.message, sol.message


def test_a_start_on_the_slow_manifold_is_not_refused_by_the_kept_transient_check():
    """The Prothero-Robinson equation y = cos t - 1e12 int (y - cos s) ds (y = cos t): the
    steps of gauss2 span 6e11 e-folds, but y0 is on the slow solution, so there is no
    transient to keep: the check measures its size as ~0 and the solve stays a success."""
    sol = solve_volterra(lambda t, s, y: -1e12 * (y - math.cos(s)), lambda t: math.cos(t),
                         (0.0, 10.0), 16, method="gauss2")
    assert sol.success, sol.message
    assert "keep instead of damping" not in sol.message
    assert np.max(np.abs(sol.y - np.cos(sol.t))) <= 1e-9
