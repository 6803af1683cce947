from django.urls import path

from zairyu.catalogue.views import public

app_name = "catalogue"

urlpatterns = [
    path("who-can-file/", public.who_can_file, name="who-can-file"),
]
