# Every external dependency, found once (see ../shared/stack.md for why each is done this way).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

# CAF 0.17 ships neither a CMake config nor a .pc file.
find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
find_library(CAF_IO_LIBRARY caf_io REQUIRED)
add_library(caf::core UNKNOWN IMPORTED)
set_target_properties(caf::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
  INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}" INTERFACE_LINK_LIBRARIES Threads::Threads)

find_package(CapnProto CONFIG REQUIRED)
find_package(cppzmq REQUIRED)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
pkg_check_modules(PQXX REQUIRED IMPORTED_TARGET libpqxx)
# libsodium comes with libzmq (CURVE); artifact upload ids are random bytes from it.
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
# Artifacts hash with libcrypto's SHA-256 (SHA instructions; libpq links libcrypto already).
find_package(OpenSSL REQUIRED COMPONENTS Crypto)
# The head's block checksums: XXH3-128 (cluster/artifacts/block_checksum.hpp says why).
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
find_package(SQLite3 REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(nlohmann_json REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(Boost REQUIRED COMPONENTS unit_test_framework)  # Boost::boost: Beast, asio
# prometheus-cpp's core (registry, TextSerializer); our own HTTP server serves /metrics.
find_package(prometheus-cpp CONFIG REQUIRED)

# Two separate switches: "the CUDA toolkit is here" (GPU detection, NCCL) and, later,
# "libtorch has CUDA" (GPU training).
set(TROUPE_HAVE_CUDA OFF)
if(NOT WITH_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
      set(CMAKE_CUDA_ARCHITECTURES 80 89 90)
    endif()
    enable_language(CUDA)
    find_package(CUDAToolkit REQUIRED)
    set(TROUPE_HAVE_CUDA ON)
  elseif(WITH_CUDA STREQUAL "ON")
    message(FATAL_ERROR "WITH_CUDA=ON but no CUDA compiler was found")
  endif()
endif()
message(STATUS "Troupe: CUDA toolkit ${TROUPE_HAVE_CUDA}")

# libtorch (Debian's is CPU-only; a GPU machine points CMAKE_PREFIX_PATH at a CUDA build) and
# Gloo's headers, which c10d's ProcessGroupGloo header includes (PyTorch's own install has none).
find_package(Torch REQUIRED)
find_path(GLOO_INCLUDE_DIR gloo/algorithm.h REQUIRED)
# Gloo's own algorithms where its library is installed beside a libtorch linked to it
# (Debian's 1.13), so the headers describe the library; a libtorch that bundles its own copy
# (PyTorch's 2.x distribution) is reached through c10d's ProcessGroupGloo, whose calls are the
# same in every version.
find_library(GLOO_LIBRARY gloo)
if(GLOO_LIBRARY AND Torch_VERSION VERSION_LESS 2)
  set(TROUPE_GLOO_DIRECT ON)
else()
  set(TROUPE_GLOO_DIRECT OFF)
endif()
message(STATUS "Troupe: libtorch ${Torch_VERSION}, Gloo's own algorithms ${TROUPE_GLOO_DIRECT}")
