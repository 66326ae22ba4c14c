// Shared helpers: per-test temp directories, a seeded RNG, sample data and the Python bridge used
// to cross-check files against pyarrow and DuckDB.

import Foundation
import GASTestSupport
import Testing
@testable import GASParquet

/// A fresh directory under the system temp dir, removed after `body` returns.
func withTemporaryDirectory<R>(_ body: (URL) throws -> R) throws -> R {
    let dir = FileManager.default.temporaryDirectory
        .appendingPathComponent("gasparquet-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    return try body(dir)
}

func readFile(_ url: URL) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: url))
}

/// Renders values as strings in a form Python produces identically: integers in decimal, floats
/// as their IEEE bit pattern, booleans as true/false, bytes as lowercase hex.
func canonical(_ values: ParquetColumnValues) -> [String?] {
    switch values {
    case .boolean(let v): return v.map { $0.map { $0 ? "true" : "false" } }
    case .int32(let v): return v.map { $0.map { String($0) } }
    case .int64(let v): return v.map { $0.map { String($0) } }
    case .float(let v): return v.map { $0.map { String($0.bitPattern) } }
    case .double(let v): return v.map { $0.map { String($0.bitPattern) } }
    case .string(let v): return v
    case .bytes(let v): return v.map { $0.map(hex) }
    }
}

func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef")
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(digits[Int(b >> 4)])
        s.append(digits[Int(b & 15)])
    }
    return s
}

// MARK: Sample data

/// Edge-case heavy sample values for every column kind; `nulls` makes every 5th value nil
/// (rotating with `salt`).
enum Samples {
    static let strings: [String] = [
        "", "a", "hello", "héllo", "日本語テキスト", "🙂👍🏽", "e\u{301}", "\u{e9}", "tab\tnew\nline", "quote\"back\\slash",
        "null", "zzz", String(repeating: "long-", count: 1200),
    ]

    static let doubles: [Double] = [
        0, -0.0, 1.5, -2.25, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        -.greatestFiniteMagnitude, 1e-300, 3.141592653589793, 0.1, .nan,
    ]

    static let floats: [Float] = [
        0, -0.0, 1.5, -2.25, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 0.1, 1e-30, .nan,
    ]

