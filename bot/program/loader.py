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
from bot.core.compliance import ComplianceWord, Intent, build_table
from bot.core.inbound import BadInbound, to_e164
from bot.core.text import fold
from bot.i18n import negotiate
from bot.program.flows import Flow, FlowCompiler
from bot.program.model import (
    CONTEXT_TAGS,
    ChangeOp,
    Keyword,
    KeywordKind,
    Program,
    ProgramInfo,
    PropertyChange,
)
from bot.program.properties import BUILT_IN, PropertySpec, PropertyType
from bot.program.schema import (
    ContactCardSection,
    KeywordFile,
    KeywordSection,
    ProgramSection,
    PropertySection,
)
from bot.program.templates import LocalizedMessage, MessageTemplate, TemplateProblem, compile_template
from bot.program.typos import MIN_LENGTH, TypoIndex
from bot.sms import segments
from bot.vcard import ContactCard
from bot.vcard import build as build_card
from bot.yamlfile import FileProblems, Problem, YamlDoc

_RATES = re.compile(r"msg\s*(&|and)\s*data\s+rates\s+may\s+apply", re.IGNORECASE)
# What an opt-in confirmation must say, per language: the rates notice, a help word, an opt-out word.
_CTIA: dict[str, tuple[re.Pattern[str], tuple[str, ...], tuple[str, ...]]] = {
    "en": (_RATES, ("HELP",), ("STOP",)),
    "es": (re.compile(r"tarifas\s+de\s+mensajes", re.IGNORECASE), ("AYUDA", "HELP"), ("ALTO", "STOP")),
    "fr": (
        re.compile(r"frais\s+de\s+messagerie", re.IGNORECASE),
        ("AIDE", "HELP"),
        ("ARRET", "ARRÊT", "STOP"),
    ),
}
_RATES_SAMPLE = {
    "en": "Msg&data rates may apply",
    "es": "Pueden aplicarse tarifas de mensajes y datos",
    "fr": "Des frais de messagerie et de données peuvent s'appliquer",
}


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
        self.properties: dict[str, PropertySpec] = dict(BUILT_IN)
        self.info: ProgramInfo | None = None
        self.languages: tuple[str, ...] = ()
        self.table: dict[str, ComplianceWord] = {}

    def error(self, doc: YamlDoc, loc: list[str | int], message: str) -> None:
        self.errors.append(Problem(str(doc.path), doc.line_of(loc), message))

    def note(self, doc: YamlDoc, loc: list[str | int], message: str, severity: str = "warning") -> None:
        self.warnings.append(Problem(str(doc.path), doc.line_of(loc), message, severity))

    def template(
        self, doc: YamlDoc, loc: list[str | int], source: str | dict[str, str] | None
    ) -> LocalizedMessage | None:
        """Compile a message: one text, or one per language; warn for each language it lacks."""
        if source is None:
            return None
        assert self.info is not None
        given = source if isinstance(source, dict) else {self.info.default_language: source}
        where = ".".join(map(str, loc))
        variants: dict[str, MessageTemplate] = {}
        for language, text in given.items():
            here = [*loc, language] if isinstance(source, dict) else loc
            if language.split("_")[0] not in self.languages:
                self.note(
                    doc,
                    here,
                    f"{where}.{language}: not one of the program's languages ({', '.join(self.languages)}); "
                    "add it to program.languages",
                )
            try:
                template = compile_template(str(text))
            except TemplateProblem as exc:
                self.error(doc, here, f"{where}: {exc}")
                continue
            unknown = sorted(template.names - CONTEXT_TAGS - set(self.properties))
            if unknown:
                self.error(
                    doc,
                    here,
                    f"{where}: uses {', '.join(unknown)}, which is neither a declared property nor one of "
                    f"{', '.join(sorted(CONTEXT_TAGS))}",
                )
            self.segments(doc, here, template, language if isinstance(source, dict) else "")
            variants[language] = template
        if not variants:
            return None
        missing = [lang for lang in self.languages if lang not in variants]
        if missing:
            self.note(
                doc,
                loc,
                f"{where}: no {', '.join(missing)} translation; {'they' if len(missing) > 1 else 'it'} "
                f"will get the {self.info.default_language} text",
            )
        return LocalizedMessage(variants, self.info.default_language)

    def segments(self, doc: YamlDoc, loc: list[str | int], template: MessageTemplate, language: str) -> None:
        assert self.info is not None
        label = ".".join(map(str, loc))
        try:
            text = template.render_strict({**self.info.context(language or None), "join": "JOIN"})
        except Exception as exc:  # the sandbox refuses, a filter fails: say so now, not per message
            self.error(doc, loc, f"{label}: cannot be rendered: {exc}")
            return
        found = segments(text)
        severity = "info"
        if found.ucs2_characters:  # a warning when UCS-2 costs segments: in GSM-7 it would need fewer
            in_gsm7 = segments("".join("?" if c in found.ucs2_characters else c for c in text))
            severity = "warning" if found.segments > in_gsm7.segments else "info"
        self.note(doc, loc, f"{label}: {found.describe()}", severity)

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
        default = settings.default_language
        translated: dict[str, dict[str, str]] = {}
        for key, value in (("program", settings.name), ("frequency", settings.frequency)):
            if isinstance(value, dict):
                for language, text in value.items():
                    translated.setdefault(language, {})[key] = text
                if default not in value:
                    field_name = "name" if key == "program" else key
                    self.error(
                        program_doc, ["program", field_name], f"program.{field_name}: needs a {default} text"
                    )
        name, frequency = settings.name, settings.frequency
        self.info = ProgramInfo(
            name=name.get(default, "") if isinstance(name, dict) else name,
            brand=settings.brand,
            help_contact=settings.help_contact,
            frequency=frequency.get(default, "") if isinstance(frequency, dict) else frequency,
            default_language=default,
            translated=translated,
        )
        self.languages = tuple(dict.fromkeys([settings.default_language, *settings.languages]))
        for language in self.languages:
            if negotiate(language, "") != language.split("_")[0]:
                self.note(
                    program_doc,
                    ["program", "languages"],
                    f"program.languages: smsbot has no {language} catalog, so its own replies (HELP, STOP)"
                    "will be in the default language; see the README, 'Adding a language'",
                )
        self.table = self.compliance(program_doc, settings)
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
        typos = TypoIndex(typo_words, blocked=[w for w in self.table if " " not in w])
        self.close_words(typos, where)
        cards: dict[str, ContactCard] = {}
        for doc, data in parsed:
            for key, card in data.contact_cards.items():
                built = self.contact_card(doc, key, card, cards)
                if built is not None:
                    cards[key] = built
        flows = self.flows(parsed, cards)
        for doc, data in parsed:
            for name, body in data.keywords.items():
                wanted = body.flow if body is not None else None
                if wanted and wanted not in flows:
                    self.error(
                        doc,
                        ["keywords", name, "flow"],
                        f"{name}: starts flow {wanted!r}, which is not defined",
                    )
        return Program(
            info=self.info,
            keywords=keywords,
            index=index,
            fallback=self.template(program_doc, ["program", "fallback"], settings.fallback),
            not_subscribed=self.template(program_doc, ["program", "not_subscribed"], settings.not_subscribed),
            reply_to_unknown=settings.reply_to_unknown,
            reply_to_strangers=settings.reply_to_strangers,
            properties=dict(self.properties),
            compliance=self.table,
            languages=self.languages,
            contact_cards=cards,
            flows=flows,
            typos=typos,
            fingerprint=fingerprint,
        )

    def compliance(self, doc: YamlDoc, settings: ProgramSection) -> dict[str, ComplianceWord]:
        extra: dict[str, dict[Intent, tuple[str, ...]]] = {}
        for language, words in settings.compliance.items():
            extra[language] = {
                Intent.OPT_OUT: tuple(words.opt_out),
                Intent.HELP: tuple(words.help),
                Intent.OPT_IN: tuple(words.opt_in),
            }
        table = build_table(extra)
        for language, words in settings.compliance.items():
            for intent, listed in (
                (Intent.OPT_OUT, words.opt_out),
                (Intent.HELP, words.help),
                (Intent.OPT_IN, words.opt_in),
            ):
                for word in listed:
                    known = table[fold(word)]
                    if known.intent is not intent:
                        self.error(
                            doc,
                            ["program", "compliance", language],
                            f"{word} already means {known.intent.value}",
                        )
        return table

    def flows(
        self, parsed: list[tuple[YamlDoc, KeywordFile]], cards: dict[str, ContactCard]
    ) -> dict[str, Flow]:
        compiler = FlowCompiler(self)
        flows: dict[str, Flow] = {}
        docs: dict[str, YamlDoc] = {}
        for doc, data in parsed:
            for name, body in data.flows.items():
                if name in docs:
                    self.error(doc, ["flows", name], f"flow {name} is defined twice")
                    continue
                docs[name] = doc
                flow = compiler.compile(doc, name, body)
                if flow is not None:
                    flows[name] = flow
        compiler.link(docs, flows, cards)
        return flows

    def contact_card(
        self, doc: YamlDoc, key: str, card: ContactCardSection, cards: dict[str, ContactCard]
    ) -> ContactCard | None:
        loc: list[str | int] = ["contact_cards", key]
        if key in cards:
            self.error(doc, loc, f"contact card {key} is defined twice")
            return None
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", key):
            self.error(
                doc, loc, f"contact card {key!r}: use lowercase letters, digits, - and _ (it is in its URL)"
            )
            return None
        phones = []
        broken = False
        for i, number in enumerate(card.phones):
            try:
                phones.append(to_e164(number))
            except BadInbound:
                broken = True
                self.error(
                    doc, [*loc, "phones", i], f"contact card {key}: {number!r} is not a +country phone number"
                )
        if broken:
            return None
        logo: Path | str | None = card.logo
        if card.logo and not re.match(r"^https?://", card.logo):
            path = (doc.path.parent / card.logo).resolve()
            if not path.is_file():
                self.error(
                    doc,
                    [*loc, "logo"],
                    f"contact card {key}: logo {card.logo!r} not found beside {doc.path.name}",
                )
                return None
            logo = path
        return build_card(
            key,
            full_name=card.name,
            organisation=card.organisation,
            phones=phones,
            email=card.email,
            url=card.url,
            logo=logo,
        )

    def property(self, doc: YamlDoc, name: str, spec: PropertyType | PropertySection) -> None:
        loc: list[str | int] = ["properties", name]
        if name in BUILT_IN:
            self.error(doc, loc, f"property {name} is built in (smsbot sets it); remove it from properties:")
            return
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
            reserved = self.table.get(folded)
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
        if body.type is KeywordKind.LANGUAGE and not body.language:
            self.error(doc, loc, f"{name}: a language keyword needs language: (e.g. es)")
        if body.type is not KeywordKind.OPT_IN and body.double_opt_in:
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

    def confirmation(self, doc: YamlDoc, loc: list[str | int], name: str, reply: LocalizedMessage) -> None:
        """An opt-in confirmation must say what the CTIA requires, in each of its languages."""
        assert self.info is not None
        for language, template in reply.variants.items():
            here = (
                [*loc, language] if len(reply.variants) > 1 or language != self.info.default_language else loc
            )
            words = self.info.context(language)
            try:
                text = template.render_strict(words)
            except Exception:
                continue  # already reported by segments()
            rates, help_words, stop_words = _CTIA.get(language.split("_")[0], _CTIA["en"])
            missing = []
            if words["program"].lower() not in text.lower():
                missing.append(f"the program name ({words['program']!r} or {{{{ program }}}})")
            if words["frequency"].lower() not in text.lower():
                missing.append(f"the message frequency ({words['frequency']!r} or {{{{ frequency }}}})")
            if not rates.search(text):
                missing.append(f'"{_RATES_SAMPLE.get(language.split("_")[0], _RATES_SAMPLE["en"])}"')
            if not any(re.search(rf"\b{w}\b", text) for w in help_words):
                missing.append(f"how to get help ({' or '.join(help_words)})")
            if not any(re.search(rf"\b{w}\b", text) for w in stop_words):
                missing.append(f"how to opt out ({' or '.join(stop_words)})")
            if missing:
                self.error(
                    doc,
                    here,
                    f"{name}: the opt-in confirmation lacks {'; '.join(missing)} (CTIA requires them)",
                )

    def close_words(self, typos: TypoIndex, where: dict[str, tuple[YamlDoc, str]]) -> None:
        """Keyword words one letter from a compliance word: their typos could be either."""
        near: dict[str, list[str]] = {}
        for compliance in sorted(w for w in self.table if " " not in w):
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
