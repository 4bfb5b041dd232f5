//! Hostile input, faults and signals, each class answered the way a careful user expects: the
//! files are made here (a picture bomb, a truncated library, a redirecting server, a rotated
//! clip, odd sizes, a killed run) and the program is run as a user runs it.

use std::{
    io::{Read, Write},
    net::TcpListener,
    os::unix::fs::PermissionsExt,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use faceswap::{
    face::Analysis,
    pipeline::{FaceTracker, TrackerConfig},
};

use crate::{
    model_server::{Behaviour, ModelServer},
    models::models_copy,
    support::{analyzer, media, models_dir, photo, root},
    transcode::{ffmpeg, ffprobe, frame_times},
};

pub fn faceswap() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root()).env("FACESWAP_MODELS_DIR", models_dir()).env_remove("ORT_DYLIB_PATH");
    cmd
}

/// A run that must fail with one line starting "error:" (log lines allowed before it).
pub fn one_line_error(out: &Output) -> String {
    assert!(!out.status.success(), "expected failure: {}", String::from_utf8_lossy(&out.stdout));
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let lines: Vec<&str> =
        stderr.lines().filter(|l| !l.trim().is_empty() && !l.contains(" WARN ") && !l.starts_with("note:")).collect();
    assert_eq!(lines.len(), 1, "expected one line, got {stderr:?}");
    assert!(lines[0].starts_with("error: "), "{stderr}");
    lines[0].to_string()
}

pub fn swap(source: &Path, target: &Path, output: &Path) -> Command {
    let mut cmd = faceswap();
    cmd.arg("swap").arg("--source").arg(source).arg("--target").arg(target).arg("--output").arg(output);
    cmd
}

pub fn transcode(input: &Path, output: &Path) -> Command {
    let mut cmd = faceswap();
    cmd.arg("transcode")
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output);
    cmd
}

/// A tiny PNG whose header claims `side`×`side` pixels (its CRC right).
pub fn picture_bomb(path: &Path, side: u32) {
    let mut bytes = Vec::new();
    image::RgbImage::new(1, 1).write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes[16..20].copy_from_slice(&side.to_be_bytes());
    bytes[20..24].copy_from_slice(&side.to_be_bytes());
    // The IHDR chunk's CRC covers its type and data.
    let crc = crc32fast::hash(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn picture_bombs_are_refused_on_every_picture_path_before_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.png");
    picture_bomb(&bomb, 100_000);
    let out = dir.path().join("out.png");
    let (astronaut, t1) = (media("astronaut.png"), media("t1.jpg"));
    let mut reference = swap(&astronaut, &t1, &out);
    reference.arg("--reference").arg(&bomb);
    let mut detect = faceswap();
    detect.arg("detect").arg(&bomb);
    let mut live = faceswap();
    live.args(["live", "--headless", "--frames", "3", "--source"]).arg(&astronaut).arg("--input").arg(&bomb);
    let mut small_limit = swap(&astronaut, &t1, &out);
    small_limit.args(["--max-pixels", "300000"]);
    for (name, mut cmd, expected) in [
        ("target", swap(&astronaut, &bomb, &out), "100000×100000"),
        ("source", swap(&bomb, &t1, &out), "100000×100000"),
        ("reference", reference, "100000×100000"),
        ("detect", detect, "100000×100000"),
        ("still input", live, "100000×100000"),
        ("--max-pixels", small_limit, "1280×886"),
    ] {
        let started = Instant::now();
        let output = cmd.output().unwrap();
        let line = one_line_error(&output);
        assert!(line.contains(expected) && line.contains("limit"), "{name}: {line}");
        assert!(line.contains("--max-pixels"), "{name}: the hint names the option: {line}");
        assert!(started.elapsed() < Duration::from_secs(10), "{name}: took {:?}", started.elapsed());
        assert!(!out.exists());
    }
}

#[test]
fn a_truncated_picture_is_refused_not_swapped_grey() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(media("t1.jpg")).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &bytes[..bytes.len() * 4 / 10]).unwrap();
    let out = dir.path().join("out.png");
    let line = one_line_error(&swap(&media("astronaut.png"), &cut, &out).output().unwrap());
    assert!(line.contains("cut.jpg") && line.contains("truncated"), "{line}");
    assert!(!out.exists());
}

