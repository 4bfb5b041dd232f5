//! `faceswap serve` end to end, with real clients (curl, Python's requests) against a server on
//! 127.0.0.1: pictures swapped with the identity carried, detection equal to the CLI's, video
//! jobs from upload to download with every frame and the sound, cancel, restart, a model
//! repaired under traffic, bad input of every kind, API keys, a full queue, slow clients,
//! graceful shutdown, the API description and the metrics.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::Command,
    time::{Duration, Instant},
};

use faceswap::face::{Analysis, Face};

use crate::{
    hardening::picture_bomb,
    model_server::{Behaviour, ModelServer},
    models::{models_copy, valid},
    serve_support::{curl, form, python_client, request, wait_for, Answer, Server},
    support::{analyzer, distance, long_clip, media, models_dir, root},
    transcode::{clip_with_sound, frame_times, packets},
};

/// The face in `faces` nearest to `like`.
fn nearest<'f>(faces: &'f [Face], like: &Face) -> &'f Face {
    let centre = |f: &Face| [(f.bbox[0] + f.bbox[2]) / 2.0, (f.bbox[1] + f.bbox[3]) / 2.0];
    faces.iter().min_by(|a, b| distance(centre(a), centre(like)).total_cmp(&distance(centre(b), centre(like)))).unwrap()
}

#[test]
fn a_picture_swap_carries_the_identity_with_curl_and_python() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let out = dir.path().join("swapped.png");
    let answer = request(&[
        "-F",
        &form("source", &media("astronaut.png")),
        "-F",
        &form("target", &media("t1.jpg")),
        "-F",
        "all_faces=true",
        &server.url("/v1/swap"),
    ]);
    assert_eq!(answer.status, 200, "{}", String::from_utf8_lossy(&answer.body));
    assert_eq!(answer.header("content-type"), Some("image/png"));
    assert_eq!(answer.header("x-faces-swapped"), Some("6"));
    // Several faces by number, as the studio's page sends them.
    let two = request(&[
        "-F",
        &form("source", &media("astronaut.png")),
        "-F",
        &form("target", &media("t1.jpg")),
        "-F",
        "face=4, 1",
        &server.url("/v1/swap"),
    ]);
    assert_eq!(two.status, 200, "{}", String::from_utf8_lossy(&two.body));
    assert_eq!(two.header("x-faces-swapped"), Some("2"));
    assert!(answer.header("x-processing-time-ms").and_then(|v| v.parse::<f64>().ok()).is_some());
    std::fs::write(&out, &answer.body).unwrap();

    let mut analyzer = analyzer();
    let source = analyzer.analyze(&crate::support::photo("astronaut.png"), Analysis::FULL).unwrap().remove(0);
    let identity = source.embedding.unwrap();
    let before = analyzer.analyze(&crate::support::photo("t1.jpg"), Analysis::FULL).unwrap();
    let after = analyzer.analyze(&image::open(&out).unwrap().into_rgb8(), Analysis::FULL).unwrap();
    assert_eq!(after.len(), 6);
    for face in &before {
        let was = face.embedding.as_ref().unwrap().cosine(&identity);
        let now = nearest(&after, face).embedding.as_ref().unwrap().cosine(&identity);
        eprintln!("face at ({:.0},{:.0}): similarity to the source {was:.3} -> {now:.3}", face.bbox[0], face.bbox[1]);
        // The target's expression is kept (eyes, mouth, light), which costs some likeness: a
        // clear carry on every face, the profile included, is at least 0.15.
        assert!(now > was + 0.15, "identity not carried: {was} -> {now}");
    }

    // The same through Python's requests, as a JPEG target's largest face.
    let py_out = dir.path().join("python.png");
    let reply = python_client(&[
        "swap",
        &server.base,
        media("astronaut.png").to_str().unwrap(),
        media("t1.jpg").to_str().unwrap(),
        py_out.to_str().unwrap(),
    ]);
    assert_eq!(reply["faces_swapped"], 1, "{reply}");
    assert_eq!(image::open(&py_out).unwrap().into_rgb8().dimensions(), (1280, 886));
}

