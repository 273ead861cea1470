"""The differences between two protocol documents, as (path, before, after) rows."""

from dataclasses import dataclass
from typing import Any

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Change:
    path: str
    before: Any
    after: Any

    @property
    def kind(self) -> str:
        if self.before is _MISSING:
            return "added"
        if self.after is _MISSING:
            return "removed"
        return "changed"


def diff_configs(before: Any, after: Any, path: str = "") -> list[Change]:
    if isinstance(before, dict) and isinstance(after, dict):
        changes: list[Change] = []
        for key in sorted(set(before) | set(after), key=str):
            child = f"{path}.{key}" if path else str(key)
            changes += diff_configs(before.get(key, _MISSING), after.get(key, _MISSING), child)
        return changes
    if isinstance(before, list) and isinstance(after, list):
        if _is_word_list(before) and _is_word_list(after):
            removed = [word for word in before if word not in after]
            added = [word for word in after if word not in before]
            return [Change(path, word, _MISSING) for word in removed] + [
                Change(path, _MISSING, word) for word in added
            ]
        changes = []
        for index in range(max(len(before), len(after))):
            changes += diff_configs(
                before[index] if index < len(before) else _MISSING,
                after[index] if index < len(after) else _MISSING,
                f"{path}[{index}]",
            )
        return changes
    if before == after:
        return []
    return [Change(path, before, after)]


def _is_word_list(values: list) -> bool:
    return all(isinstance(value, str) for value in values)


def display(value: Any) -> str:
    return "—" if value is _MISSING else str(value)
