#include "server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "test_database.hpp"
#include "test_key_ring.hpp"

extern char** environ;

namespace redloop::it {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// A write to a connection the server has closed must be an error, not the end of the tests.
const bool kSigpipeIgnored = [] {
    std::signal(SIGPIPE, SIG_IGN);
    return true;
}();

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

// argv / envp for execve, built before fork (the child may only call async-signal-safe code).
struct CStrings {
    std::vector<std::string> storage;
    std::vector<char*> ptrs;
    explicit CStrings(std::vector<std::string> s) : storage(std::move(s)) {
        for (auto& x : storage) ptrs.push_back(x.data());
        ptrs.push_back(nullptr);
    }
    char** data() { return ptrs.data(); }
};

std::vector<std::string> child_environment(const EnvChanges& changes) {
    std::map<std::string, std::string> vars;
    // Personal data is sealed under this ring unless a test says otherwise (nullopt drops it).
    vars["REDLOOP_DATA_KEYS"] = test::kTestDataKeys;
    for (char** e = environ; e && *e; ++e) {
        std::string entry(*e);
        const auto eq = entry.find('=');
        if (eq == std::string::npos) continue;
        std::string name = entry.substr(0, eq);
        if (name.rfind("REDLOOP_", 0) == 0) continue;  // tests say explicitly what they set
        vars[name] = entry.substr(eq + 1);
    }
    for (const auto& [name, value] : changes) {
        if (value)
            vars[name] = *value;
        else
            vars.erase(name);
    }
    std::vector<std::string> out;
    for (const auto& [k, v] : vars) out.push_back(k + "=" + v);
    return out;
}

void close_inherited_fds(int max_fd) {
#if defined(__linux__) && defined(SYS_close_range)
    if (::syscall(SYS_close_range, 3U, ~0U, 0U) == 0) return;
#endif
    for (int fd = 3; fd < max_fd; ++fd) ::close(fd);
}

int open_max() {
    const long n = ::sysconf(_SC_OPEN_MAX);
    return n > 0 && n < 1'048'576 ? static_cast<int>(n) : 65'536;
}

// fork + execve with stdin from /dev/null and stdout/stderr on the given descriptors.
pid_t spawn(const std::vector<std::string>& args, const EnvChanges& env, int out_fd, int err_fd) {
    CStrings argv(args);
    CStrings envp(child_environment(env));
    const std::string bin = args.at(0);
    const int max_fd = open_max();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
    if (pid == 0) {
        const int devnull = ::open("/dev/null", O_RDONLY);
        if (devnull >= 0) ::dup2(devnull, 0);
        ::dup2(out_fd, 1);
        ::dup2(err_fd, 2);
        close_inherited_fds(max_fd);
        ::signal(SIGPIPE, SIG_DFL);
        ::execve(bin.c_str(), argv.data(), envp.data());
        const char msg[] = "integration harness: execve of the redloop binary failed\n";
        [[maybe_unused]] auto n = ::write(2, msg, sizeof msg - 1);
        ::_exit(127);
    }
    return pid;
}

int decode_status(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

// Waits for pid up to `timeout`; nullopt if it is still running.
std::optional<int> wait_for(pid_t pid, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (true) {
        int status = 0;
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return decode_status(status);
        if (r < 0 && errno != EINTR) return -1;  // not our child any more
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

std::string read_file_tail(const std::string& path, std::size_t max_bytes) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string s = ss.str();
    if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
    return s;
}

void make_pipe(int fds[2]) {
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe2 failed: ") + std::strerror(errno));
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string redloop_bin() {
    const char* v = std::getenv("REDLOOP_BIN");
    if (!v || !*v)
        throw std::runtime_error("REDLOOP_BIN is not set: run the integration tests through ctest");
    return v;
}

std::string fixtures_dir() {
    const char* v = std::getenv("REDLOOP_FIXTURES");
    if (!v || !*v)
        throw std::runtime_error(
            "REDLOOP_FIXTURES is not set: run the integration tests through ctest");
    return v;
}

EnvChanges secret_env() {
    return EnvChanges{{"REDLOOP_JWT_SECRET", kTestJwtSecret},
                      {"REDLOOP_WEBHOOK_SECRET", kTestWebhookSecret}};
}

// ------------------------------------------------------------------------------ TempDir

TempDir::TempDir() {
    static std::atomic<int> counter{0};
    const fs::path base =
        env_or("REDLOOP_TEST_TMP", (fs::temp_directory_path() / "redloop-it").string());
    fs::create_directories(base);
    const fs::path dir =
        base / ("it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::remove_all(dir);
    fs::create_directories(dir);
    path_ = dir.string();
}

TempDir::~TempDir() {
    if (std::getenv("REDLOOP_KEEP_TMP")) return;
    for (const auto& url : pg_databases_) test::pg_drop_database(url);
    std::error_code ec;
    fs::remove_all(path_, ec);
}

std::string TempDir::db(const std::string& name) {
    if (!test::on_postgresql()) return file(name + ".db");
    pg_databases_.push_back(test::pg_create_database("redloop_it_" + name));
    return pg_databases_.back();
}

std::string TempDir::unopenable_db() const {
    return test::on_postgresql() ? test::pg_base_url() + "/redloop_no_such_database"
                                 : file("no/such/dir/x.db");
}

// ------------------------------------------------------------------------------ run_cli

CliResult run_cli(const std::vector<std::string>& args, const EnvChanges& env,
                  std::chrono::seconds timeout) {
    std::vector<std::string> full{redloop_bin()};
    full.insert(full.end(), args.begin(), args.end());
    int out_pipe[2];
    int err_pipe[2];
    make_pipe(out_pipe);
    make_pipe(err_pipe);
    const pid_t pid = spawn(full, env, out_pipe[1], err_pipe[1]);
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);

    CliResult result;
    const auto deadline = Clock::now() + timeout;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    char buf[4096];
    while (open_count > 0) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            result.timed_out = true;
            ::kill(pid, SIGKILL);
            break;
        }
        const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left, 1000)));
        if (n < 0 && errno != EINTR) break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            const ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
            if (got > 0) {
                sinks[i]->append(buf, static_cast<std::size_t>(got));
            } else if (got == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    for (auto& f : fds) {
        if (f.fd >= 0) ::close(f.fd);
    }
    auto code = wait_for(pid, result.timed_out ? std::chrono::milliseconds(5000) : timeout);
    if (!code) {
        ::kill(pid, SIGKILL);
        result.timed_out = true;
        code = wait_for(pid, std::chrono::milliseconds(5000));
    }
    result.exit_code = code.value_or(-1);
    return result;
}

// ------------------------------------------------------------------------------ ServerProcess

ServerProcess::ServerProcess(ServerOptions options) : secret_(kTestJwtSecret) {
    dir_.emplace();
    db_path_ = options.db_path.empty() ? dir_->db("redloop") : options.db_path;
    log_path_ = dir_->file("server.log");
    if (auto it = options.env.find("REDLOOP_JWT_SECRET"); it != options.env.end() && it->second) {
        secret_ = *it->second;
    }

    std::vector<std::string> args{
        redloop_bin(), "serve",    "--db",      db_path_,    "--port",
        "0",           "--listen", "127.0.0.1", "--threads", std::to_string(options.threads)};
    args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

    const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error("cannot create " + log_path_);
    int out_pipe[2];
    make_pipe(out_pipe);
    try {
        pid_ = spawn(args, options.env, out_pipe[1], log_fd);
    } catch (...) {
        ::close(log_fd);
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        throw;
    }
    ::close(log_fd);
    ::close(out_pipe[1]);
    stdout_fd_ = out_pipe[0];

    // Read stdout until the "listening on" line, for at most 15 s.
    const auto deadline = Clock::now() + std::chrono::seconds(15);
    std::string out;
    std::string failure;
    char buf[1024];
    while (true) {
        const auto marker = out.find("listening on http://");
        if (marker != std::string::npos && out.find('\n', marker) != std::string::npos) {
            const auto end = out.find('\n', marker);
            const auto line = out.substr(marker, end - marker);
            const auto colon = line.rfind(':');
            const int port = std::atoi(line.c_str() + colon + 1);
            if (colon == std::string::npos || port <= 0 || port > 65535) {
                failure = "could not read a port from '" + line + "'";
            } else {
                port_ = static_cast<unsigned short>(port);
            }
            break;
        }
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) {
            failure = "no 'listening on' line within 15 s";
            break;
        }
        pollfd p{stdout_fd_, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) continue;
        const ssize_t got = ::read(stdout_fd_, buf, sizeof buf);
        if (got > 0) {
            out.append(buf, static_cast<std::size_t>(got));
        } else if (got == 0) {
            failure = "the server closed its stdout (exited?) before listening";
            break;
        } else if (errno != EINTR) {
            failure = std::string("reading the server's stdout failed: ") + std::strerror(errno);
            break;
        }
    }
    if (!failure.empty()) {
        ::kill(pid_, SIGKILL);
        const auto code = wait_for(pid_, std::chrono::seconds(5));
        ::close(stdout_fd_);
        stdout_fd_ = -1;
        throw std::runtime_error(
            "redloop serve did not start: " + failure +
            "\nexit code: " + (code ? std::to_string(*code) : std::string("?")) + "\nstdout:\n" +
            out + "\nstderr (" + log_path_ + "):\n" + read_file_tail(log_path_, 8000));
    }
}

