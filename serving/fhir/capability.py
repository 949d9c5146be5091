"""``GET /fhir/metadata``: the CapabilityStatement of the FHIR operations this server offers
(FHIR R4, mCODE STU4 input), public as FHIR clients expect."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

#: Where mbcrisk's operation definitions are named (canonical URLs, not fetched).
OPERATION_BASE = "https://mbcrisk.org/fhir/OperationDefinition/"
OPERATIONS = {
    "predict": "POST [base]/predict with a Bundle of one patient's mCODE resources: a "
               "collection Bundle of one RiskAssessment per answering model and an "
               "OperationOutcome of warnings (docs/fhir.md)",
    "explain": "POST [base]/explain: as predict, each RiskAssessment with its structured "
               "explanation in extensions and its largest drivers in note",
}


def capability_statement(published: str, public_url: str | None) -> dict[str, Any]:
    """The statement as JSON (validated by fhir.resources); ``published`` the date the server
    started (FHIR date), ``public_url`` its configured base URL (left out when none)."""
    try:
        software_version = version("mbcrisk")
    except PackageNotFoundError:  # run from a source tree that is not installed
        software_version = "unknown"
    implementation: dict[str, Any] = {
        "description": "mbcrisk: relapse, progression and treatment-resistance risk from an "
                       "mCODE Bundle"}
    if public_url is not None:
        implementation["url"] = f"{public_url}/fhir"
    statement = CapabilityStatement.model_validate({
        "resourceType": "CapabilityStatement", "status": "active", "date": published,
        "kind": "instance", "software": {"name": "mbcrisk", "version": software_version},
        "implementation": implementation, "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Risk operations only: no resource is stored or read back. "
                             "Decision support, never the sole basis of a treatment decision.",
            "security": {"description": "every operation needs an mbcrisk API key (header "
                                        "Authorization: Bearer <key>); this statement does "
                                        "not"},
            "operation": [{"name": name, "definition": f"{OPERATION_BASE}{name}",
                           "documentation": words} for name, words in OPERATIONS.items()],
        }],
    })
    return statement.model_dump(mode="json", exclude_none=True)
