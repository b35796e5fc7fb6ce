"""A Markdown report as one self-contained HTML page that renders offline.

Mermaid charts are drawn as inline SVG (`svg`), local images are inlined as data URIs, and the
page's Content-Security-Policy lets it load nothing (no script, no font, no CDN): what the page
shows is what the file holds, also when a reviewer opens a downloaded CI artifact.
Imported by the report command only (markdown-it stays out of the service's imports).
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Mapping, Sequence
from html import escape
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token

from . import svg

POLICY = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
STYLE = """
body { font: 15px/1.5 system-ui, sans-serif; color: #1f2328; margin: 0; }
main { max-width: 1000px; margin: 2rem auto; padding: 0 1.5rem; }
table { border-collapse: collapse; margin: 1rem 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: left; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 4px; font-size: 90%; }
pre { background: #f6f8fa; padding: 10px; overflow-x: auto; }
figure.chart { margin: 1rem 0; }
pre.chart-error { border-left: 4px solid #cf222e; }
details { margin: 1rem 0; }
summary { cursor: pointer; }
img { max-width: 100%; }
""".strip()


def page(
    markdown_text: str,
    base: Path,
    attachments: Mapping[str, str] | None = None,
    title: str | None = None,
) -> str:
    """The HTML page of `markdown_text`. A relative image path is looked up in `attachments`
    (path -> text, for files written together with the page), then read from `base`."""
    parser = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    parser.add_render_rule("fence", _fence)
    parser.add_render_rule("image", _image)
    body = parser.render(markdown_text, {"base": base, "attachments": attachments or {}})
    heading = title or _first_heading(parser.parse(markdown_text)) or "Report"
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(heading)}</title>",
            f"<style>\n{STYLE}\n</style>",
            "</head>",
            "<body>",
            "<main>",
            body,
            "</main>",
            "</body>",
            "</html>",
            "",
        ]
    )


def _fence(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    token = tokens[idx]
    if token.info.strip() != "mermaid":
        return renderer.fence(tokens, idx, options, env)
    try:
        drawn = svg.draw(svg.parse(token.content))
    except svg.ChartError as error:
        return (
            f'<pre class="chart-error">chart not drawn ({escape(str(error))}):\n'
            f"{escape(token.content)}</pre>\n"
        )
    return f'<figure class="chart">\n{drawn}\n</figure>\n'


def _image(
    renderer: RendererHTML, tokens: Sequence[Token], idx: int, options: Any, env: Any
) -> str:
    token = tokens[idx]
    source = str(token.attrGet("src") or "")
    content = _local_file(source, env["base"], env["attachments"])
    if content is not None:
        kind = mimetypes.guess_type(source)[0] or "application/octet-stream"
        encoded = base64.b64encode(content).decode("ascii")
        token.attrSet("src", f"data:{kind};base64,{encoded}")
    return renderer.image(tokens, idx, options, env)


def _local_file(source: str, base: Path, attachments: Mapping[str, str]) -> bytes | None:
    """The bytes of a relative image path (an attachment, or a file under `base`), else None."""
    if not source or "://" in source or source.startswith(("data:", "/")):
        return None
    if source in attachments:
        return attachments[source].encode("utf-8")
    local = Path(base) / source
    return local.read_bytes() if local.is_file() else None


def _first_heading(tokens: Sequence[Token]) -> str | None:
    for i, token in enumerate(tokens[:-1]):
        if token.type == "heading_open":
            return tokens[i + 1].content.replace("`", "")
    return None
