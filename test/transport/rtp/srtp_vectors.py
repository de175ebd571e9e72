#!/usr/bin/env python3
"""Computes the known-answer vectors of srtp_test.cpp from RFC 3711 itself.

An implementation independent of libsrtp2 (Python's `cryptography` for AES and HMAC-SHA1),
written from RFC 3711 sections 4.1.1 (AES-CM), 4.2 (HMAC-SHA1), 4.3 (key derivation) and 3.4
(SRTCP). It first checks its key derivation against the published vectors of Appendix B.3,
then protects fixed RTP and RTCP packets with that master key. Run it to re-derive the bytes:

    python3 test/transport/rtp/srtp_vectors.py
"""
import hmac, hashlib, struct
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

def aes_cm(key: bytes, iv: int, n: int) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.CTR(iv.to_bytes(16, "big"))).encryptor()
    return enc.update(bytes(n)) + enc.finalize()

def derive(master_key: bytes, master_salt: bytes, label: int, n: int) -> bytes:
    # key_id = label || r with r = index DIV kdr = 0 (kdr 0); x = key_id XOR master_salt.
    x = (label << 48) ^ int.from_bytes(master_salt, "big")
    return aes_cm(master_key, x << 16, n)

def session_keys(mk, ms, rtcp=False):
    base = 3 if rtcp else 0
    return derive(mk, ms, base + 0, 16), derive(mk, ms, base + 1, 20), derive(mk, ms, base + 2, 14)

# RFC 3711 Appendix B.3.
MK = bytes.fromhex("E1F97A0D3E018BE0D64FA32C06DE4139")
MS = bytes.fromhex("0EC675AD498AFEEBB6960B3AABE6")
ke, ka, ks = session_keys(MK, MS)
assert ke.hex().upper() == "C61E7A93744F39EE10734AFE3FF7A087"
assert ks.hex().upper() == "30CBBC08863D8C85D49DB34A9AE1"
assert ka.hex().upper().startswith("CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4")

def xor(a, b): return bytes(x ^ y for x, y in zip(a, b))

def srtp(pkt: bytes, roc=0, tag_len=10) -> bytes:
    ke, ka, ks = session_keys(MK, MS)
    seq, = struct.unpack(">H", pkt[2:4]); ssrc, = struct.unpack(">I", pkt[8:12])
    index = (roc << 16) | seq
    iv = (int.from_bytes(ks, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    body = pkt[:12] + xor(pkt[12:], aes_cm(ke, iv, len(pkt) - 12))
    tag = hmac.new(ka, body + struct.pack(">I", roc), hashlib.sha1).digest()[:tag_len]
    return body + tag

def srtcp(pkt: bytes, index: int) -> bytes:
    ke, ka, ks = session_keys(MK, MS, rtcp=True)
    ssrc, = struct.unpack(">I", pkt[4:8])
    iv = (int.from_bytes(ks, "big") << 16) ^ (ssrc << 64) ^ (index << 16)
    body = pkt[:8] + xor(pkt[8:], aes_cm(ke, iv, len(pkt) - 8)) + struct.pack(">I", 0x80000000 | index)
    return body + hmac.new(ka, body, hashlib.sha1).digest()[:10]

def show(name, b):
    print(f"{name} ({len(b)} bytes):")
    for i in range(0, len(b), 16): print("  " + " ".join(f"{x:02x}" for x in b[i:i+16]))

# V=2, PT 0 (PCMU), seq 0x2a01, timestamp 0x00001f40, SSRC 0x676f6269 ("gobi"), 20 bytes payload.
rtp = bytes.fromhex("80002a01 00001f40 676f6269".replace(" ", "")) + b"gobi SRTP vector one"
show("rtp", rtp); show("srtp_80", srtp(rtp)); show("srtp_32", srtp(rtp, tag_len=4))
# A compound RTCP packet: an empty receiver report and a BYE, both from SSRC "gobi".
rtcp = bytes.fromhex("80c90001 676f6269 81cb0001 676f6269".replace(" ", ""))
show("rtcp", rtcp); show("srtcp_index1", srtcp(rtcp, 1))
