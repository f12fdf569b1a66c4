"""Signed-in users through nginx: tokens from the local Cognito pool (cognito-local) sign in
and create one profile; every forged, altered or misdirected token is a 401 with
WWW-Authenticate.  The attack tokens are minted by PyJWT (an independent implementation),
signed with the local pool's own key where a valid signature is the point."""

import base64
import concurrent.futures
import hashlib
import hmac
import json
import os
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from stack import SRCDIR, assert_envelope
from test_personal import put


def node_dir(stack):
    with open(os.path.join(SRCDIR, "scripts", "node", "package-lock.json"), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return os.path.join(stack.env["PRODENTHUB_CACHE"], "node-" + digest)


@pytest.fixture(scope="module")
def pool_key(stack):
    """cognito-local's signing key (public in its package: it signs local tokens only)."""
    path = os.path.join(node_dir(stack), "node_modules", "cognito-local", "lib", "keys",
                        "cognitoLocal.private.json")
    with open(path) as f:
        return RSAAlgorithm.from_jwk(json.dumps(json.load(f)["jwk"]))


def session(stack, headers, body=None):
    return stack.post("/v1/auth/session", body, headers=headers, source_ip=stack.new_ip())


def test_sign_in_creates_then_refreshes_the_profile(stack):
    email = "amy.%s@example.com" % uuid.uuid4().hex[:8]
    first = assert_envelope(session(stack, stack.bearer(email)), 200)["data"]
    assert first["email"] == email and first["subscriptionStatus"] == "inactive"
    assert len(first["id"]) == 36 and first["createdAt"] == first["updatedAt"]
    time.sleep(1.1)
    again = assert_envelope(session(stack, stack.bearer(email, access=True)), 200)["data"]
    assert again["id"] == first["id"] and again["createdAt"] == first["createdAt"]
    assert again["email"] == email                      # kept: access tokens carry no email
    assert again["updatedAt"] > first["updatedAt"]
    body = assert_envelope(session(stack, stack.bearer(email), {}), 200)
    assert body["data"]["id"] == first["id"]


def test_concurrent_first_sign_ins_make_one_profile(stack):
    headers = stack.bearer("eve.%s@example.com" % uuid.uuid4().hex[:8])
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        got = list(ex.map(lambda _: session(stack, headers), range(8)))
    users = [assert_envelope(r, 200)["data"] for r in got]
    assert len({(u["id"], u["createdAt"]) for u in users}) == 1, users


def test_a_body_member_is_refused_by_name(stack):
    e = assert_envelope(session(stack, stack.bearer("body@example.com"), {"userId": "x"}), 400)
    assert "userId" in e["details"]["fields"], e


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Token abc"])
def test_no_bearer_token_is_401_without_an_error_code(stack, header):
    r = session(stack, {"Authorization": header} if header is not None else {})
    e = assert_envelope(r, 401, "UNAUTHORIZED")
    assert r.header("www-authenticate") == 'Bearer realm="prodenthub"', r.headers
    assert e["details"]["reason"] == "missing_token"


def claims(stack, **over):
    c = stack.cognito()
    now = int(time.time())
    out = {"sub": str(uuid.uuid4()), "email": "mallory@example.com", "token_use": "id",
           "aud": c["COGNITO_CLIENT_ID"], "iss": c["COGNITO_ISSUER"], "iat": now,
           "exp": now + 600, "auth_time": now}
    out.update(over)
    return {k: v for k, v in out.items() if v is not None}


def foreign_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(pub):
    return pub.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(payload, secret):
    """The algorithm-confusion token: HMAC-SHA256 keyed with the pool's public key (PyJWT
    refuses to make one, rightly)."""
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "CognitoLocal"}).encode())
    body = b64url(json.dumps(payload).encode())
    mac = hmac.new(secret, ("%s.%s" % (head, body)).encode(), hashlib.sha256).digest()
    return "%s.%s.%s" % (head, body, b64url(mac))


def flip(token, part):
    """token with one character of part (0 header, 1 payload, 2 signature) changed."""
    parts = token.split(".")
    s = parts[part]
    i = len(s) // 2
    parts[part] = s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]
    return ".".join(parts)


def attack_tokens(stack, key):
    kid = {"kid": "CognitoLocal"}
    c = stack.cognito()
    pub = key.public_key() if hasattr(key, "public_key") else key
    now = int(time.time())
    good = jwt.encode(claims(stack), key, "RS256", headers=kid)
    return [
        ("alg none", jwt.encode(claims(stack), None, "none", headers=kid), "alg_not_allowed"),
        ("HS256 keyed with the public key", hs256(claims(stack), public_pem(pub)),
         "alg_not_allowed"),
        ("foreign key, known kid", jwt.encode(claims(stack), foreign_key(), "RS256",
                                              headers=kid), "bad_signature"),
        ("unknown kid", jwt.encode(claims(stack), key, "RS256", headers={"kid": "other"}),
         "unknown_kid"),
        ("wrong issuer", jwt.encode(claims(stack, iss=c["COGNITO_ISSUER"] + "x"), key,
                                    "RS256", headers=kid), "wrong_issuer"),
        ("wrong audience", jwt.encode(claims(stack, aud="someoneelse"), key, "RS256",
                                      headers=kid), "wrong_audience"),
        ("access token of another client",
         jwt.encode(claims(stack, token_use="access", aud=None, client_id="someoneelse"), key,
                    "RS256", headers=kid), "wrong_audience"),
        ("token_use refresh", jwt.encode(claims(stack, token_use="refresh"), key, "RS256",
                                         headers=kid), "wrong_token_use"),
        ("expired", jwt.encode(claims(stack, exp=now - 3600, iat=now - 7200), key, "RS256",
                               headers=kid), "expired"),
        ("not yet valid", jwt.encode(claims(stack, nbf=now + 3600), key, "RS256",
                                     headers=kid), "not_yet_valid"),
        ("tampered payload", flip(good, 1), None),
        ("tampered header", flip(good, 0), None),
        ("tampered signature", flip(good, 2), "bad_signature"),
        ("two parts", good.rsplit(".", 1)[0], "malformed"),
        ("not base64url", "*" + good, "malformed"),
        ("no sub", jwt.encode(claims(stack, sub=None), key, "RS256", headers=kid),
         "missing_claim"),
    ]


