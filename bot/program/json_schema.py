"""The keyword program's JSON Schema, from the very model `smsbot check` reads the YAML with: an
editor given it (`# yaml-language-server: $schema=program.schema.json`, as the shipped files start)
completes and checks keys as the marketer types. `smsbot check` still checks what a schema cannot
(templates, segments, flows' steps, the CTIA's words): the schema is the keys and their types."""

from __future__ import annotations

import json
from typing import Any

from bot.program.schema import KeywordFile

SCHEMA_ID = "https://smsbot.dev/program.schema.json"
SCHEMA_FILE = "program.schema.json"  # beside the shipped YAML, in keywords/
EDITOR_LINE = f"# yaml-language-server: $schema={SCHEMA_FILE}"


def program_schema() -> dict[str, Any]:
    found = KeywordFile.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "smsbot keyword program (one file of keywords/*.yaml)",
        **found,
    }


def schema_text() -> str:
    return json.dumps(program_schema(), indent=2, sort_keys=True) + "\n"
