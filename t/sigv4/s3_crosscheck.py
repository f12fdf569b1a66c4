#!/usr/bin/env python3
"""s3_crosscheck: lib/s3.c's presigned PUT URLs against botocore, byte for byte.

    s3_crosscheck.py PATH/TO/s3-cli

Each generated case (awkward keys, both addressing styles, AWS and custom endpoints with
ports and path prefixes, session tokens, expiries, sizes and content types) is presigned at
a fixed time three ways, and the whole URLs must be equal:

  client  an S3 client's generate_presigned_url('put_object', Params={Bucket, Key,
          ContentType, ContentLength}, ExpiresIn) with Config(signature_version='s3v4',
          s3={'addressing_style': style}) and endpoint_url set to the endpoint lib/s3.c
          uses (botocore's own default for virtual style is the legacy global
          bucket.s3.amazonaws.com, ours is always regional);
  direct  S3SigV4QueryAuth.add_auth on a bare AWSRequest PUT with Content-Type and
          Content-Length headers, on the client's URL;
  C       lib/s3.c through s3-cli.

botocore (1.29 and later) serialises ContentType and ContentLength as headers and
S3SigV4QueryAuth signs every header outside its blacklist, so the client's URL signs
content-length;content-type;host, as lib/s3.c does.  Should a botocore release stop signing
content-length there, the client comparison of that case is skipped with a note and the
direct one still holds.  A few invalid requests check the C side's error codes.
Exit 0 when all pass, 1 when any fails, 77 (skip) when botocore is missing.
"""
import json
import os
import subprocess
import sys
from urllib.parse import urlsplit

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import crosscheck as xc                     # noqa: E402  (the fixed clock, keys, exit 77)

import botocore.session                     # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.config import Config          # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

MIN_CASES = 30
SIGNED = "content-length%3Bcontent-type%3Bhost"
APP_EVALIDATION, APP_ETOOLARGE, APP_EINTERNAL, APP_ECONFIG = -2, -9, -13, -21
MAX_BYTES = 104857600

KEYS = [
    "score-reports/2024/u-42/report.pdf",
    "reports/a b/c d.pdf",
    "u/42/report (final) \u00e9\u00e8.pdf",
    "x+y=z/a+b==.csv",
    "nested/deeply/nested/slashes/k",
    "double//slash///k",
    "/leading-slash",
    "dots/./and/../segments/.",
    "unicode/\u2713\u2603\U0001f600/\u65e5\u672c\u8a9e.png",
    "reserved!'()*,;:@$&[]{}|^`\"<>\\#?%.txt",
    "percent%20already%2Fencoded%25",
    "tilde~under_score-dash.dot",
    "trailing/slash/",
    "tab\tand space and\u00a0nbsp",
    "k",
    "A" * 300 + "/" + "\u00e9" * 200,
]

# (endpoint or None for lib/s3.c's default, region)
ENDPOINTS = [
    (None, "us-east-1"),
    (None, "eu-west-1"),
    ("https://s3.eu-central-1.amazonaws.com", "eu-central-1"),
    ("http://localhost:4566", "us-east-1"),
    ("http://127.0.0.1:9000", "ap-southeast-2"),       # an IP: virtual falls back to path
    ("https://minio.example.com:9443", "eu-west-1"),
    ("https://s3.example.com:443", "us-west-2"),      # default port: signed without it
    ("http://s3.example.com:80/", "us-west-2"),
    ("http://storage.test:8080/prefix/", "eu-west-2"),
    ("http://[::1]:9000", "us-east-1"),
    (None, "cn-north-1"),
]

BUCKETS = ["prodenthub-score-reports", "score-reports", "my.dotted.bucket", "Legacy_Bucket",
           "abc", "b" * 63]
TYPES = ["application/pdf", "text/csv; charset=utf-8", "image/png",
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "text/plain;  charset=UTF-8", "application/octet-stream"]
SIZES = [0, 1, 1024, 10485760, 104857600, 987654]
EXPIRES = [1, 60, 600, 3600, 86400, 604800]
TIMES = [xc.T2015, xc.T2024, xc.T2031]
TOKENS = [None, xc.TOKEN]


def default_endpoint(region):
    return "https://s3.%s.amazonaws.com%s" % (region, ".cn" if region.startswith("cn-") else "")


