import Crypto
import Foundation
import GASTestSupport
import Testing
@testable import GASNetwork

@Suite("Epistula signing and verification")
struct EpistulaTests {
    let validator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
    let generator = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())

    func verifier(capacity: Int = 1000) throws -> EpistulaVerifier {
        EpistulaVerifier(ownIdentity: generator.identity, verifier: try Ed25519KeyRing(publicKeysHex: [validator.publicKeyHex]),
                         replay: ReplayCache(capacity: capacity))
    }

    func headers(_ body: [UInt8], signedFor: String? = nil, at ms: Int64 = Epistula.nowMs(), uuid: String = UUID().uuidString,
                 signer: (any RequestSigner)? = nil) throws -> [String: String] {
        let list = try Epistula.headers(body: body, signer: signer ?? validator, signedFor: signedFor ?? generator.identity,
                                        timestampMs: ms, uuid: uuid)
        return Dictionary(list.map { ($0.0.lowercased(), $0.1) }, uniquingKeysWith: { a, _ in a })
    }

    func check(_ v: EpistulaVerifier, _ body: [UInt8], _ h: [String: String], now: Int64 = Epistula.nowMs()) -> Result<String, EpistulaRejection> {
        do throws(EpistulaRejection) { return .success(try v.verify(body: body, header: { h[$0.lowercased()] }, nowMs: now)) } catch { return .failure(error) }
    }

    func status(_ r: Result<String, EpistulaRejection>) -> Int? {
        if case let .failure(e) = r { return e.httpStatus }
        return nil
    }

    @Test("A signed body verifies and names its signer; the message is sha256(body).uuid.timestamp.signed_for")
    func roundTrip() throws {
        let body = Array(#"{"prompt":"a cat"}"#.utf8)
        let h = try headers(body, uuid: "u-1")
        #expect(try check(verifier(), body, h).get() == validator.identity)
        let message = Epistula.message(bodySHA256Hex: Epistula.bodyHash(body), uuid: "u-1", timestampMs: Int64(h["epistula-timestamp"]!)!,
                                       signedFor: generator.identity)
        #expect(String(decoding: message, as: UTF8.self).hasPrefix(Epistula.bodyHash(body) + ".u-1."))
        #expect(h["epistula-request-signature"]!.hasPrefix("0x") && h["epistula-version"] == "2")
    }

    @Test("Tampered body, wrong signed-for, unknown signer, missing header")
    func rejections() throws {
        let v = try verifier()
        let body = Array("hello".utf8)
        #expect(check(v, Array("hellO".utf8), try headers(body)) == .failure(.badSignature))
        #expect(status(check(v, body, try headers(body, signedFor: "someone-else"))) == 403)
        let stranger = Ed25519Signer(privateKey: Curve25519.Signing.PrivateKey())
        #expect(check(v, body, try headers(body, signer: stranger)) == .failure(.unknownSigner(stranger.identity)))
        var h = try headers(body)
        h["epistula-uuid"] = nil
        #expect(check(v, body, h) == .failure(.missingHeader(Epistula.uuidHeader)))
        var h2 = try headers(body)
        h2["epistula-request-signature"] = "0x" + String(repeating: "00", count: 64)
        #expect(check(v, body, h2) == .failure(.badSignature))
        var h3 = try headers(body)
        h3["epistula-version"] = "1"
        #expect(status(check(v, body, h3)) == 400)
    }

    @Test("Timestamps: ±15 s accepted, beyond rejected as stale or future (401)")
    func staleness() throws {
        let v = try verifier()
        let now = Epistula.nowMs()
        #expect(throws: Never.self) { try check(v, [], try headers([], at: now - 15_000), now: now).get() }
        #expect(throws: Never.self) { try check(v, [], try headers([], at: now + 15_000), now: now).get() }
        #expect(check(v, [], try headers([], at: now - 15_001), now: now) == .failure(.stale(deltaMs: 15_001)))
        #expect(check(v, [], try headers([], at: now + 16_000), now: now) == .failure(.stale(deltaMs: -16_000)))
        #expect(EpistulaRejection.stale(deltaMs: 20_000).httpStatus == 401)
    }

    @Test("A replayed uuid is rejected (409); only verified requests enter the replay cache")
    func replay() throws {
        let v = try verifier()
        let h = try headers([1, 2, 3], uuid: "same")
        #expect(throws: Never.self) { try check(v, [1, 2, 3], h).get() }
        #expect(check(v, [1, 2, 3], h) == .failure(.replayed("same")))
        #expect(EpistulaRejection.replayed("x").httpStatus == 409)
        // A bad signature with a fresh uuid does not poison the cache for that uuid.
        var bad = try headers([9], uuid: "fresh")
        bad["epistula-request-signature"] = "0x" + String(repeating: "11", count: 64)
        #expect(check(v, [9], bad) == .failure(.badSignature))
        #expect(throws: Never.self) { try check(v, [9], try headers([9], uuid: "fresh")).get() }
    }

    @Test("The replay cache is bounded in size and time")
    func replayCacheBounds() throws {
        let cache = ReplayCache(capacity: 2, retentionMs: 1000)
        #expect(try cache.insert("a", nowMs: 0))
        #expect(try cache.insert("b", nowMs: 10))
        #expect(try !cache.insert("a", nowMs: 20))
        #expect(throws: EpistulaRejection.replayCacheFull) { try cache.insert("c", nowMs: 30) }
        // After the retention period the old entries expire and room is made.
        #expect(try cache.insert("c", nowMs: 1_500))
        #expect(cache.count == 1)
    }

    @Test("Signer ids: ss58-shaped base58 with a checksum, round-trip to the public key")
    func signerIDs() {
        let key = Array(validator.privateKey.publicKey.rawRepresentation)
        let id = SignerID.make(publicKey: key)
        #expect(SignerID.publicKey(of: id) == key)
        var chars = Array(id)
        chars[10] = chars[10] == "a" ? "b" : "a"
        #expect(SignerID.publicKey(of: String(chars)) == nil)
        #expect(Base58.decode(Base58.encode([0, 0, 1, 2, 255])) == [0, 0, 1, 2, 255])
        #expect(Hex.decode("0x00ff10") == [0, 255, 16] && Hex.encode([0, 255, 16]) == "00ff10")
    }

    @Test("Key files: mode 0600, no overwrite without force, load round-trip")
    func keyFiles() throws {
        let dir = try TestSupport.temporaryDirectory("gas-keys")
        let path = dir + "/k.json"
        let key = KeyFile.generate()
        try key.write(to: path, force: false)
        let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(throws: KeyFileError.self) { try KeyFile.generate().write(to: path, force: false) }
        let loaded = try KeyFile.load(path: path)
        let identity = try loaded.signer().identity
        #expect(loaded.publicKey == key.publicKey && loaded.id == key.id && identity == key.id)
        try KeyFile.generate().write(to: path, force: true)
        #expect(try KeyFile.load(path: path).publicKey != key.publicKey)
    }
}
