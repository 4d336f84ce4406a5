r"""Feature maps of non-local networks: operators on functions sampled on a spatial rule.

A feature is a function u : Ω -> R^c on Ω = [0, 1] (or the square [0, 1]^2), sampled at
the M nodes η_m of a spatial quadrature rule with weights ω_m (:class:`SpatialRule`).  A
linear feature map is an integral operator followed by a channel-mixing matrix C,

.. math:: (A u)_a(\xi) = \sum_b C_{ab} \int_\Omega a(\xi, \eta)\, u_b(\eta)\, d\eta
          \approx \sum_b C_{ab} \sum_m \omega_m\, a(\xi, \eta_m)\, u_b(\eta_m)

(the Nyström discretisation).  Its cases, one module each: :class:`LocalMap`
(a(ξ, η) = c(ξ) δ(ξ - η), pointwise), :class:`NystromMap` (a general a(ξ, η)),
:class:`ConvolutionMap` (a(ξ - η), applied by FFT on uniform grids) and the data-dependent
:class:`AttentionMap` (a(ξ, η; u) a softmax density in η).  Refining M is the second limit
of the networks, beside depth: for a fixed continuum operator the discrete maps converge
with the order of the spatial rule (2 for the composite trapezoid and midpoint rules, 4 for
Simpson, geometric for Gauss–Legendre on analytic data).

Each module also holds the map's compiled form (apply, vector-Jacobian product), which
the kernel of :class:`~integrallimits.networks.NonlocalDense` calls.
"""
from ._spatial import SpatialRule, spatial_rule
from ._base import FeatureMap
from ._local import LocalMap
from ._nystrom import NystromMap
from ._convolution import ConvolutionMap
from ._attention import AttentionMap

__all__ = ["SpatialRule", "spatial_rule", "FeatureMap", "LocalMap", "NystromMap", "ConvolutionMap",
           "AttentionMap"]
