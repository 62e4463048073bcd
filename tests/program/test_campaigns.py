"""Campaigns in the YAML: what `smsbot check` refuses or warns of, with file:line."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.domain.campaigns import Timing
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS

STOP = "Reply STOP to opt out"


def test_the_shipped_campaigns_compile() -> None:
    campaigns = load_program(KEYWORDS).program.campaigns
    sale = campaigns["shoe_sale"]
    assert (sale.segment, sale.timing, sale.smart_sending_hours) == ("engaged_shoe_fans", Timing.LOCAL, 24.0)
    assert set(sale.message.variants) == {"en", "es", "fr"}
    assert sale.draft and sale.starts_at(ZoneInfo("America/New_York")) is None  # an example only
    assert campaigns["ofertas_de_invierno"].timing is Timing.MANUAL


def problems(folder: Path, yaml: str, severity: str = "error") -> list[str]:
    (folder / "more.yaml").write_text("campaigns:\n" + yaml)
    try:
        found = load_program(folder).warnings
    except FileProblems as exc:
        found = exc.problems
    return [str(p) for p in found if p.severity == severity]


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        (f"  a: {{segment: nobody, message: 'Hi. {STOP}'}}\n", "campaign a: no segment nobody"),
        (f"  a: {{segment: vip, message: '{'Long words. ' * 50}{STOP}'}}\n", "5 segments (GSM-7); at most 3"),
        (
            f"  a: {{segment: vip, message: 'Hi {STOP}', media: ['http://a.example/x.jpg']}}\n",
            "https:// URLs",
        ),
        (
            f"  a: {{segment: vip, message: 'Hi {STOP}', send_at: '2026-12-05T10:00:00+02:00'}}\n",
            "without a zone",
        ),
        (f"  a: {{segment: vip, message: 'Hi {{{{ shoe_size }}}} {STOP}'}}\n", "uses shoe_size"),
        ("  a: {segment: vip}\n", "message"),
        (
            f"  a: {{segment: vip, message: 'A {STOP}', test: {{variants: {{c: {{message: 'C {STOP}'}}}}}}}}\n",
            "test.variants: expected b, then c and d",
        ),
        (
            f"  a: {{segment: vip, message: 'A {STOP}', test: {{variants: {{}}}}}}\n",
            "test.variants: expected b, then c and d",
        ),
        (
            f"  a: {{segment: vip, message: 'A {STOP}', test: {{variants: {{b: {{message: 'B'}}}}, wait: soon}}}}\n",
            "test.wait 'soon': expected 4h",
        ),
        (
            f"  a: {{segment: vip, message: 'A {STOP}', test: {{variants: {{b: {{message: '{'Long words. ' * 50}'}}}}}}}}\n",
            "test.variants.b.message: 4 segments",
        ),
        (
            f"  a: {{segment: vip, message: 'A {STOP}', test: {{variants: {{b: {{message: 'B'}}}}, share: 100}}}}\n",
            "share",
        ),
    ],
)
def test_mistakes_are_refused_with_file_and_line(keywords_copy: Path, yaml: str, expected: str) -> None:
    found = problems(keywords_copy, yaml)
    assert any(expected in e and "more.yaml:2" in e for e in found), found


def test_a_link_counts_at_the_short_links_length(keywords_copy: Path) -> None:
    long_url = "https://acme.example/" + "x" * 300
    yaml = f"  a: {{segment: vip, message: 'Sale {{{{ link(\"{long_url}\") }}}} {STOP}'}}\n"
    assert problems(keywords_copy, yaml) == []
    assert any("GSM-7, 1 segment" in n for n in problems(keywords_copy, yaml, "info"))


def test_a_send_time_long_past_is_said_not_to_send_by_itself(keywords_copy: Path) -> None:
    yaml = f"  a: {{segment: vip, message: 'Hi {STOP}', send_at: '2020-01-01 10:00'}}\n"
    [warning] = [w for w in problems(keywords_copy, yaml, "warning") if "has passed" in w]
    assert "more.yaml:2" in warning and "smsbot campaign send a" in warning
