//! OpenVINO, the second execution provider these CPUs run (ONNX Runtime 1.24.1 with OpenVINO,
//! from `scripts/assets.py --openvino`): the same binary loads that library too, the models give
//! the CPU provider's numbers on it, each role can run on its own provider, and `bench --choose`
//! picks the fastest. Each run is its own process: a process holds one ONNX Runtime library.

use std::{path::PathBuf, process::Command};

use crate::support::{media, models_dir, root};

fn openvino_library() -> PathBuf {
    let dir = root().join(".cache/onnxruntime-openvino");
    assert!(
        dir.join("libonnxruntime_providers_openvino.so").is_file(),
        "the OpenVINO build of ONNX Runtime is missing: run scripts/setup.sh --openvino (or scripts/assets.py --openvino)"
    );
    dir
}

fn faceswap(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .env("ORT_DYLIB_PATH", openvino_library())
        .args(args)
        .output()
        .unwrap()
}

fn detect(picture: &str, ep: &str) -> serde_json::Value {
    let out = faceswap(&[
        "detect",
        "--json",
        "--landmarks",
        "--embeddings",
        "--threads",
        "2",
        "--ep",
        ep,
        media(picture).to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn points(v: &serde_json::Value) -> Vec<[f64; 2]> {
    v.as_array().unwrap().iter().map(|p| [p[0].as_f64().unwrap(), p[1].as_f64().unwrap()]).collect()
}

#[test]
fn openvino_gives_the_cpu_providers_faces_landmarks_and_identities() {
    for picture in ["t1.jpg", "astronaut.png"] {
        let (cpu, ov) = (detect(picture, "cpu"), detect(picture, "openvino"));
        let (cpu, ov) = (cpu["faces"].as_array().unwrap(), ov["faces"].as_array().unwrap());
        assert_eq!(cpu.len(), ov.len(), "{picture}: faces found");
        let (mut worst_px, mut worst_cos) = (0.0f64, 1.0f64);
        for (a, b) in cpu.iter().zip(ov) {
            for key in ["kps", "landmarks"] {
                for (p, q) in points(&a[key]).iter().zip(points(&b[key])) {
                    worst_px = worst_px.max(((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt());
                }
            }
            let bbox = |f: &serde_json::Value| {
                points(&serde_json::json!([[f["bbox"][0], f["bbox"][1]], [f["bbox"][2], f["bbox"][3]]]))
            };
            for (p, q) in bbox(a).iter().zip(bbox(b)) {
                worst_px = worst_px.max(((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt());
            }
            let (x, y): (Vec<f64>, Vec<f64>) = (
                a["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect(),
                b["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect(),
            );
            let dot: f64 = x.iter().zip(&y).map(|(a, b)| a * b).sum();
            let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
            worst_cos = worst_cos.min(dot / (norm(&x) * norm(&y)));
        }
        eprintln!("{picture}: OpenVINO vs CPU, worst point {worst_px:.3} px, worst identity cosine {worst_cos:.5}");
        assert!(worst_px <= 0.5, "{picture}: a point moved {worst_px} px");
        assert!(worst_cos >= 0.999, "{picture}: identity cosine {worst_cos}");
    }
}

#[test]
fn each_role_runs_on_its_own_provider_and_health_says_which() {
    let out = faceswap(&["health", "--json", "--ep", "detector=cpu,landmarks=openvino,embedder=openvino"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["onnxruntime_version"], "1.24.1");
    assert_eq!(report["execution_providers"]["landmarks"], "openvino:CPU");
    assert_eq!(report["execution_providers"]["embedder"], "openvino:CPU");
    assert_eq!(report["execution_providers"]["detector"], "cpu");
    assert_eq!(report["status"], "healthy", "{report}");
    // A swap with the mix: the same work as on one provider.
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("mixed.png");
    let out = faceswap(&[
        "swap",
        "--ep",
        "detector=cpu,landmarks=openvino,embedder=openvino",
        "--source",
        media("astronaut.png").to_str().unwrap(),
        "--target",
        media("t1.jpg").to_str().unwrap(),
        "--all-faces",
        "--output",
        out_path.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("swapped 6 face(s)"));
    // Refused in words: a role twice, an unknown role or provider, a provider this library lacks.
    for (ep, says) in [
        ("landmarks=cpu,landmarks=openvino", "twice"),
        ("ears=cpu", "unknown role"),
        ("detector=quantum", "unknown execution provider"),
        ("cuda", "cuda"),
    ] {
        let out = faceswap(&["detect", "--ep", ep, media("astronaut.png").to_str().unwrap()]);
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && said.contains(says), "--ep {ep}: {said}");
    }
}

#[test]
fn bench_choose_measures_each_model_on_each_provider_and_saves_the_fastest() {
    let dir = tempfile::tempdir().unwrap();
    let (json, config) = (dir.path().join("bench.json"), dir.path().join("ep.toml"));
    let out = faceswap(&[
        "bench",
        "--ep",
        "cpu,openvino",
        "--choose",
        "--synthetic",
        "320x240",
        "--frames",
        "12",
        "--threads",
        "2",
        "--json",
        json.to_str().unwrap(),
        "--write-config",
        config.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let providers = report["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 3, "cpu, openvino and the chosen mix");
    for p in &providers[..2] {
        for role in ["detector", "landmarks", "embedder"] {
            assert!(p["model_ms"][role].as_f64().unwrap() > 0.0, "{role} on {}", p["ep"]);
        }
    }
    // The choice is each model's faster provider, and the mix ran.
    for role in ["detector", "landmarks", "embedder"] {
        let (cpu, ov) =
            (providers[0]["model_ms"][role].as_f64().unwrap(), providers[1]["model_ms"][role].as_f64().unwrap());
        let want = if ov < cpu { "openvino" } else { "cpu" };
        assert_eq!(report["chosen"][role], want, "{role}: cpu {cpu} ms, openvino {ov} ms");
    }
    assert!(providers[2]["ep"].as_str().unwrap().starts_with("chosen: "), "{}", providers[2]["ep"]);
    assert!(providers[2]["pipelined_frames_per_s"].as_f64().unwrap() > 0.0);
    // The saved choice is taken by --ep-config.
    let saved = std::fs::read_to_string(&config).unwrap();
    assert!(saved.contains("ep = \""), "{saved}");
    let out = faceswap(&["health", "--json", "--ep-config", config.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let health: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let want = if report["chosen"]["landmarks"] == "openvino" { "openvino:CPU" } else { "cpu" };
    assert_eq!(health["execution_providers"]["landmarks"], want);
}
