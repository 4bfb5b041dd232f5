//! Provenance on every output, read back by an implementation that is not ours: c2pa-python
//! (its own native library) for the manifests, and the watermark after ffmpeg and ImageMagick
//! have done to the files what platforms and users do. Clean media is never flagged.

use std::{
    path::{Path, PathBuf},
    process::{Command as Process, Output},
};

use assert_cmd::Command;
use serde_json::Value;

use crate::support::{media, models_dir, root};

const COMPOSITE: &str = "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia";

/// The binary with its own data folder (where the local signing identity is made).
fn faceswap(data: &Path) -> Command {
    let mut cmd = Command::cargo_bin("faceswap").unwrap();
    cmd.current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .env("XDG_DATA_HOME", data)
        .env_remove("ORT_DYLIB_PATH");
    cmd
}

/// The astronaut on every face of t1.jpg, however it ends.
fn run_swap(data: &Path, output: &Path, extra: &[&str]) -> Output {
    faceswap(data)
        .arg("swap")
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--target")
        .arg(media("t1.jpg"))
        .arg("--all-faces")
        .arg("--output")
        .arg(output)
        .args(extra)
        .output()
        .unwrap()
}

/// [`run_swap`], which must succeed.
fn swap(data: &Path, output: &Path, extra: &[&str]) -> Output {
    let out = run_swap(data, output, extra);
    assert!(out.status.success(), "swap failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

/// c2pa-python's reading of `path` (with its sidecar).
fn c2pa_read(path: &Path, sidecar: Option<&Path>) -> Value {
    let mut cmd = Process::new("python3");
    cmd.arg(root().join("tests/clients/c2pa_read.py")).arg(path);
    if let Some(s) = sidecar {
        cmd.arg(s);
    }
    let out = cmd.output().expect("python3 runs");
    assert!(
        out.status.success(),
        "c2pa_read failed (pip install c2pa-python): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("c2pa_read prints JSON")
}

/// `faceswap verify --json FILES`: its exit code and answer.
fn verify(data: &Path, files: &[&Path]) -> (i32, Value) {
    let out = faceswap(data).arg("verify").arg("--json").args(files).output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let json = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("verify printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stderr)));
    (code, json)
}

fn run(program: &str, args: &[&str]) {
    let out = Process::new(program).args(args).output().unwrap_or_else(|e| panic!("{program} runs: {e}"));
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The sample clip at 640×480, where the watermark has room (at its own 176×144 a CRF 28
/// re-encode washes it out: the README's table says both).
fn clip_640(dir: &Path) -> PathBuf {
    crate::support::carphone_640(dir)
}

fn check_manifest(report: &Value, target_title: &str) {
    assert_eq!(report["state"], "Valid", "{report}");
    let actions = report["actions"].as_array().expect("actions");
    assert_eq!(actions[0]["action"], "c2pa.opened", "C2PA asks for the first action to open the parent: {report}");
    let edited = actions.iter().find(|a| a["action"] == "c2pa.edited").expect("an edited action");
    assert_eq!(edited["digitalSourceType"], COMPOSITE);
    assert_eq!(edited["softwareAgent"]["name"], "faceswap");
    assert_eq!(edited["softwareAgent"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(edited["parameters"]["org.faceswap.swapper"], "landmark");
    let ingredients = report["ingredients"].as_array().expect("ingredients");
    let parent = ingredients.iter().find(|i| i["relationship"] == "parentOf").expect("the target as parent");
    assert_eq!(parent["title"], target_title);
    if let Some(face) = ingredients.iter().find(|i| i["relationship"] == "componentOf") {
        // By hash only: nobody's face is copied into the manifest.
        assert!(face.get("thumbnail").is_none(), "{face}");
        let hash = edited["parameters"]["org.faceswap.source_face_sha256"].as_str().expect("the source's hash");
        assert_eq!(hash.len(), 64);
    }
}

#[test]
fn swapped_pictures_carry_a_manifest_an_independent_reader_validates_and_a_changed_byte_breaks() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for ext in ["jpg", "png"] {
        let out = dir.path().join(format!("swapped.{ext}"));
        swap(&data, &out, &[]);
        let report = c2pa_read(&out, None);
        check_manifest(&report, "t1.jpg");
        assert!(report["ingredients"].as_array().unwrap().iter().any(|i| i["relationship"] == "componentOf"));
        let (code, ours) = verify(&data, &[&out]);
        assert_eq!(code, 0, "{ours}");
        assert_eq!(ours["path"], s(&out));
        assert_eq!(ours["c2pa"]["present"], true);
        assert_eq!(ours["c2pa"]["valid"], true);
        assert_eq!(ours["c2pa"]["digital_source_type"], COMPOSITE);
        assert_eq!(ours["watermark"]["found"], true, "{ours}");
        assert!(ours["watermark"]["payload"].as_str().unwrap().starts_with("faceswap:"));
        assert!(ours["watermark"]["confidence"].as_f64().unwrap() > 0.8, "{ours}");
    }
    // The default identity: a local CA's certificate, its key readable by the user only.
    let identity = data.join("faceswap/provenance/signing-identity.pem");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&identity).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let text = std::fs::read_to_string(&identity).unwrap();
    assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2, "signing certificate and CA");

    // A target that was signed already: its manifest is kept in the parent ingredient.
    let again = dir.path().join("again.jpg");
    let out = faceswap(&data)
        .arg("swap")
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--target")
        .arg(dir.path().join("swapped.jpg"))
        .arg("--output")
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report = c2pa_read(&again, None);
    check_manifest(&report, "swapped.jpg");
    let parent = report["ingredients"].as_array().unwrap().iter().find(|i| i["relationship"] == "parentOf").cloned();
    assert!(parent.is_some_and(|p| p.get("active_manifest").is_some()), "{report}");

    // One changed byte in the picture's data: the hash no longer matches.
    let out = dir.path().join("swapped.jpg");
    let mut bytes = std::fs::read(&out).unwrap();
    let at = bytes.len() - 200;
    bytes[at] ^= 0x10;
    let tampered = dir.path().join("tampered.jpg");
    std::fs::write(&tampered, &bytes).unwrap();
    let report = c2pa_read(&tampered, None);
    assert_eq!(report["state"], "Invalid", "{report}");
    let (_, ours) = verify(&data, &[&tampered]);
    assert_eq!(ours["c2pa"]["valid"], false, "{ours}");
    assert!(
        ours["c2pa"]["problems"].as_array().unwrap().iter().any(|p| p
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("hash")),
        "{ours}"
    );
}

#[test]
fn the_watermark_survives_recompression_scaling_cropping_and_brightening() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let marked = dir.path().join("swapped.png");
    swap(&data, &marked, &[]);
    let (_, first) = verify(&data, &[&marked]);
    let payload = first["watermark"]["payload"].as_str().expect("a payload").to_string();
    let attacks: [(&str, &[&str]); 4] = [
        ("q75.jpg", &["-quality", "75"]),
        ("scaled.jpg", &["-resize", "75%", "-quality", "90"]),
        ("cropped.jpg", &["-gravity", "center", "-crop", "90%x90%+0+0", "+repage", "-quality", "90"]),
        ("brighter.jpg", &["-brightness-contrast", "10x0", "-quality", "90"]),
    ];
    for (name, args) in attacks {
        let out = dir.path().join(name);
        let mut all = vec![s(&marked)];
        all.extend_from_slice(args);
        all.push(s(&out));
        run("convert", &all);
        let (code, v) = verify(&data, &[&out]);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(v["watermark"]["found"], true, "{name}: {v}");
        assert_eq!(v["watermark"]["payload"], payload.as_str(), "{name}: {v}");
        // ImageMagick drops the manifest: the watermark alone says what it is.
        assert_eq!(v["c2pa"]["present"], false, "{name}: {v}");
    }

    // Marked against unmarked: the same swap with --provenance none.
    let plain = dir.path().join("plain.png");
    swap(&data, &plain, &["--provenance", "none"]);
    let (a, b) = (image::open(&marked).unwrap().into_rgb8(), image::open(&plain).unwrap().into_rgb8());
    let mse = a.as_raw().iter().zip(b.as_raw()).map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2)).sum::<f64>()
        / a.as_raw().len() as f64;
    let psnr = 10.0 * (255.0f64 * 255.0 / mse).log10();
    println!("picture watermark PSNR {psnr:.1} dB");
    assert!(psnr >= 40.0, "PSNR {psnr:.1} dB");

    // A video: every frame marked, then re-encoded, scaled, cropped and brightened by ffmpeg.
    let clip = clip_640(dir.path());
    let swapped = dir.path().join("swapped.mp4");
    let out = faceswap(&data)
        .args(["transcode", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(&clip)
        .arg("--output")
        .arg(&swapped)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("signed manifest embedded"));
    check_manifest(&c2pa_read(&swapped, None), "carphone-640.mp4");
    let video_attacks: [(&str, &[&str]); 4] = [
        ("crf28.mp4", &["-c:v", "libx264", "-crf", "28"]),
        ("scaled.mp4", &["-vf", "scale=480:360", "-c:v", "libx264", "-crf", "18"]),
        ("cropped.mp4", &["-vf", "crop=iw*0.9:ih*0.9", "-c:v", "libx264", "-crf", "18"]),
        ("brighter.mp4", &["-vf", "eq=brightness=0.1", "-c:v", "libx264", "-crf", "18"]),
    ];
    for (name, args) in video_attacks {
        let out = dir.path().join(name);
        let mut all = vec!["-loglevel", "error", "-y", "-i", s(&swapped)];
        all.extend_from_slice(args);
        all.push(s(&out));
        run("ffmpeg", &all);
        let (code, v) = verify(&data, &[&out]);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(v["watermark"]["payload"], payload.as_str(), "{name}: {v}");
    }
}

#[test]
fn clean_media_is_never_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let plain = dir.path().join("plain.png");
    swap(&data, &plain, &["--provenance", "none"]);
    let t1_q75 = dir.path().join("t1_q75.jpg");
    run("convert", &[s(&media("t1.jpg")), "-quality", "75", s(&t1_q75)]);
    let clip = clip_640(dir.path());
    let small = dir.path().join("astronaut_small.jpg");
    run("convert", &[s(&media("astronaut.png")), "-resize", "40%", s(&small)]);
    let files = [media("t1.jpg"), media("astronaut.png"), media("carphone.mp4"), clip, plain, t1_q75, small];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    let (code, v) = verify(&data, &refs);
    assert_eq!(code, 1, "none is marked: {v}");
    let list = v.as_array().expect("a list for several files");
    assert_eq!(list.len(), files.len());
    for report in list {
        assert_eq!(report["ai_edited"], false, "{report}");
        assert_eq!(report["watermark"]["found"], false, "{report}");
        assert_eq!(report["c2pa"]["present"], false, "{report}");
        println!("clean {}: confidence {}", report["path"], report["watermark"]["confidence"]);
    }
}

#[test]
fn verify_says_unreadable_input_in_one_line_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let garbage = dir.path().join("garbage.jpg");
    std::fs::write(&garbage, b"not a picture at all").unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, b"hello").unwrap();
    for path in [garbage, text, dir.path().join("missing.png")] {
        let out = faceswap(&data).arg("verify").arg(&path).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
        let stderr = String::from_utf8_lossy(&out.stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{stderr}");
        assert!(lines[0].starts_with("error: ") && !stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn provenance_none_warns_and_bad_provenance_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("plain.jpg");
    let run = swap(&data, &out, &["--provenance", "none"]);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("warning: --provenance none") && stderr.contains("Article 50"), "{stderr}");
    let (code, v) = verify(&data, &[&out]);
    assert_eq!(code, 1, "{v}");
    // No identity is made when nothing is signed.
    assert!(!data.join("faceswap/provenance").exists());
    for (args, says) in [
        (vec!["--provenance", "exif"], "unknown provenance mark"),
        (vec!["--provenance", "none,c2pa"], "cannot be given with"),
        (vec!["--provenance", "watermark", "--sign-cert", "a.pem", "--sign-key", "b.pem"], "--sign-cert signs"),
        (vec!["--sign-cert", "a.pem"], "--sign-key"),
    ] {
        let out = run_swap(&data, &dir.path().join("never.jpg"), &args);
        assert!(!out.status.success(), "{args:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!dir.path().join("never.jpg").exists());
    }
}

#[test]
fn a_webm_gets_a_sidecar_manifest_that_is_never_overwritten_unasked() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("swapped.webm");
    let transcode = |extra: &[&str]| {
        faceswap(&data)
            .args(["transcode", "--source"])
            .arg(media("astronaut.png"))
            .arg("--input")
            .arg(media("carphone.mp4"))
            .arg("--output")
            .arg(&out)
            .args(extra)
            .output()
            .unwrap()
    };
    let first = transcode(&[]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let sidecar = dir.path().join("swapped.c2pa");
    assert!(String::from_utf8_lossy(&first.stdout).contains("sidecar"), "the summary says where the manifest is");
    check_manifest(&c2pa_read(&out, Some(&sidecar)), "carphone.mp4");
    let (code, v) = verify(&data, &[&out]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["c2pa"]["valid"], true, "{v}");
    assert_eq!(v["c2pa"]["sidecar"], s(&sidecar));

    // The video gone, its sidecar left: a new run refuses to replace the sidecar unasked.
    std::fs::remove_file(&out).unwrap();
    let before = std::fs::read(&sidecar).unwrap();
    let refused = transcode(&[]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("swapped.c2pa"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert_eq!(std::fs::read(&sidecar).unwrap(), before);
    assert!(!out.exists());
    assert!(transcode(&["--overwrite"]).status.success());
}

/// A CA and a signing certificate made with openssl, for `--sign-cert`/`--sign-key`.
fn user_identity(dir: &Path, algorithm: &[&str]) -> (PathBuf, PathBuf) {
    let p = |n: &str| dir.join(n);
    let ext = p("leaf.ext");
    std::fs::write(
        &ext,
        "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
    )
    .unwrap();
    let ca_ext = p("ca.ext");
    std::fs::write(
        &ca_ext,
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n",
    )
    .unwrap();
    let mut gen = vec!["genpkey", "-out"];
    let ca_key = p("ca.key");
    gen.push(s(&ca_key));
    gen.extend_from_slice(&["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]);
    run("openssl", &gen);
    run(
        "openssl",
        &[
            "req",
            "-new",
            "-x509",
            "-key",
            s(&ca_key),
            "-subj",
            "/CN=Test Newsroom CA/O=Test",
            "-days",
            "30",
            "-out",
            s(&p("ca.pem")),
            "-extensions",
            "v3_ca",
        ],
    );
    let leaf_key = p("leaf.key");
    let mut gen = vec!["genpkey", "-out", s(&leaf_key)];
    gen.extend_from_slice(algorithm);
    run("openssl", &gen);
    run(
        "openssl",
        &["req", "-new", "-key", s(&leaf_key), "-subj", "/CN=Test Newsroom Signer/O=Test", "-out", s(&p("leaf.csr"))],
    );
    run(
        "openssl",
        &[
            "x509",
            "-req",
            "-in",
            s(&p("leaf.csr")),
            "-CA",
            s(&p("ca.pem")),
            "-CAkey",
            s(&ca_key),
            "-CAcreateserial",
            "-days",
            "30",
            "-extfile",
            s(&ext),
            "-out",
            s(&p("leaf.pem")),
        ],
    );
    let chain = p("chain.pem");
    let text = std::fs::read_to_string(p("leaf.pem")).unwrap() + &std::fs::read_to_string(p("ca.pem")).unwrap();
    std::fs::write(&chain, text).unwrap();
    (chain, leaf_key)
}

#[test]
fn a_users_own_es256_or_ed25519_certificate_signs_and_a_bad_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    for (name, algorithm) in [
        ("es256", vec!["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        ("ed25519", vec!["-algorithm", "ED25519"]),
    ] {
        let keys = dir.path().join(name);
        std::fs::create_dir_all(&keys).unwrap();
        let (chain, key) = user_identity(&keys, &algorithm);
        let out = dir.path().join(format!("{name}.jpg"));
        swap(&data, &out, &["--sign-cert", s(&chain), "--sign-key", s(&key)]);
        let report = c2pa_read(&out, None);
        check_manifest(&report, "t1.jpg");
        assert_eq!(report["signature"]["common_name"], "Test Newsroom Signer", "{report}");
        let (code, v) = verify(&data, &[&out]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["c2pa"]["signer"], "Test Newsroom Signer");
    }
    let bad = dir.path().join("bad.key");
    std::fs::write(&bad, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").unwrap();
    let chain = dir.path().join("es256/chain.pem");
    let out = run_swap(&data, &dir.path().join("never.jpg"), &["--sign-cert", s(&chain), "--sign-key", s(&bad)]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.key") && stderr.contains("ES256"), "{stderr}");
    assert!(!dir.path().join("never.jpg").exists());
}

#[cfg(feature = "server")]
#[test]
fn the_service_signs_its_pictures_and_verifies_uploads() {
    use crate::serve_support::{form, request, Server};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let answer = request(&[
        "-F",
        &form("source", &media("astronaut.png")),
        "-F",
        &form("target", &media("t1.jpg")),
        "-F",
        "format=jpeg",
        &server.url("/v1/swap"),
    ]);
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    let out = dir.path().join("served.jpg");
    std::fs::write(&out, &answer.body).unwrap();
    check_manifest(&c2pa_read(&out, None), "target");
    // The server's identity lives in its --data-dir.
    assert!(dir.path().join("data/provenance/signing-identity.pem").is_file());

    let checked = request(&["-F", &form("file", &out), &server.url("/v1/verify")]);
    assert_eq!(checked.status, 200, "{}", String::from_utf8_lossy(&checked.body));
    let v = checked.json();
    assert_eq!(v["ai_edited"], true, "{v}");
    assert_eq!(v["c2pa"]["valid"], true, "{v}");
    assert_eq!(v["watermark"]["found"], true, "{v}");
    assert_eq!(v["path"], "served.jpg");
    let clean = request(&["-F", &form("file", &media("carphone.mp4")), &server.url("/v1/verify")]).json();
    assert_eq!(clean["ai_edited"], false, "{clean}");
    assert_eq!(clean["watermark"]["found"], false, "{clean}");

    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"nothing anyone can read").unwrap();
    let refused = request(&["-F", &form("file", &garbage), &server.url("/v1/verify")]);
    refused.problem(415);
    let missing = request(&["-F", "other=1", &server.url("/v1/verify")]);
    missing.problem(400);
    let doc = request(&[&server.url("/openapi.json")]).json();
    assert!(doc["paths"]["/v1/verify"]["post"].is_object(), "the OpenAPI document lists /v1/verify");
}

#[cfg(feature = "server")]
#[test]
fn video_jobs_come_back_signed_and_a_webm_result_has_its_manifest_beside_it() {
    use std::time::Duration;

    use crate::serve_support::{form, request, wait_for, Server};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    for container in ["mp4", "webm"] {
        let answer = request(&[
            "-F",
            &form("source", &media("astronaut.png")),
            "-F",
            &form("input", &media("carphone.mp4")),
            "-F",
            &format!("container={container}"),
            &server.url("/v1/jobs"),
        ]);
        assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
        let id = answer.json()["id"].as_str().unwrap().to_string();
        let done = wait_for(&server, &format!("/v1/jobs/{id}"), Duration::from_secs(300), |a| {
            matches!(a.json()["status"].as_str(), Some("succeeded" | "failed"))
        });
        assert_eq!(done.json()["status"], "succeeded", "{}", done.json());
        let result = dir.path().join(format!("result.{container}"));
        let got = request(&[&server.url(&format!("/v1/jobs/{id}/result"))]);
        std::fs::write(&result, &got.body).unwrap();
        let manifest = request(&[&server.url(&format!("/v1/jobs/{id}/manifest"))]);
        if container == "mp4" {
            manifest.problem(404);
            check_manifest(&c2pa_read(&result, None), "carphone.mp4");
        } else {
            assert_eq!(manifest.status, 200);
            assert_eq!(manifest.header("content-type"), Some("application/c2pa"));
            let sidecar = dir.path().join("result.c2pa");
            std::fs::write(&sidecar, &manifest.body).unwrap();
            check_manifest(&c2pa_read(&result, Some(&sidecar)), "carphone.mp4");
        }
        let (code, v) = verify(&dir.path().join("cli-data"), &[&result]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(v["watermark"]["found"], true, "{v}");
    }
}

#[test]
fn a_live_recording_gets_its_manifest_when_it_is_finished() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let recording = dir.path().join("recording.mp4");
    // At 640×480: at the clip's own 176×144 the recorder's encoding washes the mark out (the
    // README's table says where it holds).
    let clip = clip_640(dir.path());
    let out = faceswap(&data)
        .args(["live", "--headless", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(&clip)
        .arg("--record")
        .arg(&recording)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    check_manifest(&c2pa_read(&recording, None), "carphone-640.mp4");
    let (code, v) = verify(&data, &[&recording]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["watermark"]["found"], true, "live frames are marked too: {v}");
}
