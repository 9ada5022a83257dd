#!/usr/bin/env python3
"""Splits a profile of `orders bench b3` by who spends the CPU.

Reads `perf script -F comm,ip,sym` output (a DWARF call-graph profile) on
stdin and charges each sample to the part its innermost named frame belongs
to: the order's functions and the durable SDK, the SDK's AWS client
pipeline (`aws-sdk-lambda` and smithy), the engine (API, actors, execution
state), its store (the writer thread and the async side), the tokio runtime,
or the SDK's `LocalRunner`. See BENCHMARKS.md for how to record it.
"""

import collections
import sys

# (part, substrings of a frame's symbol); the innermost frame matching any wins.
PARTS = [
    ("LocalRunner", ["test_util"]),
    ("store (async side)", ["durable_engine::store"]),
    ("engine", ["durable_engine::", "axum::", "matchit::"]),
    ("SDK client pipeline", ["aws_smithy", "aws_sdk_lambda", "aws_runtime", "aws_sigv4"]),
    ("durable SDK and the order's code", ["aws_durable_execution_sdk", "order_functions", "order_domain"]),
    ("tokio runtime", ["tokio::"]),
]

# Threads charged whole, by name.
THREADS = {"store-writer": "store (writer thread)", "store-checkpoin": "store (checkpointer)"}


def part_of(thread: str, frames: list[str]) -> str:
    if thread in THREADS:
        return THREADS[thread]
    for frame in frames:
        for part, marks in PARTS:
            if any(mark in frame for mark in marks):
                return part
    return "other"


def samples(lines):
    thread, frames = None, []
    for line in lines:
        if not line.strip():
            if thread is not None:
                yield thread, frames
            thread, frames = None, []
        elif line[0] not in " \t":
            thread = line.split()[0] if line.split() else ""
        else:
            _, _, symbol = line.strip().partition(" ")
            frames.append(symbol)
    if thread is not None:
        yield thread, frames


def main() -> None:
    parts = collections.Counter(part_of(t, f) for t, f in samples(sys.stdin))
    total = sum(parts.values()) or 1
    print(f"{total} samples")
    for part, count in parts.most_common():
        print(f"  {100 * count / total:5.1f} %  {part}")


if __name__ == "__main__":
    main()
