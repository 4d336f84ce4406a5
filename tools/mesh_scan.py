"""Scan solves on *given, non-uniform meshes* (``mesh=``) for wrong successes: a success
whose largest error exceeds 20 times its largest error estimate (and 1e-13), as
``tools/trust_scan.py`` counts them.

Meshes (drawn with a fixed seed): random points, a geometric mesh from 1e-6, a graded mesh
(squares), uniform meshes with the first point moved to 1e-9 (``tiny1``) or the last but one
to 1 - 1e-9 (``tinyend``), and uniform meshes with one interior point moved by 0.45 of a step
(``bump``); N = 5, 8, 13, 32 (64 too for ``second``).  Sets:

* ``second``: ``solve_volterra`` on cos 5t (K = -25 (t - s) y), e^-t (K = e^-(t-s) y^2),
  tan t and e^(-50 t), with every Runge-Kutta/collocation method;
* ``vide``: ``solve_vide`` on y' = -50 y and y' = int -25 y, every VIDE method;
* ``first``: first-kind equations (K = e^(t-s), y = cos t - sin t; K = 1, y = 10 cos 10 t),
  every first-kind method.

Usage: ``PYTHONPATH=<worktree> python tools/mesh_scan.py [SET ...]`` (default: all); prints
each wrong success and, per set, the solves, successes and wrong successes.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np

from integrallimits import solve_vide, solve_volterra
from integrallimits.volterra import FIRST_KIND_METHODS, VIDE_METHODS

FACTOR, FLOOR = 20.0, 1e-13


def _meshes(T, rng, sizes):
    out = {}
    for N in sizes:
        out[f"rand{N}"] = np.concatenate([[0], np.sort(rng.uniform(0, T, N - 1)), [T]])
        out[f"grade2_{N}"] = T * (np.arange(N + 1) / N) ** 2
        out[f"geom{N}"] = T * np.concatenate([[0], np.geomspace(1e-6, 1, N)])
        u = np.linspace(0, T, N + 1)
        u[1] = 1e-9 * T
        out[f"tiny1_{N}"] = u
        u = np.linspace(0, T, N + 1)
        u[-2] = T * (1 - 1e-9)
        out[f"tinyend_{N}"] = u
        u = np.linspace(0, T, N + 1)
        u[N // 2] += 0.45 * T / N
        out[f"bump_{N}"] = u
    return {k: m for k, m in out.items() if np.all(np.diff(m) > 0)}


def _second():
    return {"cos5": (lambda t, s, y: -25 * (t - s) * y, lambda t: 1.0, lambda t: np.cos(5 * t),
                     3.0),
            "exp": (lambda t, s, y: np.exp(-(t - s)) * y * y, lambda t: np.exp(-2 * t),
                    lambda t: np.exp(-t), 2.0),
            "tan": (lambda t, s, y: y * y, lambda t: t, np.tan, 1.4),
            "stiff": (lambda t, s, y: -50 * y, lambda t: 1.0, lambda t: np.exp(-50 * t), 1.0)}


def _scan(name, problems, methods, solve, sizes):
    rng = np.random.default_rng(0)
    count = successes = wrong = 0
    for pname, (a, b, exact, T) in problems.items():
        for mname, mesh in _meshes(T, rng, sizes).items():
            for method in methods:
                count += 1
                try:
                    sol = solve(a, b, mesh, method)
                except Exception as exc:            # (reported, not counted)
                    print(f"{name} {pname} {mname} {method}: raised {exc!r:.100}")
                    continue
                if not sol.success:
                    continue
                successes += 1
                error = float(np.max(np.abs(sol.y - exact(sol.t))))
                estimate = float(np.max(sol.error_estimate))
                if error > FLOOR and error > FACTOR * estimate:
                    wrong += 1
                    print(f"WRONG {name} {pname} {mname} {method}: error {error:.2e}, "
                          f"estimate {estimate:.2e} ({error / estimate:.1f} times)", flush=True)
    print(f"{name}: {count} solves, {successes} successes, {wrong} wrong", flush=True)


def main(argv):
    warnings.simplefilter("ignore")
    sets = argv or ["second", "vide", "first"]
    if "second" in sets:
        _scan("second", _second(), list(VIDE_METHODS),
              lambda K, g, mesh, m: solve_volterra(K, g, mesh=mesh, method=m),
              (5, 8, 13, 32, 64))
    if "vide" in sets:
        problems = {"stiff": (lambda t, y, z: -50 * y + z, lambda t, s, y: 0.0 * y,
                              lambda t: np.exp(-50 * t), 1.0),
                    "osc": (lambda t, y, z: z, lambda t, s, y: -25.0 * y,
                            lambda t: np.cos(5 * t), 3.0)}
        _scan("vide", problems, list(VIDE_METHODS),
              lambda f, K, mesh, m: solve_vide(f, K, 1.0, mesh=mesh, method=m), (5, 8, 13, 32))
    if "first" in sets:
        problems = {"exp": (lambda t, s: np.exp(t - s), np.sin,
                            lambda t: np.cos(t) - np.sin(t), 2.0),
                    "osc": (lambda t, s: 1.0, lambda t: np.sin(10 * t),
                            lambda t: 10 * np.cos(10 * t), 3.0)}
        _scan("first", problems, list(FIRST_KIND_METHODS),
              lambda K, g, mesh, m: solve_volterra(K, g, mesh=mesh, method=m, kind=1),
              (5, 8, 13, 32))


if __name__ == "__main__":
    main(sys.argv[1:])
