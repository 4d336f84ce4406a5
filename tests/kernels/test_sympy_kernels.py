"""Kernels compiled from SymPy expressions: values, exact Jacobians, caching, errors.

Properties checked: the compiled kernel equals the expression (high-precision SymPy
evaluation) to 1e-14; the compiled Jacobian equals sympy.diff of the expression and,
independently, central differences of the compiled kernel; the same expression is
compiled once per process, and a second process loads it from Numba's on-disk cache.
Kernels are compiled once per module (fixtures) to keep Numba's compile time down.
"""
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
import sympy
from numba.core import types

import integrallimits
from integrallimits.kernels import (ExpressionError, Kernel, KernelCompilationError, as_forcing,
                                    forcing_from_sympy, forcing_from_text, from_sympy,
                                    kernel_from_text)
from integrallimits.kernels import _generated, _sympy
from integrallimits.kernels._kernel import (BlockSumFunction, ParamJacobianFunction,
                                            ParamKernelFunction, function_at)

t, s, y = sympy.symbols("t s y", real=True)
y0, y1, y2 = sympy.symbols("y0 y1 y2", real=True)

SCALAR = (sympy.exp(s - t) * sympy.sin(y) + t * s / (1 + y ** 2)
          + sympy.sqrt(1 + t) * sympy.cos(s) * y ** 3 + sympy.erf(y) / 3
          + sympy.atan2(y, 1 + t) + sympy.Rational(1, 10) * y)
VEC2 = [-y0 * y1 + sympy.cos(t - s), y0 ** 2 * sympy.exp(-s) - sympy.atan(y1)]
VEC3 = [y0 * y1 * y2 + t,
        sympy.log(1 + y0 ** 2) - s * sympy.tanh(y2) + sympy.pi * y1 / 7,
        sympy.sqrt(1 + y1 ** 2) * sympy.exp(s - t) + sympy.Abs(y0 - sympy.Rational(3, 2))
        + sympy.Max(y2, 0) - sympy.sinh(y0 * s) / 5]

RNG = np.random.default_rng(20240611)


def _points(d, n=12):
    ts = RNG.uniform(0.0, 2.0, n)
    ss = RNG.uniform(0.0, 1.0, n) * ts
    ys = RNG.uniform(-2.0, 2.0, (n, d))
    return list(zip(ts, ss, ys))


