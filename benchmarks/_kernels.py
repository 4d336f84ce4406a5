"""Kernels for the start-up benchmark of ``bench_engine.py``, defined in a module file.

Numba can cache a function on disk only when it lives in a file, so the
"first call" and "cached call" measurements solve the problem below with these
functions (the 'nonconvolution' problem of ``integrallimits.volterra.problems``,
written out by hand):

    y(t) = g(t) + int_0^t (t + s + 1) y(s)^2 ds,   y(t) = 1 / (1 + t),
    g(t) = 1 - t - log(1 + t).
"""
import math


def kernel(t, s, y):
    return (t + s + 1.0) * y * y


def jacobian(t, s, y):
    return 2.0 * (t + s + 1.0) * y


def forcing(t):
    return 1.0 - t - math.log1p(t)


def exact(t):
    return 1.0 / (1.0 + t)
