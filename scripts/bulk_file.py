#!/usr/bin/env python
"""Make a bulk file (CSV or Excel) from the demo registry: N students of the demo language school,
K of them with one deliberate error each, and optionally a ZIP of their photos and PDFs.

    .venv/bin/python scripts/bulk_file.py --rows 300 --errors 12 --out var/demo/students.xlsx \
        --zip var/demo/photos.zip

Run ``make run`` (or ``manage.py load_demo``) first: it creates the school and its students.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=300, help="number of applicants (default 300)")
    parser.add_argument("--errors", type=int, default=0, help="rows with a deliberate error (default 0)")
    parser.add_argument("--format", choices=["xlsx", "csv"], help="default: from the --out extension")
    parser.add_argument("--out", required=True, help="the file to write")
    parser.add_argument("--zip", help="also write a ZIP of the applicants' photos and passport copies")
    parser.add_argument("--school", help="corporate number of the school (default: the demo school)")
    parser.add_argument("--language", choices=["ja", "en"], default="ja", help="labels of coded values")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO / "src"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zairyu.config.settings")
    import django

    django.setup()
    from zairyu.bulk.columns import bulk_form
    from zairyu.bulk.demo import SCHOOL_NUMBER
    from zairyu.bulk.samples import attachments_zip, bulk_file, bulk_rows
    from zairyu.registry.models import Resident

    kind = args.format or ("csv" if args.out.lower().endswith(".csv") else "xlsx")
    students = list(
        Resident.objects.filter(
            affiliation__corporate_number=args.school or SCHOOL_NUMBER, status="student"
        ).order_by("card_number")[: args.rows]
    )
    if len(students) < args.rows:
        print(
            f"The school has {len(students)} students; {args.rows} asked for. Run `make run` or "
            "`manage.py load_demo` first, or ask for fewer rows.",
            file=sys.stderr,
        )
        if not students:
            return 1
    form = bulk_form(procedure="P3", status="student", user_category="U5")
    rows, injected = bulk_rows(form, students, errors=args.errors, language=args.language)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bulk_file(form, rows, kind=kind, language=args.language))
    print(f"{out}: {len(rows)} students ({kind}), {len(injected)} deliberate errors")
    for error in injected:
        print(f"  row {error.row}, {error.key}: {error.code}")
    if args.zip:
        archive = Path(args.zip)
        archive.parent.mkdir(parents=True, exist_ok=True)
        archive.write_bytes(attachments_zip([s.card_number for s in students]))
        print(f"{archive}: a photo and a passport copy for each of the {len(students)} students")
    return 0


if __name__ == "__main__":
    sys.exit(main())
