from __future__ import annotations

from tests.factories import Api


async def test_gate_an_output(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org)
    cleared = await api.run(org, suite["slug"], "hello world")
    assert cleared["status"] == "cleared" and cleared["passed"] is True
    aborted = await api.run(org, suite["slug"], "hello there")
    assert aborted["status"] == "aborted" and aborted["pass_rate"] == 0.5
    assert [f["case"] for f in aborted["failures"]] == ["has world"]
