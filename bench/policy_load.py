#!/usr/bin/env python3
"""Load for a Postfix policy server (moat's, postgrey, policyd-spf).

Opens --connections persistent connections, as Postfix's smtpd processes
keep theirs, and sends --requests requests in all over them: each
connection sends one request and waits for its answer before the next
(as Postfix does), or keeps --pipeline requests in flight. Prints requests
per second and the latency of one request (p50, p99) as the client sees it.

  bench/policy_load.py inet:127.0.0.1:10040 --connections 50 --requests 100000
  bench/policy_load.py unix:/run/moat/policy --pipeline 8

Each request has its own client address, sender and instance, so a
greylisting server sees new triplets unless --same-triplet is given.
"""

import argparse
import asyncio
import sys
import time


def make_request(n, same_triplet):
    k = 0 if same_triplet else n
    return (
        "request=smtpd_access_policy\n"
        "protocol_state=RCPT\n"
        "protocol_name=ESMTP\n"
        f"client_address=198.51.{k // 256 % 256}.{k % 256}\n"
        "client_name=mail.example.com\n"
        "reverse_client_name=mail.example.com\n"
        "helo_name=mail.example.com\n"
        f"sender=sender{k}@example.com\n"
        "recipient=postmaster@example.net\n"
        "recipient_count=0\n"
        f"queue_id=\ninstance=bench.{n}\n"
        "size=0\n\n"
    ).encode()


async def open_connection(target):
    kind, _, rest = target.partition(":")
    if kind == "unix":
        return await asyncio.open_unix_connection(rest, limit=1 << 20)
    if kind == "inet":
        host, _, port = rest.rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port), limit=1 << 20)
    sys.exit(f"target {target!r}: expected inet:HOST:PORT or unix:/PATH")


async def run_connection(target, counter, total, pipeline, same_triplet, latencies, actions):
    reader, writer = await open_connection(target)
    sent_at = []  # send times of the requests in flight, oldest first
    try:
        while True:
            while len(sent_at) < pipeline and counter[0] < total:
                n = counter[0]
                counter[0] += 1
                writer.write(make_request(n, same_triplet))
                sent_at.append(time.perf_counter())
            if not sent_at:
                return
            await writer.drain()
            answer = await reader.readuntil(b"\n\n")
            latencies.append(time.perf_counter() - sent_at.pop(0))
            action = answer.decode(errors="replace").split("\n", 1)[0]
            actions[action] = actions.get(action, 0) + 1
    finally:
        writer.close()


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


async def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="inet:HOST:PORT or unix:/PATH")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20000, help="in all")
    parser.add_argument("--pipeline", type=int, default=1, help="requests in flight per connection")
    parser.add_argument("--same-triplet", action="store_true")
    args = parser.parse_args()

    counter = [0]
    latencies = []
    actions = {}
    start = time.perf_counter()
    await asyncio.gather(
        *(
            run_connection(
                args.target, counter, args.requests, args.pipeline, args.same_triplet, latencies,
                actions
            )
            for _ in range(args.connections)
        )
    )
    elapsed = time.perf_counter() - start
    latencies.sort()
    print(
        f"{len(latencies)} requests over {args.connections} connections "
        f"(pipeline {args.pipeline}) in {elapsed:.2f} s: {len(latencies) / elapsed:.0f} requests/s, "
        f"p50 {percentile(latencies, 0.50) * 1e3:.3f} ms, p99 {percentile(latencies, 0.99) * 1e3:.3f} ms"
    )
    for action, count in sorted(actions.items(), key=lambda item: -item[1]):
        print(f"  {count:8d}  {action}")


if __name__ == "__main__":
    asyncio.run(main())
