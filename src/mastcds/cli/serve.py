"""``mastcds serve`` (the web application) and ``mastcds user`` (its accounts).

Passwords are read from the terminal (or one line of standard input with
``--password-stdin``), never from an option: options end up in shell
histories and process lists.
"""

from __future__ import annotations

import sys
from enum import Enum

import typer

from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail
from mastcds.cli.tables import record_table
from mastcds.cli.records import DB_OPTION, USER_OPTION, acting_user, open_store_for_cli, store_errors

stdout = TerminalConsole(soft_wrap=True)
user_app = typer.Typer(help="Accounts of the web application: add, list, API tokens.", no_args_is_help=True)
app.add_typer(user_app, name="user")


class Role(str, Enum):
    admin = "admin"
    clinician = "clinician"
    viewer = "viewer"


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Address to listen on (0.0.0.0: every interface)"),
    port: int = typer.Option(8000, min=1, max=65535, help="Port to listen on"),
    db: str = DB_OPTION,
    ssl_certfile: str = typer.Option(None, "--ssl-certfile", help="Serve HTTPS with this certificate (PEM)"),
    ssl_keyfile: str = typer.Option(None, "--ssl-keyfile", help="Private key of the certificate (PEM)"),
    forwarded_allow_ips: str = typer.Option(
        None, "--forwarded-allow-ips", help="Behind a TLS proxy: its address(es), trusted for X-Forwarded-Proto/For"
    ),
) -> None:
    """Serve the web application (pages and the JSON API under /api/v1) with uvicorn."""
    import uvicorn

    from mastcds.web import accounts
    from mastcds.web.app import create_app
    from mastcds.web.cds_auth import SettingsError as CdsSettingsError
    from mastcds.web.runtime import configure_logging, tune_gc_for_serving
    from mastcds.web.settings import SettingsError, load_settings

    if (ssl_certfile is None) != (ssl_keyfile is None):
        fail(["--ssl-certfile and --ssl-keyfile go together"])
    try:
        settings = load_settings(db)
    except SettingsError as error:
        fail([str(error)])
    store = open_store_for_cli(settings.database_url)
    with store_errors(), store.reading() as session:
        admins = [u for u in accounts.list_users(session) if u.role == "admin" and u.active]
    if not admins:
        stdout.print("No administrator yet: create one with `mastcds user add NAME --role admin`.")
    try:
        application = create_app(settings, store)
    except CdsSettingsError as error:
        fail([str(error)])
    configure_logging()
    tune_gc_for_serving()
    scheme = "https" if ssl_certfile else "http"
    stdout.print(f"mastcds on {scheme}://{host}:{port} (database {store!r}); Ctrl-C stops it.")
    uvicorn.run(
        application,
        host=host,
        port=port,
        # uvicorn's access log prints paths and queries, which carry patient
        # keys and values; mastcds.web.access logs route templates instead
        access_log=False,
        log_level="info",
        # the stdlib loop, not uvloop: under saturation uvloop served some connections a third less
        # often than others and stalled single calls for 1-3 s; asyncio kept every call within
        # 80 ms at the same throughput (bench/cds_hooks.py --loop, README "Figures")
        loop="asyncio",
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
        proxy_headers=forwarded_allow_ips is not None,
        forwarded_allow_ips=forwarded_allow_ips,
    )


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Password again", hide_input=True) != first:
        fail(["password: the two entries differ"])
    return first


