"""Mutation testing of integrallimits: does the test suite catch wrong code?

Not part of the default test run (it takes minutes to hours).  Install the ``mutation``
extra (``pip install -e ".[test,mutation]"``) and run, from the repository root, one
module at a time (the machine's cores are shared: each command uses one)::

    python tools/mutation.py list                    # the modules and their targeted tests
    python tools/mutation.py run kernels/_parse.py   # mutate one module, report the score
    python tools/mutation.py run kernels/_parse.py --resume   # after adding tests: the survivors
    python tools/mutation.py known                   # the breakages of issue 19, each must fail

Every command works in a scratch copy under ``build/mutation/`` (never in the working tree).

Two engines, one set of mutation operators (mutmut's):

* Python-level modules run under **mutmut 3**: all mutants of the module are compiled into
  one copy with trampolines, the targeted tests run once to record which tests call which
  function, and each mutant runs (in a fork of that process, so nothing is imported or
  compiled again) only the tests that reach it, fastest first, stopping at the first
  failure.  Two things a fork would inherit are undone: the ``lru_cache``s of the mutated
  module and of the test modules are cleared when a mutant's session starts (else a rule
  built by the parent would hide a mutant in the code that builds it), and before every test
  while mutmut records which tests reach which function (else only the first test to build
  a cached rule would be recorded); and mutants in code that runs only at import (the
  METHODS registry) -- mutmut's "no tests" -- are run again in a fresh process, written into
  the copy in place as below.
* Modules of compiled (Numba) code (``networks/_activations.py``, ``networks/_kernels.py``)
  cannot take trampolines: compiled functions call each other directly.  There each mutant
  is written into the scratch copy in place and the targeted tests run in a fresh process.
  Numba's on-disk cache is kept for every module that does not import the mutated one (a
  warm store built once; the package's stale-cache purge is satisfied by writing the
  mutated tree's source fingerprint next to the copied cache), so a mutant recompiles only
  the mutated module and its importers.  ``--sample N`` runs a seeded random sample of the
  mutants when the full set would take too long.

The score is (killed + timed out) / mutants.  Survivors are listed with their diff; judge
each one: a missing test (add it) or an equivalent mutant (say why).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "integrallimits"
WORK = ROOT / "build" / "mutation"

#: module (relative to the package) -> the fast, targeted tests that should kill its mutants
#: (doctests of the module itself are added automatically).
TARGETS = {
    "quadrature/_exact.py": ["tests/quadrature", "tests/symbolic/test_exactness.py"],
    "quadrature/_volterra.py": ["tests/quadrature", "tests/symbolic/test_exactness.py"],
    "quadrature/_interval.py": ["tests/quadrature"],
    "quadrature/_cumulative.py": ["tests/quadrature"],
    "kernels/_parse.py": ["tests/kernels/test_parse.py"],
    "kernels/_text.py": ["tests/kernels/test_text_index.py", "tests/kernels/test_parse.py"],
    "cli.py": ["tests/test_cli.py", "tests/test_validate.py", "tests/test_reproduce.py"],
    "networks/_activations.py": ["tests/networks/test_activations.py"] + [
        f"tests/networks/test_fast_activation.py::{name}" for name in (
            "test_tanh_fast_special_values", "test_vectorised_nan_and_inf_lanes",
            "test_array_forms_equal_scalar_forms", "test_tanh_fast_within_two_ulp_of_exact")],
    "networks/_kernels.py": [
        f"tests/networks/test_families.py::{name}" for name in (
            "test_rectangle_rule_is_the_usual_recursion", "test_network_equals_independent_reference",
            "test_smooth_net_equals_its_recursion_and_closed_form", "test_batched_equals_per_sample")] + [
        "tests/control/test_discrete_adjoint.py::test_adjoint_gradient_every_family_and_rule",
        "tests/networks/test_fast_activation.py::test_batched_forward_equals_numpy",
        "tests/networks/test_fast_activation.py::test_batched_gradient_equals_numpy_backprop"],
    "control/_adjoint.py": ["tests/control/test_discrete_adjoint.py", "tests/control/test_vrk_adjoint.py"],
    "volterra/_methods.py": ["tests/volterra/test_solve.py", "tests/volterra/test_failures.py",
                             "tests/volterra/test_fast_history.py", "tests/volterra/test_orders.py"],
}
COMPILED = {"networks/_activations.py", "networks/_kernels.py"}

#: The breakages of issue 19: (what, module, old text, new text, tests that must catch it).
KNOWN = [
    ("RK/collocation adjoint: zero bias block", "control/_adjoint.py",
     "Z.copy(), c, A, b, dphi, mu_stages, grad, stats)\n",
     "Z.copy(), c, A, b, dphi, mu_stages, grad, stats)\n"
     "        if kernel.structure.get(\"family\") == \"residual-dense\":\n"
     "            N, d = int(kernel.params[2]), int(kernel.params[3])\n"
     "            grad[6 + (N + 1) ** 2 * d * d:] = 0.0\n",
     ["tests/control/test_vrk_adjoint.py"]),
    ("CLI evaluates --kernel before refusing it", "cli.py",
     "        kernel = kernel_from_text(args.kernel if d is None else kernel_parts, params=names)\n",
     "        try:\n            eval(args.kernel)\n        except Exception:\n            pass\n"
     "        kernel = kernel_from_text(args.kernel if d is None else kernel_parts, params=names)\n",
     ["tests/test_cli.py"]),
    ("softplus shifted by -log 2", "networks/_activations.py",
     "    return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))\n",
     "    return (x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))) - math.log(2.0)\n",
     ["tests/networks/test_activations.py"]),
    ("ReLU replaced by leaky ReLU (derivative consistent)", "networks/_activations.py",
     None, None, ["tests/networks/test_activations.py"]),
    ("smooth weight C(n-j-1, k-1) wrong for k >= 4", "networks/_kernels.py",
     "        w = w * (n - m - 1 - i) / (i + 1)\n",
     "        w = w * (n - m - (1 if k < 4 else 0) - i) / (i + 1)\n",
     ["tests/networks/test_families.py", "tests/symbolic/test_state_space.py"]),
    ("solve_volterra's kind= keyword renamed", "volterra/_solve.py", None, None,
     ["tests/volterra/test_first_kind.py"]),
    ("gregory8 runs the Gregory-6 weights, declares order 8", "quadrature/_volterra.py",
     "        \"gregory8\": lambda: _gregory(8),\n",
     "        \"gregory8\": lambda: VolterraRule(\"gregory8\", 8, 7, _gregory(6).start_exact,\n"
     "                                          _gregory(6).left_exact, _gregory(6).right_exact),\n",
     ["tests/volterra/test_orders.py",
      "tests/test_validate.py::test_known_methods_measure_their_order_above_the_rounding_level"]),
]
_LEAKY = [("        return x if x > 0.0 else 0.0\n", "        return x if x > 0.0 else 0.01 * x\n"),
          ("            v[i] = scale * (x if x > 0.0 else 0.0)\n",
           "            v[i] = scale * (x if x > 0.0 else 0.01 * x)\n"),
          ("        return 1.0 if x > 0.0 else 0.0\n", "        return 1.0 if x > 0.0 else 0.01\n"),
          ("            v[i] = 1.0 if v[i] > 0.0 else 0.0\n", "            v[i] = 1.0 if v[i] > 0.0 else 0.01\n")]
_RENAME_KIND = [("*, args=None, kind=2, mesh=None", "*, args=None, equation_kind=2, mesh=None"),
                ("    if kind == 1:", "    if equation_kind == 1:"),
                ("    if kind != 2:", "    if equation_kind != 2:")]


# -- the scratch copy --------------------------------------------------------------------------

def _scratch(name):
    """A fresh copy of the package, tests and configuration in build/mutation/<name>."""
    where = WORK / name
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.nbi", "*.nbc", "*.pyc")
    for item in (PACKAGE, "tests"):
        shutil.copytree(ROOT / item, where / item, ignore=ignore)
    shutil.copy2(ROOT / "pyproject.toml", where / "pyproject.toml")
    return where


def _module_name(path):
    rel = Path(path).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([PACKAGE] + parts)


def _imports(package_dir):
    """module -> set of package modules it imports (static, relative and absolute)."""
    graph = {}
    for path in package_dir.rglob("*.py"):
        rel = path.relative_to(package_dir)
        name = _module_name(rel)
        is_pkg = path.name == "__init__.py"
        base = name.split(".") if is_pkg else name.split(".")[:-1]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    stem = base[:len(base) - node.level + 1]
                    target = ".".join(stem + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith(PACKAGE):
                    deps.add(target)
                    deps.update(f"{target}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                deps.update(a.name for a in node.names if a.name.startswith(PACKAGE))
        graph[name] = deps
    return graph


def importers(package_dir, module):
    """The package modules that import ``module`` directly or through others (and itself)."""
    graph = _imports(package_dir)
    found = {module}
    changed = True
    while changed:
        changed = False
        for name, deps in graph.items():
            if name not in found and deps & found:
                found.add(name)
                changed = True
    return found


# -- Numba caches for in-place mutants -----------------------------------------------------------

def _fingerprint(package_dir):
    from integrallimits._numba import _fingerprint as fingerprint   # the package's own definition
    return fingerprint(str(package_dir))


def _prepare_cache(store, target, package_dir, dropped, stamp):
    """Copy the warm cache ``store`` to ``target`` without the code of modules ``dropped``,
    and mark every cache directory as built from the current sources (``stamp``)."""
    from integrallimits._numba import _MARKER
    prefixes = {name.rsplit(".", 1)[-1] for name in dropped}
    if target.exists():
        shutil.rmtree(target)
    for folder in store.iterdir() if store.exists() else []:
        out = target / folder.name
        out.mkdir(parents=True)
        for f in folder.iterdir():
            if f.suffix in (".nbi", ".nbc") and f.name.split(".", 1)[0] not in prefixes:
                os.link(f, out / f.name)
        (out / _MARKER).write_text(stamp + "\n")


def _pytest(where, tests, cache, timeout, extra=()):
    env = dict(os.environ, PYTHONPATH=str(where), NUMBA_CACHE_DIR=str(cache),
               PYTHONDONTWRITEBYTECODE="1")
    # -n 0: in this process (pyproject's addopts ask pytest-xdist for a worker per CPU)
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0", *extra,
           *tests]
    try:
        proc = subprocess.run(cmd, cwd=where, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", ""
    return ("survived" if proc.returncode == 0 else "killed"), proc.stdout[-2000:]


def _failed_test(output):
    for line in output.splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" - ")[0]
    return "(no test reported)"


# -- mutants of compiled modules ------------------------------------------------------------------

def compiled_mutants(source):
    """(line, description, mutated source) for every mutmut operator applied to every node
    inside a function of ``source`` (decorated ones included; decorators and docstrings not)."""
    import libcst as cst
    from libcst.metadata import MetadataWrapper, PositionProvider
    from mutmut.mutation.file_mutation import deep_replace
    from mutmut.mutation.mutators import mutation_operators

    wrapper = MetadataWrapper(cst.parse_module(source))
    module = wrapper.module
    found = []

    class Visitor(cst.CSTVisitor):
        METADATA_DEPENDENCIES = (PositionProvider,)

        def __init__(self):
            self.depth = 0

        def visit_FunctionDef(self, node):
            self.depth += 1

        def leave_FunctionDef(self, node):
            self.depth -= 1

        def on_visit(self, node):
            if isinstance(node, (cst.Decorator, cst.Annotation)):
                return False
            if isinstance(node, cst.SimpleStatementLine) and len(node.body) == 1 and isinstance(
                    node.body[0], cst.Expr) and isinstance(node.body[0].value, cst.BaseString):
                return False                                    # docstrings
            if self.depth:
                for kind, operator in mutation_operators:
                    if isinstance(node, kind):
                        for mutated in operator(node):
                            found.append((node, mutated))
            return super().on_visit(node)

    wrapper.visit(Visitor())
    out = []
    for node, mutated in found:
        line = wrapper.resolve(PositionProvider)[node].start.line
        text = deep_replace(module, node, mutated).code
        before = module.code_for_node(node).strip().splitlines()[0][:60]
        after = module.code_for_node(mutated).strip().splitlines()[0][:60] if not isinstance(
            mutated, cst.RemovalSentinel) else "(removed)"
        out.append((line, f"{before}  ->  {after}", text))
    return out


def run_in_place(module, sample=None, seed=0, timeout_factor=10.0):
    """Mutants of a compiled module, one fresh test process each (see the module docstring)."""
    where = _scratch(module.replace("/", "_").replace(".py", "") + "-inplace")
    package_dir = where / PACKAGE
    path = package_dir / module
    original = path.read_text()
    tests = TARGETS[module]
    mutants = compiled_mutants(original)
    chosen = list(range(len(mutants)))
    if sample and sample < len(mutants):
        chosen = sorted(random.Random(seed).sample(chosen, sample))
    store, cache = where / "cache-store", where / "cache-run"
    print(f"{module}: {len(mutants)} mutants, running {len(chosen)}; tests: {' '.join(tests)}")
    start = time.perf_counter()
    status, out = _pytest(where, tests, store, timeout=3600)       # warm store, and the baseline
    baseline = time.perf_counter() - start
    if status != "survived":
        raise SystemExit(f"the targeted tests fail on the unmutated copy:\n{out}")
    start = time.perf_counter()
    _pytest(where, tests, store, timeout=3600)
    warm = time.perf_counter() - start
    print(f"baseline {baseline:.0f} s cold, {warm:.0f} s warm")
    dropped = importers(package_dir, _module_name(module))
    results = []
    try:
        for k, i in enumerate(chosen):
            line, what, text = mutants[i]
            path.write_text(text)
            _prepare_cache(store, cache, package_dir, dropped, _fingerprint(package_dir))
            t0 = time.perf_counter()
            status, out = _pytest(where, tests, cache, timeout=timeout_factor * baseline + 60)
            results.append({"id": i, "line": line, "mutation": what, "status": status,
                            "by": _failed_test(out) if status == "killed" else "",
                            "seconds": round(time.perf_counter() - t0, 1)})
            print(f"[{k + 1}/{len(chosen)}] line {line}: {status:8s} {what}", flush=True)
    finally:
        path.write_text(original)
    return _report(module, results, len(mutants), where)


# -- mutmut 3 for Python-level modules ------------------------------------------------------------

_FRESH_CACHES = '''

def _clear_caches(*modules):   # (mutation runs only) recompute what is cached from the mutant
    import functools
    import sys
    found = [v for m in (sys.modules.get({module!r}),) + modules if m for v in vars(m).values()]
    found += [v for c in list(found) if isinstance(c, type) for v in vars(c).values()]
    for obj in found:
        if isinstance(obj, functools._lru_cache_wrapper):
            obj.cache_clear()


def pytest_sessionstart(session):
    import sys
    _clear_caches(*[m for m in list(sys.modules.values())
                    if "/tests/" in (getattr(m, "__file__", None) or "")])


def pytest_runtest_setup(item):
    import os
    if os.environ.get("MUTANT_UNDER_TEST") == "stats":   # which tests reach what is cached
        _clear_caches(getattr(item, "module", None))
'''


def _rerun_in_place(where, module, names, env):
    """Mutants mutmut could not reach from a fork: write each into the copy, fresh test process."""
    package_dir = where / PACKAGE
    path = package_dir / module
    original = path.read_text()
    store, cache = where / "cache-store", where / "cache-run"
    status, out = _pytest(where, TARGETS[module], store, timeout=3600)
    if status != "survived":
        raise SystemExit(f"the targeted tests fail on the unmutated copy:\n{out}")
    dropped = importers(package_dir, _module_name(module))
    found = {}
    try:
        for name in names:
            subprocess.run([sys.executable, "-m", "mutmut", "apply", name], cwd=where, env=env,
                           check=True, capture_output=True)
            _prepare_cache(store, cache, package_dir, dropped, _fingerprint(package_dir))
            found[name], _ = _pytest(where, TARGETS[module], cache, timeout=3600)
            path.write_text(original)
            print(f"  fresh process: {name}: {found[name]}", flush=True)
    finally:
        path.write_text(original)
    return found


def _mutmut_names(where, module):
    """The names mutmut gives the mutants of ``module`` (its own generator, in the copy)."""
    code = (f"from mutmut.mutation.file_mutation import mutate_file_contents as m\n"
            f"path = {f'{PACKAGE}/{module}'!r}\n"
            f"print('\\n'.join(m(path, open(path).read()).mutant_names))")
    names = subprocess.run([sys.executable, "-c", code], cwd=where, capture_output=True, text=True,
                           check=True).stdout.split()
    return [f"{_module_name(module)}.{name}" for name in names]


def run_mutmut(module, resume=False, sample=None, seed=0):
    """mutmut 3 on ``module`` (a seeded random ``sample`` of its mutants if given); ``resume``:
    keep the last run's copy and results, take the current tests, and run again only the
    mutants that were not caught (after adding tests)."""
    name = module.replace("/", "_").replace(".py", "")
    where = WORK / name
    again, total = [], None
    if resume and (where / "report.json").exists():
        previous = json.loads((where / "report.json").read_text())
        again = [r["id"] for r in previous["results"] if r["status"] not in ("killed", "timeout")]
        shutil.rmtree(where / "tests")
        shutil.copytree(ROOT / "tests", where / "tests", ignore=shutil.ignore_patterns("__pycache__"))
        with open(where / "tests" / "conftest.py", "a") as fh:
            fh.write(_FRESH_CACHES.format(module=_module_name(module)))
        if not again:
            print(f"{module}: nothing left to run")
            return previous
    else:
        where = _scratch(name)
        tests = TARGETS[module] + [f"{PACKAGE}/{module}"]   # the module's doctests too
        config = ("\n[tool.mutmut]\n"
                  f"source_paths = [\"{PACKAGE}\"]\n"
                  f"only_mutate = [\"{PACKAGE}/{module}\"]\n"
                  f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
                  "pytest_add_cli_args = [\"-p\", \"no:cacheprovider\", \"-n\", \"0\"]\n")
        with open(where / "pyproject.toml", "a") as fh:
            fh.write(config)
        with open(where / "tests" / "conftest.py", "a") as fh:
            fh.write(_FRESH_CACHES.format(module=_module_name(module)))
        if sample:
            names = _mutmut_names(where, module)
            again, total = sorted(random.Random(seed).sample(names, min(sample, len(names)))), len(names)
            print(f"{module}: a random sample of {len(again)} of its {len(names)} mutants (seed {seed})")
    env = dict(os.environ, NUMBA_CACHE_DIR=str(where / "cache"))
    env.pop("PYTHONPATH", None)
    print(f"{module}: mutmut run in {where}" + (f" ({len(again)} mutants)" if again else ""), flush=True)
    subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", "1", *again], cwd=where,
                   env=env, check=False)
    listing = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=where,
                             env=env, capture_output=True, text=True, check=True).stdout
    statuses = {}
    for line in listing.splitlines():
        name, _, status = line.strip().rpartition(": ")
        if name and status != "not checked":
            statuses[name] = status
    unreached = [name for name, status in statuses.items() if status == "no tests"]
    if unreached:
        print(f"{len(unreached)} mutants in code no test reaches from a fork (import time): "
              f"running them in fresh processes", flush=True)
        statuses.update(_rerun_in_place(where, module, unreached, env))
    results = []
    for name, status in statuses.items():
        if name:
            diff = ""
            if status != "killed":
                diff = subprocess.run([sys.executable, "-m", "mutmut", "show", name], cwd=where, env=env,
                                      capture_output=True, text=True).stdout
            results.append({"id": name, "status": status, "mutation": diff})
    return _report(module, results, total or len(results), where)


def _report(module, results, total, where):
    counts = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    ran = len(results)
    caught = counts.get("killed", 0) + counts.get("timeout", 0)
    score = caught / ran if ran else float("nan")
    summary = {"module": module, "mutants": total, "ran": ran, "counts": counts,
               "score": round(score, 4), "results": results}
    (where / "report.json").write_text(json.dumps(summary, indent=1))
    print(f"\n{module}: {caught} of {ran} mutants caught ({100 * score:.1f} %); {counts}")
    for r in results:
        if r["status"] not in ("killed", "timeout"):
            print(f"--- {r['status']}: {r['id']} {r.get('line', '')}\n{r['mutation']}")
    print(f"report: {where / 'report.json'}")
    return summary


# -- the known breakages ---------------------------------------------------------------------------

def run_known():
    where = _scratch("known")
    package_dir = where / PACKAGE
    store, cache = where / "cache-store", where / "cache-run"
    all_tests = sorted({t for *_, tests in KNOWN for t in tests})
    status, out = _pytest(where, all_tests, store, timeout=3600)
    if status != "survived":
        raise SystemExit(f"the tests fail on the unbroken copy:\n{out}")
    failed = 0
    for what, module, old, new, tests in KNOWN:
        path = package_dir / module
        original = path.read_text()
        edits = {"ReLU replaced by leaky ReLU (derivative consistent)": _LEAKY,
                 "solve_volterra's kind= keyword renamed": _RENAME_KIND}.get(what, [(old, new)])
        text = original
        for a, b in edits:
            if text.count(a) != 1:
                raise SystemExit(f"{what}: the text to break is not found once in {module}: {a!r}")
            text = text.replace(a, b)
        path.write_text(text)
        try:
            _prepare_cache(store, cache, package_dir, importers(package_dir, _module_name(module)),
                           _fingerprint(package_dir))
            status, out = _pytest(where, tests, cache, timeout=3600)
        finally:
            path.write_text(original)
        failed += status == "survived"
        verdict = f"caught by {_failed_test(out)}" if status == "killed" else status.upper()
        print(f"{what:55s} {verdict}", flush=True)
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="the modules and their targeted tests")
    r = sub.add_parser("run", help="mutation-test one module (relative to integrallimits/)")
    r.add_argument("module", choices=sorted(TARGETS))
    r.add_argument("--sample", type=int, help="run a seeded random sample of this many mutants")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--resume", action="store_true",
                   help="mutmut modules: rerun only the mutants the last run did not catch, with the "
                        "current tests")
    sub.add_parser("known", help="apply each breakage of issue 19; each must fail a test")
    args = parser.parse_args(argv)
    if args.command == "list":
        for module, tests in TARGETS.items():
            engine = "in place (compiled)" if module in COMPILED else "mutmut"
            print(f"{module:28s} {engine:20s} {' '.join(tests)}")
        return 0
    if args.command == "known":
        return 1 if run_known() else 0
    if args.module in COMPILED:
        run_in_place(args.module, args.sample, args.seed)
    else:
        run_mutmut(args.module, args.resume, args.sample, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
