"""An imported list, read: which column holds what, each row checked with its line named, and what
a row may do to a subscriber already here."""

from datetime import UTC, datetime

import pytest

from bot.domain.import_decisions import Effect, Existing, decide
from bot.domain.list_import import Columns, ImportProblem, ImportRow, RowProblem, plan_columns, read_row
from bot.domain.model import Program, ProgramInfo
from bot.domain.properties import PropertySpec, PropertyType
from bot.domain.subscription import Status

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
PROGRAM = Program(
    info=ProgramInfo("Acme", "Acme", "help@acme.example", "4/mo"),
    keywords={},
    index={},
    languages=("en", "es"),
    properties={
        "first_name": PropertySpec("first_name", PropertyType.TEXT),
        "birthday": PropertySpec("birthday", PropertyType.DATE),
    },
)


def columns(header: list[str], **options: object) -> Columns:
    return plan_columns(header, PROGRAM, **options)  # type: ignore[arg-type]


def row(values: list[str], header: list[str], line: int = 2, **options: object) -> ImportRow:
    return read_row(columns(header, **options), values, line, PROGRAM, NOW, "US")


def test_columns_are_found_by_their_usual_names_and_the_programs_properties() -> None:
    found = columns(["Phone Number", "SMS Status", "Opt In Date", "First Name", "Email"])
    assert found.fields == {"phone": 0, "status": 1, "consented_at": 2}
    assert found.properties == {"first_name": 3}
    assert found.ignored == ("Email",)


def test_a_preset_and_a_map_name_columns_the_usual_names_do_not() -> None:
    shopify = columns(["Phone", "Accepts SMS Marketing", "First Name"], preset="shopify")
    assert shopify.fields == {"phone": 0, "status": 1}
    mapped = columns(
        ["Tel", "Bday", "Subscribed?"], mapping={"Tel": "phone", "Bday": "birthday", "Subscribed?": "status"}
    )
    assert mapped.fields == {"phone": 0, "status": 2} and mapped.properties == {"birthday": 1}


def test_a_file_that_cannot_be_read_says_everything_wrong_at_once() -> None:
    with pytest.raises(ImportProblem) as caught:
        columns(["Tel", "Shoe size"], mapping={"Shoe size": "shoe_size", "Nope": "phone"})
    said = " | ".join(caught.value.problems)
    assert "'shoe_size' is neither a field" in said
    assert "--map names a column 'Nope' the file does not have" in said
    assert "no phone column" in said and "no status column" in said and "--status subscribed" in said


def test_without_a_status_column_the_whole_file_says_what_it_is() -> None:
    read = row(["+14155550101"], ["phone"], status=Status.UNSUBSCRIBED)
    assert read.status is Status.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("values", "said"),
    [
        (["", "subscribed", "", ""], "line 7: phone: empty"),
        (["+1415555", "subscribed", "", ""], "line 7: phone: '+1415555' is not a possible phone number"),
        (["+14155550101", "maybe", "", ""], "line 7: status: expected subscribed or unsubscribed"),
        (["+14155550101", "yes", "next week", ""], "line 7: consented_at: expected a time"),
        (["+14155550101", "yes", "2031-01-01", ""], "line 7: consented_at: '2031-01-01' is in the future"),
        (["+14155550101", "yes", "", "13/45"], "line 7: birthday is a date: expected YYYY-MM-DD or MM/DD"),
    ],
)
def test_a_bad_row_is_named_by_line_with_what_was_expected(values: list[str], said: str) -> None:
    with pytest.raises(RowProblem) as caught:
        row(values, ["phone", "status", "consented_at", "birthday"], line=7)
    assert str(caught.value).startswith(said)


def test_a_row_keeps_its_consent_columns_as_given_and_reads_numbers_as_people_write_them() -> None:
    read = row(
        ["(415) 555-0101", "Opted In", "03/01/2025 10:00", "Keyword (JOIN)", "JOIN", "es-MX", "Ana"],
        ["phone", "status", "consented_at", "source", "keyword", "language", "first_name"],
    )
    assert read.phone == "+14155550101" and read.status is Status.SUBSCRIBED
    assert read.consented_at == datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    assert read.evidence == "consented_at: 03/01/2025 10:00; source: Keyword (JOIN); keyword: JOIN"
    assert (read.keyword, read.language, read.properties) == ("JOIN", "es", {"first_name": "Ana"})


def imported(status: Status, at: datetime | None, **properties: object) -> ImportRow:
    return ImportRow(2, "+14155550101", status, at, None, "", None, dict(properties))


MARCH, JUNE = datetime(2025, 3, 1, tzinfo=UTC), datetime(2025, 6, 1, tzinfo=UTC)


def test_an_erased_number_is_not_brought_back_by_a_list() -> None:
    assert decide(imported(Status.SUBSCRIBED, MARCH), None, suppressed=True).effect is Effect.ERASED
    assert decide(imported(Status.SUBSCRIBED, MARCH), None, suppressed=False).effect is Effect.CREATED


def test_a_stop_said_here_stands_whatever_the_file_says() -> None:
    here = Existing(Status.UNSUBSCRIBED, MARCH, None, {})
    decision = decide(imported(Status.SUBSCRIBED, JUNE), here, suppressed=False)
    assert decision.effect is Effect.KEPT and "only their own opt-in" in decision.why


def test_only_a_newer_consent_changes_a_subscriber() -> None:
    here = Existing(Status.SUBSCRIBED, JUNE, None, {})
    older = decide(imported(Status.UNSUBSCRIBED, MARCH), here, suppressed=False)
    assert older.effect is Effect.KEPT and older.why == "the consent kept here is newer"
    undated = decide(imported(Status.UNSUBSCRIBED, None), here, suppressed=False)
    assert undated.effect is Effect.KEPT
    newer = decide(imported(Status.UNSUBSCRIBED, datetime(2025, 7, 1, tzinfo=UTC)), here, suppressed=False)
    assert (newer.effect, newer.to_status) == (Effect.CHANGED, Status.UNSUBSCRIBED)


def test_properties_fill_what_is_empty_and_never_overwrite_what_they_told_us() -> None:
    here = Existing(Status.SUBSCRIBED, JUNE, "es", {"first_name": "Ana"})
    decision = decide(imported(Status.SUBSCRIBED, MARCH, first_name="Anna", birthday="--03-14"), here, False)
    assert decision.effect is Effect.FILLED
    assert decision.properties == {"first_name": "Ana", "birthday": "--03-14"}
    again = Existing(Status.SUBSCRIBED, JUNE, "es", decision.properties)
    assert (
        decide(imported(Status.SUBSCRIBED, MARCH, first_name="Anna"), again, False).effect is Effect.UNCHANGED
    )
