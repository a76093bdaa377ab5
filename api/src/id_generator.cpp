#include "id_generator.hpp"

#include <openssl/rand.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <stdexcept>

namespace redloop::api {

namespace {
void fill_random(unsigned char* out, std::size_t n) {
    if (RAND_bytes(out, static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
}
}  // namespace

namespace {
thread_local std::vector<std::string>* t_recording = nullptr;
thread_local IdReplay* t_replay = nullptr;

// 20 characters of base32 (digits and lower-case letters without i, l, o, u: ascending in
// ASCII): 9 of the wall clock in milliseconds, then 11 random ones (55 bits). New ids sort after
// older ones, so they go in at the right-hand end of every index keyed by them instead of on a
// random page each, which keeps the pages a write dirties few and hot at any table size.
std::string random_id_body() {
    static constexpr std::string_view kAlphabet = "0123456789abcdefghjkmnpqrstvwxyz";
    constexpr std::size_t kTimeChars = 9, kChars = 20;
    const auto ms =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    std::string out(kChars, '0');
    for (std::size_t i = 0; i < kTimeChars; ++i) {
        out[i] = kAlphabet[(ms >> (5 * (kTimeChars - 1 - i))) & 31];
    }
    std::array<unsigned char, kChars - kTimeChars> bytes{};
    fill_random(bytes.data(), bytes.size());
    for (std::size_t i = 0; i < bytes.size(); ++i) out[kTimeChars + i] = kAlphabet[bytes[i] & 31];
    return out;
}

}  // namespace

std::string next_id(std::string_view prefix) {
    if (t_replay) {
        auto& ids = t_replay->ids_;
        if (!ids.empty() && std::string_view(ids.front()).substr(0, prefix.size()) == prefix) {
            std::string id = std::move(ids.front());
            ids.pop_front();
            // Recorded as made: the journal entry a replay writes names the same ids.
            if (t_recording) t_recording->push_back(id);
            return id;
        }
        t_replay->diverged_ = true;
    }
    std::string id = std::string(prefix) + random_id_body();
    if (t_recording) t_recording->push_back(id);
    return id;
}

IdRecording::IdRecording(std::vector<std::string>& out) : previous_(t_recording) {
    t_recording = &out;
}
IdRecording::~IdRecording() {
    t_recording = previous_;
}

IdReplay::IdReplay(const std::vector<std::string>& ids)
    : ids_(ids.begin(), ids.end()), previous_(t_replay) {
    t_replay = this;
}
IdReplay::~IdReplay() {
    t_replay = previous_;
}

IdContext current_id_context() {
    return IdContext{t_recording, t_replay};
}

IdContext swap_id_context(IdContext c) {
    IdContext previous{t_recording, t_replay};
    t_recording = c.recording;
    t_replay = c.replay;
    return previous;
}

std::string request_id() {
    // splitmix64 over a per-thread random start.
    thread_local std::uint64_t state = [] {
        std::uint64_t seed = 0;
        fill_random(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
        return seed;
    }();
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t i = 0; i < 16; ++i) out[i] = kHex[(z >> (60 - 4 * i)) & 15];
    return out;
}

std::string random_hex(std::size_t n) {
    static constexpr std::string_view kHex = "0123456789abcdef";
    std::string bytes(n, '\0');
    fill_random(reinterpret_cast<unsigned char*>(bytes.data()), n);
    std::string out;
    out.reserve(n * 2);
    for (unsigned char c : bytes) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
    return out;
}

}  // namespace redloop::api
