"""Real SIP peers for gobid's end-to-end telephony tests: SIPp and baresip, on loopback.

Used by test_sipp.py, test_baresip.py and test_peers.py. Python 3 standard library only;
gobid itself is started by test/integration/gobid_harness.py (imported from there, not
copied).

    sipp = Sipp(workdir, "cancel", "uac_cancel.xml", remote=("127.0.0.1", 5060),
                service="12125550100")
    sipp.run()                        # waits, with SIPp's own -timeout and a process deadline
    sipp.returncode, sipp.messages(), sipp.log_lines(), sipp.report()

    b = Baresip(workdir, "caller", source_wav=tone)   # config dir written per run
    b.start()                                          # waits for its control socket
    b.command("dial", "sip:12125550100@127.0.0.1:5060")
    b.wait_event("CALL_CLOSED", 20)
    b.stop(); b.received_wav()                         # what it heard (sndfile dump)

Every subprocess has a deadline; every wait polls an observable condition. A tool that is
not installed skips the suite (unittest.SkipTest), except under CI=true, where it fails.
"""

import array
import glob
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import unittest
import wave

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from gobid_harness import (LOOPBACK, Database, Gobid, HarnessError,  # noqa: E402
                           free_port, free_udp_port, free_udp_range, free_udp_tcp_port,
                           read_log, wait_until)

SCENARIOS = os.path.join(HERE, "scenarios")
BARESIP_TEMPLATES = os.path.join(HERE, "baresip")
SIPP_PCAPS = "/usr/share/sip-tester"
BARESIP_MODULES = "/usr/lib/baresip/modules"

#: The inbound number the suites route to their agent, and one nobody routes (212-555-01xx:
#: fictional, yet valid for libphonenumber, which gobid validates numbers with).
INBOUND_NUMBER = "+12125550100"
UNKNOWN_NUMBER = "12125550199"
#: The number gobid's outbound calls dial (baresip's user when it is the callee).
OUTBOUND_NUMBER = "+12125550142"

# --- tools ------------------------------------------------------------------------------------


def in_ci():
    return os.environ.get("CI") == "true"


def require_tool(name, why=""):
    """The path of `name`, or skip the suite (fail it under CI=true) when it is missing."""
    path = shutil.which(name)
    if path:
        return path
    message = f"{name} is not installed{why} (scripts/setup installs it)"
    if in_ci():
        raise RuntimeError("CI=true: " + message)
    raise unittest.SkipTest(message)


def require_path(path, why):
    if os.path.exists(path):
        return path
    message = f"{path} is missing: {why}"
    if in_ci():
        raise RuntimeError("CI=true: " + message)
    raise unittest.SkipTest(message)


def sipp_features():
    """The feature tags of `sipp -v` (e.g. {"PCAP", "RTPSTREAM", "SCTP"}) and its version."""
    out = subprocess.run(["sipp", "-v"], capture_output=True, text=True, timeout=10).stdout
    m = re.search(r"SIPp v?([0-9.]+)((?:-[A-Z0-9]+)*)", out)
    if not m:
        return "", set()
    return m.group(1), set(filter(None, m.group(2).split("-")))


def require_gobid_telephony():
    """gobid must know the telephony flags; an older gobid fails the suite with a clear
    message rather than a cascade of SIP timeouts."""
    from gobid_harness import gobid_path
    path = gobid_path()
    usage = subprocess.run([path, "--help"], capture_output=True, text=True, timeout=10)
    text = usage.stdout + usage.stderr
    missing = [f for f in ("--sip-port", "--rtp-ports", "--srtp", "--max-calls") if f not in text]
    if missing:
        raise HarnessError(f"{path} has no telephony yet: --help lacks {', '.join(missing)}")


# --- SIPp -------------------------------------------------------------------------------------


