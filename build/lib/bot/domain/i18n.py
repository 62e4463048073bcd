"""Languages: gettext catalogs from locales/, negotiation down the locale chain, formatting.

Catalogs are compiled by `make` (pybabel compile); a language without a catalog falls back to the
program's default, and a language Babel does not know at all (a typo in a profile property) too.
"""

from __future__ import annotations

import gettext
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.support import Translations

from bot.domain.phones import region_of

LOCALES_DIR = Path(__file__).resolve().parents[2] / "locales"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"  # the language the messages are written in


@lru_cache(maxsize=1)
def available() -> tuple[str, ...]:
    """Languages with a catalog, plus the source language."""
    found = {SOURCE_LANGUAGE}
    if LOCALES_DIR.is_dir():
        found |= {p.parent.parent.name for p in LOCALES_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po")}
    return tuple(sorted(found))


@lru_cache(maxsize=64)
def translations(language: str) -> gettext.NullTranslations:
    if language == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    return Translations.load(str(LOCALES_DIR), [language], DOMAIN)


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


@lru_cache(maxsize=4096)
def locale_for(language: str, phone: str | None = None) -> str:
    """A formatting locale: the language with the phone number's country (fr + a +1 514 number -> fr_CA)."""
    base = _parse(language) or Locale.parse(SOURCE_LANGUAGE)
    if base.territory is None and phone:
        region = region_of(phone)
        if region:
            candidate = _parse(f"{base.language}_{region}")
            if candidate is not None:
                return str(candidate)
    return str(base)
