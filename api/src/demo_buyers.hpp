#pragma once
// `redloop demo-buyers`: simulated readers of the demo notes who browse, add to the cart, check
// out and pay through the public API, so the dashboard has something to show live.
#include <cstdint>
#include <string>
#include <vector>

namespace redloop::api {

struct DemoBuyersOptions {
    std::string host = "127.0.0.1";
    unsigned short port = 8080;
    double every_s = 5;      // one buyer visit every this many seconds
    std::int64_t count = 0;  // stop after this many visits (0: until the server goes away)
    std::uint32_t seed = 0;  // 0: from the clock
    std::vector<std::string> users{"usr_lin", "usr_mei", "usr_chen"};
    std::vector<std::string> notes{"nte_springtea", "nte_teahouse", "nte_sunscreen", "nte_hike"};
};

// Runs until `count` visits are done (0) or the server has been unreachable for 30 s after
// it was reached once (1); 2 when it never answered within 60 s or the secret is missing.
int run_demo_buyers(const DemoBuyersOptions& options, const std::string& jwt_secret);

}  // namespace redloop::api
