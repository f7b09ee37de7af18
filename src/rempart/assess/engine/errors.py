"""Errors of the assessment engine.

Every error carries one line that names the thing, the value and what was expected, so the
command line can print it as is and exit with code 2 (see ``rempart.assess.cli``).
"""

from __future__ import annotations


class AssessError(Exception):
    """Bad input to the assessment engine; ``str(err)`` is one human-readable line."""

    def __init__(self, thing: str, value: object, expected: str) -> None:
        self.thing = thing
        self.value = value
        self.expected = expected
        super().__init__(f"{thing}: got {value!r}; expected {expected}")


class OsmReadError(AssessError):
    """The OpenStreetMap file cannot be read."""


class SiteError(AssessError):
    """A site geometry is unusable (invalid, outside the data, unknown name)."""


class VehicleFileError(AssessError):
    """A vehicles TOML file is malformed."""


class InputFileError(AssessError):
    """Another input file (barrier register, cost table, access routes) is malformed."""


class InputLimitError(AssessError):
    """An input file breaks a limit of :mod:`rempart.inputs`; the sentence says which."""

    def __init__(self, sentence: str) -> None:
        self.thing, self.value, self.expected = sentence, None, ""
        Exception.__init__(self, sentence)
