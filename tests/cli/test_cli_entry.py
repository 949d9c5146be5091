"""The entry point: ``--version``, and a top-level ``--help`` that lists every command without
importing any of them (no pandas, mlflow, bentoml or shap: it answers in about a tenth of a
second instead of several)."""

from __future__ import annotations

import signal
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from cli import COMMANDS

_PROBE = """
import sys
from cli import main
try:
    main(["--help"])
except SystemExit as done:
    assert done.code == 0
heavy = sorted(m for m in ("pandas", "numpy", "mlflow", "bentoml", "shap", "xgboost")
               if m in sys.modules)
print("HEAVY:" + ",".join(heavy))
"""


def test_top_level_help_lists_every_command_and_imports_nothing_heavy() -> None:
    result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True,
                            check=True, timeout=120)
    assert "HEAVY:\n" in result.stdout
    for name in COMMANDS:
        assert f"    {name} " in result.stdout or f"    {name}\n" in result.stdout, name


def test_version_is_the_installed_one() -> None:
    entry = Path(sys.executable).with_name("mbcrisk")  # the installed console script
    result = subprocess.run([str(entry), "--version"], capture_output=True, text=True,
                            check=True, timeout=120)
    assert result.stdout.strip() == f"mbcrisk {version('mbcrisk')}"


def test_the_example_config_in_docs_is_accepted_and_states_the_defaults() -> None:
    from training.config import load_config

    example = Path(__file__).resolve().parents[2] / "docs" / "example-config.toml"
    assert load_config(example).flatten() == load_config(None).flatten()


def test_sigterm_stops_a_command_even_when_its_parent_blocked_it(tmp_path: Path) -> None:
    """A process inherits its parent's blocked signals; mbcrisk unblocks SIGTERM, so a stop
    request reaches it (here a long ``synth`` started with SIGTERM blocked)."""
    mbcrisk = str(Path(sys.executable).with_name("mbcrisk"))
    launcher = ("import os, signal, sys\n"
                "signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})\n"
                "os.execv(sys.argv[1], sys.argv[1:])\n")
    process = subprocess.Popen(
        [sys.executable, "-c", launcher, mbcrisk, "synth", "--n", "3000000", "--format",
         "parquet", "--partition-size", "2000", "--out", str(tmp_path / "big")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout.readline().startswith("partition 1/")  # running, handler set
        blocked = next(line for line in Path(f"/proc/{process.pid}/status").read_text()
                       .splitlines() if line.startswith("SigBlk"))
        assert not int(blocked.split()[1], 16) & (1 << (signal.SIGTERM - 1))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=300) == 128 + signal.SIGTERM
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        process.stdout.close()


def test_train_takes_task_and_therapy_from_the_config_file_unless_given(tmp_path: Path) -> None:
    from cli import build_parser
    from cli.common import training_config

    config = tmp_path / "resistance.toml"
    config.write_text('task = "resistance"\ntherapy = "cdk46"\n', encoding="utf-8")
    base = ["train", "--cohort", "gbsg2", "--config", str(config)]
    args = build_parser(base).parse_args(base)
    assert training_config(args, args.task).task_name == "resistance_cdk46"
    given = [*base, "--task", "relapse"]
    args = build_parser(given).parse_args(given)
    assert training_config(args, args.task).task_name == "relapse"
    bare = ["train", "--cohort", "gbsg2"]
    args = build_parser(bare).parse_args(bare)
    assert training_config(args, args.task).task_name == "relapse"  # the default
