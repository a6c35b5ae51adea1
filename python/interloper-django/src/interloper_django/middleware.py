"""Names the instance behind every response: ``Server-Timing: inst;desc=NAME``.

Put it first in MIDDLEWARE (above WhiteNoise): WhiteNoise answers static files itself without
calling the middleware below it, and this one must see those answers too. With
INTERLOPER_TIMING_ALLOW_ORIGIN set, responses also carry ``Timing-Allow-Origin`` so pages on
another origin may read their timings.
"""

from . import conf


class ServerTimingMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        entry = 'inst;desc="%s"' % conf.instance_name()
        existing = response.get("Server-Timing")
        response["Server-Timing"] = "%s, %s" % (existing, entry) if existing else entry
        origin = conf.timing_allow_origin()
        if origin and "Timing-Allow-Origin" not in response:
            response["Timing-Allow-Origin"] = origin
        return response
