"""Settings parsing: durations, quiet hours, admin ids; one clear line per bad setting."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.settings import SettingsError, load_settings, parse_admin_ids, parse_durations, parse_quiet_hours


def test_defaults_are_the_embedded_setup(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "TIMEZONE", "TELEGRAM_BOT_TOKEN", "MATRIX_HOMESERVER"):
        monkeypatch.delenv(name, raising=False)
    s = load_settings(_env_file=None)
    assert s.database_url.startswith("sqlite:///") and s.timezone == "Europe/Berlin"
    assert s.lead_times == (dt.timedelta(days=7), dt.timedelta(days=1))
    assert s.quiet == (dt.time(21), dt.time(8))
    assert not s.telegram_enabled and not s.matrix_enabled


def test_durations_quiet_hours_and_admins_parse() -> None:
    assert parse_durations("2h, 7d,1d") == (dt.timedelta(days=7), dt.timedelta(days=1), dt.timedelta(hours=2))
    assert parse_quiet_hours("") is None
    assert parse_quiet_hours("22:30-06:00") == (dt.time(22, 30), dt.time(6))
    assert parse_admin_ids("telegram:123, matrix:@ann:example.org") == {
        ("telegram", "123"),
        ("matrix", "@ann:example.org"),
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reminder_lead_times", "0d"),
        ("quiet_hours", "25:00-08:00"),
        ("admin_ids", "icq:123"),
        ("admin_ids", "telegram:4711,telegram:-1001234567890"),  # a group: every member would be admin
        ("admin_ids", "matrix:!abcdef:example.org"),  # a room, not a person
        ("telegram_api_base_url", "api.telegram.org"),
        ("telegram_webhook_port", "70000"),
    ],
)
def test_bad_values_raise_one_line_naming_the_setting(field: str, value: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None, **{field: value})
    assert field.upper() in str(err.value) and "\n" not in str(err.value)


def test_env_example_documents_every_setting_and_loads() -> None:
    import re
    from pathlib import Path

    from bot.settings import Settings

    text = (Path(__file__).resolve().parents[1] / ".env.example").read_text(encoding="utf-8")
    missing = [n.upper() for n in Settings.model_fields if not re.search(rf"^{n.upper()}=", text, re.M)]
    assert missing == []
    load_settings(_env_file=str(Path(__file__).resolve().parents[1] / ".env.example"))


def test_features_get_the_operators_settings_and_the_same_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.app import feature_settings
    from handlers.feature_settings import FeatureSettings

    for name in ("TIMEZONE", "REMINDER_LEAD_TIMES", "QUIET_HOURS", "ADMIN_IDS", "FLOOD_MAX_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    # an operator who sets nothing gets what a feature assumes without configuration
    assert feature_settings(load_settings(_env_file=None)) == FeatureSettings()
    view = feature_settings(
        load_settings(
            _env_file=None,
            timezone="Europe/Lisbon",
            reminder_lead_times="2h",
            quiet_hours="",
            admin_ids="matrix:@ann:example.org",
            privacy_contact="dsb@example.org",
        )
    )
    assert view.tz.key == "Europe/Lisbon" and view.lead_times == (dt.timedelta(hours=2),)
    assert view.quiet is None and view.admins == {("matrix", "@ann:example.org")}
    assert view.privacy_contact == "dsb@example.org"


def test_admin_ids_accept_exactly_the_registered_transports() -> None:
    from bot.transports import TRANSPORTS

    person = {"telegram": "4711", "matrix": "@ann:example.org", "console": "ann"}
    assert {spec.name for spec in TRANSPORTS} == set(person)
    for spec in TRANSPORTS:
        assert parse_admin_ids(f"{spec.name}:{person[spec.name]}") == {(spec.name, person[spec.name])}
    with pytest.raises(ValueError):
        parse_admin_ids("signal:+49123")


def test_a_developers_env_file_and_environment_do_not_reach_the_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The autouse fixture in conftest: a bad .env in cwd and stray variables leave the defaults intact."""
    from bot.settings import Settings
    from tests.conftest import isolate_settings

    dotenv = "REMINDER_LEAD_TIMES=0d\nTELEGRAM_BOT_TOKEN=123:from-dotenv\nADMIN_IDS=telegram:666\n"
    (tmp_path / ".env").write_text(dotenv, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://stray@nowhere/db")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:from-environment")
    isolate_settings(monkeypatch)  # what the autouse fixture did before this test set its variables
    for settings in (Settings(), load_settings()):
        assert settings.database_url.startswith("sqlite:///")
        assert settings.lead_times == (dt.timedelta(days=7), dt.timedelta(days=1))
        assert not settings.telegram_enabled and not settings.admin_ids
