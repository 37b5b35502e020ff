"""The workshop (domain.md §4, steps 6–8): dispatch, clockings, additional work, quality checks, promises and cars
carried over. One module per job; each change is audited and published in its own transaction."""
