"""The catalogue of application forms: what the applicant (and the organization) is asked, for
every procedure, status of residence and user category.

One declarative source (``data/forms/``: ``fields.yaml``, ``structure.yaml``, ``choices.yaml``)
from which everything else is derived: the web steps (:func:`django_form_class`), the
confirmation page and printed form (walk :class:`FormSpec`), the bulk template
(:func:`flat_columns`), the API schema (:func:`json_schema`) and the one validator
(:func:`normalize_and_validate`). Nothing here is typed twice.

Modules
    ``specs`` (the dataclasses, the field types, the roles), ``conditions`` (the condition
    language), ``normalizers`` (text normalisers), ``loading`` (reading and checking the YAML,
    :class:`FormSpecError`, :func:`get_form_library`, :func:`role_field_id`), ``choices`` (a
    field's choices and how a typed value finds one), ``building`` (:func:`form_for`),
    ``messages``, ``values`` (one answer: canonical value and bounds), ``validation``
    (:func:`normalize_and_validate`), ``django_forms``, ``json_schema``, ``bulk_columns``. This
    package re-exports what other apps use; import from ``zairyu.catalogue.formspec``.

Forms
    :func:`form_for` picks, from the one structure, the steps, sections and fields that apply to a
    procedure (P1–P5, with the add-ons P6/P7 for P2–P4), a status entry (which gives the
    input-screen group), a user category and the add-ons. Steps are ``2-1`` and ``2-2`` (the
    applicant's part), ``2-3`` (the organization's part, which differs by screen group; a
    self-applicant U1 attaches it as a PDF instead, see :func:`organization_part_as_pdf`) and
    ``confirm`` (declarations). A field that does not apply is absent; a field hidden by the
    answers (``show_when``) is neither shown nor required, and a value sent for it is dropped.
    There are no dummy values.

Roles
    A field the code depends on has a ``role`` (``identity.card_number``, ``applicant.email``,
    ``stay.expires_on``…; the list is :data:`ROLES`). Code asks :func:`role_field_id` or
    :meth:`FormSpec.field_for_role` for it instead of naming a field id.

Conditions
    ``required`` is ``always``, ``never`` or ``{when: <condition>}``; ``applies`` (is the field or
    section in the form at all) and ``show_when`` (is it shown) are conditions. A condition is::

        {answer: <field id>, <test>}     the (normalised) answer to another field
        {context: <variable>, <test>}    procedure, group, status, user_category, add_ons,
                                         organization_part, status_family,
                                         organization_part_as_pdf
        {all: [<condition>, ...]}        and
        {any: [<condition>, ...]}        or
        {not: <condition>}

    and ``<test>`` is exactly one of ``equals: v``, ``not_equals: v``, ``in: [v, ...]``,
    ``not_in: [v, ...]``, ``contains: v`` (add_ons, multi_choice answers) or ``is_set: true|false``.
    An answer that is blank, invalid or hidden is *unset*: ``equals``, ``in`` and ``contains`` are
    false for it, ``not_equals`` and ``not_in`` true. ``status`` matches an entry key
    (``highly_skilled_professional/1b``) or the whole status (``highly_skilled_professional``).
    ``status_family`` is true for the family sub-categories of Designated Activities;
    ``organization_part`` is the group's (employer, school, host, supporter,
    supervising_organization, none). ``applies`` may use only the context. Inside a repeatable
    section an answer is looked up in the same row first, then in the rest of the form.
    :func:`form_for` evaluates the context, so the conditions of a :class:`FormSpec` speak of
    answers only.

Values
    ``normalize_and_validate`` returns JSON-ready canonical values: dates ``"YYYY-MM-DD"``, months
    ``"YYYY-MM"``, integers and yen amounts ``int``, booleans ``bool``, multiple choices a list of
    codes, everything else ``str``; repeatable sections a list of row dicts. Row numbers in errors
    count from 1, in the order the rows were sent (blank rows are skipped, not renumbered).
"""

from zairyu.catalogue.formspec.building import form_for, organization_part_as_pdf
from zairyu.catalogue.formspec.bulk_columns import Column, flat_columns
from zairyu.catalogue.formspec.choices import choices_for
from zairyu.catalogue.formspec.conditions import ALWAYS, CONTEXT_VARIABLES, NEVER, TESTS, UNSET, Condition
from zairyu.catalogue.formspec.django_forms import (
    FastDateInput,
    FastEmailInput,
    FastSelect,
    FastTextarea,
    FastTextInput,
    FormSpecStepForm,
    django_form_class,
)
from zairyu.catalogue.formspec.json_schema import json_schema
from zairyu.catalogue.formspec.loading import (
    FIELD_KEYS,
    FORMS_DIR,
    SECTION_KEYS,
    STEP_KEYS,
    FormSpecError,
    get_form_library,
    load_form_library,
    role_field_id,
)
from zairyu.catalogue.formspec.normalizers import DEFAULT_NORMALIZERS, NORMALIZERS
from zairyu.catalogue.formspec.specs import (
    CHOICE_SOURCES,
    FIELD_TYPES,
    ROLES,
    STEP_KINDS,
    Choice,
    FieldSpec,
    FormLibrary,
    FormSpec,
    Limit,
    SectionSpec,
    StepSpec,
)
from zairyu.catalogue.formspec.validation import (
    FieldChange,
    FieldError,
    ValidationResult,
    normalize_and_validate,
)

__all__ = [
    "ALWAYS",
    "CHOICE_SOURCES",
    "CONTEXT_VARIABLES",
    "DEFAULT_NORMALIZERS",
    "FIELD_KEYS",
    "FIELD_TYPES",
    "FORMS_DIR",
    "NEVER",
    "NORMALIZERS",
    "ROLES",
    "SECTION_KEYS",
    "STEP_KEYS",
    "STEP_KINDS",
    "TESTS",
    "UNSET",
    "Choice",
    "Column",
    "Condition",
    "FastDateInput",
    "FastEmailInput",
    "FastSelect",
    "FastTextInput",
    "FastTextarea",
    "FieldChange",
    "FieldError",
    "FieldSpec",
    "FormLibrary",
    "FormSpec",
    "FormSpecError",
    "FormSpecStepForm",
    "Limit",
    "SectionSpec",
    "StepSpec",
    "ValidationResult",
    "choices_for",
    "django_form_class",
    "flat_columns",
    "form_for",
    "get_form_library",
    "json_schema",
    "load_form_library",
    "normalize_and_validate",
    "organization_part_as_pdf",
    "role_field_id",
]
