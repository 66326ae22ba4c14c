import Crypto
import Foundation
import GASCore
import GASMedia
import GASSpec

/// Progress of a long step: what is being done, how far, out of how many.
public typealias ProgressCallback = @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void

/// What collection had to leave out, for the plan and the user: datasets that could not be used
/// at all, and notes about individual files.
public final class CollectionReport: @unchecked Sendable {
    private let lock = NSLock()
    private var _skipped: [SkippedDataset] = []
    private var _warnings: [String] = []

    public init() {}

    public var skippedDatasets: [SkippedDataset] { lock.withLock { _skipped } }
    public var warnings: [String] { lock.withLock { _warnings } }

    func skip(_ dataset: String, _ reason: String) { lock.withLock { _skipped.append(SkippedDataset(name: dataset, reason: reason)) } }
    func warn(_ message: String) { lock.withLock { _warnings.append(message) } }
}

/// Turns a spec's sources into concrete, stored, hashed samples: the sample list of a plan.
public enum SampleCollector {
    /// `generatorMedia[i]` is the accepted generator-miner media for `spec.sources[i]` (a
    /// `kind: generator` source): collected live before planning, or read from the generator store.
    public static func collect(spec: RoundSpec, catalog: Catalog, store: MediaStore,
                               generatorMedia: [Int: [GeneratorMedia]] = [:],
                               archiveLimits: ArchiveLimits = .default, imageLimits: ImageLimits = .default,
                               report: CollectionReport? = nil,
                               progress: ProgressCallback = { _, _, _ in }) throws -> [PlannedSample] {
        var samples: [PlannedSample] = []
        var seen = SampleIDSet()
        func isNew(_ sample: PlannedSample) -> Bool { seen.insert(idOf: sample) }
        func append(_ s: PlannedSample) {
            if isNew(s) { samples.append(s) }
        }

        for source in spec.sources {
            guard case let .real(real) = source else { continue }
            let eligible = catalog.entries.filter { spec.round.modalities.contains($0.modality) }
            let matched = eligible.filter { entry in real.datasets.contains { NamePattern.matches($0, entry.name) } }
                .sorted { $0.name < $1.name }
            guard !matched.isEmpty else {
                throw DataError.noDatasetsMatch(patterns: real.datasets, available: eligible.map(\.name).sorted(),
                                                modalities: spec.round.modalities.map(\.rawValue))
            }
            let quotas = real.sampling == .weighted
                ? Sampler.weightedQuotas(total: real.samples ?? 0, datasets: matched)
                : Sampler.quotas(total: real.samples, datasets: matched)
            // Datasets are listed side by side (one per core), then read in pieces spread over every
            // core (`readDatasets`). What each gives is taken in `matched` order, so samples,
            // warnings and skipped datasets come out as from one thread.
            var collected = try Parallel.map(matched.count) { i -> DatasetCollection in
                let entry = matched[i]
                return try listDataset(entry, count: quotas[entry.name] ?? nil, spec: spec, archiveLimits: archiveLimits)
            }
            try readDatasets(&collected, entries: matched, roundSeed: spec.round.seed, store: store, archiveLimits: archiveLimits,
                             imageLimits: imageLimits, progress: progress)
            var usable = 0
            var unusable: [String] = []
            seen.reserveCapacity(more: collected.reduce(0) { $0 + $1.samples.count })  // once: growing rehashes every id taken
            for (i, entry) in matched.enumerated() {
                for warning in collected[i].warnings { report?.warn(warning) }
                if let problem = collected[i].unusable {
                    report?.skip(entry.name, problem)
                    unusable.append("\(entry.name): \(problem)")
                    continue
                }
                usable += 1
                if samples.isEmpty {
                    samples.reserveCapacity(collected[i...].reduce(0) { $0 + $1.samples.count })
                }
                // Each sample is moved out of the dataset's list into the plan's: copying a million
                // samples retained every string of each, and freeing the copies released them again.
                for j in 0..<collected[i].samples.count {
                    guard let sample = collected[i].samples.take(j) else { continue }
                    if isNew(sample) { samples.append(sample) }
                }
                collected[i].samples = CollectedSamples(count: 0)
            }
            if usable == 0 && !unusable.isEmpty {
                throw DataError.unreadable(path: matched.map(\.path).joined(separator: ", "),
                                           reason: "no dataset of this real source could be read: \(unusable.joined(separator: "; "))")
            }
        }

        for (index, source) in spec.sources.enumerated() {
            guard case let .synthetic(synthetic) = source else { continue }
            if synthetic.modality != .image {
                for i in 0..<synthetic.samples {
                    progress("generating synthetic \(synthetic.modality.rawValue)", i + 1, synthetic.samples)
                    var rng = SplitMix64(seed: spec.round.seed, label: "synthetic:\(index):\(i)")
                    let seed = rng.next()
                    let bytes: [UInt8], uri: String, format: String
                    if synthetic.modality == .audio {
                        let duration = synthetic.duration ?? 2.0
                        bytes = WAVAudio.encodePCM16(ProceduralAudio.generate(seed: seed, duration: duration))
                        uri = "synthetic://\(synthetic.generator)/\(index)/\(i)?seed=\(seed)&duration=\(duration)"
                        format = "wav"
                    } else {
                        let frames = synthetic.frames ?? 16
                        bytes = try ProceduralVideo.generate(seed: seed, width: synthetic.width, height: synthetic.height, frames: frames)
                        uri = "synthetic://\(synthetic.generator)/\(index)/\(i)?seed=\(seed)&size=\(synthetic.width)x\(synthetic.height)&frames=\(frames)"
                        format = "avi"
                    }
                    append(try storeGenerated(bytes: bytes, format: format, modality: synthetic.modality, uri: uri,
                                              dataset: "synthetic-\(synthetic.generator)", roundSeed: spec.round.seed, store: store,
                                              family: synthetic.generator))
                }
                continue
            }
            let semiCount = Int((Double(synthetic.samples) * synthetic.semisyntheticShare).rounded(.toNearestOrEven))
            let pureCount = synthetic.samples - semiCount
            for i in 0..<pureCount {
                progress("generating synthetic images", i + 1, synthetic.samples)
                var rng = SplitMix64(seed: spec.round.seed, label: "synthetic:\(index):\(i)")
                let seed = rng.next()
                let image = ProceduralImages.generate(seed: seed, width: synthetic.width, height: synthetic.height)
                let uri = "synthetic://\(synthetic.generator)/\(index)/\(i)?seed=\(seed)&size=\(synthetic.width)x\(synthetic.height)"
                append(try storeGenerated(image, uri: uri, dataset: "synthetic-\(synthetic.generator)", mediaType: .synthetic,
                                          roundSeed: spec.round.seed, store: store, family: synthetic.generator))
            }
            guard semiCount > 0 else { continue }
            let bases = samples.filter { $0.sourceKind == .real && $0.modality == .image && $0.skipReason == nil && $0.mediaType == .real }
                .sorted { $0.id < $1.id }
            guard !bases.isEmpty else { throw DataError.noRealImagesForSemisynthetic }
            for i in 0..<semiCount {
                progress("generating semisynthetic images", pureCount + i + 1, synthetic.samples)
                var rng = SplitMix64(seed: spec.round.seed, label: "semisynthetic:\(index):\(i)")
                let base = bases[rng.nextInt(below: bases.count)]
                let seed = rng.next()
                let baseBytes = try readFile(store.absolutePath(base.mediaPath))
                let baseImage = try ImageCodec.decode(baseBytes, limits: imageLimits)
                let altered = ProceduralImages.alterRegion(of: baseImage, seed: seed)
                let uri = "synthetic://semisynthetic-\(synthetic.generator)/\(index)/\(i)?base=\(base.id)&seed=\(seed)"
                append(try storeGenerated(altered, uri: uri, dataset: "semisynthetic-\(synthetic.generator)", mediaType: .semisynthetic,
                                          roundSeed: spec.round.seed, store: store, family: synthetic.generator))
            }
        }
        for (index, source) in spec.sources.enumerated() {
            guard case .generator = source else { continue }
            let media = (generatorMedia[index] ?? []).filter { spec.round.modalities.contains($0.modality) }.sorted { $0.uri < $1.uri }
            for (i, m) in media.enumerated() {
                progress("adding generator media", i + 1, media.count)
                let id = sampleID(uri: m.uri, sha256: m.sha256)
                var skip: String?
                if !FileManager.default.fileExists(atPath: store.absolutePath(m.mediaPath)) {
                    skip = "generator media \(m.mediaPath) is missing from the media store"
                }
                append(PlannedSample(id: id, uri: m.uri, sha256: m.sha256, byteCount: m.bytes, dataset: "generator:\(m.generator)",
                                     sourceKind: .generator, mediaType: .synthetic, modality: m.modality,
                                     seed: SampleSeed.derive(roundSeed: spec.round.seed, sampleID: id), format: m.format,
                                     mediaPath: m.mediaPath, skipReason: skip, generatorFamily: m.generator))
            }
        }
        if let share = spec.augment?.robustnessShare {
            let bases = samples.filter { $0.modality == .image && $0.skipReason == nil && RobustnessAugmentation.selects(seed: $0.seed, share: share) }
            for (i, base) in bases.enumerated() {
                progress("robustness augmentations", i + 1, bases.count)
                let image = try ImageCodec.decode(try readFile(store.absolutePath(base.mediaPath)), limits: imageLimits)
                let bytes = try RobustnessAugmentation.apply(image)
                let (sha, relative) = try store.put(bytes, format: "jpg")
                let uri = RobustnessAugmentation.uri(base: base.id)
                let id = sampleID(uri: uri, sha256: sha)
                append(PlannedSample(id: id, uri: uri, sha256: sha, byteCount: bytes.count, dataset: base.dataset, sourceKind: base.sourceKind,
                                     mediaType: base.mediaType, modality: .image, seed: SampleSeed.derive(roundSeed: spec.round.seed, sampleID: id),
                                     format: "jpg", mediaPath: relative, generatorFamily: base.generatorFamily))
            }
        }
        return samples
    }

