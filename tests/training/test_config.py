"""A config file's mistakes are named by file, section and setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import load_config


@pytest.mark.parametrize(("text", "message"), [
    ("[cv]\nn_jobs = 0\n", r"\.toml\.cv: n_jobs: 0 is not a number of workers"),
    ("[cv]\nn_jobs = -3\n", r"\.toml\.cv: n_jobs: -3 is not a number of workers"),
    ("[cv]\nn_splits = true\n", r"\.toml\.cv\.n_splits: expected int, got True"),
    ("[cv]\nn_jobs = 1.5\n", r"\.toml\.cv\.n_jobs: expected int, got 1\.5"),
    ("[cv]\nfolds = 3\n", r"\.toml\.cv: unknown setting 'folds'"),
    ("[cohort.lines]\ngap_days = -1\n",
     r"\.toml\.cohort\.lines: gap_days: -1\.0 is not a number of days"),
    ("[cohort.lines]\nwindow = 28\n", r"\.toml\.cohort\.lines: unknown setting 'window'"),
])
def test_a_bad_setting_is_named_with_its_file_and_section(tmp_path: Path, text: str,
                                                          message: str) -> None:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_config(path)


def test_a_usable_number_of_workers_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text("[cv]\nn_jobs = 2\n", encoding="utf-8")
    assert load_config(path).cv.n_jobs == 2
    assert load_config(None).cv.n_jobs == -1


def test_the_line_rules_reach_the_cohort_loader(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text("[cohort.lines]\nregimen_window_days = 14\ngap_days = 180\n",
                    encoding="utf-8")
    config = load_config(path)
    rules = config.cohort.load_options().line_rules
    assert (rules.regimen_window_days, rules.gap_days) == (14.0, 180.0)
    assert config.flatten()["cohort.lines.gap_days"] == "180.0"
