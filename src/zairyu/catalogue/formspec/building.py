"""Building the form that applies: :func:`form_for` picks, from the one structure, the steps,
sections and fields of a procedure (with add-ons), a status entry (which gives the input-screen
group) and a user category, with the context's conditions evaluated. Built once per process and
combination."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from zairyu.catalogue.formspec.conditions import ALWAYS, NEVER, UNSET, conjunction
from zairyu.catalogue.formspec.loading import FormSpecError, get_form_library
from zairyu.catalogue.formspec.specs import FieldSpec, FormLibrary, FormSpec, SectionSpec, StepSpec
from zairyu.catalogue.loader import StatusEntry


def organization_part_as_pdf(user_category: str, group: str | Any) -> bool:
    """Whether the organization's part (step 2-3) is attached as a PDF instead of entered:
    F-03, a self-applicant (U1) stops at step 2-2. False when the group has no such part."""
    return _organization_part_as_pdf(get_form_library(), user_category, getattr(group, "code", group))


def _organization_part_as_pdf(library: FormLibrary, user_category: str, code: str) -> bool:
    screen_group = library.catalogue.groups[code]
    if not screen_group.has_organization_part:
        return False
    context = {
        "user_category": user_category,
        "group": code,
        "organization_part": screen_group.organization_part,
    }
    return library.organization_part_as_pdf.evaluate(lambda _: UNSET, context)


def form_for(*, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...] = ()) -> FormSpec:
    """The form that applies: its steps, sections and fields, in order, with the context's
    conditions evaluated. Raises ``ValueError`` for codes the catalogue does not know or a
    combination that cannot be filed online (an add-on alone, an add-on with P1/P5, a status
    that is not online, U8)."""
    library = get_form_library()
    add_ons = tuple(sorted(set(add_ons)))
    key = (procedure, status, user_category, add_ons)
    if key not in library.forms:
        library.forms[key] = _build_form(library, procedure, status, user_category, add_ons)
    return library.forms[key]


def _filed_entry(
    library: FormLibrary, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...]
) -> StatusEntry:
    """The status entry of a combination that can be filed online; ``ValueError`` otherwise."""
    catalogue = library.catalogue
    main = catalogue.procedures.get(procedure)
    if main is None:
        raise ValueError(f"unknown procedure {procedure!r}")
    if main.add_on:
        raise ValueError(f"{procedure} is filed only together with one of {', '.join(main.add_on_to)}")
    entry = catalogue.entries.get(status)
    if entry is None:
        raise ValueError(f"unknown status entry {status!r}")
    if not entry.online or entry.group is None:
        raise ValueError(f"{status} cannot be filed online")
    category = catalogue.user_categories.get(user_category)
    if category is None:
        raise ValueError(f"unknown user category {user_category!r}")
    if not category.files_online:
        raise ValueError(f"{user_category} cannot file online")
    for add_on in add_ons:
        extra = catalogue.procedures.get(add_on)
        if extra is None or not extra.add_on:
            raise ValueError(f"{add_on!r} is not an add-on procedure")
        if procedure not in extra.add_on_to:
            raise ValueError(
                f"{add_on} can be filed only with {', '.join(extra.add_on_to)}, not with {procedure}"
            )
    return entry


def _build_form(
    library: FormLibrary, procedure: str, status: str, user_category: str, add_ons: tuple[str, ...]
) -> FormSpec:
    entry = _filed_entry(library, procedure, status, user_category, add_ons)
    group = entry.group
    assert group is not None  # _filed_entry refuses an entry without one
    as_pdf = _organization_part_as_pdf(library, user_category, group.code)
    context = {
        "procedure": procedure,
        "status": entry.key,
        "group": group.code,
        "user_category": user_category,
        "add_ons": add_ons,
        "organization_part": group.organization_part,
        "status_family": entry.family,
        "organization_part_as_pdf": as_pdf,
    }
    steps: list[StepSpec] = []
    seen: dict[str, str] = {}
    for step in library.steps:
        if step.kind == "organization" and (not group.has_organization_part or as_pdf):
            continue
        sections: list[SectionSpec] = []
        for section in step.sections:
            resolved = _resolve_section(section, context, step.id)
            if resolved is None:
                continue
            for f in resolved.fields:
                if f.id in seen:
                    raise FormSpecError(
                        f"structure.yaml: field '{f.id}' is in both section '{seen[f.id]}' and '{section.id}' "
                        f"of the form {procedure}/{status}/{user_category}"
                    )
                seen[f.id] = section.id
            sections.append(resolved)
        if sections:
            steps.append(replace(step, sections=tuple(sections)))
    return FormSpec(
        procedure=procedure,
        status=entry.key,
        group=group.code,
        organization_part=group.organization_part,
        user_category=user_category,
        add_ons=add_ons,
        steps=tuple(steps),
        organization_part_as_pdf=as_pdf,
    )


def _resolve_section(section: SectionSpec, context: Mapping[str, Any], step: str) -> SectionSpec | None:
    """The section in the form of ``context``: its applying fields, resolved; ``None`` when it
    does not apply, is never shown, or has no field left."""
    if section.applies.resolve(context) != ALWAYS:
        return None
    show_when = section.show_when.resolve(context)
    if show_when == NEVER:
        return None
    resolved = tuple(
        _resolve_field(f, context, step, section)
        for f in section.fields
        if f.applies.resolve(context) == ALWAYS
    )
    if show_when != ALWAYS and not section.repeatable:
        # A field of a hidden section is hidden: say so on the field, so that whoever
        # looks at one field (an HTML "required", a schema property) sees it.
        resolved = tuple(replace(f, show_when=conjunction(show_when, f.show_when)) for f in resolved)
    resolved = tuple(f for f in resolved if f.show_when != NEVER)
    if not resolved:
        return None
    return replace(section, fields=resolved, applies=ALWAYS, show_when=show_when)


def _resolve_field(spec: FieldSpec, context: Mapping[str, Any], step: str, section: SectionSpec) -> FieldSpec:
    fixed = None
    if spec.value_from and spec.value_from_when.resolve(context) == ALWAYS:
        fixed = context[spec.value_from]
    return replace(
        spec,
        applies=ALWAYS,
        required=spec.required.resolve(context),
        show_when=spec.show_when.resolve(context),
        limits=tuple(
            replace(limit, when=limit.when.resolve(context))
            for limit in spec.limits
            if limit.when.resolve(context) != NEVER
        ),
        value_from=None,
        value_from_when=ALWAYS,
        fixed_value=fixed,
        step=step,
        section=section.id,
        row_section=section.id if section.repeatable else None,
    )
