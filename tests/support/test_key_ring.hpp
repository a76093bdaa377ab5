#pragma once
// The data key ring the tests seal personal data under: installed in every test process that
// opens a database (test_key_ring.cpp) and passed to every server and CLI the integration tests
// start (REDLOOP_DATA_KEYS), so both sides open what the other sealed.
namespace redloop::test {

// 32 bytes, base64: "redloop-integration-test-key-32b".
inline constexpr const char* kTestDataKeys = "it1:cmVkbG9vcC1pbnRlZ3JhdGlvbi10ZXN0LWtleS0zMmI=";

}  // namespace redloop::test
