-- Video jobs, one row each, and their tasks: a whole transcode, or the parts of a long video
-- and the assembly that joins them. Files live in the storage, named by job id.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    created_at   BIGINT NOT NULL, -- unix milliseconds
    updated_at   BIGINT NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    attempts     BIGINT NOT NULL DEFAULT 0,
    request      TEXT NOT NULL,   -- JSON: the job's options as accepted
    frames_done  BIGINT NOT NULL DEFAULT 0,
    frames_total BIGINT,
    fps          DOUBLE PRECISION,
    error_kind   TEXT,
    error        TEXT
);

CREATE INDEX jobs_by_status ON jobs (status, created_at);

CREATE TABLE tasks (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('whole', 'part', 'assemble')),
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    spec        TEXT NOT NULL,    -- JSON: the part's frames
    worker      TEXT,             -- who holds the lease
    lease_until BIGINT,           -- unix milliseconds, by the database's clock
    attempts    BIGINT NOT NULL DEFAULT 0,
    frames_done BIGINT NOT NULL DEFAULT 0,
    fps         DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL,  -- the job's: older jobs' tasks go first
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE INDEX tasks_claimable ON tasks (status, created_at, seq);
