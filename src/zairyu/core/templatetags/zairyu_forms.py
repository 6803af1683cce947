from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def field_error(field, error) -> str:
    """An error for the summary at the top of a form, naming its field once: messages of the form
    catalogue already start with the field's label; Django's own do not."""
    label, text = str(field.label or ""), str(error)
    if not label or label in text:
        return text
    return _("%(label)s: %(error)s") % {"label": label, "error": text}
