"""Newton on the implicit steps of ReLU networks: random networks, every implicit rule.

For each random configuration (family, rule, width, depth, weight scale, seed) the forward
pass of one input is solved with ``raise_on_failure=False``; a failed step n >= S (one step
equation y = c + h w_nn K(t_n, t_n, y), piecewise linear for ReLU) is examined: its roots are
counted by an exhaustive search over the activation patterns (for a fixed pattern the equation is
linear; a root is kept when its pre-activations agree with the pattern).  A failure in a Gregory
rule's starting block (rows 1..S-1 solved together) is only counted.

Usage: ``python tools/relu_newton_scan.py OUT.json [--n 200] [--seed 0] [--entry] [--small]`` (set
PYTHONPATH to the tree under test; ``--entry``: weights of standard deviation scale, not
scale / sqrt(width)); ``--compare A B`` compares two records (x_N bitwise, Newton iterations and
seconds where both converged, and each configuration that failed in A).

Helper relu-49 (continuation of failed implicit steps), 200 configurations each:
seed 0: failures 4 -> 3 (one gained; Newton iterations where both converged 9320 -> 9320,
x_N bit-identical); seed 1 --entry: 29 -> 27 (two gained; 9770 -> 9770, bit-identical).

Helper relu-51 (a step of several roots is a failure; one whose roots were not counted is named
in the success's message, after the merge): successes with a step of several roots (n >= S,
counted here) --small --n 600 --seed 3: 35 -> 0 (failures 163 -> 216: the 53 new ones
"several-roots", 21 of them in Gregory starting rows); seed 0: 0 -> 0, no success lost; the
384 / 197 solves that succeed on both are bit-identical (same Newton iterations).

Helper relu-54 (a Newton failure at a searched step of no root fails "no-root", of several
"several-roots"; starting blocks searched as one system): --small --n 600 --seed 3, failure
kinds {several-roots 54, newton 161} -> {several-roots 54, no-root 97, newton 64} (the 97: 85
steps n >= S, 12 gregory4/6 starting blocks; the 64 newton: blocks of more than MAX_UNITS
units, the message saying so); no success lost or gained, the 385 bit-identical.  Seed 0: the
3 failures stay "newton" (more than 12 units), the 197 successes bit-identical.  Seed 6, id 17:
a gregory4 block of 3 roots, "newton" -> "several-roots".
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

FAMILIES = ("residual-dense", "resnet", "concat-dense", "relu-resnet")
RULES = ("implicit-rectangle", "trapezoid", "gregory4", "gregory6", "gregory8")


def configurations(n, seed, entry=False, small=False):
    """``n`` random configurations (dicts), the same for a given seed on every tree: weights of
    standard deviation scale / sqrt(width) (``entry``: scale).  ``small``: ReLU ResNets only,
    d, m = 2..4, N = 4..16, entry weights of scale 2..6 (relu-49's kind of small networks)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if small:
            out.append({"id": i, "family": "relu-resnet", "rule": RULES[i % len(RULES)],
                        "d": int(rng.integers(2, 5)), "m": int(rng.integers(2, 5)),
                        "N": int(rng.integers(4, 17)), "scale": float(rng.uniform(2.0, 6.0)),
                        "seed": int(rng.integers(2 ** 31)), "entry": True})
            continue
        out.append({"id": i, "family": FAMILIES[i % len(FAMILIES)],
                    "rule": RULES[(i // len(FAMILIES)) % len(RULES)],
                    "d": int(rng.integers(2, 17)), "m": int(rng.integers(2, 17)),
                    "N": int(np.round(np.exp(rng.uniform(np.log(4), np.log(64))))),
                    "scale": float(np.exp(rng.uniform(np.log(0.5), np.log(5.0)))),
                    "seed": int(rng.integers(2 ** 31)), "entry": bool(entry)})
    return out


def build(cfg):
    """(network, x0) of a configuration."""
    from integrallimits.networks import ConcatDense, ReLUResNet, ResidualDense, ResNet
    from integrallimits import METHODS
    rng = np.random.default_rng(cfg["seed"])
    d, N, s, rule, m = cfg["d"], cfg["N"], cfg["scale"], cfg["rule"], cfg["m"]
    N = max(N, METHODS[rule].min_steps)
    root_d, root_m = (1.0, 1.0) if cfg.get("entry") else (np.sqrt(d), np.sqrt(m))
    fam = cfg["family"]
    if fam == "residual-dense":
        net = ResidualDense(s * rng.normal(size=(N + 1, N + 1, d, d)) / root_d,
                            rng.normal(size=(N + 1, N + 1, d)), activation="relu", rule=rule)
    elif fam == "resnet":
        net = ResNet(s * rng.normal(size=(N + 1, d, d)) / root_d, rng.normal(size=(N + 1, d)),
                     activation="relu", rule=rule)
    elif fam == "concat-dense":
        net = ConcatDense(s * rng.normal(size=(N + 1, N + 1, d, d)) / root_d,
                          activation="relu", rule=rule)
    else:
        V = s * rng.normal(size=(N, d, m)) / root_m / N
        net = ReLUResNet(V, rng.normal(size=(N, m, d)), rng.normal(size=(N, m)), rule=rule)
    return net, rng.normal(size=d)


def relu(z):
    return np.maximum(z, 0.0)


def affine_parts(net, n):
    """K(t_n, t_j, y) for the network at row n as (A, B, b): K = A relu(B y + b)."""
    fam, d = net.family, net.d
    if fam == "residual-dense":
        return lambda j: (np.eye(d), net.W[n, j], net.b[n, j])
    if fam == "resnet":
        return lambda j: (np.eye(d), net.W[j], net.b[j])
    if fam == "concat-dense":
        return lambda j: (net.W[n, j], np.eye(d), np.zeros(d))
    N = net.n_layers

    def parts(j):
        k = min(j, N - 1)
        return net.V[k] / net.h, net.W[k], net.b[k]
    return parts


def step_equation(net, x0, Y, n):
    """(c, hw, A, B, b) of the step equation y = c + hw A relu(B y + b) at row n >= S."""
    from integrallimits import METHODS
    start, left, right = METHODS[net.rule]._data
    h = net.h
    parts = affine_parts(net, n)
    c = np.array(x0, dtype=float)
    for j in range(n):
        w = 1.0 + (left[j] if j < left.shape[0] else 0.0) + \
            (right[n - j] if n - j < right.shape[0] else 0.0)
        A, B, b = parts(j)
        c = c + h * w * (A @ relu(B @ Y[j] + b))
    hw = h * (1.0 + (right[0] if right.shape[0] else 0.0) + (left[n] if n < left.shape[0] else 0.0))
    A, B, b = parts(n)
    return c, hw, A, B, b


def roots(c, hw, A, B, b, chunk=4096):
    """The roots of y = c + hw A relu(B y + b) by the activation patterns (2^m of them): for a
    pattern D, (I - hw A D B) y = c + hw A D b; a root is kept if B y + b agrees with D
    (z_i >= -tol for D_i = 1, z_i <= tol for D_i = 0).  Returns (roots, borderline)."""
    d, m = A.shape[0], B.shape[0]
    found, border = [], 0
    total = 1 << m
    eye = np.eye(d)
    for lo in range(0, total, chunk):
        codes = np.arange(lo, min(total, lo + chunk))
        D = ((codes[:, None] >> np.arange(m)[None, :]) & 1).astype(float)     # (P, m)
        M = eye[None] - hw * np.einsum("ik,pk,kj->pij", A, D, B)
        rhs = c[None] + hw * np.einsum("ik,pk->pi", A, D * b[None])
        ok = np.abs(np.linalg.det(M)) > 1e-300
        y = np.full_like(rhs, np.nan)
        if ok.any():
            y[ok] = np.linalg.solve(M[ok], rhs[ok][..., None])[..., 0]
        z = y @ B.T + b[None]
        tol = 1e-9 * (1.0 + np.abs(z))
        consistent = np.all(np.where(D > 0, z >= -tol, z <= tol), axis=1) & ok
        strict = np.all(np.where(D > 0, z > tol, z < -tol), axis=1) & ok
        border += int(np.sum(consistent & ~strict))
        for p in np.flatnonzero(consistent):
            r = y[p]
            residual = np.max(np.abs(r - (c + hw * A @ relu(B @ r + b))))
            new = not any(np.max(np.abs(r - q)) <= 1e-9 * (1 + np.max(np.abs(q))) for q in found)
            if residual <= 1e-8 * (1 + np.max(np.abs(r))) and new:
                found.append(r)
    return found, border


#: the widest step whose 2^m patterns this tool searches in a solve that succeeded
SEARCH_UNITS = 14


def steps_with_several_roots(net, x0, Y):
    """(steps n >= S of a solve with values Y that have several roots, steps not searched):
    a step whose map is a contraction (h |w_nn| ||A|| ||B|| < 1) has one root; the others are
    searched when the inner width is at most SEARCH_UNITS."""
    from integrallimits import METHODS
    S = METHODS[net.rule]._data[0].shape[0]
    multi = unsearched = 0
    if not METHODS[net.rule].implicit:
        return 0, 0
    for n in range(S, Y.shape[0]):
        c, hw, A, B, b = step_equation(net, x0, Y, n)
        if abs(hw) * np.linalg.norm(A, 2) * np.linalg.norm(B, 2) < 1.0:
            continue
        if B.shape[0] > SEARCH_UNITS:
            unsearched += 1
            continue
        found, _ = roots(c, hw, A, B, b)
        multi += len(found) > 1
    return multi, unsearched


def run(cfg):
    from integrallimits import METHODS
    net, x0 = build(cfg)
    t0 = time.perf_counter()
    sol = net.solve(x0, raise_on_failure=False)
    sec = time.perf_counter() - t0
    row = dict(cfg, status=int(sol.status), nit=int(sol.stats["newton_iterations"]),
               nsolve=int(sol.stats["newton_solves"]), nfev=int(sol.stats["nfev"]), seconds=sec,
               yN=None if sol.status else np.asarray(sol.y[-1]).tolist())
    row["failure"] = sol.stats.get("failure")
    if sol.status == 0:     # the steps n >= S of a success: how many had several roots?
        multi, unsearched = steps_with_several_roots(net, x0, np.asarray(sol.y))
        row["multi_steps"], row["unsearched_steps"] = multi, unsearched
    if sol.status:
        n = sol.y.shape[0] if sol.y.shape[0] <= net.n_layers else None
        row["message"] = sol.message
        row["index"] = n
        S = METHODS[net.rule]._data[0].shape[0]
        if n is not None and n >= S:
            c, hw, A, B, b = step_equation(net, x0, np.asarray(sol.y), n)
            found, border = roots(c, hw, A, B, b)
            row["roots"], row["borderline"] = len(found), border
            row["hL"] = float(hw * np.linalg.norm(A, 2) * np.linalg.norm(B, 2))
            if found:
                row["distance"] = float(min(np.max(np.abs(r - sol.y[n - 1])) for r in found))
        else:
            row["roots"] = None      # the starting block
    return row


def summary(rows, label):
    print(f"== {label}: {len(rows)} configurations")
    for rule in RULES:
        sub = [r for r in rows if r["rule"] == rule]
        fails = [r for r in sub if r["status"]]
        kinds = {"1 root": 0, "0 roots": 0, ">1 roots": 0, "start block": 0}
        for r in fails:
            k = r.get("roots")
            kinds["start block" if k is None else "0 roots" if k == 0 else
                  "1 root" if k == 1 else ">1 roots"] += 1
        print(f"  {rule:19s} failures {len(fails):3d} / {len(sub):3d}  " +
              ", ".join(f"{k}: {v}" for k, v in kinds.items()))
    for fam in FAMILIES:
        sub = [r for r in rows if r["family"] == fam]
        print(f"  {fam:19s} failures {sum(1 for r in sub if r['status']):3d} / {len(sub):3d}")
    ok = [r for r in rows if r["status"] == 0]
    multi = sum(r.get("multi_steps", 0) for r in ok)
    print(f"  successes {len(ok)}: with a step of several roots (silent) "
          f"{sum(1 for r in ok if r.get('multi_steps'))} ({multi} steps), with unsearched "
          f"steps {sum(1 for r in ok if r.get('unsearched_steps'))}")
    kinds = {}
    for r in rows:
        if r["status"]:
            kinds[r.get("failure")] = kinds.get(r.get("failure"), 0) + 1
    print(f"  failure kinds: {kinds}")


def compare(a, b):
    A, B = (json.load(open(p)) for p in (a, b))
    summary(A, a)
    summary(B, b)
    same = lost = gained = 0
    nit_a = nit_b = sec_a = sec_b = 0.0
    for ra, rb in zip(A, B):
        assert ra["id"] == rb["id"]
        if ra["status"] == 0 and rb["status"] == 0:
            same += ra["yN"] == rb["yN"]
            nit_a += ra["nit"]
            nit_b += rb["nit"]
            sec_a += ra["seconds"]
            sec_b += rb["seconds"]
        lost += ra["status"] == 0 and rb["status"] != 0
        gained += ra["status"] != 0 and rb["status"] == 0
    both = sum(1 for ra, rb in zip(A, B) if ra["status"] == 0 and rb["status"] == 0)
    print(f"converged on both: {both}, x_N bit-identical: {same}; lost {lost}, gained {gained}")
    print(f"Newton iterations on those: {nit_a:.0f} -> {nit_b:.0f}; seconds {sec_a:.2f} -> "
          f"{sec_b:.2f}")
    for ra, rb in zip(A, B):
        if ra["status"] != 0:
            print(f"  id {ra['id']:3d} {ra['family']:14s} {ra['rule']:18s} d={ra['d']:2d} "
                  f"N={ra['N']:2d} scale={ra['scale']:.2f} index={ra.get('index')} "
                  f"roots={ra.get('roots')} hL={ra.get('hL', float('nan')):.2f} -> "
                  f"{'ok' if rb['status'] == 0 else 'fail'} nit {ra['nit']} -> {rb['nit']}"
                  + ("" if rb["status"] == 0 else f" [{rb.get('message', '')[:90]}]"))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("out", nargs="?")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--entry", action="store_true",
                   help="weights of standard deviation scale (not scale / sqrt(width))")
    p.add_argument("--small", action="store_true",
                   help="small ReLU ResNets only (d, m = 2..4, entry weights of scale 2..6)")
    p.add_argument("--compare", nargs=2)
    args = p.parse_args(argv)
    if args.compare:
        compare(*args.compare)
        return
    rows = []
    for cfg in configurations(args.n, args.seed, args.entry, args.small):
        rows.append(run(cfg))
        print(json.dumps({k: v for k, v in rows[-1].items() if k != "yN"}), flush=True,
              file=sys.stderr)
    with open(args.out, "w") as f:
        json.dump(rows, f)
    summary(rows, args.out)


if __name__ == "__main__":
    main()
