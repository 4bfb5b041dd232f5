//! The `faceswap` binary as a user runs it: real photos, real models, and every kind of bad
//! input answered by one line naming the thing, a non-zero exit, and no output file.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use image::{GenericImageView, RgbImage};
use predicates::prelude::*;

use crate::support::{media, models_dir, root};

fn faceswap() -> Command {
    let mut cmd = Command::cargo_bin("faceswap").unwrap();
    cmd.current_dir(root()).env("FACESWAP_MODELS_DIR", models_dir()).env_remove("ORT_DYLIB_PATH");
    cmd
}

fn swap_cmd(source: &Path, target: &Path, output: &Path) -> Command {
    let mut cmd = faceswap();
    cmd.arg("swap").arg("--source").arg(source).arg("--target").arg(target).arg("--output").arg(output);
    cmd
}

/// A failed run must say what failed in one line starting "error:" (warnings logged before it,
/// such as an unpinned model file, are allowed).
fn one_line_error(output: &std::process::Output) -> String {
    assert!(!output.status.success(), "expected failure");
    let stderr = String::from_utf8_lossy(&output.stderr).to_string();
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty() && !l.contains(" WARN ")).collect();
    assert_eq!(lines.len(), 1, "expected one line, got {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    stderr
}

/// The faces of `original` that `swapped` changed (by a mean of more than 5 grey levels).
fn changed_faces(original: &RgbImage, swapped: &RgbImage) -> Vec<usize> {
    let json = faceswap().arg("detect").arg("--json").arg(media("t1.jpg")).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let faces = report["faces"].as_array().unwrap();
    faces
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            let b: Vec<u32> =
                f["bbox"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap().max(0.0) as u32).collect();
            // The watermark moves every pixel by a grey level or two; a swapped face by far more.
            let (mut sum, mut n) = (0u64, 0u64);
            for y in b[1]..b[3].min(original.height()) {
                for x in b[0]..b[2].min(original.width()) {
                    let (p, q) = (original.get_pixel(x, y), swapped.get_pixel(x, y));
                    sum += (0..3).map(|c| u64::from(p[c].abs_diff(q[c]))).sum::<u64>();
                    n += 3;
                }
            }
            sum as f64 / n.max(1) as f64 > 5.0
        })
        .map(|(i, _)| i)
        .collect()
}

#[test]
fn swap_all_faces_writes_the_picture() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out)
        .arg("--all-faces")
        .assert()
        .success()
        .stdout(predicate::str::contains("swapped 6 face(s) with the landmark swapper"));
    let original = image::open(media("t1.jpg")).unwrap().into_rgb8();
    let swapped = image::open(&out).unwrap().into_rgb8();
    assert_eq!(swapped.dimensions(), original.dimensions());
    assert_eq!(changed_faces(&original, &swapped), vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn face_index_and_reference_pick_one_face() {
    let dir = tempfile::tempdir().unwrap();
    let original = image::open(media("t1.jpg")).unwrap().into_rgb8();

    let by_index = dir.path().join("by-index.png");
    swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &by_index).args(["--face", "2"]).assert().success();
    assert_eq!(changed_faces(&original, &image::open(&by_index).unwrap().into_rgb8()), vec![2]);

    // A reference photo of face 4 alone (cut from the picture, with margin).
    let reference = dir.path().join("reference.png");
    original.view(1080, 220, 190, 230).to_image().save(&reference).unwrap();
    let by_reference = dir.path().join("by-reference.png");
    swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &by_reference)
        .arg("--reference")
        .arg(&reference)
        .assert()
        .success();
    assert_eq!(changed_faces(&original, &image::open(&by_reference).unwrap().into_rgb8()), vec![4]);

    let default = dir.path().join("default.png");
    swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &default).assert().success();
    // The largest face is face 1 (463,266)-(573,415).
    assert_eq!(changed_faces(&original, &image::open(&default).unwrap().into_rgb8()), vec![1]);
}

#[test]
fn inswapper_runs_a_named_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jpg");
    swap_cmd(&media("t1.jpg"), &media("astronaut.png"), &out)
        .args(["--swapper", "inswapper", "--swapper-model"])
        .arg(root().join("tests/fixtures/inswapper_synthetic.onnx"))
        .assert()
        .success()
        .stdout(predicate::str::contains("with the inswapper swapper"));
    assert_eq!(image::open(&out).unwrap().dimensions(), (512, 512));
}

#[test]
fn existing_output_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    std::fs::write(&out, b"keep me").unwrap();
    let output = swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out).output().unwrap();
    assert!(one_line_error(&output).contains("--overwrite"));
    assert_eq!(std::fs::read(&out).unwrap(), b"keep me");
    swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out).arg("--overwrite").assert().success();
    assert!(image::open(&out).is_ok());
}

#[test]
fn output_cannot_be_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("t1.jpg");
    std::fs::copy(media("t1.jpg"), &target).unwrap();
    let before = std::fs::read(&target).unwrap();
    let output = swap_cmd(&media("astronaut.png"), &target, &target).arg("--overwrite").output().unwrap();
    assert!(one_line_error(&output).contains("is one of the inputs"));
    assert_eq!(std::fs::read(&target).unwrap(), before);
}

