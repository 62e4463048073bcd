"""Segments as data: what the API shows of a condition."""


def test_every_condition_describes_itself_as_plain_data_nested_to_any_depth() -> None:
    import json

    from bot.domain.segments import (
        All,
        AnyOf,
        Clicked,
        DateWithin,
        Engaged,
        Field,
        InFlow,
        InSegment,
        IsOneOf,
        Not,
        Op,
        Property,
        ReceivedCampaign,
        Subscribed,
        Texted,
        describe,
    )

    condition = All(
        (
            Not(Engaged(30)),
            AnyOf((IsOneOf(Field.COUNTRY, ("US", "CA")), Property("score", Op.BETWEEN, (1, 5)))),
            DateWithin("birthday", 7, ignore_year=True),
            Subscribed(after="2026-01-01"),
            Texted("JOIN", 30, 2),
            Clicked(campaign="sale"),
            ReceivedCampaign("sale"),
            InFlow("welcome", finished=True),
            InSegment("vip"),
        )
    )
    described = describe(condition)
    json.dumps(described)  # plain data all the way down
    assert described["conditions"][0] == {"kind": "not", "condition": {"kind": "engaged", "within_days": 30}}
    assert described["conditions"][1]["conditions"][0] == {
        "kind": "is_one_of",
        "field": "country",
        "values": ["US", "CA"],
    }
