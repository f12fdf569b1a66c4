#!/usr/bin/env python3
"""crosscheck: lib/jwt.c against PyJWT, on valid Cognito tokens and every known attack.

    crosscheck.py PATH/TO/jwt-cli

PyJWT and python3-cryptography mint the tokens and the JWKS (PyJWT's RSAAlgorithm.to_jwk);
the C verifier judges each through jwt-cli at a fixed time.  Every case names the verdict it
must get ("ok" or the reason slug); a valid token's claims must also be what PyJWT itself
decodes from it with the same key.  Exit 0 when all pass, 1 when any fails, 77 (skip) when
PyJWT or cryptography is missing.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile

try:
    import jwt
    from jwt.algorithms import RSAAlgorithm
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
except ImportError:
    print("SKIP: python3-jwt or python3-cryptography not installed")
    sys.exit(77)

MIN_CASES = 30
NOW = 1767225600                     # 2026-01-01T00:00:00Z
POOL = "us-east-1_Example1"
ISS = "https://cognito-idp.us-east-1.amazonaws.com/" + POOL
CLIENT = "5example6client7id8"
CLIENT2 = "second0client"
CLIENTS = CLIENT + ", " + CLIENT2
KID = "kid-main-2026"
KID2 = "kid-second-2026"
KID_SMALL = "kid-1024"
SUB = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
EMAIL = "ada@example.com"

APP_EUNAUTHORIZED = -4
APP_EUNAVAILABLE = -16


def b64u(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def jwk(key, kid, **extra):
    d = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    d.update({"kid": kid, "alg": "RS256", "use": "sig"})
    d.update(extra)
    return d


def new_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


KEY = new_key()
KEY2 = new_key(3072)
FOREIGN = new_key()
SMALL = new_key(1024)
JWKS = {"keys": [
    jwk(KEY, KID),
    jwk(KEY2, KID2),
    jwk(SMALL, KID_SMALL),                              # skipped: modulus under 2048 bits
    {"kid": "kid-ec", "kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"},  # skipped
    jwk(FOREIGN, "kid-enc", use="enc"),                 # skipped: not a signing key
]}
PUB_PEM = KEY.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)


def id_claims(**over):
    c = {"sub": SUB, "email": EMAIL, "email_verified": True, "iss": ISS, "aud": CLIENT,
         "token_use": "id", "auth_time": NOW - 100, "iat": NOW - 100, "exp": NOW + 3500,
         "cognito:username": "ada", "event_id": "e-1", "jti": "j-1"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def access_claims(**over):
    c = {"sub": SUB, "iss": ISS, "client_id": CLIENT, "token_use": "access",
         "scope": "aws.cognito.signin.user.admin", "auth_time": NOW - 100, "iat": NOW - 100,
         "exp": NOW + 3500, "username": "ada", "jti": "j-2", "origin_jti": "o-1"}
    c.update(over)
    return {k: v for k, v in c.items() if v is not None}


def sign(claims, key=KEY, kid=KID, alg="RS256", headers=None):
    h = {"kid": kid}
    h.update(headers or {})
    return jwt.encode(claims, key, algorithm=alg, headers=h)


def raw_token(header, claims, sig=b""):
    return ".".join([b64u(json.dumps(header).encode()), b64u(json.dumps(claims).encode()),
                     b64u(sig)])


def hs256_with_pem(claims):
    """The classic confusion: HMAC-SHA256 keyed with the public key's PEM."""
    head = b64u(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    body = b64u(json.dumps(claims).encode())
    mac = hmac.new(PUB_PEM, (head + "." + body).encode(), hashlib.sha256).digest()
    return head + "." + body + "." + b64u(mac)


def tamper_payload(token):
    h, _p, s = token.split(".")
    evil = id_claims(sub="someone-else")
    return h + "." + b64u(json.dumps(evil).encode()) + "." + s


def tamper_header(token):
    _h, p, s = token.split(".")
    head = {"alg": "RS256", "typ": "JWT", "kid": KID, "x5u": "https://evil.example/"}
    return b64u(json.dumps(head).encode()) + "." + p + "." + s


def resign_sig_swap(token):
    """Signature of one valid token on another's parts."""
    other = sign(id_claims(sub="other"))
    h, p, _s = token.split(".")
    return h + "." + p + "." + other.split(".")[2]


GOOD = sign(id_claims())
GOOD_ACCESS = sign(access_claims())

CASES = [
    # (name, token, expected verdict, overrides for the case)
    ("valid id token", GOOD, "ok", {}),
    ("valid access token", GOOD_ACCESS, "ok", {}),
    ("valid id token, second client", sign(id_claims(aud=CLIENT2)), "ok", {}),
    ("valid access token, second client", sign(access_claims(client_id=CLIENT2)), "ok", {}),
    ("valid id token, aud array", sign(id_claims(aud=["other", CLIENT])), "ok", {}),
    ("valid, second key (3072 bits)", sign(id_claims(), key=KEY2, kid=KID2), "ok", {}),
    ("valid, typ JWT", sign(id_claims(), headers={"typ": "JWT"}), "ok", {}),
    ("valid, no email", sign(id_claims(email=None)), "ok", {}),
    ("exp inside the skew", sign(id_claims(exp=NOW - 30)), "ok", {}),
    ("nbf inside the skew", sign(id_claims(nbf=NOW + 30)), "ok", {}),
    ("alg none", raw_token({"alg": "none", "kid": KID}, id_claims()), "alg_not_allowed", {}),
    ("alg none, signature kept", raw_token({"alg": "none", "kid": KID}, id_claims())
     + GOOD.split(".")[2], "alg_not_allowed", {}),
    ("alg None (case)", raw_token({"alg": "None", "kid": KID}, id_claims(), b"x"),
     "alg_not_allowed", {}),
    ("HS256 keyed with the public PEM", hs256_with_pem(id_claims()), "alg_not_allowed", {}),
    ("RS512", sign(id_claims(), alg="RS512"), "alg_not_allowed", {}),
    ("PS256", sign(id_claims(), alg="PS256"), "alg_not_allowed", {}),
    ("no alg", raw_token({"kid": KID}, id_claims(), b"sig"), "alg_not_allowed", {}),
    ("foreign key, known kid", sign(id_claims(), key=FOREIGN), "bad_signature", {}),
    ("key of the other kid", sign(id_claims(), key=KEY2, kid=KID), "bad_signature", {}),
    ("tampered payload", tamper_payload(GOOD), "bad_signature", {}),
    ("tampered header", tamper_header(GOOD), "bad_signature", {}),
    ("signature of another token", resign_sig_swap(GOOD), "bad_signature", {}),
    ("unknown kid", sign(id_claims(), kid="kid-nobody"), "unknown_kid", {}),
    ("kid of a 1024-bit key", sign(id_claims(), key=SMALL, kid=KID_SMALL), "unknown_kid", {}),
    ("kid of an encryption key", sign(id_claims(), key=FOREIGN, kid="kid-enc"),
     "unknown_kid", {}),
    ("no kid", jwt.encode(id_claims(), KEY, algorithm="RS256"), "malformed", {}),
    ("typ at+jwt", sign(id_claims(), headers={"typ": "at+jwt"}), "malformed", {}),
    ("crit header", sign(id_claims(), headers={"crit": ["exp"]}), "malformed", {}),
    ("wrong iss", sign(id_claims(iss=ISS + "x")), "wrong_issuer", {}),
    ("other pool", sign(id_claims(iss=ISS.replace(POOL, "us-east-1_Other"))),
     "wrong_issuer", {}),
    ("wrong aud", sign(id_claims(aud="someone-else")), "wrong_audience", {}),
    ("aud prefix of a client", sign(id_claims(aud=CLIENT[:-1])), "wrong_audience", {}),
    ("wrong client_id", sign(access_claims(client_id="someone-else")), "wrong_audience", {}),
    ("access token checked by aud only", sign(access_claims(client_id=None, aud=CLIENT)),
     "missing_claim", {}),
    ("wrong token_use", sign(id_claims(token_use="refresh")), "wrong_token_use", {}),
    ("no token_use", sign(id_claims(token_use=None)), "missing_claim", {}),
    ("expired", sign(id_claims(exp=NOW - 61)), "expired", {}),
    ("expired long ago", sign(id_claims(exp=NOW - 86400)), "expired", {}),
    ("not yet valid (nbf)", sign(id_claims(nbf=NOW + 120)), "not_yet_valid", {}),
    ("issued in the future (iat)", sign(id_claims(iat=NOW + 120)), "not_yet_valid", {}),
    ("no exp", sign(id_claims(exp=None)), "missing_claim", {}),
    ("no sub", sign(id_claims(sub=None)), "missing_claim", {}),
    ("no iss", sign(id_claims(iss=None)), "missing_claim", {}),
    ("two parts", ".".join(GOOD.split(".")[:2]), "malformed", {}),
    ("four parts", GOOD + ".x", "malformed", {}),
    ("padding", GOOD + "==", "malformed", {}),
    ("standard base64 alphabet", GOOD.replace("-", "+").replace("_", "/")
     if ("-" in GOOD or "_" in GOOD) else GOOD + "+", "malformed", {}),
    ("empty", "", "malformed", {}),
    ("over 8 KB", sign(id_claims(pad="x" * 9000)), "malformed", {}),
    ("valid token, other issuer configured", GOOD, "wrong_issuer",
     {"issuer": "https://cognito-idp.eu-west-1.amazonaws.com/" + POOL}),
    ("valid token, client not configured", GOOD, "wrong_audience", {"client_ids": "other"}),
    ("valid token, clock after exp", GOOD, "expired", {"now": NOW + 3500 + 60}),
]


def pyjwt_claims(token):
    """What PyJWT itself accepts from a valid token: its own signature and issuer checks
    (PyJWT reads the real clock, so the time claims are checked here against NOW)."""
    head = jwt.get_unverified_header(token)
    key = {KID: KEY, KID2: KEY2}[head["kid"]].public_key()
    claims = jwt.decode(token, key, algorithms=["RS256"], issuer=ISS,
                        options={"verify_aud": False, "verify_exp": False,
                                 "verify_nbf": False, "verify_iat": False})
    assert NOW < claims["exp"] + 60 and claims.get("nbf", 0) <= NOW + 60
    return claims


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        return 2
    cli = sys.argv[1]
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(JWKS, f)
        jwks_path = f.name
    try:
        lines = []
        for i, (name, token, _want, over) in enumerate(CASES):
            case = {"id": i, "token": token, "now": NOW, "issuer": ISS, "client_ids": CLIENTS}
            case.update(over)
            lines.append(json.dumps(case))
        proc = subprocess.run([cli, jwks_path], input="\n".join(lines) + "\n",
                              capture_output=True, text=True, check=False)
    finally:
        os.unlink(jwks_path)
    if proc.returncode != 0:
        print("FAIL: jwt-cli exited %d: %s" % (proc.returncode, proc.stderr[-2000:]))
        return 1
    replies = [json.loads(x) for x in proc.stdout.splitlines()]
    failed = 0
    if len(replies) != len(CASES):
        print("FAIL: %d replies for %d cases" % (len(replies), len(CASES)))
        return 1
    for (name, token, want, _over), got in zip(CASES, replies):
        why = []
        if got["reason"] != want:
            why.append("verdict %s, want %s" % (got["reason"], want))
        want_rc = 0 if want == "ok" else (APP_EUNAVAILABLE if want == "jwks_unavailable"
                                          else APP_EUNAUTHORIZED)
        if got["rc"] != want_rc:
            why.append("rc %d, want %d" % (got["rc"], want_rc))
        if want != "ok" and got.get("err_reason") != want:
            why.append("app_error reason %s, want %s" % (got.get("err_reason"), want))
        if want == "ok" and not why:
            ref = pyjwt_claims(token)
            expect = {"sub": ref["sub"], "email": ref.get("email", ""),
                      "token_use": ref["token_use"], "exp": ref["exp"],
                      "client_id": ref.get("client_id") or (
                          ref["aud"] if isinstance(ref["aud"], str) else CLIENT)}
            for k, v in expect.items():
                if got.get(k) != v:
                    why.append("%s %r, PyJWT says %r" % (k, got.get(k), v))
        if why:
            failed += 1
            print("FAIL %s: %s" % (name, "; ".join(why)))
        else:
            print("ok   %s: %s" % (name, want))
    if len(CASES) < MIN_CASES:
        print("FAIL: only %d cases (at least %d expected)" % (len(CASES), MIN_CASES))
        return 1
    print("%d/%d cases agree" % (len(CASES) - failed, len(CASES)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
