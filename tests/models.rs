//! Model files that heal themselves: downloads from a loopback server (fresh, resumed, wrong
//! hash, 404, refused), repair at start-up, and the watchdog repairing files while live runs.

use std::{
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use faceswap::models::{sha256_file, FetchConfig, Fetcher, Manifest, ModelError};

use crate::{
    model_server::{Behaviour, ModelServer},
    support::{media, models_dir, root},
};

const DEFAULT_PACK: [&str; 3] = ["scrfd_500m_bnkps.onnx", "w600k_mbf.onnx", "2d106det.onnx"];
/// The watermark's networks: every command that writes swapped media needs them.
const PROVENANCE_PACK: [&str; 2] = ["rivagan_encoder.onnx", "rivagan_decoder.onnx"];

fn faceswap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root()).env_remove("FACESWAP_MODEL_MIRROR").env_remove("FACESWAP_MODELS_DIR");
    cmd
}

fn entry(name: &str) -> faceswap::models::ModelEntry {
    Manifest::builtin().unwrap().get(name).unwrap().clone()
}

fn fetcher(mirror: &str) -> Fetcher {
    Fetcher::new(FetchConfig {
        mirrors: vec![mirror.to_string()],
        attempts: 3,
        backoff: Duration::from_millis(50),
        progress: false,
        ..FetchConfig::default()
    })
    .unwrap()
}

pub fn valid(path: &Path, name: &str) -> bool {
    path.is_file() && entry(name).sha256.is_some_and(|h| h == sha256_file(path).unwrap())
}

#[test]
fn models_fetch_downloads_the_default_pack_from_a_mirror() {
    let server = ModelServer::start(models_dir(), Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let out = faceswap()
        .args(["models", "fetch", "--mirror", &server.base, "--models-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (file, name) in DEFAULT_PACK.iter().zip(["scrfd_500m_bnkps", "w600k_mbf", "2d106det"]) {
        assert!(valid(&dir.path().join(file), name), "{file} not fetched");
    }
    let verify = faceswap().args(["models", "verify", "--models-dir"]).arg(dir.path()).output().unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stdout));
    // No partial files left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn a_broken_connection_resumes_with_range() {
    let server =
        ModelServer::start(models_dir(), Behaviour { cut_once: vec!["w600k_mbf.onnx".into()], ..Behaviour::default() });
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("w600k_mbf.onnx");
    fetcher(&server.base).fetch(&entry("w600k_mbf"), &dest).unwrap();
    assert!(valid(&dest, "w600k_mbf"));
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    let half = entry("w600k_mbf").size.unwrap() / 2;
    assert_eq!(requests[1].1.as_deref(), Some(format!("bytes={half}-").as_str()), "resumed where it broke");
}

#[test]
fn a_wrong_hash_is_rejected_and_the_old_file_kept() {
    let served = tempfile::tempdir().unwrap();
    let size = entry("2d106det").size.unwrap() as usize;
    std::fs::write(served.path().join("2d106det.onnx"), vec![7u8; size]).unwrap();
    let server = ModelServer::start(served.path().to_path_buf(), Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("2d106det.onnx");
    std::fs::write(&dest, b"the old file").unwrap();
    let err = fetcher(&server.base).fetch(&entry("2d106det"), &dest).unwrap_err();
    assert!(matches!(err, ModelError::Fetch { .. }));
    assert!(err.to_string().contains("sha256"), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"the old file");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "a partial file was left");
}

