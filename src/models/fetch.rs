//! Downloading model files: mirrors first, then the manifest's URLs; HTTPS only (plain HTTP
//! only on loopback); a progress bar on a terminal; resume with HTTP Range after a broken
//! connection; retries with backoff; the sha256 computed while the bytes stream into a
//! temporary file, which is renamed into place only when the hash matches. A download that does
//! not match never replaces anything.

use std::{
    io::{Read, Seek, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{blocking::Client, header, StatusCode, Url};
use sha2::{Digest, Sha256};

use super::{ModelEntry, ModelError, Pin};
use crate::{
    atomic_file::{remove_stale_partials, AtomicFile},
    redact::url as redacted,
};

/// How downloads are made.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Tried before the manifest's URLs, as `MIRROR/FILE_NAME`.
    pub mirrors: Vec<String>,
    /// Attempts per URL (a resumed transfer counts as one more attempt).
    pub attempts: u32,
    /// Wait before the second attempt; doubled for each one after.
    pub backoff: Duration,
    pub connect_timeout: Duration,
    /// The longest a single read may wait for bytes before the attempt counts as broken.
    pub read_timeout: Duration,
    /// A transfer slower than `min_bytes` in every `rate_window` is broken too: a server that
    /// drips a byte a second never trips the read time-out, and would hold a download (and a
    /// server that repairs a model from it) for ever.
    pub min_bytes: u64,
    pub rate_window: Duration,
    /// Show a progress bar (on a terminal).
    pub progress: bool,
}

impl Default for FetchConfig {
    fn default() -> Self {
        Self {
            mirrors: Vec::new(),
            attempts: 4,
            backoff: Duration::from_millis(500),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(20),
            min_bytes: 64 * 1024,
            rate_window: Duration::from_secs(20),
            progress: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }
}

/// Downloads model files.
#[derive(Debug, Clone)]
pub struct Fetcher {
    client: Client,
    config: FetchConfig,
    /// Set to stop a download (and its back-off) between two blocks.
    cancel: Arc<AtomicBool>,
}

/// Redirects are followed only to URLs the same rule admits (every hop HTTPS, or HTTP on
/// loopback), at most ten.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() >= 10 {
            return attempt.error("more than 10 redirects");
        }
        match check_url(attempt.url().as_str()) {
            Ok(_) => attempt.follow(),
            Err(reason) => attempt.error(format!("redirected to {reason}")),
        }
    })
}

/// Only HTTPS leaves the machine; plain HTTP is for loopback mirrors (tests, local caches).
fn check_url(url: &str) -> Result<Url, String> {
    let parsed = Url::parse(url).map_err(|e| format!("{} is not a URL: {e}", redacted(url)))?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if loopback => Ok(parsed),
        scheme => Err(format!("{}: {scheme} is refused, only HTTPS (or HTTP on loopback) is used", redacted(url))),
    }
}

/// Why one attempt stopped.
enum Attempt {
    /// Try the same URL again, resuming if bytes were kept.
    Retry(String),
    /// This URL will not work (404, wrong hash): go to the next.
    GiveUp(String),
}

