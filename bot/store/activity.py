"""The dashboard's counts, kept as the data arrives.

A trigger on each counted table appends a row to `activity_deltas` for each thing counted (a join,
an opt-out, a text, a hand-over, a delivery, a tap, an order credited), in the transaction that
writes it: every writer (webhook, worker, store events, a CLI import) is counted, and nothing is
counted that was rolled back. Appending never waits on another transaction's lock, so two web
processes never queue behind one counter row. `fold` moves the deltas into `hourly_counts` (one row
per hour, metric and label) and `total_counts` (all time, per metric and label); `read` and `totals`
add what is not folded yet, so a page is always exact.

Hours are UTC hours since the epoch: a page groups them into days of the program's time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise

from sqlalchemy import ColumnElement, bindparam, case, func, literal, select, text, union_all
from sqlalchemy.engine import Connection

from bot.domain.activity import AllTime, Count, Shifts
from bot.store.schema import activity_deltas, hourly_counts, total_counts

KIND = (  # what kind of message an outbound row is
    "CASE WHEN new.campaign_id IS NOT NULL THEN 'campaign' "
    "WHEN new.run_id IS NOT NULL THEN 'flow' ELSE 'other' END"
)
FAILED = "('failed', 'undelivered')"
HELD_BACK = "CASE WHEN new.reason LIKE 'template:%' THEN 'template' ELSE coalesce(new.reason, '') END"
EPOCH = date(1970, 1, 1)


# A flow run's first message handed to the carrier: a recipient of the flow (conversion rates are
# per recipient, as Klaviyo's benchmarks count them, not per message). Looked up by the
# subscriber's own messages (their index), among which the run's are few.
def _first_of_run(earlier: str) -> str:
    return (
        "new.run_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM messages AS earlier "
        "WHERE earlier.subscriber_id = new.subscriber_id AND earlier.run_id = new.run_id "
        f"AND earlier.handed_at IS NOT NULL AND earlier.id {earlier} new.id)"
    )


CANCELLED = "old.cancelled_at IS NULL AND new.cancelled_at IS NOT NULL"
MINOR = "coalesce(new.value_minor, 0)"
CREDITED = (  # an order credited to a message: counted by origin, by opt-in source, by its owner
    ("conversions", "new.origin || ':' || coalesce(new.currency, '')"),
    ("revenue_source", "coalesce(new.opt_in_source, '') || ':' || coalesce(new.currency, '')"),
    ("earned", "new.origin || ':' || new.origin_name || ':' || coalesce(new.currency, '')"),
)
HANDED_FLOW = "new.handed_at IS NOT NULL AND new.direction = 'outbound' AND "
AT_STEP = "new.flow || ':' || CAST(new.step AS TEXT)"  # a flow's step (its index)
# Where a run rests: at its question (waiting for the answer), or at the wait before its next step
# (a run resting at a wait is kept at the step after it, not waiting, due when the wait ends).
RESTING_AT = "new.flow || ':' || CAST(CASE WHEN new.waiting THEN new.step ELSE new.step - 1 END AS TEXT)"


@dataclass(frozen=True)
class Rule:
    """One thing counted: when a row of `table` is inserted (or updated) and `when` holds, add `n`
    (and `amount`) to `metric` under `label` at the hour of `at`. Filling the counts from the
    history takes the insert rules over the stored rows: each row counted as it stands now."""

    table: str
    on: str  # insert | update
    metric: str
    label: str
    at: str
    when: str
    n: str = "1"
    amount: str = "0"
    fill: str | None = None  # the condition on a stored row when filling, if not `when`
    revision: int = 11  # the migration that brought the columns it reads
    replaced: int | None = None  # the migration from which another rule counts this instead
    bulk: str | None = None  # rows written many at once, counted by their writer (count_bulk)

    def counts_at(self, revision: int) -> bool:
        return self.revision <= revision and (self.replaced is None or revision < self.replaced)

    @property
    def by_trigger(self) -> str:
        """The trigger's condition: the rule's own, but for the rows counted in bulk."""
        return self.when if self.bulk is None else f"({self.when}) AND NOT ({self.bulk})"


JOINED = "new.to_status = 'subscribed' AND new.from_status <> 'subscribed'"
CLICKED = "new.preview = false"
FIRST_TAP = (
    "NOT EXISTS (SELECT 1 FROM clicks AS earlier WHERE earlier.link_id = new.link_id "
    "AND earlier.preview = false AND earlier.id < new.id)"
)
# From 0024 an import's consent records are counted a batch at a time by the importer (a delta per
# hour and label, not one per row; the trigger does not fire for them): the same rules, summed.
IMPORTED = "new.action = 'imported'"
CONSENT = (
    ("joined", "coalesce(new.source, '')", JOINED),
    ("joined_keyword", "coalesce(new.keyword, '')", JOINED),
    ("confirmed", "coalesce(new.keyword, '')", "new.action = 'opt_in_confirmed'"),
    (
        "left",
        "coalesce(new.keyword, '')",
        "new.to_status = 'unsubscribed' AND new.from_status = 'subscribed'",
    ),
    ("opt_out_asked", "''", "new.action = 'opt_out_asked'"),
)
RULES = (
    *(
        Rule("consent_events", "insert", metric, label, "new.at", when, revision=since, replaced=until,
             bulk=bulk)
        for metric, label, when in CONSENT
        for since, until, bulk in ((11, 24, None), (24, None, IMPORTED))
    ),
    Rule("keyword_events", "insert", "texts", "new.keyword", "new.at", "true"),
    Rule("keyword_events", "insert", "misspelt", "new.keyword", "new.at", "new.misspelt = true"),
    Rule("messages", "insert", "received", "''", "new.created_at", "new.direction = 'inbound'"),
    Rule(
        "messages", "insert", "sent", "'reply'", "new.created_at",
        "new.direction = 'outbound' AND new.reply_to IS NOT NULL",
    ),
    # Sent: a reply in the webhook's answer, or a message handed to the carrier (a dry run's and
    # `smsbot chat`'s too, as the campaign report counts them). A message stored already handed
    # over or reported (an import) is counted as it stands.
    Rule(
        "messages", "insert", "sent", KIND, "new.handed_at",
        "new.handed_at IS NOT NULL AND new.reply_to IS NULL AND new.direction = 'outbound'",
    ),
    Rule(
        "messages", "insert", "delivered", KIND, "coalesce(new.handed_at, new.created_at)",
        "new.status = 'delivered' AND new.direction = 'outbound'",
    ),
    Rule(
        "messages", "insert", "failed", "coalesce(CAST(new.error_code AS TEXT), '')",
        "coalesce(new.handed_at, new.created_at)",
        f"new.status IN {FAILED} AND new.direction = 'outbound'",
    ),
    # As it moves on: handed over, delivered, failed (a later report may take either back).
    Rule(
        "messages", "update", "sent", KIND, "new.handed_at",
        "old.handed_at IS NULL AND new.handed_at IS NOT NULL AND new.reply_to IS NULL",
    ),
    Rule(
        "messages", "update", "delivered", KIND, "coalesce(new.handed_at, new.created_at)",
        "new.status = 'delivered' AND old.status <> 'delivered'",
    ),
    Rule(
        "messages", "update", "delivered", KIND.replace("new.", "old."),
        "coalesce(old.handed_at, old.created_at)",
        "old.status = 'delivered' AND new.status <> 'delivered'", n="-1",
    ),
    Rule(
        "messages", "update", "failed", "coalesce(CAST(new.error_code AS TEXT), '')",
        "coalesce(new.handed_at, new.created_at)",
        f"new.status IN {FAILED} AND old.status NOT IN {FAILED}",
    ),
    Rule(
        "messages", "update", "failed", "coalesce(CAST(old.error_code AS TEXT), '')",
        "coalesce(old.handed_at, old.created_at)",
        f"old.status IN {FAILED} AND new.status NOT IN {FAILED}", n="-1",
    ),
    # A flow's recipients (from 0019): each run counted once, at its first message handed over.
    Rule(  # the first of a run written: with others of its run in one statement, the lowest id
        "messages", "insert", "recipients", "'flow'", "new.handed_at",
        HANDED_FLOW + _first_of_run("<"), revision=19,
    ),
    Rule(
        "messages", "update", "recipients", "'flow'", "new.handed_at",
        "old.handed_at IS NULL AND " + HANDED_FLOW + _first_of_run("<>"), revision=19,
    ),
    # Held back for good before the carrier, by why: the gate's reasons (an opt-out, smart sending,
    # an exit, a campaign stopped), or a message that could not be written (a template failed).
    Rule(
        "messages", "insert", "held_back", HELD_BACK, "new.created_at",
        "new.direction = 'outbound' AND (new.status = 'cancelled' OR "
        "(new.status = 'failed' AND new.reason IS NOT NULL))", revision=12,
    ),
    Rule(
        "messages", "update", "held_back", HELD_BACK, "new.updated_at",
        "new.status = 'cancelled' AND old.status <> 'cancelled'", revision=12,
    ),
    Rule(
        "clicks", "insert", "clicks",
        "CASE WHEN new.campaign_id IS NOT NULL THEN 'campaign' ELSE 'other' END", "new.at", CLICKED,
    ),
    Rule(
        "clicks", "insert", "clickers",
        "CASE WHEN new.campaign_id IS NOT NULL THEN 'campaign' ELSE 'other' END", "new.at",
        f"{CLICKED} AND {FIRST_TAP}",
    ),
    # Orders credited: counted as they are (to 0019), then (from 0020) filled without those
    # cancelled since, which take their count back when they are (below).
    *(
        Rule("conversions", "insert", metric, label, "new.occurred_at", "true", amount=MINOR, replaced=20)
        for metric, label in CREDITED
    ),
    *(
        Rule(
            "conversions", "insert", metric, label, "new.occurred_at", "true", amount=MINOR,
            fill="new.cancelled_at IS NULL", revision=20,
        )
        for metric, label in CREDITED
    ),
    *(
        Rule(
            "conversions", "update", metric, label, "new.occurred_at", CANCELLED,
            n="-1", amount=f"-{MINOR}", revision=20,
        )
        for metric, label in CREDITED
    ),
    Rule("flow_runs", "insert", "flow_started", "new.flow", "new.started_at", "true"),
    Rule(  # filled: where runs rest or stopped (the history of their moves is not in the tables)
        "flow_runs", "insert", "flow_reached", AT_STEP, "new.started_at", "new.status = 'active'",
        fill="new.status <> 'ended'", replaced=18,
    ),
    Rule(
        "flow_runs", "update", "flow_reached", AT_STEP, "new.updated_at",
        "new.status = 'active' AND (new.step <> old.step OR old.status <> 'active')", replaced=18,
    ),
    Rule(  # from 0018: a run resting at a wait counted at the wait, not at the step after it
        "flow_runs", "insert", "flow_reached", RESTING_AT, "new.started_at", "new.status = 'active'",
        fill="new.status <> 'ended'", revision=18,
    ),
    Rule(
        "flow_runs", "update", "flow_reached", RESTING_AT, "new.updated_at",
        "new.status = 'active' AND (new.step <> old.step OR new.waiting <> old.waiting "
        "OR old.status <> 'active')", revision=18,
    ),
    Rule("flow_runs", "insert", "flow_completed", "new.flow", "new.started_at", "new.status = 'ended'"),
    Rule(
        "flow_runs", "update", "flow_completed", "new.flow", "new.updated_at",
        "new.status = 'ended' AND old.status = 'active'",
    ),
    Rule(
        "flow_runs", "insert", "flow_stopped", AT_STEP, "new.updated_at", "new.status = 'cancelled'"
    ),
    Rule(
        "flow_runs", "update", "flow_stopped", AT_STEP, "new.updated_at",
        "new.status = 'cancelled' AND old.status = 'active'",
    ),
)  # fmt: skip


def hour_of(dialect: str, at: str) -> str:
    """SQL for the UTC hour (since the epoch) of timestamp `at`."""
    if dialect == "postgresql":
        return f"CAST(floor(extract(epoch FROM {at}) / 3600) AS BIGINT)"
    return f"(CAST(strftime('%s', {at}) AS INTEGER) / 3600)"


def _select(dialect: str, rule: Rule, rows: str = "") -> str:
    """A rule's delta for the row `new` (a row's trigger) or for each of `rows` (FROM ...)."""
    label = f"CAST({rule.label} AS VARCHAR(140))"
    return (
        f"SELECT {hour_of(dialect, rule.at)}, '{rule.metric}', {label}, {rule.n}, {rule.amount} "
        f"{rows}WHERE {rule.by_trigger}"
    )


_NEW = re.compile(r"\bnew\.")


def _summed_statement(rules: list[Rule]) -> str:
    """A statement trigger's body: every rule over the statement's rows (`inserted`), summed. (In
    PL/pgSQL `new` is the trigger's own record, so the rows go by another name.)"""
    selects = " UNION ALL ".join(
        _NEW.sub("added.", _select("postgresql", rule, "FROM inserted AS added ")) for rule in rules
    )
    return (
        "INSERT INTO activity_deltas (hour, metric, label, n, amount) SELECT hour, metric, label, "
        f"sum(n), sum(amount) FROM ({selects}) AS counted (hour, metric, label, n, amount) "
        "GROUP BY hour, metric, label;"
    )


def _insert(dialect: str, rules: list[Rule]) -> str:
    selects = " UNION ALL ".join(_select(dialect, rule) for rule in rules)
    return f"INSERT INTO activity_deltas (hour, metric, label, n, amount) {selects};"


STATEMENTS_FROM = 25  # from this migration PostgreSQL counts an INSERT's rows once per statement
LATEST = max(STATEMENTS_FROM, *(rule.revision for rule in RULES))


def _groups(revision: int = LATEST) -> dict[tuple[str, str], list[Rule]]:
    groups: dict[tuple[str, str], list[Rule]] = {}
    for rule in RULES:
        if not rule.counts_at(revision):
            continue
        groups.setdefault((rule.table, rule.on), []).append(rule)
    return groups


WATCHED = {
    "messages": "UPDATE OF status, handed_at",
    "flow_runs": "UPDATE OF status, step, waiting",
    "conversions": "UPDATE OF cancelled_at",
}


def _watched(table: str, on: str) -> str:
    return WATCHED[table] if on == "update" else on.upper()


def install(conn: Connection, revision: int = LATEST) -> None:
    """(Re)create the counting triggers: one per table and kind of write (the rules the schema of
    migration `revision` can run)."""
    for (table, on), rules in _groups(revision).items():
        name = f"count_{table}_{on}"
        bulk = {rule.bulk for rule in rules}
        when = f" WHEN (NOT ({bulk.pop()}))" if len(bulk) == 1 and None not in bulk else ""  # not fired
        if conn.dialect.name == "postgresql":
            per_statement = on == "insert" and revision >= STATEMENTS_FROM
            _install_postgresql(conn, name, table, on, rules, when, per_statement)
            continue
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))
        body = _insert("sqlite", rules)
        conn.execute(
            text(f"CREATE TRIGGER {name} AFTER {_watched(table, on)} ON {table}{when} BEGIN {body} END")
        )


