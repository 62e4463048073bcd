"""`coupons:` in the keyword YAML: the pools of unique codes messages draw from, and every
`coupon("pool")` a message writes checked against them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from jinja2 import nodes

from bot.domain.coupons import POOL_NAME, CouponPool
from bot.domain.templates import LocalizedMessage, parse_template
from bot.program.context import Compiling, Loc
from bot.program.schema import CouponPoolSection
from bot.program.yamlfile import YamlDoc


def compile_coupons(
    c: Compiling, sections: Sequence[tuple[YamlDoc, Mapping[str, CouponPoolSection | None]]]
) -> dict[str, CouponPool]:
    """The pools, each declared once; they go in `c.coupons` for the messages that follow."""
    for doc, pools in sections:
        for name, section in pools.items():
            where: Loc = ["coupons", name]
            if not POOL_NAME.match(name):
                c.error(doc, where, f"coupons.{name}: expected a name of lowercase letters, digits, _ and -")
            elif name in c.coupons:
                c.error(doc, where, f"coupons.{name}: declared twice")
            else:
                given = section or CouponPoolSection()
                found = (str(doc.path), doc.line_of(where))
                c.coupons[name] = CouponPool(name, given.description, given.low_at, found)
    return dict(c.coupons)


def coupon_calls(text: str) -> list[nodes.Call]:
    """The `coupon(...)` calls in a message's template (its syntax is known to be good)."""
    if "coupon" not in text:
        return []
    return [
        call
        for call in parse_template(text).find_all(nodes.Call)
        if isinstance(call.node, nodes.Name) and call.node.name == "coupon"
    ]


def gives_coupons(message: LocalizedMessage) -> bool:
    return any(coupon_calls(template.source) for template in message.variants.values())


def check_coupon_calls(c: Compiling, doc: YamlDoc, loc: Loc, text: str) -> None:
    """Each `coupon(...)` names, in quotes, a pool declared under `coupons:`."""
    where = ".".join(map(str, loc))
    for call in coupon_calls(text):
        named = call.args[0] if len(call.args) == 1 and not call.kwargs else None
        if not isinstance(named, nodes.Const) or not isinstance(named.value, str):
            c.error(doc, loc, f'{where}: expected coupon("pool"), the name of a pool in quotes')
            continue
        pool = named.value
        if pool not in c.coupons:
            known = ", ".join(sorted(c.coupons)) or "none is declared"
            c.error(doc, loc, f"{where}: coupon({pool!r}): no such pool under coupons: ({known})")
