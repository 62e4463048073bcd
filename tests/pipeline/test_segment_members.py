"""CSV rows a spreadsheet opens safely."""

from bot.pipeline.segment_members import csv_lines


def test_a_formula_typed_as_a_name_is_kept_as_text() -> None:
    member = {
        "phone": "+14155550100",
        "status": "subscribed",
        "language": "en",
        "country": "US",
        "opt_in_source": "JOIN",
        "opt_in_keyword": "JOIN",
        "subscribed_at": None,
        "properties": {
            "first_name": '=HYPERLINK("http://evil.example","x")',
            "interests": ["shoes", "sales"],
        },
    }
    header, line = list(csv_lines(iter([[member]]), ["first_name", "interests"]))
    assert header.startswith("phone,status,")
    assert line.startswith("+14155550100,subscribed,")  # a phone number stays a phone number
    assert "'=HYPERLINK" in line and "shoes;sales" in line
