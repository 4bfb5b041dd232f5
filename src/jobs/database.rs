//! `--queue`: the job table's database, `sqlite:PATH` (embedded, the default) or
//! `postgres://…` (shared by every replica), one schema for both with migrations versioned in
//! `migrations/<backend>/` and applied at open. Queries are written once (`$1` parameters, which
//! both take); the few differences (the clock, row locking) are the [`Dialect`]'s.

use std::{path::PathBuf, str::FromStr, time::Duration};

use sqlx::{
    any::{AnyPoolOptions, AnyRow},
    AnyPool, Executor,
};

use super::JobError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Where the job table lives.
#[derive(Clone, PartialEq, Eq)]
pub enum QueueUrl {
    Sqlite(PathBuf),
    /// The connection URL, password and all (never shown: see [`QueueUrl::redacted`]).
    Postgres(String),
}

impl FromStr for QueueUrl {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(path) = text.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err("sqlite: needs a file, as in sqlite:/var/lib/faceswap/jobs.sqlite3".into());
            }
            return Ok(Self::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            let text = with_socket_host(text);
            url::Url::parse(&text).map_err(|e| format!("{}: {e}", redact(&text)))?;
            return Ok(Self::Postgres(text));
        }
        Err(format!("{:?} is not a queue URL: use sqlite:PATH or postgres://USER@HOST/DB", redact(text)))
    }
}

/// libpq's form for a Unix socket, `postgresql://USER@/DB?host=/run/postgresql` (what a local
/// server or a cloud SQL proxy gives), has no host, which URL parsers refuse: a placeholder
/// host is put in, and the socket folder (libpq's default on Debian when none is named) kept in
/// `host=`, which the driver takes over the placeholder.
fn with_socket_host(text: &str) -> String {
    let Some((scheme, rest)) = text.split_once("://") else { return text.to_string() };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, host)| host);
    if !host.is_empty() {
        return text.to_string();
    }
    let has_socket = tail.split_once('?').is_some_and(|(_, query)| query.split('&').any(|p| p.starts_with("host=")));
    let mut url = format!("{scheme}://{authority}localhost{tail}");
    if !has_socket {
        url.push(if tail.contains('?') { '&' } else { '?' });
        url.push_str("host=/var/run/postgresql");
    }
    url
}

/// `text` with any password replaced by `***`.
fn redact(text: &str) -> String {
    match url::Url::parse(text) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        Ok(url) => url.to_string(),
        Err(_) => text.split('@').next_back().map_or_else(String::new, |host| format!("…@{host}")),
    }
}

impl QueueUrl {
    /// The URL fit for logs and errors.
    pub fn redacted(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite:{}", path.display()),
            Self::Postgres(url) => redact(url),
        }
    }
}

impl std::fmt::Debug for QueueUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl std::fmt::Display for QueueUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// What differs between the two databases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The database's clock in Unix milliseconds: leases are timed by one clock, whichever
    /// machine's worker holds them.
    pub fn now_ms(self) -> &'static str {
        match self {
            Self::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
            Self::Postgres => "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// What a job insert takes first, so that two inserts never count the queue at once
    /// (PostgreSQL reads committed rows only; SQLite's writes are serialised already).
    pub fn insert_lock(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("SELECT pg_advisory_xact_lock(7224931)"),
        }
    }

    /// The row lock of a claim: workers skip the rows another is claiming instead of waiting.
    /// (SQLite has one writer at a time: its claim statement is atomic as it is.)
    pub fn skip_locked(self, table: &str) -> String {
        match self {
            Self::Sqlite => String::new(),
            Self::Postgres => format!(" FOR UPDATE OF {table} SKIP LOCKED"),
        }
    }
}

/// An open job database.
#[derive(Debug, Clone)]
pub struct Database {
    pub pool: AnyPool,
    pub dialect: Dialect,
    pub url: QueueUrl,
}

/// How long a statement may wait for a connection: a database that went away is an error
/// the caller retries, not a hang.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

impl Database {
    /// Connects (creating an SQLite file when missing) and applies the migrations.
    ///
    /// # Errors
    /// [`JobError::Database`] when it cannot connect, [`JobError::Migrate`] when the schema
    /// cannot be brought up to date.
    pub async fn open(url: &QueueUrl) -> Result<Self, JobError> {
        sqlx::any::install_default_drivers();
        let fail = |source| JobError::Database { database: url.redacted(), source };
        let (connect, dialect, max) = match url {
            QueueUrl::Sqlite(path) => {
                if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(folder)
                        .map_err(|source| JobError::Files { path: folder.to_path_buf(), source })?;
                }
                // The path percent-encoded as a URL's (a `?`, `#`, `%` or space in a folder name
                // is part of the name), which the driver decodes.
                let absolute = crate::paths::absolute(path);
                let file_url = url::Url::from_file_path(&absolute).map_err(|()| JobError::Files {
                    path: absolute.clone(),
                    source: std::io::ErrorKind::InvalidInput.into(),
                })?;
                (format!("sqlite://{}?mode=rwc", file_url.path()), Dialect::Sqlite, 4)
            }
            QueueUrl::Postgres(text) => (text.clone(), Dialect::Postgres, 8),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .after_connect(move |connection, _| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL for readers beside the writer; every commit synced, so an
                        // accepted upload is never lost; waits instead of "database is locked".
                        connection
                            .execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&connect)
            .await
            .map_err(fail)?;
        let migrator = match dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await.map_err(|source| JobError::Migrate { database: url.redacted(), source })?;
        Ok(Self { pool, dialect, url: url.clone() })
    }

    /// Maps a database error to [`JobError::Database`].
    pub fn fail(&self) -> impl FnOnce(sqlx::Error) -> JobError + '_ {
        |source| JobError::Database { database: self.url.redacted(), source }
    }
}

/// Reads an optional text column.
pub fn text(row: &AnyRow, column: &str) -> Option<String> {
    use sqlx::Row;
    row.try_get::<Option<String>, _>(column).ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpqs_unix_socket_form_is_taken() {
        let url: QueueUrl = "postgresql://user@/db?host=/run/postgresql".parse().unwrap();
        assert_eq!(url, QueueUrl::Postgres("postgresql://user@localhost/db?host=/run/postgresql".into()));
        let url: QueueUrl = "postgres:///db".parse().unwrap();
        assert_eq!(url, QueueUrl::Postgres("postgres://localhost/db?host=/var/run/postgresql".into()));
        let url: QueueUrl = "postgres://u:p@db.example:5432/jobs".parse().unwrap();
        assert_eq!(url, QueueUrl::Postgres("postgres://u:p@db.example:5432/jobs".into()));
    }

    #[test]
    fn queue_urls_parse_and_never_show_a_password() {
        assert_eq!("sqlite:/data/jobs.db".parse(), Ok(QueueUrl::Sqlite("/data/jobs.db".into())));
        let pg: QueueUrl = "postgres://faceswap:s3cret@db.internal:5432/faceswap".parse().unwrap();
        assert_eq!(pg.redacted(), "postgres://faceswap:***@db.internal:5432/faceswap");
        assert!(!format!("{pg:?} {pg}").contains("s3cret"));
        let error = "mysql://u:hunter2@h/db".parse::<QueueUrl>().unwrap_err();
        assert!(!error.contains("hunter2") && error.contains("sqlite:PATH"), "{error}");
        assert!("sqlite:".parse::<QueueUrl>().is_err());
    }
}
