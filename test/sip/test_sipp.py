"""gobid against SIPp: inbound load, CANCEL, 404, capacity, hold, retransmissions, OPTIONS,
media and DTMF from pcaps, media timeout; outbound to a SIPp trunk (answer, busy, decline,
cancel, no answer, digest MD5 and SHA-256).

    GOBID=build/actors/gobid python3 -m unittest -v test_sipp        (CTest: sip_sipp)

Each class starts its own gobid (SQLite, SIP and RTP on free loopback ports) with a user, a
deployed agent and the inbound number +12125550100. The scenarios are checked against SIPp
and baresip themselves by test_peers.py. GOBI_IT_KEEP_DATA=1 keeps the work dirs (SIPp
traces, gobid's log).
"""

import os
import shutil
import time
import tempfile
import unittest

from sip_harness import (INBOUND_NUMBER, SIPP_PCAPS, UNKNOWN_NUMBER, Sipp, TelephonyGobid, active_seconds, describe_calls, require_path,
                         free_udp_range, require_gobid_telephony, require_tool, scenario,
                         successful_calls)
from test_peers import digest_ok, parse_digest

INBOUND_USER = INBOUND_NUMBER.lstrip("+")
TRUNK_USER, TRUNK_PASSWORD = "gobi-trunk", "tr0nk s3cret"


def setUpModule():
    require_tool("sipp", " (Debian package sip-tester)")
    require_gobid_telephony()


