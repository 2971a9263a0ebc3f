"""Commands on saved results: history, show, diff, export, verify, db upgrade, and the
drills people drive: drill start, bid, close and status (grouped under ``ccp drill``
by ``cli.drill_commands``).

Every command that saves or reads takes ``--db URL`` (or ``CCP_DATABASE_URL``);
without either the database is a SQLite file in the user's data folder. A
database that cannot be used exits with status 2 before anything is written;
``ccp verify`` exits with status 3 when a stored record does not match its hashes.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ccpwaterfall.cli.options import AllRows, JsonOutput, TopRows, rows_shown

if TYPE_CHECKING:
    from ccpwaterfall.app.store import StoredDrill
    from ccpwaterfall.store import Saved, Store
    from ccpwaterfall.waterfall import CaseResult

TAMPERED = 3  # exit status of ccp verify when a record does not match its hashes

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--db",
        envvar="CCP_DATABASE_URL",
        metavar="URL",
        show_envvar=True,
        help="The database: sqlite:///PATH or postgresql://USER@HOST:PORT/NAME. Default: the "
        "SQLite file ccpwaterfall/ccp.sqlite3 in the user's data folder ($XDG_DATA_HOME, "
        "else ~/.local/share). Its schema is created or upgraded on first use.",
    ),
]
SaveResult = Annotated[
    bool,
    typer.Option("--save", help="Save the result in the database (--db), in one transaction."),
]
SaveId = Annotated[int, typer.Argument(metavar="ID", help="A saved result's id (ccp history).")]
BusinessDate = Annotated[
    dt.datetime | None,
    typer.Option(
        "--date",
        formats=["%Y-%m-%d"],
        metavar="YYYY-MM-DD",
        help="The business date the end of day is saved for (default: today).",
    ),
]


def register(app: typer.Typer) -> None:
    """Add the store commands to ``app``."""
    app.command("history")(history)
    app.command("show")(show)
    app.command("diff")(diff)
    app.command("export")(export)
    app.command("verify")(verify)
    db = typer.Typer(help="The database of saved results.", no_args_is_help=True)
    db.command("upgrade")(upgrade)
    app.add_typer(db, name="db")


def open_store(db: str | None) -> Store:
    """The store at ``db``; exits with status 2 when it cannot be used."""
    from ccpwaterfall.app import store
    from ccpwaterfall.cli.context import value_of

    return value_of(store.open_database(db))


def check_save_options(save: bool, db: str | None) -> None:
    """``--db`` on a command that only saves with ``--save`` needs ``--save``."""
    if db is not None and not save:
        raise typer.BadParameter("--db says where to save: give --save too", param_hint="'--db'")


def say_saved(saved: Saved) -> None:
    """Where the result went, on standard error (standard output may be JSON)."""
    from ccpwaterfall.reports.history_view import KIND_NAMES

    kind = KIND_NAMES.get(saved.kind, saved.kind)
    typer.echo(f"Saved as {kind} {saved.id}: ccp show {saved.id}", err=True)


def save_run(store: Store, case: Path, result: CaseResult) -> None:
    """Save a run of ``case`` and say where it went."""
    from ccpwaterfall.app.store import save_run as save

    say_saved(save(store, case, result))


def history(
    db: DatabaseUrl = None,
    json_output: JsonOutput = False,
    limit: Annotated[
        int | None, typer.Option("--limit", min=1, metavar="N", help="Only the N newest.")
    ] = None,
) -> None:
    """Saved runs, end-of-days and drills, newest first."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.history_view import history_to_json, render_history

    saves = use.history(open_store(db), limit)
    if json_output:
        print_json(history_to_json(saves))
        return
    print_view(render_history(saves))


def show(save_id: SaveId, db: DatabaseUrl = None, json_output: JsonOutput = False) -> None:
    """A saved result: its records with their hashes, and its member figures.

    --json gives every record's content as it was saved.
    """
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.history_view import render_saved, show_to_json

    result = value_of(use.show(open_store(db), save_id))
    if json_output:
        print_json(show_to_json(result))
        return
    print_view(render_saved(result))


def diff(
    ids: Annotated[
        list[int] | None,
        typer.Argument(metavar="[ID ID]", help="Two saved results: before, then after."),
    ] = None,
    dates: Annotated[
        list[dt.datetime] | None,
        typer.Option(
            "--date",
            formats=["%Y-%m-%d"],
            metavar="YYYY-MM-DD",
            help="Twice: the end-of-days saved for two business dates, before then after.",
        ),
    ] = None,
    db: DatabaseUrl = None,
    json_output: JsonOutput = False,
    top: TopRows = None,
    all_rows: AllRows = False,
) -> None:
    """What changed per member between two saved results: margin, contribution, stress loss,
    fund charges.

    Give two IDs, or --date D1 --date D2 for the end-of-days of two business dates.
    """
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.diff_view import diff_to_json, render_diff
    from ccpwaterfall.reports.notes import MEMBERS_SHOWN

    shown = rows_shown(top, all_rows, MEMBERS_SHOWN)
    given_ids, given_dates = ids or [], dates or []
    if given_ids and given_dates:
        raise typer.BadParameter("give two IDs or two --date, not both", param_hint="'ID'")
    if given_dates:
        if len(given_dates) != 2:
            raise typer.BadParameter("give --date twice: before, then after", param_hint="'--date'")
        store = open_store(db)
        outcome = use.diff_dates(store, given_dates[0].date(), given_dates[1].date())
    else:
        if len(given_ids) != 2:
            raise typer.BadParameter("give two IDs: before, then after", param_hint="'ID'")
        outcome = use.diff(open_store(db), given_ids[0], given_ids[1])
    result = value_of(outcome)
    if json_output:
        print_json(diff_to_json(result))
        return
    print_view(render_diff(result, shown))


