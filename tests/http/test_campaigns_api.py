"""The admin API's campaigns: the same actions as `smsbot campaign`."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN, ADMIN_TOKEN, ClientFactory, Phone

HELLO = """
campaigns:
  hello:
    segment: all_subscribers
    message: 'Acme: winter sale {{ link("https://acme.example/winter") }} Reply STOP to opt out'
"""


@pytest.fixture
async def app(make_client: ClientFactory, keywords_copy: Path) -> Any:
    (keywords_copy / "hello.yaml").write_text(HELLO)
    app = await make_client(admin_token=ADMIN_TOKEN, keywords_dir=keywords_copy)
    for number in ("+14155550100", "+14155550101"):
        await Phone(app, number).text("JOIN")
    return app


async def test_preview_then_send_then_pause_resume_and_cancel(app: Any) -> None:
    preview = await (await app.get("/api/campaigns/hello/preview", headers=ADMIN)).json()
    assert preview["recipients"] == 2 and len(preview["samples"]) == 2
    listed = await (await app.get("/api/campaigns", headers=ADMIN)).json()
    assert [c["latest"] for c in listed["campaigns"] if c["name"] == "hello"] == [None]
    sent = await app.post("/api/campaigns/hello/send", headers=ADMIN)
    assert sent.status == 201 and (await sent.json())["audience"] == 2
    again = await app.post("/api/campaigns/hello/send", headers=ADMIN)
    assert again.status == 409 and "already sent" in (await again.json())["error"]
    for verb, status in (("pause", "paused"), ("resume", "sending"), ("cancel", "cancelled")):
        response = await app.post(f"/api/campaigns/hello/{verb}", headers=ADMIN)
        assert response.status == 200 and (await response.json())["status"] == status
    assert (await app.post("/api/campaigns/hello/resume", headers=ADMIN)).status == 409
    report = await (await app.get("/api/campaigns/hello/report", headers=ADMIN)).json()
    assert (report["recipients"], report["sent"], report["click_rate"]) == (2, 0, None)
    round_two = await app.post("/api/campaigns/hello/send", headers=ADMIN, json={"again": True})
    assert (await round_two.json())["round"] == 2


@pytest.mark.parametrize("body", [b"{", b"[1]", b'"again"', b"\xff\xfe"])
async def test_a_body_that_is_not_a_json_object_is_a_400(app: Any, body: bytes) -> None:
    response = await app.post("/api/campaigns/hello/send", headers=ADMIN, data=body)
    assert response.status == 400


async def test_an_unknown_campaign_is_a_404_and_no_token_a_401(app: Any) -> None:
    assert (await app.get("/api/campaigns/nope", headers=ADMIN)).status == 404
    assert (await app.post("/api/campaigns/nope/send", headers=ADMIN)).status == 404
    assert (await app.post("/api/campaigns/hello/send")).status == 401
    assert (await app.get("/api/campaigns/hello")).status == 401


async def test_status_of_a_campaign_never_sent_is_a_409_saying_so(app: Any) -> None:
    response = await app.get("/api/campaigns/hello", headers=ADMIN)
    assert response.status == 409 and "has not been sent" in (await response.json())["error"]
