import Crypto
import Foundation

public enum KeyFileError: Error, CustomStringConvertible {
    case exists(path: String)
    case unreadable(path: String, reason: String)
    case invalid(what: String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .exists(path): "\(path) already exists; pass --force to overwrite it (the old key is lost)"
        case let .unreadable(path, reason): "cannot read key file \(path): \(reason)"
        case let .invalid(what): "invalid key: \(what)"
        case let .cannotWrite(path, reason): "cannot write key file \(path): \(reason)"
        }
    }
}

/// A key pair file (JSON, mode 0600):
/// `{"scheme": "ed25519", "private_key": hex, "public_key": hex, "id": signer id, "note": ...}`.
/// `id` is what requests carry in `Epistula-Signed-By`; see `SignerID` (ss58-shaped, not ss58).
public struct KeyFile: Codable, Sendable {
    public var scheme: String
    public var privateKey: String
    public var publicKey: String
    public var id: String
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case scheme, id, note
        case privateKey = "private_key", publicKey = "public_key"
    }

    public static func generate() -> KeyFile {
        let key = Curve25519.Signing.PrivateKey()
        let pub = Array(key.publicKey.rawRepresentation)
        return KeyFile(scheme: "ed25519", privateKey: Hex.encode(key.rawRepresentation), publicKey: Hex.encode(pub),
                       id: SignerID.make(publicKey: pub),
                       note: "id is an ss58-shaped identifier of the Ed25519 public key, NOT a real ss58 address")
    }

    public func write(to path: String, force: Bool) throws {
        let fm = FileManager.default
        if fm.fileExists(atPath: path) && !force { throw KeyFileError.exists(path: path) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self) + Data("\n".utf8)
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? fm.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        // Create with 0600 before any byte of the key is written.
        let temporary = path + ".partial-\(ProcessInfo.processInfo.processIdentifier)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw KeyFileError.cannotWrite(path: path, reason: String(cString: strerror(errno))) }
        let written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fchmod(fd, 0o600)
        close(fd)
        guard written == data.count else {
            unlink(temporary)
            throw KeyFileError.cannotWrite(path: path, reason: "short write")
        }
        guard rename(temporary, path) == 0 else {
            unlink(temporary)
            throw KeyFileError.cannotWrite(path: path, reason: String(cString: strerror(errno)))
        }
    }

    public static func load(path: String) throws -> KeyFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KeyFileError.unreadable(path: path, reason: "missing or not readable; make one with 'gascli keys new -o \(path)'")
        }
        let file: KeyFile
        do { file = try JSONDecoder().decode(KeyFile.self, from: data) } catch {
            throw KeyFileError.unreadable(path: path, reason: "not a gascli key file (\(error))")
        }
        guard file.scheme == "ed25519" else { throw KeyFileError.invalid(what: "scheme '\(file.scheme)' (this gascli signs with ed25519)") }
        _ = try file.signer()
        return file
    }

    public func signer() throws -> Ed25519Signer {
        guard let bytes = Hex.decode(privateKey), bytes.count == 32 else { throw KeyFileError.invalid(what: "private_key is not 64 hex characters") }
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
        guard Hex.encode(key.publicKey.rawRepresentation) == publicKey.lowercased() else {
            throw KeyFileError.invalid(what: "public_key does not belong to private_key")
        }
        return Ed25519Signer(privateKey: key)
    }
}