def _reference(exprs, symbols, point):
    """High-precision values of expressions at (t, s, y): independent of the printer."""
    ti, si, yi = point
    subs = {t: sympy.Float(ti, 40), s: sympy.Float(si, 40)}
    subs.update({sym: sympy.Float(v, 40) for sym, v in zip(symbols, yi)})
    return np.array([float(sympy.N(e.subs(subs), 30)) for e in exprs])


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """A private on-disk cache for this module (nothing is written to the user's home)."""
    path = tmp_path_factory.mktemp("integrallimits-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INTEGRALLIMITS_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def scalar_kernel(cache_dir):
    return from_sympy(SCALAR, t, s, y, name="scalar")


@pytest.fixture(scope="module")
def vec2_kernel(cache_dir):
    return from_sympy(VEC2, t, s, [y0, y1])


@pytest.fixture(scope="module")
def vec3_kernel(cache_dir):
    return from_sympy(sympy.Matrix(VEC3), t, s, (y0, y1, y2))


CASES = {"scalar": (SCALAR, (y,)), "vec2": (VEC2, (y0, y1)), "vec3": (VEC3, (y0, y1, y2))}


@pytest.fixture(params=list(CASES))
def case(request, scalar_kernel, vec2_kernel, vec3_kernel):
    kernel = {"scalar": scalar_kernel, "vec2": vec2_kernel, "vec3": vec3_kernel}[request.param]
    exprs, ys = CASES[request.param]
    exprs = [exprs] if request.param == "scalar" else exprs
    return kernel, exprs, ys


def _evaluate(kernel, ti, si, yi, rows=4, j=2):
    """kernel.evaluate on row j of a larger Y (the kernel must read Y[j], not Y[0])."""
    Y = RNG.uniform(-5, 5, (rows, kernel.dim))
    Y[j] = yi
    out = np.full(kernel.dim, np.nan)
    kernel.function(ti, si, Y, j, kernel.params, out)
    return out


def _jacobian(kernel, ti, si, yi, rows=4, j=1):
    Y = RNG.uniform(-5, 5, (rows, kernel.dim))
    Y[j] = yi
    J = np.full((kernel.dim, kernel.dim), np.nan)
    kernel.jacobian_function(ti, si, Y, j, kernel.params, J)
    return J


# -- values and Jacobians -----------------------------------------------------------------

def test_kernel_attributes(case):
    kernel, exprs, ys = case
    assert isinstance(kernel, Kernel)
    assert kernel.dim == len(ys)
    assert kernel.scalar == (len(exprs) == 1 and ys == (y,))
    assert kernel.jacobian_source == "sympy"
    assert kernel.structure["kind"] == "general"
    assert isinstance(kernel.function, numba.core.registry.CPUDispatcher)
    assert isinstance(kernel.jacobian_function, numba.core.registry.CPUDispatcher)


def test_compiled_kernel_equals_expression(case):
    kernel, exprs, ys = case
    for ti, si, yi in _points(len(ys)):
        ref = _reference(exprs, ys, (ti, si, yi))
        np.testing.assert_allclose(_evaluate(kernel, ti, si, yi), ref, rtol=1e-14, atol=1e-14)
        # the Python-level call and the pure-Python probe agree with it
        value = kernel(ti, si, yi[0] if kernel.scalar else yi)
        np.testing.assert_allclose(np.atleast_1d(value), ref, rtol=1e-14, atol=1e-14)
        probe = kernel.probe(ti, si, yi[0] if kernel.scalar else yi)
        assert isinstance(probe, float) if kernel.scalar else probe.shape == (kernel.dim,)
        np.testing.assert_allclose(np.atleast_1d(probe), ref, rtol=1e-14, atol=1e-14)


def test_compiled_jacobian_equals_sympy_diff(case):
    kernel, exprs, ys = case
    jac_exprs = [sympy.diff(e, v) for e in exprs for v in ys]
    d = len(ys)
    for ti, si, yi in _points(d):
        ref = _reference(jac_exprs, ys, (ti, si, yi)).reshape(d, d)
        np.testing.assert_allclose(_jacobian(kernel, ti, si, yi), ref, rtol=1e-14, atol=1e-14)


def test_compiled_jacobian_equals_finite_differences(case):
    """Independent of SymPy: central differences of the compiled kernel itself."""
    kernel, exprs, ys = case
    d = len(ys)
    for ti, si, yi in _points(d):
        fd = np.empty((d, d))
        for b in range(d):
            h = 1e-6 * max(1.0, abs(yi[b]))
            e = np.zeros(d)
            e[b] = h
            fd[:, b] = (_evaluate(kernel, ti, si, yi + e)
                        - _evaluate(kernel, ti, si, yi - e)) / (2 * h)
        np.testing.assert_allclose(_jacobian(kernel, ti, si, yi), fd, rtol=1e-7, atol=1e-7)


_SOLVER_LIKE = types.void(ParamKernelFunction, ParamJacobianFunction, BlockSumFunction, types.float64,
                          types.float64, types.float64[:, ::1], types.float64[::1],
                          types.float64[:, ::1], types.float64[:, :, ::1], types.float64[::1])


@numba.njit(_SOLVER_LIKE)
def _apply_rows(kernel, jacobian, block, t, s, Y, theta, out, J, total):
    for j in range(Y.shape[0]):
        kernel(t, s, Y, j, theta, out[j])
        jacobian(t, s, Y, j, theta, J[j])
    svals = np.full(Y.shape[0], s)
    block(t, svals, Y, 0, Y.shape[0], np.ones(Y.shape[0]), theta, total)


def test_kernels_are_first_class_functions_for_compiled_loops(scalar_kernel, vec2_kernel):
    """The solvers receive evaluate/jacobian as Numba first-class functions."""
    for kernel in (scalar_kernel, vec2_kernel):
        d = kernel.dim
        Y = RNG.uniform(-1, 1, (3, d))
        out, J, total = np.empty((3, d)), np.empty((3, d, d)), np.empty(d)
        _apply_rows(kernel.function, kernel.jacobian_function, kernel.block_sum, 0.7, 0.3, Y,
                    kernel.params, out, J, total)
        np.testing.assert_allclose(total, out.sum(axis=0), rtol=1e-14, atol=1e-14)
        for j in range(3):
            np.testing.assert_allclose(out[j], _evaluate(kernel, 0.7, 0.3, Y[j]), rtol=1e-15)
            np.testing.assert_allclose(J[j], _jacobian(kernel, 0.7, 0.3, Y[j]), rtol=1e-15)


_kernel_at = function_at(ParamKernelFunction)
_jacobian_at = function_at(ParamJacobianFunction)
_block_at = function_at(BlockSumFunction)


@numba.njit(cache=False)
def _apply_rows_at(kernel, jacobian, block, t, s, Y, theta, out, J, total):
    _apply_rows(_kernel_at(kernel), _jacobian_at(jacobian), _block_at(block), t, s, Y, theta, out,
                J, total)


def test_kernels_called_by_address_equal_first_class_functions(scalar_kernel, vec2_kernel):
    """The loops take the functions as int addresses (one unboxing less per argument and
    call); called through them, the functions give the same values, bit for bit."""
    for kernel in (scalar_kernel, vec2_kernel):
        d = kernel.dim
        Y = RNG.uniform(-1, 1, (3, d))
        results = []
        for apply, args in ((_apply_rows, kernel.addresses),
                            (_apply_rows_at, [a.address for a in kernel.addresses])):
            out, J, total = np.empty((3, d)), np.empty((3, d, d)), np.empty(d)
            apply(*args, 0.7, 0.3, Y, kernel.params, out, J, total)
            results.append((out, J, total))
        for a, b in zip(*results):
            np.testing.assert_array_equal(a, b)


def test_division_by_zero_follows_numpy_error_model(cache_dir):
    kernel = from_sympy(t / y, t, s, y)
    assert kernel(1.0, 0.0, 0.0) == math.inf
    J = np.empty((1, 1))
    kernel.jacobian_function(1.0, 0.0, np.zeros((1, 1)), 0, kernel.params, J)
    assert J[0, 0] == -math.inf


@pytest.mark.parametrize("method", ["gregory4", "rk4", "gauss2"])
@pytest.mark.parametrize("text", ["y/(t - s)", "exp(1000*y)", "[y1/(t - s), -y0]"])
def test_a_non_finite_value_of_a_generated_kernel_is_named_with_its_point(text, method, cache_dir):
    """A SymPy or text kernel that gives inf used to be reported as a Newton failure or a
    blow-up ("the solution may blow up there"): now, as for Python kernels, the value and
    its point are named, from the kernel's own loop (direct call or history sum)."""
    from integrallimits import solve_volterra
    vector = text.startswith("[")
    kernel = kernel_from_text([c.strip() for c in text[1:-1].split(",")] if vector else text)
    g = (lambda t: np.array([1.0, 0.0])) if vector else (lambda t: 1.0)
    sol = solve_volterra(kernel, g, (0.0, 1.0), 8, method=method)
    assert sol.status == -1 and sol.stats["failure"] == "kernel-non-finite"
    assert "returned a non-finite value (inf/nan) at t = " in sol.message
    bad = "s = " + repr(float(sol.message.split("t = ")[1].split(",")[0])) if "t - s" in text else \
        "y = 1.0"
    assert bad in sol.message



@pytest.mark.parametrize("text", ["sqrt(y)", "acosh(y + 1)", "[sqrt(y0), -y1]"])
def test_a_non_finite_jacobian_of_a_generated_kernel_is_named_with_its_point(text, cache_dir):
    """dK/dy = inf at y = 0 (K itself finite there) was reported as "Newton's method did not
    converge"; the Jacobian and its point are named, as for Python Jacobians."""
    from integrallimits import solve_volterra
    vector = text.startswith("[")
    kernel = kernel_from_text([c.strip() for c in text[1:-1].split(",")] if vector else text)
    g = (lambda t: np.zeros(2)) if vector else (lambda t: 0.0)
    sol = solve_volterra(kernel, g, (0.0, 1.0), 8, method="trapezoid")
    assert sol.status == -1 and sol.stats["failure"] == "kernel-non-finite"
    assert sol.message.startswith("The Jacobian dK/dy of K(t, s, y) = ")
    assert "returned a non-finite value (inf/nan) at t = 0.125, s = 0.125, y = " in sol.message


# -- caching ------------------------------------------------------------------------------

def test_same_expression_is_not_compiled_twice(scalar_kernel, monkeypatch):
    def no_compile(*args, **kwargs):
        raise AssertionError("compiled again")

    monkeypatch.setattr(_generated, "jit", no_compile)
    again = from_sympy(SCALAR, t, s, y, name="again")
    assert again.function is scalar_kernel.function
    assert again.jacobian_function is scalar_kernel.jacobian_function
    assert again.name == "again"
    # other symbols, with or without assumptions, give the same generated code
    x, a, b = sympy.symbols("x a b")
    renamed = from_sympy(SCALAR.subs({y: x, t: a, s: b}), a, b, x)
    assert renamed.function is scalar_kernel.function


def test_text_kernels_share_the_compiled_code(monkeypatch):
    """The same text compiles once (a text's code computes the text as written, so it is not
    that of the SymPy expression from_sympy compiles: see test_written_values.py)."""
    texts = ["-y0 * y1 + cos(t - s)", "y0**2 * exp(-s) - atan(y1)"]
    first = kernel_from_text(texts)
    monkeypatch.setattr(_generated, "jit", None)  # any compilation would fail
    kernel = kernel_from_text(list(texts))
    assert kernel.function is first.function
    assert kernel.dim == 2 and not kernel.scalar


def test_generated_module_is_in_the_cache_directory(scalar_kernel, cache_dir):
    files = list((cache_dir / "kernels").glob("kernel_*.py"))
    assert files
    assert any(Path(scalar_kernel.function.py_func.__code__.co_filename) == f for f in files)


_SCRIPT = textwrap.dedent("""
    import json
    import sympy
    from integrallimits.kernels import from_sympy
    t, s, y = sympy.symbols("t s y")
    kernel = from_sympy(sympy.exp(s - t) * sympy.cos(y) + t * y**2 / 7 - s, t, s, y)
    stats = [kernel.function.stats, kernel.jacobian_function.stats, kernel.block_sum.stats]
    print(json.dumps({
        "hits": [sum(st.cache_hits.values()) for st in stats],
        "misses": [sum(st.cache_misses.values()) for st in stats],
        "source": kernel.function.py_func.__code__.co_filename,
        "value": float(kernel(0.5, 0.25, 0.3)),
    }))
""")


def test_second_process_loads_the_on_disk_cache(tmp_path):
    env = dict(os.environ)
    env.pop("NUMBA_CACHE_DIR", None)  # Numba's cache then lives next to the generated file
    env["INTEGRALLIMITS_CACHE_DIR"] = str(tmp_path)
    root = str(Path(integrallimits.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join([root, env.get("PYTHONPATH", "")])

    def run():
        done = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    first = run()
    assert first["misses"] == [1, 1, 1] and first["hits"] == [0, 0, 0]
    source = Path(first["source"])
    assert source.parent == tmp_path / "kernels" and source.exists()
    index = list((source.parent / "__pycache__").glob(source.stem + ".*.nbi"))
    data = list((source.parent / "__pycache__").glob(source.stem + ".*.nbc"))
    assert len(index) == 3 and len(data) == 3  # kernel, jacobian and block sum
    second = run()
    assert second["hits"] == [1, 1, 1] and second["misses"] == [0, 0, 0]
    assert second["source"] == first["source"]
    assert second["value"] == first["value"]


def test_cache_directory_location(monkeypatch, tmp_path):
    monkeypatch.setenv("INTEGRALLIMITS_CACHE_DIR", str(tmp_path / "a"))
    assert _sympy.cache_directory() == tmp_path / "a" / "kernels"
    monkeypatch.delenv("INTEGRALLIMITS_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _sympy.cache_directory() == tmp_path / "xdg" / "integrallimits" / "kernels"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _sympy.cache_directory() == tmp_path / "home" / ".cache" / "integrallimits" / "kernels"


def test_unwritable_cache_directory_falls_back_to_a_private_temp_dir(monkeypatch, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("INTEGRALLIMITS_CACHE_DIR", str(blocker / "sub"))
    monkeypatch.setattr(_generated, "_FALLBACK_DIR", None)
    directory = _generated._writable_directory()
    assert directory.is_dir() and blocker not in directory.parents
    assert oct(directory.stat().st_mode & 0o777) == oct(0o700)
    assert _generated._writable_directory() == directory  # one per process


def test_atomic_write_keeps_unchanged_files(tmp_path):
    path = tmp_path / "m.py"
    _generated._write_atomic(path, "x = 1\n")
    stamp = path.stat().st_mtime_ns
    _generated._write_atomic(path, "x = 1\n")
    assert path.stat().st_mtime_ns == stamp  # Numba's cache index stays valid
    _generated._write_atomic(path, "x = 2\n")
    assert path.read_text() == "x = 2\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]  # no temp files left


# -- errors -------------------------------------------------------------------------------

def test_other_symbols_are_named():
    a, b = sympy.symbols("a b")
    with pytest.raises(TypeError, match="symbols other than t, s, y: a, b"):
        from_sympy(a * t + b * y, t, s, y)
    with pytest.raises(TypeError, match="y2"):
        from_sympy([y0 + y2, y1], t, s, [y0, y1])
    with pytest.raises(TypeError, match="different assumptions"):
        from_sympy(sympy.Symbol("y") + 1, t, s, y)  # y without real=True is another symbol


def test_bad_arguments():
    with pytest.raises(TypeError, match="not a string"):
        from_sympy("t * y", t, s, y)
    with pytest.raises(TypeError, match="t must be a sympy.Symbol"):
        from_sympy(y, "t", s, y)
    with pytest.raises(ValueError, match="2 components but y has 3"):
        from_sympy([y0, y1], t, s, [y0, y1, y2])
    with pytest.raises(ValueError, match="both be scalar or both be vectors"):
        from_sympy([y], t, s, y)
    with pytest.raises(ValueError, match="distinct"):
        from_sympy(t, t, t, y)
    with pytest.raises(ValueError, match="shape"):
        from_sympy(sympy.Matrix([[y0, y1], [y1, y0]]), t, s, [y0, y1])


def test_complex_and_undefined_expressions_are_refused():
    with pytest.raises(TypeError, match="complex"):
        from_sympy(sympy.I * y, t, s, y)
    with pytest.raises(ValueError, match="undefined"):
        from_sympy(y + sympy.zoo, t, s, y)
    with pytest.raises(ValueError, match="float64 range"):
        from_sympy(sympy.Integer(10) ** 400 * y, t, s, y)



@pytest.mark.parametrize("number", [sympy.Float("1e-400"), sympy.Rational(1, 10 ** 400)])
def test_numbers_that_underflow_are_refused(number):
    """1e-400 y was compiled as 0.0 * y (K = 0, without a word); the text parser refuses such
    literals, and so does from_sympy."""
    with pytest.raises(ValueError, match="underflows to zero in float64"):
        from_sympy(number * y, t, s, y)


@pytest.mark.parametrize("text, message", [
    ("y * exp(-1000)", "constant exp(-1000) underflows to zero in float64 at column 5"),
    ("sin(exp(-1000)) * y", "constant sin(exp(-1000)) underflows to zero in float64 at column 1"),
    ("y + (1/10)**400", ("constant 1/100000000000000000... (403 characters) underflows to "
                         "zero in float64 at column 5")),
    ("1e-200 * y * 1e-200", "underflows to zero in float64"),   # (dK/dy = 10**-400)
    ("[y0 * exp(-800), y1]", ("component 0: constant exp(-800) underflows to zero in float64 "
                              "at column 6")),
])
def test_text_constants_that_float64_rounds_to_zero_are_expression_errors(text, message):
    """A text whose constant is 0.0 in float64 raised the code generator's plain ValueError,
    which the command line's ``solve`` showed as a 30-line traceback with exit status 1; it is
    refused as the literal 1e-400 is: an ExpressionError, at its column when it has one."""
    from integrallimits.kernels import split_vector_text
    parts = split_vector_text(text)
    with pytest.raises(ExpressionError) as info:
        kernel_from_text(text if parts is None else parts)
    assert str(info.value).endswith(message)
    if "column" in message:   # (a constant of the text, which g's code computes with too)
        forcing = text.replace("y1", "t").replace("y0", "t").replace("y", "t")
        parts = split_vector_text(forcing)
        with pytest.raises(ExpressionError, match="underflows to zero in float64 at column"):
            forcing_from_text(forcing if parts is None else parts)


def test_text_constants_near_the_float64_floor_are_kept():
    """The refusal above is of 0.0 only: exp(-744) is 1e-323, a float64; and the exact
    expression of parse_expression keeps exp(-1000) (it is 0.0 only once compiled)."""
    from integrallimits.kernels import parse_expression
    assert kernel_from_text("y * exp(-744)")(0.0, 0.0, 1.0) == math.exp(-744) > 0
    assert parse_expression("y * exp(-1000)") == y * sympy.exp(-1000)


def test_a_derivative_the_printer_cannot_write_is_a_compilation_error(cache_dir):
    """dK/dy of Mod(y, 1) raised SymPy's own ValueError ("_MathPrinter._print_Derivative(...)
    only supports functions with symbols as arguments")."""
    with pytest.raises(KernelCompilationError, match="Jacobian dK/dy of K = Mod.* uses Derivative"):
        from_sympy(sympy.Mod(y, 1), t, s, y)

def test_functions_numba_cannot_compile_are_refused(cache_dir):
    f = sympy.Function("f")
    with pytest.raises(KernelCompilationError, match="K = f\\(y\\) uses f, which is not available"):
        from_sympy(f(y), t, s, y)
    with pytest.raises(TypeError, match="uses besselj"):
        from_sympy(sympy.besselj(0, y), t, s, y)
    # K is printable, its derivative is not
    with pytest.raises(KernelCompilationError, match="the Jacobian dK/dy of K = ceiling"):
        from_sympy(sympy.ceiling(y), t, s, y)
    # a Piecewise without an otherwise branch would return None where no condition holds
    with pytest.raises(KernelCompilationError, match="add a last branch"):
        from_sympy(sympy.Piecewise((y, y > 0)), t, s, y)
    # printable, but Numba has no math.factorial: the Numba error is translated
    with pytest.raises(KernelCompilationError, match="cannot be compiled for Numba"):
        from_sympy(y + sympy.factorial(t), t, s, y)


# -- forcings and text --------------------------------------------------------------------

def test_forcing_from_sympy_scalar_and_vector():
    tt = sympy.Symbol("tt")  # any symbol, any assumptions
    g = forcing_from_sympy(1 + tt ** 2 / 2 + sympy.sin(tt) / 3, tt)
    value = g(0.7)
    assert type(value) is float
    assert value == pytest.approx(1 + 0.7 ** 2 / 2 + math.sin(0.7) / 3, rel=1e-15)
    gv = forcing_from_sympy(sympy.Matrix([sympy.cos(tt), sympy.sin(tt), sympy.Rational(1, 3)]), tt)
    np.testing.assert_allclose(gv(0.7), [math.cos(0.7), math.sin(0.7), 1 / 3], rtol=1e-15)
    assert gv(0.7).dtype == np.float64
    assert forcing_from_sympy(sympy.Integer(2), tt)(1.0) == 2.0
    g_vec, y_init = as_forcing(gv, 0.0)  # accepted by the solvers' front end
    assert g_vec(np.linspace(0, 1, 5)).shape == (5, 3)
    np.testing.assert_allclose(y_init, [1.0, 0.0, 1 / 3])


def test_forcing_errors():
    a = sympy.Symbol("a")
    with pytest.raises(TypeError, match="symbols other than t: a"):
        forcing_from_sympy(a * t, t)
    with pytest.raises(TypeError, match="complex"):
        forcing_from_sympy(sympy.I * t, t)
    with pytest.raises(TypeError, match="string"):
        forcing_from_sympy("t", t)


def test_kernel_from_text_scalar(scalar_kernel):
    text = "exp(s - t) * sin(y) + t*s/(1 + y**2) + sqrt(1 + t)*cos(s)*y**3 + erf(y)/3 " \
           "+ atan2(y, 1 + t) + 0.1*y"
    kernel = kernel_from_text(text)
    assert kernel.function is kernel_from_text(text).function   # same text, same code
    for t, s, y in [(1.0, 0.5, -0.7), (2.0, 1.5, 1.3)]:       # the expression's values
        assert float(kernel(t, s, y)) == pytest.approx(float(scalar_kernel(t, s, y)), rel=1e-14)
    assert kernel.name == text and kernel.scalar


def test_text_errors():
    with pytest.raises(ExpressionError, match="subscript"):
        kernel_from_text("y[0]")
    with pytest.raises(ExpressionError, match="component 1: unknown name 'y'"):
        kernel_from_text(["y0", "y"])
    with pytest.raises(TypeError, match="one text per component"):
        kernel_from_text("y", vector_dim=2)
    with pytest.raises(ValueError, match="vector_dim=3 but 2"):
        kernel_from_text(["y0", "y1"], vector_dim=3)
    with pytest.raises(ExpressionError, match="unknown name 's'"):
        forcing_from_text("t + s")


def test_forcing_from_text():
    assert forcing_from_text("1 + t/2")(1.0) == 1.5
    np.testing.assert_allclose(forcing_from_text(["cos(t)", "sin(t)"])(0.0), [1.0, 0.0])
