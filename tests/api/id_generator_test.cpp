// Generated ids: the type prefix, 20 base32 characters, unique, and ordered by creation time.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include "id_generator.hpp"
#include "redloop/engine/ids.hpp"

using namespace redloop;

TEST_CASE("generated ids are valid, unique, and later ones sort after earlier ones") {
    std::set<std::string> seen;
    std::string previous;
    for (int i = 0; i < 200; ++i) {
        const auto id = api::new_id<engine::OrderId>().str();
        CHECK(engine::OrderId::parse(id));
        REQUIRE(id.size() == 4 + 20);
        CHECK(id.rfind("ord_", 0) == 0);
        for (char c : id.substr(4)) {
            CHECK(std::string_view("0123456789abcdefghjkmnpqrstvwxyz").find(c) !=
                  std::string_view::npos);
        }
        CHECK(seen.insert(id).second);
        // A millisecond apart: the time part has moved on, so the later id sorts after.
        if (!previous.empty()) CHECK(previous < id);
        previous = id;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
}

TEST_CASE("ids made in the same millisecond still differ (55 random bits each)") {
    std::set<std::string> seen;
    for (int i = 0; i < 10000; ++i)
        CHECK(seen.insert(api::new_id<engine::PaymentId>().str()).second);
}
