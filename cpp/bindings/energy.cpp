#include <string>

#include "common.hpp"
#include "gsa_fast/kernels/energy.hpp"

namespace gsa {
namespace bind {
namespace {

// Optional read-only array argument: None → (nullptr, 0). Never converts.
template <class T>
std::pair<const T*, int64_t> opt_in(const py::object& o, const char* what) {
  if (o.is_none()) return {nullptr, 0};
  require(py::isinstance<carray<T>>(o), std::string(what) + " must be a C-contiguous array of the kernel's dtype");
  auto a = py::reinterpret_borrow<carray<T>>(o);
  require(a.flags() & py::array::c_style, std::string(what) + " must be C-contiguous");
  return {a.data(), (int64_t)a.size()};
}

template <class T>
int64_t opt_size(const py::object& o) {
  return o.is_none() ? 0 : (int64_t)py::reinterpret_borrow<carray<T>>(o).size();
}

// Every output region [start_i, start_i + lengths_i + extra) must lie inside an array of size m.
void check_regions(const int64_t* start, int64_t ns, const int64_t* len, int64_t n, int64_t extra, int64_t m,
                   const char* what) {
  require(ns == n, std::string(what) + ": one start per spectrum required");
  for (int64_t i = 0; i < n; ++i)
    require(start[i] >= 0 && start[i] + len[i] + extra <= m, std::string(what) + ": region out of bounds");
}

template <class T>
void def_energy_stats(py::module_& m) {
  m.def(
      "energy_stats",
      [](const carray<T>& values, const carray<int64_t>& starts, const carray<int64_t>& lengths, py::object eps,
         py::object out_ranks_eps, py::object out_tails, py::object tails_start, py::object out_energy,
         py::object energy_start, py::object out_entropy, py::object out_radial, py::object radial_d,
         py::object out_rank, double tol, int nthreads) -> py::tuple {
        const int64_t n = (int64_t)starts.size();
        require((int64_t)lengths.size() == n, "energy_stats: starts and lengths must have equal size");
        const int64_t* ps = starts.data();
        const int64_t* pl = lengths.data();
        const int64_t nv = (int64_t)values.size();
        for (int64_t i = 0; i < n; ++i)
          require(ps[i] >= 0 && pl[i] >= 0 && ps[i] + pl[i] <= nv, "energy_stats: spectrum out of bounds");
        cpu::EnergyRequest r;
        auto e = opt_in<double>(eps, "eps");
        r.eps = e.first;
        r.neps = e.second;
        r.ranks_eps = opt_out_ptr<int64_t>(out_ranks_eps, "out_ranks_eps");
        if (r.ranks_eps) {
          require(r.eps != nullptr, "energy_stats: out_ranks_eps needs eps");
          require(opt_size<int64_t>(out_ranks_eps) == n * r.neps, "energy_stats: out_ranks_eps has the wrong size");
        }
        r.tails = opt_out_ptr<double>(out_tails, "out_tails");
        if (r.tails) {
          auto ts = opt_in<int64_t>(tails_start, "tails_start");
          require(ts.first != nullptr, "energy_stats: out_tails needs tails_start");
          check_regions(ts.first, ts.second, pl, n, 1, opt_size<double>(out_tails), "out_tails");
          r.tails_start = ts.first;
        }
        r.energy = opt_out_ptr<double>(out_energy, "out_energy");
        if (r.energy) {
          auto es = opt_in<int64_t>(energy_start, "energy_start");
          require(es.first != nullptr, "energy_stats: out_energy needs energy_start");
          check_regions(es.first, es.second, pl, n, 0, opt_size<double>(out_energy), "out_energy");
          r.energy_start = es.first;
        }
        r.entropy = opt_out_ptr<double>(out_entropy, "out_entropy");
        r.radial = opt_out_ptr<double>(out_radial, "out_radial");
        auto dd = opt_in<int64_t>(radial_d, "radial_d");
        r.radial_d = dd.first;
        r.rank = opt_out_ptr<int64_t>(out_rank, "out_rank");
        require(!r.entropy || opt_size<double>(out_entropy) == n, "energy_stats: out_entropy has the wrong size");
        require(!r.radial || opt_size<double>(out_radial) == n, "energy_stats: out_radial has the wrong size");
        require(!r.radial_d || dd.second == n, "energy_stats: radial_d has the wrong size");
        require(!r.rank || opt_size<int64_t>(out_rank) == n, "energy_stats: out_rank has the wrong size");
        require(tol >= 0.0, "energy_stats: tol must be >= 0");
        r.tol = tol;
        const T* pv = values.data();
        Status st;
        {
          py::gil_scoped_release nogil;
          st = cpu::spectra_energy(pv, ps, pl, n, r, nthreads);
        }
        return status_tuple(st);
      },
      py::arg("values").noconvert(), py::arg("starts").noconvert(), py::arg("lengths").noconvert(),
      py::arg("eps") = py::none(), py::arg("out_ranks_eps") = py::none(), py::arg("out_tails") = py::none(),
      py::arg("tails_start") = py::none(), py::arg("out_energy") = py::none(), py::arg("energy_start") = py::none(),
      py::arg("out_entropy") = py::none(), py::arg("out_radial") = py::none(), py::arg("radial_d") = py::none(),
      py::arg("out_rank") = py::none(), py::arg("tol") = 0.0, py::arg("nthreads") = 0,
      "Per-spectrum energy quantities (spec §8.1, §4.2, §4.4); returns the Status (code, index, position, info).");
}

}  // namespace

void bind_energy(py::module_& m) {
  def_energy_stats<double>(m);
  def_energy_stats<float>(m);
}

}  // namespace bind
}  // namespace gsa