    /// What one dataset of a real source gave: its samples in chosen order, or why it could not
    /// be used at all, and the notes about its files.
    struct DatasetCollection: Sendable {
        /// In the dataset's sampled order; nil where a candidate gave no sample.
        var samples = CollectedSamples(count: 0)
        var unusable: String?
        var warnings: [String] = []
        /// The candidates sampled from the listing, until they are read into `samples`.
        var chosen: [Candidate] = []
    }

    /// Lists and samples one catalog dataset: its `chosen` candidates, or why it cannot be used.
    static func listDataset(_ entry: CatalogEntry, count: Int?, spec: RoundSpec, archiveLimits: ArchiveLimits) throws -> DatasetCollection {
        var result = DatasetCollection()
        let listing = try DatasetListing.listDetailed(entry, limits: archiveLimits)
        for problem in listing.problems {
            result.warnings.append("dataset '\(entry.name)': \(problem.severity == .note ? "note: " : "skipped file ")\(problem)")
        }
        let candidates = listing.candidates
        guard !candidates.isEmpty else {
            // Unreadable shards or no media column: skip the dataset with the reason and go on.
            if let problem = listing.problems.first(where: { $0.severity == .error }) {
                result.unusable = problem.description
                return result
            }
            throw DataError.emptyDataset(name: entry.name, path: entry.path, format: entry.sourceFormat)
        }
        result.chosen = Sampler.select(candidates, count: count, seed: spec.round.seed, dataset: entry.name)
        return result
    }

