"""Print sample answers for a demo applicant, as JSON: the stand-in for the data that vendor
software already holds, for trying ``examples/zairyu_client.py`` against ``make run``."""

from __future__ import annotations

import json

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zairyu.applications.disclosure import registry_answers
from zairyu.applications.samples import sample_answers
from zairyu.catalogue.formspec import form_for, role_field_id
from zairyu.core import clock
from zairyu.registry.models import Resident


class Command(BaseCommand):
    help = "Print sample answers (JSON) for the demo resident with this residence card number."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--card-number", required=True)
        parser.add_argument("--procedure", default="P3")
        parser.add_argument("--user-category", default="U1")

    def handle(self, *args, **options) -> None:
        if settings.PRODUCTION:
            raise CommandError("Sample answers are for demonstrations only.")
        resident = Resident.objects.filter(card_number=options["card_number"].strip().upper()).first()
        if resident is None:
            raise CommandError("No resident has this residence card number.")
        form = form_for(
            procedure=options["procedure"], status=resident.status, user_category=options["user_category"]
        )
        answers = sample_answers(
            form,
            today=clock.today(),
            overrides={
                **registry_answers(resident),
                role_field_id("identity.card_number"): resident.card_number,
            },
        )
        self.stdout.write(json.dumps(answers, ensure_ascii=False, indent=2, default=str))
