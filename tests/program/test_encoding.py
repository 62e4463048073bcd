import pytest

from bot.program.encoding import segments


@pytest.mark.parametrize(
    ("text", "encoding", "count"),
    [
        ("", "GSM-7", 1),
        ("a" * 160, "GSM-7", 1),
        ("a" * 161, "GSM-7", 2),
        ("a" * 306, "GSM-7", 2),
        ("a" * 307, "GSM-7", 3),
        ("€" * 80, "GSM-7", 1),  # extension characters take two septets each
        ("€" * 81, "GSM-7", 2),
        ("Ünete a Acme: ¿Quién? ¡Ya!", "GSM-7", 1),
        ("¡Sí!", "UCS-2", 1),  # í is not in the table (ì is)
        ("a" * 70 + "’", "UCS-2", 2),
        ("’" * 70, "UCS-2", 1),
        ("👟" * 35, "UCS-2", 1),  # an emoji is two UTF-16 units
        ("👟" * 36, "UCS-2", 2),
    ],
)
def test_encoding_and_segments(text: str, encoding: str, count: int) -> None:
    found = segments(text)
    assert (found.encoding, found.segments) == (encoding, count)


def test_the_characters_that_force_ucs2_are_named() -> None:
    found = segments("It’s here! “New” shoes 👟 — ó")
    assert found.ucs2_characters == ("’", "“", "”", "👟", "—", "ó")
    assert "U+2019" in found.describe()


def test_spanish_and_french_accents_outside_the_gsm_table() -> None:
    assert segments("¡Únete!").ucs2_characters == ("Ú",)
    assert segments("Arrêt").ucs2_characters == ("ê",)
    assert segments("Désabonné").encoding == "GSM-7"  # é is in the table
