//! faceswap studio, the web app `faceswap serve` carries, proven in a real browser: Debian's
//! Chromium, headless, driven by Selenium (`tests/clients/studio_browser.py`) against a server
//! the test starts on loopback.

use std::{path::Path, process::Command};

use faceswap::face::{Analysis, Face};

use crate::{
    serve_support::{request, Server},
    support::{analyzer, distance, media, photo, root},
    transcode::{clip_with_sound, frame_times, packets},
};

/// One browser run at a time: Chromium takes a core of its own, and the other tests' margins
/// are for a busy machine, not for several browsers beside them.
static ONE_BROWSER: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs the browser script; its JSON report.
fn browser(args: &[&str]) -> serde_json::Value {
    let _turn = ONE_BROWSER.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (what, path) in [("Chromium", "/usr/bin/chromium"), ("chromedriver", "/usr/bin/chromedriver")] {
        assert!(Path::new(path).exists(), "{what} is missing at {path}: run scripts/setup.sh");
    }
    let out = Command::new("python3")
        .arg(root().join("tests/clients/studio_browser.py"))
        .args(args)
        .output()
        .expect("python3 runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the browser run failed: {stdout}{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("the script prints JSON ({e}): {stdout}"))
}

fn nearest<'f>(faces: &'f [Face], like: &Face) -> &'f Face {
    let centre = |f: &Face| [(f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0];
    faces.iter().min_by(|a, b| distance(centre(a), centre(like)).total_cmp(&distance(centre(b), centre(like)))).unwrap()
}

/// Every face of t1.jpg in `result` now carries the astronaut's identity.
fn assert_all_swapped(result: &Path) {
    let mut analyzer = analyzer();
    let identity = analyzer.analyze(&photo("astronaut.png"), Analysis::FULL).unwrap().remove(0).embedding.unwrap();
    let before = analyzer.analyze(&photo("t1.jpg"), Analysis::FULL).unwrap();
    let after = analyzer.analyze(&image::open(result).unwrap().into_rgb8(), Analysis::FULL).unwrap();
    assert_eq!(after.len(), before.len());
    for face in &before {
        let was = face.embedding.as_ref().unwrap().cosine(&identity);
        let now = nearest(&after, face).embedding.as_ref().unwrap().cosine(&identity);
        assert!(now > was + 0.15, "identity not carried: {was} -> {now}");
    }
}

fn not_a_picture(dir: &Path) -> String {
    let path = dir.join("notes.png");
    std::fs::write(&path, "these are notes, not a picture\n").unwrap();
    path.to_str().unwrap().to_string()
}

/// The picture page's run: a non-picture target first, then the astronaut on every face of
/// t1.jpg, the result saved to `out`.
fn picture_page(server: &Server, dir: &Path, out: &Path, shot: &Path, key: Option<&str>) -> serde_json::Value {
    let (source, target, wrong) = (media("astronaut.png"), media("t1.jpg"), not_a_picture(dir));
    let mut args = vec![
        "picture",
        &server.base,
        source.to_str().unwrap(),
        target.to_str().unwrap(),
        &wrong,
        out.to_str().unwrap(),
        shot.to_str().unwrap(),
    ];
    args.extend(key);
    let report = browser(&args);
    eprintln!("{report}");
    report
}

