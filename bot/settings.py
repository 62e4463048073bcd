"""Operator settings: `config.yaml` overridden by the environment.

Secrets (Twilio auth token, admin token) come only from the environment; a config file that
names one is refused, so they never end up in version control.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, IPvAnyNetwork, ValidationError

from bot.domain.attribution import Windows
from bot.domain.outcome import Policy
from bot.domain.quiet_hours import QuietHours, Window
from bot.program import yamlfile
from bot.program.yamlfile import FileProblems, Problem

DEFAULT_CONFIG = Path("config.yaml")
SIGNING_SECRET = "TWILIO_AUTH_TOKEN"  # the variable that holds the key webhooks are signed with
SECRET_KEYS = {
    "auth_token",
    "twilio_auth_token",
    "admin_token",
    "events_token",
    "metrics_token",
    "password",
    "secret",
    "webhook_secret",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerFile(_Strict):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str | None = None
    shutdown_timeout: float = Field(30.0, gt=0)
    workers: int = Field(0, ge=0, description="web processes serving the port; 0: one per CPU core")
    # The load balancers in front (addresses or networks): behind one of them, a client's address is
    # the last one X-Forwarded-For names that is not one of these.
    trusted_proxies: tuple[IPvAnyNetwork, ...] = ()


class ComplianceFile(_Strict):
    # The carrier (e.g. Twilio Advanced Opt-Out, or default STOP filtering on long codes) already
    # confirms STOP and START; sending ours too would double the message.
    carrier_sends_confirmations: bool = False


class WindowFile(_Strict):
    start: time = time(8, 0)
    end: time = time(21, 0)


class QuietHoursFile(WindowFile):
    countries: dict[str, WindowFile] = Field(default_factory=dict)  # ISO region -> its own window
    fallback_zone: str = "UTC"  # for numbers whose zone the number cannot tell


class SendingFile(_Strict):
    # Where MMS is delivered (contact cards go as MMS there, as a link or nothing elsewhere): ISO regions.
    mms_countries: list[str] = Field(default_factory=lambda: ["US", "CA"])
    card_elsewhere: Literal["link", "skip"] = "link"
    from_number: str | None = None  # E.164; or a Messaging Service
    messaging_service_sid: str | None = None
    api_url: str = "https://api.twilio.com"  # any Twilio-compatible provider
    rate: float = Field(1.0, gt=0, description="messages per second per sending number")
    quiet_hours: QuietHoursFile = QuietHoursFile()
    worker: Literal["in_server", "separate"] = "in_server"
    max_attempts: int = Field(5, ge=1)
    lease: float = Field(30.0, gt=0, description="seconds before a dead worker's work is taken over")
    api_timeout: float = Field(15.0, gt=0, description="longest wait for the carrier's API, seconds")


class CoordinationFile(_Strict):
    redis_prefix: str = "smsbot:"
    lock_timeout: float = Field(10.0, gt=0, description="longest wait for a subscriber's lock, seconds")
    replay_ttl: int = Field(86_400, ge=60, description="how long a MessageSid's reply is kept for replays")
    # Twilio waits 15 s for an answer, then gives up and tries the fallback URL: answer 503 before.
    answer_within: float = Field(10.0, gt=0, le=14, description="longest time to answer a webhook, seconds")


class LinksFile(_Strict):
    # A short domain that forwards /l/{code} to this server ("https://acme.link"); default: public_url.
    short_url: str | None = None
    expire_after_days: int = Field(365, ge=1, description="a tracked link older than this answers 404")


class CampaignsFile(_Strict):
    price_per_segment: float = Field(0.0083, ge=0, description="what a segment costs, for estimates")
    currency: str = "USD"
    # A scheduled time further in the past than this (after downtime, in a copied campaign) does
    # not send by itself: it waits for an explicit `smsbot campaign send`.
    late_after_minutes: float = Field(10.0, gt=0)


class StoreFile(_Strict):
    # A phone a store sends without its country ("(415) 555-0123") is read as this country's.
    default_country: str = Field("US", pattern=r"^[A-Za-z]{2}$")
    # An order is attributed to the last message clicked within click_window_days, otherwise to
    # the last one received within receipt_window_hours (Klaviyo: 5 days, 12 h; Postscript: 7 days, 24 h).
    click_window_days: float = Field(5.0, gt=0, le=90)
    receipt_window_hours: float = Field(24.0, gt=0, le=24 * 30)


class PostersFile(_Strict):
    # The number people text, as a poster prints it: a short code ("55555") or +1...; default:
    # sending.from_number.
    number: str | None = Field(None, pattern=r"^(\+[1-9][0-9]{6,14}|[0-9]{4,8})$")


class SignupFile(_Strict):
    # Linked from the sign-up page's disclosure, as the CTIA expects.
    terms_url: str | None = Field(None, pattern=r"^https?://")
    privacy_url: str | None = Field(None, pattern=r"^https?://")


class PrivacyFile(_Strict):
    # Message bodies (and media) older than this many days are blanked by the worker, rows and
    # counts kept; None: kept as long as the database.
    keep_messages_days: int | None = Field(None, ge=1)


class ConfigFile(_Strict):
    keywords: str = "keywords"
    data_dir: str | None = None
    database_url: str | None = None
    redis_url: str | None = None
    server: ServerFile = ServerFile()
    compliance: ComplianceFile = ComplianceFile()
    sending: SendingFile = SendingFile()
    coordination: CoordinationFile = CoordinationFile()
    links: LinksFile = LinksFile()
    campaigns: CampaignsFile = CampaignsFile()
    store: StoreFile = StoreFile()
    posters: PostersFile = PostersFile()
    signup: SignupFile = SignupFile()
    privacy: PrivacyFile = PrivacyFile()
    log_level: str = "INFO"


@dataclass(frozen=True)
class Settings:
    config_path: Path | None
    keywords_dir: Path
    data_dir: Path
    database_url: str
    redis_url: str | None  # None: smsbot starts its own embedded Redis under data_dir
    host: str
    port: int
    public_url: str | None
    shutdown_timeout: float
    web_processes: int  # serving the port; 0: one per CPU core (config: server.workers)
    twilio_account_sid: str | None
    twilio_auth_token: str | None = field(repr=False)
    admin_token: str | None = field(repr=False)
    carrier_sends_confirmations: bool
    mms_countries: tuple[str, ...]
    card_elsewhere: str
    from_number: str | None
    messaging_service_sid: str | None
    twilio_api_url: str
    send_rate: float
    quiet_hours: QuietHours
    embedded_worker: bool  # `serve` runs the worker itself (no separate `smsbot worker`)
    max_attempts: int
    send_lease: float
    api_timeout: float  # a call unanswered by then may still have reached the carrier: "unknown"
    redis_prefix: str
    lock_timeout: float
    replay_ttl: int
    answer_within: float
    log_level: str
    short_url: str | None = None  # where tracked links point; None: the public URL
    link_lifetime_days: int = 365
    price_per_segment: float = 0.0083
    currency: str = "USD"
    late_after_minutes: float = 10.0
    store_country: str = "US"  # the country of a store's phone numbers written without one
    attribution: Windows = field(default_factory=Windows)
    events_token: str | None = field(default=None, repr=False)  # POST /api/events (or the admin token)
    metrics_token: str | None = field(default=None, repr=False)  # GET /metrics; none: not served
    shopify_secret: str | None = field(default=None, repr=False)  # signs Shopify's webhooks
    dashboard_password: str | None = field(default=None, repr=False)  # else the admin token logs in
    poster_number: str | None = None  # the number posters print (config posters.number)
    terms_url: str | None = None  # the sign-up page's disclosure links to these
    privacy_url: str | None = None
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()  # config server.trusted_proxies
    keep_messages_days: int | None = None  # config privacy.keep_messages_days; None: kept

    @property
    def texted_number(self) -> str | None:
        """The number people text to join, as posters print it."""
        return self.poster_number or self.from_number

    @property
    def dashboard_secret(self) -> str | None:
        """What logs one in to the dashboard: its password, else the admin token; None: it is off."""
        return self.dashboard_password or self.admin_token

    @property
    def short_link_base(self) -> str | None:
        """The base of tracked links (`{base}/l/{code}`); None: links are sent untracked."""
        return self.short_url or self.public_url

    @property
    def policy(self) -> Policy:
        return Policy(
            carrier_sends_confirmations=self.carrier_sends_confirmations,
            public_url=self.public_url,
            link_base=self.short_link_base,
            link_lifetime=timedelta(days=self.link_lifetime_days),
            mms_countries=frozenset(self.mms_countries),
            card_elsewhere=self.card_elsewhere,
            attribution=self.attribution,
        )

    @property
    def can_send(self) -> bool:
        """Real sending needs credentials and a sender; without them the dry-run sender records."""
        return bool(
            self.twilio_account_sid
            and self.twilio_auth_token
            and (self.from_number or self.messaging_service_sid)
        )

    @property
    def rate_key(self) -> str:
        """The per-number rate bucket: the sending number, or the Messaging Service."""
        return self.from_number or self.messaging_service_sid or "dry-run"

    @property
    def signatures_required(self) -> bool:
        return bool(self.twilio_auth_token)

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def load_settings(
    config_path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Read settings; raise FileProblems naming file and line for anything wrong."""
    env = os.environ if env is None else env
    if config_path is None and env.get("SMSBOT_CONFIG"):
        config_path = Path(env["SMSBOT_CONFIG"])
    if config_path is None and DEFAULT_CONFIG.exists():
        config_path = DEFAULT_CONFIG
    parsed = _read(config_path) if config_path is not None else ConfigFile()
    base = config_path.resolve().parent if config_path is not None else Path.cwd()
    data_dir = Path(env.get("SMSBOT_DATA_DIR") or parsed.data_dir or "var")
    if not data_dir.is_absolute():
        data_dir = (Path.cwd() if "SMSBOT_DATA_DIR" in env else base) / data_dir
    keywords_dir = Path(env.get("SMSBOT_KEYWORDS_DIR") or parsed.keywords)
    if not keywords_dir.is_absolute():
        keywords_dir = (Path.cwd() if "SMSBOT_KEYWORDS_DIR" in env else base) / keywords_dir

    database_url = env.get("DATABASE_URL") or parsed.database_url or f"sqlite:///{data_dir / 'smsbot.db'}"
    public_url = _base_url(env.get("SMSBOT_PUBLIC_URL") or parsed.server.public_url, config_path)

    settings = Settings(
        config_path=config_path,
        keywords_dir=keywords_dir,
        data_dir=data_dir,
        database_url=database_url,
        redis_url=env.get("REDIS_URL") or parsed.redis_url or None,
        public_url=public_url,
        web_processes=_web_processes(env.get("SMSBOT_WORKERS"), parsed.server.workers),
        **_server(parsed.server),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
        admin_token=env.get("SMSBOT_ADMIN_TOKEN") or None,
        carrier_sends_confirmations=parsed.compliance.carrier_sends_confirmations,
        mms_countries=tuple(c.upper() for c in parsed.sending.mms_countries),
        card_elsewhere=parsed.sending.card_elsewhere,
        from_number=env.get("TWILIO_FROM_NUMBER") or parsed.sending.from_number,
        messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or parsed.sending.messaging_service_sid,
        twilio_api_url=env.get("TWILIO_API_URL") or parsed.sending.api_url,
        send_rate=parsed.sending.rate,
        quiet_hours=_quiet_hours(parsed.sending.quiet_hours, config_path),
        embedded_worker=parsed.sending.worker == "in_server",
        max_attempts=parsed.sending.max_attempts,
        send_lease=parsed.sending.lease,
        api_timeout=parsed.sending.api_timeout,
        redis_prefix=env.get("SMSBOT_REDIS_PREFIX") or parsed.coordination.redis_prefix,
        lock_timeout=parsed.coordination.lock_timeout,
        replay_ttl=parsed.coordination.replay_ttl,
        answer_within=parsed.coordination.answer_within,
        log_level=env.get("SMSBOT_LOG_LEVEL") or parsed.log_level,
        **_links_and_campaigns(parsed, env, config_path),
        **_store(parsed.store, env),
        **_list_builders(parsed),
    )
    return settings.replace(**{k: v for k, v in overrides.items() if v is not None})


