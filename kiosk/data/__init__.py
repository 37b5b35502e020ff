"""Data exchange with the DMS (/data): CSV import with a line-level report, iCalendar export."""
