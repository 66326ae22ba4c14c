/// Scores carried across rounds: kings per discriminator modality and generator moving averages.
/// Pure functions over values; the validator service stores their state between rounds.

/// How a discriminator lane's share is divided.
public enum DiscriminatorRule: String, Codable, Sendable, CaseIterable {
    /// The best detector of the latest round with a winner takes the whole lane.
    case winnerTakeAll = "winner_take_all"
    /// The current king and the kings before it share the lane (default 0.85 / 0.10 / 0.05).
    case kingOfTheHill = "king_of_the_hill"
}

/// One rostered miner's detector in one round, for one modality.
public struct Entrant: Sendable, Equatable, Codable {
    public var hotkey: String
    public var score: Double
    public init(hotkey: String, score: Double) {
        self.hotkey = hotkey
        self.score = score
    }
}

/// What a round did to a lane's kings.
public enum KingEvent: String, Codable, Sendable, Equatable {
    /// Nobody scored above 0: the kings are unchanged.
    case noWinner = "no_winner"
    /// The first king of the lane.
    case firstKing = "first_king"
    /// The king kept the crown (won the round, or the winner did not beat it by the margin).
    case defended
    /// A new king: the previous kings move down one place.
    case crowned
}

public enum KingOfTheHill {
    /// The round's winner: the highest score above 0. Ties go to the incumbent when it is among
    /// them, else to the smallest hotkey (byte order), so the result never depends on input order.
    public static func winner(_ entrants: [Entrant], incumbent: String?) -> Entrant? {
        let valid = entrants.filter { $0.score > 0 && $0.score.isFinite }
        guard let best = valid.map(\.score).max() else { return nil }
        let tied = valid.filter { $0.score == best }
        if let incumbent, let kept = tied.first(where: { $0.hotkey == incumbent }) { return kept }
        return tied.min { Array($0.hotkey.utf8).lexicographicallyPrecedes(Array($1.hotkey.utf8)) }
    }

    /// The kings after a round, most recent first, distinct, at most `depth` long.
    ///
    /// king_of_the_hill: the winner is crowned when there is no king, or when the king did not enter
    /// the round, or when the winner beat the king's score in this round by more than `margin`.
    /// A former king that returns to the crown moves to the front (it is not listed twice).
    /// winner_take_all: the winner always takes the crown; the history keeps only it.
    public static func advance(history: [String], entrants: [Entrant], rule: DiscriminatorRule, depth: Int,
                               margin: Double = 0) -> (history: [String], event: KingEvent, winner: Entrant?) {
        let king = history.first
        guard let w = winner(entrants, incumbent: king) else { return (history, .noWinner, nil) }
        func crown() -> [String] {
            let rest = history.filter { $0 != w.hotkey }
            return Array(([w.hotkey] + rest).prefix(max(depth, 1)))
        }
        switch rule {
        case .winnerTakeAll:
            if king == w.hotkey { return ([w.hotkey], .defended, w) }
            return ([w.hotkey], king == nil ? .firstKing : .crowned, w)
        case .kingOfTheHill:
            guard let king else { return (crown(), .firstKing, w) }
            if king == w.hotkey { return (Array(history.prefix(max(depth, 1))), .defended, w) }
            if let kingScore = entrants.first(where: { $0.hotkey == king })?.score, w.score <= kingScore + margin {
                return (Array(history.prefix(max(depth, 1))), .defended, w)
            }
            return (crown(), .crowned, w)
        }
    }

    /// Who gets which part of a lane: position i of `shares` goes to the i-th king (nil when there
    /// is none yet, and that share goes to the burn uid).
    public static func allocation(history: [String], shares: [Double]) -> [(hotkey: String?, share: Double)] {
        shares.enumerated().map { i, s in (i < history.count ? history[i] : nil, s) }
    }
}

/// A generator miner's carried score.
public struct GeneratorScoreState: Codable, Sendable, Equatable {
    public var ema: Double
    /// The last block at which a round of this hotkey had accepted media (nil: never).
    public var lastSeenBlock: Int64?
    public init(ema: Double, lastSeenBlock: Int64?) {
        self.ema = ema
        self.lastSeenBlock = lastSeenBlock
    }
}

public enum GeneratorScores {
    /// One moving-average step, GAS `update_scores`: `ema = alpha * r + (1 - alpha) * ema` for every
    /// hotkey known or rewarded (r = 0 when it has no reward this time); then, when any liveness is
    /// known, a hotkey with ema > 0 not seen within `livenessBlocks` before `block` is zeroed.
    /// No rewards at all leaves the state unchanged (GAS returns before the EMA update).
    public static func step(state: [String: GeneratorScoreState], rewards: [String: Double], seen: [String: Int64],
                            alpha: Double, block: Int64, livenessBlocks: Int64) -> [String: GeneratorScoreState] {
        guard !rewards.isEmpty else { return state }
        var next = state
        for (hotkey, s) in seen {
            let previous = next[hotkey]?.lastSeenBlock ?? Int64.min
            next[hotkey, default: GeneratorScoreState(ema: 0, lastSeenBlock: nil)].lastSeenBlock = max(previous, s)
        }
        for hotkey in Set(next.keys).union(rewards.keys) {
            var s = next[hotkey] ?? GeneratorScoreState(ema: 0, lastSeenBlock: nil)
            let r = rewards[hotkey] ?? 0
            s.ema = alpha * r + (1 - alpha) * s.ema
            next[hotkey] = s
        }
        let anyLiveness = next.values.contains { $0.lastSeenBlock != nil }
        if anyLiveness {
            for (hotkey, s) in next where s.ema > 0 {
                if (s.lastSeenBlock ?? Int64.min) < block - livenessBlocks { next[hotkey]?.ema = 0 }
            }
        }
        return next
    }
}
