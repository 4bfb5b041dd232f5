//! Live mode: the window under Xvfb carrying the source identity, bounded delay when the swap
//! stage lags, lossless delivery, and a clean stop on Ctrl-C.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use faceswap::{
    face::{largest_face, Analysis, Face, FaceSelection},
    pipeline::{Controls, FaceTracker, Pipeline, PipelineConfig, SinkMeter, StageModels, StageUpdates, TrackerConfig},
    swap::{SourceFace, SwapError, Swapper, SwapperKind},
    video::{Pacing, SourceSpec},
};
use image::RgbImage;

use crate::support::{analyzer, media, photo, root};

/// A swapper that takes `delay` per face and marks nothing: the slow stage of the tests.
struct SlowSwapper {
    delay: Duration,
}

impl Swapper for SlowSwapper {
    fn kind(&self) -> SwapperKind {
        SwapperKind::Landmark
    }
    fn target_needs(&self) -> Analysis {
        Analysis::DETECT_ONLY
    }
    fn swap(&mut self, _: &mut RgbImage, _: &Face, _: &SourceFace) -> Result<(), SwapError> {
        std::thread::sleep(self.delay);
        Ok(())
    }
}

/// The stages' models: the tracker, a slow swapper, the astronaut as the source.
fn models(delay: Duration) -> StageModels {
    let mut analyzer = analyzer();
    let source = SourceFace::largest_in(&photo("astronaut.png"), &mut analyzer, "astronaut").unwrap();
    let (detector, landmarker, _) = analyzer.into_parts();
    let tracker =
        FaceTracker::new(detector, landmarker, None, TrackerConfig { detect_every: 3, ..TrackerConfig::default() });
    StageModels {
        tracker,
        swapper: Box::new(SlowSwapper { delay }),
        pixel_boost: None,
        enhancer: None,
        masker: None,
        sources: Arc::new(source).into(),
        watermarker: None,
    }
}

fn carphone() -> SourceSpec {
    SourceSpec::File {
        path: media("carphone.mp4"),
        resolution: None,
        looping: false,
        limits: faceswap::imaging::PictureLimits::default(),
    }
}

/// Runs the pipeline to the end with a slow swap stage; returns the stats and the sequence
/// numbers in the order the sink saw them.
fn run_slow(config: PipelineConfig) -> (faceswap::pipeline::PipelineStats, Vec<u64>) {
    let controls = Arc::new(Controls::default());
    let models = models(Duration::from_millis(80));
    let pipeline = Pipeline::start(carphone(), models, config, controls.clone(), StageUpdates::none()).unwrap();
    let mut meter = SinkMeter::new(faceswap::pipeline::Stage::Display);
    let mut seqs = Vec::new();
    while let Some(frame) = pipeline.frames().recv() {
        seqs.push(frame.seq);
        meter.record(&frame, 0.0);
        pipeline.recycle(frame);
    }
    let counts = pipeline.finish(&controls).unwrap();
    (meter.finish(counts), seqs)
}

#[test]
fn live_policy_drops_frames_to_keep_delay_bounded() {
    // 30 fps in, at most 12.5 fps through the swap stage.
    let (stats, seqs) = run_slow(PipelineConfig { selection: FaceSelection::All, ..PipelineConfig::live() });
    eprintln!(
        "live: {} shown, {} dropped, delay p50 {:.0} ms p95 {:.0} ms",
        stats.frames_shown, stats.frames_dropped, stats.latency_ms.p50, stats.latency_ms.p95
    );
    assert_eq!(stats.frames_captured, 120);
    assert!(stats.frames_dropped > 40, "only {} frames dropped", stats.frames_dropped);
    assert_eq!(
        stats.frames_shown + stats.frames_dropped,
        stats.frames_captured,
        "every frame is shown or counted as dropped"
    );
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "frames out of order");
    // Two queued frames and one in hand at 80 ms each, plus detection: well under half a second.
    assert!(stats.latency_ms.p95 < 500.0, "delay p95 {} ms", stats.latency_ms.p95);
}

#[test]
fn lossless_policy_delivers_every_frame_in_order() {
    let config = PipelineConfig {
        pacing: Some(Pacing::Timestamps),
        selection: FaceSelection::All,
        ..PipelineConfig::lossless()
    };
    let (stats, seqs) = run_slow(config);
    assert_eq!(stats.frames_dropped, 0);
    assert_eq!(seqs, (0..120).collect::<Vec<u64>>(), "every frame, in order");
    // Every frame went through the 80 ms stage: the run takes as long as that, not real time.
    assert!(stats.duration_s > 9.0, "took {} s for 120 frames at 80 ms", stats.duration_s);
}

#[test]
fn lossless_policy_unpaced_keeps_every_frame() {
    let controls = Arc::new(Controls::default());
    let pipeline = Pipeline::start(
        carphone(),
        models(Duration::from_millis(1)),
        PipelineConfig::lossless(),
        controls.clone(),
        StageUpdates::none(),
    )
    .unwrap();
    let seqs: Vec<u64> = pipeline.frames().into_iter().map(|f| f.seq).collect();
    pipeline.finish(&controls).unwrap();
    assert_eq!(seqs, (0..120).collect::<Vec<u64>>());
}

