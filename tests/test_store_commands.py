"""`smsbot events import`: a store's events from a file, stored as the API stores them; a wrong item
names its line and stores nothing."""

import json
from pathlib import Path

from sqlalchemy import create_engine, func, select

from bot.store.schema import store_events
from tests.conftest import ROOT
from tests.test_cli import smsbot


def event(n: int, **changes: object) -> dict[str, object]:
    return {
        "id": f"o-{n}",
        "phone": f"(415) 555-01{n:02d}",
        "type": "order_placed",
        "occurred_at": "2026-11-26T10:00:00-05:00",
        "properties": {"order_id": n, "total_price": "19.99", "currency": "USD"},
        **changes,
    }


def stored(db: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    with engine.connect() as conn:
        found = int(conn.execute(select(func.count()).select_from(store_events)).scalar_one())
    engine.dispose()
    return found


def test_events_import_stores_json_lines_once(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    events = tmp_path / "orders.jsonl"
    events.write_text("".join(json.dumps(event(n)) + "\n" for n in range(3)))
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    first = smsbot("events", "import", str(events), env=env)
    assert first.returncode == 0, first.stderr
    assert "3 stored, 0 already stored, 3 of customers who are not subscribers" in first.stdout
    again = smsbot("events", "import", str(events), "--json", env=env)
    assert json.loads(again.stdout) == {
        "stored": 0,
        "repeated": 3,
        "customers": 3,
        "attributed": 0,
        "automations_started": 0,
        "automations_not_started": {},
    }
    assert stored(db) == 3


def test_events_import_names_each_wrong_line_and_stores_nothing(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    events = tmp_path / "orders.json"
    events.write_text(
        json.dumps({"events": [event(1), event(2, phone="call me"), event(3, occurred_at="soon")]})
    )
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert smsbot("db", "upgrade", env=env).returncode == 0
    result = smsbot("events", "import", str(events), env=env)
    assert result.returncode == 1
    assert f"{events}:2: phone: 'call me' has letters in it" in result.stderr
    assert f"{events}:3: occurred_at: " in result.stderr
    assert "2 events are wrong: nothing stored" in result.stderr
    assert stored(db) == 0


def test_flow_report_refuses_an_unknown_flow(tmp_path: Path) -> None:
    result = smsbot("flow", "report", "nothing", env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode == 1 and "no flow nothing" in result.stderr


def test_poster_writes_the_poster_and_qr_codes(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"keywords: {ROOT / 'keywords'}\nposters:\n  number: '55555'\n")
    out = tmp_path / "posters"
    result = smsbot("poster", "join", "--out", str(out), "--config", str(tmp_path / "config.yaml"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "sms:55555?&body=JOIN"
    assert sorted(p.name for p in out.iterdir()) == ["JOIN-poster.svg", "JOIN-qr.png", "JOIN-qr.svg"]
    assert b"Text JOIN to 55555" in (out / "JOIN-poster.svg").read_bytes()


def test_poster_without_a_number_says_what_to_set(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(f"keywords: {ROOT / 'keywords'}\n")
    result = smsbot("poster", "JOIN", "--out", str(tmp_path), "--config", str(tmp_path / "config.yaml"))
    assert result.returncode == 1 and "posters.number" in result.stderr
