"""The schedule clock: fires EventBridge schedules at simulated (or real) times.

Sources, re-read from moto on every step so schedules created at run time count too:

* EventBridge rules with a ``ScheduleExpression`` (the template's, whose targets the stack
  keeps, and any rule created later through the API, whose targets moto keeps). A target
  receives the scheduled event ``{"version": "0", "id", "detail-type": "Scheduled Event",
  "source": "aws.events", "account", "time", "region", "resources": [rule ARN],
  "detail": {}}``, or the target's ``Input``/``InputPath``/``InputTransformer`` result.
* EventBridge Scheduler schedules (``rate``, ``cron``, one-time ``at``, with
  ``ScheduleExpressionTimezone``, ``StartDate``/``EndDate``, ``State`` and
  ``ActionAfterCompletion: DELETE``). A target receives its ``Input`` (``{}`` when there is
  none), with the context attributes ``<aws.scheduler.scheduled-time>``,
  ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.execution-id>`` and
  ``<aws.scheduler.attempt-number>`` substituted.

Lambda targets are invoked asynchronously (up to 3 attempts); SQS, SNS and EventBridge-bus
targets are sent to through moto. ``advance(timedelta)`` fires every occurrence in the
interval in time order, with the event's ``time`` the occurrence's time; :meth:`run`
follows the wall clock (optionally ``speed`` times faster) in a background thread.
Rate schedules are anchored at the moment the clock first sees them (creation, as in AWS).
"""

from __future__ import annotations

import calendar
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from infra.local.dispatch import Dispatcher, Invocation
from infra.local.provision import Stack, arn_service
from infra.local.sources import ASYNC_ATTEMPTS, deliver, target_input

logger = logging.getLogger(__name__)


class ScheduleExpressionError(ValueError):
    """A schedule expression the clock cannot read."""


# ---------------------------------------------------------------------------------------
# Expressions
# ---------------------------------------------------------------------------------------

