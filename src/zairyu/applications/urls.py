from django.urls import path

from zairyu.applications.views import after, pdfs
from zairyu.applications.views import applicant as views

app_name = "applications"

urlpatterns = [
    path("", views.application_list, name="list"),
    path("new/", views.application_new, name="new"),
    path("<uuid:public_id>/", views.application_detail, name="detail"),
    path("<uuid:public_id>/step/<str:step>/", views.application_step, name="step"),
    path("<uuid:public_id>/documents/", views.application_documents, name="documents"),
    path("<uuid:public_id>/documents/<int:attachment_id>/", views.application_document, name="document"),
    path("<uuid:public_id>/documents/<int:attachment_id>/remove/", views.application_detach, name="detach"),
    path("<uuid:public_id>/receipt/", views.application_receipt, name="receipt"),
    path("<uuid:public_id>/confirm/", views.application_confirm, name="confirm"),
    path("<uuid:public_id>/submit/", views.application_submit, name="submit"),
    path("<uuid:public_id>/manage/", after.application_manage, name="manage"),
    path("<uuid:public_id>/application.pdf", pdfs.application_form_pdf_view, name="form-pdf"),
    path("<uuid:public_id>/proof.pdf", pdfs.pending_proof_pdf_view, name="proof-pdf"),
]
