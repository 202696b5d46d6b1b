"""Request dependencies shared by every router: the runtime, the session, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from launchgate.db import commit, rollback
from launchgate.kit.auth_context import AuthContext
from launchgate.runtime import ApiRuntime


async def get_runtime(request: Request) -> ApiRuntime:  # async: a sync one costs a thread hop
    runtime: ApiRuntime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[ApiRuntime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as session:
        try:
            yield session
            await commit(session)
        except BaseException:
            await rollback(session)
            raise


# scope="function": commit before the response is sent, so a client that reads the answer
# and immediately asks again sees its own write.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


async def end_unit(session: AsyncSession) -> None:
    """Finish the request's unit of work now, before a long wait, so that its connection
    goes back to the pool while the request waits (a synchronous judge run waiting on
    the worker: seconds). What the request did so far is committed — for such a request
    only reads, and the caller's credentials' bookkeeping — and its after-commit actions
    run; the dependency's own commit at the end then has nothing left to do.

    An endpoint calls this, not a service: services never commit (STYLE.md). A request
    that kept its connection while waiting held one of the pool's few connections idle,
    and the worker's job, which needs connections to finish that very run, starved: at
    25 simultaneous judge runs the pool (10 + 10 on SQLite) ran dry and every request
    answered 500 after the pool's 30 s timeout (issue 11)."""
    await commit(session)


async def _current_auth(request: Request, runtime: RuntimeDep, session: SessionDep) -> AuthContext:
    from launchgate.auth.middleware import authenticated_caller
    from launchgate.auth.service import authenticate

    # The app's AuthMiddleware authenticated the caller before the body was read; doing it
    # again would cost a second lookup and count a failure twice towards the lockout.
    caller = authenticated_caller(request.scope)
    if caller is not None:
        return caller
    # Only without that middleware (an app assembled differently): still never unchecked.
    return await authenticate(
        session,
        runtime,
        request.headers.get("authorization"),
        request.client.host if request.client else "unknown",
    )


CurrentAuth = Annotated[AuthContext, Depends(_current_auth)]