_RATE = re.compile(r"^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$")
_AT = re.compile(r"^at\(\s*(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
_MONTHS = {m.upper(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}


def _aws_weekday(day: date) -> int:
    """AWS cron day of week: 1 = Sunday … 7 = Saturday."""
    return (day.weekday() + 1) % 7 + 1


def _values(field_text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    def number(text: str) -> int:
        text = text.upper()
        if names and text in names:
            return names[text]
        value = int(text)
        if not low <= value <= high:
            raise ScheduleExpressionError(f"{value} is outside {low}-{high}")
        return value

    values: set[int] = set()
    for part in field_text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            step = int(step_text)
        if part in ("*", "?"):
            start, end = low, high
        elif "-" in part:
            first, last = part.split("-", 1)
            start, end = number(first), number(last)
        else:
            start = number(part)
            end = high if step > 1 else start
        if end < start:  # a wrapping range such as FRI-MON
            values.update(range(start, high + 1, step))
            values.update(range(low, end + 1, step))
        else:
            values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Cron:
    """An AWS six-field cron expression: minutes hours day-of-month month day-of-week year."""

    minutes: frozenset[int]
    hours: frozenset[int]
    day_of_month: str
    months: frozenset[int]
    day_of_week: str
    years: frozenset[int] | None

    @classmethod
    def parse(cls, text: str) -> Cron:
        fields = text.split()
        if len(fields) != 6:
            raise ScheduleExpressionError(f"cron needs 6 fields, got {len(fields)}: {text!r}")
        minutes, hours, dom, month, dow, year = fields
        if "?" not in (dom, dow):
            raise ScheduleExpressionError("cron: day-of-month or day-of-week must be '?'")
        return cls(
            minutes=frozenset(_values(minutes, 0, 59)),
            hours=frozenset(_values(hours, 0, 23)),
            day_of_month=dom.upper(),
            months=frozenset(_values(month, 1, 12, _MONTHS)),
            day_of_week=dow.upper(),
            years=None if year == "*" else frozenset(_values(year, 1970, 2199)),
        )

    def _day_matches(self, day: date) -> bool:
        if day.month not in self.months or (self.years is not None and day.year not in self.years):
            return False
        last_day = calendar.monthrange(day.year, day.month)[1]
        dom, dow = self.day_of_month, self.day_of_week
        if dom != "?":
            if dom == "L":
                return day.day == last_day
            if dom.startswith("L-"):
                return day.day == last_day - int(dom[2:])
            if dom.endswith("W"):
                return day.day == _nearest_weekday(day, last_day, dom[:-1])
            return day.day in _values(dom, 1, 31)
        if dow == "?":
            return True
        weekday = _aws_weekday(day)
        if "#" in dow:
            wanted, nth = dow.split("#", 1)
            return weekday == _values(wanted, 1, 7, _DAYS).pop() and (day.day - 1) // 7 + 1 == int(
                nth
            )
        if dow.endswith("L") and dow != "L":
            return weekday == _values(dow[:-1], 1, 7, _DAYS).pop() and day.day + 7 > last_day
        if dow == "L":
            return weekday == 7
        return weekday in _values(dow, 1, 7, _DAYS)

    def next_after(self, moment: datetime, zone: ZoneInfo) -> datetime | None:
        """The first occurrence strictly after ``moment`` (aware), in UTC."""
        local = moment.astimezone(zone)
        day = local.date()
        for _ in range(366 * 5):
            if self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        candidate = datetime(
                            day.year, day.month, day.day, hour, minute, tzinfo=zone
                        )
                        if candidate > local:
                            return candidate.astimezone(UTC)
            day += timedelta(days=1)
        return None


def _nearest_weekday(day: date, last_day: int, text: str) -> int:
    if text == "L":
        target = last_day
    else:
        target = int(text)
    target = min(target, last_day)
    candidate = day.replace(day=target)
    weekday = candidate.weekday()  # Monday = 0
    if weekday == 5:  # Saturday → Friday, or Monday if that leaves the month
        return target - 1 if target > 1 else target + 2
    if weekday == 6:  # Sunday → Monday, or Friday if that leaves the month
        return target + 1 if target < last_day else target - 2
    return target


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule expression: ``rate(...)``, ``cron(...)`` or ``at(...)``."""

    kind: str
    text: str
    period: timedelta | None = None
    cron: Cron | None = None
    at: datetime | None = None

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> Schedule:
        text = text.strip()
        if match := _RATE.match(text):
            value, unit = int(match.group(1)), match.group(2).rstrip("s")
            if value <= 0:
                raise ScheduleExpressionError(f"rate must be positive: {text!r}")
            period = timedelta(**{f"{unit}s": value})
            return cls("rate", text, period=period)
        if match := _AT.match(text):
            moment = datetime.fromisoformat(match.group(1)).replace(tzinfo=ZoneInfo(timezone))
            return cls("at", text, at=moment.astimezone(UTC))
        if match := _CRON.match(text):
            return cls("cron", text, cron=Cron.parse(match.group(1)))
        raise ScheduleExpressionError(f"unsupported schedule expression {text!r}")

    def next_after(
        self, moment: datetime, anchor: datetime, timezone: str = "UTC"
    ) -> datetime | None:
        """The first occurrence strictly after ``moment``; rate schedules count from ``anchor``."""
        if self.kind == "rate":
            assert self.period is not None
            if moment < anchor + self.period:
                return anchor + self.period
            elapsed = (moment - anchor) // self.period
            return anchor + (elapsed + 1) * self.period
        if self.kind == "at":
            assert self.at is not None
            return self.at if self.at > moment else None
        assert self.cron is not None
        return self.cron.next_after(moment, ZoneInfo(timezone))


# ---------------------------------------------------------------------------------------
# The clock
# ---------------------------------------------------------------------------------------


@dataclass
class _Entry:
    key: str  # rule or schedule ARN
    kind: str  # "rule" | "scheduler"
    name: str
    schedule: Schedule
    timezone: str
    targets: list[dict[str, Any]]
    anchor: datetime
    version: Any = None
    start: datetime | None = None
    end: datetime | None = None
    delete_after: bool = False
    group: str = "default"
    next_fire: datetime | None = None


@dataclass
class Firing:
    """One occurrence of a schedule delivered to one target."""

    at: datetime
    schedule: str  # rule or schedule name
    source_arn: str
    target_arn: str
    payload: Any
    invocations: list[Invocation] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _aware(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class ScheduleClock:
    """A controllable clock that fires the stack's schedules.

    ``start`` defaults to the current UTC time (to the minute). Read the simulated time with
    :meth:`now`; move it with :meth:`advance`. ``after_each`` (e.g. draining the pollers) runs
    after every firing, so work a schedule starts is finished before the next one fires.
    """

    def __init__(
        self,
        stack: Stack,
        dispatcher: Dispatcher,
        *,
        start: datetime | None = None,
        after_each: Callable[[], Any] | None = None,
    ) -> None:
        self.stack = stack
        self.dispatcher = dispatcher
        self.after_each = after_each
        self._now = _aware(start) or datetime.now(UTC).replace(second=0, microsecond=0)
        self._entries: dict[str, _Entry] = {}
        self._synced: Any = None  # _fingerprint() at the last sync
        self._lock = threading.RLock()
        self.fired: list[Firing] = []
        self.sync()

    def now(self) -> datetime:
        """The simulated current time (aware, UTC)."""
        return self._now

    def skip(self, seconds: float) -> None:
        """Let ``seconds`` pass without firing anything now (what a handler's wait costs in
        simulated time); schedules that fall due meanwhile fire on the next advance. No
        lock: a handler may wait while another thread advances the clock."""
        self._now = self._now + timedelta(seconds=seconds)

    # -- reading schedules from moto -------------------------------------------------------

    def sync(self) -> None:
        """Pick up schedules created, changed or deleted since the last look."""
        self._sync(self._fingerprint())

    def _sync(self, fingerprint: Any) -> None:
        with self._lock:
            seen: set[str] = set()
            self._sync_rules(seen)
            self._sync_scheduler(seen)
            for key in set(self._entries) - seen:
                del self._entries[key]
            self._synced = fingerprint

    def _maybe_sync(self) -> None:
        """:meth:`sync`, unless moto's schedules are known to be unchanged since the last."""
        fingerprint = self._fingerprint()
        if fingerprint is None or fingerprint != self._synced:
            self._sync(fingerprint)

    def _fingerprint(self) -> Any:
        """What moto holds of the stack's EventBridge rules and Scheduler schedules, read
        from its in-process backends (microseconds, where listing them through the API
        costs a few calls of milliseconds after every firing); ``None`` when that is not
        possible (moto elsewhere, or backends this code does not know): then always sync."""
        if not self.stack.aws.in_process:
            return None
        try:
            from moto.events.models import events_backends
            from moto.scheduler.models import scheduler_backends

            account, region = self.stack.account_id, self.stack.region
            rules = tuple(
                (bus_name, name, rule.state, rule.scheduled_expression, repr(rule.targets))
                for bus_name, bus in events_backends[account][region].event_buses.items()
                for name, rule in bus.rules.items()
            )
            schedules = tuple(
                (group_name, name, schedule.state, schedule.last_modified_date,
                 schedule.schedule_expression, schedule.schedule_expression_timezone,
                 repr(schedule.target), schedule.start_date, schedule.end_date)
                for group_name, group in scheduler_backends[account][region]
                .schedule_groups.items()
                for name, schedule in group.schedules.items()
            )
        except Exception:  # any surprise means: list them through the API
            return None
        return rules, schedules

    def _add(self, entry: _Entry) -> None:
        current = self._entries.get(entry.key)
        if current is not None and current.version == entry.version:
            return
        same_timing = current is not None and (
            current.schedule.text,
            current.timezone,
            current.start,
        ) == (entry.schedule.text, entry.timezone, entry.start)
        if current is not None and same_timing:  # only the targets changed
            entry.anchor, entry.next_fire = current.anchor, current.next_fire
        else:
            entry.next_fire = self._first_fire(entry)
        self._entries[entry.key] = entry

    def _first_fire(self, entry: _Entry) -> datetime | None:
        schedule = entry.schedule
        if schedule.kind == "at":
            assert schedule.at is not None
            return max(schedule.at, self._now)  # already due: fires on the next step
        if entry.start is not None and entry.start > self._now:
            return schedule.next_after(entry.start, entry.start, entry.timezone)
        return schedule.next_after(self._now, entry.start or entry.anchor, entry.timezone)

    def _sync_rules(self, seen: set[str]) -> None:
        events = self.stack.aws("events")
        recorded = {rule.arn: rule for rule in self.stack.scheduled_rules.values()}
        buses = [b["Name"] for b in events.list_event_buses().get("EventBuses", [])]
        for bus in buses:
            for page in events.get_paginator("list_rules").paginate(EventBusName=bus):
                for rule in page["Rules"]:
                    expression = rule.get("ScheduleExpression")
                    if not expression or rule.get("State") != "ENABLED":
                        continue
                    arn = rule["Arn"]
                    if arn in recorded:
                        targets = [dict(t) for t in recorded[arn].targets]
                    else:
                        targets = events.list_targets_by_rule(Rule=rule["Name"], EventBusName=bus)[
                            "Targets"
                        ]
                    try:
                        schedule = Schedule.parse(expression)
                    except ScheduleExpressionError as error:
                        logger.warning("rule %s: %s", rule["Name"], error)
                        continue
                    seen.add(arn)
                    self._add(
                        _Entry(
                            key=arn,
                            kind="rule",
                            name=rule["Name"],
                            schedule=schedule,
                            timezone="UTC",
                            targets=targets,
                            anchor=self._now,
                            version=(expression, json.dumps(targets, sort_keys=True, default=str)),
                        )
                    )

    def _sync_scheduler(self, seen: set[str]) -> None:
        scheduler = self.stack.aws("scheduler")
        for page in scheduler.get_paginator("list_schedules").paginate():
            for summary in page["Schedules"]:
                arn = summary["Arn"]
                current = self._entries.get(arn)
                modified = summary.get("LastModificationDate")
                if summary.get("State") != "ENABLED":
                    continue
                seen.add(arn)
                if current is not None and current.version == modified:
                    continue
                detail = scheduler.get_schedule(
                    Name=summary["Name"], GroupName=summary["GroupName"]
                )
                timezone = detail.get("ScheduleExpressionTimezone") or "UTC"
                try:
                    schedule = Schedule.parse(detail["ScheduleExpression"], timezone)
                except ScheduleExpressionError as error:
                    logger.warning("schedule %s: %s", summary["Name"], error)
                    continue
                self._add(
                    _Entry(
                        key=arn,
                        kind="scheduler",
                        name=summary["Name"],
                        schedule=schedule,
                        timezone=timezone,
                        targets=[detail["Target"]],
                        anchor=self._now,
                        version=modified,
                        start=_aware(detail.get("StartDate")),
                        end=_aware(detail.get("EndDate")),
                        delete_after=detail.get("ActionAfterCompletion") == "DELETE",
                        group=summary["GroupName"],
                    )
                )

    # -- moving time ------------------------------------------------------------------------

    def pending(self) -> list[tuple[datetime, str]]:
        """(next fire time, name) of every known schedule, soonest first."""
        with self._lock:
            return sorted(
                (e.next_fire, e.name) for e in self._entries.values() if e.next_fire is not None
            )

    def advance(self, delta: timedelta) -> list[Firing]:
        """Move the clock forward by ``delta``, firing everything due on the way."""
        return self.advance_to(self._now + delta)

    def advance_to(self, moment: datetime) -> list[Firing]:
        """Move the clock to ``moment`` (aware), firing everything due up to and including it."""
        moment = _aware(moment)
        assert moment is not None
        firings: list[Firing] = []
        with self._lock:
            if moment < self._now:
                raise ValueError("the clock does not go backwards")
            self._maybe_sync()
            while True:
                due = [
                    e
                    for e in self._entries.values()
                    if e.next_fire is not None and e.next_fire <= moment
                ]
                if not due:
                    break
                entry = min(due, key=lambda e: (e.next_fire, e.name))
                assert entry.next_fire is not None
                self._now = max(self._now, entry.next_fire)
                invocations = self.dispatcher.invocation_count
                firings.extend(self._fire(entry, entry.next_fire))
                if self.after_each is not None:
                    self.after_each()
                # Only code can create schedules while time moves: re-read when some ran
                # (and, in-process, changed what moto holds).
                if self.dispatcher.invocation_count != invocations:
                    self._maybe_sync()
            self._now = max(self._now, moment)  # a handler's wait may have moved it on
        self.fired.extend(firings)
        return firings

    def _fire(self, entry: _Entry, at: datetime) -> list[Firing]:
        if entry.end is not None and at > entry.end:
            entry.next_fire = None
            return []
        entry.next_fire = entry.schedule.next_after(at, entry.start or entry.anchor, entry.timezone)
        if entry.end is not None and entry.next_fire is not None and entry.next_fire > entry.end:
            entry.next_fire = None
        firings = [self._fire_target(entry, target, at) for target in entry.targets]
        if entry.kind == "scheduler" and entry.schedule.kind == "at":
            entry.next_fire = None
            if entry.delete_after:
                self.stack.aws("scheduler").delete_schedule(Name=entry.name, GroupName=entry.group)
                self._entries.pop(entry.key, None)
        return firings

    def _payload(self, entry: _Entry, target: dict[str, Any], at: datetime) -> Any:
        stamp = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        if entry.kind == "rule":
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "account": self.stack.account_id,
                "time": stamp,
                "region": self.stack.region,
                "resources": [entry.key],
                "detail": {},
            }
            return target_input(target, event)
        text = target.get("Input")
        if text is None:
            return {}
        for name, value in (
            ("scheduled-time", stamp),
            ("schedule-arn", entry.key),
            ("execution-id", str(uuid.uuid4())),
            ("attempt-number", "1"),
        ):
            text = text.replace(f"<aws.scheduler.{name}>", value)
        try:
            return json.loads(text)
        except ValueError:
            return text

    def _fire_target(self, entry: _Entry, target: dict[str, Any], at: datetime) -> Firing:
        payload = self._payload(entry, target, at)
        firing = Firing(at, entry.name, entry.key, target["Arn"], payload)
        service = arn_service(target["Arn"])
        if service == "lambda":
            for _ in range(ASYNC_ATTEMPTS):
                invocation = self.dispatcher.try_invoke(target["Arn"], payload)
                firing.invocations.append(invocation)
                if invocation.ok:
                    break
            else:
                firing.error = str(firing.invocations[-1].error)
            return firing
        try:
            if service == "events":
                bus = target["Arn"].rsplit("/", 1)[-1]
                event = payload if isinstance(payload, dict) else {}
                self.stack.aws("events").put_events(
                    Entries=[
                        {
                            "EventBusName": bus,
                            "Source": event.get("source", "aws.events"),
                            "DetailType": event.get("detail-type", "Scheduled Event"),
                            "Detail": json.dumps(event.get("detail", {})),
                            "Resources": [entry.key],
                        }
                    ]
                )
            else:
                deliver(self.stack, target["Arn"], payload)
        except Exception as error:
            logger.exception("%s: delivery to %s failed", entry.name, target["Arn"])
            firing.error = str(error)
        return firing

    # -- following the wall clock -------------------------------------------------------------

    def run(self, stop: threading.Event, *, speed: float = 1.0, tick: float = 1.0) -> None:
        """Advance with the wall clock (``speed`` × real time) until ``stop`` is set."""
        last = time.monotonic()
        while not stop.wait(tick):
            current = time.monotonic()
            try:
                self.advance(timedelta(seconds=(current - last) * speed))
            except Exception:
                logger.exception("schedule clock step failed")
            last = current