def test_the_minted_control_token_is_accepted(stack, pool_key):
    """The attacks below differ from this token in one thing each."""
    token = jwt.encode(claims(stack), pool_key, "RS256", headers={"kid": "CognitoLocal"})
    assert_envelope(session(stack, {"Authorization": "Bearer " + token}), 200)


def test_every_attack_is_401_with_its_reason(stack, pool_key):
    for name, token, reason in attack_tokens(stack, pool_key):
        r = session(stack, {"Authorization": "Bearer " + token})
        e = assert_envelope(r, 401, "UNAUTHORIZED")
        h = r.header("www-authenticate")
        assert h.startswith('Bearer realm="prodenthub", error="invalid_token"'), (name, h)
        if reason:
            assert e["details"]["reason"] == reason, (name, e)
            assert 'error_description="%s"' % reason in h, (name, h)
        assert token not in stack.logs(), name


def test_uploads_land_under_the_users_own_prefix(stack):
    headers = stack.bearer("uploader@example.com")
    data = b"%PDF-1.4 notes"
    body = {"fileName": "../../Week 1 notes.pdf", "contentType": "application/pdf",
            "size": len(data)}
    up = assert_envelope(stack.post("/v1/upload/url", body, headers=headers,
                                    source_ip=stack.new_ip()), 201)["data"]
    sub = assert_envelope(session(stack, headers), 200)["data"]["id"]
    prefix = "uploads/%s/upl_" % sub
    assert up["key"].startswith(prefix) and up["key"].endswith("/.._.._Week_1_notes.pdf"), up
    assert up["method"] == "PUT" and up["headers"]["Content-Length"] == len(data)
    assert put(up["uploadUrl"], data, "image/png")[0] == 403        # another type
    assert put(up["uploadUrl"], data + b"x", "application/pdf")[0] == 403  # another size
    assert put(up["uploadUrl"], data, "application/pdf")[0] == 200  # the signed one


@pytest.mark.parametrize("body,field", [
    ({"fileName": "a.exe", "contentType": "application/x-msdownload", "size": 10},
     "contentType"),
    ({"fileName": "a.pdf", "contentType": "application/pdf", "size": 0}, "size"),
    ({"fileName": "a.pdf", "contentType": "application/pdf", "size": 10485761}, "size"),
    ({"fileName": "", "contentType": "application/pdf", "size": 10}, "fileName"),
    ({"fileName": "a.pdf", "contentType": "application/pdf", "size": 10, "userId": "u"},
     "userId"),
])
def test_bad_upload_requests_are_400(stack, body, field):
    e = assert_envelope(stack.post("/v1/upload/url", body, headers=stack.bearer(
        "uploader@example.com"), source_ip=stack.new_ip()), 400, "VALIDATION_ERROR")
    assert field in e["details"]["fields"], e


def test_upload_needs_a_token(stack):
    r = stack.post("/v1/upload/url", {"fileName": "a.pdf", "contentType": "application/pdf",
                                      "size": 10}, source_ip=stack.new_ip())
    assert_envelope(r, 401, "UNAUTHORIZED")


def test_cognito_settings_in_the_environment_replace_the_local_pool(tmp_path):
    """scripts/dev up with COGNITO_* set: no cognito-local, the given pool goes to the pool."""
    import subprocess
    from stack import STACK
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "STRIPE_",
                                                                    "COGNITO_"))}
    env.update(PH_STATE=str(tmp_path), COGNITO_USER_POOL_ID="ap-southeast-2_Abc",
               COGNITO_CLIENT_ID="web1,web2")
    subprocess.run([STACK, "status"], env=env, check=True, capture_output=True, timeout=60)
    with open(tmp_path / "stack.env") as f:
        lines = f.read().splitlines()
    assert "COGNITO_PORT=" in lines
    assert "COGNITO_USER_POOL_ID='ap-southeast-2_Abc'" in lines
    assert "COGNITO_CLIENT_ID='web1,web2'" in lines
    env.pop("COGNITO_USER_POOL_ID")
    env.pop("COGNITO_CLIENT_ID")
    env["PH_STATE"] = str(tmp_path / "local")
    subprocess.run([STACK, "status"], env=env, check=True, capture_output=True, timeout=60)
    with open(tmp_path / "local" / "stack.env") as f:
        port = [x for x in f.read().splitlines() if x.startswith("COGNITO_PORT=")]
    assert port and port[0] != "COGNITO_PORT=", port
