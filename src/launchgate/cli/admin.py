"""Operator commands: serve, db upgrade, orgs create and set-plan, users create, byok rotate,
quickstart."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import os
import re
import socket
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from launchgate.cli.help import App

if TYPE_CHECKING:
    from launchgate.cli.operations import DataDir

# soft_wrap: a line is never broken at the console width, so piped output and logs keep
# one message per line (and the curl line of the quickstart stays pasteable).
err = Console(stderr=True, soft_wrap=True)
out = Console(highlight=False, soft_wrap=True)

db_app = App(help="Database migrations.", no_args_is_help=True)
orgs_app = App(help="Organisations.", no_args_is_help=True)
users_app = App(help="Dashboard users.", no_args_is_help=True)
byok_app = App(help="Customers' provider keys (BYOK).", no_args_is_help=True)

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        metavar="PATH",
        show_default=False,
        help="The data directory: embedded database, generated secrets "
        "(default: LAUNCHGATE_DATA_DIR, then ./.launchgate)",
    ),
]


def _settings(data_dir: Path | None = None) -> Any:
    """Load settings (``--data-dir`` over the environment) or stop with the one line that
    says what to set."""
    try:
        from launchgate.config import SettingsError, load_settings
    except ImportError:
        err.print(
            '[red]The server is not installed:[/] pip install ".\\[server]" in a clone of the '
            "repository"
        )
        raise typer.Exit(2) from None
    try:
        return load_settings(data_dir)
    except SettingsError as exc:
        err.print(f"[red]Configuration error:[/] {escape(str(exc))}")
        raise typer.Exit(2) from None


def _secure_data_dir(settings: Any, *, create: bool) -> None:
    """The data dir 0700 and its files 0600 (kit/data_files.py), the embedded database
    created at 0600 before SQLite makes it 0644; looser ones tightened, each logged."""
    from launchgate.kit.data_files import secure_data_files

    url = settings.resolved_database_url
    database = None
    if settings.embedded and ":///" in url and not url.endswith(":memory:"):
        database = Path(url.split(":///", 1)[1])
    secure_data_files(settings.data_dir, database, create=create)


def _migrate(settings: Any) -> None:
    from launchgate.migrations import upgrade

    if settings.embedded:
        _secure_data_dir(settings, create=True)
    try:
        upgrade(settings.resolved_database_url)
    except Exception as exc:
        raise _fail(exc) from None


def _fail(exc: Exception) -> typer.Exit:
    """One line on stderr instead of a traceback: 2 for bad input or settings, 1 when the
    database failed. Anything else is a bug and keeps its traceback."""
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    from launchgate.config import SettingsError
    from launchgate.errors import LaunchGateError

    if isinstance(exc, LaunchGateError):
        err.print(f"[red]Error:[/] {escape(exc.message)}")
        return typer.Exit(2)
    if isinstance(exc, SettingsError):
        err.print(f"[red]Configuration error:[/] {escape(str(exc))}")
        return typer.Exit(2)
    if isinstance(exc, DBAPIError):
        cause = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        hint = "; run 'launchgate db upgrade' first" if isinstance(exc, ProgrammingError) else ""
        err.print(f"[red]Database error:[/] {escape(cause)}{hint}")
        return typer.Exit(1)
    raise exc


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDirOption = None) -> None:
    """Apply migrations to the configured database (LAUNCHGATE_DATABASE_URL)."""
    settings = _settings(data_dir)
    _migrate(settings)
    out.print("Database is up to date.")


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Argument(help="The organisation's name", show_default=False)],
    plan: Annotated[str | None, typer.Option(help="free, pro, scale or enterprise")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Create an organisation and its first live API key (printed once)."""
    settings = _settings(data_dir)
    if settings.embedded:
        _migrate(settings)
    from launchgate.cli.operations import create_org

    try:
        org_id, key = asyncio.run(create_org(settings, name, plan or settings.default_plan))
    except Exception as exc:
        raise _fail(exc) from None
    if as_json:
        sys.stdout.write(json.dumps({"org_id": org_id, "api_key": key}) + "\n")
        return
    out.print(f"Organisation [bold]{escape(name)}[/] created: {org_id}")
    out.print(f"API key (shown once, store it now): [bold]{key}[/]")


