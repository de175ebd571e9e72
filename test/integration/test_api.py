"""End-to-end tests of gobid's management API: the real binary on a loopback port, over HTTP.

    GOBID=build/actors/gobid GOBI_IT_BACKEND=sqlite python3 -m unittest -v test_api
    GOBID=... GOBI_IT_BACKEND=postgresql GOBI_TEST_PG_URL=postgresql://... python3 -m unittest -v test_api

Each class shares one gobid (and one fresh database); classes that need other flags (heartbeat
timeout, body limit) or a restart start their own. Waits poll an observable condition with a
deadline.
"""

import base64
import calendar
import hashlib
import hmac
import http.client
import itertools
import json
import os
import re
import secrets
import socket
import threading
import time
import unittest
import urllib.parse

from gobid_harness import (LOOPBACK, Database, Gobid, HarnessError, parse_raw_response,
                            wait_until)

BACKEND = os.environ.get("GOBI_IT_BACKEND", "sqlite")

ISO_8601 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def setUpModule():
    if BACKEND not in ("sqlite", "postgresql"):
        raise RuntimeError(f"GOBI_IT_BACKEND must be sqlite or postgresql, not {BACKEND!r}")
    if BACKEND == "postgresql" and not os.environ.get("GOBI_TEST_PG_URL"):
        if os.environ.get("CI") == "true":
            raise RuntimeError("CI=true: the postgresql integration tests need GOBI_TEST_PG_URL "
                               "(scripts/test starts a cluster and exports it)")
        raise unittest.SkipTest("GOBI_TEST_PG_URL is not set (scripts/test sets it)")


_serial = itertools.count(1)


def unique(prefix):
    return f"{prefix}-{next(_serial)}-{secrets.token_hex(3)}"


SEED_AGENT = {
    "name": "Sales Assistant",
    "description": "Books demos with inbound leads",
    "systemPrompt": "You are Alex, a friendly SDR. Qualify the lead and book a demo.",
    "personality": "warm, concise",
    "greetingMessage": "Hi, this is Alex from Ytel. Do you have a minute?",
    "llmProvider": "openai",
    "llmModel": "gpt-4",
    "temperature": 0.4,
    "voiceProvider": "openai",
    "voiceId": "nova",
    "sttProvider": "deepgram",
    "sttLanguage": "en-US",
    "maxConcurrentCalls": 7,
    "metadata": {
        "transferNumber": "(415) 555-2671",
        "fallbackNumber": "+1 212 555 0199",
        "businessHours": {"timezone": "America/New_York",
                          "monday": {"start": "09:00", "end": "17:00"}},
        "outboundConfig": {"callerId": "+14155550100", "maxRetries": 3, "voicemail": False},
    },
}


class Account:
    def __init__(self, token, user, email, password):
        self.token = token
        self.user = user
        self.email = email
        self.password = password
        self.tenant = user["tenantId"]


class GobidCase(unittest.TestCase):
    """A test class with its own gobid (started once for the class, stopped cleanly after)."""

    gobid_args = ()
    #: Patterns of error lines gobid may log in this class (races it provokes on purpose);
    #: any other error or critical line (a 5xx answer, a failed job) fails the class.
    allowed_log_errors = ()
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.g = Gobid(Database.create(BACKEND), cls.gobid_args)
        cls.addClassCleanup(cls.g.close)  # asserts exit status 0 after SIGTERM
        cls.addClassCleanup(cls.check_log)  # runs first (cleanups run last-in first-out)
        cls.g.start()

    @classmethod
    def check_log(cls):
        unexpected = [line for line in cls.g.logged_errors()
                      if not any(re.search(p, line) for p in cls.allowed_log_errors)]
        if unexpected:
            raise AssertionError("gobid logged errors:\n" + "\n".join(unexpected[:20]))

    # requests ---------------------------------------------------------------------------------

    def api(self, method, path, body=None, token=None, **kw):
        return self.g.api(method, path, body=body, token=token, **kw)

    def ok(self, method, path, body=None, token=None, status=200, **kw):
        """A request that must answer `status`; returns the parsed JSON."""
        r = self.api(method, path, body, token, **kw)
        self.assertEqual(r.status, status, f"{method} {path}: {r!r}")
        return r.json

    def register(self, tenant_name=None, password="correct horse 1"):
        email = unique("user") + "@example.com"
        body = {"email": email, "password": password, "name": "Test User",
                "tenantName": tenant_name or unique("Tenant")}
        r = self.api("POST", "/auth/register", body)
        self.assertEqual(r.status, 201, repr(r))
        return Account(r.json["token"], r.json["user"], email, password)

    def create_agent(self, acct, **fields):
        body = {"name": unique("agent"), "systemPrompt": "You are a test agent."}
        body.update(fields)
        return self.ok("POST", "/agents", body, acct.token, status=201)

    def deploy(self, acct, agent_id):
        a = self.ok("POST", f"/agents/{agent_id}/deploy", token=acct.token)
        self.assertEqual(a["status"], "ACTIVE")
        return a

    def active_agent(self, acct, **fields):
        a = self.create_agent(acct, **fields)
        return self.deploy(acct, a["id"])

    def create_list(self, acct, csv=None, **fields):
        body = {"name": unique("list")}
        body.update(fields)
        lst = self.ok("POST", "/lead-lists", body, acct.token, status=201)
        if csv is not None:
            self.upload(acct, lst["id"], csv)
        return lst

    def upload(self, acct, list_id, csv):
        return self.ok("POST", f"/lead-lists/{list_id}/upload", {"content": csv}, acct.token)

    def all_leads(self, acct, list_id):
        page = self.ok("GET", f"/lead-lists/{list_id}/leads?limit=1000", token=acct.token)
        return page["items"]

    # assertions -------------------------------------------------------------------------------

    def assertError(self, r, status, code=None, field=None, mentions=()):
        """An error answer: the status, a JSON body {"error": {"code", "message"}}, the code,
        and a message (or field) that names what was wrong."""
        self.assertEqual(r.status, status, repr(r))
        self.assertTrue(r.headers.get("Content-Type", "").startswith("application/json"),
                        f"error Content-Type: {r.headers.get('Content-Type')}")
        err = r.error
        self.assertIsNotNone(err, f"no {{'error': {{...}}}} body: {r!r}")
        self.assertIsInstance(err.get("code"), str, repr(r))
        self.assertIsInstance(err.get("message"), str, repr(r))
        self.assertTrue(err["message"], repr(r))
        if code is not None:
            self.assertEqual(err["code"], code, repr(r))
        if field is not None:
            self.assertTrue(field in err["message"] or err.get("field") == field,
                            f"the error does not name {field!r}: {r!r}")
        for m in mentions:
            self.assertIn(m, err["message"], repr(r))
        return err

    def assertList(self, body, total=None):
        """A list answer: {"items": [...], "total": N}."""
        self.assertIsInstance(body, dict)
        self.assertEqual(set(body), {"items", "total"}, body)
        self.assertIsInstance(body["items"], list)
        self.assertIsInstance(body["total"], int)
        if total is not None:
            self.assertEqual(body["total"], total, body)
        return body["items"]

    def assertListAgrees(self, acct, path):
        """Every item of the list at `path` equals GET path/:id: lists are never stale."""
        items = self.ok("GET", path, token=acct.token)["items"]
        for item in items:
            self.assertEqual(item, self.ok("GET", f"{path}/{item['id']}", token=acct.token), path)
        return items

    def assertIso(self, s):
        self.assertIsInstance(s, str)
        self.assertRegex(s, ISO_8601)


def in_parallel(n, fn):
    """Calls fn(i) for i in range(n) on n threads at once; returns the results in order
    (an exception raised by a call is returned in its place)."""
    out = [None] * n
    start = threading.Barrier(n)

    def run(i):
        start.wait()
        try:
            out[i] = fn(i)
        except Exception as e:  # noqa: BLE001 - reported by the caller's assertions
            out[i] = e
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


class Background:
    """Runs fn() on a thread; `.sent` is set once fn says its request is on the wire."""

    def __init__(self, fn):
        self.sent = threading.Event()
        self.result = None
        self.error = None
        self.thread = threading.Thread(target=self._run, args=(fn,))
        self.thread.start()

    def _run(self, fn):
        try:
            self.result = fn(self.sent)
        except Exception as e:  # noqa: BLE001 - raised again by join()
            self.error = e
            self.sent.set()

    def join(self, timeout_s):
        """fn's result (its exception is raised here); HarnessError after `timeout_s`."""
        self.thread.join(timeout_s)
        if self.thread.is_alive():
            raise HarnessError(f"no answer within {timeout_s} s")
        if self.error is not None:
            raise self.error
        return self.result


def iso_seconds(s):
    """Seconds since the epoch of an ISO 8601 UTC time like 2026-01-02T03:04:05.678Z."""
    base, _, frac = s.rstrip("Z").partition(".")
    t = time.strptime(base, "%Y-%m-%dT%H:%M:%S")
    return calendar.timegm(t) + (float("0." + frac) if frac else 0.0)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def sign_hs256(header, payload, secret):
    """A JWT signed with HS256 (RFC 7519), to present gobid with tokens it did not issue."""
    signing_input = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(payload).encode())
    sig = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + b64url(sig)


# --- health, routing, error shapes ------------------------------------------------------------

class HealthAndRoutingTest(GobidCase):

    def test_health_needs_no_token(self):
        r = self.g.request("GET", "/health")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json["status"], "ok")
        self.assertEqual(r.json["storage"], BACKEND)
        # The media engine's state, for operators: one clock per media thread, the recorder.
        media = r.json["media"]
        self.assertEqual(media["threads"], 1)
        self.assertGreaterEqual(media["openPorts"], 0)
        self.assertEqual(len(media["clocks"]), 1)
        clock = media["clocks"][0]
        self.assertGreater(clock["wakeUps"], 0)  # the clock ticks from start-up
        for k in ("streams", "lateWakeUps", "skippedWakeUps", "maxLatenessMs", "meanWorkUs",
                  "maxWorkUs"):
            self.assertGreaterEqual(clock[k], 0, k)
        rec = media["recordings"]
        self.assertEqual(set(rec), {"open", "bytesWritten", "pendingBytes", "chunksDropped",
                                    "writeErrors"})
        self.assertEqual((rec["chunksDropped"], rec["writeErrors"]), (0, 0))

    def test_canonical_prefix_and_api_alias(self):
        acct = self.register()
        for path in ("/api/v1/health", "/api/health"):
            self.assertEqual(self.g.request("GET", path).status, 200, path)
        created = self.g.request("POST", "/api/agents", {"name": "via alias"}, acct.token)
        self.assertEqual(created.status, 201, repr(created))
        aid = created.json["id"]
        via_v1 = self.g.request("GET", f"/api/v1/agents/{aid}", token=acct.token)
        via_alias = self.g.request("GET", f"/api/agents/{aid}", token=acct.token)
        self.assertEqual(via_v1.status, 200)
        self.assertEqual(via_v1.json, via_alias.json)
        # The seeds' login path works on the alias too.
        login = self.g.request("POST", "/api/auth/login",
                               {"email": acct.email, "password": acct.password})
        self.assertEqual(login.status, 200, repr(login))

    def test_unknown_routes_are_404(self):
        acct = self.register()
        self.assertError(self.g.request("GET", "/nothing-here"), 404, "not_found")
        self.assertError(self.g.request("GET", "/"), 404, "not_found")
        self.assertError(self.api("GET", "/widgets", token=acct.token), 404, "not_found")
        self.assertError(self.api("GET", "/agents/x/y/z", token=acct.token), 404, "not_found")
        self.assertError(self.api("POST", "/agents/x/explode", token=acct.token), 404,
                         "not_found")
        self.assertError(self.api("GET", "/agents/agt_missing", token=acct.token), 404,
                         "not_found")

    def test_wrong_method_is_405_with_allow(self):
        acct = self.register()
        a = self.create_agent(acct)
        cases = [
            ("PUT", "/health", None, "GET"),
            ("GET", "/api/v1/auth/login", None, "POST"),
            ("DELETE", "/api/v1/auth/register", None, "POST"),
            ("POST", "/api/v1/auth/me", acct.token, "GET"),
            ("DELETE", "/api/v1/agents", acct.token, "GET, POST"),
            ("POST", f"/api/v1/agents/{a['id']}", acct.token, "GET, PUT, PATCH, DELETE"),
            ("GET", f"/api/v1/agents/{a['id']}/deploy", acct.token, "POST"),
            ("GET", f"/api/v1/agents/{a['id']}/heartbeat", acct.token, "POST"),
            ("POST", f"/api/v1/agents/{a['id']}/runtime-config", acct.token, "GET"),
            ("PUT", "/api/v1/campaigns", acct.token, "GET, POST"),
            ("GET", "/api/v1/campaigns/c1/start", acct.token, "POST"),
            ("PUT", "/api/v1/lead-lists/l1/upload", acct.token, "POST"),
            ("POST", "/api/v1/lead-lists/l1/leads", acct.token, "GET"),
            ("GET", "/api/v1/phone-numbers/n1/assign-agent", acct.token, "POST"),
            ("PUT", "/api/v1/dnc", acct.token, "GET, POST"),
            ("GET", "/api/v1/dnc/+14155550100", acct.token, "DELETE"),
        ]
        for method, path, token, allow in cases:
            with self.subTest(method=method, path=path):
                r = self.g.request(method, path, token=token)
                self.assertError(r, 405, "method_not_allowed")
                self.assertEqual(r.headers.get("Allow"), allow)

    def test_malformed_json_is_400_saying_where(self):
        acct = self.register()
        r = self.api("POST", "/agents", token=acct.token,
                     raw='{\n  "name": "x",\n  "temperature": ,\n}', content_type="application/json")
        err = self.assertError(r, 400, "invalid_argument")
        self.assertRegex(err["message"], r"line 3")
        self.assertRegex(err["message"], r"column \d+")
        for raw in ('[1, 2]', '"text"', 'null', '', '{"name": "unterminated'):
            with self.subTest(body=raw):
                r = self.api("POST", "/lead-lists", token=acct.token, raw=raw,
                             content_type="application/json")
                self.assertError(r, 400, "invalid_argument")
        r = self.api("POST", "/auth/login", raw="{nope", content_type="application/json")
        self.assertError(r, 400, "invalid_argument", mentions=("line 1",))

    def test_json_edge_values(self):
        acct = self.register()
        # Deep nesting is refused, not a stack overflow.
        r = self.api("POST", "/agents", token=acct.token, raw="[" * 100000 + "]" * 100000,
                     content_type="application/json")
        self.assertError(r, 400)
        r = self.api("POST", "/agents", {"name": "x", "temperature": 1e400}, acct.token)
        self.assertIn(r.status, (400, 422), repr(r))
        self.assertIsNotNone(r.error)
        r = self.api("POST", "/agents", token=acct.token, raw=b'{"name": "\xff\xfe bad utf8"}',
                     content_type="application/json")
        self.assertIn(r.status, (400, 422), repr(r))
        self.assertIsNotNone(r.error)
        # Unicode round-trips.
        name = "Zoë 🤖 Ελληνικά \"quoted\" \\ back\\slash"
        a = self.create_agent(acct, name=name)
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token)["name"], name)

    def test_lists_have_items_and_total(self):
        acct = self.register()
        lst = self.create_list(acct, csv="phone\n+14155550123\n")
        for path in ("/agents", "/campaigns", f"/tenants/{acct.tenant}/campaigns", "/lead-lists",
                     "/phone-numbers", "/dnc", f"/lead-lists/{lst['id']}/leads",
                     f"/lead-lists/{lst['id']}/preview"):
            with self.subTest(path=path):
                self.assertList(self.ok("GET", path, token=acct.token))

    def test_head_is_get_without_a_body(self):
        acct = self.register()
        self.create_agent(acct)
        get = self.api("GET", "/agents", token=acct.token)
        head = self.g.request("HEAD", "/api/v1/agents", token=acct.token)
        self.assertEqual(head.status, 200)
        self.assertEqual(head.headers.get("Content-Length"), get.headers.get("Content-Length"))
        self.assertEqual(head.body, b"")

    def test_cors_preflight(self):
        r = self.g.request("OPTIONS", "/api/v1/agents")
        self.assertEqual(r.status, 204)
        self.assertEqual(r.headers.get("Access-Control-Allow-Origin"), "*")


