#pragma once
// `redloop stream`: a terminal client of GET /v1/stream that prints every frame on its own line.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace redloop::api {

struct StreamClientOptions {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    std::string token;  // empty: anonymous
    std::vector<std::string> topics;
    std::optional<std::int64_t> after_seq;
    std::int64_t count = 0;  // stop after this many event frames (0: until closed)
    int timeout_s = 0;       // stop after this many seconds without a frame (0: never)
};

// Returns 0 when it stopped as asked, 1 when the server closed or refused, 2 on a network error.
int run_stream_client(const StreamClientOptions& options, std::ostream& out);

}  // namespace redloop::api