def scenario(name, workdir=None, **subst):
    """The path of scenarios/<name>; with `subst`, a copy in `workdir` with each @KEY@
    replaced (for what SIPp checks when it loads a scenario, like status codes)."""
    path = os.path.join(SCENARIOS, name)
    if not subst:
        return path
    with open(path, encoding="latin-1") as f:
        text = f.read()
    for key, value in subst.items():
        text = text.replace(f"@{key.upper()}@", str(value))
    if re.search(r"@[A-Z_]+@", text):
        raise HarnessError(f"{name}: placeholders left after substitution: "
                           f"{sorted(set(re.findall(r'@[A-Z_]+@', text)))}")
    out = os.path.join(workdir, os.path.basename(name).replace(".xml", "") + "-" +
                       "-".join(str(v).replace(" ", "_") for v in subst.values()) + ".xml")
    with open(out, "w", encoding="latin-1") as f:
        f.write(text)
    return out


class SipMessage:
    """One message of a SIPp message trace (-trace_msg)."""

    def __init__(self, direction, text):
        self.direction = direction  # "sent" or "received"
        self.text = text
        head, _, self.body = text.partition("\n\n")
        lines = head.split("\n")
        self.first_line = lines[0].strip()
        self.headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                self.headers.setdefault(name.strip().lower(), value.strip())

    @property
    def status(self):
        m = re.match(r"SIP/2\.0 (\d{3})", self.first_line)
        return int(m.group(1)) if m else None

    @property
    def method(self):
        """The request's method, or the CSeq method of a response."""
        if self.status is None:
            return self.first_line.split(" ")[0]
        return self.headers.get("cseq", " ").split(" ")[-1]

    @property
    def cseq(self):
        return self.headers.get("cseq", "")

    def __repr__(self):
        return f"<{self.direction} {self.first_line} / {self.cseq}>"


