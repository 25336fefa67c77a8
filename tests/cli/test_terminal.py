"""The command line's terminal width is the terminal's when a command runs, not when it was imported."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_width_is_read_when_a_command_prints_not_when_the_cli_is_imported() -> None:
    # pytest-xdist workers run with COLUMNS=80: a console built at import kept
    # those 80 columns even for a test that asked for 240 (the seed report's
    # dose line then wrapped and its test failed under `pytest -n 2`)
    script = textwrap.dedent(
        f"""
        from typer.testing import CliRunner
        from mastcds.cli import app
        done = CliRunner().invoke(app, ["evaluate", "--details", {str(ROOT / "examples" / "seed-case.json")!r}], env={{"COLUMNS": "200"}})
        assert done.exit_code == 0, done.output
        print(max(len(line) for line in done.output.splitlines()))
        """
    )
    env = {**os.environ, "COLUMNS": "80"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) == 200
