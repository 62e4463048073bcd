"""The brand's contact card (vCard 3.0), so the next texts come from a "known sender"."""

from __future__ import annotations

import mimetypes
import re
from pathlib import Path

import vobject

from bot.domain.inbound import BadInbound
from bot.domain.model import ContactCard
from bot.domain.phones import to_e164
from bot.program.context import Compiling, Loc
from bot.program.schema import ContactCardSection
from bot.program.yamlfile import YamlDoc

_KEY = re.compile(r"[a-z0-9][a-z0-9_-]*")


def compile_card(
    c: Compiling, doc: YamlDoc, key: str, card: ContactCardSection, cards: dict[str, ContactCard]
) -> ContactCard | None:
    """A contact card from the YAML, or None with the reasons reported."""
    loc: Loc = ["contact_cards", key]
    if key in cards:
        c.error(doc, loc, f"contact card {key} is defined twice")
        return None
    if not _KEY.fullmatch(key):
        c.error(doc, loc, f"contact card {key!r}: use lowercase letters, digits, - and _ (it is in its URL)")
        return None
    phones = []
    for i, number in enumerate(card.phones):
        try:
            phones.append(to_e164(number))
        except BadInbound:
            c.error(
                doc, [*loc, "phones", i], f"contact card {key}: {number!r} is not a +country phone number"
            )
    if len(phones) != len(card.phones):
        return None
    logo: Path | str | None = card.logo
    if card.logo and not re.match(r"^https?://", card.logo):
        logo = (doc.path.parent / card.logo).resolve()
        if not logo.is_file():
            c.error(
                doc,
                [*loc, "logo"],
                f"contact card {key}: logo {card.logo!r} not found beside {doc.path.name}",
            )
            return None
    return build(
        key,
        full_name=card.name,
        organisation=card.organisation,
        phones=phones,
        email=card.email,
        url=card.url,
        logo=logo,
    )


def build(
    key: str,
    *,
    full_name: str,
    organisation: str | None = None,
    phones: list[str] | None = None,
    email: str | None = None,
    url: str | None = None,
    logo: Path | str | None = None,
) -> ContactCard:
    card = vobject.vCard()
    card.add("version").value = "3.0"
    card.add("fn").value = full_name
    card.add("n").value = vobject.vcard.Name(family=full_name)
    if organisation:
        card.add("org").value = [organisation]
    for number in phones or []:
        tel = card.add("tel")
        tel.value = number
        tel.type_param = "WORK"
    if email:
        mail = card.add("email")
        mail.value = email
        mail.type_param = "INTERNET"
    if url:
        card.add("url").value = url
    if isinstance(logo, Path):
        photo = card.add("photo")
        photo.value = logo.read_bytes()
        photo.encoding_param = "b"
        kind = (mimetypes.guess_type(logo.name)[0] or "image/png").split("/")[1].upper()
        photo.type_param = "JPEG" if kind == "JPEG" else kind
    elif isinstance(logo, str):
        photo = card.add("photo")
        photo.value = logo
        photo.value_param = "URI"
    return ContactCard(key, card.serialize())
