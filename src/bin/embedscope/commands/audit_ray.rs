//! `embedscope audit --engine ray`: the audit on a Ray cluster. Ray has no Rust API, so this
//! runs the Python package's `embedscope.ray` (the same core inside every task) with the
//! audit's flags, and passes its exit code on (it prints its own errors and summary).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{bail, Context};

use super::{AuditArgs, Delegated};

/// The Python that has `embedscope` and Ray: `$EMBEDSCOPE_PYTHON`, else the venv
/// `scripts/python.sh` installs into, else `python3`.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("EMBEDSCOPE_PYTHON").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let venv = PathBuf::from(home).join(".cache/embedscope/python-venv/bin/python");
        if venv.exists() {
            return venv;
        }
    }
    PathBuf::from("python3")
}

/// The flags of a local audit that the audit on Ray does not take, each with why.
fn refused(args: &AuditArgs) -> Option<(&'static str, &'static str)> {
    let checks = [
        (
            args.exact,
            "--exact",
            "the statistic stages run on the driver's sample",
        ),
        (
            args.reembed,
            "--reembed",
            "it reads the dataset's vectors; embed first",
        ),
        (
            args.queries.is_some(),
            "--queries",
            "not yet on Ray; audit the queries locally",
        ),
        (
            args.write_back,
            "--write-back",
            "it reads Parquet or Lance; use --tables",
        ),
        (
            args.strip_boilerplate,
            "--strip-boilerplate",
            "it reads the dataset's vectors",
        ),
        (args.llm.llm, "--llm", "topic labels are c-TF-IDF on Ray"),
        (
            args.no_duplicates,
            "--no-duplicates",
            "duplicates are part of the audit on Ray",
        ),
        (
            args.no_retrieval,
            "--no-retrieval",
            "retrieval is part of the audit on Ray",
        ),
        (
            args.max_memory != "auto",
            "--max-memory",
            "Ray manages the workers' memory",
        ),
        (
            args.input.is_store(),
            "INPUT",
            "a store URL: export Parquet shards for Ray",
        ),
    ];
    checks
        .into_iter()
        .find(|c| c.0)
        .map(|(_, flag, why)| (flag, why))
}

/// The `embedscope.ray` command line for `args`.
fn command_line(args: &AuditArgs) -> Vec<OsString> {
    let mut a: Vec<OsString> = vec!["-m".into(), "embedscope.ray".into()];
    a.push(args.input.input.clone().into());
    let mut flag = |name: &str, value: String| {
        a.push(format!("--{name}").into());
        a.push(value.into());
    };
    flag("out", args.report_path().display().to_string());
    if let Some(j) = &args.json {
        flag("json", j.display().to_string());
    }
    if let Some(t) = &args.tables {
        flag("tables", t.display().to_string());
    }
    if let Some(addr) = &args.address {
        flag("address", addr.clone());
    }
    flag("text-column", args.input.text_column.clone());
    for (name, v) in [
        ("id-column", &args.input.id_column),
        ("vector-column", &args.input.vector_column),
        ("label-column", &args.input.label_column),
    ] {
        if let Some(v) = v {
            flag(name, v.clone());
        }
    }
    if let Some(m) = args.sample {
        flag("sample", m.to_string());
    }
    flag("seed", args.seed.to_string());
    flag("k-min", args.sweep.k_min.to_string());
    flag("k-max", args.sweep.k_max.to_string());
    flag("n-init", args.sweep.n_init.to_string());
    flag("dedup-threshold", args.dedup_threshold.to_string());
    flag("stability-runs", args.stability_runs.to_string());
    flag("unstable-below", args.unstable_below.to_string());
    flag("max-duplicate-share", args.max_duplicate_share.to_string());
    flag("max-noise-share", args.max_noise_share.to_string());
    flag("min-recall", args.min_recall.to_string());
    flag("nprobe", args.nprobe.to_string());
    for (on, name) in [
        (args.no_map, "--no-map"),
        (args.no_noise, "--no-noise"),
        (args.no_health, "--no-health"),
        (args.no_timings, "--no-timings"),
        (args.fail_on_verdict, "--fail-on-verdict"),
    ] {
        if on {
            a.push(name.into());
        }
    }
    a
}

/// Runs the audit on Ray; its exit code becomes this one's.
pub fn run(args: &AuditArgs) -> anyhow::Result<()> {
    if let Some((flag, why)) = refused(args) {
        bail!("{flag} does not apply to --engine ray: {why}");
    }
    let python = python();
    // A missing package is said in our words, not as a Python traceback.
    let probe = Command::new(&python)
        .args(["-c", "import embedscope.ray, ray.data"])
        .output()
        .with_context(|| {
            format!(
                "--engine ray: cannot run {} (set EMBEDSCOPE_PYTHON to a Python with embedscope and ray[data])",
                python.display()
            )
        })?;
    if !probe.status.success() {
        bail!(
            "--engine ray: {} cannot import embedscope.ray and ray.data: install the wheel `scripts/python.sh` builds and ray[data] (python/requirements.txt), or set EMBEDSCOPE_PYTHON",
            python.display()
        );
    }
    let status = Command::new(&python)
        .args(command_line(args))
        .status()
        .with_context(|| format!("--engine ray: cannot run {}", python.display()))?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => Err(Delegated(u8::try_from(code).unwrap_or(2)).into()),
        None => bail!("--engine ray: {} was stopped by a signal", python.display()),
    }
}
