import GRDB

/// The validator's state database (`<state_dir>/validator.sqlite`) as append-only migrations:
/// a released migration is never edited, only followed by a new one.
enum StateSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-validator-state") { db in
            try db.execute(sql: """
                CREATE TABLE service (
                    key TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                -- One row per schedule ever configured; cursor = the newest occurrence key handled
                -- (block number for block cadences, Unix seconds for interval and cron cadences).
                CREATE TABLE schedules (
                    name TEXT PRIMARY KEY,
                    spec_path TEXT NOT NULL,
                    cadence TEXT NOT NULL,
                    catch_up TEXT NOT NULL,
                    cursor INTEGER,
                    updated_at TEXT NOT NULL
                );
                CREATE TABLE rounds (
                    schedule TEXT NOT NULL,
                    occurrence INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    label TEXT NOT NULL,
                    run_id TEXT,
                    run_directory TEXT,
                    seed INTEGER,
                    status TEXT NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'interrupted', 'skipped')),
                    reason TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    started_block INTEGER,
                    finished_block INTEGER,
                    started_at TEXT,
                    finished_at TEXT,
                    PRIMARY KEY (schedule, occurrence)
                );
                CREATE TABLE round_entrants (
                    schedule TEXT NOT NULL,
                    occurrence INTEGER NOT NULL,
                    modality TEXT NOT NULL,
                    detector TEXT NOT NULL,
                    hotkey TEXT NOT NULL,
                    uid INTEGER,
                    sn34 REAL NOT NULL,
                    PRIMARY KEY (schedule, occurrence, modality, detector)
                );
                CREATE TABLE generator_rewards (
                    schedule TEXT NOT NULL,
                    occurrence INTEGER NOT NULL,
                    position INTEGER NOT NULL,
                    run_id TEXT NOT NULL,
                    hotkey TEXT NOT NULL,
                    uid INTEGER,
                    modality TEXT NOT NULL,
                    generator TEXT NOT NULL,
                    accepted INTEGER NOT NULL,
                    reward REAL NOT NULL,
                    PRIMARY KEY (schedule, occurrence, hotkey, modality, generator)
                );
                CREATE TABLE kings (
                    modality TEXT NOT NULL,
                    rank INTEGER NOT NULL,
                    hotkey TEXT NOT NULL,
                    PRIMARY KEY (modality, rank)
                );
                CREATE TABLE king_events (
                    schedule TEXT NOT NULL,
                    occurrence INTEGER NOT NULL,
                    modality TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    event TEXT NOT NULL,
                    winner TEXT,
                    winner_score REAL,
                    kings_json TEXT NOT NULL,
                    PRIMARY KEY (schedule, occurrence, modality)
                );
                CREATE TABLE generator_state (
                    hotkey TEXT PRIMARY KEY,
                    ema REAL NOT NULL,
                    last_seen_block INTEGER
                );
                CREATE TABLE weight_sets (
                    occurrence INTEGER PRIMARY KEY,
                    status TEXT NOT NULL CHECK (status IN ('computed', 'emitted', 'partial', 'failed', 'superseded', 'skipped')),
                    reason TEXT,
                    computed_block INTEGER,
                    emitted_block INTEGER,
                    path TEXT,
                    uids_json TEXT,
                    weights_json TEXT,
                    inputs_json TEXT,
                    vector_json TEXT,
                    metagraph_sha256 TEXT,
                    computed_at TEXT,
                    emitted_at TEXT
                );
                CREATE TABLE weight_entries (
                    occurrence INTEGER NOT NULL REFERENCES weight_sets(occurrence),
                    uid INTEGER NOT NULL,
                    hotkey TEXT NOT NULL,
                    raw REAL NOT NULL,
                    processed REAL NOT NULL,
                    u16 INTEGER NOT NULL,
                    PRIMARY KEY (occurrence, uid)
                );
                CREATE TABLE sink_attempts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    occurrence INTEGER NOT NULL,
                    sink INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'timeout')),
                    detail TEXT,
                    seconds REAL NOT NULL,
                    block INTEGER,
                    at TEXT NOT NULL
                );
                -- Everything that went wrong or was decided without a round: config and metagraph
                -- errors, chain errors, skipped occurrences, rate limits, shutdowns.
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at TEXT NOT NULL,
                    block INTEGER,
                    level TEXT NOT NULL CHECK (level IN ('info', 'warning', 'error')),
                    kind TEXT NOT NULL,
                    subject TEXT,
                    message TEXT NOT NULL
                );
                CREATE INDEX events_kind ON events(kind);
                """)
        }
        return migrator
    }
}
