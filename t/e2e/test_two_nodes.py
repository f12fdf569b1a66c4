"""Two nodes, as behind a load balancer: a second pool, nginx edge, mailer and reminder job
(its own state folder, ports and TLS certificate) on the first stack's DynamoDB (through the
same SigV4-verifying front), memcached, Stripe stand-in and mail server.  Requests split
across both edges keep the exact limits; with two mailers racing for one outbox every email
goes out once; the timer jobs run on both nodes at once (reminders, the sweep of abandoned
checkouts) and each effect happens once."""

import concurrent.futures
import os
import random
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from stack import BUILDDIR, Stack, assert_envelope, http_json
from test_faults import coupon, coupon_consistent, LIMIT
from test_mock_exams import exam, register
from test_webhook import ddb, grants  # noqa: F401 (ddb: a fixture)

OWN = ("HTTP_PORT", "HTTPS_PORT", "METRICS_PORT", "FCGI_PORT")


def free_port(taken):
    """A port below the kernel's ephemeral range, free now (as scripts/common.sh picks)."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
        low = int(f.read().split()[0])
    while True:
        p = random.randint(10000, low - 1)
        if p in taken:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", p))
            except OSError:
                continue
        taken.add(p)
        return p


@pytest.fixture(scope="module")
def node2(stack):
    """The second node: the first's settings (stack.env: its DynamoDB, memcached, Stripe,
    SMTP, the outbox key) with ports of its own; only its pool, mailer, reminders, nginx."""
    n = Stack()
    taken = {int(v) for k, v in stack.ports.items() if k.endswith("_PORT") and v.isdigit()}
    with open(os.path.join(stack.state, "stack.env")) as f:
        lines = [ln for ln in f if ln.split("=", 1)[0] not in OWN]
    lines += ["%s=%d\n" % (k, free_port(taken)) for k in OWN]
    with open(os.path.join(n.state, "stack.env"), "w") as f:
        f.writelines(lines)
    for extra in ("cognito.env", "aws-keys.json"):
        if os.path.exists(os.path.join(stack.state, extra)):
            shutil.copy(os.path.join(stack.state, extra), n.state)
    try:
        n.start("pool", "mailer", "reminders", "nginx")
        n.wait_ready()
        yield n
    finally:
        n.destroy()


def buy(node, email, code=None, plan="basic-1month"):
    body = {"planId": plan, "email": email}
    if code:
        body["code"] = code
    return node.post("/v1/purchases/create", body=body, source_ip=node.new_ip(), timeout=60)


def test_the_second_node_shares_the_first_ones_data(stack, node2):
    assert node2.https_port != stack.https_port
    assert node2.ports["AWS_ENDPOINT_URL_DYNAMODB"] == stack.ports["AWS_ENDPOINT_URL_DYNAMODB"]
    assert node2.pid("pool") != stack.pid("pool")
    d = assert_envelope(buy(stack, "two-nodes-probe@example.com"), 201)["data"]
    got = assert_envelope(node2.get("/v1/purchases/" + d["purchaseId"]), 200)["data"]
    assert got["purchaseId"] == d["purchaseId"]


def test_a_race_split_across_both_edges_keeps_the_exact_limit(stack, node2, ddb):  # noqa: F811
    code = "TWO" + uuid.uuid4().hex[:8].upper()
    coupon(ddb, code)
    n = 3 * LIMIT
    emails = ["two-%s-%d@example.com" % (code.lower(), i) for i in range(n)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(lambda i: buy((stack, node2)[i % 2], emails[i], code),
                                range(n)))
    by_node = [[r.status for r in results[k::2]] for k in (0, 1)]
    codes = [r.status for r in results]
    print("two nodes, %d purchases for %d uses: node 1 %s, node 2 %s" % (
        n, LIMIT, {s: by_node[0].count(s) for s in set(by_node[0])},
        {s: by_node[1].count(s) for s in set(by_node[1])}))
    assert codes.count(201) == LIMIT, sorted(set(codes))
    assert all(by.count(201) > 0 for by in by_node), by_node
    assert all(r.status == 409 and r.json["details"]["reason"] == "USAGE_LIMIT_REACHED"
               for r in results if r.status != 201)
    assert coupon_consistent(ddb, code) == LIMIT


def test_two_mailers_send_each_email_once(stack, node2, ddb):  # noqa: F811
    tag = uuid.uuid4().hex[:8]
    people = []
    for i in range(6):
        node = (stack, node2)[i % 2]
        email = "two-mail-%s-%d@example.com" % (tag, i)
        d = assert_envelope(buy(node, email), 201)["data"]
        # Stripe delivers to one edge or the other, as a balancer would send it.
        out = http_json("POST", stack.ports["STRIPE_API_BASE"] + "/__stripe/sessions/%s/complete"
                        % d["sessionId"], {"webhook_url": "https://localhost:%d/v1/webhook/stripe"
                                           % node.https_port})
        assert out["delivery"]["status"] == 200, out["delivery"]
        people.append((email, d["purchaseId"]))
    for email, pid in people:
        stack.wait_mail(email)
        assert [g["grantId"]["S"] for g in grants(ddb, email)] == [pid]
    time.sleep(2)        # several polls of both mailers (OUTBOX_POLL_MS, 300 ms)
    for email, _ in people:
        assert len(stack.mails(email)) == 1, [m["subject"] for m in stack.mails(email)]


def both(nodes, *args):
    """prodenthubctl ARGS run on each node at once, as each node's timer would."""
    jobs = [subprocess.Popen([os.path.join(BUILDDIR, "prodenthubctl")] + list(args),
                             env=dict(n.env, **n.ports), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for n in nodes]
    outs = [j.communicate(timeout=120) for j in jobs]
    assert all(j.returncode == 0 for j in jobs), outs
    return [o[0] for o in outs]


def test_timer_jobs_on_both_nodes_at_once_act_once(stack, node2, ddb):  # noqa: F811
    # Reminders: one each.
    eid = "two-nodes-" + uuid.uuid4().hex[:8]
    exam(ddb, eid, 20, title="Two Nodes Mock")
    people = ["two-remind-%s-%d@example.com" % (eid[-8:], i) for i in range(4)]
    for i, p in enumerate(people):
        assert_envelope(register((stack, node2)[i % 2], eid, p), 201)
    both((stack, node2), "send-reminders")
    for p in people:
        got = stack.wait_mail(p, count=2)                # the registration and the reminder
        assert sum("remind" in m["subject"].lower() for m in got) == 1, \
            [m["subject"] for m in got]
    # The sweep of abandoned checkouts: each coupon use given back once.
    code = "TWOSWEEP" + uuid.uuid4().hex[:6].upper()
    coupon(ddb, code)
    gone = []
    for i in range(6):
        d = assert_envelope(buy((stack, node2)[i % 2], "two-sweep-%s-%d@example.com"
                                % (code.lower(), i), code), 201)["data"]
        http_json("POST", stack.ports["STRIPE_API_BASE"] + "/__stripe/sessions/%s/expire"
                  % d["sessionId"], {"deliver": False})
        gone.append(d["purchaseId"])
    assert coupon_consistent(ddb, code) == 6
    time.sleep(1.1)     # createdAt has whole seconds: let "older than 0 s" include them
    outs = both((stack, node2), "sweep-checkouts", "--older-than", "0")
    released = [p for p in gone if any(p + " released" in o for o in outs)]
    assert sorted(released) == sorted(gone), outs
    # Given back once: a release the other node made first is a replay of the same
    # transaction (its idempotency token), which both may report; the count says once.
    assert coupon_consistent(ddb, code) == 0
    for p in gone:
        assert assert_envelope(stack.get("/v1/purchases/" + p, source_ip=stack.new_ip()),
                               200)["data"]["status"] == "expired"
    time.sleep(1.5)
    for p in people:
        assert sum("remind" in m["subject"].lower() for m in stack.mails(p)) == 1
