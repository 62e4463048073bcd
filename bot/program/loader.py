"""Read keywords/*.yaml, validate, and compile one immutable Program, or say what is wrong."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from bot import yamlfile
from bot.core.compliance import DEFAULT_TABLE
from bot.core.text import fold
from bot.program.model import Keyword, Program, ProgramInfo
from bot.program.schema import KeywordFile, KeywordSection, ProgramSection
from bot.program.templates import MessageTemplate, TemplateProblem, compile_template
from bot.yamlfile import FileProblems, Problem, YamlDoc


@dataclass(frozen=True)
class Loaded:
    program: Program
    warnings: list[Problem]


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
    if compiler.errors:
        raise FileProblems(compiler.errors)
    assert program is not None
    return Loaded(program, compiler.warnings)


class _Compiler:
    def __init__(self) -> None:
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []

    def error(self, doc: YamlDoc, loc: list[str | int], message: str) -> None:
        self.errors.append(Problem(str(doc.path), doc.line_of(loc), message))

    def template(self, doc: YamlDoc, loc: list[str | int], source: str | None) -> MessageTemplate | None:
        if source is None:
            return None
        try:
            return compile_template(source)
        except TemplateProblem as exc:
            self.error(doc, loc, f"{'.'.join(map(str, loc))}: {exc}")
            return None

    def compile(self, parsed: list[tuple[YamlDoc, KeywordFile]], fingerprint: str) -> Program | None:
        section: tuple[YamlDoc, ProgramSection] | None = None
        for doc, data in parsed:
            if data.program is None:
                continue
            if section is not None:
                self.error(
                    doc, ["program"], f"program: already set in {section[0].path}; keep one program section"
                )
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

        info = ProgramInfo(
            name=settings.name,
            brand=settings.brand,
            help_contact=settings.help_contact,
            frequency=settings.frequency,
            default_language=settings.default_language,
        )
        keywords: dict[str, Keyword] = {}
        index: dict[str, Keyword] = {}
        where: dict[str, tuple[YamlDoc, str]] = {}
        for doc, data in parsed:
            for name, body in data.keywords.items():
                self.keyword(doc, name, body or KeywordSection(), keywords, index, where)

        return Program(
            info=info,
            keywords=keywords,
            index=index,
            fallback=self.template(program_doc, ["program", "fallback"], settings.fallback),
            not_subscribed=self.template(program_doc, ["program", "not_subscribed"], settings.not_subscribed),
            reply_to_unknown=settings.reply_to_unknown,
            reply_to_strangers=settings.reply_to_strangers,
            compliance=DEFAULT_TABLE,
            fingerprint=fingerprint,
        )

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
                    f"{name}: {spelled!r} is already a word of keyword {other} ({other_doc.path}:"
                    f"{other_doc.line_of(['keywords', other])})",
                )
                continue
            if folded in words:
                continue
            words.append(folded)
        keyword = Keyword(
            name=name,
            kind=body.type,
            words=tuple(words),
            source=body.source or name,
            language=body.language,
            double_opt_in=body.double_opt_in,
            match=body.match,
            reply=self.template(doc, [*loc, "reply"], body.reply),
            flow=body.flow,
        )
        keywords[name] = keyword
        for word in words:
            index[word] = keyword
            where[word] = (doc, name)
