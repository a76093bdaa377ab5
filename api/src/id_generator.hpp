#pragma once
// New ids: the type prefix and 20 characters of base32 from OpenSSL's CSPRNG (100 bits).
// For the journal, a thread can record the ids it makes (IdRecording) or take them from a
// journal entry instead (IdReplay), so replaying a command creates the very same ids.
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/ids.hpp"

namespace redloop::api {

// The next id with this prefix: from the active IdReplay, else random (and recorded by the
// active IdRecording).
std::string next_id(std::string_view prefix);

template <typename IdT>
IdT new_id() {
    return IdT::trusted(next_id(IdT::prefix()));
}

// While alive, every id made on this thread is appended to `out`.
class IdRecording {
  public:
    explicit IdRecording(std::vector<std::string>& out);
    ~IdRecording();
    IdRecording(const IdRecording&) = delete;
    IdRecording& operator=(const IdRecording&) = delete;

  private:
    std::vector<std::string>* previous_;
};

// While alive, ids made on this thread come from `ids`, in order. Running out, or a prefix
// that differs from the recorded id's, means the replay diverged: that is reported by
// `diverged()` and a random id is used so the command can still fail cleanly.
class IdReplay {
  public:
    explicit IdReplay(const std::vector<std::string>& ids);
    ~IdReplay();
    IdReplay(const IdReplay&) = delete;
    IdReplay& operator=(const IdReplay&) = delete;
    bool diverged() const { return diverged_; }
    bool all_used() const { return ids_.empty(); }

  private:
    friend std::string next_id(std::string_view prefix);
    std::deque<std::string> ids_;
    bool diverged_ = false;
    IdReplay* previous_;
};

// The calling thread's recording and replay, so work done for it on another thread (the group
// commit's writer runs other callers' commands) makes and records ids as the caller would.
struct IdContext {
    std::vector<std::string>* recording = nullptr;
    IdReplay* replay = nullptr;
};
IdContext current_id_context();
// Installs `c` on this thread and returns what was there.
IdContext swap_id_context(IdContext c);

// 2 * bytes hex characters from the system's secure generator (secrets, file names).
std::string random_hex(std::size_t bytes);
// 16 hex characters for a request id: unique in practice and cheap (a per-thread generator
// seeded from the secure one), not secret.
std::string request_id();

}  // namespace redloop::api
