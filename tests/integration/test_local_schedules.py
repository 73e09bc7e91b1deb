"""The schedule clock fires EventBridge schedules at the right simulated times."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from infra.local.clock import Schedule, ScheduleClock, ScheduleExpressionError
from infra.local.runtime import LocalStack
from tests.integration.local.support import calls, fixture_stack, receive_all, reset

START = datetime(2025, 1, 1, tzinfo=UTC)  # a Wednesday


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def _next(expression: str, after: datetime, timezone: str = "UTC") -> datetime | None:
    return Schedule.parse(expression, timezone).next_after(after, START, timezone)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 10 * * ? *)", _utc(2025, 1, 1, 10, 0), _utc(2025, 1, 2, 10, 0)),
        ("cron(15 12 * * ? *)", _utc(2025, 1, 1, 9, 0), _utc(2025, 1, 1, 12, 15)),
        ("cron(0/15 * * * ? *)", _utc(2025, 1, 1, 9, 16), _utc(2025, 1, 1, 9, 30)),
        ("cron(0 18 ? * MON-FRI *)", _utc(2025, 1, 3, 19, 0), _utc(2025, 1, 6, 18, 0)),
        ("cron(0 8 1 * ? *)", _utc(2025, 1, 1, 9, 0), _utc(2025, 2, 1, 8, 0)),
        ("cron(0 9 ? * 2#1 *)", _utc(2025, 1, 7, 0, 0), _utc(2025, 2, 3, 9, 0)),  # 1st Monday
        ("cron(0 0 L * ? *)", _utc(2025, 2, 1, 0, 0), _utc(2025, 2, 28, 0, 0)),
        ("cron(0 0 ? * 6L *)", _utc(2025, 1, 1, 0, 0), _utc(2025, 1, 31, 0, 0)),  # last Fri
        ("cron(0 0 15W * ? *)", _utc(2025, 3, 1, 0, 0), _utc(2025, 3, 14, 0, 0)),  # Sat → Fri
        ("cron(30 2 1 JAN,JUL ? 2026)", _utc(2025, 1, 1, 0, 0), _utc(2026, 1, 1, 2, 30)),
        ("rate(1 hour)", _utc(2025, 1, 1, 0, 0), _utc(2025, 1, 1, 1, 0)),
        ("rate(90 minutes)", _utc(2025, 1, 1, 2, 59), _utc(2025, 1, 1, 3, 0)),
        ("rate(7 days)", _utc(2025, 1, 8, 0, 0), _utc(2025, 1, 15, 0, 0)),
        ("at(2025-03-01T10:00:00)", _utc(2025, 1, 1), _utc(2025, 3, 1, 10, 0)),
        ("at(2025-03-01T10:00:00)", _utc(2025, 3, 1, 10, 0), None),
    ],
)
def test_schedule_expressions(expression: str, after: datetime, expected: datetime) -> None:
    assert _next(expression, after) == expected


def test_cron_and_at_honour_the_schedule_timezone() -> None:
    # 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer
    assert _next("cron(0 9 * * ? *)", _utc(2025, 1, 1), "Europe/Berlin") == _utc(2025, 1, 1, 8)
    assert _next("cron(0 9 * * ? *)", _utc(2025, 7, 1), "Europe/Berlin") == _utc(2025, 7, 1, 7)
    assert _next("at(2025-07-01T09:00:00)", START, "Europe/Berlin") == _utc(2025, 7, 1, 7)


@pytest.mark.parametrize(
    "expression",
    ["rate(0 hours)", "rate(1 week)", "cron(0 0 * * * *)", "cron(0 0 * *)", "every hour"],
)
def test_bad_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(ScheduleExpressionError):
        Schedule.parse(expression)


@pytest.fixture(scope="module")
def shared() -> Iterator[LocalStack]:
    with fixture_stack() as local:
        yield local


@pytest.fixture
def local(shared: LocalStack) -> LocalStack:
    return reset(shared, start=START)


def test_template_schedules_fire_at_their_times(local: LocalStack) -> None:
    assert local.clock.pending() == [
        (_utc(2025, 1, 1, 1), "sellerops-local-ScheduledFunctionHourly"),
        (_utc(2025, 1, 1, 3), "ScheduledFunctionDailyAudit"),
    ]
    assert local.advance(timedelta(minutes=59)) == []
    firings = local.advance(timedelta(days=1, minutes=1))
    assert local.clock.now() == _utc(2025, 1, 2, 1)
    hourly = [f.at for f in firings if f.schedule.endswith("Hourly")]
    daily = [f.at for f in firings if f.schedule == "ScheduledFunctionDailyAudit"]
    assert hourly == [_utc(2025, 1, 1, 1) + timedelta(hours=h) for h in range(25)]
    assert daily == [_utc(2025, 1, 1, 3)]
    assert [f.at for f in firings] == sorted(f.at for f in firings)
    assert all(f.ok for f in firings)

    events = [c["event"] for c in calls("record_event")]
    assert len(events) == 26
    scheduled = events[0]
    assert scheduled["detail-type"] == "Scheduled Event"
    assert scheduled["source"] == "aws.events"
    assert scheduled["time"] == "2025-01-01T01:00:00Z"
    assert scheduled["account"] == "123456789012"
    assert scheduled["resources"] == [local.stack.attribute("ScheduledFunctionHourly", "Arn")]
    assert scheduled["detail"] == {}
    assert {"job": "daily-audit"} in events  # the Scheduler target's Input


def test_schedules_created_at_run_time_fire_too(local: LocalStack) -> None:
    scheduler = local.stack.aws("scheduler")
    function = local.stack.functions["TopicFunction"]
    scheduler.create_schedule(
        Name="trial-end-A1",
        ScheduleExpression="at(2025-01-01T05:30:00)",
        ScheduleExpressionTimezone="Europe/Berlin",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": function.arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"at": "<aws.scheduler.scheduled-time>", "seller": "A1"}),
        },
    )
    events = local.stack.aws("events")
    events.put_rule(Name="every-30-minutes", ScheduleExpression="rate(30 minutes)")
    events.put_targets(
        Rule="every-30-minutes",
        Targets=[
            {
                "Id": "inbox",
                "Arn": local.stack.queue_arn("AlertsInboxQueue"),
                "Input": '{"tick": true}',
            }
        ],
    )
    events.put_rule(Name="paused", ScheduleExpression="rate(1 minute)", State="DISABLED")

    firings = local.advance(timedelta(hours=5))

    one_time = [f for f in firings if f.schedule == "trial-end-A1"]
    assert [f.at for f in one_time] == [_utc(2025, 1, 1, 4, 30)]  # 05:30 in Berlin
    assert one_time[0].payload == {"at": "2025-01-01T04:30:00Z", "seller": "A1"}
    assert "trial-end-A1" not in {s["Name"] for s in scheduler.list_schedules()["Schedules"]}
    assert len([f for f in firings if f.schedule == "every-30-minutes"]) == 10
    assert not [f for f in firings if f.schedule == "paused"]
    bodies = [json.loads(m["Body"]) for m in receive_all(local, "AlertsInboxQueue")]
    assert bodies == [{"tick": True}] * 10
    later = local.advance(timedelta(hours=20))
    assert later and not [f for f in later if f.schedule == "trial-end-A1"]


def test_failed_lambda_targets_are_retried_like_async_invocations(local: LocalStack) -> None:
    scheduler = local.stack.aws("scheduler")
    scheduler.create_schedule(
        Name="bad-input",
        ScheduleExpression="rate(1 day)",
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={
            "Arn": local.stack.functions["WorkerFunction"].arn,
            "RoleArn": "arn:aws:iam::123456789012:role/scheduler",
            "Input": json.dumps({"Records": [{"messageId": "x", "body": '{"raise": true}'}]}),
        },
    )
    (firing,) = [f for f in local.advance(timedelta(days=1)) if f.schedule == "bad-input"]
    assert len(firing.invocations) == 3
    assert not firing.ok
    assert "asked to raise" in (firing.error or "")


def test_clock_does_not_go_backwards(local: LocalStack) -> None:
    with pytest.raises(ValueError, match="backwards"):
        local.clock.advance_to(_utc(2024, 12, 31))


def test_clock_starts_at_the_current_minute_by_default(local: LocalStack) -> None:
    clock = ScheduleClock(local.stack, local.dispatcher)
    now = datetime.now(UTC)
    assert timedelta(0) <= now - clock.now() < timedelta(minutes=1, seconds=5)
    assert clock.now().second == 0



def test_the_clock_relists_schedules_only_when_moto_holds_different_ones(
    local: LocalStack,
) -> None:
    events = local.stack.aws("events")
    listed: list[str] = []

    def count(**_: object) -> None:
        listed.append("ListEventBuses")  # once per sync (then ListRules per bus)

    events.meta.events.register("before-call.events.ListEventBuses", count)
    try:
        local.advance(timedelta(hours=3))  # template schedules fire; nothing changes
        assert listed == []
        fingerprint = local.clock._fingerprint()
        assert fingerprint is not None
        events.put_rule(Name="hourly", ScheduleExpression="rate(1 hour)")
        assert local.clock._fingerprint() != fingerprint
        events.put_targets(Rule="hourly", Targets=[
            {"Id": "inbox", "Arn": local.stack.queue_arn("AlertsInboxQueue")}])
        firings = local.advance(timedelta(hours=2))
        assert len(listed) == 1  # re-listed once, then unchanged again
        assert len([f for f in firings if f.schedule == "hourly"]) == 2
        events.disable_rule(Name="hourly")
        assert not [f for f in local.advance(timedelta(hours=2)) if f.schedule == "hourly"]
        assert len(listed) == 2
    finally:
        events.meta.events.unregister("before-call.events.ListEventBuses", count)
