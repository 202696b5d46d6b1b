"""One Settings class for the server, read from ``LAUNCHGATE_*`` environment variables.

Bad values stop start-up with one line naming the variable to fix (``SettingsError``),
never a traceback: operators read that line in a terminal or a container log.
"""

from __future__ import annotations

import os
import re
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from launchgate.kit.entropy import weakness
from launchgate.kit.plans import PLAN_SLUGS

PLANS = PLAN_SLUGS  # the plan names, read from the one plan table (kit/plans.py)
_RATE = re.compile(
    r"^\s*(\d+)\s*(?:/|per)\s*(\d+)?\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE
)
_PERIOD_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_STRIPE_KEY = re.compile(r"^(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,250}$")
_WEBHOOK_SECRET = re.compile(r"^whsec_[A-Za-z0-9+/=]{8,250}$")
_STRIPE_ID = re.compile(r"^[A-Za-z0-9_]{1,255}$")


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message says what to set."""


def parse_rate(value: str) -> tuple[int, int] | None:
    """``"100/minute"`` → ``(100, 60)``; ``"off"`` → ``None`` (limit disabled)."""
    if value.strip().lower() == "off":
        return None
    match = _RATE.match(value)
    # "100/0 minutes" would be a zero-length window: refused like a zero count.
    if not match or int(match.group(1)) < 1 or int(match.group(2) or 1) < 1:
        raise ValueError(f"'{value}' is not a rate like '100/minute', '20/15 minutes' or 'off'")
    count, multiplier, unit = match.groups()
    return int(count), int(multiplier or 1) * _PERIOD_SECONDS[unit.lower()]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LAUNCHGATE_", extra="ignore")

    env: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("./.launchgate")
    database_url: str | None = None
    secret_key: str | None = None
    redis_url: str | None = None
    default_plan: str = "enterprise"  # one of PLANS, checked below
    rate_limit: str = "100/minute"
    auth_rate_limit: str = "20/15 minutes"
    lockout_limit: str = "10/15 minutes"
    # How long one regex search may take before the case ends in error.
    regex_timeout_ms: int = Field(default=250, ge=1, le=10_000)
    # The largest request body, counted while it streams in (413 past it). 8 MiB holds the
    # largest valid run: a 1 MiB output of control characters is 6 MiB once JSON-escaped
    # (\u0001 per byte), plus input, trigger_meta and slack (docs/configuration.md).
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024, le=64 * 1024 * 1024)
    # How often the retention sweep runs; 0 turns it off.
    retention_sweep_interval_s: int = Field(default=3600, ge=0)
    # Enterprise retention in days; None keeps runs forever.
    enterprise_retention_days: int | None = Field(default=None, ge=1)
    oidc_jwks_url: str | None = None
    oidc_issuer: str | None = None
    oidc_audience: str = "https://api.launchgate.ai"
    jwt_ttl_s: int = Field(default=12 * 3600, ge=60)
    log_level: str = "INFO"
    # The database loggers (SQLAlchemy, aiosqlite, psycopg) stay at WARNING whatever
    # log_level says: below that they print every query's parameters, i.e. stored data.
    # Set this (DEBUG, INFO, ...) to see them anyway, when debugging the database itself.
    sql_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] | None = None
    # How long a synchronous POST /v1/run with judge cases waits for the worker.
    sync_run_timeout_s: float = Field(default=600.0, gt=0)
    # How many synchronous judge runs one API process lets wait for the worker at once;
    # the next one is refused with 503 and Retry-After (docs/configuration.md).
    max_waiting_sync_runs: int = Field(default=1000, ge=1, le=100_000)
    # Batches (docs/batches.md): the most items one POST /v1/batches may hold, and how many
    # of a batch's items one embedded server scores at once.
    max_batch_items: int = Field(default=1000, ge=1, le=10_000)
    batch_concurrency: int = Field(default=64, ge=1, le=1000)
    # Judge cost (docs/cost.md): an operator's price table replacing the one shipped in the
    # package (launchgate/billing/prices.json), same format.
    prices_file: Path | None = None
    # Observability (docs/observability.md): GET /metrics in the Prometheus text format,
    # off unless "on"; when a token is set, /metrics wants "Authorization: Bearer <token>".
    # log_format "json" writes one JSON object per log line.
    metrics: Literal["on", "off"] = "off"
    metrics_token: SecretStr | None = None
    # A `launchgate worker` has no HTTP server of its own: with metrics on, it serves
    # /metrics on this port (0 takes a free one; unset: none).
    worker_metrics_port: int | None = Field(default=None, ge=0, le=65535)
    log_format: Literal["text", "json"] = "text"
    # The database pool of each process. SQLite keeps database_pool_size connections and
    # opens as many again under load; PostgreSQL opens up to 3 x database_pool_size, each
    # only when no idle one is free, and keeps them (db.create_engine). A request that
    # finds none free within database_pool_timeout_s is answered 503 with Retry-After.
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    database_pool_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # The judge's model when a scorer names none (SPEC §6); Azure's is the deployment name.
    openai_judge_model: str = "gpt-4o"
    anthropic_judge_model: str = "claude-sonnet-4-20250514"
    google_judge_model: str = "gemini-2.5-pro"
    # The BYOK master key (32 bytes as 64 hex characters or base64) and, comma-separated, the
    # previous ones that still decrypt during a rotation. Named without the prefix, as the BYOK
    # guide promises. Kept as opaque strings and parsed by byok.vault, so a malformed key never
    # ends up in a pydantic error; repr=False and SecretStr keep it out of reprs and dumps.
    byok_encryption_key: SecretStr | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices("BYOK_ENCRYPTION_KEY", "LAUNCHGATE_BYOK_ENCRYPTION_KEY"),
    )
    byok_encryption_key_previous: SecretStr | None = Field(
        default=None,
        repr=False,
        validation_alias=AliasChoices(
            "BYOK_ENCRYPTION_KEY_PREVIOUS", "LAUNCHGATE_BYOK_ENCRYPTION_KEY_PREVIOUS"
        ),
    )
    # Provider base URLs, written as the official SDKs take them; for proxies and tests
    # (the fake provider). Operator-set, so they are not put through the SSRF guard.
    openai_base_url: str = "https://api.openai.com/v1"
    anthropic_base_url: str = "https://api.anthropic.com"
    google_base_url: str = "https://generativelanguage.googleapis.com"
    # One provider call (connect + answer) may take this long before it is a timeout.
    provider_timeout_s: float = Field(default=60.0, gt=0, le=600)
    # Let a BYOK key's own base_url / Azure endpoint be http or a private address
    # (local model servers, the fake provider). Off: https and public addresses only.
    allow_private_provider_urls: bool = False
    # The LLM judge (SPEC §7): judge calls in flight per organisation and provider, the
    # exponential backoff base (retries after base × 1, 2, 4 s plus jitter) and the most
    # a provider's Retry-After may make a retry wait.
    judge_concurrency: int = Field(default=20, ge=1)
    judge_backoff_base_s: float = Field(default=1.0, ge=0)
    judge_retry_after_cap_s: float = Field(default=60.0, ge=0)
    # The scaled-out mode (with redis_url). A worker holds a run it scores for run_lease_s,
    # renewing every third of it; a run whose worker died is claimed again after that. The
    # sweep (every sweep_interval_s, in the workers) re-queues such runs, and runs left
    # pending longer than requeue_pending_after_s (their job lost with a queue that
    # restarted empty). A judge slot on Redis is held for judge_slot_lease_s, renewed
    # likewise, so a killed process cannot keep its slots.
    run_lease_s: float = Field(default=60.0, ge=1)
    sweep_interval_s: float = Field(default=10.0, gt=0)
    requeue_pending_after_s: float = Field(default=60.0, gt=0)
    judge_slot_lease_s: float = Field(default=20.0, ge=1)
    # How many jobs one `launchgate worker` process runs at once (its --concurrency).
    worker_concurrency: int = Field(default=10, ge=1, le=1000)
    # Paid plans through Stripe (docs/billing.md): off unless the secret key is set, and then
    # the webhook secret and both prices must be set too (checked below). The API base is
    # Stripe's own unless a local stand-in answers for it (tests).
    stripe_secret_key: SecretStr | None = Field(default=None, repr=False)
    stripe_webhook_secret: SecretStr | None = Field(default=None, repr=False)
    stripe_price_pro: str | None = None
    stripe_price_scale: str | None = None
    stripe_api_base: str = "https://api.stripe.com"

    @field_validator("default_plan")
    @classmethod
    def _check_plan(cls, value: str) -> str:
        if value not in PLANS:
            raise ValueError(f"'{value}' is not a plan: use one of {', '.join(PLANS)}")
        return value

    @field_validator("sql_log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() or None if isinstance(value, str) else value

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(f"'{value}' is not a redis:// or rediss:// URL")
        return value

    @field_validator("openai_base_url", "anthropic_base_url", "google_base_url")
    @classmethod
    def _check_provider_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value.rstrip("/")

    @field_validator(
        "stripe_secret_key",
        "stripe_webhook_secret",
        "stripe_price_pro",
        "stripe_price_scale",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """Compose passes an unset variable through as an empty string: that is no value."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("stripe_secret_key")
    @classmethod
    def _check_stripe_key(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never repeats the value: it is a secret, and this line is logged.
        if value is not None and not _STRIPE_KEY.match(value.get_secret_value()):
            raise ValueError("is not a Stripe secret key (sk_live_…, sk_test_…, rk_live_…)")
        return value

    @field_validator("stripe_webhook_secret")
    @classmethod
    def _check_webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("is not a Stripe webhook signing secret (whsec_…)")
        return value

    @field_validator("stripe_price_pro", "stripe_price_scale")
    @classmethod
    def _check_price(cls, value: str | None) -> str | None:
        if value is not None and not _STRIPE_ID.match(value):
            raise ValueError(f"'{value[:60]}' is not a Stripe price id (price_…)")
        return value

    @field_validator("stripe_api_base")
    @classmethod
    def _check_stripe_base(cls, value: str) -> str:
        # A scheme and a host, nothing after them but a path: the library appends
        # ``/v1/...`` to it, and an unusable base would only show as 503s at the first
        # checkout.
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018  (raises on a port that is not a number or out of range)
        except ValueError:
            raise ValueError("is not an http(s) URL") from None
        if (
            parts.scheme not in ("https", "http")
            or not parts.hostname
            or parts.query
            or parts.fragment
            or parts.username is not None
            or len(value) > 2000
            or any(char.isspace() for char in value)
        ):
            raise ValueError(
                "is not an http(s) URL (a scheme and a host, e.g. https://api.stripe.com)"
            )
        return value.rstrip("/")

    @model_validator(mode="after")
    def _check_stripe_whole(self) -> Settings:
        problem = self.stripe_problem()
        if problem:
            raise ValueError(problem)
        return self

    def stripe_problem(self) -> str | None:
        """One line naming what a partial Stripe configuration lacks, or None."""
        parts = {
            "LAUNCHGATE_STRIPE_SECRET_KEY": self.stripe_secret_key,
            "LAUNCHGATE_STRIPE_WEBHOOK_SECRET": self.stripe_webhook_secret,
            "LAUNCHGATE_STRIPE_PRICE_PRO": self.stripe_price_pro,
            "LAUNCHGATE_STRIPE_PRICE_SCALE": self.stripe_price_scale,
        }
        missing = [name for name, value in parts.items() if value is None]
        if not missing or len(missing) == len(parts):
            if not missing and self.stripe_price_pro == self.stripe_price_scale:
                return (
                    "LAUNCHGATE_STRIPE_PRICE_PRO and LAUNCHGATE_STRIPE_PRICE_SCALE are the same "
                    "price: each plan needs its own"
                )
            return None
        return (
            f"Stripe billing is half configured: {', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set (set all four of "
            "LAUNCHGATE_STRIPE_SECRET_KEY, _WEBHOOK_SECRET, _PRICE_PRO and _PRICE_SCALE, "
            "or none to leave billing off)"
        )

    @property
    def stripe_enabled(self) -> bool:
        """Billing through Stripe is on: the secret key is set (and so, checked, the rest)."""
        return self.stripe_secret_key is not None

    @field_validator("rate_limit", "auth_rate_limit", "lockout_limit")
    @classmethod
    def _check_rate(cls, value: str) -> str:
        parse_rate(value)
        return value

    @cached_property
    def rate(self) -> tuple[int, int] | None:
        return parse_rate(self.rate_limit)

    @cached_property
    def auth_rate(self) -> tuple[int, int] | None:
        return parse_rate(self.auth_rate_limit)

    @cached_property
    def lockout(self) -> tuple[int, int] | None:
        return parse_rate(self.lockout_limit)

    def judge_models(self) -> dict[str, str | None]:
        return {
            "openai": self.openai_judge_model,
            "anthropic": self.anthropic_judge_model,
            "google": self.google_judge_model,
            "azure_openai": None,
        }

    @property
    def embedded(self) -> bool:
        """True when running on the default SQLite file (the one-process mode)."""
        return self.database_url is None or self.database_url.startswith("sqlite")

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite+aiosqlite:///{(self.data_dir / 'launchgate.db').resolve()}"

    def jwt_secret(self) -> str:
        """The JWT signing secret; generated into the data dir once in embedded mode."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        if self.env == "production" or not self.embedded:
            raise SettingsError(
                "LAUNCHGATE_SECRET_KEY is not set: set it to a long random value, e.g. "
                'python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def normalise_database_url(url: str) -> str:
    """Accept the URLs people paste (``postgresql://``, ``sqlite:///``) and pick async drivers."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith("sqlite://") and not url.startswith("sqlite+aiosqlite://"):
        return "sqlite+aiosqlite://" + url.split("://", 1)[1]
    return url


def load_settings(data_dir: Path | None = None) -> Settings:
    """Read the environment; turn pydantic's report into one line per bad variable.

    ``data_dir`` is a command's ``--data-dir``: it wins over ``LAUNCHGATE_DATA_DIR``."""
    try:
        settings = Settings() if data_dir is None else Settings(data_dir=data_dir)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = str(first["msg"]).removeprefix("Value error, ")
        if not first["loc"]:  # a rule over several variables: its message names them
            raise SettingsError(message) from None
        name = "LAUNCHGATE_" + str(first["loc"][0]).upper()
        raise SettingsError(f"{name}: {message}") from None
    if settings.env == "production" and settings.secret_key and len(settings.secret_key) < 32:
        raise SettingsError("LAUNCHGATE_SECRET_KEY must be at least 32 characters in production")
    # A secret the operator set (a generated one is random): refused when plainly not random,
    # in production and development alike; LAUNCHGATE_ENV=test keeps the test suite's fixed one.
    problem = weakness(settings.secret_key, "character") if settings.secret_key else None
    if problem and settings.env != "test":
        raise SettingsError(
            f"LAUNCHGATE_SECRET_KEY {problem}, so it is not a random secret: set it to a long "
            'random value, e.g. python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return settings
