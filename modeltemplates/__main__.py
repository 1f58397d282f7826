"""``python -m modeltemplates``: the command-line interface."""

from modeltemplates.cli import run

raise SystemExit(run())
