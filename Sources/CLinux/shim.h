#ifndef ARENA_CLINUX_SHIM_H
#define ARENA_CLINUX_SHIM_H

/* Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without. */

#include <stdint.h>

/* memfd_create(2), glibc 2.27: control-api keeps a large document in such an anonymous memory file (in no file
   system) to send it with sendfile(2). */
extern int memfd_create(const char *name, unsigned int flags);
#define ARENA_MFD_CLOEXEC 0x0001U

/* sync_file_range(2): a live journal starts the writeback of each chunk it writes, so the disk works while the
   batch is still being written and the batch's fsync waits only for its tail. */
extern int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);
#define ARENA_SYNC_FILE_RANGE_WRITE 0x2U

#endif
