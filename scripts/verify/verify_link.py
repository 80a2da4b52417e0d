#!/usr/bin/env python3
"""Verify a Cohort invite link (token format cohort1) with the shared key, standard library only.

The format is specified in docs/token-format.md. A valid signature says the link was issued by
whoever holds the key, and that it has not expired; only Cohort's database knows whether the
invite is still pending (not used, cancelled or sent again).

  verify_link.py --key k1=HEX [--key k2=HEX ...] [--now T] [--skew S] LINK_OR_TOKEN
  verify_link.py --key-file /etc/cohort/keys/k1.key ... LINK_OR_TOKEN   (the kid is the file stem)
  verify_link.py --vectors tests/vectors/tokens.json                     (self-test)

Prints the claims as JSON and exits 0 when valid; prints "invalid: REASON" and exits 1 when not;
exits 2 on a usage error. T is Unix seconds or 2026-11-29T10:00:00Z; S is seconds, 0 to 3600
(default 60).
"""

import argparse
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import sys
import time

LABEL = b"cohort-invite-v1\n"
MAX_LEN = 512
MAX_LIFETIME = 366 * 86400  # the longest invite_ttl: Cohort never signs a longer-lived token
MAX_SKEW = 3600
WHITESPACE = " \t\n\r\f"  # what is trimmed around a link and around a key file's hex
KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
HEX_SECRET = re.compile(r"[ \t\n\r\f]*((?:[0-9A-Fa-f]{2}){32,})[ \t\n\r\f]*\Z")


class Invalid(Exception):
    """The token is not valid; args[0] is the reason (e.g. "bad_signature")."""


def b64url_decode(text):
    """Strict unpadded base64url: anything that does not re-encode to itself is refused."""
    if not B64URL.match(text) or len(text) % 4 == 1:
        raise Invalid("non_canonical")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if base64.urlsafe_b64encode(data).decode().rstrip("=") != text:
        raise Invalid("non_canonical")  # unused low bits of the last character were set
    return data


def extract_token(link):
    """The `token` query parameter, else the last path segment, else the text itself.

    Raises Invalid("malformed") when the query has more than one `token` parameter."""
    s = link.strip(WHITESPACE)
    no_fragment = s.split("#", 1)[0]
    if "?" in no_fragment:
        found = [p[len("token="):] for p in no_fragment.split("?", 1)[1].split("&")
                 if p.startswith("token=")]
        if len(found) > 1:
            raise Invalid("malformed")
        if found:
            return found[0]
    if "/" in s:
        last = no_fragment.rstrip("/").rsplit("/", 1)[-1]
        return re.split(r"[?&]", last, maxsplit=1)[0]
    return s


def verify(token, keys, now, skew=60):
    """Returns the claims of a valid token, or raises Invalid(reason). keys: {kid: bytes}.

    Raises ValueError when skew is outside 0 to MAX_SKEW seconds."""
    if not 0 <= skew <= MAX_SKEW:
        raise ValueError(f"skew {skew} s is outside 0 to {MAX_SKEW} s (1 hour)")
    if token == "":
        raise Invalid("empty")
    raw = token.encode("utf-8", "surrogatepass")
    if len(raw) > MAX_LEN:
        raise Invalid("too_long")
    if not token.isascii():
        raise Invalid("non_ascii")
    fields = token.split(".")
    if len(fields) != 4:
        raise Invalid("malformed")
    version, kid, payload_text, mac_text = fields
    if version != "cohort1":
        raise Invalid("wrong_version")
    if not KEY_ID.match(kid):
        raise Invalid("malformed")
    payload = b64url_decode(payload_text)
    mac = b64url_decode(mac_text)
    if len(mac) != 32 or not 41 <= len(payload) <= 40 + 128:
        raise Invalid("malformed")
    if kid not in keys:
        raise Invalid("unknown_key")
    signed = ".".join(fields[:3]).encode("ascii")
    expected = hmac.new(keys[kid], LABEL + signed, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, mac):
        raise Invalid("bad_signature")
    try:
        account_id = payload[40:].decode("utf-8")
    except UnicodeDecodeError:
        raise Invalid("malformed") from None
    claims = {
        "key_id": kid,
        "invite_id": int.from_bytes(payload[0:8], "big"),
        "issued_at": int.from_bytes(payload[8:16], "big", signed=True),
        "expires_at": int.from_bytes(payload[16:24], "big", signed=True),
        "account_id": account_id,
    }
    lifetime = claims["expires_at"] - claims["issued_at"]
    if not 0 < lifetime <= MAX_LIFETIME:
        raise Invalid("malformed")
    if now >= claims["expires_at"]:
        raise Invalid("expired")
    if claims["issued_at"] > now + skew:
        raise Invalid("not_yet_valid")
    return claims


