"""Tests of the test stand-ins themselves (sigfront.py, imds.py), with botocore as the
client and a tiny canned upstream: no C build, no DynamoDB Local needed."""

import datetime
import hashlib
import http.client
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SIGV4_TIMESTAMP
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
import botocore.session

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
REGION = "ap-southeast-2"
CANNED = b'{"TableNames":["t1"]}'
_session = botocore.session.get_session()


# --- servers ------------------------------------------------------------------------------

class Upstream(http.server.ThreadingHTTPServer):
    """Answers anything with the canned DynamoDB ListTables body; remembers the requests."""
    daemon_threads = True

    def __init__(self):
        self.seen = []

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                self.server.seen.append((self.command, self.path, self.headers, body))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("x-amzn-RequestId", "UPSTREAM")
                self.send_header("Content-Length", str(len(CANNED)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(CANNED)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _any

        super().__init__(("127.0.0.1", 0), H)
        self.port = self.server_address[1]


class Proc:
    def __init__(self, script, args, logdir):
        self.log = os.path.join(logdir, "%s-%d.log" % (script, time.monotonic_ns()))
        with open(self.log, "w") as err:
            self.p = subprocess.Popen([sys.executable, os.path.join(HERE, script)] + args,
                                      stdout=subprocess.PIPE, stderr=err, text=True)
        line = self.p.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise RuntimeError("%s did not start:\n%s" % (script, self.logs()))
        self.port = int(line)

    def logs(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
        try:
            rc = self.p.wait(5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = self.p.wait()
        self.p.stdout.close()
        return rc


@pytest.fixture(scope="module")
def upstream():
    srv = Upstream()
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    d = tmp_path_factory.mktemp("standins")
    with open(d / "keys.json", "w") as f:
        json.dump({"local": "local"}, f)
    return d


@pytest.fixture(scope="module")
def front(upstream, workdir):
    portfile = str(workdir / "front.port")
    p = Proc("sigfront.py", ["--listen", "0", "--upstream", "http://127.0.0.1:%d" % upstream.port,
                             "--keys-file", str(workdir / "keys.json"),
                             "--port-file", portfile], str(workdir))
    try:
        with open(portfile) as f:
            assert int(f.read()) == p.port
        yield p
        assert p.stop() == 0, p.logs()
        assert not os.path.exists(portfile)
    finally:
        p.stop()


@pytest.fixture(scope="module")
def imds(workdir):
    p = Proc("imds.py", ["--listen", "0", "--keys-file", str(workdir / "keys.json"),
                         "--lifetime", "3600"], str(workdir))
    try:
        yield p
        assert p.stop() == 0, p.logs()
    finally:
        p.stop()


@pytest.fixture
def fresh(front, upstream):
    call(front.port, "POST", "/__front/reset")
    del upstream.seen[:]
    return front


# --- helpers ------------------------------------------------------------------------------

def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def stats(front):
    return json.loads(call(front.port, "GET", "/__front/stats")[2])


def ddb(port, akid="local", secret="local", token=None):
    return _session.create_client(
        "dynamodb", region_name=REGION, endpoint_url="http://127.0.0.1:%d" % port,
        aws_access_key_id=akid, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1}, proxies={}))


def signed(port, method, path, body=b"", headers=None, service="dynamodb",
           creds=("local", "local"), when=None, presign=None, signer=None):
    """A request signed by botocore as a client would: (method, path, body, headers), the
    arguments of call() after the port."""
    url = "http://127.0.0.1:%d%s" % (port, path)
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    c = Credentials(*creds)
    if presign:
        s = S3SigV4QueryAuth(c, service, REGION, presign)
    else:
        s = (signer or (S3SigV4Auth if service == "s3" else SigV4Auth))(c, service, REGION)
    when = when or datetime.datetime.utcnow()
    req.context["timestamp"] = when.strftime(SIGV4_TIMESTAMP)
    # add_auth with a pinned clock: the same steps in the same order.
    s._modify_request_before_signing(req)
    sig = s.signature(s.string_to_sign(req, s.canonical_request(req)), req)
    s._inject_signature_to_request(req, sig)
    target = req.url.split("127.0.0.1:%d" % port, 1)[1]
    return method, target, body, dict(req.headers.items())


def ddb_body():
    return b"{}", {"Content-Type": "application/x-amz-json-1.0",
                   "X-Amz-Target": "DynamoDB_20120810.ListTables"}


# --- sigfront -----------------------------------------------------------------------------

def test_list_tables_through_front(fresh, upstream):
    assert ddb(fresh.port).list_tables()["TableNames"] == ["t1"]
    method, path, headers, body = upstream.seen[-1]
    assert (method, path, body) == ("POST", "/", b"{}")
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.ListTables"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=local/")
    assert headers["Host"] == "127.0.0.1:%d" % upstream.port
    s = stats(fresh)
    assert (s["ok"], s["rejected"], s["injected"], s["keys_seen"]) == (1, 0, 0, ["local"])


def test_wrong_secret_rejected(fresh, upstream):
    with pytest.raises(ClientError) as e:
        ddb(fresh.port, secret="wrong").list_tables()
    err = e.value.response
    assert err["Error"]["Code"] == "InvalidSignatureException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert upstream.seen == []
    s = stats(fresh)
    assert (s["ok"], s["rejected"]) == (0, 1)
    assert "signature we calculated does not match" in s["last_rejection"]


def test_unknown_key_and_missing_auth(fresh):
    with pytest.raises(ClientError) as e:
        ddb(fresh.port, akid="nobody").list_tables()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    body, hdrs = ddb_body()
    st, h, out = call(fresh.port, "POST", "/", body, hdrs)
    assert st == 400 and h["content-type"] == "application/x-amz-json-1.0"
    assert json.loads(out)["__type"].endswith("#MissingAuthenticationTokenException")
    st, h, out = call(fresh.port, "POST", "/", body,
                      dict(hdrs, Authorization="AWS4-HMAC-SHA256 garbage"))
    assert st == 400
    assert stats(fresh)["rejected"] == 3


def test_tampered_body_rejected(fresh, upstream):
    body, hdrs = ddb_body()
    body = b'{"Limit": 10}'
    method, path, body, headers = signed(fresh.port, "POST", "/", body, hdrs)
    st, _, out = call(fresh.port, method, path, body, headers)
    assert st == 200 and out == CANNED
    tampered = body[:-2] + b"1}"
    st, h, out = call(fresh.port, method, path, tampered, headers)
    assert st == 400, out
    assert h["content-type"] == "application/x-amz-json-1.0"
    err = json.loads(out)
    assert err["__type"] == "com.amazon.coral.service#InvalidSignatureException"
    assert err["message"].startswith("The request signature we calculated does not match")
    assert [b for _, _, _, b in upstream.seen] == [body]
    # A signed header changed after signing, too.
    st, _, _ = call(fresh.port, method, path, body,
                    dict(headers, **{"X-Amz-Target": "DynamoDB_20120810.DeleteTable"}))
    assert st == 400


def test_clock_skew_rejected(fresh):
    body, hdrs = ddb_body()
    old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
    st, _, out = call(fresh.port, *signed(fresh.port, "POST", "/", body, hdrs, when=old))
    assert st == 400 and "Signature expired" in json.loads(out)["message"]
    near = datetime.datetime.utcnow() - datetime.timedelta(minutes=10)
    st, _, _ = call(fresh.port, *signed(fresh.port, "POST", "/", body, hdrs, when=near))
    assert st == 200


def test_fault_injection(fresh, upstream):
    st, _, _ = call(fresh.port, "POST", "/__front/fail",
                    {"count": 2, "status": 400,
                     "type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                     "message": "Rate exceeded"})
    assert st == 200
    client = ddb(fresh.port)
    for _ in range(2):
        with pytest.raises(ClientError) as e:
            client.list_tables()
        assert e.value.response["Error"]["Code"] == "ThrottlingException"
        assert e.value.response["Error"]["Message"] == "Rate exceeded"
    assert client.list_tables()["TableNames"] == ["t1"]
    # Bad signatures don't consume faults; 500s work as well.
    call(fresh.port, "POST", "/__front/fail", {"count": 1, "status": 500})
    with pytest.raises(ClientError):
        ddb(fresh.port, secret="wrong").list_tables()
    with pytest.raises(ClientError) as e:
        client.list_tables()
    assert e.value.response["Error"]["Code"] == "InternalServerError"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    s = stats(fresh)
    assert (s["ok"], s["injected"], s["rejected"]) == (1, 3, 1)
    assert len(upstream.seen) == 1


def test_fault_drop_and_target_filter(fresh):
    call(fresh.port, "POST", "/__front/fail", {"count": 1, "drop": True})
    call(fresh.port, "POST", "/__front/fail",
         {"count": 1, "status": 400, "target": "PutItem",
          "type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"})
    body, hdrs = ddb_body()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        call(fresh.port, *signed(fresh.port, "POST", "/", body, hdrs))
    st, _, _ = call(fresh.port, *signed(fresh.port, "POST", "/", body, hdrs))
    assert st == 200                        # the PutItem fault waits for a PutItem
    put = dict(hdrs, **{"X-Amz-Target": "DynamoDB_20120810.PutItem"})
    st, _, out = call(fresh.port, *signed(fresh.port, "POST", "/", body, put))
    assert st == 400 and "ProvisionedThroughputExceeded" in json.loads(out)["__type"]
    s = stats(fresh)
    assert (s["ok"], s["injected"], s["faults_pending"]) == (1, 2, [])
    call(fresh.port, "POST", "/__front/fail", {"count": 5})
    call(fresh.port, "POST", "/__front/reset")
    assert stats(fresh)["faults_pending"] == [] and stats(fresh)["injected"] == 0


def test_keep_alive(fresh):
    body, hdrs = ddb_body()
    conn = http.client.HTTPConnection("127.0.0.1", fresh.port, timeout=5)
    try:
        for wrong in (False, True, False, False):
            method, path, b, headers = signed(fresh.port, "POST", "/", body, hdrs,
                                              creds=("local", "x" if wrong else "local"))
            conn.request(method, path, b, headers)
            r = conn.getresponse()
            assert r.status == (400 if wrong else 200)
            r.read()
    finally:
        conn.close()
    assert (stats(fresh)["ok"], stats(fresh)["rejected"]) == (3, 1)


def test_s3_header_and_presigned(fresh, upstream):
    # Header-signed S3 PUT (x-amz-content-sha256 signed), a key with characters to encode.
    data = b"hello object"
    path = "/bucket/dir/a%20b%2Bc.txt"
    st, _, _ = call(fresh.port, *signed(fresh.port, "PUT", path, data,
                                        {"Content-Type": "text/plain"}, service="s3"))
    assert st == 200
    assert upstream.seen[-1][1] == path and upstream.seen[-1][3] == data
    # The same request with another body: the payload hash no longer matches.
    m, p, _, h = signed(fresh.port, "PUT", path, data, service="s3")
    st, hh, out = call(fresh.port, m, p, b"HELLO object", h)
    assert st == 400 and b"<Code>XAmzContentSHA256Mismatch</Code>" in out
    # Wrong secret: S3-style 403 XML.
    st, hh, out = call(fresh.port, *signed(fresh.port, "GET", path, service="s3",
                                           creds=("local", "bad")))
    assert st == 403 and b"<Code>SignatureDoesNotMatch</Code>" in out
    assert hh["content-type"] == "application/xml"
    # Presigned GET, valid then expired.
    m, p, _, h = signed(fresh.port, "GET", path + "?versionId=3", service="s3", presign=60)
    assert "X-Amz-Signature=" in p and "Authorization" not in h
    st, _, out = call(fresh.port, m, p, None, h)
    assert st == 200, out
    old = datetime.datetime.utcnow() - datetime.timedelta(seconds=120)
    m, p, _, h = signed(fresh.port, "GET", path, service="s3", presign=60, when=old)
    st, _, out = call(fresh.port, m, p, None, h)
    assert st == 403 and b"Request has expired" in out
    m, p, _, h = signed(fresh.port, "GET", path, service="s3", presign=60)
    st, _, out = call(fresh.port, m, p.replace("versionId", "x") + "&extra=1", None, h)
    assert st == 403
    s = stats(fresh)
    assert (s["ok"], s["rejected"]) == (2, 4)


def test_keys_file_reload(fresh, workdir):
    with pytest.raises(ClientError):
        ddb(fresh.port, akid="AKIDADDED", secret="s3cret").list_tables()
    path = workdir / "keys.json"
    keys = json.loads(path.read_text())
    keys["AKIDADDED"] = "s3cret"
    tmp = workdir / "keys.json.tmp"
    tmp.write_text(json.dumps(keys))
    os.replace(tmp, path)
    assert ddb(fresh.port, akid="AKIDADDED", secret="s3cret").list_tables()["TableNames"]
    assert "AKIDADDED" in stats(fresh)["keys_seen"]


class _VectorKeys:
    def lookup(self, akid):
        assert akid == "AKIDEXAMPLE"
        return "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None


def _verify_vector(method, target, header_lines, body, signed_headers, signature):
    import sigfront
    auth = ("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=%s, Signature=%s" % (signed_headers, signature))
    raw = ("\r\n".join(header_lines + ["Authorization: " + auth]) + "\r\n\r\n").encode()
    headers = http.client.parse_headers(io.BytesIO(raw))
    now = datetime.datetime(2015, 8, 30, 12, 40, tzinfo=datetime.timezone.utc)
    return sigfront.verify(method, target, headers, body, _VectorKeys(), 900, False, now=now)


def test_verify_aws_test_suite_vectors():
    """sigfront's verifier against AWS's published SigV4 test-suite signatures."""
    import sigfront
    base = ["Host: example.amazonaws.com", "X-Amz-Date: 20150830T123600Z"]
    v = _verify_vector("GET", "/", base, b"", "host;x-amz-date",
                       "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    assert (v.akid, v.region, v.service) == ("AKIDEXAMPLE", "us-east-1", "service")
    _verify_vector("GET", "/?Param2=value2&Param1=value1", base, b"", "host;x-amz-date",
                   "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    _verify_vector("GET", "/\u1234", base, b"", "host;x-amz-date",      # get-utf8, raw path
                   "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85")
    body = b"Param1=value1"
    digest = hashlib.sha256(body).hexdigest()
    _verify_vector("POST", "/", base + ["Content-Type: application/x-www-form-urlencoded",
                                        "Content-Length: 13", "X-Amz-Content-SHA256: " + digest],
                   body, "content-length;content-type;host;x-amz-content-sha256;x-amz-date",
                   "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b")
    with pytest.raises(sigfront.Reject) as e:
        _verify_vector("GET", "/?Param2=value2&Param1=value2", base, b"", "host;x-amz-date",
                       "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    assert e.value.kind == "signature"
    with pytest.raises(sigfront.Reject) as e:          # 2015 is long past on a real clock
        sigfront.verify("GET", "/", http.client.parse_headers(io.BytesIO(
            ("\r\n".join(base) + "\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"
             "20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
             "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
             "\r\n\r\n").encode())), b"", _VectorKeys(), 900, False)
    assert e.value.kind == "skew"


# --- imds ---------------------------------------------------------------------------------

def imds_token(imds, ttl="60"):
    st, h, out = call(imds.port, "PUT", "/latest/api/token", None,
                      {"X-aws-ec2-metadata-token-ttl-seconds": ttl})
    assert st == 200, st
    assert h["x-aws-ec2-metadata-token-ttl-seconds"] == ttl
    assert h["content-type"] == "text/plain"
    return out.decode()


def imds_creds(imds, token):
    st, _, out = call(imds.port, "GET",
                      "/latest/meta-data/iam/security-credentials/prodenthub-api", None,
                      {"X-aws-ec2-metadata-token": token})
    assert st == 200
    return json.loads(out)


def test_imds_token_flow(imds):
    ttl = "X-aws-ec2-metadata-token-ttl-seconds"
    token = imds_token(imds)
    assert len(token) > 20
    for bad in (None, "0", "21601", "abc"):
        st, _, _ = call(imds.port, "PUT", "/latest/api/token", None,
                        {ttl: bad} if bad else {})
        assert st == 400, bad
    st, _, _ = call(imds.port, "PUT", "/latest/api/token", None,
                    {ttl: "60", "X-Forwarded-For": "10.0.0.1"})
    assert st == 403
    roles = "/latest/meta-data/iam/security-credentials/"
    assert call(imds.port, "GET", roles)[0] == 401
    assert call(imds.port, "GET", roles, None, {"X-aws-ec2-metadata-token": "nope"})[0] == 401
    st, _, out = call(imds.port, "GET", roles, None, {"X-aws-ec2-metadata-token": token})
    assert (st, out) == (200, b"prodenthub-api")
    assert call(imds.port, "GET", roles + "other", None,
                {"X-aws-ec2-metadata-token": token})[0] == 404
    assert call(imds.port, "GET", "/latest/meta-data/ami-id", None,
                {"X-aws-ec2-metadata-token": token})[0] == 404
    assert call(imds.port, "GET", "/other")[0] == 404
    # Expired tokens are refused.
    short = imds_token(imds, "1")
    time.sleep(1.1)
    assert call(imds.port, "GET", roles, None, {"X-aws-ec2-metadata-token": short})[0] == 401


def test_imds_credentials_rotate(imds):
    token = imds_token(imds)
    a = imds_creds(imds, token)
    b = imds_creds(imds, token)
    for c in (a, b):
        assert set(c) >= {"Code", "LastUpdated", "Type", "AccessKeyId", "SecretAccessKey",
                          "Token", "Expiration"}
        assert (c["Code"], c["Type"]) == ("Success", "AWS-HMAC")
        assert c["AccessKeyId"].startswith("ASIA") and len(c["AccessKeyId"]) == 20
        assert c["AccessKeyId"][4:].isalnum() and c["AccessKeyId"].isupper()
        exp = datetime.datetime.strptime(c["Expiration"], "%Y-%m-%dT%H:%M:%SZ")
        left = (exp - datetime.datetime.utcnow()).total_seconds()
        assert 3500 < left <= 3600
    assert a["AccessKeyId"] != b["AccessKeyId"]
    assert a["SecretAccessKey"] != b["SecretAccessKey"] and a["Token"] != b["Token"]
    s = json.loads(call(imds.port, "GET", "/__imds/stats")[2])
    assert s["last_access_key"] == b["AccessKeyId"]
    assert s["credentials_issued"] >= 2 and s["tokens_issued"] >= 1


def test_imds_key_accepted_by_front(imds, fresh, workdir):
    c = imds_creds(imds, imds_token(imds))
    keys = json.loads((workdir / "keys.json").read_text())
    assert keys[c["AccessKeyId"]] == c["SecretAccessKey"] and keys["local"] == "local"
    client = ddb(fresh.port, c["AccessKeyId"], c["SecretAccessKey"], c["Token"])
    assert client.list_tables()["TableNames"] == ["t1"]
    assert c["AccessKeyId"] in stats(fresh)["keys_seen"]
    # The key needs its own token: none, or another key's, is refused.
    with pytest.raises(ClientError) as e:
        ddb(fresh.port, c["AccessKeyId"], c["SecretAccessKey"]).list_tables()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    other = imds_creds(imds, imds_token(imds))
    with pytest.raises(ClientError) as e:
        ddb(fresh.port, c["AccessKeyId"], c["SecretAccessKey"], other["Token"]).list_tables()
    assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
    # An older key stays valid after rotation (until its Expiration, as in AWS).
    assert client.list_tables()["TableNames"] == ["t1"]


def test_imds_fault_and_expire_controls(imds):
    token = imds_token(imds)
    call(imds.port, "POST", "/__imds/fail", {"count": 1, "status": 500,
                                              "path": "security-credentials"})
    st, _, _ = call(imds.port, "GET", "/latest/meta-data/iam/security-credentials/prodenthub-api",
                    None, {"X-aws-ec2-metadata-token": token})
    assert st == 500
    imds_creds(imds, token)
    assert call(imds.port, "POST", "/__imds/expire-tokens")[0] == 200
    st, _, _ = call(imds.port, "GET", "/latest/meta-data/iam/security-credentials/", None,
                    {"X-aws-ec2-metadata-token": token})
    assert st == 401


def test_resign_mode(upstream, imds, workdir):
    """--resign: the stand-in behind sees one fixed key, whatever key the client used."""
    p = Proc("sigfront.py", ["--listen", "0", "--upstream", "http://127.0.0.1:%d" % upstream.port,
                             "--keys-file", str(workdir / "keys.json"),
                             "--resign", "local:local"], str(workdir))
    try:
        c = imds_creds(imds, imds_token(imds))
        del upstream.seen[:]
        ddb(p.port, c["AccessKeyId"], c["SecretAccessKey"], c["Token"]).list_tables()
        _, _, headers, body = upstream.seen[-1]
        assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=local/")
        assert headers.get("X-Amz-Security-Token") is None and body == b"{}"
        # S3 (as for s3rver: --resign S3RVER:S3RVER), a presigned GET becomes header-signed.
        m, path, _, h = signed(p.port, "GET", "/bucket/k%20x?versionId=1", service="s3",
                               presign=60)
        assert call(p.port, m, path, None, h)[0] == 200
        _, fwd_path, headers, _ = upstream.seen[-1]
        assert fwd_path == "/bucket/k%20x?versionId=1"
        assert "Credential=local/" in headers["Authorization"]
        assert "/s3/aws4_request" in headers["Authorization"]
        data = b"object body"
        assert call(p.port, *signed(p.port, "PUT", "/bucket/k", data, service="s3"))[0] == 200
        _, _, headers, body = upstream.seen[-1]
        assert body == data
        assert headers["X-Amz-Content-SHA256"] == hashlib.sha256(data).hexdigest()
        assert p.stop() == 0
    finally:
        p.stop()
