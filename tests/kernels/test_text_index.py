"""The index from user text to its generated module (``kernels/_text.py``).

Properties checked: a text used before is loaded without parsing it again and gives the
same compiled kernel (values, exact Jacobian, block sum, structure); another text, other
parameter names, another kind (kernel or forcing), another package fingerprint or SymPy
version misses; a corrupt entry, a missing module or a module whose source changed falls
back to the full path (parse, derive, generate), which gives the right kernel and repairs
the entry and the module.  Across processes (SymPy not imported on a hit): tests/test_cli.py.
"""
import json
import math
import sys

import numpy as np
import pytest

from integrallimits.kernels import _generated, _parse, _text, forcing_from_text, kernel_from_text

CASES = {
    "scalar": ("exp(-(t - s)) * sin(y) + t * y**2 / 3", ()),
    "vector": (["-y1 + s", "y0 * exp(s - t) - atan(y1)"], ()),
    "params": ("-a * y + b * cos(t - s)", ("a", "b")),
}


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A private cache directory (its ``kernels`` folder)."""
    monkeypatch.setenv("INTEGRALLIMITS_CACHE_DIR", str(tmp_path))
    return tmp_path / "kernels"


@pytest.fixture
def parses(monkeypatch):
    """The texts parsed by the whitelist (the full path) while the test runs."""
    calls = []
    real = _parse.parse_with_literal

    def spy(text, *args, **kwargs):
        calls.append(text)
        return real(text, *args, **kwargs)
    monkeypatch.setattr(_parse, "parse_with_literal", spy)
    return calls


def _values(kernel, n_params):
    """K, dK/dy and the block sum at a few points (with parameters 0.7, -1.3, ...)."""
    rng = np.random.default_rng(7)
    d = kernel.dim
    theta = np.array([0.7, -1.3][:n_params])
    k = kernel.with_args(tuple(theta)) if n_params else kernel
    out, J, acc = np.empty(d), np.empty((d, d)), np.empty(d)
    rows = []
    for _ in range(4):
        t = rng.uniform(0.5, 2.0)
        svals = rng.uniform(0.0, t, 5)
        Y = rng.uniform(-1.5, 1.5, (5, d))
        k.function(t, svals[2], Y, 2, k.params, out)
        k.jacobian_function(t, svals[2], Y, 2, k.params, J)
        k.block_sum(t, svals, Y, 1, 4, np.full(5, 0.25), k.params, acc)
        rows.append(np.concatenate([out, J.ravel(), acc]))
    return np.array(rows)


@pytest.mark.parametrize("case", list(CASES))
def test_a_text_used_before_is_loaded_without_parsing(case, cache, parses):
    text, params = CASES[case]
    cold = kernel_from_text(text, params=params)
    n_texts = 1 if isinstance(text, str) else len(text)
    assert len(parses) == n_texts
    assert len(list(cache.glob("text_*.json"))) == 1
    warm = kernel_from_text(text, params=params)
    assert len(parses) == n_texts                       # the hit parsed nothing
    assert (warm.function, warm.jacobian_function, warm.block_sum) == \
        (cold.function, cold.jacobian_function, cold.block_sum)
    assert (warm.dim, warm.scalar, warm.name, warm.jacobian_source, warm.arg_spec) == \
        (cold.dim, cold.scalar, cold.name, "sympy", cold.arg_spec)
    np.testing.assert_array_equal(_values(warm, len(params)), _values(cold, len(params)))
    # the solvers read only "kind" and flags: no derivation for them ...
    assert warm.structure["kind"] == "general" and warm.structure.get("t_independent") is None
    assert len(parses) == n_texts
    # ... and the SymPy entries, derived on demand, are those of the full path
    assert dict(warm.structure) == dict(cold.structure)


def test_a_forcing_used_before_is_loaded_without_parsing(cache, parses):
    cold = forcing_from_text(["exp(-2*t) + a", "sin(t)"], params=["a"])
    warm = forcing_from_text(["exp(-2*t) + a", "sin(t)"], params=["a"])
    assert warm is cold and len(parses) == 2
    np.testing.assert_array_equal(warm(0.5, 1.5), [math.exp(-1.0) + 1.5, math.sin(0.5)])


def test_other_texts_names_kinds_or_versions_miss(cache, parses, monkeypatch):
    calls = [(kernel_from_text, "-a*y", ["a"]),
             (kernel_from_text, "-a*y", ["a", "b"]),       # other parameter names
             (kernel_from_text, "-a*y ", ["a"]),           # another text, if only by a space
             (kernel_from_text, "1 + t", []),
             (forcing_from_text, "1 + t", []),             # another kind
             (kernel_from_text, ["1 + t"], [])]            # a vector (variables t, s, y0)
    for build, text, params in calls:
        build(text, params=params)
    assert len(parses) == len(calls)
    assert len(list(cache.glob("text_*.json"))) == len(calls)
    kernel_from_text("-a*y", params=["a"])
    assert len(parses) == len(calls)                        # the first one again: a hit
    monkeypatch.setattr(_text, "IMPORTED_FINGERPRINT", "an edited package")
    kernel_from_text("-a*y", params=["a"])
    assert len(parses) == len(calls) + 1
    monkeypatch.setattr(_text, "_sympy_release", lambda: '__version__ = "0.0"\n')
    kernel_from_text("-a*y", params=["a"])
    assert len(parses) == len(calls) + 2


@pytest.mark.parametrize("damage", ["garbage", "empty object", "other key", "bad digest",
                                    "other module"])
def test_a_corrupt_entry_falls_back_and_is_rewritten(damage, cache, parses):
    text = CASES["scalar"][0]
    cold = kernel_from_text(text)
    other = forcing_from_text("1 + t**2")             # a module of the wrong kind
    (entry,) = [p for p in cache.glob("text_*.json") if json.loads(p.read_text())["key"]
                .find('"kernel"') >= 0]
    good = json.loads(entry.read_text())
    other_digest = other.__module__.split("_")[1]
    bad = {"garbage": b"\xff\x00{",
           "empty object": b"{}",
           "other key": json.dumps({**good, "key": good["key"].replace("sin", "cos")}).encode(),
           "bad digest": json.dumps({**good, "sha256": "../../" + "0" * 58}).encode(),
           "other module": json.dumps({**good, "sha256": other_digest + "0" * 32}).encode()}
    entry.write_bytes(bad[damage])
    n = len(parses)
    again = kernel_from_text(text)
    assert len(parses) == n + 1                        # the full path ran
    assert again.function is cold.function
    assert json.loads(entry.read_text()) == good       # the entry was written again
    kernel_from_text(text)
    assert len(parses) == n + 1                        # and is used


@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_changed_or_missing_module_is_never_imported(damage, cache, parses, monkeypatch):
    """As in a new process (nothing of the module in memory): a module file whose source is
    not the one the entry recorded (here: valid code computing another function) is not
    imported; the full path writes the right one back and compiles it."""
    text = "exp(-(t - s)) * y**3 - s"
    cold = kernel_from_text(text)
    path = next(cache.glob("kernel_*.py"))
    source = path.read_text()
    monkeypatch.delitem(sys.modules, path.stem)
    monkeypatch.setattr(_generated, "_COMPILED", {})
    if damage == "changed":
        path.write_text(source.replace("math.exp", "math.cos"))
    else:
        path.unlink()
    n = len(parses)
    again = kernel_from_text(text)
    assert len(parses) == n + 1
    assert path.read_text() == source
    assert again.function is not cold.function      # compiled from the rewritten file
    np.testing.assert_array_equal(_values(again, 0), _values(cold, 0))


def test_a_text_kernel_too_large_to_compile_is_refused_before_it_is_compiled(monkeypatch):
    """"[-y1, -y2, ..., -y0]" with 60 components (a 350-character text) generated a module
    of 4359 lines (the Jacobian alone 3600), whose compile ran over 10 minutes and took 9 GB
    before it was stopped; it is refused at once, nothing written or compiled.  (4421 lines
    now: the Jacobian also computes K, to be NaN where K is.)"""
    def must_not_run(*args, **kwargs):
        raise AssertionError("the module was written or compiled")
    monkeypatch.setattr(_generated, "write_module", must_not_run)
    monkeypatch.setattr(_generated, "kernel_functions", must_not_run)
    d = 60
    texts = [f"-y{(k + 1) % d}" for k in range(d)]
    with pytest.raises(_text.ExpressionError, match=r"generated code has 4421 lines .* 60 x 60"):
        kernel_from_text(texts)


def test_the_generated_size_limits_are_the_stated_ones():
    """``_check_generated_size`` refuses a generated module of more than MAX_GENERATED_LINES =
    1500 lines or MAX_GENERATED_CHARS = 200_000 characters, and passes one at either limit
    ("[-y1, ..., -y0]" with d = 30, 1300 lines, compiled in about 2 minutes; d = 60, 4359
    lines, ran over 10 minutes and 9 GB)."""
    assert (_text.MAX_GENERATED_LINES, _text.MAX_GENERATED_CHARS) == (1500, 200_000)
    _text._check_generated_size("x\n" * 1500, 2)
    _text._check_generated_size("x" * 199_999 + "\n", 1)
    with pytest.raises(_text.ExpressionError, match=r"has 1501 lines .* 2 x 2"):
        _text._check_generated_size("x\n" * 1501, 2)
    with pytest.raises(_text.ExpressionError, match=r"has 1 lines and 200001 characters"):
        _text._check_generated_size("x" * 200_000 + "\n", 1)
