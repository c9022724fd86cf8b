"""Write the bundled sample dataset (`data/*.json`) from a fixed seed.

Run `python -m jobmatch_devkit.generate_sample_data` to regenerate; the output is
committed, so the demo and the tests never depend on running this. Everything
comes from `random.Random(SEED)` and sorted tables below: the same code writes
byte-identical files on every machine, so a diff of the data is a diff of this
script. The roles, titles and skills are written for this project; names and
companies are invented.
"""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 20261123
DATA_DIR = Path(__file__).resolve().parent / "data"
JOBS = 320
CANDIDATES_PER_TENANT = 50
USERS = 50
TODAY = date(2026, 11, 1)

# role -> (aliases, title variants, core skills, nice-to-have skills, salary band EUR)
ROLES: dict[str, tuple[list[str], list[str], list[str], list[str], tuple[int, int]]] = {
    "backend engineer": (
        ["backend developer", "server-side engineer", "api engineer"],
        ["Backend Engineer", "Backend Developer", "Python Backend Engineer", "API Engineer"],
        ["python", "postgresql", "rest", "docker", "sql"],
        ["fastapi", "django", "redis", "kafka", "aws", "go"],
        (55_000, 95_000),
    ),
    "frontend engineer": (
        [
            "frontend developer",
            "front-end engineer",
            "front-end developer",
            "ui engineer",
            "react developer",
        ],
        ["Frontend Engineer", "Front-End Developer", "React Developer", "UI Engineer"],
        ["javascript", "typescript", "react", "css", "html"],
        ["next.js", "vue", "graphql", "jest", "tailwind"],
        (50_000, 90_000),
    ),
    "full stack engineer": (
        ["full stack developer", "fullstack engineer", "full-stack developer"],
        ["Full Stack Engineer", "Full-Stack Developer", "Fullstack Engineer (Node/React)"],
        ["javascript", "typescript", "react", "node.js", "sql"],
        ["postgresql", "docker", "aws", "graphql", "python"],
        (55_000, 95_000),
    ),
    "data scientist": (
        ["data science specialist", "applied scientist"],
        ["Data Scientist", "Applied Scientist", "Data Scientist - Pricing"],
        ["python", "statistics", "pandas", "scikit-learn", "sql"],
        ["pytorch", "r", "experimentation", "spark", "tableau"],
        (60_000, 105_000),
    ),
    "data engineer": (
        ["etl developer", "big data engineer", "analytics engineer"],
        ["Data Engineer", "Big Data Engineer", "Analytics Engineer", "ETL Developer"],
        ["python", "sql", "spark", "airflow", "data modeling"],
        ["dbt", "kafka", "snowflake", "aws", "scala"],
        (60_000, 100_000),
    ),
    "machine learning engineer": (
        ["ml engineer", "mlops engineer", "ai engineer"],
        ["Machine Learning Engineer", "ML Engineer", "MLOps Engineer", "AI Engineer"],
        ["python", "pytorch", "machine learning", "docker", "mlops"],
        ["kubernetes", "tensorflow", "aws", "llm", "spark"],
        (70_000, 120_000),
    ),
    "devops engineer": (
        ["devops specialist", "platform engineer", "infrastructure engineer"],
        ["DevOps Engineer", "Platform Engineer", "Infrastructure Engineer"],
        ["linux", "docker", "kubernetes", "terraform", "ci/cd"],
        ["aws", "ansible", "python", "prometheus", "bash"],
        (60_000, 100_000),
    ),
    "site reliability engineer": (
        ["sre", "reliability engineer"],
        ["Site Reliability Engineer", "SRE", "Production SRE"],
        ["linux", "kubernetes", "prometheus", "go", "incident management"],
        ["terraform", "python", "aws", "grafana", "postgresql"],
        (70_000, 115_000),
    ),
    "mobile engineer": (
        ["ios developer", "android developer", "mobile developer", "react native developer"],
        ["iOS Developer", "Android Developer", "Mobile Engineer", "React Native Developer"],
        ["swift", "kotlin", "mobile", "rest", "git"],
        ["react native", "flutter", "firebase", "graphql", "ci/cd"],
        (55_000, 95_000),
    ),
    "qa engineer": (
        ["test automation engineer", "quality assurance engineer", "sdet"],
        ["QA Engineer", "Test Automation Engineer", "SDET", "Quality Assurance Engineer"],
        ["test automation", "selenium", "python", "ci/cd", "api testing"],
        ["cypress", "playwright", "java", "jmeter", "sql"],
        (45_000, 80_000),
    ),
    "security engineer": (
        ["application security engineer", "cyber security engineer", "appsec engineer"],
        ["Security Engineer", "Application Security Engineer", "Cloud Security Engineer"],
        ["security", "threat modeling", "aws", "python", "network security"],
        ["siem", "penetration testing", "kubernetes", "iam", "soc2"],
        (65_000, 115_000),
    ),
    "product manager": (
        ["product owner", "technical product manager"],
        ["Product Manager", "Technical Product Manager", "Product Owner"],
        ["product management", "roadmapping", "stakeholder management", "analytics", "agile"],
        ["sql", "user research", "jira", "a/b testing", "b2b saas"],
        (60_000, 110_000),
    ),
    "product designer": (
        ["ux designer", "ui/ux designer", "interaction designer"],
        ["Product Designer", "UX Designer", "UI/UX Designer"],
        ["figma", "user research", "prototyping", "interaction design", "design systems"],
        ["html", "css", "accessibility", "usability testing", "illustration"],
        (50_000, 90_000),
    ),
    "engineering manager": (
        ["software development manager", "team lead"],
        ["Engineering Manager", "Software Development Manager", "Engineering Team Lead"],
        ["people management", "agile", "hiring", "architecture", "stakeholder management"],
        ["python", "java", "aws", "okrs", "coaching"],
        (85_000, 140_000),
    ),
    "cloud architect": (
        ["solutions architect", "aws architect", "cloud solutions architect"],
        ["Cloud Architect", "AWS Solutions Architect", "Cloud Solutions Architect"],
        ["aws", "architecture", "terraform", "networking", "security"],
        ["azure", "gcp", "kubernetes", "serverless", "cost optimization"],
        (80_000, 135_000),
    ),
    "database administrator": (
        ["dba", "database engineer"],
        ["Database Administrator", "PostgreSQL DBA", "Database Engineer"],
        ["postgresql", "sql", "backup and recovery", "performance tuning", "linux"],
        ["mysql", "oracle", "aws rds", "replication", "bash"],
        (55_000, 95_000),
    ),
    "business analyst": (
        ["data analyst", "bi analyst"],
        ["Business Analyst", "Data Analyst", "BI Analyst"],
        ["sql", "excel", "requirements analysis", "tableau", "stakeholder management"],
        ["power bi", "python", "process modeling", "jira", "statistics"],
        (45_000, 80_000),
    ),
    "technical writer": (
        ["documentation engineer", "api documentation writer"],
        ["Technical Writer", "Documentation Engineer", "API Documentation Writer"],
        ["technical writing", "markdown", "git", "api documentation", "editing"],
        ["docs-as-code", "openapi", "python", "information architecture", "dita"],
        (40_000, 75_000),
    ),
    "support engineer": (
        ["technical support engineer", "customer support engineer"],
        ["Support Engineer", "Technical Support Engineer", "Customer Support Engineer"],
        ["troubleshooting", "sql", "linux", "customer communication", "ticketing"],
        ["python", "networking", "zendesk", "api", "bash"],
        (38_000, 65_000),
    ),
    "embedded engineer": (
        ["firmware engineer", "embedded software engineer", "embedded c developer"],
        ["Embedded Software Engineer", "Firmware Engineer", "Embedded C Developer"],
        ["c", "c++", "embedded linux", "rtos", "microcontrollers"],
        ["python", "can bus", "yocto", "debugging", "arm"],
        (55_000, 95_000),
    ),
}

