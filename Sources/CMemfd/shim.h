#ifndef ARENA_CMEMFD_SHIM_H
#define ARENA_CMEMFD_SHIM_H

/* memfd_create(2), in glibc since 2.27. Its header declares it only under _GNU_SOURCE, which Swift's Glibc
   module is built without, so it is declared here. control-api keeps large documents in such an anonymous
   memory file (in no file system) to send them with sendfile(2). */
extern int memfd_create(const char *name, unsigned int flags);

#define ARENA_MFD_CLOEXEC 0x0001U

#endif
