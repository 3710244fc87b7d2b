"""Renderers: turn engine records into text, JSON or metrics. They compute nothing."""
