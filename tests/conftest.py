"""Test-suite settings shared by every test file.

Hypothesis profiles: ``make test`` (and so CI) selects ``repro`` through the
``HYPOTHESIS_PROFILE`` environment variable, which draws the same examples on
every run, so a run that passed once passes again. A plain ``pytest`` uses
``explore``, which draws new examples each time and finds new edge cases.
"""

from __future__ import annotations

import os

import mpmath as mp
import pytest

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


@pytest.fixture(autouse=True)
def _mpmath_precision(request):
    """Give every test its own module's mpmath precision.

    mpmath's precision is global. A module that sets ``mp.mp.dps`` at import
    would otherwise set it for every module collected before it ran, so a
    reference computed at 40 digits when the file runs alone silently drops to
    another file's 20 or 30 in the full suite. A module states its precision as
    ``MP_DPS`` (default: mpmath's own 15 digits); this fixture applies it
    around each test and restores it afterwards.
    """
    with mp.workdps(getattr(request.module, "MP_DPS", 15)):
        yield
