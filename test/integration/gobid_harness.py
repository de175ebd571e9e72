"""Starts the real gobid on a loopback port and talks HTTP to it.

Used by test_api.py and test/sip (sip_harness.py). Python 3 standard library only.

    db = Database.create("sqlite")          # or "postgresql" (needs GOBI_TEST_PG_URL)
    g = Gobid(db, extra_args=["--agent-heartbeat-timeout", "2"])
    g.start()                                # waits for GET /health, with a deadline
    r = g.api("POST", "/auth/login", {"email": ..., "password": ...})
    r.status, r.headers["content-type"], r.json
    g.restart()                              # SIGTERM (exit 0 asserted), same data dir and db
    g.close()                                # stop, drop the database, remove the data dir

Waiting is always polling an observable condition until a deadline (wait_until), never a
fixed sleep.
"""

import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse

LOOPBACK = "127.0.0.1"
START_DEADLINE_S = 30.0
STOP_DEADLINE_S = 20.0
REQUEST_TIMEOUT_S = 30.0


class HarnessError(AssertionError):
    """Something about gobid itself went wrong (did not start, did not exit cleanly)."""


def gobid_path():
    path = os.environ.get("GOBID")
    if not path:
        raise HarnessError("set GOBID to the gobid binary (CTest does: $<TARGET_FILE:gobid>)")
    if not os.access(path, os.X_OK):
        raise HarnessError(f"GOBID={path} is not an executable")
    return path


def free_port():
    """A TCP port that was free on loopback a moment ago (gobid binds it next)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def free_udp_port():
    """A UDP port that was free on loopback a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def free_udp_tcp_port():
    """A port free on loopback for both UDP and TCP a moment ago (SIP listens on both)."""
    for _attempt in range(50):
        port = free_udp_port()
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOOPBACK, port))
            except OSError:
                continue
            return port
    raise HarnessError("no port free for both UDP and TCP on loopback")


def free_udp_range(count, low=20000, high=60000):
    """(first, last): `count` consecutive UDP ports, first even, all free on loopback a moment
    ago (an RTP range: --rtp-ports first-last)."""
    rng = secrets.SystemRandom()
    for _attempt in range(50):
        first = rng.randrange(low, high - count) & ~1
        held = []
        try:
            for port in range(first, first + count):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                held.append(s)
                s.bind((LOOPBACK, port))
            return first, first + count - 1
        except OSError:
            continue
        finally:
            for s in held:
                s.close()
    raise HarnessError(f"no {count} consecutive free UDP ports on loopback")


def read_log(path):
    """A log file's text, undecodable bytes replaced; None when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


def wait_until(predicate, timeout_s, what, interval_s=0.05):
    """Polls `predicate` until it returns something truthy (returned) or the deadline passes
    (HarnessError naming `what` and the last value seen)."""
    deadline = time.monotonic() + timeout_s
    last = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise HarnessError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")
        time.sleep(interval_s)


# --- HTTP -------------------------------------------------------------------------------------

class Response:
    """One HTTP answer: status, headers (case-insensitive lookups), raw body, parsed JSON."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: headers["Allow"], get_all(...)
        self.body = body
        self.json = None
        if body:
            try:
                self.json = json.loads(body)
            except ValueError:
                pass

    @property
    def error(self):
        """The {"error": {...}} object of an error body, or None."""
        if isinstance(self.json, dict) and isinstance(self.json.get("error"), dict):
            return self.json["error"]
        return None

    def __repr__(self):
        text = self.body[:600].decode("utf-8", "replace")
        return f"<HTTP {self.status} {text}>"


def http_request(port, method, path, body=None, token=None, raw=None, content_type=None,
                 headers=None, timeout_s=REQUEST_TIMEOUT_S):
    """One request on a fresh connection. `body` is sent as JSON; `raw` (bytes or str) is sent
    as is, with `content_type` when given. A server that answers early and closes (413) is
    fine: the answer is still read."""
    hdrs = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    elif raw is not None:
        data = raw.encode() if isinstance(raw, str) else raw
    if content_type is not None:
        hdrs["Content-Type"] = content_type
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    try:
        try:
            conn.request(method, path, body=data, headers=hdrs)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered before reading everything; its answer is waiting
        resp = conn.getresponse()
        return Response(resp.status, resp.headers, resp.read())
    finally:
        conn.close()


def raw_exchange(port, data, timeout_s=10.0, read_answer=True):
    """Writes raw bytes on a new connection, half-closes, and returns what came back until
    the server closed (or b"" when it closed at once)."""
    with socket.create_connection((LOOPBACK, port), timeout=timeout_s) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if not read_answer:
            return b""
        chunks = []
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except (ConnectionResetError, socket.timeout):
            pass
        return b"".join(chunks)


