import Foundation
import GASCore
import Testing

/// `PlannedSample` keeps its sha256 packed, derives its media path and boxes its rarely set fields;
/// none of that may show: every property reads back what was set, and equality, hashing and JSON
/// are those of the values.
@Suite struct PlannedSampleTests {
    static let sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

    static let id = "0123456789abcdef01234567"

    static func sample(id: String = id, sha256: String = sha, format: String = "png", mediaPath: String? = nil,
                       skipReason: String? = nil, generatorFamily: String? = nil, dataset: String = "a") -> PlannedSample {
        PlannedSample(id: id, uri: "dataset://a/x.parquet#row=7", sha256: sha256, byteCount: 3,
                      dataset: dataset, sourceKind: .real, mediaType: .real, modality: .image, seed: 42, format: format,
                      mediaPath: mediaPath ?? PlannedSample.storePath(sha256: sha256, format: format),
                      skipReason: skipReason, generatorFamily: generatorFamily)
    }

    /// Samples whose values differ in one field each, covering every kept form: packed and textual
    /// sha256s, derived and given media paths, boxed fields set and not.
    static let variants: [PlannedSample] = [
        sample(),
        sample(id: "f123456789abcdef01234567"),
        sample(id: "0123456789abcdef01234568"),                // differs in the low word only
        sample(id: id.uppercased()),                            // not lowercase: kept as text
        sample(id: String(id.dropLast())),                      // 23 digits
        sample(id: id + "8"),                                   // 25 digits
        sample(id: "s1"),
        sample(id: ""),
        sample(format: "jpg"),
        sample(format: "PNG"),
        sample(format: ""),
        sample(dataset: "b"),
        sample(dataset: ""),
        sample(dataset: "caf\u{E9}"),                          // precomposed é
        sample(dataset: "cafe\u{301}"),                        // the same text decomposed: its own bytes
        sample(sha256: String(sha.reversed())),
        sample(sha256: sha.uppercased()),                       // not lowercase: kept as text
        sample(sha256: "00"),                                   // too short
        sample(sha256: String(sha.dropLast()) + "g"),           // not hex
        sample(sha256: ""),
        sample(mediaPath: "media/9f/elsewhere.png"),
        sample(mediaPath: "generated/\(sha).png"),
        sample(mediaPath: "media/9f/\(sha).jpg"),               // another format's path
        sample(mediaPath: ""),
        sample(skipReason: "unreadable image"),
        sample(generatorFamily: "sdxl"),
        sample(skipReason: "", generatorFamily: ""),
        sample(sha256: "00", mediaPath: "media/00/00.png", skipReason: "x", generatorFamily: "y"),
    ]

    @Test func everyPropertyReadsBackAsGiven() throws {
        for (sha256, format, path) in [(Self.sha, "png", PlannedSample.storePath(sha256: Self.sha, format: "png")),
                                       (Self.sha, "wav", "media/xx/\(Self.sha).wav"),
                                       ("ABC", "jpg", "media/AB/ABC.jpg"), ("", "", "")] {
            let s = Self.sample(sha256: sha256, format: format, mediaPath: path, skipReason: "why", generatorFamily: "fam")
            #expect(s.sha256 == sha256)
            #expect(s.format == format)
            #expect(s.mediaPath == path)
            #expect(s.skipReason == "why")
            #expect(s.generatorFamily == "fam")
            #expect(s.withSHA256UTF8 { Array($0) } == Array(sha256.utf8))
            #expect(s.withMediaPathUTF8 { Array($0) } == Array(path.utf8))
        }
        for name in ["a", "", "caf\u{E9}", "cafe\u{301}", "bench-synthetic-with-a-long-name"] {
            let s = Self.sample(format: name, dataset: name)
            #expect(Array(s.dataset.utf8) == Array(name.utf8))
            #expect(Array(s.format.utf8) == Array(name.utf8))
        }
        let plain = Self.sample()
        #expect(plain.mediaPath == "media/9f/\(Self.sha).png")
        #expect(plain.skipReason == nil && plain.generatorFamily == nil)
        #expect(plain.label == MediaType.real.label)
        for id in [Self.id, "ffffffffffffffffffffffff", "000000000000000000000000", "s1", Self.id.uppercased(), "", "é"] {
            let s = Self.sample(id: id)
            #expect(s.id == id)
            #expect(s.withIDUTF8 { Array($0) } == Array(id.utf8))
            #expect(SampleIDs(of: [s, s])[1] == id)
            #expect(SampleIDs(of: [s]).withUTF8(at: 0) { Array($0) } == Array(id.utf8))
            #expect(SampleIDs([id]).withUTF8(at: 0) { Array($0) } == Array(id.utf8))
        }
    }

    @Test func settersKeepTheOtherFields() {
        var s = Self.sample()
        let path = s.mediaPath
        s.format = "jpg"  // the media path was given with the sample: it stays what it was
        #expect(s.format == "jpg" && s.mediaPath == path)
        s.sha256 = "ABC"
        #expect(s.sha256 == "ABC" && s.mediaPath == path && s.format == "jpg")
        s.sha256 = Self.sha
        s.mediaPath = PlannedSample.storePath(sha256: Self.sha, format: "jpg")
        #expect(s == Self.sample(format: "jpg"))
        s.skipReason = "gone"
        #expect(s.skipReason == "gone" && s.generatorFamily == nil)
        s.generatorFamily = "sdxl"
        s.skipReason = nil
        #expect(s == Self.sample(format: "jpg", generatorFamily: "sdxl"))
        s.dataset = "other"
        #expect(s.dataset == "other" && s.format == "jpg" && s.generatorFamily == "sdxl")
        #expect(s == Self.sample(format: "jpg", generatorFamily: "sdxl", dataset: "other"))
        s.label = 1_000_000_000_000  // a tampered ledger's label is kept (clamped), for the audit to report
        #expect(s.label == Int(Int32.max))
        s.label = 0
        #expect(s.label == 0)
    }