#[test]
fn detect_answers_what_the_cli_prints() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let answer = request(&[
        "-F",
        &form("image", &media("t1.jpg")),
        "-F",
        "landmarks=true",
        "-F",
        "embeddings=true",
        &server.url("/v1/detect"),
    ]);
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    let served = answer.json();
    let cli = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .args(["detect", "--json", "--landmarks", "--embeddings"])
        .arg(media("t1.jpg"))
        .output()
        .unwrap();
    assert!(cli.status.success());
    let printed: serde_json::Value = serde_json::from_slice(&cli.stdout).unwrap();
    assert_eq!(served["width"], printed["width"]);
    assert_eq!(served["height"], printed["height"]);
    let (a, b) = (served["faces"].as_array().unwrap(), printed["faces"].as_array().unwrap());
    assert_eq!(a.len(), 6);
    assert_eq!(a.len(), b.len());
    // Same code, same models; only the thread count differs, which may move the last float bit.
    let numbers = |v: &serde_json::Value| -> Vec<f64> {
        let mut out = Vec::new();
        let mut stack = vec![v.clone()];
        while let Some(v) = stack.pop() {
            match v {
                serde_json::Value::Number(n) => out.push(n.as_f64().unwrap()),
                serde_json::Value::Array(items) => stack.extend(items),
                serde_json::Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
                _ => {}
            }
        }
        out
    };
    for (x, y) in a.iter().zip(b) {
        let (x, y) = (numbers(x), numbers(y));
        assert_eq!(x.len(), y.len());
        let worst = x.iter().zip(&y).map(|(p, q)| (p - q).abs()).fold(0.0, f64::max);
        assert!(worst < 1e-3, "served and printed differ by {worst}");
    }
}

#[test]
fn a_video_job_goes_from_upload_to_download_with_every_frame_and_the_sound() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let input = clip_with_sound(dir.path());
    let out = dir.path().join("result.mp4");
    let reply = python_client(&[
        "job",
        &server.base,
        media("astronaut.png").to_str().unwrap(),
        input.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    eprintln!("job: {reply}");
    assert!(matches!(reply["submitted"].as_str(), Some("queued" | "running")), "{reply}");
    assert_eq!(reply["statuses"].as_array().unwrap().last().unwrap(), "succeeded");
    assert_eq!(reply["progress"]["frames_done"], 120);
    assert_eq!(reply["range_status"], 206);
    assert_eq!(reply["range_matches"], true);
    assert_eq!(reply["content_type"], "video/mp4");
    assert!(reply["disposition"].as_str().unwrap().contains("clip-swapped.mp4"), "{reply}");
    assert_eq!(frame_times(&out), frame_times(&input), "every frame, at its time");
    assert_eq!(packets(&out, "a:0"), packets(&input, "a:0"), "the sound, byte for byte");
    assert!(!packets(&out, "a:0").is_empty());

    // Listed, and removed with its files on DELETE.
    let id = reply["id"].as_str().unwrap().to_string();
    let list = request(&[&server.url("/v1/jobs?status=succeeded")]).json();
    assert!(list["jobs"].as_array().unwrap().iter().any(|j| j["id"] == id.as_str()));
    let removed = request(&["-X", "DELETE", &server.url(&format!("/v1/jobs/{id}"))]);
    assert_eq!(removed.status, 200);
    assert_eq!(removed.json()["status"], "succeeded");
    request(&[&server.url(&format!("/v1/jobs/{id}"))]).problem(404);
    assert!(!server.data.join("jobs").join(&id).exists(), "the job's files are gone");
}

fn submit(server: &Server, video: &Path) -> String {
    let answer = request(&[
        "-F",
        &form("source", &media("astronaut.png")),
        "-F",
        &form("input", video),
        &server.url("/v1/jobs"),
    ]);
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    let id = answer.json()["id"].as_str().unwrap().to_string();
    assert_eq!(answer.header("location"), Some(format!("/v1/jobs/{id}").as_str()));
    id
}

fn status_of(server: &Server, id: &str) -> String {
    request(&[&server.url(&format!("/v1/jobs/{id}"))]).json()["status"].as_str().unwrap_or_default().to_string()
}

#[test]
fn cancelling_a_running_job_stops_it_and_removes_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let clip = long_clip(dir.path(), 30);
    let id = submit(&server, &clip);
    let running = wait_for(&server, &format!("/v1/jobs/{id}"), Duration::from_secs(30), |a| {
        a.json()["status"] == "running" && a.json()["progress"]["frames_done"].as_u64() > Some(0)
    });
    eprintln!("running: {}", running.json()["progress"]);
    let cancelled = request(&["-X", "DELETE", &server.url(&format!("/v1/jobs/{id}"))]);
    assert_eq!(cancelled.status, 200);
    assert_eq!(cancelled.json()["status"], "cancelled");
    let gone = Instant::now();
    wait_for(&server, &format!("/v1/jobs/{id}"), Duration::from_secs(20), |a| a.status == 404);
    while server.data.join("jobs").join(&id).exists() {
        assert!(gone.elapsed() < Duration::from_secs(20), "files left behind");
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("stopped and removed {:.0} ms after the DELETE", gone.elapsed().as_secs_f64() * 1000.0);
}

#[test]
fn after_a_crash_the_queued_job_runs_and_the_running_one_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let clip = long_clip(dir.path(), 8);
    let server = Server::start(&data, &["--job-workers", "1"], &[]);
    let first = submit(&server, &clip);
    let second = submit(&server, &clip);
    wait_for(&server, &format!("/v1/jobs/{first}"), Duration::from_secs(30), |a| a.json()["status"] == "running");
    assert_eq!(status_of(&server, &second), "queued");
    // A crash: nothing is wound down.
    server.crash();

    let server = Server::start(&data, &["--job-workers", "1"], &[]);
    assert!(server.log_text().contains("queued again"), "{}", server.log_text());
    for id in [&first, &second] {
        let done = wait_for(&server, &format!("/v1/jobs/{id}"), Duration::from_secs(120), |a| {
            matches!(a.json()["status"].as_str(), Some("succeeded" | "failed"))
        });
        assert_eq!(done.json()["status"], "succeeded", "{}", done.json());
        let out = dir.path().join(format!("{id}.mp4"));
        let result = curl(&["-o", out.to_str().unwrap(), &server.url(&format!("/v1/jobs/{id}/result"))]);
        assert!(result.status.success());
        assert_eq!(frame_times(&out).len(), 960, "every frame of job {id}");
    }
    let first_job = request(&[&server.url(&format!("/v1/jobs/{first}"))]).json();
    assert_eq!(first_job["attempts"], 2, "the interrupted job ran again: {first_job}");
}

