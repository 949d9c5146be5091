"""Finding the data files of a cBioPortal study folder, through its ``meta_*.txt`` files first
and cBioPortal's conventional file names second."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from features.cohorts.errors import CohortError
from features.cohorts.report import LoadReport
from features.cohorts.tabular import read_key_value_file

#: (genetic_alteration_type, datatype) of a meta file -> the role of its data file.
_META_ROLES = {
    ("CLINICAL", "PATIENT_ATTRIBUTES"): "patient",
    ("CLINICAL", "SAMPLE_ATTRIBUTES"): "sample",
    ("MUTATION_EXTENDED", "MAF"): "mutations",
    ("COPY_NUMBER_ALTERATION", "DISCRETE"): "cna",
    ("GENE_PANEL_MATRIX", "GENE_PANEL_MATRIX"): "gene_matrix",
    ("STRUCTURAL_VARIANT", "SV"): "sv",
}

#: Conventional file names of each role, tried when no meta file names one.
_CONVENTIONAL = {
    "patient": ("data_clinical_patient.txt",),
    "sample": ("data_clinical_sample.txt",),
    "mutations": ("data_mutations_extended.txt", "data_mutations.txt"),
    "cna": ("data_cna.txt", "data_CNA.txt", "data_cna_discrete.txt"),
    "gene_matrix": ("data_gene_matrix.txt", "data_gene_panel_matrix.txt"),
    "sv": ("data_sv.txt",),
    "timeline": ("data_timeline_treatment.txt",),
}

REQUIRED_ROLES = ("patient",)
#: Roles of genomic data files (a study without any is clinical-only).
GENOMIC_ROLES = ("mutations", "cna", "gene_matrix", "sv")
#: Roles of which a study may hold several files, read together: supplementary clinical
#: attribute files are merged by identifier, several MAFs are read one after the other.
MERGED_ROLES = ("patient", "sample", "mutations", "timeline")


@dataclass
class StudyFiles:
    """Paths of one study's data files by role (several for :data:`MERGED_ROLES`, in the order
    they are read: the conventional file name first); ``panels`` are gene-panel definitions."""

    folder: Path
    paths: dict[str, list[Path]] = field(default_factory=dict)
    panels: list[Path] = field(default_factory=list)
    meta_study: dict[str, str] = field(default_factory=dict)

    def get(self, role: str) -> Path | None:
        """The one file of ``role``, or None when the study has none."""
        paths = self.paths.get(role, [])
        return paths[0] if paths else None

    def all(self, role: str) -> list[Path]:
        """Every file of ``role`` (empty when the study has none)."""
        return list(self.paths.get(role, []))


def locate_study_files(folder: Path, report: LoadReport) -> StudyFiles:
    """The data files of the study in ``folder``; CohortError if a required one is missing."""
    if not folder.exists():
        raise CohortError("study folder not found", file=str(folder))
    if not folder.is_dir():
        raise CohortError("not a folder", file=str(folder), expected="a cBioPortal study folder")
    files = StudyFiles(folder)
    study_meta = folder / "meta_study.txt"
    if study_meta.is_file():
        files.meta_study = read_key_value_file(study_meta)
    else:
        report.warn("meta_study.txt not found: study name and description unknown")
    for meta in sorted(folder.glob("meta_*.txt")):
        if meta.name != "meta_study.txt":
            _add_meta_file(files, meta, report)
    _add_conventional_files(files)
    for role, paths in files.paths.items():
        _check_count(role, paths, _CONVENTIONAL[role][0])
    for role in REQUIRED_ROLES:
        if role not in files.paths:
            raise CohortError(
                f"required {role} clinical file is missing", file=str(folder),
                expected=f"{_CONVENTIONAL[role][0]} or a meta file naming it",
            )
    files.panels = sorted(
        {*folder.glob("data_gene_panel*.txt"), *folder.glob("gene_panels/*.txt")}
        - set(files.all("gene_matrix"))
    )
    _warn_unread_data_files(files, report)
    return files


def _add_conventional_files(files: StudyFiles) -> None:
    """Files of the roles no meta file named, by their conventional names; every
    ``data_timeline*.txt`` when no meta file names a timeline."""
    folder = files.folder
    if "timeline" not in files.paths:
        timelines = sorted(p for p in folder.glob("data_timeline*.txt") if _present(p))
        if timelines:
            files.paths["timeline"] = timelines
    for role, names in _CONVENTIONAL.items():
        if role not in files.paths:
            found = next((folder / n for n in names if _present(folder / n)), None)
            if found is not None:
                files.paths[role] = [found]


def _check_count(role: str, paths: list[Path], conventional: str) -> None:
    """Several files of a role that is read from one file are an error; of a merged role, the
    file with the conventional name is read first."""
    if len(paths) > 1 and role not in MERGED_ROLES:
        raise CohortError(f"two data files of kind {role!r} ({paths[0].name} and "
                          f"{paths[1].name}); mbcrisk reads one", file=paths[1].name,
                          expected=f"one {role} file: merge them or remove one")
    paths.sort(key=lambda path: (path.name != conventional, path.name))


def _warn_unread_data_files(files: StudyFiles, report: LoadReport) -> None:
    """Name every ``data_*`` file that no role or panel took, so nothing is ignored silently."""
    taken = {path.name for paths in files.paths.values() for path in paths}
    taken |= {path.name for path in files.panels}
    for path in sorted(files.folder.glob("data_*")):
        if path.name not in taken:
            report.warn(f"{path.name}: not named by a meta file mbcrisk reads; not read")


def _add_meta_file(files: StudyFiles, meta: Path, report: LoadReport) -> None:
    """Record the data file a ``meta_*.txt`` names, under the role its data type gives."""
    values = read_key_value_file(meta)
    key = (values.get("genetic_alteration_type", "").upper(), values.get("datatype", "").upper())
    role = _META_ROLES.get(key)
    if key == ("CLINICAL", "TIMELINE"):
        role = "timeline"
    if role is None or "data_filename" not in values:
        report.warn(f"{meta.name}: data type {key[0]}/{key[1]} is not read by mbcrisk")
        return
    name = values["data_filename"]
    if Path(name).is_absolute() or ".." in Path(name).parts:
        raise CohortError(f"names data file {name!r}, outside the study folder",
                          file=meta.name, column="data_filename",
                          expected="a file name inside the study folder")
    target = files.folder / name
    if not _present(target):
        raise CohortError(f"names data file {name!r}, which is missing",
                          file=meta.name, column="data_filename")
    files.paths.setdefault(role, []).append(target)


def _present(path: Path) -> bool:
    """The path exists, or is a symbolic link (even a broken or looping one, which reading
    then reports by name rather than taking the file as absent)."""
    return path.exists() or path.is_symlink()
