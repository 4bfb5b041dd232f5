//! Many machines: `faceswap serve` replicas (one api, several workers) sharing a real
//! PostgreSQL queue and a real S3-compatible bucket, all on loopback. Ten jobs spread over three
//! workers, each run once; a worker killed mid-part loses its lease and another finishes the
//! job, whose video equals the single-machine transcode; PostgreSQL restarted mid-run loses
//! nothing.

use std::{
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::{
    cluster_support::{Postgres, S3Server},
    parts::{long_clip_of, pixel_differences},
    serve_support::{form, request, wait_for, Server},
    support::{media, root},
    transcode::{ffprobe, frame_times, packets},
};

fn submit(api: &Server, video: &Path) -> String {
    let answer =
        request(&["-F", &form("source", &media("astronaut.png")), "-F", &form("input", video), &api.url("/v1/jobs")]);
    assert_eq!(answer.status, 202, "{}", String::from_utf8_lossy(&answer.body));
    answer.json()["id"].as_str().unwrap().to_string()
}

fn wait_finished(api: &Server, id: &str, within: Duration) -> serde_json::Value {
    let done = wait_for(api, &format!("/v1/jobs/{id}"), within, |a| {
        a.status == 200 && matches!(a.json()["status"].as_str(), Some("succeeded" | "failed"))
    });
    done.json()
}

fn download(api: &Server, id: &str, to: &Path) {
    let out = Command::new("curl")
        .args(["-sS", "-f", "-o"])
        .arg(to)
        .arg(api.url(&format!("/v1/jobs/{id}/result")))
        .output()
        .unwrap();
    assert!(out.status.success(), "download: {}", String::from_utf8_lossy(&out.stderr));
}

fn frame_count(path: &Path) -> usize {
    frame_times(path).len()
}

/// `faceswap transcode` of `input` on this machine: the reference a split job must equal.
fn single_machine(input: &Path, output: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
        .current_dir(root())
        .args(["transcode", "--source"])
        .arg(media("astronaut.png"))
        .arg("--input")
        .arg(input)
        .arg("--output")
        .arg(output)
        .output()
        .unwrap();
    assert!(out.status.success(), "transcode: {}", String::from_utf8_lossy(&out.stderr));
}

/// The split job's video has the single-machine transcode's frames, timestamps, sound and
/// subtitles exactly; its pixels differ by encoder noise only (the parts' keyframes and the
/// face tracker's fresh start at each cut). Returns the mean difference in levels.
fn assert_equals_single_machine(joined: &Path, single: &Path) -> f64 {
    assert_eq!(frame_times(joined), frame_times(single), "every frame at the same time");
    assert_eq!(packets(joined, "a"), packets(single, "a"), "the same sound");
    assert_eq!(packets(joined, "s"), packets(single, "s"), "the same subtitles");
    let diffs = pixel_differences(joined, single);
    let mean = diffs.iter().map(|d| d.0).sum::<f64>() / diffs.len() as f64;
    let worst = diffs.iter().map(|d| d.0).fold(0.0, f64::max);
    eprintln!("split vs single machine: mean abs difference {mean:.2} levels, worst frame {worst:.2}");
    assert!(mean < 3.0 && worst < 8.0, "mean {mean}, worst frame {worst}");
    mean
}

struct Cluster {
    api: Server,
    workers: Vec<Server>,
}

fn start_cluster(dir: &Path, pg: &Postgres, s3: &S3Server, workers: usize, part_seconds: &str) -> Cluster {
    let env: Vec<(&str, String)> = s3.env();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (queue, storage) = (pg.url(), format!("s3://{}/cluster", s3.bucket));
    let common = ["--queue", &queue, "--storage", &storage, "--segment-seconds", part_seconds, "--lease", "3s"];
    let api_args: Vec<&str> = common.iter().copied().chain(["--role", "api", "--workers", "1"]).collect();
    let api = Server::start(&dir.join("api"), &api_args, &env);
    let worker_args: Vec<&str> = common.iter().copied().chain(["--role", "worker", "--threads", "1"]).collect();
    let workers = (0..workers).map(|i| Server::start(&dir.join(format!("worker{i}")), &worker_args, &env)).collect();
    Cluster { api, workers }
}

#[test]
fn ten_jobs_spread_over_three_workers_on_postgres_and_s3() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(dir.path());
    let s3 = S3Server::start(dir.path(), "faceswap-test");
    let cluster = start_cluster(dir.path(), &pg, &s3, 3, "2");
    let api = &cluster.api;
    // A worker replica serves health and metrics only.
    let worker = &cluster.workers[0];
    assert_eq!(request(&[&worker.url("/health/ready")]).status, 200);
    assert_eq!(request(&[&worker.url("/v1/jobs")]).status, 404);
    assert!(String::from_utf8_lossy(&request(&[&worker.url("/metrics")]).body).contains("faceswap_queue_depth"));

    let long = long_clip_of(dir.path(), 3);
    let carphone = media("carphone.mp4");
    let started = Instant::now();
    let mut ids: Vec<(String, PathBuf)> = (0..9).map(|_| (submit(api, &carphone), carphone.clone())).collect();
    ids.insert(4, (submit(api, &long), long.clone()));
    let metrics = String::from_utf8_lossy(&request(&[&api.url("/metrics")]).body).to_string();
    assert!(metrics.contains("faceswap_queue_depth"), "{metrics}");
    for (id, input) in &ids {
        let job = wait_finished(api, id, Duration::from_secs(300));
        assert_eq!(job["status"], "succeeded", "{job}");
        let out = dir.path().join(format!("{id}.mp4"));
        download(api, id, &out);
        assert_eq!(frame_count(&out), frame_count(input), "job {id}: every frame");
    }
    eprintln!("10 jobs over 3 workers: {:.1} s", started.elapsed().as_secs_f64());
    let unique: std::collections::HashSet<&String> = ids.iter().map(|(id, _)| id).collect();
    assert_eq!(unique.len(), 10);
    assert_eq!(pg.query("SELECT COUNT(*) FROM jobs WHERE status = 'succeeded'"), "10");
    // Each task ran once: none was claimed twice.
    assert_eq!(pg.query("SELECT COUNT(*) FROM tasks WHERE attempts <> 1"), "0");
    assert_eq!(pg.query("SELECT COUNT(*) FROM tasks"), (9 + 6 + 1).to_string());
    let spread: usize = pg.query("SELECT COUNT(DISTINCT worker) FROM tasks").parse().unwrap();
    assert!(spread >= 2, "the work went to {spread} worker(s)");
    // The files are in the bucket, under the prefix: any replica can serve them.
    let (long_id, _) = &ids[4];
    let keys = s3.keys(&format!("cluster/jobs/{long_id}/"));
    assert!(
        keys.iter().any(|k| k.ends_with("result.mp4")) && keys.iter().filter(|k| k.contains("/parts/")).count() == 6,
        "{keys:?}"
    );

    let single = dir.path().join("single.mp4");
    single_machine(&long, &single);
    assert_equals_single_machine(&dir.path().join(format!("{long_id}.mp4")), &single);
}

