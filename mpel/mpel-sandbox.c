/* mpel-sandbox.c: starting a worker under bubblewrap
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifdef HAVE_LIBSECCOMP
#include <seccomp.h>
#endif

#include <glib/gi18n-lib.h>

#include "mpel-sandbox-private.h"

/* MPEL_SANDBOX_STRICT runs the worker command inside bwrap, as glycin runs
 * its loaders: a new mount namespace that holds /usr (and the /bin, /lib…
 * links or directories of a merged or unmerged system) read-only, the few
 * files of /etc the dynamic linker and GLib read, a private /tmp, a new
 * /dev and /proc, and read-only the directories of the worker program, of
 * every absolute path on its command line (its modules) and of the library
 * search paths the app passes on (an uninstalled build). Every namespace is
 * new — no network, its own pids, so the pid in its HELLO is not the one
 * GSubprocess knows — and it dies with its parent. bwrap keeps descriptors
 * it was given: the socket reaches the worker as fd 3.
 *
 * Before bwrap runs, the child sets PR_SET_NO_NEW_PRIVS and rlimits on its
 * address space and CPU time, which the worker inherits; where libseccomp
 * was there at build time, bwrap also installs a seccomp filter (--seccomp)
 * that refuses the system calls a worker has no use for. With bwrap not
 * there, the worker does not start: never unconfined instead. */

static const char * const etc_files[] = {
  "/etc/ld.so.cache",
  "/etc/ld.so.conf",
  "/etc/ld.so.conf.d",
  "/etc/localtime",
};

static const char * const root_links[] = {
  "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
};

static const char * const path_variables[] = {
  "LD_LIBRARY_PATH", "GI_TYPELIB_PATH", "PYTHONPATH", "GJS_PATH",
};

/* The descriptor bwrap reads the seccomp program from (--seccomp) */
#define SECCOMP_FD 4

#ifdef HAVE_LIBSECCOMP
/* What a worker has no business doing, refused with EPERM: debugging other
 * processes, the kernel's keyring, modules and BPF, new namespaces, mounts,
 * pushing input into a terminal. The namespaces already keep most of it
 * from mattering; this narrows what a compromised worker can reach in the
 * kernel, as Flatpak's and glycin's filters do. */
static const int denied_syscalls[] = {
  SCMP_SYS (ptrace), SCMP_SYS (process_vm_readv), SCMP_SYS (process_vm_writev),
  SCMP_SYS (kcmp), SCMP_SYS (acct), SCMP_SYS (quotactl),
  SCMP_SYS (add_key), SCMP_SYS (keyctl), SCMP_SYS (request_key),
  SCMP_SYS (init_module), SCMP_SYS (finit_module), SCMP_SYS (delete_module),
  SCMP_SYS (kexec_load), SCMP_SYS (kexec_file_load), SCMP_SYS (reboot),
  SCMP_SYS (swapon), SCMP_SYS (swapoff), SCMP_SYS (bpf), SCMP_SYS (perf_event_open),
  SCMP_SYS (userfaultfd), SCMP_SYS (unshare), SCMP_SYS (setns), SCMP_SYS (mount),
  SCMP_SYS (umount2), SCMP_SYS (pivot_root), SCMP_SYS (chroot), SCMP_SYS (open_by_handle_at),
  SCMP_SYS (syslog), SCMP_SYS (uselib),
};

/* A memfd with the BPF program, for bwrap's --seccomp, or -1 with @error */
static int
build_seccomp_program (GError **error)
{
  scmp_filter_ctx ctx = seccomp_init (SCMP_ACT_ALLOW);
  int fd = -1;
  int r = 0;

  if (ctx == NULL)
    r = -ENOMEM;
  for (guint i = 0; r == 0 && i < G_N_ELEMENTS (denied_syscalls); i++)
    {
      /* Some do not exist on every architecture. */
      if (denied_syscalls[i] < 0)
        continue;
      r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), denied_syscalls[i], 0);
    }
  /* TIOCSTI: typing into the terminal the app runs in */
  if (r == 0)
    r = seccomp_rule_add (ctx, SCMP_ACT_ERRNO (EPERM), SCMP_SYS (ioctl), 1,
                          SCMP_A1 (SCMP_CMP_MASKED_EQ, 0xffffffffu, 0x5412 /* TIOCSTI */));
  if (r == 0)
    {
      fd = memfd_create ("mpel-seccomp", MFD_CLOEXEC);
      if (fd < 0)
        r = -errno;
    }
  if (r == 0)
    r = seccomp_export_bpf (ctx, fd);
  if (r == 0 && lseek (fd, 0, SEEK_SET) < 0)
    r = -errno;
  if (ctx != NULL)
    seccomp_release (ctx);

  if (r != 0)
    {
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (-r),
                   _("Could not make the sandbox’s seccomp filter: %s"), g_strerror (-r));
      return -1;
    }

  return fd;
}
#endif

