"""Read keywords/*.yaml, validate, and compile one immutable Program, or say what is wrong.

Besides the schema, the compiler checks what costs money or breaks the law: a word in two
keywords, a reserved compliance word used as a keyword, a message that uses an undeclared tag, an
opt-in confirmation without what the CTIA requires, and each message's encoding and segments.
Each part lives in its own module and reports into one `Compiling`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError

from bot.domain.flows import Flow
from bot.domain.i18n import negotiate
from bot.domain.model import ContactCard, Program, ProgramInfo
from bot.program import yamlfile
from bot.program.campaigns import compile_campaigns
from bot.program.context import SAMPLE_LINK_BASE, Compiling
from bot.program.coupons import compile_coupons
from bot.program.flows import compile_flow, link_flows
from bot.program.inbox import compile_inbox
from bot.program.keywords import (
    KeywordBook,
    compile_keyword,
    compliance_table,
    declare_property,
    note_close_words,
    opt_out_phrases,
)
from bot.program.messages import compile_message
from bot.program.schema import KeywordFile, KeywordSection, ProgramSection
from bot.program.segments import Known, compile_segments
from bot.program.vcards import compile_card
from bot.program.yamlfile import FileProblems, Problem, YamlDoc

Parsed = list[tuple[YamlDoc, KeywordFile]]


@dataclass(frozen=True)
class Loaded:
    program: Program
    warnings: list[Problem]  # warnings and notes (encoding, segments): the program still loads


def keyword_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_program(directory: Path, link_base: str | None = None) -> Loaded:
    """Compile the program in `directory`; raise FileProblems listing every error. `link_base` is
    where tracked links will point (the public URL): their length counts in messages' segments."""
    files = keyword_files(directory)
    if not files:
        raise FileProblems([Problem(str(directory), 1, "no keyword files (*.yaml) found")])
    parsed, fingerprint = _parse(files)
    doc, section = _program_section(parsed)
    c = Compiling(_info(section), _languages(section), link_base=link_base or SAMPLE_LINK_BASE)
    _check_program_section(c, doc, section)
    program = _compile(c, parsed, doc, section, fingerprint)
    if c.errors:  # with the warnings and notes, so one run of `check` shows everything
        raise FileProblems([*c.errors, *c.warnings])
    return Loaded(program, c.warnings)


def _parse(files: list[Path]) -> tuple[Parsed, str]:
    problems: list[Problem] = []
    parsed: Parsed = []
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
        try:
            doc = yamlfile.load(path)
        except FileProblems as exc:
            problems.extend(exc.problems)
            continue
        try:
            parsed.append((doc, KeywordFile.model_validate(doc.data)))
        except ValidationError as exc:
            problems.extend(doc.problems_from(exc))
    if problems:
        raise FileProblems(problems)
    return parsed, digest.hexdigest()[:16]


def _program_section(parsed: Parsed) -> tuple[YamlDoc, ProgramSection]:
    """The one `program:` section, wherever it is; a second one or none at all is an error."""
    found = [(doc, data.program) for doc, data in parsed if data.program is not None]
    if not found:
        first = parsed[0][0]
        no_section = "no program section: expected program: with name, brand, help_contact"
        raise FileProblems([Problem(str(first.path), 1, no_section)])
    doc, section = found[0]
    again = [
        Problem(str(other.path), other.line_of(["program"]), f"program: already set in {doc.path}; keep one")
        for other, _ in found[1:]
    ]
    if again:
        raise FileProblems(again)
    return doc, section


def _info(section: ProgramSection) -> ProgramInfo:
    default = section.default_language
    translated: dict[str, dict[str, str]] = {}
    for key, value in (("program", section.name), ("frequency", section.frequency)):
        if isinstance(value, dict):
            for language, text in value.items():
                translated.setdefault(language, {})[key] = text
    name, frequency = section.name, section.frequency
    return ProgramInfo(
        name=name.get(default, "") if isinstance(name, dict) else name,
        brand=section.brand,
        help_contact=section.help_contact,
        frequency=frequency.get(default, "") if isinstance(frequency, dict) else frequency,
        default_language=default,
        timezone=section.timezone,
        translated=translated,
    )


def _languages(section: ProgramSection) -> tuple[str, ...]:
    return tuple(dict.fromkeys([section.default_language, *section.languages]))


