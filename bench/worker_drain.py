"""Drain benchmark of the queue-processor against a private moto server on 127.0.0.1 (see worker-drain.sh)."""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import boto3

# The blueprint's Python worker (app.py, boto3), measured on the same emulator draining 500 messages.
BLUEPRINT = {"cpu_ms_per_msg": 13.2, "peak_rss_mib": 46.0, "requests_per_msg": 3.1, "msgs_per_sec": 11.5}
TARGETS = {"cpu_ms_per_msg": 0.5, "peak_rss_mib": 12.0, "requests_per_msg": 0.25, "msgs_per_sec": 5 * 11.5}
# The worker's throughput as a share of the emulator's ceiling (the leanest consumer on the same emulator).
CEILING_SHARE_TARGET = 0.90


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, limit=30):
    deadline = time.time() + limit
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=1).read()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"moto did not start at {url}")


def vm_hwm_kib(pid):
    """The process's peak resident set (VmHWM): of its own image only, unlike wait4's ru_maxrss, which also counts
    the forked copy of this Python process before exec (about 44 MiB with boto3 loaded)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1"}


def fill_queue(endpoint, n, name):
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    for start in range(0, n, 10):
        entries = [{"Id": str(i), "MessageBody": json.dumps({"id": i, "duration": 0})}
                   for i in range(start, min(start + 10, n))]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    return sqs, url


def wait_drained(sqs, url, process, started):
    """Polls the queue every 20 ms until it is empty and returns the seconds since `started`. The worker and the
    ceiling are timed by this same loop, so its own load on the emulator weighs on both alike."""
    while True:
        attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
            "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])["Attributes"]
        if int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"]) == 0:
            return time.perf_counter() - started
        if time.perf_counter() - started > 600:
            process.kill()
            sys.exit("the queue was not drained within 600 s")
        time.sleep(0.02)


def ceiling_once(args, endpoint, n, run_no):
    """The leanest consumer (receive 10, delete the batch, one request at a time) on the same emulator, timed the
    same way as the worker."""
    sqs, url = fill_queue(endpoint, n, f"ceiling-{os.getpid()}-{run_no}")
    env = {"PATH": os.environ.get("PATH", ""), "AWS_ENDPOINT_URL": endpoint, **AWS_ENV, "QUEUE_URL": url}
    started = time.perf_counter()
    consumer = subprocess.Popen([args.ceiling], env=env, stdout=subprocess.PIPE, text=True)
    elapsed = wait_drained(sqs, url, consumer, started)
    out, _ = consumer.communicate(timeout=60)
    report = json.loads(out.strip().splitlines()[-1])
    if consumer.returncode != 0 or report["messages"] != n:
        sys.exit(f"the lean consumer drained {report['messages']} of {n}")
    return n / elapsed


def run_once(args, endpoint, n, run_no, extra_env=None):
    env_aws = {"AWS_ENDPOINT_URL": endpoint, **AWS_ENV}
    sqs, url = fill_queue(endpoint, n, f"bench-{os.getpid()}-{run_no}-{len(extra_env or {})}")

    env = {"PATH": os.environ.get("PATH", ""), **env_aws, "QUEUE_URL": url, "LOG_FORMAT": "json",
           "RUST_LOG": "info", **(extra_env or {})}
    started = time.perf_counter()
    # The log goes to a file, not a pipe: with each message logged, a pipe read only at the end would fill and
    # block the worker.
    log = tempfile.TemporaryFile()
    worker = subprocess.Popen([args.worker], env=env, stdout=subprocess.DEVNULL, stderr=log)
    peak_kib = vm_hwm_kib(worker.pid)
    elapsed = wait_drained(sqs, url, worker, started)
    peak_kib = max(peak_kib, vm_hwm_kib(worker.pid))
    worker.send_signal(signal.SIGTERM)
    _, status, usage = os.wait4(worker.pid, 0)
    log.seek(0)
    stderr = log.read().decode()
    log.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"worker exited with {status}: {stderr[-2000:]}")
    stopped = [json.loads(l) for l in stderr.splitlines() if '"worker stopped"' in l]
    if not stopped or stopped[-1]["processed"] != n:
        sys.exit(f"worker did not report {n} processed: {stderr[-2000:]}")
    s = stopped[-1]
    # With RUST_LOG=...,message=debug the worker logs each message's measured processing time (the request's wall
    # time in HTTP mode).
    durations = [json.loads(l)["duration_secs"] for l in stderr.splitlines()
                 if '"processed"' in l and '"duration_secs"' in l]
    return {
        "mean_processing_ms": statistics.fmean(durations) * 1000 if durations else None,
        "messages": n,
        "wall_secs": elapsed,
        "msgs_per_sec": n / elapsed,
        # user+sys of the worker from wait4, start-up and shutdown included.
        "cpu_ms_per_msg": (usage.ru_utime + usage.ru_stime) * 1000 / n,
        "peak_rss_mib": peak_kib / 1024,
        "requests_per_msg": s["aws_requests"] / n,
        "requests": {k: s[k] for k in ("receive_requests", "delete_requests", "visibility_requests",
                                       "metric_requests")},
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("messages", nargs="?", type=int, default=500)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--json", help="also write the results to this file")
    p.add_argument("--worker", required=True)
    p.add_argument("--moto", required=True)
    p.add_argument("--ceiling", required=True, help="the lean consumer (examples/lean_consumer.rs)")
    p.add_argument("--http-app", help="a Python HTTP application: also compare HTTP mode with the built-in work")
    args = p.parse_args()

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen([args.moto, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    app = None
    app_port = free_port()
    if args.http_app:
        app = subprocess.Popen([sys.executable, args.http_app], env={**os.environ, "APP_PORT": str(app_port)})
    try:
        wait_http(endpoint)
        if app:
            wait_http(f"http://127.0.0.1:{app_port}")
        http_runs = []
        runs = []
        for i in range(args.runs):
            # Interleaved, so the worker and the ceiling see the emulator in the same state (moto slows as it
            # accumulates queues).
            run = run_once(args, endpoint, args.messages, i)
            run["ceiling_msgs_per_sec"] = ceiling_once(args, endpoint, args.messages, i)
            run["ceiling_share"] = run["msgs_per_sec"] / run["ceiling_msgs_per_sec"]
            runs.append(run)
            if app:
                # Same logging in both (each message's measured time), so the difference is HTTP mode's own.
                logged = {"RUST_LOG": "info,message=debug"}
                builtin = run_once(args, endpoint, args.messages, i, logged)
                http = run_once(args, endpoint, args.messages, i, {
                    **logged, "WORK_MODE": "http", "APP_PORT": str(app_port), "APP_HEALTH_PATH": "/health"})
                http_runs.append({
                    "builtin_cpu_ms_per_msg": builtin["cpu_ms_per_msg"], "http_cpu_ms_per_msg": http["cpu_ms_per_msg"],
                    "added_cpu_ms_per_msg": http["cpu_ms_per_msg"] - builtin["cpu_ms_per_msg"],
                    "builtin_processing_ms": builtin["mean_processing_ms"],
                    "http_processing_ms": http["mean_processing_ms"],
                    "added_latency_ms": http["mean_processing_ms"] - builtin["mean_processing_ms"],
                    "http_msgs_per_sec": http["msgs_per_sec"], "builtin_msgs_per_sec": builtin["msgs_per_sec"]})
    finally:
        if app:
            app.terminate()
            app.wait()
        moto.terminate()
        moto.wait()

    median = {k: statistics.median(r[k] for r in runs)
              for k in ("msgs_per_sec", "cpu_ms_per_msg", "peak_rss_mib", "requests_per_msg",
                        "ceiling_msgs_per_sec", "ceiling_share")}
    binary_mib = os.path.getsize(args.worker) / (1024 * 1024)
    print(f"queue-processor drain benchmark: {args.messages} zero-duration messages, {args.runs} runs, "
          f"private moto server, release binary {binary_mib:.1f} MiB")
    print(f"{'':26}{'median':>10}  {'runs':<36}{'blueprint':>10}{'target':>10}")
    rows = [("messages/s", "msgs_per_sec", "{:.0f}", ">="), ("CPU ms/message", "cpu_ms_per_msg", "{:.3f}", "<="),
            ("peak RSS MiB", "peak_rss_mib", "{:.1f}", "<="), ("requests/message", "requests_per_msg", "{:.3f}", "<=")]
    ok = True
    for label, key, fmt, op in rows:
        value = median[key]
        met = value >= TARGETS[key] if op == ">=" else value <= TARGETS[key]
        ok &= met
        runs_text = " ".join(fmt.format(r[key]) for r in runs)
        print(f"{label:26}{fmt.format(value):>10}  {runs_text:<36}{BLUEPRINT[key]:>10}{op + fmt.format(TARGETS[key]):>10}"
              f"  {'ok' if met else 'MISSED'}")
    share = median["ceiling_share"]
    runs_text = " ".join(f"{r['ceiling_share']:.0%}" for r in runs)
    ceiling_text = " ".join(f"{r['ceiling_msgs_per_sec']:.0f}" for r in runs)
    print(f"{'ceiling messages/s':26}{median['ceiling_msgs_per_sec']:>10.0f}  {ceiling_text:<36}"
          "(the leanest consumer: receive 10, delete the batch)")
    print(f"{'share of the ceiling':26}{share:>10.0%}  {runs_text:<36}{'':>10}{'>=' + format(CEILING_SHARE_TARGET, '.0%'):>10}"
          f"  {'ok' if share >= CEILING_SHARE_TARGET else 'MISSED'}")
    print("requests of the last run:", runs[-1]["requests"])
    http_median = {}
    if http_runs:
        http_median = {k: statistics.median(r[k] for r in http_runs) for k in http_runs[0]}
        print(f"\nHTTP mode against the built-in work ({os.path.basename(args.http_app)}: Python, standard library, "
              "answers 200 after the body's duration of 0), each message's time logged in both:")
        for label, key, target in [
            ("CPU ms/message, built-in", "builtin_cpu_ms_per_msg", None),
            ("CPU ms/message, HTTP", "http_cpu_ms_per_msg", None),
            ("added CPU ms/message", "added_cpu_ms_per_msg", 0.3),
            ("processing ms, built-in", "builtin_processing_ms", None),
            ("processing ms, HTTP", "http_processing_ms", None),
            ("added latency ms/message", "added_latency_ms", 1.0),
            ("messages/s, built-in", "builtin_msgs_per_sec", None),
            ("messages/s, HTTP", "http_msgs_per_sec", None),
        ]:
            runs_text = " ".join(f"{r[key]:.3f}" for r in http_runs)
            verdict = "" if target is None else (f"<={target:.3f}  " + ("ok" if http_median[key] <= target else "MISSED"))
            print(f"{label:26}{http_median[key]:>10.3f}  {runs_text:<36}{verdict:>20}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"median": median, "runs": runs, "http_median": http_median, "http_runs": http_runs, "blueprint": BLUEPRINT, "targets": TARGETS,
                       "binary_mib": binary_mib}, f, indent=2)


if __name__ == "__main__":
    main()
