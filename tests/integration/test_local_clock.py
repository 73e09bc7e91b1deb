"""The local stack's schedule clock is the clock handlers read."""


def test_handlers_see_the_stacks_simulated_clock():
    from datetime import UTC, datetime, timedelta

    from functions.core.clock import utc_now
    from infra.local import in_process

    start = datetime(2031, 5, 6, 7, 0, tzinfo=UTC)
    with in_process(clock_start=start) as local:
        assert utc_now() == start
        local.advance(timedelta(hours=2))
        assert utc_now() == start + timedelta(hours=2)
    assert utc_now().year != 2031