def _check_program_section(c: Compiling, doc: YamlDoc, section: ProgramSection) -> None:
    default = section.default_language
    try:
        ZoneInfo(section.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        c.error(
            doc,
            ["program", "timezone"],
            f"program.timezone: no time zone {section.timezone!r}; "
            "expected a name such as America/New_York or Europe/Paris",
        )
    for field_name, value in (("name", section.name), ("frequency", section.frequency)):
        if isinstance(value, dict) and default not in value:
            c.error(doc, ["program", field_name], f"program.{field_name}: needs a {default} text")
    for language in c.languages:
        if negotiate(language, "") != language.split("_")[0]:
            c.error(
                doc,
                ["program", "languages"],
                f"program.languages: smsbot has no {language} catalog, so its own replies (HELP, STOP) "
                f"cannot be said in {language}; add one (README, 'Adding a language') or remove {language}",
            )


def _compile(
    c: Compiling, parsed: Parsed, doc: YamlDoc, section: ProgramSection, fingerprint: str
) -> Program:
    c.table = compliance_table(c, doc, section)
    coupons = compile_coupons(c, [(d, data.coupons) for d, data in parsed])
    for file_doc, data in parsed:
        for name, spec in data.properties.items():
            declare_property(c, file_doc, name, spec)
    book = KeywordBook()
    for file_doc, data in parsed:
        for name, body in data.keywords.items():
            compile_keyword(c, book, file_doc, name, body or KeywordSection())
    phrases = opt_out_phrases(c, doc, section, book)
    typos = book.typo_index(blocked=[w for w in c.table if " " not in w])
    note_close_words(c, book, typos)
    cards = _cards(c, parsed)
    c.segment_names = frozenset(name for _, data in parsed for name in data.segments)
    flows = _flows(c, parsed, cards)
    _check_keyword_flows(c, parsed, flows)
    named = frozenset(name for _, data in parsed for name in data.campaigns)
    known = Known(book.keywords, frozenset(flows), named)
    segments = compile_segments(c, [(d, data.segments) for d, data in parsed], known)
    campaigns = compile_campaigns(c, [(d, data.campaigns) for d, data in parsed], segments)
    return Program(
        info=c.info,
        keywords=book.keywords,
        index=book.index,
        fallback=compile_message(c, doc, ["program", "fallback"], section.fallback),
        not_subscribed=compile_message(c, doc, ["program", "not_subscribed"], section.not_subscribed),
        reply_to_unknown=section.reply_to_unknown,
        reply_to_strangers=section.reply_to_strangers,
        properties=dict(c.properties),
        compliance=c.table,
        languages=c.languages,
        contact_cards=cards,
        flows=flows,
        segments=segments,
        campaigns=campaigns,
        typos=typos,
        opt_out_phrases=phrases,
        inbox=compile_inbox(c, [(d, data.inbox) for d, data in parsed]),
        coupons=coupons,
        fingerprint=fingerprint,
    )


def _cards(c: Compiling, parsed: Parsed) -> dict[str, ContactCard]:
    cards: dict[str, ContactCard] = {}
    for doc, data in parsed:
        for key, card in data.contact_cards.items():
            built = compile_card(c, doc, key, card, cards)
            if built is not None:
                cards[key] = built
    return cards


def _flows(c: Compiling, parsed: Parsed, cards: dict[str, ContactCard]) -> dict[str, Flow]:
    flows: dict[str, Flow] = {}
    docs: dict[str, YamlDoc] = {}
    for doc, data in parsed:
        for name, body in data.flows.items():
            if name in docs:
                c.error(doc, ["flows", name], f"flow {name} is defined twice")
                continue
            docs[name] = doc
            flow = compile_flow(c, doc, name, body)
            if flow is not None:
                flows[name] = flow
    link_flows(c, docs, flows, cards)
    return flows


def _check_keyword_flows(c: Compiling, parsed: Parsed, flows: dict[str, Flow]) -> None:
    for doc, data in parsed:
        for name, body in data.keywords.items():
            wanted = body.flow if body is not None else None
            if wanted and wanted not in flows:
                c.error(
                    doc, ["keywords", name, "flow"], f"{name}: starts flow {wanted!r}, which is not defined"
                )
