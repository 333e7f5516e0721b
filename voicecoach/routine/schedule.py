"""``schedule: {per_week: N}``: how many sessions a week the programme plans, read the same
way in a routine and in the settings (``config.yaml``), each with its own error class."""

from __future__ import annotations

from ..plan.rhythm import MAX_PER_WEEK, MIN_PER_WEEK
from .nodes import NodeReader

SHAPE = "such as {per_week: 3}"
KEYS = ("per_week",)


def read_schedule(reader: NodeReader, node, where: str) -> int:
    """The sessions a week of a ``schedule`` mapping node, from 1 to 14 (twice a day)."""
    fields = reader.mapping(node, where, KEYS, KEYS, SHAPE)
    return reader.whole_number(fields["per_week"], f"{where}.per_week", MIN_PER_WEEK, MAX_PER_WEEK)