#[test]
fn a_damaged_onnx_runtime_library_is_named_not_a_bus_error() {
    let dir = tempfile::tempdir().unwrap();
    let library = faceswap::runtime::locate_library(Some(&root().join(".cache/onnxruntime")), None).unwrap();
    let bytes = std::fs::read(&library).unwrap();
    let cut = dir.path().join("libonnxruntime.so.1.32.0");
    std::fs::write(&cut, &bytes[..bytes.len() / 3]).unwrap();
    let out = faceswap().args(["detect", "--ort-lib"]).arg(&cut).arg(media("t1.jpg")).output().unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("damaged") && line.contains("truncated"), "{line}");
    assert_eq!(out.status.code(), Some(1), "a clean exit, not a signal");
}

#[test]
fn bench_measures_exactly_the_providers_named() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("bench.json");
    let out = faceswap()
        .args(["bench", "--ep", "cuda", "--frames", "2", "--synthetic", "160x120", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("cuda") && line.contains("not available") && line.contains("--ep"), "{line}");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let eps: Vec<&str> = report["providers"].as_array().unwrap().iter().map(|p| p["ep"].as_str().unwrap()).collect();
    assert_eq!(eps, ["cuda:0"], "only what was asked for, never the CPU in its place");
    let fallback = faceswap().args(["bench", "--ep", "cuda", "--ep-fallback"]).output().unwrap();
    assert!(one_line_error(&fallback).contains("--ep-fallback"));
    let several = faceswap().args(["detect", "--ep", "cpu,cuda"]).arg(media("t1.jpg")).output().unwrap();
    assert!(one_line_error(&several).contains("one provider"));
}