def export(
    save_id: SaveId,
    csv_folder: Annotated[
        Path,
        typer.Option("--csv", metavar="DIR", help="The folder to write the CSV files to."),
    ],
    db: DatabaseUrl = None,
    force: Annotated[bool, typer.Option("--force", help="Replace existing files.")] = False,
) -> None:
    """Write a saved result's tables as CSV files (all of them or none)."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    written = value_of(use.export_csv(open_store(db), save_id, csv_folder, force=force))
    for path in written:
        typer.echo(str(path))


def verify(
    save_id: Annotated[
        int | None,
        typer.Argument(metavar="[ID]", help="Only the chain holding this saved result."),
    ] = None,
    db: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Recompute every hash chain and name the first record that does not match (exit 3)."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of
    from ccpwaterfall.cli.output import print_json
    from ccpwaterfall.reports.history_view import verify_text, verify_to_json

    verification = value_of(use.verify(open_store(db), save_id))
    if json_output:
        print_json(verify_to_json(verification))
    else:
        typer.echo(verify_text(verification), err=not verification.intact)
    if not verification.intact:
        raise typer.Exit(TAMPERED)


def upgrade(db: DatabaseUrl = None) -> None:
    """Create the database's schema, or upgrade it to this version's."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    version = value_of(use.upgrade(db))
    typer.echo(f"schema at version {version}")


# --------------------------------------------------------------------------- drills people drive


DrillId = Annotated[int, typer.Argument(metavar="ID", help="A stored drill's id (ccp history).")]
EventTime = Annotated[
    dt.datetime | None,
    typer.Option(
        "--at",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"],
        metavar="TIME",
        help="When, as YYYY-MM-DDTHH:MM[:SS][+HH:MM] (UTC without an offset).",
    ),
]


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is None:
        return None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def _show_drill(stored: StoredDrill, json_output: bool) -> None:
    from ccpwaterfall.cli.output import print_json, print_view
    from ccpwaterfall.reports.drill_view import drill_to_json, drill_view, render_drill

    view = drill_view(stored.state)
    if json_output:
        print_json(drill_to_json(view))
        return
    print_view(render_drill(view))


def drill_start(
    drill_file: Annotated[
        Path, typer.Argument(metavar="DRILL", help="A drill file (ccp-drill/1).")
    ],
    db: DatabaseUrl = None,
    json_output: JsonOutput = False,
) -> None:
    """Store a drill and run it up to its auction, which stays open for bids."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    store = open_store(db)
    stored = value_of(use.start_drill(store, drill_file))
    say_saved(stored.saved)
    _show_drill(stored, json_output)


def drill_bid(
    drill_id: DrillId,
    member: Annotated[str, typer.Option("--member", help="The bidding member's id.")],
    lot: Annotated[str, typer.Option("--lot", help="The lot's id.")],
    price: Annotated[
        str, typer.Option("--price", help="What the member pays for the lot, in the currency.")
    ],
    at: EventTime = None,
    db: DatabaseUrl = None,
) -> None:
    """Record a sealed bid (refused after the auction closes, from the defaulter, for an
    unknown member or lot, or after the deadline). --at: when (default: now)."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    moment = _utc(at) or dt.datetime.now(dt.UTC)
    stored = value_of(use.bid(open_store(db), drill_id, member, lot, price, moment))
    typer.echo(
        f"Bid recorded: {member} on {lot} at {price} {stored.state.currency.code} "
        f"(drill {drill_id}, {len(stored.state.events)} events)"
    )


def drill_close(
    drill_id: DrillId, at: EventTime = None, db: DatabaseUrl = None, json_output: JsonOutput = False
) -> None:
    """Close the auction and run the rest: rounds, fallback, loss, waterfall, statements.
    --at: when (default: the auction's last deadline)."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    _show_drill(value_of(use.close_drill(open_store(db), drill_id, _utc(at))), json_output)


def drill_status(
    drill_id: DrillId, db: DatabaseUrl = None, json_output: JsonOutput = False
) -> None:
    """A stored drill as it stands, replayed from its stored events."""
    from ccpwaterfall.app import store as use
    from ccpwaterfall.cli.context import value_of

    _show_drill(value_of(use.drill_status(open_store(db), drill_id)), json_output)
