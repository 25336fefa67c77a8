"""``mastcds rema``: the REMA clonality score without a case file."""

from __future__ import annotations

import json
from enum import Enum

import typer

from mastcds.cli.app import app
from mastcds.cli.output import TerminalConsole, fail

stdout = TerminalConsole()
TRYPTASE_MAX_NG_ML = 100000.0  # case schema: labs.baseline_tryptase_ng_ml maximum


class Sex(str, Enum):
    male = "male"
    female = "female"


class Format(str, Enum):
    text = "text"
    json = "json"


@app.command()
def rema(
    sex: Sex = typer.Option(None, help="sex at birth; omit if unknown"),
    urticaria_angioedema: bool = typer.Option(
        None, "--urticaria-angioedema/--no-urticaria-angioedema", help="urticaria or angioedema during the episodes; omit if unknown"
    ),
    syncope: bool = typer.Option(None, "--syncope/--no-syncope", help="presyncope or syncope during the episodes; omit if unknown"),
    tryptase: float = typer.Option(None, "--tryptase", help="baseline serum tryptase in ng/mL (= µg/L); omit if unknown"),
    output_format: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """REMA score (Álvarez-Twose et al., JACI 2010): 2 or more makes clonal mast cell disease likely."""
    from mastcds.rules.rema import REMA_CLONAL_CUTOFF, rema_score

    if tryptase is not None and not 0 <= tryptase <= TRYPTASE_MAX_NG_ML:
        fail([f"--tryptase: must lie in 0-{TRYPTASE_MAX_NG_ML:g} ng/mL (got {tryptase:g})"])
    result = rema_score(sex.value if sex else None, urticaria_angioedema, syncope, tryptase)
    body = {
        "score": result.score,
        "min": result.min,
        "max": result.max,
        "clonal_likely": result.clonal_likely,
        "items": [item.as_dict() for item in result.items],
    }
    if output_format is Format.json:
        typer.echo(json.dumps(body, indent=2, ensure_ascii=False))
        return
    score = str(result.score) if result.score is not None else f"between {result.min} and {result.max}"
    verdict = {True: "clonal mast cell disease likely", False: "clonal disease unlikely", None: "undetermined"}[result.clonal_likely]
    stdout.print(f"REMA score {score} (cut-off ≥ {REMA_CLONAL_CUTOFF}): {verdict}")
    for item in result.items:
        stdout.print(f"  {item.id}: {item.status.value} — {item.reason}")
