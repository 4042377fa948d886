#include "common.hpp"

namespace gsa {
namespace bind {

void bind_tails(py::module_& m) { (void)m; }

}  // namespace bind
}  // namespace gsa