    /// Reads, stores and validates the chosen candidates of every usable dataset into its
    /// `samples` (by position in `chosen`; a candidate that could not be stored leaves nil). The
    /// datasets' pieces (`readUnits`: a row group, an archive, the plain files) are spread over
    /// every core, so a single large dataset, or the last one to finish, is not read by one core
    /// alone. The first error, in dataset and piece order, is thrown once the pieces under way are
    /// done; pieces not yet begun are left unread once one has failed.
    static func readDatasets(_ collected: inout [DatasetCollection], entries: [CatalogEntry], roundSeed: UInt64, store: MediaStore,
                             archiveLimits: ArchiveLimits, imageLimits: ImageLimits, progress: ProgressCallback) throws {
        let chosen = collected.map { $0.unusable == nil ? $0.chosen : [] }
        let pieces = chosen.indices.flatMap { d in readUnits(of: chosen[d]).map { (dataset: d, unit: $0) } }
        let counters = chosen.indices.map { ReadCounter(label: "reading \(entries[$0].name)", total: chosen[$0].count) }
        let shared = SharedValidation()
        let outputs = chosen.map { CollectedSamples(count: $0.count) }
        let failed = FailureFlag()
        _ = try Parallel.map(pieces.count) { p in
            guard !failed.isSet else { return }  // a full disk or an unsafe archive: no more reading
            let (d, unit) = pieces[p]
            let entry = entries[d], list = chosen[d], out = outputs[d].slots, counter = counters[d]
            var validated = ValidationCache(shared: shared)
            var unreported = 0
            func report() {
                guard unreported > 0 else { return }
                counter.add(unreported) { progress(counter.label, $0, counter.total) }
                unreported = 0
            }
            defer { report() }
            do {
                try read(unit, of: list, dataset: entry.name, limits: archiveLimits) { index, bytes in
                    out[index] = try storeCandidate(bytes: bytes, candidate: list[index], entry: entry, roundSeed: roundSeed, store: store,
                                                    imageLimits: imageLimits, validated: &validated)
                    unreported += 1
                    if unreported == 256 { report() }
                }
            } catch {
                failed.set()
                throw error
            }
        }
        for d in collected.indices {
            collected[d].samples = outputs[d]
            collected[d].chosen = []
        }
    }

