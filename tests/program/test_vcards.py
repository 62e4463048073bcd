"""Contact cards: defined in YAML, built as vCard 3.0, served for the carrier to fetch."""

import base64
from pathlib import Path
from typing import Any

import pytest
import vobject

from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS, ClientFactory


async def test_the_card_is_served_as_a_valid_vcard_with_its_logo(make_client: ClientFactory) -> None:
    app: Any = await make_client()
    response = await app.get("/vcards/acme.vcf")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/vcard; charset=utf-8"
    card = vobject.readOne(await response.text())
    assert card.version.value == "3.0" and card.fn.value == "Acme Outfitters"
    assert card.org.value == ["Acme Outfitters Inc."]
    assert card.tel.value == "+15005550006" and card.email.value == "hello@acme.example"
    assert card.url.value == "https://acme.example"
    photo = card.photo.value
    logo = (KEYWORDS / "acme-logo.png").read_bytes()
    assert (photo if isinstance(photo, bytes) else base64.b64decode(photo)) == logo


async def test_an_unknown_card_is_404(make_client: ClientFactory) -> None:
    app: Any = await make_client()
    assert (await app.get("/vcards/nobody.vcf")).status == 404


@pytest.mark.parametrize(
    ("card", "line", "says"),
    [
        (
            "  acme:\n    name: Acme\n    phones: ['555-0100']\n",
            4,
            "'555-0100' is not a +country phone number",
        ),
        ("  shop:\n    name: Acme\n    logo: missing.png\n", 4, "logo 'missing.png' not found"),
        ("  Acme Shop:\n    name: Acme\n", 2, "use lowercase letters"),
        ("  shop:\n    name: Acme\n    email: not-an-email\n", 4, "contact_cards.shop.email"),
    ],
)
def test_check_names_a_broken_card_with_its_line(
    keywords_copy: Path, card: str, line: int, says: str
) -> None:
    folder = keywords_copy
    (folder / "cards.yaml").write_text("contact_cards:\n" + card)
    with pytest.raises(FileProblems) as caught:
        load_program(folder)
    errors = [str(p) for p in caught.value.problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].startswith(f"{folder}/cards.yaml:{line}:") and says in errors[0]