fn blank_picture(dir: &Path) -> PathBuf {
    let path = dir.join("wall.png");
    RgbImage::from_pixel(320, 240, image::Rgb([180, 170, 160])).save(&path).unwrap();
    path
}

#[test]
fn bad_inputs_get_one_line_errors_and_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let blank = blank_picture(dir.path());
    let not_a_picture = dir.path().join("notes.jpg");
    std::fs::write(&not_a_picture, b"not a jpeg").unwrap();
    let cases: Vec<(Command, &str)> = vec![
        (swap_cmd(&dir.path().join("missing.png"), &media("t1.jpg"), &out), "missing.png"),
        (swap_cmd(&not_a_picture, &media("t1.jpg"), &out), "notes.jpg"),
        (swap_cmd(&blank, &media("t1.jpg"), &out), "no face found in the source"),
        (swap_cmd(&media("astronaut.png"), &blank, &out), "no face found in the target"),
        (
            {
                let mut c = swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out);
                c.args(["--face", "9"]);
                c
            },
            "face 9 does not exist",
        ),
        (
            {
                let mut c = swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out);
                c.args(["--swapper", "inswapper"]);
                c
            },
            "inswapper_128",
        ),
    ];
    for (mut cmd, expected) in cases {
        let output = cmd.output().unwrap();
        let message = one_line_error(&output);
        assert!(message.contains(expected), "expected {expected:?} in {message:?}");
        assert!(!out.exists(), "an output file was left after: {message}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2, "stray files left behind");
}

#[test]
fn corrupt_or_missing_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    for file in ["scrfd_500m_bnkps.onnx", "2d106det.onnx"] {
        std::fs::copy(models_dir().join(file), models.join(file)).unwrap();
    }
    let out = dir.path().join("out.png");
    let run = || {
        swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out).env("FACESWAP_MODELS_DIR", &models).output().unwrap()
    };
    let message = one_line_error(&run());
    assert!(message.contains("w600k_mbf.onnx") && message.contains("missing"), "{message}");

    // Same size, damaged bytes: the hash names expected and actual.
    let mut bytes = std::fs::read(models_dir().join("w600k_mbf.onnx")).unwrap();
    bytes[1000] ^= 0xff;
    std::fs::write(models.join("w600k_mbf.onnx"), &bytes).unwrap();
    let message = one_line_error(&run());
    assert!(message.contains("w600k_mbf.onnx") && message.contains("9cc6e4a7"), "{message}");

    // Truncated.
    std::fs::write(models.join("w600k_mbf.onnx"), &bytes[..4096]).unwrap();
    let message = one_line_error(&run());
    assert!(message.contains("4096 bytes"), "{message}");
    assert!(!out.exists());

    // A user-named detector that is not a model at all.
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"INVALID_PROTOBUF").unwrap();
    let output =
        swap_cmd(&media("astronaut.png"), &media("t1.jpg"), &out).arg("--detector-model").arg(&junk).output().unwrap();
    let message = one_line_error(&output);
    assert!(message.contains("junk.onnx"), "{message}");
}

#[test]
fn unavailable_provider_is_an_error_unless_fallback_is_asked() {
    let output = faceswap().args(["detect", "--ep", "cuda"]).arg(media("t1.jpg")).output().unwrap();
    assert!(one_line_error(&output).contains("cuda"));
    faceswap()
        .args(["detect", "--ep", "cuda", "--ep-fallback"])
        .arg(media("t1.jpg"))
        .assert()
        .success()
        .stdout(predicate::str::contains("6 face(s)"))
        .stderr(predicate::str::contains("falling back to CPU"));
}

#[test]
fn missing_runtime_library_says_how_to_install_it() {
    let output = faceswap().args(["detect", "--ort-lib", "/nonexistent/lib"]).arg(media("t1.jpg")).output().unwrap();
    assert!(one_line_error(&output).contains("scripts/setup.sh"));
}

#[test]
fn detect_json_has_the_documented_shape() {
    let output =
        faceswap().args(["detect", "--json", "--embeddings", "--landmarks"]).arg(media("t1.jpg")).output().unwrap();
    assert!(output.status.success());
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!((report["width"].as_u64(), report["height"].as_u64()), (Some(1280), Some(886)));
    let faces = report["faces"].as_array().unwrap();
    assert_eq!(faces.len(), 6);
    for face in faces {
        assert_eq!(face["bbox"].as_array().unwrap().len(), 4);
        assert!(face["score"].as_f64().unwrap() > 0.5);
        assert_eq!(face["kps"].as_array().unwrap().len(), 5);
        assert_eq!(face["landmarks"].as_array().unwrap().len(), 106);
        let embedding: Vec<f64> = face["embedding"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        assert_eq!(embedding.len(), 512);
        let norm = embedding.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "identity vector is normalised");
    }
    let plain = faceswap().args(["detect", "--json"]).arg(media("astronaut.png")).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(report["faces"][0].get("embedding").is_none());
}
