//! The options every command that runs models shares, turned into the library's
//! [`EngineConfig`]: clap only fills the config.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::shown;
use faceswap::{
    engine::{Engine, EngineConfig, ProviderName},
    enhance::{EnhanceSettings, EnhancerKind},
    face::FaceSelection,
    imaging::{PictureLimits, DEFAULT_MAX_PIXELS},
    mask::MaskSettings,
    models::ModelRole,
    swap::{FaceMap, MouthMask, Sources, SwapSettings, SwapperKind, PIXEL_BOOST_SIDES},
};

/// The `--ep` items of a `--ep-config` file.
fn read_ep_config(path: &Path) -> anyhow::Result<Vec<Ep>> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct EpConfig {
        ep: String,
    }
    let size = std::fs::metadata(path).with_context(|| format!("--ep-config {}", shown(path)))?.len();
    if size > 64 << 10 {
        anyhow::bail!("--ep-config {} has {size} bytes: it is not a file bench --write-config wrote", shown(path));
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("--ep-config {}", shown(path)))?;
    let config: EpConfig = toml::from_str(&text)
        .with_context(|| format!("--ep-config {}: not `ep = \"ROLE=PROVIDER,…\"`", shown(path)))?;
    config
        .ep
        .split(',')
        .map(|item| item.parse::<Ep>().map_err(|e| anyhow::anyhow!("--ep-config {}: {e}", shown(path))))
        .collect()
}

/// One `--ep` item: a provider, or `ROLE=PROVIDER` for the models of one role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ep {
    pub role: Option<ModelRole>,
    pub provider: ProviderName,
}

impl Ep {
    pub const CPU: Self = Self { role: None, provider: ProviderName::Cpu };
}

impl std::str::FromStr for Ep {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.split_once('=') {
            None => Ok(Self { role: None, provider: text.trim().parse()? }),
            Some((role, provider)) => {
                let role: ModelRole = role.trim().parse()?;
                Ok(Self { role: Some(role), provider: provider.trim().parse()? })
            }
        }
    }
}

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Engine")]
pub struct EngineArgs {
    /// Folder holding the model files (default: ./models, else models/ beside the program,
    /// else ~/.local/share/faceswap/models).
    #[arg(long, global = true, env = "FACESWAP_MODELS_DIR", value_name = "DIR")]
    pub models_dir: Option<PathBuf>,
    /// Execution provider: cpu, cuda, tensorrt or openvino; or one per model role
    /// (detector=cpu,landmarks=openvino,embedder=openvino,swapper=cpu: roles not named take a
    /// plain provider given with them, else cpu). bench takes a list (cpu,openvino). Asking for
    /// one that is not available is an error (see --ep-fallback).
    #[arg(long, alias = "eps", global = true, value_delimiter = ',', default_value = "cpu")]
    pub ep: Vec<Ep>,
    /// OpenVINO's device for --ep openvino: CPU, GPU, GPU.1, NPU, … (OpenVINO's own names).
    #[arg(long, global = true, value_name = "DEVICE", default_value = "CPU")]
    pub ov_device: String,
    /// Providers per role from a file `faceswap bench --choose --write-config` saved
    /// (`ep = "detector=cpu,landmarks=openvino,…"`); roles named with --ep win.
    #[arg(long, global = true, value_name = "FILE")]
    pub ep_config: Option<PathBuf>,
    /// GPU index for --ep cuda or tensorrt.
    #[arg(long, global = true, default_value_t = 0, value_parser = clap::value_parser!(i32).range(0..))]
    pub device: i32,
    /// When the chosen provider fails, warn and run on CPU instead of stopping.
    #[arg(long, global = true)]
    pub ep_fallback: bool,
    /// The ONNX Runtime library (file or folder); else ORT_DYLIB_PATH, else .cache/onnxruntime.
    #[arg(long, global = true, value_name = "PATH")]
    pub ort_lib: Option<PathBuf>,
    /// Run this detector file instead of the manifest's (checked for loading, not for a hash).
    #[arg(long, global = true, value_name = "PATH")]
    pub detector_model: Option<PathBuf>,
    /// Fetch models from BASE_URL/FILE_NAME before the manifest's URLs (repairs and `models fetch`).
    #[arg(long, global = true, value_name = "BASE_URL", env = "FACESWAP_MODEL_MIRROR")]
    pub mirror: Option<String>,
    /// Threads per model, 1 to 64 (default: one per core).
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=faceswap::runtime::MAX_THREADS as i64))]
    pub threads: Option<u16>,
    /// Refuse pictures with more pixels than this (checked before decoding).
    #[arg(long, global = true, value_name = "N", default_value_t = DEFAULT_MAX_PIXELS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_pixels: u64,
}

