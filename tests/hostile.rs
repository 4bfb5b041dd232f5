//! The hostile round's failures, each reproduced as it was found and answered as a careful user
//! expects: playlists that name other files, names that are not ASCII or not UTF-8, devices and
//! pipes where files belong, reports over the user's files, a full disk under a recording, a
//! mirror that drips, and flags that cannot apply.

use std::{
    ffi::OsStr,
    os::unix::ffi::OsStrExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    hardening::{faceswap, one_line_error, swap, transcode},
    support::media,
};

/// The sample clip, copied into `dir` as `name`.
fn clip_named(dir: &Path, name: &OsStr) -> PathBuf {
    let path = dir.join(name);
    std::fs::copy(media("carphone.mp4"), &path).unwrap();
    path
}

/// An HLS playlist that names `target` (the upload that took the service down).
pub fn playlist_naming(dir: &Path, target: &Path) -> PathBuf {
    let path = dir.join("x.m3u8");
    let text = format!(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:10\n#EXTINF:10.0,\n{}\n#EXT-X-ENDLIST\n",
        target.display()
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_playlist_naming_a_local_video_is_refused_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clip_named(dir.path(), OsStr::new("clip.mp4"));
    for input in [playlist_naming(dir.path(), &clip), {
        let concat = dir.path().join("list.ffconcat");
        std::fs::write(&concat, format!("ffconcat version 1.0\nfile '{}'\n", clip.display())).unwrap();
        concat
    }] {
        let out = transcode(&input, &dir.path().join("out.mp4")).output().unwrap();
        assert_ne!(out.status.code(), Some(134), "aborted: {}", String::from_utf8_lossy(&out.stderr));
        let line = one_line_error(&out);
        assert!(line.contains(&input.file_name().unwrap().to_string_lossy().to_string()), "{line}");
        assert!(!dir.path().join("out.mp4").exists());
    }
}

#[test]
fn video_names_that_are_not_ascii_or_not_utf8_work() {
    let dir = tempfile::tempdir().unwrap();
    let accented = clip_named(dir.path(), OsStr::new("café.mp4"));
    let out = faceswap()
        .args(["live", "--headless", "--lossless", "--frames", "5", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(&accented)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let raw = clip_named(dir.path(), OsStr::from_bytes(b"clip-\xff\xfe.mp4"));
    let output = dir.path().join(OsStr::from_bytes(b"out-\xff.mp4"));
    let out = transcode(&raw, &output).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(output.is_file());
}

#[test]
fn devices_pipes_and_folders_are_no_pictures_or_videos() {
    let dir = tempfile::tempdir().unwrap();
    // A picture from a device that never ends is cut off at the limit, at once.
    let started = Instant::now();
    let line = one_line_error(&faceswap().args(["detect", "/dev/zero"]).output().unwrap());
    assert!(line.contains("/dev/zero") && line.contains("limit"), "{line}");
    // The same through a pipe on standard input.
    let mut child = faceswap()
        .args(["detect", "/dev/stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let feeder = std::thread::spawn(move || {
        let zeros = vec![0u8; 1 << 20];
        while std::io::Write::write_all(&mut stdin, &zeros).is_ok() {}
    });
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap();
    assert!(one_line_error(&out).contains("limit"));
    assert!(started.elapsed() < Duration::from_secs(60), "took {:?}", started.elapsed());

    let fifo = dir.path().join("fifo.mp4");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let folder = dir.path().join("folder.mp4");
    std::fs::create_dir(&folder).unwrap();
    for (input, what) in [(Path::new("/dev/zero"), "a device"), (&fifo, "a pipe"), (&folder, "a folder")] {
        let line = one_line_error(&transcode(input, &dir.path().join("out.mp4")).output().unwrap());
        assert!(line.contains(what) && !line.contains("does not exist"), "{what}: {line}");
    }
}

#[test]
fn reports_never_replace_the_users_files() {
    let dir = tempfile::tempdir().unwrap();
    let input = clip_named(dir.path(), OsStr::new("in.mp4"));
    let before = std::fs::read(&input).unwrap();
    let output = dir.path().join("out.mp4");
    let stats_over = |path: &Path, extra: &[&str]| {
        let mut cmd = transcode(&input, &output);
        cmd.arg("--stats-json").arg(path).args(extra);
        cmd.output().unwrap()
    };
    // Over the input, with or without --overwrite; over the output it is about to write.
    for (path, extra) in [(&input, &[][..]), (&input, &["--overwrite"][..]), (&output, &[][..])] {
        let line = one_line_error(&stats_over(path, extra));
        assert!(line.contains("--stats-json"), "{line}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before, "the input is untouched");
    // Over a file of the user's that is no input: only with --overwrite.
    let old = dir.path().join("old.json");
    std::fs::write(&old, "precious").unwrap();
    let line = one_line_error(&stats_over(&old, &[]));
    assert!(line.contains("already exists"), "{line}");
    assert_eq!(std::fs::read_to_string(&old).unwrap(), "precious");
    // Through a link or into a device: refused, the link kept.
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&old, &link).unwrap();
    for path in [link.as_path(), Path::new("/dev/stdout"), Path::new("/dev/null")] {
        let line = one_line_error(&stats_over(path, &["--overwrite"]));
        assert!(line.contains("not a regular file"), "{}: {line}", path.display());
    }
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    // A folder it cannot write in is found before the work (and the report is no "picture").
    if let Some(readonly) = SmallDisk::mount(64, "ro") {
        let line = one_line_error(&stats_over(&readonly.path.join("stats.json"), &[]));
        assert!(line.contains("--stats-json") && line.contains("cannot write") && !line.contains("picture"), "{line}");
        assert!(!output.exists(), "refused before the work");
    }
    // A name past NAME_MAX is refused before the work, not after it.
    let long = dir.path().join(format!("{}.mp4", "n".repeat(252)));
    let line = one_line_error(&transcode(&input, &long).output().unwrap());
    assert!(line.contains("255"), "{line}");
    // compare's sheet and bench's JSON keep to the same rules.
    let sheet = faceswap()
        .args(["compare", "--source"])
        .arg(media("astronaut.png"))
        .arg("--original")
        .arg(media("t1.jpg"))
        .arg("--result")
        .arg(&old)
        .arg("--sheet")
        .arg(media("t1.jpg"))
        .output()
        .unwrap();
    assert!(one_line_error(&sheet).contains("--sheet"));
    let bench = faceswap()
        .args(["bench", "--frames", "2", "--source"])
        .arg(media("astronaut.png"))
        .arg("--json")
        .arg(media("astronaut.png"))
        .output()
        .unwrap();
    assert!(one_line_error(&bench).contains("--json"));
}

#[test]
fn flags_that_cannot_apply_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    let mut cmd = swap(&media("astronaut.png"), &media("t1.jpg"), &out);
    cmd.args(["--swapper-model", "/etc/passwd"]);
    let line = one_line_error(&cmd.output().unwrap());
    assert!(line.contains("--swapper-model") && line.contains("--swapper inswapper"), "{line}");
    let mut cmd = swap(&media("astronaut.png"), &media("t1.jpg"), &out);
    cmd.args(["--threads", "5000"]);
    let started = Instant::now();
    let output = cmd.output().unwrap();
    assert!(!output.status.success() && started.elapsed() < Duration::from_secs(10));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--threads"));
    assert!(!out.exists());
}

#[test]
fn output_to_a_closed_stdout_is_an_error_not_lost() {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!("\"$0\" detect --json {} >&-", media("t1.jpg").display()))
        .arg(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(crate::support::root())
        .env("FACESWAP_MODELS_DIR", crate::support::models_dir())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("standard output"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A tmpfs of `kib` KiB at a new folder; unmounted when dropped.
struct SmallDisk {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(kib: u32, options: &str) -> Option<Self> {
        let dir = tempfile::tempdir().ok()?;
        let path = dir.path().join("disk");
        std::fs::create_dir(&path).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={kib}k,{options}"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then_some(Self { path, _dir: dir })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_recording_that_fills_the_disk_fails_the_run_instead_of_starting_over() {
    // Mounting needs root, which CI and the setup here have; elsewhere this says so and passes.
    let Some(disk) = SmallDisk::mount(40, "rw") else {
        eprintln!("skipped: a small tmpfs cannot be mounted here (needs root)");
        return;
    };
    let record = disk.path.join("rec.mkv");
    let out = faceswap()
        .args(["live", "--headless", "--lossless", "--frames", "120", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(media("carphone.mp4"))
        .arg("--record")
        .arg(&record)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a cut recording is a failed run: {stderr}");
    assert!(stderr.contains("record:") && stderr.contains("stopped after"), "{stderr}");
    assert!(!stderr.contains("reconnecting"), "a file is not reconnected: {stderr}");
}

#[test]
fn compare_refuses_what_it_cannot_measure_and_says_what_it_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let original = media("t1.jpg");
    let (w, h) = image::image_dimensions(&original).unwrap();
    let compare = |result: &Path, original: &Path| {
        faceswap()
            .args(["compare", "--samples", "4", "--source"])
            .arg(media("astronaut.png"))
            .arg("--original")
            .arg(original)
            .arg("--result")
            .arg(result)
            .output()
            .unwrap()
    };
    // A result with no face in it, and one of another size: errors, not identity 0.000.
    let blank = dir.path().join("blank.png");
    image::RgbImage::from_pixel(w, h, image::Rgb([128, 128, 128])).save(&blank).unwrap();
    assert!(one_line_error(&compare(&blank, &original)).contains("no face of the original"));
    let small = dir.path().join("small.png");
    image::RgbImage::new(w / 2, h / 2).save(&small).unwrap();
    assert!(one_line_error(&compare(&small, &original)).contains(&format!("{}×{}", w / 2, h / 2)));
    // A video against a cut of itself: measured on the common frames, with a warning.
    let cut = dir.path().join("cut.mp4");
    crate::transcode::ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-frames:v",
        "30",
        cut.to_str().unwrap(),
    ]);
    let out = compare(&cut, &media("carphone.mp4"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("has 30 frames and the original 1") && stderr.contains("first 30"), "{stderr}");
}

#[test]
fn a_model_that_stays_bad_is_logged_once_not_every_round() {
    let models = crate::models::models_copy();
    let dir = tempfile::tempdir().unwrap();
    let long = crate::support::long_clip(dir.path(), 30);
    let mut child = faceswap()
        .env("FACESWAP_MODELS_DIR", models.path())
        .env_remove("FACESWAP_MODEL_MIRROR")
        .args(["transcode", "--progress-json", "--watch-interval", "0.1", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(&long)
        .arg("--output")
        .arg(dir.path().join("out.mp4"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Frames flowing: every model is loaded into the stages by then.
    let stdout = child.stdout.take().unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(stdout));
    assert!(lines.any(|l| l.is_ok_and(|l| !l.contains("\"frames_done\":0"))), "no progress");
    std::thread::spawn(move || lines.for_each(drop));
    // Damaged with no mirror to repair it from: about twenty rounds find it still bad.
    let landmarks = models.path().join("2d106det.onnx");
    let bytes = std::fs::read(&landmarks).unwrap();
    std::fs::write(&landmarks, &bytes[..1000]).unwrap();
    std::thread::sleep(Duration::from_secs(2));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
    let _ = child.wait();
    // Said when found, not at every round after that; and with nowhere to fetch a good copy
    // from, the bad file is left where it is.
    let lines = stderr.lines().filter(|l| l.contains("2d106det")).count();
    assert!(lines <= 3, "{lines} lines: {stderr}");
    assert_eq!(stderr.matches("went bad").count(), 1, "{stderr}");
    assert_eq!(stderr.matches("could not be restored").count(), 1, "{stderr}");
    assert_eq!(std::fs::metadata(&landmarks).unwrap().len(), 1000);
}