@orgs_app.command("set-plan")
def orgs_set_plan(
    org_id: Annotated[str, typer.Argument(help="Organisation id", show_default=False)],
    plan: Annotated[str, typer.Argument(help="free, pro, scale or enterprise", show_default=False)],
    data_dir: DataDirOption = None,
) -> None:
    """Set an organisation's plan (audited). With Stripe billing on, the webhook sets the
    plans of organisations that subscribe; an enterprise one must be set to free first."""
    settings = _settings(data_dir)
    if settings.embedded:
        _migrate(settings)
    from launchgate.cli.operations import set_plan

    try:
        uuid.UUID(org_id)
    except ValueError:
        err.print(f"[red]Error:[/] '{escape(org_id)}' is not an organisation id")
        raise typer.Exit(2) from None
    try:
        before = asyncio.run(set_plan(settings, org_id, plan))
    except Exception as exc:
        raise _fail(exc) from None
    if before == plan:
        out.print(f"Organisation {escape(org_id)} is already on {escape(plan)}; nothing changed.")
        return
    out.print(f"Organisation {escape(org_id)}: plan {escape(before)} -> {escape(plan)}")
    if settings.embedded:
        # The embedded server keeps plans in memory (orgs/cache.py) and this is another process.
        out.print("A running 'launchgate serve' on this data dir sees it after a restart.")


@users_app.command("create")
def users_create(
    org: Annotated[str, typer.Option("--org", metavar="ORG_ID", help="Organisation id")],
    email: Annotated[str, typer.Option("--email", help="The user's email, their login")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin")
    ] = False,
    role: Annotated[str, typer.Option(help="owner or member")] = "member",
    data_dir: DataDirOption = None,
) -> None:
    """Create a dashboard user; the password is read from standard input."""
    if not password_stdin:
        err.print("Pass the password on standard input with --password-stdin")
        raise typer.Exit(2)
    password = sys.stdin.readline().rstrip("\r\n")
    settings = _settings(data_dir)
    if settings.embedded:
        _migrate(settings)
    from launchgate.cli.operations import create_user

    try:
        user_id = asyncio.run(create_user(settings, org, email, password, role))
    except ValueError:
        err.print(f"[red]Error:[/] '{escape(org)}' is not an organisation id")
        raise typer.Exit(2) from None
    except Exception as exc:
        raise _fail(exc) from None
    out.print(f"User {escape(email)} created: {user_id}")


@byok_app.command("rotate")
def byok_rotate(
    batch_size: Annotated[
        int,
        typer.Option(min=1, max=10_000, metavar="N", help="Rows re-encrypted per transaction"),
    ] = 100,
    data_dir: DataDirOption = None,
) -> None:
    """Re-encrypt every stored BYOK key under the current BYOK_ENCRYPTION_KEY.

    Keep the old key in BYOK_ENCRYPTION_KEY_PREVIOUS until a run reports no failures.

    Safe to interrupt: finished batches stay committed, and the next run skips them.

    Exits 1 when a key could not be decrypted; each is named by id.
    """
    settings = _settings(data_dir)
    from launchgate.byok.vault import MasterKeyError, load_vault
    from launchgate.logging import configure

    configure("WARNING")  # the key-file warning, not migration chatter
    try:
        vault = load_vault(settings)
    except MasterKeyError as exc:
        err.print(f"[red]Configuration error:[/] {escape(exc.message)}")
        raise typer.Exit(2) from None
    if settings.embedded:
        _migrate(settings)
    from launchgate.cli.operations import rotate_byok_keys

    try:
        report = asyncio.run(rotate_byok_keys(settings, vault, batch_size))
    except Exception as exc:
        raise _fail(exc) from None
    out.print(
        f"Re-encrypted {report.resealed} BYOK key(s) under master key {vault.current_kid}; "
        f"{report.current} already current."
    )
    if report.changed:
        out.print(
            f"{report.changed} changed while rotating (revoked or sealed again by the "
            "server) and were left as they are."
        )
    for failure in report.failed:
        err.print(f"[red]Error:[/] {escape(failure.message)}")
    if report.failed:
        err.print(
            f"{len(report.failed)} BYOK key(s) could not be re-encrypted: add the master "
            "key they were sealed under to BYOK_ENCRYPTION_KEY_PREVIOUS and run again."
        )
        raise typer.Exit(1)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (0: any free port)")] = 4001,
    data_dir: DataDirOption = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            metavar="N",
            min=1,
            max=64,
            help="API processes on the one port (more than 1: scaled-out mode only, "
            "PostgreSQL and Redis)",
        ),
    ] = 1,
) -> None:
    """Serve the API with the in-process worker; migrates the embedded database first."""
    settings = _settings(data_dir)
    _configure_logs(settings)
    from launchgate.cli.serving import refusal

    refused = refusal(settings, workers)
    if refused is not None:  # before the port: nothing is taken or created for a refusal
        err.print(f"[red]Error:[/] {escape(refused)}")
        raise typer.Exit(2)
    listener = _bind(host, port)  # first: a taken port is said before anything is created
    data = _inspect_data_dir(settings)
    if settings.embedded:
        _migrate_apart(settings)
    _serve(settings, listener, data, workers)


