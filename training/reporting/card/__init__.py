"""The model card (Model Cards for Model Reporting; TRIPOD+AI items a card can fill), rendered
from a model version's MLflow run alone: a template (``template.md.j2``) filled by one small
module per section (:mod:`training.reporting.card.sections`). Every number is a fact with its
source (:mod:`training.reporting.facts`), so a test can check each against the run."""
