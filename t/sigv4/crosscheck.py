#!/usr/bin/env python3
"""crosscheck: lib/sigv4.c against botocore, on awkward requests.

    crosscheck.py PATH/TO/sigv4-cli

Each case is signed by botocore (SigV4Auth / S3SigV4Auth for the Authorization header,
SigV4QueryAuth / S3SigV4QueryAuth and an S3 client's generate_presigned_url for presigned
URLs) at a fixed time, and by the C signer through sigv4-cli.  The C side gets exactly what
botocore puts on the wire: the prepared request's host, path and query.  Every field is
compared; a mismatch prints both sides and botocore's canonical request.  Exit 0 when all
pass, 1 when any fails, 77 (skip) when botocore is missing.
"""
import datetime
import json
import subprocess
import sys
import types
from urllib.parse import urlsplit

try:
    import botocore.auth as auth
    import botocore.session
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except ImportError:
    print("SKIP: python3-botocore not installed")
    sys.exit(77)

MIN_CASES = 40
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

AK = "AKIDEXAMPLE"
SK = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEH8aCXVzLWVhc3QtMSJHMEUCIQD+/token/with+plus/and=equals"
         "//////////wEaDDEyMzQ1Njc4OTAxMiIMexample==")

T2015 = datetime.datetime(2015, 8, 30, 12, 36, 0)
T2024 = datetime.datetime(2024, 2, 29, 23, 59, 59)
T2031 = datetime.datetime(2031, 1, 1, 0, 0, 7)


# --- a fixed clock for botocore.auth ---------------------------------------------------------
class _Clock:
    now = T2015


class _FixedDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return _Clock.now

    @classmethod
    def now(cls, tz=None):
        return _Clock.now if tz is None else _Clock.now.replace(tzinfo=tz)


auth.datetime = types.SimpleNamespace(datetime=_FixedDatetime,
                                      timezone=datetime.timezone,
                                      timedelta=datetime.timedelta)
if hasattr(auth, "get_current_datetime"):              # botocore >= 1.33 reads it here
    auth.get_current_datetime = lambda remove_tzinfo=True: _Clock.now


def epoch(t):
    return int(t.replace(tzinfo=datetime.timezone.utc).timestamp())


# --- cases -------------------------------------------------------------------------------------
def case(name, method="GET", url="https://example.amazonaws.com/", headers=(), body=b"",
         service="service", region="us-east-1", when=T2015, token=None, presign=None,
         unsigned=False, payload_hash=None):
    """One request.  url carries the wire path and query exactly as sent."""
    return dict(name=name, method=method, url=url, headers=list(headers), body=body,
                service=service, region=region, when=when, token=token, presign=presign,
                unsigned=unsigned, payload_hash=payload_hash)


DDB = "https://dynamodb.us-east-1.amazonaws.com/"
DDB_JSON = [("Content-Type", "application/x-amz-json-1.0"),
            ("X-Amz-Target", "DynamoDB_20120810.GetItem")]
DDB_BODY = b'{"TableName":"teams","Key":{"pk":{"S":"team#\xc3\xa9t\xc3\xa9 \\"x\\""}}}'
API = "https://abc123.execute-api.eu-west-1.amazonaws.com"
S3 = "https://my-bucket.s3.amazonaws.com"
S3PATH = "https://s3.eu-central-1.amazonaws.com/my-bucket"
RESERVED = "!'()*+,;=:@$&"
BEDROCK = "https://bedrock-runtime.us-east-1.amazonaws.com"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
PROFILE_ARN = ("arn:aws:bedrock:us-east-1:123456789012:inference-profile/"
               "us.anthropic.claude-3-haiku-20240307-v1:0")

