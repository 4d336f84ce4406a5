"""Numba's cache tracks only a function's own file; the package drops its cached code when any
of its source files changes (integrallimits._numba.purge_stale_caches)."""
import os

from integrallimits import _numba
from integrallimits._numba import _cache_dirs, _fingerprint, purge_stale_caches


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
        elif primary:
            assert not os.access(os.path.dirname(cache), os.W_OK)   # only if it cannot be made
    assert checked >= 1
