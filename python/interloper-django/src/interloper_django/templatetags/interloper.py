"""``{% interloper_rum %}``: the beacon script, inlined (no third-party JavaScript).

Under a Content-Security-Policy with nonces, pass the nonce — ``{% interloper_rum
nonce=request.csp_nonce %}`` — or let the tag find ``request.csp_nonce`` (django-csp) itself.
The script's text is fixed (its configuration is a JSON argument at its end), so a hash-based
policy can list it too.
"""

import json
from importlib import resources

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import conf

register = template.Library()

_SCRIPT = None


def _script():
    global _SCRIPT
    if _SCRIPT is None:
        _SCRIPT = resources.files("interloper_django").joinpath("rum.js").read_text("utf-8").strip()
    return _SCRIPT


def _config(request):
    prefix = static("")
    if request is not None and prefix.startswith("/"):
        prefix = request.build_absolute_uri(prefix)
    extra = [str(p) for p in getattr(settings, "INTERLOPER_RUM_STATIC_URLS", ())]
    return {
        "sample": conf.rum_sample(),
        "prefixes": [prefix] + extra,
        "endpoint": reverse("interloper-rum-beacon"),
        "max": conf.MAX_FILES,
        "bytes": conf.MAX_BODY,
        "delay": int(getattr(settings, "INTERLOPER_RUM_DELAY_MS", 1000)),
    }


@register.simple_tag(takes_context=True)
def interloper_rum(context, nonce=None):
    """The inline script; nothing when the endpoint is off (no INTERLOPER_RUM_LOG)."""
    if not conf.rum_log():
        return ""
    request = context.get("request")
    if nonce is None and request is not None:
        nonce = getattr(request, "csp_nonce", None)
    # `</` cannot occur in the JSON: it would end the script element early.
    config = json.dumps(_config(request), separators=(",", ":")).replace("</", "<\\/")
    code = mark_safe("%s(%s);" % (_script(), config))
    if nonce:
        return format_html('<script nonce="{}">{}</script>', str(nonce), code)
    return format_html("<script>{}</script>", code)