def parse_raw_response(data):
    """The first HTTP response in raw bytes as a Response (None when there is none)."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"HTTP/1."):
        return None
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = http.client.HTTPMessage()
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip()] = value.strip()
    length = int(headers.get("Content-Length", "0"))
    return Response(status, headers, rest[:length])


# --- databases --------------------------------------------------------------------------------

def _psql(url, sql):
    proc = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql],
                          capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        raise HarnessError(f"psql {sql!r} failed: {proc.stderr.strip()}")


class Database:
    """Where a gobid keeps its data. SQLite: a file in the gobid's data dir. PostgreSQL: a
    fresh database created on the server of GOBI_TEST_PG_URL, dropped by drop()."""

    def __init__(self, backend, pg_admin_url=None, pg_name=None):
        self.backend = backend
        self.pg_admin_url = pg_admin_url
        self.pg_name = pg_name

    @staticmethod
    def create(backend):
        if backend == "sqlite":
            return Database("sqlite")
        if backend != "postgresql":
            raise HarnessError(f"unknown backend {backend!r} (sqlite or postgresql)")
        admin = os.environ.get("GOBI_TEST_PG_URL")
        if not admin:
            raise HarnessError("the postgresql backend needs GOBI_TEST_PG_URL")
        name = f"gobi_it_{os.getpid()}_{secrets.token_hex(4)}"
        _psql(admin, f'CREATE DATABASE "{name}"')
        return Database("postgresql", admin, name)

    def url(self, data_dir):
        if self.backend == "sqlite":
            return "sqlite:" + os.path.join(data_dir, "gobi.db")
        parts = urllib.parse.urlsplit(self.pg_admin_url)
        return urllib.parse.urlunsplit(parts._replace(path="/" + self.pg_name))

    def drop(self):
        if self.backend == "postgresql" and self.pg_name:
            _psql(self.pg_admin_url, f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            self.pg_name = None


def default_port_args():
    first, last = free_udp_range(20)
    return ["--sip-port", str(free_udp_tcp_port()), "--rtp-ports", f"{first}-{last}"]


# --- gobid ------------------------------------------------------------------------------------

class Gobid:
    """One gobid process (and its data dir and database, which outlive restarts)."""

    def __init__(self, database, extra_args=(), env=None, port_args=None):
        """`port_args`: called before each start attempt for more arguments naming ports
        (e.g. --sip-port), so a port taken in between is replaced by a fresh one."""
        self.database = database
        self.extra_args = list(extra_args)
        # Without port arguments of its own, a gobid still gets a SIP port and an RTP range
        # of its own, so suites running side by side never collide on the defaults (5060).
        self.port_args = port_args or default_port_args
        self.started_args = []
        self.extra_env = dict(env or {})
        self.data_dir = tempfile.mkdtemp(prefix="gobi-it-")
        self.log_path = os.path.join(self.data_dir, "gobid.log")
        self.proc = None
        self.port = None
        self.starts = 0

    # process control ----------------------------------------------------------------------

    def _env(self):
        env = {k: v for k, v in os.environ.items()
               if not (k.startswith("GOBI_") or k in ("DATABASE_URL", "PORT", "JWT_SECRET"))}
        env.update(self.extra_env)
        return env

    def start(self):
        """Starts gobid on a free port and waits until GET /health answers 200."""
        if self.proc is not None:
            raise HarnessError("gobid is already running")
        for _attempt in range(3):
            self.port = free_port()
            args = [gobid_path(), "--data-dir", self.data_dir, "--http-port", str(self.port),
                    "--database", self.database.url(self.data_dir)] + self.extra_args
            if self.port_args is not None:
                args += list(self.port_args())
            self.started_args = args
            self.starts += 1
            with open(self.log_path, "ab") as log:
                log.write(f"--- start {self.starts}: {' '.join(args)}\n".encode())
                log.flush()
                # cwd: the data dir, so the default config/gobi.toml of the repo is not read.
                self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                             cwd=self.data_dir, env=self._env())
            if self._wait_healthy():
                return self
            # Exited: retry only when someone took a port in between.
            self.proc = None
            if not re.search(r"gobid: --(http|sip)-port|--rtp-ports|address already in use",
                             self.log_tail(5), re.IGNORECASE):
                break
        raise HarnessError("gobid did not start:\n" + self.log_tail())

    def _wait_healthy(self):
        def ready():
            if self.proc.poll() is not None:
                return "exited"
            try:
                return "up" if http_request(self.port, "GET", "/health", timeout_s=2).status == 200 \
                    else None
            except OSError:
                return None
        try:
            return wait_until(ready, START_DEADLINE_S, "GET /health") == "up"
        except HarnessError:
            self.kill()
            raise HarnessError("gobid never answered /health:\n" + self.log_tail())

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM, then asserts that gobid exits with status 0 within the deadline."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is not None:
            raise HarnessError(f"gobid had already exited ({proc.returncode}):\n{self.log_tail()}")
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise HarnessError(f"gobid did not exit within {STOP_DEADLINE_S} s of SIGTERM:\n"
                               + self.log_tail())
        if code != 0:
            raise HarnessError(f"gobid exited with {code} after SIGTERM:\n{self.log_tail()}")

    def kill(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            self.proc = None

    def restart(self):
        """Stops cleanly (asserted) and starts again on the same data dir and database."""
        self.stop()
        return self.start()

    def close(self):
        """Stops (asserting a clean exit), drops the database, removes the data dir."""
        try:
            self.stop()
        finally:
            self.kill()
            try:
                self.database.drop()
            finally:
                if os.environ.get("GOBI_IT_KEEP_DATA"):
                    print(f"\nkept {self.data_dir}", flush=True)
                else:
                    shutil.rmtree(self.data_dir, ignore_errors=True)

    def logged_errors(self):
        """gobid's log lines at level error or critical (5xx answers are logged so)."""
        text = read_log(self.log_path) or ""
        return [l for l in text.splitlines() if re.match(r"^\S+ (error|critical) ", l)]

    def log_tail(self, lines=40):
        text = read_log(self.log_path)
        if text is None:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    # HTTP ---------------------------------------------------------------------------------

    def request(self, method, path, body=None, token=None, **kw):
        """A request on any path (e.g. "/health")."""
        return http_request(self.port, method, path, body=body, token=token, **kw)

    def api(self, method, path, body=None, token=None, **kw):
        """A request under the canonical prefix /api/v1."""
        return self.request(method, "/api/v1" + path, body=body, token=token, **kw)

    def raw(self, data, **kw):
        return raw_exchange(self.port, data, **kw)
