from django.conf import settings
from django.shortcuts import render
from django.urls import include, path
from django.views.generic import TemplateView


def story(request):
    """The founding story's page: each static file from its own host (INTERLOPER_TEST_SHARDS)."""
    shards = list(settings.INTERLOPER_RUM_STATIC_URLS) or [settings.STATIC_URL]
    names = ["css/site.css", "story/small.css", "story/medium.js", "story/large.js",
             "story/pixel.gif", "story/icon.svg"]
    urls = {n.split("/")[1].replace(".", "_"): shards[i % len(shards)] + n for i, n in enumerate(names)}
    return render(request, "story.html", {"urls": urls})


urlpatterns = [
    path("", TemplateView.as_view(template_name="page.html")),
    path("story/", story),
    path("", include("interloper_django.urls")),
]
