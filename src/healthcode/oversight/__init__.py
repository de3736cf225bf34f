"""Oversight's detectors over the store, and the public extension point they are loaded by.

A detector is any object with a ``name``, a bilingual ``title`` and a
``run(context) -> Iterable[Finding]``; it is registered as an entry point in the group
``healthcode.detectors`` of its distribution's metadata, exactly as the built-in ones are in
this project's ``pyproject.toml`` (docs/oversight.md shows a third party's).
"""

from healthcode.domain.oversight import Finding
from healthcode.oversight.api import Detector, DetectorContext, load_detectors

__all__ = ["Detector", "DetectorContext", "Finding", "load_detectors"]
