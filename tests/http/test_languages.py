"""Every subscriber is spoken to in their language, through the webhook."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ClientFactory, Phone, record


@pytest.fixture
async def app(make_client: ClientFactory) -> Any:
    return await make_client(admin_token="admin-secret")


async def test_unete_subscribes_in_spanish_and_confirms_in_spanish(app: Any) -> None:
    reply = await Phone(app).text("ÚNETE")
    assert reply.startswith("Acme Outfitters: ¡Gracias por unirte a Alertas de Acme Outfitters!")
    assert "Hasta 6 msjs/mes" in reply and "AYUDA" in reply and "ALTO" in reply
    found = await record(app)
    assert (found["language"], found["language_source"], found["status"]) == (
        "es",
        "keyword:UNETE",
        "subscribed",
    )


async def test_ayuda_and_alto_answer_in_spanish_for_anyone(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")  # an English subscriber
    assert "Pueden aplicarse tarifas de mensajes y datos" in await phone.text("AYUDA")
    assert "Cancelaste tu suscripción a Alertas de Acme Outfitters" in await phone.text("ALTO")
    found = await record(app)
    assert found["status"] == "unsubscribed"
    assert found["language"] is None  # answering in Spanish switched nothing else


async def test_arret_opts_out_in_french(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    assert "Vous êtes désabonné de Alertes Acme Outfitters" in await phone.text("ARRÊT")
    found = await record(app)
    assert found["status"] == "unsubscribed"
    assert (found["consent"][-1]["keyword"], found["consent"][-1]["text"]) == ("ARRET", "ARRÊT")


async def test_espanol_switches_the_language_and_help_is_then_spanish(app: Any) -> None:
    phone = Phone(app)
    await phone.text("JOIN")
    assert "For help contact help@acme.example" in await phone.text("HELP")  # English before the switch
    assert "Recibirás nuestros mensajes en español" in await phone.text("español")
    assert "Ayuda: help@acme.example" in await phone.text("HELP")
    found = await record(app)
    assert (found["language"], found["language_source"]) == ("es", "keyword:ESPAÑOL")
    assert "Vous recevrez nos textos en français" in await phone.text("FRANCAIS")
    assert "Des frais de messagerie" in await phone.text("help")


async def test_marketer_messages_come_in_the_subscribers_language(app: Any) -> None:
    phone = Phone(app)
    await phone.text("UNETE")
    assert "te avisaremos de los eventos" in await phone.text("EVENTOS")
    assert (await record(app))["properties"]["interests"] == ["events"]


async def test_a_missing_translation_falls_back_to_the_default_language(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    folder = keywords_copy
    text = (folder / "keywords.yaml").read_text()
    text = text.replace(
        '      es: "Acme Outfitters: Listo, te avisaremos de los eventos en tienda. Responde ALTO para cancelar."\n',
        "",
    )
    (folder / "keywords.yaml").write_text(text)
    app = await make_client(keywords_dir=folder)
    phone = Phone(app)
    await phone.text("UNETE")
    assert "we'll tell you about in-store events" in await phone.text("EVENTS")


async def test_an_unknown_language_in_a_profile_property_falls_back_without_error(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    folder = keywords_copy
    (folder / "klingon.yaml").write_text(
        "properties:\n  language: text\nkeywords:\n  KLINGON:\n    type: preference\n    set: {language: tlh-QO}\n"
    )
    app = await make_client(keywords_dir=folder, admin_token="admin-secret")
    phone = Phone(app)
    await phone.text("JOIN")
    await phone.text("KLINGON")
    found = await record(app)
    assert (found["language"], found["language_source"]) == ("tlh-QO", "property")
    assert "Msg&data rates may apply" in await phone.text("HELP")  # the default language, no error


async def test_a_program_can_add_compliance_words_of_its_own(
    make_client: ClientFactory, keywords_copy: Path
) -> None:
    folder = keywords_copy
    text = (
        (folder / "program.yaml")
        .read_text()
        .replace(
            "  languages: [en, es, fr]",
            "  languages: [en, es, fr]\n  compliance:\n    pt: {opt_out: [PARE, SAIR], help: [AJUDA]}",
        )
    )
    (folder / "program.yaml").write_text(text)
    app = await make_client(keywords_dir=folder, admin_token="admin-secret")
    phone = Phone(app)
    await phone.text("JOIN")
    assert "unsubscribed" in await phone.text("Sair")  # no Portuguese catalog: the default language answers
    found = await record(app)
    assert found["status"] == "unsubscribed" and found["consent"][-1]["keyword"] == "SAIR"
