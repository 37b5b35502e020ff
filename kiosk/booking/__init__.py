"""The booking desk (/booking): find or create the customer, pick work, book a levelled slot, confirm."""