@user_app.command("add")
def user_add(
    username: str = typer.Argument(..., metavar="NAME", help="User name (letters, digits, . _ @ -)"),
    role: Role = typer.Option(..., "--role", help="admin: users and audit log; clinician: read and write patients; viewer: read"),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password as one line of standard input"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Create an account of the web application."""
    from mastcds.store.audit import record_access
    from mastcds.web import accounts

    store = open_store_for_cli(db)
    actor = acting_user(user)
    try:
        accounts.checked_username(username)
        password = accounts.checked_password(_read_password(password_stdin))
        with store_errors(), store.writing() as session:
            accounts.create_user(session, username, password, role.value)
    except accounts.AccountError as error:
        fail(error.problems)
    with store_errors():
        record_access(store, actor=actor, action="create", detail=f"user {username} created ({role.value})")
    stdout.print(f"user {username} created with role {role.value}")


@user_app.command("list")
def user_list(db: str = DB_OPTION) -> None:
    """List the accounts of the web application."""
    from mastcds.web import accounts

    store = open_store_for_cli(db)
    with store_errors(), store.reading() as session:
        users = [(u.username, u.role, u.active, u.created_at) for u in accounts.list_users(session)]
    rows = [[name, role, "active" if active else "deactivated", created.strftime("%Y-%m-%d %H:%M")] for name, role, active, created in users]
    stdout.print(record_table(["user", "role", "status", "created (UTC)"], rows, whole=(0, 3)) if users else "no users yet: `mastcds user add NAME --role admin` creates the first")


@user_app.command("token")
def user_token(
    username: str = typer.Argument(..., metavar="NAME", help="The user the token acts as"),
    name: str = typer.Option(..., "--name", help="What the token is for (shown in the audit log)"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Create an API token for a user; it is printed once and never stored in the clear."""
    from mastcds.store.audit import record_access
    from mastcds.web import accounts

    store = open_store_for_cli(db)
    try:
        with store_errors(), store.writing() as session:
            _, secret = accounts.create_api_token(session, accounts.existing_user(session, username), name)
    except accounts.AccountError as error:
        fail(error.problems)
    with store_errors():
        record_access(store, actor=acting_user(user), action="create", detail=f"API token {name!r} created for {username}")
    typer.echo(secret)


@user_app.command("tokens")
def user_tokens(
    username: str = typer.Argument(..., metavar="NAME", help="Whose API tokens to list"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """List a user's API tokens (never their secrets); the listing is audited."""
    from mastcds.store.audit import record_access
    from mastcds.web import accounts
    from mastcds.web.problems import InputError

    store = open_store_for_cli(db)
    try:
        with store_errors(), store.reading() as session:
            tokens = [(t.id, t.name, t.created_at, t.last_used_at, t.revoked_at)
                      for t in accounts.list_api_tokens(session, accounts.existing_user(session, username))]
    except InputError as error:
        fail(error.problems)
    with store_errors():
        record_access(store, actor=acting_user(user), action="read", detail=f"API tokens of {username} listed")
    rows = [
        (str(token_id), name, f"{created:%Y-%m-%d %H:%M}", f"{used:%Y-%m-%d %H:%M}" if used else "never",
         f"revoked {revoked:%Y-%m-%d}" if revoked else "active")
        for token_id, name, created, used, revoked in tokens
    ]
    table = record_table(["id", "name", "created (UTC)", "last used", "status"], rows, whole=(0, 2, 3), wrap=(1,))
    stdout.print(table if tokens else f"{username} has no API tokens")


@user_app.command("revoke")
def user_revoke(
    username: str = typer.Argument(..., metavar="NAME", help="Whose API token to revoke"),
    token_id: int = typer.Argument(None, metavar="[TOKEN_ID]", help="The token's id (see `mastcds user tokens NAME`)"),
    every: bool = typer.Option(False, "--all", help="Revoke every live token of the user"),
    db: str = DB_OPTION,
    user: str = USER_OPTION,
) -> None:
    """Revoke one of a user's API tokens, or all of them with --all; audited."""
    from mastcds.store.audit import record_access
    from mastcds.web import accounts
    from mastcds.web.problems import InputError

    if (token_id is None) == (not every):
        fail(["give either a TOKEN_ID or --all"])
    store = open_store_for_cli(db)
    try:
        with store_errors(), store.writing() as session:
            owner = accounts.existing_user(session, username)
            if every:
                detail = f"{accounts.revoke_all_api_tokens(session, owner)} API token(s) of {username} revoked"
            else:
                detail = f"API token {accounts.revoke_api_token(session, owner, token_id).name!r} of {username} revoked"
    except InputError as error:
        fail(error.problems)
    with store_errors():
        record_access(store, actor=acting_user(user), action="update", detail=detail)
    stdout.print(detail, markup=False)
