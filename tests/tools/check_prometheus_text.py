#!/usr/bin/env python3
"""Validates Prometheus text exposition (0.0.4) read from stdin.

Parses it with the official Python client's parser (Debian's
python3-prometheus-client), then checks what that lax parser lets through:
a sample outside its family's block (the parser turns it into an untyped
singleton), a family written twice, a family without HELP, histogram buckets
that are not cumulative or lack +Inf, and _count differing from the +Inf
bucket.

Prints "ok: N families, M samples" and exits 0, or prints one line per
problem to stderr and exits 1. Exit 2: the parser module is missing.
"""
import collections
import math
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as error:
    print(f"check_prometheus_text: {error} (install python3-prometheus-client)", file=sys.stderr)
    sys.exit(2)


def label_key(labels, without=()):
    return tuple(sorted((k, v) for k, v in labels.items() if k not in without))


def check_histogram(family, problems):
    buckets = collections.defaultdict(list)
    counts = {}
    for sample in family.samples:
        if sample.name == family.name + "_bucket":
            buckets[label_key(sample.labels, ("le",))].append(
                (float(sample.labels["le"]), sample.value))
        elif sample.name == family.name + "_count":
            counts[label_key(sample.labels)] = sample.value
    for key, series in buckets.items():
        bounds = [bound for bound, _ in series]
        if bounds != sorted(bounds):
            problems.append(f"{family.name}{dict(key)}: le bounds out of order")
        if not bounds or not math.isinf(bounds[-1]):
            problems.append(f"{family.name}{dict(key)}: no le=\"+Inf\" bucket")
            continue
        values = [value for _, value in series]
        if any(later < earlier for earlier, later in zip(values, values[1:])):
            problems.append(f"{family.name}{dict(key)}: bucket counts are not cumulative")
        if counts.get(key) != values[-1]:
            problems.append(f"{family.name}{dict(key)}: _count {counts.get(key)} != +Inf bucket {values[-1]}")


def main():
    text = sys.stdin.read()
    if text and not text.endswith("\n"):
        print("the exposition does not end with a newline", file=sys.stderr)
        return 1
    problems = []
    seen = set()
    samples = 0
    try:
        families = list(text_string_to_metric_families(text))
    except Exception as error:  # the parser raises ValueError and friends
        print(f"parse error: {error}", file=sys.stderr)
        return 1
    for family in families:
        if family.type == "untyped":
            problems.append(f"sample {family.samples[0].name} is outside its family's block (or has no TYPE)")
        if family.name in seen:
            problems.append(f"family {family.name} appears more than once")
        seen.add(family.name)
        if not family.documentation:
            problems.append(f"family {family.name} has no HELP text")
        if family.type == "histogram":
            check_histogram(family, problems)
        samples += len(family.samples)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"ok: {len(families)} families, {samples} samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
