"""Job titles as ads word them, reduced to the occupation they name.

"Sr. Backend Dev (m/f/d) - Remote" -> "backend developer"; "Senior Toxicologist -
Berlin, full-time" -> "toxicologist"; "Pflegefachkraft (w/m/d) | Vollzeit | München"
-> "pflegefachkraft". Seniority, contract, schedule, gender and place notes say
nothing about the occupation and pull a title's vector away from its role.
"""

from __future__ import annotations

import re

_GENDER = re.compile(
    r"\(\s*(?:[mwfdxhi]\s*[/|,*]\s*){1,3}[mwfdxhi]\s*\)"
    r"|\(\s*all genders?\s*\)|\(\s*gn\s*\)|\b[mwf]/[mwf]/[dx]\b|\*in\b",
    re.IGNORECASE,
)
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_SEPARATORS = re.compile(r"\s+[-\u2013\u2014|/@:]\s+|\s*[|•·]\s*|,\s+|\s+-{2,}\s+")
_NOTES = re.compile(
    r"\b(?:senior|sr|junior|jr|lead|staff|trainee|intern(?:ship)?|graduate|"
    r"entry[- ]level|mid[- ]level|mid[- ]senior|experienced|"
    r"(?:100\s*%\s*)?remote|hybrid|on[- ]?site|work from home|wfh|"
    r"full[- ]?time|part[- ]?time|freelance|contract(?:or)?|temporary|temp|permanent|"
    r"fixed[- ]term|seasonal|night shift|day shift|"
    r"praktikum|praktikant(?:in)?|werkstudent(?:in)?|minijob|vollzeit|teilzeit|befristet|"
    r"unbefristet|alternance|cdi|cdd|"
    r"i{1,3}|iv)\b\.?",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b\d{1,3}\s*%")
# Ads abbreviate; the taxonomy spells out.
_ABBREVIATIONS = {
    "dev": "developer",
    "devs": "developers",
    "eng": "engineer",
    "engr": "engineer",
    "mgr": "manager",
    "asst": "assistant",
    "admin": "administrator",
    "rep": "representative",
    "coord": "coordinator",
    "spec": "specialist",
    "exec": "executive",
    "swe": "software engineer",
    "sde": "software developer",
    "qa": "quality assurance",
    "hr": "human resources",
    "rn": "registered nurse",
    "lpn": "licensed practical nurse",
    "cna": "certified nursing assistant",
}
_WORD = re.compile(r"[a-z][a-z0-9+#]*")
# A later segment that is plain lower-case words may be part of the title
# ("technical supervisor, asphalt production"); capitalised ones are places and notes.
_PLAIN_SEGMENT = re.compile(r"^[a-z][a-z ]*$")


def clean_title(title: str) -> str:
    """The occupation a job title names, lower case; the title itself when cleaning
    would leave nothing."""
    text = _GENDER.sub(" ", title)
    text = _BRACKETS.sub(" ", text)
    text = _PERCENT.sub(" ", text)
    parts = [p.strip() for p in _SEPARATORS.split(text) if p and p.strip()]
    kept = [p for p in parts if _NOTES.sub("", p).strip(" .,-")]
    if kept:
        head = [kept[0]]
        head += [p for p in kept[1:] if _PLAIN_SEGMENT.match(p) and p == kept[1]]
        text = ", ".join(head)
    text = _NOTES.sub(" ", text).lower()
    text = _WORD.sub(lambda m: _ABBREVIATIONS.get(m.group(0), m.group(0)), text)
    text = re.sub(r"\s+", " ", text).strip(" ,.-\u2013\u2014/&")
    return text or " ".join(title.lower().split())
