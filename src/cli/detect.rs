//! `faceswap detect`: the faces in a picture, as text or JSON.

use std::{io::Write, path::PathBuf};

use anyhow::Result;
use clap::Args;
use faceswap::{
    engine::Engine,
    face::{Analysis, DetectionReport},
};

use super::{engine::EngineArgs, shown};

#[derive(Debug, Args)]
pub struct DetectArgs {
    /// The picture to look at.
    image: PathBuf,
    /// Print JSON: {"width", "height", "faces": [{"bbox", "score", "kps", …}]}.
    #[arg(long)]
    json: bool,
    /// Add each face's identity vector (ArcFace, L2-normalised, 512 values).
    #[arg(long)]
    embeddings: bool,
    /// Add each face's 106 landmarks.
    #[arg(long)]
    landmarks: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: DetectArgs) -> Result<()> {
    let engine = Engine::open(args.engine.analysis_config()?)?;
    let picture = engine.load_picture(&args.image)?;
    let analysis = Analysis { landmarks: args.landmarks, embedding: args.embeddings };
    let faces = engine.worker()?.detect(&picture, analysis)?;
    let report = DetectionReport::new(picture.width(), picture.height(), faces);
    let mut out = std::io::stdout().lock();
    if args.json {
        serde_json::to_writer(&mut out, &report)?;
        writeln!(out)?;
    } else {
        writeln!(out, "{}: {}×{}, {} face(s)", shown(&args.image), report.width, report.height, report.faces.len())?;
        for (i, f) in report.faces.iter().enumerate() {
            writeln!(
                out,
                "face {i}: box ({:.1}, {:.1})–({:.1}, {:.1}), score {:.3}",
                f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3], f.score
            )?;
        }
    }
    Ok(())
}
