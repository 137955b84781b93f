"""``loancollect train``: build the models from a store and print their card."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

__all__ = ["train"]


def _date(value: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option
        ) from None


@click.command()
@click.option("--db", required=True, help="Storage URL of the history to learn from.")
@click.option("--from", "date_from", required=True, help="First scoring date (YYYY-MM-DD).")
@click.option("--to", "date_to", required=True, help="Last day of history (YYYY-MM-DD).")
@click.option(
    "--split", required=True, help="Scoring dates from this day on are held out (YYYY-MM-DD)."
)
@click.option("--seed", default=7, show_default=True, help="Seed (same seed, same models).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory to write the models and their card into.",
)
def train(db: str, date_from: str, date_to: str, split: str, seed: int, out_dir: str) -> None:
    """Train the collection scores from a store's history and print the model card."""
    from loancollect.errors import LoanCollectError
    from loancollect.plugins import make_plugin_manager
    from loancollect.registry import open_storage
    from loancollect_scoring.models import train as train_models

    try:
        storage = open_storage(make_plugin_manager(load_entrypoints=True), db)
        models = train_models(
            storage,
            start=_date(date_from, "--from"),
            end=_date(date_to, "--to"),
            split=_date(split, "--split"),
            seed=seed,
        )
    except LoanCollectError as exc:
        raise click.ClickException(str(exc)) from exc
    out = models.save(Path(out_dir))
    click.echo(models.card.render())
    click.echo(f"models and card written to {out}/")