def generate():
    """Deterministic cases: each axis cycles with its own stride, so combinations vary."""
    cases = []
    n = 48
    for i in range(n):
        endpoint, region = ENDPOINTS[i % len(ENDPOINTS)]
        cases.append(dict(
            name="case-%02d" % i,
            key=KEYS[(i * 5) % len(KEYS)],
            style=("path", "virtual")[i % 2],
            endpoint=endpoint,
            # AWS_ENDPOINT_URL_S3 or the generic AWS_ENDPOINT_URL (every third case)
            generic=endpoint is not None and i % 3 == 0,
            region=region,
            bucket=BUCKETS[(i * 7) % len(BUCKETS)] if i % 4 else BUCKETS[0],
            ctype=TYPES[(i * 3) % len(TYPES)],
            size=SIZES[(i * 5) % len(SIZES)],
            expires=EXPIRES[(i * 11) % len(EXPIRES)],
            when=TIMES[i % len(TIMES)],
            token=TOKENS[(i // 2) % 2],
        ))
    # AWS_ENDPOINT_URL_S3 wins over AWS_ENDPOINT_URL
    cases.append(dict(cases[3], name="s3-endpoint-wins", generic=False,
                      other="http://wrong.example:1"))
    return cases


def cli_input(c):
    return {
        "id": c["name"],
        "endpoint_s3": None if c["generic"] else c["endpoint"],
        "endpoint": c["endpoint"] if c["generic"] else c.get("other"),
        "region": c["region"],
        "bucket": c["bucket"],
        "style": c["style"],
        "key": c["key"],
        "content_type": c["ctype"],
        "content_length": c["size"],
        "expires": c["expires"],
        "now": xc.epoch(c["when"]),
        "access_key": xc.AK,
        "secret_key": xc.SK,
        "session_token": c["token"],
        "max_bytes": MAX_BYTES,
    }


def client_presign(c):
    """generate_presigned_url at the case's time: the URL, and the URL it signed."""
    import botocore.auth as auth
    xc._Clock.now = c["when"]
    seen = {}
    original = auth.S3SigV4QueryAuth.add_auth

    def spy(self, request):
        seen["url"] = request.url
        return original(self, request)

    client = botocore.session.get_session().create_client(
        "s3", region_name=c["region"], aws_access_key_id=xc.AK, aws_secret_access_key=xc.SK,
        aws_session_token=c["token"], endpoint_url=c["endpoint"] or default_endpoint(c["region"]),
        config=Config(signature_version="s3v4", s3={"addressing_style": c["style"]}))
    auth.S3SigV4QueryAuth.add_auth = spy
    try:
        url = client.generate_presigned_url(
            "put_object", Params={"Bucket": c["bucket"], "Key": c["key"],
                                  "ContentType": c["ctype"], "ContentLength": c["size"]},
            ExpiresIn=c["expires"])
    finally:
        auth.S3SigV4QueryAuth.add_auth = original
    return url, seen["url"]


def direct_presign(c, wire_url):
    """S3SigV4QueryAuth on a bare PUT carrying exactly the two headers."""
    import botocore.auth as auth
    xc._Clock.now = c["when"]
    req = AWSRequest(method="PUT", url=wire_url, data=b"")
    req.headers["Content-Type"] = c["ctype"]
    req.headers["Content-Length"] = str(c["size"])
    auth.S3SigV4QueryAuth(Credentials(xc.AK, xc.SK, c["token"]), "s3", c["region"],
                          expires=c["expires"]).add_auth(req)
    return req.url


# Invalid requests: (name, overrides, expected rc)
ERRORS = [
    ("err-negative-length", {"content_length": -1}, APP_EVALIDATION),
    ("err-over-max", {"content_length": MAX_BYTES + 1}, APP_ETOOLARGE),
    ("err-over-setting", {"content_length": 2048, "max_bytes": 2047}, APP_ETOOLARGE),
    ("err-empty-key", {"key": ""}, APP_EINTERNAL),
    ("err-key-too-long", {"key": "k" * 1025}, APP_EINTERNAL),
    ("err-empty-type", {"content_type": ""}, APP_EINTERNAL),
    ("err-type-newline", {"content_type": "text/plain\r\nX-Evil: 1"}, APP_EINTERNAL),
    ("err-expires-too-long", {"expires": 604801}, APP_EINTERNAL),
    ("err-bad-bucket", {"bucket": "no/slash"}, APP_ECONFIG),
    ("err-endpoint-query", {"endpoint_s3": "http://h:1/?x=1"}, APP_ECONFIG),
]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    cli = sys.argv[1]
    cases = generate()
    want, inputs, notes = {}, [], []
    for c in cases:
        url, wire = client_presign(c)
        direct = direct_presign(c, wire)
        want[c["name"]] = {"direct": direct}
        if SIGNED in urlsplit(url).query:
            want[c["name"]]["client"] = url
        else:
            notes.append("%s: botocore's client URL does not sign content-length;"
                         "content-type;host, compared with S3SigV4QueryAuth only" % c["name"])
        inputs.append(cli_input(c))
    base = cli_input(cases[0])
    for name, over, _ in ERRORS:
        inputs.append(dict(base, id=name, **over))

    # A clean environment: the CLI takes every setting from its input.
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "S3_", "DYNAMODB_", "STRIPE_", "SMTP_", "PRODENTHUB_"))}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    proc = subprocess.run([cli], input="".join(json.dumps(i) + "\n" for i in inputs),
                          capture_output=True, text=True, check=False, env=env)
    if proc.returncode != 0:
        print("s3-cli exited %d: %s" % (proc.returncode, proc.stderr))
        return 1
    got = {}
    for line in proc.stdout.splitlines():
        reply = json.loads(line)
        got[reply["id"]] = reply

    passed = failed = 0
    for inp in inputs:
        name = inp["id"]
        have = got.get(name)
        diffs = []
        if not have:
            diffs.append("no reply")
        elif name in want:
            if have.get("rc") != 0:
                diffs.append("rc %r (%s)" % (have.get("rc"), have.get("msg")))
            else:
                for side, url in want[name].items():
                    if have.get("url") != url:
                        diffs.append("%s:\n    botocore %s\n    C        %s"
                                     % (side, url, have.get("url")))
        else:
            rc = next(e[2] for e in ERRORS if e[0] == name)
            if have.get("rc") != rc:
                diffs.append("rc %r, want %d (%s)" % (have.get("rc"), rc, have.get("msg")))
        if diffs:
            failed += 1
            print("FAIL %s" % name)
            for d in diffs:
                print("  " + d)
            print("  input: " + json.dumps(inp))
        else:
            passed += 1
            print("ok   %s%s" % (name, "" if name not in want else
                                  " (%s)" % "+".join(sorted(want[name]))))
    for n in notes:
        print("note " + n)
    if len(want) < MIN_CASES:
        print("only %d presign cases, want at least %d" % (len(want), MIN_CASES))
        failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
