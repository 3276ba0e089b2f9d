"""Closed forms of KL: continuous families (registered on import)."""

from __future__ import annotations
