"""A BYOK key test is a job the API waits for. When no worker answers in time (the one that
took it was killed, or none is running), the caller gets 503 with Retry-After, not a 500
(the soak of issue 11 found the 500 at each worker kill)."""

from __future__ import annotations

from pathlib import Path

import httpx

from launchgate.testing.fake_provider.runner import FakeProviderProcess
from tests.scale.conftest import PROVIDER_KEY, make_fleet


def test_a_key_test_no_worker_answers_is_503_with_retry_after(
    tmp_path: Path, database: str, shared_redis: str, fake: FakeProviderProcess
) -> None:
    # The API waits the provider timeout plus 10 s for the job: 11 s here.
    fleet = make_fleet(tmp_path, database, shared_redis, fake, LAUNCHGATE_PROVIDER_TIMEOUT_S="1")
    try:
        api_key = fleet.create_org("acme")
        url = fleet.start_api("api")  # and no worker
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
            created = client.post(
                "/v1/byok-keys", json={"provider": "openai", "name": "k", "key": PROVIDER_KEY}
            )
            assert created.status_code == 201, created.text
            key_id = created.json()["data"]["id"]
            tested = client.post(f"/v1/byok-keys/{key_id}/test")
            key = client.get(f"/v1/byok-keys/{key_id}").json()["data"]
    finally:
        fleet.stop()
    assert tested.status_code == 503, tested.text
    assert tested.headers["retry-after"] == "5"
    error = tested.json()["error"]
    assert error["code"] == "SERVICE_UNAVAILABLE"
    assert "did not finish within 11 s" in error["message"]
    assert PROVIDER_KEY[8:] not in tested.text
    assert key["status"] == "active" and key["last_tested_at"] is None