def _install_postgresql(
    conn: Connection, name: str, table: str, on: str, rules: list[Rule], when: str, per_statement: bool
) -> None:
    """`per_statement` (inserts, from 0025): the rows of an INSERT counted once per statement, from
    its transition table, a delta per metric, label and hour, so that a batch written in one
    statement (bulk.executemany) is counted in one go, not a row at a time (the rules' own
    conditions leave out the rows counted in bulk, as WHEN does for a row's trigger)."""
    body = _summed_statement(rules) if per_statement else _insert("postgresql", rules)
    each = (
        " REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT" if per_statement else f" FOR EACH ROW{when}"
    )
    conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
    conn.execute(
        text(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body} RETURN NULL; END $$"
        )
    )
    conn.execute(
        text(f"CREATE TRIGGER {name} AFTER {_watched(table, on)} ON {table}{each} EXECUTE FUNCTION {name}()")
    )


def uninstall(conn: Connection) -> None:
    for table, on in _groups():
        name = f"count_{table}_{on}"
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {table}"))
            conn.execute(text(f"DROP FUNCTION IF EXISTS {name}()"))
        else:
            conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def fill(conn: Connection, revision: int = LATEST, since: int = 0) -> None:
    """Count the history once (a new install, or an upgrade of a database that has some): every
    rule (of the migrations after `since` up to `revision`) over the rows it would have counted,
    as deltas, then folded."""
    dialect = conn.dialect.name
    for rule in RULES:
        if rule.on != "insert" or not since < rule.revision <= revision or not rule.counts_at(revision):
            continue
        conn.execute(text(_summed(dialect, rule, rule.fill or rule.when)))
    fold(conn)


