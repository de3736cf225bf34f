"""The built-in detectors, each registered under the ``healthcode.detectors`` entry points."""
