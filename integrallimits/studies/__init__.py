"""Reference computations ("studies"), registered by name.

Each study is a function ``study(quick=False, seed=0, executor=None, **params)``
returning a :class:`StudyResult`::

    from integrallimits.studies import STUDIES
    res = STUDIES["orders"](quick=True, seed=0)
    print(res.to_markdown())

Studies are imported lazily, so importing the registry compiles and computes nothing.
A study that splits its work into cells passes them through :func:`run_cells`
(and takes ``cache_dir=``), which makes it resumable and runnable on any
``concurrent.futures`` executor; :func:`reproduce` runs a study and writes its
table, figures and manifest (``integrallimits reproduce``).
"""
from __future__ import annotations

import functools
import importlib
import inspect

from ._result import StudyResult, atomic_write
from ._runner import run_cells
from ._reproduce import reproduce  # noqa: E402  (reads STUDIES lazily)

__all__ = ["STUDIES", "StudyResult", "atomic_write", "register", "run_cells", "reproduce"]

#: study name -> "module:function" (modules under integrallimits.studies), loaded on use
_LOCATIONS = {
    "orders": "orders:orders",
    "fast-convolution": "fast_convolution:fast_convolution",
    "forward-limit": "forward_limit:forward_limit",
    "relu-convergence": "relu_convergence:relu_convergence",
    "resnet-gamma": "deep_limit:resnet_gamma",
    "dense-gamma": "deep_limit:dense_gamma",
    "adjoint-agreement": "adjoint_agreement:adjoint_agreement",
    "training-stability": "training_stability:training_stability",
    "resolution-limit": "resolution_limit:resolution_limit",
    "state-space": "state_space:state_space",
    "smooth-nets": "smooth_nets:smooth_nets",
    "dnl-gamma": "dnl_gamma:dnl_gamma",
    "error-control": "error_control:error_control",
}


class _StudyRegistry(dict):
    """name -> study function; modules are imported on first access."""

    def __missing__(self, name):
        if name not in _LOCATIONS:
            raise KeyError(f"unknown study {name!r}; known studies: {', '.join(_LOCATIONS)}")
        module, func = _LOCATIONS[name].split(":")
        study = _checked(getattr(importlib.import_module(f"{__name__}.{module}"), func))
        self[name] = study
        return study

    def __contains__(self, name):
        return name in _LOCATIONS

    def __iter__(self):
        return iter(_LOCATIONS)

    def __len__(self):
        return len(_LOCATIONS)

    def keys(self):
        return list(_LOCATIONS)

    def items(self):
        return [(name, self[name]) for name in _LOCATIONS]

    def values(self):
        return [self[name] for name in _LOCATIONS]


def _checked(study):
    """``study`` with its common arguments checked before it runs (as :func:`reproduce` checks
    them): ``quick`` True or False (a string is truthy: ``quick="no"`` ran the quick mode) and
    ``seed`` an integer >= 0 (``seed="a"`` was accepted by the studies that draw nothing).
    (The executor is checked where the cells are run: :func:`run_cells`.)"""
    signature = inspect.signature(study)

    @functools.wraps(study)
    def checked(*args, **kwargs):
        from ..volterra._mesh import check_flags
        from ._reproduce import check_seed
        try:        # (a TypeError as a call's, naming the study: it said "got an unexpected
            given = signature.bind_partial(*args, **kwargs).arguments  # keyword argument")
        except TypeError as exc:
            raise TypeError(f"{study.__name__}() {exc}") from None
        check_flags(quick=given.get("quick"))
        if "seed" in given:
            check_seed(given["seed"])
        return study(*args, **kwargs)
    return checked


STUDIES = _StudyRegistry()


def register(name, location):
    """Register a study ``name`` found at "module:function" under integrallimits.studies."""
    _LOCATIONS[name] = location
    STUDIES.pop(name, None)
