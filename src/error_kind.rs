//! What kind of failure an error is: the part a caller acts on (an exit code, an HTTP status).
//! It imports nothing of the crate, so every module's error can use it without a circle.

use serde::Serialize;

/// What kind of failure an error is: the part a caller acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// A file, camera or record that is not there.
    NotFound,
    /// Not a picture or video this build reads, or a container/codec it cannot write.
    UnsupportedFormat,
    /// An input that cannot be used as given: damaged, truncated, a face index past the end.
    InvalidInput,
    /// No face where one is needed.
    NoFace,
    /// Larger than the configured limits.
    TooLarge,
    /// An output that already exists and may not be replaced.
    Exists,
    /// Not possible in the current state (a job's result before it has finished).
    Conflict,
    /// A model, runtime library or execution provider that cannot be used now.
    ModelUnavailable,
    /// Every worker busy and the queue full: try again later.
    Busy,
    /// Anything else: a fault of this program or its machine (disk, encoder).
    Internal,
}

impl ErrorKind {
    /// Every kind.
    pub const ALL: [Self; 10] = [
        Self::NotFound,
        Self::UnsupportedFormat,
        Self::InvalidInput,
        Self::NoFace,
        Self::TooLarge,
        Self::Exists,
        Self::Conflict,
        Self::ModelUnavailable,
        Self::Busy,
        Self::Internal,
    ];

    /// The kind's name, as it is serialised (`not_found`, `too_large`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::UnsupportedFormat => "unsupported_format",
            Self::InvalidInput => "invalid_input",
            Self::NoFace => "no_face",
            Self::TooLarge => "too_large",
            Self::Exists => "exists",
            Self::Conflict => "conflict",
            Self::ModelUnavailable => "model_unavailable",
            Self::Busy => "busy",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ErrorKind {
    type Err = UnknownErrorKind;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| UnknownErrorKind(s.chars().take(40).collect()))
    }
}

/// A name that is no [`ErrorKind`] (a database written by another version, say).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown error kind {0:?}")]
pub struct UnknownErrorKind(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_serialised_ones_and_parse_back() {
        for kind in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(kind.as_str().parse::<ErrorKind>().unwrap(), kind);
        }
    }
}
