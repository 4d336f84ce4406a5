"""The ``integrallimits`` command::

    integrallimits --version
    integrallimits solve [--kernel EXPR --forcing EXPR] [--t-span T0 T1] [--steps N]
                         [--method NAME] [--exact EXPR] [--orders] [--out FILE.csv]
    integrallimits reproduce NAME|all [--quick] [--out DIR] [--seed S]
                             [--executor serial|processes[:N]|dask://HOST:PORT]
    integrallimits validate [--max-examples N] [--seed S] [--methods M ...] [--strict]
                            [--families F ...] [--json PATH]
    integrallimits check-symbolic [--quick] [--only NAME] [--list]

Expressions are parsed into a whitelist (numbers, t, s, y, arithmetic, named
math functions) before SymPy sees them; anything else is refused.  Study names,
method names and executor texts are matched against the registries and fixed
patterns; nothing typed on the command line is ever evaluated.

A mistake on the command line is one line on stderr, ``integrallimits: error: ...``, and
exit status 2; a run that cannot finish (a failed solve, an output that cannot be
written, too little memory) exits with status 1.
"""
from __future__ import annotations

import argparse
import contextlib
import csv
import io
import keyword
import logging
import math
import os
import re
import sys
import tempfile
import threading
import warnings

import numpy as np

__all__ = ["main", "run", "build_parser", "CommandError"]

#: The method ``solve`` uses when none is given.
DEFAULT_METHOD = "gregory6"
#: Most steps ``solve`` accepts: beyond, the mesh values alone need gigabytes and a direct
#: (non-convolution) solve ~N^2/2 kernel evaluations.
MAX_STEPS = 2 ** 22
#: Options whose value is an expression, which may start with a minus sign (``--kernel -y**2``).
_EXPRESSION_OPTIONS = ("--kernel", "--forcing", "--exact")
#: Options whose values are numbers, which may be negative with an exponent (argparse takes
#: ``-1e-3`` for an option, unlike ``-1`` or ``-0.5``), and how many values each takes.
_NUMBER_OPTIONS = {"--t-span": 2, "--T": 1, "--rtol": 1, "--atol": 1}


class CommandError(Exception):
    """A command-line failure: printed as one line on stderr; ``code`` is the exit status
    (2: the command line is wrong; 1: the run could not finish)."""

    def __init__(self, message, code=2):
        super().__init__(message)
        self.code = code


class _HelpFormatter(argparse.HelpFormatter):
    """Fills ``{methods}`` and ``{studies}`` in help texts with the registries' names, which
    are imported only when help is printed (a run needs at most one of them)."""

    def _expand_help(self, action):
        text = super()._expand_help(action)
        if "{methods}" in text:
            from .volterra import METHODS
            text = text.replace("{methods}", ", ".join(METHODS))
        if "{studies}" in text:
            from .studies import STUDIES
            text = text.replace("{studies}", ", ".join(STUDIES))
        return text


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (raised as :class:`CommandError`, not printed with the
    usage and a SystemExit) and the registries named in help (:class:`_HelpFormatter`)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        raise CommandError(f"{message} (see '{self.prog} --help')", 2)


def _given(text):
    """An option's value that must not be empty: ``--out ""`` (an unset shell variable in
    ``--out "$FILE"``) wrote no file, ``--method ""`` solved with the default method, and
    ``validate --json ""`` wrote no report, each with exit status 0."""
    if text == "":
        raise argparse.ArgumentTypeError("the value is empty (an unset shell variable?)")
    return text


