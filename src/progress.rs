//! Progress reporting without printing: the library calls a [`Progress`]; the CLI plugs in
//! progress bars on stderr, a notebook or test plugs in nothing.

/// Receives progress of long stages.
pub trait Progress: Sync {
    /// A stage starts with `total` units of work (0 when unknown).
    fn start(&self, stage: &str, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The stage is over.
    fn finish(&self);
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}
