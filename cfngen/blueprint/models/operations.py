"""Operations: the alerts topic and the monthly budget."""

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, Field, model_validator

from cfngen.blueprint.models.common import WAIVERS_DESCRIPTION, Model, Waiver, fail

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise fail(f"invalid e-mail address '{value}'", "e.g. ops@example.com")
    return value


Email = Annotated[str, AfterValidator(_check_email)]


class Alerts(Model):
    """An SNS topic (KMS-encrypted) every alarm and the budget notify, with e-mail subscribers."""

    emails: list[Email] = Field(
        min_length=1,
        description="Addresses subscribed to the topic (each must confirm the e-mail AWS sends); "
        "at least one, or alarms would notify nobody.",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)


class Threshold(Model):
    percent: float = Field(gt=0, le=1000, description="Percent of the monthly limit.")
    type: Literal["actual", "forecasted"] = Field(
        "actual", description="Compare actual or forecasted spend."
    )


class Budget(Model):
    """An AWS Budgets monthly cost budget; notifications go to e-mails and the alerts topic."""

    monthly_limit_usd: float = Field(gt=0, description="Monthly cost limit in USD.")
    thresholds: list[Threshold] = Field(
        default_factory=lambda: [Threshold(percent=90, type="forecasted")],
        min_length=1,
        max_length=5,
        description="When to notify (AWS allows 5 notifications per budget).",
    )
    emails: list[Email] = Field(
        default_factory=list,
        max_length=10,
        description="Addresses notified directly (besides the alerts topic).",
    )
    waivers: list[Waiver] = Field(default_factory=list, description=WAIVERS_DESCRIPTION)

    @model_validator(mode="after")
    def _check(self) -> Self:
        seen = set()
        for t in self.thresholds:
            key = (t.percent, t.type)
            if key in seen:
                raise fail(f"threshold {t.percent:g}% {t.type} is listed twice", "keep one")
            seen.add(key)
        return self
