#ifndef GAS_CARCHIVE_SHIM_H
#define GAS_CARCHIVE_SHIM_H

#include <archive.h>
#include <archive_entry.h>

/* libarchive's AE_IF* constants are C cast macros that Swift cannot import;
 * these helpers classify an entry without them. */

static inline int gas_archive_entry_is_regular(struct archive_entry *e) {
    return (archive_entry_filetype(e) & AE_IFMT) == AE_IFREG;
}

static inline int gas_archive_entry_is_directory(struct archive_entry *e) {
    return (archive_entry_filetype(e) & AE_IFMT) == AE_IFDIR;
}

static inline int gas_archive_entry_is_symlink(struct archive_entry *e) {
    return (archive_entry_filetype(e) & AE_IFMT) == AE_IFLNK;
}

/* A hardlink entry is reported with the type of its target plus a link name. */
static inline int gas_archive_entry_is_hardlink(struct archive_entry *e) {
    return archive_entry_hardlink(e) != 0;
}

/* Devices, FIFOs and sockets: never data, always refused. */
static inline int gas_archive_entry_is_special(struct archive_entry *e) {
    unsigned int t = (unsigned int)(archive_entry_filetype(e) & AE_IFMT);
    return t == (unsigned int)AE_IFCHR || t == (unsigned int)AE_IFBLK ||
           t == (unsigned int)AE_IFIFO || t == (unsigned int)AE_IFSOCK;
}

/* Writing: AE_IFREG is a cast macro Swift cannot import, so the writer marks an
 * entry as a regular file through this helper. */
static inline void gas_archive_entry_set_regular(struct archive_entry *e) {
    archive_entry_set_filetype(e, AE_IFREG);
}

#endif
