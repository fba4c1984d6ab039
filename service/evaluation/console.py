"""Rich tables for the terminal: the summary of a run and its deltas against an old report."""

from __future__ import annotations

from dataclasses import asdict

from rich import box
from rich.table import Table

from service.evaluation.report import GROUP_COLUMNS, Delta, format_value
from service.evaluation.runner import EvalRun
from service.evaluation.summary import Summary


def summary_table(run: EvalRun) -> Table:
    table = Table(title=f"factdesk eval: {run.dataset}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for name, value in asdict(run.summary).items():
        table.add_row(name, format_value(name, value))
    return table


def group_table(label: str, groups: dict[str, Summary]) -> Table:
    table = Table(title=f"by {label}", title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column(label)
    for title, _ in GROUP_COLUMNS:
        table.add_column(title, justify="right")
    for name, summary in groups.items():
        values = asdict(summary)
        table.add_row(name, *(format_value(key, values[key], 2) for _, key in GROUP_COLUMNS))
    return table


def comparison_table(deltas: list[Delta], old_label: str) -> Table:
    table = Table(title=f"against {old_label}", title_justify="left")
    for column in ("metric", "old", "new", "delta"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for delta in deltas:
        change = delta.change
        shown = "–" if change is None else f"{change:+.4g}"
        colour = {True: "green", False: "red", None: ""}[delta.improved]
        table.add_row(delta.metric, format_value(delta.metric, delta.old),
                      format_value(delta.metric, delta.new),
                      f"[{colour}]{shown}[/]" if colour else shown)
    return table


def retrieval_table() -> Table:
    """Empty table for the retrieval comparison; rows are added as they are measured."""
    table = Table(title="retrieval: relevant chunk in the top 10", title_justify="left")
    for column in ("set", "chunk/overlap", "variant", "n", "R@1", "R@5", "MRR@10"):
        table.add_column(column, justify="left" if column in {"set", "variant"} else "right")
    return table
