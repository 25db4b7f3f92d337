"""Bounded retries with exponential backoff; a failure is a cause in words, never a traceback."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


class DeliveryError(Exception):
    """A failed attempt. `transient`: worth retrying (timeouts, refused connections, 5xx, 408, 429);
    a 4xx or a refused recipient is not: the same request would fail the same way."""

    def __init__(self, cause: str, transient: bool = True):
        super().__init__(cause)
        self.cause = cause
        self.transient = transient


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: int
    cause: str = ""


def with_retries(attempt: Callable[[], None], retries: int, backoff: float,
                 sleep: Callable[[float], None] = time.sleep) -> Outcome:
    """attempt() up to 1 + retries times, waiting backoff, 2 x backoff, ... between tries."""
    tries = 0
    while True:
        tries += 1
        try:
            attempt()
            return Outcome(True, tries)
        except DeliveryError as exc:
            if not exc.transient or tries > retries:
                return Outcome(False, tries, exc.cause)
        sleep(backoff * 2 ** (tries - 1))
