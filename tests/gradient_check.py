"""Gradient checks that look at every parameter.

A check that compares only sampled *non-zero* entries of a computed gradient never sees a
block the code forgets to fill.  :func:`check_gradient` therefore compares the computed
gradient with 4th-order central differences of the loss

* along one random direction per parameter block (every entry of the block moves at once,
  so a block returned as zeros, or transposed, or scaled, fails),
* along one random direction over the whole index set, and
* on single coordinates drawn from the whole index set (zero gradients included).

For a loss with kinks (ReLU) a difference whose stencil straddles a kink is meaningless:
with ``smooth=False`` a direction is skipped when the differences with steps e and e/4
disagree (a property of the loss alone, not of the gradient under test), and at most a
third of the directions may be skipped.
"""
import numpy as np


def fd4(f, e=1e-4):
    """d/de f(e) at 0 by 4th-order central differences (truncation ~ e^4)."""
    return (-f(2 * e) + 8 * f(e) - 8 * f(-e) + f(-2 * e)) / (12 * e)


def blocks_of(*arrays, start=6):
    """Consecutive index ranges of ``arrays`` packed after a header of ``start`` entries."""
    out, at = [], start
    for a in arrays:
        out.append(range(at, at + np.size(a)))
        at += np.size(a)
    return out


def check_gradient(loss, theta, grad, blocks, rng, n_coords=6, rtol=1e-7, smooth=True, step=1e-3):
    """Assert ``grad`` = d loss / d theta (``loss()`` reads ``theta``, which is moved in place).

    Parameters
    ----------
    loss : callable () -> float
    theta : ndarray (P,), the parameters (restored after each difference)
    grad : ndarray (P,), the gradient under test
    blocks : list of index ranges covering every parameter that may have a gradient
    rng : numpy Generator
    smooth : bool
        False for a loss with kinks (see the module docstring).
    step : float
        The difference step along a unit direction: truncation ~ step^4, rounding ~ the
        loss's noise / step (implicit solves stop at a Newton tolerance), so not too small.
    """
    base = theta.copy()
    everything = np.concatenate([np.asarray(b) for b in blocks])
    directions = []
    for b in blocks:
        v = np.zeros_like(theta)
        v[np.asarray(b)] = rng.normal(size=len(b))
        directions.append((f"block {b.start}:{b.stop}", v / np.linalg.norm(v)))
    v = np.zeros_like(theta)
    v[everything] = rng.normal(size=len(everything))
    directions.append(("all", v / np.linalg.norm(v)))
    for i in rng.choice(everything, size=min(n_coords, len(everything)), replace=False):
        v = np.zeros_like(theta)
        v[i] = 1.0
        directions.append((f"theta[{i}]", v))

    def along(v):
        def f(e):
            theta[:] = base + e * v
            try:
                return loss()
            finally:
                theta[:] = base
        return f

    fd = np.array([fd4(along(v), step) for _, v in directions])
    tol = rtol * max(1e-3, np.max(np.abs(fd)))
    keep = np.ones(len(directions), dtype=bool)
    if not smooth:
        keep = np.abs(np.array([fd4(along(v), step / 4) for _, v in directions]) - fd) <= tol
        assert keep.sum() >= 2 * len(directions) / 3, "the loss has kinks in most directions"
    got = np.array([grad @ v for _, v in directions])
    bad = [(name, g, f) for (name, _), g, f, k in zip(directions, got, fd, keep)
           if k and abs(g - f) > tol]
    assert not bad, f"gradient != differences (tol {tol:.2e}): {bad}"
