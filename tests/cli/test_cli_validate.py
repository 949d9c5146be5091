"""``mbcrisk validate``: JSON figures, human output, and exit 2 naming file, line and column."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from cli import main


def run_json(source: str, capsys: pytest.CaptureFixture[str]) -> dict:
    assert main(["validate", source, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_gbsg2_json(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json("gbsg2", capsys)
    assert result["n_patients"] == 686
    assert result["outcomes"]["rfs"] | {} == result["outcomes"]["rfs"]
    assert (result["outcomes"]["rfs"]["n_known"], result["outcomes"]["rfs"]["n_events"]) == (
        686, 299)
    for key in ("n_samples", "n_mutations", "n_cna_calls", "excluded", "recoded", "warnings"):
        assert key in result


def test_human_output_has_summary_and_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "gbsg2"]) == 0
    out = capsys.readouterr().out
    assert "Cohort gbsg2" in out
    assert "686" in out
    assert "Recoded" in out


def test_console_script_exit_code_and_stderr(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mbcrisk")
    missing = subprocess.run([script, "validate", str(tmp_path / "nowhere")],
                             capture_output=True, text=True, check=False)
    assert missing.returncode == 2
    assert "study folder not found" in missing.stderr
    assert missing.stdout == ""
    ok = subprocess.run([script, "validate", "gbsg2", "--json"], capture_output=True,
                        text=True, check=False)
    assert ok.returncode == 0
    assert json.loads(ok.stdout)["n_patients"] == 686


@pytest.mark.realdata
def test_metabric_json(metabric_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(str(metabric_dir), capsys)
    assert result["n_patients"] == 2509
    assert result["n_mutations"] == 17272
    rfs = result["outcomes"]["rfs"]
    assert (rfs["n_status_event"], rfs["n_status_censored"], rfs["n_status_missing"],
            rfs["n_time_missing"]) == (1002, 1486, 21, 121)
    assert {"column": "ER_IHC", "from": "Positve", "to": "positive", "count": 1817} in (
        result["recoded"])
    reasons = {(e["table"], e["reason"]): e["count"] for e in result["excluded"]}
    assert reasons[("outcomes.rfs", "not usable: time or status missing")] == 2509 - rfs[
        "n_known"]


def _replace_line(path: Path, number: int, new: Callable[[str], str]) -> None:
    lines = path.read_text().split("\n")
    lines[number - 1] = new(lines[number - 1])
    path.write_text("\n".join(lines))


def _append(path: Path, line: str) -> None:
    text = path.read_text()
    path.write_text(text + ("" if text.endswith("\n") else "\n") + line + "\n")


def _set_field(column: int, value: str) -> Callable[[str], str]:
    def change(line: str) -> str:
        fields = line.split("\t")
        fields[column] = value
        return "\t".join(fields)
    return change


PATIENT = "data_clinical_patient.txt"
SAMPLE = "data_clinical_sample.txt"
MAF = "data_mutations_extended.txt"

MALFORMED: dict[str, tuple[Callable[[Path], None], str]] = {
    "missing required file": (lambda d: (d / SAMPLE).unlink(),
                              "meta_clinical_sample.txt, column data_filename: names data file "
                              "'data_clinical_sample.txt', which is missing"),
    "duplicate patient id": (
        lambda d: _append(d / PATIENT, (d / PATIENT).read_text().split("\n")[5]),
        f"{PATIENT}, line 2515, column PATIENT_ID: duplicate identifier 'MB-0000'"),
    "sample of unknown patient": (
        lambda d: _append(d / SAMPLE, "MB-9999\tMB-9999" + "\t" * 11),
        f"{SAMPLE}, line 2511, column PATIENT_ID: patient 'MB-9999' is not in the patients"),
    "negative time": (lambda d: _replace_line(d / PATIENT, 6, _set_field(23, "-5")),
                      f"{PATIENT}, line 6, column RFS_MONTHS: '-5' is out of range"),
    "non-numeric time": (lambda d: _replace_line(d / PATIENT, 7, _set_field(13, "long")),
                         f"{PATIENT}, line 7, column OS_MONTHS: 'long' is not a number"),
    "MAF without Hugo_Symbol": (
        lambda d: _replace_line(d / MAF, 2, lambda h: h.replace("Hugo_Symbol", "Gene")),
        f"{MAF}, column Hugo_Symbol: required MAF column is missing"),
    "MAF without Tumor_Sample_Barcode": (
        lambda d: _replace_line(d / MAF, 2, lambda h: h.replace("Tumor_Sample_Barcode", "TSB")),
        f"{MAF}, column Tumor_Sample_Barcode: required MAF column is missing"),
    "truncated last line": (
        lambda d: (d / MAF).write_bytes((d / MAF).read_bytes().rstrip(b"\n")[:-40]),
        f"{MAF}, line 17274, column "),
    "binary file": (lambda d: (d / SAMPLE).write_bytes(b"\x00\x01\x02binary\x00" * 100),
                    f"{SAMPLE}: binary data"),
}


@pytest.mark.realdata
@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_metabric_copy_exits_2_naming_the_place(
    case: str, metabric_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = Path(shutil.copytree(metabric_dir, tmp_path / "study"))
    for path in folder.rglob("*"):
        path.chmod(0o644 if path.is_file() else 0o755)
    corrupt, expected = MALFORMED[case]
    corrupt(folder)
    assert main(["validate", str(folder), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert expected in captured.err
