//! The `faceswap` command: parse the arguments, run, turn the outcome into an exit code.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    cli::run(cli::Cli::parse())
}
