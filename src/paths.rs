//! Where faceswap looks for what the user did not name: the models folder, the ONNX Runtime
//! library, the sample pictures. The same places in the same order for each, so an installed
//! binary works from any folder: the working directory, then the folders above the executable
//! (a build in `target/release/` finds its repository), then the user's data folder
//! (`$XDG_DATA_HOME/faceswap`, else `~/.local/share/faceswap`), laid out as a repository is
//! (`scripts/assets.py --root ~/.local/share/faceswap` fills it).

use std::path::{Path, PathBuf};

/// The user's faceswap data folder, when the environment names a home.
pub fn data_home() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(|| {
        std::env::var_os("HOME").filter(|v| !v.is_empty()).map(|h| PathBuf::from(h).join(".local/share"))
    })?;
    Some(base.join("faceswap"))
}

/// The folders searched, in order.
pub fn roots() -> Vec<PathBuf> {
    let mut roots = vec![PathBuf::from(".")];
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().skip(1).take(4).map(Path::to_path_buf));
    }
    roots.extend(data_home());
    roots
}

/// The first `relative` that exists under the roots.
pub fn find(relative: &str) -> Option<PathBuf> {
    roots().into_iter().map(|root| root.join(relative)).find(|p| p.exists()).map(|p| absolute(&p))
}

/// Every place `relative` is looked for, for messages.
pub fn searched(relative: &str) -> Vec<PathBuf> {
    roots().into_iter().map(|root| absolute(&root.join(relative))).collect()
}

/// The models folder when none is named: the first `models/` found, else the one in the data
/// folder (where a fetch would put the models), else `./models`.
pub fn default_models_dir() -> PathBuf {
    find("models").or_else(|| data_home().map(|d| d.join("models"))).unwrap_or_else(|| absolute(Path::new("models")))
}

/// `path` made absolute (for messages that must make sense from any folder).
pub fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).map(|p| normalise(&p)).unwrap_or_else(|_| path.to_path_buf())
}

/// Drops `.` components (`/a/./b` → `/a/b`), leaving `..` alone (symlinks make it unsafe).
fn normalise(path: &Path) -> PathBuf {
    path.components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_repository_models_folder_is_found_and_absolute() {
        let models = default_models_dir();
        assert!(models.is_absolute(), "{}", models.display());
        assert!(models.join("manifest.toml").is_file(), "{}", models.display());
        assert!(!models.display().to_string().contains("/./"));
    }
}
