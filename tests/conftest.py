import os

# Deterministic Hypothesis runs (no example database writes, derandomized).
from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=40)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
