//! A model server on 127.0.0.1 for the download tests: serves files from a folder, honours
//! Range, and can cut a transfer half-way, answer 404, or answer slowly.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader, Write},
    net::{TcpListener, TcpStream},
    path::PathBuf,
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    thread::JoinHandle,
    time::Duration,
};

#[derive(Default)]
pub struct Behaviour {
    /// File names whose next transfer stops half-way (once each).
    pub cut_once: Vec<String>,
    /// Delay before each answer.
    pub delay: Duration,
    /// Send this many bytes of the body, then one byte a second (a server that drips).
    pub drip_after: Option<usize>,
}

/// Every request seen: (path, Range header).
pub type RequestLog = Arc<Mutex<Vec<(String, Option<String>)>>>;

pub struct ModelServer {
    pub base: String,
    /// Every request seen: (path, Range header).
    pub requests: RequestLog,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl ModelServer {
    pub fn start(folder: PathBuf, behaviour: Behaviour) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (log, halt) = (requests.clone(), stop.clone());
        let cut: Arc<Mutex<HashMap<String, bool>>> =
            Arc::new(Mutex::new(behaviour.cut_once.iter().map(|n| (n.clone(), true)).collect()));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if halt.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (folder, log, cut) = (folder.clone(), log.clone(), cut.clone());
                let (delay, drip) = (behaviour.delay, behaviour.drip_after);
                std::thread::spawn(move || serve(stream, &folder, &log, &cut, delay, drip));
            }
        });
        Self { base: format!("http://127.0.0.1:{port}"), requests, stop, thread: Some(thread), port }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    folder: &std::path::Path,
    log: &Mutex<Vec<(String, Option<String>)>>,
    cut: &Mutex<HashMap<String, bool>>,
    delay: Duration,
    drip_after: Option<usize>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/').to_string();
    let mut range = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("range") {
                range = Some(value.trim().to_string());
            }
        }
    }
    log.lock().unwrap().push((path.clone(), range.clone()));
    std::thread::sleep(delay);
    let Ok(bytes) = std::fs::read(folder.join(&path)) else {
        let _ = stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
    };
    let start = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        .unwrap_or(0)
        .min(bytes.len());
    let body = &bytes[start..];
    let head = if start > 0 {
        format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{}/{}\r\nConnection: close\r\n\r\n",
            body.len(),
            bytes.len() - 1,
            bytes.len()
        )
    } else {
        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
    };
    let _ = stream.write_all(head.as_bytes());
    let cut_now = cut.lock().unwrap().get_mut(&path).is_some_and(|first| std::mem::replace(first, false));
    let sent = if cut_now { &body[..body.len() / 2] } else { body };
    if let Some(first) = drip_after {
        let _ = stream.write_all(&sent[..first.min(sent.len())]);
        for byte in sent.iter().skip(first) {
            std::thread::sleep(Duration::from_secs(1));
            if stream.write_all(&[*byte]).and_then(|()| stream.flush()).is_err() {
                return;
            }
        }
        return;
    }
    let _ = stream.write_all(sent);
    let _ = stream.flush();
    // Dropping the stream closes the connection: after half the body when cutting.
}