#[test]
fn a_model_repaired_mid_traffic_fails_no_request() {
    let mirror =
        ModelServer::start(models_dir(), Behaviour { delay: Duration::from_millis(200), ..Behaviour::default() });
    let models = models_copy();
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--watch-interval", "0.3", "--source-cache", "0", "--mirror", &mirror.base],
        &[("FACESWAP_MODELS_DIR", models.path().to_str().unwrap())],
    );
    let stop = dir.path().join("stop");
    let hammer = {
        let (base, stop) = (server.base.clone(), stop.clone());
        std::thread::spawn(move || {
            python_client(&[
                "hammer",
                &base,
                media("astronaut.png").to_str().unwrap(),
                media("t1.jpg").to_str().unwrap(),
                stop.to_str().unwrap(),
                "--threads",
                "3",
            ])
        })
    };
    std::thread::sleep(Duration::from_millis(800));
    let damage = [
        ("w600k_mbf.onnx", "w600k_mbf", {
            let size = std::fs::metadata(models.path().join("w600k_mbf.onnx")).unwrap().len() as usize;
            vec![0x5a; size]
        }),
        ("2d106det.onnx", "2d106det", std::fs::read(models.path().join("2d106det.onnx")).unwrap()[..1000].to_vec()),
    ];
    for (file, name, bytes) in damage {
        let path = models.path().join(file);
        let broken = Instant::now();
        std::fs::write(&path, bytes).unwrap();
        wait_for(&server, "/health", Duration::from_secs(10), |a| a.json()["models"][name]["valid"] == false);
        wait_for(&server, "/health/ready", Duration::from_secs(10), |a| a.status == 200);
        eprintln!("{file}: repaired and reloaded in {:.0} ms, under traffic", broken.elapsed().as_secs_f64() * 1000.0);
        assert!(valid(&path, name), "{file} is good on disk again");
    }
    std::thread::sleep(Duration::from_millis(500));
    std::fs::write(&stop, b"").unwrap();
    let outcome = hammer.join().unwrap();
    eprintln!("requests during the repairs: {outcome}");
    assert!(outcome["problems"].as_array().unwrap().is_empty(), "{outcome}");
    // Traffic flowed through the repairs (how much depends on the machine's load).
    assert!(outcome["counts"]["200"].as_u64().unwrap() >= 4, "{outcome}");
    let health = request(&[&server.url("/health")]).json();
    assert_eq!(health["status"], "healthy");
    assert!(health["model_reloads"].as_u64().unwrap() >= 2, "{health}");
    assert_eq!(health["requests"]["failed"], 0, "{health}");
}

