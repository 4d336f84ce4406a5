"""Integrands K(t, s, y) and forcings g(t): compiled from callables, SymPy, or structure."""
from ._kernel import (JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, KernelCompilationError,
                      as_forcing, as_kernel)
from ._structured import KernelSpec, convolution, weakly_singular
from ._parse import ExpressionError, parse_expression, parse_vector
from ._sympy import forcing_from_sympy, forcing_from_text, from_sympy, kernel_from_text

__all__ = ["Kernel", "KERNEL_SIGNATURE", "JACOBIAN_SIGNATURE", "KernelCompilationError",
           "as_kernel", "as_forcing",
           "from_sympy", "forcing_from_sympy", "kernel_from_text", "forcing_from_text",
           "parse_expression", "parse_vector", "ExpressionError",
           "KernelSpec", "convolution", "weakly_singular"]
