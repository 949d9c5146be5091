"""What a genomic profile makes actionable: the ESCAT tiers of breast-cancer alteration classes
(:mod:`features.actionability.table`) and their matching on one patient's findings
(:mod:`features.actionability.match`). Evidence levels, never recommendations."""
