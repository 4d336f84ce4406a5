"""The loops specialised to save compile time (issue 15) equal the general loops, bitwise, and
the functions those loops never call are not compiled for them."""
import math

import numpy as np
import pytest

from integrallimits import METHODS, solve_volterra
from integrallimits.kernels import convolution
from integrallimits.kernels._kernel import as_kernel
from integrallimits.volterra import _loops
from integrallimits.volterra._fft import kernel_transforms
from integrallimits.volterra._methods import _kernel_args, _lag_sequences

DIRECT = [name for name, meth in METHODS.items() if meth.family == "direct"]


def _lag(u):
    return math.exp(-u)


def _forcing(t):   # y = sin t for K = e^{-(t - s)} y (voles' quick start)
    return np.sin(t) - 0.5 * (np.sin(t) - np.cos(t) + np.exp(-t))


@pytest.mark.parametrize("name", DIRECT)
@pytest.mark.parametrize("N", [1, 2, 7, 40])
def test_all_explicit_is_the_rule_being_explicit(name, N):
    """The explicit loop is chosen exactly for the rules whose every step is explicit."""
    meth = METHODS[name]
    start, left, right = meth._data
    if N < start.shape[0]:
        pytest.skip("no step after the starting block: the loop does nothing")
    assert _loops.all_explicit(start.shape[0], N, left, right) == (not meth.implicit)


@pytest.mark.parametrize("d", [1, 3])
def test_explicit_direct_loop_equals_the_general_loop(d):
    """The rectangle rule's loop without Newton's method gives the general loop's values,
    status and counters, bitwise (also on a non-finite value)."""
    meth = METHODS["rectangle"]

    def K(t, s, y):
        return np.tanh(y[::-1] + 0.5 * y) * math.cos(t - s) + 1e300 * (s > 0.9) * y * y

    kernel = as_kernel(K, np.zeros(d))
    t = np.linspace(0.0, 1.0, 41)
    G = np.ascontiguousarray(np.cos(np.outer(t, np.arange(1, d + 1))))
    out = []
    for loop in ("direct", "direct-explicit"):
        Y = np.zeros(G.shape)
        Y[0] = G[0]
        counts = _loops.new_counts(4)
        Kf, jac, have, B, theta = _kernel_args(kernel, False)
        status = _loops.compiled_loop(loop)(Kf, jac, have, B, theta, t, G, Y, *meth._data, 1e-12,
                                            50, counts)
        out.append((status, Y, counts))
    (s0, Y0, c0), (s1, Y1, c1) = out
    assert s0 == s1 and s0[0] == _loops.NOT_FINITE   # the 1e300 y^2 term overflows
    np.testing.assert_array_equal(Y0, Y1)
    np.testing.assert_array_equal(c0, c1)


@pytest.mark.parametrize("method", ["gauss2", "radau3", "rk4"])
def test_linear_convolution_loop_equals_the_general_loop(method):
    """The VRK loop for phi(s, y) = y gives the general fast-history loop's values, stages and
    counters, bitwise, for implicit and explicit tableaux."""
    meth = METHODS[method]
    tab = meth.tableau
    kernel = as_kernel(convolution(_lag), 0.0)
    N = 300
    t = np.linspace(0.0, 2.0, N + 1)
    h = 2.0 / N
    m = tab.stages
    stage_times = (t[:-1, None] + tab.c[None, :] * h).reshape(-1)
    G = np.ascontiguousarray(_forcing(t)[:, None])
    Gs = np.ascontiguousarray(_forcing(stage_times)[:, None])
    shift = np.concatenate([tab.c, [1.0]])[:, None] - tab.c[None, :]
    shift[m] = -tab.c
    lags = ((np.arange(N + 1)[None, None, :] + shift[:, :, None]) * h).reshape(m * (m + 1), N + 1)
    kseq = _lag_sequences(kernel, lags, m * (m + 1))
    khat, koff, tw = kernel_transforms(kseq, N + 1)
    K, jac, have, _, theta = _kernel_args(kernel)
    phi = kernel.structure["phi"].function_address.address
    out = []
    for loop in ("vrk-conv", "vrk-conv-linear"):
        Y = np.zeros(G.shape)
        Z = np.zeros((N * m, 1))
        counts = _loops.new_counts(4)
        status = _loops.compiled_loop(loop)(K, jac, have, phi, theta, t, G, Gs, Y, Z, *meth._data,
                                            tab.explicit, kseq, khat, koff, tw, True, 1e-12, 50,
                                            counts)
        out.append((status, Y, Z, counts))
    (s0, Y0, Z0, c0), (s1, Y1, Z1, c1) = out
    assert s0 == s1 == (_loops.SUCCESS, N)
    np.testing.assert_array_equal(Y0, Y1)
    np.testing.assert_array_equal(Z0, Z1)
    np.testing.assert_array_equal(c0, c1)
    assert abs(Y1[-1, 0] - math.sin(2.0)) < 1e-5


