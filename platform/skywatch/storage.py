"""Static files for prod: hashed and compressed, tolerant of vendored files shipped without maps."""

from __future__ import annotations

from whitenoise.storage import CompressedManifestStaticFilesStorage


def _without_source_maps(patterns: tuple) -> tuple:
    """Django's rewrite patterns minus the sourceMappingURL ones."""

    def keeps(pattern) -> bool:
        regex = pattern[0] if isinstance(pattern, tuple) else pattern
        return "sourceMappingURL" not in regex

    return tuple(
        (glob, tuple(p for p in rules if keeps(p)))
        for glob, rules in patterns
        if any(keeps(p) for p in rules)
    )


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Vendored minified files (Bootstrap, Chart.js) name source maps we do not ship: skip them."""

    patterns = _without_source_maps(CompressedManifestStaticFilesStorage.patterns)
