#!/usr/bin/env python3
"""clang-tidy over every C and C++ file the build compiles (CI runs it).

The checks are the checked-in .clang-tidy (bugprone-, concurrency- and
performance- families); every finding fails. A finding that is wrong carries
an inline NOLINT(<check>) with the reason beside it.

The compile database comes from a build directory configured for clang
(build/tidy, never built, with the fuzz targets on): g++ builds omit -std when g++'s default suffices,
and clang's default is older, so a g++ database would be parsed as C++14.

A full run takes about 20 minutes of CPU (Boost.Beast is heavy to parse), so
clean results are cached by a hash of the file preprocessed with its
comments (every header it includes, every NOLINT), its command, the
configuration and the clang-tidy version: an unchanged file is not checked
again. The cache lives in $EDGE_TIDY_CACHE (default ~/.cache/edge-tidy).

Usage: tools/check_tidy.py [--jobs N] [FILE...]   (default: every file)
"""
from __future__ import annotations

import argparse
import concurrent.futures
import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "tidy"
CACHE = Path(os.environ.get("EDGE_TIDY_CACHE", Path.home() / ".cache" / "edge-tidy"))
TIDY = "clang-tidy-14"


def configure() -> list[dict]:
    subprocess.run(
        ["cmake", "-S", str(ROOT), "-B", str(BUILD), "-G", "Ninja",
         "-DCMAKE_C_COMPILER=clang", "-DCMAKE_CXX_COMPILER=clang++",
         "-DCMAKE_EXPORT_COMPILE_COMMANDS=ON", "-DEDGE_FUZZ=ON"],
        check=True, stdout=subprocess.DEVNULL)
    entries = json.loads((BUILD / "compile_commands.json").read_text())
    # The project's own files, each once (the fuzz build compiles the host a
    # second time, with sanitizers), not anything generated into the build tree.
    by_file: dict[str, dict] = {}
    for entry in entries:
        file = Path(entry["file"])
        if file.is_relative_to(ROOT) and not file.is_relative_to(ROOT / "build"):
            by_file.setdefault(entry["file"], entry)
    return list(by_file.values())


def preprocess_command(entry: dict) -> list[str]:
    """The entry's compile command, made to print the preprocessed file with
    its comments and without line markers (so the hash does not depend on
    where the checkout is)."""
    words = shlex.split(entry["command"])
    out: list[str] = []
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word == "-o":
            skip = True
            continue
        if word == "-c":
            continue
        out.append(word)
    return out + ["-E", "-P", "-C", "-o", "-"]


def cache_key(entry: dict, config: bytes, version: bytes) -> str:
    preprocessed = subprocess.run(preprocess_command(entry), cwd=entry["directory"], check=True,
                                  capture_output=True).stdout
    # __FILE__ (doctest, assert) expands to the checkout's path: a clone
    # elsewhere with the same content reuses the results.
    preprocessed = preprocessed.replace(str(ROOT).encode(), b"<root>")
    digest = hashlib.sha256()
    for part in (version, config, entry["command"].replace(str(ROOT), "<root>").encode(),
                 Path(entry["file"]).relative_to(ROOT).as_posix().encode(), preprocessed):
        digest.update(len(part).to_bytes(8, "little"))
        digest.update(part)
    return digest.hexdigest()


def check(entry: dict, config: bytes, version: bytes) -> tuple[str, bool, bool, str]:
    """(file, clean, from cache, findings)."""
    file = Path(entry["file"]).relative_to(ROOT).as_posix()
    key = cache_key(entry, config, version)
    stamp = CACHE / key[:2] / key
    if stamp.exists():
        return file, True, True, ""
    result = subprocess.run(
        [TIDY, "-p", str(BUILD), "--quiet", "--warnings-as-errors=*", entry["file"]],
        cwd=ROOT, capture_output=True, text=True)
    clean = result.returncode == 0
    if clean:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        stamp.write_text(file + "\n")
    findings = "\n".join(line for line in result.stdout.splitlines() if line.strip())
    return file, clean, False, findings or result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("files", nargs="*", help="only these files (paths from the project root)")
    args = parser.parse_args()

    entries = configure()
    if args.files:
        wanted = {(ROOT / f).resolve() for f in args.files}
        entries = [e for e in entries if Path(e["file"]).resolve() in wanted]
        if not entries:
            print("check_tidy: none of those files is in the compile database", file=sys.stderr)
            return 2
    config = (ROOT / ".clang-tidy").read_bytes()
    version = subprocess.run([TIDY, "--version"], check=True, capture_output=True).stdout

    failed: list[str] = []
    cached = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for file, clean, from_cache, findings in pool.map(lambda e: check(e, config, version),
                                                          entries):
            cached += from_cache
            if not clean:
                failed.append(file)
                print(f"check_tidy: {file}:\n{findings}\n", flush=True)
    if failed:
        print(f"check_tidy: {len(failed)} of {len(entries)} files have findings: "
              + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"check_tidy: {len(entries)} files clean ({cached} unchanged since a clean check)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
