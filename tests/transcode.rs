//! `faceswap transcode` end to end on real clips: frames, timestamps (variable frame rate too),
//! duration, audio and subtitle packets, the metadata tag, the swapped identity, Ctrl-C, a
//! damaged input, and outputs that must not be overwritten.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use faceswap::face::{largest_face, Analysis};

use crate::support::{analyzer, media, photo, root};

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().expect("command runs");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out
}

pub fn ffmpeg(args: &[&str]) {
    run(Command::new("ffmpeg").args(["-loglevel", "error", "-y"]).args(args));
}

pub fn ffprobe(path: &Path, args: &[&str]) -> String {
    let out = run(Command::new("ffprobe").args(["-v", "error"]).args(args).arg(path));
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// carphone with a sine-wave audio track and two subtitles, as MP4.
pub fn clip_with_sound(dir: &Path) -> PathBuf {
    let subs = dir.join("subs.srt");
    std::fs::write(&subs, "1\n00:00:00,500 --> 00:00:01,500\nhello\n\n2\n00:00:02,000 --> 00:00:03,000\nworld\n")
        .unwrap();
    let out = dir.join("carphone-sound.mp4");
    let carphone = media("carphone.mp4");
    ffmpeg(&[
        "-i",
        carphone.to_str().unwrap(),
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=4",
        "-i",
        subs.to_str().unwrap(),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-map",
        "2:s",
        "-c:v",
        "copy",
        "-c:a",
        "aac",
        "-c:s",
        "mov_text",
        out.to_str().unwrap(),
    ]);
    out
}

fn transcode(input: &Path, output: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root()).arg("transcode").arg("--source").arg(media("astronaut.png"));
    cmd.arg("--input").arg(input).arg("--output").arg(output);
    cmd
}

pub fn frame_times(path: &Path) -> Vec<String> {
    ffprobe(path, &["-select_streams", "v", "-show_entries", "frame=pts_time", "-of", "csv=p=0"])
        .lines()
        // Side data on a frame adds a field and an empty line to ffprobe's CSV.
        .map(|l| l.trim_end_matches(',').to_string())
        .filter(|l| !l.is_empty())
        .collect()
}

pub fn packets(path: &Path, stream: &str) -> String {
    ffprobe(
        path,
        &[
            "-select_streams",
            stream,
            "-show_data_hash",
            "sha256",
            "-show_entries",
            "packet=pts,dts,duration,data_hash",
            "-of",
            "csv=p=0",
        ],
    )
}

fn duration(path: &Path) -> f64 {
    ffprobe(path, &["-show_entries", "format=duration", "-of", "csv=p=0"]).trim().parse().unwrap()
}

#[test]
fn transcode_keeps_frames_timing_sound_and_subtitles() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip_with_sound(dir.path());
    let output = dir.path().join("swapped.mp4");
    let out = run(&mut transcode(&input, &output));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("120 frames"), "{stdout}");

    let (before, after) = (frame_times(&input), frame_times(&output));
    assert_eq!(after.len(), 120, "frame count");
    assert_eq!(after, before, "frame timestamps");
    assert!((duration(&output) - duration(&input)).abs() < 1.0 / 29.97, "duration");
    assert_eq!(packets(&output, "a"), packets(&input, "a"), "audio packets");
    assert_eq!(packets(&output, "s"), packets(&input, "s"), "subtitle packets");
    let streams = ffprobe(&output, &["-show_entries", "stream=codec_name,pix_fmt,width,height", "-of", "csv=p=0"]);
    assert!(streams.contains("h264,176,144,yuv420p"), "{streams}");
    let tags = ffprobe(&output, &["-show_entries", "format_tags", "-of", "json"]);
    assert!(tags.contains(&format!("face-swapped by faceswap {}", env!("CARGO_PKG_VERSION"))), "{tags}");

    // The face in the middle of the output carries the source identity.
    let still = dir.path().join("frame.png");
    ffmpeg(&["-i", output.to_str().unwrap(), "-vf", "select=eq(n\\,60)", "-frames:v", "1", still.to_str().unwrap()]);
    let original = dir.path().join("original.png");
    ffmpeg(&["-i", input.to_str().unwrap(), "-vf", "select=eq(n\\,60)", "-frames:v", "1", original.to_str().unwrap()]);
    let mut analyzer = analyzer();
    let source = analyzer.analyze(&photo("astronaut.png"), Analysis::FULL).unwrap().remove(0).embedding.unwrap();
    let mut similarity = |path: &Path| {
        let picture = image::open(path).unwrap().into_rgb8();
        let faces = analyzer.analyze(&picture, Analysis::FULL).unwrap();
        faces[largest_face(&faces).expect("a face")].embedding.as_ref().unwrap().cosine(&source)
    };
    let (swapped, unswapped) = (similarity(&still), similarity(&original));
    eprintln!("frame 60: similarity to source {unswapped:.3} -> {swapped:.3}");
    assert!(swapped > unswapped + 0.15, "{unswapped} -> {swapped}");
    // Nothing but the output is left beside it.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
}

