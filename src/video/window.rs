//! The live window (minifb): the swapped video, scaled up when small, with an overlay, and the
//! keys H (overlay), Space (swap on/off), S (snapshot), Q/Esc (quit).

use image::RgbImage;
use minifb::{Key, KeyRepeat, ScaleMode, Window, WindowOptions};

use super::{draw_text, MediaCause, VideoError, WindowEvent};

/// An open window showing frames.
pub struct WindowSink {
    window: Window,
    buffer: Vec<u32>,
    /// Integer upscaling of the frame, so that a small video is not a postage stamp.
    zoom: usize,
    size: (usize, usize),
    overlay: bool,
}

/// The smallest zoom that makes `width` at least 640 pixels wide (at most 4).
fn zoom_for(width: u32) -> usize {
    (1..=4).find(|z| width as usize * z >= 640).unwrap_or(4)
}

impl WindowSink {
    /// Opens a resizable window for `width`×`height` frames.
    ///
    /// # Errors
    /// [`VideoError::Window`] when there is no display.
    pub fn open(title: &str, width: u32, height: u32) -> Result<Self, VideoError> {
        let zoom = zoom_for(width);
        let size = (width as usize * zoom, height as usize * zoom);
        let options =
            WindowOptions { resize: true, scale_mode: ScaleMode::AspectRatioStretch, ..WindowOptions::default() };
        let mut window = Window::new(title, size.0, size.1, options)
            .map_err(|e| VideoError::Window { source: MediaCause::other(e) })?;
        // The pipeline paces frames; minifb must not add its own sleep.
        window.set_target_fps(0);
        Ok(Self { window, buffer: vec![0; size.0 * size.1], zoom, size, overlay: true })
    }

    /// Whether the window is still open.
    pub fn is_open(&self) -> bool {
        self.window.is_open()
    }

    /// Shows `frame` with `overlay` lines (when the overlay is on) and returns the keys pressed.
    ///
    /// # Errors
    /// [`VideoError::Window`] when the window cannot be updated.
    pub fn show(&mut self, frame: &RgbImage, overlay: &[String]) -> Result<Vec<WindowEvent>, VideoError> {
        let (fw, fh) = frame.dimensions();
        let zoom = zoom_for(fw);
        let size = (fw as usize * zoom, fh as usize * zoom);
        if (zoom, size) != (self.zoom, self.size) {
            self.zoom = zoom;
            self.size = size;
            self.buffer.resize(size.0 * size.1, 0);
        }
        let raw = frame.as_raw();
        for y in 0..size.1 {
            let source_row = &raw[(y / zoom) * fw as usize * 3..][..fw as usize * 3];
            let out = &mut self.buffer[y * size.0..(y + 1) * size.0];
            for (x, px) in out.iter_mut().enumerate() {
                let s = &source_row[(x / zoom) * 3..(x / zoom) * 3 + 3];
                *px = u32::from(s[0]) << 16 | u32::from(s[1]) << 8 | u32::from(s[2]);
            }
        }
        if self.overlay {
            draw_text(&mut self.buffer, size.0, size.1, overlay, if size.0 >= 1200 { 2 } else { 1 });
        }
        self.window
            .update_with_buffer(&self.buffer, size.0, size.1)
            .map_err(|e| VideoError::Window { source: MediaCause::other(e) })?;
        let mut events = Vec::new();
        if !self.window.is_open()
            || self.window.is_key_down(Key::Escape)
            || self.window.is_key_pressed(Key::Q, KeyRepeat::No)
        {
            events.push(WindowEvent::Quit);
        }
        if self.window.is_key_pressed(Key::H, KeyRepeat::No) {
            self.overlay = !self.overlay;
        }
        if self.window.is_key_pressed(Key::Space, KeyRepeat::No) {
            events.push(WindowEvent::ToggleSwap);
        }
        if self.window.is_key_pressed(Key::M, KeyRepeat::No) {
            events.push(WindowEvent::ToggleMouthMask);
        }
        if self.window.is_key_pressed(Key::S, KeyRepeat::No) {
            events.push(WindowEvent::Snapshot);
        }
        Ok(events)
    }
}
