"""The drug dictionary: agent names (generic, brand, development code, any case) to agent classes
and therapy classes, read from the reviewable table ``drugs.csv`` beside this module.

It is the one source of therapy classes in mbcrisk: the lines derived from agent-level
timelines, the FHIR medication reader and the API's therapy-class values all take their classes
from it. An agent the table does not list is never guessed: callers count and list it.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

TABLE = Path(__file__).with_name("drugs.csv")

#: The therapy classes of a line: the product's one vocabulary of them (cohort tables, model
#: features, the API's values). ``radiotherapy`` and ``other`` are not drug classes: the first
#: is not systemic, the second a line of agents the table does not know.
THERAPY_CLASSES = ("endocrine", "endocrine_cdk46", "anti_her2", "chemotherapy", "pi3k_akt_mtor",
                   "parp", "immunotherapy", "radiotherapy", "other")
#: The order in which a regimen of several classes is named: a HER2-targeted agent with
#: chemotherapy is an anti-HER2 line; a CDK4/6 inhibitor goes with its endocrine partner; a
#: PI3K/AKT/mTOR inhibitor with endocrine therapy names the line.
NAMING_ORDER = ("anti_her2", "endocrine_cdk46", "pi3k_akt_mtor", "parp", "immunotherapy",
                "chemotherapy", "endocrine", "radiotherapy", "other")
#: Agent classes that substitute for each other within one line: switching one aromatase
#: inhibitor for another, or adding ovarian suppression, does not start a new line.
SUBSTITUTES = {
    "aromatase_inhibitor": frozenset({"aromatase_inhibitor", "ovarian_suppression"}),
    "serm": frozenset({"serm", "ovarian_suppression"}),
    "serd": frozenset({"serd", "ovarian_suppression"}),
    "ovarian_suppression": frozenset({"ovarian_suppression"}),
}
#: Agent classes that join an ongoing line without starting one: ovarian suppression.
JOINS_ANY_LINE = frozenset({"ovarian_suppression"})
#: The agent class of a name the table does not know (never guessed; it cannot start a line).
UNKNOWN_AGENT = "unknown agent"
#: Salt names, doses and bracketed notes around an agent's name ("Goserelin Acetate",
#: "Palbociclib 125mg", "Anastrozole (Arimidex)"), stripped before a second lookup.
_SALTS = r"acetate|citrate|hydrochloride|hcl|mesylate|sulfate|sodium|tartrate|phosphate"
_NOISE = re.compile(rf"\([^)]*\)|\b\d+(?:\.\d+)?\s*(?:mg|mcg|g|ml|mg/m2)\b|\b(?:{_SALTS})\b",
                    re.IGNORECASE)
#: Separators of several agents written in one cell (``LETROZOLE+PALBOCICLIB``).
_COMBINATION = re.compile(r"\s*(?:\+|/|,|;|&|\band\b|\bwith\b)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Drug:
    """One agent of the table: its generic name, agent class, the therapy class of a line it
    alone makes, and the source of the class."""

    agent: str
    agent_class: str
    therapy_class: str
    source: str


@dataclass(frozen=True)
class DrugDictionary:
    """Agent names (normalised) -> drugs, with the table's version line."""

    by_name: dict[str, Drug]
    version: str

    def lookup(self, name: str) -> Drug | None:
        """The drug a single agent name means (any case or spacing; salt names, doses and
        bracketed notes ignored when the name alone is not known), or None."""
        found = self.by_name.get(normalise(name))
        if found is None:
            found = self.by_name.get(normalise(_NOISE.sub(" ", name)))
        return found

    def parse_agents(self, cell: str) -> tuple[list[Drug], list[str]]:
        """The drugs of a cell that may name several agents (``LETROZOLE+PALBOCICLIB``), and
        the names the table does not know (as written)."""
        found, unknown = [], []
        for part in _COMBINATION.split(cell.strip()):
            if not part:
                continue
            drug = self.lookup(part)
            if drug is None:
                unknown.append(part)
            elif drug not in found:
                found.append(drug)
        return found, unknown

    def find_in_text(self, text: str) -> Drug | None:
        """The first drug named as whole words in free text ("Tamoxifen 20 MG Oral Tablet"),
        longest names first so that "trastuzumab deruxtecan" is not read as trastuzumab."""
        words = normalise(text)
        for name in sorted(self.by_name, key=len, reverse=True):
            if re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", words):
                return self.by_name[name]
        return None


def normalise(name: str) -> str:
    """Lower case, single spaces, no trademark signs: how names are compared."""
    return re.sub(r"\s+", " ", name.replace("®", "").replace("™", "")).strip().lower()


def regimen_class(therapy_classes: set[str] | frozenset[str]) -> str | None:
    """The therapy class of a line whose agents' classes are ``therapy_classes``: the first of
    :data:`NAMING_ORDER` among them (None for none)."""
    return next((c for c in NAMING_ORDER if c in therapy_classes), None)


@cache
def load_drug_dictionary(path: Path = TABLE) -> DrugDictionary:
    """Read and check the table: every class known, every name meaning one agent."""
    lines = path.read_text(encoding="utf-8").splitlines()
    comments = [line for line in lines if line.startswith("#")]
    version = next((c.split("version", 1)[1].split(".")[0].strip()
                    for c in comments if "version" in c), "unversioned")
    rows = csv.DictReader(line for line in lines if not line.startswith("#"))
    by_name: dict[str, Drug] = {}
    for number, row in enumerate(rows, start=len(comments) + 2):
        drug = Drug(normalise(row["agent"]), row["agent_class"], row["therapy_class"],
                    row["source"])
        if drug.therapy_class not in THERAPY_CLASSES or not drug.source:
            raise ValueError(f"{path.name} line {number}: therapy class "
                             f"{drug.therapy_class!r} unknown or source missing")
        for name in [row["agent"], *row["names"].split(";")]:
            key = normalise(name)
            if key and by_name.setdefault(key, drug) != drug:
                raise ValueError(f"{path.name} line {number}: {name!r} already names "
                                 f"{by_name[key].agent}")
    return DrugDictionary(by_name, version)
