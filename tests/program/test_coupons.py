"""`coupons:` pools and `coupon("pool")` in messages, as `smsbot check` reads them."""

from pathlib import Path

from bot.program.loader import load_program
from tests.program.test_loader import problems, program_dir

POOLS = "coupons:\n  welcome10:\n    description: 10% off a first order\n    low_at: 50\n  vip: {}\n"


def test_a_declared_pool_loads_and_a_keyword_may_give_its_codes(tmp_path: Path) -> None:
    keywords = (
        "keywords:\n  JOIN: {}\n  VIP:\n    type: preference\n    reply: 'Your code: {{ coupon(\"vip\") }}'\n"
    )
    program = load_program(program_dir(tmp_path, POOLS + keywords)).program
    assert set(program.coupons) == {"welcome10", "vip"}
    assert program.coupons["welcome10"].low_at == 50


def test_a_pool_nobody_declared_is_named_with_its_line(tmp_path: Path) -> None:
    keywords = "keywords:\n  JOIN: {}\n  VIP:\n    type: preference\n    reply: 'Code: {{ coupon(\"welcome15\") }}'\n"
    found = problems(program_dir(tmp_path, POOLS + keywords))
    assert found == [
        f"{tmp_path}/program.yaml:14: keywords.VIP.reply: coupon('welcome15'): no such pool under "
        "coupons: (vip, welcome10)"
    ]


def test_a_pool_named_by_anything_but_a_quoted_name_is_refused(tmp_path: Path) -> None:
    keywords = (
        "keywords:\n  JOIN: {}\n  VIP:\n    type: preference\n    reply: 'Code: {{ coupon(program) }}'\n"
    )
    found = problems(program_dir(tmp_path, POOLS + keywords))
    assert len(found) == 1 and 'expected coupon("pool"), the name of a pool in quotes' in found[0]


def test_a_pool_name_the_command_line_could_not_carry_is_refused(tmp_path: Path) -> None:
    found = problems(program_dir(tmp_path, "coupons:\n  Welcome 10: {}\nkeywords:\n  JOIN: {}\n"))
    assert len(found) == 1 and "coupons.Welcome 10: expected a name of lowercase letters" in found[0]


def test_a_saved_reply_may_not_give_a_code(tmp_path: Path) -> None:
    inbox = "inbox:\n  saved_replies:\n    sorry: 'So sorry! {{ coupon(\"vip\") }}'\nkeywords:\n  JOIN: {}\n"
    found = problems(program_dir(tmp_path, POOLS + inbox))
    assert len(found) == 1 and "a saved reply cannot give a coupon code" in found[0]
