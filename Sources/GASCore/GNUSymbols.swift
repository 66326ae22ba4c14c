#if canImport(Glibc)
import Glibc
#endif

/// glibc functions that Swift's Glibc module does not declare (behind `_GNU_SOURCE`, or glibc's
/// own such as `malloc_trim`): looked up at run time rather than linked, so a libc without one
/// gives nil and the caller goes without.
public enum GNU {
    /// The function named `name` as the C function type `T`, or nil where there is none.
    public static func symbol<T>(_ name: String, as type: T.Type = T.self) -> T? {
        #if canImport(Glibc)
        guard let p = dlsym(nil, name) else { return nil }  // nil == RTLD_DEFAULT
        return unsafeBitCast(p, to: T.self)
        #else
        return nil
        #endif
    }
}
