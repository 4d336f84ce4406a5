"""A scalar kernel's wrappers check the call of the user's function (``caught``) instead of
compiling Numba's try/except (~0.25 s of each new kernel's compilation), with the same
failures reported at the same points."""
import math

import numba
import numpy as np
import pytest

from integrallimits import solve_volterra
from integrallimits.kernels._kernel import JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, as_kernel, caught


@numba.njit
def _doubled(x):
    if x < 0.0:
        raise ValueError("negative")
    return 2.0 * x


@numba.njit
def _below_one(x):
    if x > 1.0:
        return None
    return x


@numba.njit
def _count(x):
    return int(x) + 1


@numba.njit
def _probe(x):
    ok1, v1 = caught(_doubled, (x,))
    ok2, v2 = caught(_below_one, (x,))
    ok3, v3 = caught(_count, (x,))
    return ok1, v1 if ok1 else 0.0, ok2, v2 if ok2 else 0.0, ok3, v3 if ok3 else 0


def test_caught_tells_a_call_that_raised_or_returned_none_from_its_value():
    assert _probe(1.5) == (True, 3.0, False, 0.0, True, 2)
    assert _probe(-1.0) == (False, 0.0, True, -1.0, True, 0)
    assert _probe(0.5) == (True, 1.0, True, 0.5, True, 1)


def _fresh_kernel(body):
    """A scalar K(t, s, y) compiled in this process only (no source file: no disk cache), so
    that its wrapper's typed code can be read."""
    namespace = {"math": math}
    exec(compile(f"def K(t, s, y):\n    {body}\n", "<caught-test>", "exec"), namespace)
    return namespace["K"]


def test_a_scalar_kernels_entry_point_has_no_try_and_reports_what_raised():
    K = _fresh_kernel("if s > 0.5:\n        raise ValueError('past half')\n"
                      "    return -math.sin(t - s) * y")
    kernel = as_kernel(K, 1.0)
    # Numba's try/except types an exception match for its handler; the checked call has none
    typed = kernel.function.overloads[KERNEL_SIGNATURE.args].type_annotation.annotate()
    assert "exception_check" not in typed and "exception_match" not in typed
    out = np.empty(1)
    kernel.function(0.75, 0.25, np.array([[2.0]]), 0, kernel.params, out)
    assert out[0] == -math.sin(0.5) * 2.0
    with pytest.raises(ValueError, match="past half"):
        solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")


def test_a_scalar_kernel_returning_none_or_not_finite_is_named_at_its_point():
    method = "trapezoid"   # (its history sums: the block sum's checked call and its search)
    K = _fresh_kernel("return None if s > 0.5 else -y")
    with pytest.raises(TypeError, match=r"returned None at t = .*must return real numbers"):
        solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method=method)
    K = _fresh_kernel("return -y / (s - 0.5) if s != 0.5 else math.inf")
    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 8, method=method)
    assert not sol.success and "0.5" in sol.message


def _fresh_functions(source):
    """The functions of ``source`` compiled in this process only (see :func:`_fresh_kernel`)."""
    namespace = {"math": math}
    exec(compile(source, "<caught-test>", "exec"), namespace)
    return namespace


def test_a_scalar_jacobians_wrapper_has_no_try_and_names_a_none_at_its_point():
    f = _fresh_functions("def K(t, s, y):\n    return -math.sin(y)\n"
                         "def J(t, s, y):\n    return None if s > 0.5 else -math.cos(y)\n")
    kernel = as_kernel(f["K"], 1.0, jacobian=f["J"])
    typed = kernel.jacobian_function.overloads[JACOBIAN_SIGNATURE.args].type_annotation.annotate()
    assert "exception_check" not in typed and "exception_match" not in typed
    out = np.empty((1, 1))
    kernel.jacobian_function(0.75, 0.25, np.array([[2.0]]), 0, kernel.params, out)
    assert out[0, 0] == -math.cos(2.0)
    for method in ("trapezoid", "radau3"):
        # (it raised "expected float64, got None", naming neither the Jacobian nor a point)
        with pytest.raises(TypeError, match=r"the Jacobian of K\(t, s, y\) returned None at "
                                            r"t = .*, s = .*must return real numbers"):
            solve_volterra(f["K"], lambda t: 1.0, (0.0, 1.0), 8, method=method,
                           jacobian=f["J"])


def test_a_scalar_jacobian_that_raises_or_is_not_finite_is_reported_as_before():
    f = _fresh_functions("def K(t, s, y):\n    return -math.sin(y)\n"
                         "def J(t, s, y):\n    if s > 0.5:\n        raise ValueError('past half')"
                         "\n    return -math.cos(y)\n"
                         "def Jinf(t, s, y):\n    return -math.cos(y) if s <= 0.5 else math.inf\n")
    with pytest.raises(ValueError, match="past half") as info:
        solve_volterra(f["K"], lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid",
                       jacobian=f["J"])
    assert any("the Jacobian of K(t, s, y)" in note for note in info.value.__notes__)
    sol = solve_volterra(f["K"], lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid",
                         jacobian=f["Jinf"])
    assert not sol.success and "Jacobian" in sol.message


def test_a_vector_jacobians_wrapper_has_no_try_and_reports_as_before():
    f = _fresh_functions("import numpy as np\n"
                         "def K(t, s, y):\n    return (-math.sin(y[0]), -y[1])\n"
                         "def J(t, s, y):\n    return None if s > 0.5 else "
                         "np.array([[-math.cos(y[0]), 0.0], [0.0, -1.0]])\n"
                         "def J3(t, s, y):\n    return np.array([[-math.cos(y[0]), 0.0], "
                         "[0.0, -1.0]]) if s <= 0.5 else np.ones((3, 3))\n"
                         "def JA(t, s, y):\n    return np.array([[-math.cos(y[0]), 0.0], "
                         "[0.0, -1.0]])\n"
                         "def JT(t, s, y):\n    return ((-math.cos(y[0]), 0.0), (0.0, -1.0))\n")
    y0 = np.array([1.0, 1.0])
    kernel = as_kernel(f["K"], y0, jacobian=f["J"])
    typed = kernel.jacobian_function.overloads[JACOBIAN_SIGNATURE.args].type_annotation.annotate()
    assert "exception_check" not in typed and "exception_match" not in typed
    out = np.empty((2, 2))
    kernel.jacobian_function(0.75, 0.25, np.array([[2.0, 3.0]]), 0, kernel.params, out)
    assert out.tolist() == [[-math.cos(2.0), 0.0], [0.0, -1.0]]
    with pytest.raises(TypeError, match=r"the Jacobian of K\(t, s, y\) returned None at "
                                        r"t = .*, s = .*must return real numbers"):
        solve_volterra(f["K"], lambda t: y0, (0.0, 1.0), 8, method="trapezoid",
                       jacobian=f["J"])
    with pytest.raises(ValueError, match=r"the Jacobian of K\(t, s, y\) returned 9 values at "
                                         r"t = .*expected shape \(2, 2\)"):
        solve_volterra(f["K"], lambda t: y0, (0.0, 1.0), 8, method="trapezoid",
                       jacobian=f["J3"])
    # a value caught does not take (a tuple of tuples): compiled inside try, as before
    a, b = (solve_volterra(f["K"], lambda t: y0, (0.0, 1.0), 8, method="radau3", jacobian=f[J])
            for J in ("JA", "JT"))
    assert a.success and b.success and np.array_equal(a.y, b.y)
