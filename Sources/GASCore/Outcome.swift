/// The single, final answer for one (sample, detector) pair, as committed to the ledger.
public struct DetectorOutcome: Codable, Sendable, Equatable {
    public var sampleID: String
    public var detector: String
    public var status: OutcomeStatus
    /// The detector's raw class probabilities (ok outcomes only).
    public var probs: [Double]?
    public var pAI: Double?
    public var predicted: Int?
    public var error: String?
    /// Batch wall time divided by batch size, in milliseconds.
    public var latencyMs: Double
    public var batch: Int

    public init(sampleID: String, detector: String, status: OutcomeStatus, probs: [Double]? = nil, pAI: Double? = nil,
                predicted: Int? = nil, error: String? = nil, latencyMs: Double = 0, batch: Int = 0) {
        self.sampleID = sampleID
        self.detector = detector
        self.status = status
        self.probs = probs
        self.pAI = pAI
        self.predicted = predicted
        self.error = error
        self.latencyMs = latencyMs
        self.batch = batch
    }

    /// Builds the outcome from a detector's result, validating the probabilities.
    public init(sample: String, detector: String, result: DetectorResult, latencyMs: Double, batch: Int) {
        switch result {
        case let .probabilities(probs):
            if let p = BinaryProbability.pAI(probs) {
                self.init(sampleID: sample, detector: detector, status: .ok, probs: probs, pAI: p,
                          predicted: BinaryProbability.predictedLabel(pAI: p), latencyMs: latencyMs, batch: batch)
            } else {
                self.init(sampleID: sample, detector: detector, status: .error,
                          error: "invalid probabilities \(probs): expected 1 to 3 values in [0, 1]", latencyMs: latencyMs, batch: batch)
            }
        case let .failure(status, message):
            self.init(sampleID: sample, detector: detector, status: status == .ok ? .error : status,
                      error: message, latencyMs: latencyMs, batch: batch)
        }
    }
}