impl EngineArgs {
    /// The one provider asked for.
    ///
    /// # Errors
    /// When several were named: only `bench` compares providers.
    pub fn provider(&self) -> anyhow::Result<ProviderName> {
        let plain: Vec<ProviderName> = self.ep.iter().filter(|e| e.role.is_none()).map(|e| e.provider).collect();
        match plain.as_slice() {
            [] => Ok(ProviderName::Cpu),
            [one] => Ok(*one),
            _ => anyhow::bail!("--ep takes one provider here, or one per role (bench compares several)"),
        }
    }

    /// The providers given per role (`--ep ROLE=PROVIDER`), each role once.
    ///
    /// # Errors
    /// A role named twice.
    pub fn role_providers(&self) -> anyhow::Result<Vec<(ModelRole, ProviderName)>> {
        let mut roles: Vec<(ModelRole, ProviderName)> = Vec::new();
        for ep in &self.ep {
            if let Some(role) = ep.role {
                if roles.iter().any(|(r, _)| *r == role) {
                    anyhow::bail!("--ep names {role} twice");
                }
                roles.push((role, ep.provider));
            }
        }
        if let Some(path) = &self.ep_config {
            for ep in read_ep_config(path)? {
                if let Some(role) = ep.role.filter(|role| !roles.iter().any(|(r, _)| r == role)) {
                    roles.push((role, ep.provider));
                }
            }
        }
        Ok(roles)
    }

    /// The engine configuration these flags describe, with the swapper chosen.
    ///
    /// # Errors
    /// When more than one provider was named.
    pub fn config(&self, swapper: &SwapperArgs) -> anyhow::Result<EngineConfig> {
        if swapper.model.is_some() && swapper.kind == SwapperArg::Landmark {
            anyhow::bail!(
                "--swapper-model names an inswapper file, and this run uses the landmark swapper: add --swapper inswapper, or leave --swapper-model out"
            );
        }
        if swapper.pixel_boost.is_some() && swapper.kind == SwapperArg::Landmark {
            anyhow::bail!(
                "--pixel-boost is for inswapper, and this run uses the landmark swapper (which works at the face's own size): add --swapper inswapper, or leave --pixel-boost out"
            );
        }
        self.service_config(swapper)
    }

    /// The engine configuration of a service, where `--swapper-model` is the file for every
    /// request that asks for inswapper, whichever swapper is the default.
    ///
    /// # Errors
    /// When more than one provider was named.
    pub fn service_config(&self, swapper: &SwapperArgs) -> anyhow::Result<EngineConfig> {
        Ok(EngineConfig {
            models_dir: self.models_dir.clone().unwrap_or_else(faceswap::paths::default_models_dir),
            provider: self.provider()?,
            device: self.device,
            openvino_device: self.ov_device.clone(),
            role_providers: self.role_providers()?,
            provider_fallback: self.ep_fallback,
            ort_library: self.ort_lib.clone(),
            detector_model: self.detector_model.clone(),
            swapper: swapper.kind.into(),
            swapper_model: swapper.model.clone(),
            enhancer_model: swapper.enhancer.zip(swapper.enhancer_model.clone()),
            occluder_model: swapper.occluder_model.clone(),
            parser_model: swapper.parser_model.clone(),
            mirrors: self.mirror.iter().cloned().collect(),
            threads: self.threads.map(usize::from),
            limits: PictureLimits { max_pixels: self.max_pixels },
            // Commands that write swapped media set theirs from --provenance.
            provenance: faceswap::engine::ProvenanceConfig {
                marks: faceswap::provenance::ProvenanceMarks::NONE,
                ..Default::default()
            },
        })
    }

