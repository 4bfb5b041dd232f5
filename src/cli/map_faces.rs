//! `faceswap map-faces`: the people in a target picture or video, each written out as a crop
//! of their best face, to be given a source each with `--map SOURCE=CROP`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use faceswap::{
    atomic_file::check_target,
    engine::Engine,
    imaging::{save_rgb, SaveMode},
};

use super::{engine::EngineArgs, shown};

#[derive(Debug, Args)]
pub struct MapFacesArgs {
    /// The target: a picture or a video.
    input: PathBuf,
    /// The folder the crops go in (person-0.png, person-1.png, …; made when missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// In a video, look at every Nth frame.
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..))]
    every: u64,
    /// Replace crops left by an earlier run.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: MapFacesArgs) -> Result<()> {
    let engine = Engine::open(args.engine.analysis_config()?)?;
    let (people, looked_at) = engine.people_in(&args.input, args.every)?;
    if people.is_empty() {
        anyhow::bail!("no face in {}: nothing to map", shown(&args.input));
    }
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot make {}", shown(&args.out)))?;
    let paths: Vec<PathBuf> = (0..people.len()).map(|i| args.out.join(format!("person-{i}.png"))).collect();
    // Every crop checked before the first is written: a refused run leaves nothing half done.
    for path in &paths {
        check_target(path, args.overwrite, &[args.input.as_path()]).with_context(|| shown(path))?;
    }
    let unit = if looked_at == 1 { "picture" } else { "frames looked at" };
    outln!("{} person(s) in {} ({looked_at} {unit}):", people.len(), shown(&args.input))?;
    for ((i, person), path) in people.iter().enumerate().zip(&paths) {
        save_rgb(&person.crop, path, SaveMode::from_overwrite(args.overwrite))?;
        outln!(
            "  person-{i}: seen {} time(s), best face at frame {}: {}",
            person.seen,
            person.best_frame,
            shown(path)
        )?;
    }
    outln!("give each a source: --map SOURCE.png={} (repeat --map for each person)", shown(&paths[0]))?;
    Ok(())
}
