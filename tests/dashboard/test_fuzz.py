"""Whatever a logged-in browser (or a tampered link) asks of the dashboard's pages, the answer is a
page or a 4xx, never a server error."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.conftest import Phone
from tests.http.test_fuzz import awkward, collect, text

PAGES = [
    "/dashboard",
    "/dashboard/keywords",
    "/dashboard/flows",
    "/dashboard/segments",
    "/dashboard/subscribers",
    "/dashboard/campaigns",
    "/dashboard/inbox",
    "/dashboard/inbox/changes",
    "/dashboard/users",
    "/dashboard/account",
    "/dashboard/audit",
]
DATES = st.one_of(text, st.dates().map(str), st.sampled_from(["0001-01-01", "9999-12-31", "2026-02-30"]))


@st.composite
def asked(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    kind = draw(st.sampled_from(["query", "name"]))
    if kind == "name":  # a segment, campaign, keyword or poster that may not exist
        name = quote(draw(text), safe="")
        where = draw(
            st.sampled_from(
                ["segments/{}", "campaigns/{}", "keywords/{}/qr.png", "segments/{}/x", "inbox/{}"]
            )
        )
        return f"/dashboard/{where.format(name)}", {}
    params = {
        key: draw(
            st.one_of(
                text, DATES, st.sampled_from(["7", "custom", "week", "1", "99999999999999999999", "²", "١٢"])
            )
        )
        for key in draw(
            st.sets(
                st.sampled_from(
                    [
                        "period",
                        "by",
                        "start",
                        "end",
                        "phone",
                        "id",
                        "status",
                        "page",
                        "mine",
                        "conversation",
                        "user",
                    ]
                )
            )
        )
    }
    return draw(st.sampled_from(PAGES)), {k: v for k, v in params.items() if "\x00" not in v}


async def test_no_query_or_name_makes_a_server_error(app: Any) -> None:
    for path, params in collect(asked()):
        response = await app.get(path, params=params, allow_redirects=False)
        assert response.status < 500, (path, params, await response.text())


@st.composite
def posted(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A form to one of the actions an admin may take, with whatever fields and values."""
    name = quote(draw(st.one_of(awkward, st.sampled_from(["1", "9" * 25, "ada"]))), safe="")
    path = draw(
        st.sampled_from(
            [
                "/dashboard/users",
                f"/dashboard/users/{name}/role",
                f"/dashboard/users/{name}/password",
                f"/dashboard/users/{name}/remove",
                f"/dashboard/users/{name}/second-factor-off",
                "/dashboard/inbox/1/answer",
                "/dashboard/inbox/1/assign",
                "/dashboard/inbox/1/close",
                "/dashboard/inbox/1/reopen",
                "/dashboard/account/password",
                "/dashboard/account/second-factor/confirm",
                "/dashboard/account/second-factor/off",
            ]
        )
    )
    keys = draw(
        st.sets(
            st.sampled_from(["name", "role", "password", "body", "to", "code", "current", "new", "confirm"])
        )
    )
    return path, {key: draw(awkward) for key in keys}  # a NUL too: PostgreSQL must never see one


async def test_no_form_to_an_admins_action_makes_a_server_error(app: Any) -> None:
    await Phone(app).text("a question for a person")  # conversation 1
    token = re.search(r'name="csrf" value="([^"]+)"', await (await app.get("/dashboard/users")).text())
    assert token is not None
    for path, form in collect(posted()):
        response = await app.post(path, data={**form, "csrf": token.group(1)}, allow_redirects=False)
        assert response.status < 500, (path, form, await response.text())
