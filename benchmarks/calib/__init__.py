"""Seeded simulations that measure how often each verdict fires, one module per area.

Each module exposes `simulations(quick: bool) -> list[Rate]`; `benchmarks/calibration.py` runs them
all and prints every rate beside its target. Tests import the same functions with `quick=True`
(a few hundred simulations) so putting an old, miscalibrated method back fails a test.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rate:
    """One measured rate: what fired, how often, against which target, over how many simulations."""

    area: str
    claim: str  # the verdict or interval, as the product states it
    scenario: str  # the simulated world (e.g. "A/A, n=2,000 per arm, revenue-like")
    rate: float
    target_low: float
    target_high: float
    n_simulations: int
    method: str = ""

    @property
    def ok(self) -> bool:
        return self.target_low <= self.rate <= self.target_high

    def target_text(self) -> str:
        if self.target_low <= 0.0:
            return f"<= {self.target_high:.1%}"
        if self.target_high >= 1.0:
            return f">= {self.target_low:.1%}"
        return f"{self.target_low:.1%}-{self.target_high:.1%}"
