//! The library's error type. Every variant names where the problem is, because a responder
//! fed a hundred lockfiles needs to know which one is broken, not only that one is.

use std::path::PathBuf;

/// Why a question could not be answered. All variants map to exit code 1 at the binary edge.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file could not be read (missing, unreadable, a directory where a file was expected).
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An input file was recognised but its content is malformed.
    #[error("{location}: {message}")]
    Parse {
        /// `file:line[:column]` or `file: JSON path`.
        location: String,
        /// What was expected and what was found.
        message: String,
    },
    /// A lockfile in a format version this build does not read: an error, never an empty
    /// result, because a lockfile skipped would read as "not affected".
    #[error("format version {found} of {location} is not supported (supported: {supported})")]
    UnsupportedVersion {
        /// `file:line` of the version field (or only `file` when it has none).
        location: String,
        /// The version as written.
        found: String,
        /// The versions this build reads (`1 to 4`).
        supported: String,
    },
    /// A file still holding git merge-conflict markers: which side is the real lockfile is
    /// for the user to say.
    #[error("unresolved merge conflict markers at {path}:{line}: expected a resolved file, found `<<<<<<<` (resolve the conflict, then run the package manager again)")]
    ConflictMarkers {
        /// The file as shown.
        path: PathBuf,
        /// The line of the first marker.
        line: usize,
    },
    /// A lockfile (or an explicitly named input) with nothing in it but blanks and comments.
    #[error("{path} is empty (expected {expected})")]
    Empty {
        /// The file as shown.
        path: PathBuf,
        /// What the file was expected to hold.
        expected: String,
    },
    /// A text input in UTF-16.
    #[error("{path} is UTF-16; convert it to UTF-8 (for example `iconv -f UTF-16 -t UTF-8`)")]
    Utf16 {
        /// The file as shown.
        path: PathBuf,
    },
    /// An explicitly named input is in no format blastradius knows.
    #[error("{path}: not a recognised input (expected registry metadata (crates.io index file or database dump, npm packument, PyPI JSON document), a lockfile (Cargo.lock, package-lock.json, yarn.lock, pnpm-lock.yaml, uv.lock, poetry.lock, requirements.txt), Cargo.toml, an inventory TOML or a build log CSV)")]
    Unrecognised {
        /// The file given on the command line.
        path: PathBuf,
    },
    /// The question names something the inputs do not contain.
    #[error("{0}")]
    Unknown(String),
    /// Writing the output failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// Where the output was going.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// `cargo metadata` on a workspace the user pointed at failed.
    #[error("cargo metadata on {path}: {message}")]
    Workspace {
        /// The workspace directory.
        path: PathBuf,
        /// cargo's own message.
        message: String,
    },
}

impl Error {
    /// A parse error at `file:line` (and column when known).
    pub fn parse_at(
        file: &std::path::Path,
        line: usize,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        let location = match column {
            Some(c) => format!("{}:{}:{}", file.display(), line, c),
            None => format!("{}:{}", file.display(), line),
        };
        Error::Parse {
            location,
            message: message.into(),
        }
    }

    /// A lockfile whose format version (at `file:line`) is not one blastradius reads.
    pub fn unsupported_version(
        file: &std::path::Path,
        line: usize,
        found: impl std::fmt::Display,
        supported: &str,
    ) -> Self {
        Error::UnsupportedVersion {
            location: format!("{}:{}", file.display(), line),
            found: found.to_string(),
            supported: supported.to_owned(),
        }
    }

    /// A parse error located only by file (and optionally a JSON path or key).
    pub fn parse_in(file: &std::path::Path, message: impl Into<String>) -> Self {
        Error::Parse {
            location: file.display().to_string(),
            message: message.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Line and column (1-based) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}
