//! The form fields for what runs with the swapper: `pixel_boost` (inswapper) and the face
//! enhancer (`enhancer`, `enhancer_blend`, `enhancer_weight`), shared by pictures and jobs.

use super::super::{problem::Problem, upload::Form};
use crate::{
    enhance::{EnhanceSettings, EnhancerKind},
    mask::MaskSettings,
    swap::{SwapperKind, PIXEL_BOOST_SIDES},
};

/// The fields, for a route's list of the fields it takes.
pub const FIELDS: [&str; 6] = ["pixel_boost", "enhancer", "enhancer_blend", "enhancer_weight", "mask", "mask_regions"];

/// Reads `pixel_boost` (for inswapper: 128, 256, 384, 512, 768 or 1024); the server's default
/// for an inswapper request that names none.
pub fn pixel_boost(form: &Form, swapper: SwapperKind, default: Option<u32>) -> Result<Option<u32>, Problem> {
    let side = form.parsed::<u32>("pixel_boost", "128, 256, 384, 512, 768 or 1024")?;
    checked_pixel_boost(side, swapper, default)
}

/// The pixel boost a request asked for (`side`), checked for its swapper; the server's default
/// for an inswapper request that names none.
///
/// # Errors
/// 400 for a boost with a swapper other than inswapper, or a side not offered.
pub fn checked_pixel_boost(
    side: Option<u32>,
    swapper: SwapperKind,
    default: Option<u32>,
) -> Result<Option<u32>, Problem> {
    match side {
        None => Ok(default.filter(|_| swapper == SwapperKind::Inswapper)),
        Some(_) if swapper != SwapperKind::Inswapper => Err(Problem::bad_request(format!(
            "pixel_boost is for inswapper, and this request uses the {swapper} swapper: add swapper=inswapper, or leave pixel_boost out"
        ))),
        Some(side) if PIXEL_BOOST_SIDES.contains(&side) => Ok(Some(side)),
        Some(side) => Err(Problem::bad_request(format!(
            "pixel_boost {side} is not one of 128, 256, 384, 512, 768 and 1024"
        ))),
    }
}

/// Reads `enhancer` (or `none`) with its optional `enhancer_blend` (0–100) and
/// `enhancer_weight` (CodeFormer's, 0–1); the server's default when it names none.
pub fn enhancer(form: &Form, default: Option<EnhanceSettings>) -> Result<Option<EnhanceSettings>, Problem> {
    let names = EnhancerKind::ALL.map(EnhancerKind::name).join(", ");
    let chosen = form.parsed::<EnhancerChoice>("enhancer", &format!("none or one of {names}"))?;
    let blend = form.parsed::<u8>("enhancer_blend", "a whole number from 0 to 100")?;
    let weight = form.parsed::<f64>("enhancer_weight", "a number from 0 to 1")?;
    let base = match chosen {
        Some(EnhancerChoice::Off) => None,
        Some(EnhancerChoice::Kind(kind)) => Some(EnhanceSettings::new(kind)),
        None => default,
    };
    let Some(mut settings) = base else {
        if blend.is_some() || weight.is_some() {
            return Err(Problem::bad_request("enhancer_blend and enhancer_weight need an enhancer"));
        }
        return Ok(None);
    };
    let kind = settings.kind;
    if let Some(blend) = blend {
        if blend > 100 {
            return Err(Problem::bad_request(format!("enhancer_blend {blend} is over 100")));
        }
        settings.blend = blend;
    }
    if let Some(weight) = weight {
        if kind != EnhancerKind::Codeformer {
            return Err(Problem::bad_request(format!("enhancer_weight is CodeFormer's fidelity, and {kind} has none")));
        }
        if !(0.0..=1.0).contains(&weight) {
            return Err(Problem::bad_request(format!("enhancer_weight {weight} is outside 0–1")));
        }
        settings.weight = weight;
    }
    Ok(Some(settings))
}

/// Reads `mask` (`box`, `occlusion`, `region`, comma-separated; `box` is the swapper's own
/// edge and always on) and `mask_regions` (FaceFusion's region names; default all, with
/// `region`); the server's default when neither is given.
pub fn masks(form: &Form, default: MaskSettings) -> Result<MaskSettings, Problem> {
    let kinds = form.parsed::<String>("mask", "box, occlusion or region, separated by commas")?;
    let regions = form.parsed::<String>("mask_regions", "face region names separated by commas")?;
    if kinds.is_none() && regions.is_none() {
        return Ok(default);
    }
    MaskSettings::parse(kinds.as_deref(), regions.as_deref()).map_err(Problem::bad_request)
}

/// `none`, or an enhancer's name.
pub enum EnhancerChoice {
    Off,
    Kind(EnhancerKind),
}

impl std::str::FromStr for EnhancerChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "none" {
            return Ok(Self::Off);
        }
        s.parse().map(Self::Kind)
    }
}
