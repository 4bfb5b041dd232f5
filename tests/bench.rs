//! `faceswap bench` on a short real clip: the JSON report has every field, and a provider that
//! this ONNX Runtime lacks is reported with its reason and fails the run with a clear error.

use std::process::Command;

use crate::support::{media, root};

fn bench(json: &std::path::Path, eps: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .args(["bench", "--frames", "24", "--eps", eps, "--input"])
        .arg(media("carphone.mp4"))
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--json")
        .arg(json)
        .output()
        .unwrap()
}

#[test]
fn bench_reports_every_field_for_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = bench(&json, "cpu");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let cpu = &report["providers"][0];
    assert_eq!(cpu["ep"], "cpu");
    assert_eq!(cpu["available"], true);
    for key in [
        "frames_per_s",
        "pipelined_frames_per_s",
        "floor_ms",
        "frame_ms",
        "floor_ratio",
        "peak_rss_mb",
        "session_build_ms",
        "warmup_ms",
    ] {
        assert!(cpu[key].as_f64().is_some_and(|v| v > 0.0), "{key} missing or zero: {cpu}");
    }
    // An available provider has no reason to give; the report says so with null.
    assert!(cpu["reason"].is_null(), "{cpu}");
    assert!(cpu["floor_ratio"].as_f64().unwrap() >= 1.0, "a frame cannot beat the models alone: {cpu}");
    for stage in ["decode", "detect", "landmarks", "swap_inference", "paste_back", "encode"] {
        for p in ["p50", "p95", "p99"] {
            assert!(cpu["stage_ms"][stage][p].as_f64().is_some(), "stage_ms.{stage}.{p} missing: {cpu}");
        }
    }
    assert_eq!(cpu["frames"], 24);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("floor ms") && table.contains("cpu"), "{table}");
}

#[test]
fn a_missing_provider_is_reported_with_its_reason() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = bench(&json, "cpu,cuda");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: ") && last.contains("cuda") && last.contains("not available"), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["providers"][0]["available"], true, "cpu is still measured");
    let cuda = &report["providers"][1];
    assert_eq!(cuda["available"], false);
    assert!(cuda["reason"].as_str().is_some_and(|r| r.contains("built without")), "{cuda}");
}
