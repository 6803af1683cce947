"""``make run``: serve the development server with the in-process task scheduler."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from zairyu.core.scheduler import start_in_process_scheduler
from zairyu.documents.scanning import scanner_status_line
from zairyu.jpki.bridge import bridge_command


class Command(BaseCommand):
    help = "Serve Zairyu on 127.0.0.1 with periodic tasks run in-process (embedded default)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--noreload", action="store_true")

    def handle(self, *args, **options):
        port = str(options["port"])
        self.use_port_for_site_url(port)
        if os.environ.get("RUN_MAIN") != "true":  # once, not again in the reloader's child
            self.stdout.write(scanner_status_line())
            self.stdout.write(f"Site address (links in e-mails): {settings.SITE_URL}")
            self.stdout.write(
                f"The card program for a demo card, in another terminal:\n  {bridge_command(settings.SITE_URL)}"
            )
        if settings.CELERY_TASK_ALWAYS_EAGER and (
            options["noreload"] or os.environ.get("RUN_MAIN") == "true"
        ):
            start_in_process_scheduler()
        call_command(
            "runserver",
            f"{options['host']}:{port}",
            use_reloader=not options["noreload"],
        )

    @staticmethod
    def use_port_for_site_url(port: str) -> None:
        """Links in e-mails point to this server: SITE_URL follows --port unless ZAIRYU_SITE_URL is set.

        PORT goes into the environment too, so the reloader's child (which reads the settings
        afresh) and a card bridge started from this shell agree.
        """
        os.environ["PORT"] = port
        if not os.environ.get("ZAIRYU_SITE_URL"):
            settings.SITE_URL = f"http://127.0.0.1:{port}"
