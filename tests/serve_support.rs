//! `faceswap serve` as the tests run it: started on a free loopback port with a data folder of
//! the test's own, talked to by real clients (curl, and Python's requests), stopped by signal.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, ExitStatus, Output, Stdio},
    time::{Duration, Instant},
};

use crate::support::root;

/// A running server.
pub struct Server {
    pub base: String,
    pub data: PathBuf,
    pub log: PathBuf,
    child: Option<Child>,
}

impl Server {
    /// Starts `faceswap serve` with `args` on 127.0.0.1 (a free port) and `data` as its data
    /// folder, and waits until it listens.
    pub fn start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let log = data.with_extension("log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_faceswap"));
        command
            .current_dir(root())
            .env_remove("FACESWAP_API_KEY")
            .env("FACESWAP_MODELS_DIR", root().join("models"))
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(data)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("server log"));
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("faceswap serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(addr) = line.strip_prefix("faceswap serve: listening on ") {
                    let _ = tx.send(addr.to_string());
                }
            }
        });
        let base = match rx.recv_timeout(Duration::from_secs(90)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!("the server did not start: {}", std::fs::read_to_string(&log).unwrap_or_default());
            }
        };
        Self { base, data: data.to_path_buf(), log, child: Some(child) }
    }

    /// `http://127.0.0.1:PORT/path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    /// The server's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Kills the server outright (SIGKILL), as a crash or an OOM kill would.
    pub fn crash(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Sends SIGTERM and waits for the exit (at most `within`).
    pub fn stop(mut self, within: Duration) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        signal(&child, "TERM");
        let until = Instant::now() + within;
        loop {
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            if Instant::now() > until {
                let _ = child.kill();
                panic!("the server did not stop within {within:?}: {}", self.log_text());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status().expect("kill runs");
    assert!(status.success());
}

/// curl with `args`; the output has the response head (-D -) then the body in stdout.
/// A curl `-F` field that uploads the file at `path` as `field`.
pub fn form(field: &str, path: &Path) -> String {
    format!("{field}=@{}", path.display())
}

pub fn curl(args: &[&str]) -> Output {
    Command::new("curl").args(["-sS", "--max-time", "120"]).args(args).output().expect("curl runs")
}

/// A response from curl: status, headers (lower-case names), body.
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// Asserts a problem+json answer with `status`, and returns its detail.
    pub fn problem(&self, status: u16) -> String {
        assert_eq!(self.status, status, "{}", String::from_utf8_lossy(&self.body));
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{:?}", self.headers);
        let problem = self.json();
        assert_eq!(problem["status"], status);
        let detail = problem["detail"].as_str().expect("a detail").to_string();
        assert!(!detail.is_empty() && !detail.contains("panicked") && !detail.contains("src/"), "{detail}");
        detail
    }
}

/// Runs curl and splits its answer (the last response, after any 100 Continue).
pub fn request(args: &[&str]) -> Answer {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "120", "-D", "-", "-o", "-"])
        .args(args)
        .output()
        .expect("curl runs");
    assert!(out.status.success(), "curl failed: {}", String::from_utf8_lossy(&out.stderr));
    parse_answer(&out.stdout)
}

fn parse_answer(raw: &[u8]) -> Answer {
    let mut rest = raw;
    loop {
        let end = rest.windows(4).position(|w| w == b"\r\n\r\n").expect("a response head") + 4;
        let head = String::from_utf8_lossy(&rest[..end]).to_string();
        let mut lines = head.lines();
        let status: u16 =
            lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|s| s.parse().ok()).expect("status");
        rest = &rest[end..];
        if status == 100 {
            continue;
        }
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        return Answer { status, headers, body: rest.to_vec() };
    }
}

/// Python's requests as the client: `tests/clients/api_client.py ARGS`, its JSON line parsed.
pub fn python_client(args: &[&str]) -> serde_json::Value {
    let out = Command::new("python3")
        .arg(root().join("tests/clients/api_client.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python client failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

/// Polls `GET path` until `pred` holds (at most `timeout`).
pub fn wait_for(server: &Server, path: &str, timeout: Duration, pred: impl Fn(&Answer) -> bool) -> Answer {
    let until = Instant::now() + timeout;
    loop {
        let answer = request(&[&server.url(path)]);
        if pred(&answer) {
            return answer;
        }
        assert!(Instant::now() < until, "timed out waiting on {path}: {}", String::from_utf8_lossy(&answer.body));
        std::thread::sleep(Duration::from_millis(100));
    }
}
