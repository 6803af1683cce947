"""The web steps: :func:`django_form_class` makes a Django form for one step of a form, its
fields labelled in the active language, and repeatable sections as formsets; the form's
``clean()`` is :func:`normalize_and_validate`. The widgets render in Python (no template per
input or option), with the same HTML as Django's templates."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.forms.utils import flatatt
from django.utils.functional import lazy
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from zairyu.catalogue.formspec.choices import choices_for
from zairyu.catalogue.formspec.loading import get_form_library
from zairyu.catalogue.formspec.messages import M_DJANGO_CHOICE, label_text, message, required_template
from zairyu.catalogue.formspec.specs import CODED_TYPES, FieldSpec, FormSpec
from zairyu.catalogue.formspec.validation import ValidationResult, normalize_and_validate
from zairyu.catalogue.loader import Localized
from zairyu.core import clock

_lazy_str = lazy(str, str)  # built once: lazy() makes a new proxy class on every call
_lazy_escaped = lazy(lambda text: escape(str(text)), str)


def _lazy_text(text: Localized | None) -> Any:
    """A :class:`Localized` as a lazy string, so Django renders it in the active language."""
    if text is None:
        return ""
    return _lazy_str(text)


def _render_choice_message(label: Localized) -> str:
    # Django formats this message with %(value)s itself: escape any "%" of the label.
    return str(M_DJANGO_CHOICE) % {"label": label_text(label).replace("%", "%%")}


_django_choice_message = lazy(_render_choice_message, str)


def _django_field(spec: FieldSpec) -> forms.Field:
    label = _lazy_text(spec.label)
    # Django renders help_text unescaped: escape the catalogue's text.
    help_text = _lazy_escaped(spec.help) if spec.help else ""
    common: dict[str, Any] = {
        "label": label,
        "help_text": help_text,
        "required": spec.statically_required,
        # Django's own wording ("This field is required.") names no field; ours does.
        "error_messages": {
            "required": message(required_template(spec), label=spec.label),
            "invalid_choice": _django_choice_message(spec.label),
        },
    }
    if spec.fixed_value is not None:
        name = get_form_library().catalogue.entries[spec.fixed_value].name
        return forms.ChoiceField(
            choices=[(spec.fixed_value, _lazy_text(name))],
            initial=spec.fixed_value,
            disabled=True,
            label=label,
            required=False,
        )
    attrs: dict[str, Any] = {}
    if spec.max_length:
        attrs["maxlength"] = spec.max_length
    if spec.type in CODED_TYPES:

        def options(spec: FieldSpec = spec) -> list[tuple[str, Any]]:
            return [(c.code, _lazy_text(c.label)) for c in choices_for(spec, today=clock.today())]

        if spec.type == "multi_choice":
            return forms.MultipleChoiceField(choices=options, widget=forms.CheckboxSelectMultiple, **common)

        def options_with_blank(
            options: Callable[[], list[tuple[str, Any]]] = options,
        ) -> list[tuple[str, Any]]:
            return [("", "---------"), *options()]

        return forms.ChoiceField(choices=options_with_blank, widget=FastSelect, **common)
    if spec.type == "boolean":
        if spec.must_be:
            return forms.BooleanField(**common)
        return forms.ChoiceField(
            choices=[("true", _("Yes")), ("false", _("No"))], widget=forms.RadioSelect, **common
        )
    widgets: dict[str, forms.Widget] = {
        "textarea": FastTextarea(attrs={"rows": 4, **attrs}),
        "date": FastDateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        "year_month": FastTextInput(attrs={"type": "month", "placeholder": "2020-03"}),
        "integer": FastTextInput(attrs={"inputmode": "numeric"}),
        "money_yen": FastTextInput(attrs={"inputmode": "numeric", "placeholder": "250,000"}),
        "email": FastEmailInput(attrs={"autocomplete": "email", **attrs}),
        "phone": FastTextInput(attrs={"type": "tel", "autocomplete": "tel"}),
        "postal_code": FastTextInput(attrs={"autocomplete": "postal-code", "inputmode": "numeric"}),
        "roman_name": FastTextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "maxlength": 100}
        ),
        "passport_number": FastTextInput(attrs={"autocapitalize": "characters", "spellcheck": "false"}),
        "card_number": FastTextInput(
            attrs={"autocapitalize": "characters", "spellcheck": "false", "placeholder": "AB12345678CD"}
        ),
        "corporate_number": FastTextInput(attrs={"inputmode": "numeric"}),
        "period_of_stay": FastTextInput(attrs={"placeholder": "5Y"}),
    }
    widget = widgets.get(spec.type, FastTextInput(attrs=attrs))
    return forms.CharField(widget=widget, strip=True, **common)


class FormSpecStepForm(forms.Form):
    """Base of the generated step forms. ``answers`` are those of the other steps (conditions
    may look at them); ``formsets`` hold the repeatable sections, bound to the same data with the
    section id as prefix. After ``is_valid()``, ``cleaned_data`` holds the normalised values and
    ``result`` the whole :class:`ValidationResult`."""

    spec: FormSpec
    step_id: str
    formset_classes: dict[str, type[forms.BaseFormSet]] = {}

    def __init__(
        self,
        data: Any = None,
        *args: Any,
        answers: Mapping[str, Any] | None = None,
        today: dt.date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, *args, **kwargs)
        self.other_answers = dict(answers or {})
        self.today = today or clock.today()
        self.formsets = {
            section_id: formset_class(data, prefix=section_id, initial=self.other_answers.get(section_id))
            for section_id, formset_class in self.formset_classes.items()
        }
        self.result: ValidationResult | None = None

    def is_valid(self) -> bool:
        valid = super().is_valid()  # runs clean(), which validates the formsets too
        return valid and all(formset.is_valid() for formset in self.formsets.values())

    def clean(self) -> dict[str, Any]:
        super().clean()
        answers = dict(self.other_answers)
        for name, field_ in self.fields.items():
            if not field_.disabled:
                answers[name] = self[name].value()
        for section_id, formset in self.formsets.items():
            formset.is_valid()
            answers[section_id] = [{name: row[name].value() for name in row.fields} for row in formset.forms]
        result = normalize_and_validate(self.spec, answers, step=self.step_id, today=self.today)
        row_fields = {f.id: f.row_section for f in self.spec.fields if f.row_section}
        for error in result.errors:
            formset = self.formsets.get(row_fields.get(error.field_id) or "")
            if error.row is not None and formset is not None and error.row <= len(formset.forms):
                row_form = formset.forms[error.row - 1]
                if not row_form.has_error(error.field_id):
                    row_form.add_error(error.field_id, str(error.message))
            elif error.field_id in self.fields:
                if not self.has_error(error.field_id):
                    self.add_error(error.field_id, str(error.message))
            else:
                self.add_error(None, str(error.message))
        self.result = result
        self.cleaned_data = dict(result.cleaned)
        return self.cleaned_data


class _FastInputMixin:
    """Render an <input> in Python with the same attributes Django's template would give."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]  # type: ignore[attr-defined]
        value_part = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            widget["type"],
            widget["name"],
            value_part,
            flatatt(widget["attrs"]),
        )


