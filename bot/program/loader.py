"""Read keywords/*.yaml, validate, and compile one immutable Program, or say what is wrong.

Besides the schema, the compiler checks what costs money or breaks the law: a word in two
keywords, a reserved compliance word used as a keyword, a message that uses an undeclared tag, an
opt-in confirmation without what the CTIA requires, and each message's encoding and segments.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot import yamlfile
from bot.core.compliance import DEFAULT_TABLE
from bot.core.text import fold
from bot.program.model import (
    CONTEXT_TAGS,
    ChangeOp,
    Keyword,
    KeywordKind,
    Program,
    ProgramInfo,
    PropertyChange,
)
from bot.program.properties import PropertySpec, PropertyType
from bot.program.schema import KeywordFile, KeywordSection, ProgramSection, PropertySection
from bot.program.templates import MessageTemplate, TemplateProblem, compile_template
from bot.program.typos import MIN_LENGTH, TypoIndex
from bot.sms import segments
from bot.yamlfile import FileProblems, Problem, YamlDoc

_RATES = re.compile(r"msg\s*(&|and)\s*data\s+rates\s+may\s+apply", re.IGNORECASE)
COMPLIANCE_WORDS = frozenset(word for word in DEFAULT_TABLE if " " not in word)


@dataclass(frozen=True)
class Loaded:
    program: Program
    warnings: list[Problem]  # warnings and notes (encoding, segments): the program still loads


def keyword_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in (".yaml", ".yml") and p.is_file())


def load_program(directory: Path) -> Loaded:
    """Compile the program in `directory`; raise FileProblems listing every error."""
    files = keyword_files(directory)
    if not files:
        raise FileProblems([Problem(str(directory), 1, "no keyword files (*.yaml) found")])

    problems: list[Problem] = []
    parsed: list[tuple[YamlDoc, KeywordFile]] = []
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

    compiler = _Compiler()
    program = compiler.compile(parsed, digest.hexdigest()[:16])
    if compiler.errors:  # with the warnings and notes, so one run of `check` shows everything
        raise FileProblems([*compiler.errors, *compiler.warnings])
    assert program is not None
    return Loaded(program, compiler.warnings)


class _Compiler:
    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self.properties: dict[str, PropertySpec] = {}
        self.info: ProgramInfo | None = None

    def error(self, doc: YamlDoc, loc: list[str | int], message: str) -> None:
        self.errors.append(Problem(str(doc.path), doc.line_of(loc), message))

    def note(self, doc: YamlDoc, loc: list[str | int], message: str, severity: str = "warning") -> None:
        self.warnings.append(Problem(str(doc.path), doc.line_of(loc), message, severity))

    def template(self, doc: YamlDoc, loc: list[str | int], source: str | None) -> MessageTemplate | None:
        if source is None:
            return None
        where = ".".join(map(str, loc))
        try:
            template = compile_template(source)
        except TemplateProblem as exc:
            self.error(doc, loc, f"{where}: {exc}")
            return None
        unknown = sorted(template.names - CONTEXT_TAGS - set(self.properties))
        if unknown:
            self.error(
                doc,
                loc,
                f"{where}: uses {', '.join(unknown)}, which is neither a declared property nor one of "
                f"{', '.join(sorted(CONTEXT_TAGS))}",
            )
        self.segments(doc, loc, template)
        return template

    def segments(self, doc: YamlDoc, loc: list[str | int], template: MessageTemplate) -> None:
        assert self.info is not None
        try:
            text = template.render_strict({**self.info.context(), "join": "JOIN"})
        except Exception as exc:  # the sandbox refuses, a filter fails: say so now, not per message
            self.error(doc, loc, f"{'.'.join(map(str, loc))}: cannot be rendered: {exc}")
            return
        found = segments(text)
        severity = "warning" if found.encoding == "UCS-2" else "info"
        self.note(doc, loc, f"{'.'.join(map(str, loc))}: {found.describe()}", severity)

    def compile(self, parsed: list[tuple[YamlDoc, KeywordFile]], fingerprint: str) -> Program | None:
        section: tuple[YamlDoc, ProgramSection] | None = None
        for doc, data in parsed:
            if data.program is None:
                continue
            if section is not None:
                self.error(doc, ["program"], f"program: already set in {section[0].path}; keep one")
            else:
                section = (doc, data.program)
        if section is None:
            first = parsed[0][0]
            self.errors.append(
                Problem(
                    str(first.path), 1, "no program section: expected program: with name, brand, help_contact"
                )
            )
            return None
        program_doc, settings = section
        self.info = ProgramInfo(
            name=settings.name,
            brand=settings.brand,
            help_contact=settings.help_contact,
            frequency=settings.frequency,
            default_language=settings.default_language,
        )
        for doc, data in parsed:
            for name, spec in data.properties.items():
                self.property(doc, name, spec)

        keywords: dict[str, Keyword] = {}
        index: dict[str, Keyword] = {}
        where: dict[str, tuple[YamlDoc, str]] = {}
        for doc, data in parsed:
            for name, body in data.keywords.items():
                self.keyword(doc, name, body or KeywordSection(), keywords, index, where)
        typo_words = {
            word: keyword.name
            for word, keyword in index.items()
            if not keyword.exact and len(word) >= MIN_LENGTH and " " not in word
        }
        typos = TypoIndex(typo_words, blocked=COMPLIANCE_WORDS)
        self.close_words(typos, where)
        return Program(
            info=self.info,
            keywords=keywords,
            index=index,
            fallback=self.template(program_doc, ["program", "fallback"], settings.fallback),
            not_subscribed=self.template(program_doc, ["program", "not_subscribed"], settings.not_subscribed),
            reply_to_unknown=settings.reply_to_unknown,
            reply_to_strangers=settings.reply_to_strangers,
            properties=dict(self.properties),
            compliance=DEFAULT_TABLE,
            typos=typos,
            fingerprint=fingerprint,
        )

    def property(self, doc: YamlDoc, name: str, spec: PropertyType | PropertySection) -> None:
        loc: list[str | int] = ["properties", name]
        if name in self.properties:
            self.error(doc, loc, f"property {name} is declared twice")
            return
        if name in CONTEXT_TAGS:
            self.error(doc, loc, f"property {name}: the name is taken by a built-in tag; choose another")
            return
        section = spec if isinstance(spec, PropertySection) else PropertySection(type=spec)
        if section.type is PropertyType.CHOICE and not section.choices:
            self.error(doc, loc, f"property {name}: a choice needs choices: [...]")
            return
        self.properties[name] = PropertySpec(name, section.type, tuple(section.choices))

    def changes(self, doc: YamlDoc, name: str, body: KeywordSection) -> tuple[PropertyChange, ...]:
        found: list[PropertyChange] = []
        for op, items in ((ChangeOp.SET, body.set), (ChangeOp.ADD, body.add), (ChangeOp.REMOVE, body.remove)):
            for prop, value in items.items():
                loc: list[str | int] = ["keywords", name, op.value, prop]
                spec = self.properties.get(prop)
                if spec is None:
                    self.error(
                        doc, loc, f"{name}: {op.value} {prop}: no such property; declare it under properties:"
                    )
                    continue
                if op is not ChangeOp.SET and spec.type is not PropertyType.LIST:
                    self.error(
                        doc, loc, f"{name}: {op.value} works on list properties; {prop} is {spec.type.value}"
                    )
                    continue
                try:
                    coerced = spec.coerce(value)
                except ValueError as exc:
                    self.error(doc, loc, f"{name}: {exc}")
                    continue
                found.append(PropertyChange(op, prop, coerced))
        for i, prop in enumerate(body.clear):
            if prop not in self.properties:
                self.error(doc, ["keywords", name, "clear", i], f"{name}: clear {prop}: no such property")
                continue
            found.append(PropertyChange(ChangeOp.CLEAR, prop))
        return tuple(found)

    def keyword(
        self,
        doc: YamlDoc,
        name: str,
        body: KeywordSection,
        keywords: dict[str, Keyword],
        index: dict[str, Keyword],
        where: dict[str, tuple[YamlDoc, str]],
    ) -> None:
        loc: list[str | int] = ["keywords", name]
        if name in keywords:
            self.error(doc, loc, f"keyword {name} is defined twice")
            return
        words: list[str] = []
        for i, spelled in enumerate([name, *body.also]):
            here = loc if i == 0 else [*loc, "also", i - 1]
            folded = fold(str(spelled))
            if not folded:
                self.error(doc, here, f"{name}: {spelled!r} has no letters or digits to match")
                continue
            reserved = DEFAULT_TABLE.get(folded)
            if reserved is not None:
                self.error(
                    doc,
                    here,
                    f"{name}: {spelled!r} is reserved for compliance ({reserved.intent.value}); "
                    "choose another word",
                )
                continue
            if folded in where:
                other_doc, other = where[folded]
                self.error(
                    doc,
                    here,
                    f"{name}: {spelled!r} is already a word of keyword {other} "
                    f"({other_doc.path}:{other_doc.line_of(['keywords', other])})",
                )
                continue
            if folded not in words:
                words.append(folded)
        if body.type is KeywordKind.PREFERENCE and body.double_opt_in:
            self.error(doc, [*loc, "double_opt_in"], f"{name}: double_opt_in belongs to opt_in keywords")
        reply = self.template(doc, [*loc, "reply"], body.reply)
        if body.type is KeywordKind.OPT_IN and reply is not None:  # also sent after a double opt-in Y
            self.confirmation(doc, [*loc, "reply"], name, reply)
        keyword = Keyword(
            name=name,
            kind=body.type,
            words=tuple(words),
            source=body.source or name,
            language=body.language,
            double_opt_in=body.double_opt_in,
            match=body.match,
            exact=body.exact,
            reply=reply,
            flow=body.flow,
            changes=self.changes(doc, name, body),
        )
        keywords[name] = keyword
        for word in words:
            index[word] = keyword
            where[word] = (doc, name)

    def confirmation(self, doc: YamlDoc, loc: list[str | int], name: str, reply: MessageTemplate) -> None:
        """An opt-in confirmation must say what the CTIA requires."""
        assert self.info is not None
        try:
            text = reply.render_strict(self.info.context())
        except Exception:
            return  # already reported by segments()
        missing = []
        if self.info.name.lower() not in text.lower():
            missing.append(f"the program name ({self.info.name!r} or {{{{ program }}}})")
        if self.info.frequency.lower() not in text.lower():
            missing.append(f"the message frequency ({self.info.frequency!r} or {{{{ frequency }}}})")
        if not _RATES.search(text):
            missing.append('"Msg&data rates may apply"')
        if not re.search(r"\bHELP\b", text):
            missing.append("how to get help (HELP)")
        if not re.search(r"\bSTOP\b", text):
            missing.append("how to opt out (STOP)")
        if missing:
            self.error(
                doc, loc, f"{name}: the opt-in confirmation lacks {'; '.join(missing)} (CTIA requires them)"
            )

    def close_words(self, typos: TypoIndex, where: dict[str, tuple[YamlDoc, str]]) -> None:
        """Keyword words one letter from a compliance word: their typos could be either."""
        near: dict[str, list[str]] = {}
        for compliance in sorted(COMPLIANCE_WORDS):
            for word in typos.candidates(compliance):
                near.setdefault(word, []).append(compliance)
        for word, words in near.items():
            doc, name = where[word]
            self.note(
                doc,
                ["keywords", name],
                f"{name}: {word.upper()} is one letter from {', '.join(w.upper() for w in words)}; "
                "typos that could be either match neither",
            )
