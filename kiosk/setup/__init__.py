"""/setup: the manager's desk for what makes the site — staff and PINs, technicians, calendars, bays, catalogues,
printers, message texts, API clients and wall screens — each list also in and out as CSV."""
