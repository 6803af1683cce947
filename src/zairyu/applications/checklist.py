"""The documents checklist of an application, from catalogue data (catalogue/data/document_checklists.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import yaml

from zairyu.catalogue.loader import DATA_DIR, CatalogueError, Localized

ITEM_KEYS = {"type", "required", "procedures", "groups", "user_categories"}


@dataclass(frozen=True)
class ChecklistItem:
    document_type: str
    label: Localized
    required: bool
    procedures: frozenset[str]
    groups: frozenset[str]
    user_categories: frozenset[str]

    def applies(self, *, procedure: str, group: str, user_category: str) -> bool:
        return (
            (not self.procedures or procedure in self.procedures)
            and (not self.groups or group in self.groups)
            and (not self.user_categories or user_category in self.user_categories)
        )


@cache
def _data() -> tuple[dict[str, Localized], tuple[ChecklistItem, ...]]:
    with (DATA_DIR / "document_checklists.yaml").open(encoding="utf-8") as handle:
        raw = yaml.safe_load(handle)
    types = {code: Localized(ja=v["ja"], en=v["en"]) for code, v in (raw.get("document_types") or {}).items()}
    items = []
    for index, entry in enumerate(raw.get("checklists") or []):
        where = f"document_checklists.yaml: checklists[{index}]"
        if set(entry) - ITEM_KEYS:
            raise CatalogueError(f"{where}: unknown keys {sorted(set(entry) - ITEM_KEYS)}")
        if entry.get("type") not in types:
            raise CatalogueError(f"{where}: unknown document type {entry.get('type')!r}")
        items.append(
            ChecklistItem(
                document_type=entry["type"],
                label=types[entry["type"]],
                required=bool(entry.get("required", False)),
                procedures=frozenset(entry.get("procedures") or ()),
                groups=frozenset(entry.get("groups") or ()),
                user_categories=frozenset(entry.get("user_categories") or ()),
            )
        )
    return types, tuple(items)


def document_types() -> dict[str, Localized]:
    return _data()[0]


def checklist(*, procedure: str, group: str, user_category: str) -> list[ChecklistItem]:
    return [
        item
        for item in _data()[1]
        if item.applies(procedure=procedure, group=group, user_category=user_category)
    ]
