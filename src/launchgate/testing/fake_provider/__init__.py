"""A fake LLM provider server speaking the real OpenAI, Anthropic, Gemini and Azure formats.

Run it offline with ``python -m launchgate.testing.fake_provider --port 8765``, or in a
test with ``with FakeProviderServer() as fake: ...``. Point LaunchGate at it exactly as
the official SDKs take their base URLs:

========================  =====================================  ========================
provider                  base URL                               key header
========================  =====================================  ========================
``openai``                ``http://127.0.0.1:N/v1``              ``Authorization: Bearer``
``anthropic``             ``http://127.0.0.1:N``                 ``x-api-key`` + version
``google``                ``http://127.0.0.1:N``                 ``x-goog-api-key``/``?key=``
``azure_openai``          endpoint ``http://127.0.0.1:N``        ``api-key``
========================  =====================================  ========================

Valid keys: any key starting with ``sk-test-`` / ``sk-ant-test-`` / ``AIza-test-`` /
``azure-test-`` (per provider), plus an explicit allow-list; both are configurable.

The judge reads markers in the prompt (the ``from_prompt`` policy, the default):
``FAKE_SCORE=0.9`` answers 0.9, ``FAKE_SCORE=garbage`` answers unparseable text, and
``FAKE_SCORE_NORMAL=0.7,0.1`` answers a fresh draw from a normal distribution with mean
0.7 and standard deviation 0.1, clipped to [0, 1], on every call (the noisy judge). The
last well-formed marker wins; a malformed one (a word, a negative deviation) is ignored.
``FAKE_CACHED=N`` reports N of the prompt's tokens as read from the prompt cache (OpenAI
``cached_tokens``, Anthropic ``cache_read_input_tokens``, Gemini
``cachedContentTokenCount``), at most the prompt's tokens.
Draws come from one ``random.Random`` owned by the state, seeded by ``--seed``,
``FakeProviderServer(seed=...)``, ``configure`` with ``{"seed": 42}``, and restarted by
every ``reset``: the same seed and the same order of calls give the same scores.

Admin API (JSON, under ``/_admin``): ``GET health``, ``GET counters``, ``GET requests``
(recent calls, secrets stripped), ``GET config``, ``POST configure`` (merge), ``POST
reset`` (``{"counters": true, "config": true}``). ``configure`` takes::

    {"latency_ms": 0, "seed": 42,
     "policy": {"kind": "fixed" | "from_prompt" | "garbage", "score": 1.0,
                "marker": "FAKE_SCORE", "reasoning": null, "text": "..."},
     "providers": {"openai": {"latency_ms": 50, "policy": {...}, "key_prefixes": [...],
                              "valid_keys": [...], "deployments": [...]}},
     "schedule": {"anthropic": [{"kind": "overloaded", "count": 2, "endpoint": "chat",
                                 "retry_after": 1, "seconds": 30,
                                 "status": 500, "body": {}, "headers": {}}]}}

Schedule kinds: ``rate_limit`` (429, ``retry-after: 1`` unless told), ``quota``,
``server_error``, ``overloaded`` (Anthropic 529, others 503), ``timeout`` (hangs
``seconds``, then answers), ``drop`` (hangs up mid-response), ``garbage`` (200 with an
unparseable answer), ``auth`` (the invalid-key answer), ``custom`` (status/body/headers).

The fake never logs a key; counters name keys by ``key_fingerprint(key)``.
"""

from launchgate.testing.fake_provider.app import create_app
from launchgate.testing.fake_provider.runner import (
    FakeProviderProcess,
    FakeProviderServer,
    free_port,
)
from launchgate.testing.fake_provider.state import (
    DEFAULT_KEY_PREFIXES,
    PROVIDERS,
    State,
    key_fingerprint,
)

__all__ = [
    "DEFAULT_KEY_PREFIXES",
    "PROVIDERS",
    "FakeProviderProcess",
    "FakeProviderServer",
    "State",
    "create_app",
    "free_port",
    "key_fingerprint",
]