#[test]
fn the_picture_page_finds_the_faces_swaps_the_chosen_ones_and_shows_the_servers_errors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let (out, shot) = (dir.path().join("from-the-page.png"), dir.path().join("picture.png"));
    let report = picture_page(&server, dir.path(), &out, &shot, None);
    assert_eq!(report["title"], "faceswap studio");
    // The problem's detail as the server wrote it, in the page.
    let error = report["not_a_picture_error"].as_str().unwrap();
    assert!(error.contains("is not a picture this program reads (PNG or JPEG)"), "{error}");
    assert_eq!(report["error_cleared"], true);
    assert_eq!(report["faces_listed"], 6);
    assert_eq!(report["boxes_drawn"], 6);
    assert_eq!(report["chosen"], 6, "the all-faces box, pressed by keyboard, chose every face");
    assert!(report["state"].as_str().unwrap().starts_with("6 faces swapped in"), "{report}");
    assert_eq!(report["result_width"], 1280);
    assert_eq!(report["unlabelled"], serde_json::json!([]), "every control has a label");
    assert!(report["phone_overflow_px"].as_i64().unwrap() <= 0, "wider than a phone: {report}");
    // Chromium logs the 415 the test asked for; nothing else (a CSP refusal would be here).
    let logged: Vec<&str> = report["console_errors"].as_array().unwrap().iter().filter_map(|e| e.as_str()).collect();
    let unexpected: Vec<&&str> = logged.iter().filter(|e| !e.contains("/v1/detect") || !e.contains("415")).collect();
    assert!(unexpected.is_empty(), "the page logged errors: {unexpected:?}");
    assert_all_swapped(&out);
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000, "a screenshot was taken");
}

#[test]
fn a_video_job_from_the_page_reaches_done_survives_a_reload_and_downloads_with_its_sound() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let input = clip_with_sound(dir.path());
    let downloads = dir.path().join("downloads");
    std::fs::create_dir(&downloads).unwrap();
    let shot = dir.path().join("video.png");
    let report = browser(&[
        "job",
        &server.base,
        media("astronaut.png").to_str().unwrap(),
        input.to_str().unwrap(),
        downloads.to_str().unwrap(),
        shot.to_str().unwrap(),
    ]);
    eprintln!("{report}");
    assert_eq!(report["status"], "succeeded");
    let seen = report["progress_seen"].as_array().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last[0], "succeeded");
    assert_eq!(last[1], last[2], "the bar is full when the job is done: {last}");
    assert_eq!(report["after_reload"], 1);
    let names = report["downloaded"].as_array().unwrap();
    assert_eq!(names.len(), 1);
    assert_eq!(names[0], "carphone-sound-swapped.mp4");
    let out = downloads.join("carphone-sound-swapped.mp4");
    assert_eq!(frame_times(&out), frame_times(&input), "every frame, at its time");
    assert!(!packets(&out, "a:0").is_empty());
    assert_eq!(packets(&out, "a:0"), packets(&input, "a:0"), "the sound, byte for byte");
    assert_eq!(report["console_errors"], serde_json::json!([]));
}

#[test]
fn with_an_api_key_the_page_asks_once_and_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "studio-key\n").unwrap();
    let server = Server::start(&dir.path().join("data"), &["--api-key-file", key_file.to_str().unwrap()], &[]);
    // The page itself is public; what it calls is not.
    assert_eq!(request(&[&server.url("/")]).status, 200);
    assert_eq!(request(&[&server.url("/v1/jobs")]).status, 401);
    let (out, shot) = (dir.path().join("keyed.png"), dir.path().join("keyed-shot.png"));
    let report = picture_page(&server, dir.path(), &out, &shot, Some("studio-key"));
    assert_eq!(report["asked_for_key"], true);
    assert!(report["not_a_picture_error"].as_str().unwrap().contains("not a picture this program reads"), "{report}");
    assert_all_swapped(&out);
}

#[test]
fn the_status_page_shows_each_model_and_the_swappers_this_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let shot = dir.path().join("status.png");
    let report = browser(&["status", &server.base, shot.to_str().unwrap()]);
    eprintln!("{report}");
    let models: Vec<&str> = report["models"].as_array().unwrap().iter().filter_map(|m| m.as_str()).collect();
    for role in ["detector", "landmarks", "embedder"] {
        assert!(models.iter().any(|m| m.contains(&format!("({role}) yes yes"))), "{role} missing from {models:?}");
    }
    assert_eq!(report["swappers"], serde_json::json!(["landmark"]), "no inswapper is installed here");
    let summary = report["summary"].as_str().unwrap();
    assert!(summary.contains("Video jobs\n0 queued, 0 running, 0 done, 0 failed"), "{report}");
    assert!(!summary.contains("undefined") && !summary.contains("NaN"), "{report}");
}

