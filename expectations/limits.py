"""The configurable limits of the data-quality gates (light: no Great Expectations import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateLimits:
    """Configurable limits of the data-quality gates."""

    max_quarantine_share: float = 0.05
    max_volume_drop: float = 0.5  # a day below (1 - this) x the trailing 7-day median warns
    volume_blocking: bool = False
