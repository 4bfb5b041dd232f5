//! The hostile round against `faceswap serve`: uploads that name other files, parallel
//! submits past the queue's limit, uploads that trickle or crowd, jobs that could never run,
//! answers that would show the server's folders, and request bytes that are not HTTP.

use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    time::{Duration, Instant},
};

use crate::{
    hostile::playlist_naming,
    serve_support::{form, request, Answer, Server},
    support::media,
};

fn submit(server: &Server, video: &Path, extra: &[&str]) -> Answer {
    let (source, input) = (form("source", &media("astronaut.png")), form("input", video));
    let mut args = vec!["-F", &source, "-F", &input];
    for field in extra {
        args.extend(["-F", field]);
    }
    let url = server.url("/v1/jobs");
    args.push(&url);
    request(&args)
}

/// Sends `raw` on a new connection and returns what comes back within `wait`.
fn raw_exchange(server: &Server, raw: &[u8], wait: Duration) -> String {
    let mut stream = TcpStream::connect(server.base.trim_start_matches("http://")).unwrap();
    stream.write_all(raw).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = Vec::new();
    let _ = stream.read_to_end(&mut buffer);
    String::from_utf8_lossy(&buffer).to_string()
}

#[test]
fn a_playlist_upload_is_refused_and_tells_nothing_about_the_servers_files() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--role", "api"], &[]);
    // One playlist names a video that is there, one a file that is not: the same answer.
    let there = playlist_naming(dir.path(), &media("carphone.mp4"));
    let first = submit(&server, &there, &[]);
    let detail = first.problem(415);
    let missing_dir = dir.path().join("other");
    std::fs::create_dir(&missing_dir).unwrap();
    let missing = playlist_naming(&missing_dir, &dir.path().join("no-such-file.mp4"));
    let second = submit(&server, &missing, &[]);
    assert_eq!(second.problem(415), detail, "no oracle for which files exist");
    assert!(!detail.contains('/'), "no server path: {detail}");
    // The server is still there.
    assert_eq!(request(&[&server.url("/health/live")]).status, 200);
}

#[test]
fn parallel_submits_never_pass_the_queues_limit() {
    let dir = tempfile::tempdir().unwrap();
    // An api replica runs no job: whatever is accepted stays queued.
    let server = Server::start(&dir.path().join("data"), &["--role", "api", "--max-queued-jobs", "2"], &[]);
    let url = server.url("/v1/jobs");
    let clients: Vec<_> = (0..10)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || {
                let (source, input) = (form("source", &media("astronaut.png")), form("input", &media("carphone.mp4")));
                request(&["-F", &source, "-F", &input, &url]).status
            })
        })
        .collect();
    let statuses: Vec<u16> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    assert_eq!(statuses.iter().filter(|&&s| s == 202).count(), 2, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 202 | 429)), "{statuses:?}");
    let listed = request(&[&server.url("/v1/jobs")]).json();
    assert_eq!(listed["jobs"].as_array().unwrap().len(), 2);
}

#[test]
fn jobs_that_cannot_run_are_refused_when_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--role", "api", "--max-job-frames", "100", "--max-job-seconds", "60"],
        &[],
    );
    let clip = media("carphone.mp4");
    // 120 frames, over the limit of 100.
    let detail = submit(&server, &clip, &[]).problem(413);
    assert!(detail.contains("120") && detail.contains("100"), "{detail}");
    // av1 is not offered unless named.
    let detail = submit(&server, &clip, &["codec=av1"]).problem(422);
    assert!(detail.contains("av1") && detail.contains("h264"), "{detail}");
    // inswapper without its model: 503 now, not a job that fails later, and no server path.
    let answer = submit(&server, &clip, &["swapper=inswapper"]);
    let detail = answer.problem(503);
    assert!(detail.contains("inswapper") && !detail.contains('/'), "{detail}");
    let picture = request(&[
        "-F",
        &form("source", &media("astronaut.png")),
        "-F",
        &form("target", &media("t1.jpg")),
        "-F",
        "swapper=inswapper",
        &server.url("/v1/swap"),
    ]);
    let detail = picture.problem(503);
    assert!(!detail.contains('/'), "{detail}");
    assert_eq!(request(&[&server.url("/v1/jobs")]).json()["jobs"].as_array().unwrap().len(), 0);

    // Frames over the pixel limit are refused up front too.
    let small = Server::start(&dir.path().join("small"), &["--role", "api", "--max-pixels", "10000"], &[]);
    let detail = submit(&small, &clip, &[]).problem(415);
    assert!(detail.contains("176×144") && detail.contains("10000"), "{detail}");
}

