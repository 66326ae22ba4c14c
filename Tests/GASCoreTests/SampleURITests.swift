import Foundation
import GASCore
import Testing

/// A split URI must behave as its whole text in every comparison: plans hash, sort and sample the
/// same however the planner split their URIs.
@Suite struct SampleURITests {
    /// Whole URIs, including non-ASCII ones, a decomposed é (e + U+0301) and a tail that would
    /// start with a combining mark.
    static let texts = [
        "dataset://a/x.parquet#row=1", "dataset://a/x.parquet#row=10", "dataset://a/x.parquet#row=9",
        "dataset://a/x.parquet#row=9&column=image", "dataset://a/x.parquetz#row=1", "dataset://a/x.parque#row=1",
        "dataset://a/y.parquet#row=2", "dataset://b/x.parquet#row=1", "dataset://a/x.tar#dir/img.png",
        "dataset://a/x.tar#dir/imgé.png", "dataset://a/x.tar#dir/ime\u{301}.png", "dataset://a/x.tar#dir/imf.png",
        "dataset://a/x.tar#\u{301}.png", "dataset://a/x.tar#", "dataset://a/x.tar", "dataset://a/café.tar#a.png",
        "dataset://a/cafe\u{301}.tar#a.png", "synthetic://gen/0/1?seed=5", "",
        // Split after the "e", ordering by tails would put the first before the second (U+0301 <
        // U+1161); the whole texts order the other way (the first composes to é).
        "dataset://a/x.tar#e\u{301}.png", "dataset://a/x.tar#e\u{1161}.png",
    ]

    /// Every way of splitting each text into head and tail.
    static func splits(_ text: String) -> [SampleURI] {
        // At every scalar: every character boundary, and inside characters made of several scalars.
        var result = [SampleURI(text)]
        for k in 0...text.unicodeScalars.count {
            let scalars = Array(text.unicodeScalars)
            var head = String.UnicodeScalarView(), tail = String.UnicodeScalarView()
            head.append(contentsOf: scalars[..<k])
            tail.append(contentsOf: scalars[k...])
            result.append(SampleURI(head: String(head), tail: String(tail)))
        }
        return result
    }

    @Test func textEqualityHashingAndOrderAreThoseOfTheWholeURI() {
        let all = Self.texts.flatMap { t in Self.splits(t).map { (t, $0) } }
        for (text, uri) in all {
            #expect(uri.description == text)
            for prefix in ["dataset://a/", "dataset://a/x.parquet#row=1", "synthetic:", "dataset://a/cafe", ""] {
                #expect(uri.hasPrefix(prefix) == text.utf8.starts(with: prefix.utf8), "\(uri.head)|\(uri.tail) \(prefix)")
            }
        }
        var checked = 0
        for (a, x) in all {
            for (b, y) in all {
                #expect((x == y) == (a == b), "\(x.head)|\(x.tail) == \(y.head)|\(y.tail)")
                #expect((x < y) == (a < b), "\(x.head)|\(x.tail) < \(y.head)|\(y.tail)")
                if x == y { #expect(x.hashValue == y.hashValue) }
                checked += 1
            }
        }
        #expect(checked > 100_000)
    }

    @Test func theSplitterKeepsTheTextAndSharesHeads() {
        var splitter = SampleURISplitter()
        for text in Self.texts {
            #expect(splitter.split(text).description == text)
        }
        let a = splitter.split("dataset://a/x.parquet#row=1"), b = splitter.split("dataset://a/y.parquet#row=2"),
            c = splitter.split("dataset://a/x.parquet#row=123456")
        #expect(a.head == "dataset://a/x.parquet#" && a.tail == "row=1" && c.tail == "row=123456" && b.tail == "row=2")
        #expect(a.head == c.head)
    }

    @Test func aPlannedSampleEncodesItsURIWhole() throws {
        let split = PlannedSample(id: "abc", sampleURI: SampleURI(head: "dataset://a/x.parquet#", tail: "row=7"), sha256: "00", byteCount: 3,
                                  dataset: "a", sourceKind: .real, mediaType: .real, modality: .image, seed: 1, format: "png", mediaPath: "m")
        let whole = PlannedSample(id: "abc", uri: "dataset://a/x.parquet#row=7", sha256: "00", byteCount: 3,
                                  dataset: "a", sourceKind: .real, mediaType: .real, modality: .image, seed: 1, format: "png", mediaPath: "m")
        #expect(split == whole && split.uri == whole.uri)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = try encoder.encode(split)
        #expect(try encoder.encode(whole) == data)
        #expect(String(decoding: data, as: UTF8.self).contains("\"uri\":\"dataset:\\/\\/a\\/x.parquet#row=7\""))
        #expect(try JSONDecoder().decode(PlannedSample.self, from: data) == whole)
    }
}
