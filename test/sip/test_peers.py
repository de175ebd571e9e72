"""Self-checks of the SIP test peers, without gobid: each scenario of scenarios/ against a SIPp
peer (scenarios/peers/ or a built-in one) or baresip, and baresip against baresip. They keep
the scenarios, the baresip config templates and the audio checks known-good, so that when
test_sipp.py or test_baresip.py fails against gobid, the fault is gobid's.

    python3 -m unittest -v test_peers        (CTest: sip_peers)
"""

import hashlib
import os
import shutil
import tempfile
import unittest

from sip_harness import (LOOPBACK, SIPP_PCAPS, Baresip, HarnessError, Sipp, Wav,
                         active_seconds, require_path, require_tool, scenario, sipp_features,
                         successful_calls, tone_dominance, write_tone)


def setUpModule():
    require_tool("sipp", " (Debian package sip-tester)")


class PeerCase(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="gobi-sip-peers-")
        self.addCleanup(self._cleanup)
        self.procs = []

    def _cleanup(self):
        for p in self.procs:
            p.kill() if isinstance(p, Sipp) else p.stop()
        if os.environ.get("GOBI_IT_KEEP_DATA"):
            print(f"\nkept {self.workdir}", flush=True)
        else:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def pair(self, server_scenario, client_scenario, server_keys=None, client_keys=None,
             server_extra=(), client_extra=(), service="12125550100", duration_ms=None):
        """Runs a SIPp server with a scenario, then a SIPp client against it; both must
        exit 0. Returns (server, client)."""
        server = Sipp(self.workdir, "server", server_scenario, keys=server_keys,
                      duration_ms=duration_ms, timeout_s=25, extra=server_extra).start()
        self.procs.append(server)
        server.wait_bound()
        client = Sipp(self.workdir, "client", client_scenario,
                      remote=(LOOPBACK, server.local_port), service=service, keys=client_keys,
                      timeout_s=25, extra=client_extra)
        self.procs.append(client)
        client.run()
        server.wait()
        client.assert_ok(self, "client")
        server.assert_ok(self, "server")
        return server, client


class SippVersion(unittest.TestCase):
    def test_sipp_has_pcap_play(self):
        version, features = sipp_features()
        self.assertTrue(version, "sipp -v printed no version")
        self.assertIn("PCAP", features, f"SIPp {version} {features}: built without pcap "
                      "support, uac_media.xml cannot play audio")


