"""``ccp serve``, the web service, and ``ccp user add``, its users.

FastAPI and uvicorn are imported only when the service starts, so that ``ccp``
starts at once.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Annotated

import typer

#: The environment variable that keeps sessions valid across restarts (the cookie secret).
SECRET_VARIABLE = "CCP_SECRET_KEY"


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""
    app.command("serve")(serve)


def serve(
    cases: Annotated[
        Path,
        typer.Option(
            "--cases",
            metavar="FOLDER",
            help="The folder of case files to serve (and one level below).",
        ),
    ] = Path("examples"),
    host: Annotated[str, typer.Option("--host", help="The address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="The port.")] = 8000,
) -> None:
    """Serve the cases to the people of a default: the risk team, members and the regulator.

    Pages and a JSON API (/api/docs); users log in with a role. On a first start with no
    users, the demo users are created and printed.
    """
    import uvicorn

    from ccpwaterfall.app.users import MemoryUsers, add_demo_users
    from ccpwaterfall.service import ServiceConfig, create_service

    if not cases.is_dir():
        raise typer.BadParameter(f"{cases} is not a folder", param_hint="--cases")
    users = MemoryUsers()
    demo = add_demo_users(users)
    if demo:
        typer.echo("Demo users (name / password / role):")
        for user in demo:
            bound = f" {user.member}" if user.member else ""
            typer.echo(f"  {user.name} / {user.password} / {user.role.value}{bound}")
    secret = os.environ.get(SECRET_VARIABLE)
    config = ServiceConfig(cases=cases, users=users)
    if secret:
        config = dataclasses.replace(config, secret=secret)
    typer.echo(f"Serving {cases} at http://{host}:{port} (Ctrl-C stops)")
    uvicorn.run(create_service(config), host=host, port=port, log_level="warning")
