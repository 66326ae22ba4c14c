import Foundation

/// Builtin models compiled into the binary, so `adapter: builtin` works from any folder.
/// The bytes are exactly `models/<name>.safetensors` in the repository (a test checks this);
/// regenerate with `gascli baseline train ... --output models/image-baseline.safetensors` (or
/// `--modality audio ... models/audio-baseline.safetensors`) and `scripts/embed-models.sh`.
public enum EmbeddedModels {
    public static let names = ["image-baseline", "audio-baseline"]

    public static func bytes(named name: String) -> [UInt8]? {
        switch name {
        case "image-baseline", "builtin/image-baseline": Data(base64Encoded: imageBaseline).map { [UInt8]($0) }
        case "audio-baseline", "builtin/audio-baseline": Data(base64Encoded: audioBaseline).map { [UInt8]($0) }
        default: nil
        }
    }

    static let imageBaseline = "2AEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmZWF0dXJlcyI6ImxhcGxhY2lhbl9tZWFuLGZsYXRfZnJhY3Rpb24sZ3JheV9zdGQsc2F0dXJhdGlvbl9tZWFuLGdyYWRpZW50X3JhdGlvLG5vaXNlX2Zsb29yLGNocm9tYV9ub2lzZV9yYXRpbyxjaHJvbWFfbm9pc2VfYmxvY2tfcDkwIiwiZm9ybWF0IjoiZ2FzY2xpLWltYWdlLWJhc2VsaW5lLXYxIiwic2FtcGxlcyI6IjE2OCIsInRyYWluZWRfb24iOiJiYXNlbGluZS10cmFpbmluZyJ9LCJiaWFzIjp7ImRhdGFfb2Zmc2V0cyI6WzAsNF0sImR0eXBlIjoiRjMyIiwic2hhcGUiOlsxXX0sIm1lYW4iOnsiZGF0YV9vZmZzZXRzIjpbNCwzNl0sImR0eXBlIjoiRjMyIiwic2hhcGUiOls4XX0sInNjYWxlIjp7ImRhdGFfb2Zmc2V0cyI6WzM2LDY4XSwiZHR5cGUiOiJGMzIiLCJzaGFwZSI6WzhdfSwid2VpZ2h0Ijp7ImRhdGFfb2Zmc2V0cyI6WzY4LDEwMF0sImR0eXBlIjoiRjMyIiwic2hhcGUiOls4XX19BLxzQFVT4jytWj4/1zAAPoahmD5g7WM+yX8qOzy1I0BqSjpAAKPLPCG3UT7yDHA9q8sYPoXrHz4weCo7uxK2Py7Pqz/SBkA/i22VPt3sjr/WimK/DfGSvglNTL9Zm3m+eumrQA=="
    static let audioBaseline = "6AEAAAAAAAB7Il9fbWV0YWRhdGFfXyI6eyJmZWF0dXJlcyI6InNwZWN0cmFsX2ZsYXRuZXNzLHplcm9fY3Jvc3NpbmdfcmF0ZSxybXNfdmFyaWF0aW9uLHNwZWN0cmFsX2NlbnRyb2lkLHNpbGVuY2VfZnJhY3Rpb24saGlnaF9iYW5kX3JhdGlvLHNwZWN0cmFsX2ZsdXgscGl0Y2hfc3RyZW5ndGgiLCJmb3JtYXQiOiJnYXNjbGktYXVkaW8tYmFzZWxpbmUtdjEiLCJzYW1wbGVzIjoiMjQiLCJ0cmFpbmVkX29uIjoiYXVkaW8tYmFzZWxpbmUtdHJhaW5pbmcifSwiYmlhcyI6eyJkYXRhX29mZnNldHMiOlswLDRdLCJkdHlwZSI6IkYzMiIsInNoYXBlIjpbMV19LCJtZWFuIjp7ImRhdGFfb2Zmc2V0cyI6WzQsMzZdLCJkdHlwZSI6IkYzMiIsInNoYXBlIjpbOF19LCJzY2FsZSI6eyJkYXRhX29mZnNldHMiOlszNiw2OF0sImR0eXBlIjoiRjMyIiwic2hhcGUiOls4XX0sIndlaWdodCI6eyJkYXRhX29mZnNldHMiOls2OCwxMDBdLCJkdHlwZSI6IkYzMiIsInNoYXBlIjpbOF19fSAgIC6qK0C2OC89e5PJPTqeZT/xGvw9QNakPtv2mT1iZAo/8ekgPwMUnjxKzgk91YRuPjvHJj3+dhY+yGU4PT7fGD6Ws5w97OrIP62frL8Mdee/+hjoP85RAMBmlge/6+QEwEgPZD4="
}
