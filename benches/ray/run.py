"""The audit on a local Ray cluster with WORKERS worker CPUs, timed, with the peak memory of
each Ray worker process and of the driver sampled every 0.5 s from /proc: PSS (the process'
own pages plus its share of pages it maps with others; the object store's shared memory would
otherwise count in full in every worker that reads it) and RSS.
Usage: run.py SHARDS_DIR WORKERS OUT.json [sample [object_store_MiB]]
(also writes OUT.html and OUT.audit.json; the object store: Ray's default, 30% of RAM, unless
given)"""
import json
import os
import sys
import threading
import time

import ray

import embedscope.ray as er

shards, workers, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
sample = int(sys.argv[4]) if len(sys.argv) > 4 else 50_000
peaks = {}
stop = threading.Event()


def pss_mib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None


def sample_memory():
    while not stop.is_set():
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")[0].decode(errors="replace")
            except OSError:
                continue
            if cmd.startswith("ray::") or int(pid) == os.getpid():
                r = pss_mib(pid)
                if r:
                    key = "driver" if int(pid) == os.getpid() else f"{cmd} {pid}"
                    peaks[key] = max(peaks.get(key, 0), r)
        time.sleep(0.5)


store = int(sys.argv[5]) * 2**20 if len(sys.argv) > 5 else None
ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, object_store_memory=store)
ray.data.DataContext.get_current().enable_progress_bars = False
t = threading.Thread(target=sample_memory, daemon=True)
t.start()
started = time.monotonic()
result = er.audit(shards, sample=sample, stability_runs=5)
seconds = time.monotonic() - started
# The whole dataset's report and audit.json, assembled by the core (not in `seconds`).
result.write_html(out.rsplit(".", 1)[0] + ".html")
result.write_json(out.rsplit(".", 1)[0] + ".audit.json")
stop.set()
t.join()
ray.shutdown()
workers_peak = sorted(((round(v), k) for k, v in peaks.items() if k != "driver"), reverse=True)
doc = {"seconds": seconds, "driver_peak_pss_mib": peaks.get("driver"),
       "worker_peak_pss_mib": workers_peak[:8], "summary": result.summary}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
print(json.dumps({k: v for k, v in doc.items() if k != "summary"}), result)
print(json.dumps(result.summary["timings"]))