class FastTextInput(_FastInputMixin, forms.TextInput):
    pass


class FastDateInput(_FastInputMixin, forms.DateInput):
    pass


class FastEmailInput(_FastInputMixin, forms.EmailInput):
    pass


class FastTextarea(forms.Textarea):
    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        widget = self.get_context(name, value, attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            widget["name"],
            flatatt(widget["attrs"]),
            widget["value"] or "",
        )


class FastSelect(forms.Select):
    """A select rendered in Python: the same HTML as Django's template-rendered one, without a
    template per option (a country list has ~90), which made a form step several times slower."""

    def render(self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None) -> str:
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = "" if value is None else str(value)
        options = []
        for group_name, group_choices, _index in self.optgroups(name, [selected]):
            items = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (
                        option["value"],
                        mark_safe(" selected") if str(option["value"]) == selected else "",
                        option["label"],
                    )
                    for option in group_choices
                ),
            )
            options.append(
                format_html('<optgroup label="{}">{}</optgroup>', group_name, items) if group_name else items
            )
        # Every piece was built with format_html (escaped), so joining them stays safe.
        return format_html("<select{}>{}</select>", flatatt(final_attrs), mark_safe("".join(options)))  # noqa: S308


_FORM_CLASSES: dict[tuple[Any, ...], type[FormSpecStepForm]] = {}


def django_form_class(form: FormSpec, step: str) -> type[FormSpecStepForm]:
    """A Django form for one step: fields labelled in the active language, date inputs, selects
    for choices; ``required`` only where a field is required whatever the answers (conditional
    requirements come from :func:`normalize_and_validate` as form errors). Repeatable sections
    are formsets (``form.formsets[section_id]``)."""
    key = (*form.key, step)
    if key in _FORM_CLASSES:
        return _FORM_CLASSES[key]
    step_spec = form.step(step)
    attrs: dict[str, Any] = {}
    formset_classes: dict[str, type[forms.BaseFormSet]] = {}
    for section in step_spec.sections:
        if section.repeatable:
            row_fields = {}
            for spec in section.fields:
                row_field = _django_field(spec)
                row_field.required = False  # a blank extra row is allowed; rows are checked as a whole
                row_fields[spec.id] = row_field
            row_class = type(f"{section.id.title().replace('_', '')}RowForm", (forms.Form,), row_fields)
            formset_classes[section.id] = forms.formset_factory(
                row_class,
                extra=1,
                max_num=section.repeat_max,
                absolute_max=section.repeat_max,
                validate_max=True,
            )
        else:
            for spec in section.fields:
                attrs[spec.id] = _django_field(spec)
    name = (
        re.sub(r"[^0-9A-Za-z]", "_", f"{form.procedure}_{form.status}_{form.user_category}_{step}") + "Form"
    )
    attrs.update({"spec": form, "step_id": step, "formset_classes": formset_classes})
    form_class = type(name, (FormSpecStepForm,), attrs)
    _FORM_CLASSES[key] = form_class
    return form_class
