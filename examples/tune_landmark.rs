//! Chooses the landmark swapper's settings: runs each variant of [`LandmarkSettings`] over the
//! tuning faces and prints likeness, expression change and seams as a distribution, so the
//! defaults can be chosen on faces that `scripts/eval_quality.py` does not report.
//!
//! ```sh
//! cargo run --release --example tune_landmark -- \
//!     --source astronaut=.cache/media/astronaut.png --source person-0=out/eval/people/person-0.png \
//!     --target .cache/media/t1.jpg --target .cache/media/astronaut.png \
//!     --variant '' --variant 'shape_weight = 0.5; eye_keep = [1.3, 0.5]'
//! ```
//!
//! A variant is TOML with `;` between settings; the empty one is the defaults. Each source goes
//! on every face of each target but its own person's (a self-swap says nothing).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use faceswap::{
    engine::{Engine, EngineConfig, ProvenanceConfig},
    face::Analysis,
    provenance::ProvenanceMarks,
    quality::compare_pictures,
    swap::{LandmarkSettings, LandmarkSwapper, Swapper},
};

struct Args {
    sources: Vec<(String, PathBuf)>,
    targets: Vec<PathBuf>,
    variants: Vec<String>,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { sources: Vec::new(), targets: Vec::new(), variants: Vec::new() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--source" => {
                let (name, path) = value.split_once('=').context("--source takes NAME=PATH")?;
                args.sources.push((name.to_string(), PathBuf::from(path)));
            }
            "--target" => args.targets.push(PathBuf::from(value)),
            "--variant" => args.variants.push(value),
            other => bail!("unknown argument {other}: use --source NAME=PATH, --target PATH, --variant TOML"),
        }
    }
    if args.sources.is_empty() || args.targets.is_empty() {
        bail!("give at least one --source NAME=PATH and one --target PATH");
    }
    if args.variants.is_empty() {
        args.variants.push(String::new());
    }
    Ok(args)
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The mean of the worst tenth (at least one value): the lowest when `low`, else the highest.
fn worst_tenth(values: &[f32], low: bool) -> f32 {
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| if low { a.total_cmp(b) } else { b.total_cmp(a) });
    let k = (sorted.len() / 10).max(1).min(sorted.len());
    sorted[..k].iter().sum::<f32>() / k.max(1) as f32
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = EngineConfig {
        models_dir: root.join("models"),
        ort_library: Some(root.join(".cache/onnxruntime")),
        provenance: ProvenanceConfig { marks: ProvenanceMarks::NONE, ..Default::default() },
        ..EngineConfig::default()
    };
    let engine = Engine::open(config)?;
    let mut analyzer = engine.analyzer()?;
    let mut sources = Vec::new();
    for (name, path) in &args.sources {
        let picture = engine.load_picture(path)?;
        let source = engine.source_face(&picture, name, None)?;
        eprintln!("source {name}: near half {:.2} times as wide as the far half", source.turn().ratio);
        sources.push((name.clone(), source));
    }
    let mut targets = Vec::new();
    for path in &args.targets {
        let picture = engine.load_picture(path)?;
        let faces = analyzer.analyze(&picture, Analysis::FULL)?;
        targets.push((picture, faces));
    }
    println!("variant\tidentity\tworst tenth\teye change\tworst\tmouth change\tworst\tseam\tlight\tlips\tn");
    for variant in &args.variants {
        let settings: LandmarkSettings =
            toml::from_str(&variant.replace(';', "\n")).with_context(|| format!("variant {variant:?}"))?;
        let mut swapper = LandmarkSwapper::new().with_settings(settings);
        let (mut identity, mut eyes, mut mouths) = (Vec::new(), Vec::new(), Vec::new());
        let (mut seams, mut lights, mut lips) = (Vec::new(), Vec::new(), Vec::new());
        for (_, source) in &sources {
            for (original, faces) in &targets {
                let others: Vec<_> = faces
                    .iter()
                    .filter(|f| f.embedding.as_ref().is_none_or(|e| cosine(&e.normed(), source.identity()) <= 0.5))
                    .collect();
                if others.is_empty() {
                    continue;
                }
                let mut result = original.clone();
                for face in &others {
                    swapper.swap(&mut result, face, source)?;
                }
                let comparison = compare_pictures(&mut analyzer, source.identity(), original, &result)?;
                for figures in &comparison.faces {
                    if !others.iter().any(|f| f.bbox == figures.bbox) {
                        continue;
                    }
                    identity.push(figures.identity_after);
                    eyes.push((figures.eyes_after - figures.eyes_before).abs());
                    mouths.push((figures.mouth_after - figures.mouth_before).abs());
                    seams.extend(figures.seam);
                    lights.extend(figures.light_change);
                    lips.extend(figures.lip_colour_change);
                }
            }
        }
        let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len().max(1) as f32;
        println!(
            "{}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.3}\t{:.2}\t{:.1}\t{:.1}\t{}",
            if variant.is_empty() { "defaults" } else { variant },
            mean(&identity),
            worst_tenth(&identity, true),
            mean(&eyes),
            worst_tenth(&eyes, false),
            mean(&mouths),
            worst_tenth(&mouths, false),
            mean(&seams),
            mean(&lights),
            mean(&lips),
            identity.len()
        );
    }
    Ok(())
}
