"""HL7 FHIR R4 (mCODE STU4 and the Genomics Reporting IG) in, RiskAssessment out, and a CDS Hooks
2.0 service, on the same prediction path as ``/explain`` (docs/fhir.md)."""
