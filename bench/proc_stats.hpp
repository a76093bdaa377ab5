#pragma once
// What the benchmarks read of a process: its RSS and CPU time from /proc, and a raised
// open-files limit for many connections.
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace redloop::bench {

inline void raise_fd_limit() {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

// VmRSS of /proc/.../status in KB; -1 when it can't be read.
inline long rss_kb(const std::string& status_path) {
    std::ifstream in(status_path);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    }
    return -1;
}
inline long rss_kb(pid_t pid) {
    return rss_kb("/proc/" + std::to_string(pid) + "/status");
}

// utime + stime of a process or thread (/proc/.../stat fields 14 and 15), in seconds.
inline double cpu_seconds(const std::string& stat_path) {
    std::ifstream in(stat_path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos) return 0;
    std::istringstream f(text.substr(close + 2));
    std::string skip;
    for (int i = 0; i < 11; ++i) f >> skip;  // fields 3..13
    long utime = 0, stime = 0;
    f >> utime >> stime;
    return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}
inline double cpu_seconds(pid_t pid) {
    return cpu_seconds("/proc/" + std::to_string(pid) + "/stat");
}

}  // namespace redloop::bench
