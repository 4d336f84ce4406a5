"""Whether a step of an implicit Volterra Runge-Kutta method on y = t + int_0^t y^2 ds (y = tan t,
the ``tan`` problem of the ``error-control`` study) has stage equations with a root near the
exact stages: the longest step H_max(t_n) from t_n for which it does.

The kernel does not read t, so with the exact history (int_0^{t_n} y^2 = tan t_n - t_n) the
stage equations of the step [t_n, t_n + H] are those of the method on y' = 1 + y^2:
Z_i = tan t_n + c_i H + H sum_j a_ij Z_j^2.  Their root is followed from H = 0 (Z = tan t_n) by
continuation in H, Newton from the last root at each step of H, until Newton no longer
converges there (a fold of the branch: beyond it the equations have no root near the exact
stages, and no start of Newton, predictor or damping can find one).  The controlled passes of
the driver (``_adaptive._controlled_pass``) see such a step as a Newton failure and halve it.
The pilot passes of radau3 and gauss2 at 1e-3 (on c38ce57) fail at t_n + H = 0.375 + 1.125,
0.9375 + 0.5625 and 1.21875 + 0.28125, all beyond the fold (radau3: H_max 0.951, 0.478, 0.262;
gauss2: 0.864, 0.468, 0.263; 0.72-0.80 of the distance to the pole pi/2): a step that the
error would allow, but whose stage equations have no root.

Usage: ``python tools/ec_roots.py METHOD [TN,H ...]`` from the worktree root, e.g.
``python tools/ec_roots.py radau3 0.375,1.125 0.9375,0.5625 1.21875,0.28125``: H_max on a grid
of t_n, then for each step given whether it is within H_max and the root it continues to
beside the exact stages tan(t_n + c H).
"""
from __future__ import annotations

import sys

import numpy as np

from integrallimits.volterra import METHODS

T = 1.5


def _newton(c, A, y0, h, z, iterations=30):
    """The root of Z - y0 - h (c + A Z^2) from z, or None (Newton without damping)."""
    for _ in range(iterations):
        F = z - y0 - h * (c + A @ (z * z))
        J = np.eye(len(c)) - h * A * (2.0 * z)[None, :]
        try:
            dz = np.linalg.solve(J, F)
        except np.linalg.LinAlgError:
            return None
        z = z - dz
        if not np.all(np.isfinite(z)):
            return None
        if np.max(np.abs(dz)) <= 1e-13 * max(1.0, np.max(np.abs(z))):
            return z
    return None


def branch(c, A, tn, H_end, dh=1e-2, smallest=1e-5):
    """(H reached, root there) following the root from H = 0 towards ``H_end``."""
    y0 = np.tan(tn)
    z, h = np.full(len(c), y0), 0.0
    while h < H_end and dh >= smallest:
        step = min(dh, H_end - h)
        new = _newton(c, A, y0, h + step, z)
        if new is None or np.max(np.abs(new - z)) > 0.5 * max(1.0, np.max(np.abs(z))):
            dh /= 2.0       # (a jump to another branch is not a continuation)
            continue
        z, h = new, h + step
    return h, z


def main(argv):
    name, steps = argv[0], argv[1:]
    meth = METHODS[name]
    if meth.tableau.explicit:
        raise SystemExit(f"{name} is explicit: its stages need no Newton iteration")
    c, A, _ = meth._data
    grid = [0.0, 0.375, 0.6, 0.8, 0.9375, 1.1, 1.21875, 1.3, 1.359375, 1.4, 1.45]
    print(f"{name}: H_max(t_n) (capped at T - t_n = {T} - t_n):")
    print("   " + ", ".join(f"{tn:g}: {branch(c, A, tn, T - tn)[0]:.3f}" for tn in grid))
    for item in steps:
        tn, H = (float(x) for x in item.split(","))
        h, z = branch(c, A, tn, H)
        exact = np.tan(tn + c * H)
        if h >= H:
            print(f"   step {tn:g} + {H:g}: root {np.round(z, 4)}, exact stages "
                  f"{np.round(exact, 4)}")
        else:
            print(f"   step {tn:g} + {H:g}: no root on the branch beyond H = {h:.4f} (there "
                  f"{np.round(z, 4)}); exact stages {np.round(exact, 4)}")


if __name__ == "__main__":
    main(sys.argv[1:])
