"""``path("", include("interloper_django.urls"))`` adds the beacon endpoint."""

from django.urls import path

from . import views

urlpatterns = [
    path(".well-known/interloper/rum", views.beacon, name="interloper-rum-beacon"),
]
