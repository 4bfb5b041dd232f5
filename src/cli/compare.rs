//! `faceswap compare`: how good a swap is, in figures and on a contact sheet, for a picture or
//! a video and its swapped version.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use faceswap::{
    engine::Engine,
    imaging::{check_output, encode_rgb, write_atomically, SaveMode},
    quality::{compare_pictures, compare_videos, picture_sheet, video_sheet, FaceFigures},
};

use super::{
    engine::{EngineArgs, SourceArgs},
    shown,
};

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The picture or video before the swap.
    #[arg(long, value_name = "FILE")]
    original: PathBuf,
    /// The same after the swap.
    #[arg(long, value_name = "FILE")]
    result: PathBuf,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Write a before/after contact sheet (PNG or JPEG, by its extension) with the figures on it.
    #[arg(long, value_name = "FILE")]
    sheet: Option<PathBuf>,
    /// Replace an existing --sheet file.
    #[arg(long)]
    overwrite: bool,
    /// Video: how many frames to measure, spread over the clip.
    #[arg(long, value_name = "N", default_value_t = 40, value_parser = clap::value_parser!(u64).range(2..=10_000))]
    samples: u64,
    /// Video: how many of them the sheet shows.
    #[arg(long, value_name = "N", default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=24))]
    sheet_frames: u64,
    #[command(flatten)]
    pub engine: EngineArgs,
}

fn print_face(n: usize, f: &FaceFigures) -> std::io::Result<()> {
    outln!(
        "face {n}: identity {:+.3} -> {:+.3}  eyes {:.3} -> {:.3}  mouth {:.3} -> {:.3}  drift {:.1}%",
        f.identity_before,
        f.identity_after,
        f.eyes_before,
        f.eyes_after,
        f.mouth_before,
        f.mouth_after,
        f.drift * 100.0
    )?;
    let figures: Vec<String> = [
        f.seam.map(|s| format!("seam {s:.2} grey levels/px")),
        f.light_change.map(|l| format!("light moved {l:.1} grey levels")),
        f.lip_colour_change.map(|l| format!("lip colour moved {l:.1}")),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !figures.is_empty() {
        outln!("        {}", figures.join("  "))?;
    }
    Ok(())
}

pub fn run(args: CompareArgs) -> Result<()> {
    let sheet_format = match &args.sheet {
        Some(sheet) => {
            let inputs = [args.original.as_path(), args.result.as_path(), args.source.path()?];
            Some(check_output(sheet, &inputs, SaveMode::from_overwrite(args.overwrite)).context("--sheet")?)
        }
        None => None,
    };
    let engine = Engine::open(args.engine.analysis_config()?)?;
    let source = args.source.face(&engine)?;
    let mut analyzer = engine.analyzer()?;
    let sheet = if faceswap::imaging::is_picture_path(&args.original) {
        let (original, result) = (engine.load_picture(&args.original)?, engine.load_picture(&args.result)?);
        let comparison = compare_pictures(&mut analyzer, source.identity(), &original, &result)?;
        if args.json {
            outln!("{}", serde_json::to_string_pretty(&comparison)?)?;
        } else {
            for (n, face) in comparison.faces.iter().enumerate() {
                print_face(n, face)?;
            }
            outln!(
                "mean: identity after {:.3}, |eye change| {:.3}, |mouth change| {:.3}",
                comparison.mean_identity_after,
                comparison.mean_eye_change,
                comparison.mean_mouth_change
            )?;
            if let Some(seam) = comparison.mean_seam {
                outln!("mean seam at the swap's edge: {seam:.2} grey levels/px")?;
            }
        }
        args.sheet.as_ref().map(|_| picture_sheet(&original, &result, &comparison))
    } else {
        let samples = usize::try_from(args.samples).unwrap_or(40);
        let comparison = compare_videos(&mut analyzer, source.identity(), &args.original, &args.result, samples)?;
        if comparison.frames_original != comparison.frames_result {
            eprintln!(
                "warning: the result has {} frames and the original {}: only the first {} were compared",
                comparison.frames_result,
                comparison.frames_original,
                comparison.frames_original.min(comparison.frames_result)
            );
        }
        if args.json {
            outln!("{}", serde_json::to_string_pretty(&comparison)?)?;
        } else {
            outln!(
                "{} frames measured: eye correlation {:.3}, mouth correlation {:.3}, identity {:.3} -> {:.3}, flicker {:.3}",
                comparison.frames.len(),
                comparison.eye_correlation,
                comparison.mouth_correlation,
                comparison.mean_identity_before,
                comparison.mean_identity_after,
                comparison.flicker
            )?;
        }
        let count = usize::try_from(args.sheet_frames).unwrap_or(6);
        args.sheet.as_ref().map(|_| video_sheet(&args.original, &args.result, &comparison, count)).transpose()?
    };
    if let (Some(path), Some(sheet), Some(format)) = (&args.sheet, sheet, sheet_format) {
        write_atomically(path, &encode_rgb(&sheet, format)?, SaveMode::from_overwrite(args.overwrite))?;
        if !args.json {
            outln!("contact sheet: {}", shown(path))?;
        }
    }
    Ok(())
}
