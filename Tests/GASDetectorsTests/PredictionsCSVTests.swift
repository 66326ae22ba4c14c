import Foundation
import GASCore
import Testing
@testable import GASDetectors

@Suite("Predictions CSV")
struct PredictionsCSVTests {

    func parse(_ text: String) throws(PredictionsFileError) -> [String: [Double]] {
        try parsePredictionsCSV(text: text, file: "preds.csv")
    }

    func error(_ text: String) -> PredictionsFileError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    @Test("prob_ai column, extra columns, whitespace and blank lines")
    func probAI() throws {
        let t = try parse("model,sample_id,prob_ai\nm, a ,0.25\n\nm,b,1\nm,c, 0 \n")
        #expect(t == ["a": [0.25], "b": [1], "c": [0]])
    }

    @Test("p_ai column with a BOM, CRLF line ends and no final newline")
    func pAIWithBOMAndCRLF() throws {
        let t = try parse("\u{FEFF}Sample_ID,P_AI\r\nx,0.5\r\ny,1e-3")
        #expect(t == ["x": [0.5], "y": [0.001]])
    }

    @Test("quoted probs lists, quoted ids with commas, doubled quotes and newlines")
    func quotedFields() throws {
        let csv = [
            #"sample_id,probs,note"#,
            #""a,1","[0.2, 0.8]",plain"#,
            #""say ""hi""","[0.1,0.6,0.3]","multi"#,
            #"line note""#,
            #"c,0.7,x"#,
            #"d,"0.3;0.7",x"#,
            "",
        ].joined(separator: "\r\n")
        let t = try parse(csv)
        #expect(t == ["a,1": [0.2, 0.8], "say \"hi\"": [0.1, 0.6, 0.3], "c": [0.7], "d": [0.3, 0.7]])
    }

    @Test("probs takes precedence over prob_ai")
    func precedence() throws {
        #expect(try parse("sample_id,prob_ai,probs\na,0.9,\"[0.4, 0.6]\"\n") == ["a": [0.4, 0.6]])
    }

