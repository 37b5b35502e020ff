"""The day-before desk (/calls): confirmation calls, parts pre-pick, no-shows and solicitation lists."""
