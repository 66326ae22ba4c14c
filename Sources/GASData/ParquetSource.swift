import Foundation
import GASCore
import GASParquet
import GASSpec

/// Parquet datasets as they are published on the hub: one sample per row (× per media column),
/// media bytes in a plain binary column, a base64 string column, or the `datasets` library's
/// `image: struct<bytes, path>` (likewise `audio`, `video`). Files are read row group by row group,
/// so memory stays bounded by one row group's media column.
public enum ParquetSource {
    /// A column that holds media: the top-level field and the leaf the bytes are read from.
    public struct MediaColumn: Sendable, Hashable {
        /// Top-level field name (`image`), used in URIs and messages.
        public var field: String
        /// Dotted leaf name (`image.bytes`, or `image` for a plain column).
        public var leaf: String
        /// The leaf is a string column whose cells are base64 text.
        public var base64: Bool
    }

    /// Key parts of a struct cell, in gasbench's order of preference (§1.8 step 6: "take the first
    /// key containing bytes|image|video|audio|array|data|content").
    static let cellKeys = ["bytes", "image", "video", "audio", "array", "data", "content"]

    /// gasbench's column auto-detection (§1.8 step 6) over the top-level field names, lowercased:
    /// - image: exactly `image`, else the first containing `image` without `_id`, else the first containing `image`;
    /// - audio: exactly `audio`, else every field containing audio/bytes/content/data/wav/mp3 without `_id`;
    /// - video: a name in {video, bytes, content, data}, else the first containing one of them without `_id`,
    ///   else the first containing one.
    /// When no name matches, the `datasets` library's feature metadata (`_type: Image|Audio|Video`) decides.
    public static func detectColumns(fields: [String], modality: Modality, features: [String: String] = [:]) -> [String] {
        let lower = fields.map { ($0, $0.lowercased()) }
        func firstWhere(_ p: (String) -> Bool) -> [String] { lower.first { p($0.1) }.map { [$0.0] } ?? [] }
        var found: [String] = []
        switch modality {
        case .image:
            found = firstWhere { $0 == "image" }
            if found.isEmpty { found = firstWhere { $0.contains("image") && !$0.contains("_id") } }
            if found.isEmpty { found = firstWhere { $0.contains("image") } }
        case .audio:
            found = firstWhere { $0 == "audio" }
            if found.isEmpty {
                let keys = ["audio", "bytes", "content", "data", "wav", "mp3"]
                found = lower.filter { name in keys.contains { name.1.contains($0) } && !name.1.contains("_id") }.map(\.0)
            }
        case .video:
            let keys = ["video", "bytes", "content", "data"]
            found = firstWhere { keys.contains($0) }
            if found.isEmpty { found = firstWhere { name in keys.contains { name.contains($0) } && !name.contains("_id") } }
            if found.isEmpty { found = firstWhere { name in keys.contains { name.contains($0) } } }
        }
        if found.isEmpty {
            let wanted = modality.rawValue.capitalized
            found = fields.filter { features[$0] == wanted }
        }
        return found
    }

    /// `_type` of each feature in the `datasets` library's `huggingface` key-value metadata.
    static func featureTypes(_ metadata: [String: String]) -> [String: String] {
        guard let text = metadata["huggingface"], let data = text.data(using: .utf8),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let info = object["info"] as? [String: Any], let features = info["features"] as? [String: Any] else { return [:] }
        var result: [String: String] = [:]
        for (name, value) in features {
            if let spec = value as? [String: Any], let type = spec["_type"] as? String { result[name] = type }
        }
        return result
    }

