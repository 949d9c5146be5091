"""Treatment histories: the drug dictionary, timeline events and lines of therapy derived from
agent-level rows."""
