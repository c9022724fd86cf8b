"""The one way an email is composed: `email` (a greeting, paragraphs, a list of
items, as plain text and HTML), and the emails users get, per type (`render`).

Every email the app sends is composed here: the user emails by type, the
matching-complete notice (the same `match_ready` email), the tender alerts and
the signup confirmation. Small functions over `string.Template`: a few short
emails do not justify a template engine in the Lambda layer. Every value that came from outside (job
titles, company names, user names) is HTML-escaped in the HTML part; URLs are
only ever ours or a job's `external_url`, escaped too. The unsubscribe footer is
added by `Mailer.send` (it signs the link), not here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from string import Template
from typing import Any, Protocol

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
$paragraphs
$items
</body></html>
""")


class Item(Protocol):
    """Something an email lists: one entry of the text part, one of the HTML list."""

    def text(self) -> str:
        """The entry in the text part."""

    def html(self) -> str:
        """The list item in the HTML part."""


@dataclass(frozen=True)
class Listed:
    """An item with a title and a few lines under it (a tender of an alert)."""

    title: str
    details: tuple[str, ...] = ()

    def text(self) -> str:
        """`- title`, each detail indented below it."""
        return "\n  ".join([f"- {self.title}", *self.details])

    def html(self) -> str:
        """The title, each detail on its own line."""
        return "<li>" + "<br>".join(escape(x) for x in (self.title, *self.details)) + "</li>"


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


def email(
    subject: str, *, name: str | None, paragraphs: Sequence[str], items: Sequence[Item] = ()
) -> Rendered:
    """An email: a greeting (by `name` when known), the paragraphs, then the items;
    every text from outside is escaped in the HTML part."""
    greeting = f"Hello {name}," if name else "Hello,"
    lines = [greeting]
    for paragraph in paragraphs:
        lines += ["", paragraph]
    if items:
        lines += ["", *(i.text() for i in items)]
    listed = "<ul>\n" + "\n".join(i.html() for i in items) + "\n</ul>" if items else ""
    html = _HTML.substitute(
        title=escape(subject),
        greeting=escape(greeting),
        paragraphs="\n".join(
            "<p>" + escape(p).replace("\n", "<br>\n") + "</p>" for p in paragraphs
        ),
        items=listed,
    )
    return Rendered(subject=subject, text="\n".join(lines) + "\n", html=html)


def plural(n: int, word: str) -> str:
    """`1 job`, `2 jobs`."""
    return f"{n} {word}{'' if n == 1 else 's'}"


def render(kind: str, *, name: str | None, jobs: Sequence[JobLine], **data: Any) -> Rendered:
    """The email of `kind` (a key of `CATEGORIES`) for a user called `name`."""
    if kind == "welcome":
        return email(
            "Welcome to jobmatch",
            name=name,
            paragraphs=[
                "Thanks for signing up. We are matching jobs to your profile now and will "
                "email you when new jobs fit it."
            ],
        )
    if kind == "new_jobs":
        return email(
            f"{plural(len(jobs), 'new job')} for you",
            name=name,
            paragraphs=["New jobs that fit your preferences were just published:"],
            items=jobs,
        )
    if kind == "digest":
        return email(
            f"Your daily jobs digest: {plural(len(jobs), 'new match')}",
            name=name,
            paragraphs=[f"Your best new matches for {data.get('digest_date', 'today')}:"],
            items=jobs,
        )
    if kind == "match_ready":
        saved = int(data.get("matches_saved") or len(jobs))
        return email(
            "Your job matches are ready",
            name=name,
            paragraphs=[
                f"Your job matches are ready: {plural(saved, 'job')} matched your profile."
            ],
            items=jobs,
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
