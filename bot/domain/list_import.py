"""An imported list, read: which column holds what, and each row checked into what it says (a
number, subscribed or not, when and how consent was given, language, profile properties).

No I/O here: the importer (bot/pipeline/subscriber_import.py) hands rows in and writes the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from bot.domain.model import Program
from bot.domain.store_events import EventProblem, store_phone
from bot.domain.subscription import Status

# What a column may hold, besides the program's own properties.
PHONE, STATUS, CONSENTED_AT, SOURCE, KEYWORD, EVIDENCE, LANGUAGE = (
    "phone",
    "status",
    "consented_at",
    "source",
    "keyword",
    "evidence",
    "language",
)
FIELDS = (PHONE, STATUS, CONSENTED_AT, SOURCE, KEYWORD, EVIDENCE, LANGUAGE)
_EVIDENCE_FIELDS = (CONSENTED_AT, SOURCE, KEYWORD, EVIDENCE)  # kept as given, in the consent record

# Headers read without a --map, as platforms and spreadsheets name them (compared folded: case,
# spaces, dashes and underscores ignored).
_SYNONYMS = {
    PHONE: ("phone", "phone number", "phonenumber", "mobile", "mobile phone", "mobile number", "cell", "sms"),
    STATUS: ("status", "subscription status", "sms status", "sms consent", "sms subscription status"),
    CONSENTED_AT: (
        "consented at",
        "consent timestamp",
        "sms consent timestamp",
        "opt in date",
        "opted in at",
        "subscribed at",
        "consent date",
    ),
    SOURCE: ("source", "opt in source", "subscriber source", "consent source", "sms consent source"),
    KEYWORD: ("keyword", "opt in keyword"),
    EVIDENCE: ("evidence", "consent text", "opt in message", "consent message"),
    LANGUAGE: ("language", "locale", "preferred language"),
}

_SUBSCRIBED = {"subscribed", "active", "opted_in", "opt_in", "optin", "yes", "y", "true", "1", "confirmed"}
_UNSUBSCRIBED = {
    "unsubscribed",
    "opted_out",
    "opt_out",
    "optout",
    "inactive",
    "no",
    "n",
    "false",
    "0",
    "stopped",
    "suppressed",
    "never_subscribed",
    "not_subscribed",
    "pending",  # asked but never confirmed: no consent, so never texted until they opt in themselves
}

_STATUSES = {  # as most files write them: read without folding
    **{w: Status.SUBSCRIBED for w in _SUBSCRIBED},
    **{w: Status.UNSUBSCRIBED for w in _UNSUBSCRIBED},
    **{w.capitalize(): Status.SUBSCRIBED for w in _SUBSCRIBED},
    **{w.capitalize(): Status.UNSUBSCRIBED for w in _UNSUBSCRIBED},
}


@dataclass(frozen=True)
class Preset:
    """A platform's export, as its documentation names the columns."""

    name: str
    columns: Mapping[str, str]  # header -> field or property
    about: str  # where the names come from


PRESETS = {
    p.name: p
    for p in (
        # Shopify's customers export (Customers > Export). "Accepts SMS Marketing" is yes/no; a "no"
        # is imported as not subscribed: never texted until the person opts in themselves.
        Preset(
            "shopify",
            {"Phone": PHONE, "Accepts SMS Marketing": STATUS, "First Name": "first_name"},
            "Shopify's customer CSV: Phone, First Name, Accepts SMS Marketing",
        ),
        Preset(
            "klaviyo",
            {"Phone Number": PHONE, "First Name": "first_name"},
            "Klaviyo's profile CSV: Phone Number, First Name",
        ),
        Preset(
            "postscript",
            {"phone_number": PHONE, "email": "ignore", "shopify_customer_id": "ignore"},
            "Postscript's subscriber fields: phone_number, email, shopify_customer_id",
        ),
        Preset(
            "attentive",
            {"Phone Number": PHONE, "FirstName": "first_name"},
            "Attentive's CSV files: Phone Number, FirstName",
        ),
    )
}


