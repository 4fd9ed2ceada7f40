"""Progress callbacks: the core calls ``callback(stage, done, total)`` when a stage starts, at
most every 100 ms while it runs, and when it ends."""

import sys
import time


class _Bars:
    """One tqdm bar per stage (or plain lines on stderr without tqdm)."""

    def __init__(self, file=None):
        self.file = file
        self.stage = None
        self.bar = None
        self.started = 0.0
        try:
            from tqdm.auto import tqdm
        except ImportError:  # pragma: no cover - tqdm is optional
            tqdm = None
        self.tqdm = tqdm

    def __call__(self, stage, done, total):
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.started = time.monotonic()
            if self.tqdm is not None:
                self.bar = self.tqdm(total=total or None, desc=stage, file=self.file, leave=False)
        if self.bar is not None:
            if total and self.bar.total != total:
                self.bar.total = total
            self.bar.n = done
            self.bar.refresh()
        elif total and done >= total:
            out = self.file or sys.stderr
            print(f"{stage}: {done}/{total} in {time.monotonic() - self.started:.1f} s", file=out)

    def close(self):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def progress_bar(file=None):
    """A progress callback drawing one tqdm bar per stage (plain lines without tqdm)."""
    return _Bars(file)


def resolve(progress):
    """``progress`` as the core takes it: None/False for none, True for bars, or a callable."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return _Bars()
    if callable(progress):
        return progress
    raise TypeError(f"progress must be True, False, None or a callable, not {type(progress).__name__}")
