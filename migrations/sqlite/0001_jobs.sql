-- Video jobs: one row each; uploads and results live under the data folder, named by id.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at   INTEGER NOT NULL, -- unix milliseconds
    updated_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    request      TEXT NOT NULL,    -- JSON: the job's options as accepted
    frames_done  INTEGER NOT NULL DEFAULT 0,
    frames_total INTEGER,
    fps          REAL,
    error_kind   TEXT,
    error        TEXT
);

CREATE INDEX jobs_by_status ON jobs (status, created_at);