    /// The configuration for commands that swap nothing.
    ///
    /// # Errors
    /// When more than one provider was named.
    pub fn analysis_config(&self) -> anyhow::Result<EngineConfig> {
        self.config(&SwapperArgs {
            kind: SwapperArg::Landmark,
            model: None,
            pixel_boost: None,
            enhancer: None,
            enhancer_blend: 80,
            enhancer_weight: None,
            enhancer_model: None,
            mask: "box".to_string(),
            mask_regions: None,
            occluder_model: None,
            parser_model: None,
        })
    }
}

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
            SwapperArg::Landmark => Self::Landmark,
            SwapperArg::Inswapper => Self::Inswapper,
        }
    }
}

/// Which swapper to run and from which file, and what runs with it (pixel boost, enhancer).
#[derive(Debug, Clone, Args)]
pub struct SwapperArgs {
    #[arg(long = "swapper", value_enum, default_value_t = SwapperArg::Landmark)]
    pub kind: SwapperArg,
    /// Run this swapper file instead of the manifest's (checked for loading, not for a hash).
    #[arg(long = "swapper-model", value_name = "PATH")]
    pub model: Option<PathBuf>,
    /// Inswapper at a larger aligned crop, swapped in 128-pixel tiles (FaceFusion's pixel
    /// boost): 256, 384, 512, 768 or 1024 (128: none). Slower by the square of side/128.
    #[arg(long, value_name = "SIDE", value_parser = parse_pixel_boost)]
    pub pixel_boost: Option<u32>,
    /// A face enhancer after the swap: gfpgan_1.4, gpen_bfr_256, gpen_bfr_512 or codeformer
    /// (`faceswap models fetch NAME` first, or --enhancer-model).
    #[arg(long, value_name = "NAME")]
    pub enhancer: Option<EnhancerKind>,
    /// How much of the enhanced face is laid over the swapped one, 0–100.
    #[arg(long, value_name = "PERCENT", default_value_t = 80, requires = "enhancer",
          value_parser = clap::value_parser!(u8).range(0..=100))]
    pub enhancer_blend: u8,
    /// CodeFormer's fidelity, 0 (restore more) to 1 (keep more of the face).
    #[arg(long, value_name = "X", requires = "enhancer")]
    pub enhancer_weight: Option<f64>,
    /// Run this enhancer file (the interface of --enhancer's) instead of the manifest's.
    #[arg(long, value_name = "PATH", requires = "enhancer")]
    pub enhancer_model: Option<PathBuf>,
    /// Masks around the swap, FaceFusion's: box (the swapper's own edge, always), occlusion
    /// (keep hands, hair, glasses, microphones in front of the face: an XSeg model), region
    /// (swap only the --mask-regions: a face parser). Comma-separated.
    #[arg(long, value_name = "KINDS", default_value = "box")]
    pub mask: String,
    /// The regions the region mask swaps: skin, left-eyebrow, right-eyebrow, left-eye,
    /// right-eye, glasses, nose, mouth, upper-lip, lower-lip (default all). Comma-separated.
    #[arg(long, value_name = "REGIONS")]
    pub mask_regions: Option<String>,
    /// Run this occluder file (XSeg's interface) instead of the manifest's xseg_1.
    #[arg(long, value_name = "PATH")]
    pub occluder_model: Option<PathBuf>,
    /// Run this face parser file (BiSeNet's interface) instead of the manifest's bisenet_resnet_34.
    #[arg(long, value_name = "PATH")]
    pub parser_model: Option<PathBuf>,
}

