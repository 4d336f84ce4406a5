"""Integrands K(t, s, y) and forcings g(t): compiled from callables, SymPy, or structure."""
from ._kernel import (JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, KernelCompilationError,
                      as_forcing, as_kernel)
from ._structured import KernelSpec, convolution, weakly_singular
from ._user import RecompilationWarning, UserCodeError

# The SymPy front end is imported on first use, so that `import integrallimits` does not
# import SymPy.
# (_text imports SymPy only when a text has to be parsed.)
_LAZY = {"ExpressionError": "_text", "parse_expression": "_parse", "parse_vector": "_parse",
         "split_vector_text": "_text", "forcing_from_text": "_text", "kernel_from_text": "_text",
         "forcing_from_sympy": "_sympy", "from_sympy": "_sympy"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Kernel", "KERNEL_SIGNATURE", "JACOBIAN_SIGNATURE", "KernelCompilationError",
           "as_kernel", "as_forcing",
           "from_sympy", "forcing_from_sympy", "kernel_from_text", "forcing_from_text",
           "parse_expression", "parse_vector", "split_vector_text", "ExpressionError",
           "KernelSpec", "convolution", "weakly_singular", "RecompilationWarning", "UserCodeError"]
