"""Numba's cache tracks only a function's own file; the package drops its cached code when any
of its source files changes (integrallimits._numba.purge_stale_caches)."""
import math
import os
import shutil
import subprocess
import sys

import numba

from integrallimits import _numba
from integrallimits._numba import _cache_dirs, _fingerprint, _module_dirs, purge_stale_caches


def _touch(path, text=""):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(text)


def test_caches_are_dropped_exactly_when_a_source_changes(tmp_path):
    root = str(tmp_path / "pkg")
    _touch(os.path.join(root, "a.py"), "x = 1\n")
    _touch(os.path.join(root, "sub", "b.py"), "y = 2\n")
    cache = os.path.join(root, "__pycache__")
    for name in ("loop-10.py311.nbi", "loop-10.py311.1.nbc", "a.cpython-311.pyc"):
        _touch(os.path.join(cache, name))
    missing = os.path.join(root, "sub", "__pycache__")
    dirs = [cache, missing]
    assert purge_stale_caches(root, dirs) == 2          # no fingerprint yet: stale
    assert sorted(os.listdir(cache)) == ["a.cpython-311.pyc", _numba._MARKER]
    assert os.listdir(missing) == [_numba._MARKER]      # created: what is cached next is trusted
    _touch(os.path.join(cache, "new-3.py311.nbi"))
    assert purge_stale_caches(root, dirs) == 0          # same sources: the new cache is kept
    assert os.path.exists(os.path.join(cache, "new-3.py311.nbi"))
    _touch(os.path.join(root, "sub", "b.py"), "y = 22\n")   # a helper in another file changes
    assert purge_stale_caches(root, dirs) == 1
    assert not os.path.exists(os.path.join(cache, "new-3.py311.nbi"))
    assert purge_stale_caches(root, dirs) == 0


def test_fingerprint_sees_sizes_and_new_files(tmp_path):
    root = str(tmp_path)
    _touch(os.path.join(root, "a.py"), "x = 1\n")
    first = _fingerprint(root)
    assert _fingerprint(root) == first
    _touch(os.path.join(root, "__pycache__", "ignored.py"), "")   # caches are not sources
    assert _fingerprint(root) == first
    _touch(os.path.join(root, "c.py"), "")
    assert _fingerprint(root) != first


def test_every_module_directory_is_covered(tmp_path):
    root = str(tmp_path)
    _touch(os.path.join(root, "a.py"))
    _touch(os.path.join(root, "sub", "b.py"))
    _touch(os.path.join(root, "data", "table.csv"))
    dirs = [d for d, _ in _cache_dirs(root)]
    assert os.path.join(root, "__pycache__") in dirs
    assert os.path.join(root, "sub", "__pycache__") in dirs
    assert not any(d.startswith(os.path.join(root, "data")) for d in dirs)


def test_the_package_caches_carry_the_current_fingerprint():
    """Importing the package has checked its own cache directories."""
    stamp = _fingerprint(_numba.PACKAGE_DIR)
    checked = 0
    for cache, primary in _cache_dirs(_numba.PACKAGE_DIR):
        marker = os.path.join(cache, _numba._MARKER)
        if os.path.exists(marker):
            with open(marker) as fh:
                assert fh.read().strip() == stamp
            checked += 1
        else:
            assert not primary                 # where Numba caches now is always stamped
    assert checked >= 1


# -- read-only installs (issue 17) ----------------------------------------------------------

_PROBE = """
import warnings, numpy as np
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import integrallimits
    from integrallimits._linalg import solve_inplace
    b = np.array([1.0, 2.0])
    assert solve_inplace(np.array([[2.0, 1.0], [1.0, 3.0]]), b) and np.allclose(b, [0.2, 0.6])
assert integrallimits.__file__.startswith({site!r}), integrallimits.__file__
print(sum(solve_inplace.stats.cache_hits.values()), sum(solve_inplace.stats.cache_misses.values()))
for w in caught:
    print("WARNING", w.message)
"""


def _read_only_install(tmp_path):
    """A copy of the package where Numba's in-tree cache cannot be written, even by root:
    every ``__pycache__`` is a file (and the directories are made read-only as well)."""
    site = tmp_path / "site"
    shutil.copytree(_numba.PACKAGE_DIR, site / "integrallimits",
                    ignore=shutil.ignore_patterns("__pycache__"))
    folders = [site / "integrallimits"] + [p for p in (site / "integrallimits").rglob("*") if p.is_dir()]
    for folder in folders:
        (folder / "__pycache__").touch()
    for folder in folders:
        folder.chmod(0o555)
    return str(site)