def count_bulk(conn: Connection, table: str, after: int) -> None:
    """Count the rows of `table` past id `after` that the triggers leave to their writer (an
    import's consent records): a delta per rule, hour and label, however many rows."""
    dialect = conn.dialect.name
    for rule in RULES:
        if rule.table == table and rule.bulk is not None and rule.counts_at(LATEST):
            where = f"new.id > :after AND ({rule.when}) AND ({rule.bulk})"
            conn.execute(text(_summed(dialect, rule, where)), {"after": after})


def _summed(dialect: str, rule: Rule, where: str) -> str:
    """SQL adding `rule`'s deltas for the rows of its table that `where` picks, summed."""
    hour = hour_of(dialect, rule.at)
    label = f"CAST({rule.label} AS VARCHAR(140))"
    return (
        f"INSERT INTO activity_deltas (hour, metric, label, n, amount) "
        f"SELECT {hour}, '{rule.metric}', {label}, sum({rule.n}), sum({rule.amount}) "
        f"FROM {rule.table} AS new WHERE {where} GROUP BY {hour}, {label}"
    )


def _adding(table: str, key: str) -> str:
    """INSERT INTO `table` the deltas summed by `key` (in a FROM that follows), adding to what is there."""
    return (
        f"INSERT INTO {table} ({key}, n, amount) SELECT {key}, sum(n), sum(amount) FROM {{source}} "
        f"GROUP BY {key} ON CONFLICT ({key}) DO UPDATE SET n = {table}.n + excluded.n, "
        f"amount = {table}.amount + excluded.amount"
    )


