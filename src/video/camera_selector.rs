//! Naming a camera: by index or by (part of) its name.

/// Which camera to open: its index, or (part of) its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CameraSelector {
    Index(u32),
    Name(String),
}

impl std::str::FromStr for CameraSelector {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(s.parse::<u32>().map_or_else(|_| Self::Name(s.to_string()), Self::Index))
    }
}

impl std::fmt::Display for CameraSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Index(i) => write!(f, "{i}"),
            Self::Name(n) => write!(f, "{n:?}"),
        }
    }
}
