#include "cluster/runner/blas_kernels.hpp"

namespace troupe::runner {

cpu_vector_support detect_cpu_vector_support() {
  // GCC's checks read CPUID and, for AVX and AVX-512, whether XGETBV says the OS saves the
  // registers' state.
  __builtin_cpu_init();
  cpu_vector_support support;
  support.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512vl");
  support.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return support;
}

std::string openblas_core_type_for(const cpu_vector_support& support) {
  if (support.avx512) return "SKYLAKEX";
  if (support.avx2_fma) return "HASWELL";
  return "";
}

const std::string& openblas_core_type_for_this_cpu() {
  static const std::string core = openblas_core_type_for(detect_cpu_vector_support());
  return core;
}

}  // namespace troupe::runner
