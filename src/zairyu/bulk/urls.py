from django.urls import path

from zairyu.bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.bulk_index, name="index"),
    path("template/", views.bulk_template, name="template"),
    path("upload/", views.bulk_upload, name="upload"),
    path("<uuid:public_id>/", views.bulk_import_detail, name="import"),
    path("<uuid:public_id>/progress.json", views.bulk_import_progress, name="progress"),
    path("<uuid:public_id>/annotated.<str:kind>", views.bulk_annotated, name="annotated"),
    path("<uuid:public_id>/delete-errors/", views.bulk_delete_errors, name="delete-errors"),
    path("<uuid:public_id>/attachments/", views.bulk_attachments, name="attachments"),
    path("<uuid:public_id>/submit/", views.bulk_submit_view, name="submit"),
]
