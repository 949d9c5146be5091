"""The predictors and their handling, with the boosted model's monotone constraints."""

from __future__ import annotations

from features.pipeline import TREATMENT_INPUTS
from models.explanation.wording import feature_name
from training.reporting.card.context import CardContext
from training.reporting.card_source import CONSTRAINTS_FILE

#: The card's sentence when the training cohort had no genomic data (run tag).
NO_GENOMICS = ("- **No genomic data was available** in the training cohort (no mutation, "
               "copy-number or gene-panel data): the model uses clinical-pathological features "
               "only.\n")


def predictors(ctx: CardContext) -> str:
    return (
        "## Predictors and their handling\n\n"
        "- Clinical-pathological: age, tumour size, nodes, grade, stage, ER/PR/HER2, "
        "histology, menopausal status, treatment known at the origin, and where the study "
        "gives them TNM categories, the Nottingham prognostic index, PAM50 subtype and "
        "integrative cluster; at a treatment line, metastatic sites and prior lines.\n"
        "- Genomic, only from samples known at the time origin: non-silent mutation per gene "
        "(unknown when the sample's panel does not cover the gene), hotspots, amplifications "
        "and deletions, tumour mutational burden, pathways, Razavi resistance classes, and "
        "primary-to-metastasis changes.\n"
        + "- Treatment inputs: " + TREATMENT_INPUTS + ". Treatment is chosen by the "
        "clinicians from their assessment of the patient's risk (confounding by "
        "indication): these inputs are markers of that decision, not effects of the "
        "treatment, and every explanation flags them as such (`treatment: true`).\n"
        "- For a new patient, the gene-level genomic inputs the profile leaves unknown are "
        "averaged over a fixed reference set of training patients profiled for them (the "
        "unknown-is-unknown rule, docs/serving.md), so what missingness meant in the "
        "training panels does not act on the answer; they are reported together, never "
        "as drivers.\n"
        + (NO_GENOMICS if ctx.s.tags.get("mbcrisk.genomic_data") == "none" else "")
        + "- Gene indicators are kept when altered in at least "
        + ctx.param("features.min_gene_frequency") + " of profiled training patients and "
        + ctx.param("features.min_gene_count") + " patients, a choice refitted inside "
        "every training fold. Missing values stay missing for the trees; the linear "
        "baselines impute the median with missing-value indicators.\n"
        "- Features whose missingness alone predicts the outcome"
        + (" (checked on a random sample of "
           + ctx.facts.add(int(ctx.s.tags["mbcrisk.design_sample"]),
                            "tag:mbcrisk.design_sample") + " patients)"
           if ctx.on_dask else "")
        + ": " + _names(ctx.s.tags.get("mbcrisk.missingness_flagged") or "none") + ".\n"
        + constraints(ctx))


def _names(listed: str) -> str:
    """A tag's comma-separated feature names, for people (``none`` stays)."""
    return listed if listed == "none" else ", ".join(
        feature_name(name.strip()) for name in listed.split(","))


def constraints(ctx: CardContext) -> str:
    """The monotone constraints of the boosted model, from the run's
    ``monotone_constraints.json`` (absent: the model was not constrained)."""
    factors = ctx.s.json.get(CONSTRAINTS_FILE)
    if not factors:
        return ("- Monotone constraints: none (the boosted model may learn a risk that "
                "falls as an adverse factor worsens).")
    listed = "; ".join(
        f"{ctx.artifact(CONSTRAINTS_FILE, f'{k}.label', f['label'])} "
        f"({ctx.artifact(CONSTRAINTS_FILE, f'{k}.source', f['source'])})"
        for k, f in enumerate(factors))
    return ("- Monotone constraints: the boosted model's risk never falls as one of these "
            "established adverse factors worsens (the rest of the profile fixed; unknown "
            "values keep the trees' learnt direction): " + listed + ".")
