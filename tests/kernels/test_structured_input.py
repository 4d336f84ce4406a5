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


@pytest.mark.parametrize("k, g, said", [
    (lambda u: np.ones((1, 1)), lambda t: 1.0,               # was KernelCompilationError
     r"k\(u\) must return a float for a scalar y, got shape \(1, 1\) at u = 0.0$"),
    (lambda u: [[1.0, 0.0], [0.0]], lambda t: np.ones(2),    # was NumPy's "inhomogeneous"
     r"k\(u\) must return a float or a \(2, 2\) matrix, got a ragged list at u = 0.0$"),
    (lambda u: np.ones(2), lambda t: np.ones(2),
     r"k\(u\) must return a float or a \(2, 2\) matrix, got shape \(2,\) at u = 0.0$"),
])
def test_convolution_factor_of_a_wrong_shape_names_k_and_u(k, g, said):
    """A k(u) of a wrong shape is refused with a message naming k(u) and the point u (a (1, 1)
    matrix for a scalar y passed the shape check and failed to compile; a ragged list raised
    NumPy's error, which named neither)."""
    from integrallimits import solve_volterra
    from integrallimits.kernels import convolution
    with pytest.raises(ValueError, match=said):
        solve_volterra(convolution(k), g, (0.0, 1.0), 8)


def test_convolution_phi_errors_name_s_and_y_not_t():
    """phi(s, y) of a convolution kernel takes no t: its wrong shape was reported "at (t, s) =
    (0.0, 0.0)" and its exception "when called at t = s = 0.0"; both name s and y."""
    from integrallimits import solve_volterra
    from integrallimits.kernels import convolution
    def g(t):
        return np.ones(2)
    with pytest.raises(ValueError, match=r"^phi\(s, y\) returned shape \(3,\) at s = 0.0, "
                                         r"y = \[1.0, 1.0\]; expected \(2,\)$"):
        solve_volterra(convolution(lambda u: 1.0, lambda s, y: np.ones(3)), g, (0.0, 1.0), 8)

    def phi(s, y):
        raise KeyError("no table value")
    with pytest.raises(KeyError) as info:
        solve_volterra(convolution(lambda u: 1.0, phi), g, (0.0, 1.0), 8)
    notes = " ".join(getattr(info.value, "__notes__", []))
    assert "phi(s, y) when called at s = 0.0, y = [1.0, 1.0]" in notes and "t =" not in notes