class SippCase(unittest.TestCase):
    """A class with its own telephony gobid; each test gets a work dir for SIPp's traces."""

    gobid_args = ()
    srtp = "off"
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.t = TelephonyGobid(cls.gobid_args, srtp=cls.srtp)
        cls.addClassCleanup(cls.t.close)
        cls.t.start()

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gobi-sipp-")
        self.sipps = []
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        for s in self.sipps:
            s.kill()
        # Failures carry SIPp's report and gobid's log tail; GOBI_IT_KEEP_DATA keeps it all.
        if os.environ.get("GOBI_IT_KEEP_DATA"):
            print(f"\nkept SIPp traces in {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def sipp(self, name, scenario_file, **kw):
        """A SIPp calling gobid's SIP port (uac) or, with remote=None, listening (uas)."""
        kw.setdefault("remote", self.t.sip_addr)
        s = Sipp(self.workdir, name, scenario_file, **kw)
        self.sipps.append(s)
        return s

    def call_ids(self):
        return {c["id"] for c in self.t.calls()}

    def new_calls(self, before, count, timeout_s, what, ended=True):
        """Waits until `count` calls not in `before` exist (and have ENDED); returns them."""
        def check(calls):
            new = [c for c in calls if c["id"] not in before]
            if len(new) >= count and (not ended or all(c["status"] == "ENDED" for c in new)):
                return new
            return None
        return self.t.wait_calls(check, timeout_s, what)

    def assert_sipp_ok(self, s):
        self.assertEqual(s.returncode, 0, f"{s.report()}\n--- gobid log:\n{self.t.g.log_tail(25)}")


# --- inbound ----------------------------------------------------------------------------------

class Inbound(SippCase):
    def test_load_udp_30_calls_at_10_per_second(self):
        before = self.call_ids()
        s = self.sipp("load-udp", "uac", service=INBOUND_USER, calls=30, rate=10, limit=30,
                      duration_ms=1000, timeout_s=60)
        s.run()
        self.assert_sipp_ok(s)
        self.assertEqual(successful_calls(s), 30, s.report())
        calls = self.new_calls(before, 30, 30, "30 inbound calls ENDED")
        good = [c for c in calls if c["direction"] == "INBOUND" and c["outcome"] == "answered"
                and c["sipStatus"] == 200]
        self.assertEqual(len(good), 30, describe_calls(calls))

    def test_load_tcp_10_calls(self):
        before = self.call_ids()
        s = self.sipp("load-tcp", "uac", service=INBOUND_USER, calls=10, rate=5, limit=10,
                      duration_ms=500, transport="t1", timeout_s=40)
        s.run()
        self.assert_sipp_ok(s)
        calls = self.new_calls(before, 10, 30, "10 inbound TCP calls ENDED")
        self.assertEqual(sum(c["outcome"] == "answered" for c in calls), 10, describe_calls(calls))

    def test_plus_prefixed_request_uri_routes_too(self):
        before = self.call_ids()
        s = self.sipp("plus", "uac", service=INBOUND_NUMBER, duration_ms=300)
        s.run()
        self.assert_sipp_ok(s)
        calls = self.new_calls(before, 1, 15, "the call to +12125550100 ENDED")
        self.assertEqual(calls[0]["outcome"], "answered", calls)

    def test_options_ping(self):
        s = self.sipp("options", scenario("uac_options.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)

    def test_unknown_number_gets_404(self):
        s = self.sipp("unknown", scenario("uac_not_found.xml"), service=UNKNOWN_NUMBER)
        s.run()
        self.assert_sipp_ok(s)

    def test_cancel_while_ringing_gets_200_and_487(self):
        # gobid answers when the greeting is synthesized: a new, long greeting keeps the call
        # ringing long enough for the CANCEL, which SIPp sends as soon as the 180 arrives. If
        # gobid answers first anyway, SIPp reports a 200 for the INVITE (race lost).
        number = "+12125550111"
        self.t.add_route(number, "Thank you for calling the cancellation test line. " * 6
                         + f"Reference {os.getpid()} {time.time_ns()}.")
        before = self.call_ids()
        s = self.sipp("cancel", scenario("uac_cancel.xml"), service=number.lstrip("+"))
        s.run()
        self.assert_sipp_ok(s)
        calls = self.new_calls(before, 1, 15, "the cancelled call ENDED")
        self.assertEqual(calls[0]["outcome"], "cancelled", calls)
        self.assertEqual(calls[0]["sipStatus"], 487, calls)

    def test_hold_and_unhold(self):
        s = self.sipp("hold", scenario("uac_hold.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)
        self.assertIn("hold answer a=recvonly", s.log_lines())
        ok3 = [m for m in s.received(status=200, method="INVITE") if m.cseq.startswith("3 ")]
        self.assertTrue(ok3, s.report())
        self.assertNotRegex(ok3[-1].body, r"a=(sendonly|recvonly|inactive)",
                            "the unhold answer must be sendrecv again")

    def test_200_is_retransmitted_until_acked(self):
        before = self.call_ids()
        s = self.sipp("no-ack", scenario("uac_no_ack.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)
        oks = s.received(status=200, method="INVITE")
        self.assertGreaterEqual(len(oks), 2, "no 200 retransmission within 2.2 s\n" + s.report())
        calls = self.new_calls(before, 1, 15, "the call ENDED")
        self.assertEqual(calls[0]["outcome"], "answered", calls)

    def test_duplicate_invite_makes_one_call(self):
        before = self.call_ids()
        s = self.sipp("dup", scenario("uac_dup_invite.xml"), service=INBOUND_USER,
                      extra=["-default_behaviors", "all,-abortunexp"])
        s.run()
        self.assert_sipp_ok(s)
        calls = self.new_calls(before, 1, 15, "the call ENDED")
        # Give a second (wrong) call the time to show up: wait for gobid to settle on ENDED.
        self.assertEqual(len([c for c in self.t.calls() if c["id"] not in before]), 1,
                         describe_calls(self.t.calls()))
        self.assertEqual(calls[0]["outcome"], "answered")

    def test_pcap_media_and_rfc2833_dtmf(self):
        require_path(os.path.join(SIPP_PCAPS, "g711a.pcap"), "sip-tester's pcaps")
        before = self.call_ids()
        s = self.sipp("media", scenario("uac_media.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)
        call = self.new_calls(before, 1, 20, "the media call ENDED")[0]
        self.assertEqual(call["outcome"], "answered", call)
        self.assertRegex(str(call.get("codec")), r"(?i)pcma", call)
        rec = self.t.recording(call["id"])
        self.assertEqual((rec.rate, rec.nchannels), (16000, 2), rec)
        caller = active_seconds(rec.channels[0], rec.rate)
        agent = active_seconds(rec.channels[1], rec.rate)
        self.assertGreater(caller, 3.0, f"left (caller) channel nearly silent: {caller:.2f} s")
        self.assertGreater(agent, 1.0, f"right (agent) channel nearly silent: {agent:.2f} s")
        self.assertEqual(call["dtmf"], "159", call)
        # What gobid counted: its greeting and the silence after it went out all along; SIPp
        # sent 266 packets: 236 PCMA, then 30 telephone-event on an SSRC of their own (the
        # DTMF pcaps), which are not audio and not counted. The audio's first packet is on
        # probation (RFC 3550 A.1).
        media = call["media"]
        self.assertEqual(set(media), {"packetsSent", "packetsReceived", "packetsLost",
                                      "jitterMs"}, call)
        self.assertGreater(media["packetsSent"], 200, call)
        self.assertTrue(230 <= media["packetsReceived"] <= 236, call)
        self.assertLessEqual(media["packetsLost"], 5, call)
        self.assertGreaterEqual(media["jitterMs"], 0, call)

    def test_late_offer_answer_in_the_ack(self):
        """RFC 3264 late offer: an INVITE without SDP. gobid's 200 carries its offer, the ACK
        the answer (PCMU). SIPp echoes the RTP it gets back to gobid, so the greeting shows on
        both channels of the recording only if gobid sent it to the answer's address."""
        before = self.call_ids()
        echo_port, _ = free_udp_range(4)  # SIPp echoes on -mp and -mp + 2
        s = self.sipp("late-offer", scenario("uac_late_offer.xml"), service=INBOUND_USER,
                      duration_ms=5000, extra=["-rtp_echo", "-mp", str(echo_port)])
        s.run()
        self.assert_sipp_ok(s)
        for provisional in s.received(status=180) + s.received(status=183):
            self.assertEqual(provisional.body.strip(), "", "no SDP before the answer")
        ok = s.received(status=200, method="INVITE")[0]
        self.assertIn("application/sdp", ok.headers.get("content-type", ""))
        self.assertRegex(ok.body, r"m=audio \d+ RTP/AVP ")
        self.assertNotIn("a=crypto", ok.body, "--srtp off: no keys in the offer")
        call = self.new_calls(before, 1, 15, "the late-offer call ENDED")[0]
        self.assertEqual((call["outcome"], call["sipStatus"]), ("answered", 200), call)
        self.assertRegex(str(call["codec"]), r"(?i)pcmu", call)
        self.assertEqual(call["dtmf"], "", call)
        self.assertGreater(call["media"]["packetsSent"], 100, call)
        self.assertGreater(call["media"]["packetsReceived"], 100, call)
        rec = self.t.recording(call["id"])
        agent = active_seconds(rec.channels[1], rec.rate)
        echoed = active_seconds(rec.channels[0], rec.rate)
        self.assertGreater(agent, 1.0, f"right (agent) channel nearly silent: {agent:.2f} s")
        self.assertGreater(echoed, 1.0, f"no greeting came back from SIPp's echo ({echoed:.2f} "
                           "s): gobid did not send to the address of the answer in the ACK")

    def _late_offer_refused(self, name, reason):
        before = self.call_ids()
        s = self.sipp(name, scenario(name + ".xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)  # the scenario waits for gobid's BYE
        call = self.new_calls(before, 1, 15, "the refused late-offer call ENDED")[0]
        self.assertEqual((call["outcome"], call["sipStatus"]), ("failed", 200), call)
        self.assertIn(reason, call["endReason"], call)
        self.assertIsNone(call["media"], "no media ran")
        self.assertIsNone(call["codec"], call)
        self.assertFalse(call["hasRecording"], call)

    def test_late_offer_ack_without_sdp_gets_bye(self):
        self._late_offer_refused("uac_late_offer_no_answer", "ACK without an SDP answer")

    def test_late_offer_answer_that_fits_nothing_gets_bye(self):
        self._late_offer_refused("uac_late_offer_bad_answer", "not acceptable")


class LateOfferSrtpOptional(SippCase):
    srtp = "optional"

    def test_late_offer_has_keys_and_takes_a_plain_answer(self):
        """--srtp optional: the offer in the 200 is RTP/AVP with a key per suite (best effort,
        RFC 4568 / draft-ietf-mmusic-best-effort-srtp); a plain RTP answer is taken."""
        before = self.call_ids()
        s = self.sipp("late-offer-srtp", scenario("uac_late_offer.xml"), service=INBOUND_USER,
                      duration_ms=500)
        s.run()
        self.assert_sipp_ok(s)
        offer = s.received(status=200, method="INVITE")[0].body
        self.assertRegex(offer, r"m=audio \d+ RTP/AVP ")
        self.assertRegex(offer, r"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:\S{40}")
        self.assertRegex(offer, r"a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:\S{40}")
        call = self.new_calls(before, 1, 15, "the late-offer call ENDED")[0]
        self.assertEqual((call["outcome"], call["srtp"]), ("answered", False), call)


class MediaTimeout(SippCase):
    gobid_args = ("--media-timeout", "2")

    def test_silent_call_is_hung_up_by_gobid(self):
        before = self.call_ids()
        s = self.sipp("silent", scenario("uac_wait_bye.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)
        call = self.new_calls(before, 1, 15, "the silent call ENDED")[0]
        self.assertEqual(call["outcome"], "answered", call)
        self.assertTrue(call.get("endReason"), call)


class Capacity(SippCase):
    gobid_args = ("--max-calls", "1")

    def test_second_call_gets_486_or_503_with_retry_after(self):
        before = self.call_ids()
        holder = self.sipp("holder", "uac", service=INBOUND_USER, duration_ms=8000).start()
        live = self.t.wait_calls(lambda calls: [c for c in calls if c["id"] not in before
                                                and c["status"] == "ANSWERED"],
                                 10, "the first call ANSWERED")
        # A live call shows what was negotiated, not only once it has ended.
        self.assertRegex(str(live[0]["codec"]), r"(?i)pcm[ua]", live[0])
        s = self.sipp("refused", scenario("uac_busy.xml"), service=INBOUND_USER)
        s.run()
        self.assert_sipp_ok(s)
        refusal = [l for l in s.log_lines() if l.startswith("refused")]
        self.assertTrue(refusal, s.report())
        holder.wait()
        self.assert_sipp_ok(holder)


# --- outbound ---------------------------------------------------------------------------------

class Outbound(SippCase):
    gobid_args = ("--ring-timeout", "3")

    def trunk_sipp(self, name, scenario_file, **kw):
        return self.sipp(name, scenario_file, remote=None, **kw).start().wait_bound()

    def wait_status(self, call_id, statuses, timeout_s=15):
        return self.t.wait_call(call_id, lambda c: c["status"] in statuses, timeout_s,
                                f"call {call_id} in {statuses}")

    def test_answered_by_sipp_uas_then_hung_up_by_api(self):
        uas = self.trunk_sipp("uas", "uas", calls=3, timeout_s=60)
        trunk = self.t.trunk(uas.local_port)
        ids = [self.t.originate(trunk["id"])["id"] for _ in range(3)]
        for call_id in ids:
            call = self.wait_status(call_id, ("ANSWERED", "ENDED"))
            self.assertEqual(call["status"], "ANSWERED", call)
            self.assertEqual(call["direction"], "OUTBOUND", call)
        for call_id in ids:
            self.t.hangup(call_id)
        for call_id in ids:
            call = self.wait_status(call_id, ("ENDED",))
            self.assertEqual((call["outcome"], call["sipStatus"]), ("answered", 200), call)
        uas.wait()
        self.assert_sipp_ok(uas)

    def _refused(self, code, reason, outcome):
        uas = self.trunk_sipp(f"uas-{code}", scenario("peers/uas_reject.xml", self.workdir,
                                                      code=code, reason=reason))
        trunk = self.t.trunk(uas.local_port)
        call = self.wait_status(self.t.originate(trunk["id"])["id"], ("ENDED",))
        self.assertEqual((call["outcome"], call["sipStatus"]), (outcome, code), call)
        uas.wait()
        self.assert_sipp_ok(uas)

    def test_busy(self):
        self._refused(486, "Busy Here", "busy")

    def test_declined(self):
        self._refused(603, "Decline", "rejected")

    def test_hung_up_while_ringing_sends_cancel(self):
        uas = self.trunk_sipp("ringing", scenario("peers/uas_ringing.xml"))
        trunk = self.t.trunk(uas.local_port)
        call_id = self.t.originate(trunk["id"])["id"]
        self.wait_status(call_id, ("RINGING",))
        self.t.hangup(call_id)
        call = self.wait_status(call_id, ("ENDED",))
        self.assertEqual(call["outcome"], "cancelled", call)
        uas.wait()
        self.assert_sipp_ok(uas)

    def test_no_answer_after_ring_timeout(self):
        uas = self.trunk_sipp("no-answer", scenario("peers/uas_ringing.xml"))
        trunk = self.t.trunk(uas.local_port)
        call = self.wait_status(self.t.originate(trunk["id"])["id"], ("ENDED",), timeout_s=20)
        self.assertEqual(call["outcome"], "no-answer", call)
        uas.wait()
        self.assert_sipp_ok(uas)

    def _digest(self, algorithm):
        nonce = f"gobi-{algorithm}-{os.getpid()}"
        uas = self.trunk_sipp(f"digest-{algorithm}", scenario("uas_digest.xml"),
                              keys={"nonce": nonce, "algorithm": algorithm,
                                    "user": TRUNK_USER, "password": TRUNK_PASSWORD},
                              duration_ms=1500)
        trunk = self.t.trunk(uas.local_port, username=TRUNK_USER, password=TRUNK_PASSWORD)
        call_id = self.t.originate(trunk["id"])["id"]
        try:
            call = self.wait_status(call_id, ("ENDED",), timeout_s=20)
        except AssertionError as e:
            uas.kill()
            raise AssertionError(f"{e}\n--- the trunk (SIPp):\n{uas.report()}") from None
        uas.wait()
        self.assert_sipp_ok(uas)
        logs = uas.log_lines()
        auth = [l[5:] for l in logs if l.startswith("AUTH ")]
        self.assertEqual(len(auth), 1, uas.report())
        p = parse_digest(auth[0])
        self.assertEqual(p.get("algorithm", "MD5").upper(), algorithm, auth[0])
        self.assertEqual((p["username"], p["realm"], p["nonce"]), (TRUNK_USER, "gobi-test", nonce))
        self.assertTrue(digest_ok(auth[0], "INVITE", TRUNK_PASSWORD),
                        f"wrong digest response: {auth[0]}")
        if algorithm == "MD5":
            self.assertIn("VERIFYAUTH true", logs)
        self.assertEqual(call["outcome"], "answered", call)

    def test_invite_retransmitted_to_a_late_trunk(self):
        """The INVITE's first copy is lost (nothing listens yet); Timer A must retransmit it
        (RFC 3261 17.1.1.2). Preceded by a call the trunk hangs up (BYE from the trunk), after
        which gobid was once seen to send a single INVITE and, at the ring timeout, a CANCEL."""
        first = self.trunk_sipp("hangs-up", scenario("uas_digest.xml"),
                                keys={"nonce": "late", "algorithm": "MD5",
                                      "user": TRUNK_USER, "password": TRUNK_PASSWORD},
                                duration_ms=500)
        trunk = self.t.trunk(first.local_port, username=TRUNK_USER, password=TRUNK_PASSWORD)
        call = self.wait_status(self.t.originate(trunk["id"])["id"], ("ENDED",))
        self.assertEqual(call["outcome"], "answered", call)
        first.wait()
        late = self.sipp("late", "uas", remote=None)
        trunk = self.t.trunk(late.local_port)
        call_id = self.t.originate(trunk["id"])["id"]
        # The stimulus, not a wait: the trunk comes up 1 s late; the retransmission due at
        # 1.5 s (T1 = 500 ms, doubling) must reach it.
        time.sleep(1.0)
        late.start().wait_bound(may_move=False)
        try:
            call = self.wait_status(call_id, ("ANSWERED", "ENDED"), timeout_s=4)
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- the late trunk (SIPp):\n{late.report()}") from None
        self.assertEqual(call["status"], "ANSWERED", f"{call}\n{late.report()}")
        self.t.hangup(call_id)
        self.wait_status(call_id, ("ENDED",))
        late.wait()
        self.assert_sipp_ok(late)

    def test_digest_md5(self):
        self._digest("MD5")

    def test_digest_sha256(self):
        self._digest("SHA-256")


if __name__ == "__main__":
    unittest.main()
