#!/usr/bin/env python3
"""A worker command for the queue-processor's exec mode (standard library only).

Run once per SQS message: the body arrives on standard input, the message's metadata in the environment
(SQS_MESSAGE_ID, SQS_RECEIVE_COUNT, SQS_QUEUE, SQS_FIRST_RECEIVED_AT, SQS_SENT_AT). Exit 0 when done (the
message is deleted); any other exit leaves it for a retry. What it prints goes to the worker's log.
"""
import json
import os
import sys
import time

job = json.load(sys.stdin)
time.sleep(float(job["duration"]))
print(f"done {job.get('id')} (receive {os.environ.get('SQS_RECEIVE_COUNT')})")
