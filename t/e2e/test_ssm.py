"""Secrets from SSM Parameter Store (NAME_SSM): the pool reads STRIPE_WEBHOOK_SECRET and
PRODENTHUB_ADMIN_TOKEN from the SSM stand-in (t/ssm/ssm_standin.py) through a sigfront that
checks every signature with botocore; a webhook signed with the SSM secret and an admin call
with the SSM token are accepted; SIGHUP reads the parameters again; a missing parameter
stops `prodenthub-fcgi -t` and is refused on reload; no value ever reaches a log."""

import json
import os
import secrets
import signal
import subprocess
import sys
import time

import pytest

from stack import BUILDDIR, SRCDIR, Stack, assert_envelope, http_json

sys.path.insert(0, "/usr/lib/python3/dist-packages")
import botocore.session  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402
from stripe.webhook import WebhookSignature  # noqa: E402

P_WHSEC = "/prodenthub/dev/stripe-webhook-secret"
P_ADMIN = "/prodenthub/dev/admin-token"
REGION = "ap-southeast-2"
# Values unlike anything else in the stack, so a grep of the logs cannot match by chance.
VALUES = {"whsec": "whsec_ssm_" + secrets.token_hex(12),
          "whsec2": "whsec_ssm_rotated_" + secrets.token_hex(12),
          "admin": "admin-ssm-" + secrets.token_hex(12)}