def _migrate_apart(settings: Any) -> None:
    """``_migrate`` in a forked child where fork exists. The migration tool (alembic, mako,
    the migration scripts: about 300 modules) would otherwise stay imported in the server
    for its whole life, some 15 MB of resident memory it never uses again
    (bench/RESULTS.md, "Resident memory"). Nothing has started a thread yet, so forking
    here is safe; the child's one-line error and exit code are the command's."""
    if not hasattr(os, "fork"):
        _migrate(settings)
        return
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: migrate, then leave without running the parent's exit code
        code = 0
        try:
            _migrate(settings)
        except typer.Exit as exc:
            code = exc.exit_code
        except BaseException:
            import traceback

            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)
    code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    if code != 0:
        raise typer.Exit(code if code > 0 else 1)


def _configure_logs(settings: Any) -> None:
    """The operator's log level and format from the first line on: the start-up checks
    log too, and a JSON log must not begin with a text line."""
    from launchgate.config import SettingsError
    from launchgate.logging import configure

    try:
        configure(settings.log_level, settings.sql_log_level, settings.log_format)
    except ValueError as exc:  # logging's "Unknown level: 'LOUD'"
        raise _fail(SettingsError(f"LAUNCHGATE_LOG_LEVEL: {exc}")) from None


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound here rather than by uvicorn, so that a taken port is one
    line and exit 2 (uvicorn logs ``[Errno 98] error while attempting to bind`` and exits
    3), and so that "listening" is printed only about a socket that exists."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    # As uvicorn does: a port left in TIME_WAIT by a server just stopped can be bound again
    # (a live listener still cannot: that is EADDRINUSE below).
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        if exc.errno == errno.EADDRINUSE:
            err.print(f"[red]Error:[/] port {port} is in use; pass --port")
        elif exc.errno == errno.EACCES:
            err.print(f"[red]Error:[/] port {port} needs privileges to listen on; pass --port")
        else:
            reason = escape(exc.strerror or type(exc).__name__)
            err.print(f"[red]Error:[/] cannot listen on {escape(host)}:{port}: {reason}")
        raise typer.Exit(2) from None
    return listener


def _url(listener: socket.socket) -> str:
    """The socket's address as a URL: the port it got (``--port 0``), IPv6 in brackets."""
    host, port = listener.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _inspect_data_dir(settings: Any) -> DataDir | None:
    """Which data dir this start uses, looked at before anything creates it (embedded
    mode only: an external database keeps nothing there)."""
    if not settings.embedded:
        return None
    from launchgate.cli.operations import inspect_data_dir

    return inspect_data_dir(settings)


def _say_data_dir(data: DataDir | None, *, serve: bool) -> None:
    """The data dir line. ``serve`` starts on the data dir as it finds it, so a new one is
    empty there and an existing one may have been meant: it says how to use that one. The
    quickstart fills a new one on purpose."""
    if data is None:
        return
    if not data.new:
        out.print(f"Data directory: {data.path}", markup=False)
        return
    empty = ", empty" if serve else ""
    out.print(f"Data directory: {data.path} (new: created just now{empty})", markup=False)
    if not serve:
        return
    if data.nearby is not None:
        where = f"An existing data directory is at {data.nearby}: to serve it, stop and run"
        out.print(f"{where} launchgate serve --data-dir {data.nearby}", markup=False)
    else:
        out.print(
            "To serve an existing one instead (the API key of an earlier quickstart answers "
            '"Invalid API key" here), stop and pass --data-dir PATH or set '
            "LAUNCHGATE_DATA_DIR=PATH.",
            markup=False,
        )