#[test]
fn bad_input_of_every_kind_gets_a_problem_json_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--max-upload-mb", "2"], &[]);
    let (swap, detect, jobs) = (server.url("/v1/swap"), server.url("/v1/detect"), server.url("/v1/jobs"));
    let notes = dir.path().join("notes.jpg");
    std::fs::write(&notes, b"these are not the pixels you are looking for").unwrap();
    let truncated = dir.path().join("cut.jpg");
    let t1 = std::fs::read(media("t1.jpg")).unwrap();
    std::fs::write(&truncated, &t1[..t1.len() * 4 / 10]).unwrap();
    let bomb = dir.path().join("bomb.png");
    picture_bomb(&bomb, 100_000);
    let big = dir.path().join("big.bin");
    std::fs::write(&big, vec![7u8; 3 << 20]).unwrap();
    let wall = dir.path().join("wall.png");
    image::RgbImage::from_pixel(320, 240, image::Rgb([180, 170, 160])).save(&wall).unwrap();
    let (astronaut, t1_path) = (media("astronaut.png"), media("t1.jpg"));

    let cases: Vec<(Vec<String>, u16, &str)> = vec![
        (vec!["-F".into(), form("image", &notes), detect.clone()], 415, "not a picture"),
        (vec!["-F".into(), form("image", &truncated), detect.clone()], 422, "truncated"),
        (vec!["-F".into(), form("image", &bomb), detect.clone()], 413, "100000×100000"),
        (vec!["-F".into(), form("image", &big), detect.clone()], 413, "limit"),
        (vec!["-F".into(), form("source", &astronaut), swap.clone()], 400, "\"target\""),
        (vec!["-F".into(), form("picture", &astronaut), detect.clone()], 400, "unknown field \"picture\""),
        (
            vec![
                "-F".into(),
                form("source", &astronaut),
                "-F".into(),
                form("target", &t1_path),
                "-F".into(),
                "face=9".into(),
                swap.clone(),
            ],
            422,
            "face 9 does not exist",
        ),
        (
            vec![
                "-F".into(),
                form("source", &astronaut),
                "-F".into(),
                form("target", &t1_path),
                "-F".into(),
                "face=0,7".into(),
                swap.clone(),
            ],
            422,
            "face 7 does not exist",
        ),
        (
            vec![
                "-F".into(),
                form("source", &astronaut),
                "-F".into(),
                form("target", &t1_path),
                "-F".into(),
                "face=0,,1".into(),
                swap.clone(),
            ],
            400,
            "several separated by commas",
        ),
        (vec!["-F".into(), form("source", &wall), "-F".into(), form("target", &t1_path), swap.clone()], 422, "no face"),
        (
            vec![
                "-F".into(),
                form("source", &astronaut),
                "-F".into(),
                form("target", &t1_path),
                "-F".into(),
                "face=two".into(),
                swap.clone(),
            ],
            400,
            "face",
        ),
        (
            vec![
                "-F".into(),
                form("source", &astronaut),
                "-F".into(),
                form("target", &t1_path),
                "-F".into(),
                "swapper=magic".into(),
                swap.clone(),
            ],
            400,
            "swapper",
        ),
        (
            vec!["-H".into(), "Content-Type: application/json".into(), "-d".into(), "{}".into(), swap.clone()],
            415,
            "multipart/form-data",
        ),
        (
            vec!["-F".into(), form("source", &astronaut), "-F".into(), form("input", &notes), jobs.clone()],
            415,
            "not a video",
        ),
        (vec![server.url("/v1/jobs/00000000-0000-4000-8000-000000000000")], 404, "no job"),
        (vec![server.url("/v1/jobs/../../etc/passwd")], 404, ""),
        (vec![server.url("/v1/jobs/not-an-id/result")], 404, "no job"),
        (
            vec!["-X".into(), "DELETE".into(), server.url("/v1/jobs/00000000-0000-4000-8000-000000000000")],
            404,
            "no job",
        ),
        (vec![server.url("/v1/nothing")], 404, "no such route"),
        (vec!["-X".into(), "PUT".into(), swap.clone()], 405, "method"),
    ];
    for (args, status, expected) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let detail = request(&args).problem(status);
        eprintln!("{status}: {detail}");
        assert!(detail.contains(expected), "expected {expected:?} in {detail:?} for {args:?}");
    }
    // Uploads the server refused left nothing behind.
    assert_eq!(std::fs::read_dir(server.data.join("incoming")).unwrap().count(), 0);
    let stored = std::fs::read_dir(server.data.join("jobs")).map_or(0, Iterator::count);
    assert_eq!(stored, 0);
}

