"""Words of closing: the office's closing page, its refusals, the consultation PDF."""

from __future__ import annotations

FR: dict[str, str] = {}

EN: dict[str, str] = {}
