"""Scalar activations and their derivatives, compiled, selected by a code stored in theta."""
from __future__ import annotations

import math

import numpy as np

from .._numba import jit

__all__ = ["ACTIVATIONS", "activation_code", "act", "dact", "activation", "activation_derivative"]

#: name -> code used inside compiled kernels
ACTIVATIONS = {"tanh": 0, "relu": 1, "softplus": 2, "sigmoid": 3, "identity": 4}


def activation_code(name):
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; known: {', '.join(ACTIVATIONS)}") from None


@jit
def act(code, x):
    """sigma(x) for the activation ``code``."""
    if code == 0:
        return math.tanh(x)
    if code == 1:
        return x if x > 0.0 else 0.0
    if code == 2:
        return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))
    if code == 3:
        return 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))
    return x


@jit
def dact(code, x):
    """sigma'(x) for the activation ``code`` (relu'(0) = 0)."""
    if code == 0:
        c = math.tanh(x)
        return 1.0 - c * c
    if code == 1:
        return 1.0 if x > 0.0 else 0.0
    if code == 2 or code == 3:
        sg = 1.0 / (1.0 + math.exp(-x)) if x >= 0.0 else math.exp(x) / (1.0 + math.exp(x))
        return sg if code == 2 else sg * (1.0 - sg)
    return 1.0


def activation(name):
    """The NumPy (vectorised) activation ``name``."""
    code = activation_code(name)
    return np.vectorize(lambda x: act(code, float(x)), otypes=[float])


def activation_derivative(name):
    code = activation_code(name)
    return np.vectorize(lambda x: dact(code, float(x)), otypes=[float])