def test_linear_fast_history_compiles_no_block_sum_nor_jacobian():
    """A linear convolution solved with the fast history needs neither the kernel's block sum
    nor its Jacobian nor phi = y's functions: none of them is compiled (a direct-history solve
    then compiles the block sum and gives the same kind of result)."""
    # a kernel of its own (a new lambda): nothing compiled for it by another test
    spec = convolution(lambda u: math.exp(-1.5 * u))
    sol = solve_volterra(spec, _forcing, (0.0, 2.0), 64, method="gauss3")
    assert sol.success and sol.stats["fast_history"]
    kernel = as_kernel(spec, 0.0)
    assert kernel.block_sum.signatures == []
    assert kernel.jacobian_function.signatures == []
    assert kernel.function.signatures   # the kernel itself was compiled (explicit stages use it)
    direct = solve_volterra(spec, _forcing, (0.0, 2.0), 64, method="gauss3", fast_history=False)
    assert direct.success and not direct.stats["fast_history"]
    assert kernel.block_sum.signatures
    np.testing.assert_allclose(direct.y, sol.y, rtol=0, atol=1e-12)


def test_missing_jacobian_is_an_absent_address():
    """A missing Jacobian reaches the loops as Numba's mark for no implementation (-1), with no
    compiled placeholder behind it; the loops never call it (have_jac is False)."""
    absent = _loops.no_jacobian()
    assert absent.address == -1 and absent.__wrapper_address__() == -1
    assert absent.dispatcher is None
    sol = solve_volterra(lambda t, s, y: math.exp(-(t - s)) * y * y, lambda t: math.exp(-2 * t),
                         (0.0, 1.0), 16, method="gregory4")
    assert sol.success and sol.stats["njev"] > 0   # finite-difference Jacobians, no call of it


def _defined_with(ir, name, attribute):
    """Whether the function of ``ir`` (LLVM IR text) whose symbol contains ``name`` is defined
    with ``attribute`` (in its attribute group)."""
    import re
    define = next(line for line in ir.splitlines()
                  if line.startswith("define") and name in line and "cpython" not in line)
    groups = dict(re.findall(r"^attributes (#\d+) = \{(.*)\}$", ir, re.M))
    return any(attribute in groups.get(g, "").split() for g in re.findall(r"#\d+", define))


def test_direct_loop_is_compiled_small():
    """Start-up (issue 15): the direct loop is compiled with LLVM's optsize (its short loops over
    d were unrolled and vectorised: its code was 1.8x larger, 0.35 s more to compile), and calls
    the kernels by address without Numba's first-class-function fallback (the Python object's
    address, asked under the GIL, at every call site).  Compiled here without the on-disk cache,
    whose code Numba does not show."""
    from integrallimits._numba import JIT_OPTIONS, jit
    options = {k: v for k, v in JIT_OPTIONS.items() if k not in ("nopython", "cache")}
    loop = jit(_loops._SIGNATURES["direct"], cache=False, no_cfunc_wrapper=True,
               **options)(_loops._PYFUNCS["direct"])
    ir = loop.inspect_llvm(loop.signatures[0])
    assert _defined_with(ir, "_direct_loop", "optsize")
    assert "function address is null" not in ir



