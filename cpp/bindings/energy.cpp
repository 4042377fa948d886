#include "common.hpp"

namespace gsa {
namespace bind {

void bind_energy(py::module_& m) { (void)m; }

}  // namespace bind
}  // namespace gsa
