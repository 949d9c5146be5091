"""The therapy groups the design reads treatments by, and the resistance labels defined on
lines of those therapies (the ESO-ESMO ABC definition, and progression on a CDK4/6-inhibitor
line as a label of its own)."""

from __future__ import annotations

from dataclasses import dataclass

#: Therapy classes that count as each therapy group.
THERAPY_GROUPS = {
    "endocrine": ("endocrine", "endocrine_cdk46"),
    "anti_her2": ("anti_her2",),
    "chemotherapy": ("chemotherapy",),
}
#: ESO-ESMO ABC: progression within the first 6 months of first-line endocrine therapy for
#: advanced disease is primary endocrine resistance.
ABC_PRIMARY_RESISTANCE_MONTHS = 6.0


@dataclass(frozen=True)
class ResistanceLabel:
    """A resistance label: the therapy classes of its line, the horizon (months) within which
    progression is resistance, and whether it is the ESO-ESMO ABC definition."""

    classes: tuple[str, ...]
    horizon_months: float
    abc: bool
    #: Agent classes that make a derived line count whatever the class it is named by (an
    #: endocrine partner in a line named by its PI3K, AKT, mTOR or anti-HER2 agent).
    agent_classes: frozenset[str] = frozenset()


_ENDOCRINE_AGENTS = frozenset({"aromatase_inhibitor", "serm", "serd", "progestin"})
_CDK46_AGENTS = frozenset({"cdk46_inhibitor"})
#: The resistance labels by therapy (``--therapy``): the ABC definition on the therapy groups,
#: and progression on a CDK4/6-inhibitor line within 6 and 12 months, a label of its own.
RESISTANCE_LABELS = {
    **{therapy: ResistanceLabel(classes, ABC_PRIMARY_RESISTANCE_MONTHS, True,
                                _ENDOCRINE_AGENTS if therapy == "endocrine" else frozenset())
       for therapy, classes in THERAPY_GROUPS.items()},
    "cdk46": ResistanceLabel(("endocrine_cdk46",), 6.0, False, _CDK46_AGENTS),
    "cdk46_12m": ResistanceLabel(("endocrine_cdk46",), 12.0, False, _CDK46_AGENTS),
}
