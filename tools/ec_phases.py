"""Where the kernel evaluations of a solve to a tolerance go, phase by phase, for rows of the
``error-control`` study (``integrallimits.studies.error_control``), beside the study's oracle.

Every solve the driver makes (``run`` of ``solve_volterra``), every controlled pass and every
probe is recorded with its number of steps, its kernel evaluations and the phase it belongs
to (from the calling functions): ``try`` (the uniform try of 4 steps), ``pass`` (a controlled
pass; its failed pairs separately), ``mesh`` (a solve on a redrawn, refined or profiled mesh),
``companion`` / ``rate`` / ``refined`` (the solves of a global check: every other point, every
fourth point, every interval bisected), ``shifted`` (the shifted check), ``start`` (the check
of the first steps), ``probe`` (the probes that decide whether it runs), ``data`` (the
kernel differences of :func:`._adaptive._rough_data`: is K smooth at the scale of the steps)
and ``stable`` (an explicit method's decay rates, :func:`._adaptive._stable_mesh`); what no
phase holds is printed as ``unattributed``.  A rate's solve that failed (no rate: its
evaluations bought nothing) is the phase ``rate-failed``.  A direct rule's uniform refinement
(:func:`._tolerance.solve_uniform_to_tolerance`) has the phases ``attempt`` (a refinement's
mesh), ``companion``, ``rate`` (every fourth point, or the third level of
:func:`._tolerance._third_level_rate`), ``probe``, ``data`` (the data check of its answer,
``_solve._with_rough_tolerance_data``) and ``rounding`` (its rounding floor,
:func:`._tolerance.rounded_to_tolerance`).  With ``--bound`` (not for direct rules)
each row also gets a lower bound on any driver that ends with the same check: the cheapest
mesh t = t0 + (T - t0) (1 - (1 - x)^a) (a power grading towards T, or uniform, even N) that
:func:`._adaptive._global_check` accepts, its solve plus that check, exploration left out
(graded for ``tan``; uniform for the other problems, whose graded meshes are not better: there
it is the cheapest checked answer of the uniform meshes, e.g. rk4 at 1e-3 on 4 steps checked on 2
and 1).  With ``--plain`` each controlled pass's mesh is also solved as a plain solve of the
driver (its Newton tolerance and start): the pass's cost against that solve is what its step
doubling and rejected pairs add.  With ``--floor`` (or ``--goal G``, the goal in oracles, 4 by
default) each row also gets floors against the goal: the phases that no final check of the
driver's first mesh removes (the uniform try, the probes, the data and stability checks, the
check of the first steps); and, where the oracle's mesh has fewer than FEWEST_STEPS steps (the
fewest the driver's three-level check can check), the cheapest answer that three uniform
levels can check at all: 3 steps (meeting the tolerance: the exact solution says) against 2
and 1 steps, levels that do not nest (the driver's check has none such), plain solves, with the
probe's evaluations of this run but without a stability or data check.  Where the first floor
is over the goal, no cheaper final check of the first mesh reaches it; where the second is, no
driver that keeps a three-level check does (affine and inverse, rk4, 1e-3: the oracle's 2
steps cost 22 evaluations; 3 + 2 + 1 steps 74 and the probe 11, 3.86 oracles, and rk4's
stability check of 3 steps 6 more, 4.14; the try of 4 steps alone is 3.45 oracles).  For a
direct rule, ``--floor`` gives instead the cheapest answer its Richardson check can make
(:func:`richardson_floor`): N and N / 2 steps, N meeting the tolerance, and the cheapest
solve that could be its third level, with the fixed phases: N a plain solve, N / 2 and the
third level solved after it in the same call (their starting blocks from N's values, as the
driver's are: ``_loops.GUESSED_CHORD``; gregory8 on ``affine`` at 1e-9: 16 and 8 steps 530
evaluations, a third level on 7 steps 158, with the probe, data and rounding 1075, 4.93
oracles of 218; 4.21 before any third level; from y_0 the pair cost 578, 4.43 oracles).

Usage: ``python tools/ec_phases.py [--bound] [--plain] [--floor] [--goal G]
PROBLEM,METHOD,TOL ...`` from the worktree root, e.g.
``python tools/ec_phases.py --bound tan,radau3,1e-3 affine,rk4,1e-3``.
"""
from __future__ import annotations

import argparse
import collections
import inspect

import numpy as np

import integrallimits.volterra._adaptive as adaptive
import integrallimits.volterra._estimate as estimate_module
import integrallimits.volterra._loops as loops
import integrallimits.volterra._solve as solve_module
import integrallimits.volterra._tolerance as tolerance_module
from integrallimits.studies.error_control import _oracle, _problem, _scaled_error
from integrallimits.volterra import METHODS, solve_volterra

