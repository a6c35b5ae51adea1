"""The Django app: templates tags and the management command live in it."""

from django.apps import AppConfig


class InterloperConfig(AppConfig):
    name = "interloper_django"
    verbose_name = "interloper"
