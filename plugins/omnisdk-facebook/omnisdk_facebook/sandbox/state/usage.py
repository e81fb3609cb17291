"""The usage Meta reports and enforces: calls per minute per use case, as percentages.

Each answer carries ``X-App-Usage`` and, on catalog paths, ``X-Business-Use-Case-Usage``
for the business that owns the catalog. A use case past its budget in the current minute
is refused with its throttle code until the minute is over; a forced throttle
(:meth:`Usage.throttle`) refuses until lifted, announcing its regain time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

__all__ = ["THROTTLE_CODES", "Throttle", "Usage"]

THROTTLE_CODES = {"app": 4, "catalog_management": 80009, "catalog_batch": 80014}
"""The error code Meta answers when a use case is over its limit."""


@dataclass
class Throttle:
    """A forced refusal: every call of ``use_case`` answers ``code`` until lifted."""

    use_case: str
    code: int
    regain_minutes: int


@dataclass
class Usage:
    """Calls counted per use case in the current minute of the sandbox clock."""

    business_id: str
    budgets: dict[str, int] = field(
        default_factory=lambda: {"app": 6000, "catalog_management": 6000, "catalog_batch": 600}
    )
    enforced: bool = True
    minute: int = -1
    calls: dict[str, int] = field(default_factory=dict)
    reported: dict[str, int] = field(default_factory=dict)
    """Percentages to report instead of the counted ones (knob for tests)."""
    forced: Throttle | None = None

    def count(self, use_case: str, minute: int) -> None:
        """One call of ``use_case`` (and of the app) in ``minute``."""
        if minute != self.minute:
            self.minute, self.calls = minute, {}
        self.calls["app"] = self.calls.get("app", 0) + 1
        if use_case != "app":
            self.calls[use_case] = self.calls.get(use_case, 0) + 1

    def percent(self, use_case: str) -> int:
        """How much of ``use_case``'s budget this minute has used."""
        if use_case in self.reported:
            return self.reported[use_case]
        budget = self.budgets.get(use_case) or 1
        return min(100, self.calls.get(use_case, 0) * 100 // budget)

    def refusal(self, use_case: str) -> Throttle | None:
        """The throttle a call of ``use_case`` meets now, if any."""
        if self.forced is not None and self.forced.use_case in (use_case, "app"):
            return self.forced
        if not self.enforced:
            return None
        for case in ("app", use_case):
            if self.calls.get(case, 0) > self.budgets.get(case, 10**9):
                return Throttle(case, THROTTLE_CODES.get(case, 4), 1)
        return None

    def throttle(self, use_case: str, *, regain_minutes: int = 1) -> None:
        """Refuse every call of ``use_case`` (``"app"``: every call) until :meth:`lift`."""
        self.forced = Throttle(use_case, THROTTLE_CODES.get(use_case, 4), regain_minutes)

    def lift(self) -> None:
        """End a forced throttle."""
        self.forced = None

    def headers(self, use_case: str) -> dict[str, str]:
        """The usage headers of an answer to a call of ``use_case``."""
        app = self.percent("app")
        regain = self.forced.regain_minutes if self.forced is not None else 0
        headers = {
            "X-App-Usage": json.dumps(
                {"call_count": app, "total_time": app, "total_cputime": app}
            )
        }
        if use_case != "app":
            case = self.percent(use_case)
            if self.forced is not None and self.forced.use_case == use_case:
                case = 100
            entry = {
                "type": use_case,
                "call_count": case,
                "total_cputime": case,
                "total_time": case,
                "estimated_time_to_regain_access": regain,
            }
            headers["X-Business-Use-Case-Usage"] = json.dumps({self.business_id: [entry]})
        return headers
