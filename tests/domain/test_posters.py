"""Keyword posters: the sms: link, its QR code (decoded back with a real decoder), and the printable
poster's call to action and disclosure."""

import io
from html import escape

import pytest
import zxingcpp
from PIL import Image

from bot.domain.posters import PosterProblem, disclosure, poster
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program


@pytest.mark.parametrize(
    ("number", "link"), [("+15555550100", "sms:+15555550100?&body=JOIN"), ("55555", "sms:55555?&body=JOIN")]
)
def test_the_link_opens_the_messages_app_with_the_keyword_filled_in(number: str, link: str) -> None:
    assert poster(PROGRAM.keywords["JOIN"], number).link == link


def test_the_qr_code_decodes_to_the_link() -> None:
    made = poster(PROGRAM.keywords["JOIN"], "55555")
    [found] = zxingcpp.read_barcodes(Image.open(io.BytesIO(made.qr_png())))
    assert found.text == "sms:55555?&body=JOIN"
    assert made.qr_svg().startswith(b"<?xml") and b"<svg" in made.qr_svg()


def test_the_poster_says_the_call_to_action_and_the_disclosure() -> None:
    svg = poster(PROGRAM.keywords["JOIN"], "55555").poster_svg(PROGRAM.info).decode()
    assert "Text JOIN to 55555" in svg and PROGRAM.info.name in svg
    for line in disclosure(PROGRAM.info, "JOIN"):
        assert line.replace("&", "&amp;") in svg
    assert "Msg &amp; data rates may apply" in svg and "STOP to cancel" in svg


@pytest.mark.parametrize("number", [None, "", "call us", "+0123"])
def test_a_poster_needs_the_number_people_text(number: str | None) -> None:
    with pytest.raises(PosterProblem, match=r"posters\.number"):
        poster(PROGRAM.keywords["JOIN"], number)


def test_a_spanish_keywords_poster_speaks_spanish() -> None:
    unete = PROGRAM.keywords["UNETE"]
    assert unete.language == "es"
    svg = poster(unete, "55555").poster_svg(PROGRAM.info).decode()
    assert "Envía UNETE al 55555" in svg and "Escanea para abrir tus mensajes" in svg
    for line in disclosure(PROGRAM.info, "UNETE", "es"):
        assert escape(line) in svg
    assert "ALTO para cancelar" in svg and "Text UNETE" not in svg
    spanish = PROGRAM.info.context("es")
    assert escape(spanish["program"]) in svg and escape(spanish["frequency"]) in svg
