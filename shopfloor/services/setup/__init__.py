"""The site's setup as a manager keeps it: staff and PINs, technicians, calendars, bays, catalogues, printers, message
texts, API clients and wall screens, personal data on request. Every change is audited with its actor."""