impl Fetcher {
    /// A fetcher with `config`.
    ///
    /// # Errors
    /// [`ModelError::Fetch`] when the HTTP client cannot be built (no TLS backend).
    pub fn new(config: FetchConfig) -> Result<Self, ModelError> {
        let client = Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.read_timeout)
            .redirect(redirect_policy())
            .user_agent(concat!("faceswap/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|source| ModelError::Client { source })?;
        Ok(Self { client, config, cancel: Arc::new(AtomicBool::new(false)) })
    }

    /// The flag that stops this fetcher's downloads (shared by its clones): set it and every
    /// download in progress ends at its next block, and back-off waits end at once.
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    /// A fetcher with the same settings and a cancel flag of its own.
    pub fn with_own_cancel(&self) -> Self {
        Self { client: self.client.clone(), config: self.config.clone(), cancel: Arc::new(AtomicBool::new(false)) }
    }

    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Waits `delay`, or less when cancelled.
    fn back_off(&self, delay: Duration) {
        let until = Instant::now() + delay;
        while !self.cancelled() && Instant::now() < until {
            std::thread::sleep((until - Instant::now()).min(Duration::from_millis(20)));
        }
    }

    /// The URLs to try for `entry`, mirrors first.
    pub fn urls_for(&self, entry: &ModelEntry) -> Vec<String> {
        self.config
            .mirrors
            .iter()
            .map(|m| format!("{}/{}", m.trim_end_matches('/'), entry.file))
            .chain(entry.urls.iter().cloned())
            .collect()
    }

    /// Downloads `entry` to `dest`, checked against its size and sha256 (an entry without a pin:
    /// no larger than its `max_size`); the file's size and sha256 and the URL it came from.
    ///
    /// # Errors
    /// [`ModelError::Fetch`] listing what every URL answered; `dest` is untouched then.
    pub fn fetch(&self, entry: &ModelEntry, dest: &Path) -> Result<(Pin, String), ModelError> {
        let urls = self.urls_for(entry);
        if urls.is_empty() {
            return Err(ModelError::NoUrl { name: entry.name.clone(), package: entry.package.clone() });
        }
        let folder = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(folder).map_err(|source| ModelError::Io { path: folder.to_path_buf(), source })?;
        let mut failures = Vec::new();
        for url in &urls {
            match self.fetch_from(entry, url, folder, dest) {
                Ok(pin) => return Ok((pin, redacted(url).to_string())),
                Err(reason) => {
                    let shown = redacted(url);
                    tracing::warn!(model = %entry.name, url = %shown, %reason, "download failed");
                    failures.push(format!("{shown}: {reason}"));
                }
            }
        }
        Err(ModelError::Fetch { name: entry.name.clone(), failures })
    }

    fn fetch_from(&self, entry: &ModelEntry, url: &str, folder: &Path, dest: &Path) -> Result<Pin, String> {
        let url = check_url(url)?;
        remove_stale_partials(dest);
        let mut temp = AtomicFile::create(dest).map_err(|e| format!("cannot write in {}: {e}", folder.display()))?;
        let mut hasher = Sha256::new();
        let mut written = 0u64;
        let bar = self.progress_bar(entry);
        let mut last_reason = String::new();
        for attempt in 0..self.config.attempts.max(1) {
            if attempt > 0 {
                self.back_off(self.config.backoff * 2u32.saturating_pow(attempt - 1));
                tracing::info!(model = %entry.name, url = %redacted(url.as_str()), resume_from = written, "retrying download");
            }
            if self.cancelled() {
                bar.abandon();
                return Err("cancelled".to_string());
            }
            let Some(file) = temp.file_mut() else { return Err("the partial file is closed".to_string()) };
            match self.transfer(&url, file, entry.byte_limit(), &mut hasher, &mut written, &bar) {
                Ok(()) => {
                    last_reason.clear();
                    break;
                }
                Err(Attempt::Retry(reason)) => last_reason = reason,
                Err(Attempt::GiveUp(reason)) => {
                    bar.abandon();
                    return Err(reason);
                }
            }
        }
        bar.finish_and_clear();
        if !last_reason.is_empty() {
            return Err(format!("gave up after {} attempts: {last_reason}", self.config.attempts));
        }
        let actual = hex::encode(hasher.finalize());
        if let Some(pin) = entry.pin() {
            if written != pin.size {
                return Err(format!("got {written} bytes, expected {}", pin.size));
            }
            if actual != pin.sha256 {
                return Err(format!("sha256 {actual}, expected {}: the file was not kept", pin.sha256));
            }
        } else if written == 0 {
            return Err("the server sent no bytes".to_string());
        }
        temp.commit(true).map_err(|e| e.to_string())?;
        tracing::info!(model = %entry.name, path = %dest.display(), sha256 = %actual, "model downloaded and verified");
        Ok(Pin { size: written, sha256: actual })
    }

    /// One HTTP request: from byte `written` on, appending to `file` and the hash.
    fn transfer(
        &self,
        url: &Url,
        file: &mut std::fs::File,
        size: u64,
        hasher: &mut Sha256,
        written: &mut u64,
        bar: &ProgressBar,
    ) -> Result<(), Attempt> {
        let mut request = self.client.get(url.clone());
        if *written > 0 {
            request = request.header(header::RANGE, format!("bytes={written}-"));
        }
        let mut response = request.send().map_err(|e| Attempt::Retry(describe(e)))?;
        let status = response.status();
        match status {
            StatusCode::PARTIAL_CONTENT if *written > 0 => {}
            StatusCode::OK => {
                if *written > 0 {
                    // The server ignored the range: start over.
                    file.set_len(0).map_err(|e| Attempt::GiveUp(e.to_string()))?;
                    file.rewind().map_err(|e| Attempt::GiveUp(e.to_string()))?;
                    *hasher = Sha256::new();
                    *written = 0;
                    bar.set_position(0);
                }
            }
            s if s.is_server_error() || s == StatusCode::TOO_MANY_REQUESTS => {
                return Err(Attempt::Retry(format!("HTTP {s}")))
            }
            s => return Err(Attempt::GiveUp(format!("HTTP {s}"))),
        }
        // A body larger than the model is not read at all, nor past the model's size.
        if let Some(announced) = response.content_length() {
            if *written + announced > size {
                return Err(Attempt::GiveUp(format!(
                    "the server announces {} bytes, the model has {size}",
                    *written + announced
                )));
            }
        }
        let mut block = vec![0u8; 1 << 16];
        let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
        loop {
            if self.cancelled() {
                return Err(Attempt::GiveUp("cancelled".to_string()));
            }
            if window_start.elapsed() >= self.config.rate_window {
                if window_bytes < self.config.min_bytes {
                    return Err(Attempt::Retry(format!(
                        "too slow: {window_bytes} bytes in {:.0} s after {written} bytes",
                        window_start.elapsed().as_secs_f64()
                    )));
                }
                (window_start, window_bytes) = (Instant::now(), 0);
            }
            let n = match response.read(&mut block) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) => return Err(Attempt::Retry(format!("connection broken after {written} bytes: {e}"))),
            };
            if *written + n as u64 > size {
                return Err(Attempt::GiveUp(format!("the server sent more than the model's {size} bytes")));
            }
            file.write_all(&block[..n]).map_err(|e| Attempt::GiveUp(format!("cannot write: {e}")))?;
            hasher.update(&block[..n]);
            *written += n as u64;
            window_bytes += n as u64;
            bar.set_position(*written);
        }
    }

    fn progress_bar(&self, entry: &ModelEntry) -> ProgressBar {
        if !self.config.progress {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::new(entry.byte_limit());
        if let Ok(style) =
            ProgressStyle::with_template("{msg} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        {
            bar.set_style(style);
        }
        bar.set_message(entry.file.clone());
        bar
    }
}

/// reqwest's errors nest their cause; the user wants all of it on one line, without the URL
/// (the caller names it, redacted).
fn describe(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where a model's backup goes: `NAME.backup` beside it (one kept).
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".backup");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(check_url("https://example.org/m.onnx").is_ok());
        assert!(check_url("http://127.0.0.1:8080/m.onnx").is_ok());
        assert!(check_url("http://localhost/m.onnx").is_ok());
        assert!(check_url("http://[::1]:9/m.onnx").is_ok());
        assert!(check_url("http://example.org/m.onnx").unwrap_err().contains("refused"));
        assert!(check_url("ftp://127.0.0.1/m.onnx").is_err());
    }

    #[test]
    fn backup_sits_beside_the_file() {
        assert_eq!(backup_path(Path::new("models/a.onnx")), PathBuf::from("models/a.onnx.backup"));
    }
}
