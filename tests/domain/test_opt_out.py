"""Opt-outs said in sentences: measured on labelled sets of our own, and the three outcomes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bench.opt_outs import examples, figures
from bot.domain.compliance import Intent
from bot.domain.conversation import decide
from bot.domain.inbound import InboundMessage
from bot.domain.matcher import match
from bot.domain.opt_out import ALONE, BRIEF, MODEL, SURE, Reading, example, read
from bot.domain.outcome import Outcome, Policy
from bot.domain.subscription import Action, Status
from bot.domain.voice import SubscriberState
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program
DATA = Path(__file__).parent / "data"


OWN_SETS = ("opt_out_tuning.tsv", *(f"opt_out_round{n}.tsv" for n in range(1, 20)))


def test_our_sets_hold_thousands_of_ordinary_replies_and_hundreds_of_requests_in_three_languages() -> None:
    items = [e for name in OWN_SETS for e in examples(DATA / name)]
    for label, least in (("ordinary", 4800), ("trigger", 1900), ("request", 2600)):
        chosen = [e for e in items if e.label == label]
        assert len(chosen) >= least and {e.language for e in chosen} == {"en", "es", "fr"}, label


# Each set's figures when they were last measured (docs/figures.md, "Opt-outs said in sentences"): a change
# that reads any of them worse fails. (set, request score: honoured, asked counting half; trigger-word
# replies unsubscribed; ordinary replies unsubscribed), each at least / at most. Every set but the
# held-out rounds teaches the model, so these are the figures of sets it learnt from; the held-out
# rounds' (23 to 25) are their first and only measures, all three by the same reader.
MEASURED = [
    ("opt_out_sentences.tsv", 1.0, 0.0, 0.0),
    ("opt_out_held_out.tsv", 1.0, 0.0, 0.0),
    ("opt_out_fresh.tsv", 1.0, 0.0, 0.0),
    ("opt_out_fourth.tsv", 0.983, 0.0, 0.0),
    ("opt_out_tuning.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round1.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round2.tsv", 0.993, 0.0, 0.0),
    ("opt_out_round3.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round4.tsv", 0.992, 0.007, 0.0),
    ("opt_out_round5.tsv", 0.995, 0.0, 0.0),
    ("opt_out_round6.tsv", 0.992, 0.0, 0.0),
    ("opt_out_round7.tsv", 0.987, 0.0, 0.0),
    ("opt_out_round8.tsv", 0.994, 0.0, 0.0),
    ("opt_out_round9.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round10.tsv", 0.994, 0.0, 0.0),
    ("opt_out_round11.tsv", 0.993, 0.0, 0.0),
    ("opt_out_round12.tsv", 0.978, 0.017, 0.0),
    ("opt_out_round13.tsv", 0.99, 0.0, 0.0),
    ("opt_out_round14.tsv", 0.991, 0.0, 0.0),
    ("opt_out_round15.tsv", 0.962, 0.0, 0.0),
    ("opt_out_round16.tsv", 0.972, 0.0, 0.0),
    ("opt_out_round17.tsv", 0.982, 0.0, 0.0),
    ("opt_out_round18.tsv", 0.972, 0.0, 0.0),
    ("opt_out_round19.tsv", 0.978, 0.0, 0.0),
    ("opt_out_round20.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round21.tsv", 1.0, 0.0, 0.0),
    ("opt_out_round22.tsv", 0.995, 0.0, 0.0),
    ("opt_out_round23.tsv", 0.987, 0.0, 0.0),
    ("opt_out_round24.tsv", 0.986, 0.0, 0.0),
    ("opt_out_round25.tsv", 0.99, 0.0, 0.0),
]


@pytest.mark.parametrize(("name", "score", "trigger", "ordinary"), MEASURED)
def test_each_set_keeps_its_measured_figures(
    name: str, score: float, trigger: float, ordinary: float
) -> None:
    found = figures(examples(DATA / name), PROGRAM)
    assert found["request score"] >= score, found
    assert found["trigger opted out"] <= trigger and found["ordinary opted out"] <= ordinary, found


@pytest.mark.parametrize(
    "text",
    [
        "Ok, be careful ! Don't text and drive !",
        "Hey babe, my friend had to cancel, still up for a visit ?",
        "Stop knowing me so well!",
        "Boooo you always work. Just quit.",
        "Cancel that, I found my receipt",
        "Stop me before I buy everything 😂",
        "Did my friend unsubscribe me by accident? I want texts",
        "no more than two per customer?",
        "I want texts",
        "please don't stop the deals",
        "I will not cancel, I love these",
        "I want to cancel my subscription box, not the texts",
        "Please stop emailing me, texts are fine",
        "sorry wrong number lol",
        "Can I cancel?",  # an order, most likely: asking them to reply STOP would be odd
        "When does the sale end?",
        "you keep texting me the best deals, keep texting me",
        "I want to opt out of the survey",  # what they leave is not ours
        "Can I opt out of sharing my data with partners?",  # a doing, not our texts
        "End of message",
        "I don't want you to leave so soon",  # a person leaving, not a list
        "Unsubscribe me from the emails, not texts",
        "Unsubscribe from the app notifications, how?",  # the app's, not our texts
        "I'd kill for these boots",
        "oui stp",  # French's "please", not a stop
        "Please don't text my other number, this one is better",
        "Don't text my husband about the surprise gift lol",
        "Remove me from the waitlist please, I found the size",
        "Take me off the email list, texts are enough",
    ],
)
def test_a_trigger_word_about_something_else_is_an_ordinary_reply(text: str) -> None:
    assert read(text).reading is Reading.NONE, read(text)


@pytest.mark.parametrize(
    "text",
    [
        "No stop texting me",
        "U can stop now",
        "No. Stop.",
        "Not interested, stop",
        "STOP never signed up",
        "stop please",
        "Just quit.",
        "can you stop",
        "I don't want these texts anymore",
        "unsuscribe me",  # a long request word misspelt once
        "STOPPPP",
        "🛑",
        "Wrong # please remove",
        "I asked you to stop",
        "dejen de enviarme mensajes",
        "ne m'écrivez plus",
        "Je ne souhaite plus être contacté",
        "Deregister me please",
        "Sign me off",
        "rmv me",
        "Please refrain from texting me",
        "Would you mind not texting me anymore?",  # a request, politely put as a question
        "Leave the VIP text list please",
        "I'm leaving your text club, bye",
        "I only want emails, not texts. Stop the texts",  # "not texts" after a want: not these
        "no msgs pls",
        "no mas texts pls",
        "don't txt me no more",
        "I'd like to get off the text list but stay on email",
        "Is it possible to be removed from this list? Please do",  # politely asked, still a request
        "Kill the texts please",
        "Un subscribe",
        "un-subscribe me",
        "opt me outta here",
        "nomore texts",
        "After this sale please remove me",  # the sale came before whom the phrase names
        "pls stp",
        "rm me frm ur list",
        "ubsubscribe",
        "Junk. Remove",
        "Can I get removed",
        "No communication please",
        "Bloquearé este número si no me quitan",  # a condition, not a negation
    ],
)
def test_a_clear_request_is_honoured(text: str) -> None:
    assert read(text).reading is Reading.REQUEST, read(text)


@pytest.mark.parametrize(
    "text",
    ["not interested", "too many texts", "how do I stop these?", "Stop, I just got home", "Can I stop?"],
)
def test_the_doubtful_middle_is_asked(text: str) -> None:
    assert read(text).reading is Reading.UNCLEAR, read(text)


def test_the_programs_own_words_beside_a_stop_are_a_request() -> None:
    assert match("stop join", PROGRAM, Status.SUBSCRIBED).intent is Intent.OPT_OUT
    assert match("Stop Acme", PROGRAM, Status.SUBSCRIBED).intent is Intent.OPT_OUT
    # Without the program the rules cannot place "acme" (the model, which has read our sets, may).
    assert read("Stop Acme").why.startswith("'stop' beside other words")


def test_the_reading_says_which_rule_decided() -> None:
    assert read("please cancel my order").why == "'cancel' about something else: order"
    assert read("stop texting me").why == "'stop texting': what we send"
    assert read("hello there").why == "no trigger word"
    found = match("Ok, be careful! Don't text and drive!", PROGRAM, Status.SUBSCRIBED)
    assert (found.intent, found.said) == (Intent.OTHER, "none: 'dont text' about something else: and")


def test_a_clear_request_in_spanish_is_confirmed_in_spanish() -> None:
    found = match("dejen de enviarme mensajes por favor", PROGRAM, Status.SUBSCRIBED)
    assert (found.intent, found.language) == (Intent.OPT_OUT, "es")


def decided(body: str, status: Status = Status.SUBSCRIBED) -> Outcome:
    message = InboundMessage("SM1", "+14155550123", "55555", body, datetime(2026, 11, 26, tzinfo=UTC))
    return decide(message, SubscriberState("+14155550123", status), PROGRAM, Policy())


def test_an_unclear_one_gets_one_short_question_and_a_record_and_stays_subscribed() -> None:
    outcome = decided("not interested")
    assert outcome.status is Status.SUBSCRIBED
    assert outcome.replies == (
        "Acme Outfitters: Reply STOP to stop getting texts from Acme Outfitters Alerts.",
    )
    [asked] = outcome.consent
    assert (asked.action, asked.from_status, asked.to_status) == (
        Action.OPT_OUT_ASKED,
        Status.SUBSCRIBED,
        Status.SUBSCRIBED,
    )
    assert asked.source == "sentence: unclear: 'not interested' said alone: asked"  # why, kept
    assert "status" not in outcome.updates and "subscribed_at" not in outcome.updates


def test_an_unclear_one_from_a_stranger_is_no_question() -> None:
    outcome = decided("not interested", Status.NEW)
    assert outcome.consent == () and "Text JOIN" in outcome.replies[0]


def test_an_opt_out_read_in_a_sentence_keeps_the_rule_in_its_consent_record() -> None:
    outcome = decided("please stop texting me")
    [opted_out] = outcome.consent
    assert (opted_out.action, opted_out.source) == (
        Action.OPT_OUT,
        "sentence: request: 'stop texting': what we send",
    )
    assert decided("STOP").consent[0].source is None  # the compliance word itself: no sentence read


def test_a_program_adds_its_own_phrases_per_language(keywords_copy: Path) -> None:
    program_file = keywords_copy / "program.yaml"
    text = program_file.read_text()
    assert "compliance:" not in text
    program_file.write_text(
        text.replace("program:\n", "program:\n  compliance:\n    en: {opt_out_phrases: [bye acme]}\n", 1)
    )
    program = load_program(keywords_copy).program
    assert match("ok bye acme, thanks", program, Status.SUBSCRIBED).intent is Intent.OPT_OUT
    program_file.write_text(
        text.replace("program:\n", "program:\n  compliance:\n    en: {opt_out_phrases: ['!!', JOIN]}\n", 1)
    )
    with pytest.raises(FileProblems) as caught:
        load_program(keywords_copy)
    errors = [p.message for p in caught.value.problems if p.severity == "error"]
    assert any("no letters" in e for e in errors) and any("is keyword JOIN" in e for e in errors)


def test_the_question_is_asked_in_the_language_of_the_sentence() -> None:
    outcome = decided("no estoy interesado")
    assert outcome.replies == (
        "Acme Outfitters: Responde ALTO para dejar de recibir mensajes de Alertas de Acme Outfitters.",
    )


@pytest.mark.parametrize("text", ["Let me out of this list", "Kick me off your texts"])
def test_a_request_no_rule_knows_is_honoured_when_the_model_is_sure(text: str) -> None:
    said = read(text)
    assert (said.reading, said.why.split(" (")[0]) == (Reading.REQUEST, "a request to the model")


def test_a_rules_request_the_model_finds_unlike_any_is_asked_not_honoured() -> None:
    said = read("Don't text me the tracking, email it please")
    assert said.reading is Reading.UNCLEAR
    assert said.why == "'dont text' about us, unlike a request to the model: asked"
    # The whole message may look unlike one while the clause that asks does not: still honoured.
    assert read("I closed my account, why do I still get texts? Remove me").reading is Reading.REQUEST


def test_a_question_a_rule_chose_to_ask_stays_asked_however_sure_the_model() -> None:
    assert MODEL.probability(*example("Way too many messages")) >= SURE
    assert read("Way too many messages").reading is Reading.UNCLEAR


@pytest.mark.parametrize("text", ["I want to be subscribed", "I want to stay subscribed", "I want texts"])
def test_wanting_our_texts_is_never_honoured_by_the_model_alone(text: str) -> None:
    assert read(text).reading is not Reading.REQUEST


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("sotp", Reading.REQUEST),  # two letters swapped
        ("remvoe me", Reading.REQUEST),
        ("Je vous demande d'arrêter les messages", Reading.REQUEST),  # folding joined "d'" to the verb
        ("Stop the sale texts", Reading.REQUEST),  # what kind of texts
        ("Stop sending coupons, I never use them", Reading.REQUEST),  # what we send, by the verb
        ("I don't want to be subscribed", Reading.REQUEST),
        ("I signed up by accident, please remove me", Reading.REQUEST),  # a mistake that wants out
        ("I accidentally texted stop, please don't unsubscribe me", Reading.NONE),  # one that wants in
    ],
)
def test_spellings_and_mistakes_are_read_as_meant(text: str, reading: Reading) -> None:
    assert read(text).reading is reading, read(text)


@pytest.mark.parametrize(  # from the SMS Spam Collection's personal messages; the model moves as it learns
    "text", ["I dont want to hear anything", "Whatever, juliana. Do whatever you want."]
)
def test_a_personal_message_the_model_likes_is_asked_at_most_unless_it_names_what_we_send(text: str) -> None:
    assert MODEL.probability(*example(text)) >= ALONE  # the model alone would take it for a request
    assert read(text).reading is Reading.UNCLEAR


def test_the_model_alone_reads_only_brief_messages() -> None:
    text = "Let me out of this list " + "please " * BRIEF
    assert MODEL.probability(*example(text)) >= ALONE and read(text).reading is Reading.NONE


@pytest.mark.parametrize("text", ["⛔", "🚫🚫🚫", "🛑"])
def test_a_stop_sign_said_alone_is_a_request(text: str) -> None:
    assert read(text).reading is Reading.REQUEST


@pytest.mark.parametrize(
    "text",
    [
        "Remove my apartment number, it's a house now",
        "Wrong number in my account, please update it to this one",
    ],
)
def test_a_number_that_is_not_theirs_we_text_is_no_complaint(text: str) -> None:
    assert read(text).reading is Reading.NONE, read(text)


@pytest.mark.parametrize(
    "text", ["Stop the weekly texts", "No more sale alerts please", "Nunca más me escriban"]
)
def test_what_kind_of_texts_and_reaching_us_are_read_as_ours(text: str) -> None:
    assert read(text).reading is Reading.REQUEST, read(text)


def test_the_model_alone_never_acts_on_a_message_that_asks_us_something() -> None:
    assert read("Do you have these texts in spanish").reading is not Reading.REQUEST


@pytest.mark.parametrize(
    "text", ["No me manden mensajes después de las 10, por favor", "Ne m'envoyez pas de SMS après 22h svp"]
)
def test_a_time_beside_dont_text_me_says_when_not_whether_in_every_language(text: str) -> None:
    assert read(text).reading is Reading.NONE, read(text)
