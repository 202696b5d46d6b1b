"""The monthly judge budget, enforced before every provider call (docs/cost.md).

The month's spend lives in the database (``judge_spend``, added to when a run's
completion commits), but a run's calls are paid before its completion is written: a
budget read only from the database would let every run in flight spend past it. So each
call's cost is also added to a live counter the moment the provider answers, and the
check before each call reads that counter:

- embedded (one process owns the database): a counter in the process, started from the
  database's month spend the first time an organisation with a budget judges;
- scaled out (``LAUNCHGATE_REDIS_URL``): one counter per organisation and month in Redis
  (``INCRBYFLOAT``), shared by every worker and started from the database the same way.

Either way the overshoot is bounded by the calls already in flight when the counter
crosses the budget: they were allowed before it did, and are paid for.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import structlog

from launchgate.kit.time import month_key, utcnow
from launchgate.sdk.money import usd

if TYPE_CHECKING:
    from launchgate.config import Settings

log = structlog.get_logger(__name__)
CODE = "JUDGE_BUDGET_EXCEEDED"
# A month's counter outlives its month by a few days (a run started on the 31st), then goes.
COUNTER_TTL_S = 40 * 86400
_PREFIX = "launchgate:judge_spend:"
# Adds only to a counter that exists: one that was never started (no budget yet) must not
# begin at zero and then under-count the month when a budget is set.
_ADD_IF_STARTED = """
if redis.call('exists', KEYS[1]) == 1 then
  return redis.call('incrbyfloat', KEYS[1], ARGV[1])
end
return false
"""

Load = Callable[[], Awaitable[float]]


class SpendCounter(Protocol):
    async def start(self, org_id: uuid.UUID, month: str, load: Load) -> None: ...
    async def spent(self, org_id: uuid.UUID, month: str) -> float: ...
    async def add(self, org_id: uuid.UUID, month: str, usd: float) -> None: ...


class LocalCounter:
    """The embedded mode's counter: this process is the only one spending."""

    def __init__(self) -> None:
        self._spent: dict[tuple[uuid.UUID, str], float] = {}

    async def start(self, org_id: uuid.UUID, month: str, load: Load) -> None:
        key = (org_id, month)
        if key not in self._spent:
            stored = await load()
            # Another run of the organisation may have started it while we read.
            self._spent.setdefault(key, stored)

    async def spent(self, org_id: uuid.UUID, month: str) -> float:
        return self._spent.get((org_id, month), 0.0)

    async def add(self, org_id: uuid.UUID, month: str, usd: float) -> None:
        key = (org_id, month)
        if key in self._spent:
            self._spent[key] += usd


class RedisCounter:
    """The fleet's counter: one Redis key per organisation and month."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._add = self._redis.register_script(_ADD_IF_STARTED)

    @staticmethod
    def key(org_id: uuid.UUID, month: str) -> str:
        return f"{_PREFIX}{org_id}:{month}"

    async def start(self, org_id: uuid.UUID, month: str, load: Load) -> None:
        key = self.key(org_id, month)
        if not await self._redis.exists(key):
            # NX: a worker that started it first (and may have added to it since) wins.
            await self._redis.set(key, repr(await load()), nx=True, ex=COUNTER_TTL_S)

    async def spent(self, org_id: uuid.UUID, month: str) -> float:
        value = await self._redis.get(self.key(org_id, month))
        return float(value) if value is not None else 0.0

    async def add(self, org_id: uuid.UUID, month: str, usd: float) -> None:
        await self._add(keys=[self.key(org_id, month)], args=[repr(usd)])


# One counter per database pool (the session factory): the embedded API and its in-process
# worker share it; tests that run several apps in one process keep theirs apart.
_COUNTERS: weakref.WeakKeyDictionary[object, SpendCounter] = weakref.WeakKeyDictionary()


def counter_for(settings: Settings, pool: object) -> SpendCounter:
    counter = _COUNTERS.get(pool)
    if counter is None:
        counter = RedisCounter(settings.redis_url) if settings.redis_url else LocalCounter()
        _COUNTERS[pool] = counter
    return counter


class BudgetExceeded(Exception):
    """This month's judge spend reached the organisation's budget: no call is made."""

    def __init__(self, budget: float) -> None:
        super().__init__(
            f"The organisation's monthly judge budget of {usd(budget)} is spent; no judge call "
            "was made (raise judge_budget_usd_monthly with PATCH /v1/organization)"
        )
        self.budget = budget


@dataclass
class Budget:
    """One run's view of its organisation's budget: check before a call, add after."""

    counter: SpendCounter
    org_id: uuid.UUID
    limit: float | None
    month: str

    @classmethod
    async def open(
        cls, counter: SpendCounter, org_id: uuid.UUID, limit: float | None, load: Load
    ) -> Budget:
        """With a budget, make sure the month's counter has started (from ``load``, the
        stored month spend: called in the run's read unit of work)."""
        month = month_key(utcnow())
        if limit is not None:
            await counter.start(org_id, month, load)
        return cls(counter, org_id, limit, month)

    async def check(self) -> None:
        """Raises ``BudgetExceeded`` when the month's spend has reached the budget."""
        if self.limit is not None and await self.counter.spent(self.org_id, self.month) >= (
            self.limit
        ):
            raise BudgetExceeded(self.limit)

    async def spend(self, usd: float | None) -> None:
        """Adds a paid call to the live counter. Without a budget there is no counter to add
        to (see ``_ADD_IF_STARTED``), so Redis is not asked at all. A counter out of reach
        (Redis restarting) must not fail a call that was made and paid: the run's
        completion still adds it to the stored month spend, which the counter starts from."""
        if not usd or self.limit is None:
            return
        try:
            await self.counter.add(self.org_id, self.month, usd)
        except Exception as exc:
            log.warning("the judge spend counter is out of reach", error_type=type(exc).__name__)
