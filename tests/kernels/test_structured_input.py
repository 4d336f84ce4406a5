"""Bad parameters of the structured kernels are refused by name, before any work."""
import numpy as np
import pytest

from integrallimits.kernels import weakly_singular


def _k(t, s, y):
    return -y


@pytest.mark.parametrize("alpha", ["0.5", None, True, np.True_, 0.5 + 0j, [0.5], b"0.5"])
def test_weakly_singular_alpha_not_a_real_number(alpha):
    with pytest.raises(TypeError, match="alpha must be a real number"):
        weakly_singular(_k, alpha)


@pytest.mark.parametrize("alpha", [0, 1, -0.5, 1.5, np.nan, np.inf])
def test_weakly_singular_alpha_out_of_range(alpha):
    with pytest.raises(ValueError, match="0 < alpha < 1"):
        weakly_singular(_k, alpha)


def test_weakly_singular_alpha_numpy_float_accepted():
    assert weakly_singular(_k, np.float32(0.25)).alpha == 0.25


@pytest.mark.parametrize("k, what", [
    (lambda u: -np.exp(-u) + 0.5j, "complex values"),       # was KernelCompilationError
    (lambda u: complex(-np.exp(-u), 0.5), "complex values"),  # was float()'s error "raised by k"
    (lambda u: "1.0", "str"),                                # was KernelCompilationError
    (lambda u: u > 0.5, "bool"),                             # was solved as 1.0 / 0.0
])
def test_convolution_factor_that_is_not_real_is_refused(k, what):
    """k(u) of a convolution kernel returning complex values, a text or a bool: the TypeError a
    kernel K gets, not a failed compilation, float()'s error presented as k's own, or a
    solve."""
    from integrallimits import solve_volterra
    from integrallimits.kernels import convolution
    with pytest.raises(TypeError, match=rf"k\(u\) must return real numbers, got {what}"):
        solve_volterra(convolution(k), lambda t: 1.0, (0.0, 1.0), 8, method="trapezoid")