    @Test("duplicate sample ids name every line they appear on")
    func duplicates() {
        let e = error("sample_id,prob_ai\na,0.1\nb,0.2\na,0.3\nc,0.4\na,0.5\nc,0.6\n")
        #expect(e == .duplicateSampleIDs(file: "preds.csv", duplicates: [
            .init(sampleID: "a", lines: [2, 4, 6]),
            .init(sampleID: "c", lines: [5, 7]),
        ], totalDuplicatedIDs: 2))
        #expect(e?.description.contains("'a' on lines 2, 4, 6; 'c' on lines 5, 7") == true, "\(String(describing: e))")
    }

    @Test("bad numbers name the line and the column", arguments: [
        ("sample_id,prob_ai\na,0.5\nb,abc\n", 3, "'abc' is not a number"),
        ("sample_id,prob_ai\na,1.5\n", 2, "1.5 is outside [0, 1]"),
        ("sample_id,prob_ai\na,nan\n", 2, "'nan' is not a finite number"),
        ("sample_id,prob_ai\na,\n", 2, "empty value"),
        ("x,sample_id,probs\n1,a,\"[0.2, 0.3, 0.4, 0.1]\"\n", 2, "expected a list of 1-3 probabilities, got 4 values"),
        ("x,sample_id,probs\n1,a,\"[0.2, x]\"\n", 2, "'x' is not a number (element 2)"),
        ("x,sample_id,probs\n1,a,\"[0.2, 0.8\"\n", 2, "unbalanced brackets"),
        ("sample_id,prob_ai\n\"multi\nline\",0.5\nb,-1\n", 4, "-1 is outside [0, 1]"),
    ])
    func badNumbers(_ csv: String, _ line: Int, _ reason: String) {
        guard case let .badValue(file, l, column, number, _, r)? = error(csv) else {
            Issue.record("expected badValue for \(csv.debugDescription), got \(String(describing: error(csv)))")
            return
        }
        #expect(file == "preds.csv")
        #expect(l == line)
        #expect(r == reason)
        #expect(column == "prob_ai" ? number == 2 : (column == "probs" && number == 3))
        #expect(error(csv)!.description.contains("line \(line), column \(number) '\(column)'"))
    }

    @Test("structural problems")
    func structure() {
        #expect(error("") == .missingColumns(file: "preds.csv", header: []))
        #expect(error("id,prob_ai\na,0.5\n") == .missingColumns(file: "preds.csv", header: ["id", "prob_ai"]))
        #expect(error("sample_id,score\na,0.5\n") == .missingColumns(file: "preds.csv", header: ["sample_id", "score"]))
        #expect(error("sample_id,probs\na,0.2, 0.8\n") == .malformedRow(
            file: "preds.csv", line: 2,
            reason: "the row has 3 fields but the header has 2; quote fields that contain commas, e.g. \"[0.2, 0.8]\""))
        #expect(error("sample_id,prob_ai,x\na,0.5\n") == .malformedRow(file: "preds.csv", line: 2, reason: "the row has 2 fields but the header has 3"))
        #expect(error("sample_id,prob_ai\na,0.5\n\"b,0.5\nc,0.1\n") == .malformedRow(file: "preds.csv", line: 3, reason: "a quoted field is never closed (missing \")"))
        #expect(error("sample_id,prob_ai\n \"\" ,0.5\n")?.description.contains("empty sample id") == true)
        #expect((try? parse("sample_id,prob_ai\n")) == [:], "header only is an empty table")
    }

    @Test("PredictionsFileDetector answers from the file and skips samples it lacks")
    func detectorFromFile() async throws {
        let dir = try Fixtures.tempDirectory("csv")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/preds.csv"
        try "sample_id,probs\ns0,\"[0.1, 0.9]\"\ns2,0.3\n".write(toFile: path, atomically: true, encoding: .utf8)
        let detector = PredictionsFileDetector(name: "csv", csvPath: path)
        let hello = try await detector.start()
        #expect(hello.modalities == Modality.allCases && hello.protocolVersion == 1 && hello.name == "csv")
        let r = await detector.predict(makeInputs(3))
        #expect(r == [.probabilities([0.1, 0.9]), .failure(.skipped, "no prediction for this sample in \(path)"), .probabilities([0.3])])
        await detector.stop()
    }

    @Test("PredictionsFileDetector.start() throws for duplicates, unreadable files; predict() does not")
    func detectorErrors() async throws {
        let dir = try Fixtures.tempDirectory("csv-bad")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/dupes.csv"
        try "sample_id,prob_ai\na,0.1\na,0.2\n".write(toFile: path, atomically: true, encoding: .utf8)
        let detector = PredictionsFileDetector(name: "csv", csvPath: path)
        let e = await #expect(throws: PredictionsFileError.self) { try await detector.start() }
        #expect(e?.description.contains("'a' on lines 2, 3") == true)
        let r = await detector.predict(makeInputs(1))
        #expect(r[0].failureStatus == .error && r[0].failureMessage?.contains("lines 2, 3") == true)

        let missing = PredictionsFileDetector(name: "csv", csvPath: dir + "/nope.csv")
        let e2 = await #expect(throws: PredictionsFileError.self) { try await missing.start() }
        #expect(e2?.description.hasPrefix("cannot read predictions file \(dir)/nope.csv") == true, "\(String(describing: e2))")
    }

    @Test("a pre-parsed table (e.g. from Parquet) feeds the same adapter")
    func detectorFromTable() async throws {
        let detector = PredictionsFileDetector(name: "pq", table: ["s1": [0.4, 0.6]], sourceName: "preds.parquet")
        _ = try await detector.start()
        let r = await detector.predict(makeInputs(2))
        #expect(r == [.failure(.skipped, "no prediction for this sample in preds.parquet"), .probabilities([0.4, 0.6])])
        #expect(await detector.predictionCount == 1)
    }
}
