"""Detailed tender categories: rule-based from CPV, with a keyword fallback.

CPV (the EU Common Procurement Vocabulary, used well beyond the EU) codes are
eight digits whose first two are the division: 45 is construction work, 72 IT
services, 33 medical equipment and pharmaceuticals. A division maps to one of our
categories; a few groups (three digits) are more precise than their division.
Feeds that use another scheme, or none, are matched on words in the
classification description and the title; what neither finds stays uncategorised
for the LLM (when AI is on) or the fallback.
"""

from __future__ import annotations

import re

CATEGORIES: dict[str, str] = {
    "construction": "Construction works and building",
    "architecture-engineering": "Architecture, engineering and inspection",
    "it-services": "IT services and software development",
    "software": "Software packages and information systems",
    "computer-equipment": "Computers and office equipment",
    "telecoms": "Telecommunications and radio",
    "medical": "Medical equipment and pharmaceuticals",
    "health-social": "Health and social work services",
    "environmental": "Cleaning, waste and environmental services",
    "maintenance": "Repair, maintenance and installation",
    "transport-equipment": "Vehicles and transport equipment",
    "transport-services": "Transport and logistics services",
    "energy-utilities": "Energy, fuel, water and utilities",
    "security-defence": "Security, fire-fighting and defence",
    "professional-services": "Business, legal, financial and consulting services",
    "education-training": "Education and training",
    "research": "Research and development",
    "food-catering": "Food, catering and hospitality",
    "agriculture": "Agriculture, forestry and fishing",
    "industrial": "Industrial machinery, chemicals and materials",
    "supplies": "Furniture, clothing, printed matter and supplies",
    "community-culture": "Community, cultural and public administration services",
    "other": "Other",
}

# CPV division (first two digits) -> category.
CPV_DIVISIONS: dict[str, str] = {
    "03": "agriculture",
    "09": "energy-utilities",
    "14": "industrial",
    "15": "food-catering",
    "16": "agriculture",
    "18": "supplies",
    "19": "industrial",
    "22": "supplies",
    "24": "industrial",
    "30": "computer-equipment",
    "31": "industrial",
    "32": "telecoms",
    "33": "medical",
    "34": "transport-equipment",
    "35": "security-defence",
    "37": "supplies",
    "38": "industrial",
    "39": "supplies",
    "41": "energy-utilities",
    "42": "industrial",
    "43": "construction",
    "44": "construction",
    "45": "construction",
    "48": "software",
    "50": "maintenance",
    "51": "maintenance",
    "55": "food-catering",
    "60": "transport-services",
    "63": "transport-services",
    "64": "telecoms",
    "65": "energy-utilities",
    "66": "professional-services",
    "70": "professional-services",
    "71": "architecture-engineering",
    "72": "it-services",
    "73": "research",
    "75": "community-culture",
    "76": "energy-utilities",
    "77": "agriculture",
    "79": "professional-services",
    "80": "education-training",
    "85": "health-social",
    "90": "environmental",
    "92": "community-culture",
    "98": "community-culture",
}

# CPV groups (first three digits) more precise than their division.
CPV_GROUPS: dict[str, str] = {
    "797": "security-defence",  # investigation and security services
    "794": "professional-services",  # business and management consultancy
    "301": "supplies",  # office machinery and supplies (paper, toner)
    "503": "maintenance",  # repair of computers and office machines
    "905": "environmental",  # refuse and waste services
}

# Words (in a classification description or title) -> category, most specific first.
KEYWORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), c)
    for p, c in [
        (
            r"\b(software|ict|it services?|information technology|cloud|cyber|data centre)\b",
            "it-services",
        ),
        (r"\b(computers?|laptops?|printers?|servers?)\b", "computer-equipment"),
        (r"\b(telecom\w*|radio|network cabling)\b", "telecoms"),
        (r"\b(medical|medicines?|pharma\w*|hospital|clinical|surgical)\b", "medical"),
        (
            r"\b(engineering|architect\w*|surveying|quantity survey\w*)\b",
            "architecture-engineering",
        ),
        (
            r"\b(construction|building|civil works?|roads?|bridges?|renovation|paving)\b",
            "construction",
        ),
        (r"\b(cleaning|waste|refuse|sewage|pest control|environmental)\b", "environmental"),
        (r"\b(security|guarding|fire[- ]fighting|cctv)\b", "security-defence"),
        (r"\b(repairs?|maintenance|servicing|installation)\b", "maintenance"),
        (r"\b(vehicles?|fleet|buses|trucks)\b", "transport-equipment"),
        (r"\b(transport|logistics|courier|freight)\b", "transport-services"),
        (r"\b(electricity|fuel|diesel|solar|energy|water supply)\b", "energy-utilities"),
        (r"\b(catering|food|meals|accommodation|hotel)\b", "food-catering"),
        (r"\b(training|education|learnership|school)\b", "education-training"),
        (r"\b(research|feasibility study)\b", "research"),
        (
            r"\b(consult\w*|legal|audit\w*|financial|insurance|advisory|marketing)\b",
            "professional-services",
        ),
        (r"\b(furniture|stationery|uniforms?|clothing|printing)\b", "supplies"),
        (r"\b(agricultur\w*|farming|forestry|seeds|livestock)\b", "agriculture"),
    ]
]

_CPV_CODE = re.compile(r"^\s*(\d{2})(\d)\d{5}(?:-\d)?\s*$")


def is_cpv(scheme: str | None, code: str | None) -> bool:
    """A CPV code: scheme says so (or is absent) and the code has CPV's shape."""
    return bool(code and _CPV_CODE.match(code)) and (scheme or "CPV").upper().startswith("CPV")


def category_from_cpv(code: str) -> str | None:
    """Our category for a CPV code, group before division."""
    match = _CPV_CODE.match(code)
    if match is None:
        return None
    division, digit = match.group(1), match.group(2)
    return CPV_GROUPS.get(division + digit) or CPV_DIVISIONS.get(division)


def category_from_text(*texts: str | None) -> str | None:
    """The first keyword rule any of `texts` matches, in order of the texts."""
    for text in texts:
        if not text:
            continue
        for pattern, category in KEYWORDS:
            if pattern.search(text):
                return category
    return None


def rule_category(
    scheme: str | None, code: str | None, description: str | None, title: str | None
) -> str | None:
    """The rule-based category of a tender, or None when no rule applies."""
    if is_cpv(scheme, code):
        by_code = category_from_cpv(code or "")
        if by_code:
            return by_code
    return category_from_text(description, title)
