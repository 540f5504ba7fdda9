// Starts task processes with posix_spawn (clone with CLONE_VM|CLONE_VFORK in glibc): unlike fork, which Node's
// child_process uses on Linux, it copies no page tables, so a start costs the same whatever the spawning process holds
// and the child has no copy of them to tear down at exec.
//
//   spawn(file, argv, envPairs, cwd) -> [pid, stdoutFd, stderrFd] | -errno
//     The child runs in cwd, in a process group of its own, stdin from /dev/null, stdout and stderr into new pipes
//     whose read ends are returned (close-on-exec), no other descriptor, default signal dispositions, empty signal mask.
//     A file without '/' is looked up on the PATH of envPairs (else /usr/bin:/bin), relative entries against cwd; an
//     executable file without a #! line runs through /bin/sh, as with execvp.
//     0 when an argument is not a string or holds a NUL byte.
//   reap(pid) -> undefined while it runs | [exitCode, signalNumber] once it ended (exitCode -1 when killed)
//   kill(pid, signalNumber) -> 0 | errno: kill(2) without the exception Node's process.kill makes of ESRCH
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if !defined(__GLIBC__)
#error "needs glibc (posix_spawn_file_actions_addclosefrom_np); child_process is used instead"
#elif !__GLIBC_PREREQ(2, 34)
#error "needs glibc 2.34 or later (posix_spawn_file_actions_addclosefrom_np); child_process is used instead"
#endif

#define DEFAULT_PATH "/usr/bin:/bin"

/** A copy of a JS string; *bad is set when it is not a string or holds a NUL byte. */
static char *copy_string(napi_env env, napi_value v, int *bad) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) {
    *bad = 1;
    return NULL;
  }
  char *s = malloc(len + 1);
  if (s == NULL) {
    *bad = 1;
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  if (strlen(s) != len) *bad = 1;
  return s;
}

/** A NULL-terminated copy of a JS array of strings. */
static char **copy_strings(napi_env env, napi_value array, int *bad) {
  uint32_t n = 0;
  if (napi_get_array_length(env, array, &n) != napi_ok) {
    *bad = 1;
    return NULL;
  }
  char **out = calloc(n + 1, sizeof(char *));
  if (out == NULL) {
    *bad = 1;
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value e;
    napi_get_element(env, array, i, &e);
    out[i] = copy_string(env, e, bad);
    if (out[i] == NULL) break;
  }
  return out;
}

static void free_strings(char **a) {
  if (a == NULL) return;
  for (char **p = a; *p; p++) free(*p);
  free(a);
}

static const char *path_of(char **envp) {
  for (char **p = envp; *p; p++)
    if (strncmp(*p, "PATH=", 5) == 0) return *p + 5;
  return DEFAULT_PATH;
}

/** posix_spawn, and as execvp does for an executable file that is not a program (no #! line): /bin/sh runs it. */
static int start(pid_t *pid, const char *file, posix_spawn_file_actions_t *fa, posix_spawnattr_t *at, char **argv,
                 char **envp) {
  int rc = posix_spawn(pid, file, fa, at, argv, envp);
  if (rc != ENOEXEC) return rc;
  size_t n = 0;
  while (argv[n] != NULL) n++;
  char **script = calloc(n + 2, sizeof(char *));
  if (script == NULL) return ENOMEM;
  script[0] = "/bin/sh";
  script[1] = (char *)file;
  for (size_t i = 1; i < n; i++) script[i + 1] = argv[i];
  rc = posix_spawn(pid, "/bin/sh", fa, at, script, envp);
  free(script);
  return rc;
}

/**
 * execvp's search on the child's PATH: the first entry holding an executable regular file is started; a file found
 * but not executable gives EACCES if nothing else is found, else ENOENT.
 */
