//! The routes: handlers read the request and translate the library's answer.

pub mod jobs;
pub mod live;
pub mod ops;
pub mod pictures;
mod processors;
pub mod verify;