#[test]
fn uploads_are_refused_before_they_are_read_when_every_slot_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--role", "api", "--max-uploads", "1"], &[]);
    // One upload holds the only slot: a body that arrives slowly.
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut slow = TcpStream::connect(&addr).unwrap();
    slow.write_all(
        b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
          Content-Length: 1000000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"input\"; filename=\"a.mp4\"\r\n\r\n",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    let answer = request(&["-F", &form("image", &media("t1.jpg")), &server.url("/v1/detect")]);
    answer.problem(429);
    assert!(answer.header("retry-after").is_some());
    assert!(started.elapsed() < Duration::from_secs(5), "answered at once: {:?}", started.elapsed());
    drop(slow);
}

#[test]
fn an_upload_that_trickles_is_cut_off_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--role", "api", "--upload-timeout", "3s", "--read-timeout", "10s"],
        &[],
    );
    let addr = server.base.trim_start_matches("http://").to_string();
    let mut stream = TcpStream::connect(&addr).unwrap();
    stream
        .write_all(
            b"POST /v1/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
              Content-Length: 100000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"input\"; filename=\"a.mp4\"\r\n\r\n",
        )
        .unwrap();
    let started = Instant::now();
    stream.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut answer = Vec::new();
    // A byte every half second: never a pause past the read time-out.
    while started.elapsed() < Duration::from_secs(20) {
        if stream.write_all(b"x").is_err() {
            break;
        }
        let mut buffer = [0u8; 4096];
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => {
                answer.extend_from_slice(&buffer[..n]);
                break;
            }
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
    }
    let took = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.is_empty() || text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(took >= Duration::from_secs(2) && took < Duration::from_secs(12), "cut off after {took:?}");
}

#[test]
fn request_bytes_that_are_not_http_get_a_400() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--role", "api"], &[]);
    // A chunked body whose chunk size is not hexadecimal.
    let text = raw_exchange(
        &server,
        b"POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n\
          Transfer-Encoding: chunked\r\n\r\nzz\r\n--B\r\n\r\n",
        Duration::from_secs(10),
    );
    assert!(text.starts_with("HTTP/1.1 400"), "{text}");
    // A field name of a megabyte is not echoed whole.
    let name = "n".repeat(1 << 20);
    let body = format!("--B\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\nx\r\n--B--\r\n");
    let head = format!(
        "POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let text = raw_exchange(&server, format!("{head}{body}").as_bytes(), Duration::from_secs(10));
    assert!(text.starts_with("HTTP/1.1 4"), "{}", &text[..text.len().min(300)]);
    assert!(text.len() < 4096, "answered in {} bytes", text.len());
}

#[test]
fn a_job_that_runs_past_its_time_limit_fails_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &["--job-timeout", "2s", "--lease", "3s"], &[]);
    // 1200 frames: far more than 2 s of work here.
    let clip = crate::support::long_clip(dir.path(), 10);
    let answer = submit(&server, &clip, &[]);
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    let id = answer.json()["id"].as_str().unwrap().to_string();
    let done = crate::serve_support::wait_for(&server, &format!("/v1/jobs/{id}"), Duration::from_secs(60), |a| {
        a.json()["status"] == "failed"
    })
    .json();
    assert_eq!(done["error_kind"], "too_large", "{done}");
    assert!(
        done["error"].as_str().unwrap().contains("time limit")
            || done["error"].as_str().unwrap().contains("past its limit"),
        "{done}"
    );
    assert_eq!(done["attempts"], 1, "not tried again: {done}");
}
