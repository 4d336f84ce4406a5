"""Numba compiles a function again for each constant argument it is called with in compiled
code: a constant ``True``, ``False`` or integer is typed as a literal (``Literal[bool](True)``,
``Literal[int](2)``), and the callee gets one more compilation per value (issue 15: the fast
Gauss-Legendre rule compiled ``_pi_ratio`` twice, each a separate LLVM module; the direct
loops' ``_continuation`` three times).  The compiled modules below pass no such constant to a
compiled helper that is not inlined in Numba's IR (an inlined helper is typed within its
caller, where a constant may fix a branch or a loop's length on purpose); where an int is
needed, ``np.int64(2)`` keeps the one compilation."""
import ast
import importlib
import inspect

import numba
import pytest

MODULES = ["integrallimits.quadrature._asymptotic", "integrallimits.volterra._loops"]


def _compiled_not_inlined(module):
    """Names of the module's Numba functions that are compiled on their own."""
    names = set()
    for name, value in vars(module).items():
        if isinstance(value, numba.core.registry.CPUDispatcher) and \
                value.targetoptions.get("inline", "never") != "always":
            names.add(name)
    return names


def _constant_arguments(source, callees):
    """(line, call) of each call of a name in ``callees`` with a bool or int constant among
    its arguments."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                node.func.id in callees:
            args = list(node.args) + [k.value for k in node.keywords]
            if any(isinstance(a, ast.Constant) and type(a.value) in (bool, int) for a in args):
                found.append((node.lineno, ast.unparse(node)))
    return found


def test_the_checker_finds_a_constant_argument():
    source = "def f(Y):\n    return g(Y, 0, True) + g(Y, n, x) + h(Y, 1)\n"
    assert _constant_arguments(source, {"g"}) == [(2, "g(Y, 0, True)")]


@pytest.mark.parametrize("name", MODULES)
def test_compiled_helpers_get_no_constant_arguments(name):
    module = importlib.import_module(name)
    callees = _compiled_not_inlined(module)
    assert callees
    assert _constant_arguments(inspect.getsource(module), callees) == []