CITIES = [
    ("Berlin", "DE", "EUR"),
    ("Munich", "DE", "EUR"),
    ("Hamburg", "DE", "EUR"),
    ("Amsterdam", "NL", "EUR"),
    ("Rotterdam", "NL", "EUR"),
    ("Paris", "FR", "EUR"),
    ("Lyon", "FR", "EUR"),
    ("Madrid", "ES", "EUR"),
    ("Barcelona", "ES", "EUR"),
    ("Lisbon", "PT", "EUR"),
    ("Dublin", "IE", "EUR"),
    ("Vienna", "AT", "EUR"),
    ("Warsaw", "PL", "EUR"),
    ("Stockholm", "SE", "EUR"),
]
COMPANY_PARTS = (
    ["Blue", "North", "Bright", "Iron", "Clear", "Swift", "Silver", "Green", "Open", "Deep"],
    ["Harbor", "Ledger", "Pixel", "Forge", "Signal", "Orbit", "Field", "Stack", "Wave", "Grid"],
    ["Labs", "Systems", "GmbH", "Technologies", "Health", "Logistics", "Bank", "Studio", "AI"],
)
SOURCES = ["monster", "indeed", "linkedin", "stepstone"]
SENIORITY = [("Junior ", 0), ("", 2), ("", 3), ("Senior ", 5), ("Lead ", 7)]
FIRST_NAMES = [
    "Ana", "Ben", "Chloe", "Daniel", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Kaja", "Luca", "Maya", "Nikos", "Olga", "Pedro", "Quinn", "Rosa", "Samir", "Tara",
    "Umar", "Vera", "Wim", "Xenia", "Yusuf", "Zoe",
]  # fmt: skip
LAST_NAMES = [
    "Almeida", "Berger", "Costa", "Dubois", "Eriksson", "Fischer", "Garcia", "Hansen",
    "Ivanova", "Jansen", "Kowalski", "Lopez", "Moreau", "Novak", "O'Brien", "Petrov",
    "Rossi", "Schmidt", "Torres", "Varga", "Weber", "Yilmaz",
]  # fmt: skip
TENANTS = ["Acme Staffing", "Northwind Talent"]