def parse_time(text):
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


def parse_secret(kid, text):
    """A key file's text (or a --key value): hex digits of either case, an even number and at
    least 64, with nothing else but spaces, tabs, CR, LF and form feeds around them."""
    if not KEY_ID.match(kid):
        raise ValueError(f"key id {kid!r} is not 1-32 characters of A-Z a-z 0-9 _ -")
    m = HEX_SECRET.match(text)
    if not m:
        raise ValueError(f"key {kid}: a secret is an even number of hex digits (0-9 a-f A-F), "
                         "at least 64, with nothing else but surrounding whitespace")
    return bytes.fromhex(m.group(1))


def parse_skew(text):
    if not re.fullmatch(r"[0-9]+", text) or int(text) > MAX_SKEW:
        raise ValueError(f"--skew {text!r}: expected whole seconds, at most {MAX_SKEW} (1 hour)")
    return int(text)


def self_test(path):
    """Checks this verifier against every vector, link and HMAC case of a vectors file."""
    with open(path, encoding="utf-8") as f:
        v = json.load(f)
    failures, count = [], 0
    for case in v["hmac_sha256"]:
        count += 1
        mac = hmac.new(bytes.fromhex(case["key"]), bytes.fromhex(case["data"]), hashlib.sha256)
        if mac.hexdigest() != case["mac"]:
            failures.append(case["name"])
    keys = {kid: bytes.fromhex(h) for kid, h in v["keys"].items()}
    for vec in v["vectors"]:
        count += 1
        try:
            got = verify(vec["token"], keys, v["now"], v["skew"])
        except Invalid as e:
            got = e.args[0]
        if got != (vec["claims"] if vec["valid"] else vec["reason"]):
            failures.append(f"{vec['name']}: got {got!r}")
    for link in v["links"]:
        count += 1
        try:
            got = ("token", extract_token(link["link"]))
        except Invalid as e:
            got = ("reason", e.args[0])
        if got != (("token", link["token"]) if "token" in link else ("reason", link["reason"])):
            failures.append(f"link {link['name']}: got {got!r}")
    for case in v["key_files"]:
        count += 1
        try:
            got = parse_secret("k1", case["text"]).hex()
        except ValueError:
            got = None
        if got != (case["secret"] if case["accepted"] else None):
            failures.append(f"key file {case['name']}: got {got!r}")
    for failure in failures:
        print(f"FAIL {failure}")
    print(f"python verifier: {count - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


def main(argv):
    p = argparse.ArgumentParser(description="Verify a Cohort invite link.")
    p.add_argument("--key", action="append", default=[], metavar="KID=HEX")
    p.add_argument("--key-file", action="append", default=[], metavar="PATH")
    p.add_argument("--now", help="Unix seconds or 2026-11-29T10:00:00Z (default: the clock)")
    p.add_argument("--skew", default="60", help="allowed clock skew, seconds (at most 3600)")
    p.add_argument("--vectors", metavar="FILE", help="self-test against a vectors file")
    p.add_argument("link", nargs="?", help="the link or token")
    a = p.parse_args(argv)
    if a.vectors:
        return self_test(a.vectors)
    try:
        keys = {}
        for item in a.key:
            kid, sep, hexa = item.partition("=")
            if not sep:
                raise ValueError(f"--key {item!r}: expected KID=HEX")
            keys[kid] = parse_secret(kid, hexa)
        for path in a.key_file:
            kid = os.path.splitext(os.path.basename(path))[0]
            with open(path, "rb") as f:
                keys[kid] = parse_secret(kid, f.read().decode("latin-1"))
        now = parse_time(a.now) if a.now else int(time.time())
        skew = parse_skew(a.skew)
    except (ValueError, OSError) as e:
        print(f"verify_link.py: {e}", file=sys.stderr)
        return 2
    if a.link is None or not keys:
        print("verify_link.py: give at least one --key or --key-file, and a link", file=sys.stderr)
        return 2
    try:
        claims = verify(extract_token(a.link), keys, now, skew)
    except Invalid as e:
        print(f"invalid: {e.args[0]}")
        return 1
    print(json.dumps(claims, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
