"""Whatever a logged-in browser (or a tampered link) asks of the dashboard's pages, the answer is a
page or a 4xx, never a server error."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

from tests.http.test_fuzz import collect, text

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