EVENTS = []      # (phase, steps, kernel evaluations)
FAILED_PAIRS = [0, 0]     # (pairs, kernel evaluations) of the controlled passes' failed pairs
PASS_MESHES = []    # the mesh of each controlled pass


def _phase():
    """The phase of the solve being recorded, from the functions calling it."""
    names = [frame.function for frame in inspect.stack()[2:12]]
    for name, phase in (("_shifted_check", "shifted"), ("_with_shifted_estimate", "shifted"),
                        ("_finer_start", "start"), ("_observed_rate", "rate"),
                        ("_refined_companion", "refined"), ("_refined_level", "rate"),
                        ("_third_level_rate", "rate"), ("estimate_error", "companion")):
        if name in names:
            if phase == "companion" and "_global_check" in names and "_refined_companion" in names:
                return "refined-check"
            return phase
    if "solve_adaptive" in names:
        return "try" if not EVENTS else "mesh"
    if "solve_uniform_to_tolerance" in names:
        return "attempt"
    return "other"


def _install():
    """Record every solve, pass and probe (the original functions are wrapped, not changed)."""
    runner = solve_module._runner

    def traced_runner(*args, **kwargs):
        run = runner(*args, **kwargs)

        def traced(t, **options):
            out = run(t, **options)
            EVENTS.append((_phase(), len(t) - 1, int(out.counts[0])))
            return out
        return traced
    solve_module._runner = traced_runner

    probe = tolerance_module._probe

    def traced_probe(t, Y, rtol, atol, kernel, rate, stiffness=True, jacobian=None):
        out = probe(t, Y, rtol, atol, kernel, rate, stiffness, jacobian)
        EVENTS.append(("probe", len(t) - 1, out[2] + (out[1] if rate is None else 0)))
        return out
    tolerance_module._probe = traced_probe

    controlled = adaptive._controlled_pass

    def traced_pass(*args, **kwargs):
        out = controlled(*args, **kwargs)
        EVENTS.append(("pass", out[0].n, int(out[1][0])))
        PASS_MESHES.append(out[0].t[:out[0].n + 1].copy())
        return out
    adaptive._controlled_pass = traced_pass

    # (name, the position of the mesh among its arguments, of its evaluations in its answer)
    for name, at, index, phase in (("_rough_data", 2, 2, "data"), ("_stable_mesh", 1, 1, "stable")):
        checked = getattr(adaptive, name)

        def traced_check(*args, _checked=checked, _at=at, _index=index, _phase=phase, **kwargs):
            out = _checked(*args, **kwargs)
            if out[_index]:
                EVENTS.append((_phase, len(args[_at]) - 1, int(out[_index])))
            return out
        setattr(adaptive, name, traced_check)

    # (a direct rule's solve to a tolerance: the data check and the rounding floor of its answer,
    # which are no solves: the evaluations they add to the answer's count)
    for name, phase in (("_with_rough_tolerance_data", "data"), ("rounded_to_tolerance",
                                                                 "rounding")):
        step = getattr(solve_module, name)

        def traced_step(sol, *args, _step=step, _phase=phase, **kwargs):
            before = sol.stats.get("nfev", 0)
            out = _step(sol, *args, **kwargs)
            if out.stats.get("nfev", 0) > before:
                EVENTS.append((_phase, len(out.mesh) - 1, out.stats["nfev"] - before))
            return out
        setattr(solve_module, name, traced_step)

    observed = estimate_module._observed_rate

    def traced_rate(*args, **kwargs):
        before = len(EVENTS)
        out = observed(*args, **kwargs)
        if out[2] is not None and len(EVENTS) > before and EVENTS[-1][0] == "rate":
            EVENTS[-1] = ("rate-failed",) + EVENTS[-1][1:]      # (its solve failed: no rate)
        return out
    estimate_module._observed_rate = traced_rate

    compiled = loops.compiled_loop

    def traced_loop(name):
        loop = compiled(name)
        if name != "vrk-steps":
            return loop

        def steps(*args):
            counts = args[19]
            before = int(counts[0])
            status = loop(*args)
            if status != loops.SUCCESS:
                FAILED_PAIRS[0] += 1
                FAILED_PAIRS[1] += int(counts[0]) - before
            return status
        return steps
    loops.compiled_loop = traced_loop


