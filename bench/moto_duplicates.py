#!/usr/bin/env python3
"""Does the emulator hand one message to two receivers? A plain consumer, no worker code: N threads long-poll the
same queue (10 a receive, visibility timeout 30 s, far longer than the run's processing), delete at once what they
get, and count bodies received more than once. Any duplicate here is the emulator's, since nothing makes a message
visible again before its timeout.

    bench/moto_duplicates.py --endpoint http://127.0.0.1:PORT [--messages 20000] [--consumers 4] [--runs 3]

Prints one JSON line per run: messages, consumers, received, duplicates, seconds. Needs boto3 (the project venv has
it: .venv/bin/python bench/moto_duplicates.py ...).
"""
import argparse
import collections
import json
import threading
import time
import uuid

import boto3


def one_run(endpoint, messages, consumers):
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="local", aws_secret_access_key="local")
    url = sqs.create_queue(QueueName=f"dup-{uuid.uuid4().hex[:12]}",
                           Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    for start in range(0, messages, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(i), "MessageBody": str(start + i)} for i in range(min(10, messages - start))])
    seen = collections.Counter()
    lock = threading.Lock()
    done = threading.Event()

    def consume():
        client = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                              aws_access_key_id="local", aws_secret_access_key="local")
        while not done.is_set():
            got = client.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
            if got:
                client.delete_message_batch(QueueUrl=url, Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(got)])
            with lock:
                for m in got:
                    seen[m["Body"]] += 1
                if len(seen) >= messages:
                    done.set()

    started = time.monotonic()
    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    done.set()
    sqs.delete_queue(QueueUrl=url)
    return {
        "messages": messages,
        "consumers": consumers,
        "received": sum(seen.values()),
        "distinct": len(seen),
        "duplicates": sum(n - 1 for n in seen.values()),
        "seconds": round(time.monotonic() - started, 1),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--consumers", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    host = args.endpoint.split("//", 1)[-1].split(":", 1)[0]
    if host not in ("127.0.0.1", "localhost", "[::1]"):
        raise SystemExit("moto_duplicates.py: the endpoint must be a loopback address")
    for _ in range(args.runs):
        print(json.dumps(one_run(args.endpoint, args.messages, args.consumers)), flush=True)


if __name__ == "__main__":
    main()
