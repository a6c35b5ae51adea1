"""A minimal project for the package's tests (real Django, WhiteNoise when installed)."""

import os
import tempfile
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
SECRET_KEY = "tests-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = ["django.contrib.staticfiles", "interloper_django"]
MIDDLEWARE = [
    "interloper_django.middleware.ServerTimingMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
INSTALLED_APPS.append("django.contrib.sessions")
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
# The founding-story test (crates/cli/tests/rum_e2e.rs) serves the static files from nginx
# instances behind a load balancer on another origin, with files it generates.
STATIC_URL = os.environ.get("INTERLOPER_TEST_STATIC_URL", "/static/")
STATICFILES_DIRS = [BASE_DIR / "static"] + [
    p for p in [os.environ.get("INTERLOPER_TEST_EXTRA_STATIC")] if p
]
STATIC_ROOT = os.environ.get("INTERLOPER_TEST_STATIC_ROOT") or tempfile.mkdtemp(prefix="il-static-")
INTERLOPER_INSTANCE = os.environ.get("INTERLOPER_INSTANCE", "app-test")
INTERLOPER_RUM_LOG = os.environ.get("INTERLOPER_RUM_LOG") or str(
    Path(tempfile.mkdtemp(prefix="il-rum-")) / "beacons.jsonl"
)
INTERLOPER_RUM_SAMPLE = float(os.environ.get("INTERLOPER_RUM_SAMPLE", "1"))
INTERLOPER_RUM_RATE = (100000, 60)
INTERLOPER_BINARY = os.environ.get("INTERLOPER_BINARY")
# The founding-story test's static files come from several hosts (sharding), one file each.
INTERLOPER_RUM_STATIC_URLS = [u for u in os.environ.get("INTERLOPER_TEST_SHARDS", "").split() if u]
INTERLOPER_RUM_DELAY_MS = int(os.environ.get("INTERLOPER_RUM_DELAY_MS", "1000"))
USE_TZ = True
