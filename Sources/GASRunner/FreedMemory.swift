#if canImport(Glibc)
import Glibc
#endif

/// Gives memory the allocator keeps after a phase back to the system. Work spread over threads
/// leaves freed blocks in each thread's glibc arena, where they count towards the process's
/// resident size until the arena happens to reuse them; a round's peak memory is what a user
/// provisions for, so the runner hands them back between its phases.
enum FreedMemory {
    static func release() {
        #if canImport(Glibc)
        // malloc_trim is glibc's (not in the Swift Glibc module's headers): looked up, not linked.
        typealias Trim = @convention(c) (Int) -> Int32
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
            _ = unsafeBitCast(symbol, to: Trim.self)(0)
        }
        #endif
    }
}
