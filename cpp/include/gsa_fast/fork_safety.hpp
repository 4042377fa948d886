// fork() while another thread is inside a kernel (issue 8 item 5). The child gets a copy of
// memory with only the forking thread alive: a mutex some other thread held stays locked forever
// there. gsa_fast's process-wide mutexes therefore live behind pointers that a pthread_atfork
// child handler (cpp/src/fork_safety.cpp) replaces with fresh ones, leaking the old ones (their
// owners do not exist in the child). Nothing is done before the fork: a fork never waits for a
// running kernel.
#pragma once

#include <mutex>

namespace gsa {

// The mutex serializing OpenBLAS thread-count changes (blas_threads.hpp).
std::mutex& blas_threads_mutex();

// True in a child forked while a thread of the parent held the BLAS thread-count mutex (was
// inside a kernel): OpenBLAS's own threaded level-3 driver may have been mid-call there, with
// its internal locks held, so such a child keeps OpenBLAS single-threaded (gsa_fast's workers
// still parallelize).
bool forked_during_blas_call();

// Called from the child handler: blas_pool.cpp drops the parent's job pool and its mutex.
void blas_pool_after_fork_child();

}  // namespace gsa
