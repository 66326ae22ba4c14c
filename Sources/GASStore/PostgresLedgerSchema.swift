/// The run ledger's tables in PostgreSQL: the SQLite migrations of `LedgerSchema` that hold a run
/// (runs, samples, detectors, outcomes, metrics, detector_scores), written as PostgreSQL DDL under
/// the same names. Append-only like them: a released migration is never edited, only followed.
///
/// Differences from SQLite, all of representation: integers are BIGINT, reals DOUBLE PRECISION
/// (float8, so doubles round-trip bit for bit), `invalidated` is BOOLEAN, and `detectors` has a
/// `position` column where SQLite orders by rowid. The generator-challenge tables are not here:
/// rounds with generator sources keep the SQLite ledger.
enum PostgresLedgerSchema {
    struct Migration: Sendable {
        var identifier: String
        var sql: [String]
    }

    /// The table that records which migrations a database has.
    static let versionTable = "gascli_migrations"

    static let migrations: [Migration] = [
        Migration(identifier: "v1-runs-samples-outcomes-metrics", sql: [
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY,
                round_name TEXT NOT NULL,
                spec_path TEXT NOT NULL,
                spec_text TEXT NOT NULL,
                resolved_spec_json TEXT NOT NULL,
                manifest_hash TEXT NOT NULL,
                tool_version TEXT NOT NULL,
                seed BIGINT NOT NULL,
                started_at TEXT NOT NULL,
                finished_at TEXT,
                status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted'))
            )
            """,
            """
            CREATE TABLE samples (
                run_id TEXT NOT NULL REFERENCES runs(id),
                position BIGINT NOT NULL,
                sample_id TEXT NOT NULL,
                uri TEXT NOT NULL,
                sha256 TEXT NOT NULL,
                bytes BIGINT NOT NULL,
                dataset TEXT NOT NULL,
                source_kind TEXT NOT NULL,
                media_type TEXT NOT NULL,
                modality TEXT NOT NULL,
                label BIGINT NOT NULL,
                seed BIGINT NOT NULL,
                format TEXT NOT NULL,
                media_path TEXT NOT NULL,
                skip_reason TEXT,
                generator_family TEXT,
                PRIMARY KEY (run_id, sample_id)
            )
            """,
            """
            CREATE TABLE detectors (
                run_id TEXT NOT NULL REFERENCES runs(id),
                position BIGINT NOT NULL,
                name TEXT NOT NULL,
                adapter TEXT NOT NULL,
                config_json TEXT NOT NULL,
                artifact_sha256 TEXT,
                PRIMARY KEY (run_id, name)
            )
            """,
            """
            CREATE TABLE outcomes (
                run_id TEXT NOT NULL,
                sample_id TEXT NOT NULL,
                detector TEXT NOT NULL,
                status TEXT NOT NULL CHECK (status IN ('ok', 'error', 'timeout', 'skipped')),
                probs_json TEXT,
                p_ai DOUBLE PRECISION,
                predicted BIGINT,
                error TEXT,
                latency_ms DOUBLE PRECISION NOT NULL,
                batch BIGINT NOT NULL,
                PRIMARY KEY (run_id, sample_id, detector),
                FOREIGN KEY (run_id, sample_id) REFERENCES samples(run_id, sample_id)
            )
            """,
            """
            CREATE TABLE metrics (
                run_id TEXT NOT NULL REFERENCES runs(id),
                detector TEXT NOT NULL,
                scope TEXT NOT NULL,
                key TEXT NOT NULL,
                samples BIGINT NOT NULL,
                tp BIGINT NOT NULL, tn BIGINT NOT NULL, fp BIGINT NOT NULL, fn BIGINT NOT NULL,
                accuracy DOUBLE PRECISION NOT NULL,
                mcc DOUBLE PRECISION NOT NULL,
                brier DOUBLE PRECISION NOT NULL,
                cross_entropy DOUBLE PRECISION NOT NULL,
                sn34 DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (run_id, detector, scope, key)
            )
            """,
            """
            CREATE TABLE detector_scores (
                run_id TEXT NOT NULL REFERENCES runs(id),
                detector TEXT NOT NULL,
                sn34 DOUBLE PRECISION NOT NULL,
                coverage DOUBLE PRECISION NOT NULL,
                invalidated BOOLEAN NOT NULL,
                invalid_reason TEXT,
                status_counts_json TEXT NOT NULL,
                PRIMARY KEY (run_id, detector)
            )
            """,
            "CREATE INDEX runs_round_status ON runs(round_name, status)",
        ]),
        Migration(identifier: "v2-metrics-auc-ece", sql: [
            """
            ALTER TABLE metrics
                ADD COLUMN auc DOUBLE PRECISION,
                ADD COLUMN ece DOUBLE PRECISION,
                ADD COLUMN recall_real DOUBLE PRECISION,
                ADD COLUMN recall_ai DOUBLE PRECISION,
                ADD COLUMN sn34_ci_lower DOUBLE PRECISION,
                ADD COLUMN sn34_ci_upper DOUBLE PRECISION
            """,
        ]),
    ]
}