HOURLY = _adding("hourly_counts", "hour, metric, label")
TOTAL = _adding("total_counts", "metric, label")


def fold(conn: Connection, most: int | None = None) -> int:
    """Move the deltas (the oldest `most` of them, or all) into hourly_counts; how many moved."""
    if conn.dialect.name == "postgresql":
        return _fold_postgresql(conn, most)
    return _fold_sqlite(conn, most)


def _fold_postgresql(conn: Connection, most: int | None) -> int:
    """One statement: what it deletes is exactly what it adds, whatever commits meanwhile; two
    folds at once take different rows."""
    oldest = "SELECT id FROM activity_deltas ORDER BY id LIMIT :most FOR UPDATE SKIP LOCKED"
    taken = "" if most is None else f" WHERE id IN ({oldest})"
    statement = (
        f"WITH gone AS (DELETE FROM activity_deltas{taken} RETURNING hour, metric, label, n, amount), "
        f"hourly AS ({HOURLY.format(source='gone')} RETURNING 1), "
        f"total AS ({TOTAL.format(source='gone')} RETURNING 1) "
        "SELECT (SELECT count(*) FROM gone)"
    )
    return int(conn.execute(text(statement), {"most": most} if most is not None else {}).scalar_one())


def _fold_sqlite(conn: Connection, most: int | None) -> int:
    """SQLite has one writer: the rows up to an id are all there is below it."""
    last = conn.execute(select(func.max(activity_deltas.c.id))).scalar()
    if most is not None:
        nth = select(activity_deltas.c.id).order_by(activity_deltas.c.id).offset(max(0, most - 1)).limit(1)
        last = conn.execute(nth).scalar() or last  # fewer than `most`: all of them
    if last is None:
        return 0
    taken = "activity_deltas WHERE id <= :last"
    for adding in (HOURLY, TOTAL):
        conn.execute(text(adding.format(source=taken)), {"last": last})
    return int(conn.execute(activity_deltas.delete().where(activity_deltas.c.id <= last)).rowcount)


