"""Integrands K(t, s, y) and forcings g(t): compiled from callables, SymPy, or structure."""
from ._kernel import (JACOBIAN_SIGNATURE, KERNEL_SIGNATURE, Kernel, KernelCompilationError,
                      as_forcing, as_kernel)

__all__ = ["Kernel", "KERNEL_SIGNATURE", "JACOBIAN_SIGNATURE", "KernelCompilationError",
           "as_kernel", "as_forcing"]
