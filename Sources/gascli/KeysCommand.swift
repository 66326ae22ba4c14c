import ArgumentParser
import Foundation
import GASNetwork

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Make and inspect the Ed25519 key pairs that sign validator and generator requests.",
        subcommands: [New.self, Show.self])

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write a new key pair file (JSON, mode 0600).",
            discussion: """
                Example:
                  gascli keys new -o keys/validator.json
                  gascli keys new -o keys/generator.json --force

                The file holds the Ed25519 private key (hex), the public key (hex) and an id: the
                Epistula-Signed-By value of requests signed with it. The id is shaped like an ss58
                address but is NOT one (see docs/generators.md). Put the public key into a generator
                config's 'validators' list or a roster's 'public_key'. An existing file is kept unless
                --force is given.
                """)

        @Option(name: .shortAndLong, help: "Where to write the key file.")
        var output: String

        @Flag(help: "Overwrite an existing key file (its key is lost).")
        var force = false

        func run() async throws {
            let key = KeyFile.generate()
            do {
                try key.write(to: output, force: force)
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
            print("wrote \(output) (mode 0600)")
            print("public key: \(key.publicKey)")
            print("id:         \(key.id)")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a key file's public key and id (never the private key).",
            discussion: """
                Example:
                  gascli keys show keys/validator.json
                """)

        @Argument(help: "A key file made by 'gascli keys new'.")
        var file: String

        func run() async throws {
            do {
                let key = try KeyFile.load(path: file)
                print("public key: \(key.publicKey)")
                print("id:         \(key.id)")
            } catch {
                Diagnostics.printError("\(error)")
                throw ExitCode(1)
            }
        }
    }
}
