"""The names of an application's stored codes in the active language: the type of an attached
document (``passport_copy`` → Copy of the passport), the document handed over and how
(``residence_card``, ``post`` → Residence card, By post)."""

from __future__ import annotations

from django import template

from zairyu.applications.checklist import document_types
from zairyu.applications.rules.receipt import Document
from zairyu.applications.summary import METHOD_LABELS

register = template.Library()


@register.filter
def document_type_name(code: object) -> str:
    name = document_types().get(str(code or ""))
    return str(name) if name else str(code or "")


@register.filter
def receipt_document_name(code: object) -> str:
    try:
        return str(Document(str(code)).label)
    except ValueError:
        return str(code or "")


@register.filter
def receipt_method_name(code: object) -> str:
    return str(METHOD_LABELS.get(str(code or ""), code or ""))