#[test]
fn an_api_key_is_required_and_checked_in_constant_time() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, "s3cret-key\n").unwrap();
    let server = Server::start(&dir.path().join("data"), &["--api-key-file", key_file.to_str().unwrap()], &[]);
    let detect = server.url("/v1/detect");
    let image = form("image", &media("astronaut.png"));
    let none = request(&["-F", &image, &detect]);
    assert!(none.problem(401).contains("Authorization: Bearer"));
    assert_eq!(none.header("www-authenticate"), Some("Bearer"));
    request(&["-H", "Authorization: Bearer wrong", "-F", &image, &detect]).problem(401);
    request(&[&server.url("/metrics")]).problem(401);
    let right = request(&["-H", "Authorization: Bearer s3cret-key", "-F", &image, &detect]);
    assert_eq!(right.status, 200);
    // Probes and the description need no key.
    for path in ["/health", "/health/live", "/health/ready", "/openapi.json"] {
        assert_eq!(request(&[&server.url(path)]).status, 200, "{path}");
    }
    drop(server);

    // The key from the environment.
    let server = Server::start(&dir.path().join("data2"), &[], &[("FACESWAP_API_KEY", "from-env")]);
    request(&["-F", &image, &server.url("/v1/detect")]).problem(401);
    assert_eq!(request(&["-H", "Authorization: Bearer from-env", "-F", &image, &server.url("/v1/detect")]).status, 200);
    drop(server);

    // Reachable from other machines without a key: refused, with one line saying what to do.
    let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .env_remove("FACESWAP_API_KEY")
        .args(["serve", "--addr", "0.0.0.0:0", "--data-dir"])
        .arg(dir.path().join("data3"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.lines().count() == 1 && stderr.contains("no API key"), "{stderr}");
}

