"""How long and how much memory one file's analysis may take: light, for the CLI's defaults."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    seconds: float = 120.0  # wall clock per task
    memory_mb: int = 4096  # address space a task may add to its worker's own
