//! `faceswap swap`: one picture's face onto another picture's faces.

use std::{path::PathBuf, time::Instant};

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use faceswap::{
    face::{largest_face, Analysis, FaceAnalyzer, FaceSelection},
    imaging::{load_rgb, save_rgb, SaveMode},
    models::{ModelStore, VerifiedModel},
    runtime::SessionFactory,
    swap::{InSwapper, LandmarkSwapper, Swapper, SwapperKind},
};

use super::engine::{shown, EngineArgs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SwapperArg {
    /// Needs only the default pack; real time on a CPU.
    Landmark,
    /// insightface's inswapper_128 (fetch it first; see the README).
    Inswapper,
}

impl From<SwapperArg> for SwapperKind {
    fn from(arg: SwapperArg) -> Self {
        match arg {
            SwapperArg::Landmark => SwapperKind::Landmark,
            SwapperArg::Inswapper => SwapperKind::Inswapper,
        }
    }
}

/// Which target faces to replace; the default is the largest.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct TargetFaces {
    /// Replace face N (numbered as `faceswap detect` lists them, from 0).
    #[arg(long, value_name = "N")]
    face: Option<usize>,
    /// Replace every face.
    #[arg(long)]
    all_faces: bool,
    /// Replace the face most like the one in this picture.
    #[arg(long, value_name = "IMG")]
    reference: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SwapArgs {
    /// The picture whose face is put onto the target.
    #[arg(long, value_name = "IMG")]
    source: PathBuf,
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
    engine: EngineArgs,
}

/// Which swapper to run, and from which file.
#[derive(Debug, Clone, Args)]
pub struct SwapperArgs {
    #[arg(long = "swapper", value_enum, default_value_t = SwapperArg::Landmark)]
    pub kind: SwapperArg,
    /// Run this swapper file instead of the manifest's (checked for loading, not for a hash).
    #[arg(long = "swapper-model", value_name = "PATH")]
    pub model: Option<PathBuf>,
}

impl SwapperArgs {
    /// Builds the swapper on `factory`, with the verified model it runs (if any).
    pub fn build(
        &self,
        store: &ModelStore,
        factory: &SessionFactory,
    ) -> Result<(Box<dyn Swapper>, Option<VerifiedModel>)> {
        build_swapper(self.kind.into(), self.model.as_deref(), store, factory)
    }
}

/// Builds the swapper the user chose.
pub fn build_swapper(
    kind: SwapperKind,
    model: Option<&std::path::Path>,
    store: &ModelStore,
    factory: &SessionFactory,
) -> Result<(Box<dyn Swapper>, Option<VerifiedModel>)> {
    Ok(match kind {
        SwapperKind::Landmark => (Box::new(LandmarkSwapper::new()), None),
        SwapperKind::Inswapper => {
            let verified = match model {
                Some(path) => ModelStore::unpinned(path).context("--swapper-model")?,
                // The fp32 file first, as insightface ships it; the fp16 export when only it is there.
                None => store.verify("inswapper_128").or_else(|e| store.verify("inswapper_128_fp16").map_err(|_| e))?,
            };
            (Box::new(InSwapper::build(factory, &verified)?), Some(verified))
        }
    })
}

impl TargetFaces {
    /// Whether faces are picked by likeness to a reference photo.
    pub fn wants_reference(&self) -> bool {
        self.reference.is_some()
    }
}

/// The face selection the flags ask for; a reference photo is analysed here.
pub fn selection_from(faces: &TargetFaces, analyzer: &mut FaceAnalyzer) -> Result<FaceSelection> {
    Ok(match (&faces.face, faces.all_faces, &faces.reference) {
        (Some(n), _, _) => FaceSelection::Index(*n),
        (_, true, _) => FaceSelection::All,
        (_, _, Some(path)) => {
            let reference = load_rgb(path)?;
            let found = analyzer.analyze(&reference, Analysis { landmarks: false, embedding: true })?;
            let best =
                largest_face(&found).with_context(|| format!("no face found in the reference {}", shown(path)))?;
            FaceSelection::MostLike(found[best].embedding.clone().context("reference identity")?)
        }
        _ => FaceSelection::Largest,
    })
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

pub fn run(args: SwapArgs) -> Result<()> {
    for input in [&args.source, &args.target] {
        if same_file(input, &args.output) {
            bail!("output {} is one of the inputs: choose another output path", shown(&args.output));
        }
    }
    if args.output.exists() && !args.overwrite {
        bail!("output {} already exists: pass --overwrite to replace it, or choose another path", shown(&args.output));
    }
    let source_picture = load_rgb(&args.source)?;
    let mut picture = load_rgb(&args.target)?;
    let factory = args.engine.factory()?;
    let store = args.engine.store()?;
    let (mut swapper, _) = args.swapper.build(&store, &factory)?;
    let mut analyzer = args.engine.analyzer(&factory)?;
    let started = Instant::now();

    let mut source_needs = swapper.source_needs();
    source_needs.embedding |= args.faces.reference.is_some();
    let sources = analyzer.analyze(&source_picture, source_needs)?;
    let source = largest_face(&sources).with_context(|| {
        format!("no face found in the source {}: use a photo with a clear, frontal face", shown(&args.source))
    })?;
    swapper.set_source(&source_picture, &sources[source])?;

    let selection = match (&args.faces.face, args.faces.all_faces, &args.faces.reference) {
        (Some(n), _, _) => FaceSelection::Index(*n),
        (_, true, _) => FaceSelection::All,
        (_, _, Some(path)) => {
            let reference = load_rgb(path)?;
            let faces = analyzer.analyze(&reference, Analysis { landmarks: false, embedding: true })?;
            let best =
                largest_face(&faces).with_context(|| format!("no face found in the reference {}", shown(path)))?;
            FaceSelection::MostLike(faces[best].embedding.clone().context("reference identity")?)
        }
        _ => FaceSelection::Largest,
    };
    let mut target_needs = swapper.target_needs();
    target_needs.embedding |= matches!(selection, FaceSelection::MostLike(_));
    let targets = analyzer.analyze(&picture, target_needs)?;
    let chosen = selection.pick(&targets, &format!("the target {}", shown(&args.target)))?;
    for &i in &chosen {
        swapper.swap(&mut picture, &targets[i])?;
    }
    let elapsed = started.elapsed();
    let mode = if args.overwrite { SaveMode::Overwrite } else { SaveMode::RefuseExisting };
    save_rgb(&picture, &args.output, mode)?;
    println!(
        "swapped {} face(s) with the {} swapper in {:.0} ms: {}",
        chosen.len(),
        swapper.name(),
        elapsed.as_secs_f64() * 1000.0,
        shown(&args.output)
    );
    Ok(())
}