#[test]
fn the_pages_files_come_from_the_binary_with_tags_and_a_policy_that_allows_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let page = request(&[&server.url("/")]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    let policy = page.header("content-security-policy").unwrap();
    for rule in ["default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"] {
        assert!(policy.contains(rule), "{policy}");
    }
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let tag = page.header("etag").unwrap().to_string();
    let again = request(&["-H", &format!("If-None-Match: {tag}"), &server.url("/")]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());

    // Every file the page loads, and the first load's weight.
    let html = String::from_utf8_lossy(&page.body).to_string();
    let mut total = page.body.len();
    for file in [
        "studio.css",
        "icon.svg",
        "js/app.js",
        "js/api.js",
        "js/drop.js",
        "js/picture.js",
        "js/video.js",
        "js/status.js",
    ] {
        let answer = request(&[&server.url(&format!("/studio/{file}"))]);
        assert_eq!(answer.status, 200, "{file}");
        let kind = answer.header("content-type").unwrap();
        let expected = match file.rsplit('.').next() {
            Some("js") => "javascript",
            Some("css") => "text/css",
            _ => "image/svg+xml",
        };
        assert!(kind.contains(expected), "{file}: {kind}");
        total += answer.body.len();
    }
    assert!(html.contains("/studio/js/app.js"));
    assert!(!html.contains("http://") && !html.contains("https://"), "the page names no other host");
    assert!(total < 200_000, "the first load is {total} bytes");
    eprintln!("first load: {total} bytes");

    // Nothing outside the studio's files.
    for path in ["/studio/../Cargo.toml", "/studio/%2e%2e/Cargo.toml", "/studio/nope.js", "/studio/"] {
        let answer = request(&["--path-as-is", &server.url(path)]);
        assert!(matches!(answer.status, 404 | 400), "{path}: {}", answer.status);
        assert!(!String::from_utf8_lossy(&answer.body).contains("[package]"), "{path}");
    }
}

/// The sample clip as Chromium's fake camera plays it: 640×480 Y4M.
fn camera_clip(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("camera.y4m");
    crate::transcode::ffmpeg(&[
        "-i",
        media("carphone.mp4").to_str().unwrap(),
        "-vf",
        "scale=640:480,fps=30",
        "-pix_fmt",
        "yuv420p",
        "-f",
        "yuv4mpegpipe",
        out.to_str().unwrap(),
    ]);
    out
}

/// The frame the page showed carries the source's identity; the camera's own does not.
fn assert_shows_the_source(dir: &Path, clip: &Path, frame: &Path) {
    let mut analyzer = analyzer();
    let identity = analyzer.analyze(&photo("astronaut.png"), Analysis::FULL).unwrap().remove(0).embedding.unwrap();
    let shown = analyzer.analyze(&image::open(frame).unwrap().into_rgb8(), Analysis::FULL).unwrap();
    assert_eq!(shown.len(), 1, "one face in the frame shown");
    let camera_frame = dir.join("camera-frame.png");
    crate::transcode::ffmpeg(&["-y", "-i", clip.to_str().unwrap(), "-frames:v", "1", camera_frame.to_str().unwrap()]);
    let raw = analyzer.analyze(&image::open(&camera_frame).unwrap().into_rgb8(), Analysis::FULL).unwrap();
    let was = raw[0].embedding.as_ref().unwrap().cosine(&identity);
    let now = shown[0].embedding.as_ref().unwrap().cosine(&identity);
    eprintln!("likeness to the source: camera {was:.3}, shown {now:.3}");
    assert!(now > was + 0.1, "the shown frame is not swapped: {was:.3} -> {now:.3}");
}

