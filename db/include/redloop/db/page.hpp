#pragma once
#include <cstdint>
#include <optional>
#include <vector>

namespace redloop::db {

// One page of a list ordered newest first by insertion sequence. `next_before` is the seq to
// continue below, or nullopt on the last page.
template <typename T>
struct Page {
    std::vector<T> items;
    std::optional<std::int64_t> next_before;
};

}  // namespace redloop::db
