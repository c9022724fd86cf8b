"""Job descriptions as plain text: the boards send HTML (Greenhouse entity-escaped
once more), and matching, skill extraction and emails want words and line breaks.

The standard library's parser does it: no dependency, and it decodes entities as
it goes, so text that a board escaped twice (`&amp;nbsp;`) comes out right after
one explicit `html.unescape` by the caller.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

from jobmatch.safe_input import strip_unstorable

BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "hr",
        "dl",
        "dt",
        "dd",
    ]
)
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template", "head"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_BLANK_LINES = re.compile(r"\n\s*\n(\s*\n)+")


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_TAGS:
            self._skipping += 1
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS:
            self._skipping = max(0, self._skipping - 1)
        elif tag in BLOCK_TAGS and tag != "li":  # the next item starts its own line
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def tidy(text: str) -> str:
    """Spaces collapsed within lines, at most one blank line in a row, trimmed."""
    lines = (_SPACES.sub(" ", line).strip() for line in strip_unstorable(text).split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def html_to_text(html: str) -> str:
    """The text of an HTML fragment, block elements on their own lines."""
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return tidy("".join(parser.parts))
