"""One DNS question over UDP, written by hand from RFC 1035 section 4 (header, question, answer records):
enough to ask the project cluster's DNS (cluster/up.sh) a name and read the answer's code and addresses.
Used by tests/e2e/test_cluster_dns.py and benchmarks/bench_cluster_dns.py; sends only to the server named.
"""

from __future__ import annotations

import secrets
import socket
import struct
from dataclasses import dataclass

RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
TYPE_A = 1


@dataclass(frozen=True)
class Answer:
    rcode: str
    authoritative: bool
    addresses: tuple[str, ...]  # the A records' addresses


def encode_query(name: str, ident: int, qtype: int = TYPE_A) -> bytes:
    header = struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 0)  # recursion desired, one question
    labels = [label.encode("ascii") for label in name.rstrip(".").split(".")]
    qname = b"".join(bytes([len(label)]) + label for label in labels) + b"\0"
    return header + qname + struct.pack("!HH", qtype, 1)  # class IN


def _skip_name(msg: bytes, pos: int) -> int:
    while True:
        length = msg[pos]
        if length == 0:
            return pos + 1
        if length & 0xC0 == 0xC0:  # a compression pointer ends the name
            return pos + 2
        pos += 1 + length


def decode_answer(msg: bytes) -> Answer:
    _ident, flags, qdcount, ancount, _ns, _ar = struct.unpack("!HHHHHH", msg[:12])
    pos = 12
    for _ in range(qdcount):
        pos = _skip_name(msg, pos) + 4
    addresses = []
    for _ in range(ancount):
        pos = _skip_name(msg, pos)
        rtype, _cls, _ttl, length = struct.unpack("!HHIH", msg[pos : pos + 10])
        pos += 10
        if rtype == TYPE_A and length == 4:
            addresses.append(socket.inet_ntoa(msg[pos : pos + 4]))
        pos += length
    rcode = flags & 0x000F
    return Answer(RCODES.get(rcode, str(rcode)), bool(flags & 0x0400), tuple(addresses))


def query(server: str, name: str, timeout: float = 10.0, port: int = 53) -> Answer:
    """Ask `server` for the A records of `name`; a reply to another question is ignored."""
    ident = secrets.randbelow(0x10000)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.connect((server, port))
        sock.send(encode_query(name, ident))
        while True:
            reply = sock.recv(4096)
            if len(reply) >= 12 and struct.unpack("!H", reply[:2])[0] == ident:
                return decode_answer(reply)
