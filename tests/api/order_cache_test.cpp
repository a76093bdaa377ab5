// OrderJsonCache: an entry is served only with the fingerprint it was stored with; a full cache
// starts over rather than growing.
#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "app.hpp"

using redloop::api::OrderJsonCache;

namespace {
std::shared_ptr<const std::string> text(const char* s) {
    return std::make_shared<const std::string>(s);
}
}  // namespace

TEST_CASE("order cache: a hit needs the same fingerprint; a full cache starts over") {
    OrderJsonCache cache(2);
    CHECK(cache.get("ord_a", "paid|1") == nullptr);
    cache.put("ord_a", "paid|1", text("{\"a\":1}"));
    REQUIRE(cache.get("ord_a", "paid|1") != nullptr);
    CHECK(*cache.get("ord_a", "paid|1") == "{\"a\":1}");
    // the row changed: not served, and the new encoding replaces the old
    CHECK(cache.get("ord_a", "shipped|2") == nullptr);
    cache.put("ord_a", "shipped|2", text("{\"a\":2}"));
    CHECK(cache.get("ord_a", "paid|1") == nullptr);
    CHECK(*cache.get("ord_a", "shipped|2") == "{\"a\":2}");
    // the admin's entry (without the address) is another key
    cache.put("ord_a#admin", "shipped|2", text("{\"a\":0}"));
    CHECK(*cache.get("ord_a#admin", "shipped|2") == "{\"a\":0}");
    CHECK(*cache.get("ord_a", "shipped|2") == "{\"a\":2}");
    // a third key in a cache of two: it starts over with that one
    cache.put("ord_b", "paid|1", text("{\"b\":1}"));
    CHECK(cache.get("ord_a", "shipped|2") == nullptr);
    CHECK(*cache.get("ord_b", "paid|1") == "{\"b\":1}");
    CHECK(cache.hits() == 6);
    CHECK(cache.misses() == 4);
}
