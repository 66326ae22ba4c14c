import Crypto
import Foundation

/// Signs Epistula messages. The scheme is pluggable: GAS uses sr25519 (Substrate keys), which
/// swift-crypto does not provide; `Ed25519Signer` is the implementation here, and an sr25519
/// signer only has to conform to this protocol (and `SignatureVerifier`).
public protocol RequestSigner: Sendable {
    /// The signer's id as sent in `Epistula-Signed-By`.
    var identity: String { get }
    func sign(_ message: [UInt8]) throws -> [UInt8]
}

/// Verifies Epistula signatures of known signers.
public protocol SignatureVerifier: Sendable {
    /// True when `identity` is a signer this verifier knows (and accepts).
    func knows(_ identity: String) -> Bool
    func isValid(signature: [UInt8], message: [UInt8], signer identity: String) -> Bool
}

public struct Ed25519Signer: RequestSigner {
    public let privateKey: Curve25519.Signing.PrivateKey
    public let identity: String

    public init(privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
        self.identity = SignerID.make(publicKey: Array(privateKey.publicKey.rawRepresentation))
    }

    public func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try privateKey.signature(for: message))
    }

    public var publicKeyHex: String { Hex.encode(Array(privateKey.publicKey.rawRepresentation)) }
}

/// An allow-list of Ed25519 public keys; signers not on it are unknown (and rejected).
public struct Ed25519KeyRing: SignatureVerifier {
    let keys: [String: Curve25519.Signing.PublicKey]

    /// Keys as hex strings (64 characters); invalid ones throw.
    public init(publicKeysHex: [String]) throws {
        var keys: [String: Curve25519.Signing.PublicKey] = [:]
        for hex in publicKeysHex {
            guard let bytes = Hex.decode(hex), bytes.count == 32 else { throw KeyFileError.invalid(what: "public key '\(hex)' is not 64 hex characters") }
            let key = try Curve25519.Signing.PublicKey(rawRepresentation: bytes)
            keys[SignerID.make(publicKey: bytes)] = key
        }
        self.keys = keys
    }

    public var identities: [String] { keys.keys.sorted() }

    public func knows(_ identity: String) -> Bool { keys[identity] != nil }

    public func isValid(signature: [UInt8], message: [UInt8], signer identity: String) -> Bool {
        guard let key = keys[identity] else { return false }
        return key.isValidSignature(signature, for: message)
    }
}

/// Signer ids: base58 (Bitcoin alphabet) of `0x2a ‖ public key ‖ first 2 bytes of sha256("GASID" ‖ 0x2a ‖ public key)`.
///
/// This is shaped like an ss58 address but is NOT ss58: real ss58 checksums with blake2b-512 over
/// "SS58PRE", which swift-crypto lacks, and the key is Ed25519, not sr25519. It only has to be a
/// stable, printable id of a public key with a typo check.
public enum SignerID {
    public static let prefix: UInt8 = 0x2a

    public static func make(publicKey: [UInt8]) -> String {
        let body = [prefix] + publicKey
        let check = Array(SHA256.hash(data: Array("GASID".utf8) + body)).prefix(2)
        return Base58.encode(body + check)
    }

    /// An id holds 35 bytes: at most 48 base58 characters. Longer text is refused before
    /// decoding, whose cost grows with the square of the length (a fuzzing finding).
    public static let maxLength = 64

    /// The public key inside an id, when its checksum holds.
    public static func publicKey(of id: String) -> [UInt8]? {
        guard id.utf8.count <= maxLength, let bytes = Base58.decode(id), bytes.count == 35, bytes[0] == prefix else { return nil }
        let key = Array(bytes[1..<33])
        return make(publicKey: key) == id ? key : nil
    }
}

enum Base58 {
    static let alphabet = Array("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var digits: [UInt8] = [0]
        for byte in bytes {
            var carry = Int(byte)
            for i in 0..<digits.count {
                carry += Int(digits[i]) << 8
                digits[i] = UInt8(carry % 58)
                carry /= 58
            }
            while carry > 0 { digits.append(UInt8(carry % 58)); carry /= 58 }
        }
        let zeros = bytes.prefix { $0 == 0 }.count
        var out = [UInt8](repeating: alphabet[0], count: zeros)
        var trimmed = digits
        while trimmed.count > 1 && trimmed.last == 0 { trimmed.removeLast() }
        if !(bytes.allSatisfy { $0 == 0 }) { out += trimmed.reversed().map { alphabet[Int($0)] } }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) -> [UInt8]? {
        var bytes: [UInt8] = [0]
        for c in text.utf8 {
            guard let value = alphabet.firstIndex(of: c) else { return nil }
            var carry = value
            for i in 0..<bytes.count {
                carry += Int(bytes[i]) * 58
                bytes[i] = UInt8(carry & 0xff)
                carry >>= 8
            }
            while carry > 0 { bytes.append(UInt8(carry & 0xff)); carry >>= 8 }
        }
        let zeros = text.utf8.prefix { $0 == alphabet[0] }.count
        while bytes.count > 1 && bytes.last == 0 { bytes.removeLast() }
        let body = text.utf8.allSatisfy({ $0 == alphabet[0] }) ? [] : Array(bytes.reversed())
        return [UInt8](repeating: 0, count: zeros) + body
    }
}

public enum Hex {
    static let digits = Array("0123456789abcdef".utf8)

    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 0x0f)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var s = Substring(text)
        if s.hasPrefix("0x") || s.hasPrefix("0X") { s = s.dropFirst(2) }
        guard s.utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count / 2)
        var high: UInt8?
        for c in s.utf8 {
            let v: UInt8
            switch c {
            case 48...57: v = c - 48
            case 97...102: v = c - 87
            case 65...70: v = c - 55
            default: return nil
            }
            if let h = high { out.append(h << 4 | v); high = nil } else { high = v }
        }
        return out
    }
}
