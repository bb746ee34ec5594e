"""Schedule expressions as EventBridge Scheduler accepts them: rate(), cron() and at().

Checked field by field, so a schedule that validates is one AWS creates: a wrong expression
otherwise passes render and lint and fails in the middle of a deploy.
"""

import datetime
import re

EXAMPLES = "write rate(15 minutes), cron(0 3 * * ? *) or at(2030-01-01T00:00:00)"

_RATE = re.compile(r"^rate\((\d+) ([a-z]+)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_UNITS = ("minute", "hour", "day")
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

# name, low, high, names, what the field may also hold
_FIELDS: tuple[tuple[str, int, int, list[str], str], ...] = (
    ("minutes", 0, 59, [], ""),
    ("hours", 0, 23, [], ""),
    ("day-of-month", 1, 31, [], "?LW"),
    ("month", 1, 12, _MONTHS, ""),
    ("day-of-week", 1, 7, _DAYS, "?L#"),
    ("year", 1970, 2199, [], ""),
)


def _number(text: str, low: int, high: int, names: list[str]) -> int | None:
    if text.upper() in names:
        return names.index(text.upper()) + low
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None


def _cron_field(text: str, index: int) -> str | None:
    """Why one cron field is invalid, or None."""
    name, low, high, names, extra = _FIELDS[index]
    span = f"{low}-{high}" + (f" or {names[0]}-{names[-1]}" if names else "")
    if text in ("*", "?"):
        return None if text == "*" or "?" in extra else f"{name} cannot be '?'"
    for part in text.split(","):
        base, slash, step = part.partition("/")
        if slash and not (step.isdigit() and int(step) >= 1):
            return f"{name}: invalid increment in '{part}'"
        if ("L" in extra and base in ("L", "LW")) or (base.endswith("L") and "L" in extra):
            day = base[:-1] if base.endswith("L") and base not in ("L", "LW") else ""
            if day and _number(day, low, high, names) is None:
                return f"{name}: '{part}' is not a valid day"
            continue
        if "W" in extra and base.endswith("W"):
            if _number(base[:-1], low, high, names) is None:
                return f"{name}: '{part}' needs a day of the month before W"
            continue
        if "#" in extra and "#" in base:
            day, _, nth = base.partition("#")
            if _number(day, low, high, names) is None or nth not in ("1", "2", "3", "4", "5"):
                return f"{name}: '{part}' must be DAY#N with N from 1 to 5"
            continue
        if base == "*":
            continue
        first, dash, last = base.partition("-")
        a = _number(first, low, high, names)
        b = _number(last, low, high, names) if dash else a
        if a is None or b is None:
            return f"{name}: '{part}' is outside {span}"
    return None


def check_cron(body: str) -> tuple[str, str] | None:
    """(problem, fix) for the six fields inside cron(...), or None."""
    fields = body.split()
    if len(fields) != 6:
        return (
            f"a cron expression has 6 fields (minutes hours day-of-month month day-of-week "
            f"year), this one has {len(fields)}",
            "e.g. cron(0 3 * * ? *) for 03:00 every day",
        )
    for i, text in enumerate(fields):
        problem = _cron_field(text, i)
        if problem:
            return problem, "e.g. cron(0 3 * * ? *) or cron(30 8 ? * MON-FRI *)"
    dom, dow = fields[2], fields[4]
    if (dom == "?") == (dow == "?"):
        return (
            "one of day-of-month and day-of-week must be '?' (and only one)",
            "e.g. cron(0 3 * * ? *) or cron(0 3 ? * MON *)",
        )
    return None


def check_schedule(value: str) -> tuple[str, str] | None:
    """(problem, fix) of an EventBridge Scheduler expression, or None when it is valid."""
    rate = _RATE.match(value)
    if rate:
        amount, unit = int(rate.group(1)), rate.group(2)
        singular = unit.removesuffix("s")
        if singular not in _UNITS:
            return f"unknown unit '{unit}'", "use minute(s), hour(s) or day(s)"
        if amount < 1:
            return "a rate must be at least 1", f"e.g. rate(1 {singular})"
        if (amount == 1) != (unit == singular):
            right = singular if amount == 1 else singular + "s"
            return f"{amount} takes the unit '{right}'", f"write rate({amount} {right})"
        return None
    if value.startswith("cron(") and value.endswith(")"):
        return check_cron(value[5:-1])
    at = _AT.match(value)
    if at:
        try:
            datetime.datetime.fromisoformat(at.group(1))
        except ValueError:
            return f"'{at.group(1)}' is not a date and time", "e.g. at(2030-01-01T00:00:00)"
        return None
    return "not a schedule expression", EXAMPLES
