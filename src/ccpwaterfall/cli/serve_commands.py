"""``ccp serve``, the web service, and ``ccp user add`` and ``ccp user list``, its users.

Users, saved results and drills live in the store's database (``--db URL`` or
``CCP_DATABASE_URL``; by default a SQLite file in the user's data folder).
FastAPI and uvicorn are imported only when the service starts, so that ``ccp``
starts at once.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ccpwaterfall.cli.options import JsonOutput

#: The environment variable that keeps sessions valid across restarts (the cookie secret).
SECRET_VARIABLE = "CCP_SECRET_KEY"

Database = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        help="The database: sqlite:///PATH or postgresql://... (default: CCP_DATABASE_URL, "
        "else a SQLite file in the user's data folder).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add ``serve`` and the ``user`` commands to ``app``."""
    app.command("serve")(serve)
    users = typer.Typer(
        name="user",
        help="The web service's users: risk, member (bound to one member) or regulator.",
        no_args_is_help=True,
        add_completion=False,
        rich_markup_mode=None,
    )
    users.command("add")(user_add)
    users.command("list")(user_list)
    app.add_typer(users, name="user")


def serve(
    cases: Annotated[
        Path,
        typer.Option(
            "--cases",
            metavar="FOLDER",
            help="The folder of case, risk case and drill files to serve (and one level below).",
        ),
    ] = Path("examples"),
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port.")] = 8000,
    db: Database = None,
) -> None:
    """Serve the cases to the people of a default: the risk team, members and the regulator.

    Pages and a JSON API (/api/openapi.json); users log in with a role. On a first start,
    with no users in the database, the demo users are created and printed.
    """
    import uvicorn

    from ccpwaterfall.app.store import open_database
    from ccpwaterfall.app.users import DatabaseUsers, add_demo_users
    from ccpwaterfall.cli.context import value_of
    from ccpwaterfall.service import ServiceConfig, create_service

    if not cases.is_dir():
        raise typer.BadParameter(f"{cases} is not a folder", param_hint="--cases")
    store = value_of(open_database(db))
    users = DatabaseUsers(store.engine)
    demo = add_demo_users(users)
    if demo:
        typer.echo("Demo users (name / password / role):")
        for user in demo:
            bound = f" {user.member}" if user.member else ""
            typer.echo(f"  {user.name} / {user.password} / {user.role.value}{bound}")
    config = ServiceConfig(cases=cases, users=users, store=store)
    secret = os.environ.get(SECRET_VARIABLE)
    if secret:
        config = dataclasses.replace(config, secret=secret)
    typer.echo(f"Serving {cases} at http://{host}:{port} (Ctrl-C stops)")
    uvicorn.run(create_service(config), host=host, port=port, log_level="warning")


def user_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The user name to log in with.")],
    role: Annotated[str, typer.Option("--role", help="risk, member (with --member) or regulator.")],
    member: Annotated[
        str | None,
        typer.Option("--member", metavar="ID", help="The clearing member a member user is."),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="Read the password from standard input."),
    ] = False,
    db: Database = None,
) -> None:
    """Add a user of the web service; the password is asked for (or read from standard input)
    and kept only as an Argon2id hash."""
    from ccpwaterfall.app.store import open_database
    from ccpwaterfall.app.users import DatabaseUsers, add_user
    from ccpwaterfall.cli.context import value_of

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    store = value_of(open_database(db))
    try:
        user = value_of(add_user(DatabaseUsers(store.engine), name, role, password, member))
    finally:
        store.close()
    bound = f" bound to {user.member}" if user.member else ""
    typer.echo(f"Added {user.role.value} user {user.name}{bound}")


def user_list(db: Database = None, json_output: JsonOutput = False) -> None:
    """The web service's users, by name: role and member, never a password."""
    from ccpwaterfall.app.store import open_database
    from ccpwaterfall.app.users import DatabaseUsers
    from ccpwaterfall.cli.context import value_of
    from ccpwaterfall.cli.output import print_json

    store = value_of(open_database(db))
    try:
        listed = DatabaseUsers(store.engine).all()
    finally:
        store.close()
    if json_output:
        print_json(
            {"users": [{"name": u.name, "role": u.role.value, "member": u.member} for u in listed]}
        )
        return
    for user in listed:
        typer.echo(f"{user.name}  {user.role.value}{'  ' + user.member if user.member else ''}")
