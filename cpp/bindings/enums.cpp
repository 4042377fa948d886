// The kernels' enumerations exported to Python (issue 7 item 3): Python reads chart kinds, orbit
// operations, eigensolver drivers, storage codes and statuses from here instead of copying
// integer tables by hand. Binding only: no math.
#include "common.hpp"
#include "gsa_fast/kernels/bures.hpp"
#include "gsa_fast/kernels/charts.hpp"
#include "gsa_fast/kernels/orbit.hpp"
#include "gsa_fast/kernels/spectra.hpp"
#include "gsa_fast/status.hpp"

namespace gsa {
namespace bind {

void bind_enums(py::module_& m) {
  py::enum_<StatusCode>(m, "StatusCode", py::arithmetic(), "Status.code of every kernel (status.hpp)")
      .value("ok", kStatusOk)
      .value("nonfinite", kStatusNonFinite)
      .value("lapack", kStatusLapack)
      .value("nan", kStatusNaN)
      .value("inf", kStatusInf)
      .value("negative", kStatusNegative)
      .value("asymmetric", kStatusAsymmetric);
  py::enum_<cpu::ChartKind>(m, "ChartKind", py::arithmetic(), "exponent charts (spec §6.2)")
      .value("top", cpu::kChartTop)
      .value("bures", cpu::kChartBures)
      .value("lsq", cpu::kChartLsq);
  py::enum_<cpu::ResidualKind>(m, "ResidualKind", py::arithmetic(), "chart residuals (spec §6.1, §5.3)")
      .value("radial_residual", cpu::kRadialResidual)
      .value("chart_error", cpu::kChartError)
      .value("tail_residual", cpu::kTailResidual);
  py::enum_<math::OrbitUnaryOp>(m, "OrbitUnaryOp", py::arithmetic(), "orbit_unary operations")
      .value("log_partition", math::kLogPartition)
      .value("radial", math::kRadial)
      .value("radial_d1", math::kRadialD1)
      .value("radial_d2", math::kRadialD2)
      .value("variance", math::kVariance)
      .value("fisher", math::kFisher)
      .value("entropy", math::kEntropy);
  py::enum_<math::OrbitBinaryOp>(m, "OrbitBinaryOp", py::arithmetic(), "orbit_binary operations")
      .value("kl", math::kKL)
      .value("bures", math::kBures)
      .value("bures_length", math::kBuresLength);
  py::enum_<cpu::SpectraDType>(m, "SpectraDType", py::arithmetic(), "matrix storage formats")
      .value("f64", cpu::kF64)
      .value("f32", cpu::kF32)
      .value("f16", cpu::kF16)
      .value("bf16", cpu::kBF16);
  py::enum_<cpu::SpectraMethod>(m, "SpectraMethod", py::arithmetic(), "svdvals methods")
      .value("gram", cpu::kMethodGram)
      .value("svd", cpu::kMethodSvd);
  py::enum_<cpu::EigDriver>(m, "EigDriver", py::arithmetic(), "eigensolvers behind the Gram route")
      .value("auto", cpu::kEigAuto)
      .value("syevd", cpu::kEigSyevd)
      .value("syevd_2stage", cpu::kEigSyevd2Stage)
      .value("band", cpu::kEigBand)
      .value("sytrd", cpu::kEigSytrd);
}

}  // namespace bind
}  // namespace gsa
