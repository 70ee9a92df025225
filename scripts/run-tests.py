#!/usr/bin/env python3
"""Runs the test bundle the way `make test` wants it, with a watchdog and one bounded retry.

`swift test` is started with the arguments given after `--`; its output is passed through and parsed for
Swift Testing's "started" / "passed" / "failed" lines. Two failure modes of a long suite on a small machine are
handled instead of hanging CI for 90 minutes:

* the process goes silent (no output for --idle seconds) or runs past --limit seconds: it is killed and the
  tests that had started but not ended count as failed;
* a few tests fail: they are run once more, alone (`--filter`). A test that fails again fails the run.

Every test that needed the second run is printed under "FLAKY", so flakiness stays visible.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

STARTED = re.compile(r"^◇ Test (.+?) started\.$")
ENDED = re.compile(r"^[✔✘] Test (.+) (?:passed|failed) after ")
FAILED = re.compile(r"^✘ Test (.+?) (?:failed after |recorded an issue )")
SKIPPED = re.compile(r"^[↷➜] Test (.+) skipped")


def normalize(name):
    """`foo(_:) with 5 test cases` → `foo(_:)`; `"display name" with …` → `"display name"`."""
    if name.startswith('"'):
        end = name.find('"', 1)
        return name[: end + 1] if end > 0 else name
    end = name.find(")")
    return name[: end + 1] if end > 0 else name


def run(command, idle, limit):
    """Runs `command`, streaming its output; returns (exit code or None if killed, started, ended, failed)."""
    started, ended, failed = set(), set(), set()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    last = [time.monotonic()]
    begun = time.monotonic()
    killed = [False]

    def watchdog():
        while process.poll() is None:
            time.sleep(5)
            now = time.monotonic()
            if now - last[0] > idle or now - begun > limit:
                reason = "silent for %d s" % (now - last[0]) if now - last[0] > idle else "over %d s" % limit
                sys.stdout.write("\nrun-tests: the test process is %s; stopping it\n" % reason)
                sys.stdout.flush()
                killed[0] = True
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return

    threading.Thread(target=watchdog, daemon=True).start()
    for raw in process.stdout:
        last[0] = time.monotonic()
        line = raw.decode("utf-8", "replace")
        sys.stdout.write(line)
        text = line.rstrip("\n")
        if text.startswith(("◇ Test case ", "✔ Test case ", "✘ Test case ")):
            continue  # one case of a parameterized test; the test's own lines cover it
        match = STARTED.match(text)
        if match and match.group(1) != "run":
            started.add(normalize(match.group(1)))
        match = ENDED.match(text) or SKIPPED.match(text)
        if match:
            ended.add(normalize(match.group(1)))
        match = FAILED.match(text)
        if match:
            failed.add(normalize(match.group(1)))
    sys.stdout.flush()
    code = process.wait()
    return (None if killed[0] else code), started, ended, failed


def function_names(names, roots):
    """Maps Swift Testing names to `--filter` patterns: `foo()` / `foo(_:)` stay; a display name ("...") is looked
    up in the test sources as `@Test("...") func name(`."""
    patterns = []
    for name in sorted(names):
        if name.startswith('"'):
            display = name.strip('"')
            found = None
            for root in roots:
                for folder, _, files in os.walk(root):
                    for file in files:
                        if not file.endswith(".swift"):
                            continue
                        with open(os.path.join(folder, file), encoding="utf-8", errors="replace") as handle:
                            source = handle.read()
                        at = source.find('"%s"' % display)
                        if at >= 0:
                            function = re.search(r"func\s+(\w+)\s*\(", source[at:])
                            if function:
                                found = function.group(1)
                                break
                    if found:
                        break
                if found:
                    break
            if found is None:
                return None
            patterns.append(r"\b%s\(" % found)
        else:
            base = name.split("(")[0]
            patterns.append(r"\b%s\(" % re.escape(base))
    return patterns


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle", type=int, default=240, help="seconds without output before the run is stopped")
    parser.add_argument("--limit", type=int, default=1500, help="seconds a run may take")
    parser.add_argument("--max-retries", type=int, default=12, help="most failed tests that are retried")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    command = options.command[1:] if options.command[:1] == ["--"] else options.command

    code, started, ended, failed = run(command, options.idle, options.limit)
    unfinished = started - ended
    suspects = {name for name in failed | unfinished if not name.startswith("run ")}
    if code == 0 and not suspects:
        return 0
    if code not in (0, 1, None) and not suspects:
        print("run-tests: the test process exited with %s before any test failed" % code)
        return code or 1
    if not suspects or len(suspects) > options.max_retries:
        print("run-tests: %d test(s) failed or did not finish; not retrying" % len(suspects))
        return 1
    patterns = function_names(suspects, ["Tests"])
    if patterns is None:
        print("run-tests: cannot map every failed test to its function; not retrying")
        return 1
    print("\nrun-tests: retrying %d test(s) alone: %s\n" % (len(suspects), ", ".join(sorted(suspects))))
    retry = command + ["--filter", "|".join(patterns)]
    code, _, _, failed_again = run(retry, options.idle, options.limit)
    if code == 0 and not failed_again:
        print("\nFLAKY (failed or hung in the full run, passed alone): %s" % ", ".join(sorted(suspects)))
        return 0
    print("\nrun-tests: failed again: %s" % ", ".join(sorted(failed_again)) if failed_again else "\nrun-tests: the retry failed")
    return 1


if __name__ == "__main__":
    sys.exit(main())
