#!/usr/bin/env python3
"""The explorable report's size and load time in headless Chromium.

Usage: load.py [--runs N] REPORT.html ...

For each page: its size, the embedded map data's size (base64 of gzip), and the time from
navigation start until every chart has drawn and the map's data is inflated and plotted (the
page logs `embedscope-ready-ms N` when opened as `file.html#timing`), over N runs (median, min,
max). Chromium (Debian's, or $EMBEDSCOPE_CHROMIUM) runs headless with swiftshader WebGL, as the
browser test runs it; each run is a fresh browser profile, so nothing is cached between runs."""
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def chromium():
    return os.environ.get("EMBEDSCOPE_CHROMIUM") or shutil.which("chromium") or "chromium"


def load_ms(page, timeout=120):
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--use-gl=swiftshader",
             "--enable-unsafe-swiftshader", "--no-first-run", "--enable-logging=stderr", "--v=0",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--window-size=1300,1000",
             f"--user-data-dir={profile}", f"file://{Path(page).resolve()}#timing"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
        started = time.time()
        try:
            for line in proc.stderr:
                m = re.search(r"embedscope-ready-ms (\d+)", line)
                if m:
                    return int(m.group(1)), time.time() - started
                if time.time() - started > timeout:
                    break
            raise RuntimeError(f"{page}: no ready line within {timeout} s")
        finally:
            # The whole browser (its renderer and GPU processes too).
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def main():
    args = sys.argv[1:]
    runs = 5
    if args[:1] == ["--runs"]:
        runs, args = int(args[1]), args[2:]
    print("| page | size | map data | plotted | load (median, min-max) |")
    print("|---|---|---|---|---|")
    for page in args:
        html = Path(page).read_text()
        data = re.search(r'id="explore-data">([^<]*)</script>', html)
        data_mb = len(data.group(1)) / 1e6 if data else 0.0
        plotted = re.search(r"(\d+) of (\d+) documents \(a seeded sample\)", html)
        times = [load_ms(page)[0] for _ in range(runs)]
        print(f"| {Path(page).name} | {len(html.encode()) / 1e6:.2f} MB | {data_mb:.2f} MB | "
              f"{plotted.group(1) if plotted else 'all'} | {statistics.median(times) / 1000:.2f} s "
              f"({min(times) / 1000:.2f}-{max(times) / 1000:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
