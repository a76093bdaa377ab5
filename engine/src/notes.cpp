#include "redloop/engine/notes.hpp"

#include <fmt/format.h>

#include <cassert>
#include <set>

#include "redloop/engine/text.hpp"

namespace redloop::engine {

Status validate(const CreateNote& cmd) {
    if (auto s = check_text("title", cmd.title, 1, kNoteTitleMax, Lines::single); !s) return s;
    if (auto s = check_text("body", cmd.body, 0, kNoteBodyMax, Lines::multi); !s) return s;
    if (auto s = validate_media("media", cmd.media); !s) return s;
    if (cmd.skus.size() > kNoteSkusMax) {
        return fail(ErrorCode::invalid_request, fmt::format("products has {} entries, at most {}",
                                                            cmd.skus.size(), kNoteSkusMax));
    }
    std::set<SkuId> seen;
    for (std::size_t i = 0; i < cmd.skus.size(); ++i) {
        if (!seen.insert(cmd.skus[i]).second) {
            return fail(
                ErrorCode::invalid_request,
                fmt::format("products[{}].sku_id {} is tagged twice", i, cmd.skus[i].str()));
        }
    }
    return {};
}

Result<Note> decide_create_note(const ActorId& author, const CreateNote& cmd,
                                const std::vector<std::optional<Sku>>& tagged, const NoteId& id,
                                Timestamp now) {
    assert(tagged.size() == cmd.skus.size());
    if (auto s = validate(cmd); !s) return fail(s.error());
    for (std::size_t i = 0; i < tagged.size(); ++i) {
        if (!tagged[i]) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("products[{}].sku_id {} does not exist", i, cmd.skus[i].str()));
        }
        if (tagged[i]->status != ProductStatus::active) {
            return fail(ErrorCode::invalid_request,
                        fmt::format("products[{}].sku_id {} belongs to an archived product", i,
                                    cmd.skus[i].str()));
        }
    }
    return Note{id, author, cmd.title, cmd.body, cmd.media, cmd.skus, now};
}

std::optional<std::string_view> to_string(Disclosure d) {
    switch (d) {
        case Disclosure::none:
            return std::nullopt;
        case Disclosure::brand:
            return "brand";
        case Disclosure::affiliate:
            return "affiliate";
    }
    return std::nullopt;
}

Disclosure disclosure_of(const ActorId& author, const std::vector<TaggedListing>& tagged) {
    bool affiliate = false;
    for (const auto& t : tagged) {
        if (author.is_merchant() && t.sku.merchant_id.str() == author.str()) {
            return Disclosure::brand;
        }
        if (author.is_user() && t.commission_rate_bps > 0) affiliate = true;
    }
    return affiliate ? Disclosure::affiliate : Disclosure::none;
}

}  // namespace redloop::engine
