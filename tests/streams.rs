//! Live outputs and inputs with real peers on loopback: ffmpeg receives our UDP stream and sends
//! the stream we swap; a TCP receiver that stops reading; a recording stopped by Ctrl-C; the
//! virtual camera's error path (no v4l2loopback device on these machines).

use std::{
    io::Read,
    net::{TcpListener, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use faceswap::face::{largest_face, Analysis};

use crate::{
    support::{analyzer, media, models_dir, photo, root},
    transcode::{ffmpeg, ffprobe, frame_times},
};

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn live(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_faceswap"));
    cmd.current_dir(root())
        .env("FACESWAP_MODELS_DIR", models_dir())
        .args(["live", "--headless", "--source"])
        .arg(media("astronaut.png"))
        .args(args);
    cmd
}

/// carphone scaled to `width`×`height` (120 frames, 29.97 fps).
fn clip(dir: &Path, width: u32, height: u32) -> PathBuf {
    let out = dir.join(format!("carphone-{width}x{height}.mp4"));
    let scale = format!("scale={width}:{height}");
    ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-vf",
        &scale,
        "-c:v",
        "libx264",
        "-crf",
        "16",
        out.to_str().unwrap(),
    ]);
    out
}

fn stats(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// An ffmpeg process receiving `url` into `out` (MPEG-TS, stream copy).
fn receiver(url: &str, out: &Path) -> Child {
    Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-i"])
        .arg(format!("{url}?timeout=5000000"))
        .args(["-c", "copy", "-f", "mpegts"])
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// An ffmpeg process sending `clip` (looped, in real time) as MPEG-TS over UDP to `port`.
fn sender(clip: &Path, port: u16) -> Child {
    Command::new("ffmpeg")
        .args(["-loglevel", "error", "-re", "-stream_loop", "-1", "-i"])
        .arg(clip)
        .args(["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15", "-f", "mpegts"])
        .arg(format!("udp://127.0.0.1:{port}?pkt_size=1316"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn a_udp_stream_carries_the_swapped_face_at_the_clips_rate() {
    let dir = tempfile::tempdir().unwrap();
    let mut report = Vec::new();
    for (width, height) in [(640, 480), (1280, 720)] {
        let clip = clip(dir.path(), width, height);
        let port = free_udp_port();
        let url = format!("udp://127.0.0.1:{port}");
        let received = dir.path().join(format!("received-{width}.ts"));
        let mut listening = receiver(&url, &received);
        std::thread::sleep(Duration::from_millis(300));
        let stats_path = dir.path().join(format!("stats-{width}.json"));
        let out = live(&["--frames", "110", "--output", &url, "--stats-json", stats_path.to_str().unwrap(), "--input"])
            .arg(&clip)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let _ = listening.wait();
        let stats = stats(&stats_path);
        let output = &stats["outputs"][0];
        let frames = frame_times(&received);
        let size =
            ffprobe(&received, &["-select_streams", "v", "-show_entries", "stream=width,height", "-of", "csv=p=0"]);
        // MPEG-TS lists the stream under its program too.
        assert_eq!(size.lines().next().unwrap_or_default(), format!("{width},{height}"));
        // Every frame the output sent arrived, and every frame shown was sent or counted as
        // dropped by the output (a busy machine may drop some: they are counted, not lost).
        let (sent, dropped) = (output["frames_sent"].as_u64().unwrap(), output["frames_dropped"].as_u64().unwrap());
        assert_eq!(frames.len() as u64, sent, "frames received of those sent");
        assert_eq!(sent + dropped, stats["frames_shown"].as_u64().unwrap(), "{output}");
        assert!(sent >= 20, "{output}");
        // Stamped by the capture clock: the received frames span the time of the frames
        // captured, whatever was dropped between (a busy machine drops some to stay live).
        let first: f64 = frames[0].parse().unwrap();
        let last: f64 = frames[frames.len() - 1].parse().unwrap();
        let captured = stats["frames_captured"].as_f64().unwrap();
        let expected = (captured - 1.0) / 29.97;
        let span = last - first;
        // A machine at half the speed captures them over twice the time: the stamps follow.
        assert!(
            span > 0.5 * expected && span < 3.0 * expected,
            "{span:.2} s of timestamps for {captured} frames captured"
        );
        let rate = (frames.len() - 1) as f64 / span;
        report.push(format!(
            "{width}×{height}: {} frames at {rate:.1} fps, capture→sent delay p50 {:.1} ms p95 {:.1} ms",
            frames.len(),
            output["delay_ms"]["p50"].as_f64().unwrap(),
            output["delay_ms"]["p95"].as_f64().unwrap()
        ));
        if width == 640 {
            // The received frames carry the source's identity. Three across the stream, not one:
            // likeness is not the same on every frame (on the carphone clip it dips from 0.5 to
            // 0.32 for a few frames about frame 60, the one this test once read), and a busy
            // machine drops frames, so which frame is where varies. The best of three must
            // read as the source.
            let mut analyzer = analyzer();
            let identity =
                analyzer.analyze(&photo("astronaut.png"), Analysis::FULL).unwrap().remove(0).embedding.unwrap();
            let mut best = f32::MIN;
            for n in [frames.len() / 4, frames.len() / 2, 3 * frames.len() / 4] {
                let still = dir.path().join(format!("still-{n}.png"));
                ffmpeg(&[
                    "-i",
                    received.to_str().unwrap(),
                    "-vf",
                    &format!("select=eq(n\\,{n})"),
                    "-frames:v",
                    "1",
                    still.to_str().unwrap(),
                ]);
                let faces = analyzer.analyze(&image::open(&still).unwrap().into_rgb8(), Analysis::FULL).unwrap();
                let face = &faces[largest_face(&faces).expect("a face in the received frame")];
                let similarity = face.embedding.as_ref().unwrap().cosine(&identity);
                report.push(format!("received frame {n}: similarity to the source {similarity:.3}"));
                best = best.max(similarity);
            }
            assert!(best > 0.3, "no received face reads as the source's: {report:?}");
        }
    }
    eprintln!("{}", report.join("\n"));
}

#[test]
fn a_network_input_reconnects_while_the_outputs_keep_flowing() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clip(dir.path(), 320, 240);
    let port = free_udp_port();
    let health_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let health = format!("127.0.0.1:{health_port}");
    let input = format!("udp://127.0.0.1:{port}");
    let out_port = free_udp_port();
    let stats_path = dir.path().join("stats.json");
    let mut first = sender(&clip, port);
    let mut faceswap =
        live(&["--frames", "330", "--health-addr", &health, "--stats-json", stats_path.to_str().unwrap()])
            .args(["--input", &input, "--output", &format!("udp://127.0.0.1:{out_port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
    let streams = |key: &str| -> Option<serde_json::Value> {
        let out = Command::new("curl").args(["-s"]).arg(format!("http://{health}/health")).output().ok()?;
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
        report["streams"].get(key).cloned()
    };
    let wait = |what: &str, pred: &dyn Fn(&serde_json::Value) -> bool, within: Duration| -> Instant {
        let until = Instant::now() + within;
        loop {
            if streams(&input).is_some_and(|s| pred(&s)) {
                return Instant::now();
            }
            assert!(Instant::now() < until, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    wait("the input to flow", &|s| s["frames"].as_u64() > Some(30), Duration::from_secs(30));
    first.kill().unwrap();
    let _ = first.wait();
    wait("the input to drop", &|s| s["connected"] == false, Duration::from_secs(10));
    std::thread::sleep(Duration::from_secs(1));
    let restarted = Instant::now();
    let mut second = sender(&clip, port);
    let back = wait(
        "the input to come back",
        &|s| s["connected"] == true && s["reconnects"].as_u64() >= Some(1),
        Duration::from_secs(20),
    );
    let status = faceswap.wait().unwrap();
    let _ = second.kill();
    let _ = second.wait();
    let mut stderr = String::new();
    let _ = faceswap.stderr.take().unwrap().read_to_string(&mut stderr);
    assert!(status.success(), "{stderr}");
    let stats = stats(&stats_path);
    eprintln!(
        "input: {}\nreconnected {:.2} s after the sender came back",
        stats["input"],
        (back - restarted).as_secs_f64()
    );
    assert!(stats["input"]["reconnects"].as_u64() >= Some(1), "{}", stats["input"]);
    assert!(
        stats["input"]["frames_repeated"].as_u64() > Some(10),
        "the last frame was repeated meanwhile: {}",
        stats["input"]
    );
    // The output got a frame for every frame shown, the gap included.
    assert_eq!(stats["outputs"][0]["frames_sent"], stats["frames_shown"], "{}", stats["outputs"]);
    assert!((back - restarted) < Duration::from_secs(10));
}

#[test]
fn a_receiver_that_stops_reading_costs_only_its_own_frames() {
    let dir = tempfile::tempdir().unwrap();
    let clip = clip(dir.path(), 640, 480);
    // Accepts, then never reads, with a tiny receive buffer: the stream backs up at once and
    // every write waits.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // A small send buffer too (an option of ffmpeg's tcp protocol), so the backlog shows soon.
    let tcp = format!("tcp://127.0.0.1:{port}?send_buffer_size=8192");
    let script = format!(
        "import socket, time\ns = socket.socket()\ns.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)\n\
         s.bind(('127.0.0.1', {port}))\ns.listen(1)\nc, _ = s.accept()\ntime.sleep(60)\n"
    );
    let mut holder = Command::new("python3").arg("-c").arg(&script).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    // The same run twice, without and with the stalled receiver: what the stall costs is
    // measured against the machine's own pace, not against a fixed rate a busy machine misses.
    let run = |outputs: &[&str], name: &str| {
        let stats_path = dir.path().join(name);
        let mut cmd = live(&["--frames", "240", "--loop", "--stats-json", stats_path.to_str().unwrap()]);
        for output in outputs {
            cmd.args(["--output", output]);
        }
        let out = cmd.arg("--input").arg(&clip).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        stats(&stats_path)
    };
    let udp_url = format!("udp://127.0.0.1:{}", free_udp_port());
    let baseline = run(&[&udp_url], "baseline.json");
    let stats = run(&[&tcp, &udp_url], "stalled.json");
    let _ = holder.kill();
    let _ = holder.wait();
    let (stalled, udp) = (&stats["outputs"][0], &stats["outputs"][1]);
    eprintln!("fps {} (alone {}); stalled receiver: {stalled}; udp: {udp}", stats["fps"], baseline["fps"]);
    let (fps, alone) = (stats["fps"].as_f64().unwrap(), baseline["fps"].as_f64().unwrap());
    // A receiver that blocked the pipeline would cost it most of its frames (each write waits
    // 2 s); what a busy machine varies between two runs is far less.
    assert!(fps > 0.6 * alone, "the pipeline kept its pace: {fps:.1} fps, {alone:.1} without the stall");
    // The stalled output lost frames; the other one no more than it did alone.
    assert!(stalled["frames_dropped"].as_u64().unwrap() > 50, "{stalled}");
    let dropped = |s: &serde_json::Value| s["frames_dropped"].as_u64().unwrap();
    assert!(dropped(udp) <= dropped(&baseline["outputs"][0]) + 24, "{udp} vs {}", baseline["outputs"][0]);
}

#[test]
fn a_recording_stopped_by_ctrl_c_is_playable_with_every_frame_counted() {
    let dir = tempfile::tempdir().unwrap();
    let record = dir.path().join("recording.mp4");
    let stats_path = dir.path().join("stats.json");
    let child = live(&[
        "--loop",
        "--stats-json",
        stats_path.to_str().unwrap(),
        "--record",
        record.to_str().unwrap(),
        "--input",
    ])
    .arg(media("carphone.mp4"))
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let stats = stats(&stats_path);
    let recorded = &stats["outputs"][0];
    let frames = frame_times(&record).len() as u64;
    eprintln!("recorded {frames} frames; {recorded}");
    assert!(frames > 30);
    assert_eq!(Some(frames), recorded["frames_sent"].as_u64(), "{recorded}");
    let tags = ffprobe(&record, &["-show_entries", "format_tags=comment", "-of", "csv=p=0"]);
    assert!(tags.contains("face-swapped live by faceswap"), "{tags}");
    assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| !e
        .unwrap()
        .file_name()
        .to_string_lossy()
        .contains("partial")));
}

#[test]
fn a_virtual_camera_without_a_device_is_a_clear_error() {
    let loopback = std::fs::read_dir("/sys/devices/virtual/video4linux").map(|d| d.count()).unwrap_or(0);
    if loopback > 0 {
        eprintln!("a v4l2loopback device exists here; its write-and-read-back test is the README's manual check");
    } else {
        eprintln!("no v4l2loopback device on this machine (no kernel module): only the error path is tested");
    }
    let out = live(&["--frames", "5", "--output", "v4l2:/dev/video-faceswap-none", "--input"])
        .arg(media("carphone.mp4"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: ")
            && last.contains("/dev/video-faceswap-none")
            && last.contains("modprobe v4l2loopback"),
        "{stderr}"
    );
    let out = live(&["--output", "gopher://x", "--input"]).arg(media("carphone.mp4")).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("udp://"));
}