#[test]
fn the_live_page_can_send_h264_and_gets_h264_back_swapped() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let clip = camera_clip(dir.path());
    let frame = dir.path().join("frame.png");
    let report = browser(&[
        "live_codec",
        &server.base,
        media("astronaut.png").to_str().unwrap(),
        clip.to_str().unwrap(),
        "video/h264",
        frame.to_str().unwrap(),
    ]);
    eprintln!("{report}");
    assert!(
        report["can_send"].as_array().unwrap().iter().any(|c| c == "video/h264"),
        "this Chromium cannot send H.264: {report}"
    );
    assert_eq!(report["server"]["codec"], "h264", "{report}");
    assert_eq!(report["browser"]["sentCodec"], "video/H264", "{report}");
    assert_eq!(report["browser"]["codec"], "video/H264", "{report}");
    assert!(report["browser"]["framesDecoded"].as_u64().unwrap() > 20, "{report}");
    assert!(report["overlay"].as_str().unwrap().contains("H.264"), "{report}");
    assert_shows_the_source(dir.path(), &clip, &frame);
}

#[test]
fn the_live_page_sends_the_camera_and_shows_it_swapped_and_a_second_browser_past_the_limit_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--max-live-sessions", "1"], &[]);
    let clip = camera_clip(dir.path());
    let (shot, frame) = (dir.path().join("live.png"), dir.path().join("frame.png"));
    let report = browser(&[
        "live",
        &server.base,
        media("astronaut.png").to_str().unwrap(),
        clip.to_str().unwrap(),
        shot.to_str().unwrap(),
        frame.to_str().unwrap(),
        "4",
    ]);
    eprintln!("{report}");
    // Chromium scales its own encoding down when its CPU is busy; the shape stays.
    let size = report["video_size"].as_array().unwrap();
    let (w, h) = (size[0].as_u64().unwrap(), size[1].as_u64().unwrap());
    assert!((320..=640).contains(&w) && w * 3 == h * 4, "{w}×{h}");
    let samples = report["samples"].as_array().unwrap();
    let last = samples.last().unwrap();
    let server_side = &last["server"];
    assert_eq!(server_side["connected"], true);
    assert!(server_side["frames_sent"].as_u64().unwrap() > 30, "{last}");
    assert!(samples.iter().any(|s| s["server"]["faces"] == 1), "a face was swapped: {samples:?}");
    assert!(last["browser"]["framesDecoded"].as_u64().unwrap() > 20, "the browser decoded the swapped video: {last}");
    let refused = report["second_refused"].as_str().unwrap();
    assert!(refused.contains("1 live sessions are running already"), "{refused}");
    assert_eq!(report["second_start_enabled"], true, "the refused page can try again");
    assert_eq!(report["stopped_state"], "Stopped.");

    assert_shows_the_source(dir.path(), &clip, &frame);

    // Stopping freed the session.
    let mut free = false;
    for _ in 0..50 {
        let list = request(&[&server.url("/v1/live")]).json();
        if list["sessions"].as_array().is_some_and(Vec::is_empty) {
            free = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(free, "the session was not freed");
}

#[test]
fn with_a_certificate_the_studio_and_the_api_answer_https_only() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2"])
        .args([
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let server = Server::start(
        &dir.path().join("data"),
        &["--tls-cert", cert.to_str().unwrap(), "--tls-key", key.to_str().unwrap()],
        &[],
    );
    assert!(server.base.starts_with("https://127.0.0.1:"), "{}", server.base);
    let page = request(&[
        "--cacert",
        cert.to_str().unwrap(),
        "--resolve",
        &resolve(&server.base),
        &localhost(&server.base, "/"),
    ]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-security-policy").is_some());
    let health = request(&["-k", &server.url("/health")]);
    assert_eq!(health.status, 200);
    // Plain HTTP to the HTTPS port gets no answer.
    let plain = crate::serve_support::curl(&[&server.base.replacen("https://", "http://", 1)]);
    assert!(!plain.status.success());

    // A key that is not a key: one line naming the file, before anything starts.
    let bad = dir.path().join("notakey.pem");
    std::fs::write(&bad, "not a key\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path().join("data2"))
        .args(["--tls-cert", cert.to_str().unwrap(), "--tls-key", bad.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("notakey.pem") && stderr.lines().filter(|l| l.starts_with("error:")).count() == 1,
        "{stderr}"
    );
    // Half a pair is refused by the parser.
    let half = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .args(["serve", "--tls-cert", cert.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(half.status.code(), Some(2), "{}", String::from_utf8_lossy(&half.stderr));
}

/// `--resolve localhost:PORT:127.0.0.1` for the server at `base`.
fn resolve(base: &str) -> String {
    let port = base.rsplit(':').next().unwrap();
    format!("localhost:{port}:127.0.0.1")
}

/// `base` with the host named `localhost` (the certificate's name), and `path`.
fn localhost(base: &str, path: &str) -> String {
    format!("{}{path}", base.replacen("127.0.0.1", "localhost", 1))
}

#[test]
fn the_live_routes_refuse_what_they_cannot_answer_and_leak_no_slot() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let wall = dir.path().join("wall.png");
    image::RgbImage::from_pixel(320, 240, image::Rgb([128, 128, 128])).save(&wall).unwrap();
    let source = |path: &Path| request(&["-F", &format!("source=@{}", path.display()), &server.url("/v1/sources")]);
    assert!(source(&wall).problem(422).contains("no face"));
    let made = source(&media("astronaut.png"));
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let id = made.json()["id"].as_str().unwrap().to_string();
    assert_eq!(made.header("location"), Some(format!("/v1/sources/{id}").as_str()));

    let live = |query: &str, kind: &str, body: &str| {
        request(&[
            "-H",
            &format!("Content-Type: {kind}"),
            "--data-binary",
            body,
            &server.url(&format!("/v1/live{query}")),
        ])
    };
    let sdp = "application/sdp";
    assert!(live("", sdp, "v=0").problem(400).contains("source"));
    assert!(live("?source=00ff", sdp, "v=0").problem(404).contains("/v1/sources"));
    assert!(live(&format!("?source={id}&colour=blue"), sdp, "v=0").problem(400).contains("colour"));
    assert!(live(&format!("?source={id}"), "text/plain", "v=0").problem(415).contains("application/sdp"));
    assert!(live(&format!("?source={id}"), sdp, "this is not SDP").problem(400).contains("offer"));
    let audio_only = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\n\
        a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
        a=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n\
        a=setup:actpass\r\na=rtpmap:111 opus/48000/2\r\n";
    assert!(live(&format!("?source={id}"), sdp, audio_only).problem(400).contains("VP8 or H.264"));
    let huge = "a".repeat(100_000);
    live(&format!("?source={id}"), sdp, &huge).problem(413);

    let patch = |path: &str, body: &str| {
        request(&["-X", "PATCH", "-H", "Content-Type: application/json", "-d", body, &server.url(path)])
    };
    patch("/v1/live/6f1c2a3e-0000-4000-8000-000000000000", r#"{"swap": false}"#).problem(404);
    patch("/v1/live/6f1c2a3e-0000-4000-8000-000000000000", r#"{"swap": "yes"}"#).problem(400);
    request(&["-X", "DELETE", &server.url("/v1/live/not-an-id")]).problem(404);

    // Every refusal gave its slot back.
    let list = request(&[&server.url("/v1/live")]).json();
    assert_eq!(list["sessions"], serde_json::json!([]));
    assert_eq!(list["max"], 2);
    let metrics = String::from_utf8(request(&[&server.url("/metrics")]).body).unwrap();
    assert!(metrics.contains("faceswap_live_sessions 0"), "{metrics}");
    let health = request(&[&server.url("/health")]).json();
    assert_eq!(health["live"]["max"], 2);
}
