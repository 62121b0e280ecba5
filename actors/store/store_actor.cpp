#include "actors/store/store_actor.hpp"

#include <spdlog/spdlog.h>
#include <algorithm>
#include <caf/all.hpp>
#include <deque>
#include <utility>

#include "actors/atoms.hpp"

namespace troupe::actors {
namespace {

constexpr auto retry_interval = std::chrono::milliseconds(250);
constexpr auto check_interval = std::chrono::seconds(1);

struct writer_state {
  static inline const char* name = "store_writer";
  std::shared_ptr<store::cluster_store> db;
  std::function<void()> on_lost;
  std::string lost;  // why the store is lost; empty while it is not
};

// Performs the blocking store calls on a thread of its own. Once the store is lost it
// writes nothing more: every later batch fails at once.
//   (apply_atom, batch) -> bool   true once the batch landed, else the store's error
caf::behavior writer(caf::stateful_actor<writer_state>* self,
                     std::shared_ptr<store::cluster_store> db, std::function<void()> on_lost) {
  self->state.db = std::move(db);
  self->state.on_lost = std::move(on_lost);
  return {
      [self](apply_atom, const std::vector<store::store_write>& batch) -> caf::result<bool> {
        auto& st = self->state;
        if (!st.lost.empty()) return caf::make_error(caf::sec::runtime_error, st.lost);
        try {
          st.db->apply(batch);
          return true;
        } catch (const store::store_lost& e) {
          st.lost = e.what();
          spdlog::critical("{}: stopping the head, which must not answer over a lost store",
                           st.lost);
          st.on_lost();
          return caf::make_error(caf::sec::runtime_error, st.lost);
        } catch (const std::exception& e) {  // store_error, or anything unexpected
          return caf::make_error(caf::sec::runtime_error, e.what());
        }
      },
  };
}

// A confirmation of one or more writes: answered true once all of them landed, or false as soon
// as one failed.
struct confirmation {
  caf::response_promise promise;
  size_t unlanded = 0;
  bool answered = false;
};
using confirmation_ptr = std::shared_ptr<confirmation>;

struct queued_write {
  store::store_write write;
  std::string row;                        // store::row_of(write)
  std::vector<confirmation_ptr> waiting;  // confirmations not answered yet
  bool later = false;                     // may wait for another write (later_atom)
};

struct write_queue_state {
  static inline const char* name = "store";
  caf::actor writer;
  std::deque<queued_write> queue;  // in order; the first `in_flight` are being written
  size_t in_flight = 0;
  bool retry_scheduled = false;
  std::chrono::milliseconds later_delay{};
  bool later_scheduled = false;  // a flush of writes that may wait is due within later_delay
  bool failing = false;
};

using queue_ptr = caf::stateful_actor<write_queue_state>*;

void answer(std::vector<confirmation_ptr>& waiting, bool stored) {
  for (auto& c : waiting) {
    if (c->answered || (stored && --c->unlanded > 0)) continue;
    c->answered = true;
    c->promise.deliver(stored);
  }
  waiting.clear();
}

void on_landed(queue_ptr self) {
  auto& st = self->state;
  for (size_t i = 0; i < st.in_flight; ++i) answer(st.queue[i].waiting, true);
  if (st.failing) spdlog::info("the store recovered: {} queued writes landed", st.in_flight);
  st.queue.erase(st.queue.begin(), st.queue.begin() + static_cast<long>(st.in_flight));
  st.in_flight = 0;
  st.failing = false;
}

void on_failed(queue_ptr self, const caf::error& err) {
  auto& st = self->state;
  st.in_flight = 0;
  if (!st.failing)
    spdlog::error("store write failed; {} writes stay queued and are retried until they land: {}",
                  st.queue.size(), self->system().render(err));
  st.failing = true;
  for (auto& w : st.queue) answer(w.waiting, false);
  st.retry_scheduled = true;
  self->delayed_send(self, retry_interval, retry_atom::value);
}

// Sends everything queued to the writer as one batch, unless a batch is under way or a
// retry is waiting, or every queued write may wait (`due` is false) and so waits for another
// write or the later_delay flush.
void flush(queue_ptr self, bool due = false) {
  auto& st = self->state;
  if (st.in_flight > 0 || st.retry_scheduled || st.queue.empty()) return;
  const bool all_may_wait =
      std::all_of(st.queue.begin(), st.queue.end(), [](const queued_write& w) { return w.later; });
  if (all_may_wait && !due) {
    if (!std::exchange(st.later_scheduled, true))
      self->delayed_send(self, st.later_delay, later_atom::value);
    return;
  }
  std::vector<store::store_write> batch;
  for (const auto& w : st.queue) batch.push_back(w.write);
  st.in_flight = batch.size();
  self->request(st.writer, caf::infinite, apply_atom::value, std::move(batch))
      .then(
          [self](bool) {
            on_landed(self);
            flush(self);
          },
          [self](caf::error& err) { on_failed(self, err); });
}

void enqueue(queue_ptr self, store::store_write write, const confirmation_ptr& confirm,
             bool later = false) {
  auto& st = self->state;
  const auto row = store::row_of(write);
  auto pending = std::find_if(st.queue.begin() + static_cast<long>(st.in_flight), st.queue.end(),
                              [&](const queued_write& w) { return w.row == row; });
  queued_write entry{std::move(write), row, {}, later && !confirm};
  if (pending != st.queue.end()) {
    entry.waiting = std::move(pending->waiting);
    entry.later = entry.later && pending->later;
    st.queue.erase(pending);
  }
  if (confirm) {
    if (st.failing && !confirm->answered) {
      confirm->answered = true;
      confirm->promise.deliver(false);
    }
    // A confirmation that already waits for the replaced write waits for this one instead.
    if (std::find(entry.waiting.begin(), entry.waiting.end(), confirm) != entry.waiting.end())
      --confirm->unlanded;
    else
      entry.waiting.push_back(confirm);
  }
  st.queue.push_back(std::move(entry));
}

caf::response_promise confirm_writes(queue_ptr self, std::vector<store::store_write> writes) {
  auto confirm = std::make_shared<confirmation>();
  confirm->promise = self->make_response_promise();
  confirm->unlanded = writes.size();
  if (writes.empty()) {
    confirm->answered = true;
    confirm->promise.deliver(true);
  }
  for (auto& w : writes) enqueue(self, std::move(w), confirm);
  flush(self);
  return confirm->promise;
}

// Checks, while nothing is being written, that the store's data is still there.
void check(queue_ptr self) {
  auto& st = self->state;
  if (st.in_flight == 0 && st.queue.empty())
    self->request(st.writer, caf::infinite, apply_atom::value, std::vector<store::store_write>{})
        .then([](bool) {}, [](caf::error&) {});  // the writer acts on a lost store
  self->delayed_send(self, check_interval, tick_atom::value);
}

caf::behavior write_queue(queue_ptr self, std::shared_ptr<store::cluster_store> db,
                          std::function<void()> on_lost, std::chrono::milliseconds later_delay) {
  self->state.later_delay = later_delay;
  self->state.writer =
      self->spawn<caf::detached + caf::linked>(writer, std::move(db), std::move(on_lost));
  self->delayed_send(self, check_interval, tick_atom::value);
  return {
      [self](store_atom, store::store_write& write) {
        enqueue(self, std::move(write), nullptr);
        flush(self);
      },
      [self](store_atom, confirm_atom, store::store_write& write) {
        return confirm_writes(self, {std::move(write)});
      },
      [self](store_atom, confirm_atom, std::vector<store::store_write>& writes) {
        return confirm_writes(self, std::move(writes));
      },
      [self](store_atom, later_atom, std::vector<store::store_write>& writes) {
        for (auto& w : writes) enqueue(self, std::move(w), nullptr, true);
        flush(self);
      },
      [self](later_atom) {
        self->state.later_scheduled = false;
        flush(self, true);
      },
      [self](retry_atom) {
        self->state.retry_scheduled = false;
        flush(self);
      },
      [self](tick_atom) { check(self); },
  };
}

}  // namespace

caf::actor spawn_store_actor(caf::actor_system& system, std::shared_ptr<store::cluster_store> store,
                             std::function<void()> on_lost, std::chrono::milliseconds later_delay) {
  auto actor = system.spawn(write_queue, std::move(store), std::move(on_lost), later_delay);
  actor->attach_functor([&system](const caf::error& reason) {
    if (reason && reason != caf::exit_reason::user_shutdown)
      spdlog::error("the store actor stopped: {}", system.render(reason));
  });
  return actor;
}

}  // namespace troupe::actors
