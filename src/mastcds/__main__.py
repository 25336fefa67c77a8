"""``python -m mastcds`` runs the command line."""

from mastcds.cli import app

app()
