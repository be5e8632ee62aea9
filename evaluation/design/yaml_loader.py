"""The one YAML loader of the framework: safe, and strict about duplicate keys.

PyYAML's `safe_load` accepts a mapping that names a key twice and keeps the last value, so a
design file with two `min_reduction:` lines would silently register the second. Every YAML the
framework reads (design files, the front matter and cell options of report pages) goes through
`load_yaml`, which refuses such a mapping and names both lines.

A merge key (`<<: *anchor`) is not a duplicate: YAML lets the mapping's own keys override the
merged ones, and only the mapping's own keys are compared.
"""

from __future__ import annotations

from typing import Any

import yaml

from evaluation.errors import DesignError, EvaluationError

MERGE_TAG = "tag:yaml.org,2002:merge"


class DuplicateKey(yaml.constructor.ConstructorError):
    """A mapping names the same key twice (lines are 1-based)."""

    def __init__(self, key: Any, first_line: int, second_line: int) -> None:
        super().__init__(problem=f"key `{key}` appears twice, on line {first_line} and line {second_line}")
        self.key, self.first_line, self.second_line = key, first_line, second_line


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys in any mapping (block or flow style)."""

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:
                    continue  # an unhashable key: SafeLoader reports it itself below
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise DuplicateKey(key, first, line)
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, *, source: str, error: type[EvaluationError] = DesignError,
              what: str = "not valid YAML", first_line: int = 1) -> Any:
    """Parse `text` (from `source`, named in messages); duplicate keys and syntax errors raise
    `error` with a one-line message naming the line(s). `first_line` is the line of the file on
    which `text` begins (for YAML embedded in another file)."""
    shift = first_line - 1
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except DuplicateKey as exc:
        raise error(f"{source}: key `{exc.key}` appears twice, on line {exc.first_line + shift} "
                    f"and line {exc.second_line + shift}; keep one of them (YAML would silently "
                    "use the last)") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1 + shift}, column {mark.column + 1}" if mark else ""
        raise error(f"{source}: {what}{where}: {getattr(exc, 'problem', None) or exc}") from None