def phases(problem, method, tol):
    """(solution, events, failed pairs) of the study's solve of ``problem`` with ``method`` at
    rtol = atol = ``tol``."""
    prob = _problem(problem)
    EVENTS.clear()
    PASS_MESHES.clear()
    FAILED_PAIRS[:] = [0, 0]
    sol = solve_volterra(prob.kernel, prob.forcing, prob.t_span, method=method, rtol=tol, atol=tol)
    return sol, list(EVENTS), tuple(FAILED_PAIRS)


def _driver_run(problem, method, tol):
    """The driver's plain solve of ``problem`` at rtol = atol = ``tol``: ``run(mesh)`` with its
    Newton tolerance (a share of the tolerance) and its Newton start, solving each mesh once
    (a fresh cache of solves: one per mesh priced)."""
    prob = _problem(problem)
    captured = {}
    runner = solve_module._runner

    def capture(*args, **kwargs):
        captured["run"] = runner(*args, **kwargs)
        return captured["run"]
    solve_module._runner = capture
    try:
        solve_volterra(prob.kernel, prob.forcing, prob.t_span, 4, method=method,
                       error_estimate=False)
    finally:
        solve_module._runner = runner
    return adaptive._reusing(captured["run"], adaptive._trial_newton_tol(1e-12, tol, tol))


def graded_bound(problem, method, tol, steps=range(4, 42, 2),
                 gradings=(1.0, 1.3, 1.6, 2.0, 2.5, 3.0)):
    """(a, N, solve, solve + check) of the cheapest power-graded mesh whose final check the
    driver accepts (see the module docstring), or None."""
    prob = _problem(problem)
    p = METHODS[method].order
    t0, T = prob.t_span
    best = None
    for a in gradings:
        for n in steps:
            x = np.linspace(0.0, 1.0, n + 1)
            t = t0 + (T - t0) * (1.0 - (1.0 - x) ** a)
            t[-1] = T
            run = _driver_run(problem, method, tol)

            def explore(mesh, run=run):
                return run(mesh, newton_maxiter=adaptive.TRIAL_MAXITER)
            out = run(t)
            if out.status != 0:
                continue
            _, _, trusted, calls = adaptive._global_check(run, t, out.Y, p, tol, tol, explore)
            if trusted:
                cost = int(out.counts[0]) + calls
                if best is None or cost < best[3]:
                    best = (a, n, int(out.counts[0]), cost)
                break
    return best


#: The phases that a cheaper final check of the driver's first mesh does not remove.
FIXED = ("try", "probe", "stable", "data", "start", "rounding")


