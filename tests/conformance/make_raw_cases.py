#!/usr/bin/python3
"""Writes raw_cases.txt: hand-built queries that a DNS library would not
send, as hex, one per line ("NAME udp|tcp|both HEX  # what it tests").

Each packet is assembled here from its fields so that the hex in
raw_cases.txt can be read back against this file; run.py only reads
raw_cases.txt. Covers RFC 1035 §4.1 (header, question, compression),
RFC 6891 §6.1.1 and §7 (OPT rules, BADVERS), RFC 9619 (QDCOUNT), RFC 5001
(NSID), RFC 7873 (cookies), RFC 7828 (keepalive), RFC 7830 (padding),
RFC 8945 (TSIG), RFC 1996 (NOTIFY), RFC 2136 (UPDATE), RFC 8490 (DSO).

    python3 tests/conformance/make_raw_cases.py > tests/conformance/raw_cases.txt
"""

import struct

QR, AA, TC, RD, RA, Z, AD, CD = 0x8000, 0x0400, 0x0200, 0x0100, 0x0080, 0x0040, 0x0020, 0x0010
A, NS, SOA, MX, TXT, AAAA, OPT, IXFR, AXFR, ANY, TSIG = 1, 2, 6, 15, 16, 28, 41, 251, 252, 255, 250
IN, CH = 1, 3


def opcode(n):
    return n << 11


