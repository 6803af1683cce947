"""The officers' portal: /staff/review/ (officers only; objects of the officer's office only)."""

from django.urls import path

from zairyu.review.views import officer as views

app_name = "review"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("applications/<int:application_id>/", views.application, name="application"),
    path("applications/<int:application_id>/take-up/", views.take_up, name="take-up"),
    path("applications/<int:application_id>/assign/", views.assign, name="assign"),
    path(
        "applications/<int:application_id>/request-documents/",
        views.request_documents,
        name="request-documents",
    ),
    path("applications/<int:application_id>/decide/", views.decide, name="decide"),
    path("applications/<int:application_id>/postal-items/", views.postal_items, name="postal-items"),
    path("applications/<int:application_id>/remind/", views.remind, name="remind"),
    path("applications/<int:application_id>/issue-post/", views.issue_post, name="issue-post"),
    path("applications/<int:application_id>/issue-window/", views.issue_window, name="issue-window"),
    path("applications/<int:application_id>/put-back/", views.put_back, name="put-back"),
    path("applications/<int:application_id>/form.pdf", views.form_pdf, name="form-pdf"),
    path("applications/<int:application_id>/issued.pdf", views.issued_document, name="issued-document"),
    path(
        "applications/<int:application_id>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
    path("requests/<int:request_id>/accept/", views.request_accept, name="request-accept"),
    path("requests/<int:request_id>/decline/", views.request_decline, name="request-decline"),
    path("scorecard/", views.scorecard, name="scorecard"),
    path("scorecard/window-counts/", views.window_count, name="window-count"),
    path("scorecard/window-counts/import/", views.window_count_import, name="window-count-import"),
]