def _compiled_ir(name):
    """The LLVM IR of the loop ``name``, compiled without the on-disk cache (whose code Numba
    does not show)."""
    from integrallimits._numba import JIT_OPTIONS, jit
    options = {k: v for k, v in JIT_OPTIONS.items() if k not in ("nopython", "cache")}
    loop = jit(_loops._SIGNATURES[name], cache=False, no_cfunc_wrapper=True,
               **options)(_loops._PYFUNCS[name])
    return loop.inspect_llvm(loop.signatures[0])


@pytest.mark.parametrize("name", ["start", "direct", "direct-autonomous"])
def test_only_the_network_loops_compile_the_continuation(name):
    """Start-up (issue 15): the continuation fallback of a network's failed Newton solves
    (``_loops._continuation``) is compiled into the loops' network variants only: compiled into
    every direct loop, it made a cold first solve with gregory6 (the README's example) take
    several seconds longer.  (The network variants' behaviour: tests/networks/test_relu_newton.py;
    the starting block's variant, which no network test there reaches, is checked here.)"""
    assert "_continuation" not in _compiled_ir(name)
    if name == "start":
        assert "_continuation" in _compiled_ir("start-robust")

def _pouzet_reference(tab, k, g, t):
    """The Pouzet-type VRK scheme written out for a linear kernel K = k(t, s) y: every lag sum
    over all earlier stage rows, the stages from one linear solve per step."""
    c, A, b = (np.asarray(x, dtype=float) for x in (tab.c, tab.A, tab.b))
    ts, ws, zs, y = [], [], [], [g(t[0])]

    def lag(x):
        return sum(w * k(x, s) * z for s, w, z in zip(ts, ws, zs))

    for n in range(len(t) - 1):
        h = t[n + 1] - t[n]
        tn = t[n] + c * h
        C = np.array([g(x) + lag(x) for x in tn])
        M = np.eye(len(c)) - h * A * np.array([[k(x, s) for s in tn] for x in tn])
        Z = np.linalg.solve(M, C)
        ts, ws, zs = ts + list(tn), ws + list(h * b), zs + list(Z)
        y.append(g(t[n + 1]) + lag(t[n + 1]))
    return np.array(y)


# Kernels of a parametrized test, defined once: a kernel made inside a test is a new function
# each time, compiled again for every parameter (about a second each).

def _half_linear(t, s, y):
    return 0.5 * (1 + t * s) * y


@pytest.mark.parametrize("method", ["rk4", "radau1", "radau3", "gauss2"])
def test_vrk_lag_sums_once_per_distinct_time(method):
    """The VRK loop sums the lags once per distinct time of a step: rk4's two middle stages
    share their sum, its first stage takes the previous step's end sum, and where the last
    stage sits at the step's end (Radau IIA, rk4) the end sum is that stage's plus the step's
    own m terms.  The values are the scheme written out (to rounding), the kernel evaluations
    those distinct sums (the loop summed every stage and the end over all rows: rk4 at N = 6
    took 342 evaluations where 162 do, radau3 522 where 477 do)."""
    meth = METHODS[method]
    tab = meth.tableau
    m = len(tab.c)
    t = np.linspace(0.0, 1.0, 7)
    N = t.size - 1
    sol = solve_volterra(_half_linear, lambda t: 1 + t, (0.0, 1.0), N,
                         method=method, error_estimate=False)
    ref = _pouzet_reference(tab, lambda t, s: 0.5 * (1 + t * s), lambda t: 1 + t, t)
    assert np.max(np.abs(sol.y - ref)) < 1e-14 * np.max(np.abs(ref))
    c = [float(x) for x in tab.c]
    distinct = len(set(c) - ({0.0} if c[0] == 0.0 else set()))   # sums over n m rows, step n
    at_end = c[-1] == 1.0
    inside = np.count_nonzero(np.asarray(tab.A, dtype=float))     # the step's own K calls
    lags = sum(distinct * n * m + (m if at_end else (n + 1) * m) for n in range(N))
    if meth.implicit:   # (and one more per finite-difference Jacobian, d = 1)
        assert sol.stats["jacobian"] == "finite-difference"
        own = inside * sol.stats["newton_iterations"] + sol.stats["njev"]
        assert sol.stats["nfev"] == lags + own
    else:
        assert sol.stats["nfev"] == lags + inside * N


