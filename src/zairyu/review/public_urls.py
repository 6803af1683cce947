"""Public pages (/public/): e-COE verification and the scorecard; and the filer's e-COE copy and
online fee payment (signed in, their own applications only)."""

from django.urls import path

from zairyu.review.views import applicant, public

app_name = "public_review"

urlpatterns = [
    path("ecoe/", public.ecoe_lookup, name="ecoe-lookup"),
    path("ecoe/download/<str:token>/", public.ecoe_download, name="ecoe-download"),
    path("ecoe/<str:code>/", public.ecoe_record, name="ecoe"),
    path("scorecard/", public.scorecard, name="scorecard"),
    path("applications/<uuid:public_id>/pay/", applicant.pay, name="pay"),
    path("applications/<uuid:public_id>/ecoe.pdf", applicant.ecoe_pdf, name="ecoe-pdf"),
]
