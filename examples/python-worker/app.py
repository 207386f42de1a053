#!/usr/bin/env python3
"""A worker application in Python (standard library only) for the queue-processor's HTTP mode.

The queue-processor, in the same task, POSTs each SQS message's body here with sqsd's headers
(X-Aws-Sqsd-Msgid, X-Aws-Sqsd-Receive-Count, ...). Answer 2xx when the work is done: the message is
deleted. Any other answer leaves it for a retry, and after the queue's maxReceiveCount, for the DLQ.

This one does the blueprint's demo work (sleep for the body's "duration"); put yours in `work`.

    python3 app.py            # listens on 127.0.0.1:$APP_PORT (default 8080); GET /health answers 200
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def work(body: bytes, message_id: str) -> None:
    """The work of one message: raise to have it retried."""
    job = json.loads(body)
    time.sleep(float(job["duration"]))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses its connections

    def do_GET(self):
        self.answer(200 if self.path == "/health" else 404)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        message_id = self.headers.get("X-Aws-Sqsd-Msgid", "?")
        try:
            work(body, message_id)
        except Exception as e:  # the message is retried; say why in the answer and the log
            print(f"message {message_id} failed: {e!r}", file=sys.stderr, flush=True)
            self.answer(500, repr(e).encode())
            return
        self.answer(200)

    def answer(self, status, text=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass  # one line per message is the worker's job


if __name__ == "__main__":
    port = int(os.environ.get("APP_PORT", "8080"))
    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
