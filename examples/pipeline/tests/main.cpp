// The doctest runner of pipeline example's unit tests (both steps).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
