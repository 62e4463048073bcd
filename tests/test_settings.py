from pathlib import Path

import pytest

from bot.program.yamlfile import FileProblems
from bot.settings import load_settings
from tests.conftest import ROOT


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path


def test_shipped_config_loads_with_embedded_defaults(tmp_path: Path) -> None:
    settings = load_settings(ROOT / "config.yaml", env={})
    assert settings.port == 8080 and settings.host == "127.0.0.1"
    assert settings.redis_url is None  # embedded
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("var/smsbot.db")
    assert not settings.signatures_required


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": "postgresql://u@db/smsbot",
        "REDIS_URL": "redis://r:6379/2",
        "SMSBOT_DATA_DIR": str(tmp_path),
        "TWILIO_AUTH_TOKEN": "tok",
        "SMSBOT_PUBLIC_URL": "https://sms.example.com/",
        "SMSBOT_ADMIN_TOKEN": "adm",
    }
    settings = load_settings(ROOT / "config.yaml", env=env)
    assert settings.database_url == "postgresql://u@db/smsbot" and settings.redis_url == "redis://r:6379/2"
    assert settings.data_dir == tmp_path and settings.public_url == "https://sms.example.com"
    assert settings.signatures_required and settings.admin_token == "adm"
    assert "tok" not in repr(settings) and "adm" not in repr(settings)


def test_a_wrong_setting_is_named_with_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "keywords: keywords\nserver:\n  host: 127.0.0.1\n  port: eighty\n")
    with pytest.raises(FileProblems) as caught:
        load_settings(path, env={})
    [problem] = caught.value.problems
    assert str(problem).startswith(f"{path}:4: server.port")


def test_a_misspelt_setting_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  prot: 8080\n")
    with pytest.raises(FileProblems) as caught:
        load_settings(path, env={})
    assert f"{path}:2: server.prot: is not a known setting" in str(caught.value)


def test_secrets_in_the_file_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 8080\ntwilio:\n  auth_token: abc123\n")
    with pytest.raises(FileProblems) as caught:
        load_settings(path, env={})
    assert f"{path}:4: twilio.auth_token: secrets are not read from files" in str(caught.value)


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  port: 8080\n  host: [unclosed\n")
    with pytest.raises(FileProblems) as caught:
        load_settings(path, env={})
    assert str(caught.value).startswith(f"{path}:")
    assert "YAML syntax" in str(caught.value)


def test_a_malformed_worker_count_is_a_clear_error() -> None:
    for wrong in ("two", "²"):  # a superscript two is a digit to Python, and no number to int()
        with pytest.raises(FileProblems, match=f"SMSBOT_WORKERS:1: '{wrong}': expected a whole number"):
            load_settings(ROOT / "config.yaml", env={"SMSBOT_WORKERS": wrong})
    assert load_settings(ROOT / "config.yaml", env={"SMSBOT_WORKERS": "3"}).web_processes == 3


def test_public_url_must_be_a_url(tmp_path: Path) -> None:
    with pytest.raises(FileProblems):
        load_settings(ROOT / "config.yaml", env={"SMSBOT_PUBLIC_URL": "sms.example.com"})


def test_trusted_proxies_are_networks_and_a_wrong_one_is_named(tmp_path: Path) -> None:
    path = write(tmp_path, "server:\n  trusted_proxies: [10.0.0.0/8, 192.168.1.5]\n")
    found = load_settings(path, env={}).trusted_proxies
    assert [str(network) for network in found] == ["10.0.0.0/8", "192.168.1.5/32"]
    wrong = write(tmp_path, "server:\n  trusted_proxies:\n    - 10.0.0.0/8\n    - the load balancer\n")
    with pytest.raises(FileProblems) as caught:
        load_settings(wrong, env={})
    assert str(caught.value.problems[0]).startswith(f"{wrong}:4: server.trusted_proxies")


def test_message_bodies_are_kept_as_long_as_the_database_unless_privacy_says(tmp_path: Path) -> None:
    assert load_settings(write(tmp_path, "server:\n  port: 8080\n"), env={}).keep_messages_days is None
    kept = load_settings(write(tmp_path, "privacy:\n  keep_messages_days: 30\n"), env={})
    assert kept.keep_messages_days == 30
    with pytest.raises(FileProblems) as caught:
        load_settings(write(tmp_path, "privacy:\n  keep_messages_days: 0\n"), env={})
    assert "privacy.keep_messages_days" in str(caught.value)
