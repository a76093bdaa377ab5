// Attribution: which notes sold what, per shop.
#include <soci/soci.h>

#include <algorithm>
#include <map>

#include "redloop/db/repos.hpp"
#include "soci_util.hpp"

namespace redloop::db {

using namespace redloop::engine;

void count_add_to_cart(Tx& tx, const NoteId& note, const SkuId& sku) {
    Query q(tx,
            "INSERT INTO note_sku_stats (note_id, sku_id, add_to_carts) VALUES (:n, :s, 1) "
            "ON CONFLICT (note_id, sku_id) DO UPDATE SET "
            "add_to_carts = note_sku_stats.add_to_carts + 1");
    q.use(note.str()).use(sku.str());
    q.run();
}

std::vector<NoteAttribution> note_attribution(Tx& tx, const MerchantId& merchant) {
    std::map<std::string, NoteAttribution> by_note;
    const std::string m = merchant.str();
    std::string note;
    {
        Query q(tx,
                "SELECT DISTINCT ns.note_id FROM note_skus ns JOIN skus s ON s.id = ns.sku_id "
                "WHERE s.merchant_id = :m");
        q.into(note).use(m);
        q.execute();
        while (q.fetch()) by_note[note];
    }
    {
        long long carts = 0;
        Query q(tx,
                "SELECT st.note_id, SUM(st.add_to_carts) FROM note_sku_stats st "
                "JOIN skus s ON s.id = st.sku_id WHERE s.merchant_id = :m GROUP BY st.note_id");
        q.into(note).into(carts).use(m);
        q.execute();
        while (q.fetch()) by_note[note].add_to_carts = carts;
    }
    {
        long long orders = 0, units = 0, gmv = 0;
        Query q(tx,
                "SELECT l.note_id, COUNT(DISTINCT l.order_id), SUM(l.quantity), "
                "SUM(l.line_total_minor) FROM order_lines l JOIN orders o ON o.id = l.order_id "
                "WHERE o.merchant_id = :m AND l.note_id IS NOT NULL AND o.status IN "
                "('paid', 'shipped', 'delivered', 'completed', 'refunded') GROUP BY l.note_id");
        q.into(note).into(orders).into(units).into(gmv).use(m);
        q.execute();
        while (q.fetch()) {
            auto& a = by_note[note];
            a.orders = orders;
            a.units = units;
            a.gmv_minor = gmv;
        }
    }
    std::vector<NoteAttribution> out;
    out.reserve(by_note.size());
    for (auto& [id, a] : by_note) {
        std::string title, author;
        long long views = 0;
        soci::indicator views_ind = soci::i_null;
        Query q(tx,
                "SELECT n.title, n.author_id, st.views FROM notes n "
                "LEFT JOIN note_stats st ON st.note_id = n.id WHERE n.id = :n");
        q.into(title).into(author).into(views, views_ind).use(id);
        q.execute();
        if (!q.fetch()) continue;  // a line may name a note that is gone: nothing to show
        a.note_id = NoteId::trusted(id);
        a.title = title;
        a.author_id = author;
        a.views = views_ind == soci::i_ok ? views : 0;
        out.push_back(std::move(a));
    }
    std::sort(out.begin(), out.end(), [](const NoteAttribution& x, const NoteAttribution& y) {
        if (x.gmv_minor != y.gmv_minor) return x.gmv_minor > y.gmv_minor;
        if (x.units != y.units) return x.units > y.units;
        return x.note_id.str() < y.note_id.str();
    });
    return out;
}

}  // namespace redloop::db