def write_params(stack, params):
    """The stand-in's parameters, written atomically (it re-reads the file when it changes)."""
    path = os.path.join(stack.state, "ssm-parameters.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(params, f)
    os.replace(tmp, path)


@pytest.fixture(scope="module")
def ssm():
    s = Stack(PH_SSM=1, PH_SIGFRONT=1, PRODENTHUB_WORKERS=2, PRODENTHUB_SHUTDOWN_TIMEOUT=5,
              STRIPE_WEBHOOK_SECRET_SSM=P_WHSEC, PRODENTHUB_ADMIN_TOKEN_SSM=P_ADMIN)
    write_params(s, {P_WHSEC: VALUES["whsec"], P_ADMIN: {"Value": VALUES["admin"]}})
    try:
        # What the pool needs, and prodenthubctl (the schema step reads the secrets too).
        s.start("dynamodb", "sigfront", "ssm", "schema", "memcached", "pool", "nginx")
        s.wait_ready()
        s.front = "http://127.0.0.1:%s" % s.ports["SSM_PORT"]
        s.standin = "http://127.0.0.1:%s" % s.ports["SSM_STANDIN_PORT"]
        yield s
    finally:
        s.destroy()


def event():
    return json.dumps({"id": "evt_ssm_%d" % time.monotonic_ns(), "object": "event",
                       "type": "customer.created", "created": int(time.time()),
                       "livemode": False, "data": {"object": {"id": "cus_ssm"}}},
                      separators=(",", ":"))


def deliver(stack, secret):
    payload = event()
    t = int(time.time())
    sig = WebhookSignature._compute_signature("%d.%s" % (t, payload), secret)
    return stack.request("POST", "/v1/webhook/stripe", body=payload,
                         headers={"Content-Type": "application/json",
                                  "Stripe-Signature": "t=%d,v1=%s" % (t, sig)},
                         source_ip=stack.new_ip())


def grants(stack, token):
    return stack.get("/v1/access-grants?email=ssm@example.com",
                     headers={"Authorization": "Bearer " + token}, source_ip=stack.new_ip())


def program_env(stack, **extra):
    """The environment of a program run by hand against the stack's SSM front."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
           "AWS_ENDPOINT_URL_SSM": stack.front, "AWS_ENDPOINT_URL_DYNAMODB":
           stack.ports["AWS_ENDPOINT_URL_DYNAMODB"], "AWS_ACCESS_KEY_ID": "local",
           "AWS_SECRET_ACCESS_KEY": "local", "AWS_REGION": REGION,
           "AWS_EC2_METADATA_DISABLED": "true",
           "SCHOLARSHIP_RULES_FILE": os.path.join(SRCDIR, "sql/rules/scholarship.json"),
           "CLUSTER_RULES_FILE": os.path.join(SRCDIR, "sql/rules/clusters.json")}
    env.update(extra)
    return env


def fcgi(stack, *args, **extra):
    return subprocess.run([os.path.join(BUILDDIR, "prodenthub-fcgi")] + list(args),
                          env=program_env(stack, **extra), capture_output=True, text=True,
                          timeout=60)


def pool_log(stack):
    with open(os.path.join(stack.state, "logs", "pool.log"), errors="replace") as f:
        return f.read()


def wait_for(fn, timeout=20):
    deadline = time.time() + timeout
    while True:
        if fn():
            return True
        if time.time() > deadline:
            return False
        time.sleep(0.2)


def test_a_webhook_signed_with_the_ssm_secret_is_accepted(ssm):
    assert assert_envelope(deliver(ssm, VALUES["whsec"]), 200)["data"]["received"] is True
    # The stack's default secret is not what the pool holds.
    assert_envelope(deliver(ssm, "whsec_local"), 400, "BAD_REQUEST")


def test_an_admin_route_takes_the_ssm_token(ssm):
    d = assert_envelope(grants(ssm, VALUES["admin"]), 200)["data"]
    assert d["grants"] == []
    assert_envelope(grants(ssm, "e2e-admin-token"), 403, "FORBIDDEN")


def test_every_read_was_signed_for_ssm_and_verified(ssm):
    front = http_json("GET", ssm.front + "/__front/stats")
    standin = http_json("GET", ssm.standin + "/__ssm/stats")
    # The pool's master read two parameters; prodenthubctl (create-tables, seed) two each.
    assert front["ok"] >= 6 and front["rejected"] == 0, front
    assert standin["services_seen"] == ["ssm"], standin
    assert standin["by_target"] == {"GetParameter": standin["requests"]}, standin
    assert {P_WHSEC, P_ADMIN} <= set(standin["names_read"]), standin


def test_botocore_reads_the_same_parameter_through_the_front(ssm):
    """The cross-check: botocore's own SSM client, signed by botocore, verified by the
    front, parsed by botocore: the stand-in speaks the wire format our client reads."""
    session = botocore.session.get_session()
    client = session.create_client("ssm", region_name=REGION, endpoint_url=ssm.front,
                                   aws_access_key_id="local", aws_secret_access_key="local")
    p = client.get_parameter(Name=P_WHSEC, WithDecryption=True)["Parameter"]
    assert p["Value"] == VALUES["whsec"] and p["Type"] == "SecureString", p
    assert p["ARN"].endswith(":parameter" + P_WHSEC) and p["Version"] >= 1
    both = client.get_parameters(Names=[P_WHSEC, "/prodenthub/dev/nope"], WithDecryption=True)
    assert [x["Name"] for x in both["Parameters"]] == [P_WHSEC]
    assert both["InvalidParameters"] == ["/prodenthub/dev/nope"]
    with pytest.raises(client.exceptions.ParameterNotFound):
        client.get_parameter(Name="/prodenthub/dev/nope", WithDecryption=True)
    wrong = session.create_client("ssm", region_name=REGION, endpoint_url=ssm.front,
                                  aws_access_key_id="local", aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as e:
        wrong.get_parameter(Name=P_WHSEC, WithDecryption=True)
    assert e.value.response["Error"]["Code"] == "InvalidSignatureException"


def test_check_config_reads_the_parameters(ssm):
    r = fcgi(ssm, "-t", STRIPE_WEBHOOK_SECRET_SSM=P_WHSEC)
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stderr
    r = fcgi(ssm, "-p", STRIPE_WEBHOOK_SECRET_SSM=P_WHSEC)
    assert r.returncode == 0, r.stderr
    assert ("STRIPE_WEBHOOK_SECRET=(set, hidden, from SSM %s)\n" % P_WHSEC) in r.stdout
    assert VALUES["whsec"] not in r.stdout + r.stderr


def test_a_missing_parameter_stops_check_config(ssm):
    r = fcgi(ssm, "-t", STRIPE_WEBHOOK_SECRET_SSM="/prodenthub/dev/missing")
    assert r.returncode == 1
    assert ("STRIPE_WEBHOOK_SECRET_SSM: cannot read parameter /prodenthub/dev/missing: "
            "not found (ParameterNotFound)") in r.stderr, r.stderr


@pytest.mark.parametrize("extra,want", [
    ({"PRODENTHUB_ADMIN_TOKEN_SSM": "/prodenthub/dev/denied"},
     "PRODENTHUB_ADMIN_TOKEN_SSM: cannot read parameter /prodenthub/dev/denied: access denied "
     "(AccessDeniedException: User: arn:aws:sts::"),
    ({"STRIPE_WEBHOOK_SECRET_SSM": P_WHSEC, "STRIPE_WEBHOOK_SECRET": "whsec_x"},
     "both STRIPE_WEBHOOK_SECRET and STRIPE_WEBHOOK_SECRET_SSM are set"),
    ({"AWS_SECRET_ACCESS_KEY_SSM": "/prodenthub/dev/aws"},
     "AWS_SECRET_ACCESS_KEY_SSM is refused: the AWS credentials cannot come from SSM"),
    ({"STRIPE_WEBHOOK_SECRET_SSM": P_WHSEC, "AWS_SECRET_ACCESS_KEY": "not-the-key"},
     "credentials refused (InvalidSignatureException"),
])
def test_check_config_refuses(ssm, extra, want):
    params = {P_WHSEC: VALUES["whsec"], P_ADMIN: VALUES["admin"],
              "/prodenthub/dev/denied": {"Value": "x", "Deny": True}}
    write_params(ssm, params)
    r = fcgi(ssm, "-t", **extra)
    assert r.returncode == 1 and want in r.stderr, r.stderr


def test_throttling_is_retried(ssm):
    http_json("POST", ssm.front + "/__front/fail",
              {"count": 2, "status": 400, "type": "ThrottlingException",
               "message": "Rate exceeded"})
    before = http_json("GET", ssm.front + "/__front/stats")["injected"]
    r = fcgi(ssm, "-t", STRIPE_WEBHOOK_SECRET_SSM=P_WHSEC)
    assert r.returncode == 0, r.stderr
    assert http_json("GET", ssm.front + "/__front/stats")["injected"] == before + 2


def ctl(stack, *args, **extra):
    return subprocess.run([os.path.join(BUILDDIR, "prodenthubctl"), "-s",
                           os.path.join(SRCDIR, "sql")] + list(args),
                          env=program_env(stack, **extra), capture_output=True, text=True,
                          timeout=60)


def test_prodenthubctl_reads_the_parameters(ssm):
    r = ctl(ssm, "describe-tables", STRIPE_WEBHOOK_SECRET_SSM=P_WHSEC)
    assert r.returncode == 0, r.stderr
    assert "read 1 secret(s) from SSM Parameter Store: STRIPE_WEBHOOK_SECRET" in r.stderr
    r = ctl(ssm, "describe-tables", STRIPE_WEBHOOK_SECRET_SSM="/prodenthub/dev/gone")
    assert r.returncode == 1 and "STRIPE_WEBHOOK_SECRET_SSM" in r.stderr, r.stderr


def test_sighup_reads_a_changed_parameter(ssm):
    before = ssm.worker_pids()
    write_params(ssm, {P_WHSEC: VALUES["whsec2"], P_ADMIN: VALUES["admin"]})
    ssm.signal_pool(signal.SIGHUP)
    # Rolling: new workers with the new value, then the old ones leave.
    assert wait_for(lambda: not set(ssm.worker_pids()) & set(before)
                    and len(ssm.worker_pids()) == 2), (before, ssm.worker_pids())
    assert_envelope(deliver(ssm, VALUES["whsec2"]), 200)
    assert_envelope(deliver(ssm, VALUES["whsec"]), 400, "BAD_REQUEST")
    assert "read 2 secret(s) from SSM Parameter Store" in pool_log(ssm).split(
        "configuration reloaded")[0]


def test_sighup_with_a_missing_parameter_keeps_the_running_configuration(ssm):
    before = ssm.worker_pids()
    write_params(ssm, {P_WHSEC: VALUES["whsec2"]})
    ssm.signal_pool(signal.SIGHUP)
    assert wait_for(lambda: "reload refused" in pool_log(ssm), timeout=15)
    time.sleep(0.5)
    assert ssm.worker_pids() == before
    log = pool_log(ssm)
    assert ("reload refused, keeping the running configuration: PRODENTHUB_ADMIN_TOKEN_SSM: "
            "cannot read parameter %s: not found (ParameterNotFound)" % P_ADMIN) in log, log
    assert_envelope(grants(ssm, VALUES["admin"]), 200)
    assert_envelope(deliver(ssm, VALUES["whsec2"]), 200)
    write_params(ssm, {P_WHSEC: VALUES["whsec2"], P_ADMIN: VALUES["admin"]})


def test_no_value_reaches_any_log(ssm):
    logs = os.path.join(ssm.state, "logs")
    names = sorted(os.listdir(logs))
    assert "pool.log" in names and "ssm.log" in names and "ssm-standin.log" in names, names
    for name in names:
        with open(os.path.join(logs, name), errors="replace") as f:
            text = f.read()
        for key, value in VALUES.items():
            assert value not in text, "%s holds the %s value" % (name, key)
    pool = pool_log(ssm)
    assert ("read 2 secret(s) from SSM Parameter Store: PRODENTHUB_ADMIN_TOKEN "
            "STRIPE_WEBHOOK_SECRET") in pool, pool
