"""The emails users get, per type, as plain text and HTML.

Small functions over `string.Template`: four short templates do not justify a
template engine in the Lambda layer. Every value that came from outside (job
titles, company names, user names) is HTML-escaped in the HTML part; URLs are
only ever ours or a job's `external_url`, escaped too. The unsubscribe footer is
added by `Mailer.send` (it signs the link), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from string import Template
from typing import Any

# What each type is called in the outbox (`kind`), and which unsubscribe category it
# belongs to (None: sent because the user just acted, e.g. registered).
CATEGORIES: dict[str, str | None] = {
    "welcome": None,
    "new_jobs": "new_jobs",
    "digest": "digest",
    "match_ready": "match_ready",
}

_HTML = Template("""<!doctype html>
<html><head><meta charset="utf-8"><title>$title</title></head>
<body style="font-family: sans-serif; line-height: 1.5; color: #222;">
<p>$greeting</p>
<p>$lead</p>
$items
</body></html>
""")


@dataclass(frozen=True)
class JobLine:
    """A job as an email lists it."""

    title: str
    company: str
    location: str
    url: str | None = None
    score: float | None = None

    def text(self) -> str:
        """One line of the text part."""
        where = f" ({self.location})" if self.location else ""
        score = f" - {self.score:.0f}/100" if self.score is not None else ""
        link = f"\n  {self.url}" if self.url else ""
        return f"- {self.title} at {self.company}{where}{score}{link}"

    def html(self) -> str:
        """One list item of the HTML part."""
        title = escape(self.title)
        if self.url:
            title = f'<a href="{escape(self.url, quote=True)}">{title}</a>'
        where = f" ({escape(self.location)})" if self.location else ""
        score = f" &middot; {self.score:.0f}/100" if self.score is not None else ""
        return f"<li>{title} at {escape(self.company)}{where}{score}</li>"


@dataclass(frozen=True)
class Rendered:
    """Subject, text and HTML of one email."""

    subject: str
    text: str
    html: str


def _render(subject: str, name: str | None, lead: str, jobs: Sequence[JobLine]) -> Rendered:
    greeting = f"Hello {name}," if name else "Hello,"
    lines = [greeting, "", lead]
    if jobs:
        lines += ["", *(j.text() for j in jobs)]
    items = "<ul>\n" + "\n".join(j.html() for j in jobs) + "\n</ul>" if jobs else ""
    html = _HTML.substitute(
        title=escape(subject), greeting=escape(greeting), lead=escape(lead), items=items
    )
    return Rendered(subject=subject, text="\n".join(lines) + "\n", html=html)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(kind: str, *, name: str | None, jobs: Sequence[JobLine], **data: Any) -> Rendered:
    """The email of `kind` (a key of `CATEGORIES`) for a user called `name`."""
    if kind == "welcome":
        return _render(
            "Welcome to jobmatch",
            name,
            "Thanks for signing up. We are matching jobs to your profile now and will "
            "email you when new jobs fit it.",
            (),
        )
    if kind == "new_jobs":
        return _render(
            f"{_plural(len(jobs), 'new job')} for you",
            name,
            "New jobs that fit your preferences were just published:",
            jobs,
        )
    if kind == "digest":
        return _render(
            f"Your daily jobs digest: {_plural(len(jobs), 'new match')}",
            name,
            f"Your best new matches for {data.get('digest_date', 'today')}:",
            jobs,
        )
    if kind == "match_ready":
        saved = int(data.get("matches_saved") or len(jobs))
        return _render(
            "Your job matches are ready",
            name,
            f"Your job matches are ready: {_plural(saved, 'job')} matched your profile.",
            jobs,
        )
    raise ValueError(f"no email template {kind!r}")


def unsubscribe_footer(url: str) -> tuple[str, str]:
    """The footer every email with an unsubscribe category carries (text, HTML)."""
    text = f"\n--\nYou get these emails because of your jobmatch settings.\nUnsubscribe: {url}\n"
    html = (
        '<p style="font-size: 12px; color: #777;">You get these emails because of your '
        f'jobmatch settings. <a href="{escape(url, quote=True)}">Unsubscribe</a></p>'
    )
    return text, html
