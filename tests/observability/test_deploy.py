"""The observability profile of docker-compose.yml, the Prometheus configuration and the
Grafana dashboard agree with each other and with the metrics the server really exposes
(read from a live /metrics page), as tests/test_deployment.py does for the base stack."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tests.factories import Api
from tests.observability.conftest import scrape

ROOT = Path(__file__).resolve().parents[2]
PROFILE = "deploy/compose.observability.yml"
PANELS = {
    "Runs by status": "launchgate_runs_total",
    "Run duration (quantiles)": "launchgate_run_duration_seconds_bucket",
    "Judge requests by outcome": "launchgate_judge_requests_total",
    "Judge calls in flight": "launchgate_judge_inflight",
    "Judge limiter wait (quantiles)": "launchgate_judge_wait_seconds_bucket",
    "Judge cost by model (per hour)": "launchgate_judge_cost_usd_total",
    "Queue depth": "launchgate_queue_depth",
    "HTTP requests by route and status": "launchgate_http_requests_total",
}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _profile() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / PROFILE).read_text())
    return loaded


def test_the_profile_adds_prometheus_and_grafana_to_the_scaled_out_stack() -> None:
    compose = _compose()
    assert compose["include"] == [PROFILE]  # its services join the stack's project
    services = compose["services"]
    assert not any("profiles" in service for service in services.values())  # always up
    profiled = _profile()["services"]
    assert set(profiled) == {"prometheus", "grafana"} and not set(profiled) & set(services)
    for service in profiled.values():
        assert service["profiles"] == ["observability"]
        assert re.fullmatch(r"[a-z/]+:v?\d+\.\d+\.\d+", service["image"])  # pinned
        for volume in service["volumes"]:
            source = volume.split(":")[0]
            if source.startswith("./"):  # relative to the included file's directory
                assert (ROOT / "deploy" / source).exists(), source
            else:  # a named volume, declared by the profile's file
                assert source in _profile()["volumes"], source
    assert profiled["grafana"]["depends_on"] == ["prometheus"]
    for name in ("api", "worker"):  # the stack's processes expose what Prometheus scrapes
        env = services[name]["environment"]
        assert env["LAUNCHGATE_METRICS"] == "${LAUNCHGATE_METRICS:-on}"
        assert env["LAUNCHGATE_WORKER_METRICS_PORT"] == "9464"


def test_prometheus_scrapes_the_api_and_every_worker() -> None:
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    api_port = _compose()["services"]["api"]["command"][-1]
    assert jobs["launchgate-api"]["static_configs"][0]["targets"] == [f"api:{api_port}"]
    worker = jobs["launchgate-worker"]["dns_sd_configs"][0]
    worker_port = _compose()["services"]["worker"]["environment"]["LAUNCHGATE_WORKER_METRICS_PORT"]
    assert worker["names"] == ["worker"] and worker["port"] == int(worker_port)
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())
    sources = yaml.safe_load(
        (ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text()
    )
    assert sources["datasources"][0]["uid"] == "prometheus"
    assert sources["datasources"][0]["url"] == "http://prometheus:9090"


async def test_the_dashboard_charts_metrics_the_server_exposes(mapi: Api) -> None:
    dashboard = json.loads((ROOT / "deploy/grafana/launchgate.json").read_text())
    assert dashboard["uid"] == "launchgate"
    page = await scrape(mapi.client)
    exposed = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            name, kind = line.split()[2:4]
            name = name.removesuffix("_total") if kind == "counter" else name
            suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum")}
            exposed |= {name + suffix for suffix in suffixes.get(kind, ("",))}
    by_title = {panel["title"]: panel for panel in dashboard["panels"]}
    for title, metric in PANELS.items():
        assert metric in json.dumps(by_title[title]["targets"]), title
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "prometheus"
        for target in panel["targets"]:
            for used in re.findall(r"launchgate_[a-z_]+", target["expr"]):
                assert used in exposed, (panel["title"], used)
