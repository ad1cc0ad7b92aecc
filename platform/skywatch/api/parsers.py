"""The API's JSON parser: DRF's, refusing with 400 what would otherwise crash a view."""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def has_lone_surrogate(data: object) -> bool:
    """Whether any key or string in parsed JSON holds a lone surrogate (`"\\ud800"`), walked
    without recursion so that nesting cannot exhaust the stack."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            # A valid pair was already joined by the decoder; what is left cannot be UTF-8.
            if any("\ud800" <= char <= "\udfff" for char in item):
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


class JSONParser(parsers.JSONParser):
    """Deep nesting and text that is not Unicode are 400 `invalid`, like any other bad JSON."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("The JSON body is nested too deep.") from exc
        if has_lone_surrogate(data):
            raise ParseError("The JSON body holds a string that is not valid Unicode text.")
        return data