def _serve(settings: Any, listener: socket.socket, data: DataDir | None, workers: int = 1) -> None:
    _check_secrets(settings)
    _say_data_dir(data, serve=True)
    url = _url(listener)
    if workers > 1:
        _serve_workers(settings, listener, url, workers)
        return

    import uvicorn

    from launchgate.app import create_app

    class Server(uvicorn.Server):
        """Says "listening" once the app has started and accepts connections."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                out.print(
                    f"LaunchGate listening on {url}  (dashboard at /, API under /v1, "
                    "health at /health)",
                    markup=False,
                )

    config = uvicorn.Config(
        create_app(settings, settle_heap=True),
        log_level="warning",
        proxy_headers=False,
        lifespan="on",
    )
    Server(config).run(sockets=[listener])


def _serve_workers(settings: Any, listener: socket.socket, url: str, workers: int) -> None:
    """``workers`` processes on ``listener`` (cli/serving.py); "listening" once all of
    them accept connections. Exit 1 when one could not start (its log says why)."""
    from launchgate.cli.serving import serve_workers

    def ready() -> None:
        out.print(
            f"LaunchGate listening on {url} with {workers} processes  (dashboard at /, API "
            "under /v1, health at /health)",
            markup=False,
        )
        sys.stdout.flush()  # a process manager's log shows it now, not at exit

    if not serve_workers(settings, listener, workers, ready):
        err.print("[red]Error:[/] a server process could not start (see its log above)")
        raise typer.Exit(1)


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            "-c",
            metavar="N",
            min=1,
            max=1000,
            help="Jobs run at once (default: LAUNCHGATE_WORKER_CONCURRENCY, 10)",
        ),
    ] = None,
) -> None:
    """Run a worker of the scaled-out mode: consume the Redis job queue (needs
    LAUNCHGATE_REDIS_URL and the same database and BYOK_ENCRYPTION_KEY as the API)."""
    settings = _settings()
    _configure_logs(settings)
    from launchgate.worker_process import check_worker_settings, run_worker

    _check_secrets(settings, check_worker_settings)
    n = concurrency or settings.worker_concurrency
    out.print(f"LaunchGate worker: {n} job(s) at once from {_redacted(settings.redis_url)}")
    with contextlib.suppress(KeyboardInterrupt):  # a second Ctrl-C while finishing jobs
        asyncio.run(run_worker(settings, n))


def _check_secrets(settings: Any, *more: Any) -> None:
    """The secrets a server process needs, and ``more`` checks: fail here, in one line,
    rather than in the middle of starting up."""
    try:
        _secure_data_dir(settings, create=settings.embedded)
        settings.jwt_secret()
        from launchgate.billing.prices import load_prices
        from launchgate.byok.vault import load_vault

        load_vault(settings)
        load_prices(settings.prices_file)  # an operator's price table: a bad one stops here
        for check in more:
            check(settings)
    except Exception as exc:
        raise _fail(exc) from None


def _redacted(url: str) -> str:
    """A Redis URL without its password, for a log line."""
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)


def quickstart(
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Stop after the demo")] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on")] = 4001,
    data_dir: DataDirOption = None,
) -> None:
    """Set up a demo organisation, run a passing and a failing output, then serve."""
    settings = _settings(data_dir)
    # Bound before the demo, so a taken port is said before anything is set up.
    listener = None if no_serve else _bind(host, port)
    data = _inspect_data_dir(settings)
    _migrate(settings)
    from launchgate.cli.operations import run_quickstart

    try:
        report = asyncio.run(run_quickstart(settings))
    except Exception as exc:
        raise _fail(exc) from None
    from launchgate.cli.quickstart_report import print_report

    _say_data_dir(data, serve=False)
    base_url = _url(listener) if listener is not None else f"http://{host}:{port}"
    print_report(out, report, base_url, serving=listener is not None)
    if listener is not None:
        _serve(settings, listener, None)  # the data dir was named above


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command()(worker)
    app.command()(quickstart)
    app.add_typer(db_app, name="db")
    app.add_typer(orgs_app, name="orgs")
    app.add_typer(users_app, name="users")
    app.add_typer(byok_app, name="byok")
