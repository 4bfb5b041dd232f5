//! Real servers for the many-machine tests, started on loopback by the tests: PostgreSQL (the
//! distribution's server, run as the `postgres` user when the tests run as root, as initdb
//! requires) and an S3-compatible server (moto in server mode).

use std::{
    net::{TcpListener, TcpStream},
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for_port(port: u16, within: Duration, what: &str, log: &Path) {
    let until = Instant::now() + within;
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "{what} did not start: {}", std::fs::read_to_string(log).unwrap_or_default());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed: run scripts/setup.sh")
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("postgres").exists())
        .collect();
    versions.sort();
    versions.pop().expect("a PostgreSQL server in /usr/lib/postgresql: run scripts/setup.sh")
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (the server refuses root).
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL server of the test's own.
pub struct Postgres {
    pub port: u16,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Postgres {
    /// initdb in `dir` and start on a free port.
    pub fn start(dir: &Path) -> Self {
        let data = dir.join("pg");
        std::fs::create_dir_all(&data).unwrap();
        // The server runs as postgres: it must reach and own its folder.
        let mut folder = Some(dir);
        while let Some(f) = folder {
            if f == Path::new("/") || f == Path::new("/tmp") {
                break;
            }
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode | 0o711)).unwrap();
            folder = f.parent();
        }
        if is_root() {
            assert!(Command::new("chown").args(["-R", "postgres:postgres"]).arg(&data).status().unwrap().success());
        }
        let bin = postgres_bin();
        let out = as_postgres(&bin.join("initdb"))
            .args(["-D"])
            .arg(&data)
            .args(["-U", "faceswap", "--auth=trust", "-E", "UTF8"])
            .output()
            .unwrap();
        assert!(out.status.success(), "initdb: {}", String::from_utf8_lossy(&out.stderr));
        let mut server = Self { port: free_port(), log: dir.join("postgres.log"), data, child: None };
        server.run();
        server
    }

    fn run(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        if is_root() {
            let _ = Command::new("chown").arg("postgres").arg(&self.log).status();
        }
        let child = as_postgres(&postgres_bin().join("postgres"))
            .arg("-D")
            .arg(&self.data)
            .args(["-p", &self.port.to_string(), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.child = Some(child);
        wait_for_port(self.port, Duration::from_secs(30), "PostgreSQL", &self.log);
        // Accepting connections, not only listening.
        let until = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = Command::new(postgres_bin().join("pg_isready"))
                .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
                .stdout(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            assert!(Instant::now() < until, "PostgreSQL is not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `postgres://faceswap@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://faceswap@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (a fast shutdown: every connection is cut) and waits.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // The postmaster itself, not runuser in front of it.
            let pid = std::fs::read_to_string(self.data.join("postmaster.pid"))
                .ok()
                .and_then(|t| t.lines().next().map(str::to_string))
                .unwrap_or_else(|| child.id().to_string());
            let _ = Command::new("kill").args(["-INT", &pid]).status();
            let _ = child.wait();
        }
    }

    /// Stops and starts it again on the same port, `down` apart.
    pub fn restart(&mut self, down: Duration) {
        self.stop();
        std::thread::sleep(down);
        self.run();
    }

    /// A query's result through psql, as text.
    pub fn query(&self, sql: &str) -> String {
        let out = Command::new(postgres_bin().join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "faceswap",
                "-d",
                "postgres",
                "-At",
                "-c",
                sql,
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "psql: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An S3-compatible server (moto) with one bucket.
pub struct S3Server {
    pub port: u16,
    pub bucket: String,
    child: Child,
}

impl S3Server {
    /// Starts moto's server on a free port and creates `bucket`.
    pub fn start(dir: &Path, bucket: &str) -> Self {
        let port = free_port();
        let log = dir.join("moto.log");
        let child = Command::new("python3")
            .args(["-m", "moto.server", "-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("python3 runs moto: run scripts/test.sh, which installs it");
        wait_for_port(port, Duration::from_secs(60), "moto", &log);
        let created = Command::new("curl")
            .args(["-sS", "-f", "-X", "PUT", &format!("http://127.0.0.1:{port}/{bucket}")])
            .output()
            .unwrap();
        assert!(created.status.success(), "bucket: {}", String::from_utf8_lossy(&created.stderr));
        Self { port, bucket: bucket.to_string(), child }
    }

    /// The environment a faceswap process needs to reach it.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.port)),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// The keys stored under `prefix`, by listing the bucket.
    pub fn keys(&self, prefix: &str) -> Vec<String> {
        let out = Command::new("curl")
            .args(["-sS", &format!("http://127.0.0.1:{}/{}?list-type=2&prefix={prefix}", self.port, self.bucket)])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        text.split("<Key>").skip(1).filter_map(|k| k.split("</Key>").next()).map(str::to_string).collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
