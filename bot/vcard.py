"""The brand's contact card (vCard 3.0), so the next texts come from a "known sender"."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

import vobject


@dataclass(frozen=True)
class ContactCard:
    name: str  # the card's key, as in /vcards/{name}.vcf
    text: str  # the serialized vCard, built once when the program loads

    @property
    def filename(self) -> str:
        return f"{self.name}.vcf"


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