# --- bad input on the socket ------------------------------------------------------------------

class RobustnessTest(GobidCase):

    def assertRefused(self, answer, statuses=(400, 413, 414, 431)):
        """gobid either closed the connection or answered a 4xx with an error body."""
        if not answer:
            return
        r = parse_raw_response(answer)
        self.assertIsNotNone(r, answer[:200])
        self.assertIn(r.status, statuses, repr(r))
        self.assertError(r, r.status)

    def assertHealthy(self):
        r = self.g.request("GET", "/health")
        self.assertEqual(r.status, 200, repr(r))
        self.assertTrue(self.g.running)

    def test_random_bytes(self):
        for n in (1, 100, 4096, 70000):
            with self.subTest(size=n):
                self.assertRefused(self.g.raw(os.urandom(n)))
                self.assertHealthy()

    def test_truncated_requests(self):
        for data in (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"em",
                     b"GET /health HTTP/1.1\r\nHo",
                     b"POST /api/v1/auth/register HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
                     b"GET"):
            with self.subTest(data=data[:30]):
                self.g.raw(data)
                self.assertHealthy()

    def test_malformed_http(self):
        for data in (b"GET /health HTTP/9.9\r\n\r\n",
                     b"POST /api/v1/auth/login HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
                     b"POST /api/v1/auth/login HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                     b"GET /health HTTP/1.1\r\nBad Header Line\r\n\r\n",
                     b"\r\n\r\n\r\n"):
            with self.subTest(data=data[:40]):
                self.assertRefused(self.g.raw(data))
                self.assertHealthy()

    def test_huge_header_and_url(self):
        big = "x" * (64 * 1024)
        self.assertError(self.g.request("GET", "/health", headers={"X-Big": big}), 431)
        self.assertHealthy()
        answer = self.g.raw(f"GET /api/v1/{big}{big} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        self.assertTrue(answer)
        self.assertRefused(answer)
        self.assertHealthy()
        many = "".join(f"X-H{i}: {i}\r\n" for i in range(5000))
        answer = self.g.raw(f"GET /health HTTP/1.1\r\n{many}\r\n".encode())
        self.assertTrue(answer)
        self.assertRefused(answer)
        self.assertHealthy()

    def test_a_stalled_client_does_not_block_others(self):
        with socket.create_connection((LOOPBACK, self.g.port), timeout=10) as stalled:
            stalled.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nContent-Length: 1000\r\n\r\n{")
            self.assertHealthy()
            acct = self.register()
            self.ok("GET", "/auth/me", token=acct.token)

    def test_keep_alive_serves_several_requests(self):
        req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        answer = self.g.raw(req * 3)
        self.assertEqual(answer.count(b"HTTP/1.1 200"), 3, answer[:400])


# --- auth --------------------------------------------------------------------------------------

class AuthTest(GobidCase):

    def test_register_answers_token_and_user(self):
        email = unique("New.User") + "@Example.COM"
        r = self.api("POST", "/auth/register", {"email": email, "password": "long enough pw",
                                                "name": "New User", "tenantName": "Acme"})
        self.assertEqual(r.status, 201, repr(r))
        self.assertIsInstance(r.json["token"], str)
        user = r.json["user"]
        self.assertEqual(user["email"], email.lower())
        self.assertEqual(user["name"], "New User")
        self.assertEqual(user["tenantName"], "Acme")
        self.assertTrue(user["id"] and user["tenantId"])
        # Neither the password nor its hash ever leaves gobid.
        self.assertFalse([k for k in user if "password" in k.lower()], user)
        self.assertNotIn(b"long enough pw", r.body)
        self.assertNotIn(b"argon2", r.body)
        me = self.ok("GET", "/auth/me", token=r.json["token"])
        self.assertEqual(me["user"]["id"], user["id"])
        self.assertEqual(me["user"]["tenantId"], user["tenantId"])

    def test_duplicate_email_is_409(self):
        acct = self.register()
        for email in (acct.email, acct.email.upper()):
            r = self.api("POST", "/auth/register", {"email": email, "password": "another pw 123",
                                                    "tenantName": "Other"})
            self.assertError(r, 409, "conflict", field="email")

    def test_registration_validation_names_the_field(self):
        good = {"email": unique("v") + "@example.com", "password": "long enough pw",
                "name": "V", "tenantName": "T"}
        cases = [
            ({"password": "short"}, "password"),
            ({"password": ""}, "password"),
            ({"password": 12345678}, "password"),
            ({"email": "not-an-email"}, "email"),
            ({"email": "a@b"}, "email"),
            ({"email": "two@at@example.com"}, "email"),
            ({"email": None}, "email"),
            ({"tenantName": None}, "tenantName"),
            ({"tenantName": "   "}, "tenantName"),
            ({"name": 5}, "name"),
        ]
        for change, field in cases:
            with self.subTest(change=change):
                body = {k: v for k, v in {**good, **change}.items() if v is not None}
                self.assertError(self.api("POST", "/auth/register", body), 422, "validation_failed",
                                 field=field)
        # Nothing was created by the refused attempts.
        r = self.api("POST", "/auth/login", {"email": good["email"], "password": good["password"]})
        self.assertError(r, 401)

    def test_login(self):
        acct = self.register()
        r = self.api("POST", "/auth/login", {"email": acct.email.upper(), "password": acct.password})
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json["user"]["id"], acct.user["id"])
        me = self.ok("GET", "/auth/me", token=r.json["token"])
        self.assertEqual(me["user"]["email"], acct.email)

    def test_bad_credentials_are_401(self):
        acct = self.register()
        self.assertError(self.api("POST", "/auth/login", {"email": acct.email, "password": "wrong!!!"}),
                         401, "unauthenticated")
        self.assertError(self.api("POST", "/auth/login",
                                  {"email": "nobody-" + acct.email, "password": acct.password}),
                         401, "unauthenticated")
        self.assertError(self.api("POST", "/auth/login", {"email": acct.email}), 422,
                         field="password")

    def test_token_required(self):
        acct = self.register()
        for path in ("/auth/me", "/agents", "/campaigns", "/lead-lists", "/phone-numbers", "/dnc",
                     f"/tenants/{acct.tenant}/campaigns"):
            with self.subTest(path=path):
                self.assertError(self.api("GET", path), 401, "unauthenticated")
        self.assertError(self.api("POST", "/agents", {"name": "x"}), 401, "unauthenticated")

    def test_malformed_tokens_are_401(self):
        acct = self.register()
        header_values = ["Token " + acct.token, "Bearer", "Bearer ", "Basic dXNlcjpwYXNz",
                         "Bearer not.a.jwt", "Bearer " + acct.token[:-3], "Bearer a.b",
                         "Bearer " + acct.token + "x", acct.token]
        for h in header_values:
            with self.subTest(header=h[:30]):
                r = self.api("GET", "/auth/me", headers={"Authorization": h})
                self.assertError(r, 401, "unauthenticated")
        # The scheme is case-insensitive.
        r = self.api("GET", "/auth/me", headers={"Authorization": "bearer " + acct.token})
        self.assertEqual(r.status, 200, repr(r))

    def test_tampered_and_expired_tokens_are_401(self):
        acct = self.register()
        other = self.register()
        head_b64, payload_b64, _sig = acct.token.split(".")
        header = json.loads(b64url_decode(head_b64))
        payload = json.loads(b64url_decode(payload_b64))
        with open(os.path.join(self.g.data_dir, "jwt_secret"), "rb") as f:
            secret = f.read().strip()
        # Control: the same claims signed with the kept secret are accepted ...
        resigned = sign_hs256(header, payload, secret)
        self.assertEqual(self.api("GET", "/auth/me", token=resigned).status, 200)
        # ... but not once expired.
        now = int(time.time())
        expired = sign_hs256(header, {**payload, "iat": now - 7200, "exp": now - 60}, secret)
        self.assertError(self.api("GET", "/auth/me", token=expired), 401, "unauthenticated")
        # Another tenant's id in the claims, with the original signature.
        forged_payload = b64url(json.dumps({**payload, "tid": other.tenant}).encode())
        tampered = f"{head_b64}.{forged_payload}.{_sig}"
        self.assertError(self.api("GET", "/agents", token=tampered), 401, "unauthenticated")
        # Signed with another key; unsigned ("alg": "none").
        self.assertError(self.api("GET", "/auth/me",
                                  token=sign_hs256(header, payload, b"k" * 32)), 401)
        none_token = b64url(b'{"alg":"none","typ":"JWT"}') + "." + payload_b64 + "."
        self.assertError(self.api("GET", "/auth/me", token=none_token), 401)


class LoginThrottleTest(GobidCase):
    """Its own gobid: the throttle also counts per client address, and every test client is
    127.0.0.1."""

    def test_repeated_failures_are_429_with_retry_after(self):
        acct = self.register()
        statuses = []
        retry_after = None
        for _ in range(10):
            r = self.api("POST", "/auth/login", {"email": acct.email, "password": "wrong password"})
            statuses.append(r.status)
            if r.status == 429:
                self.assertError(r, 429, "rate_limited")
                retry_after = r.headers.get("Retry-After")
                break
            self.assertError(r, 401, "unauthenticated")
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertGreaterEqual(len(statuses), 2, "the first failure must not be throttled")
        self.assertIsNotNone(retry_after)
        self.assertRegex(retry_after, r"^[1-9]\d*$")
        # The right password is refused too while blocked ...
        r = self.api("POST", "/auth/login", {"email": acct.email, "password": acct.password})
        self.assertError(r, 429, "rate_limited")
        # ... and accepted once the delay has passed.
        wait_until(lambda: self.api("POST", "/auth/login",
                                    {"email": acct.email, "password": acct.password}).status == 200,
                   int(retry_after) + 10, "login after Retry-After", interval_s=0.25)


class AddressThrottleTest(GobidCase):
    """Its own gobid, so no other test has spent this address's allowance."""

    def test_address_throttle_is_separate_and_more_lenient(self):
        # Failures spread over accounts from one address (a NAT) do not block a good login
        # until the per-address allowance (20) is used up, and then answer 429 too.
        accounts = [self.register() for _ in range(4)]
        statuses = []
        for i in range(24):
            acct = accounts[i % len(accounts)]
            r = self.api("POST", "/auth/login", {"email": unique("nobody") + "@example.com",
                                                 "password": "wrong password"})
            statuses.append(r.status)
            if i == 10:
                self.ok("POST", "/auth/login", {"email": acct.email, "password": acct.password})
            if r.status == 429:
                break
        self.assertEqual(statuses[-1], 429, statuses)
        self.assertGreaterEqual(len(statuses), 20, statuses)


# --- agents ------------------------------------------------------------------------------------

class AgentsTest(GobidCase):

    def test_crud_with_all_seed_fields(self):
        acct = self.register()
        a = self.ok("POST", "/agents", SEED_AGENT, acct.token, status=201)
        for k, v in SEED_AGENT.items():
            if k != "metadata":
                self.assertEqual(a[k], v, k)
        meta = a["metadata"]
        self.assertEqual(meta["transferNumber"], "+14155552671")
        self.assertEqual(meta["fallbackNumber"], "+12125550199")
        self.assertEqual(meta["businessHours"], SEED_AGENT["metadata"]["businessHours"])
        self.assertEqual(meta["outboundConfig"], SEED_AGENT["metadata"]["outboundConfig"])
        self.assertEqual(a["status"], "INACTIVE")
        self.assertEqual(a["tenantId"], acct.tenant)
        self.assertIsNone(a["lastHeartbeatAt"])
        self.assertIso(a["createdAt"])

        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token), a)
        items = self.assertList(self.ok("GET", "/agents", token=acct.token), total=1)
        self.assertEqual(items[0]["id"], a["id"])

        # A partial update changes only what it names.
        u = self.ok("PUT", f"/agents/{a['id']}", {"temperature": 1.5, "voiceId": "alloy",
                                                   "metadata": {"transferNumber": "+442079460958"}},
                    acct.token)
        self.assertEqual(u["temperature"], 1.5)
        self.assertEqual(u["voiceId"], "alloy")
        self.assertEqual(u["name"], SEED_AGENT["name"])
        self.assertEqual(u["systemPrompt"], SEED_AGENT["systemPrompt"])
        self.assertEqual(u["metadata"], {"transferNumber": "+442079460958"})
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token), u)
        p = self.ok("PATCH", f"/agents/{a['id']}", {"description": "patched"}, acct.token)
        self.assertEqual(p["description"], "patched")
        self.assertEqual(p["temperature"], 1.5)

        self.assertEqual(self.api("DELETE", f"/agents/{a['id']}", token=acct.token).status, 204)
        self.assertError(self.api("GET", f"/agents/{a['id']}", token=acct.token), 404, "not_found")
        self.assertError(self.api("DELETE", f"/agents/{a['id']}", token=acct.token), 404)
        self.assertError(self.api("PUT", f"/agents/{a['id']}", {"name": "x"}, acct.token), 404)
        self.assertError(self.api("POST", f"/agents/{a['id']}/deploy", token=acct.token), 404)
        self.assertList(self.ok("GET", "/agents", token=acct.token), total=0)

    def test_defaults(self):
        acct = self.register()
        a = self.ok("POST", "/agents", {"name": "minimal"}, acct.token, status=201)
        self.assertEqual(a["metadata"], {})
        self.assertEqual(a["runtimeMetrics"], {})
        self.assertIsInstance(a["temperature"], (int, float))
        self.assertGreaterEqual(a["maxConcurrentCalls"], 1)
        self.assertList(self.ok("GET", f"/agents/{a['id']}/prompt-history", token=acct.token),
                        total=0)

    def test_validation_names_the_field(self):
        acct = self.register()
        cases = [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": 42}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"name": "nul \u0000 inside"}, "name"),
            ({"greetingMessage": "\u0000"}, "greetingMessage"),
            ({"temperature": 2.5}, "temperature"),
            ({"temperature": -0.1}, "temperature"),
            ({"temperature": "hot"}, "temperature"),
            ({"maxConcurrentCalls": 0}, "maxConcurrentCalls"),
            ({"maxConcurrentCalls": 2.5}, "maxConcurrentCalls"),
            ({"maxConcurrentCalls": "3"}, "maxConcurrentCalls"),
            ({"systemPrompt": ["a"]}, "systemPrompt"),
            ({"llmModel": {}}, "llmModel"),
            ({"metadata": "x"}, "metadata"),
            ({"metadata": {"transferNumber": "not a phone"}}, "metadata.transferNumber"),
            ({"metadata": {"fallbackNumber": 14155550100}}, "metadata.fallbackNumber"),
            ({"metadata": {"businessHours": "9-5"}}, "metadata.businessHours"),
            ({"metadata": {"outboundConfig": [1]}}, "metadata.outboundConfig"),
        ]
        for change, field in cases:
            with self.subTest(change=change):
                body = {"name": "valid"} if "name" not in change and change else {}
                body.update(change)
                self.assertError(self.api("POST", "/agents", body, acct.token), 422, "validation_failed",
                                 field=field)
        self.assertList(self.ok("GET", "/agents", token=acct.token), total=0)
        # An invalid update changes nothing.
        a = self.create_agent(acct, temperature=0.5)
        for change, field in cases[1:]:
            with self.subTest(update=change):
                self.assertError(self.api("PUT", f"/agents/{a['id']}", change, acct.token), 422,
                                 field=field)
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token), a)

    def test_deploy_heartbeat_and_stop(self):
        acct = self.register()
        a = self.create_agent(acct)
        self.assertEqual(a["status"], "INACTIVE")
        d = self.ok("POST", f"/agents/{a['id']}/deploy", token=acct.token)
        self.assertEqual(d["status"], "ACTIVE")
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token)["status"], "ACTIVE")
        # What the seeds' agent_runtime.py sends every 30 s.
        metrics = {"uptime_seconds": 120, "total_calls": 5, "successful_calls": 4,
                   "success_rate": 80.0}
        hb = self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "RUNNING", "metrics": metrics},
                     acct.token)
        self.assertIs(hb["success"], True)
        self.assertEqual(hb["status"], "ACTIVE")
        self.assertEqual(hb["agent"]["runtimeMetrics"], metrics)
        self.assertIso(hb["agent"]["lastHeartbeatAt"])
        got = self.ok("GET", f"/agents/{a['id']}", token=acct.token)
        self.assertEqual(got["status"], "ACTIVE")
        self.assertEqual(got["runtimeMetrics"], metrics)
        listed = self.ok("GET", "/agents", token=acct.token)["items"]
        self.assertEqual([x["status"] for x in listed if x["id"] == a["id"]], ["ACTIVE"])
        # Graceful shutdown: the final heartbeat says STOPPED.
        hb = self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "STOPPED"}, acct.token)
        self.assertEqual(hb["status"], "INACTIVE")
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token)["status"], "INACTIVE")
        listed = self.ok("GET", "/agents", token=acct.token)["items"]
        self.assertEqual([x["status"] for x in listed if x["id"] == a["id"]], ["INACTIVE"])
        # A RUNNING heartbeat brings it back; an empty body is a plain heartbeat.
        self.assertEqual(self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "RUNNING"},
                                 acct.token)["status"], "ACTIVE")
        self.assertEqual(self.ok("POST", f"/agents/{a['id']}/heartbeat", token=acct.token)["status"],
                         "ACTIVE")
        # Deploying again is harmless.
        self.assertEqual(self.deploy(acct, a["id"])["status"], "ACTIVE")

    def test_heartbeat_validation(self):
        acct = self.register()
        a = self.create_agent(acct)
        for body, field in (({"status": "DANCING"}, "status"), ({"status": 1}, "status"),
                            ({"status": "RUNNING", "metrics": [1, 2]}, "metrics"),
                            ({"status": "RUNNING", "metrics": "fast"}, "metrics")):
            with self.subTest(body=body):
                self.assertError(self.api("POST", f"/agents/{a['id']}/heartbeat", body, acct.token),
                                 422, "validation_failed", field=field)
        self.assertError(self.api("POST", f"/agents/{a['id']}/heartbeat", token=acct.token,
                                  raw="{oops", content_type="application/json"), 400)
        self.assertError(self.api("POST", "/agents/agt_nope/heartbeat", {"status": "RUNNING"},
                                  acct.token), 404, "not_found")
        self.assertError(self.api("POST", "/agents/agt_nope/deploy", token=acct.token), 404)
        self.assertEqual(self.ok("GET", f"/agents/{a['id']}", token=acct.token)["status"], "INACTIVE")

    def test_runtime_config_snake_case(self):
        acct = self.register()
        a = self.ok("POST", "/agents", SEED_AGENT, acct.token, status=201)
        before = time.time()
        rc = self.ok("GET", f"/agents/{a['id']}/runtime-config", token=acct.token)
        self.assertIs(rc["success"], True)
        cfg = rc["config"]
        expected = {
            "agent_id": a["id"], "name": SEED_AGENT["name"],
            "system_prompt": SEED_AGENT["systemPrompt"],
            "personality": SEED_AGENT["personality"],
            "greeting_message": SEED_AGENT["greetingMessage"],
            "llm_provider": "openai", "llm_model": "gpt-4", "temperature": 0.4,
            "voice_id": "nova", "stt_provider": "deepgram", "stt_language": "en-US",
            "transfer_number": "+14155552671", "fallback_number": "+12125550199",
            "max_concurrent_calls": 7,
        }
        for k, v in expected.items():
            self.assertEqual(cfg.get(k), v, k)
        for k in cfg:
            self.assertRegex(k, r"^[a-z0-9_]+$", "runtime-config keys are snake_case")
        self.assertIso(rc["timestamp"])
        self.assertIso(rc["cached_until"])
        self.assertGreater(rc["cached_until"], rc["timestamp"])
        self.assertLess(abs(iso_seconds(rc["timestamp"]) - before), 60)
        self.assertError(self.api("GET", "/agents/agt_nope/runtime-config", token=acct.token), 404)
        # It follows updates.
        self.ok("PUT", f"/agents/{a['id']}", {"systemPrompt": "New prompt"}, acct.token)
        rc = self.ok("GET", f"/agents/{a['id']}/runtime-config", token=acct.token)
        self.assertEqual(rc["config"]["system_prompt"], "New prompt")

    def test_prompt_history_records_every_change(self):
        acct = self.register()
        a = self.create_agent(acct, systemPrompt="P1")
        self.ok("PUT", f"/agents/{a['id']}", {"systemPrompt": "P2"}, acct.token)
        self.ok("PUT", f"/agents/{a['id']}", {"temperature": 0.9}, acct.token)    # not a change
        self.ok("PUT", f"/agents/{a['id']}", {"systemPrompt": "P2"}, acct.token)  # same prompt
        self.ok("PATCH", f"/agents/{a['id']}", {"systemPrompt": "P3"}, acct.token)
        self.assertError(self.api("PUT", f"/agents/{a['id']}", {"systemPrompt": "P4",
                                                                "temperature": 9}, acct.token), 422)
        items = self.assertList(self.ok("GET", f"/agents/{a['id']}/prompt-history",
                                        token=acct.token), total=3)
        by_prompt = {i["systemPrompt"]: i for i in items}
        self.assertEqual(set(by_prompt), {"P1", "P2", "P3"})
        self.assertEqual(by_prompt["P1"]["previousPrompt"], "")
        self.assertEqual(by_prompt["P2"]["previousPrompt"], "P1")
        self.assertEqual(by_prompt["P3"]["previousPrompt"], "P2")
        for i in items:
            self.assertEqual(i["agentId"], a["id"])
            self.assertEqual(i["changedBy"], acct.user["id"])
            self.assertEqual(i["changedByEmail"], acct.email)
            self.assertIso(i["changedAt"])
        times = [iso_seconds(by_prompt[p]["changedAt"]) for p in ("P1", "P2", "P3")]
        self.assertEqual(times, sorted(times))
        self.assertError(self.api("GET", "/agents/agt_nope/prompt-history", token=acct.token), 404)


