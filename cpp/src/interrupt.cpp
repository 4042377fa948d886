// See gsa_fast/interrupt.hpp. No Python here: the poll hook comes from the binding layer.
#include "gsa_fast/interrupt.hpp"

namespace gsa {

namespace {
// How often the calling thread asks for pending signals: the GIL round trip costs a few µs,
// and 20 ms keeps the reaction to Ctrl-C far below a second.
constexpr std::chrono::milliseconds kPollInterval{20};
}  // namespace

InterruptState*& current_interrupt() {
  thread_local InterruptState* state = nullptr;
  return state;
}

InterruptScope::InterruptScope(SignalPoll poll) {
  if (current_interrupt() != nullptr) return;  // nested: the outer scope polls
  state_.poll = poll;
  state_.owner = std::this_thread::get_id();
  state_.last = std::chrono::steady_clock::now();
  current_interrupt() = &state_;
  installed_ = true;
}

InterruptScope::~InterruptScope() {
  if (installed_) current_interrupt() = nullptr;
}

bool interrupt_requested() {
  InterruptState* s = current_interrupt();
  if (s == nullptr) return false;
  if (s->flag.load(std::memory_order_relaxed)) return true;
  if (s->poll == nullptr || std::this_thread::get_id() != s->owner) return false;
  const auto now = std::chrono::steady_clock::now();
  if (now - s->last < kPollInterval) return false;
  s->last = now;
  if (!s->poll()) return false;
  s->flag.store(true, std::memory_order_relaxed);
  return true;
}

}  // namespace gsa
