# The project stands alone: no file in it (code, docs, tests, templates, golden files) may
# cite the specification it was built from, which is not shipped; they cite docs/ instead.
# Run as: cmake -DSOURCE_DIR=<checkout> -P stands_alone.cmake. The word is put together from
# two pieces so that this file does not contain it.
string(CONCAT word "CON" "TRACT")
execute_process(COMMAND git -C "${SOURCE_DIR}" grep --untracked -I -i -n -e "${word}" -- .
                RESULT_VARIABLE status OUTPUT_VARIABLE found ERROR_VARIABLE error)
if(status EQUAL 0)
  message(FATAL_ERROR "these lines cite a document that is not in the repository; cite docs/ "
                      "(docs/reference.md, docs/configuration.md, docs/operations.md, docs/generator.md):\n${found}")
elseif(NOT status EQUAL 1)
  message(FATAL_ERROR "git grep failed (${status}): ${error}")
endif()
