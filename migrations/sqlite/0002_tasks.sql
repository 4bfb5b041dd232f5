-- Jobs run as tasks with leases: a whole transcode, or the parts of a long video and the
-- assembly that joins them. Jobs queued or running before this version become one whole task.
CREATE TABLE tasks (
    job_id      TEXT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    seq         INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('whole', 'part', 'assemble')),
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done')),
    spec        TEXT NOT NULL,    -- JSON: the part's frames
    worker      TEXT,             -- who holds the lease
    lease_until INTEGER,          -- unix milliseconds, by the database's clock
    attempts    INTEGER NOT NULL DEFAULT 0,
    frames_done INTEGER NOT NULL DEFAULT 0,
    fps         REAL NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL, -- the job's: older jobs' tasks go first
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (job_id, seq)
);

CREATE INDEX tasks_claimable ON tasks (status, created_at, seq);

UPDATE jobs SET status = 'queued', frames_done = 0 WHERE status = 'running';

INSERT INTO tasks (job_id, seq, kind, status, spec, created_at, updated_at)
SELECT id, 0, 'whole', 'queued', '{}', created_at, updated_at FROM jobs WHERE status = 'queued';
