// Ctrl-C for long kernels (issue 8 item 4). Kernels call interrupt_point() between units of work
// (matrices, panels, tiles, band sweeps). The thread holding the call — the Python thread that
// released the GIL — polls for a pending signal through a hook the binding layer installs
// (it re-acquires the GIL only for PyErr_CheckSignals), at most every kPollInterval; when a
// signal is pending it raises the call's flag. Worker threads never call Python: they only read
// the flag. Whoever sees the flag throws gsa::Interrupted; the vectors of the workspace unwind
// with it, parallel_for rethrows it on the calling thread, and the binding layer turns it into
// the exception the signal handler set (KeyboardInterrupt for SIGINT).
#pragma once

#include <atomic>
#include <chrono>
#include <exception>
#include <thread>

namespace gsa {

struct Interrupted : std::exception {
  const char* what() const noexcept override { return "gsa_fast: interrupted by a signal"; }
};

// Returns true when the call must stop (a Python exception is then pending on the caller).
using SignalPoll = bool (*)();

struct InterruptState {
  std::atomic<bool> flag{false};
  SignalPoll poll = nullptr;
  std::thread::id owner;
  std::chrono::steady_clock::time_point last;
};

// The state of the call this thread works for (nullptr outside an interruptible call).
InterruptState*& current_interrupt();

// One per interruptible kernel call, on the thread holding the call (before the GIL is
// released). Nested scopes on the same thread keep the outer one.
class InterruptScope {
 public:
  explicit InterruptScope(SignalPoll poll);
  ~InterruptScope();
  InterruptScope(const InterruptScope&) = delete;
  InterruptScope& operator=(const InterruptScope&) = delete;

 private:
  InterruptState state_;
  bool installed_ = false;
};

// Worker side: adopts the caller's state for the lifetime of the object (parallel_for's threads).
class InterruptAdopt {
 public:
  explicit InterruptAdopt(InterruptState* s) : prev_(current_interrupt()) { current_interrupt() = s; }
  ~InterruptAdopt() { current_interrupt() = prev_; }
  InterruptAdopt(const InterruptAdopt&) = delete;
  InterruptAdopt& operator=(const InterruptAdopt&) = delete;

 private:
  InterruptState* prev_;
};

// True once the call was interrupted; on the calling thread it also polls (throttled). Never
// throws: for loops that must wind down their own threads before unwinding.
bool interrupt_requested();

// Throws Interrupted when interrupt_requested().
inline void interrupt_point() {
  if (current_interrupt() != nullptr && interrupt_requested()) throw Interrupted();
}

}  // namespace gsa
