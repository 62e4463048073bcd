import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT
from tests.test_chat import chat_from_a_pipe


def smsbot(
    *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:

    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def chatted(script: str, tmp_path: Path, database_url: str) -> dict[str, str]:
    """+14155550123 texts `script` through `smsbot chat` (embedded Redis); the environment that
    reaches the same database."""
    chat = chat_from_a_pipe(script, tmp_path, database_url, redis_url="")  # "": embedded Redis
    assert chat.returncode == 0, chat.stderr
    return {"DATABASE_URL": database_url, "SMSBOT_DATA_DIR": str(tmp_path / "var")}


def test_check_passes_on_the_shipped_program() -> None:
    result = smsbot("check")
    assert result.returncode == 0, result.stderr
    assert "0 errors" in result.stdout


def test_check_fails_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "keywords").mkdir()
    (tmp_path / "keywords" / "p.yaml").write_text(
        "program:\n  name: A\n  brand: B\n  help_contact: C\nkeywords:\n  HELP: {}\n"
    )
    (tmp_path / "config.yaml").write_text("keywords: keywords\n")
    result = smsbot("check", "--config", str(tmp_path / "config.yaml"))
    assert result.returncode == 1
    assert f"{tmp_path}/keywords/p.yaml:6: HELP: 'HELP' is reserved" in result.stderr
    as_json = smsbot("check", "--json", "--config", str(tmp_path / "config.yaml"))
    assert as_json.returncode == 1 and '"line": 6' in as_json.stdout


def test_check_reports_a_broken_config_file(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("server:\n  port: -3\n")
    result = smsbot("check", "--config", str(tmp_path / "config.yaml"))
    assert (
        result.returncode == 1 and f"{tmp_path}/config.yaml:2: server.port" in result.stdout + result.stderr
    )


def test_db_upgrade_creates_the_schema(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "x.db"
    result = smsbot("db", "upgrade", env={"DATABASE_URL": f"sqlite:///{db}"})
    assert result.returncode == 0, result.stderr
    tables = {
        row[0] for row in sqlite3.connect(db).execute("select name from sqlite_master where type='table'")
    }
    assert {"subscribers", "consent_events", "messages", "alembic_version"} <= tables


def test_serve_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    result = smsbot(
        "serve", "--host", "0.0.0.0", env={"SMSBOT_DATA_DIR": str(tmp_path), "TWILIO_AUTH_TOKEN": ""}
    )
    assert result.returncode == 2 and "refusing to listen on 0.0.0.0" in result.stderr


def test_segments_lists_each_segment_with_its_live_count(tmp_path: Path, database_url: str) -> None:
    env = chatted("JOIN\n", tmp_path, database_url)
    result = smsbot("segments", env=env)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split()[1:] for line in result.stdout.splitlines()[1:]}
    assert (
        rows["all_subscribers"] == ["1", "1"]
        and rows["texted_join"] == ["1", "1"]
        and rows["vip"] == ["0", "0"]
    )


def test_subscriber_export_prints_everything_held_about_the_number(tmp_path: Path, database_url: str) -> None:
    env = chatted("JOIN\nAna\n", tmp_path, database_url)
    result = smsbot("subscriber", "export", "14155550123", env=env)  # the + is easy to lose
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["subscriber"]["properties"]["first_name"] == "Ana"
    assert [m["body"] for m in document["messages"] if m["direction"] == "inbound"] == ["JOIN", "Ana"]
    out = tmp_path / "ana.json"
    written = smsbot("subscriber", "export", "+14155550123", "--out", str(out), env=env)
    again = json.loads(out.read_text())
    assert written.returncode == 0 and {**again, "exported_at": ""} == {**document, "exported_at": ""}
    nobody = smsbot("subscriber", "export", "+14155550100", env=env)
    assert nobody.returncode == 1 and "nothing is held about +14155550100" in nobody.stderr


def test_subscribers_import_names_bad_rows_then_imports_and_erase_suppresses(
    tmp_path: Path, database_url: str
) -> None:
    env = chatted("JOIN\nAna\n", tmp_path, database_url)
    listing = tmp_path / "old.csv"
    listing.write_text("Phone Number,SMS Status,First Name\n+14155550124,subscribed,Ben\n+1415,yes,Cy\n")
    refused = smsbot("subscribers", "import", str(listing), env=env)
    assert (
        refused.returncode == 1 and "line 3: phone: '+1415' is not a possible phone number" in refused.stderr
    )
    assert "nothing imported: 1 of 2 rows are bad" in refused.stdout
    taken = smsbot("subscribers", "import", str(listing), "--skip-bad", "--json", env=env)
    assert taken.returncode == 0, taken.stderr
    assert (json.loads(taken.stdout)["created"], json.loads(taken.stdout)["bad"]) == (1, 1)
    erased = smsbot("subscriber", "erase", "+14155550123", "--reason", "asked", "--yes", env=env)
    assert erased.returncode == 0, erased.stderr
    assert "erased +14*******23" in erased.stdout
    export = smsbot("subscriber", "export", "+14155550123", env=env)
    assert export.returncode == 1  # nothing held any more
    listing.write_text("phone\n+14155550123\n")
    again = smsbot("subscribers", "import", str(listing), "--status", "subscribed", "--json", env=env)
    assert json.loads(again.stdout)["erased"] == 1


def test_subscribers_import_of_a_long_list_says_where_a_bad_row_stopped_it_and_running_it_again_finishes(
    tmp_path: Path, database_url: str
) -> None:
    env = chatted("JOIN\n", tmp_path, database_url)
    rows = [f"+1415{2_000_000 + i:07d},subscribed\n" for i in range(7_000)]
    rows[6_000] = "+1415,subscribed\n"  # line 6,002
    listing = tmp_path / "long.csv"
    listing.write_text("phone,status\n" + "".join(rows))
    stopped = smsbot("subscribers", "import", str(listing), env=env)
    assert stopped.returncode == 1 and "line 6002: phone: '+1415' is not a possible" in stopped.stderr
    assert (
        "stopped at line 6002: 1 of 7000 rows are bad. Lines 2-5001 were imported (5000 new" in stopped.stdout
    )
    rows[6_000] = "+14152006000,subscribed\n"
    listing.write_text("phone,status\n" + "".join(rows))
    finished = smsbot("subscribers", "import", str(listing), "--json", env=env)
    assert finished.returncode == 0, finished.stderr
    report = json.loads(finished.stdout)
    assert (report["created"], report["unchanged"], report["through_line"]) == (2_000, 5_000, 7_001)
