"""Keywords, declared properties and the program's compliance words, compiled and checked."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.compliance import ComplianceWord, Intent, build_table
from bot.domain.model import ChangeOp, Keyword, KeywordKind, PropertyChange
from bot.domain.properties import BUILT_IN, PropertySpec, PropertyType
from bot.domain.templates import BUILT_IN_TAGS
from bot.domain.text import fold
from bot.domain.typos import MIN_LENGTH, TypoIndex
from bot.program.context import Compiling, Loc
from bot.program.messages import check_confirmation, compile_message
from bot.program.schema import KeywordSection, ProgramSection, PropertySection
from bot.program.yamlfile import YamlDoc


def compliance_table(c: Compiling, doc: YamlDoc, settings: ProgramSection) -> dict[str, ComplianceWord]:
    """The built-in compliance words plus the program's own; a word cannot mean two things."""
    extra: dict[str, dict[Intent, tuple[str, ...]]] = {
        language: {
            Intent.OPT_OUT: tuple(words.opt_out),
            Intent.HELP: tuple(words.help),
            Intent.OPT_IN: tuple(words.opt_in),
        }
        for language, words in settings.compliance.items()
    }
    table = build_table(extra)
    for language, vocabulary in extra.items():
        for intent, listed in vocabulary.items():
            for word in listed:
                known = table[fold(word)]
                if known.intent is not intent:
                    c.error(
                        doc, ["program", "compliance", language], f"{word} already means {known.intent.value}"
                    )
    return table


def opt_out_phrases(
    c: Compiling, doc: YamlDoc, settings: ProgramSection, book: KeywordBook
) -> dict[str, tuple[tuple[str, ...], ...]]:
    """A program's own opt-out phrases per language, folded; each must have words and be no keyword."""
    found: dict[str, tuple[tuple[str, ...], ...]] = {}
    for language, words in settings.compliance.items():
        phrases = []
        for i, phrase in enumerate(words.opt_out_phrases):
            where: Loc = ["program", "compliance", language, "opt_out_phrases", i]
            folded = fold(phrase)
            if not folded:
                c.error(doc, where, f"opt-out phrase {phrase!r} has no letters or digits to match")
            elif folded in book.index:
                c.error(
                    doc, where, f"opt-out phrase {phrase!r} is keyword {book.index[folded].name}; choose one"
                )
            else:
                phrases.append(tuple(folded.split()))
        if phrases:
            found[language] = tuple(phrases)
    return found


def declare_property(c: Compiling, doc: YamlDoc, name: str, spec: PropertyType | PropertySection) -> None:
    loc: Loc = ["properties", name]
    if name in BUILT_IN:
        c.error(doc, loc, f"property {name} is built in (smsbot sets it); remove it from properties:")
    elif name in c.properties:
        c.error(doc, loc, f"property {name} is declared twice")
    elif name in BUILT_IN_TAGS:
        c.error(doc, loc, f"property {name}: the name is taken by a built-in tag; choose another")
    else:
        section = spec if isinstance(spec, PropertySection) else PropertySection(type=spec)
        if section.type is PropertyType.CHOICE and not section.choices:
            c.error(doc, loc, f"property {name}: a choice needs choices: [...]")
            return
        c.properties[name] = PropertySpec(name, section.type, tuple(section.choices), section.max_length)


@dataclass
class KeywordBook:
    """The keywords compiled so far, and where each folded word was defined."""

    keywords: dict[str, Keyword] = field(default_factory=dict)  # by name
    index: dict[str, Keyword] = field(default_factory=dict)  # folded word -> keyword
    where: dict[str, tuple[YamlDoc, str]] = field(default_factory=dict)  # folded word -> (doc, keyword)

    def typo_index(self, blocked: list[str]) -> TypoIndex:
        words = {
            word: keyword.name
            for word, keyword in self.index.items()
            if not keyword.exact and len(word) >= MIN_LENGTH and " " not in word
        }
        return TypoIndex(words, blocked=blocked)


