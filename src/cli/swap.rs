//! `faceswap swap`: one picture's face onto another picture's faces.

use std::{path::PathBuf, time::Instant};

use anyhow::Result;
use clap::Args;
use faceswap::{
    engine::{Engine, FaceChoice},
    imaging::{check_output, write_atomically, SaveMode},
    provenance::{Asset, EditRecord},
    swap::Sources,
};

use super::{
    engine::{EngineArgs, MouthMaskArgs, SourceArgs, SwapperArgs, TargetFaces},
    provenance::ProvenanceArgs,
    shown,
};

#[derive(Debug, Args)]
pub struct SwapArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// The picture whose faces are replaced.
    #[arg(long, value_name = "IMG")]
    target: PathBuf,
    /// Where to write the result (format from the extension).
    #[arg(long, short, value_name = "IMG")]
    output: PathBuf,
    /// Replace the output file if it exists.
    #[arg(long)]
    overwrite: bool,
    #[command(flatten)]
    swapper: SwapperArgs,
    #[command(flatten)]
    faces: TargetFaces,
    #[command(flatten)]
    mouth: MouthMaskArgs,
    #[command(flatten)]
    provenance: ProvenanceArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

pub fn run(args: SwapArgs) -> Result<()> {
    let mode = if args.overwrite { SaveMode::Overwrite } else { SaveMode::RefuseExisting };
    let pictures = args.faces.inputs();
    let mut inputs = vec![args.target.as_path()];
    inputs.extend(args.source.source.as_deref());
    inputs.extend(pictures.iter().map(PathBuf::as_path));
    let format = check_output(&args.output, &inputs, mode)?;
    let mut config = args.engine.config(&args.swapper)?;
    config.provenance = args.provenance.config(None)?;
    let engine = Engine::open(config)?;
    let settings = args.swapper.settings(args.mouth.mask()?)?;
    let kind = engine.config().swapper;
    let what = format!("the target {}", shown(&args.target));
    if !args.faces.map.is_empty() {
        let Sources::Mapped(map) = args.faces.sources(&args.source, &engine)? else {
            anyhow::bail!("--map gave no map");
        };
        let target = engine.load_full_picture(&args.target)?;
        let started = Instant::now();
        let swapped = engine.worker()?.swap_picture_mapped(&engine, &map, target, settings, &what, format)?;
        let elapsed = started.elapsed();
        if swapped.faces == 0 {
            anyhow::bail!(
                "no face in {what} is like any --map reference: nothing was written (faceswap map-faces {} lists its people)",
                shown(&args.target)
            );
        }
        let record = EditRecord {
            target: Asset::File { path: &args.target },
            source_face: None,
            swapper: kind.name(),
            enhancer: settings.enhancer.map(|e| e.kind.name()),
        };
        let bytes = engine.provenance().sign_picture(swapped.bytes, format, &title(&args.output), &record)?;
        write_atomically(&args.output, &bytes, mode)?;
        outln!(
            "swapped {} face(s) with {} mapped source(s) and the {kind} swapper in {:.0} ms: {}",
            swapped.faces,
            map.len(),
            elapsed.as_secs_f64() * 1000.0,
            shown(&args.output)
        )?;
        return Ok(());
    }
    let source_picture = engine.load_picture(args.source.path()?)?;
    let target = engine.load_full_picture(&args.target)?;
    if target.deep {
        eprintln!("note: {} has more than 8 bits a channel: the result is written in 8 bits", shown(&args.target));
    }
    let reference = args.faces.reference.as_ref().map(|path| engine.load_picture(path)).transpose()?;
    let reference_what = args.faces.reference.as_ref().map(|path| format!("the reference {}", shown(path)));
    let mut worker = engine.worker()?;
    let started = Instant::now();
    let source = worker.source_face(&source_picture, &args.source.what(), args.source.source_face)?;
    args.source.note(&source);
    super::engine::turned_away_note(&engine, &args.source.what(), &source);
    let fixed = args.faces.without_reference();
    let faces = match (&reference, &reference_what) {
        (Some(picture), Some(what)) => FaceChoice::LikeReference { picture, what },
        _ => FaceChoice::Fixed(&fixed),
    };
    let swapped = worker.swap_picture(&engine, &source, target, faces, settings, &what, format)?;
    let elapsed = started.elapsed();
    let source_hash = args.source.sha256(&args.faces)?;
    let record = EditRecord {
        target: Asset::File { path: &args.target },
        source_face: source_hash.as_deref(),
        swapper: kind.name(),
        enhancer: settings.enhancer.map(|e| e.kind.name()),
    };
    let bytes = engine.provenance().sign_picture(swapped.bytes, format, &title(&args.output), &record)?;
    write_atomically(&args.output, &bytes, mode)?;
    let swapped = swapped.faces;
    let enhanced = settings.enhancer.map(|e| format!(" and the {} enhancer", e.kind)).unwrap_or_default();
    outln!(
        "swapped {swapped} face(s) with the {kind} swapper{enhanced} in {:.0} ms: {}",
        elapsed.as_secs_f64() * 1000.0,
        shown(&args.output)
    )?;
    Ok(())
}

/// The output's file name, the manifest's title.
fn title(output: &std::path::Path) -> String {
    output.file_name().map_or_else(|| shown(output), |n| n.to_string_lossy().into_owned())
}
