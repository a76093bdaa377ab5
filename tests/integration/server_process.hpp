#pragma once
// The real `redloop` process for integration tests: a fresh temporary directory and database,
// `redloop serve --port 0` started with fork/exec, its port read from the "listening on" line,
// and SIGTERM (then SIGKILL) when the test is done. Also runs the other subcommands to
// completion (run_cli).
//
// Environment (set by ctest, see tests.cmake):
//   REDLOOP_BIN       the redloop executable
//   REDLOOP_FIXTURES  fixtures/demo
//   REDLOOP_TEST_TMP  where temporary directories go (default: the system temp dir)
//   REDLOOP_KEEP_TMP  if set, temporary directories are kept for inspection
//   REDLOOP_TEST_PG   if set (postgresql://user@host:port), servers and CLI commands use fresh
//                     PostgreSQL databases on that server instead of SQLite files (TempDir::db)
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "auth.hpp"

namespace redloop::it {

// The secrets every test server runs with (at least 32 characters each).
inline constexpr const char* kTestJwtSecret = "integration-test-jwt-secret-0123456789abcdef";
inline constexpr const char* kTestWebhookSecret = "integration-test-webhook-secret-0123456789ab";

std::string redloop_bin();
std::string fixtures_dir();

// A fresh directory under REDLOOP_TEST_TMP, unique per process and counter; removed when
// destroyed (unless REDLOOP_KEEP_TMP is set), with the PostgreSQL databases made by db().
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }
    std::string file(const std::string& name) const { return path_ + "/" + name; }
    // A database for `redloop ... --db`: the file <dir>/<name>.db (not created), or with
    // REDLOOP_TEST_PG an empty PostgreSQL database created now and dropped with the directory.
    std::string db(const std::string& name);
    // A --db that can't be opened: a file in a missing directory, or a database the
    // PostgreSQL server doesn't have.
    std::string unopenable_db() const;

  private:
    std::string path_;
    std::vector<std::string> pg_databases_;
};

struct CliResult {
    int exit_code = -1;  // 128 + signal number when killed by a signal
    std::string out;
    std::string err;
    bool timed_out = false;
};

// Environment changes for a child: a value sets the variable, nullopt removes it.
using EnvChanges = std::map<std::string, std::optional<std::string>>;

// Runs `redloop args...` to completion (killed after `timeout`). The child starts from this
// process's environment without any REDLOOP_* variable, then `env` is applied.
CliResult run_cli(const std::vector<std::string>& args, const EnvChanges& env = {},
                  std::chrono::seconds timeout = std::chrono::seconds(60));

// The environment of a server or CLI with the test secrets.
EnvChanges secret_env();

struct ServerOptions {
    // The --db (a SQLite file or a PostgreSQL URL); empty: a fresh one, the server's TempDir's
    // db("redloop").
    std::string db_path;
    int threads = 2;
    std::vector<std::string> extra_args;
    EnvChanges env = secret_env();
};

// Default options plus these command-line arguments.
inline ServerOptions with_args(std::vector<std::string> args) {
    ServerOptions o;
    o.extra_args = std::move(args);
    return o;
}

class ServerProcess {
  public:
    // Starts the server and waits (up to 15 s) for its "listening on" line; a test that can't
    // get a server fails here with the server's log.
    explicit ServerProcess(ServerOptions options = {});
    ~ServerProcess();
    ServerProcess(const ServerProcess&) = delete;
    ServerProcess& operator=(const ServerProcess&) = delete;

    unsigned short port() const { return port_; }
    pid_t pid() const { return pid_; }
    const std::string& secret() const { return secret_; }
    // The --db the server runs on: a SQLite file or a PostgreSQL URL (see db_int).
    const std::string& db_path() const { return db_path_; }
    const std::string& log_path() const { return log_path_; }
    // The server's stderr so far (the last `max_bytes`).
    std::string log(std::size_t max_bytes = 8000) const;

    // A bearer token signed with the server's secret (redloop::api::mint_token). A negative
    // ttl gives an already-expired token.
    std::string token(api::Role role, const std::string& sub,
                      std::int64_t ttl_seconds = 3600) const;
    // "Bearer <token>" for the Authorization header.
    std::string bearer(api::Role role, const std::string& sub,
                       std::int64_t ttl_seconds = 3600) const;

    // Sends a signal without waiting.
    void signal(int signo) const;
    // True while the process has not exited (reaps it when it has).
    bool running();
    // Sends SIGTERM and waits up to `timeout` for the exit; returns the exit code (128 + signal
    // when killed by one) or nullopt if it is still running after the timeout.
    std::optional<int> terminate(std::chrono::milliseconds timeout = std::chrono::seconds(10));
    // Waits up to `timeout` for an exit already under way.
    std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  private:
    std::optional<TempDir> dir_;
    std::string db_path_;
    std::string log_path_;
    std::string secret_;
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    unsigned short port_ = 0;
    std::optional<int> exit_code_;
};

}  // namespace redloop::it