fn parse_pixel_boost(text: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(side) if PIXEL_BOOST_SIDES.contains(&side) => Ok(side),
        _ => Err(format!("{text:?} is not a pixel boost: use 128 (none), 256, 384, 512, 768 or 1024")),
    }
}

impl SwapperArgs {
    /// The enhancer and how much of it, as the flags say.
    ///
    /// # Errors
    /// A weight for an enhancer without one, or outside 0–1.
    pub fn enhancer(&self) -> anyhow::Result<Option<EnhanceSettings>> {
        let Some(kind) = self.enhancer else { return Ok(None) };
        let mut settings = EnhanceSettings { blend: self.enhancer_blend, ..EnhanceSettings::new(kind) };
        if let Some(weight) = self.enhancer_weight {
            if kind != EnhancerKind::Codeformer {
                anyhow::bail!("--enhancer-weight is CodeFormer's fidelity, and {kind} has none: leave it out, or use --enhancer codeformer");
            }
            if !(0.0..=1.0).contains(&weight) {
                anyhow::bail!("--enhancer-weight {weight} is outside 0–1");
            }
            settings.weight = weight;
        }
        Ok(Some(settings))
    }

    /// The swap settings for pictures: swapper, mouth mask, pixel boost, enhancer.
    ///
    /// # Errors
    /// See [`SwapperArgs::enhancer`].
    pub fn settings(&self, mouth_mask: Option<MouthMask>) -> anyhow::Result<SwapSettings> {
        Ok(SwapSettings {
            swapper: self.kind.into(),
            mouth_mask,
            pixel_boost: self.pixel_boost,
            enhancer: self.enhancer()?,
            masks: self.masks()?,
        })
    }

    /// The masks the flags ask for.
    ///
    /// # Errors
    /// An unknown mask or region, regions without the region mask, or a mask model given for a
    /// mask that is not asked for.
    pub fn masks(&self) -> anyhow::Result<MaskSettings> {
        let settings = self.default_masks()?;
        if self.occluder_model.is_some() && !settings.occlusion {
            anyhow::bail!("--occluder-model is for the occlusion mask: add --mask occlusion, or leave it out");
        }
        if self.parser_model.is_some() && settings.regions.is_none() {
            anyhow::bail!("--parser-model is for the region mask: add --mask region, or leave it out");
        }
        Ok(settings)
    }

    /// The masks the flags ask for, as a service's default for requests (whose own `mask` may
    /// ask for the models given without a default mask).
    ///
    /// # Errors
    /// An unknown mask or region, or regions without the region mask.
    pub fn default_masks(&self) -> anyhow::Result<MaskSettings> {
        MaskSettings::parse(Some(&self.mask), self.mask_regions.as_deref()).map_err(|e| anyhow::anyhow!("--mask: {e}"))
    }
}

/// The source picture and which of its faces to put on.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// The picture whose face is put on (not with --map, which names a source per person).
    #[arg(long, value_name = "IMG")]
    pub source: Option<PathBuf>,
    /// Which face of the source picture to use, numbered as `faceswap detect` lists them
    /// (default: the largest).
    #[arg(long, value_name = "N")]
    pub source_face: Option<usize>,
}

impl SourceArgs {
    /// The source picture.
    ///
    /// # Errors
    /// When none was given.
    /// The SHA-256 of the one source picture, for the output's manifest (none with `--map`:
    /// several sources, each its own).
    ///
    /// # Errors
    /// When the picture cannot be read.
    pub fn sha256(&self, faces: &TargetFaces) -> anyhow::Result<Option<String>> {
        match &self.source {
            Some(path) if faces.map.is_empty() => Ok(Some(faceswap::models::sha256_file(path)?)),
            _ => Ok(None),
        }
    }

    pub fn path(&self) -> anyhow::Result<&Path> {
        self.source.as_deref().ok_or_else(|| {
            anyhow::anyhow!(
                "give --source IMG, the face to put on (or --map SOURCE=REFERENCE, a source for each person)"
            )
        })
    }

    /// What the source picture is called in messages.
    pub fn what(&self) -> String {
        self.source.as_deref().map_or_else(|| "the source".to_string(), |s| format!("the source {}", shown(s)))
    }

