import pytest

from bot.domain.compliance import Intent
from bot.domain.matcher import match
from bot.domain.subscription import Status
from bot.domain.text import fold, words
from bot.program.loader import load_program
from tests.conftest import KEYWORDS

PROGRAM = load_program(KEYWORDS).program


@pytest.mark.parametrize(
    "text",
    [
        "STOP",
        "stop",
        "Stop.",
        "  STOP!  ",
        "STOPALL",
        "stop all",
        "UNSUBSCRIBE",
        "CANCEL",
        "END",
        "QUIT",
        "REVOKE",
        "OPTOUT",
        "opt out",
        "Opt-Out",
        "ＳＴＯＰ",
        '"stop"',
    ],
)
def test_every_opt_out_word_opts_out_in_every_status(text: str) -> None:
    for status in Status:
        assert match(text, PROGRAM, status).intent is Intent.OPT_OUT, (text, status)


@pytest.mark.parametrize(
    "text",
    [
        "stop please",
        "Please stop",
        "please stop texting me",
        "unsubscribe me",
        "STOP. I never signed up",
        "Stop texting me",
        "can you stop sending me these",
        "make it stop",
        "opt me out",
        "remove me from this list",
        "Take me off your list",
        "do not text me again",
        "don't text me",
        "no more texts please",
        "cancel my subscription",
        "I want to unsubscribe",
        "stop it",
        "pls stop",
        "quit texting me",
    ],
)
def test_opt_out_said_in_a_short_sentence_is_honoured(text: str) -> None:
    assert match(text, PROGRAM, Status.SUBSCRIBED).intent is Intent.OPT_OUT, text


@pytest.mark.parametrize(
    "text",
    [
        "don't stop the deals",
        "dont stop the deals!",
        "I can't stop buying your shoes",
        "never stop",
        "the sale ends when?",
        "when does the sale end",
        "I'm at the bus stop",
        "is the store open",
        "help me find my size",
        "do not stop sending me coupons",
        "cancel my order 123",
        "we will not stop loving these boots",
    ],
)
def test_sentences_that_are_not_opt_outs_are_left_alone(text: str) -> None:
    assert match(text, PROGRAM, Status.SUBSCRIBED).intent is not Intent.OPT_OUT, text


@pytest.mark.parametrize("text", ["HELP", "help", "Help!", "INFO", "info."])
def test_help_words(text: str) -> None:
    for status in Status:
        assert match(text, PROGRAM, status).intent is Intent.HELP


@pytest.mark.parametrize("text", ["START", "unstop", "YES"])
def test_opt_in_again_words(text: str) -> None:
    assert match(text, PROGRAM, Status.UNSUBSCRIBED).intent is Intent.OPT_IN


def test_y_confirms_only_while_a_double_opt_in_waits() -> None:
    assert match("Y", PROGRAM, Status.PENDING).intent is Intent.CONFIRM
    assert match("yes", PROGRAM, Status.PENDING).intent is Intent.CONFIRM
    assert match("Y", PROGRAM, Status.SUBSCRIBED).intent is Intent.OTHER


@pytest.mark.parametrize(
    ("carrier", "intent"), [("STOP", Intent.OPT_OUT), ("HELP", Intent.HELP), ("START", Intent.OPT_IN)]
)
def test_carrier_opt_out_type_decides_whatever_the_body(carrier: str, intent: Intent) -> None:
    assert match("ARRÊTEZ SVP", PROGRAM, Status.SUBSCRIBED, opt_out_type=carrier).intent is intent


def test_compliance_words_win_over_program_keywords() -> None:
    # JOIN is a keyword; "stop join" starts with STOP and must opt out, not subscribe.
    assert match("stop join", PROGRAM, Status.NEW).intent is Intent.OPT_OUT


def test_folding() -> None:
    assert fold("  Don't  STOP!! ") == "dont stop"
    assert fold("ÚNETE") == "unete"
    assert fold("ＪＯＩＮ") == "join"
    assert words("") == []
