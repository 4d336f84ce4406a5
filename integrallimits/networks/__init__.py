"""Discrete networks as Volterra quadrature rules: ResNet, residual-dense, concatenation-dense,
smooth k-th order nets; parameter fields and their piecewise linear extension."""
from ._activations import ACTIVATIONS
from ._families import ConcatDense, ResidualDense, ResNet, SmoothNet, VolterraNetwork
from ._relu import ReLUResNet, activation_patterns, product_form, summability
from ._fields import (PiecewiseLinear, PiecewiseLinearTriangle, discrete_h1, h1_distance,
                      l2_distance, legendre_field, low_rank_field, sample_field)

__all__ = ["ACTIVATIONS", "ConcatDense", "ResidualDense", "ResNet", "SmoothNet", "VolterraNetwork",
           "PiecewiseLinear", "PiecewiseLinearTriangle", "discrete_h1", "h1_distance", "l2_distance",
           "legendre_field", "low_rank_field", "sample_field", "ReLUResNet", "activation_patterns",
           "product_form", "summability"]
from .maps import (AttentionMap, ConvolutionMap, FeatureMap, LocalMap, NystromMap, SpatialRule,
                   spatial_rule)
from ._nonlocal import NonlocalDense
from ._resolution import resolution_network, resolution_study_values

__all__ += ["SpatialRule", "spatial_rule", "FeatureMap", "LocalMap", "ConvolutionMap", "NystromMap",
            "AttentionMap", "NonlocalDense", "resolution_network", "resolution_study_values"]
