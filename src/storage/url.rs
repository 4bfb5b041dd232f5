//! `--storage`: `file:DIR` or `s3://BUCKET/PREFIX`.

use std::{path::PathBuf, str::FromStr};

/// Where job files are kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StorageUrl {
    File(PathBuf),
    S3 { bucket: String, prefix: String },
}

impl FromStr for StorageUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(rest) = text.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.');
            if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
                return Err(format!("{text:?}: {bucket:?} is not an S3 bucket name (3–63 of a-z, 0-9, '-', '.')"));
            }
            let prefix = prefix.trim_matches('/');
            if prefix.split('/').any(|p| p.is_empty() && !prefix.is_empty() || p == "." || p == "..") {
                return Err(format!("{text:?}: the prefix may not hold empty, '.' or '..' parts"));
            }
            return Ok(Self::S3 { bucket: bucket.to_string(), prefix: prefix.to_string() });
        }
        if let Some(dir) = text.strip_prefix("file:") {
            let dir = dir.strip_prefix("//").unwrap_or(dir);
            if dir.is_empty() {
                return Err("file: needs a folder, as in file:/var/lib/faceswap".into());
            }
            return Ok(Self::File(PathBuf::from(dir)));
        }
        Err(format!("{text:?} is not a storage URL: use file:DIR or s3://BUCKET/PREFIX"))
    }
}

impl std::fmt::Display for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::File(dir) => write!(f, "file:{}", dir.display()),
            Self::S3 { bucket, prefix } if prefix.is_empty() => write!(f, "s3://{bucket}"),
            Self::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_bad_ones_say_why() {
        assert_eq!("file:/data".parse(), Ok(StorageUrl::File("/data".into())));
        assert_eq!("file:relative/dir".parse(), Ok(StorageUrl::File("relative/dir".into())));
        assert_eq!(
            "s3://media-bucket/faceswap/prod/".parse(),
            Ok(StorageUrl::S3 { bucket: "media-bucket".into(), prefix: "faceswap/prod".into() })
        );
        assert_eq!("s3://bucket".parse(), Ok(StorageUrl::S3 { bucket: "bucket".into(), prefix: String::new() }));
        for bad in ["s3://B", "s3://UPPER/x", "s3://ok-bucket/a/../b", "file:", "/plain/path", "gs://b"] {
            let error = bad.parse::<StorageUrl>().unwrap_err();
            assert!(error.contains(&format!("{bad:?}")) || error.contains("file:"), "{bad}: {error}");
        }
    }
}
