"""JSON columns are written by ``launchgate.db.dump_json`` (orjson, with the standard
encoder behind it): whatever a run stores reads back as it was sent, on both backends."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from launchgate.db import dump_json
from tests.factories import Api

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_what_is_written_reads_back_as_it_was(value: Any) -> None:
    """Integers past 64 bits and lone surrogates included (st.text() draws them): those
    take the standard encoder."""
    assert json.loads(dump_json(value)) == value


def test_what_orjson_refuses_is_written_by_the_standard_encoder() -> None:
    for value in ({"n": 2**70}, {"s": "\ud800"}, {1: "a"}):
        assert dump_json(value) == json.dumps(value)


async def test_a_run_stores_and_returns_its_input_exactly(api: Api) -> None:
    org = await api.org()
    _, suite = await api.gated_suite(org, values=("a",))
    sent = {"big": 2**70, "text": "déjà vu \u2028 ✓", "nested": [1.5, None, {"k": True}]}
    ran = await api.run(org, suite["slug"], "a", input=sent)
    stored = await api.ok("GET", f"/v1/runs/{ran['id']}", org)
    assert stored["data"]["input"] == sent
