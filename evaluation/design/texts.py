"""Texts in a design that the committee reads, and design differences field by field.

`title` and `hypothesis` may be one string or one per page language ({nl: ..., en: ...}); the
report shows the page's own (`local_text`). `design_diff` lists the fields two designs differ in.
"""

from __future__ import annotations

from typing import Any, Literal

# A text the committee reads: one string, or one per page language ({nl: ..., en: ...}).
LocalText = str | dict[Literal["nl", "en"], str]


def local_text(value: Any, lang: str) -> str:
    """`value` in `lang`: the string itself, or its `lang` entry (the other language's when the
    design gives only that one)."""
    if isinstance(value, dict):
        return str(value.get(lang) or next(iter(value.values()), ""))
    return "" if value is None else str(value)


def design_diff(old: dict[str, Any], new: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Field-level differences between two canonical designs: [{field, old, new}]."""
    changes: list[dict[str, Any]] = []
    for key in sorted(set(old) | set(new)):
        path = f"{prefix}{key}"
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            changes.extend(design_diff(a, b, prefix=f"{path}."))
        elif a != b:
            changes.append({"field": path, "old": a, "new": b})
    return changes
