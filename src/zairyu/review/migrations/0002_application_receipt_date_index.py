"""An index of the applications table that the scorecard needs: the running month's online
applications are counted by receipt date. Kept here, with the query that needs it, rather than
in the applications app's models (the review app owns the scorecard)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0001_initial"),
        ("review", "0001_initial"),
    ]

    operations = [
        migrations.RunSQL(
            sql="CREATE INDEX IF NOT EXISTS review_application_receipt_date ON applications_application (receipt_date)",
            reverse_sql="DROP INDEX IF EXISTS review_application_receipt_date",
        )
    ]
