"""Rendering a model card: the sections' Markdown into the template, then a self-contained HTML
page; both files written beside each other."""

from __future__ import annotations

import base64
import html
import re
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt

from training.reporting.card.context import CardContext
from training.reporting.card.sections import (
    calibration,
    drivers,
    identity,
    intended_use,
    limitations,
    method,
    outcome,
    performance,
    predictors,
    promotion,
    subgroups,
    training_data,
    tripod,
)
from training.reporting.card_source import CardSource
from training.reporting.facts import Facts

TEMPLATE = "template.md.j2"


def section_markdown(ctx: CardContext) -> dict[str, str]:
    """Each section's Markdown, by the name the template uses, computed in the card's order
    (the facts are recorded in the order they are shown)."""
    return {
        "title": identity.title(ctx), "notice": identity.notice(ctx),
        "details": identity.details(ctx), "promotion": promotion.promotion(ctx),
        "intended_use": intended_use.intended_use(ctx),
        "training_data": training_data.training_data(ctx), "outcome": outcome.outcome(ctx),
        "predictors": predictors.predictors(ctx), "method": method.method(ctx),
        "performance": performance.performance(ctx),
        "calibration": calibration.calibration(ctx), "subgroups": subgroups.subgroups(ctx),
        "drivers": drivers.drivers(ctx), "limitations": limitations.limitations(ctx),
        "tripod": tripod.tripod(ctx),
    }


def render_markdown(source: CardSource) -> tuple[str, Facts]:
    """The card's Markdown and the facts it shows."""
    ctx = CardContext(source)
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=False,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    markdown = environment.get_template(TEMPLATE).render(section_markdown(ctx))
    return markdown.rstrip("\n") + "\n", ctx.facts


_CSS = """body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:980px;
margin:2em auto;padding:0 1em;color:#222;line-height:1.45}table{border-collapse:collapse;
margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}img{max-width:100%}blockquote{background:#fff3cd;border-left:6px solid
#d39e00;margin:1em 0;padding:.6em 1em}code{background:#f3f3f3;padding:0 .2em}"""


def render_html(markdown: str, images: dict[str, bytes], title: str) -> str:
    """A self-contained HTML page: CSS inline, every image embedded as a data URI."""
    body = MarkdownIt("commonmark").enable("table").render(markdown)

    def embed(match: re.Match) -> str:
        name = html.unescape(match.group(1))
        data = images.get(name)
        if data is None:
            return match.group(0)
        return f'src="data:image/png;base64,{base64.b64encode(data).decode()}"'

    body = re.sub(r'src="([^"]+)"', embed, body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><link rel=\"icon\" href=\"data:,\">"
            f"<style>{_CSS}</style></head>"
            f"<body>{body}</body></html>\n")


def write_card(source: CardSource, folder: Path) -> tuple[Path, Path, Facts]:
    """Write ``model_card.md`` and ``model_card.html`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, facts = render_markdown(source)
    md_path = folder / "model_card.md"
    md_path.write_text(markdown, encoding="utf-8")
    html_path = folder / "model_card.html"
    title = f"Model card: {source.version.name} version {source.version.version}"
    html_path.write_text(render_html(markdown, source.images, title), encoding="utf-8")
    return md_path, html_path, facts
