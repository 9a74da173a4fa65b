"""Recurring-run triggers: when each fires next (cron with seconds, as KFP's robfig/cron, or a period).

Cron has 6 fields, `second minute hour day-of-month month day-of-week` (a 5-field expression gets second
0); each field is `*`, `?`, a value, a range `a-b`, a step `*/n` or `a-b/n`, or a list of these;
day-of-week 0-6 from Sunday (7 is Sunday too). Times are epoch seconds in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mlplatform.pipelines.errors import InvalidInput

_FIELDS = (
    ("second", 0, 59),
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day", 1, 31),
    ("month", 1, 12),
    ("weekday", 0, 7),
)
_SEARCH_DAYS = 366 * 5


class Cron:
    def __init__(self, expression: str):
        parts = expression.split()
        if len(parts) == 5:
            parts = ["0", *parts]
        if len(parts) != 6:
            raise InvalidInput(f"cron {expression!r} needs 6 fields (second minute hour day month weekday)")
        self.expression = expression
        sets = [_field(part, name, low, high) for part, (name, low, high) in zip(parts, _FIELDS, strict=True)]
        self.seconds, self.minutes, self.hours, self.days, self.months, weekdays = sets
        self.weekdays = {day % 7 for day in weekdays}
        self.any_day, self.any_weekday = parts[3] in ("*", "?"), parts[5] in ("*", "?")

    def _day_matches(self, moment: datetime) -> bool:
        by_day = moment.day in self.days
        by_weekday = (moment.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_day and by_weekday
        return by_day or by_weekday  # both restricted: either matches, as in cron

    def next_after(self, after: float) -> float | None:
        moment = datetime.fromtimestamp(int(after) + 1, tz=UTC)
        limit = moment + timedelta(days=_SEARCH_DAYS)
        while moment < limit:
            if moment.month not in self.months:
                moment = (moment.replace(day=1, hour=0, minute=0, second=0) + timedelta(days=32)).replace(
                    day=1
                )
            elif not self._day_matches(moment):
                moment = moment.replace(hour=0, minute=0, second=0) + timedelta(days=1)
            elif moment.hour not in self.hours:
                moment = moment.replace(minute=0, second=0) + timedelta(hours=1)
            elif moment.minute not in self.minutes:
                moment = moment.replace(second=0) + timedelta(minutes=1)
            elif moment.second not in self.seconds:
                moment += timedelta(seconds=1)
            else:
                return moment.timestamp()
        return None


def _field(text: str, name: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        try:
            step = int(step_text) if step_text else 1
            if base in ("*", "?"):
                start, end = low, high
            elif "-" in base:
                start, end = (int(value) for value in base.split("-", 1))
            else:
                start = int(base)
                end = high if step_text else start
        except ValueError:
            raise InvalidInput(f"cron {name} field {text!r} is not a number, range, step or list") from None
        if step < 1 or not (low <= start <= end <= high):
            raise InvalidInput(f"cron {name} field {text!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def next_fire(trigger: dict, after: float) -> float | None:
    """The first time the trigger fires after `after`, within its start and end times; None when done."""
    if "cron_schedule" in trigger:
        schedule = trigger["cron_schedule"]
        start, end = schedule.get("start_time"), schedule.get("end_time")
        after = max(after, start - 1) if start else after
        at = Cron(schedule["cron"]).next_after(after)
    else:
        schedule = trigger["periodic_schedule"]
        start, end = schedule.get("start_time"), schedule.get("end_time")
        interval = float(schedule["interval_second"])
        origin = start if start else schedule["anchor"]
        periods = max(0, int((after - origin) // interval) + 1)
        at = origin + periods * interval
    if at is None or (end and at > end):
        return None
    return at


def parsed_trigger(trigger: dict | None, now: float) -> dict:
    """The API's trigger checked, with times as epoch seconds; a period is anchored at `now` by default."""
    if not isinstance(trigger or {}, dict) or not all(isinstance(v, dict) for v in (trigger or {}).values()):
        raise InvalidInput("trigger must be {cron_schedule: {...}} or {periodic_schedule: {...}}")
    trigger = dict(trigger or {})
    kinds = [kind for kind in ("cron_schedule", "periodic_schedule") if trigger.get(kind)]
    if len(kinds) != 1:
        raise InvalidInput("trigger needs exactly one of cron_schedule or periodic_schedule")
    schedule = dict(trigger[kinds[0]])
    for key in ("start_time", "end_time"):
        schedule[key] = _epoch(schedule.get(key), f"trigger.{kinds[0]}.{key}")
    if kinds[0] == "cron_schedule":
        Cron(str(schedule.get("cron") or ""))
    else:
        try:
            interval = int(schedule.get("interval_second") or 0)
        except (TypeError, ValueError):
            interval = 0
        if interval < 1:
            raise InvalidInput(
                "trigger.periodic_schedule.interval_second must be a whole number of seconds >= 1"
            )
        schedule["interval_second"], schedule["anchor"] = interval, now
    return {kinds[0]: schedule}


def _epoch(value, what: str) -> float | None:
    if value in (None, ""):
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidInput(f"{what} {value!r} is not an RFC 3339 time") from None
