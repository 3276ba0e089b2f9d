"""Test-suite settings shared by every test file.

Hypothesis profiles: ``make test`` (and so CI) selects ``repro`` through the
``HYPOTHESIS_PROFILE`` environment variable, which draws the same examples on
every run, so a run that passed once passes again. A plain ``pytest`` uses
``explore``, which draws new examples each time and finds new edge cases.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "repro",
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "explore"))
