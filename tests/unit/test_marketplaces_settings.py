import pytest

from functions.core.marketplaces import (
    SPAPI_ENDPOINTS,
    Region,
    UnknownMarketplace,
    marketplace,
)
from functions.core.settings import ConfigurationError, TablesConfig, load_settings


@pytest.mark.parametrize(
    ("marketplace_id", "region", "currency"),
    [
        ("ATVPDKIKX0DER", Region.NORTH_AMERICA, "USD"),
        ("A1PA6795UKMFR9", Region.EUROPE, "EUR"),
        ("A1F83G8C2ARO7P", Region.EUROPE, "GBP"),
        ("A1VC38T7YXB528", Region.FAR_EAST, "JPY"),
        ("A2Q3Y263D00KWC", Region.NORTH_AMERICA, "BRL"),
    ],
)
def test_marketplace_region_and_currency(marketplace_id, region, currency):
    m = marketplace(marketplace_id)
    assert m.region is region
    assert m.currency == currency
    assert m.endpoint == SPAPI_ENDPOINTS[region]


def test_unknown_marketplace_names_the_id():
    with pytest.raises(UnknownMarketplace, match="XYZ"):
        marketplace("XYZ")


def test_settings_name_every_missing_variable(monkeypatch):
    for name in ("ACCOUNTS_TABLE", "LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCOUNTS_TABLE", "accounts")
    with pytest.raises(ConfigurationError) as error:
        load_settings(TablesConfig)
    message = str(error.value)
    for name in ("LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE"):
        assert name in message
    assert "ACCOUNTS_TABLE" not in message


def test_settings_read_from_environment(monkeypatch):
    for name in ("ACCOUNTS_TABLE", "LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE"):
        monkeypatch.setenv(name, name.lower())
    config = load_settings(TablesConfig)
    assert config.listings_table == "listings_table"


def test_installed_clock_is_what_everyone_reads():
    from datetime import UTC, datetime

    from functions.core import clock
    from functions.core.repositories.dynamo import utc_now as repo_now

    frozen = datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    with clock.clock_installed(lambda: frozen):
        assert clock.utc_now() == frozen
        assert repo_now() == frozen
    assert clock.utc_now().year != 2030
    with clock.clock_installed(lambda: datetime(2030, 1, 1)), pytest.raises(ValueError):
        clock.utc_now()


def test_sleep_on_an_installed_clock_moves_simulated_time_not_real_time():
    import time as real_time
    from datetime import UTC, datetime, timedelta

    from functions.core import clock

    moments = [datetime(2030, 1, 1, tzinfo=UTC)]

    def skip(seconds):
        moments[0] += timedelta(seconds=seconds)

    with clock.clock_installed(lambda: moments[0], skip):
        before_real, before_sim = real_time.monotonic(), clock.monotonic()
        clock.sleep(3600)
        assert clock.monotonic() - before_sim == 3600
        assert real_time.monotonic() - before_real < 1
    assert clock.utc_now().year != 2030


def test_cached_settings_follow_the_variables_their_class_reads(monkeypatch):
    from functions.core.settings import cached_settings

    cached_settings.cache_clear()
    for name in ("ACCOUNTS_TABLE", "LISTINGS_TABLE", "PRICE_HISTORY_TABLE", "CLAIMS_TABLE"):
        monkeypatch.setenv(name, name.lower())
    first = cached_settings(TablesConfig)
    monkeypatch.setenv("UNRELATED_VARIABLE", "x")  # not read by TablesConfig: same object
    assert cached_settings(TablesConfig) is first
    monkeypatch.setenv("LISTINGS_TABLE", "other-listings")
    other = cached_settings(TablesConfig)
    assert other.listings_table == "other-listings"
    monkeypatch.setenv("LISTINGS_TABLE", "listings_table")  # that environment again
    assert cached_settings(TablesConfig) is first
    cached_settings.cache_clear()
    assert cached_settings(TablesConfig) is not first
