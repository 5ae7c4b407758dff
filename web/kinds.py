"""Kept for the imports that still name it: the labels live in ``vault.kinds`` (shared with the activity)."""

from vault.kinds import KIND_LABELS, kind_label

__all__ = ["KIND_LABELS", "kind_label"]
