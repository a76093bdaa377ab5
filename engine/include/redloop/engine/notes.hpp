#pragma once
// Notes: user- or merchant-written posts that tag SKUs.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "redloop/engine/catalog.hpp"
#include "redloop/engine/ids.hpp"
#include "redloop/engine/time.hpp"

namespace redloop::engine {

inline constexpr std::size_t kNoteTitleMax = 200;
inline constexpr std::size_t kNoteBodyMax = 20'000;
inline constexpr std::size_t kNoteSkusMax = 20;

struct CreateNote {
    std::string title;
    std::string body;
    std::vector<Media> media;
    std::vector<SkuId> skus;
};

Status validate(const CreateNote& cmd);

struct Note {
    NoteId id;
    ActorId author_id;
    std::string title;
    std::string body;
    std::vector<Media> media;
    std::vector<SkuId> skus;  // in the order the author tagged them
    Timestamp created_at;
};

// `tagged` holds what storage found for cmd.skus, in the same order (nullopt: no such SKU).
// Tagging an archived product is refused: a note should not advertise what can't be bought.
Result<Note> decide_create_note(const ActorId& author, const CreateNote& cmd,
                                const std::vector<std::optional<Sku>>& tagged, const NoteId& id,
                                Timestamp now);

enum class Disclosure { none, brand, affiliate };
std::optional<std::string_view> to_string(Disclosure d);  // nullopt for none

struct TaggedListing {
    Sku sku;
    std::string product_title;
    int commission_rate_bps = 0;  // of the SKU's product
};

// "brand" when the author is the merchant of a tagged SKU; "affiliate" when the author is a
// user who earns commission on one (its product pays a commission); else none. Computed from
// live data on every read, never set by the author.
Disclosure disclosure_of(const ActorId& author, const std::vector<TaggedListing>& tagged);

}  // namespace redloop::engine