class HeartbeatTimeoutTest(GobidCase):
    gobid_args = ("--agent-heartbeat-timeout", "2")

    def status(self, acct, agent_id):
        return self.ok("GET", f"/agents/{agent_id}", token=acct.token)["status"]

    def test_agent_goes_inactive_without_heartbeats(self):
        acct = self.register()
        silent = self.create_agent(acct)
        alive = self.create_agent(acct)
        for a in (silent, alive):
            self.deploy(acct, a["id"])
            hb = self.ok("POST", f"/agents/{a['id']}/heartbeat",
                         {"status": "RUNNING", "metrics": {"uptime_seconds": 1}}, acct.token)
            self.assertEqual(hb["status"], "ACTIVE")
        sent = time.monotonic()
        self.assertEqual(self.status(acct, silent["id"]), "ACTIVE")

        # Keep one agent alive while waiting for the other to time out.
        def silent_inactive():
            self.ok("POST", f"/agents/{alive['id']}/heartbeat", {"status": "RUNNING"}, acct.token)
            return self.status(acct, silent["id"]) == "INACTIVE"
        wait_until(silent_inactive, 15, "the silent agent to turn INACTIVE", interval_s=0.2)
        self.assertGreaterEqual(time.monotonic() - sent, 1.0, "timed out before the timeout")
        self.assertEqual(self.status(acct, alive["id"]), "ACTIVE")
        listed = {a["id"]: a["status"] for a in self.ok("GET", "/agents", token=acct.token)["items"]}
        self.assertEqual(listed, {silent["id"]: "INACTIVE", alive["id"]: "ACTIVE"})
        # A heartbeat revives it.
        self.ok("POST", f"/agents/{silent['id']}/heartbeat", {"status": "RUNNING"}, acct.token)
        self.assertEqual(self.status(acct, silent["id"]), "ACTIVE")

    def test_supervision_survives_a_restart(self):
        acct = self.register()
        a = self.create_agent(acct)
        self.deploy(acct, a["id"])
        self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "RUNNING"}, acct.token)
        self.g.restart()
        self.assertEqual(self.status(acct, a["id"]), "ACTIVE")
        wait_until(lambda: self.status(acct, a["id"]) == "INACTIVE", 15,
                   "the agent to turn INACTIVE after the restart", interval_s=0.2)

    def test_deployed_agent_without_heartbeats_times_out_after_its_first(self):
        # Deploy alone (no runtime yet) keeps ACTIVE; supervision starts with the first
        # heartbeat, and a STOPPED heartbeat ends it.
        acct = self.register()
        a = self.create_agent(acct)
        self.deploy(acct, a["id"])
        self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "STOPPED"}, acct.token)
        self.assertEqual(self.status(acct, a["id"]), "INACTIVE")
        self.deploy(acct, a["id"])
        self.ok("POST", f"/agents/{a['id']}/heartbeat", {"status": "RUNNING"}, acct.token)
        wait_until(lambda: self.status(acct, a["id"]) == "INACTIVE", 15,
                   "the agent to turn INACTIVE", interval_s=0.2)


# --- campaigns ---------------------------------------------------------------------------------

