import GRDB

/// The ledger's schema as append-only migrations: a released migration is never edited, only
/// followed by a new one, so every database a past gascli wrote can still be opened.
enum LedgerSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-runs-samples-outcomes-metrics") { db in
            try db.execute(sql: """
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    round_name TEXT NOT NULL,
                    spec_path TEXT NOT NULL,
                    spec_text TEXT NOT NULL,
                    resolved_spec_json TEXT NOT NULL,
                    manifest_hash TEXT NOT NULL,
                    tool_version TEXT NOT NULL,
                    seed INTEGER NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted'))
                );
                CREATE TABLE samples (
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    position INTEGER NOT NULL,
                    sample_id TEXT NOT NULL,
                    uri TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    dataset TEXT NOT NULL,
                    source_kind TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    modality TEXT NOT NULL,
                    label INTEGER NOT NULL,
                    seed INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    media_path TEXT NOT NULL,
                    skip_reason TEXT,
                    generator_family TEXT,
                    PRIMARY KEY (run_id, sample_id)
                );
                CREATE TABLE detectors (
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    name TEXT NOT NULL,
                    adapter TEXT NOT NULL,
                    config_json TEXT NOT NULL,
                    artifact_sha256 TEXT,
                    PRIMARY KEY (run_id, name)
                );
                CREATE TABLE outcomes (
                    run_id TEXT NOT NULL,
                    sample_id TEXT NOT NULL,
                    detector TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'skipped')),
                    probs_json TEXT,
                    p_ai REAL,
                    predicted INTEGER,
                    error TEXT,
                    latency_ms REAL NOT NULL,
                    batch INTEGER NOT NULL,
                    PRIMARY KEY (run_id, sample_id, detector),
                    FOREIGN KEY (run_id, sample_id) REFERENCES samples(run_id, sample_id)
                );
                CREATE TABLE metrics (
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    detector TEXT NOT NULL,
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    samples INTEGER NOT NULL,
                    tp INTEGER NOT NULL, tn INTEGER NOT NULL, fp INTEGER NOT NULL, fn INTEGER NOT NULL,
                    accuracy REAL NOT NULL,
                    mcc REAL NOT NULL,
                    brier REAL NOT NULL,
                    cross_entropy REAL NOT NULL,
                    sn34 REAL NOT NULL,
                    PRIMARY KEY (run_id, detector, scope, key)
                );
                CREATE TABLE detector_scores (
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    detector TEXT NOT NULL,
                    sn34 REAL NOT NULL,
                    coverage REAL NOT NULL,
                    invalidated INTEGER NOT NULL,
                    invalid_reason TEXT,
                    status_counts_json TEXT NOT NULL,
                    PRIMARY KEY (run_id, detector)
                );
                """)
        }
        // Analytics gasbench lacks (ROC AUC, ECE, per-class recall, sn34's bootstrap interval).
        // NULL where undefined for the slice, and in rows written before this migration.
        migrator.registerMigration("v2-metrics-auc-ece") { db in
            try db.execute(sql: """
                ALTER TABLE metrics ADD COLUMN auc REAL;
                ALTER TABLE metrics ADD COLUMN ece REAL;
                ALTER TABLE metrics ADD COLUMN recall_real REAL;
                ALTER TABLE metrics ADD COLUMN recall_ai REAL;
                ALTER TABLE metrics ADD COLUMN sn34_ci_lower REAL;
                ALTER TABLE metrics ADD COLUMN sn34_ci_upper REAL;
                """)
        }
        // Generator challenges (issue 4). In a run's run.sqlite these rows are the round's collection;
        // in the outputs folder's generators.sqlite they are every collection, the source of `from: store`.
        migrator.registerMigration("v2-generator-challenges") { db in
            try db.execute(sql: """
                CREATE TABLE collections (
                    id TEXT PRIMARY KEY,
                    round_name TEXT NOT NULL,
                    sequence INTEGER NOT NULL,
                    seed INTEGER NOT NULL,
                    validator TEXT NOT NULL,
                    webhook_url TEXT NOT NULL,
                    started_at TEXT NOT NULL,
                    finished_at TEXT,
                    status TEXT NOT NULL CHECK (status IN ('collecting', 'completed', 'failed'))
                );
                CREATE TABLE challenges (
                    collection_id TEXT NOT NULL,
                    challenge_id TEXT NOT NULL,
                    run_id TEXT,
                    generator TEXT NOT NULL,
                    hotkey TEXT,
                    uid INTEGER,
                    task_id TEXT,
                    modality TEXT NOT NULL,
                    prompt_id TEXT NOT NULL,
                    prompt TEXT NOT NULL,
                    requested_tier TEXT,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'stored', 'failed', 'timed_out', 'rejected')),
                    phase TEXT NOT NULL CHECK (phase IN ('dispatch', 'delivery')),
                    reason TEXT,
                    http_status INTEGER,
                    sent_at TEXT NOT NULL,
                    accepted_at TEXT,
                    resolved_at TEXT,
                    latency_ms REAL,
                    media_sha256 TEXT,
                    media_path TEXT,
                    format TEXT,
                    bytes INTEGER,
                    width INTEGER,
                    height INTEGER,
                    observed_tier TEXT,
                    perceptual_hash TEXT,
                    PRIMARY KEY (collection_id, challenge_id)
                );
                CREATE INDEX challenges_task ON challenges(task_id);
                CREATE INDEX challenges_status ON challenges(status, resolved_at);
                CREATE TABLE webhook_rejections (
                    collection_id TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    at TEXT NOT NULL,
                    task_id TEXT,
                    generator TEXT,
                    http_status INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    PRIMARY KEY (collection_id, seq)
                );
                CREATE TABLE generator_scores (
                    run_id TEXT NOT NULL,
                    generator TEXT NOT NULL,
                    hotkey TEXT,
                    uid INTEGER,
                    modality TEXT NOT NULL,
                    challenges INTEGER NOT NULL,
                    accepted INTEGER NOT NULL,
                    pass_rate REAL NOT NULL,
                    fool_rate REAL,
                    samples INTEGER NOT NULL,
                    volume_factor REAL,
                    resolution_factor REAL,
                    fool_bonus REAL NOT NULL,
                    reward REAL NOT NULL,
                    PRIMARY KEY (run_id, generator, modality)
                );
                """)
        }
        // Samples and outcomes stored in their primary key's b-tree (WITHOUT ROWID): one b-tree per
        // table instead of a table plus a key index, so a committed outcome is written once, not
        // twice, and a scan of either table comes in key (sample id) order. The outcome commits are
        // counted (`outcome_commits`), which takes the place of the highest rowid as the mark that
        // nothing was committed since a read. SQLite only: a PostgreSQL ledger keeps its tables.
        migrator.registerMigration("v3-samples-outcomes-without-rowid") { db in
            try db.execute(sql: """
                CREATE TABLE samples_v3 (
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    position INTEGER NOT NULL,
                    sample_id TEXT NOT NULL,
                    uri TEXT NOT NULL,
                    sha256 TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    dataset TEXT NOT NULL,
                    source_kind TEXT NOT NULL,
                    media_type TEXT NOT NULL,
                    modality TEXT NOT NULL,
                    label INTEGER NOT NULL,
                    seed INTEGER NOT NULL,
                    format TEXT NOT NULL,
                    media_path TEXT NOT NULL,
                    skip_reason TEXT,
                    generator_family TEXT,
                    PRIMARY KEY (run_id, sample_id)
                ) WITHOUT ROWID;
                CREATE TABLE outcomes_v3 (
                    run_id TEXT NOT NULL,
                    sample_id TEXT NOT NULL,
                    detector TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'skipped')),
                    probs_json TEXT,
                    p_ai REAL,
                    predicted INTEGER,
                    error TEXT,
                    latency_ms REAL NOT NULL,
                    batch INTEGER NOT NULL,
                    PRIMARY KEY (run_id, sample_id, detector),
                    FOREIGN KEY (run_id, sample_id) REFERENCES samples(run_id, sample_id)
                ) WITHOUT ROWID;
                INSERT INTO samples_v3 SELECT run_id, position, sample_id, uri, sha256, bytes, dataset, source_kind, media_type, modality,
                                              label, seed, format, media_path, skip_reason, generator_family FROM samples ORDER BY run_id, sample_id;
                INSERT INTO outcomes_v3 SELECT run_id, sample_id, detector, status, probs_json, p_ai, predicted, error, latency_ms, batch
                                        FROM outcomes ORDER BY run_id, sample_id, detector;
                DROP TABLE outcomes;
                DROP TABLE samples;
                ALTER TABLE samples_v3 RENAME TO samples;
                ALTER TABLE outcomes_v3 RENAME TO outcomes;
                CREATE TABLE outcome_commits (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    count INTEGER NOT NULL
                );
                INSERT INTO outcome_commits (id, count) SELECT 1, count(*) FROM outcomes;
                """)
        }
        // Outcomes keyed by sample id first: a ledger holds one run (or few), so a key led by the
        // run id made every comparison of an insert's b-tree search go past the same run id to the
        // sample id, outside SQLite's fast path for a leading text column. Committing 4 M outcomes:
        // 8.9 s -> 8.1 s. Rows of a run are still read in sample-id order.
        migrator.registerMigration("v4-outcomes-keyed-by-sample-first") { db in
            try db.execute(sql: """
                CREATE TABLE outcomes_v4 (
                    run_id TEXT NOT NULL,
                    sample_id TEXT NOT NULL,
                    detector TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'skipped')),
                    probs_json TEXT,
                    p_ai REAL,
                    predicted INTEGER,
                    error TEXT,
                    latency_ms REAL NOT NULL,
                    batch INTEGER NOT NULL,
                    PRIMARY KEY (sample_id, run_id, detector),
                    FOREIGN KEY (run_id, sample_id) REFERENCES samples(run_id, sample_id)
                ) WITHOUT ROWID;
                INSERT INTO outcomes_v4 SELECT run_id, sample_id, detector, status, probs_json, p_ai, predicted, error, latency_ms, batch
                                        FROM outcomes ORDER BY sample_id, run_id, detector;
                DROP TABLE outcomes;
                ALTER TABLE outcomes_v4 RENAME TO outcomes;
                """)
        }
        // Outcomes keyed by (sample id, lane), where a lane is one detector of one run
        // (`outcome_lanes`): the run id (30 bytes) and the detector name no longer repeat in every
        // row and key, and the status CHECK, which SQLite evaluated per inserted row, is gone (the
        // status comes from the runner's own enumeration). `outcomes` stays as a view with the old
        // columns (writable through its triggers), so every query of a past ledger still reads the
        // same rows. The declared foreign key to `samples` goes with the run id (`audit verify`
        // checks coverage). Committing 4 M outcomes: 8.1-8.4 s -> 4.9-5.3 s in a whole round; the
        // SQLite shell on the same pattern 7.8 s -> 3.5 s.
        migrator.registerMigration("v5-outcomes-by-lane") { db in
            try db.execute(sql: """
                CREATE TABLE outcome_lanes (
                    lane INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id),
                    detector TEXT NOT NULL,
                    UNIQUE (run_id, detector)
                );
                CREATE TABLE outcome_rows (
                    sample_id TEXT NOT NULL,
                    lane INTEGER NOT NULL REFERENCES outcome_lanes(lane),
                    status TEXT NOT NULL,
                    probs_json TEXT,
                    p_ai REAL,
                    predicted INTEGER,
                    error TEXT,
                    latency_ms REAL NOT NULL,
                    batch INTEGER NOT NULL,
                    PRIMARY KEY (sample_id, lane)
                ) WITHOUT ROWID;
                INSERT INTO outcome_lanes (run_id, detector) SELECT DISTINCT run_id, detector FROM outcomes ORDER BY run_id, detector;
                INSERT INTO outcome_rows SELECT o.sample_id, l.lane, o.status, o.probs_json, o.p_ai, o.predicted, o.error, o.latency_ms, o.batch
                                         FROM outcomes o JOIN outcome_lanes l ON l.run_id = o.run_id AND l.detector = o.detector
                                         ORDER BY o.sample_id, l.lane;
                DROP TABLE outcomes;
                CREATE VIEW outcomes (run_id, sample_id, detector, status, probs_json, p_ai, predicted, error, latency_ms, batch) AS
                    SELECT l.run_id, o.sample_id, l.detector, o.status, o.probs_json, o.p_ai, o.predicted, o.error, o.latency_ms, o.batch
                    FROM outcome_rows o JOIN outcome_lanes l ON l.lane = o.lane;
                CREATE TRIGGER outcomes_insert INSTEAD OF INSERT ON outcomes BEGIN
                    INSERT OR IGNORE INTO outcome_lanes (run_id, detector) VALUES (NEW.run_id, NEW.detector);
                    INSERT INTO outcome_rows (sample_id, lane, status, probs_json, p_ai, predicted, error, latency_ms, batch)
                    VALUES (NEW.sample_id, (SELECT lane FROM outcome_lanes WHERE run_id = NEW.run_id AND detector = NEW.detector),
                            NEW.status, NEW.probs_json, NEW.p_ai, NEW.predicted, NEW.error, NEW.latency_ms, NEW.batch);
                END;
                CREATE TRIGGER outcomes_update INSTEAD OF UPDATE ON outcomes BEGIN
                    UPDATE outcome_rows SET sample_id = NEW.sample_id, status = NEW.status, probs_json = NEW.probs_json, p_ai = NEW.p_ai,
                                            predicted = NEW.predicted, error = NEW.error, latency_ms = NEW.latency_ms, batch = NEW.batch
                    WHERE sample_id = OLD.sample_id AND lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                END;
                CREATE TRIGGER outcomes_delete INSTEAD OF DELETE ON outcomes BEGIN
                    DELETE FROM outcome_rows
                    WHERE sample_id = OLD.sample_id AND lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                END;
                """)
        }
        // The runner commits a detector's batch as one row (`OutcomeBatchJSON`: the batch's
        // outcomes as one JSON text) where it inserted a row per outcome: committing 4 M outcomes
        // kept the ledger's one writing thread busy for most of a 1 M-sample round. `outcome_rows`
        // stays for outcomes committed one by one (`commit(runID:outcomes:)`, shard merges, SQL
        // inserts). The `outcomes` view shows both, a batch's outcomes through `json_each`;
        // changing or deleting an outcome through it first moves its detector's batched outcomes
        // into `outcome_rows`, then changes the row.
        migrator.registerMigration("v6-outcome-batches") { db in
            // Moves the batched outcomes of OLD's lane into `outcome_rows` (the first step of an
            // UPDATE or DELETE through the view).
            let moveLaneToRows = """
                INSERT OR IGNORE INTO outcome_rows (sample_id, lane, status, probs_json, p_ai, predicted, error, latency_ms, batch)
                    SELECT json_extract(j.value, '$[0]'), b.lane, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
                           json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]'),
                           json_extract(j.value, '$[6]'), json_extract(j.value, '$[7]')
                    FROM outcome_batches b, json_each(b.outcomes) j
                    WHERE b.lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                    DELETE FROM outcome_batches WHERE lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                """
            try db.execute(sql: """
                CREATE TABLE outcome_batches (
                    id INTEGER PRIMARY KEY,
                    lane INTEGER NOT NULL REFERENCES outcome_lanes(lane),
                    outcomes TEXT NOT NULL
                );
                DROP VIEW outcomes;
                CREATE VIEW outcomes (run_id, sample_id, detector, status, probs_json, p_ai, predicted, error, latency_ms, batch) AS
                    SELECT l.run_id, o.sample_id, l.detector, o.status, o.probs_json, o.p_ai, o.predicted, o.error, o.latency_ms, o.batch
                    FROM outcome_rows o JOIN outcome_lanes l ON l.lane = o.lane
                    UNION ALL
                    SELECT l.run_id, json_extract(j.value, '$[0]'), l.detector, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]'),
                           json_extract(j.value, '$[3]'), json_extract(j.value, '$[4]'), json_extract(j.value, '$[5]'),
                           json_extract(j.value, '$[6]'), json_extract(j.value, '$[7]')
                    FROM outcome_batches b JOIN outcome_lanes l ON l.lane = b.lane, json_each(b.outcomes) j;
                CREATE TRIGGER outcomes_insert INSTEAD OF INSERT ON outcomes BEGIN
                    INSERT OR IGNORE INTO outcome_lanes (run_id, detector) VALUES (NEW.run_id, NEW.detector);
                    INSERT INTO outcome_rows (sample_id, lane, status, probs_json, p_ai, predicted, error, latency_ms, batch)
                    VALUES (NEW.sample_id, (SELECT lane FROM outcome_lanes WHERE run_id = NEW.run_id AND detector = NEW.detector),
                            NEW.status, NEW.probs_json, NEW.p_ai, NEW.predicted, NEW.error, NEW.latency_ms, NEW.batch);
                END;
                CREATE TRIGGER outcomes_update INSTEAD OF UPDATE ON outcomes BEGIN
                    \(moveLaneToRows)
                    UPDATE outcome_rows SET sample_id = NEW.sample_id, status = NEW.status, probs_json = NEW.probs_json, p_ai = NEW.p_ai,
                                            predicted = NEW.predicted, error = NEW.error, latency_ms = NEW.latency_ms, batch = NEW.batch
                    WHERE sample_id = OLD.sample_id AND lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                END;
                CREATE TRIGGER outcomes_delete INSTEAD OF DELETE ON outcomes BEGIN
                    \(moveLaneToRows)
                    DELETE FROM outcome_rows
                    WHERE sample_id = OLD.sample_id AND lane = (SELECT lane FROM outcome_lanes WHERE run_id = OLD.run_id AND detector = OLD.detector);
                END;
                """)
        }
        return migrator
    }
}