/// Answers every request with a redirect to `location`.
fn redirecting_server(location: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten().take(20) {
            let mut stream = stream;
            let mut buffer = [0u8; 2048];
            let _ = stream.read(&mut buffer);
            let answer =
                format!("HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    base
}

#[test]
fn a_redirect_cannot_get_around_the_https_rule() {
    let dir = tempfile::tempdir().unwrap();
    let mirror = redirecting_server("http://example.invalid/2d106det.onnx");
    let out = faceswap()
        .args(["models", "fetch", "2d106det", "--mirror", &mirror, "--models-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("redirected") && line.contains("refused"), "{line}");
    assert!(!line.contains("pass --mirror"), "a mirror was given: {line}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing downloaded, no partial left");
}

#[test]
fn a_mirror_sending_more_than_the_model_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let served = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(models_dir().join("2d106det.onnx")).unwrap();
    bytes.extend(vec![0u8; 50 << 20]);
    std::fs::write(served.path().join("2d106det.onnx"), &bytes).unwrap();
    let server = ModelServer::start(served.path().to_path_buf(), Behaviour::default());
    let started = Instant::now();
    let out = faceswap()
        .args(["models", "fetch", "2d106det", "--mirror", &server.base, "--models-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(line.contains("announces") && line.contains("5030888"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_rotated_clip_comes_out_upright_and_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let rotated = dir.path().join("phone.mp4");
    // A clip stored sideways with a display matrix, as phones record (the picture itself is
    // turned, the matrix turns it back).
    let sideways = dir.path().join("sideways.mp4");
    ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-vf",
        "transpose=1",
        "-c:v",
        "libx264",
        sideways.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-i",
        sideways.to_str().unwrap(),
        "-c",
        "copy",
        "-metadata:s:v:0",
        "rotate=90",
        rotated.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mp4");
    let run = transcode(&rotated, &output).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let size = ffprobe(&output, &["-select_streams", "v", "-show_entries", "stream=width,height", "-of", "csv=p=0"]);
    assert_eq!(size.trim(), "176,144", "upright, as ffmpeg shows it");
    assert_eq!(frame_times(&output).len(), 120);
    assert!(String::from_utf8_lossy(&run.stdout).contains("(120 swapped)"), "{}", String::from_utf8_lossy(&run.stdout));
    // Frame 10 is turned as ffmpeg's own player turns it, which is the clip as first recorded.
    let (ours, shown, original) =
        (dir.path().join("ours.png"), dir.path().join("shown.png"), dir.path().join("original.png"));
    for (clip, png) in [(&output, &ours), (&rotated, &shown), (&media("carphone.mp4"), &original)] {
        ffmpeg(&["-i", clip.to_str().unwrap(), "-vf", "select=eq(n\\,10)", "-frames:v", "1", png.to_str().unwrap()]);
    }
    let ours = image::open(&ours).unwrap().into_rgb8();
    for reference in [&shown, &original] {
        let reference = image::open(reference).unwrap().into_rgb8();
        assert_eq!(ours.dimensions(), reference.dimensions());
        let differs = ours
            .pixels()
            .zip(reference.pixels())
            .filter(|(p, q)| p.0.iter().zip(q.0).any(|(x, y)| x.abs_diff(y) > 60))
            .count();
        assert!(differs < ours.pixels().len() / 4, "{differs} pixels differ a lot: not upright");
    }
}

#[test]
fn odd_frame_sizes_are_padded_by_a_pixel_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("odd.mkv");
    ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-vf",
        "scale=641:479",
        "-c:v",
        "ffv1",
        odd.to_str().unwrap(),
    ]);
    let output = dir.path().join("out.mp4");
    let run = transcode(&odd, &output).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert!(String::from_utf8_lossy(&run.stdout).contains("641×479; the video is 642×480"));
    let size = ffprobe(&output, &["-select_streams", "v", "-show_entries", "stream=width,height", "-of", "csv=p=0"]);
    assert_eq!(size.trim(), "642,480");
    assert_eq!(frame_times(&output).len(), 120);
}

#[test]
fn containers_and_codecs_are_checked_up_front_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let input = media("carphone.mp4");
    // The natural codec of the container when none is named.
    let webm = dir.path().join("out.webm");
    let run = transcode(&input, &webm).output().unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let codec = ffprobe(&webm, &["-select_streams", "v", "-show_entries", "stream=codec_name", "-of", "csv=p=0"]);
    assert_eq!(codec.trim(), "vp9");
    // A pairing the container refuses, named before any frame is decoded.
    let mut mismatch = transcode(&input, &dir.path().join("x.webm"));
    mismatch.args(["--codec", "h264"]);
    let started = Instant::now();
    let line = one_line_error(&mismatch.output().unwrap());
    assert!(line.contains("webm") && line.contains("h264") && !line.contains("partial"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(5));
    // CRF per codec.
    let mut crf = transcode(&input, &dir.path().join("x.mp4"));
    crf.args(["--crf", "60"]);
    assert!(one_line_error(&crf.output().unwrap()).contains("0 to 51"));
    // Subtitles the container cannot hold: named, with the way out.
    let subs = dir.path().join("subs.srt");
    std::fs::write(&subs, "1\n00:00:00,500 --> 00:00:01,500\nhello\n").unwrap();
    let with_srt = dir.path().join("with-srt.mkv");
    ffmpeg(&[
        "-i",
        input.to_str().unwrap(),
        "-i",
        subs.to_str().unwrap(),
        "-map",
        "0",
        "-map",
        "1",
        "-c",
        "copy",
        with_srt.to_str().unwrap(),
    ]);
    let line = one_line_error(&transcode(&with_srt, &dir.path().join("srt.mp4")).output().unwrap());
    assert!(
        line.contains("mp4") && line.contains("subtitle") && line.contains("srt.mp4") && !line.contains("partial"),
        "{line}"
    );
    assert!(transcode(&with_srt, &dir.path().join("srt-ok.mkv")).output().unwrap().status.success());
    // An unknown extension: every container the message recommends works.
    let line = one_line_error(&transcode(&input, &dir.path().join("x.avi")).output().unwrap());
    assert!(line.contains("x.avi"), "{line}");
    for extension in [".mp4", ".mkv", ".mov", ".webm"] {
        assert!(line.contains(extension), "{line}");
        // Own stems: a WebM's and an MKV's sidecar manifests would both be recommended.c2pa.
        let out = dir.path().join(format!("recommended-{}{extension}", &extension[1..]));
        assert!(transcode(&input, &out).output().unwrap().status.success(), "{extension} is recommended and must work");
    }
    assert!(!std::fs::read_dir(dir.path()).unwrap().any(|e| e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("partial")));
}

#[test]
fn health_advice_works_and_no_models_is_unhealthy() {
    let dir = tempfile::tempdir().unwrap();
    let out = faceswap().args(["health", "--json", "--models-dir"]).arg(dir.path()).output().unwrap();
    assert!(!out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["status"], "unhealthy", "nothing can be swapped without models: {report}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("scripts/setup.sh") && stderr.contains("--mirror"), "{stderr}");
    // The advice works: fetching from a mirror makes it healthy.
    let server = ModelServer::start(models_dir(), Behaviour::default());
    let fetch = faceswap()
        .args(["models", "fetch", "--mirror", &server.base, "--models-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(fetch.status.success(), "{}", String::from_utf8_lossy(&fetch.stderr));
    let again = faceswap().args(["health", "--models-dir"]).arg(dir.path()).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stdout));
    // A missing model is said to be missing (not damaged), with the folder absolute.
    let relative = faceswap()
        .current_dir(dir.path())
        .args(["detect", "--models-dir", "nowhere"])
        .arg(media("t1.jpg"))
        .output()
        .unwrap();
    let line = one_line_error(&relative);
    let absolute = dir.path().join("nowhere").canonicalize().unwrap_or_else(|_| dir.path().join("nowhere"));
    assert!(line.contains("missing") && !line.contains("damaged"), "{line}");
    assert!(line.contains(absolute.to_str().unwrap()) || line.contains(dir.path().to_str().unwrap()), "{line}");
    assert!(line.contains("--models-dir"), "{line}");
}

#[test]
fn the_program_works_from_any_folder() {
    // A user's data folder laid out as scripts/assets.py --root lays it out, and a working
    // folder with nothing in it.
    let data = tempfile::tempdir().unwrap();
    let home = data.path().join("faceswap");
    std::fs::create_dir_all(home.join(".cache")).unwrap();
    std::os::unix::fs::symlink(models_dir(), home.join("models")).unwrap();
    for part in ["onnxruntime", "media"] {
        std::os::unix::fs::symlink(root().join(".cache").join(part), home.join(".cache").join(part)).unwrap();
    }
    let elsewhere = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_faceswap"))
            .current_dir(elsewhere.path())
            .env_remove("FACESWAP_MODELS_DIR")
            .env_remove("ORT_DYLIB_PATH")
            .env("XDG_DATA_HOME", data.path())
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["detect", media("t1.jpg").to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("6 face(s)"));
    // bench's default source picture too.
    let bench = run(&["bench", "--frames", "2", "--synthetic", "160x120", "--no-encode"]);
    assert!(bench.status.success(), "{}", String::from_utf8_lossy(&bench.stderr));
}

#[test]
fn outputs_are_checked_before_the_work_starts() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("a-folder.png");
    std::fs::create_dir(&folder).unwrap();
    let line = one_line_error(&swap(&media("astronaut.png"), &media("t1.jpg"), &folder).output().unwrap());
    assert!(line.contains("is a folder"), "{line}");
    let mut stats = transcode(&media("carphone.mp4"), &dir.path().join("out.mp4"));
    stats.arg("--stats-json").arg(dir.path());
    let started = Instant::now();
    let line = one_line_error(&stats.output().unwrap());
    assert!(line.contains("--stats-json") && line.contains("is a folder"), "{line}");
    assert!(started.elapsed() < Duration::from_secs(3), "refused before the run, not after it");
    assert!(!dir.path().join("out.mp4").exists());
}

#[test]
fn a_source_with_several_faces_says_which_it_uses() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let run = swap(&media("t1.jpg"), &media("astronaut.png"), &out).output().unwrap();
    assert!(run.status.success());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(stderr.contains("has 6 faces; using face") && stderr.contains("--source-face"), "{stderr}");
    let picked = swap(&media("t1.jpg"), &media("astronaut.png"), &dir.path().join("two.png"))
        .args(["--source-face", "2"])
        .output()
        .unwrap();
    assert!(picked.status.success() && !String::from_utf8_lossy(&picked.stderr).contains("note:"));
    let (a, b) = (image::open(&out).unwrap().into_rgb8(), image::open(dir.path().join("two.png")).unwrap().into_rgb8());
    assert_ne!(a, b, "another source face, another result");
    let line = one_line_error(
        &swap(&media("t1.jpg"), &media("astronaut.png"), &dir.path().join("x.png"))
            .args(["--source-face", "9"])
            .output()
            .unwrap(),
    );
    assert!(line.contains("face 9 does not exist in the source"), "{line}");
}

#[test]
fn outputs_get_the_umask_mode_and_keep_a_replaced_files_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let script = format!(
        "umask 027 && exec {} swap --source {} --target {} --output {}",
        env!("CARGO_BIN_EXE_faceswap"),
        media("astronaut.png").display(),
        media("t1.jpg").display(),
        out.display()
    );
    let run = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o640, "0666 under umask 027");
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o604)).unwrap();
    let again = swap(&media("astronaut.png"), &media("t1.jpg"), &out).arg("--overwrite").output().unwrap();
    assert!(again.status.success());
    assert_eq!(
        std::fs::metadata(&out).unwrap().permissions().mode() & 0o777,
        0o604,
        "the replaced file's mode is kept"
    );
}

