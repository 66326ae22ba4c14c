import Foundation
import Synchronization
import Testing
@testable import GASCore

/// The one parallel map the runner and the scorers share: results come back in index order
/// whatever order the threads finish in, and of several failures the one with the lowest index is
/// thrown, so a run reports the same error on any machine.
@Suite struct ParallelMapTests {
    struct Failed: Error, Equatable { let index: Int }

    @Test func resultsComeBackInIndexOrder() {
        // Uneven work: early indices take longest, so they finish last on any number of cores.
        let squares = Parallel.map(200) { i -> Int in
            var x = 0
            for k in 0..<(200 - i) * 500 { x &+= k & 1 }
            return i * i + (x & 0)
        }
        #expect(squares == (0..<200).map { $0 * $0 })
        #expect(Parallel.map(0) { $0 }.isEmpty)
        #expect(Parallel.map(1) { $0 + 41 } == [41])
    }

    @Test func theFirstErrorByIndexIsThrown() {
        let ran = Mutex(Set<Int>())
        #expect(throws: Failed(index: 3)) {
            _ = try Parallel.map(64) { i throws(Failed) -> Int in
                ran.withLock { _ = $0.insert(i) }
                if i == 3 || i == 40 || i == 7 { throw Failed(index: i) }
                return i
            }
        }
        #expect(ran.withLock { $0.count } == 64, "every index runs; the error is thrown once all are done")
        #expect(throws: Failed(index: 0)) { _ = try Parallel.map(1) { i throws(Failed) -> Int in throw Failed(index: i) } }
    }
}