def _seed(text):
    """``--seed`` of ``reproduce``: an integer >= 0 (what the studies' random generators take;
    -1 failed inside every seeded study, as a second line naming no option)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid int value: {_shown(text, 40)}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {value}")
    return value


def _shown(text, limit=60):
    return repr(text if len(text) <= limit else text[:limit - 3] + "...")


def _error_table(rows, header):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(str(h).rjust(w) for h, w in zip(header, widths))]
    lines += ["  ".join(str(c).rjust(w) if i < len(r) - 1 else str(c) for i, (c, w)
                        in enumerate(zip(r, widths))) for r in rows]
    return "\n".join(lines)


def _check_output_file(path, option):
    """Fail now (before any work) if ``path`` cannot be written as a file.

    The file is opened for appending and written with zero bytes, which reports a full
    device (``/dev/full``) or a read-only pseudo file (``/proc``) as a real write would;
    a file this check had to create is removed again."""
    if os.path.isdir(path):
        raise CommandError(f"{option} {_shown(path)} is a directory; give a file name", 2)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        # (a file where the folder should be: "does not exist" sent the user looking for it)
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise CommandError(f"{option} {_shown(path)}: the folder {_shown(folder)} {what}", 2)
    # (the file a symbolic link points to: a dangling link's target, created by the open,
    # was left behind, empty, by a run that then failed).  Only a file this check's own open
    # created (O_EXCL) is removed: a file that another process made between a look at its
    # existence and the open was removed with it.  The path is opened as given (/dev/stdout
    # on a pipe names no file once resolved); a dangling link's target is created.
    made = None
    try:
        try:
            fd, created = _opened(path)
            made = path if created else None
        except FileNotFoundError:           # (a dangling link: the file it names)
            if not os.path.islink(path):
                raise
            target = os.path.realpath(path)
            fd, created = _opened(target)
            made = target if created else None
        try:
            os.write(fd, b"")
        finally:
            os.close(fd)
    except OSError as exc:
        raise CommandError(f"cannot write {option} {_shown(path)}: {exc.strerror}", 1) from None
    finally:
        if made is not None:
            os.unlink(made)


def _opened(path):
    """(fd, created): ``path`` opened for appending, created by this open (O_EXCL) or, where
    something is there already (a file, a device, a symbolic link), as it is."""
    flags = os.O_WRONLY | os.O_APPEND
    try:
        return os.open(path, flags | os.O_CREAT | os.O_EXCL, 0o666), True
    except FileExistsError:
        return os.open(path, flags), False


def _write_output(path, text, option):
    """Write ``text`` to the file ``path``: atomically (temporary file and rename) for a regular
    or new file, in place for a symbolic link or a device such as ``/dev/stdout`` (a rename
    would replace the link or the device node)."""
    from .studies import atomic_write
    try:
        if not os.path.lexists(path) or (os.path.isfile(path) and not os.path.islink(path)):
            atomic_write(path, text)
        else:
            with open(path, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
    except OSError as exc:
        raise CommandError(f"cannot write {option} {_shown(path)}: {exc.strerror or exc}", 1) \
            from None


def _check_output_folder(path, option):
    """Fail now if ``path`` is not a folder this process can create files in; True if this
    call made it (see :func:`_remove_if_made`)."""
    made = not os.path.exists(path)
    if not made and not os.path.isdir(path):
        raise CommandError(f"{option} {_shown(path)} exists and is not a folder", 2)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise CommandError(f"cannot write into {option} {_shown(path)}: {exc.strerror}", 1) from None
    return made


def _remove_if_made(path, made):
    """Remove the folder ``path`` if :func:`_check_output_folder` made it and it is still
    empty (a command that fails before writing leaves nothing behind)."""
    if made:
        with contextlib.suppress(OSError):
            os.rmdir(path)


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


def _solve_method(name):
    """The method ``name`` of METHODS, or a CommandError that says where it belongs."""
    from .volterra import METHODS
    if name in METHODS:
        return METHODS[name]
    from .volterra import FIRST_KIND_METHODS, VIDE_METHODS   # only for the hint
    hint = ""
    if name in FIRST_KIND_METHODS:
        hint = (" (it is a method for first-kind equations, solve_volterra(..., kind=1); "
                "'solve' handles the second kind)")
    elif name in VIDE_METHODS:
        hint = " (it is a method for integro-differential equations, solve_vide)"
    raise CommandError(f"unknown method {_shown(name, 40)}{hint}; known: {', '.join(METHODS)}", 2)


def _t_span(args):
    """(t0, T) from --t-span, or from the deprecated --T; checked finite and increasing."""
    if args.T is not None and args.t_span is not None:
        raise CommandError(f"--T {args.T:g} and --t-span {args.t_span[0]:g} {args.t_span[1]:g} "
                           f"both give the interval; give only --t-span", 2)
    t0, t1 = (0.0, args.T) if args.T is not None else args.t_span or (0.0, 1.0)
    option = "--T" if args.T is not None else "--t-span"
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise CommandError(f"{option}: the interval must be finite, got [{t0:g}, {t1:g}]", 2)
    if not t1 > t0:
        raise CommandError(f"{option}: the end must be greater than the start, got "
                           f"[{t0:g}, {t1:g}]", 2)
    if args.T is not None:
        print(f"integrallimits: warning: --T is deprecated; use --t-span 0 {args.T:g}",
              file=sys.stderr)
    return t0, t1


def _parse_problem(args):
    """(kernel, g, exact or None, d or None) from the expression options.

    A vector problem is written as bracketed lists, ``--kernel "[-y1, y0]" --forcing
    "[1, 0]"``: components in y0, y1, ...; the kernel, forcing and exact solution must
    have the same number of components.
    """
    # (no SymPy here: a text used before is loaded through the index of generated modules)
    from .kernels import ExpressionError, forcing_from_text, kernel_from_text, split_vector_text

    def parts(text, option):
        try:
            return split_vector_text(text)
        except ExpressionError as exc:
            raise CommandError(f"{option}: {exc}", 2) from None

    kernel_parts, forcing_parts = parts(args.kernel, "--kernel"), parts(args.forcing, "--forcing")
    exact_parts = parts(args.exact, "--exact") if args.exact is not None else None
    def size(given):
        return "is a scalar" if given is None else f"has {len(given)} components"

    d = None if kernel_parts is None else len(kernel_parts)
    others = [("--forcing", forcing_parts)] + ([("--exact", exact_parts)] if args.exact else [])
    for option, given in others:
        if (None if given is None else len(given)) != d:
            raise CommandError(f"--kernel {size(kernel_parts)} but {option} "
                               f"{size(given)}; write a vector problem as --kernel "
                               f'"[-y1, y0]" --forcing "[1, 0]"', 2)
    names, values = _params(args.param, d)
    option = "--kernel"
    try:
        kernel = kernel_from_text(args.kernel if d is None else kernel_parts, params=names)
        option = "--forcing"
        g = forcing_from_text(args.forcing if d is None else forcing_parts, params=names)
        exact = None
        if args.exact is not None:
            option = "--exact"
            f = forcing_from_text(args.exact if d is None else exact_parts, params=names)

            def exact(tt):
                """The exact solution at the times ``tt``: (len(tt),) or (len(tt), d)."""
                out = []
                for ti in tt.tolist():
                    try:
                        out.append(f(ti, *values))
                    except (ValueError, ArithmeticError) as exc:   # (as --forcing's)
                        raise CommandError(f"--exact cannot be evaluated at t = {ti:g}: "
                                           f"{exc}", 1) from None
                return np.array(out, dtype=float)
    except ExpressionError as exc:
        raise CommandError(f"{option}: {exc}", 2) from None
    used = _names_used([args.kernel, args.forcing] + ([args.exact] if args.exact else []))
    for name in names:
        if name not in used:   # (it was accepted and ignored: a misspelt name, most likely)
            from .kernels._text import LANGUAGE_NAMES
            shown = ", ".join(sorted(used - LANGUAGE_NAMES)) or "none"
            raise CommandError(f"--param {name}: no expression uses it (a misspelt name? the "
                               f"names in the expressions: {shown})", 2)
    return kernel, g, exact, d, tuple(values)


def _names_used(texts):
    """The names (variables, parameters, functions) the expression texts use: their syntax
    trees' names (:func:`ast.parse`; the texts are parsed, never evaluated)."""
    import ast
    used = set()
    for text in texts:
        try:
            tree = ast.parse(text.strip(), mode="eval")
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue    # (not reached: the expressions were accepted by the parser)
        used.update(node.id for node in ast.walk(tree) if isinstance(node, ast.Name))
    return used