def test_the_big_step_helpers_are_calls_compiled_with_the_loops_options():
    """Numba inlines an ``inline="always"`` helper by copying its IR once per call site, a
    helper inlined in a helper once per site of each: ``_stages_at`` (4 sites, one inside
    ``_step``), ``_lag_sum`` (3 in ``_step``) and ``_finish_step`` (one in each of 5 direct
    loops) are called instead.  From an empty cache the step doubling's loop ("vrk-steps") took
    8.1-9.1 s to compile, 2.3 with them called (+ 2 s for the helpers, shared by the loops); the
    four VRK loops together 18.7 s, 11.2.  They are compiled with the loops' own options (the
    error model, no fast-math), so the values stay bit for bit those of the inlined helpers."""
    from integrallimits._numba import JIT_OPTIONS
    expected = {k: v for k, v in JIT_OPTIONS.items() if k != "cache"}
    for helper in (_loops._stages_at, _loops._lag_sum, _loops._finish_step):
        options = dict(helper.targetoptions)
        assert options.pop("inline", "never") == "never"
        assert "fastmath" not in options
        assert {k: options.get(k) for k in expected} == expected
        assert type(helper._cache).__name__ != "NullCache"      # cache=True, like the loops


def test_the_loops_call_compiled_helpers_without_literal_integers():
    """Numba types a constant argument of a compiled call as a literal (Literal[int](1),
    Literal[bool](False)) and compiles the callee again for it: the robust loops' calls of
    ``_continuation`` with the constants 1 and 0 compiled it three times (1.5-2.2 s each from an
    empty cache) where one int64 compilation serves all three.  No call in ``_loops`` of a
    helper compiled on its own (not inlined) passes an integer or boolean constant."""
    import ast
    import inspect

    from numba.core.registry import CPUDispatcher

    calls = []
    for node in ast.walk(ast.parse(inspect.getsource(_loops))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            helper = getattr(_loops, node.func.id, None)
            if isinstance(helper, CPUDispatcher) and \
                    helper.targetoptions.get("inline", "never") == "never":
                calls.append(node.func.id)
                constants = [ast.unparse(a) for a in list(node.args) +
                             [k.value for k in node.keywords]
                             if isinstance(a, ast.Constant) and isinstance(a.value, (bool, int))]
                assert not constants, (node.func.id, node.lineno, constants)
    assert {"_continuation", "_finish_step", "_stages_at", "_lag_sum"} <= set(calls)


def _array_slice_assignments(function):
    """The lines of ``function`` (its source) that assign to a slice something other than a
    number: ``a[n, :] = b``."""
    import ast
    import inspect
    import textwrap

    lines = []
    for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(function)))):
        targets = node.targets if isinstance(node, ast.Assign) else []
        for target in targets:
            if isinstance(target, ast.Subscript) and any(
                    isinstance(part, ast.Slice) for part in ast.walk(target.slice)):
                number = isinstance(node.value, ast.Constant) or (
                    isinstance(node.value, ast.Attribute) and node.value.attr == "nan")
                if not number:
                    lines.append(ast.unparse(node))
    return lines


def test_compiled_rows_are_copied_element_by_element():
    """A slice assignment of an array in compiled code (``head[n, :] = f``) also compiles
    Numba's shape-mismatch error with its message formatting, once per process, into the first
    function that has one: 1.3-2.3 s of CPU from an empty cache (the t-independent direct loop
    5.0 -> 3.7 s, the first vector kernel's block sum 3.2 -> 0.9 s, the direct adjoint loop 6.2
    -> 4.2 s).  These copy their rows element by element: the same values."""
    from integrallimits.control import _adjoint_loops
    from integrallimits.kernels import _kernel

    functions = [_loops._direct_autonomous_loop, _kernel._wrap_vector_kernel,
                 _adjoint_loops._diag_solve.py_func] + \
        [function for function, _ in _adjoint_loops._LOOPS.values()]
    for function in functions:
        assert _array_slice_assignments(function) == [], function.__qualname__

    def copies(a, b):
        a[0, :] = b
        a[1, :] = np.nan
    assert _array_slice_assignments(copies) == ["a[0, :] = b"]     # (the check can fail)
