"""Reliability proof, part 1 (issue 11): generated scorer configs and outputs, the
pathological families included, at scorer creation, on PATCH and at run time.

Every answer is a 2xx, or a 4xx in the error envelope — never a 5xx — and the server stays
responsive: a probe asks `GET /health` over and over while the generated requests are in
flight, and none of its answers may take a second. One test per scorer type, on both
backends, against the in-process app that can reach the fake provider (judge runs).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from launchgate.db import unit_of_work
from launchgate.models import Scorer
from launchgate.scorers.builtin.pattern_cost import MAX_LITERAL_RUN
from launchgate.testing.fake_provider import FakeProviderServer
from tests.byok.conftest import fake_provider, papi, provider_app  # noqa: F401  (fixtures)
from tests.factories import Api, Org, assert_error, unique

HEALTH_LIMIT_S = 1.0
# Examples share the function's fixtures (one organisation, one probe): that is the point.
FUZZ = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PROVIDERS = ("openai", "anthropic", "google", "azure_openai")
KEY_PREFIX = {  # the fake provider's test keys (tests/judge)
    "openai": "sk-test-",
    "anthropic": "sk-ant-test-",
    "google": "AIza-test-",
    "azure_openai": "azure-test-",
}
OUTPUT_LIMIT = 1024 * 1024  # SPEC §3: output ≤ 1 MiB


class HealthProbe:
    """Asks GET /health every `INTERVAL` s; `worst` is the longest an answer took from the
    moment it was due, so a blocked event loop counts even between requests."""

    INTERVAL = 0.02

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.worst = 0.0
        self.answers = 0
        self.failures: list[int] = []

    async def run(self) -> None:
        while True:
            due = time.perf_counter() + self.INTERVAL
            await asyncio.sleep(self.INTERVAL)
            response = await self.client.get("/health")
            self.worst = max(self.worst, time.perf_counter() - due)
            self.answers += 1
            if response.status_code != 200:
                self.failures.append(response.status_code)

    def check(self) -> None:
        assert not self.failures, self.failures
        assert self.worst < HEALTH_LIMIT_S, f"/health took {self.worst:.2f} s"


@pytest.fixture
async def probe(papi: Api) -> AsyncIterator[HealthProbe]:  # noqa: F811
    health = HealthProbe(papi.client)
    task = asyncio.create_task(health.run())
    yield health
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert health.answers > 0
    health.check()


@pytest.fixture
async def world(papi: Api, fake_provider: FakeProviderServer) -> tuple[Org, str]:  # noqa: F811
    """An organisation with a key for every provider, and a project (the scoring engines
    warmed)."""
    org = await papi.org()
    for provider in PROVIDERS:
        body: dict[str, Any] = {
            "provider": provider,
            "name": unique("key"),
            "key": KEY_PREFIX[provider] + secrets.token_hex(12),
        }
        if provider == "azure_openai":
            body["config"] = {"endpoint": fake_provider.azure_endpoint}
        await papi.ok("POST", "/v1/byok-keys", org, 201, json=body)
    project = await papi.project(org)
    # A process's first regex and JSON-schema cases import and build their engines (deferred
    # to first use for the idle memory, tests/cli/test_serve_imports.py): up to about a second
    # of CPU under two test workers, once, in a thread (scorers/builtin/engines.py) but
    # sharing the GIL with the loop the probes below watch. That is not what they watch for,
    # so it is paid before them, whichever test a worker runs first.
    for type_, config, output in (
        ("regex", {"pattern": "x"}, "x"),
        ("json_schema", {"schema": {"type": "string", "pattern": "x"}}, '"x"'),
    ):
        warm = await papi.scorer(org, project["slug"], type=type_, config=config)
        await judged_once(papi, org, project["slug"], warm["id"], output)
    return org, project["slug"]


# --- the families -----------------------------------------------------------------------

chars = st.characters(exclude_categories=["Cs"])  # lone surrogates cannot be sent as UTF-8
weird_text = st.one_of(
    st.text(chars, max_size=40),
    st.text(st.characters(max_codepoint=0x1F), max_size=10),  # NUL and other controls
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202eevil", "😀" * 20, "é\u0301", "\ufeff"]),
    st.integers(1_000, 100_000).map(lambda n: "x" * n),
)
huge_numbers = st.one_of(
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 10**12, 2**63, 2**64, 1e308, -1e308, 5e-324, 0.5]),
)
json_leaves = st.one_of(st.none(), st.booleans(), huge_numbers, weird_text)


def nested(depth: int, leaf: Any) -> Any:
    for _ in range(depth):
        leaf = {"k": leaf} if depth % 2 else [leaf]
    return leaf


json_values = st.one_of(
    st.recursive(
        json_leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(weird_text, inner, max_size=3),
        max_leaves=8,
    ),
    st.integers(1, 40).map(lambda depth: nested(depth, "deep")),
)
counts = st.one_of(st.integers(0, 50), st.sampled_from([999, 1000, 10_000, 10_001, 10**9]))
quantifier = st.one_of(
    st.sampled_from(["*", "+", "?", "+?", "*+"]),
    counts.map(lambda n: f"{{{n}}}"),
    st.tuples(counts, counts).map(lambda pair: f"{{{min(pair)},{max(pair)}}}"),
)
patterns = st.one_of(
    st.recursive(
        st.sampled_from(["a", ".", r"\d", "[a-z]", r"\p{L}", "(a|aa)", "x"]),
        lambda inner: st.one_of(
            st.tuples(inner.map(lambda body: f"(?:{body})"), quantifier).map("".join),
            st.tuples(inner.map(lambda body: f"({body})"), quantifier).map("".join),
            st.lists(inner, min_size=2, max_size=3).map("".join),
            st.lists(inner, min_size=2, max_size=3).map("|".join),
        ),
        max_leaves=10,
    ),
    st.sampled_from(
        ["a{1000000000}", "(a{1000}){1000}x", "(a|aa)+$", "(?R)", "(", "[z-a]", "(" * 100]
    ),
    st.integers(1, 40).map(lambda depth: "(" * depth + "a" + ")" * depth),
    # Literal runs around the limit: `regex` builds its search tables for one on the first
    # search, holding the GIL, in time cubic in the run ("x" * 3000: seconds).
    st.integers(MAX_LITERAL_RUN - 16, 4 * MAX_LITERAL_RUN).map(lambda n: "a" * n),
    weird_text,
)
# A schema that refers back to itself and validates each child twice: the work doubles with
# each level of the output (17 levels: ~5 s on the event loop, where schemas are validated);
# the whole validation is under the run's time limit, not only its patterns.
EXPONENTIAL_SCHEMA = {
    "type": "object",
    "properties": {"k": {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}},
}
refs = st.sampled_from(
    [
        "file:///etc/passwd",
        "file:///etc/hostname",
        "http://127.0.0.1:9/x.json",
        "https://example.com/s.json",
        "other.json",
        "#",
        "#/$defs/missing",
        "#/properties",
    ]
)
KEYWORDS = [
    "type",
    "properties",
    "items",
    "pattern",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "$ref",
    "$dynamicRef",
    "$defs",
    "allOf",
    "anyOf",
    "not",
    "minLength",
    "maxLength",
    "minimum",
    "multipleOf",
    "enum",
    "const",
    "required",
    "format",
    "$schema",
    "$id",
    "propertyNames",
]


def keyword_value(children: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of(
        st.tuples(st.just("pattern"), patterns),
        st.tuples(st.just("patternProperties"), st.dictionaries(patterns, children, max_size=2)),
        st.tuples(st.sampled_from(["$ref", "$dynamicRef", "$recursiveRef"]), refs),
        st.tuples(
            st.sampled_from(["properties", "$defs"]),
            st.dictionaries(weird_text, children, max_size=2),
        ),
        st.tuples(st.sampled_from(["allOf", "anyOf", "items"]), st.lists(children, max_size=2)),
        st.tuples(
            st.sampled_from(
                ["not", "items", "additionalProperties", "unevaluatedProperties", "propertyNames"]
            ),
            children,
        ),
        st.tuples(
            st.sampled_from(["minLength", "maxLength", "minimum", "multipleOf", "maxItems"]),
            huge_numbers,
        ),
        st.tuples(st.sampled_from(KEYWORDS), json_values),
        st.tuples(
            st.just("$schema"),
            st.sampled_from(
                [
                    "https://json-schema.org/draft/2020-12/schema",
                    "https://json-schema.org/draft/2019-09/schema",
                    "http://json-schema.org/draft-07/schema#",
                    "http://json-schema.org/draft-04/schema#",
                    "http://json-schema.org/draft-03/schema#",
                    "http://127.0.0.1:9/meta",
                ]
            ),
        ),
    )


schemas = st.recursive(
    st.sampled_from([{}, {"type": "string"}, {"type": "object"}, True, False]),
    lambda children: st.lists(keyword_value(children), max_size=4).map(dict),
    max_leaves=10,
)


sane_schemas = st.recursive(
    st.sampled_from(
        [{}, {"type": "string"}, {"type": "object"}, {"type": "integer"}, EXPONENTIAL_SCHEMA]
    ),
    lambda children: st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["string", "object", "array", "number"]),
            "properties": st.dictionaries(weird_text, children, max_size=2),
            "patternProperties": st.dictionaries(patterns, children, max_size=2),
            "pattern": patterns,
            "unevaluatedProperties": st.booleans() | children,
            "additionalProperties": st.booleans() | children,
            "items": children,
            "minLength": st.integers(0, 10**20),
            "maximum": huge_numbers,
            "$ref": st.sampled_from(["#", "#/$defs/a", "#/$defs/missing"]) | refs,
            "$defs": st.fixed_dictionaries({"a": children}),
        },
    ),
    max_leaves=8,
)


def sane_configs(type_: str) -> st.SearchStrategy[dict[str, Any]]:
    """Configs of the right shape whose values stretch every limit."""
    if type_ == "exact_match":
        return st.fixed_dictionaries({}, optional={"case_sensitive": st.booleans()})
    if type_ == "contains":
        return st.fixed_dictionaries(
            {"values": st.lists(weird_text.filter(bool), min_size=1, max_size=5)},
            optional={"mode": st.just("all"), "should_contain": st.booleans()},
        )
    if type_ == "regex":
        return st.fixed_dictionaries(
            {"pattern": patterns.filter(bool)}, optional={"flags": st.sampled_from(["", "i", "ms"])}
        )
    if type_ == "json_schema":
        return st.fixed_dictionaries({"schema": sane_schemas})
    return st.fixed_dictionaries(
        {
            "rubric": st.just("Score 1 when polite.") | weird_text.filter(str.strip),
            "_provider": st.sampled_from(["openai", "anthropic", "google"]),
        },
        optional={
            "temperature": st.floats(0, 2) | huge_numbers,
            "max_tokens": st.integers(1, 65_536) | huge_numbers,
            "samples": st.integers(1, 3) | huge_numbers,
            "cache_ttl_s": st.integers(0, 30 * 24 * 3600) | huge_numbers,
        },
    )


def configs(type_: str) -> st.SearchStrategy[Any]:
    """Mostly configs of the right shape (with the pathological values), then junk."""
    junk = json_values
    if type_ == "exact_match":
        fields = {"case_sensitive": st.booleans() | junk, "strip": st.booleans() | junk}
    elif type_ == "contains":
        fields = {
            "values": st.lists(weird_text, max_size=5) | junk,
            "forbidden": st.lists(weird_text, max_size=5) | junk,
            "mode": st.sampled_from(["all", "any", "some"]) | junk,
            "case_sensitive": st.booleans(),
            "should_contain": st.booleans() | junk,
        }
    elif type_ == "regex":
        fields = {
            "pattern": patterns | junk,
            "flags": st.text("imsugxy", max_size=4) | junk,
            "should_match": st.booleans() | junk,
        }
    elif type_ == "json_schema":
        fields = {"schema": schemas | st.integers(1, 40).map(lambda d: nested(d, {})) | junk}
    else:
        fields = {
            "rubric": weird_text | junk,
            "_provider": st.sampled_from(PROVIDERS) | weird_text,
            "model": st.sampled_from(["judge-deployment", "gpt-4o"]) | weird_text | junk,
            "key_id": st.uuids().map(str) | weird_text,
            "temperature": huge_numbers | junk,
            "max_tokens": huge_numbers | junk,
            "samples": st.integers(-3, 12) | huge_numbers,
            "cache_ttl_s": huge_numbers | junk,
        }
    sane = sane_configs(type_)
    return st.one_of(
        sane,
        sane,
        sane,
        st.fixed_dictionaries({}, optional=fields),
        st.dictionaries(weird_text, junk, max_size=3),
        junk,
    )


outputs = st.one_of(
    weird_text,
    json_values.map(json.dumps),
    st.sampled_from(["a" * 40 + "!", '{"a": 1}', "FAKE_SCORE=0.7", '"aaa"']),
    st.integers(OUTPUT_LIMIT - 64, OUTPUT_LIMIT).map(lambda n: "a" * n),
)


# --- the property -------------------------------------------------------------------------


def answered_properly(response: httpx.Response) -> None:
    """A 2xx, or a 4xx in the error envelope; never a 5xx."""
    assert response.status_code < 500, (response.status_code, response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"}, body
        assert {"code", "message", "details"} <= set(body["error"]), body


async def exercise(
    api: Api,
    world: tuple[Org, str],
    type_: str,
    config: Any,
    update: Any,
    output: str,
    dual_sided: bool,
) -> None:
    org, project = world
    body = {"name": unique("fuzz"), "type": type_, "config": config, "dual_sided": dual_sided}
    created = await api.call("POST", f"/v1/projects/{project}/scorers", org, json=body)
    answered_properly(created)
    event(f"create {created.status_code}")
    if created.status_code != 201:
        return
    scorer_id = created.json()["data"]["id"]
    suite = await api.suite(org, project)
    await api.case(org, suite["id"], scorer_id, expected=None)
    run = await api.call("POST", "/v1/run", org, json={"suite": suite["slug"], "output": output})
    answered_properly(run)
    event(f"run {run.status_code} {run.json().get('status', '')}")
    patched = await api.call("PATCH", f"/v1/scorers/{scorer_id}", org, json={"config": update})
    answered_properly(patched)
    if patched.status_code == 200:
        again = await api.call(
            "POST", "/v1/run", org, json={"suite": suite["slug"], "output": output}
        )
        answered_properly(again)
        if again.status_code == 200:
            assert again.json()["status"] in ("cleared", "aborted", "error")


def fuzz_test(type_: str) -> Any:
    @FUZZ
    @given(config=configs(type_), update=configs(type_), output=outputs, dual_sided=st.booleans())
    async def test(
        papi: Api,  # noqa: F811
        world: tuple[Org, str],
        probe: HealthProbe,
        config: Any,
        update: Any,
        output: str,
        dual_sided: bool,
    ) -> None:
        await exercise(papi, world, type_, config, update, output, dual_sided)
        probe.check()

    test.__name__ = test.__qualname__ = f"test_{type_}_scorers_never_fail_the_server"
    return test


test_exact_match_scorers_never_fail_the_server = fuzz_test("exact_match")
test_contains_scorers_never_fail_the_server = fuzz_test("contains")
test_regex_scorers_never_fail_the_server = fuzz_test("regex")
test_json_schema_scorers_never_fail_the_server = fuzz_test("json_schema")
test_llm_judge_scorers_never_fail_the_server = fuzz_test("llm_judge")


# A literal run of 3,000 characters: `regex` took ~7 s to build its search tables for it on
# its first search, with the GIL held, so the event loop stood still whether the search ran
# on it (a schema's pattern) or in a thread (the regex scorer). Refused at creation now, and
# at run time when stored before the limit.
LONG_RUN = "x" * 3000
PATHOLOGICAL: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "regex": ({"pattern": LONG_RUN}, {"pattern": LONG_RUN, "flags": "", "should_match": True}),
    "json_schema": ({"schema": {"pattern": LONG_RUN}}, {"schema": {"pattern": LONG_RUN}}),
}
PATHOLOGICAL_OUTPUT = {"regex": LONG_RUN + "x", "json_schema": json.dumps(LONG_RUN + "x")}


async def judged_once(
    papi: Api,  # noqa: F811
    org: Org,
    project: str,
    scorer_id: str,
    output: str,
) -> dict[str, Any]:
    """The one case of a new suite on ``scorer_id``, as a synchronous run of ``output``
    scored it."""
    suite = await papi.suite(org, project)
    await papi.case(org, suite["id"], scorer_id, expected=None)
    run = await papi.run(org, suite["slug"], output)
    case: dict[str, Any] = run["scores"][0]
    return case


@pytest.mark.parametrize("type_", list(PATHOLOGICAL))
async def test_a_long_literal_run_never_holds_the_server(
    papi: Api,  # noqa: F811
    world: tuple[Org, str],
    probe: HealthProbe,
    type_: str,
) -> None:
    org, project = world
    config, stored = PATHOLOGICAL[type_]
    body = {"name": unique("run"), "type": type_, "config": config}
    created = await papi.call("POST", f"/v1/projects/{project}/scorers", org, json=body)
    assert "literal characters" in assert_error(created, 400, "VALIDATION_ERROR")["message"]
    # The same config stored by a release without the limit: refused at run time.
    sane_configs: dict[str, dict[str, Any]] = {
        "regex": {"pattern": "x"},
        "json_schema": {"schema": {}},
    }
    sane = sane_configs[type_]
    scorer = await papi.scorer(org, project, type=type_, config=sane)
    async with unit_of_work(papi.runtime.sessions) as session:
        await session.execute(
            update(Scorer).where(Scorer.id == uuid.UUID(scorer["id"])).values(config=stored)
        )
    case = await judged_once(papi, org, project, scorer["id"], PATHOLOGICAL_OUTPUT[type_])
    assert case["status"] == "error" and "literal characters" in case["reason"], case
    probe.check()


async def test_a_schema_exponential_in_the_output_never_holds_the_server(
    papi: Api,  # noqa: F811
    world: tuple[Org, str],
    probe: HealthProbe,
) -> None:
    org, project = world
    config = {"schema": EXPONENTIAL_SCHEMA}
    scorer = await papi.scorer(org, project, type="json_schema", config=config)
    case = await judged_once(papi, org, project, scorer["id"], json.dumps(nested(17, "deep")))
    assert case["status"] == "error" and "timed out" in case["reason"], case
    probe.check()


async def test_the_probe_sees_a_blocked_event_loop(papi: Api) -> None:  # noqa: F811
    # The responsiveness check can fail: a loop held for 1.2 s shows in `worst`.
    health = HealthProbe(papi.client)
    task = asyncio.create_task(health.run())
    while health.answers == 0:
        await asyncio.sleep(0.01)
    time.sleep(1.2)  # holds the loop, as a synchronous compile on it once did
    while health.answers < 2:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(AssertionError, match="/health took"):
        health.check()


async def test_a_long_output_is_validated_off_the_event_loop(
    papi: Api,  # noqa: F811
    world: tuple[Org, str],
    probe: HealthProbe,
) -> None:
    """150,000 integers under five keywords each: about 2 s of validation on our machines,
    which held the event loop when every schema was validated on it. Past 16 KiB an output
    is validated in a thread, under a time limit that grows with its size: judged in full,
    and /health answers meanwhile."""
    org, project = world
    schema = {
        "type": "array",
        "items": {
            "type": "integer",
            "minimum": 0,
            "maximum": 9,
            "multipleOf": 1,
            "not": {"const": 7},
        },
    }
    scorer = await papi.scorer(org, project, type="json_schema", config={"schema": schema})
    case = await judged_once(papi, org, project, scorer["id"], json.dumps([1] * 150_000))
    assert (case["status"], case["score"]) == ("passed", 1.0), case
    probe.check()