class Scenarios(PeerCase):
    def test_cancel_while_ringing(self):
        server, client = self.pair(scenario("peers/uas_ringing.xml"), scenario("uac_cancel.xml"))
        sent = [m for m in client.messages() if m.direction == "sent"]
        self.assertEqual([m.method for m in sent], ["INVITE", "CANCEL", "ACK"])
        branches = {m.headers["via"].split("branch=")[1].split(";")[0] for m in sent}
        self.assertEqual(len(branches), 1, f"CANCEL and ACK must reuse the INVITE's branch: "
                         f"{branches}")
        self.assertEqual(sorted(m.status for m in client.received() if m.status >= 200),
                         [200, 487])

    def test_not_found(self):
        self.pair(scenario("peers/uas_reject.xml", self.workdir, code=404, reason="Not Found"),
                  scenario("uac_not_found.xml"))

    def test_busy_486_and_503(self):
        for code, reason in ((486, "Busy Here"), (503, "Service Unavailable")):
            with self.subTest(code=code):
                _, client = self.pair(
                    scenario("peers/uas_reject.xml", self.workdir, code=code, reason=reason),
                    scenario("uac_busy.xml"))
                self.assertIn(f"refused {code} Retry-After=5", client.log_lines())

    def test_busy_503_without_retry_after_fails(self):
        """The scenario must catch a 503 that does not say when to retry."""
        peer = scenario("peers/uas_reject.xml", self.workdir, code=503, reason="Service Unavailable")
        with open(peer) as f:
            text = f.read().replace("      Retry-After: 5\n", "")
        with open(peer, "w") as f:
            f.write(text)
        server = Sipp(self.workdir, "server", peer, timeout_s=10).start()
        self.procs.append(server)
        server.wait_bound()
        client = Sipp(self.workdir, "client", scenario("uac_busy.xml"),
                      remote=(LOOPBACK, server.local_port), service="1", timeout_s=10)
        self.procs.append(client)
        self.assertNotEqual(client.run(), 0, client.report())

    def test_options(self):
        self.pair(scenario("peers/uas_options.xml"), scenario("uac_options.xml"))

    def test_hold_unhold(self):
        _, client = self.pair(scenario("peers/uas_hold.xml"), scenario("uac_hold.xml"))
        self.assertIn("hold answer a=recvonly", client.log_lines())

    def test_late_offer_answered_in_the_ack(self):
        server, client = self.pair(scenario("peers/uas_late_offer.xml"),
                                   scenario("uac_late_offer.xml"))
        invite, ack = [m for m in client.messages() if m.direction == "sent"
                       and m.method in ("INVITE", "ACK")]
        self.assertEqual(invite.body.strip(), "", "a late offer's INVITE has no SDP")
        self.assertRegex(ack.body, r"m=audio \d+ RTP/AVP 0 101")
        self.assertEqual([m for m in client.received(method="BYE") if m.status is None], [])
        self.assertIn("ACK answer m=audio", " ".join(server.log_lines()))

    def test_late_offer_refused_in_the_ack_gets_bye(self):
        for name in ("uac_late_offer_no_answer.xml", "uac_late_offer_bad_answer.xml"):
            with self.subTest(scenario=name):
                _, client = self.pair(scenario("peers/uas_late_offer.xml"), scenario(name))
                byes = [m for m in client.received(method="BYE") if m.status is None]
                self.assertEqual(len(byes), 1, client.report())

    def test_late_offer_refusal_needs_the_bye(self):
        """The scenario must catch a callee that takes an ACK without an answer and goes on
        (SIPp's own uas: it never hangs up)."""
        server = Sipp(self.workdir, "server", "uas", timeout_s=20).start()
        self.procs.append(server)
        server.wait_bound()
        client = Sipp(self.workdir, "client", scenario("uac_late_offer_no_answer.xml"),
                      remote=(LOOPBACK, server.local_port), service="1", timeout_s=20)
        self.procs.append(client)
        self.assertNotEqual(client.run(), 0, client.report())

    def test_no_ack_sees_retransmitted_200(self):
        _, client = self.pair("uas", scenario("uac_no_ack.xml"))
        ok_invite = client.received(status=200, method="INVITE")
        self.assertGreaterEqual(len(ok_invite), 2, client.report())

    def test_duplicate_invite(self):
        server, client = self.pair("uas", scenario("uac_dup_invite.xml"),
                                   client_extra=["-default_behaviors", "all,-abortunexp"])
        invites = [m for m in client.messages() if m.direction == "sent" and m.method == "INVITE"]
        self.assertEqual(len(invites), 2)
        self.assertEqual(invites[0].text, invites[1].text)
        self.assertEqual(successful_calls(server), 1, server.report())

    def test_digest_md5_with_sipp_credentials(self):
        server, _ = self.pair(scenario("uas_digest.xml"), scenario("peers/uac_digest.xml"),
                              server_keys={"nonce": "n0nce-md5", "algorithm": "MD5",
                                           "user": "alice", "password": "s3cret"},
                              client_extra=["-au", "alice", "-ap", "s3cret"], duration_ms=300)
        logs = server.log_lines()
        self.assertIn("VERIFYAUTH true", logs)
        auth = [l for l in logs if l.startswith("AUTH ")]
        self.assertEqual(len(auth), 1, logs)
        self.assertTrue(digest_ok(auth[0][5:], "INVITE", "s3cret"), auth[0])
        self.assertFalse(digest_ok(auth[0][5:], "INVITE", "wrong"), auth[0])

    def test_digest_sha256_checked_by_the_test(self):
        nonce, uri = "n0nce-sha256", "sip:12125550100@127.0.0.1"
        header = make_digest("alice", "gobi-test", "s3cret", "INVITE", uri, nonce, "SHA-256")
        server, _ = self.pair(scenario("uas_digest.xml"), scenario("peers/uac_digest_static.xml"),
                              server_keys={"nonce": nonce, "algorithm": "SHA-256",
                                           "user": "alice", "password": "s3cret"},
                              client_keys={"authorization": header}, duration_ms=300)
        auth = [l for l in server.log_lines() if l.startswith("AUTH ")]
        self.assertEqual(len(auth), 1, server.report())
        self.assertTrue(digest_ok(auth[0][5:], "INVITE", "s3cret"), auth[0])
        self.assertFalse(digest_ok(auth[0][5:], "INVITE", "s3cre7"), auth[0])

    def test_load_builtin_uac_uas(self):
        """The load run of test_sipp, against SIPp's own uas."""
        server = Sipp(self.workdir, "server", "uas", calls=30, timeout_s=30).start()
        self.procs.append(server)
        server.wait_bound()
        client = Sipp(self.workdir, "client", "uac", remote=(LOOPBACK, server.local_port),
                      service="12125550100", calls=30, rate=10, duration_ms=500, timeout_s=30)
        self.procs.append(client)
        client.run()
        server.wait()
        client.assert_ok(self)
        self.assertEqual(successful_calls(client), 30, client.report())


# --- digest (RFC 7616 / RFC 8760), an independent check of what a peer sent ------------------

