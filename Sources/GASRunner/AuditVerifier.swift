import GASMedia

/// `gascli audit verify`: reads a bundle into memory, decodes each member once, and runs every
/// check, each on its own, so one broken member fails the checks that need it and no others.
enum AuditVerifier {
    static func verify(bundle: String, limits: ArchiveLimits) throws(AuditError) -> AuditReport {
        let contents = try BundleContents.read(bundle, limits: limits)
        let bundleSHA256: String
        do {
            bundleSHA256 = try AuditBundle.sha256(ofFile: bundle).sha256
        } catch {
            throw .unreadableBundle(bundle: bundle, reason: "\(error)")
        }
        let scratch = try TemporaryFolder(label: "gascli-verify")
        defer { scratch.remove() }
        let evidence = AuditEvidence(contents, scratch: scratch)
        let derived = evidence.rederivedScores()
        let items = [
            evidence.checksumsItem(),
            evidence.runIdentityItem(),
            evidence.manifestHashItem(),
            evidence.specItem(),
            evidence.samplesItem(),
            evidence.coverageItem(),
            evidence.predictionsItem(),
            evidence.metricsFileItem(derived),
            evidence.ledgerMetricsItem(derived),
            evidence.resultsItem(derived),
            evidence.mediaItem(),
        ]
        return AuditReport(bundle: bundle, bundleSHA256: bundleSHA256, runID: contents.runID, items: items)
    }
}
