import Foundation
import GASTestSupport

/// A loopback HTTP server in Python, for the JSON-RPC clock and the HTTP sink. What it answers is
/// read from a file at every request, so a test can switch it between good, garbage and errors.
final class LoopbackServer {
    let process: Process
    let port: Int
    let directory: String
    var modeFile: String { directory + "/mode" }
    var bodiesFile: String { directory + "/bodies" }
    var url: String { "http://127.0.0.1:\(port)/" }

    static let script = """
    import http.server, json, sys, time
    mode_file, bodies_file = sys.argv[1], sys.argv[2]
    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with open(bodies_file, "ab") as f:
                f.write(body + b"\\n")
            mode = open(mode_file).read().strip()
            status, out = 200, ""
            if mode.startswith("block "):
                out = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"number": hex(int(mode.split()[1])), "parentHash": "0x00"}})
            elif mode == "int-block":
                out = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"number": 77}})
            elif mode == "garbage":
                out = "<html>this is not json</html>"
            elif mode == "rpc-error":
                out = json.dumps({"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "Method not found"}})
            elif mode == "bad-number":
                out = json.dumps({"jsonrpc": "2.0", "id": 1, "result": {"number": "0xZZ"}})
            elif mode.startswith("status "):
                status, out = int(mode.split()[1]), "nope"
            elif mode == "hang":
                time.sleep(30)
            else:
                out = json.dumps({"ok": True})
            data = out.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        def log_message(self, *a):
            pass
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    print(srv.server_address[1], flush=True)
    srv.serve_forever()
    """

    init(mode: String) throws {
        directory = try TestSupport.temporaryDirectory("loopback")
        try mode.write(toFile: directory + "/mode", atomically: true, encoding: .utf8)
        try Self.script.write(toFile: directory + "/server.py", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory + "/server.py", directory + "/mode", directory + "/bodies"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else { throw TestSupportError("the loopback server did not start") }
        port = p
    }

    func set(_ mode: String) throws { try mode.write(toFile: modeFile, atomically: true, encoding: .utf8) }

    var bodies: [String] {
        ((try? String(contentsOfFile: bodiesFile, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    func stop() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// A minimal valid round spec (locally generated images, builtin detector) in a folder.
func writeMinimalSpec(in dir: String, name: String = "tiny") throws -> String {
    let path = dir + "/\(name).yaml"
    try """
    version: 1
    round: {name: \(name), seed: 1, modalities: [image]}
    sources:
      - {kind: synthetic, samples: 2, width: 32, height: 32}
    detectors:
      - {name: base, adapter: builtin, model: image-baseline}
    """.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}
