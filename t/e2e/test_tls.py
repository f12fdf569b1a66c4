"""TLS at the edge: 1.2 and 1.3 only, forward-secret AEAD suites only (no CBC, no static RSA
key exchange), no session tickets (resumption from the server's cache instead)."""

import socket
import ssl
import warnings

import pytest

# nginx/prodenthub-site.conf.in's ssl_ciphers (TLS 1.2) and TLS 1.3's suites.
ALLOWED = {
    "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
}


def client(stack, version=None, ciphers=None):
    """A client context trusting the stack's certificate, able to offer anything asked
    (security level 0, so this side never refuses first)."""
    ctx = ssl.create_default_context(cafile=stack.state + "/tls/cert.pem")
    if version:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)     # TLS 1.0 and 1.1, on purpose
            ctx.minimum_version = ctx.maximum_version = version
    ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    return ctx


def handshake(stack, ctx, session=None):
    raw = socket.create_connection(("127.0.0.1", stack.https_port), timeout=5)
    tls = ctx.wrap_socket(raw, server_hostname="localhost", session=session)
    try:
        tls.sendall(b"GET /v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        answer = b""
        while True:
            chunk = tls.recv(4096)
            if not chunk:
                break
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        return tls.version(), tls.cipher()[0], tls.session, tls.session_reused
    finally:
        tls.close()


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_modern_versions_get_forward_secret_aead_suites(stack, version):
    got, cipher, _, _ = handshake(stack, client(stack, version))
    assert got == {ssl.TLSVersion.TLSv1_2: "TLSv1.2", ssl.TLSVersion.TLSv1_3: "TLSv1.3"}[version]
    assert cipher in ALLOWED, cipher


@pytest.mark.parametrize("version,ciphers,why", [
    (ssl.TLSVersion.TLSv1, None, "PROTOCOL_VERSION"),
    (ssl.TLSVersion.TLSv1_1, None, "PROTOCOL_VERSION"),
    # CBC suites, forward-secret or not.
    (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:"
     "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES128-SHA",
     "HANDSHAKE_FAILURE"),
    # Static RSA key exchange (no forward secrecy), even with GCM.
    (ssl.TLSVersion.TLSv1_2, "AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA",
     "HANDSHAKE_FAILURE"),
])
def test_old_versions_and_weak_suites_are_refused(stack, version, ciphers, why):
    with pytest.raises(ssl.SSLError) as e:
        handshake(stack, client(stack, version, ciphers))
    # The server's alert, not a refusal of our own side.
    assert why in str(e.value), e.value


def test_no_session_tickets_but_resumption_from_the_cache(stack):
    ctx = client(stack, ssl.TLSVersion.TLSv1_2)
    _, _, session, reused = handshake(stack, ctx)
    assert not reused and session is not None
    assert not session.has_ticket
    _, _, _, reused = handshake(stack, ctx, session=session)
    assert reused
