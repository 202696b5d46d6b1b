"""``POST /v1/batches`` with ``dry_run: true`` (issue 16): the estimate of every item,
validated like a real batch — the item limit, duplicated keys, empty outputs, the suite
and an explicit baseline id are refused with the same errors — and then nothing stored,
queued or counted (runs/dry_run.py says how the estimate is made).

``baseline: "auto"`` is not looked up: it never refuses a batch, and looking it up may
complete a stale baseline batch, which is a write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.batches import service as batches
from launchgate.batches.schemas import BatchRequest
from launchgate.kit.auth_context import AuthContext
from launchgate.runs import dry_run
from launchgate.runs import service as runs

if TYPE_CHECKING:
    from launchgate.runtime import ApiRuntime


async def estimate(
    session: AsyncSession, runtime: ApiRuntime, auth: AuthContext, body: BatchRequest
) -> dict[str, Any]:
    """The batch's estimate: every item's judge calls, tokens and cost, summed. Reads only."""
    batches._check_items(body, runtime.settings.max_batch_items)
    prepared = await runs.prepare(session, runtime, auth, body.suite, body.project, runs=0)
    if body.baseline is not None and body.baseline != "auto":
        await batches._resolve_baseline(session, auth, prepared, body.baseline, None)
    items = [(item.output, item.input) for item in body.items]
    return await dry_run.estimate(session, runtime.settings, auth, prepared, items)
