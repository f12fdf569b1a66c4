"""EMAIL_TRANSPORT=ses: the outbox sent through the SES v2 API (SendEmail, raw content) to a
local SES v2 server (npm aws-ses-v2-local), behind the SigV4-verifying front, which checks
every signature with botocore for service "ses" (the local server itself accepts any)."""

import json
import os
import subprocess
import time
import urllib.request

import pytest

from stack import BUILDDIR, SRCDIR, assert_envelope, http_json
from test_fulfilment import buy, outbox, pay
from test_webhook import ddb  # noqa: F401

PY = "/usr/bin/python3"


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=20):
    import socket
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("nothing listening on %d" % port)


@pytest.fixture(scope="module")
def ses(stack):
    """aws-ses-v2-local and a sigfront before it; both stopped at the end."""
    node_dir = [d for d in os.listdir(stack.env["PRODENTHUB_CACHE"]) if d.startswith("node-")]
    cli = None
    for d in node_dir:
        c = os.path.join(stack.env["PRODENTHUB_CACHE"], d,
                         "node_modules/aws-ses-v2-local/dist/cli.js")
        if os.path.exists(c):
            cli = c
    if not cli:
        pytest.skip("aws-ses-v2-local is not installed (scripts/deps)")
    ses_port, front_port = free_port(), free_port()
    logs = open(os.path.join(stack.state, "logs", "ses.log"), "ab")
    procs = [subprocess.Popen(["node", cli, "--host", "127.0.0.1", "--port", str(ses_port)],
                              stdout=logs, stderr=logs, cwd=stack.state)]
    keys = os.path.join(stack.state, "ses-keys.json")
    with open(keys, "w") as f:
        json.dump({"someone-else": "x"}, f)          # our key is added by the test
    procs.append(subprocess.Popen(
        [PY, os.path.join(SRCDIR, "t/e2e/sigfront.py"), "--listen", str(front_port),
         "--upstream", "http://127.0.0.1:%d" % ses_port, "--keys-file", keys],
        stdout=logs, stderr=logs))
    try:
        wait_port(ses_port)
        wait_port(front_port)
        stack.stop("mailer")             # this module sends the outbox itself
        yield {"store": "http://127.0.0.1:%d/store" % ses_port,
               "front": "http://127.0.0.1:%d" % front_port, "keys": keys}
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        logs.close()
        stack.start("mailer")


def send_mail(stack, ses, **env):
    e = dict(stack.env, **stack.ports)
    e.update(EMAIL_TRANSPORT="ses", AWS_ENDPOINT_URL_SESV2=ses["front"], **env)
    r = subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "send-mail"], env=e,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout), r.stderr


def ses_store(ses):
    with urllib.request.urlopen(ses["store"], timeout=10) as r:
        return json.loads(r.read())["emails"]


def test_confirmation_goes_through_ses_v2_signed(stack, ses, ddb):  # noqa: F811
    email = "ses-path@example.com"
    d = buy(stack, email, name="Zoë Ŝmith")
    pay(stack, d)
    before = http_json("GET", ses["front"] + "/__front/stats")
    # SES does not know our key yet: refused (403); the row waits for a retry.
    out, err = send_mail(stack, ses)
    assert out["sent"] == 0 and out["retry"] >= 1, (out, err)
    row = outbox(ddb, d["purchaseId"] + "#paid", "purchase-confirmation", email)
    assert row["status"]["S"] == "pending" and "403" in row["lastError"]["S"], row
    assert not [m for m in ses_store(ses) if email in json.dumps(m)]
    # Now it does (the front re-reads its keys file); the retry goes through once due.
    with open(ses["keys"] + ".new", "w") as f:
        json.dump({"local": "local"}, f)
    os.replace(ses["keys"] + ".new", ses["keys"])
    deadline = time.time() + 20
    while time.time() < deadline:
        out, err = send_mail(stack, ses)
        if out["sent"]:
            break
        time.sleep(0.5)
    assert out["sent"] >= 1, (out, err)
    stats = http_json("GET", ses["front"] + "/__front/stats")
    assert stats["rejected"] > before["rejected"] and stats["ok"] > before["ok"], stats
    got = [m for m in ses_store(ses) if email in json.dumps(m)]
    assert len(got) == 1, got
    m = got[0]
    assert m["subject"] == "Your ProDentHub purchase is confirmed: Full - 6 Months"
    assert d["purchaseId"] in m["body"]["text"] and "A$159.20" in m["body"]["html"]
    row = outbox(ddb, d["purchaseId"] + "#paid", "purchase-confirmation", email)
    assert row["status"]["S"] == "sent"
    # Nothing left to send: a second run sends nothing again.
    out, _ = send_mail(stack, ses)
    assert out["sent"] == 0
    assert len([m for m in ses_store(ses) if email in json.dumps(m)]) == 1
    assert assert_envelope(stack.get("/v1/purchases/" + d["purchaseId"]), 200)
