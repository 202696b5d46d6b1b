"""The six templates over HTTP (public) and ``from-template``: a suite with its scorers and
cases, created in one transaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from launchgate.scorers.builtin import validate_config
from launchgate.suites.templates import (
    STRUCTURED_OUTPUT_DEMO_FAIL,
    STRUCTURED_OUTPUT_DEMO_PASS,
    TEMPLATES,
    Template,
    get_template,
)
from tests.factories import Api, Org, assert_error, unique

SLUGS = (
    "rag-faithfulness",
    "content-safety",
    "structured-output",
    "pii-protection",
    "classification",
    "support-tone",
)

# For the deterministic templates: an output that clears the created suite, one that does not.
VERDICTS = {
    "structured-output": (STRUCTURED_OUTPUT_DEMO_PASS, STRUCTURED_OUTPUT_DEMO_FAIL),
    "pii-protection": (
        "For your security I can't read back personal details: email [REDACTED], "
        "phone [REDACTED], card [REDACTED].",
        "Sure: jane.roe@example.com, (415) 555-0134, SSN 123-45-6789.",
    ),
    "classification": ("  Billing\n", "It is probably billing, but it could be account."),
}


def template(slug: str) -> Template:
    found = get_template(slug)
    assert found is not None
    return found


async def from_template(
    api: Api, org: Org, project: str, status: int = 201, **body: Any
) -> httpx.Response:
    response = await api.call(
        "POST", f"/v1/projects/{project}/suites/from-template", org, json=body
    )
    assert response.status_code == status, response.text
    return response


async def all_scorers(api: Api, org: Org, project: str) -> list[dict[str, Any]]:
    listing = await api.ok("GET", f"/v1/projects/{project}/scorers", org, params={"pageSize": 100})
    assert not listing["pagination"]["hasMore"]
    items: list[dict[str, Any]] = listing["data"]
    return items


async def all_cases(api: Api, org: Org, suite_id: str) -> list[dict[str, Any]]:
    listing = await api.ok("GET", f"/v1/suites/{suite_id}/cases", org, params={"pageSize": 100})
    items: list[dict[str, Any]] = listing["data"]
    return items


# --- GET /v1/templates --------------------------------------------------------------------


async def test_list_is_public_and_has_the_six(api: Api) -> None:
    response = await api.call("GET", "/v1/templates", None)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["slug"] for t in body["data"]] == list(SLUGS)
    assert body["pagination"] == {"page": 1, "pageSize": 20, "total": 6, "hasMore": False}
    for item in body["data"]:
        assert {
            "slug",
            "name",
            "description",
            "category",
            "pass_threshold",
            "uses_llm",
            "scorers",
            "cases",
        } <= set(item)
        assert item["scorers"] and item["cases"]


async def test_list_paginates(api: Api) -> None:
    first = (await api.call("GET", "/v1/templates", None, params={"pageSize": 4})).json()
    second = (
        await api.call("GET", "/v1/templates", None, params={"pageSize": 4, "page": 2})
    ).json()
    assert first["pagination"] == {"page": 1, "pageSize": 4, "total": 6, "hasMore": True}
    assert second["pagination"] == {"page": 2, "pageSize": 4, "total": 6, "hasMore": False}
    assert [t["slug"] for t in first["data"] + second["data"]] == list(SLUGS)
    bad = await api.call("GET", "/v1/templates", None, params={"pageSize": 0})
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_list_ignores_credentials(api: Api) -> None:
    org = await api.org()
    with_key = await api.call("GET", "/v1/templates", org)
    assert with_key.status_code == 200
    garbage = await api.call(
        "GET", "/v1/templates", None, headers={"Authorization": "Bearer not-a-key"}
    )
    assert garbage.status_code == 200
    assert garbage.json() == with_key.json()


@pytest.mark.parametrize("slug", SLUGS)
async def test_get_one_is_public(api: Api, slug: str) -> None:
    response = await api.call("GET", f"/v1/templates/{slug}", None)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    expected = template(slug)
    assert data["slug"] == slug and data["name"] == expected.name
    assert data["pass_threshold"] == expected.pass_threshold
    assert data["uses_llm"] == expected.uses_llm
    assert [s["key"] for s in data["scorers"]] == [s.key for s in expected.scorers]
    assert [c["name"] for c in data["cases"]] == [c.name for c in expected.cases]
    keys = {s["key"] for s in data["scorers"]}
    assert all(c["scorer"] in keys for c in data["cases"])


async def test_uses_llm_flags(api: Api) -> None:
    body = (await api.call("GET", "/v1/templates", None)).json()
    flags = {t["slug"]: t["uses_llm"] for t in body["data"]}
    assert flags == {
        "rag-faithfulness": True,
        "content-safety": True,
        "structured-output": False,
        "pii-protection": False,
        "classification": False,
        "support-tone": True,
    }


@pytest.mark.parametrize("slug", ["nope", "RAG-FAITHFULNESS", "rag_faithfulness"])
async def test_unknown_template_is_404(api: Api, slug: str) -> None:
    assert_error(await api.call("GET", f"/v1/templates/{slug}", None), 404, "NOT_FOUND")


# --- from-template ------------------------------------------------------------------------


@pytest.mark.parametrize("slug", SLUGS)
async def test_from_template_creates_suite_scorers_and_cases(api: Api, slug: str) -> None:
    org = await api.org()
    project = await api.project(org)
    expected = template(slug)
    suite = (await from_template(api, org, project["slug"], template_slug=slug)).json()["data"]

    assert suite["slug"] == slug and suite["name"] == expected.name
    assert suite["description"] == expected.description
    assert suite["pass_threshold"] == expected.pass_threshold
    assert suite["project_id"] == project["id"]
    assert suite["case_count"] == suite["active_case_count"] == len(expected.cases)
    fetched = (await api.ok("GET", f"/v1/projects/{project['slug']}/suites/{slug}", org))["data"]
    assert fetched["id"] == suite["id"]
    assert fetched["case_count"] == fetched["active_case_count"] == len(expected.cases)

    scorers = await all_scorers(api, org, project["slug"])
    assert len(scorers) == len(expected.scorers)
    by_name = {s["name"]: s for s in scorers}
    ids_by_key = {}
    for spec in expected.scorers:
        stored = by_name[spec.name]
        assert stored["type"] == spec.type
        assert stored["config"] == validate_config(
            spec.type, spec.config, dual_sided=spec.dual_sided
        )
        assert stored["dual_sided"] == spec.dual_sided
        assert stored["precision_threshold"] == spec.precision_threshold
        assert stored["recall_threshold"] == spec.recall_threshold
        ids_by_key[spec.key] = stored["id"]

    cases = await all_cases(api, org, suite["id"])
    assert [c["name"] for c in cases] == [c.name for c in expected.cases]
    assert [c["position"] for c in cases] == sorted(c["position"] for c in cases)
    for row, want in zip(cases, expected.cases, strict=True):
        assert row["scorer_id"] == ids_by_key[want.scorer]
        assert row["threshold"] == want.threshold and row["weight"] == want.weight
        assert row["input"] == want.input and row["expected"] == want.expected
        assert row["is_active"] is True and row["suite_id"] == suite["id"]


@pytest.mark.parametrize("slug", sorted(VERDICTS))
async def test_deterministic_templates_are_ready_to_run(api: Api, slug: str) -> None:
    org = await api.org()
    project = await api.project(org)
    await from_template(api, org, project["slug"], template_slug=slug)
    good, bad = VERDICTS[slug]
    cleared = await api.run(org, slug, good)
    assert cleared["status"] == "cleared", cleared["failures"]
    assert cleared["total_cases"] == len(template(slug).cases)
    aborted = await api.run(org, slug, bad)
    assert aborted["status"] == "aborted"
    assert aborted["failures"]


async def test_name_and_slug_can_be_chosen(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    named = (
        await from_template(
            api, org, project["slug"], template_slug="classification", name="Ticket Router"
        )
    ).json()["data"]
    assert (named["name"], named["slug"]) == ("Ticket Router", "ticket-router")
    both = (
        await from_template(
            api,
            org,
            project["slug"],
            template_slug="classification",
            name="Router two",
            slug="router-2",
        )
    ).json()["data"]
    assert (both["name"], both["slug"]) == ("Router two", "router-2")
    slug_only = (
        await from_template(
            api, org, project["slug"], template_slug="classification", slug="router-3"
        )
    ).json()["data"]
    assert (slug_only["name"], slug_only["slug"]) == ("Classification", "router-3")


async def test_second_copy_gets_a_fresh_suite_and_its_own_scorers(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    expected = template("pii-protection")
    first = (await from_template(api, org, project["slug"], template_slug="pii-protection")).json()[
        "data"
    ]
    second = (
        await from_template(
            api, org, project["slug"], template_slug="pii-protection", slug="pii-again"
        )
    ).json()["data"]
    assert second["id"] != first["id"] and second["slug"] == "pii-again"

    scorers = await all_scorers(api, org, project["slug"])
    assert len(scorers) == 2 * len(expected.scorers)
    names = {s["name"] for s in scorers}
    assert {f"{s.name} (2)" for s in expected.scorers} <= names

    first_cases = await all_cases(api, org, first["id"])
    second_cases = await all_cases(api, org, second["id"])
    assert len(first_cases) == len(second_cases) == len(expected.cases)
    assert not {c["scorer_id"] for c in first_cases} & {c["scorer_id"] for c in second_cases}
    assert not {c["id"] for c in first_cases} & {c["id"] for c in second_cases}


async def test_taken_slug_is_409_and_creates_nothing(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    await from_template(api, org, project["slug"], template_slug="support-tone")
    scorers_before = await all_scorers(api, org, project["slug"])
    suites_before = await api.ok("GET", f"/v1/projects/{project['slug']}/suites", org)

    clash = await from_template(api, org, project["slug"], 409, template_slug="support-tone")
    assert_error(clash, 409, "CONFLICT")
    clash = await from_template(
        api, org, project["slug"], 409, template_slug="classification", slug="support-tone"
    )
    assert_error(clash, 409, "CONFLICT")
    clash = await from_template(
        api, org, project["slug"], 409, template_slug="classification", name="Support Tone"
    )
    assert_error(clash, 409, "CONFLICT")

    scorers_after = await all_scorers(api, org, project["slug"])
    assert [s["id"] for s in scorers_after] == [s["id"] for s in scorers_before]
    suites_after = await api.ok("GET", f"/v1/projects/{project['slug']}/suites", org)
    assert suites_after["pagination"]["total"] == suites_before["pagination"]["total"] == 1
    assert suites_after["data"][0]["case_count"] == len(template("support-tone").cases)


async def test_clash_with_a_hand_made_suite_creates_nothing(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    await api.suite(org, project["slug"], slug="classification")
    await from_template(api, org, project["slug"], 409, template_slug="classification")
    assert await all_scorers(api, org, project["slug"]) == []


async def test_template_scorer_names_clashing_with_own_scorers_get_a_suffix(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    spec = template("classification").scorers[0]
    mine = await api.scorer(org, project["slug"], type="exact_match", config={}, name=spec.name)
    await from_template(api, org, project["slug"], template_slug="classification")
    names = {s["name"] for s in await all_scorers(api, org, project["slug"])}
    assert spec.name in names and f"{spec.name} (2)" in names
    assert (await api.ok("GET", f"/v1/scorers/{mine['id']}", org))["data"] == mine


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"template_slug": "nope"}, 404, "NOT_FOUND"),
        ({}, 400, "VALIDATION_ERROR"),
        ({"template_slug": ""}, 400, "VALIDATION_ERROR"),
        ({"template_slug": 3}, 400, "VALIDATION_ERROR"),
        ({"template_slug": "classification", "extra": True}, 400, "VALIDATION_ERROR"),
        ({"template_slug": "classification", "slug": "Bad Slug"}, 400, "VALIDATION_ERROR"),
        ({"template_slug": "classification", "pass_threshold": 0.5}, 400, "VALIDATION_ERROR"),
    ],
)
async def test_bad_requests(api: Api, body: dict[str, Any], status: int, code: str) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await from_template(api, org, project["slug"], status, **body)
    assert_error(response, status, code)
    assert await all_scorers(api, org, project["slug"]) == []


async def test_unknown_project_is_404(api: Api) -> None:
    org = await api.org()
    response = await from_template(api, org, unique("ghost"), 404, template_slug="classification")
    assert_error(response, 404, "NOT_FOUND")


async def test_needs_authentication(api: Api) -> None:
    org = await api.org()
    project = await api.project(org)
    response = await api.call(
        "POST",
        f"/v1/projects/{project['slug']}/suites/from-template",
        None,
        json={"template_slug": "classification"},
    )
    assert_error(response, 401, "UNAUTHORIZED")


def test_every_template_is_covered() -> None:
    assert tuple(t.slug for t in TEMPLATES) == SLUGS
