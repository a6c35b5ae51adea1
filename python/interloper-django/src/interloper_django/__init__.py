"""interloper-django: real users' browsers as the vantage point for interloper.

The middleware names the instance behind every response (``Server-Timing: inst;desc=NAME``),
the ``{% interloper_rum %}`` tag inlines a small script that, for a sample of page views,
reports the Resource Timing of the page's static files to a same-origin endpoint
(``interloper_django.views.beacon``), which validates, bounds and appends them as JSON lines
for ``interloper rum``. ``manage.py interloper lint`` runs ``interloper lint`` with the
project's settings. See docs/rum.md.
"""

__version__ = "0.1.0"