@dataclass
class Plan:
    """How to read the file: its columns, and what the rows are checked against."""

    name: str  # the file's name, kept in each consent record as import:<name>
    program: Program
    country: str  # of numbers written without one
    now: datetime
    mapping: Mapping[str, str] = field(default_factory=dict)
    preset: str | None = None
    status: Status | None = None  # every row's status, for a file without a status column
    skip_bad: bool = False  # import the good rows when some are bad

    @property
    def source(self) -> str:
        return f"import:{self.name}"[:100]


class ImportProblem(Exception):
    """The file as a whole cannot be read (its header, its mapping): nothing is imported."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = list(problems)


class RowProblem(Exception):
    """One row is not what its column says it should be."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True)
class Columns:
    """Which column holds what: fields by column index, properties by column index."""

    fields: Mapping[str, int]
    properties: Mapping[str, int]
    ignored: tuple[str, ...]
    status: Status | None = None  # every row's status, when the file has no status column


class ImportRow(NamedTuple):  # a tuple: millions are made, kept aside and read back in one import
    line: int
    phone: str
    status: Status  # subscribed or unsubscribed
    consented_at: datetime | None  # None: the file does not say when
    keyword: str | None
    evidence: str  # the consent columns as the file gives them
    language: str | None
    properties: dict[str, Any]


def parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    """--map COLUMN=FIELD pairs (the last = separates: a column's name may hold one)."""
    found: dict[str, str] = {}
    for pair in pairs:
        column, sep, what = pair.rpartition("=")
        if not sep or not column.strip() or not what.strip():
            raise ImportProblem([f"map {pair!r}: expected COLUMN=FIELD, e.g. 'Phone Number=phone'"])
        found[column.strip()] = what.strip()
    return found


def fold(header: str) -> str:
    return " ".join(re.sub(r"[\s_\-.:/]+", " ", header.strip().lower().lstrip("\ufeff")).split())


def plan_columns(
    header: Sequence[str],
    program: Program,
    mapping: Mapping[str, str] | None = None,
    preset: str | None = None,
    status: Status | None = None,
) -> Columns:
    """Which column holds what: the --map first, then the preset, then the well-known names and
    the program's property names. ImportProblem lists everything wrong at once."""
    chosen, problems = _chosen(header, program, mapping or {}, preset)
    fields: dict[str, int] = {}
    properties: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(header):
        what = chosen.get(fold(name)) or _known(program).get(fold(name))
        if what is None or what == "ignore":
            ignored.append(name)
            continue
        into = fields if what in FIELDS else properties
        if what in into:
            problems.append(f"columns {header[into[what]]!r} and {name!r} both hold {what}")
        if what not in FIELDS and what not in program.properties:
            problems.append(
                f"column {name!r} holds {what!r}, which the program does not declare: add it under "
                "properties: in program.yaml, or --map it to ignore"
            )
        into[what] = index
    if PHONE not in fields:
        problems.append(f"no phone column (header: {', '.join(header)}): --map YOUR_COLUMN=phone")
    if STATUS not in fields and status is None:
        problems.append(
            "no status column: say what everyone in the file is with --status subscribed (they all "
            "consented) or --status unsubscribed (a list of people never to text)"
        )
    if problems:
        raise ImportProblem(problems)
    return Columns(fields, properties, tuple(ignored), status if STATUS not in fields else None)


def _chosen(
    header: Sequence[str], program: Program, mapping: Mapping[str, str], preset: str | None
) -> tuple[dict[str, str], list[str]]:
    """The columns named by the preset and the --map (folded header -> what it holds), and what
    is wrong with them."""
    if preset is not None and preset not in PRESETS:
        raise ImportProblem([f"no preset {preset!r}: presets are {', '.join(sorted(PRESETS))}"])
    chosen = {fold(h): what for h, what in PRESETS[preset].columns.items()} if preset else {}
    problems = []
    headers = {fold(h) for h in header}
    for column, what in mapping.items():
        if what not in FIELDS and what not in program.properties and what != "ignore":
            problems.append(
                f"--map {column}={what}: {what!r} is neither a field ({', '.join(FIELDS)}) nor a "
                f"property the program declares ({', '.join(program.properties) or 'none'}); or 'ignore'"
            )
        if fold(column) not in headers:
            problems.append(f"--map names a column {column!r} the file does not have")
        chosen[fold(column)] = what
    return chosen, problems


