"""Hypothesis profiles.

* ``ci`` (the default): derandomized, so every run draws the same examples and a failure
  reproduces; the boundary cases are explicit ``@example``s or parametrizations, because a
  fixed derandomized draw may never reach them.
* ``explore`` (``HYPOTHESIS_PROFILE=explore python -m pytest -q``, for periodic runs): fresh
  random draws on every run, so repeated runs explore what the fixed draw never sees; a
  failing example is kept in the local example database (``.hypothesis/``) and replayed
  first on the next run.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=40)
settings.register_profile("explore", derandomize=False, deadline=None, max_examples=100,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
