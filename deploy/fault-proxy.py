#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the local AWS emulator, for the fault suite (case 5).

It forwards every request to --upstream unchanged, except that while the fault window is open (--for-secs from
start) it answers about --rate of them itself, half with a 500 InternalFailure and half with a throttling error,
each in the request's protocol (JSON for SQS and Application Auto Scaling, XML for the CloudWatch query API), so
the AWS SDK classifies them as it would real ones. With --only-matching TEXT only requests whose body holds TEXT
(one queue's name, say) are faulted. Listens on 127.0.0.1 only; prints its port on the first line of
stdout; writes its counts as JSON to --stats after every request. Standard library only.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import sys
import threading
import time
import urllib.parse

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the emulator")
    ap.add_argument("--rate", type=float, default=0.1, help="share of requests answered with a fault")
    ap.add_argument("--for-secs", type=float, default=60.0, help="length of the fault window from start")
    ap.add_argument("--stats", required=True, help="file the counts are written to")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--only-matching", default="",
                    help="only requests whose body holds this text are faulted (e.g. one queue's name)")
    args = ap.parse_args()
    upstream = urllib.parse.urlparse(args.upstream)
    if upstream.hostname not in ("127.0.0.1", "localhost", "::1"):
        sys.exit("fault-proxy: the upstream must be a loopback address")
    rng = random.Random(args.seed)
    lock = threading.Lock()
    started = time.monotonic()
    stats = {"requests": 0, "forwarded": 0, "injected_5xx": 0, "injected_throttling": 0,
             "in_window": 0, "window_secs": args.for_secs, "rate": args.rate}

    def save():
        tmp = args.stats + ".tmp"
        with open(tmp, "w") as f:
            json.dump(stats, f)
        os.replace(tmp, args.stats)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def fault(self, throttle):
            ctype = self.headers.get("Content-Type", "")
            if "x-amz-json" in ctype:
                code = "ThrottlingException" if throttle else "InternalFailure"
                body = json.dumps({"__type": code, "message": "injected by fault-proxy"}).encode()
                out_type = ctype
            else:
                code = "Throttling" if throttle else "InternalFailure"
                body = (f"<ErrorResponse><Error><Type>{'Sender' if throttle else 'Receiver'}</Type><Code>{code}</Code>"
                        f"<Message>injected by fault-proxy</Message></Error><RequestId>fault</RequestId></ErrorResponse>").encode()
                out_type = "text/xml"
            self.send_response(400 if throttle else 500)
            self.send_header("Content-Type", out_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("x-amzn-RequestId", "fault")
            self.end_headers()
            self.wfile.write(body)

        def handle_any(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                stats["requests"] += 1
                in_window = time.monotonic() - started < args.for_secs
                eligible = args.only_matching.encode() in body
                hit = in_window and eligible and rng.random() < args.rate
                throttle = rng.random() < 0.5
                if in_window:
                    stats["in_window"] += 1
                if hit:
                    stats["injected_throttling" if throttle else "injected_5xx"] += 1
                else:
                    stats["forwarded"] += 1
                save()
            if hit:
                self.fault(throttle)
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except OSError as e:
                self.send_error(502, f"upstream: {e}")
                return
            finally:
                conn.close()
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    save()
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
