"""The ``integrallimits`` command::

    integrallimits solve [--kernel EXPR --forcing EXPR] [--T 1] [--steps 256]
                         [--method gregory6] [--exact EXPR] [--orders] [--out file.csv]
    integrallimits reproduce NAME|all [--quick] [--out DIR] [--seed S]
                             [--executor serial|processes[:N]|dask://HOST:PORT]
    integrallimits validate [--max-examples N] [--seed S] [--methods M ...] [--strict]
                            [--families F ...] [--json PATH]
    integrallimits check-symbolic

Expressions are parsed into a whitelist (numbers, t, s, y, arithmetic, named
math functions) before SymPy sees them; anything else is refused.  Study names,
method names and executor texts are matched against the registries and fixed
patterns; nothing typed on the command line is ever evaluated.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import os
import re
import sys

import numpy as np

__all__ = ["main"]


def _error_table(rows, header):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(str(h).rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(str(c).rjust(w) if i < len(r) - 1 else str(c) for i, (c, w)
                        in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)


def _run_builtin_example(args, out):
    """The built-in example: errors and observed orders of several methods."""
    from .volterra import METHODS
    from .volterra.convergence import observed_order
    from .volterra.problems import PROBLEMS

    methods = [args.method] if args.method else ["trapezoid", "gregory4", "gregory6", "rk4",
                                                 "gauss2", "radau3", "gauss4"]
    rows = []
    for name in ("exp-square", "vector"):
        prob = PROBLEMS[name]
        for m in methods:
            res = observed_order(m, prob, max_steps=256)
            rows.append((name, m, METHODS[m].order, f"{res.order:.2f}", res.n_steps[0],
                         " ".join(f"{e:.1e}" for e in res.errors)))
    print("Built-in problems: exp-square  y = e^{-2t} + int_0^t e^{-(t-s)} y(s)^2 ds  (y = e^{-t});",
          file=out)
    print("                   vector      d = 2, non-convolution, nonlinear (y = (e^{-t}, 1 + sin t))\n",
          file=out)
    print(_error_table(rows, ["problem", "method", "declared", "observed", "N0",
                                "max error at N = N0, 2 N0, 4 N0, ..."]),
          file=out)
    return 0


def _solve(args, out):
    from .kernels import ExpressionError, forcing_from_text, kernel_from_text, parse_expression
    from .volterra import METHODS, solve_volterra

    if args.kernel is None and args.forcing is None:
        return _run_builtin_example(args, out)
    if args.kernel is None or args.forcing is None:
        print("error: give both --kernel and --forcing (or neither, for the built-in example)",
              file=sys.stderr)
        return 2
    method = args.method or "gregory6"
    try:
        kernel = kernel_from_text(args.kernel)
        g = forcing_from_text(args.forcing)
        exact = None
        if args.exact is not None:
            import sympy
            t = sympy.Symbol("t", real=True)
            exact = sympy.lambdify(t, parse_expression(args.exact, (t,)), modules="numpy")
    except ExpressionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    def err_of(sol):
        return float(np.max(np.abs(sol.y - exact(sol.t) * np.ones_like(sol.t))))

    steps = [args.steps] if not args.orders else [max(METHODS[method].min_steps, args.steps // 16)
                                                   * 2 ** k for k in range(5)]
    rows, last = [], None
    prev = None
    for n in steps:
        sol = solve_volterra(kernel, g, (0.0, args.T), n, method=method)
        if not sol.success:
            print(f"solve failed: {sol.message}", file=sys.stderr)
            return 1
        row = [n, f"{sol.y[-1]:.15g}"]
        if exact is not None:
            e = err_of(sol)
            row.append(f"{e:.3e}")
            row.append("" if prev is None or e == 0 else f"{np.log2(prev / e):.2f}")
            prev = e
        rows.append(row)
        last = sol
    header = ["N", f"y({args.T:g})"] + (["max error", "order"] if exact is not None else [])
    print(f"method {method} (declared order {METHODS[method].order}); {last.message}", file=out)
    print(_error_table(rows, header), file=out)
    if args.out:
        with open(args.out, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["t", "y"])
            writer.writerows(zip(last.t.tolist(), last.y.tolist()))
        print(f"wrote {args.out}", file=out)
    return 0


_STUDY_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _reproduce(args, out):
    from .studies import STUDIES
    from .studies._executors import ExecutorSpecError, open_executor, parse_executor
    from .studies._reproduce import reproduce

    known = list(STUDIES)
    if args.name != "all" and not (_STUDY_NAME.fullmatch(args.name) and args.name in STUDIES):
        shown = args.name if len(args.name) <= 80 else args.name[:77] + "..."
        print(f"error: unknown study {shown!r}; known: all, {', '.join(known)}", file=sys.stderr)
        return 2
    try:
        parse_executor(args.executor)
    except ExecutorSpecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    names = known if args.name == "all" else [args.name]
    failed = []
    with contextlib.ExitStack() as stack:
        try:
            executor = stack.enter_context(open_executor(args.executor))
        except (ImportError, OSError) as exc:
            print(f"error: cannot open executor {args.executor!r}: {exc}", file=sys.stderr)
            return 2
        for name in names:
            try:
                res, manifest = reproduce(name, args.out, quick=args.quick, seed=args.seed,
                                          executor=executor, executor_name=args.executor)
            except Exception as exc:  # report, go on with the other studies, fail at the end
                failed.append(name)
                print(f"error: study {name!r} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            cells = manifest["cells"]
            print(f"## {name}\n\n{res.to_markdown()}", file=out)
            print(f"{name}: {len(res.rows)} rows; {cells['total']} cells ({cells['reused']} reused) "
                  f"in {manifest['timings']['wall_seconds']:.1f} s -> "
                  f"{os.path.join(args.out, name)}\n", file=out, flush=True)
    if failed:
        print(f"error: {len(failed)} of {len(names)} studies failed: {', '.join(failed)}",
              file=sys.stderr)
        return 1
    return 0


def _validate(args, out):
    from .validation import ValidationSettings, run_validation
    from .volterra import METHODS

    methods = args.methods or list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        shown = ", ".join(repr(m if len(m) <= 40 else m[:37] + "...") for m in unknown)
        print(f"error: unknown method(s) {shown}; known: {', '.join(METHODS)}", file=sys.stderr)
        return 2
    if args.max_examples < 1:
        print("error: --max-examples must be >= 1", file=sys.stderr)
        return 2
    settings = ValidationSettings(max_examples=args.max_examples, seed=args.seed,
                                  families=tuple(args.families) if args.families else None,
                                  strict=args.strict)
    report = run_validation(methods, settings, out=out)
    if args.json:
        from .studies import atomic_write
        atomic_write(args.json, report.to_json())
        print(f"wrote {args.json}", file=out)
    return 0 if report.passed else 1


def _check_symbolic(args, out):
    try:
        from .symbolic.checks import check_symbolic_main
    except ImportError:  # pragma: no cover - the symbolic layer is optional during development
        print("error: integrallimits.symbolic is not available", file=sys.stderr)
        return 2
    options = (["--quick"] if args.quick else []) + (["--list"] if args.list else [])
    for name in args.only or []:
        options += ["--only", name]
    return check_symbolic_main(options)


def build_parser():
    parser = argparse.ArgumentParser(prog="integrallimits", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("solve", help="solve y = g + int_0^t K(t, s, y(s)) ds")
    p.add_argument("--kernel", help='K in t, s, y, e.g. "exp(-(t-s))*y**2"')
    p.add_argument("--forcing", help='g in t, e.g. "exp(-2*t)"')
    p.add_argument("--exact", help="the exact solution in t (prints the error)")
    p.add_argument("--T", type=float, default=1.0, help="end of the interval [0, T]")
    p.add_argument("--steps", type=int, default=256)
    p.add_argument("--method", default=None, help="a method name (default gregory6)")
    p.add_argument("--orders", action="store_true", help="refine N and print observed orders")
    p.add_argument("--out", help="write the solution to this CSV file")
    p.set_defaults(func=_solve)
    r = sub.add_parser("reproduce", help="run a registered study (or all) and write its outputs",
                       description="Run a study and write OUT/NAME/{table.md,table.csv,table.json,"
                                   "*.png,manifest.json}; finished cells are kept in OUT/NAME/cells "
                                   "and skipped on a rerun.")
    r.add_argument("name", help="a study name, or 'all'")
    r.add_argument("--quick", action="store_true", help="the study's quick mode")
    r.add_argument("--out", default="out", help="output folder (default: out)")
    r.add_argument("--executor", default="serial",
                   help="serial (default), processes, processes:N, or dask://HOST:PORT")
    r.add_argument("--seed", type=int, default=0)
    r.set_defaults(func=_reproduce)
    v = sub.add_parser("validate", help="property-based validation of every method (Hypothesis)",
                       description="Random manufactured problems (exact solution, kernel family, "
                                   "forcing derived with SymPy/mpmath); each method's observed "
                                   "order and error estimate are checked; failures are shrunk to a "
                                   "minimal example.  Exit code 1 on any failure.")
    v.add_argument("--max-examples", type=int, default=20,
                   help="random problems per method (default 20)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--methods", nargs="+", metavar="METHOD", help="methods to check (default: all)")
    v.add_argument("--families", nargs="+", metavar="FAMILY",
                   choices=["linear", "hammerstein", "urysohn", "convolution", "vector"],
                   help="kernel families to draw from (default: all)")
    v.add_argument("--strict", action="store_true",
                   help="count the known pre-asymptotic shortfalls of gregory6/gregory8 as failures")
    v.add_argument("--json", metavar="PATH", help="write the report as JSON")
    v.set_defaults(func=_validate)
    c = sub.add_parser("check-symbolic", help="prove the package's closed forms with SymPy "
                                              "(options: --quick, --only NAME, --list)")
    c.add_argument("--quick", action="store_true", help="smaller enumerations")
    c.add_argument("--only", action="append", metavar="NAME", help="run only this identity")
    c.add_argument("--list", action="store_true", help="list the identities")
    c.set_defaults(func=_check_symbolic)
    return parser


def main(argv=None, out=None):
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    if getattr(args, "steps", 1) < 1:
        print("error: --steps must be >= 1", file=sys.stderr)
        return 2
    return args.func(args, out or sys.stdout)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