static int spawn_on_path(pid_t *pid, const char *file, const char *cwd, posix_spawn_file_actions_t *fa,
                         posix_spawnattr_t *at, char **argv, char **envp) {
  const char *search = path_of(envp);
  size_t flen = strlen(file), clen = strlen(cwd);
  char *buf = malloc(strlen(search) + clen + flen + 3);
  if (buf == NULL) return ENOMEM;
  int result = ENOENT;
  const char *p = search;
  for (;;) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    size_t at_len = 0;
    if (dlen == 0 || p[0] != '/') {
      // An empty entry is the working folder, a relative one lies in it: the child's, not this process's.
      memcpy(buf, cwd, clen);
      at_len = clen;
      buf[at_len++] = '/';
    }
    memcpy(buf + at_len, p, dlen);
    at_len += dlen;
    if (at_len > 0 && buf[at_len - 1] != '/') buf[at_len++] = '/';
    memcpy(buf + at_len, file, flen + 1);
    struct stat st;
    if (stat(buf, &st) == 0 && S_ISREG(st.st_mode)) {
      if (access(buf, X_OK) == 0) {
        int rc = start(pid, buf, fa, at, argv, envp);
        if (rc != ENOENT && rc != EACCES && rc != ENOTDIR) {
          result = rc;
          break;
        }
        if (rc == EACCES) result = EACCES;
      } else {
        result = EACCES;
      }
    }
    if (*end == '\0') break;
    p = end + 1;
  }
  free(buf);
  return result;
}

static napi_value int_value(napi_env env, int32_t n) {
  napi_value v;
  napi_create_int32(env, n, &v);
  return v;
}

static napi_value Spawn(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int bad = argc < 4;
  char *file = copy_string(env, args[0], &bad);
  char **argv = copy_strings(env, args[1], &bad);
  char **envp = copy_strings(env, args[2], &bad);
  char *cwd = copy_string(env, args[3], &bad);
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  int rc = 0;
  pid_t pid = -1;
  if (bad || file == NULL || file[0] == '\0' || cwd == NULL) {
    rc = -1;
  } else if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    rc = errno;
  } else {
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, err[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &all);
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    rc = strchr(file, '/') != NULL ? start(&pid, file, &fa, &at, argv, envp)
                                   : spawn_on_path(&pid, file, cwd, &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
  }
  if (out[1] >= 0) close(out[1]);
  if (err[1] >= 0) close(err[1]);
  free(file);
  free(cwd);
  free_strings(argv);
  free_strings(envp);
  if (rc != 0) {
    if (out[0] >= 0) close(out[0]);
    if (err[0] >= 0) close(err[0]);
    return int_value(env, rc < 0 ? 0 : -rc);
  }
  napi_value result;
  napi_create_array_with_length(env, 3, &result);
  napi_set_element(env, result, 0, int_value(env, pid));
  napi_set_element(env, result, 1, int_value(env, out[0]));
  napi_set_element(env, result, 2, int_value(env, err[0]));
  return result;
}

static napi_value Reap(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t pid = 0;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  if (argc < 1 || napi_get_value_int32(env, args[0], &pid) != napi_ok || pid <= 0) return undefined;
  int status = 0;
  pid_t r;
  do r = waitpid(pid, &status, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r == 0) return undefined;
  napi_value result;
  napi_create_array_with_length(env, 2, &result);
  // r < 0: someone else reaped it (ECHILD); it is gone all the same.
  int code = r > 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int sig = r > 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  napi_set_element(env, result, 0, int_value(env, code));
  napi_set_element(env, result, 1, int_value(env, sig));
  return result;
}

static napi_value Kill(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value args[2];
  napi_get_cb_info(env, info, &argc, args, NULL, NULL);
  int32_t pid = 0, sig = 0;
  if (argc < 2 || napi_get_value_int32(env, args[0], &pid) != napi_ok || napi_get_value_int32(env, args[1], &sig) != napi_ok)
    return int_value(env, EINVAL);
  return int_value(env, kill(pid, sig) == 0 ? 0 : errno);
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "spawn", NAPI_AUTO_LENGTH, Spawn, NULL, &fn);
  napi_set_named_property(env, exports, "spawn", fn);
  napi_create_function(env, "reap", NAPI_AUTO_LENGTH, Reap, NULL, &fn);
  napi_set_named_property(env, exports, "reap", fn);
  napi_create_function(env, "kill", NAPI_AUTO_LENGTH, Kill, NULL, &fn);
  napi_set_named_property(env, exports, "kill", fn);
  return exports;
}
