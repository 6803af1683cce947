"""Which kinds of account do what, read from the catalogue's user categories
(``catalogue/data/user_categories.yaml``): the one definition of these sets of kinds."""

from __future__ import annotations

from zairyu.catalogue import get_catalogue

_CATEGORIES = get_catalogue().user_categories

# U5–U7 (``files_for_organization: true``): staff of an approved organization, who file for the
# foreign nationals of their organization or of those that mandated it. Their accounts come from
# a usage application and are valid as long as their organization.
ORGANIZATION_STAFF_KINDS: frozenset[str] = frozenset(
    code for code, category in _CATEGORIES.items() if category.files_for_organization
)

# U4–U7 (``bulk: true``): who may file many applications at once from a spreadsheet (F-09).
BULK_FILING_KINDS: frozenset[str] = frozenset(code for code, category in _CATEGORIES.items() if category.bulk)
