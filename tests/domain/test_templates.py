from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bot.domain.templates import TemplateProblem, compile_template
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems

CASES = [
    "Hi {{ first_name }}!",
    'Hi {{ first_name | default("there") }}!',
    "Hi {{first_name|default('there')}}, {{ program }} here",
    "{{ a }}{{ b }} and {{ a }}",
    "No tags at all",
    "Hi {{- first_name -}} !",
]
CONTEXTS: list[dict[str, Any]] = [
    {},
    {"first_name": "Ana"},
    {"first_name": ""},
    {"a": 1, "b": [1, 2], "program": "Acme"},
]


@pytest.mark.parametrize("source", CASES)
def test_the_simple_renderer_says_exactly_what_jinja_says(source: str) -> None:
    jinja = ImmutableSandboxedEnvironment().from_string(source)
    template = compile_template(source)
    for context in CONTEXTS:
        expected = " ".join(jinja.render(context).split()) if template.names else source
        assert template.render(context) == expected, context


def test_richer_templates_go_to_the_sandbox() -> None:
    template = compile_template("{% if vip %}VIP {% endif %}{{ first_name | upper }}")
    assert template._parts is None
    assert template.render({"vip": True, "first_name": "ana"}) == "VIP ANA"
    assert template.names == {"vip", "first_name"}


def test_the_sandbox_refuses_unsafe_attribute_access_and_render_never_raises() -> None:
    template = compile_template("{{ ''.__class__.__mro__ }}x")
    assert template._parts is None
    with pytest.raises(SecurityError):
        template.render_strict({})
    assert template.render({}) == ""  # nothing leaks, nothing raises into a transaction


def test_jinja_syntax_without_variables_is_still_rendered() -> None:
    assert compile_template("{% if true %}yes{% endif %}").render({}) == "yes"


def test_an_unsafe_template_is_a_check_error_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "program: {name: A, brand: B, help_contact: C}\nkeywords:\n  EVENTS:\n    type: preference\n"
        "    reply: \"{{ ''.__class__.__mro__ }}\"\n"
    )
    with pytest.raises(FileProblems) as caught:
        load_program(tmp_path)
    assert str(caught.value).startswith(f"{tmp_path}/p.yaml:5: keywords.EVENTS.reply: cannot be rendered")


def test_a_syntax_error_is_reported() -> None:
    with pytest.raises(TemplateProblem, match="template error"):
        compile_template("Hi {{ first_name ")
