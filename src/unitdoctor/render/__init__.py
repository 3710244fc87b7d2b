"""Renderers: turn engine records into text, JSON or metrics. They compute nothing."""

#: The version of every JSON document's layout (``"schema_version"`` in each, ``const`` in schema/*.json).
#: Raised when a field is removed or changes meaning; new fields keep it.
SCHEMA_VERSION = 1
