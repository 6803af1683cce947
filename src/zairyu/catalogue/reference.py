"""Reference data beside the catalogue: nationalities and regions, and the sample of
municipalities the demo population lives in. Read once per process from ``data/*.yaml``. It is
here, below the registry, because the forms (``formspec``) check nationality codes against it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from zairyu.catalogue.loader import Localized

DATA_DIR = Path(__file__).resolve().parent / "data"


class ReferenceDataError(Exception):
    """A reference data file is inconsistent."""


@dataclass(frozen=True)
class Nationality:
    code: str
    name: Localized
    region: bool = False


def read_data(name: str, directory: Path = DATA_DIR) -> dict[str, Any]:
    path = directory / name
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    if not isinstance(data, dict):
        raise ReferenceDataError(f"{name}: the top level must be a mapping")
    return data


@cache
def nationalities() -> dict[str, Nationality]:
    """Nationalities and regions by code, in the order of the data file."""
    result: dict[str, Nationality] = {}
    for index, item in enumerate(read_data("nationalities.yaml").get("nationalities") or []):
        code = item.get("code")
        if not isinstance(code, str) or len(code) != 3 or not code.isascii() or not code.isupper():
            raise ReferenceDataError(f"nationalities.yaml: nationalities[{index}]: bad code {code!r}")
        if code in result:
            raise ReferenceDataError(f"nationalities.yaml: {code} appears twice")
        result[code] = Nationality(
            code=code,
            name=Localized(ja=item["name_ja"], en=item["name_en"]),
            region=bool(item.get("region", False)),
        )
    return result


@cache
def municipalities() -> dict[str, tuple[str, ...]]:
    """Sample municipalities by prefecture code; the first is the prefectural seat."""
    raw = read_data("municipalities.yaml").get("municipalities") or {}
    result = {str(code): tuple(names) for code, names in raw.items()}
    expected = {f"{n:02d}" for n in range(1, 48)}
    if set(result) != expected or not all(result.values()):
        raise ReferenceDataError(
            "municipalities.yaml: every prefecture 01-47 needs at least one municipality"
        )
    return result