class Sipp:
    """One SIPp run. `scenario` is a file (scenario()) or a built-in name ("uac", "uas").
    Traces (messages, errors, <log> actions, screen) go to files in `workdir`, named after
    `name`; report() gathers them for a failure message."""

    def __init__(self, workdir, name, scenario_file, remote=None, local_port=None,
                 service=None, keys=None, calls=1, rate=None, limit=None, transport="u1",
                 duration_ms=None, timeout_s=30, extra=()):
        self.workdir = workdir
        self.name = name
        self.local_port = local_port or free_udp_tcp_port()
        self.timeout_s = timeout_s
        base = os.path.join(workdir, name)
        self.files = {k: f"{base}.{k}" for k in ("msg", "err", "log", "screen", "out")}
        args = ["sipp"]
        if scenario_file in ("uac", "uas"):
            args += ["-sn", scenario_file]
        else:
            args += ["-sf", scenario_file]
        args += ["-i", LOOPBACK, "-mi", LOOPBACK, "-p", str(self.local_port), "-t", transport,
                 "-m", str(calls), "-nostdin",
                 "-timeout", f"{timeout_s}s", "-timeout_error",
                 "-max_retrans", "4",
                 "-trace_msg", "-message_file", self.files["msg"],
                 "-trace_err", "-error_file", self.files["err"],
                 "-trace_logs", "-log_file", self.files["log"],
                 "-trace_screen", "-screen_file", self.files["screen"]]
        if service is not None:
            args += ["-s", str(service)]
        if rate is not None:
            args += ["-r", str(rate)]
        if limit is not None:
            args += ["-l", str(limit)]
        if duration_ms is not None:
            args += ["-d", str(duration_ms)]
        for key, value in (keys or {}).items():
            args += ["-key", key, str(value)]
        args += list(extra)
        if remote is not None:
            args.append(f"{remote[0]}:{remote[1]}")
        self.args = args
        self.proc = None
        self.returncode = None

    def start(self):
        out = open(self.files["out"], "wb")
        # SIPp redraws its screen on stdout; -trace_screen keeps the final one.
        self.proc = subprocess.Popen(self.args, stdout=out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.workdir)
        out.close()
        return self

    def wait_bound(self, timeout_s=10, may_move=True):
        """Waits until SIPp holds its local port (a server must before anyone sends to it).
        When someone took the port in between (SIPp exits: "Unable to bind"), SIPp starts
        again on a fresh port, unless `may_move` is False (the port was handed out)."""
        for _attempt in range(3):
            def bound():
                if self.proc.poll() is not None:
                    return "exited"
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    try:
                        s.bind((LOOPBACK, self.local_port))
                        return False
                    except OSError:
                        return "bound"
            state = wait_until(bound, timeout_s, f"SIPp {self.name} to bind port "
                               f"{self.local_port}")
            if state == "bound":
                return self
            self.returncode = self.proc.returncode
            if not may_move or "Unable to bind" not in self._read("out") + self._read("err"):
                break
            new_port = free_udp_tcp_port()
            self.args[self.args.index("-p") + 1] = str(new_port)
            self.local_port = new_port
            self.start()
        raise HarnessError(f"SIPp {self.name} exited early:\n" + self.report())

    def wait(self, timeout_s=None):
        """Waits for the exit (SIPp's -timeout plus a margin); returns the exit code
        (0: all calls succeeded, 1: some failed, 255 or 97..99: error or timeout)."""
        deadline = timeout_s if timeout_s is not None else self.timeout_s + 15
        try:
            self.returncode = self.proc.wait(timeout=deadline)
        except subprocess.TimeoutExpired:
            self.kill()
            raise HarnessError(f"SIPp {self.name} did not exit within {deadline} s:\n"
                               + self.report())
        return self.returncode

    def run(self, timeout_s=None):
        self.start()
        return self.wait(timeout_s)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc is not None:
            self.returncode = self.proc.returncode

    def _read(self, key):
        try:
            with open(self.files[key], "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def messages(self):
        """The SIP messages SIPp sent and received, in order (from -trace_msg)."""
        text = self._read("msg").replace("\r\n", "\n")
        out = []
        for chunk in re.split(r"^-{20,} [^\n]*\n", text, flags=re.MULTILINE):
            m = re.match(r"\s*(\S+) message (sent|received)[^\n]*\n\n?(.*)", chunk, re.DOTALL)
            if m and not chunk.lstrip().startswith("Unexpected"):
                out.append(SipMessage(m.group(2), m.group(3).strip("\n") + "\n"))
        return out

    def received(self, status=None, method=None):
        return [m for m in self.messages() if m.direction == "received"
                and (status is None or m.status == status)
                and (method is None or m.method == method)]

    def log_lines(self):
        """The lines of the scenario's <log> actions."""
        return [l for l in self._read("log").splitlines() if l.strip()]

    def report(self, messages=12):
        """What went on, for an assertion message."""
        parts = [f"$ {' '.join(self.args)}", f"exit code: {self.returncode}"]
        err = self._read("err").strip()
        if err:
            parts.append("errors:\n" + err[-3000:])
        logs = self.log_lines()
        if logs:
            parts.append("log actions:\n" + "\n".join(logs[-20:]))
        screen = self._read("screen").strip()
        if screen:
            parts.append("last screen:\n" + screen[-2500:])
        msgs = self.messages()
        if msgs:
            parts.append("messages: " + ", ".join(repr(m) for m in msgs[-messages:]))
        return "\n".join(parts)

    def assert_ok(self, testcase, what=None):
        testcase.assertEqual(self.returncode, 0,
                             f"SIPp {what or self.name} failed\n{self.report()}")


def successful_calls(sipp):
    """SIPp's count of successful calls (from its last statistics screen), or None."""
    m = re.findall(r"Successful call\s*\|\s*\d+\s*\|\s*(\d+)", sipp._read("screen"))
    return int(m[-1]) if m else None


# --- baresip ----------------------------------------------------------------------------------

def _netstring(data):
    return str(len(data)).encode() + b":" + data + b","


class Baresip:
    """One headless baresip with a config dir of its own (rendered from baresip/*.tmpl):
    no UI module, the ctrl_tcp module as the remote control (JSON in netstrings: commands
    in, events out), aufile as the microphone (a WAV file; the call hangs up when it ends)
    and sndfile dumping what it sends (-enc.wav) and what it hears (-dec.wav)."""

    #: baresip 1.0 has no resampler: the source WAV must have the codec's rate and channels
    #: (source_format), or the call gets no audio (G.711: 8000/1, Opus: 48000/2).
    SOURCE_RATE = 8000
    SOURCE_FORMATS = {"pcmu": (8000, 1), "pcma": (8000, 1), "opus": (48000, 2)}
    CODEC_MODULES = {"pcmu": "g711.so", "pcma": "g711.so", "opus": "opus.so", "g722": "g722.so"}
    #: audio_codecs wants name/rate/channels ("opus" alone means opus/8000/1: not found).
    CODEC_SPECS = {"pcmu": "PCMU/8000/1", "pcma": "PCMA/8000/1", "opus": "opus/48000/2"}

    def __init__(self, workdir, name, source_wav, user="baresip", codecs=("PCMU", "PCMA"),
                 mediaenc=None, answermode="manual", timeout_s=120):
        self.name = name
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.sip_port = self._free_sip_port()
        self.ctrl_port = free_port()
        rtp_first, rtp_last = free_udp_range(40)
        self.user = user
        self.timeout_s = timeout_s
        self.log_path = os.path.join(self.dir, "baresip.log")
        params = [f"answermode={answermode}",
                  "audio_codecs=" + ",".join(self.CODEC_SPECS.get(c.lower(), c) for c in codecs)]
        if mediaenc:
            params.append(f"mediaenc={mediaenc}")
        values = {
            "SIP_LISTEN": f"{LOOPBACK}:{self.sip_port}",
            "CTRL_LISTEN": f"{LOOPBACK}:{self.ctrl_port}",
            "RTP_PORTS": f"{rtp_first}-{rtp_last}",
            "SOURCE_WAV": os.path.abspath(source_wav),
            "DUMP_DIR": self.dir,
            "MODULE_PATH": BARESIP_MODULES,
            "LOOPBACK": LOOPBACK,
            "ACCOUNT": f"<sip:{user}@{LOOPBACK}:{self.sip_port}>;regint=0;" + ";".join(params),
            "CODEC_MODULES": "\n".join(f"module\t\t\t{m}" for m in sorted(
                {self.CODEC_MODULES[c.split("/")[0].lower()] for c in codecs})),
        }
        for template in ("config", "accounts"):
            with open(os.path.join(BARESIP_TEMPLATES, template + ".tmpl")) as f:
                text = f.read()
            text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)
            with open(os.path.join(self.dir, template), "w") as f:
                f.write(text)
        self.proc = None
        self.sock = None
        self.buffer = b""
        self.events = []
        self.responses = {}
        self.token = 0

    @staticmethod
    def source_format(codec):
        """(rate, channels) of a source WAV for `codec`."""
        return Baresip.SOURCE_FORMATS[codec.split("/")[0].lower()]

    @staticmethod
    def _free_sip_port():
        """A port free for UDP and TCP whose successor is free for TCP: baresip also
        listens for SIP over TLS, on the next port."""
        for _attempt in range(50):
            port = free_udp_tcp_port()
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                try:
                    s.bind((LOOPBACK, port + 1))
                    return port
                except OSError:
                    continue
        raise HarnessError("no SIP port for baresip")

    @property
    def uri(self):
        return f"sip:{self.user}@{LOOPBACK}:{self.sip_port}"

    def start(self):
        log = open(self.log_path, "wb")
        # -t: baresip quits by itself after the deadline, whatever happens to this test.
        # stdbuf: its log is written as it goes (a failure report shows the last lines).
        unbuffered = ["stdbuf", "-oL", "-eL"] if shutil.which("stdbuf") else []
        self.proc = subprocess.Popen(unbuffered + ["baresip", "-f", self.dir,
                                                   "-t", str(self.timeout_s)],
                                     stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, cwd=self.dir)
        log.close()

        def connected():
            if self.proc.poll() is not None:
                raise HarnessError(f"baresip {self.name} exited ({self.proc.returncode}):\n"
                                   + self.log_tail())
            try:
                self.sock = socket.create_connection((LOOPBACK, self.ctrl_port), timeout=1)
                return True
            except OSError:
                return False
        wait_until(connected, 15, f"baresip {self.name}'s control socket")
        self.sock.settimeout(0.1)
        return self

    def _pump(self):
        """Reads what the control socket has; parks events and command answers."""
        try:
            chunk = self.sock.recv(65536)
            if chunk:
                self.buffer += chunk
        except socket.timeout:
            pass
        except OSError:
            return
        while True:
            m = re.match(rb"(\d+):", self.buffer)
            if not m:
                return
            length = int(m.group(1))
            start = m.end()
            if len(self.buffer) < start + length + 1:
                return
            payload = self.buffer[start:start + length]
            self.buffer = self.buffer[start + length + 1:]
            try:
                obj = json.loads(payload)
            except ValueError:
                continue
            if obj.get("event"):
                self.events.append(obj)
            elif obj.get("response"):
                self.responses[obj.get("token")] = obj

    def command(self, command, params="", timeout_s=10):
        """Runs a command (as typed after "/" in baresip's UI) and returns its answer."""
        self.token += 1
        token = f"t{self.token}"
        self.sock.sendall(_netstring(json.dumps(
            {"command": command, "params": params, "token": token}).encode()))

        def answered():
            self._pump()
            return self.responses.get(token)
        return wait_until(answered, timeout_s, f"baresip {self.name}: answer to {command}",
                          interval_s=0)

    def wait_event(self, type_, timeout_s, after=0):
        """The first event of `type_` (CALL_INCOMING, CALL_ESTABLISHED, CALL_CLOSED,
        CALL_DTMF_START, ...) at index >= `after` in self.events."""
        def seen():
            self._pump()
            for ev in self.events[after:]:
                if ev.get("type") == type_:
                    return ev
            return None
        try:
            return wait_until(seen, timeout_s, f"baresip {self.name}: event {type_}",
                              interval_s=0)
        except HarnessError as e:
            raise HarnessError(f"{e}\nevents: {[ev.get('type') for ev in self.events]}\n"
                               + self.log_tail()) from None

    def event_types(self):
        self._pump()
        return [ev.get("type") for ev in self.events]

    def stop(self):
        """quit, then SIGTERM, then SIGKILL, each with a deadline."""
        if self.proc is None:
            return
        if self.proc.poll() is None and self.sock is not None:
            try:
                self.sock.sendall(_netstring(json.dumps(
                    {"command": "quit", "params": "", "token": "quit"}).encode()))
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _dump(self, kind):
        files = sorted(glob.glob(os.path.join(self.dir, f"dump-*-{kind}.wav")))
        if not files:
            raise HarnessError(f"baresip {self.name} dumped no {kind} audio:\n" + self.log_tail())
        return files[-1]

    def received_wav(self):
        """The audio baresip decoded from its peer in its last call (mono, its codec's rate)."""
        return self._dump("dec")

    def sent_wav(self):
        return self._dump("enc")

    def log_tail(self, lines=40):
        text = read_log(self.log_path)
        if text is None:
            return "(no log)"
        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
        return f"--- baresip {self.name} log:\n" + "\n".join(text.splitlines()[-lines:])