class CampaignsTest(GobidCase):

    def setUp(self):
        self.acct = self.register()
        self.active = self.active_agent(self.acct)
        self.inactive = self.create_agent(self.acct)
        self.list = self.create_list(self.acct, csv="phone,name\n+14155550111,Ann\n")
        self.number = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail()},
                              self.acct.token, status=201)

    def create(self, body, status=201, prefix=""):
        return self.ok("POST", prefix + "/campaigns", body, self.acct.token, status=status)

    def test_get_put_round_trip_and_start_needs_an_agent(self):
        c = self.create({"name": "Later", "campaignType": "INBOUND"})
        self.assertEqual(c["agentIds"], [])
        # A campaign sent back as read (status included) updates.
        c["name"] = "Renamed"
        self.assertEqual(self.ok("PUT", f"/campaigns/{c['id']}", c, self.acct.token)["name"],
                         "Renamed")
        changed = dict(c, status="RUNNING")
        r = self.api("PUT", f"/campaigns/{c['id']}", changed, self.acct.token)
        self.assertError(r, 422, "validation_failed", field="status")
        # No agent: it cannot start.
        r = self.api("POST", f"/campaigns/{c['id']}/start", token=self.acct.token)
        self.assertError(r, 422, "validation_failed", field="agentIds")
        self.ok("PUT", f"/campaigns/{c['id']}", {"agentIds": [self.active["id"]]}, self.acct.token)
        started = self.ok("POST", f"/campaigns/{c['id']}/start", token=self.acct.token)
        self.assertEqual(started["status"], "RUNNING")

    def test_inbound_and_outbound(self):
        inbound = self.create({"name": "Support line", "campaignType": "INBOUND",
                               "agentIds": [self.active["id"]], "numberIds": [self.number["id"]]})
        self.assertEqual(inbound["campaignType"], "INBOUND")
        self.assertEqual(inbound["status"], "DRAFT")
        self.assertEqual(inbound["agentIds"], [self.active["id"]])
        self.assertEqual(inbound["numberIds"], [self.number["id"]])
        self.assertEqual(inbound["tenantId"], self.acct.tenant)
        outbound = self.create({"name": "Sales", "campaignType": "OUTBOUND",
                                "agentIds": [self.active["id"]], "leadListIds": [self.list["id"]]})
        self.assertEqual(outbound["campaignType"], "OUTBOUND")
        self.assertEqual(outbound["leadListIds"], [self.list["id"]])
        items = self.assertList(self.ok("GET", "/campaigns", token=self.acct.token), total=2)
        self.assertEqual({c["id"] for c in items}, {inbound["id"], outbound["id"]})
        self.assertEqual(self.ok("GET", f"/campaigns/{outbound['id']}", token=self.acct.token),
                         outbound)

    def test_agents_must_be_active(self):
        r = self.api("POST", "/campaigns", {"name": "c", "campaignType": "INBOUND",
                                            "agentIds": [self.active["id"], self.inactive["id"]]},
                     self.acct.token)
        err = self.assertError(r, 422, "validation_failed", field="agentIds",
                               mentions=(self.inactive["id"],))
        self.assertNotIn(self.active["id"], err["message"])
        # Adding an INACTIVE agent by update is refused the same way.
        c = self.create({"name": "c", "campaignType": "INBOUND", "agentIds": [self.active["id"]]})
        r = self.api("PUT", f"/campaigns/{c['id']}",
                     {"agentIds": [self.active["id"], self.inactive["id"]]}, self.acct.token)
        self.assertError(r, 422, field="agentIds", mentions=(self.inactive["id"],))
        # Once deployed it is accepted.
        self.deploy(self.acct, self.inactive["id"])
        u = self.ok("PUT", f"/campaigns/{c['id']}",
                    {"agentIds": [self.active["id"], self.inactive["id"]]}, self.acct.token)
        self.assertEqual(u["agentIds"], [self.active["id"], self.inactive["id"]])

    def test_agents_with_priorities(self):
        second = self.active_agent(self.acct)
        c = self.create({"name": "prio", "campaignType": "INBOUND",
                         "agents": [{"agentId": self.active["id"], "priority": 5},
                                    {"agentId": second["id"], "priority": 1}]})
        prios = {a["agentId"]: a["priority"] for a in c["agents"]}
        self.assertEqual(prios, {self.active["id"]: 5, second["id"]: 1})
        self.assertEqual(set(c["agentIds"]), {self.active["id"], second["id"]})
        for bad in ([{"priority": 1}], [{"agentId": self.active["id"], "priority": "high"}], "x",
                    [self.active["id"]]):
            with self.subTest(agents=bad):
                r = self.api("POST", "/campaigns", {"name": "p", "campaignType": "INBOUND",
                                                    "agents": bad}, self.acct.token)
                self.assertError(r, 422, "validation_failed", field="agents")

    def test_reference_and_field_validation(self):
        base = {"name": "v", "campaignType": "OUTBOUND", "agentIds": [self.active["id"]],
                "leadListIds": [self.list["id"]]}
        cases = [
            ({"name": None}, "name"),
            ({"campaignType": None}, "campaignType"),
            ({"campaignType": "SIDEWAYS"}, "campaignType"),
            ({"leadListIds": None}, "leadListIds"),
            ({"leadListIds": []}, "leadListIds"),
            ({"leadListIds": ["lst_unknown"]}, "leadListIds"),
            ({"leadListIds": "lst"}, "leadListIds"),
            ({"agentIds": ["agt_unknown"]}, "agentIds"),
            ({"agentIds": [7]}, "agentIds"),
            ({"numberIds": ["num_unknown"]}, "numberIds"),
            ({"dialerType": "turbo"}, "dialerType"),
            ({"maxAttempts": 0}, "maxAttempts"),
            ({"maxAttempts": 101}, "maxAttempts"),
            ({"dialRatio": 0.5}, "dialRatio"),
            ({"status": "RUNNING"}, "status"),
            ({"callingWindow": "9-5"}, "callingWindow"),
            ({"callingWindow": {"start": "9am", "end": "17:00"}}, "callingWindow"),
            ({"callingWindow": {"start": "18:00", "end": "09:00"}}, "callingWindow"),
            ({"callingWindow": {"start": "09:00", "end": "25:00"}}, "callingWindow"),
            ({"callingWindow": {"days": ["funday"]}}, "callingWindow"),
            ({"callingWindow": {"days": []}}, "callingWindow"),
            ({"callingWindow": {"timezone": "not a zone"}}, "callingWindow"),
            ({"callingWindow": {"timezone": "Mars/Olympus"}}, "callingWindow"),
        ]
        for change, field in cases:
            with self.subTest(change=change):
                body = {k: v for k, v in {**base, **change}.items() if v is not None}
                r = self.api("POST", "/campaigns", body, self.acct.token)
                err = self.assertError(r, 422, "validation_failed", field=field)
                for v in change.values():
                    if isinstance(v, list) and v and isinstance(v[0], str) and "unknown" in v[0]:
                        self.assertIn(v[0], err["message"])
        self.assertList(self.ok("GET", "/campaigns", token=self.acct.token), total=0)

    def test_scripts_and_dialing_settings_are_stored(self):
        instructions = ("You are calling [Prospect Name] at [Company Name], the [Job Title]. "
                        "Mention [Resource Name] and confirm [____@abc.com]. {{custom_budget}}")
        script = "Hi [Prospect Name]!\n{{ company_name }} -- {{unknown_field}} [Not A Placeholder"
        window = {"start": "09:00", "end": "17:30", "days": ["mon", "wed", "fri"],
                  "timezone": "America/Chicago"}
        c = self.create({"name": "scripted", "campaignType": "OUTBOUND",
                         "agentIds": [self.active["id"]], "leadListIds": [self.list["id"]],
                         "agentInstructions": instructions, "sessionScript": script,
                         "dialerType": "predictive", "maxAttempts": 5, "dialRatio": 2.5,
                         "retryDelaySeconds": 600, "callingWindow": window})
        got = self.ok("GET", f"/campaigns/{c['id']}", token=self.acct.token)
        for doc in (c, got):
            self.assertEqual(doc["agentInstructions"], instructions)
            self.assertEqual(doc["sessionScript"], script)
            self.assertEqual(doc["dialerType"], "predictive")
            self.assertEqual(doc["maxAttempts"], 5)
            self.assertEqual(doc["dialRatio"], 2.5)
            self.assertEqual(doc["retryDelaySeconds"], 600)
            self.assertEqual(doc["callingWindow"], window)
        u = self.ok("PUT", f"/campaigns/{c['id']}", {"name": "renamed",
                                                      "callingWindow": {"start": "10:00",
                                                                        "end": "12:00"}},
                    self.acct.token)
        self.assertEqual(u["name"], "renamed")
        self.assertEqual(u["agentInstructions"], instructions)
        self.assertEqual(u["callingWindow"], {**window, "start": "10:00", "end": "12:00"})
        self.assertEqual(self.ok("GET", f"/campaigns/{c['id']}", token=self.acct.token), u)

    def test_start_pause_transitions(self):
        c = self.create({"name": "t", "campaignType": "OUTBOUND", "agentIds": [self.active["id"]],
                         "leadListIds": [self.list["id"]]})
        path = f"/campaigns/{c['id']}"
        self.assertError(self.api("POST", path + "/pause", token=self.acct.token), 409, "conflict")
        self.assertEqual(self.ok("POST", path + "/start", token=self.acct.token)["status"], "RUNNING")
        self.assertEqual(self.ok("GET", path, token=self.acct.token)["status"], "RUNNING")
        self.assertError(self.api("POST", path + "/start", token=self.acct.token), 409, "conflict")
        self.assertError(self.api("DELETE", path, token=self.acct.token), 409, "conflict")
        self.assertEqual(self.ok("POST", path + "/pause", token=self.acct.token)["status"], "PAUSED")
        self.assertError(self.api("POST", path + "/pause", token=self.acct.token), 409)
        self.assertEqual(self.ok("POST", path + "/start", token=self.acct.token)["status"], "RUNNING")
        # Agents of a RUNNING campaign cannot be deleted.
        self.assertError(self.api("DELETE", f"/agents/{self.active['id']}", token=self.acct.token),
                         409, "conflict")
        self.assertEqual(self.ok("POST", path + "/pause", token=self.acct.token)["status"], "PAUSED")
        self.assertEqual(self.api("DELETE", path, token=self.acct.token).status, 204)
        self.assertError(self.api("GET", path, token=self.acct.token), 404)
        self.assertError(self.api("POST", path + "/start", token=self.acct.token), 404)
        self.assertError(self.api("DELETE", path, token=self.acct.token), 404)
        self.assertError(self.api("POST", "/campaigns/cmp_nope/start", token=self.acct.token), 404)

    def test_start_needs_active_agents(self):
        c = self.create({"name": "s", "campaignType": "INBOUND", "agentIds": [self.active["id"]]})
        self.ok("POST", f"/agents/{self.active['id']}/heartbeat", {"status": "STOPPED"},
                self.acct.token)
        r = self.api("POST", f"/campaigns/{c['id']}/start", token=self.acct.token)
        self.assertError(r, 422, field="agentIds", mentions=(self.active["id"],))
        self.assertEqual(self.ok("GET", f"/campaigns/{c['id']}", token=self.acct.token)["status"],
                         "DRAFT")
        # Unrelated edits still work although the agent went INACTIVE.
        self.ok("PUT", f"/campaigns/{c['id']}", {"description": "still editable"}, self.acct.token)

    def test_tenant_scoped_paths(self):
        prefix = f"/tenants/{self.acct.tenant}"
        c = self.create({"name": "seed style", "campaignType": "OUTBOUND",
                         "agentIds": [self.active["id"]], "leadListIds": [self.list["id"]],
                         "numberIds": [self.number["id"]]}, prefix=prefix)
        items = self.assertList(self.ok("GET", prefix + "/campaigns", token=self.acct.token), total=1)
        self.assertEqual(items[0]["id"], c["id"])
        self.assertEqual(self.ok("GET", f"/campaigns/{c['id']}", token=self.acct.token), c)
        self.assertEqual(self.ok("GET", f"{prefix}/campaigns/{c['id']}", token=self.acct.token), c)
        u = self.ok("PUT", f"{prefix}/campaigns/{c['id']}", {"name": "renamed"}, self.acct.token)
        self.assertEqual(u["name"], "renamed")
        self.assertEqual(self.ok("POST", f"{prefix}/campaigns/{c['id']}/start",
                                 token=self.acct.token)["status"], "RUNNING")
        self.assertEqual(self.ok("POST", f"{prefix}/campaigns/{c['id']}/pause",
                                 token=self.acct.token)["status"], "PAUSED")
        # Another tenant's id: 404 for every verb, even for one's own campaign ids.
        other = self.register()
        for method, path, body in (("GET", "/campaigns", None),
                                   ("POST", "/campaigns", {"name": "x", "campaignType": "INBOUND"}),
                                   ("GET", f"/campaigns/{c['id']}", None),
                                   ("DELETE", f"/campaigns/{c['id']}", None)):
            with self.subTest(method=method, path=path):
                r = self.api(method, f"/tenants/{other.tenant}{path}", body, self.acct.token)
                self.assertError(r, 404, "not_found")
                r = self.api(method, f"{prefix}{path}", body, other.token)
                self.assertError(r, 404, "not_found")
        self.assertEqual(self.api("DELETE", f"{prefix}/campaigns/{c['id']}",
                                  token=self.acct.token).status, 204)
        self.assertList(self.ok("GET", prefix + "/campaigns", token=self.acct.token), total=0)

    def test_deleting_references(self):
        second = self.active_agent(self.acct)
        c = self.create({"name": "refs", "campaignType": "OUTBOUND",
                         "agentIds": [self.active["id"], second["id"]],
                         "leadListIds": [self.list["id"]], "numberIds": [self.number["id"]]})
        self.assertListAgrees(self.acct, "/campaigns")
        self.assertEqual(self.api("DELETE", f"/agents/{second['id']}", token=self.acct.token).status,
                         204)
        self.assertEqual(self.assertListAgrees(self.acct, "/campaigns")[0]["agentIds"],
                         [self.active["id"]])
        self.assertEqual(self.api("DELETE", f"/lead-lists/{self.list['id']}",
                                  token=self.acct.token).status, 204)
        self.assertEqual(self.api("DELETE", f"/phone-numbers/{self.number['id']}",
                                  token=self.acct.token).status, 204)
        got = self.ok("GET", f"/campaigns/{c['id']}", token=self.acct.token)
        self.assertEqual(got["leadListIds"], [])
        self.assertEqual(got["numberIds"], [])
        self.assertEqual(self.assertListAgrees(self.acct, "/campaigns"), [got])


_phone_serial = itertools.count(1)


def phone_tail():
    """Ten US digits, unique within a run (each class has its own database)."""
    return f"212555{1000 + next(_phone_serial):04d}"


# --- lead lists --------------------------------------------------------------------------------

