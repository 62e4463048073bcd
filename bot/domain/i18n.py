"""Languages: gettext catalogs from locales/, negotiation down the locale chain, formatting.

The catalogs' source is the top-level `locales/`; a wheel carries them as `bot/locales/`. They ship
as `.po` files and are compiled in memory when first used, so
every install speaks every language it has a catalog for (no build step to forget). A language
without a catalog falls back to the program's default, and a language Babel does not know at all
(a typo in a profile property) too; `smsbot check` refuses a program language without a catalog.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.domain.phones import region_of


def _locales_dir() -> Path:
    """bot/locales/ in an installed wheel; the source tree's locales/ otherwise (a checkout, `make`,
    an editable install)."""
    packaged = Path(__file__).resolve().parent.parent / "locales"
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "locales"


LOCALES_DIR = _locales_dir()
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language the messages are written in


def catalog_path(language: str) -> Path:
    return LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """Languages with a catalog, plus the source language (its messages are written in the code)."""
    found = {SOURCE_LANGUAGE}
    if LOCALES_DIR.is_dir():
        found |= {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found))


@lru_cache(maxsize=64)
def translations(language: str) -> gettext.NullTranslations:
    """The language's catalog, compiled from its `.po` file; none (the code's own words) without one."""
    path = catalog_path(language)
    if not path.is_file():
        return gettext.NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=language)
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled, DOMAIN)


def _parse(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.strip().replace("-", "_"))
    except (ValueError, TypeError, UnknownLocaleError):
        return None


@lru_cache(maxsize=1024)
def negotiate(preferred: str | None, default: str) -> str:
    """The catalog language for `preferred` (es_MX -> es), else `default`, else English."""
    for wanted in (preferred, default):
        if not wanted:
            continue
        locale = _parse(wanted)
        if locale is None:
            continue
        found = negotiate_locale([str(locale), locale.language], available(), sep="_")
        if found:
            return str(found)
    return SOURCE_LANGUAGE


def locale_for(language: str, phone: str | None = None, country: str | None = None) -> str:
    """A formatting locale: the language with the phone number's country (fr + a +1 514 number ->
    fr_CA). `country`, when the caller has it stored, spares parsing the number (tens of µs)."""
    return _locale_in(language, country or (region_of(phone) if phone else None))


@lru_cache(maxsize=4096)  # languages x countries: small, and every subscriber shares it
def _locale_in(language: str, region: str | None) -> str:
    base = _parse(language) or Locale.parse(SOURCE_LANGUAGE)
    if base.territory is None and region:
        candidate = _parse(f"{base.language}_{region}")
        if candidate is not None:
            return str(candidate)
    return str(base)