def _run(site, cache_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    env.update(PYTHONPATH=site, XDG_CACHE_HOME=cache_home)
    out = subprocess.run([sys.executable, "-c", _PROBE.format(site=site)], env=env, cwd=site,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    hits, misses = map(int, lines[0].split())
    return hits, misses, [line for line in lines[1:] if line.startswith("WARNING")]


def test_a_read_only_install_with_no_writable_cache_works_uncached_and_says_so_once(tmp_path):
    site = _read_only_install(tmp_path)
    blocker = tmp_path / "not-a-directory"
    blocker.touch()                          # the user cache lies under a file: unwritable
    for _ in range(2):
        hits, misses, warned = _run(site, str(blocker / "cache"))
        assert (hits, misses) == (0, 1)      # compiled in this process, every time
        assert len(warned) == 1 and "no writable Numba cache directory" in warned[0]
        assert "NUMBA_CACHE_DIR" in warned[0]


def test_a_read_only_install_caches_once_in_the_user_cache(tmp_path):
    """Numba falls back to the user-wide cache: the fingerprint marker goes there too, so the
    second process loads the first one's code instead of deleting it and compiling again."""
    site = _read_only_install(tmp_path)
    home = tmp_path / "cache"
    assert _run(site, str(home)) == (0, 1, [])
    cached = {p: p.stat().st_mtime_ns for p in home.rglob("*") if p.suffix in (".nbi", ".nbc")}
    markers = list(home.rglob(_numba._MARKER))
    assert cached and len(markers) == len(list(_module_dirs(os.path.join(site, "integrallimits"))))
    assert _run(site, str(home)) == (1, 0, [])
    assert {p: p.stat().st_mtime_ns for p in home.rglob("*") if p.suffix in (".nbi", ".nbc")} == cached


def _interleaved_saves(cls, directory):
    """Two processes save different keys of one function's cache at once: both read the
    (empty) index first, then the second writes its index entry, the first saves completely,
    and the second's data file lands last.  Returns the two cache files."""
    os.makedirs(directory)
    first, second = (cls(str(directory), "loop-10.py311", ("stamp", 1)) for _ in range(2))
    first._load_index = second._load_index = dict     # what both read before saving: {}
    deferred = []
    second_save_data = second._save_data
    second._save_data = lambda name, data: deferred.append((name, data))
    second.save("key B", "code of B")
    first.save("key A", "code of A")
    for name, data in deferred:
        second_save_data(name, data)
    del first._load_index, second._load_index
    return first, second


def test_processes_saving_at_once_never_serve_one_key_the_others_code(tmp_path):
    """With Numba's numbered data files (numba.core.caching.IndexDataCacheFile, Numba 0.68) both
    saves took number 1: the index named key A and the file held B's code (12 processes compiling 192 kernels into one cache left 5 kernels that
    later processes ran with another kernel's code, reporting success)."""
    first, second = _interleaved_saves(_numba._KeyNamedFiles, tmp_path / "named")
    assert first.load("key A") == "code of A"
    assert second.load("key B") in (None, "code of B")  # its entry may be lost: a recompile
    assert first.load("key C") is None


@numba.njit
def _taylor(x, k, n):
    if k > n:
        return 1.0
    return 1.0 + x * _taylor(x, k + 1, n) / k


@numba.njit
def _calls_taylor(x):
    return _taylor(x, 1, 8)


@numba.njit
def _plain(x):
    return 2.0 * x


def test_code_calling_through_numbas_run_time_linker_is_neither_saved_nor_loaded(tmp_path):
    """_taylor(x, k + 1, n) inside _taylor(x, Literal[1], Literal[8]) calls another
    specialisation through a global ".numba.unresolved$..." that only the compiling process
    can fill in: a process loading such code from the disk aborted ("LLVM ERROR: Symbol not
    found").  Its package cache saves nothing, and cache files naming such a symbol (written by
    an older version) read as missing."""
    assert abs(_calls_taylor(-1.0) - sum((-1.0) ** k / math.factorial(k) for k in range(9))) < 1e-15
    saved = []
    for func, unresolved in ((_calls_taylor, True), (_plain, False)):
        func(1.0)
        sig = func.signatures[0]
        cres = func.overloads[sig]
        assert bool(_numba.unresolved_symbols(cres.library)) is unresolved
        cache = _numba.KeyNamedCache(func.py_func)
        cache._cache_file.save = lambda key, data, name=func.__name__: saved.append(name)
        cache.save_overload(sig, cres)
    assert saved == ["_plain"]
    files = _numba._KeyNamedFiles(str(tmp_path), "f-1.py311", ("stamp", 1))
    linked = (("lib", "object", (b"\x7fELF .numba.unresolved$_ZN1h\x00", b"BC")), "fndesc")
    files.save("linked", linked)
    files.save("plain", (("lib", "object", (b"\x7fELF _ZN1h\x00", b"BC")), "fndesc"))
    assert files.load("linked") is None and files.load("plain")[1] == "fndesc"
