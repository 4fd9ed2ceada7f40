"""Shared fixtures: the shipped sample, the command line built beside the wheel."""
import os
import subprocess
from pathlib import Path

import numpy as np
import polars as pl
import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "debian-2k.parquet"


def cli_path():
    target = os.environ.get("CARGO_TARGET_DIR") or str(Path.home() / ".cache/embedscope/target")
    return Path(os.environ.get("EMBEDSCOPE_BIN", Path(target) / "release" / "embedscope"))


@pytest.fixture(scope="session")
def cli():
    """Runs the `embedscope` command line; returns (exit code, stdout, stderr)."""
    path = cli_path()
    if not path.exists():
        pytest.fail(f"{path} is missing: build it with `cargo build --release` (scripts/test.sh does)")

    def run(*args):
        p = subprocess.run([str(path), *map(str, args)], capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    return run


@pytest.fixture(scope="session")
def sample():
    return pl.read_parquet(SAMPLE)


@pytest.fixture(scope="session")
def vectors(sample):
    return sample["embedding"].to_numpy()


@pytest.fixture(scope="session")
def blobs():
    """Four well-separated groups of 100 rows in 32 dimensions."""
    rng = np.random.default_rng(7)
    centres = np.eye(4, 32, dtype=np.float32) * 5
    return np.vstack([c + rng.normal(scale=0.3, size=(100, 32)) for c in centres]).astype(np.float32)