#[test]
fn a_full_queue_answers_429_never_a_time_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--workers", "1", "--queue-depth", "1"], &[]);
    let swap = server.url("/v1/swap");
    let (source, target) = (form("source", &media("astronaut.png")), form("target", &media("t1.jpg")));
    let started = Instant::now();
    let clients: Vec<_> = (0..12)
        .map(|_| {
            let (swap, source, target) = (swap.clone(), source.clone(), target.clone());
            std::thread::spawn(move || request(&["-F", &source, "-F", &target, "-F", "all_faces=true", &swap]))
        })
        .collect();
    let answers: Vec<Answer> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    eprintln!("12 at once on 1 worker and 1 queue place: {statuses:?} in {:.1} s", started.elapsed().as_secs_f64());
    assert!(statuses.iter().all(|s| matches!(s, 200 | 429)), "{statuses:?}");
    assert!(statuses.contains(&200) && statuses.contains(&429), "{statuses:?}");
    for busy in answers.iter().filter(|a| a.status == 429) {
        busy.problem(429);
        assert_eq!(busy.header("retry-after"), Some("1"));
    }
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[test]
fn slow_clients_are_cut_off_and_others_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--read-timeout", "1s"], &[]);
    let addr = server.base.trim_start_matches("http://").to_string();
    let started = Instant::now();
    // One connection that sends nothing, one that dribbles half a request head.
    let mut silent = TcpStream::connect(&addr).unwrap();
    let mut dribbler = TcpStream::connect(&addr).unwrap();
    dribbler.write_all(b"POST /v1/detect HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Others are served meanwhile.
    assert_eq!(request(&[&server.url("/health/live")]).status, 200);
    for stream in [&mut silent, &mut dribbler] {
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buffer = Vec::new();
        let _ = stream.read_to_end(&mut buffer);
        let text = String::from_utf8_lossy(&buffer);
        assert!(buffer.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    }
    let took = started.elapsed();
    eprintln!("slow connections closed after {:.1} s", took.as_secs_f64());
    assert!(took < Duration::from_secs(5), "{took:?}");

    // A body that stops half-way: cut off, not waited on forever.
    let mut stalled = TcpStream::connect(&addr).unwrap();
    stalled
        .write_all(
            b"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
              Content-Length: 100000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc",
        )
        .unwrap();
    stalled.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut buffer = Vec::new();
    let _ = stalled.read_to_end(&mut buffer);
    let text = String::from_utf8_lossy(&buffer);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 4"), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn sigterm_lets_requests_in_flight_finish_and_queues_running_jobs_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let server = Server::start(&data, &["--workers", "1"], &[]);
    let job = submit(&server, &long_clip(dir.path(), 20));
    wait_for(&server, &format!("/v1/jobs/{job}"), Duration::from_secs(30), |a| a.json()["status"] == "running");
    let swap = server.url("/v1/swap");
    let (source, target) = (form("source", &media("astronaut.png")), form("target", &media("t1.jpg")));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (swap, source, target) = (swap.clone(), source.clone(), target.clone());
            std::thread::spawn(move || request(&["-F", &source, "-F", &target, "-F", "all_faces=true", &swap]).status)
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let stopping = Instant::now();
    let status = server.stop(Duration::from_secs(30));
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    eprintln!("stopped in {:.2} s", stopping.elapsed().as_secs_f64());
    assert!(status.success(), "{status}");
    assert_eq!(statuses, vec![200, 200, 200], "requests accepted before the stop are answered");

    // The job that was running is queued again, not failed, and not lost.
    let server = Server::start(&data, &["--workers", "1"], &[]);
    let again = request(&[&server.url(&format!("/v1/jobs/{job}"))]).json();
    assert!(matches!(again["status"].as_str(), Some("queued" | "running")), "{again}");
    assert_eq!(request(&["-X", "DELETE", &server.url(&format!("/v1/jobs/{job}"))]).status, 200);
}

#[test]
fn the_api_is_described_and_measured() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let spec = request(&[&server.url("/openapi.json")]).json();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/swap", "post"),
        ("/v1/detect", "post"),
        ("/v1/jobs", "post"),
        ("/v1/jobs", "get"),
        ("/v1/jobs/{id}", "get"),
        ("/v1/jobs/{id}", "delete"),
        ("/v1/jobs/{id}/result", "get"),
        ("/health", "get"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is not described");
    }
    request(&["-F", &form("image", &media("astronaut.png")), &server.url("/v1/detect")]);
    request(&["-F", &form("image", &root().join("README.md")), &server.url("/v1/detect")]);
    let metrics = String::from_utf8(request(&[&server.url("/metrics")]).body).unwrap();
    for needle in [
        "faceswap_http_requests_total{route=\"/v1/detect\",method=\"POST\",status=\"200\"} 1",
        "faceswap_http_request_duration_seconds_bucket{le=",
        "faceswap_faces_swapped_total",
        "faceswap_jobs{state=\"queued\"} 0",
        "faceswap_picture_queue_depth",
        "faceswap_oldest_queued_job_age_seconds",
        "faceswap_queue_depth 0",
        "faceswap_tasks_running 0",
        "faceswap_model_reloads",
        "faceswap_resident_memory_bytes",
    ] {
        assert!(metrics.contains(needle), "{needle} missing from\n{metrics}");
    }
    let health = request(&[&server.url("/health")]).json();
    assert_eq!(health["status"], "healthy");
    assert!(health["requests"]["total"].as_u64().unwrap() >= 3, "{health}");
    assert!(health["queue"]["jobs"].is_object() && health["rss_mb"].as_f64().unwrap() > 0.0, "{health}");
    assert_eq!(health["role"], "all");
}

#[test]
fn memory_holds_steady_over_two_thousand_requests() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[], &[]);
    let out = Command::new("python3")
        .arg(root().join("scripts/load_test.py"))
        .arg(&server.base)
        .args(["--routes", "detect", "--concurrency", "4", "--requests", "40", "--memory", "--target"])
        .arg(media("astronaut.png"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    // The script fails on any time-out, 5xx, or growth over 10% from 200 to 2,000 requests.
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("memory:"), "{stdout}");
}