class LeadListsTest(GobidCase):

    def test_crud(self):
        acct = self.register()
        lst = self.ok("POST", "/lead-lists", {"name": "Q3 prospects", "description": "from the fair"},
                      acct.token, status=201)
        self.assertEqual(lst["name"], "Q3 prospects")
        self.assertEqual(lst["description"], "from the fair")
        self.assertEqual(lst["leadCount"], 0)
        self.assertEqual(lst["tenantId"], acct.tenant)
        self.assertEqual(self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token), lst)
        items = self.assertList(self.ok("GET", "/lead-lists", token=acct.token), total=1)
        self.assertEqual(items[0]["id"], lst["id"])
        u = self.ok("PUT", f"/lead-lists/{lst['id']}", {"description": "updated"}, acct.token)
        self.assertEqual((u["name"], u["description"]), ("Q3 prospects", "updated"))
        for body, field in (({}, "name"), ({"name": ""}, "name"), ({"name": 3}, "name"),
                            ({"name": "ok", "description": []}, "description")):
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/lead-lists", body, acct.token), 422,
                                 "validation_failed", field=field)
        self.assertError(self.api("PUT", f"/lead-lists/{lst['id']}", {"name": ""}, acct.token), 422,
                         field="name")
        self.assertEqual(self.api("DELETE", f"/lead-lists/{lst['id']}", token=acct.token).status,
                         204)
        for method, sub in (("GET", ""), ("PUT", ""), ("DELETE", ""), ("POST", "/upload"),
                            ("GET", "/preview"), ("GET", "/leads")):
            with self.subTest(method=method, sub=sub):
                body = {"name": "x", "content": "phone\n+14155550100\n"} if method != "GET" else None
                self.assertError(self.api(method, f"/lead-lists/{lst['id']}{sub}", body, acct.token),
                                 404, "not_found")

    def test_upload_json_content(self):
        acct = self.register()
        lst = self.create_list(acct)
        csv = ("phoneNumber,name,email\n"
               "+14155551001,John Doe,john@example.com\n"
               "+14155551002,Jane Smith,jane@example.com\n")
        rep = self.upload(acct, lst["id"], csv)
        self.assertEqual((rep["imported"], rep["duplicates"], rep["invalid"]), (2, 0, []))
        leads = self.all_leads(acct, lst["id"])
        self.assertEqual([(l["phoneNumber"], l["name"], l["email"], l["state"]) for l in leads],
                         [("+14155551001", "John Doe", "john@example.com", "PENDING"),
                          ("+14155551002", "Jane Smith", "jane@example.com", "PENDING")])
        self.assertEqual(self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token)["leadCount"], 2)
        listed = self.ok("GET", "/lead-lists", token=acct.token)["items"]
        self.assertEqual([l["leadCount"] for l in listed if l["id"] == lst["id"]], [2])

    def test_upload_raw_csv_with_loose_headers(self):
        acct = self.register()
        lst = self.create_list(acct)
        csv = ("\ufeffPhone, Prospect_Name ,E-mail,company_name,Job Title,timezone,resource_name,"
               "Budget,Notes\r\n"
               "(415) 555-1003,\"Doe, John\",JOHN@EXAMPLE.COM,Acme Inc,CTO,America/Los_Angeles,"
               "Pricing guide,10k,\"said \"\"call me\"\"\nnext week\"\r\n"
               "415.555.1004,Émilie Zola,,\"Zola & Fils\",,Europe/Paris,,,\r\n")
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token,
                     raw=csv.encode("utf-8"), content_type="text/csv")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual((r.json["imported"], r.json["duplicates"], r.json["invalid"]), (2, 0, []))
        a, b = self.all_leads(acct, lst["id"])
        self.assertEqual(a["phoneNumber"], "+14155551003")
        self.assertEqual(a["name"], "Doe, John")
        self.assertEqual(a["email"].lower(), "john@example.com")
        self.assertEqual(a["companyName"], "Acme Inc")
        self.assertEqual(a["jobTitle"], "CTO")
        self.assertEqual(a["timezone"], "America/Los_Angeles")
        self.assertEqual(a["resourceName"], "Pricing guide")
        self.assertEqual(a["customFields"], {"Budget": "10k",
                                             "Notes": "said \"call me\"\nnext week"})
        self.assertEqual(b["phoneNumber"], "+14155551004")
        self.assertEqual(b["name"], "Émilie Zola")
        self.assertEqual(b["companyName"], "Zola & Fils")
        # Other spellings of the headers.
        for header in ("phone_number,prospect_name", "PhoneNumber,Name", "phone,full name"):
            with self.subTest(header=header):
                l2 = self.create_list(acct)
                rep = self.upload(acct, l2["id"], f"{header}\n+1 415 555 1010,Pat\n")
                self.assertEqual(rep["imported"], 1, rep)
                (lead,) = self.all_leads(acct, l2["id"])
                self.assertEqual((lead["phoneNumber"], lead["name"]), ("+14155551010", "Pat"))

    def test_upload_multipart(self):
        acct = self.register()
        lst = self.create_list(acct)
        boundary = "----gobi" + secrets.token_hex(8)
        csv = "phone,name\r\n+14155551020,Multi Part\r\n+14155551021,Second\r\n"
        body = (f"--{boundary}\r\n"
                f"Content-Disposition: form-data; name=\"listName\"\r\n\r\nignored\r\n"
                f"--{boundary}\r\n"
                f"Content-Disposition: form-data; name=\"file\"; filename=\"leads.csv\"\r\n"
                f"Content-Type: text/csv\r\n\r\n{csv}\r\n"
                f"--{boundary}--\r\n")
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token, raw=body,
                     content_type=f"multipart/form-data; boundary={boundary}")
        self.assertEqual(r.status, 200, repr(r))
        self.assertEqual(r.json["imported"], 2)
        self.assertEqual([l["phoneNumber"] for l in self.all_leads(acct, lst["id"])],
                         ["+14155551020", "+14155551021"])
        no_file = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n"
                   f"--{boundary}--\r\n")
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token, raw=no_file,
                     content_type=f"multipart/form-data; boundary={boundary}")
        self.assertError(r, 422, "validation_failed", field="file")
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token,
                     raw="not multipart at all", content_type=f"multipart/form-data; boundary=zz")
        self.assertIn(r.status, (400, 422), repr(r))
        self.assertIsNotNone(r.error)

    def test_invalid_rows_and_duplicates(self):
        acct = self.register()
        lst = self.create_list(acct)
        csv = ("phone,name,email,timezone\n"        # line 1
               "+14155551030,Ok One,,\n"             # 2
               "12,Too Short,,\n"                    # 3
               "+14155551031,Bad Mail,not-an-email,\n"  # 4
               "+14155551032,Bad Zone,,Mars/Olympus\n"  # 5
               ",No Phone,,\n"                       # 6
               "(415) 555-1030,Dup Of Line 2,,\n"    # 7
               "+14155551033,Ok Two,,\n")            # 8
        rep = self.upload(acct, lst["id"], csv)
        self.assertEqual(rep["imported"], 2)
        self.assertEqual(rep["duplicates"], 1)
        self.assertEqual([i["line"] for i in rep["invalid"]], [3, 4, 5, 6])
        for i in rep["invalid"]:
            self.assertIsInstance(i["reason"], str)
            self.assertTrue(i["reason"])
        # Uploading again dedupes against what is stored.
        rep = self.upload(acct, lst["id"], csv + "+14155551034,New,,\n")
        self.assertEqual((rep["imported"], rep["duplicates"]), (1, 3))
        self.assertEqual(len(self.all_leads(acct, lst["id"])), 3)
        # Broken files are refused as a whole.
        for bad, status, field in (("name,email\nx,y@z.com\n", 422, "phone"),
                                   ("phone\n\"+14155551040\n", 400, None),
                                   ("", 422, "content"), ("  \n", 422, "content")):
            with self.subTest(csv=bad):
                r = self.api("POST", f"/lead-lists/{lst['id']}/upload", {"content": bad}, acct.token)
                self.assertError(r, status, field=field)
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", {"csv": "phone\n+1415"}, acct.token)
        self.assertError(r, 422, field="content")
        self.assertEqual(len(self.all_leads(acct, lst["id"])), 3)

    def test_dnc_numbers_are_marked_on_import(self):
        acct = self.register()
        self.ok("POST", "/dnc", {"numbers": ["(415) 555-1050"], "reason": "asked"}, acct.token,
                status=201)
        lst = self.create_list(acct)
        rep = self.upload(acct, lst["id"], "phone\n+14155551050\n+14155551051\n")
        self.assertEqual(rep["imported"], 2)
        self.assertEqual(rep.get("dnc"), 1)
        states = {l["phoneNumber"]: l["state"] for l in self.all_leads(acct, lst["id"])}
        self.assertEqual(states, {"+14155551050": "DNC", "+14155551051": "PENDING"})

    def test_preview_and_paging(self):
        acct = self.register()
        lst = self.create_list(acct)
        phones = [f"+1415555{2000 + i}" for i in range(25)]
        self.upload(acct, lst["id"], "phone\n" + "\n".join(phones) + "\n")
        prev = self.ok("GET", f"/lead-lists/{lst['id']}/preview?limit=3", token=acct.token)
        self.assertEqual(len(self.assertList(prev, total=25)), 3)
        prev = self.ok("GET", f"/lead-lists/{lst['id']}/preview", token=acct.token)
        self.assertEqual(len(self.assertList(prev, total=25)), 10)
        seen = []
        for offset in range(0, 30, 7):
            page = self.ok("GET", f"/lead-lists/{lst['id']}/leads?offset={offset}&limit=7",
                           token=acct.token)
            items = self.assertList(page, total=25)
            self.assertEqual(len(items), max(0, min(7, 25 - offset)))
            seen += [l["phoneNumber"] for l in items]
        self.assertEqual(seen, phones)
        for p in seen:
            self.assertRegex(p, E164)
        for q in ("limit=abc", "limit=-1", "offset=x", "limit=1000000"):
            with self.subTest(query=q):
                r = self.api("GET", f"/lead-lists/{lst['id']}/leads?{q}", token=acct.token)
                self.assertError(r, 400, "invalid_argument")
        self.assertError(self.api("GET", f"/lead-lists/{lst['id']}/preview?limit=z",
                                  token=acct.token), 400)

    def test_default_body_limit_is_413_and_gobid_keeps_serving(self):
        acct = self.register()
        lst = self.create_list(acct)
        big = b"phone\n" + b"+14155550000\n" * ((10 * 1024 * 1024) // 13 + 1)
        self.assertGreater(len(big), 10 * 1024 * 1024)
        r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token, raw=big,
                     content_type="text/csv")
        self.assertError(r, 413, mentions=("10485760",))
        self.assertEqual(self.g.request("GET", "/health").status, 200)
        rep = self.upload(acct, lst["id"], "phone\n+14155550001\n")
        self.assertEqual(rep["imported"], 1)


class BodyLimitTest(GobidCase):
    gobid_args = ("--body-limit", "4096")

    def test_small_body_limit(self):
        acct = self.register()
        lst = self.create_list(acct)
        rows = [f"+1415555{3000 + i}" for i in range(400)]
        big = "phone\n" + "\n".join(rows) + "\n"
        self.assertGreater(len(big), 4096)
        for kw in ({"raw": big, "content_type": "text/csv"}, {"body": {"content": big}}):
            with self.subTest(kind=list(kw)[0]):
                r = self.api("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token, **kw)
                self.assertError(r, 413, mentions=("4096",))
                self.assertEqual(self.g.request("GET", "/health").status, 200)
        # A chunked body is cut off as soon as it grows past the limit.
        chunk = b"x" * 1000
        head = (f"POST /api/v1/lead-lists/{lst['id']}/upload HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {acct.token}\r\nContent-Type: text/csv\r\n"
                "Transfer-Encoding: chunked\r\n\r\n").encode()
        body = b"".join(b"3e8\r\n" + chunk + b"\r\n" for _ in range(10)) + b"0\r\n\r\n"
        self.assertError(parse_raw_response(self.g.raw(head + body)), 413)
        # Under the limit still works, and nothing of the refused uploads was stored.
        rep = self.upload(acct, lst["id"], "phone\n" + "\n".join(rows[:100]) + "\n")
        self.assertEqual(rep["imported"], 100)
        self.assertEqual(self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token)["leadCount"],
                         100)


# --- phone numbers and DNC --------------------------------------------------------------------

