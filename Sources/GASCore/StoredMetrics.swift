extension BinaryMetrics {
    /// Rebuilds metrics read back from storage (the ledger, metrics.parquet, an audit bundle),
    /// labelled like the stored columns and unchecked: readers compare them with computed ones.
    public init(samples: Int, tp: Int, tn: Int, fp: Int, fn: Int,
                accuracy: Double, mcc: Double, brier: Double, crossEntropy: Double, sn34: Double) {
        self.init(samples: samples, truePositives: tp, trueNegatives: tn, falsePositives: fp, falseNegatives: fn,
                  accuracy: accuracy, mcc: mcc, brier: brier, crossEntropy: crossEntropy, sn34: sn34)
    }
}
