"""The reference catalogue: statuses, procedures, user categories, the user x procedure matrix,
offices and prefectures, fees. Data lives in ``data/*.yaml``; this package loads and checks it."""

from __future__ import annotations

from functools import cache

from zairyu.catalogue.loader import Catalogue, load_catalogue


@cache
def get_catalogue() -> Catalogue:
    """The catalogue of this process, loaded and validated once."""
    return load_catalogue()
