"""Observed orders of every method in METHODS, on problems with exact solutions.

The order is fitted from a refinement sequence (see convergence.observed_order)
and must lie within +-0.2 of the declared order (a NaN order, i.e. no order measured,
fails).  "cos6" (y = cos 6t) is where every method, the order-8 rules included, reaches its
asymptotic regime above the rounding floor: the positive check behind the strict xfails.
"""
import math

import numpy as np

import pytest

from integrallimits import METHODS
from integrallimits.volterra.convergence import observed_order
from integrallimits.volterra.problems import PROBLEMS

ENGINE = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4", "gregory6", "gregory8", "rk4"]
COLLOCATION = [m for m in METHODS if m.startswith(("gauss", "radau"))]
# The problems the engine issue names, plus three of our own (rotation: linear vector,
# t-independent; vector: nonlinear non-convolution d = 2; affine: K(t, s, 0) != 0, which
# catches a rule that reads the unknown y_n in its history sum).
ENGINE_PROBLEMS = ["exp-square", "cos", "inverse", "nonconvolution", "vector", "rotation", "affine",
                   "cos6"]
# Pre-asymptotic at the rounding floor: the local slopes of these pairs still rise
# towards the declared order when the error reaches ~1e-13 (Gregory rules have large
# higher-order error terms: even the plain quadrature of cos(3t) shows 5.7 / 7.5 for
# gregory6 / gregory8 at h = 1/32). Fitted values are in the engine issue's closing
# note; kept visible as strict xfails so a change in either direction is noticed.
PRE_ASYMPTOTIC = {("gregory6", "exp-square"), ("gregory6", "nonconvolution"), ("gregory6", "vector"),
                  ("gregory8", "exp-square"), ("gregory8", "vector"), ("gregory8", "rotation"),
                  ("gregory8", "inverse"), ("gregory8", "nonconvolution"), ("gregory8", "affine"),
                  ("gauss3", "nonconvolution"), ("radau4", "nonconvolution")}
# For t-independent problems (ODEs) collocation superconverges beyond 2m on this
# rational solution (1/(1+t)); there we only check the order is reached, from N = 1 on
# (gauss4/radau4 reach the rounding floor at N = 8: from N = 4 no order could be fitted).
AT_LEAST = {(m, "inverse") for m in COLLOCATION}


def _cases(methods, problems):
    for m in methods:
        for p in problems:
            marks = []
            if (m, p) in PRE_ASYMPTOTIC:
                marks.append(pytest.mark.xfail(strict=True, reason="pre-asymptotic until the "
                                                                   "rounding floor"))
            yield pytest.param(m, p, marks=marks, id=f"{m}-{p}")


@pytest.mark.parametrize("method,problem", list(_cases(ENGINE, ENGINE_PROBLEMS)))
def test_engine_method_order(method, problem):
    res = observed_order(method, PROBLEMS[problem])
    assert math.isfinite(res.order) and abs(res.order - METHODS[method].order) <= 0.2, res


@pytest.mark.parametrize("method,problem",
                         list(_cases(COLLOCATION, ["exp-square", "nonconvolution", "vector", "cos",
                                                    "inverse", "cos6"])))
def test_collocation_order_at_mesh_points(method, problem):
    declared = METHODS[method].order
    if (method, problem) in AT_LEAST:
        res = observed_order(method, PROBLEMS[problem], n_start=1)
        assert math.isfinite(res.order) and res.order >= declared - 0.2, res
        assert res.errors[res.n_steps.index(4)] < 1e-1
    else:
        res = observed_order(method, PROBLEMS[problem])
        assert math.isfinite(res.order) and abs(res.order - declared) <= 0.2, res


def test_declared_orders():
    expected = {"rectangle": 1, "implicit-rectangle": 1, "trapezoid": 2, "gregory4": 4,
                "gregory6": 6, "gregory8": 8, "rk4": 4}
    for m in range(1, 5):
        expected[f"gauss{m}"] = 2 * m
        expected[f"radau{m}"] = 2 * m - 1
    assert {name: meth.order for name, meth in METHODS.items()} == expected


DIRECT = ["rectangle", "implicit-rectangle", "trapezoid", "gregory4", "gregory6", "gregory8"]
#: Order fits between the mesh points still pre-asymptotic (their errors within 2 times the mesh
#: values' all the same).
BETWEEN_PRE_ASYMPTOTIC = {("gregory8", "cos"): "7.80 at N = 14-56 (mesh values 7.88): 0.88 times "
                                               "the mesh error at N = 14, 0.99 at 56"}


def _between_cases():
    # (where the mesh values' own order is pre-asymptotic down to the rounding floor, the
    # xfails above, the order between the mesh points is no more measurable than theirs)
    for m in DIRECT:
        for p in ENGINE_PROBLEMS:
            if (m, p) not in PRE_ASYMPTOTIC:
                marks = [pytest.mark.xfail(strict=True, reason=BETWEEN_PRE_ASYMPTOTIC[m, p])] if (
                    m, p) in BETWEEN_PRE_ASYMPTOTIC else []
                yield pytest.param(m, p, marks=marks, id=f"{m}-{p}")


@pytest.mark.parametrize("method,problem", list(_between_cases()))
def test_direct_rule_order_between_mesh_points(method, problem):
    """The dense output of direct quadrature keeps the method's order between the mesh points,
    with the constant of the mesh values: the order fitted (as at the mesh points) from the
    largest error at 1000 points between them is within 0.2 of the declared one, and that error
    within twice the mesh values' at every N.  Interpolating y - g with p nodes had the order
    but up to 1 400 times the mesh error (gregory8 on exp-square; trapezoid on it 9.6 times,
    gregory4 on the vector problem 2.6 times at N = 8)."""
    from integrallimits import solve_volterra
    from integrallimits.volterra.convergence import fit_order
    prob = PROBLEMS[problem]
    t0, T = prob.t_span
    x = np.sort(np.random.default_rng(0).uniform(t0, T, 1000))
    exact = prob.exact(x)
    scale = max(1.0, float(np.max(np.abs(exact))))
    n, ns, mesh, between = max(4, METHODS[method].min_steps), [], [], []
    while n <= 1024:
        sol = solve_volterra(prob.kernel, prob.forcing, prob.t_span, n, method=method,
                             jacobian=prob.jacobian, error_estimate=False)
        assert sol.success and not np.isin(x, sol.t).any()
        ns.append(n)
        mesh.append(float(np.max(np.abs(sol.y - prob.exact(sol.t)))) / scale)
        between.append(float(np.max(np.abs(sol(x) - exact))) / scale)
        if mesh[-1] < 1e-13:
            break
        n *= 2
    for n, on, off in zip(ns, mesh, between):
        assert off <= 2.0 * on + 1e-14, (n, on, off, off / on)
    order, used = fit_order(ns, between, 1e-13)
    assert math.isfinite(order) and abs(order - METHODS[method].order) <= 0.2, (order, used)
