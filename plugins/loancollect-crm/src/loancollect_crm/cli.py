"""``loancollect crm``: backfill and reconcile a CRM from the command line.

::

    export LOANCOLLECT_CRM_TOKEN=...        # Salesforce-style: the bearer token
    loancollect crm sync --db sqlite:///collect.db --crm salesforce \\
        --url https://example.my.salesforce.com --state crm-state.sqlite --since 2025-01-01

    export LOANCOLLECT_CRM_PASSWORD=...     # Odoo: the user's password or API key
    loancollect crm sync --db sqlite:///collect.db --crm odoo --url https://example.odoo.com \\
        --odoo-db collect --login sync --state crm-state.sqlite --inbound

Secrets come from the environment only (never a flag: flags show in process lists).
"""

from __future__ import annotations

import datetime as dt
import os
import sys

import click

__all__ = ["crm"]

TOKEN_ENV = "LOANCOLLECT_CRM_TOKEN"
PASSWORD_ENV = "LOANCOLLECT_CRM_PASSWORD"


@click.group()
def crm() -> None:
    """Keep a CRM and the collection record in step."""


@crm.command()
@click.option("--db", required=True, help="Storage URL of the collection record.")
@click.option("--crm", "kind", type=click.Choice(["salesforce", "odoo"]), required=True)
@click.option("--url", required=True, help="The CRM's base URL.")
@click.option(
    "--state", required=True, type=click.Path(dir_okay=False), help="Sync state file (SQLite)."
)
@click.option("--since", default=None, help="Activities and tasks from this date (YYYY-MM-DD).")
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="Business date the cases are seen on (default: today UTC).",
)
@click.option("--odoo-db", default="", help="Odoo: the database.")
@click.option("--login", default="", help="Odoo: the user's login.")
@click.option(
    "--api-version", default="v60.0", show_default=True, help="Salesforce-style: API version."
)
@click.option(
    "--inbound", is_flag=True, help="Also poll the CRM (Odoo) and apply the changes kept."
)
def sync(
    db: str,
    kind: str,
    url: str,
    state: str,
    since: str | None,
    as_of: str | None,
    odoo_db: str,
    login: str,
    api_version: str,
    inbound: bool,
) -> None:
    """Backfill and reconcile: created / updated / unchanged / conflicting records."""
    from loancollect import registry
    from loancollect.domain.errors import LoanCollectError
    from loancollect.plugins import make_plugin_manager
    from loancollect_crm.adapters.base import CrmAdapter, PollingAdapter
    from loancollect_crm.adapters.odoo import OdooAdapter
    from loancollect_crm.adapters.salesforce import SalesforceAdapter
    from loancollect_crm.state import SyncState
    from loancollect_crm.sync import CrmSync

    try:
        first = dt.date.fromisoformat(since) if since else None
        day = dt.date.fromisoformat(as_of) if as_of else dt.datetime.now(dt.UTC).date()
    except ValueError as exc:
        raise click.BadParameter(f"expected YYYY-MM-DD: {exc}") from exc
    adapter: CrmAdapter
    if kind == "salesforce":
        token = os.environ.get(TOKEN_ENV, "")
        if not token:
            raise click.ClickException(f"set ${TOKEN_ENV} to the CRM's bearer token")
        adapter = SalesforceAdapter(base_url=url, token=token, version=api_version)
    else:
        password = os.environ.get(PASSWORD_ENV, "")
        if not (password and odoo_db and login):
            raise click.ClickException(f"Odoo needs --odoo-db, --login and ${PASSWORD_ENV}")
        adapter = OdooAdapter(url=url, db=odoo_db, login=login, password=password)
    pm = make_plugin_manager(load_entrypoints=True)
    try:
        storage = registry.open_storage(pm, db)
        sync_state = SyncState(state)
        report = CrmSync(adapter=adapter, state=sync_state, storage=storage).run(
            as_of=day, since=first
        )
        click.echo(
            f"{adapter.name}: {report.created} created, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.conflicting} conflicting, "
            f"{report.duplicate} duplicate, {report.failed} failed "
            f"({report.requests} requests, {report.wall_s:.1f} s)"
        )
        if inbound:
            from loancollect.engine import CollectionEngine
            from loancollect_crm.inbound import InboundApplier, Poller

            if isinstance(adapter, PollingAdapter):
                kept = Poller(adapter=adapter, state=sync_state, crm=adapter.name).poll_once()
                click.echo(f"{adapter.name}: {kept} new change(s) polled")
            engine = CollectionEngine(pm=pm, storage=storage, validate_templates=False)
            tally = InboundApplier(
                engine=engine, state=sync_state, crm=adapter.name
            ).apply_pending()
            click.echo(
                f"inbound: {tally.applied} applied, {tally.conflicts} conflicting, "
                f"{tally.rejected} rejected"
            )
    except LoanCollectError as exc:
        raise click.ClickException(str(exc)) from exc
    if report.failed or report.duplicate:
        sys.exit(1)
