#!/usr/bin/python3
"""A stand-in for Amazon SNS delivering to an HTTPS subscription, for the tests and the local
stack: it signs messages as SNS does and serves what SNS serves to the subscriber.

    sns_standin.py --listen PORT [--topic-arn ARN] [--port-file FILE]

--listen 0 picks a free port; the port is printed on stdout (and written to --port-file once
listening).  Listens on 127.0.0.1 only; runs until SIGTERM/SIGINT.  Needs `cryptography`.

At start it makes an RSA 2048 key and a self-signed certificate (valid from a day ago for a
year), served at its SigningCertURL, http://127.0.0.1:PORT/SimpleNotificationService-<sha>.pem
(SNS's own is https://sns.<region>.amazonaws.com/SimpleNotificationService-<id>.pem).

Messages are signed as AWS documents ("Verifying the signatures of Amazon SNS messages"): the
string to sign is "Name\\nvalue\\n" for Message, MessageId, Subject (if any), Timestamp,
TopicArn, Type (a Notification) or Message, MessageId, SubscribeURL, Timestamp, Token,
TopicArn, Type (a SubscriptionConfirmation or UnsubscribeConfirmation); SignatureVersion 1
signs it with SHA1withRSA, 2 with SHA256withRSA, PKCS#1 v1.5; the signature in base64.
They are POSTed as SNS does: Content-Type text/plain; charset=UTF-8, x-amz-sns-message-type,
x-amz-sns-message-id, x-amz-sns-topic-arn (and x-amz-sns-subscription-arn for a
Notification), User-Agent "Amazon Simple Notification Service Agent".

Served to the subscriber (as SNS):
    GET /SimpleNotificationService-<sha>.pem          the certificate (PEM)
    GET /?Action=ConfirmSubscription&TopicArn=&Token= confirms; ConfirmSubscriptionResponse XML
                                                      (an unknown token: 404 NotFound XML)

Control (same port, JSON, no auth):
    POST /__sns/subscribe  {"endpoint", "topicArn"?, "signatureVersion"?: 1|2}
        delivers a SubscriptionConfirmation to endpoint; -> {"status", "body", "message"}
    POST /__sns/envelope   {"type"?: "Notification", "message": str|obj, "subject"?,
                            "topicArn"?, "signatureVersion"?, "messageId"?, "endpoint"?}
        -> the signed message, not delivered (tests change it and post it themselves)
    POST /__sns/publish    the same members; delivered to "endpoint", else to every confirmed
        subscription of the topic; -> {"deliveries": [{"endpoint","status","body"}], "message"}
    POST /__sns/ses        {"kind": "bounce"|"complaint", "recipients": [...],
                            "bounceType"?: "Permanent", "bounceSubType"?, "eventType"?: true,
                            "signatureVersion"?, "endpoint"?}
        publishes an SES event as SES's configuration set does (eventType Bounce/Complaint;
        "eventType": false gives notificationType, the identity notifications' form)
    GET  /__sns/stats      {"subscriptions": [{"endpoint","topicArn","confirmed"}],
                            "certFetches", "certHosts", "confirmations", "deliveries"}
"""

import argparse
import base64
import datetime
import hashlib
import http.server
import json
import os
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import standin  # noqa: E402  (t/standin.py)

log = standin.logger("sns")
SIGNED = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token",
                                 "TopicArn", "Type"),
}
SIGNED["UnsubscribeConfirmation"] = SIGNED["SubscriptionConfirmation"]


def make_cert():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=365))
            .sign(key, hashes.SHA256()))
    return key, cert.public_bytes(serialization.Encoding.PEM)


def string_to_sign(msg):
    out = ""
    for k in SIGNED[msg["Type"]]:
        if k in msg and msg[k] is not None:
            out += "%s\n%s\n" % (k, msg[k])
    return out.encode("utf-8")


