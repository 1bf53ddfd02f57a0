#!/usr/bin/python3
"""Writes malformed.txt: received BGP messages and what the speaker must do.

The cases are written here as parts (attributes, prefixes) so that every
length field comes out right except the ones a case breaks on purpose;
the output lists each message as hex with "_" between the parts, which
tests/unit/test_bgp_msg.c reads. Run from this directory:
    /usr/bin/python3 make_malformed.py > malformed.txt
"""

HEADER = """\
# Received BGP messages and what the speaker must do with them.
# Written by make_malformed.py (edit that, then regenerate).
#
#   NAME  EXPECT  CTX  KIND  HEX  [data=HEX] [ann=N] [wd=N]
#
# KIND raw: HEX is the whole message. KIND open, update, notification,
# refresh: HEX is the body; the test adds the header with the right length.
# "_" in HEX only separates the parts.
#
# EXPECT:
#   ok            decoded, nothing wrong (an OPEN also passes the checks
#                 against the configuration below)
#   eor4, eor6    a valid End-of-RIB (RFC 4724 section 2)
#   reset:C/S     NOTIFICATION code C subcode S, the session closes
#   check:C/S     an OPEN that parses but the configuration rejects
#   withdraw:C/S  RFC 7606 treat-as-withdraw; C/S is what RFC 4271 6.3
#                 would have sent (logged, not sent)
#   discard:C/S   RFC 7606 attribute discard; the rest of the UPDATE stands
#
# CTX for UPDATE: as4 (4-octet AS session, IPv4 and IPv6), as2 (2-octet AS
# numbers), v4only (as4, IPv6 not negotiated). For OPEN: ebgp (we are AS
# 64496 with id 192.0.2.1, the peer is AS 64497, both families configured)
# or ibgp (the peer is AS 64496 too). "-" where it does not matter.
"""

MARKER = "ff" * 16


def h16(v):
    return "%04x" % v


def attr(flags, code, value, ext=None):
    """A path attribute with its length computed (or forced by ext)."""
    n = len(value) // 2
    if ext or n > 255:
        return "%02x%02x%04x%s" % (flags | 0x10, code, n, value)
    return "%02x%02x%02x%s" % (flags, code, n, value)


def attr_len(flags, code, length, value):
    """A path attribute with a wrong one-octet length."""
    return "%02x%02x%02x%s" % (flags, code, length, value)


ORIGIN = attr(0x40, 1, "00")
AS_PATH = attr(0x40, 2, "02" + "01" + "0000fbf1")
AS_PATH2 = attr(0x40, 2, "02" + "01" + "fbf1")
NEXT_HOP = attr(0x40, 3, "c0000202")
NLRI = "18c63364"                      # 198.51.100.0/24
NLRI32 = "20c0000235"                  # 192.0.2.53/32
V6_NH = "20010db8000000000000000000000002"
V6_LL = "fe800000000000000000000000000001"
V6_PFX = "80" + "20010db8000000000000000000000053"   # 2001:db8::53/128


def mp_reach(afi=2, safi=1, nh=V6_NH, prefixes=(V6_PFX,), flags=0x80):
    nh_len = len(nh) // 2
    return attr(flags, 14, "%04x%02x%02x%s00%s" % (afi, safi, nh_len, nh,
                                                    "".join(prefixes)))


def mp_unreach(afi=2, safi=1, prefixes=()):
    return attr(0x80, 15, "%04x%02x%s" % (afi, safi, "".join(prefixes)))


def update(attrs=(), nlri="", wd="", wd_len=None, al=None):
    a = "_".join(attrs)
    alen = len(a.replace("_", "")) // 2 if al is None else al
    wlen = len(wd) // 2 if wd_len is None else wd_len
    parts = [h16(wlen)]
    if wd:
        parts.append(wd)
    parts.append(h16(alen))
    if a:
        parts.append(a)
    if nlri:
        parts.append(nlri)
    return "_".join(parts)


def raw(length, type_, body=""):
    return "_".join(p for p in (MARKER, h16(length), "%02x" % type_, body) if p)


CAPS = "0214_010400010001_010400020001_0200_41040000fbf1"


def open_(my_as=0xfbf1, hold=90, ident="c0000202", params=None, optlen=None,
          version=4):
    p = CAPS if params is None else params
    plen = len(p.replace("_", "")) // 2 if optlen is None else optlen
    parts = ["%02x" % version, h16(my_as), h16(hold), ident, "%02x" % plen]
    if p:
        parts.append(p)
    return "_".join(parts)


