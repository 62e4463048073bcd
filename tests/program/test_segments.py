"""Segments in the YAML: what `smsbot check` refuses, with file:line."""

from pathlib import Path

import pytest

from bot.domain.segments import All, DateWithin, Engaged, Field, InSegment, IsOneOf, Not, Op, Property
from bot.program.loader import load_program
from bot.program.yamlfile import FileProblems
from tests.conftest import KEYWORDS


def test_the_shipped_segments_compile() -> None:
    segments = load_program(KEYWORDS).program.segments
    assert segments["north_america"].condition == IsOneOf(Field.COUNTRY, ("US", "CA"))
    assert segments["engaged_30_days"].condition == Engaged(30)
    assert segments["birthday_this_week"].condition == DateWithin("birthday", 7, ignore_year=True)
    assert segments["shoe_fans"].condition == Property("interests", Op.CONTAINS, "shoes")
    assert segments["shoe_fans_not_vip"].condition == All((InSegment("shoe_fans"), Not(InSegment("vip"))))


def errors(folder: Path, yaml: str) -> list[str]:
    (folder / "segments.yaml").write_text("segments:\n" + yaml)
    with pytest.raises(FileProblems) as caught:
        load_program(folder)
    return [str(p) for p in caught.value.problems if p.severity == "error"]


@pytest.mark.parametrize(
    ("yaml", "expected"),
    [
        ("  a: {property: shoe_size, equals: 9}\n", "property shoe_size: not declared"),
        ("  a: {property: vip, equals: maybe}\n", "vip is true or false"),
        ("  a: {property: vip, contains: x}\n", "contains works on list properties"),
        ("  a: {property: first_name, greater: 3}\n", "works on numbers and dates"),
        ("  a: {texted: JIONN}\n", "texted JIONN: no such keyword"),
        ("  a: {segment: nowhere}\n", "no segment nowhere"),
        ("  a: {segment: b}\n  b: {segment: a}\n", "it includes itself"),
        ("  a: {colour: red}\n", "a condition needs exactly one of"),
        ("  a: {texted: JOIN, within_days: 0}\n", "within_days"),
        ("  a: {country: USA}\n", "two-letter ISO codes"),
        ("  a: {placed_order: {at_least: 0}}\n", "at_least: expects a whole number"),
        ("  a: {spent: {within_days: 30}}\n", "spent: expects over, under or both"),
        ("  a: {spent: {over: lots}}\n", "spent: over: 'lots' is not an amount"),
        ("  a: {spent: {over: 5, currency: dollars}}\n", "spent: currency: expected an ISO 4217 code"),
        ("  a: {started_checkout: {}}\n", "within_days: expects a whole number of days"),
        ("  a: {started_checkout: {within_days: 7, without_order: sometimes}}\n", "without_order: expects"),
        ("  a: {ordered_product: ''}\n", "ordered_product: expects a product"),
        ("  a: {received_campaign: nowhere}\n", "no campaign nowhere"),
        ("  a: {clicked: {campaign: nowhere}}\n", "clicked: no campaign nowhere"),
        ("  a: {subscribed: {after: yesterday}}\n", "after: expects a date"),
        ("  a: {subscribed: {}}\n", "expects after, before or within_days"),
        ("  a: {property: first_name, in_last_days: 30}\n", "in_last_days works on date properties"),
        ("  a: {property: birthday, in_next_days: 0}\n", "in_next_days: expects a whole number of days"),
        ("  a: {property: vip, between: [1, 2]}\n", "works on numbers and dates"),
        ("  a: {engaged: {}}\n", "within_days: expects a whole number of days"),
        ("  a: {clicked: {flow: nowhere}}\n", "clicked: no flow nowhere"),
        ("  a: {in_flow: nowhere}\n", "in_flow nowhere: no such flow"),
    ],
)
def test_mistakes_are_refused_with_file_and_line(keywords_copy: Path, yaml: str, expected: str) -> None:
    found = errors(keywords_copy, yaml)
    assert any(expected in e and "segments.yaml:2:" in e for e in found), found


def test_more_than_a_hundred_conditions_is_refused(keywords_copy: Path) -> None:
    many = ", ".join(["{status: subscribed}"] * 101)
    assert any("more than 100 conditions" in e for e in errors(keywords_copy, f"  a: {{any: [{many}]}}\n"))


def test_every_segment_of_a_cycle_is_named(keywords_copy: Path) -> None:
    found = errors(keywords_copy, "  a: {segment: b}\n  b: {segment: a}\n")
    assert [e for e in found if "segment a: it includes itself" in e]
    assert [e for e in found if "segment b: it includes itself" in e]
