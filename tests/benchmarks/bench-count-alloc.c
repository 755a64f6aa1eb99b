/* bench-count-alloc.c: an LD_PRELOAD interposer that counts calls to
 * malloc, calloc, realloc and the aligned allocators, and passes them on to
 * glibc. bench-mpel --allocs finds bench_alloc_count () with dlsym () and
 * takes the difference around N events. Run with G_SLICE=always-malloc so
 * that g_slice allocations are counted too (GLib 2.76 and later always
 * allocate that way).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern void *__libc_malloc (size_t size);
extern void *__libc_calloc (size_t n, size_t size);
extern void *__libc_realloc (void *ptr, size_t size);
extern void *__libc_memalign (size_t alignment, size_t size);

uint64_t bench_alloc_count (void);

static uint64_t count;

__attribute__((visibility ("default"))) uint64_t
bench_alloc_count (void)
{
  return __atomic_load_n (&count, __ATOMIC_RELAXED);
}

static inline void
counted (void)
{
  __atomic_fetch_add (&count, 1, __ATOMIC_RELAXED);
}

__attribute__((visibility ("default"))) void *
malloc (size_t size)
{
  counted ();
  return __libc_malloc (size);
}

__attribute__((visibility ("default"))) void *
calloc (size_t n,
        size_t size)
{
  counted ();
  return __libc_calloc (n, size);
}

__attribute__((visibility ("default"))) void *
realloc (void   *ptr,
         size_t  size)
{
  counted ();
  return __libc_realloc (ptr, size);
}

__attribute__((visibility ("default"))) void *
memalign (size_t alignment,
          size_t size)
{
  counted ();
  return __libc_memalign (alignment, size);
}

__attribute__((visibility ("default"))) void *
aligned_alloc (size_t alignment,
               size_t size)
{
  counted ();
  return __libc_memalign (alignment, size);
}

__attribute__((visibility ("default"))) int
posix_memalign (void   **ptr,
                size_t   alignment,
                size_t   size)
{
  void *p;

  counted ();
  p = __libc_memalign (alignment, size);
  if (p == NULL)
    return 12;  /* ENOMEM */
  *ptr = p;
  return 0;
}
