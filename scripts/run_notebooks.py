#!/usr/bin/env python3
"""Executes notebooks/*.ipynb on their kernels ("embedscope-rust" (evcxr); "embedscope-python", the
Python package's venv), headless, and fails when a cell
errors or a cell tagged `expect-html` shows no text/html output.
Usage: run_notebooks.py [--write] [NOTEBOOK ...]
  --write  store the outputs in the committed notebooks (otherwise they are left unchanged)."""
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parent.parent
MAX_OUTPUT_BYTES = 400_000  # per notebook, so the committed files stay small


def strip_plotly_when_big(nb):
    """Keeps outputs small: the inline SVG in text/html stays, bulky plotly JSON goes."""
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            fig = data.get("application/vnd.plotly.v1+json")
            if fig is not None and len(str(fig)) > 50_000:
                del data["application/vnd.plotly.v1+json"]


def run(path, write):
    nb = nbformat.read(path, as_version=4)
    kernel = nb.metadata.get("kernelspec", {}).get("name", "embedscope-rust")
    client = NotebookClient(nb, kernel_name=kernel, timeout=3600, startup_timeout=120,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.time()
    timings = []
    problems = []
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.time()
            try:
                client.execute_cell(cell, i)
            except CellExecutionError as e:
                detail = " | ".join(
                    str(o.get("evalue") or o.get("text") or o.get("traceback") or "")[:1500]
                    for o in cell.outputs)
                problems.append(f"cell {i}: {e.ename}: {e.evalue[:1500]} {detail}")
                break
            timings.append((i, time.time() - t))
            errors = [o for o in cell.outputs if o.get("output_type") == "error"
                      or (o.get("output_type") == "stream" and o.get("name") == "stderr"
                          and "error" in o.get("text", "").lower())]
            if errors:
                problems.append(f"cell {i}: {errors[0]}")
            tags = cell.get("metadata", {}).get("tags", [])
            if "expect-html" in tags and not any(
                    "text/html" in o.get("data", {}) for o in cell.outputs):
                problems.append(f"cell {i}: no text/html output ({[o.get('output_type') for o in cell.outputs]})")
    total = time.time() - started
    first = timings[0][1] if timings else float("nan")
    print(f"{path.name}: {len(timings)} code cells in {total:.1f} s (first cell, the build: {first:.1f} s)")
    # Every cell's time: the first is the session's build, the second the first cell that
    # runs embedscope code, the rest what each further cell costs.
    print("  cells (s): " + " ".join(f"{t:.1f}" for _, t in timings))
    strip_plotly_when_big(nb)
    size = len(nbformat.writes(nb).encode())
    if size > MAX_OUTPUT_BYTES:
        problems.append(f"{path.name} with outputs is {size} bytes (limit {MAX_OUTPUT_BYTES})")
    if write and not problems:
        nbformat.write(nb, path)
        print(f"  stored outputs ({size} bytes)")
    return problems


def main():
    args = sys.argv[1:]
    write = "--write" in args
    paths = [Path(a).resolve() for a in args if a != "--write"] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    problems = []
    for p in paths:
        problems += [f"{p.name}: {x}" for x in run(p, write)]
    for p in problems:
        print("FAILED", p, file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