    /// A dataset's samples by position in its `chosen` candidates, filled from the pieces read
    /// side by side (each writes its own positions) and moved out one at a time (`take`) into the
    /// plan: a copy would retain every string of a sample, and an array made from the buffer
    /// would hold a second copy of them all for a moment.
    final class CollectedSamples: @unchecked Sendable {
        let slots: UnsafeMutableBufferPointer<PlannedSample?>
        var count: Int { slots.count }

        init(count: Int) {
            slots = .allocate(capacity: count)
            slots.initialize(repeating: nil)
        }

        deinit {
            slots.deinitialize()
            slots.deallocate()
        }

        /// Sample `i`, moved out (nil from then on).
        func take(_ i: Int) -> PlannedSample? { slots[i].take() }
    }

    /// Set once any piece of reading has failed.
    final class FailureFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    /// A dataset's read count, added to from the pieces being read side by side.
    final class ReadCounter: @unchecked Sendable {
        private let lock = NSLock()
        private var done = 0
        let label: String, total: Int

        init(label: String, total: Int) {
            (self.label, self.total) = (label, total)
        }

        /// Adds `count` and hands the new count to `report`, under the lock, so the counts reported
        /// only go forward.
        func add(_ count: Int, report: (Int) -> Void) {
            lock.withLock {
                done += count
                report(done)
            }
        }
    }

    /// The first 24 hex digits of sha256("<uri>\n<sha256>"), hashed from the strings' bytes in place.
    public static func sampleID(uri: String, sha256: String) -> String {
        sampleID(uri: SampleURI(uri), sha256: sha256)
    }

    public static func sampleID(uri: SampleURI, sha256: String) -> String {
        var sha256 = sha256
        return sha256.withUTF8 { idDigest(uri: uri, sha256Hex: UnsafeRawBufferPointer($0)) }
            .withUnsafeBytes { MediaStore.hex($0.bindMemory(to: UInt8.self), count: 12) }
    }