#[test]
fn a_killed_transcode_leaves_no_partial_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let long = crate::support::long_clip(dir.path(), 20);
    let output = dir.path().join("out.mp4");
    let mut child = transcode(&long, &output).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let partial = |dir: &Path| -> Vec<PathBuf> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().contains("partial"))
            .collect()
    };
    let until = Instant::now() + Duration::from_secs(20);
    while partial(dir.path()).is_empty() {
        assert!(Instant::now() < until, "no partial file appeared");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = partial(dir.path());
    assert_eq!(left.len(), 1, "SIGKILL leaves the partial: {left:?}");
    let rerun = transcode(&media("carphone.mp4"), &output).output().unwrap();
    assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
    assert!(String::from_utf8_lossy(&rerun.stderr).contains("removed a partial output left by an interrupted run"));
    assert!(partial(dir.path()).is_empty(), "{:?}", partial(dir.path()));
}

#[test]
fn ctrl_c_during_a_model_repair_does_not_hang_the_exit() {
    // A mirror so slow that the repair is still downloading when the user presses Ctrl-C.
    let server = ModelServer::start(models_dir(), Behaviour { delay: Duration::from_secs(60), ..Behaviour::default() });
    let models = models_copy();
    let child = faceswap()
        .args(["live", "--headless", "--loop", "--watch-interval", "0.2", "--mirror", &server.base, "--models-dir"])
        .arg(models.path())
        .arg("--source")
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(media("carphone.mp4"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    std::fs::write(models.path().join("2d106det.onnx"), b"junk").unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while server.requests.lock().unwrap().is_empty() {
        assert!(Instant::now() < until, "the watchdog did not start a repair");
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    eprintln!("stopped {:.2} s after Ctrl-C, mid-repair", sent.elapsed().as_secs_f64());
    assert!(sent.elapsed() < Duration::from_secs(5), "took {:?}", sent.elapsed());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn face_n_in_video_is_face_n_of_detect() {
    // Faces 0 and 1 hidden at first, then all six: the order follows detection, not track age.
    let t1 = photo("t1.jpg");
    let mut analyzer = analyzer();
    let detected = analyzer.analyze(&t1, Analysis::DETECT_ONLY).unwrap();
    let mut hidden = t1.clone();
    for face in &detected[..2] {
        let [x0, y0, x1, y1] = face.bbox.map(|v| v.max(0.0) as u32);
        for y in y0..y1.min(hidden.height()) {
            for x in x0..x1.min(hidden.width()) {
                hidden.put_pixel(x, y, image::Rgb([128, 128, 128]));
            }
        }
    }
    let (detector, landmarker, _) = analyzer.into_parts();
    let config = TrackerConfig { detect_every: 1, smoothing: false, ..TrackerConfig::default() };
    let mut tracker = FaceTracker::new(detector, landmarker, None, config);
    assert_eq!(tracker.update(&hidden, 0.0).unwrap().len(), 4);
    let tracked = tracker.update(&t1, 0.04).unwrap();
    assert_eq!(tracked.len(), 6);
    for (i, (track, face)) in tracked.iter().zip(&detected).enumerate() {
        let centre = |b: [f32; 4]| [(b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0];
        let (a, b) = (centre(track.bbox), centre(face.bbox));
        assert!((a[0] - b[0]).abs() < 10.0 && (a[1] - b[1]).abs() < 10.0, "face {i}: tracked {a:?}, detected {b:?}");
    }
}

#[test]
fn progress_json_is_only_json_and_health_refuses_post() {
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("out.mp4");
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let child = transcode(&media("carphone.mp4"), &output)
        .args(["--progress-json", "--health-addr", &addr])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    let post = loop {
        let answer = Command::new("curl")
            .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
            .arg(format!("http://{addr}/health"))
            .output()
            .unwrap();
        let code = String::from_utf8_lossy(&answer.stdout).to_string();
        if code != "000" || Instant::now() > until {
            break code;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let last = lines.last().unwrap();
    assert_eq!(last["done"], true);
    assert_eq!(last["report"]["frames"], 120);
    // Too quick a clip may finish before the endpoint answers; when it answered, POST is refused.
    assert!(post == "000" || post == "405", "POST /health answered {post}");
}

#[test]
fn transparency_is_kept_and_other_video_streams_are_named() {
    let dir = tempfile::tempdir().unwrap();
    // An RGBA target: the swapped picture keeps its alpha channel.
    let rgba = image::DynamicImage::ImageRgb8(photo("t1.jpg")).to_rgba8();
    let mut rgba = rgba;
    for (x, _, p) in rgba.enumerate_pixels_mut() {
        p.0[3] = (x % 256) as u8;
    }
    let target = dir.path().join("rgba.png");
    rgba.save(&target).unwrap();
    let out = dir.path().join("out.png");
    assert!(swap(&media("astronaut.png"), &target, &out).output().unwrap().status.success());
    let result = image::open(&out).unwrap();
    assert!(result.color().has_alpha(), "the alpha channel is kept");
    assert!(result.to_rgba8().pixels().zip(rgba.pixels()).all(|(a, b)| a.0[3] == b.0[3]));
    // A second video stream: said, not dropped in silence.
    let two = dir.path().join("two-videos.mkv");
    let clip = media("carphone.mp4");
    ffmpeg(&[
        "-i",
        clip.to_str().unwrap(),
        "-i",
        clip.to_str().unwrap(),
        "-map",
        "0:v",
        "-map",
        "1:v",
        "-c",
        "copy",
        two.to_str().unwrap(),
    ]);
    let run = transcode(&two, &dir.path().join("one.mkv")).output().unwrap();
    assert!(run.status.success());
    assert!(
        String::from_utf8_lossy(&run.stderr).contains("not carried over"),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

#[test]
fn a_second_ctrl_c_ends_a_transcode_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let long = crate::support::long_clip(dir.path(), 30);
    let child =
        transcode(&long, &dir.path().join("out.mp4")).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    // The output's partial appears once the transcode runs (its signal handling is set by
    // then), however long a busy machine takes to get there.
    let until = Instant::now() + Duration::from_secs(60);
    let started = || {
        std::fs::read_dir(dir.path()).unwrap().flatten().any(|e| e.file_name().to_string_lossy().starts_with(".out."))
    };
    while !started() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let sent = Instant::now();
    for _ in 0..2 {
        Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(sent.elapsed() < Duration::from_secs(2), "took {:?}", sent.elapsed());
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[test]
fn a_closed_pipe_ends_output_quietly() {
    for command in ["models list", "detect --landmarks --json .cache/media/t1.jpg"] {
        let script = format!("set -o pipefail; {} {command} | head -c 10 > /dev/null", env!("CARGO_BIN_EXE_faceswap"));
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(root())
            .env("FACESWAP_MODELS_DIR", models_dir())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{command}: {stderr}");
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
    }
}
