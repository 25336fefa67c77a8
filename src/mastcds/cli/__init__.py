"""The ``mastcds`` command line: thin commands that parse, call the core, and print.

Each command module registers its commands on :data:`mastcds.cli.app.app`
when imported; importing them here assembles the whole command line.
"""

from mastcds.cli.app import app, use_helpful_help
from mastcds.cli import evaluate as _evaluate  # noqa: F401  (validate, schema, evaluate)
from mastcds.cli import rema as _rema  # noqa: F401
from mastcds.cli import dose as _dose  # noqa: F401
from mastcds.cli import records as _records  # noqa: F401
from mastcds.cli import fhir as _fhir  # noqa: F401
from mastcds.cli import report as _report  # noqa: F401
from mastcds.cli import serve as _serve  # noqa: F401
from mastcds.cli import screen as _screen  # noqa: F401

use_helpful_help(app)

__all__ = ["app"]
