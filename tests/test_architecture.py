"""The import graph of the product's packages, read from the source (module-level and deferred
imports alike, by an AST walk): no cycle between modules, no cycle between the rooms of any
folder (its files and subfolders), and the one direction of docs/architecture.md:
``features`` -> ``models`` -> ``training`` and ``serving`` (never each other) -> ``cli``."""

from __future__ import annotations

import ast
import subprocess
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("features", "models", "training", "serving", "cli")
#: Which top-level package may import which (itself always).
ALLOWED = {
    "features": set(),
    "models": {"features"},
    "training": {"features", "models"},
    "serving": {"features", "models"},
    "cli": {"features", "models", "training", "serving"},
}


def module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module of the product's packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imported_modules(name: str, path: Path, modules: set[str]) -> set[str]:
    """The product modules that module ``name`` imports anywhere in its body. ``from p import
    m`` where ``p.m`` is a module counts as importing ``p.m``, not the package face ``p``."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules
                       else node.module for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != name:
                out.add(target)
    return out


def import_graph() -> dict[str, set[str]]:
    """Module -> the product modules it imports."""
    files = module_files()
    return {name: imported_modules(name, path, set(files)) for name, path in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def is_package(name: str, files: dict[str, Path]) -> bool:
    return files[name].name == "__init__.py"


def room_graphs(graph: dict[str, set[str]]) -> dict[str, dict[str, set[str]]]:
    """Per folder, the graph of its rooms (its modules and subfolders): an import between two
    modules is an arrow between the rooms that hold them under their deepest common folder."""
    files = module_files()
    rooms: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def path_of(name: str) -> list[str]:
        parts = name.split(".")
        return parts + ["__init__"] if is_package(name, files) else parts

    for source, targets in graph.items():
        a = path_of(source)
        for target in targets:
            b = path_of(target)
            common = 0
            while common < min(len(a), len(b)) - 1 and a[common] == b[common]:
                common += 1
            folder = ".".join(a[:common]) or "<root>"
            rooms[folder][a[common]].add(b[common])
    return rooms


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph()


def test_the_walk_sees_module_level_and_deferred_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("from a.b import c\nimport a.d\ndef f():\n    from a import e\n")
    modules = {"a", "a.b", "a.d", "a.e"}
    assert imported_modules("x", source, modules) == {"a.b", "a.d", "a.e"}


def test_cycles_finds_a_loop_and_only_loops() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others(graph: dict[str, set[str]]) -> None:
    assert cycles(graph) == []


def test_no_cycle_between_the_rooms_of_any_folder(graph: dict[str, set[str]]) -> None:
    found = {folder: loops for folder, rooms in room_graphs(graph).items()
             if (loops := cycles(rooms))}
    assert found == {}


def test_packages_import_in_one_direction(graph: dict[str, set[str]]) -> None:
    wrong = sorted(f"{source} -> {target}" for source, targets in graph.items()
                   for target in targets
                   if (top := target.split(".")[0]) != source.split(".")[0]
                   and top not in ALLOWED[source.split(".")[0]])
    assert wrong == []


def test_training_never_imports_serving(graph: dict[str, set[str]]) -> None:
    assert not [(s, t) for s, targets in graph.items() if s.startswith("training")
                for t in targets if t.startswith("serving")]


#: Modules that no test imports directly, and why none needs to: each is exercised through the
#: module, command or test named. A prefix ending in "." covers a folder.
REACHED_THROUGH = {
    "cli.": "a command or its helpers: run through the entry point cli.main, as users run "
            "them, by tests/cli, tests/training and tests/serving",
    "features.cohorts.cbioportal.": "read through load_cbioportal_study (the features.cohorts "
                                    "face) by tests/features/cohorts and the bad-cohort corpus",
    "features.cohorts.gbsg2": "loaded through load_cohort('gbsg2') by the GBSG2 tests",
    "features.cohorts.synthetic.": "parts of the generator, reached through "
                                   "build_synthetic_cohort in tests/features/cohorts/synthetic",
    "features.cohorts.variants": "variant spellings, checked through the cBioPortal reader's "
                                 "dialect tests (tests/features/cohorts/cbioportal)",
    "features.design_treatment": "the treatment block of build_design, checked through it in "
                                 "tests/features/test_labels_and_design.py and the "
                                 "line-summary tests",
    "features.genes": "gene sets of the design, checked through build_design in "
                      "tests/features/test_labels_and_design.py",
    "models.bundles.errors": "an exception type, raised and reported in the loading tests",
    "models.estimators.boosting": "the boosted base of RiskModel and ResistanceModel, tested "
                                  "through them in tests/models/estimators/test_boosting.py",
    "models.pyfunc": "loaded by MLflow (mlflow.pyfunc.load_model) in test_train_and_gate.py",
    "models.pyfunc_entry": "MLflow's models-from-code entry, run when MLflow loads the model",
    "serving.fhir.capability": "answered over HTTP by GET /fhir/metadata in "
                               "tests/serving/fhir/test_hostile.py",
    "serving.fhir.elements": "element helpers of the FHIR reader, tests/serving/fhir",
    "serving.fhir.errors": "mounted with the FHIR app; its 404, 405 and 500 answers are checked "
                           "over HTTP in tests/serving/fhir/test_hostile.py",
    "serving.log_privacy": "checked on every served request's logs by tests/serving's autouse "
                           "no_secrets_in_logs fixture",
    "training.batch.": "run by mbcrisk predict in tests/training/batch/test_predict.py",
    "training.errors": "an exception type, reported by the CLI tests",
    "training.evaluation.summary": "the intervals of cross-validation, checked through "
                                   "evaluate in tests/training/evaluation",
    "training.reporting.card.": "rendered by every card test; tests/training/reporting checks "
                                "each fact a card shows against its run",
    "training.reporting.explanations": "run by mbcrisk explain in test_train_and_gate.py",
    "training.reporting.plots": "logged by every training run (tests/training/tracking)",
    "training.reporting.publish": "run by mbcrisk card and promote (tests/training/tracking)",
    "training.reporting.version_description": "written by publish_card into the registry, "
                                              "read back by tests/training/reporting/"
                                              "test_model_card.py",
    "training.tracking.new_cohort": "the registry's new-cohort gate, test_new_cohort_gate.py",
    "training.tracking.run_records": "the record of a training run, read back from MLflow in "
                                     "tests/training/tracking",
    "training.tracking.store": "the MLflow store of every training test (mlflow_store fixture)",
}


def is_face(path: Path) -> bool:
    """A module that defines nothing: a docstring, imports and ``__all__`` only."""
    body = ast.parse(path.read_text()).body
    return all(isinstance(node, ast.Import | ast.ImportFrom) or (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) or (
        isinstance(node, ast.Assign) and [getattr(t, "id", "") for t in node.targets]
        == ["__all__"]) for node in body)


def imported_by_tests(modules: set[str]) -> set[str]:
    found = set()
    for path in (REPO / "tests").rglob("*.py"):
        name = ".".join(path.relative_to(REPO).with_suffix("").parts)
        found |= imported_modules(name, path, modules)
    return found


def reason_for(module: str) -> str | None:
    return next((why for key, why in REACHED_THROUGH.items()
                 if module == key or (key.endswith(".") and module.startswith(key))), None)


def test_every_module_is_imported_by_a_test_or_says_why() -> None:
    files = module_files()
    untested = set(files) - imported_by_tests(set(files))
    unexplained = sorted(m for m in untested if not is_face(files[m]) and not reason_for(m))
    assert unexplained == []
    stale = sorted(key for key in REACHED_THROUGH
                   if not any(m == key or (key.endswith(".") and m.startswith(key))
                              for m in untested))
    assert stale == [], "reasons for modules that a test now imports, or that are gone"


def test_test_folders_mirror_the_code_folders() -> None:
    folders = {path.parent.relative_to(REPO / "tests") for path in (REPO / "tests").rglob("*.py")}
    strays = sorted(str(f) for f in folders
                    if f.parts and f.parts[0] != "support" and not (REPO / f).is_dir())
    assert strays == []


#: The longest a module may grow before it is split by job.
MAX_MODULE_LINES = 450


def test_no_module_is_over_the_limit() -> None:
    long = sorted(f"{name} ({len(path.read_text().splitlines())} lines)"
                  for name, path in module_files().items()
                  if len(path.read_text().splitlines()) > MAX_MODULE_LINES)
    assert long == []


def test_bentoml_is_used_through_its_public_api_only() -> None:
    """No tracked file names BentoML's private package (``git grep`` of it is empty): private
    internals change without notice between releases."""
    private = "bentoml." + "_internal"
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    assert [f for f in tracked if (REPO / f).is_file()
            and private in (REPO / f).read_text(errors="replace")] == []


def test_no_module_imports_a_private_package_or_relatively() -> None:
    """BentoML's implementation packages (``_bentoml_impl``, ``_bentoml_sdk``) are private
    too; and every import is absolute, so the graph above misses none."""
    found = []
    for name, path in module_files().items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level:
                found.append(f"{name}: relative import")
            targets = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                       [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{name}: {t}" for t in targets
                      if t.split(".")[0] in ("_bentoml_impl", "_bentoml_sdk")]
    assert found == []
    assert len(import_graph()) > 150  # the walk saw the product, not an empty tree
