"""Country names as boards write them ("USA", "United States", "Deutschland") to
ISO 3166-1 alpha-2, the form the jobs table and the matching engine use. A name
not in the table gives None: a wrong country would filter a job away, a missing
one only scores it neutrally."""

from __future__ import annotations

import re

_CODES = {
    "AR": "argentina",
    "AT": "austria|österreich|osterreich",
    "AU": "australia",
    "BE": "belgium|belgië|belgique",
    "BG": "bulgaria",
    "BR": "brazil|brasil",
    "CA": "canada",
    "CH": "switzerland|schweiz|suisse",
    "CL": "chile",
    "CN": "china",
    "CO": "colombia",
    "CY": "cyprus",
    "CZ": "czech republic|czechia",
    "DE": "germany|deutschland",
    "DK": "denmark|danmark",
    "EE": "estonia",
    "EG": "egypt",
    "ES": "spain|españa|espana",
    "FI": "finland",
    "FR": "france",
    "GB": "united kingdom|uk|great britain|england|scotland|wales|northern ireland",
    "GR": "greece",
    "HK": "hong kong",
    "HR": "croatia",
    "HU": "hungary",
    "ID": "indonesia",
    "IE": "ireland",
    "IL": "israel",
    "IN": "india",
    "IS": "iceland",
    "IT": "italy|italia",
    "JP": "japan",
    "KE": "kenya",
    "KR": "south korea|korea|republic of korea",
    "LT": "lithuania",
    "LU": "luxembourg",
    "LV": "latvia",
    "MT": "malta",
    "MX": "mexico|méxico",
    "MY": "malaysia",
    "NG": "nigeria",
    "NL": "netherlands|the netherlands|nederland|holland",
    "NO": "norway|norge",
    "NZ": "new zealand",
    "PE": "peru",
    "PH": "philippines",
    "PK": "pakistan",
    "PL": "poland|polska",
    "PT": "portugal",
    "RO": "romania",
    "RS": "serbia",
    "SA": "saudi arabia",
    "SE": "sweden|sverige",
    "SG": "singapore",
    "SI": "slovenia",
    "SK": "slovakia",
    "TH": "thailand",
    "TR": "turkey|türkiye|turkiye",
    "TW": "taiwan",
    "UA": "ukraine",
    "AE": "united arab emirates|uae",
    "US": "united states|united states of america|usa|us|u.s.|u.s.a.",
    "UY": "uruguay",
    "VN": "vietnam|viet nam",
    "ZA": "south africa",
}
_BY_NAME = {name: code for code, names in _CODES.items() for name in names.split("|")}
_SPACES = re.compile(r"\s+")


def country_code(name: str | None) -> str | None:
    """The ISO alpha-2 code of a country name or code; None when unknown."""
    if not name:
        return None
    key = _SPACES.sub(" ", name.strip().lower())
    if len(key) == 2 and key.upper() in _CODES:
        return key.upper()
    return _BY_NAME.get(key)