class PhoneNumbersTest(GobidCase):

    def test_crud_and_validation(self):
        acct = self.register()
        tail = phone_tail()
        n = self.ok("POST", "/phone-numbers",
                    {"number": f"({tail[:3]}) {tail[3:6]}-{tail[6:]}", "label": "Main line"},
                    acct.token, status=201)
        self.assertEqual(n["number"], "+1" + tail)
        self.assertEqual(n["label"], "Main line")
        self.assertIsNone(n["agentId"])
        self.assertEqual(n["tenantId"], acct.tenant)
        self.assertEqual(self.ok("GET", f"/phone-numbers/{n['id']}", token=acct.token), n)
        items = self.assertList(self.ok("GET", "/phone-numbers", token=acct.token), total=1)
        self.assertEqual(items[0]["id"], n["id"])
        for body in ({"number": "12345"}, {"number": "not a number"}, {"number": ""},
                     {"label": "no number"}, {"number": 14155550100}, {"number": "+999123456789"}):
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/phone-numbers", body, acct.token), 422,
                                 "validation_failed", field="number")
        # The same number in another spelling is a duplicate.
        r = self.api("POST", "/phone-numbers", {"number": "+1 " + tail}, acct.token)
        self.assertError(r, 409, "conflict", mentions=("+1" + tail,))
        u = self.ok("PUT", f"/phone-numbers/{n['id']}", {"label": "Sales"}, acct.token)
        self.assertEqual((u["label"], u["number"]), ("Sales", n["number"]))
        for bad in ("123", "", 5):
            with self.subTest(update=bad):
                self.assertError(self.api("PUT", f"/phone-numbers/{n['id']}", {"number": bad},
                                          acct.token), 422, field="number")
        other = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail(),
                                                   "friendlyName": "Alias label"},
                        acct.token, status=201)
        self.assertEqual(other["label"], "Alias label")
        self.assertError(self.api("PUT", f"/phone-numbers/{other['id']}", {"number": "+1" + tail},
                                  acct.token), 409, "conflict")
        self.assertEqual(self.api("DELETE", f"/phone-numbers/{n['id']}", token=acct.token).status,
                         204)
        self.assertError(self.api("GET", f"/phone-numbers/{n['id']}", token=acct.token), 404)
        self.assertError(self.api("DELETE", f"/phone-numbers/{n['id']}", token=acct.token), 404)
        # Free again once deleted.
        self.ok("POST", "/phone-numbers", {"number": "+1" + tail}, acct.token, status=201)

    def test_assign_agent(self):
        acct = self.register()
        agent = self.create_agent(acct)
        n = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail()}, acct.token,
                    status=201)
        path = f"/phone-numbers/{n['id']}/assign-agent"
        self.assertEqual(self.ok("POST", path, {"agentId": agent["id"]}, acct.token)["agentId"],
                         agent["id"])
        self.assertEqual(self.ok("GET", f"/phone-numbers/{n['id']}", token=acct.token)["agentId"],
                         agent["id"])
        self.assertError(self.api("POST", path, {"agentId": "agt_unknown"}, acct.token), 422,
                         "validation_failed", field="agentId", mentions=("agt_unknown",))
        self.assertError(self.api("POST", path, {}, acct.token), 422, field="agentId")
        self.assertError(self.api("POST", path, {"agentId": 5}, acct.token), 422, field="agentId")
        self.assertEqual(self.ok("GET", f"/phone-numbers/{n['id']}", token=acct.token)["agentId"],
                         agent["id"])
        self.assertIsNone(self.ok("POST", path, {"agentId": None}, acct.token)["agentId"])
        self.assertError(self.api("POST", "/phone-numbers/num_nope/assign-agent",
                                  {"agentId": agent["id"]}, acct.token), 404)
        # An INBOUND campaign can own the number; an OUTBOUND one cannot.
        self.deploy(acct, agent["id"])
        inbound = self.ok("POST", "/campaigns", {"name": "in", "campaignType": "INBOUND",
                                                 "agentIds": [agent["id"]]}, acct.token, status=201)
        u = self.ok("PUT", f"/phone-numbers/{n['id']}", {"campaignId": inbound["id"]}, acct.token)
        self.assertEqual(u["campaignId"], inbound["id"])
        self.assertError(self.api("PUT", f"/phone-numbers/{n['id']}", {"campaignId": "cmp_nope"},
                                  acct.token), 422, field="campaignId")
        # Deleting the agent unassigns it.
        self.ok("PUT", f"/phone-numbers/{n['id']}", {"campaignId": None}, acct.token)
        self.ok("POST", path, {"agentId": agent["id"]}, acct.token)
        self.assertEqual(self.api("DELETE", f"/campaigns/{inbound['id']}", token=acct.token).status,
                         204)
        self.assertEqual(self.ok("GET", "/phone-numbers", token=acct.token)["items"][0]["agentId"],
                         agent["id"])
        self.assertEqual(self.api("DELETE", f"/agents/{agent['id']}", token=acct.token).status, 204)
        self.assertIsNone(self.ok("GET", f"/phone-numbers/{n['id']}", token=acct.token)["agentId"])
        self.assertListAgrees(acct, "/phone-numbers")


class DncTest(GobidCase):

    def test_add_list_remove(self):
        acct = self.register()
        r = self.ok("POST", "/dnc", {"numbers": ["(415) 555-0198", "+1 415 555 0199",
                                                 "415-555-0199"], "reason": "opted out"},
                    acct.token, status=201)
        self.assertEqual(sorted(r["numbers"]), ["+14155550198", "+14155550199"])
        self.assertEqual(r["added"], 2)
        r = self.ok("POST", "/dnc", {"number": "+14155550197"}, acct.token, status=201)
        self.assertEqual(r["numbers"], ["+14155550197"])
        # Adding again is harmless.
        again = self.ok("POST", "/dnc", {"numbers": ["+14155550198"]}, acct.token, status=201)
        self.assertEqual(again["added"], 0)
        items = self.assertList(self.ok("GET", "/dnc", token=acct.token), total=3)
        by_number = {i["number"]: i for i in items}
        self.assertEqual(set(by_number), {"+14155550197", "+14155550198", "+14155550199"})
        self.assertEqual(by_number["+14155550198"]["reason"], "opted out")
        self.assertIso(by_number["+14155550198"]["createdAt"])
        # Paging.
        p1 = self.assertList(self.ok("GET", "/dnc?offset=0&limit=2", token=acct.token), total=3)
        p2 = self.assertList(self.ok("GET", "/dnc?offset=2&limit=2", token=acct.token), total=3)
        self.assertEqual(len(p1), 2)
        self.assertEqual(len(p2), 1)
        self.assertEqual({i["number"] for i in p1 + p2}, set(by_number))
        self.assertError(self.api("GET", "/dnc?limit=x", token=acct.token), 400)
        # Removal: the number may be given in any spelling ('+' percent-encoded or not).
        self.assertEqual(self.api("DELETE", "/dnc/%2B14155550198", token=acct.token).status, 204)
        self.assertEqual(self.api("DELETE", "/dnc/+14155550197", token=acct.token).status, 204)
        q = urllib.parse.quote("(415) 555-0199")
        self.assertEqual(self.api("DELETE", f"/dnc/{q}", token=acct.token).status, 204)
        self.assertList(self.ok("GET", "/dnc", token=acct.token), total=0)
        self.assertError(self.api("DELETE", "/dnc/+14155550198", token=acct.token), 404,
                         "not_found")
        self.assertError(self.api("DELETE", "/dnc/+14155550000", token=acct.token), 404)
        self.assertError(self.api("DELETE", "/dnc/garbage", token=acct.token), 422, field="number")

    def test_invalid_numbers_are_listed(self):
        acct = self.register()
        r = self.api("POST", "/dnc", {"numbers": ["+14155550196", "12345", "call me maybe"]},
                     acct.token)
        self.assertError(r, 422, "validation_failed", field="numbers", mentions=("12345", "call me maybe"))
        self.assertList(self.ok("GET", "/dnc", token=acct.token), total=0)
        for body in ({}, {"numbers": []}, {"numbers": "+14155550196"}, {"numbers": [5]},
                     {"number": 14155550196}):
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/dnc", body, acct.token), 422, "validation_failed")

    def test_pending_leads_are_marked(self):
        acct = self.register()
        l1 = self.create_list(acct, csv="phone\n+14155550180\n+14155550181\n")
        l2 = self.create_list(acct, csv="phone\n(415) 555-0180\n")
        r = self.ok("POST", "/dnc", {"numbers": ["415 555 0180"]}, acct.token, status=201)
        self.assertEqual(r["leadsMarked"], 2)
        states = {l["phoneNumber"]: l["state"] for l in self.all_leads(acct, l1["id"])}
        self.assertEqual(states, {"+14155550180": "DNC", "+14155550181": "PENDING"})
        self.assertEqual([l["state"] for l in self.all_leads(acct, l2["id"])], ["DNC"])
        # Another tenant's leads with that number are not touched.
        other = self.register()
        l3 = self.create_list(other, csv="phone\n+14155550181\n")
        self.ok("POST", "/dnc", {"numbers": ["+14155550181"]}, acct.token, status=201)
        self.assertEqual([l["state"] for l in self.all_leads(other, l3["id"])], ["PENDING"])
        self.assertList(self.ok("GET", "/dnc", token=other.token), total=0)


# --- concurrency -------------------------------------------------------------------------------

class ConcurrencyTest(GobidCase):
    allowed_log_errors = (r"-> 503: (agent|campaign|lead list) \S+ was stopped",)

    def test_racing_requests_have_one_winner(self):
        email = unique("race") + "@example.com"
        statuses = in_parallel(12, lambda i: self.api("POST", "/auth/register", {
            "email": email, "password": "race password", "tenantName": f"T{i}"}).status)
        self.assertEqual(sorted(statuses), [201] + [409] * 11)
        acct = self.register()
        number = "+1" + phone_tail()
        statuses = in_parallel(12, lambda i: self.api("POST", "/phone-numbers", {"number": number},
                                                      acct.token).status)
        self.assertEqual(sorted(statuses), [201] + [409] * 11)
        agent = self.active_agent(acct)
        camp = self.ok("POST", "/campaigns", {"name": "race", "campaignType": "INBOUND",
                                              "agentIds": [agent["id"]]}, acct.token, status=201)
        statuses = in_parallel(8, lambda i: self.api("POST", f"/campaigns/{camp['id']}/start",
                                                     token=acct.token).status)
        self.assertEqual(sorted(statuses), [200] + [409] * 7)

    def test_parallel_writes_all_land(self):
        acct = self.register()
        created = in_parallel(24, lambda i: self.api("POST", "/agents", {"name": f"p{i}"},
                                                     acct.token))
        self.assertEqual([r.status for r in created], [201] * 24, created)
        items = self.assertListAgrees(acct, "/agents")
        self.assertEqual({a["name"] for a in items}, {f"p{i}" for i in range(24)})
        lst = self.create_list(acct)
        csv = "phone\n" + "\n".join(f"+1212555{2000 + i}" for i in range(300)) + "\n"
        reports = in_parallel(6, lambda i: self.upload(acct, lst["id"], csv))
        self.assertEqual(sum(r["imported"] for r in reports), 300)
        self.assertEqual(sum(r["duplicates"] for r in reports), 5 * 300)
        self.assertEqual(self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token)["leadCount"],
                         300)
        agent = created[0].json
        beats = in_parallel(10, lambda i: self.api("POST", f"/agents/{agent['id']}/heartbeat",
                                                   {"status": "RUNNING"}, acct.token).status)
        self.assertEqual(beats, [200] * 10)
        self.assertEqual(self.ok("GET", f"/agents/{agent['id']}", token=acct.token)["status"],
                         "ACTIVE")

    def test_deleting_entities_under_load_answers_every_request(self):
        # Requests racing a DELETE of their entity are answered at once (done, refused, not
        # found or 503), never left to gobid's internal 10 s timeout.
        acct = self.register()
        lst = self.create_list(acct, csv="phone\n+12125550100\n")
        for _ in range(5):
            agent = self.active_agent(acct)
            camp = self.ok("POST", "/campaigns", {"name": "doomed", "campaignType": "OUTBOUND",
                                                  "agentIds": [agent["id"]],
                                                  "leadListIds": [lst["id"]]},
                           acct.token, status=201)

            def hit(i):
                if i == 0:
                    return self.api("DELETE", f"/campaigns/{camp['id']}", token=acct.token,
                                    timeout_s=5).status
                if i == 1:
                    return self.api("DELETE", f"/agents/{agent['id']}", token=acct.token,
                                    timeout_s=5).status
                if i % 2:
                    return self.api("POST", f"/agents/{agent['id']}/heartbeat",
                                    {"status": "RUNNING"}, acct.token, timeout_s=5).status
                return self.api("POST", f"/campaigns/{camp['id']}/start", token=acct.token,
                                timeout_s=5).status
            statuses = in_parallel(12, hit)
            for s in statuses:
                self.assertIn(s, (200, 204, 404, 409, 422, 503), statuses)

    def upload_in_background(self, acct, list_id, csv):
        """Starts an upload on its own connection; join() answers (status, JSON body)."""
        def run(sent):
            conn = http.client.HTTPConnection(LOOPBACK, self.g.port, timeout=60)
            try:
                conn.request("POST", f"/api/v1/lead-lists/{list_id}/upload", body=csv,
                             headers={"Content-Type": "text/csv",
                                      "Authorization": f"Bearer {acct.token}"})
                sent.set()
                resp = conn.getresponse()
                return resp.status, json.loads(resp.read())
            finally:
                conn.close()
        bg = Background(run)
        self.assertTrue(bg.sent.wait(20), "the upload was not sent")
        return bg

    def test_deleting_a_list_during_an_upload_answers_the_upload(self):
        # A big upload keeps STORAGE busy, so a small upload and the DELETE of its list queue
        # up behind it and may interleave (the exact interleaving is pinned down in the actor
        # tests). Whatever happens, every request is answered, and soon.
        acct = self.register()
        big = ("phone\n" + "\n".join(f"+1212{3000000 + i}" for i in range(60000)) + "\n").encode()
        small = ("phone\n" + "\n".join(f"+1212{5000000 + i}" for i in range(2000)) + "\n").encode()
        for attempt in range(3):
            busy = self.upload_in_background(acct, self.create_list(acct)["id"], big)
            victim = self.create_list(acct)
            upload = self.upload_in_background(acct, victim["id"], small)
            self.assertEqual(self.api("DELETE", f"/lead-lists/{victim['id']}",
                                      token=acct.token).status, 204)
            status, body = upload.join(20)
            with self.subTest(attempt=attempt, status=status):
                if status == 200:
                    self.assertEqual(body["imported"], 2000)
                else:
                    self.assertIn(status, (404, 503), body)
                    self.assertIn("error", body)
            self.assertEqual(busy.join(30)[0], 200)
            self.assertError(self.api("GET", f"/lead-lists/{victim['id']}", token=acct.token), 404)
        self.assertEqual(self.g.request("GET", "/health").status, 200)


# --- tenant isolation --------------------------------------------------------------------------

