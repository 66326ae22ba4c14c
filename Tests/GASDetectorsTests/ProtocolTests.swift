import Foundation
import GASCore
import Testing
@testable import GASDetectors

@Suite("Line protocol and JSON")
struct ProtocolTests {

    @Test("requests are valid JSON with escaped strings and exact 64-bit seeds")
    func encodeRequest() throws {
        let items = [
            DetectorInput(sampleID: "a\"b\\c\n\t\u{01}é✓🙂", path: "/x/y z.png", modality: .image, seed: UInt64.max),
            DetectorInput(sampleID: "v", path: "/v.mp4", modality: .video, seed: 0),
            DetectorInput(sampleID: "s", path: "/s.wav", modality: .audio, seed: 7),
        ]
        let line = DetectorProtocol.encodeRequest(batch: 42, items: items)
        #expect(line.last == 0x0A)
        #expect(!line.dropLast().contains(0x0A), "one line only")
        let text = String(decoding: line, as: UTF8.self)
        #expect(text.contains("\"seed\":18446744073709551615"))
        #expect(text.contains(#""id":"a\"b\\c\n\t\u0001\u00e9\u2713\ud83d\ude42""#), "\(text)")
        #expect(line.allSatisfy { $0 < 0x80 }, "requests are ASCII-only")

        // Foundation's parser agrees.
        let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        #expect(object["batch"] as? Int == 42)
        let parsed = object["items"] as! [[String: Any]]
        #expect(parsed.map { $0["id"] as? String } == items.map(\.sampleID))
        #expect(parsed.map { $0["modality"] as? String } == ["image", "video", "audio"])
        #expect(parsed[0]["path"] as? String == "/x/y z.png")

        // And so does ours.
        let mine = try MiniJSON.parse(line)
        #expect(mine["items"]?.arrayValue?.first?["id"]?.stringValue == items[0].sampleID)
    }

    @Test("the JSON reader handles escapes, surrogate pairs, numbers and Python's NaN/Infinity")
    func parser() throws {
        let v = try MiniJSON.parse(Array(#" {"a": [1, -2.5e3, 0, true, false, null], "s": "x\u00e9\ud83d\ude00\"\\\/\b\f\n\r\t", "n": [NaN, Infinity, -Infinity]} "#.utf8))
        #expect(v["a"] == .array([.number(1), .number(-2500), .number(0), .bool(true), .bool(false), .null]))
        #expect(v["s"] == .string("xé😀\"\\/\u{08}\u{0C}\n\r\t"))
        let n = try #require(v["n"]?.arrayValue)
        #expect(n[0].numberValue?.isNaN == true && n[1] == .number(.infinity) && n[2] == .number(-.infinity))
        #expect(try MiniJSON.parse(Array("\"\\ud800x\"".utf8)) == .string("\u{FFFD}x"), "lone surrogate is replaced")
    }

    @Test("the JSON reader rejects malformed input and bounds nesting depth", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "-", "+1", "\"abc", "\"a\u{01}b\"", "tru", "{\"a\":1} x",
        "[1 2]", "'single'", "\"\\x\"", "nan", "{1: 2}",
    ])
    func parserRejects(_ input: String) {
        #expect(throws: JSONParseError.self) { try MiniJSON.parse(Array(input.utf8)) }
    }

    @Test("deeply nested input is refused instead of overflowing the stack")
    func depthLimit() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try MiniJSON.parse(Array(deep.utf8)) }
        let ok = String(repeating: "[", count: 20) + String(repeating: "]", count: 20)
        #expect((try? MiniJSON.parse(Array(ok.utf8))) != nil)
    }

    @Test("decode: hello, response and violations")
    func decode() throws {
        let hello = try DetectorProtocol.decode(Array(#"{"hello": {"protocol": 1, "name": "x", "modalities": ["image", "audio", "smell"]}}"#.utf8))
        #expect(hello == .hello(DetectorHello(name: "x", protocolVersion: 1, modalities: [.image, .audio]), unknownModalities: ["smell"]))
        let response = try DetectorProtocol.decode(Array(#"{"batch": 3, "results": []}"#.utf8))
        #expect(response == .response(batch: 3, results: []))

        func violation(_ s: String) -> String {
            do {
                _ = try DetectorProtocol.decode(Array(s.utf8))
                return "no error"
            } catch {
                return error.description
            }
        }
        #expect(violation("[1,2]").hasPrefix("protocol violation: expected a JSON object, got a list, line starts with: [1,2]"))
        #expect(violation(#"{"log": "hi"}"#).hasPrefix(#"protocol violation: unknown message with keys ["log"]"#))
        #expect(violation(#"{"batch": "7", "results": []}"#).contains("\"batch\" must be an integer"))
        #expect(violation(#"{"batch": 7}"#).contains("no \"results\" list"))
        #expect(violation(#"{"hello": {"name": "x"}}"#).contains("no \"protocol\" number"))
        #expect(violation(#"{"hello": {"protocol": 1}}"#).contains("no \"modalities\" list"))
        let long = String(repeating: "é", count: 300)
        let m = violation(long)
        #expect(m.hasSuffix("line starts with: " + String(repeating: "é", count: 120) + "…"), "\(m)")
    }

    @Test("results are matched by id; input ids repeated in a batch all get the answer")
    func assign() throws {
        let items = makeInputs(2) + [DetectorInput(sampleID: "s0", path: "/p", modality: .image, seed: 9)]
        let results = try #require(try MiniJSON.parse(Array(#"[{"id": "s1", "probs": [0.9]}, {"id": "s0", "probs": [0.1]}]"#.utf8)).arrayValue)
        let (r, w) = DetectorProtocol.assign(results: results, to: items, batch: 1)
        #expect(r == [.probabilities([0.1]), .probabilities([0.9]), .probabilities([0.1])])
        #expect(w.isEmpty)
    }

    @Test("glibc extras are found (pipe2, posix_spawn chdir and closefrom)")
    func glibcSymbols() {
        #expect(GNU.pipe2 != nil)
        #expect(GNU.addChdir != nil)
        #expect(GNU.addClosefrom != nil)
    }

    @Test("display escaping keeps messages on one line")
    func displayEscaping() {
        #expect(DetectorProtocol.escapeForDisplay(Array("a\nb\u{0}c\"".utf8)) == #"a\nb\u0000c\""#)
        #expect(DetectorProtocol.escapeForDisplay([0xFF, 0x41]) == "\u{FFFD}A")
        #expect(formatSeconds(1) == "1s" && formatSeconds(1.5) == "1.5s" && formatSeconds(0.25) == "0.25s")
    }

    @Test("the stderr ring keeps only the most recent bytes")
    func ring() {
        let ring = StderrRing(capacity: 10)
        for chunk in ["hello\n", "world\n", "0123456789abcdef\n", "x"] {
            Array(chunk.utf8).withUnsafeBufferPointer { ring.append($0) }
        }
        #expect(String(decoding: ring.snapshot(), as: UTF8.self) == "89abcdef\nx")
        #expect(ring.count == 10 && ring.totalBytes == 30)
        #expect(ring.tail() == "89abcdef | x")
    }
}