def header(qid, flags=0, qd=1, an=0, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def name(text):
    if text == ".":
        return b"\x00"
    out = b""
    for label in text.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\x00"


def question(qname, qtype=A, qclass=IN):
    return name(qname) + struct.pack("!HH", qtype, qclass)


def opt(payload=1232, ext_rcode=0, version=0, flags=0, options=b"", owner=b"\x00"):
    ttl = (ext_rcode << 24) | (version << 16) | flags
    return owner + struct.pack("!HHIH", OPT, payload, ttl, len(options)) + options


def option(code, data=b""):
    return struct.pack("!HH", code, len(data)) + data


def rr(owner, rtype, rclass, ttl, rdata):
    return owner + struct.pack("!HHIH", rtype, rclass, ttl, len(rdata)) + rdata


DO = 0x8000
WWW = "www.example.com"
SOA_RDATA = (name("ns1.example.com") + name("hostmaster.example.com")
             + struct.pack("!IIIII", 2024010101, 7200, 3600, 1209600, 300))
OLD_SOA_RDATA = (name("ns1.example.com") + name("hostmaster.example.com")
                 + struct.pack("!IIIII", 2024010100, 7200, 3600, 1209600, 300))


def tsig_rr(orig_id):
    alg = name("hmac-sha256")
    rdata = (alg + struct.pack("!HI", 0, 1700000000) + struct.pack("!H", 300)
             + struct.pack("!H", 32) + bytes(range(32))
             + struct.pack("!HHH", orig_id, 0, 0))
    return rr(name("unknown-key.example"), TSIG, ANY, 0, rdata)


CASES = []


def case(cname, transports, wire, why):
    CASES.append((cname, transports, wire, why))


def build():
    q = question(WWW)
    e = opt()

    case("baseline_edns", "both", header(0x1001, qd=1, ar=1) + q + e,
         "an ordinary query, to show the harness itself agrees")
    case("baseline_noedns", "both", header(0x1002) + q, "an ordinary query without EDNS")

    # ---- opcodes (RFC 1035 §4.1.1, RFC 6895 §2.2) ----
    for code, label in ((1, "iquery"), (2, "status"), (3, "unassigned3"), (6, "dso"),
                        (7, "unassigned7"), (15, "opcode15")):
        case(f"opcode_{label}", "both", header(0x1100 + code, opcode(code), ar=1) + q + e,
             f"opcode {code} with EDNS: NOTIMP expected, question and OPT kept?")
        case(f"opcode_{label}_noedns", "both", header(0x1200 + code, opcode(code)) + q,
             f"opcode {code} without EDNS")
    case("opcode_iquery_qd0", "both", header(0x1110, opcode(1), qd=0), "IQUERY with no question")
    case("opcode_notify", "both",
         header(0x1104, opcode(4) | AA, ar=1) + question("example.com", SOA) + e,
         "NOTIFY for a served zone from a host that is not a primary (RFC 1996 §3.10)")
    case("opcode_notify_soa", "both",
         header(0x1114, opcode(4) | AA, an=1) + question("example.com", SOA)
         + rr(b"\xc0\x0c", SOA, IN, 3600, SOA_RDATA),
         "NOTIFY with the new SOA in the answer section")
    case("opcode_notify_unserved", "both",
         header(0x1124, opcode(4) | AA) + question("example", SOA),
         "NOTIFY for a zone not served")
    case("opcode_update", "both",
         header(0x1105, opcode(5), qd=1, ns=1) + question("example.com", SOA)
         + rr(name("new.example.com"), A, IN, 300, bytes([192, 0, 2, 99])),
         "UPDATE adding a record (RFC 2136): not allowed here")
    case("opcode_update_unserved", "both",
         header(0x1115, opcode(5)) + question("example", SOA), "UPDATE for an unserved zone")

    # ---- QDCOUNT (RFC 9619, RFC 7873 §5.4) ----
    case("qdcount0_noedns", "both", header(0x1300, qd=0), "no question, no EDNS: FORMERR?")
    case("qdcount0_edns", "both", header(0x1301, qd=0, ar=1) + e, "no question, with EDNS")
    case("qdcount0_cookie", "both",
         header(0x1302, qd=0, ar=1) + opt(options=option(10, bytes.fromhex("0102030405060708"))),
         "no question, a client cookie only (RFC 7873 §5.4 asks for a server cookie)")
    case("qdcount2", "both", header(0x1303, qd=2, ar=1) + q + question("mail.example.com") + e,
         "two questions (RFC 9619: FORMERR)")
    case("qdcount2_same", "both", header(0x1304, qd=2) + q + q, "the same question twice")
    case("qdcount2_compressed", "both",
         header(0x1305, qd=2) + q + b"\x04mail" + b"\xc0\x10" + struct.pack("!HH", A, IN),
         "two questions, the second compressed against the first")
    case("qdcount2_missing", "both", header(0x1306, qd=2) + q,
         "QDCOUNT=2 but one question present")
    case("qdcount_many", "both", header(0x1307, qd=0xFFFF) + q, "QDCOUNT=65535, one question")

    # ---- header flags in a query ----
    case("flag_tc", "both", header(0x1400, TC, ar=1) + q + e, "TC set in a query")
    case("flag_z", "both", header(0x1401, Z, ar=1) + q + e, "the Z bit set (RFC 1035: must be 0)")
    case("flag_rd", "both", header(0x1402, RD, ar=1) + q + e, "RD set: copied (RFC 1035 §4.1.1)")
    case("flag_ad", "both", header(0x1403, AD, ar=1) + q + e, "AD set (RFC 6840 §5.7)")
    case("flag_cd", "both", header(0x1404, CD, ar=1) + q + e, "CD set (RFC 4035 §3.2.2)")
    case("flag_ad_do", "both", header(0x1405, AD, ar=1) + q + opt(flags=DO), "AD and DO set")
    case("flag_cd_do", "both", header(0x1406, CD | RD, ar=1) + q + opt(flags=DO), "CD, RD and DO")
    case("flag_aa_ra", "both", header(0x1407, AA | RA, ar=1) + q + e, "AA and RA set in a query")
    case("flag_all", "both", header(0x1408, AA | TC | RD | RA | Z | AD | CD, ar=1) + q + e,
         "every flag but QR")
    case("flag_qr", "both", header(0x1409, QR, ar=1) + q + e, "QR set: a response, dropped?")
    case("flag_qr_noedns", "both", header(0x140A, QR | AA) + q, "a response without EDNS")
    case("rcode_in_query", "both", header(0x140B, 5, ar=1) + q + e, "RCODE=5 in a query")
    case("id_zero", "both", header(0x0000, ar=1) + q + e, "ID 0")
    case("id_ffff", "both", header(0xFFFF, ar=1) + q + e, "ID 65535")
    case("refused_rd", "both", header(0x140C, RD, ar=1) + question("nowhere.example") + e,
         "RD set, name not served")
    case("nxdomain_cd_ad", "both", header(0x140D, CD | AD, ar=1) + question("nx.example.com")
         + opt(flags=DO), "NXDOMAIN with CD, AD and DO")

    # ---- EDNS (RFC 6891) ----
    case("edns_version1", "both", header(0x1500, ar=1) + q + opt(version=1),
         "EDNS version 1: BADVERS (RFC 6891 §6.1.3), OPT version 0")
    case("edns_version1_do", "both", header(0x1501, ar=1) + q + opt(version=1, flags=DO),
         "BADVERS with DO")
    case("edns_version255", "both", header(0x1502, ar=1) + q + opt(version=255), "version 255")
    case("edns_version1_refused", "both",
         header(0x1503, ar=1) + question("nowhere.example") + opt(version=1),
         "BADVERS for a name not served: which wins?")
    case("edns_version1_nsid", "both",
         header(0x1504, ar=1) + q + opt(version=1, options=option(3)), "BADVERS with NSID")
    case("edns_version1_ch", "both",
         header(0x1505, ar=1) + question("id.server", TXT, CH) + opt(version=1),
         "BADVERS for a CHAOS query")
    case("edns_version1_qd0", "both", header(0x1506, qd=0, ar=1) + opt(version=1),
         "BADVERS and no question")
    case("edns_two_opt", "both", header(0x1510, ar=2) + q + e + e,
         "two OPT records: FORMERR (RFC 6891 §6.1.1)")
    case("edns_opt_owner_not_root", "both",
         header(0x1511, ar=1) + q + opt(owner=name("example.com")), "OPT with a non-root owner")
    case("edns_opt_in_answer", "both", header(0x1512, an=1) + q + e, "OPT in the answer section")
    case("edns_opt_in_authority", "both", header(0x1513, ns=1) + q + e, "OPT in the authority section")
    case("edns_optlen_overrun", "both",
         header(0x1514, ar=1) + q + b"\x00" + struct.pack("!HHIH", OPT, 1232, 0, 8)
         + struct.pack("!HH", 3, 10) + b"ab",
         "an option whose length runs past the OPT RDATA")
    case("edns_rdlen_overrun", "both",
         header(0x1515, ar=1) + q + b"\x00" + struct.pack("!HHIH", OPT, 1232, 0, 20),
         "OPT RDLENGTH past the end of the message")
    case("edns_option_short", "both",
         header(0x1516, ar=1) + q + b"\x00" + struct.pack("!HHIH", OPT, 1232, 0, 2) + b"\x00\x03",
         "OPT RDATA of 2 octets: half an option header")
    case("edns_payload_0", "both", header(0x1520, ar=1) + q + opt(payload=0),
         "payload 0: treated as 512 (RFC 6891 §6.2.3)")
    case("edns_payload_511", "both", header(0x1521, ar=1) + question("many.example.com") + opt(payload=511),
         "payload 511 with a 685-octet answer")
    case("edns_payload_512_many", "both", header(0x1522, ar=1) + question("many.example.com")
         + opt(payload=512), "payload 512 with a 685-octet answer: TC")
    case("edns_payload_65535", "both", header(0x1523, ar=1) + question("bigtxt.example.com", TXT)
         + opt(payload=65535), "payload 65535, answer over the server's 1232")
    case("edns_ext_rcode_in_query", "both", header(0x1524, ar=1) + q + opt(ext_rcode=1),
         "extended RCODE bits set in a query")
    case("edns_z_bits", "both", header(0x1525, ar=1) + q + opt(flags=0x7FFF),
         "every OPT Z flag bit set (RFC 6891 §6.1.4: must be zero in the response)")
    case("edns_do_z_bits", "both", header(0x1526, ar=1) + q + opt(flags=0xFFFF), "DO and every Z bit")
    case("edns_unknown_option", "both",
         header(0x1530, ar=1) + q + opt(options=option(65001, b"\xde\xad\xbe\xef")),
         "an unknown option: ignored, not echoed")
    case("edns_option_code0", "both", header(0x1531, ar=1) + q + opt(options=option(0, b"x")),
         "option code 0 (reserved)")
    case("edns_nsid", "both", header(0x1532, ar=1) + q + opt(options=option(3)), "NSID request")
    case("edns_nsid_with_data", "both",
         header(0x1533, ar=1) + q + opt(options=option(3, b"client-data")),
         "NSID with data in the query (RFC 5001 §2.3: must be empty)")
    case("edns_nsid_twice", "both",
         header(0x1534, ar=1) + q + opt(options=option(3) + option(3)), "NSID asked twice")
    case("edns_nsid_refused", "both",
         header(0x1535, ar=1) + question("nowhere.example") + opt(options=option(3)),
         "NSID on a REFUSED answer")
    case("edns_nsid_formerr", "both",
         header(0x1536, qd=2, ar=1) + q + q + opt(options=option(3)), "NSID on a FORMERR answer")
    case("edns_nsid_unknown_option", "both",
         header(0x1537, ar=1) + q + opt(options=option(65001, b"zz") + option(3)),
         "NSID after an unknown option")
    case("edns_cookie_client", "both",
         header(0x1540, ar=1) + q + opt(options=option(10, bytes.fromhex("0102030405060708"))),
         "a client cookie (RFC 7873)")
    case("edns_cookie_bad_length", "both",
         header(0x1541, ar=1) + q + opt(options=option(10, b"\x01\x02\x03\x04\x05")),
         "a 5-octet cookie: FORMERR (RFC 7873 §5.2.2)")
    case("edns_cookie_client_server", "both",
         header(0x1542, ar=1) + q + opt(options=option(10, bytes(range(1, 25)))),
         "client and server cookie (unknown to the server)")
    case("edns_keepalive", "both", header(0x1550, ar=1) + q + opt(options=option(11)),
         "edns-tcp-keepalive, empty (RFC 7828 §3.2.1)")
    case("edns_keepalive_with_timeout", "both",
         header(0x1551, ar=1) + q + opt(options=option(11, b"\x00\x64")),
         "edns-tcp-keepalive with a timeout in a query: FORMERR (RFC 7828 §3.2.1)")
    case("edns_padding", "both", header(0x1552, ar=1) + q + opt(options=option(12, bytes(64))),
         "padding in a query (RFC 7830)")
    case("edns_padding_large", "udp", header(0x1553, ar=1) + q + opt(options=option(12, bytes(1400))),
         "a 1.5 kB query")
    case("edns_ecs", "both",
         header(0x1554, ar=1) + q + opt(options=option(8, bytes.fromhex("0001180000c00002"))),
         "EDNS client subnet 192.0.2.0/24")
    case("edns_expire", "both",
         header(0x1555, ar=1) + question("example.com", SOA) + opt(options=option(9)),
         "EXPIRE option on a SOA query (RFC 7314)")
    case("edns_ede_in_query", "both",
         header(0x1556, ar=1) + q + opt(options=option(15, b"\x00\x00")), "an EDE option in a query")
    case("edns_many_options", "both",
         header(0x1557, ar=1) + q + opt(flags=DO, options=option(3) + option(10, bytes(8))
                                         + option(65002, b"") + option(12, bytes(8))),
         "NSID, cookie, unknown and padding together")

    # ---- malformed messages ----
    case("empty", "udp", b"", "an empty datagram")
    case("tcp_zero_length", "tcp", b"", "a TCP message of length 0")
    case("short_header", "both", header(0x1600)[:7], "7 octets")
    case("header_only", "both", header(0x1601), "a header promising a question, nothing else")
    case("trailing_garbage", "both", header(0x1602) + q + b"\xde\xad\xbe\xef\x00",
         "5 octets after the question, no EDNS")
    case("trailing_garbage_edns", "both", header(0x1603, ar=1) + q + e + b"\x01\x02\x03",
         "3 octets after the OPT")
    case("truncated_name", "both", header(0x1604) + name(WWW)[:9], "question name cut mid-label")
    case("truncated_type", "both", header(0x1605) + name(WWW) + b"\x00", "one octet of QTYPE")
    case("truncated_class", "both", header(0x1606) + name(WWW) + b"\x00\x01\x00",
         "QTYPE and one octet of QCLASS")
    case("truncated_opt", "both", header(0x1607, ar=1) + q + e[:6], "OPT cut short")
    case("arcount_missing", "both", header(0x1608, ar=1) + q, "ARCOUNT=1, no record")
    case("ancount_with_a", "both",
         header(0x1609, an=1) + q + rr(b"\xc0\x0c", A, IN, 300, bytes([192, 0, 2, 1])),
         "a query carrying an answer record")
    case("additional_a_and_opt", "both",
         header(0x160A, ar=2) + q + rr(name("x.example.com"), A, IN, 300, bytes([192, 0, 2, 1])) + e,
         "an A record before the OPT in the additional section")
    case("pointer_loop", "both", header(0x1610) + b"\x03www\xc0\x0c" + struct.pack("!HH", A, IN),
         "a compression pointer to itself in the question")
    case("pointer_self", "both", header(0x1611) + b"\xc0\x0c" + struct.pack("!HH", A, IN),
         "the question name is a pointer to its own offset")
    case("pointer_forward", "both", header(0x1612) + b"\xc0\x40" + struct.pack("!HH", A, IN),
         "a pointer past the end of the message")
    case("pointer_into_header", "both", header(0x1613) + b"\xc0\x04" + struct.pack("!HH", A, IN),
         "a pointer into the header")
    case("pointer_valid_to_question", "both",
         header(0x1614, ar=1) + q + b"\xc0\x0c" + struct.pack("!HHIH", OPT, 1232, 0, 0),
         "OPT owner compressed to the question name (not root): FORMERR?")
    case("label_type_01", "both", header(0x1615) + b"\x41" + b"a" * 1 + b"\x00" + struct.pack("!HH", A, IN),
         "label type 01 (extended label, RFC 6891 §5)")
    case("label_type_10", "both", header(0x1616) + b"\x80\x00" + struct.pack("!HH", A, IN),
         "label type 10 (reserved)")
    case("name_too_long", "both",
         header(0x1617) + (b"\x3f" + b"a" * 63) * 4 + b"\x00" + struct.pack("!HH", A, IN),
         "a 257-octet question name")
    case("name_255", "both",
         header(0x1618) + (b"\x3f" + b"a" * 63) * 3 + b"\x3d" + b"b" * 61 + b"\x00"
         + struct.pack("!HH", A, IN), "a 255-octet question name (legal, not served)")
    case("name_255_in_zone", "both",
         header(0x1619) + (b"\x3f" + b"a" * 63) * 3 + b"\x31" + b"b" * 49 + name("example.com")
         + struct.pack("!HH", A, IN), "a 255-octet name under example.com: NXDOMAIN")
    case("root_label_binary", "both",
         header(0x161A) + b"\x03\x00\xff\x41" + name("example.com") + struct.pack("!HH", A, IN),
         "a label with octets 0x00 0xff 'A': case folding must leave 0xff alone")
    case("high_octet_case", "both",
         header(0x161B) + b"\x06HIGH\xc8\xc9" + name("example.com") + struct.pack("!HH", A, IN),
         "HIGH\\200\\201 in upper case: matches high\\200\\201 (RFC 4343 §3)")

    # ---- transfers and TSIG ----
    case("axfr_udp", "udp", header(0x1700, ar=1) + question("example.com", AXFR) + e,
         "AXFR over UDP (RFC 5936 §4.2)")
    case("ixfr_udp_with_soa", "both",
         header(0x1701, ns=1) + question("example.com", IXFR) + rr(b"\xc0\x0c", SOA, IN, 3600, OLD_SOA_RDATA),
         "a well-formed IXFR query (RFC 1995 §3): no transfer allowed")
    case("ixfr_current_serial", "udp",
         header(0x1702, ns=1) + question("example.com", IXFR) + rr(b"\xc0\x0c", SOA, IN, 3600, SOA_RDATA),
         "IXFR for the serial the server has (RFC 1995 §4: just the SOA)")
    case("axfr_tcp", "tcp", header(0x1703) + question("example.com", AXFR), "AXFR over TCP, no ACL")
    case("tsig_unknown_key", "both", header(0x1710, ar=1) + q + tsig_rr(0x1710),
         "TSIG with an unknown key: NOTAUTH/BADKEY (RFC 8945 §5.2)")
    case("tsig_not_last", "both", header(0x1711, ar=2) + q + tsig_rr(0x1711) + e,
         "TSIG before OPT (must be last): FORMERR")
    case("tsig_edns_unknown_key", "both", header(0x1712, ar=2) + q + e + tsig_rr(0x1712),
         "EDNS then TSIG with an unknown key")

    # ---- class and type edge cases on the wire ----
    case("class_any_a", "both", header(0x1800) + question(WWW, A, ANY), "QCLASS ANY")
    case("class_none_a", "both", header(0x1801) + question(WWW, A, 254), "QCLASS NONE")
    case("class_0", "both", header(0x1802) + question(WWW, A, 0), "QCLASS 0")
    case("class_65535", "both", header(0x1803) + question(WWW, A, 65535), "QCLASS 65535")
    case("type_0", "both", header(0x1804) + question(WWW, 0), "QTYPE 0")
    case("type_opt", "both", header(0x1805) + question(WWW, OPT), "QTYPE OPT")
    case("type_tsig", "both", header(0x1806) + question(WWW, TSIG), "QTYPE TSIG")
    case("type_65535", "both", header(0x1807) + question(WWW, 65535), "QTYPE 65535")
    case("ch_id_server_upper", "both", header(0x1808, ar=1) + question("ID.Server", TXT, CH) + e,
         "CHAOS id.server in mixed case")


def main():
    build()
    print("# raw_cases.txt — generated by make_raw_cases.py (edit that, then regenerate).")
    print("# NAME TRANSPORTS HEX  # what it tests. TRANSPORTS: udp, tcp or both; run.py")
    print("# adds the 2-octet length prefix for TCP. Every case is compared between Knot")
    print("# and anydns: the response, or the lack of one.")
    for cname, transports, wire, why in CASES:
        print(f"{cname} {transports} {wire.hex() or '-'}  # {why}")


if __name__ == "__main__":
    main()
