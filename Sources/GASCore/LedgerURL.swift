import Foundation

/// Where a run's ledger lives: the run directory's own SQLite file (the default), or a shared
/// PostgreSQL database named by a URL, `postgres://user[:password]@host[:port]/database`.
///
/// Lives in GASCore so the spec loader and the store read the same rules. The password never
/// appears in `redacted`, which is what logs, messages and result files show.
public enum LedgerURL: Sendable, Hashable {
    case sqlite
    case postgres(PostgresLocation)

    public struct PostgresLocation: Sendable, Hashable {
        public var user: String?
        public var password: String?
        public var host: String
        public var port: Int
        public var database: String?

        public init(user: String?, password: String?, host: String, port: Int = 5432, database: String?) {
            self.user = user
            self.password = password
            self.host = host
            self.port = port
            self.database = database
        }

        /// `postgres://user@host:port/database`; a password shows as `***`.
        public var redacted: String {
            var text = "postgres://"
            if let user { text += user + (password == nil ? "" : ":***") + "@" }
            text += host.contains(":") ? "[\(host)]" : host
            text += ":\(port)"
            if let database { text += "/" + database }
            return text
        }
    }

    public enum ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        case malformed(String, reason: String)

        public var description: String {
            switch self {
            case let .malformed(text, reason):
                "ledger URL '\(LedgerURL.redactPassword(text))' is not valid: \(reason); write it as postgres://user@host:5432/database (password from PGPASSWORD), or 'sqlite' for the run directory's run.sqlite"
            }
        }
    }

    /// The example shown in messages.
    public static let example = "postgres://user@host:5432/database"

    public var redacted: String {
        switch self {
        case .sqlite: "sqlite"
        case let .postgres(location): location.redacted
        }
    }

    /// Parses `sqlite` or a `postgres://` / `postgresql://` URL. Query parameters other than
    /// `sslmode=disable` are refused rather than silently ignored.
    public static func parse(_ text: String) throws(ParseError) -> LedgerURL {
        let trimmed = text.trimmingWhitespace
        if trimmed == "sqlite" { return .sqlite }
        guard let schemeEnd = trimmed.range(of: "://") else {
            throw .malformed(text, reason: "it has no scheme (expected postgres://)")
        }
        let scheme = trimmed[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw .malformed(text, reason: "scheme '\(scheme)' is not supported (only postgres:// and postgresql://)")
        }
        var rest = Substring(trimmed[schemeEnd.upperBound...])
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: q)...]
            rest = rest[..<q]
        }
        var database: String?
        if let slash = rest.firstIndex(of: "/") {
            let name = try decodePercent(String(rest[rest.index(after: slash)...]), text)
            database = name.isEmpty ? nil : name
            rest = rest[..<slash]
        }
        var user: String?, password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                user = try decodePercent(String(credentials[..<colon]), text)
                password = try decodePercent(String(credentials[credentials.index(after: colon)...]), text)
            } else {
                user = try decodePercent(String(credentials), text)
            }
            if user?.isEmpty == true { user = nil }
        }
        var host = String(rest)
        var port = 5432
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw .malformed(text, reason: "an IPv6 host is missing its ']'") }
            let after = host[host.index(after: close)...]
            let inner = String(host[host.index(after: host.startIndex)..<close])
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw .malformed(text, reason: "port '\(after.dropFirst())' is not a number from 1 to 65535")
                }
                port = p
            } else if !after.isEmpty {
                throw .malformed(text, reason: "unexpected '\(after)' after the host")
            }
            host = inner
        } else if let colon = host.lastIndex(of: ":") {
            let portText = host[host.index(after: colon)...]
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw .malformed(text, reason: "port '\(portText)' is not a number from 1 to 65535")
            }
            port = p
            host = String(host[..<colon])
        }
        guard !host.isEmpty else { throw .malformed(text, reason: "it names no host") }
        if host.contains(where: { $0 == " " || $0 == "/" || $0 == "@" }) {
            throw .malformed(text, reason: "host '\(host)' is not a host name or address")
        }
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let key = parts[0], value = parts.count > 1 ? parts[1] : ""
            guard key == "sslmode" else {
                throw .malformed(text, reason: "parameter '\(key)' is not supported (only sslmode=disable)")
            }
            guard value == "disable" else {
                throw .malformed(text, reason: "sslmode=\(value) is not supported yet (TLS is not built in): use sslmode=disable on a trusted network or an SSH tunnel")
            }
        }
        return .postgres(PostgresLocation(user: user, password: password, host: host, port: port, database: database))
    }

    /// The text with any `user:password@` password replaced by `***`, for messages about a URL
    /// that did not parse.
    public static func redactPassword(_ text: String) -> String {
        guard let schemeEnd = text.range(of: "://") else { return text }
        let afterScheme = text[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? afterScheme.endIndex
        let authority = afterScheme[..<authorityEnd]
        guard let at = authority.lastIndex(of: "@"), let colon = authority[..<at].firstIndex(of: ":") else { return text }
        return String(text[..<authority.index(after: colon)]) + "***" + String(text[at...])
    }

    static func decodePercent(_ text: String, _ whole: String) throws(ParseError) -> String {
        guard text.contains("%") else { return text }
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let first = utf8.first {
            utf8 = utf8.dropFirst()
            if first == UInt8(ascii: "%") {
                guard utf8.count >= 2, let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) else {
                    throw .malformed(whole, reason: "a '%' is not followed by two hex digits")
                }
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(first)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
