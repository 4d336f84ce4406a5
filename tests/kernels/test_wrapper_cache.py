"""The compiled wrappers of user functions on disk: reused by a later process, never stale.

A later process with the same kernel file loads the wrappers (with the user's function compiled
inside them) from Numba's on-disk cache instead of compiling them; a change to the file, or to
a compiled helper the kernel calls from another module, compiles them again; exceptions and
non-finite values of a kernel loaded from disk still reach the user with the point.
"""
import os
import subprocess
import sys
import textwrap

import numba
import numpy as np
import pytest

from integrallimits.kernels import _user

# The scripts live in a fresh temporary folder (their keys name their paths), so the first run
# finds nothing cached for them; the package's own loops come from its usual cache.
_KERNEL = textwrap.dedent("""
    import math, sys
    import numba
    from integrallimits import solve_volterra
    from integrallimits.kernels import _user, as_kernel
    from rates import rate

    def K(t, s, y):
        return -rate() * y

    def K_raises(t, s, y):
        if t > 0.5:
            raise ArithmeticError("no kernel beyond t = 0.5")
        return -y

    def K_nan(t, s, y):
        return -y if t < 0.5 else math.nan

    sol = solve_volterra(K, lambda t: 1.0, (0.0, 1.0), 16, method="gauss2", error_estimate=False)
    hits = sum(as_kernel(K, 1.0).function.stats.cache_hits.values())
    print(repr(float(sol.y[-1])), hits, len(_user.njit_user(K).signatures))
    try:
        solve_volterra(K_raises, lambda t: 1.0, (0.0, 1.0), 16, method="trapezoid")
    except ArithmeticError as exc:
        print(type(exc).__name__, str(exc))
    sol = solve_volterra(K_nan, lambda t: 1.0, (0.0, 1.0), 16, method="trapezoid")
    print(sol.status, sol.message.split(";")[0])

    class Boom(Exception):          # a class of the script: Numba's cache pickles it by value
        pass

    @numba.njit
    def boom(t):
        if t > 0.5:
            raise Boom("boom beyond t = 0.5")

    def K_boom(t, s, y):
        if t > 0.5:
            raise Boom("boom beyond t = 0.5")
        return -y

    def K_boom_helper(t, s, y):
        boom(t)
        return -y

    for k in (K_boom, K_boom_helper):
        try:
            solve_volterra(k, lambda t: 1.0, (0.0, 1.0), 16, method="trapezoid")
        except Boom as exc:         # missed when a later run loaded a rebuilt copy of Boom
            print("Boom", str(exc))
""")

_RATES = "import numba\n\n\n@numba.njit\ndef rate():\n    return {value}\n"


