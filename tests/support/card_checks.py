"""Checks that a rendered model card says only what its MLflow run says."""

from __future__ import annotations

import ast
import json
import re
from html.parser import HTMLParser

from training.reporting.card_source import CardSource
from training.reporting.facts import Facts

_NUMBER = re.compile(r"^-?\d+(\.\d+)?%?$")


def _source_value(source: CardSource, fact_source: str) -> object:
    kind, _, key = fact_source.partition(":")
    if kind == "metric":
        return source.metrics[key]
    if kind == "param":
        return source.params[key]
    if kind == "tag":
        return source.tags[key]
    if kind == "version":
        return {"version": source.version.version, "run_id": source.version.run_id,
                "bundle_sha256": source.version.tags.get("mbcrisk.bundle_sha256")}[key]
    if kind == "version_tag":
        tag, _, path = key.partition("#")
        value = source.version.tags[tag]
        return _at_path(json.loads(value), path) if path else value
    if kind == "run":
        return source.run_date
    if kind == "requirement":
        return next(r.split("==")[1] for r in source.requirements if r.startswith(key + "=="))
    if kind == "artifact":
        file, _, path = key.partition("#")
        if file in source.json:
            return _at_path(source.json[file], path)
        row, _, column = path.partition(".")
        table = source.tables[file]
        return table.loc[int(row), column or "mean_abs_contribution"]
    raise AssertionError(f"unknown fact source {fact_source}")


def _at_path(value: object, path: str) -> object:
    for part in path.split("."):
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


def check_facts(source: CardSource, facts: Facts) -> int:
    """Every fact's shown value equals its source, formatted the same way; returns the count."""
    for fact in facts.items:
        expected = _source_value(source, fact.source)
        if fact.source.startswith("param:") and (fact.shown != str(expected)
                                                 or not isinstance(fact.value, str)):
            # a number shown from a param (one of a list, or the param itself, as "{:g}")
            parsed = ast.literal_eval(expected)
            values = parsed if isinstance(parsed, list | tuple) else [parsed]
            assert float(fact.shown) in [float(v) for v in values], (fact, expected)
            continue
        assert fact.value == expected or str(fact.value) == str(expected), (fact, expected)
    return len(facts.items)


def unaccounted_numbers(markdown: str, facts: Facts) -> list[str]:
    """Numbers in the card that are not shown facts."""
    shown = {f.shown for f in facts.items}
    inside_text = {t.strip("()[],;:*") for f in facts.items for t in f.shown.split()}
    found = []
    for token in re.split(r"[\s|]+", markdown):
        token = token.strip("()[],;:*")
        if (_NUMBER.match(token) and token not in shown and token.rstrip("%") not in shown
                and token not in inside_text):
            found.append(token)
    return found


class _Resources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.external: list[str] = []
        self.images = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith(("data:", "#")):
                self.external.append(f"{tag} {name}={value[:60]}")
        if tag == "img":
            self.images += 1
        if tag in ("script", "iframe", "object", "embed"):
            self.external.append(tag)


def external_resources(page: str) -> tuple[list[str], int]:
    """References to anything outside the page itself, and the number of images."""
    parser = _Resources()
    parser.feed(page)
    return parser.external, parser.images
