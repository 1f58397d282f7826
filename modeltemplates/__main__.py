"""``python -m modeltemplates``: the command-line interface."""

from modeltemplates.cli import main

raise SystemExit(main())