#[test]
fn variable_frame_rate_timestamps_are_kept() {
    let dir = tempfile::tempdir().unwrap();
    let vfr = dir.path().join("vfr.mkv");
    // The first 60 frames 1/30 s apart, the rest 1/15 s apart.
    ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-vf",
        "setpts='if(lt(N,60),N/30,2+(N-60)/15)/TB'",
        "-fps_mode",
        "passthrough",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        vfr.to_str().unwrap(),
    ]);
    let output = dir.path().join("vfr-swapped.mkv");
    run(&mut transcode(&vfr, &output));
    let (before, after) = (frame_times(&vfr), frame_times(&output));
    assert_eq!(before.len(), 120);
    assert_eq!(after, before, "variable frame timing kept");
}

#[test]
fn ctrl_c_finishes_the_file_with_every_frame_processed() {
    let dir = tempfile::tempdir().unwrap();
    // 3600 frames: far more than a fast machine gets through before the signal.
    let long = crate::support::long_clip(dir.path(), 30);
    let output = dir.path().join("stopped.mp4");
    let child = transcode(&long, &output).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let sent = Instant::now();
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Kept, but not the whole video: the documented status for an interrupted transcode.
    assert_eq!(out.status.code(), Some(130), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(sent.elapsed() < Duration::from_secs(5), "took {:?} to stop", sent.elapsed());
    let held: usize = stdout
        .lines()
        .find_map(|l| l.split("holds the ").nth(1)?.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| panic!("no 'holds the N frames' line in {stdout}"));
    let frames = frame_times(&output).len();
    assert_eq!(frames, held, "the file holds what the program says");
    assert!(frames > 0 && frames < 3600, "{frames} frames");
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().to_string()).collect();
    assert!(!names.iter().any(|n| n.contains("partial")), "{names:?}");
}

#[test]
fn a_damaged_input_gives_every_decodable_frame() {
    let dir = tempfile::tempdir().unwrap();
    let ts = dir.path().join("carphone.ts");
    ffmpeg(&["-i", media("carphone.mp4").to_str().unwrap(), "-c", "copy", ts.to_str().unwrap()]);
    let mut bytes = std::fs::read(&ts).unwrap();
    // Scribble over a stretch in the middle, then cut the file short.
    let middle = bytes.len() / 3;
    bytes[middle..middle + 2000].iter_mut().for_each(|b| *b ^= 0x47);
    bytes.truncate(bytes.len() * 7 / 10);
    let damaged = dir.path().join("damaged.ts");
    std::fs::write(&damaged, &bytes).unwrap();
    let output = dir.path().join("recovered.mp4");
    let out = run(&mut transcode(&damaged, &output));
    let frames = frame_times(&output).len();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(frames >= 60, "only {frames} frames recovered");
    assert!(stdout.contains(&format!("{frames} frames")), "{stdout}");
    assert!(stdout.contains("damaged packet(s) in the input were skipped"), "{stdout}");
    assert!(duration(&output) > 2.0);
}

#[test]
fn outputs_that_must_not_be_overwritten_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let existing = dir.path().join("exists.mp4");
    std::fs::write(&existing, b"keep").unwrap();
    let out = transcode(&media("carphone.mp4"), &existing).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--overwrite"));
    assert_eq!(std::fs::read(&existing).unwrap(), b"keep");

    let copy = dir.path().join("input.mp4");
    std::fs::copy(media("carphone.mp4"), &copy).unwrap();
    let out = transcode(&copy, &copy).arg("--overwrite").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is the input"));

    let odd = dir.path().join("out.xyz");
    let out = transcode(&media("carphone.mp4"), &odd).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("out.xyz") && stderr.contains(".mp4"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");

    let nowhere = dir.path().join("missing-folder").join("out.mp4");
    let out = transcode(&media("carphone.mp4"), &nowhere).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("missing-folder"), "{stderr}");
}