# --- audio ------------------------------------------------------------------------------------

def write_tone(path, freq_hz=1000.0, seconds=4.0, rate=16000, amplitude=0.3, channels=1):
    """A 16-bit WAV of a sine wave (the same on every channel)."""
    n = int(seconds * rate)
    samples = array.array("h", (int(amplitude * 32767 * math.sin(2 * math.pi * freq_hz * i / rate))
                                for i in range(n) for _c in range(channels)))
    if sys.byteorder != "little":
        samples.byteswap()
    with wave.open(path, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


class Wav:
    """A 16-bit PCM WAV file: rate, channels (one array of samples per channel)."""

    def __init__(self, data_or_path):
        import io
        src = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else data_or_path
        with wave.open(src, "rb") as w:
            if w.getsampwidth() != 2:
                raise HarnessError(f"expected 16-bit PCM, got {8 * w.getsampwidth()}-bit")
            self.rate = w.getframerate()
            self.nchannels = w.getnchannels()
            frames = w.readframes(w.getnframes())
        pcm = array.array("h")
        pcm.frombytes(frames)
        if sys.byteorder != "little":
            pcm.byteswap()
        self.channels = [pcm[c::self.nchannels] for c in range(self.nchannels)]

    @property
    def seconds(self):
        return len(self.channels[0]) / self.rate if self.channels else 0.0

    def __repr__(self):
        return f"<WAV {self.rate} Hz, {self.nchannels} ch, {self.seconds:.2f} s>"


def rms(samples):
    if not samples:
        return 0.0
    return math.sqrt(sum(s * s for s in samples) / len(samples))


def windows(samples, rate, window_ms=20):
    size = rate * window_ms // 1000
    return [samples[i:i + size] for i in range(0, len(samples) - size + 1, size)]


def active_seconds(samples, rate, threshold=300.0, window_ms=20):
    """How long the signal is above `threshold` RMS (in 20 ms windows): a measure of
    "something was heard" robust to codec noise and silence padding."""
    return sum(window_ms / 1000 for w in windows(samples, rate, window_ms) if rms(w) > threshold)


def goertzel_power(samples, rate, freq_hz):
    """The signal's power at `freq_hz` (Goertzel), normalised by the number of samples."""
    k = 2 * math.cos(2 * math.pi * freq_hz / rate)
    s1 = s2 = 0.0
    for x in samples:
        s1, s2 = x + k * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - k * s1 * s2) / max(1, len(samples))