BASE = [ORIGIN, AS_PATH, NEXT_HOP]

CASES = [
    "# ---- message header, RFC 4271 section 6.1",
    ("bad_marker", "reset:1/1", "-", "raw", "ff" * 15 + "ef_0013_04"),
    ("len_below_19", "reset:1/2", "-", "raw", raw(18, 4), "data=0012"),
    ("len_above_4096", "reset:1/2", "-", "raw", raw(4097, 4), "data=1001"),
    ("bad_type", "reset:1/3", "-", "raw", raw(19, 7), "data=07"),
    ("type_zero", "reset:1/3", "-", "raw", raw(19, 0), "data=00"),
    ("keepalive_long", "reset:1/2", "-", "raw", raw(20, 4, "00"), "data=0014"),
    ("open_below_29", "reset:1/2", "-", "raw", raw(28, 1, "04fbf1005ac0000202"),
     "data=001c"),
    ("update_below_23", "reset:1/2", "-", "raw", raw(22, 2, "000000"), "data=0016"),
    ("notification_below_21", "reset:1/2", "-", "raw", raw(20, 3, "06"),
     "data=0014"),
    ("refresh_not_23", "reset:1/2", "-", "raw", raw(24, 5, "0001000100"),
     "data=0018"),
    ("length_below_octets", "reset:1/2", "-", "raw", raw(19, 4, "00"), "data=0013"),
    ("keepalive", "ok", "-", "raw", raw(19, 4)),

    "# ---- OPEN, RFC 4271 section 6.2, RFC 5492, RFC 9072",
    ("open_ok", "ok", "ebgp", "open", open_()),
    ("open_hold0", "ok", "ebgp", "open", open_(hold=0)),
    ("open_no_params", "ok", "ebgp", "open", open_(params="")),
    ("open_as_trans", "ok", "ebgp", "open", open_(my_as=23456, params="0206_41040000fbf1")),
    ("open_unknown_cap", "ok", "ebgp", "open", open_(params="020a_46020001_41040000fbf1")),
    ("open_two_params", "ok", "ebgp", "open",
     open_(params="0204_02004000_0206_010400010001")),
    ("open_ext_params", "ok", "ebgp", "open",
     open_(params="ff_0017_02_0014_010400010001_010400020001_0200_41040000fbf1",
           optlen=255)),
    ("open_version_3", "reset:2/1", "ebgp", "open", open_(version=3, params=""),
     "data=0004"),
    ("open_version_5", "reset:2/1", "ebgp", "open", open_(version=5, params=""),
     "data=0004"),
    ("open_hold_1", "reset:2/6", "ebgp", "open", open_(hold=1, params="")),
    ("open_hold_2", "reset:2/6", "ebgp", "open", open_(hold=2, params="")),
    ("open_id_zero", "reset:2/3", "ebgp", "open", open_(ident="00000000", params="")),
    ("open_optlen_over", "reset:2/0", "ebgp", "open", open_(params="0200", optlen=5)),
    ("open_optlen_under", "reset:2/0", "ebgp", "open", open_(params="0200", optlen=1)),
    ("open_param_auth", "reset:2/4", "ebgp", "open", open_(params="010100")),
    ("open_param_overrun", "reset:2/0", "ebgp", "open", open_(params="0205ff")),
    ("open_cap_overrun", "reset:2/0", "ebgp", "open", open_(params="0204_01040001")),
    ("open_cap_mp_len", "reset:2/0", "ebgp", "open", open_(params="0205_0103000100")),
    ("open_cap_as4_len", "reset:2/0", "ebgp", "open", open_(params="0204_4102fbf1")),
    ("open_cap_rr_len", "reset:2/0", "ebgp", "open", open_(params="0203_020100")),
    ("open_ext_short", "reset:2/0", "ebgp", "open",
     open_(params="ff_0017_02_0014_0104", optlen=255)),
    ("open_bad_peer_as", "check:2/2", "ebgp", "open", open_(my_as=0xfbf2, params="")),
    ("open_as4_mismatch", "check:2/2", "ebgp", "open",
     open_(my_as=23456, params="0206_410400010000")),
    ("open_as_zero", "check:2/2", "ebgp", "open", open_(my_as=0, params="")),
    ("open_no_family", "check:2/7", "ebgp", "open", open_(params="0206_010400190046"),
     "data=010400010001010400020001"),
    ("open_ibgp_same_id", "check:2/3", "ibgp", "open",
     open_(my_as=0xfbf0, ident="c0000201", params="")),
    ("open_ebgp_same_id", "ok", "ebgp", "open", open_(ident="c0000201", params="")),

    "# ---- other messages",
    ("notification", "ok", "-", "notification", "0602"),
    ("notification_data", "ok", "-", "notification", "0301_40010103"),
    ("refresh", "ok", "-", "refresh", "00010001"),

    "# ---- UPDATE: valid",
    ("update_ok", "ok", "as4", "update", update(BASE, NLRI), "ann=1"),
    ("eor_ipv4", "eor4", "as4", "update", update()),
    ("eor_ipv6", "eor6", "as4", "update", update([mp_unreach()])),
    ("withdraw_only", "ok", "as4", "update", update(wd=NLRI), "wd=1"),
    ("withdraw_mp_v6", "ok", "as4", "update",
     update([mp_unreach(prefixes=("4020010db800000000",))]), "wd=1"),
    ("mp_reach_v6", "ok", "as4", "update", update([ORIGIN, AS_PATH, mp_reach()]),
     "ann=1"),
    ("mp_reach_v6_ll", "ok", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(nh=V6_NH + V6_LL)]), "ann=1"),
    ("as_path_as2", "ok", "as2", "update", update([ORIGIN, AS_PATH2, NEXT_HOP], NLRI),
     "ann=1"),
    ("unknown_optional", "ok", "as4", "update",
     update(BASE + [attr(0xc0, 99, "00")], NLRI), "ann=1"),
    ("two_prefixes", "ok", "as4", "update", update(BASE, NLRI + "_" + NLRI32), "ann=2"),
    ("mp_unknown_family", "discard:3/9", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(afi=25, safi=65, nh="c0000202",
                                      prefixes=(NLRI32,))])),
    ("mp_v6_not_negotiated", "discard:3/9", "v4only", "update",
     update([ORIGIN, AS_PATH, mp_reach()])),

    "# ---- UPDATE: session reset (RFC 4271 6.3 where RFC 7606 keeps it)",
    ("withdrawn_len_over", "reset:3/1", "as4", "update", "0005_0000"),
    ("attr_len_over", "reset:3/1", "as4", "update", update([ORIGIN], al=16)),
    ("withdrawn_prefix_33", "reset:3/10", "as4", "update", update(wd="21c0")),
    ("withdrawn_overrun", "reset:3/10", "as4", "update", update(wd="20c000")),
    ("nlri_prefix_33", "reset:3/10", "as4", "update", update(BASE, "21c000020000")),
    ("nlri_overrun", "reset:3/10", "as4", "update", update(BASE, "20c000")),
    ("unknown_well_known", "reset:3/2", "as4", "update",
     update(BASE + [attr(0x40, 99, "00")], NLRI), "data=40630100"),
    ("mp_reach_twice", "reset:3/1", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(), mp_reach()])),
    ("mp_reach_short", "reset:3/9", "as4", "update",
     update([ORIGIN, AS_PATH, attr(0x80, 14, "0002")])),
    ("mp_reach_nh_len", "reset:3/9", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(nh="c0000202")])),
    ("mp_reach_prefix_129", "reset:3/9", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(prefixes=("81" + V6_PFX[2:],))])),
    ("mp_reach_flags", "reset:3/4", "as4", "update",
     update([ORIGIN, AS_PATH, mp_reach(flags=0xc0)])),
    ("mp_unreach_short", "reset:3/9", "as4", "update", update([attr(0x80, 15, "0002")])),
    ("mp_unreach_prefix", "reset:3/9", "as4", "update",
     update([mp_unreach(prefixes=("8120",))])),
    ("no_nlri_bad_origin", "reset:3/6", "as4", "update",
     update([attr(0x40, 1, "03")], wd=NLRI)),
    ("no_nlri_framing", "reset:3/1", "as4", "update", update([ORIGIN, "4002"])),

    "# ---- UPDATE: treat-as-withdraw (RFC 7606)",
    ("origin_value_3", "withdraw:3/6", "as4", "update",
     update([attr(0x40, 1, "03"), AS_PATH, NEXT_HOP], NLRI), "data=40010103"),
    ("origin_length_2", "withdraw:3/5", "as4", "update",
     update([attr(0x40, 1, "0000"), AS_PATH, NEXT_HOP], NLRI), "data=4001020000"),
    ("origin_optional", "withdraw:3/4", "as4", "update",
     update([attr(0xc0, 1, "00"), AS_PATH, NEXT_HOP], NLRI), "data=c0010100"),
    ("as_path_optional", "withdraw:3/4", "as4", "update",
     update([ORIGIN, attr(0xc0, 2, "02010000fbf1"), NEXT_HOP], NLRI)),
    ("missing_origin", "withdraw:3/3", "as4", "update", update([AS_PATH, NEXT_HOP], NLRI),
     "data=01"),
    ("missing_as_path", "withdraw:3/3", "as4", "update", update([ORIGIN, NEXT_HOP], NLRI),
     "data=02"),
    ("missing_next_hop", "withdraw:3/3", "as4", "update", update([ORIGIN, AS_PATH], NLRI),
     "data=03"),
    ("mp_missing_origin", "withdraw:3/3", "as4", "update", update([AS_PATH, mp_reach()]),
     "data=01"),
    ("as_path_segment_5", "withdraw:3/11", "as4", "update",
     update([ORIGIN, attr(0x40, 2, "05010000fbf1"), NEXT_HOP], NLRI)),
    ("as_path_segment_0", "withdraw:3/11", "as4", "update",
     update([ORIGIN, attr(0x40, 2, "0200"), NEXT_HOP], NLRI)),
    ("as_path_overrun", "withdraw:3/11", "as4", "update",
     update([ORIGIN, attr(0x40, 2, "02020000fbf1"), NEXT_HOP], NLRI)),
    ("as_path_2_in_as4", "withdraw:3/11", "as4", "update",
     update([ORIGIN, AS_PATH2, NEXT_HOP], NLRI)),
    ("next_hop_length_5", "withdraw:3/5", "as4", "update",
     update([ORIGIN, AS_PATH, attr(0x40, 3, "c000020200")], NLRI)),
    ("next_hop_zero", "withdraw:3/8", "as4", "update",
     update([ORIGIN, AS_PATH, attr(0x40, 3, "00000000")], NLRI), "data=40030400000000"),
    ("next_hop_multicast", "withdraw:3/8", "as4", "update",
     update([ORIGIN, AS_PATH, attr(0x40, 3, "e0000001")], NLRI)),
    ("next_hop_broadcast", "withdraw:3/8", "as4", "update",
     update([ORIGIN, AS_PATH, attr(0x40, 3, "ffffffff")], NLRI)),
    ("med_length_2", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0x80, 4, "0000")], NLRI)),
    ("med_well_known", "withdraw:3/4", "as4", "update",
     update(BASE + [attr(0x40, 4, "00000000")], NLRI)),
    ("local_pref_length", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0x40, 5, "0000")], NLRI)),
    ("communities_length", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0xc0, 8, "000000")], NLRI)),
    ("communities_empty", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0xc0, 8, "")], NLRI)),
    ("large_length", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0xc0, 32, "0000fbf000000001")], NLRI)),
    ("ext_communities_len", "withdraw:3/5", "as4", "update",
     update(BASE + [attr(0xc0, 16, "00000000")], NLRI)),
    ("attr_overrun", "withdraw:3/1", "as4", "update",
     update(BASE + [attr_len(0x80, 4, 4, "00")], NLRI)),
    ("attr_short_header", "withdraw:3/1", "as4", "update", update(BASE + ["40"], NLRI)),

    "# ---- UPDATE: attribute discard (RFC 7606)",
    ("atomic_aggr_length", "discard:3/5", "as4", "update",
     update(BASE + [attr(0x40, 6, "00")], NLRI), "ann=1"),
    ("aggregator_length", "discard:3/5", "as4", "update",
     update(BASE + [attr(0xc0, 7, "fbf1c0000202")], NLRI), "ann=1"),
    ("origin_twice", "discard:3/1", "as4", "update", update(BASE + [ORIGIN], NLRI),
     "ann=1"),
    ("as4_path_malformed", "discard:3/9", "as2", "update",
     update([ORIGIN, AS_PATH2, NEXT_HOP, attr(0xc0, 17, "020200010000")], NLRI),
     "ann=1"),
]


def main():
    print(HEADER, end="")
    for c in CASES:
        if isinstance(c, str):
            print()
            print(c)
            continue
        name, expect, ctx, kind, hexs = c[:5]
        extra = " ".join(c[5:])
        print(("%-22s %-13s %-6s %-12s %s %s" % (name, expect, ctx, kind, hexs,
                                                  extra)).rstrip())


if __name__ == "__main__":
    main()
