"""Catalogs complete and never stale; negotiation down the locale chain; locale-aware formatting."""

import re
import string
from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po, write_po

from bot.domain import i18n
from bot.domain.templates import compile_template

LOCALES = i18n.LOCALES_DIR
LANGUAGES = ["en", "es", "fr"]  # en too: an operator may reword smsbot's own English


def catalog(path: Path):  # type: ignore[no-untyped-def]
    with path.open("rb") as f:
        return read_po(f)


def source_messages() -> set[str]:
    root = Path(i18n.__file__).parent
    found = extract_from_file("python", str(root / "replies.py"), keywords={"N_": None})
    return {message for _, message, _, _ in found if isinstance(message, str)}


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def test_the_template_holds_exactly_the_messages_in_the_code() -> None:
    template = {m.id for m in catalog(LOCALES / "messages.pot") if m.id}
    assert template == source_messages(), "run `make catalogs`"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_with_the_same_placeholders(language: str) -> None:
    po = catalog(LOCALES / language / "LC_MESSAGES" / "messages.po")
    for message_id in source_messages():
        entry = po.get(message_id)
        assert entry is not None, f"{language}: missing {message_id!r}; run `make catalogs`"
        assert entry.string and not entry.fuzzy, f"{language}: untranslated {message_id!r}"
        assert placeholders(entry.string) == placeholders(message_id), f"{language}: {entry.string!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_loaded_catalog_is_the_po_file(language: str) -> None:
    po_path = i18n.catalog_path(language)
    loaded = i18n.translations(language)
    for entry in catalog(po_path):
        if entry.id:
            assert loaded.gettext(entry.id) == entry.string


@pytest.mark.parametrize(
    ("wanted", "language"),
    [
        ("es_MX", "es"),
        ("es-MX", "es"),
        ("fr_CA", "fr"),
        ("fr", "fr"),
        ("en_GB", "en"),
        ("de", "en"),
        ("tlh-QO", "en"),
        ("", "en"),
        (None, "en"),
        ("not a locale!", "en"),
    ],
)
def test_negotiation_falls_down_the_locale_chain_to_the_default(wanted: str | None, language: str) -> None:
    assert i18n.negotiate(wanted, "en") == language


def test_the_formatting_locale_takes_the_country_from_the_phone_number() -> None:
    assert i18n.locale_for("fr", "+15145550123") == "fr_CA"
    assert i18n.locale_for("es", "+525512345678") == "es_MX"
    assert i18n.locale_for("en", "+14155550123") == "en_US"
    assert i18n.locale_for("es_MX", "+14155550123") == "es_MX"


def test_a_stored_country_is_used_as_is_without_parsing_the_number() -> None:
    assert i18n.locale_for("fr", "+15145550123", "FR") == "fr_FR"  # the stored country wins
    assert i18n.locale_for("fr", None, "CA") == "fr_CA"


@pytest.mark.parametrize(
    ("locale", "currency", "number", "when", "plural"),
    [
        ("en_US", "$10.00", "1,234.5", "Mar 14, 2026", "1 point / 2 points"),
        ("es_MX", "USD10.00", "1,234.5", "14 mar 2026", "1 punto / 2 puntos"),
        # CLDR's fr_CA currency is "10,00 $ US" (the example wrote "10,00 $US").
        ("fr_CA", "10,00\xa0$\xa0US", "1\xa0234,5", "14 mars 2026", "1 point / 2 points"),
    ],
)
def test_locale_aware_formatting_in_messages(
    locale: str, currency: str, number: str, when: str, plural: str
) -> None:
    template = compile_template(
        '{{ discount | currency("USD") }}|{{ big | number }}|{{ day | date }}|'
        "1 {{ 1 | plural(one, many) }} / 2 {{ 2 | plural(one, many) }}"
    )
    one, many = ("punto", "puntos") if locale.startswith("es") else ("point", "points")
    text = template.render_strict(
        {"locale": locale, "discount": 10, "big": 1234.5, "day": date(2026, 3, 14), "one": one, "many": many}
    )
    got_currency, got_number, got_date, got_plural = text.split("|")
    assert re.sub(r"\s", "\xa0", got_currency) == re.sub(r"\s", "\xa0", currency)
    assert re.sub(r"\s", "\xa0", got_number) == re.sub(r"\s", "\xa0", number)
    assert (got_date, got_plural) == (when, plural)


def test_the_english_catalog_rewords_smsbots_own_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.domain import replies

    english = catalog(i18n.catalog_path("en"))
    english[replies.HELP].string = "{program}: ask {help_contact}. Reply STOP to opt out."
    target = tmp_path / "en" / "LC_MESSAGES" / "messages.po"
    target.parent.mkdir(parents=True)
    with target.open("wb") as f:
        write_po(f, english)
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert (
            i18n.translations("en").gettext(replies.HELP)
            == "{program}: ask {help_contact}. Reply STOP to opt out."
        )
    finally:
        i18n.translations.cache_clear()
