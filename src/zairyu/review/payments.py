"""Electronic payment of the fee (F-08): a pluggable provider instead of revenue stamps.

The original system never delivered cashless payment (A5-8); users asked for it (survey 2021:
"electronic fee payment", 163 votes). ``settings.REVIEW_PAYMENT_PROVIDER`` names the provider
class (a dotted path); :class:`DemoPaymentProvider`, the default, accepts every payment at once
and gives a receipt id. A real provider (Pay-easy, a card acquirer) implements :meth:`charge`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_PROVIDER = "zairyu.review.payments.DemoPaymentProvider"


class PaymentFailed(Exception):
    """The provider refused or could not take the payment; nothing was charged."""


@dataclass(frozen=True)
class PaymentReceipt:
    receipt_id: str
    provider: str


class PaymentProvider:
    name = "abstract"

    def charge(self, *, amount_yen: int, reference: str) -> PaymentReceipt:  # pragma: no cover
        """Take ``amount_yen`` for ``reference`` (the receipt number); raise PaymentFailed if not."""
        raise NotImplementedError


class DemoPaymentProvider(PaymentProvider):
    """Pays instantly; for the demo and tests. Never charges anybody."""

    name = "demo"

    def charge(self, *, amount_yen: int, reference: str) -> PaymentReceipt:
        if amount_yen <= 0:
            raise PaymentFailed("nothing to pay")
        return PaymentReceipt(receipt_id=f"DEMO-{secrets.token_hex(6).upper()}", provider=self.name)


@cache
def _provider(path: str) -> PaymentProvider:
    return import_string(path)()


def provider() -> PaymentProvider:
    return _provider(getattr(settings, "REVIEW_PAYMENT_PROVIDER", DEFAULT_PROVIDER))