def _known(program: Program) -> dict[str, str]:
    """Well-known header names and the program's property names, folded."""
    known = {fold(name): f for f, names in _SYNONYMS.items() for name in names}
    known.update({fold(name): name for name in program.properties})
    return known


_NANP = re.compile(r"\+1[2-9][0-9]{2}[2-9][0-9]{6}")  # written in full already: no parsing needed
_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y-%m-%d",
)


def read_row(
    columns: Columns, values: Sequence[str], line: int, program: Program, now: datetime, country: str
) -> ImportRow:
    """The row checked, or RowProblem naming what was expected."""
    width = len(values)
    cell = {name: values[i].strip() if i < width else "" for name, i in columns.fields.items()}
    get = cell.get
    phone = _phone(get(PHONE, ""), country, line)
    status = columns.status or _status(get(STATUS, ""), line)
    at_text = get(CONSENTED_AT)
    keyword = get(KEYWORD)
    evidence = "; ".join([f"{name}: {text}" for name in _EVIDENCE_FIELDS if (text := get(name))])
    return ImportRow(
        line,
        phone,
        status,
        _time(at_text, now, line) if at_text else None,
        keyword[:100] if keyword else None,
        evidence or "none given",
        _language(get(LANGUAGE, ""), program, line),
        _properties(columns, values, program, line) if columns.properties else {},
    )


def _phone(text: str, country: str, line: int) -> str:
    if not text:
        raise RowProblem(line, "phone: empty; every row needs the number")
    if _NANP.fullmatch(text):
        return text
    try:
        return store_phone(text, country)
    except EventProblem as exc:
        raise RowProblem(
            line, f"{exc} (a number in international form, +15125550123, or national in {country})"
        ) from None


def _status(text: str, line: int) -> Status:
    known = _STATUSES.get(text)
    if known is not None:
        return known
    word = re.sub(r"[\s\-]+", "_", text.lower())
    if word in _SUBSCRIBED:
        return Status.SUBSCRIBED
    if word in _UNSUBSCRIBED:
        return Status.UNSUBSCRIBED
    raise RowProblem(line, f"status: expected subscribed or unsubscribed (or yes / no), got {text[:40]!r}")


def _time(text: str, now: datetime, line: int) -> datetime:
    """ISO 8601 (an offset, or UTC when none is given), a US-style date and time, or Unix seconds."""
    at: datetime | None = None
    try:
        at = datetime.fromisoformat(text[:-1] + "Z" if text.endswith("z") else text)
    except ValueError:
        for pattern in _FORMATS:
            try:
                at = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if at is None and text.isdigit() and len(text) == 10:
        at = datetime.fromtimestamp(int(text), UTC)
    if at is None:
        raise RowProblem(
            line, f"consented_at: expected a time such as 2025-03-01T10:00:00Z, got {text[:40]!r}"
        )
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > now + timedelta(days=1):
        raise RowProblem(line, f"consented_at: {text[:40]!r} is in the future")
    return at


def _language(text: str, program: Program, line: int) -> str | None:
    if not text:
        return None
    if text in program.languages:
        return text
    code = text.replace("_", "-").split("-")[0].lower()
    if code not in program.languages:
        raise RowProblem(
            line, f"language: the program speaks {', '.join(program.languages)}; got {text[:20]!r}"
        )
    return code


def _properties(columns: Columns, values: Sequence[str], program: Program, line: int) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, index in columns.properties.items():
        raw = values[index].strip() if index < len(values) else ""
        if not raw:
            continue
        try:
            found[name] = program.properties[name].coerce(raw)
        except ValueError as exc:
            raise RowProblem(line, str(exc)) from None
    return found
