//! What a message may show to someone who is not the operator: a server's error names no file
//! of the server (a client learns neither its folders nor whether a file exists there), and no
//! URL shows its password.

/// `text` with every absolute path in it cut to its last component (`/srv/faceswap/models/
/// inswapper_128.onnx` → `inswapper_128.onnx`). A path is a run of characters that starts with
/// `/` after a space, a quote or a bracket, or at the start, and has another `/` in it.
pub fn file_names_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('/') {
        let before = &rest[..start];
        let starts_path = before.chars().next_back().is_none_or(|c| c.is_whitespace() || "\"'([{=:".contains(c));
        out.push_str(before);
        let tail = &rest[start..];
        let end = tail.find(|c: char| c.is_whitespace() || "\"'()[]{},;".contains(c)).unwrap_or(tail.len());
        let word = &tail[..end];
        if starts_path && word[1..].contains('/') {
            let name = word.trim_end_matches(['.', ':']).rsplit('/').next().unwrap_or("");
            let trailing = &word[word.trim_end_matches(['.', ':']).len()..];
            out.push_str(if name.is_empty() { "(a folder)" } else { name });
            out.push_str(trailing);
        } else {
            out.push_str(word);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `url` as it may be shown: a password in it (`user:pass@`) replaced by `***`; text that is
/// not a URL is not shown at all, since nothing in it can be told apart from a password.
pub fn url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        // An '@' the parser did not take for credentials may still follow a password.
        Ok(_) if !url.contains('@') => url.to_string(),
        Ok(_) => format!("***@{}", url.rsplit('@').next().unwrap_or("")),
        Err(_) => "(not a URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_paths_lose_their_folders() {
        assert_eq!(
            file_names_only("model /srv/data/models/inswapper_128.onnx is missing: fetch it"),
            "model inswapper_128.onnx is missing: fetch it"
        );
        assert_eq!(file_names_only("video \"/tmp/x/in.mp4\" (a.b)"), "video \"in.mp4\" (a.b)");
        assert_eq!(file_names_only("at /srv/data/incoming/12-ab."), "at 12-ab.");
        assert_eq!(file_names_only("at /srv/data/"), "at (a folder)");
        // Not paths: ratios, URLs' own text, a lone slash.
        assert_eq!(file_names_only("1/2 and a/b and / here"), "1/2 and a/b and / here");
        assert_eq!(file_names_only("café /é/ü.mp4"), "café ü.mp4");
    }

    #[test]
    fn a_password_is_never_shown() {
        assert_eq!(url("http://user:secret@127.0.0.1:8/m"), "http://user:***@127.0.0.1:8/m");
        assert_eq!(url("https://h/m"), "https://h/m");
        assert!(!url("user:secret@@").contains("secret"));
    }
}