def _server(server: ServerFile) -> dict[str, Any]:
    return {
        "host": server.host,
        "port": server.port,
        "shutdown_timeout": server.shutdown_timeout,
        "trusted_proxies": tuple(server.trusted_proxies),
    }


def _read(config_path: Path) -> ConfigFile:
    doc = yamlfile.load(config_path)
    _refuse_secrets(doc)
    try:
        return ConfigFile.model_validate(dict(doc.data))
    except (ValidationError, TypeError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            raise FileProblems(doc.problems_from(exc)) from exc
        raise FileProblems([Problem(str(config_path), 1, "expected a mapping of settings")]) from exc


def _quiet_hours(parsed: QuietHoursFile, config_path: Path | None) -> QuietHours:
    where = str(config_path) if config_path else "sending.quiet_hours"
    try:
        ZoneInfo(parsed.fallback_zone)
        return QuietHours(
            default=Window(parsed.start, parsed.end),
            per_country={c.upper(): Window(w.start, w.end) for c, w in parsed.countries.items()},
            fallback_zone=parsed.fallback_zone,
        )
    except (ValueError, ZoneInfoNotFoundError) as exc:
        raise FileProblems([Problem(where, 1, f"sending.quiet_hours: {exc}")]) from exc


def _web_processes(raw: str | None, configured: int) -> int:
    if not raw:
        return configured
    if not (raw.strip().isascii() and raw.strip().isdigit()):
        raise FileProblems(
            [Problem("SMSBOT_WORKERS", 1, f"{raw!r}: expected a whole number (0: one per CPU core)")]
        )
    return int(raw)


def _refuse_secrets(doc: yamlfile.YamlDoc) -> None:
    problems: list[Problem] = []

    def walk(node: Any, loc: list[str | int]) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                here = [*loc, str(key)]
                if str(key).lower() in SECRET_KEYS:
                    problems.append(
                        Problem(
                            str(doc.path),
                            doc.line_of(here),
                            f"{'.'.join(map(str, here))}: secrets are not read from files; "
                            "set TWILIO_AUTH_TOKEN / SMSBOT_ADMIN_TOKEN / SMSBOT_EVENTS_TOKEN / "
                            "SHOPIFY_WEBHOOK_SECRET in the environment",
                        )
                    )
                walk(value, here)

    walk(doc.data, [])
    if problems:
        raise FileProblems(problems)


def _links_and_campaigns(
    parsed: ConfigFile, env: Mapping[str, str], config_path: Path | None
) -> dict[str, Any]:
    return {
        "short_url": _base_url(env.get("SMSBOT_SHORT_URL") or parsed.links.short_url, config_path),
        "link_lifetime_days": parsed.links.expire_after_days,
        "price_per_segment": parsed.campaigns.price_per_segment,
        "currency": parsed.campaigns.currency,
        "late_after_minutes": parsed.campaigns.late_after_minutes,
    }


def _list_builders(parsed: ConfigFile) -> dict[str, Any]:
    return {
        "poster_number": parsed.posters.number,
        "terms_url": parsed.signup.terms_url,
        "privacy_url": parsed.signup.privacy_url,
        "keep_messages_days": parsed.privacy.keep_messages_days,
    }


def _store(parsed: StoreFile, env: Mapping[str, str]) -> dict[str, Any]:
    return {
        "store_country": parsed.default_country.upper(),
        "attribution": Windows(
            click=timedelta(days=parsed.click_window_days),
            receipt=timedelta(hours=parsed.receipt_window_hours),
        ),
        "events_token": env.get("SMSBOT_EVENTS_TOKEN") or None,
        "metrics_token": env.get("SMSBOT_METRICS_TOKEN") or None,
        "shopify_secret": env.get("SHOPIFY_WEBHOOK_SECRET") or None,
        "dashboard_password": env.get("SMSBOT_DASHBOARD_PASSWORD") or None,
    }


def _base_url(url: str | None, config_path: Path | None) -> str | None:
    """A public base URL (ours, or the short-link domain's), checked, without its trailing slash."""
    if not url:
        return None
    _check_public_url(url, config_path)
    return url.rstrip("/")


def _check_public_url(url: str, config_path: Path | None) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
        where = str(config_path) if config_path else "SMSBOT_PUBLIC_URL"
        raise FileProblems(
            [Problem(where, 1, f"public URL {url!r}: expected http(s)://host[:port][/prefix], no query")]
        )
