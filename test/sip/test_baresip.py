"""gobid against baresip, a real softphone: it calls gobid's number in PCMU, Opus and SDES-SRTP
playing a 1 kHz tone, and it answers gobid's outbound calls (auto-answer) playing 600 Hz.
The checks are on the audio: the tone must dominate the remote party's (left) channel of
gobid's recording, and baresip must have heard the agent's greeting.

    GOBID=build/actors/gobid python3 -m unittest -v test_baresip        (CTest: sip_baresip)

baresip runs headless from a config dir rendered per run (baresip/*.tmpl), driven through
its ctrl_tcp socket; its configs are checked baresip-to-baresip by test_peers.py.
"""

import os
import shutil
import tempfile
import unittest

from sip_harness import (INBOUND_NUMBER, LOOPBACK, OUTBOUND_NUMBER, Baresip, HarnessError, TelephonyGobid, Wav,
                         active_seconds, require_gobid_telephony, require_tool, tone_dominance,
                         wait_until, write_tone)

CALLER_TONE_HZ = 1000
CALLEE_TONE_HZ = 600
OUTBOUND_TO = OUTBOUND_NUMBER


def setUpModule():
    require_tool("baresip")
    require_gobid_telephony()


class BaresipCase(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        # optional: one gobid takes plain RTP and SDES-SRTP callers.
        cls.t = TelephonyGobid(srtp="optional")
        cls.addClassCleanup(cls.t.close)
        cls.t.start()

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gobi-baresip-")
        self.phones = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for b in self.phones:
            b.stop()
        if os.environ.get("GOBI_IT_KEEP_DATA"):
            print(f"\nkept baresip dirs in {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def phone(self, name, tone_hz, seconds, **kw):
        rate, channels = Baresip.source_format(kw.get("codecs", ("PCMU",))[0])
        tone = write_tone(os.path.join(self.workdir, f"{name}.wav"), tone_hz, seconds, rate,
                          channels=channels)
        b = Baresip(self.workdir, name, tone, **kw)
        self.phones.append(b)
        return b.start()

    def context(self, *phones):
        return "\n".join([p.log_tail(25) for p in phones] +
                         ["--- gobid log:", self.t.g.log_tail(25)])

    def check_recording(self, call, remote_tone_hz):
        """The remote party's tone dominates the left channel; the agent spoke on the right."""
        rec = self.t.recording(call["id"])
        self.assertEqual((rec.rate, rec.nchannels), (16000, 2), rec)
        left, right = rec.channels
        dominance = tone_dominance(left, rec.rate, remote_tone_hz)
        self.assertGreater(dominance, 10, f"{remote_tone_hz} Hz does not dominate the left "
                           f"channel (ratio {dominance:.1f}; {rec})")
        self.assertGreater(active_seconds(left, rec.rate), 2.0, rec)
        self.assertGreater(active_seconds(right, rec.rate), 0.5,
                           f"the agent's (right) channel is nearly silent: {rec}")

    def check_heard_greeting(self, phone):
        heard = Wav(phone.received_wav())
        self.assertGreater(active_seconds(heard.channels[0], heard.rate), 0.5,
                           f"baresip {phone.name} heard (nearly) nothing: {heard}")


class Inbound(BaresipCase):
    def call_gobid(self, codec, mediaenc=None):
        before = {c["id"] for c in self.t.calls()}
        caller = self.phone(f"caller-{codec}-{mediaenc}", CALLER_TONE_HZ, 4, codecs=(codec,),
                            mediaenc=mediaenc)
        target = f"sip:{INBOUND_NUMBER.lstrip('+')}@{LOOPBACK}:{self.t.sip_port}"
        self.assertTrue(caller.command("dial", target)["ok"])
        try:
            caller.wait_event("CALL_ESTABLISHED", 15)
            # The 4 s source runs out and baresip hangs up (BYE).
            caller.wait_event("CALL_CLOSED", 20)
        except HarnessError as e:
            raise AssertionError(f"{e}\n{self.context(caller)}") from None
        if mediaenc:
            self.assertIn("CALL_MENC", caller.event_types(), "no SRTP was set up")
        calls = self.t.wait_calls(
            lambda cs: [c for c in cs if c["id"] not in before and c["status"] == "ENDED"],
            15, "the call ENDED")
        self.assertEqual(len(calls), 1, calls)
        call = calls[0]
        self.assertEqual((call["direction"], call["outcome"], call["sipStatus"]),
                         ("INBOUND", "answered", 200), call)
        self.assertRegex(str(call.get("codec")), f"(?i){codec}", call)
        self.assertEqual(bool(call.get("srtp")), bool(mediaenc), call)
        caller.stop()
        self.check_recording(call, CALLER_TONE_HZ)
        self.check_heard_greeting(caller)

    def test_pcmu(self):
        self.call_gobid("PCMU")

    def test_opus(self):
        self.call_gobid("opus")

    def test_sdes_srtp(self):
        self.call_gobid("PCMU", mediaenc="srtp-mand")


class Outbound(BaresipCase):
    def test_gobid_calls_an_auto_answering_baresip(self):
        callee = self.phone("callee", CALLEE_TONE_HZ, 60, user=OUTBOUND_TO, answermode="auto",
                            codecs=("PCMU", "PCMA"))  # 8 kHz source: no Opus
        trunk = self.t.trunk(callee.sip_port)
        call_id = self.t.originate(trunk["id"], to=OUTBOUND_TO)["id"]
        try:
            callee.wait_event("CALL_ESTABLISHED", 15)
        except HarnessError as e:
            raise AssertionError(f"{e}\n{self.context(callee)}") from None
        self.t.wait_call(call_id, lambda c: c["status"] == "ANSWERED", 10, "ANSWERED")
        # Let 3 s of audio flow both ways: baresip's dump of what it hears grows (8 kHz).
        dump = lambda: callee.received_wav() if any(  # noqa: E731
            f.endswith("-dec.wav") for f in os.listdir(callee.dir)) else None
        wait_until(lambda: dump() and os.path.getsize(dump()) > 3 * 16000, 15,
                   "3 s of audio heard by baresip")
        self.t.hangup(call_id)
        call = self.t.wait_call(call_id, lambda c: c["status"] == "ENDED", 15, "ENDED")
        callee.wait_event("CALL_CLOSED", 10)
        self.assertEqual((call["direction"], call["outcome"], call["sipStatus"]),
                         ("OUTBOUND", "answered", 200), call)
        callee.stop()
        self.check_recording(call, CALLEE_TONE_HZ)
        self.check_heard_greeting(callee)


if __name__ == "__main__":
    unittest.main()