def richardson_floor(problem, method, tol, oracle_n):
    """(N, cost of N and N / 2, the cheapest third level M, its cost) of the cheapest answer of
    a direct rule's uniform refinement that its Richardson check can make: N even, N / 2 at
    least the rule's ``min_steps``, N meeting the tolerance (the exact solution says; N up to
    twice the oracle's), a plain solve of N, then N / 2 (its companion) and, as the cheapest
    conceivable third level of :func:`._tolerance._third_level_rate`, the cheapest solve on M
    steps, min_steps <= M < N, M != N / 2, whatever its common points, both after N in its
    call (their starting blocks from N's values); or None."""
    prob = _problem(problem)
    least = METHODS[method].min_steps
    costs, runs = {}, {}

    def solve(n):
        """The plain solve on n steps; its call's ``run`` (whose later solves start their
        blocks from its values) in ``runs``."""
        if n not in costs:
            runner = solve_module._runner

            def capture(*args, **kwargs):
                runs[n] = runner(*args, **kwargs)
                return runs[n]
            solve_module._runner = capture
            try:
                costs[n] = solve_volterra(prob.kernel, prob.forcing, prob.t_span, n,
                                          method=method, error_estimate=False)
            finally:
                solve_module._runner = runner
        return costs[n]

    def after(n, m):
        """The kernel evaluations of a solve on m steps after the one on n (in its call)."""
        t0, T = prob.t_span
        return int(runs[n](np.linspace(t0, T, m + 1)).counts[0])
    best = None
    for n in range(2 * least + (2 * least) % 2, 2 * max(oracle_n, least) + 1, 2):
        sol = solve(n)
        if not (sol.success and _scaled_error(sol, prob, tol)[0] <= 1.0):
            continue
        pair = int(sol.nfev) + after(n, n // 2)
        third = min((after(n, m), m) for m in range(least, n) if m != n // 2)
        if best is None or pair + third[0] < best[1] + best[3]:
            best = (n, pair, third[1], third[0])
    return best


def three_level_floor(problem, method, tol):
    """(cost of 3 steps, cost of 3, 2 and 1 steps) of the cheapest uniform answer that three
    uniform levels can check where the oracle takes fewer than 3 steps: 3 steps, if they meet
    the tolerance (the exact solution says), else None; plain solves
    (``error_estimate=False``), without the probes."""
    prob = _problem(problem)

    def solve(n):
        return solve_volterra(prob.kernel, prob.forcing, prob.t_span, n, method=method,
                              error_estimate=False)
    three = solve(3)
    if not (three.success and _scaled_error(three, prob, tol)[0] <= 1.0):
        return None
    return int(three.nfev), int(three.nfev) + int(solve(2).nfev) + int(solve(1).nfev)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("rows", nargs="+", help="PROBLEM,METHOD,TOL")
    parser.add_argument("--bound", action="store_true", help="also the graded-mesh lower bound")
    parser.add_argument("--plain", action="store_true",
                        help="also a plain solve on each controlled pass's mesh")
    parser.add_argument("--floor", action="store_true",
                        help="also the floors against the goal (see the module docstring)")
    parser.add_argument("--goal", type=float, default=None,
                        help="the goal in oracles for --floor (4 by default; implies --floor)")
    options = parser.parse_args(argv)
    goal = options.goal if options.goal is not None else 4.0
    options.floor = options.floor or options.goal is not None
    _install()
    for row in options.rows:
        problem, method, tol = row.split(",")
        tol = float(tol)
        sol, events, failed = phases(problem, method, tol)
        oracle = _oracle(_problem(problem), method, tol, 8192)
        total = collections.Counter()
        for phase, _, nfev in events:
            total[phase] += nfev
        print(f"{problem} {method} {tol:g}: N = {len(sol.mesh) - 1}, nfev = {sol.nfev}; oracle "
              f"N = {oracle[0]}, nfev = {oracle[1]}: work ratio {sol.nfev / oracle[1]:.2f}")
        print("   solves: " + ", ".join(f"{phase} {n}:{nfev}" for phase, n, nfev in events))
        rest = sol.nfev - sum(total.values())
        if rest:
            total["unattributed"] = rest
        print("   by phase: " + ", ".join(f"{phase} {nfev} ({nfev / oracle[1]:.2f})"
                                          for phase, nfev in total.items())
              + (f"; failed pairs {failed[0]} ({failed[1]} in the pass)" if failed[0] else ""))
        meshes = list(PASS_MESHES)
        if options.plain and meshes:
            print("   plain solves of the passes' meshes: " + ", ".join(
                f"{len(t) - 1}:{int(_driver_run(problem, method, tol)(t).counts[0])}"
                for t in meshes))
        if options.floor:
            fixed = sum(total[phase] for phase in FIXED)
            print(f"   floor: the phases no final check removes ({', '.join(FIXED)}) {fixed} "
                  f"({fixed / oracle[1]:.2f} of the oracle), "
                  + ("over" if fixed > goal * oracle[1] else "within")
                  + f" the goal {goal:g} ({goal * oracle[1]:.0f})")
            if METHODS[method].family == "direct":
                floor = richardson_floor(problem, method, tol, oracle[0])
                if floor is not None:
                    n, pair, m, third = floor
                    low = fixed + pair + third
                    print(f"   floor: a Richardson check's answer on {n} steps and its companion "
                          f"{pair}, a third level on {m} steps {third}, with the phases above "
                          f"{low} ({low / oracle[1]:.2f} of the oracle; without the third level "
                          f"{(low - third) / oracle[1]:.2f}), "
                          + ("over" if low > goal * oracle[1] else "within")
                          + f" the goal {goal:g}")
            three = three_level_floor(problem, method, tol) \
                if oracle[0] < adaptive.FEWEST_STEPS and METHODS[method].family != "direct" \
                else None
            if three is not None:
                with_probe = three[1] + total["probe"]
                print(f"   floor: the oracle's {oracle[0]} steps, fewer than the three-level "
                      f"check takes: 3 steps ({three[0]}) checked on 2 and 1 steps {three[1]}, "
                      f"with the probe {with_probe} ({with_probe / oracle[1]:.2f} of the oracle)"
                      f", " + ("over" if with_probe > goal * oracle[1] else "within")
                      + f" the goal {goal:g}")
        if options.bound and METHODS[method].family != "direct":
            best = graded_bound(problem, method, tol, **({} if problem == "tan" else
                                                         {"gradings": (1.0,)}))
            if best is not None:
                print(f"   bound: a = {best[0]}, N = {best[1]}: solve {best[2]}, solve + check "
                      f"{best[3]} ({best[3] / oracle[1]:.2f} of the oracle, no exploration)")


if __name__ == "__main__":
    main()