#[test]
fn not_found_and_refused_are_clear_errors() {
    let empty = tempfile::tempdir().unwrap();
    let server = ModelServer::start(empty.path().to_path_buf(), Behaviour::default());
    let dir = tempfile::tempdir().unwrap();
    let err =
        fetcher(&server.base).fetch(&entry("2d106det"), &dir.path().join("2d106det.onnx")).unwrap_err().to_string();
    assert!(err.contains("404") && err.contains("2d106det.onnx"), "{err}");

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = faceswap()
        .args(["models", "fetch", "2d106det", "--mirror", &format!("http://127.0.0.1:{port}"), "--models-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains("2d106det") && last.contains(&port.to_string()), "{stderr}");
    assert!(!dir.path().join("2d106det.onnx").exists());
}

#[test]
fn a_mirror_that_drips_is_given_up_on_not_waited_on_for_ever() {
    let server = ModelServer::start(models_dir(), Behaviour { drip_after: Some(1000), ..Behaviour::default() });
    let dir = tempfile::tempdir().unwrap();
    let fetcher = Fetcher::new(FetchConfig {
        mirrors: vec![server.base.clone()],
        attempts: 2,
        backoff: Duration::from_millis(50),
        progress: false,
        rate_window: Duration::from_secs(2),
        ..FetchConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let err = fetcher.fetch(&entry("2d106det"), &dir.path().join("2d106det.onnx")).unwrap_err().to_string();
    assert!(err.contains("too slow"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "gave up after {:?}", started.elapsed());
    assert!(!dir.path().join("2d106det.onnx").exists());
}

#[test]
fn a_mirrors_password_is_never_printed() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = faceswap()
        .args(["-v", "models", "fetch", "2d106det", "--mirror", &format!("http://user:s3cret@127.0.0.1:{port}")])
        .arg("--models-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("s3cret") && stderr.contains("user:***@"), "{stderr}");
}

#[test]
fn plain_http_off_loopback_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let err = fetcher("http://example.invalid").fetch(&entry("2d106det"), &dir.path().join("m.onnx")).unwrap_err();
    assert!(err.to_string().contains("only HTTPS"), "{err}");
}

/// A models folder of the test's own, copied from the real one.
pub fn models_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for file in DEFAULT_PACK.iter().chain(&PROVENANCE_PACK) {
        std::fs::copy(models_dir().join(file), dir.path().join(file)).unwrap();
    }
    dir
}

#[test]
fn a_corrupt_model_is_repaired_at_start_up() {
    let server = ModelServer::start(models_dir(), Behaviour::default());
    let models = models_copy();
    let path = models.path().join("w600k_mbf.onnx");
    std::fs::write(&path, b"INVALID_PROTOBUF").unwrap();
    let out = faceswap()
        .args(["detect", "--mirror", &server.base, "--models-dir"])
        .arg(models.path())
        .arg(media("t1.jpg"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("6 face(s)"));
    assert!(valid(&path, "w600k_mbf"), "repaired");
    assert_eq!(std::fs::read(models.path().join("w600k_mbf.onnx.backup")).unwrap(), b"INVALID_PROTOBUF", "backed up");
    assert!(String::from_utf8_lossy(&out.stderr).contains("repairing model"));
}

fn health(addr: &str) -> Option<serde_json::Value> {
    let response = reqwest::blocking::get(format!("http://{addr}/health")).ok()?;
    serde_json::from_str(&response.text().ok()?).ok()
}

fn wait_for(
    addr: &str,
    timeout: Duration,
    mut pred: impl FnMut(&serde_json::Value) -> bool,
) -> Option<serde_json::Value> {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if let Some(report) = health(addr) {
            if pred(&report) {
                return Some(report);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[test]
fn watchdog_repairs_files_while_frames_keep_flowing() {
    // Slow answers keep the repair window wide enough to see `degraded`.
    let server =
        ModelServer::start(models_dir(), Behaviour { delay: Duration::from_millis(400), ..Behaviour::default() });
    let models = models_copy();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let child = faceswap()
        .args(["live", "--headless", "--loop", "--lossless", "--watch-interval", "0.5", "--health-addr", &addr])
        .args(["--mirror", &server.base, "--models-dir"])
        .arg(models.path())
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(media("carphone.mp4"))
        .arg("--stats-json")
        .arg(&stats)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let before =
        wait_for(&addr, Duration::from_secs(30), |r| r["frames_processed"].as_u64() > Some(10)).expect("frames flow");
    assert_eq!(before["status"], "healthy", "{before}");
    eprintln!("health before: {before}");

    let target = models.path().join("2d106det.onnx");
    let bytes = std::fs::read(&target).unwrap();
    let size = bytes.len();
    let cases: [(&str, Vec<u8>); 2] =
        [("truncated", bytes[..size / 3].to_vec()), ("overwritten with junk", vec![0x5a; size])];
    for (what, damage) in cases {
        let frames_before = health(&addr).unwrap()["frames_processed"].as_u64().unwrap();
        let broken_at = Instant::now();
        std::fs::write(&target, &damage).unwrap();
        let during =
            wait_for(&addr, Duration::from_secs(5), |r| r["status"] == "degraded").expect("degraded while repairing");
        let after = wait_for(&addr, Duration::from_secs(10), |r| r["status"] == "healthy").expect("healthy again");
        let took = broken_at.elapsed();
        eprintln!("{what}: repaired in {:.0} ms (interval 500 ms, server delay 400 ms)", took.as_secs_f64() * 1000.0);
        eprintln!("health during: {during}");
        eprintln!("health after: {after}");
        assert!(valid(&target, "2d106det"), "{what}: file repaired on disk");
        assert!(took < Duration::from_millis(500 + 400 + 1500), "{what}: took {took:?}");
        assert!(after["frames_processed"].as_u64().unwrap() > frames_before, "{what}: frames kept flowing");
        assert_eq!(during["models"]["2d106det"]["valid"], false);
        assert_eq!(during["models"]["2d106det"]["ready"], true, "the loaded session stays in use");
    }
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert_eq!(report["frames_dropped"], 0, "lossless mode lost frames: {report}");
    assert_eq!(report["frames_failed"], 0, "{report}");
    assert_eq!(report["frames_shown"], report["frames_captured"], "{report}");
}

#[test]
fn transcode_loses_no_frame_while_a_model_is_repaired() {
    let server =
        ModelServer::start(models_dir(), Behaviour { delay: Duration::from_millis(200), ..Behaviour::default() });
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let long = crate::support::long_clip(dir.path(), 10);
    let output = dir.path().join("out.mp4");
    let child = faceswap()
        .args(["transcode", "--watch-interval", "0.3", "--mirror", &server.base, "--models-dir"])
        .arg(models.path())
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(&long)
        .arg("--output")
        .arg(&output)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let target = models.path().join("2d106det.onnx");
    std::fs::write(&target, b"junk").unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("went bad") && stderr.contains("reloaded"), "the watchdog saw the damage: {stderr}");
    assert!(valid(&target, "2d106det"), "repaired on disk");
    let frames = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-count_frames",
            "-show_entries",
            "stream=nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(&output)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&frames.stdout).trim(), "1200", "every frame written");
}