def _company(rng: random.Random) -> str:
    return " ".join(rng.choice(part) for part in COMPANY_PARTS)


def _job(rng: random.Random, index: int) -> dict[str, Any]:
    role = rng.choice(sorted(ROLES))
    _aliases, titles, core, extra, (low, high) = ROLES[role]
    prefix, experience = rng.choice(SENIORITY)
    city, country, currency = rng.choice(CITIES)
    skills = rng.sample(core, k=rng.randint(3, len(core))) + rng.sample(extra, k=rng.randint(0, 2))
    base = low + (high - low) * experience // 8
    salary_min = round(base + rng.randint(-5, 5) * 1000, -3)
    company = _company(rng)
    title = prefix + rng.choice(titles)
    remote = rng.random() < 0.3
    return {
        "external_id": f"ext-{index:05d}",
        "source": rng.choice(SOURCES),
        "title": title,
        "company": company,
        "location": "Remote" if remote and rng.random() < 0.4 else city,
        "country": country,
        "remote": remote,
        "salary_min": salary_min,
        "salary_max": salary_min + rng.choice([10_000, 15_000, 20_000, 25_000]),
        "currency": currency,
        "experience_min": experience,
        "skills": skills,
        "description": (
            f"{company} is hiring a {title} in {city}. You will work with "
            f"{', '.join(skills[:-1])} and {skills[-1]} on a product used across Europe. "
            f"{experience}+ years of experience expected."
        ),
        "external_url": f"https://jobs.example.com/{index:05d}",
        "posted_date": (TODAY - timedelta(days=rng.randint(0, 40))).isoformat(),
    }


def _person_skills(rng: random.Random, roles: list[str]) -> list[str]:
    skills: list[str] = []
    for role in roles:
        _aliases, _titles, core, extra, _band = ROLES[role]
        for skill in rng.sample(core, k=rng.randint(2, 4)) + rng.sample(extra, k=rng.randint(0, 3)):
            if skill not in skills:
                skills.append(skill)
    return skills


def _salary_expectation(rng: random.Random, role: str, experience: int) -> int:
    low, high = ROLES[role][4]
    return int(round(low + (high - low) * min(experience, 8) / 8 + rng.randint(-8, 8) * 1000, -3))


def _candidate(rng: random.Random, role_ids: dict[str, int], index: int) -> dict[str, Any]:
    roles = rng.sample(sorted(ROLES), k=rng.choice([1, 1, 2]))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, country, _currency = rng.choice(CITIES)
    experience = rng.randint(0, 12)
    # Candidates' preferred roles arrive as role ids or as names: the sample has both.
    preferred: list[int | str] = [role_ids[r] if rng.random() < 0.5 else r.title() for r in roles]
    return {
        "external_ref": f"cand-{index:04d}",
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}.{index}@candidates.example.com".lower().replace("'", ""),
        "status": "approved" if rng.random() < 0.2 else "pending",
        "preferred_roles": preferred,
        "skills": _person_skills(rng, roles),
        "experience_years": experience,
        "location": city,
        "country": country,
        "remote_ok": rng.random() < 0.5,
        "salary_expectation": _salary_expectation(rng, roles[0], experience),
    }


def _user(rng: random.Random, index: int) -> dict[str, Any]:
    roles = rng.sample(sorted(ROLES), k=rng.choice([1, 1, 2]))
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    cities = rng.sample(CITIES, k=rng.randint(1, 2))
    experience = rng.randint(0, 12)
    return {
        "email": f"{first}.{last}.{index}@users.example.com".lower().replace("'", ""),
        "name": f"{first} {last}",
        "roles": roles,
        "skills": _person_skills(rng, roles),
        "locations": [c[0] for c in cities],
        "countries": sorted({c[1] for c in cities}),
        "salary_min": _salary_expectation(rng, roles[0], experience) - 5_000,
        "experience_years": experience,
        "remote_ok": rng.random() < 0.6,
        "is_premium": rng.random() < 0.2,
    }


def generate() -> dict[str, Any]:
    """The whole dataset as plain data (roles, jobs, tenants with candidates, users)."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible sample data, not secrets
    roles = [{"id": i, "name": name, "aliases": ROLES[name][0]} for i, name in enumerate(ROLES, 1)]
    role_ids = {name: i for i, name in enumerate(ROLES, 1)}
    jobs = [_job(rng, i) for i in range(1, JOBS + 1)]
    tenants = [
        {
            "name": name,
            "candidates": [
                _candidate(rng, role_ids, t * CANDIDATES_PER_TENANT + i)
                for i in range(1, CANDIDATES_PER_TENANT + 1)
            ],
        }
        for t, name in enumerate(TENANTS)
    ]
    users = [_user(rng, i) for i in range(1, USERS + 1)]
    return {"roles": roles, "jobs": jobs, "tenants": tenants, "users": users}


def write(data_dir: Path = DATA_DIR) -> list[Path]:
    """Write one JSON file per table group; return their paths."""
    data_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, value in generate().items():
        path = data_dir / f"{name}.json"
        path.write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write():
        print(written)