    /// Says which face was taken when the picture has several and none was named.
    pub fn note(&self, face: &faceswap::swap::SourceFace) {
        if self.source_face.is_none() && face.faces_in_picture() > 1 {
            eprintln!(
                "note: {} has {} faces; using face {}, the largest (--source-face N picks another)",
                self.what(),
                face.faces_in_picture(),
                face.index()
            );
        }
    }

    /// The source face, analysed by `engine`.
    pub fn face(&self, engine: &Engine) -> anyhow::Result<faceswap::swap::SourceFace> {
        let picture = engine.load_picture(self.path()?)?;
        let face = engine.source_face(&picture, &self.what(), self.source_face)?;
        self.note(&face);
        turned_away_note(engine, &self.what(), &face);
        Ok(face)
    }
}

/// Says when the landmark swapper is given a source turned well away from the camera: it cannot
/// show the far half as it is (inswapper takes only the identity, so it is not told).
pub fn turned_away_note(engine: &Engine, what: &str, face: &faceswap::swap::SourceFace) {
    if engine.config().swapper == SwapperKind::Landmark && face.turn().is_turned_away() {
        eprintln!(
            "note: the face in {what} is turned well away from the camera (its near half {:.1} times as wide \
             as the far half): the landmark swapper cannot show the far half as it is, so a frontal picture \
             gives a closer likeness",
            face.turn().ratio
        );
    }
}

/// The mouth mask: the target's own inner mouth laid back over the swapped face.
#[derive(Debug, Clone, Args)]
pub struct MouthMaskArgs {
    /// Keep the target's own inner mouth (teeth, tongue, the lips' inside), feathered, so speech
    /// looks like the speaker's. Works with both swappers.
    #[arg(long)]
    pub mouth_mask: bool,
    /// How far the mask reaches from the lips' inner edge to their outer edge (0–1.5; 0: the
    /// opening only, 1: the whole lips).
    #[arg(long, value_name = "X", default_value_t = MouthMask::default().size, requires = "mouth_mask")]
    pub mouth_mask_size: f32,
    /// The mask's soft edge, as a share of the mouth's width (0–0.5).
    #[arg(long, value_name = "X", default_value_t = MouthMask::default().feather, requires = "mouth_mask")]
    pub mouth_mask_feather: f32,
}

impl MouthMaskArgs {
    /// The mask asked for, checked.
    ///
    /// # Errors
    /// A size or feather out of range.
    pub fn mask(&self) -> anyhow::Result<Option<MouthMask>> {
        if !self.mouth_mask {
            return Ok(None);
        }
        let shape = MouthMask { size: self.mouth_mask_size, feather: self.mouth_mask_feather };
        shape.checked().map(Some).map_err(anyhow::Error::msg)
    }
}

/// Which target faces to replace; the default is the largest.
#[derive(Debug, Clone, Args)]
#[group(multiple = false)]
pub struct TargetFaces {
    /// Replace face N (numbered as `faceswap detect` lists them, from 0).
    #[arg(long, value_name = "N")]
    pub face: Option<usize>,
    /// Replace every face.
    #[arg(long)]
    pub all_faces: bool,
    /// Replace the face most like the one in this picture.
    #[arg(long, value_name = "IMG")]
    pub reference: Option<PathBuf>,
    /// One source per person: put SOURCE's face on every face like REFERENCE's (a picture of
    /// that person, such as a crop `faceswap map-faces` wrote). Repeat for each person; faces
    /// of nobody mapped are left as they are. Replaces --source.
    #[arg(long = "map", value_name = "SOURCE=REFERENCE")]
    pub map: Vec<String>,
}