/* RLIMIT_CPU counts all the CPU time of a process since it started, not
 * that of one event: a worker that has used it all is killed (SIGXCPU, then
 * SIGKILL 5 s later) like one that crashed — the event it was running
 * fails, and the loop restarts it as its restart policy says, with a new
 * allowance. So it bounds a runaway handler and recycles a busy worker
 * every so much CPU time. MPEL_SANDBOX_CPU_LIMIT sets it in seconds (0: no
 * limit); the default is an hour. */
static gboolean
cpu_limit_from_env (rlim_t  *out_limit,
                    GError **error)
{
  const char *str = g_getenv ("MPEL_SANDBOX_CPU_LIMIT");
  guint64 value = MPEL_SANDBOX_MAX_CPU_SEC;

  if (str != NULL && !g_ascii_string_to_unsigned (str, 10, 0, G_MAXUINT32, &value, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("MPEL_SANDBOX_CPU_LIMIT=%s is not a number of seconds"), str);
      return FALSE;
    }

  *out_limit = value == 0 ? RLIM_INFINITY : (rlim_t) value;
  return TRUE;
}

static void
sandbox_child_setup (gpointer user_data)
{
  rlim_t cpu_limit = (rlim_t) GPOINTER_TO_SIZE (user_data);
  struct rlimit memory = { MPEL_SANDBOX_MAX_MEMORY, MPEL_SANDBOX_MAX_MEMORY };
  struct rlimit cpu = { cpu_limit, cpu_limit == RLIM_INFINITY ? RLIM_INFINITY : cpu_limit + 5 };

  /* Between fork() and exec(): async-signal-safe calls only. A failure
   * here would leave limits unset; bwrap then still confines the rest. */
  setrlimit (RLIMIT_AS, &memory);
  setrlimit (RLIMIT_CPU, &cpu);
  prctl (PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static void
add_ro_bind (GPtrArray  *args,
             GHashTable *bound,
             const char *path)
{
  /* /usr is bound whole; / would undo the sandbox. */
  if (path == NULL || !g_path_is_absolute (path) || g_str_equal (path, "/") ||
      g_str_equal (path, "/usr") || g_str_has_prefix (path, "/usr/") ||
      g_hash_table_contains (bound, path))
    return;

  g_hash_table_add (bound, g_strdup (path));
  g_ptr_array_add (args, g_strdup ("--ro-bind-try"));
  g_ptr_array_add (args, g_strdup (path));
  g_ptr_array_add (args, g_strdup (path));
}

/* The directory of @path, resolved, when @path names an existing file */
static char *
dir_of_file (const char *path)
{
  g_autofree char *real = NULL;

  if (path == NULL || !g_path_is_absolute (path) || !g_file_test (path, G_FILE_TEST_EXISTS))
    return NULL;
  real = realpath (path, NULL);
  if (real == NULL)
    return NULL;
  if (g_file_test (real, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&real);
  return g_path_get_dirname (real);
}

static void
add_system (GPtrArray *args)
{
  g_ptr_array_add (args, g_strdup ("--ro-bind"));
  g_ptr_array_add (args, g_strdup ("/usr"));
  g_ptr_array_add (args, g_strdup ("/usr"));

  for (guint i = 0; i < G_N_ELEMENTS (root_links); i++)
    {
      g_autofree char *target = g_file_read_link (root_links[i], NULL);

      if (target != NULL)
        {
          g_ptr_array_add (args, g_strdup ("--symlink"));
          g_ptr_array_add (args, g_steal_pointer (&target));
          g_ptr_array_add (args, g_strdup (root_links[i]));
        }
      else if (g_file_test (root_links[i], G_FILE_TEST_IS_DIR))
        {
          g_ptr_array_add (args, g_strdup ("--ro-bind"));
          g_ptr_array_add (args, g_strdup (root_links[i]));
          g_ptr_array_add (args, g_strdup (root_links[i]));
        }
    }

  for (guint i = 0; i < G_N_ELEMENTS (etc_files); i++)
    {
      g_ptr_array_add (args, g_strdup ("--ro-bind-try"));
      g_ptr_array_add (args, g_strdup (etc_files[i]));
      g_ptr_array_add (args, g_strdup (etc_files[i]));
    }
}

static void
add_worker_paths (GPtrArray          *args,
                  const char * const *argv,
                  const char         *program)
{
  g_autoptr(GHashTable) bound = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *program_dir = dir_of_file (program);

  add_ro_bind (args, bound, program_dir);

  for (guint i = 1; argv[i] != NULL; i++)
    {
      g_autofree char *dir = dir_of_file (argv[i]);

      add_ro_bind (args, bound, dir);
    }

  for (guint i = 0; i < G_N_ELEMENTS (path_variables); i++)
    {
      const char *value = g_getenv (path_variables[i]);
      g_auto(GStrv) dirs = NULL;

      if (value == NULL)
        continue;
      dirs = g_strsplit (value, G_SEARCHPATH_SEPARATOR_S, -1);
      for (guint j = 0; dirs[j] != NULL; j++)
        {
          g_autofree char *dir = dir_of_file (dirs[j]);

          add_ro_bind (args, bound, dir);
        }
    }
}

/* Sets *@out_argv to the command to spawn for @argv under @sandbox, and
 * sets up @launcher for it. */
gboolean
_mpel_sandbox_prepare (MpelSandbox           sandbox,
                       const char * const   *argv,
                       GSubprocessLauncher  *launcher,
                       char               ***out_argv,
                       GError              **error)
{
  g_autoptr(GPtrArray) args = NULL;
  g_autofree char *bwrap = NULL;
  g_autofree char *program = NULL;
  int seccomp_fd = -1;
  rlim_t cpu_limit;

  if (sandbox == MPEL_SANDBOX_NONE)
    {
      *out_argv = g_strdupv ((char **) argv);
      return TRUE;
    }

  if (!cpu_limit_from_env (&cpu_limit, error))
    return FALSE;

  bwrap = g_find_program_in_path ("bwrap");
  if (bwrap == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("the strict sandbox needs bubblewrap (bwrap), which is not installed"));
      return FALSE;
    }

  program = g_path_is_absolute (argv[0]) ? g_strdup (argv[0]) : g_find_program_in_path (argv[0]);
  if (program == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("“%s” was not found"), argv[0]);
      return FALSE;
    }

#ifdef HAVE_LIBSECCOMP
  seccomp_fd = build_seccomp_program (error);
  if (seccomp_fd < 0)
    return FALSE;
#endif

  args = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (args, g_steal_pointer (&bwrap));
  g_ptr_array_add (args, g_strdup ("--unshare-all"));
  g_ptr_array_add (args, g_strdup ("--die-with-parent"));
  g_ptr_array_add (args, g_strdup ("--new-session"));
  add_system (args);
  g_ptr_array_add (args, g_strdup ("--tmpfs"));
  g_ptr_array_add (args, g_strdup ("/tmp"));
  g_ptr_array_add (args, g_strdup ("--dev"));
  g_ptr_array_add (args, g_strdup ("/dev"));
  g_ptr_array_add (args, g_strdup ("--proc"));
  g_ptr_array_add (args, g_strdup ("/proc"));
  add_worker_paths (args, argv, program);
  if (seccomp_fd >= 0)
    {
      g_subprocess_launcher_take_fd (launcher, seccomp_fd, SECCOMP_FD);
      g_ptr_array_add (args, g_strdup ("--seccomp"));
      g_ptr_array_add (args, g_strdup_printf ("%d", SECCOMP_FD));
    }
  g_ptr_array_add (args, g_strdup ("--chdir"));
  g_ptr_array_add (args, g_strdup ("/"));
  g_ptr_array_add (args, g_strdup ("--setenv"));
  g_ptr_array_add (args, g_strdup ("TMPDIR"));
  g_ptr_array_add (args, g_strdup ("/tmp"));
  g_ptr_array_add (args, g_strdup ("--"));
  g_ptr_array_add (args, g_steal_pointer (&program));
  for (guint i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (argv[i]));
  g_ptr_array_add (args, NULL);

  g_subprocess_launcher_set_child_setup (launcher, sandbox_child_setup, GSIZE_TO_POINTER ((gsize) cpu_limit), NULL);

  *out_argv = (char **) g_ptr_array_free (g_steal_pointer (&args), FALSE);
  return TRUE;
}