_PARAM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*")


def _params(given, d):
    """(names, values) of the repeated --param NAME=VALUE options."""
    from .kernels._text import LANGUAGE_NAMES, ExpressionError, decimal_number
    names, values = [], []
    taken = {"t", "s", "y", "pi", "e"} | ({f"y{k}" for k in range(d)} if d else set())
    for text in given or ():
        match = _PARAM.fullmatch(text)
        if not match:
            raise CommandError(f"--param {_shown(text, 40)}: write NAME=VALUE, e.g. --param a=1.5", 2)
        name, raw = match.groups()
        try:   # (the rule of the numbers in the expressions)
            value = decimal_number(raw)
        except ExpressionError as exc:
            raise CommandError(f"--param {name}: {exc}", 2) from None
        if name in taken or name in names:
            raise CommandError(f"--param {name}: the name is already taken (by a variable, a "
                               f"constant or another --param)", 2)
        if name in LANGUAGE_NAMES or keyword.iskeyword(name):
            what = "a Python keyword" if keyword.iskeyword(name) else \
                "the name of a function of the expressions"
            raise CommandError(f"--param {name}: the name is {what}; choose another", 2)
        names.append(name)
        values.append(value)
    return names, values


def _solve(args, out):
    from .volterra import solve_volterra

    if args.kernel is None and args.forcing is None:
        if args.method is not None:
            _solve_method(args.method)
        return _run_builtin_example(args, out)
    if args.kernel is None or args.forcing is None:
        raise CommandError("give both --kernel and --forcing (or neither, for the built-in "
                           "example)", 2)
    tolerance = args.rtol is not None or args.atol is not None
    if tolerance and (args.steps is not None or args.orders):
        raise CommandError("--rtol/--atol choose the mesh: give them without --steps and --orders", 2)
    for option, value in (("--rtol", args.rtol), ("--atol", args.atol)):
        if value is not None and not (math.isfinite(value) and value >= 0):
            raise CommandError(f"{option} must be a finite number >= 0, got {value:g}", 2)
    if args.steps is None:
        args.steps = 256
    method_name = args.method or (DEFAULT_METHOD if not tolerance else
                                  ("radau3" if (args.rtol or 1e-6) >= 1e-7 else "radau4"))
    method = _solve_method(method_name)
    t0, t1 = _t_span(args)
    if args.steps < method.min_steps:
        raise CommandError(f"--steps {args.steps} is too few for {method_name}, which needs "
                           f"at least {method.min_steps}", 2)
    if args.steps > MAX_STEPS:
        raise CommandError(f"--steps {args.steps} is too many: the mesh values alone take "
                           f"{8 * (args.steps + 1) / 1e9:.2g} GB per component and a direct "
                           f"solve about {args.steps ** 2 / 2:.1e} kernel evaluations; at most "
                           f"{MAX_STEPS} are accepted", 2)
    if args.out:
        _check_output_file(args.out, "--out")
    kernel, g, exact, d, params = _parse_problem(args)
    steps = [args.steps] if not args.orders else _halvings(args.steps, method)
    if tolerance:
        steps = [None]
    rows, last, prev = [], None, None
    for n in steps:
        try:
            sol = solve_volterra(kernel, g, (t0, t1), n, method=method_name, args=params or None,
                                 rtol=args.rtol, atol=args.atol)
        except MemoryError:
            raise CommandError(f"not enough memory to solve with --steps {n}; use fewer steps",
                               1) from None
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise _evaluation_error(exc, args) from None
        if not sol.success:
            raise CommandError(f"solve failed: {sol.message}", 1)
        end = sol.y[-1]
        row = [len(sol.t) - 1,
               f"{end:.15g}" if d is None else "[" + ", ".join(f"{v:.15g}" for v in end) + "]",
               f"{sol.stats.get('max_error_estimate', float('nan')):.3e}"]
        if exact is not None:
            e = float(np.max(np.abs(sol.y - exact(sol.t))))
            row.append(f"{e:.3e}")
            row.append("" if prev is None or e == 0 else f"{np.log2(prev / e):.2f}")
            prev = e
        rows.append(row)
        last = sol
    header = ["N", f"y({t1:g})", "estimated error"] + (["max error", "order"] if exact is not None
                                                         else [])
    print(f"method {method_name} (declared order {method.order}); {last.message}", file=out)
    print(_error_table(rows, header), file=out)
    if args.out:
        names = ["y"] if d is None else [f"y{k}" for k in range(d)]
        values = last.y.reshape(len(last.t), -1)
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(["t", *names])
        writer.writerows([t, *v] for t, v in zip(last.t.tolist(), values.tolist()))
        _write_output(args.out, text.getvalue(), "--out")
        print(f"wrote {args.out}", file=out)
    return 0