def compile_keyword(c: Compiling, book: KeywordBook, doc: YamlDoc, name: str, body: KeywordSection) -> None:
    loc: Loc = ["keywords", name]
    if name in book.keywords:
        c.error(doc, loc, f"keyword {name} is defined twice")
        return
    words = _words(c, book, doc, name, body)
    if body.type is KeywordKind.LANGUAGE and not body.language:
        c.error(doc, loc, f"{name}: a language keyword needs language: (e.g. es)")
    if body.type is not KeywordKind.OPT_IN and body.double_opt_in:
        c.error(doc, [*loc, "double_opt_in"], f"{name}: double_opt_in belongs to opt_in keywords")
    reply = compile_message(c, doc, [*loc, "reply"], body.reply)
    already = compile_message(c, doc, [*loc, "already_subscribed"], body.already_subscribed)
    if already is not None and body.type is not KeywordKind.OPT_IN:
        c.error(doc, [*loc, "already_subscribed"], f"{name}: already_subscribed belongs to opt_in keywords")
    if body.type is KeywordKind.OPT_IN and reply is not None:  # also sent after a double opt-in Y
        check_confirmation(c, doc, [*loc, "reply"], name, reply)
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
        already_subscribed=already,
        flow=body.flow,
        changes=_changes(c, doc, name, body),
    )
    book.keywords[name] = keyword
    for word in words:
        book.index[word] = keyword
        book.where[word] = (doc, name)


def _words(c: Compiling, book: KeywordBook, doc: YamlDoc, name: str, body: KeywordSection) -> list[str]:
    """The keyword's folded words; each one free (not compliance, not another keyword's)."""
    loc: Loc = ["keywords", name]
    words: list[str] = []
    for i, spelled in enumerate([name, *body.also]):
        here = loc if i == 0 else [*loc, "also", i - 1]
        folded = fold(str(spelled))
        reserved = c.table.get(folded)
        if not folded:
            c.error(doc, here, f"{name}: {spelled!r} has no letters or digits to match")
        elif reserved is not None:
            c.error(
                doc,
                here,
                f"{name}: {spelled!r} is reserved for compliance ({reserved.intent.value}); "
                "choose another word",
            )
        elif folded in book.where:
            other_doc, other = book.where[folded]
            c.error(
                doc,
                here,
                f"{name}: {spelled!r} is already a word of keyword {other} "
                f"({other_doc.path}:{other_doc.line_of(['keywords', other])})",
            )
        elif folded not in words:
            words.append(folded)
    return words


def _changes(c: Compiling, doc: YamlDoc, name: str, body: KeywordSection) -> tuple[PropertyChange, ...]:
    found: list[PropertyChange] = []
    for op, items in ((ChangeOp.SET, body.set), (ChangeOp.ADD, body.add), (ChangeOp.REMOVE, body.remove)):
        for prop, value in items.items():
            change = _change(c, doc, name, op, prop, value)
            if change is not None:
                found.append(change)
    for i, prop in enumerate(body.clear):
        if prop not in c.properties:
            c.error(doc, ["keywords", name, "clear", i], f"{name}: clear {prop}: no such property")
            continue
        found.append(PropertyChange(ChangeOp.CLEAR, prop))
    return tuple(found)


def _change(
    c: Compiling, doc: YamlDoc, name: str, op: ChangeOp, prop: str, value: object
) -> PropertyChange | None:
    loc: Loc = ["keywords", name, op.value, prop]
    spec = c.properties.get(prop)
    if spec is None:
        c.error(doc, loc, f"{name}: {op.value} {prop}: no such property; declare it under properties:")
        return None
    if op is not ChangeOp.SET and spec.type is not PropertyType.LIST:
        c.error(doc, loc, f"{name}: {op.value} works on list properties; {prop} is {spec.type.value}")
        return None
    try:
        return PropertyChange(op, prop, spec.coerce(value))
    except ValueError as exc:
        c.error(doc, loc, f"{name}: {exc}")
        return None


def note_close_words(c: Compiling, book: KeywordBook, typos: TypoIndex) -> None:
    """Keyword words one letter from a compliance word: their typos could be either."""
    near: dict[str, list[str]] = {}
    for compliance in sorted(w for w in c.table if " " not in w):
        for word in typos.candidates(compliance):
            near.setdefault(word, []).append(compliance)
    for word, words in near.items():
        doc, name = book.where[word]
        c.note(
            doc,
            ["keywords", name],
            f"{name}: {word.upper()} is one letter from {', '.join(w.upper() for w in words)}; "
            "typos that could be either match neither",
        )
