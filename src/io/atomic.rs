//! Outputs appear whole or not at all: write to a temporary file beside the target, then rename.
//! The temporary files of writes in progress are known, so an interrupted run (Ctrl-C) removes
//! them before it exits ([`remove_unfinished`]).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};

/// Temporary files of writes in progress.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Deletes the temporary files of every write in progress and returns how many there were:
/// what an interrupt handler calls before the process exits, so that no half-written output
/// stays (finished outputs were renamed into place whole; the targets of unfinished ones are
/// untouched).
pub fn remove_unfinished() -> usize {
    let mut list = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
    let n = list.len();
    for p in list.drain(..) {
        let _ = std::fs::remove_file(p);
    }
    n
}

/// Keeps a temporary file on the list of writes in progress while it lives.
struct InProgress(PathBuf);

impl InProgress {
    fn new(path: &Path) -> Self {
        UNFINISHED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(path.to_path_buf());
        InProgress(path.to_path_buf())
    }
}

impl Drop for InProgress {
    fn drop(&mut self) {
        let mut list = UNFINISHED.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = list.iter().position(|p| *p == self.0) {
            list.swap_remove(at);
        }
    }
}

/// Writes `path` through `write`, atomically: the content goes to a temporary file in the same
/// directory (created if needed), which is renamed over `path` only when `write` succeeded. On
/// error nothing is left behind and an existing file at `path` is untouched.
pub fn write_atomic<F>(path: &Path, write: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".embedscope-").suffix(".tmp");
    // Outputs are ordinary files (0666 less the umask), not tempfile's private 0600.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let tmp = builder.tempfile_in(dir).map_err(|e| Error::io(dir, e))?;
    let _in_progress = InProgress::new(tmp.path());
    {
        let mut w = BufWriter::new(tmp.as_file());
        write(&mut w).map_err(|e| Error::io(path, e))?;
        w.flush().map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        let err = write_atomic(&target, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(err.is_err());
        assert!(!target.exists());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "temp file left behind"
        );
    }

    #[test]
    fn an_interrupted_write_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.html");
        std::fs::write(&target, "before").unwrap();
        // The interrupt arrives mid-write: the temporary file goes, the target stays as it was.
        let err = write_atomic(&target, |w| {
            w.write_all(b"half")?;
            w.flush()?;
            assert!(remove_unfinished() >= 1);
            w.write_all(b" of it")
        });
        assert!(err.is_err(), "the rename of a removed file fails");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "before");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn writes_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("sub/out.txt");
        write_atomic(&target, |w| w.write_all(b"hello")).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "hello");
    }
}
