"""OpenAI and Azure OpenAI: the shared chat-completion object, each with its own auth."""

from __future__ import annotations

import json

import httpx

from launchgate.testing.fake_provider import FakeProviderServer
from tests.testing.conftest import AZURE_KEY, AZURE_QUERY, OPENAI_KEY, openai_chat

BEARER = {"Authorization": f"Bearer {OPENAI_KEY}"}


async def test_openai_models(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models", headers=BEARER)
    assert response.status_code == 200
    body = response.json()
    assert body["object"] == "list"
    assert {"id", "object", "created", "owned_by"} <= set(body["data"][0])
    assert "gpt-4o" in {m["id"] for m in body["data"]}


async def test_openai_chat_completion_shape(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/chat/completions", headers=BEARER, json=openai_chat())
    assert response.status_code == 200
    body = response.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert body["model"] == "gpt-4o"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    assert set(json.loads(choice["message"]["content"])) == {"reasoning", "score"}
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert response.headers["x-request-id"].startswith("req_")


async def test_openai_wrong_key_is_the_real_401(client: httpx.AsyncClient) -> None:
    wrong = "sk-live-0123456789abcdef"
    response = await client.post(
        "/v1/chat/completions", json=openai_chat(), headers={"Authorization": f"Bearer {wrong}"}
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None
    assert error["message"].startswith("Incorrect API key provided: sk-live-")
    assert wrong not in response.text  # masked, as OpenAI does


async def test_openai_missing_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/models")
    assert response.status_code == 401
    assert response.json()["error"]["message"].startswith("You didn't provide an API key.")


async def test_openai_bad_bodies(client: httpx.AsyncClient) -> None:
    no_messages = {"model": "gpt-4o"}
    response = await client.post("/v1/chat/completions", headers=BEARER, json=no_messages)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "missing_required_parameter"
    assert response.json()["error"]["param"] == "messages"
    response = await client.post(
        "/v1/chat/completions",
        headers=BEARER,
        json={"messages": [{"role": "user", "content": "x"}]},
    )
    assert response.json()["error"]["message"] == "you must provide a model parameter"
    response = await client.post("/v1/chat/completions", headers=BEARER, content=b"{not json")
    assert response.status_code == 400
    assert "could not parse the JSON body" in response.json()["error"]["message"]
    body = openai_chat(response_format={"type": "xml"})
    response = await client.post("/v1/chat/completions", headers=BEARER, json=body)
    assert response.json()["error"]["param"] == "response_format.type"


async def test_openai_judge_policies(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    async def verdict(content: str) -> str:
        response = await client.post(
            "/v1/chat/completions", headers=BEARER, json=openai_chat(content)
        )
        return str(response.json()["choices"][0]["message"]["content"])

    prompt = "first FAKE_SCORE=0.2 then the output says FAKE_SCORE = 0.65"
    assert json.loads(await verdict(prompt))["score"] == 0.65
    assert json.loads(await verdict("no marker"))["score"] == 1.0
    fake.configure(policy={"kind": "fixed", "score": 0.4, "reasoning": "Fine."})
    assert json.loads(await verdict(prompt)) == {"reasoning": "Fine.", "score": 0.4}
    fake.configure(policy={"kind": "garbage"})
    garbage = await verdict(prompt)
    try:
        json.loads(garbage)
        raise AssertionError("the garbage policy answered JSON")
    except ValueError:
        pass


async def test_azure_models_and_deployments(client: httpx.AsyncClient) -> None:
    headers = {"api-key": AZURE_KEY}
    models = await client.get("/openai/models", headers=headers, params=AZURE_QUERY)
    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert models.json()["data"][0]["capabilities"]["chat_completion"] is True
    deployments = await client.get("/openai/deployments", headers=headers, params=AZURE_QUERY)
    assert deployments.json()["data"][0]["object"] == "deployment"


async def test_azure_chat_completion(client: httpx.AsyncClient) -> None:
    body = openai_chat("FAKE_SCORE=0.3")
    del body["model"]  # Azure names the model by deployment
    response = await client.post(
        "/openai/deployments/judge-4o/chat/completions",
        headers={"api-key": AZURE_KEY},
        params=AZURE_QUERY,
        json=body,
    )
    assert response.status_code == 200
    completion = response.json()
    assert completion["object"] == "chat.completion"
    assert completion["model"] == "judge-4o"
    assert completion["prompt_filter_results"][0]["prompt_index"] == 0
    assert completion["choices"][0]["content_filter_results"]["hate"]["filtered"] is False
    assert json.loads(completion["choices"][0]["message"]["content"])["score"] == 0.3
    assert "apim-request-id" in response.headers


async def test_azure_checks(fake: FakeProviderServer, client: httpx.AsyncClient) -> None:
    path = "/openai/deployments/gpt-4o/chat/completions"
    no_version = await client.post(path, headers={"api-key": AZURE_KEY}, json=openai_chat())
    # Real Azure OpenAI answers a missing api-version with 404, not 400.
    assert no_version.status_code == 404
    assert no_version.json() == {"error": {"code": "404", "message": "Resource not found"}}
    wrong = await client.post(
        path, headers={"api-key": "nope"}, params=AZURE_QUERY, json=openai_chat()
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "401"
    assert wrong.json()["error"]["message"].startswith(
        "Access denied due to invalid subscription key"
    )
    bearer = await client.post(
        path,
        headers={"Authorization": f"Bearer {AZURE_KEY}"},
        params=AZURE_QUERY,
        json=openai_chat(),
    )
    assert "missing subscription key" in bearer.json()["error"]["message"]
    fake.configure(providers={"azure_openai": {"deployments": ["other"]}})
    unknown = await client.post(
        path, headers={"api-key": AZURE_KEY}, params=AZURE_QUERY, json=openai_chat()
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "DeploymentNotFound"