#[test]
fn missing_input_is_reported_when_starting() {
    let controls = Arc::new(Controls::default());
    let spec = SourceSpec::File {
        path: PathBuf::from("/nonexistent/clip.mp4"),
        resolution: None,
        looping: false,
        limits: faceswap::imaging::PictureLimits::default(),
    };
    let err = Pipeline::start(spec, models(Duration::ZERO), PipelineConfig::live(), controls, StageUpdates::none())
        .err()
        .expect("a missing file fails to start");
    assert!(err.to_string().contains("/nonexistent/clip.mp4"), "{err}");
}

fn faceswap_live() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root()).arg("live").arg("--source").arg(media("astronaut.png"));
    cmd
}

#[test]
fn ctrl_c_stops_every_thread_within_a_second_and_writes_stats() {
    let dir = tempfile::tempdir().unwrap();
    let stats = dir.path().join("stats.json");
    let mut child = faceswap_live()
        .args(["--headless", "--loop", "--input"])
        .arg(media("carphone.mp4"))
        .arg("--stats-json")
        .arg(&stats)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let sent = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let status = wait_with_timeout(&mut child, Duration::from_secs(5));
    let took = sent.elapsed();
    assert!(status.is_some_and(|s| s.success()), "faceswap did not exit cleanly: {status:?}");
    assert!(took < Duration::from_secs(1), "took {took:?} to stop");
    let report: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&stats).unwrap()).unwrap();
    assert!(report["frames_shown"].as_u64().unwrap() > 30, "{report}");
    // The counts add up: every frame shown was captured, swapped ones are among those shown,
    // and what was captured was shown, dropped or still in flight when Ctrl-C came.
    let count = |key: &str| report[key].as_u64().unwrap_or_else(|| panic!("stats lack {key}: {report}"));
    let (captured, shown, swapped, dropped) =
        (count("frames_captured"), count("frames_shown"), count("frames_swapped"), count("frames_dropped"));
    assert!(swapped > 0 && swapped <= shown && shown + dropped <= captured, "{report}");
    assert!(report["fps"].as_f64().is_some_and(|f| f > 0.0), "{report}");
    let latency = &report["latency_ms"];
    assert!(latency["p50"].as_f64().unwrap() > 0.0 && latency["p95"].as_f64() >= latency["p50"].as_f64(), "{report}");
    for stage in ["capture", "detect", "swap", "display"] {
        assert!(report["stage_ms"][stage]["p95"].as_f64().is_some(), "stats lack stage {stage}");
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

/// An X server of the test's own, stopped when dropped.
struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    fn start() -> Self {
        let number = 40 + std::process::id() % 400;
        let display = format!(":{number}");
        let child = Command::new("Xvfb")
            .args([display.as_str(), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb runs (scripts/setup.sh installs it)");
        let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
        let until = Instant::now() + Duration::from_secs(10);
        while !socket.exists() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, display }
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn window_shows_the_source_identity_under_xvfb() {
    let x = Xvfb::start();
    let dir = tempfile::tempdir().unwrap();
    let mut child = faceswap_live()
        .arg("--input")
        .arg(media("carphone.mp4"))
        .args(["--frames", "60"])
        .env("DISPLAY", &x.display)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the window, let a few frames through, then take the screen.
    let until = Instant::now() + Duration::from_secs(20);
    let mut mapped = false;
    while Instant::now() < until && !mapped {
        let tree = Command::new("xwininfo").args(["-root", "-tree"]).env("DISPLAY", &x.display).output().unwrap();
        mapped = String::from_utf8_lossy(&tree.stdout).contains("faceswap");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(mapped, "no faceswap window appeared");
    std::thread::sleep(Duration::from_millis(700));
    let shot = dir.path().join("screen.png");
    let import =
        Command::new("import").args(["-window", "root"]).arg(&shot).env("DISPLAY", &x.display).status().unwrap();
    assert!(import.success(), "screenshot failed");
    let status = wait_with_timeout(&mut child, Duration::from_secs(20));
    assert!(status.is_some_and(|s| s.success()), "live exited with {status:?}");

    let mut analyzer = analyzer();
    let astronaut = photo("astronaut.png");
    let source = analyzer.analyze(&astronaut, Analysis::FULL).unwrap().remove(0).embedding.unwrap();
    let screen = image::open(&shot).unwrap().into_rgb8();
    let on_screen = analyzer.analyze(&screen, Analysis::FULL).unwrap();
    let face = &on_screen[largest_face(&on_screen).expect("a face on screen")];
    let swapped_similarity = face.embedding.as_ref().unwrap().cosine(&source);

    // The same frame of the clip, unswapped, as the baseline.
    let first = faceswap::video::SourceSpec::File {
        path: media("carphone.mp4"),
        resolution: None,
        looping: false,
        limits: faceswap::imaging::PictureLimits::default(),
    }
    .open()
    .unwrap()
    .next_frame(None)
    .unwrap()
    .unwrap()
    .image;
    let original = analyzer.analyze(&first, Analysis::FULL).unwrap();
    let original_similarity = original[largest_face(&original).unwrap()].embedding.as_ref().unwrap().cosine(&source);
    eprintln!("window: similarity to source {swapped_similarity:.3} (unswapped clip {original_similarity:.3})");
    assert!(swapped_similarity > original_similarity + 0.15, "{swapped_similarity} vs {original_similarity}");
}

#[test]
fn no_camera_is_a_one_line_error_naming_the_alternative() {
    // These machines have no camera; a user without one gets told what to do instead.
    if std::path::Path::new("/dev/video0").exists() {
        return;
    }
    let out = faceswap_live().args(["--headless", "--frames", "5"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].starts_with("error: no camera found") && lines[0].contains("--input FILE"), "{stderr}");
}
