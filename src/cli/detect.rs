//! `faceswap detect`: the faces in a picture, as text or JSON.

use std::{io::Write, path::PathBuf};

use anyhow::Result;
use clap::Args;
use faceswap::{
    face::{Analysis, Face},
    imaging::{load_rgb, Point},
};
use serde::Serialize;

use super::engine::{shown, EngineArgs};

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
    engine: EngineArgs,
}

#[derive(Serialize)]
struct Report {
    width: u32,
    height: u32,
    faces: Vec<FaceReport>,
}

#[derive(Serialize)]
struct FaceReport {
    bbox: [f32; 4],
    score: f32,
    kps: [Point; 5],
    #[serde(skip_serializing_if = "Option::is_none")]
    embedding: Option<Vec<f32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    landmarks: Option<Vec<Point>>,
}

impl From<Face> for FaceReport {
    fn from(face: Face) -> Self {
        Self {
            bbox: face.bbox,
            score: face.score,
            kps: face.kps,
            embedding: face.embedding.map(|e| e.normed()),
            landmarks: face.landmarks,
        }
    }
}

pub fn run(args: DetectArgs) -> Result<()> {
    let picture = load_rgb(&args.image)?;
    let factory = args.engine.factory()?;
    let mut analyzer = args.engine.analyzer(&factory)?;
    let analysis = Analysis { landmarks: args.landmarks, embedding: args.embeddings };
    let faces = analyzer.analyze(&picture, analysis)?;
    let report = Report {
        width: picture.width(),
        height: picture.height(),
        faces: faces.into_iter().map(FaceReport::from).collect(),
    };
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