def tone_dominance(samples, rate, freq_hz, others=(300, 500, 700, 1500, 2000, 2500, 3000)):
    """min over `others` of power(freq) / power(other), on the loudest 40 ms windows (at
    most 10): large (>> 10) when a pure tone at `freq_hz` dominates."""
    ws = sorted(windows(samples, rate, 40), key=rms, reverse=True)[:10]
    ws = [w for w in ws if rms(w) > 100]
    if not ws:
        return 0.0
    ratios = []
    for w in ws:
        p = goertzel_power(w, rate, freq_hz)
        ratios.append(min(p / max(goertzel_power(w, rate, o), 1e-9) for o in others))
    ratios.sort()
    return ratios[len(ratios) // 2]  # the median window


# --- gobid with telephony ---------------------------------------------------------------------

class TelephonyGobid:
    """gobid with SIP on a free loopback port, an RTP range of its own, a user, a deployed
    agent and an inbound number routed to it.

        t = TelephonyGobid(extra_args=["--max-calls", "1"]).start()
        t.sip_port, t.token, t.agent_id, t.calls(), t.wait_call(...), t.recording(id)
    """

    GREETING = "Hello, this is the gobi test agent. Thanks for calling."

    def __init__(self, extra_args=(), srtp="off"):
        self.sip_port = None
        self.rtp_range = None
        self.g = Gobid(Database.create("sqlite"), ["--srtp", srtp] + list(extra_args),
                       port_args=self._ports)
        self.token = None
        self.agent_id = None
        self.number_id = None

    def _ports(self):
        self.sip_port = free_udp_tcp_port()
        self.rtp_range = free_udp_range(200)
        return ["--sip-host", LOOPBACK, "--sip-port", str(self.sip_port),
                "--rtp-ports", f"{self.rtp_range[0]}-{self.rtp_range[1]}"]

    @property
    def sip_addr(self):
        return (LOOPBACK, self.sip_port)

    def start(self):
        self.g.start()
        self._wait_sip_bound()
        email = f"sip-{os.getpid()}-{time.monotonic_ns()}@example.com"
        r = self.g.api("POST", "/auth/register",
                       {"email": email, "password": "correct horse 1", "tenantName": "SIP tests"})
        self._check(r, 201, "register")
        self.token = r.json["token"]
        self.agent_id, self.number_id = self.add_route(INBOUND_NUMBER, self.GREETING)
        return self

    def add_route(self, number, greeting):
        """A deployed agent with `greeting` and `number` routed to it: (agent id, number id).
        gobid answers an inbound call once the greeting is synthesized (at once when it is
        cached), so a greeting never heard before keeps a call ringing for a moment."""
        agent = self.ok("POST", "/agents", {
            "name": f"SIP test agent {number}", "greetingMessage": greeting,
            "systemPrompt": "You are a test agent.", "voiceProvider": "espeak",
            "sttLanguage": "en-US", "maxConcurrentCalls": 100}, status=201)
        self.ok("POST", f"/agents/{agent['id']}/deploy")
        routed = self.ok("POST", "/phone-numbers", {"number": number, "agentId": agent["id"]},
                         status=201)
        return agent["id"], routed["id"]

    def close(self):
        self.g.close()

    def _wait_sip_bound(self, timeout_s=10):
        """gobid holds its SIP port (UDP and TCP): the port cannot be bound by anyone else.
        Fails fast with a clear message instead of a suite of SIP timeouts."""
        def bound():
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                with socket.socket(socket.AF_INET, kind) as s:
                    try:
                        s.bind((LOOPBACK, self.sip_port))
                        return False
                    except OSError:
                        pass
            return True
        try:
            wait_until(bound, timeout_s, f"gobid to listen for SIP on UDP and TCP port "
                       f"{self.sip_port}", interval_s=0.1)
        except HarnessError as e:
            raise HarnessError(f"{e}\ngobid log:\n{self.g.log_tail(20)}") from None

    def _check(self, r, status, what):
        if r.status != status:
            raise HarnessError(f"{what}: expected {status}, got {r!r}")

    def api(self, method, path, body=None):
        return self.g.api(method, path, body, token=self.token)

    def ok(self, method, path, body=None, status=200):
        r = self.api(method, path, body)
        self._check(r, status, f"{method} {path}")
        return r.json

    def calls(self):
        """Every call of the tenant (GET /calls, paged through)."""
        items = []
        while True:
            page = self.ok("GET", f"/calls?offset={len(items)}&limit=100")
            items += page["items"]
            if not page["items"] or len(items) >= page["total"]:
                return items

    def call(self, call_id):
        return self.ok("GET", f"/calls/{call_id}")

    def wait_calls(self, predicate, timeout_s, what):
        """Polls GET /calls until predicate(calls) is truthy; returns its value."""
        last = []

        def check():
            last[:] = self.calls()
            return predicate(last)
        try:
            return wait_until(check, timeout_s, what, interval_s=0.2)
        except HarnessError as e:
            raise HarnessError(f"{e}\ncalls: {json.dumps(last[-5:], indent=1)[:3000]}\n"
                               f"gobid log:\n{self.g.log_tail(30)}") from None

    def wait_call(self, call_id, predicate, timeout_s, what):
        last = {}

        def check():
            last.update(self.call(call_id))
            return last if predicate(last) else None
        try:
            return wait_until(check, timeout_s, what, interval_s=0.1)
        except HarnessError as e:
            raise HarnessError(f"{e}\ncall: {json.dumps(last, indent=1)[:2000]}\n"
                               f"gobid log:\n{self.g.log_tail(30)}") from None

    def recording(self, call_id, timeout_s=10):
        """The call's recording as a Wav (GET /calls/:id/recording), once the call says
        hasRecording (the file may be finished a moment after ENDED)."""
        self.wait_call(call_id, lambda c: c.get("hasRecording"), timeout_s, "hasRecording")
        r = self.api("GET", f"/calls/{call_id}/recording")
        self._check(r, 200, f"GET /calls/{call_id}/recording")
        return Wav(r.body)

    def trunk(self, port, **fields):
        body = {"name": f"trunk-{port}", "host": LOOPBACK, "port": port, "transport": "udp",
                "fromNumber": "+12125550101", "maxChannels": 10, "callsPerSecond": 10}
        body.update(fields)
        return self.ok("POST", "/sip-trunks", body, status=201)

    def originate(self, trunk_id, to=OUTBOUND_NUMBER):
        r = self.api("POST", "/calls", {"agentId": self.agent_id, "to": to, "trunkId": trunk_id})
        if r.status not in (200, 201, 202):
            raise HarnessError(f"POST /calls: {r!r}")
        return r.json

    def hangup(self, call_id):
        r = self.api("POST", f"/calls/{call_id}/hangup")
        if r.status not in (200, 202, 204):
            raise HarnessError(f"POST /calls/{call_id}/hangup: {r!r}")


def describe_calls(calls, keys=("direction", "status", "sipStatus", "outcome", "endReason")):
    """A compact histogram of calls by a few fields, for assertion messages."""
    counts = {}
    for c in calls:
        key = tuple(c.get(k) for k in keys)
        counts[key] = counts.get(key, 0) + 1
    return "; ".join(f"{n} x {dict(zip(keys, k))}" for k, n in sorted(counts.items(), key=str))