impl TargetFaces {
    /// The pictures `--map` names, as (source, reference) pairs.
    ///
    /// # Errors
    /// A `--map` without `=`, or with an empty side.
    pub fn map_pairs(&self) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
        self.map
            .iter()
            .map(|pair| match pair.split_once('=') {
                Some((source, reference)) if !source.is_empty() && !reference.is_empty() => {
                    Ok((PathBuf::from(source), PathBuf::from(reference)))
                }
                _ => Err(anyhow::anyhow!("--map {pair:?} is not SOURCE=REFERENCE (two picture paths joined by =)")),
            })
            .collect()
    }

    /// The sources these flags and `source` say: a map by identity when `--map` is given (and
    /// then no --source), else the one source face.
    ///
    /// # Errors
    /// A missing or doubled source, a picture without a face, a model failure.
    pub fn sources(&self, source: &SourceArgs, engine: &Engine) -> anyhow::Result<Sources> {
        let pairs = self.map_pairs()?;
        if pairs.is_empty() {
            return Ok(Sources::One(std::sync::Arc::new(source.face(engine)?)));
        }
        if source.source.is_some() || source.source_face.is_some() {
            anyhow::bail!("--map names a source for each person: leave --source and --source-face out");
        }
        let mut entries = Vec::new();
        for (source_path, reference_path) in pairs {
            let what = format!("the source {}", shown(&source_path));
            let face = engine.source_face(&engine.load_picture(&source_path)?, &what, None)?;
            turned_away_note(engine, &what, &face);
            let reference_what = format!("the reference {}", shown(&reference_path));
            let identity = match engine.most_like(&engine.load_picture(&reference_path)?, &reference_what)? {
                FaceSelection::MostLike(identity) => identity,
                _ => anyhow::bail!("{reference_what} gave no identity"),
            };
            entries.push((std::sync::Arc::new(face), identity));
        }
        Ok(Sources::Mapped(std::sync::Arc::new(FaceMap::new(entries))))
    }

    /// Every picture these flags read, for the output check.
    pub fn inputs(&self) -> Vec<PathBuf> {
        let mut inputs: Vec<PathBuf> = self.reference.iter().cloned().collect();
        for pair in &self.map {
            if let Some((s, r)) = pair.split_once('=') {
                inputs.extend([PathBuf::from(s), PathBuf::from(r)]);
            }
        }
        inputs
    }

    /// The selection these flags make when no reference picture is given.
    pub fn without_reference(&self) -> FaceSelection {
        match (self.face, self.all_faces) {
            (Some(n), _) => FaceSelection::Index(n),
            (_, true) => FaceSelection::All,
            _ => FaceSelection::Largest,
        }
    }

    /// The selection, a reference picture analysed by `engine`.
    pub fn selection(&self, engine: &Engine) -> faceswap::Result<FaceSelection> {
        match &self.reference {
            Some(path) => engine.most_like(&engine.load_picture(path)?, &format!("the reference {}", shown(path))),
            None => Ok(self.without_reference()),
        }
    }
}

/// How a video run is supervised.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Supervision")]
pub struct SupervisionArgs {
    /// Recheck the model files every SECS seconds, repairing and reloading them (0: never).
    #[arg(long, value_name = "SECS", default_value_t = 5.0, value_parser = parse_seconds)]
    pub watch_interval: f64,
    /// Serve GET /health, /health/live, /health/ready (JSON) on this address, e.g. 127.0.0.1:8787.
    #[arg(long, value_name = "ADDR")]
    pub health_addr: Option<std::net::SocketAddr>,
}

impl SupervisionArgs {
    /// The watchdog's interval, none when turned off.
    pub fn interval(&self) -> Option<Duration> {
        (self.watch_interval > 0.0).then(|| Duration::from_secs_f64(self.watch_interval))
    }
}

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.0..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a number of seconds from 0 to 86400")),
    }
}

/// Parses `WxH`.
pub fn parse_resolution(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text.split_once(['x', 'X']).ok_or_else(|| format!("{text:?} is not WxH, e.g. 640x480"))?;
    let parse = |v: &str| v.trim().parse::<u32>().ok().filter(|&n| (16..=8192).contains(&n));
    match (parse(w), parse(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{text:?} is not WxH with sides from 16 to 8192, e.g. 640x480")),
    }
}
