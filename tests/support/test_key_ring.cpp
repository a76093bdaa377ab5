// Compiled into each test executable that opens a database (not a library member, so it is
// always linked): installs the tests' data key ring before main.
#include <memory>
#include <stdexcept>

#include "redloop/db/sealer.hpp"
#include "test_key_ring.hpp"

namespace {

const bool kInstalled = [] {
    auto ring = redloop::db::KeyRing::parse(redloop::test::kTestDataKeys);
    if (!ring) throw std::logic_error("the tests' key ring is malformed");
    redloop::db::install_key_ring(std::make_shared<const redloop::db::KeyRing>(std::move(*ring)));
    return true;
}();

}  // namespace
