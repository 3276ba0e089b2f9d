"""Closed forms of KL: multivariate families (registered on import)."""

from __future__ import annotations