CASES = [
    # DynamoDB: what every request of the project looks like
    case("ddb-getitem", "POST", DDB, DDB_JSON, DDB_BODY, "dynamodb"),
    case("ddb-session-token", "POST", DDB, DDB_JSON, DDB_BODY, "dynamodb", token=TOKEN),
    case("ddb-empty-body", "POST", DDB, DDB_JSON, b"", "dynamodb", when=T2024),
    case("ddb-local-port", "POST", "http://localhost:8000/", DDB_JSON, b"{}", "dynamodb",
         "eu-west-1"),
    case("ddb-ipv4-port", "POST", "http://127.0.0.1:4566/", DDB_JSON, b"{}", "dynamodb",
         "ap-southeast-2", when=T2031),
    case("ddb-default-port-dropped", "POST", "https://dynamodb.us-east-1.amazonaws.com:443/",
         DDB_JSON, b"{}", "dynamodb"),
    # Bedrock Runtime's Converse: the model id is one URI label, percent-encoded as
    # botocore's rest-json serializer encodes it (utils.percent_encode), then encoded again
    # for the canonical request
    case("bedrock-converse", "POST", BEDROCK + "/model/" + percent_encode(HAIKU) + "/converse",
         [("Content-Type", "application/json"), ("Accept", "application/json")],
         b'{"messages":[{"role":"user","content":[{"text":"Hi \\u00e9"}]}]}', "bedrock",
         "us-east-1"),
    case("bedrock-converse-arn", "POST",
         BEDROCK + "/model/" + percent_encode(PROFILE_ARN) + "/converse",
         [("Content-Type", "application/json"), ("Accept", "application/json")], b"{}",
         "bedrock", "us-east-1", token=TOKEN),
    case("bedrock-local-prefix", "POST",
         "http://127.0.0.1:4010/proxy/model/" + percent_encode(HAIKU) + "/converse",
         [("Content-Type", "application/json")], b"{}", "bedrock", "ap-southeast-2"),
    # SES / STS: form bodies and query APIs
    case("ses-form", "POST", "https://email.eu-west-1.amazonaws.com/",
         [("Content-Type", "application/x-www-form-urlencoded")],
         b"Action=SendEmail&Source=a%40b.com&Message.Subject.Data=Hi%20there", "ses",
         "eu-west-1"),
    case("ses-v2-json", "POST", "https://email.us-east-1.amazonaws.com/v2/email/outbound-emails",
         [("Content-Type", "application/json")], b'{"Content":{}}', "ses"),
    case("sts-query", "GET",
         "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15", [], b"",
         "sts"),
    case("sts-token-post", "POST", "https://sts.us-gov-west-1.amazonaws.com/",
         [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
         b"Action=GetCallerIdentity&Version=2011-06-15", "sts", "us-gov-west-1", token=TOKEN),
    case("cn-region", "GET", "https://sts.cn-north-1.amazonaws.com.cn/?Action=A", [], b"",
         "sts", "cn-north-1"),
    # execute-api: paths are double-encoded and normalised
    case("api-spaces-unicode", "GET", API + "/prod/items/a%20b/%E2%9C%93", [], b"",
         "execute-api", "eu-west-1"),
    case("api-raw-reserved", "GET", API + "/prod/" + RESERVED, [], b"", "execute-api",
         "eu-west-1"),
    case("api-encoded-reserved", "GET",
         API + "/prod/%21%27%28%29%2A%2B%2C%3B%3D%3A%40%24%26", [], b"", "execute-api",
         "eu-west-1"),
    case("api-encoded-slash", "GET", API + "/prod/a%2Fb/c%252F", [], b"", "execute-api",
         "eu-west-1"),
    case("api-dot-segments", "GET", API + "/prod/./a/../b/./c/", [], b"", "execute-api",
         "eu-west-1"),
    case("api-double-slashes", "GET", API + "//prod//a///b//", [], b"", "execute-api",
         "eu-west-1"),
    case("api-dotdot-above-root", "GET", API + "/../../a/..", [], b"", "execute-api",
         "eu-west-1"),
    case("api-trailing-dot", "GET", API + "/a/b/.", [], b"", "execute-api", "eu-west-1"),
    case("api-encoded-dots", "GET", API + "/a/%2E%2E/b/%2e", [], b"", "execute-api",
         "eu-west-1"),
    case("api-dotty-names", "GET", API + "/a/..b/.c/...", [], b"", "execute-api",
         "eu-west-1"),
    case("api-lowercase-hex", "GET", API + "/a%c3%a9/b%7e", [], b"", "execute-api",
         "eu-west-1"),
    # query strings (canonical on the wire, as botocore sends them)
    case("query-unsorted-repeated", "GET",
         "https://example.amazonaws.com/?b=2&a=3&a=1&c=&a=10&a=9"),
    case("query-no-value-keys", "GET", "https://example.amazonaws.com/?flag&x=1&empty=&z"),
    case("query-ascii-order", "GET",
         "https://example.amazonaws.com/?b=1&a=2&B=3&_=4&~=5&-=6&A=7&0=8"),
    case("query-prefix-keys", "GET", "https://example.amazonaws.com/?a-b=1&a=2&a.b=3&ab=4"),
    case("query-value-tie", "GET", "https://example.amazonaws.com/?k=b&k=a&k=&k=B"),
    case("query-encoded-reserved", "GET",
         "https://example.amazonaws.com/?q=a%2Bb%20c&r=%21%27%28%29%2A&s=%2F%3F%23%5B%5D"),
    case("query-unicode", "POST",
         "https://example.amazonaws.com/?name=%E2%9C%93&%C3%A9=1&%F0%9F%98%80=%00", [],
         b"x", "service"),
    case("query-unreserved", "GET", "https://example.amazonaws.com/?-._~AZaz09=-._~AZaz09"),
    case("query-percent-25", "GET", "https://example.amazonaws.com/?p=100%25&q=%2525"),
    case("query-empty-pieces", "GET", "https://example.amazonaws.com/?a=1&&b=2&"),
    # headers
    case("headers-messy", "PUT", "https://example.amazonaws.com/x",
         [("X-Custom-B", "  b   value  "), ("x-custom-a", "a\t\tb"),
          ("Content-Type", "text/plain; charset=utf-8"), ("X-AMZ-Meta-Mixed", " MiXeD  Case ")],
         b"hello", "service", "eu-central-1"),
    case("headers-repeated", "GET", "https://example.amazonaws.com/",
         [("X-Dup", "1"), ("x-other", "o"), ("x-dup", " 2 "), ("X-DUP", "3   3")]),
    case("headers-empty-value", "GET", "https://example.amazonaws.com/",
         [("X-Empty", ""), ("X-Spaces", "   ")]),
    case("headers-reserved-values", "DELETE", "https://example.amazonaws.com/r",
         [("X-Weird", RESERVED + " \"quoted\"  'x'"), ("Content-MD5", "1B2M2Y8AsgTpgAmY7PhCfg==")]),
    # bodies
    case("body-binary", "PUT", "https://example.amazonaws.com/bin",
         [("Content-Type", "application/octet-stream")], bytes(range(256)) * 3),
    case("body-nul-utf8", "POST", "https://example.amazonaws.com/",
         [("Content-Type", "text/plain")], "a\x00b\u00e9\u2713\U0001f600".encode("utf-8")),
    case("unsigned-payload-non-s3", "POST", "https://example.amazonaws.com/",
         [("Content-Type", "application/json")], b"{}", unsigned=True),
    # S3 header signing: the path is signed as sent
    case("s3-get-unicode-key", "GET", S3 + "/dir/a%20b/%C3%BC.txt", [], b"", "s3"),
    case("s3-reserved-key", "GET", S3 + "/k%21%27%28%29%2A%2B%2C%3B%3D%3A%40%24%26", [],
         b"", "s3"),
    case("s3-encoded-slash-key", "GET", S3PATH + "/a%2Fb/c", [], b"", "s3", "eu-central-1"),
    case("s3-dot-segments-kept", "GET", S3 + "/a/./b/../c//d/", [], b"", "s3"),
    case("s3-put-body", "PUT", S3 + "/reports/r%C3%A9sum%C3%A9%20%281%29.pdf",
         [("Content-Type", "application/pdf"), ("x-amz-meta-Owner", "  Ann   Lee "),
          ("Content-MD5", "XUFAKrxLKna5cZ2REBfFkg==")],
         b"%PDF-1.4\n" + bytes(range(200)), "s3"),
    case("s3-unsigned-payload", "PUT", S3 + "/big.bin",
         [("Content-Type", "application/octet-stream")], b"data", "s3", unsigned=True),
    case("s3-session-token", "GET", S3 + "/k", [], b"", "s3", "us-west-2", token=TOKEN),
    case("s3-list-v2", "GET",
         S3 + "/?list-type=2&prefix=a%2Fb%20c&delimiter=%2F&continuation-token=abc%3D%3D",
         [], b"", "s3"),
    case("s3-subresources", "POST", S3 + "/k?uploads", [], b"", "s3"),
    case("s3-part", "PUT", S3 + "/k?uploadId=VXBsb2Fk%2Bx&partNumber=1", [], b"part", "s3"),
    case("s3-minio-port", "PUT", "http://localhost:9000/bucket/key%20x", [], b"m", "s3"),
    case("s3-empty-key-root", "GET", S3 + "/", [], b"", "s3", when=T2031),
    # presigning (query-string auth)
    case("presign-s3-get", "GET", S3 + "/test.txt", presign=3600, service="s3"),
    case("presign-s3-put-pinned", "PUT", S3 + "/uploads/a%20b.pdf",
         [("Content-Type", "application/pdf"), ("Content-Length", "40960")], presign=900,
         service="s3"),
    case("presign-s3-token", "GET", S3 + "/k", presign=600, service="s3", token=TOKEN,
         region="eu-west-1"),
    case("presign-s3-own-params", "GET",
         S3 + "/k?response-content-disposition=attachment%3B%20filename%3D%22a%20b.pdf%22"
         "&versionId=3%2F4&flag", presign=60, service="s3"),
    case("presign-s3-awkward-key", "GET", S3PATH + "/a/./b//%E2%9C%93%2Fx%21", presign=120,
         service="s3", region="eu-central-1"),
    case("presign-s3-empty-pieces", "GET", S3 + "/k?a=1&&b=&", presign=60, service="s3"),
    case("presign-s3-expires-min", "GET", S3 + "/k", presign=1, service="s3"),
    case("presign-s3-expires-max", "GET", S3 + "/k", presign=604800, service="s3",
         when=T2024),
    case("presign-non-s3-body-hash", "GET", API + "/prod/a%20b/../c?x=1&y=%E2%9C%93",
         presign=300, service="execute-api", region="eu-west-1", payload_hash=EMPTY_SHA256),
    case("presign-non-s3-unsigned", "GET", "https://example.amazonaws.com/p?b=2&a=1",
         presign=300, unsigned=True, token=TOKEN),
]


# --- botocore's side ---------------------------------------------------------------------------
def creds(c):
    return Credentials(AK, SK, c["token"])


def signer_class(c):
    s3 = c["service"] == "s3"
    if c["presign"] is not None:
        return auth.S3SigV4QueryAuth if s3 else auth.SigV4QueryAuth
    return auth.S3SigV4Auth if s3 else auth.SigV4Auth


def botocore_sign(c):
    """Sign c with botocore; (expected fields, the wire request, canonical request)."""
    _Clock.now = c["when"]
    req = AWSRequest(method=c["method"], url=c["url"], headers={}, data=c["body"])
    for name, value in c["headers"]:
        req.headers[name] = value                   # HTTPHeaders: a repeat is appended
    if c["unsigned"]:
        if c["service"] == "s3":
            req.context["client_config"] = types.SimpleNamespace(
                s3={"payload_signing_enabled": False})
        else:
            req.context["payload_signing_enabled"] = False
    wire = urlsplit(req.prepare().url)             # what botocore puts on the wire
    cls = signer_class(c)
    if c["presign"] is not None:
        signer = cls(creds(c), c["service"], c["region"], expires=c["presign"])
    else:
        signer = cls(creds(c), c["service"], c["region"])
    recorded = []
    canonical_request = signer.canonical_request

    def record(request):
        recorded.append(canonical_request(request))
        return recorded[-1]

    signer.canonical_request = record               # the one add_auth signs
    signer.add_auth(req)
    creq = recorded[0]
    if c["presign"] is not None:
        return {"query": urlsplit(req.url).query}, wire, creq
    payload = creq.rsplit("\n", 1)[1]
    return ({"authorization": req.headers["Authorization"],
             "amz_date": req.headers["X-Amz-Date"],
             "payload_hash": payload}, wire, creq)


def cli_input(c, wire, extra_headers=()):
    """The C signer's view of the same request: exactly the wire path and query."""
    headers = [list(h) for h in c["headers"]] + [list(h) for h in extra_headers]
    payload_hash = c["payload_hash"]
    if c["unsigned"]:
        payload_hash = None if c["presign"] is not None else "UNSIGNED-PAYLOAD"
        if c["service"] != "s3" and c["presign"] is None:
            # botocore signs the X-Amz-Content-SHA256 header it adds; outside s3 the caller
            # sends (and passes) it
            headers.append(["X-Amz-Content-SHA256", "UNSIGNED-PAYLOAD"])
    return {
        "id": c["name"],
        "method": c["method"],
        "host": auth._host_from_url(wire.geturl()),
        "path": wire.path,
        "query": wire.query or None,
        "headers": headers,
        "body_hex": c["body"].hex(),
        "payload_hash": payload_hash,
        "region": c["region"],
        "service": c["service"],
        "now": epoch(c["when"]),
        "access_key": AK,
        "secret_key": SK,
        "session_token": c["token"],
        "presign": c["presign"],
    }


# --- S3 presigned URLs through a real client -----------------------------------------------------
CLIENT_PRESIGNS = [
    # name, region, addressing style, token, operation, params, expires, time
    ("client-put-object-virtual", "us-east-1", "virtual", None, "put_object",
     {"Bucket": "score-reports", "Key": "u/42/report (final) \u00e9.pdf",
      "ContentType": "application/pdf"}, 900, T2015),
    ("client-put-object-path-token", "eu-west-1", "path", TOKEN, "put_object",
     {"Bucket": "score-reports", "Key": "a b/c+d/%2F/~x", "ContentType": "image/png"},
     3600, T2024),
    ("client-get-object-disposition", "eu-central-1", "virtual", None, "get_object",
     {"Bucket": "score-reports", "Key": "r/\u2713.pdf",
      "ResponseContentDisposition": 'attachment; filename="r \u2713.pdf"'}, 604800, T2031),
]


def client_presign(name, region, style, token, op, params, expires, when):
    """generate_presigned_url at a fixed time; (expected, the CLI input, the signed URL)."""
    _Clock.now = when
    seen = {}
    original = auth.S3SigV4QueryAuth.add_auth

    def spy(self, request):
        seen["url"] = request.url
        seen["headers"] = [(k, v) for k, v in request.headers.items()
                           if k.lower() not in auth.SIGNED_HEADERS_BLACKLIST]
        return original(self, request)

    session = botocore.session.get_session()
    client = session.create_client(
        "s3", region_name=region, aws_access_key_id=AK, aws_secret_access_key=SK,
        aws_session_token=token,
        config=Config(signature_version="s3v4", s3={"addressing_style": style}))
    auth.S3SigV4QueryAuth.add_auth = spy
    try:
        url = client.generate_presigned_url(op, Params=params, ExpiresIn=expires)
    finally:
        auth.S3SigV4QueryAuth.add_auth = original
    wire = urlsplit(seen["url"])
    c = case(name, "PUT" if op == "put_object" else "GET", seen["url"], seen["headers"],
             service="s3", region=region, when=when, token=token, presign=expires)
    return {"query": urlsplit(url).query}, cli_input(c, wire), url


# --- compare -------------------------------------------------------------------------------------
def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    cli = sys.argv[1]
    expected, inputs, debug = {}, [], {}
    for c in CASES:
        want, wire, creq = botocore_sign(c)
        expected[c["name"]] = want
        inputs.append(cli_input(c, wire))
        debug[c["name"]] = creq
    for spec in CLIENT_PRESIGNS:
        want, inp, url = client_presign(*spec)
        expected[spec[0]] = want
        inputs.append(inp)
        debug[spec[0]] = url
    if len(expected) != len(inputs):
        print("duplicate case names")
        return 1

    proc = subprocess.run([cli], input="".join(json.dumps(i) + "\n" for i in inputs),
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print("sigv4-cli exited %d: %s" % (proc.returncode, proc.stderr))
        return 1
    got = {}
    for line in proc.stdout.splitlines():
        reply = json.loads(line)
        got[reply["id"]] = reply

    passed = failed = 0
    for inp in inputs:
        name = inp["id"]
        want, have = expected[name], got.get(name)
        diffs = []
        if not have:
            diffs.append("no reply")
        elif have.get("rc") != 0:
            diffs.append("rc %r" % have.get("rc"))
        else:
            for field, value in want.items():
                if have.get(field) != value:
                    diffs.append("%s:\n    botocore %s\n    C        %s"
                                 % (field, value, have.get(field)))
        if diffs:
            failed += 1
            print("FAIL %s" % name)
            for d in diffs:
                print("  " + d)
            print("  input: " + json.dumps(inp))
            print("  botocore canonical request / URL:\n    "
                  + debug[name].replace("\n", "\n    "))
        else:
            passed += 1
            print("ok   %s" % name)
    if passed + failed < MIN_CASES:
        print("only %d cases, want at least %d" % (passed + failed, MIN_CASES))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
