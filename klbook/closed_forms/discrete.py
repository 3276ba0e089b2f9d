"""Closed forms of KL: discrete families (registered on import)."""

from __future__ import annotations