def parse_digest(header):
    """The parameters of a Digest credentials header value, e.g. 'Digest username="a", ...'."""
    import re
    value = header.strip()
    if not value.lower().startswith("digest "):
        raise ValueError(f"not a Digest header: {header!r}")
    params = {}
    for m in re.finditer(r'(\w+)\s*=\s*(?:"([^"]*)"|([^\s,]+))', value[7:]):
        params[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    return params


def _hash(algorithm):
    algo = (algorithm or "MD5").upper()
    if algo == "MD5":
        return lambda s: hashlib.md5(s.encode()).hexdigest()
    if algo == "SHA-256":
        return lambda s: hashlib.sha256(s.encode()).hexdigest()
    raise ValueError(f"unknown digest algorithm {algorithm!r}")


def digest_response(p, method, password):
    h = _hash(p.get("algorithm"))
    ha1 = h(f"{p['username']}:{p['realm']}:{password}")
    ha2 = h(f"{method}:{p['uri']}")
    if p.get("qop"):
        return h(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:{p['qop']}:{ha2}")
    return h(f"{ha1}:{p['nonce']}:{ha2}")


def digest_ok(header, method, password):
    p = parse_digest(header)
    return p.get("response", "").lower() == digest_response(p, method, password)


def make_digest(user, realm, password, method, uri, nonce, algorithm, cnonce="0a4f113b"):
    p = {"username": user, "realm": realm, "nonce": nonce, "uri": uri, "algorithm": algorithm,
         "qop": "auth", "nc": "00000001", "cnonce": cnonce}
    r = digest_response(p, method, password)
    return (f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{r}", algorithm={algorithm}, qop=auth, nc=00000001, cnonce="{cnonce}"')


# --- media: SIPp's pcaps and baresip ----------------------------------------------------------

class Media(PeerCase):
    @classmethod
    def setUpClass(cls):
        require_tool("baresip")
        require_path(os.path.join(SIPP_PCAPS, "g711a.pcap"), "sip-tester's pcaps")

    def callee(self, tone, **kw):
        b = Baresip(self.workdir, kw.pop("name", "callee"), tone, user="+12125550142",
                    answermode="auto", **kw).start()
        self.procs.append(b)
        return b

    def test_uac_media_plays_audio_and_dtmf(self):
        tone = write_tone(os.path.join(self.workdir, "600.wav"), 600, 30, Baresip.SOURCE_RATE)
        callee = self.callee(tone, codecs=("PCMA",))
        client = Sipp(self.workdir, "client", scenario("uac_media.xml"),
                      remote=(LOOPBACK, callee.sip_port), service=callee.user, timeout_s=30)
        self.procs.append(client)
        client.run()
        client.assert_ok(self)
        callee.wait_event("CALL_CLOSED", 10)
        digits = [ev.get("param") for ev in callee.events if ev.get("type") == "CALL_DTMF_START"]
        self.assertEqual(digits, ["1", "5", "9"], callee.event_types())
        callee.stop()
        heard = Wav(callee.received_wav())
        self.assertGreater(active_seconds(heard.channels[0], heard.rate), 5.0, heard)

    def test_uac_wait_bye_gets_the_callee_bye(self):
        tone = write_tone(os.path.join(self.workdir, "short.wav"), 600, 2, Baresip.SOURCE_RATE)
        callee = self.callee(tone)  # hangs up when its 2 s source runs out
        client = Sipp(self.workdir, "client", scenario("uac_wait_bye.xml"),
                      remote=(LOOPBACK, callee.sip_port), service=callee.user, timeout_s=25)
        self.procs.append(client)
        client.run()
        client.assert_ok(self)

    def test_baresip_to_baresip(self):
        """The calls of test_baresip, with a baresip standing in for gobid: a 1 kHz tone one
        way, 600 Hz the other, in PCMU, Opus and SDES-SRTP."""
        for codec, menc in (("PCMU", None), ("opus", None), ("PCMU", "srtp-mand")):
            with self.subTest(codec=codec, mediaenc=menc):
                tag = f"{codec}-{menc}"
                rate, channels = Baresip.source_format(codec)
                tone_a = write_tone(os.path.join(self.workdir, f"1k-{tag}.wav"), 1000, 4, rate,
                                    channels=channels)
                tone_b = write_tone(os.path.join(self.workdir, f"600-{tag}.wav"), 600, 30, rate,
                                    channels=channels)
                callee = self.callee(tone_b, name=f"callee-{tag}", codecs=(codec,),
                                     mediaenc=menc)
                caller = Baresip(self.workdir, f"caller-{tag}", tone_a, codecs=(codec,),
                                 mediaenc=menc).start()
                self.procs.append(caller)
                self.assertTrue(caller.command("dial", callee.uri)["ok"])
                caller.wait_event("CALL_ESTABLISHED", 10)
                caller.wait_event("CALL_CLOSED", 15)  # the 4 s source ran out
                if menc:
                    self.assertIn("CALL_MENC", caller.event_types())
                callee.wait_event("CALL_CLOSED", 10)
                caller.stop()
                callee.stop()
                heard_by_callee = Wav(callee.received_wav())
                heard_by_caller = Wav(caller.received_wav())
                self.assertGreater(tone_dominance(heard_by_callee.channels[0],
                                                  heard_by_callee.rate, 1000), 10)
                self.assertGreater(tone_dominance(heard_by_caller.channels[0],
                                                  heard_by_caller.rate, 600), 10)
                self.assertGreater(active_seconds(heard_by_caller.channels[0],
                                                  heard_by_caller.rate), 3.0)


if __name__ == "__main__":
    unittest.main()
