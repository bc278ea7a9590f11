"""Test configuration: a deterministic hypothesis profile for CI.

Locally, hypothesis draws new random examples on every run (that is how it finds bugs). In CI
(``CI`` set in the environment, as ``.ci/run`` and most CI services do) the examples are
derandomized, so a green commit stays green; run ``python -m pytest`` locally to explore.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
