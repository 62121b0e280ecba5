// Which OpenBLAS kernels a task's BLAS should use on this CPU.
//
// OpenBLAS (built with DYNAMIC_ARCH, as Debian's is) picks its kernels once, when it is loaded,
// from the CPU's vendor, family and model. A CPU newer than the OpenBLAS build may get older
// kernels: Debian 12's OpenBLAS 0.3.21 used its SSE3 Prescott ones on a VM's unnamed AVX-512
// Xeon (a 52-256-256-10 MLP's 100-row forward pass in 0.97 ms instead of 0.26 ms).
// OPENBLAS_CORETYPE names the kernels instead. The runner sets it for its tasks from the
// instruction sets the CPU and the OS offer (task_environment.hpp); a user who sets it (in the
// daemon's environment or a job's env) keeps theirs.
#pragma once

#include <string>

namespace troupe::runner {

struct cpu_vector_support {
  bool avx512 = false;    // AVX-512 F, CD, BW, DQ and VL, with the OS saving their state
  bool avx2_fma = false;  // AVX2 and FMA, with the OS saving their state
};

// What this CPU and OS support.
cpu_vector_support detect_cpu_vector_support();

// The OPENBLAS_CORETYPE whose kernels use what `support` offers: "SKYLAKEX" (AVX-512),
// "HASWELL" (AVX2 and FMA), or "" for none (OpenBLAS's own choice stands). These are the
// kernels OpenBLAS picks itself on the CPUs it knows with these instruction sets.
std::string openblas_core_type_for(const cpu_vector_support& support);

inline constexpr const char* openblas_core_type_variable = "OPENBLAS_CORETYPE";

// openblas_core_type_for(detect_cpu_vector_support()), detected once per process.
const std::string& openblas_core_type_for_this_cpu();

}  // namespace troupe::runner
