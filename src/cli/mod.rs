//! The command-line layer: clap structures, logging, terminal output, and one-line errors with
//! hints that name flags. Everything else is a call into the `faceswap` library.

/// `println!` that returns the write's error instead of panicking (a closed pipe is an
/// ordinary end: `faceswap detect x | head -1`).
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod bench;
mod compare;
mod detect;
mod engine;
mod health;
mod hints;
mod live;
mod map_faces;
mod models;
mod provenance;
#[cfg(feature = "server")]
mod serve;
mod swap;
mod transcode;
mod verify;

use std::{path::Path, process::ExitCode};

use clap::{Parser, Subcommand};

/// Swap faces in photos and video, on ONNX Runtime.
#[derive(Debug, Parser)]
#[command(name = "faceswap", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v: info, -vv: debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Find the faces in a picture: boxes, scores, keypoints (and identity vectors, landmarks).
    Detect(detect::DetectArgs),
    /// Put the face from one picture onto the faces of another.
    Swap(swap::SwapArgs),
    /// The people in a target picture or video, each written out as a crop of their best face,
    /// to give each a source with --map SOURCE=CROP.
    MapFaces(map_faces::MapFacesArgs),
    /// Swap faces live: a webcam (or a video or picture standing in for one) in a window.
    Live(live::LiveArgs),
    /// Swap faces in a video file: every frame, with its timing, sound and subtitles kept.
    Transcode(transcode::TranscodeArgs),
    /// Serve the face-swap HTTP API: pictures, detection, video jobs, health and metrics.
    #[cfg(feature = "server")]
    Serve(Box<serve::ServeArgs>),
    /// Measure a swap: identity, eye and mouth openness, landmark drift (and correlations and
    /// flicker for video), with a before/after contact sheet.
    Compare(compare::CompareArgs),
    /// List the cameras.
    Cameras,
    /// Measure speed per execution provider, stage by stage, against the models' own time.
    Bench(bench::BenchArgs),
    /// List, verify and fetch model files.
    Models(models::ModelsArgs),
    /// Check ONNX Runtime and the models; exits non-zero unless healthy.
    Health(health::HealthArgs),
    /// Say whether pictures and videos are marked as AI-edited: their C2PA manifest (valid or
    /// not, signer, actions, ingredients) and their watermark. Exit 0 marked, 1 not, 2 unreadable.
    Verify(verify::VerifyArgs),
}

impl Command {
    fn hint_context(&self) -> hints::HintContext {
        let engine = match self {
            Self::Detect(a) => Some(&a.engine),
            Self::Swap(a) => Some(&a.engine),
            Self::MapFaces(a) => Some(&a.engine),
            Self::Live(a) => Some(&a.engine),
            Self::Transcode(a) => Some(&a.engine),
            #[cfg(feature = "server")]
            Self::Serve(a) => Some(&a.engine),
            Self::Compare(a) => Some(&a.engine),
            Self::Bench(a) => Some(&a.engine),
            Self::Models(a) => Some(&a.engine),
            Self::Health(a) => Some(&a.engine),
            Self::Verify(a) => Some(&a.engine),
            Self::Cameras => None,
        };
        hints::HintContext { mirror_given: engine.is_some_and(|e| e.mirror.is_some()) }
    }
}

/// Exit status when a transcode was stopped by a signal: the output is complete and kept, but
/// holds only the frames processed until then (128 + SIGINT, as shells report an interrupt).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Ends the program with this status, having said what there was to say already.
#[derive(Debug, thiserror::Error)]
#[error("exit status {0}")]
pub struct Exit(pub u8);

/// Runs the command and maps the outcome to an exit code: 0 on success (a closed pipe
/// included), 1 with a one-line error, or the status an [`Exit`] names.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.verbose);
    if stdout_was_closed() {
        eprintln!("error: standard output is closed, so what this command prints would be lost: redirect it to a file or /dev/null");
        return ExitCode::from(2);
    }
    let context = cli.command.hint_context();
    let outcome = match cli.command {
        Command::Detect(args) => detect::run(args),
        Command::Swap(args) => swap::run(args),
        Command::MapFaces(args) => map_faces::run(args),
        Command::Live(args) => live::run(args),
        Command::Transcode(args) => transcode::run(args),
        #[cfg(feature = "server")]
        Command::Serve(args) => serve::run(*args),
        Command::Compare(args) => compare::run(args),
        Command::Cameras => live::cameras(),
        Command::Bench(args) => bench::run(args),
        Command::Models(args) => models::run(args),
        Command::Health(args) => health::run(args),
        Command::Verify(args) => verify::run(args),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Exit>().is_some() => ExitCode::from(e.downcast_ref::<Exit>().map_or(1, |x| x.0)),
        Err(e) => {
            match hints::hint(&e, context) {
                Some(hint) => eprintln!("error: {e:#}: {hint}"),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::FAILURE
        }
    }
}

/// Whether the program was started with its standard output closed (`>&-`). Rust's runtime
/// then puts /dev/null there, opened for reading and writing, so every result would be lost and
/// the run would still say it succeeded; a shell's own `>/dev/null` opens it for writing only.
fn stdout_was_closed() -> bool {
    let on_null = std::fs::read_link("/proc/self/fd/1").is_ok_and(|target| target == Path::new("/dev/null"));
    let read_write = std::fs::read_to_string("/proc/self/fdinfo/1").ok().and_then(|info| {
        let flags = info.lines().find_map(|l| l.strip_prefix("flags:"))?.trim().to_string();
        u32::from_str_radix(&flags, 8).ok()
    });
    // O_ACCMODE is 3, O_RDWR 2.
    on_null && read_write.is_some_and(|flags| flags & 3 == 2)
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    let broken = |kind: Option<std::io::ErrorKind>| kind == Some(std::io::ErrorKind::BrokenPipe);
    error.chain().any(|e| {
        broken(e.downcast_ref::<std::io::Error>().map(std::io::Error::kind))
            || broken(e.downcast_ref::<serde_json::Error>().and_then(serde_json::Error::io_error_kind))
    })
}

fn init_logging(verbose: u8) {
    let level = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    // ONNX Runtime's own warnings (unused initializers and the like) are noise for users.
    let default = format!("{level},ort=error");
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}

/// `path` as given, for messages.
pub fn shown(path: &std::path::Path) -> String {
    path.display().to_string()
}
