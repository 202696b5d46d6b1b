"""Gemini API: x-goog-api-key or ?key=, generateContent, Google RPC error bodies."""

from __future__ import annotations

import json

import httpx

from launchgate.testing.fake_provider import FakeProviderServer
from tests.testing.conftest import GOOGLE_KEY, gemini_request

KEY = {"x-goog-api-key": GOOGLE_KEY}
GENERATE = "/v1beta/models/gemini-2.5-pro:generateContent"


async def test_gemini_models(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1beta/models", headers=KEY)
    assert response.status_code == 200
    model = response.json()["models"][0]
    assert model["name"].startswith("models/")
    assert "generateContent" in model["supportedGenerationMethods"]
    assert {"displayName", "inputTokenLimit", "outputTokenLimit"} <= set(model)
    by_query = await client.get("/v1beta/models", params={"key": GOOGLE_KEY})
    assert by_query.status_code == 200
    one = await client.get("/v1beta/models/gemini-2.5-flash", headers=KEY)
    assert one.json()["name"] == "models/gemini-2.5-flash"
    unknown = await client.get("/v1beta/models/gemini-0", headers=KEY)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["status"] == "NOT_FOUND"


async def test_generate_content_shape(client: httpx.AsyncClient) -> None:
    response = await client.post(GENERATE, headers=KEY, json=gemini_request("FAKE_SCORE=0.35"))
    assert response.status_code == 200
    body = response.json()
    candidate = body["candidates"][0]
    assert candidate["finishReason"] == "STOP"
    assert candidate["content"]["role"] == "model"
    answer = json.loads(candidate["content"]["parts"][0]["text"])
    assert answer["score"] == 0.35
    usage = body["usageMetadata"]
    assert usage["promptTokenCount"] > 0 and usage["candidatesTokenCount"] > 0
    assert usage["totalTokenCount"] >= usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert body["modelVersion"] == "gemini-2.5-pro"


async def test_gemini_wrong_key_is_400_api_key_invalid(client: httpx.AsyncClient) -> None:
    response = await client.post(GENERATE, params={"key": "AIzaWrong"}, json=gemini_request())
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


async def test_gemini_missing_key_is_403(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1beta/models")
    assert response.status_code == 403
    assert response.json()["error"]["status"] == "PERMISSION_DENIED"


async def test_gemini_body_checks(client: httpx.AsyncClient) -> None:
    unknown = await client.post(GENERATE, headers=KEY, json=gemini_request(response_format={}))
    assert unknown.status_code == 400
    assert 'Unknown name "response_format"' in unknown.json()["error"]["message"]
    wrong_config = gemini_request(generationConfig={"response_format": "json"})
    response = await client.post(GENERATE, headers=KEY, json=wrong_config)
    assert response.status_code == 400
    no_contents = await client.post(GENERATE, headers=KEY, json={"generationConfig": {}})
    assert no_contents.status_code == 400
    assert "contents is not specified" in no_contents.json()["error"]["message"]
    snake = gemini_request()
    snake["generation_config"] = snake.pop("generationConfig")
    assert (await client.post(GENERATE, headers=KEY, json=snake)).status_code == 200


async def test_gemini_per_provider_policy(
    fake: FakeProviderServer, client: httpx.AsyncClient
) -> None:
    fake.configure(providers={"google": {"policy": {"kind": "fixed", "score": 0.125}}})
    response = await client.post(GENERATE, headers=KEY, json=gemini_request("FAKE_SCORE=0.9"))
    text = response.json()["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text)["score"] == 0.125
