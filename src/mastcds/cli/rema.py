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
    # each answer its own flag (not a --x/--no-x pair): the pair's two long
    # names side by side did not fit an 80-column help
    urticaria_angioedema: bool = typer.Option(False, "--urticaria-angioedema", help="urticaria or angioedema in an episode"),
    no_urticaria_angioedema: bool = typer.Option(
        False, "--no-urticaria-angioedema", help="neither urticaria nor angioedema in any episode"
    ),
    syncope: bool = typer.Option(False, "--syncope", help="presyncope or syncope in an episode"),
    no_syncope: bool = typer.Option(False, "--no-syncope", help="neither presyncope nor syncope in any episode"),
    tryptase: float = typer.Option(None, "--tryptase", help="baseline serum tryptase in ng/mL (= µg/L); omit if unknown"),
    output_format: Format = typer.Option(Format.text, "--format", "-f"),
) -> None:
    """REMA score (Álvarez-Twose et al., JACI 2010): 2 or more makes clonal mast cell disease likely.

    An item given neither way is unknown, and the score is then given as a range.
    REMA was derived in patients without skin lesions of mastocytosis.
    """
    from mastcds.rules.anaphylaxis.rema import POPULATION, REMA_CLONAL_CUTOFF, rema_score

    problems = [
        f"--{name} and --no-{name}: give one of them, or neither if unknown"
        for name, yes, no in (("urticaria-angioedema", urticaria_angioedema, no_urticaria_angioedema), ("syncope", syncope, no_syncope))
        if yes and no
    ]
    if tryptase is not None and not 0 <= tryptase <= TRYPTASE_MAX_NG_ML:
        problems.append(f"--tryptase: must lie in 0-{TRYPTASE_MAX_NG_ML:g} ng/mL (got {tryptase:g})")
    if problems:
        fail(problems)
    result = rema_score(sex.value if sex else None, _answer(urticaria_angioedema, no_urticaria_angioedema), _answer(syncope, no_syncope), tryptase)
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
    stdout.print(f"  {POPULATION}", style="yellow")
    for item in result.items:
        stdout.print(f"  {item.id}: {item.status.value} — {item.reason}")
    stdout.print(f"source: {result.items[0].source}", markup=False)


def _answer(yes: bool, no: bool) -> bool | None:
    return True if yes else False if no else None