ServerProcess::~ServerProcess() {
    if (pid_ > 0 && !exit_code_) {
        ::kill(pid_, SIGTERM);
        exit_code_ = wait_for(pid_, std::chrono::seconds(10));
        if (!exit_code_) {
            ::kill(pid_, SIGKILL);
            exit_code_ = wait_for(pid_, std::chrono::seconds(5));
        }
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

std::string ServerProcess::log(std::size_t max_bytes) const {
    return read_file_tail(log_path_, max_bytes);
}

std::string ServerProcess::token(api::Role role, const std::string& sub,
                                 std::int64_t ttl_seconds) const {
    auto actor = engine::ActorId::parse(sub);
    if (!actor) throw std::runtime_error("token(): bad sub '" + sub + "'");
    auto t = api::mint_token(api::Principal{*actor, role}, secret_, engine::Timestamp{now_ms()},
                             ttl_seconds);
    if (!t) throw std::runtime_error("mint_token failed: " + t.error().detail);
    return *t;
}

std::string ServerProcess::bearer(api::Role role, const std::string& sub,
                                  std::int64_t ttl_seconds) const {
    return "Bearer " + token(role, sub, ttl_seconds);
}

void ServerProcess::signal(int signo) const {
    if (pid_ > 0 && !exit_code_) ::kill(pid_, signo);
}

bool ServerProcess::running() {
    if (exit_code_) return false;
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        exit_code_ = decode_status(status);
        return false;
    }
    return r == 0;
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    exit_code_ = wait_for(pid_, timeout);
    return exit_code_;
}

std::optional<int> ServerProcess::terminate(std::chrono::milliseconds timeout) {
    signal(SIGTERM);
    return wait_exit(timeout);
}

}  // namespace redloop::it