def _halvings(n, method, sizes=5):
    """The step counts of ``--orders``: N, N/2, ..., at most ``sizes`` of them, halved while
    the count stays whole and at least the method's minimum, coarsest first.  (They were
    (N // 16) 2^k: --steps 20 ended at 16, and --steps 8 or a method needing more steps
    than N/16 went beyond N.)  Fewer than two: a CommandError (no order to observe)."""
    steps = [n]
    while len(steps) < sizes and steps[0] % 2 == 0 and steps[0] // 2 >= method.min_steps:
        steps.insert(0, steps[0] // 2)
    if len(steps) < 2:
        raise CommandError(f"--orders halves --steps: {n} cannot be halved (it is odd or half "
                           f"of it is below the {method.min_steps} steps the method needs); "
                           f"give an even N, a multiple of 16 for five sizes", 2)
    return steps


#: The note a solve adds to the exception of g called at a time (Python >= 3.11).
_FORCING_NOTE = re.compile(r"raised by g\(t\) when called at t = (\S+)")


def _evaluation_error(exc, args):
    """The :class:`CommandError` for an exception of a solve: the expressions' own (g = log t at
    t = 0, g = exp(1000 t) overflowing) are a run that cannot finish, status 1, as a kernel
    that overflows (a non-finite K fails the solve), with the option named; any other is 2."""
    from .kernels._user import raised_by_user
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    notes = getattr(exc, "__notes__", None) or []
    forcing = next((m for m in map(_FORCING_NOTE.search, notes) if m), None)
    if forcing is not None:
        return CommandError(f"--forcing {_shown(args.forcing, 40)} cannot be evaluated at "
                            f"t = {forcing.group(1)}: {type(exc).__name__}: {text}", 1)
    if raised_by_user(exc):
        where = f" {notes[-1]}" if notes else ""   # (Python 3.10: no note says which)
        return CommandError(f"the expressions cannot be evaluated: {type(exc).__name__}"
                            f"{where}: {text}", 1)
    return CommandError(text if isinstance(exc, (ValueError, TypeError))
                        else f"{type(exc).__name__}: {text}", 2)


_STUDY_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")


def _reproduce(args, out):
    from .studies import STUDIES
    from .studies._executors import ExecutorSpecError, open_executor, parse_executor
    from .studies._figures import have_matplotlib
    from .studies._reproduce import reproduce

    known = list(STUDIES)
    if args.name != "all" and not (_STUDY_NAME.fullmatch(args.name) and args.name in STUDIES):
        raise CommandError(f"unknown study {_shown(args.name, 80)}; known: all, {', '.join(known)}", 2)
    try:
        parse_executor(args.executor)
    except ExecutorSpecError as exc:
        raise CommandError(str(exc), 2) from None
    made = _check_output_folder(args.out, "--out")
    names = known if args.name == "all" else [args.name]
    failed = []
    with contextlib.ExitStack() as stack:
        try:
            executor = stack.enter_context(open_executor(args.executor))
        except (ImportError, OSError) as exc:
            _remove_if_made(args.out, made)
            raise CommandError(f"cannot open executor {args.executor!r}: {exc}", 2) from None
        for name in names:
            try:
                res, manifest = reproduce(name, args.out, quick=args.quick, seed=args.seed,
                                          executor=executor, executor_name=args.executor)
            except Exception as exc:  # report, go on with the other studies, fail at the end
                failed.append(name)
                print(f"integrallimits: error: study {name!r} failed: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
                continue
            cells = manifest["cells"]
            print(f"## {name}\n\n{res.to_markdown()}", file=out)
            print(f"{name}: {len(res.rows)} rows; {cells['total']} cells ({cells['reused']} reused) "
                  f"in {manifest['timings']['wall_seconds']:.1f} s -> "
                  f"{os.path.join(args.out, name)}\n", file=out, flush=True)
    if not have_matplotlib():
        print("integrallimits: note: matplotlib is not installed, so no figures were drawn; "
              "install the plot extra (pip install 'integrallimits[plot]') and rerun the same "
              "command (finished cells are reused)", file=sys.stderr)
    if failed:
        raise CommandError(f"{len(failed)} of {len(names)} studies failed: {', '.join(failed)}", 1)
    return 0


def _validate(args, out):
    from .validation import ValidationInterrupted, ValidationSettings, run_validation
    from .volterra import METHODS

    methods = args.methods or list(METHODS)
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        shown = ", ".join(_shown(m, 40) for m in unknown)
        raise CommandError(f"unknown method(s) {shown}; known: {', '.join(METHODS)}", 2)
    if args.max_examples < 1:
        raise CommandError("--max-examples must be >= 1", 2)
    if args.json:
        _check_output_file(args.json, "--json")
    settings = ValidationSettings(max_examples=args.max_examples, seed=args.seed,
                                  families=tuple(args.families) if args.families else None,
                                  strict=args.strict)
    try:
        report = run_validation(methods, settings, out=out)
    except ValidationInterrupted as exc:    # Ctrl-C: the finished methods are not lost
        if args.json:
            _write_output(args.json, exc.report.to_json(), "--json")
            exc.kept = (f"; the {len(exc.report.records)} method(s) finished before it are in "
                        f"{args.json}")
        raise
    if args.json:
        _write_output(args.json, report.to_json(), "--json")
        print(f"wrote {args.json}", file=out)
    return 0 if report.passed else 1


def _check_symbolic(args, out):
    from .symbolic.checks import check_symbolic_main
    options = (["--quick"] if args.quick else []) + (["--list"] if args.list else [])
    for name in args.only or []:
        options += ["--only", name]
    with contextlib.redirect_stdout(out):   # (it printed to sys.stdout, not main's ``out``)
        return check_symbolic_main(options)


def build_parser():
    """The argument parser of the ``integrallimits`` command."""
    from . import __version__

    parser = _Parser(prog="integrallimits", description=(
        "Solve Volterra integral equations, reproduce the studies, validate the methods and "
        "prove the closed forms."))
    parser.add_argument("--version", action="version", version=f"integrallimits {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser(
        "solve", help="solve y = g + int_0^t K(t, s, y(s)) ds",
        description="Solve y(t) = g(t) + int_{t0}^t K(t, s, y(s)) ds on a uniform mesh and print "
                    "y at the end (with --exact: the error and, with --orders, the observed "
                    "order).  Without --kernel and --forcing: errors and orders of several "
                    "methods on built-in problems.",
        epilog='Examples: integrallimits solve --kernel "exp(-(t-s))*y**2" --forcing '
               '"exp(-2*t)" --exact "exp(-t)" --orders;  a vector problem: --kernel "[-y1, y0]" '
               '--forcing "[1, 0]" --exact "[cos(t), sin(t)]";  an expression that starts with '
               'a minus sign: --kernel -y**2 or --kernel=-y**2.')
    p.add_argument("--kernel", metavar="EXPR",
                   help='K in t, s, y, e.g. "exp(-(t-s))*y**2"; a vector kernel in y0, y1, ... as '
                        '"[-y1, y0]"; may start with a minus sign (--kernel=-y**2); default: '
                        'none (with neither --kernel nor --forcing: the built-in example)')
    p.add_argument("--forcing", metavar="EXPR",
                   help='g in t, e.g. "exp(-2*t)"; "[1, 0]" for a vector problem; default: none')
    p.add_argument("--exact", metavar="EXPR",
                   help="the exact solution in t (then the error is printed); default: none")
    p.add_argument("--t-span", nargs=2, type=float, default=None, metavar=("T0", "T1"),
                   help="the interval [T0, T1] (default: 0 1)")
    p.add_argument("--T", type=float, default=None, metavar="T",
                   help="deprecated: the same as --t-span 0 T")
    p.add_argument("--steps", type=int, default=None, metavar="N",
                   help="number of uniform steps (default: 256; with --orders the "
                        "finest: N is halved up to four times while it stays whole)")
    p.add_argument("--rtol", type=float, default=None, metavar="RTOL",
                   help="solve to a tolerance instead of on --steps: the estimated error of every "
                        "mesh value meets atol + rtol |y| (default: none; 1e-6 if only --atol)")
    p.add_argument("--atol", type=float, default=None, metavar="ATOL",
                   help="absolute tolerance (default: none; 1e-9 if only --rtol)")
    p.add_argument("--param", action="append", default=None, metavar="NAME=VALUE",
                   help="a parameter of the expressions, e.g. --param a=1.5 with --kernel "
                        '"-a*y"; repeatable; each must appear in an expression (default: none)')
    p.add_argument("--method", type=_given, default=None, metavar="NAME",
                   help=f"one of {{methods}} (default: {DEFAULT_METHOD}; the built-in "
                        f"example: several)")
    p.add_argument("--orders", action="store_true",
                   help="solve with N/16, N/8, ..., N steps and print observed orders (fewer "
                        "sizes where a half is not whole or too few for the method; "
                        "default: off)")
    p.add_argument("--out", type=_given, metavar="FILE",
                   help="write t and y at the mesh points to this CSV file (default: none)")
    p.set_defaults(func=_solve)
    r = sub.add_parser("reproduce", help="run a registered study (or all) and write its outputs",
                       description="Run a study and write OUT/NAME/{table.md,table.csv,table.json,"
                                   "*.png,manifest.json}; finished cells are kept in OUT/NAME/cells "
                                   "and skipped on a rerun.  A line per finished cell goes to "
                                   "stderr when it is not a terminal (a progress bar when it is).")
    r.add_argument("name", metavar="NAME", help="a study: {studies}; or 'all'")
    r.add_argument("--quick", action="store_true",
                   help="the study's quick mode (default: the full computation)")
    r.add_argument("--out", type=_given, default="out", metavar="DIR",
                   help="output folder (default: %(default)s)")
    r.add_argument("--executor", default="serial", metavar="SPEC",
                   help="serial, processes, processes:N, or dask://HOST:PORT (default: %(default)s)")
    r.add_argument("--seed", type=_seed, default=0, metavar="SEED",
                   help="random seed, an integer >= 0 (default: %(default)s)")
    r.set_defaults(func=_reproduce)
    v = sub.add_parser("validate", help="property-based validation of every method (Hypothesis)",
                       description="Random manufactured problems (exact solution, kernel family, "
                                   "forcing derived with SymPy/mpmath); each method's observed "
                                   "order and error estimate are checked; failures are shrunk to a "
                                   "minimal example.  Exit code 1 on any failure, and when a "
                                   "method's order was measured in none of its runs (reported "
                                   "NOT MEASURED: its order is unchecked).  A line per "
                                   "finished method goes to stderr when it is not a terminal.")
    v.add_argument("--max-examples", type=int, default=20, metavar="N",
                   help="random problems per method (default: %(default)s)")
    v.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    v.add_argument("--methods", nargs="+", metavar="METHOD",
                   help="methods to check (default: all: {methods})")
    v.add_argument("--families", nargs="+", metavar="FAMILY",
                   choices=["linear", "hammerstein", "urysohn", "convolution", "vector"],
                   help="kernel families to draw from: linear, hammerstein, urysohn, convolution, "
                        "vector (default: all)")
    v.add_argument("--strict", action="store_true",
                   help="count the known pre-asymptotic shortfalls of gregory6, gregory8, "
                        "gauss4 as "
                        "failures (default: reported, not failed)")
    v.add_argument("--json", type=_given, metavar="PATH",
                   help="write the report as JSON (default: none)")
    v.set_defaults(func=_validate)
    c = sub.add_parser("check-symbolic", help="prove the package's closed forms with SymPy",
                       description="Prove the package's closed forms with SymPy; exit code 1 if "
                                   "any identity fails.")
    c.add_argument("--quick", action="store_true",
                   help="smaller enumerations (default: the full ones)")
    c.add_argument("--only", action="append", metavar="NAME",
                   help="run only this identity (repeatable; default: all; see --list)")
    c.add_argument("--list", action="store_true", help="list the identities and exit")
    c.set_defaults(func=_check_symbolic)
    return parser


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def _expression_values_attached(argv):
    """``--kernel -y**2`` -> ``--kernel=-y**2``: argparse would take a value that starts with a
    minus sign for an option; likewise a negative number with an exponent after a numeric
    option (``--t-span -1e-3 1`` was "expected 2 arguments"), which gets a leading space
    (argparse then reads it as a value, and ``float`` ignores the space)."""
    argv, out = list(argv), []
    k = 0
    while k < len(argv):
        arg = argv[k]
        if (arg in _EXPRESSION_OPTIONS and k + 1 < len(argv) and argv[k + 1].startswith("-")
                and not argv[k + 1].startswith("--")):
            out.append(f"{arg}={argv[k + 1]}")
            k += 2
        elif arg in _NUMBER_OPTIONS:
            out.append(arg)
            k += 1
            for _ in range(_NUMBER_OPTIONS[arg]):
                if k < len(argv) and argv[k].startswith("-") and _is_number(argv[k]):
                    out.append(" " + argv[k])
                    k += 1
        else:
            out.append(arg)
            k += 1
    return out


def _log_progress_lines():
    """Send the studies' and the validation's per-cell progress records to stderr, one line
    each, when stderr is not a terminal (a log, CI); a terminal gets tqdm's bar instead."""
    if sys.stderr.isatty():
        return contextlib.nullcontext()
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("integrallimits")

    @contextlib.contextmanager
    def attached():
        level = logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            yield
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
    return attached()


@contextlib.contextmanager
def _one_line_warnings():
    """Warnings of a command as one line each, ``integrallimits: warning: ...`` on stderr (as
    the command's own), not Python's two lines of file, line number and source."""
    with warnings.catch_warnings():
        def show(message, category, filename, lineno, file=None, line=None):
            print(f"integrallimits: warning: {' '.join(str(message).split())}", file=sys.stderr)
        warnings.showwarning = show
        yield


def main(argv=None, out=None):
    """Run the command line; returns the exit code (0 success, 1 a failed run, 2 a usage
    error, 130 interrupted by Ctrl-C)."""
    argv = sys.argv[1:] if argv is None else argv
    args = None
    try:
        args = build_parser().parse_args(_expression_values_attached(argv))
        steps = getattr(args, "steps", None)
        if steps is not None and steps < 1:
            raise CommandError("--steps must be >= 1", 2)
        with _log_progress_lines(), _one_line_warnings():
            return args.func(args, out or sys.stdout)
    except CommandError as exc:
        print(f"integrallimits: error: {exc}", file=sys.stderr)
        return exc.code
    except KeyboardInterrupt as exc:   # Ctrl-C: one line, as a shell expects (not a traceback)
        kept = getattr(exc, "kept", "")
        if getattr(args, "command", None) == "reproduce":
            study = args.name if args.name != "all" else "<study>"
            kept = f"; finished cells are kept in {os.path.join(args.out, study, 'cells')}: a rerun " \
                   f"resumes"
        print(f"integrallimits: interrupted{kept}", file=sys.stderr)
        return 130


def run():
    """The ``integrallimits`` command (the console script and ``python -m integrallimits``):
    :func:`main` on ``sys.argv``; returns the exit status.

    After ``solve`` the process ends at once (:func:`os._exit`) when stdout and stderr are
    flushed and the ``atexit`` handlers have run: ``solve`` has closed its files and starts no
    thread or process, and Python's teardown of Numba's loaded code (0.1-0.2 s, as for any
    Numba program) would be a fifth of the whole command.  Under a profiler or a tracer
    (``python -m cProfile``, coverage), and after the other commands, the exit is the normal one.
    """
    argv = sys.argv[1:]
    code = main(argv)
    if (argv[:1] == ["solve"] and threading.active_count() == 1 and sys.getprofile() is None
            and sys.gettrace() is None):
        import atexit
        atexit._run_exitfuncs()         # (they run once: the normal exit would not repeat them)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):   # a closed or broken stream: the normal exit reports it
            return code
        os._exit(code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