    /// The digest whose first 12 bytes are the sample id (`sampleID` is their hex): the sha256 of
    /// the URI, a newline and the media's sha256 in lowercase hex.
    static func idDigest(uri: SampleURI, sha256Hex: UnsafeRawBufferPointer) -> SHA256.Digest {
        var hasher = SHA256()
        uri.forEachPiece { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: "\n")) { hasher.update(bufferPointer: $0) }
        hasher.update(bufferPointer: sha256Hex)
        return hasher.finalize()
    }

    /// Stores a candidate's bytes and makes its sample. `bytes` is `.failure` when they could not be
    /// read at all (a Parquet cell that is null or not base64): the sample is then the raw reason,
    /// stored as a tiny text blob so it still has an identity, and skipped with that reason.
    static func storeCandidate(bytes result: Result<[UInt8], ListingProblem>, candidate: Candidate, entry: CatalogEntry, roundSeed: UInt64,
                               store: MediaStore, imageLimits: ImageLimits) throws -> PlannedSample {
        var validated = ValidationCache()
        return try storeCandidate(bytes: result, candidate: candidate, entry: entry, roundSeed: roundSeed, store: store,
                                  imageLimits: imageLimits, validated: &validated)
    }

    /// Media validation results by content (sha256, format, modality): the same bytes decode the
    /// same way, so rows sharing media are decoded once.
    struct ValidationCache {
        struct Key: Hashable {
            var blob: PresentBlobs.Key
            var modality: Modality
        }
        var results: [Key: MediaValidation.Problem?] = [:]
        /// The results of the pieces read beside this one, asked when this cache has none.
        var shared: SharedValidation?

        /// The problem of the media `key` names, from a cache or else from `validate`.
        mutating func problem(_ key: Key, validate: () -> MediaValidation.Problem?) -> MediaValidation.Problem? {
            if let known = results[key] { return known }
            if let known = shared?.problem(key) {
                results[key] = .some(known)
                return known
            }
            let problem = validate()
            results[key] = .some(problem)
            shared?.note(key, problem)
            return problem
        }
    }

    /// Validation results shared by the pieces of reading that run side by side (each piece keeps
    /// its own cache and asks this one on a miss: rows sharing media are still decoded once or so).
    final class SharedValidation: @unchecked Sendable {
        private let lock = NSLock()
        private var results: [ValidationCache.Key: MediaValidation.Problem?] = [:]
        func problem(_ key: ValidationCache.Key) -> MediaValidation.Problem?? { lock.withLock { results[key] } }
        func note(_ key: ValidationCache.Key, _ problem: MediaValidation.Problem?) { lock.withLock { results[key] = .some(problem) } }
    }

    static func storeCandidate(bytes result: Result<[UInt8], ListingProblem>, candidate: Candidate, entry: CatalogEntry, roundSeed: UInt64,
                               store: MediaStore, imageLimits: ImageLimits, validated: inout ValidationCache) throws -> PlannedSample {
        var skip: String?
        let bytes: [UInt8]
        switch result {
        case .success(let b): bytes = b
        case .failure(let problem):
            bytes = Array("unreadable: \(problem.reason)\n".utf8)
            skip = "unreadable \(entry.modality.rawValue) (\(candidate.uri)): \(problem.reason)"
        }
        var format = candidate.format
        if format.isEmpty { format = skip == nil ? (MediaFormat.sniff(bytes) ?? "bin") : "txt" }
        let digest = try store.store(bytes, format: format)
        if skip == nil {
            let key = ValidationCache.Key(blob: PresentBlobs.Key(digest: digest, format: format), modality: entry.modality)
            let problem = validated.problem(key) {
                MediaValidation.problem(bytes: bytes, format: format, modality: entry.modality, imageLimits: imageLimits)
            }
            skip = problem.map { "unreadable \($0.kind) (\(candidate.uri)): \($0.reason)" }
        }
        return sample(storedAs: digest, uri: candidate.sampleURI, byteCount: bytes.count, dataset: entry.name, sourceKind: .real,
                      mediaType: entry.mediaType, modality: entry.modality, roundSeed: roundSeed, format: format, skipReason: skip,
                      generatorFamily: entry.generatorFamily)
    }

    /// The sample of a blob the media store holds (`digest` as `store` gave it), made from the
    /// digests' bytes: their hex is written only on the stack, for the id's hash and the seed.
    static func sample(storedAs digest: SHA256.Digest, uri: SampleURI, byteCount: Int, dataset: String, sourceKind: SourceKind,
                       mediaType: MediaType, modality: Modality, roundSeed: UInt64, format: String, skipReason: String? = nil,
                       generatorFamily: String?) -> PlannedSample {
        digest.withUnsafeBytes { sha256 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 64) { hex in
                MediaStore.writeHex(sha256, into: hex)
                return idDigest(uri: uri, sha256Hex: UnsafeRawBufferPointer(hex)).withUnsafeBytes { id in
                    MediaStore.writeHex(UnsafeRawBufferPointer(rebasing: id[0..<12]), into: hex)
                    let seed = SampleSeed.derive(roundSeed: roundSeed, sampleIDUTF8: UnsafeBufferPointer(rebasing: hex[0..<24]))
                    return PlannedSample(idDigest: id, sampleURI: uri, sha256Digest: sha256, byteCount: byteCount, dataset: dataset,
                                         sourceKind: sourceKind, mediaType: mediaType, modality: modality, seed: seed, format: format,
                                         skipReason: skipReason, generatorFamily: generatorFamily)
                }
            }
        }
    }

    static func storeGenerated(_ image: RGBImage, uri: String, dataset: String, mediaType: MediaType, roundSeed: UInt64,
                               store: MediaStore, family: String) throws -> PlannedSample {
        let png = try ImageCodec.encodePNG(image)
        return sample(storedAs: try store.store(png, format: "png"), uri: SampleURI(uri), byteCount: png.count, dataset: dataset,
                      sourceKind: .synthetic, mediaType: mediaType, modality: .image, roundSeed: roundSeed, format: "png",
                      generatorFamily: family)
    }

    static func storeGenerated(bytes: [UInt8], format: String, modality: Modality, uri: String, dataset: String, roundSeed: UInt64,
                               store: MediaStore, family: String) throws -> PlannedSample {
        return sample(storedAs: try store.store(bytes, format: format), uri: SampleURI(uri), byteCount: bytes.count, dataset: dataset,
                      sourceKind: .synthetic, mediaType: .synthetic, modality: modality, roundSeed: roundSeed, format: format,
                      generatorFamily: family)
    }

    /// A piece of a dataset's reading that needs nothing from any other, so pieces of several
    /// datasets can be read side by side: its plain files, one archive (read in one pass), or the
    /// chosen cells of one Parquet row group.
    enum ReadUnit: Sendable {
        case files([Int])
        case archive(path: String, members: [String: Int])
        case parquet(ParquetSource.CellGroup)
    }

    /// The pieces of reading `chosen`, in the order `forEachBytes` reads them: files, archives
    /// (by path), Parquet row groups (by file and group).
    static func readUnits(of chosen: [Candidate]) -> [ReadUnit] {
        var files: [Int] = []
        var byArchive: [String: [String: Int]] = [:]  // archive -> member -> index
        var cells: [Int] = []
        for index in chosen.indices {
            switch chosen[index].locator {
            case .file: files.append(index)
            case let .archiveMember(archive, member): byArchive[archive, default: [:]][member] = index
            case .parquetCell: cells.append(index)
            }
        }
        return (files.isEmpty ? [] : [.files(files)])
            + byArchive.sorted { $0.key < $1.key }.map { ReadUnit.archive(path: $0.key, members: $0.value) }
            + ParquetSource.cellGroups(cells, of: chosen).map(ReadUnit.parquet)
    }

    /// Reads one piece's candidates and hands their bytes to `body` one at a time, with each one's
    /// index in `chosen` (no more than one archive member or row group is held at once).
    static func read(_ unit: ReadUnit, of chosen: [Candidate], dataset: String, limits: ArchiveLimits,
                     _ body: (Int, Result<[UInt8], ListingProblem>) throws -> Void) throws {
        switch unit {
        case let .files(indices):
            for index in indices {
                guard case let .file(path) = chosen[index].locator else { continue }
                try body(index, .success(try readFile(path)))
            }
        case let .archive(archive, members):
            do {
                let reader = try ArchiveReader(path: archive, limits: limits)
                try reader.forEachEntry { entry, readData in
                    guard entry.kind == .regular, let index = members[entry.path] else { return }
                    try body(index, .success(try readData()))
                }
            } catch let error as MediaError {
                throw DataError.unsafeArchive(dataset: dataset, reason: error.description)
            }
        case let .parquet(group):
            try ParquetSource.readCells(in: group, body)
        }
    }

    /// Reads the chosen candidates' bytes and hands them to `body` one at a time, piece by piece
    /// (`readUnits`). `body` gets each candidate's index in `chosen` with it.
    static func forEachBytes(of chosen: [Candidate], dataset: String, limits: ArchiveLimits,
                             _ body: (Int, Result<[UInt8], ListingProblem>) throws -> Void) throws {
        for unit in readUnits(of: chosen) {
            try read(unit, of: chosen, dataset: dataset, limits: limits, body)
        }
    }

    /// The chosen candidates' bytes in memory (small datasets and tests).
    static func readBytes(of chosen: [Candidate], dataset: String, limits: ArchiveLimits) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        try forEachBytes(of: chosen, dataset: dataset, limits: limits) { index, bytes in
            if case .success(let b) = bytes { result[chosen[index].uri] = b }
        }
        return result
    }

    static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "the file is missing or not readable")
        }
        return [UInt8](data)
    }
}
