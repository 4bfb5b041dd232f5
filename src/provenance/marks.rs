//! Which marks an output gets: `--provenance c2pa,watermark` (both, the default) or `none`.

/// The marks put on every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProvenanceMarks {
    /// A signed C2PA manifest (embedded, or a `.c2pa` sidecar where the format cannot hold one).
    pub c2pa: bool,
    /// The invisible watermark in every swapped frame and picture.
    pub watermark: bool,
}

impl Default for ProvenanceMarks {
    fn default() -> Self {
        Self::ALL
    }
}

impl ProvenanceMarks {
    /// Both marks: what every output gets unless the user says otherwise.
    pub const ALL: Self = Self { c2pa: true, watermark: true };
    /// Neither.
    pub const NONE: Self = Self { c2pa: false, watermark: false };

    /// Parses `c2pa`, `watermark`, `c2pa,watermark` or `none`.
    ///
    /// # Errors
    /// A name that is not one of those, or `none` beside another.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut marks = Self::NONE;
        let mut none = false;
        for name in text.split(',').map(str::trim) {
            match name {
                "c2pa" => marks.c2pa = true,
                "watermark" => marks.watermark = true,
                "none" => none = true,
                other => return Err(format!("unknown provenance mark {other:?}: use c2pa, watermark or none")),
            }
        }
        if none && marks != Self::NONE {
            return Err("--provenance none cannot be given with c2pa or watermark".into());
        }
        if !none && marks == Self::NONE {
            return Err("--provenance needs c2pa, watermark or none".into());
        }
        Ok(marks)
    }

    /// What the user is responsible for when a mark is off, for the warning printed then.
    pub fn missing(self) -> Option<&'static str> {
        match (self.c2pa, self.watermark) {
            (true, true) => None,
            (true, false) => Some("outputs carry no watermark: a re-encode or a screenshot drops the only mark left"),
            (false, true) => Some("outputs carry no signed C2PA manifest: only the watermark says they are AI-edited"),
            (false, false) => Some(
                "outputs carry neither a C2PA manifest nor a watermark: disclosing that they are AI-generated \
                 or manipulated (EU AI Act, Article 50) is then yours to do",
            ),
        }
    }
}

impl std::fmt::Display for ProvenanceMarks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match (self.c2pa, self.watermark) {
            (true, true) => "c2pa,watermark",
            (true, false) => "c2pa",
            (false, true) => "watermark",
            (false, false) => "none",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::ProvenanceMarks;

    #[test]
    fn parses_each_choice_and_refuses_mixtures() {
        assert_eq!(ProvenanceMarks::parse("c2pa,watermark"), Ok(ProvenanceMarks::ALL));
        assert_eq!(ProvenanceMarks::parse("watermark").map(|m| (m.c2pa, m.watermark)), Ok((false, true)));
        assert_eq!(ProvenanceMarks::parse("none"), Ok(ProvenanceMarks::NONE));
        assert!(ProvenanceMarks::parse("none,c2pa").is_err());
        assert!(ProvenanceMarks::parse("exif").is_err());
        assert!(ProvenanceMarks::parse("").is_err());
    }
}