def read(conn: Connection, first_hour: int, end_hour: int, shifts: Shifts = ((0, 0),)) -> list[Count]:
    """Every count in [first_hour, end_hour), folded or not, summed by local day: `shifts` are the
    zone's UTC offsets in hours, each from the hour it begins (activity.shifts), so the database
    groups by day and hands over a row per day, metric and label."""
    parts = [
        select(t.c.hour, t.c.metric, t.c.label, t.c.n, t.c.amount).where(
            t.c.hour >= bindparam("first"), t.c.hour < bindparam("end")
        )
        for t in (hourly_counts, activity_deltas)
    ]
    both = union_all(*parts).subquery()
    whens = [(both.c.hour < later[0], literal(now[1])) for now, later in pairwise(shifts)]
    offset: ColumnElement[int] = (
        case(*whens, else_=literal(shifts[-1][1])) if whens else literal(shifts[0][1])
    )
    day = ((both.c.hour + offset) // 24).label("day")
    query = select(day, both.c.metric, both.c.label, func.sum(both.c.n), func.sum(both.c.amount)).group_by(
        day, both.c.metric, both.c.label
    )
    rows = conn.execute(query, {"first": first_hour, "end": end_hour})
    return [
        Count(EPOCH + timedelta(days=int(d)), str(m), str(lb), int(n), int(a or 0)) for d, m, lb, n, a in rows
    ]


def totals(conn: Connection, metrics: tuple[str, ...]) -> AllTime:
    """All time: (n, amount) by metric, then label, folded or not (a row per label: the fold
    keeps the totals too)."""
    parts = [
        select(t.c.metric, t.c.label, t.c.n, t.c.amount).where(t.c.metric.in_(metrics))
        for t in (total_counts, activity_deltas)
    ]
    both = union_all(*parts).subquery()
    rows = conn.execute(
        select(both.c.metric, both.c.label, func.sum(both.c.n), func.sum(both.c.amount)).group_by(
            both.c.metric, both.c.label
        )
    )
    found: AllTime = {metric: {} for metric in metrics}
    for metric, label, n, amount in rows:
        found[str(metric)][str(label)] = (int(n), int(amount or 0))
    return found