    @Test func equalityHashingAndJSONAreThoseOfTheValues() throws {
        for (i, a) in Self.variants.enumerated() {
            for (j, b) in Self.variants.enumerated() {
                #expect((a == b) == (i == j), "variants \(i) and \(j)")
            }
            // The same values set another way (through setters) give an equal sample, hashed alike.
            var rebuilt = Self.sample(id: "x", sha256: "11", mediaPath: "x", skipReason: "z")
            rebuilt.id = a.id
            rebuilt.sha256 = a.sha256
            rebuilt.format = a.format
            rebuilt.mediaPath = a.mediaPath
            rebuilt.skipReason = a.skipReason
            rebuilt.generatorFamily = a.generatorFamily
            rebuilt.dataset = a.dataset
            #expect(rebuilt == a, "variant \(i)")
            #expect(rebuilt.hashValue == a.hashValue, "variant \(i)")
            let data = try JSONEncoder().encode(a)
            #expect(try JSONDecoder().decode(PlannedSample.self, from: data) == a, "variant \(i)")
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["sha256"] as? String == a.sha256)
            #expect(object["media_path"] as? String == a.mediaPath)
            #expect(object["id"] as? String == a.id)
            #expect(object["dataset"] as? String == a.dataset)
            #expect(object["format"] as? String == a.format)
        }
        #expect(Set(Self.variants).count == Self.variants.count)
    }

    /// A ledger's rows are read back from their bytes (`init(idUTF8:…)`): the same sample as from
    /// the strings, in every kept form, and bytes that are not UTF-8 read back as `String(decoding:)`.
    @Test func samplesReadFromBytesEqualThoseFromStrings() {
        func fromBytes(_ s: PlannedSample, id: [UInt8]? = nil, sha256: [UInt8]? = nil, mediaPath: [UInt8]? = nil) -> PlannedSample {
            let (i, h, m) = (id ?? Array(s.id.utf8), sha256 ?? Array(s.sha256.utf8), mediaPath ?? Array(s.mediaPath.utf8))
            return i.withUnsafeBufferPointer { i in
                h.withUnsafeBufferPointer { h in
                    m.withUnsafeBufferPointer { m in
                        PlannedSample(idUTF8: i, sampleURI: s.sampleURI, sha256UTF8: h, byteCount: s.byteCount, dataset: s.dataset,
                                      sourceKind: s.sourceKind, mediaType: s.mediaType, modality: s.modality, seed: s.seed,
                                      format: s.format, mediaPathUTF8: m, skipReason: s.skipReason, generatorFamily: s.generatorFamily)
                    }
                }
            }
        }
        for (i, s) in Self.variants.enumerated() {
            let read = fromBytes(s)
            #expect(read == s, "variant \(i)")
            #expect(read.id == s.id && read.sha256 == s.sha256 && read.mediaPath == s.mediaPath, "variant \(i)")
        }
        // 0xFF is never UTF-8: each field is kept as its repaired text, as the ledger's strings were.
        let bad: [UInt8] = Array(Self.id.utf8.dropLast()) + [0xFF]
        let read = fromBytes(Self.sample(), id: bad, sha256: bad, mediaPath: bad)
        let repaired = String(decoding: bad, as: UTF8.self)
        #expect(read == Self.sample(id: repaired, sha256: repaired, mediaPath: repaired))
        #expect(read.id == repaired && read.sha256 == repaired && read.mediaPath == repaired)
    }

    /// `mediaKey` stands for the media path: equal keys only for equal paths, and the samples of
    /// one stored blob (other ids, datasets, skip reasons) share a key.
    @Test func utf8CountsAreThoseOfTheText() {
        for s in Self.variants {
            #expect(s.utf8Counts.id == s.id.utf8.count && s.utf8Counts.sha256 == s.sha256.utf8.count
                    && s.utf8Counts.mediaPath == s.mediaPath.utf8.count, "\(s.id) \(s.sha256) \(s.mediaPath)")
        }
    }

    @Test func mediaKeysAreEqualExactlyForOneStoredFile() {
        for a in Self.variants {
            for b in Self.variants where a.mediaKey == b.mediaKey {
                #expect(a.mediaPath == b.mediaPath, "\(a.mediaPath) and \(b.mediaPath)")
            }
        }
        let shared = [Self.sample(), Self.sample(id: "s1"), Self.sample(dataset: "b"), Self.sample(skipReason: "x", generatorFamily: "y"),
                      Self.sample(sha256: Self.sha, mediaPath: "media/9f/\(Self.sha).png")]
        #expect(Set(shared.map(\.mediaKey)).count == 1)
        #expect(Set([Self.sample(), Self.sample(format: "jpg"), Self.sample(sha256: String(Self.sha.reversed()))].map(\.mediaKey)).count == 3)
    }

    /// A plan holds one of these per sample for the whole run; this is what keeps a million-sample
    /// round's plan small (it was 176 bytes, and a sha256 and media path of its own added about 200;
    /// then 144 with the dataset name and format as strings).
    @Test func theInlineLayoutStaysSmall() {
        #expect(MemoryLayout<PlannedSample>.stride <= 112)
    }
}