def _run(folder):
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONPATH=str(folder) + os.pathsep +
               os.environ.get("PYTHONPATH", ""), PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([sys.executable, str(folder / "k.py")], capture_output=True, text=True,
                         env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()


def _write_rates(folder, value):
    path = folder / "rates.py"
    before = path.stat().st_mtime_ns if path.exists() else None
    path.write_text(_RATES.format(value=value))
    if before is not None:          # a new stamp even on a coarse-grained file system
        os.utime(path, ns=(before + 2_000_000_000, before + 2_000_000_000))


def test_a_later_process_loads_the_wrappers_and_a_changed_helper_compiles_again(tmp_path):
    (tmp_path / "k.py").write_text(_KERNEL)
    _write_rates(tmp_path, 2.0)
    first, second = _run(tmp_path), _run(tmp_path)
    y, hits, compiled = first[0].split()
    assert abs(float(y) - np.exp(-2.0)) < 1e-6 and hits == "0" and compiled == "1"
    y, hits, compiled = second[0].split()
    # loaded from disk: the user's K (inside the wrapper) is not compiled in this process
    assert abs(float(y) - np.exp(-2.0)) < 1e-6 and int(hits) >= 1 and compiled == "0"
    # the user's exception and the non-finite value's point, from the cached wrappers too
    for out in (first, second):
        assert out[1] == "ArithmeticError no kernel beyond t = 0.5"
        assert out[2].startswith("-1 K(t, s, y) returned a non-finite value (inf/nan) at t = ")
        # the script's own exception class, raised by the kernel or by a helper it calls
        assert out[3:5] == ["Boom boom beyond t = 0.5"] * 2
    assert first[1:] == second[1:]
    # the helper in another module changes: nothing stale is loaded (Numba's own cache checks
    # only the kernel's file)
    _write_rates(tmp_path, 3.25)
    y, hits, compiled = _run(tmp_path)[0].split()
    assert abs(float(y) - np.exp(-3.25)) < 1e-6 and hits == "0" and compiled == "1"


_LOADER = textwrap.dedent("""
    import importlib.util, sys
    from integrallimits import solve_volterra
    spec = importlib.util.spec_from_file_location("plugin_module", sys.argv[1])
    module = importlib.util.module_from_spec(spec)     # not entered in sys.modules
    spec.loader.exec_module(module)
    sol = solve_volterra(module.K, lambda t: 1.0, (0.0, 1.0), 16, method="gauss2")
    print(sol.status, repr(float(sol.y[-1])))
""")


def test_a_module_loaded_without_a_sys_modules_entry_runs_again_in_a_later_process(tmp_path):
    """Numba compiles a function whose module is not in sys.modules against a stand-in named
    "<dynamic>"; that code was cached on disk and the second run of the same script raised
    ModuleNotFoundError: No module named '<dynamic>'.  Such functions compile in memory."""
    (tmp_path / "plugin.py").write_text("def K(t, s, y):\n    return -(t - s + 1.0) * y\n")
    (tmp_path / "load.py").write_text(_LOADER)
    import integrallimits
    root = os.path.dirname(os.path.dirname(integrallimits.__file__))    # the package tested
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    runs = [subprocess.run([sys.executable, str(tmp_path / "load.py"), str(tmp_path / "plugin.py")],
                           capture_output=True, text=True, env=env, timeout=300, check=False)
            for _ in range(2)]
    for out in runs:
        assert out.returncode == 0, out.stderr[-2000:]
    assert runs[0].stdout == runs[1].stdout and runs[0].stdout.startswith("0 ")


def _module_function(t, s, y):
    return -y


def test_disk_keys_name_code_values_and_callees():
    key = _user.disk_key(_module_function)
    assert key is not None and key == _user.disk_key(_module_function)
    rate = 2.0
    closure = lambda t, s, y: -rate * y   # noqa: E731
    k1 = _user.disk_key(closure)
    rate = 3.0
    assert _user.disk_key(closure) not in (None, k1)            # a closure cell's value
    assert _user.disk_key(lambda t, s, y: -np.exp(y)) != _user.disk_key(lambda t, s, y: -np.sin(y))

    class Opaque:
        pass
    opaque = Opaque()
    assert _user.disk_key(lambda t, s, y: -y * opaque.__sizeof__()) is None   # known by id only
    assert _user.value_key(lambda t, s, y: -y * opaque.__sizeof__()).startswith("id:")
    exec_globals = {}
    exec("def K(t, s, y):\n    return -y\n", exec_globals)   # noqa: S102 - no source file
    assert _user.disk_key(exec_globals["K"]) is None


@pytest.mark.parametrize("form", ["tsy", "u"])
def test_guard_ids_are_the_same_for_equal_functions_and_unique_otherwise(form):
    def make(c):
        return lambda t, s, y: -c * y
    f, g, h = make(1.0), make(1.0), make(2.0)
    ids = [_user.new_guard(fn, "K(t, s, y)", form, True, ()) for fn in (f, g, h)]
    assert ids[0] == ids[1] != ids[2]
    del f   # the guard stays for g, an equal function that is still alive
    assert ids[0] in _user._GUARDS


class ModuleBoom(Exception):
    pass


def _module_raiser(t, s, y):
    raise ModuleBoom("no")


def _raising_kernel():
    """A kernel raising an exception class defined here, anew on every call."""
    class LocalBoom(Exception):
        pass

    def K(t, s, y):
        if t > 0.5:
            raise LocalBoom("no")
        return -y
    return K, LocalBoom


def test_a_locally_defined_exception_class_reaches_except():
    """The compiled kernel raises the very class it was compiled with: a kernel whose exception
    class is defined inside a function is compiled for each new class (and never cached on disk,
    where the class would come back as a rebuilt copy that ``except LocalBoom`` misses; before,
    the second call below raised the first call's class)."""
    from integrallimits import solve_volterra
    K1, Boom1 = _raising_kernel()
    assert _user.value_key(K1).startswith("id:") and _user.disk_key(K1) is None
    with pytest.raises(Boom1):
        solve_volterra(K1, lambda t: 1.0, (0.0, 1.0), 4, method="trapezoid")
    K2, Boom2 = _raising_kernel()
    with pytest.warns(_user.RecompilationWarning, match="LocalBoom"), pytest.raises(Boom2):
        solve_volterra(K2, lambda t: 1.0, (0.0, 1.0), 4, method="trapezoid")
    # a class found by its module and name is the same class in every process: no key
    assert _user.value_key(_module_raiser) == "" and _user.disk_key(_module_raiser) is not None
    assert _user._importable(ModuleBoom) and not _user._importable(Boom2)
    assert _user._pickled_by_value(Boom2) and not _user._pickled_by_value(ModuleBoom)
    # also when a local helper raises it
    helper, _ = _raising_kernel()
    assert _user.value_key(lambda t, s, y: helper(t, s, y)).startswith("id:")


_RECURSIVE = textwrap.dedent("""
    import math
    import numba
    from integrallimits import solve_volterra

    @numba.njit
    def taylor_exp(x, k, n):    # 1 + x/k (1 + x/(k+1) (...)): e^x to degree n from k = 1
        if k > n:
            return 1.0
        return 1.0 + x * taylor_exp(x, k + 1, n) / k

    @numba.njit(cache=True)     # Numba's own cache of it aborted the next process too
    def cached_taylor_exp(x, k, n):
        if k > n:
            return 1.0
        return 1.0 + x * cached_taylor_exp(x, k + 1, n) / k

    def K(t, s, y):
        return -y * taylor_exp(s - t, 1, 16)

    def K_cached(t, s, y):
        return -y * cached_taylor_exp(s - t, 1, 16)

    for k in (K, K_cached):
        sol = solve_volterra(k, lambda t: 1.0, (0.0, 1.0), 32, method="gauss2",
                             error_estimate=False)
        print(sol.status, repr(float(sol.y[-1])))
""")


def test_a_kernel_calling_a_recursive_helper_runs_again_in_a_later_process(tmp_path):
    """h(x, k + 1, n) called from h(x, Literal[1], Literal[16]) is a call to another
    specialisation that Numba's machine code makes through its run-time linker (a global
    ".numba.unresolved$..." it fills in within the process).  The kernel's wrappers and K were
    cached on disk with that reference, and the second run of the same script aborted while
    loading them: "LLVM ERROR: Symbol not found: .numba.unresolved$...", exit code -6 (SIGABRT).
    Such code is compiled in memory in every process, and a recursive helper's own Numba cache
    (cache=True) is not used; y(1) = (1 + e^-2) / 2 both times."""
    (tmp_path / "rec.py").write_text(_RECURSIVE)
    import integrallimits
    root = os.path.dirname(os.path.dirname(integrallimits.__file__))    # the package tested
    env = dict(os.environ, PYTHONWARNINGS="ignore", PYTHONDONTWRITEBYTECODE="1",
               PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    for run in range(2):
        out = subprocess.run([sys.executable, str(tmp_path / "rec.py")], capture_output=True,
                             text=True, env=env, timeout=300, check=False)
        assert out.returncode == 0, (run, out.returncode, out.stderr[-2000:])
        values = out.stdout.split()
        assert len(values) == 4, (run, out.stdout)
        for status, y in zip(values[::2], values[1::2]):
            assert status == "0" and abs(float(y) - 0.5 * (1.0 + np.exp(-2.0))) < 1e-8, (run, y)


@numba.njit(cache=True)
def _cached_recursive(x, k):
    return 1.0 if k <= 0 else 1.0 + x * _cached_recursive(x, k - 1)


@numba.njit(cache=True)
def _cached_plain(x):
    return 2.0 * x


def test_a_kernels_cached_helpers_get_guarded_caches():
    """A recursive @njit(cache=True) helper a kernel calls compiles in memory (Numba's cache of
    it aborted a later process, or left its calls unlinked); a plain one keeps its cache files,
    guarded against code a later process cannot load."""
    from integrallimits import _numba
    _user.guard_helper_caches(lambda t, s, y: _cached_recursive(y, 3) + _cached_plain(y))
    assert isinstance(_cached_recursive._cache, numba.core.caching.NullCache)
    assert type(_cached_plain._cache) is _numba.LoadableCache
    assert type(_cached_plain._cache._cache_file) is _numba._LoadableFiles