    static func values(for column: ParquetColumn, rows: Int, seed: UInt64) -> ParquetColumnValues {
        var rng = SeededRandom(seed: seed)
        func isNull(_ i: Int) -> Bool {
            column.optional && (i % 5 == Int(seed % 5) || Int(rng.next() % 13) == 0)
        }
        switch column.type {
        case .boolean:
            return .boolean((0..<rows).map { i in isNull(i) ? nil : rng.next() % 3 == 0 })
        case .int32:
            let specials: [Int32] = [.min, .max, 0, -1, 1]
            return .int32((0..<rows).map { i in
                isNull(i) ? nil : (i < specials.count ? specials[i] : Int32(truncatingIfNeeded: rng.next() % (column.dictionary ? 50 : UInt64.max)))
            })
        case .int64:
            let specials: [Int64] = [.min, .max, 0, -1, 1]
            return .int64((0..<rows).map { i in
                isNull(i) ? nil : (i < specials.count ? specials[i] : Int64(bitPattern: rng.next() % (column.dictionary ? 70 : UInt64.max)))
            })
        case .float:
            return .float((0..<rows).map { i in
                isNull(i) ? nil : (i < floats.count ? floats[i] : Float(Int(rng.next() % 2000) - 1000) / 8)
            })
        case .double:
            return .double((0..<rows).map { i in
                isNull(i) ? nil : (i < doubles.count ? doubles[i] : Double(Int64(bitPattern: rng.next() >> 11)) / 1024)
            })
        case .byteArray:
            if column.logical == .string {
                return .string((0..<rows).map { i in
                    if isNull(i) { return nil }
                    if i < strings.count { return strings[i] }
                    return column.dictionary ? "label-\(rng.next() % 40)" : "row \(i) \(rng.next() % 100_000) ✓"
                })
            }
            return .bytes((0..<rows).map { i in
                if isNull(i) { return nil }
                if i == 0 { return [] }
                let length = Int(rng.next() % 24)
                return (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            })
        }
    }

    /// Every type x optional x dictionary combination (booleans have no dictionary variant).
    static var allColumns: [ParquetColumn] {
        var columns: [ParquetColumn] = []
        let types: [(String, ParquetPhysicalType, ParquetLogicalType)] = [
            ("bool", .boolean, .none), ("i32", .int32, .none), ("i64", .int64, .none), ("f32", .float, .none),
            ("f64", .double, .none), ("str", .byteArray, .string), ("bin", .byteArray, .none),
        ]
        for (name, type, logical) in types {
            for optional in [false, true] {
                for dictionary in type == .boolean ? [false] : [false, true] {
                    columns.append(ParquetColumn(name: "\(name)_\(optional ? "opt" : "req")\(dictionary ? "_dict" : "")",
                                                 type: type, logical: logical, optional: optional, dictionary: dictionary))
                }
            }
        }
        return columns
    }

    static func rowGroup(_ schema: ParquetSchema, rows: Int, seed: UInt64) -> [ParquetColumnValues] {
        schema.columns.enumerated().map { values(for: $1, rows: rows, seed: seed &* 31 &+ UInt64($0)) }
    }
}

// MARK: Python bridge

enum Python {
    /// GAS_TEST_PYTHON, else <package root>/.venv/bin/python3, else python3 from PATH.
    static var executable: String {
        if let configured = ProcessInfo.processInfo.environment["GAS_TEST_PYTHON"], !configured.isEmpty {
            return configured
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let venv = root.appendingPathComponent(".venv/bin/python3").path
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return "python3"
    }

    /// Exit status a script uses when pyarrow or duckdb cannot be imported.
    static let missingToolsStatus: Int32 = 42

    /// Prefix for scripts: imports the tools or exits with `missingToolsStatus`.
    static let prelude = """
        import sys, json, struct, os
        try:
            import pyarrow as pa, pyarrow.parquet as pq, duckdb
        except Exception as e:
            print(f"cannot import pyarrow/duckdb: {e}", file=sys.stderr)
            sys.exit(42)

        def canon(v, kind):
            if v is None:
                return None
            if kind == "bool":
                return "true" if v else "false"
            if kind == "int":
                return str(int(v))
            if kind == "float":
                return str(struct.unpack("<I", struct.pack("<f", v))[0])
            if kind == "double":
                return str(struct.unpack("<Q", struct.pack("<d", v))[0])
            if kind == "bytes":
                return bytes(v).hex()
            return v

        def kind_of(t):
            if pa.types.is_boolean(t): return "bool"
            if pa.types.is_integer(t): return "int"
            if pa.types.is_float32(t): return "float"
            if pa.types.is_float64(t): return "double"
            if pa.types.is_binary(t) or pa.types.is_large_binary(t): return "bytes"
            return "str"

        """

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Runs `script` (after the prelude) with `arguments`; returns stdout. Records an issue that
    /// tells the developer how to install the tools when pyarrow/duckdb are missing.
    static func run(_ script: String, arguments: [String] = [], in directory: URL) throws -> Data {
        let scriptURL = directory.appendingPathComponent("script-\(UUID().uuidString).py")
        try (prelude + script).write(to: scriptURL, atomically: true, encoding: .utf8)
        let stdoutURL = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderrURL = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let stdout = try FileHandle(forWritingTo: stdoutURL)
        let stderr = try FileHandle(forWritingTo: stderrURL)
        let process = Process()
        let python = executable
        if python.contains("/") {
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [scriptURL.path] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python, scriptURL.path] + arguments
        }
        process.standardOutput = stdout
        process.standardError = stderr
        do {
            try process.run()
        } catch {
            let message = "cannot run Python (\(python)): \(error); run ./install.sh --with-test-tools or set GAS_TEST_PYTHON"
            throw Failure(description: message)
        }
        process.waitUntilExit()
        try stdout.close()
        try stderr.close()
        let errorText = String(decoding: (try? Data(contentsOf: stderrURL)) ?? Data(), as: UTF8.self)
        if process.terminationStatus == missingToolsStatus {
            let message = "pyarrow and duckdb are needed for the cross-check tests but \(python) cannot import them (\(errorText.trimmingCharacters(in: .whitespacesAndNewlines))): run ./install.sh --with-test-tools (or set GAS_TEST_PYTHON to a python that has them)"
            throw Failure(description: message)
        }
        guard process.terminationStatus == 0 else {
            let message = "python script failed with status \(process.terminationStatus): \(errorText)"
            throw Failure(description: message)
        }
        return try Data(contentsOf: stdoutURL)
    }
}