def now_iso():
    t = datetime.datetime.now(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


class State:
    def __init__(self, port, topic):
        self.lock = threading.Lock()
        self.key, self.pem = make_cert()
        self.base = "http://127.0.0.1:%d" % port
        self.cert_path = "/SimpleNotificationService-%s.pem" % hashlib.sha256(
            self.pem).hexdigest()[:32]
        self.topic = topic
        self.subs = []                 # {"endpoint", "topicArn", "token", "confirmed", "arn"}
        self.cert_fetches = self.confirmations = self.deliveries = 0
        self.cert_hosts = []           # the Host header of each certificate fetch

    def sign(self, msg, version):
        h = hashes.SHA1() if int(version) == 1 else hashes.SHA256()
        sig = self.key.sign(string_to_sign(msg), padding.PKCS1v15(), h)
        msg["SignatureVersion"] = str(version)
        msg["Signature"] = base64.b64encode(sig).decode()
        msg["SigningCertURL"] = self.base + self.cert_path
        return msg

    def envelope(self, req):
        typ = req.get("type", "Notification")
        topic = req.get("topicArn") or self.topic
        message = req.get("message", "")
        if not isinstance(message, str):
            message = json.dumps(message)
        msg = {"Type": typ, "MessageId": req.get("messageId") or str(uuid.uuid4()),
               "TopicArn": topic, "Message": message, "Timestamp": now_iso()}
        if typ == "Notification":
            if req.get("subject") is not None:
                msg["Subject"] = req["subject"]
            msg["UnsubscribeURL"] = "%s/?Action=Unsubscribe&SubscriptionArn=%s:%s" % (
                self.base, topic, "sub")
        else:
            token = req.get("token") or uuid.uuid4().hex * 2
            msg["Token"] = token
            msg["SubscribeURL"] = "%s/?%s" % (self.base, urllib.parse.urlencode(
                {"Action": "ConfirmSubscription", "TopicArn": topic, "Token": token}))
        return self.sign(msg, req.get("signatureVersion", 1))

    def deliver(self, endpoint, msg):
        headers = {"Content-Type": "text/plain; charset=UTF-8",
                   "User-Agent": "Amazon Simple Notification Service Agent",
                   "x-amz-sns-message-type": msg["Type"],
                   "x-amz-sns-message-id": msg["MessageId"],
                   "x-amz-sns-topic-arn": msg["TopicArn"]}
        if msg["Type"] == "Notification":
            headers["x-amz-sns-subscription-arn"] = msg["TopicArn"] + ":sub"
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE        # the local stack's self-signed nginx
        req = urllib.request.Request(endpoint, data=json.dumps(msg).encode(), method="POST",
                                     headers=headers)
        with self.lock:
            self.deliveries += 1
        try:
            with urllib.request.urlopen(req, timeout=15, context=ctx) as r:
                status, body = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read().decode("utf-8", "replace")
        log("delivered %s %s to %s: %d", msg["Type"], msg["MessageId"], endpoint, status)
        return {"endpoint": endpoint, "status": status, "body": body}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else (
            body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        return json.loads(raw or b"{}")

    def do_GET(self):
        st = self.server.state
        url = urllib.parse.urlsplit(self.path)
        if url.path == st.cert_path:
            with st.lock:
                st.cert_fetches += 1
                st.cert_hosts.append(self.headers.get("Host", ""))
            log("certificate fetched as %s", self.headers.get("Host", ""))
            return self._send(200, st.pem, "application/x-x509-ca-cert")
        if url.path == "/__sns/stats":
            with st.lock:
                return self._send(200, {
                    "subscriptions": [{k: s[k] for k in ("endpoint", "topicArn", "confirmed")}
                                      for s in st.subs],
                    "certFetches": st.cert_fetches, "certHosts": st.cert_hosts,
                    "confirmations": st.confirmations,
                    "deliveries": st.deliveries})
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/" and q.get("Action") == "ConfirmSubscription":
            with st.lock:
                for s in st.subs:
                    if s["token"] == q.get("Token") and s["topicArn"] == q.get("TopicArn"):
                        s["confirmed"] = True
                        st.confirmations += 1
                        log("subscription %s confirmed", s["arn"])
                        return self._send(200, (
                            '<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/'
                            '2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>%s'
                            '</SubscriptionArn></ConfirmSubscriptionResult>'
                            '</ConfirmSubscriptionResponse>' % s["arn"]), "text/xml")
            return self._send(404, "<ErrorResponse><Error><Code>NotFound</Code></Error>"
                              "</ErrorResponse>", "text/xml")
        return self._send(404, {"error": "unknown path %s" % url.path})

    def do_POST(self):
        st = self.server.state
        path = urllib.parse.urlsplit(self.path).path
        try:
            req = self._body()
        except ValueError:
            return self._send(400, {"error": "not JSON"})
        if path == "/__sns/subscribe":
            topic = req.get("topicArn") or st.topic
            token = uuid.uuid4().hex * 2
            sub = {"endpoint": req["endpoint"], "topicArn": topic, "token": token,
                   "confirmed": False, "arn": "%s:%s" % (topic, uuid.uuid4())}
            with st.lock:
                st.subs.append(sub)
            msg = st.envelope({"type": "SubscriptionConfirmation", "topicArn": topic,
                               "token": token, "signatureVersion": req.get("signatureVersion", 1),
                               "message": "You have chosen to subscribe to the topic %s.\n"
                                          "To confirm the subscription, visit the SubscribeURL "
                                          "included in this message." % topic})
            got = st.deliver(req["endpoint"], msg)
            return self._send(200, dict(got, message=msg))
        if path == "/__sns/envelope":
            return self._send(200, st.envelope(req))
        if path in ("/__sns/publish", "/__sns/ses"):
            if path == "/__sns/ses":
                req = dict(req, message=ses_event(req))
            msg = st.envelope(req)
            if req.get("endpoint"):
                targets = [req["endpoint"]]
            else:
                with st.lock:
                    targets = [s["endpoint"] for s in st.subs
                               if s["confirmed"] and s["topicArn"] == msg["TopicArn"]]
            return self._send(200, {"deliveries": [st.deliver(t, msg) for t in targets],
                                    "message": msg})
        return self._send(404, {"error": "unknown control %s" % path})


def ses_event(req):
    """An SES event as a configuration set's SNS destination publishes it."""
    kind = req.get("kind", "bounce")
    key = "eventType" if req.get("eventType", True) else "notificationType"
    ts = now_iso()
    ev = {key: "Bounce" if kind == "bounce" else "Complaint",
          "mail": {"timestamp": ts, "source": "noreply@prodenthub.test",
                   "messageId": uuid.uuid4().hex, "destination": req.get("recipients", [])}}
    rcpts = [{"emailAddress": a} for a in req.get("recipients", [])]
    if kind == "bounce":
        permanent = req.get("bounceType", "Permanent") == "Permanent"
        ev["bounce"] = {"bounceType": req.get("bounceType", "Permanent"),
                        "bounceSubType": req.get("bounceSubType",
                                                 "General" if permanent else "MailboxFull"),
                        "bouncedRecipients": [dict(r, action="failed", status="5.1.1")
                                              for r in rcpts],
                        "timestamp": ts, "feedbackId": uuid.uuid4().hex}
    else:
        ev["complaint"] = {"complainedRecipients": rcpts, "timestamp": ts,
                           "feedbackId": uuid.uuid4().hex, "complaintFeedbackType": "abuse"}
    return json.dumps(ev)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", type=int, required=True, help="port on 127.0.0.1; 0 = any")
    ap.add_argument("--topic-arn", default="arn:aws:sns:ap-southeast-2:000000000000:"
                    "prodenthub-ses-events", help="the topic messages come from by default")
    ap.add_argument("--port-file", help="write the listening port here (atomically)")
    opts = ap.parse_args(argv)
    server = standin.Server(("127.0.0.1", opts.listen), Handler)
    port = server.server_address[1]
    server.state = State(port, opts.topic_arn)
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d, topic %s", port,
                  opts.topic_arn)


if __name__ == "__main__":
    main()
