"""Place names as typed: compared without case or accents, a trailing country code split off."""

from __future__ import annotations

from weather_provider.names import normalise, split_country


def test_names_are_compared_without_case_or_accents():
    assert normalise("  São   PAULO ") == "sao paulo"
    assert normalise("München") == normalise("munchen")


def test_a_trailing_two_letter_part_names_a_country():
    assert split_country("Paris, fr") == ("Paris", "FR")
    assert split_country("Washington, D.C.") == ("Washington, D.C.", "")
    assert split_country("  Oslo ") == ("Oslo", "")
