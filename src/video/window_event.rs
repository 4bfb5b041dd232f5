//! What the user can ask of the live window.

/// What the user asked for with the keyboard since the last frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowEvent {
    Quit,
    ToggleSwap,
    /// `M`: the mouth mask on or off.
    ToggleMouthMask,
    Snapshot,
}