class TenantIsolationTest(GobidCase):

    def test_tenant_b_cannot_touch_tenant_a(self):
        a = self.register()
        b = self.register()
        agent = self.active_agent(a)
        lst = self.create_list(a, csv="phone\n+14155550170\n")
        number = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail()}, a.token,
                         status=201)
        camp = self.ok("POST", "/campaigns", {"name": "A's", "campaignType": "OUTBOUND",
                                              "agentIds": [agent["id"]],
                                              "leadListIds": [lst["id"]],
                                              "numberIds": [number["id"]]}, a.token, status=201)
        self.ok("POST", "/dnc", {"numbers": ["+14155550171"]}, a.token, status=201)
        before = {p: self.ok("GET", p, token=a.token) for p in
                  (f"/agents/{agent['id']}", f"/lead-lists/{lst['id']}",
                   f"/phone-numbers/{number['id']}", f"/campaigns/{camp['id']}")}

        attempts = [
            ("GET", f"/agents/{agent['id']}", None),
            ("PUT", f"/agents/{agent['id']}", {"name": "stolen"}),
            ("PATCH", f"/agents/{agent['id']}", {"name": "stolen"}),
            ("POST", f"/agents/{agent['id']}/deploy", None),
            ("POST", f"/agents/{agent['id']}/heartbeat", {"status": "STOPPED"}),
            ("GET", f"/agents/{agent['id']}/runtime-config", None),
            ("GET", f"/agents/{agent['id']}/prompt-history", None),
            ("GET", f"/campaigns/{camp['id']}", None),
            ("PUT", f"/campaigns/{camp['id']}", {"name": "stolen"}),
            ("POST", f"/campaigns/{camp['id']}/start", None),
            ("POST", f"/campaigns/{camp['id']}/pause", None),
            ("GET", f"/tenants/{a.tenant}/campaigns", None),
            ("GET", f"/tenants/{a.tenant}/campaigns/{camp['id']}", None),
            ("GET", f"/lead-lists/{lst['id']}", None),
            ("PUT", f"/lead-lists/{lst['id']}", {"name": "stolen"}),
            ("POST", f"/lead-lists/{lst['id']}/upload", {"content": "phone\n+14155550172\n"}),
            ("GET", f"/lead-lists/{lst['id']}/preview", None),
            ("GET", f"/lead-lists/{lst['id']}/leads", None),
            ("GET", f"/phone-numbers/{number['id']}", None),
            ("PUT", f"/phone-numbers/{number['id']}", {"label": "stolen"}),
            ("POST", f"/phone-numbers/{number['id']}/assign-agent", {"agentId": None}),
            ("DELETE", "/dnc/+14155550171", None),
            ("DELETE", f"/campaigns/{camp['id']}", None),
            ("DELETE", f"/lead-lists/{lst['id']}", None),
            ("DELETE", f"/phone-numbers/{number['id']}", None),
            ("DELETE", f"/agents/{agent['id']}", None),
        ]
        for method, path, body in attempts:
            with self.subTest(method=method, path=path):
                self.assertError(self.api(method, path, body, b.token), 404, "not_found")

        # B cannot reference A's things from its own.
        b_agent = self.active_agent(b)
        r = self.api("POST", "/campaigns", {"name": "B", "campaignType": "OUTBOUND",
                                            "agentIds": [agent["id"]], "leadListIds": [lst["id"]]},
                     b.token)
        self.assertError(r, 422, mentions=(agent["id"],))
        r = self.api("POST", "/campaigns", {"name": "B", "campaignType": "INBOUND",
                                            "agentIds": [b_agent["id"]],
                                            "numberIds": [number["id"]]}, b.token)
        self.assertError(r, 422, mentions=(number["id"],))
        b_number = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail()}, b.token,
                           status=201)
        r = self.api("POST", f"/phone-numbers/{b_number['id']}/assign-agent",
                     {"agentId": agent["id"]}, b.token)
        self.assertError(r, 422, field="agentId")
        # A's number cannot be registered again by B.
        self.assertError(self.api("POST", "/phone-numbers", {"number": number["number"]}, b.token),
                         409)

        # B's lists show only B's things.
        self.assertEqual([x["id"] for x in self.ok("GET", "/agents", token=b.token)["items"]],
                         [b_agent["id"]])
        self.assertEqual([x["id"] for x in self.ok("GET", "/phone-numbers", token=b.token)["items"]],
                         [b_number["id"]])
        for path in ("/campaigns", f"/tenants/{b.tenant}/campaigns", "/lead-lists", "/dnc"):
            with self.subTest(list=path):
                self.assertList(self.ok("GET", path, token=b.token), total=0)
        # A's things are untouched.
        for path, doc in before.items():
            with self.subTest(unchanged=path):
                self.assertEqual(self.ok("GET", path, token=a.token), doc)
        self.assertEqual(len(self.all_leads(a, lst["id"])), 1)
        self.assertList(self.ok("GET", "/dnc", token=a.token), total=1)
        self.assertEqual(self.ok("GET", "/auth/me", token=b.token)["user"]["tenantId"], b.tenant)


# --- demo data ---------------------------------------------------------------------------------

class DemoTest(GobidCase):
    gobid_args = ("--demo",)

    def test_demo_data_is_seeded_once_and_usable(self):
        # gobid prints how to log in; take the credentials from there.
        m = re.search(r'"email": "([^"]+)", "password": "([^"]+)"', self.g.log_tail(200))
        self.assertIsNotNone(m, self.g.log_tail())
        creds = {"email": m.group(1), "password": m.group(2)}
        token = self.ok("POST", "/auth/login", creds)["token"]
        counts = {p: self.ok("GET", p, token=token)["total"]
                  for p in ("/agents", "/campaigns", "/lead-lists", "/phone-numbers")}
        self.assertTrue(all(n >= 1 for n in counts.values()), counts)
        agents = self.ok("GET", "/agents", token=token)["items"]
        self.assertIn("ACTIVE", [a["status"] for a in agents])
        lst = self.ok("GET", "/lead-lists", token=token)["items"][0]
        self.assertGreater(lst["leadCount"], 0)
        self.g.restart()  # --demo again: nothing is seeded twice
        self.assertEqual({p: self.ok("GET", p, token=token)["total"] for p in counts}, counts)
        camp = self.ok("GET", "/campaigns", token=token)["items"][0]
        self.assertEqual(self.ok("POST", f"/campaigns/{camp['id']}/start", token=token)["status"],
                         "RUNNING")


# --- restart -------------------------------------------------------------------------------------

class RestartTest(GobidCase):
    allowed_log_errors = (r"-> 503: lead list \S+ was stopped during the upload",)

    def test_everything_survives_a_restart(self):
        acct = self.register()
        active = self.active_agent(acct, **{k: v for k, v in SEED_AGENT.items() if k != "name"})
        self.ok("POST", f"/agents/{active['id']}/heartbeat",
                {"status": "RUNNING", "metrics": {"total_calls": 3}}, acct.token)
        self.ok("PUT", f"/agents/{active['id']}", {"systemPrompt": "second prompt"}, acct.token)
        inactive = self.create_agent(acct)
        lst = self.create_list(acct, csv="phone,name\n+14155550160,Kept\n+14155550161,Also\n")
        number = self.ok("POST", "/phone-numbers", {"number": "+1" + phone_tail()}, acct.token,
                         status=201)
        self.ok("POST", f"/phone-numbers/{number['id']}/assign-agent", {"agentId": active["id"]},
                acct.token)
        camp = self.ok("POST", "/campaigns", {"name": "survivor", "campaignType": "OUTBOUND",
                                              "agentIds": [active["id"]], "leadListIds": [lst["id"]],
                                              "agentInstructions": "Hi [Prospect Name]"},
                       acct.token, status=201)
        self.ok("POST", f"/campaigns/{camp['id']}/start", token=acct.token)
        self.ok("POST", "/dnc", {"numbers": ["+14155550162"], "reason": "kept"}, acct.token,
                status=201)
        paths = ["/auth/me", "/agents", f"/agents/{active['id']}", f"/agents/{inactive['id']}",
                 f"/agents/{active['id']}/prompt-history", "/campaigns", f"/campaigns/{camp['id']}",
                 "/lead-lists", f"/lead-lists/{lst['id']}", f"/lead-lists/{lst['id']}/leads",
                 "/phone-numbers", "/dnc"]
        before = {p: self.ok("GET", p, token=acct.token) for p in paths}

        self.g.restart()  # asserts a clean exit (status 0) on SIGTERM

        for p in paths:
            with self.subTest(path=p):
                self.assertEqual(self.ok("GET", p, token=acct.token), before[p])
        self.assertEqual(before[f"/agents/{active['id']}"]["status"], "ACTIVE")
        self.assertEqual(before[f"/agents/{inactive['id']}"]["status"], "INACTIVE")
        self.assertEqual(before[f"/campaigns/{camp['id']}"]["status"], "RUNNING")
        # The restored actors work: transitions, heartbeats, uploads (deduped) all go on.
        self.assertEqual(self.ok("POST", f"/campaigns/{camp['id']}/pause",
                                 token=acct.token)["status"], "PAUSED")
        self.assertEqual(self.ok("POST", f"/agents/{active['id']}/heartbeat", {"status": "STOPPED"},
                                 acct.token)["status"], "INACTIVE")
        rep = self.upload(acct, lst["id"], "phone\n+14155550160\n+14155550162\n")
        self.assertEqual((rep["imported"], rep["duplicates"], rep.get("dnc")), (1, 1, 1))
        login = self.ok("POST", "/auth/login", {"email": acct.email, "password": acct.password})
        self.assertEqual(login["user"]["id"], acct.user["id"])
        # And a second restart keeps what changed after the first.
        self.g.restart()
        self.assertEqual(self.ok("GET", f"/campaigns/{camp['id']}", token=acct.token)["status"],
                         "PAUSED")
        self.assertEqual(self.ok("GET", f"/agents/{active['id']}", token=acct.token)["status"],
                         "INACTIVE")
        self.assertEqual(len(self.all_leads(acct, lst["id"])), 3)
        self.ok("GET", "/auth/me", token=login["token"])

    def test_sigterm_during_an_upload(self):
        acct = self.register()
        lst = self.create_list(acct)
        csv = ("phone\n" + "\n".join(f"+1212{4000000 + i}" for i in range(60000)) + "\n").encode()

        def upload(sent):
            conn = http.client.HTTPConnection(LOOPBACK, self.g.port, timeout=60)
            try:
                conn.request("POST", f"/api/v1/lead-lists/{lst['id']}/upload", body=csv,
                             headers={"Content-Type": "text/csv",
                                      "Authorization": f"Bearer {acct.token}"})
                sent.set()
                return conn.getresponse().status
            except OSError as e:
                return e
            finally:
                conn.close()
        bg = Background(upload)
        self.assertTrue(bg.sent.wait(20))
        self.g.restart()  # asserts exit status 0
        bg.join(30)
        # Whatever was stored is consistent: uploading again completes the list.
        stored = self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token)["leadCount"]
        self.assertIn(stored, range(0, 60001))
        rep = self.ok("POST", f"/lead-lists/{lst['id']}/upload", token=acct.token, raw=csv,
                      content_type="text/csv")
        self.assertEqual((rep["imported"], rep["duplicates"]), (60000 - stored, stored))
        self.assertEqual(self.ok("GET", f"/lead-lists/{lst['id']}", token=acct.token)["leadCount"],
                         60000)


# --- SIP trunks and calls ------------------------------------------------------------------------

TRUNK = {"name": "Carrier", "host": "sip.carrier.example", "port": 5080, "transport": "TCP",
         "username": "acme", "password": "s3cret-trunk-pass", "fromNumber": "(415) 555-0100",
         "maxChannels": 30, "callsPerSecond": 2.5}


class SipTrunksTest(GobidCase):

    def test_crud(self):
        acct = self.register()
        t = self.ok("POST", "/sip-trunks", TRUNK, acct.token, status=201)
        self.assertTrue(t["id"].startswith("trk_"), t)
        self.assertEqual(t["tenantId"], acct.tenant)
        self.assertEqual(
            (t["name"], t["host"], t["port"], t["transport"], t["username"], t["fromNumber"],
             t["maxChannels"], t["callsPerSecond"]),
            ("Carrier", "sip.carrier.example", 5080, "tcp", "acme", "+14155550100", 30, 2.5))
        self.assertIs(t["hasPassword"], True)
        self.assertNotIn("password", t)
        self.assertIso(t["createdAt"])
        self.assertIso(t["updatedAt"])
        self.assertEqual(self.ok("GET", f"/sip-trunks/{t['id']}", token=acct.token), t)
        self.assertEqual(self.assertList(self.ok("GET", "/sip-trunks", token=acct.token), 1), [t])

        d = self.ok("POST", "/sip-trunks", {"name": "PBX", "host": "10.0.0.5"}, acct.token,
                    status=201)
        self.assertEqual((d["port"], d["transport"], d["username"], d["hasPassword"],
                          d["fromNumber"], d["maxChannels"], d["callsPerSecond"]),
                         (5060, "udp", "", False, "", 10, 1.0))

        # PUT and PATCH merge; an omitted password is kept, "" clears it.
        u = self.ok("PATCH", f"/sip-trunks/{t['id']}", {"port": 5061, "transport": "Udp"},
                    acct.token)
        self.assertEqual((u["port"], u["transport"], u["name"], u["hasPassword"]),
                         (5061, "udp", "Carrier", True))
        self.assertIs(self.ok("PUT", f"/sip-trunks/{t['id']}", {"password": ""},
                              acct.token)["hasPassword"], False)
        u = self.ok("PUT", f"/sip-trunks/{t['id']}", {"password": "n3w-trunk-pass",
                                                      "fromNumber": "+1 212 555 0111"}, acct.token)
        self.assertIs(u["hasPassword"], True)
        self.assertEqual(u["fromNumber"], "+12125550111")
        self.assertEqual(u["createdAt"], t["createdAt"])
        self.assertListAgrees(acct, "/sip-trunks")
        # The password never leaves gobid.
        for path in ("/sip-trunks", f"/sip-trunks/{t['id']}"):
            body = self.api("GET", path, token=acct.token).body
            for secret in (b"s3cret-trunk-pass", b"n3w-trunk-pass", b'"password"'):
                self.assertNotIn(secret, body, path)

        self.assertEqual(self.api("DELETE", f"/sip-trunks/{t['id']}", token=acct.token).status,
                         204)
        self.assertError(self.api("GET", f"/sip-trunks/{t['id']}", token=acct.token), 404)
        self.assertError(self.api("DELETE", f"/sip-trunks/{t['id']}", token=acct.token), 404)
        self.assertEqual(self.assertList(self.ok("GET", "/sip-trunks", token=acct.token), 1)[0],
                         d)

    def test_validation_names_the_field(self):
        acct = self.register()
        cases = [({"host": "h.example"}, "name"), ({"name": "x"}, "host"),
                 ({"name": "x", "host": ""}, "host"),
                 ({"name": "x", "host": "sip:h.example"}, "host"),
                 ({"name": "x", "host": "h", "port": 0}, "port"),
                 ({"name": "x", "host": "h", "port": 65536}, "port"),
                 ({"name": "x", "host": "h", "port": "5060"}, "port"),
                 ({"name": "x", "host": "h", "transport": "tls"}, "transport"),
                 ({"name": "x", "host": "h", "fromNumber": "12345"}, "fromNumber"),
                 ({"name": "x", "host": "h", "maxChannels": 0}, "maxChannels"),
                 ({"name": "x", "host": "h", "callsPerSecond": 0}, "callsPerSecond"),
                 ({"name": "x", "host": "h", "callsPerSecond": -2}, "callsPerSecond"),
                 ({"name": "x", "host": "h", "password": 1234}, "password")]
        for body, field in cases:
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/sip-trunks", body, acct.token), 422,
                                 "validation_failed", field=field)
        self.assertError(self.api("POST", "/sip-trunks", raw="{nope", token=acct.token,
                                  content_type="application/json"), 400, "invalid_argument")
        t = self.ok("POST", "/sip-trunks", TRUNK, acct.token, status=201)
        for body, field in (({"maxChannels": -1}, "maxChannels"), ({"name": ""}, "name"),
                            ({"transport": "sctp"}, "transport")):
            with self.subTest(update=body):
                self.assertError(self.api("PATCH", f"/sip-trunks/{t['id']}", body, acct.token),
                                 422, field=field)
        self.assertEqual(self.ok("GET", f"/sip-trunks/{t['id']}", token=acct.token), t)
        self.assertError(self.api("POST", f"/sip-trunks/{t['id']}", {}, acct.token), 405)

    def test_tenant_isolation(self):
        a, b = self.register(), self.register()
        t = self.ok("POST", "/sip-trunks", TRUNK, a.token, status=201)
        self.assertList(self.ok("GET", "/sip-trunks", token=b.token), 0)
        self.assertError(self.api("GET", f"/sip-trunks/{t['id']}", token=b.token), 404)
        self.assertError(self.api("PUT", f"/sip-trunks/{t['id']}", {"name": "mine"}, b.token), 404)
        self.assertError(self.api("PATCH", f"/sip-trunks/{t['id']}", {"name": "mine"}, b.token),
                         404)
        self.assertError(self.api("DELETE", f"/sip-trunks/{t['id']}", token=b.token), 404)
        self.assertEqual(self.ok("GET", f"/sip-trunks/{t['id']}", token=a.token), t)


