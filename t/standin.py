"""What every local test server of ours shares (the SigV4 front, the IMDS, SSM and Bedrock
stand-ins): a threading HTTP server on 127.0.0.1, its port announced on stdout and, once
listening, written atomically to --port-file, a stop on SIGTERM or SIGINT, and a timestamped
log line on stderr.

    sys.path.insert(0, <this folder>)
    import standin
    log = standin.logger("ssm")
    server = standin.Server(("127.0.0.1", port), Handler)
    ...
    standin.serve(server, opts.port_file, log, "listening on 127.0.0.1:%d", port)
"""

import datetime
import http.server
import os
import signal
import sys


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def logger(name):
    """log(fmt, *args): one line on stderr, "HH:MM:SS.mmm name: message"."""
    def log(fmt, *args):
        sys.stderr.write("%s %s: %s\n" % (
            datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3], name,
            fmt % args if args else fmt))
        sys.stderr.flush()
    return log


def write_port_file(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def serve(server, port_file, log, banner, *args):
    """Announce the port, serve until SIGTERM or SIGINT, then clean up."""
    def stop(signum, frame):
        raise SystemExit(0)

    port = server.server_address[1]
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if port_file:
        write_port_file(port_file, port)
    print(port, flush=True)
    log(banner, *args)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if port_file:
            try:
                os.unlink(port_file)
            except OSError:
                pass
        log("stopped")
