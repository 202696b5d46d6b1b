"""The BYOK canary in the scaled-out mode: a provider key used by workers through Redis
(a synchronous judged run, async runs, a key test) shows up — past its 8-character
prefix — in no response, no process log, nowhere in Redis (every key: strings, streams,
sorted sets, hashes) and nowhere in a dump of every PostgreSQL table."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import cast

import httpx
import psycopg
import redis

from launchgate.testing.fake_provider.runner import FakeProviderProcess
from launchgate.testing.fleet import setup_judged_suite
from tests.scale.conftest import make_fleet, wait_final

CANARY = "sk-test-canary" + secrets.token_hex(24)
HIDDEN = CANARY[8:]


def redis_dump(url: str) -> str:
    """Every byte Redis holds in this database, as text."""
    client = redis.Redis.from_url(url)
    parts: list[str] = []
    for key in client.scan_iter(count=1000):
        kind = cast(bytes, client.type(key)).decode()  # bytes: no decode_responses
        parts.append(key.decode(errors="replace"))
        if kind == "string":
            parts.append(repr(client.get(key)))
        elif kind == "stream":
            parts.append(repr(client.xrange(key)))
        elif kind == "zset":
            parts.append(repr(client.zrange(key, 0, -1, withscores=True)))
        elif kind == "hash":
            parts.append(repr(client.hgetall(key)))
        elif kind == "list":
            parts.append(repr(client.lrange(key, 0, -1)))
        elif kind == "set":
            parts.append(repr(client.smembers(key)))
    client.close()
    return "\n".join(parts)


def postgres_dump(url: str) -> str:
    with psycopg.connect(url) as conn:
        tables = [
            r[0]
            for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return "\n".join(repr(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)


def test_the_canary_key_stays_out_of_redis_logs_responses_and_the_database(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    fleet = make_fleet(tmp_path, database, shared_redis, fake, LAUNCHGATE_LOG_LEVEL="DEBUG")
    fake.configure(latency_ms=20)
    bodies: list[str] = []
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")
        fleet.start_worker("worker", concurrency=5)
        setup_judged_suite(url, api_key, provider_key=CANARY, judge_cases=2)
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            sync = client.post("/v1/run", json={"suite": "judged", "output": "Paris FAKE_SCORE=1"})
            assert sync.status_code == 200 and sync.json()["status"] == "cleared", sync.text
            ids = [
                client.post(
                    "/v1/run",
                    json={"suite": "judged", "async": True, "output": "Paris FAKE_SCORE=1"},
                ).json()["id"]
                for _ in range(3)
            ]
            wait_final(url, api_key, ids, 60, fleet)
            keys = client.get("/v1/byok-keys")
            key_id = keys.json()["data"][0]["id"]
            tested = client.post(f"/v1/byok-keys/{key_id}/test")
            assert tested.status_code == 200 and tested.json()["data"]["valid"] is True
            bodies += [
                sync.text,
                keys.text,
                tested.text,
                *(client.get(f"/v1/runs/{i}").text for i in ids),
            ]
        stored = redis_dump(shared_redis)
        logs = "\n".join(fleet.log_tail(name, 10**9) for name in fleet.processes)
        rows = postgres_dump(database)
    finally:
        fleet.stop()
    assert "launchgate:jobs" in stored  # the dump did see the queue
    assert "worker started" in logs and "LaunchGate listening" in logs
    assert CANARY[:8] in rows  # and the database dump the key's prefix
    for where, text in (
        ("responses", "\n".join(bodies)),
        ("Redis", stored),
        ("process logs", logs),
        ("PostgreSQL", rows),
    ):
        assert HIDDEN not in text, f"the canary key leaked into {where}"
