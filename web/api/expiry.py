"""Where a paper's expiry stands, in the API: the same flag as the pages (vault/reminders.py).

Defined here and imported by ``web/api/schemas.py`` (``DocumentOut``) and ``web/api/shares.py``
(``SharedPaperOut``); it needs pydantic only, so neither imports the other.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from vault.reminders import expiry_at


class ExpiryOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: Literal["soon", "very_soon", "expired"] = Field(
        description="soon: 31 to 90 days left; very_soon: 0 to 30 days (0 is the last day); expired: since the "
                    "day after its date. Days are counted on the calendar of Europe/Paris")
    days_left: int = Field(description="Days until the expiry date: 0 on the day itself, negative once expired")


EXPIRY_FIELD = Field(default=None, description="Set when the paper expires within 90 days or has expired; null "
                                               "without a date or with more than 90 days left")


def expiry_out(expires_on: date | None, now: datetime) -> ExpiryOut | None:
    expiry = expiry_at(expires_on, now=now)
    return ExpiryOut(state=expiry.state, days_left=expiry.days_left) if expiry.flagged else None
