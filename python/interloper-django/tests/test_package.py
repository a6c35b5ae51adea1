"""The package against real Django: headers, the inline script, the endpoint's bounds."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.template import Context, Template
from django.test import RequestFactory, SimpleTestCase, override_settings

from interloper_django import views

REPORT = {
    "schema": "interloper.rum.report/v1",
    "page": "/admin/login/?next=/secret",
    "instance": "app2",
    "sample": 0.5,
    "files": [
        {
            "url": "https://app.test/static/css/site.css",
            "instance": "app4",
            "protocol": "h2",
            "queued": 812.5,
            "dns": 0,
            "connect": 1.25,
            "tls": 2043.21,
            "first_byte": 4,
            "download": 0.5,
            "duration": 2051,
            "transfer": 4521,
            "encoded": 4221,
            "decoded": 17740,
            "status": 200,
            "cookie": "sessionid=stolen",
        },
        {"url": "https://app.test/static/app.js", "failed": "error", "tls": -5, "dns": "x"},
        {"url": "javascript:alert(1)"},
    ],
}


def lines():
    path = Path(settings.INTERLOPER_RUM_LOG)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


class Headers(SimpleTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        call_command("collectstatic", interactive=False, verbosity=0)

    def test_pages_name_their_instance(self):
        response = self.client.get("/")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Server-Timing"], 'inst;desc="app-test"')
        self.assertNotIn("Timing-Allow-Origin", response)

    def test_whitenoise_static_files_name_their_instance_too(self):
        # WhiteNoise answers before the view layer: the middleware above it still sees it.
        response = self.client.get("/static/css/site.css")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response["Server-Timing"], 'inst;desc="app-test"')

    @override_settings(
        INTERLOPER_TIMING_ALLOW_ORIGIN=["https://www.example.com"],
        INTERLOPER_INSTANCE='app4"\r\nSet-Cookie: x',
    )
    def test_other_origins_may_read_timings_and_names_cannot_inject(self):
        response = self.client.get("/static/css/site.css")
        self.assertEqual(response["Timing-Allow-Origin"], "https://www.example.com")
        self.assertEqual(response["Server-Timing"], 'inst;desc="app4---Set-Cookie:-x"')


class Script(SimpleTestCase):
    def render(self, text, **context):
        request = RequestFactory().get("/", HTTP_HOST="app.test")
        return Template("{% load interloper %}" + text).render(Context({"request": request, **context}))

    def test_the_script_is_inline_with_its_configuration(self):
        html = self.render("{% interloper_rum %}")
        self.assertTrue(html.startswith("<script>") and html.endswith("</script>"), html)
        self.assertIn('"endpoint":"/.well-known/interloper/rum"', html)
        self.assertIn('"prefixes":["http://app.test/static/"]', html)
        self.assertIn("sendBeacon", html)
        self.assertNotIn("src=", html.split(">")[0])

    def test_a_nonce_is_put_on_the_element(self):
        html = self.render("{% interloper_rum nonce=n %}", n='abc"def')
        self.assertTrue(html.startswith('<script nonce="abc&quot;def">'), html)

    @override_settings(INTERLOPER_RUM_LOG=None)
    def test_no_log_no_script(self):
        self.assertEqual(self.render("{% interloper_rum %}"), "")


class Endpoint(SimpleTestCase):
    def setUp(self):
        Path(settings.INTERLOPER_RUM_LOG).unlink(missing_ok=True)
        views._windows.clear()

    def post(self, body, **extra):
        if not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        return self.client.post(
            "/.well-known/interloper/rum",
            body,
            content_type="text/plain",
            REMOTE_ADDR=extra.pop("addr", "203.0.113.77"),
            **extra,
        )

    def test_a_report_becomes_one_bounded_line(self):
        self.client.cookies["sessionid"] = "secret-session"
        response = self.post(REPORT, HTTP_USER_AGENT="Mozilla/5.0 test")
        self.assertEqual(response.status_code, 204)
        self.assertFalse(response.cookies)
        [line] = lines()
        self.assertEqual(line["schema"], "interloper.rum.beacon/v1")
        self.assertEqual(line["client"], "203.0.113.0/24")
        self.assertEqual(line["page"], "/admin/login/")
        self.assertEqual(line["instance"], "app2")
        self.assertEqual(len(line["files"]), 2)
        first, second = line["files"]
        self.assertEqual(first["tls"], 2043.2)
        self.assertEqual(first["queued"], 812.5)
        self.assertNotIn("cookie", first)
        self.assertEqual(second, {"url": "https://app.test/static/app.js", "failed": "error"})
        text = Path(settings.INTERLOPER_RUM_LOG).read_text()
        self.assertNotIn("secret-session", text)
        self.assertNotIn("203.0.113.77", text)
        self.assertNotIn("Mozilla", text)

    def test_ipv6_clients_are_kept_as_their_48(self):
        self.assertEqual(self.post(REPORT, addr="2001:db8:1:2::9").status_code, 204)
        self.assertEqual(lines()[0]["client"], "2001:db8:1::/48")

    def test_what_is_not_a_report_is_refused(self):
        self.assertEqual(self.client.get("/.well-known/interloper/rum").status_code, 405)
        self.assertEqual(self.post(b"{not json").status_code, 400)
        self.assertEqual(self.post({"schema": "other"}).status_code, 400)
        self.assertEqual(self.post(b"\xff\xfe").status_code, 400)
        self.assertEqual(self.post(b"[" * 100000).status_code, 413)
        self.assertEqual(self.post(dict(REPORT, files=[REPORT["files"][0]] * 201)).status_code, 400)
        self.assertEqual(self.post(dict(REPORT, files=[{"url": "data:x"}])).status_code, 400)
        self.assertEqual(lines(), [])

    def test_deep_nesting_is_refused_not_a_crash(self):
        self.assertEqual(self.post(b"[" * 60000).status_code, 400)

    @override_settings(INTERLOPER_RUM_RATE=(3, 60))
    def test_a_network_is_rate_limited(self):
        codes = [self.post(REPORT, addr="198.51.100.%d" % i).status_code for i in range(5)]
        self.assertEqual(codes, [204, 204, 204, 429, 429])
        self.assertEqual(self.post(REPORT, addr="192.0.2.1").status_code, 204)
        self.assertEqual(len(lines()), 4)

    @override_settings(INTERLOPER_RUM_LOG=None)
    def test_no_log_no_endpoint(self):
        self.assertEqual(self.post(REPORT).status_code, 404)