    /// Resolves a top-level field to the leaf its media bytes are read from, or says why it holds no media.
    static func mediaColumn(_ field: ParquetField, reader: ParquetReader) -> Result<MediaColumn, ListingProblem> {
        let file = reader.path
        func column(_ name: String) -> ParquetColumn? { reader.schema.columns.first { $0.name == name } }
        if field.isGroup {
            let children = field.columns.filter { !$0.dropFirst(field.name.count + 1).contains(".") }
            for key in cellKeys {
                for leaf in children {
                    let child = String(leaf.dropFirst(field.name.count + 1)).lowercased()
                    guard child.contains(key), let c = column(leaf), c.type == .byteArray else { continue }
                    return .success(MediaColumn(field: field.name, leaf: leaf, base64: c.logical == .string))
                }
            }
            return .failure(ListingProblem(file: file, reason: "column '\(field.name)' is a struct without a bytes/image/video/audio/data/content field (fields: \(field.columns.joined(separator: ", "))); it is not media"))
        }
        if let reason = reader.unsupportedColumns[field.name] ?? field.columns.compactMap({ reader.unsupportedColumns[$0] }).first {
            return .failure(ListingProblem(file: file, reason: "column '\(field.name)' cannot be read as media: \(reason)"))
        }
        guard let c = column(field.name) else {
            return .failure(ListingProblem(file: file, reason: "column '\(field.name)' cannot be read"))
        }
        guard c.type == .byteArray else {
            return .failure(ListingProblem(file: file, reason: "column '\(field.name)' holds \(c.type) values, not media (media columns are binary, base64 text, or a struct with a bytes field)"))
        }
        return .success(MediaColumn(field: field.name, leaf: field.name, base64: c.logical == .string))
    }

    /// The media columns of one file for a catalog entry: `data_columns` ∩ the file's fields when
    /// the entry names any (none present = no samples, as in gasbench), else auto-detection.
    static func mediaColumns(_ reader: ParquetReader, entry: CatalogEntry) -> Result<[MediaColumn], ListingProblem> {
        let names = reader.fields.map(\.name)
        let chosen: [String]
        if !entry.dataColumns.isEmpty {
            chosen = entry.dataColumns.filter(names.contains)
            if chosen.isEmpty {
                return .failure(ListingProblem(file: reader.path, reason: "none of data_columns [\(entry.dataColumns.joined(separator: ", "))] is in the file (columns: \(names.joined(separator: ", ")))"))
            }
        } else {
            chosen = detectColumns(fields: names, modality: entry.modality, features: featureTypes(reader.keyValueMetadata))
            if chosen.isEmpty {
                return .failure(ListingProblem(file: reader.path, reason: "no \(entry.modality.rawValue) column found among [\(names.joined(separator: ", "))]; name it with data_columns in the catalog"))
            }
        }
        var result: [MediaColumn] = []
        for name in chosen {
            guard let field = reader.fields.first(where: { $0.name == name }) else { continue }
            switch mediaColumn(field, reader: reader) {
            case .success(let c): result.append(c)
            case .failure(let problem): return .failure(problem)
            }
        }
        return .success(result)
    }

