// Generated ids: the type prefix, 20 base32 characters, unique, and ordered by creation time.
#include <doctest/doctest.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

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

TEST_CASE("a replay hands out the recorded ids and records them, as the live command did") {
    const std::vector<std::string> recorded{"ord_00000000000000000001", "pay_00000000000000000002"};
    std::vector<std::string> made;
    api::IdRecording recording(made);
    {
        api::IdReplay replay(recorded);
        CHECK(api::new_id<engine::OrderId>().str() == recorded[0]);
        CHECK(api::new_id<engine::PaymentId>().str() == recorded[1]);
        CHECK(replay.all_used());
        CHECK_FALSE(replay.diverged());
    }
    // What the replayed command's journal entry names: the same ids, in order.
    CHECK(made == recorded);
    // Past the replay, ids are new again, and still recorded.
    const auto fresh = api::new_id<engine::RefundId>().str();
    CHECK(fresh.rfind("ref_", 0) == 0);
    REQUIRE(made.size() == 3);
    CHECK(made[2] == fresh);
}
