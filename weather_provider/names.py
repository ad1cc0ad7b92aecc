"""Place names as people type them: compared without case or accents, "City, CC" split."""

from __future__ import annotations

import unicodedata


def normalise(text: str) -> str:
    """Lower case without accents or extra spaces: "São  Paulo" → "sao paulo"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def split_country(query: str) -> tuple[str, str]:
    """ "London, GB" → ("London", "GB"); a trailing part of two letters names a country."""
    name, sep, rest = query.rpartition(",")
    if sep and len(rest.strip()) == 2 and rest.strip().isalpha():
        return name.strip(), rest.strip().upper()
    return query.strip(), ""
