#!/usr/bin/env python3
"""Test application for the worker's HTTP mode: records every request (headers and body, one JSON line each,
before it works) and misbehaves on demand.

    recording_app.py PORT RECORD_FILE [--start-delay S] [--crash-on N] [--status CODE] [--record-ends]

Bodies are the blueprint's {"id":..,"duration":..}; a body with "hang": true never answers; "fail": true
answers 500. --crash-on N: the N-th POST kills the process before answering. --status: every POST
answers CODE. --record-ends: a line {"end": BODY, "headers": ...} is also written when a POST's work is done,
before it answers (the FIFO order test reads starts and ends). GET /health answers 200.
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

args = argparse.ArgumentParser()
args.add_argument("port", type=int)
args.add_argument("record")
args.add_argument("--start-delay", type=float, default=0)
args.add_argument("--crash-on", type=int, default=0)
args.add_argument("--status", type=int, default=200)
args.add_argument("--record-ends", action="store_true")
opts = args.parse_args()
lock = threading.Lock()
posts = 0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.answer(200 if self.path == "/health" else 404)

    def do_POST(self):
        global posts
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with lock:
            posts += 1
            n = posts
            with open(opts.record, "a") as f:
                f.write(json.dumps({"path": self.path, "headers": dict(self.headers), "body": body.decode()}) + "\n")
        if opts.crash_on and n == opts.crash_on:
            os._exit(3)
        job = json.loads(body)
        if job.get("hang"):
            time.sleep(3600)
        time.sleep(float(job.get("duration", 0)))
        if opts.record_ends:
            with lock:
                with open(opts.record, "a") as f:
                    f.write(json.dumps({"end": body.decode(), "headers": dict(self.headers)}) + "\n")
        self.answer(500 if job.get("fail") else opts.status)

    def answer(self, status):
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


time.sleep(opts.start_delay)
ThreadingHTTPServer(("127.0.0.1", opts.port), Handler).serve_forever()
