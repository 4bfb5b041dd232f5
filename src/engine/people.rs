//! The people in a picture or a video, grouped by identity, for mapping a source to each.

use std::path::Path;

use super::Engine;
use crate::{
    face::{Analysis, Identities, Person},
    imaging::is_picture_path,
    swap::SAME_PERSON,
    video::{FrameSource, VideoFileSource},
    Result,
};

impl Engine {
    /// The people in `path` (a picture, or a video read every `every` frames), most seen first.
    ///
    /// # Errors
    /// An unreadable picture or video, or a model failure.
    pub fn people_in(&self, path: &Path, every: u64) -> Result<(Vec<Person>, u64)> {
        let mut analyzer = self.analyzer()?;
        let mut identities = Identities::new(SAME_PERSON);
        let full = Analysis { landmarks: false, embedding: true };
        if is_picture_path(path) {
            let picture = self.load_picture(path)?;
            identities.add(&picture, 0, &analyzer.analyze(&picture, full)?);
            return Ok((identities.into_people(), 1));
        }
        let mut video = VideoFileSource::open(path, None, false, self.limits())?;
        let (mut index, mut looked_at) = (0u64, 0u64);
        let mut spare = None;
        while let Some(frame) = video.next_frame(spare.take())? {
            if index.is_multiple_of(every.max(1)) {
                identities.add(&frame.image, index, &analyzer.analyze(&frame.image, full)?);
                looked_at += 1;
            }
            index += 1;
            spare = Some(frame.image);
        }
        Ok((identities.into_people(), looked_at))
    }
}
