import Foundation
import GASCore
import GASMedia
import GASSpec

/// Progress of a long step: what is being done, how far, out of how many.
public typealias ProgressCallback = @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void

/// Turns a spec's sources into concrete, stored, hashed samples: the sample list of a plan.
public enum SampleCollector {
    /// `generatorMedia[i]` is the accepted generator-miner media for `spec.sources[i]` (a
    /// `kind: generator` source): collected live before planning, or read from the generator store.
    public static func collect(spec: RoundSpec, catalog: Catalog, store: MediaStore,
                               generatorMedia: [Int: [GeneratorMedia]] = [:],
                               archiveLimits: ArchiveLimits = .default, imageLimits: ImageLimits = .default,
                               progress: ProgressCallback = { _, _, _ in }) throws -> [PlannedSample] {
        var samples: [PlannedSample] = []
        var seen: Set<String> = []
        func append(_ s: PlannedSample) {
            if seen.insert(s.id).inserted { samples.append(s) }
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
            let quotas = Sampler.quotas(total: real.samples, datasets: matched)
            for entry in matched {
                let candidates = try DatasetListing.list(entry, limits: archiveLimits)
                guard !candidates.isEmpty else {
                    throw DataError.emptyDataset(name: entry.name, path: entry.path, format: entry.sourceFormat)
                }
                let chosen = Sampler.select(candidates, count: quotas[entry.name] ?? nil, seed: spec.round.seed, dataset: entry.name)
                let loaded = try readBytes(of: chosen, dataset: entry.name, limits: archiveLimits)
                for (i, candidate) in chosen.enumerated() {
                    progress("reading \(entry.name)", i + 1, chosen.count)
                    guard let bytes = loaded[candidate.uri] else { continue }
                    append(try storeCandidate(bytes: bytes, candidate: candidate, entry: entry, roundSeed: spec.round.seed,
                                     store: store, imageLimits: imageLimits))
                }
            }
        }

        for (index, source) in spec.sources.enumerated() {
            guard case let .synthetic(synthetic) = source else { continue }
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
        return samples
    }

    public static func sampleID(uri: String, sha256: String) -> String {
        String(MediaStore.sha256Hex(Array("\(uri)\n\(sha256)".utf8)).prefix(24))
    }

    static func storeCandidate(bytes: [UInt8], candidate: Candidate, entry: CatalogEntry, roundSeed: UInt64,
                      store: MediaStore, imageLimits: ImageLimits) throws -> PlannedSample {
        let (sha, relative) = try store.put(bytes, format: candidate.format)
        let id = sampleID(uri: candidate.uri, sha256: sha)
        var skip: String?
        if entry.modality == .image {
            do {
                _ = try ImageCodec.decode(bytes, limits: imageLimits)
            } catch {
                skip = "unreadable image (\(candidate.uri)): \(error)"
            }
        }
        return PlannedSample(id: id, uri: candidate.uri, sha256: sha, byteCount: bytes.count, dataset: entry.name,
                             sourceKind: .real, mediaType: entry.mediaType, modality: entry.modality,
                             seed: SampleSeed.derive(roundSeed: roundSeed, sampleID: id), format: candidate.format,
                             mediaPath: relative, skipReason: skip, generatorFamily: entry.generatorFamily)
    }

    static func storeGenerated(_ image: RGBImage, uri: String, dataset: String, mediaType: MediaType, roundSeed: UInt64,
                               store: MediaStore, family: String) throws -> PlannedSample {
        let png = try ImageCodec.encodePNG(image)
        let (sha, relative) = try store.put(png, format: "png")
        let id = sampleID(uri: uri, sha256: sha)
        return PlannedSample(id: id, uri: uri, sha256: sha, byteCount: png.count, dataset: dataset, sourceKind: .synthetic,
                             mediaType: mediaType, modality: .image, seed: SampleSeed.derive(roundSeed: roundSeed, sampleID: id),
                             format: "png", mediaPath: relative, generatorFamily: family)
    }

    /// Reads the chosen candidates' bytes: plain files directly, archive members in one pass per archive.
    static func readBytes(of chosen: [Candidate], dataset: String, limits: ArchiveLimits) throws -> [String: [UInt8]] {
        var result: [String: [UInt8]] = [:]
        var byArchive: [String: [String: String]] = [:]  // archive -> member -> uri
        for candidate in chosen {
            switch candidate.locator {
            case let .file(path):
                result[candidate.uri] = try readFile(path)
            case let .archiveMember(archive, member):
                byArchive[archive, default: [:]][member] = candidate.uri
            }
        }
        for (archive, members) in byArchive.sorted(by: { $0.key < $1.key }) {
            do {
                let reader = try ArchiveReader(path: archive, limits: limits)
                try reader.forEachEntry { entry, readData in
                    guard entry.kind == .regular, let uri = members[entry.path] else { return }
                    result[uri] = try readData()
                }
            } catch let error as MediaError {
                throw DataError.unsafeArchive(dataset: dataset, reason: error.description)
            }
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