def seed_sql(g, sql):
    """Runs SQL on a gobid's database behind its back: call records that only telephony
    writes otherwise."""
    if g.database.backend == "sqlite":
        import sqlite3
        conn = sqlite3.connect(g.database.url(g.data_dir)[len("sqlite:"):], timeout=10)
        try:
            conn.executescript(sql)
        finally:
            conn.close()
    else:
        from gobid_harness import _psql
        _psql(g.database.url(g.data_dir), sql)


class CallsTest(GobidCase):
    """The calls API without placing calls: validation, and call records seeded in the
    database as telephony writes them. (A gobid built without CALL_SUPERVISOR answers 503
    "telephony is not running" to originate and to hanging up a live call.)"""

    allowed_log_errors = (r"-> 503: telephony is not running",
                          r"-> 503: too many recording downloads at once")

    def setUp(self):
        self.acct = self.register()
        self.agent = self.create_agent(self.acct)
        self.trunk = self.ok("POST", "/sip-trunks", TRUNK, self.acct.token, status=201)

    def seed_call(self, call_id, created_at, status="ENDED", direction="OUTBOUND", agent=None,
                  recording="", tenant=None, answered_at=None, ended_at=None, outcome=None,
                  dtmf=None, media=None):
        """A call record as telephony writes it; without `dtmf` and `media`, as gobid wrote
        it before migration 7 (those columns are left to their defaults)."""
        sqlite = self.g.database.backend == "sqlite"
        q = lambda v: "NULL" if v is None else (str(v) if isinstance(v, (int, float)) else
                                                 "'" + v.replace("'", "''") + "'")
        seed_sql(self.g, (
            "INSERT INTO calls (id, tenant_id, direction, status, agent_id, campaign_id, lead_id,"
            " trunk_id, number_id, caller, callee, sip_call_id, sip_status, outcome, end_reason,"
            " codec, srtp, recording_path, created_at, answered_at, ended_at, updated_at) VALUES"
            f" ({q(call_id)}, {q(tenant or self.acct.tenant)}, {q(direction)}, {q(status)},"
            f" {q(agent)}, NULL, 17, {q(self.trunk['id'])}, NULL, '+14155550100', '+12125550123',"
            f" {q(call_id + '@gobi')}, {200 if answered_at else 0}, {q(outcome)},"
            f" {q('callee hung up' if outcome else '')}, 'PCMU/8000', {'0' if sqlite else 'false'},"
            f" {q(recording)}, {created_at}, {q(answered_at)}, {q(ended_at)}, {created_at});"))
        if dtmf is not None or media is not None:
            m = media or {}
            seed_sql(self.g, (
                f"UPDATE calls SET dtmf = {q(dtmf or '')}, packets_sent = {q(m.get('packetsSent'))},"
                f" packets_received = {q(m.get('packetsReceived'))},"
                f" packets_lost = {q(m.get('packetsLost'))}, jitter_ms = {q(m.get('jitterMs'))}"
                f" WHERE id = {q(call_id)};"))

    def test_list_is_empty_and_filters_are_checked(self):
        self.assertEqual(self.assertList(self.ok("GET", "/calls", token=self.acct.token), 0), [])
        for query in ("status=ENDED", "status=dialing", "direction=outbound",
                      f"agentId={self.agent['id']}", "campaignId=cmp_none", "offset=5&limit=10"):
            with self.subTest(query=query):
                self.assertList(self.ok("GET", "/calls?" + query, token=self.acct.token), 0)
        for query, field in (("status=done", "status"), ("direction=sideways", "direction"),
                             ("limit=5000", "limit"), ("limit=-1", "limit"),
                             ("offset=x", "offset")):
            with self.subTest(query=query):
                self.assertError(self.api("GET", "/calls?" + query, token=self.acct.token), 400,
                                 "invalid_argument", field=field)

    def test_unknown_calls_are_404(self):
        for method, path in (("GET", "/calls/call_nope"), ("GET", "/calls/call_nope/recording"),
                             ("POST", "/calls/call_nope/hangup")):
            with self.subTest(path=path):
                self.assertError(self.api(method, path, token=self.acct.token), 404, "not_found")
        self.assertError(self.api("PUT", "/calls/call_nope", {}, self.acct.token), 405)
        self.assertError(self.api("DELETE", "/calls/call_nope", token=self.acct.token), 405)
        self.assertError(self.api("GET", "/calls/call_nope/hangup", token=self.acct.token), 405)
        self.assertError(self.api("GET", "/calls/call_nope/other", token=self.acct.token), 404)

    def test_originate_is_validated_before_telephony(self):
        tok = self.acct.token
        good = {"agentId": self.agent["id"], "to": "(212) 555-0123", "trunkId": self.trunk["id"]}
        for change, field in (({"to": "12345"}, "to"), ({"to": "not a number"}, "to"),
                              ({"to": None}, "to"), ({"agentId": None}, "agentId"),
                              ({"trunkId": None}, "trunkId"), ({"from": "555"}, "from"),
                              ({"leadId": -3}, "leadId"), ({"to": 2125550123}, "to")):
            body = {k: v for k, v in {**good, **change}.items() if v is not None}
            with self.subTest(body=body):
                self.assertError(self.api("POST", "/calls", body, tok), 422, "validation_failed",
                                 field=field)
        other = self.register()
        foreign_agent = self.create_agent(other)
        foreign_trunk = self.ok("POST", "/sip-trunks", TRUNK, other.token, status=201)
        for change, field in (({"agentId": "agt_nope"}, "agentId"),
                              ({"agentId": foreign_agent["id"]}, "agentId"),
                              ({"trunkId": "trk_nope"}, "trunkId"),
                              ({"trunkId": foreign_trunk["id"]}, "trunkId"),
                              ({"campaignId": "cmp_nope"}, "campaignId")):
            with self.subTest(change=change):
                self.assertError(self.api("POST", "/calls", {**good, **change}, tok), 404,
                                 "not_found", field=field)
        # No caller id anywhere: the call names none and the trunk has none.
        bare = self.ok("POST", "/sip-trunks", {"name": "bare", "host": "127.0.0.1"}, tok,
                       status=201)
        self.assertError(self.api("POST", "/calls", {**good, "trunkId": bare["id"]}, tok), 422,
                         field="from")
        # A number on the tenant's do-not-call list is never dialled, however it is written.
        self.ok("POST", "/dnc", {"numbers": ["+12125550123"], "reason": "asked"}, tok,
                status=201)
        self.assertError(self.api("POST", "/calls", good, tok), 422, "validation_failed",
                         field="to", mentions=("do-not-call",))
        # Nothing invalid was stored. (A valid request places a real call: test/sip covers
        # that with SIP peers that answer.)
        self.assertList(self.ok("GET", "/calls", token=tok), 0)

    def test_call_records(self):
        tok = self.acct.token
        now = int(time.time() * 1000)
        rec_dir = os.path.join(self.g.data_dir, "recordings")
        os.makedirs(rec_dir, exist_ok=True)
        wav = b"RIFF" + os.urandom(3 * 1024 * 1024)
        with open(os.path.join(rec_dir, "a.wav"), "wb") as f:
            f.write(wav)
        sfx = secrets.token_hex(4)
        ids = {k: f"call_{k}_{sfx}" for k in ("recorded", "plain", "live", "gone", "foreign")}
        media = {"packetsSent": 125, "packetsReceived": 120, "packetsLost": 3, "jitterMs": 1.5}
        self.seed_call(ids["recorded"], now - 4000, agent=self.agent["id"],
                       recording=os.path.join(rec_dir, "a.wav"), answered_at=now - 3900,
                       ended_at=now - 1400, outcome="answered", dtmf="42#", media=media)
        self.seed_call(ids["plain"], now - 3000, direction="INBOUND", outcome="no-answer",
                       ended_at=now - 2000)
        self.seed_call(ids["live"], now - 2000, status="ANSWERED", agent=self.agent["id"],
                       answered_at=now - 1900, recording=os.path.join(rec_dir, "a.wav"))
        self.seed_call(ids["gone"], now - 1000, recording=os.path.join(rec_dir, "gone.wav"),
                       outcome="busy", ended_at=now - 900)
        other = self.register()
        self.seed_call(ids["foreign"], now, tenant=other.tenant,
                       recording=os.path.join(rec_dir, "a.wav"), ended_at=now, outcome="busy")

        items = self.assertList(self.ok("GET", "/calls", token=tok), 4)
        self.assertEqual([c["id"] for c in items],
                         [ids["gone"], ids["live"], ids["plain"], ids["recorded"]])
        for c in items:
            self.assertEqual(self.ok("GET", f"/calls/{c['id']}", token=tok), c)
        rec = items[3]
        self.assertEqual(set(rec), {
            "id", "tenantId", "direction", "status", "agentId", "campaignId", "leadId", "trunkId",
            "numberId", "from", "to", "sipCallId", "sipStatus", "outcome", "endReason", "codec",
            "srtp", "hasRecording", "dtmf", "media", "createdAt", "answeredAt", "endedAt",
            "durationMs", "updatedAt"})
        self.assertEqual((rec["dtmf"], rec["media"]), ("42#", media))
        self.assertEqual((rec["status"], rec["agentId"], rec["campaignId"], rec["leadId"],
                          rec["trunkId"], rec["sipStatus"], rec["outcome"], rec["durationMs"],
                          rec["hasRecording"], rec["srtp"]),
                         ("ENDED", self.agent["id"], None, 17, self.trunk["id"], 200, "answered",
                          2500, True, False))
        self.assertNotIn(rec_dir, json.dumps(rec))
        plain = items[2]
        self.assertEqual((plain["direction"], plain["sipStatus"], plain["answeredAt"],
                          plain["durationMs"], plain["hasRecording"], plain["dtmf"],
                          plain["media"]),
                         ("INBOUND", None, None, None, False, "", None))

        def page(query):
            return [c["id"] for c in self.ok("GET", "/calls?" + query, token=tok)["items"]]
        self.assertEqual(page("status=ended"), [ids["gone"], ids["plain"], ids["recorded"]])
        self.assertEqual(page("status=ANSWERED"), [ids["live"]])
        self.assertEqual(page("direction=INBOUND"), [ids["plain"]])
        self.assertEqual(page(f"agentId={self.agent['id']}"), [ids["live"], ids["recorded"]])
        self.assertEqual(page(f"agentId={self.agent['id']}&status=ENDED"), [ids["recorded"]])
        p = self.ok("GET", "/calls?offset=1&limit=2", token=tok)
        self.assertEqual(p["total"], 4)
        self.assertEqual([c["id"] for c in p["items"]], [ids["live"], ids["plain"]])

        r = self.api("GET", f"/calls/{ids['recorded']}/recording", token=tok)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.headers["Content-Type"], "audio/wav")
        self.assertEqual(r.body, wav)
        self.assertError(self.api("GET", f"/calls/{ids['live']}/recording", token=tok), 409,
                         "conflict")
        self.assertError(self.api("GET", f"/calls/{ids['plain']}/recording", token=tok), 404)
        self.assertError(self.api("GET", f"/calls/{ids['gone']}/recording", token=tok), 404)
        self.assertError(self.api("GET", f"/calls/{ids['foreign']}/recording", token=tok), 404)
        self.assertError(self.api("GET", f"/calls/{ids['foreign']}", token=tok), 404)
        # Several downloads at once all arrive whole (or are told to retry).
        results = in_parallel(8, lambda _i: self.api(
            "GET", f"/calls/{ids['recorded']}/recording", token=tok))
        for res in results:
            self.assertIn(res.status, (200, 503), repr(res))
            if res.status == 200:
                self.assertEqual(res.body, wav)
            else:
                self.assertEqual(res.headers["Retry-After"], "1")

        # Hanging up: an ended call is a conflict; a live one needs telephony.
        self.assertError(self.api("POST", f"/calls/{ids['recorded']}/hangup", token=tok), 409,
                         "conflict", mentions=("has ended",))
        self.assertError(self.api("POST", f"/calls/{ids['foreign']}/hangup", token=tok), 404)
        r = self.api("POST", f"/calls/{ids['live']}/hangup", token=tok)
        self.assertIn(r.status, (503, 404), repr(r))

        # A restart ends the calls the previous run left live.
        self.g.restart()
        live = self.ok("GET", f"/calls/{ids['live']}", token=tok)
        self.assertEqual((live["status"], live["outcome"], live["endReason"]),
                         ("ENDED", "failed", "gobid restarted"))
        self.assertIso(live["endedAt"])
        self.assertIsNotNone(live["durationMs"])
        self.assertEqual(self.ok("GET", f"/calls/{ids['recorded']}", token=tok)["outcome"],
                         "answered")
        self.assertEqual(page("status=ANSWERED"), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
