# Warning flags for Troupe's own targets (never for generated Cap'n Proto code).
function(troupe_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
                                           -Wnon-virtual-dtor -Wold-style-cast)
  if(TROUPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

# troupe_library(NAME SOURCES... [LIBS ...]) : a static library of our own code.
function(troupe_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PUBLIC ${ARG_LIBS})
  troupe_warnings(${name})
endfunction()

# troupe_executable(NAME SOURCES... [LIBS ...])
function(troupe_executable name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS})
  troupe_warnings(${name})
endfunction()

# troupe_test(NAME SOURCES... LIBS ... [SUITES suite...] [LABELS ...])
# One Boost.Test executable; each suite becomes its own CTest entry.
function(troupe_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;SUITES;LABELS" ${ARGN})
  troupe_executable(${name} SOURCES ${ARG_SOURCES} LIBS ${ARG_LIBS} Boost::unit_test_framework)
  target_compile_definitions(${name} PRIVATE BOOST_TEST_DYN_LINK)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  set(environment "TROUPE_BIN_DIR=${PROJECT_BINARY_DIR}/bin;TROUPE_SOURCE_DIR=${PROJECT_SOURCE_DIR}")
  if(TROUPE_SANITIZE)
    list(APPEND environment "LSAN_OPTIONS=suppressions=${PROJECT_SOURCE_DIR}/tools/cmake/lsan.supp"
         "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
  endif()
  foreach(suite ${ARG_SUITES})
    add_test(NAME ${name}.${suite} COMMAND ${name} --run_test=${suite} --log_level=message)
    set_tests_properties(${name}.${suite} PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}"
      ENVIRONMENT "${environment}")
  endforeach()
endfunction()