/// A part of job `id` under way (some frames done): its number and its worker.
fn part_under_way(pg: &Postgres, id: &str) -> (String, String) {
    let until = Instant::now() + Duration::from_secs(120);
    loop {
        let row = pg.query(&format!(
            "SELECT seq || ' ' || worker FROM tasks WHERE job_id = '{id}' AND kind = 'part' AND status = 'running' AND frames_done > 0 LIMIT 1"
        ));
        if let Some((seq, worker)) = row.split_once(' ') {
            return (seq.to_string(), worker.to_string());
        }
        assert!(Instant::now() < until, "no part started");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until part `seq` of job `id` is claimed a second time by another worker than
/// `holder`; how long after `since` that was.
fn taken_over(pg: &Postgres, id: &str, seq: &str, holder: &str, since: Instant) -> Duration {
    loop {
        let row = pg.query(&format!(
            "SELECT attempts || ' ' || COALESCE(worker, '') FROM tasks WHERE job_id = '{id}' AND seq = {seq}"
        ));
        if let Some((attempts, worker)) = row.split_once(' ') {
            if attempts == "2" && !worker.is_empty() && worker != holder {
                return since.elapsed();
            }
        }
        assert!(since.elapsed() < Duration::from_secs(60), "the part was not taken over: {row}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Job `id`'s result, from `api`, has the frames and timestamps of a single-machine transcode
/// of `input`, and its pixels within encoder noise.
fn result_equals_single_machine(api: &Server, id: &str, input: &Path, dir: &Path) {
    let joined = dir.join("joined.mp4");
    download(api, id, &joined);
    let single = dir.join("single.mp4");
    single_machine(input, &single);
    assert_equals_single_machine(&joined, &single);
}

/// The worker process of `cluster` named `holder` (host-pid).
fn worker_index(cluster: &Cluster, holder: &str) -> usize {
    let pid: u32 = holder.rsplit('-').next().unwrap().parse().unwrap();
    cluster.workers.iter().position(|w| w.pid() == pid).expect("the holder is one of ours")
}

#[test]
fn a_worker_killed_mid_part_loses_its_lease_and_another_finishes_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(dir.path());
    let s3 = S3Server::start(dir.path(), "faceswap-test");
    let mut cluster = start_cluster(dir.path(), &pg, &s3, 2, "4");
    let long = long_clip_of(dir.path(), 6);
    let id = submit(&cluster.api, &long);
    // A part under way: its worker is killed outright (SIGKILL), mid-part.
    let (seq, holder) = part_under_way(&pg, &id);
    let index = worker_index(&cluster, &holder);
    let killed_at = Instant::now();
    cluster.workers.remove(index).crash();
    // Its lease runs out; the other worker claims the part again.
    let retaken = taken_over(&pg, &id, &seq, &holder, killed_at);
    eprintln!("part {seq} taken over {:.1} s after its worker was killed (lease 3 s)", retaken.as_secs_f64());
    let job = wait_finished(&cluster.api, &id, Duration::from_secs(300));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 2);
    result_equals_single_machine(&cluster.api, &id, &long, dir.path());
}

#[test]
fn a_hung_worker_loses_its_part_and_stops_it_when_it_wakes() {
    let dir = tempfile::tempdir().unwrap();
    let pg = Postgres::start(dir.path());
    let s3 = S3Server::start(dir.path(), "faceswap-test");
    let cluster = start_cluster(dir.path(), &pg, &s3, 2, "4");
    let long = long_clip_of(dir.path(), 6);
    let id = submit(&cluster.api, &long);
    // A part's worker hangs (SIGSTOP): no crash, no heartbeat either.
    let (seq, holder) = part_under_way(&pg, &id);
    let hung = &cluster.workers[worker_index(&cluster, &holder)];
    let stopped_at = Instant::now();
    let signal = |name: &str| {
        assert!(Command::new("kill").arg(format!("-{name}")).arg(hung.pid().to_string()).status().unwrap().success());
    };
    signal("STOP");
    let retaken = taken_over(&pg, &id, &seq, &holder, stopped_at);
    eprintln!("part {seq} taken over {:.1} s after its worker hung (lease 3 s)", retaken.as_secs_f64());
    // It wakes up: at its next heartbeat it finds the part is another's and stops its copy (or,
    // had it finished first, its end is not recorded over the other's).
    signal("CONT");
    let job = wait_finished(&cluster.api, &id, Duration::from_secs(300));
    assert_eq!(job["status"], "succeeded", "{job}");
    assert_eq!(job["attempts"], 2);
    let until = Instant::now() + Duration::from_secs(30);
    let noticed = |log: &str| log.contains("no longer this worker's") || log.contains("after it was taken over");
    while !noticed(&hung.log_text()) {
        assert!(Instant::now() < until, "the woken worker went on with a part it had lost:\n{}", hung.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    // The part is the other worker's: done once, by it.
    let row = pg.query(&format!("SELECT status || ' ' || worker FROM tasks WHERE job_id = '{id}' AND seq = {seq}"));
    assert!(row.starts_with("done ") && !row.ends_with(&holder), "{row}");
    result_equals_single_machine(&cluster.api, &id, &long, dir.path());
}

#[test]
fn postgres_restarting_mid_run_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut pg = Postgres::start(dir.path());
    // One machine on the shared database: the files in its own folder, two tasks at a time.
    let queue = pg.url();
    let args = ["--queue", &queue, "--segment-seconds", "2", "--lease", "3s", "--job-workers", "2", "--threads", "1"];
    let server = Server::start(&dir.path().join("node"), &args, &[]);
    let long = long_clip_of(dir.path(), 3);
    let carphone = media("carphone.mp4");
    let ids = [submit(&server, &long), submit(&server, &carphone), submit(&server, &carphone)];
    wait_for(&server, &format!("/v1/jobs/{}", ids[0]), Duration::from_secs(60), |a| a.json()["status"] == "running");
    pg.restart(Duration::from_secs(2));
    // The service reconnects: a job submitted after the restart is accepted and runs too.
    let after = wait_for(&server, "/health", Duration::from_secs(30), |a| a.status == 200);
    assert_eq!(after.json()["role"], "all");
    let late = submit(&server, &carphone);
    for (id, input) in
        ids.iter().map(|id| (id, if *id == ids[0] { &long } else { &carphone })).chain([(&late, &carphone)])
    {
        let job = wait_finished(&server, id, Duration::from_secs(300));
        assert_eq!(job["status"], "succeeded", "{job}");
        let out = dir.path().join(format!("{id}.mp4"));
        download(&server, id, &out);
        assert_eq!(frame_count(&out), frame_count(input));
    }
    assert!(ffprobe(&dir.path().join(format!("{}.mp4", ids[0])), &["-show_entries", "format_tags=comment"])
        .contains("face-swapped"));
}

#[test]
fn a_bad_queue_or_storage_is_one_line_that_never_shows_a_password() {
    let dir = tempfile::tempdir().unwrap();
    let serve = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_faceswap"))
            .current_dir(root())
            .args(["serve", "--addr", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!stderr.contains("hunter2"), "{stderr}");
        stderr
    };
    let unknown = serve(&["--queue", "mysql://app:hunter2@db/jobs"]);
    assert!(unknown.contains("use sqlite:PATH or postgres://") && unknown.contains("***"), "{unknown}");
    assert_eq!(unknown.trim().lines().count(), 1, "{unknown}");
    // Nothing listens there: refused at start, naming the database without its password.
    let port = crate::cluster_support::free_port();
    let unreachable = serve(&["--queue", &format!("postgres://app:hunter2@127.0.0.1:{port}/jobs")]);
    assert!(unreachable.contains(&format!("postgres://app:***@127.0.0.1:{port}/jobs")), "{unreachable}");
    assert!(unreachable.lines().last().unwrap_or_default().starts_with("error:"), "{unreachable}");
    let bucket = serve(&["--storage", "s3://No_Such/x"]);
    assert!(bucket.contains("not an S3 bucket name"), "{bucket}");
}