    /// One cell's text form for `filter_value` comparisons (gasbench compares `df[col] == value`).
    static func filterTexts(_ values: ParquetColumnValues) -> [String?] {
        switch values {
        case .boolean(let v): return v.map { $0.map { $0 ? "true" : "false" } }
        case .int32(let v): return v.map { $0.map { String($0) } }
        case .int64(let v): return v.map { $0.map { String($0) } }
        case .float(let v): return v.map { $0.map { String($0) } }
        case .double(let v): return v.map { $0.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int64($0)) : String($0) } }
        case .string(let v): return v
        case .bytes(let v): return v.map { $0.map { String(decoding: $0, as: UTF8.self) } }
        }
    }

    static func matchesFilter(_ cell: String?, _ wanted: String) -> Bool {
        guard let cell else { return false }
        if cell == wanted { return true }
        if ["true", "false"].contains(wanted.lowercased()) { return cell.lowercased() == wanted.lowercased() }
        if let a = Double(cell), let b = Double(wanted) { return a == b }
        return false
    }

    /// Lists the candidate rows (× media columns) of one Parquet file. Reads the filter column and
    /// the media columns one row group at a time (to skip null cells), keeping no media bytes.
    static func list(file: (relative: String, absolute: String), entry: CatalogEntry) -> (candidates: [Candidate], problems: [ListingProblem]) {
        let reader: ParquetReader
        do {
            reader = try ParquetReader(path: file.absolute)
        } catch {
            return ([], [ListingProblem(file: file.absolute, reason: "\(error)")])
        }
        let columns: [MediaColumn]
        switch mediaColumns(reader, entry: entry) {
        case .success(let c): columns = c
        case .failure(let problem): return ([], [problem])
        }
        if let filter = entry.filterColumn {
            guard let field = reader.fields.first(where: { $0.name == filter }), !field.isGroup, reader.schema.index(of: filter) != nil else {
                return ([], [ListingProblem(file: file.absolute, reason: "filter_column '\(filter)' is not a plain column of the file (columns: \(reader.fields.map(\.name).joined(separator: ", ")))")])
            }
        }
        let multi = columns.count > 1
        // Per kept row, its candidates (one per non-null media cell): rows[k] is the range of
        // `cells` of the kth kept row (one flat array, not an array per row).
        var cells: [Candidate] = []
        var rows: [Range<Int>] = []
        var problems: [ListingProblem] = []
        var nullCells = 0
        var firstRow = 0
        // Every cell of the file shares this head; its tail (`row=48213`) is short enough to be kept inline.
        let head = "dataset://\(entry.name)/\(file.relative)#"
        for group in 0..<reader.rowGroupCount {
            do {
                let count = try reader.rowCount(ofRowGroup: group)
                defer { firstRow += count }
                var keep = [Bool](repeating: true, count: count)
                if let filter = entry.filterColumn, let value = entry.filterValue {
                    let texts = filterTexts(try reader.readRowGroup(group, columns: [filter])[0])
                    for i in 0..<count { keep[i] = matchesFilter(texts[i], value) }
                }
                guard keep.contains(true) else { continue }
                var present: [[Bool]] = []
                for column in columns {
                    let values = try reader.readRowGroup(group, columns: [column.leaf])[0]
                    switch values {
                    case .bytes(let v): present.append(v.map { $0 != nil })
                    case .string(let v): present.append(v.map { $0 != nil })
                    default:
                        return ([], [ListingProblem(file: file.absolute, reason: "column '\(column.leaf)' is not binary")])
                    }
                }
                for i in 0..<count where keep[i] {
                    let start = cells.count
                    for (k, column) in columns.enumerated() {
                        guard present[k][i] else { nullCells += 1; continue }
                        let row = firstRow + i
                        let uri = SampleURI(head: head, tail: "row=\(row)" + (multi ? "&column=\(column.field)" : ""))
                        cells.append(Candidate(uri: uri, locator: .parquetCell(file: file.absolute, rowGroup: group, row: i, column: column.leaf,
                                                                               base64: column.base64), format: ""))
                    }
                    if cells.count > start { rows.append(start..<cells.count) }
                }
            } catch {
                problems.append(ListingProblem(file: file.absolute, reason: "row group \(group): \(error)"))
                break
            }
        }
        if nullCells > 0 {
            problems.append(ListingProblem(file: file.absolute, reason: "\(nullCells) null media cell(s) skipped", severity: .note))
        }
        // media_per_archive: rows taken from each file (gasbench samples n rows per shard).
        if let perFile = entry.mediaPerArchive, perFile >= 0, rows.count > perFile {
            var rng = SplitMix64(seed: 0, label: "parquet-rows:" + file.relative)
            rng.shuffle(&rows)
            cells = rows.prefix(perFile).flatMap { cells[$0] }
        }
        cells.sort { $0.sampleURI < $1.sampleURI }
        return (cells, problems)
    }

    /// The chosen cells of one row group of one file: a piece of a dataset's reading that needs
    /// nothing from any other (`readCells(in:of:_:)`).
    struct CellGroup: Sendable {
        struct Cell: Sendable {
            var index: Int
            var row: Int
            var column: String
            var base64: Bool
        }
        var file: String
        var group: Int
        var cells: [Cell]
    }

    /// `indices`' Parquet cells by file and row group, in file and group order; each cell's
    /// locator is read once.
    static func cellGroups(_ indices: [Int], of chosen: [Candidate]) -> [CellGroup] {
        var byFile: [String: [Int: [CellGroup.Cell]]] = [:]
        for i in indices {
            guard case let .parquetCell(file, group, row, column, base64) = chosen[i].locator else { continue }
            byFile[file, default: [:]][group, default: []].append(CellGroup.Cell(index: i, row: row, column: column, base64: base64))
        }
        return byFile.sorted { $0.key < $1.key }.flatMap { file, groups in
            groups.sorted { $0.key < $1.key }.map { CellGroup(file: file, group: $0.key, cells: $0.value) }
        }
    }

    /// Reads the chosen cells, one row group of one file at a time, handing each cell's bytes to `body`.
    /// A cell that cannot be read becomes `.failure` with the reason; a file that cannot be opened
    /// fails all of its cells. `body` gets the index in `chosen` of each cell.
    static func readCells(_ indices: [Int], of chosen: [Candidate], _ body: (Int, Result<[UInt8], ListingProblem>) throws -> Void) throws {
        for group in cellGroups(indices, of: chosen) { try readCells(in: group, body) }
    }

    /// Reads one row group's chosen cells, handing each to `body` with its index in `chosen`. A file
    /// or row group that cannot be read gives each of its cells the reason.
    static func readCells(in group: CellGroup, _ body: (Int, Result<[UInt8], ListingProblem>) throws -> Void) throws {
        let (file, cells) = (group.file, group.cells)
        let reader: ParquetReader
        do {
            reader = try ParquetReader(path: file)
        } catch {
            for cell in cells { try body(cell.index, .failure(ListingProblem(file: file, reason: "\(error)"))) }
            return
        }
        let leaves = Array(Set(cells.map(\.column))).sorted()
        let values: [ParquetColumnValues]
        do {
            values = try reader.readRowGroup(group.group, columns: leaves)
        } catch {
            for cell in cells { try body(cell.index, .failure(ListingProblem(file: file, reason: "row group \(group.group): \(error)"))) }
            return
        }
        // One binary column (the usual media column): its cells taken straight from it, without
        // a lookup by column name and a copy of the column's array per cell.
        if leaves.count == 1, values.count == 1, case let .bytes(column) = values[0] {
            for cell in cells {
                if cell.row < column.count, let bytes = column[cell.row] {
                    try body(cell.index, .success(bytes))
                } else {
                    try body(cell.index, Self.cell(values[0], row: cell.row, column: cell.column, base64: cell.base64, file: file))
                }
            }
            return
        }
        let byLeaf = Dictionary(uniqueKeysWithValues: zip(leaves, values))
        for cell in cells {
            guard let v = byLeaf[cell.column] else { continue }
            try body(cell.index, Self.cell(v, row: cell.row, column: cell.column, base64: cell.base64, file: file))
        }
    }

    static func cell(_ values: ParquetColumnValues, row: Int, column: String, base64: Bool, file: String) -> Result<[UInt8], ListingProblem> {
        switch values {
        case .bytes(let v) where row < v.count:
            guard let bytes = v[row] else { return .failure(ListingProblem(file: file, reason: "column '\(column)' is null in this row")) }
            return .success(bytes)
        case .string(let v) where row < v.count:
            guard let text = v[row] else { return .failure(ListingProblem(file: file, reason: "column '\(column)' is null in this row")) }
            let cleaned = text.hasPrefix("data:") ? String(text.drop { $0 != "," }.dropFirst()) : text
            guard base64, let data = Data(base64Encoded: cleaned, options: .ignoreUnknownCharacters), !data.isEmpty else {
                return .failure(ListingProblem(file: file, reason: "column '\(column)' holds text that is not base64-encoded media"))
            }
            return .success([UInt8](data))
        default:
            return .failure(ListingProblem(file: file, reason: "column '\(column)' has no row \(row) or is not binary"))
        }
    }
}

/// Something wrong with one file of a dataset (or a note about it), found while listing.
public struct ListingProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, note }
    public var file: String
    public var reason: String
    public var severity: Severity

    public init(file: String, reason: String, severity: Severity = .error) {
        self.file = file
        self.reason = reason
        self.severity = severity
    }

    public var description: String { "\(file): \(reason)" }
}
