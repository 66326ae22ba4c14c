import Foundation
import Testing
@testable import GASCore
@testable import GASSpec

@Suite("kind: generator sources, rosters and generator configs")
struct GeneratorSpecTests {
    func fixture() throws -> SpecFixture {
        let f = try SpecFixture()
        try "generators:\n  - {id: g1, url: 'http://127.0.0.1:8091', public_key: \(String(repeating: "ab", count: 32)), uid: 3}\n"
            .write(toFile: f.directory + "/roster.yaml", atomically: true, encoding: .utf8)
        try "{}".write(toFile: f.directory + "/validator.json", atomically: true, encoding: .utf8)
        return f
    }

    func spec(_ source: String) -> String {
        """
        version: 1
        round: {name: adv, seed: 3, modalities: [image]}
        sources:
          - \(source)
        detectors:
          - {name: base, adapter: builtin, model: image-baseline}
        """
    }

    @Test("A live source with every field parses; defaults are explicit")
    func live() throws {
        let f = try fixture()
        let loaded = try f.load(spec("{kind: generator, roster: roster.yaml, key: validator.json, prompts: 6, deadline: 30s, tiers: [1K, 2k], webhook: {host: 127.0.0.1, port: 0, max_body: 8MB}, verify: {min_side: 64, global_hamming: 3}}"))
        guard case let .generator(g) = loaded.spec.sources[0] else { Issue.record("not a generator source"); return }
        #expect(g.from == .live && g.prompts == 6 && g.deadlineSeconds == 30 && g.tiers == ["1K", "2K"] && g.modalities == [.image])
        #expect(g.webhook.maxBodyBytes == 8 << 20 && g.verify.minSide == 64 && g.verify.globalHamming == 3 && g.verify.samePromptHamming == 8)
        #expect(loaded.spec.sources[0].kind == .generator)
        let store = try f.load(spec("{kind: generator, from: store, window: 12h, samples: 10}"))
        guard case let .generator(s) = store.spec.sources[0] else { Issue.record("not a generator source"); return }
        #expect(s.from == .store && s.windowSeconds == 43_200 && s.samples == 10)
    }

    @Test("Errors name file:line:column: unknown keys, missing roster, bad tiers, live-only fields on store")
    func errors() throws {
        let f = try fixture()
        let e1 = f.errors(spec("{kind: generator, roster: roster.yaml, key: validator.json, promts: 3}"))
        #expect(e1.count == 1 && e1[0].line == 4 && e1[0].message.contains("did you mean 'prompts'"))
        let e2 = f.errors(spec("{kind: generator, key: validator.json}"))
        #expect(e2.contains { $0.field == "sources[0].roster" && $0.message.contains("missing required field") })
        let e3 = f.errors(spec("{kind: generator, roster: nowhere.yaml, key: validator.json, tiers: [8K]}"))
        #expect(e3.contains { $0.field == "sources[0].roster" && $0.message.contains("does not exist") })
        #expect(e3.contains { $0.field == "sources[0].tiers" && $0.message.contains("not a resolution tier") })
        let e4 = f.errors(spec("{kind: generator, from: store, roster: roster.yaml}"))
        #expect(e4.contains { $0.message.contains("only applies to 'from: live'") && $0.line == 4 && $0.column > 1 })
        let e5 = f.errors(spec("{kind: generator, roster: roster.yaml, key: validator.json, modalities: [video]}"))
        #expect(e5.contains { $0.message.contains("not among round.modalities") })
        let e6 = f.errors(spec("{kind: generatr}"))
        #expect(e6.contains { $0.message.contains("not one of real, synthetic, generator") })
        #expect(e1[0].description.hasPrefix("spec.yaml:4:"))
        // Problems of the roster the spec names are reported with the spec's, at the roster's lines.
        try "generators:\n  - {id: g1, url: 'http://127.0.0.1:1', public_key: nothex}\n".write(toFile: f.directory + "/broken.yaml", atomically: true, encoding: .utf8)
        let e7 = f.errors(spec("{kind: generator, roster: broken.yaml, key: validator.json}"))
        #expect(e7.contains { $0.file.hasSuffix("broken.yaml") && $0.line == 2 && $0.field == "generators[0].public_key" })
    }

    @Test("Rosters and generator configs report every problem with its place")
    func rosterAndConfig() throws {
        let f = try fixture()
        let roster = try RosterLoader.load(path: f.directory + "/roster.yaml")
        #expect(roster == [RosterEntry(id: "g1", url: "http://127.0.0.1:8091", publicKey: String(repeating: "ab", count: 32), hotkey: nil, uid: 3)])
        try "generators:\n  - {id: g1, url: ftp://x, public_key: zz}\n  - {id: g1, url: 'http://127.0.0.1:1', public_key: \(String(repeating: "cd", count: 32)), colour: red}\n"
            .write(toFile: f.directory + "/bad.yaml", atomically: true, encoding: .utf8)
        do {
            _ = try RosterLoader.load(path: f.directory + "/bad.yaml")
            Issue.record("a bad roster loaded")
        } catch let e as SpecErrors {
            let fields = e.errors.map(\.field)
            #expect(fields.contains("generators[0].url") && fields.contains("generators[0].public_key") && fields.contains("generators[1].id")
                    && fields.contains("generators[1].colour"))
            #expect(e.errors.allSatisfy { $0.line >= 2 })
        }
        let config = try GeneratorConfigLoader.parse(text: """
            listen: {host: 127.0.0.1, port: 0}
            key: validator.json
            validators: [\(String(repeating: "ef", count: 32))]
            backend: {kind: builtin, sizes: {1K: 256}}
            limits: {max_body: 16KB, header_timeout: 2s}
            delivery: {retries: 1, retry_delay: 500ms}
            """, file: "g.yaml", directory: f.directory)
        #expect(config.port == 0 && config.maxBodyBytes == 16 << 10 && config.headerTimeoutSeconds == 2 && config.deliveryRetries == 1)
        guard case let .builtin(sizes) = config.backend else { Issue.record("not builtin"); return }
        #expect(sizes[.image1K] == 256 && sizes[.image2K] == 2048)
        do {
            _ = try GeneratorConfigLoader.parse(text: "key: missing.json\nvalidators: [abc]\nbackend: {kind: builtin, sizes: {2K: 1000}}\n",
                                                file: "g.yaml", directory: f.directory)
            Issue.record("a bad config loaded")
        } catch let e as SpecErrors {
            #expect(e.errors.contains { $0.field == "key" && $0.line == 1 })
            #expect(e.errors.contains { $0.field == "validators" && $0.line == 2 })
            #expect(e.errors.contains { $0.field == "backend.sizes.2K" && $0.message.contains("falls in tier 1K") })
        }
    }
}
